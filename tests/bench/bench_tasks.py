#!/usr/bin/python3
# Side-by-side benchmark of the task models whose inputs `tvw bench` cannot
# express (issues 18 and 19): libtvw through GObject Introspection in this
# process (Tvw.Model.forward_inputs, no process start in the timings) and
# PyTorch 1.13 eager, on the same random weights, inputs and threads,
# alternating in one run; prints the medians and their ratio (tvw / PyTorch:
# below 1.0 means libtvw is faster).
#
#   detection     fasterrcnn_mobilenet_v3_large_320_fpn, ssdlite320_mobilenet_v3_large:
#                 one 3×480×640 image in [0, 1] (libtvw: a 1×3×H×W batch
#                 `images`; PyTorch: model([img]));
#   video         r2plus1d_18 on a 1×3×16×112×112 clip;
#   optical flow  raft_small on two 1×3×368×496 frames, 12 flow updates on
#                 both sides (PyTorch returns every update's flow: the whole
#                 call is timed).
#
# Weights: torchvision's model with weights=None (and weights_backbone=None),
# every parameter and buffer randomised as tests/conformance/tvwconf.py
# does, saved with torch.save(state_dict) and loaded into libtvw.  Random
# detection heads score almost every anchor or proposal alike, giving
# thousands of candidates and a benchmark of NMS; so the class-score layer
# (Faster R-CNN's roi_heads.box_predictor.cls_score, SSDlite's last
# convolution of each classification head) is scaled to spread the scores
# and its background logit raised, as a trained detector predicts background
# almost everywhere: by the bias that, on this image, leaves about 60
# candidates over the builder's score threshold, none near it (see
# calibrate_background); the box regressions are scaled by 0.1 (boxes near
# their anchors).  After NMS, tens of detections for Faster R-CNN (28 on
# this image) but some 130 for SSDlite: its random scores come in a tied
# cluster of ~340 candidates that no bias splits (between 6 and 260 there is
# nothing), so the bias keeps them.  The bias, the number of candidates and
# the detections of each side are printed: the detections should agree.
# PyTorch flushes denormals, as libtvw always does.
# For the video and flow models, the relative difference of the logits or
# the final flow is printed (max |tvw − torch| / max(1, max |torch|)).
#
#   tests/bench/bench_tasks.py --threads 2 [--model raft_small] [--rss] [--markdown]
#
# Run it from a build: GI_TYPELIB_PATH and LD_LIBRARY_PATH to build/lib (or
# --build BUILD, which sets them and re-executes) and tvw on PATH for --rss
# (or --cli).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (torchvision module, builder kwargs, input shapes, seed)
MODELS = {
    "fasterrcnn_mobilenet_v3_large_320_fpn":
        ("torchvision.models.detection", {"weights_backbone": None}, [(1, 3, 480, 640)], 1801),
    "ssdlite320_mobilenet_v3_large":
        ("torchvision.models.detection", {"weights_backbone": None}, [(1, 3, 480, 640)], 1802),
    "r2plus1d_18": ("torchvision.models.video", {}, [(1, 3, 16, 112, 112)], 1901),
    "raft_small": ("torchvision.models.optical_flow", {}, [(1, 3, 368, 496)] * 2, 1902),
}

# Detection heads: the scale of the class-score layer (spreading the
# scores, as tests/conformance/test_detection_*.py do).
HEADS = {
    "fasterrcnn_mobilenet_v3_large_320_fpn": 4.0,
    "ssdlite320_mobilenet_v3_large": 3.0,
}
# The background logit is then raised by the bias that leaves between a
# third of and three times CANDIDATES (row, class) scores over the builder's
# score threshold, the fewest of them within a factor MARGIN of it (ideally
# none, so that rounding cannot move one across it on either side), then
# the nearest to CANDIDATES.
CANDIDATES = 60
MARGIN = 1.5


def class_score_layers(model, name):
    if name.startswith("fasterrcnn"):
        return [model.roi_heads.box_predictor.cls_score]
    return [block[-1] for block in model.head.classification_head.module_list]


