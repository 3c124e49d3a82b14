#pragma once

#include "cascade/redis_connection.hpp"

namespace sockit::cascade {

/// The Lua script that answers one tracker request inside Redis (RedisRegistry): a subscribe
/// within the caps and the list, atomically.
///   KEYS: {P}:swarms, {P}:peers:HASH, {P}:good:HASH, {P}:ips:HASH
///   ARGV: mode ("subscribe" or "list"), HASH, requester "ip:port", requester ip, good ("1"/"0"),
///         now (Unix ms), cutoff (Unix ms: entries seen before it are stale), key TTL (ms),
///         max entries, max swarms, max peers, max peers per ip, {P}
///   Reply: {"refused", "swarms"|"peers"|"ip"} or {"ok", member, last seen (ms), good, ...}
const RedisScript& tracker_script();

}  // namespace sockit::cascade
