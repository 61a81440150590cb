#!/usr/bin/python3
# Conformance of the quantized (int8) builders with PyTorch's int8 models.
#
# Each torchvision.models.quantization model is built with random weights
# (every parameter and BatchNorm buffer randomised), fused, prepared with
# per-channel qint8 weights and per-tensor quint8 activations (min/max
# observers), calibrated on random batches and converted, as torchvision's
# quantize_model does; its state_dict is what `tvw forward` loads.
#
# PyTorch here has the onednn and qnnpack engines, not fbgemm, which the
# real checkpoints were made for; libtvw follows fbgemm's requantisation
# (float multipliers, round to nearest even), so no engine is a bit-exact
# reference.  Criteria, in steps of the logits' quantisation (fc's output
# scale): every logit within 3 steps of onednn's, at least 99% within one,
# the same top-1 (up to exact ties, common among quantized logits) and at
# least 4 of the same top 5.  The test also measures
# how far PyTorch's two engines are from each other on the same converted
# model and prints it: libtvw must not be further from onednn than a
# few steps, while the engines themselves differ by about as much.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import sys

import numpy as np
import torch
import torchvision.models.quantization as tvq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvwconf  # noqa: E402

# builder, checkpoint forms, input (N, H, W); the ResNeXt-101s are the
# CI's biggest: one form, one small batch.
INT8_MODELS = [
    ("quantized_resnet18", ["zip", "legacy"], (2, 64, 64)),
    ("quantized_resnet50", ["zip"], (1, 96, 96)),
    ("quantized_mobilenet_v2", ["zip", "state_dict"], (2, 64, 64)),
    ("quantized_resnext101_32x8d", ["zip"], (1, 64, 64)),
    ("quantized_resnext101_64x4d", ["zip"], (1, 64, 64)),
    # FloatFunctional cat of four branches, ceil-mode quint8 max pools,
    # the auxiliary heads' quantized keys (declared, not run)
    ("quantized_googlenet", ["zip"], (2, 64, 64)),
    # quint8 avg_pool2d, 1×7 / 7×1 kernels, InceptionE's nested cats
    ("quantized_inception_v3", ["zip"], (1, 96, 96)),
    # FloatFunctional cat requantising both halves, quint8 split and shuffle
    ("quantized_shufflenet_v2_x0_5", ["zip", "state_dict"], (2, 64, 64)),
    ("quantized_shufflenet_v2_x1_0", ["zip"], (1, 64, 64)),
    ("quantized_shufflenet_v2_x1_5", ["zip"], (1, 64, 64)),
    ("quantized_shufflenet_v2_x2_0", ["zip"], (1, 64, 64)),
]
PREFIX = "quantized_"


def damp_residuals(model):
    """The last BatchNorm of each residual branch scaled by 0.1, as in a
    trained network (or zero_init_residual, halfway): fully random
    branches make a deep random network chaotic, so that one rounding tie
    decided differently in an early layer moves many logits by steps —
    PyTorch's onednn and qnnpack then disagree by as much as libtvw does."""
    with torch.no_grad():
        for m in model.modules():
            for bn in ("bn3",) if hasattr(m, "bn3") else ("bn2",) if hasattr(m, "downsample") else ():
                getattr(m, bn).weight.mul_(0.1)
            if hasattr(m, "use_res_connect") and m.use_res_connect:
                m.conv[-1].weight.mul_(0.1)
    return model


def quantized_model(name, seed, calibration):
    torch.backends.quantized.engine = "onednn"
    model = damp_residuals(tvwconf.randomise(getattr(tvq, name)(weights=None, quantize=False), seed))
    model.eval()
    model.fuse_model(is_qat=False)
    model.qconfig = torch.ao.quantization.QConfig(
        activation=torch.ao.quantization.MinMaxObserver.with_args(dtype=torch.quint8),
        weight=torch.ao.quantization.default_per_channel_weight_observer)
    torch.ao.quantization.prepare(model, inplace=True)
    with torch.no_grad():
        for batch in calibration:
            model(batch)
    torch.ao.quantization.convert(model, inplace=True)
    return model


