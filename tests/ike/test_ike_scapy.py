#!/usr/bin/python3
"""dpvpn_ike_message against scapy's IKEv2 layer (an independent implementation), both ways:
 1. scapy builds messages, ike_message_tool parses them: every field must be what scapy dissects
    from the same bytes (for the malformed ones: the error RFC 7296 asks for);
 2. ike_message_tool encodes messages, scapy dissects them: every field must be what was encoded.
Both sides print the same JSON shape (see ike_message_tool).
usage: test_ike_scapy.py path/to/ike_message_tool"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile

from scapy.contrib.ikev2 import (IKEv2, ConfigurationAttribute, IKEv2_payload, IKEv2_payload_AUTH,
                                 IKEv2_payload_CERT_STR, IKEv2_payload_CERTREQ, IKEv2_payload_CP,
                                 IKEv2_payload_Delete, IKEv2_payload_Encrypted,
                                 IKEv2_payload_Encrypted_Fragment, IKEv2_payload_IDi, IKEv2_payload_IDr,
                                 IKEv2_payload_KE, IKEv2_payload_Nonce, IKEv2_payload_Notify,
                                 IKEv2_payload_Proposal, IKEv2_payload_SA, IKEv2_payload_Transform,
                                 IKEv2_payload_TSi, IKEv2_payload_TSr, IKEv2_payload_VendorID,
                                 IPv4TrafficSelector, IPv6TrafficSelector)
from scapy.packet import NoPayload

SK, SKF = 46, 53
IPV4_VALUE_ATTRIBUTES = (1, 2, 3, 4, 6, 20)  # the CP attributes scapy dissects as an IPv4 address
IPV6_VALUE_ATTRIBUTES = (10, 12, 21)


def ip_bytes(value):
    """scapy gives address fields as text; the tool gives octets."""
    return socket.inet_pton(socket.AF_INET6 if ":" in value else socket.AF_INET, value)


def transforms(t):
    out = []
    while isinstance(t, IKEv2_payload_Transform):
        d = {"type": t.transform_type, "id": t.transform_id}
        if t.length > 8:  # scapy knows one attribute, Key Length, and shows only its value
            assert t.length == 12 and bytes(t)[8:10] == b"\x80\x0e", "not a Key Length attribute"
            d["key_length"] = t.key_length
        out.append(d)
        t = t.payload
    assert isinstance(t, NoPayload), f"transform chain ends in {t!r}"
    return out


def proposals(p):
    out = []
    while isinstance(p, IKEv2_payload_Proposal):
        assert p.trans_nb == len(transforms(p.trans)), "Num Transforms"
        out.append({"number": p.proposal, "protocol": p.proto, "spi": bytes(p.SPI).hex(),
                    "transforms": transforms(p.trans)})
        p = p.payload
    assert isinstance(p, NoPayload), f"proposal chain ends in {p!r}"
    return out


def selectors(p):
    out = []
    for ts in p.traffic_selector:
        v4 = isinstance(ts, IPv4TrafficSelector)
        assert v4 or isinstance(ts, IPv6TrafficSelector), repr(ts)
        start, end = (ts.starting_address_v4, ts.ending_address_v4) if v4 else (ts.starting_address_v6,
                                                                                ts.ending_address_v6)
        out.append({"ts_type": ts.TS_type, "ip_protocol": ts.IP_protocol_ID, "start_port": ts.start_port,
                    "end_port": ts.end_port, "start": ip_bytes(start).hex(), "end": ip_bytes(end).hex()})
    return out


def cp_value(a):
    if a.length == 4 and a.type in IPV4_VALUE_ATTRIBUTES or a.length == 16 and a.type in IPV6_VALUE_ATTRIBUTES:
        return ip_bytes(a.value).hex()
    return bytes(a.value).hex()


def payload_fields(t, p):
    """The tool's JSON fields of a payload of type t from scapy's layer p."""
    if t == 33:
        return {"proposals": proposals(p.prop)}
    if t == 34:
        return {"group": p.group, "data": p.load.hex()}
    if t in (35, 36):
        data = ip_bytes(p.ID) if p.IDtype in (1, 5) else bytes(p.ID)
        return {"id_type": p.IDtype, "data": data.hex()}
    if t == 37:
        assert isinstance(p, IKEv2_payload_CERT_STR), repr(p)
        return {"encoding": p.cert_type, "data": p.cert_data.hex()}
    if t == 38:
        return {"encoding": p.cert_type, "data": p.cert_data.hex()}
    if t == 39:
        return {"method": p.auth_type, "data": p.load.hex()}
    if t == 40:
        return {"data": p.load.hex()}
    if t == 41:
        assert p.SPIsize == 0, "scapy's Notify leaves the SPI out of its length: only SPI-less ones here"
        return {"protocol": p.proto, "spi": "", "notify_type": p.type, "data": p.load.hex()}
    if t == 42:
        # scapy's Delete class is a copy of Vendor ID (one opaque field): the body is read here.
        body = p.vendorID
        protocol, spi_size, count = struct.unpack("!BBH", body[:4])
        assert len(body) == 4 + spi_size * count, "Delete SPI count"
        return {"protocol": protocol, "spis": list(struct.unpack(f"!{count}I", body[4:])) if spi_size else []}
    if t == 43:
        return {"data": p.vendorID.hex()}
    if t in (44, 45):
        assert p.number_of_TSs == len(p.traffic_selector)
        return {"selectors": selectors(p)}
    if t == SK:
        return {"first_inner": p.next_payload, "body": p.load.hex()}
    if t == 47:
        return {"cfg_type": p.CFGType, "attributes": [{"type": a.type, "value": cp_value(a)} for a in p.attributes]}
    if t == 48:  # scapy has no EAP class: a generic payload
        return {"data": p.load.hex()}
    if t == SKF:
        return {"first_inner": p.next_payload, "fragment": p.frag_number, "total": p.frag_total,
                "body": p.load.hex()}
    assert type(p) is IKEv2_payload, f"payload type {t} dissected as {type(p).__name__}"
    return {"critical": bool(int(p.flags) & 0x80), "body": p.load.hex()}


def describe(raw):
    """scapy's dissection of a message, in the tool's JSON shape."""
    pkt = IKEv2(raw)
    header = {"ispi": bytes(pkt.init_SPI).hex(), "rspi": bytes(pkt.resp_SPI).hex(), "next": pkt.next_payload,
              "major": pkt.version >> 4, "minor": pkt.version & 0xF, "exchange": pkt.exch_type,
              "flags": int(pkt.flags), "message_id": pkt.id, "length": pkt.length}
    payloads = []
    t, layer = pkt.next_payload, pkt.payload
    while t != 0:
        payloads.append({"type": t, **payload_fields(t, layer)})
        if t in (SK, SKF):  # their Next Payload names the first inner payload, not a following one
            break
        t, layer = layer.next_payload, layer.payload
    else:
        assert isinstance(layer, NoPayload), f"bytes after the last payload: {layer!r}"
    return {"header": header, "payloads": payloads}


def pattern(n, seed):
    return bytes((seed + 7 * i) & 0xFF for i in range(n))


def hdr(next_payload, exch_type=34, flags=0x08, msg_id=0, version=0x20):
    return IKEv2(init_SPI=pattern(8, 0x11), resp_SPI=bytes(8) if exch_type == 34 else pattern(8, 0x99),
                 next_payload=next_payload, version=version, exch_type=exch_type, flags=flags, id=msg_id)


def transform(next_payload, transform_type, transform_id, key_length=None):
    if key_length is None:
        return IKEv2_payload_Transform(next_payload=next_payload, transform_type=transform_type,
                                       transform_id=transform_id)
    return IKEv2_payload_Transform(next_payload=next_payload, transform_type=transform_type,
                                   transform_id=transform_id, length=12, key_length=key_length)


def ike_proposal(next_payload, number, trans_nb=4):
    return IKEv2_payload_Proposal(next_payload=next_payload, proposal=number, proto=1, trans_nb=trans_nb, trans=(
        transform(3, 1, 12, 256) / transform(3, 2, 5) / transform(3, 3, 12) / transform(0, 4, 19)))


def attr(t, value=b""):
    length = 0 if value == b"" else len(value) if isinstance(value, bytes) else len(ip_bytes(value))
    return ConfigurationAttribute(type=t, length=length, value=value)


def cp(next_payload, cfg_type, attributes):
    """scapy's CP length names a field it does not have: computed here."""
    return IKEv2_payload_CP(next_payload=next_payload, length=8 + sum(len(bytes(a)) for a in attributes),
                            CFGType=cfg_type, attributes=attributes)


