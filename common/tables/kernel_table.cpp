#include "tables/kernel_table.hpp"

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace dpvpn::tables {

namespace {

constexpr uint32_t kHashSeed = 0x6470766e;  // fixed: dumps and benchmarks are reproducible

struct SlotHeader {
  uint64_t expires_at;
  uint32_t ttl_s;
  uint32_t flags;
};
constexpr uint32_t kSlotLink = 1;

std::atomic<uint32_t> g_instance_seq{0};  // DPDK object names must be unique in the process

uint32_t headroom_for(uint32_t capacity) { return std::max<uint32_t>(64, capacity / 4); }

// Key equality for the key sizes rte_hash has no vector compare for (it uses memcmp for any size
// that is not a multiple of 16: our 20-, 24- and 40-byte keys): 8-byte words XOR-ed together, no
// library call. Returns 0 when equal, like memcmp.
template <size_t kLen>
int compare_fixed(const void* a, const void* b) {
  static_assert(kLen % 4 == 0 && kLen >= 8);
  uint64_t diff = 0;
  const auto* x = static_cast<const uint8_t*>(a);
  const auto* y = static_cast<const uint8_t*>(b);
  for (size_t i = 0; i + 8 <= kLen; i += 8) {
    uint64_t p, q;
    std::memcpy(&p, x + i, 8);
    std::memcpy(&q, y + i, 8);
    diff |= p ^ q;
  }
  if constexpr (kLen % 8 != 0) {
    uint32_t p, q;
    std::memcpy(&p, x + kLen - 4, 4);
    std::memcpy(&q, y + kLen - 4, 4);
    diff |= p ^ q;
  }
  return diff != 0;
}

int compare_key_words(const void* a, const void* b, size_t len) {
  switch (len) {  // the catalog's key sizes
    case 20: return compare_fixed<20>(a, b);
    case 24: return compare_fixed<24>(a, b);
    case 40: return compare_fixed<40>(a, b);
    default: break;
  }
  const auto* x = static_cast<const uint8_t*>(a);
  const auto* y = static_cast<const uint8_t*>(b);
  uint64_t diff = 0;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t p, q;
    std::memcpy(&p, x + i, 8);
    std::memcpy(&q, y + i, 8);
    diff |= p ^ q;
  }
  if (i + 4 <= len) {
    uint32_t p, q;
    std::memcpy(&p, x + i, 4);
    std::memcpy(&q, y + i, 4);
    diff |= p ^ q;
    i += 4;
  }
  for (; i < len; ++i) diff |= static_cast<uint8_t>(x[i] ^ y[i]);
  return diff != 0;
}

}  // namespace

KernelTable::KernelTable(const TableSpec& spec, uint32_t capacity, RcuDomain& rcu, const Clock& clock)
    : spec_(spec),
      capacity_(capacity),
      pool_slots_(capacity + headroom_for(capacity)),
      stride_(RTE_ALIGN_CEIL(kHeaderSize + spec.value_size, RTE_CACHE_LINE_SIZE)),
      rcu_(rcu),
      clock_(clock) {
  static_assert(sizeof(SlotHeader) == kHeaderSize);
}

Status KernelTable::create(const TableSpec& spec, uint32_t capacity, RcuDomain& rcu, const Clock& clock,
                           std::unique_ptr<KernelTable>* out) {
  if (spec.obsolete) {
    return {StatusCode::kInvalidArgument, fmt::format("table {} is obsolete and is not created", spec.name)};
  }
  if (capacity == 0 || capacity > (1u << 26)) {
    return {StatusCode::kInvalidArgument,
            fmt::format("table {}: capacity {} out of range 1..{}", spec.name, capacity, 1u << 26)};
  }
  std::unique_ptr<KernelTable> table(new KernelTable(spec, capacity, rcu, clock));
  if (Status s = table->init(); !s) return s;
  *out = std::move(table);
  return Status::ok();
}

