/* tvw-transform-apply.c — applying a transform: torchvision's PIL path for
 * images, its tensor path for tensors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-enums.h"
#include "tvw-error.h"
#include "tvw-image-private.h"
#include "tvw-resample-private.h"
#include "tvw-tensor-private.h"
#include "tvw-transform-impl-private.h"
#include "tvw-transform-private.h"

/* Geometry, as torchvision computes it. */

/* _compute_resized_output_size() */
static gboolean
resized_size (TvwTransform  *self,
              int            height,
              int            width,
              int           *out_height,
              int           *out_width,
              GError       **error)
{
  gint64 h, w;

  if (self->n_resize == 0)
    {
      *out_height = height;
      *out_width = width;
      return TRUE;
    }

  if (self->n_resize == 2)
    {
      h = self->resize[0];
      w = self->resize[1];
    }
  else
    {
      gint64 size = self->resize[0];
      gint64 shorter = MIN (width, height);
      gint64 longer = MAX (width, height);
      /* Python's int(size * long / short): an exact product, a correctly
       * rounded division, a truncation. */
      gint64 new_long = (gint64) ((double) (size * longer) / (double) shorter);

      if (width <= height)
        {
          w = size;
          h = new_long;
        }
      else
        {
          w = new_long;
          h = size;
        }
    }

  if (h < 1 || w < 1 || h > MAX_RESIZED_SIDE || w > MAX_RESIZED_SIDE)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Resizing a %d×%d image gives %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                   ", outside the sizes libtvw supports (1 to %d per side)",
                   width, height, w, h, MAX_RESIZED_SIDE);
      return FALSE;
    }

  *out_height = (int) h;
  *out_width = (int) w;
  return TRUE;
}

/* Python's round() of d / 2 for d >= 0: halves go to the even integer. */
static int
half_round_even (int d)
{
  int q = d / 2;

  if (d % 2 == 0)
    return q;
  return (q % 2 == 0) ? q : q + 1;
}

/* F.center_crop(): where the crop's first row and column fall in the
 * (unpadded) image; negative when torchvision pads. */
static void
center_crop_offset (int  image_size,
                    int  crop_size,
                    int *offset)
{
  int pad_before = 0, padded = image_size;

  if (crop_size > image_size)
    {
      pad_before = (crop_size - image_size) / 2;
      padded = image_size + pad_before + (crop_size - image_size + 1) / 2;
    }

  *offset = half_round_even (padded - crop_size) - pad_before;
}

typedef struct
{
  int resized_h, resized_w;   /* after F.resize */
  int out_h, out_w;           /* after F.center_crop */
  int top, left;              /* crop origin in the resized image */
} Geometry;

static gboolean
compute_geometry (TvwTransform  *self,
                  int            height,
                  int            width,
                  Geometry      *g,
                  GError       **error)
{
  if (!resized_size (self, height, width, &g->resized_h, &g->resized_w, error))
    return FALSE;

  if (self->n_crop > 0 && tvw_preset_has_crop (self->preset))
    {
      g->out_h = tvw_transform_crop_height (self);
      g->out_w = tvw_transform_crop_width (self);
      center_crop_offset (g->resized_h, g->out_h, &g->top);
      center_crop_offset (g->resized_w, g->out_w, &g->left);
    }
  else
    {
      g->out_h = g->resized_h;
      g->out_w = g->resized_w;
      g->top = g->left = 0;
    }

  if ((gint64) g->out_h * g->out_w > TVW_TRANSFORM_MAX_IMAGE_PIXELS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Preprocessing a %d×%d image gives %d×%d pixels, more than the %"
                   G_GINT64_FORMAT " libtvw produces",
                   width, height, g->out_w, g->out_h, TVW_TRANSFORM_MAX_IMAGE_PIXELS);
      return FALSE;
    }

  return TRUE;
}

/* The part of the crop that lies inside the resized image, in crop
 * coordinates (the rest is zero padding). */
