// The `dataplane:` section: workers and process-wide settings.
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"
#include "tables/catalog.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
// lcore 0 is EAL's main lcore (the writer thread); 127 is RTE_MAX_LCORE - 1 in Debian's DPDK.
constexpr uint64_t kMaxLcore = 127;
constexpr uint64_t kMaxTableCapacity = 1u << 26;  // KernelTable::create's limit

void read_workers(const Field& list, ConfigDraft* draft) {
  const std::vector<Field> items = list_items(list);
  if (items.empty()) fail(list, "no workers (at least one lcore must poll the rx queues)");
  for (size_t w = 0; w < items.size(); ++w) {
    const MapFields worker(items[w], {"lcore", "rx"});
    const Field lcore_at = worker.require("lcore");
    const auto lcore = static_cast<uint32_t>(integer(lcore_at, 1, kMaxLcore));
    for (size_t other = 0; other < w; ++other) {
      if (draft->cfg.workers[other].lcore == lcore) {
        fail(lcore_at, "lcore " + std::to_string(lcore) + " is already a worker (" +
                           list.item_path(other) + ")");
      }
    }
    WorkerConfig cfg{lcore, {}};
    const std::vector<Field> rx = list_items(worker.require("rx"));
    if (rx.empty()) fail(worker.require("rx"), "no queues (expected a list of port:queue)");
    for (size_t i = 0; i < rx.size(); ++i) {
      const std::string text = scalar(rx[i]);
      const size_t colon = text.rfind(':');
      const std::optional<uint64_t> queue =
          colon == std::string::npos ? std::nullopt : parse_uint(text.substr(colon + 1));
      if (colon == 0 || !queue || *queue > UINT16_MAX) {
        fail(rx[i], "'" + text + "' is not port:queue (e.g. inside:0)");
      }
      cfg.rx.push_back(RxQueueRef{});
      draft->rx_refs.push_back(ConfigDraft::RxRef{w, i, text.substr(0, colon),
                                                  static_cast<uint16_t>(*queue), rx[i]});
    }
    draft->cfg.workers.push_back(std::move(cfg));
  }
}

void read_tables(const Field& map_field, ConfigDraft* draft) {
  if (map_field.node.IsNull()) return;
  if (!map_field.node.IsMap()) fail(map_field, "expected a map of table name: capacity");
  for (auto it = map_field.node.begin(); it != map_field.node.end(); ++it) {
    const int key_line = line_of(it->first, map_field.line);
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    const tables::TableSpec* spec = nullptr;
    std::string known;
    for (const tables::TableSpec* s : tables::kCatalog) {
      if (s->obsolete) continue;
      if (s->name == name) spec = s;
      known += (known.empty() ? "" : ", ") + std::string(s->name);
    }
    if (spec == nullptr) {
      fail(key_line, map_field.path + ": unknown table '" + name + "' (known: " + known + ")");
    }
    if (draft->cfg.tables.contains(name)) {
      fail(key_line, map_field.key_path(name) + ": given twice");
    }
    const Field capacity{it->second, map_field.key_path(name), line_of(it->second, key_line)};
    draft->cfg.tables[name] = static_cast<uint32_t>(integer(capacity, 1, kMaxTableCapacity));
  }
}
}  // namespace

void read_dataplane_section(const Field& section, ConfigDraft* draft) {
  const MapFields dp(section, {"workers", "idle", "idle_sleep_us", "mbufs", "replay_window", "crypto",
                               "crypto_device", "tables", "punt_ring", "hold_queue"});
  DataplaneConfig& cfg = draft->cfg;
  read_workers(dp.require("workers"), draft);
  if (auto f = dp.get("idle")) {
    cfg.idle = choice<IdleMode>(
        *f, {{"poll", IdleMode::kPoll}, {"pause", IdleMode::kPause}, {"sleep", IdleMode::kSleep}});
  }
  // Kept (unused) with other idle modes, so switching modes is a one-line change.
  if (auto f = dp.get("idle_sleep_us")) cfg.idle_sleep_us = static_cast<uint32_t>(integer(*f, 1, 100000));
  if (auto f = dp.get("mbufs")) cfg.mbufs = static_cast<uint32_t>(integer(*f, 1023, 1048575));
  if (auto f = dp.get("replay_window")) {
    cfg.replay_window = static_cast<uint32_t>(integer(*f, 64, 4096));
    if (cfg.replay_window % 64 != 0) fail(*f, scalar(*f) + " is not a multiple of 64");
  }
  if (auto f = dp.get("crypto")) {
    cfg.crypto =
        choice<CryptoKind>(*f, {{"ipsec-mb", CryptoKind::kIpsecMb}, {"cryptodev", CryptoKind::kCryptodev}});
  }
  const std::optional<Field> device = cfg.crypto == CryptoKind::kCryptodev
                                          ? dp.require("crypto_device", "crypto: cryptodev")
                                          : dp.get("crypto_device");
  if (device) {
    cfg.crypto_device = scalar(*device);
    if (!is_vdev_spec(cfg.crypto_device, "crypto_") && !is_pci_address(cfg.crypto_device)) {
      fail(*device, "'" + cfg.crypto_device +
                        "' is neither a PCI address nor a crypto vdev spec (e.g. crypto_aesni_mb0)");
    }
  }
  if (auto f = dp.get("tables")) read_tables(*f, draft);
  if (auto f = dp.get("punt_ring")) {
    cfg.punt_ring = static_cast<uint32_t>(integer(*f, 64, 1u << 20));
    if ((cfg.punt_ring & (cfg.punt_ring - 1)) != 0) fail(*f, scalar(*f) + " is not a power of two");
  }
  if (auto f = dp.get("hold_queue")) cfg.hold_queue = static_cast<uint32_t>(integer(*f, 0, 1024));
}

}  // namespace dpvpn::dataplane::config_internal
