/* test-transform.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The C API of TvwTransform.  Pixel-exactness against torchvision and
 * Pillow is checked by tests/transforms/test_transforms.py; the expected
 * values here follow from torchvision's definitions by hand.
 */

#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <tvw.h>

#include "tvw-resample-private.h"
#include "tvw-transform-private.h"

static const char *imagenet_repr =
  "ImageClassification(\n"
  "    crop_size=[224]\n"
  "    resize_size=[256]\n"
  "    mean=[0.485, 0.456, 0.406]\n"
  "    std=[0.229, 0.224, 0.225]\n"
  "    interpolation=InterpolationMode.BILINEAR\n"
  ")";

static GdkPixbuf *
make_pixbuf (int      width,
             int      height,
             gboolean alpha)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);

  /* Every pixel different: red = column, green = row, blue = 7, alpha 0. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + y * stride + x * n;

        p[0] = (guint8) x;
        p[1] = (guint8) y;
        p[2] = 7;
        if (alpha)
          p[3] = 0;
      }

  return pixbuf;
}

static void
test_defaults (void)
{
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autofree char *s = tvw_transform_to_string (t);
  const double *mean;
  guint n = 0;
  int h = 0, w = 0;

  g_assert_cmpstr (s, ==, imagenet_repr);
  g_assert_cmpuint (tvw_transform_get_crop_size (t, &h, &w), ==, 1);
  g_assert_cmpint (h, ==, 224);
  g_assert_cmpint (w, ==, 224);
  g_assert_cmpuint (tvw_transform_get_resize_size (t, &h, &w), ==, 1);
  g_assert_cmpint (h, ==, 256);
  mean = tvw_transform_get_mean (t, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpfloat (mean[1], ==, 0.456);
  g_assert_cmpint (tvw_transform_get_interpolation (t), ==, TVW_INTERPOLATION_BILINEAR);
  g_assert_false (tvw_transform_get_antialias (t));

  g_assert_finalize_object (g_steal_pointer (&t));
}

static void
test_properties (void)
{
  g_autoptr(GVariant) mean = g_variant_ref_sink (g_variant_new_parsed ("[0.5, 1e-05, 100.0]"));
  g_autoptr(GVariant) std = g_variant_ref_sink (g_variant_new_parsed ("[1e+16, 0.0001, 1.5e-07]"));
  g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM,
                                            "preset", TVW_PRESET_IMAGE_CLASSIFICATION,
                                            "crop-size", 400,
                                            "resize-size", 401,
                                            "mean", mean,
                                            "std", std,
                                            "interpolation", TVW_INTERPOLATION_BICUBIC,
                                            "antialias", TRUE,
                                            NULL);
  g_autofree char *s = tvw_transform_to_string (t);
  g_autoptr(GVariant) got = NULL;
  int crop = 0;

  /* Python's float repr: 1e-05, 0.0001, 100.0, 1e+16, 1.5e-07. */
  g_assert_cmpstr (s, ==,
                   "ImageClassification(\n"
                   "    crop_size=[400]\n"
                   "    resize_size=[401]\n"
                   "    mean=[0.5, 1e-05, 100.0]\n"
                   "    std=[1e+16, 0.0001, 1.5e-07]\n"
                   "    interpolation=InterpolationMode.BICUBIC\n"
                   "    antialias=True\n"
                   ")");

  g_object_get (t, "crop-size", &crop, "std", &got, NULL);
  g_assert_cmpint (crop, ==, 400);
  g_assert_true (g_variant_equal (got, std));

  /* A non-square crop is torchvision's (H, W) list. */
  g_object_set (t, "crop-height", 3, "crop-width", 4, NULL);
  g_object_get (t, "crop-size", &crop, NULL);
  g_assert_cmpint (crop, ==, 0);
  g_clear_pointer (&s, g_free);
  s = tvw_transform_to_string (t);
  g_assert_nonnull (strstr (s, "crop_size=[3, 4]\n"));

  g_assert_finalize_object (g_steal_pointer (&t));
}

static int notify_count;

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    data)
{
  notify_count++;
}

