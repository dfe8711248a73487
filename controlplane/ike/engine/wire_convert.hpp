#pragma once
// Between the engine's values and the wire's payloads: proposals (crypto's Proposal <-> the SA
// payload's SaProposal), identities (config <-> ID payload), traffic selectors (config prefixes
// and negotiated ranges <-> TS payloads), and selector narrowing (RFC 7296 §2.9).
#include <optional>
#include <string>
#include <vector>

#include "controld_config.hpp"
#include "ike/crypto/proposal.hpp"
#include "ike/crypto/suite.hpp"
#include "ike/engine/engine_io.hpp"
#include "ike/message/sa_payload.hpp"
#include "ike/message/simple_payloads.hpp"
#include "ike/message/ts_payload.hpp"

namespace dpvpn::ike {

// Our proposals for the SA payload, numbered from 1, with `spi` (empty for IKE_SA_INIT).
std::vector<SaProposal> to_wire(const std::vector<Proposal>& proposals, const std::vector<uint8_t>& spi);
// One wire proposal as the crypto library sees it (SPI dropped). nullopt if a transform carries an
// attribute we do not understand (RFC 7296 §3.3.6: then the transform is unacceptable).
std::optional<Proposal> from_wire(const SaProposal& proposal);
// Proposals without their DH transforms: IKE_AUTH's child SA never does a key exchange.
std::vector<Proposal> without_dh(std::vector<Proposal> proposals);

IdPayload to_id_payload(const controld::IkeIdentity& identity);
// Whether the peer's ID payload is the configured identity: addresses by value, FQDN and email
// case-insensitively. A DN never matches here: it is checked against the peer's certificate.
bool id_matches(const controld::IkeIdentity& configured, const IdPayload& received);
std::string id_to_string(const IdPayload& id);

SelectorRange to_range(const IpPrefix& prefix);
TrafficSelector to_wire(const SelectorRange& range);
std::optional<SelectorRange> from_wire(const TrafficSelector& ts);
std::vector<TrafficSelector> to_wire(const std::vector<SelectorRange>& ranges);
// A TSi/TSr payload's ranges (none for a missing payload; unusable selectors are skipped).
std::vector<SelectorRange> ranges_of(const TsPayload* ts);
// The configured selectors of one side, or the tunnel address when none are configured.
std::vector<SelectorRange> config_selectors(const std::vector<IpPrefix>& configured, const IpAddr& fallback);

// Narrowing: each configured range intersected with each proposed one; empty = TS_UNACCEPTABLE.
std::vector<SelectorRange> narrow(const std::vector<SelectorRange>& configured, const std::vector<SelectorRange>& proposed);
// Whether every range of `chosen` lies inside one of `offered` (an initiator checks the answer).
bool within(const std::vector<SelectorRange>& chosen, const std::vector<SelectorRange>& offered);

std::string to_string(const SelectorRange& range);
// A negotiated suite in proposal syntax: "aes128gcm16-prfsha256-x25519", "aes256-sha256-esn".
std::string suite_name(const IkeSuite& suite);
std::string suite_name(const EspSuite& suite);  // "10.1.0.0/16", "10.1.0.5-10.1.0.9", "+ proto/ports"

}  // namespace dpvpn::ike
