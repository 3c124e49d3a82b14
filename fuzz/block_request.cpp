// The peer's block server (cascade-protocol.md §3) as a session: 64-byte requests, pipelined,
// in random splits and output budgets, against a file of a few blocks (held, missing, empty,
// past the end) whose blocks leave as file ranges. Every request gets one answer, in order, the
// same whatever the splits; ok carries exactly the block's bytes; statuses 1, 3 and 4 end the
// connection.
#include <sys/mman.h>
#include <unistd.h>

#include "cascade/block_server.hpp"
#include "net/byte_order.hpp"
#include "support/session_harness.hpp"

using namespace sockit;

namespace {

const cascade::Digest kServed = cascade::sha256(fuzz::bytes_of("served"));
constexpr std::string_view kData = "block zero??????????two";

// Blocks of 10 bytes: 0 held, 1 missing, 2 held (the 3-byte trail), 3 held but empty, 4+ past the end.
class MemoryProvider : public cascade::BlockProvider {
 public:
  MemoryProvider() : file_(std::make_shared<const net::Fd>(::memfd_create("blocks", MFD_CLOEXEC))) {
    fuzz::require(::write(file_->get(), kData.data(), kData.size()) == static_cast<ssize_t>(kData.size()),
                  "memfd write failed");
  }
  cascade::BlockStatus locate_block(const cascade::Digest& hash, std::uint64_t index,
                                    serve::FileRange& out) const override {
    if (hash != kServed) return cascade::BlockStatus::unknown_file;
    if (index >= 4) return cascade::BlockStatus::past_end;
    if (index == 1) return cascade::BlockStatus::missing;
    out = serve::FileRange{file_, index * 10, index == 0 ? 10u : index == 2 ? 3u : 0u};
    return cascade::BlockStatus::ok;
  }

 private:
  std::shared_ptr<const net::Fd> file_;
};

// What each request asks, and the answer it must get.
void check_answers(std::string_view received, std::string_view arrived) {
  auto bytes = fuzz::bytes_of(received);
  std::size_t requests = 0;
  bool closed = false;
  while (!bytes.empty()) {
    fuzz::require(!closed, "an answer after the one that closed the connection");
    fuzz::require(bytes.size() >= cascade::kBlockHeaderSize, "a partial answer header");
    const auto status = std::to_integer<unsigned>(bytes[0]);
    const auto length = net::load_u64(bytes.data() + 1);
    fuzz::require(bytes.size() - cascade::kBlockHeaderSize >= length, "a partial answer body");
    const auto body = fuzz::text_of(bytes.subspan(cascade::kBlockHeaderSize, length));
    const auto request = fuzz::bytes_of(arrived.substr(requests * 64));
    ++requests;
    if (request.size() < 64) {
      fuzz::require(status == 4 && bytes.size() == cascade::kBlockHeaderSize + length, "a short request not refused last");
      break;
    }
    const auto asked = cascade::decode_block_request(request.first<64>());
    if (!asked) {
      fuzz::require(status == 4, "a request with a bad magic not refused with status 4");
    } else if (asked->cascade_hash != kServed) {
      fuzz::require(status == 1, "an unknown file not answered with status 1");
    } else if (asked->index >= 4) {
      fuzz::require(status == 3, "a block past the end not answered with status 3");
    } else if (asked->index == 1) {
      fuzz::require(status == 2, "a missing block not answered with status 2");
    } else {
      const auto index = static_cast<std::size_t>(asked->index);
      const auto expected = index == 3 ? std::string_view() : kData.substr(index * 10, index == 0 ? 10 : 3);
      fuzz::require(status == 0 && body == expected, "a held block not sent as its bytes");
    }
    closed = status == 1 || status == 3 || status == 4;
    bytes = bytes.subspan(cascade::kBlockHeaderSize + length);
  }
  // Every whole request before the close was answered.
  if (!closed) fuzz::require(requests == (arrived.size() + 63) / 64, "a request without an answer");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const cascade::BlockService service(std::make_shared<MemoryProvider>());
  FuzzedDataProvider fdp(data, size);
  serve::SessionContext context;
  context.peer = "127.0.0.1:6881";
  // An answer: 9 bytes and a block of at most 10, or a message naming a hash or an index.
  const auto runs = fuzz::fuzz_session(service, context, fdp, fuzz::answers_up_to(200));
  check_answers(runs.split.received, runs.split.arrived);
  return 0;
}
