/* tvw-registry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tvw-architectures-private.h"
#include "tvw-error.h"
#include "tvw-registry-impl-private.h"
#include "tvw-registry-private.h"
#include "tvw-hash-private.h"
#include "tvw-json-private.h"
#include "tvw-transform-private.h"
#include "tvw-weights-private.h"

/* The registry: torchvision's catalog (built-in, from the GResource that
 * build-aux/gen-catalog.py writes) plus the entries of weights cards.
 *
 * It is built once, on first use, and then only grows.  Builders and the
 * shared string lists never change after that; the enum table and the enums'
 * entries grow when cards are registered, under `lock` (and each enum's own
 * lock).  Signals are emitted without holding the lock.
 */

/* {{{ Private API */

const char *
tvw_registry_legacy_weights (const char *builder,
                             gboolean    backbone)
{
  Registry *reg = tvw_registry_get ();
  Builder *b;

  g_return_val_if_fail (builder != NULL, NULL);

  b = g_hash_table_lookup (reg->builders, builder);
  if (b == NULL)
    return NULL;

  return backbone ? b->legacy_backbone : b->legacy_pretrained;
}

/* }}} */
/* {{{ Public API */

static Builder *
lookup_builder (Registry    *reg,
                const char  *name,
                GError     **error)
{
  Builder *b = g_hash_table_lookup (reg->builders, name);
  g_autofree char *hint = NULL;

  if (b != NULL)
    return b;

  hint = tvw_registry_suggest (name, (const char * const *)reg->builder_names->pdata,
                               reg->builder_names->len);
  g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
               _("Unknown model “%s”%s"), name, hint ? hint : "");

  return NULL;
}

static char **
filter_models (const char * const *include,
               const char * const *exclude,
               gboolean            implemented_only)
{
  Registry *reg = tvw_registry_get ();
  g_autoptr(GStrvBuilder) result = g_strv_builder_new ();
  gboolean any_include = include != NULL && include[0] != NULL;

  /* torchvision's list_models: the union of the include patterns (all
   * models if there are none) minus every exclude pattern, sorted. */
  for (guint i = 0; i < reg->builder_names->len; i++)
    {
      const char *name = g_ptr_array_index (reg->builder_names, i);
      gboolean keep = !any_include;

      for (guint j = 0; any_include && include[j] != NULL && !keep; j++)
        keep = fnmatch (include[j], name, 0) == 0;
      for (guint j = 0; keep && exclude != NULL && exclude[j] != NULL; j++)
        keep = fnmatch (exclude[j], name, 0) != 0;
      if (keep && implemented_only)
        keep = tvw_architecture_is_implemented (name);

      if (keep)
        g_strv_builder_add (result, name);
    }

  return g_strv_builder_end (result);
}

/**
 * tvw_list_models:
 * @include: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to list, or %NULL for all
 * @exclude: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to leave out, or %NULL
 *
 * Lists the model builders libtvw can build, like torchvision's
 * `list_models(include=…, exclude=…)`: the models matching any of @include
 * (every model if it is %NULL or empty), minus those matching any of
 * @exclude, sorted. Patterns are shell globs as `fnmatch` reads them.
 *
 * Builders of torchvision whose architecture libtvw does not implement yet
 * are left out; [func@list_catalog_models] lists them too.
 *
 * Returns: (transfer full) (array zero-terminated=1): the builder names
 */
char **
tvw_list_models (const char * const *include,
                 const char * const *exclude)
{
  return filter_models (include, exclude, TRUE);
}

/**
 * tvw_list_catalog_models:
 * @include: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to list, or %NULL for all
 * @exclude: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to leave out, or %NULL
 *
 * Lists every model builder of torchvision's catalog, whether libtvw
 * implements its architecture or not (see [func@is_model_supported]). The
 * patterns work as in [func@list_models].
 *
 * Returns: (transfer full) (array zero-terminated=1): the builder names
 */
char **
tvw_list_catalog_models (const char * const *include,
                         const char * const *exclude)
{
  return filter_models (include, exclude, FALSE);
}

/**
 * tvw_is_model_supported:
 * @name: a builder name, e.g. `resnet50`
 *
 * Checks whether @name is a model of the catalog whose architecture libtvw
 * implements, so that [func@get_model] can build it.
 *
 * Returns: %TRUE if the model can be built
 */
gboolean
tvw_is_model_supported (const char *name)
{
  Registry *reg = tvw_registry_get ();

  g_return_val_if_fail (name != NULL, FALSE);

  return g_hash_table_contains (reg->builders, name) && tvw_architecture_is_implemented (name);
}

/**
 * tvw_get_model_task:
 * @name: a builder name, e.g. `resnet50`
 * @error: return location for a #GError
 *
 * Gets the task of a model builder, which is also the torchvision module
 * that defines it: `classification` (`torchvision.models`),
 * `quantization`, `detection`, `segmentation`, `video` or `optical_flow`
 * (`torchvision.models.quantization`, …). Unknown names are
 * %TVW_ERROR_NOT_FOUND, with the closest model names suggested.
 *
 * Returns: (transfer none): the task, or %NULL with @error set
 */
