// CREATE_CHILD_SA (RFC 7296 §1.3): new child SAs, child SA rekeys with optional PFS (§1.3.3), IKE
// SA rekeys (§1.3.2, §2.18), and simultaneous child rekeys resolved by the lowest nonce (§2.8.1).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "ike/crypto/proposal_selection.hpp"
#include "ike/crypto/random.hpp"
#include "ike/engine/engine_state.hpp"
#include "ike/engine/wire_convert.hpp"

namespace dpvpn::ike::engine_internal {

namespace {

std::vector<uint8_t> min_nonce(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end()) ? a : b;
}

// Rekey timers spread over the last 10 % of the lifetime, so two peers with equal lifetimes rarely
// start a rekey at the same moment (collisions are handled, but cost an exchange).
uint64_t rekey_deadline(uint64_t now, uint64_t seconds) {
  if (seconds == 0) return 0;
  uint8_t r = 0;
  (void)random_bytes(std::span(&r, 1));
  return now + seconds * 1000 - seconds * 100 * r / 255;
}

}  // namespace

Status EngineState::install_child(IkeSa& sa, const ChildConfig& config, const EspSuite& suite, bool we_initiated,
                                  ByteView g_ir, ByteView ni, ByteView nr, uint32_t inbound_spi, uint32_t outbound_spi,
                                  std::vector<SelectorRange> local_ts, std::vector<SelectorRange> remote_ts,
                                  uint64_t now, bool policy_later) {
  if (outbound_spi == 0) return {StatusCode::kInvalidArgument, "the peer's SPI is missing"};
  ChildSaKeys keys;
  if (Status s = derive_child_sa_keys(*sa.prf, sa.keys.sk_d, suite, g_ir, ni, nr, &keys); !s) return s;
  ChildSaHalf half;
  half.local = sa.local.address;
  half.remote = sa.remote.address;
  half.natt = sa.natt();
  half.local_port = 4500;
  half.remote_port = sa.natt() ? sa.remote.port : 4500;
  half.suite = suite;
  half.local_ts = local_ts;
  half.remote_ts = remote_ts;
  // The dataplane's hard limit is the backstop behind our rekey timer: 10 % later (strongSwan's
  // default), and never less than 10 s later, or a short rekey_time would expire before it rekeys.
  const uint64_t life =
      config.life_time ? config.life_time : config.rekey_time == 0 ? 0 : config.rekey_time + std::max<uint64_t>(config.rekey_time / 10, 10);
  half.hard_seconds = life;
  ChildSa child;
  child.config = &config;
  child.pair.connection = sa.conn->name;
  child.pair.policy_later = policy_later;
  child.pair.child = config.name;
  child.pair.inbound = half;
  child.pair.inbound.spi = inbound_spi;
  child.pair.inbound.inbound = true;
  child.pair.inbound.keys = we_initiated ? keys.responder_to_initiator : keys.initiator_to_responder;
  child.pair.outbound = half;
  child.pair.outbound.spi = outbound_spi;
  child.pair.outbound.keys = we_initiated ? keys.initiator_to_responder : keys.responder_to_initiator;
  child.local_ts = std::move(local_ts);
  child.remote_ts = std::move(remote_ts);
  child.established_ms = now;
  child.suite = suite_name(suite);
  child.rekey_at_ms = rekey_deadline(now, config.rekey_time);
  child.rekey_nonces_min = min_nonce(std::vector<uint8_t>(ni.begin(), ni.end()), std::vector<uint8_t>(nr.begin(), nr.end()));
  if (Status s = installer_.install(child.pair); !s) return s;
  IKE_LOG(log_, info, "{} child '{}' installed: SPIs in {:08x} out {:08x}, {}{}", spi_hex(sa.our_spi()), config.name, inbound_spi,
             outbound_spi, to_string(child.local_ts.front()) + " === " + to_string(child.remote_ts.front()),
             half.natt ? ", UDP-encapsulated" : "");
  sa.children.push_back(std::move(child));
  reschedule(sa);
  return Status::ok();
}