static void
test_notify_only_on_change (void)
{
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);

  notify_count = 0;
  g_signal_connect (t, "notify::interpolation", G_CALLBACK (notify_cb), NULL);
  g_object_set (t, "interpolation", TVW_INTERPOLATION_BILINEAR, NULL);
  g_assert_cmpint (notify_count, ==, 0);
  g_object_set (t, "interpolation", TVW_INTERPOLATION_NEAREST, NULL);
  g_assert_cmpint (notify_count, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&t));
}

static void
test_presets_repr (void)
{
  struct { TvwPreset preset; const char *repr; } cases[] = {
    { TVW_PRESET_OBJECT_DETECTION, "ObjectDetection()" },
    { TVW_PRESET_OPTICAL_FLOW, "OpticalFlow()" },
    { TVW_PRESET_SEMANTIC_SEGMENTATION,
      "SemanticSegmentation(\n    resize_size=[520]\n    mean=[0.485, 0.456, 0.406]\n"
      "    std=[0.229, 0.224, 0.225]\n    interpolation=InterpolationMode.BILINEAR\n)" },
    { TVW_PRESET_VIDEO_CLASSIFICATION,
      "VideoClassification(\n    crop_size=[112, 112]\n    resize_size=[128, 171]\n"
      "    mean=[0.43216, 0.394666, 0.37645]\n    std=[0.22803, 0.22145, 0.216989]\n"
      "    interpolation=InterpolationMode.BILINEAR\n)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TvwTransform) t = tvw_transform_new (cases[i].preset);
      g_autofree char *s = tvw_transform_to_string (t);

      g_assert_cmpstr (s, ==, cases[i].repr);
    }
}

static void
test_kwargs (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTransform) t = NULL;
  g_autoptr(GVariant) kwargs = NULL;
  g_autofree char *s = NULL;

  /* An entry's arguments: ViT's bicubic 384 crop. */
  kwargs = g_variant_ref_sink (g_variant_new_parsed (
    "{'crop_size': <384>, 'resize_size': <384>, 'interpolation': <'bicubic'>}"));
  t = tvw_transform_new_for_preset ("ImageClassification", kwargs, &error);
  g_assert_no_error (error);
  s = tvw_transform_to_string (t);
  g_assert_cmpstr (s, ==,
                   "ImageClassification(\n    crop_size=[384]\n    resize_size=[384]\n"
                   "    mean=[0.485, 0.456, 0.406]\n    std=[0.229, 0.224, 0.225]\n"
                   "    interpolation=InterpolationMode.BICUBIC\n)");
  g_clear_object (&t);
  g_clear_pointer (&kwargs, g_variant_unref);
  g_clear_pointer (&s, g_free);

  /* MViT's (256,) resize, a video crop pair, int64 values. */
  kwargs = g_variant_ref_sink (g_variant_new_parsed (
    "{'crop_size': <(int64 224, int64 224)>, 'resize_size': <(256,)>, 'mean': <[0.45, 0.45, 0.45]>}"));
  t = tvw_transform_new_for_preset ("VideoClassification", kwargs, &error);
  g_assert_no_error (error);
  s = tvw_transform_to_string (t);
  g_assert_nonnull (strstr (s, "crop_size=[224, 224]\n    resize_size=[256]\n    mean=[0.45, 0.45, 0.45]\n"));
  g_clear_object (&t);
  g_clear_pointer (&kwargs, g_variant_unref);
  g_clear_pointer (&s, g_free);

  /* SemanticSegmentation(resize_size=None). */
  kwargs = g_variant_ref_sink (g_variant_new_parsed ("{'resize_size': <@mi nothing>}"));
  t = tvw_transform_new_for_preset ("SemanticSegmentation", kwargs, &error);
  g_assert_no_error (error);
  s = tvw_transform_to_string (t);
  g_assert_nonnull (strstr (s, "resize_size=None\n"));
  g_clear_object (&t);
  g_clear_pointer (&kwargs, g_variant_unref);

  /* No arguments for the parameterless presets. */
  t = tvw_transform_new_for_preset ("OpticalFlow", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_transform_get_preset (t), ==, TVW_PRESET_OPTICAL_FLOW);
}

