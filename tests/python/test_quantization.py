#!/usr/bin/python3
# test_quantization.py — Tvw.quantization as torchvision.models.quantization
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Code written for torchvision.models.quantization runs with its import
# changed: the builders take `weights=` and `quantize=`, quantize=True
# builds the int8 model (here loaded with a random checkpoint PyTorch made
# and compared with PyTorch's int8 output), quantize=False the float
# quantizable model with the float weights (meta["unquantized"]).  torch and
# torchvision are the oracles only.  Prints TAP.
#
# Run with /usr/bin/python3, the Tvw typelib on GI_TYPELIB_PATH,
# bindings/python on PYTHONPATH and TVW_OFFLINE=1 (nothing is downloaded).

import os
import shutil
import sys
import tempfile
import traceback

import numpy as np
import torch
import torchvision.models.quantization as tvq

import gi

gi.require_version("Tvw", "1.0")
from gi.repository import Gio, GLib  # noqa: E402
from gi.repository import Tvw  # noqa: E402
# was: from torchvision.models import quantization
from gi.repository.Tvw import quantization  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from tvwconf import randomise  # noqa: E402  — every parameter and statistic random

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def tensor(batch):
    return Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, list(batch.shape),
                                     GLib.Bytes.new(np.ascontiguousarray(batch).tobytes()))


def numpy(out):
    return np.frombuffer(out.get_bytes().get_data(), np.float32).reshape(out.get_shape())


def load(model, sd, work):
    path = os.path.join(work, "ckpt.pth")
    torch.save(sd, path)
    model.load_state_dict_from_file(Gio.File.new_for_path(path), True)
    os.unlink(path)


def within_steps(got, ref, step):
    """The conformance test's criteria: every logit within 3 output steps,
    ≥ 99% within one, the same top-1."""
    steps = np.abs(got - ref) / step
    same_top1 = all(got[r, np.argmax(ref[r])] == got[r].max() for r in range(ref.shape[0]))
    return (steps.max() <= 3 + 1e-3 and np.mean(steps <= 1 + 1e-3) >= 0.99 and same_top1,
            f"max {steps.max():.2f} steps, {100 * np.mean(steps <= 1 + 1e-3):.2f}% within one")


@test
def every_quantized_builder(work):
    """The twelve builders of torchvision.models.quantization, each building
    the int8 model with quantize=True and the float one by default."""
    want = {"googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_large", "resnet18", "resnet50",
            "resnext101_32x8d", "resnext101_64x4d", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
            "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"}
    assert all(callable(getattr(tvq, n)) for n in want)
    assert want <= set(dir(quantization)), sorted(want - set(dir(quantization)))
    for name in sorted(want):
        builder = getattr(quantization, name)
        assert builder(weights=None, quantize=True).get_architecture() == f"quantized_{name}", name
        arch = builder(weights=None).get_architecture()
        assert arch in (name, f"quantized_{name}"), (name, arch)
    return f"{len(want)} builders"


@test
def resnet18_int8(work):
    """torchvision code for quantization.resnet18(weights=None,
    quantize=True), on a checkpoint PyTorch quantized."""
    torch.backends.quantized.engine = "onednn"
    ref_model = randomise(tvq.resnet18(weights=None, quantize=False), 1900)
    with torch.no_grad():
        # Damped residual branches, as trained ones (see test_quantized.py).
        for m in ref_model.modules():
            if hasattr(m, "bn2"):
                m.bn2.weight.mul_(0.1)
    ref_model.fuse_model(is_qat=False)
    ref_model.qconfig = torch.ao.quantization.QConfig(
        activation=torch.ao.quantization.MinMaxObserver.with_args(dtype=torch.quint8),
        weight=torch.ao.quantization.default_per_channel_weight_observer)
    torch.ao.quantization.prepare(ref_model, inplace=True)
    with torch.no_grad():
        ref_model(torch.randn(2, 3, 64, 64))
    torch.ao.quantization.convert(ref_model, inplace=True)
    batch = np.random.default_rng(19).standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(batch)).numpy()

    model = quantization.resnet18(weights=None, quantize=True)
    model.eval()
    load(model, ref_model.state_dict(), work)
    ok, diag = within_steps(numpy(model(tensor(batch))), ref, float(ref_model.fc.scale))
    assert ok, diag
    return diag


