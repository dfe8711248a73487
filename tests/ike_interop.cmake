# IKEv2 interop harness (tests/ike_interop/strongswan.py): strongSwan 5.9.8 as a peer in network
# namespaces. The smoke test proves the harness strongSwan <-> strongSwan (PSK + AES-GCM/ECP-256
# with child/IKE rekeys under pings; ECDSA and RSA certificates + AES-CBC/SHA-256/MODP-2048).
# Needs root, iproute2, ethtool, openssl and strongSwan (scripts/setup.sh installs them); it fails,
# never skips, when they are missing. Unique namespace names: safe to run in parallel.
add_test(NAME ike_interop_smoke
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ike_interop/test_strongswan_smoke.py)
set_tests_properties(ike_interop_smoke PROPERTIES TIMEOUT 180)

# dpvpn-controld (--no-dataplane) against strongSwan: both initiator roles, PSK and ECDSA
# certificates, three suites, child and IKE rekeys from each side, deletes from each side, DPD.
if(TARGET dpvpn-controld)
  add_test(NAME ike_interop_controld
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ike_interop/test_controld_ike.py ${CMAKE_BINARY_DIR})
  set_tests_properties(ike_interop_controld PROPERTIES TIMEOUT 240)
endif()

# dpvpn (controld + dpvpn-dataplane on net_af_packet veth ports) against strongSwan with hosts
# behind both: pings and an 8 MiB TCP transfer through the tunnel, rekeys from each side under
# traffic with 0 lost, deletes from each side, certificates with x25519 and PFS, on-demand start.
if(TARGET dpvpn-controld AND TARGET dpvpn-dataplane)
  add_test(NAME ike_interop_dataplane
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ike_interop/test_dataplane_ike.py ${CMAKE_BINARY_DIR})
  set_tests_properties(ike_interop_dataplane PROPERTIES TIMEOUT 300)
endif()
