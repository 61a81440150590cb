#!/usr/bin/python3
# `tvw segment` against torchvision's own pipeline: a weights card registers
# an LR-ASPP checkpoint with random weights; PIL image → the
# SemanticSegmentation preset → the model → `out` upsampled bilinearly to
# the image's size → argmax must be the mask tvw draws, and the JSON's
# classes and pixel shares must be the reference's.  Also the overlay, the
# numbering of several outputs, and errors.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.models.segmentation as S
from PIL import Image
from torchvision.transforms._presets import SemanticSegmentation

import tvwconf

torch.set_num_threads(2)
work = tvwconf.workdir()
cli = os.environ.get("TVW_CLI", "tvw")
ENTRY = "SegTest_Weights.RANDOM_V1"


def segment(env, *args):
    return subprocess.run([cli, "segment", "--threads", "2", *args],
                          capture_output=True, text=True, timeout=300, env=env)


def palette(k):
    """VOC's colour of class k (torchvision's docs and VOC's label PNGs)."""
    r = g = b = 0
    for j in range(7, -1, -1):
        r |= (k & 1) << j
        g |= ((k >> 1) & 1) << j
        b |= ((k >> 2) & 1) << j
        k >>= 3
    return r, g, b


def make_image(path, size, seed):
    """Smooth shapes and noise: some regions, some texture."""
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 127 // (w + h))], -1)
    base[(xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 3) ** 2] = (200, 40, 60)
    noisy = np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy, "RGB").save(path)


def reference(model, path):
    """Class map, and per-pixel gap between the best two logits."""
    img = Image.open(path).convert("RGB")
    x = SemanticSegmentation(resize_size=520)(img).unsqueeze(0)
    with torch.no_grad():
        out = model(x)["out"]
        up = F.interpolate(out, size=(img.height, img.width), mode="bilinear", align_corners=False)[0]
    top2 = torch.topk(up, 2, dim=0).values
    return up.argmax(0).numpy(), (top2[0] - top2[1]).numpy()


