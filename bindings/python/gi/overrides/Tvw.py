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

import builtins
import collections
import enum
import fnmatch
import functools
import os
import sys
import types
import warnings

from gi.repository import Gio, GLib

from ..module import get_introspection_module
from ..overrides import override

Tvw = get_introspection_module("Tvw")

__all__ = []

_MODULE_KEY = "gi.repository.Tvw"


# {{{ Errors

class NotFoundError(GLib.Error, builtins.ValueError):
    """An unknown model, weights enum or entry: torchvision raises ValueError."""


class InvalidArgumentError(GLib.Error, builtins.ValueError):
    """A bad value (weights of another model, a bad num_classes, …): ValueError."""


class WeightsTypeError(GLib.Error, builtins.TypeError):
    """Weights of another enum given to verify() or a builder: TypeError."""


class WeightsKeyError(GLib.Error, builtins.KeyError):
    """`Enum["NAME"]` of an unknown entry: KeyError."""

    def __str__(self):
        return self.message


class UnsupportedError(GLib.Error, builtins.NotImplementedError):
    """An architecture libtvw cannot run yet, or a builder keyword it cannot
    apply yet."""


_ERROR_DOMAIN = GLib.quark_to_string(Tvw.error_quark())


def _error(cls, message, code=Tvw.Error.INVALID_ARGUMENT):
    return cls(message, _ERROR_DOMAIN, int(code))


def _convert(e):
    """A GLib.Error of libtvw as the exception torchvision raises there."""
    if isinstance(e, (NotFoundError, InvalidArgumentError, WeightsTypeError, WeightsKeyError,
                      UnsupportedError)):
        return e
    if e.domain == _ERROR_DOMAIN:
        if e.code == Tvw.Error.NOT_FOUND:
            return NotFoundError(e.message, e.domain, e.code)
        if e.code in (Tvw.Error.INVALID_ARGUMENT, Tvw.Error.SHAPE_MISMATCH):
            return InvalidArgumentError(e.message, e.domain, e.code)
        if e.code == Tvw.Error.UNSUPPORTED:
            return UnsupportedError(e.message, e.domain, e.code)
    return e


def _converting(fn):
    """Raises libtvw's errors as torchvision's exception types (still GLib.Error)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GLib.Error as e:
            converted = _convert(e)
            if converted is e:
                raise
            raise converted from None
    return wrapper


for _name in ("NotFoundError", "InvalidArgumentError", "WeightsTypeError", "WeightsKeyError",
              "UnsupportedError"):
    __all__.append(_name)


# }}}
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


class InterpolationMode(enum.Enum):
    """torchvision.transforms.InterpolationMode, for the presets' `interpolation`."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


__all__.append("InterpolationMode")

_INTERPOLATION = {
    Tvw.Interpolation.NEAREST: InterpolationMode.NEAREST,
    Tvw.Interpolation.BILINEAR: InterpolationMode.BILINEAR,
    Tvw.Interpolation.BICUBIC: InterpolationMode.BICUBIC,
}


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
        """torchvision's meta dict, as plain Python values (a new dict each time);
        `unquantized` is the entry itself, as in torchvision."""
        meta = self.get_meta().unpack()
        if isinstance(meta.get("unquantized"), str):
            meta["unquantized"] = Tvw.get_weight(meta["unquantized"])
        return meta

    @_converting
    def transforms(self, **kwargs):
        """The inference preset; keyword arguments override the entry's, like
        `weights.transforms(crop_size=400, resize_size=400)`."""
        if not kwargs:
            return Tvw.Weights.transforms(self)
        overrides = GLib.Variant("a{sv}", {k: _to_variant(k, v) for k, v in kwargs.items()})
        return self.transforms_with(overrides)

    def __copy__(self):
        # Entries are singletons, like enum members: copies are the entry.
        return self

    def __deepcopy__(self, memo):
        return self

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
                raise WeightsKeyError(e.message, e.domain, e.code) from None
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

    def __instancecheck__(self, instance):
        """`isinstance(w, Tvw.ResNet50_Weights)`, as with torchvision's enum classes."""
        return isinstance(instance, Tvw.Weights) and instance.get_enum() is self

    def from_str(self, member):
        """`ResNet50_Weights.from_str("IMAGENET1K_V2")`; unknown names raise ValueError."""
        try:
            return self.lookup(member)
        except GLib.Error as e:
            raise NotFoundError(f"Unknown value '{member}' for {self.get_name()}. {e.message}",
                                e.domain, e.code) from None

    def verify(self, obj):
        """torchvision's `WeightsEnum.verify`: None stays None, a name (with or
        without the enum's prefix) becomes the entry, an entry of another
        enum raises TypeError."""
        if obj is None:
            return None
        if type(obj) is str:
            return self.from_str(obj.replace(self.get_name() + ".", ""))
        if obj not in self:
            received = obj.get_enum().get_name() if isinstance(obj, Tvw.Weights) else type(obj).__name__
            raise _error(WeightsTypeError, "Invalid Weight class provided; expected "
                         f"{self.get_name()} but received {received}.")
        return obj

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (get_weights_enum, (self.get_name(),))

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return hash(self.get_name())

    def __dir__(self):
        return sorted(set(super().__dir__()) | {w.get_name() for w in self} | {"DEFAULT"})

    def __repr__(self):
        return f"<enum '{self.get_name()}'>"

    def __bool__(self):
        return True


