#!/usr/bin/python3
# Video classification against PyTorch: torchvision's video ResNets and S3D
# with every parameter and buffer randomised, N×3×T×H×W clips, each
# checkpoint form over the family.  Tolerance 1e-4·max(1, max|ref|) and the
# same top-5, as for the image classifiers: the 3-D convolutions sum at most
# 27·512 products per output, well inside float32's room at this scale.
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
    ("r3d_18", ["zip", "safetensors"], [(2, (4, 32, 32)), (1, (3, 37, 29))]),
    ("mc3_18", ["legacy", "wrapped"], [(1, (4, 32, 32)), (2, (5, 24, 40))]),
    ("r2plus1d_18", ["fp16", "state_dict"], [(2, (4, 32, 32)), (1, (3, 33, 31))]),
    # S3D's final AvgPool3d (2, 7, 7) after a reduction of 32 needs 13
    # frames of at least 209×209.
    ("s3d", ["zip"], [(1, (13, 209, 215))]),
]

if __name__ == "__main__":
    tvwconf.run_models(MODELS, seed=1900, rng_seed=19, timings=True,
                       construct=lambda name: getattr(V, name)(weights=None))
