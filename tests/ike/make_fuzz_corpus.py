#!/usr/bin/python3
"""Writes the seeds of fuzz_ike_message to tests/fuzz/ike_corpus/: the messages test_ike_scapy.py
builds with scapy (valid and malformed), each valid one's payload chain as a chain seed (first byte:
the first payload type), and, given ike_message_tool, the messages dpvpn encodes.
usage: make_fuzz_corpus.py [path/to/ike_message_tool]"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_ike_scapy import scapy_cases  # noqa: E402

HEADER_SIZE = 28
NEXT_PAYLOAD_OFFSET = 16


def main(tool=None):
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "ike_corpus")
    os.makedirs(out_dir, exist_ok=True)
    seeds = {}
    for name, raw, error in scapy_cases():
        seeds[f"scapy-{name}"] = raw
        if error is None:
            seeds[f"chain-{name}"] = raw[NEXT_PAYLOAD_OFFSET:NEXT_PAYLOAD_OFFSET + 1] + raw[HEADER_SIZE:]
    if tool:
        lines = subprocess.run([tool, "encode"], check=True, capture_output=True, text=True).stdout.splitlines()
        for sample in map(json.loads, lines):
            seeds[f"dpvpn-{sample['name']}"] = bytes.fromhex(sample["hex"])
    for name, raw in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(raw)
    print(f"{len(seeds)} seeds in {os.path.normpath(out_dir)}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