static void
test_kwargs_errors (void)
{
  struct { const char *preset; const char *kwargs; int code; const char *needle; } cases[] = {
    { "ImageClassification", "{'crop_size': <224>, 'colour': <1>}", TVW_ERROR_INVALID_ARGUMENT, "colour" },
    { "SemanticSegmentation", "{'resize_size': <520>, 'crop_size': <224>}", TVW_ERROR_INVALID_ARGUMENT, "crop_size" },
    { "ObjectDetection", "{'mean': <[0.5]>}", TVW_ERROR_INVALID_ARGUMENT, "mean" },
    { "ImageClassification", "{'resize_size': <256>}", TVW_ERROR_INVALID_ARGUMENT, "crop_size" },
    { "VideoClassification", "{'crop_size': <(112, 112)>}", TVW_ERROR_INVALID_ARGUMENT, "resize_size" },
    { "ImageClassification", "{'crop_size': <'big'>}", TVW_ERROR_INVALID_ARGUMENT, "crop_size" },
    { "ImageClassification", "{'crop_size': <0>}", TVW_ERROR_INVALID_ARGUMENT, "crop_size" },
    { "ImageClassification", "{'crop_size': <(1, 2, 3)>}", TVW_ERROR_INVALID_ARGUMENT, "crop_size" },
    { "ImageClassification", "{'crop_size': <224>, 'resize_size': <@mi nothing>}", TVW_ERROR_INVALID_ARGUMENT, "resize_size" },
    { "ImageClassification", "{'crop_size': <224>, 'std': <[0.2, 0.0, 0.2]>}", TVW_ERROR_INVALID_ARGUMENT, "std" },
    { "ImageClassification", "{'crop_size': <224>, 'std': <[1e-50]>}", TVW_ERROR_INVALID_ARGUMENT, "std" },
    { "ImageClassification", "{'crop_size': <224>, 'mean': <'x'>}", TVW_ERROR_INVALID_ARGUMENT, "mean" },
    { "ImageClassification", "{'crop_size': <224>, 'interpolation': <'cubic'>}", TVW_ERROR_INVALID_ARGUMENT, "cubic" },
    { "ImageClassification", "{'crop_size': <224>, 'interpolation': <'lanczos'>}", TVW_ERROR_UNSUPPORTED, "lanczos" },
    { "ImageClassification", "{'crop_size': <224>, 'antialias': <1>}", TVW_ERROR_INVALID_ARGUMENT, "antialias" },
    { "Classification", "@a{sv} {}", TVW_ERROR_NOT_FOUND, "Classification" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) kwargs = g_variant_ref_sink (g_variant_new_parsed (cases[i].kwargs));
      g_autoptr(TvwTransform) t = tvw_transform_new_for_preset (cases[i].preset, kwargs, &error);

      g_assert_null (t);
      g_assert_error (error, TVW_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %u: “%s” does not name “%s”", i, error->message, cases[i].needle);
    }
}

/* torchvision: Python round() of (size - crop) / 2 goes to the even
 * integer, so an 8-wide image cropped to 3 starts at 2 (round(2.5) = 2),
 * a 6-wide one at 2 (round(1.5) = 2), a 7-wide one at 2. */
static void
test_center_crop_half_to_even (void)
{
  struct { int width; int crop; int left; } cases[] = {
    { 8, 3, 2 }, { 6, 3, 2 }, { 7, 3, 2 }, { 10, 3, 4 }, { 12, 3, 4 }, { 5, 2, 2 }, { 9, 2, 4 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GdkPixbuf) src = make_pixbuf (cases[i].width, 40, FALSE);
      /* resize_size 40 on a W×40 image with W <= 40: shorter side already 40. */
      g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "resize-size", cases[i].width,
                                                "crop-height", 1, "crop-width", cases[i].crop, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkPixbuf) crop = tvw_transform_apply_pixbuf_crop (t, src, &error);
      const guint8 *p;

      g_assert_no_error (error);
      g_assert_cmpint (gdk_pixbuf_get_width (crop), ==, cases[i].crop);
      g_assert_cmpint (gdk_pixbuf_get_height (crop), ==, 1);
      p = gdk_pixbuf_read_pixels (crop);
      /* Red is the source column (no resize happened: F.resize keeps the image). */
      if (p[0] != cases[i].left)
        g_error ("width %d crop %d: starts at column %d, expected %d",
                 cases[i].width, cases[i].crop, p[0], cases[i].left);
    }
}