def run_engine(name, sd, batch, engine):
    """The converted model with @sd, packed for @engine."""
    torch.backends.quantized.engine = engine
    model = getattr(tvq, name)(weights=None, quantize=False)
    model.eval()
    model.fuse_model(is_qat=False)
    model.qconfig = torch.ao.quantization.QConfig(
        activation=torch.ao.quantization.MinMaxObserver.with_args(dtype=torch.quint8),
        weight=torch.ao.quantization.default_per_channel_weight_observer)
    torch.ao.quantization.prepare(model, inplace=True)
    torch.ao.quantization.convert(model, inplace=True)
    model.load_state_dict(sd)
    with torch.no_grad():
        return model(batch).numpy()


def judge(got, ref, step):
    """(ok, diagnostics) by the criteria above."""
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != {ref.shape}"
    steps = np.abs(got - ref) / step
    within1 = float(np.mean(steps <= 1.0 + 1e-3))
    worst = float(steps.max())
    ok = worst <= 3.0 + 1e-3 and within1 >= 0.99
    diag = f"max {worst:.2f} steps, {100 * within1:.2f}% within one step"
    for r in range(ref.shape[0]):
        # Quantized logits tie exactly (a few hundred distinct values):
        # the same top-1 up to such a tie, in either output.
        top1 = (got[r, np.argmax(ref[r])] == got[r].max() or
                ref[r, np.argmax(got[r])] == ref[r].max())
        top5 = len(set(np.argsort(-got[r])[:5]) & set(np.argsort(-ref[r])[:5]))
        ok = ok and top1 and top5 >= 4
        diag += f"; row {r}: top-1 {'same' if top1 else 'differs'}, {top5} of top 5"
    return ok, diag


# quantized_mobilenet_v3_large: torchvision fuses the model for QAT,
# prepare_qat's it with the qnnpack QAT qconfig (per-tensor symmetric
# qint8 weights, quint8 activations, moving-average min/max observers),
# loads the QAT state_dict and converts; libtvw converts that state_dict
# itself.  Cases: seed, input (N, H, W), whether the saved observers are
# still enabled (then convert feeds each folded weight to its observer
# once more) or disabled as torchvision's QAT recipe leaves them.
QAT_MODELS = [
    ("quantized_mobilenet_v3_large", 1801, (2, 64, 64), True),
    ("quantized_mobilenet_v3_large", 1802, (1, 96, 96), False),
    ("quantized_mobilenet_v3_large", 1803, (2, 64, 64), False),
]

# Every builder this script checks (test_builders.py reads the names).
MODELS = INT8_MODELS + QAT_MODELS


def qat_prepared(engine):
    """_mobilenet_v3_model (quantize=True) up to load_state_dict."""
    torch.backends.quantized.engine = engine
    model = tvq.mobilenet_v3_large(weights=None, quantize=False)
    model.fuse_model(is_qat=True)
    model.qconfig = torch.ao.quantization.get_default_qat_qconfig("qnnpack")
    model.train()
    torch.ao.quantization.prepare_qat(model, inplace=True)
    return model


def qat_state_dict(seed, calibration, observers_on):
    """A QAT checkpoint as torchvision's: random float weights (the
    residual branches damped as in damp_residuals), BatchNorm statistics
    from train-mode batches, then train-mode batches with fake quantization
    on and BatchNorm frozen, which set every observer's range."""
    model = tvwconf.randomise(tvq.mobilenet_v3_large(weights=None, quantize=False), seed)
    with torch.no_grad():
        for m in model.modules():
            if getattr(m, "use_res_connect", False):
                m.block[-1][1].weight.mul_(0.1)
    model.fuse_model(is_qat=True)
    model.qconfig = torch.ao.quantization.get_default_qat_qconfig("qnnpack")
    model.train()
    torch.ao.quantization.prepare_qat(model, inplace=True)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a cumulative average
    with torch.no_grad():
        model.apply(torch.ao.quantization.disable_observer)
        model.apply(torch.ao.quantization.disable_fake_quant)
        for batch in calibration:
            model(batch)
        model.apply(torch.nn.intrinsic.qat.freeze_bn_stats)
        model.apply(torch.ao.quantization.enable_observer)
        model.apply(torch.ao.quantization.enable_fake_quant)
        for batch in calibration:
            model(batch)
    if not observers_on:
        model.apply(torch.ao.quantization.disable_observer)
    return model.state_dict()


