#include "gateway/api_docs.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <regex>

namespace op::gateway {

extern const char kOpenApiYaml[];  // openapi_yaml.cc, generated from openapi.yaml

namespace {

nlohmann::json Scalar(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() != "?") return s;  // quoted (or explicitly tagged): text
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex kInt("[-+]?[0-9]+"), kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kInt)) {
    int64_t v = 0;
    auto text = s[0] == '+' ? std::string_view(s).substr(1) : std::string_view(s);
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return v;
  }
  if (std::regex_match(s, kFloat)) return std::stod(s);
  return s;
}

nlohmann::json Convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = Convert(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(Convert(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return Scalar(node);
    default:
      return nullptr;
  }
}

}  // namespace

nlohmann::json YamlToJson(std::string_view yaml) { return Convert(YAML::Load(std::string(yaml))); }

const nlohmann::json& ApiDocs() {
  static const nlohmann::json doc = YamlToJson(kOpenApiYaml);
  return doc;
}

void MountApiDocs(http::Router& router) {
  router.Get("/v3/api-docs", http::Access::Public(), [](http::Request&) { return http::Response::Json(200, ApiDocs()); });
  router.Get("/v3/api-docs.yaml", http::Access::Public(), [](http::Request&) {
    http::Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "application/vnd.oai.openapi");  // springdoc's media type for the YAML form
    r.body = kOpenApiYaml;
    return r;
  });
}

}  // namespace op::gateway
