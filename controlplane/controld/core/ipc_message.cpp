#include "core/ipc_message.hpp"

#include <cstring>

namespace dpvpn::controld::ipc {

std::vector<uint8_t> encode(const Frame& frame) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(frame.type));
  w.u32(frame.id);
  std::vector<uint8_t> out = w.take();
  out.insert(out.end(), frame.body.begin(), frame.body.end());
  return out;
}

Status decode(const std::vector<uint8_t>& record, Frame* out) {
  if (record.size() < 5) return {StatusCode::kInvalidArgument, "record shorter than its header"};
  const uint8_t type = record[0];
  if (type < static_cast<uint8_t>(Type::kConfig) || type > static_cast<uint8_t>(Type::kResult)) {
    return {StatusCode::kInvalidArgument, "unknown message type " + std::to_string(type)};
  }
  out->type = static_cast<Type>(type);
  out->id = uint32_t{record[1]} << 24 | uint32_t{record[2]} << 16 | uint32_t{record[3]} << 8 | record[4];
  out->body.assign(record.begin() + 5, record.end());
  return Status::ok();
}

void ByteWriter::u16(uint16_t v) {
  u8(static_cast<uint8_t>(v >> 8));
  u8(static_cast<uint8_t>(v));
}
void ByteWriter::u32(uint32_t v) {
  u16(static_cast<uint16_t>(v >> 16));
  u16(static_cast<uint16_t>(v));
}
void ByteWriter::u64(uint64_t v) {
  u32(static_cast<uint32_t>(v >> 32));
  u32(static_cast<uint32_t>(v));
}
void ByteWriter::bytes(const void* data, size_t size) {
  u32(static_cast<uint32_t>(size));
  const auto* p = static_cast<const uint8_t*>(data);
  out_.insert(out_.end(), p, p + size);
}

bool ByteReader::take(size_t n, const uint8_t** p) {
  if (in_.size() - pos_ < n) return false;
  *p = in_.data() + pos_;
  pos_ += n;
  return true;
}
bool ByteReader::u8(uint8_t* v) {
  const uint8_t* p;
  if (!take(1, &p)) return false;
  *v = *p;
  return true;
}
bool ByteReader::u16(uint16_t* v) {
  const uint8_t* p;
  if (!take(2, &p)) return false;
  *v = static_cast<uint16_t>(p[0] << 8 | p[1]);
  return true;
}
bool ByteReader::u32(uint32_t* v) {
  uint16_t hi, lo;
  if (!u16(&hi) || !u16(&lo)) return false;
  *v = uint32_t{hi} << 16 | lo;
  return true;
}
bool ByteReader::u64(uint64_t* v) {
  uint32_t hi, lo;
  if (!u32(&hi) || !u32(&lo)) return false;
  *v = uint64_t{hi} << 32 | lo;
  return true;
}
bool ByteReader::bytes(std::vector<uint8_t>* v) {
  uint32_t n;
  const uint8_t* p;
  if (!u32(&n) || !take(n, &p)) return false;
  v->assign(p, p + n);
  return true;
}
bool ByteReader::str(std::string* v) {
  uint32_t n;
  const uint8_t* p;
  if (!u32(&n) || !take(n, &p)) return false;
  v->assign(reinterpret_cast<const char*>(p), n);
  return true;
}
bool ByteReader::addr(IpAddr* a) {
  const uint8_t* p;
  if (!take(16, &p)) return false;
  std::memcpy(a->bytes.data(), p, 16);
  return true;
}

std::vector<uint8_t> encode_config(const ConfigBody& body) {
  ByteWriter w;
  w.str(body.file_name);
  w.str(body.yaml);
  w.u32(body.instances);
  return w.take();
}
bool decode_config(const std::vector<uint8_t>& body, ConfigBody* out) {
  ByteReader r(body);
  return r.str(&out->file_name) && r.str(&out->yaml) && r.u32(&out->instances) && r.done() && out->instances >= 1;
}

std::vector<uint8_t> encode_datagram(const ike::Datagram& d) {
  ByteWriter w;
  w.addr(d.local.address);
  w.u16(d.local.port);
  w.addr(d.remote.address);
  w.u16(d.remote.port);
  w.bytes(d.bytes.data(), d.bytes.size());
  return w.take();
}
bool decode_datagram(const std::vector<uint8_t>& body, ike::Datagram* out) {
  ByteReader r(body);
  return r.addr(&out->local.address) && r.u16(&out->local.port) && r.addr(&out->remote.address) &&
         r.u16(&out->remote.port) && r.bytes(&out->bytes) && r.done();
}

std::vector<uint8_t> encode_acquire(const AcquireBody& body) {
  ByteWriter w;
  w.addr(body.src);
  w.addr(body.dst);
  w.addr(body.gateway);
  return w.take();
}
bool decode_acquire(const std::vector<uint8_t>& body, AcquireBody* out) {
  ByteReader r(body);
  return r.addr(&out->src) && r.addr(&out->dst) && r.addr(&out->gateway) && r.done();
}

std::vector<uint8_t> encode_expire(const ExpireBody& body) {
  ByteWriter w;
  w.u32(body.spi);
  w.u8(body.hard ? 1 : 0);
  return w.take();
}
bool decode_expire(const std::vector<uint8_t>& body, ExpireBody* out) {
  ByteReader r(body);
  uint8_t hard = 0;
  if (!r.u32(&out->spi) || !r.u8(&hard) || !r.done()) return false;
  out->hard = hard != 0;
  return true;
}

std::vector<uint8_t> encode_status_reply(const StatusReplyBody& body) {
  ByteWriter w;
  w.str(body.instance);
  w.str(body.tunnels);
  return w.take();
}
bool decode_status_reply(const std::vector<uint8_t>& body, StatusReplyBody* out) {
  ByteReader r(body);
  return r.str(&out->instance) && r.str(&out->tunnels) && r.done();
}

std::vector<uint8_t> encode_set_level(const SetLevelBody& body) {
  ByteWriter w;
  w.str(body.level);
  w.u8(body.truncate ? 1 : 0);
  return w.take();
}
bool decode_set_level(const std::vector<uint8_t>& body, SetLevelBody* out) {
  ByteReader r(body);
  uint8_t truncate = 0;
  if (!r.str(&out->level) || !r.u8(&truncate) || !r.done()) return false;
  out->truncate = truncate != 0;
  return true;
}

std::vector<uint8_t> encode_initiate(const InitiateBody& body) {
  ByteWriter w;
  w.str(body.connection);
  w.str(body.child);
  return w.take();
}
bool decode_initiate(const std::vector<uint8_t>& body, InitiateBody* out) {
  ByteReader r(body);
  return r.str(&out->connection) && r.str(&out->child) && r.done();
}

std::vector<uint8_t> encode_peer(const IpAddr& peer) {
  ByteWriter w;
  w.addr(peer);
  return w.take();
}
bool decode_peer(const std::vector<uint8_t>& body, IpAddr* out) {
  ByteReader r(body);
  return r.addr(out) && r.done();
}

std::vector<uint8_t> encode_result(const Status& status) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(status.code()));
  w.str(status.message());
  return w.take();
}
bool decode_result(const std::vector<uint8_t>& body, Status* out) {
  ByteReader r(body);
  uint8_t code = 0;
  std::string message;
  if (!r.u8(&code) || !r.str(&message) || !r.done() || code > static_cast<uint8_t>(StatusCode::kInternal)) {
    return false;
  }
  *out = Status(static_cast<StatusCode>(code), std::move(message));
  return true;
}

}  // namespace dpvpn::controld::ipc
