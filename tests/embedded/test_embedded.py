#!/usr/bin/python3
# The embedded Fashion-MNIST weights, end to end: `tvw classify` on the
# bundled samples against PyTorch + torchvision's preset on the same files,
# and `tvw eval` against PyTorch's own eval (build-aux/eval-fashion-mnist.py).
#
#   TVW_EVAL_LIMIT=N   how many test images the eval comparison uses
#                      (default 500; 0 = the whole test set, the slow suite)
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))

import torch
import torchvision.models as M
from PIL import Image
from torchvision.transforms._presets import ImageClassification
from torchvision.transforms.functional import InterpolationMode

import tvwconf

top = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
cli = os.environ.get("TVW_CLI", "tvw")
limit = int(os.environ.get("TVW_EVAL_LIMIT", "500"))
data_dir = "/usr/share/datasets/fashion-mnist"
card = json.load(open(os.path.join(top, "data", "weights", "fashionmnist-card.json")))
entry = card["entries"][0]
full_name = f"{card['enum']}.{entry['name']}"
samples = sorted(os.path.join(top, "data", "samples", f)
                 for f in os.listdir(os.path.join(top, "data", "samples")) if f.endswith(".png"))

tap = tvwconf.Tap(4)

# 1. classify picks the embedded weights by itself, offline, and gets the
#    samples right (each file name carries its label).
out = subprocess.run([cli, "classify", "--json", *samples], capture_output=True, text=True,
                     env=dict(os.environ, TVW_OFFLINE="1"))
result = json.loads(out.stdout) if out.returncode == 0 else None
ok = result is not None and result["weights"] == full_name and result["default_choice"]
wrong = []
if ok:
    for img in result["images"]:
        slug = re.match(r"fashion-\d+-(.*)\.png", os.path.basename(img["file"])).group(1)
        got = re.sub(r"[^a-z]+", "-", img["top"][0]["category"].lower()).strip("-")
        if got != slug:
            wrong.append((img["file"], got))
tap.ok(ok and not wrong, "tvw classify: offline default is the embedded entry, samples right",
       out.stderr if not ok else (wrong or None))

# 2. The same probabilities as PyTorch on the same files, through
#    torchvision's own preset and Pillow.
model = M.mobilenet_v3_small(num_classes=10)
model.load_state_dict(torch.load(os.path.join(top, "data", "weights", entry["file"])))
model.eval()
t = entry["transforms"]
preset = ImageClassification(crop_size=t["crop_size"], resize_size=t["resize_size"],
                             mean=t["mean"], std=t["std"],
                             interpolation=InterpolationMode(t["interpolation"]))
worst = 0.0
same_order = True
if result is not None:
    for img in result["images"]:
        with torch.no_grad():
            ref = model(preset(Image.open(img["file"]).convert("RGB")).unsqueeze(0)).softmax(1)[0]
        ref_top = ref.topk(5)
        for got, score, index in zip(img["top"], ref_top.values.tolist(), ref_top.indices.tolist()):
            worst = max(worst, abs(got["score"] - score))
            same_order &= got["index"] == index or abs(got["score"] - score) < 1e-4
# Probabilities in [0, 1]: 1e-4 absolute, the conformance tolerance.
tap.ok(result is not None and worst <= 1e-4 and same_order,
       "tvw classify matches PyTorch + torchvision's preset", f"max |Δ| = {worst:.2e}")

# 3. tvw eval reproduces PyTorch's own eval of the same file.
args = ["--limit", str(limit)] if limit else []
ours = subprocess.run([cli, "eval", "--weights", full_name, "--json", *args, data_dir],
                      capture_output=True, text=True)
theirs = subprocess.run([sys.executable, os.path.join(top, "build-aux", "eval-fashion-mnist.py"),
                         "--data-dir", data_dir, *args], capture_output=True, text=True)
try:
    a, b = json.loads(ours.stdout), json.loads(theirs.stdout.strip().splitlines()[-1])
    diff = max(abs(a["acc@1"] - b["acc@1"]), abs(a["acc@5"] - b["acc@5"]))
    tap.ok(diff <= 0.05 and a["count"] == b["count"],
           f"tvw eval = PyTorch's eval within 0.05 points ({a['count']} images)",
           f"tvw {a}, PyTorch {b}")
except Exception as e:
    tap.ok(False, "tvw eval = PyTorch's eval within 0.05 points", f"{e}\n{ours.stderr}\n{theirs.stderr}")

# 4. On the whole test set the recorded metrics hold (slow suite only).
if limit == 0:
    try:
        rec = entry["meta"]["_metrics"]["Fashion-MNIST"]
        diff = max(abs(a["acc@1"] - rec["acc@1"]), abs(a["acc@5"] - rec["acc@5"]))
        tap.ok(diff <= 0.05, "tvw eval reproduces the recorded _metrics", f"tvw {a}, recorded {rec}")
    except Exception as e:
        tap.ok(False, "tvw eval reproduces the recorded _metrics", str(e))
else:
    tap.skip("tvw eval reproduces the recorded _metrics", "the whole test set runs in the slow suite")

tap.exit()
