#pragma once
// The engine's internals, shared by the files that implement one exchange each. Not a public
// header: IkeEngine (ike_engine.hpp) is the interface.
#include <spdlog/logger.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "controld_config.hpp"
#include "ike/crypto/cookie.hpp"
#include "ike/crypto/dh_group.hpp"
#include "ike/crypto/ike_spi.hpp"
#include "ike/crypto/key_derivation.hpp"
#include "ike/crypto/prf.hpp"
#include "ike/crypto/proposal.hpp"
#include "ike/crypto/sk_cipher.hpp"
#include "ike/crypto/suite.hpp"
#include "ike/engine/credentials.hpp"
#include "ike/engine/engine_io.hpp"
#include "ike/engine/ike_engine.hpp"
#include "ike/message/message.hpp"

// Info and debug lines format SPIs, addresses and selectors: only when that level is on (spdlog
// evaluates its arguments first), so a quiet engine does not pay for them per tunnel.
#define IKE_LOG(logger, lvl, ...)                                              \
  do {                                                                         \
    if ((logger)->should_log(spdlog::level::lvl)) (logger)->lvl(__VA_ARGS__); \
  } while (0)

namespace dpvpn::ike::engine_internal {

using controld::ChildConfig;
using controld::ConnectionConfig;
// What the engine derives from a child's config once, when the config is loaded, not per exchange.
struct ChildPlan {
  std::vector<Proposal> esp;        // as configured (PFS groups included)
  std::vector<Proposal> esp_no_dh;  // IKE_AUTH's child: no KE there
  std::vector<SelectorRange> local_ts, remote_ts;  // as configured, else the hosts themselves
};

// A connection as the engine and its IKE SAs hold it: the config with its parsed proposals and
// selectors, one immutable copy, shared (an SA keeps its own after a reload replaced or dropped it).
struct Connection : ConnectionConfig {
  Connection(ConnectionConfig config, spdlog::logger& log);
  std::vector<Proposal> ike_proposals;
  std::vector<ChildPlan> child_plans;  // child_plans[i] is children[i]'s
  // The plan of one of this connection's children (`child` must be an element of `children`).
  const ChildPlan& plan(const ChildConfig& child) const;
};
using SharedConnection = std::shared_ptr<const Connection>;

// The size an IKE message may reach before it is fragmented (RFC 7383), as strongSwan's default.
inline constexpr size_t kFragmentThreshold = 1280;
inline constexpr size_t kNonceSize = 32;
// How long a half-open responder SA (IKE_SA_INIT answered, no IKE_AUTH) lives.
inline constexpr uint64_t kHalfOpenTimeoutMs = 30'000;
// How long a replaced child SA keeps decrypting after a rekey before it is deleted.
inline constexpr uint64_t kRekeyGraceMs = 2'000;

enum class IkeState { kInitSent, kAuthSent, kHalfOpen, kEstablished, kDeleting, kDead };
const char* state_name(IkeState state);

struct ChildSa {
  const ChildConfig* config = nullptr;  // one of its IKE SA's conn->children, kept alive by IkeSa::conn
  ChildSaPair pair;
  std::vector<SelectorRange> local_ts, remote_ts;
  uint64_t established_ms = 0;
  uint64_t rekey_at_ms = 0;        // 0 = never
  uint64_t delete_at_ms = 0;       // a replaced SA, removed after the grace period; 0 = live
  bool rekeying = false;           // our CREATE_CHILD_SA for it is outstanding
  std::vector<uint8_t> rekey_nonces_min;  // the lowest nonce of the exchange that created it (collisions)
  std::string suite;                      // for status: "aes128gcm16"
};

// What an outstanding request of ours was for, so that its response can be handled.
enum class RequestKind { kInit, kAuth, kNewChild, kRekeyChild, kRekeyIke, kDeleteChild, kDeleteIke, kDpd };

struct PendingRequest {
  RequestKind kind = RequestKind::kInit;
  uint32_t message_id = 0;
  std::vector<std::vector<uint8_t>> datagrams;  // as sent (fragments: several)
  uint64_t next_send_ms = 0;
  uint32_t tries = 0;
  // Exchange context.
  std::string child;                   // kAuth / kNewChild / kRekeyChild: the child config's name
  uint32_t rekeyed_inbound_spi = 0;    // kRekeyChild: the child being replaced; kDeleteChild: deleted
  uint32_t new_inbound_spi = 0;        // kAuth / kNewChild / kRekeyChild
  uint64_t new_ike_spi = 0;            // kRekeyIke: our SPI of the new IKE SA
  std::vector<Proposal> offered;       // what we proposed
  std::vector<uint8_t> nonce;          // our nonce in this exchange
  std::unique_ptr<DhGroup> dh;         // our key exchange in this exchange
  std::vector<SelectorRange> local_ts, remote_ts;  // what we proposed
};

// Fragments of one incoming message being reassembled (RFC 7383 §2.6).
struct Reassembly {
  uint16_t total = 0;
  PayloadType first_type = PayloadType::kNone;
  std::map<uint16_t, std::vector<uint8_t>> plaintexts;  // fragment number -> decrypted content
};

struct IkeSa {
  SharedConnection conn;  // shared with the engine's config: never copied per SA
  bool initiator = false;  // the original initiator (the I flag), not "who started the current exchange"
  IkeState state = IkeState::kInitSent;
  uint64_t spi_i = 0, spi_r = 0;
  Endpoint local, remote;
  bool nat_here = false, nat_there = false;  // NAT detection (RFC 7296 §2.23)
  bool peer_fragmentation = false;
  IkeSuite suite;
  std::optional<Prf> prf;
  IkeSaKeys keys;
  std::unique_ptr<SkCipher> cipher_out, cipher_in;
  std::vector<uint8_t> ni, nr;
  std::unique_ptr<DhGroup> dh;
  std::vector<uint8_t> cookie;            // initiator: the responder's COOKIE to echo
  std::vector<uint8_t> init_request, init_response;  // RealMessage1 / RealMessage2 for AUTH
  std::vector<Proposal> offered_ike;      // initiator: our IKE_SA_INIT proposals

