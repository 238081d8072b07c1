#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "runtime/core/bounded_cache.h"
#include "runtime/core/clock.h"
#include "runtime/core/time_format.h"
#include "runtime/core/trace_context.h"
#include "runtime/core/uuid.h"

namespace op {
namespace {

TEST(TimeFormat, FormatsUtcWithMilliseconds) {
  using namespace std::chrono;
  auto t = sys_days(year{2026} / 11 / 25) + hours(1) + minutes(2) + seconds(3) + milliseconds(45);
  EXPECT_EQ(FormatRfc3339(time_point_cast<system_clock::duration>(t)), "2026-11-25T01:02:03.045Z");
  EXPECT_EQ(FormatSqlTimestamp(time_point_cast<system_clock::duration>(t)), "2026-11-25 01:02:03.045");
}

TEST(TimeFormat, ParseRoundTrips) {
  auto now = std::chrono::system_clock::now();
  auto text = FormatRfc3339(now);
  auto parsed = ParseRfc3339(text);
  ASSERT_TRUE(parsed.has_value()) << text;
  EXPECT_EQ(FormatRfc3339(*parsed), text);
}

TEST(TimeFormat, RejectsMalformed) {
  for (const char* bad : {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-11-25T01:02:03",
                          "2026-11-25T01:02:03+01:00", "2026-11-25T25:00:00Z", "2026-11-25T01:02:03.Z",
                          "2026-02-30T00:00:00Z", "abcd-11-25T01:02:03Z",
                          // a sign, or a year a 64-bit nanosecond clock cannot hold (found by events_fuzzer)
                          "-999-11-25T01:02:03Z", "2026--1-25T01:02:03Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(Uuid, GeneratesDistinctValidIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto id = NewUuid();
    EXPECT_TRUE(IsUuid(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400"));
}

TEST(Uuid, IsVersion4WithTheRfcVariantAndLowerCase) {
  for (int i = 0; i < 600; ++i) {  // crosses a refill of the per-thread pool
    auto id = NewUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef-"), std::string::npos) << id;
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[23], '-');
  }
}

TEST(Uuid, ThreadsAndAForkedChildNeverRepeatAnId) {
  std::set<std::string> ids;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto id = NewUuid();
        std::lock_guard lock(mu);
        ids.insert(id);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 2000u);

  // The parent's pool is half used; a child must not hand out the same bytes.
  NewUuid();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    std::string id = NewUuid();
    (void)!write(fds[1], id.data(), id.size());
    _exit(0);
  }
  close(fds[1]);
  std::string parent_next = NewUuid();
  char buf[36];
  ASSERT_EQ(read(fds[0], buf, 36), 36);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  std::string child(buf, 36);
  EXPECT_NE(child, parent_next);
  EXPECT_EQ(ids.count(child), 0u);
}

TEST(BoundedCache, EvictsTheLeastRecentlyUsedBeyondItsCapacity) {
  BoundedCache<std::string, int> cache(2);
  cache.Put("a", 1);
  cache.Put("b", 2);
  EXPECT_EQ(cache.Get("a"), 1);  // a is now more recent than b
  cache.Put("c", 3);
  EXPECT_EQ(cache.Get("b"), std::nullopt);
  EXPECT_EQ(cache.Get("a"), 1);
  EXPECT_EQ(cache.Get("c"), 3);
  cache.Put("a", 10);  // replaces, does not grow
  EXPECT_EQ(cache.Size(), 2u);
  EXPECT_EQ(cache.Get("a"), 10);
  EXPECT_THROW((BoundedCache<int, int>(0)), std::invalid_argument);
}

TEST(BoundedCache, EntriesExpireTheirTtlAfterBeingPut) {
  ManualClock clock;
  BoundedCache<std::string, int> cache(10, std::chrono::seconds(5), clock);
  cache.Put("a", 1);
  clock.Advance(std::chrono::seconds(4));
  EXPECT_EQ(cache.Get("a"), 1);  // reading does not extend it
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  EXPECT_EQ(cache.Size(), 0u);
  cache.Put("a", 2);
  EXPECT_EQ(cache.Get("a"), 2);
}

TEST(ManualClock, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  auto t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(FormatRfc3339(clock.WallNow()).substr(0, 4), "2026");
}

TEST(TraceParent, ParsesValidatesAndMakesChildren) {
  auto tp = TraceParent::Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  auto child = tp->Child();
  EXPECT_EQ(child.trace_id, tp->trace_id);
  EXPECT_NE(child.span_id, tp->span_id);
  EXPECT_TRUE(TraceParent::Parse(child.ToString()));
  EXPECT_TRUE(TraceParent::Parse(TraceParent::New().ToString()));
  for (const char* bad : {"", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_FALSE(TraceParent::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace op