Status KernelTable::init() {
  const uint32_t seq = g_instance_seq.fetch_add(1);
  const std::string hash_name = fmt::format("kt{}_{}", spec_.id, seq);
  rte_hash_parameters params{};
  params.name = hash_name.c_str();
  params.entries = pool_slots_;
  params.key_len = spec_.key_size;
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = kHashSeed;
  params.socket_id = SOCKET_ID_ANY;
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&params);
  if (hash_ == nullptr) {
    return {StatusCode::kResourceExhausted,
            fmt::format("table {}: rte_hash_create({} entries) failed: {}", spec_.name, pool_slots_,
                        rte_strerror(rte_errno))};
  }
  if (spec_.key_size % 16 != 0) rte_hash_set_cmp_func(hash_, &compare_key_words);  // single process only

  pool_ = static_cast<uint8_t*>(
      rte_zmalloc_socket(hash_name.c_str(), size_t{pool_slots_} * stride_, RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY));
  if (pool_ == nullptr) {
    return {StatusCode::kResourceExhausted,
            fmt::format("table {}: no DPDK memory for {} values of {} bytes", spec_.name, pool_slots_, stride_)};
  }
  free_slots_.reserve(pool_slots_);
  for (uint32_t slot = pool_slots_; slot-- > 0;) free_slots_.push_back(slot);

  const std::string dq_name = fmt::format("ktdq{}_{}", spec_.id, seq);
  rte_rcu_qsbr_dq_parameters dq{};
  dq.name = dq_name.c_str();
  dq.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;  // one writer
  dq.size = pool_slots_;                 // every retired item holds a pool slot: it can never overflow
  dq.esize = sizeof(Retired);
  dq.trigger_reclaim_limit = 32;
  dq.max_reclaim_size = 64;
  dq.free_fn = &KernelTable::release_batch;
  dq.p = this;
  dq.v = rcu_.qsbr();
  retired_ = rte_rcu_qsbr_dq_create(&dq);
  if (retired_ == nullptr) {
    return {StatusCode::kResourceExhausted,
            fmt::format("table {}: rte_rcu_qsbr_dq_create failed: {}", spec_.name, rte_strerror(rte_errno))};
  }
  expired_keys_.reserve(size_t{spec_.key_size} * 256);
  return Status::ok();
}

KernelTable::~KernelTable() {
  // Readers must be gone by now; whatever is still deferred is released with the pool.
  if (retired_ != nullptr && rte_rcu_qsbr_dq_delete(retired_) != 0) {
    // Some reader never reported quiescent: leave the queue, free the rest regardless.
  }
  rte_hash_free(hash_);
  rte_free(pool_);
}

bool KernelTable::alloc_slot(uint32_t* slot) {
  if (free_slots_.empty()) reclaim();
  if (free_slots_.empty()) return false;
  *slot = free_slots_.back();
  free_slots_.pop_back();
  return true;
}

void KernelTable::write_slot(uint32_t slot, const void* value, EntryOptions options) {
  uint8_t* base = slot_base(slot);
  const uint32_t ttl = options.ttl_s == kTableDefaultTtl ? spec_.default_ttl_s : options.ttl_s;
  SlotHeader header{ttl == 0 ? 0 : clock_.now_seconds() + ttl, ttl, options.link ? kSlotLink : 0u};
  std::memcpy(base, &header, sizeof header);
  std::memcpy(base + kHeaderSize, value, spec_.value_size);
}

void KernelTable::retire(uint32_t slot, uint32_t key_pos) {
  Retired retired{slot, key_pos};
  pending_.fetch_add(1, std::memory_order_relaxed);
  // Sized to the pool, so this cannot fail: every pending item holds one of the pool's slots.
  rte_rcu_qsbr_dq_enqueue(retired_, &retired);
}

void KernelTable::release_batch(void* table, void* elements, unsigned int n) {
  auto* self = static_cast<KernelTable*>(table);
  const auto* retired = static_cast<const Retired*>(elements);
  for (unsigned int i = 0; i < n; ++i) self->release(retired[i]);
}

void KernelTable::release(const Retired& retired) {
  std::memset(slot_base(retired.slot), kPoisonByte, stride_);
  free_slots_.push_back(retired.slot);
  if (retired.key_pos != kNoSlot) rte_hash_free_key_with_position(hash_, static_cast<int32_t>(retired.key_pos));
  pending_.fetch_sub(1, std::memory_order_relaxed);
}