def scapy_cases():
    """(name, message bytes, expected error or None). Next Payload fields are set by hand: scapy's
    automatic chaining gets several payload types wrong (CP claims 46, CERT variants none)."""
    init_request = (
        hdr(33) /
        IKEv2_payload_SA(next_payload=34, prop=ike_proposal(2, 1) / IKEv2_payload_Proposal(
            next_payload=0, proposal=2, proto=1, trans_nb=3,
            trans=transform(3, 1, 20, 128) / transform(3, 2, 7) / transform(0, 4, 31))) /
        IKEv2_payload_KE(next_payload=40, group=19, load=pattern(64, 1)) /
        IKEv2_payload_Nonce(next_payload=41, load=pattern(32, 2)) /
        IKEv2_payload_Notify(next_payload=41, proto=0, type=16388, load=pattern(20, 3)) /
        IKEv2_payload_Notify(next_payload=41, proto=0, type=16389, load=pattern(20, 4)) /
        IKEv2_payload_Notify(next_payload=43, proto=0, type=16430) /
        IKEv2_payload_VendorID(next_payload=0, vendorID=b"strongSwan-ish"))
    init_response = (
        hdr(33, flags=0x20) /
        IKEv2_payload_SA(next_payload=34, prop=ike_proposal(0, 1)) /
        IKEv2_payload_KE(next_payload=40, group=19, load=pattern(64, 5)) /
        IKEv2_payload_Nonce(next_payload=38, load=pattern(256, 6)) /
        IKEv2_payload_CERTREQ(next_payload=41, cert_type=4, cert_data=pattern(40, 7)) /
        IKEv2_payload_Notify(next_payload=0, proto=0, type=16431, load=bytes.fromhex("000200030004")))
    fqdn = b"gw-a.example.net"
    hash_and_url = pattern(20, 8) + b"http://ca.example.net/gw-a.der"
    auth_content = (
        hdr(35, exch_type=35, msg_id=1) /
        IKEv2_payload_IDi(next_payload=37, length=8 + len(fqdn), IDtype=2, ID=fqdn) /
        IKEv2_payload_CERT_STR(next_payload=39, cert_type=12, cert_data=hash_and_url) /
        IKEv2_payload_AUTH(next_payload=41, auth_type=2, load=pattern(32, 9)) /
        IKEv2_payload_Notify(next_payload=47, proto=0, type=16384) /
        cp(33, 1, [attr(1), attr(3), attr(8), attr(7, b"dpvpn")]) /
        IKEv2_payload_SA(next_payload=44, prop=IKEv2_payload_Proposal(
            next_payload=0, proposal=1, proto=3, SPIsize=4, SPI=bytes.fromhex("c0000a01"), trans_nb=2,
            trans=transform(3, 1, 20, 256) / transform(0, 5, 0))) /
        IKEv2_payload_TSi(next_payload=45, traffic_selector=[
            IPv4TrafficSelector(IP_protocol_ID=0, starting_address_v4="10.1.0.0", ending_address_v4="10.1.0.255"),
            # scapy's default Selector Length for IPv6 is 20; RFC 7296 §3.13.1 makes it 40.
            IPv6TrafficSelector(length=40, IP_protocol_ID=6, start_port=443, end_port=443,
                                starting_address_v6="fd01::", ending_address_v6="fd01::ffff")]) /
        IKEv2_payload_TSr(next_payload=36, traffic_selector=[
            IPv4TrafficSelector(IP_protocol_ID=17, start_port=53, end_port=53, starting_address_v4="10.2.0.9",
                                ending_address_v4="10.2.0.9")]) /
        IKEv2_payload_IDr(next_payload=48, length=12, IDtype=1, ID="192.0.2.2") /
        IKEv2_payload(next_payload=0, load=bytes.fromhex("0107000501")))  # EAP: scapy has no class for it
    cp_reply = (
        hdr(47, exch_type=35, flags=0x20, msg_id=1) /
        cp(0, 2, [attr(1, "10.9.0.5"), attr(2, "255.255.255.0"), attr(10, "fd00::53")]))
    encrypted = hdr(SK, exch_type=35, msg_id=1) / IKEv2_payload_Encrypted(next_payload=35, load=pattern(96, 10))
    fragment = (hdr(SKF, exch_type=35, msg_id=1) /
                IKEv2_payload_Encrypted_Fragment(next_payload=0, frag_number=2, frag_total=3, load=pattern(60, 11)))
    deletes = (
        hdr(42, exch_type=37, flags=0x20, msg_id=9) /
        IKEv2_payload_Delete(next_payload=42, vendorID=struct.pack("!BBHII", 3, 4, 2, 0xC0000001, 0xC0000002)) /
        IKEv2_payload_Delete(next_payload=0, vendorID=struct.pack("!BBH", 1, 0, 0)))
    unknown = (hdr(200, exch_type=37, msg_id=2) / IKEv2_payload(next_payload=40, flags=0, load=b"ignore me") /
               IKEv2_payload_Nonce(next_payload=0, load=pattern(16, 12)))
    return [
        ("ike_sa_init_request", bytes(init_request), None),
        ("ike_sa_init_response", bytes(init_response), None),
        ("ike_auth_content", bytes(auth_content), None),
        ("cp_reply", bytes(cp_reply), None),
        ("sk", bytes(encrypted), None),
        ("skf", bytes(fragment), None),
        ("deletes", bytes(deletes), None),
        ("unknown_non_critical", bytes(unknown), None),
        ("unknown_critical", bytes(hdr(200) / IKEv2_payload(next_payload=0, flags=0x80, load=b"understand me")),
         {"error": "UNSUPPORTED_CRITICAL_PAYLOAD", "payload_type": 200}),
        ("major_version_3", bytes(hdr(40, version=0x30) / IKEv2_payload_Nonce(next_payload=0, load=pattern(16, 0))),
         {"error": "INVALID_MAJOR_VERSION", "payload_type": 0}),
        ("num_transforms_5_of_4", bytes(hdr(33) / IKEv2_payload_SA(next_payload=0, prop=ike_proposal(0, 1, 5))),
         {"error": "INVALID_SYNTAX", "payload_type": 33}),
        ("ipv4_selector_length_20", bytes(hdr(44) / IKEv2_payload_TSi(next_payload=0, traffic_selector=[
            IPv4TrafficSelector(length=20, starting_address_v4="10.0.0.0", ending_address_v4="10.0.0.9")])),
         {"error": "INVALID_SYNTAX", "payload_type": 44}),
        ("short_nonce", bytes(hdr(40) / IKEv2_payload_Nonce(next_payload=0, load=pattern(8, 0))),
         {"error": "INVALID_SYNTAX", "payload_type": 40}),
    ]


