#!/usr/bin/python3
# The ResNet family against PyTorch: random weights (every parameter and
# buffer), several checkpoint forms, batch 1 and 3, square and odd sizes.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch

import tvwconf

torch.set_num_threads(2)

# (name, forms, inputs): all forms on the small models, fewer on big ones to
# keep the suite well inside CI's budget.
ALL_FORMS = ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"]
SQUARE, ODD = (224, 224), (97, 131)
MODELS = [
    ("resnet18", ALL_FORMS, [(1, SQUARE), (3, ODD), (3, SQUARE), (1, ODD)]),
    ("resnet34", ["zip", "legacy"], [(1, SQUARE), (3, ODD)]),
    ("resnet50", ALL_FORMS, [(1, SQUARE), (3, ODD), (3, SQUARE), (1, ODD)]),
    ("resnet101", ["zip", "safetensors"], [(1, SQUARE), (3, ODD)]),
    ("resnet152", ["zip"], [(1, SQUARE), (3, ODD)]),
    ("resnext50_32x4d", ["zip", "fp16"], [(1, SQUARE), (3, ODD)]),
    ("resnext101_32x8d", ["zip"], [(1, SQUARE), (3, ODD)]),
    ("resnext101_64x4d", ["legacy"], [(1, SQUARE), (3, ODD)]),
    ("wide_resnet50_2", ["zip"], [(1, SQUARE), (3, ODD)]),
    ("wide_resnet101_2", ["wrapped"], [(1, SQUARE), (3, ODD)]),
]

if __name__ == "__main__":
    tvwconf.run_models(MODELS, seed=0, rng_seed=0)
