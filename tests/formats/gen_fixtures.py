#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Writes the checkpoint fixtures of tests/test-formats.c into OUTDIR:
#
#  - valid files written by torch.save (zip and legacy formats, pickle
#    protocols 1, 2 and 4), wrapped and "module."-prefixed state dicts, zips
#    rewritten by our own zip writer, and a .safetensors written by hand;
#  - for each, NAME.expect: every tensor in state_dict order with its dtype,
#    shape and float32 values (as IEEE bit patterns) computed by torch
#    (tensor.float()), which the C reader must reproduce exactly;
#  - hostile files the reader must refuse (see HOSTILE at the end).
#
# Exit status 77 means torch is not importable (the C test then skips).

import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib

try:
    import torch
except ImportError as e:  # pragma: no cover
    print(f"torch is not importable with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(77)

OUT = sys.argv[1]
torch.manual_seed(1234)


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------------------
# The reference state dict.

def reference_state_dict():
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(4, 3, 3, 3)
    sd["conv.bias"] = torch.nn.Parameter(torch.randn(4))
    # fp16 edge cases: subnormals, the smallest normal, the largest finite
    # value, signed zero, infinities, and ordinary values.
    sd["half"] = torch.cat([
        torch.tensor([5.960464477539063e-08, -5.960464477539063e-08, 6.097555160522461e-05,
                      6.103515625e-05, 65504.0, -65504.0, -0.0, 0.0,
                      float("inf"), float("-inf"), 1.0, -2.5], dtype=torch.float16),
        torch.randn(20).half()])
    sd["bf16"] = (torch.randn(5, 7) * 1000).bfloat16()
    sd["f64"] = torch.randn(6, dtype=torch.float64) / 3
    sd["i64"] = torch.tensor([-3, 0, 7, 2 ** 40 + 1, -(2 ** 53), 2 ** 62], dtype=torch.int64)
    sd["i32"] = torch.tensor([-(2 ** 31), 2 ** 31 - 1, 5], dtype=torch.int32)
    sd["i16"] = torch.tensor([-32768, 32767, -1], dtype=torch.int16)
    sd["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd["flags"] = torch.tensor([True, False, True])
    sd["transposed"] = torch.randn(3, 5).t()
    base = torch.randn(4, 6)
    sd["base"] = base
    sd["view_row"] = base[1]
    sd["view_col"] = base[:, 2]
    sd["view_block"] = base[1:3, 1:4]
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["half_transposed"] = torch.randn(2, 3).half().t()
    sd["expanded"] = torch.randn(3, 1).expand(3, 4)
    return sd


DTYPE_NAMES = {
    torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.float64: "float64", torch.int64: "int64", torch.int32: "int32",
    torch.int16: "int16", torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool",
}

SAFETENSORS_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
    torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def write_expect(name, sd):
    with open(path(name), "w") as f:
        for key, t in sd.items():
            t = t.detach()
            f.write("tensor %s %s %d%s\n" % (key, DTYPE_NAMES[t.dtype], t.dim(),
                                             "".join(" %d" % s for s in t.shape)))
            values = t.float().contiguous().flatten().tolist()
            f.write("values%s\n" % "".join(
                " %08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in values))


def save(obj, name, legacy=False, protocol=2):
    torch.save(obj, path(name), _use_new_zipfile_serialization=not legacy,
               pickle_protocol=protocol)


# ---------------------------------------------------------------------------
# A zip writer of our own, so that hostile zips differ from valid ones in
# exactly one field.

def write_zip(name, entries, zip64=True, zip64_extra=False, align=64):
    """entries: list of dicts with name, data and optional method (8 =
    deflate), cd_size / cd_offset overrides."""
    out = bytearray()
    central = []
    for e in entries:
        nb = e["name"].encode()
        data = e["data"]
        method = e.get("method", 0)
        stored = data
        if method == 8:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            stored = c.compress(data) + c.flush()
        offset = len(out)
        pad = (-(offset + 30 + len(nb) + 4)) % align
        extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc,
                           len(stored), len(data), len(nb), len(extra))
        out += nb + extra + stored
        central.append(dict(nb=nb, crc=crc, csize=e.get("cd_size", len(stored)),
                            usize=e.get("cd_size", len(data)),
                            offset=e.get("cd_offset", offset), method=method))
    cd_offset = len(out)
    for c in central:
        if zip64_extra:
            extra = struct.pack("<HHQQQ", 0x0001, 24, c["usize"], c["csize"], c["offset"])
            csize = usize = offset = 0xFFFFFFFF
        else:
            extra, csize, usize, offset = b"", c["csize"], c["usize"], c["offset"]
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, c["method"], 0, 0,
                           c["crc"], csize, usize, len(c["nb"]), len(extra), 0, 0, 0, 0,
                           offset)
        out += c["nb"] + extra
    cd_size = len(out) - cd_offset
    n = len(entries)
    if zip64:
        z64 = len(out)
        out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, n, n, cd_size, cd_offset)
        out += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_offset, 0)
    with open(path(name), "wb") as f:
        f.write(out)


