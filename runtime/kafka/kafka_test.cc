// runtime/kafka against both brokers the platform runs on: the dev broker
// (librdkafka's mock cluster, 3 brokers, real Kafka protocol over loopback
// TCP) and Apache Kafka (a 3-node KRaft cluster, replication factor 3,
// min.insync.replicas 2). Every case runs on each, with one worker and four.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "runtime/logging/log.h"
#include "testing/fixtures/devbroker.h"
#include "testing/fixtures/kafka_cluster.h"

namespace op::kafka {
namespace {

using namespace std::chrono_literals;
using op::testing::WaitUntil;

// The broker ("dev" or "apache") and the workers (concurrency 1 or 4): the
// guarantees are the same for every pair.
using Param = std::tuple<std::string, int>;

class KafkaTest : public ::testing::TestWithParam<Param> {
 protected:
  static std::vector<std::string> ExtraTopics() {
    std::vector<std::string> topics;
    for (int c : {1, 4})
      for (std::string t : {"t.roundtrip", "t.poison", "t.retry", "t.uncommitted", "t.pause", "t.parallel", "t.batch", "t.xbatch"}) {
        topics.push_back(t + ".c" + std::to_string(c));
        if (t == "t.poison" || t == "t.batch" || t == "t.xbatch") topics.push_back(t + ".c" + std::to_string(c) + ".DLT");
      }
    return topics;
  }
  static void SetUpTestSuite() {
    testing::DevBroker::Options d;
    d.extra_topics = ExtraTopics();
    dev_ = new testing::DevBroker(d);
    dev_->Start();
    testing::KafkaCluster::Options a;
    a.extra_topics = ExtraTopics();
    apache_ = new testing::KafkaCluster(a);
    apache_->Start();
  }
  static void TearDownTestSuite() {
    delete dev_;
    delete apache_;
  }

  static std::string Bootstrap() { return std::get<0>(GetParam()) == "dev" ? dev_->Bootstrap() : apache_->Bootstrap(); }
  static int Concurrency() { return std::get<1>(GetParam()); }
  ProducerOptions POpts() {
    ProducerOptions p;
    p.bootstrap_servers = Bootstrap();
    return p;
  }
  // Per-concurrency topic and group names: the runs do not see each other's records.
  std::string T(const std::string& topic) const { return topic + ".c" + std::to_string(Concurrency()); }
  std::string G(const std::string& group) const { return group.empty() ? group : group + ".c" + std::to_string(Concurrency()); }
  ConsumerOptions COpts(const std::string& topic, const std::string& group) {
    ConsumerOptions c;
    c.bootstrap_servers = Bootstrap();
    c.group_id = G(group);
    c.topics = {T(topic)};
    c.concurrency = Concurrency();
    c.retry_backoff_initial = 20ms;
    c.retry_backoff_max = 100ms;
    c.session_timeout = 6s;
    return c;
  }
  static testing::DevBroker* dev_;
  static testing::KafkaCluster* apache_;
};
testing::DevBroker* KafkaTest::dev_ = nullptr;
testing::KafkaCluster* KafkaTest::apache_ = nullptr;

TEST_P(KafkaTest, RoundTripKeepsKeysHeadersAndPerKeyOrder) {
  Producer producer(POpts());
  for (int i = 0; i < 30; ++i) {
    auto rep = producer.SendSync({T("t.roundtrip"), "order-" + std::to_string(i % 3), std::to_string(i),
                                  {{"event_type", "OrderCreated"}, {"n", std::to_string(i)}}});
    ASSERT_TRUE(rep.ok) << rep.error;
  }
  std::mutex mu;
  std::map<std::string, std::vector<int>> by_key;
  std::map<std::string, std::set<int32_t>> partitions;
  Consumer consumer(COpts("t.roundtrip", "g-roundtrip"), [&](const InRecord& r) {
    std::lock_guard lock(mu);
    EXPECT_EQ(r.Header("event_type"), "OrderCreated");
    EXPECT_EQ(r.Header("n"), r.value);
    by_key[r.key].push_back(std::stoi(r.value));
    partitions[r.key].insert(r.partition);
  }, &producer);
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 30; }, 30s)) << consumer.Processed();
  std::lock_guard lock(mu);
  for (auto& [key, values] : by_key) {
    EXPECT_EQ(values.size(), 10u);
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key << " out of order";
    EXPECT_EQ(partitions[key].size(), 1u) << "one key, one partition";
  }
}

