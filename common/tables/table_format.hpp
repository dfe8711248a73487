#pragma once
// `fw tab` style text for kernel tables. Pure formatting: no DPDK, usable by dpvpnctl.
//
//   -------- inbound_SPI --------
//   dynamic, id 3, num ents 2, peak 2, attributes: expires 3600, sync, limit 65536
//   <00001000, 32, c0a80101; 00000007, ...; 3597/3600>
//   ...(5 More)
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tables/table_spec.hpp"

namespace dpvpn::tables {

inline constexpr uint32_t kDefaultDumpLimit = 16;  // entries shown without -u / -m

struct DumpOptions {
  bool formatted = false;                       // -f: name=value
  bool resolve = false;                         // -r: addresses dotted / colon
  std::optional<uint32_t> limit = kDefaultDumpLimit;  // -m N; nullopt = -u
};

// One entry as the formatter sees it.
struct EntryView {
  std::span<const uint8_t> key;
  std::span<const uint8_t> value;
  uint64_t remaining_s = 0;  // seconds until expiry
  uint32_t ttl_s = 0;        // 0: never expires (no "remaining/total" part)
  bool link = false;
};

struct TableCounters {
  uint64_t vals = 0;
  uint64_t peak = 0;
  uint64_t slinks = 0;
  uint64_t capacity = 0;
};

struct SummaryRow {
  std::string host;
  std::string name;
  uint32_t id = 0;
  TableCounters counters;
};

std::string format_entry(const TableSpec& spec, const EntryView& entry, const DumpOptions& options);

// `entries` are the ones to show (already limited and ordered); counters.vals says how many exist.
std::string format_dump(const TableSpec& spec, const TableCounters& counters,
                        std::span<const EntryView> entries, const DumpOptions& options,
                        const std::string& host = "localhost");

std::string format_summary(std::span<const SummaryRow> rows);

}  // namespace dpvpn::tables
