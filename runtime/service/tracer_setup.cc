#include "runtime/service/tracer_setup.h"

#include "runtime/discovery/eureka_client.h"

namespace op {

void DeclareTracingSchema(config::Schema& s) {
  s.Add("tracing.zipkin.endpoint", config::Type::kString, "",
        "Zipkin's span API, e.g. http://127.0.0.1:9411/api/v2/spans (empty: no tracing)");
  s.Add(config::KeySpec{"tracing.sampling-probability", config::Type::kDouble, "1.0",
                        "share of the traces starting here that are recorded (callers' decisions are followed)", 0, 1});
  s.Add(config::KeySpec{"tracing.max-queued-spans", config::Type::kInt, "10000",
                        "spans waiting for Zipkin at most; more are dropped and counted", 100, 1000000});
}

std::unique_ptr<tracing::Tracer> MakeTracer(const config::Config& c, http::HttpClient& client,
                                            metrics::MetricsRegistry& metrics) {
  const std::string endpoint = c.GetString("tracing.zipkin.endpoint");
  if (endpoint.empty()) return nullptr;
  if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
    throw config::ConfigError("key 'tracing.zipkin.endpoint' must be an http(s) URL");  // the value may hold a credential
  // Credentials in the URL become HTTP Basic, as for the registry's URLs;
  // the endpoint the tracer keeps (and logs) is the URL without them.
  auto split = discovery::SplitCredentials(endpoint);
  tracing::TracerOptions o;
  o.service = c.GetString("service.name");
  o.endpoint = split.url;
  o.sampling_probability = c.GetDouble("tracing.sampling-probability");
  o.max_queued_spans = size_t(c.GetInt("tracing.max-queued-spans"));
  auto send = [&client, timeout = o.send_timeout, authorization = split.authorization](
                  const std::string& url, const std::string& body, std::string* error) {
    http::ClientRequest req{"POST", url, {}, body, timeout};
    req.headers.Set("Content-Type", "application/json");
    if (!authorization.empty()) req.headers.Set("Authorization", authorization);
    auto r = client.Send(req);
    if (r.ok() && r.status / 100 == 2) return true;
    *error = r.ok() ? "HTTP " + std::to_string(r.status) : r.error_message;
    return false;
  };
  return std::make_unique<tracing::Tracer>(o, send, &metrics);
}

}  // namespace op
