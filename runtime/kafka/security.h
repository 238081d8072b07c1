#pragma once
// How the platform's Kafka clients authenticate and encrypt: the settings
// Spring Kafka users know (spring.kafka.security.protocol,
// spring.kafka.properties.sasl.mechanism, ...ssl.truststore) under
// `kafka.security.*`, `kafka.sasl.*` and `kafka.ssl.*`, turned into
// librdkafka properties for every producer, consumer and admin client.
// The password is never logged.
#include <map>
#include <string>

#include "runtime/config/config.h"

namespace op::kafka {

struct SecurityOptions {
  std::string protocol = "PLAINTEXT";  // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
  std::string sasl_mechanism = "SCRAM-SHA-512";  // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string sasl_username, sasl_password;
  std::string ssl_ca_location;           // PEM file of the CAs to trust ("": the system's)
  std::string ssl_certificate_location;  // a client certificate (mutual TLS), PEM
  std::string ssl_key_location, ssl_key_password;
  bool ssl_verify_hostname = true;

  static void DeclareSchema(config::Schema& s);
  // Throws config::ConfigError naming the key when the settings do not fit together.
  static SecurityOptions FromConfig(const config::Config& c);
  bool UsesSasl() const { return protocol.rfind("SASL_", 0) == 0; }
  bool UsesTls() const { return protocol == "SSL" || protocol == "SASL_SSL"; }
  std::map<std::string, std::string> Properties() const;
};

}  // namespace op::kafka
