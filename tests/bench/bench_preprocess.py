#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Decoding + preprocessing a 4000×3000 JPEG to a 224 crop: libtvw vs torchvision.

Both run in this process, alternating, on the same file; the ratio of the
medians is printed (torchvision / libtvw: above 1 means libtvw is faster).
libtvw is reached through GObject Introspection, so run with the build's
typelib, e.g.

  GI_TYPELIB_PATH=_build/lib LD_LIBRARY_PATH=_build/lib \
    /usr/bin/python3 tests/bench/bench_preprocess.py [--runs N] [--weights NAME]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
from PIL import Image

warnings.filterwarnings("ignore")

import gi  # noqa: E402

gi.require_version("Tvw", "1.0")
gi.require_version("Gio", "2.0")
from gi.repository import Gio, Tvw  # noqa: E402

import torch  # noqa: E402
import torchvision.models as models  # noqa: E402


def photo_like(width, height, seed=0):
    """Smooth gradients plus texture: compresses and decodes like a photo."""
    rs = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([
        128 + 100 * np.sin(x / 170.0) * np.cos(y / 230.0),
        128 + 90 * np.cos((x + y) / 310.0),
        128 + 80 * np.sin(x / 53.0 + y / 97.0),
    ], -1)
    img += rs.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--weights", default="ResNet50_Weights.IMAGENET1K_V2")
    parser.add_argument("--image", help="use this JPEG instead of a generated 4000×3000 one")
    args = parser.parse_args()

    torch.set_num_threads(os.cpu_count() or 1)
    enum_name, entry = args.weights.split(".")
    tv_transform = getattr(models, enum_name)[entry].transforms()
    tvw_transform = Tvw.get_weight(args.weights).transforms()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.image
        if path is None:
            path = os.path.join(tmp, "photo.jpg")
            Image.fromarray(photo_like(4000, 3000)).save(path, quality=90)
        gfile = Gio.File.new_for_path(path)

        def run_torchvision():
            img = Image.open(path).convert("RGB")
            return tv_transform(img)

        def run_tvw():
            return tvw_transform.apply_file(gfile, None)

        # Same answer first: the benchmark compares equal work.
        ref = run_torchvision().numpy()
        ours = np.frombuffer(run_tvw().get_bytes().get_data(), np.float32).reshape(ref.shape)
        max_diff = float(np.abs(ref - ours).max())

        times = {"torchvision": [], "libtvw": []}
        for _ in range(args.runs):
            for name, fn in (("torchvision", run_torchvision), ("libtvw", run_tvw)):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)

    tv = statistics.median(times["torchvision"])
    ours_t = statistics.median(times["libtvw"])
    print(f"image: {path if args.image else '4000×3000 JPEG (generated)'}, {args.weights}")
    print(f"max |Δ| vs torchvision: {max_diff:.3g}")
    print(f"torchvision (Pillow {Image.__version__}): median {tv * 1e3:.1f} ms")
    print(f"libtvw:                                 median {ours_t * 1e3:.1f} ms")
    print(f"ratio torchvision / libtvw: {tv / ours_t:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