const char *
tvw_get_model_task (const char  *name,
                    GError     **error)
{
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);

  b = lookup_builder (tvw_registry_get (), name, error);
  return b ? b->task : NULL;
}

/**
 * tvw_get_model_weights:
 * @name: a builder name, e.g. `resnet50`
 * @error: return location for a #GError
 *
 * Gets the weights enum of a model builder, like torchvision's
 * `get_model_weights("resnet50")`. Unknown names are %TVW_ERROR_NOT_FOUND,
 * with the closest model names suggested. Models libtvw cannot build yet
 * have their enum too.
 *
 * Returns: (transfer none): the enum, e.g. `ResNet50_Weights`, or %NULL with
 *   @error set
 */
TvwWeightsEnum *
tvw_get_model_weights (const char  *name,
                       GError     **error)
{
  Registry *reg = tvw_registry_get ();
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  b = lookup_builder (reg, name, error);

  return b ? b->weights : NULL;
}

/**
 * tvw_get_weight:
 * @full_name: an enum and entry name, e.g. `ResNet50_Weights.IMAGENET1K_V2`
 *   or `ResNet50_Weights.DEFAULT`
 * @error: return location for a #GError
 *
 * Gets a weights entry by its full name, like torchvision's `get_weight()`.
 * Unknown names are %TVW_ERROR_NOT_FOUND, with the closest names suggested.
 *
 * Returns: (transfer none): the entry, or %NULL with @error set
 */
TvwWeights *
tvw_get_weight (const char  *full_name,
                GError     **error)
{
  Registry *reg = tvw_registry_get ();
  g_autofree char *enum_name = NULL;
  g_autoptr(TvwWeightsEnum) weights_enum = NULL;
  const char *dot;

  g_return_val_if_fail (full_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  dot = strrchr (full_name, '.');
  if (dot == NULL)
    {
      Builder *b = g_hash_table_lookup (reg->builders, full_name);

      if (b != NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("“%s” is a model, not a weights entry; did you mean %s.DEFAULT?"),
                     full_name, tvw_weights_enum_get_name (b->weights));
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("“%s” is not a weights name such as ResNet50_Weights.IMAGENET1K_V2"),
                     full_name);
      return NULL;
    }

  enum_name = g_strndup (full_name, dot - full_name);

  g_mutex_lock (&reg->lock);
  weights_enum = g_hash_table_lookup (reg->enums, enum_name);
  if (weights_enum != NULL)
    g_object_ref (weights_enum);
  g_mutex_unlock (&reg->lock);

  if (weights_enum == NULL)
    {
      g_autofree char *hint = NULL;
      g_autofree const char **names = NULL;
      guint n;

      g_mutex_lock (&reg->lock);
      names = (const char **)g_hash_table_get_keys_as_array (reg->enums, &n);
      hint = tvw_registry_suggest (enum_name, names, n);
      g_mutex_unlock (&reg->lock);

      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   _("Unknown weights enum “%s”%s"), enum_name, hint ? hint : "");
      return NULL;
    }

  return tvw_weights_enum_lookup (weights_enum, dot + 1, error);
}

/**
 * tvw_get_weights_enums:
 *
 * Gets every weights enum: torchvision's, in catalog order, then those
 * weights cards created, in the order they were registered. The list grows
 * when a card creates an enum.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@WeightsEnum]
 */
GListModel *
tvw_get_weights_enums (void)
{
  return G_LIST_MODEL (tvw_registry_get ()->enum_list);
}

/**
 * tvw_get_legacy_weights:
 * @name: a builder name, e.g. `resnet50`
 * @backbone: %FALSE for `pretrained=True`, %TRUE for
 *   `pretrained_backbone=True`
 *
 * Gets the entry torchvision's deprecated `pretrained=True` (or
 * `pretrained_backbone=True`) stands for with this builder:
 * `ResNet50_Weights.IMAGENET1K_V1` for `resnet50`, the FBGEMM or QNNPACK
 * entry for quantized builders, the backbone's ImageNet entry for detection
 * and segmentation backbones.
 *
 * Returns: (transfer none) (nullable): the entry, or %NULL if the builder
 *   has no such legacy parameter
 */
TvwWeights *
tvw_get_legacy_weights (const char *name,
                        gboolean    backbone)
{
  const char *full_name;

  g_return_val_if_fail (name != NULL, NULL);

  full_name = tvw_registry_legacy_weights (name, backbone);
  if (full_name == NULL)
    return NULL;

  return tvw_get_weight (full_name, NULL);
}