void KernelTable::reclaim() {
  unsigned int freed = 0, pending = 0, available = 0;
  rte_rcu_qsbr_dq_reclaim(retired_, pool_slots_, &freed, &pending, &available);
}

void KernelTable::count_added(bool link) {
  const uint64_t now = count_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (now > peak_.load(std::memory_order_relaxed)) peak_.store(now, std::memory_order_relaxed);
  if (link) links_.fetch_add(1, std::memory_order_relaxed);
}

void KernelTable::count_removed(bool link) {
  count_.fetch_sub(1, std::memory_order_relaxed);
  if (link) links_.fetch_sub(1, std::memory_order_relaxed);
}

EntryMeta KernelTable::meta_of(const void* value) const {
  SlotHeader header;
  std::memcpy(&header, static_cast<const uint8_t*>(value) - kHeaderSize, sizeof header);
  return {header.expires_at, header.ttl_s, (header.flags & kSlotLink) != 0};
}

Status KernelTable::put(const void* key, const void* value, EntryOptions options, PutMode mode) {
  void* old = nullptr;
  const bool exists = rte_hash_lookup_data(hash_, key, &old) >= 0;
  if (exists && mode == PutMode::kInsert) {
    return {StatusCode::kAlreadyExists, fmt::format("table {}: entry already exists", spec_.name)};
  }
  if (!exists && mode == PutMode::kUpdate) {
    return {StatusCode::kNotFound, fmt::format("table {}: no such entry", spec_.name)};
  }
  if (!exists && count() >= capacity_) {
    return {StatusCode::kResourceExhausted,
            fmt::format("table {} is full ({} of {} entries); existing entries are unchanged", spec_.name,
                        count(), capacity_)};
  }
  uint32_t slot = kNoSlot;
  if (!alloc_slot(&slot)) {
    return {StatusCode::kUnavailable,
            fmt::format("table {}: all {} spare values are waiting for readers' RCU grace period; retry",
                        spec_.name, pool_slots_ - capacity_)};
  }
  write_slot(slot, value, options);
  void* fresh = slot_base(slot) + kHeaderSize;
  const int32_t rc = rte_hash_add_key_data(hash_, key, fresh);
  if (rc < 0) {
    free_slots_.push_back(slot);  // never published
    return {StatusCode::kResourceExhausted,
            fmt::format("table {}: rte_hash refused the key ({})", spec_.name, rte_strerror(-rc))};
  }
  if (index_hook_) {
    if (Status s = index_hook_(key, slot); !s) {
      // Undo: readers may already have seen the new value, so it goes through the grace period.
      if (exists) {
        rte_hash_add_key_data(hash_, key, old);
        retire(slot, kNoSlot);
      } else {
        const int32_t pos = rte_hash_del_key(hash_, key);
        retire(slot, pos >= 0 ? static_cast<uint32_t>(pos) : kNoSlot);
      }
      return s;
    }
  }
  if (exists) {
    const bool was_link = meta_of(old).link;
    if (was_link != options.link) {
      if (options.link) links_.fetch_add(1, std::memory_order_relaxed);
      else links_.fetch_sub(1, std::memory_order_relaxed);
    }
    retire(slot_of(old), kNoSlot);
  } else {
    count_added(options.link);
  }
  return Status::ok();
}

Status KernelTable::insert(const void* key, const void* value, EntryOptions options) {
  return put(key, value, options, PutMode::kInsert);
}
Status KernelTable::update(const void* key, const void* value, EntryOptions options) {
  return put(key, value, options, PutMode::kUpdate);
}
Status KernelTable::upsert(const void* key, const void* value, EntryOptions options) {
  return put(key, value, options, PutMode::kUpsert);
}

