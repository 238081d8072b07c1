// A minimal service on the runtime, used by the lifecycle tests: it accepts a
// "note" over HTTP (state + OrderCreated event in one transaction, with
// Idempotency-Key), consumes its own events with the guard, and counts them.
#include "runtime/core/uuid.h"
#include "runtime/logging/log.h"
#include "runtime/service/service.h"

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "demo-service";
  spec.default_port = 8099;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = {
      {1, "notes", "CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, text VARCHAR(200) NOT NULL, seen INT NOT NULL DEFAULT 0)"},
  };
  spec.declare_config = [](op::config::Schema& s) {
    s.Add(op::config::KeySpec{"demo.max-text", op::config::Type::kInt, "200", "longest note", 1, 200});
  };
  return op::Service::Run(spec, argc, argv, [](op::Service& svc) -> std::unique_ptr<op::ServiceState> {
    const int64_t max_text = svc.config().GetInt("demo.max-text");
    svc.router().Post("/notes", op::http::Access::Public(), svc.idempotency().Wrap("POST /notes", [&svc, max_text](op::http::Request& req) {
      auto body = req.JsonBody();
      op::http::Validation v;
      if (!body.contains("text") || !body["text"].is_string() || body["text"].get<std::string>().empty())
        v.Add("text", "must be a non-empty string");
      else if (int64_t(body["text"].get<std::string>().size()) > max_text)
        v.Add("text", "must be at most " + std::to_string(max_text) + " characters");
      v.ThrowIfInvalid();
      auto e = op::events::NewEnvelope(op::NewUuid(), "demo-service");
      auto* oc = e.mutable_order_created();  // a valid event, as every consumer checks (events::Validate)
      oc->set_customer_id("demo");
      auto* item = oc->add_items();
      item->set_sku("NOTE");
      item->set_quantity(1);
      oc->mutable_total()->set_currency("EUR");
      op::events::SealEventType(e);
      svc.db().Transact([&](op::db::Session& s) {
        s.Exec("INSERT INTO notes (id, text) VALUES (?, ?)", e.order_id(), body["text"].get<std::string>());
        op::outbox::EnqueueEvent(s, e);
      });
      svc.outbox().Wake();
      auto resp = op::http::Response::Json(201, {{"id", e.order_id()}});
      resp.headers.Set("Location", "/notes/" + e.order_id());
      return resp;
    }));
    svc.router().Get("/notes/{id}", op::http::Access::Public(), [&svc](op::http::Request& req) {
      auto rows = svc.db().Query("SELECT id, text, seen FROM notes WHERE id = ?", req.PathParam("id"));
      if (!rows.Next()) throw op::http::HttpError(404, "no note " + req.PathParam("id"));
      return op::http::Response::Json(200, {{"id", rows.String("id")}, {"text", rows.String("text")}, {"seen", rows.Int("seen")}});
    });
    svc.HandleEvents({"order.events"}, [](op::db::Session& s, const op::events::Envelope& e) {
      s.Exec("UPDATE notes SET seen = seen + 1 WHERE id = ?", e.order_id());
      op::log::Info("note seen");  // carries the event's ids from the runtime's log context
    });
    return nullptr;  // the handlers need nothing of their own
  });
}