WeightsEnum = override(WeightsEnum)
__all__.append("WeightsEnum")


# The attributes each of torchvision's preset classes has.
_PRESET_ATTRIBUTES = {
    Tvw.Preset.IMAGE_CLASSIFICATION: ("crop_size", "resize_size", "mean", "std", "interpolation"),
    Tvw.Preset.VIDEO_CLASSIFICATION: ("crop_size", "resize_size", "mean", "std", "interpolation"),
    Tvw.Preset.SEMANTIC_SEGMENTATION: ("resize_size", "mean", "std", "interpolation"),
    Tvw.Preset.OBJECT_DETECTION: (),
    Tvw.Preset.OPTICAL_FLOW: (),
}


class Transform(Tvw.Transform):
    """A preset; call it on a file name, a Gio.File, a GdkPixbuf, a PIL image or a Tvw.Tensor
    (the OpticalFlow preset on two of them, like torchvision's)."""

    def __getattr__(self, name):
        # torchvision's presets keep their arguments as lists: crop_size
        # [224], resize_size [232] (None for segmentation without resizing),
        # mean and std, interpolation an InterpolationMode.
        if name not in _PRESET_ATTRIBUTES[self.get_preset()]:
            raise AttributeError(f"'{self.get_preset().value_nick}' preset has no attribute '{name}'")
        if name == "crop_size":
            n, height, width = self.get_crop_size()
            return [height, width][:n]
        if name == "resize_size":
            n, first, second = self.get_resize_size()
            return [first, second][:n] if n else None
        if name == "mean":
            return list(self.get_mean())
        if name == "std":
            return list(self.get_std())
        return _INTERPOLATION[self.get_interpolation()]

    def __call__(self, *imgs):
        if self.get_preset() == Tvw.Preset.OPTICAL_FLOW:
            if len(imgs) != 2:
                raise TypeError(f"the OpticalFlow preset takes two images ({len(imgs)} given)")
            return tuple(self._apply(img) for img in imgs)
        if len(imgs) != 1:
            raise TypeError(f"the preset takes one image ({len(imgs)} given)")
        return self._apply(imgs[0])

    @_converting
    def _apply(self, img):
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
            if type(img).__module__.startswith("PIL.") and hasattr(img, "tobytes"):
                # A PIL image, as torchvision's presets take: its RGB pixels.
                rgb = img.convert("RGB")
                width, height = rgb.size
                pixbuf = GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes(rgb.tobytes()), GdkPixbuf.Colorspace.RGB,
                                                         False, 8, width, height, 3 * width)
                return self.apply_pixbuf(pixbuf)
        except ImportError:
            pass
        raise TypeError(f"cannot preprocess a {type(img).__name__}: pass a path, a Gio.File, "
                        "a GdkPixbuf.Pixbuf, a PIL image or a Tvw.Tensor")

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

    @_converting
    def topk(self, k, dim=-1, largest=True, sorted=True):
        """`values, indices = tensor.topk(5)`, along the last dimension,
        largest first, as torch does. The indices are ints (nested lists
        for a tensor of more than one dimension)."""
        if dim not in (-1, self.get_n_dims() - 1) or not largest or not sorted:
            raise _error(UnsupportedError, "topk: only the largest k along the last dimension, "
                         "sorted, are supported", Tvw.Error.UNSUPPORTED)
        values, flat = Tvw.Tensor.topk(self, k)
        indices = [_Index(i) for i in flat]
        for size in reversed(self.shape[:-1]):
            width = len(indices) // size if size else 0
            indices = [indices[i * width:(i + 1) * width] for i in range(size)]
        return _TopK(values, indices)

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

_TopK = collections.namedtuple("topk", ("values", "indices"))


