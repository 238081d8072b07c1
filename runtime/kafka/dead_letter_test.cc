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

}  // namespace
}  // namespace op::kafka
