#include "runtime/kafka/dead_letter.h"

#include <charconv>

namespace op::kafka {
namespace {

// Java's ByteBuffer.putInt / putLong: big-endian, two's complement.
template <typename T>
std::string BigEndian(T v) {
  std::string out(sizeof(T), '\0');
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (size_t i = 0; i < sizeof(T); ++i) out[sizeof(T) - 1 - i] = static_cast<char>((u >> (8 * i)) & 0xff);
  return out;
}

// Spring's big-endian bytes; or, for records dead-lettered before this
// encoding (by this platform's earlier versions), their decimal text: a value
// of ASCII digits only is read as that, since no realistic partition or
// offset is made of bytes 0x30..0x39 alone.
template <typename T>
std::optional<T> FromBigEndian(const std::string& bytes) {
  if (!bytes.empty() && bytes.size() <= 19 && bytes.find_first_not_of("0123456789") == std::string::npos) {
    T v{};
    auto [end, ec] = std::from_chars(bytes.data(), bytes.data() + bytes.size(), v);
    if (ec == std::errc() && end == bytes.data() + bytes.size()) return v;
    return std::nullopt;
  }
  if (bytes.size() != sizeof(T)) return std::nullopt;
  std::make_unsigned_t<T> u = 0;
  for (unsigned char c : bytes) u = static_cast<std::make_unsigned_t<T>>((u << 8) | c);
  return static_cast<T>(u);
}

// The last header of that name wins, as Headers.lastHeader does in Java: a
// record dead-lettered twice carries both sets.
const std::string* Last(const KafkaHeaders& headers, std::string_view name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : headers)
    if (k == name) found = &v;
  return found;
}

}  // namespace

void AddDeadLetterHeaders(KafkaHeaders& headers, const DeadLetterOrigin& o, const std::string& error,
                          const std::string& kind) {
  headers.emplace_back(kDltOriginalTopic, o.topic);
  headers.emplace_back(kDltOriginalPartition, BigEndian<int32_t>(o.partition));
  headers.emplace_back(kDltOriginalOffset, BigEndian<int64_t>(o.offset));
  headers.emplace_back(kDltOriginalTimestamp, BigEndian<int64_t>(o.timestamp_ms));
  headers.emplace_back(kDltOriginalTimestampType, "CreateTime");
  headers.emplace_back(kDltOriginalGroup, o.group);
  headers.emplace_back(kDltExceptionClass, kind);
  headers.emplace_back(kDltExceptionMessage, error);
  // Spring always writes a stack trace; a C++ exception has none, so its
  // first line (class: message) is what there is.
  headers.emplace_back(kDltExceptionStacktrace, kind + ": " + error);
}

DeadLetterHeaders ReadDeadLetterHeaders(const KafkaHeaders& headers) {
  DeadLetterHeaders out;
  auto text = [&](const char* name) -> std::optional<std::string> {
    if (const auto* v = Last(headers, name)) return *v;
    return std::nullopt;
  };
  auto number = [&]<typename T>(const char* name, T) -> std::optional<T> {
    if (const auto* v = Last(headers, name)) return FromBigEndian<T>(*v);
    return std::nullopt;
  };
  out.topic = text(kDltOriginalTopic);
  out.partition = number(kDltOriginalPartition, int32_t{});
  out.offset = number(kDltOriginalOffset, int64_t{});
  out.timestamp_ms = number(kDltOriginalTimestamp, int64_t{});
  out.group = text(kDltOriginalGroup);
  out.exception_class = text(kDltExceptionClass);
  out.exception_message = text(kDltExceptionMessage);
  return out;
}

bool IsDeadLetterHeader(std::string_view name) { return name.rfind("kafka_dlt-", 0) == 0; }

}  // namespace op::kafka