TEST_P(KafkaTest, PoisonRecordGoesToTheDeadLetterTopicAndThePartitionMovesOn) {
  Producer producer(POpts());
  for (std::string v : {"good-1", "poison", "good-2"})
    ASSERT_TRUE(producer.SendSync({T("t.poison"), "same-key", v, {}}).ok);
  std::vector<std::string> handled;
  std::mutex mu;
  Consumer consumer(COpts("t.poison", "g-poison"), [&](const InRecord& r) {
    if (r.value == "poison") throw PoisonRecord("cannot decode: not a protobuf Envelope");
    std::lock_guard lock(mu);
    handled.push_back(r.value);
  }, &producer);
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 2 && consumer.DeadLettered() == 1; }, 30s));
  EXPECT_EQ(handled, (std::vector<std::string>{"good-1", "good-2"}));

  std::vector<InRecord> dlt;
  ConsumerOptions dlt_opts = COpts("t.poison", "g-poison-dlt");
  dlt_opts.topics = {T("t.poison") + ".DLT"};
  Consumer reader(dlt_opts, [&](const InRecord& r) {
    std::lock_guard lock(mu);
    dlt.push_back(r);
  }, nullptr);
  reader.Start();
  ASSERT_TRUE(WaitUntil([&] { return reader.Processed() == 1; }, 30s));
  std::lock_guard lock(mu);
  EXPECT_EQ(dlt[0].value, "poison");
  EXPECT_EQ(dlt[0].key, "same-key");
  auto origin = ReadDeadLetterHeaders(dlt[0].headers);
  EXPECT_EQ(origin.topic, T("t.poison"));
  EXPECT_EQ(origin.offset, 1);
  EXPECT_EQ(dlt[0].Header(kDltOriginalOffset), std::string("\0\0\0\0\0\0\0\1", 8)) << "a Java long, big-endian";
  EXPECT_EQ(origin.group, G("g-poison"));
  EXPECT_EQ(origin.exception_message, "cannot decode: not a protobuf Envelope");
}

TEST_P(KafkaTest, BatchesAreAllOrNothingAndFallBackToOneByOne) {
  // 40 records of one key queued before the consumer starts, a poison one at
  // #17: batches form behind each other; the batch holding the poison fails as
  // a whole and its records go one by one (the poison to the dead letters).
  Producer producer(POpts());
  std::vector<std::string> goods;
  for (int i = 0; i < 40; ++i) {
    std::string v = i == 17 ? "poison" : "v" + std::to_string(i);
    if (i != 17) goods.push_back(v);
    ASSERT_TRUE(producer.SendSync({T("t.batch"), "one-key", v, {}}).ok);
  }
  std::mutex mu;
  std::vector<std::string> applied;  // what took effect, in order
  size_t largest = 0;
  auto opts = COpts("t.batch", "g-batch");
  opts.max_batch = 8;
  Consumer consumer(opts, [&](const InRecord& r) {
    if (r.value == "poison") throw PoisonRecord("not an event");
    std::lock_guard lock(mu);
    applied.push_back(r.value);
  }, &producer);
  consumer.SetBatchHandler([&](const std::vector<const InRecord*>& run) {
    for (const auto* r : run)
      if (r->value == "poison") throw std::runtime_error("a poison record in the batch");  // nothing applied
    std::lock_guard lock(mu);
    largest = std::max(largest, run.size());
    for (const auto* r : run) applied.push_back(r->value);
  });
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 39 && consumer.DeadLettered() == 1; }, 30s))
      << consumer.Processed() << " processed, " << consumer.DeadLettered() << " dead-lettered";
  std::lock_guard lock(mu);
  EXPECT_EQ(applied, goods) << "each once, in order, the poison left out";
  EXPECT_GT(consumer.Batches(), 0u) << "queued records of one partition went in batches";
  EXPECT_LE(largest, 8u) << "max_batch bounds a batch";
}

