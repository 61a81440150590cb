/* fuzz-image.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Image → tensor.  The first byte picks the entry point:
 *
 *  - 0x01: tvw_transform_apply_pixbuf() on a pixbuf made from the input
 *    (size, alpha, row padding, crop, resize and interpolation from the
 *    next bytes, then the pixels);
 *  - 0x02: tvw_transform_apply_tensor() on a uint8 or float32 tensor made
 *    the same way;
 *  - anything else: the whole input is an image file for
 *    tvw_transform_apply_file(): our 16-bit grayscale PNG decoder and
 *    truncation checks, and gdk-pixbuf's loaders behind them.
 *
 * Outputs must have the shape the transform promises and finite values.
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include <math.h>

#include "fuzz-common.h"
#include "tvw-transform.h"

static TvwTransform *file_transform;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* gdk-pixbuf's loaders may warn about odd files. */
  fuzz_setup (FALSE);
  /* Small sizes keep each input fast; the code paths are the same. */
  file_transform = g_object_new (TVW_TYPE_TRANSFORM,
                                 "preset", TVW_PRESET_IMAGE_CLASSIFICATION,
                                 "crop-size", 24, "resize-size", 28, NULL);
  return 0;
}

/* Reads parameter bytes, then hands out the rest cyclically as pixels. */
typedef struct
{
  const uint8_t *data;
  size_t         size;
  size_t         pos;
} Input;

static guint8
next_byte (Input *in)
{
  return in->pos < in->size ? in->data[in->pos++] : 0;
}

static void
fill (Input  *in,
      guint8 *out,
      gsize   n)
{
  gsize avail = in->size - MIN (in->pos, in->size);

  for (gsize i = 0; i < n; i++)
    out[i] = avail > 0 ? in->data[in->pos + i % avail] : (guint8) i;
}

static TvwTransform *
transform_from_input (Input *in)
{
  guint8 flags = next_byte (in);
  guint8 crop_h = next_byte (in) % 80, crop_w = next_byte (in) % 80;
  guint8 resize_a = next_byte (in) % 96, resize_b = next_byte (in) % 96;
  TvwTransform *transform;

  transform = g_object_new (TVW_TYPE_TRANSFORM,
                            "preset", TVW_PRESET_IMAGE_CLASSIFICATION,
                            "interpolation", (flags >> 1) % 3,
                            "antialias", (flags & 0x08) != 0,
                            NULL);
  if (flags & 0x10)
    g_object_set (transform, "crop-height", crop_h, "crop-width", crop_w, NULL);
  else
    g_object_set (transform, "crop-size", crop_h, NULL);
  if (flags & 0x20)
    g_object_set (transform, "resize-height", resize_a, "resize-width", resize_b, NULL);
  else
    g_object_set (transform, "resize-size", resize_a, NULL);
  return transform;
}

static void
check_output (TvwTensor *out,
              GError    *error)
{
  const float *values;
  gsize n;

  if (out == NULL)
    {
      fuzz_check_error (error);
      if (error->domain != TVW_ERROR)
        abort ();
      return;
    }
  if (tvw_tensor_get_dtype (out) != TVW_DTYPE_FLOAT32)
    abort ();
  fuzz_verbose ("transformed: %" G_GSIZE_FORMAT " values", tvw_tensor_get_n_elements (out));
  values = tvw_tensor_get_data (out);
  n = tvw_tensor_get_n_elements (out);
  for (gsize i = 0; i < n; i++)
    if (!isfinite (values[i]))
      {
        g_printerr ("element %" G_GSIZE_FORMAT " of the output is %g\n", i, values[i]);
        abort ();
      }
}

static void
free_pixels (guchar   *pixels,
             gpointer  data)
{
  g_free (pixels);
}

static void
fuzz_pixbuf (Input *in)
{
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(TvwTensor) out = NULL;
  g_autoptr(GError) error = NULL;
  int width = next_byte (in) % 128 + 1;
  int height = next_byte (in) % 128 + 1;
  guint8 layout = next_byte (in);
  gboolean alpha = layout & 1;
  int n_channels = alpha ? 4 : 3;
  int rowstride = width * n_channels + (layout >> 1) % 8;
  guint8 *pixels;

  transform = transform_from_input (in);
  pixels = g_malloc ((gsize) rowstride * height);
  fill (in, pixels, (gsize) rowstride * height);
  pixbuf = gdk_pixbuf_new_from_data (pixels, GDK_COLORSPACE_RGB, alpha, 8,
                                     width, height, rowstride, free_pixels, NULL);
  out = tvw_transform_apply_pixbuf (transform, pixbuf, &error);
  check_output (out, error);
}

static void
fuzz_tensor (Input *in)
{
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(TvwTensor) tensor = NULL;
  g_autoptr(TvwTensor) out = NULL;
  g_autoptr(GError) error = NULL;
  guint8 layout = next_byte (in);
  gboolean is_float = layout & 1;
  guint n_dims = (layout & 2) ? 4 : 3;
  gint64 shape[4];
  gsize n = 1, n_bytes;
  guint8 *data;

  for (guint d = 0; d < n_dims; d++)
    {
      shape[d] = next_byte (in) % (d + 2 < n_dims ? 5 : 64);
      n *= (gsize) shape[d];
    }
  transform = transform_from_input (in);

  n_bytes = n * (is_float ? sizeof (float) : 1);
  data = g_malloc (MAX (n_bytes, 1));
  fill (in, data, n_bytes);
  if (is_float)
    {
      float *f = (float *) data;

      /* Values in [0, 1], as documented; the bytes pick them. */
      for (gsize i = 0; i < n; i++)
        f[i] = (float) (data[i * 4] ^ data[i * 4 + 1]) / 255.0f;
    }
  {
    g_autoptr(GBytes) bytes = g_bytes_new_take (data, n_bytes);

    tensor = tvw_tensor_new_from_bytes (is_float ? TVW_DTYPE_FLOAT32 : TVW_DTYPE_UINT8,
                                        shape, n_dims, bytes, &error);
  }
  if (tensor == NULL)
    {
      check_output (NULL, error);
      return;
    }
  out = tvw_transform_apply_tensor (transform, tensor, &error);
  check_output (out, error);
}

static void
fuzz_file (const uint8_t *data,
           size_t         size)
{
  g_autoptr(GFile) file = g_file_new_for_path (fuzz_memfd_path (data, size));
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) out = tvw_transform_apply_file (file_transform, file, NULL, &error);

  if (out != NULL)
    {
      const gint64 *shape = tvw_tensor_get_shape (out, NULL);

      if (tvw_tensor_get_n_dims (out) != 3 || shape[0] != 3 || shape[1] != 24 || shape[2] != 24)
        abort ();
    }
  check_output (out, error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Input in = { data, size, 1 };

  if (size > 0 && data[0] == 0x01)
    fuzz_pixbuf (&in);
  else if (size > 0 && data[0] == 0x02)
    fuzz_tensor (&in);
  else
    fuzz_file (data, size);
  return 0;
}
