#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Writes the seed corpus of the fuzz harnesses into OUTDIR/<harness>/:
#
#   pth          small torch.save zips (whole files) and data.pkl pickles
#                whose storages are 8 × 64 bytes, the layout fuzz-pth.c wraps
#                a bare pickle in
#   legacy       small legacy (pre-1.6) torch.save files, pickle protocols 1, 2
#   safetensors  "header JSON \0 data" (the harness adds the length) and whole
#                files
#   card         weights cards
#   json         strict JSON, and the syntax json-glib also reads (single
#                quotes, comments, bare words, …) for the front end before it
#   npy          .npy arrays
#   image        PNG (every colour type, 16-bit, interlaced), JPEG, GIF, BMP,
#                TIFF, ICO, PNM, TGA, and the harness's pixbuf / tensor modes
#
# Inputs are kept small: libFuzzer mutates faster and its length limit
# follows the largest seed.  Seeds that need torch, numpy or Pillow are left
# out when those are missing; the rest are written with the standard library.
#
# With --stamp FILE, FILE is touched at the end (for meson).

import collections
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

try:
    import torch
except ImportError:
    torch = None
try:
    import numpy
except ImportError:
    numpy = None
try:
    from PIL import Image
except ImportError:
    Image = None

args = sys.argv[1:]
stamp = None
if len(args) >= 2 and args[0] == "--stamp":
    stamp, args = args[1], args[2:]
OUT = args[0]


def write(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------
# .pth

def torch_bytes(obj, legacy=False, protocol=2):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy, pickle_protocol=protocol)
    return buf.getvalue()


def data_pkl(zip_bytes):
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        for name in z.namelist():
            if name.endswith("/data.pkl"):
                return z.read(name)
    raise AssertionError("no data.pkl")


def pickle_seeds():
    """State dicts whose storages are each exactly 64 bytes, at most 8 of
    them: their data.pkl loads when fuzz-pth.c wraps it."""
    torch.manual_seed(9)
    base = torch.randn(16)
    sds = {}
    sd = collections.OrderedDict()
    sd["w"] = base.view(4, 4)
    sd["t"] = base.view(4, 4).t()
    sd["row"] = base.view(4, 4)[1]
    sd["col"] = base.view(4, 4)[:, 2]
    sd["h"] = torch.randn(32).half().view(2, 16)
    sd["bf"] = torch.randn(32).bfloat16()
    sd["d"] = torch.randn(8, dtype=torch.float64)
    sd["i"] = torch.arange(8)
    sd["u"] = torch.arange(64, dtype=torch.uint8).view(4, 4, 4)
    sd["b"] = torch.ones(64, dtype=torch.bool)
    sds["views"] = sd
    sds["scalar-and-empty"] = collections.OrderedDict(
        s=torch.randn(16)[3], e=torch.randn(16)[16:], x=torch.randn(16).view(2, 2, 2, 2))
    sds["expand"] = collections.OrderedDict(x=torch.randn(16)[:4].view(4, 1).expand(4, 8))
    sds["parameter"] = collections.OrderedDict(p=torch.nn.Parameter(torch.randn(16)))
    return sds


