# Shared helpers of the detection conformance tests: random
# torchvision detection models whose heads are scaled so that they detect
# things, `tvw forward` on them (an .npz with torchvision's keys for image
# 0: boxes, labels, scores, masks, keypoints, keypoints_scores), and the
# comparison of two sets of detections.
#
# Why detections are matched rather than compared element by element: the
# order of detections is the order of their scores, and random heads give
# many near-tied scores (within float32 rounding of each other) that may
# swap; NMS and the score threshold are discontinuous, so a 1e-7 change in
# a score or an IoU near the threshold keeps or drops a box (and everything
# NMS suppressed because of it).  So each of PyTorch's detections, in its
# order, is matched greedily to the best unmatched one of ours with the same
# label, box IoU ≥ 0.95 and score within 2e-3 (mask IoU ≥ 0.9 at 0.5,
# keypoints within 1.5 px when present); a run passes when ≥ 90 % of
# PyTorch's detections are matched and the counts agree within 10 %.
# Boxes of zero area (clipped to an image edge) have no IoU: they match
# when every coordinate agrees within 1e-3·max(1, |coordinate|).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import time

import numpy as np
import torch
import torchvision.models.detection as D

import tvwconf

IOU_MIN = 0.95
SCORE_TOL = 2e-3
MASK_IOU_MIN = 0.9
KEYPOINT_TOL = 1.5
MATCHED_MIN = 0.9
COUNT_TOL = 0.1


def construct(name, kwargs):
    """torchvision's builder @name without any weights, with @kwargs."""
    return getattr(D, name)(weights=None, weights_backbone=None, **kwargs)


