#include "events/envelope.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "events/golden_samples.h"
#include "events/topics.h"

namespace op::events {
namespace {

std::string Hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::map<std::string, std::string> LoadGolden() {
  std::ifstream in("events/testdata/golden_v1.txt");
  std::map<std::string, std::string> golden;
  std::string type, hex;
  while (in >> type >> hex) golden[type] = hex;
  return golden;
}

// Fails when a schema change renumbers, retypes or removes a field: the bytes an
// old writer produced would no longer mean the same thing to a new reader (and
// the reverse). Adding fields keeps both directions green.
TEST(GoldenBytes, EncodingOfEverySampleIsUnchanged) {
  auto golden = LoadGolden();
  auto samples = GoldenSamples();
  ASSERT_EQ(golden.size(), samples.size()) << "every event type needs a golden line";
  for (const auto& e : samples) {
    ASSERT_TRUE(golden.count(e.event_type())) << e.event_type();
    EXPECT_EQ(Hex(Encode(e)), golden[e.event_type()]) << e.event_type();
  }
}

TEST(GoldenBytes, OldBytesDecodeToTheSameEvents) {
  auto golden = LoadGolden();
  for (const auto& expected : GoldenSamples()) {
    std::string err;
    auto decoded = Decode(Unhex(golden[expected.event_type()]), &err);
    ASSERT_TRUE(decoded) << err;
    EXPECT_EQ(decoded->SerializeAsString(), expected.SerializeAsString()) << expected.event_type();
    EXPECT_EQ(Validate(*decoded), std::nullopt) << expected.event_type();
    EXPECT_EQ(EventTypeOf(*decoded), expected.event_type());
  }
}

TEST(Envelope, EveryTypeHasATopic) {
  for (const auto& e : GoldenSamples()) {
    EXPECT_FALSE(TopicOf(e.event_type()).empty()) << e.event_type();
  }
  EXPECT_EQ(TopicOf("PaymentRefunded"), kPaymentEvents);
  EXPECT_EQ(TopicOf("Nope"), "");
  EXPECT_EQ(DeadLetterTopic(kOrderEvents), "order.events.DLT");
}

TEST(Envelope, NewEnvelopeCarriesCausality) {
  Envelope first = NewEnvelope("order-1", "order-service");
  first.mutable_order_created()->set_customer_id("c");
  auto* item = first.mutable_order_created()->add_items();
  item->set_sku("SKU-1");
  item->set_quantity(1);
  first.mutable_order_created()->mutable_total()->set_currency("EUR");
  SealEventType(first);
  first.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(Validate(first), std::nullopt);
  EXPECT_EQ(first.correlation_id(), first.event_id());

  Envelope next = NewEnvelope("order-1", "payment-service", &first);
  next.mutable_payment_completed()->set_customer_id("c");
  SealEventType(next);
  EXPECT_EQ(next.event_type(), "PaymentCompleted");
  EXPECT_NE(next.event_id(), first.event_id());
  EXPECT_EQ(next.causation_id(), first.event_id());
  EXPECT_EQ(next.correlation_id(), first.correlation_id());
  EXPECT_EQ(next.traceparent(), first.traceparent());
}

TEST(Envelope, ValidateNamesTheProblem) {
  auto good = GoldenSamples()[0];
  auto check = [&](auto mutate, const std::string& needle) {
    Envelope e = good;
    mutate(e);
    auto err = Validate(e);
    ASSERT_TRUE(err.has_value()) << needle;
    EXPECT_NE(err->find(needle), std::string::npos) << *err;
  };
  check([](Envelope& e) { e.set_event_id("x"); }, "event_id");
  check([](Envelope& e) { e.clear_payload(); }, "payload");
  check([](Envelope& e) { e.set_event_type("OrderConfirmed"); }, "does not match");
  check([](Envelope& e) { e.set_order_id(""); }, "order_id");
  check([](Envelope& e) { e.set_schema_version(99); }, "schema_version");
  check([](Envelope& e) { e.set_occurred_at("yesterday"); }, "occurred_at");
  // What a hostile producer could send, each bounded as the columns it ends up in.
  check([](Envelope& e) { e.set_order_id(std::string(65, 'a')); }, "order_id");
  check([](Envelope& e) { e.set_order_id("a'b"); }, "order_id");
  check([](Envelope& e) { e.set_source(std::string(100, 's')); }, "source");
  check([](Envelope& e) { e.set_traceparent(std::string(56, '0')); }, "traceparent");
  check([](Envelope& e) { e.mutable_order_created()->set_customer_id(std::string(65, 'c')); }, "customer_id");
  check([](Envelope& e) { e.mutable_order_created()->mutable_items(0)->set_sku("no sku"); }, "sku");
  check([](Envelope& e) { e.mutable_order_created()->mutable_items(0)->set_quantity(0); }, "quantity");
  check([](Envelope& e) { e.mutable_order_created()->mutable_total()->set_currency("euro"); }, "currency");
  check([](Envelope& e) { e.mutable_order_created()->mutable_total()->set_cents(-1); }, "cents");
  check([](Envelope& e) { e.mutable_order_created()->mutable_contact()->set_email(std::string(300, 'e')); }, "contact");
  for (const auto& sample : GoldenSamples()) EXPECT_EQ(Validate(sample), std::nullopt) << sample.event_type();
}

TEST(Envelope, DecodeRejectsGarbage) {
  std::string err;
  EXPECT_FALSE(Decode("\xff\xff\xff\xff garbage", &err));
  EXPECT_NE(err.find("not a protobuf"), std::string::npos);
}

TEST(Envelope, JsonRenderingUsesCamelCase) {
  auto json = nlohmann::json::parse(ToJson(GoldenSamples()[0]));
  EXPECT_EQ(json["eventType"], "OrderCreated");
  EXPECT_EQ(json["orderId"], "5a7d9e1f-2b3c-4d5e-8f9a-0b1c2d3e4f5a");
  EXPECT_EQ(json["orderCreated"]["items"][0]["sku"], "SKU-1");
  // int64 is rendered as a string by the proto3 JSON mapping
  EXPECT_EQ(json["orderCreated"]["total"]["cents"], "4498");
}

}  // namespace
}  // namespace op::events
