#!/usr/bin/python3
# test_extended_models.py — torchvision 0.14's test/test_extended_models.py,
# adapted to the Tvw override.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Our own adaptation of torchvision's tests of its model API (get_model,
# get_model_builder, get_model_weights, get_weight, list_models, naming,
# the meta schema, copying and pickling weights, the legacy `pretrained`
# interface), run against `gi.repository.Tvw` instead of
# `torchvision.models`.  What had to change, and why, is said at each test.
# pytest is not a dependency: the few pieces of it the tests use
# (parametrize, skip, warns, raises) are replaced by the small harness below,
# which prints TAP.
#
# A check that needs an architecture libtvw cannot run yet is reported as
# "ok … # SKIP unsupported: …" and counted apart from the other skips (and
# from the passes) in the summary at the end.  torchvision itself is imported
# only as the oracle of the legacy warnings' wording and of the
# transforms' output shapes.
#
# Run with /usr/bin/python3, the Tvw typelib on GI_TYPELIB_PATH,
# bindings/python on PYTHONPATH and TVW_OFFLINE=1 (nothing is downloaded).

import collections
import copy
import os
import pickle
import re
import sys
import traceback
import warnings

import gi

gi.require_version("Tvw", "1.0")
from gi.repository import GLib  # noqa: E402
from gi.repository import Tvw as models  # noqa: E402  — "from torchvision import models"
from gi.repository.Tvw import get_model_weights  # noqa: E402

# {{{ A little of pytest


class Skipped(Exception):
    def __init__(self, reason, unsupported=False):
        super().__init__(reason)
        self.unsupported = unsupported


def skip(reason):
    raise Skipped(reason)


def skip_unsupported(name, why=""):
    raise Skipped(f"unsupported: {name} is not implemented by libtvw yet{why}", unsupported=True)


class warns:
    """pytest.warns(UserWarning, match=…), with every other warning an error
    (the tests of the legacy interface run under filterwarnings("error"))."""

    def __init__(self, category, match=None):
        self.category, self.match = category, match

    def __enter__(self):
        self.catcher = warnings.catch_warnings(record=True)
        self.caught = self.catcher.__enter__()
        warnings.simplefilter("always")
        return self.caught

    def __exit__(self, *exc):
        self.catcher.__exit__(*exc)
        if exc[0] is not None:
            return False
        texts = [str(w.message) for w in self.caught if issubclass(w.category, self.category)]
        if not any(self.match is None or re.search(self.match, t) for t in texts):
            raise AssertionError(f"no {self.category.__name__} matching {self.match!r}: {texts}")
        return False


class raises:
    def __init__(self, category, match=None):
        self.category, self.match = category, match

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            raise AssertionError(f"{self.category.__name__} was not raised")
        if not issubclass(kind, self.category):
            return False
        if self.match is not None and not re.search(self.match, str(value)):
            raise AssertionError(f"{value!s} does not match {self.match!r}")
        return True


TESTS = []


def parametrize(names, values):
    names = [n.strip() for n in names.split(",")]

    def decorate(fn):
        cases = getattr(fn, "cases", [{}])
        fn.cases = [{**c, **dict(zip(names, v if len(names) > 1 else (v,)))} for v in values for c in cases]
        return fn
    return decorate


def test(fn):
    TESTS.append(fn)
    return fn


