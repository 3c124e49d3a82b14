#pragma once

#include "net/result.hpp"
#include "tools/nc_relay.hpp"
#include "tools/tls_stream.hpp"

namespace sockit::tools {

/// relay_stream over TLS: `input` goes to the peer through `tls`, what the peer sends goes to
/// `output`, both at once, with the same half-close semantics. Input EOF sends close_notify
/// (then FIN) and the relay keeps reading until the peer closes (close_notify, or TCP EOF
/// without it); the peer's close ends the receiving direction and the relay then waits for
/// input EOF too, unless input is a terminal. -q and the idle timeout work as in relay_stream.
/// The socket under `tls` must be non-blocking and connected, the handshake done. Blocks;
/// borrows everything. An output whose reader left ends it without an error (`output_closed`).
net::Result<RelayResult> relay_tls(int input, int output, TlsStream& tls, int socket, const RelayOptions& options);

}  // namespace sockit::tools
