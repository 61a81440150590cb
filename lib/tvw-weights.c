/* tvw-weights.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-cache-private.h"

#include <glib/gi18n-lib.h>

#include "tvw-error.h"
#include "tvw-transform-private.h"
#include "tvw-weights-private.h"

/**
 * TvwWeights:
 *
 * One pretrained weights entry: torchvision's `ResNet50_Weights.IMAGENET1K_V2`.
 *
 * A `TvwWeights` says where the checkpoint comes from
 * ([method@Weights.get_url]), how images must be prepared for it
 * ([method@Weights.transforms]) and everything torchvision records about it
 * ([method@Weights.get_meta]): categories, accuracy, number of parameters,
 * training recipe, …
 *
 * Entries are singletons owned by their [class@WeightsEnum]: looking the same
 * entry up twice, through [func@get_weight], [func@get_model_weights] or the
 * enum, gives the same object. They never change once they are registered.
 *
 * The built-in entries are the 162 of torchvision 0.14.1; applications can
 * add their own with [func@register_weights_from_file].
 */

struct _TvwWeights
{
  GObject parent_instance;

  TvwWeightsEnum *owner;      /* unowned: the enum owns its entries */
  char *name;
  char *full_name;
  char *url;
  char *local_file;
  char *sha256;
  char *preset;
  GVariant *kwargs;
  GVariant *meta;
  const char **categories;    /* points into meta */
  guint num_classes;
  guint is_default : 1;
  guint builtin : 1;
};

