#pragma once
// Fixed, fully populated samples of every event (schema v1): the golden-bytes
// test compares their encoding with bytes checked in under testdata/.
#include <string>
#include <utility>
#include <vector>

#include "events/envelope.h"

namespace op::events {

inline Envelope GoldenBase(const char* type) {
  Envelope e;
  e.set_event_id("3f1c2b6e-8a4d-4e2f-9c1b-0d5e6f7a8b9c");
  e.set_event_type(type);
  e.set_order_id("5a7d9e1f-2b3c-4d5e-8f9a-0b1c2d3e4f5a");
  e.set_correlation_id("11111111-2222-4333-8444-555555555555");
  e.set_causation_id("66666666-7777-4888-9999-aaaaaaaaaaaa");
  e.set_occurred_at("2026-11-25T01:02:03.456Z");
  e.set_source("order-service");
  e.set_schema_version(1);
  e.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  return e;
}

inline void Fill(OrderItem* i, const char* sku, int q, long cents) {
  i->set_sku(sku);
  i->set_quantity(q);
  i->set_unit_price_cents(cents);
}

inline void Fill(Money* m, long cents) {
  m->set_cents(cents);
  m->set_currency("EUR");
}

inline std::vector<Envelope> GoldenSamples() {
  std::vector<Envelope> v;
  {
    auto e = GoldenBase("OrderCreated");
    auto* p = e.mutable_order_created();
    p->set_customer_id("alice");
    Fill(p->add_items(), "SKU-1", 2, 1999);
    Fill(p->add_items(), "SKU-2", 1, 500);
    Fill(p->mutable_total(), 4498);
    p->mutable_contact()->set_email("alice@example.com");
    p->mutable_contact()->set_phone("+4915112345678");
    v.push_back(e);
  }
  {
    auto e = GoldenBase("OrderConfirmed");
    e.mutable_order_confirmed()->set_customer_id("alice");
    Fill(e.mutable_order_confirmed()->mutable_total(), 4498);
    v.push_back(e);
  }
  {
    auto e = GoldenBase("OrderCancelled");
    e.mutable_order_cancelled()->set_customer_id("alice");
    e.mutable_order_cancelled()->set_reason("OUT_OF_STOCK");
    v.push_back(e);
  }
  {
    auto e = GoldenBase("PaymentCompleted");
    auto* p = e.mutable_payment_completed();
    p->set_customer_id("alice");
    Fill(p->mutable_amount(), 4498);
    p->set_payment_id("pay-1");
    v.push_back(e);
  }
  {
    auto e = GoldenBase("PaymentFailed");
    auto* p = e.mutable_payment_failed();
    p->set_customer_id("bob");
    p->set_reason("INSUFFICIENT_FUNDS");
    Fill(p->mutable_amount(), 4498);
    v.push_back(e);
  }
  {
    auto e = GoldenBase("PaymentRefunded");
    auto* p = e.mutable_payment_refunded();
    p->set_customer_id("alice");
    Fill(p->mutable_amount(), 4498);
    p->set_payment_id("pay-1");
    v.push_back(e);
  }
  {
    auto e = GoldenBase("InventoryReserved");
    Fill(e.mutable_inventory_reserved()->add_items(), "SKU-1", 2, 1999);
    v.push_back(e);
  }
  {
    auto e = GoldenBase("InventoryRejected");
    e.mutable_inventory_rejected()->set_reason("UNKNOWN_SKU");
    e.mutable_inventory_rejected()->add_skus("SKU-404");
    v.push_back(e);
  }
  {
    auto e = GoldenBase("InventoryReleased");
    Fill(e.mutable_inventory_released()->add_items(), "SKU-1", 2, 1999);
    v.push_back(e);
  }
  return v;
}

}  // namespace op::events
