/* test-detection.c — TvwDetection from a detection model's outputs: its
 * accessors, the score filter, masks and keypoints, the render checked
 * pixel by pixel, bad tensors, and TvwModel's detect on a model that is
 * not a detector.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw.h"

static TvwTensor *
floats (const float  *data,
        const gint64 *shape,
        guint         n_dims)
{
  return tvw_tensor_new_from_data (data, shape, n_dims);
}

static TvwTensor *
int64s (const gint64 *data,
        gint64        n)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, (gsize) n * sizeof (gint64));

  return tvw_tensor_new_from_bytes (TVW_DTYPE_INT64, &n, 1, bytes, NULL);
}

/* Three objects as a detector returns them: scores falling. */
static const float three_boxes[] = {
  20, 30, 80, 70,
  2.5f, 4.25f, 10, 12,
  50, 5, 118, 88,
};
static const gint64 three_labels[] = { 1, 3, 7 };
static const float three_scores[] = { 0.9f, 0.6f, 0.3f };

static TvwDetection *
three_objects (const char * const *categories)
{
  g_autoptr(TvwTensor) boxes = floats (three_boxes, (gint64[]) { 3, 4 }, 2);
  g_autoptr(TvwTensor) labels = int64s (three_labels, 3);
  g_autoptr(TvwTensor) scores = floats (three_scores, (gint64[]) { 3 }, 1);
  g_autoptr(GError) error = NULL;
  TvwDetection *det;

  det = tvw_detection_new_from_tensors (120, 90, boxes, labels, scores, NULL, NULL, NULL,
                                        categories, NULL, &error);
  g_assert_no_error (error);
  return det;
}

static void
test_from_tensors (void)
{
  /* Label 3 has an empty name, 7 is past the list: “class N” both. */
  const char * const categories[] = { "__background__", "person", "bicycle", "", NULL };
  g_autoptr(TvwDetection) det = three_objects (categories);
  double x1, y1, x2, y2;
  guint width, height, n;

  g_assert_cmpuint (tvw_detection_get_width (det), ==, 120);
  g_assert_cmpuint (tvw_detection_get_height (det), ==, 90);
  g_assert_cmpuint (tvw_detection_get_n_objects (det), ==, 3);
  g_object_get (det, "width", &width, "height", &height, "n-objects", &n, NULL);
  g_assert_cmpuint (width, ==, 120);
  g_assert_cmpuint (height, ==, 90);
  g_assert_cmpuint (n, ==, 3);

  for (guint i = 0; i < 3; i++)
    {
      tvw_detection_get_box (det, i, &x1, &y1, &x2, &y2);
      g_assert_cmpfloat (x1, ==, three_boxes[i * 4 + 0]);
      g_assert_cmpfloat (y1, ==, three_boxes[i * 4 + 1]);
      g_assert_cmpfloat (x2, ==, three_boxes[i * 4 + 2]);
      g_assert_cmpfloat (y2, ==, three_boxes[i * 4 + 3]);
      g_assert_cmpuint (tvw_detection_get_label (det, i), ==, three_labels[i]);
      g_assert_cmpfloat (tvw_detection_get_score (det, i), ==, three_scores[i]);
      g_assert_cmphex (tvw_detection_get_color (det, i), ==,
                       tvw_segmentation_palette_color ((guint) three_labels[i]));
    }
  g_assert_cmpstr (tvw_detection_get_category (det, 0), ==, "person");
  g_assert_cmpstr (tvw_detection_get_category (det, 1), ==, "class 3");
  g_assert_cmpstr (tvw_detection_get_category (det, 2), ==, "class 7");

  g_assert_false (tvw_detection_has_masks (det));
  g_assert_cmpuint (tvw_detection_get_n_keypoints (det), ==, 0);
}

/* float32 labels (a binding's tensors) are the same labels. */
static void
test_float_labels (void)
{
  const float label_values[] = { 1, 3, 7 };
  g_autoptr(TvwTensor) boxes = floats (three_boxes, (gint64[]) { 3, 4 }, 2);
  g_autoptr(TvwTensor) labels = floats (label_values, (gint64[]) { 3 }, 1);
  g_autoptr(TvwTensor) scores = floats (three_scores, (gint64[]) { 3 }, 1);
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(GError) error = NULL;

  det = tvw_detection_new_from_tensors (120, 90, boxes, labels, scores, NULL, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_detection_get_label (det, 2), ==, 7);
  g_assert_cmpstr (tvw_detection_get_category (det, 0), ==, "class 1");
}

