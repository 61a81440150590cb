/* tvw-model-weights.c — where a model's weights come from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The deprecated pretrained flags, and finding (or downloading) the
 * checkpoint of a weights entry.
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-model-private.h"
#include "tvw-registry-private.h"
#include "tvw-cache-private.h"

gboolean
tvw_model_architecture_known (const char *name)
{
  g_auto(GStrv) all = tvw_list_catalog_models (NULL, NULL);

  return g_strv_contains ((const char * const *) all, name);
}

gboolean
tvw_model_resolve_legacy (TvwModel    *self,
                          TvwWeights **weights,
                          GError     **error)
{
  g_autofree char *architecture = NULL;
  gboolean pretrained, pretrained_backbone;
  const char *full_name;
  TvwWeights *legacy;

  g_object_get (self,
                "architecture", &architecture,
                "pretrained", &pretrained,
                "pretrained-backbone", &pretrained_backbone,
                NULL);

  if (!pretrained && !pretrained_backbone)
    return TRUE;

  if (architecture == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The parameter 'pretrained' needs an architecture");
      return FALSE;
    }

  if (*weights != NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Use either 'weights' or the deprecated 'pretrained', not both");
      return FALSE;
    }

  /* torchvision's handle_legacy_interface: the full model's weights for
   * pretrained, the backbone's for pretrained_backbone alone. */
  g_warning ("The parameter '%s' is deprecated, please use '%s' instead.",
             pretrained ? "pretrained" : "pretrained_backbone",
             pretrained ? "weights" : "weights_backbone");

  full_name = tvw_registry_legacy_weights (architecture, !pretrained);
  if (full_name == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   "%s has no legacy weights for '%s'", architecture,
                   pretrained ? "pretrained" : "pretrained_backbone");
      return FALSE;
    }

  {
    g_autofree char *enum_name = g_strndup (full_name, strchr (full_name, '.') - full_name);

    g_warning ("Arguments other than a weight enum or `None` for '%s' are deprecated. "
               "The current behavior is equivalent to passing `%s=%s`. "
               "You can also use `%s=%s.DEFAULT` to get the most up-to-date weights.",
               pretrained ? "weights" : "weights_backbone",
               pretrained ? "weights" : "weights_backbone", full_name,
               pretrained ? "weights" : "weights_backbone", enum_name);
  }

  if (!pretrained)
    {
      /* Backbone weights only make sense for detection and segmentation
       * models, whose architectures libtvw does not implement yet. */
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "Loading backbone weights (%s) into %s is not supported yet",
                   full_name, architecture);
      return FALSE;
    }

  legacy = tvw_get_weight (full_name, error);
  if (legacy == NULL)
    return FALSE;

  *weights = g_object_ref (legacy);
  return TRUE;
}

char *
tvw_model_fetch_weights (TvwWeights    *weights,
                         GCancellable  *cancellable,
                         GError       **error)
{
  const char *local = tvw_weights_get_local_file (weights);

  if (local != NULL)
    return g_strdup (local);

  return tvw_cache_fetch (tvw_weights_get_url (weights), NULL, NULL, cancellable, error);
}
