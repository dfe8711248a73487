// IKE_SA_INIT (RFC 7296 §1.2): proposals, key exchange, nonces, NAT detection (§2.23), cookies
// (§2.6), INVALID_KE_PAYLOAD retries (§1.2), fragmentation support (RFC 7383).
#include <spdlog/spdlog.h>

#include "ike/crypto/ip_octets.hpp"
#include "ike/crypto/nat_detection.hpp"
#include "ike/crypto/proposal_selection.hpp"
#include "ike/crypto/random.hpp"
#include "ike/engine/engine_state.hpp"
#include "ike/engine/wire_convert.hpp"

namespace dpvpn::ike::engine_internal {

namespace {

NotifyPayload nat_notify(NotifyType type, uint64_t spi_i, uint64_t spi_r, const Endpoint& e) {
  NatDetectionHash hash{};
  (void)nat_detection_hash(spi_i, spi_r, e.address, e.port, &hash);
  return notify(type, std::vector<uint8_t>(hash.begin(), hash.end()));
}

// Whether a received NAT_DETECTION hash (any of several) names `e`; no notify = no NAT-T support.
bool nat_hash_matches(const std::vector<Payload>& payloads, NotifyType type, uint64_t spi_i, uint64_t spi_r,
                      const Endpoint& e, bool* present) {
  NatDetectionHash want{};
  (void)nat_detection_hash(spi_i, spi_r, e.address, e.port, &want);
  bool match = false;
  for (const Payload& p : payloads) {
    const auto* n = std::get_if<NotifyPayload>(&p);
    if (n == nullptr || n->type != type) continue;
    *present = true;
    match = match || std::equal(n->data.begin(), n->data.end(), want.begin(), want.end());
  }
  return match;
}

bool offers_dh(const std::vector<Proposal>& proposals, uint16_t group) {
  for (const Proposal& p : proposals) {
    for (const Transform& t : p.transforms) {
      if (t.type == TransformType::kDh && t.id == group) return true;
    }
  }
  return false;
}

// RFC 7427 §4: the hashes we sign and verify with: SHA2-256, SHA2-384, SHA2-512.
NotifyPayload signature_hashes() { return notify(NotifyType::kSignatureHashAlgorithms, {0, 2, 0, 3, 0, 4}); }

}  // namespace

Status EngineState::start_ike_sa(const SharedConnection& shared_conn, const std::string& child,
                                 uint64_t now) {
  const Connection& conn = *shared_conn;
  auto sa = std::make_unique<IkeSa>();
  sa->conn = shared_conn;
  sa->initiator = true;
  if (Status s = random_ike_spi(&sa->spi_i); !s) return s;
  sa->local = {conn.local, 500};
  sa->remote = {conn.remote, 500};
  sa->offered_ike = conn.ike_proposals;
  sa->created_ms = sa->last_heard_ms = now;
  if (child.empty()) {
    for (const ChildConfig& c : conn.children) sa->children_to_create.push_back(c.name);
  } else {
    sa->children_to_create.push_back(child);
  }
  if (Status s = DhGroup::create(first_dh(sa->offered_ike), &sa->dh); !s) return s;
  if (Status s = sa->dh->generate(); !s) return s;
  sa->ni = random_nonce();
  IkeSa& ref = add_sa(std::move(sa));
  IKE_LOG(log_, info, "{} initiating IKE SA '{}' to {}", spi_hex(ref.spi_i), conn.name, conn.remote.to_string());
  send_init_request(ref, now);
  return Status::ok();
}

void EngineState::send_init_request(IkeSa& sa, uint64_t now) {
  Message m;
  m.header.initiator_spi = spi_octets(sa.spi_i);
  m.header.exchange_type = ExchangeType::kIkeSaInit;
  m.header.flags = kFlagInitiator;
  if (!sa.cookie.empty()) m.payloads.push_back(notify(NotifyType::kCookie, sa.cookie));  // must come first
  m.payloads.push_back(SaPayload{to_wire(sa.offered_ike, {})});
  m.payloads.push_back(KePayload{sa.dh->id(), sa.dh->public_value()});
  m.payloads.push_back(NoncePayload{sa.ni});
  m.payloads.push_back(nat_notify(NotifyType::kNatDetectionSourceIp, sa.spi_i, 0, sa.local));
  m.payloads.push_back(nat_notify(NotifyType::kNatDetectionDestinationIp, sa.spi_i, 0, sa.remote));
  if (sa.conn->fragmentation) m.payloads.push_back(notify(NotifyType::kIkev2FragmentationSupported));
  if (sa.conn->auth == controld::AuthMethod::kPubkey) m.payloads.push_back(signature_hashes());
  if (Status s = encode_message(m, &sa.init_request); !s) {
    log_->error("{} cannot encode IKE_SA_INIT: {}", spi_hex(sa.spi_i), s.message());
    forget(sa, "encoding failed");
    return;
  }
  PendingRequest p;
  p.kind = RequestKind::kInit;
  p.message_id = 0;
  p.datagrams = {sa.init_request};
  p.tries = 1;
  p.next_send_ms = now + options_.retransmit_timeout_ms;
  sa.pending = std::move(p);
  sa.next_request_id = 1;
  sa.state = IkeState::kInitSent;
  sender_.send({sa.local, sa.remote, sa.init_request});
  reschedule(sa);
}

void EngineState::on_init_request(const Datagram& d, const Message& m, uint64_t now) {
  const uint64_t spi_i = spi_value(m.header.initiator_spi);
  // A retransmitted request: answer with the same response.
  if (auto known = responder_by_initiator_.find({d.remote.address, spi_i}); known != responder_by_initiator_.end()) {
    if (IkeSa* sa = find_sa(known->second); sa != nullptr && sa->state == IkeState::kHalfOpen) {
      sender_.send({sa->local, sa->remote, sa->init_response});
    }
    return;
  }
  Message reply;
  reply.header = m.header;
  reply.header.flags = kFlagResponse;
  const auto refuse = [&](NotifyPayload n, const char* why) {
    IKE_LOG(log_, info, "IKE_SA_INIT from {}: {}", d.remote.address.to_string(), why);
    reply.payloads = {std::move(n)};
    send_plain(d.local, d.remote, reply);
  };
  const SharedConnection conn = find_connection(d.local.address, d.remote.address);
  if (conn == nullptr) return refuse(notify(NotifyType::kNoProposalChosen), "no connection configured for this peer");
  const auto* sa_payload = find_payload<SaPayload>(m.payloads);
  const auto* ke = find_payload<KePayload>(m.payloads);
  const auto* nonce = find_payload<NoncePayload>(m.payloads);
  if (sa_payload == nullptr || ke == nullptr || nonce == nullptr) {
    return refuse(notify(NotifyType::kInvalidSyntax), "SA, KE or Nonce missing");
  }

  // Cookies (RFC 7296 §2.6) once too many SAs are half open.
  if (half_open_count() >= options_.cookie_threshold) {
    const auto* first = m.payloads.empty() ? nullptr : std::get_if<NotifyPayload>(&m.payloads.front());
    if (first == nullptr || first->type != NotifyType::kCookie ||
        !cookies_->check(first->data, nonce->data, d.remote.address, spi_i)) {
      std::vector<uint8_t> cookie;
      if (!cookies_->make(nonce->data, d.remote.address, spi_i, &cookie)) return;
      return refuse(notify(NotifyType::kCookie, cookie), "too many half-open SAs: cookie required");
    }
  }

  std::vector<Proposal> offered;
  for (const SaProposal& p : sa_payload->proposals) {
    offered.push_back(from_wire(p).value_or(Proposal{}));
  }
  const std::optional<ProposalMatch> match = select_proposal(conn->ike_proposals, offered);
  if (!match) return refuse(notify(NotifyType::kNoProposalChosen), "no acceptable proposal");
  IkeSuite suite;
  if (Status s = ike_suite_from(match->chosen, &suite); !s) return refuse(notify(NotifyType::kNoProposalChosen), "bad suite");
  if (ke->group != suite.dh) {
    const uint16_t g = suite.dh;
    return refuse(notify(NotifyType::kInvalidKePayload, {static_cast<uint8_t>(g >> 8), static_cast<uint8_t>(g)}),
                  "KE of another group: INVALID_KE_PAYLOAD");
  }

  auto sa = std::make_unique<IkeSa>();
  sa->conn = conn;
  sa->initiator = false;
  sa->spi_i = spi_i;
  if (!random_ike_spi(&sa->spi_r)) return;
  sa->local = d.local;
  sa->remote = d.remote;
  sa->suite = suite;
  sa->ni = nonce->data;
  sa->nr = random_nonce();
  sa->created_ms = sa->last_heard_ms = now;
  if (!DhGroup::create(suite.dh, &sa->dh) || !sa->dh->generate()) return;
  if (Status s = sa->dh->compute_shared(ke->data); !s) {
    return refuse(notify(NotifyType::kInvalidSyntax), "invalid KE data");
  }
  bool natd = false;
  sa->nat_there = !nat_hash_matches(m.payloads, NotifyType::kNatDetectionSourceIp, spi_i, 0, d.remote, &natd) && natd;
  sa->nat_here = !nat_hash_matches(m.payloads, NotifyType::kNatDetectionDestinationIp, spi_i, 0, d.local, &natd) && natd;
  sa->peer_fragmentation = conn->fragmentation && find_notify(m.payloads, NotifyType::kIkev2FragmentationSupported);

  reply.header.responder_spi = spi_octets(sa->spi_r);
  SaProposal chosen = to_wire({match->chosen}, {}).front();
  chosen.number = sa_payload->proposals[match->peer_index].number;
  reply.payloads.push_back(SaPayload{{chosen}});
  reply.payloads.push_back(KePayload{sa->dh->id(), sa->dh->public_value()});
  reply.payloads.push_back(NoncePayload{sa->nr});
  if (natd) {
    reply.payloads.push_back(nat_notify(NotifyType::kNatDetectionSourceIp, sa->spi_i, sa->spi_r, d.local));
    reply.payloads.push_back(nat_notify(NotifyType::kNatDetectionDestinationIp, sa->spi_i, sa->spi_r, d.remote));
  }
  if (sa->peer_fragmentation) reply.payloads.push_back(notify(NotifyType::kIkev2FragmentationSupported));
  if (conn->auth == controld::AuthMethod::kPubkey) {
    add_certificate_request(*sa, &reply.payloads);
    // RFC 7427 §4: without it the peer signs the old way (e.g. RSA method 1), which we do not verify.
    if (find_notify(m.payloads, NotifyType::kSignatureHashAlgorithms)) reply.payloads.push_back(signature_hashes());
  }
  if (Status s = encode_message(reply, &sa->init_response); !s) {
    log_->error("cannot encode IKE_SA_INIT response: {}", s.message());
    return;
  }
  sa->init_request = d.bytes;
  if (Status s = derive_ike_keys(*sa); !s) {
    log_->error("{} key derivation failed: {}", spi_hex(sa->spi_r), s.message());
    return;
  }
  sa->state = IkeState::kHalfOpen;
  ++half_open_;
  sa->next_peer_request_id = 1;
  sa->last_response_id = 0;
  sa->last_response = {sa->init_response};
  IKE_LOG(log_, info, "{} IKE_SA_INIT from {} for '{}': {}{}", spi_hex(sa->spi_r), d.remote.address.to_string(), conn->name,
             proposal_to_string(match->chosen), sa->natt() ? ", NAT detected" : "");
  sender_.send({sa->local, sa->remote, sa->init_response});
  add_sa(std::move(sa));
}

void EngineState::on_init_response(IkeSa& sa, const Datagram& d, const Message& m, uint64_t now) {
  if (!sa.pending || sa.pending->kind != RequestKind::kInit) return;
  if (const NotifyPayload* cookie = find_notify(m.payloads, NotifyType::kCookie)) {
    IKE_LOG(log_, info, "{} responder asks for a cookie", spi_hex(sa.spi_i));
    sa.cookie = cookie->data;
    sa.pending.reset();
    return send_init_request(sa, now);
  }
  if (const NotifyPayload* ke = find_notify(m.payloads, NotifyType::kInvalidKePayload)) {
    const uint16_t group = ke->data.size() == 2 ? static_cast<uint16_t>(ke->data[0] << 8 | ke->data[1]) : 0;
    if (!offers_dh(sa.offered_ike, group) || group == sa.dh->id() || !DhGroup::create(group, &sa.dh) || !sa.dh->generate()) {
      return forget(sa, "INVALID_KE_PAYLOAD for a group we did not offer");
    }
    IKE_LOG(log_, info, "{} responder wants DH group {}: retrying", spi_hex(sa.spi_i), group);
    sa.pending.reset();
    return send_init_request(sa, now);
  }
  if (const NotifyPayload* error = find_error_notify(m.payloads)) {
    log_->warn("{} IKE_SA_INIT refused by {}: notify {}", spi_hex(sa.spi_i), sa.remote.address.to_string(),
               static_cast<int>(error->type));
    return forget(sa, "IKE_SA_INIT refused");
  }
  const auto* sa_payload = find_payload<SaPayload>(m.payloads);
  const auto* ke = find_payload<KePayload>(m.payloads);
  const auto* nonce = find_payload<NoncePayload>(m.payloads);
  if (sa_payload == nullptr || ke == nullptr || nonce == nullptr || sa_payload->proposals.size() != 1) {
    return forget(sa, "IKE_SA_INIT response without SA, KE or Nonce");
  }
  const std::optional<Proposal> chosen = from_wire(sa_payload->proposals.front());
  const std::optional<ProposalMatch> check = chosen ? select_proposal(sa.offered_ike, std::span(&*chosen, 1)) : std::nullopt;
  if (!check || check->chosen.transforms.size() != chosen->transforms.size() || !ike_suite_from(*chosen, &sa.suite)) {
    return forget(sa, "the responder chose a proposal we did not offer");
  }
  if (ke->group != sa.suite.dh || ke->group != sa.dh->id()) return forget(sa, "KE group differs from the chosen one");
  sa.spi_r = spi_value(m.header.responder_spi);
  sa.nr = nonce->data;
  if (Status s = sa.dh->compute_shared(ke->data); !s) return forget(sa, "invalid KE data from the responder");
  bool natd = false;
  sa.nat_there = !nat_hash_matches(m.payloads, NotifyType::kNatDetectionSourceIp, sa.spi_i, sa.spi_r, sa.remote, &natd) && natd;
  sa.nat_here = !nat_hash_matches(m.payloads, NotifyType::kNatDetectionDestinationIp, sa.spi_i, sa.spi_r, sa.local, &natd) && natd;
  sa.peer_fragmentation = sa.conn->fragmentation && find_notify(m.payloads, NotifyType::kIkev2FragmentationSupported);
  sa.init_response = d.bytes;
  if (Status s = derive_ike_keys(sa); !s) return forget(sa, "key derivation failed");
  if (sa.natt()) {  // RFC 7296 §2.23: float to 4500 from IKE_AUTH on
    sa.local.port = 4500;
    sa.remote.port = 4500;
  }
  IKE_LOG(log_, info, "{} IKE_SA_INIT done with {}: {}{}", spi_hex(sa.spi_i), sa.remote.address.to_string(), proposal_to_string(*chosen),
             sa.natt() ? ", NAT detected: UDP 4500" : "");
  sa.pending.reset();
  send_auth_request(sa, now);
}

Status EngineState::derive_ike_keys(IkeSa& sa) {
  sa.prf = Prf::from_id(sa.suite.prf);
  if (!sa.prf) return {StatusCode::kInvalidArgument, "unsupported PRF"};
  SecureBytes skeyseed;
  if (Status s = compute_skeyseed(*sa.prf, sa.ni, sa.nr, sa.dh->shared_secret(), &skeyseed); !s) return s;
  if (Status s = derive_ike_sa_keys(sa.suite, skeyseed, sa.ni, sa.nr, sa.spi_i, sa.spi_r, &sa.keys); !s) return s;
  const bool i = sa.initiator;
  if (Status s = SkCipher::create(sa.suite, i ? sa.keys.sk_ei : sa.keys.sk_er, i ? sa.keys.sk_ai : sa.keys.sk_ar, &sa.cipher_out); !s) return s;
  return SkCipher::create(sa.suite, i ? sa.keys.sk_er : sa.keys.sk_ei, i ? sa.keys.sk_ar : sa.keys.sk_ai, &sa.cipher_in);
}

}  // namespace dpvpn::ike::engine_internal
