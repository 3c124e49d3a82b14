// The tracker's Lua script (Redis 6.2 or later: ZADD GT, ZRANDMEMBER, ZMSCORE). Stale entries
// are swept by score as they are met (their counts per IP and good flags with them); swarms only
// when the swarm cap is reached, as the in-memory registry does. Its bounds: a subscribe sweeps
// at most one swarm's stale entries (or, at the swarm cap, every stale swarm once); a list draws
// max + 1 good and max + 2 other members at random (SRANDMEMBER, ZRANDMEMBER: not the first N).
#include "cascade/redis_tracker_script.hpp"

namespace sockit::cascade {

const RedisScript& tracker_script() {
  static const RedisScript script(R"lua(local index, peers, good, ips = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, swarm, who, ip, is_good = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local now, cutoff, ttl = ARGV[6], '(' .. ARGV[7], ARGV[8]
local max = tonumber(ARGV[9])
local max_swarms, max_peers, max_per_ip = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local prefix = ARGV[13]

local function drop_stale_peers()
  local stale = redis.call('ZRANGEBYSCORE', peers, '-inf', cutoff)
  for _, member in ipairs(stale) do
    local host = string.match(member, '^(.*):')
    if host and redis.call('HINCRBY', ips, host, -1) <= 0 then redis.call('HDEL', ips, host) end
    redis.call('SREM', good, member)
  end
  if #stale > 0 then redis.call('ZREMRANGEBYSCORE', peers, '-inf', cutoff) end
end

local function drop_stale_swarms()
  for _, hex in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', cutoff)) do
    redis.call('DEL', prefix .. ':peers:' .. hex, prefix .. ':good:' .. hex, prefix .. ':ips:' .. hex)
  end
  redis.call('ZREMRANGEBYSCORE', index, '-inf', cutoff)
end

local function subscribe()
  if redis.call('ZSCORE', peers, who) then
    redis.call('ZADD', peers, 'GT', now, who)
  else
    drop_stale_peers()
    if not redis.call('ZSCORE', index, swarm) and redis.call('ZCARD', index) >= max_swarms then
      drop_stale_swarms()
      if redis.call('ZCARD', index) >= max_swarms then return 'swarms' end
    end
    if redis.call('ZCARD', peers) >= max_peers then return 'peers' end
    if tonumber(redis.call('HGET', ips, ip) or '0') >= max_per_ip then return 'ip' end
    redis.call('ZADD', peers, now, who)
    redis.call('HINCRBY', ips, ip, 1)
  end
  if is_good then redis.call('SADD', good, who) else redis.call('SREM', good, who) end
  redis.call('ZADD', index, 'GT', now, swarm)
  for _, key in ipairs({index, peers, good, ips}) do redis.call('PEXPIRE', key, ttl) end
  return nil
end

local function list()
  drop_stale_peers()
  if redis.call('ZCARD', peers) == 0 then
    redis.call('DEL', peers, good, ips)
    redis.call('ZREM', index, swarm)
    return {'ok'}
  end
  local chosen, flags, seen = {}, {}, {}
  for _, member in ipairs(redis.call('SRANDMEMBER', good, max + 1)) do
    seen[member] = true
    if member ~= who and #chosen < max then
      chosen[#chosen + 1] = member
      flags[#flags + 1] = '1'
    end
  end
  -- Fewer good ones than asked for means every good one was drawn above (the requester at most
  -- once more): max + 2 distinct members hold enough others.
  if #chosen < max then
    for _, member in ipairs(redis.call('ZRANDMEMBER', peers, max + 2)) do
      if member ~= who and not seen[member] and #chosen < max then
        chosen[#chosen + 1] = member
        flags[#flags + 1] = '0'
      end
    end
  end
  local answer = {'ok'}
  if #chosen == 0 then return answer end
  local scores = redis.call('ZMSCORE', peers, unpack(chosen))
  for i, member in ipairs(chosen) do
    answer[#answer + 1] = member
    answer[#answer + 1] = scores[i]
    answer[#answer + 1] = flags[i]
  end
  return answer
end

if mode == 'subscribe' then
  local refused = subscribe()
  if refused then return {'refused', refused} end
end
return list()
)lua");
  return script;
}

}  // namespace sockit::cascade
