/* tvw-detection-render.c — a detection drawn over its image
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cairo draws the boxes and the skeletons, Pango the labels: a category
 * name can be any UTF-8 text of a weights card, which a built-in glyph set
 * could not show.  Both are what GTK draws with, so the viewer and the
 * library share them.
 */

#include "config.h"

#include <math.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "tvw-error.h"
#include "tvw-detection.h"

/* The COCO person skeleton torchvision's documentation draws keypoints
 * with (`connect_skeleton` of the visualization utilities' example), by
 * the names of the weights' `keypoint_names`. */
static const char * const skeleton[][2] = {
  { "nose", "left_eye" }, { "nose", "right_eye" },
  { "left_eye", "left_ear" }, { "right_eye", "right_ear" },
  { "nose", "left_shoulder" }, { "nose", "right_shoulder" },
  { "left_shoulder", "left_elbow" }, { "right_shoulder", "right_elbow" },
  { "left_elbow", "left_wrist" }, { "right_elbow", "right_wrist" },
  { "left_shoulder", "left_hip" }, { "right_shoulder", "right_hip" },
  { "left_hip", "left_knee" }, { "right_hip", "right_knee" },
  { "left_knee", "left_ankle" }, { "right_knee", "right_ankle" },
};

/* How much of an object's colour covers its mask pixels, in 1/256. */
#define MASK_ALPHA 128

static void
set_color (cairo_t *cr,
           guint32  color)
{
  cairo_set_source_rgb (cr, (color >> 16) / 255.0, ((color >> 8) & 0xff) / 255.0,
                        (color & 0xff) / 255.0);
}

/* Black on light colours, white on dark ones. */
static guint32
contrast_color (guint32 color)
{
  guint luma = (299 * (color >> 16) + 587 * ((color >> 8) & 0xff) + 114 * (color & 0xff)) / 1000;

  return luma > 128 ? 0x000000 : 0xffffff;
}

static void
tint_mask (TvwDetection *self,
           guint         index,
           guint8       *data,
           int           stride)
{
  guint32 color = tvw_detection_get_color (self, index);
  guint rgb[3] = { color >> 16, (color >> 8) & 0xff, color & 0xff };
  guint x0, y0, w, h;

  if (!tvw_detection_get_mask_bounds (self, index, &x0, &y0, &w, &h))
    return;

  for (guint y = y0; y < y0 + h; y++)
    for (guint x = x0; x < x0 + w; x++)
      if (tvw_detection_get_mask_at (self, index, x, y))
        {
          guint32 *p = (guint32 *) (data + (gsize) y * stride) + x;
          guint32 v = *p, out = 0xff000000;

          for (int c = 0; c < 3; c++)
            {
              guint s = (v >> (16 - 8 * c)) & 0xff;

              out |= ((s * (256 - MASK_ALPHA) + rgb[c] * MASK_ALPHA + 128) >> 8) << (16 - 8 * c);
            }
          *p = out;
        }
}

static int
keypoint_index (TvwDetection *self,
                const char   *name)
{
  for (guint k = 0; k < tvw_detection_get_n_keypoints (self); k++)
    if (g_strcmp0 (tvw_detection_get_keypoint_name (self, k), name) == 0)
      return (int) k;
  return -1;
}

