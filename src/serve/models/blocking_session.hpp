#pragma once

#include "net/address.hpp"
#include "net/socket.hpp"
#include "serve/log.hpp"
#include "serve/model.hpp"
#include "serve/models/model_log.hpp"
#include "serve/session.hpp"
#include "serve/stop_signal.hpp"

namespace sockit::serve::models::blocking {

/// Serves one connection to its end on the calling thread, the way every blocking model does:
/// open(), then read whatever arrives (64 KiB at a time, never byte by byte) and offer it to
/// receive(), send everything the session put in its Output before offering or reading again,
/// feed endless producers (chargen) whenever the socket has room, and end_of_input() on EOF.
/// The session's budget is Limits::low_water (at most high_water): what it leaves of a read
/// (Session's contract) is offered again once its output has gone out, before anything more is
/// read. So the thread holds one read buffer and at most about one budget of output, and stops
/// working while the client does not read. File ranges go out with sendfile().
///
/// Blocks, but never forever: waiting for input gives up after limits.idle_timeout, or once a
/// request begun has not been completed within limits.request_timeout (the session answers its
/// error first), and a send the client does not read gives up after idle_timeout. When `stop`
/// fires the connection is closed as soon as the session is waiting for input (work already
/// received is answered first), and an answer the client is slow to take gets
/// limits.grace_period to go out. Client faults (reset, timeout) and a session that throws end
/// this connection only. Logs `connected ADDR`, `closed ADDR after N requests` and the session's
/// complaints to `log`, and counts bytes, requests and their latency in its counters (if any).
/// Borrows `connection`: the caller closes it (after taking it off any list that might shut it
/// down).
void serve_blocking(const net::Socket& connection, const std::string& peer, const Service& service,
                    const Limits& limits, const StopSignal& stop, const ModelLog& log);

}  // namespace sockit::serve::models::blocking
