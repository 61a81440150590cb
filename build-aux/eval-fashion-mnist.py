#!/usr/bin/python3
# eval-fashion-mnist.py — PyTorch's own evaluation of a Fashion-MNIST checkpoint.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with the Python that has torchvision (Debian: /usr/bin/python3):
#
#   /usr/bin/python3 build-aux/eval-fashion-mnist.py [--limit N]
#       [--weights data/weights/fashionmnist.json | --checkpoint FILE.pth]
#       [--data-dir /usr/share/datasets/fashion-mnist] [--threads N]
#
# Builds torchvision's mobilenet_v3_small(num_classes=10), loads the checkpoint,
# and runs the first N (default all 10 000) test images through the preset
# recorded in the weights JSON, exactly as a user of torchvision would:
#
#   PIL image (28×28 "L") → .convert("RGB") → ImageClassification(...) → model
#
# It prints one JSON object: {"acc@1": …, "acc@5": …, "count": …} with the
# accuracies in percent (unrounded).  `tvw eval` is compared against it.
#
# The helpers (idx reader, preset construction) are shared with
# train-fashion-mnist.py, which imports this file.

import argparse
import gzip
import json
import os
import struct
import sys

# As in the training recipe: sleeping OpenMP threads, no OpenBLAS threads of
# its own (set before torch is imported).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WEIGHTS_JSON = os.path.join(SOURCE_ROOT, "data", "weights", "fashionmnist.json")


def idx_path(data_dir, stem):
    """The idx file STEM in DATA_DIR, plain or gzipped."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{stem}[.gz] not found in {data_dir} "
                            "(apt-get install dataset-fashion-mnist)")


def read_idx(path):
    """Reads an idx1/idx3 uint8 file; returns (dims, bytes)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: truncated header")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):
        raise ValueError(f"{path}: not a uint8 idx1/idx3 file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    offset = 4 + 4 * ndim
    count = 1
    for d in dims:
        count *= d
    if len(data) != offset + count:
        raise ValueError(f"{path}: expected {offset + count} bytes, found {len(data)}")
    return dims, data[offset:]


def load_split(data_dir, split):
    """Returns (images uint8 tensor [N, 28, 28], labels int64 tensor [N])."""
    import torch

    prefix = "train" if split == "train" else "t10k"
    idims, ibytes = read_idx(idx_path(data_dir, f"{prefix}-images-idx3-ubyte"))
    ldims, lbytes = read_idx(idx_path(data_dir, f"{prefix}-labels-idx1-ubyte"))
    if len(idims) != 3 or len(ldims) != 1 or idims[0] != ldims[0]:
        raise ValueError(f"{data_dir}: {split} images {idims} and labels {ldims} disagree")
    images = torch.frombuffer(bytearray(ibytes), dtype=torch.uint8).reshape(idims)
    labels = torch.frombuffer(bytearray(lbytes), dtype=torch.uint8).to(torch.int64)
    if int(labels.max()) > 9:
        raise ValueError(f"{data_dir}: {split} label out of range")
    return images, labels


def to_pil_rgb(image):
    """A [28, 28] uint8 tensor as the PIL image a user would open, converted to RGB."""
    from PIL import Image

    return Image.fromarray(image.numpy(), mode="L").convert("RGB")


def make_preset(transforms):
    """torchvision's ImageClassification from the JSON "transforms" object."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms._presets import ImageClassification

    return ImageClassification(
        crop_size=transforms["crop_size"],
        resize_size=transforms["resize_size"],
        mean=tuple(transforms["mean"]),
        std=tuple(transforms["std"]),
        interpolation=InterpolationMode(transforms["interpolation"]),
    )


def evaluate(model, preset, images, labels, batch_size=250):
    """acc@1, acc@5 (percent) and count of MODEL over IMAGES through PRESET."""
    import torch

    model.eval()
    correct1 = correct5 = 0
    count = images.shape[0]
    with torch.no_grad():
        for start in range(0, count, batch_size):
            batch = torch.stack([preset(to_pil_rgb(img))
                                 for img in images[start:start + batch_size]])
            target = labels[start:start + batch_size]
            top5 = model(batch).topk(5, dim=1).indices
            hits = top5 == target[:, None]
            correct1 += int(hits[:, 0].sum())
            correct5 += int(hits.any(dim=1).sum())
    return {"acc@1": 100.0 * correct1 / count, "acc@5": 100.0 * correct5 / count,
            "count": count}


def main():
    parser = argparse.ArgumentParser(
        description="PyTorch's own acc@1/acc@5 of a Fashion-MNIST checkpoint")
    parser.add_argument("--weights", default=DEFAULT_WEIGHTS_JSON,
                        help="weights JSON (preset, checkpoint file name)")
    parser.add_argument("--checkpoint", help="checkpoint to evaluate instead of the "
                        "JSON's file (the JSON still gives the preset)")
    parser.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    parser.add_argument("--limit", type=int, default=0,
                        help="evaluate the first N test images only")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch
    import torchvision

    torch.set_num_threads(args.threads)
    with open(args.weights, encoding="utf-8") as f:
        card = json.load(f)
    checkpoint = args.checkpoint or os.path.join(os.path.dirname(args.weights), card["file"])

    model = torchvision.models.mobilenet_v3_small(num_classes=len(card["meta"]["categories"]))
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    preset = make_preset(card["transforms"])

    images, labels = load_split(args.data_dir, "test")
    if args.limit > 0:
        images, labels = images[:args.limit], labels[:args.limit]
    json.dump(evaluate(model, preset, images, labels), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
