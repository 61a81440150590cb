/* fuzz-npy.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The command line's .npy reader (cli/tvw-npy.c, tvw forward --input).
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include "fuzz-common.h"
#include "tvw-npy.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup (TRUE);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) tensor = tvw_npy_load (fuzz_memfd_path (data, size), &error);
  const gint64 *shape;
  const float *values;
  gsize n = 1;
  guint n_dims;
  volatile float sink = 0;

  if (tensor == NULL)
    {
      fuzz_check_error (error);
      if (!g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_DATA) &&
          !g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT))
        {
          g_printerr ("unexpected error code %d: %s\n", error->code, error->message);
          abort ();
        }
      return 0;
    }

  shape = tvw_tensor_get_shape (tensor, &n_dims);
  fuzz_verbose ("loaded: %u dimensions", n_dims);
  for (guint d = 0; d < n_dims; d++)
    n *= (gsize) shape[d];
  if (n != tvw_tensor_get_n_elements (tensor) || n * sizeof (float) > size)
    abort ();
  values = tvw_tensor_get_data (tensor);
  for (gsize i = 0; i < n; i++)
    sink += values[i];
  (void) sink;
  return 0;
}
