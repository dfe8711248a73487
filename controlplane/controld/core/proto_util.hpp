#pragma once
// dpvpn.v1 addresses and selectors <-> controld's values (IpAddr, ike::SelectorRange).
#include <optional>

#include "dpvpn/v1/common.pb.h"
#include "engine/engine_io.hpp"
#include "net/ip_addr.hpp"
#include "net/ip_prefix.hpp"

namespace dpvpn::controld {

void to_proto(const IpAddr& in, v1::IpAddress* out);  // 4 bytes for IPv4, 16 for IPv6
std::optional<IpAddr> from_proto(const v1::IpAddress& in);
void to_proto(const IpPrefix& in, v1::IpPrefix* out);
void to_proto(const ike::SelectorRange& in, v1::TrafficSelector* out);

// The smallest set of prefixes that covers [start, end] exactly (same family, start <= end).
std::vector<IpPrefix> range_to_prefixes(const IpAddr& start, const IpAddr& end);

}  // namespace dpvpn::controld
