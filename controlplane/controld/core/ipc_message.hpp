#pragma once
// The messages between controld's parent and its iked instances, one per SOCK_SEQPACKET record:
//   [type: 1 byte][id: 4 bytes, big-endian][body]
// `id` pairs a request with its reply (0 for one-way messages: datagrams, acquires, expiries).
// Bodies are written with ByteWriter and read with ByteReader; every read is bounds-checked, so a
// malformed record is refused, never trusted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine_io.hpp"
#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::controld::ipc {

enum class Type : uint8_t {
  kConfig = 1,         // parent -> instance, first message: the config file (name, text, instance count)
  kDatagram = 2,       // both ways: an IKE message (received from / to send to the peer)
  kAcquire = 3,        // parent -> instance: the dataplane wants an SA for src -> dst
  kExpire = 4,         // parent -> instance: a child SA's soft or hard lifetime ran out
  kStatus = 5,         // parent -> instance: request; no body
  kStatusReply = 6,    // instance -> parent: IkeInstance and ListTunnelsReply (protobuf bytes)
  kSetLevel = 7,       // parent -> instance: log level (+ truncate the log file)
  kInitiate = 8,       // parent -> instance: connection, child
  kDeletePeer = 9,     // parent -> instance: peer address
  kReload = 10,        // parent -> instance: like kConfig, answered with a kResult (summary)
  kResult = 11,        // instance -> parent: the outcome of a request (status code + message)
};

struct Frame {
  Type type = Type::kResult;
  uint32_t id = 0;
  std::vector<uint8_t> body;
};

std::vector<uint8_t> encode(const Frame& frame);
// kInvalidArgument for a record shorter than the header or with an unknown type.
Status decode(const std::vector<uint8_t>& record, Frame* out);

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void bytes(const void* data, size_t size);  // u32 length, then the bytes
  void str(std::string_view s) { bytes(s.data(), s.size()); }
  void addr(const IpAddr& a) { out_.insert(out_.end(), a.bytes.begin(), a.bytes.end()); }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::vector<uint8_t>& in) : in_(in) {}
  bool u8(uint8_t* v);
  bool u16(uint16_t* v);
  bool u32(uint32_t* v);
  bool u64(uint64_t* v);
  bool bytes(std::vector<uint8_t>* v);
  bool str(std::string* v);
  bool addr(IpAddr* a);
  bool done() const { return pos_ == in_.size(); }

 private:
  bool take(size_t n, const uint8_t** p);
  const std::vector<uint8_t>& in_;
  size_t pos_ = 0;
};

// ---- bodies -------------------------------------------------------------------------------------
struct ConfigBody {
  std::string file_name;   // for messages ("controld.yaml:12: ...")
  std::string yaml;        // the whole file as the parent read it (PSKs included: never logged)
  uint32_t instances = 1;  // the running instance count (a reload cannot change it)
};
std::vector<uint8_t> encode_config(const ConfigBody& body);
bool decode_config(const std::vector<uint8_t>& body, ConfigBody* out);

std::vector<uint8_t> encode_datagram(const ike::Datagram& d);
bool decode_datagram(const std::vector<uint8_t>& body, ike::Datagram* out);

struct AcquireBody {
  IpAddr src, dst, gateway;
};
std::vector<uint8_t> encode_acquire(const AcquireBody& body);
bool decode_acquire(const std::vector<uint8_t>& body, AcquireBody* out);

struct ExpireBody {
  uint32_t spi = 0;
  bool hard = false;
};
std::vector<uint8_t> encode_expire(const ExpireBody& body);
bool decode_expire(const std::vector<uint8_t>& body, ExpireBody* out);

struct StatusReplyBody {
  std::string instance;  // serialized dpvpn.v1.IkeInstance
  std::string tunnels;   // serialized dpvpn.v1.ListTunnelsReply
};
std::vector<uint8_t> encode_status_reply(const StatusReplyBody& body);
bool decode_status_reply(const std::vector<uint8_t>& body, StatusReplyBody* out);

struct SetLevelBody {
  std::string level;
  bool truncate = false;
};
std::vector<uint8_t> encode_set_level(const SetLevelBody& body);
bool decode_set_level(const std::vector<uint8_t>& body, SetLevelBody* out);

struct InitiateBody {
  std::string connection, child;
};
std::vector<uint8_t> encode_initiate(const InitiateBody& body);
bool decode_initiate(const std::vector<uint8_t>& body, InitiateBody* out);

std::vector<uint8_t> encode_peer(const IpAddr& peer);
bool decode_peer(const std::vector<uint8_t>& body, IpAddr* out);

// kResult: the Status of the request; its message is the reply's text (a summary, a level).
std::vector<uint8_t> encode_result(const Status& status);
bool decode_result(const std::vector<uint8_t>& body, Status* out);

}  // namespace dpvpn::controld::ipc
