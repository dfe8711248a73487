// Requests and responses of an IKE SA: SK protection and fragmentation on the way out, ICV check
// and reassembly on the way in, the request window (size 1) and retransmissions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "ike/crypto/random.hpp"
#include "ike/engine/engine_state.hpp"
#include "ike/message/sk_layout.hpp"

namespace dpvpn::ike::engine_internal {

namespace {

Header header_for(const IkeSa& sa, ExchangeType exchange, bool response, uint32_t message_id) {
  Header h;
  h.initiator_spi = spi_octets(sa.spi_i);
  h.responder_spi = spi_octets(sa.spi_r);
  h.exchange_type = exchange;
  h.flags = static_cast<uint8_t>((sa.initiator ? kFlagInitiator : 0) | (response ? kFlagResponse : 0));
  h.message_id = message_id;
  return h;
}

// One SK message, or (when it would exceed the threshold and the peer supports it) SKF fragments.
std::vector<std::vector<uint8_t>> protect(const IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                          spdlog::logger& log) {
  EncodedChain chain;
  if (Status s = encode_payload_chain(inner, &chain); !s) {
    log.error("cannot encode {} payloads: {}", inner.size(), s.message());
    return {};
  }
  const SkCipher& cipher = *sa.cipher_out;
  const size_t overhead = kHeaderSize + 4 + cipher.sk_body_length(0);
  std::vector<std::vector<uint8_t>> out;
  if (!sa.peer_fragmentation || overhead + chain.bytes.size() <= kFragmentThreshold || header.exchange_type == ExchangeType::kIkeSaInit) {
    SkMessageLayout layout;
    if (Status s = build_sk_message(header, {}, chain.first_type, cipher.sk_body_length(chain.bytes.size()), &layout); !s ||
        !(s = cipher.seal(layout.bytes, layout.body_location.offset, chain.bytes))) {
      log.error("cannot protect a message: {}", s.message());
      return {};
    }
    out.push_back(std::move(layout.bytes));
    return out;
  }
  // RFC 7383: every fragment protected on its own; 8 more octets of SKF header than SK's.
  const size_t room = kFragmentThreshold - overhead - 4 - 16;  // leave room for padding
  const size_t total = (chain.bytes.size() + room - 1) / room;
  for (size_t i = 0; i < total; ++i) {
    const ByteView part = ByteView(chain.bytes).subspan(i * room, std::min(room, chain.bytes.size() - i * room));
    SkMessageLayout layout;
    Status s = build_skf_message(header, {}, i == 0 ? chain.first_type : PayloadType::kNone, static_cast<uint16_t>(i + 1),
                                 static_cast<uint16_t>(total), cipher.sk_body_length(part.size()), &layout);
    if (s) s = cipher.seal(layout.bytes, layout.body_location.offset, part);
    if (!s) {
      log.error("cannot protect fragment {}: {}", i + 1, s.message());
      return {};
    }
    out.push_back(std::move(layout.bytes));
  }
  return out;
}

}  // namespace

const char* state_name(IkeState state) {
  switch (state) {
    case IkeState::kInitSent:
    case IkeState::kAuthSent:
    case IkeState::kHalfOpen: return "CONNECTING";
    case IkeState::kEstablished: return "ESTABLISHED";
    case IkeState::kDeleting: return "DELETING";
    case IkeState::kDead: return "DEAD";
  }
  return "?";
}

Endpoint EngineState::ike_endpoint(const IkeSa& sa, bool local) const { return local ? sa.local : sa.remote; }

void EngineState::send_plain(const Endpoint& local, const Endpoint& remote, const Message& message) {
  Datagram d{local, remote, {}};
  if (Status s = encode_message(message, &d.bytes); !s) {
    log_->error("cannot encode {}: {}", static_cast<int>(message.header.exchange_type), s.message());
    return;
  }
  sender_.send(d);
}

Status EngineState::send_request(IkeSa& sa, ExchangeType exchange, RequestKind kind, std::vector<Payload> inner,
                                 PendingRequest context, uint64_t now) {
  if (sa.pending) return {StatusCode::kUnavailable, "a request is outstanding"};
  context.kind = kind;
  context.message_id = sa.next_request_id++;
  context.datagrams = protect(sa, header_for(sa, exchange, false, context.message_id), inner, *log_);
  if (context.datagrams.empty()) return {StatusCode::kInternal, "cannot protect the request"};
  for (const auto& bytes : context.datagrams) sender_.send({sa.local, sa.remote, bytes});
  context.tries = 1;
  context.next_send_ms = now + options_.retransmit_timeout_ms;
  IKE_LOG(log_, debug, "{} sent request {} ({} datagram{})", spi_hex(sa.our_spi()), context.message_id, context.datagrams.size(),
              context.datagrams.size() == 1 ? "" : "s");
  sa.pending = std::move(context);
  reschedule(sa);
  return Status::ok();
}

void EngineState::send_response(IkeSa& sa, ExchangeType exchange, uint32_t message_id, std::vector<Payload> inner) {
  sa.last_response = protect(sa, header_for(sa, exchange, true, message_id), inner, *log_);
  sa.last_response_id = message_id;
  for (const auto& bytes : sa.last_response) sender_.send({sa.local, sa.remote, bytes});
}

std::optional<std::vector<Payload>> EngineState::unprotect(IkeSa& sa, const Datagram& datagram, const Message& message,
                                                           std::optional<ParseResult>* syntax_error) {
  const std::optional<SkBodyLocation> body = locate_sk_body(message, datagram.bytes.size());
  if (!body || !sa.cipher_in) {
    IKE_LOG(log_, debug, "{}: message {} without SK payload dropped", spi_hex(sa.our_spi()), message.header.message_id);
    return std::nullopt;
  }
  std::vector<uint8_t> plain;
  const ByteView whole(datagram.bytes.data(), body->offset + body->length);
  const SkOpenResult opened = sa.cipher_in->open(whole, body->offset, &plain);
  if (opened != SkOpenResult::kOk) {
    // RFC 7296 §2.21.2: a message that fails its integrity check is dropped without a word.
    IKE_LOG(log_, info, "{}: message {} fails its integrity check, dropped", spi_hex(sa.our_spi()), message.header.message_id);
    return std::nullopt;
  }
  PayloadType first = PayloadType::kNone;
  if (const auto* sk = std::get_if<SkPayload>(&message.payloads.back())) {
    first = sk->first_inner_type;
  } else if (const auto* skf = std::get_if<SkfPayload>(&message.payloads.back())) {
    Reassembly& r = sa.reassembly[message.header.message_id];
    if (r.total != 0 && r.total != skf->total_fragments) {
      sa.reassembly.erase(message.header.message_id);  // RFC 7383 §2.6.1: inconsistent, start over
      return std::nullopt;
    }
    r.total = skf->total_fragments;
    if (skf->fragment_number == 1) r.first_type = skf->first_inner_type;
    r.plaintexts[skf->fragment_number] = std::move(plain);
    if (r.plaintexts.size() < r.total) return std::nullopt;
    plain.clear();
    for (auto& [number, part] : r.plaintexts) plain.insert(plain.end(), part.begin(), part.end());
    first = r.first_type;
    sa.reassembly.erase(message.header.message_id);
  }
  std::vector<Payload> inner;
  if (const ParseResult r = parse_payload_chain(first, plain, &inner); !r.ok()) {
    IKE_LOG(log_, info, "{}: message {}: encrypted payloads invalid: {}", spi_hex(sa.our_spi()), message.header.message_id, r.to_string());
    if (syntax_error != nullptr) *syntax_error = r;
    return std::nullopt;
  }
  return inner;
}

void EngineState::retransmit_due(IkeSa& sa, uint64_t now) {
  if (!sa.pending || now < sa.pending->next_send_ms) return;
  if (sa.pending->tries >= options_.retransmit_tries) {
    log_->warn("{} peer {} does not answer request {} after {} tries: giving up", spi_hex(sa.our_spi()),
               sa.remote.address.to_string(), sa.pending->message_id, sa.pending->tries);
    forget(sa, "peer not responding");
    return;
  }
  for (const auto& bytes : sa.pending->datagrams) sender_.send({sa.local, sa.remote, bytes});
  sa.pending->next_send_ms = now + (uint64_t{options_.retransmit_timeout_ms} << sa.pending->tries);
  ++sa.pending->tries;
}

void EngineState::when_window_free(IkeSa& sa, std::function<void(uint64_t)> exchange, uint64_t now) {
  if (!sa.pending && sa.queued.empty()) {
    exchange(now);
  } else {
    sa.queued.push_back(std::move(exchange));
  }
}

void EngineState::window_freed(IkeSa& sa, uint64_t now) {
  if (sa.delete_requested && !sa.pending && sa.state == IkeState::kEstablished) return delete_ike(sa, now);
  while (!sa.pending && !sa.queued.empty() && sa.state == IkeState::kEstablished) {
    auto next = std::move(sa.queued.front());
    sa.queued.pop_front();
    next(now);
  }
}

// ---- helpers ---------------------------------------------------------------------------------

const NotifyPayload* find_notify(const std::vector<Payload>& payloads, NotifyType type) {
  for (const Payload& p : payloads) {
    if (const auto* n = std::get_if<NotifyPayload>(&p); n && n->type == type) return n;
  }
  return nullptr;
}

const NotifyPayload* find_error_notify(const std::vector<Payload>& payloads) {
  for (const Payload& p : payloads) {
    if (const auto* n = std::get_if<NotifyPayload>(&p); n && static_cast<uint16_t>(n->type) < 16384) return n;
  }
  return nullptr;
}

NotifyPayload notify(NotifyType type, std::vector<uint8_t> data) {
  NotifyPayload n;
  n.type = type;
  n.data = std::move(data);
  return n;
}

std::vector<uint8_t> spi_bytes(uint32_t spi) {
  return {static_cast<uint8_t>(spi >> 24), static_cast<uint8_t>(spi >> 16), static_cast<uint8_t>(spi >> 8),
          static_cast<uint8_t>(spi)};
}

uint32_t spi_from(const std::vector<uint8_t>& b) {
  return b.size() == 4 ? static_cast<uint32_t>(b[0]) << 24 | static_cast<uint32_t>(b[1]) << 16 |
                             static_cast<uint32_t>(b[2]) << 8 | b[3]
                       : 0;
}

std::string spi_hex(uint64_t spi) { return fmt::format("{:016x}", spi); }

uint64_t spi_value(std::span<const uint8_t> octets) {
  uint64_t v = 0;
  for (uint8_t b : octets) v = v << 8 | b;
  return octets.size() == 8 ? v : 0;
}

std::vector<uint8_t> random_nonce() {
  std::vector<uint8_t> n(kNonceSize);
  (void)random_bytes(n);
  return n;
}

uint16_t first_dh(const std::vector<Proposal>& proposals) {
  for (const Proposal& p : proposals) {
    for (const Transform& t : p.transforms) {
      if (t.type == TransformType::kDh) return t.id;
    }
  }
  return 0;
}

}  // namespace dpvpn::ike::engine_internal
