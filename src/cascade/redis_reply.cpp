// RESP through hiredis: its formatter for commands and its parser for replies, whose reply
// objects are built here (bounded) instead of by hiredis's default functions.
#include "cascade/redis_reply.hpp"

#include <fmt/core.h>
#include <hiredis.h>

#include <new>

namespace sockit::cascade {
namespace {

RedisReplyReader& owner(const redisReadTask* task);

// Puts `reply` in its parent array, which owns it from then on; a top-level reply is owned by
// hiredis's reader until next() takes it.
void* place(const redisReadTask* task, std::unique_ptr<RedisReply> reply) {
  auto* raw = reply.get();
  if (task->parent != nullptr) {
    auto& siblings = static_cast<RedisReply*>(task->parent->obj)->elements;
    const auto at = static_cast<std::size_t>(task->idx);
    if (at >= siblings.size()) return nullptr;  // hiredis keeps idx below the declared count
    siblings[at] = std::move(reply);
  } else {
    reply.release();
  }
  return raw;
}

template <typename Fill>
void* make(const redisReadTask* task, RedisReply::Kind kind, Fill fill) noexcept {
  try {
    auto reply = std::make_unique<RedisReply>();
    reply->kind = kind;
    if (!fill(*reply)) return nullptr;
    return place(task, std::move(reply));
  } catch (const std::bad_alloc&) {
    return nullptr;  // hiredis reports "Out of memory"
  }
}

RedisReply::Kind kind_of(int type) {
  switch (type) {
    case REDIS_REPLY_ERROR: return RedisReply::Kind::error;
    case REDIS_REPLY_STATUS: return RedisReply::Kind::status;
    default: return RedisReply::Kind::string;
  }
}

}  // namespace

// The reader's privdata is its RedisReplyReader: the array bound and the refusal live there.
struct RedisReplyFunctions {
  static void* string(const redisReadTask* task, char* text, std::size_t length) {
    return make(task, kind_of(task->type), [&](RedisReply& reply) {
      reply.text.assign(text, length);
      return true;
    });
  }
  static void* array(const redisReadTask* task, int elements) {
    auto& reader = owner(task);
    return make(task, RedisReply::Kind::array, [&](RedisReply& reply) {
      if (elements < 0 || static_cast<std::size_t>(elements) > reader.max_elements_) {
        reader.refusal_ = fmt::format("an array of {} elements (at most {})", elements, reader.max_elements_);
        return false;
      }
      reply.elements.resize(static_cast<std::size_t>(elements));
      return true;
    });
  }
  static void* integer(const redisReadTask* task, long long value) {
    return make(task, RedisReply::Kind::integer, [&](RedisReply& reply) {
      reply.integer = value;
      return true;
    });
  }
  static void* nil(const redisReadTask* task) {
    return make(task, RedisReply::Kind::nil, [](RedisReply&) { return true; });
  }
  static void free(void* reply) { delete static_cast<RedisReply*>(reply); }
};

namespace {

redisReplyObjectFunctions kFunctions{RedisReplyFunctions::string, RedisReplyFunctions::array,
                                     RedisReplyFunctions::integer, RedisReplyFunctions::nil,
                                     RedisReplyFunctions::free};

RedisReplyReader& owner(const redisReadTask* task) {
  while (task->parent != nullptr) task = task->parent;
  return *static_cast<RedisReplyReader*>(task->privdata);
}

}  // namespace

const std::string* RedisReply::string() const noexcept {
  return kind == Kind::string || kind == Kind::status ? &text : nullptr;
}

std::string format_redis_command(std::span<const std::string_view> args) {
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (auto arg : args) {
    pointers.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  char* command = nullptr;
  const int length = redisFormatCommandArgv(&command, static_cast<int>(args.size()), pointers.data(), lengths.data());
  if (length < 0 || command == nullptr) throw std::bad_alloc();
  std::string bytes(command, static_cast<std::size_t>(length));
  redisFreeCommand(command);
  return bytes;
}

void RedisReplyReader::Free::operator()(redisReader* reader) const noexcept { redisReaderFree(reader); }

RedisReplyReader::RedisReplyReader(std::size_t max_bytes, std::size_t max_elements)
    : reader_(redisReaderCreateWithFunctions(&kFunctions)), max_bytes_(max_bytes), max_elements_(max_elements) {
  if (!reader_) throw std::bad_alloc();
  reader_->privdata = this;
}

RedisReplyReader::~RedisReplyReader() = default;

net::Error RedisReplyReader::failure() const {
  std::string why = refusal_.empty() ? std::string(reader_->errstr) : refusal_;
  return net::Error("read a Redis reply", net::Errc::protocol, {}, std::move(why));
}

net::Result<void> RedisReplyReader::feed(std::span<const std::byte> bytes) {
  fed_ += bytes.size();
  if (fed_ > max_bytes_)
    return net::Error("read a Redis reply", net::Errc::protocol, {},
                      fmt::format("a reply of more than {} bytes", max_bytes_));
  if (redisReaderFeed(reader_.get(), reinterpret_cast<const char*>(bytes.data()), bytes.size()) != REDIS_OK)
    return failure();
  return {};
}

net::Result<std::unique_ptr<RedisReply>> RedisReplyReader::next() {
  void* reply = nullptr;
  if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) return failure();
  if (reply == nullptr) return std::unique_ptr<RedisReply>();
  fed_ = reader_->len - reader_->pos;  // what is left belongs to the next reply
  return std::unique_ptr<RedisReply>(static_cast<RedisReply*>(reply));
}

}  // namespace sockit::cascade
