#pragma once
// KernelTable: one named, numbered state table over a lock-free rte_hash.
//
// Threads: any number of readers (worker lcores registered in the RcuDomain) call lookup* with no
// locks; exactly one writer thread calls everything else. Values live in a pool outside the hash;
// the hash maps key -> value pointer. A replaced or deleted value (and its key slot) goes to an
// rte_rcu_qsbr defer queue and is reused only after every reader has reported a quiescent state.
// Freed values are poisoned (kPoisonByte) so a use-after-free is visible in tests.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "tables/rcu_domain.hpp"
#include "tables/table_spec.hpp"
#include "util/clock.hpp"
#include "util/status.hpp"

struct rte_hash;
struct rte_rcu_qsbr_dq;

namespace dpvpn::tables {

inline constexpr uint32_t kTableDefaultTtl = UINT32_MAX;  // EntryOptions::ttl_s: the table's default
inline constexpr uint32_t kMaxBulk = 64;                  // keys per lookup_bulk (RTE_HASH_LOOKUP_BULK_MAX)
inline constexpr uint8_t kPoisonByte = 0xdb;
inline constexpr uint32_t kNoSlot = UINT32_MAX;

struct EntryOptions {
  uint32_t ttl_s = kTableDefaultTtl;  // 0: never expires
  bool link = false;                  // counted in #SLINKS (e.g. a connection's reverse entry)
};

struct EntryMeta {
  uint64_t expires_at = 0;  // clock seconds; 0 = never
  uint32_t ttl_s = 0;
  bool link = false;
};

class KernelTable {
 public:
  // Called by the writer after a new value is published (slot = its pool slot) and before the value
  // it replaced is retired, or before an entry is removed (slot = kNoSlot). A secondary index (the
  // vpn_routing LPM) keeps itself in step through it, so readers never reach a retired value.
  using IndexHook = std::function<Status(const void* key, uint32_t slot)>;

  static Status create(const TableSpec& spec, uint32_t capacity, RcuDomain& rcu, const Clock& clock,
                       std::unique_ptr<KernelTable>* out);
  ~KernelTable();
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

  // ---- writer thread ----
  Status insert(const void* key, const void* value, EntryOptions options = {});  // new keys only
  Status update(const void* key, const void* value, EntryOptions options = {});  // existing keys only
  Status upsert(const void* key, const void* value, EntryOptions options = {});
  Status remove(const void* key);
  Status refresh(const void* key, uint32_t ttl_s = kTableDefaultTtl);  // restart the expiry in place
  // Scans up to `budget` entries from where the last call stopped and removes the expired ones.
  // Returns how many it removed. Call it often with a small budget: readers are never stalled.
  uint32_t age(uint32_t budget);
  uint32_t age_all() { return age(UINT32_MAX); }
  // Frees retired values whose grace period is over (also done automatically on writes).
  void reclaim();
  // Visits every entry (writer thread, or while the writer is known to be idle).
  void for_each(const std::function<void(const void* key, const void* value, const EntryMeta&)>& fn) const;
  void set_index_hook(IndexHook hook) { index_hook_ = std::move(hook); }

  // ---- readers (registered in the RcuDomain) ----
  const void* lookup(const void* key) const;
  // Up to kMaxBulk keys; values[i] is set for every i (nullptr on a miss). Returns the hit mask.
  // rte_hash prefetches the buckets and keys of the whole burst itself.
  uint64_t lookup_bulk(const void** keys, uint32_t n, const void** values) const;
  // Prefetches the hit values. Separate from lookup_bulk so a worker can issue it and do other
  // per-packet work while the lines arrive; issued inside the lookup it competes with the
  // lookup's own misses (measured: +15-30% per lookup at 100k-1M entries).
  static void prefetch_values(const void* const* values, uint64_t hits);
  const void* value_at(uint32_t slot) const { return pool_ + size_t{slot} * stride_ + kHeaderSize; }
  uint32_t slot_of(const void* value) const {
    return static_cast<uint32_t>((static_cast<const uint8_t*>(value) - kHeaderSize - pool_) / stride_);
  }
  EntryMeta meta_of(const void* value) const;
  // Restarts an entry's expiry from a reader (a worker seeing a flow's packet): a relaxed store to
  // the value's header, done at most once per second per entry so a busy flow does not keep
  // dirtying the line. Safe under RCU: a value being retired only loses the refresh.
  static void touch(const void* value, uint64_t now_seconds);

  // ---- any thread ----
  const TableSpec& spec() const { return spec_; }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  uint64_t links() const { return links_.load(std::memory_order_relaxed); }
  uint32_t capacity() const { return capacity_; }
  uint32_t pending_reclaim() const { return pending_.load(std::memory_order_relaxed); }
  uint64_t now_seconds() const { return clock_.now_seconds(); }

 private:
  static constexpr size_t kHeaderSize = 16;
  struct Retired {
    uint32_t slot;
    uint32_t key_pos;  // kNoSlot when only the value was replaced
  };
  enum class PutMode { kInsert, kUpdate, kUpsert };

  KernelTable(const TableSpec& spec, uint32_t capacity, RcuDomain& rcu, const Clock& clock);
  Status init();
  Status put(const void* key, const void* value, EntryOptions options, PutMode mode);
  bool alloc_slot(uint32_t* slot);
  void write_slot(uint32_t slot, const void* value, EntryOptions options);
  void retire(uint32_t slot, uint32_t key_pos);
  void release(const Retired& retired);
  void count_added(bool link);
  void count_removed(bool link);
  uint8_t* slot_base(uint32_t slot) const { return pool_ + size_t{slot} * stride_; }
  static void release_batch(void* table, void* elements, unsigned int n);

  const TableSpec& spec_;
  const uint32_t capacity_;
  const uint32_t pool_slots_;  // capacity + headroom for values still in their grace period
  const size_t stride_;
  RcuDomain& rcu_;
  const Clock& clock_;

  rte_hash* hash_ = nullptr;
  rte_rcu_qsbr_dq* retired_ = nullptr;
  uint8_t* pool_ = nullptr;
  std::vector<uint32_t> free_slots_;  // writer only
  uint32_t age_cursor_ = 0;
  std::vector<uint8_t> expired_keys_;  // writer scratch for age()
  IndexHook index_hook_;

  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> peak_{0};
  std::atomic<uint64_t> links_{0};
  std::atomic<uint32_t> pending_{0};
};

}  // namespace dpvpn::tables
