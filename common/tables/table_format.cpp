#include "tables/table_format.hpp"

#include <fmt/format.h>

#include <cstring>

#include "net/ip_addr.hpp"

namespace dpvpn::tables {

namespace {

uint64_t read_uint(const uint8_t* p, uint16_t size) {
  switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case 8: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    default: return 0;
  }
}

std::string hex_bytes(const uint8_t* p, uint16_t size) {
  std::string out;
  out.reserve(size * 2u);
  for (uint16_t i = 0; i < size; ++i) out += fmt::format("{:02x}", p[i]);
  return out;
}

std::string format_field(const FieldSpec& field, std::span<const uint8_t> bytes, bool resolve) {
  const uint8_t* p = bytes.data() + field.offset;
  switch (field.kind) {
    case FieldKind::kHex:
      if (field.size == 1 || field.size == 2 || field.size == 4 || field.size == 8) {
        return fmt::format("{:0{}x}", read_uint(p, field.size), field.size * 2);
      }
      return hex_bytes(p, field.size);
    case FieldKind::kAddr: {
      IpAddr addr;
      std::memcpy(addr.bytes.data(), p, sizeof addr.bytes);
      return resolve ? addr.to_string() : addr.to_hex();
    }
    case FieldKind::kBytes: return hex_bytes(p, field.size);
  }
  return {};
}

void append_fields(std::string& out, std::span<const FieldSpec> fields, std::span<const uint8_t> bytes,
                   const DumpOptions& options) {
  bool first = true;
  for (const FieldSpec& field : fields) {
    if (!first) out += ", ";
    first = false;
    if (options.formatted) {
      out += field.name;
      out += '=';
    }
    out += format_field(field, bytes, options.resolve);
  }
}

}  // namespace

std::string format_entry(const TableSpec& spec, const EntryView& entry, const DumpOptions& options) {
  std::string out = "<";
  append_fields(out, spec.key_fields, entry.key, options);
  out += "; ";
  append_fields(out, spec.value_fields, entry.value, options);
  if (entry.ttl_s != 0) out += fmt::format("; {}/{}", entry.remaining_s, entry.ttl_s);
  if (entry.link) out += "; link";
  out += '>';
  return out;
}

std::string format_dump(const TableSpec& spec, const TableCounters& counters,
                        std::span<const EntryView> entries, const DumpOptions& options,
                        const std::string& host) {
  std::string out = host + ":\n";
  out += fmt::format("-------- {} --------\n", spec.name);
  out += fmt::format("dynamic, id {}, num ents {}, peak {}, attributes: ", spec.id, counters.vals,
                     counters.peak);
  if (spec.default_ttl_s != 0) out += fmt::format("expires {}, ", spec.default_ttl_s);
  out += spec.synced ? "sync, " : "local, ";
  out += fmt::format("limit {}\n", counters.capacity);
  for (const EntryView& entry : entries) {
    out += format_entry(spec, entry, options);
    out += '\n';
  }
  if (counters.vals > entries.size()) out += fmt::format("...({} More)\n", counters.vals - entries.size());
  return out;
}

std::string format_summary(std::span<const SummaryRow> rows) {
  std::string out = fmt::format("{:<21} {:<32} {:>5} {:>8} {:>8} {:>7}\n", "HOST", "NAME", "ID", "#VALS",
                                "#PEAK", "#SLINKS");
  for (const SummaryRow& row : rows) {
    out += fmt::format("{:<21} {:<32} {:>5} {:>8} {:>8} {:>7}\n", row.host, row.name, row.id,
                       row.counters.vals, row.counters.peak, row.counters.slinks);
  }
  return out;
}

}  // namespace dpvpn::tables
