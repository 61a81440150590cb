#!/usr/bin/python3
# gen-catalog.py — write libtvw's weights catalog from Debian's torchvision.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with the Python that has torchvision (Debian: /usr/bin/python3):
#
#   /usr/bin/python3 build-aux/gen-catalog.py [DATA_DIR]
#
# It walks every builder torchvision.models.list_models() knows (classification,
# quantization, detection, segmentation, video, optical flow) and writes
#
#   DATA_DIR/catalog.json          builders, weights entries, presets, meta
#   DATA_DIR/categories/ID.txt     each shared string list, one item a line
#
# Both are committed; the library embeds them as a GResource.  The encoding of
# the meta values in catalog.json keeps everything JSON cannot say directly:
#
#   dict → object (key order kept)      list → array
#   str, int, float, bool → themselves  None → null
#   tuple → {"$tuple": [...]}           float NaN/±inf → {"$float": "nan"|"inf"|"-inf"}
#   a list from torchvision.models._meta (ImageNet's 1000 names, …)
#         → {"$list": ID}  (ID = the variable name without "_" and "_categories",
#                           lower-cased; the items are in categories/ID.txt)
#   a weights enum member (quantized "unquantized") → {"$weights": "Enum.NAME"}
#
# Preset keyword arguments are stored exactly as torchvision's functools.partial
# has them (only the keywords it passes), with InterpolationMode as its value
# string ("bilinear", "bicubic", "nearest").

import enum
import functools
import inspect
import json
import math
import os
import sys

import torchvision
import torchvision.models as models
import torchvision.models._meta as tv_meta
from torchvision.models._api import BUILTIN_MODELS, WeightsEnum
from torchvision.transforms import InterpolationMode

EXPECTED_BUILDERS = 118
EXPECTED_ENTRIES = 162

TASKS = {
    "torchvision.models.quantization": "quantization",
    "torchvision.models.detection": "detection",
    "torchvision.models.segmentation": "segmentation",
    "torchvision.models.video": "video",
    "torchvision.models.optical_flow": "optical_flow",
}


def shared_lists():
    lists = {}
    for var in sorted(dir(tv_meta)):
        value = getattr(tv_meta, var)
        if not var.startswith("_") or var.startswith("__") or not isinstance(value, list):
            continue
        list_id = var.strip("_").lower()
        if list_id.endswith("_categories"):
            list_id = list_id[: -len("_categories")]
        for item in value:
            if not isinstance(item, str) or "\n" in item or "\r" in item:
                raise SystemExit(f"{var}: item {item!r} cannot be written one a line")
        lists[list_id] = value
    return lists


def task_of(builder_fn):
    module = builder_fn.__module__
    for prefix, task in TASKS.items():
        if module.startswith(prefix + "."):
            return task
    if module.startswith("torchvision.models."):
        return "classification"
    raise SystemExit(f"{builder_fn.__name__}: unknown module {module}")


def legacy_of(builder_fn):
    """Read the handle_legacy_interface(...) closure of a builder.

    Returns {"pretrained": "Enum.NAME", "pretrained_backbone": "Enum.NAME"}
    with what `pretrained=True` / `pretrained_backbone=True` map to.  Callable
    defaults (the quantized builders) are evaluated with quantize=True, which
    is what the quantized_* builder names stand for.
    """
    fn = builder_fn
    while fn is not None:
        code = getattr(fn, "__code__", None)
        if code is not None and "weights" in code.co_freevars and "builder" in code.co_freevars:
            cells = dict(zip(code.co_freevars, fn.__closure__))
            table = cells["weights"].cell_contents
            legacy = {}
            for weights_param, (pretrained_param, default) in table.items():
                if callable(default) and not isinstance(default, WeightsEnum):
                    value = default({pretrained_param: True, "quantize": True})
                else:
                    value = default
                if value is None:
                    continue
                if not isinstance(value, WeightsEnum):
                    raise SystemExit(f"{builder_fn.__name__}: legacy {pretrained_param} is {value!r}")
                legacy[pretrained_param] = f"{type(value).__name__}.{value.name}"
            return legacy
        fn = getattr(fn, "__wrapped__", None)
    return {}


