// dpvpnctl health: the standard gRPC health check (grpc.health.v1.Health/Check).
//
// Debian 12's libgrpc++-dev ships neither health.proto nor generated stubs for it, so the call goes
// through grpc::GenericStub with the two tiny messages encoded by hand:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { enum ServingStatus status = 1; }  UNKNOWN 0, SERVING 1, NOT_SERVING 2,
//                                                            SERVICE_UNKNOWN 3
// A server that does not offer the health service (UNIMPLEMENTED) is checked with a Stats call.
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "dpvpnctl.hpp"

namespace dpvpn::ctl {

namespace {

constexpr const char* kHealthCheck = "/grpc.health.v1.Health/Check";

std::string encode_request(const std::string& service) {
  std::string out;
  if (service.empty()) return out;  // proto3: the default value is not sent
  out.push_back('\x0a');            // field 1, length-delimited
  uint64_t len = service.size();
  while (len >= 0x80) {
    out.push_back(static_cast<char>((len & 0x7f) | 0x80));
    len >>= 7;
  }
  out.push_back(static_cast<char>(len));
  return out + service;
}

// The ServingStatus of a HealthCheckResponse, or -1 when it does not parse.
int decode_status(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return -1;
  int status = 0;  // absent = UNKNOWN
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& f = fields.field(i);
    if (f.number() == 1 && f.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      status = static_cast<int>(f.varint());
    }
  }
  return status;
}

const char* status_name(int status) {
  switch (status) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return "INVALID";
  }
}

void report(std::ostream& out, bool json, const std::string& status, const std::string& via) {
  if (json) {
    out << "{\"status\":\"" << status << "\",\"via\":\"" << via << "\"}\n";
  } else {
    out << status << (via == "Stats" ? " (no health service; a Stats call answered)" : "") << "\n";
  }
}

}  // namespace

grpc::Status cmd_health(const std::shared_ptr<grpc::ChannelInterface>& channel, const HealthArgs& args,
                        const CallOptions& call, std::ostream& out) {
  grpc::GenericStub generic(channel);
  const std::string request_bytes = encode_request(args.service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + call.timeout);
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, kHealthCheck, grpc::StubOptions(), &request, &response,
                    [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();

  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    // No health service on this server: a cheap Stats call says whether the dataplane answers.
    auto stub = dpvpn::v1::Dataplane::NewStub(channel);
    grpc::ClientContext stats_context;
    stats_context.set_deadline(std::chrono::system_clock::now() + call.timeout);
    dpvpn::v1::StatsReply reply;
    status = stub->Stats(&stats_context, dpvpn::v1::StatsRequest(), &reply);
    if (!status.ok()) return status;
    report(out, call.json, "SERVING", "Stats");
    return grpc::Status::OK;
  }
  if (!status.ok()) return status;
  const int serving = decode_status(response);
  if (serving != 1) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        std::string("the dataplane's health check answers ") + status_name(serving));
  }
  report(out, call.json, "SERVING", "grpc.health.v1");
  return grpc::Status::OK;
}

}  // namespace dpvpn::ctl