G_DEFINE_FINAL_TYPE (TvwWeights, tvw_weights, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_FULL_NAME,
  PROP_BUILDER,
  PROP_URL,
  PROP_IS_DEFAULT,
  PROP_PRESET,
  PROP_NUM_CLASSES,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
tvw_weights_finalize (GObject *object)
{
  TvwWeights *self = (TvwWeights *)object;

  g_free (self->name);
  g_free (self->full_name);
  g_free (self->url);
  g_free (self->local_file);
  g_free (self->sha256);
  g_free (self->preset);
  g_clear_pointer (&self->kwargs, g_variant_unref);
  g_free (self->categories);
  g_clear_pointer (&self->meta, g_variant_unref);

  G_OBJECT_CLASS (tvw_weights_parent_class)->finalize (object);
}

static void
tvw_weights_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TvwWeights *self = TVW_WEIGHTS (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_FULL_NAME:
      g_value_set_string (value, self->full_name);
      break;

    case PROP_BUILDER:
      g_value_set_string (value, tvw_weights_get_builder (self));
      break;

    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_IS_DEFAULT:
      g_value_set_boolean (value, self->is_default);
      break;

    case PROP_PRESET:
      g_value_set_string (value, self->preset);
      break;

    case PROP_NUM_CLASSES:
      g_value_set_uint (value, self->num_classes);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_weights_class_init (TvwWeightsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_weights_finalize;
  object_class->get_property = tvw_weights_get_property;

  /**
   * TvwWeights:name:
   *
   * The entry name, e.g. `IMAGENET1K_V2`.
   */
  props[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:full-name:
   *
   * The enum and entry name, e.g. `ResNet50_Weights.IMAGENET1K_V2`.
   */
  props[PROP_FULL_NAME] =
    g_param_spec_string ("full-name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:builder:
   *
   * The model builder these weights are for, e.g. `resnet50`.
   */
  props[PROP_BUILDER] =
    g_param_spec_string ("builder", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:url:
   *
   * Where the checkpoint is downloaded from, or %NULL for a card entry that
   * only has a local file.
   */
  props[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:is-default:
   *
   * Whether the enum's `DEFAULT` alias names this entry.
   */
  props[PROP_IS_DEFAULT] =
    g_param_spec_boolean ("is-default", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:preset:
   *
   * The name of torchvision's transforms preset, e.g. `ImageClassification`.
   */
  props[PROP_PRESET] =
    g_param_spec_string ("preset", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwWeights:num-classes:
   *
   * The number of categories the weights predict, 0 if they have none.
   */
  props[PROP_NUM_CLASSES] =
    g_param_spec_uint ("num-classes", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_weights_init (TvwWeights *self)
{
}

TvwWeights *
tvw_weights_new (TvwWeightsEnum       *owner,
                 const TvwWeightsInfo *info)
{
  TvwWeights *self;
  g_autoptr(GVariant) categories = NULL;

  g_return_val_if_fail (TVW_IS_WEIGHTS_ENUM (owner), NULL);
  g_return_val_if_fail (info != NULL, NULL);
  g_return_val_if_fail (info->name != NULL, NULL);
  g_return_val_if_fail (info->preset != NULL, NULL);
  g_return_val_if_fail (info->kwargs != NULL, NULL);
  g_return_val_if_fail (info->meta != NULL, NULL);

  self = g_object_new (TVW_TYPE_WEIGHTS, NULL);
  self->owner = owner;
  self->name = g_strdup (info->name);
  self->full_name = g_strdup_printf ("%s.%s", tvw_weights_enum_get_name (owner), info->name);
  self->url = g_strdup (info->url);
  self->local_file = g_strdup (info->local_file);
  self->sha256 = g_strdup (info->sha256);
  self->preset = g_strdup (info->preset);
  self->kwargs = g_variant_ref_sink (info->kwargs);
  self->meta = g_variant_ref_sink (info->meta);
  self->builtin = !!info->builtin;

  categories = g_variant_lookup_value (self->meta, "categories", G_VARIANT_TYPE_STRING_ARRAY);
  if (categories != NULL)
    {
      gsize n = 0;

      /* The strings stay inside self->meta, which outlives this array. */
      self->categories = g_variant_get_strv (categories, &n);
      self->num_classes = n;
    }
  else
    {
      self->num_classes = info->num_classes;
    }

  return self;
}

void
tvw_weights_set_default (TvwWeights *self,
                         gboolean    is_default)
{
  g_return_if_fail (TVW_IS_WEIGHTS (self));

  is_default = !!is_default;
  if (self->is_default == (guint)is_default)
    return;

  self->is_default = is_default;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_IS_DEFAULT]);
}

/**
 * tvw_weights_get_name:
 * @self: a weights entry
 *
 * Gets the entry name, e.g. `IMAGENET1K_V2`.
 *
 * Returns: the entry name
 */
const char *
tvw_weights_get_name (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->name;
}

/**
 * tvw_weights_get_full_name:
 * @self: a weights entry
 *
 * Gets the enum and entry name, e.g. `ResNet50_Weights.IMAGENET1K_V2`, as
 * torchvision prints the entry and [func@get_weight] accepts it.
 *
 * Returns: the full name
 */
const char *
tvw_weights_get_full_name (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->full_name;
}

/**
 * tvw_weights_get_enum:
 * @self: a weights entry
 *
 * Gets the enum the entry belongs to, e.g. `ResNet50_Weights`.
 *
 * Returns: (transfer none): the enum
 */
TvwWeightsEnum *
tvw_weights_get_enum (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->owner;
}

/**
 * tvw_weights_get_builder:
 * @self: a weights entry
 *
 * Gets the name of the model builder the weights are for, e.g. `resnet50`.
 *
 * Returns: the builder name
 */
const char *
tvw_weights_get_builder (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return tvw_weights_enum_get_builder (self->owner);
}

/**
 * tvw_weights_get_url:
 * @self: a weights entry
 *
 * Gets the URL the checkpoint is downloaded from.
 *
 * Returns: (nullable): the URL, or %NULL for a card entry that only has a
 *   local file
 */
const char *
tvw_weights_get_url (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->url;
}

/**
 * tvw_weights_get_local_file:
 * @self: a weights entry
 *
 * Gets the checkpoint file of an entry registered by a weights card with a
 * `"file"` field, or of weights embedded in libtvw.
 *
 * Returns: (nullable) (type filename): the absolute path of the checkpoint,
 *   a `resource://` URI for embedded weights (open it with
 *   g_file_new_for_commandline_arg()), or %NULL
 */
const char *
tvw_weights_get_local_file (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->local_file;
}

/**
 * tvw_weights_get_sha256:
 * @self: a weights entry
 *
 * Gets the SHA-256 checksum a weights card gave for the checkpoint. Built-in
 * entries have none: their URL's file name carries a hash prefix instead.
 *
 * Returns: (nullable): the checksum as 64 lower-case hexadecimal digits, or
 *   %NULL
 */
const char *
tvw_weights_get_sha256 (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->sha256;
}

/**
 * tvw_weights_is_default:
 * @self: a weights entry
 *
 * Checks whether the enum's `DEFAULT` alias names this entry.
 *
 * Returns: %TRUE for the default entry of its enum
 */
gboolean
tvw_weights_is_default (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), FALSE);

  return self->is_default;
}

/**
 * tvw_weights_is_builtin:
 * @self: a weights entry
 *
 * Checks whether the entry is one of torchvision's, rather than one
 * registered by a weights card.
 *
 * Returns: %TRUE for a built-in entry
 */
gboolean
tvw_weights_is_builtin (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), FALSE);

  return self->builtin;
}

/**
 * tvw_weights_get_meta:
 * @self: a weights entry
 *
 * Gets torchvision's `meta` dictionary of the entry as an `a{sv}`, with the
 * same keys, in the same order, and the same nesting.
 *
 * Values keep Python's types: `str` is `s`, `int` is `x`, `float` is `d`
 * (including NaN), `bool` is `b`, a list of strings is `as` (a list of
 * integers `ax`, of numbers `ad`, anything else `av`), a dict is `a{sv}`, a
 * tuple is a GVariant tuple (`min_size` is `(xx)`), `None` is a `mv` holding
 * nothing (`VGG16_Weights.IMAGENET1K_FEATURES` has `categories = None`), and
 * a weights enum member (the `unquantized` entry of quantized weights) is its
 * full name as a string, e.g. `ResNet50_Weights.IMAGENET1K_V1`.
 *
 * Returns: (transfer none): the meta dictionary
 */
GVariant *
tvw_weights_get_meta (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->meta;
}

/**
 * tvw_weights_lookup_meta:
 * @self: a weights entry
 * @key: a meta key, e.g. `num_params` or `_metrics`
 *
 * Looks one key of [method@Weights.get_meta] up.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if the meta has no
 *   such key
 */
GVariant *
tvw_weights_lookup_meta (TvwWeights *self,
                         const char *key)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return g_variant_lookup_value (self->meta, key, NULL);
}

/**
 * tvw_weights_get_categories:
 * @self: a weights entry
 *
 * Gets the category names, `meta["categories"]`, indexed like the model's
 * outputs.
 *
 * Returns: (transfer none) (array zero-terminated=1) (nullable): the
 *   categories, or %NULL if the entry has none
 */
const char * const *
tvw_weights_get_categories (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return (const char * const *)self->categories;
}

/**
 * tvw_weights_get_num_classes:
 * @self: a weights entry
 *
 * Gets the number of classes the weights predict: the number of categories,
 * or a card's `num_classes` when it lists none.
 *
 * Returns: the number of classes, 0 if unknown or not applicable
 */
guint
tvw_weights_get_num_classes (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), 0);

  return self->num_classes;
}

/**
 * tvw_weights_get_preset:
 * @self: a weights entry
 *
 * Gets the name of torchvision's inference preset for the entry:
 * `ImageClassification`, `SemanticSegmentation`, `VideoClassification`,
 * `ObjectDetection` or `OpticalFlow`.
 *
 * Returns: the preset name
 */
const char *
tvw_weights_get_preset (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->preset;
}

/**
 * tvw_weights_get_preset_kwargs:
 * @self: a weights entry
 *
 * Gets the keyword arguments torchvision's `partial(Preset, …)` passes for
 * this entry, as an `a{sv}` with torchvision's names: `crop_size` (`i`, or a
 * tuple of `i`), `resize_size` (`i` or a tuple of `i`), `interpolation`
 * (`s`: "nearest", "bilinear" or "bicubic"), `mean` and `std` (`ad`),
 * `antialias` (`b`). Only the arguments the entry sets are present; the
 * preset's defaults fill in the rest.
 *
 * Returns: (transfer none): the keyword arguments
 */
GVariant *
tvw_weights_get_preset_kwargs (TvwWeights *self)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  return self->kwargs;
}