/**
 * tvw_get_model:
 * @name: a builder name, e.g. `resnet50`
 * @weights: (nullable): %NULL for random weights, `DEFAULT`, an entry name
 *   of the model's enum (`IMAGENET1K_V2`) or a full name
 *   (`ResNet50_Weights.IMAGENET1K_V2`, which may also name an entry a
 *   weights card added for this builder)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Builds a model, like torchvision's `get_model("resnet50",
 * weights="DEFAULT")`, downloading and loading its weights if asked to.
 *
 * Unknown models and entries are %TVW_ERROR_NOT_FOUND (with the closest
 * names suggested), weights of another model %TVW_ERROR_INVALID_ARGUMENT,
 * and a model of the catalog whose architecture libtvw does not implement
 * %TVW_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 */
TvwModel *
tvw_get_model (const char    *name,
               const char    *weights,
               GCancellable  *cancellable,
               GError       **error)
{
  Registry *reg = tvw_registry_get ();
  TvwWeights *w = NULL;
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  b = lookup_builder (reg, name, error);
  if (b == NULL)
    return NULL;

  if (weights != NULL && strchr (weights, '.') != NULL)
    {
      w = tvw_get_weight (weights, error);
      if (w == NULL)
        return NULL;
      if (!g_str_equal (tvw_weights_get_builder (w), name))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("%s are weights for %s, not for %s"),
                       tvw_weights_get_full_name (w), tvw_weights_get_builder (w), name);
          return NULL;
        }
    }
  else if (weights != NULL)
    {
      w = tvw_weights_enum_lookup (b->weights, weights, error);
      if (w == NULL)
        return NULL;
    }

  if (!tvw_architecture_is_implemented (name))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   _("The architecture of %s is not implemented by libtvw yet"), name);
      return NULL;
    }

  return g_initable_new (TVW_TYPE_MODEL, cancellable, error,
                         "architecture", name,
                         "weights", w,
                         NULL);
}

/**
 * tvw_register_weights_from_file:
 * @card: a weights card, a JSON file
 * @error: return location for a #GError
 *
 * Registers the weights entries of a weights card, so that they can be used
 * like built-in ones: [func@get_weight], [func@get_model], the enum's
 * [iface@Gio.ListModel]. A card can create an enum or add entries to an
 * existing one (built-in or not), but never replace an entry or change the
 * `DEFAULT` of an enum that has one.
 *
 * Cards (files ending in `.json`) in `tvw/weights/` under
 * `$XDG_DATA_HOME` and each of `$XDG_DATA_DIRS` are registered
 * automatically the first time the registry is used. The format is described in the README.
 *
 * A malformed card is %TVW_ERROR_INVALID_DATA naming the card and the field;
 * a card is registered whole or not at all.
 *
 * [signal@Gio.ListModel::items-changed] is emitted in the calling thread, so
 * register cards from the thread that uses the list models (usually the
 * main thread).
 *
 * Returns: %TRUE if the entries were registered
 */
gboolean
tvw_register_weights_from_file (GFile   *card,
                                GError **error)
{
  g_return_val_if_fail (G_IS_FILE (card), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return tvw_registry_register_card (tvw_registry_get (), FALSE, card, error);
}

/* }}} */

/* A number of a meta dictionary, whatever its JSON form became. */
static gboolean
variant_get_number (GVariant *v,
                    double   *out)
{
  if (v == NULL)
    return FALSE;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (v);
  else
    return FALSE;
  return isfinite (*out) && *out >= 0;
}

gboolean
tvw_registry_download_limits (const char  *url,
                              char       **sha256,
                              goffset     *max_size)
{
  Registry *reg = tvw_registry_get ();
  gboolean found = FALSE, sized = FALSE;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (url != NULL && sha256 != NULL && max_size != NULL, FALSE);

  g_mutex_lock (&reg->lock);
  g_hash_table_iter_init (&iter, reg->enums);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GListModel *entries = value;

      for (guint i = 0; i < g_list_model_get_n_items (entries); i++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (entries, i);
          g_autoptr(GVariant) num_params = NULL;
          g_autoptr(GVariant) file_size = NULL;
          double n;

          if (g_strcmp0 (tvw_weights_get_url (w), url) != 0)
            continue;
          found = TRUE;
          if (*sha256 == NULL && tvw_weights_get_sha256 (w) != NULL)
            *sha256 = g_strdup (tvw_weights_get_sha256 (w));
          if (sized || tvw_weights_get_meta (w) == NULL)
            continue;
          file_size = g_variant_lookup_value (tvw_weights_get_meta (w), "_file_size", NULL);
          num_params = g_variant_lookup_value (tvw_weights_get_meta (w), "num_params", NULL);
          /* torchvision's _file_size is in MiB, rounded. */
          if (variant_get_number (file_size, &n) && n < 1e9)
            *max_size = (goffset) (n * TVW_REGISTRY_FILE_SIZE_FACTOR * (1 << 20)) + (1 << 20);
          else if (variant_get_number (num_params, &n) && n < 1e15)
            *max_size = (goffset) (n * TVW_REGISTRY_BYTES_PER_PARAM) + TVW_REGISTRY_SIZE_SLACK;
          else
            continue;
          sized = TRUE;
        }
    }
  g_mutex_unlock (&reg->lock);
  return found;
}
