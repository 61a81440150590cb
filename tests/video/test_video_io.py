#!/usr/bin/python3
# Video files and optical flow, end to end, with torchvision as the oracle.
# The test makes its own media with GStreamer (videotestsrc's moving ball,
# so that every frame differs, encoded as VP8/WebM and Theora/Ogg) and
# decodes each file once more to raw RGB with gst-launch: the reference
# frames.  It checks
#   - Tvw.video_read_frames (GI) against those raw frames, exactly;
#   - `tvw classify VIDEO` with a random r3d_18 checkpoint registered by a
#     weights card against torchvision's own pipeline on the raw frames:
#     VideoClips.compute_clips_for_video (frame_rate resampling, clips of
#     clip_len consecutive frames) and UniformClipSampler's
#     floor(linspace(...)) choose the clips, the VideoClassification preset
#     and the model run on each, the softmax is averaged (train.py's
#     evaluate); scores within 1e-5 (float32 logits within 1e-4·max|logit|
#     move a probability p by about p·1e-4·max|logit|, and the scores of a
#     random model are a few percent at most), the same top-5; the check
#     must be able to tell clips one frame apart (they differ by > 1e-4);
#   - errors naming the file: truncated, not a video, audio only;
#   - Tvw.flow_to_image against torchvision.utils.flow_to_image;
#   - `tvw flow` with a random raft_small checkpoint on two images and on a
#     video's consecutive frames against torchvision (flow within
#     1e-3·max(1, max|ref|) as in test_raft.py: twelve iterations compound
#     rounding).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "conformance"))

