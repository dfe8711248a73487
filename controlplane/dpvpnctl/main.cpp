// dpvpnctl: the operator's CLI over the dataplane's gRPC API (dpvpnctl --help).
#include <iostream>

#include "dpvpnctl.hpp"

int main(int argc, char** argv) { return dpvpn::ctl::run(argc, argv, std::cout, std::cerr); }
