// ReplayWindow: the ESP anti-replay window (RFC 4303 §3.4.3, Appendix A) with and without ESN.
// Exact cases first, then an exhaustive slide test for the ring's partial-word clearing, then a
// randomized differential test against a std::set reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "esp/replay_window.hpp"

using dpvpn::dataplane::ReplayVerdict;
using dpvpn::dataplane::ReplayWindow;

namespace Catch {
template <>
struct StringMaker<ReplayVerdict> {
  static std::string convert(ReplayVerdict v) {
    switch (v) {
      case ReplayVerdict::kOk: return "kOk";
      case ReplayVerdict::kDuplicate: return "kDuplicate";
      case ReplayVerdict::kTooOld: return "kTooOld";
    }
    return "ReplayVerdict(?)";
  }
};
}  // namespace Catch

namespace {
constexpr auto kOk = ReplayVerdict::kOk;
constexpr auto kDup = ReplayVerdict::kDuplicate;
constexpr auto kOld = ReplayVerdict::kTooOld;

ReplayVerdict verdict(const ReplayWindow& w, uint32_t seq_low) {
  uint64_t full = 0;
  return w.check(seq_low, &full);
}

uint64_t full_of(const ReplayWindow& w, uint32_t seq_low) {
  uint64_t full = ~uint64_t{0};
  (void)w.check(seq_low, &full);
  return full;
}

// The data path: check, then (ICV ok) accept. Returns the verdict; accepts only on kOk.
ReplayVerdict receive(ReplayWindow& w, uint32_t seq_low, uint64_t* full_out = nullptr) {
  uint64_t full = 0;
  const ReplayVerdict v = w.check(seq_low, &full);
  if (v == kOk) w.accept(full);
  if (full_out != nullptr) *full_out = full;
  return v;
}

constexpr uint64_t epoch(uint64_t hi, uint32_t lo) { return (hi << 32) | lo; }
}  // namespace

TEST_CASE("replay: size is clamped to 64..4096 and rounded up to a multiple of 64") {
  CHECK(ReplayWindow().size() == 1024);
  CHECK(ReplayWindow(64).size() == 64);
  CHECK(ReplayWindow(4096).size() == 4096);
  CHECK(ReplayWindow(192).size() == 192);
  CHECK(ReplayWindow(0).size() == 64);
  CHECK(ReplayWindow(1).size() == 64);
  CHECK(ReplayWindow(100).size() == 128);
  CHECK(ReplayWindow(5000).size() == 4096);
  CHECK(ReplayWindow(UINT32_MAX).size() == 4096);
  CHECK(ReplayWindow().top() == 0);
}

TEST_CASE("replay: first packet") {
  for (const bool esn : {false, true}) {
    INFO("esn " << esn);
    ReplayWindow w(1024, esn);
    uint64_t full = 0;
    CHECK(w.check(1, &full) == kOk);
    CHECK(full == 1);
    CHECK(w.top() == 0);  // check alone changes nothing
    w.accept(1);
    CHECK(w.top() == 1);
    CHECK(w.check(1, &full) == kDup);
    CHECK(full == 1);
    CHECK(verdict(w, 2) == kOk);

    // The first packet may also be far ahead of 1 (the earlier ones were lost).
    ReplayWindow far(1024, esn);
    CHECK(receive(far, 5000, &full) == kOk);
    CHECK(full == 5000);
    CHECK(far.top() == 5000);
    CHECK(verdict(far, 5000) == kDup);
    CHECK(verdict(far, 5000 - 1023) == kOk);
    CHECK(verdict(far, 5000 - 1024) == (esn ? kOk : kOld));  // ESN: inferred as epoch 1
    if (esn) CHECK(full_of(far, 5000 - 1024) == epoch(1, 5000 - 1024));
    CHECK(verdict(far, 1) == (esn ? kOk : kOld));
  }
}

TEST_CASE("replay: in-order stream") {
  ReplayWindow w(1024);
  for (uint32_t s = 1; s <= 10000; ++s) {
    uint64_t full = 0;
    REQUIRE(w.check(s, &full) == kOk);
    REQUIRE(full == s);
    w.accept(full);
    REQUIRE(w.top() == s);
    REQUIRE(verdict(w, s) == kDup);
  }
  for (uint32_t s = 10000 - 1023; s <= 10000; ++s) REQUIRE(verdict(w, s) == kDup);
  CHECK(verdict(w, 10000 - 1024) == kOld);
  CHECK(verdict(w, 1) == kOld);
  CHECK(verdict(w, 10001) == kOk);
}

