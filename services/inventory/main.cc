// inventory-service: the product catalog with prices and stock (http_api.h),
// and the saga's stock steps: reserve, sell, release (event_handlers.h).
#include "events/topics.h"
#include "runtime/service/service.h"
#include "services/inventory/event_handlers.h"
#include "services/inventory/http_api.h"
#include "services/inventory/schema.h"
#include "services/inventory/store.h"

namespace op::inventory {
namespace {

std::unique_ptr<ServiceState> Wire(Service& svc) {
  if (svc.config().GetBool("inventory.seed-demo-data")) SeedDemoCatalog(svc.db());
  AddRoutes(svc);
  svc.HandleEventBatches({std::string(events::kOrderEvents)}, [] { return std::make_unique<InventoryBatch>(); });
  return nullptr;  // the handlers need nothing of their own
}

}  // namespace
}  // namespace op::inventory

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "inventory-service";
  spec.default_port = 8084;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = op::inventory::Migrations();
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("inventory.seed-demo-data", op::config::Type::kBool, "false", "load the demo catalog at start (keeps existing rows)");
  };
  return op::Service::Run(spec, argc, argv, op::inventory::Wire);
}
