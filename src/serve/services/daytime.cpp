// Daytime Protocol, RFC 867: the server sends "the current date and time as a character string"
// and the syntax is free. TCP: sent as soon as the connection opens, then the server closes; UDP:
// any datagram is answered with it. The default is inetd's built-in daytime (ctime() in local
// time, "\r\n"); --format iso is the notes' UDP time service (Python's datetime.now().isoformat()).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <functional>

#include "serve/services/services.hpp"

namespace sockit::serve::services {
namespace {

enum class Format { inetd, iso };

struct LocalTime {
  std::tm tm{};
  long microseconds = 0;
};

// localtime_r, not localtime: models call this from many threads.
LocalTime local_time(std::chrono::system_clock::time_point now) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(now);
  LocalTime local;
  local.microseconds = static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(now - seconds).count());
  const std::time_t t = std::chrono::system_clock::to_time_t(seconds);
  if (localtime_r(&t, &local.tm) == nullptr) local.tm = std::tm{};  // year out of range: the epoch
  return local;
}

// ctime()'s layout with its English names (strftime's %a/%b would follow the locale):
// "Sun Nov 22 10:00:00 2026". inetd sends the 24 characters and "\r\n".
std::string inetd_text(const std::tm& tm) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  const int n = std::snprintf(text, sizeof text, "%.3s %.3s%3d %.2d:%.2d:%.2d %d\r\n", kDays[tm.tm_wday % 7],
                              kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
  return std::string(text, static_cast<std::size_t>(n));
}

// Python's naive datetime.isoformat(): the fraction appears only when it is not zero.
std::string iso_text(const LocalTime& local) {
  const auto& tm = local.tm;
  char text[64];
  int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (local.microseconds != 0) {
    n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ".%06ld", local.microseconds);
  }
  return std::string(text, static_cast<std::size_t>(n));
}

Format format_of(const ServiceOptions& options) {
  return options.daytime_format == "iso" ? Format::iso : Format::inetd;
}

// The text without a line end for iso (the notes' server sends none over UDP).
std::string daytime_text(Format format, std::chrono::system_clock::time_point now) {
  const auto local = local_time(now);
  return format == Format::iso ? iso_text(local) : inetd_text(local.tm);
}

class DaytimeSession : public Session {
 public:
  DaytimeSession(Format format, const SessionContext& context) : format_(format), now_(context.now) {}
  Verdict open(Output& out) override {
    out.append(daytime_text(format_, now_()));
    if (format_ == Format::iso) out.append("\r\n");
    return Verdict::close;
  }
  Taken receive(std::span<const std::byte> in, Output&) override { return {in.size(), Verdict::close}; }
  std::size_t requests() const noexcept override { return 1; }

 private:
  Format format_;
  std::function<std::chrono::system_clock::time_point()> now_;
};

class DaytimeService : public Service {
 public:
  explicit DaytimeService(Format format) : format_(format) {}
  std::string_view name() const noexcept override { return "daytime"; }
  std::unique_ptr<Session> new_session(const SessionContext& context) const override {
    return std::make_unique<DaytimeSession>(format_, context);
  }
  // RFC 867 is one line of text; a client reads until the close and shows what came.
  std::string refusal_answer(ConnectionRefusal, std::string_view reason) const override {
    return refusal_line(reason, "\r\n");
  }

 private:
  Format format_;
};

class DaytimeDatagrams : public DatagramService {
 public:
  explicit DaytimeDatagrams(Format format) : format_(format) {}
  std::string_view name() const noexcept override { return "daytime"; }
  std::optional<std::string> answer(std::span<const std::byte>, const SessionContext& context,
                                    std::string&) const override {
    return daytime_text(format_, context.now());
  }

 private:
  Format format_;
};

}  // namespace

std::unique_ptr<Service> make_daytime_tcp(const ServiceOptions& options) {
  return std::make_unique<DaytimeService>(format_of(options));
}
std::unique_ptr<DatagramService> make_daytime_udp(const ServiceOptions& options) {
  return std::make_unique<DaytimeDatagrams>(format_of(options));
}

}  // namespace sockit::serve::services