static void
crop_window (const Geometry *g,
             int            *x0,
             int            *y0,
             int            *x1,
             int            *y1)
{
  *x0 = MAX (0, -g->left);
  *y0 = MAX (0, -g->top);
  *x1 = MIN (g->out_w, g->resized_w - g->left);
  *y1 = MIN (g->out_h, g->resized_h - g->top);
  if (*x1 < *x0)
    *x1 = *x0;
  if (*y1 < *y0)
    *y1 = *y0;
}

/* ------------------------------------------------------------------------ */
/* The PIL path: resize and crop 8-bit RGB, then rescale and normalize. */

/* Returns the out_h × out_w × 3 pixels torchvision hands to pil_to_tensor. */
static guint8 *
pil_resize_crop (TvwTransform  *self,
                 const guint8  *src,
                 int            width,
                 int            height,
                 gsize          stride,
                 guint          bpp,
                 Geometry      *g,
                 GError       **error)
{
  g_autofree guint8 *out = NULL;
  gsize out_stride;
  int x0, y0, x1, y1;

  if (!compute_geometry (self, height, width, g, error))
    return NULL;

  out_stride = (gsize) g->out_w * 3;
  out = g_malloc0 (MAX (out_stride * g->out_h, 1));
  crop_window (g, &x0, &y0, &x1, &y1);

  if (x1 > x0 && y1 > y0)
    {
      guint8 *dst = out + (gsize) y0 * out_stride + (gsize) x0 * 3;

      if (g->resized_w == width && g->resized_h == height)
        {
          /* F.resize returns the image itself when the size is unchanged. */
          for (int y = y0; y < y1; y++)
            {
              const guint8 *row = src + (gsize) (g->top + y) * stride;

              for (int x = x0; x < x1; x++)
                memcpy (out + (gsize) y * out_stride + (gsize) x * 3,
                        row + (gsize) (g->left + x) * bpp, 3);
            }
        }
      else
        {
          tvw_resample_pil_rgb8 (src, width, height, stride, bpp,
                                 g->resized_w, g->resized_h, self->interpolation,
                                 g->left + x0, g->top + y0, x1 - x0, y1 - y0,
                                 dst, out_stride);
        }
    }

  return g_steal_pointer (&out);
}

/* Gets the float32 mean and std that channel @c is normalized with
 * (OpticalFlow's are fixed); FALSE, with 0 and 1, when the preset only
 * rescales. */
static inline gboolean
channel_normalization (TvwTransform *self,
                       guint         c,
                       float        *mean,
                       float        *std)
{
  *mean = 0.0f;
  *std = 1.0f;

  if (!tvw_preset_has_normalize (self->preset))
    return FALSE;

  if (self->preset == TVW_PRESET_OPTICAL_FLOW)
    {
      *mean = 0.5f;
      *std = 0.5f;
    }
  else
    {
      *mean = (float) self->mean[self->n_mean == 1 ? 0 : c];
      *std = (float) self->std[self->n_std == 1 ? 0 : c];
    }
  return TRUE;
}

/* Per-channel lookup of convert_image_dtype + normalize for 8-bit values,
 * in float32 like torch: (v / 255 - mean) / std. */
static void
build_lut (TvwTransform *self,
           guint         n_channels,
           float        *lut)
{
  for (guint c = 0; c < n_channels; c++)
    {
      float mean, std;
      gboolean normalize = channel_normalization (self, c, &mean, &std);

      for (guint v = 0; v < 256; v++)
        {
          float x = (float) v / 255.0f;

          lut[c * 256 + v] = normalize ? (x - mean) / std : x;
        }
    }
}

static gboolean
check_channels (TvwTransform  *self,
                gint64         n_channels,
                GError       **error)
{
  if (self->preset == TVW_PRESET_OBJECT_DETECTION || self->preset == TVW_PRESET_OPTICAL_FLOW)
    return TRUE;

  if ((self->n_mean != 1 && self->n_mean != n_channels) ||
      (self->n_std != 1 && self->n_std != n_channels))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "The input has %" G_GINT64_FORMAT " channels but mean has %u values and std %u",
                   n_channels, self->n_mean, self->n_std);
      return FALSE;
    }
  return TRUE;
}

