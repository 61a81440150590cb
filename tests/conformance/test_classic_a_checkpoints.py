#!/usr/bin/python3
# AlexNet, VGG, SqueezeNet, DenseNet: checkpoints that are not plain
# state_dicts of the model.  VGG16_Weights.IMAGENET1K_FEATURES has no
# trained classifier (NaN in torchvision's file): it loads and runs, its
# logits are NaN like PyTorch's.  A checkpoint of another family or size is
# refused with an error naming the first key that does not fit, never a
# crash; with DenseNet's old key names too.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models as M

import tvwconf
from test_classic_a import OLD_DENSE_KEY
from test_families import construct

torch.set_num_threads(2)


def forward(model, ckpt, inp, out):
    return tvwconf.tvw("forward", "--model", model, "--checkpoint", ckpt, "--input", inp,
                       "--output", out, check=False)


def refused(tap, label, proc, *needles):
    """Exit status 1 (an error, not a signal) and every needle in stderr."""
    missing = [n for n in needles if n not in proc.stderr]
    tap.ok(proc.returncode == 1 and not missing, label,
           f"status {proc.returncode}, stderr: {proc.stderr.strip()}" if missing or proc.returncode != 1
           else proc.stderr.strip())


def main():
    tap = tvwconf.Tap(8)
    work = tvwconf.workdir()
    rng = np.random.default_rng(141)
    inp = os.path.join(work, "in.npy")
    out = os.path.join(work, "out.npy")
    tvwconf.save_npy(inp, rng.standard_normal((2, 3, 35, 53)).astype(np.float32))

    try:
        # torchvision's vgg16_features file: trained features, NaN classifier.
        model = tvwconf.randomise(construct("vgg16"), 14)
        sd = model.state_dict()
        for k in sd:
            if k.startswith("classifier."):
                sd[k] = torch.full_like(sd[k], float("nan"))
        model.load_state_dict(sd)
        ckpt = os.path.join(work, "vgg16_features.pth")
        torch.save(sd, ckpt)
        with torch.no_grad():
            ref = model(torch.from_numpy(np.load(inp))).numpy()
        p = forward("vgg16", ckpt, inp, out)
        got = np.load(out) if p.returncode == 0 else None
        tap.ok(p.returncode == 0 and got.shape == (2, 1000) and np.isnan(got).all() and
               np.isnan(ref).all(), "vgg16 with a NaN classifier loads and runs to NaN logits",
               p.stderr.strip())
        del model, sd
        os.unlink(ckpt)

        info = json.loads(tvwconf.tvw("info", "VGG16_Weights.IMAGENET1K_FEATURES", "--json").stdout)
        entry = info[0] if isinstance(info, list) else info
        meta = entry.get("meta", entry)
        tap.ok(meta.get("categories", "absent") is None and meta.get("num_params") == 138357544,
               "VGG16_Weights.IMAGENET1K_FEATURES: no categories, vgg16's parameters",
               json.dumps(meta)[:300])

        # Another family, another size: the first key that does not fit.
        sd = construct("vgg16").state_dict()
        ckpt = os.path.join(work, "vgg16-features-only.pth")
        torch.save({k: v for k, v in sd.items() if k.startswith("features.")}, ckpt)
        refused(tap, "vgg16 checkpoint into vgg19: its first extra key", forward("vgg19", ckpt, inp, out),
                "Unexpected key", "features.17.weight")
        refused(tap, "vgg16 checkpoint into vgg16_bn: its first extra key",
                forward("vgg16_bn", ckpt, inp, out), "Unexpected key", "features.2.weight")

        sd = construct("squeezenet1_0").state_dict()
        ckpt = os.path.join(work, "squeezenet1_0.pth")
        torch.save(sd, ckpt)
        refused(tap, "squeezenet1_0 checkpoint into squeezenet1_1",
                forward("squeezenet1_1", ckpt, inp, out), "Unexpected key", "features.5.squeeze.weight")
        refused(tap, "squeezenet1_0 checkpoint into alexnet", forward("alexnet", ckpt, inp, out),
                "Unexpected key", "features.3.squeeze.weight")

        sd = construct("densenet121").state_dict()
        ckpt = os.path.join(work, "densenet121.pth")
        torch.save(sd, ckpt)
        refused(tap, "densenet121 checkpoint into densenet169: the first missing layer",
                forward("densenet169", ckpt, inp, out),
                "Missing key", "features.denseblock3.denselayer25.norm1.weight")

        # Old names: the error names the key by its current name.
        old = {OLD_DENSE_KEY.sub(r"\1.\2", k): v for k, v in sd.items()
               if k != "features.denseblock2.denselayer3.conv2.weight"}
        torch.save(old, ckpt)
        refused(tap, "densenet121 under old names, a layer missing",
                forward("densenet121", ckpt, inp, out),
                "Missing key", "features.denseblock2.denselayer3.conv2.weight")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tap.exit()


if __name__ == "__main__":
    main()