TEST_CASE("replay: duplicates inside the window") {
  ReplayWindow w(1024);
  for (const uint32_t s : {100u, 101u, 150u, 1000u, 1500u}) REQUIRE(receive(w, s) == kOk);
  CHECK(w.top() == 1500);
  CHECK(verdict(w, 1500) == kDup);
  CHECK(verdict(w, 1000) == kDup);
  // 100, 101, 150 slid out when 1500 arrived (window [477, 1500]).
  CHECK(verdict(w, 150) == kOld);
  CHECK(verdict(w, 101) == kOld);
  CHECK(verdict(w, 999) == kOk);
  CHECK(verdict(w, 1001) == kOk);
  CHECK(receive(w, 999) == kOk);
  CHECK(receive(w, 999) == kDup);
  CHECK(receive(w, 1000) == kDup);
  CHECK(w.top() == 1500);
}

TEST_CASE("replay: too old just below the lower edge, accepted exactly at it") {
  for (const bool esn : {false, true}) {
    INFO("esn " << esn);
    ReplayWindow w(1024, esn);
    REQUIRE(receive(w, 2000) == kOk);
    // Window [2000 - 1024 + 1, 2000] = [977, 2000].
    uint64_t full = 0;
    CHECK(w.check(977, &full) == kOk);
    CHECK(full == 977);
    CHECK(w.check(976, &full) == (esn ? kOk : kOld));
    // ESN cannot tell "too old" from "2^32 - W ahead" (Appendix A): it is inferred in epoch 1 and
    // the ICV check will fail.
    CHECK(full == (esn ? epoch(1, 976) : 976));
    w.accept(977);
    CHECK(verdict(w, 977) == kDup);
    // Below the window, and 0: ignored. Their ring bits belong to 1924, 2000 and 1024.
    w.accept(976);
    w.accept(900);
    w.accept(0);
    CHECK(w.top() == 2000);
    CHECK(verdict(w, 1924) == kOk);
    CHECK(verdict(w, 1024) == kOk);
    CHECK(verdict(w, 978) == kOk);
    // The edge moves with top.
    REQUIRE(receive(w, 2001) == kOk);
    CHECK(verdict(w, 977) == (esn ? kOk : kOld));
    CHECK(verdict(w, 978) == kOk);
  }
}

TEST_CASE("replay: a jump far ahead clears the window") {
  ReplayWindow w(1024);
  for (uint32_t s = 1; s <= 100; ++s) REQUIRE(receive(w, s) == kOk);
  REQUIRE(receive(w, 5100) == kOk);
  CHECK(w.top() == 5100);
  CHECK(verdict(w, 5100) == kDup);
  for (uint32_t s = 5100 - 1023; s < 5100; ++s) REQUIRE(verdict(w, s) == kOk);
  CHECK(verdict(w, 100) == kOld);
  CHECK(verdict(w, 5100 - 1024) == kOld);

  SECTION("a jump of exactly W drops the old top") {
    REQUIRE(receive(w, 5100 + 1024) == kOk);
    CHECK(verdict(w, 5100) == kOld);
    for (uint32_t s = 5101; s < 5100 + 1024; ++s) REQUIRE(verdict(w, s) == kOk);
  }
  SECTION("a jump of W - 1 keeps the old top at the lower edge") {
    REQUIRE(receive(w, 5100 + 1023) == kOk);
    CHECK(verdict(w, 5100) == kDup);
    for (uint32_t s = 5101; s < 5100 + 1023; ++s) REQUIRE(verdict(w, s) == kOk);
    CHECK(verdict(w, 5100 + 1023) == kDup);
  }
}

