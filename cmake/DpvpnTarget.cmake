# Warnings and sanitizers for dpvpn's own targets only (dependencies are system headers).
function(dpvpn_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 reports -Wrestrict on std::string concatenation inlined at -O3 (a false positive,
    # GCC bug 105329); it stays on for every other compiler.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(DPVPN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
