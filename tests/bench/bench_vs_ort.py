#!/usr/bin/python3
# Side-by-side benchmark: `tvw bench` against ONNX Runtime 1.30 (CPU
# execution provider, graph optimizations 'all', i.e. ORT_ENABLE_ALL), and
# optionally PyTorch 1.13 eager, on the same model, weights, batch, input
# size and thread count, alternating in one run.
#
# For each model the script seeds torch, builds the torchvision model with
# random weights, saves its state_dict (which `tvw bench --checkpoint` loads)
# and exports the same model with torch.onnx.export (opset 17 by default,
# fixed N×3×S×S input; torch 1.13's exporter needs no `onnx` package).  Then
# each of --rounds rounds runs, in this order:
#   - one `tvw bench --json` process: 1 untimed and --iterations timed passes
#     (bench_vs_torch.py's tvw_times);
#   - 1 untimed and --iterations timed passes in a long-lived node process
#     running ort_runner.js (see there why it is long-lived);
#   - with --torch, 1 untimed and --iterations timed passes of the PyTorch
#     model in this process (bench_vs_torch.py's torch_times).
# Each side's median is the median of its per-round medians (`tvw bench
# --json` reports the median of a round, not every pass); the ratios are
# tvw / ORT and tvw / PyTorch: below 1.0 means libtvw is faster.  For a
# loaded machine the JSON lines add the median of the per-round ratios
# (ratio_*_paired) and the ratio of the fastest passes (ratio_ort_min).
# All sides use the same input (the pseudo-random values of `tvw bench`), --threads
# threads (ORT: intraOpNumThreads, interOpNumThreads 1, sequential
# execution) and flush denormals: libtvw itself, ORT through the session
# config entry session.set_denormal_as_zero = "1", PyTorch through
# torch.set_flush_denormal(True).  The first logits of ORT are checked
# against PyTorch's, so the exported graph is known to be the same model.
#
#   tests/bench/bench_vs_ort.py --model resnet50 --batch 1 --threads 2
#   tests/bench/bench_vs_ort.py --model resnet50 --rounds 5 --iterations 10 --torch --rss
#   tests/bench/bench_vs_ort.py --standard --torch --markdown   # the README table
#
# On a shared machine, --wait-idle 20 starts each round only after a second
# in which the processors were at most 20% busy (waiting at most --wait-max
# seconds); the JSON then lists the CPU use measured before each round.
# Whatever the options, each round also measures the share of the machine
# that other processes used while tvw and ORT ran (the machine's non-idle
# time in /proc/stat less this process's, its children's and node's), and
# the JSON adds tvw/ORT over the clean rounds alone (others at most --clean
# percent): ratio_ort_clean, and clean_rounds, how many there were.
#
# --rss also records the peak RSS (GNU time's %M) of one process per side
# doing one forward pass: `tvw forward`, `node ort_runner.js --iterations 1
# --warmup 0` (and node with onnxruntime-node loaded but no session, for
# reference), and with --torch, Python with torch (bench_vs_torch.py's).
#
# Needs, on Debian 12: python3-torch, python3-torchvision, python3-numpy,
# time (GNU time, for --rss), nodejs and npm (Debian's nodejs 18 and npm 9;
# this was run with NodeSource's nodejs 20.20.2, which includes npm).
# ONNX Runtime comes from npm: when missing, the script runs
#   npm install --ignore-scripts onnxruntime-node@1.30.0
# into $TVW_ORT_DIR, by default $XDG_CACHE_HOME/tvw-bench/ort-1.30.0
# (~/.cache/... without XDG_CACHE_HOME); --ignore-scripts skips the package's
# install script, which downloads GPU binaries; the CPU ones are in the
# package.  The tvw CLI is --cli, $TVW_CLI or `tvw` on PATH.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models as M

# The same timing and RSS measurement as the PyTorch benchmark.
from bench_vs_torch import peak_rss_kb, torch_forward_argv, torch_times, tvw_times

ORT_VERSION = "1.30.0"
HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "ort_runner.js")

# The README table: (model, batch).
STANDARD = [("resnet50", 1), ("resnet50", 8), ("resnet18", 1), ("mobilenet_v3_large", 1),
            ("mobilenet_v3_large", 8), ("efficientnet_b0", 1), ("regnet_y_400mf", 1)]


def ort_dir():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.environ.get("TVW_ORT_DIR") or os.path.join(cache, "tvw-bench", "ort-" + ORT_VERSION)


