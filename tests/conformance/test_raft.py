#!/usr/bin/python3
# Optical flow against PyTorch: RAFT large and small with every parameter
# and buffer randomised, two N×3×H×W images through `tvw forward --input
# --input`, compared with torchvision's last flow prediction.  Tolerance
# 1e-3·max(1, max|ref|): the update block runs 12 times (or
# num_flow_updates) and each iteration's rounding moves the next lookup.
# The flow head's last convolution is scaled down (as in a trained model,
# whose per-iteration updates are small) so that the random flow stays
# within the images and the correlation lookups compare like for like.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models.optical_flow as OF

import tvwconf

torch.set_num_threads(2)

# (name, form, batch, height, width, num_flow_updates or None)
CASES = [
    ("raft_small", "zip", 1, 128, 160, None),
    ("raft_small", "safetensors", 2, 136, 128, 3),
    ("raft_large", "legacy", 1, 128, 136, 4),
    ("raft_large", "fp16", 1, 144, 128, None),
]

# For test_builders.py, which finds each builder's conformance test by the
# MODELS lists of these scripts: (name, forms, [(batch, (h, w))]).
MODELS = [(name, [form], [(n, (h, w))]) for name, form, n, h, w, _ in CASES]


def main():
    tap = tvwconf.Tap(len(CASES) + 2)
    work = tvwconf.workdir()
    rng = np.random.default_rng(23)
    for i, (name, form, n, h, w, updates) in enumerate(CASES):
        model = tvwconf.randomise(getattr(OF, name)(weights=None), 2300 + i)
        with torch.no_grad():
            model.update_block.flow_head.conv2.weight.mul_(0.05)
            model.update_block.flow_head.conv2.bias.mul_(0.05)
        sd = model.state_dict()
        ckpt = os.path.join(work, f"{name}.{form}")
        used = tvwconf.write_form(sd, form, ckpt)
        if used is not sd:
            model.load_state_dict(used)
        img1 = rng.uniform(-1, 1, (n, 3, h, w)).astype(np.float32)
        img2 = np.roll(img1, (3, -2), axis=(2, 3)) + 0.1 * rng.standard_normal((n, 3, h, w)).astype(np.float32)
        kw = {} if updates is None else {"num_flow_updates": updates}
        with torch.no_grad():
            ref = model(torch.from_numpy(img1), torch.from_numpy(img2), **kw)[-1].numpy()
        p1, p2 = os.path.join(work, "a.npy"), os.path.join(work, "b.npy")
        out = os.path.join(work, "out.npy")
        tvwconf.save_npy(p1, img1)
        tvwconf.save_npy(p2, np.ascontiguousarray(img2))
        extra = [] if updates is None else ["--option", f"num_flow_updates={updates}"]
        try:
            tvwconf.tvw("forward", "--model", name, "--checkpoint", ckpt, "--input", p1,
                        "--input", p2, "--output", out, *extra)
            got = np.load(out)
            ok, diag = tvwconf.compare(got, ref, rtol=1e-3)
        except Exception as e:
            ok, diag = False, str(e)
        tap.ok(ok, f"{name} {form} batch {n} {h}x{w} updates {updates or 12}", diag)

    # A size RAFT refuses (not a multiple of 8), and one image instead of two.
    proc = tvwconf.tvw("forward", "--model", "raft_small", "--input", p1, "--input", p1,
                       "--output", out, check=False)
    bad = os.path.join(work, "bad.npy")
    tvwconf.save_npy(bad, np.zeros((1, 3, 132, 128), np.float32))
    proc = tvwconf.tvw("forward", "--model", "raft_small", "--input", bad, "--input", bad,
                       "--output", out, check=False)
    tap.ok(proc.returncode != 0 and "divisible by 8" in proc.stderr,
           "a 132×128 pair is refused", proc.stderr.strip())
    proc = tvwconf.tvw("forward", "--model", "raft_small", "--input", p1, "--output", out,
                       check=False)
    tap.ok(proc.returncode != 0 and "takes 2 inputs" in proc.stderr,
           "one image is refused", proc.stderr.strip())
    tap.exit()


if __name__ == "__main__":
    main()
