/* tvw-segmentation.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-resample-private.h"
#include "tvw-segmentation.h"

/**
 * TvwSegmentation:
 *
 * The result of a semantic segmentation model on one image: a class for
 * every pixel of the image, at the image's own size, and what each class
 * covers.
 *
 * It is what torchvision users compute from the model's `out`: the logits
 * upsampled bilinearly (`align_corners=False`) to the image's size, then
 * the most likely class of each pixel (the first one on a tie, as
 * `argmax`).  The score of a class is the mean softmax probability of the
 * pixels it wins.
 *
 * [method@Model.segment] makes one from an image;
 * [method@Segmentation.render_overlay] draws it over the image in the
 * Pascal VOC palette ([func@Segmentation.palette_color]).
 */

struct _TvwSegmentation
{
  GObject   parent_instance;

  guint     width, height;
  guint     n_classes;
  GBytes   *class_map;         /* width·height class indices (u8) */
  char    **categories;        /* n_classes names, or NULL */
  guint64  *areas;             /* [n_classes] */
  double   *scores;            /* [n_classes] */
};

G_DEFINE_FINAL_TYPE (TvwSegmentation, tvw_segmentation, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_N_CLASSES,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
tvw_segmentation_finalize (GObject *object)
{
  TvwSegmentation *self = (TvwSegmentation *)object;

  g_clear_pointer (&self->class_map, g_bytes_unref);
  g_clear_pointer (&self->categories, g_strfreev);
  g_clear_pointer (&self->areas, g_free);
  g_clear_pointer (&self->scores, g_free);

  G_OBJECT_CLASS (tvw_segmentation_parent_class)->finalize (object);
}

static void
tvw_segmentation_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TvwSegmentation *self = TVW_SEGMENTATION (object);

  switch (prop_id)
    {
    case PROP_WIDTH:
      g_value_set_uint (value, self->width);
      break;

    case PROP_HEIGHT:
      g_value_set_uint (value, self->height);
      break;

    case PROP_N_CLASSES:
      g_value_set_uint (value, self->n_classes);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_segmentation_class_init (TvwSegmentationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_segmentation_finalize;
  object_class->get_property = tvw_segmentation_get_property;

  /**
   * TvwSegmentation:width:
   *
   * The width of the class map: the image's.
   */
  props[PROP_WIDTH] =
    g_param_spec_uint ("width", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * TvwSegmentation:height:
   *
   * The height of the class map: the image's.
   */
  props[PROP_HEIGHT] =
    g_param_spec_uint ("height", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * TvwSegmentation:n-classes:
   *
   * The number of classes of the model (channels of its output).
   */
  props[PROP_N_CLASSES] =
    g_param_spec_uint ("n-classes", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_segmentation_init (TvwSegmentation *self)
{
}

/* The most this type numbers: a class index is one byte of the map. */
#define MAX_CLASSES 256

static gpointer
out_of_memory (GError **error,
               guint    width,
               guint    height)
{
  g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
               "Not enough memory for a segmentation of %u×%u pixels", width, height);
  return NULL;
}

/**
 * tvw_segmentation_new_from_output:
 * @output: a segmentation model's `out` for one image: 1×C×h×w or C×h×w
 *   logits
 * @width: the width of the image
 * @height: the height of the image
 * @categories: (nullable) (array zero-terminated=1): the class names (the
 *   weights' `categories`)
 * @error: return location for an error
 *
 * Upsamples @output bilinearly to @width × @height (`align_corners=False`,
 * one class plane at a time: a big image never holds all C planes at once)
 * and takes the most likely class of each pixel.
 *
 * Returns: (transfer full): a new segmentation, or %NULL if @output is not
 *   one image's logits (or has more than 256 classes)
 */
TvwSegmentation *
tvw_segmentation_new_from_output (TvwTensor           *output,
                                  guint                width,
                                  guint                height,
                                  const char * const  *categories,
                                  GError             **error)
{
  g_autoptr(TvwSegmentation) self = NULL;
  const gint64 *shape;
  guint n_dims;
  gint64 c, h, w;
  gsize n_pixels;
  const float *logits;
  g_autofree float *plane = NULL;
  g_autofree float *best = NULL;
  g_autofree float *sum = NULL;
  guint8 *map;

  g_return_val_if_fail (TVW_IS_TENSOR (output), NULL);

  shape = tvw_tensor_get_shape (output, &n_dims);
  if (tvw_tensor_get_dtype (output) != TVW_DTYPE_FLOAT32 ||
      !(n_dims == 3 || (n_dims == 4 && shape[0] == 1)))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A segmentation needs one image's float32 logits (1×C×H×W or C×H×W)");
      return NULL;
    }
  c = shape[n_dims - 3];
  h = shape[n_dims - 2];
  w = shape[n_dims - 1];
  if (c < 1 || c > MAX_CLASSES || h < 1 || w < 1 || h > G_MAXINT || w > G_MAXINT)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A segmentation takes 1 to %d classes of logits on a non-empty map, not "
                   "%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT,
                   MAX_CLASSES, c, h, w);
      return NULL;
    }
  if (width < 1 || height < 1 || width > G_MAXINT || height > G_MAXINT ||
      (guint64) width * height > G_MAXSIZE / sizeof (float))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "A segmentation cannot be %u×%u", width, height);
      return NULL;
    }

  self = g_object_new (TVW_TYPE_SEGMENTATION, NULL);
  self->width = width;
  self->height = height;
  self->n_classes = (guint) c;
  self->areas = g_new0 (guint64, c);
  self->scores = g_new0 (double, c);
  if (categories != NULL)
    {
      self->categories = g_new0 (char *, c + 1);
      for (gint64 k = 0; k < c; k++)
        {
          /* Fewer names than classes: the rest stay unnamed. */
          if (categories[k] == NULL)
            break;
          self->categories[k] = g_strdup (categories[k]);
        }
      for (gint64 k = 0; k < c; k++)
        if (self->categories[k] == NULL)
          self->categories[k] = g_strdup ("");
    }

  n_pixels = (gsize) width * height;
  logits = tvw_tensor_get_data (output);
  plane = g_try_new (float, n_pixels);
  best = g_try_new (float, n_pixels);
  sum = g_try_new (float, n_pixels);
  map = g_try_malloc0 (n_pixels);
  if (plane == NULL || best == NULL || sum == NULL || map == NULL)
    {
      g_free (map);
      return out_of_memory (error, width, height);
    }

  /* One class plane at a time: the running maximum, its class (the first
   * on ties, as argmax) and Σ exp (logit − maximum), rescaled when the
   * maximum grows, so that the winner's probability is 1 / Σ. */
  for (gint64 k = 0; k < c; k++)
    {
      tvw_resample_torch_planes (logits + k * h * w, (int) h, (int) w,
                                 plane, (int) height, (int) width, 1,
                                 TVW_INTERPOLATION_BILINEAR, FALSE);
      if (k == 0)
        {
          memcpy (best, plane, n_pixels * sizeof (float));
          for (gsize i = 0; i < n_pixels; i++)
            sum[i] = 1.f;
          continue;
        }
      for (gsize i = 0; i < n_pixels; i++)
        {
          float v = plane[i];

          if (v > best[i])
            {
              sum[i] = sum[i] * expf (best[i] - v) + 1.f;
              best[i] = v;
              map[i] = (guint8) k;
            }
          else
            sum[i] += expf (v - best[i]);
        }
    }

  for (gsize i = 0; i < n_pixels; i++)
    {
      self->areas[map[i]]++;
      self->scores[map[i]] += 1.0 / sum[i];
    }
  for (gint64 k = 0; k < c; k++)
    if (self->areas[k] > 0)
      self->scores[k] /= (double) self->areas[k];

  self->class_map = g_bytes_new_take (map, n_pixels);
  return g_steal_pointer (&self);
}

