#!/usr/bin/python3
# SSD300-VGG16 and SSDlite320-MobileNetV3-Large against PyTorch:
# random weights with the classification heads scaled by 3 so that the
# softmax scores spread out (at 1 they sit near 1/91 and all but tie; much
# higher they saturate at 1.0 and tie again), the same keyword arguments on
# both sides, several seeds, checkpoint forms and image sizes — the
# transform resizes every image to 300×300 / 320×320, so non-square, odd,
# the presets' own size and a batch of two (image 0 compared) — builder
# options (thresholds, top-k, detections per image, num_classes) and the
# degenerate inputs (1×1, all black, far larger than the fixed size).
# Detections are matched as tvwdet.py explains: exact order cannot be
# required because near-tied scores swap and NMS and the score threshold
# are discontinuous.
#
#   TVW_CONFORMANCE_ONLY=ssdlite320_mobilenet_v3_large  runs a subset.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import torch

import tvwdet

torch.set_num_threads(2)

HEADS = {"classification_head": 3.0}
LITE = "ssdlite320_mobilenet_v3_large"
SSD300 = "ssd300_vgg16"

# The degenerate inputs run with a model's first entry.  A constant image
# (1×1, all black) gives every interior cell exactly the same scores; which
# of those tied anchors torch.topk keeps (libstdc++'s nth_element order) and
# which tied boxes NMS keeps first cannot be reproduced, so SSDlite's first
# entry keeps every candidate over 0.5: no top-k cut (4000 > its 3234
# anchors), no suppression (IoU > 1 never), no cut at detections_per_img.
EVERY = dict(score_thresh=0.5, nms_thresh=1.0, topk_candidates=4000, detections_per_img=4000)

# (name, kwargs, scale, forms, sizes)
MODELS = [
    (LITE, EVERY, HEADS, ["zip"], [(240, 330)]),
    (LITE, {}, HEADS, ["safetensors", "fp16"], [(320, 320), (2, 97, 131)]),
    (LITE, dict(score_thresh=0.3, nms_thresh=0.4, detections_per_img=50, topk_candidates=100),
     HEADS, ["legacy", "wrapped"], [(333, 222)]),
    (LITE, dict(num_classes=7, score_thresh=0.05), HEADS, ["state_dict"], [(150, 120)]),
    (SSD300, {}, HEADS, ["zip"], [(300, 300), (2, 181, 257)]),
]

if __name__ == "__main__":
    tvwdet.run_models(MODELS, seed=1800, rng_seed=181, degenerate={LITE, SSD300})