/* A crop larger than the image pads with zeros: torchvision pads
 * (crop - size) // 2 before and the rest after. */
static void
test_center_crop_pads_with_zeros (void)
{
  g_autoptr(GdkPixbuf) src = make_pixbuf (2, 3, TRUE);
  g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "resize-size", 2, "crop-size", 5, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) crop = tvw_transform_apply_pixbuf_crop (t, src, &error);
  g_autoptr(TvwTensor) tensor = NULL;
  const guint8 *p;
  int stride;

  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (crop), ==, 5);
  g_assert_cmpint (gdk_pixbuf_get_height (crop), ==, 5);
  g_assert_false (gdk_pixbuf_get_has_alpha (crop));
  p = gdk_pixbuf_read_pixels (crop);
  stride = gdk_pixbuf_get_rowstride (crop);

  /* Width 2 → 5: 1 column before, 2 after; height 3 → 5: 1 row before, 1 after. */
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 5; x++)
      {
        const guint8 *px = p + y * stride + x * 3;
        gboolean inside = x >= 1 && x < 3 && y >= 1 && y < 4;

        if (inside)
          {
            g_assert_cmpint (px[0], ==, x - 1);
            g_assert_cmpint (px[1], ==, y - 1);
            g_assert_cmpint (px[2], ==, 7);
          }
        else
          {
            g_assert_cmpint (px[0] | px[1] | px[2], ==, 0);
          }
      }

  /* The tensor: padding is 0 before normalization, (0 - mean) / std after. */
  tensor = tvw_transform_apply_pixbuf (t, src, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_dim (tensor, 0), ==, 3);
  g_assert_cmpfloat_with_epsilon (tvw_tensor_get_data (tensor)[0], (0.0f - 0.485f) / 0.229f, 1e-6);
  g_assert_cmpfloat_with_epsilon (tvw_tensor_get_data (tensor)[2 * 25 + 1 * 5 + 1],
                                  (7.0f / 255.0f - 0.406f) / 0.225f, 1e-6);
}

/* The shorter side goes to resize_size, the longer one is truncated:
 * 100×30 with 20 → 66×20 (int(20 * 100 / 30) = 66). */
static void
test_resize_size_truncates (void)
{
  g_autoptr(GdkPixbuf) src = make_pixbuf (100, 30, FALSE);
  g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "preset", TVW_PRESET_SEMANTIC_SEGMENTATION,
                                            "resize-size", 20, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) out = tvw_transform_apply_pixbuf (t, src, &error);

  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_n_dims (out), ==, 3);
  g_assert_cmpint (tvw_tensor_get_dim (out, 1), ==, 20);
  g_assert_cmpint (tvw_tensor_get_dim (out, 2), ==, 66);
}

/* NEAREST picks source pixels: a 2× downscale of columns 0..7 reads
 * columns 1, 3, 5, 7 (Pillow samples at the centre of each output pixel). */
static void
test_nearest_samples_centres (void)
{
  g_autoptr(GdkPixbuf) src = make_pixbuf (8, 8, FALSE);
  g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "resize-size", 4, "crop-size", 4,
                                            "interpolation", TVW_INTERPOLATION_NEAREST, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) crop = tvw_transform_apply_pixbuf_crop (t, src, &error);
  const guint8 *p;

  g_assert_no_error (error);
  p = gdk_pixbuf_read_pixels (crop);
  for (int x = 0; x < 4; x++)
    g_assert_cmpint (p[x * 3], ==, 2 * x + 1);
}

/* An image whose rows are identical stays so, and a constant image stays
 * constant through every filter (the coefficients sum to one). */