void EngineState::create_child(IkeSa& sa, const std::string& name, uint64_t now) {
  const ChildConfig* config = child_config(*sa.conn, name);
  if (config == nullptr || sa.state != IkeState::kEstablished) return;
  PendingRequest ctx;
  ctx.child = name;
  if (Status s = installer_.allocate_spi(sa.local.address, &ctx.new_inbound_spi); !s) {
    log_->error("{} no SPI for child '{}': {}", spi_hex(sa.our_spi()), name, s.message());
    return;
  }
  const ChildPlan& plan = sa.conn->plan(*config);
  ctx.offered = plan.esp;
  ctx.nonce = random_nonce();
  ctx.local_ts = plan.local_ts;
  ctx.remote_ts = plan.remote_ts;
  std::vector<Payload> inner;
  inner.push_back(SaPayload{to_wire(ctx.offered, spi_bytes(ctx.new_inbound_spi))});
  inner.push_back(NoncePayload{ctx.nonce});
  if (const uint16_t group = first_dh(ctx.offered)) {
    if (!DhGroup::create(group, &ctx.dh) || !ctx.dh->generate()) return;
    inner.push_back(KePayload{group, ctx.dh->public_value()});
  }
  inner.push_back(TsiPayload{{to_wire(ctx.local_ts)}});
  inner.push_back(TsrPayload{{to_wire(ctx.remote_ts)}});
  (void)send_request(sa, ExchangeType::kCreateChildSa, RequestKind::kNewChild, std::move(inner), std::move(ctx), now);
}

void EngineState::rekey_child(IkeSa& sa, uint32_t inbound_spi, uint64_t now) {
  auto it = std::find_if(sa.children.begin(), sa.children.end(),
                         [&](const ChildSa& c) { return c.pair.inbound.spi == inbound_spi && c.delete_at_ms == 0; });
  if (it == sa.children.end() || it->rekeying || sa.state != IkeState::kEstablished) return;
  PendingRequest ctx;
  ctx.child = it->config->name;
  ctx.rekeyed_inbound_spi = inbound_spi;
  if (Status s = installer_.allocate_spi(sa.local.address, &ctx.new_inbound_spi); !s) return;
  ctx.offered = sa.conn->plan(*it->config).esp;
  ctx.nonce = random_nonce();
  ctx.local_ts = it->local_ts;
  ctx.remote_ts = it->remote_ts;
  NotifyPayload rekey = notify(NotifyType::kRekeySa);
  rekey.protocol = ProtocolId::kEsp;
  rekey.spi = spi_bytes(inbound_spi);
  std::vector<Payload> inner = {rekey, SaPayload{to_wire(ctx.offered, spi_bytes(ctx.new_inbound_spi))}, NoncePayload{ctx.nonce}};
  if (const uint16_t group = first_dh(ctx.offered)) {
    if (!DhGroup::create(group, &ctx.dh) || !ctx.dh->generate()) return;
    inner.push_back(KePayload{group, ctx.dh->public_value()});
  }
  inner.push_back(TsiPayload{{to_wire(ctx.local_ts)}});
  inner.push_back(TsrPayload{{to_wire(ctx.remote_ts)}});
  it->rekeying = true;
  IKE_LOG(log_, info, "{} rekeying child '{}' ({:08x})", spi_hex(sa.our_spi()), it->config->name, inbound_spi);
  (void)send_request(sa, ExchangeType::kCreateChildSa, RequestKind::kRekeyChild, std::move(inner), std::move(ctx), now);
}