/* HWC 8-bit RGB → normalized float CHW. */
static TvwTensor *
rgb8_to_tensor (TvwTransform *self,
                const guint8 *pixels,
                int           height,
                int           width)
{
  const gsize n = (gsize) height * width;
  gint64 shape[3] = { 3, height, width };
  float lut[3 * 256];
  float *data;
  g_autoptr(GBytes) bytes = NULL;

  build_lut (self, 3, lut);

  data = g_malloc (MAX (n * 3 * sizeof (float), 1));
  for (gsize i = 0; i < n; i++)
    {
      data[i] = lut[pixels[i * 3 + 0]];
      data[n + i] = lut[256 + pixels[i * 3 + 1]];
      data[2 * n + i] = lut[512 + pixels[i * 3 + 2]];
    }

  bytes = g_bytes_new_take (data, n * 3 * sizeof (float));
  return tvw_tensor_new_take (TVW_DTYPE_FLOAT32, shape, 3, g_steal_pointer (&bytes));
}

/* ------------------------------------------------------------------------ */
/* The tensor path. */

static gboolean
check_antialias (TvwTransform  *self,
                 GError       **error)
{
  if (self->antialias && self->interpolation == TVW_INTERPOLATION_NEAREST)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Antialias option is supported for bilinear and bicubic interpolation modes only");
      return FALSE;
    }
  return TRUE;
}

/* F.resize + F.center_crop on @n_images images of @channels planes, given
 * as floats (from_uint8: values 0–255 that torchvision rounds back to 8
 * bits after resizing).  Returns n_images × channels × out_h × out_w. */
static float *
tensor_resize_crop (TvwTransform  *self,
                    const float   *in,
                    gsize          n_images,
                    int            channels,
                    int            height,
                    int            width,
                    gboolean       from_uint8,
                    Geometry      *g,
                    GError       **error)
{
  const gsize n_planes = n_images * channels;
  g_autofree float *resized = NULL;
  g_autofree float *out = NULL;
  const float *r;
  int x0, y0, x1, y1;

  if (!compute_geometry (self, height, width, g, error))
    return NULL;

  if (g->resized_h != height || g->resized_w != width)
    {
      gsize resized_n = n_planes * (gsize) g->resized_h * g->resized_w;

      if (!check_antialias (self, error))
        return NULL;
      if ((gint64) g->resized_h * g->resized_w > TVW_TRANSFORM_MAX_IMAGE_PIXELS)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "Resizing a %d×%d tensor to %d×%d gives more than the %"
                       G_GINT64_FORMAT " pixels libtvw produces",
                       width, height, g->resized_w, g->resized_h, TVW_TRANSFORM_MAX_IMAGE_PIXELS);
          return NULL;
        }

      resized = g_new (float, MAX (resized_n, 1));
      tvw_resample_torch_planes (in, height, width, resized, g->resized_h, g->resized_w,
                                 n_planes, self->interpolation, self->antialias);

      if (from_uint8)
        {
          /* _cast_squeeze_out(): bicubic is clamped, then round, to uint8. */
          for (gsize i = 0; i < resized_n; i++)
            {
              float v = resized[i];

              if (self->interpolation == TVW_INTERPOLATION_BICUBIC)
                v = CLAMP (v, 0.0f, 255.0f);
              v = nearbyintf (v);
              resized[i] = CLAMP (v, 0.0f, 255.0f);
            }
        }
      r = resized;
    }
  else
    {
      r = in;
    }

  if (g->out_h == g->resized_h && g->out_w == g->resized_w && g->top == 0 && g->left == 0)
    {
      if (r == resized)
        return g_steal_pointer (&resized);
      return g_memdup2 (in, MAX (n_planes * (gsize) height * width * sizeof (float), 1));
    }

  out = g_new0 (float, MAX (n_planes * (gsize) g->out_h * g->out_w, 1));
  crop_window (g, &x0, &y0, &x1, &y1);
  for (gsize p = 0; p < n_planes; p++)
    {
      const float *plane = r + p * (gsize) g->resized_h * g->resized_w;
      float *o = out + p * (gsize) g->out_h * g->out_w;

      for (int y = y0; y < y1; y++)
        memcpy (o + (gsize) y * g->out_w + x0,
                plane + (gsize) (g->top + y) * g->resized_w + g->left + x0,
                (gsize) (x1 - x0) * sizeof (float));
    }

  return g_steal_pointer (&out);
}