def ensure_ort():
    """The node_modules folder holding onnxruntime-node ORT_VERSION, installed
    with npm first if it is not there yet."""
    prefix = ort_dir()
    modules = os.path.join(prefix, "node_modules")
    manifest = os.path.join(modules, "onnxruntime-node", "package.json")
    try:
        with open(manifest) as f:
            if json.load(f)["version"] == ORT_VERSION:
                return modules
    except (OSError, ValueError, KeyError):
        pass
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            sys.exit(f"bench_vs_ort.py: `{tool}` not found (Debian: apt install nodejs npm)")
    os.makedirs(prefix, exist_ok=True)
    print(f"installing onnxruntime-node@{ORT_VERSION} into {prefix}", file=sys.stderr)
    subprocess.run(["npm", "install", "--prefix", prefix, "--ignore-scripts", "--no-audit",
                    "--no-fund", f"onnxruntime-node@{ORT_VERSION}"],
                   check=True, stdout=sys.stderr)
    return modules


def bench_input(batch, size):
    """The input of `tvw bench` (cli/tvw-cmd-bench.c): an LCG from seed 1,
    seed = seed * 1664525 + 1013904223 mod 2^32, value = (seed >> 8) / 2^24 * 2 - 1,
    computed here a block at a time (a jump of B steps is again an LCG)."""
    n = batch * 3 * size * size
    mask = 0xFFFFFFFF
    block = min(n, 4096)
    seeds = np.empty(n, dtype=np.uint64)
    seed, a, c = 1, 1, 0
    for i in range(block):
        seed = (seed * 1664525 + 1013904223) & mask
        seeds[i] = seed
        a, c = (a * 1664525) & mask, (c * 1664525 + 1013904223) & mask
    for start in range(block, n, block):
        m = min(block, n - start)
        seeds[start:start + m] = (seeds[start - block:start - block + m] * np.uint64(a)
                                  + np.uint64(c)) & np.uint64(mask)
    x = ((seeds >> np.uint64(8)).astype(np.float64) / 16777216.0 * 2.0 - 1.0).astype(np.float32)
    return x.reshape(batch, 3, size, size)


