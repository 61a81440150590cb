#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libtvw's preprocessing against torchvision 0.14.1 + Pillow, run at test time.

Images of many sizes, aspect ratios and modes are generated into a temporary
directory, preprocessed by `tvw preprocess` (the CLI in $TVW_CLI) and by
torchvision's presets on `PIL.Image.open(path).convert("RGB")`, and compared:

  - the 8-bit image after resize + center crop must be bit-identical,
  - the normalized float tensor must agree to 1e-6,
  - the tensor path (uint8 and float tensors) to 1e-5,
  - repr() of every weights entry's transforms must match exactly,
  - broken files must fail with an error naming the file.

Exit status 0 when everything matches; the failures are listed otherwise.
"""

import os
import struct
import subprocess
import sys
import tempfile
import warnings
import zlib

import numpy as np

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms.functional as F  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.transforms import InterpolationMode  # noqa: E402
from torchvision.transforms._presets import (  # noqa: E402
    ImageClassification,
    ObjectDetection,
    OpticalFlow,
    SemanticSegmentation,
    VideoClassification,
)

CLI = os.environ.get("TVW_CLI", "tvw")
FLOAT_TOL = 1e-6
TENSOR_TOL = 1e-5

failures = []
n_checks = 0
n_reported = 0


def fail(what, detail):
    """Reports one check as failed (TAP)."""
    global n_reported
    failures.append(f"{what}: {detail}")
    n_reported += 1
    detail = str(detail).replace("\n", "\n# ")
    print(f"not ok {n_reported} - {what}\n# {detail}", flush=True)


def passed(what):
    global n_reported
    n_reported += 1
    print(f"ok {n_reported} - {what}", flush=True)


class Check:
    """`with Check(label):` reports ok unless fail() was called inside."""

    def __init__(self, label):
        self.label = label

    def __enter__(self):
        global n_checks
        n_checks += 1
        self.before = len(failures)
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            fail(self.label, f"{kind.__name__}: {value}")
            return True
        if len(failures) == self.before:
            passed(self.label)
        return False


def run(args, expect_ok=True):
    proc = subprocess.run([CLI, "preprocess"] + args, capture_output=True, text=True)
    if expect_ok and proc.returncode != 0:
        raise RuntimeError(f"tvw preprocess {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


# --------------------------------------------------------------------------
# Image generation

def content(h, w, seed, channels=3):
    """Noise over gradients, so that every filter tap matters."""
    rs = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 251 // max(w, 1)), (y * 241 // max(h, 1)),
                     ((x * 7 + y * 13) % 256)], -1).astype(np.int32)
    base = base[..., :channels] if channels <= 3 else np.concatenate(
        [base, rs.randint(0, 256, (h, w, channels - 3))], -1)
    noise = rs.randint(-60, 61, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def write_png16_gray(path, values, interlace=False, filters=False):
    """A 16-bit grayscale PNG, written by hand (Pillow saves mode I as 32 bits),
    optionally Adam7-interlaced and with every row filter type."""
    h, w = values.shape
    big = values.astype(">u2")

    def rows(sub):
        out = b""
        prev = np.zeros(sub.shape[1] * 2, np.int32)
        for i, r in enumerate(sub):
            cur = np.frombuffer(r.tobytes(), np.uint8).astype(np.int32)
            kind = i % 5 if filters else 0
            left = np.concatenate([[0, 0], cur[:-2]])
            up_left = np.concatenate([[0, 0], prev[:-2]])
            if kind == 1:
                enc = cur - left
            elif kind == 2:
                enc = cur - prev
            elif kind == 3:
                enc = cur - (left + prev) // 2
            elif kind == 4:
                p = left + prev - up_left
                pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - up_left)
                pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, up_left))
                enc = cur - pred
            else:
                enc = cur
            out += bytes([kind]) + (enc % 256).astype(np.uint8).tobytes()
            prev = cur
        return out

    if interlace:
        raw = b"".join(rows(big[y0::dy, x0::dx]) for x0, y0, dx, dy in
                       ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
                       if big[y0::dy, x0::dx].size)
    else:
        raw = rows(big)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 1 if interlace else 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(raw)))
        f.write(png_chunk(b"IEND", b""))


def make_image(tmp, name, h, w, mode="RGB", fmt="png", seed=0):
    path = os.path.join(tmp, f"{name}.{fmt}")
    if mode.startswith("I;16"):
        rs = np.random.RandomState(seed)
        # Values around 255 so that Pillow's clipping of mode I shows.
        write_png16_gray(path, rs.randint(0, 600, (h, w)).astype(np.uint16),
                         interlace=mode.endswith("i"), filters=True)
        return path
    rgba = content(h, w, seed, 4)
    img = Image.fromarray(rgba, "RGBA")
    if mode == "RGB":
        img = img.convert("RGB")
    elif mode == "L":
        img = img.convert("L")
    elif mode == "LA":
        img = img.convert("LA")
    elif mode in ("P", "Pt"):
        img = img.convert("RGB").quantize(colors=200, dither=Image.Dither.NONE)
    elif mode == "1":
        img = img.convert("1")
    elif mode == "CMYK":
        img = Image.fromarray(content(h, w, seed, 4), "CMYK")
    kwargs = {"quality": 92} if fmt == "jpg" else {}
    if mode == "Pt":
        kwargs["transparency"] = 3
    img.save(path, **kwargs)
    return path


# --------------------------------------------------------------------------
# References

def gdk_pixbuf_decode(path):
    """The file as gdk-pixbuf decodes it, alpha dropped, as a PIL image."""
    import gi
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf

    pb = GdkPixbuf.Pixbuf.new_from_file(path)
    h, w, n, stride = pb.get_height(), pb.get_width(), pb.get_n_channels(), pb.get_rowstride()
    data = np.frombuffer(pb.get_pixels(), np.uint8)
    data = np.concatenate([data, np.zeros(h * stride - data.size, np.uint8)])
    return Image.fromarray(np.ascontiguousarray(data.reshape(h, stride)[:, :w * n].reshape(h, w, n)[..., :3]))


def reference(path, preset, decoder="pil"):
    """torchvision on the PIL image: (uint8 HWC image before ToTensor, float tensor)."""
    img = Image.open(path).convert("RGB") if decoder == "pil" else gdk_pixbuf_decode(path)
    out = (preset(img, img)[0] if isinstance(preset, OpticalFlow) else preset(img)).numpy()
    if isinstance(preset, ImageClassification):
        crop = F.center_crop(F.resize(img, preset.resize_size, interpolation=preset.interpolation),
                             preset.crop_size)
    elif isinstance(preset, SemanticSegmentation):
        crop = img
        if isinstance(preset.resize_size, list):
            crop = F.resize(img, preset.resize_size, interpolation=preset.interpolation)
    else:
        crop = img
    return np.asarray(crop), out


INTERP = {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR,
          "bicubic": InterpolationMode.BICUBIC}


def size_arg(size):
    return ",".join(str(v) for v in size)


def preset_args(preset):
    """CLI options giving the same preset."""
    name = type(preset).__name__
    if name == "AntialiasedImageClassification":
        name = "ImageClassification"
    args = ["--preset", name]
    if isinstance(preset, (ImageClassification, VideoClassification)):
        args += ["--crop-size", size_arg(preset.crop_size), "--resize-size", size_arg(preset.resize_size)]
    if isinstance(preset, SemanticSegmentation):
        args += ["--resize-size", "none" if preset.resize_size is None else size_arg(preset.resize_size)]
    if isinstance(preset, (ImageClassification, SemanticSegmentation, VideoClassification)):
        args += ["--interpolation", preset.interpolation.value,
                 "--mean", ",".join(repr(v) for v in preset.mean),
                 "--std", ",".join(repr(v) for v in preset.std)]
    return args


def check_image(tmp, label, *args, **kwargs):
    with Check(label):
        _check_image(tmp, label, *args, **kwargs)


def _check_image(tmp, label, path, preset, crop_tolerance=0, decoder="pil"):
    ref_crop, ref = reference(path, preset, decoder)
    out = os.path.join(tmp, "out.npy")
    crop_out = os.path.join(tmp, "crop.npy")
    try:
        run(preset_args(preset) + [path, "-o", out, "--crop-output", crop_out])
    except RuntimeError as e:
        fail(label, str(e))
        return
    ours = np.load(out)
    ours_crop = np.load(crop_out).transpose(1, 2, 0)
    if ours.shape != ref.shape or ours_crop.shape != ref_crop.shape:
        fail(label, f"shape {ours.shape} / crop {ours_crop.shape}, torchvision {ref.shape} / {ref_crop.shape}")
        return
    crop_diff = np.abs(ours_crop.astype(int) - ref_crop.astype(int))
    if crop_diff.size and crop_diff.max() > crop_tolerance:
        fail(label, f"uint8 crop differs in {int((crop_diff > 0).sum())} of {crop_diff.size} values "
                    f"(max {crop_diff.max()}), first at {np.argwhere(crop_diff > 0)[0].tolist()}")
        return
    tol = FLOAT_TOL if crop_tolerance == 0 else FLOAT_TOL + crop_tolerance / 255.0 / min(
        getattr(preset, "std", [1.0]) or [1.0])
    diff = float(np.abs(ours - ref).max()) if ours.size else 0.0
    if diff > tol:
        fail(label, f"float tensor max |Δ| {diff:.3g} > {tol:.3g}")


def check_tensor(tmp, label, *args):
    with Check(label):
        _check_tensor(tmp, label, *args)


def _check_tensor(tmp, label, array, preset, as_uint8):
    """The tensor path: `array` is float32 holding 0–255 integers when as_uint8."""
    src = os.path.join(tmp, "in.npy")
    out = os.path.join(tmp, "out.npy")
    np.save(src, array.astype(np.float32))
    t = torch.from_numpy(array.astype(np.uint8) if as_uint8 else array.astype(np.float32))
    ref = (preset(t, t)[0] if isinstance(preset, OpticalFlow) else preset(t)).numpy()
    args = preset_args(preset) + ["--tensor", src, "-o", out]
    if getattr(preset, "_antialias", False):
        args.append("--antialias")
    if as_uint8:
        args.append("--uint8")
    try:
        run(args)
    except RuntimeError as e:
        fail(label, str(e))
        return
    ours = np.load(out)
    if ours.shape != ref.shape:
        fail(label, f"shape {ours.shape}, torchvision {ref.shape}")
        return
    delta = np.abs(ours - ref)
    bad = delta > TENSOR_TOL
    if bad.any() and as_uint8 and getattr(preset, "interpolation", None) == InterpolationMode.BICUBIC:
        # Bicubic weights are within float ulps of ATen's, not identical: a
        # resized value that lies that close to .5 may round to the other
        # uint8.  Allow such single steps on a few values.
        step = 1.0 / 255.0 / min(getattr(preset, "std", None) or [1.0])
        if (delta[bad] <= step + TENSOR_TOL).all() and bad.mean() < 1e-2:
            bad[:] = False
    if bad.any():
        fail(label, f"max |Δ| {float(delta.max()):.3g} > {TENSOR_TOL} at {int(bad.sum())} of {bad.size} values")


class AntialiasedImageClassification(ImageClassification):
    """torchvision 0.15's ImageClassification(antialias=True), for 0.14.1."""

    _antialias = True

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=True)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, torch.Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, torch.float)
        return F.normalize(img, mean=self.mean, std=self.std)