def calibrate_background(model, name, image):
    """Raises the background logit of @model's class-score layers (whose
    outputs are (anchor, class), with the builders' default 91 classes,
    class 0 the background) by the bias that leaves about CANDIDATES
    detection candidates over the score threshold on @image, as few as can
    be near the threshold; returns the bias and the number of candidates.
    The bias changes nothing before the class scores, so the logits of one
    forward predict the candidates for every bias."""
    import torch
    if name.startswith("fasterrcnn"):
        layer, thresh = model.roi_heads.box_predictor.cls_score, model.roi_heads.score_thresh
    else:
        layer, thresh = model.head.classification_head, model.score_thresh
    captured = []
    hook = layer.register_forward_hook(lambda m, i, o: captured.append(o.reshape(-1, 91)))
    with torch.no_grad():
        model([image])
    hook.remove()
    # softmax(logits + bias·e0)[:, 1:] = exp(l) / (exp(l0 + bias) + Σ exp(l₁…))
    exp = torch.exp(captured[0].double() - captured[0].double().max(-1, keepdim=True).values)
    background, classes = exp[:, 0:1], exp[:, 1:]
    rest = classes.sum(-1, keepdim=True)
    best = None
    for step in range(0, 301):
        bias = step * 0.1
        scores = classes / (background * math.exp(bias) + rest)
        count = int((scores > thresh).sum())
        near = int(((scores > thresh / MARGIN) & (scores < thresh * MARGIN)).sum())
        if count == 0:
            break
        key = (not CANDIDATES / 3 <= count <= CANDIDATES * 3, near, abs(count - CANDIDATES))
        if best is None or key < best[0]:
            best = (key, round(bias, 2), count)
    _, bias, count = best
    with torch.no_grad():
        for conv in class_score_layers(model, name):
            conv.bias.view(-1, 91)[:, 0] += bias
    return bias, count


def ensure_environment(build):
    """With --build, points GI and the loader at BUILD/lib and re-executes
    (LD_LIBRARY_PATH is read only at process start)."""
    if build is None:
        return
    lib = os.path.join(os.path.abspath(build), "lib")
    if os.environ.get("GI_TYPELIB_PATH", "").split(":")[0] == lib:
        return
    env = dict(os.environ)
    env["GI_TYPELIB_PATH"] = ":".join(filter(None, [lib, env.get("GI_TYPELIB_PATH")]))
    env["LD_LIBRARY_PATH"] = ":".join(filter(None, [lib, env.get("LD_LIBRARY_PATH")]))
    env["PATH"] = ":".join([os.path.join(os.path.abspath(build), "cli"), env.get("PATH", "")])
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def construct(name):
    import importlib
    module, kwargs, _, _ = MODELS[name]
    return getattr(importlib.import_module(module), name)(weights=None, **kwargs)


def random_model(name):
    """The torchvision model @name with random parameters and buffers, its
    detection heads set up as the header explains."""
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "conformance"))
    import tvwconf

    model = tvwconf.randomise(construct(name), MODELS[name][3])
    with torch.no_grad():
        if name.startswith("fasterrcnn"):
            predictor = model.roi_heads.box_predictor
            predictor.bbox_pred.weight.mul_(0.1)
            predictor.bbox_pred.bias.mul_(0.1)
            for p in model.rpn.head.bbox_pred.parameters():
                p.mul_(0.1)
        elif name.startswith("ssdlite"):
            for block in model.head.regression_head.module_list:
                for p in block[-1].parameters():
                    p.mul_(0.1)
        if name == "raft_small":
            # As tests/conformance/test_raft.py: small per-update flow, as in
            # a trained model, so the flow stays within the frames.
            model.update_block.flow_head.conv2.weight.mul_(0.05)
            model.update_block.flow_head.conv2.bias.mul_(0.05)
        for conv in class_score_layers(model, name) if name in HEADS else []:
            conv.weight.mul_(HEADS[name])
            conv.bias.mul_(HEADS[name])
    return model.eval()


