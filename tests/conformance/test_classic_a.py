#!/usr/bin/python3
# AlexNet, VGG 11/13/16/19 (with and without BatchNorm), SqueezeNet 1.0/1.1
# and DenseNet 121/161/169/201 against PyTorch: every builder, random
# weights (every parameter and buffer), every checkpoint form spread over
# the models — DenseNet also under the old key names of torchvision's own
# files (“norm.1” for “norm1”) — batch 1 and 2, the default crop and an odd
# non-square size, and the smallest input each architecture accepts.  VGG's
# and the big DenseNets' checkpoints are hundreds of MB: one form each, at
# small sizes (AlexNet and VGG pool adaptively, so any size ≥ their minimum
# works).
#
#   TVW_CONFORMANCE_ONLY=densenet121,vgg11  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch

import tvwconf
from test_families import construct

torch.set_num_threads(2)

SQUARE, ODD, SMALL_ODD = (224, 224), (97, 131), (35, 53)
DEFAULT = [(1, SQUARE), (2, ODD)]

MODELS = [
    ("alexnet", ["zip", "legacy", "safetensors"], [(1, SQUARE), (2, (67, 93)), (1, (63, 63))]),
    ("vgg11", ["fp16"], [(1, SQUARE), (2, SMALL_ODD), (1, (32, 32))]),
    ("vgg11_bn", ["wrapped"], [(2, SMALL_ODD)]),
    ("vgg13", ["state_dict"], [(2, SMALL_ODD)]),
    ("vgg13_bn", ["fp16"], [(2, SMALL_ODD)]),
    ("vgg16", ["zip"], [(1, SQUARE), (2, SMALL_ODD)]),
    ("vgg16_bn", ["zip"], [(2, SMALL_ODD), (1, (32, 32))]),
    ("vgg19", ["legacy"], [(2, SMALL_ODD)]),
    ("vgg19_bn", ["zip"], [(1, SMALL_ODD)]),
    ("squeezenet1_0", ["zip", "legacy", "wrapped", "state_dict", "safetensors", "fp16"],
     DEFAULT + [(1, (21, 21))]),
    ("squeezenet1_1", ["zip", "fp16", "wrapped"], DEFAULT + [(2, (17, 17))]),
    ("densenet121", ["zip", "old_keys", "legacy", "safetensors", "fp16", "wrapped"],
     DEFAULT + [(1, (29, 29))]),
    ("densenet169", ["state_dict"], [(2, ODD)]),
    ("densenet161", ["old_keys"], [(1, SMALL_ODD)]),
    ("densenet201", ["safetensors"], [(2, SMALL_ODD)]),
]

# torchvision's DenseNet files name the dense layers' modules “norm.1”,
# “conv.2”, …; densenet.py's _load_state_dict () renames them.
OLD_DENSE_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))((?:[12])\.(?:weight|bias|running_mean|running_var))$")

write_form = tvwconf.write_form


def write_form_or_old_keys(sd, form, path):
    """The forms of tvwconf, and “old_keys”: a zip checkpoint under the old
    DenseNet names, without num_batches_tracked like the 2017 files."""
    if form != "old_keys":
        return write_form(sd, form, path)
    old = {OLD_DENSE_KEY.sub(r"\1.\2", k): v for k, v in sd.items()
           if not k.endswith("num_batches_tracked")}
    assert any(".norm.1." in k for k in old)
    torch.save(old, path)
    return sd


if __name__ == "__main__":
    tvwconf.write_form = write_form_or_old_keys
    tvwconf.run_models(MODELS, seed=1400, rng_seed=14, construct=construct, timings=True)
