#!/usr/bin/python3
# RetinaNet (v1, v2) and FCOS against PyTorch: random weights
# (regression heads scaled by 0.1 so that boxes stay near their anchors
# rather than all clipped to the image), the same keyword arguments on both
# sides (min_size/max_size lowered for speed, one size larger than max_size
# so that the transform scales down), several seeds, sizes (non-square, odd)
# and checkpoint forms, a batch of two (image 0 compared), the degenerate
# inputs (1×1, all black, far larger than max_size), and one model run on
# several sizes in turn (its graph planned again for each).  Detections
# are matched as tvwdet.py explains (why exact order cannot be required:
# near-tied scores swap, NMS and the threshold are discontinuous).
#
#   TVW_CONFORMANCE_ONLY=fcos_resnet50_fpn  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch

import tvwdet

torch.set_num_threads(2)

SMALL = {"min_size": 160, "max_size": 256}
HEADS = {"bbox_reg": 0.1}

# (name, kwargs, scale, forms, sizes)
MODELS = [
    ("retinanet_resnet50_fpn", SMALL, HEADS, ["zip", "safetensors"], [(120, 170), (301, 203)]),
    # a checkpoint without num_batches_tracked, as FrozenBatchNorm2d models save
    ("retinanet_resnet50_fpn", dict(SMALL, score_thresh=0.3, detections_per_img=50,
                                    num_classes=11), HEADS, ["wrapped", "frozen_bn"],
     [(2, 97, 131)]),
    ("retinanet_resnet50_fpn_v2", SMALL, HEADS, ["zip", "fp16"], [(160, 160), (90, 250)]),
    ("fcos_resnet50_fpn", SMALL, HEADS, ["zip", "legacy"], [(120, 170), (333, 222)]),
    ("fcos_resnet50_fpn", dict(SMALL, score_thresh=0.05, topk_candidates=50, nms_thresh=0.4),
     HEADS, ["state_dict"], [(141, 99)]),
    # nothing over the threshold: K = 0, empty outputs
    ("fcos_resnet50_fpn", dict(SMALL, score_thresh=1.0), HEADS, ["zip"], [(64, 64)]),
]

if __name__ == "__main__":
    tvwdet.run_models(MODELS, seed=180, rng_seed=18,
                      degenerate={"retinanet_resnet50_fpn", "fcos_resnet50_fpn"},
                      sizes_in_turn=[("fcos_resnet50_fpn", SMALL, HEADS,
                                      [(120, 170), (333, 222), (64, 64), (120, 170)])])
