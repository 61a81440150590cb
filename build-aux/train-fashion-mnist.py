#!/usr/bin/python3
# train-fashion-mnist.py — the recipe of MobileNet_V3_Small_Weights.FASHIONMNIST_V1.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with Debian's PyTorch (python3-torch 1.13, python3-torchvision 0.14.1) and
# Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist):
#
#   /usr/bin/python3 build-aux/train-fashion-mnist.py [--data-dir DIR] [--output-dir DIR]
#
# It trains torchvision's mobilenet_v3_small(num_classes=10) from scratch on the
# 60 000 training images, evaluates the saved file on the 10 000 test images
# through the inference preset, and writes into data/weights/:
#
#   mobilenet_v3_small-fashionmnist-HASH.pth   the state_dict (torch.save zip
#                                              format; HASH = first 8 hex digits
#                                              of the file's sha256, as torchvision)
#   fashionmnist.json                          the weights entry: preset, meta,
#                                              sha256, training hyper-parameters
#
# The preset is torchvision's ImageClassification applied to the PIL image
# converted to RGB (the 28×28 grayscale image replicated to 3 channels):
#
#   ImageClassification(crop_size=64, resize_size=64, mean=(M, M, M), std=(S, S, S),
#                       interpolation=BILINEAR)
#
# with M, S the mean and standard deviation of the training pixels (in [0, 1]),
# rounded to 4 digits.  Training uses exactly these preprocessed images (computed
# once with the same torchvision functions on PIL images), plus random horizontal
# flips; evaluation uses the preset itself, image by image.
#
# Everything is seeded (model init, shuffle, flips) and single-process
# (num_workers=0), so a rerun with the same PyTorch build, CPU and thread count
# should give the same file; other CPUs or thread counts give slightly
# different weights (and another hash).

import os

# Set before torch loads libgomp/OpenBLAS: idle OpenMP threads sleep instead of
# spinning (on a shared 2-core machine spinning threads cost more than they
# save), and OpenBLAS does not start threads of its own next to OpenMP's.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import glob
import hashlib
import importlib.util
import io
import json
import time

import torch
import torch.nn.functional as nnf
import torchvision
import torchvision.transforms.functional as F

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE_PATH = "build-aux/train-fashion-mnist.py"

CATEGORIES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# The preset, apart from mean/std which are measured on the training set.
CROP_SIZE = 64
RESIZE_SIZE = 64
INTERPOLATION = "bilinear"

# Training hyper-parameters; all of them are recorded in the JSON.
HYPER = {
    "seed": 0,
    "epochs": 4,
    "batch_size": 128,
    "optimizer": "AdamW",
    "lr": 0.003,
    "betas": [0.9, 0.999],
    "weight_decay": 0.01,
    "lr_scheduler": "OneCycleLR",
    "pct_start": 0.25,
    "anneal_strategy": "cos",
    "div_factor": 25.0,
    "final_div_factor": 1000.0,
    "loss": "cross_entropy",
    "augmentation": "random horizontal flip (p=0.5) of the preprocessed images",
    "memory_format": "channels_last",
    "threads": 1,
}


def load_eval_module():
    """eval-fashion-mnist.py holds the idx reader and the evaluation."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval-fashion-mnist.py")
    spec = importlib.util.spec_from_file_location("eval_fashion_mnist", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preprocess_uint8(ev, images, preset):
    """The preset's resize and crop on every image, as uint8 [N, 64, 64].

    These are the same torchvision calls ImageClassification.forward makes, on
    the RGB PIL image; the three channels come out equal, one is kept."""
    out = torch.empty((images.shape[0], CROP_SIZE, CROP_SIZE), dtype=torch.uint8)
    for i, image in enumerate(images):
        img = F.resize(ev.to_pil_rgb(image), preset.resize_size,
                       interpolation=preset.interpolation)
        img = F.center_crop(img, preset.crop_size)
        t = F.pil_to_tensor(img)
        if not (torch.equal(t[0], t[1]) and torch.equal(t[0], t[2])):
            raise AssertionError(f"image {i}: RGB channels differ after resize")
        out[i] = t[0]
    return out


def normalize(batch_uint8, mean, std):
    """uint8 [B, H, W] → the preset's float [B, 3, H, W] (convert_image_dtype, normalize)."""
    x = batch_uint8.to(torch.float32) / 255.0
    x = (x - mean) / std
    return x[:, None].expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)