/* convert_image_dtype + normalize in place over n_images × channels planes. */
static void
normalize_planes (TvwTransform *self,
                  float        *data,
                  gsize         n_images,
                  int           channels,
                  gsize         plane_size,
                  gboolean      from_uint8)
{
  for (gsize i = 0; i < n_images; i++)
    for (int c = 0; c < channels; c++)
      {
        float *p = data + (i * channels + c) * plane_size;
        float mean, std;
        gboolean normalize = channel_normalization (self, c, &mean, &std);

        for (gsize k = 0; k < plane_size; k++)
          {
            float x = p[k];

            if (from_uint8)
              x = x / 255.0f;
            if (normalize)
              x = (x - mean) / std;
            p[k] = x;
          }
      }
}

/* ------------------------------------------------------------------------ */
/* Public entry points. */

static TvwTensor *
apply_tensor_internal (TvwTransform  *self,
                       TvwTensor     *input,
                       gboolean       round_to_uint8_only,
                       GError       **error)
{
  guint n_dims = tvw_tensor_get_n_dims (input);
  const gint64 *shape = tvw_tensor_get_shape (input, NULL);
  gboolean from_uint8 = tvw_tensor_get_dtype (input) == TVW_DTYPE_UINT8;
  gboolean video = self->preset == TVW_PRESET_VIDEO_CLASSIFICATION;
  gsize n_images;
  gint64 batch = 1, frames = 1, channels, height, width;
  g_autofree float *in = NULL;
  g_autofree float *out = NULL;
  Geometry g;
  gsize plane, total;
  g_autoptr(GBytes) bytes = NULL;

  if (video)
    {
      if (n_dims != 4 && n_dims != 5)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                       "VideoClassification expects (T, C, H, W) or (B, T, C, H, W) frames, got %u dimensions",
                       n_dims);
          return NULL;
        }
      if (n_dims == 5)
        batch = shape[0];
      frames = shape[n_dims - 4];
    }
  else if (n_dims == 4)
    {
      batch = shape[0];
    }
  else if (n_dims != 3)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "%s expects a (C, H, W) or (B, C, H, W) tensor, got %u dimensions",
                   tvw_preset_to_name (self->preset), n_dims);
      return NULL;
    }

  channels = shape[n_dims - 3];
  height = shape[n_dims - 2];
  width = shape[n_dims - 1];

  if (batch < 1 || frames < 1 || channels < 1 || height < 1 || width < 1 ||
      height > MAX_RESIZED_SIDE || width > MAX_RESIZED_SIDE)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH,
                   "Cannot preprocess an empty or oversized tensor (%" G_GINT64_FORMAT "×%"
                   G_GINT64_FORMAT "×%" G_GINT64_FORMAT ")", channels, height, width);
      return NULL;
    }
  if (!check_channels (self, channels, error))
    return NULL;

  n_images = (gsize) batch * frames;
  total = tvw_tensor_get_n_elements (input);

  if (from_uint8)
    {
      const guint8 *u = tvw_tensor_get_data_uint8 (input);

      in = g_new (float, MAX (total, 1));
      for (gsize i = 0; i < total; i++)
        in[i] = u[i];
    }

  out = tensor_resize_crop (self, from_uint8 ? in : tvw_tensor_get_data (input),
                            n_images, (int) channels, (int) height, (int) width,
                            from_uint8, &g, error);
  if (out == NULL)
    return NULL;

  plane = (gsize) g.out_h * g.out_w;
  if (!round_to_uint8_only)
    normalize_planes (self, out, n_images, (int) channels, plane, from_uint8);

  if (video)
    {
      /* (B, T, C, H, W) → (B, C, T, H, W) */
      g_autofree float *permuted = g_new (float, MAX (n_images * channels * plane, 1));
      gint64 out_shape[5] = { batch, channels, frames, g.out_h, g.out_w };

      for (gint64 b = 0; b < batch; b++)
        for (gint64 t = 0; t < frames; t++)
          for (gint64 c = 0; c < channels; c++)
            memcpy (permuted + (((b * channels + c) * frames + t) * plane),
                    out + (((b * frames + t) * channels + c) * plane),
                    plane * sizeof (float));

      bytes = g_bytes_new_take (g_steal_pointer (&permuted), n_images * channels * plane * sizeof (float));
      if (n_dims == 5)
        return tvw_tensor_new_take (TVW_DTYPE_FLOAT32, out_shape, 5, g_steal_pointer (&bytes));
      return tvw_tensor_new_take (TVW_DTYPE_FLOAT32, out_shape + 1, 4, g_steal_pointer (&bytes));
    }
  else
    {
      gint64 out_shape[4] = { batch, channels, g.out_h, g.out_w };

      bytes = g_bytes_new_take (g_steal_pointer (&out), n_images * channels * plane * sizeof (float));
      if (n_dims == 4)
        return tvw_tensor_new_take (TVW_DTYPE_FLOAT32, out_shape, 4, g_steal_pointer (&bytes));
      return tvw_tensor_new_take (TVW_DTYPE_FLOAT32, out_shape + 1, 3, g_steal_pointer (&bytes));
    }
}

