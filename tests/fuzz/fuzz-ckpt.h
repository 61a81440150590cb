/* fuzz-ckpt.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the checkpoint harnesses do with an input once they have built it:
 * open it from memory, and for a file that loads, look every tensor up and
 * read every element of the small ones (ASan checks that views stay
 * inside the file).
 */

#pragma once

#include "fuzz-common.h"
#include "tvw-checkpoint-private.h"

/* Converting a tensor allocates 4 bytes per element: a 64-byte file may
 * describe a broadcast view of 2^36 elements, which is valid but not worth
 * materialising a few thousand times a second. */
#define FUZZ_CKPT_MAX_CONVERT (1 << 20)

static inline void
fuzz_checkpoint (const uint8_t *data,
                 size_t         size)
{
  /* An exact-size copy, so that any read past the end is caught. */
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, "fuzz.pth", &error);
  guint i;

  if (ckpt == NULL)
    {
      fuzz_check_error (error);
      if (!g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_DATA) &&
          !g_error_matches (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED))
        {
          g_printerr ("unexpected error code %d: %s\n", error->code, error->message);
          abort ();
        }
      if (strstr (error->message, "fuzz.pth") == NULL)
        {
          g_printerr ("the message does not name the file: %s\n", error->message);
          abort ();
        }
      return;
    }

  fuzz_verbose ("loaded: %u tensors", tvw_checkpoint_get_n_tensors (ckpt));
  for (i = 0; i < tvw_checkpoint_get_n_tensors (ckpt); i++)
    {
      const TvwCkptTensor *t = tvw_checkpoint_get_tensor (ckpt, i);
      g_autoptr(GError) local_error = NULL;
      const float *values;
      gint64 n = 1;
      volatile float sink = 0;

      if (tvw_checkpoint_lookup (ckpt, t->name) != t || t->n_dims > TVW_CKPT_MAX_DIMS)
        abort ();
      for (guint d = 0; d < t->n_dims; d++)
        {
          if (t->shape[d] < 0)
            abort ();
          n *= t->shape[d];
        }
      if (n != t->n_elements)
        abort ();
      if (t->n_elements > FUZZ_CKPT_MAX_CONVERT)
        continue;

      values = tvw_checkpoint_get_float (ckpt, t, &local_error);
      if (values == NULL)
        abort ();
      for (gint64 k = 0; k < t->n_elements; k++)
        sink += values[k];
      (void) sink;
    }
}
