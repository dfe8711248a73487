#pragma once
// Reading a live KernelTable as `fw tab` text (writer thread or an idle writer).
#include <string>

#include "tables/kernel_table.hpp"
#include "tables/table_format.hpp"

namespace dpvpn::tables {

TableCounters counters_of(const KernelTable& table);
SummaryRow summary_of(const KernelTable& table, const std::string& host = "localhost");
// Entries in key-byte order (stable output); at most options.limit of them.
std::string dump_table(const KernelTable& table, const DumpOptions& options, const std::string& host = "localhost");

}  // namespace dpvpn::tables