def run():
    results = []
    for fn in TESTS:
        for case in getattr(fn, "cases", [{}]):
            label = fn.__name__ + "[" + "-".join(describe(v) for v in case.values()) + "]"
            try:
                with warnings.catch_warnings():
                    if getattr(fn, "warnings_are_errors", False):
                        warnings.simplefilter("error")
                    fn(**case)
                results.append(("pass", label, None))
            except Skipped as s:
                results.append(("unsupported" if s.unsupported else "skip", label, str(s)))
            except Exception as e:  # noqa: BLE001 — every failure is a TAP line
                results.append(("fail", label, "".join(traceback.format_exception(type(e), e, e.__traceback__))))

    print(f"1..{len(results)}")
    for i, (state, label, message) in enumerate(results, 1):
        if state == "fail":
            print(f"not ok {i} - {label}")
            for line in message.splitlines():
                print(f"# {line}")
        elif state == "pass":
            print(f"ok {i} - {label}")
        else:
            print(f"ok {i} - {label} # SKIP {message}")
    counts = collections.Counter(state for state, _, _ in results)
    print(f"# {counts['pass']} passed, {counts['fail']} failed, "
          f"{counts['unsupported']} skipped because they need an architecture libtvw cannot run yet, "
          f"{counts['skip']} skipped for other reasons")
    reasons = collections.Counter(m.split(":")[0] if s == "unsupported" else m
                                  for s, _, m in results if s in ("skip", "unsupported"))
    for reason, n in sorted(reasons.items()):
        print(f"#   {n} × {reason}")
    return 1 if counts["fail"] else 0


def describe(v):
    if callable(v) and hasattr(v, "__name__"):
        return v.__name__
    if isinstance(v, models.Weights):
        return str(v)
    if isinstance(v, models.WeightsEnum):
        return v.get_name()
    return repr(v)


# }}}
# {{{ Adaptations

# torchvision.models._api.__all__, and what the override adds beside the
# builders (get_models_from_module() leaves them out, as it does torchvision's).
API = {"WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights", "get_weight",
       "list_models", "list_catalog_models", "list_supported_models", "get_weights_enum",
       "register_weights_from_file"}

# `TM.list_model_fns(module)` of torchvision's test_models.py.
def list_model_fns(module):
    return [models.get_model_builder(name) for name in models.list_models(module)]


def module_name_of(model_fn):
    """torchvision's `model_fn.__module__.split(".")[-2]`: "models" or the sub-module."""
    task = models.get_model_task(model_fn.__tvw_builder__)
    return "models" if task == "classification" else task


def check_supported(name):
    if not models.is_model_supported(name):
        skip_unsupported(name)


ALL_MODEL_FNS = (list_model_fns(models) + list_model_fns(models.detection) + list_model_fns(models.quantization)
                 + list_model_fns(models.segmentation) + list_model_fns(models.video)
                 + list_model_fns(models.optical_flow))

# The models torchvision's copy and pickle tests use.
NAMES = ["resnet50", "retinanet_resnet50_fpn_v2", "raft_large", "quantized_resnet50", "lraspp_mobilenet_v3_large",
         "mvit_v1_b"]

# }}}
# {{{ The tests

# torchvision checks isinstance(model, models.ResNet) etc.; libtvw has one
# model class, so the check is that get_model() built that architecture
# (quantized_resnet50 with torchvision's default quantize=False is the
# float resnet50, as torchvision's QuantizableResNet is before quantization).
@test
@parametrize(
    "name, architecture",
    [
        ("resnet50", "resnet50"),
        ("retinanet_resnet50_fpn_v2", "retinanet_resnet50_fpn_v2"),
        ("raft_large", "raft_large"),
        ("quantized_resnet50", "resnet50"),
        ("lraspp_mobilenet_v3_large", "lraspp_mobilenet_v3_large"),
        ("mvit_v1_b", "mvit_v1_b"),
    ],
)
def test_get_model(name, architecture):
    if not models.is_model_supported(architecture):
        # What libtvw does instead: a NotImplementedError that is a GLib.Error.
        with raises(NotImplementedError, match=architecture):
            models.get_model(name)
        skip_unsupported(architecture)
    try:
        model = models.get_model(name)
    except NotImplementedError as e:
        # torchvision downloads the default backbone weights here
        # (weights_backbone=…IMAGENET1K_V1); libtvw says it cannot, and
        # builds with a random backbone when asked to.
        assert "backbone" in str(e), e
        model = models.get_model(name, weights_backbone=None)
    assert isinstance(model, models.Model)
    assert model.get_architecture() == architecture


