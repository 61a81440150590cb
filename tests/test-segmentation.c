/* test-segmentation.c — TvwSegmentation against a naive reference, the VOC
 * palette, the renders, and TvwModel's segmentation and several outputs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw.h"

/* PyTorch's upsample_bilinear2d (align_corners=False) of one plane at
 * (ox, oy), in double: the reference the library's separable float
 * version must agree with. */
static double
bilinear_at (const float *plane,
             int          h,
             int          w,
             int          out_h,
             int          out_w,
             int          ox,
             int          oy)
{
  double sy = MAX ((oy + 0.5) * h / out_h - 0.5, 0.0);
  double sx = MAX ((ox + 0.5) * w / out_w - 0.5, 0.0);
  int y0 = (int) sy, x0 = (int) sx;
  int y1 = MIN (y0 + 1, h - 1), x1 = MIN (x0 + 1, w - 1);
  double ly = sy - y0, lx = sx - x0;

  return (1 - ly) * ((1 - lx) * plane[y0 * w + x0] + lx * plane[y0 * w + x1]) +
         ly * ((1 - lx) * plane[y1 * w + x0] + lx * plane[y1 * w + x1]);
}

static TvwTensor *
random_logits (guint32 seed,
               int     c,
               int     h,
               int     w)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree float *data = g_new (float, c * h * w);
  const gint64 shape[4] = { 1, c, h, w };

  for (int i = 0; i < c * h * w; i++)
    data[i] = (float) g_rand_double_range (rand, -4.0, 4.0);

  return tvw_tensor_new_from_data (data, shape, 4);
}

static void
test_argmax_of_upsampled (void)
{
  const int c = 5, h = 4, w = 6, out_w = 23, out_h = 17;
  g_autoptr(TvwTensor) logits = random_logits (17, c, h, w);
  const char * const categories[] = { "__background__", "cat", "dog", "", "cow", NULL };
  g_autoptr(TvwSegmentation) seg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) map = NULL;
  const float *data = tvw_tensor_get_data (logits);
  const guint8 *classes;
  guint64 areas[5] = { 0 };
  double scores[5] = { 0 };
  g_autofree guint *present = NULL;
  guint n_present, compared = 0;
  guint64 total = 0;

  seg = tvw_segmentation_new_from_output (logits, out_w, out_h, categories, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_segmentation_get_width (seg), ==, out_w);
  g_assert_cmpuint (tvw_segmentation_get_height (seg), ==, out_h);
  g_assert_cmpuint (tvw_segmentation_get_n_classes (seg), ==, c);
  g_assert_cmpstr (tvw_segmentation_get_category (seg, 2), ==, "dog");
  /* An empty name is no name. */
  g_assert_null (tvw_segmentation_get_category (seg, 3));

  map = tvw_segmentation_get_class_map (seg);
  g_assert_cmpuint (g_bytes_get_size (map), ==, out_w * out_h);
  classes = g_bytes_get_data (map, NULL);

  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++)
      {
        double v[5], best = -INFINITY, second = -INFINITY, sum = 0;
        int arg = 0;

        for (int k = 0; k < c; k++)
          {
            v[k] = bilinear_at (data + k * h * w, h, w, out_h, out_w, x, y);
            if (v[k] > best)
              {
                second = best;
                best = v[k];
                arg = k;
              }
            else if (v[k] > second)
              second = v[k];
          }
        for (int k = 0; k < c; k++)
          sum += exp (v[k] - best);
        areas[arg]++;
        scores[arg] += 1 / sum;

        g_assert_cmpuint (tvw_segmentation_get_class_at (seg, x, y), ==, classes[y * out_w + x]);
        /* float against double: a near tie may go either way. */
        if (best - second > 1e-4)
          {
            g_assert_cmpuint (classes[y * out_w + x], ==, arg);
            compared++;
          }
      }
  g_assert_cmpuint (compared, >, out_w * out_h * 9 / 10);

  for (int k = 0; k < c; k++)
    {
      g_assert_cmpuint (tvw_segmentation_get_area (seg, k), ==, areas[k]);
      g_assert_cmpfloat_with_epsilon (tvw_segmentation_get_fraction (seg, k),
                                      (double) areas[k] / (out_w * out_h), 1e-12);
      if (areas[k] > 0)
        g_assert_cmpfloat_with_epsilon (tvw_segmentation_get_score (seg, k),
                                        scores[k] / areas[k], 1e-5);
      else
        g_assert_cmpfloat (tvw_segmentation_get_score (seg, k), ==, 0.0);
    }

  present = tvw_segmentation_get_classes_present (seg, &n_present);
  g_assert_cmpuint (n_present, >=, 2);
  for (guint i = 0; i < n_present; i++)
    {
      g_assert_cmpuint (tvw_segmentation_get_area (seg, present[i]), >, 0);
      if (i > 0)
        g_assert_cmpuint (tvw_segmentation_get_area (seg, present[i - 1]), >=,
                          tvw_segmentation_get_area (seg, present[i]));
      total += tvw_segmentation_get_area (seg, present[i]);
    }
  g_assert_cmpuint (total, ==, out_w * out_h);

  g_assert_finalize_object (g_steal_pointer (&seg));
}

