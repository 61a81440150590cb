#!/usr/bin/python3
# make-samples.py — write data/samples/: one Fashion-MNIST test image per class.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 build-aux/make-samples.py [--data-dir DIR] [--output-dir DIR]
#
# For each of the 10 classes, the first image of that class in the test set
# (t10k-images-idx3-ubyte) is saved unchanged, as a 28×28 8-bit grayscale PNG
# named fashion-INDEX-SLUG.png: INDEX is its position in the test set, SLUG the
# class name in lower case with every run of other characters turned into "-"
# ("T-shirt/top" → "t-shirt-top", "Ankle boot" → "ankle-boot").  The output
# is the same on every run.

import argparse
import glob
import importlib.util
import os
import re

from PIL import Image

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def main():
    parser = argparse.ArgumentParser(
        description="Write one Fashion-MNIST test image per class as PNG")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--output-dir", default=os.path.join(SOURCE_ROOT, "data", "samples"))
    args = parser.parse_args()

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval-fashion-mnist.py")
    spec = importlib.util.spec_from_file_location("eval_fashion_mnist", path)
    ev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ev)

    images, labels = ev.load_split(args.data_dir, "test")
    os.makedirs(args.output_dir, exist_ok=True)
    for old in glob.glob(os.path.join(args.output_dir, "fashion-*.png")):
        os.unlink(old)
    for label, name in enumerate(CATEGORIES):
        index = int((labels == label).nonzero()[0])
        out = os.path.join(args.output_dir, f"fashion-{index}-{slug(name)}.png")
        Image.fromarray(images[index].numpy(), mode="L").save(out, optimize=True)
        print(out)


if __name__ == "__main__":
    main()
