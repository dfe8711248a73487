// dpvpn-esp-tool: runs dpvpn's ESP on packets from a file, so an independent implementation
// (scapy, tests/esp/test_esp_scapy.py) can check what it produces and feed it what it must accept.
//
//   dpvpn-esp-tool encrypt|decrypt SA_FILE IN_FILE OUT_FILE [--burst N]
//
// SA_FILE: key=value lines (# comments): algorithm (aes128gcm, aes256gcm, aes128cbc-sha256,
//   aes256cbc-sha256, chacha20poly1305), spi (decimal or 0x hex), key, auth_key (hex), local,
//   remote (tunnel endpoints), esn, natt (0/1), natt_local_port, natt_remote_port, replay_window,
//   first_seq, local_ts, remote_ts (prefix a.b.c.d/n or x::/n; repeatable).
// IN_FILE: one packet per line in hex (encrypt: inner IP packets; decrypt: outer IP packets).
// OUT_FILE: one line per input packet: "ok <hex>" or the EspResult name (e.g. esp_auth_failed).
// Exit status 0 when every line was processed (whatever the per-packet results), 2 on usage or
// setup errors.
#include <rte_errno.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "eal/eal_session.hpp"
#include "esp/esp_inbound.hpp"
#include "esp/esp_outbound.hpp"
#include "esp/esp_sa.hpp"
#include "esp/ipsec_mb_engine.hpp"

namespace {

using namespace dpvpn;
using namespace dpvpn::dataplane;

bool parse_hex(const std::string& text, std::vector<uint8_t>* out) {
  out->clear();
  std::string h;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) h.push_back(c);
  }
  if (h.size() % 2 != 0) return false;
  for (size_t i = 0; i < h.size(); i += 2) {
    unsigned v;
    if (std::sscanf(h.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(static_cast<uint8_t>(v));
  }
  return true;
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

bool parse_ts(const std::string& v, TrafficSelector* ts) {
  const size_t slash = v.find('/');
  const auto addr = IpAddr::parse(v.substr(0, slash));
  if (!addr) return false;
  const unsigned max = addr->is_v4() ? 32 : 128;
  const unsigned len = slash == std::string::npos ? max : std::stoul(v.substr(slash + 1));
  if (len > max) return false;
  *ts = TrafficSelector::prefix(*addr, static_cast<uint8_t>(len));
  return true;
}

Status read_sa(const std::string& path, bool inbound, SaParams* p, EspSaOptions* opt) {
  std::ifstream in(path);
  if (!in) return {StatusCode::kNotFound, "cannot open " + path};
  p->direction = inbound ? SaDirection::kInbound : SaDirection::kOutbound;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) return {StatusCode::kInvalidArgument, "bad line (want key=value)"};
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    bool ok = true;
    if (k == "algorithm") {
      ok = parse_algorithm(v, &p->algorithm);
    } else if (k == "spi") {
      p->spi = static_cast<uint32_t>(std::stoul(v, nullptr, 0));
    } else if (k == "key") {
      ok = parse_hex(v, &p->key);
    } else if (k == "auth_key") {
      ok = parse_hex(v, &p->auth_key);
    } else if (k == "local" || k == "remote") {
      const auto a = IpAddr::parse(v);
      ok = a.has_value();
      if (ok) (k == "local" ? p->local : p->remote) = *a;
    } else if (k == "esn") {
      p->esn = v == "1";
    } else if (k == "natt") {
      p->natt = v == "1";
    } else if (k == "natt_local_port") {
      p->natt_local_port = static_cast<uint16_t>(std::stoul(v));
    } else if (k == "natt_remote_port") {
      p->natt_remote_port = static_cast<uint16_t>(std::stoul(v));
    } else if (k == "replay_window") {
      p->replay_window = static_cast<uint32_t>(std::stoul(v));
    } else if (k == "first_seq") {
      opt->first_seq = std::stoull(v, nullptr, 0);
    } else if (k == "local_ts" || k == "remote_ts") {
      TrafficSelector ts;
      ok = parse_ts(v, &ts);
      if (ok) (k == "local_ts" ? p->local_ts : p->remote_ts).push_back(ts);
    } else {
      return {StatusCode::kInvalidArgument, "unknown SA field " + k};
    }
    // Never echo the value: it may be a key.
    if (!ok) return {StatusCode::kInvalidArgument, "bad value for SA field " + k};
  }
  return Status::ok();
}

