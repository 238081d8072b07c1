#pragma once
// The process's tracer from its configuration: spans to Zipkin at
// tracing.zipkin.endpoint (Spring's management.zipkin.tracing.endpoint), the
// traces that start here sampled at tracing.sampling-probability. No
// endpoint: no tracer, and no span is made.
#include <memory>

#include "runtime/config/config.h"
#include "runtime/http/client.h"
#include "runtime/metrics/metrics.h"
#include "runtime/tracing/tracing.h"

namespace op {

void DeclareTracingSchema(config::Schema& schema);
std::unique_ptr<tracing::Tracer> MakeTracer(const config::Config& config, http::HttpClient& client,
                                            metrics::MetricsRegistry& metrics);

}  // namespace op
