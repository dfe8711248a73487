#pragma once
// EspSa: the runtime form of one ESP SA. Four parts:
//  - EspSaHot: what every packet reads, one cache line (SPI, algorithm, key pointer, replay window,
//    outer header template, selectors, which key lines to prefetch, state); the data path writes it
//    only when the SA expires (state);
//  - the usage line, which each burst reads and writes once per SA: next outbound sequence number,
//    packet/byte counters and the lifetime limits they are checked against;
//  - a line of drop counters;
//  - the cold part: the SaParams without keys, selectors, creation time.
// Key material lives in its own aligned EspKeyBlock, zeroed when the SA is destroyed.
//
// Threading: an outbound SA may be used by any number of worker lcores at once (sequence numbers
// are reserved with one fetch_add per SA per burst). Those writes go to the usage line only, so lcores
// sharing an SA pass that one line between them while each keeps its own copy of the hot line, which
// every packet reads (bench/scaling.py, 2 workers on one SA, 64 B: 1.9x with either layout on this
// 2-vCPU machine, whose vCPUs share an L3; the split is for cores that do not). An inbound SA's
// replay window is not concurrent: at any one time a single lcore may run inbound bursts
// for a given SA (RSS on the outer addresses/SPI gives that). Counters and state are relaxed atomics,
// readable anywhere.
#include <rte_prefetch.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "esp/crypto_engine.hpp"
#include "sa/sa_params.hpp"
#include "util/status.hpp"

namespace dpvpn::dataplane {

class ReplayWindow;

namespace esp_flags {
inline constexpr uint8_t kEsn = 1u << 0;
inline constexpr uint8_t kNatt = 1u << 1;
inline constexpr uint8_t kOuterV6 = 1u << 2;
inline constexpr uint8_t kInbound = 1u << 3;
inline constexpr uint8_t kCbc = 1u << 4;  // AES-CBC + HMAC (block 16, IV 16); else AEAD
}  // namespace esp_flags

namespace esp_state {
inline constexpr uint32_t kSoftExpired = 1u << 0;
inline constexpr uint32_t kHardExpired = 1u << 1;
inline constexpr uint32_t kSoftEvent = 1u << 2;  // raised, not yet taken by housekeeping
inline constexpr uint32_t kHardEvent = 1u << 3;
}  // namespace esp_state

// Highest sequence number an SA may send. With ESN the last 2^20 numbers are left unused so
// that lcores racing their per-burst fetch_add past the limit can never wrap the 64-bit counter.
inline constexpr uint64_t kMaxSeq32 = 0xffffffffull;
inline constexpr uint64_t kEsnSeqGuard = 1ull << 20;
inline constexpr uint64_t kMaxSeqEsn = ~0ull - kEsnSeqGuard;

struct EspSaSelectors;

struct alignas(64) EspSaHot {
  uint32_t spi;                   // host order
  EspAlgorithm algorithm;
  uint8_t flags;                  // esp_flags
  uint8_t iv_len;                 // 8 (AEAD) or 16 (CBC)
  uint8_t outer_len;              // outbound: outer IP (+ UDP) header bytes
  const EspKeyBlock* keys;
  ReplayWindow* replay;                // inbound
  const uint8_t* outer_template;       // outbound: outer IP (+ UDP) header, lengths/ids zero
  // The published selectors (see EspSaSelectors for their lifetime); UpdateSa swaps them.
  std::atomic<const EspSaSelectors*> selectors;
  std::atomic<uint32_t> state;         // esp_state
  uint32_t key_lines;                  // which lines of keys a packet reads (CryptoEngine::hot_key_lines)
  uint8_t block_size;                  // padding boundary: 16 (CBC) or 4 (AEAD); a power of two
  uint16_t outer_sum;                  // outbound IPv4: one's-complement sum of outer_template's 20 bytes

  bool esn() const { return (flags & esp_flags::kEsn) != 0; }
  bool natt() const { return (flags & esp_flags::kNatt) != 0; }
  bool inbound() const { return (flags & esp_flags::kInbound) != 0; }
  bool outer_v6() const { return (flags & esp_flags::kOuterV6) != 0; }
  bool cbc() const { return (flags & esp_flags::kCbc) != 0; }
  uint64_t max_seq() const { return esn() ? kMaxSeqEsn : kMaxSeq32; }
  bool hard_expired() const {
    return (state.load(std::memory_order_relaxed) & esp_state::kHardExpired) != 0;
  }
};
static_assert(sizeof(EspSaHot) == 64, "EspSaHot must stay one cache line");
static_assert(alignof(EspSaHot) == 64);
static_assert(offsetof(EspSaHot, spi) == 0);
static_assert(offsetof(EspSaHot, keys) == 8);
static_assert(offsetof(EspSaHot, replay) == 16);
static_assert(offsetof(EspSaHot, outer_template) == 24);
static_assert(offsetof(EspSaHot, selectors) == 32);
static_assert(offsetof(EspSaHot, state) == 40);
static_assert(offsetof(EspSaHot, outer_sum) == 50);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<const EspSaSelectors*>::is_always_lock_free);

