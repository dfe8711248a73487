#!/usr/bin/python3
"""test_esp_interop.py again, with dpvpn-dataplane doing its crypto on a DPDK cryptodev
(crypto: cryptodev, crypto_device: crypto_aesni_mb0, created by the dataplane at run time) instead
of calling intel-ipsec-mb directly: the same 80 combinations against scapy, both directions, and
the same replay/tamper drops and counters. First, a negative run proves the binary honours the
setting: crypto_openssl0 has no ChaCha20-Poly1305, so an SA with it is refused, naming both.
usage: test_cryptodev_interop.py path/to/dpvpn-dataplane [crypto_device]"""
import sys

import dpvpn_pcap
import test_esp_interop


def refused_on_openssl(binary):
    sa = dpvpn_pcap.Sa("o0", "outbound", 0x1000, "chacha20poly1305", "192.0.2.1", "192.0.2.2")
    config = dpvpn_pcap.base_config([sa], '  - {local: "10.1.0.0/24", remote: "10.2.0.0/24", action: protect, '
                                          'outbound_sa: o0}', crypto=("cryptodev", "crypto_openssl0"))
    try:
        dpvpn_pcap.run_dataplane(binary, config, [], [])
    except RuntimeError as e:
        text = str(e)
        if "crypto_openssl0" in text and "chacha20poly1305" in text:
            return None
        return f"refused, but without naming the device and algorithm:\n{text}"
    return "dpvpn-dataplane accepted a ChaCha20-Poly1305 SA on crypto_openssl0"


def main(binary, device="crypto_aesni_mb0"):
    problem = refused_on_openssl(binary)
    if problem:
        print(f"FAILED: {problem}")
        return 1
    plain = dpvpn_pcap.base_config

    def cryptodev_config(*args, **kwargs):
        kwargs.setdefault("crypto", ("cryptodev", device))
        return plain(*args, **kwargs)

    # test_esp_interop reaches base_config through its `dp` module alias (= dpvpn_pcap).
    test_esp_interop.dp.base_config = cryptodev_config
    try:
        config = cryptodev_config([], "")
        if f"crypto_device: {device}" not in config:
            print("FAILED: the config does not select the cryptodev")
            return 1
        rc = test_esp_interop.main(binary)
    finally:
        test_esp_interop.dp.base_config = plain
    print(f"(crypto: cryptodev on {device})")
    return rc


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
