# controlplane/ike/crypto: unit tests (Catch2, no EAL) against published and independently computed
# vectors, and a check that the committed vectors are what their generator produces.
if(TARGET dpvpn_ike_crypto)
  dpvpn_plain_test(test_ike_crypto
    unit/test_ike_crypto_proposal.cpp
    unit/test_ike_crypto_dh.cpp
    unit/test_ike_crypto_kdf.cpp
    unit/test_ike_crypto_sk.cpp
    unit/test_ike_crypto_auth.cpp
    unit/test_ike_crypto_cert.cpp
    unit/test_ike_crypto_nat_cookie.cpp)
  target_link_libraries(test_ike_crypto PRIVATE dpvpn_ike_crypto)
  target_include_directories(test_ike_crypto PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})  # "ike_crypto/vector_file.hpp"
  target_compile_definitions(test_ike_crypto PRIVATE
    DPVPN_IKE_CRYPTO_VECTORS="${CMAKE_CURRENT_SOURCE_DIR}/ike_crypto/vectors.txt")
  add_test(NAME ike_crypto COMMAND test_ike_crypto)

  # gen_vectors.py needs Debian's python3-cryptography: /usr/bin/python3, not the one on PATH.
  add_test(NAME ike_crypto_vectors
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ike_crypto/gen_vectors.py
                   --check ${CMAKE_CURRENT_SOURCE_DIR}/ike_crypto/vectors.txt)
endif()
