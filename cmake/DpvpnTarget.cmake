# Warnings and sanitizers for dpvpn's own targets only (dependencies are system headers).
function(dpvpn_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(DPVPN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
