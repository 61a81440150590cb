#!/usr/bin/python3
# test_catalog.py — libtvw's catalog against Debian's torchvision itself.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with the Python that has torchvision (/usr/bin/python3); $TVW_CLI is the
# tvw binary.  Every expected value comes from torchvision at test time: the
# builders (list_models), each enum's entries in declaration order, DEFAULT,
# URL, preset class and keyword arguments, every key and value of meta (with
# Python's types and key order), and what the deprecated `pretrained=True` /
# `pretrained_backbone=True` map to, found by running torchvision's own
# @handle_legacy_interface wrapper around a stub builder.  libtvw is only
# ever asked through `tvw list/weights/info --json`.
#
# Output is TAP.

import fnmatch
import functools
import inspect
import json
import math
import os
import subprocess
import sys
import warnings

import torchvision.models as models
from torchvision.models._api import BUILTIN_MODELS, WeightsEnum
from torchvision.transforms import InterpolationMode

TVW = os.environ.get("TVW_CLI", "tvw")

results = []


def tvw_json(*args):
    proc = subprocess.run([TVW, *args, "--json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"tvw {' '.join(args)} --json failed ({proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def tvw_fails(*args):
    proc = subprocess.run([TVW, *args], capture_output=True, text=True)
    return proc.returncode, proc.stderr


def record_failure(name, error):
    results.append((False, name, f"{type(error).__name__}: {error}"))


def check(name, fn):
    try:
        fn()
        results.append((True, name, None))
    except Exception as e:  # noqa: BLE001 — report every failure as TAP
        record_failure(name, e)


def same(expected, actual, where):
    """Python value from torchvision vs. the JSON libtvw printed, types included."""
    if isinstance(expected, WeightsEnum):
        want = f"{type(expected).__name__}.{expected.name}"
        if actual != want:
            raise AssertionError(f"{where}: expected {want!r}, got {actual!r}")
    elif isinstance(expected, InterpolationMode):
        if actual != expected.value:
            raise AssertionError(f"{where}: expected {expected.value!r}, got {actual!r}")
    elif isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise AssertionError(f"{where}: expected a dict, got {actual!r}")
        if list(expected.keys()) != list(actual.keys()):
            raise AssertionError(f"{where}: keys {list(expected)} != {list(actual)}")
        for k in expected:
            same(expected[k], actual[k], f"{where}.{k}")
    elif isinstance(expected, (list, tuple)):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise AssertionError(f"{where}: expected {expected!r}, got {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            same(e, a, f"{where}[{i}]")
    elif expected is None:
        if actual is not None:
            raise AssertionError(f"{where}: expected None, got {actual!r}")
    elif isinstance(expected, bool):
        if actual is not expected:
            raise AssertionError(f"{where}: expected {expected!r}, got {actual!r}")
    elif isinstance(expected, int):
        if isinstance(actual, bool) or not isinstance(actual, int) or actual != expected:
            raise AssertionError(f"{where}: expected int {expected!r}, got {actual!r}")
    elif isinstance(expected, float):
        if not isinstance(actual, float):
            raise AssertionError(f"{where}: expected float {expected!r}, got {actual!r}")
        if math.isnan(expected) != math.isnan(actual) or (not math.isnan(expected) and expected != actual):
            raise AssertionError(f"{where}: expected {expected!r}, got {actual!r}")
    elif isinstance(expected, str):
        if actual != expected:
            raise AssertionError(f"{where}: expected {expected!r}, got {actual!r}")
    else:
        raise AssertionError(f"{where}: the test cannot compare a {type(expected).__name__}")


def preset_of(w):
    t = w.transforms
    if isinstance(t, functools.partial):
        assert not t.args, f"{w}: positional preset arguments"
        return t.func.__name__, dict(t.keywords)
    return t.__name__, {}


def legacy_of(name):
    """What torchvision's own wrapper passes to the builder for pretrained=True.

    The builder behind @handle_legacy_interface is swapped for a stub for the
    duration of the call, so nothing is built or downloaded."""
    fn = BUILTIN_MODELS[name]
    inner = fn
    while inner is not None:
        code = getattr(inner, "__code__", None)
        if code is not None and "builder" in code.co_freevars:
            break
        inner = getattr(inner, "__wrapped__", None)
    if inner is None:
        return {}
    cell = dict(zip(inner.__code__.co_freevars, inner.__closure__))["builder"]
    seen = {}

    def stub(*args, **kwargs):
        seen.update(kwargs)

    original = cell.cell_contents
    cell.cell_contents = stub
    legacy = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # quantize=True: the quantized_* builders stand for quantized models.
            for legacy_param, weights_param, extra in (
                ("pretrained", "weights", {"quantize": True}),
                ("pretrained_backbone", "weights_backbone", {}),
            ):
                seen.clear()
                try:
                    fn(**{legacy_param: True}, **extra)
                except ValueError:
                    continue
                value = seen.get(weights_param)
                if isinstance(value, WeightsEnum):
                    legacy[legacy_param] = f"{type(value).__name__}.{value.name}"
    finally:
        cell.cell_contents = original
    return legacy


def list_models_oracle(include=None, exclude=None):
    # torchvision 0.15's include/exclude semantics over 0.14's builders.
    all_models = set(models.list_models())
    if include:
        chosen = set()
        for pattern in include:
            chosen |= set(fnmatch.filter(all_models, pattern))
    else:
        chosen = all_models
    for pattern in exclude or []:
        chosen -= set(fnmatch.filter(all_models, pattern))
    return sorted(chosen)


# libtvw's own entries, trained by build-aux/ and embedded in the library:
# not torchvision's, so they are checked on their own and left out of the
# comparisons with torchvision.
LIBTVW_OWN = {"MobileNet_V3_Small_Weights.FASHIONMNIST_V1"}


def without_own(enum_name, entries):
    return [x for x in entries if f"{enum_name}.{x['name']}" not in LIBTVW_OWN]


def main():
    builders = models.list_models()
    n_entries = sum(len(list(models.get_model_weights(b))) for b in builders)

    def test_list_all():
        listed = tvw_json("list", "--all")
        names = [m["name"] for m in listed]
        assert names == builders, f"tvw list --all: {len(names)} models, torchvision has {len(builders)}"
        for m in listed:
            e = models.get_model_weights(m["name"])
            assert m["enum"] == e.__name__, m
            assert m["default"] == e.DEFAULT.name, m
            own = sum(1 for f in LIBTVW_OWN if f.startswith(e.__name__ + "."))
            assert m["n_entries"] == len(list(e)) + own, m

    check(f"tvw list --all: the {len(builders)} builders of torchvision", test_list_all)

    def test_list_supported_subset():
        supported = [m["name"] for m in tvw_json("list")]
        assert set(supported) <= set(builders), "tvw list names a model torchvision does not have"
        assert supported == sorted(supported)
        for m in tvw_json("list", "--all"):
            assert m["supported"] == (m["name"] in supported), m

    check("tvw list: the implemented subset, sorted", test_list_supported_subset)

    for include, exclude in (
        (["resnet*"], ["*50"]),
        (["*mobilenet*", "vit_?_16"], ["*_large*"]),
        ([], ["*"]),
        ([], ["quantized_*", "*rcnn*"]),
        (["[rs]*net*"], []),
        (["*x?d"], ["*64*"]),
        (["no_such_model*"], []),
    ):
        def test_filters(include=include, exclude=exclude):
            args = ["list", "--all"]
            for p in include:
                args += ["--include", p]
            for p in exclude:
                args += ["--exclude", p]
            names = [m["name"] for m in tvw_json(*args)]
            want = list_models_oracle(include, exclude)
            assert names == want, f"{names} != {want}"

        check(f"tvw list --all include={include} exclude={exclude}", test_filters)

    # One tvw call for all builders and one for all entries: the answers are
    # then checked one subtest per builder and per entry.
    try:
        weights_json = dict(zip(builders, tvw_json("weights", *builders)))
    except AssertionError as e:
        weights_json = {}
        record_failure("tvw weights ALL --json", e)
    full_names = [f"{models.get_model_weights(b).__name__}.{w.name}"
                  for b in builders for w in models.get_model_weights(b)]
    try:
        info_json = dict(zip(full_names, tvw_json("info", *full_names)))
    except AssertionError as e:
        info_json = {}
        record_failure("tvw info ALL --json", e)

    for b in builders:
        e = models.get_model_weights(b)

        def test_builder(b=b, e=e):
            got = weights_json[b]
            assert got["builder"] == b
            assert got["enum"] == e.__name__, got["enum"]
            assert got["default"] == e.DEFAULT.name, f"DEFAULT {got['default']} != {e.DEFAULT.name}"
            theirs = without_own(e.__name__, got["entries"])
            names = [x["name"] for x in theirs]
            assert names == [w.name for w in e], f"entries {names}"
            for x, w in zip(theirs, e):
                assert x["full_name"] == f"{e.__name__}.{w.name}"
                assert x["default"] == (w is e.DEFAULT), x["name"]
                assert x["url"] == w.url, x["name"]
            same(legacy_of(b), got["legacy"], f"{b} legacy")

        check(f"tvw weights {b}: entries, DEFAULT, legacy mapping", test_builder)

    for b in builders:
        e = models.get_model_weights(b)
        for w in e:
            full = f"{e.__name__}.{w.name}"

            def test_entry(b=b, e=e, w=w, full=full):
                got = info_json[full]
                assert got["full_name"] == full
                assert got["builder"] == b
                assert got["enum"] == e.__name__
                assert got["default"] == (w is e.DEFAULT), f"default {got['default']}"
                assert got["url"] == w.url, f"url {got['url']} != {w.url}"
                preset, kwargs = preset_of(w)
                transforms = dict(got["transforms"])
                assert transforms.pop("preset") == preset, f"preset {got['transforms']}"
                same(dict(sorted(kwargs.items())), dict(sorted(transforms.items())), f"{full} transforms")
                same(w.meta, got["meta"], f"{full} meta")
                cats = w.meta.get("categories")
                assert got["num_classes"] == (len(cats) if cats else 0)

            check(f"tvw info {full}", test_entry)

    def test_default_alias():
        for b in ("resnet50", "raft_large", "quantized_resnet50", "mvit_v2_s"):
            e = models.get_model_weights(b)
            got = tvw_json("info", f"{e.__name__}.DEFAULT")
            assert got["name"] == e.DEFAULT.name, got["name"]

    check("tvw info X_Weights.DEFAULT is the DEFAULT entry", test_default_alias)

    def test_count():
        total = sum(len(without_own(x["enum"], x["entries"])) for x in weights_json.values())
        assert total == n_entries, f"{total} entries, torchvision has {n_entries}"
        assert len(info_json) == n_entries

    check(f"{n_entries} entries over {len(builders)} builders", test_count)

    def test_embedded_entries():
        for full in sorted(LIBTVW_OWN):
            got = tvw_json("info", full)
            assert got["full_name"] == full
            assert not got["default"], "libtvw's own weights never replace torchvision's DEFAULT"
            assert got["url"] is None, got["url"]
            assert got["file"].startswith("resource:///"), got
            metrics = got["meta"]["_metrics"]
            assert len(metrics) == 1 and all(0 < v <= 100 for v in next(iter(metrics.values())).values())
            assert got["num_classes"] == len(got["meta"]["categories"])

    check("libtvw's embedded entries: offline, never DEFAULT, honest meta", test_embedded_entries)

    def test_single_equals_batch():
        for full in ("ResNet50_Weights.IMAGENET1K_V1", "Raft_Small_Weights.C_T_V2"):
            assert tvw_json("info", full) == info_json[full]
        assert tvw_json("weights", "vit_h_14") == weights_json["vit_h_14"]

    check("one name prints the same as a batch", test_single_equals_batch)

    def test_unknown_names():
        status, err = tvw_fails("weights", "resnet05")
        assert status != 0 and "resnet50" in err, err
        status, err = tvw_fails("info", "ResNet50_Weights.IMAGENET1K_V3")
        assert status != 0 and "IMAGENET1K_V2" in err, err
        status, err = tvw_fails("info", "ResNet50_Weight.DEFAULT")
        assert status != 0 and "ResNet50_Weights" in err, err

    check("unknown names fail and suggest close matches", test_unknown_names)

    print(f"1..{len(results)}")
    failed = 0
    for i, (ok, name, message) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok:
            failed += 1
            print(f"# {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
