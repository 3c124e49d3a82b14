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
/// of the round answered at all, although the target earned at least one ICMP token during it
/// (no rate limit seen so far, or the round lasted shortest_round(): 1 / the rate measured
/// while pacing, or kTokenPeriod before a measurement), so any closed port in it would have
/// answered; or the round was sent no faster than an answer rate measured while pacing. (A
/// target stricter than kTokenPeriod before the first measurement could still fool it.) A round with some answers and some
/// silence sent faster than that is rate limiting: the next round goes at most half as fast,
/// and no faster than 0.9 × the answers per second that round saw. A port is open|filtered
/// after retries + 1 silent rounds; one still unsure after kMaxRounds probes is open|filtered
/// too, with the reason "rate-limited".
class UdpPacer {
 public:
  static constexpr int kMaxRounds = 12;
  static constexpr double kSlowestRate = 0.25;  ///< probes per second: bounds the scan's time
  /// Seconds per ICMP token assumed until one was measured: Linux's default icmp_ratelimit.
  static constexpr double kTokenPeriod = 1.0;

  /// `rate`: the user's cap on probes per second (0: none).
  UdpPacer(const std::vector<std::uint16_t>& ports, int retries, double rate);

  bool done() const { return unsure_.empty(); }
  /// The ports the next round probes, sorted.
  std::vector<std::uint16_t> next_round() const;
  /// Probes per second for the next round (0: as fast as the window allows).
  double round_rate() const { return rate_; }
  /// How long the next round should last at least, waiting after its timeout if need be: once
  /// a rate limit was seen, one ICMP token (so that its silence can count).
  std::chrono::duration<double> shortest_round() const;
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
  bool slowed() const;  // the rate is one this pacer chose

  int retries_;
  double user_rate_;
  double rate_;
  bool rate_measured_ = false;  // rate_ comes from answers counted while pacing
  std::map<std::uint16_t, Unsure> unsure_;
  std::map<std::uint16_t, PortResult> settled_;
};

}  // namespace sockit::tools