  uint32_t next_request_id = 0;           // ours
  std::optional<PendingRequest> pending;  // window size 1 (RFC 7296 §2.3)
  std::deque<std::function<void(uint64_t)>> queued;  // exchanges waiting for the window
  bool delete_requested = false;
  uint64_t last_keepalive_ms = 0;  // NAT-T keepalives (behind a NAT) follow this or established_ms  // deleted while an exchange of ours was in flight: follows its answer
  uint32_t next_peer_request_id = 0;      // the peer's next request
  std::optional<uint32_t> last_response_id;
  std::vector<std::vector<uint8_t>> last_response;  // resent when the peer repeats that request
  std::map<uint32_t, Reassembly> reassembly;

  std::vector<ChildSa> children;
  std::vector<std::string> children_to_create;  // after IKE_AUTH, more children by CREATE_CHILD_SA
  uint64_t created_ms = 0, established_ms = 0, rekey_at_ms = 0, last_heard_ms = 0, delete_at_ms = 0;
  uint64_t scheduled_ms = 0;  // its current entry in EngineState::timers_ (0: none)

  uint64_t our_spi() const { return initiator ? spi_i : spi_r; }
  bool natt() const { return nat_here || nat_there; }
};

class EngineState {
 public:
  EngineState(EngineOptions options, std::vector<ConnectionConfig> connections, PacketSender& sender,
              SaInstaller& installer, std::shared_ptr<spdlog::logger> log);

  // ike_engine.cpp: dispatch, timers, status.
  void receive(const Datagram& datagram, uint64_t now);
  void tick(uint64_t now);
  uint64_t next_timer() const;
  Status initiate(const std::string& connection, const std::string& child, uint64_t now);
  void acquire(const IpAddr& src, const IpAddr& dst, uint64_t now);
  void child_expired(uint32_t spi, bool hard, uint64_t now);
  Status delete_peer(const IpAddr& peer, uint64_t now);
  void reload(std::vector<ConnectionConfig> connections, uint64_t now);
  std::vector<TunnelStatus> tunnels() const;
  size_t ike_sa_count() const { return sas_.size(); }
  size_t half_open_count() const { return half_open_; }

