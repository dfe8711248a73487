#pragma once
// Payload: any one IKEv2 payload, as a variant of the structs of the payload headers.
#include <type_traits>
#include <variant>

#include "cp_payload.hpp"
#include "delete_payload.hpp"
#include "encrypted_payload.hpp"
#include "notify_payload.hpp"
#include "sa_payload.hpp"
#include "simple_payloads.hpp"
#include "ts_payload.hpp"

namespace dpvpn::ike {

using Payload = std::variant<SaPayload, KePayload, IdiPayload, IdrPayload, CertPayload, CertReqPayload, AuthPayload,
                             NoncePayload, NotifyPayload, DeletePayload, VendorIdPayload, TsiPayload, TsrPayload,
                             SkPayload, CpPayload, EapPayload, SkfPayload, UnknownPayload>;

inline PayloadType payload_type(const Payload& payload) {
  return std::visit(
      [](const auto& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(p)>, UnknownPayload>) {
          return p.type;
        } else {
          return p.kType;
        }
      },
      payload);
}

}  // namespace dpvpn::ike
