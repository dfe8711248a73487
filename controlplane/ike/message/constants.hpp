#pragma once
// IKEv2 wire numbers (RFC 7296 §3 and the IANA "IKEv2 Parameters" registry).
// Every enum has a fixed underlying type, so a value this code does not name (a newer IANA
// assignment, a private-use number) still travels through parse and encode unchanged.
// Transform IDs (algorithms, DH groups) are the crypto library's business and are not named here.
#include <cstdint>
#include <string>

namespace dpvpn::ike {

enum class ExchangeType : uint8_t {
  kIkeSaInit = 34,
  kIkeAuth = 35,
  kCreateChildSa = 36,
  kInformational = 37,
};

enum class PayloadType : uint8_t {
  kNone = 0,  // "No Next Payload": ends a payload chain
  kSa = 33,
  kKe = 34,
  kIdi = 35,
  kIdr = 36,
  kCert = 37,
  kCertReq = 38,
  kAuth = 39,
  kNonce = 40,  // Ni and Nr
  kNotify = 41,
  kDelete = 42,
  kVendorId = 43,
  kTsi = 44,
  kTsr = 45,
  kSk = 46,  // Encrypted and Authenticated
  kCp = 47,
  kEap = 48,
  kSkf = 53,  // Encrypted and Authenticated Fragment (RFC 7383)
};
// "SA", "IDi", ...; "payload 49" for a type this code does not name.
std::string payload_type_name(PayloadType type);

// Header flags (RFC 7296 §3.1); the other five bits are reserved.
inline constexpr uint8_t kFlagInitiator = 0x08;
inline constexpr uint8_t kFlagVersion = 0x10;  // "I can speak a higher major version"
inline constexpr uint8_t kFlagResponse = 0x20;

inline constexpr uint8_t kIkeMajorVersion = 2;

enum class ProtocolId : uint8_t {
  kNone = 0,  // a Notify about no particular SA (its SPI field is empty)
  kIke = 1,
  kAh = 2,
  kEsp = 3,
};

enum class TransformType : uint8_t {
  kEncr = 1,
  kPrf = 2,
  kInteg = 3,
  kDh = 4,  // "Key Exchange Method" since RFC 9370
  kEsn = 5,
};
inline constexpr uint16_t kAttributeKeyLength = 14;  // the one transform attribute RFC 7296 defines (TV)

enum class NotifyType : uint16_t {
  // Errors (1..16383).
  kUnsupportedCriticalPayload = 1,
  kInvalidIkeSpi = 4,
  kInvalidMajorVersion = 5,
  kInvalidSyntax = 7,
  kInvalidMessageId = 9,
  kInvalidSpi = 11,
  kNoProposalChosen = 14,
  kInvalidKePayload = 17,
  kAuthenticationFailed = 24,
  kSinglePairRequired = 34,
  kNoAdditionalSas = 35,
  kInternalAddressFailure = 36,
  kFailedCpRequired = 37,
  kTsUnacceptable = 38,
  kInvalidSelectors = 39,
  kTemporaryFailure = 43,
  kChildSaNotFound = 44,
  // Status (16384..).
  kInitialContact = 16384,
  kSetWindowSize = 16385,
  kAdditionalTsPossible = 16386,
  kIpcompSupported = 16387,
  kNatDetectionSourceIp = 16388,
  kNatDetectionDestinationIp = 16389,
  kCookie = 16390,
  kUseTransportMode = 16391,
  kHttpCertLookupSupported = 16392,
  kRekeySa = 16393,
  kEspTfcPaddingNotSupported = 16394,
  kNonFirstFragmentsAlso = 16395,
  kMobikeSupported = 16396,
  kIkev2FragmentationSupported = 16430,  // RFC 7383
  kSignatureHashAlgorithms = 16431,      // RFC 7427
};

enum class IdType : uint8_t {
  kIpv4Addr = 1,
  kFqdn = 2,
  kRfc822Addr = 3,
  kIpv6Addr = 5,
  kDerAsn1Dn = 9,
  kDerAsn1Gn = 10,
  kKeyId = 11,
};

enum class AuthMethod : uint8_t {
  kRsaSignature = 1,
  kSharedKeyMic = 2,
  kDssSignature = 3,
  kEcdsaSha256P256 = 9,    // RFC 4754
  kEcdsaSha384P384 = 10,   // RFC 4754
  kEcdsaSha512P521 = 11,   // RFC 4754
  kNullAuth = 13,          // RFC 7619
  kDigitalSignature = 14,  // RFC 7427
};

enum class TsType : uint8_t {
  kIpv4AddrRange = 7,
  kIpv6AddrRange = 8,
};

enum class CertEncoding : uint8_t {
  kX509Signature = 4,
  kCrl = 7,
  kHashUrlX509Cert = 12,
  kHashUrlX509Bundle = 13,
};

enum class CfgType : uint8_t {
  kRequest = 1,
  kReply = 2,
  kSet = 3,
  kAck = 4,
};

enum class CfgAttributeType : uint16_t {
  kInternalIp4Address = 1,
  kInternalIp4Netmask = 2,
  kInternalIp4Dns = 3,
  kInternalIp4Nbns = 4,
  kInternalIp4Dhcp = 6,
  kApplicationVersion = 7,
  kInternalIp6Address = 8,
  kInternalIp6Dns = 10,
  kInternalIp6Dhcp = 12,
  kInternalIp4Subnet = 13,
  kSupportedAttributes = 14,
  kInternalIp6Subnet = 15,
};

}  // namespace dpvpn::ike