@test
@parametrize(
    "name, model_fn",
    [
        ("resnet50", models.resnet50),
        ("retinanet_resnet50_fpn_v2", models.detection.retinanet_resnet50_fpn_v2),
        ("raft_large", models.optical_flow.raft_large),
        ("quantized_resnet50", models.quantization.resnet50),
        ("lraspp_mobilenet_v3_large", models.segmentation.lraspp_mobilenet_v3_large),
        ("mvit_v1_b", models.video.mvit_v1_b),
    ],
)
def test_get_model_builder(name, model_fn):
    assert models.get_model_builder(name) == model_fn


@test
@parametrize(
    "name, weight",
    [
        ("resnet50", models.ResNet50_Weights),
        ("retinanet_resnet50_fpn_v2", models.detection.RetinaNet_ResNet50_FPN_V2_Weights),
        ("raft_large", models.optical_flow.Raft_Large_Weights),
        ("quantized_resnet50", models.quantization.ResNet50_QuantizedWeights),
        ("lraspp_mobilenet_v3_large", models.segmentation.LRASPP_MobileNet_V3_Large_Weights),
        ("mvit_v1_b", models.video.MViT_V1_B_Weights),
    ],
)
def test_get_model_weights(name, weight):
    assert models.get_model_weights(name) == weight


@test
@parametrize("copy_fn", [copy.copy, copy.deepcopy])
@parametrize("name", NAMES)
def test_weights_copyable(copy_fn, name):
    for weights in list(models.get_model_weights(name)):
        # As with torchvision's enum members, a copy is the entry itself.
        assert copy_fn(weights) is weights
    # The case: a config dict holding an entry.
    config = {"weights": models.get_model_weights(name).DEFAULT, "progress": False}
    assert copy_fn(config)["weights"] is config["weights"]


@test
@parametrize("name", NAMES)
def test_weights_deserializable(name):
    for weights in list(models.get_model_weights(name)):
        assert pickle.loads(pickle.dumps(weights)) is weights


def get_models_from_module(module):
    return [
        v.__name__
        for k, v in module.__dict__.items()
        if callable(v) and k[0].islower() and k[0] != "_" and k not in API
    ]


@test
@parametrize(
    "module", [models, models.detection, models.quantization, models.segmentation, models.video, models.optical_flow]
)
def test_list_models(module):
    a = set(get_models_from_module(module))
    b = set(x.replace("quantized_", "") for x in models.list_models(module))

    assert len(b) > 0
    assert a == b


@test
@parametrize(
    "include_filters",
    [
        None,
        [],
        (),
        {},
        "*resnet*",
        ["*alexnet*"],
        "*not-existing-model-for-test?",
        ["*resnet*", "*alexnet*"],
        ["*resnet*", "*alexnet*", "*not-existing-model-for-test?"],
        ("*resnet*", "*alexnet*"),
        set(["*resnet*", "*alexnet*"]),
        {"*resnet*": "test", "*alexnet*": "test"},
    ],
)
@parametrize(
    "exclude_filters",
    [
        None,
        [],
        (),
        {},
        "*resnet*",
        ["*alexnet*"],
        ["*not-existing-model-for-test?"],
        ["resnet34", "*not-existing-model-for-test?"],
        ["resnet34", "*resnet1*"],
        ("resnet34", "*resnet1*"),
        set(["resnet34", "*resnet1*"]),
        {"resnet34": "test", "**resnet1**": "test"},
    ],
)
def test_list_models_filters(include_filters, exclude_filters):
    module = models
    b = set(
        x.replace("quantized_", "")
        for x in models.list_models(module, include=include_filters, exclude=exclude_filters)
    )
    # Test include filters
    # string filter
    if isinstance(include_filters, str):
        include_filters_base = include_filters.strip("*?")
        a = set(x for x in get_models_from_module(module) if include_filters_base in x)
    # No filter
    elif not include_filters:
        a = set(x for x in get_models_from_module(module))
    # Iterable of filters
    else:
        a = set()
        for include_f in include_filters:
            include_filters_base = include_f.strip("*?")
            a = a | set(x for x in get_models_from_module(module) if include_filters_base in x)

    # Test exclude filters
    if isinstance(exclude_filters, str):
        exclude_filters_base = exclude_filters.strip("*?")
        a_exclude = set(x for x in get_models_from_module(module) if exclude_filters_base in x)
        a = a - a_exclude
    elif exclude_filters is not None:
        for exclude_f in exclude_filters:
            exclude_filters_base = exclude_f.strip("*?")
            a_exclude = set(x for x in get_models_from_module(module) if exclude_filters_base in x)
            a = a - a_exclude

    assert a == b