TEST_P(KafkaTest, BatchesSpanPartitionsAndAFailureHoldsBackOnlyItsOwnPartition) {
  // Records over 60 keys (every partition), produced one by one once the
  // consumer has its partitions, so they arrive interleaved; every handler
  // call waits at a gate until the test opens it for the record's phase.
  // Phase 1, all good: a worker's first batch holds what had arrived when it
  // woke, its queue collects the rest of its partitions meanwhile, and its
  // next batch (max 200) takes that whatever the partition (one worker has
  // all six; four workers share six, so some worker has two): a batch spans
  // partitions and takes effect.
  // Phase 2: first one blocker record per partition, and the test waits
  // until every worker that handled phase 1 is held in a handler; then 60
  // good records and a poison and a flaky one on partitions that got good
  // ones too. Opened, each worker's next batch is all of that: the batch
  // holding a failing record throws, its records go one by one, and only the
  // failing record's partition waits behind it. (Fetches come in bursts: a
  // record produced last could otherwise be alone in a batch of its own.)
  Producer producer(POpts());
  std::mutex mu;
  std::atomic<int> flaky_failures{2};
  std::atomic<int> gate{0};  // handler calls for phase p wait until gate >= p
  std::mutex threads_mu;
  std::set<std::thread::id> workers, held;  // threads that handled phase 1; those held by a blocker
  auto wait_gate = [&](const std::string& v) {
    int phase = v.rfind("a", 0) == 0 ? 1 : 2;
    {
      std::lock_guard lock(threads_mu);
      if (phase == 1) workers.insert(std::this_thread::get_id());
      if (v.rfind("block", 0) == 0) held.insert(std::this_thread::get_id());
    }
    for (int g = gate.load(); g < phase; g = gate.load()) gate.wait(g);
  };
  std::map<int32_t, std::vector<int64_t>> offsets;  // what took effect, per partition, in order
  std::map<int32_t, std::vector<std::string>> keys_of;  // partition -> keys seen there in phase 1
  std::multiset<std::string> applied;
  size_t widest = 0;  // most partitions in one batch that took effect
  auto apply = [&](const InRecord& r) {
    offsets[r.partition].push_back(r.offset);
    applied.insert(r.value);
    if (r.value.rfind("a", 0) == 0) keys_of[r.partition].push_back(r.key);
  };
  auto opts = COpts("t.xbatch", "g-xbatch");
  opts.max_batch = 200;
  Consumer consumer(opts, [&](const InRecord& r) {
    wait_gate(r.value);
    if (r.value == "poison") throw PoisonRecord("not an event");
    if (r.value == "flaky" && flaky_failures.fetch_sub(1) > 0) throw std::runtime_error("lock wait timeout");
    std::lock_guard lock(mu);
    apply(r);
  }, &producer);
  std::atomic<int> wide_failures{0};  // batches of several records that held a failing one
  consumer.SetBatchHandler([&](const std::vector<const InRecord*>& run) {
    for (const auto* r : run) wait_gate(r->value);
    std::set<int32_t> partitions;
    for (const auto* r : run) {
      if (r->value == "poison" || (r->value == "flaky" && flaky_failures.load() > 0)) {
        if (run.size() > 1) ++wide_failures;
        throw std::runtime_error("the batch holds a record that fails");  // nothing applied
      }
      partitions.insert(r->partition);
    }
    std::lock_guard lock(mu);
    widest = std::max(widest, partitions.size());
    for (const auto* r : run) apply(*r);
  });
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Lag().size() == 6; }, 30s)) << "the consumer was not assigned its partitions";
  auto fetched_all = [&] {
    return WaitUntil([&] {
      auto lag = consumer.Lag();
      int64_t behind = 0;
      for (auto& l : lag) behind += l.lag;
      return lag.size() == 6 && behind == 0;
    }, 30s);
  };
  auto send = [&](const std::string& key, const std::string& value) {
    return producer.SendSync({T("t.xbatch"), key, value, {}}).ok;
  };
  std::set<std::string> goods;
  for (int i = 0; i < 60; ++i) {
    goods.insert("a" + std::to_string(i));
    ASSERT_TRUE(send("key-" + std::to_string(i), "a" + std::to_string(i)));
  }
  ASSERT_TRUE(fetched_all()) << "the consumer did not fetch phase 1";
  gate = 1;
  gate.notify_all();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 60; }, 30s)) << consumer.Processed() << " processed";
  std::map<int32_t, std::vector<std::string>> partitions;
  {
    std::lock_guard lock(mu);
    EXPECT_GE(widest, 2u) << "a batch carried records of several partitions";
    partitions = keys_of;
  }
  ASSERT_EQ(partitions.size(), 6u) << "60 keys reach every partition";
  for (auto& [p, keys] : partitions) {
    goods.insert("block" + std::to_string(p));
    ASSERT_TRUE(send(keys.front(), "block" + std::to_string(p)));
  }
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(threads_mu);
    return held == workers;
  }, 30s)) << "a worker did not take its blocker";
  for (int i = 0; i < 60; ++i) {
    goods.insert("b" + std::to_string(i));
    ASSERT_TRUE(send("key-" + std::to_string(i), "b" + std::to_string(i)));
  }
  ASSERT_TRUE(send(partitions.begin()->second.front(), "poison"));
  ASSERT_TRUE(send(partitions.rbegin()->second.front(), "flaky"));
  goods.insert("flaky");
  ASSERT_TRUE(fetched_all()) << "the consumer did not fetch phase 2";
  gate = 2;
  gate.notify_all();
  const size_t total = goods.size();  // 60 + 6 blockers + 60 + flaky
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == total && consumer.DeadLettered() == 1; }, 30s))
      << consumer.Processed() << " processed, " << consumer.DeadLettered() << " dead-lettered";
  std::lock_guard lock(mu);
  EXPECT_EQ(std::set<std::string>(applied.begin(), applied.end()), goods);
  EXPECT_EQ(applied.size(), goods.size()) << "each took effect once";
  for (auto& [partition, seen] : offsets)
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "partition " << partition << " out of order";
  EXPECT_GE(consumer.Retried(), 2u);
  // Every batch that held a failing record was split, and only those. (One
  // that came alone, as a fetch can bring it under load, went one by one
  // from the start: nothing to split.)
  EXPECT_EQ(consumer.BatchesSplit(), uint64_t(wide_failures.load()));
}

