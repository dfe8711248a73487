#include "net/packet_view.hpp"

#include "net/packet_parse.hpp"

namespace dpvpn::dataplane {

DropReason parse_packet(const rte_mbuf* m, PacketView* v) { return parse_packet_inline(m, v); }

}  // namespace dpvpn::dataplane