/**
 * tvw_segmentation_get_width:
 * @self: a segmentation
 *
 * Returns: the width of the class map (the image's)
 */
guint
tvw_segmentation_get_width (TvwSegmentation *self)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0);

  return self->width;
}

/**
 * tvw_segmentation_get_height:
 * @self: a segmentation
 *
 * Returns: the height of the class map (the image's)
 */
guint
tvw_segmentation_get_height (TvwSegmentation *self)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0);

  return self->height;
}

/**
 * tvw_segmentation_get_n_classes:
 * @self: a segmentation
 *
 * Returns: the number of classes of the model
 */
guint
tvw_segmentation_get_n_classes (TvwSegmentation *self)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0);

  return self->n_classes;
}

/**
 * tvw_segmentation_get_class_map:
 * @self: a segmentation
 *
 * The class of every pixel, one byte each, row after row (width × height
 * bytes), as `output.argmax(0)` would give them.
 *
 * Returns: (transfer full): the class map
 */
GBytes *
tvw_segmentation_get_class_map (TvwSegmentation *self)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), NULL);

  return g_bytes_ref (self->class_map);
}

/**
 * tvw_segmentation_get_class_at:
 * @self: a segmentation
 * @x: a column, less than the width
 * @y: a row, less than the height
 *
 * Returns: the class of the pixel (@x, @y)
 */