def make_inputs(name, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    shapes = MODELS[name][2]
    if name == "raft_small":
        a = rng.uniform(-1, 1, shapes[0]).astype(np.float32)
        b = (np.roll(a, (3, -2), axis=(2, 3)) + 0.1 * rng.standard_normal(shapes[1])).astype(np.float32)
        return [a, b]
    if name in HEADS:
        return [rng.uniform(0, 1, s).astype(np.float32) for s in shapes]
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def torch_call(name, model, inputs):
    """A function running one PyTorch forward of @model on the NumPy @inputs."""
    import torch
    xs = [torch.from_numpy(x) for x in inputs]
    if name in HEADS:
        images = [xs[0][0]]
        return lambda: model(images)
    return lambda: model(*xs)


def tvw_model(name, checkpoint, threads):
    import gi
    gi.require_version("Tvw", "1.0")
    from gi.repository import Gio, Tvw
    model = Tvw.Model(architecture=name, n_threads=threads)
    model.init(None)
    model.load_state_dict_from_file(Gio.File.new_for_path(checkpoint), True, None)
    return model


def tvw_call(model, inputs):
    """A function running one libtvw forward of @model on the NumPy @inputs
    (converted to tensors once, outside the timings)."""
    from gi.repository import GLib, Tvw
    tensors = [Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, list(x.shape), GLib.Bytes.new(x.tobytes()))
               for x in inputs]
    return lambda: model.forward_inputs(tensors, None)


def times(call, iterations):
    import torch
    result = []
    with torch.no_grad():
        for _ in range(iterations):
            t = time.perf_counter()
            call()
            result.append((time.perf_counter() - t) * 1000)
    return result


def tvw_detections(outputs):
    """The number of detections in libtvw's outputs (boxes, labels, scores)."""
    return int(outputs.get_item(0).get_dim(0))


def tvw_numpy(tensor):
    import numpy as np
    shape = [tensor.get_dim(i) for i in range(tensor.get_n_dims())]
    return np.frombuffer(tensor.get_bytes().get_data(), dtype=np.float32).reshape(shape)


def relative_difference(outputs, ref):
    """max |libtvw − PyTorch| / max(1, max |PyTorch|) of the (last) output:
    the logits, or RAFT's final flow."""
    import numpy as np
    ours = tvw_numpy(outputs.get_item(outputs.get_n_items() - 1))
    ref = (ref[-1] if isinstance(ref, list) else ref).numpy()
    return float(np.abs(ours - ref).max() / max(1.0, float(np.abs(ref).max())))


