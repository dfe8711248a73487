// dpvpn-bench-tables: inbound_SPI bulk lookups through KernelTable next to raw
// rte_hash_lookup_bulk on an identical rte_hash with the same keys, in the same run.
//
//   dpvpn-bench-tables [EAL args] -- [--entries 1,10000,100000,1000000] [--lookups N] [--trials N]
//
// Keys arrive as a sequential stream (as they would from received packets) in random order over
// the table's entries; every lookup hits. Trials alternate between the two and the best trial of
// each is reported, so a noisy neighbour hurts both the same way.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tables/catalog.hpp"
#include "tables/kernel_table.hpp"
#include "tables/rcu_domain.hpp"
#include "util/clock.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;

namespace {

struct Options {
  std::vector<uint32_t> entries = {1, 10000, 100000, 1000000};
  uint64_t lookups = 8u << 20;  // per trial
  int trials = 7;
};

bool parse_options(int argc, char** argv, Options* o) {
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--entries" && has_value) {
      o->entries.clear();
      std::string list = argv[++i];
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        o->entries.push_back(static_cast<uint32_t>(std::stoul(list.substr(pos, comma - pos))));
        pos = comma + 1;
      }
    } else if (arg == "--lookups" && has_value) {
      o->lookups = std::stoull(argv[++i]);
    } else if (arg == "--trials" && has_value) {
      o->trials = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr, "unknown argument %s\nusage: -- [--entries a,b,c] [--lookups N] [--trials N]\n",
                   arg.c_str());
      return false;
    }
  }
  return true;
}

InboundSpiKey key_of(uint32_t i) {
  InboundSpiKey k{};
  k.spi = 0xc0000000u | i;
  k.proto = 50;
  k.dst = IpAddr::v4(0xc0000201u + (i & 0xff));
  return k;
}

// The same parameters KernelTable gives its hash (lock-free readers, extendable buckets, CRC).
rte_hash* create_raw_hash(uint32_t entries) {
  static int seq = 0;
  const std::string name = "raw" + std::to_string(seq++);
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = entries;
  p.key_len = sizeof(InboundSpiKey);
  p.hash_func = rte_hash_crc;
  p.hash_func_init_val = 0x6470766e;
  p.socket_id = static_cast<int>(rte_socket_id());
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  return rte_hash_create(&p);
}

template <class LookupBurst>
double cycles_per_lookup(const std::vector<InboundSpiKey>& stream, uint64_t lookups, LookupBurst&& burst) {
  const void* keys[kMaxBulk];
  const size_t bursts_in_stream = stream.size() / kMaxBulk;
  const uint64_t bursts = lookups / kMaxBulk;
  uint64_t sink = 0;
  const uint64_t start = rte_rdtsc_precise();
  for (uint64_t b = 0; b < bursts; ++b) {
    const InboundSpiKey* base = &stream[(b % bursts_in_stream) * kMaxBulk];
    for (uint32_t i = 0; i < kMaxBulk; ++i) keys[i] = &base[i];
    sink += burst(keys);
  }
  const uint64_t cycles = rte_rdtsc_precise() - start;
  if (sink != bursts * kMaxBulk) {  // every key is present: anything else is a broken benchmark
    std::fprintf(stderr, "bench-tables: expected every lookup to hit (%lu of %lu)\n",
                 static_cast<unsigned long>(sink), static_cast<unsigned long>(bursts * kMaxBulk));
    std::exit(1);
  }
  return static_cast<double>(cycles) / static_cast<double>(bursts * kMaxBulk);
}

struct Row {
  uint32_t entries;
  double dpvpn, raw;
};

}  // namespace