/**
 * tvw_transform_apply_tensor:
 * @self: a transform
 * @input: a uint8 or float32 tensor: `(C, H, W)` or `(B, C, H, W)` images,
 *   or for VideoClassification `(T, C, H, W)` or `(B, T, C, H, W)` frames;
 *   float values are expected in [0, 1]
 * @error: return location for an error
 *
 * Applies the preset to a tensor the way torchvision applies it to a
 * `torch.Tensor` (resizing with `torch.nn.functional.interpolate`).
 *
 * Returns: (transfer full): a float32 tensor: `(C, H, W)` or `(B, C, H, W)`,
 *   for VideoClassification `(C, T, H, W)` or `(B, C, T, H, W)`; %NULL on
 *   error
 */
TvwTensor *
tvw_transform_apply_tensor (TvwTransform  *self,
                            TvwTensor     *input,
                            GError       **error)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (TVW_IS_TENSOR (input), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return apply_tensor_internal (self, input, FALSE, error);
}

static gboolean
check_pixbuf (GdkPixbuf  *pixbuf,
              GError    **error)
{
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);

  if (gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      (n_channels != 3 && n_channels != 4) ||
      (n_channels == 4) != !!gdk_pixbuf_get_has_alpha (pixbuf))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "Only 8-bit RGB and RGBA pixbufs can be preprocessed");
      return FALSE;
    }

  if ((gint64) gdk_pixbuf_get_width (pixbuf) * gdk_pixbuf_get_height (pixbuf) >
      TVW_TRANSFORM_MAX_IMAGE_PIXELS)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A %d×%d pixbuf has more than the %" G_GINT64_FORMAT " pixels libtvw accepts",
                   gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf),
                   TVW_TRANSFORM_MAX_IMAGE_PIXELS);
      return FALSE;
    }

  return TRUE;
}

/* A pixbuf as a (1, 3, H, W) uint8 tensor, alpha dropped: pil_to_tensor. */
static TvwTensor *
pixbuf_to_frame (GdkPixbuf *pixbuf)
{
  g_autoptr(TvwTensor) chw = tvw_tensor_new_from_pixbuf (pixbuf);

  return tvw_tensor_unsqueeze (chw, 0);
}