static void
test_filter (void)
{
  g_autoptr(TvwDetection) det = three_objects (NULL);
  g_autoptr(TvwDetection) kept = NULL;
  g_autoptr(TvwDetection) all = NULL;
  g_autoptr(TvwDetection) none = NULL;

  g_assert_cmpuint (tvw_detection_count_above (det, 0.5), ==, 2);
  /* A score equal to the threshold is kept. */
  g_assert_cmpuint (tvw_detection_count_above (det, three_scores[1]), ==, 2);
  g_assert_cmpuint (tvw_detection_count_above (det, 0.0), ==, 3);
  g_assert_cmpuint (tvw_detection_count_above (det, 0.95), ==, 0);

  kept = tvw_detection_filter (det, 0.5);
  g_assert_cmpuint (tvw_detection_get_n_objects (kept), ==, 2);
  g_assert_cmpuint (tvw_detection_get_width (kept), ==, 120);
  g_assert_cmpuint (tvw_detection_get_label (kept, 0), ==, 1);
  g_assert_cmpuint (tvw_detection_get_label (kept, 1), ==, 3);
  g_assert_cmpfloat (tvw_detection_get_score (kept, 1), ==, three_scores[1]);
  g_assert_cmpstr (tvw_detection_get_category (kept, 1), ==, "class 3");

  all = tvw_detection_filter (det, -1);
  g_assert_cmpuint (tvw_detection_get_n_objects (all), ==, 3);
  none = tvw_detection_filter (det, 2);
  g_assert_cmpuint (tvw_detection_get_n_objects (none), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&kept));
  g_assert_finalize_object (g_steal_pointer (&det));
}

static GdkPixbuf *
grey_image (int width,
            int height)
{
  GdkPixbuf *image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);

  gdk_pixbuf_fill (image, 0x606060ff);
  return image;
}

static const guint8 *
pixel (GdkPixbuf *image,
       int        x,
       int        y)
{
  return gdk_pixbuf_read_pixels (image) + y * gdk_pixbuf_get_rowstride (image) +
         x * gdk_pixbuf_get_n_channels (image);
}

static void
assert_pixel (GdkPixbuf *image,
              int        x,
              int        y,
              guint32    rgb)
{
  const guint8 *p = pixel (image, x, y);
  guint32 got = ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];

  if (got != rgb)
    g_error ("pixel (%d, %d) is #%06x, not #%06x", x, y, got, rgb);
}

/* Boxes on whole pixels are drawn 2 pixels wide, centred on the edge:
 * the pixels either side of it take the box's colour exactly; inside,
 * the image is untouched; an object below the threshold is not drawn. */
static void
test_render_boxes (void)
{
  g_autoptr(TvwDetection) det = three_objects (NULL);
  g_autoptr(GdkPixbuf) image = grey_image (120, 90);
  g_autoptr(GdkPixbuf) out = NULL;
  g_autoptr(GdkPixbuf) low = NULL;
  g_autoptr(GError) error = NULL;
  guint32 red = tvw_segmentation_palette_color (1);
  guint32 third = tvw_segmentation_palette_color (7);

  out = tvw_detection_render (det, image, 0.5, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (out), ==, 120);
  g_assert_cmpint (gdk_pixbuf_get_height (out), ==, 90);
  g_assert_false (gdk_pixbuf_get_has_alpha (out));

  /* Object 0: (20, 30)–(80, 70), away from its label at the top left. */
  assert_pixel (out, 19, 50, red);
  assert_pixel (out, 20, 50, red);
  assert_pixel (out, 79, 50, red);
  assert_pixel (out, 80, 50, red);
  assert_pixel (out, 50, 69, red);
  assert_pixel (out, 50, 70, red);
  assert_pixel (out, 18, 50, 0x606060);
  assert_pixel (out, 21, 50, 0x606060);
  assert_pixel (out, 50, 50, 0x606060);
  assert_pixel (out, 50, 71, 0x606060);
  /* Object 2 (0.3): its right edge at x = 118 is not drawn. */
  assert_pixel (out, 118, 60, 0x606060);

  low = tvw_detection_render (det, image, 0.1, &error);
  g_assert_no_error (error);
  assert_pixel (low, 117, 60, third);
  assert_pixel (low, 118, 60, third);
  /* Object 0 is drawn on top of object 2 where they cross: its top
   * edge over the other's left edge. */
  assert_pixel (low, 50, 30, red);
  assert_pixel (low, 49, 50, third);

  /* The source image is not changed. */
  assert_pixel (image, 20, 50, 0x606060);
}

