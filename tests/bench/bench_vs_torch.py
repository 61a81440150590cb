#!/usr/bin/python3
# Side-by-side benchmark: `tvw bench` and PyTorch 1.13 eager on the same
# model, batch, size and threads, alternating in one run; prints the medians
# and their ratio (tvw / PyTorch: below 1.0 means libtvw is faster), and the
# peak RSS of a forward pass of each.
#
#   tests/bench/bench_vs_torch.py --model resnet50 --batch 1 --threads 2
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models as M


def torch_times(model, x, iterations):
    times = []
    with torch.no_grad():
        for _ in range(iterations):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000)
    return times


def tvw_times(cli, args, iterations, checkpoint=None):
    """One `tvw bench --json` process: its result (median, min and max of the
    timed runs); with checkpoint, on those weights instead of random ones."""
    argv = [cli, "bench", "--model", args.model, "--batch", str(args.batch),
            "--threads", str(args.threads), "--size", str(args.size),
            "--iterations", str(iterations), "--warmup", "1", "--json"]
    if checkpoint is not None:
        argv += ["--checkpoint", checkpoint]
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def peak_rss_kb(argv):
    """Peak RSS of one command, in KiB, measured by GNU time: a child forked
    straight from this (large) Python process would report this process's
    size as its own maximum."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    return int(out.strip().splitlines()[-1])


def torch_forward_argv(model, threads, checkpoint, inp):
    """A command that runs one PyTorch forward pass of model (a torchvision
    name) with the state_dict checkpoint on the .npy array inp, for peak_rss_kb."""
    script = ("import torch, torchvision.models as M, numpy as np;"
              f"torch.set_num_threads({threads});"
              f"m = M.{model}(weights=None).eval();"
              f"m.load_state_dict(torch.load({checkpoint!r}));"
              f"x = torch.from_numpy(np.load({inp!r}));"
              "torch.no_grad().__enter__(); np.save('/dev/null', m(x).numpy())")
    return [sys.executable, "-c", script]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=5, help="timed runs per round")
    ap.add_argument("--rss", action="store_true", help="also compare peak RSS of one forward")
    ap.add_argument("--load", action="store_true",
                    help="also compare loading a checkpoint of the model (torch.load + "
                         "load_state_dict against open + bind + pack), alternating")
    ap.add_argument("--flush-denormal", action="store_true",
                    help="PyTorch flushes denormals, as libtvw always does")
    ap.add_argument("--cli", default=os.environ.get("TVW_CLI", "tvw"))
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    # get_model_builder finds the segmentation builders too; their backbone
    # would be downloaded unless weights_backbone is None.
    builder = M.get_model_builder(args.model)
    extra = {"weights_backbone": None} if "weights_backbone" in inspect.signature(builder).parameters else {}
    model = builder(weights=None, **extra).eval()
    x = torch.randn(args.batch, 3, args.size, args.size)
    torch_times(model, x, 2)  # warm up

    torch_all, tvw_all = [], []
    for _ in range(args.rounds):
        tvw_all.append(tvw_times(args.cli, args, args.iterations)["median_ms"])
        torch_all.append(statistics.median(torch_times(model, x, args.iterations)))

    tvw_med = statistics.median(tvw_all)
    torch_med = statistics.median(torch_all)
    result = {
        "model": args.model, "batch": args.batch, "threads": args.threads, "size": args.size,
        "tvw_median_ms": round(tvw_med, 3), "torch_median_ms": round(torch_med, 3),
        "ratio": round(tvw_med / torch_med, 3),
    }

    if args.load:
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "m.pth")
            torch.save(model.state_dict(), ckpt)
            fresh = getattr(M, args.model)(weights=None).eval()
            tvw_load, torch_load = [], []
            for _ in range(args.rounds * args.iterations):
                out = subprocess.run([args.cli, "bench", "--model", args.model, "--checkpoint", ckpt,
                                      "--iterations", "1", "--warmup", "0", "--size", "64",
                                      "--json"], check=True, capture_output=True, text=True).stdout
                tvw_load.append(json.loads(out)["load_ms"])
                t = time.perf_counter()
                fresh.load_state_dict(torch.load(ckpt))
                torch_load.append((time.perf_counter() - t) * 1000)
            result["tvw_load_median_ms"] = round(statistics.median(tvw_load), 2)
            result["torch_load_median_ms"] = round(statistics.median(torch_load), 2)
            result["load_ratio"] = round(statistics.median(tvw_load) / statistics.median(torch_load), 3)

    if args.rss:
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "m.pth")
            inp = os.path.join(d, "in.npy")
            out = os.path.join(d, "out.npy")
            torch.save(model.state_dict(), ckpt)
            np.save(inp, x.numpy())
            torch_rss = peak_rss_kb(torch_forward_argv(args.model, args.threads, ckpt, inp))
            tvw_rss = peak_rss_kb([args.cli, "forward", "--model", args.model, "--checkpoint", ckpt,
                                   "--threads", str(args.threads), "--input", inp, "--output", out])
            result["torch_peak_rss_mb"] = round(torch_rss / 1024, 1)
            result["tvw_peak_rss_mb"] = round(tvw_rss / 1024, 1)

    print(json.dumps(result))


if __name__ == "__main__":
    main()
