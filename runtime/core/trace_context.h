#pragma once
// W3C Trace Context (traceparent: "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>").
#include <optional>
#include <string>
#include <string_view>

namespace op {

struct TraceParent {
  std::string trace_id;  // 32 lower-case hex
  std::string span_id;   // 16 lower-case hex
  std::string flags = "01";

  std::string ToString() const { return "00-" + trace_id + "-" + span_id + "-" + flags; }
  // Same trace, a new span id: what a callee or a produced event carries.
  TraceParent Child() const;
  static TraceParent New();
  static std::optional<TraceParent> Parse(std::string_view header);
};

}  // namespace op
