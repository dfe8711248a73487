#pragma once
// RcuDomain: the one QSBR variable every kernel table reclaims through.
// Worker lcores are its readers: each registers once, then reports a quiescent state after every
// burst (one call covers all tables). The tables' single writer never blocks on it.
#include <cstdint>

#include "util/status.hpp"

struct rte_rcu_qsbr;

namespace dpvpn::tables {

class RcuDomain {
 public:
  explicit RcuDomain(uint32_t max_readers);
  ~RcuDomain();
  RcuDomain(const RcuDomain&) = delete;
  RcuDomain& operator=(const RcuDomain&) = delete;

  // Registers reader `id` (< max_readers) and puts it online.
  Status register_reader(uint32_t id);
  void unregister_reader(uint32_t id);
  // A reader holds no table pointer from before this call.
  void quiescent(uint32_t id);
  // An offline reader (idle/sleeping worker) does not hold back reclamation.
  void offline(uint32_t id);
  void online(uint32_t id);

  rte_rcu_qsbr* qsbr() const { return qsbr_; }
  uint32_t max_readers() const { return max_readers_; }

 private:
  uint32_t max_readers_;
  rte_rcu_qsbr* qsbr_ = nullptr;
};

}  // namespace dpvpn::tables