@test
def mobilenet_v3_large_qat(work):
    """quantization.mobilenet_v3_large(quantize=True) loads the QAT
    state_dict torchvision's weights file holds and converts it."""
    def prepared(m):
        m.fuse_model(is_qat=True)
        m.qconfig = torch.ao.quantization.get_default_qat_qconfig("qnnpack")
        m.train()
        return torch.ao.quantization.prepare_qat(m)

    torch.backends.quantized.engine = "onednn"
    qat = prepared(randomise(tvq.mobilenet_v3_large(weights=None, quantize=False), 1901))
    qat.apply(torch.nn.intrinsic.qat.freeze_bn_stats)
    with torch.no_grad():
        for _ in range(2):
            qat(torch.randn(4, 3, 64, 64))
    sd = qat.state_dict()
    ref_model = prepared(tvq.mobilenet_v3_large(weights=None, quantize=False))
    ref_model.load_state_dict(sd)
    torch.ao.quantization.convert(ref_model, inplace=True)
    ref_model.eval()
    batch = np.random.default_rng(20).standard_normal((1, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(batch)).numpy()

    model = quantization.mobilenet_v3_large(weights=None, quantize=True)
    load(model, sd, work)
    ok, diag = within_steps(numpy(model(tensor(batch))), ref, float(ref_model.classifier[3].scale))
    assert ok, diag
    return diag


@test
def mobilenet_v2_float(work):
    """quantize=False is torchvision's float quantizable model: MobileNet V2
    with its ReLU6s made ReLUs, at the float conformance tolerance."""
    ref_model = randomise(tvq.mobilenet_v2(weights=None, quantize=False), 1902)
    batch = np.random.default_rng(21).standard_normal((2, 3, 64, 64)).astype(np.float32) * 4
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(batch)).numpy()
    model = quantization.mobilenet_v2(weights=None, quantize=False)
    load(model, ref_model.state_dict(), work)
    diff = float(np.abs(numpy(model(tensor(batch))) - ref).max())
    tol = 1e-4 * max(1.0, float(np.abs(ref).max()))
    assert diff <= tol, f"max|Δ| {diff:.3g} > {tol:.3g}"
    return f"max|Δ| {diff:.3g}"


@test
def weights_by_quantize(work):
    """quantize picks the enum, as torchvision's verify (): the quantized
    entry with quantize=True, the float one (meta["unquantized"]) without."""
    w = quantization.ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V2
    assert w.meta["unquantized"] == Tvw.ResNet50_Weights.IMAGENET1K_V2, w.meta["unquantized"]
    v3 = quantization.MobileNet_V3_Large_QuantizedWeights.DEFAULT
    assert v3.meta["unquantized"] == Tvw.MobileNet_V3_Large_Weights.IMAGENET1K_V1
    assert v3.meta["backend"] == "qnnpack"
    try:
        quantization.resnet50(weights=w, quantize=False)
    except TypeError as e:
        assert "ResNet50_Weights" in str(e), e
    else:
        raise AssertionError("quantize=False took the quantized weights")
    try:
        quantization.resnet50(weights=w.meta["unquantized"], quantize=True)
    except TypeError as e:
        assert "ResNet50_QuantizedWeights" in str(e), e
    else:
        raise AssertionError("quantize=True took the float weights")
    # The float weights are accepted by the quantizable float model (the
    # download is what fails offline).
    try:
        quantization.mobilenet_v2(weights=Tvw.MobileNet_V2_Weights.IMAGENET1K_V1)
    except GLib.Error as e:
        assert "ffline" in str(e), e


def main():
    work = tempfile.mkdtemp(prefix="tvw-quantization-")
    failed = 0
    print(f"1..{len(TESTS)}", flush=True)
    try:
        for i, fn in enumerate(TESTS, 1):
            try:
                diag = fn(work)
                print(f"ok {i} {fn.__name__}{' # ' + diag if diag else ''}", flush=True)
            except Exception:
                failed += 1
                print(f"not ok {i} {fn.__name__}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