void EngineState::rekey_ike(IkeSa& sa, uint64_t now) {
  if (sa.state != IkeState::kEstablished) return;
  PendingRequest ctx;
  if (!random_ike_spi(&ctx.new_ike_spi)) return;
  ctx.offered = sa.conn->ike_proposals;
  ctx.nonce = random_nonce();
  // Our IKE SA's own group first: the peer accepted it once.
  uint16_t group = sa.suite.dh;
  if (!DhGroup::create(group, &ctx.dh) || !ctx.dh->generate()) return;
  const auto spi = spi_octets(ctx.new_ike_spi);
  std::vector<Payload> inner = {SaPayload{to_wire(ctx.offered, std::vector<uint8_t>(spi.begin(), spi.end()))},
                                NoncePayload{ctx.nonce}, KePayload{group, ctx.dh->public_value()}};
  IKE_LOG(log_, info, "{} rekeying IKE SA '{}'", spi_hex(sa.our_spi()), sa.conn->name);
  (void)send_request(sa, ExchangeType::kCreateChildSa, RequestKind::kRekeyIke, std::move(inner), std::move(ctx), now);
}

namespace {
// The new IKE SA of a rekey: keys from the old SA's SK_d (RFC 7296 §2.18), the children moved over.
std::unique_ptr<IkeSa> rekeyed_ike_sa(IkeSa& old, bool we_initiated, const IkeSuite& suite, uint64_t spi_i, uint64_t spi_r,
                                      std::vector<uint8_t> ni, std::vector<uint8_t> nr, std::unique_ptr<DhGroup> dh,
                                      uint64_t now, Status* status) {
  auto sa = std::make_unique<IkeSa>();
  sa->conn = old.conn;
  sa->initiator = we_initiated;
  sa->state = IkeState::kEstablished;
  sa->spi_i = spi_i;
  sa->spi_r = spi_r;
  sa->local = old.local;
  sa->remote = old.remote;
  sa->nat_here = old.nat_here;
  sa->nat_there = old.nat_there;
  sa->peer_fragmentation = old.peer_fragmentation;
  sa->suite = suite;
  sa->prf = Prf::from_id(suite.prf);
  sa->ni = std::move(ni);
  sa->nr = std::move(nr);
  sa->dh = std::move(dh);
  sa->created_ms = sa->established_ms = sa->last_heard_ms = now;
  sa->rekey_at_ms = rekey_deadline(now, sa->conn->rekey_time);
  SecureBytes skeyseed;
  *status = sa->prf ? compute_rekey_skeyseed(*old.prf, old.keys.sk_d, sa->dh->shared_secret(), sa->ni, sa->nr, &skeyseed)
                    : Status{StatusCode::kInvalidArgument, "unsupported PRF"};
  if (*status) *status = derive_ike_sa_keys(suite, skeyseed, sa->ni, sa->nr, spi_i, spi_r, &sa->keys);
  const bool i = we_initiated;
  if (*status) *status = SkCipher::create(suite, i ? sa->keys.sk_ei : sa->keys.sk_er, i ? sa->keys.sk_ai : sa->keys.sk_ar, &sa->cipher_out);
  if (*status) *status = SkCipher::create(suite, i ? sa->keys.sk_er : sa->keys.sk_ei, i ? sa->keys.sk_ar : sa->keys.sk_ai, &sa->cipher_in);
  if (*status) {
    sa->children = std::move(old.children);
    old.children.clear();
  }
  return sa;
}
}  // namespace

