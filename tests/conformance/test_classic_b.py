#!/usr/bin/python3
# GoogLeNet, Inception v3, MNASNet, ShuffleNet V2 and ConvNeXt against
# PyTorch: every builder, random weights (every parameter and buffer,
# ConvNeXt's layer scale included), every checkpoint form spread over the
# models, batch 1 and 2, the default crop and odd sizes (the smallest the
# architecture takes among them), the big ConvNeXts at a small size in one
# form.
#
# GoogLeNet and Inception v3 also run from a weights card (a weights entry):
# torchvision's googlenet(weights=…) / inception_v3(weights=…) re-normalise
# the input (transform_input) and load a checkpoint that has the auxiliary
# heads; a bare checkpoint is weights=None: no transform, heads present
# (aux_logits defaults to True in GoogLeNet and Inception3).
#
#   TVW_CONFORMANCE_ONLY=googlenet,convnext_tiny  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models as M

import tvwconf
from test_families import no_init

torch.set_num_threads(2)

ALL_FORMS = ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"]
SQUARE, ODD, TINY = (224, 224), (97, 131), (1, 1)
SMALL = [(1, SQUARE), (2, ODD)]

MODELS = [
    ("googlenet", ["zip", "legacy"], SMALL + [(2, (15, 15))]),
    ("inception_v3", ["safetensors"], [(1, (299, 299)), (2, (75, 91))]),
    ("inception_v3", ["fp16"], [(2, (107, 83))]),
    ("mnasnet0_5", ["zip", "legacy", "wrapped"], SMALL + [(2, TINY)]),
    ("mnasnet0_75", ["state_dict"], SMALL),
    ("mnasnet1_0", ["safetensors"], SMALL),
    ("mnasnet1_3", ["fp16"], SMALL),
    ("shufflenet_v2_x0_5", ["zip", "safetensors", "fp16"], SMALL + [(2, TINY)]),
    ("shufflenet_v2_x1_0", ["legacy", "wrapped"], SMALL),
    ("shufflenet_v2_x1_5", ["state_dict"], SMALL),
    ("shufflenet_v2_x2_0", ["zip"], SMALL),
    # Every form once at an odd size, the default crop and the smallest
    # input (32×32: a 1×1 map at the end) in one.
    ("convnext_tiny", ALL_FORMS, [(2, ODD)]),
    ("convnext_tiny", ["zip"], [(1, SQUARE), (2, (32, 32))]),
    ("convnext_small", ["legacy"], [(2, (64, 96))]),
    ("convnext_base", ["safetensors"], [(1, (64, 64))]),
    ("convnext_large", ["zip"], [(1, (35, 64))]),
]

# (builder, weights enum of the card, the torchvision class's keyword
# arguments that googlenet(weights=…) / inception_v3(weights=…) set, inputs)
CARDS = [
    ("googlenet", "LocalGoogLeNet_Weights", M.GoogLeNet,
     dict(transform_input=True, aux_logits=True, init_weights=False), [(2, ODD)]),
    ("inception_v3", "LocalInception_V3_Weights", M.Inception3,
     dict(transform_input=True, aux_logits=True, init_weights=False), [(1, (83, 101))]),
]


def construct(name):
    # init_weights=False: GoogLeNet's and Inception3's warning about their
    # initialisation, which no_init skips anyway.
    kwargs = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
    with no_init():
        return getattr(M, name)(weights=None, **kwargs)


# (name of the check, the model the checkpoint comes from, the builder
# asked to load it, a word the error must contain)
MISMATCHES = [
    ("mismatch shufflenet", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "stage2.0.branch1.2.weight"),
    ("mismatch mnasnet", "mnasnet0_5", "convnext_tiny", "layers.0.weight"),
    ("mismatch convnext", "convnext_tiny", "convnext_small", "features.5.9.block.0.weight"),
    # GoogLeNet(aux_logits=False) from a bare checkpoint: weights=None means
    # aux_logits=True, as in torchvision, so the heads are missing.
    ("mismatch googlenet", "googlenet_no_aux", "googlenet", "aux1.conv.conv.weight"),
]


def mismatch_check(index):
    """A check for run_models: loading a checkpoint of another family or
    size fails with an error naming the first key that does not fit."""
    label, source, builder, key = MISMATCHES[index]

    def check(tap, work, rng):
        with no_init():
            if source == "googlenet_no_aux":
                model = M.googlenet(weights=None, aux_logits=False, init_weights=False)
            else:
                model = getattr(M, source)(weights=None)
        ckpt = os.path.join(work, f"{source}.pth")
        torch.save(model.state_dict(), ckpt)
        tvwconf.save_npy(os.path.join(work, "in.npy"), np.zeros((1, 3, 64, 64), np.float32))
        proc = tvwconf.tvw("forward", "--model", builder, "--checkpoint", ckpt,
                           "--input", os.path.join(work, "in.npy"),
                           "--output", os.path.join(work, "out.npy"), check=False)
        tap.ok(proc.returncode == 1 and key in proc.stderr,
               f"{source} checkpoint as {builder}: an error naming {key}", proc.stderr.strip())
        os.unlink(ckpt)

    return (label, 1, check)


