#include "tables/kernel_table_set.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "tables/table_dump.hpp"

namespace dpvpn::tables {

Status KernelTableSet::create(RcuDomain& rcu, const Clock& clock, const TableSetOptions& options,
                              std::unique_ptr<KernelTableSet>* out) {
  std::unique_ptr<KernelTableSet> set(new KernelTableSet());
  for (const TableSpec* spec : kCatalog) {
    if (spec->obsolete) continue;
    uint32_t capacity = spec->default_capacity;
    if (auto it = options.capacity.find(spec->name); it != options.capacity.end()) capacity = it->second;
    if (options.max_capacity != 0) capacity = std::min(capacity, options.max_capacity);
    std::unique_ptr<KernelTable> table;
    if (Status s = KernelTable::create(*spec, capacity, rcu, clock, &table); !s) return s;
    set->tables_.emplace(spec->id, std::move(table));
  }
  if (Status s = VpnRouting::create(set->table(TableId::vpn_routing), rcu, &set->vpn_routing_); !s) return s;
  *out = std::move(set);
  return Status::ok();
}

KernelTable* KernelTableSet::find(std::string_view name_or_id, Status* error) const {
  const TableSpec* spec = find_spec(name_or_id);
  if (spec == nullptr) {
    *error = {StatusCode::kNotFound, unknown_table_message(name_or_id)};
    return nullptr;
  }
  if (spec->obsolete) {
    *error = {StatusCode::kNotFound,
              fmt::format("table {} ({}) is obsolete and no longer maintained", spec->name, spec->id)};
    return nullptr;
  }
  return tables_.at(spec->id).get();
}

std::vector<SummaryRow> KernelTableSet::summary() const {
  std::vector<SummaryRow> rows;
  for (const auto& [id, table] : tables_) rows.push_back(summary_of(*table));
  return rows;
}

Status KernelTableSet::read(std::string_view name_or_id, bool summary, const DumpOptions& options,
                            std::string* out) const {
  if (name_or_id.empty()) {
    if (!summary) return {StatusCode::kInvalidArgument, "name a table with -t, or ask for the summary (-s)"};
    *out = format_summary(this->summary());
    return Status::ok();
  }
  Status error;
  const KernelTable* table = find(name_or_id, &error);
  if (table == nullptr) return error;
  if (summary) {
    const SummaryRow row = summary_of(*table);
    *out = format_summary({&row, 1});
  } else {
    *out = dump_table(*table, options);
  }
  return Status::ok();
}

uint32_t KernelTableSet::age(uint32_t budget_per_table) {
  uint32_t removed = 0;
  for (auto& [id, table] : tables_) removed += table->age(budget_per_table);
  vpn_routing_->reclaim();
  return removed;
}

void KernelTableSet::reclaim() {
  for (auto& [id, table] : tables_) table->reclaim();
  vpn_routing_->reclaim();
}

}  // namespace dpvpn::tables
