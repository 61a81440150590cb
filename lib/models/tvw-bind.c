/* tvw-bind.c — checkpoints into networks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-bind-private.h"

static char *
shape_to_string (guint         n_dims,
                 const gint64 *shape)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < n_dims; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');

  return g_string_free (s, FALSE);
}

gboolean
tvw_bind_checkpoint (TvwNet         *net,
                     TvwCheckpoint  *ckpt,
                     gboolean        strict,
                     GError        **error)
{
  const char *file = tvw_checkpoint_get_display_name (ckpt);
  guint n_tensors = tvw_checkpoint_get_n_tensors (ckpt);
  guint n_params = tvw_net_get_n_params (net);
  g_autofree const float **found = g_new0 (const float *, MAX (n_params, 1));

  const TvwCkptTensor *first_quantized = NULL;
  gboolean net_quantized = FALSE;

  /* A quantized checkpoint for a float model or the reverse would only
   * show as unexpected and missing keys: say what it is. */
  for (guint i = 0; i < n_tensors && first_quantized == NULL; i++)
    if (tvw_checkpoint_get_tensor (ckpt, i)->quantized)
      first_quantized = tvw_checkpoint_get_tensor (ckpt, i);
  for (guint i = 0; i < n_params && !net_quantized; i++)
    net_quantized = tvw_net_param_is_quantized (net, i);
  if (first_quantized != NULL && !net_quantized)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "“%s” is a quantized checkpoint (“%s” is a quantized tensor): it needs "
                   "a quantized_* model built with quantize=True", file, first_quantized->name);
      return FALSE;
    }
  if (first_quantized == NULL && net_quantized && n_tensors > 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "“%s” holds no quantized tensor: a quantized model (quantize=True) needs "
                   "a quantized checkpoint; build it with quantize=False for float weights",
                   file);
      return FALSE;
    }

  /* Check everything first, so that a failed bind changes nothing. */
  if (strict)
    for (guint i = 0; i < n_tensors; i++)
      {
        const TvwCkptTensor *t = tvw_checkpoint_get_tensor (ckpt, i);

        if (!tvw_net_has_param (net, t->name))
          {
            g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                         "Unexpected key “%s” in “%s”", t->name, file);
            return FALSE;
          }
      }

  for (guint i = 0; i < n_params; i++)
    {
      guint n_dims;
      const gint64 *shape;
      gboolean optional, is_float;
      const char *name = tvw_net_get_param_info (net, i, &n_dims, &shape, &optional, &is_float);
      const TvwCkptTensor *t = tvw_checkpoint_lookup (ckpt, name);

      if (t == NULL)
        {
          if (strict && !optional)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                           "Missing key “%s” in “%s”", name, file);
              return FALSE;
            }
          continue;
        }

      if (t->n_dims != n_dims || memcmp (t->shape, shape, n_dims * sizeof (gint64)) != 0)
        {
          g_autofree char *want = shape_to_string (n_dims, shape);
          g_autofree char *have = shape_to_string (t->n_dims, t->shape);

          g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                       "Key “%s” in “%s” has shape %s, the model expects %s",
                       name, file, have, want);
          return FALSE;
        }

      /* A quantized checkpoint for a float model, or the reverse. */
      if (t->quantized != tvw_net_param_is_quantized (net, i))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                       t->quantized ?
                       "Key “%s” in “%s” is a quantized tensor: the file is a quantized "
                       "checkpoint, for a quantized_* model built with quantize=True" :
                       "Key “%s” in “%s” is not quantized: a quantized model "
                       "(quantize=True) needs a quantized checkpoint",
                       name, file);
          return FALSE;
        }

      if (!is_float)
        continue;

      found[i] = tvw_checkpoint_get_float (ckpt, t, error);
      if (found[i] == NULL)
        return FALSE;
    }

  for (guint i = 0; i < n_params; i++)
    if (found[i] != NULL)
      tvw_net_set_param_data (net, i, found[i]);

  return TRUE;
}
