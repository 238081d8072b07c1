// payment-service: customer accounts and the payments ledger. Charges an
// order's total on OrderCreated when the balance covers it, refunds a charge
// on OrderCancelled (event_handlers.h). Money is conserved: balances +
// captured payments change only through the accounts API (PUT, deposit),
// never through the saga.
#include "events/topics.h"
#include "runtime/service/service.h"
#include "services/payment/event_handlers.h"
#include "services/payment/http_api.h"
#include "services/payment/schema.h"
#include "services/payment/store.h"

namespace op::payment {
namespace {

std::unique_ptr<ServiceState> Wire(Service& svc) {
  if (svc.config().GetBool("payment.seed-demo-data")) SeedDemoAccounts(svc.db());
  AddRoutes(svc);
  svc.HandleEventBatches({std::string(events::kOrderEvents)}, [] { return std::make_unique<PaymentBatch>(); });
  return nullptr;  // the handlers need nothing of their own
}

}  // namespace
}  // namespace op::payment

int main(int argc, char** argv) {
  op::ServiceSpec spec;
  spec.name = "payment-service";
  spec.default_port = 8082;
  spec.uses_database = true;
  spec.uses_kafka = true;
  spec.migrations = op::payment::Migrations();
  spec.declare_config = [](op::config::Schema& s) {
    s.Add("payment.seed-demo-data", op::config::Type::kBool, "false", "load demo accounts at start (keeps existing rows)");
  };
  return op::Service::Run(spec, argc, argv, op::payment::Wire);
}