@test
@parametrize(
    "name, weight",
    [
        ("ResNet50_Weights.IMAGENET1K_V1", models.ResNet50_Weights.IMAGENET1K_V1),
        ("ResNet50_Weights.DEFAULT", models.ResNet50_Weights.IMAGENET1K_V2),
        (
            "ResNet50_QuantizedWeights.DEFAULT",
            models.quantization.ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V2,
        ),
        (
            "ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1",
            models.quantization.ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1,
        ),
    ],
)
def test_get_weight(name, weight):
    assert models.get_weight(name) == weight


@test
@parametrize("model_fn", ALL_MODEL_FNS)
def test_naming_conventions(model_fn):
    weights_enum = get_model_weights(model_fn)
    assert weights_enum is not None
    assert len(weights_enum) == 0 or hasattr(weights_enum, "DEFAULT")


# Parameter counts are checked on models built with weights=None and the
# entry's number of classes: the tests never download, and for the
# architectures libtvw builds the weights imply nothing else about the
# network.  Models of more than 100 M parameters are left out of CI (their
# random initialisation alone takes seconds and gigabytes).
MAX_PARAMS_BUILT = 100_000_000


@test
@parametrize("model_fn", ALL_MODEL_FNS)
def test_schema_meta_validation(model_fn):
    # list of all possible supported high-level fields for weights meta-data
    # (torchvision 0.14's: no "_ops" or "_file_size", which came in 0.15)
    permitted_fields = {
        "backend",
        "categories",
        "keypoint_names",
        "license",
        "_metrics",
        "min_size",
        "min_temporal_size",
        "num_params",
        "recipe",
        "unquantized",
        "_docs",
    }
    # mandatory fields for each computer vision task
    classification_fields = {"categories", ("_metrics", "ImageNet-1K", "acc@1"), ("_metrics", "ImageNet-1K", "acc@5")}
    defaults = {
        "all": {"_metrics", "min_size", "num_params", "recipe", "_docs"},
        "models": classification_fields,
        "detection": {"categories", ("_metrics", "COCO-val2017", "box_map")},
        "quantization": classification_fields | {"backend", "unquantized"},
        "segmentation": {
            "categories",
            ("_metrics", "COCO-val2017-VOC-labels", "miou"),
            ("_metrics", "COCO-val2017-VOC-labels", "pixel_acc"),
        },
        "video": {"categories", ("_metrics", "Kinetics-400", "acc@1"), ("_metrics", "Kinetics-400", "acc@5")},
        "optical_flow": set(),
    }
    model_name = model_fn.__name__
    module_name = module_name_of(model_fn)
    expected_fields = defaults["all"] | defaults[module_name]

    weights_enum = get_model_weights(model_fn)
    if len(weights_enum) == 0:
        skip(f"Model '{model_name}' doesn't have any pre-trained weights.")

    problematic_weights = {}
    incorrect_params = []
    bad_names = []
    unsupported = None
    for w in weights_enum:
        actual_fields = set(w.meta.keys())
        actual_fields |= set(
            ("_metrics", dataset, metric_key)
            for dataset in w.meta.get("_metrics", {}).keys()
            for metric_key in w.meta.get("_metrics", {}).get(dataset, {}).keys()
        )
        expected = expected_fields
        if w.name == "FASHIONMNIST_V1":
            # libtvw's own entry: the same schema, its own dataset.
            expected = {f if f[:2] != ("_metrics", "ImageNet-1K") else ("_metrics", "Fashion-MNIST", f[2])
                        for f in expected if isinstance(f, tuple)} | {f for f in expected if isinstance(f, str)}
        missing_fields = expected - actual_fields
        unsupported_fields = set(w.meta.keys()) - permitted_fields
        if missing_fields or unsupported_fields:
            problematic_weights[w] = {"missing": missing_fields, "unsupported": unsupported_fields}

        if w == weights_enum.DEFAULT or w.name == "FASHIONMNIST_V1":
            if module_name == "quantization":
                # parameters() count doesn't work well with quantization, so we check against the non-quantized
                unquantized_w = w.meta.get("unquantized")
                if unquantized_w is not None and w.meta.get("num_params") != unquantized_w.meta.get("num_params"):
                    incorrect_params.append(w)
            elif not models.is_model_supported(model_fn.__tvw_builder__):
                unsupported = model_fn.__tvw_builder__
            elif w.meta["num_params"] > MAX_PARAMS_BUILT:
                unsupported = None
                skip(f"not built in CI: {model_name} has {w.meta['num_params']} parameters")
            else:
                # torchvision counts the model built with weights=w; built
                # here without a download, with what weights=w implies:
                # segmentation's auxiliary classifier, GoogLeNet's
                # auxiliary heads dropped after loading, no backbone weights.
                kwargs = {"weights": None}
                if w.meta.get("categories"):
                    kwargs["num_classes"] = len(w.meta["categories"])
                if module_name in ("segmentation", "detection"):
                    kwargs["weights_backbone"] = None
                if module_name == "segmentation":
                    if not model_name.startswith("lraspp"):
                        kwargs["aux_loss"] = True
                if model_name == "googlenet":
                    kwargs["aux_logits"] = False
                model = model_fn(**kwargs)
                expected = w.meta.get("num_params")
                if module_name == "detection":
                    # With weights, torchvision's detection builders put
                    # FrozenBatchNorm2d (affine as buffers) in the backbone
                    # where weights=None builds BatchNorm2d: the count to
                    # match is torchvision's for the model built the same
                    # way.
                    import torchvision.models as tv_models
                    expected = sum(p.numel() for p in
                                   tv_models.get_model(model_name, **kwargs).parameters())
                if expected != sum(p.numel() for p in model.parameters()):
                    incorrect_params.append(w)

        if not w.name.isupper():
            bad_names.append(w)

    assert not problematic_weights, problematic_weights
    assert not incorrect_params, incorrect_params
    assert not bad_names, bad_names
    if unsupported is not None:
        skip_unsupported(unsupported, " (the meta was checked; the parameter count needs the model)")