TEST_P(KafkaTest, TransientFailureIsRetriedInOrderNeverSkipped) {
  Producer producer(POpts());
  for (std::string v : {"a", "b", "c"}) ASSERT_TRUE(producer.SendSync({T("t.retry"), "k", v, {}}).ok);
  std::atomic<int> failures_left{3};
  std::vector<std::string> seen;
  std::mutex mu;
  Consumer consumer(COpts("t.retry", "g-retry"), [&](const InRecord& r) {
    if (r.value == "b" && failures_left.fetch_sub(1) > 0) throw std::runtime_error("database unavailable");
    std::lock_guard lock(mu);
    seen.push_back(r.value);
  }, &producer);
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 3; }, 30s));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(consumer.Retried(), 3u);
  EXPECT_EQ(consumer.DeadLettered(), 0u);
}

TEST_P(KafkaTest, FailedRecordStaysUncommittedForTheNextConsumer) {
  Producer producer(POpts());
  ASSERT_TRUE(producer.SendSync({T("t.uncommitted"), "k", "first", {}}).ok);
  ASSERT_TRUE(producer.SendSync({T("t.uncommitted"), "k", "second", {}}).ok);
  {
    Consumer failing(COpts("t.uncommitted", "g-uncommitted"), [&](const InRecord& r) {
      if (r.value == "second") throw std::runtime_error("handler failed mid-transaction");
    }, &producer);
    failing.Start();
    ASSERT_TRUE(WaitUntil([&] { return failing.Processed() == 1 && failing.Retried() >= 1; }, 30s));
  }  // stops and leaves the group
  std::vector<std::string> seen;
  std::mutex mu;
  Consumer next(COpts("t.uncommitted", "g-uncommitted"), [&](const InRecord& r) {
    std::lock_guard lock(mu);
    seen.push_back(r.value);
  }, &producer);
  next.Start();
  ASSERT_TRUE(WaitUntil([&] { return next.Processed() == 1; }, 30s));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"second"})) << "committed 'first' is not redelivered; 'second' is";
}