def peak_rss_kb(argv):
    """Peak RSS of one command, in KiB, measured by GNU time (as
    bench_vs_torch.py: a child forked from this large process would report
    this process's size)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    return int(out.strip().splitlines()[-1])


def torch_forward_argv(name, threads, checkpoint, paths):
    """A command running one PyTorch forward of @name with the state_dict
    @checkpoint on the .npy files @paths, for peak_rss_kb."""
    module, kwargs, _, _ = MODELS[name]
    script = ("import importlib, torch, numpy as np;"
              f"torch.set_num_threads({threads}); torch.set_flush_denormal(True);"
              f"m = getattr(importlib.import_module({module!r}), {name!r})(weights=None, **{kwargs!r}).eval();"
              f"m.load_state_dict(torch.load({checkpoint!r}));"
              f"xs = [torch.from_numpy(np.load(p)) for p in {paths!r}];"
              "torch.no_grad().__enter__();"
              + ("m([xs[0][0]])" if name in HEADS else "m(*xs)"))
    return [sys.executable, "-c", script]


def bench(name, args):
    import numpy as np
    import torch

    model = random_model(name)
    inputs = make_inputs(name, MODELS[name][3])
    result = {"model": name, "threads": args.threads,
              "inputs": ["x".join(map(str, x.shape)) for x in inputs]}
    if name in HEADS:
        bias, count = calibrate_background(model, name, torch.from_numpy(inputs[0][0]))
        result["background_bias"] = bias
        result["candidates"] = count
    with tempfile.TemporaryDirectory() as d:
        ckpt = os.path.join(d, f"{name}.pth")
        torch.save(model.state_dict(), ckpt)
        ours = tvw_model(name, ckpt, args.threads)
        run_torch = torch_call(name, model, inputs)
        run_tvw = tvw_call(ours, inputs)

        # Warm up (PyTorch twice, as bench_vs_torch.py), and the outputs
        # compared: the detections of each side, or the relative difference
        # of the logits or the final flow.
        with torch.no_grad():
            run_torch()
            ref = run_torch()
        got = run_tvw()
        if name in HEADS:
            result["torch_detections"] = int(ref[0]["scores"].shape[0])
            result["tvw_detections"] = tvw_detections(got)
        else:
            result["relative_difference"] = float(f"{relative_difference(got, ref):.2g}")

        torch_all, tvw_all = [], []
        for _ in range(args.rounds):
            tvw_all.append(statistics.median(times(run_tvw, args.iterations)))
            torch_all.append(statistics.median(times(run_torch, args.iterations)))
        tvw_med = statistics.median(tvw_all)
        torch_med = statistics.median(torch_all)
        result.update({"tvw_median_ms": round(tvw_med, 2), "torch_median_ms": round(torch_med, 2),
                       "ratio": round(tvw_med / torch_med, 3)})

        if args.rss:
            paths = []
            for i, x in enumerate(inputs):
                paths.append(os.path.join(d, f"in{i}.npy"))
                np.save(paths[-1], x)
            out = os.path.join(d, "out.npz" if name in HEADS else "out.npy")
            torch_rss = peak_rss_kb(torch_forward_argv(name, args.threads, ckpt, paths))
            argv = [args.cli, "forward", "--model", name, "--checkpoint", ckpt,
                    "--threads", str(args.threads), "--output", out]
            for p in paths:
                argv += ["--input", p]
            tvw_rss = peak_rss_kb(argv)
            result["torch_peak_rss_mb"] = round(torch_rss / 1024, 1)
            result["tvw_peak_rss_mb"] = round(tvw_rss / 1024, 1)
    return result


def markdown_row(r):
    cells = [f"`{r['model']}`", ", ".join(r["inputs"]), str(r["threads"]),
             f"{r['tvw_median_ms']:.1f}", f"{r['torch_median_ms']:.1f}", f"{r['ratio']:.2f}"]
    if "tvw_detections" in r:
        cells.append(f"{r['tvw_detections']} / {r['torch_detections']} detections")
    else:
        cells.append(f"relative difference {r['relative_difference']:.1e}")
    if "tvw_peak_rss_mb" in r:
        cells.append(f"{r['tvw_peak_rss_mb']:.0f} / {r['torch_peak_rss_mb']:.0f}")
    return "| " + " | ".join(cells) + " |"


def main():
    ap = argparse.ArgumentParser(description="libtvw (in-process, through GI) against PyTorch eager "
                                             "on detection, video and optical flow models, alternating; "
                                             "ratio of medians tvw / PyTorch (below 1.0: libtvw faster)")
    ap.add_argument("--model", action="append", choices=list(MODELS),
                    help="repeatable; every model by default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=3, help="timed runs per round and side")
    ap.add_argument("--rss", action="store_true",
                    help="also compare the peak RSS of one forward of each, in separate processes")
    ap.add_argument("--markdown", action="store_true", help="also print README table rows")
    ap.add_argument("--build", help="a libtvw build directory (sets GI_TYPELIB_PATH, "
                                    "LD_LIBRARY_PATH and PATH)")
    ap.add_argument("--cli", default=os.environ.get("TVW_CLI", "tvw"), help="tvw, for --rss")
    args = ap.parse_args()
    ensure_environment(args.build)

    import torch
    torch.set_num_threads(args.threads)
    # libtvw always flushes denormals; without this, random weights make
    # PyTorch's time depend on how many denormals the layers produce.
    torch.set_flush_denormal(True)

    results = []
    for name in args.model or list(MODELS):
        results.append(bench(name, args))
        print(json.dumps(results[-1]), flush=True)
    if args.markdown:
        header = "| model | input | threads | libtvw ms | PyTorch ms | ratio | outputs (tvw / torch) |"
        if args.rss:
            header += " peak RSS MB (tvw / torch) |"
        print(header)
        print("|" + "---|" * (header.count("|") - 1))
        for r in results:
            print(markdown_row(r))


if __name__ == "__main__":
    main()
