// IKE_AUTH (RFC 7296 §1.2, §2.15): identities, authentication (PSK, or RFC 7427 signatures with
// certificates), and the first child SA with its selectors.
#include <spdlog/spdlog.h>

#include "ike/crypto/auth.hpp"
#include "ike/crypto/proposal_selection.hpp"
#include "ike/crypto/signature_auth.hpp"
#include "ike/engine/engine_state.hpp"
#include "ike/engine/wire_convert.hpp"

namespace dpvpn::ike::engine_internal {

namespace {

std::vector<uint8_t> id_body(const IdPayload& id) {
  std::vector<uint8_t> body = {static_cast<uint8_t>(id.type), 0, 0, 0};
  body.insert(body.end(), id.data.begin(), id.data.end());
  return body;
}

// The octets the AUTH of the original initiator (by_initiator) or responder covers (§2.15).
Status signed_octets(const IkeSa& sa, bool by_initiator, const IdPayload& id, std::vector<uint8_t>* out) {
  return auth_signed_octets(*sa.prf, by_initiator ? sa.keys.sk_pi : sa.keys.sk_pr,
                            by_initiator ? sa.init_request : sa.init_response, by_initiator ? sa.nr : sa.ni, id_body(id),
                            out);
}

}  // namespace

const Credentials* EngineState::credentials_for(const ConnectionConfig& conn) {
  if (conn.auth != controld::AuthMethod::kPubkey) return nullptr;
  auto& slot = credentials_[conn.name];
  if (!slot) {
    if (Status s = load_credentials(conn, &slot); !s) {
      log_->error("connection '{}': cannot load credentials: {}", conn.name, s.message());
      return nullptr;
    }
  }
  return slot.get();
}

void EngineState::add_certificate_request(IkeSa& sa, std::vector<Payload>* out) {
  if (const Credentials* c = credentials_for(*sa.conn)) {
    out->push_back(CertReqPayload{CertEncoding::kX509Signature, c->certreq_authorities});
  }
}

bool EngineState::add_our_authentication(IkeSa& sa, std::vector<Payload>* out) {
  const Credentials* creds = credentials_for(*sa.conn);
  if (sa.conn->auth == controld::AuthMethod::kPubkey && creds == nullptr) return false;
  const IdPayload id = local_id_payload(*sa.conn, creds);
  std::vector<uint8_t> octets;
  if (Status s = signed_octets(sa, sa.initiator, id, &octets); !s) return false;
  AuthPayload auth;
  if (creds == nullptr) {
    auth.method = AuthMethod::kSharedKeyMic;
    if (Status s = psk_auth_data(*sa.prf, sa.conn->psk, octets, &auth.data); !s) return false;
  } else {
    SignatureScheme scheme;
    auth.method = AuthMethod::kDigitalSignature;
    if (!default_signature_scheme(*creds->key, &scheme) || !sign_auth_data(*creds->key, scheme, octets, &auth.data)) {
      return false;
    }
  }
  if (sa.initiator) {
    out->push_back(IdiPayload{id});
  } else {
    out->push_back(IdrPayload{id});
  }
  if (creds != nullptr) {
    for (const Certificate& cert : creds->chain) out->push_back(CertPayload{CertEncoding::kX509Signature, cert.der()});
  }
  out->push_back(auth);
  return true;
}

bool EngineState::peer_authenticated(IkeSa& sa, const std::vector<Payload>& inner) {
  const IdPayload* id = nullptr;
  if (sa.initiator) {
    if (const auto* p = find_payload<IdrPayload>(inner)) id = p;
  } else if (const auto* p = find_payload<IdiPayload>(inner)) {
    id = p;
  }
  const auto* auth = find_payload<AuthPayload>(inner);
  if (id == nullptr || auth == nullptr) {
    log_->warn("{} no ID or AUTH from {}", spi_hex(sa.our_spi()), sa.remote.address.to_string());
    return false;
  }
  if (!peer_id_matches(sa.conn->remote_id, *id)) {
    log_->warn("{} peer identity {} is not the configured {}", spi_hex(sa.our_spi()), id_to_string(*id), sa.conn->remote_id.value);
    return false;
  }
  std::vector<uint8_t> octets;
  if (Status s = signed_octets(sa, !sa.initiator, *id, &octets); !s) return false;
  if (sa.conn->auth == controld::AuthMethod::kPsk) {
    if (auth->method != AuthMethod::kSharedKeyMic) {
      log_->warn("{} peer authenticates with method {}, PSK configured", spi_hex(sa.our_spi()), static_cast<int>(auth->method));
      return false;
    }
    if (Status s = verify_psk_auth_data(*sa.prf, sa.conn->psk, octets, auth->data); !s) {
      log_->warn("{} PSK authentication of {} failed", spi_hex(sa.our_spi()), id_to_string(*id));
      return false;
    }
    return true;
  }
  const Credentials* creds = credentials_for(*sa.conn);
  std::vector<Certificate> certs;
  for (const Payload& p : inner) {
    if (const auto* c = std::get_if<CertPayload>(&p); c && c->encoding == CertEncoding::kX509Signature) {
      if (auto cert = Certificate::from_der(c->data)) certs.push_back(*cert);
    }
  }
  if (creds == nullptr || certs.empty() || auth->method != AuthMethod::kDigitalSignature) {
    log_->warn("{} peer sent no certificate or no RFC 7427 signature", spi_hex(sa.our_spi()));
    return false;
  }
  const std::span<const Certificate> intermediates(certs.data() + 1, certs.size() - 1);
  if (Status s = creds->trust->verify(certs.front(), intermediates); !s) {
    log_->warn("{} peer certificate {} not trusted: {}", spi_hex(sa.our_spi()), certs.front().subject(), s.message());
    return false;
  }
  if (!certs.front().matches_id(id->type, id->data)) {
    log_->warn("{} peer certificate {} does not name {}", spi_hex(sa.our_spi()), certs.front().subject(), id_to_string(*id));
    return false;
  }
  if (Status s = verify_auth_data(certs.front(), auth->data, octets); !s) {
    log_->warn("{} peer signature does not verify: {}", spi_hex(sa.our_spi()), s.message());
    return false;
  }
  return true;
}

void EngineState::send_auth_request(IkeSa& sa, uint64_t now) {
  const ChildConfig* child =
      sa.children_to_create.empty() ? nullptr : child_config(*sa.conn, sa.children_to_create.front());
  if (child == nullptr) return forget(sa, "no child SA to create");
  sa.children_to_create.erase(sa.children_to_create.begin());
  PendingRequest ctx;
  ctx.child = child->name;
  if (Status s = installer_.allocate_spi(sa.local.address, &ctx.new_inbound_spi); !s) {
    log_->error("{} no SPI from the dataplane: {}", spi_hex(sa.spi_i), s.message());
    return forget(sa, "SPI allocation failed");
  }
  const ChildPlan& plan = sa.conn->plan(*child);
  ctx.offered = plan.esp_no_dh;
  ctx.local_ts = plan.local_ts;
  ctx.remote_ts = plan.remote_ts;

  std::vector<Payload> inner;
  if (!add_our_authentication(sa, &inner)) return forget(sa, "cannot authenticate ourselves");
  // IDr (what we expect the responder to be) goes right after IDi; CERTREQ before AUTH is not
  // required by the RFC's order, so it goes after the certificates.
  inner.insert(inner.begin() + 1, IdrPayload{to_id_payload(sa.conn->remote_id)});
  add_certificate_request(sa, &inner);
  inner.push_back(notify(NotifyType::kInitialContact));
  inner.push_back(SaPayload{to_wire(ctx.offered, spi_bytes(ctx.new_inbound_spi))});
  inner.push_back(TsiPayload{{to_wire(ctx.local_ts)}});
  inner.push_back(TsrPayload{{to_wire(ctx.remote_ts)}});
  sa.state = IkeState::kAuthSent;
  if (Status s = send_request(sa, ExchangeType::kIkeAuth, RequestKind::kAuth, std::move(inner), std::move(ctx), now); !s) {
    forget(sa, "cannot send IKE_AUTH");
  }
}

void EngineState::on_auth_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now) {
  if (sa.state != IkeState::kHalfOpen) return;
  if (!peer_authenticated(sa, inner)) {
    send_response(sa, ExchangeType::kIkeAuth, message_id, {notify(NotifyType::kAuthenticationFailed)});
    return forget(sa, "authentication failed");
  }
  std::vector<Payload> reply;
  if (!add_our_authentication(sa, &reply)) {
    send_response(sa, ExchangeType::kIkeAuth, message_id, {notify(NotifyType::kAuthenticationFailed)});
    return forget(sa, "cannot authenticate ourselves");
  }
  sa.state = IkeState::kEstablished;
  --half_open_;
  sa.established_ms = now;
  sa.rekey_at_ms = sa.conn->rekey_time ? now + sa.conn->rekey_time * 1000 : 0;
  IKE_LOG(log_, info, "{} IKE SA '{}' established with {} (responder)", spi_hex(sa.spi_r), sa.conn->name, sa.remote.address.to_string());
  report(sa, false);
  if (find_notify(inner, NotifyType::kInitialContact)) {
    // RFC 7296 §2.4: the peer restarted; its older IKE SAs with us are stale.
    for (auto [it, end] = sas_by_connection_.equal_range(sa.conn->name); it != end; ++it) {
      IkeSa* other = find_sa(it->second);
      if (other != nullptr && other != &sa && other->state == IkeState::kEstablished) forget(*other, "replaced after INITIAL_CONTACT");
    }
  }

  // The first child SA.
  const auto* sa_payload = find_payload<SaPayload>(inner);
  const std::vector<SelectorRange> tsi = ranges_of(find_payload<TsiPayload>(inner));
  const std::vector<SelectorRange> tsr = ranges_of(find_payload<TsrPayload>(inner));
  NotifyType child_error = NotifyType::kNoProposalChosen;
  for (const ChildConfig& child : sa.conn->children) {
    if (sa_payload == nullptr) break;
    const ChildPlan& plan = sa.conn->plan(child);
    std::vector<SelectorRange> remote = narrow(plan.remote_ts, tsi);
    std::vector<SelectorRange> local = narrow(plan.local_ts, tsr);
    if (remote.empty() || local.empty()) {
      child_error = NotifyType::kTsUnacceptable;
      continue;
    }
    std::vector<Proposal> offered;
    for (const SaProposal& p : sa_payload->proposals) offered.push_back(from_wire(p).value_or(Proposal{}));
    const std::optional<ProposalMatch> match = select_proposal(plan.esp_no_dh, offered);
    EspSuite suite;
    if (!match || !esp_suite_from(match->chosen, &suite)) {
      child_error = NotifyType::kNoProposalChosen;
      continue;
    }
    const SaProposal& theirs = sa_payload->proposals[match->peer_index];
    uint32_t inbound = 0;
    if (Status s = installer_.allocate_spi(sa.local.address, &inbound); !s) {
      child_error = NotifyType::kTemporaryFailure;
      break;
    }
    if (Status s = install_child(sa, child, suite, false, {}, sa.ni, sa.nr, inbound, spi_from(theirs.spi), local, remote, now); !s) {
      child_error = NotifyType::kTemporaryFailure;
      break;
    }
    SaProposal chosen = to_wire({match->chosen}, spi_bytes(inbound)).front();
    chosen.number = theirs.number;
    reply.push_back(SaPayload{{chosen}});
    reply.push_back(TsiPayload{{to_wire(remote)}});
    reply.push_back(TsrPayload{{to_wire(local)}});
    send_response(sa, ExchangeType::kIkeAuth, message_id, std::move(reply));
    return;
  }
  log_->warn("{} no child SA for the IKE_AUTH of '{}': notify {}", spi_hex(sa.spi_r), sa.conn->name, static_cast<int>(child_error));
  reply.push_back(notify(child_error));
  send_response(sa, ExchangeType::kIkeAuth, message_id, std::move(reply));
}

