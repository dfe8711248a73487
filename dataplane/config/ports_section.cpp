// The `ports:` section: the NICs (or vdevs), their role and addresses.
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

std::string mac_text(const std::array<uint8_t, 6>& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : mac) {
    if (!out.empty()) out += ':';
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::array<uint8_t, 6> read_unicast_mac(const Field& at) {
  std::array<uint8_t, 6> mac{};
  const std::string text = scalar(at);
  if (!parse_mac(text, &mac)) fail(at, "'" + text + "' is not a MAC address (02:00:00:00:00:01)");
  if (mac[0] & 1) fail(at, mac_text(mac) + " is a multicast address");
  if (mac == std::array<uint8_t, 6>{}) fail(at, "00:00:00:00:00:00 is not a usable address");
  return mac;
}

namespace {
void read_addresses(const Field& list, const std::vector<PortConfig>& earlier, PortConfig* port) {
  const std::vector<Field> items = list_items(list);
  if (items.empty()) fail(list, "no addresses (a port needs at least one, as address/length)");
  for (const Field& item : items) {
    IpPrefix prefix;
    const std::string text = scalar(item);
    if (std::string error = parse_prefix(text, &prefix); !error.empty()) fail(item, error);
    if (prefix.len == 0) fail(item, "'" + text + "': a connected subnet cannot be /0");
    for (const PortConfig& other : earlier) {
      for (const IpPrefix& a : other.addresses) {
        if (a.addr == prefix.addr) {
          fail(item, prefix.addr.to_string() + " is already an address of port '" + other.name + "'");
        }
      }
    }
    for (const IpPrefix& a : port->addresses) {
      if (a.addr == prefix.addr) fail(item, prefix.addr.to_string() + " is listed twice");
    }
    port->addresses.push_back(prefix);
  }
}
}  // namespace

void read_ports_section(const Field& section, ConfigDraft* draft) {
  std::vector<PortConfig>& ports = draft->cfg.ports;
  const std::vector<Field> items = list_items(section);
  if (items.empty()) fail(section, "no ports (need at least one inside and one outside port)");
  for (size_t p = 0; p < items.size(); ++p) {
    const MapFields map(items[p], {"name", "device", "role", "addresses", "mac", "mtu", "vlan", "rx_queues"});
    PortConfig port;

    const Field name = map.require("name");
    port.name = scalar(name);
    if (!is_port_name(port.name)) fail(name, "'" + port.name + "' is not a port name ([a-z0-9_-]{1,15})");
    for (size_t other = 0; other < ports.size(); ++other) {
      if (ports[other].name == port.name) {
        fail(name, "duplicate port name '" + port.name + "' (" + section.item_path(other) + ")");
      }
    }

    const Field device = map.require("device");
    port.device = scalar(device);
    port.is_pci = is_pci_address(port.device);
    if (!port.is_pci && !is_vdev_spec(port.device, "net_")) {
      fail(device, "'" + port.device +
                       "' is neither a PCI address (0000:03:00.0) nor a vdev spec (net_...,key=value)");
    }
    for (const PortConfig& other : ports) {
      if (other.device == port.device) {
        fail(device, "'" + port.device + "' is already the device of port '" + other.name + "'");
      }
    }

    port.role = choice<PortRole>(map.require("role"),
                                 {{"inside", PortRole::kInside}, {"outside", PortRole::kOutside}});
    read_addresses(map.require("addresses"), ports, &port);

    if (auto f = map.get("mac")) port.mac = read_unicast_mac(*f);
    if (auto f = map.get("mtu")) {
      port.mtu = static_cast<uint16_t>(integer(*f, 576, 9600));
      for (const IpPrefix& a : port.addresses) {
        if (!a.addr.is_v4() && port.mtu < 1280) {
          fail(*f, scalar(*f) + " is below 1280, the IPv6 minimum (the port has address " +
                       a.to_string() + ")");
        }
      }
    }
    if (auto f = map.get("vlan")) port.vlan = static_cast<uint16_t>(integer(*f, 0, 4094));
    const std::optional<Field> rx_queues = map.get("rx_queues");
    if (rx_queues) port.rx_queues = static_cast<uint16_t>(integer(*rx_queues, 1, 16));

    draft->port_rx_queues_at.push_back(rx_queues ? *rx_queues : items[p]);
    ports.push_back(std::move(port));
  }

  bool inside = false, outside = false;
  for (const PortConfig& port : ports) {
    inside = inside || port.role == PortRole::kInside;
    outside = outside || port.role == PortRole::kOutside;
  }
  if (!inside || !outside) {
    fail(section, std::string("no ") + (inside ? "outside" : "inside") +
                      " port (need at least one inside and one outside port)");
  }
}

}  // namespace dpvpn::dataplane::config_internal