void EngineState::on_create_child_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now) {
  const auto respond_error = [&](NotifyType type, std::vector<uint8_t> data = {}) {
    send_response(sa, ExchangeType::kCreateChildSa, message_id, {notify(type, std::move(data))});
  };
  const auto* sa_payload = find_payload<SaPayload>(inner);
  const auto* nonce = find_payload<NoncePayload>(inner);
  const auto* ke = find_payload<KePayload>(inner);
  if (sa.state != IkeState::kEstablished) return respond_error(NotifyType::kTemporaryFailure);
  if (sa_payload == nullptr || nonce == nullptr || sa_payload->proposals.empty()) return respond_error(NotifyType::kInvalidSyntax);
  std::vector<Proposal> offered;
  for (const SaProposal& p : sa_payload->proposals) offered.push_back(from_wire(p).value_or(Proposal{}));
  const std::vector<uint8_t> nr = random_nonce();

  if (sa_payload->proposals.front().protocol == ProtocolId::kIke) {  // IKE SA rekey
    const std::optional<ProposalMatch> match = select_proposal(sa.conn->ike_proposals, offered);
    IkeSuite suite;
    if (!match || !ike_suite_from(match->chosen, &suite)) return respond_error(NotifyType::kNoProposalChosen);
    if (ke == nullptr || ke->group != suite.dh) {
      return respond_error(NotifyType::kInvalidKePayload, {static_cast<uint8_t>(suite.dh >> 8), static_cast<uint8_t>(suite.dh)});
    }
    std::unique_ptr<DhGroup> dh;
    if (!DhGroup::create(suite.dh, &dh) || !dh->generate() || !dh->compute_shared(ke->data)) {
      return respond_error(NotifyType::kInvalidSyntax);
    }
    uint64_t spi_r = 0;
    if (!random_ike_spi(&spi_r)) return respond_error(NotifyType::kTemporaryFailure);
    const uint64_t spi_i = spi_value(sa_payload->proposals[match->peer_index].spi);
    const std::vector<uint8_t> ke_public = dh->public_value();
    Status status;
    std::unique_ptr<IkeSa> next = rekeyed_ike_sa(sa, false, suite, spi_i, spi_r, nonce->data, nr, std::move(dh), now, &status);
    if (!status || spi_i == 0) return respond_error(NotifyType::kNoProposalChosen);
    const auto spi = spi_octets(spi_r);
    SaProposal chosen = to_wire({match->chosen}, std::vector<uint8_t>(spi.begin(), spi.end())).front();
    chosen.number = sa_payload->proposals[match->peer_index].number;
    send_response(sa, ExchangeType::kCreateChildSa, message_id, {SaPayload{{chosen}}, NoncePayload{nr}, KePayload{suite.dh, ke_public}});
    IKE_LOG(log_, info, "{} IKE SA '{}' rekeyed by the peer: now {}", spi_hex(sa.our_spi()), sa.conn->name, spi_hex(spi_r));
    sa.state = IkeState::kDeleting;  // the peer deletes the old SA
    sa.delete_at_ms = now + 30'000;
    report(add_sa(std::move(next)), false);
    return;
  }

  // A child SA: new, or replacing one (REKEY_SA names the SPI the peer receives on = our outbound).
  ChildSa* old = nullptr;
  if (const NotifyPayload* rekey = find_notify(inner, NotifyType::kRekeySa)) {
    const uint32_t spi = spi_from(rekey->spi);
    for (ChildSa& c : sa.children) {
      if (c.pair.outbound.spi == spi && c.delete_at_ms == 0) old = &c;
    }
    if (old == nullptr) return respond_error(NotifyType::kChildSaNotFound);
  }
  const std::vector<SelectorRange> tsi = ranges_of(find_payload<TsiPayload>(inner));
  const std::vector<SelectorRange> tsr = ranges_of(find_payload<TsrPayload>(inner));
  NotifyType error = NotifyType::kTsUnacceptable;
  for (const ChildConfig& config : sa.conn->children) {
    if (old != nullptr && config.name != old->config->name) continue;
    const ChildPlan& plan = sa.conn->plan(config);
    std::vector<SelectorRange> remote = narrow(plan.remote_ts, tsi);
    std::vector<SelectorRange> local = narrow(plan.local_ts, tsr);
    if (remote.empty() || local.empty()) continue;
    const std::optional<ProposalMatch> match = select_proposal(plan.esp, offered);
    EspSuite suite;
    if (!match || !esp_suite_from(match->chosen, &suite)) {
      error = NotifyType::kNoProposalChosen;
      continue;
    }
    std::unique_ptr<DhGroup> dh;
    if (suite.dh != 0) {
      if (ke == nullptr || ke->group != suite.dh) {
        return respond_error(NotifyType::kInvalidKePayload, {static_cast<uint8_t>(suite.dh >> 8), static_cast<uint8_t>(suite.dh)});
      }
      if (!DhGroup::create(suite.dh, &dh) || !dh->generate() || !dh->compute_shared(ke->data)) {
        return respond_error(NotifyType::kInvalidSyntax);
      }
    }
    uint32_t inbound = 0;
    if (!installer_.allocate_spi(sa.local.address, &inbound)) return respond_error(NotifyType::kTemporaryFailure);
    const SaProposal& theirs = sa_payload->proposals[match->peer_index];
    const ByteView g_ir = dh ? ByteView(dh->shared_secret()) : ByteView{};
    const bool collision = old != nullptr && old->rekeying;  // `old` dangles after install_child()
    if (Status s = install_child(sa, config, suite, false, g_ir, nonce->data, nr, inbound, spi_from(theirs.spi), local,
                                 remote, now, /*policy_later=*/old != nullptr);
        !s) {
      log_->error("{} child '{}' not installed: {}", spi_hex(sa.our_spi()), config.name, s.message());
      return respond_error(NotifyType::kTemporaryFailure);
    }
    if (collision) {
      // §2.8.1: we are rekeying this child too; when our rekey completes, the SA made with the
      // lowest nonce (install_child() kept each exchange's lowest) is deleted by its creator.
      IKE_LOG(log_, info, "{} child '{}': simultaneous rekey", spi_hex(sa.our_spi()), config.name);
    }
    SaProposal chosen = to_wire({match->chosen}, spi_bytes(inbound)).front();
    chosen.number = theirs.number;
    std::vector<Payload> reply = {SaPayload{{chosen}}, NoncePayload{nr}};
    if (dh) reply.push_back(KePayload{suite.dh, dh->public_value()});
    reply.push_back(TsiPayload{{to_wire(remote)}});
    reply.push_back(TsrPayload{{to_wire(local)}});
    send_response(sa, ExchangeType::kCreateChildSa, message_id, std::move(reply));
    return;
  }
  respond_error(error);
}

