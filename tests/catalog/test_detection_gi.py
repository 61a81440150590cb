#!/usr/bin/python3
# The detection API through GObject Introspection (PyGObject): a
# TvwDetection made from tensors (int64 labels from bytes), its out
# parameters, mask bytes, keypoints, filter and render; TvwModel's detect
# and detect_async refusing a classifier and, with a random FCOS, finding
# the same objects; int64 labels from forward_outputs.  The pixels and numbers
# themselves are checked by test-detection.c; here, what a binding sees.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import struct
import sys

import gi

gi.require_version("Tvw", "1.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib, Tvw  # noqa: E402

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


def floats(values, shape):
    return Tvw.Tensor.new_from_bytes(Tvw.DType.FLOAT32, shape,
                                     GLib.Bytes.new(struct.pack(f"<{len(values)}f", *values)))


W, H = 40, 30
boxes = floats([5, 6, 25, 20, 1, 2, 8, 9], [2, 4])
labels = Tvw.Tensor.new_from_bytes(Tvw.DType.INT64, [2], GLib.Bytes.new(struct.pack("<2q", 1, 3)))
scores = floats([0.9, 0.4], [2])
probs = [0.0] * (2 * H * W)
for y in range(8, 12):
    for x in range(10, 20):
        probs[y * W + x] = 0.75
masks = floats(probs, [2, 1, H, W])
kp = floats([float(i) for i in range(2 * 2 * 3)], [2, 2, 3])
kps = floats([0.5, 1.5, 2.5, 3.5], [2, 2])

det = Tvw.Detection.new_from_tensors(W, H, boxes, labels, scores, masks, kp, kps,
                                     ["__background__", "person", "bicycle", "car"],
                                     ["nose", "left_eye"])
ok((det.props.width, det.props.height, det.props.n_objects) == (W, H, 2), "properties")
ok(det.get_box(0) == (5.0, 6.0, 25.0, 20.0), "get_box: (x1, y1, x2, y2) out parameters", det.get_box(0))
ok([det.get_label(i) for i in range(2)] == [1, 3], "labels from int64 bytes")
ok([det.get_category(i) for i in range(2)] == ["person", "car"], "category names")
ok(abs(det.get_score(1) - 0.4) < 1e-6, "scores")
ok(det.get_color(0) == Tvw.Segmentation.palette_color(1), "colour: the label's VOC colour")
mask = det.get_mask(0).get_data()
ok(len(mask) == W * H and sum(mask) == 40 and det.get_mask_area(0) == 40, "mask bytes: one a pixel")
ok(det.get_mask_at(0, 10, 8) and not det.get_mask_at(0, 9, 8), "mask_at")
ok(det.get_mask_bounds(0) == (True, 10, 8, 10, 4), "mask bounds", det.get_mask_bounds(0))
ok(det.get_n_keypoints() == 2 and det.get_keypoint_name(1) == "left_eye", "keypoint names")
ok(det.get_keypoint(1, 1) == (9.0, 10.0, 3.5), "get_keypoint: x, y, score", det.get_keypoint(1, 1))
ok(det.count_above(0.5) == 1 and det.filter(0.5).props.n_objects == 1, "filter and count_above")

image = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, W, H)
image.fill(0x202020FF)
drawn = det.render(image, 0.5)
ok((drawn.get_width(), drawn.get_height()) == (W, H), "render: the image's size")
ok(drawn.get_pixels() != image.get_pixels(), "render: something drawn")
try:
    det.render(GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, W + 1, H), 0.5)
    ok(False, "render refuses another size")
except GLib.Error as e:
    ok(e.matches(Tvw.error_quark(), Tvw.Error.INVALID_ARGUMENT), "render refuses another size", e)

try:
    Tvw.Detection.new_from_tensors(W, H, floats([1, 2, 3], [1, 3]), labels, scores,
                                   None, None, None, None, None)
    ok(False, "bad boxes: a GLib.Error")
except GLib.Error as e:
    ok("boxes" in e.message, "bad boxes: a GLib.Error naming them", e.message)

model = Tvw.Model(architecture="mobilenet_v3_small", n_threads=1)
model.init(None)
try:
    model.detect(image, None)
    ok(False, "detect: a classifier is refused")
except GLib.Error as e:
    ok("not a detection model" in e.message, "detect: a classifier is refused", e.message)

loop = GLib.MainLoop()
later = []


def done(source, result):
    try:
        source.detect_finish(result)
        later.append(None)
    except GLib.Error as e:
        later.append(e)
    loop.quit()


model.detect_async(image, None, done)
loop.run()
ok(later and later[0] is not None and "not a detection model" in later[0].message,
   "detect_async: the same error in the callback")

# A detector with random parameters, when its builder is there: detect and
# detect_async find the same objects, at the image's size.
if Tvw.is_model_supported("fcos_resnet50_fpn"):
    options = GLib.Variant("a{sv}", {"min_size": GLib.Variant("x", 64), "max_size": GLib.Variant("x", 96),
                                     "score_thresh": GLib.Variant("d", 0.0)})
    fcos = Tvw.Model(architecture="fcos_resnet50_fpn", options=options, n_threads=2)
    fcos.init(None)
    found = fcos.detect(image, None)
    ok((found.props.width, found.props.height) == (W, H) and 0 < found.props.n_objects <= 100,
       "detect: a detector's objects at the image's size", found.props.n_objects)
    got = []

    def found_cb(source, result):
        got.append(source.detect_finish(result))
        loop.quit()

    fcos.detect_async(image, None, found_cb)
    loop.run()
    ok(got and [got[0].get_score(i) for i in range(got[0].props.n_objects)] ==
       [found.get_score(i) for i in range(found.props.n_objects)], "detect_async: the same objects")
    ok(fcos.forward_outputs(Tvw.Tensor.new(Tvw.DType.FLOAT32, [1, 3, H, W]), None).get_item(1).get_dtype()
       == Tvw.DType.INT64, "forward_outputs: labels are an int64 tensor")

print(f"1..{len(results)}")
for n, (cond, name, diag) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {n} {name}")
    if not cond:
        print(f"# {diag}")
sys.exit(0 if all(r[0] for r in results) else 1)
