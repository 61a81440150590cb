# Shared helpers of the conformance tests: random torchvision models, the
# checkpoint forms libtvw reads, running `tvw forward`, TAP output, and the
# loop that runs a list of models through all of it.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision.models


class Tap:
    def __init__(self, planned):
        self.n = 0
        self.failed = 0
        print(f"1..{planned}", flush=True)

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} {name}", flush=True)
        if diag:
            for line in str(diag).splitlines():
                print(f"# {line}", flush=True)

    def skip(self, name, why):
        self.n += 1
        print(f"ok {self.n} {name} # SKIP {why}", flush=True)

    def exit(self):
        sys.exit(1 if self.failed else 0)


def randomise(model, seed):
    """Every parameter and buffer random, BatchNorm far from identity (an
    identity BatchNorm would hide folding bugs)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 / fan_in) ** 0.5)
            elif name.endswith("weight"):
                p.copy_(torch.rand(p.shape, generator=g) * 1.0 + 0.5)
            else:
                p.copy_(torch.rand(p.shape, generator=g) - 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_((torch.rand(b.shape, generator=g) - 0.5) * 0.4)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) * 1.5 + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(int(torch.randint(1, 10000, (1,), generator=g)))
            elif b.is_floating_point():
                b.copy_(torch.randn(b.shape, generator=g))
    model.eval()
    return model


def save_safetensors(sd, path):
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
              torch.float64: "F64", torch.int64: "I64", torch.int32: "I32",
              torch.uint8: "U8"}
    header, blobs, offset = {}, [], 0
    for k, v in sd.items():
        data = v.contiguous().view(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b""
        header[k] = {"dtype": dtypes[v.dtype], "shape": list(v.shape),
                     "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def write_form(sd, form, path):
    """Writes @sd as one of the checkpoint forms; returns the state_dict
    the reference must use (fp16 rounds the weights)."""
    if form == "zip":
        torch.save(sd, path)
    elif form == "legacy":
        torch.save(sd, path, _use_new_zipfile_serialization=False)
    elif form == "wrapped":
        torch.save({"model": {"module." + k: v for k, v in sd.items()}, "epoch": 7}, path)
    elif form == "state_dict":
        torch.save({"state_dict": sd}, path)
    elif form == "safetensors":
        save_safetensors(sd, path)
    elif form == "fp16":
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        torch.save(half, path)
        used = collections.OrderedDict((k, v.float() if v.is_floating_point() else v)
                                       for k, v in half.items())
        # Modules that check their state_dict's version (MNASNet) need it.
        used._metadata = getattr(sd, "_metadata", None)
        return used
    else:
        raise ValueError(form)
    return sd


def save_npy(path, array):
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def tvw(*args, check=True):
    cli = os.environ.get("TVW_CLI", "tvw")
    proc = subprocess.run([cli, *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"tvw {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def run_forward(model_name, ckpt, inp, workdir, extra=()):
    in_path = os.path.join(workdir, "in.npy")
    out_path = os.path.join(workdir, "out.npy")
    save_npy(in_path, inp)
    tvw("forward", "--model", model_name, "--checkpoint", ckpt,
        "--input", in_path, "--output", out_path, *extra)
    return np.load(out_path)


def compare(got, ref, rtol=1e-4):
    """max|Δ| ≤ rtol·max(1, max|ref|), and the same top-5 order per row —
    a swap is accepted only between logits that tie within the tolerance."""
    scale = max(1.0, float(np.abs(ref).max()))
    tol = rtol * scale
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != {ref.shape}"
    diff = float(np.abs(got - ref).max())
    if not diff <= tol:
        return False, f"max|Δ| = {diff:.3g} > {tol:.3g}"
    if ref.ndim == 2:
        for r in range(ref.shape[0]):
            want = np.argsort(-ref[r], kind="stable")[:5]
            have = np.argsort(-got[r], kind="stable")[:5]
            for i in range(min(5, ref.shape[1])):
                if want[i] != have[i] and abs(ref[r, want[i]] - ref[r, have[i]]) > tol:
                    return False, f"row {r}: top-5 {have.tolist()} != {want.tolist()}"
    return True, f"max|Δ| = {diff:.3g} (tolerance {tol:.3g})"


def workdir():
    base = os.environ.get("G_TEST_BUILDDIR") or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix="tvw-conformance-", dir=base)


def _construct(name):
    return getattr(torchvision.models, name)(weights=None)


def run_models(models, seed, rng_seed, construct=_construct, timings=False, extra=()):
    """Compares `tvw forward` with PyTorch on every (name, forms, inputs) of
    @models (TVW_CONFORMANCE_ONLY=a,b keeps a subset): the model from
    @construct(name), randomised with @seed plus its index, each input
    drawn from a generator seeded with @rng_seed, one TAP line per form and
    input.  With @timings a comment gives each model's time.  @extra:
    (name, n_tests, check) of other checks, run first as check(tap, work,
    rng), each adding n_tests TAP lines (subset by name too).  Exits with
    the TAP status."""
    only = os.environ.get("TVW_CONFORMANCE_ONLY")
    if only:
        models = [m for m in models if m[0] in only.split(",")]
        extra = [e for e in extra if e[0] in only.split(",")]

    tap = Tap(sum(len(forms) * len(inputs) for _, forms, inputs in models) +
              sum(n for _, n, _ in extra))
    work = workdir()
    rng = np.random.default_rng(rng_seed)

    try:
        for _, _, check in extra:
            check(tap, work, rng)
        for index, (name, forms, inputs) in enumerate(models):
            start = time.monotonic()
            model = randomise(construct(name), seed + index)
            sd = model.state_dict()
            # (h, w) for images, (t, h, w) for clips
            batches = [rng.standard_normal((n, 3, *size)).astype(np.float32) for n, size in inputs]
            for form in forms:
                ckpt = os.path.join(work, f"{name}.{form}")
                used = write_form(sd, form, ckpt)
                if used is not sd:
                    model.load_state_dict(used)
                for batch in batches:
                    with torch.no_grad():
                        ref = model(torch.from_numpy(batch)).numpy()
                    label = f"{name} {form} batch {batch.shape[0]} {'x'.join(map(str, batch.shape[2:]))}"
                    try:
                        got = run_forward(name, ckpt, batch, work)
                        ok, diag = compare(got, ref)
                    except Exception as e:  # a crash of the CLI is a failure
                        ok, diag = False, str(e)
                    tap.ok(ok, label, diag)
                if used is not sd:
                    model.load_state_dict(sd)
                os.unlink(ckpt)
            del model, sd
            if timings:
                print(f"# {name}: {time.monotonic() - start:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tap.exit()