/**
 * tvw_weights_transforms:
 * @self: a weights entry
 *
 * Builds the inference transforms of the entry, like torchvision's
 * `weights.transforms()`. Every call returns a new object.
 *
 * Returns: (transfer full): a new transform
 */
TvwTransform *
tvw_weights_transforms (TvwWeights *self)
{
  g_autoptr(GError) error = NULL;
  TvwTransform *transform;

  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  /* The registry built every entry's preset once when it registered it. */
  transform = tvw_transform_new_for_preset (self->preset, self->kwargs, &error);
  if (transform == NULL)
    g_critical ("Transforms of %s: %s", self->full_name, error->message);

  return transform;
}

/**
 * tvw_weights_transforms_with:
 * @self: a weights entry
 * @overrides: (nullable): an `a{sv}` of preset keyword arguments that replace
 *   the entry's, e.g. `{"crop_size": <400>, "resize_size": <400>}`
 * @error: return location for a #GError
 *
 * Builds the inference transforms of the entry with some of their parameters
 * changed, like torchvision's `weights.transforms(crop_size=400,
 * resize_size=400)`. The keys and types are those of
 * [method@Weights.get_preset_kwargs]; any integer type is accepted where `i`
 * is written. A key the preset does not take is
 * %TVW_ERROR_INVALID_ARGUMENT, as it is a `TypeError` in torchvision.
 *
 * Returns: (transfer full): a new transform, or %NULL with @error set
 */
