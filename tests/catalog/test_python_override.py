#!/usr/bin/python3
# test_python_override.py — the blog's snippets through Tvw's PyGObject override.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs with /usr/bin/python3 (torch, torchvision, Pillow, gi), the Tvw typelib
# on GI_TYPELIB_PATH and bindings/python on PYTHONPATH.  Each snippet of
# ../shared/seed/multi-weight-api-blog.txt runs with only the import and the
# image-loading line changed; weights that would need a download are replaced
# by a resnet50 checkpoint with random parameters generated here and
# registered through a weights card.  torchvision, run on the same
# checkpoint and image, is the oracle.  Output is TAP.

import contextlib
import fnmatch
import io
import json
import os
import sys
import tempfile
import textwrap
import traceback
import warnings

import gi

gi.require_version("Tvw", "1.0")
from gi.repository import GLib, Tvw  # noqa: E402

import torch  # noqa: E402
import torchvision.models as M  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision.models._api import WeightsEnum  # noqa: E402

results = []
SUBMODULES = ("quantization", "detection", "segmentation", "video", "optical_flow")


def check(name, fn):
    try:
        fn()
        results.append((True, name, None))
    except Exception as e:  # noqa: BLE001 — every failure is a TAP line
        results.append((False, name, "".join(traceback.format_exception_only(type(e), e)).strip()))


def plain(v):
    """torchvision's meta with enum members as their full names (as libtvw keeps them)."""
    if isinstance(v, WeightsEnum):
        return f"{type(v).__name__}.{v.name}"
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, tuple):
        return tuple(plain(x) for x in v)
    return v


def same_meta(a, b):
    # NaN != NaN: compare the JSON texts, which keep key order and types.
    return json.dumps(a, sort_keys=False, default=str) == json.dumps(b, sort_keys=False, default=str)


def make_fixtures(tmp):
    """A resnet50 checkpoint with every parameter and buffer randomised, its
    card, and a PNG image (lossless, so Pillow and gdk-pixbuf agree)."""
    torch.manual_seed(0)
    net = M.resnet50(weights=None).eval()
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.dtype.is_floating_point:
                if name.endswith("running_var"):
                    t.copy_(torch.rand_like(t) + 0.5)
                else:
                    t.copy_(torch.randn_like(t) * (0.05 if t.dim() > 1 else 0.2))
    torch.save(net.state_dict(), os.path.join(tmp, "local-resnet50.pth"))

    card = {
        "enum": "LocalResNet50_Weights",
        "builder": "resnet50",
        "entries": [{
            "name": "IMAGENET1K_V1",
            "file": "local-resnet50.pth",
            "default": True,
            "transforms": {"preset": "ImageClassification", "crop_size": 224},
            "meta": {"categories": {"$list": "imagenet"}, "min_size": [1, 1],
                     "_docs": "Random parameters for the tests."},
        }],
    }
    with open(os.path.join(tmp, "local.json"), "w") as f:
        json.dump(card, f)

    w, h = 517, 606
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 7 + y) % 256, (x * y) % 256, (255 - y) % 256) for y in range(h) for x in range(w)])
    img.save(os.path.join(tmp, "grace_hopper_517x606.png"))
    return net