static void
test_constant_image (void)
{
  for (int interp = TVW_INTERPOLATION_NEAREST; interp <= TVW_INTERPOLATION_BICUBIC; interp++)
    {
      g_autoptr(GdkPixbuf) src = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 1000, 333);
      g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "interpolation", interp, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkPixbuf) crop = NULL;
      const guint8 *p;

      gdk_pixbuf_fill (src, 0x80ff1000);
      crop = tvw_transform_apply_pixbuf_crop (t, src, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gdk_pixbuf_get_width (crop), ==, 224);
      p = gdk_pixbuf_read_pixels (crop);
      for (int i = 0; i < 224 * 224; i++)
        {
          int y = i / 224, x = i % 224;
          const guint8 *px = p + y * gdk_pixbuf_get_rowstride (crop) + x * 3;

          if (px[0] != 0x80 || px[1] != 0xff || px[2] != 0x10)
            g_error ("interpolation %d: pixel %d,%d is %02x%02x%02x", interp, x, y, px[0], px[1], px[2]);
        }
    }
}

/* The SIMD kernel computes the same integers as the scalar loop (which
 * the oracle test holds to Pillow's), on every window and edge. */
static void
test_simd_matches_scalar (void)
{
  struct { int w, h, dw, dh; } sizes[] = {
    { 4000, 30, 341, 20 }, { 17, 9, 5, 3 }, { 640, 480, 293, 220 }, { 33, 700, 16, 341 },
    { 5, 5, 3, 3 }, { 300, 20, 301, 7 }, { 1000, 3, 997, 2 }, { 7, 7, 2, 2 },
  };
  GRand *rand = g_rand_new_with_seed (4);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (guint bpp = 3; bpp <= 4; bpp++)
      for (int interp = TVW_INTERPOLATION_BILINEAR; interp <= TVW_INTERPOLATION_BICUBIC; interp++)
        {
          gsize stride = (gsize) sizes[i].w * bpp + (i % 3);
          gsize n = stride * sizes[i].h;
          g_autofree guint8 *src = g_malloc (n);
          g_autofree guint8 *a = g_malloc0 ((gsize) sizes[i].dw * sizes[i].dh * 3);
          g_autofree guint8 *b = g_malloc0 ((gsize) sizes[i].dw * sizes[i].dh * 3);
          int wx = sizes[i].dw / 5, wy = sizes[i].dh / 4;
          int ww = sizes[i].dw - wx, wh = sizes[i].dh - wy;

          for (gsize k = 0; k < n; k++)
            src[k] = (guint8) g_rand_int_range (rand, 0, 256);

          tvw_resample_set_simd (TRUE);
          tvw_resample_pil_rgb8 (src, sizes[i].w, sizes[i].h, stride, bpp, sizes[i].dw, sizes[i].dh,
                                 interp, wx, wy, ww, wh, a, (gsize) ww * 3);
          tvw_resample_set_simd (FALSE);
          tvw_resample_pil_rgb8 (src, sizes[i].w, sizes[i].h, stride, bpp, sizes[i].dw, sizes[i].dh,
                                 interp, wx, wy, ww, wh, b, (gsize) ww * 3);
          tvw_resample_set_simd (TRUE);

          if (memcmp (a, b, (gsize) ww * wh * 3) != 0)
            g_error ("%d×%d → %d×%d, %u bytes per pixel, filter %d: SIMD and scalar differ",
                     sizes[i].w, sizes[i].h, sizes[i].dw, sizes[i].dh, bpp, interp);
        }

  g_rand_free (rand);
}

