#pragma once
// TypedTable<id>: the KernelTable API with the catalog's key and value types instead of void*.
#include "tables/catalog.hpp"
#include "tables/kernel_table.hpp"

namespace dpvpn::tables {

template <TableId Id>
class TypedTable {
 public:
  using Key = typename Layout<Id>::Key;
  using Value = typename Layout<Id>::Value;

  explicit TypedTable(KernelTable& table) : table_(table) {}

  Status insert(const Key& k, const Value& v, EntryOptions o = {}) { return table_.insert(&k, &v, o); }
  Status update(const Key& k, const Value& v, EntryOptions o = {}) { return table_.update(&k, &v, o); }
  Status upsert(const Key& k, const Value& v, EntryOptions o = {}) { return table_.upsert(&k, &v, o); }
  Status remove(const Key& k) { return table_.remove(&k); }
  Status refresh(const Key& k, uint32_t ttl_s = kTableDefaultTtl) { return table_.refresh(&k, ttl_s); }

  const Value* lookup(const Key& k) const { return static_cast<const Value*>(table_.lookup(&k)); }
  // keys: up to kMaxBulk pointers; values[i] is nullptr on a miss. Returns the hit mask.
  uint64_t lookup_bulk(const Key** keys, uint32_t n, const Value** values) const {
    return table_.lookup_bulk(reinterpret_cast<const void**>(keys), n, reinterpret_cast<const void**>(values));
  }

  static void prefetch_values(const Value* const* values, uint64_t hits) {
    KernelTable::prefetch_values(reinterpret_cast<const void* const*>(values), hits);
  }

  static void touch(const Value* value, uint64_t now_seconds) { KernelTable::touch(value, now_seconds); }

  KernelTable& raw() { return table_; }
  const KernelTable& raw() const { return table_; }

 private:
  KernelTable& table_;
};

}  // namespace dpvpn::tables
