#pragma once
// Read-only cluster view for operators: brokers, topics with their partition
// leaders/replicas/ISR, and a consumer group's committed offsets and lag
// (high watermark − committed) per partition. Talks the Kafka protocol
// (Metadata, OffsetFetch, ListOffsets) through librdkafka, so it works the
// same against the dev broker and a real cluster.
//
// Threads: every call blocks the caller up to its timeout; one mutex
// serialises calls (the cached per-group handles are not shared otherwise).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace RdKafka {
class Producer;
class KafkaConsumer;
}  // namespace RdKafka

namespace op::kafka {

struct PartitionInfo {
  int32_t id = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas, isr;
  std::string error;  // empty when the partition is healthy
};
struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
  std::string error;
};
struct BrokerInfo {
  int32_t id = 0;
  std::string host;
  int port = 0;
};
struct ClusterInfo {
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;  // sorted by name; internal topics left out
};
struct GroupPartitionLag {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = -1;  // -1: the group has not committed on this partition
  int64_t high = -1;       // -1: unknown (the partition's leader did not answer)
  int64_t lag = -1;        // high − committed (from offset 0 when nothing is committed); -1 unknown
};
// Latest offset of each partition, by (topic, partition).
using Watermarks = std::map<std::pair<std::string, int32_t>, int64_t>;

class ClusterAdmin {
 public:
  // Throws std::runtime_error when the client cannot be created (bad config).
  // `extra`: librdkafka properties besides these (security: SecurityOptions::Properties()).
  explicit ClusterAdmin(std::string bootstrap_servers, std::string client_id = "orderplatform-admin",
                        std::map<std::string, std::string> extra = {});
  ~ClusterAdmin();
  // Throws std::runtime_error when no broker answers within `timeout`.
  ClusterInfo Describe(std::chrono::milliseconds timeout);
  // High watermarks of every partition of `topics`, in one batched ListOffsets
  // round per leader; partitions whose leader does not answer are left out.
  Watermarks HighWatermarks(const ClusterInfo& cluster, const std::vector<std::string>& topics,
                            std::chrono::milliseconds timeout);
  // Lag of `group` on every partition of `topics` (one OffsetFetch); throws
  // std::runtime_error when the group coordinator does not answer.
  std::vector<GroupPartitionLag> GroupLag(const std::string& group, const ClusterInfo& cluster,
                                          const std::vector<std::string>& topics, const Watermarks& high,
                                          std::chrono::milliseconds timeout);

 private:
  RdKafka::KafkaConsumer& GroupHandle(const std::string& group);
  std::string bootstrap_, client_id_;
  std::map<std::string, std::string> extra_;
  std::mutex mu_;
  std::unique_ptr<RdKafka::Producer> meta_;
  std::map<std::string, std::unique_ptr<RdKafka::KafkaConsumer>> groups_;
};

}  // namespace op::kafka
