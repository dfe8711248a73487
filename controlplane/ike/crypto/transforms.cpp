#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

std::string_view transform_type_name(TransformType type) {
  switch (type) {
    case TransformType::kEncr: return "encryption";
    case TransformType::kPrf: return "prf";
    case TransformType::kInteg: return "integrity";
    case TransformType::kDh: return "dh";
    case TransformType::kEsn: return "esn";
  }
  return "unknown";
}

}  // namespace dpvpn::ike
