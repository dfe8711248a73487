#!/usr/bin/python3
"""Known-answer vectors for dpvpn's IKEv2 crypto library, computed independently of it.

Python's hmac/hashlib and python3-cryptography (Debian 12) do the primitives; the IKEv2
constructions (RFC 7296 prf+ and key cutting, SK payload layout, AUTH, NAT detection, cookies)
and the RFC 3526 MODP primes (from their defining formula with pi) are written out here from the
RFCs. Inputs are fixed, so the output is stable: it is committed as vectors.txt and the ctest
`ike_crypto_vectors` checks that this script still produces exactly that file.

usage: gen_vectors.py [--check FILE]
"""
import hashlib
import hmac
import ipaddress
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

# IANA transform IDs (RFC 7296, 4868, 5282, 7634)
ENCR_AES_CBC, ENCR_AES_GCM_16, ENCR_CHACHA20_POLY1305 = 12, 20, 28
PRF_HASH = {2: hashlib.sha1, 5: hashlib.sha256, 6: hashlib.sha384, 7: hashlib.sha512}
INTEG_HASH = {12: hashlib.sha256, 13: hashlib.sha384, 14: hashlib.sha512}  # AUTH_HMAC_SHA2_*


def det(label, n):
    """n deterministic pseudo-random octets named by label."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def prf(prf_id, key, data):
    return hmac.new(key, data, PRF_HASH[prf_id]).digest()


def prf_plus(prf_id, key, seed, length):
    """RFC 7296 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
    out, t, n = b"", b"", 1
    while len(out) < length:
        t = prf(prf_id, key, t + seed + bytes([n]))
        out += t
        n += 1
    return out[:length]


def encr_key_len(encr, bits):
    if encr == ENCR_CHACHA20_POLY1305:
        return 32 + 4  # RFC 7634: key + salt
    return bits // 8 + (4 if encr == ENCR_AES_GCM_16 else 0)  # RFC 5282: key + salt


def integ_key_len(integ):
    return INTEG_HASH[integ]().digest_size if integ else 0


def cut(material, sizes):
    out, pos = [], 0
    for size in sizes:
        out.append(material[pos:pos + size])
        pos += size
    return out


class Writer:
    def __init__(self):
        self.lines = []

    def record(self, kind, fields):
        self.lines.append(f"[{kind}]")
        for key, value in fields:
            if isinstance(value, bytes):
                value = value.hex()
            self.lines.append(f"{key} = {value}")
        self.lines.append("")

    def text(self):
        return "\n".join(self.lines)


# ---- IKE SA keys (RFC 7296 2.14) and rekeyed IKE SA keys (2.18) ---------------------------------
IKE_SUITES = [  # name, encr, key bits, integ, prf, len(Ni), len(Nr), len(g^ir)
    ("aes128gcm16-prfsha256-x25519", ENCR_AES_GCM_16, 128, 0, 5, 32, 32, 32),
    ("aes256gcm16-prfsha384-ecp384", ENCR_AES_GCM_16, 256, 0, 6, 48, 40, 48),
    ("aes256-sha256-modp2048", ENCR_AES_CBC, 256, 12, 5, 32, 32, 256),
    ("aes128-sha256-prfsha256-ecp256", ENCR_AES_CBC, 128, 12, 5, 16, 64, 32),
    ("chacha20poly1305-prfsha256-x25519", ENCR_CHACHA20_POLY1305, 0, 0, 5, 32, 32, 32),
    ("aes256-sha384-modp3072", ENCR_AES_CBC, 256, 13, 6, 64, 64, 384),
    ("aes256-sha512-prfsha512-ecp256", ENCR_AES_CBC, 256, 14, 7, 24, 32, 32),
]


def ike_sa_keys(prf_id, encr, bits, integ, skeyseed, ni, nr, spi_i, spi_r):
    p = PRF_HASH[prf_id]().digest_size
    sizes = [p, integ_key_len(integ), integ_key_len(integ), encr_key_len(encr, bits),
             encr_key_len(encr, bits), p, p]
    material = prf_plus(prf_id, skeyseed, ni + nr + spi_i + spi_r, sum(sizes))
    return zip(["sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr"], cut(material, sizes))


def suite_fields(encr, bits, integ, prf_id):
    return [("encr", encr), ("encr_key_bits", bits), ("integ", integ), ("prf", prf_id)]


