#pragma once
// Eureka's wire formats: the JSON its Jackson codec writes ({"instance": {...,
// "port": {"$": 8080, "@enabled": "true"}}}) and the XML its XStream codec
// writes (what a client gets without Accept: application/json, and what
// Prometheus's eureka_sd_configs decodes).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "registry/instance_registry.h"

namespace op::registry {

nlohmann::json InstanceJson(const InstanceInfo& i);
nlohmann::json ApplicationJson(const std::string& name, const std::vector<InstanceInfo>& instances);
nlohmann::json ApplicationsJson(const std::vector<InstanceInfo>& all, int64_t version, const std::string& hashcode);

std::string InstanceXml(const InstanceInfo& i);
std::string ApplicationXml(const std::string& name, const std::vector<InstanceInfo>& instances);
std::string ApplicationsXml(const std::vector<InstanceInfo>& all, int64_t version, const std::string& hashcode);

// Parses a register body ({"instance": {...}}, Eureka JSON); throws
// std::invalid_argument naming the field.
InstanceInfo ParseInstanceJson(const nlohmann::json& body, const std::string& app_from_path);

std::string XmlEscape(const std::string& s);

}  // namespace op::registry