class Parameter:
    """What `model.parameters()` yields: a name and a shape (libtvw keeps the
    values packed for its kernels; they are not handed out)."""

    __slots__ = ("name", "shape")

    def __init__(self, name, shape):
        self.name = name
        self.shape = tuple(shape)

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def dim(self):
        return len(self.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def __repr__(self):
        return f"<Tvw.Parameter {self.name} {list(self.shape)}>"


__all__.append("Parameter")


class Model(Tvw.Model):
    """A model; call it on a batch like a torch.nn.Module."""

    @_converting
    def __call__(self, batch):
        return self.forward(batch, None)

    def eval(self):
        return self

    def named_parameters(self):
        """(name, Parameter) pairs, torchvision's parameter names (buffers left out)."""
        for name in self.list_parameters(False):
            yield name, Parameter(name, self.get_parameter_shape(name))

    def parameters(self):
        """`sum(p.numel() for p in model.parameters())` is the meta's num_params."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self):
        """BatchNorm's running statistics and counters."""
        params = set(self.list_parameters(False))
        for name in self.list_parameters(True):
            if name not in params:
                yield name, Parameter(name, self.get_parameter_shape(name))

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


# The modules of torchvision.models, by libtvw's task names.
_TASKS = ("classification", "quantization", "detection", "segmentation", "video", "optical_flow")
_NAMESPACES = {}


def _task_of_module(module):
    if module is None:
        return None
    task = getattr(module, "_tvw_task", None)
    if task is None and getattr(module, "__name__", None) in ("gi.repository.Tvw", "gi.overrides.Tvw"):
        task = "classification"
    if task is None:
        raise TypeError(f"list_models(module=…) takes Tvw or one of its namespaces "
                        f"(Tvw.quantization, Tvw.detection, …), not {module!r}; "
                        "name patterns go in include=…")
    return task


def list_models(module=None, include=None, exclude=None):
    """Every builder name of torchvision's catalog (the architectures libtvw
    cannot build yet included), like torchvision's list_models(): `module` is
    Tvw or a namespace (Tvw.quantization, Tvw.detection, …), `include` and
    `exclude` a glob or an iterable of globs."""
    task = _task_of_module(module)
    everything = [m for m in Tvw.list_catalog_models(None, None)
                  if task is None or Tvw.get_model_task(m) == task]
    if include:
        models = set()
        for pattern in _strv(include):
            models |= set(fnmatch.filter(everything, pattern))
    else:
        models = set(everything)
    if exclude:
        for pattern in _strv(exclude):
            models -= set(fnmatch.filter(everything, pattern))
    return sorted(models)


def list_catalog_models(include=None, exclude=None):
    """Every builder name of torchvision's catalog, built or not."""
    return Tvw.list_catalog_models(_strv(include), _strv(exclude))


def list_supported_models(include=None, exclude=None):
    """The builder names libtvw can build today (Tvw.list_models in C)."""
    return Tvw.list_models(_strv(include), _strv(exclude))


@_converting
def get_weight(name):
    """`Tvw.get_weight("ResNet50_Weights.DEFAULT")`; unknown names raise ValueError."""
    if not isinstance(name, str) or name.count(".") != 1:
        raise _error(InvalidArgumentError, f"Invalid weight name provided: '{name}'.")
    return Tvw.get_weight(name)


def get_weights_enum(name):
    """A weights enum by its name, e.g. `ResNet50_Weights` (libtvw's; what
    pickling an enum stores)."""
    enums = Tvw.get_weights_enums()
    for i in range(enums.get_n_items()):
        if enums.get_item(i).get_name() == name:
            return enums.get_item(i)
    raise _error(NotFoundError, f"Unknown weights enum '{name}'", Tvw.Error.NOT_FOUND)


def get_model_builder(name):
    """The builder function of a model name, e.g. `Tvw.quantization.resnet50`
    for `quantized_resnet50`; unknown names raise ValueError."""
    name = name.lower()
    builder = _BUILDER_FUNCTIONS.get(name)
    if builder is None:
        raise _error(NotFoundError, f"Unknown model {name}", Tvw.Error.NOT_FOUND)
    return builder


def get_model_weights(name):
    """The weights enum of a builder: its name, or its builder function."""
    if isinstance(name, str):
        name = get_model_builder(name).__tvw_builder__
    elif callable(name):
        builder = getattr(name, "__tvw_builder__", None)
        if builder is None:
            raise _error(InvalidArgumentError, "The method is missing the 'weights' argument.")
        name = builder
    return Tvw.get_model_weights(name)


def get_model(name, **config):
    """`Tvw.get_model("resnet50", weights="DEFAULT")`, like torchvision's get_model()."""
    return get_model_builder(name)(**config)


# Quantized builders whose quantize=False model is not the float family's:
# _replace_relu makes MobileNet V2's ReLU6s ReLUs.
_QUANTIZABLE_FLOAT_DIFFERS = {"quantized_mobilenet_v2"}

# Keywords that change nothing in an inference-only model: progress (libtvw
# shows no progress bar), what is trainable, and dropout rates (eval mode).
_NO_EFFECT = {"progress", "trainable_backbone_layers", "dropout", "attention_dropout", "dropout_aux",
              "stochastic_depth_prob"}


def _sequence_to_str(seq, separate_last=""):
    if not seq:
        return ""
    if len(seq) == 1:
        return f"'{seq[0]}'"
    head = "'" + "', '".join(str(item) for item in seq[:-1]) + "'"
    tail = f"{'' if separate_last and len(seq) == 2 else ','} {separate_last}'{seq[-1]}'"
    return head + tail


def _legacy_default(builder, pretrained_param, kwargs):
    """What torchvision's handle_legacy_interface maps `pretrained=True` to."""
    if pretrained_param == "pretrained_backbone":
        return Tvw.get_legacy_weights(builder, True)
    w = Tvw.get_legacy_weights(builder, False)
    if w is not None and Tvw.get_model_task(builder) == "quantization" and not kwargs.get("quantize", False):
        return w.meta.get("unquantized")
    return w


def _handle_legacy(name, builder, kwargs):
    """torchvision 0.14's handle_legacy_interface, warnings word for word."""
    pairs = [("weights", "pretrained")]
    if "weights_backbone" in _KEYWORDS[_BUILDERS[builder][1]]:
        pairs.append(("weights_backbone", "pretrained_backbone"))
    sentinel = object()
    for weights_param, pretrained_param in pairs:
        weights_arg = kwargs.get(weights_param, sentinel)
        if ((weights_param not in kwargs and pretrained_param not in kwargs)
                or isinstance(weights_arg, Tvw.Weights)
                or (isinstance(weights_arg, str) and weights_arg != "legacy")
                or weights_arg is None):
            continue
        pretrained_positional = weights_arg is not sentinel
        if pretrained_positional:
            kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
        else:
            pretrained_arg = kwargs[pretrained_param]

        if pretrained_arg:
            default = _legacy_default(builder, pretrained_param, kwargs)
            if default is None:
                raise _error(InvalidArgumentError, f"No weights available for model {name}")
        else:
            default = None

        if not pretrained_positional:
            warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                          f"the future, please use '{weights_param}' instead.", UserWarning, stacklevel=3)
        msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 and "
               f"may be removed in the future. "
               f"The current behavior is equivalent to passing `{weights_param}={default}`.")
        if pretrained_arg:
            msg = (f"{msg} You can also use `{weights_param}={default.get_enum().get_name()}.DEFAULT` "
                   f"to get the most up-to-date weights.")
        warnings.warn(msg, UserWarning, stacklevel=3)
        del kwargs[pretrained_param]
        kwargs[weights_param] = default