# torchvision scripts each entry's transforms with TorchScript.  libtvw's
# presets are not TorchScript modules; what is checked instead is that each
# preset runs on the same inputs and gives the output shape torchvision's
# gives (the values are the business of tests/transforms/).
@test
@parametrize("model_fn", ALL_MODEL_FNS)
def test_transforms_jit(model_fn):
    import struct

    import torch
    import torchvision.models as tv_models

    model_name = model_fn.__name__
    weights_enum = get_model_weights(model_fn)
    if len(weights_enum) == 0:
        skip(f"Model '{model_name}' doesn't have any pre-trained weights.")

    defaults = {
        "models": {
            "input_shape": (1, 3, 224, 224),
        },
        "detection": {
            "input_shape": (3, 300, 300),
        },
        "quantization": {
            "input_shape": (1, 3, 224, 224),
        },
        "segmentation": {
            "input_shape": (1, 3, 520, 520),
        },
        "video": {
            "input_shape": (1, 3, 4, 112, 112),
        },
        "optical_flow": {
            "input_shape": (1, 3, 128, 128),
        },
    }
    module_name = module_name_of(model_fn)
    input_shape = defaults[module_name]["input_shape"]
    torch.manual_seed(0)
    x = torch.rand(input_shape)
    if module_name == "video":
        x = x.permute(0, 2, 1, 3, 4).contiguous()
    ours = models.Tensor.new_from_bytes(models.DType.FLOAT32, list(x.shape),
                                        GLib.Bytes(struct.pack(f"{x.numel()}f", *x.flatten().tolist())))
    args, tv_args = ((ours, ours), (x, x)) if module_name == "optical_flow" else ((ours,), (x,))

    tv_enum = tv_models.get_model_weights(model_fn.__tvw_builder__)
    problematic_weights = []
    for w in weights_enum:
        if w.name == "FASHIONMNIST_V1":
            continue
        out = w.transforms()(*args)
        want = getattr(tv_enum, w.name).transforms()(*tv_args)
        if module_name == "optical_flow":
            shapes, tv_shapes = [o.shape for o in out], [tuple(t.shape) for t in want]
        else:
            shapes, tv_shapes = out.shape, tuple(want.shape)
        if shapes != tv_shapes:
            problematic_weights.append((w, shapes, tv_shapes))

    assert not problematic_weights, problematic_weights


