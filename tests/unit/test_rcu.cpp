// RCU reclamation, step by step in one thread: a value a reader may still hold is not reused
// (nor poisoned) until that reader reports a quiescent state.
#include <catch2/catch.hpp>

#include "table_fixture.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;
using dpvpn::test::LiveTable;
using dpvpn::test::pattern;
using dpvpn::test::same_bytes;

namespace {
bool poisoned(const void* value, size_t size) {
  const auto* p = static_cast<const uint8_t*>(value);
  for (size_t i = 0; i < size; ++i) {
    if (p[i] != kPoisonByte) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("a deleted value survives until every reader has been quiescent") {
  LiveTable t(Layout<TableId::inbound_SPI>::spec);
  KernelTable& table = *t.table;
  const size_t vsize = table.spec().value_size;
  REQUIRE(t.rcu.register_reader(0).is_ok());
  REQUIRE(t.rcu.register_reader(1).is_ok());
  const auto k = pattern(table.spec().key_size, 1);
  const auto v = pattern(vsize, 1);
  REQUIRE(table.insert(k.data(), v.data()).is_ok());

  const void* held = table.lookup(k.data());  // reader 0 holds this across the delete
  REQUIRE(table.remove(k.data()).is_ok());
  CHECK(table.lookup(k.data()) == nullptr);
  table.reclaim();
  CHECK(table.pending_reclaim() == 1);
  CHECK(same_bytes(held, v));

  t.rcu.quiescent(0);
  table.reclaim();
  CHECK(table.pending_reclaim() == 1);  // reader 1 has not passed a quiescent state yet
  CHECK(same_bytes(held, v));

  t.rcu.quiescent(1);
  table.reclaim();
  CHECK(table.pending_reclaim() == 0);
  CHECK(poisoned(held, vsize));  // freed values are poisoned: a late reader would see it
}

TEST_CASE("a replaced value survives until readers are quiescent; offline readers do not block") {
  LiveTable t(Layout<TableId::outbound_SPI>::spec);
  KernelTable& table = *t.table;
  const size_t vsize = table.spec().value_size;
  REQUIRE(t.rcu.register_reader(0).is_ok());
  REQUIRE(t.rcu.register_reader(2).is_ok());
  t.rcu.offline(2);  // an idle worker
  const auto k = pattern(table.spec().key_size, 1);
  const auto v1 = pattern(vsize, 1), v2 = pattern(vsize, 2);
  REQUIRE(table.insert(k.data(), v1.data()).is_ok());
  const void* old_value = table.lookup(k.data());
  REQUIRE(table.update(k.data(), v2.data()).is_ok());
  CHECK(same_bytes(table.lookup(k.data()), v2));
  table.reclaim();
  CHECK(same_bytes(old_value, v1));
  t.rcu.quiescent(0);
  table.reclaim();
  CHECK(poisoned(old_value, vsize));
  CHECK(same_bytes(table.lookup(k.data()), v2));
  t.rcu.online(2);
  t.rcu.unregister_reader(2);
}

TEST_CASE("a stalled reader makes writes wait, not corrupt: Unavailable, then recovery") {
  constexpr uint32_t kCapacity = 16;  // headroom is 64 spare values
  LiveTable t(Layout<TableId::connections>::spec, kCapacity);
  KernelTable& table = *t.table;
  REQUIRE(t.rcu.register_reader(0).is_ok());  // never quiescent until the end
  const auto k = pattern(table.spec().key_size, 7);
  REQUIRE(table.insert(k.data(), pattern(table.spec().value_size, 0).data()).is_ok());
  Status s;
  uint32_t updates = 0;
  for (; updates < 1000; ++updates) {
    s = table.update(k.data(), pattern(table.spec().value_size, updates + 1).data());
    if (!s.is_ok()) break;
  }
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message().find("RCU grace period") != std::string::npos);
  CHECK(updates == kCapacity + 64 - 1);  // every spare slot is waiting for reader 0
  CHECK(same_bytes(table.lookup(k.data()), pattern(table.spec().value_size, updates)));  // last good one
  t.rcu.quiescent(0);
  CHECK(table.update(k.data(), pattern(table.spec().value_size, 5000).data()).is_ok());
  CHECK(table.pending_reclaim() == 1);
}

TEST_CASE("reader ids are bounded by the domain") {
  RcuDomain rcu(2);
  CHECK(rcu.register_reader(1).is_ok());
  CHECK(rcu.register_reader(2).code() == StatusCode::kInvalidArgument);
  rcu.unregister_reader(1);
}