TEST_P(KafkaTest, PauseStopsDeliveryAndResumeCatchesUpWithLagReported) {
  Producer producer(POpts());
  metrics::MetricsRegistry metrics;
  Consumer consumer(COpts("t.pause", "g-pause"), [&](const InRecord&) {}, &producer, &metrics);
  consumer.Start();
  ASSERT_TRUE(producer.SendSync({T("t.pause"), "k", "warm-up", {}}).ok);
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 1; }, 30s));
  consumer.Pause();
  ASSERT_TRUE(WaitUntil([&] { return metrics.Scrape().find("kafka_consumer_paused{consumergroup=\"" + G("g-pause") + "\"} 1") != std::string::npos; }, 5s));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(producer.SendSync({T("t.pause"), "k", "v", {}}).ok);
  // Bounded observation window for a negative assertion: the loop polls every 100 ms.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(consumer.Processed(), 1u) << "nothing is delivered while paused";
  consumer.Resume();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 6; }, 30s));
  ASSERT_TRUE(WaitUntil([&] {
    auto lag = consumer.Lag();
    int64_t total = 0;
    for (auto& l : lag) total += l.lag;
    return !lag.empty() && total == 0;
  }, 10s));
  EXPECT_NE(metrics.Scrape().find("kafka_consumergroup_lag{consumergroup=\"" + G("g-pause") + "\",partition="), std::string::npos);
}

TEST_P(KafkaTest, InvalidConfigurationIsReportedNamingTheProperty) {
  ProducerOptions p = POpts();
  p.extra["acks"] = "sometimes";
  try {
    Producer bad(p);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'acks'"), std::string::npos) << e.what();
  }
  ConsumerOptions c = COpts("t.pause", "");
  EXPECT_THROW(Consumer(c, [](const InRecord&) {}, nullptr), std::runtime_error);
}

// Partitions are handled in parallel by the workers while each key keeps its order.
TEST_P(KafkaTest, PartitionsRunInParallelAndEachKeyKeepsItsOrder) {
  Producer producer(POpts());
  for (int i = 0; i < 120; ++i)
    ASSERT_TRUE(producer.SendSync({T("t.parallel"), "key-" + std::to_string(i % 12), std::to_string(i), {}}).ok);
  std::mutex mu;
  std::map<std::string, std::vector<int>> by_key;
  std::atomic<int> running{0}, most{0};
  Consumer consumer(COpts("t.parallel", "g-parallel"), [&](const InRecord& r) {
    int now = ++running;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {}
    std::this_thread::sleep_for(5ms);  // stands for the handler's transaction
    {
      std::lock_guard lock(mu);
      by_key[r.key].push_back(std::stoi(r.value));
    }
    --running;
  }, &producer);
  consumer.Start();
  ASSERT_TRUE(WaitUntil([&] { return consumer.Processed() == 120; }, 60s)) << consumer.Processed();
  std::lock_guard lock(mu);
  for (auto& [key, values] : by_key) {
    EXPECT_EQ(values.size(), 10u) << key;
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << key << " out of order";
  }
  if (Concurrency() == 1) EXPECT_EQ(most.load(), 1);
  else EXPECT_GE(most.load(), 2) << "partitions were handled one at a time";
}

INSTANTIATE_TEST_SUITE_P(Brokers, KafkaTest, ::testing::Combine(::testing::Values("dev", "apache"), ::testing::Values(1, 4)),
                         [](const ::testing::TestParamInfo<Param>& i) {
                           return std::get<0>(i.param) + "_c" + std::to_string(std::get<1>(i.param));
                         });

}  // namespace
}  // namespace op::kafka
