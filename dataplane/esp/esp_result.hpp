#pragma once
// EspResult: what happened to one packet in an ESP burst (outbound or inbound). One enum for both
// directions; each name is also the drop counter's name.
#include <cstdint>
#include <string_view>

namespace dpvpn::dataplane {

#define DPVPN_ESP_RESULTS(X)                                                                  \
  X(kOk, "ok")                                                                                \
  X(kMultiSegment, "esp_multi_segment")         /* chained mbufs are not supported */         \
  X(kNoHeadroom, "esp_no_headroom")             /* outbound: cannot prepend outer headers */  \
  X(kNoTailroom, "esp_no_tailroom")             /* outbound: cannot append trailer + ICV */   \
  X(kBadInnerPacket, "esp_bad_inner_packet")    /* inner not IPv4/IPv6 or its length is bad */ \
  X(kSaExpired, "esp_sa_expired")               /* hard lifetime (bytes/packets/time) */      \
  X(kSeqExhausted, "esp_seq_exhausted")         /* outbound: sequence number would wrap */    \
  X(kWrongDirection, "esp_wrong_direction")     /* inbound SA given to outbound or reverse */ \
  X(kBadOuterPacket, "esp_bad_outer_packet")    /* inbound: not ESP / ESP-in-UDP, bad IP */   \
  X(kOuterFragment, "esp_outer_fragment")       /* inbound: reassemble before ESP */          \
  X(kSpiMismatch, "esp_spi_mismatch")           /* inbound: packet's SPI is not the SA's */   \
  X(kTruncated, "esp_truncated")                /* inbound: shorter than hdr+IV+trailer+ICV */ \
  X(kBadCipherLength, "esp_bad_cipher_length")  /* inbound: not a multiple of the block */    \
  X(kReplayDuplicate, "esp_replay_duplicate")                                                 \
  X(kReplayTooOld, "esp_replay_too_old")                                                      \
  X(kAuthFailed, "esp_auth_failed")             /* inbound: ICV did not verify */             \
  X(kBadPadding, "esp_bad_padding")             /* inbound: pad bytes not 1,2,3,... */        \
  X(kBadNextHeader, "esp_bad_next_header")      /* inbound: not 4/41 or not the inner IP */   \
  X(kDummyPacket, "esp_dummy_packet")           /* inbound: next header 59 (RFC 4303 2.6) */  \
  X(kTsMismatch, "esp_ts_mismatch")             /* inbound: inner addresses not in the TS */  \
  X(kCryptoError, "esp_crypto_error")           /* the crypto engine failed the job */

enum class EspResult : uint8_t {
#define DPVPN_ESP_RESULT_ENUM(name, text) name,
  DPVPN_ESP_RESULTS(DPVPN_ESP_RESULT_ENUM)
#undef DPVPN_ESP_RESULT_ENUM
      kCount
};

std::string_view esp_result_name(EspResult result);

}  // namespace dpvpn::dataplane