Status KernelTable::remove(const void* key) {
  void* old = nullptr;
  if (rte_hash_lookup_data(hash_, key, &old) < 0) {
    return {StatusCode::kNotFound, fmt::format("table {}: no such entry", spec_.name)};
  }
  if (index_hook_) {
    if (Status s = index_hook_(key, kNoSlot); !s) return s;
  }
  const bool link = meta_of(old).link;
  const int32_t pos = rte_hash_del_key(hash_, key);
  retire(slot_of(old), pos >= 0 ? static_cast<uint32_t>(pos) : kNoSlot);
  count_removed(link);
  return Status::ok();
}

Status KernelTable::refresh(const void* key, uint32_t ttl_s) {
  void* value = nullptr;
  if (rte_hash_lookup_data(hash_, key, &value) < 0) {
    return {StatusCode::kNotFound, fmt::format("table {}: no such entry", spec_.name)};
  }
  auto* header = reinterpret_cast<SlotHeader*>(static_cast<uint8_t*>(value) - kHeaderSize);
  const uint32_t ttl = ttl_s == kTableDefaultTtl ? header->ttl_s : ttl_s;
  // Only the writer and dumps read the header; the value readers use is untouched.
  std::atomic_ref<uint32_t>(header->ttl_s).store(ttl, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(header->expires_at)
      .store(ttl == 0 ? 0 : clock_.now_seconds() + ttl, std::memory_order_relaxed);
  return Status::ok();
}

uint32_t KernelTable::age(uint32_t budget) {
  const uint64_t now = clock_.now_seconds();
  expired_keys_.clear();
  for (uint32_t scanned = 0; scanned < budget; ++scanned) {
    const void* key = nullptr;
    void* value = nullptr;
    if (rte_hash_iterate(hash_, &key, &value, &age_cursor_) < 0) {
      age_cursor_ = 0;  // one full pass done; the next call starts another
      break;
    }
    const EntryMeta meta = meta_of(value);
    if (meta.expires_at != 0 && meta.expires_at <= now) {
      const auto* k = static_cast<const uint8_t*>(key);
      expired_keys_.insert(expired_keys_.end(), k, k + spec_.key_size);
    }
  }
  // Removed after the scan: deleting moves entries inside a bucket chain under the iterator.
  uint32_t removed = 0;
  for (size_t off = 0; off < expired_keys_.size(); off += spec_.key_size) {
    if (remove(expired_keys_.data() + off).is_ok()) ++removed;
  }
  reclaim();
  return removed;
}

void KernelTable::for_each(
    const std::function<void(const void* key, const void* value, const EntryMeta&)>& fn) const {
  uint32_t cursor = 0;
  const void* key = nullptr;
  void* value = nullptr;
  while (rte_hash_iterate(hash_, &key, &value, &cursor) >= 0) fn(key, value, meta_of(value));
}

void KernelTable::touch(const void* value, uint64_t now_seconds) {
  auto* header = reinterpret_cast<SlotHeader*>(const_cast<uint8_t*>(static_cast<const uint8_t*>(value)) - kHeaderSize);
  const uint32_t ttl = std::atomic_ref<uint32_t>(header->ttl_s).load(std::memory_order_relaxed);
  if (ttl == 0) return;
  std::atomic_ref<uint64_t> expires(header->expires_at);
  if (expires.load(std::memory_order_relaxed) < now_seconds + ttl) {
    expires.store(now_seconds + ttl, std::memory_order_relaxed);
  }
}

void KernelTable::prefetch_values(const void* const* values, uint64_t hits) {
  for (uint64_t m = hits; m != 0; m &= m - 1) rte_prefetch0(values[std::countr_zero(m)]);
}

const void* KernelTable::lookup(const void* key) const {
  void* value = nullptr;
  return rte_hash_lookup_data(hash_, key, &value) >= 0 ? value : nullptr;
}

uint64_t KernelTable::lookup_bulk(const void** keys, uint32_t n, const void** values) const {
  uint64_t hits = 0;
  rte_hash_lookup_bulk_data(hash_, keys, n, &hits, const_cast<void**>(values));
  const uint64_t all = n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  for (uint64_t m = ~hits & all; m != 0; m &= m - 1) values[std::countr_zero(m)] = nullptr;
  return hits;
}

}  // namespace dpvpn::tables