TEST_CASE("replay: out of order within the window") {
  ReplayWindow w(1024);
  const std::vector<uint32_t> order = {10, 5, 8, 1, 9, 2, 7, 3, 6, 4};
  for (const uint32_t s : order) REQUIRE(receive(w, s) == kOk);
  CHECK(w.top() == 10);
  for (uint32_t s = 1; s <= 10; ++s) CHECK(verdict(w, s) == kDup);
  CHECK(verdict(w, 11) == kOk);
  REQUIRE(receive(w, 500) == kOk);
  REQUIRE(receive(w, 300) == kOk);
  REQUIRE(receive(w, 499) == kOk);
  CHECK(w.top() == 500);
  CHECK(verdict(w, 300) == kDup);
  CHECK(verdict(w, 499) == kDup);
  CHECK(verdict(w, 301) == kOk);
  CHECK(verdict(w, 5) == kDup);
}

TEST_CASE("replay: window sizes 64, 192, 1024, 4096") {
  for (const uint32_t size : {64u, 192u, 1024u, 4096u}) {
    INFO("size " << size);
    ReplayWindow w(size);
    REQUIRE(w.size() == size);
    // Every other number up to 3W, then check the whole window and its edge.
    const uint32_t top = 3 * size + 1;
    for (uint32_t s = 1; s <= top; s += 2) REQUIRE(receive(w, s) == kOk);
    REQUIRE(w.top() == top);
    const uint32_t bottom = top - size + 1;
    for (uint32_t s = bottom; s <= top; ++s) {
      REQUIRE(verdict(w, s) == (s % 2 == 1 ? kDup : kOk));
    }
    CHECK(verdict(w, bottom - 1) == kOld);
    CHECK(verdict(w, bottom - 2) == kOld);
    // Fill the holes out of order (top down); nothing moves.
    for (uint32_t s = top - 1; s >= bottom; s -= 2) REQUIRE(receive(w, s) == kOk);
    for (uint32_t s = bottom; s <= top; ++s) REQUIRE(verdict(w, s) == kDup);
    CHECK(w.top() == top);
    // Slide by 3/4 of the window: exactly the numbers passed over become new.
    const uint32_t slide = size * 3 / 4 + 1;
    REQUIRE(receive(w, top + slide) == kOk);
    for (uint32_t s = top + 1; s < top + slide; ++s) REQUIRE(verdict(w, s) == kOk);
    for (uint32_t s = top + slide - size + 1; s <= top; ++s) REQUIRE(verdict(w, s) == kDup);
    CHECK(verdict(w, top + slide) == kDup);
    CHECK(verdict(w, top + slide - size) == kOld);
  }
}

TEST_CASE("replay: sliding by every distance clears exactly the numbers entering the window") {
  // For each size, start offset within a word and slide distance: fill the whole window, slide,
  // then compare every number around the new window with what it must be.
  for (const uint32_t size : {64u, 128u, 192u}) {
    size_t mismatches = 0;
    for (uint64_t start = 1000; start < 1000 + 64; ++start) {
      for (uint64_t d = 1; d <= size + 65; ++d) {
        ReplayWindow w(size);
        for (uint64_t s = start - size + 1; s <= start; ++s) w.accept(s);
        const uint64_t top = start + d;
        w.accept(top);
        for (uint64_t s = top - size - 2; s <= top + 2; ++s) {
          ReplayVerdict want;
          if (s + size <= top) {
            want = kOld;
          } else if (s == top || (s <= start && s + size > start)) {
            want = kDup;
          } else {
            want = kOk;
          }
          if (verdict(w, static_cast<uint32_t>(s)) != want) ++mismatches;
        }
      }
    }
    INFO("size " << size);
    CHECK(mismatches == 0);
  }
}