void EngineState::on_auth_response(IkeSa& sa, const std::vector<Payload>& inner, uint64_t now) {
  PendingRequest ctx = std::move(*sa.pending);
  sa.pending.reset();
  if (const NotifyPayload* error = find_notify(inner, NotifyType::kAuthenticationFailed)) {
    (void)error;
    return forget(sa, "the peer refused our authentication (AUTHENTICATION_FAILED)");
  }
  if (!peer_authenticated(sa, inner)) return forget(sa, "the responder's authentication failed");
  sa.state = IkeState::kEstablished;
  sa.established_ms = now;
  sa.rekey_at_ms = sa.conn->rekey_time ? now + sa.conn->rekey_time * 1000 : 0;
  IKE_LOG(log_, info, "{} IKE SA '{}' established with {} (initiator)", spi_hex(sa.spi_i), sa.conn->name, sa.remote.address.to_string());
  report(sa, false);

  const ChildConfig* child = child_config(*sa.conn, ctx.child);
  const auto* sa_payload = find_payload<SaPayload>(inner);
  if (const NotifyPayload* error = find_error_notify(inner); error != nullptr || sa_payload == nullptr || child == nullptr) {
    log_->warn("{} child '{}' not created: notify {}", spi_hex(sa.spi_i), ctx.child, error ? static_cast<int>(error->type) : 0);
  } else {
    const std::optional<Proposal> chosen = sa_payload->proposals.size() == 1 ? from_wire(sa_payload->proposals[0]) : std::nullopt;
    const std::optional<ProposalMatch> check = chosen ? select_proposal(ctx.offered, std::span(&*chosen, 1)) : std::nullopt;
    EspSuite suite;
    const std::vector<SelectorRange> tsi = ranges_of(find_payload<TsiPayload>(inner));
    const std::vector<SelectorRange> tsr = ranges_of(find_payload<TsrPayload>(inner));
    if (!check || !esp_suite_from(*chosen, &suite) || !within(tsi, ctx.local_ts) || !within(tsr, ctx.remote_ts)) {
      log_->warn("{} child '{}': the responder chose what we did not offer", spi_hex(sa.spi_i), ctx.child);
    } else if (Status s = install_child(sa, *child, suite, true, {}, sa.ni, sa.nr, ctx.new_inbound_spi,
                                        spi_from(sa_payload->proposals[0].spi), tsi, tsr, now);
               !s) {
      log_->error("{} child '{}' not installed: {}", spi_hex(sa.spi_i), ctx.child, s.message());
    }
  }
  for (const std::string& name : sa.children_to_create) {
    when_window_free(sa, [this, &sa, name](uint64_t t) { create_child(sa, name, t); }, now);
  }
  sa.children_to_create.clear();
  window_freed(sa, now);
}

}  // namespace dpvpn::ike::engine_internal
