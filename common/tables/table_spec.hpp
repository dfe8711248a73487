#pragma once
// TableSpec: what a kernel table is — its stable ID, name, key/value layout, expiry, cluster sync.
// The specs themselves live in catalog.hpp; this header only describes their shape.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

namespace dpvpn::tables {

// How a field is printed in a dump.
enum class FieldKind : uint8_t {
  kHex,    // unsigned integer in host order, zero-padded hex of its width
  kAddr,   // IpAddr: hex (8 digits for IPv4, 32 for IPv6); dotted/colon with -r
  kBytes,  // opaque bytes in wire order (IKE SPIs), hex
};

struct FieldSpec {
  std::string_view name;
  uint16_t offset;
  uint16_t size;
  FieldKind kind;
};

struct TableSpec {
  uint32_t id;                 // stable forever: operators script against it; never reuse one
  std::string_view name;
  std::string_view purpose;    // one line for -s/-h listings and docs
  uint16_t key_size;
  uint16_t value_size;
  std::span<const FieldSpec> key_fields;
  std::span<const FieldSpec> value_fields;
  uint32_t default_ttl_s;      // 0: entries never expire
  uint32_t default_capacity;   // production default; the config may override
  bool synced;                 // replicated to the other cluster members
  bool obsolete;               // known name, no longer maintained
};

// Field list entry for member M of struct S.
#define DPVPN_FIELD(S, M, KIND) \
  ::dpvpn::tables::FieldSpec { #M, offsetof(S, M), sizeof(S::M), ::dpvpn::tables::FieldKind::KIND }

// Keys are compared with memcmp by rte_hash, so a key type must have no padding bytes.
template <class Key>
concept HashableKey = std::is_trivially_copyable_v<Key> && std::has_unique_object_representations_v<Key>;

template <class Value>
concept TableValue = std::is_trivially_copyable_v<Value>;

}  // namespace dpvpn::tables