def _verify(builder, weights):
    """torchvision's `Enum.verify(weights)`, for this builder's enum or any
    entry a weights card added for the same builder."""
    enum_ = Tvw.get_model_weights(builder)
    if weights is None:
        return None
    if type(weights) is str:
        if "." in weights and not weights.startswith(enum_.get_name() + "."):
            w = get_weight(weights)
        else:
            return enum_.verify(weights)
    else:
        w = weights
    if not isinstance(w, Tvw.Weights):
        return enum_.verify(w)
    if w.get_builder() != builder:
        raise _error(WeightsTypeError, "Invalid Weight class provided; expected "
                     f"{enum_.get_name()} but received {w.get_enum().get_name()}.")
    return w


def _build(name, builder, kwargs):
    keywords = _KEYWORDS[_BUILDERS[builder][1]]
    for key in kwargs:
        if key not in keywords:
            raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")

    architecture = builder
    quantizable_float = False
    if Tvw.get_model_task(builder) == "quantization" and not kwargs.pop("quantize", False):
        # quantize=False (torchvision's default) builds the float model;
        # its weights are the float enum's.  That model is the float family's
        # network, except where _replace_relu changed it: then it is the
        # quantized builder's own float form.
        weights = _verify(builder[len("quantized_"):], kwargs.pop("weights", None))
        if builder in _QUANTIZABLE_FLOAT_DIFFERS:
            quantizable_float = True
        else:
            architecture = builder[len("quantized_"):]
    else:
        kwargs.pop("quantize", None)
        weights = _verify(builder, kwargs.pop("weights", None))

    if not Tvw.is_model_supported(architecture):
        raise _error(UnsupportedError, f"The architecture of {architecture} is not implemented by libtvw yet"
                     f" ({name}() cannot build it)", Tvw.Error.UNSUPPORTED)

    num_classes = kwargs.pop("num_classes", None)
    if weights is not None and num_classes is not None:
        expected = len(weights.meta.get("categories") or ()) or weights.get_num_classes()
        if num_classes != expected:
            raise _error(InvalidArgumentError, f"The parameter 'num_classes' expected value {expected} "
                         f"but got {num_classes} instead.")
        num_classes = None

    # torchvision's default weights_backbone (ImageNet weights) is loaded
    # when weights=None: not something libtvw can do yet.
    backbone = kwargs.pop("weights_backbone", keywords.get("weights_backbone"))
    if weights is None and backbone is not None:
        raise _error(UnsupportedError, f"libtvw cannot load only a backbone's weights into {name}() yet: "
                     f"pass weights_backbone=None (random backbone parameters) or whole-model weights",
                     Tvw.Error.UNSUPPORTED)

    options = {}
    for key, value in kwargs.items():
        default = keywords[key]
        if key in _NO_EFFECT or (default is not _NOT_LITERAL and value == default and type(value) is type(default)):
            continue
        try:
            options[key] = _to_variant(key, value)
        except TypeError:
            raise _error(UnsupportedError, f"libtvw cannot apply {name}({key}={value!r}) yet",
                         Tvw.Error.UNSUPPORTED) from None

    if quantizable_float:
        options["quantize"] = GLib.Variant("b", False)
    if num_classes is None and not options:
        return Tvw.get_model(architecture, weights.get_full_name() if weights is not None else None, None)
    properties = {"architecture": architecture, "weights": weights}
    if num_classes is not None:
        properties["num_classes"] = num_classes
    if options:
        properties["options"] = GLib.Variant("a{sv}", options)
    model = Model(**properties)
    try:
        model.init(None)
    except GLib.Error as e:
        if options and "unexpected keyword argument" in e.message:
            raise _error(UnsupportedError, f"libtvw cannot apply "
                         f"{name}({', '.join(f'{k}={kwargs[k]!r}' for k in options)}) yet: "
                         f"only the default values of these keywords are supported ({e.message})",
                         Tvw.Error.UNSUPPORTED) from None
        raise
    return model