def zip_entries(name):
    with zipfile.ZipFile(path(name)) as z:
        return [dict(name=i.filename, data=z.read(i.filename)) for i in z.infolist()]


# ---------------------------------------------------------------------------
# safetensors, by hand (the safetensors package is not available here).

def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    elif t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.numpy().tobytes()


def write_safetensors(name, sd, metadata=None, header=None, raw_header=None,
                      header_len=None, data=None):
    if header is None and raw_header is None:
        header = collections.OrderedDict()
        if metadata is not None:
            header["__metadata__"] = metadata
        blob = bytearray()
        for key, t in sd.items():
            b = tensor_bytes(t)
            header[key] = {"dtype": SAFETENSORS_DTYPES[t.dtype], "shape": list(t.shape),
                           "data_offsets": [len(blob), len(blob) + len(b)]}
            blob += b
        data = bytes(blob)
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(h) if header_len is None else header_len) + h + (data or b""))


# ---------------------------------------------------------------------------
# Tensors and calls torch never writes but a hostile file can.

class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        storage, offset, size, stride = self.args
        return (torch._utils._rebuild_tensor_v2,
                (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict()))


class Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return (self.func, (self.arg,))


def fake_sd(offset, size, stride, numel=4):
    return collections.OrderedDict(
        ok=torch.ones(2),
        bad=FakeTensor(torch.zeros(numel).storage(), offset, size, stride))


