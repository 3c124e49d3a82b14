#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/address.hpp"
#include "serve/cidr.hpp"
#include "serve/connection_log.hpp"
#include "serve/source_count.hpp"
#include "serve/source_rate.hpp"

namespace sockit::serve {

inline constexpr std::size_t kNoLimit = std::numeric_limits<std::size_t>::max();

/// Who may connect to one service, and how many at once: what every model asks at accept.
struct AdmissionRules {
  std::size_t max_conns = kNoLimit;  ///< this service's connections at once
  std::size_t per_source = 0;        ///< connections one source (IPv6: its /64) may have open; 0: no limit
  double rate = 0;                   ///< new connections a second from one source; 0: no limit
  /// A source that connects faster than `rate` (after a burst of one second's worth) is refused
  /// for this long (xinetd's cps, per source).
  std::chrono::milliseconds rate_cooldown{std::chrono::seconds(10)};
  AccessRules access{};              ///< allow/deny lists

  friend bool operator==(const AdmissionRules&, const AdmissionRules&) = default;
};

/// The whole server's connections at once (--max-conns), shared by every service's Admission.
/// Thread-safe.
class ConnectionBudget {
 public:
  explicit ConnectionBudget(std::size_t max) : max_(max) {}
  /// A reload: applies to connections from now on (those open stay).
  void set_max(std::size_t max) noexcept { max_.store(max, std::memory_order_relaxed); }
  std::size_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  std::size_t open() const noexcept { return open_.load(std::memory_order_relaxed); }
  /// One more if fewer than max() are open; false when full.
  bool take() noexcept;
  void give_back() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::size_t> max_;
  std::atomic<std::size_t> open_{0};
};

/// Why a client was refused: the kind counters are keyed by, the reason it is told (and the log
/// line says), and what only the log says (which deny rule matched).
struct Refused {
  ConnectionRefusal kind;
  std::string reason;  ///< "2 connections from this address already (per_source)"
  std::string detail;  ///< for the log only; may be empty
};

class Admission;

/// A client's places (its service's, the server's, its source's) while it is connected, or why it
/// got none. Move-only; gives the places back when destroyed, from any thread. The Admission must
/// outlive it.
class Ticket {
 public:
  Ticket() = default;
  explicit Ticket(Refused refused) : refused_(std::move(refused)) {}
  Ticket(Ticket&& other) noexcept;
  Ticket& operator=(Ticket&& other) noexcept;
  ~Ticket();

  bool admitted() const noexcept { return admission_ != nullptr; }
  /// Set when not admitted by Admission::admit().
  const std::optional<Refused>& refused() const noexcept { return refused_; }

 private:
  friend class Admission;
  Ticket(Admission& admission, bool server, std::optional<std::size_t> source_slot) noexcept
      : admission_(&admission), server_(server), source_slot_(source_slot) {}

  Admission* admission_ = nullptr;
  bool server_ = false;                      ///< holds a place in the server's ConnectionBudget
  std::optional<std::size_t> source_slot_;  ///< where its source is counted (SourceCounts)
  std::optional<Refused> refused_;
};

/// The door of one service, shared by all its listeners and every model thread that accepts for
/// it, and kept across reloads (so a source's count survives its service's new rules). Checks
/// in this order: allow/deny, the source's rate, the service's max_conns, the source's
/// connections, the server's --max-conns. Thread-safe (one lock per admit and per ticket given
/// back). Memory: the per-source tables exist only while their rule is on (SourceCounts,
/// SourceRateLimiter: 4096 slots each).
class Admission {
 public:
  using Clock = std::chrono::steady_clock;

  /// `server`: the whole server's budget, shared with the other services (nullptr: none).
  explicit Admission(const AdmissionRules& rules, std::shared_ptr<ConnectionBudget> server = nullptr);
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  /// New rules for connections from now on (a reload); connections open keep their places. The
  /// rate table starts afresh only when the rate or its cool-down changed.
  void set_rules(const AdmissionRules& rules);
  AdmissionRules rules() const;

  /// May `peer` connect at `now`? An admitted Ticket, or one saying why not.
  Ticket admit(const net::Address& peer, Clock::time_point now = Clock::now());

  /// This service's connections holding a ticket now.
  std::size_t open() const;
  /// The per-source tables' bytes now: 0 without per_source and rate, and a fixed size while
  /// they are on (SourceCounts: 4096 slots of 20 B; SourceRateLimiter: 4096 of 48 B), however
  /// many sources connect.
  std::size_t memory_bytes() const;

 private:
  friend class Ticket;
  void give_back(const Ticket& ticket) noexcept;
  std::optional<Refused> check(const net::Address& peer, const SourceKey& source, Clock::time_point now);

  std::shared_ptr<ConnectionBudget> server_;
  mutable std::mutex mutex_;
  AdmissionRules rules_;
  std::size_t open_ = 0;
  std::unique_ptr<SourceCounts> sources_;        // while per_source or a ticket counted in it
  std::unique_ptr<SourceRateLimiter> rates_;     // while rate > 0
};

}  // namespace sockit::serve