static void
test_tensor_shapes (void)
{
  g_autoptr(TvwTransform) ic = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autoptr(TvwTransform) video = tvw_transform_new (TVW_PRESET_VIDEO_CLASSIFICATION);
  g_autoptr(TvwTransform) od = tvw_transform_new (TVW_PRESET_OBJECT_DETECTION);
  gint64 chw[3] = { 3, 50, 70 };
  gint64 nchw[4] = { 2, 3, 50, 70 };
  gint64 tchw[4] = { 4, 3, 50, 70 };
  gint64 bad[2] = { 50, 70 };
  g_autoptr(TvwTensor) a = tvw_tensor_new (TVW_DTYPE_UINT8, chw, 3);
  g_autoptr(TvwTensor) b = tvw_tensor_new (TVW_DTYPE_FLOAT32, nchw, 4);
  g_autoptr(TvwTensor) c = tvw_tensor_new (TVW_DTYPE_UINT8, tchw, 4);
  g_autoptr(TvwTensor) d = tvw_tensor_new (TVW_DTYPE_FLOAT32, bad, 2);
  g_autoptr(TvwTensor) out = NULL;
  g_autoptr(GError) error = NULL;

  out = tvw_transform_apply_tensor (ic, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_n_dims (out), ==, 3);
  g_assert_cmpint (tvw_tensor_get_dim (out, 1), ==, 224);
  g_assert_cmpint (tvw_tensor_get_dtype (out), ==, TVW_DTYPE_FLOAT32);
  g_clear_object (&out);

  out = tvw_transform_apply_tensor (ic, b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_n_dims (out), ==, 4);
  g_assert_cmpint (tvw_tensor_get_dim (out, 0), ==, 2);
  g_clear_object (&out);

  /* (T, C, H, W) → (C, T, H, W) */
  out = tvw_transform_apply_tensor (video, c, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_n_dims (out), ==, 4);
  g_assert_cmpint (tvw_tensor_get_dim (out, 0), ==, 3);
  g_assert_cmpint (tvw_tensor_get_dim (out, 1), ==, 4);
  g_assert_cmpint (tvw_tensor_get_dim (out, 2), ==, 112);
  g_clear_object (&out);

  /* ObjectDetection keeps the size and rescales: a zero image stays 0. */
  out = tvw_transform_apply_tensor (od, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_dim (out, 2), ==, 70);
  g_assert_cmpfloat (tvw_tensor_get_data (out)[0], ==, 0.0f);
  g_clear_object (&out);

  out = tvw_transform_apply_tensor (ic, d, &error);
  g_assert_null (out);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_clear_error (&error);

  out = tvw_transform_apply_tensor (video, a, &error);
  g_assert_null (out);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_clear_error (&error);

  /* torchvision refuses antialias with NEAREST. */
  g_object_set (ic, "interpolation", TVW_INTERPOLATION_NEAREST, "antialias", TRUE, NULL);
  out = tvw_transform_apply_tensor (ic, a, &error);
  g_assert_null (out);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

/* The uint8 tensor path on an image without resize is the PIL path. */
static void
test_pixbuf_matches_uint8_tensor (void)
{
  g_autoptr(GdkPixbuf) src = make_pixbuf (50, 40, TRUE);
  g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "resize-size", 40, "crop-size", 30, NULL);
  gint64 shape[3] = { 3, 40, 50 };
  g_autoptr(TvwTensor) u8 = tvw_tensor_new (TVW_DTYPE_UINT8, shape, 3);
  g_autoptr(TvwTensor) a = NULL;
  g_autoptr(TvwTensor) b = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *data = tvw_tensor_get_data_uint8 (u8);

  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 50; x++)
      {
        data[0 * 2000 + y * 50 + x] = (guint8) x;
        data[1 * 2000 + y * 50 + x] = (guint8) y;
        data[2 * 2000 + y * 50 + x] = 7;
      }

  a = tvw_transform_apply_pixbuf (t, src, &error);
  g_assert_no_error (error);
  b = tvw_transform_apply_tensor (t, u8, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_tensor_get_n_elements (a), ==, 3 * 30 * 30);
  g_assert_cmpmem (tvw_tensor_get_data (a), 3 * 30 * 30 * sizeof (float),
                   tvw_tensor_get_data (b), 3 * 30 * 30 * sizeof (float));
}

