// The dpvpnctl commands over a Dataplane stub: tab, sa list/show/add/del, stats.
#include <algorithm>
#include <map>

#include "dpvpnctl.hpp"
#include "text.hpp"

namespace dpvpn::ctl {

namespace v1 = dpvpn::v1;

namespace {

void prepare(grpc::ClientContext& context, const CallOptions& call) {
  context.set_deadline(std::chrono::system_clock::now() + call.timeout);
}

grpc::Status invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

uint64_t sa_drops(const v1::SaState& s) {
  return s.replay_drops() + s.auth_failures() + s.ts_drops() + s.other_drops();
}

std::string sa_table(const google::protobuf::RepeatedPtrField<v1::SaState>& sas, std::string_view indent) {
  TextTable table({"NAME", "DIR", "SPI", "ALGORITHM", "LOCAL", "REMOTE", "PACKETS", "BYTES", "DROPS"},
                  {false, false, false, false, false, false, true, true, true});
  for (const v1::SaState& s : sas) {
    table.add({s.sa().name().empty() ? "-" : s.sa().name(), direction_name(s.sa().direction()),
               spi_hex(s.sa().spi()), algorithm_name(s.sa().algorithm()), address_text(s.sa().local()),
               address_text(s.sa().remote()), std::to_string(s.packets()), std::to_string(s.bytes()),
               std::to_string(sa_drops(s))});
  }
  return table.render(indent);
}

std::string sas_json(const google::protobuf::RepeatedPtrField<v1::SaState>& sas) {
  std::string out = "{\"sas\":[";
  for (int i = 0; i < sas.size(); ++i) {
    if (i) out += ",";
    out += to_json(sas.Get(i));
  }
  return out + "]}";
}

std::string selectors_text(const google::protobuf::RepeatedPtrField<v1::TrafficSelector>& list) {
  if (list.empty()) return "any";
  std::string out;
  for (const v1::TrafficSelector& ts : list) {
    if (!out.empty()) out += ", ";
    out += selector_text(ts);
  }
  return out;
}

std::string lifetime_text(const v1::SaLifetime& l) {
  auto limits = [](uint64_t seconds, uint64_t bytes, uint64_t packets) {
    std::string out;
    auto add = [&out](uint64_t v, const char* unit) {
      if (v == 0) return;
      if (!out.empty()) out += ", ";
      out += std::to_string(v) + unit;
    };
    add(seconds, " s");
    add(bytes, " bytes");
    add(packets, " packets");
    return out;
  };
  const std::string soft = limits(l.soft_seconds(), l.soft_bytes(), l.soft_packets());
  const std::string hard = limits(l.hard_seconds(), l.hard_bytes(), l.hard_packets());
  if (soft.empty() && hard.empty()) return "none";
  std::string out;
  if (!soft.empty()) out += "soft " + soft;
  if (!hard.empty()) out += std::string(out.empty() ? "" : "; ") + "hard " + hard;
  return out;
}

void show_sa(const v1::SaState& s, std::ostream& out) {
  const v1::Sa& sa = s.sa();
  const bool inbound = sa.direction() == v1::INBOUND;
  out << "SA " << spi_hex(sa.spi()) << " " << direction_name(sa.direction());
  if (!sa.name().empty()) out << " \"" << sa.name() << "\"";
  out << " (sa_index " << s.sa_index() << ")\n";
  auto line = [&out](std::string_view key, const std::string& value) {
    out << "  " << key << std::string(key.size() < 15 ? 15 - key.size() : 1, ' ') << value << "\n";
  };
  auto port = [](uint32_t p) { return std::to_string(p == 0 ? 4500 : p); };
  line("algorithm", algorithm_name(sa.algorithm()));
  line("local", address_text(sa.local()));
  line("remote", address_text(sa.remote()));
  line("esn", sa.esn() ? "yes" : "no");
  line("natt", sa.natt() ? "yes (local port " + port(sa.natt_local_port()) + ", remote port " +
                               port(sa.natt_remote_port()) + ")"
                         : "no");
  if (inbound) line("replay_window", std::to_string(sa.replay_window()));
  line("tunnel_id", std::to_string(sa.tunnel_id()));
  line("local_ts", selectors_text(sa.local_ts()));
  line("remote_ts", selectors_text(sa.remote_ts()));
  line("lifetime", lifetime_text(sa.lifetime()));
  line("packets", std::to_string(s.packets()));
  line("bytes", std::to_string(s.bytes()));
  line("drops", "replay " + std::to_string(s.replay_drops()) + ", auth " + std::to_string(s.auth_failures()) +
                    ", ts " + std::to_string(s.ts_drops()) + ", other " + std::to_string(s.other_drops()));
  if (inbound) {
    line("replay_top", std::to_string(s.replay_top()));
  } else {
    line("next_seq", std::to_string(s.next_seq()));
  }
  line("state", s.hard_expired() ? "hard-expired" : s.soft_expired() ? "soft-expired" : "active");
  line("age", std::to_string(s.age_seconds()) + " s");
}

grpc::Status parse_sa_id(const SaIdArgs& args, v1::SaId* id) {
  std::optional<uint32_t> spi = parse_spi(args.spi);
  if (!spi) return invalid("SPI: not an SPI (1..0xffffffff, decimal or 0x hex)");
  std::optional<v1::SaDirection> dir = parse_direction(args.direction);
  if (!dir) return invalid("--direction: in or out");
  std::optional<v1::IpAddress> addr = parse_address(args.address);
  if (!addr) return invalid("--address: not an IP address");
  id->set_spi(*spi);
  id->set_direction(*dir);
  *id->mutable_address() = *addr;
  return grpc::Status::OK;
}

}  // namespace

grpc::Status cmd_tab(Stub& stub, const TabArgs& args, const CallOptions& call, std::ostream& out) {
  if (args.unlimited && args.max_values != 0) return invalid("-u and -m exclude each other");
  v1::TableReadRequest request;
  request.set_table(args.table);
  request.set_summary(args.summary || args.table.empty());
  request.set_formatted(args.formatted);
  request.set_resolve(args.resolve);
  request.set_unlimited(args.unlimited);
  request.set_max_values(args.max_values);
  grpc::ClientContext context;
  prepare(context, call);
  v1::TableReadReply reply;
  grpc::Status status = stub.ReadTable(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << reply.text();
    if (!reply.text().empty() && reply.text().back() != '\n') out << "\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_sa_list(Stub& stub, const CallOptions& call, std::ostream& out) {
  grpc::ClientContext context;
  prepare(context, call);
  v1::StatsReply reply;
  grpc::Status status = stub.Stats(&context, v1::StatsRequest(), &reply);
  if (!status.ok()) return status;
  out << (call.json ? sas_json(reply.sas()) + "\n" : sa_table(reply.sas(), ""));
  return grpc::Status::OK;
}

grpc::Status cmd_sa_show(Stub& stub, const SaShowArgs& args, const CallOptions& call, std::ostream& out) {
  std::optional<uint32_t> spi = parse_spi(args.spi);
  if (!spi) return invalid("SPI: not an SPI (1..0xffffffff, decimal or 0x hex)");
  if (!args.local.empty() && !args.remote.empty()) return invalid("--local and --remote exclude each other");
  v1::SaId id;
  id.set_spi(*spi);
  if (!args.local.empty() || !args.remote.empty()) {
    const bool inbound = !args.local.empty();
    std::optional<v1::IpAddress> addr = parse_address(inbound ? args.local : args.remote);
    if (!addr) return invalid(std::string(inbound ? "--local" : "--remote") + ": not an IP address");
    id.set_direction(inbound ? v1::INBOUND : v1::OUTBOUND);
    *id.mutable_address() = *addr;
  } else {
    // No address: find the SA among the installed ones (Stats filtered by SPI).
    v1::StatsRequest request;
    request.add_spi(*spi);
    grpc::ClientContext context;
    prepare(context, call);
    v1::StatsReply reply;
    grpc::Status status = stub.Stats(&context, request, &reply);
    if (!status.ok()) return status;
    std::vector<const v1::Sa*> matches;
    for (const v1::SaState& s : reply.sas()) {
      if (s.sa().spi() == *spi) matches.push_back(&s.sa());
    }
    if (matches.empty()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no SA with SPI " + spi_hex(*spi));
    if (matches.size() > 1) {
      return invalid("SPI " + spi_hex(*spi) + " names " + std::to_string(matches.size()) +
                     " SAs: give --local (inbound) or --remote (outbound)");
    }
    id.set_direction(matches[0]->direction());
    *id.mutable_address() = matches[0]->direction() == v1::INBOUND ? matches[0]->local() : matches[0]->remote();
  }
  grpc::ClientContext context;
  prepare(context, call);
  v1::SaState state;
  grpc::Status status = stub.QuerySa(&context, id, &state);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(state) << "\n";
  } else {
    show_sa(state, out);
  }
  return grpc::Status::OK;
}

grpc::Status build_add_sa_request(const SaAddArgs& args, v1::AddSaRequest* request) {
  v1::Sa& sa = *request->mutable_sa();
  sa.set_name(args.name);
  std::optional<uint32_t> spi = parse_spi(args.spi);
  if (!spi) return invalid("--spi: not an SPI (1..0xffffffff, decimal or 0x hex)");
  sa.set_spi(*spi);
  std::optional<v1::SaDirection> dir = parse_direction(args.direction);
  if (!dir) return invalid("--direction: in or out");
  sa.set_direction(*dir);
  const AlgorithmInfo* alg = find_algorithm(args.algorithm);
  if (!alg) {
    return invalid("--alg: unknown algorithm (aes128gcm, aes256gcm, aes128cbc-sha256, aes256cbc-sha256, "
                   "chacha20poly1305)");
  }
  sa.set_algorithm(alg->proto);
  // Key material: the messages name the option and the expected size, never the value.
  std::optional<std::string> key = parse_hex(args.key);
  if (!key) return invalid("--key: not a hex string (an even number of hex digits, 0x optional)");
  if (key->size() != alg->key_size) {
    return invalid("--key: " + std::string(alg->name) + " takes " + std::to_string(alg->key_size) + " bytes (" +
                   std::string(alg->key_help) + "), got " + std::to_string(key->size()));
  }
  sa.set_key(*key);
  if (alg->auth_key_size == 0) {
    if (!args.auth_key.empty()) return invalid("--auth-key: " + std::string(alg->name) + " is an AEAD: no auth key");
  } else {
    if (args.auth_key.empty()) {
      return invalid("--auth-key: required with " + std::string(alg->name) + " (" +
                     std::to_string(alg->auth_key_size) + " bytes, HMAC-SHA-256)");
    }
    std::optional<std::string> auth = parse_hex(args.auth_key);
    if (!auth) return invalid("--auth-key: not a hex string (an even number of hex digits, 0x optional)");
    if (auth->size() != alg->auth_key_size) {
      return invalid("--auth-key: " + std::string(alg->name) + " takes " + std::to_string(alg->auth_key_size) +
                     " bytes, got " + std::to_string(auth->size()));
    }
    sa.set_auth_key(*auth);
  }
  std::optional<v1::IpAddress> local = parse_address(args.local);
  if (!local) return invalid("--local: not an IP address");
  std::optional<v1::IpAddress> remote = parse_address(args.remote);
  if (!remote) return invalid("--remote: not an IP address");
  if (local->addr().size() != remote->addr().size()) return invalid("--remote: not the same family as --local");
  *sa.mutable_local() = *local;
  *sa.mutable_remote() = *remote;
  sa.set_esn(args.esn);
  sa.set_natt(args.natt);
  if (args.replay_window != 0) {
    if (*dir != v1::INBOUND) return invalid("--replay-window: inbound SAs only");
    if (args.replay_window < 64 || args.replay_window > 4096 || args.replay_window % 64 != 0) {
      return invalid("--replay-window: 64..4096, a multiple of 64");
    }
  }
  sa.set_replay_window(args.replay_window);
  sa.set_tunnel_id(args.tunnel_id);
  for (const auto& [option, list, field] :
       {std::tuple{"--local-ts", &args.local_ts, sa.mutable_local_ts()},
        std::tuple{"--remote-ts", &args.remote_ts, sa.mutable_remote_ts()}}) {
    for (const std::string& text : *list) {
      std::string why;
      std::optional<v1::TrafficSelector> ts = parse_prefix_selector(text, &why);
      if (!ts) return invalid(std::string(option) + ": " + text + ": " + why);
      *field->Add() = *ts;
    }
  }
  return grpc::Status::OK;
}

grpc::Status cmd_sa_add(Stub& stub, const SaAddArgs& args, const CallOptions& call, std::ostream& out) {
  v1::AddSaRequest request;
  grpc::Status status = build_add_sa_request(args, &request);
  if (!status.ok()) return status;
  grpc::ClientContext context;
  prepare(context, call);
  v1::SaReply reply;
  status = stub.AddSa(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << "added " << direction_name(request.sa().direction()) << " SA " << spi_hex(request.sa().spi())
        << " (sa_index " << reply.sa_index() << ")\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_sa_del(Stub& stub, const SaIdArgs& args, const CallOptions& call, std::ostream& out) {
  v1::SaId id;
  grpc::Status status = parse_sa_id(args, &id);
  if (!status.ok()) return status;
  grpc::ClientContext context;
  prepare(context, call);
  v1::SaReply reply;
  status = stub.DeleteSa(&context, id, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
  } else {
    out << "deleted " << direction_name(id.direction()) << " SA " << spi_hex(id.spi()) << " ("
        << address_text(id.address()) << ")\n";
  }
  return grpc::Status::OK;
}

grpc::Status cmd_stats(Stub& stub, const StatsArgs& args, const CallOptions& call, std::ostream& out) {
  v1::StatsRequest request;
  request.set_per_lcore(args.lcore);
  for (const std::string& text : args.spis) {
    std::optional<uint32_t> spi = parse_spi(text);
    if (!spi) return invalid("--sa: not an SPI (1..0xffffffff, decimal or 0x hex)");
    request.add_spi(*spi);
  }
  grpc::ClientContext context;
  prepare(context, call);
  v1::StatsReply reply;
  grpc::Status status = stub.Stats(&context, request, &reply);
  if (!status.ok()) return status;
  if (call.json) {
    out << to_json(reply) << "\n";
    return grpc::Status::OK;
  }
  auto n = [](uint64_t v) { return std::to_string(v); };
  out << "ports\n";
  TextTable ports({"NAME", "RX_PACKETS", "TX_PACKETS", "RX_BYTES", "TX_BYTES", "IMISSED", "IERRORS", "RX_NOMBUF",
                   "OERRORS"},
                  {false, true, true, true, true, true, true, true, true});
  for (const v1::PortStats& p : reply.ports()) {
    ports.add({p.name(), n(p.rx_packets()), n(p.tx_packets()), n(p.rx_bytes()), n(p.tx_bytes()), n(p.imissed()),
               n(p.ierrors()), n(p.rx_nombuf()), n(p.oerrors())});
  }
  out << ports.render("  ");
  out << "totals\n";
  out << "  encrypted " << reply.encrypted() << "  decrypted " << reply.decrypted() << "  forwarded clear "
      << reply.forwarded_clear() << "  IKE punted " << reply.ike_punted() << "  acquires " << reply.acquires()
      << "\n";
  out << "drops\n";
  std::map<std::string, uint64_t> drops;  // sorted by reason
  for (const auto& [reason, count] : reply.drops()) {
    if (count != 0) drops[reason] = count;
  }
  if (drops.empty()) {
    out << "  none\n";
  } else {
    TextTable table({"REASON", "PACKETS"}, {false, true});
    for (const auto& [reason, count] : drops) table.add({reason, n(count)});
    out << table.render("  ");
  }
  if (args.lcore) {
    out << "lcores\n";
    TextTable lcores({"WORKER", "LCORE", "RX_PACKETS", "TX_PACKETS", "ENCRYPTED", "DECRYPTED", "DROPS"},
                     {true, true, true, true, true, true, true});
    for (const v1::LcoreStats& l : reply.lcores()) {
      lcores.add({n(l.worker()), n(l.lcore()), n(l.rx_packets()), n(l.tx_packets()), n(l.encrypted()),
                  n(l.decrypted()), n(l.drops())});
    }
    out << lcores.render("  ");
  }
  out << "SAs\n";
  out << sa_table(reply.sas(), "  ");
  return grpc::Status::OK;
}

}  // namespace dpvpn::ctl
