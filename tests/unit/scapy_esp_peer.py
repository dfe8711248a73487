#!/usr/bin/python3
"""An independent ESP peer for the in-process agent test: scapy's SecurityAssociation.

  scapy_esp_peer.py decrypt SPI KEYHEX FRAMEHEX
      FRAMEHEX: an Ethernet frame carrying IPv4 ESP (tunnel mode) from the dataplane. Prints the
      decrypted inner packet as `src dst proto sport dport ttl payloadhex`.
  scapy_esp_peer.py encrypt SPI KEYHEX SEQ OUTER_SRC OUTER_DST INNERHEX
      INNERHEX: an inner IPv4 packet. Prints the outer IPv4 ESP packet (hex) that a peer with this
      SA sends, sequence number SEQ.
AES-GCM-128 only: KEYHEX is the 16-byte key followed by the 4-byte salt (RFC 4106).
Exit 1 with a message on stderr if the packet does not decrypt.
"""
import sys

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether


def sa(spi, key, src="0.0.0.0", dst="0.0.0.0"):
    return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                               auth_algo="NULL", tunnel_header=IP(src=src, dst=dst))


def main(argv):
    if len(argv) >= 4 and argv[0] == "decrypt":
        spi, key, frame = int(argv[1], 0), bytes.fromhex(argv[2]), bytes.fromhex(argv[3])
        outer = Ether(frame)[IP]
        if ESP not in outer or outer[ESP].spi != spi:
            sys.exit(f"not ESP with SPI {spi:#x}: {outer.summary()}")
        try:
            inner = sa(spi, key).decrypt(outer)
        except Exception as e:  # scapy raises on ICV mismatch
            sys.exit(f"does not decrypt: {e}")
        l4 = inner[UDP] if UDP in inner else inner[TCP] if TCP in inner else None
        sport, dport = (l4.sport, l4.dport) if l4 else (0, 0)
        payload = bytes(l4.payload) if l4 else bytes(inner.payload)
        print(inner.src, inner.dst, inner.proto, sport, dport, inner.ttl, payload.hex())
        return
    if len(argv) >= 7 and argv[0] == "encrypt":
        spi, key, seq = int(argv[1], 0), bytes.fromhex(argv[2]), int(argv[3])
        packet = sa(spi, key, argv[4], argv[5]).encrypt(IP(bytes.fromhex(argv[6])), seq_num=seq)
        print(bytes(packet).hex())
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
