#pragma once

// Drives a serve::Session the way a model does, with the splits and output budgets that a
// FuzzedDataProvider chooses, and checks Session's contract (serve/session.hpp) on every call:
// - receive() never takes more than it was offered;
// - it leaves bytes behind only when its output is full (tests/unit/session_test_support.hpp's
//   offer() checks the same);
// - one call adds at most one answer past the budget (bounded by construction);
// - what the client receives does not depend on the splits or budgets: it is the same as when
//   everything arrives in one piece with no budget.
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "serve/output.hpp"
#include "serve/session.hpp"
#include "support/check.hpp"

namespace sockit::fuzz {

/// What a client saw of one connection.
struct SessionRun {
  std::string received;                 ///< every byte sent to the client, file ranges read in
  std::vector<std::string> complaints;  ///< the log lines the session asked for, in order
  std::string arrived;                  ///< every byte that reached the session, in order
  bool split_dependent = false;         ///< a chunk was offered that chunk_ends_session() names
};

struct HarnessOptions {
  /// The most one request's answer (or one open()/writable() call) may add past the budget.
  std::size_t max_answer = 0;
  /// Endless producers (chargen): the harness calls writable() when all output is sent.
  bool producer = false;
  /// How the split run's answer must relate to the one-piece answer: equal unless overridden.
  std::function<void(const std::string& split, const std::string& whole)> compare;
  /// A chunk that ends the session because of its exact extent (upper's "quit" chunk): when one
  /// is offered, the answer may rightly depend on the splits and is not compared.
  std::function<bool(std::span<const std::byte>)> chunk_ends_session;
};

/// Options for a service whose one answer is at most `max_answer` bytes.
inline HarnessOptions answers_up_to(std::size_t max_answer) {
  HarnessOptions options;
  options.max_answer = max_answer;
  return options;
}

/// Sends `n` bytes of `out` to the "client": appends them to `to`, reading file ranges in.
inline void drain(serve::Output& out, std::size_t n, std::string& to) {
  while (n > 0 && !out.empty()) {
    const auto piece = out.front();
    const auto take = std::min(n, piece.size());
    if (piece.is_file()) {
      std::string chunk(take, '\0');
      const auto got = ::pread(piece.file, chunk.data(), take, static_cast<off_t>(piece.offset));
      require(got == static_cast<ssize_t>(take), "a file range past the end of its file");
      to += chunk;
    } else {
      to.append(text_of(piece.bytes.first(take)));
    }
    out.consume(take);
    n -= take;
  }
}

/// The model's side of one connection, fed by the fuzzer.
class SessionDriver {
 public:
  SessionDriver(serve::Session& session, const HarnessOptions& options) : session_(session), options_(options) {}

  /// Runs the whole connection: open, input in pieces with drains and budget changes in
  /// between, end of input, everything drained.
  SessionRun run(FuzzedDataProvider& fdp) {
    high_water_ = pick_budget(fdp);
    call("open", [&] { return session_.open(out_); });
    while (fdp.remaining_bytes() > 0 && !closed_) {
      switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
        case 0: case 1: case 2: case 3: arrive(fdp); break;
        case 4: case 5: drain(out_, fdp.ConsumeIntegralInRange<std::size_t>(0, out_.size()), run_.received); break;
        case 6: high_water_ = pick_budget(fdp); break;
        case 7: if (options_.producer && out_.empty()) call("writable", [&] { return session_.writable(out_); }); break;
      }
    }
    // The input ended: the model offers what is held until it is taken, then tells EOF.
    while (!closed_ && !held_.empty()) {
      drain(out_, out_.size(), run_.received);
      offer();
    }
    if (!closed_) call("end_of_input", [&] { return session_.end_of_input(out_); });
    drain(out_, out_.size(), run_.received);
    return std::move(run_);
  }

 private:
  static std::size_t pick_budget(FuzzedDataProvider& fdp) {
    // Small budgets reach the "output full" paths; a model's budget is at least 1 byte.
    static constexpr std::size_t kBudgets[] = {1, 2, 3, 4, 5, 7, 8, 16, 63, 64, 100, 1000, 4096, 1 << 20};
    return fdp.PickValueInArray(kBudgets);
  }