/* The 8-bit image the model sees, HWC. */
static guint8 *
pixbuf_crop_pixels (TvwTransform  *self,
                    GdkPixbuf     *pixbuf,
                    int           *out_h,
                    int           *out_w,
                    GError       **error)
{
  Geometry g;
  guint8 *pixels;

  if (!check_pixbuf (pixbuf, error))
    return NULL;

  if (self->preset == TVW_PRESET_VIDEO_CLASSIFICATION)
    {
      /* Frames only go through the tensor path: resize without
       * antialiasing (unless asked), round to 8 bits. */
      g_autoptr(TvwTensor) frame = pixbuf_to_frame (pixbuf);
      g_autoptr(TvwTensor) out = apply_tensor_internal (self, frame, TRUE, error);
      const float *data;
      gsize plane;

      if (out == NULL)
        return NULL;

      /* (3, 1, H, W) */
      *out_h = (int) tvw_tensor_get_dim (out, 2);
      *out_w = (int) tvw_tensor_get_dim (out, 3);
      plane = (gsize) *out_h * *out_w;
      data = tvw_tensor_get_data (out);
      pixels = g_malloc (MAX (plane * 3, 1));
      for (gsize i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
          pixels[i * 3 + c] = (guint8) data[c * plane + i];
      return pixels;
    }

  pixels = pil_resize_crop (self, gdk_pixbuf_read_pixels (pixbuf),
                            gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf),
                            gdk_pixbuf_get_rowstride (pixbuf), gdk_pixbuf_get_n_channels (pixbuf),
                            &g, error);
  if (pixels == NULL)
    return NULL;

  *out_h = g.out_h;
  *out_w = g.out_w;
  return pixels;
}

static void
free_pixels_cb (guchar   *pixels,
                gpointer  data)
{
  g_free (pixels);
}

/**
 * tvw_transform_apply_pixbuf_full:
 * @self: a transform
 * @pixbuf: an 8-bit RGB or RGBA image (alpha is ignored, as Pillow's
 *   `convert("RGB")` ignores it)
 * @crop: (out) (optional) (transfer full): return location for the resized
 *   and cropped 8-bit image, see [method@Transform.apply_pixbuf_crop]
 * @error: return location for an error
 *
 * Applies the preset like [method@Transform.apply_pixbuf], and also returns
 * the image the model sees before it is rescaled and normalized, both from
 * one resize.
 *
 * Returns: (transfer full): a float32 tensor, or %NULL on error
 */
TvwTensor *
tvw_transform_apply_pixbuf_full (TvwTransform  *self,
                                 GdkPixbuf     *pixbuf,
                                 GdkPixbuf    **crop,
                                 GError       **error)
{
  g_autofree guint8 *pixels = NULL;
  g_autoptr(TvwTensor) tensor = NULL;
  int h, w;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->preset == TVW_PRESET_VIDEO_CLASSIFICATION)
    {
      g_autoptr(TvwTensor) frame = NULL;

      if (!check_pixbuf (pixbuf, error))
        return NULL;
      frame = pixbuf_to_frame (pixbuf);
      tensor = apply_tensor_internal (self, frame, FALSE, error);
      if (tensor == NULL)
        return NULL;
      if (crop != NULL)
        {
          *crop = tvw_transform_apply_pixbuf_crop (self, pixbuf, error);
          if (*crop == NULL)
            return NULL;
        }
      return g_steal_pointer (&tensor);
    }

  if (!check_channels (self, 3, error))
    return NULL;

  pixels = pixbuf_crop_pixels (self, pixbuf, &h, &w, error);
  if (pixels == NULL)
    return NULL;

  tensor = rgb8_to_tensor (self, pixels, h, w);
  if (crop != NULL)
    *crop = gdk_pixbuf_new_from_data (g_steal_pointer (&pixels), GDK_COLORSPACE_RGB, FALSE, 8,
                                      w, h, w * 3, free_pixels_cb, NULL);

  return g_steal_pointer (&tensor);
}

