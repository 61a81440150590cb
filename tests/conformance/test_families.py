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
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
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


only = os.environ.get("TVW_CONFORMANCE_ONLY")
if only:
    MODELS = [m for m in MODELS if m[0] in only.split(",")]

tap = tvwconf.Tap(sum(len(forms) * len(inputs) for _, forms, inputs in MODELS))
work = tvwconf.workdir()
rng = np.random.default_rng(6)

try:
    for seed, (name, forms, inputs) in enumerate(MODELS):
        start = time.monotonic()
        with no_init():
            model = getattr(M, name)(weights=None)
        model = tvwconf.randomise(model, 600 + seed)
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
        del model, sd
        print(f"# {name}: {time.monotonic() - start:.1f} s", flush=True)
finally:
    shutil.rmtree(work, ignore_errors=True)

tap.exit()
