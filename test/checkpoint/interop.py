"""Reads and writes resumable-pipeline step files with Python's msgpack, from
FORMAT.md alone: its own CRC32C, its own ext decoding. Used by interop.test.ts.

  interop.py read FILE EXPECTED.json   check a file the package wrote
  interop.py write FILE                write a file for the package to restore;
                                       prints the tagged form of its state

Values are compared in a tagged JSON form that both sides produce:
  {"i": "12"} integer   {"f": "<float64 bits, hex>"} float   {"big": "-5"} bigint
  {"s": "..."} string   {"b": true} boolean   null
  {"ta": "Float32Array", "v": [...]} TypedArray (elements tagged the same way)
  {"a": [...]} array    {"m": [[key, value], ...]} map (in key order)
"""
import json
import math
import struct
import sys
import time

import msgpack

FORMAT = "resumable-pipeline/step"
EXT_TYPED_ARRAY = 1
EXT_BIGINT = 2
# dtype code -> (TypedArray name, struct format character)
DTYPES = [
    ("Int8Array", "b"), ("Uint8Array", "B"), ("Uint8ClampedArray", "B"), ("Int16Array", "h"),
    ("Uint16Array", "H"), ("Int32Array", "i"), ("Uint32Array", "I"), ("Float32Array", "f"),
    ("Float64Array", "d"), ("BigInt64Array", "q"), ("BigUint64Array", "Q"),
]


def _crc32c_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class TypedArray:
    def __init__(self, kind, values):
        self.kind = kind
        self.values = list(values)


class BigInt:
    def __init__(self, value):
        self.value = value


def ext_hook(code, data):
    if code == EXT_TYPED_ARRAY:
        kind, fmt = DTYPES[data[0]]
        size = struct.calcsize(fmt)
        body = data[1:]
        if len(body) % size:
            raise ValueError("partial element in %s" % kind)
        return TypedArray(kind, struct.unpack("<%d%s" % (len(body) // size, fmt), body))
    if code == EXT_BIGINT:
        sign, magnitude = data[0], data[1:]
        if sign not in (0, 1) or magnitude[:1] == b"\x00" or (sign == 1 and not magnitude):
            raise ValueError("non-canonical bigint ext")
        value = int.from_bytes(magnitude, "big")
        return BigInt(-value if sign else value)
    return msgpack.ExtType(code, data)


def default(value):
    if isinstance(value, TypedArray):
        code = [name for name, _ in DTYPES].index(value.kind)
        fmt = DTYPES[code][1]
        return msgpack.ExtType(EXT_TYPED_ARRAY, bytes([code]) + struct.pack("<%d%s" % (len(value.values), fmt), *value.values))
    if isinstance(value, BigInt):
        magnitude = abs(value.value)
        body = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
        return msgpack.ExtType(EXT_BIGINT, bytes([1 if value.value < 0 else 0]) + body)
    raise TypeError("cannot store %r" % (value,))


def tag(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, float):
        return {"f": struct.pack(">d", value).hex()}
    if isinstance(value, str):
        return {"s": value}
    if isinstance(value, BigInt):
        return {"big": str(value.value)}
    if isinstance(value, TypedArray):
        return {"ta": value.kind, "v": [tag(v) for v in value.values]}
    if isinstance(value, list):
        return {"a": [tag(v) for v in value]}
    if isinstance(value, dict):
        return {"m": [[k, tag(v)] for k, v in value.items()]}
    raise TypeError("unexpected %r" % (value,))


def read(path, expected_path):
    data = open(path, "rb").read()
    envelope = msgpack.unpackb(data, raw=False)
    assert list(envelope)[-1] == "crc32c", "crc32c must be the last key: %r" % list(envelope)
    assert data[-5] == 0xCE, "the crc32c value must be a msgpack uint32"
    assert envelope["crc32c"] == struct.unpack(">I", data[-4:])[0]
    computed = crc32c(data[:-4])
    assert computed == envelope["crc32c"], "CRC32C mismatch: %08x != %08x" % (computed, envelope["crc32c"])
    assert envelope["format"] == FORMAT and envelope["version"] == 1, envelope
    expected = json.load(open(expected_path))
    got = {
        "step": envelope["step"],
        "state": tag(msgpack.unpackb(envelope["payload"], raw=False, ext_hook=ext_hook, strict_map_key=True)),
        "metadata": tag(msgpack.unpackb(envelope["metadata"], raw=False, ext_hook=ext_hook, strict_map_key=True)),
    }
    for key in ("step", "state", "metadata"):
        if got[key] != expected[key]:
            print("MISMATCH in %s:\n  python: %s\n  node:   %s" % (key, json.dumps(got[key]), json.dumps(expected[key])))
            return 1
    # A check that the floats really are IEEE doubles as written (not just equal bits by luck).
    state = msgpack.unpackb(envelope["payload"], raw=False, ext_hook=ext_hook)
    assert math.copysign(1.0, state["negativeZero"]) < 0, "-0 must arrive as -0.0"
    print("OK crc32c=%08x step=%d" % (computed, envelope["step"]))
    return 0


def write(path):
    step = 700
    state = {
        "position": 300,
        "epoch": 1,
        "negativeZero": -0.0,
        "ratio": 0.1,
        "inf": float("inf"),
        "seed": BigInt(2 ** 70 + 5),
        "debt": BigInt(-(2 ** 64)),
        "zero": BigInt(0),
        "key": TypedArray("Uint32Array", [0xDEADBEEF, 42]),
        "weights": TypedArray("Float32Array", [1.5, -0.0, float("inf"), 0.1]),
        "indices": TypedArray("Int16Array", [-1, 2, -32768]),
        "big": TypedArray("BigUint64Array", [2 ** 64 - 1, 0]),
        "signed": TypedArray("BigInt64Array", [-(2 ** 63)]),
        "bytes": TypedArray("Uint8Array", []),
        "nested": [None, True, False, "ünïcödé ✓ 𝄞", {"deep": [[], {}]}],
        "name": "python",
    }
    metadata = {"written_by": "interop.py", "loss": 0.25}
    pack = lambda value: msgpack.packb(value, use_bin_type=True, default=default)
    body = b"\x87" + b"".join(
        pack(key) + pack(value)
        for key, value in [
            ("format", FORMAT), ("version", 1), ("step", step), ("created", int(time.time() * 1000)),
            ("metadata", pack(metadata)), ("payload", pack(state)),
        ]
    ) + pack("crc32c") + b"\xce"
    with open(path, "wb") as out:
        out.write(body + struct.pack(">I", crc32c(body)))
    # Tag what the file holds (a Float32Array element is rounded to float32 there).
    written = lambda value: tag(msgpack.unpackb(pack(value), raw=False, ext_hook=ext_hook))
    print(json.dumps({"step": step, "state": written(state), "metadata": written(metadata)}))
    return 0


if __name__ == "__main__":
    command = sys.argv[1]
    sys.exit(read(sys.argv[2], sys.argv[3]) if command == "read" else write(sys.argv[2]))
