#include "tables/rcu_domain.hpp"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <string>

namespace dpvpn::tables {

RcuDomain::RcuDomain(uint32_t max_readers) : max_readers_(max_readers) {
  const size_t size = rte_rcu_qsbr_get_memsize(max_readers);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("dpvpn_rcu", size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, max_readers) != 0) {
    // Start-up only: without DPDK memory nothing else can work either.
    std::abort();
  }
}

RcuDomain::~RcuDomain() { rte_free(qsbr_); }

Status RcuDomain::register_reader(uint32_t id) {
  if (id >= max_readers_) {
    return {StatusCode::kInvalidArgument,
            "reader id " + std::to_string(id) + " >= max readers " + std::to_string(max_readers_)};
  }
  if (rte_rcu_qsbr_thread_register(qsbr_, id) != 0) {
    return {StatusCode::kInternal, "rte_rcu_qsbr_thread_register failed for reader " + std::to_string(id)};
  }
  rte_rcu_qsbr_thread_online(qsbr_, id);
  return Status::ok();
}

void RcuDomain::unregister_reader(uint32_t id) {
  rte_rcu_qsbr_thread_offline(qsbr_, id);
  rte_rcu_qsbr_thread_unregister(qsbr_, id);
}

void RcuDomain::quiescent(uint32_t id) { rte_rcu_qsbr_quiescent(qsbr_, id); }
void RcuDomain::offline(uint32_t id) { rte_rcu_qsbr_thread_offline(qsbr_, id); }
void RcuDomain::online(uint32_t id) { rte_rcu_qsbr_thread_online(qsbr_, id); }

}  // namespace dpvpn::tables
