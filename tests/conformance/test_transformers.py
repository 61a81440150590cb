#!/usr/bin/python3
# ViT B/16, B/32, L/16, L/32, H/14, Swin T/S/B, Swin V2 T/S/B and MaxViT T
# against PyTorch: every builder, every parameter and buffer random (ViT's
# class token and head too: torchvision initialises them to zero), several
# checkpoint forms.  ViT runs at its own size only (the position embedding
# fixes it; a 384² checkpoint is recognised from its pos_embedding); Swin
# at its default size and at sizes that are not multiples of the window
# (padding) or that leave one window in the last stages (no shift there);
# MaxViT at 224² (its grid is fixed at construction).
#
#   TVW_CONFORMANCE_ONLY=vit_b_16,swin_t  runs a subset.
#   TVW_CONFORMANCE_SLOW=1  runs the biggest models (SLOW) instead of the
#   others: vit_h_14's 632 M parameters take minutes to randomise and save
#   alone (the 'slow' suite).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch
import torchvision.models as M

import tvwconf
from test_families import no_init

torch.set_num_threads(2)

SQUARE = (224, 224)
ALL_FORMS = ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"]

# (name, forms, inputs): every form somewhere, each size on one form (the
# forms only change how the weights are read).
MODELS = [
    ("vit_b_16", ["zip"], [(2, SQUARE)]),
    ("vit_b_16", ALL_FORMS[1:], [(1, SQUARE)]),
    ("vit_b_32", ["zip", "fp16"], [(3, SQUARE)]),
    ("vit_l_32", ["safetensors"], [(1, SQUARE)]),
    ("vit_l_16", ["zip"], [(1, SQUARE)]),
    ("vit_h_14", ["zip"], [(1, SQUARE)]),
    ("swin_t", ["zip"], [(1, SQUARE), (2, (97, 131)), (1, (64, 64))]),
    ("swin_t", ALL_FORMS[1:], [(1, (97, 131))]),
    ("swin_s", ["legacy"], [(1, (100, 100))]),
    ("swin_b", ["safetensors"], [(1, (120, 90))]),
    ("swin_v2_t", ["zip"], [(1, (256, 256)), (2, (97, 131)), (1, (64, 64))]),
    ("swin_v2_t", ["wrapped", "fp16"], [(1, (97, 131))]),
    ("swin_v2_s", ["state_dict"], [(1, (100, 100))]),
    ("swin_v2_b", ["zip"], [(1, (90, 120))]),
    ("maxvit_t", ["zip"], [(2, SQUARE)]),
    ("maxvit_t", ["legacy", "safetensors"], [(1, SQUARE)]),
]


SLOW = {"vit_h_14", "vit_l_16"}


def construct(name):
    with no_init():
        return getattr(M, name)(weights=None)


if __name__ == "__main__":
    slow = os.environ.get("TVW_CONFORMANCE_SLOW") == "1"
    chosen = [m for m in MODELS if (m[0] in SLOW) == slow]
    tvwconf.run_models(chosen, seed=1500, rng_seed=15, construct=construct, timings=True)
