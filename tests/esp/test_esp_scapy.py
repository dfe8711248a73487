#!/usr/bin/python3
"""dpvpn ESP against scapy, an independent implementation.

For every algorithm x outer IPv4/IPv6 x inner IPv4/IPv6 x NAT-T off/on x ESN off/on:
  (a) dpvpn encrypts inner packets built by scapy; the outer IP/UDP/ESP headers are checked
      field by field, the ICV is verified and the payload decrypted by scapy's
      SecurityAssociation (for CBC+HMAC with ESN the ICV is computed here, because scapy leaves
      seq_hi out), the padding/pad length/next header are checked with the `cryptography`
      package, and the inner packet must come back byte for byte;
  (b) scapy encrypts, dpvpn decrypts; the inner packet must come back byte for byte.
Per algorithm, a flipped ciphertext byte must give esp_auth_failed and no packet, and must not
move the replay window (the genuine packet with the same number is still accepted).

Usage: test_esp_scapy.py PATH/TO/dpvpn-esp-tool   (run with Debian's /usr/bin/python3)
"""
import hashlib
import hmac
import itertools
import os
import struct
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from scapy.all import ICMP, IP, IPv6, TCP, UDP, Raw, checksum, in6_chksum
from scapy.layers.ipsec import ESP, SecurityAssociation

TOOL = sys.argv[1] if len(sys.argv) > 1 else "dpvpn-esp-tool"

# name: (scapy crypt algo, cipher key length, salt length, scapy auth algo)
ALGORITHMS = {
    "aes128gcm": ("AES-GCM", 16, 4, None),
    "aes256gcm": ("AES-GCM", 32, 4, None),
    "aes128cbc-sha256": ("AES-CBC", 16, 0, "SHA2-256-128"),
    "aes256cbc-sha256": ("AES-CBC", 32, 0, "SHA2-256-128"),
    "chacha20poly1305": ("CHACHA20-POLY1305", 32, 4, None),
}
OUTER = {4: ("192.0.2.1", "198.51.100.2"), 6: ("2001:db8::1", "2001:db8:ffff::2")}
NATT_LOCAL, NATT_REMOTE = 4500, 14500  # different, so a swapped direction shows
SPI = 0x0A0B0C0D
PAYLOAD_SIZES = [1, 2, 3, 13, 14, 15, 16, 17, 100, 1400]
ESN_FIRST_SEQ = 0xFFFFFFFE  # crosses from seq_hi 0 to seq_hi 1 within the packets

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
    return cond


def inner_packets(version):
    pkts = []
    for i, size in enumerate(PAYLOAD_SIZES):
        payload = Raw(bytes((i + j) & 0xFF for j in range(size)))
        if version == 4:
            # Alternate DF and DSCP/ECN so the outer copy rules are exercised.
            flags = "DF" if i % 2 == 0 else 0
            p = IP(src="10.0.0.1", dst="10.1.0.1", tos=0xB8 if i % 3 == 0 else 0, flags=flags, id=i)
        else:
            p = IPv6(src="fd00::1", dst="fd01::1", tc=0xB8 if i % 3 == 0 else 0)
        p = p / (UDP(sport=1000 + i, dport=2000) if i % 4 else TCP(sport=1000 + i, dport=443)) / payload
        pkts.append(p)
    if version == 4:
        pkts.append(IP(src="10.0.0.1", dst="10.1.0.1") / ICMP(id=7, seq=1) / Raw(b"ping"))
    else:
        pkts.append(IPv6(src="fd00::1", dst="fd01::1", nh=58) / Raw(b"\x80\x00\x00\x00\x00\x07\x00\x01ping"))
    return [bytes(p) for p in pkts]


def keys_for(alg):
    _, klen, slen, auth = ALGORITHMS[alg]
    key = os.urandom(klen + slen)
    auth_key = os.urandom(32) if auth else b""
    return key, auth_key


