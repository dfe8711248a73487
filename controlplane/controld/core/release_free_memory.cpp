#include "core/release_free_memory.hpp"

#include <malloc.h>

// Defined only when tcmalloc is linked in (dpvpn-controld; see cmake/Dependencies.cmake).
extern "C" void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

namespace dpvpn::controld {

void release_free_memory() {
  if (MallocExtension_ReleaseFreeMemory != nullptr) {
    MallocExtension_ReleaseFreeMemory();
  } else {
    malloc_trim(0);
  }
}

}  // namespace dpvpn::controld
