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

Status DhGroup::set_key(Status made, std::unique_ptr<DhKey> key) {
  if (!made) return made;
  key_ = std::move(key);
  shared_.clear();
  return Status::ok();
}

Status DhGroup::generate() {
  std::unique_ptr<DhKey> key;
  Status made = family_.generate(&key);
  return set_key(std::move(made), std::move(key));
}

Status DhGroup::use_private_key(ByteView private_key) {
  std::unique_ptr<DhKey> key;
  Status made = family_.from_private(private_key, &key);
  return set_key(std::move(made), std::move(key));
}

Status DhGroup::compute_shared(ByteView peer_public) {
  const std::string group = "DH group " + std::to_string(id_);
  if (!key_) return Status(StatusCode::kInternal, group + ": no key yet");
  if (peer_public.size() != public_size()) {
    return Status(StatusCode::kInvalidArgument, group + ": peer value has " + std::to_string(peer_public.size()) +
                                                    " octets, expected " + std::to_string(public_size()));
  }
  SecureBytes shared;
  if (Status st = key_->derive(peer_public, &shared); !st) return Status(st.code(), group + ": " + st.message());
  shared_ = std::move(shared);
  return Status::ok();
}

}  // namespace dpvpn::ike