guint
tvw_segmentation_get_class_at (TvwSegmentation *self,
                               guint            x,
                               guint            y)
{
  const guint8 *map;

  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0);
  g_return_val_if_fail (x < self->width && y < self->height, 0);

  map = g_bytes_get_data (self->class_map, NULL);
  return map[(gsize) y * self->width + x];
}

/**
 * tvw_segmentation_get_category:
 * @self: a segmentation
 * @class_index: a class, less than [property@Segmentation:n-classes]
 *
 * Returns: (nullable): the name of the class in the weights' categories
 *   (`__background__` for class 0 of VOC), or %NULL without categories
 */
const char *
tvw_segmentation_get_category (TvwSegmentation *self,
                               guint            class_index)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), NULL);
  g_return_val_if_fail (class_index < self->n_classes, NULL);

  if (self->categories == NULL || self->categories[class_index][0] == '\0')
    return NULL;
  return self->categories[class_index];
}

/**
 * tvw_segmentation_get_area:
 * @self: a segmentation
 * @class_index: a class, less than [property@Segmentation:n-classes]
 *
 * Returns: how many pixels are of the class
 */
guint64
tvw_segmentation_get_area (TvwSegmentation *self,
                           guint            class_index)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0);
  g_return_val_if_fail (class_index < self->n_classes, 0);

  return self->areas[class_index];
}

/**
 * tvw_segmentation_get_fraction:
 * @self: a segmentation
 * @class_index: a class, less than [property@Segmentation:n-classes]
 *
 * Returns: the share of the image's pixels that are of the class, from 0
 *   to 1
 */
double
tvw_segmentation_get_fraction (TvwSegmentation *self,
                               guint            class_index)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0.0);
  g_return_val_if_fail (class_index < self->n_classes, 0.0);

  return (double) self->areas[class_index] / ((double) self->width * self->height);
}

/**
 * tvw_segmentation_get_score:
 * @self: a segmentation
 * @class_index: a class, less than [property@Segmentation:n-classes]
 *
 * Returns: the mean softmax probability of the class over the pixels it
 *   wins, 0 when it wins none
 */
double
tvw_segmentation_get_score (TvwSegmentation *self,
                            guint            class_index)
{
  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), 0.0);
  g_return_val_if_fail (class_index < self->n_classes, 0.0);

  return self->scores[class_index];
}

static int
compare_area (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  const guint64 *areas = user_data;
  guint x = *(const guint *) a, y = *(const guint *) b;

  /* Largest first; equal areas by class. */
  if (areas[x] != areas[y])
    return areas[x] < areas[y] ? 1 : -1;
  return (x > y) - (x < y);
}

/**
 * tvw_segmentation_get_classes_present:
 * @self: a segmentation
 * @n_classes: (out): the number of classes returned
 *
 * Returns: (transfer full) (array length=n_classes): the classes that
 *   cover at least one pixel, the largest first
 */
guint *
tvw_segmentation_get_classes_present (TvwSegmentation *self,
                                      guint           *n_classes)
{
  guint *present;
  guint n = 0;

  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), NULL);
  g_return_val_if_fail (n_classes != NULL, NULL);

  present = g_new (guint, self->n_classes);
  for (guint k = 0; k < self->n_classes; k++)
    if (self->areas[k] > 0)
      present[n++] = k;
  g_qsort_with_data (present, (gint) n, sizeof (guint), compare_area, self->areas);

  *n_classes = n;
  return present;
}

/**
 * tvw_segmentation_palette_color:
 * @class_index: a class
 *
 * The colour of a class in the Pascal VOC palette (class 0, the
 * background, is black; 1 is dark red, 15, the person, is pink-beige …),
 * the one VOC's label images and most segmentation demos use.
 *
 * Returns: the colour as 0xRRGGBB
 */
guint32
tvw_segmentation_palette_color (guint class_index)
{
  guint r = 0, g = 0, b = 0;
  guint id = class_index & 0xff;

  /* The bits of the index, three at a time, into each channel's high
   * bits. */
  for (int j = 7; j >= 0; j--)
    {
      r |= ((id >> 0) & 1) << j;
      g |= ((id >> 1) & 1) << j;
      b |= ((id >> 2) & 1) << j;
      id >>= 3;
    }

  return (r << 16) | (g << 8) | b;
}