# torchvision tests its handle_legacy_interface decorator on a builder of
# its own with a Sentinel enum.  The override has no such decorator: the
# same checks run on real builders instead — resnet50 (weights, and
# ResNet50_Weights.IMAGENET1K_V1 as the Sentinel), fasterrcnn_resnet50_fpn
# (weights and weights_backbone), and quantized_resnet50 (whose legacy
# default depends on `quantize`, torchvision's callable default).  Building
# needs no download: `pretrained=True` stops at the offline cache (a
# GLib.Error after the warnings), and builders of architectures libtvw does
# not run raise NotImplementedError after the warnings.

class Sentinel:
    pass


def call_builder(builder, *args, **kwargs):
    try:
        builder(*args, **kwargs)
    except NotImplementedError:
        pass
    except GLib.Error as e:
        if not e.matches(models.error_quark(), models.Error.OFFLINE):
            raise


def legacy(fn):
    fn.warnings_are_errors = True
    return test(fn)


@legacy
@parametrize("kwargs", [dict(), dict(weights=None), dict(weights=models.ResNet50_Weights.IMAGENET1K_V1)])
def test_no_warn(kwargs):
    call_builder(models.resnet50, **kwargs)


@legacy
@parametrize("pretrained", (True, False))
def test_pretrained_pos(pretrained):
    with warns(UserWarning, match="positional"):
        call_builder(models.resnet50, pretrained)


@legacy
@parametrize("pretrained", (True, False))
def test_pretrained_kw(pretrained):
    with warns(UserWarning, match="deprecated"):
        call_builder(models.resnet50, pretrained)


@legacy
@parametrize("pretrained", (True, False))
@parametrize("positional", (True, False))
def test_equivalent_behavior_weights(pretrained, positional):
    args, kwargs = ((pretrained,), dict()) if positional else ((), dict(pretrained=pretrained))
    sentinel = models.ResNet50_Weights.IMAGENET1K_V1
    with warns(UserWarning, match=f"weights={sentinel if pretrained else None}"):
        call_builder(models.resnet50, *args, **kwargs)


@legacy
def test_multi_params():
    weights_params = ("weights", "weights_backbone")
    pretrained_params = [param.replace("weights", "pretrained") for param in weights_params]

    for pretrained_param in pretrained_params:
        with warns(UserWarning, match="deprecated"):
            call_builder(models.detection.fasterrcnn_resnet50_fpn, **{pretrained_param: True})


@legacy
def test_default_callable():
    with warns(UserWarning, match="ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1"):
        call_builder(models.quantization.resnet50, pretrained=True, quantize=True)
    with warns(UserWarning, match="ResNet50_Weights.IMAGENET1K_V1"):
        call_builder(models.quantization.resnet50, pretrained=True, quantize=False)

    # torchvision's second half: a builder whose legacy default is None
    # (regnet_y_128gf and vit_h_14 have no ImageNet-1K-only entry).
    with raises(ValueError, match="weights"):
        models.regnet_y_128gf(pretrained=True)


@legacy
@parametrize("model_fn", [fn for fn in ALL_MODEL_FNS if fn.__name__ not in {"vit_h_14", "regnet_y_128gf"}])
def test_pretrained_deprecation(model_fn):
    with warns(UserWarning, match="deprecated"):
        call_builder(model_fn, pretrained=True)


