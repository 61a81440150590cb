# Tvw.py — PyGObject overrides that make libtvw read like torchvision.models
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   from gi.repository import Tvw
#
#   weights = Tvw.ResNet50_Weights.DEFAULT
#   model = Tvw.resnet50(weights=weights)
#   preprocess = weights.transforms()
#   batch = preprocess("grace_hopper.jpg").unsqueeze(0)
#   prediction = model(batch).squeeze(0).softmax(0)
#   class_id = prediction.argmax().item()
#   print(weights.meta["categories"][class_id], 100 * prediction[class_id].item())

import os
import sys
import warnings

from gi.repository import Gio, GLib

from ..module import get_introspection_module
from ..overrides import override

Tvw = get_introspection_module("Tvw")

__all__ = []

_MODULE_KEY = "gi.repository.Tvw"


# {{{ Values

def _to_variant(key, value):
    """A Python keyword argument of a preset as the a{sv} value libtvw takes."""
    if isinstance(value, GLib.Variant):
        return value
    if value is None:
        return GLib.Variant("mi", None)
    if isinstance(value, bool):
        return GLib.Variant("b", value)
    if isinstance(value, int):
        return GLib.Variant("i", value)
    if isinstance(value, str):
        return GLib.Variant("s", value)
    if hasattr(value, "value") and isinstance(value.value, str):  # InterpolationMode-like
        return GLib.Variant("s", value.value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value) and key in ("crop_size", "resize_size"):
            return GLib.Variant("(" + "i" * len(value) + ")", tuple(value))
        return GLib.Variant("ad", [float(v) for v in value])
    if isinstance(value, float):
        return GLib.Variant("d", value)
    raise TypeError(f"{key}: cannot pass a {type(value).__name__} to a preset")


class _Index(int):
    """An int with .item(), so that `prediction.argmax().item()` reads like torch."""

    def item(self):
        return int(self)


# }}}
# {{{ Weights, enums, transforms, tensors, models

class Weights(Tvw.Weights):
    """One weights entry: `Tvw.ResNet50_Weights.IMAGENET1K_V2`."""

    @property
    def name(self):
        return self.get_name()

    @property
    def value(self):
        return self

    @property
    def url(self):
        return self.get_url()

    @property
    def meta(self):
        """torchvision's meta dict, as plain Python values (a new dict each time)."""
        return self.get_meta().unpack()

    def transforms(self, **kwargs):
        """The inference preset; keyword arguments override the entry's, like
        `weights.transforms(crop_size=400, resize_size=400)`."""
        if not kwargs:
            return Tvw.Weights.transforms(self)
        overrides = GLib.Variant("a{sv}", {k: _to_variant(k, v) for k, v in kwargs.items()})
        return self.transforms_with(overrides)

    def __str__(self):
        return self.get_full_name()

    def __repr__(self):
        return f"<{self.get_full_name()}>"

    def __hash__(self):
        return hash(self.get_full_name())

    def __eq__(self, other):
        return self is other

    def __reduce__(self):
        return (get_weight, (self.get_full_name(),))


Weights = override(Weights)
__all__.append("Weights")


class WeightsEnum(Tvw.WeightsEnum):
    """A builder's weights: `Tvw.ResNet50_Weights`, iterable in declaration order,
    with `.DEFAULT` and every entry as attributes."""

    @property
    def __name__(self):
        return self.get_name()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.lookup(name)
        except GLib.Error as e:
            raise AttributeError(e.message) from None

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self.lookup(key)
            except GLib.Error as e:
                raise KeyError(e.message) from None
        n = self.get_n_items()
        if isinstance(key, slice):
            return [self.get_item(i) for i in range(*key.indices(n))]
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError("weights enum index out of range")
        return self.get_item(key)

    def __iter__(self):
        for i in range(self.get_n_items()):
            yield self.get_item(i)

    def __len__(self):
        return self.get_n_items()

    def __contains__(self, item):
        return isinstance(item, Tvw.Weights) and item.get_enum() is self

    def __dir__(self):
        return sorted(set(super().__dir__()) | {w.get_name() for w in self} | {"DEFAULT"})

    def __repr__(self):
        return f"<enum '{self.get_name()}'>"

    def __bool__(self):
        return True