  // messaging.cpp: requests, responses, protection, retransmission.
  Status send_request(IkeSa& sa, ExchangeType exchange, RequestKind kind, std::vector<Payload> inner,
                      PendingRequest context, uint64_t now);
  void send_response(IkeSa& sa, ExchangeType exchange, uint32_t message_id, std::vector<Payload> inner);
  void send_plain(const Endpoint& local, const Endpoint& remote, const Message& message);
  // The decrypted payloads of a protected message; nullopt if it is not (yet) complete or invalid.
  // `syntax_error` is set when it decrypted (so it is authentic) but its payloads do not parse.
  std::optional<std::vector<Payload>> unprotect(IkeSa& sa, const Datagram& datagram, const Message& message,
                                                std::optional<ParseResult>* syntax_error = nullptr);
  void retransmit_due(IkeSa& sa, uint64_t now);
  // Runs `exchange` now if our window is free, else when it frees.
  void when_window_free(IkeSa& sa, std::function<void(uint64_t)> exchange, uint64_t now);
  void window_freed(IkeSa& sa, uint64_t now);

  // exchange_init.cpp
  Status start_ike_sa(const SharedConnection& conn, const std::string& child, uint64_t now);
  void send_init_request(IkeSa& sa, uint64_t now);
  void on_init_request(const Datagram& datagram, const Message& message, uint64_t now);
  void on_init_response(IkeSa& sa, const Datagram& datagram, const Message& message, uint64_t now);
  Status derive_ike_keys(IkeSa& sa);

  // exchange_auth.cpp
  void send_auth_request(IkeSa& sa, uint64_t now);
  void add_certificate_request(IkeSa& sa, std::vector<Payload>* out);
  // Our IDx and AUTH (and CERT) payloads; false if they cannot be made (credentials, crypto).
  bool add_our_authentication(IkeSa& sa, std::vector<Payload>* out);
  // Whether the peer's ID and AUTH (and certificate) in `inner` authenticate it.
  bool peer_authenticated(IkeSa& sa, const std::vector<Payload>& inner);
  const Credentials* credentials_for(const ConnectionConfig& conn);
  void on_auth_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now);
  void on_auth_response(IkeSa& sa, const std::vector<Payload>& inner, uint64_t now);

