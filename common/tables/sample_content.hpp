#pragma once
// Sample content for every table: a site-to-site tunnel between 192.0.2.1 (this gateway) and
// 203.0.113.7 protecting 10.1.0.0/16 <-> 10.2.0.0/16, plus an IPv6 peer 2001:db8:ffff::7 for
// 2001:db8:2::/48. The golden-output tests and dpvpn-tab-demo both show it.
#include "tables/kernel_table_set.hpp"

namespace dpvpn::tables {

Status fill_sample_content(KernelTableSet& set);

}  // namespace dpvpn::tables