def card_check(index):
    """A check for run_models: CARDS[index]'s entry is a weights entry, so
    `tvw forward --weights` must behave like torchvision's builder with
    weights=…  The card is found in $XDG_DATA_HOME/tvw/weights."""
    builder, enum, cls, kwargs, inputs = CARDS[index]

    def check(tap, work, rng):
        cards = os.path.join(work, "data", "tvw", "weights")
        os.makedirs(cards, exist_ok=True)
        os.environ["XDG_DATA_HOME"] = os.path.join(work, "data")
        with no_init():
            model = tvwconf.randomise(cls(**kwargs), 1400 + index)
        torch.save(model.state_dict(), os.path.join(cards, f"{builder}.pth"))
        card = {
            "enum": enum,
            "builder": builder,
            "entries": [{
                "name": "IMAGENET1K_V1",
                "file": f"{builder}.pth",
                "default": True,
                "transforms": {"preset": "ImageClassification", "crop_size": 224},
                "meta": {"categories": {"$list": "imagenet"},
                         "_docs": "Random parameters for the tests."},
            }],
        }
        with open(os.path.join(cards, f"{builder}.json"), "w") as f:
            json.dump(card, f)

        for n, (h, w) in inputs:
            batch = rng.standard_normal((n, 3, h, w)).astype(np.float32)
            with torch.no_grad():
                ref = model(torch.from_numpy(batch)).numpy()
            label = f"{builder} weights card (transform_input, aux heads) batch {n} {h}x{w}"
            try:
                in_path = os.path.join(work, "in.npy")
                out_path = os.path.join(work, "out.npy")
                tvwconf.save_npy(in_path, batch)
                tvwconf.tvw("forward", "--model", builder, "--weights", f"{enum}.IMAGENET1K_V1",
                            "--input", in_path, "--output", out_path)
                ok, diag = tvwconf.compare(np.load(out_path), ref)
            except Exception as e:  # a crash of the CLI is a failure
                ok, diag = False, str(e)
            tap.ok(ok, label, diag)

    return (builder, len(inputs), check)


def mnasnet_v1_check():
    """A check for run_models: a version 1 MNASNet checkpoint (the first
    mnasnet0_5 weights predate torchvision's version 2) has a stem of fixed
    width, 32 → 16; torchvision patches it in when such a state_dict loads,
    libtvw builds it when the checkpoint's layers.0 has 32 channels."""
    from torch import nn
    from torchvision.models.mnasnet import _BN_MOMENTUM, _get_depths, _stack

    def check(tap, work, rng):
        with no_init():
            model = M.mnasnet0_5(weights=None)
        depths = _get_depths(0.5)
        v1_stem = [
            nn.Conv2d(3, 32, 3, padding=1, stride=2, bias=False),
            nn.BatchNorm2d(32, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1, stride=1, groups=32, bias=False),
            nn.BatchNorm2d(32, momentum=_BN_MOMENTUM),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 16, 1, padding=0, stride=1, bias=False),
            nn.BatchNorm2d(16, momentum=_BN_MOMENTUM),
            _stack(16, depths[2], 3, 2, 3, 3, _BN_MOMENTUM),
        ]
        for i, layer in enumerate(v1_stem):
            model.layers[i] = layer
        model = tvwconf.randomise(model, 1450)
        ckpt = os.path.join(work, "mnasnet0_5_v1.pth")
        torch.save(model.state_dict(), ckpt)
        batch = rng.standard_normal((2, 3, 64, 72)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(batch)).numpy()
        try:
            got = tvwconf.run_forward("mnasnet0_5", ckpt, batch, work)
            ok, diag = tvwconf.compare(got, ref)
        except Exception as e:  # a crash of the CLI is a failure
            ok, diag = False, str(e)
        tap.ok(ok, "mnasnet0_5 version 1 checkpoint (fixed-width stem) batch 2 64x72", diag)
        os.unlink(ckpt)

    return ("mnasnet0_5", 1, check)


if __name__ == "__main__":
    tvwconf.run_models(MODELS, seed=1300, rng_seed=13, construct=construct, timings=True,
                       extra=[card_check(i) for i in range(len(CARDS))] +
                       [mismatch_check(i) for i in range(len(MISMATCHES))] +
                       [mnasnet_v1_check()])