  void arrive(FuzzedDataProvider& fdp) {
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 128);
    const auto bytes = fdp.ConsumeBytes<std::byte>(n);
    if (bytes.empty()) return;
    held_.insert(held_.end(), bytes.begin(), bytes.end());
    run_.arrived.append(text_of(bytes));
    offer();
  }

  void offer() {
    out_.set_budget(high_water_);
    const auto before = out_.size();
    const auto offered = held_.size();
    if (options_.chunk_ends_session && options_.chunk_ends_session(held_)) run_.split_dependent = true;
    const auto taken = session_.receive(held_, out_);
    collect_complaints();
    require(taken.bytes <= offered, "receive() took more bytes than it was offered");
    check_bound(before, "receive");
    if (taken.verdict == serve::Verdict::close) {
      closed_ = true;  // the model ignores the rest
      held_.clear();
      return;
    }
    require(taken.bytes == offered || out_.full(), "receive() left bytes behind with room for more output");
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(taken.bytes));
  }

  template <typename Call>
  void call(const char* what, Call&& call_it) {
    out_.set_budget(high_water_);
    const auto before = out_.size();
    const auto verdict = call_it();
    collect_complaints();
    check_bound(before, what);
    if (verdict == serve::Verdict::close) closed_ = true;
  }

  void check_bound(std::size_t before, const char* what) {
    const auto limit = std::max(before, high_water_) + options_.max_answer;
    require(out_.size() <= limit, what, "() added more than one answer past the output budget");
  }

  void collect_complaints() {
    auto& complaints = session_.complaints();
    run_.complaints.insert(run_.complaints.end(), complaints.begin(), complaints.end());
    complaints.clear();
  }

  serve::Session& session_;
  const HarnessOptions& options_;
  serve::Output out_;
  std::size_t high_water_ = 1;
  std::vector<std::byte> held_;
  bool closed_ = false;
  SessionRun run_;
};

/// The same connection with everything arriving at once and no budget: the reference answer.
inline SessionRun run_whole(serve::Session& session, std::span<const std::byte> input) {
  SessionRun run;
  serve::Output out;
  auto collect = [&] {
    run.complaints.insert(run.complaints.end(), session.complaints().begin(), session.complaints().end());
    session.complaints().clear();
  };
  auto verdict = session.open(out);
  collect();
  if (verdict == serve::Verdict::keep_going && !input.empty()) {
    const auto taken = session.receive(input, out);
    collect();
    verdict = taken.verdict;
    require(verdict == serve::Verdict::close || taken.bytes == input.size(),
            "receive() with no budget left bytes behind");
  }
  if (verdict == serve::Verdict::keep_going) {
    session.end_of_input(out);
    collect();
  }
  drain(out, out.size(), run.received);
  run.arrived.assign(text_of(input));
  return run;
}

struct Runs {
  SessionRun split;  ///< in pieces, with budgets
  SessionRun whole;  ///< in one piece, no budget
};

/// One fuzz input against `service`: split run with contract checks, then the same bytes in one
/// piece, and the two answers compared. Returns both for the target's own checks.
/// `reference` (default: `service`) makes the one-piece session: a service with state of its
/// own (the tracker's registry) needs a twin in the same state.
inline Runs fuzz_session(const serve::Service& service, const serve::SessionContext& context,
                         FuzzedDataProvider& fdp, const HarnessOptions& options,
                         const serve::Service* reference = nullptr) {
  auto split_session = service.new_session(context);
  auto split = SessionDriver(*split_session, options).run(fdp);
  auto whole_session = (reference ? *reference : service).new_session(context);
  auto whole = run_whole(*whole_session, bytes_of(split.arrived));
  if (split.split_dependent) return {std::move(split), std::move(whole)};
  if (options.compare) {
    options.compare(split.received, whole.received);
  } else {
    require(split.received == whole.received, "the answer depends on how the input was split or budgeted");
  }
  require(split.complaints == whole.complaints, "the complaints depend on how the input was split or budgeted");
  return {std::move(split), std::move(whole)};
}

}  // namespace sockit::fuzz