WeightsEnum = override(WeightsEnum)
__all__.append("WeightsEnum")


class Transform(Tvw.Transform):
    """A preset; call it on a file name, a Gio.File, a GdkPixbuf or a Tvw.Tensor."""

    def __call__(self, img):
        if isinstance(img, Tvw.Tensor):
            return self.apply_tensor(img)
        if isinstance(img, (str, bytes, os.PathLike)):
            return self.apply_file(Gio.File.new_for_path(os.fsdecode(img)), None)
        if isinstance(img, Gio.File):
            return self.apply_file(img, None)
        try:
            from gi.repository import GdkPixbuf
            if isinstance(img, GdkPixbuf.Pixbuf):
                return self.apply_pixbuf(img)
        except ImportError:
            pass
        raise TypeError(f"cannot preprocess a {type(img).__name__}: pass a path, a Gio.File, "
                        "a GdkPixbuf.Pixbuf or a Tvw.Tensor")

    def __repr__(self):
        return self.to_string()


Transform = override(Transform)
__all__.append("Transform")


class Tensor(Tvw.Tensor):
    """Enough of torch.Tensor for the blog's snippets."""

    @property
    def shape(self):
        return tuple(self.get_shape())

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.get_n_dims()

    def argmax(self):
        return _Index(Tvw.Tensor.argmax(self))

    def __getitem__(self, index):
        if not isinstance(index, int):
            raise TypeError("only integer indices are supported")
        n = self.get_dim(0)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return self.index(index)

    def __len__(self):
        return self.get_dim(0)

    def __float__(self):
        return self.item()

    def __repr__(self):
        return self.to_string()


Tensor = override(Tensor)
__all__.append("Tensor")


class Model(Tvw.Model):
    """A model; call it on a batch like a torch.nn.Module."""

    def __call__(self, batch):
        return self.forward(batch, None)

    def eval(self):
        return self

    def __repr__(self):
        w = self.get_weights()
        return f"<Tvw.Model {self.get_architecture()}{' ' + w.get_full_name() if w else ''}>"


Model = override(Model)
__all__.append("Model")


# }}}
# {{{ Registry functions

def _strv(patterns):
    if patterns is None:
        return None
    if isinstance(patterns, str):
        return [patterns]
    return list(patterns)


def list_models(include=None, exclude=None):
    """Builder names libtvw can build, like torchvision's list_models()."""
    return Tvw.list_models(_strv(include), _strv(exclude))


def list_catalog_models(include=None, exclude=None):
    """Every builder name of torchvision's catalog, built or not."""
    return Tvw.list_catalog_models(_strv(include), _strv(exclude))


def get_weight(name):
    """`Tvw.get_weight("ResNet50_Weights.DEFAULT")`."""
    return Tvw.get_weight(name)


def get_model_weights(name):
    """The weights enum of a builder: a name, or a builder function of this module."""
    if callable(name) and hasattr(name, "__tvw_builder__"):
        name = name.__tvw_builder__
    return Tvw.get_model_weights(name)


def _resolve_weights(builder, weights):
    if weights is None or isinstance(weights, Tvw.Weights):
        return weights
    if isinstance(weights, str):
        if "." in weights:
            return Tvw.get_weight(weights)
        return Tvw.get_model_weights(builder).lookup(weights)
    raise TypeError(f"weights must be a Tvw.Weights, a name or None, not {type(weights).__name__}")


def _build(builder, weights, num_classes=None):
    w = _resolve_weights(builder, weights)
    if num_classes is None:
        return Tvw.get_model(builder, w.get_full_name() if w is not None else None, None)
    if not Tvw.is_model_supported(builder):
        # get_model() says why (unknown or not implemented).
        Tvw.get_model(builder, None, None)
    model = Tvw.Model(architecture=builder, weights=w, num_classes=num_classes)
    model.init(None)
    return model