# --------------------------------------------------------------------------
# The cases

def image_cases(tmp):
    ic = ImageClassification
    sizes = [(1, 1), (2, 2), (1, 37), (37, 1), (1, 400), (400, 1), (3, 5), (5, 3), (7, 300),
             (300, 7), (224, 224), (256, 256), (255, 257), (256, 300), (300, 256), (480, 640),
             (640, 480), (333, 500), (1000, 999), (17, 4100), (4100, 17)]
    seed = 0
    for h, w in sizes:
        for interp in ("bilinear", "bicubic", "nearest"):
            seed += 1
            path = make_image(tmp, f"rgb_{h}x{w}", h, w, seed=seed)
            check_image(tmp, f"RGB {w}×{h} {interp} 224/256", path,
                        ic(crop_size=224, resize_size=256, interpolation=INTERP[interp]))

    # Odd crops and resizes, crops larger than the image (zero padding).
    path = make_image(tmp, "odd", 123, 211, seed=99)
    for crop, resize in ((223, 255), (225, 257), (1, 1), (3, 2), (7, 9), (300, 256), (400, 100),
                         (129, 128), (130, 123), (212, 123), (213, 123), (100, 123), (124, 123),
                         (122, 123), (520, 520), (211, 123)):
        for interp in ("bilinear", "bicubic", "nearest"):
            check_image(tmp, f"123×211 crop {crop} resize {resize} {interp}", path,
                        ic(crop_size=crop, resize_size=resize, interpolation=INTERP[interp]))

    # Upscaling and equal sizes.
    path = make_image(tmp, "small", 10, 14, seed=5)
    for resize in (10, 11, 20, 99, 300):
        for interp in ("bilinear", "bicubic", "nearest"):
            check_image(tmp, f"14×10 resize {resize} {interp}", path,
                        ic(crop_size=min(resize, 224), resize_size=resize, interpolation=INTERP[interp]))

    # Big images, JPEG (gdk-pixbuf and Pillow decode JPEG identically).
    for h, w in ((3000, 4000), (4500, 2000)):
        path = make_image(tmp, f"big_{h}x{w}", h, w, fmt="jpg", seed=h)
        for interp in ("bilinear", "bicubic", "nearest"):
            check_image(tmp, f"JPEG {w}×{h} {interp}", path,
                        ic(crop_size=224, resize_size=256, interpolation=INTERP[interp]))
        check_image(tmp, f"JPEG {w}×{h} 384/384 bicubic", path,
                    ic(crop_size=384, resize_size=384, interpolation=InterpolationMode.BICUBIC))

    # Modes.
    modes = [("RGB", "png"), ("RGBA", "png"), ("L", "png"), ("LA", "png"), ("P", "png"), ("1", "png"),
             ("Pt", "png"), ("I;16", "png"), ("I;16i", "png"), ("RGB", "jpg"), ("L", "jpg"), ("RGB", "bmp"), ("P", "gif"),
             ("RGB", "tiff"), ("RGB", "tga")]
    for mode, fmt in modes:
        for h, w in ((97, 131), (300, 200)):
            path = make_image(tmp, f"mode_{mode.replace(';', '')}_{h}x{w}", h, w, mode=mode, fmt=fmt, seed=h + w)
            for interp in ("bilinear", "bicubic"):
                check_image(tmp, f"{mode} {fmt} {w}×{h} {interp}", path,
                            ic(crop_size=64, resize_size=80, interpolation=INTERP[interp]))
    # 16-bit gray bigger than the decoder's first buffer.
    for mode in ("I;16", "I;16i"):
        path = make_image(tmp, f"big_{mode.replace(';', '')}", 1000, 1300, mode=mode, seed=77)
        check_image(tmp, f"{mode} png 1300×1000 bilinear", path, ic(crop_size=224, resize_size=256))

    # Where gdk-pixbuf decodes differently from Pillow, the resize must still
    # be exact on gdk-pixbuf's pixels, and close to Pillow's for CMYK (the
    # CMYK → RGB product is rounded differently).
    path = make_image(tmp, "cmyk", 150, 170, mode="CMYK", fmt="jpg", seed=3)
    check_image(tmp, "CMYK jpg 170×150 bilinear (±2 vs Pillow)", path, ic(crop_size=64, resize_size=80),
                crop_tolerance=2)
    check_image(tmp, "CMYK jpg 170×150 bilinear (gdk-pixbuf pixels)", path, ic(crop_size=64, resize_size=80),
                decoder="gdk")
    for mode, fmt in (("Pt", "gif"), ("RGBA", "tiff")):
        path = make_image(tmp, f"gdkdiff_{mode}", 97, 131, mode=mode, fmt=fmt, seed=8)
        check_image(tmp, f"{mode} {fmt} 131×97 bicubic (gdk-pixbuf pixels)", path,
                    ic(crop_size=64, resize_size=80, interpolation=InterpolationMode.BICUBIC), decoder="gdk")

    # The other presets on images.
    path = make_image(tmp, "seg", 150, 190, seed=11)
    for resize in (None, 520, 100, 150):
        check_image(tmp, f"SemanticSegmentation resize {resize}", path, SemanticSegmentation(resize_size=resize))
    check_image(tmp, "SemanticSegmentation bicubic", path,
                SemanticSegmentation(resize_size=77, interpolation=InterpolationMode.BICUBIC))
    check_image(tmp, "ObjectDetection", path, ObjectDetection())
    check_image(tmp, "OpticalFlow", path, OpticalFlow())
    check_image(tmp, "custom mean/std", path,
                ic(crop_size=100, resize_size=120, mean=(0.48235, 0.45882, 0.40784),
                   std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)))


