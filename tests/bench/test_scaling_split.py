#!/usr/bin/python3
"""bench/scaling.py's split_by_spi: the 2-SA inbound dump is split into one pcap per SA (one per worker).
Each frame must land in its SPI's file, in order, after a copy of the pcap header; a frame whose SPI has no
file is refused (a dump of other traffic must not pass for the workers' pcaps)."""
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import scaling  # noqa: E402

HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)


def frame(spi, tag):
    body = bytes(scaling.ESP_SPI_OFFSET) + struct.pack(">I", spi) + bytes([tag]) * (10 + tag)  # lengths differ
    return struct.pack("<IIII", 0, 0, len(body), len(body)) + body


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:24] == HEADER, path
    out, off = [], 24
    while off < len(data):
        n = struct.unpack_from("<I", data, off + 8)[0]
        out.append(data[off:off + 16 + n])
        off += 16 + n
    return out


def main():
    spis = (0x100000, 0x100001)
    frames = [frame(spis[i % 3 == 2], i) for i in range(9)]  # 0, 0, 1, 0, 0, 1, ...: not alternating
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "both.pcap")
        with open(src, "wb") as f:
            f.write(HEADER + b"".join(frames))
        outs = {spi: os.path.join(d, f"{spi:x}.pcap") for spi in spis}
        counts = scaling.split_by_spi(src, outs)
        assert counts == {spis[0]: 6, spis[1]: 3}, counts
        assert records(outs[spis[0]]) == [f for i, f in enumerate(frames) if i % 3 != 2]
        assert records(outs[spis[1]]) == [f for i, f in enumerate(frames) if i % 3 == 2]
        try:
            scaling.split_by_spi(src, {spis[0]: outs[spis[0]]})
        except RuntimeError as e:
            assert "0x100001" in str(e), e
        else:
            raise AssertionError("a frame of an SPI without a file was accepted")
    print("split_by_spi: ok")


if __name__ == "__main__":
    main()
