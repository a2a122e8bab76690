#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_page_file to fuzz/corpus/page_file/.

An independent implementation of the formats in core/mapped_page_file.h and
core/page_records.h, so the committed seeds also cross-check the C++ writer's
reading of the spec. Run once; the files are committed:
    fuzz/page_file_corpus.py
"""
import os
import struct

PAGE = 4096
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "page_file")


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def header(page_size, page_count, root_index, version=1, reserved=0, root_offset=None):
    if root_offset is None:
        root_offset = page_size * (root_index + 1)
    head = b"SEGSIMPF" + struct.pack("<IIQQQ", version, page_size, page_count, root_offset, reserved)
    head += struct.pack("<Q", fnv1a64(head))
    return head + bytes(16)


def records(recs):
    """recs: (slot, value bytes, dewey bytes or None)."""
    table_end = 8 + 24 * len(recs)
    payload = b""
    table = b""
    for slot, value, dewey in recs:
        value_offset = table_end + len(payload)
        payload += value
        if dewey is None:
            flags, dewey_offset, dewey_len = 0, 0, 0
        else:
            flags, dewey_offset, dewey_len = 1, table_end + len(payload), len(dewey)
            payload += dewey
        table += struct.pack("<IIIIII", slot, flags, value_offset, len(value), dewey_offset, dewey_len)
    return struct.pack("<II", len(recs), len(payload)) + table + payload


def page_file(pages, root_index, page_size=PAGE, **kw):
    out = header(page_size, len(pages), root_index, **kw).ljust(page_size, b"\0")
    for p in pages:
        assert len(p) <= page_size
        out += p.ljust(page_size, b"\0")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    one = [records([(0, b"root", b"\x01")])]
    three = [
        records([(0, b"alpha", b"\x01\x03"), (1, b"", None), (7, b"gamma-value", b"")]),
        records([(10, b"x" * 100, None), (11, b"y" * 200, b"\x01\x05\x07")]),
        b"",  # an all-zero page: no records
    ]
    files = {
        "valid_one_page": page_file(one, 0),
        "valid_three_pages_root1": page_file(three, 1),
        "valid_two_pages_root0": page_file(three[:2], 0),
        "corrupt_magic": b"SEGSIMPX" + page_file(one, 0)[8:],
        "corrupt_version": page_file(one, 0, version=2),
        "corrupt_root_misaligned": page_file(three, 0, root_offset=PAGE + 8),
        "corrupt_root_past_end": page_file(three, 0, root_offset=PAGE * 4),
        "corrupt_truncated_header": page_file(one, 0)[:40],
        "corrupt_one_byte_long": page_file(one, 0) + b"\0",
        "corrupt_checksum": page_file(one, 0)[:40] + b"\0" * 8 + page_file(one, 0)[48:],
        "corrupt_records": page_file([struct.pack("<II", 1, 4000) + bytes(24)], 0),
        "empty": b"",
    }
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} files to {OUT}")


if __name__ == "__main__":
    main()