def tensor_cases(tmp):
    rs = np.random.RandomState(7)
    for shape in ((3, 50, 70), (2, 3, 61, 45), (3, 300, 260), (3, 5, 400)):
        u8 = rs.randint(0, 256, shape).astype(np.float32)
        f32 = rs.rand(*shape).astype(np.float32)
        for interp in ("bilinear", "bicubic", "nearest"):
            for cls in (ImageClassification, AntialiasedImageClassification):
                if cls is AntialiasedImageClassification and interp == "nearest":
                    continue
                for crop, resize in ((32, 40), (224, 256), (60, 30)):
                    preset = cls(crop_size=crop, resize_size=resize, interpolation=INTERP[interp])
                    aa = "aa " if cls is AntialiasedImageClassification else ""
                    check_tensor(tmp, f"tensor uint8 {shape} {aa}{interp} {crop}/{resize}", u8, preset, True)
                    check_tensor(tmp, f"tensor float {shape} {aa}{interp} {crop}/{resize}", f32, preset, False)
    seg = SemanticSegmentation(resize_size=40)
    check_tensor(tmp, "tensor SemanticSegmentation", rs.rand(3, 30, 50).astype(np.float32), seg, False)
    check_tensor(tmp, "tensor ObjectDetection uint8", rs.randint(0, 256, (3, 20, 30)).astype(np.float32),
                 ObjectDetection(), True)
    check_tensor(tmp, "tensor OpticalFlow", rs.rand(2, 3, 20, 30).astype(np.float32), OpticalFlow(), False)

    # Video: (T, C, H, W) and (B, T, C, H, W) → (..., C, T, H, W).
    for shape in ((4, 3, 60, 80), (2, 3, 3, 130, 171)):
        clip = rs.randint(0, 256, shape).astype(np.float32)
        for crop, resize in (((112, 112), (128, 171)), ((50, 60), (70,))):
            preset = VideoClassification(crop_size=crop, resize_size=resize)
            check_tensor(tmp, f"video uint8 {shape} {crop} {resize}", clip, preset, True)
            check_tensor(tmp, f"video float {shape} {crop} {resize}", clip / 255.0, preset, False)


