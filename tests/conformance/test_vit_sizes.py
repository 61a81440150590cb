#!/usr/bin/python3
# ViT's image size, as torchvision sets it: a bare checkpoint of a 384²
# vit_b_16 (SWAG's size) is recognised from its encoder.pos_embedding and
# agrees with PyTorch at 384²; another size is refused with an error that
# names the size needed; a weights entry's min_size sets it (a weights card
# with min_size [384, 384], loaded through GObject introspection).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torchvision.models as M

import tvwconf

torch.set_num_threads(2)


def main():
    # Imported here: test_builders.py imports every test_*.py for its MODELS.
    import gi

    gi.require_version("Tvw", "1.0")
    from gi.repository import GLib, Tvw

    tap = tvwconf.Tap(3)
    work = tvwconf.workdir()
    try:
        model = tvwconf.randomise(M.vit_b_16(weights=None, image_size=384), 1599)
        ckpt = os.path.join(work, "vit_b_16_384.pth")
        torch.save(model.state_dict(), ckpt)
        batch = np.random.default_rng(16).standard_normal((1, 3, 384, 384)).astype(np.float32)
        with torch.no_grad():
            ref = model(torch.from_numpy(batch)).numpy()

        try:
            ok, diag = tvwconf.compare(tvwconf.run_forward("vit_b_16", ckpt, batch, work), ref)
        except Exception as e:
            ok, diag = False, str(e)
        tap.ok(ok, "vit_b_16 bare checkpoint at 384x384: image size from encoder.pos_embedding", diag)

        small = os.path.join(work, "small.npy")
        tvwconf.save_npy(small, batch[:, :, :224, :224])
        proc = tvwconf.tvw("forward", "--model", "vit_b_16", "--checkpoint", ckpt, "--input", small,
                           "--output", os.path.join(work, "out.npy"), check=False)
        tap.ok(proc.returncode != 0 and "384×384" in proc.stderr,
               "vit_b_16 of 384x384 refuses 224x224, naming 384x384", proc.stderr.strip())

        card = {
            "enum": "LocalVitB16_Weights",
            "builder": "vit_b_16",
            "entries": [{
                "name": "SWAG_LIKE",
                "file": os.path.basename(ckpt),
                "default": True,
                "transforms": {"preset": "ImageClassification", "crop_size": 384, "resize_size": 384},
                "meta": {"categories": {"$list": "imagenet"}, "min_size": [384, 384],
                         "_docs": "Random parameters for the tests."},
            }],
        }
        with open(os.path.join(work, "card.json"), "w") as f:
            json.dump(card, f)

        def card_forward():
            Tvw.register_weights_from_file(os.path.join(work, "card.json"))
            tvw_model = Tvw.get_model("vit_b_16", weights="LocalVitB16_Weights.SWAG_LIKE")
            x = Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, list(batch.shape), GLib.Bytes.new(batch.tobytes()))
            out = tvw_model(x)
            got = np.frombuffer(out.get_bytes().get_data(), dtype=np.float32).reshape(out.shape)
            return tvwconf.compare(got, ref)

        try:
            ok, diag = card_forward()
        except Exception as e:
            ok, diag = False, str(e)
        tap.ok(ok, "vit_b_16 from a weights entry with min_size 384: image_size from the entry", diag)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    tap.exit()


if __name__ == "__main__":
    main()
