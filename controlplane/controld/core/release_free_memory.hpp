#pragma once
// Gives the heap's free memory back to the system after a large transient allocation (a parsed
// config of 10 000s of connections), so RSS is what the process holds.

namespace dpvpn::controld {

// tcmalloc's ReleaseFreeMemory when dpvpn-controld runs on tcmalloc (it ignores malloc_trim),
// glibc's malloc_trim otherwise (tests, sanitizer builds).
void release_free_memory();

}  // namespace dpvpn::controld
