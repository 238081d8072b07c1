#include "runtime/kafka/dead_letter.h"

#include <gtest/gtest.h>

namespace op::kafka {
namespace {

TEST(DeadLetter, NamesAndRecognisesDeadLetterTopics) {
  EXPECT_EQ(DeadLetterTopic("order.events"), "order.events.DLT");
  EXPECT_TRUE(IsDeadLetterTopic("order.events.DLT"));
  EXPECT_FALSE(IsDeadLetterTopic("order.events"));
  EXPECT_FALSE(IsDeadLetterTopic(".DLT")) << "a suffix alone names no topic";
  EXPECT_FALSE(IsDeadLetterTopic("order.events.dlt"));
  EXPECT_EQ(TopicOfDeadLetters("order.events.DLT"), "order.events");
  EXPECT_EQ(TopicOfDeadLetters("order.events"), "order.events");
}

TEST(DeadLetter, WritesSpringKafkasBinaryEncoding) {
  KafkaHeaders h{{"event_type", "OrderCreated"}};
  AddDeadLetterHeaders(h, {"order.events", 258, 0x0102030405060708LL, 1700000000123LL, "payment-service"}, "bad", "PoisonRecord");
  auto value = [&](const char* name) {
    for (const auto& [k, v] : h)
      if (k == name) return v;
    return std::string("<missing>");
  };
  EXPECT_EQ(h.front().first, "event_type") << "the record's own headers stay first";
  EXPECT_EQ(value(kDltOriginalTopic), "order.events");
  // ByteBuffer.allocate(4).putInt(258) and allocate(8).putLong(...): big-endian.
  EXPECT_EQ(value(kDltOriginalPartition), std::string("\x00\x00\x01\x02", 4));
  EXPECT_EQ(value(kDltOriginalOffset), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(value(kDltOriginalTimestampType), "CreateTime");
  EXPECT_EQ(value(kDltOriginalGroup), "payment-service");
  EXPECT_EQ(value(kDltExceptionClass), "PoisonRecord");
  EXPECT_EQ(value(kDltExceptionMessage), "bad");
  EXPECT_EQ(value(kDltExceptionStacktrace), "PoisonRecord: bad");
}

TEST(DeadLetter, ReadsBackWhatItWrote) {
  KafkaHeaders h;
  AddDeadLetterHeaders(h, {"t", -1, -2, 1700000000123LL, "g"}, "msg", "Kind");
  auto r = ReadDeadLetterHeaders(h);
  EXPECT_EQ(r.topic, "t");
  EXPECT_EQ(r.partition, -1) << "two's complement, as Java writes a negative int";
  EXPECT_EQ(r.offset, -2);
  EXPECT_EQ(r.timestamp_ms, 1700000000123LL);
  EXPECT_EQ(r.group, "g");
  EXPECT_EQ(r.exception_class, "Kind");
  EXPECT_EQ(r.exception_message, "msg");
}

TEST(DeadLetter, ALaterSetOfHeadersWinsAndBadLengthsAreNotGuessed) {
  KafkaHeaders h;
  AddDeadLetterHeaders(h, {"first", 1, 1, 1, "g1"}, "e1", "K1");
  AddDeadLetterHeaders(h, {"second", 2, 2, 2, "g2"}, "e2", "K2");
  auto r = ReadDeadLetterHeaders(h);
  EXPECT_EQ(r.topic, "second");
  EXPECT_EQ(r.partition, 2);
  // Dead letters written before Spring's encoding carried decimal text: still read.
  KafkaHeaders text{{kDltOriginalPartition, "1234"}, {kDltOriginalOffset, "10000000"}};
  auto t = ReadDeadLetterHeaders(text);
  EXPECT_EQ(t.partition, 1234) << "4 digits are text, not a big-endian int";
  EXPECT_EQ(t.offset, 10000000) << "8 digits are text, not a big-endian long";
  EXPECT_FALSE(t.topic.has_value());
  KafkaHeaders odd{{kDltOriginalPartition, std::string("\x01\x02\x03", 3)}, {kDltOriginalOffset, "99999999999999999999"}};
  auto o = ReadDeadLetterHeaders(odd);
  EXPECT_FALSE(o.partition.has_value()) << "three bytes are neither";
  EXPECT_FALSE(o.offset.has_value()) << "too large for a long";
  EXPECT_TRUE(IsDeadLetterHeader(kDltOriginalGroup));
  EXPECT_FALSE(IsDeadLetterHeader("event_type"));
}

}  // namespace
}  // namespace op::kafka