/* A label is written above its box in the box's colour. */
static void
test_render_label (void)
{
  g_autoptr(TvwDetection) det = three_objects (NULL);
  g_autoptr(GdkPixbuf) image = grey_image (120, 90);
  g_autoptr(GdkPixbuf) out = tvw_detection_render (det, image, 0.5, NULL);
  guint32 red = tvw_segmentation_palette_color (1);
  guint n_red = 0, n_white = 0;

  /* The rows just above object 0's top edge, from its left edge. */
  for (int y = 18; y < 29; y++)
    for (int x = 19; x < 60; x++)
      {
        const guint8 *p = pixel (out, x, y);
        guint32 v = ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];

        n_red += v == red;
        n_white += v == 0xffffff;
      }
  /* A filled label background with white text (contrast on dark red). */
  g_assert_cmpuint (n_red, >, 100);
  g_assert_cmpuint (n_white, >, 5);
}

/* A box at the image's right edge keeps its whole label in the image:
 * the tab is moved left to end at the last column. */
static void
test_render_label_at_the_right_edge (void)
{
  const float box_data[] = { 100, 40, 119, 80 };
  const gint64 label_data[] = { 1 };
  const float score_data[] = { 0.9f };
  g_autoptr(TvwTensor) boxes = floats (box_data, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) labels = int64s (label_data, 1);
  g_autoptr(TvwTensor) scores = floats (score_data, (gint64[]) { 1 }, 1);
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(GdkPixbuf) image = grey_image (120, 90);
  g_autoptr(GdkPixbuf) out = NULL;
  g_autoptr(GError) error = NULL;
  guint n_tab = 0;

  det = tvw_detection_new_from_tensors (120, 90, boxes, labels, scores, NULL, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);
  out = tvw_detection_render (det, image, 0.5, &error);
  g_assert_no_error (error);

  /* “class 1 0.90” is wider than the 20 pixels right of x = 100. */
  for (int y = 28; y < 39; y++)
    {
      const guint8 *p = pixel (out, 119, y);

      n_tab += p[0] != 0x60 || p[1] != 0x60;
    }
  g_assert_cmpuint (n_tab, >=, 8);
  for (int y = 28; y < 39; y++)
    g_assert_cmpint (pixel (out, 70, y)[0], !=, 0x60);
}

static void
test_masks (void)
{
  const int w = 40, h = 30;
  g_autofree float *probs = g_new0 (float, 2 * w * h);
  const float boxes_data[] = { 5, 5, 25, 20, 0, 0, 10, 10 };
  const gint64 label_data[] = { 2, 5 };
  const float score_data[] = { 0.8f, 0.7f };
  g_autoptr(TvwTensor) boxes = floats (boxes_data, (gint64[]) { 2, 4 }, 2);
  g_autoptr(TvwTensor) labels = int64s (label_data, 2);
  g_autoptr(TvwTensor) scores = floats (score_data, (gint64[]) { 2 }, 1);
  g_autoptr(TvwTensor) masks = NULL;
  g_autoptr(TvwTensor) masks3 = NULL;
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(TvwDetection) det3 = NULL;
  g_autoptr(TvwDetection) kept = NULL;
  g_autoptr(GBytes) full = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *bits;
  guint64 area = 0;
  guint x, y, mw, mh;

  /* Object 0: a rectangle of 0.9 with a 0.5 border (not in: “above
   * 0.5”) and one lone pixel of 0.51 outside its box; object 1: none. */
  for (int j = 8; j < 18; j++)
    for (int i = 6; i < 24; i++)
      probs[j * w + i] = (i == 6 || j == 8) ? 0.5f : 0.9f;
  probs[27 * w + 33] = 0.51f;
  for (int i = 0; i < w * h; i++)
    probs[w * h + i] = 0.25f;

  masks = floats (probs, (gint64[]) { 2, 1, h, w }, 4);
  det = tvw_detection_new_from_tensors (w, h, boxes, labels, scores, masks, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tvw_detection_has_masks (det));

  full = tvw_detection_get_mask (det, 0);
  g_assert_cmpuint (g_bytes_get_size (full), ==, w * h);
  bits = g_bytes_get_data (full, NULL);
  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++)
      {
        gboolean want = probs[j * w + i] > 0.5f;

        g_assert_cmpint (bits[j * w + i], ==, want);
        g_assert_cmpint (tvw_detection_get_mask_at (det, 0, i, j), ==, want);
        area += want;
      }
  g_assert_cmpuint (tvw_detection_get_mask_area (det, 0), ==, area);
  g_assert_cmpuint (area, ==, 17 * 9 + 1);
  g_assert_true (tvw_detection_get_mask_bounds (det, 0, &x, &y, &mw, &mh));
  g_assert_cmpuint (x, ==, 7);
  g_assert_cmpuint (y, ==, 9);
  g_assert_cmpuint (mw, ==, 34 - 7);
  g_assert_cmpuint (mh, ==, 28 - 9);

  g_assert_false (tvw_detection_get_mask_bounds (det, 1, NULL, NULL, NULL, NULL));
  g_assert_cmpuint (tvw_detection_get_mask_area (det, 1), ==, 0);
  g_assert_false (tvw_detection_get_mask_at (det, 1, 3, 3));

  /* K×H×W masks are the same masks; a filter keeps them. */
  masks3 = floats (probs, (gint64[]) { 2, h, w }, 3);
  det3 = tvw_detection_new_from_tensors (w, h, boxes, labels, scores, masks3, NULL, NULL,
                                         NULL, NULL, &error);
  g_assert_no_error (error);
  kept = tvw_detection_filter (det3, 0.75);
  g_assert_cmpuint (tvw_detection_get_n_objects (kept), ==, 1);
  {
    g_autoptr(GBytes) again = tvw_detection_get_mask (kept, 0);

    g_assert_true (g_bytes_equal (full, again));
  }
}

