#!/usr/bin/python3
# The segmentation API through GObject Introspection (PyGObject): several
# named outputs as a list model (a GPtrArray of objects is not safe in
# PyGObject 3.42), TvwSegmentation's arrays, bytes and renders, the
# asynchronous segment.  The numbers themselves are checked against PyTorch
# by the conformance and CLI tests; here, what a binding sees.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

import gi

gi.require_version("Tvw", "1.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, GLib, Tvw  # noqa: E402

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


options = GLib.Variant("a{sv}", {"aux_loss": GLib.Variant("b", True)})
model = Tvw.Model(architecture="deeplabv3_mobilenet_v3_large", options=options, n_threads=2)
model.init(None)
ok(model.get_output_names() == ["out", "aux"], "output names, torchvision's keys", model.get_output_names())

batch = Tvw.Tensor.new(Tvw.DType.FLOAT32, [2, 3, 33, 47])
outputs = model.forward_outputs(batch, None)
shapes = [t.get_shape() for t in outputs]
ok(shapes == [[2, 21, 33, 47]] * 2, "forward_outputs: one tensor per name, at the input's size", shapes)
ok(model.forward(batch, None).get_shape() == [2, 21, 33, 47], "forward: the first output")

image = GdkPixbuf.Pixbuf.new(GdkPixbuf.Colorspace.RGB, False, 8, 61, 40)
image.fill(0x3366A0FF)
seg = model.segment(image, None)
present = seg.get_classes_present()
ok((seg.get_width(), seg.get_height(), seg.get_n_classes()) == (61, 40, 21), "segment: the image's size")
ok(len(seg.get_class_map().get_data()) == 61 * 40, "the class map: one byte a pixel")
areas = [seg.get_area(k) for k in present]
ok(sum(areas) == 61 * 40 and areas == sorted(areas, reverse=True), "classes present, largest first", areas)
ok(Tvw.Segmentation.palette_color(15) == 0xC08080, "VOC palette: person")
ok(seg.render_overlay(image, 0.5).get_width() == 61 and seg.render_mask().get_height() == 40, "renders")

loop = GLib.MainLoop()
later = []


def done(source, result):
    later.append(source.segment_finish(result))
    loop.quit()


model.segment_async(image, None, done)
loop.run()
ok(later and later[0].get_class_map().get_data() == seg.get_class_map().get_data(),
   "segment_async: the same class map")

print(f"1..{len(results)}")
for n, (cond, name, diag) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {n} {name}")
    if not cond:
        print(f"# {diag}")
sys.exit(0 if all(r[0] for r in results) else 1)