def main():
    tmp = tempfile.mkdtemp(prefix="tvw-override-")
    net = make_fixtures(tmp)
    image_path = os.path.join(tmp, "grace_hopper_517x606.png")

    def test_register():
        Tvw.register_weights_from_file(os.path.join(tmp, "local.json"))
        assert Tvw.LocalResNet50_Weights.DEFAULT is Tvw.LocalResNet50_Weights.IMAGENET1K_V1

    check("a weights card becomes Tvw.LocalResNet50_Weights", test_register)

    # The blog's "Overview of the prototype API" snippet.
    snippet = textwrap.dedent('''
        img = IMAGE_PATH

        # Step 1: Initialize model
        weights = PM.LocalResNet50_Weights.IMAGENET1K_V1
        model = PM.resnet50(weights=weights)

        # Step 2: Initialize the inference transforms
        preprocess = weights.transforms()

        # Step 3: Apply inference preprocessing transforms
        batch = preprocess(img).unsqueeze(0)
        prediction = model(batch).squeeze(0).softmax(0)

        # Step 4: Use the model and print the predicted category
        class_id = prediction.argmax().item()
        score = prediction[class_id].item()
        category_name = weights.meta["categories"][class_id]
        print(f"{category_name}: {100 * score}*%*")
    ''')

    def test_overview_snippet():
        scope = {"PM": Tvw, "IMAGE_PATH": image_path}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(snippet, "blog-overview", "exec"), scope)
        assert printed.getvalue() == f"{scope['category_name']}: {100 * scope['score']}*%*\n"

        preprocess = M.ResNet50_Weights.IMAGENET1K_V1.transforms()  # the same preset
        with torch.no_grad():
            ref = net(preprocess(Image.open(image_path).convert("RGB")).unsqueeze(0)).squeeze(0).softmax(0)
        ref_id = int(ref.argmax())
        assert scope["class_id"] == ref_id, f"class {scope['class_id']} != torchvision's {ref_id}"
        assert abs(scope["score"] - float(ref[ref_id])) <= 1e-4, (scope["score"], float(ref[ref_id]))
        assert scope["category_name"] == M.ResNet50_Weights.IMAGENET1K_V1.meta["categories"][ref_id]
        top5 = torch.topk(ref, 5).indices.tolist()
        ours = [scope["prediction"][i].item() for i in top5]
        assert all(abs(a - float(ref[i])) <= 1e-4 for a, i in zip(ours, top5)), ours

    check("blog: the overview snippet agrees with torchvision", test_overview_snippet)

    def test_multi_weight():
        from gi.repository.Tvw import ResNet50_Weights, resnet50  # noqa: F401 — the blog's import
        # Random initialisation and the ResNet50_Weights entries (no download).
        model = resnet50(weights=None)
        assert model.get_weights() is None
        assert ResNet50_Weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"] == 76.13
        assert ResNet50_Weights.IMAGENET1K_V2.meta["_metrics"]["ImageNet-1K"]["acc@1"] == 80.858
        assert ResNet50_Weights.DEFAULT is ResNet50_Weights.IMAGENET1K_V2
        assert [w.name for w in ResNet50_Weights] == [w.name for w in M.ResNet50_Weights]

    check("blog: multi-weight support, DEFAULT and iteration", test_multi_weight)

    def test_meta_snippet():
        from gi.repository.Tvw import ResNet50_Weights
        printed = []
        for k, v in ResNet50_Weights.IMAGENET1K_V2.meta.items():
            printed.append((k, v))
        want = list(plain(M.ResNet50_Weights.IMAGENET1K_V2.meta).items())
        assert same_meta(printed, want), printed[:2]
        size = ResNet50_Weights.IMAGENET1K_V2.meta["min_size"]
        assert size == (1, 1)
        for b in M.list_models():
            for w in M.get_model_weights(b):
                ours = getattr(getattr(Tvw, type(w).__name__), w.name).meta
                assert same_meta(ours, plain(w.meta)), f"{type(w).__name__}.{w.name}"

    check("blog: meta as plain Python values, for every entry", test_meta_snippet)

    def test_transforms_snippet():
        from gi.repository.Tvw import ResNet50_Weights
        preprocess = ResNet50_Weights.IMAGENET1K_V2.transforms()
        assert repr(preprocess) == repr(M.ResNet50_Weights.IMAGENET1K_V2.transforms())
        preprocess = ResNet50_Weights.IMAGENET1K_V2.transforms(crop_size=400, resize_size=400)
        assert repr(preprocess) == repr(M.ResNet50_Weights.IMAGENET1K_V2.transforms(crop_size=400, resize_size=400))
        img_preprocessed = preprocess(image_path)
        assert img_preprocessed.shape == (3, 400, 400), img_preprocessed.shape
        try:
            ResNet50_Weights.IMAGENET1K_V2.transforms(crop_sise=400)
        except GLib.Error as e:
            assert "crop_sise" in e.message
        else:
            raise AssertionError("an unknown preset argument was accepted")

    check("blog: transforms() and transforms(crop_size=400, resize_size=400)", test_transforms_snippet)

    def test_get_weight_snippet():
        from gi.repository.Tvw import ResNet50_Weights, get_weight
        assert get_weight("ResNet50_Weights.IMAGENET1K_V1") == ResNet50_Weights.IMAGENET1K_V1
        assert get_weight("ResNet50_Weights.IMAGENET1K_V2") == ResNet50_Weights.IMAGENET1K_V2
        assert get_weight("ResNet50_Weights.DEFAULT") == ResNet50_Weights.IMAGENET1K_V2
        try:
            get_weight("ResNet50_Weights.IMAGENET1K_V3")
        except GLib.Error as e:
            assert "did you mean" in e.message
        else:
            raise AssertionError("an unknown entry was found")

    check("blog: get_weight by name, DEFAULT included", test_get_weight_snippet)

    def test_pretrained_warnings():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                Tvw.resnet50(pretrained=True)
            except GLib.Error as e:
                # Offline (the tests never download): the mapped entry was asked for.
                assert "resnet50-0676ba61.pth" in e.message, e.message
        # torchvision 0.14.1's texts (the blog's, with "since 0.13 and may be
        # removed in the future"), as its handle_legacy_interface words them.
        texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert texts == [
            "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, "
            "please use 'weights' instead.",
            "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be "
            "removed in the future. "
            "The current behavior is equivalent to passing `weights=ResNet50_Weights.IMAGENET1K_V1`. "
            "You can also use `weights=ResNet50_Weights.DEFAULT` to get the most up-to-date weights.",
        ], texts

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = Tvw.resnet50(None)
        texts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
        assert texts == ["Using 'weights' as positional parameter(s) is deprecated since 0.13 and may be removed "
                         "in the future. Please use keyword parameter(s) instead."], texts
        assert model.get_weights() is None

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = Tvw.resnet50(pretrained=False)
        assert model.get_weights() is None
        assert len(caught) == 2 and "`weights=None`" in str(caught[1].message)

    check("blog: pretrained= and positional weights warn with torchvision's texts", test_pretrained_warnings)

    def test_builders_and_enums():
        for b in M.list_models():
            # Where torchvision has it: torchvision.models.resnet50 is
            # Tvw.resnet50, torchvision.models.quantization.resnet50
            # (quantized_resnet50) is Tvw.quantization.resnet50.
            tv_fn = M.get_model_builder(b)
            tv_module = tv_fn.__module__.split(".")[2]
            namespace = getattr(Tvw, tv_module) if tv_module in SUBMODULES else Tvw
            fn = getattr(namespace, tv_fn.__name__)
            assert fn is Tvw.get_model_builder(b)
            assert callable(fn) and fn.__name__ == tv_fn.__name__
            e = M.get_model_weights(b)
            ours = getattr(Tvw, e.__name__)
            assert Tvw.get_model_weights(b) is ours
            assert Tvw.get_model_weights(fn) is ours
            # torchvision's entries first, in order; libtvw's own embedded
            # entries (Fashion-MNIST) may follow.
            names = [w.name for w in ours]
            assert names[:len(list(e))] == [w.name for w in e], names
            assert all(n == "FASHIONMNIST_V1" for n in names[len(list(e)):]), names
            assert ours.DEFAULT.name == e.DEFAULT.name
            assert str(ours.DEFAULT) == f"{e.__name__}.{e.DEFAULT.name}"

    check("every builder is Tvw.<builder>, every enum Tvw.<Enum>", test_builders_and_enums)

    def test_list_models():
        everything = M.list_models()
        for include, exclude in ((None, None), ("resnet*", "*50"), (["vit*", "swin*"], ["*_b*"])):
            inc = [include] if isinstance(include, str) else include
            exc = [exclude] if isinstance(exclude, str) else exclude
            want = set(everything) if not inc else {m for p in inc for m in fnmatch.filter(everything, p)}
            for p in exc or []:
                want -= set(fnmatch.filter(everything, p))
            assert Tvw.list_catalog_models(include=include, exclude=exclude) == sorted(want)
            # Like torchvision's: every builder, built or not.
            assert Tvw.list_models(include=include, exclude=exclude) == sorted(want)
            supported = Tvw.list_supported_models(include=include, exclude=exclude)
            assert supported == sorted(m for m in want if Tvw.is_model_supported(m))

    check("list_models(include=…, exclude=…)", test_list_models)

    def test_unsupported():
        missing = [m for m in M.list_models() if not Tvw.is_model_supported(m)
                   and not m.startswith("quantized_")]
        if not missing:
            return
        try:
            Tvw.get_model_builder(missing[0])(weights=None)
        except NotImplementedError as e:
            assert isinstance(e, GLib.Error)
            assert missing[0] in e.message
        else:
            raise AssertionError(f"{missing[0]} was built although it is not implemented")

    check("a builder of an unimplemented architecture raises", test_unsupported)

    print(f"1..{len(results)}")
    for i, (ok, name, message) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if message:
            for line in message.splitlines():
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