def _make_builder(builder, name):
    kwonly = _BUILDERS[builder][0]

    @_converting
    def build(*args, **kwargs):
        if args:
            if len(args) > len(kwonly):
                raise TypeError(f"{name}() takes {len(kwonly)} positional arguments but {len(args)} were given")
            positional = dict(zip(kwonly, args))
            for key in positional:
                if key in kwargs:
                    raise TypeError(f"{name}() got multiple values for argument '{key}'")
            warnings.warn(f"Using {_sequence_to_str(tuple(positional), separate_last='and ')} as positional "
                          f"parameter(s) is deprecated since 0.13 and may be removed in the future. Please use "
                          f"keyword parameter(s) instead.", UserWarning, stacklevel=2)
            kwargs.update(positional)
        _handle_legacy(name, builder, kwargs)
        return _build(name, builder, kwargs)

    build.__name__ = name
    build.__qualname__ = name
    build.__tvw_builder__ = builder
    build.__doc__ = (f"Builds {builder}, like torchvision's {name}(weights=…). "
                     f"Its weights are Tvw.{Tvw.get_model_weights(builder).get_name()}.")
    return build


@_converting
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
        namespace = _NAMESPACES.get(Tvw.get_model_task(e.get_builder()))
        if namespace is not None:
            setattr(namespace, name, e)


for _name in ("list_models", "list_catalog_models", "list_supported_models", "get_weight", "get_weights_enum",
              "get_model_builder", "get_model_weights", "get_model", "register_weights_from_file"):
    __all__.append(_name)

# }}}
# {{{ Builders and namespaces

# NOT_LITERAL marks a default that is no plain value (a norm_layer class, …).
_NOT_LITERAL = object()

