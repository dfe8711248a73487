#include "ike/crypto/dh_group.hpp"

#include <string>

#include "ike/crypto/dh_family.hpp"

namespace dpvpn::ike {

namespace {
const DhFamily* family_of(uint16_t group_id) {
  if (const DhFamily* f = x25519_family(group_id)) return f;
  if (const DhFamily* f = ecp_family(group_id)) return f;
  return modp_family(group_id);
}
}  // namespace

bool is_supported_dh_group(uint16_t group_id) { return family_of(group_id) != nullptr; }

Status DhGroup::create(uint16_t group_id, std::unique_ptr<DhGroup>* out) {
  const DhFamily* family = family_of(group_id);
  if (family == nullptr) {
    return Status(StatusCode::kInvalidArgument, "unsupported Diffie-Hellman group " + std::to_string(group_id));
  }
  out->reset(new DhGroup(group_id, *family));
  return Status::ok();
}

DhGroup::DhGroup(uint16_t id, const DhFamily& family) : id_(id), family_(family) {}
DhGroup::~DhGroup() = default;

size_t DhGroup::public_size() const { return family_.public_size(); }

const std::vector<uint8_t>& DhGroup::public_value() const {
  static const std::vector<uint8_t> kNone;
  return key_ ? key_->public_value() : kNone;
}

void DhGroup::set_key(std::unique_ptr<DhKey> key) {
  key_ = std::move(key);
  shared_.clear();
}

Status DhGroup::generate() {
  std::unique_ptr<DhKey> key;
  if (Status st = family_.generate(&key); !st) return st;
  set_key(std::move(key));
  return Status::ok();
}

Status DhGroup::use_private_key(ByteView private_key) {
  std::unique_ptr<DhKey> key;
  if (Status st = family_.from_private(private_key, &key); !st) return st;
  set_key(std::move(key));
  return Status::ok();
}

Status DhGroup::compute_shared(ByteView peer_public) {
  const auto group = [this] { return "DH group " + std::to_string(id_); };  // for errors only
  if (!key_) return Status(StatusCode::kInternal, group() + ": no key yet");
  if (peer_public.size() != public_size()) {
    return Status(StatusCode::kInvalidArgument, group() + ": peer value has " + std::to_string(peer_public.size()) +
                                                    " octets, expected " + std::to_string(public_size()));
  }
  SecureBytes shared;
  if (Status st = key_->derive(peer_public, &shared); !st) return Status(st.code(), group() + ": " + st.message());
  shared_ = std::move(shared);
  return Status::ok();
}

}  // namespace dpvpn::ike