  // exchange_child.cpp
  void create_child(IkeSa& sa, const std::string& child, uint64_t now);
  void rekey_child(IkeSa& sa, uint32_t inbound_spi, uint64_t now);
  void rekey_ike(IkeSa& sa, uint64_t now);
  void on_create_child_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now);
  void on_create_child_response(IkeSa& sa, const std::vector<Payload>& inner, uint64_t now);
  // Installs a negotiated child SA (both directions) and records it in `sa`. `we_initiated` is
  // whether we initiated the exchange that created it (it decides which keys are whose).
  Status install_child(IkeSa& sa, const ChildConfig& config, const EspSuite& suite, bool we_initiated,
                       ByteView g_ir, ByteView ni, ByteView nr, uint32_t inbound_spi, uint32_t outbound_spi,
                       std::vector<SelectorRange> local_ts, std::vector<SelectorRange> remote_ts, uint64_t now,
                       bool policy_later = false);

  // exchange_info.cpp
  void on_informational_request(IkeSa& sa, uint32_t message_id, const std::vector<Payload>& inner, uint64_t now);
  void on_informational_response(IkeSa& sa, const std::vector<Payload>& inner, uint64_t now);
  void delete_child(IkeSa& sa, uint32_t inbound_spi, uint64_t now);
  void delete_ike(IkeSa& sa, uint64_t now);  // tells the peer, then forgets
  void send_dpd(IkeSa& sa, uint64_t now);

  // Local teardown: removes the children from the dataplane, marks the SA dead (erased in tick()).
  void forget(IkeSa& sa, const char* why);
  // Tells the installer (IKE_SA_table) that `sa` is established, or gone.
  void report(const IkeSa& sa, bool gone);
  // On-demand children wait for traffic behind a trap policy (SaInstaller::install_trap).
  void trap(const Connection& conn, const ChildConfig& child);
  void remove_child_sas(IkeSa& sa, ChildSa& child);

  SharedConnection find_connection(const IpAddr& local, const IpAddr& remote) const;
  SharedConnection find_connection(const std::string& name) const;
  IkeSa* find_sa(uint64_t our_spi);
  const ChildConfig* child_config(const ConnectionConfig& conn, const std::string& name) const;
  Endpoint ike_endpoint(const IkeSa& sa, bool local) const;
  uint64_t keepalive_due(const IkeSa& sa) const;

  EngineOptions options_;
  std::vector<SharedConnection> connections_;
  PacketSender& sender_;
  SaInstaller& installer_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<CookieGenerator> cookies_;
  uint64_t cookie_rotated_ms_ = 0;
  // Hashed lookups that stay O(1) with 10 000s of peers: SAs by our SPI, connections by their
  // addresses and name, responder SAs by the initiator's address and SPI (IKE_SA_INIT
  // retransmissions), SAs by connection. (Nothing depends on their iteration order.)
  struct AddressPairHash {
    size_t operator()(const std::pair<IpAddr, IpAddr>& p) const {
      return IpAddrHash{}(p.first) * 31 + IpAddrHash{}(p.second);
    }
  };
  struct AddressSpiHash {
    size_t operator()(const std::pair<IpAddr, uint64_t>& p) const {
      return IpAddrHash{}(p.first) ^ std::hash<uint64_t>{}(p.second);
    }
  };
  std::unordered_map<uint64_t, std::unique_ptr<IkeSa>> sas_;
  std::unordered_map<std::pair<IpAddr, IpAddr>, size_t, AddressPairHash> connection_by_addresses_;
  std::unordered_map<std::string, size_t> connection_by_name_;
  std::unordered_map<std::pair<IpAddr, uint64_t>, uint64_t, AddressSpiHash> responder_by_initiator_;
  std::unordered_multimap<std::string, uint64_t> sas_by_connection_;
  // The timers: a min-heap of (deadline, our SPI), so tick() and next_timer() cost O(log n) per SA
  // that is due, not O(n), and scheduling allocates nothing. reschedule() after anything that may
  // move an SA's deadlines. An entry is current while it equals its SA's scheduled_ms: a deadline
  // that moves later keeps the earlier entry (it fires, nothing is due, the SA is rescheduled), one
  // that moves earlier adds an entry and leaves the old one stale, skipped when it pops. Most
  // messages move a deadline later (DPD), so they cost no heap operation at all.
  using TimerEntry = std::pair<uint64_t, uint64_t>;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  void compact_timers();  // drops stale entries once they outnumber the SAs
  size_t half_open_ = 0;  // SAs in kHalfOpen: cookies start above a threshold
  void index_connections();
  IkeSa& add_sa(std::unique_ptr<IkeSa> sa);
  void reschedule(IkeSa& sa);
  uint64_t deadline_of(const IkeSa& sa) const;
  void run_timers(IkeSa& sa, uint64_t now);
  void erase_sa(uint64_t our_spi);
  std::map<std::string, std::unique_ptr<Credentials>> credentials_;  // by connection name
};

// Small helpers for payload lists.
template <class T>
const T* find_payload(const std::vector<Payload>& payloads) {
  for (const Payload& p : payloads) {
    if (const T* t = std::get_if<T>(&p)) return t;
  }
  return nullptr;
}
const NotifyPayload* find_notify(const std::vector<Payload>& payloads, NotifyType type);
// The first error notification (type < 16384), if any.
const NotifyPayload* find_error_notify(const std::vector<Payload>& payloads);
NotifyPayload notify(NotifyType type, std::vector<uint8_t> data = {});
std::vector<uint8_t> spi_bytes(uint32_t spi);
// An 8-octet IKE SPI (header or SA payload) as a number; 0 for any other length.
uint64_t spi_value(std::span<const uint8_t> octets);
std::vector<uint8_t> random_nonce();
// The first DH group of a proposal list (0: none), the one to send a KE for.
uint16_t first_dh(const std::vector<Proposal>& proposals);
uint32_t spi_from(const std::vector<uint8_t>& bytes);
std::string spi_hex(uint64_t spi);

}  // namespace dpvpn::ike::engine_internal