# BEGIN GENERATED BUILDERS (build-aux/gen-python-builders.py)
_KEYWORDS = [{'weights': None, 'progress': True, 'num_classes': 1000, 'dropout': 0.5},
 {'weights': None,
  'progress': True,
  'layer_scale': 1e-06,
  'num_classes': 1000,
  'block': None,
  'norm_layer': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'aux_loss': None,
  'weights_backbone': 'MobileNet_V3_Large_Weights.IMAGENET1K_V1'},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'aux_loss': None,
  'weights_backbone': 'ResNet101_Weights.IMAGENET1K_V1'},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'aux_loss': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1'},
 {'weights': None,
  'progress': True,
  'bn_size': 4,
  'drop_rate': 0,
  'num_classes': 1000,
  'memory_efficient': False},
 {'weights': None, 'progress': True, 'stochastic_depth_prob': 0.2, 'num_classes': 1000, 'norm_layer': None},
 {'weights': None, 'progress': True, 'stochastic_depth_prob': 0.2, 'num_classes': 1000},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'MobileNet_V3_Large_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'image_mean': None,
  'image_std': None,
  'rpn_head': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'box_roi_pool': None,
  'box_head': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'MobileNet_V3_Large_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_head': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'box_roi_pool': None,
  'box_head': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_anchor_generator': None,
  'rpn_head': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'rpn_score_thresh': 0.0,
  'box_roi_pool': None,
  'box_head': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': None,
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'rpn_score_thresh': 0.0,
  'box_roi_pool': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'anchor_generator': None,
  'head': None,
  'center_sampling_radius': 1.5,
  'score_thresh': 0.2,
  'nms_thresh': 0.6,
  'detections_per_img': 100,
  'topk_candidates': 1000},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'aux_logits': True,
  'transform_input': False,
  'init_weights': None,
  'blocks': None,
  'dropout': 0.2,
  'dropout_aux': 0.7},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'aux_logits': True,
  'transform_input': False,
  'inception_blocks': None,
  'init_weights': None,
  'dropout': 0.5},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'num_keypoints': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': None,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_anchor_generator': None,
  'rpn_head': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'rpn_score_thresh': 0.0,
  'box_roi_pool': None,
  'box_head': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None,
  'keypoint_roi_pool': None,
  'keypoint_head': None,
  'keypoint_predictor': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'MobileNet_V3_Large_Weights.IMAGENET1K_V1',
  'inter_channels': 128},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_anchor_generator': None,
  'rpn_head': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'rpn_score_thresh': 0.0,
  'box_roi_pool': None,
  'box_head': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None,
  'mask_roi_pool': None,
  'mask_head': None,
  'mask_predictor': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': None,
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'rpn_pre_nms_top_n_train': 2000,
  'rpn_pre_nms_top_n_test': 1000,
  'rpn_post_nms_top_n_train': 2000,
  'rpn_post_nms_top_n_test': 1000,
  'rpn_nms_thresh': 0.7,
  'rpn_fg_iou_thresh': 0.7,
  'rpn_bg_iou_thresh': 0.3,
  'rpn_batch_size_per_image': 256,
  'rpn_positive_fraction': 0.5,
  'rpn_score_thresh': 0.0,
  'box_roi_pool': None,
  'box_predictor': None,
  'box_score_thresh': 0.05,
  'box_nms_thresh': 0.5,
  'box_detections_per_img': 100,
  'box_fg_iou_thresh': 0.5,
  'box_bg_iou_thresh': 0.5,
  'box_batch_size_per_image': 512,
  'box_positive_fraction': 0.25,
  'bbox_reg_weights': None,
  'mask_roi_pool': None,
  'mask_predictor': None},
 {'weights': None,
  'progress': True,
  'norm_layer': None,
  'activation_layer': _NOT_LITERAL,
  'squeeze_ratio': 0.25,
  'expansion_ratio': 4,
  'mlp_ratio': 4,
  'mlp_dropout': 0.0,
  'attention_dropout': 0.0,
  'num_classes': 1000},
 {'weights': None, 'progress': True, 'num_classes': 400, 'zero_init_residual': False},
 {'weights': None, 'progress': True, 'num_classes': 1000, 'dropout': 0.2},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'width_mult': 1.0,
  'inverted_residual_setting': None,
  'round_nearest': 8,
  'block': None,
  'norm_layer': None,
  'dropout': 0.2},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'block': None,
  'norm_layer': None,
  'dropout': 0.2,
  'width_mult': 1.0,
  'reduced_tail': False,
  'dilated': False},
 {'weights': None,
  'progress': True,
  'dropout': 0.5,
  'attention_dropout': 0.0,
  'num_classes': 400,
  'block': None,
  'norm_layer': None,
  'patch_embed_kernel': (3, 7, 7),
  'patch_embed_stride': (2, 4, 4),
  'patch_embed_padding': (1, 3, 3)},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'aux_logits': True,
  'transform_input': False,
  'init_weights': None,
  'dropout': 0.2,
  'dropout_aux': 0.7},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'aux_logits': True,
  'transform_input': False,
  'init_weights': None,
  'dropout': 0.5},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'width_mult': 1.0,
  'inverted_residual_setting': None,
  'round_nearest': 8,
  'norm_layer': None,
  'dropout': 0.2},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'norm_layer': None,
  'dropout': 0.2},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'zero_init_residual': False,
  'groups': 1,
  'width_per_group': 64,
  'replace_stride_with_dilation': None,
  'norm_layer': None},
 {'weights': None,
  'progress': True,
  'quantize': False,
  'num_classes': 1000,
  'zero_init_residual': False,
  'replace_stride_with_dilation': None,
  'norm_layer': None},
 {'weights': None, 'progress': True, 'quantize': False, 'num_classes': 1000},
 {'weights': None, 'progress': True},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'stem_width': 32,
  'stem_type': None,
  'block_type': None,
  'activation': None},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'zero_init_residual': False,
  'groups': 1,
  'width_per_group': 64,
  'replace_stride_with_dilation': None,
  'norm_layer': None},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'zero_init_residual': False,
  'replace_stride_with_dilation': None,
  'norm_layer': None},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'ResNet50_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'anchor_generator': None,
  'head': None,
  'proposal_matcher': None,
  'score_thresh': 0.05,
  'nms_thresh': 0.5,
  'detections_per_img': 300,
  'fg_iou_thresh': 0.5,
  'bg_iou_thresh': 0.4,
  'topk_candidates': 1000},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': None,
  'trainable_backbone_layers': None,
  'min_size': 800,
  'max_size': 1333,
  'image_mean': None,
  'image_std': None,
  'proposal_matcher': None,
  'score_thresh': 0.05,
  'nms_thresh': 0.5,
  'detections_per_img': 300,
  'fg_iou_thresh': 0.5,
  'bg_iou_thresh': 0.4,
  'topk_candidates': 1000},
 {'weights': None, 'progress': True, 'num_classes': 400, 'dropout': 0.2, 'norm_layer': None},
 {'weights': None, 'progress': True, 'num_classes': 1000, 'inverted_residual': _NOT_LITERAL},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'VGG16_Weights.IMAGENET1K_FEATURES',
  'trainable_backbone_layers': None,
  'head': None,
  'score_thresh': 0.01,
  'nms_thresh': 0.45,
  'detections_per_img': 200,
  'iou_thresh': 0.5,
  'topk_candidates': 400,
  'positive_fraction': 0.25},
 {'weights': None,
  'progress': True,
  'num_classes': None,
  'weights_backbone': 'MobileNet_V3_Large_Weights.IMAGENET1K_V1',
  'trainable_backbone_layers': None,
  'norm_layer': None,
  'iou_thresh': 0.5,
  'positive_fraction': 0.25},
 {'weights': None,
  'progress': True,
  'mlp_ratio': 4.0,
  'dropout': 0.0,
  'attention_dropout': 0.0,
  'num_classes': 1000,
  'norm_layer': None,
  'block': None,
  'downsample_layer': _NOT_LITERAL},
 {'weights': None,
  'progress': True,
  'mlp_ratio': 4.0,
  'dropout': 0.0,
  'attention_dropout': 0.0,
  'num_classes': 1000,
  'norm_layer': None},
 {'weights': None, 'progress': True, 'num_classes': 1000, 'init_weights': True, 'dropout': 0.5},
 {'weights': None,
  'progress': True,
  'dropout': 0.0,
  'attention_dropout': 0.0,
  'num_classes': 1000,
  'representation_size': None,
  'norm_layer': _NOT_LITERAL,
  'conv_stem_configs': None},
 {'weights': None,
  'progress': True,
  'num_classes': 1000,
  'zero_init_residual': False,
  'groups': 1,
  'replace_stride_with_dilation': None,
  'norm_layer': None}]