TvwTransform *
tvw_weights_transforms_with (TvwWeights  *self,
                             GVariant    *overrides,
                             GError     **error)
{
  g_autoptr(GVariantDict) dict = NULL;
  g_autoptr(GVariant) kwargs = NULL;
  g_autoptr(GVariant) sunk = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);
  g_return_val_if_fail (overrides == NULL ||
                        g_variant_is_of_type (overrides, G_VARIANT_TYPE_VARDICT), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (overrides == NULL)
    return tvw_transform_new_for_preset (self->preset, self->kwargs, error);

  sunk = g_variant_ref_sink (overrides);
  dict = g_variant_dict_new (self->kwargs);
  g_variant_iter_init (&iter, sunk);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    g_variant_dict_insert_value (dict, key, value);
  kwargs = g_variant_ref_sink (g_variant_dict_end (dict));

  return tvw_transform_new_for_preset (self->preset, kwargs, error);
}

/**
 * tvw_weights_is_cached:
 * @self: a weights entry
 *
 * Whether the checkpoint is on this machine: a weights card's local file,
 * or a complete file in libtvw's or PyTorch's cache.  Never hashes the file
 * nor touches the network, so it is cheap to call for every entry.
 *
 * Returns: %TRUE if loading @self needs no download
 */
gboolean
tvw_weights_is_cached (TvwWeights *self)
{
  TvwCacheState state;

  g_return_val_if_fail (TVW_IS_WEIGHTS (self), FALSE);

  if (self->local_file != NULL)
    return g_str_has_prefix (self->local_file, "resource://") ||
           g_file_test (self->local_file, G_FILE_TEST_IS_REGULAR);
  if (self->url == NULL)
    return FALSE;

  state = tvw_cache_query (self->url, NULL);
  return state == TVW_CACHE_STATE_VERIFIED || state == TVW_CACHE_STATE_UNCHECKED ||
         state == TVW_CACHE_STATE_NO_HASH;
}

/**
 * tvw_weights_download:
 * @self: a weights entry
 * @progress: (scope call) (nullable): called as the download progresses
 * @progress_data: data for @progress
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Makes sure the checkpoint is on this machine, downloading it into the
 * cache if needed (see the cache's documentation for where files go, how
 * they are verified and `TVW_OFFLINE`).
 *
 * Returns: (transfer full) (type filename): the local path of the checkpoint
 */
char *
tvw_weights_download (TvwWeights       *self,
                      TvwProgressFunc   progress,
                      gpointer          progress_data,
                      GCancellable     *cancellable,
                      GError          **error)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);

  if (self->local_file != NULL)
    return g_strdup (self->local_file);

  return tvw_cache_fetch (self->url, progress, progress_data, cancellable, error);
}

static void
download_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *path = tvw_cache_fetch_finish (result, &error);

  if (path == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, path, g_free);
}

/**
 * tvw_weights_download_async:
 * @self: a weights entry
 * @progress: (scope notified) (nullable) (closure progress_data): called on
 *   the caller's main context as the download progresses
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data after the last call
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the file is ready
 * @user_data: data for @callback
 *
 * Asynchronous version of [method@Weights.download].
 */
void
tvw_weights_download_async (TvwWeights          *self,
                            TvwProgressFunc      progress,
                            gpointer             progress_data,
                            GDestroyNotify       progress_notify,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (TVW_IS_WEIGHTS (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_weights_download_async);

  if (self->local_file != NULL)
    {
      if (progress_notify != NULL)
        progress_notify (progress_data);
      g_task_return_pointer (task, g_strdup (self->local_file), g_free);
      return;
    }

  tvw_cache_fetch_async (self->url, progress, progress_data, progress_notify,
                         cancellable, download_cb, g_steal_pointer (&task));
}

/**
 * tvw_weights_download_finish:
 * @self: a weights entry
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full) (type filename): the local path of the
 *   checkpoint, or %NULL on error
 */
char *
tvw_weights_download_finish (TvwWeights    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