def pth_corpus():
    if torch is None:
        return
    for name, sd in pickle_seeds().items():
        z = torch_bytes(sd)
        write("pth", "pkl-" + name, data_pkl(z))
        write("pth", "pkl4-" + name, data_pkl(torch_bytes(sd, protocol=4)))
        write("pth", "zip-" + name + ".pth", z)
        write("legacy", "legacy-" + name + ".pth", torch_bytes(sd, legacy=True))
        write("legacy", "legacy1-" + name + ".pth", torch_bytes(sd, legacy=True, protocol=1))

    small = collections.OrderedDict(a=torch.ones(2, 3), b=torch.zeros(4).half())
    write("pth", "zip-wrapped.pth", torch_bytes({"state_dict": small, "epoch": 3}))
    write("pth", "zip-module-prefix.pth",
          torch_bytes(collections.OrderedDict(("module." + k, v) for k, v in small.items())))
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 1), torch.nn.BatchNorm2d(2))
    write("pth", "zip-module-state-dict.pth", torch_bytes(net.state_dict()))
    write("legacy", "legacy-module-state-dict.pth", torch_bytes(net.state_dict(), legacy=True))
    write("legacy", "legacy-wrapped.pth", torch_bytes({"model": small}, legacy=True))

    # Pickles a loader must refuse, so that the error paths are seeds too.
    write("pth", "pkl-global", b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    write("pth", "pkl-stack-global", b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.")
    write("pth", "pkl-inst", b"\x80\x02(iposix\nsystem\n.")
    write("pth", "pkl-memo", b"\x80\x02]q\x00(h\x00h\x00h\x00e.")
    write("pth", "pkl-deep", b"\x80\x02" + b"]" * 80 + b"a" * 79 + b".")
    write("pth", "pkl-text", b"(dp0\nS'a'\np1\nI3\nsL12L\n.")


# --------------------------------------------------------------------------
# .safetensors

ST_DTYPES = [("F32", "<f", 4), ("F16", "<e", 2), ("F64", "<d", 8), ("I64", "<q", 8),
             ("I32", "<i", 4), ("I16", "<h", 2), ("I8", "<b", 1), ("U8", "<B", 1)]


def safetensors_corpus():
    header = collections.OrderedDict()
    header["__metadata__"] = {"format": "pt"}
    blob = bytearray()
    for i, (name, fmt, size) in enumerate(ST_DTYPES):
        shape = [2, 3] if i % 2 == 0 else [6]
        n = 6
        data = struct.pack("<%d%s" % (n, fmt[1]), *([1, 2, 3, 4, 5, 6] if name != "F16" else [0.5] * 6))
        header["t_" + name.lower()] = {"dtype": name, "shape": shape,
                                       "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    header["bf"] = {"dtype": "BF16", "shape": [2], "data_offsets": [len(blob), len(blob) + 4]}
    blob += b"\x80\x3f\x00\x40"
    header["flags"] = {"dtype": "BOOL", "shape": [3], "data_offsets": [len(blob), len(blob) + 3]}
    blob += b"\x01\x00\x01"
    header["scalar"] = {"dtype": "F32", "shape": [], "data_offsets": [len(blob), len(blob) + 4]}
    blob += struct.pack("<f", 2.5)
    header["empty"] = {"dtype": "F32", "shape": [0, 4], "data_offsets": [len(blob), len(blob)]}
    h = json.dumps(header).encode()
    write("safetensors", "all-dtypes", h + b"\0" + bytes(blob))
    write("safetensors", "all-dtypes.safetensors", struct.pack("<Q", len(h)) + h + bytes(blob))

    one = json.dumps({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}).encode()
    write("safetensors", "one", one + b"\0" + struct.pack("<4f", 1, 2, 3, 4))
    write("safetensors", "empty-header", b"{}\0")
    write("safetensors", "bad-json", b'{"w": {"dtype": "F32", "shape": [2, \0')


# --------------------------------------------------------------------------
# Weights cards

def card_corpus():
    transforms = {"preset": "ImageClassification", "crop_size": 224, "resize_size": 232,
                  "interpolation": "bicubic", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    full = {
        "enum": "Seed_Weights", "builder": "resnet18",
        "entries": [
            {"name": "V1", "file": "weights/seed.pth", "default": True,
             "sha256": "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
             "num_classes": 3, "transforms": transforms,
             "meta": {"categories": ["a", "b", "c"], "min_size": [1, 1], "num_params": 11227812,
                      "_metrics": {"Flowers-102": {"acc@1": 91.5, "acc@5": {"$float": "nan"}}},
                      "recipe": "https://example.org/recipe", "_docs": "Seed.",
                      "mixed": [1, "two", 3.0, None, True, {"$tuple": [1, 2]}],
                      "flags": [True, False], "floats": [1.5, 2], "ints": [1, 2, 3]}},
            {"name": "V2", "url": "https://example.org/seed-12345678.pth",
             "transforms": {"preset": "ImageClassification", "crop_size": {"$tuple": [200, 180]},
                            "resize_size": [240], "antialias": False},
             "meta": {"categories": {"$list": "imagenet"}}},
        ],
    }
    write("card", "full.json", json.dumps(full, indent=1).encode())
    small = {"enum": "ResNet18_Weights", "builder": "resnet18",
             "entries": [{"name": "MINE", "url": "https://example.org/x.pth",
                          "transforms": {"preset": "ImageClassification", "crop_size": 224}}]}
    write("card", "extends-builtin.json", json.dumps(small).encode())
    for preset, kwargs in [
            ("SemanticSegmentation", {"resize_size": 520}),
            ("VideoClassification", {"crop_size": [112, 112], "resize_size": [128, 171]}),
            ("ObjectDetection", {}),
            ("OpticalFlow", {})]:
        card = {"enum": "Seed%s_Weights" % preset, "builder": "resnet18",
                "entries": [{"name": "V1", "url": "https://example.org/y.pth",
                             "transforms": dict(preset=preset, **kwargs)}]}
        write("card", "preset-%s.json" % preset.lower(), json.dumps(card).encode())
    write("card", "not-object.json", b"[1, 2, 3]")
    write("card", "unknown-field.json", b'{"enum": "X_Weights", "builder": "resnet18", "entries": [], "x": 1}')


# --------------------------------------------------------------------------
# .npy

def json_corpus():
    seeds = {
        "object": b'{"a": [1, -2.5e3, "x\\u00e9\\ud83d\\ude00", true, false, null], "b": {}}',
        "nested": b'[[[[{"k": [[]]}]]]]',
        "escapes": b'"\\"\\\\\\/\\b\\f\\n\\r\\t"',
        "single-quotes": b"{'a': '\"', \"b\": [[[[1]]]]}",
        "block-comment": b'{"a": 1 /* " */, "b": [[[2]]]}',
        "line-comment": b'{"a": 1, // "\n "b": 2}',
        "bare-words": b'{a: NaN, "b": Infinity, "c": 0x1F}',
        "trailing-comma": b'[1, 2, ]',
        "repeated-name": b'{"a": 1, "a": 2}',
        "colliding-names": b'{"Az": 1, "BY": 2}',
        "lone-surrogate": b'"\\ud800"',
        "nul-escape": b'{"\\u0000": 1}',
        "two-values": b'{}{}',
        "bom": b'\xef\xbb\xbf{}',
        "long-number": b'[' + b'9' * 80 + b']',
    }
    for name, data in seeds.items():
        write("json", name, data)


def npy(shape, descr="<f4", fortran=False, version=1, values=None):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False",
        "".join("%d, " % s for s in shape) if len(shape) != 1 else "%d," % shape[0])
    prefix = 10 if version == 1 else 12
    header += " " * ((-(prefix + len(header) + 1)) % 64) + "\n"
    n = 1
    for s in shape:
        n *= s
    data = struct.pack("<%df" % n, *(values or [i * 0.25 for i in range(n)]))
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data
    return b"\x93NUMPY\x02\x00" + struct.pack("<I", len(header)) + header.encode() + data


def npy_corpus():
    write("npy", "chw.npy", npy((3, 4, 4)))
    write("npy", "nchw.npy", npy((1, 3, 2, 2)))
    write("npy", "scalar.npy", npy(()))
    write("npy", "vector.npy", npy((5,)))
    write("npy", "empty.npy", npy((0, 3)))
    write("npy", "v2.npy", npy((2, 3), version=2))
    write("npy", "f8.npy", npy((2,), descr="<f8"))
    if numpy is not None:
        buf = io.BytesIO()
        numpy.save(buf, numpy.arange(12, dtype="<f4").reshape(1, 3, 2, 2))
        write("npy", "numpy.npy", buf.getvalue())


# --------------------------------------------------------------------------
# Images

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_gray16(width, height, interlace=0):
    """A 16-bit grayscale PNG, written by hand (Pillow's mode "I;16" path
    differs between versions)."""
    raw = bytearray()
    if interlace:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
                  (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    else:
        passes = [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            xs = range(x0, width, dx)
            if not xs:
                continue
            raw.append(y % 5)   # every filter type
            for x in xs:
                raw += struct.pack(">H", (x * 977 + y * 131) % 65536)
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(bytes(raw))) + png_chunk(b"IEND", b""))


def image_corpus():
    write("image", "gray16.png", png_gray16(7, 5))
    write("image", "gray16-interlaced.png", png_gray16(9, 10, interlace=1))
    # A header that claims 100 000 × 100 000 pixels (refused from the header).
    write("image", "huge-header.png",
          b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) +
          png_chunk(b"IDAT", zlib.compress(b"\0" * 16)) + png_chunk(b"IEND", b""))

    # The harness's own modes: 0x01 pixbuf, 0x02 tensor.
    write("image", "mode-pixbuf-rgb", bytes([1, 9, 6, 0, 0x02, 5, 5, 8, 8]) + bytes(range(200)))
    write("image", "mode-pixbuf-rgba-padded", bytes([1, 16, 3, 0x07, 0x3c, 7, 9, 11, 5]) + bytes(range(255)))
    write("image", "mode-tensor-uint8", bytes([2, 0, 3, 6, 7, 0x04, 4, 4, 5, 5]) + bytes(range(126)))
    write("image", "mode-tensor-float", bytes([2, 3, 2, 3, 8, 5, 0x14, 3, 6, 9, 0]) + bytes(range(255)))

    if Image is None:
        return
    base = Image.new("RGB", (13, 9))
    base.putdata([((x * 20) % 256, (y * 28) % 256, (x * y * 7) % 256) for y in range(9) for x in range(13)])

    def save(name, img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        write("image", name, buf.getvalue())

    save("rgb.png", base, "PNG")
    save("rgba.png", base.convert("RGBA"), "PNG")
    save("gray.png", base.convert("L"), "PNG")
    save("gray-alpha.png", base.convert("LA"), "PNG")
    save("palette.png", base.convert("P"), "PNG")
    save("palette-trns.png", base.convert("P"), "PNG", transparency=0)
    save("bilevel.png", base.convert("1"), "PNG")
    save("interlaced.png", base, "PNG", interlace=1)
    save("baseline.jpg", base, "JPEG", quality=80)
    save("progressive.jpg", base, "JPEG", quality=80, progressive=True)
    save("gray.jpg", base.convert("L"), "JPEG")
    save("cmyk.jpg", base.convert("CMYK"), "JPEG")
    save("subsampled.jpg", base, "JPEG", subsampling=2)
    save("image.gif", base.convert("P"), "GIF")
    save("image.bmp", base, "BMP")
    save("image.tiff", base, "TIFF")
    save("image.ico", base, "ICO", sizes=[(13, 9)])
    save("image.ppm", base, "PPM")
    save("image.tga", base, "TGA")


def main():
    # Seeds that are no longer written must not linger.
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    pth_corpus()
    safetensors_corpus()
    card_corpus()
    json_corpus()
    npy_corpus()
    image_corpus()
    if stamp is not None:
        with open(stamp, "w") as f:
            f.write("")


if __name__ == "__main__":
    main()