/* Equal logits everywhere: argmax takes the first class, with probability
 * 1/C; a 1×1 map becomes a constant image. */
static void
test_ties_go_to_the_first_class (void)
{
  const float data[3] = { 0.5f, 0.5f, 0.5f };
  const gint64 shape[3] = { 3, 1, 1 };
  g_autoptr(TvwTensor) logits = tvw_tensor_new_from_data (data, shape, 3);
  g_autoptr(TvwSegmentation) seg = NULL;
  g_autoptr(GError) error = NULL;

  seg = tvw_segmentation_new_from_output (logits, 9, 4, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_segmentation_get_area (seg, 0), ==, 36);
  g_assert_cmpfloat_with_epsilon (tvw_segmentation_get_score (seg, 0), 1.0 / 3, 1e-6);
  g_assert_cmpfloat_with_epsilon (tvw_segmentation_get_fraction (seg, 0), 1.0, 1e-12);
  g_assert_null (tvw_segmentation_get_category (seg, 0));
}

static void
test_bad_outputs (void)
{
  const gint64 batch[4] = { 2, 3, 4, 4 };
  const gint64 many[3] = { 300, 1, 1 };
  const gint64 flat[2] = { 1, 21 };
  g_autoptr(TvwTensor) two = tvw_tensor_new (TVW_DTYPE_FLOAT32, batch, 4);
  g_autoptr(TvwTensor) bytes = tvw_tensor_new (TVW_DTYPE_UINT8, batch + 1, 3);
  g_autoptr(TvwTensor) classes = tvw_tensor_new (TVW_DTYPE_FLOAT32, many, 3);
  g_autoptr(TvwTensor) logits = tvw_tensor_new (TVW_DTYPE_FLOAT32, flat, 2);
  g_autoptr(TvwTensor) good = tvw_tensor_new (TVW_DTYPE_FLOAT32, batch + 1, 3);
  TvwTensor *bad[] = { two, bytes, classes, logits };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (tvw_segmentation_new_from_output (bad[i], 8, 8, NULL, &error));
      g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
    }

  {
    g_autoptr(GError) error = NULL;

    g_assert_null (tvw_segmentation_new_from_output (good, 0, 8, NULL, &error));
    g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_voc_palette (void)
{
  /* VOC's label colours: background, aeroplane, bicycle, bird, person,
   * tvmonitor, and the 255 “void” border. */
  g_assert_cmphex (tvw_segmentation_palette_color (0), ==, 0x000000);
  g_assert_cmphex (tvw_segmentation_palette_color (1), ==, 0x800000);
  g_assert_cmphex (tvw_segmentation_palette_color (2), ==, 0x008000);
  g_assert_cmphex (tvw_segmentation_palette_color (3), ==, 0x808000);
  g_assert_cmphex (tvw_segmentation_palette_color (15), ==, 0xc08080);
  g_assert_cmphex (tvw_segmentation_palette_color (20), ==, 0x004080);
  g_assert_cmphex (tvw_segmentation_palette_color (255), ==, 0xe0e0c0);
}

static GdkPixbuf *
gradient_image (int      width,
                int      height,
                gboolean alpha)
{
  GdkPixbuf *image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (image);
  int stride = gdk_pixbuf_get_rowstride (image), channels = alpha ? 4 : 3;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int i = 0; i < channels; i++)
        pixels[y * stride + x * channels + i] = (guint8) (x * 7 + y * 13 + i * 50);

  return image;
}