# }}}
# {{{ Beyond torchvision's file: the rest of the issue


@test
def test_exceptions_are_both():
    with raises(ValueError, match="Unknown model"):
        models.get_model_builder("resnet5")
    with raises(GLib.Error):
        models.get_model_weights("resnet5")
    with raises(ValueError, match="Invalid weight name"):
        models.get_weight("resnet50")
    with raises(ValueError):
        models.get_weight("ResNet50_Weights.IMAGENET1K_V3")
    with raises(KeyError):
        models.ResNet50_Weights["IMAGENET1K_V3"]
    with raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        models.resnet50(weights=models.ResNet18_Weights.DEFAULT)
    with raises(TypeError, match="unexpected keyword argument 'not_a_keyword'"):
        models.resnet50(not_a_keyword=1)
    try:
        models.get_weight("ResNet50_Weights.IMAGENET1K_V3")
    except ValueError as e:
        assert isinstance(e, GLib.Error) and e.matches(models.error_quark(), models.Error.NOT_FOUND)


@test
def test_verify_and_isinstance():
    w = models.ResNet50_Weights.IMAGENET1K_V2
    assert models.ResNet50_Weights.verify("IMAGENET1K_V2") is w
    assert models.ResNet50_Weights.verify("ResNet50_Weights.IMAGENET1K_V2") is w
    assert models.ResNet50_Weights.verify(w) is w
    assert models.ResNet50_Weights.verify(None) is None
    with raises(TypeError, match="Invalid Weight class provided"):
        models.ResNet50_Weights.verify(models.ResNet18_Weights.DEFAULT)
    with raises(ValueError, match="Unknown value 'IMAGENET1K_V9'"):
        models.ResNet50_Weights.verify("IMAGENET1K_V9")
    assert isinstance(w, models.ResNet50_Weights)
    assert not isinstance(w, models.ResNet18_Weights)
    assert not isinstance("IMAGENET1K_V2", models.ResNet50_Weights)


@test
def test_unquantized_is_the_entry():
    for module in (models.quantization,):
        for name in models.list_models(module):
            for w in models.get_model_weights(name):
                u = w.meta["unquantized"]
                assert isinstance(u, models.Weights), (w, u)
                assert u.meta["num_params"] == w.meta["num_params"]
                # The GVariant keeps the full name.
                assert w.lookup_meta("unquantized").unpack() == str(u)


# Every keyword torchvision's builder takes is accepted; a default value
# changes nothing, a value libtvw cannot apply is a NotImplementedError
# saying so, an unknown keyword a TypeError as in Python.
@test
@parametrize("model_fn", ALL_MODEL_FNS)
def test_builder_keywords(model_fn):
    import inspect

    import torchvision.models as tv_models

    tv_fn = tv_models.get_model_builder(model_fn.__tvw_builder__)
    for p in inspect.signature(tv_fn).parameters.values():
        if p.kind != p.KEYWORD_ONLY or p.name in ("weights", "progress"):
            continue
        try:
            model_fn(weights=None, **{p.name: None if p.name == "weights_backbone" else p.default})
        except TypeError as e:
            raise AssertionError(f"{model_fn.__name__}({p.name}=…) was refused: {e}") from None
        except NotImplementedError as e:
            assert isinstance(e, GLib.Error)
    with raises(TypeError, match="unexpected keyword argument"):
        model_fn(weights=None, surely_not_a_keyword=True)
    check_supported(model_fn.__tvw_builder__)


@test
def test_keywords_that_cannot_apply():
    m = models.resnet18(weights=None, zero_init_residual=False, progress=False, groups=1)
    assert m.get_architecture() == "resnet18"
    with raises(NotImplementedError, match=r"resnet18\(zero_init_residual=True\)"):
        models.resnet18(weights=None, zero_init_residual=True)
    # torchvision's default weights_backbone loads the backbone's ImageNet
    # weights, which libtvw cannot do yet (or the architecture itself).
    with raises(NotImplementedError, match="backbone" if models.is_model_supported("deeplabv3_resnet50")
                else "not implemented"):
        models.segmentation.deeplabv3_resnet50(weights=None)
    with raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        models.resnet18(None, True, 10)


