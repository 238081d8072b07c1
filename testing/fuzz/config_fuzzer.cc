// A configuration file → Config::Load against every program's runtime schema
// (database, Kafka, server, discovery, auth, resilience), then every declared
// key read with its type, as the components do at start-up. A bad file must
// be a ConfigError naming the key; nothing else may escape.
#include <string>

#include "runtime/config/config.h"
#include "runtime/service/service.h"
#include "runtime/service/startup.h"

namespace {

const op::config::Schema& TheSchema() {
  static auto* s = [] {
    auto* schema = new op::config::Schema();
    op::ServiceSpec spec;
    spec.name = "fuzz-service";
    spec.uses_database = true;
    spec.uses_kafka = true;
    op::DeclareRuntimeSchema(*schema, spec);
    return schema;
  }();
  return *s;
}

void ReadAll(const op::config::Config& c) {
  using op::config::Type;
  for (const auto& spec : TheSchema().Specs()) {
    if (spec.key.find('*') != std::string::npos || !c.Has(spec.key)) continue;
    switch (spec.type) {
      case Type::kInt: (void)c.GetInt(spec.key); break;
      case Type::kBool: (void)c.GetBool(spec.key); break;
      case Type::kDouble: (void)c.GetDouble(spec.key); break;
      case Type::kDuration: (void)c.GetDuration(spec.key); break;
      case Type::kStringList: (void)c.GetList(spec.key); break;
      case Type::kString: (void)c.GetString(spec.key); break;
      case Type::kYaml: break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  try {
    auto c = op::config::Config::Load(TheSchema(), yaml, {}, "fuzz.yaml");
    ReadAll(c);
  } catch (const op::config::ConfigError&) {
  }
  return 0;
}
