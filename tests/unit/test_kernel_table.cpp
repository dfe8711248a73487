// Every table of the catalog: insert, lookup, update, delete, expiry, peak, full-table error,
// bulk lookup, refresh and links.
#include <catch2/catch.hpp>

#include "table_fixture.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;
using dpvpn::test::LiveTable;
using dpvpn::test::pattern;
using dpvpn::test::same_bytes;

namespace {
std::vector<const TableSpec*> live_specs() {
  std::vector<const TableSpec*> specs;
  for (const TableSpec* spec : kCatalog) {
    if (!spec->obsolete) specs.push_back(spec);
  }
  return specs;
}
}  // namespace

TEST_CASE("every table: insert, lookup, update, delete, peak") {
  for (const TableSpec* spec : live_specs()) {
    DYNAMIC_SECTION(spec->name) {
      LiveTable t(*spec);
      KernelTable& table = *t.table;
      const auto k1 = pattern(spec->key_size, 1), k2 = pattern(spec->key_size, 2);
      const auto v1 = pattern(spec->value_size, 1, 0x10), v2 = pattern(spec->value_size, 2, 0x20);

      CHECK(table.lookup(k1.data()) == nullptr);
      REQUIRE(table.insert(k1.data(), v1.data()).is_ok());
      CHECK(same_bytes(table.lookup(k1.data()), v1));
      CHECK(table.lookup(k2.data()) == nullptr);
      CHECK(table.count() == 1);

      const Status dup = table.insert(k1.data(), v2.data());
      CHECK(dup.code() == StatusCode::kAlreadyExists);
      CHECK(same_bytes(table.lookup(k1.data()), v1));  // untouched

      REQUIRE(table.update(k1.data(), v2.data()).is_ok());
      CHECK(same_bytes(table.lookup(k1.data()), v2));
      CHECK(table.count() == 1);
      CHECK(table.update(k2.data(), v2.data()).code() == StatusCode::kNotFound);
      CHECK(table.lookup(k2.data()) == nullptr);

      REQUIRE(table.upsert(k2.data(), v1.data()).is_ok());
      CHECK(table.count() == 2);
      CHECK(table.peak() == 2);

      REQUIRE(table.remove(k1.data()).is_ok());
      CHECK(table.lookup(k1.data()) == nullptr);
      CHECK(same_bytes(table.lookup(k2.data()), v1));
      CHECK(table.remove(k1.data()).code() == StatusCode::kNotFound);
      CHECK(table.count() == 1);
      CHECK(table.peak() == 2);  // the peak stays

      REQUIRE(table.remove(k2.data()).is_ok());
      CHECK(table.count() == 0);
      CHECK(table.peak() == 2);
    }
  }
}

TEST_CASE("every table: expiry follows the table default and per-entry TTLs") {
  for (const TableSpec* spec : live_specs()) {
    DYNAMIC_SECTION(spec->name) {
      LiveTable t(*spec);
      KernelTable& table = *t.table;
      const auto k1 = pattern(spec->key_size, 1), k2 = pattern(spec->key_size, 2);
      const auto v = pattern(spec->value_size, 9);
      REQUIRE(table.insert(k1.data(), v.data()).is_ok());                    // table default
      REQUIRE(table.insert(k2.data(), v.data(), {.ttl_s = 5}).is_ok());     // explicit
      const EntryMeta m1 = table.meta_of(table.lookup(k1.data()));
      CHECK(m1.ttl_s == spec->default_ttl_s);

      t.clock.advance(4);
      CHECK(table.age_all() == 0);
      CHECK(table.lookup(k2.data()) != nullptr);
      t.clock.advance(1);  // k2's 5 s are up
      CHECK(table.age_all() == 1);
      CHECK(table.lookup(k2.data()) == nullptr);
      CHECK(table.count() == 1);

      if (spec->default_ttl_s == 0) {
        t.clock.advance(10u * 365 * 86400);
        CHECK(table.age_all() == 0);
        CHECK(table.lookup(k1.data()) != nullptr);
      } else {
        t.clock.set(1000 + spec->default_ttl_s - 1);  // the clock starts at 1000
        CHECK(table.age_all() == 0);
        CHECK(table.lookup(k1.data()) != nullptr);
        t.clock.advance(1);
        CHECK(table.age_all() == 1);
        CHECK(table.lookup(k1.data()) == nullptr);
      }
    }
  }
}

TEST_CASE("every table: a full table refuses new keys and keeps the old ones") {
  for (const TableSpec* spec : live_specs()) {
    DYNAMIC_SECTION(spec->name) {
      constexpr uint32_t kCapacity = 8;
      LiveTable t(*spec, kCapacity);
      KernelTable& table = *t.table;
      for (uint32_t i = 0; i < kCapacity; ++i) {
        REQUIRE(table.insert(pattern(spec->key_size, i).data(), pattern(spec->value_size, i).data()).is_ok());
      }
      const auto extra = pattern(spec->key_size, 100);
      const Status full = table.insert(extra.data(), pattern(spec->value_size, 100).data());
      CHECK(full.code() == StatusCode::kResourceExhausted);
      CHECK(full.message() == std::string("table ") + std::string(spec->name) +
                                  " is full (8 of 8 entries); existing entries are unchanged");
      CHECK(table.upsert(extra.data(), pattern(spec->value_size, 100).data()).code() ==
            StatusCode::kResourceExhausted);
      CHECK(table.lookup(extra.data()) == nullptr);
      CHECK(table.count() == kCapacity);
      for (uint32_t i = 0; i < kCapacity; ++i) {
        CHECK(same_bytes(table.lookup(pattern(spec->key_size, i).data()), pattern(spec->value_size, i)));
      }
      // Replacing an existing entry is still allowed when full; removing one makes room.
      CHECK(table.upsert(pattern(spec->key_size, 3).data(), pattern(spec->value_size, 33).data()).is_ok());
      CHECK(same_bytes(table.lookup(pattern(spec->key_size, 3).data()), pattern(spec->value_size, 33)));
      REQUIRE(table.remove(pattern(spec->key_size, 0).data()).is_ok());
      CHECK(table.insert(extra.data(), pattern(spec->value_size, 100).data()).is_ok());
    }
  }
}