static void
test_renders (void)
{
  const int w = 11, h = 9;
  g_autoptr(TvwTensor) logits = random_logits (3, 4, 3, 3);
  g_autoptr(TvwSegmentation) seg = tvw_segmentation_new_from_output (logits, w, h, NULL, NULL);
  g_autoptr(GdkPixbuf) image = gradient_image (w, h, TRUE);
  g_autoptr(GdkPixbuf) mask = tvw_segmentation_render_mask (seg, NULL);
  g_autoptr(GdkPixbuf) none = NULL;
  g_autoptr(GdkPixbuf) full = NULL;
  g_autoptr(GdkPixbuf) half = NULL;
  g_autoptr(GdkPixbuf) wrong = gradient_image (w + 1, h, FALSE);
  g_autoptr(GError) error = NULL;
  const guint8 *src = gdk_pixbuf_read_pixels (image);
  int src_stride = gdk_pixbuf_get_rowstride (image);
  gboolean has_background = FALSE, has_other = FALSE;

  none = tvw_segmentation_render_overlay (seg, image, 0.0, &error);
  g_assert_no_error (error);
  full = tvw_segmentation_render_overlay (seg, image, 1.0, &error);
  g_assert_no_error (error);
  half = tvw_segmentation_render_overlay (seg, image, 0.5, &error);
  g_assert_no_error (error);

  g_assert_cmpint (gdk_pixbuf_get_width (mask), ==, w);
  g_assert_cmpint (gdk_pixbuf_get_height (full), ==, h);
  g_assert_false (gdk_pixbuf_get_has_alpha (full));

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint k = tvw_segmentation_get_class_at (seg, x, y);
        guint32 color = tvw_segmentation_palette_color (k);
        guint8 rgb[3] = { color >> 16, (color >> 8) & 0xff, color & 0xff };
        const guint8 *s = src + y * src_stride + x * 4;
        const guint8 *m = gdk_pixbuf_read_pixels (mask) + y * gdk_pixbuf_get_rowstride (mask) + x * 3;
        const guint8 *n = gdk_pixbuf_read_pixels (none) + y * gdk_pixbuf_get_rowstride (none) + x * 3;
        const guint8 *f = gdk_pixbuf_read_pixels (full) + y * gdk_pixbuf_get_rowstride (full) + x * 3;
        const guint8 *a = gdk_pixbuf_read_pixels (half) + y * gdk_pixbuf_get_rowstride (half) + x * 3;

        has_background |= k == 0;
        has_other |= k != 0;
        for (int i = 0; i < 3; i++)
          {
            g_assert_cmpuint (m[i], ==, rgb[i]);
            g_assert_cmpuint (n[i], ==, s[i]);
            /* The background keeps the image. */
            g_assert_cmpuint (f[i], ==, k == 0 ? s[i] : rgb[i]);
            g_assert_cmpint (ABS ((int) a[i] - (k == 0 ? s[i] : (s[i] + rgb[i] + 1) / 2)), <=, 1);
          }
      }
  g_assert_true (has_background && has_other);

  g_assert_null (tvw_segmentation_render_overlay (seg, wrong, 0.5, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

static TvwModel *
model_with_options (const char *architecture,
                    gboolean    aux_loss)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GError) error = NULL;
  TvwModel *model;

  g_variant_dict_insert (&dict, "aux_loss", "b", aux_loss);
  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                          "architecture", architecture,
                          "options", g_variant_dict_end (&dict),
                          "n-threads", 2,
                          NULL);
  g_assert_no_error (error);
  return model;
}

/* The outputs, their names and order as torchvision's OrderedDict; forward
 * gives the first. */
static void
test_forward_outputs (void)
{
  g_autoptr(TvwModel) model = model_with_options ("deeplabv3_mobilenet_v3_large", TRUE);
  g_autoptr(TvwModel) plain = model_with_options ("lraspp_mobilenet_v3_large", FALSE);
  const gint64 shape[4] = { 2, 3, 37, 51 };
  g_autoptr(TvwTensor) input = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, 4);
  g_autoptr(GListModel) outputs = NULL;
  g_autoptr(TvwTensor) out = NULL;
  g_autoptr(TvwTensor) aux = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_auto(GStrv) names = NULL;
  g_autoptr(GError) error = NULL;
  float *x = tvw_tensor_get_data (input);

  for (gsize i = 0; i < tvw_tensor_get_n_elements (input); i++)
    x[i] = sinf ((float) i * 0.37f);

  names = tvw_model_get_output_names (model);
  g_assert_cmpstrv (names, ((const char *[]) { "out", "aux", NULL }));
  outputs = tvw_model_forward_outputs (model, input, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (outputs), ==, 2);
  g_assert_true (g_list_model_get_item_type (outputs) == TVW_TYPE_TENSOR);
  out = g_list_model_get_item (outputs, 0);
  aux = g_list_model_get_item (outputs, 1);
  for (guint k = 0; k < 2; k++)
    {
      TvwTensor *t = k == 0 ? out : aux;
      guint n_dims;
      const gint64 *s = tvw_tensor_get_shape (t, &n_dims);

      g_assert_cmpuint (n_dims, ==, 4);
      g_assert_cmpint (s[0], ==, 2);
      g_assert_cmpint (s[1], ==, 21);
      /* Upsampled to the input's size, whatever it is. */
      g_assert_cmpint (s[2], ==, 37);
      g_assert_cmpint (s[3], ==, 51);
    }

  first = tvw_model_forward (model, input, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (tvw_tensor_get_data (first), tvw_tensor_get_n_elements (first) * sizeof (float),
                   tvw_tensor_get_data (out),
                   tvw_tensor_get_n_elements (first) * sizeof (float));
  /* The auxiliary classifier is another head: its output differs. */
  g_assert_true (memcmp (tvw_tensor_get_data (first),
                         tvw_tensor_get_data (aux),
                         tvw_tensor_get_n_elements (first) * sizeof (float)) != 0);

  g_clear_pointer (&names, g_strfreev);
  names = tvw_model_get_output_names (plain);
  g_assert_cmpstrv (names, ((const char *[]) { "out", NULL }));
}

