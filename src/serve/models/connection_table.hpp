#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
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
/// after stop. Each connection is held to its own service's timeouts (Connection::limits()).
///
/// One lane per idle timeout (as many as the services have different ones: one or two), each
/// ordered by last activity, least recent first: in a lane the front is always the next to
/// expire (libev's advice for equal timeouts), so expiry never scans. An `Entry` is the loop's own
/// record around a Connection (member `connection`); iterators stay valid until erase(), and
/// end() is never one of them. Loop thread only.
template <typename Entry>
class ConnectionTable {
 public:
  using Clock = Connection::Clock;
  using Iterator = typename std::list<Entry>::iterator;

  /// `limits`: the server's, for the grace period.
  explicit ConnectionTable(const Limits& limits) : limits_(limits) {}

  template <typename... Args>
  Iterator add(Args&&... args) {
    std::list<Entry> one;
    one.emplace_back(std::forward<Args>(args)...);
    auto& lane = lane_for(one.back().connection.limits().idle_timeout);
    lane.entries.splice(lane.entries.end(), one);
    return std::prev(lane.entries.end());
  }
  /// Destroys the entry: its connection closes its socket and logs "closed ...".
  void erase(Iterator it) { lane_of(*it).entries.erase(it); }
  /// `it` made progress at `now`: it goes to the back of its lane. A request it may begin now
  /// ends no earlier than one request timeout later: a check is due by then at the latest.
  void touch(Iterator it, Clock::time_point now) {
    it->connection.touch(now);
    auto& lane = lane_of(*it);
    lane.entries.splice(lane.entries.end(), lane.entries, it);
    const auto request_timeout = it->connection.limits().request_timeout;
    if (request_timeout > std::chrono::milliseconds::zero()) check_by(now + request_timeout);
  }
  /// `it` did something that may have given it a deadline (a lingering close): a check is due
  /// by then. Loops call it whenever they settle a connection.
  void watch_deadline(Iterator it) {
    if (const auto deadline = it->connection.deadline()) check_by(*deadline);
  }

  bool empty() const noexcept {
    return std::all_of(lanes_.begin(), lanes_.end(), [](const Lane& lane) { return lane.entries.empty(); });
  }
  /// Where no connection is: what a look-up that found none returns.
  Iterator end() noexcept { return none_.end(); }
  /// True when a connection's session is on a worker.
  bool any_busy() const noexcept {
    return std::any_of(lanes_.begin(), lanes_.end(), [](const Lane& lane) {
      return std::any_of(lane.entries.begin(), lane.entries.end(), [](const Entry& e) { return e.connection.busy(); });
    });
  }

  /// Closes (through `expire(it)`) every connection silent for its idle timeout, with the reason
  /// "idle for ...". A connection whose session is on a worker is not idle; one in the middle of a
  /// request with a deadline is the request timeout's (nginx: client_header_timeout, not
  /// keepalive_timeout); nor is one `expire` chose to keep (it returns false when the entry still
  /// exists, e.g. io_uring waits for its operations to come back): all go to the back.
  template <typename Expire>
  void expire_idle(Clock::time_point now, Expire&& expire) {
    for (auto& lane : lanes_) {
      if (lane.idle <= std::chrono::milliseconds::zero()) continue;
      while (!lane.entries.empty()) {
        const auto it = lane.entries.begin();
        if (it->connection.last_active() + lane.idle > now) break;
        if (!it->connection.busy() && !it->connection.deadline()) {
          it->connection.set_close_reason("idle for " + duration_text(lane.idle.count()));
          if (expire(it)) continue;  // gone
        }
        touch(it, now);
      }
    }
  }

  /// Ends every connection whose request was not complete within its request timeout (the
  /// session answers its error) or whose lingering close lasted long enough; then `settle(it)`
  /// lets the loop send the error (and erase the entry when it is finished). Requests begin at different times, so this scans the table, but only
  /// when a deadline is due and at most every kRequestCheckEvery: the cost is bounded by
  /// connections x checks, not by the bytes a slow client trickles in.
  template <typename Settle>
  void expire_deadlines(Clock::time_point now, Settle&& settle) {
    if (!request_check_ || now < *request_check_) return;
    request_check_.reset();
    std::optional<Clock::time_point> earliest;
    for_each([&](Iterator it) {
      if (const auto deadline = it->connection.deadline()) {
        if (*deadline <= now) {
          it->connection.deadline_passed();
          settle(it);
        } else if (!earliest || *deadline < *earliest) {
          earliest = deadline;
        }
      }
    });
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
    for_each([&](Iterator it) {
      it->connection.set_close_reason("server stopping");
      end(it);
    });
  }

  /// When expire_idle() or end_grace() next has work, if ever.
  std::optional<Clock::time_point> next_deadline() const {
    std::optional<Clock::time_point> next = grace_end_;
    auto sooner = [&](Clock::time_point at) {
      if (!next || at < *next) next = at;
    };
    if (request_check_) sooner(*request_check_);
    for (const auto& lane : lanes_)
      if (!lane.entries.empty() && lane.idle > std::chrono::milliseconds::zero())
        sooner(lane.entries.front().connection.last_active() + lane.idle);
    return next;
  }

 private:
  static constexpr std::chrono::milliseconds kRequestCheckEvery{100};

  struct Lane {
    std::chrono::milliseconds idle;
    std::list<Entry> entries;
  };

  Lane& lane_for(std::chrono::milliseconds idle) {
    const auto it = std::find_if(lanes_.begin(), lanes_.end(), [&](const Lane& lane) { return lane.idle == idle; });
    if (it != lanes_.end()) return *it;
    return lanes_.emplace_back(Lane{idle, {}});
  }
  void check_by(Clock::time_point at) {
    if (!request_check_ || at < *request_check_) request_check_ = at;
  }

  Lane& lane_of(const Entry& entry) { return lane_for(entry.connection.limits().idle_timeout); }

  /// Calls `visit(it)` for every entry; `visit` may erase the one it is given.
  template <typename Visit>
  void for_each(Visit&& visit) {
    for (auto& lane : lanes_)
      for (auto it = lane.entries.begin(); it != lane.entries.end();) visit(std::exchange(it, std::next(it)));
  }

  const Limits& limits_;
  std::deque<Lane> lanes_;  // never shrinks, and a new lane moves no other: iterators stay valid
  std::list<Entry> none_;    // always empty: its end() is the table's
  std::optional<Clock::time_point> grace_end_;
  std::optional<Clock::time_point> request_check_;  // when expire_deadlines() next scans
};

}  // namespace sockit::serve::models