def randomise(model, seed, scale=None):
    """tvwconf.randomise, then every parameter whose name contains a key of
    @scale multiplied by its value (e.g. {"bbox_reg": 0.1} keeps decoded
    boxes near their anchors, {"cls_logits": 3.0} spreads the scores)."""
    tvwconf.randomise(model, seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            for key, factor in (scale or {}).items():
                if key in name:
                    p.mul_(factor)
    model.eval()
    return model


def write_form(sd, form, path):
    """tvwconf.write_form, plus "frozen_bn": the state_dict of a model
    whose backbone has FrozenBatchNorm2d (trained weights), which has no
    num_batches_tracked."""
    if form == "frozen_bn":
        torch.save({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}, path)
        return sd
    return tvwconf.write_form(sd, form, path)


def option_args(kwargs):
    """Builder keyword arguments as `tvw forward --option k=v`."""
    args = []
    for k, v in kwargs.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        args += ["--option", f"{k}={v}"]
    return args


def run_forward(name, ckpt, images, work, kwargs):
    """`tvw forward` on the float32 N×3×H×W batch @images; the .npz's arrays."""
    proc = forward(name, ckpt, images, work, kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"tvw forward failed ({proc.returncode}): {proc.stderr}")
    with np.load(os.path.join(work, "detections.npz")) as npz:
        return {k: npz[k] for k in npz.files}


def forward(name, ckpt, images, work, kwargs):
    """Runs `tvw forward` (num_classes as --num-classes, the other
    @kwargs as options) writing detections.npz in @work; the process."""
    in_path = os.path.join(work, "images.npy")
    out_path = os.path.join(work, "detections.npz")
    tvwconf.save_npy(in_path, images)
    kwargs = dict(kwargs)
    extra = []
    if "num_classes" in kwargs:
        extra += ["--num-classes", str(kwargs.pop("num_classes"))]
    return tvwconf.tvw("forward", "--model", name, "--checkpoint", ckpt, "--input", in_path,
                       "--output", out_path, *extra, *option_args(kwargs), check=False)


def reference(model, images):
    """PyTorch's detections of image 0 of @images, as NumPy arrays."""
    with torch.no_grad():
        out = model(list(torch.from_numpy(images)))[0]
    return {k: v.numpy() for k, v in out.items()}


def box_iou(a, b):
    """IoU of the boxes @a (n×4) with the boxes @b (m×4): n×m."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    # Zero-area boxes: the same box when every coordinate agrees.
    close = np.all(np.abs(a[:, None, :] - b[None, :, :]) <=
                   1e-3 * np.maximum(1.0, np.abs(a[:, None, :])), axis=-1)
    return np.where((union <= 0) & close, 1.0, iou)


def compare_detections(ours, ref, iou_min=IOU_MIN, score_tol=SCORE_TOL,
                       mask_iou_min=MASK_IOU_MIN, keypoint_tol=KEYPOINT_TOL,
                       matched_min=MATCHED_MIN, count_tol=COUNT_TOL):
    """Matches PyTorch's detections @ref to @ours (dicts of NumPy arrays
    with torchvision's keys) as the module comment says; returns (ok,
    diagnostic)."""
    for key in ("boxes", "labels", "scores"):
        if key not in ours:
            return False, f"no '{key}' in our output (keys {sorted(ours)})"
    rb, rl, rs = ref["boxes"].reshape(-1, 4), ref["labels"].reshape(-1), ref["scores"].reshape(-1)
    ob, ol, os_ = ours["boxes"].reshape(-1, 4), ours["labels"].reshape(-1), ours["scores"].reshape(-1)
    n_ref, n_ours = len(rs), len(os_)
    if not (len(ob) == len(ol) == n_ours):
        return False, f"our boxes {ob.shape}, labels {ol.shape} and scores {os_.shape} disagree"
    if ours["labels"].size and not np.all(np.asarray(ol) == np.round(ol)):
        return False, "labels are not integers"
    ol = np.round(ol).astype(np.int64)
    rl = rl.astype(np.int64)
    if not np.all(np.diff(os_) <= 0):
        return False, "our scores are not in decreasing order"

    iou = box_iou(rb, ob) if n_ref and n_ours else np.zeros((n_ref, n_ours))
    masks_iou = None
    if "masks" in ref:
        if "masks" not in ours:
            return False, "no 'masks' in our output"
        rm = ref["masks"].reshape(n_ref, -1) > 0.5
        om = ours["masks"].reshape(n_ours, -1) > 0.5
        inter = rm.astype(np.float64) @ om.T.astype(np.float64)
        union = rm.sum(1)[:, None] + om.sum(1)[None, :] - inter
        masks_iou = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    if "keypoints" in ref and "keypoints" not in ours:
        return False, "no 'keypoints' in our output"

    used = np.zeros(n_ours, dtype=bool)
    matched, worst_score, worst_iou = 0, 0.0, 1.0
    for i in range(n_ref):
        ok = (~used) & (ol == rl[i]) & (iou[i] >= iou_min) & (np.abs(os_ - rs[i]) <= score_tol)
        if masks_iou is not None:
            ok &= masks_iou[i] >= mask_iou_min
        if "keypoints" in ref:
            rk = ref["keypoints"][i][..., :2]
            ok &= np.array([np.abs(ours["keypoints"][j][..., :2] - rk).max() <= keypoint_tol
                            for j in range(n_ours)], dtype=bool)
        if not ok.any():
            continue
        j = int(np.argmax(np.where(ok, iou[i], -1.0)))
        used[j] = True
        matched += 1
        worst_score = max(worst_score, float(abs(os_[j] - rs[i])))
        worst_iou = min(worst_iou, float(iou[i, j]))

    frac = matched / n_ref if n_ref else 1.0
    count_ok = abs(n_ours - n_ref) <= count_tol * max(n_ref, n_ours)
    diag = (f"{matched}/{n_ref} of PyTorch's detections matched ({n_ours} ours); "
            f"worst matched IoU {worst_iou:.4f}, |Δscore| {worst_score:.2g}")
    return frac >= matched_min and count_ok, diag


def check_degenerate(tap, name, ckpt, model, kwargs, work, label, images):
    """A degenerate input (1×1, all black, far larger than max_size): our
    result must match PyTorch's, or `tvw forward` must fail with an error
    message (never a crash by a signal)."""
    try:
        ref = reference(model, images)
    except Exception as e:  # PyTorch itself refuses: we must not crash
        ref = None
        why = f"PyTorch: {e}"
    proc = forward(name, ckpt, images, work, kwargs)
    if proc.returncode < 0 or proc.returncode > 2:
        tap.ok(False, label, f"crashed ({proc.returncode}): {proc.stderr[-500:]}")
    elif proc.returncode != 0:
        tap.ok(ref is None and proc.stderr.strip() != "", label,
               f"error: {proc.stderr.strip()[:300]}")
    elif ref is None:
        tap.ok(True, label, f"ours ran; {why}")
    else:
        with np.load(os.path.join(work, "detections.npz")) as npz:
            ours = {k: npz[k] for k in npz.files}
        ok, diag = compare_detections(ours, ref)
        tap.ok(ok, label, diag)


DEGENERATE = 3


def check_sizes_in_turn(tap, name, kwargs, scale, seed, sizes, work, rng):
    """One libtvw model (through GObject introspection) run on images of
    each of @sizes in turn — its graph planned again for each shape —
    against PyTorch: every size-dependent quantity must follow the input,
    whatever the shapes the model ran on before."""
    import gi
    gi.require_version("Tvw", "1.0")
    from gi.repository import Gio, GLib, Tvw

    model = randomise(construct(name, kwargs), seed, scale)
    ckpt = os.path.join(work, f"{name}.sizes.pth")
    torch.save(model.state_dict(), ckpt)
    options = GLib.VariantDict.new(None)
    for k, v in kwargs.items():
        options.insert_value(k, GLib.Variant("x", v) if isinstance(v, int) else GLib.Variant("d", v))
    ours_model = Tvw.Model(architecture=name, options=options.end())
    ours_model.init()
    ours_model.load_state_dict_from_file(Gio.File.new_for_path(ckpt), True, None)
    names = ours_model.get_output_names()
    dtypes = {"float32": np.float32, "uint8": np.uint8, "int64": np.int64}
    for h, w in sizes:
        images = rng.random((1, 3, h, w)).astype(np.float32)
        label = f"{name} one model, sizes in turn: {h}x{w}"
        try:
            tensor = Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, [1, 3, h, w],
                                               GLib.Bytes.new(images.tobytes()))
            results = ours_model.forward_inputs([tensor], None)
            ours = {}
            for i, key in enumerate(names):
                t = results.get_item(i)
                dtype = dtypes[t.get_dtype().value_nick]
                ours[key] = np.frombuffer(t.get_bytes().get_data(), dtype=dtype).reshape(t.get_shape())
            ok, diag = compare_detections(ours, reference(model, images))
        except Exception as e:
            ok, diag = False, str(e)
        tap.ok(ok, label, diag)
    os.unlink(ckpt)


def run_models(models, seed, rng_seed, degenerate=(), sizes_in_turn=()):
    """Compares `tvw forward` with PyTorch on every (name, kwargs, scale,
    forms, sizes) of @models (TVW_CONFORMANCE_ONLY=a,b keeps a subset):
    the model built with the keyword arguments @kwargs on both sides
    (min_size/max_size lowered for speed, thresholds), randomised with
    @seed plus its index and its heads scaled by @scale (randomise ()),
    written in each checkpoint form, and run on images in [0, 1] of each
    size ((h, w), or (n, h, w) for a batch whose image 0 is compared).
    The names in @degenerate also get the three degenerate inputs;
    @sizes_in_turn: (name, kwargs, scale, sizes) run on one model
    (check_sizes_in_turn ()).  One TAP line per (form, size); exits with
    the TAP status."""
    only = os.environ.get("TVW_CONFORMANCE_ONLY")
    if only:
        models = [m for m in models if m[0] in only.split(",")]
    planned = sum(len(forms) * len(sizes) for _, _, _, forms, sizes in models)
    planned += DEGENERATE * len({m[0] for m in models if m[0] in degenerate})
    if only:
        sizes_in_turn = [m for m in sizes_in_turn if m[0] in only.split(",")]
    planned += sum(len(m[3]) for m in sizes_in_turn)
    tap = tvwconf.Tap(planned)
    work = tvwconf.workdir()
    rng = np.random.default_rng(rng_seed)
    done_degenerate = set()

    try:
        for name, kwargs, scale, sizes in sizes_in_turn:
            check_sizes_in_turn(tap, name, kwargs, scale, seed - 1, sizes, work, rng)
        for index, (name, kwargs, scale, forms, sizes) in enumerate(models):
            start = time.monotonic()
            model = randomise(construct(name, kwargs), seed + index, scale)
            sd = model.state_dict()
            batches = [rng.random((s[0] if len(s) == 3 else 1, 3, *s[-2:])).astype(np.float32)
                       for s in sizes]
            for form in forms:
                ckpt = os.path.join(work, f"{name}.{form}")
                used = write_form(sd, form, ckpt)
                if used is not sd:
                    model.load_state_dict(used)
                for images in batches:
                    label = (f"{name} {form} batch {images.shape[0]} "
                             f"{images.shape[2]}x{images.shape[3]}")
                    try:
                        ref = reference(model, images)
                        ours = run_forward(name, ckpt, images, work, kwargs)
                        ok, diag = compare_detections(ours, ref)
                    except Exception as e:  # a crash of the CLI is a failure
                        ok, diag = False, str(e)
                    tap.ok(ok, label, diag)
                if name in degenerate and name not in done_degenerate:
                    done_degenerate.add(name)
                    big = int(kwargs.get("max_size", 1333)) * 3
                    for what, images in (
                            ("1x1", rng.random((1, 3, 1, 1)).astype(np.float32)),
                            ("all-black", np.zeros((1, 3, 97, 131), np.float32)),
                            (f"{big // 2}x{big} (far over max_size)",
                             rng.random((1, 3, big // 2, big)).astype(np.float32))):
                        check_degenerate(tap, name, ckpt, model, kwargs, work,
                                         f"{name} degenerate {what}", images)
                if used is not sd:
                    model.load_state_dict(sd)
                os.unlink(ckpt)
            del model, sd
            print(f"# {name}: {time.monotonic() - start:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    tap.exit()
