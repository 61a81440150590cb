#!/usr/bin/python3
# FCN, DeepLabV3 and LR-ASPP against PyTorch: every builder with random
# parameters and buffers, with and without the auxiliary classifier, several
# checkpoint forms, seeds and input sizes (odd, non-square, 1×1, the presets'
# 520×520 for the mobile models), and both outputs compared: `tvw forward`
# writes an .npz with torchvision's keys.  Each output must agree within
# max|Δ| ≤ 1e-4·max(1, max|ref|) (float32 sums over up to 2048·9 products in
# another order: errors seen are ~1e-6 relative).
#
# The checkpoint alone tells libtvw whether the model has its auxiliary
# classifier (tvw forward passes no aux_loss): a bare checkpoint with or
# without “aux_classifier.*” must load strictly either way.
#
#   TVW_CONFORMANCE_ONLY=fcn_resnet50,lraspp_mobilenet_v3_large  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models.segmentation as S

import tvwconf

torch.set_num_threads(2)

ALL_FORMS = ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"]
PRESET = (520, 520)

# (name, aux_loss, num_classes, forms, [(batch, (h, w))])
MODELS = [
    ("lraspp_mobilenet_v3_large", False, 21, ALL_FORMS, [(1, (64, 80)), (2, (97, 131))]),
    ("lraspp_mobilenet_v3_large", False, 21, ["zip"], [(1, PRESET), (1, (1, 1))]),
    ("deeplabv3_mobilenet_v3_large", True, 21, ["zip", "legacy", "safetensors", "fp16"],
     [(1, (64, 80)), (2, (97, 131))]),
    ("deeplabv3_mobilenet_v3_large", True, 21, ["zip"], [(1, PRESET), (1, (1, 1))]),
    ("deeplabv3_mobilenet_v3_large", False, 7, ["wrapped"], [(1, (33, 47))]),
    ("fcn_resnet50", True, 21, ["zip", "wrapped"], [(1, (64, 64)), (2, (57, 45))]),
    ("fcn_resnet50", False, 3, ["state_dict"], [(1, (35, 53)), (1, (1, 1))]),
    ("deeplabv3_resnet50", True, 21, ["zip", "fp16"], [(1, (64, 64)), (2, (57, 45))]),
    ("deeplabv3_resnet50", False, 21, ["safetensors"], [(1, (35, 53))]),
    ("fcn_resnet101", True, 21, ["zip"], [(1, (49, 61))]),
    ("deeplabv3_resnet101", True, 21, ["legacy"], [(1, (49, 61))]),
]


def construct(name, aux, num_classes):
    kwargs = {"weights": None, "weights_backbone": None, "num_classes": num_classes}
    if not name.startswith("lraspp"):
        kwargs["aux_loss"] = aux
    return getattr(S, name)(**kwargs)


def run_forward(name, ckpt, batch, num_classes, work):
    in_path = os.path.join(work, "in.npy")
    out_path = os.path.join(work, "out.npz")
    tvwconf.save_npy(in_path, batch)
    extra = ["--num-classes", str(num_classes)] if num_classes != 21 else []
    tvwconf.tvw("forward", "--model", name, "--checkpoint", ckpt,
                "--input", in_path, "--output", out_path, *extra)
    with np.load(out_path) as npz:
        return {k: npz[k] for k in npz.files}


def main():
    only = os.environ.get("TVW_CONFORMANCE_ONLY")
    models = [m for m in MODELS if not only or m[0] in only.split(",")]
    tap = tvwconf.Tap(sum(len(forms) * len(inputs) for _, _, _, forms, inputs in models))
    work = tvwconf.workdir()
    rng = np.random.default_rng(17)

    try:
        for index, (name, aux, num_classes, forms, inputs) in enumerate(models):
            start = time.monotonic()
            model = tvwconf.randomise(construct(name, aux, num_classes), 1700 + index)
            sd = model.state_dict()
            batches = [rng.standard_normal((n, 3, h, w)).astype(np.float32) for n, (h, w) in inputs]
            for form in forms:
                ckpt = os.path.join(work, f"{name}.{form}")
                used = tvwconf.write_form(sd, form, ckpt)
                if used is not sd:
                    model.load_state_dict(used)
                for batch in batches:
                    with torch.no_grad():
                        ref = {k: v.numpy() for k, v in model(torch.from_numpy(batch)).items()}
                    label = (f"{name} aux={aux} classes={num_classes} {form} "
                             f"batch {batch.shape[0]} {batch.shape[2]}x{batch.shape[3]}")
                    try:
                        got = run_forward(name, ckpt, batch, num_classes, work)
                        if sorted(got) != sorted(ref):
                            ok, diag = False, f"outputs {sorted(got)} != {sorted(ref)}"
                        else:
                            ok, diags = True, []
                            for key in ref:
                                key_ok, key_diag = tvwconf.compare(got[key], ref[key])
                                ok = ok and key_ok
                                diags.append(f"{key}: {key_diag}")
                            diag = "\n".join(diags)
                    except Exception as e:  # a crash of the CLI is a failure
                        ok, diag = False, str(e)
                    tap.ok(ok, label, diag)
                if used is not sd:
                    model.load_state_dict(sd)
                os.unlink(ckpt)
            del model, sd
            print(f"# {name} aux={aux}: {time.monotonic() - start:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tap.exit()


if __name__ == "__main__":
    main()
