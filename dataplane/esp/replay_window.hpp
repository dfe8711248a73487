#pragma once
// ReplayWindow: the ESP inbound anti-replay window (RFC 4303 §3.4.3 and Appendix A), with optional
// 64-bit extended sequence numbers (ESN, RFC 4303 §2.2.1 and Appendix A2.2).
//
// One per inbound SA, used by the one worker lcore that owns the SA: single writer, no atomics, no
// allocation, no exceptions, no syscalls. Per packet:
//   1. check(seq_low, &seq_full) before the ICV check: cheap, const (changes nothing);
//   2. verify the ICV (with ESN the high 32 bits of seq_full are part of the ICV input, so a wrong
//      inference shows up as an ICV failure);
//   3. accept(seq_full) only if the ICV verified. A packet whose ICV fails is simply dropped: the
//      window stays as it was.
// When a whole burst is checked before any of it is accepted, two copies of one packet in the burst
// both pass step 1: call check() again right before accept() and drop the packet unless it is still
// kOk (accept() itself has no verdict to return).
//
// The window holds W = size() bits for the sequence numbers [top - W + 1, top]. Number x lives at
// bit x mod 4096 of a ring of 64 words (word (x / 64) mod 64, bit x % 64) whatever W is: two numbers
// of a window (W <= 4096) never share a bit, a word index is a mask (no division, no branch on W),
// and sliding the window clears exactly the bits of the numbers that enter it — O(words touched),
// never a shift of the whole bitmap.
//
// Semantic choices (RFC 4303 leaves them open or implies them):
//  - Sequence number 0 is never valid: without ESN the first packet carries 1 and the counter does
//    not cycle; with ESN the 64-bit counter starts at 1 too. Such a packet is kTooOld. With ESN a
//    low half of 0 is fine in later epochs (2^32 has low half 0, high half 1).
//  - Without ESN nothing can follow top = 0xffffffff (the peer must rekey): every later packet is a
//    duplicate or too old.
//  - ESN inference is Appendix A2.2, except where it would name an epoch that does not exist: while
//    top is in epoch 0 and the window would reach below 0 (Th - 1 = -1), the packet is taken from
//    epoch 0, i.e. far ahead (as DPDK's rte_ipsec does; an epoch -1 packet cannot exist, so this
//    loses nothing, and the ICV decides); with top in the last epoch (Th + 1 = 2^32) the packet
//    stays in epoch Th, where it is too old. In short, the inferred value is the unique x with
//    low32(x) = seq_low in [max(top - W + 1, 0), max(top - W + 1, 0) + 2^32), clamped to 64 bits.
//  - top() == 0 means nothing accepted yet: the window is [1 - W, 0], every number >= 1 is new.
//  - With ESN a "too old" packet cannot be told from one 2^32 - W ahead: Appendix A infers it as
//    ahead (verdict kOk) and its ICV fails. kTooOld with ESN only comes from 0 and the last epoch.
//  - size is clamped to [64, 4096] and rounded up to a multiple of 64 (the caller validates it;
//    this only keeps a bad value from breaking memory safety).
#include <array>
#include <cstdint>

namespace dpvpn::dataplane {

enum class ReplayVerdict : uint8_t { kOk, kDuplicate, kTooOld };

class ReplayWindow {
 public:
  static constexpr uint32_t kMinSize = 64;
  static constexpr uint32_t kMaxSize = 4096;

  explicit ReplayWindow(uint32_t size = 1024, bool esn = false) noexcept
      : size_(clamp_size(size)), esn_(esn) {}

  // May a packet with this (low) sequence number be accepted? Writes the full sequence number
  // (inferred with ESN, seq_low without) to *seq_full in every case; it is meaningful for kOk and
  // kDuplicate.
  ReplayVerdict check(uint32_t seq_low, uint64_t* seq_full) const noexcept {
    const uint64_t seq = esn_ ? infer_esn(seq_low) : seq_low;
    *seq_full = seq;
    if (seq > top_) return ReplayVerdict::kOk;  // ahead of the window (and so >= 1)
    if (seq == 0 || top_ - seq >= size_) return ReplayVerdict::kTooOld;
    return ((bits_[word_index(seq)] >> (seq & 63)) & 1) != 0 ? ReplayVerdict::kDuplicate
                                                             : ReplayVerdict::kOk;
  }