def repr_cases(tmp):
    """Every weights entry: transforms() repr, and overrides."""
    from torchvision import models

    entries = []
    for module in (models, models.detection, models.segmentation, models.video, models.optical_flow,
                   models.quantization):
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, type) and name.endswith("_Weights") and hasattr(obj, "__members__"):
                for entry in obj:
                    entries.append((f"{name}.{entry.name}", entry))
    seen = set()
    for full, entry in sorted(entries, key=lambda e: e[0]):
        if full in seen:
            continue
        seen.add(full)
        with Check(f"repr {full}"):
            proc = run(["--weights", full, "--print"], expect_ok=False)
            ref = repr(entry.transforms())
            if proc.returncode != 0:
                fail(f"repr {full}", proc.stderr.strip())
            elif proc.stdout.rstrip("\n") != ref:
                fail(f"repr {full}", f"\n{proc.stdout}!=\n{ref}")

    from torchvision.models import ResNet50_Weights, ViT_B_16_Weights
    from torchvision.models.video import R3D_18_Weights

    with Check("repr with overrides crop_size=400, resize_size=400"):
        proc = run(["--weights", "ResNet50_Weights.IMAGENET1K_V2", "--crop-size", "400",
                    "--resize-size", "400", "--print"])
        ref = repr(ResNet50_Weights.IMAGENET1K_V2.transforms(crop_size=400, resize_size=400))
        if proc.stdout.rstrip("\n") != ref:
            fail("repr override", f"\n{proc.stdout}!=\n{ref}")

    with Check("unknown override is refused, naming the key"):
        proc = run(["--weights", "FCN_ResNet50_Weights.DEFAULT", "--crop-size", "10", "--print"], expect_ok=False)
        if proc.returncode == 0 or "crop_size" not in proc.stderr:
            fail("unknown override", f"exit {proc.returncode}, {proc.stderr.strip()!r}")

    # Full pipeline through weights entries, including a video one.
    path = make_image(tmp, "weights", 240, 320, seed=21)
    for full, preset in (("ResNet50_Weights.IMAGENET1K_V2", ResNet50_Weights.IMAGENET1K_V2.transforms()),
                         ("ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1",
                          ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1.transforms())):
        with Check(f"weights {full} on an image"):
            out = os.path.join(tmp, "w.npy")
            run(["--weights", full, path, "-o", out])
            diff = float(np.abs(np.load(out) - preset(Image.open(path).convert("RGB")).numpy()).max())
            if diff > FLOAT_TOL:
                fail(f"weights {full}", f"max |Δ| {diff:.3g}")

    with Check("weights R3D_18_Weights.KINETICS400_V1 on a uint8 clip"):
        clip = np.random.RandomState(3).randint(0, 256, (3, 3, 90, 160)).astype(np.float32)
        src = os.path.join(tmp, "clip.npy")
        out = os.path.join(tmp, "clip_out.npy")
        np.save(src, clip)
        run(["--weights", "R3D_18_Weights.KINETICS400_V1", "--tensor", src, "--uint8", "-o", out])
        ref = R3D_18_Weights.KINETICS400_V1.transforms()(torch.from_numpy(clip.astype(np.uint8))).numpy()
        ours = np.load(out)
        if ours.shape != ref.shape or float(np.abs(ours - ref).max()) > TENSOR_TOL:
            fail("weights R3D_18 video", f"shape {ours.shape} vs {ref.shape}")


