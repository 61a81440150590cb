#!/usr/bin/python3
# MViT V1 (mvit_v1_b) and V2 (mvit_v2_s) against PyTorch with every
# parameter and buffer randomised, on N×3×16×224×224 clips (the positional
# encoding and the relative position tables fix the clip size).
# Tolerance 1e-4·max(1, max|ref|) and the same top-5, as for the other
# classifiers: LayerNorms after every pooling and before every block keep
# activations of order 1, the largest sums are the 3072-wide MLPs.  One
# checkpoint form per model keeps the cost down (each clip is about 70
# GFLOPs in each of PyTorch and libtvw); the forms themselves are covered
# by the other families.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch
import torchvision.models.video as V

import tvwconf

torch.set_num_threads(2)

# (name, checkpoint forms, [(batch, (frames, height, width))])
MODELS = [
    ("mvit_v1_b", ["zip"], [(1, (16, 224, 224))]),
    ("mvit_v2_s", ["safetensors"], [(1, (16, 224, 224))]),
]

if __name__ == "__main__":
    seed = int(os.environ.get("TVW_MVIT_SEED", "1950"))
    tvwconf.run_models(MODELS, seed=seed, rng_seed=seed, timings=True,
                       construct=lambda name: getattr(V, name)(weights=None))