_BUILDERS = {'alexnet': (('weights', 'progress'), 0),
 'convnext_base': (('weights', 'progress'), 1),
 'convnext_large': (('weights', 'progress'), 1),
 'convnext_small': (('weights', 'progress'), 1),
 'convnext_tiny': (('weights', 'progress'), 1),
 'deeplabv3_mobilenet_v3_large': (('weights', 'progress', 'num_classes', 'aux_loss', 'weights_backbone'), 2),
 'deeplabv3_resnet101': (('weights', 'progress', 'num_classes', 'aux_loss', 'weights_backbone'), 3),
 'deeplabv3_resnet50': (('weights', 'progress', 'num_classes', 'aux_loss', 'weights_backbone'), 4),
 'densenet121': (('weights', 'progress'), 5),
 'densenet161': (('weights', 'progress'), 5),
 'densenet169': (('weights', 'progress'), 5),
 'densenet201': (('weights', 'progress'), 5),
 'efficientnet_b0': (('weights', 'progress'), 6),
 'efficientnet_b1': (('weights', 'progress'), 6),
 'efficientnet_b2': (('weights', 'progress'), 6),
 'efficientnet_b3': (('weights', 'progress'), 6),
 'efficientnet_b4': (('weights', 'progress'), 6),
 'efficientnet_b5': (('weights', 'progress'), 7),
 'efficientnet_b6': (('weights', 'progress'), 7),
 'efficientnet_b7': (('weights', 'progress'), 7),
 'efficientnet_v2_l': (('weights', 'progress'), 7),
 'efficientnet_v2_m': (('weights', 'progress'), 7),
 'efficientnet_v2_s': (('weights', 'progress'), 7),
 'fasterrcnn_mobilenet_v3_large_320_fpn': (('weights',
                                            'progress',
                                            'num_classes',
                                            'weights_backbone',
                                            'trainable_backbone_layers'),
                                           8),
 'fasterrcnn_mobilenet_v3_large_fpn': (('weights',
                                        'progress',
                                        'num_classes',
                                        'weights_backbone',
                                        'trainable_backbone_layers'),
                                       9),
 'fasterrcnn_resnet50_fpn': (('weights',
                              'progress',
                              'num_classes',
                              'weights_backbone',
                              'trainable_backbone_layers'),
                             10),
 'fasterrcnn_resnet50_fpn_v2': (('weights',
                                 'progress',
                                 'num_classes',
                                 'weights_backbone',
                                 'trainable_backbone_layers'),
                                11),
 'fcn_resnet101': (('weights', 'progress', 'num_classes', 'aux_loss', 'weights_backbone'), 3),
 'fcn_resnet50': (('weights', 'progress', 'num_classes', 'aux_loss', 'weights_backbone'), 4),
 'fcos_resnet50_fpn': (('weights',
                        'progress',
                        'num_classes',
                        'weights_backbone',
                        'trainable_backbone_layers'),
                       12),
 'googlenet': (('weights', 'progress'), 13),
 'inception_v3': (('weights', 'progress'), 14),
 'keypointrcnn_resnet50_fpn': (('weights',
                                'progress',
                                'num_classes',
                                'num_keypoints',
                                'weights_backbone',
                                'trainable_backbone_layers'),
                               15),
 'lraspp_mobilenet_v3_large': (('weights', 'progress', 'num_classes', 'weights_backbone'), 16),
 'maskrcnn_resnet50_fpn': (('weights',
                            'progress',
                            'num_classes',
                            'weights_backbone',
                            'trainable_backbone_layers'),
                           17),
 'maskrcnn_resnet50_fpn_v2': (('weights',
                               'progress',
                               'num_classes',
                               'weights_backbone',
                               'trainable_backbone_layers'),
                              18),
 'maxvit_t': (('weights', 'progress'), 19),
 'mc3_18': (('weights', 'progress'), 20),
 'mnasnet0_5': (('weights', 'progress'), 21),
 'mnasnet0_75': (('weights', 'progress'), 21),
 'mnasnet1_0': (('weights', 'progress'), 21),
 'mnasnet1_3': (('weights', 'progress'), 21),
 'mobilenet_v2': (('weights', 'progress'), 22),
 'mobilenet_v3_large': (('weights', 'progress'), 23),
 'mobilenet_v3_small': (('weights', 'progress'), 23),
 'mvit_v1_b': (('weights', 'progress'), 24),
 'mvit_v2_s': (('weights', 'progress'), 24),
 'quantized_googlenet': (('weights', 'progress', 'quantize'), 25),
 'quantized_inception_v3': (('weights', 'progress', 'quantize'), 26),
 'quantized_mobilenet_v2': (('weights', 'progress', 'quantize'), 27),
 'quantized_mobilenet_v3_large': (('weights', 'progress', 'quantize'), 28),
 'quantized_resnet18': (('weights', 'progress', 'quantize'), 29),
 'quantized_resnet50': (('weights', 'progress', 'quantize'), 29),
 'quantized_resnext101_32x8d': (('weights', 'progress', 'quantize'), 30),
 'quantized_resnext101_64x4d': (('weights', 'progress', 'quantize'), 30),
 'quantized_shufflenet_v2_x0_5': (('weights', 'progress', 'quantize'), 31),
 'quantized_shufflenet_v2_x1_0': (('weights', 'progress', 'quantize'), 31),
 'quantized_shufflenet_v2_x1_5': (('weights', 'progress', 'quantize'), 31),
 'quantized_shufflenet_v2_x2_0': (('weights', 'progress', 'quantize'), 31),
 'r2plus1d_18': (('weights', 'progress'), 20),
 'r3d_18': (('weights', 'progress'), 20),
 'raft_large': (('weights', 'progress'), 32),
 'raft_small': (('weights', 'progress'), 32),
 'regnet_x_16gf': (('weights', 'progress'), 33),
 'regnet_x_1_6gf': (('weights', 'progress'), 33),
 'regnet_x_32gf': (('weights', 'progress'), 33),
 'regnet_x_3_2gf': (('weights', 'progress'), 33),
 'regnet_x_400mf': (('weights', 'progress'), 33),
 'regnet_x_800mf': (('weights', 'progress'), 33),
 'regnet_x_8gf': (('weights', 'progress'), 33),
 'regnet_y_128gf': (('weights', 'progress'), 33),
 'regnet_y_16gf': (('weights', 'progress'), 33),
 'regnet_y_1_6gf': (('weights', 'progress'), 33),
 'regnet_y_32gf': (('weights', 'progress'), 33),
 'regnet_y_3_2gf': (('weights', 'progress'), 33),
 'regnet_y_400mf': (('weights', 'progress'), 33),
 'regnet_y_800mf': (('weights', 'progress'), 33),
 'regnet_y_8gf': (('weights', 'progress'), 33),
 'resnet101': (('weights', 'progress'), 34),
 'resnet152': (('weights', 'progress'), 34),
 'resnet18': (('weights', 'progress'), 34),
 'resnet34': (('weights', 'progress'), 34),
 'resnet50': (('weights', 'progress'), 34),
 'resnext101_32x8d': (('weights', 'progress'), 35),
 'resnext101_64x4d': (('weights', 'progress'), 35),
 'resnext50_32x4d': (('weights', 'progress'), 35),
 'retinanet_resnet50_fpn': (('weights',
                             'progress',
                             'num_classes',
                             'weights_backbone',
                             'trainable_backbone_layers'),
                            36),
 'retinanet_resnet50_fpn_v2': (('weights',
                                'progress',
                                'num_classes',
                                'weights_backbone',
                                'trainable_backbone_layers'),
                               37),
 's3d': (('weights', 'progress'), 38),
 'shufflenet_v2_x0_5': (('weights', 'progress'), 39),
 'shufflenet_v2_x1_0': (('weights', 'progress'), 39),
 'shufflenet_v2_x1_5': (('weights', 'progress'), 39),
 'shufflenet_v2_x2_0': (('weights', 'progress'), 39),
 'squeezenet1_0': (('weights', 'progress'), 0),
 'squeezenet1_1': (('weights', 'progress'), 0),
 'ssd300_vgg16': (('weights', 'progress', 'num_classes', 'weights_backbone', 'trainable_backbone_layers'),
                  40),
 'ssdlite320_mobilenet_v3_large': (('weights',
                                    'progress',
                                    'num_classes',
                                    'weights_backbone',
                                    'trainable_backbone_layers',
                                    'norm_layer'),
                                   41),
 'swin_b': (('weights', 'progress'), 42),
 'swin_s': (('weights', 'progress'), 42),
 'swin_t': (('weights', 'progress'), 42),
 'swin_v2_b': (('weights', 'progress'), 43),
 'swin_v2_s': (('weights', 'progress'), 43),
 'swin_v2_t': (('weights', 'progress'), 43),
 'vgg11': (('weights', 'progress'), 44),
 'vgg11_bn': (('weights', 'progress'), 44),
 'vgg13': (('weights', 'progress'), 44),
 'vgg13_bn': (('weights', 'progress'), 44),
 'vgg16': (('weights', 'progress'), 44),
 'vgg16_bn': (('weights', 'progress'), 44),
 'vgg19': (('weights', 'progress'), 44),
 'vgg19_bn': (('weights', 'progress'), 44),
 'vit_b_16': (('weights', 'progress'), 45),
 'vit_b_32': (('weights', 'progress'), 45),
 'vit_h_14': (('weights', 'progress'), 45),
 'vit_l_16': (('weights', 'progress'), 45),
 'vit_l_32': (('weights', 'progress'), 45),
 'wide_resnet101_2': (('weights', 'progress'), 46),
 'wide_resnet50_2': (('weights', 'progress'), 46)}
# END GENERATED BUILDERS

# Tvw has torchvision.models' builders (classification), and one namespace
# per sub-module with that module's builders (quantized_resnet50 is
# Tvw.quantization.resnet50) and weights enums.
_BUILDER_FUNCTIONS = {}

for _task in _TASKS[1:]:
    _NAMESPACES[_task] = types.ModuleType(f"{_MODULE_KEY}.{_task}",
                                          f"torchvision.models.{_task} through libtvw")
    _NAMESPACES[_task]._tvw_task = _task
    globals()[_task] = _NAMESPACES[_task]
    __all__.append(_task)

for _builder in Tvw.list_catalog_models(None, None):
    _task = Tvw.get_model_task(_builder)
    _public = _builder[len("quantized_"):] if _task == "quantization" else _builder
    _fn = _make_builder(_builder, _public)
    _BUILDER_FUNCTIONS[_builder] = _fn
    if _task == "classification":
        _fn.__module__ = _MODULE_KEY
        globals()[_public] = _fn
        __all__.append(_public)
    else:
        _fn.__module__ = _NAMESPACES[_task].__name__
        setattr(_NAMESPACES[_task], _public, _fn)

_export_enums()

# }}}
