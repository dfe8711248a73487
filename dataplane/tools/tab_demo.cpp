// dpvpn-tab-demo: every kernel table, live in DPDK memory (no hugepages, no NIC), filled with a
// sample site-to-site tunnel, shown with `fw tab` flags:
//   dpvpn-tab-demo -s                     summary of all tables
//   dpvpn-tab-demo -t inbound_SPI -r      one table, addresses resolved
//   dpvpn-tab-demo -t 6 -f -u             by ID, formatted, unlimited
//   dpvpn-tab-demo --age 100 -t connections   after 100 s of expiry
#include <CLI/CLI.hpp>

#include <cstdio>

#include "eal/eal_session.hpp"
#include "tables/kernel_table_set.hpp"
#include "tables/sample_content.hpp"
#include "util/clock.hpp"

int main(int argc, char** argv) {
  CLI::App app{"dpvpn kernel tables with sample content, shown the way `dpvpnctl tab` shows them"};
  std::string table;
  bool summary = false, formatted = false, unlimited = false, resolve = false;
  uint32_t max_values = 0, age_seconds = 0;
  app.add_option("-t,--table", table, "table name or ID");
  app.add_flag("-s", summary, "summary: #VALS, #PEAK, #SLINKS");
  app.add_flag("-f", formatted, "formatted: field names");
  app.add_flag("-u", unlimited, "unlimited: every entry");
  app.add_option("-m", max_values, "at most N entries");
  app.add_flag("-r", resolve, "resolve addresses to dotted / colon form");
  app.add_option("--age", age_seconds, "let this many seconds pass (and age the tables) first");
  CLI11_PARSE(app, argc, argv);

  dpvpn::EalSession eal(dpvpn::no_device_eal_args("tab-demo", 512));
  if (!eal.status().is_ok()) {
    std::fprintf(stderr, "%s\n", eal.status().to_string().c_str());
    return 1;
  }
  dpvpn::tables::RcuDomain rcu(1);
  dpvpn::ManualClock clock;
  std::unique_ptr<dpvpn::tables::KernelTableSet> set;
  dpvpn::Status s = dpvpn::tables::KernelTableSet::create(rcu, clock, {.capacity = {}, .max_capacity = 1024}, &set);
  if (s) s = dpvpn::tables::fill_sample_content(*set);
  if (!s) {
    std::fprintf(stderr, "dpvpn-tab-demo: %s\n", s.to_string().c_str());
    return 1;
  }
  clock.advance(age_seconds);
  set->age(UINT32_MAX);

  dpvpn::tables::DumpOptions options{.formatted = formatted, .resolve = resolve};
  if (unlimited) options.limit = std::nullopt;
  else if (max_values != 0) options.limit = max_values;
  std::string out;
  s = set->read(table, summary || table.empty(), options, &out);
  if (!s) {
    std::fprintf(stderr, "dpvpn-tab-demo: %s\n", s.message().c_str());
    return 1;
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}