def get_model(name, **config):
    """`Tvw.get_model("resnet50", weights="DEFAULT")`, like torchvision's get_model()."""
    return _make_builder(name)(**config)


_POSITIONAL_MESSAGE = ("Using {names} as positional parameter(s) is deprecated. "
                       "Please use keyword parameter(s) instead.")
_PRETRAINED_MESSAGE = "The parameter '{legacy}' is deprecated, please use '{param}' instead."
_LEGACY_MESSAGE = ("Arguments other than a weight enum or `None` for '{param}' are deprecated. "
                   "The current behavior is equivalent to passing `{param}={value}`.")
_DEFAULT_MESSAGE = " You can also use `{param}={enum}.DEFAULT` to get the most up-to-date weights."


def _make_builder(builder):
    def build(*args, weights=None, progress=True, num_classes=None, **kwargs):
        if args:
            names = ("weights", "progress")[:len(args)]
            if len(args) > 2:
                raise TypeError(f"{builder}() takes at most 2 positional arguments ({len(args)} given)")
            warnings.warn(_POSITIONAL_MESSAGE.format(names=" and ".join(f"'{n}'" for n in names)),
                          UserWarning, stacklevel=2)
            values = dict(zip(names, args))
            weights = values.get("weights", weights)
            progress = values.get("progress", progress)

        for legacy, param, backbone in (("pretrained", "weights", False),
                                        ("pretrained_backbone", "weights_backbone", True)):
            if legacy not in kwargs:
                continue
            pretrained = kwargs.pop(legacy)
            value = Tvw.get_legacy_weights(builder, backbone) if pretrained else None
            if pretrained and value is None:
                raise ValueError(f"No weights available for model {builder}")
            warnings.warn(_PRETRAINED_MESSAGE.format(legacy=legacy, param=param), UserWarning, stacklevel=2)
            message = _LEGACY_MESSAGE.format(param=param, value=value.get_full_name() if value else None)
            if value is not None:
                message += _DEFAULT_MESSAGE.format(param=param, enum=value.get_enum().get_name())
            warnings.warn(message, UserWarning, stacklevel=2)
            if not backbone:
                weights = value
            elif value is not None:
                # libtvw loads whole checkpoints; a backbone's own weights are
                # not loaded into a detection or segmentation model.
                raise NotImplementedError(f"{builder}: loading only the backbone's weights is not supported")

        if kwargs:
            raise TypeError(f"{builder}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        return _build(builder, weights, num_classes)

    build.__name__ = builder
    build.__qualname__ = builder
    build.__tvw_builder__ = builder
    build.__doc__ = (f"Builds {builder}, like torchvision.models.{builder}(weights=…). "
                     f"Its weights are Tvw.{Tvw.get_model_weights(builder).get_name()}.")
    return build


def register_weights_from_file(card):
    """Registers a weights card (a path or a Gio.File) and exports new enums."""
    if not isinstance(card, Gio.File):
        card = Gio.File.new_for_path(os.fsdecode(card))
    Tvw.register_weights_from_file(card)
    _export_enums()
    return True


def _export_enums():
    module = sys.modules.get(_MODULE_KEY)
    enums = Tvw.get_weights_enums()
    for i in range(enums.get_n_items()):
        e = enums.get_item(i)
        name = e.get_name()
        globals()[name] = e
        if name not in __all__:
            __all__.append(name)
        if module is not None:
            setattr(module, name, e)


for _name in ("list_models", "list_catalog_models", "get_weight", "get_model_weights", "get_model",
              "register_weights_from_file"):
    __all__.append(_name)

for _builder in Tvw.list_catalog_models(None, None):
    globals()[_builder] = _make_builder(_builder)
    __all__.append(_builder)

_export_enums()

# }}}
