#include "core/shard_bpf.hpp"

#include <array>

#include "core/shard.hpp"

namespace dpvpn::controld {

namespace {

constexpr uint32_t kFnvPrime = 16777619u;
constexpr uint32_t kFnvBasis = 2166136261u;

sock_filter op(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }

}  // namespace

std::vector<sock_filter> shard_bpf_program(bool v6, uint32_t instances) {
  // shard_of() hashes IPv4 as ::ffff:a.b.c.d: the 12-byte prefix is a constant, folded in here.
  uint32_t hash = kFnvBasis;
  if (!v6) {
    const IpAddr zero = IpAddr::v4(0);
    for (size_t i = 0; i < 12; ++i) {
      hash ^= zero.bytes[i];
      hash *= kFnvPrime;
    }
  }
  const uint32_t source_offset = v6 ? 8 : 12;  // in the IPv6 / IPv4 header
  const uint32_t length = v6 ? 16 : 4;
  std::vector<sock_filter> program;
  program.push_back(op(BPF_LD | BPF_IMM, hash));
  program.push_back(op(BPF_ST, 0));  // M[0] = hash
  for (uint32_t i = 0; i < length; ++i) {
    program.push_back(op(BPF_LD | BPF_B | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF) + source_offset + i));
    program.push_back(op(BPF_MISC | BPF_TAX, 0));        // X = the byte
    program.push_back(op(BPF_LD | BPF_MEM, 0));          // A = hash
    program.push_back(op(BPF_ALU | BPF_XOR | BPF_X, 0));  // hash ^= byte
    program.push_back(op(BPF_ALU | BPF_MUL | BPF_K, kFnvPrime));
    program.push_back(op(BPF_ST, 0));
  }
  program.push_back(op(BPF_ALU | BPF_MOD | BPF_K, instances < 1 ? 1 : instances));
  program.push_back(op(BPF_RET | BPF_A, 0));
  return program;
}

}  // namespace dpvpn::controld
