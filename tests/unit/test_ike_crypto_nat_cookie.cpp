// NAT detection hashes and cookies against gen_vectors.py; cookie rotation; random SPIs.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ike/crypto/cookie.hpp"
#include "ike/crypto/nat_detection.hpp"
#include "ike/crypto/random.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::to_hex;

IpAddr ip(const std::string& text) {
  const auto addr = IpAddr::parse(text);
  REQUIRE(addr);
  return *addr;
}

uint64_t spi(const std::string& hex) { return std::stoull(hex, nullptr, 16); }

TEST_CASE("NAT detection hash matches the independent implementation") {
  for (const auto& v : test::load_vectors("nat")) {
    INFO(v.text("ip") << " " << v.text("port"));
    NatDetectionHash hash;
    REQUIRE(nat_detection_hash(spi(v.text("spi_i")), spi(v.text("spi_r")), ip(v.text("ip")),
                               static_cast<uint16_t>(v.number("port")), &hash)
                .is_ok());
    CHECK(to_hex(hash) == v.text("hash"));
    NatDetectionHash other;
    REQUIRE(nat_detection_hash(spi(v.text("spi_i")), spi(v.text("spi_r")), ip(v.text("ip")),
                               static_cast<uint16_t>(v.number("port") + 1), &other)
                .is_ok());
    CHECK(other != hash);
  }
}

TEST_CASE("Cookie matches the independent implementation for an installed secret") {
  std::unique_ptr<CookieGenerator> gen;
  REQUIRE(CookieGenerator::create(&gen).is_ok());
  for (const auto& v : test::load_vectors("cookie")) {
    INFO("version " << v.text("version"));
    REQUIRE(gen->install_secret(static_cast<uint8_t>(v.number("version")), v.bytes("secret")).is_ok());
    std::vector<uint8_t> cookie;
    REQUIRE(gen->make(v.bytes("ni"), ip(v.text("ip")), spi(v.text("spi_i")), &cookie).is_ok());
    CHECK(to_hex(cookie) == v.text("cookie"));
    CHECK(gen->check(cookie, v.bytes("ni"), ip(v.text("ip")), spi(v.text("spi_i"))));
  }
}

TEST_CASE("Cookies: bound to Ni, address and SPI; valid for one rotation") {
  std::unique_ptr<CookieGenerator> gen;
  REQUIRE(CookieGenerator::create(&gen).is_ok());
  const std::vector<uint8_t> ni(32, 0x42);
  const IpAddr addr = ip("192.0.2.10");
  const uint64_t spi_i = 0x1122334455667788;
  std::vector<uint8_t> cookie;
  REQUIRE(gen->make(ni, addr, spi_i, &cookie).is_ok());
  CHECK(cookie.size() == CookieGenerator::kCookieSize);
  CHECK(cookie[0] == 0);  // version of the first secret
  CHECK(gen->check(cookie, ni, addr, spi_i));

  auto other_ni = ni;
  other_ni[5] ^= 1;
  CHECK_FALSE(gen->check(cookie, other_ni, addr, spi_i));
  CHECK_FALSE(gen->check(cookie, ni, ip("192.0.2.11"), spi_i));
  CHECK_FALSE(gen->check(cookie, ni, addr, spi_i + 1));
  auto forged = cookie;
  forged.back() ^= 1;
  CHECK_FALSE(gen->check(forged, ni, addr, spi_i));
  CHECK_FALSE(gen->check(std::vector<uint8_t>(cookie.begin(), cookie.end() - 1), ni, addr, spi_i));

  REQUIRE(gen->rotate().is_ok());
  CHECK(gen->check(cookie, ni, addr, spi_i));  // the previous secret is still accepted
  std::vector<uint8_t> fresh;
  REQUIRE(gen->make(ni, addr, spi_i, &fresh).is_ok());
  CHECK(fresh[0] == 1);
  CHECK(fresh != cookie);
  auto relabeled = cookie;
  relabeled[0] = 1;  // an old hash under the new version
  CHECK_FALSE(gen->check(relabeled, ni, addr, spi_i));

  REQUIRE(gen->rotate().is_ok());
  CHECK_FALSE(gen->check(cookie, ni, addr, spi_i));  // two rotations later
  CHECK(gen->check(fresh, ni, addr, spi_i));

  CHECK(gen->install_secret(2, std::vector<uint8_t>(32, 1)).code() == StatusCode::kInvalidArgument);  // in use
  CHECK(gen->install_secret(9, std::vector<uint8_t>(16, 1)).code() == StatusCode::kInvalidArgument);  // too short
}

TEST_CASE("Random bytes and IKE SPIs") {
  std::set<uint64_t> spis;
  for (int i = 0; i < 64; ++i) {
    uint64_t s = 0;
    REQUIRE(random_ike_spi(&s).is_ok());
    CHECK(s != 0);
    spis.insert(s);
  }
  CHECK(spis.size() == 64);
  std::vector<uint8_t> a(32), b(32);
  REQUIRE(random_bytes(a).is_ok());
  REQUIRE(random_bytes(b).is_ok());
  CHECK(a != b);
  CHECK(random_bytes(std::span<uint8_t>()).is_ok());
}

TEST_CASE("Random bytes: the per-thread pool refills, and a forked child never repeats its parent") {
  // Far more than one pool (4 KiB) of 32-byte draws, and some larger than the pool serves: all distinct.
  std::set<std::vector<uint8_t>> seen;
  for (int i = 0; i < 1000; ++i) {
    std::vector<uint8_t> v(i % 10 == 0 ? 1000 : 32);
    REQUIRE(random_bytes(v).is_ok());
    seen.insert(v);
  }
  CHECK(seen.size() == 1000);
  // The parent has a half-used pool; the child's first draw must not be the parent's next one.
  int pipe_fds[2];
  REQUIRE(pipe(pipe_fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::vector<uint8_t> v(32);
    const bool ok = random_bytes(v).is_ok();
    _exit(ok && write(pipe_fds[1], v.data(), v.size()) == 32 ? 0 : 1);
  }
  std::vector<uint8_t> from_child(32), ours(32);
  REQUIRE(read(pipe_fds[0], from_child.data(), 32) == 32);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  REQUIRE(random_bytes(ours).is_ok());
  CHECK(from_child != ours);
}

}  // namespace
}  // namespace dpvpn::ike
