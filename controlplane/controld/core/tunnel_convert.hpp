#pragma once
// An instance's tunnels (ike::TunnelStatus) as the Management API reports them (dpvpn.v1.Tunnel).
#include <vector>

#include "dpvpn/v1/management.pb.h"
#include "engine/ike_engine.hpp"

namespace dpvpn::controld {

// Ages are now_ms - established_ms (both CLOCK_MONOTONIC milliseconds), in seconds.
void tunnel_to_proto(const ike::TunnelStatus& in, uint64_t now_ms, v1::Tunnel* out);

// Distinct remote addresses among the tunnels.
uint32_t peer_count(const std::vector<ike::TunnelStatus>& tunnels);

}  // namespace dpvpn::controld