  // Marks seq_full received (it passed check() and the ICV); slides the window if it is newer than
  // top. A number that is 0 or below the window is ignored.
  void accept(uint64_t seq_full) noexcept {
    if (seq_full > top_) {
      const uint64_t ahead = seq_full - top_;
      // In order (ahead 1) the one number entering is seq_full, whose bit is set below: no clearing.
      if (ahead >= size_) {
        bits_.fill(0);
      } else if (ahead > 1) {
        clear_range(top_ + 1, seq_full);
      }
      top_ = seq_full;
    } else if (seq_full == 0 || top_ - seq_full >= size_) {
      return;
    }
    bits_[word_index(seq_full)] |= uint64_t{1} << (seq_full & 63);
  }

  // check() again and accept() in one step, for a packet whose check() gave kOk and seq_full
  // before its ICV was verified (the window may have moved since, by earlier packets of the same
  // burst): kOk = accepted now; kDuplicate / kTooOld = not accepted, the window unchanged. The
  // window only moves up, so re-inferring the ESN high half from the current top gives seq_full
  // again whenever seq_full is still inside or ahead of the window: no second inference is needed.
  ReplayVerdict recheck_accept(uint64_t seq_full) noexcept {
    if (seq_full > top_) {
      accept(seq_full);
      return ReplayVerdict::kOk;
    }
    if (seq_full == 0 || top_ - seq_full >= size_) return ReplayVerdict::kTooOld;
    uint64_t& word = bits_[word_index(seq_full)];
    const uint64_t bit = uint64_t{1} << (seq_full & 63);
    if ((word & bit) != 0) return ReplayVerdict::kDuplicate;
    word |= bit;
    return ReplayVerdict::kOk;
  }

  // The bitmap word accept(seq_full) writes, asked for (with intent to write) before the crypto
  // that precedes it: with many SAs it is a miss of its own.
  void prefetch_for_accept(uint64_t seq_full) const noexcept { __builtin_prefetch(&bits_[word_index(seq_full)], 1); }

  uint64_t top() const noexcept { return top_; }  // highest accepted so far; 0 = none
  uint32_t size() const noexcept { return size_; }

 private:
  static constexpr uint32_t clamp_size(uint32_t size) noexcept {
    if (size < kMinSize) size = kMinSize;
    if (size > kMaxSize) size = kMaxSize;
    return (size + 63u) & ~63u;
  }

  // Appendix A2.2 with T = top_, W = size_ (see the header comment for the two clamped epochs).
  uint64_t infer_esn(uint32_t seq_low) const noexcept {
    const uint32_t tl = static_cast<uint32_t>(top_);
    uint32_t th = static_cast<uint32_t>(top_ >> 32);
    const uint32_t bottom = tl - (size_ - 1);  // Tl - W + 1 (mod 2^32)
    if (tl >= size_ - 1) {
      // Window inside epoch Th: below its bottom means the next epoch.
      th += static_cast<uint32_t>((seq_low < bottom) & (th != UINT32_MAX));
    } else {
      // Window spans epochs Th - 1 and Th: at or above its bottom means the previous epoch.
      th -= static_cast<uint32_t>((seq_low >= bottom) & (th != 0));
    }
    return (uint64_t{th} << 32) | seq_low;
  }

  static constexpr uint32_t kWords = kMaxSize / 64;  // the ring: a power of two
  static uint32_t word_index(uint64_t seq) noexcept { return static_cast<uint32_t>(seq >> 6) & (kWords - 1); }
  static uint32_t next_word(uint32_t w) noexcept { return (w + 1) & (kWords - 1); }

  // Clears the bits of the numbers [first, last], last - first < size_ - 1 (they enter the window;
  // their bits still hold numbers that left it, or none).
  void clear_range(uint64_t first, uint64_t last) noexcept {
    const uint64_t first_mask = ~uint64_t{0} << (first & 63);       // bits >= first % 64
    const uint64_t last_mask = ~uint64_t{0} >> (63 - (last & 63));  // bits <= last % 64
    uint32_t w = word_index(first);
    if ((first >> 6) == (last >> 6)) {
      bits_[w] &= ~(first_mask & last_mask);
      return;
    }
    // Blocks first/64 .. last/64, at most kWords + 1 of them (the first and the last may then share
    // a ring word, each clearing its own part of it).
    const uint32_t last_w = word_index(last);
    bits_[w] &= ~first_mask;
    for (w = next_word(w); w != last_w; w = next_word(w)) bits_[w] = 0;
    bits_[last_w] &= ~last_mask;
  }

  uint64_t top_ = 0;
  uint32_t size_;
  bool esn_;
  std::array<uint64_t, kWords> bits_{};
};

}  // namespace dpvpn::dataplane
