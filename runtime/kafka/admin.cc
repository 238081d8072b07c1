#include "runtime/kafka/admin.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <stdexcept>

namespace op::kafka {

namespace {
std::unique_ptr<RdKafka::Conf> BaseConf(const std::string& bootstrap, const std::string& client_id,
                                        const std::map<std::string, std::string>& extra) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  std::map<std::string, std::string> all = extra;
  all["bootstrap.servers"] = bootstrap;
  all["client.id"] = client_id;
  all["log_level"] = "3";
  for (const auto& [k, v] : all)
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) throw std::runtime_error(k + ": " + err);
  return conf;
}
}  // namespace

ClusterAdmin::ClusterAdmin(std::string bootstrap_servers, std::string client_id, std::map<std::string, std::string> extra)
    : bootstrap_(std::move(bootstrap_servers)), client_id_(std::move(client_id)), extra_(std::move(extra)) {
  auto conf = BaseConf(bootstrap_, client_id_, extra_);
  std::string err;
  meta_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!meta_) throw std::runtime_error("kafka admin client: " + err);
}

ClusterAdmin::~ClusterAdmin() {
  for (auto& [g, c] : groups_) c->close();
}

ClusterInfo ClusterAdmin::Describe(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  RdKafka::Metadata* md = nullptr;
  auto e = meta_->metadata(true, nullptr, &md, int(timeout.count()));
  std::unique_ptr<RdKafka::Metadata> owned(md);
  if (e != RdKafka::ERR_NO_ERROR || !md)
    throw std::runtime_error("no Kafka broker at " + bootstrap_ + " answered: " + RdKafka::err2str(e));
  ClusterInfo out;
  for (const auto* b : *md->brokers()) out.brokers.push_back({b->id(), b->host(), b->port()});
  std::sort(out.brokers.begin(), out.brokers.end(), [](auto& a, auto& b) { return a.id < b.id; });
  for (const auto* t : *md->topics()) {
    if (t->topic().rfind("__", 0) == 0) continue;
    TopicInfo ti{t->topic(), {}, t->err() ? RdKafka::err2str(t->err()) : ""};
    for (const auto* p : *t->partitions()) {
      PartitionInfo pi;
      pi.id = p->id();
      pi.leader = p->leader();
      pi.replicas.assign(p->replicas()->begin(), p->replicas()->end());
      pi.isr.assign(p->isrs()->begin(), p->isrs()->end());
      if (p->err()) pi.error = RdKafka::err2str(p->err());
      ti.partitions.push_back(std::move(pi));
    }
    std::sort(ti.partitions.begin(), ti.partitions.end(), [](auto& a, auto& b) { return a.id < b.id; });
    out.topics.push_back(std::move(ti));
  }
  std::sort(out.topics.begin(), out.topics.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

// A consumer handle with the group's id that never subscribes: it only asks
// the group coordinator for committed offsets (OffsetFetch), so it never joins
// the group or disturbs its assignment.
RdKafka::KafkaConsumer& ClusterAdmin::GroupHandle(const std::string& group) {
  auto& h = groups_[group];
  if (!h) {
    auto conf = BaseConf(bootstrap_, client_id_, extra_);
    std::string err;
    if (conf->set("group.id", group, err) != RdKafka::Conf::CONF_OK ||
        conf->set("enable.auto.commit", "false", err) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error("group.id: " + err);
    h.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!h) throw std::runtime_error("kafka admin client for group " + group + ": " + err);
  }
  return *h;
}

namespace {
std::vector<RdKafka::TopicPartition*> Partitions(const ClusterInfo& cluster, const std::vector<std::string>& topics) {
  std::vector<RdKafka::TopicPartition*> tps;
  for (const auto& t : cluster.topics)
    if (std::find(topics.begin(), topics.end(), t.name) != topics.end())
      for (const auto& p : t.partitions) tps.push_back(RdKafka::TopicPartition::create(t.name, p.id));
  return tps;
}
struct Owned {
  std::vector<RdKafka::TopicPartition*> v;
  ~Owned() { RdKafka::TopicPartition::destroy(v); }
};
}  // namespace

Watermarks ClusterAdmin::HighWatermarks(const ClusterInfo& cluster, const std::vector<std::string>& topics,
                                        std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  Owned tps{Partitions(cluster, topics)};
  // Timestamp -1 (OFFSET_END) asks ListOffsets for the latest offset.
  for (auto* tp : tps.v) tp->set_offset(RdKafka::Topic::OFFSET_END);
  Watermarks out;
  meta_->offsetsForTimes(tps.v, int(timeout.count()));
  for (auto* tp : tps.v)
    if (tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0) out[{tp->topic(), tp->partition()}] = tp->offset();
  return out;
}

std::vector<GroupPartitionLag> ClusterAdmin::GroupLag(const std::string& group, const ClusterInfo& cluster,
                                                      const std::vector<std::string>& topics, const Watermarks& high,
                                                      std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  auto& c = GroupHandle(group);
  Owned tps{Partitions(cluster, topics)};
  auto e = c.committed(tps.v, int(timeout.count()));
  if (e != RdKafka::ERR_NO_ERROR)
    throw std::runtime_error("committed offsets of group " + group + ": " + RdKafka::err2str(e));
  std::vector<GroupPartitionLag> out;
  for (auto* tp : tps.v) {
    GroupPartitionLag l;
    l.topic = tp->topic();
    l.partition = tp->partition();
    l.committed = tp->offset() >= 0 ? tp->offset() : -1;
    auto h = high.find({l.topic, l.partition});
    if (h != high.end()) {
      l.high = h->second;
      l.lag = std::max<int64_t>(0, l.high - std::max<int64_t>(0, l.committed));
    }
    out.push_back(l);
  }
  return out;
}

}  // namespace op::kafka