import gi
gi.require_version("Tvw", "1.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GLib, Gio, Tvw  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision.models.optical_flow as OF  # noqa: E402
import torchvision.models.video as V  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.datasets.video_utils import VideoClips  # noqa: E402
from torchvision.transforms._presets import OpticalFlow, VideoClassification  # noqa: E402
from torchvision.utils import flow_to_image  # noqa: E402

import tvwconf  # noqa: E402

torch.set_num_threads(2)
work = tvwconf.workdir()
cli = os.environ.get("TVW_CLI", "tvw")
ENTRY = "VideoTest_Weights.RANDOM_V1"
# The card states its own rule, as torchvision's entries do in `_docs`.
FRAME_RATE, CLIPS, CLIP_LEN = 15, 3, 8


def gst(*pipeline):
    subprocess.run(["gst-launch-1.0", "-q", *pipeline], check=True, timeout=120)


def make_video(name, n, w, h, fps, enc="vp8"):
    path = os.path.join(work, name)
    caps = f"video/x-raw,width={w},height={h},framerate={fps}/1"
    if enc == "vp8":
        gst("videotestsrc", f"num-buffers={n}", "pattern=ball", "!", caps, "!",
            "vp8enc", "deadline=1", "!", "webmmux", "!", "filesink", f"location={path}")
    else:
        gst("videotestsrc", f"num-buffers={n}", "pattern=ball", "!", caps, "!",
            "theoraenc", "!", "oggmux", "!", "filesink", f"location={path}")
    return path


def raw_frames(path, w, h):
    """Every frame, decoded by gst-launch: (N, 3, H, W) uint8 (widths are
    multiples of 4, so RGB rows have no padding)."""
    raw = path + ".rgb"
    gst("filesrc", f"location={path}", "!", "decodebin", "!", "videoconvert", "!",
        "video/x-raw,format=RGB", "!", "filesink", f"location={raw}")
    return np.fromfile(raw, np.uint8).reshape(-1, h, w, 3).transpose(0, 3, 1, 2)


def tensor_to_numpy(t, dtype):
    return np.frombuffer(t.get_bytes().get_data(), dtype).reshape(t.get_shape())


def reference_clips(n, fps):
    """torchvision's clips for a video of n frames: VideoClips resampling to
    FRAME_RATE, unfolded with step 1, UniformClipSampler's choice."""
    pts = torch.arange(n)
    clips, _ = VideoClips.compute_clips_for_video(pts, CLIP_LEN, 1, fps, FRAME_RATE)
    if len(clips) == 0:
        # torchvision skips such a video; libtvw repeats the last frame.
        resampled, _ = VideoClips.compute_clips_for_video(pts, 1, 1, fps, FRAME_RATE)
        r = resampled[:, 0].tolist()
        return [[r[min(t, len(r) - 1)] for t in range(CLIP_LEN)]] * CLIPS
    chosen = torch.linspace(0, len(clips) - 1, steps=CLIPS).floor().to(torch.int64)
    return [clips[i].tolist() for i in chosen]


def reference_scores(model, frames, fps):
    preset = VideoClassification(crop_size=(112, 112), resize_size=(128, 171))
    total = 0
    with torch.no_grad():
        for clip in reference_clips(len(frames), fps):
            x = preset(torch.from_numpy(frames[clip])).unsqueeze(0)
            total = total + torch.softmax(model(x)[0], 0)
    return (total / CLIPS).numpy()


def classify(env, *args):
    return subprocess.run([cli, "classify", "--threads", "2", *args],
                          capture_output=True, text=True, timeout=600, env=env)


def main():
    tap = tvwconf.Tap(16)

    # --- Reading frames -------------------------------------------------
    a = make_video("a.webm", 40, 96, 80, 25)
    frames_a = raw_frames(a, 96, 80)
    f = Gio.File.new_for_path(a)
    ok, w, h, fps, n = Tvw.video_get_info(f, None)
    tap.ok((w, h, fps, n) == (96, 80, 25.0, 40) and len(frames_a) == 40,
           "video_get_info: size, rate and length of a 40-frame VP8 video", (w, h, fps, n))
    distinct = len({frames_a[i].tobytes() for i in range(len(frames_a))})
    want = [0, 5, 39, 5, 17, 1]
    got = tensor_to_numpy(Tvw.video_read_frames(f, want, None), np.uint8)
    tap.ok(distinct == 40 and got.shape == (6, 3, 80, 96) and
           all(np.array_equal(got[i], frames_a[j]) for i, j in enumerate(want)),
           "video_read_frames: frames 0, 5, 39, 5, 17, 1 are the raw decode's, as (T, C, H, W)",
           f"{distinct} distinct frames, shape {got.shape}")
    b = make_video("b.ogg", 31, 64, 48, 30, enc="theora")
    frames_b = raw_frames(b, 64, 48)
    got = tensor_to_numpy(Tvw.video_read_frames(Gio.File.new_for_path(b), [30, 0, 12], None), np.uint8)
    tap.ok(len(frames_b) == 31 and all(np.array_equal(got[i], frames_b[j]) for i, j in enumerate([30, 0, 12])),
           "Theora/Ogg: the last, first and a middle frame")
    try:
        Tvw.video_read_frames(f, [40], None)
        tap.ok(False, "frame 40 of 40 is refused")
    except GLib.Error as e:
        tap.ok("a.webm has 40 frames" in e.message, "frame 40 of 40 is refused", e.message)

    # Frames wider than 2048 pixels are read scaled down, aspect kept.
    wide = make_video("wide.webm", 2, 2400, 160, 25)
    ok, w, h, fps, n = Tvw.video_get_info(Gio.File.new_for_path(wide), None)
    got = Tvw.video_read_frames(Gio.File.new_for_path(wide), [1], None)
    tap.ok((w, h) == (2048, 137) and got.get_shape() == [1, 3, 137, 2048],
           "a 2400×160 video is read at 2048×137", (w, h, got.get_shape()))

    # --- Errors name the file -------------------------------------------
    with open(a, "rb") as src:
        head = src.read(300)
    bad = {"truncated.webm": head, "notes.webm": b"not a video at all\n" * 10}
    for name, data in bad.items():
        with open(os.path.join(work, name), "wb") as out:
            out.write(data)
    audio = os.path.join(work, "audio.ogg")
    gst("audiotestsrc", "num-buffers=20", "!", "vorbisenc", "!", "oggmux", "!", "filesink", f"location={audio}")
    expect = {"truncated.webm": "truncated or corrupt", "notes.webm": "is not a video file",
              "audio.ogg": "has no video stream"}
    for name, words in expect.items():
        try:
            Tvw.video_read_frames(Gio.File.new_for_path(os.path.join(work, name)), [0], None)
            tap.ok(False, f"{name}: a clear error")
        except GLib.Error as e:
            tap.ok(name in e.message and words in e.message, f"{name}: a clear error", e.message)

    # --- tvw classify VIDEO ---------------------------------------------
    model = tvwconf.randomise(V.r3d_18(weights=None), 190)
    checkpoint = os.path.join(work, "r3d-random.pth")
    torch.save(model.state_dict(), checkpoint)
    categories = V.R3D_18_Weights.DEFAULT.meta["categories"]
    data_home = os.path.join(work, "data")
    os.makedirs(os.path.join(data_home, "tvw", "weights"))
    card = {
        "enum": "VideoTest_Weights",
        "builder": "r3d_18",
        "entries": [{
            "name": "RANDOM_V1",
            "file": checkpoint,
            "transforms": {"preset": "VideoClassification", "crop_size": [112, 112],
                           "resize_size": [128, 171]},
            "meta": {"categories": {"$list": "kinetics400"},
                     "_metrics": {"Kinetics-400": {"acc@1": 1.0, "acc@5": 1.0}},
                     "_docs": ("Random weights. The accuracies are estimated on video-level with "
                               f"parameters `frame_rate={FRAME_RATE}`, `clips_per_video={CLIPS}`, "
                               f"and `clip_len={CLIP_LEN}`.")},
        }],
    }
    with open(os.path.join(data_home, "tvw", "weights", "video-test.json"), "w") as out:
        json.dump(card, out)
    env = dict(os.environ, XDG_DATA_HOME=data_home)

    # 25 fps (a fractional resampling step), 30 fps (every other frame),
    # and a video shorter than one clip.
    short = make_video("short.webm", 6, 96, 80, 25)
    frames_short = raw_frames(short, 96, 80)
    p = classify(env, "--weights", ENTRY, "--json", "--top", "5", a, b, short, os.path.join(work, "notes.webm"))
    report = json.loads(p.stdout) if p.stdout.startswith("{") else {"images": []}
    results = report["images"]
    tap.ok(p.returncode == 1 and len(results) == 4 and "notes.webm" in p.stderr and
           "error" in results[3], "tvw classify: three videos and a bad file, named", p.stderr)
    for i, (frames, rate, label) in enumerate([(frames_a, 25, "40 frames at 25 fps"),
                                               (frames_b, 30, "31 frames at 30 fps"),
                                               (frames_short, 25, "6 frames (shorter than a clip)")]):
        ref = reference_scores(model, frames, rate)
        top = results[i].get("top", []) if i < len(results) else []
        order = np.argsort(-ref, kind="stable")[:5]
        diff = max((abs(t["score"] - ref[t["index"]]) for t in top), default=1)
        same = [t["index"] for t in top] == order.tolist() or all(
            abs(ref[t["index"]] - ref[o]) <= 1e-5 for t, o in zip(top, order))
        named = all(t["category"] == categories[t["index"]] for t in top)
        # The check can tell clips apart: the same video one frame later
        # (the last one repeated) scores differently, by more than 1e-4.
        later = reference_scores(model, np.concatenate([frames[1:], frames[-1:]]), rate)
        shift = float(np.abs(later - ref).max())
        tap.ok(len(top) == 5 and same and diff <= 1e-5 and named and shift > 1e-4,
               f"classify {label}: torchvision's clips, preset, model and mean softmax",
               f"max|Δscore| {diff:.3g} (clips one frame later: {shift:.3g}); "
               f"ours {[t['index'] for t in top]}, torchvision {order.tolist()}")

    # --- flow_to_image --------------------------------------------------
    g = torch.Generator().manual_seed(19)
    flows = [torch.randn(2, 37, 53, generator=g) * 5, torch.randn(1, 2, 64, 48, generator=g) * 100,
             torch.zeros(2, 8, 8), torch.rand(2, 30, 30, generator=g) - 0.5]
    worst, off = 0, 0
    for fl in flows:
        want = flow_to_image(fl).reshape(3, fl.shape[-2], fl.shape[-1]).permute(1, 2, 0).numpy()
        t = Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, list(fl.shape), GLib.Bytes.new(fl.numpy().tobytes()))
        pix = Tvw.flow_to_image(t)
        stride = pix.get_rowstride()
        data = np.frombuffer(pix.read_pixel_bytes().get_data(), np.uint8)
        img = np.stack([data[y * stride:y * stride + pix.get_width() * 3] for y in range(pix.get_height())])
        img = img.reshape(pix.get_height(), pix.get_width(), 3)
        d = np.abs(img.astype(int) - want.astype(int))
        worst = max(worst, int(d.max()))
        off += int((d > 0).sum())
    # ±1 where float32 atan2 (glibc's against PyTorch's vectorised one)
    # lands a hair on the other side of a floor().
    tap.ok(worst <= 1 and off <= 0.002 * sum(f.numel() * 3 // 2 for f in flows),
           "flow_to_image: torchvision's colours (at most 1 apart, rarely)",
           f"{off} channel values differ, by at most {worst}")

    # --- tvw flow -------------------------------------------------------
    raft = tvwconf.randomise(OF.raft_small(weights=None), 1900)
    with torch.no_grad():
        raft.update_block.flow_head.conv2.weight.mul_(0.05)
        raft.update_block.flow_head.conv2.bias.mul_(0.05)
    rckpt = os.path.join(work, "raft_small.pth")
    torch.save(raft.state_dict(), rckpt)
    rng = np.random.default_rng(19)
    base = rng.integers(0, 256, (136, 160, 3), dtype=np.uint8)
    img1 = np.clip(base.astype(int) + 0, 0, 255).astype(np.uint8)
    img2 = np.clip(np.roll(base, (2, -3), axis=(0, 1)).astype(int) + rng.integers(-8, 9, base.shape), 0, 255).astype(np.uint8)
    p1, p2 = os.path.join(work, "f1.png"), os.path.join(work, "f2.png")
    Image.fromarray(img1).save(p1)
    Image.fromarray(img2).save(p2)

    def raft_reference(x1, x2):
        t1, t2 = OpticalFlow()(torch.from_numpy(x1), torch.from_numpy(x2))
        with torch.no_grad():
            return raft(t1[None] if t1.dim() == 3 else t1, t2[None] if t2.dim() == 3 else t2)[-1]

    ref = raft_reference(img1.transpose(2, 0, 1), img2.transpose(2, 0, 1))
    out_npy = os.path.join(work, "flow.npy")
    p = subprocess.run([cli, "flow", "--threads", "2", "--checkpoint", rckpt, "--arch", "raft_small",
                        "--output", out_npy, p1, p2], capture_output=True, text=True, timeout=600)
    if p.returncode == 0:
        ours = np.load(out_npy)
        ok, diag = tvwconf.compare(ours, ref.numpy(), rtol=1e-3)
    else:
        ours, ok, diag = None, False, p.stderr
    tap.ok(ok, "tvw flow IMAGE1 IMAGE2 --output .npy: torchvision's final flow", diag)

    out_png = os.path.join(work, "flow.png")
    p = subprocess.run([cli, "flow", "--threads", "2", "--checkpoint", rckpt, "--arch", "raft_small",
                        "--output", out_png, p1, p2], capture_output=True, text=True, timeout=600)
    if p.returncode == 0 and ours is not None:
        png = np.asarray(Image.open(out_png).convert("RGB")).astype(int)
        want = flow_to_image(torch.from_numpy(ours[0])).permute(1, 2, 0).numpy().astype(int)
        tap.ok(png.shape == want.shape and np.abs(png - want).max() <= 1,
               "tvw flow --output .png: flow_to_image of that flow", p.stdout.strip())
    else:
        tap.ok(False, "tvw flow --output .png: flow_to_image of that flow", p.stderr)

    # A video: frames 3 and 4 of a VP8 clip (raw decode as the reference).
    c = make_video("c.webm", 8, 160, 136, 25)
    frames_c = raw_frames(c, 160, 136)
    ref = raft_reference(frames_c[3], frames_c[4])
    p = subprocess.run([cli, "flow", "--threads", "2", "--checkpoint", rckpt, "--arch", "raft_small",
                        "--frame", "3", "--output", out_npy, c], capture_output=True, text=True, timeout=600)
    if p.returncode == 0:
        ok, diag = tvwconf.compare(np.load(out_npy), ref.numpy(), rtol=1e-3)
    else:
        ok, diag = False, p.stderr
    tap.ok(ok, "tvw flow VIDEO --frame 3: the flow from frame 3 to 4", diag)

    tap.exit()


if __name__ == "__main__":
    main()
