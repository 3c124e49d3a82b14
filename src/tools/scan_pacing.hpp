#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "tools/scan.hpp"

namespace sockit::tools {

/// Decides, round after round, which UDP ports to probe again and how fast, so that a target
/// that rate-limits ICMP port unreachable (Linux: 6 at once, then 1 a second per source) has no
/// closed port reported open|filtered. Pure logic: the caller sends each round (one probe per
/// port, no retry) and reports what came back.
///
/// A port counts as silent in a round only when that round's silence means something: no port
/// of the round answered at all (the target had a full second, at least one ICMP token, since
/// the last round, so at least one closed port would have answered), or the round was sent no
/// faster than an answer rate measured while pacing. A round with some answers and some
/// silence sent faster than that is rate limiting: the next round goes at most half as fast,
/// and no faster than 0.9 × the answers per second that round saw. A port is open|filtered
/// after retries + 1 silent rounds; one still unsure after kMaxRounds probes is open|filtered
/// too, with the reason "rate-limited".
class UdpPacer {
 public:
  static constexpr int kMaxRounds = 12;
  static constexpr double kSlowestRate = 0.25;  ///< probes per second: bounds the scan's time

  /// `rate`: the user's cap on probes per second (0: none).
  UdpPacer(const std::vector<std::uint16_t>& ports, int retries, double rate);

  bool done() const { return unsure_.empty(); }
  /// The ports the next round probes, sorted.
  std::vector<std::uint16_t> next_round() const;
  /// Probes per second for the next round (0: as fast as the window allows).
  double round_rate() const { return rate_; }
  /// What the round answered: a port with PortState::open_filtered heard nothing. `took` runs
  /// from the first probe to the last one's timeout. An interrupted round counts its answers
  /// only.
  void record_round(const std::vector<PortResult>& round, std::chrono::duration<double> took, bool interrupted);
  /// Every port with a final state, sorted by port.
  std::vector<PortResult> results() const;

 private:
  struct Unsure {
    int probes = 0;
    int silent_rounds = 0;
  };
  void settle(std::uint16_t port, PortState state, const char* reason, int attempts);

  int retries_;
  double user_rate_;
  double rate_;
  bool rate_measured_ = false;  // rate_ comes from answers counted while pacing
  std::map<std::uint16_t, Unsure> unsure_;
  std::map<std::uint16_t, PortResult> settled_;
};

}  // namespace sockit::tools
