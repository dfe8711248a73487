#pragma once
// Reads tests/ike_crypto/vectors.txt (written by gen_vectors.py): records of "[kind]" followed by
// "name = value" lines, values in hex for octets.
#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace dpvpn::ike::test {

inline std::vector<uint8_t> from_hex(const std::string& hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return out;
}

template <class Bytes>
std::string to_hex(const Bytes& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

struct VectorRecord {
  std::map<std::string, std::string> fields;

  const std::string& text(const std::string& key) const {
    const auto it = fields.find(key);
    INFO("field " << key);
    REQUIRE(it != fields.end());
    return it->second;
  }
  std::vector<uint8_t> bytes(const std::string& key) const { return from_hex(text(key)); }
  uint64_t number(const std::string& key) const { return std::stoull(text(key)); }
  std::string name() const { return fields.count("name") != 0 ? fields.at("name") : std::string(); }
};

// Every record of `kind` in the committed vector file.
inline std::vector<VectorRecord> load_vectors(const std::string& kind) {
  std::ifstream in(DPVPN_IKE_CRYPTO_VECTORS);
  REQUIRE(in.good());
  std::vector<VectorRecord> out;
  std::string line;
  bool wanted = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      wanted = line == "[" + kind + "]";
      if (wanted) out.emplace_back();
      continue;
    }
    const size_t eq = line.find(" = ");
    if (wanted && eq != std::string::npos) out.back().fields[line.substr(0, eq)] = line.substr(eq + 3);
  }
  REQUIRE(!out.empty());
  return out;
}

}  // namespace dpvpn::ike::test
