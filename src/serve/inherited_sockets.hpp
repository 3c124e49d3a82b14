#pragma once

// systemd's socket activation (sd_listen_fds(3)): a service manager opens the listening sockets
// and starts the server with them as descriptors 3, 4, ..., saying so in LISTEN_FDS=n,
// LISTEN_PID=the process they are meant for and LISTEN_FDNAMES=name:name... (each socket unit's
// FileDescriptorName=). Written here, not taken from libsystemd, because what sockit needs beyond
// the three variables is its own: checking what each descriptor is and which service it belongs to.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"
#include "net/socket.hpp"
#include "serve/server.hpp"

namespace sockit::serve {

/// One socket passed to this process, checked: a listening TCP socket or a bound UDP socket,
/// IPv4 or IPv6, close-on-exec.
struct InheritedSocket {
  net::Socket socket;
  int fd = -1;           ///< its number as passed (3, 4 ...), as systemd's log shows it
  std::string name;      ///< its LISTEN_FDNAMES entry; empty when none was given
  int type = 0;          ///< SOCK_STREAM (listening) or SOCK_DGRAM
  net::Address address;  ///< where it is bound

  /// "fd 3 'echo' (TCP 127.0.0.1:10007)", for messages.
  std::string describe() const;
};

/// The socket-activation variables as found; nullopt for one that was not set.
struct ListenEnvironment {
  std::optional<std::string> pid;
  std::optional<std::string> fds;
  std::optional<std::string> names;
};

/// Reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES and unsets them, so that no program this
/// process runs takes them for its own. Call before starting threads (setenv is not thread-safe).
ListenEnvironment take_listen_environment();

/// Takes ownership of the descriptors `environment` passes, from `first_fd` on (3 under systemd),
/// when its LISTEN_PID is `self`; none when no LISTEN_FDS is set or LISTEN_PID names another
/// process (the variables leaked to it through a shell, say). Makes each close-on-exec.
/// Throws ConfigError, naming the descriptor, for malformed variables, a descriptor that is not
/// open, and one that is not a listening TCP or a bound UDP socket over IPv4 or IPv6 (a unit with
/// Accept=yes passes connections, not listeners).
std::vector<InheritedSocket> adopt_listen_fds(const ListenEnvironment& environment, pid_t self, int first_fd = 3);

/// take_listen_environment() and adopt_listen_fds() for this process; shared, so that every
/// Server made from them (again at each reload) finds the same sockets.
InheritedSockets take_inherited_sockets();

/// Hands `sockets` to the services of `config` (config.inherited): each goes to the service its
/// name names, else to the service that would bind its port for its transport (the services of
/// config.services or, when that is empty, the catalog's, on their ports or default or system
/// ports). A service that gets a socket binds none of its own, on either transport. When no
/// service was named (config.services empty, or none of them required: every service) they
/// become the services that got sockets, in the order of their first descriptor, each with the
/// settings `config` had for it.
/// Throws ConfigError for a socket that matches no service, and for one whose transport its
/// service lacks or `config` turned off. Does nothing when `sockets` is empty.
void use_inherited_sockets(const InheritedSockets& sockets, ServerConfig& config);

/// For Server: whether `service` may serve `type` (SOCK_STREAM, SOCK_DGRAM) as far as inherited
/// sockets decide: yes when it got none (it binds its own), else when one of its sockets is of
/// that type.
bool inherited_allows(const ServerConfig& config, std::string_view service, int type);

/// For Server: duplicates (close-on-exec) of the sockets of `type` that config.inherited gives
/// `service`. The originals stay open for the process's life, as systemd keeps its own: a reload
/// that drops a service and adds it back finds them again. Throws net::Error when dup fails.
std::vector<net::Socket> inherited_listeners(const ServerConfig& config, std::string_view service, int type);

/// The one listening TCP socket of a server that has a single listener (the Cascade tracker):
/// nullopt when `sockets` is empty. Throws ConfigError when there are several, or a UDP one.
std::optional<net::Socket> single_inherited_listener(const InheritedSockets& sockets);

}  // namespace sockit::serve