def qat_reference(sd, batch, engine):
    """torchvision's builder from here: load_state_dict, convert, eval."""
    model = qat_prepared(engine)
    model.load_state_dict(sd)
    torch.ao.quantization.convert(model, inplace=True)
    model.eval()
    with torch.no_grad():
        return model(batch).numpy(), float(model.classifier[3].scale)


def check_qat(tap, builder, seed, shape, observers_on, work, rng):
    n, h, w = shape
    calibration = [torch.randn(4, 3, h, w) for _ in range(3)]
    sd = qat_state_dict(seed, calibration, observers_on)
    batch = torch.from_numpy(rng.standard_normal((n, 3, h, w)).astype(np.float32))
    ref, step = qat_reference(sd, batch, "onednn")
    other, _ = qat_reference(sd, batch, "qnnpack")
    label = f"{builder} (QAT checkpoint, observers {'on' if observers_on else 'off'}) " \
            f"batch {n} {h}x{w}"
    ok, diag = judge(other, ref, step)
    tap.ok(True, f"{label}: qnnpack vs onednn (measured, not judged)", diag)
    ckpt = os.path.join(work, "qat.pth")
    torch.save(sd, ckpt)
    try:
        got = tvwconf.run_forward(builder, ckpt, batch.numpy(), work)
        ok, diag = judge(got, ref, step)
        diag += f"; {len(np.unique(ref))} distinct reference logits"
    except Exception as e:  # a crash of the CLI is a failure
        ok, diag = False, str(e)
    tap.ok(ok, label, diag)
    os.unlink(ckpt)


# quantize=False: the float quantizable model (its ReLU6s made ReLUs), with
# the float tolerance of the other conformance tests.  Through GI, as the
# CLI takes no builder options.
FLOAT_MODELS = ["quantized_mobilenet_v2", "quantized_mobilenet_v3_large", "quantized_resnet18",
                "quantized_shufflenet_v2_x0_5", "quantized_googlenet", "quantized_inception_v3"]


def check_float(builder, seed, work, rng):
    import gi
    gi.require_version("Tvw", "1.0")
    from gi.repository import Gio, GLib, Tvw

    model = tvwconf.randomise(getattr(tvq, builder[len(PREFIX):])(weights=None, quantize=False), seed)
    ckpt = os.path.join(work, "float.pth")
    torch.save(model.state_dict(), ckpt)
    size = 80 if builder == "quantized_inception_v3" else 64  # its min_size is 75
    batch = rng.standard_normal((2, 3, size, size)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(batch)).numpy()

    tvw_model = Tvw.Model(architecture=builder,
                          options=GLib.Variant("a{sv}", {"quantize": GLib.Variant("b", False)}))
    tvw_model.init(None)
    tvw_model.load_state_dict_from_file(Gio.File.new_for_path(ckpt), True)
    out = tvw_model.forward(Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, list(batch.shape),
                                                      GLib.Bytes.new(batch.tobytes())))
    got = np.frombuffer(out.get_bytes().get_data(), np.float32).reshape(out.get_shape())
    os.unlink(ckpt)
    return tvwconf.compare(got, ref)