class Encoder:
    def __init__(self, lists):
        self.lists = lists

    def value(self, v, where):
        if isinstance(v, WeightsEnum):
            return {"$weights": f"{type(v).__name__}.{v.name}"}
        if isinstance(v, InterpolationMode):
            return v.value
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int):
            return v
        if isinstance(v, float):
            if math.isnan(v):
                return {"$float": "nan"}
            if math.isinf(v):
                return {"$float": "inf" if v > 0 else "-inf"}
            return v
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if not isinstance(k, str) or k.startswith("$"):
                    raise SystemExit(f"{where}: key {k!r} cannot be stored")
                out[k] = self.value(x, f"{where}/{k}")
            return out
        if isinstance(v, list):
            for list_id, items in self.lists.items():
                if v == items:
                    return {"$list": list_id}
            return [self.value(x, where) for x in v]
        if isinstance(v, tuple):
            return {"$tuple": [self.value(x, where) for x in v]}
        raise SystemExit(f"{where}: cannot store a {type(v).__name__}")


def preset_of(transforms, where):
    if isinstance(transforms, functools.partial):
        if transforms.args:
            raise SystemExit(f"{where}: positional preset arguments are not expected")
        cls, kwargs = transforms.func, dict(transforms.keywords)
    else:
        cls, kwargs = transforms, {}
    if not inspect.isclass(cls):
        raise SystemExit(f"{where}: transforms is not a preset class")
    return cls.__name__, kwargs


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data")
    lists = shared_lists()
    encoder = Encoder(lists)

    builders = []
    used_lists = set()
    n_entries = 0
    for name in models.list_models():
        fn = BUILTIN_MODELS[name]
        weights_enum = models.get_model_weights(name)
        entries = []
        for w in weights_enum:
            where = f"{weights_enum.__name__}.{w.name}"
            preset, kwargs = preset_of(w.transforms, where)
            transforms = {"preset": preset}
            for k, v in kwargs.items():
                transforms[k] = encoder.value(v, f"{where}/transforms/{k}")
            meta = encoder.value(w.meta, f"{where}/meta")
            entries.append({"name": w.name, "url": w.url, "transforms": transforms, "meta": meta})
            n_entries += 1
        text = json.dumps(entries)
        used_lists.update(i for i in lists if f'{{"$list": "{i}"}}' in text)
        builder = {
            "name": name,
            "enum": weights_enum.__name__,
            "task": task_of(fn),
            "default": weights_enum.DEFAULT.name,
        }
        legacy = legacy_of(fn)
        if legacy:
            builder["legacy"] = legacy
        builder["entries"] = entries
        builders.append(builder)

    if len(builders) != EXPECTED_BUILDERS or n_entries != EXPECTED_ENTRIES:
        raise SystemExit(f"expected {EXPECTED_BUILDERS} builders and {EXPECTED_ENTRIES} entries, "
                         f"found {len(builders)} and {n_entries}")

    catalog = {
        "format": 1,
        "torchvision": torchvision.__version__,
        "lists": sorted(used_lists),
        "builders": builders,
    }
    os.makedirs(os.path.join(data_dir, "categories"), exist_ok=True)
    with open(os.path.join(data_dir, "catalog.json"), "w", encoding="utf-8") as f:
        json.dump(catalog, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    for list_id in sorted(used_lists):
        with open(os.path.join(data_dir, "categories", list_id + ".txt"), "w", encoding="utf-8") as f:
            f.write("".join(item + "\n" for item in lists[list_id]))
    print(f"{len(builders)} builders, {n_entries} entries, lists: {', '.join(sorted(used_lists))}")


if __name__ == "__main__":
    main()