def run(tool, *args):
    return [json.loads(line) for line in subprocess.run([tool, *args], check=True, capture_output=True,
                                                        text=True).stdout.splitlines()]


def main(tool):
    failures = []
    cases = scapy_cases()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, raw, _ in cases:
            paths.append(os.path.join(tmp, name + ".bin"))
            with open(paths[-1], "wb") as f:
                f.write(raw)
        parsed = run(tool, "describe", *paths)
    for (name, raw, expected_error), got in zip(cases, parsed, strict=True):
        if expected_error is None:
            want = describe(raw)
        else:
            want = expected_error
            got = {k: got.get(k) for k in want}
        ok = got == want
        print(f"scapy -> dpvpn  {name:24} {'ok' if ok else 'MISMATCH'}  ({len(raw)} bytes)")
        if not ok:
            failures.append(f"{name}:\n  dpvpn: {json.dumps(got)}\n  scapy: {json.dumps(want)}")

    encoded = run(tool, "encode")
    for sample in encoded:
        raw = bytes.fromhex(sample["hex"])
        try:
            dissected = describe(raw)
        except AssertionError as e:
            dissected = f"scapy could not dissect it: {e}"
        ok = dissected == sample["message"]
        print(f"dpvpn -> scapy  {sample['name']:24} {'ok' if ok else 'MISMATCH'}  ({len(raw)} bytes)")
        if not ok:
            failures.append(f"{sample['name']}:\n  encoded: {json.dumps(sample['message'])}\n"
                            f"  scapy:   {json.dumps(dissected)}")
    if len(encoded) < 5:
        failures.append(f"the tool encoded {len(encoded)} samples, expected 5")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