def main():
    only = os.environ.get("TVW_CONFORMANCE_ONLY")
    models = [m for m in INT8_MODELS if not only or m[0] in only.split(",")]
    floats = [m for m in FLOAT_MODELS if not only or m in only.split(",")]
    qat = [m for m in QAT_MODELS if not only or m[0] in only.split(",")]
    # the int8 models' lines, the two refusals, two lines per QAT case and
    # its refusal, the float models
    tap = tvwconf.Tap(sum(len(forms) + 1 for _, forms, _ in models) + 2 +
                      2 * len(qat) + (1 if qat else 0) + len(floats))
    work = tvwconf.workdir()
    rng = np.random.default_rng(16)
    torch.manual_seed(16)

    try:
        for index, (builder, forms, (n, h, w)) in enumerate(models):
            name = builder[len(PREFIX):]
            calibration = [torch.randn(2, 3, h, w) for _ in range(3)]
            model = quantized_model(name, 1600 + index, calibration)
            sd = model.state_dict()
            step = float(model.fc.scale if hasattr(model, "fc") else model.classifier[1].scale)
            batch = rng.standard_normal((n, 3, h, w)).astype(np.float32)
            with torch.no_grad():
                ref = model(torch.from_numpy(batch)).numpy()

            # How far PyTorch's own engines are apart, for the record.
            other = run_engine(name, sd, torch.from_numpy(batch), "qnnpack")
            ok, diag = judge(other, ref, step)
            tap.ok(True, f"quantized_{name}: qnnpack vs onednn (measured, not judged)", diag)

            if index == 0:
                torch.save(sd, os.path.join(work, "quantized.pth"))
            for form in forms:
                ckpt = os.path.join(work, f"quantized_{name}.{form}")
                tvwconf.write_form(sd, form, ckpt)
                label = f"quantized_{name} {form} batch {n} {h}x{w}"
                try:
                    got = tvwconf.run_forward(f"quantized_{name}", ckpt, batch, work)
                    ok, diag = judge(got, ref, step)
                except Exception as e:  # a crash of the CLI is a failure
                    ok, diag = False, str(e)
                tap.ok(ok, label, diag)
                os.unlink(ckpt)
            del model, sd

        inp = os.path.join(work, "in.npy")
        tvwconf.save_npy(inp, np.zeros((1, 3, 64, 64), np.float32))
        if models:
            # A float checkpoint given to a quantized builder: a clear error.
            name = models[0][0][len(PREFIX):]
            ckpt = os.path.join(work, "float.pth")
            torch.save(getattr(tvq, name)(weights=None, quantize=False).state_dict(), ckpt)
            proc = tvwconf.tvw("forward", "--model", f"quantized_{name}", "--checkpoint", ckpt,
                               "--input", inp, "--output", os.path.join(work, "o.npy"),
                               check=False)
            tap.ok(proc.returncode != 0 and "needs a quantized checkpoint" in proc.stderr,
                   f"quantized_{name} refuses a float checkpoint", proc.stderr.strip())
            # And the float builder refuses the quantized checkpoint.
            proc = tvwconf.tvw("forward", "--model", name, "--checkpoint",
                               os.path.join(work, "quantized.pth"), "--input", inp,
                               "--output", os.path.join(work, "o.npy"), check=False)
            tap.ok(proc.returncode != 0 and "is a quantized checkpoint" in proc.stderr,
                   f"{name} refuses a quantized checkpoint", proc.stderr.strip())
        else:
            tap.skip("a quantized builder refuses a float checkpoint", "no int8 model selected")
            tap.skip("a float builder refuses a quantized checkpoint", "no int8 model selected")
        for builder, seed, shape, observers_on in qat:
            check_qat(tap, builder, seed, shape, observers_on, work, rng)
        if qat:
            # The QAT checkpoint is not an int8 one: the float builder
            # refuses it by its first observer key.
            ckpt = os.path.join(work, "qat.pth")
            torch.save(qat_prepared("onednn").state_dict(), ckpt)
            proc = tvwconf.tvw("forward", "--model", "mobilenet_v3_large", "--checkpoint", ckpt,
                               "--input", inp, "--output",
                               os.path.join(work, "o.npy"), check=False)
            tap.ok(proc.returncode != 0 and "Unexpected key" in proc.stderr,
                   "mobilenet_v3_large refuses a QAT checkpoint", proc.stderr.strip())
        for index, builder in enumerate(floats):
            ok, diag = check_float(builder, 1700 + index, work, rng)
            tap.ok(ok, f"{builder} quantize=False (float, through GI)", diag)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tap.exit()


if __name__ == "__main__":
    main()