/**
 * tvw_segmentation_render_mask:
 * @self: a segmentation
 * @error: return location for an error
 *
 * Draws the class map in the VOC palette, at the image's size.
 *
 * Returns: (transfer full): an RGB image, or %NULL if there is not enough
 *   memory for it
 */
GdkPixbuf *
tvw_segmentation_render_mask (TvwSegmentation  *self,
                              GError          **error)
{
  g_autoptr(GdkPixbuf) mask = NULL;
  const guint8 *map;
  guint8 *pixels;
  int stride;

  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), NULL);

  mask = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) self->width, (int) self->height);
  if (mask == NULL)
    return out_of_memory (error, self->width, self->height);
  map = g_bytes_get_data (self->class_map, NULL);
  pixels = gdk_pixbuf_get_pixels (mask);
  stride = gdk_pixbuf_get_rowstride (mask);

  for (guint y = 0; y < self->height; y++)
    for (guint x = 0; x < self->width; x++)
      {
        guint32 color = tvw_segmentation_palette_color (map[(gsize) y * self->width + x]);
        guint8 *p = pixels + (gsize) y * stride + x * 3;

        p[0] = color >> 16;
        p[1] = (color >> 8) & 0xff;
        p[2] = color & 0xff;
      }

  return g_steal_pointer (&mask);
}

/**
 * tvw_segmentation_render_overlay:
 * @self: a segmentation
 * @image: the 8-bit RGB or RGBA image it was made from
 * @opacity: how much of each class's colour covers the image, 0 to 1
 * @error: return location for an error
 *
 * Draws every class but 0 (the background) over @image in the VOC
 * palette, blended with @opacity; background pixels keep the image's
 * colours.
 *
 * Returns: (transfer full): an RGB image of @image's size, or %NULL if
 *   @image is not the segmentation's size (or there is not enough memory)
 */
GdkPixbuf *
tvw_segmentation_render_overlay (TvwSegmentation  *self,
                                 GdkPixbuf        *image,
                                 double            opacity,
                                 GError          **error)
{
  g_autoptr(GdkPixbuf) out = NULL;
  const guint8 *map, *src;
  guint8 *dst;
  int src_stride, dst_stride, channels;
  guint alpha;

  g_return_val_if_fail (TVW_IS_SEGMENTATION (self), NULL);
  g_return_val_if_fail (GDK_IS_PIXBUF (image), NULL);

  if ((guint) gdk_pixbuf_get_width (image) != self->width ||
      (guint) gdk_pixbuf_get_height (image) != self->height ||
      gdk_pixbuf_get_bits_per_sample (image) != 8 ||
      gdk_pixbuf_get_colorspace (image) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "The overlay needs the 8-bit RGB image of %u×%u the segmentation was made "
                   "from, not a %d×%d one", self->width, self->height,
                   gdk_pixbuf_get_width (image), gdk_pixbuf_get_height (image));
      return NULL;
    }

  out = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) self->width, (int) self->height);
  if (out == NULL)
    return out_of_memory (error, self->width, self->height);

  /* Fixed point: alpha / 256. */
  alpha = (guint) lrint (CLAMP (opacity, 0.0, 1.0) * 256.0);
  map = g_bytes_get_data (self->class_map, NULL);
  src = gdk_pixbuf_read_pixels (image);
  src_stride = gdk_pixbuf_get_rowstride (image);
  channels = gdk_pixbuf_get_n_channels (image);
  dst = gdk_pixbuf_get_pixels (out);
  dst_stride = gdk_pixbuf_get_rowstride (out);

  for (guint y = 0; y < self->height; y++)
    for (guint x = 0; x < self->width; x++)
      {
        const guint8 *s = src + (gsize) y * src_stride + (gsize) x * channels;
        guint8 *d = dst + (gsize) y * dst_stride + x * 3;
        guint k = map[(gsize) y * self->width + x];
        guint32 color = tvw_segmentation_palette_color (k);
        guint8 rgb[3] = { color >> 16, (color >> 8) & 0xff, color & 0xff };

        for (int i = 0; i < 3; i++)
          d[i] = k == 0 ? s[i] : (guint8) ((s[i] * (256 - alpha) + rgb[i] * alpha + 128) >> 8);
      }

  return g_steal_pointer (&out);
}
