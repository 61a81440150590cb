#!/usr/bin/python3
# RegNet X/Y, EfficientNet B0–B7 and V2, MobileNet V2/V3 against PyTorch:
# every builder, random weights (every parameter and buffer), several
# checkpoint forms, batch 1 and 3, a square and an odd non-square size
# (the largest models at one small size), and the smallest input (1×1).
#
#   TVW_CONFORMANCE_ONLY=efficientnet_b0,regnet_y_400mf  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch
import torchvision.models as M

import tvwconf

torch.set_num_threads(2)

ALL_FORMS = ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"]
SQUARE, MEDIUM, ODD, SMALL_ODD, TINY = (224, 224), (128, 128), (97, 131), (35, 53), (1, 1)
SMALL = [(1, SQUARE), (3, ODD)]
MID = [(1, MEDIUM), (3, ODD)]
LARGE = [(3, SMALL_ODD)]

# (name, forms, inputs): every form somewhere, several on the small models;
# the big ones in forms that map without a copy, at sizes that keep the
# file well inside CI's budget.
MODELS = [
    ("mobilenet_v2", ["zip", "legacy", "fp16"], SMALL + [(1, TINY)]),
    ("mobilenet_v3_large", ALL_FORMS, SMALL),
    ("mobilenet_v3_small", ["zip", "safetensors", "wrapped"], SMALL + [(3, SQUARE), (1, TINY)]),
    ("efficientnet_b0", ALL_FORMS, SMALL + [(1, TINY)]),
    ("efficientnet_b1", ["legacy"], SMALL),
    ("efficientnet_b2", ["state_dict"], SMALL),
    ("efficientnet_b3", ["fp16"], MID),
    ("efficientnet_b4", ["zip"], MID),
    # Its safetensors header is 0x16980 bytes long: the file starts with 0x80,
    # a pickle PROTO opcode to a reader that sniffs carelessly.
    ("efficientnet_b5", ["safetensors"], MID),
    ("efficientnet_b6", ["zip"], MID),
    ("efficientnet_b7", ["zip"], LARGE),
    ("efficientnet_v2_s", ["zip", "wrapped"], MID + [(1, TINY)]),
    ("efficientnet_v2_m", ["legacy"], MID),
    ("efficientnet_v2_l", ["safetensors"], LARGE),
    ("regnet_y_400mf", ["zip", "legacy", "safetensors"], SMALL),
    ("regnet_y_800mf", ["zip", "fp16"], SMALL),
    ("regnet_y_1_6gf", ["wrapped"], MID),
    ("regnet_y_3_2gf", ["legacy"], MID),
    ("regnet_y_8gf", ["safetensors"], MID),
    ("regnet_y_16gf", ["zip"], MID),
    ("regnet_y_32gf", ["zip"], LARGE),
    ("regnet_y_128gf", ["zip"], [(1, SMALL_ODD)]),
    ("regnet_x_400mf", ["zip", "legacy", "safetensors"], SMALL + [(1, TINY)]),
    ("regnet_x_800mf", ["state_dict"], SMALL),
    ("regnet_x_1_6gf", ["fp16"], MID),
    ("regnet_x_3_2gf", ["zip"], MID),
    ("regnet_x_8gf", ["wrapped"], MID),
    ("regnet_x_16gf", ["safetensors"], MID),
    ("regnet_x_32gf", ["zip"], MID),
]


@contextlib.contextmanager
def no_init():
    """torchvision's initialisation is overwritten by tvwconf.randomise()
    anyway: skipping it saves most of the construction time of the big
    models (regnet_y_128gf has 645 M parameters)."""
    names = [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(torch.nn.init, n) for n in names}
    for n in names:
        setattr(torch.nn.init, n, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def construct(name):
    with no_init():
        return getattr(M, name)(weights=None)


if __name__ == "__main__":
    tvwconf.run_models(MODELS, seed=600, rng_seed=6, construct=construct, timings=True)
