// The platform's Kafka clients on a SASL_SSL listener of a real Apache Kafka
// cluster (SASL over TLS, with a CA the fixture makes): records go
// through with the right settings; a wrong password, an untrusted CA and
// settings that do not fit together each fail clearly, never by hanging; a
// service given a wrong password does not start, and says which setting.
// The mechanism is PLAIN: with SCRAM-SHA-512 the broker refuses the final
// proof of Debian's librdkafka 2.0.2 although Kafka's own Java client signs
// in with the same credential (docs/security.md).
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/config/config.h"
#include "runtime/kafka/consumer.h"
#include "runtime/kafka/producer.h"
#include "runtime/kafka/security.h"
#include "testing/fixtures/kafka_cluster.h"
#include "testing/fixtures/mariadb.h"

namespace op {
namespace {

using namespace std::chrono_literals;
using testing::WaitUntil;

class KafkaSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::KafkaCluster::Options o;
    o.nodes = 1;
    o.replication = 1;
    o.min_insync = 1;
    o.sasl_ssl = true;
    o.extra_topics = {"t.secure"};
    cluster_ = new testing::KafkaCluster(o);
    cluster_->Start();
  }
  static void TearDownTestSuite() { delete cluster_; }
  // A service's kafka settings as YAML, read the way every program reads them.
  static config::Config Config(const std::string& password, const std::string& ca) {
    config::Schema s;
    kafka::SecurityOptions::DeclareSchema(s);
    std::string yaml = "kafka:\n  security.protocol: SASL_SSL\n  sasl:\n    mechanism: PLAIN\n    username: " +
                       cluster_->SaslUser() + "\n    password: " + password + "\n  ssl.ca-location: " + ca + "\n";
    return config::Config::Load(s, yaml, {});
  }
  static kafka::ProducerOptions Producer(const kafka::SecurityOptions& sec) {
    kafka::ProducerOptions p;
    p.bootstrap_servers = cluster_->SecureBootstrap();
    for (auto& [k, v] : sec.Properties()) p.extra[k] = v;
    return p;
  }
  static testing::KafkaCluster* cluster_;
};
testing::KafkaCluster* KafkaSecurityTest::cluster_ = nullptr;

TEST_F(KafkaSecurityTest, RecordsGoThroughSaslSslWithTheRightSettings) {
  auto sec = kafka::SecurityOptions::FromConfig(Config(cluster_->SaslPassword(), cluster_->CaFile()));
  kafka::Producer producer(Producer(sec));
  std::string err;
  ASSERT_TRUE(producer.CheckConnectivity(10s, &err)) << err;
  auto rep = producer.SendSync({"t.secure", "k", "over TLS", {{"event_type", "Test"}}});
  ASSERT_TRUE(rep.ok) << rep.error;
  kafka::ConsumerOptions c;
  c.bootstrap_servers = cluster_->SecureBootstrap();
  c.group_id = "g-secure";
  c.topics = {"t.secure"};
  for (auto& [k, v] : sec.Properties()) c.extra[k] = v;
  std::atomic<int> got{0};
  kafka::Consumer consumer(c, [&](const kafka::InRecord& r) {
    EXPECT_EQ(r.value, "over TLS");
    ++got;
  }, &producer);
  consumer.Start();
  EXPECT_TRUE(WaitUntil([&] { return got == 1; }, 60s));
  consumer.Stop();
}

TEST_F(KafkaSecurityTest, AWrongPasswordIsAnAuthenticationErrorNamingTheSetting) {
  auto sec = kafka::SecurityOptions::FromConfig(Config("not-the-password", cluster_->CaFile()));
  kafka::Producer producer(Producer(sec));
  std::string err;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(producer.CheckConnectivity(10s, &err));
  EXPECT_TRUE(producer.AuthenticationFailed());
  EXPECT_NE(err.find("kafka.sasl.password"), std::string::npos) << err;
  EXPECT_EQ(err.find("not-the-password"), std::string::npos) << "the password is not repeated: " << err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 11s);
}

TEST_F(KafkaSecurityTest, AnUntrustedBrokerCertificateIsRefused) {
  auto sec = kafka::SecurityOptions::FromConfig(Config(cluster_->SaslPassword(), cluster_->UntrustedCaFile()));
  kafka::Producer producer(Producer(sec));
  std::string err;
  EXPECT_FALSE(producer.CheckConnectivity(5s, &err));
  EXPECT_FALSE(producer.AuthenticationFailed()) << "TLS fails before SASL is tried";
}

TEST_F(KafkaSecurityTest, SettingsThatDoNotFitTogetherAreConfigErrorsNamingTheKey) {
  config::Schema s;
  kafka::SecurityOptions::DeclareSchema(s);
  auto error_of = [&](const std::string& yaml) {
    try {
      kafka::SecurityOptions::FromConfig(config::Config::Load(s, yaml, {}));
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("kafka.security.protocol: TLS\n").find("kafka.security.protocol"), std::string::npos);
  EXPECT_NE(error_of("kafka.security.protocol: SASL_SSL\n").find("kafka.sasl.username"), std::string::npos);
  EXPECT_NE(error_of("kafka: {security.protocol: SASL_SSL, sasl: {username: u}}\n").find("kafka.sasl.password"), std::string::npos);
  EXPECT_NE(error_of("kafka: {security.protocol: SASL_SSL, sasl: {username: u, password: p, mechanism: GSSAPI}}\n").find("kafka.sasl.mechanism"),
            std::string::npos);
  EXPECT_NE(error_of("kafka.ssl.ca-location: /nonexistent.pem\n").find("kafka.ssl.ca-location"), std::string::npos)
      << "a CA with PLAINTEXT";
  EXPECT_NE(error_of("kafka: {security.protocol: SSL, ssl.ca-location: /nonexistent.pem}\n").find("no readable file"), std::string::npos);
}

// A service given a wrong password stops at start-up, naming the setting,
// well before its Kafka start-up timeout.
TEST_F(KafkaSecurityTest, AServiceWithAWrongPasswordFailsStartUpNamingTheSetting) {
  testing::MariaDbServer db;
  db.Start();
  const std::string dir = testing::MakeTempDir("ksec");
  std::ofstream(dir + "/payment.yaml") << "server:\n  port: " << testing::FreePort() << "\n  host: 127.0.0.1\n"
                                       << "mysql:\n  port: " << db.Port() << "\n  user: " << db.User() << "\n  password: "
                                       << db.Password() << "\n  database: payments_db\n  create-database: true\n"
                                       << "kafka:\n  bootstrap.servers: " << cluster_->SecureBootstrap()
                                       << "\n  security.protocol: SASL_SSL\n  sasl: {mechanism: PLAIN, username: " << cluster_->SaslUser()
                                       << ", password: wrong-one}\n  ssl.ca-location: " << cluster_->CaFile()
                                       << "\n  startup-timeout: 60s\n"
                                       << "discovery:\n  static: {identity-service: [http://127.0.0.1:1]}\n";
  testing::Process p({{testing::Runfile("services/payment/payment-service"), "--config", dir + "/payment.yaml"}, {}, dir + "/out.log"});
  p.Start();
  auto code = p.Wait(40s);
  ASSERT_TRUE(code.has_value()) << "it waits out its timeout instead:\n" << p.Output();
  EXPECT_NE(*code, 0);
  EXPECT_NE(p.Output().find("kafka.sasl.password"), std::string::npos) << p.Output();
  EXPECT_EQ(p.Output().find("wrong-one"), std::string::npos) << "the password is not logged";
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace op