/* Mask pixels are tinted with the object's colour at half opacity
 * (fixed point: (image·128 + colour·128 + 128) >> 8); the rest of the
 * box keeps the image's colours. */
static void
test_render_mask_tint (void)
{
  const int w = 64, h = 48;
  g_autofree float *probs = g_new0 (float, w * h);
  const float box_data[] = { 10, 20, 50, 44 };
  const gint64 label_data[] = { 2 };
  const float score_data[] = { 0.9f };
  g_autoptr(TvwTensor) boxes = floats (box_data, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) labels = int64s (label_data, 1);
  g_autoptr(TvwTensor) scores = floats (score_data, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) masks = NULL;
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(GdkPixbuf) image = grey_image (w, h);
  g_autoptr(GdkPixbuf) out = NULL;
  g_autoptr(GError) error = NULL;
  guint32 color = tvw_segmentation_palette_color (2);
  guint32 tint = 0;

  for (int j = 22; j < 35; j++)
    for (int i = 20; i < 45; i++)
      probs[j * w + i] = 1.0f;
  masks = floats (probs, (gint64[]) { 1, 1, h, w }, 4);
  det = tvw_detection_new_from_tensors (w, h, boxes, labels, scores, masks, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);

  for (int c = 0; c < 3; c++)
    tint |= ((0x60 * 128 + ((color >> (16 - 8 * c)) & 0xff) * 128 + 128) >> 8) << (16 - 8 * c);

  out = tvw_detection_render (det, image, 0.5, &error);
  g_assert_no_error (error);
  assert_pixel (out, 30, 30, tint);
  assert_pixel (out, 20, 22, tint);
  assert_pixel (out, 44, 34, tint);
  assert_pixel (out, 15, 30, 0x606060);
  assert_pixel (out, 45, 30, 0x606060);
  assert_pixel (out, 10, 30, color);

  /* Below the threshold: no tint either. */
  g_clear_object (&out);
  out = tvw_detection_render (det, image, 0.95, &error);
  g_assert_no_error (error);
  assert_pixel (out, 30, 30, 0x606060);
}

static const char * const coco_keypoints[] = {
  "nose", "left_eye", "right_eye", "left_ear", "right_ear",
  "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
  "left_wrist", "right_wrist", "left_hip", "right_hip",
  "left_knee", "right_knee", "left_ankle", "right_ankle", NULL
};

/* One person: its keypoints read back with their names and scores, and
 * drawn: the skeleton's bones in the object's colour, the joints as
 * white dots (on a dark colour). */
static TvwDetection *
one_person (const char * const *names)
{
  const float box_data[] = { 2, 2, 98, 118 };
  const gint64 label_data[] = { 1 };
  const float score_data[] = { 0.99f };
  float kp[17 * 3], kps[17];
  g_autoptr(TvwTensor) boxes = floats (box_data, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) labels = int64s (label_data, 1);
  g_autoptr(TvwTensor) scores = floats (score_data, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) keypoints = NULL;
  g_autoptr(TvwTensor) keypoints_scores = NULL;
  g_autoptr(GError) error = NULL;
  TvwDetection *det;

  /* Every keypoint on the left of the image, down a column, except the
   * left shoulder and elbow: one vertical bone at x = 60, y 40 to 80
   * (2 pixels wide: columns 59 and 60). */
  for (int k = 0; k < 17; k++)
    {
      kp[k * 3 + 0] = 20;
      kp[k * 3 + 1] = 10 + 6 * k;
      kp[k * 3 + 2] = 1;
      kps[k] = 0.25f * k - 1;
    }
  kp[5 * 3 + 0] = 60;
  kp[5 * 3 + 1] = 40;
  kp[7 * 3 + 0] = 60;
  kp[7 * 3 + 1] = 80;
  keypoints = floats (kp, (gint64[]) { 1, 17, 3 }, 3);
  keypoints_scores = floats (kps, (gint64[]) { 1, 17 }, 2);

  det = tvw_detection_new_from_tensors (100, 120, boxes, labels, scores, NULL, keypoints,
                                        keypoints_scores, NULL, names, &error);
  g_assert_no_error (error);
  return det;
}

