#pragma once

#include <algorithm>
#include <chrono>
#include <iterator>
#include <list>
#include <optional>
#include <utility>

#include "serve/connection_log.hpp"
#include "serve/model.hpp"
#include "serve/models/connection.hpp"

namespace sockit::serve::models {

/// The connections of one event loop (the readiness reactor's or an io_uring ring's), with the
/// timers every loop keeps for them: the idle timeout, the request deadline and the grace period
/// after stop.
///
/// Ordered by last activity, least recent first: with one idle timeout for all, the front is
/// always the next to expire (libev's advice for equal timeouts), so expiry never scans. An
/// `Entry` is the loop's own record around a Connection (member `connection`); iterators stay
/// valid until erase(). Loop thread only.
template <typename Entry>
class ConnectionTable {
 public:
  using Clock = Connection::Clock;
  using Iterator = typename std::list<Entry>::iterator;

  explicit ConnectionTable(const Limits& limits) : limits_(limits) {}

  template <typename... Args>
  Iterator add(Args&&... args) {
    entries_.emplace_back(std::forward<Args>(args)...);
    return std::prev(entries_.end());
  }
  /// Destroys the entry: its connection closes its socket and logs "closed ...".
  void erase(Iterator it) { entries_.erase(it); }
  /// `it` made progress at `now`: it goes to the back of the idle order. A request it may begin
  /// now ends no earlier than one request timeout later: a check is due by then at the latest.
  void touch(Iterator it, Clock::time_point now) {
    it->connection.touch(now);
    entries_.splice(entries_.end(), entries_, it);
    if (!request_check_ && limits_.request_timeout > std::chrono::milliseconds::zero())
      request_check_ = now + limits_.request_timeout;
  }

  bool empty() const noexcept { return entries_.empty(); }
  Iterator begin() noexcept { return entries_.begin(); }
  Iterator end() noexcept { return entries_.end(); }

  /// Closes (through `expire(it)`) every connection silent for Limits::idle_timeout, with the
  /// reason "idle for ...". A connection whose session is on a worker is not idle; nor is one
  /// `expire` chose to keep (it returns false when the entry still exists, e.g. io_uring waits
  /// for its operations to come back): both go to the back.
  template <typename Expire>
  void expire_idle(Clock::time_point now, Expire&& expire) {
    const auto idle = limits_.idle_timeout;
    if (idle <= std::chrono::milliseconds::zero()) return;
    while (!entries_.empty()) {
      const auto it = entries_.begin();
      if (it->connection.last_active() + idle > now) return;
      if (!it->connection.busy()) {
        it->connection.set_close_reason("idle for " + duration_text(idle.count()));
        if (expire(it)) continue;  // gone
      }
      touch(it, now);
    }
  }

  /// Ends every connection whose request was not complete within Limits::request_timeout: the
  /// session answers its error, then `settle(it)` lets the loop send it (and erase the entry
  /// when it is finished). Requests begin at different times, so this scans the table, but only
  /// when a deadline is due and at most every kRequestCheckEvery: the cost is bounded by
  /// connections x checks, not by the bytes a slow client trickles in.
  template <typename Settle>
  void expire_slow_requests(Clock::time_point now, Settle&& settle) {
    if (!request_check_ || now < *request_check_) return;
    request_check_.reset();
    std::optional<Clock::time_point> earliest;
    for (auto it = entries_.begin(); it != entries_.end();) {
      const auto next = std::next(it);
      if (const auto deadline = it->connection.request_deadline()) {
        if (*deadline <= now) {
          it->connection.request_timed_out();
          settle(it);
        } else if (!earliest || *deadline < *earliest) {
          earliest = deadline;
        }
      }
      it = next;
    }
    if (earliest) request_check_ = std::max(*earliest, now + kRequestCheckEvery);
  }

  /// Stop came at `now`: the connections have the grace period to finish.
  void start_grace(Clock::time_point now) { grace_end_ = now + limits_.grace_period; }
  /// Once the grace period is over, ends every connection through `end(it)` (which may erase
  /// it), with the reason "server stopping". Does nothing before.
  template <typename End>
  void end_grace(Clock::time_point now, End&& end) {
    if (!grace_end_ || now < *grace_end_) return;
    grace_end_.reset();
    for (auto it = entries_.begin(); it != entries_.end();) {
      const auto next = std::next(it);
      it->connection.set_close_reason("server stopping");
      end(it);
      it = next;
    }
  }

  /// When expire_idle() or end_grace() next has work, if ever.
  std::optional<Clock::time_point> next_deadline() const {
    std::optional<Clock::time_point> next = grace_end_;
    if (request_check_ && (!next || *request_check_ < *next)) next = request_check_;
    if (!entries_.empty() && limits_.idle_timeout > std::chrono::milliseconds::zero()) {
      const auto idle_end = entries_.front().connection.last_active() + limits_.idle_timeout;
      if (!next || idle_end < *next) next = idle_end;
    }
    return next;
  }

 private:
  static constexpr std::chrono::milliseconds kRequestCheckEvery{100};

  const Limits& limits_;
  std::list<Entry> entries_;
  std::optional<Clock::time_point> grace_end_;
  std::optional<Clock::time_point> request_check_;  // when expire_slow_requests() next scans
};

}  // namespace sockit::serve::models