def error_cases(tmp):
    good = make_image(tmp, "good", 60, 80, fmt="png", seed=1)
    jpg = make_image(tmp, "goodj", 60, 80, fmt="jpg", seed=2)
    data_png = open(good, "rb").read()
    data_jpg = open(jpg, "rb").read()
    cases = {
        "notimage.txt": b"hello, this is not an image\n",
        "empty.png": b"",
        "truncated.png": data_png[: len(data_png) // 2],
        "truncated.jpg": data_jpg[: len(data_jpg) // 2],
        "no-eoi.jpg": data_jpg[:-2],
        "garbage.png": b"\x89PNG\r\n\x1a\n" + os.urandom(200),
        "zero-width.png": b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0))
                          + png_chunk(b"IDAT", zlib.compress(b"\0" * 10)) + png_chunk(b"IEND", b""),
        "huge.png": b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 70000, 8, 2, 0, 0, 0))
                    + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""),
        "huge16.png": b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 70000, 16, 0, 0, 0, 0))
                      + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""),
    }
    # A JPEG whose header claims 60000×60000.
    sof = data_jpg.find(b"\xff\xc0")
    huge_jpg = bytearray(data_jpg)
    huge_jpg[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    cases["huge.jpg"] = bytes(huge_jpg)
    t16 = os.path.join(tmp, "t16.png")
    write_png16_gray(t16, np.arange(40 * 30, dtype=np.uint16).reshape(40, 30))
    d16 = open(t16, "rb").read()
    cases["truncated16.png"] = d16[: len(d16) * 2 // 3]

    for name, data in cases.items():
        with Check(f"error for {name}, naming the file"):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            # The address space is capped: proves nothing huge is allocated.
            proc = subprocess.run(
                ["/bin/sh", "-c",
                 'ulimit -v 1500000; exec "$0" preprocess --preset ImageClassification "$1" -o "$2"',
                 CLI, path, os.path.join(tmp, "x.npy")], capture_output=True, text=True)
            if proc.returncode != 1 or path not in proc.stderr:
                fail(f"error {name}", f"exit {proc.returncode}, stderr {proc.stderr.strip()!r}")
            # Pillow refuses them too (it would try to allocate the huge ones).
            if not name.startswith("huge"):
                try:
                    Image.open(path).convert("RGB")
                    fail(f"error {name}", "Pillow accepts this file; the case is wrong")
                except Exception:
                    pass

    with Check("error for a missing file, naming it"):
        proc = run(["--preset", "ImageClassification", os.path.join(tmp, "missing.png"), "-o",
                    os.path.join(tmp, "x.npy")], expect_ok=False)
        if proc.returncode != 1 or "missing.png" not in proc.stderr:
            fail("error missing file", proc.stderr.strip())


def main():
    print(f"# torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {Image.__version__}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("G_TEST_BUILDDIR")) as tmp:
        sections = (image_cases, tensor_cases, repr_cases, error_cases)
        only = sys.argv[1:]
        for section in sections:
            if only and section.__name__ not in only:
                continue
            print(f"# {section.__name__}", flush=True)
            section(tmp)
    print(f"1..{n_reported}")
    print(f"# {n_checks} checks, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
