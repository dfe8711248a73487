#pragma once
// A negotiated child SA as the dataplane installs it: ike::ChildSaHalf -> dpvpn.v1.Sa (algorithm,
// keys as the dataplane's SaParams takes them, selectors, lifetime), its SaId, and the vpn_routing
// policies that send traffic through the outbound half.
#include <string>
#include <vector>

#include "dpvpn/v1/dataplane.pb.h"
#include "engine/engine_io.hpp"

namespace dpvpn::controld {

// ENCR_AES_GCM_16 128/256 -> AES128_GCM / AES256_GCM; ENCR_AES_CBC 128/256 + AUTH_HMAC_SHA2_256_128
// -> AES128_CBC_SHA256 / AES256_CBC_SHA256; ENCR_CHACHA20_POLY1305 -> CHACHA20_POLY1305.
// kInvalidArgument for a suite the dataplane cannot run.
Status esp_algorithm_of(const ike::EspSuite& suite, v1::EspAlgorithm* out);

// The SA with its keys (cipher key + 4-byte salt for AEADs; the HMAC key for CBC). The returned
// message holds key material: never log it.
Status sa_of(const ike::ChildSaHalf& half, const std::string& name, v1::Sa* out);

// Inbound SAs are named by (spi, our address), outbound ones by (spi, the peer).
v1::SaId sa_id_of(const ike::ChildSaHalf& half);

// One PROTECT policy per (local prefix, remote prefix) pair of the outbound half's selectors (each
// range split into the prefixes that cover it exactly), through `outbound.spi` to `outbound.remote`.
std::vector<v1::Policy> policies_of(const ike::ChildSaHalf& outbound);

// A policy's identity in the dataplane (vpn_routing is keyed by the remote prefix): "10.2.0.0/16".
std::string policy_key(const v1::Policy& policy);

}  // namespace dpvpn::controld
