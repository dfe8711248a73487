#pragma once
// Shared pieces for tests over live tables: a domain, a manual clock, generic key/value bytes.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "tables/catalog.hpp"
#include "tables/kernel_table.hpp"
#include "tables/rcu_domain.hpp"
#include "util/clock.hpp"

namespace dpvpn::test {

// Bytes that differ per index `i` (and per `salt`) in every position, so a key or value built
// from one index can never equal one built from another.
inline std::vector<uint8_t> pattern(size_t size, uint32_t i, uint8_t salt = 0) {
  std::vector<uint8_t> out(size);
  for (size_t b = 0; b < size; ++b) out[b] = static_cast<uint8_t>((i * 131 + b * 7 + salt) ^ (i >> ((b % 4) * 8)));
  if (size >= 4) std::memcpy(out.data(), &i, 4);  // unique prefix
  return out;
}

struct LiveTable {
  explicit LiveTable(const tables::TableSpec& spec, uint32_t capacity = 16, uint32_t readers = 4)
      : rcu(readers) {
    const Status s = tables::KernelTable::create(spec, capacity, rcu, clock, &table);
    if (!s) throw std::runtime_error(s.to_string());
  }
  tables::RcuDomain rcu;
  ManualClock clock;
  std::unique_ptr<tables::KernelTable> table;
};

inline bool same_bytes(const void* value, const std::vector<uint8_t>& expected) {
  return value != nullptr && std::memcmp(value, expected.data(), expected.size()) == 0;
}

}  // namespace dpvpn::test
