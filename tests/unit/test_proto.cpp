// The generated protobuf/gRPC code builds, links and round-trips.
#include <catch2/catch.hpp>

#include "dpvpn/v1/tables.grpc.pb.h"
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
}