// Byte/packet lifetimes, checked once per SA per burst. 0 = no limit. Relaxed atomics: UpdateSa
// may change them while workers read; a burst seeing a mix of old and new limits is harmless.
struct EspSaLimits {
  std::atomic<uint64_t> soft_packets{0}, hard_packets{0};
  std::atomic<uint64_t> soft_bytes{0}, hard_bytes{0};
};

// One traffic selector as the data path compares it: the address bounds as 128-bit numbers in host
// order (IPv4 as ::ffff:a.b.c.d, like IpAddr), so a packet's address is checked with two integer
// compares instead of byte-swapping both bounds for every packet.
__extension__ typedef unsigned __int128 Addr128;
struct SelectorRange {
  Addr128 start, end;  // inclusive
  uint16_t port_lo, port_hi;
  uint8_t protocol;    // 0 = any
};

// Inner-address selectors of an inbound SA. Immutable once published: UpdateSa swaps in a new
// object and the caller frees the old one after an RCU grace period (workers may still read it).
// What the data path reads comes first (inner_selectors.hpp): the IPv4 windows, then the ranges of
// each side, held in the object itself when a side has one selector, so a packet reads the object's
// first lines and nothing they point to (kDataPathLines are prefetched with the SA: the windows and
// the remote range; an IPv6 packet may also read the local range's tail on the third line).
struct alignas(64) EspSaSelectors {
  EspSaSelectors(std::vector<TrafficSelector> local_ts, std::vector<TrafficSelector> remote_ts);
  EspSaSelectors(const EspSaSelectors&) = delete;  // the spans point into the object
  EspSaSelectors& operator=(const EspSaSelectors&) = delete;

  static constexpr uint32_t kDataPathLines = 2;
  // The usual child SA, each side one range of any protocol and port (or no selector: any), as IPv4
  // windows: an IPv4 inner packet matches iff (address - start) <= span on both sides (unsigned),
  // which needs neither its ports nor 128-bit compares. False when a side is anything else (several
  // selectors, a protocol or port range, no IPv4 address in its range): the ranges decide.
  bool v4_windows = false;
  uint32_t remote_v4_start = 0, remote_v4_span = 0, local_v4_start = 0, local_v4_span = 0;
  std::span<const SelectorRange> remote_ranges, local_ranges;  // the data path's view (empty: any)
  SelectorRange remote_inline{}, local_inline{};
  std::vector<TrafficSelector> local;   // inner addresses on our side
  std::vector<TrafficSelector> remote;  // inner addresses on the peer's side
  std::vector<SelectorRange> local_more, remote_more;  // a side with several selectors
};
static_assert(offsetof(EspSaSelectors, local_ranges) + sizeof(std::span<const SelectorRange>) <= 64,
              "the IPv4 windows and the spans share the first line");
static_assert(offsetof(EspSaSelectors, remote_inline) + sizeof(SelectorRange) <= EspSaSelectors::kDataPathLines * 64);

struct alignas(64) EspSaDropCounters {
  std::atomic<uint64_t> replay{0};  // duplicate or too old
  std::atomic<uint64_t> auth{0};    // ICV failures
  std::atomic<uint64_t> ts{0};      // inner packet outside the traffic selectors
  std::atomic<uint64_t> other{0};   // everything else (lengths, padding, expiry, ...)
};

struct EspSaCounters {
  uint64_t packets = 0, bytes = 0;
  uint64_t replay_drops = 0, auth_failures = 0, ts_drops = 0, other_drops = 0;
};

struct EspSaOptions {
  uint64_t now_seconds = 0;  // creation time on the caller's clock, for check_time()
  uint64_t first_seq = 1;    // outbound: first sequence number sent (tests start near the wrap)
  // Caller-owned key memory (e.g. locked or hugepage memory). Zeroed, not freed, by ~EspSa.
  // nullptr: the SA allocates its own.
  EspKeyBlock* key_storage = nullptr;
};

class EspSa {
 public:
  ~EspSa();
  EspSa(const EspSa&) = delete;
  EspSa& operator=(const EspSa&) = delete;

  EspSaHot& hot() { return hot_; }
  const EspSaHot& hot() const { return hot_; }
  const SaParams& params() const { return params_; }  // key and auth_key are empty
  uint32_t spi() const { return hot_.spi; }
  bool inbound() const { return hot_.inbound(); }
  uint64_t created_seconds() const { return created_seconds_; }
  // Data path: the selectors published now (see EspSaSelectors for their lifetime).
  const EspSaSelectors& selectors() const { return *hot_.selectors.load(std::memory_order_acquire); }
  const std::vector<TrafficSelector>& local_ts() const { return selectors().local; }
  const std::vector<TrafficSelector>& remote_ts() const { return selectors().remote; }
  ReplayWindow* replay_window() { return replay_.get(); }

