#!/usr/bin/python3
# RegNet, EfficientNet and MobileNet against PyTorch 1.13 eager, side by side
# in one run: for each model, rounds alternate between `tvw bench` and a
# PyTorch timing loop over the same batch, size and thread count; the result
# is the ratio of the medians (tvw / PyTorch: below 1.0 means libtvw is
# faster).  The machine may be shared: alternating rounds and medians keep
# the comparison fair when its load changes.
#
#   tests/bench/bench_families.py                       # the targets
#   tests/bench/bench_families.py --model efficientnet_b1 --model mobilenet_v2
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import statistics
import sys

import torch
import torchvision.models as M

# The same timing on both sides as the ResNet benchmark.
from bench_vs_torch import torch_times, tvw_times

TARGETS = ["mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf"]


def bench(name, args):
    torch.set_num_threads(args.threads)
    model = getattr(M, name)(weights=None).eval()
    x = torch.randn(args.batch, 3, args.size, args.size)
    torch_times(model, x, 3)  # warm up

    tvw_all, torch_all = [], []
    for _ in range(args.rounds):
        tvw_all.append(tvw_times(args.cli, argparse.Namespace(**{**vars(args), "model": name}),
                                 args.iterations)["median_ms"])
        torch_all.append(statistics.median(torch_times(model, x, args.iterations)))

    tvw_med = statistics.median(tvw_all)
    torch_med = statistics.median(torch_all)
    return {
        "model": name, "batch": args.batch, "threads": args.threads, "size": args.size,
        "tvw_median_ms": round(tvw_med, 3), "torch_median_ms": round(torch_med, 3),
        "ratio": round(tvw_med / torch_med, 3),
        "tvw_rounds_ms": [round(t, 2) for t in tvw_all],
        "torch_rounds_ms": [round(t, 2) for t in torch_all],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", action="append", help="default: " + ", ".join(TARGETS))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=10, help="timed runs per round")
    ap.add_argument("--cli", default=os.environ.get("TVW_CLI", "tvw"))
    args = ap.parse_args()

    failed = False
    for name in args.model or TARGETS:
        result = bench(name, args)
        print(json.dumps(result), flush=True)
        failed |= result["ratio"] >= 1.0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
