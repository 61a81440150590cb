#!/usr/bin/python3
# Quantized (int8) ResNet-50 side by side: libtvw's quantized_resnet50, PyTorch's
# int8 model on its onednn engine, and libtvw's own float32 resnet50, in
# alternating rounds in one process (timings on a shared machine are noisy:
# ratios of medians are what to read).  Ratios below 1.0 mean libtvw's
# int8 model is faster.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torchvision.models.quantization as tvq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
import test_quantized  # noqa: E402


def tvw_median(cli, model, ckpt, args):
    cmd = [cli, "bench", "--model", model, "--batch", str(args.batch), "--threads",
           str(args.threads), "--size", str(args.size), "--iterations", str(args.iterations),
           "--json"]
    if ckpt:
        cmd += ["--checkpoint", ckpt]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["median_ms"])


def torch_median(model, batch, iterations):
    times = []
    with torch.no_grad():
        for _ in range(2):
            model(batch)
        for _ in range(iterations):
            start = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--cli", default=os.environ.get("TVW_CLI", "tvw"))
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    calibration = [torch.randn(1, 3, args.size, args.size) for _ in range(2)]
    if args.model == "mobilenet_v3_large":
        # Its checkpoint is the QAT state_dict; PyTorch converts it.
        sd = test_quantized.qat_state_dict(16, calibration, False)
        qmodel = test_quantized.qat_prepared("onednn")
        qmodel.load_state_dict(sd)
        torch.ao.quantization.convert(qmodel, inplace=True)
        qmodel.eval()
    else:
        qmodel = test_quantized.quantized_model(args.model, 16, calibration)
        sd = qmodel.state_dict()
    torch.backends.quantized.engine = "onednn"
    batch = torch.randn(args.batch, 3, args.size, args.size)

    with tempfile.TemporaryDirectory() as work:
        ckpt = os.path.join(work, "q.pth")
        torch.save(sd, ckpt)
        rows = []
        for r in range(args.rounds):
            tq = tvw_median(args.cli, f"quantized_{args.model}", ckpt, args)
            pq = torch_median(qmodel, batch, args.iterations)
            tf = tvw_median(args.cli, args.model, None, args)
            rows.append((tq, pq, tf))
            print(f"round {r}: libtvw int8 {tq:.2f} ms, PyTorch int8 (onednn) {pq:.2f} ms, "
                  f"libtvw float32 {tf:.2f} ms", flush=True)

    tq, pq, tf = (statistics.median(c) for c in zip(*rows))
    print(f"medians: libtvw int8 {tq:.2f} ms, PyTorch int8 {pq:.2f} ms, libtvw float32 {tf:.2f} ms")
    print(f"libtvw int8 / PyTorch int8 = {tq / pq:.2f}; libtvw int8 / libtvw float32 = {tq / tf:.2f}")


if __name__ == "__main__":
    main()