def raw_pickle_zip(name, pkl, extra=()):
    write_zip(name, [dict(name="archive/data.pkl", data=pkl)] + list(extra)
              + [dict(name="archive/version", data=b"3\n")])


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = reference_state_dict()

    # Valid checkpoints.
    write_expect("sd.expect", sd)
    save(sd, "sd-zip.pth")
    save(sd, "sd-legacy.pth", legacy=True)
    save(sd, "sd-zip-proto4.pth", protocol=4)
    save(sd, "sd-legacy-proto1.pth", legacy=True, protocol=1)
    write_safetensors("sd.safetensors", sd, metadata={"format": "pt", "note": "{[\"x"})
    save({"model": sd}, "wrap-model.pth")
    save({"state_dict": sd, "epoch": 3, "best_acc": 0.75,
          "optimizer": {"state": {0: {"momentum_buffer": torch.ones(3)}},
                        "param_groups": [{"lr": 0.1, "params": [0]}]}},
         "wrap-state-dict.pth")
    save({"state_dict": sd, "epoch": 3}, "wrap-state-dict-legacy.pth", legacy=True)
    save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()), "module-prefix.pth")

    entries = zip_entries("sd-zip.pth")
    write_zip("handmade.pth", entries)
    write_zip("handmade-no-zip64.pth", entries, zip64=False)
    write_zip("handmade-zip64-extra.pth", entries, zip64_extra=True)

    # A real module's state_dict: OrderedDict with _metadata (BUILD),
    # BatchNorm buffers including the int64 0-dim num_batches_tracked.
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.rand_like(t) + 0.5)
            else:
                t.fill_(7)
    msd = net.state_dict()
    assert hasattr(msd, "_metadata")
    write_expect("module-sd.expect", msd)
    save(msd, "module-sd-zip.pth")
    save(msd, "module-sd-legacy.pth", legacy=True)

    # Hostile files.
    marker = path("PWNED")
    save({"a": Evil(os.system, "touch " + marker)}, "zip-os-system.pth")
    save({"a": Evil(os.system, "touch " + marker)}, "legacy-os-system.pth", legacy=True)
    save({"a": Evil(eval, "__import__('os').system('touch %s')" % marker)}, "zip-eval.pth")
    save(torch.nn.Linear(2, 2), "zip-module.pth")
    save(collections.OrderedDict(w=torch.ones(2), epoch=3), "zip-not-tensor.pth")
    save([torch.ones(2)], "zip-list.pth")
    # Keys whose 32-bit halves cancel: they would all collide in a naive
    # hash of the int; the dict must still be built in O(n log n).
    save(collections.OrderedDict(a=torch.ones(2), junk={(j << 32) | j: 0 for j in range(200000)}),
         "zip-colliding-keys.pth")

    # Memo bomb: more memo entries than the VM allows.
    bomb = bytearray(b"\x80\x02]")
    for i in range((1 << 20) + 10):
        bomb += b"r" + struct.pack("<I", i)
    bomb += b"."
    raw_pickle_zip("zip-memo-bomb.pth", bytes(bomb))
    raw_pickle_zip("zip-deep-marks.pth", b"\x80\x02" + b"(" * 100000 + b".")
    raw_pickle_zip("zip-deep-lists.pth", b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b".")
    raw_pickle_zip("zip-deep-tuples.pth", b"\x80\x02)" + b"\x85" * 100000 + b".")
    raw_pickle_zip("zip-self-append.pth", b"\x80\x02]q\x00" + b"h\x00a" * 1000 + b".")
    raw_pickle_zip("zip-no-stop.pth", b"\x80\x02}q\x00")
    raw_pickle_zip("zip-stack-underflow.pth", b"\x80\x02a.")
    raw_pickle_zip("zip-bad-memo-get.pth", b"\x80\x02j\xff\xff\xff\xff.")
    raw_pickle_zip("zip-inst.pth", b"\x80\x02(iposix\nsystem\n.")
    raw_pickle_zip("zip-stack-global.pth",
                   b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93.")

    save(fake_sd(0, (1 << 40, 1 << 40), (1, 1)), "zip-dims-overflow.pth")
    save(fake_sd(0, (1 << 40, 1 << 40), (1, 1)), "legacy-dims-overflow.pth", legacy=True)
    save(fake_sd(0, (1 << 62, 4), (0, 1)), "zip-huge-expand.pth")
    save(fake_sd(3, (4,), (-1,)), "zip-negative-stride.pth")
    save(fake_sd(0, (-4,), (1,)), "zip-negative-size.pth")
    save(fake_sd(100, (2,), (1,)), "zip-offset-past.pth")
    save(fake_sd(100, (0,), (1,)), "zip-offset-past-empty.pth")
    save(fake_sd(0, (5,), (1,)), "zip-extent-past.pth")
    save(fake_sd(0, (2, 2), (1 << 62, 1 << 62)), "zip-stride-overflow.pth")
    save(fake_sd(0, (1,) * 9, (1,) * 9), "zip-nine-dims.pth")
    save(fake_sd(3, (2,), (1,)), "legacy-extent-past.pth", legacy=True)

    # Zip container damage, made with our writer from the torch file.
    def tamper(i, **kw):
        e = [dict(x) for x in entries]
        e[i].update(kw)
        return e

    write_zip("zip-entry-past-end.pth", tamper(1, cd_size=1 << 30))
    write_zip("zip-entry-offset-past-end.pth", tamper(1, cd_offset=0xFFFFFFF0))
    write_zip("zip-overlap.pth", tamper(0, cd_size=len(entries[0]["data"]) + 100))
    write_zip("zip-compressed.pth", tamper(1, method=8))
    write_zip("zip-storage-size.pth", tamper(1, data=entries[1]["data"] + b"\0"))
    write_zip("zip-missing-storage.pth", entries[:1] + entries[2:])
    with open(path("sd-zip.pth"), "rb") as f:
        blob = bytearray(f.read())
    pos = blob.index(b"collections")  # inside data.pkl
    blob[pos] ^= 0x20
    with open(path("zip-crc.pth"), "wb") as f:
        f.write(blob)
    with open(path("zip-no-eocd.pth"), "wb") as f:
        f.write(blob[:-22])

    with open(path("sd-legacy.pth"), "rb") as f:
        blob = bytearray(f.read())
    blob[5] ^= 0x01  # inside the magic number
    with open(path("legacy-bad-magic.pth"), "wb") as f:
        f.write(blob)

    # safetensors damage.
    small = collections.OrderedDict(a=torch.ones(2, 3), b=torch.arange(4, dtype=torch.int32))
    write_safetensors("st-header-too-long.safetensors", small, header_len=1 << 40)
    hdr = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 10 ** 12]}}
    write_safetensors("st-offsets-past-end.safetensors", None, header=hdr, data=b"\0" * 16)
    hdr = {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}
    write_safetensors("st-size-mismatch.safetensors", None, header=hdr, data=b"\0" * 8)
    hdr = {"a": {"dtype": "F32", "shape": [1 << 40, 1 << 40], "data_offsets": [0, 0]}}
    write_safetensors("st-shape-overflow.safetensors", None, header=hdr, data=b"")
    hdr = {"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 0]}}
    write_safetensors("st-negative-dim.safetensors", None, header=hdr, data=b"")
    hdr = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}
    write_safetensors("st-reversed-offsets.safetensors", None, header=hdr, data=b"\0" * 8)
    write_safetensors("st-bad-json.safetensors", None,
                      raw_header=b'{"a": {"dtype": "F32", "shape": [2], ', data=b"\0" * 8)
    write_safetensors("st-deep-json.safetensors", None,
                      raw_header=b'{"a":' + b"[" * 50000 + b"]" * 50000 + b"}", data=b"")
    write_safetensors("st-not-object.safetensors", None, raw_header=b'{"a": 3}', data=b"")

    with open(path("not-a-checkpoint.txt"), "wb") as f:
        f.write(b"this is not a checkpoint, just some text\n" * 10)


if __name__ == "__main__":
    main()
