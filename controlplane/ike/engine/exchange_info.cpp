// INFORMATIONAL (RFC 7296 §1.4): deleting child SAs and IKE SAs, and liveness checks (DPD, §2.4).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "ike/engine/engine_state.hpp"

namespace dpvpn::ike::engine_internal {

void EngineState::on_informational_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now) {
  std::vector<Payload> reply;
  bool delete_ike_sa = false;
  std::vector<uint32_t> ours;  // our inbound SPIs of the children the peer deletes
  for (const Payload& p : inner) {
    const auto* del = std::get_if<DeletePayload>(&p);
    if (del == nullptr) continue;
    if (del->protocol == ProtocolId::kIke) {
      delete_ike_sa = true;
      continue;
    }
    for (uint32_t spi : del->spis) {  // the peer's inbound SPIs = our outbound ones
      for (ChildSa& c : sa.children) {
        if (c.pair.outbound.spi != spi) continue;
        // RFC 7296 §1.4.1: answer with the SPIs of our halves, unless we are deleting them already.
        if (c.delete_at_ms == 0) {
          ours.push_back(c.pair.inbound.spi);
          c.delete_at_ms = now + kRekeyGraceMs;  // what the peer sent before its delete may still be queued
        }
      }
    }
  }
  if (delete_ike_sa) {
    send_response(sa, ExchangeType::kInformational, message_id, {});
    IKE_LOG(log_, info, "{} the peer deleted IKE SA '{}'", spi_hex(sa.our_spi()), sa.conn->name);
    return forget(sa, "deleted by the peer");
  }
  if (!ours.empty()) reply.push_back(DeletePayload{ProtocolId::kEsp, ours});
  send_response(sa, ExchangeType::kInformational, message_id, std::move(reply));
}

void EngineState::on_informational_response(IkeSa& sa, const std::vector<Payload>&, uint64_t) {
  PendingRequest ctx = std::move(*sa.pending);
  sa.pending.reset();
  if (ctx.kind == RequestKind::kDeleteIke) return forget(sa, "deleted");
  // kDeleteChild: the child goes when its grace period (set by delete_child) ends: packets the
  // peer sent before it processed the delete may still be queued on their way in.
}

void EngineState::delete_child(IkeSa& sa, uint32_t inbound_spi, uint64_t now) {
  auto it = std::find_if(sa.children.begin(), sa.children.end(), [&](const ChildSa& c) { return c.pair.inbound.spi == inbound_spi; });
  if (it == sa.children.end() || it->delete_at_ms != 0 || sa.state != IkeState::kEstablished) return;
  // Keep decrypting for a moment: packets the peer sent before it learns of the delete are not lost.
  it->delete_at_ms = now + kRekeyGraceMs;
  PendingRequest ctx;
  ctx.rekeyed_inbound_spi = inbound_spi;
  IKE_LOG(log_, info, "{} deleting child '{}' ({:08x})", spi_hex(sa.our_spi()), it->config->name, inbound_spi);
  (void)send_request(sa, ExchangeType::kInformational, RequestKind::kDeleteChild,
                     {DeletePayload{ProtocolId::kEsp, {inbound_spi}}}, std::move(ctx), now);
}

void EngineState::delete_ike(IkeSa& sa, uint64_t now) {
  if (sa.state == IkeState::kDead) return;
  sa.queued.clear();
  if (sa.state == IkeState::kEstablished && sa.cipher_out && sa.pending) {
    // Our window (one request) holds an exchange: the delete goes once it is answered
    // (window_freed) or given up, so the peer is told rather than left to find out by DPD.
    sa.delete_requested = true;
    return;
  }
  sa.delete_requested = false;
  if (sa.pending || !sa.cipher_out || (sa.state != IkeState::kEstablished && sa.state != IkeState::kDeleting)) {
    return forget(sa, "deleted locally");
  }
  sa.state = IkeState::kDeleting;
  sa.delete_at_ms = now + 10'000;  // whatever the peer says (or not)
  (void)send_request(sa, ExchangeType::kInformational, RequestKind::kDeleteIke, {DeletePayload{ProtocolId::kIke, {}}}, {}, now);
}

void EngineState::send_dpd(IkeSa& sa, uint64_t now) {
  (void)send_request(sa, ExchangeType::kInformational, RequestKind::kDpd, {}, {}, now);
}

void EngineState::remove_child_sas(IkeSa& sa, ChildSa& child) {
  if (Status s = installer_.remove(child.pair); !s) {
    log_->warn("{} child '{}' ({:08x}/{:08x}) not removed: {}", spi_hex(sa.our_spi()), child.config->name,
               child.pair.inbound.spi, child.pair.outbound.spi, s.message());
  }
  // An on-demand child that is gone waits for traffic again (unless a newer SA of it is up).
  const bool replaced = std::any_of(sa.children.begin(), sa.children.end(), [&](const ChildSa& c) {
    return &c != &child && c.config->name == child.config->name && c.delete_at_ms == 0;
  });
  if (child.config->start_action == controld::StartAction::kOnDemand && !replaced) trap(*sa.conn, *child.config);
}

void EngineState::report(const IkeSa& sa, bool gone) {
  IkeSaRecord r;
  r.spi_i = sa.spi_i;
  r.spi_r = sa.spi_r;
  r.local = sa.local.address;
  r.remote = sa.remote.address;
  r.instance = options_.instance;
  r.next_send_msgid = sa.next_request_id;
  r.next_recv_msgid = sa.next_peer_request_id;
  r.lifetime_seconds = sa.conn->rekey_time ? sa.conn->rekey_time + std::max<uint64_t>(sa.conn->rekey_time / 10, 60) : 0;
  r.gone = gone;
  installer_.ike_sa_changed(r);
}

void EngineState::forget(IkeSa& sa, const char* why) {
  if (sa.state == IkeState::kDead) return;
  if (sa.established_ms != 0) report(sa, true);
  IKE_LOG(log_, info, "{} IKE SA '{}' with {} gone: {}", spi_hex(sa.our_spi()), sa.conn->name, sa.remote.address.to_string(), why);
  std::vector<ChildSa> children = std::move(sa.children);
  sa.children.clear();
  for (ChildSa& c : children) remove_child_sas(sa, c);
  sa.pending.reset();
  sa.queued.clear();
  if (sa.state == IkeState::kHalfOpen) --half_open_;
  sa.state = IkeState::kDead;  // erased by tick(): callers up the stack may still hold it
  reschedule(sa);
}

}  // namespace dpvpn::ike::engine_internal
