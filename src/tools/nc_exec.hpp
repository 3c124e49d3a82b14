#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "net/result.hpp"

namespace sockit::tools {

/// Starts `argv` (argv[0] searched in PATH) with `socket` as its standard input and output and
/// returns its pid without waiting; the caller reaps it (reap_programs). Borrows `socket`.
net::Result<pid_t> start_program_on(int socket, const std::vector<std::string>& argv);

/// Reaps every finished child among `pids` without blocking; removes them from the list.
void reap_programs(std::vector<pid_t>& pids);

/// Runs `argv` (argv[0] searched in PATH) with `socket` as its standard input and output, like
/// ncat -e; standard error stays ours. SIGPIPE is back to its default in the program. Blocks
/// until the program exits and returns its exit status (128 + signal number when killed).
/// Borrows `socket`; the caller closes it afterwards.
net::Result<int> run_program_on(int socket, const std::vector<std::string>& argv);

/// The argv for `-e "prog arg ..."` (split on blanks, no shell) and `-c 'shell command'`
/// (/bin/sh -c).
std::vector<std::string> split_command(const std::string& command);
std::vector<std::string> shell_command(const std::string& command);

}  // namespace sockit::tools
