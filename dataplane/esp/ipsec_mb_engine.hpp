#pragma once
// IpsecMbEngine: CryptoEngine on intel-ipsec-mb: AES-GCM through its direct API (one call per packet), the
// other algorithms through the multi-buffer JOB API. CBC+HMAC-SHA-256 may run on a second manager: see
// cbc_sha_ni_below(). One object per worker
// lcore (it owns its IMB_MGRs, which are not thread-safe); prepare_keys() may be called on any
// instance from any thread because key schedules are plain data shared read-only by all lcores.
// All instances on one machine pick the same code path (init_mb_mgr_auto), so schedules made by
// one instance are valid for the others.
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "esp/crypto_engine.hpp"

struct IMB_MGR;

namespace dpvpn::dataplane {

class IpsecMbEngine final : public CryptoEngine {
 public:
  // Allocates and initializes the manager (control path).
  static Status create(std::unique_ptr<IpsecMbEngine>* out);
  ~IpsecMbEngine() override;
  IpsecMbEngine(const IpsecMbEngine&) = delete;
  IpsecMbEngine& operator=(const IpsecMbEngine&) = delete;

  Status prepare_keys(const SaParams& params, EspKeyBlock* out) const override;
  uint32_t hot_key_lines(const SaParams& params) const override;
  void process_burst(CryptoOp* ops, uint32_t n) override;

  std::string_view arch_name() const;  // "sse", "avx", "avx2", "avx512"
  // arch_name(), and where CBC+HMAC-SHA-256 goes to the SHA-NI manager when there is one: what the
  // dataplane says at start-up and the crypto-only bench puts in its results.
  std::string code_paths() const;

  // CBC+HMAC-SHA-256 ops with a cipher length below this run on intel-ipsec-mb's SSE manager, which
  // hashes one buffer at a time with the SHA extensions (SHA-NI), the others on the main manager
  // (AVX-512: 16 buffers at once in vector registers). On a CPU with both, SHA-NI is faster for short
  // packets and the vectors for long ones; where they cross is measured once per process, when the
  // first engine is created. 0: every op on the main manager (no SHA-NI, or not faster).
  uint32_t cbc_sha_ni_below(CryptoDirection direction) const { return cbc_sha_ni_below_[index(direction)]; }
  bool has_sha_ni_manager() const { return sha_ni_mgr_ != nullptr; }
  // Tests: send CBC ops below `below` (per direction) to the SHA-NI manager; needs has_sha_ni_manager().
  void set_cbc_sha_ni_below(uint32_t encrypt_below, uint32_t decrypt_below);

 private:
  // The IVs of the burst's CBC encrypt ops (see the .cpp), before any job is queued.
  void make_cbc_ivs(CryptoOp* ops, uint32_t n);
  // cbc_sha_ni_below() for each direction, timed on this CPU (control path, ~1 ms).
  std::array<uint32_t, 2> measure_cbc_split() const;
  IpsecMbEngine() = default;
  static size_t index(CryptoDirection d) { return d == CryptoDirection::kEncrypt ? 0 : 1; }
  IMB_MGR* mgr_ = nullptr;
  IMB_MGR* sha_ni_mgr_ = nullptr;  // SSE manager, when the CPU has SHA-NI and mgr_ is another arch
  uint32_t cbc_sha_ni_below_[2] = {0, 0};  // [encrypt, decrypt]
  int arch_ = 0;
};

}  // namespace dpvpn::dataplane
