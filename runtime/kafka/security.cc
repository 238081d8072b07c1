#include "runtime/kafka/security.h"

#include <filesystem>
#include <set>

namespace op::kafka {

void SecurityOptions::DeclareSchema(config::Schema& s) {
  s.Add("kafka.security.protocol", config::Type::kString, "PLAINTEXT", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
  s.Add("kafka.sasl.mechanism", config::Type::kString, "SCRAM-SHA-512", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
  s.Add("kafka.sasl.username", config::Type::kString, "", "SASL user (with a SASL_ protocol)");
  s.Add("kafka.sasl.password", config::Type::kString, "", "SASL password (secret: never logged)");
  s.Add("kafka.ssl.ca-location", config::Type::kString, "", "PEM file of the CAs that sign the brokers' certificates (default: the system's)");
  s.Add("kafka.ssl.certificate-location", config::Type::kString, "", "client certificate for mutual TLS (PEM)");
  s.Add("kafka.ssl.key-location", config::Type::kString, "", "the client certificate's private key (PEM)");
  s.Add("kafka.ssl.key-password", config::Type::kString, "", "the private key's password (secret: never logged)");
  s.Add("kafka.ssl.verify-hostname", config::Type::kBool, "true", "check the broker's certificate names the host dialled");
}

SecurityOptions SecurityOptions::FromConfig(const config::Config& c) {
  SecurityOptions o;
  o.protocol = c.GetString("kafka.security.protocol");
  o.sasl_mechanism = c.GetString("kafka.sasl.mechanism");
  o.sasl_username = c.GetString("kafka.sasl.username");
  o.sasl_password = c.GetString("kafka.sasl.password");
  o.ssl_ca_location = c.GetString("kafka.ssl.ca-location");
  o.ssl_certificate_location = c.GetString("kafka.ssl.certificate-location");
  o.ssl_key_location = c.GetString("kafka.ssl.key-location");
  o.ssl_key_password = c.GetString("kafka.ssl.key-password");
  o.ssl_verify_hostname = c.GetBool("kafka.ssl.verify-hostname");
  auto fail = [](const std::string& key, const std::string& why) { throw config::ConfigError("key '" + key + "' " + why); };
  static const std::set<std::string> protocols = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"};
  static const std::set<std::string> mechanisms = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
  if (!protocols.count(o.protocol)) fail("kafka.security.protocol", "must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL: got '" + o.protocol + "'");
  if (o.UsesSasl()) {
    if (!mechanisms.count(o.sasl_mechanism))
      fail("kafka.sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512: got '" + o.sasl_mechanism + "'");
    if (o.sasl_username.empty()) fail("kafka.sasl.username", "must be set with kafka.security.protocol " + o.protocol);
    if (o.sasl_password.empty()) fail("kafka.sasl.password", "must be set with kafka.security.protocol " + o.protocol);
  }
  for (auto [key, path] : {std::pair<const char*, const std::string*>{"kafka.ssl.ca-location", &o.ssl_ca_location},
                           {"kafka.ssl.certificate-location", &o.ssl_certificate_location},
                           {"kafka.ssl.key-location", &o.ssl_key_location}}) {
    if (path->empty()) continue;
    if (!o.UsesTls()) fail(key, "needs kafka.security.protocol SSL or SASL_SSL (it is " + o.protocol + ")");
    if (!std::filesystem::is_regular_file(*path)) fail(key, "names no readable file: '" + *path + "'");
  }
  if (o.ssl_certificate_location.empty() != o.ssl_key_location.empty())
    fail("kafka.ssl.key-location", "and kafka.ssl.certificate-location go together (mutual TLS)");
  return o;
}

std::map<std::string, std::string> SecurityOptions::Properties() const {
  std::map<std::string, std::string> p = {{"security.protocol", protocol}};
  if (UsesSasl()) {
    p["sasl.mechanisms"] = sasl_mechanism;
    p["sasl.username"] = sasl_username;
    p["sasl.password"] = sasl_password;
  }
  if (UsesTls()) {
    if (!ssl_ca_location.empty()) p["ssl.ca.location"] = ssl_ca_location;
    if (!ssl_certificate_location.empty()) p["ssl.certificate.location"] = ssl_certificate_location;
    if (!ssl_key_location.empty()) p["ssl.key.location"] = ssl_key_location;
    if (!ssl_key_password.empty()) p["ssl.key.password"] = ssl_key_password;
    p["ssl.endpoint.identification.algorithm"] = ssl_verify_hostname ? "https" : "none";
  }
  return p;
}

}  // namespace op::kafka