/* One resize gives both the tensor and the crop, equal to the separate calls. */
static void
test_apply_full (void)
{
  for (int preset = TVW_PRESET_IMAGE_CLASSIFICATION; preset <= TVW_PRESET_OPTICAL_FLOW; preset++)
    {
      g_autoptr(GdkPixbuf) src = make_pixbuf (90, 70, preset % 2);
      g_autoptr(TvwTransform) t = g_object_new (TVW_TYPE_TRANSFORM, "preset", preset, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GdkPixbuf) crop = NULL;
      g_autoptr(GdkPixbuf) crop2 = NULL;
      g_autoptr(TvwTensor) a = tvw_transform_apply_pixbuf_full (t, src, &crop, &error);
      g_autoptr(TvwTensor) b = NULL;

      g_assert_no_error (error);
      b = tvw_transform_apply_pixbuf (t, src, &error);
      g_assert_no_error (error);
      crop2 = tvw_transform_apply_pixbuf_crop (t, src, &error);
      g_assert_no_error (error);

      g_assert_cmpuint (tvw_tensor_get_n_elements (a), ==, tvw_tensor_get_n_elements (b));
      g_assert_cmpmem (tvw_tensor_get_data (a), tvw_tensor_get_n_elements (a) * sizeof (float),
                       tvw_tensor_get_data (b), tvw_tensor_get_n_elements (b) * sizeof (float));
      g_assert_cmpint (gdk_pixbuf_get_width (crop), ==, gdk_pixbuf_get_width (crop2));
      g_assert_cmpint (gdk_pixbuf_get_height (crop), ==, gdk_pixbuf_get_height (crop2));
      g_assert_cmpmem (gdk_pixbuf_read_pixels (crop), gdk_pixbuf_get_byte_length (crop),
                       gdk_pixbuf_read_pixels (crop2), gdk_pixbuf_get_byte_length (crop2));
      g_assert_finalize_object (g_steal_pointer (&crop));
    }
}

static char *
write_file (const char *name,
            const void *data,
            gsize       len)
{
  char *path = g_build_filename (g_get_tmp_dir (), name, NULL);

  g_assert_true (g_file_set_contents (path, data, len, NULL));
  return path;
}

static void
test_file_errors (void)
{
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (64, 48, FALSE);
  g_autofree char *png = NULL;
  gsize png_len = 0;
  struct { const char *name; gsize len; int code; } cases[] = {
    { "tvw-test-not-image.png", 0, TVW_ERROR_INVALID_DATA },
    { "tvw-test-empty.png", 0, TVW_ERROR_INVALID_DATA },
    { "tvw-test-truncated.png", 0, TVW_ERROR_INVALID_DATA },
  };

  g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &png, &png_len, "png", NULL, NULL));
  cases[2].len = png_len / 2;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GFile) file = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwTensor) out = NULL;

      if (i == 0)
        path = write_file (cases[i].name, "not an image at all", 19);
      else
        path = write_file (cases[i].name, png, cases[i].len);
      file = g_file_new_for_path (path);
      out = tvw_transform_apply_file (t, file, NULL, &error);
      g_assert_null (out);
      g_assert_error (error, TVW_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].name));
      g_unlink (path);
    }

  /* The whole file decodes. */
  {
    g_autofree char *path = write_file ("tvw-test-good.png", png, png_len);
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_autoptr(GError) error = NULL;
    g_autoptr(TvwTensor) out = tvw_transform_apply_file (t, file, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (tvw_tensor_get_dim (out, 2), ==, 224);
    g_unlink (path);
  }
}

static guint32
crc32_png (const guint8 *data,
           gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }
  return crc ^ 0xffffffff;
}

static void
append_chunk (GByteArray   *png,
              const char   *type,
              const guint8 *data,
              guint32       len)
{
  guint8 be[4] = { len >> 24, len >> 16, len >> 8, len };
  gsize start;
  guint32 crc;

  g_byte_array_append (png, be, 4);
  start = png->len;
  g_byte_array_append (png, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (png, data, len);
  crc = crc32_png (png->data + start, len + 4);
  be[0] = crc >> 24;
  be[1] = crc >> 16;
  be[2] = crc >> 8;
  be[3] = crc;
  g_byte_array_append (png, be, 4);
}

/* A PNG header claiming 70000×70000 is refused before anything is decoded. */
static void
test_file_too_large (void)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const guint8 ihdr[13] = { 0, 1, 0x11, 0x70, 0, 1, 0x11, 0x70, 8, 2, 0, 0, 0 };
  /* zlib stream of a few zero bytes. */
  static const guint8 idat[11] = { 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01 };
  g_autoptr(GByteArray) png = g_byte_array_new ();
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) out = NULL;

  g_byte_array_append (png, signature, sizeof signature);
  append_chunk (png, "IHDR", ihdr, sizeof ihdr);
  append_chunk (png, "IDAT", idat, sizeof idat);
  append_chunk (png, "IEND", NULL, 0);

  path = write_file ("tvw-test-huge.png", png->data, png->len);
  file = g_file_new_for_path (path);
  out = tvw_transform_apply_file (t, file, NULL, &error);
  g_assert_null (out);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "tvw-test-huge.png"));
  g_assert_nonnull (strstr (error->message, "70000"));
  g_unlink (path);
}