class OrtRunner:
    """One `node ort_runner.js --serve` process for one model: times(K, W)
    runs W untimed and K timed passes and returns ort_runner.js's JSON."""

    def __init__(self, node_modules, onnx_path, batch, size, threads):
        env = dict(os.environ, NODE_PATH=node_modules)
        self.proc = subprocess.Popen(["node", RUNNER, onnx_path, "--serve", "--batch", str(batch),
                                      "--size", str(size), "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        self.ready = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"ort_runner.js exited with status {self.proc.wait()}")
        return json.loads(line)

    def times(self, iterations, warmup):
        self.proc.stdin.write(f"{iterations} {warmup}\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def bench(name, batch, args, node_modules, workdir):
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    model = getattr(M, name)(weights=None).eval()
    x = torch.from_numpy(bench_input(batch, args.size))

    ckpt = os.path.join(workdir, f"{name}.pth")
    onnx_path = os.path.join(workdir, f"{name}-b{batch}.onnx")
    torch.save(model.state_dict(), ckpt)
    # Traced with gradients on: nn.MultiheadAttention (ViT) then takes its
    # plain path, as _native_multi_head_attention has no ONNX export.
    torch.onnx.export(model, x, onnx_path, opset_version=args.opset, input_names=["input"],
                      output_names=["output"], do_constant_folding=True)
    with torch.no_grad():
        reference = model(x).numpy().ravel()[:8]

    ns = argparse.Namespace(model=name, batch=batch, threads=args.threads, size=args.size)
    tvw_rounds, ort_rounds, ort_all, torch_rounds, torch_all = [], [], [], [], []
    tvw_min = float("inf")
    busy = []  # with --wait-idle, the CPU use (percent) before each round
    others = []  # the share of the machine used by other processes during tvw + ORT
    ort = OrtRunner(node_modules, onnx_path, batch, args.size, args.threads)
    try:
        head = np.array(ort.ready["output_head"], dtype=np.float32)
        ort_diff = float(np.max(np.abs(head - reference)))
        if ort_diff > 1e-3 * max(1.0, float(np.max(np.abs(reference)))):
            print(f"bench_vs_ort.py: {name}: ORT's output differs from PyTorch's by {ort_diff}",
                  file=sys.stderr)
        for _ in range(args.rounds):
            if args.wait_idle is not None:
                busy.append(wait_idle(args))
            ticks, start = cpu_ticks([ort.proc.pid]), time.monotonic()
            t = tvw_times(args.cli, ns, args.iterations, checkpoint=ckpt)
            tvw_rounds.append(t["median_ms"])
            tvw_min = min(tvw_min, t["min_ms"])
            r = ort.times(args.iterations, 1)
            ort_rounds.append(r["median_ms"])
            ort_all += r["times_ms"]
            others.append(others_share(ticks, cpu_ticks([ort.proc.pid]),
                                       time.monotonic() - start))
            if args.torch:
                torch_times(model, x, 1)  # the untimed pass each other side has too
                t = torch_times(model, x, args.iterations)
                torch_rounds.append(statistics.median(t))
                torch_all += t
    finally:
        ort.close()

    tvw_med = statistics.median(tvw_rounds)
    ort_med = statistics.median(ort_rounds)
    result = {
        "model": name, "batch": batch, "threads": args.threads, "size": args.size,
        "rounds": args.rounds, "iterations": args.iterations, "opset": args.opset,
        "tvw_median_ms": round(tvw_med, 3), "ort_median_ms": round(ort_med, 3),
        "ratio_ort": round(tvw_med / ort_med, 3),
        # On a loaded machine, two more views: the median of the ratios of
        # the two halves of each round (neighbours in time), and the fastest
        # passes (load only ever adds time).
        "ratio_ort_paired": round(statistics.median(
            t / o for t, o in zip(tvw_rounds, ort_rounds)), 3),
        "tvw_min_ms": round(tvw_min, 3), "ort_min_ms": round(min(ort_all), 3),
        "ratio_ort_min": round(tvw_min / min(ort_all), 3),
        "ort_median_all_ms": round(statistics.median(ort_all), 3),
        "others_during_rounds": others,
        "ort_max_abs_diff": ort_diff,
        "tvw_rounds_ms": [round(t, 2) for t in tvw_rounds],
        "ort_rounds_ms": [round(t, 2) for t in ort_rounds],
    }
    if busy:
        result["busy_before_rounds"] = busy
    # The rounds in which other processes used at most --clean percent of
    # the machine while tvw and ORT ran: the medians of those alone.
    clean = [i for i, o in enumerate(others) if o <= args.clean]
    result["clean_rounds"] = len(clean)
    if clean:
        tvw_clean = statistics.median(tvw_rounds[i] for i in clean)
        ort_clean = statistics.median(ort_rounds[i] for i in clean)
        result.update({"tvw_clean_median_ms": round(tvw_clean, 3),
                       "ort_clean_median_ms": round(ort_clean, 3),
                       "ratio_ort_clean": round(tvw_clean / ort_clean, 3)})
    if args.torch:
        torch_med = statistics.median(torch_rounds)
        result.update({
            "torch_median_ms": round(torch_med, 3), "ratio_torch": round(tvw_med / torch_med, 3),
            "ratio_torch_paired": round(statistics.median(
                t / p for t, p in zip(tvw_rounds, torch_rounds)), 3),
            "torch_min_ms": round(min(torch_all), 3),
            "torch_median_all_ms": round(statistics.median(torch_all), 3),
            "torch_rounds_ms": [round(t, 2) for t in torch_rounds],
        })

    if args.rss:
        inp = os.path.join(workdir, "in.npy")
        out = os.path.join(workdir, "out.npy")
        np.save(inp, x.numpy())
        # env(1) execs node, so GNU time measures node itself.
        node = ["env", "NODE_PATH=" + node_modules, "node"]
        result["tvw_peak_rss_mb"] = round(peak_rss_kb(
            [args.cli, "forward", "--model", name, "--checkpoint", ckpt, "--threads",
             str(args.threads), "--input", inp, "--output", out]) / 1024, 1)
        result["ort_peak_rss_mb"] = round(peak_rss_kb(
            node + [RUNNER, onnx_path, "--batch", str(batch), "--size", str(args.size),
                    "--threads", str(args.threads), "--iterations", "1", "--warmup", "0"]) / 1024, 1)
        result["node_ort_loaded_rss_mb"] = round(peak_rss_kb(
            node + ["-e", "require('onnxruntime-node')"]) / 1024, 1)
        if args.torch:
            result["torch_peak_rss_mb"] = round(peak_rss_kb(
                torch_forward_argv(name, args.threads, ckpt, inp)) / 1024, 1)

    for f in (ckpt, onnx_path):
        os.remove(f)
    return result


def cpu_busy(interval=1.0):
    """The share of all processors' time, in percent, that was not idle
    during the next interval seconds (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        return sum(fields), fields[3] + fields[4]  # idle + iowait
    total0, idle0 = sample()
    time.sleep(interval)
    total1, idle1 = sample()
    return round(100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0)), 1)


def wait_idle(args):
    """With --wait-idle, wait (at most --wait-max seconds) until the machine
    was at most --wait-idle percent busy for a second; the last measurement."""
    start = time.monotonic()
    while True:
        busy = cpu_busy()
        if busy <= args.wait_idle or time.monotonic() - start >= args.wait_max:
            return busy


def cpu_ticks(pids):
    """(Non-idle clock ticks of the whole machine, CPU ticks used by this
    process, its waited-for children and the processes pids)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    machine = sum(fields) - fields[3] - fields[4]
    own = 0
    for pid in ["self", *pids]:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        own += sum(int(v) for v in stat[11:15])  # utime stime cutime cstime
    return machine, own


def others_share(before, after, seconds):
    """The share of the machine, in percent, that other processes used
    between two cpu_ticks() readings seconds apart."""
    capacity = seconds * os.sysconf("SC_CLK_TCK") * os.cpu_count()
    return round(100.0 * max(0, (after[0] - before[0]) - (after[1] - before[1])) / capacity, 1)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def markdown(results, args, load_before, load_after):
    cols = ["model", "batch", "tvw ms", "ORT ms", "tvw/ORT", "clean rounds: tvw/ORT"]
    if args.torch:
        cols += ["PyTorch ms", "tvw/PyTorch"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        row = [r["model"], str(r["batch"]), f"{r['tvw_median_ms']:.2f}",
               f"{r['ort_median_ms']:.2f}", f"{r['ratio_ort']:.2f}",
               f"{r['clean_rounds']}/{r['rounds']}: "
               + (f"{r['ratio_ort_clean']:.2f}" if r["clean_rounds"] else "–")]
        if args.torch:
            row += [f"{r['torch_median_ms']:.2f}", f"{r['ratio_torch']:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(f"{args.threads} threads, {args.size}×{args.size}, medians of {args.rounds} "
                 f"alternating rounds of {args.iterations} passes; ONNX Runtime {ORT_VERSION} "
                 f"(onnxruntime-node, CPU EP, ORT_ENABLE_ALL, opset {args.opset}), PyTorch "
                 f"{torch.__version__}; load average {load_before} before, {load_after} after.")
    lines.append(f"Clean rounds: other processes used at most {args.clean:g}% of the machine "
                 "while tvw and ORT ran.")
    busy = [b for r in results for b in r.get("busy_before_rounds", [])]
    if busy:
        lines.append(f"Processors busy in the second before each round: median "
                     f"{statistics.median(busy):.0f}%, {min(busy):.0f}% to {max(busy):.0f}% "
                     f"(--wait-idle {args.wait_idle:g}, --wait-max {args.wait_max:g}).")
    rss = [r for r in results if "tvw_peak_rss_mb" in r]
    for r in rss:
        s = (f"Peak RSS of one forward, {r['model']} batch {r['batch']}: tvw "
             f"{r['tvw_peak_rss_mb']} MB, ORT (node) {r['ort_peak_rss_mb']} MB "
             f"(node with onnxruntime-node loaded: {r['node_ort_loaded_rss_mb']} MB)")
        if "torch_peak_rss_mb" in r:
            s += f", PyTorch {r['torch_peak_rss_mb']} MB"
        lines.append(s + ".")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="libtvw against ONNX Runtime (and PyTorch), "
                                 "alternating; ratios below 1.0 mean libtvw is faster")
    ap.add_argument("--model", action="append",
                    help="a torchvision model name (repeatable; default resnet50)")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--standard", action="store_true",
                    help="the README list: " + ", ".join(f"{m} b{b}" for m, b in STANDARD))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=10, help="timed runs per round and side")
    ap.add_argument("--opset", type=int, default=17, help="ONNX opset of the export (13 to 17)")
    ap.add_argument("--torch", action="store_true", help="also time PyTorch eager in the rounds")
    ap.add_argument("--rss", action="store_true",
                    help="also measure the peak RSS of one forward of each side")
    ap.add_argument("--wait-idle", type=float, metavar="PERCENT",
                    help="on a shared machine, start each round only once the processors "
                         "were at most PERCENT busy for a second")
    ap.add_argument("--wait-max", type=float, default=120, metavar="SECONDS",
                    help="with --wait-idle, the longest wait before a round (default 120)")
    ap.add_argument("--clean", type=float, default=10, metavar="PERCENT",
                    help="a round is clean when other processes used at most PERCENT of the "
                         "machine while tvw and ORT ran (default 10)")
    ap.add_argument("--markdown", action="store_true", help="end with a markdown table")
    ap.add_argument("--cli", default=os.environ.get("TVW_CLI", "tvw"))
    args = ap.parse_args()

    if args.standard:
        runs = STANDARD
    else:
        runs = [(m, args.batch) for m in (args.model or ["resnet50"])]

    node_modules = ensure_ort()
    load_before = loadavg()
    results = []
    with tempfile.TemporaryDirectory(prefix="tvw-bench-ort-") as workdir:
        for name, batch in runs:
            result = bench(name, batch, args, node_modules, workdir)
            result["loadavg"] = loadavg()
            results.append(result)
            print(json.dumps(result), flush=True)
    load_after = loadavg()
    if args.markdown:
        print()
        print(markdown(results, args, load_before, load_after))


if __name__ == "__main__":
    main()
