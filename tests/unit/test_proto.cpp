// The generated protobuf/gRPC code builds, links and round-trips.
#include <catch2/catch.hpp>

#include "dpvpn/v1/cluster.grpc.pb.h"
#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "dpvpn/v1/management.grpc.pb.h"
#include "dpvpn/v1/tables.pb.h"

TEST_CASE("TableReadRequest survives serialization") {
  dpvpn::v1::TableReadRequest request;
  request.set_table("inbound_SPI");
  request.set_summary(true);
  request.set_max_values(5);
  std::string wire;
  REQUIRE(request.SerializeToString(&wire));
  dpvpn::v1::TableReadRequest back;
  REQUIRE(back.ParseFromString(wire));
  CHECK(back.table() == "inbound_SPI");
  CHECK(back.summary());
  CHECK_FALSE(back.resolve());
  CHECK(back.max_values() == 5);
  CHECK(std::string(dpvpn::v1::Dataplane::service_full_name()) == "dpvpn.v1.Dataplane");
  CHECK(std::string(dpvpn::v1::Management::service_full_name()) == "dpvpn.v1.Management");
  CHECK(std::string(dpvpn::v1::Cluster::service_full_name()) == "dpvpn.v1.Cluster");
}

TEST_CASE("an SA survives serialization; QuerySa's state carries no key field values") {
  dpvpn::v1::Sa sa;
  sa.set_spi(0xc0ffee01);
  sa.set_direction(dpvpn::v1::INBOUND);
  sa.set_algorithm(dpvpn::v1::AES128_GCM);
  sa.set_key(std::string(20, '\x42'));
  sa.mutable_local()->set_addr(std::string("\xc0\x00\x02\x01", 4));
  sa.set_esn(true);
  sa.mutable_lifetime()->set_hard_seconds(3600);
  std::string wire;
  REQUIRE(sa.SerializeToString(&wire));
  dpvpn::v1::Sa back;
  REQUIRE(back.ParseFromString(wire));
  CHECK(back.spi() == 0xc0ffee01);
  CHECK(back.algorithm() == dpvpn::v1::AES128_GCM);
  CHECK(back.key().size() == 20);
  CHECK(back.local().addr().size() == 4);
  CHECK(back.lifetime().hard_seconds() == 3600);
  dpvpn::v1::Event event;
  event.set_type(dpvpn::v1::Event::ACQUIRE);
  CHECK(dpvpn::v1::Event::Type_Name(event.type()) == "ACQUIRE");
}
