#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "net/fd.hpp"
#include "tools/scan_resume.hpp"

namespace sockit::tools {

net::Result<std::optional<ResumeState>> load_resume(const std::string& path) {
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (raw < 0) {
    if (errno == ENOENT) return std::optional<ResumeState>();
    return net::errno_error("open resume file", path);
  }
  net::Fd file(raw);
  struct stat info {};
  if (::fstat(file.get(), &info) < 0) return net::errno_error("fstat resume file", path);
  if (!S_ISREG(info.st_mode)) return net::Error("open resume file", net::Errc::not_regular_file, path);
  if (static_cast<unsigned long long>(info.st_size) > kResumeFileMax)
    return net::Error("open resume file", std::make_error_code(std::errc::file_too_large), path, "over 16 MiB");
  std::string text;
  char buffer[65536];
  for (;;) {
    const auto n = ::read(file.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("read resume file", path);
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kResumeFileMax)
      return net::Error("read resume file", std::make_error_code(std::errc::file_too_large), path, "over 16 MiB");
  }
  auto state = parse_resume(text);
  if (!state) return net::Error("parse resume file", state.error().code(), path, state.error().detail());
  return std::optional<ResumeState>(std::move(*state));
}

net::Result<void> save_resume(const std::string& path, const ResumeState& state) {
  const std::string temporary = path + ".tmp";
  const int raw = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (raw < 0) return net::errno_error("create resume file", temporary);
  net::Fd file(raw);
  const std::string text = format_resume(state);
  for (std::size_t written = 0; written < text.size();) {
    const auto n = ::write(file.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return net::errno_error("write resume file", temporary);
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(file.get()) < 0) return net::errno_error("fsync resume file", temporary);
  file.reset();
  if (::rename(temporary.c_str(), path.c_str()) < 0) return net::errno_error("rename resume file", path);
  return {};
}

}  // namespace sockit::tools
