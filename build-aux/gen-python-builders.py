#!/usr/bin/python3
# gen-python-builders.py — the keyword arguments of torchvision's builders,
# for the Python override.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with the Python that has torchvision (Debian: /usr/bin/python3):
#
#   /usr/bin/python3 build-aux/gen-python-builders.py [OVERRIDE]
#
# (a few minutes: the detection builders are built for real, see below)
#
# It rewrites the table between the "generated builders" markers of
# bindings/python/gi/overrides/Tvw.py (or OVERRIDE): for each of the 118
# builders of torchvision.models.list_models(),
#
#   "resnet50": (("weights", "progress"), 3),
#
# the builder's keyword-only parameters in order (what positional arguments
# map to, as torchvision's kwonly_to_pos_or_kw does), then the index in
# _KEYWORDS of every keyword the builder accepts with its default value
# ({"num_classes": 1000, ...}).  A keyword is accepted when the
# call builder(weights=None, **{keyword: its default}) gets past Python's
# argument binding all the way to the model class's __init__ (which is
# replaced, while probing, by one that checks the arguments against the real
# signature and stops: nothing is built; a class with **kwargs of its own,
# such as FasterRCNN, is built for real to see whether they are taken).  Defaults that are not plain
# literals (a norm_layer class, a block function) are written as the
# _NOT_LITERAL marker: any value given for them is a change libtvw cannot
# make.  A weights enum member default (weights_backbone) is written as its
# full name.

import ast
import inspect
import os
import pprint
import sys

import torchvision.models as models
from torchvision.models._api import BUILTIN_MODELS, WeightsEnum

BEGIN = "# BEGIN GENERATED BUILDERS (build-aux/gen-python-builders.py)\n"
END = "# END GENERATED BUILDERS\n"


class Reached(Exception):
    def __init__(self, bound):
        super().__init__()
        self.bound = bound


class NotLiteral:
    def __repr__(self):
        return "_NOT_LITERAL"


NOT_LITERAL = NotLiteral()


def literal(value):
    if isinstance(value, WeightsEnum):
        return f"{type(value).__name__}.{value.name}"
    try:
        if ast.literal_eval(repr(value)) == value:
            return value
    except (ValueError, SyntaxError):
        pass
    return NOT_LITERAL


def stop_at_init(cls):
    """Replaces cls.__init__ by one that binds its arguments and stops."""
    real = cls.__init__
    sig = inspect.signature(real)

    def init(self, *args, **kwargs):
        raise Reached(sig.bind(self, *args, **kwargs))

    cls.__init__ = init
    return real, sig


def probe(fn, kwargs):
    """None if the call reached the model's __init__, else the TypeError text."""
    try:
        fn(**kwargs)
    except Reached as r:
        return r
    except TypeError as e:
        return str(e)
    raise SystemExit(f"{fn.__name__}({kwargs}) did not reach the model class")


def candidates(fn, cls, init_sig):
    """Parameter names that may be keywords of fn: its model class's, and
    those of every function of its module (helpers like _mobilenet_v3_conf)."""
    found = {}
    for p in list(init_sig.parameters.values())[1:]:
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            found.setdefault(p.name, p.default)
    module = sys.modules[fn.__module__]
    for _, g in sorted(vars(module).items()):
        if inspect.isfunction(g) and g.__module__ == module.__name__:
            for p in inspect.signature(g).parameters.values():
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                    found.setdefault(p.name, p.default)
    return found


def describe(name, fn):
    sig = inspect.signature(fn)
    kwonly = [p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY]
    keywords = {p.name: literal(p.default) for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY}
    base = {"weights": None}
    if "weights_backbone" in keywords:
        base["weights_backbone"] = None

    cls = sig.return_annotation
    # The quantizable classes only forward (*args, **kwargs) to their float
    # base class: stop at the first class of the MRO that names parameters.
    for klass in cls.__mro__:
        params = inspect.signature(klass.__init__).parameters.values()
        if any(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self" for p in params):
            cls = klass
            break
    real, init_sig = stop_at_init(cls)
    try:
        reached = probe(fn, base)
        if not isinstance(reached, Reached):
            raise SystemExit(f"{name}: {reached}")
        filled = set(reached.bound.arguments)
        has_var_keyword = any(p.kind == p.VAR_KEYWORD for p in init_sig.parameters.values())
        for key, default in candidates(fn, cls, init_sig).items():
            if key in keywords or key in filled or key == "self" or default is inspect.Parameter.empty:
                continue
            result = probe(fn, {**base, key: default})
            if not isinstance(result, Reached):
                continue
            if has_var_keyword and key not in init_sig.parameters:
                # It went into the class's **kwargs: accepted only if the
                # real constructor takes it further down.
                cls.__init__ = real
                try:
                    fn(**{**base, key: default})
                except TypeError:
                    continue
                finally:
                    stop_at_init(cls)
            keywords[key] = literal(default)
    finally:
        cls.__init__ = real
    return tuple(kwonly), keywords


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "bindings", "python", "gi", "overrides", "Tvw.py")
    table = {}
    for name in models.list_models():
        table[name] = describe(name, BUILTIN_MODELS[name])
        print(name, table[name][0], sorted(table[name][1]), file=sys.stderr)
    write(path, table)


def write(path, table):
    """Writes the table, each distinct keyword dict once (a model class's
    keywords are shared by all its builders)."""
    keywords = []
    for _, kw in table.values():
        if kw not in keywords:
            keywords.append(kw)
    builders = {name: (kwonly, keywords.index(kw)) for name, (kwonly, kw) in table.items()}
    text = open(path, encoding="utf-8").read()
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    body = ("_KEYWORDS = " + pprint.pformat(keywords, width=110, sort_dicts=False) + "\n"
            + "_BUILDERS = " + pprint.pformat(builders, width=110, sort_dicts=False) + "\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + body + END + tail)


if __name__ == "__main__":
    main()
