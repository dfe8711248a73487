#pragma once
// IpsecMbEngine: CryptoEngine on intel-ipsec-mb: AES-GCM through its direct API (one call per packet), the
// other algorithms through the multi-buffer JOB API. One object per worker
// lcore (it owns one IMB_MGR, which is not thread-safe); prepare_keys() may be called on any
// instance from any thread because key schedules are plain data shared read-only by all lcores.
// All instances on one machine pick the same code path (init_mb_mgr_auto), so schedules made by
// one instance are valid for the others.
#include <memory>
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

 private:
  // The IVs of the burst's CBC encrypt ops (see the .cpp), before any job is queued.
  void make_cbc_ivs(CryptoOp* ops, uint32_t n);
  IpsecMbEngine() = default;
  IMB_MGR* mgr_ = nullptr;
  int arch_ = 0;
};

}  // namespace dpvpn::dataplane