static void
test_keypoints (void)
{
  g_autoptr(TvwDetection) det = one_person (coco_keypoints);
  g_autoptr(TvwDetection) unnamed = NULL;
  g_autoptr(TvwDetection) kept = NULL;
  double x, y, score;

  g_assert_cmpuint (tvw_detection_get_n_keypoints (det), ==, 17);
  g_assert_cmpstr (tvw_detection_get_keypoint_name (det, 0), ==, "nose");
  g_assert_cmpstr (tvw_detection_get_keypoint_name (det, 16), ==, "right_ankle");
  tvw_detection_get_keypoint (det, 0, 7, &x, &y, &score);
  g_assert_cmpfloat (x, ==, 60);
  g_assert_cmpfloat (y, ==, 80);
  g_assert_cmpfloat (score, ==, 0.75);
  tvw_detection_get_keypoint (det, 0, 16, &x, &y, &score);
  g_assert_cmpfloat (y, ==, 10 + 6 * 16);
  g_assert_cmpfloat (score, ==, 3);

  /* Names that do not fit the keypoints are dropped. */
  unnamed = one_person ((const char * const[]) { "nose", "left_eye", NULL });
  g_assert_null (tvw_detection_get_keypoint_name (unnamed, 0));

  kept = tvw_detection_filter (det, 0.5);
  tvw_detection_get_keypoint (kept, 0, 5, &x, &y, NULL);
  g_assert_cmpfloat (x, ==, 60);
  g_assert_cmpfloat (y, ==, 40);
  g_assert_cmpstr (tvw_detection_get_keypoint_name (kept, 5), ==, "left_shoulder");
}

static void
test_render_keypoints (void)
{
  g_autoptr(TvwDetection) det = one_person (coco_keypoints);
  g_autoptr(TvwDetection) unnamed = one_person (NULL);
  g_autoptr(GdkPixbuf) image = grey_image (100, 120);
  g_autoptr(GdkPixbuf) out = NULL;
  g_autoptr(GdkPixbuf) no_skeleton = NULL;
  g_autoptr(GError) error = NULL;
  guint32 red = tvw_segmentation_palette_color (1);

  out = tvw_detection_render (det, image, 0.5, &error);
  g_assert_no_error (error);
  /* The left upper arm, 2 pixels wide around x = 60. */
  assert_pixel (out, 59, 60, red);
  assert_pixel (out, 60, 60, red);
  assert_pixel (out, 58, 60, 0x606060);
  assert_pixel (out, 61, 60, 0x606060);
  /* The joints. */
  assert_pixel (out, 60, 40, 0xffffff);
  assert_pixel (out, 59, 39, 0xffffff);
  assert_pixel (out, 60, 80, 0xffffff);
  assert_pixel (out, 20, 10 + 6 * 16, 0xffffff);

  /* Without names there is no skeleton, only the joints. */
  no_skeleton = tvw_detection_render (unnamed, image, 0.5, &error);
  g_assert_no_error (error);
  assert_pixel (no_skeleton, 60, 60, 0x606060);
  assert_pixel (no_skeleton, 60, 40, 0xffffff);
}

