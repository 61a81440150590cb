/* tvw-architectures.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw-architectures-private.h"
#include "tvw-error.h"

static const TvwArchitecture *families[] = {
  tvw_resnet_architectures,
  tvw_regnet_architectures,
  tvw_efficientnet_architectures,
  tvw_mobilenet_architectures,
  tvw_video_architectures,
  tvw_raft_architectures,
  tvw_segmentation_architectures,
  tvw_quantized_architectures,
  tvw_vit_architectures,
  tvw_swin_architectures,
  tvw_maxvit_architectures,
  tvw_googlenet_architectures,
  tvw_inception_architectures,
  tvw_mnasnet_architectures,
  tvw_shufflenet_architectures,
  tvw_convnext_architectures,
  tvw_alexnet_vgg_architectures,
  tvw_squeezenet_architectures,
  tvw_densenet_architectures,
  tvw_mvit_architectures,
  tvw_retinanet_architectures,
  tvw_ssd_architectures,
  tvw_rcnn_architectures,
};

const TvwArchitecture *
tvw_architecture_lookup (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (gsize f = 0; f < G_N_ELEMENTS (families); f++)
    for (const TvwArchitecture *a = families[f]; a->name != NULL; a++)
      if (strcmp (a->name, name) == 0)
        return a;

  return NULL;
}

gboolean
tvw_architecture_is_implemented (const char *name)
{
  return tvw_architecture_lookup (name) != NULL;
}

gboolean
tvw_architecture_check_options (const TvwArchitecture *arch,
                                GVariant              *options,
                                GError               **error)
{
  GVariantIter iter;
  const char *key;

  if (options == NULL)
    return TRUE;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, NULL))
    if (arch->options == NULL || !g_strv_contains ((const char * const *) arch->options, key))
      {
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     "%s got an unexpected keyword argument “%s”", arch->name, key);
        return FALSE;
      }

  return TRUE;
}

/* Numbers come as any GVariant number type: Python and JSON give int64 or
 * double where C code may give int32. */
static GVariant *
lookup_option (const TvwBuildConfig *config,
               const char           *key)
{
  return config->options != NULL ? g_variant_dict_lookup_value (config->options, key, NULL) : NULL;
}

static gboolean
option_number (const TvwBuildConfig *config,
               const char           *key,
               double               *out)
{
  g_autoptr(GVariant) v = lookup_option (config, key);

  if (v == NULL)
    return FALSE;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    *out = (double) g_variant_get_int64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (v);
  else
    return FALSE;
  return TRUE;
}

gint64
tvw_build_config_get_int (const TvwBuildConfig *config,
                          const char           *key,
                          gint64                fallback)
{
  double v;

  return option_number (config, key, &v) ? (gint64) v : fallback;
}

double
tvw_build_config_get_double (const TvwBuildConfig *config,
                             const char           *key,
                             double                fallback)
{
  double v;

  return option_number (config, key, &v) ? v : fallback;
}

gboolean
tvw_build_config_get_boolean (const TvwBuildConfig *config,
                              const char           *key,
                              gboolean              fallback)
{
  g_autoptr(GVariant) v = lookup_option (config, key);

  if (v != NULL && g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN))
    return g_variant_get_boolean (v);
  return fallback;
}

gboolean
tvw_build_config_check_no_backbone_weights (const TvwBuildConfig  *config,
                                            const TvwArchitecture *arch,
                                            GError               **error)
{
  g_autoptr(GVariant) v = lookup_option (config, "weights_backbone");

  /* Only None (an empty maybe, or no value) is meaningful here: a backbone
   * checkpoint would be overwritten by any full one, and random weights
   * are what weights=None, weights_backbone=None gives. */
  if (v != NULL && !(g_variant_is_of_type (v, G_VARIANT_TYPE_MAYBE) && g_variant_n_children (v) == 0))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "weights_backbone: loading a backbone's weights alone is not supported; "
                   "load a whole checkpoint of %s instead", arch->name);
      return FALSE;
    }

  return TRUE;
}