static void
test_cancelled (void)
{
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GFile) file = g_file_new_for_path ("/does/not/matter.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) out = NULL;

  g_cancellable_cancel (cancellable);
  out = tvw_transform_apply_file (t, file, cancellable, &error);
  g_assert_null (out);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_describe (void)
{
  g_autoptr(TvwTransform) t = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);
  g_autofree char *d = tvw_transform_describe (t);

  g_assert_cmpstr (d, ==,
                   "Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                   "``torch.Tensor`` objects. The images are resized to ``resize_size=[256]`` using "
                   "``interpolation=InterpolationMode.BILINEAR``, followed by a central crop of "
                   "``crop_size=[224]``. Finally the values are first rescaled to ``[0.0, 1.0]`` and "
                   "then normalized using ``mean=[0.485, 0.456, 0.406]`` and ``std=[0.229, 0.224, 0.225]``.");
}

/* An error on a keyword argument after others (a weights card's std with a
 * zero, found by fuzz-card) returns cleanly: the sanitizer stage's leak
 * checker runs this. */
static void
test_preset_kwargs_errors (void)
{
  static const char *const cases[][2] = {
    { "{'crop_size': <224>, 'resize_size': <232>, 'std': <(0.25, 0.0, 0.25)>}", "std" },
    { "{'crop_size': <224>, 'bogus': <1>}", "bogus" },
    { "{'crop_size': <'x'>}", "crop_size" },
    { "{'crop_size': <224>, 'interpolation': <'sideways'>}", "sideways" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) kwargs = g_variant_ref_sink (g_variant_new_parsed (cases[i][0]));
      g_autoptr(TvwTransform) t = tvw_transform_new_for_preset ("ImageClassification", kwargs, &error);

      g_assert_null (t);
      g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i][1]));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/transform/defaults", test_defaults);
  g_test_add_func ("/tvw/transform/properties-and-python-floats", test_properties);
  g_test_add_func ("/tvw/transform/notify-only-on-change", test_notify_only_on_change);
  g_test_add_func ("/tvw/transform/presets-repr", test_presets_repr);
  g_test_add_func ("/tvw/transform/kwargs", test_kwargs);
  g_test_add_func ("/tvw/transform/kwargs-errors-name-the-key", test_kwargs_errors);
  g_test_add_func ("/tvw/transform/center-crop-half-to-even", test_center_crop_half_to_even);
  g_test_add_func ("/tvw/transform/center-crop-pads-with-zeros", test_center_crop_pads_with_zeros);
  g_test_add_func ("/tvw/transform/resize-size-truncates", test_resize_size_truncates);
  g_test_add_func ("/tvw/transform/nearest-samples-centres", test_nearest_samples_centres);
  g_test_add_func ("/tvw/transform/constant-image", test_constant_image);
  g_test_add_func ("/tvw/transform/simd-matches-scalar", test_simd_matches_scalar);
  g_test_add_func ("/tvw/transform/tensor-shapes", test_tensor_shapes);
  g_test_add_func ("/tvw/transform/pixbuf-matches-uint8-tensor", test_pixbuf_matches_uint8_tensor);
  g_test_add_func ("/tvw/transform/apply-full", test_apply_full);
  g_test_add_func ("/tvw/transform/file-errors", test_file_errors);
  g_test_add_func ("/tvw/transform/file-too-large", test_file_too_large);
  g_test_add_func ("/tvw/transform/cancelled", test_cancelled);
  g_test_add_func ("/tvw/transform/describe", test_describe);
  g_test_add_func ("/tvw/transform/preset-kwargs-errors", test_preset_kwargs_errors);

  return g_test_run ();
}
