#pragma once
// CryptodevEngine: CryptoEngine on a DPDK cryptodev (symmetric, session-based, lookaside):
// crypto_aesni_mb / crypto_openssl vdevs here, QAT or other hardware on real machines.
//
// Device: found by name (or PCI address), created with rte_dev_probe() when it is a vdev that
// does not exist yet, configured and started once per process with min(8, max_nb_queue_pairs)
// queue pairs and one session mempool. Several engines share a device; each data-path engine
// owns one queue pair (queue pairs are not thread-safe, engines are per lcore).
//
// Sessions: prepare_keys() creates ONE session per SA, for the SA's direction (outbound:
// cipher-encrypt -> auth-generate / AEAD encrypt; inbound: auth-verify -> cipher-decrypt / AEAD
// decrypt), and stores its pointer in the SA's EspKeyBlock (layout: CryptodevKeyBlock in the
// .cpp, static_asserted to fit). A cryptodev session belongs to the device, not to a queue pair:
// the session created by the key engine on the writer thread is used by every worker's engine on
// its own queue pair of the same device. release_keys() frees it (after the SA's RCU grace).
//
// Per packet (process_burst): one rte_crypto_op, taken from a fixed set allocated in create()
// and reused every burst; its private area holds the IV/nonce, the AAD and the digest (DMA-able
// memory, so hardware can read/write them); m_src is CryptoOp::mbuf and every region is an
// offset from rte_pktmbuf_mtod(mbuf). The burst is enqueued on the engine's queue pair and
// polled back (no sleeping); a device that does not return an op within the spin bound makes
// the op kError and the engine refuses further bursts until the op comes back.
#include <cstdint>
#include <memory>
#include <string>

#include "esp/crypto_engine.hpp"

struct rte_crypto_op;
struct rte_mempool;

namespace dpvpn::dataplane {

struct CryptodevDevice;  // process-wide state of one configured device (shared by its engines)

class CryptodevEngine final : public CryptoEngine {
 public:
  // An engine that only prepares/releases keys (the writer thread's): it takes no queue pair
  // and its process_burst() fails every op.
  static constexpr uint16_t kNoQueuePair = 0xffff;

  // Control path. `device_name`: a cryptodev name ("crypto_aesni_mb0", "crypto_openssl0",
  // "0000:3d:01.0_qat_sym"), a vdev spec with arguments ("crypto_aesni_mb0,socket_id=0"), or
  // a PCI address of an already-probed device. `queue_pair`: this engine's queue pair (one per
  // worker lcore; two engines may not share one) or kNoQueuePair.
  static Status create(const std::string& device_name, uint16_t queue_pair,
                       std::unique_ptr<CryptodevEngine>* out);
  ~CryptodevEngine() override;
  CryptodevEngine(const CryptodevEngine&) = delete;
  CryptodevEngine& operator=(const CryptodevEngine&) = delete;

  // Checks the device's capabilities for params.algorithm (kInvalidArgument naming the device
  // and algorithm when missing), then creates the session for params.direction.
  Status prepare_keys(const SaParams& params, EspKeyBlock* out) const override;
  void release_keys(EspKeyBlock* keys) const override;
  void process_burst(CryptoOp* ops, uint32_t n) override;

  bool supports(EspAlgorithm algorithm) const;
  uint8_t device_id() const;
  uint16_t queue_pair() const { return qp_; }
  const std::string& device_name() const;  // the cryptodev's own name
  std::string driver_name() const;
  // Ops that came back as errors or never came back (device stuck), since creation.
  uint64_t device_errors() const { return device_errors_; }
  uint64_t timeouts() const { return timeouts_; }
  // Sessions currently allocated on this engine's device (all engines of the process).
  uint32_t sessions_in_use() const;

  // Ops per enqueue; process_burst() runs larger bursts in slices of this many.
  static constexpr uint32_t kBatch = 64;

 private:
  CryptodevEngine() = default;
  void run_slice(CryptoOp* ops, uint32_t n);
  bool drain_stale();

  CryptodevDevice* dev_ = nullptr;
  uint8_t dev_id_ = 0;
  uint16_t qp_ = kNoQueuePair;
  rte_mempool* op_pool_ = nullptr;
  rte_crypto_op* cops_[kBatch] = {};
  rte_crypto_op* done_[kBatch] = {};
  uint32_t stale_ = 0;            // ops still owned by the device after a timeout
  uint64_t timeout_cycles_ = 0;   // spin bound for one slice (TSC cycles)
  uint64_t device_errors_ = 0;
  uint64_t timeouts_ = 0;
};

}  // namespace dpvpn::dataplane