def sa_file(path, alg, key, auth_key, outer, natt, esn, inbound, first_seq=None):
    local, remote = OUTER[outer]
    if inbound:
        local, remote = remote, local
    lines = [
        f"algorithm={alg}",
        f"spi={SPI:#x}",
        f"key={key.hex()}",
        f"local={local}",
        f"remote={remote}",
        f"esn={int(esn)}",
        f"natt={int(natt)}",
        f"natt_local_port={NATT_LOCAL}",
        f"natt_remote_port={NATT_REMOTE}",
    ]
    if auth_key:
        lines.append(f"auth_key={auth_key.hex()}")
    if first_seq is not None:
        lines.append(f"first_seq={first_seq}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def run_tool(mode, sa_path, packets, tmp, burst=None):
    in_path = os.path.join(tmp, "in.hex")
    out_path = os.path.join(tmp, "out.hex")
    with open(in_path, "w") as f:
        for p in packets:
            f.write(p.hex() + "\n")
    cmd = [TOOL, mode, sa_path, in_path, out_path]
    if burst:
        cmd += ["--burst", str(burst)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr}")
    results = []
    with open(out_path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("ok "):
                results.append(("ok", bytes.fromhex(line[3:])))
            else:
                results.append((line, None))
    return results


def scapy_sa(alg, key, auth_key, outer, natt, esn, src_is_local):
    crypt, _, _, auth = ALGORITHMS[alg]
    local, remote = OUTER[outer]
    src, dst = (local, remote) if src_is_local else (remote, local)
    tunnel = IP(src=src, dst=dst) if outer == 4 else IPv6(src=src, dst=dst)
    nat_t = None
    if natt:
        nat_t = UDP(sport=NATT_LOCAL, dport=NATT_REMOTE) if src_is_local else UDP(sport=NATT_REMOTE, dport=NATT_LOCAL)
    return SecurityAssociation(ESP, spi=SPI, crypt_algo=crypt, crypt_key=key,
                               auth_algo=auth, auth_key=auth_key or None,
                               tunnel_header=tunnel, nat_t_header=nat_t, esn_en=esn, esn=0)


def cbc_esn_icv(auth_key, esp_without_icv, seq_hi):
    # RFC 4303 2.2.1 / RFC 4868: ICV over ESP header..ciphertext, then seq_hi (not transmitted).
    return hmac.new(auth_key, esp_without_icv + struct.pack("!I", seq_hi), hashlib.sha256).digest()[:16]


def plaintext_of(alg, key, esp, seq_full, esn):
    """Independent decryption (cryptography package) of an ESP packet, to check the trailer."""
    spi, seq_lo = struct.unpack("!II", esp[:8])
    if alg.startswith("aes") and "cbc" in alg:
        iv, ct = esp[8:24], esp[24:-16]
        d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        return d.update(ct) + d.finalize()
    iv, ct_tag = esp[8:16], esp[16:]
    aad = struct.pack("!III", spi, seq_full >> 32, seq_lo) if esn else struct.pack("!II", spi, seq_lo)
    aead = ChaCha20Poly1305(key[:32]) if alg == "chacha20poly1305" else AESGCM(key[:-4])
    return aead.decrypt(key[-4:] + iv, ct_tag, aad)


def check_outbound(alg, outer, inner_v, natt, esn):
    name = f"encrypt {alg} outer=v{outer} inner=v{inner_v} natt={int(natt)} esn={int(esn)}"
    key, auth_key = keys_for(alg)
    inners = inner_packets(inner_v)
    first_seq = ESN_FIRST_SEQ if esn else 1
    with tempfile.TemporaryDirectory() as tmp:
        sa_path = os.path.join(tmp, "sa")
        sa_file(sa_path, alg, key, auth_key, outer, natt, esn, inbound=False, first_seq=first_seq)
        results = run_tool("encrypt", sa_path, inners, tmp, burst=4)
    if not check(len(results) == len(inners), f"{name}: {len(results)} results for {len(inners)} packets"):
        return
    sa = scapy_sa(alg, key, auth_key, outer, natt, esn, src_is_local=False)
    local, remote = OUTER[outer]
    ivs = set()
    for n, (inner, (status, out)) in enumerate(zip(inners, results)):
        what = f"{name} packet {n} ({len(inner)} B)"
        if not check(status == "ok", f"{what}: {status}"):
            continue
        seq = first_seq + n
        # Outer IP header, field by field.
        if outer == 4:
            ip = IP(out)
            check(out[0] == 0x45 and ip.ttl == 64 and ip.src == local and ip.dst == remote, f"{what}: outer IPv4 header {ip.summary()}")
            check(ip.len == len(out), f"{what}: IPv4 total length {ip.len} != {len(out)}")
            check(checksum(out[:20]) == 0, f"{what}: IPv4 header checksum")
            check(ip.id == seq & 0xFFFF, f"{what}: IPv4 id {ip.id}")
            inner_df = (inner[6] & 0x40) != 0 if inner_v == 4 else True
            check(bool(ip.flags.DF) == inner_df and not ip.flags.MF and ip.frag == 0, f"{what}: DF {ip.flags}")
            inner_tos = inner[1] if inner_v == 4 else ((inner[0] & 0x0F) << 4 | inner[1] >> 4)
            check(ip.tos == inner_tos, f"{what}: TOS {ip.tos:#x} != inner {inner_tos:#x}")
            check(ip.proto == (17 if natt else 50), f"{what}: IPv4 protocol {ip.proto}")
            l4 = out[20:]
        else:
            ip = IPv6(out)
            check(out[0] >> 4 == 6 and ip.hlim == 64 and ip.src == local and ip.dst == remote and ip.fl == 0, f"{what}: outer IPv6 header")
            check(ip.plen == len(out) - 40, f"{what}: IPv6 payload length")
            check(ip.nh == (17 if natt else 50), f"{what}: IPv6 next header {ip.nh}")
            inner_tc = inner[1] if inner_v == 4 else ((inner[0] & 0x0F) << 4 | inner[1] >> 4)
            check(ip.tc == inner_tc, f"{what}: traffic class {ip.tc:#x} != inner {inner_tc:#x}")
            l4 = out[40:]
        if natt:
            sport, dport, ulen, ucsum = struct.unpack("!HHHH", l4[:8])
            check((sport, dport) == (NATT_LOCAL, NATT_REMOTE), f"{what}: UDP ports {sport}->{dport}")
            check(ulen == len(l4), f"{what}: UDP length {ulen} != {len(l4)}")
            if outer == 4:
                check(ucsum == 0, f"{what}: UDP checksum over IPv4 must be 0 (RFC 3948), got {ucsum:#x}")
            else:
                zeroed = l4[:6] + b"\0\0" + l4[8:]
                want = in6_chksum(17, IPv6(out), zeroed) or 0xFFFF
                check(ucsum != 0 and ucsum == want, f"{what}: UDP checksum over IPv6 {ucsum:#x} != {want:#x}")
            esp = l4[8:]
        else:
            esp = l4
        spi, seq_lo = struct.unpack("!II", esp[:8])
        check(spi == SPI, f"{what}: SPI {spi:#x}")
        check(seq_lo == seq & 0xFFFFFFFF, f"{what}: sequence number {seq_lo} != {seq & 0xFFFFFFFF}")
        iv_len = 16 if "cbc" in alg else 8
        iv = esp[8:8 + iv_len]
        check(iv not in ivs, f"{what}: IV repeated")
        ivs.add(iv)
        if iv_len == 8:
            check(iv == struct.pack("!Q", seq), f"{what}: AEAD IV is not the 64-bit sequence number")
        # Trailer, checked on an independent decryption.
        block = 16 if "cbc" in alg else 4
        try:
            plain = plaintext_of(alg, key, esp, seq, esn)
        except Exception as e:  # noqa: BLE001
            check(False, f"{what}: independent decryption failed: {e!r}")
            continue
        check(len(plain) % block == 0, f"{what}: ciphertext not a multiple of {block}")
        pad_len, nh = plain[-2], plain[-1]
        want_pad = (-(len(inner) + 2)) % block
        check(pad_len == want_pad, f"{what}: pad length {pad_len} != {want_pad}")
        check(plain[len(inner):len(inner) + pad_len] == bytes(range(1, pad_len + 1)), f"{what}: pad bytes not 1,2,3...")
        check(nh == (4 if inner_v == 4 else 41), f"{what}: next header {nh}")
        check(plain[:len(inner)] == inner, f"{what}: independent decryption differs from inner")
        # scapy: ICV verification + decapsulation.
        seq_hi = seq >> 32
        pkt = IP(out) if outer == 4 else IPv6(out)
        try:
            if esn and "cbc" in alg:
                check(esp[-16:] == cbc_esn_icv(auth_key, esp[:-16], seq_hi), f"{what}: CBC+ESN ICV (seq_hi appended) wrong")
                dec = sa.decrypt(pkt, verify=False, esn_en=True, esn=seq_hi)
            else:
                dec = sa.decrypt(pkt, esn_en=esn or None, esn=seq_hi or None)
        except Exception as e:  # noqa: BLE001
            check(False, f"{what}: scapy decrypt failed: {e!r}")
            continue
        check(bytes(dec) == inner, f"{what}: scapy's decrypted inner packet differs")


def fix_scapy_natt(raw, outer):
    """scapy writes UDP length 8 over IPv4 and checksum 0 over IPv6: repair both."""
    b = bytearray(raw)
    off = 20 if outer == 4 else 40
    struct.pack_into("!H", b, off + 4, len(b) - off)
    if outer == 6:
        struct.pack_into("!H", b, off + 6, 0)
        c = in6_chksum(17, IPv6(bytes(b)), bytes(b[off:])) or 0xFFFF
        struct.pack_into("!H", b, off + 6, c)
    return bytes(b)


def scapy_encrypt(sa, alg, auth_key, inner, inner_v, outer, natt, seq, esn):
    pkt = (IP if inner_v == 4 else IPv6)(inner)
    # seq_num=0 would make scapy fall back to its own counter: set the counter instead.
    sa.seq_num = seq & 0xFFFFFFFF
    enc = sa.encrypt(pkt, esn_en=esn or None, esn=(seq >> 32) or None)
    raw = bytes(enc)
    if natt:
        raw = fix_scapy_natt(raw, outer)
    if esn and "cbc" in alg:
        # scapy's ICV leaves seq_hi out: replace it with the RFC 4303 one.
        off = (20 if outer == 4 else 40) + (8 if natt else 0)
        raw = raw[:-16] + cbc_esn_icv(auth_key, raw[off:-16], seq >> 32)
    return raw


def check_inbound(alg, outer, inner_v, natt, esn):
    name = f"decrypt {alg} outer=v{outer} inner=v{inner_v} natt={int(natt)} esn={int(esn)}"
    key, auth_key = keys_for(alg)
    inners = inner_packets(inner_v)
    sa = scapy_sa(alg, key, auth_key, outer, natt, esn, src_is_local=False)
    # A fresh receiver infers seq_hi 0, so ESN runs start just below 2^32 and cross it.
    first = 0xFFFFFFFD if esn else 1
    seqs = [first + n for n in range(len(inners))]
    packets = [scapy_encrypt(sa, alg, auth_key, p, inner_v, outer, natt, s, esn) for p, s in zip(inners, seqs)]
    with tempfile.TemporaryDirectory() as tmp:
        sa_path = os.path.join(tmp, "sa")
        sa_file(sa_path, alg, key, auth_key, outer, natt, esn, inbound=True)
        # A window that has accepted nothing infers epoch 0 for every number (RFC 4303 A2.2), so
        # with ESN each packet goes in its own burst: the crossing to seq_hi 1 is then inferred
        # from an accepted top of 0xfffffffd..0xffffffff, as it would be on a live SA.
        results = run_tool("decrypt", sa_path, packets, tmp, burst=1 if esn else 4)
    if not check(len(results) == len(inners), f"{name}: {len(results)} results for {len(inners)} packets"):
        return
    for n, (inner, (status, out)) in enumerate(zip(inners, results)):
        what = f"{name} packet {n} seq {seqs[n]:#x} ({len(inner)} B)"
        if check(status == "ok", f"{what}: {status}"):
            check(out == inner, f"{what}: inner packet differs")


def check_negative(alg):
    """A flipped ciphertext byte: esp_auth_failed, no output, and the window does not move."""
    for outer, natt, esn in [(4, False, False), (6, True, True)]:
        name = f"tamper {alg} outer=v{outer} natt={int(natt)} esn={int(esn)}"
        key, auth_key = keys_for(alg)
        inner = inner_packets(4)[8]
        sa = scapy_sa(alg, key, auth_key, outer, natt, esn, src_is_local=False)
        good = scapy_encrypt(sa, alg, auth_key, inner, 4, outer, natt, 5, esn)
        bad = bytearray(good)
        bad[-20] ^= 0x01  # last ciphertext byte before the ICV
        with tempfile.TemporaryDirectory() as tmp:
            sa_path = os.path.join(tmp, "sa")
            sa_file(sa_path, alg, key, auth_key, outer, natt, esn, inbound=True)
            # Separate bursts: the tampered packet first, then the genuine one with the same seq.
            results = run_tool("decrypt", sa_path, [bytes(bad), good, good], tmp, burst=1)
        check(results[0] == ("esp_auth_failed", None), f"{name}: tampered packet gave {results[0][0]}")
        check(results[1] == ("ok", inner), f"{name}: genuine packet after a tampered one gave {results[1][0]}")
        check(results[2] == ("esp_replay_duplicate", None), f"{name}: replayed packet gave {results[2][0]}")


def main():
    combos = list(itertools.product(ALGORITHMS, (4, 6), (4, 6), (False, True), (False, True)))
    for alg, outer, inner_v, natt, esn in combos:
        check_outbound(alg, outer, inner_v, natt, esn)
        check_inbound(alg, outer, inner_v, natt, esn)
    for alg in ALGORITHMS:
        check_negative(alg)
    print(f"{len(combos)} combinations x 2 directions + {len(ALGORITHMS)} tamper cases: {checks} checks, {len(failures)} failed")
    for f in failures[:50]:
        print("FAIL:", f)
    if len(failures) > 50:
        print(f"... and {len(failures) - 50} more")
    return 1 if failures or checks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
