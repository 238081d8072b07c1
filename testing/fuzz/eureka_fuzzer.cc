// A registration body → the depth-limited JSON parser → ParseInstanceJson →
// ValidateInstance → the JSON and XML encoders, as the registry does with
// every POST /eureka/apps/{app} and every peer's batch. Refusals are the
// documented exceptions; anything else escaping is a finding. What passes
// validation must encode to well-formed output with no raw '<' from a value.
#include <cstdlib>
#include <string>

#include "registry/eureka_codec.h"
#include "registry/validation.h"
#include "runtime/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = op::ParseJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!body) return 0;
  op::registry::InstanceInfo info;
  try {
    info = op::registry::ParseInstanceJson(*body, "FUZZ-APP");
    op::registry::ValidateInstance(info, 1'800'000'000'000);
  } catch (const nlohmann::json::exception&) {
    return 0;
  } catch (const std::invalid_argument&) {
    return 0;
  }
  (void)op::registry::InstanceJson(info).dump();
  std::string xml = op::registry::InstanceXml(info);
  if (xml.find("<instance>") != 0) std::abort();
  for (const auto& [k, v] : info.metadata)
    if (!v.empty() && v.find_first_of("<&") != std::string::npos && xml.find(">" + v + "<") != std::string::npos)
      std::abort();  // a metadata value went out unescaped
  return 0;
}
