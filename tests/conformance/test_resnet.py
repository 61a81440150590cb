#!/usr/bin/python3
# The ResNet family against PyTorch: random weights (every parameter and
# buffer), several checkpoint forms, batch 1 and 3, square and odd sizes.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models as M

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

only = os.environ.get("TVW_CONFORMANCE_ONLY")
if only:
    MODELS = [m for m in MODELS if m[0] in only.split(",")]

tap = tvwconf.Tap(sum(len(forms) * len(inputs) for _, forms, inputs in MODELS))
work = tvwconf.workdir()
rng = np.random.default_rng(0)

try:
    for seed, (name, forms, inputs) in enumerate(MODELS):
        model = tvwconf.randomise(getattr(M, name)(weights=None), seed)
        sd = model.state_dict()
        batches = [rng.standard_normal((n, 3, h, w)).astype(np.float32) for n, (h, w) in inputs]
        for form in forms:
            ckpt = os.path.join(work, f"{name}.{form}")
            used = tvwconf.write_form(sd, form, ckpt)
            if used is not sd:
                model.load_state_dict(used)
            for batch in batches:
                with torch.no_grad():
                    ref = model(torch.from_numpy(batch)).numpy()
                label = f"{name} {form} batch {batch.shape[0]} {batch.shape[2]}x{batch.shape[3]}"
                try:
                    got = tvwconf.run_forward(name, ckpt, batch, work)
                    ok, diag = tvwconf.compare(got, ref)
                except Exception as e:  # a crash of the CLI is a failure
                    ok, diag = False, str(e)
                tap.ok(ok, label, diag)
            if used is not sd:
                model.load_state_dict(sd)
            os.unlink(ckpt)
finally:
    shutil.rmtree(work, ignore_errors=True)

tap.exit()