int run(const Options& options) {
  RcuDomain rcu(1);
  MonotonicClock clock;
  std::vector<Row> rows;
  std::printf("inbound_SPI bulk lookup, %u keys per burst, TSC %.2f GHz, best of %d trials of %lu lookups\n",
              kMaxBulk, static_cast<double>(rte_get_tsc_hz()) / 1e9, options.trials,
              static_cast<unsigned long>(options.lookups));
  std::printf("%10s %14s %14s %8s %14s\n", "entries", "dpvpn cyc/key", "raw cyc/key", "ratio", "dpvpn Mkeys/s");
  for (const uint32_t n : options.entries) {
    std::unique_ptr<KernelTable> table;
    if (Status s = KernelTable::create(Layout<TableId::inbound_SPI>::spec, n, rcu, clock, &table); !s) {
      std::fprintf(stderr, "bench-tables: %s\n", s.to_string().c_str());
      return 1;
    }
    // Same key-slot count as the table's hash, so both have the same load factor.
    rte_hash* raw = create_raw_hash(n + std::max<uint32_t>(64, n / 4));
    if (raw == nullptr) {
      std::fprintf(stderr, "bench-tables: rte_hash_create: %s\n", rte_strerror(rte_errno));
      return 1;
    }
    InboundSpiValue value{};
    for (uint32_t i = 0; i < n; ++i) {
      const InboundSpiKey k = key_of(i);
      value.sa_index = i;
      if (!table->insert(&k, &value).is_ok() || rte_hash_add_key(raw, &k) < 0) {
        std::fprintf(stderr, "bench-tables: insert %u of %u failed\n", i, n);
        return 1;
      }
    }
    std::mt19937 rng(n);
    std::vector<InboundSpiKey> stream(std::max<size_t>(n, 1u << 16) / kMaxBulk * kMaxBulk);
    for (auto& k : stream) k = key_of(static_cast<uint32_t>(rng() % n));

    double best_dpvpn = 1e18, best_raw = 1e18;
    for (int t = 0; t < options.trials; ++t) {
      best_dpvpn = std::min(best_dpvpn, cycles_per_lookup(stream, options.lookups, [&](const void** keys) {
        const void* values[kMaxBulk];
        return static_cast<uint64_t>(__builtin_popcountll(table->lookup_bulk(keys, kMaxBulk, values)));
      }));
      best_raw = std::min(best_raw, cycles_per_lookup(stream, options.lookups, [&](const void** keys) {
        int32_t positions[kMaxBulk];
        rte_hash_lookup_bulk(raw, keys, kMaxBulk, positions);
        uint64_t hits = 0;
        for (uint32_t i = 0; i < kMaxBulk; ++i) hits += positions[i] >= 0;
        return hits;
      }));
    }
    rows.push_back({n, best_dpvpn, best_raw});
    std::printf("%10u %14.1f %14.1f %8.3f %14.1f\n", n, best_dpvpn, best_raw, best_dpvpn / best_raw,
                static_cast<double>(rte_get_tsc_hz()) / best_dpvpn / 1e6);
    std::fflush(stdout);
    rte_hash_free(raw);
  }

  const Row& first = rows.front();
  const Row& last = rows.back();
  const double ratio = last.dpvpn / last.raw;
  const double growth = last.dpvpn / first.dpvpn;
  std::printf("targets: ratio %.3f (<= 1.10: %s); %u-entry cost / %u-entry cost %.2f (<= 2.0: %s)\n", ratio,
              ratio <= 1.10 ? "met" : "NOT met", last.entries, first.entries, growth,
              growth <= 2.0 ? "met" : "NOT met");
  std::printf("bench-tables: entries=%u dpvpn_cycles=%.1f raw_cycles=%.1f ratio=%.3f\n", last.entries, last.dpvpn,
              last.raw, ratio);
  return 0;
}

int main(int argc, char** argv) {
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) {
    std::fprintf(stderr, "bench-tables: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  Options options;
  if (!parse_options(argc - eal_args - 1, argv + eal_args + 1, &options)) return 1;
  const int rc = run(options);
  rte_eal_cleanup();  // after every DPDK object of run() is gone
  return rc;
}