static void
draw_keypoints (TvwDetection *self,
                guint         index,
                cairo_t      *cr,
                double        line_width)
{
  guint32 color = tvw_detection_get_color (self, index);
  guint n = tvw_detection_get_n_keypoints (self);
  double x, y, x2, y2;

  set_color (cr, color);
  cairo_set_line_width (cr, line_width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (gsize i = 0; i < G_N_ELEMENTS (skeleton); i++)
    {
      int a = keypoint_index (self, skeleton[i][0]);
      int b = keypoint_index (self, skeleton[i][1]);

      if (a < 0 || b < 0)
        continue;
      tvw_detection_get_keypoint (self, index, (guint) a, &x, &y, NULL);
      tvw_detection_get_keypoint (self, index, (guint) b, &x2, &y2, NULL);
      cairo_move_to (cr, x, y);
      cairo_line_to (cr, x2, y2);
      cairo_stroke (cr);
    }

  set_color (cr, contrast_color (color));
  for (guint k = 0; k < n; k++)
    {
      tvw_detection_get_keypoint (self, index, k, &x, &y, NULL);
      cairo_arc (cr, x, y, line_width + 1, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
draw_label (TvwDetection *self,
            guint         index,
            cairo_t      *cr,
            PangoLayout  *layout,
            double        line_width)
{
  guint32 color = tvw_detection_get_color (self, index);
  g_autofree char *text = NULL;
  double x1, y1, top;
  int tw, th;

  tvw_detection_get_box (self, index, &x1, &y1, NULL, NULL);
  text = g_strdup_printf ("%s %.2f", tvw_detection_get_category (self, index),
                          tvw_detection_get_score (self, index));
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &tw, &th);

  /* Above the box's top left corner, or inside it at the image's top;
   * moved left as far as the image's right edge needs. */
  x1 = MIN (x1 - line_width / 2, tvw_detection_get_width (self) - (tw + 2 * line_width));
  x1 = MAX (x1, 0);
  top = y1 - line_width / 2 - th;
  if (top < 0)
    top = y1 + line_width / 2;
  set_color (cr, color);
  cairo_rectangle (cr, x1, top, tw + 2 * line_width, th);
  cairo_fill (cr);
  set_color (cr, contrast_color (color));
  cairo_move_to (cr, x1 + line_width, top);
  pango_cairo_show_layout (cr, layout);
}

/* The image as an opaque Cairo surface (xRGB, native endian). */
static cairo_surface_t *
surface_from_pixbuf (GdkPixbuf *image)
{
  int width = gdk_pixbuf_get_width (image), height = gdk_pixbuf_get_height (image);
  int channels = gdk_pixbuf_get_n_channels (image), src_stride = gdk_pixbuf_get_rowstride (image);
  const guint8 *src = gdk_pixbuf_read_pixels (image);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  guint8 *data;
  int stride;

  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *s = src + (gsize) y * src_stride + (gsize) x * channels;

        ((guint32 *) (data + (gsize) y * stride))[x] =
          0xff000000u | ((guint32) s[0] << 16) | ((guint32) s[1] << 8) | s[2];
      }
  cairo_surface_mark_dirty (surface);

  return surface;
}

static GdkPixbuf *
pixbuf_from_surface (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  GdkPixbuf *out = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  const guint8 *data;
  guint8 *dst;
  int stride, dst_stride;

  if (out == NULL)
    return NULL;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  dst = gdk_pixbuf_get_pixels (out);
  dst_stride = gdk_pixbuf_get_rowstride (out);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 v = ((const guint32 *) (data + (gsize) y * stride))[x];
        guint8 *d = dst + (gsize) y * dst_stride + (gsize) x * 3;

        d[0] = (v >> 16) & 0xff;
        d[1] = (v >> 8) & 0xff;
        d[2] = v & 0xff;
      }

  return out;
}

/**
 * tvw_detection_render:
 * @self: a detection
 * @image: the 8-bit RGB or RGBA image it was made from
 * @threshold: the lowest score of the objects drawn
 * @error: return location for an error
 *
 * Draws the objects that score @threshold or more over @image, as
 * torchvision's `draw_bounding_boxes`, `draw_segmentation_masks` and
 * `draw_keypoints` do: each object's mask tinted with its colour
 * ([method@Detection.get_color]) at half opacity, its box, its category
 * and score above the box, and its keypoints joined by the COCO person
 * skeleton (for keypoints named as the weights' `keypoint_names`).  The
 * most confident objects are drawn last, on top.
 *
 * Returns: (transfer full): an RGB image of @image's size, or %NULL if
 *   @image is not the detection's size (or there is not enough memory)
 */
GdkPixbuf *
tvw_detection_render (TvwDetection  *self,
                      GdkPixbuf     *image,
                      double         threshold,
                      GError       **error)
{
  guint width, height, n;
  cairo_surface_t *surface;
  cairo_t *cr;
  g_autoptr(PangoLayout) layout = NULL;
  PangoFontDescription *font;
  GdkPixbuf *out;
  double line_width;

  g_return_val_if_fail (TVW_IS_DETECTION (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (image), NULL);

  width = tvw_detection_get_width (self);
  height = tvw_detection_get_height (self);
  n = tvw_detection_get_n_objects (self);
  if ((guint) gdk_pixbuf_get_width (image) != width ||
      (guint) gdk_pixbuf_get_height (image) != height ||
      gdk_pixbuf_get_bits_per_sample (image) != 8 ||
      gdk_pixbuf_get_colorspace (image) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The render needs the 8-bit RGB image of %u×%u the detection was made "
                   "from, not a %d×%d one", width, height,
                   gdk_pixbuf_get_width (image), gdk_pixbuf_get_height (image));
      return NULL;
    }

  /* Cairo's image surfaces stop there. */
  if (width > 32767 || height > 32767)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The render draws on images of at most 32767 pixels a side, not %u×%u",
                   width, height);
      return NULL;
    }

  surface = surface_from_pixbuf (image);
  if (surface == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                   "Not enough memory to draw on an image of %u×%u pixels", width, height);
      return NULL;
    }

  /* Lines an even number of pixels wide: boxes on whole pixels stay
   * sharp. */
  line_width = 2 * MAX (1, lrint (MIN (width, height) / 500.0));

  if (tvw_detection_has_masks (self))
    {
      cairo_surface_flush (surface);
      for (guint i = n; i-- > 0;)
        if (tvw_detection_get_score (self, i) >= threshold)
          tint_mask (self, i, cairo_image_surface_get_data (surface),
                     cairo_image_surface_get_stride (surface));
      cairo_surface_mark_dirty (surface);
    }

  cr = cairo_create (surface);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);
  for (guint i = n; i-- > 0;)
    {
      double x1, y1, x2, y2;

      if (!(tvw_detection_get_score (self, i) >= threshold))
        continue;
      tvw_detection_get_box (self, i, &x1, &y1, &x2, &y2);
      set_color (cr, tvw_detection_get_color (self, i));
      cairo_set_line_width (cr, line_width);
      cairo_rectangle (cr, x1, y1, x2 - x1, y2 - y1);
      cairo_stroke (cr);
      if (tvw_detection_get_n_keypoints (self) > 0)
        draw_keypoints (self, i, cr, line_width);
    }

  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (font, CLAMP (MIN (width, height) / 40.0, 9.0, 48.0) * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  for (guint i = n; i-- > 0;)
    if (tvw_detection_get_score (self, i) >= threshold)
      draw_label (self, i, cr, layout, line_width);

  cairo_destroy (cr);
  out = pixbuf_from_surface (surface);
  cairo_surface_destroy (surface);
  if (out == NULL)
    g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                 "Not enough memory for an image of %u×%u pixels", width, height);

  return out;
}
