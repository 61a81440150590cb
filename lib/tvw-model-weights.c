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

/* Checks a card's sha256 once per file and process: the key is the path,
 * size and modification time, so a replaced file is checked again. */
static gboolean
check_sha256 (const char    *path,
              const char    *expected,
              GCancellable  *cancellable,
              GError       **error)
{
  static GMutex lock;
  static GHashTable *verified;
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *key = NULL;
  g_autofree guint8 *buffer = g_malloc (1 << 20);
  gssize n;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return FALSE;

  key = g_strdup_printf ("%s:%" G_GOFFSET_FORMAT ":%" G_GUINT64_FORMAT, path,
                         g_file_info_get_size (info),
                         g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED));

  g_mutex_lock (&lock);
  if (verified != NULL && g_hash_table_contains (verified, key))
    {
      g_mutex_unlock (&lock);
      return TRUE;
    }
  g_mutex_unlock (&lock);

  in = g_file_read (file, cancellable, error);
  if (in == NULL)
    return FALSE;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buffer, 1 << 20, cancellable, error)) > 0)
    g_checksum_update (checksum, buffer, n);
  if (n < 0)
    return FALSE;

  if (g_ascii_strcasecmp (g_checksum_get_string (checksum), expected) != 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH,
                   "“%s” has the SHA-256 %s, its weights card expects %s",
                   path, g_checksum_get_string (checksum), expected);
      return FALSE;
    }

  g_mutex_lock (&lock);
  if (verified == NULL)
    verified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (verified, g_steal_pointer (&key));
  g_mutex_unlock (&lock);

  return TRUE;
}

char *
tvw_model_fetch_weights (TvwWeights    *weights,
                         GCancellable  *cancellable,
                         GError       **error)
{
  const char *local = tvw_weights_get_local_file (weights);
  const char *sha256 = tvw_weights_get_sha256 (weights);
  g_autofree char *path = NULL;

  if (local != NULL)
    path = g_strdup (local);
  else
    path = tvw_cache_fetch (tvw_weights_get_url (weights), NULL, NULL, cancellable, error);

  if (path == NULL)
    return NULL;

  if (sha256 != NULL && !check_sha256 (path, sha256, cancellable, error))
    return NULL;

  return g_steal_pointer (&path);
}
