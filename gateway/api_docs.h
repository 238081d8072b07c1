#pragma once
// The public API's OpenAPI 3.1 document (gateway/openapi.yaml, compiled in),
// served where springdoc serves it: GET /v3/api-docs (JSON) and
// GET /v3/api-docs.yaml. Public, like springdoc's default. The document is
// converted once, at the first call; Schemathesis checks the running
// platform against it (testing/e2e/api_contract_test.cc).
#include <nlohmann/json.hpp>

#include <string_view>

#include "runtime/http/router.h"

namespace op::gateway {

// YAML 1.2 (core schema) to JSON: a plain scalar is null, a boolean, an
// integer or a float when it reads as one, a quoted scalar always a string.
nlohmann::json YamlToJson(std::string_view yaml);

const nlohmann::json& ApiDocs();
void MountApiDocs(http::Router& router);

}  // namespace op::gateway
