// The catalog itself: stable IDs, unique names, field lists that fit their structs.
#include <catch2/catch.hpp>

#include <set>

#include "tables/catalog.hpp"

using namespace dpvpn::tables;

TEST_CASE("catalog: every table of the design, with stable IDs") {
  const std::vector<std::pair<std::string, uint32_t>> expected = {
      {"connections", 1},       {"IKE_SA_table", 2},        {"inbound_SPI", 3},
      {"outbound_SPI", 4},      {"encryption_requests", 5}, {"vpn_routing", 6},
      {"peers_count", 7},       {"resolved_link", 8},       {"crypt_resolver_db", 9},
      {"SEP_my_IKE_packet", 10}, {"MSPI_cluster_map", 11},  {"MSPI_cluster_update", 12},
      {"decryption_pending", 13}, {"neighbors", 14}};
  REQUIRE(kCatalog.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(kCatalog[i]->name == expected[i].first);
    CHECK(kCatalog[i]->id == expected[i].second);
  }
  CHECK(find_spec("decryption_pending")->obsolete);
}

TEST_CASE("catalog: default expiries and cluster sync follow the design") {
  CHECK(find_spec("inbound_SPI")->default_ttl_s == 3600);
  CHECK(find_spec("encryption_requests")->default_ttl_s == 90);
  CHECK(find_spec("SEP_my_IKE_packet")->default_ttl_s == 120);
  CHECK(find_spec("MSPI_cluster_update")->default_ttl_s == 600);
  CHECK(find_spec("vpn_routing")->default_ttl_s == 0);
  CHECK(find_spec("inbound_SPI")->synced);
  CHECK(find_spec("IKE_SA_table")->synced);
  CHECK_FALSE(find_spec("encryption_requests")->synced);
  CHECK_FALSE(find_spec("crypt_resolver_db")->synced);
}

TEST_CASE("catalog: names and IDs are unique; fields fit and do not overlap") {
  std::set<std::string_view> names;
  std::set<uint32_t> ids;
  for (const TableSpec* spec : kCatalog) {
    INFO(spec->name);
    CHECK(names.insert(spec->name).second);
    CHECK(ids.insert(spec->id).second);
    for (auto fields : {std::pair{spec->key_fields, spec->key_size}, std::pair{spec->value_fields, spec->value_size}}) {
      std::vector<bool> used(fields.second, false);
      CHECK_FALSE(fields.first.empty());
      for (const FieldSpec& f : fields.first) {
        INFO(f.name);
        REQUIRE(f.offset + f.size <= fields.second);
        if (f.kind == FieldKind::kAddr) CHECK(f.size == 16);
        for (unsigned b = f.offset; b < f.offset + f.size; ++b) {
          CHECK_FALSE(used[b]);
          used[b] = true;
        }
      }
    }
  }
}

TEST_CASE("catalog: lookup by name or by ID, and a clear error for unknown names") {
  CHECK(find_spec("inbound_SPI")->id == 3);
  CHECK(find_spec("3")->name == "inbound_SPI");
  CHECK(find_spec("13")->name == "decryption_pending");
  CHECK(find_spec("inbound_spi") == nullptr);  // names are exact, as operators type them
  CHECK(find_spec("99") == nullptr);
  CHECK(find_spec("3x") == nullptr);
  CHECK(find_spec("") == nullptr);
  const std::string msg = unknown_table_message("nosuch");
  CHECK(msg.rfind("unknown table 'nosuch'; tables: connections (1), IKE_SA_table (2), inbound_SPI (3)", 0) == 0);
  CHECK(msg.find("MSPI_cluster_update (12)") != std::string::npos);
  CHECK(msg.find("decryption_pending") == std::string::npos);
}