void EngineState::on_create_child_response(IkeSa& sa, const std::vector<Payload>& inner, uint64_t now) {
  PendingRequest ctx = std::move(*sa.pending);
  sa.pending.reset();
  ChildSa* old = nullptr;
  for (ChildSa& c : sa.children) {
    if (ctx.kind == RequestKind::kRekeyChild && c.pair.inbound.spi == ctx.rekeyed_inbound_spi) old = &c;
  }
  if (old != nullptr) old->rekeying = false;
  const uint64_t old_established = old ? old->established_ms : 0;
  if (const NotifyPayload* error = find_error_notify(inner)) {
    log_->warn("{} CREATE_CHILD_SA refused: notify {}", spi_hex(sa.our_spi()), static_cast<int>(error->type));
    // TEMPORARY_FAILURE: the peer is busy (e.g. rekeying itself); the timers try again later.
    if (old != nullptr) old->rekey_at_ms = now + 5'000;
    if (ctx.kind == RequestKind::kRekeyIke) sa.rekey_at_ms = now + 5'000;
    return;
  }
  const auto* sa_payload = find_payload<SaPayload>(inner);
  const auto* nonce = find_payload<NoncePayload>(inner);
  const auto* ke = find_payload<KePayload>(inner);
  if (sa_payload == nullptr || nonce == nullptr || sa_payload->proposals.size() != 1) {
    log_->warn("{} CREATE_CHILD_SA response without SA or Nonce", spi_hex(sa.our_spi()));
    return;
  }
  const std::optional<Proposal> chosen = from_wire(sa_payload->proposals[0]);
  const std::optional<ProposalMatch> check = chosen ? select_proposal(ctx.offered, std::span(&*chosen, 1)) : std::nullopt;
  if (!check) {
    log_->warn("{} CREATE_CHILD_SA: the peer chose what we did not offer", spi_hex(sa.our_spi()));
    return;
  }
  if (ctx.dh && (ke == nullptr || ke->group != ctx.dh->id() || !ctx.dh->compute_shared(ke->data))) {
    log_->warn("{} CREATE_CHILD_SA: no valid KE in the response", spi_hex(sa.our_spi()));
    return;
  }

  if (ctx.kind == RequestKind::kRekeyIke) {
    IkeSuite suite;
    const uint64_t spi_r = spi_value(sa_payload->proposals[0].spi);
    if (!ike_suite_from(*chosen, &suite) || spi_r == 0 || !ctx.dh) return;
    Status status;
    std::unique_ptr<IkeSa> next = rekeyed_ike_sa(sa, true, suite, ctx.new_ike_spi, spi_r, ctx.nonce, nonce->data,
                                                 std::move(ctx.dh), now, &status);
    if (!status) {
      log_->error("{} IKE rekey failed: {}", spi_hex(sa.our_spi()), status.message());
      return;
    }
    IKE_LOG(log_, info, "{} IKE SA '{}' rekeyed: now {}", spi_hex(sa.our_spi()), sa.conn->name, spi_hex(ctx.new_ike_spi));
    IkeSa& fresh = add_sa(std::move(next));
    report(fresh, false);
    const bool doomed = sa.delete_requested;  // deleted while this rekey was in flight
    delete_ike(sa, now);  // the initiator of the rekey deletes the old SA
    if (doomed) delete_ike(fresh, now);
    return;
  }

  EspSuite suite;
  const ChildConfig* config = child_config(*sa.conn, ctx.child);
  const std::vector<SelectorRange> tsi = ranges_of(find_payload<TsiPayload>(inner));
  const std::vector<SelectorRange> tsr = ranges_of(find_payload<TsrPayload>(inner));
  if (config == nullptr || !esp_suite_from(*chosen, &suite) || !within(tsi, ctx.local_ts) || !within(tsr, ctx.remote_ts)) {
    log_->warn("{} CREATE_CHILD_SA: unacceptable response for child '{}'", spi_hex(sa.our_spi()), ctx.child);
    return;
  }
  const ByteView g_ir = ctx.dh ? ByteView(ctx.dh->shared_secret()) : ByteView{};
  const std::vector<uint8_t> exchange_min = min_nonce(ctx.nonce, nonce->data);
  if (Status s = install_child(sa, *config, suite, true, g_ir, ctx.nonce, nonce->data, ctx.new_inbound_spi,
                               spi_from(sa_payload->proposals[0].spi), tsi, tsr, now);
      !s) {
    log_->error("{} child '{}' not installed: {}", spi_hex(sa.our_spi()), ctx.child, s.message());
    return;
  }
  if (ctx.kind != RequestKind::kRekeyChild) return;
  // A rekey: the old SA goes. If the peer rekeyed the same child meanwhile (a collision), two
  // new SAs exist; the one made with the lowest nonce is redundant and its creator deletes it.
  const ChildSa* theirs = nullptr;
  for (const ChildSa& c : sa.children) {
    const bool other_new = c.pair.inbound.spi != ctx.new_inbound_spi && c.pair.inbound.spi != ctx.rekeyed_inbound_spi;
    if (other_new && c.config->name == ctx.child && c.delete_at_ms == 0 && c.established_ms > old_established) theirs = &c;
  }
  if (theirs != nullptr) {
    const bool ours_redundant = !std::lexicographical_compare(theirs->rekey_nonces_min.begin(), theirs->rekey_nonces_min.end(),
                                                              exchange_min.begin(), exchange_min.end());
    IKE_LOG(log_, info, "{} child '{}': rekey collision, {} SA is redundant", spi_hex(sa.our_spi()), ctx.child,
               ours_redundant ? "our" : "the peer's");
    if (ours_redundant) {
      const uint32_t spi = ctx.new_inbound_spi;
      when_window_free(sa, [this, &sa, spi](uint64_t t) { delete_child(sa, spi, t); }, now);
      return;  // the peer, whose rekey survives, deletes the old SA
    }
  }
  const uint32_t old_spi = ctx.rekeyed_inbound_spi;
  when_window_free(sa, [this, &sa, old_spi](uint64_t t) { delete_child(sa, old_spi, t); }, now);
}

}  // namespace dpvpn::ike::engine_internal