def ike_vectors(w):
    for name, encr, bits, integ, prf_id, ni_len, nr_len, gir_len in IKE_SUITES:
        ni, nr, g_ir = det(name + "/ni", ni_len), det(name + "/nr", nr_len), det(name + "/gir", gir_len)
        spi_i, spi_r = det(name + "/spii", 8), det(name + "/spir", 8)
        skeyseed = prf(prf_id, ni + nr, g_ir)  # SKEYSEED = prf(Ni | Nr, g^ir)
        keys = ike_sa_keys(prf_id, encr, bits, integ, skeyseed, ni, nr, spi_i, spi_r)
        w.record("ike_sa", [("name", name)] + suite_fields(encr, bits, integ, prf_id) +
                 [("ni", ni), ("nr", nr), ("g_ir", g_ir), ("spi_i", spi_i), ("spi_r", spi_r),
                  ("skeyseed", skeyseed)] + list(keys))


def rekey_vectors(w):
    # old SA (PRF old_prf, SK_d) -> new SA with another suite, new nonces, new SPIs, new g^ir
    cases = [("rekey-sha256-to-sha384", 5, IKE_SUITES[1]), ("rekey-sha512-to-sha256", 7, IKE_SUITES[2])]
    for name, old_prf, (_, encr, bits, integ, prf_id, ni_len, nr_len, gir_len) in cases:
        old_sk_d = det(name + "/old_sk_d", PRF_HASH[old_prf]().digest_size)
        ni, nr, g_ir = det(name + "/ni", ni_len), det(name + "/nr", nr_len), det(name + "/gir", gir_len)
        spi_i, spi_r = det(name + "/spii", 8), det(name + "/spir", 8)
        skeyseed = prf(old_prf, old_sk_d, g_ir + ni + nr)  # prf(SK_d (old), g^ir (new) | Ni | Nr)
        keys = ike_sa_keys(prf_id, encr, bits, integ, skeyseed, ni, nr, spi_i, spi_r)
        w.record("ike_rekey", [("name", name), ("old_prf", old_prf), ("old_sk_d", old_sk_d)] +
                 suite_fields(encr, bits, integ, prf_id) +
                 [("ni", ni), ("nr", nr), ("g_ir", g_ir), ("spi_i", spi_i), ("spi_r", spi_r),
                  ("skeyseed", skeyseed)] + list(keys))


# ---- Child SA KEYMAT (RFC 7296 2.17) ---------------------------------------------------------------
def child_vectors(w):
    cases = [  # name, prf, encr, bits, integ, len(g^ir new) (0: no PFS)
        ("esp-aes128gcm16", 5, ENCR_AES_GCM_16, 128, 0, 0),
        ("esp-aes256gcm16-x25519", 6, ENCR_AES_GCM_16, 256, 0, 32),
        ("esp-aes256-sha256", 5, ENCR_AES_CBC, 256, 12, 0),
        ("esp-aes128-sha256-modp2048", 5, ENCR_AES_CBC, 128, 12, 256),
        ("esp-aes256-sha512", 7, ENCR_AES_CBC, 256, 14, 0),
        ("esp-chacha20poly1305", 5, ENCR_CHACHA20_POLY1305, 0, 0, 0),
    ]
    for name, prf_id, encr, bits, integ, gir_len in cases:
        sk_d = det(name + "/sk_d", PRF_HASH[prf_id]().digest_size)
        ni, nr, g_ir = det(name + "/ni", 32), det(name + "/nr", 32), det(name + "/gir", gir_len)
        e, a = encr_key_len(encr, bits), integ_key_len(integ)
        material = prf_plus(prf_id, sk_d, g_ir + ni + nr, 2 * (e + a))
        ei, ai, er, ar = cut(material, [e, a, e, a])  # i->r encr, i->r integ, r->i encr, r->i integ
        w.record("child_sa", [("name", name), ("prf", prf_id), ("encr", encr), ("encr_key_bits", bits),
                              ("integ", integ), ("sk_d", sk_d), ("g_ir", g_ir), ("ni", ni), ("nr", nr),
                              ("encr_i", ei), ("integ_i", ai), ("encr_r", er), ("integ_r", ar)])


