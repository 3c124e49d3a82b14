#include "tools/bench_cpu.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "net/error.hpp"

namespace sockit::tools {
namespace {

std::chrono::nanoseconds ticks(unsigned long long count) {
  static const long per_second = ::sysconf(_SC_CLK_TCK);
  return std::chrono::nanoseconds(static_cast<long long>(count) * (1'000'000'000LL / per_second));
}

std::chrono::nanoseconds of(const timeval& tv) {
  return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

std::optional<std::string> read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

}  // namespace

CpuTimes operator-(const CpuTimes& a, const CpuTimes& b) noexcept {
  return {a.user - b.user, a.system - b.system};
}
CpuTimes operator+(const CpuTimes& a, const CpuTimes& b) noexcept {
  return {a.user + b.user, a.system + b.system};
}

std::optional<ProcStat> parse_proc_stat(std::string_view line) {
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
  ProcStat stat;
  auto [p, ec] = std::from_chars(line.data(), line.data() + open, stat.pid);
  if (ec != std::errc{}) return std::nullopt;
  // After ')': field 3 is the state; then 4 ppid ... 14 utime, 15 stime, 16 cutime, 17 cstime.
  std::istringstream rest{std::string(line.substr(close + 1))};
  std::string state;
  long long fields[14] = {};
  rest >> state;
  for (long long& field : fields)
    if (!(rest >> field)) return std::nullopt;
  stat.parent = static_cast<pid_t>(fields[0]);
  stat.utime = static_cast<unsigned long long>(fields[10]);
  stat.stime = static_cast<unsigned long long>(fields[11]);
  stat.cutime = static_cast<unsigned long long>(fields[12]);
  stat.cstime = static_cast<unsigned long long>(fields[13]);
  return stat;
}

net::Result<ProcStat> read_proc_stat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const auto line = read_line(path);
  if (!line) return net::errno_error("read", path, errno ? errno : ESRCH);
  auto stat = parse_proc_stat(*line);
  if (!stat) return net::Error("parse", net::make_error_code(net::Errc::protocol), path, "not a stat line");
  return *stat;
}

net::Result<CpuTimes> process_tree_cpu(pid_t pid) {
  auto self = read_proc_stat(pid);
  if (!self) return self.error();
  CpuTimes total{ticks(self->utime + self->cutime), ticks(self->stime + self->cstime)};
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return net::errno_error("opendir", "/proc");
  while (const dirent* entry = ::readdir(proc.get())) {
    pid_t child = 0;
    const std::string_view name = entry->d_name;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), child);
    if (ec != std::errc{} || p != name.data() + name.size() || child == pid) continue;
    const auto line = read_line("/proc/" + std::string(name) + "/stat");
    if (!line) continue;  // gone meanwhile
    const auto stat = parse_proc_stat(*line);
    if (stat && stat->parent == pid) total = total + CpuTimes{ticks(stat->utime), ticks(stat->stime)};
  }
  return total;
}

CpuTimes own_cpu() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return {of(usage.ru_utime), of(usage.ru_stime)};
}

}  // namespace sockit::tools
