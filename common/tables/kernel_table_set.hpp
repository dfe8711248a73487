#pragma once
// KernelTableSet: every table of the catalog, created together, found by name or ID.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tables/catalog.hpp"
#include "tables/kernel_table.hpp"
#include "tables/table_format.hpp"
#include "tables/typed_table.hpp"
#include "tables/vpn_routing.hpp"

namespace dpvpn::tables {

struct TableSetOptions {
  std::map<std::string, uint32_t, std::less<>> capacity;  // per table name; else the spec's default
  uint32_t max_capacity = 0;                              // caps every table when non-zero (tests)
};

class KernelTableSet {
 public:
  static Status create(RcuDomain& rcu, const Clock& clock, const TableSetOptions& options,
                       std::unique_ptr<KernelTableSet>* out);

  // nullptr with a message naming the tables when unknown, or saying it is obsolete.
  KernelTable* find(std::string_view name_or_id, Status* error) const;
  KernelTable& table(TableId id) const { return *tables_.at(static_cast<uint32_t>(id)); }
  template <TableId Id>
  TypedTable<Id> typed() const { return TypedTable<Id>(table(Id)); }
  VpnRouting& vpn_routing() const { return *vpn_routing_; }

  // `fw tab` views. name_or_id empty = every table (summary only).
  Status read(std::string_view name_or_id, bool summary, const DumpOptions& options, std::string* out) const;
  std::vector<SummaryRow> summary() const;

  // Housekeeping from the writer thread: age every table a little, free what readers released.
  uint32_t age(uint32_t budget_per_table);
  void reclaim();

 private:
  KernelTableSet() = default;
  std::map<uint32_t, std::unique_ptr<KernelTable>> tables_;  // by ID, in catalog order
  std::unique_ptr<VpnRouting> vpn_routing_;
};

}  // namespace dpvpn::tables
