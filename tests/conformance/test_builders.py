#!/usr/bin/python3
# Every builder libtvw can build (`tvw list`) has a conformance test against
# PyTorch.  The families' own scripts (test_resnet.py, test_families.py, …:
# every test_*.py here with a MODELS list) test their members in depth; any
# builder none of them lists gets a default check here — random weights, a
# torch.save'd checkpoint, batch 2 at its catalog min_size (or 64) — so a
# new family is picked up without editing a list.  A builder of the catalog
# that libtvw claims to build but torchvision does not know is a failure.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import glob
import importlib
import json
import os
import sys

here = os.path.dirname(__file__)
sys.path.insert(0, here)

import torch
import torchvision.models as M

import tvwconf

torch.set_num_threads(2)


def listed_elsewhere():
    names = set()
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        module = os.path.splitext(os.path.basename(path))[0]
        if module == "test_builders":
            continue
        names.update(m[0] for m in getattr(importlib.import_module(module), "MODELS", []))
    return names


def default_size(name):
    """The largest min_size of the builder's entries, at least 64×64."""
    with open(os.path.join(here, "..", "..", "data", "catalog.json")) as f:
        builders = {b["name"]: b for b in json.load(f)["builders"]}
    size = (64, 64)
    for entry in builders.get(name, {}).get("entries", []):
        s = entry.get("meta", {}).get("min_size")
        if isinstance(s, dict):
            s = s.get("$tuple")
        if s:
            size = (max(size[0], s[0]), max(size[1], s[1]))
    return size


def main():
    implemented = [m["name"] for m in json.loads(tvwconf.tvw("list", "--json").stdout)]
    covered = listed_elsewhere()
    missing = [n for n in implemented if n not in covered]
    unknown = [n for n in missing if n not in M.list_models()]
    models = [(n, ["zip"], [(2, default_size(n))]) for n in missing if n not in unknown]

    print(f"# {len(implemented)} builders, {len(covered)} in the families' scripts, "
          f"{len(models)} checked here", flush=True)
    if unknown:
        tap = tvwconf.Tap(1)
        tap.ok(False, "builders torchvision does not know", ", ".join(unknown))
        tap.exit()
    if not models:
        tap = tvwconf.Tap(1)
        tap.ok(len(implemented) > 0 and not missing,
               f"every one of the {len(implemented)} builders has a family conformance test")
        tap.exit()
    tvwconf.run_models(models, seed=900, rng_seed=9)


if __name__ == "__main__":
    main()