// The bitmap is a ring of 4096 bits whatever the window size, so once numbers past 4096 have been
// received every bit a slide uncovers still holds an older number. Accept every number from 1 up,
// slide by each distance, and compare every number around the new window: a bit a slide failed to
// clear shows as a false duplicate.
TEST_CASE("replay: sliding after the bitmap ring has wrapped clears exactly the numbers entering the window") {
  for (const uint32_t size : {64u, 192u, 1024u, 4096u}) {
    const bool small = size <= 192;
    std::vector<uint64_t> distances;
    for (uint64_t d = 1; d <= size + 65; ++d) {
      if (small || d <= 130 || d + 130 >= size || d % 61 == 0) distances.push_back(d);
    }
    size_t mismatches = 0, checked = 0;
    for (uint64_t start = 3 * 4096 + 1; start < 3 * 4096 + 1 + 64; start += small ? 1 : 21) {
      ReplayWindow filled(size);
      for (uint64_t s = 1; s <= start; ++s) filled.accept(s);
      for (const uint64_t d : distances) {
        ReplayWindow w = filled;
        const uint64_t top = start + d;
        w.accept(top);
        for (uint64_t s = top - size - 2; s <= top + 2; ++s) {
          const ReplayVerdict want = s + size <= top ? kOld : (s == top || s <= start) ? kDup : kOk;
          mismatches += verdict(w, static_cast<uint32_t>(s)) != want;
          ++checked;
        }
      }
    }
    INFO("size " << size << ", " << checked << " numbers checked");
    CHECK(checked > 100000);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("replay: without ESN, sequence number 0 is never valid") {
  ReplayWindow w(1024);
  uint64_t full = 1;
  CHECK(w.check(0, &full) == kOld);
  CHECK(full == 0);
  w.accept(0);  // ignored
  CHECK(w.top() == 0);
  CHECK(verdict(w, 0) == kOld);
  REQUIRE(receive(w, 5) == kOk);
  CHECK(verdict(w, 0) == kOld);
  w.accept(0);
  CHECK(w.top() == 5);
  CHECK(verdict(w, 1) == kOk);
}

TEST_CASE("replay: without ESN near 0xffffffff (the counter does not cycle)") {
  ReplayWindow w(1024);
  REQUIRE(receive(w, 100) == kOk);
  uint64_t full = 0;
  CHECK(w.check(0xfffffffe, &full) == kOk);
  CHECK(full == 0xfffffffe);
  w.accept(full);
  CHECK(w.top() == 0xfffffffe);
  CHECK(verdict(w, 100) == kOld);
  REQUIRE(receive(w, 0xffffffff, &full) == kOk);
  CHECK(full == 0xffffffff);  // no epoch bits without ESN
  CHECK(w.top() == 0xffffffff);
  CHECK(verdict(w, 0xffffffff) == kDup);
  CHECK(verdict(w, 0xfffffffe) == kDup);
  CHECK(verdict(w, 0xfffffffd) == kOk);
  CHECK(verdict(w, 0xffffffffu - 1023) == kOk);
  CHECK(verdict(w, 0xffffffffu - 1024) == kOld);
  // Nothing wraps: small numbers are too old, 0 is never valid.
  CHECK(verdict(w, 0) == kOld);
  CHECK(verdict(w, 1) == kOld);
  CHECK(verdict(w, 5) == kOld);
  CHECK(w.check(1, &full) == kOld);
  CHECK(full == 1);
}

TEST_CASE("replay: ESN epoch wrap") {
  ReplayWindow w(1024, /*esn=*/true);
  uint64_t full = 0;
  // Get top to 0xfffffff0 in epoch 0 through the data path.
  REQUIRE(receive(w, 0x80000000u, &full) == kOk);
  REQUIRE(full == 0x80000000u);
  REQUIRE(receive(w, 0xfffffff0u, &full) == kOk);
  REQUIRE(full == epoch(0, 0xfffffff0u));
  REQUIRE(w.top() == epoch(0, 0xfffffff0u));

  // Low 5 after top low 0xfffffff0: epoch 1.
  CHECK(w.check(5, &full) == kOk);
  CHECK(full == epoch(1, 5));
  w.accept(full);
  CHECK(w.top() == epoch(1, 5));

  // A late packet from epoch 0, inside the window: accepted with high bits 0.
  CHECK(w.check(0xfffffff5u, &full) == kOk);
  CHECK(full == epoch(0, 0xfffffff5u));
  w.accept(full);
  CHECK(w.top() == epoch(1, 5));

  // Duplicates in both epochs.
  CHECK(w.check(0xfffffff5u, &full) == kDup);
  CHECK(full == epoch(0, 0xfffffff5u));
  CHECK(w.check(0xfffffff0u, &full) == kDup);
  CHECK(full == epoch(0, 0xfffffff0u));
  CHECK(w.check(5, &full) == kDup);
  CHECK(full == epoch(1, 5));
  // Not received yet, both sides of the boundary.
  CHECK(w.check(0xffffffffu, &full) == kOk);
  CHECK(full == epoch(0, 0xffffffffu));
  CHECK(w.check(4, &full) == kOk);
  CHECK(full == epoch(1, 4));
  // Low half 0 in epoch 1 is 2^32: a valid number.
  CHECK(w.check(0, &full) == kOk);
  CHECK(full == epoch(1, 0));
  w.accept(full);
  CHECK(w.check(0, &full) == kDup);
  CHECK(full == epoch(1, 0));
  CHECK(w.top() == epoch(1, 5));
}

TEST_CASE("replay: ESN inference when the window spans the epoch boundary") {
  ReplayWindow w(1024, /*esn=*/true);
  uint64_t full = 0;
  REQUIRE(receive(w, 0x80000000u) == kOk);
  REQUIRE(receive(w, 0xfffffff0u) == kOk);
  REQUIRE(receive(w, 3, &full) == kOk);
  REQUIRE(full == epoch(1, 3));
  REQUIRE(w.top() == epoch(1, 3));
  // Window [2^32 + 3 - 1023, 2^32 + 3] = [epoch 0 : 0xfffffc04, epoch 1 : 3].
  CHECK(w.check(0xfffffffeu, &full) == kOk);
  CHECK(full == epoch(0, 0xfffffffeu));
  CHECK(w.check(0xfffffff0u, &full) == kDup);
  CHECK(full == epoch(0, 0xfffffff0u));
  CHECK(w.check(0xfffffc04u, &full) == kOk);  // the lower edge
  CHECK(full == epoch(0, 0xfffffc04u));
  // Just below the edge: inferred far ahead in epoch 1 (its ICV would fail).
  CHECK(w.check(0xfffffc03u, &full) == kOk);
  CHECK(full == epoch(1, 0xfffffc03u));
  CHECK(w.check(0x7fffffffu, &full) == kOk);
  CHECK(full == epoch(1, 0x7fffffffu));
  CHECK(w.check(3, &full) == kDup);
  CHECK(full == epoch(1, 3));
  CHECK(w.check(4, &full) == kOk);
  CHECK(full == epoch(1, 4));
  // Accepting an epoch-0 number leaves top in epoch 1.
  w.accept(epoch(0, 0xfffffffeu));
  CHECK(w.top() == epoch(1, 3));
  CHECK(verdict(w, 0xfffffffeu) == kDup);
}

TEST_CASE("replay: ESN with nothing or little received yet (T < W - 1)") {
  ReplayWindow w(1024, /*esn=*/true);
  uint64_t full = 1;
  // The 64-bit number 0 is never valid.
  CHECK(w.check(0, &full) == kOld);
  CHECK(full == 0);
  w.accept(0);
  CHECK(w.top() == 0);
  CHECK(w.check(1, &full) == kOk);
  CHECK(full == 1);
  // Appendix A would put these in epoch -1, which does not exist: they are epoch 0, far ahead.
  CHECK(w.check(0xffffffffu, &full) == kOk);
  CHECK(full == epoch(0, 0xffffffffu));
  CHECK(w.check(0xfffffc01u, &full) == kOk);
  CHECK(full == epoch(0, 0xfffffc01u));

  REQUIRE(receive(w, 3) == kOk);
  CHECK(w.check(0xfffffffeu, &full) == kOk);
  CHECK(full == epoch(0, 0xfffffffeu));
  CHECK(w.check(0, &full) == kOld);
  CHECK(full == 0);
  CHECK(verdict(w, 3) == kDup);
  CHECK(verdict(w, 2) == kOk);

  // T = W - 1: the window is [1, 1023] in epoch 0; low 0 is still the number 0.
  w.accept(1023);
  CHECK(w.check(0, &full) == kOld);
  CHECK(full == 0);
  CHECK(verdict(w, 1) == kOk);
  CHECK(verdict(w, 3) == kDup);
  // T = W: the window is [1, 1024]; low 0 now means 2^32.
  w.accept(1024);
  CHECK(w.check(0, &full) == kOk);
  CHECK(full == epoch(1, 0));
  CHECK(verdict(w, 1) == kOk);
  w.accept(1025);
  CHECK(w.check(1, &full) == kOk);
  CHECK(full == epoch(1, 1));
}

TEST_CASE("replay: ESN in the last epoch does not wrap the 64-bit counter") {
  ReplayWindow w(1024, /*esn=*/true);
  w.accept(epoch(0xffffffffu, 0xfffffff0u));
  uint64_t full = 0;
  CHECK(w.check(0xfffffff8u, &full) == kOk);
  CHECK(full == epoch(0xffffffffu, 0xfffffff8u));
  // Appendix A would say epoch 2^32: it stays in the last epoch, below the window.
  CHECK(w.check(5, &full) == kOld);
  CHECK(full == epoch(0xffffffffu, 5));
  w.accept(~uint64_t{0});
  CHECK(w.top() == ~uint64_t{0});
  CHECK(verdict(w, 0xffffffffu) == kDup);
  CHECK(verdict(w, 0xfffffff0u) == kDup);
  CHECK(verdict(w, 0xfffffff1u) == kOk);
  CHECK(verdict(w, 0) == kOld);
}

TEST_CASE("replay: check does not change state (bad ICV: check ok, accept not called)") {
  for (const bool esn : {false, true}) {
    INFO("esn " << esn);
    ReplayWindow w(1024, esn);
    for (const uint32_t s : {1u, 2u, 3u, 10u, 500u, 1500u, 1498u}) REQUIRE(receive(w, s) == kOk);
    const std::vector<uint32_t> probes = {0,    1,    3,    476,        477,        478,
                                          1497, 1498, 1499, 1500,       1501,       2600,
                                          3000, 0x7fffffffu, 0xfffffffeu, 0xffffffffu};
    auto snapshot = [&] {
      std::vector<std::pair<ReplayVerdict, uint64_t>> out;
      for (const uint32_t p : probes) {
        uint64_t full = 0;
        const ReplayVerdict v = w.check(p, &full);
        out.emplace_back(v, full);
      }
      return out;
    };
    const auto before = snapshot();
    const uint64_t top_before = w.top();
    // ICV failures: each checks ok (new, ahead, far ahead) but is never accepted.
    for (const uint32_t p : {1499u, 1501u, 2600u, 3000u, 0x7fffffffu, 0xfffffffeu}) {
      uint64_t full = 0;
      CHECK(w.check(p, &full) == kOk);
    }
    // Rejected ones.
    CHECK(verdict(w, 1500) == kDup);
    if (esn) {
      CHECK(verdict(w, 476) == kOk);  // inferred in epoch 1
    } else {
      CHECK(verdict(w, 0) == kOld);
      CHECK(verdict(w, 476) == kOld);
    }
    CHECK(w.top() == top_before);
    CHECK(snapshot() == before);
  }
}

namespace {
// Reference model: the set of accepted 64-bit numbers and the RFC rule "reject if seq <= top - W or
// already received". ESN inference stated independently of Appendix A's case split: the inferred
// number is the one with the given low half in [L, L + 2^32), L = max(top - W + 1, 0).
struct Model {
  Model(uint32_t size_in, bool esn_in) : size(size_in), esn(esn_in) {}
  uint32_t size;
  bool esn;
  uint64_t top = 0;
  std::set<uint64_t> received;

  uint64_t infer(uint32_t low) const {
    if (!esn) return low;
    const uint64_t lower = top + 1 > size ? top + 1 - size : 0;
    return lower + static_cast<uint32_t>(low - static_cast<uint32_t>(lower));
  }
  ReplayVerdict verdict(uint64_t seq) const {
    if (seq == 0) return kOld;
    if (top >= size && seq <= top - size) return kOld;
    if (received.count(seq) != 0) return kDup;
    return kOk;
  }
  void accept(uint64_t seq) {
    received.insert(seq);
    if (seq > top) top = seq;
  }
};

struct Differential {
  Differential(uint32_t size_in, bool esn_in, uint64_t seed)
      : size(size_in), esn(esn_in), rng(seed) {}
  uint32_t size;
  bool esn;
  std::mt19937_64 rng;
  uint64_t ops = 0, accepted = 0, dups = 0, too_old = 0, icv_failures = 0, epochs_crossed = 0;

  uint64_t uniform(uint64_t lo, uint64_t hi) {  // [lo, hi]
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng);
  }

  // The 64-bit number the peer "sent", near the model's top in various ways.
  int64_t draw(const Model& m, const std::vector<uint64_t>& history) {
    const int64_t t = static_cast<int64_t>(m.top);
    const int64_t w = size;
    const uint64_t r = uniform(0, 999);
    if (r < 300) return t + static_cast<int64_t>(uniform(1, 4));  // in order, small gaps
    if (r < 600) return t + w / 4 - static_cast<int64_t>(uniform(0, 3 * w / 2));  // window, edge
    if (r < 700 && !history.empty()) {  // a replay: mostly of a recent packet
      const size_t n = history.size();
      const size_t recent = r < 670 ? 8 : r < 690 ? 64 : n;
      const size_t back = uniform(0, std::min(n, recent) - 1);
      return static_cast<int64_t>(history[n - 1 - back]);
    }
    if (r < 800) return t + static_cast<int64_t>(uniform(1, 2 * w + 64));  // slides of any length
    if (r < 850) return t - static_cast<int64_t>(uniform(0, 3));
    if (esn) {
      const uint64_t epoch_span = uint64_t{1} << 32;
      if (r < 870) return t + static_cast<int64_t>(uniform(1, epoch_span - w));  // big jump
      if (r < 900) {  // around the next epoch boundary
        const int64_t boundary = ((t >> 32) + 1) << 32;
        return boundary - w + static_cast<int64_t>(uniform(0, 2 * w));
      }
      // Beyond what inference can reach (inferred wrong, so the ICV fails), and far too old.
      if (r < 910) return t + static_cast<int64_t>(epoch_span - w + uniform(1, 2 * epoch_span));
      if (r < 930) return t - w - static_cast<int64_t>(uniform(0, 4 * epoch_span));
      return t + 1;
    }
    if (r < 900) return t + static_cast<int64_t>(uniform(1, 1u << 16));
    if (r < 950) return t - w - static_cast<int64_t>(uniform(0, 1u << 20));
    if (r < 960) return static_cast<int64_t>(uniform(0, 3));
    return t + 1;
  }

  void run(uint64_t total_ops, uint64_t segment_ops) {
    uint64_t segment = 0;
    while (ops < total_ops) {
      ReplayWindow win(size, esn);
      Model m(size, esn);
      std::vector<uint64_t> history;
      // Segments start fresh (T = 0) or already somewhere: a random epoch with ESN, near the end of
      // the 32-bit space without it.
      uint64_t length = segment_ops;
      if (segment % 2 == 1) {
        // Without ESN the counter soon saturates at 0xffffffff there: a shorter segment.
        if (!esn) length = 3000;
        const uint64_t start =
            esn ? uniform(1, uint64_t{1} << 40) : 0xffffffffu - uniform(0, 4 * size);
        win.accept(start);
        m.accept(start);
        history.push_back(start);
      }
      ++segment;
      for (uint64_t i = 0; i < length && ops < total_ops; ++i, ++ops) {
        int64_t sent = draw(m, history);
        if (sent < 0) sent = static_cast<int64_t>(uniform(0, 2));
        if (!esn && sent > 0xffffffffll) sent = 0xffffffffll;
        const uint32_t low = static_cast<uint32_t>(sent);
        uint64_t full = 0;
        const ReplayVerdict got = win.check(low, &full);
        const uint64_t want_full = m.infer(low);
        const ReplayVerdict want = m.verdict(want_full);
        INFO("size " << size << " esn " << esn << " op " << ops << " top " << m.top << " sent "
                     << sent << " low " << low);
        REQUIRE(full == want_full);
        REQUIRE(got == want);
        // check() is idempotent.
        uint64_t again = 0;
        REQUIRE(win.check(low, &again) == got);
        REQUIRE(again == full);
        if (got == kDup) ++dups;
        if (got == kOld) ++too_old;
        if (got != kOk) continue;
        // The ICV covers the high half (ESN): a wrong inference fails it; plus random corruption.
        const bool icv_ok = full == static_cast<uint64_t>(sent) && uniform(0, 9) != 0;
        if (!icv_ok) {
          ++icv_failures;
          continue;
        }
        if ((full >> 32) > (m.top >> 32)) ++epochs_crossed;
        win.accept(full);
        m.accept(full);
        history.push_back(full);
        ++accepted;
        REQUIRE(win.top() == m.top);
      }
    }
  }
};
}  // namespace

TEST_CASE("replay: randomized differential test against a std::set model") {
  struct Config {
    uint32_t size;
    bool esn;
    uint64_t ops;
  };
  for (const Config c :
       {Config{64, false, 200000}, Config{64, true, 200000}, Config{1024, false, 200000},
        Config{1024, true, 200000}, Config{192, false, 50000}, Config{192, true, 50000}}) {
    const uint64_t seed = 0x5eed0000u + c.size * 2 + (c.esn ? 1 : 0);
    Differential d(c.size, c.esn, seed);
    d.run(c.ops, 20000);
    std::ostringstream summary;
    summary << "size " << c.size << " esn " << c.esn << " seed " << seed << ": " << d.ops
            << " ops, " << d.accepted << " accepted, " << d.dups << " duplicate, " << d.too_old
            << " too old, " << d.icv_failures << " ICV failures, " << d.epochs_crossed
            << " epoch advances";
    INFO(summary.str());
    if (std::getenv("DPVPN_REPLAY_STATS") != nullptr) std::printf("%s\n", summary.str().c_str());
    CHECK(d.ops == c.ops);
    CHECK(d.accepted > c.ops / 10);
    CHECK(d.dups > c.ops / 20);
    if (c.esn) CHECK(d.epochs_crossed > 100);
    if (!c.esn) CHECK(d.too_old > c.ops / 50);
  }
}

// The inbound burst checks a whole chunk first (check), decrypts it, then accepts packet by packet.
// recheck_accept(seq_full) must give what check() again + "same seq_full" + accept() gives, in
// every state: compared on random chunks (in order, reordered, repeated, far ahead, too old) with
// and without ESN, across epochs.
TEST_CASE("replay: recheck_accept equals check + compare + accept over a chunk") {
  for (const uint32_t size : {64u, 1024u}) {
    for (const bool esn : {false, true}) {
      INFO("size " << size << " esn " << esn);
      ReplayWindow ref(size, esn), fast(size, esn);
      std::mt19937_64 rng(0xacce97u + size + (esn ? 1 : 0));
      uint64_t base = esn ? 0xfffff000ull : 1;  // ESN: start just below the first epoch boundary
      for (int chunk = 0; chunk < 20000; ++chunk) {
        uint32_t lows[64];
        const uint32_t n = 1 + static_cast<uint32_t>(rng() % 64);
        for (uint32_t i = 0; i < n; ++i) {
          const uint64_t r = rng() % 100;
          uint64_t s;
          if (r < 60) s = base + i;                                    // in order
          else if (r < 75) s = base + (rng() % (2 * n + 1));           // reordered / repeated
          else if (r < 85) s = base > size ? base - (rng() % (2 * size)) : base;  // around the bottom
          else if (r < 95) s = base + (rng() % (4 * size));            // ahead
          else s = base + (rng() % (1ull << 20));                      // far ahead
          lows[i] = static_cast<uint32_t>(s);
        }
        uint64_t full[64];
        bool ok[64];
        for (uint32_t i = 0; i < n; ++i) {
          uint64_t f2 = 0;
          ok[i] = ref.check(lows[i], &full[i]) == kOk;
          REQUIRE((fast.check(lows[i], &f2) == kOk) == ok[i]);
          REQUIRE(f2 == full[i]);
        }
        for (uint32_t i = 0; i < n; ++i) {
          if (!ok[i] || rng() % 50 == 0) continue;  // failed the first check, or an ICV failure
          uint64_t now = 0;
          ReplayVerdict expect = ref.check(lows[i], &now);
          if (expect == kOk && now != full[i]) expect = kOld;
          if (expect == kOk) ref.accept(full[i]);
          REQUIRE(fast.recheck_accept(full[i]) == expect);
          REQUIRE(fast.top() == ref.top());
        }
        base = std::max(base, ref.top() + 1);
        if (rng() % 1000 == 0) base += rng() % (1ull << 31);  // now and then a big jump (epochs)
      }
      for (uint32_t p = 0; p < 3 * size; ++p) {  // same window bits at the end
        const uint32_t low = static_cast<uint32_t>(ref.top() - p);
        REQUIRE(verdict(fast, low) == verdict(ref, low));
      }
    }
  }
}