/**
 * tvw_transform_apply_pixbuf:
 * @self: a transform
 * @pixbuf: an 8-bit RGB or RGBA image (alpha is ignored, as Pillow's
 *   `convert("RGB")` ignores it)
 * @error: return location for an error
 *
 * Applies the preset to an image the way torchvision applies it to a PIL
 * image.  For VideoClassification, which only takes tensors, the image is
 * one frame of a `(1, C, H, W)` clip.
 *
 * Returns: (transfer full): a float32 `(C, H, W)` tensor (`(C, 1, H, W)` for
 *   VideoClassification), or %NULL on error
 */
TvwTensor *
tvw_transform_apply_pixbuf (TvwTransform  *self,
                            GdkPixbuf     *pixbuf,
                            GError       **error)
{
  return tvw_transform_apply_pixbuf_full (self, pixbuf, NULL, error);
}

/**
 * tvw_transform_apply_file_full:
 * @self: a transform
 * @file: an image file
 * @crop: (out) (optional) (transfer full): return location for the resized
 *   and cropped 8-bit image, see [method@Transform.apply_pixbuf_crop]
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Decodes @file once and returns what [method@Transform.apply_file] and
 * [method@Transform.apply_file_crop] return.
 *
 * Returns: (transfer full): a float32 tensor, or %NULL on error (one that
 *   names the file when it cannot be decoded)
 */
TvwTensor *
tvw_transform_apply_file_full (TvwTransform  *self,
                               GFile         *file,
                               GdkPixbuf    **crop,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pixbuf = tvw_image_load (file, cancellable, error);
  if (pixbuf == NULL)
    return NULL;

  return tvw_transform_apply_pixbuf_full (self, pixbuf, crop, error);
}

/**
 * tvw_transform_apply_file:
 * @self: a transform
 * @file: an image file
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Decodes @file as `PIL.Image.open(path).convert("RGB")` does (see
 * [const@TRANSFORM_MAX_IMAGE_PIXELS] for the size limit) and applies
 * [method@Transform.apply_pixbuf].
 *
 * Returns: (transfer full): a float32 tensor, or %NULL on error (one that
 *   names the file when it cannot be decoded)
 */
TvwTensor *
tvw_transform_apply_file (TvwTransform  *self,
                          GFile         *file,
                          GCancellable  *cancellable,
                          GError       **error)
{
  return tvw_transform_apply_file_full (self, file, NULL, cancellable, error);
}

/**
 * tvw_transform_apply_pixbuf_crop:
 * @self: a transform
 * @pixbuf: an 8-bit RGB or RGBA image
 * @error: return location for an error
 *
 * Gets the image the model sees before it is rescaled and normalized:
 * resized and cropped, 8-bit RGB.
 *
 * Returns: (transfer full): a new RGB pixbuf, or %NULL on error
 */
GdkPixbuf *
tvw_transform_apply_pixbuf_crop (TvwTransform  *self,
                                 GdkPixbuf     *pixbuf,
                                 GError       **error)
{
  guint8 *pixels;
  int h, w;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pixels = pixbuf_crop_pixels (self, pixbuf, &h, &w, error);
  if (pixels == NULL)
    return NULL;

  return gdk_pixbuf_new_from_data (pixels, GDK_COLORSPACE_RGB, FALSE, 8,
                                   w, h, w * 3, free_pixels_cb, NULL);
}

/**
 * tvw_transform_apply_file_crop:
 * @self: a transform
 * @file: an image file
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Decodes @file like [method@Transform.apply_file] and returns what
 * [method@Transform.apply_pixbuf_crop] returns.
 *
 * Returns: (transfer full): a new RGB pixbuf, or %NULL on error
 */
GdkPixbuf *
tvw_transform_apply_file_crop (TvwTransform  *self,
                               GFile         *file,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  pixbuf = tvw_image_load (file, cancellable, error);
  if (pixbuf == NULL)
    return NULL;

  return tvw_transform_apply_pixbuf_crop (self, pixbuf, error);
}

/* ------------------------------------------------------------------------ */
/* repr() and describe() */