TEST_CASE("every table: bulk lookup of up to 64 keys reports hits and misses") {
  for (const TableSpec* spec : live_specs()) {
    DYNAMIC_SECTION(spec->name) {
      LiveTable t(*spec, 128);
      KernelTable& table = *t.table;
      std::vector<std::vector<uint8_t>> keys;
      for (uint32_t i = 0; i < kMaxBulk; ++i) keys.push_back(pattern(spec->key_size, i));
      for (uint32_t i = 0; i < kMaxBulk; i += 3) {
        REQUIRE(table.insert(keys[i].data(), pattern(spec->value_size, i, 5).data()).is_ok());
      }
      const void* key_ptrs[kMaxBulk];
      const void* values[kMaxBulk];
      for (uint32_t i = 0; i < kMaxBulk; ++i) {
        key_ptrs[i] = keys[i].data();
        values[i] = reinterpret_cast<const void*>(0x1);  // must be overwritten
      }
      const uint64_t hits = table.lookup_bulk(key_ptrs, kMaxBulk, values);
      for (uint32_t i = 0; i < kMaxBulk; ++i) {
        INFO("key " << i);
        const bool hit = (hits >> i) & 1;
        CHECK(hit == (i % 3 == 0));
        if (hit) {
          CHECK(same_bytes(values[i], pattern(spec->value_size, i, 5)));
        } else {
          CHECK(values[i] == nullptr);
        }
      }
      // A short burst only touches its own slots.
      const uint64_t few = table.lookup_bulk(key_ptrs, 4, values);
      CHECK(few == 0b1001);
    }
  }
}

TEST_CASE("refresh restarts the expiry in place; links are counted") {
  LiveTable t(Layout<TableId::connections>::spec);
  KernelTable& table = *t.table;
  const auto k = pattern(table.spec().key_size, 1), r = pattern(table.spec().key_size, 2);
  const auto v = pattern(table.spec().value_size, 1);
  REQUIRE(table.insert(k.data(), v.data(), {.ttl_s = 40}).is_ok());
  REQUIRE(table.insert(r.data(), v.data(), {.ttl_s = 40, .link = true}).is_ok());
  CHECK(table.links() == 1);
  const void* before = table.lookup(k.data());
  t.clock.advance(30);
  REQUIRE(table.refresh(k.data()).is_ok());
  CHECK(table.lookup(k.data()) == before);  // same value, not a copy
  t.clock.advance(30);
  CHECK(table.age_all() == 1);  // r expired, k was refreshed
  CHECK(table.lookup(k.data()) != nullptr);
  CHECK(table.links() == 0);
  CHECK(table.refresh(r.data()).code() == StatusCode::kNotFound);
  REQUIRE(table.refresh(k.data(), 0).is_ok());  // never expires now
  t.clock.advance(100000);
  CHECK(table.age_all() == 0);
}

TEST_CASE("ageing is incremental: a small budget removes a little at a time") {
  LiveTable t(Layout<TableId::encryption_requests>::spec, 1000);
  KernelTable& table = *t.table;
  for (uint32_t i = 0; i < 1000; ++i) {
    REQUIRE(table.insert(pattern(table.spec().key_size, i).data(), pattern(table.spec().value_size, i).data()).is_ok());
  }
  t.clock.advance(90);
  const uint32_t first = table.age(100);
  CHECK(first > 0);
  CHECK(first <= 100);
  uint32_t total = first;
  for (int round = 0; round < 100 && table.count() > 0; ++round) total += table.age(100);
  CHECK(total == 1000);
  CHECK(table.count() == 0);
  CHECK(table.peak() == 1000);
}

TEST_CASE("obsolete tables are not created; capacities are validated") {
  RcuDomain rcu(1);
  ManualClock clock;
  std::unique_ptr<KernelTable> table;
  const Status obsolete = KernelTable::create(Layout<TableId::decryption_pending>::spec, 16, rcu, clock, &table);
  CHECK(obsolete.code() == StatusCode::kInvalidArgument);
  CHECK(obsolete.message() == "table decryption_pending is obsolete and is not created");
  CHECK(KernelTable::create(Layout<TableId::inbound_SPI>::spec, 0, rcu, clock, &table).code() ==
        StatusCode::kInvalidArgument);
  CHECK(table == nullptr);
}

TEST_CASE("touch: a reader restarts an entry's expiry without the writer") {
  LiveTable t(Layout<TableId::connections>::spec);
  KernelTable& table = *t.table;
  const auto k = pattern(table.spec().key_size, 1);
  REQUIRE(table.insert(k.data(), pattern(table.spec().value_size, 1).data(), {.ttl_s = 40}).is_ok());
  t.clock.advance(30);
  KernelTable::touch(table.lookup(k.data()), t.clock.now_seconds());
  t.clock.advance(30);
  CHECK(table.age_all() == 0);  // 60 s after insert, but touched at 30 s
  CHECK(table.meta_of(table.lookup(k.data())).expires_at == 1000 + 30 + 40);
  t.clock.advance(11);
  CHECK(table.age_all() == 1);
}
