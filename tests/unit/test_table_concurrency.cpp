// One writer churning inserts, updates, refreshes, deletes and expiry while reader threads do bulk
// lookups. Every value encodes its key; freed values are poisoned (0xdb). A reader that ever sees
// a value that does not belong to the key it looked up — poison, or another key's value — fails.
// DPVPN_CONCURRENCY_SECONDS sets the duration (default 3; the ASan run uses less).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "tables/kernel_table.hpp"
#include "tables/typed_table.hpp"
#include "util/clock.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;

namespace {

constexpr uint32_t kKeySpace = 4096;
constexpr uint32_t kCapacity = 1024;  // smaller than the key space: the writer also hits "full"
constexpr uint32_t kReaders = 2;

InboundSpiKey key_of(uint32_t spi) {
  InboundSpiKey k{};
  k.spi = spi;
  k.proto = 50;
  k.dst = IpAddr::v4(0xc0000201);
  return k;
}

InboundSpiValue value_of(uint32_t spi, uint32_t generation) {
  InboundSpiValue v{};
  v.sa_index = spi ^ 0x5a5a5a5a;
  v.tunnel_id = generation;
  v.member = spi;
  v.flags = ~spi;
  v.peer = IpAddr::v4(spi);
  return v;
}

// The reader's whole check: the value must be the one written for this key, in every field.
bool value_belongs_to(const InboundSpiValue& v, uint32_t spi) {
  return v.sa_index == (spi ^ 0x5a5a5a5a) && v.member == spi && v.flags == ~spi && v.peer == IpAddr::v4(spi);
}

double test_seconds() {
  const char* env = std::getenv("DPVPN_CONCURRENCY_SECONDS");
  return env != nullptr ? std::atof(env) : 3.0;
}

struct ReaderStats {
  uint64_t bursts = 0, lookups = 0, hits = 0, bad = 0;
};

}  // namespace

TEST_CASE("the reader's check rejects poison and other keys' values") {
  InboundSpiValue poison;
  std::memset(static_cast<void*>(&poison), kPoisonByte, sizeof poison);
  CHECK_FALSE(value_belongs_to(poison, 7));
  CHECK_FALSE(value_belongs_to(value_of(8, 1), 7));
  CHECK(value_belongs_to(value_of(7, 99), 7));
}

TEST_CASE("one writer churns while readers bulk-look-up: readers never see freed memory") {
  RcuDomain rcu(kReaders);
  ManualClock clock;
  std::unique_ptr<KernelTable> raw;
  REQUIRE(KernelTable::create(Layout<TableId::inbound_SPI>::spec, kCapacity, rcu, clock, &raw).is_ok());
  TypedTable<TableId::inbound_SPI> table(*raw);

  std::atomic<bool> stop{false};
  std::vector<ReaderStats> stats(kReaders);
  std::vector<std::thread> readers;
  for (uint32_t id = 0; id < kReaders; ++id) {
    REQUIRE(rcu.register_reader(id).is_ok());
    readers.emplace_back([&, id] {
      std::mt19937 rng(id + 1);
      ReaderStats& s = stats[id];
      InboundSpiKey keys[kMaxBulk];
      const InboundSpiKey* key_ptrs[kMaxBulk];
      const InboundSpiValue* values[kMaxBulk];
      while (!stop.load(std::memory_order_relaxed)) {
        for (uint32_t i = 0; i < kMaxBulk; ++i) {
          keys[i] = key_of(rng() % kKeySpace);
          key_ptrs[i] = &keys[i];
        }
        const uint64_t hits = table.lookup_bulk(key_ptrs, kMaxBulk, values);
        for (uint32_t i = 0; i < kMaxBulk; ++i) {
          if ((hits >> i) & 1) {
            ++s.hits;
            // Read twice with a pause between: a value freed under us would change in between.
            const bool first = value_belongs_to(*values[i], keys[i].spi);
            std::atomic_signal_fence(std::memory_order_seq_cst);
            const bool second = value_belongs_to(*values[i], keys[i].spi);
            if (!first || !second) ++s.bad;
          }
        }
        s.lookups += kMaxBulk;
        ++s.bursts;
        rcu.quiescent(id);  // end of burst: nothing from this burst is held any more
      }
      rcu.offline(id);
    });
  }

  std::mt19937 rng(42);
  uint64_t writes = 0, full = 0, unavailable = 0, removed = 0, expired = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(test_seconds());
  uint32_t generation = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch) {
      const uint32_t spi = rng() % kKeySpace;
      const InboundSpiKey k = key_of(spi);
      Status s;
      switch (rng() % 8) {
        case 0: case 1: case 2: s = table.upsert(k, value_of(spi, ++generation)); break;
        case 3: s = table.insert(k, value_of(spi, ++generation), {.ttl_s = static_cast<uint32_t>(1 + rng() % 5)}); break;
        case 4: s = table.update(k, value_of(spi, ++generation)); break;
        case 5: s = table.refresh(k); break;
        default:
          s = table.remove(k);
          removed += s.is_ok();
          break;
      }
      writes += s.is_ok();
      full += s.code() == StatusCode::kResourceExhausted;
      if (s.code() == StatusCode::kUnavailable) {
        ++unavailable;  // every spare value is in its grace period: let the readers run
        std::this_thread::yield();
      }
    }
    clock.advance(1);
    expired += raw->age(512);
  }
  stop = true;
  for (auto& t : readers) t.join();

  ReaderStats total;
  for (const ReaderStats& s : stats) {
    total.bursts += s.bursts;
    total.lookups += s.lookups;
    total.hits += s.hits;
    total.bad += s.bad;
  }
  INFO("writes " << writes << " removed " << removed << " expired " << expired << " full " << full
                 << " unavailable " << unavailable << " reader bursts " << total.bursts << " hits "
                 << total.hits);
  CHECK(total.bad == 0);
  // The test exercised what it claims to: churn, expiry, a full table, and many concurrent hits.
  CHECK(writes > 10000);
  CHECK(removed > 1000);
  CHECK(expired > 100);
  CHECK(full > 0);
  CHECK(total.bursts > 100);
  CHECK(total.hits > 10000);
  CHECK(raw->count() <= kCapacity);
  raw->reclaim();
  for (uint32_t id = 0; id < kReaders; ++id) rcu.unregister_reader(id);
}
