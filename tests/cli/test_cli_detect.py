#!/usr/bin/python3
# `tvw detect` and `tvw forward` with detection models.
#
# Always: the usage errors, a classifier refused by name (as a JSON error
# too), the help texts.  For one detection builder of each family `tvw
# list` shows (CANDIDATES), end to end against torchvision with a random
# checkpoint: `tvw detect --json` must list exactly what `tvw forward`
# writes for image 0 of a 2-image batch (the same graph: boxes within
# 1e-3 px, the preprocessing of a PNG and of a .npy differing only in the
# last bit of x / 255), the .npz under torchvision's keys with int64
# labels; and that .npz matches torchvision's detections of the image by
# tvwdet.compare_detections (same label, box IoU ≥ 0.95, score within 2e-3
# for ≥ 90 % of them, counts within 10 %: near-tied scores may swap places
# and NMS is discontinuous, so no exact order is required; masks and
# keypoints too).  The PNG `--output` draws is the library's render of those
# objects (through GI, from the .npz).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))

import numpy as np
import torch
import torchvision.models as M
from PIL import Image

import gi

gi.require_version("Tvw", "1.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib, Tvw  # noqa: E402

import tvwconf  # noqa: E402
import tvwdet  # noqa: E402

torch.set_num_threads(2)
work = tvwconf.workdir()
cli = os.environ.get("TVW_CLI", "tvw")

# One builder of each family (RetinaNet is FCOS's family; the conformance
# tests cover every builder), torchvision keyword arguments given to both
# sides (small inputs for speed; a low score threshold so that random
# weights find objects).
CANDIDATES = [
    ("fcos_resnet50_fpn", {"min_size": 160, "max_size": 240, "score_thresh": 0.001}),
    ("ssdlite320_mobilenet_v3_large", {"score_thresh": 0.001}),
    ("fasterrcnn_mobilenet_v3_large_320_fpn", {"box_score_thresh": 0.001}),
    ("maskrcnn_resnet50_fpn", {"min_size": 160, "max_size": 240, "box_score_thresh": 0.001}),
    ("keypointrcnn_resnet50_fpn", {"min_size": 160, "max_size": 240, "box_score_thresh": 0.001}),
]


def tensor(array):
    """A NumPy array as a Tvw.Tensor (float32, or int64 labels)."""
    dtype = Tvw.DType.INT64 if array.dtype == np.int64 else Tvw.DType.FLOAT32
    array = np.ascontiguousarray(array, np.int64 if dtype == Tvw.DType.INT64 else np.float32)
    return Tvw.Tensor.new_from_bytes(dtype, list(array.shape), GLib.Bytes.new(array.tobytes()))


def run(*args, env=None):
    return subprocess.run([cli, *args], capture_output=True, text=True, timeout=600, env=env)


def make_image(path, size, seed):
    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx * yy) % 256)], -1)
    base[(xx - w / 3) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 4) ** 2] = (220, 30, 40)
    noisy = np.clip(base + rng.integers(-30, 31, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy, "RGB").save(path)
    return noisy


def usage_and_errors(tap, classifier_ckpt, image):
    empty = dict(os.environ, TVW_CACHE_DIR=os.path.join(work, "empty-cache"),
                 TORCH_HOME=os.path.join(work, "empty-torch"), XDG_CACHE_HOME=os.path.join(work, "empty-xdg"))
    r = run("detect", image, env=empty)
    tap.ok(r.returncode == 1 and "no detection weights are available offline" in r.stderr,
           "detect without a model and no entry offline: says so", r.stderr)
    r = run("detect", "--weights", "X.Y", "--checkpoint", classifier_ckpt, "--arch", "resnet18", image)
    tap.ok(r.returncode == 2, "detect with --weights and --checkpoint: usage error", r.stderr)
    r = run("detect", "--checkpoint", classifier_ckpt, image)
    tap.ok(r.returncode == 2, "detect --checkpoint without --arch: usage error", r.stderr)
    r = run("detect", "--weights", "NoSuch_Weights.V1", image)
    tap.ok(r.returncode == 1 and "NoSuch_Weights" in r.stderr, "an unknown entry is named", r.stderr)
    r = run("detect", "--threads", "2", "--checkpoint", classifier_ckpt, "--arch", "mobilenet_v3_small",
            "--json", image)
    try:
        doc = json.loads(r.stdout)
        err = doc["images"][0].get("error", "")
    except (ValueError, KeyError, IndexError):
        doc, err = None, ""
    tap.ok(r.returncode == 1 and "not a detection model" in err and "mobilenet_v3_small" in err,
           "a classifier is refused by name, in the JSON too", r.stdout + r.stderr)
    r = run("detect", "--help")
    tap.ok(r.returncode == 0 and "--threshold" in r.stdout and "--json" in r.stdout, "detect --help", r.stdout)
    r = run("forward", "--help")
    tap.ok(r.returncode == 0 and "image 0" in r.stdout, "forward --help says detection runs image 0", r.stdout)


def end_to_end(tap, name, kwargs, seed):
    model = tvwdet.randomise(tvwdet.construct(name, kwargs), seed)
    ckpt = os.path.join(work, f"{name}-{seed}.pth")
    torch.save(model.state_dict(), ckpt)

    path = os.path.join(work, f"{name}-{seed}.png")
    pixels = make_image(path, (97, 71), seed)
    x = torch.from_numpy(pixels).permute(2, 0, 1).float() / 255
    batch = torch.stack([x, torch.flip(x, [2])]).numpy()
    npy = os.path.join(work, f"{name}-{seed}.npy")
    np.save(npy, batch)
    npz = os.path.join(work, f"{name}-{seed}.npz")
    opts = tvwdet.option_args(kwargs)

    r = run("forward", "--threads", "2", "--model", name, "--checkpoint", ckpt, *opts,
            "--input", npy, "--output", npz)
    tap.ok(r.returncode == 0, f"{name}: forward on a 2-image batch", r.stderr)
    if r.returncode != 0:
        return
    arrays = np.load(npz)
    keys = set(arrays.files)
    want = {"boxes", "labels", "scores"}
    if name.startswith("maskrcnn"):
        want.add("masks")
    if name.startswith("keypointrcnn"):
        want |= {"keypoints", "keypoints_scores"}
    tap.ok(keys == want and arrays["labels"].dtype == np.int64 and arrays["boxes"].shape[1:] == (4,),
           f"{name}: the .npz has torchvision's keys, int64 labels", f"{keys} {arrays['labels'].dtype}")

    r = run("detect", "--threads", "2", "--checkpoint", ckpt, "--arch", name, *opts,
            "--threshold", "0", "--json", path)
    doc = json.loads(r.stdout) if r.returncode == 0 else {"images": [{}]}
    objects = doc["images"][0].get("objects", [])
    same = (len(objects) == len(arrays["scores"]) and
            all(o["label"] == int(l) and abs(o["score"] - float(s)) < 1e-4 and
                np.allclose(o["box"], b, atol=1e-3)
                for o, b, l, s in zip(objects, arrays["boxes"], arrays["labels"], arrays["scores"])))
    tap.ok(r.returncode == 0 and same, f"{name}: detect lists what forward writes for image 0",
           f"{len(objects)} vs {len(arrays['scores'])} {r.stderr}")

    ref = tvwdet.reference(model, batch[:1])
    matched, diag = tvwdet.compare_detections({k: arrays[k] for k in arrays.files}, ref)
    tap.ok(len(ref["scores"]) > 0 and matched, f"{name}: torchvision's detections matched", diag)

    # The drawn PNG is the library's render of the objects forward found,
    # a few of them (the threshold at the fifth score): drawn through GI
    # from the .npz, it must be the same picture but for antialiasing
    # (the boxes of a PNG and of a .npy differ in the last bits).
    if not objects:
        tap.ok(False, f"{name}: --output draws what the library renders", "no objects")
        return
    threshold = objects[min(4, len(objects) - 1)]["score"]
    out = os.path.join(work, f"{name}-{seed}-drawn.png")
    r = run("detect", "--threads", "2", "--checkpoint", ckpt, "--arch", name, *opts,
            "--threshold", repr(threshold), "--output", out, path)
    drawn = np.asarray(Image.open(out).convert("RGB")).astype(int) if r.returncode == 0 else None
    tensors = {k: tensor(arrays[k]) for k in arrays.files}
    det = Tvw.Detection.new_from_tensors(97, 71, tensors["boxes"], tensors["labels"], tensors["scores"],
                                         tensors.get("masks"), tensors.get("keypoints"),
                                         tensors.get("keypoints_scores"), None, None)
    image = GdkPixbuf.Pixbuf.new_from_file(path)
    ref = det.render(image, threshold)
    data, stride = ref.get_pixels(), ref.get_rowstride()
    ref = np.array([np.frombuffer(data[y * stride:y * stride + 97 * 3], np.uint8) for y in range(71)])
    ref = ref.reshape(71, 97, 3).astype(int)
    differ = 0 if drawn is None else int((np.abs(drawn - ref).max(-1) > 8).sum())
    changed = 0 if drawn is None else int((np.abs(drawn - pixels.astype(int)).max(-1) > 0).sum())
    tap.ok(drawn is not None and differ <= 20 and changed > 50,
           f"{name}: --output draws what the library renders",
           f"{differ} pixels differ from the GI render, {changed} differ from the image {r.stderr}")


def nothing_found_and_tiny(tap, name, kwargs, seed):
    """A score threshold of 1: an empty .npz (0×4 boxes, int64 labels) and
    no objects; a 1×1 image: objects or a clear error, never a crash."""
    ckpt = os.path.join(work, f"{name}-{seed}.pth")
    path = os.path.join(work, f"{name}-{seed}.png")
    strict = {k: (1.0 if k.endswith("score_thresh") else v) for k, v in kwargs.items()}
    npy = os.path.join(work, f"{name}-{seed}.npy")
    npz = os.path.join(work, f"{name}-{seed}-none.npz")
    r = run("forward", "--threads", "2", "--model", name, "--checkpoint", ckpt, *tvwdet.option_args(strict),
            "--input", npy, "--output", npz)
    arrays = np.load(npz) if r.returncode == 0 else None
    tap.ok(arrays is not None and arrays["boxes"].shape == (0, 4) and arrays["labels"].shape == (0,) and
           arrays["labels"].dtype == np.int64, f"{name}: nothing above a threshold of 1, an empty .npz",
           r.stderr)
    r = run("detect", "--threads", "2", "--checkpoint", ckpt, "--arch", name, *tvwdet.option_args(strict),
            "--json", path)
    found = json.loads(r.stdout)["images"][0].get("found") if r.returncode == 0 else None
    tap.ok(found == 0, f"{name}: detect finds nothing", r.stderr)

    tiny = os.path.join(work, "one-pixel.png")
    Image.new("RGB", (1, 1), (200, 10, 10)).save(tiny)
    r = run("detect", "--threads", "2", "--checkpoint", ckpt, "--arch", name, *tvwdet.option_args(kwargs),
            "--json", tiny)
    tap.ok(r.returncode in (0, 1) and r.stdout.startswith("{"), f"{name}: a 1×1 image, no crash",
           f"{r.returncode} {r.stderr}")


def main():
    listed = run("list").stdout.split()
    models = [(n, k) for n, k in CANDIDATES if n in listed]
    tap = tvwconf.Tap(7 + 5 * len(models) + (3 if models else 0))

    classifier = M.mobilenet_v3_small(weights=None)
    ckpt = os.path.join(work, "mobilenet_v3_small-random.pth")
    torch.save(classifier.state_dict(), ckpt)
    image = os.path.join(work, "detect-input.png")
    make_image(image, (64, 48), 1)
    usage_and_errors(tap, ckpt, image)

    for seed, (name, kwargs) in enumerate(models, 181):
        end_to_end(tap, name, kwargs, seed)
    if models:
        nothing_found_and_tiny(tap, models[0][0], models[0][1], 181)
    if not models:
        print("# no detection builder in `tvw list` yet: end-to-end checks skipped")

    tap.exit()


if __name__ == "__main__":
    main()
