// Golden `fw tab` output for every table, filled with the sample content: the plain hex dump, -r,
// -f -r, -m 1, -u and -s. Goldens live in tests/golden/<table>.txt; DPVPN_UPDATE_GOLDEN=1 rewrites
// them (then read the diff before committing it).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tables/kernel_table_set.hpp"
#include "tables/sample_content.hpp"
#include "util/clock.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;

namespace {

struct SampleSet {
  SampleSet() : rcu(1) {
    const Status created = KernelTableSet::create(rcu, clock, {.capacity = {}, .max_capacity = 64}, &set);
    if (!created) throw std::runtime_error(created.to_string());
    const Status filled = fill_sample_content(*set);
    if (!filled) throw std::runtime_error(filled.to_string());
    clock.advance(10);
  }
  RcuDomain rcu;
  ManualClock clock;
  std::unique_ptr<KernelTableSet> set;
};

std::string read_view(const KernelTableSet& set, std::string_view table, bool summary, DumpOptions options) {
  std::string out;
  const Status s = set.read(table, summary, options, &out);
  if (!s) throw std::runtime_error(s.to_string());
  return out;
}

std::string all_views(const KernelTableSet& set, std::string_view table) {
  std::ostringstream out;
  out << "== tab -t " << table << "\n" << read_view(set, table, false, {});
  out << "== tab -t " << table << " -r\n" << read_view(set, table, false, {.resolve = true});
  out << "== tab -t " << table << " -f -r\n" << read_view(set, table, false, {.formatted = true, .resolve = true});
  out << "== tab -t " << table << " -m 1\n" << read_view(set, table, false, {.limit = 1});
  out << "== tab -t " << table << " -u -r\n" << read_view(set, table, false, {.resolve = true, .limit = std::nullopt});
  out << "== tab -t " << table << " -s\n" << read_view(set, table, true, {});
  return out.str();
}

void check_golden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(DPVPN_GOLDEN_DIR) + "/" + name + ".txt";
  if (std::getenv("DPVPN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << actual;
    WARN("rewrote " << path);
    return;
  }
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream expected;
  expected << in.rdbuf();
  CHECK(actual == expected.str());
}

}  // namespace

TEST_CASE("golden dumps of every table") {
  SampleSet sample;
  for (const TableSpec* spec : kCatalog) {
    if (spec->obsolete) continue;
    DYNAMIC_SECTION(spec->name) { check_golden(std::string(spec->name), all_views(*sample.set, spec->name)); }
  }
}

TEST_CASE("golden summary of all tables; tables by ID; unknown and obsolete tables") {
  SampleSet sample;
  check_golden("summary", read_view(*sample.set, "", true, {}));
  CHECK(read_view(*sample.set, "3", false, {}) == read_view(*sample.set, "inbound_SPI", false, {}));

  std::string out;
  const Status unknown = sample.set->read("inbound_spi", false, {}, &out);
  CHECK(unknown.code() == StatusCode::kNotFound);
  CHECK(unknown.message() ==
        "unknown table 'inbound_spi'; tables: connections (1), IKE_SA_table (2), inbound_SPI (3), "
        "outbound_SPI (4), encryption_requests (5), vpn_routing (6), peers_count (7), resolved_link (8), "
        "crypt_resolver_db (9), SEP_my_IKE_packet (10), MSPI_cluster_map (11), MSPI_cluster_update (12), "
        "neighbors (14)");
  const Status obsolete = sample.set->read("decryption_pending", false, {}, &out);
  CHECK(obsolete.message() == "table decryption_pending (13) is obsolete and no longer maintained");
  CHECK(sample.set->read("", false, {}, &out).code() == StatusCode::kInvalidArgument);
}
