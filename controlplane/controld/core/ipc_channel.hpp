#pragma once
// One end of a parent <-> instance socketpair (AF_UNIX, SOCK_SEQPACKET: record boundaries are
// kept, so one send is one ipc::Frame). Non-blocking reads; sends wait for room up to a timeout
// (0 = drop when the peer is not reading: IKE retransmits, a lost datagram is harmless).
#include <cstdint>
#include <optional>

#include "core/ipc_message.hpp"

namespace dpvpn::controld::ipc {

// A connected SOCK_SEQPACKET pair with room for large records (status replies, config files);
// both fds close-on-exec. false on failure (errno set).
bool make_socket_pair(int fds[2]);

// kUnavailable when the record did not fit in time, kInternal when the peer is gone.
Status send_frame(int fd, const Frame& frame, int timeout_ms);

enum class ReadResult { kFrame, kNone, kClosed, kBad };
// One record: kNone when nothing is waiting (non-blocking fd), kClosed at EOF or a socket error,
// kBad for a record that is not a frame (it is consumed).
ReadResult read_frame(int fd, Frame* out);

void set_nonblocking(int fd);

}  // namespace dpvpn::controld::ipc