/* No objects: a valid detection, rendered as the image itself. */
static void
test_empty (void)
{
  g_autoptr(TvwTensor) boxes = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0, 4 }, 2);
  g_autoptr(TvwTensor) labels = tvw_tensor_new (TVW_DTYPE_INT64, (gint64[]) { 0 }, 1);
  g_autoptr(TvwTensor) scores = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0 }, 1);
  g_autoptr(TvwTensor) masks = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0, 1, 7, 9 }, 4);
  g_autoptr(TvwTensor) kp = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0, 17, 3 }, 3);
  g_autoptr(TvwTensor) kps = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0, 17 }, 2);
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(TvwDetection) with_masks = NULL;
  g_autoptr(TvwDetection) with_keypoints = NULL;
  g_autoptr(TvwDetection) filtered = NULL;
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 9, 7);
  g_autoptr(GdkPixbuf) out = NULL;
  g_autoptr(GError) error = NULL;

  det = tvw_detection_new_from_tensors (9, 7, boxes, labels, scores, NULL, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_detection_get_n_objects (det), ==, 0);
  g_assert_cmpuint (tvw_detection_count_above (det, 0), ==, 0);
  filtered = tvw_detection_filter (det, 0);
  g_assert_cmpuint (tvw_detection_get_n_objects (filtered), ==, 0);

  with_masks = tvw_detection_new_from_tensors (9, 7, boxes, labels, scores, masks, NULL, NULL,
                                               NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (tvw_detection_has_masks (with_masks));
  with_keypoints = tvw_detection_new_from_tensors (9, 7, boxes, labels, scores, NULL, kp, kps,
                                                   NULL, coco_keypoints, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_detection_get_n_keypoints (with_keypoints), ==, 17);

  /* An RGBA image: its colours, without the alpha. */
  gdk_pixbuf_fill (image, 0x11223344);
  out = tvw_detection_render (with_masks, image, 0, &error);
  g_assert_no_error (error);
  for (int y = 0; y < 7; y++)
    for (int x = 0; x < 9; x++)
      assert_pixel (out, x, y, 0x112233);
}

static void
expect_invalid (guint      width,
                guint      height,
                TvwTensor *boxes,
                TvwTensor *labels,
                TvwTensor *scores,
                TvwTensor *masks,
                TvwTensor *keypoints,
                TvwTensor *keypoints_scores)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (tvw_detection_new_from_tensors (width, height, boxes, labels, scores, masks,
                                                 keypoints, keypoints_scores, NULL, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

/* Tensors that are not one image's K objects are errors, not crashes. */
static void
test_bad_tensors (void)
{
  const float nan_box[] = { 0, 0, NAN, 4 };
  const float minus[] = { -1 };
  const float half[] = { 1.5f };
  const float inf_score[] = { INFINITY };
  const float one_score[] = { 0.5f };
  const gint64 one_label[] = { 1 };
  const float one_box[] = { 0, 0, 4, 4 };
  g_autoptr(TvwTensor) box = floats (one_box, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) label = int64s (one_label, 1);
  g_autoptr(TvwTensor) score = floats (one_score, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) box3 = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 3 }, 2);
  g_autoptr(TvwTensor) box_flat = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 4 }, 1);
  g_autoptr(TvwTensor) box_u8 = tvw_tensor_new (TVW_DTYPE_UINT8, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) box_nan = floats (nan_box, (gint64[]) { 1, 4 }, 2);
  g_autoptr(TvwTensor) two_labels = tvw_tensor_new (TVW_DTYPE_INT64, (gint64[]) { 2 }, 1);
  g_autoptr(TvwTensor) label_minus = floats (minus, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) label_half = floats (half, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) score_inf = floats (inf_score, (gint64[]) { 1 }, 1);
  g_autoptr(TvwTensor) score_2d = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 1 }, 2);
  g_autoptr(TvwTensor) mask_size = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 1, 8, 9 }, 4);
  g_autoptr(TvwTensor) mask_2d = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 1 }, 2);
  g_autoptr(TvwTensor) mask_k = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 2, 1, 7, 9 }, 4);
  g_autoptr(TvwTensor) kp = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 17, 3 }, 3);
  g_autoptr(TvwTensor) kp2 = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 17, 2 }, 3);
  g_autoptr(TvwTensor) kps = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 17 }, 2);
  g_autoptr(TvwTensor) kps16 = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 16 }, 2);

  expect_invalid (9, 7, box3, label, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box_flat, label, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box_u8, label, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box_nan, label, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box, two_labels, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box, label_minus, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box, label_half, score, NULL, NULL, NULL);
  expect_invalid (9, 7, box, label, score_inf, NULL, NULL, NULL);
  expect_invalid (9, 7, box, label, score_2d, NULL, NULL, NULL);
  expect_invalid (9, 7, box, label, score, mask_size, NULL, NULL);
  expect_invalid (9, 7, box, label, score, mask_2d, NULL, NULL);
  expect_invalid (9, 7, box, label, score, mask_k, NULL, NULL);
  expect_invalid (9, 7, box, label, score, NULL, kp, NULL);
  expect_invalid (9, 7, box, label, score, NULL, NULL, kps);
  expect_invalid (9, 7, box, label, score, NULL, kp2, kps);
  expect_invalid (9, 7, box, label, score, NULL, kp, kps16);
  expect_invalid (0, 7, box, label, score, NULL, NULL, NULL);
}