# ---- SK payload (RFC 7296 3.14, RFC 5282, RFC 7634) -------------------------------------------------
def sk_message(encr, bits, integ, encr_key, integ_key, iv, plaintext, inner=None):
    """The whole IKE_AUTH request: header, SK generic header, IV, ciphertext, ICV. `inner`
    replaces payloads | padding | Pad Length, to build malformed messages."""
    aead = encr != ENCR_AES_CBC
    if aead:
        pad = b""  # RFC 5282 / 7634: no alignment needed; Pad Length octet only
        icv_len = 16
    else:
        pad = bytes((16 - (len(plaintext) + 1) % 16) % 16)
        icv_len = integ_key_len(integ) // 2
    if inner is None:
        inner = plaintext + pad + bytes([len(pad)])
    sk_len = 4 + len(iv) + len(inner) + icv_len
    spi_i, spi_r = bytes.fromhex("0102030405060708"), bytes.fromhex("1112131415161718")
    # next payload SK (46), version 2.0, exchange IKE_AUTH (35), Initiator flag, message ID 1
    header = spi_i + spi_r + struct.pack(">BBBBII", 46, 0x20, 35, 0x08, 1, 28 + sk_len)
    sk_header = struct.pack(">BBH", 35, 0, sk_len)  # first inner payload: IDi (35)
    prefix = header + sk_header
    if aead:
        key, salt = encr_key[:-4], encr_key[-4:]
        nonce = salt + iv
        box = ChaCha20Poly1305(key) if encr == ENCR_CHACHA20_POLY1305 else AESGCM(key)
        sealed = box.encrypt(nonce, inner, prefix)  # ciphertext | 16-octet tag; AAD = header .. SK header
        return prefix, prefix + iv + sealed
    enc = Cipher(algorithms.AES(encr_key), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(inner) + enc.finalize()
    covered = prefix + iv + ciphertext
    icv = hmac.new(integ_key, covered, INTEG_HASH[integ]).digest()[:icv_len]
    return prefix, covered + icv


def sk_vectors(w):
    cases = [  # name, encr, key bits, integ, plaintext lengths
        ("aes128gcm16", ENCR_AES_GCM_16, 128, 0, [0, 1, 44, 100]),
        ("aes256gcm16", ENCR_AES_GCM_16, 256, 0, [15, 64]),
        ("chacha20poly1305", ENCR_CHACHA20_POLY1305, 0, 0, [12, 77]),
        ("aes128-sha256", ENCR_AES_CBC, 128, 12, [1, 15, 16, 31, 100]),
        ("aes256-sha384", ENCR_AES_CBC, 256, 13, [15, 48]),
        ("aes256-sha512", ENCR_AES_CBC, 256, 14, [0, 33]),
    ]
    for name, encr, bits, integ, lengths in cases:
        encr_key = det(name + "/sk_e", encr_key_len(encr, bits))
        integ_key = det(name + "/sk_a", integ_key_len(integ))
        iv = det(name + "/iv", 16 if encr == ENCR_AES_CBC else 8)
        for n in lengths:
            plaintext = det(f"{name}/plaintext/{n}", n)
            prefix, message = sk_message(encr, bits, integ, encr_key, integ_key, iv, plaintext)
            w.record("sk", [("name", f"{name}/{n}"), ("encr", encr), ("encr_key_bits", bits), ("integ", integ),
                            ("encr_key", encr_key), ("integ_key", integ_key), ("iv", iv), ("prefix", prefix),
                            ("plaintext", plaintext), ("message", message)])
        # Authentic, but the Pad Length points before the start of the inner payloads.
        bad_inner = det(name + "/bad", 15) + bytes([16])
        prefix, message = sk_message(encr, bits, integ, encr_key, integ_key, iv, b"", bad_inner)
        w.record("sk_bad_pad", [("name", name), ("encr", encr), ("encr_key_bits", bits), ("integ", integ),
                                ("encr_key", encr_key), ("integ_key", integ_key), ("prefix", prefix),
                                ("message", message)])


# ---- AUTH with a shared key (RFC 7296 2.15) ------------------------------------------------------
def psk_vectors(w):
    for name, prf_id in [("psk-sha256", 5), ("psk-sha384", 6), ("psk-sha512", 7)]:
        sk_p = det(name + "/sk_p", PRF_HASH[prf_id]().digest_size)
        real_message = det(name + "/message", 300)
        peer_nonce = det(name + "/nonce", 32)
        id_body = bytes([2, 0, 0, 0]) + b"gw-a.example.net"  # ID_FQDN, 3 reserved octets, data
        psk = b"correct horse battery staple"
        signed_octets = real_message + peer_nonce + prf(prf_id, sk_p, id_body)
        auth = prf(prf_id, prf(prf_id, psk, b"Key Pad for IKEv2"), signed_octets)
        w.record("psk_auth", [("name", name), ("prf", prf_id), ("sk_p", sk_p), ("real_message", real_message),
                              ("peer_nonce", peer_nonce), ("id_body", id_body), ("psk", psk),
                              ("signed_octets", signed_octets), ("auth", auth)])


# ---- NAT detection (RFC 7296 2.23) and cookies (2.6) ----------------------------------------------
def nat_vectors(w):
    cases = [("0123456789abcdef", "0000000000000000", "192.0.2.1", 500),
             ("0123456789abcdef", "fedcba9876543210", "198.51.100.7", 4500),
             ("8000000000000001", "00000000000000ff", "2001:db8::1", 500)]
    for spi_i, spi_r, ip, port in cases:
        packed_ip = ipaddress.ip_address(ip).packed
        digest = hashlib.sha1(bytes.fromhex(spi_i) + bytes.fromhex(spi_r) + packed_ip + struct.pack(">H", port)).digest()
        w.record("nat", [("spi_i", spi_i), ("spi_r", spi_r), ("ip", ip), ("port", port), ("hash", digest)])


def cookie_vectors(w):
    for version, ip in [(7, "203.0.113.9"), (200, "2001:db8:1::5")]:
        secret = det(f"cookie/{version}/secret", 32)
        ni = det(f"cookie/{version}/ni", 32)
        spi_i = det(f"cookie/{version}/spii", 8)
        cookie = bytes([version]) + hashlib.sha256(ni + ipaddress.ip_address(ip).packed + spi_i + secret).digest()
        w.record("cookie", [("version", version), ("secret", secret), ("ni", ni), ("ip", ip), ("spi_i", spi_i),
                            ("cookie", cookie)])


# ---- MODP (RFC 3526) --------------------------------------------------------------------------------
def pi_fixed(bits):
    """floor(pi * 2^bits), by Machin's formula in integer arithmetic with guard bits."""
    guard = 64
    one = 1 << (bits + guard)

    def arctan_inv(x):
        total, term, n, sign = 0, one // x, 1, 1
        while term:
            total += sign * (term // n)
            term //= x * x
            n += 2
            sign = -sign
        return total

    return (16 * arctan_inv(5) - 4 * arctan_inv(239)) >> guard


def rfc3526_prime(bits, pi_bits, offset):
    """p = 2^bits - 2^(bits-64) - 1 + 2^64 * ( [2^pi_bits pi] + offset ), RFC 3526 sections 3 and 4."""
    return 2 ** bits - 2 ** (bits - 64) - 1 + 2 ** 64 * (pi_fixed(pi_bits) + offset)


def modp_vectors(w):
    for group, bits, pi_bits, offset in [(14, 2048, 1918, 124476), (15, 3072, 2942, 1690314)]:
        p = rfc3526_prime(bits, pi_bits, offset)
        q = (p - 1) // 2
        # A wrong digit of pi would not give a safe prime: Fermat-check p and q, and g = 2's order.
        assert pow(3, p - 1, p) == 1 and pow(3, q - 1, q) == 1 and pow(2, q, p) == 1
        size = bits // 8
        xa = int.from_bytes(det(f"modp{bits}/xa", 32), "big")
        # Pick xb so that g^ir has a leading zero octet: it must still be sent padded (RFC 7296 2.14).
        attempt = 0
        while True:
            xb = int.from_bytes(det(f"modp{bits}/xb/{attempt}", 32), "big")
            shared = pow(pow(2, xb, p), xa, p)
            if shared < 1 << (8 * (size - 1)):
                break
            attempt += 1
        w.record("modp", [("group", group), ("prime", p.to_bytes(size, "big")),
                          ("xa", xa.to_bytes(32, "big")), ("xb", xb.to_bytes(32, "big")),
                          ("pub_a", pow(2, xa, p).to_bytes(size, "big")), ("pub_b", pow(2, xb, p).to_bytes(size, "big")),
                          ("shared", shared.to_bytes(size, "big"))])


def main():
    w = Writer()
    w.lines.append("# Generated by gen_vectors.py; do not edit. Records: [kind], then name = value (hex for octets).")
    w.lines.append("")
    for section in (ike_vectors, rekey_vectors, child_vectors, sk_vectors, psk_vectors, nat_vectors, cookie_vectors,
                    modp_vectors):
        section(w)
    text = w.text()
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            if f.read() != text:
                print(f"{sys.argv[2]} differs from what gen_vectors.py generates; regenerate it", file=sys.stderr)
                return 1
        print("vectors up to date")
        return 0
    if len(sys.argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