def main():
    tap = tvwconf.Tap(11)

    model = tvwconf.randomise(S.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None), 170)
    checkpoint = os.path.join(work, "lraspp-random.pth")
    torch.save(model.state_dict(), checkpoint)
    categories = S.LRASPP_MobileNet_V3_Large_Weights.DEFAULT.meta["categories"]

    data_home = os.path.join(work, "data")
    os.makedirs(os.path.join(data_home, "tvw", "weights"))
    card = {
        "enum": "SegTest_Weights",
        "builder": "lraspp_mobilenet_v3_large",
        "entries": [{
            "name": "RANDOM_V1",
            "file": checkpoint,
            "transforms": {"preset": "SemanticSegmentation", "resize_size": 520},
            "meta": {"categories": {"$list": "voc"}, "_metrics": {"VOC": {"miou": 1.0}},
                     "_docs": "Random weights for the CLI's test."},
        }],
    }
    with open(os.path.join(data_home, "tvw", "weights", "seg-test.json"), "w") as f:
        json.dump(card, f)
    env = dict(os.environ, XDG_DATA_HOME=data_home)

    a = os.path.join(work, "a.png")
    b = os.path.join(work, "b.png")
    make_image(a, (150, 97), 1)
    make_image(b, (64, 131), 2)

    # The colour mask and the JSON, against the reference.
    mask_path = os.path.join(work, "mask.png")
    p = segment(env, "--weights", ENTRY, "--mask", "--output", mask_path, "--json", a)
    tap.ok(p.returncode == 0, "tvw segment ran", p.stderr)
    report = json.loads(p.stdout) if p.returncode == 0 else {"images": [{}]}
    want, gap = reference(model, a)
    mask = np.asarray(Image.open(mask_path).convert("RGB")) if os.path.exists(mask_path) else None
    if mask is None or mask.shape[:2] != want.shape:
        tap.ok(False, "the mask has the image's size", None if mask is None else mask.shape)
        tap.ok(False, "the mask is torchvision's argmax of the upsampled logits")
    else:
        tap.ok(True, "the mask has the image's size")
        colours = np.array([palette(k) for k in range(21)], np.uint8)
        expected = colours[want]
        differ = np.any(mask != expected, axis=-1)
        # float32 against float32 in another order: a pixel may only differ
        # where the two best logits tie within 1e-4.
        ok = not np.any(differ & (gap > 1e-4))
        tap.ok(ok, "the mask is torchvision's argmax of the upsampled logits",
               f"{int(differ.sum())} pixels differ, {int((differ & (gap > 1e-4)).sum())} beyond ties")

    image = report["images"][0]
    counts = np.bincount(want.ravel(), minlength=21)
    present = {int(k) for k in np.nonzero(counts)[0]}
    got = {c["index"]: c for c in image.get("classes", [])}
    tap.ok(set(got) == present and (image.get("width"), image.get("height")) == (150, 97),
           "the JSON lists the classes present and the image's size", f"{sorted(got)} vs {sorted(present)}")
    shares_ok = all(abs(got[k]["share"] - counts[k] / want.size) <= 2e-3 and
                    got[k]["category"] == categories[k] and
                    got[k]["color"] == "#%02x%02x%02x" % palette(k) for k in present & set(got))
    order = [c["pixels"] for c in image.get("classes", [])]
    tap.ok(shares_ok and order == sorted(order, reverse=True),
           "each class's share, name and colour, largest first", image.get("classes"))

    # The overlay: background pixels keep the image, the others are blended.
    overlay_path = os.path.join(work, "overlay.png")
    p = segment(env, "--weights", ENTRY, "--opacity", "1", "--output", overlay_path, a)
    tap.ok(p.returncode == 0 and "Using SegTest_Weights.RANDOM_V1" in p.stdout and
           os.path.exists(overlay_path), "the overlay is written", p.stdout + p.stderr)
    if os.path.exists(overlay_path) and mask is not None:
        overlay = np.asarray(Image.open(overlay_path).convert("RGB"))
        src = np.asarray(Image.open(a).convert("RGB"))
        background = np.all(mask == 0, axis=-1)
        ok = (np.array_equal(overlay[background], src[background]) and
              np.array_equal(overlay[~background], mask[~background]))
        tap.ok(ok, "at opacity 1: the image on the background, the palette elsewhere")
    else:
        tap.ok(False, "at opacity 1: the image on the background, the palette elsewhere")

    # Several images: numbered outputs, one JSON entry each, in order.
    out = os.path.join(work, "many.png")
    p = segment(env, "--weights", ENTRY, "--output", out, "--json", a, b)
    report = json.loads(p.stdout) if p.returncode == 0 else {"images": []}
    written = [i.get("output") for i in report["images"]]
    tap.ok(written == [os.path.join(work, "many-1.png"), os.path.join(work, "many-2.png")] and
           all(os.path.exists(w) for w in written), "several images: many-1.png, many-2.png", written)
    want_b, _ = reference(model, b)
    tap.ok(len(report["images"]) == 2 and
           (report["images"][1]["width"], report["images"][1]["height"]) == (64, 131) and
           {c["index"] for c in report["images"][1]["classes"]} == set(np.unique(want_b).tolist()),
           "the second image's own size and classes", report["images"][1:] if report["images"] else p.stderr)

    # Without --weights: the card's entry is the only segmentation one
    # available offline.
    p = segment(env, "--json", a)
    tap.ok(p.returncode == 0 and json.loads(p.stdout)["weights"] == ENTRY,
           "without --weights, the best entry available offline", p.stdout[:300] + p.stderr)

    # A file that is not an image: exit 1 naming it, the others still done.
    bad = os.path.join(work, "not-an-image.png")
    with open(bad, "w") as f:
        f.write("hello")
    p = segment(env, "--weights", ENTRY, a, bad)
    tap.ok(p.returncode == 1 and "not-an-image.png" in p.stderr and a in p.stdout,
           "a bad file fails alone, named", p.stderr)

    tap.exit()


if __name__ == "__main__":
    main()