def count_macs(model, size):
    """Multiply-accumulates of one forward pass over conv and linear layers.

    This is what torchvision reports as GFLOPS in its "_ops" meta (e.g.
    mobilenet_v3_small at 224: 0.057)."""
    total = 0

    def conv_hook(module, inputs, output):
        nonlocal total
        k = module.weight.shape[1] * module.weight.shape[2] * module.weight.shape[3]
        total += output.numel() * k

    def linear_hook(module, inputs, output):
        nonlocal total
        total += output.numel() * module.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    return total


def main():
    parser = argparse.ArgumentParser(
        description="Train mobilenet_v3_small on Fashion-MNIST (libtvw's FASHIONMNIST_V1)")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--output-dir", default=os.path.join(SOURCE_ROOT, "data", "weights"))
    args = parser.parse_args()

    t_start = time.monotonic()
    torch.set_num_threads(HYPER["threads"])
    torch.manual_seed(HYPER["seed"])
    ev = load_eval_module()

    train_images, train_labels = ev.load_split(args.data_dir, "train")
    test_images, test_labels = ev.load_split(args.data_dir, "test")

    # The dataset's mean and std over all training pixels, in [0, 1].
    pixels = train_images.to(torch.float64) / 255.0
    mean_v = round(float(pixels.mean()), 4)
    std_v = round(float(pixels.std()), 4)
    del pixels
    transforms = {
        "preset": "ImageClassification",
        "crop_size": CROP_SIZE,
        "resize_size": RESIZE_SIZE,
        "mean": [mean_v] * 3,
        "std": [std_v] * 3,
        "interpolation": INTERPOLATION,
    }
    preset = ev.make_preset(transforms)
    print(f"preset: {preset!r}", flush=True)

    t0 = time.monotonic()
    train_x = preprocess_uint8(ev, train_images, preset)
    mean = torch.tensor(mean_v, dtype=torch.float32)
    std = torch.tensor(std_v, dtype=torch.float32)
    # The cached path must be the preset, bit for bit.
    for i in range(16):
        ref = preset(ev.to_pil_rgb(train_images[i]))
        got = normalize(train_x[i:i + 1], mean, std)[0]
        if not torch.equal(ref, got):
            raise AssertionError(f"train image {i}: cached preprocessing differs from the preset")
    print(f"preprocessed {len(train_x)} training images in {time.monotonic() - t0:.1f} s",
          flush=True)

    model = torchvision.models.mobilenet_v3_small(num_classes=len(CATEGORIES))
    model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=HYPER["lr"],
                                  betas=tuple(HYPER["betas"]),
                                  weight_decay=HYPER["weight_decay"])
    dataset = torch.utils.data.TensorDataset(train_x, train_labels)
    shuffle = torch.Generator().manual_seed(HYPER["seed"])
    loader = torch.utils.data.DataLoader(dataset, batch_size=HYPER["batch_size"],
                                         shuffle=True, generator=shuffle,
                                         num_workers=0, drop_last=True)
    steps = HYPER["epochs"] * len(loader)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=HYPER["lr"], total_steps=steps, pct_start=HYPER["pct_start"],
        anneal_strategy=HYPER["anneal_strategy"], div_factor=HYPER["div_factor"],
        final_div_factor=HYPER["final_div_factor"])
    flips = torch.Generator().manual_seed(HYPER["seed"] + 1)

    t_train = time.monotonic()
    for epoch in range(HYPER["epochs"]):
        model.train()
        t_epoch = time.monotonic()
        seen = correct = 0
        loss_sum = 0.0
        for step, (xb, yb) in enumerate(loader):
            flip = torch.rand(xb.shape[0], generator=flips) < 0.5
            xb = torch.where(flip[:, None, None], xb.flip(-1), xb)
            logits = model(normalize(xb, mean, std))
            loss = nnf.cross_entropy(logits, yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            seen += yb.shape[0]
            correct += int((logits.argmax(1) == yb).sum())
            loss_sum += float(loss) * yb.shape[0]
            if step % 50 == 0:
                print(f"epoch {epoch + 1}/{HYPER['epochs']} step {step}/{len(loader)} "
                      f"loss {loss_sum / seen:.4f} train acc {100 * correct / seen:.2f} "
                      f"({time.monotonic() - t_epoch:.0f} s)", flush=True)
        print(f"epoch {epoch + 1} done: loss {loss_sum / seen:.4f} "
              f"train acc {100 * correct / seen:.2f} in {time.monotonic() - t_epoch:.0f} s",
              flush=True)
    train_seconds = time.monotonic() - t_train

    # Save the plain (contiguous) state_dict.  Into memory first: torch.save
    # names the zip's root folder after the file, so a temporary file name
    # would end up inside the checkpoint.
    model = model.to(memory_format=torch.contiguous_format)
    state_dict = model.state_dict()
    for key, value in state_dict.items():
        if not value.is_contiguous():
            raise AssertionError(f"{key}: not contiguous")
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    file_name = f"mobilenet_v3_small-fashionmnist-{sha256[:8]}.pth"
    os.makedirs(args.output_dir, exist_ok=True)
    for old in glob.glob(os.path.join(args.output_dir, "mobilenet_v3_small-fashionmnist-*.pth")):
        os.unlink(old)
    path = os.path.join(args.output_dir, file_name)
    with open(path, "wb") as f:
        f.write(data)

    # Evaluate what was saved, through the preset.
    saved = torchvision.models.mobilenet_v3_small(num_classes=len(CATEGORIES))
    saved.load_state_dict(torch.load(path, map_location="cpu"))
    t0 = time.monotonic()
    metrics = ev.evaluate(saved, preset, test_images, test_labels)
    eval_seconds = time.monotonic() - t0
    print(f"test: {metrics} in {eval_seconds:.0f} s", flush=True)

    num_params = sum(p.numel() for p in saved.parameters())
    gflops = count_macs(saved, CROP_SIZE) / 1e9
    card = {
        "format": 1,
        "builder": "mobilenet_v3_small",
        "enum": "MobileNet_V3_Small_Weights",
        "name": "FASHIONMNIST_V1",
        "file": file_name,
        "sha256": sha256,
        "transforms": transforms,
        "meta": {
            "categories": CATEGORIES,
            "min_size": {"$tuple": [1, 1]},
            "num_params": num_params,
            "recipe": RECIPE_PATH,
            "_metrics": {
                "Fashion-MNIST": {
                    "acc@1": round(metrics["acc@1"], 3),
                    "acc@5": round(metrics["acc@5"], 3),
                }
            },
            "_docs": (f"These weights were trained from scratch on the 60 000 Fashion-MNIST "
                      f"training images for {HYPER['epochs']} epochs on a CPU by "
                      f"libtvw's {RECIPE_PATH}; the 28×28 grayscale images are replicated "
                      f"to RGB and upscaled to {CROP_SIZE}×{CROP_SIZE}."),
            "license": "https://github.com/zalandoresearch/fashion-mnist/blob/master/LICENSE",
        },
        "training": {
            **HYPER,
            "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
            "train_images": len(train_x),
            "test_images": metrics["count"],
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "train_wall_time_s": round(train_seconds, 1),
            "total_wall_time_s": round(time.monotonic() - t_start, 1),
            # Not in the meta: torchvision 0.14.1's meta has no _ops or
            # _file_size (they came in 0.15), so libtvw's has none either.
            "gflops": round(gflops, 3),
            "file_size_mb": round(len(data) / 1024 / 1024, 3),
            "gflops_note": "conv+linear multiply-accumulates at "
                           f"{CROP_SIZE}×{CROP_SIZE}, counted as torchvision 0.15's _ops (not in the meta: "
                           "torchvision 0.14.1 has no _ops or _file_size)",
        },
    }
    with open(os.path.join(args.output_dir, "fashionmnist.json"), "w", encoding="utf-8") as f:
        json.dump(card, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path} ({len(data)} bytes) and fashionmnist.json; "
          f"total {time.monotonic() - t_start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
