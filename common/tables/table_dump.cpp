#include "tables/table_dump.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace dpvpn::tables {

TableCounters counters_of(const KernelTable& table) {
  return {table.count(), table.peak(), table.links(), table.capacity()};
}

SummaryRow summary_of(const KernelTable& table, const std::string& host) {
  return {host, std::string(table.spec().name), table.spec().id, counters_of(table)};
}

std::string dump_table(const KernelTable& table, const DumpOptions& options, const std::string& host) {
  const TableSpec& spec = table.spec();
  const uint64_t now = table.now_seconds();
  std::vector<EntryView> entries;
  entries.reserve(table.count());
  table.for_each([&](const void* key, const void* value, const EntryMeta& meta) {
    entries.push_back({{static_cast<const uint8_t*>(key), spec.key_size},
                       {static_cast<const uint8_t*>(value), spec.value_size},
                       meta.expires_at > now ? meta.expires_at - now : 0,
                       meta.ttl_s,
                       meta.link});
  });
  const auto by_key = [&](const EntryView& a, const EntryView& b) {
    return std::memcmp(a.key.data(), b.key.data(), spec.key_size) < 0;
  };
  size_t shown = entries.size();
  if (options.limit && *options.limit < shown) shown = *options.limit;
  std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(shown), entries.end(), by_key);
  entries.resize(shown);
  TableCounters counters = counters_of(table);
  return format_dump(spec, counters, entries, options, host);
}

}  // namespace dpvpn::tables