int run(int argc, char** argv) {
  if (argc < 5 || (std::strcmp(argv[1], "encrypt") != 0 && std::strcmp(argv[1], "decrypt") != 0)) {
    std::cerr << "usage: dpvpn-esp-tool encrypt|decrypt SA_FILE IN_FILE OUT_FILE [--burst N]\n";
    return 2;
  }
  const bool inbound = std::strcmp(argv[1], "decrypt") == 0;
  uint32_t burst = 32;
  if (argc >= 7 && std::strcmp(argv[5], "--burst") == 0) burst = static_cast<uint32_t>(std::stoul(argv[6]));
  if (burst == 0) burst = 1;

  EalSession eal(no_device_eal_args("esp-tool", 64));
  if (!eal.status().is_ok()) {
    std::cerr << eal.status().to_string() << "\n";
    return 2;
  }
  std::unique_ptr<IpsecMbEngine> engine;
  if (Status s = IpsecMbEngine::create(&engine); !s.is_ok()) {
    std::cerr << s.to_string() << "\n";
    return 2;
  }
  SaParams params;
  EspSaOptions options;
  if (Status s = read_sa(argv[2], inbound, &params, &options); !s.is_ok()) {
    std::cerr << s.to_string() << "\n";
    return 2;
  }
  std::unique_ptr<EspSa> sa;
  if (Status s = create_esp_sa(params, *engine, options, &sa); !s.is_ok()) {
    std::cerr << s.to_string() << "\n";
    return 2;
  }

  std::vector<std::vector<uint8_t>> packets;
  {
    std::ifstream in(argv[3]);
    if (!in) {
      std::cerr << "cannot open " << argv[3] << "\n";
      return 2;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      packets.emplace_back();
      if (!parse_hex(line, &packets.back())) {
        std::cerr << "bad hex on packet line " << packets.size() << "\n";
        return 2;
      }
    }
  }

  rte_mempool* pool = rte_pktmbuf_pool_create("esp_tool", 1023, 0, 0, 9216 + RTE_PKTMBUF_HEADROOM,
                                              SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::cerr << "mbuf pool: " << rte_strerror(rte_errno) << "\n";
    return 2;
  }
  std::ofstream out(argv[4]);
  std::vector<rte_mbuf*> mbufs(burst);
  std::vector<EspSa*> sas(burst, sa.get());
  std::vector<EspResult> results(burst);
  for (size_t done = 0; done < packets.size(); done += burst) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(burst, packets.size() - done));
    for (uint32_t i = 0; i < n; ++i) {
      const std::vector<uint8_t>& pkt = packets[done + i];
      mbufs[i] = rte_pktmbuf_alloc(pool);
      void* data = mbufs[i] ? rte_pktmbuf_append(mbufs[i], static_cast<uint16_t>(pkt.size())) : nullptr;
      if (data == nullptr) {
        std::cerr << "packet " << done + i + 1 << " does not fit an mbuf\n";
        return 2;
      }
      std::memcpy(data, pkt.data(), pkt.size());
    }
    if (inbound) {
      esp_inbound_burst(*engine, mbufs.data(), sas.data(), n, results.data());
    } else {
      esp_outbound_burst(*engine, mbufs.data(), sas.data(), n, results.data());
    }
    for (uint32_t i = 0; i < n; ++i) {
      if (results[i] == EspResult::kOk) {
        out << "ok " << to_hex(rte_pktmbuf_mtod(mbufs[i], const uint8_t*), mbufs[i]->data_len) << "\n";
      } else {
        out << esp_result_name(results[i]) << "\n";
      }
      rte_pktmbuf_free(mbufs[i]);
    }
  }
  const EspSaCounters c = sa->counters();
  std::cerr << "engine " << engine->arch_name() << ": packets " << c.packets << " bytes " << c.bytes
            << " replay_drops " << c.replay_drops << " auth_failures " << c.auth_failures << " ts_drops "
            << c.ts_drops << " other_drops " << c.other_drops << "\n";
  sa.reset();
  rte_mempool_free(pool);
  return out.good() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
