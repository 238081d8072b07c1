#include "services/notification/rules.h"

#include <gtest/gtest.h>

namespace op::notification {
namespace {

using std::chrono::milliseconds;

events::Envelope Event(const std::string& order_id) {
  events::Envelope e;
  e.set_order_id(order_id);
  return e;
}

TEST(NotificationRulesTest, CustomerFacingEventsHaveATextOthersNone) {
  auto confirmed = Event("o-1");
  confirmed.mutable_order_confirmed()->mutable_total()->set_cents(123456);
  confirmed.mutable_order_confirmed()->mutable_total()->set_currency("EUR");
  auto t = TextFor(confirmed);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->subject, "Order o-1 confirmed");
  EXPECT_EQ(t->body, "Your order o-1 is confirmed. Total: 1234.56 EUR.");

  auto cancelled = Event("o-2");
  cancelled.mutable_order_cancelled()->set_reason("OUT_OF_STOCK");
  EXPECT_EQ(TextFor(cancelled)->body, "Your order o-2 was cancelled (OUT_OF_STOCK).");

  auto refunded = Event("o-3");
  refunded.mutable_payment_refunded()->mutable_amount()->set_cents(5);
  refunded.mutable_payment_refunded()->mutable_amount()->set_currency("EUR");
  EXPECT_EQ(TextFor(refunded)->body, "We refunded 0.05 EUR for order o-3.");

  auto created = Event("o-4");
  created.mutable_order_created()->set_customer_id("alice");
  EXPECT_FALSE(TextFor(created)) << "the customer hears about the outcome, not the request";
  auto failed = Event("o-5");
  failed.mutable_payment_failed()->set_reason("INSUFFICIENT_FUNDS");
  EXPECT_FALSE(TextFor(failed)) << "its cancellation tells the customer";
  auto reserved = Event("o-6");
  reserved.mutable_inventory_reserved();
  EXPECT_FALSE(TextFor(reserved));
}

TEST(NotificationRulesTest, ContactOfOrderCreatedKeepsOnlyWhatWasGiven) {
  auto e = Event("o-1");
  e.mutable_order_created()->set_customer_id("bob");
  e.mutable_order_created()->mutable_contact()->set_email("bob@example.com");
  auto c = ContactOf(e);
  EXPECT_EQ(c.customer, "bob");
  EXPECT_EQ(c.email, "bob@example.com");
  EXPECT_EQ(c.phone, std::nullopt);
}

TEST(NotificationRulesTest, TargetsAreTheConfiguredChannelsTheContactHasElseTheLog) {
  Contact both{"carol", "carol@example.com", "+4915112345678"};
  auto t = TargetsFor(both, true, true);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].channel, Channel::kEmail);
  EXPECT_EQ(t[0].recipient, "carol@example.com");
  EXPECT_EQ(t[1].channel, Channel::kSms);
  EXPECT_EQ(t[1].recipient, "+4915112345678");

  auto email_only = TargetsFor(both, true, false);
  ASSERT_EQ(email_only.size(), 1u);
  EXPECT_EQ(email_only[0].channel, Channel::kEmail);

  auto none = TargetsFor(both, false, false);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].channel, Channel::kLog);
  EXPECT_EQ(none[0].recipient, "carol") << "the log names the customer";

  auto no_contact = TargetsFor(Contact{"dave", std::nullopt, std::nullopt}, true, true);
  ASSERT_EQ(no_contact.size(), 1u);
  EXPECT_EQ(no_contact[0].channel, Channel::kLog);
}

TEST(NotificationRulesTest, ChannelNamesRoundTrip) {
  for (Channel c : {Channel::kEmail, Channel::kSms, Channel::kLog}) EXPECT_EQ(ParseChannel(ChannelName(c)), c);
  EXPECT_EQ(ParseChannel("fax"), std::nullopt);
}

TEST(NotificationRulesTest, RetryDelayDoublesFromOneSecondUpToTheMax) {
  const milliseconds max = std::chrono::minutes(5);
  EXPECT_EQ(RetryDelay(1, max), milliseconds(1000));
  EXPECT_EQ(RetryDelay(2, max), milliseconds(2000));
  EXPECT_EQ(RetryDelay(5, max), milliseconds(16000));
  EXPECT_EQ(RetryDelay(9, max), milliseconds(256000));
  EXPECT_EQ(RetryDelay(10, max), max);
  EXPECT_EQ(RetryDelay(100000, max), max) << "never overflows, never gives up";
}

}  // namespace
}  // namespace op::notification