@test
def test_preset_attributes():
    import torchvision.models as tv_models

    for name in models.list_models():
        for w in models.get_model_weights(name):
            if w.name == "FASHIONMNIST_V1":
                continue
            ours = w.transforms()
            theirs = getattr(tv_models.get_model_weights(name), w.name).transforms()
            for attr in ("crop_size", "resize_size", "mean", "std", "interpolation"):
                if not hasattr(theirs, attr):
                    assert not hasattr(ours, attr), (w, attr)
                    continue
                a, b = getattr(ours, attr), getattr(theirs, attr)
                if attr == "interpolation":
                    a, b = a.value, b.value
                if attr in ("mean", "std"):
                    assert len(a) == len(b) and all(abs(x - y) < 1e-12 for x, y in zip(a, b)), (w, attr, a, b)
                else:
                    assert a == b, (w, attr, a, b)


@test
def test_optical_flow_preset_takes_two_images():
    import struct

    t = models.Raft_Large_Weights.DEFAULT.transforms()
    values = [i / 47 for i in range(48)]
    img = models.Tensor.new_from_bytes(models.DType.FLOAT32, [1, 3, 4, 4],
                                       GLib.Bytes(struct.pack("48f", *values)))
    a, b = t(img, img)
    assert a.shape == b.shape == (1, 3, 4, 4)
    # OpticalFlow: x ↦ (x − 0.5) / 0.5.
    assert abs(a[0][0][0][1].item() - (2 * values[1] - 1)) < 1e-6
    with raises(TypeError, match="two images"):
        t(img)


# torchvision's presets take PIL images: so do libtvw's, with torchvision's
# result (the Pillow path is the reference; 1e-5 covers float32 rounding of
# the normalisation, the uint8 pixels after resize and crop being identical).
@test
def test_preset_takes_a_pil_image():
    import struct

    import torch
    import torchvision.models as tv_models
    from PIL import Image

    w, h = 97, 61
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 7 + y) % 256, (x * y) % 256, (255 - y) % 256) for y in range(h) for x in range(w)])
    ours = models.ResNet50_Weights.IMAGENET1K_V2.transforms(crop_size=40, resize_size=48)(img)
    want = tv_models.ResNet50_Weights.IMAGENET1K_V2.transforms(crop_size=40, resize_size=48)(img)
    assert ours.shape == tuple(want.shape) == (3, 40, 40)
    got = torch.tensor(struct.unpack(f"{want.numel()}f", ours.get_bytes().get_data())).reshape(want.shape)
    assert (got - want).abs().max().item() <= 1e-5, (got - want).abs().max().item()


@test
def test_parameters_and_topk():
    import torch
    import torchvision.models as tv_models

    check_supported("resnet18")
    model = models.resnet18(weights=None)
    theirs = tv_models.resnet18(weights=None)
    ours = dict(model.named_parameters())
    assert set(ours) == {n for n, _ in theirs.named_parameters()}
    assert all(ours[n].shape == tuple(p.shape) for n, p in theirs.named_parameters())
    assert sum(p.numel() for p in model.parameters()) == models.ResNet18_Weights.DEFAULT.meta["num_params"]
    assert {n for n, _ in model.named_buffers()} == {n for n, _ in theirs.named_buffers()}

    import struct
    torch.manual_seed(0)
    x = torch.randn(3, 50)
    x[1, 7] = x[1, 9] = 10.0  # a tie: torch keeps the lower index first
    t = models.Tensor.new_from_bytes(models.DType.FLOAT32, [3, 50],
                                     GLib.Bytes(struct.pack("150f", *x.flatten().tolist())))
    values, indices = t.topk(5)
    want = torch.topk(x, 5)
    assert values.shape == (3, 5)
    assert indices == want.indices.tolist(), (indices, want.indices.tolist())
    assert all(values[r].get_item(c) == float(want.values[r, c]) for r in range(3) for c in range(5))


# }}}

if __name__ == "__main__":
    sys.exit(run())
