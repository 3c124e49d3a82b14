#include "tools/nc_exec.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <sstream>

extern char** environ;

namespace sockit::tools {
namespace {

// posix_spawn's C handles, released whatever happens.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

net::Result<pid_t> start_program_on(int socket, const std::vector<std::string>& argv) {
  if (argv.empty()) return net::errno_error("posix_spawn", {}, EINVAL);
  SpawnSetup setup;
  // dup2 clears close-on-exec on the copies; the original socket stays close-on-exec.
  posix_spawn_file_actions_adddup2(&setup.actions, socket, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, socket, STDOUT_FILENO);
  // An ignored SIGPIPE (the CLI ignores it) would be inherited across exec: restore it.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (int err = posix_spawnp(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ); err != 0)
    return net::errno_error("posix_spawn", argv[0], err);
  return pid;
}

void reap_programs(std::vector<pid_t>& pids) {
  std::erase_if(pids, [](pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == pid;
  });
}

net::Result<int> run_program_on(int socket, const std::vector<std::string>& argv) {
  auto started = start_program_on(socket, argv);
  if (!started) return started.error();
  const pid_t pid = *started;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return net::errno_error("waitpid", argv.front());
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::vector<std::string> split_command(const std::string& command) {
  std::istringstream words(command);
  std::vector<std::string> argv;
  for (std::string w; words >> w;) argv.push_back(w);
  return argv;
}

std::vector<std::string> shell_command(const std::string& command) { return {"/bin/sh", "-c", command}; }

}  // namespace sockit::tools
