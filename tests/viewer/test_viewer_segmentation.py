#!/usr/bin/python3
# test_viewer_segmentation.py — tvw-viewer with a segmentation entry, under
# Xvfb, against PyTorch.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A weights card registers an LR-ASPP checkpoint with random weights.  The
# viewer is started on two images with `--weights` on that entry; its test
# hook (TVW_VIEWER_TEST_REPORT) writes what each row shows once everything
# is segmented, and a screenshot.  Each image must get an overlay at its
# own size and a legend whose classes and shares are torchvision's (the
# preset, the model, `out` upsampled to the image's size, argmax), and the
# class named under the pointer at the overlay's centre must be the
# reference's there.

import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    import torchvision.models.segmentation as S
    from PIL import Image, ImageDraw
    from torchvision.transforms._presets import SemanticSegmentation
except ImportError as e:
    print(f"1..0 # SKIP needs torch, torchvision and Pillow: {e}")
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))
import tvwconf  # noqa: E402

torch.set_num_threads(2)


def make_image(path, size, i):
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    w, h = size
    for y in range(0, h, 4):
        draw.rectangle([0, y, w, y + 3], fill=((y * 3 + 40 * i) % 256, (y + 90 * i) % 256, (200 - y) % 256))
    draw.ellipse([w // 4, h // 4, w // 4 + w // 2, h // 4 + h // 3], fill=(250, 220 - 50 * i, 30 * i))
    img.save(path)


def reference(model, path):
    img = Image.open(path).convert("RGB")
    with torch.no_grad():
        out = model(SemanticSegmentation(resize_size=520)(img).unsqueeze(0))["out"]
        up = F.interpolate(out, size=(img.height, img.width), mode="bilinear", align_corners=False)[0]
    return up.argmax(0).numpy()


def main():
    results = []

    def ok(cond, name, diag=None):
        results.append((bool(cond), name, diag))

    builddir = os.environ.get("G_TEST_BUILDDIR", ".")
    work = tempfile.mkdtemp(prefix="viewer-seg-", dir=builddir)

    model = tvwconf.randomise(S.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None), 71)
    checkpoint = os.path.join(work, "lraspp-random.pth")
    torch.save(model.state_dict(), checkpoint)
    categories = S.LRASPP_MobileNet_V3_Large_Weights.DEFAULT.meta["categories"]

    data_home = os.path.join(work, "data")
    os.makedirs(os.path.join(data_home, "tvw", "weights"))
    card = {
        "enum": "ViewerSeg_Weights",
        "builder": "lraspp_mobilenet_v3_large",
        "entries": [{
            "name": "RANDOM_V1",
            "file": checkpoint,
            "transforms": {"preset": "SemanticSegmentation", "resize_size": 520},
            "meta": {"categories": {"$list": "voc"}, "_docs": "Random weights for the viewer's test."},
        }],
    }
    with open(os.path.join(data_home, "tvw", "weights", "viewer-seg.json"), "w") as f:
        json.dump(card, f)

    images = []
    for i, size in enumerate([(320, 200), (150, 260)]):
        path = os.path.join(work, f"image-{i}.png")
        make_image(path, size, i)
        images.append(path)

    report_path = os.path.join(work, "report.json")
    screenshot = os.path.join(builddir, "viewer-segmentation.png")
    env = dict(os.environ, XDG_DATA_HOME=data_home, TVW_VIEWER_TEST_REPORT=report_path,
               TVW_VIEWER_TEST_SCREENSHOT=screenshot)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24 -nolisten tcp",
           os.environ["TVW_VIEWER"], "--weights", "ViewerSeg_Weights.RANDOM_V1"] + images
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=400)
    ok(proc.returncode == 0, "the viewer ran and quit by itself",
       f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    report = {"images": [], "status": None}
    if os.path.exists(report_path):
        with open(report_path) as f:
            report = json.load(f)
    ok(report["status"] == "Ready", "the segmentation weights from the card loaded", report["status"])

    shown = {i["title"]: i for i in report["images"]}
    for path in images:
        name = os.path.basename(path)
        item = shown.get(name)
        seg = (item or {}).get("segmentation")
        if item is None or item["state"] != "classified" or seg is None:
            ok(False, f"{name}: segmented, with a segmentation view", item)
            continue
        want = reference(model, path)
        h, w = want.shape
        ok(seg["overlay"] == [w, h] and seg["visible"],
           f"{name}: an overlay at the image's size is shown", seg)
        counts = np.bincount(want.ravel(), minlength=21)
        present = [int(k) for k in np.argsort(-counts, kind="stable") if counts[k] > 0]
        legend = [f"{categories[k]} {100 * counts[k] / want.size:.1f} %" for k in present]
        ok(seg["legend"].splitlines() == legend, f"{name}: the legend is the classes present, largest first",
           f"shown    {seg['legend'].splitlines()}\nexpected {legend}")
        ok(item["shown"] is not None and item["shown"].splitlines()[1:] == legend,
           f"{name}: the row on screen shows the legend", item["shown"])
        ok(seg["class_at_centre"] == categories[want[h // 2, w // 2]],
           f"{name}: hovering the centre names the class there",
           f"{seg['class_at_centre']} vs {categories[want[h // 2, w // 2]]}")
        ok(abs(seg["opacity"] - 0.6) < 1e-9, f"{name}: an opacity control, at 0.6", seg["opacity"])

    print(f"1..{len(results)}")
    failed = 0
    for n, (cond, name, diag) in enumerate(results, 1):
        print(f"{'ok' if cond else 'not ok'} {n} {name}")
        if not cond:
            failed += 1
            for line in str(diag).splitlines():
                print(f"# {line}")
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
