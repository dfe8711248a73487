// Dataplane statistics: per-lcore counters summed on read, per SA counters, as text or JSON.
#include <rte_ethdev.h>

#include <fmt/format.h>

#include "esp/esp_result.hpp"
#include "runtime/dataplane.hpp"

namespace dpvpn::dataplane {

namespace {

struct Totals {
  std::vector<uint64_t> rx, tx;
  uint64_t encrypted = 0, decrypted = 0, forwarded_clear = 0, local_replies = 0, ike_punted = 0, acquires = 0,
           held = 0, fragmented = 0, icmp_too_big = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  std::array<uint64_t, kMaxEspReasons> esp{};
};

Totals sum(const std::vector<std::unique_ptr<Worker>>& workers, size_t ports) {
  Totals t;
  t.rx.resize(ports);
  t.tx.resize(ports);
  for (const auto& w : workers) {
    const WorkerCounters& c = w->counters();
    for (size_t p = 0; p < ports; ++p) {
      t.rx[p] += read_counter(c.rx_packets[p]);
      t.tx[p] += read_counter(c.tx_packets[p]);
    }
    t.encrypted += read_counter(c.encrypted);
    t.decrypted += read_counter(c.decrypted);
    t.forwarded_clear += read_counter(c.forwarded_clear);
    t.local_replies += read_counter(c.local_replies);
    t.ike_punted += read_counter(c.ike_punted);
    t.acquires += read_counter(c.acquires);
    t.held += read_counter(c.held);
    t.fragmented += read_counter(c.fragmented);
    t.icmp_too_big += read_counter(c.icmp_too_big);
    for (size_t i = 0; i < t.drops.size(); ++i) t.drops[i] += read_counter(c.drops[i]);
    for (size_t i = 0; i < t.esp.size(); ++i) t.esp[i] += read_counter(c.esp_drops[i]);
  }
  return t;
}

}  // namespace

// What the device itself lost: packets the RX ring had no room for (imissed), bad frames
// (ierrors), no mbuf to receive into (rx_nombuf), TX failures (oerrors).
static rte_eth_stats device_stats(uint16_t port_id) {
  rte_eth_stats st{};
  rte_eth_stats_get(port_id, &st);
  return st;
}

std::string Dataplane::stats_text() const {
  const Totals t = sum(workers_, ports_.size());
  std::string out = "port              rx packets      tx packets   missed  rx errors  no mbuf  tx errors\n";
  for (size_t p = 0; p < ports_.size(); ++p) {
    const rte_eth_stats d = device_stats(ports_[p].port_id);
    out += fmt::format("{:<12} {:>15} {:>15} {:>8} {:>10} {:>8} {:>10}\n", ports_[p].name, t.rx[p], t.tx[p], d.imissed,
                       d.ierrors, d.rx_nombuf, d.oerrors);
  }
  out += fmt::format("encrypted {}  decrypted {}  forwarded clear {}  local replies {}  IKE punted {}  acquires {}\n",
                     t.encrypted, t.decrypted, t.forwarded_clear, t.local_replies, t.ike_punted, t.acquires);
  out += "drops:";
  bool any = false;
  for (size_t i = 1; i < t.drops.size(); ++i) {
    if (t.drops[i] == 0 || static_cast<DropReason>(i) == DropReason::kEsp) continue;
    out += fmt::format(" {}={}", drop_reason_name(static_cast<DropReason>(i)), t.drops[i]);
    any = true;
  }
  for (size_t i = 1; i < t.esp.size() && i < static_cast<size_t>(EspResult::kCount); ++i) {
    if (t.esp[i] == 0) continue;
    out += fmt::format(" {}={}", esp_result_name(static_cast<EspResult>(i)), t.esp[i]);
    any = true;
  }
  out += any ? "\n" : " none\n";
  out += "SA          dir       spi        packets        bytes  replay   auth     ts  other\n";
  for (uint32_t i = 0; i < sa_manager_->slot_count(); ++i) {
    const EspSa* sa = sa_manager_->sa(i);
    if (sa == nullptr) continue;
    const EspSaCounters c = sa->counters();
    out += fmt::format("{:<11} {:<8} 0x{:08x} {:>9} {:>12} {:>7} {:>6} {:>6} {:>6}\n", sa->params().name,
                       sa->inbound() ? "inbound" : "outbound", sa->spi(), c.packets, c.bytes, c.replay_drops,
                       c.auth_failures, c.ts_drops, c.other_drops);
  }
  return out;
}

std::string Dataplane::stats_json() const {
  const Totals t = sum(workers_, ports_.size());
  std::string out = "{\n  \"ports\": {";
  for (size_t p = 0; p < ports_.size(); ++p) {
    const rte_eth_stats d = device_stats(ports_[p].port_id);
    out += fmt::format("{}\"{}\": {{\"rx\": {}, \"tx\": {}, \"imissed\": {}, \"ierrors\": {}, \"rx_nombuf\": {}, "
                       "\"oerrors\": {}}}",
                       p ? ", " : "", ports_[p].name, t.rx[p], t.tx[p], d.imissed, d.ierrors, d.rx_nombuf, d.oerrors);
  }
  out += fmt::format(
      "}},\n  \"encrypted\": {}, \"decrypted\": {}, \"forwarded_clear\": {}, \"local_replies\": {}, "
      "\"ike_punted\": {}, \"acquires\": {}, \"held\": {}, \"neighbors_learned\": {}, \"hold_drops\": {}, "
      "\"connections_created\": {}, \"fragmented\": {}, \"icmp_too_big\": {},\n",
      t.encrypted, t.decrypted, t.forwarded_clear, t.local_replies, t.ike_punted, t.acquires, t.held,
      neighbors_learned_, hold_drops_, connections_created_, t.fragmented, t.icmp_too_big);
  out += "  \"drops\": {";
  bool first = true;
  for (size_t i = 1; i < t.drops.size(); ++i) {
    if (static_cast<DropReason>(i) == DropReason::kEsp) continue;
    out += fmt::format("{}\"{}\": {}", first ? "" : ", ", drop_reason_name(static_cast<DropReason>(i)), t.drops[i]);
    first = false;
  }
  for (size_t i = 1; i < static_cast<size_t>(EspResult::kCount) && i < t.esp.size(); ++i) {
    out += fmt::format(", \"{}\": {}", esp_result_name(static_cast<EspResult>(i)), t.esp[i]);
  }
  out += "},\n  \"lcores\": [";
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerCounters& c = workers_[w]->counters();
    uint64_t rx = 0, tx = 0, drops = 0;
    for (size_t p = 0; p < ports_.size(); ++p) {
      rx += read_counter(c.rx_packets[p]);
      tx += read_counter(c.tx_packets[p]);
    }
    for (const uint64_t& d : c.drops) drops += read_counter(d);
    out += fmt::format("{}{{\"worker\": {}, \"lcore\": {}, \"rx\": {}, \"tx\": {}, \"encrypted\": {}, "
                       "\"decrypted\": {}, \"drops\": {}, \"bursts\": {}, \"idle_polls\": {}}}",
                       w ? ", " : "", w, config_.workers[w].lcore, rx, tx, read_counter(c.encrypted),
                       read_counter(c.decrypted), drops, read_counter(c.bursts), read_counter(c.idle_polls));
  }
  out += "],\n  \"sas\": [";
  first = true;
  for (uint32_t i = 0; i < sa_manager_->slot_count(); ++i) {
    const EspSa* sa = sa_manager_->sa(i);
    if (sa == nullptr) continue;
    const EspSaCounters c = sa->counters();
    out += fmt::format(
        "{}\n    {{\"name\": \"{}\", \"direction\": \"{}\", \"spi\": {}, \"packets\": {}, \"bytes\": {}, "
        "\"replay_drops\": {}, \"auth_failures\": {}, \"ts_drops\": {}, \"other_drops\": {}}}",
        first ? "" : ",", sa->params().name, sa->inbound() ? "inbound" : "outbound", sa->spi(), c.packets, c.bytes,
        c.replay_drops, c.auth_failures, c.ts_drops, c.other_drops);
    first = false;
  }
  out += "\n  ]\n}\n";
  return out;
}

}  // namespace dpvpn::dataplane