  EspSaCounters counters() const;
  bool soft_expired() const;
  bool hard_expired() const { return hot_.hard_expired(); }
  // Housekeeping: time-based lifetimes against the creation time (same clock as now_seconds).
  void check_time(uint64_t now_seconds);
  // Housekeeping: the expiry events (esp_state::kSoftEvent / kHardEvent) raised since the last
  // call; each event is returned exactly once.
  uint32_t take_expiry_events();

  // Data path, once per SA per burst.
  // How many more packets / bytes the hard lifetime allows (UINT64_MAX: no limit).
  uint64_t packet_budget() const;
  uint64_t byte_budget() const;
  // Outbound, once per SA per burst: reserves n sequence numbers and returns the first (may be past
  // max_seq(): the caller stops there).
  uint64_t reserve_seq(uint64_t n) { return usage_.next_seq.fetch_add(n, std::memory_order_relaxed); }
  uint64_t next_seq() const { return usage_.next_seq.load(std::memory_order_relaxed); }  // outbound

  // The lines a chunk reads from this SA, in two steps: first its own (hot line, usage line), then
  // the ones those point to (the key lines of key_lines, outbound header template, inbound replay
  // window and selectors). See prefetch_sas() (esp_burst.hpp).
  // (rte_prefetch0, an asm statement: GCC deletes a loop of __builtin_prefetch as free of side effects.)
  void prefetch_own() const {
    rte_prefetch0(&hot_);
    rte_prefetch0(&usage_);
  }
  void prefetch_pointed() const {
    const auto* keys = reinterpret_cast<const char*>(hot_.keys);
    for (uint32_t lines = hot_.key_lines; lines != 0; lines &= lines - 1) {
      rte_prefetch0(keys + 64 * __builtin_ctz(lines));
    }
    if (hot_.inbound()) {
      rte_prefetch0(hot_.replay);
      const auto* selectors = reinterpret_cast<const char*>(hot_.selectors.load(std::memory_order_acquire));
      for (uint32_t line = 0; line < EspSaSelectors::kDataPathLines; ++line) rte_prefetch0(selectors + 64 * line);
    } else {
      rte_prefetch0(hot_.outer_template);
    }
  }
  void account(uint64_t packets, uint64_t bytes);  // adds, then raises soft/hard expiry
  void add_drops(uint32_t replay, uint32_t auth, uint32_t ts, uint32_t other);
  void mark_hard_expired() { raise_once(esp_state::kHardExpired, esp_state::kHardEvent); }

  // Control path (the tables' writer): replaces the lifetime and the selectors (UpdateSa). Time
  // limits still count from creation; a limit already reached stays reached (an expired SA is not
  // revived — install a new one). The replaced selectors go to *retired, to be freed by the caller
  // once every worker has passed a quiescent state.
  Status update(const SaLifetime& lifetime, std::vector<TrafficSelector> local_ts,
                std::vector<TrafficSelector> remote_ts, std::unique_ptr<const EspSaSelectors>* retired);

  // Tests: the key block (to prove it is wiped on destruction when caller-owned).
  const EspKeyBlock* key_block_for_test() const { return keys_; }

 private:
  friend Status create_esp_sa(const SaParams&, const CryptoEngine&, const EspSaOptions&,
                              std::unique_ptr<EspSa>*);
  EspSa() = default;
  // Sets `flag`; adds `event` only if this call set it, so each event is reported once.
  void raise_once(uint32_t flag, uint32_t event);

  EspSaHot hot_{};
  // The line each burst reads and writes once per SA: what the lifetime counts, and its limits.
  struct alignas(64) UsageLine {
    EspSaLimits limits;
    std::atomic<uint64_t> next_seq{0};  // outbound: next sequence number to hand out
    std::atomic<uint64_t> packets{0};   // processed successfully (lifetime accounting)
    std::atomic<uint64_t> bytes{0};     // inner IP bytes processed successfully
  } usage_;
  static_assert(sizeof(UsageLine) == 64);
  EspSaDropCounters drops_{};
  // Cold.
  SaParams params_;
  uint64_t created_seconds_ = 0;
  uint64_t soft_seconds_ = 0, hard_seconds_ = 0;
  std::unique_ptr<ReplayWindow> replay_;
  std::unique_ptr<const EspSaSelectors> selectors_owner_;
  EspKeyBlock* keys_ = nullptr;
  bool owns_keys_ = false;
  const CryptoEngine* engine_ = nullptr;  // released what it prepared (cryptodev sessions) on destruction
  alignas(8) uint8_t outer_template_[48] = {};
};

// Soft limits must not be above hard ones (0 = no limit); the message names the lifetime field.
Status validate_lifetime(const SaLifetime& lifetime);

// Validates params (key sizes, SPI, replay window, endpoint families, ...), prepares the key
// schedule with `engine` and builds the runtime SA. Error messages name the offending field and
// never contain key bytes. Control path (allocates).
Status create_esp_sa(const SaParams& params, const CryptoEngine& engine, const EspSaOptions& options,
                     std::unique_ptr<EspSa>* out);

// A wipe the optimizer cannot remove (explicit_bzero).
void secure_zero(void* p, size_t n);

}  // namespace dpvpn::dataplane