/* The weights entries' num_params (torchvision counts the auxiliary
 * classifier, which they have): every parameter declared, none twice. */
static void
test_parameter_counts (void)
{
  static const struct { const char *name; gboolean aux; gint64 num_params; } models[] = {
    { "fcn_resnet50", TRUE, 35322218 },
    { "fcn_resnet101", TRUE, 54314346 },
    { "deeplabv3_resnet50", TRUE, 42004074 },
    { "deeplabv3_resnet101", TRUE, 60996202 },
    { "deeplabv3_mobilenet_v3_large", TRUE, 11029328 },
    { "lraspp_mobilenet_v3_large", FALSE, 3221538 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (models); i++)
    {
      g_autoptr(TvwModel) model = model_with_options (models[i].name, models[i].aux);

      g_assert_cmpint (tvw_model_count_parameters (model), ==, models[i].num_params);
    }
}

/* torchvision: LR-ASPP has no auxiliary loss; weights_backbone other than
 * None is refused rather than silently ignored. */
static void
test_refused_options (void)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;

  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                          "architecture", "lraspp_mobilenet_v3_large",
                          "options", g_variant_new_parsed ("{'aux_loss': <true>}"),
                          NULL);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_null (model);
  g_clear_error (&error);

  g_variant_dict_insert (&dict, "weights_backbone", "s", "ResNet50_Weights.IMAGENET1K_V1");
  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                          "architecture", "fcn_resnet50",
                          "options", g_variant_dict_end (&dict),
                          NULL);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "weights_backbone"));
  g_assert_null (model);
}

static void
segmented_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  TvwSegmentation **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = tvw_model_segment_finish (TVW_MODEL (object), result, &error);
  g_assert_no_error (error);
}

/* The image's own size, the preset without weights, the same result
 * synchronously and asynchronously. */
static void
test_model_segment (void)
{
  g_autoptr(TvwModel) model = model_with_options ("lraspp_mobilenet_v3_large", FALSE);
  g_autoptr(GdkPixbuf) image = gradient_image (90, 61, FALSE);
  g_autoptr(TvwSegmentation) seg = NULL;
  g_autoptr(TvwSegmentation) later = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GError) error = NULL;

  seg = tvw_model_segment (model, image, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_segmentation_get_width (seg), ==, 90);
  g_assert_cmpuint (tvw_segmentation_get_height (seg), ==, 61);
  g_assert_cmpuint (tvw_segmentation_get_n_classes (seg), ==, 21);

  tvw_model_segment_async (model, image, NULL, segmented_cb, &later);
  while (later == NULL)
    g_main_context_iteration (NULL, TRUE);

  a = tvw_segmentation_get_class_map (seg);
  b = tvw_segmentation_get_class_map (later);
  g_assert_true (g_bytes_equal (a, b));
}

/* A classifier's output is no segmentation. */
static void
test_classifier_refused (void)
{
  g_autoptr(TvwModel) model = tvw_model_new ("mobilenet_v3_small", 0, NULL, NULL);
  g_autoptr(GdkPixbuf) image = gradient_image (40, 30, FALSE);
  g_autoptr(GError) error = NULL;

  g_assert_null (tvw_model_segment (model, image, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/segmentation/argmax-of-upsampled-logits", test_argmax_of_upsampled);
  g_test_add_func ("/tvw/segmentation/ties-go-to-the-first-class", test_ties_go_to_the_first_class);
  g_test_add_func ("/tvw/segmentation/bad-outputs", test_bad_outputs);
  g_test_add_func ("/tvw/segmentation/voc-palette", test_voc_palette);
  g_test_add_func ("/tvw/segmentation/renders", test_renders);
  g_test_add_func ("/tvw/segmentation/forward-outputs", test_forward_outputs);
  g_test_add_func ("/tvw/segmentation/refused-options", test_refused_options);
  g_test_add_func ("/tvw/segmentation/parameter-counts", test_parameter_counts);
  g_test_add_func ("/tvw/segmentation/model-segment", test_model_segment);
  g_test_add_func ("/tvw/segmentation/classifier-refused", test_classifier_refused);

  return g_test_run ();
}
