#pragma once
// Big-endian field reading and writing for the payload codecs. Internal to dpvpn_ike_message.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dpvpn::ike::wire {

// What a codec reports: nullptr when all is well, else why not (static text that ends up in
// ParseResult::reason or a Status message).
using CodecError = const char*;

// Reads fields in order. A read past the end returns zeros (or an empty span) and leaves the reader
// failed for good, so a decoder reads all of its fixed fields and then checks ok() once; nothing
// is ever read out of bounds.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t u8() { return take(1) ? data_[pos_++] : 0; }
  uint16_t u16() {
    if (!take(2)) return 0;
    const uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    const uint32_t high = u16();
    return high << 16 | u16();
  }
  std::span<const uint8_t> bytes(size_t n) {
    if (!take(n)) return {};
    const std::span<const uint8_t> out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::span<const uint8_t> rest() { return bytes(remaining()); }

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

 private:
  bool take(size_t n) {
    if (ok_ && n <= data_.size() - pos_) return true;
    ok_ = false;
    return false;
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends fields to a byte vector; length fields are written as placeholders and patched once the
// length is known.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>* out) : out_(out) {}

  void u8(uint8_t v) { out_->push_back(v); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(std::span<const uint8_t> b) { out_->insert(out_->end(), b.begin(), b.end()); }
  void zeros(size_t n) { out_->insert(out_->end(), n, 0); }

  size_t position() const { return out_->size(); }
  void patch_u8(size_t at, uint8_t v) { (*out_)[at] = v; }
  void patch_u16(size_t at, uint16_t v) {
    (*out_)[at] = static_cast<uint8_t>(v >> 8);
    (*out_)[at + 1] = static_cast<uint8_t>(v);
  }
  void patch_u32(size_t at, uint32_t v) {
    patch_u16(at, static_cast<uint16_t>(v >> 16));
    patch_u16(at + 2, static_cast<uint16_t>(v));
  }

 private:
  std::vector<uint8_t>* out_;
};

}  // namespace dpvpn::ike::wire