/* The render refuses an image of another size. */
static void
test_render_wrong_image (void)
{
  g_autoptr(TvwDetection) det = three_objects (NULL);
  g_autoptr(GdkPixbuf) image = grey_image (121, 90);
  g_autoptr(GError) error = NULL;

  g_assert_null (tvw_detection_render (det, image, 0.5, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

/* Wider than Cairo draws: an error, not a crash. */
static void
test_render_too_wide (void)
{
  g_autoptr(TvwTensor) boxes = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0, 4 }, 2);
  g_autoptr(TvwTensor) labels = tvw_tensor_new (TVW_DTYPE_INT64, (gint64[]) { 0 }, 1);
  g_autoptr(TvwTensor) scores = tvw_tensor_new (TVW_DTYPE_FLOAT32, (gint64[]) { 0 }, 1);
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(GdkPixbuf) image = grey_image (40000, 1);
  g_autoptr(GError) error = NULL;

  det = tvw_detection_new_from_tensors (40000, 1, boxes, labels, scores, NULL, NULL, NULL,
                                        NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (tvw_detection_render (det, image, 0.5, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

/* int64 tensors: what a detector's labels are. */
static void
test_int64_tensor (void)
{
  const gint64 values[] = { 3, -2, G_GINT64_CONSTANT (1) << 40 };
  g_autoptr(TvwTensor) t = int64s (values, 3);
  g_autoptr(TvwTensor) f = tvw_tensor_to_float (t);
  g_autoptr(TvwTensor) row = tvw_tensor_index (t, 1);
  g_autofree char *text = tvw_tensor_to_string (t);
  g_autoptr(GBytes) bytes = tvw_tensor_get_bytes (t);

  g_assert_cmpint (tvw_tensor_get_dtype (t), ==, TVW_DTYPE_INT64);
  g_assert_cmpint (tvw_tensor_get_data_int64 (t)[2], ==, G_GINT64_CONSTANT (1) << 40);
  g_assert_cmpfloat (tvw_tensor_get_item (t, 1), ==, -2);
  g_assert_cmpfloat (tvw_tensor_item (row), ==, -2);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 3 * sizeof (gint64));
  g_assert_cmpfloat (tvw_tensor_get_data (f)[0], ==, 3);
  g_assert_cmpfloat (tvw_tensor_get_data (f)[2], ==, (float) (G_GINT64_CONSTANT (1) << 40));
  g_assert_cmpstr (text, ==, "tensor(int64, [3])");
}

static void
detected_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GError **out = user_data;

  g_assert_null (tvw_model_detect_finish (TVW_MODEL (object), result, out));
  g_assert_nonnull (*out);
}

/* A classifier has no boxes, labels and scores: detect says so, before
 * running it, synchronously and in a thread. */
static void
test_classifier_refused (void)
{
  g_autoptr(TvwModel) model = tvw_model_new ("mobilenet_v3_small", 0, NULL, NULL);
  g_autoptr(GdkPixbuf) image = grey_image (40, 30);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) later = NULL;

  g_assert_null (tvw_model_detect (model, image, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "mobilenet_v3_small"));

  tvw_model_detect_async (model, image, NULL, detected_cb, &later);
  while (later == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (later, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

static void
detection_ready_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  TvwDetection **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = tvw_model_detect_finish (TVW_MODEL (object), result, &error);
  g_assert_no_error (error);
}

/* A detector with random parameters (FCOS, when its builder is there):
 * detect finds in an image exactly the objects forward_outputs returns for
 * it as a [0, 1] batch of one, at the image's size, synchronously and in a
 * thread; with a score threshold nothing passes, an empty detection. */
static void
test_model_detect (void)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_auto(GVariantDict) strict = G_VARIANT_DICT_INIT (NULL);
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwModel) none_pass = NULL;
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 45, 37);
  g_autoptr(TvwTensor) pixels = NULL;
  g_autoptr(TvwTensor) scaled = NULL;
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(GListModel) outputs = NULL;
  g_autoptr(TvwTensor) scores = NULL;
  g_autoptr(TvwTensor) labels = NULL;
  g_autoptr(TvwDetection) det = NULL;
  g_autoptr(TvwDetection) later = NULL;
  g_autoptr(TvwDetection) empty = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *p = gdk_pixbuf_get_pixels (image);
  float *f;

  if (!tvw_is_model_supported ("fcos_resnet50_fpn"))
    {
      g_test_skip ("no FCOS builder");
      return;
    }

  for (int i = 0; i < 37 * gdk_pixbuf_get_rowstride (image); i++)
    p[i] = (guint8) (i * 37 % 251);

  g_variant_dict_insert (&dict, "min_size", "x", (gint64) 64);
  g_variant_dict_insert (&dict, "max_size", "x", (gint64) 96);
  g_variant_dict_insert (&dict, "score_thresh", "d", 0.0);
  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error, "architecture", "fcos_resnet50_fpn",
                          "options", g_variant_dict_end (&dict), "n-threads", 2, NULL);
  g_assert_no_error (error);

  det = tvw_model_detect (model, image, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_detection_get_width (det), ==, 45);
  g_assert_cmpuint (tvw_detection_get_height (det), ==, 37);
  g_assert_cmpuint (tvw_detection_get_n_objects (det), >, 0);
  g_assert_cmpuint (tvw_detection_get_n_objects (det), <=, 100);

  /* The same image as torchvision's ObjectDetection preset makes it. */
  pixels = tvw_tensor_new_from_pixbuf (image);
  scaled = tvw_tensor_to_float (pixels);
  f = tvw_tensor_get_data (scaled);
  for (gsize i = 0; i < tvw_tensor_get_n_elements (scaled); i++)
    f[i] /= 255.f;
  batch = tvw_tensor_unsqueeze (scaled, 0);
  outputs = tvw_model_forward_outputs (model, batch, NULL, &error);
  g_assert_no_error (error);
  scores = g_list_model_get_item (outputs, 2);
  labels = g_list_model_get_item (outputs, 1);
  g_assert_cmpint (tvw_tensor_get_dtype (labels), ==, TVW_DTYPE_INT64);
  g_assert_cmpuint (tvw_tensor_get_n_elements (scores), ==, tvw_detection_get_n_objects (det));
  for (guint i = 0; i < tvw_detection_get_n_objects (det); i++)
    {
      g_assert_cmpfloat_with_epsilon (tvw_detection_get_score (det, i),
                                      tvw_tensor_get_item (scores, i), 1e-5);
      g_assert_cmpuint (tvw_detection_get_label (det, i), ==, tvw_tensor_get_item (labels, i));
      g_assert_cmpstr (tvw_detection_get_category (det, i), !=, NULL);
    }

  tvw_model_detect_async (model, image, NULL, detection_ready_cb, &later);
  while (later == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (tvw_detection_get_n_objects (later), ==, tvw_detection_get_n_objects (det));
  for (guint i = 0; i < tvw_detection_get_n_objects (det); i++)
    g_assert_cmpfloat (tvw_detection_get_score (later, i), ==, tvw_detection_get_score (det, i));

  g_variant_dict_insert (&strict, "min_size", "x", (gint64) 64);
  g_variant_dict_insert (&strict, "max_size", "x", (gint64) 96);
  g_variant_dict_insert (&strict, "score_thresh", "d", 1.0);
  none_pass = g_initable_new (TVW_TYPE_MODEL, NULL, &error, "architecture", "fcos_resnet50_fpn",
                              "options", g_variant_dict_end (&strict), "n-threads", 2, NULL);
  g_assert_no_error (error);
  empty = tvw_model_detect (none_pass, image, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_detection_get_n_objects (empty), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/detection/from-tensors", test_from_tensors);
  g_test_add_func ("/tvw/detection/float-labels", test_float_labels);
  g_test_add_func ("/tvw/detection/filter", test_filter);
  g_test_add_func ("/tvw/detection/render-boxes-at-their-edges", test_render_boxes);
  g_test_add_func ("/tvw/detection/render-label-above-the-box", test_render_label);
  g_test_add_func ("/tvw/detection/render-label-inside-at-the-right-edge",
                   test_render_label_at_the_right_edge);
  g_test_add_func ("/tvw/detection/masks-above-one-half", test_masks);
  g_test_add_func ("/tvw/detection/render-mask-tint", test_render_mask_tint);
  g_test_add_func ("/tvw/detection/keypoints", test_keypoints);
  g_test_add_func ("/tvw/detection/render-skeleton", test_render_keypoints);
  g_test_add_func ("/tvw/detection/empty", test_empty);
  g_test_add_func ("/tvw/detection/bad-tensors", test_bad_tensors);
  g_test_add_func ("/tvw/detection/render-wrong-image", test_render_wrong_image);
  g_test_add_func ("/tvw/detection/render-too-wide", test_render_too_wide);
  g_test_add_func ("/tvw/detection/int64-tensor", test_int64_tensor);
  g_test_add_func ("/tvw/detection/classifier-refused", test_classifier_refused);
  g_test_add_func ("/tvw/detection/model-detect", test_model_detect);

  return g_test_run ();
}
