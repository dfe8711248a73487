#pragma once
// ike::Endpoint <-> the kernel's sockaddr (IPv4 or IPv6).
#include <sys/socket.h>

#include "engine/engine_io.hpp"

namespace dpvpn::controld {

socklen_t to_sockaddr(const ike::Endpoint& e, sockaddr_storage* out);
ike::Endpoint from_sockaddr(const sockaddr_storage& s);

}  // namespace dpvpn::controld
