/* tvw-detection.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-detection.h"
#include "tvw-segmentation.h"

/**
 * TvwDetection:
 *
 * The result of an object detection, instance segmentation or keypoint
 * model on one image: the objects found, most confident first, as
 * torchvision's detection models return them for that image (its dict of
 * `boxes`, `labels`, `scores`, and `masks` or `keypoints` and
 * `keypoints_scores`).
 *
 * Every object has a box in the image's pixels (x1, y1, x2, y2, as
 * torchvision's `boxes`), a label (an index into the weights'
 * `categories`) and its category name, and a score.  Mask R-CNN's objects
 * also have a mask: the pixels where the pasted mask's probability is
 * above 0.5, as torchvision's examples threshold it.  Keypoint R-CNN's
 * objects have keypoints, named by the weights' `keypoint_names`.
 *
 * [method@Model.detect] makes one from an image;
 * [method@Detection.render] draws it over the image;
 * [method@Detection.filter] keeps the objects above a score.
 */

/* A mask is kept as the rectangle around its pixels and those pixels
 * (one byte each, 1 inside): objects are small next to the image. */
typedef struct
{
  guint   x, y, width, height;
  guint64 area;
  guint8 *pixels;
} Mask;

typedef struct
{
  double  box[4];
  guint   label;
  double  score;
  char   *category;
  Mask    mask;
  double *keypoints;           /* [n_keypoints][3]: x, y, score */
} Object;

struct _TvwDetection
{
  GObject   parent_instance;

  guint     width, height;
  guint     n_objects;
  Object   *objects;
  gboolean  has_masks;
  guint     n_keypoints;
  char    **keypoint_names;    /* n_keypoints names, or NULL */
};

G_DEFINE_FINAL_TYPE (TvwDetection, tvw_detection, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_N_OBJECTS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
tvw_detection_finalize (GObject *object)
{
  TvwDetection *self = (TvwDetection *)object;

  for (guint i = 0; i < self->n_objects; i++)
    {
      g_free (self->objects[i].category);
      g_free (self->objects[i].mask.pixels);
      g_free (self->objects[i].keypoints);
    }
  g_clear_pointer (&self->objects, g_free);
  g_clear_pointer (&self->keypoint_names, g_strfreev);

  G_OBJECT_CLASS (tvw_detection_parent_class)->finalize (object);
}

static void
tvw_detection_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TvwDetection *self = TVW_DETECTION (object);

  switch (prop_id)
    {
    case PROP_WIDTH:
      g_value_set_uint (value, self->width);
      break;

    case PROP_HEIGHT:
      g_value_set_uint (value, self->height);
      break;

    case PROP_N_OBJECTS:
      g_value_set_uint (value, self->n_objects);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_detection_class_init (TvwDetectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_detection_finalize;
  object_class->get_property = tvw_detection_get_property;

  /**
   * TvwDetection:width:
   *
   * The width of the image the objects were found in.
   */
  props[PROP_WIDTH] =
    g_param_spec_uint ("width", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * TvwDetection:height:
   *
   * The height of the image the objects were found in.
   */
  props[PROP_HEIGHT] =
    g_param_spec_uint ("height", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * TvwDetection:n-objects:
   *
   * The number of objects found.
   */
  props[PROP_N_OBJECTS] =
    g_param_spec_uint ("n-objects", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_detection_init (TvwDetection *self)
{
}

static gboolean
invalid (GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  GError *local;

  va_start (args, format);
  local = g_error_new_valist (TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT, format, args);
  va_end (args);
  g_propagate_error (error, local);

  return FALSE;
}

/* Checks that @tensor (named @name) is float32 (or int64 when @int64_ok)
 * of @n_dims dimensions, the first @k; @dims gives the others, a negative
 * one taking any size (stored back). */
static gboolean
check_tensor (TvwTensor   *tensor,
              const char  *name,
              gboolean     int64_ok,
              gint64       k,
              guint        n_dims,
              gint64      *dims,
              GError     **error)
{
  const gint64 *shape;
  guint rank;
  TvwDType dtype = tvw_tensor_get_dtype (tensor);

  if (dtype != TVW_DTYPE_FLOAT32 && !(int64_ok && dtype == TVW_DTYPE_INT64))
    return invalid (error, "A detection's %s must be %s", name,
                    int64_ok ? "int64 or float32" : "float32");

  shape = tvw_tensor_get_shape (tensor, &rank);
  if (rank != n_dims || shape[0] != k)
    return invalid (error, "A detection's %s must have %u dimensions, the first of %"
                    G_GINT64_FORMAT " objects", name, n_dims, k);
  for (guint d = 1; d < n_dims; d++)
    {
      if (dims[d] >= 0 && shape[d] != dims[d])
        return invalid (error, "A detection's %s has %" G_GINT64_FORMAT " elements in "
                        "dimension %u, not %" G_GINT64_FORMAT, name, shape[d], d, dims[d]);
      dims[d] = shape[d];
    }

  return TRUE;
}

/* The rectangle around the pixels of @probabilities above 0.5, and
 * those pixels. */
static void
mask_from_probabilities (Mask        *mask,
                         const float *probabilities,
                         guint        width,
                         guint        height)
{
  guint x0 = width, y0 = height, x1 = 0, y1 = 0;

  for (guint y = 0; y < height; y++)
    for (guint x = 0; x < width; x++)
      if (probabilities[(gsize) y * width + x] > 0.5f)
        {
          x0 = MIN (x0, x);
          x1 = MAX (x1, x + 1);
          y0 = MIN (y0, y);
          y1 = MAX (y1, y + 1);
        }

  memset (mask, 0, sizeof *mask);
  if (x0 >= x1)
    return;

  mask->x = x0;
  mask->y = y0;
  mask->width = x1 - x0;
  mask->height = y1 - y0;
  mask->pixels = g_malloc ((gsize) mask->width * mask->height);
  for (guint y = 0; y < mask->height; y++)
    for (guint x = 0; x < mask->width; x++)
      {
        gboolean in = probabilities[(gsize) (y + y0) * width + x + x0] > 0.5f;

        mask->pixels[(gsize) y * mask->width + x] = in;
        mask->area += in;
      }
}

static TvwDetection *
detection_new (guint                width,
               guint                height,
               guint                n_objects,
               gboolean             has_masks,
               guint                n_keypoints,
               const char * const  *keypoint_names)
{
  TvwDetection *self = g_object_new (TVW_TYPE_DETECTION, NULL);

  self->width = width;
  self->height = height;
  self->n_objects = n_objects;
  self->objects = g_new0 (Object, MAX (n_objects, 1));
  self->has_masks = has_masks;
  self->n_keypoints = n_keypoints;
  if (keypoint_names != NULL)
    self->keypoint_names = g_strdupv ((char **) keypoint_names);

  return self;
}

/**
 * tvw_detection_new_from_tensors:
 * @width: the width of the image
 * @height: the height of the image
 * @boxes: K×4 float32 boxes (x1, y1, x2, y2 in the image's pixels)
 * @labels: K labels, int64 (as torchvision returns them) or float32
 * @scores: K float32 scores
 * @masks: (nullable): K×1×@height×@width (or K×@height×@width) float32
 *   mask probabilities, Mask R-CNN's pasted `masks`
 * @keypoints: (nullable): K×P×3 float32 keypoints (x, y, visibility)
 * @keypoints_scores: (nullable): K×P float32 keypoint scores, given with
 *   @keypoints
 * @categories: (nullable) (array zero-terminated=1): the names of the
 *   labels (the weights' `categories`)
 * @keypoint_names: (nullable) (array zero-terminated=1): the names of the
 *   P keypoints (the weights' `keypoint_names`)
 * @error: return location for an error
 *
 * Makes a detection from a detection model's outputs for one image,
 * torchvision's dict for that image: the outputs
 * [method@Model.forward_outputs] returns under those names.
 *
 * Returns: (transfer full): a new detection, or %NULL if the tensors do
 *   not describe the same K objects of one image
 */
TvwDetection *
tvw_detection_new_from_tensors (guint                width,
                                guint                height,
                                TvwTensor           *boxes,
                                TvwTensor           *labels,
                                TvwTensor           *scores,
                                TvwTensor           *masks,
                                TvwTensor           *keypoints,
                                TvwTensor           *keypoints_scores,
                                const char * const  *categories,
                                const char * const  *keypoint_names,
                                GError             **error)
{
  g_autoptr(TvwDetection) self = NULL;
  gint64 box_dims[2] = { 0, 4 }, one[1] = { 0 };
  gint64 mask_dims[4] = { 0, 1, height, width }, kp_dims[3] = { 0, -1, 3 }, kps_dims[2] = { 0, -1 };
  guint n_categories = categories != NULL ? g_strv_length ((char **) categories) : 0;
  const float *box_data, *score_data, *mask_data = NULL, *kp_data = NULL, *kps_data = NULL;
  gint64 k;

  g_return_val_if_fail (TVW_IS_TENSOR (boxes), NULL);
  g_return_val_if_fail (TVW_IS_TENSOR (labels), NULL);
  g_return_val_if_fail (TVW_IS_TENSOR (scores), NULL);
  g_return_val_if_fail (masks == NULL || TVW_IS_TENSOR (masks), NULL);
  g_return_val_if_fail (keypoints == NULL || TVW_IS_TENSOR (keypoints), NULL);
  g_return_val_if_fail (keypoints_scores == NULL || TVW_IS_TENSOR (keypoints_scores), NULL);

  if (width < 1 || height < 1 || width > G_MAXINT || height > G_MAXINT)
    {
      invalid (error, "A detection cannot be in an image of %u×%u", width, height);
      return NULL;
    }

  k = tvw_tensor_get_n_dims (boxes) > 0 ? tvw_tensor_get_dim (boxes, 0) : -1;
  if (k < 0 || k > G_MAXINT ||
      !check_tensor (boxes, "boxes", FALSE, k, 2, box_dims, error) ||
      !check_tensor (labels, "labels", TRUE, k, 1, one, error) ||
      !check_tensor (scores, "scores", FALSE, k, 1, one, error))
    {
      if (k < 0 || k > G_MAXINT)
        invalid (error, "A detection's boxes must be K×4");
      return NULL;
    }
  /* Masks are K×1×H×W as torchvision returns them, or K×H×W. */
  if (masks != NULL && tvw_tensor_get_n_dims (masks) == 3)
    {
      mask_dims[1] = height;
      mask_dims[2] = width;
    }
  if (masks != NULL &&
      !check_tensor (masks, "masks", FALSE, k, tvw_tensor_get_n_dims (masks) == 3 ? 3 : 4,
                     mask_dims, error))
    return NULL;
  if ((keypoints == NULL) != (keypoints_scores == NULL))
    {
      invalid (error, "A detection's keypoints come with their keypoints_scores");
      return NULL;
    }
  if (keypoints != NULL)
    {
      if (!check_tensor (keypoints, "keypoints", FALSE, k, 3, kp_dims, error))
        return NULL;
      kps_dims[1] = kp_dims[1];
      if (!check_tensor (keypoints_scores, "keypoints_scores", FALSE, k, 2, kps_dims, error))
        return NULL;
      if (kp_dims[1] > 1024)
        {
          invalid (error, "A detection has at most 1024 keypoints an object, not %"
                   G_GINT64_FORMAT, kp_dims[1]);
          return NULL;
        }
    }

  box_data = tvw_tensor_get_data (boxes);
  score_data = tvw_tensor_get_data (scores);
  for (gint64 i = 0; i < k; i++)
    {
      double label = tvw_tensor_get_item (labels, i);

      for (int c = 0; c < 4; c++)
        if (!isfinite (box_data[i * 4 + c]))
          {
            invalid (error, "Box %" G_GINT64_FORMAT " of a detection is not finite", i);
            return NULL;
          }
      if (!isfinite (score_data[i]))
        {
          invalid (error, "Score %" G_GINT64_FORMAT " of a detection is not finite", i);
          return NULL;
        }
      if (!(label >= 0 && label <= G_MAXINT && label == floor (label)))
        {
          invalid (error, "Label %" G_GINT64_FORMAT " of a detection is %g, not a class index",
                   i, label);
          return NULL;
        }
    }

  /* Names are of the keypoints there are, or none. */
  if (keypoints == NULL || (keypoint_names != NULL &&
                            g_strv_length ((char **) keypoint_names) != (guint) kp_dims[1]))
    keypoint_names = NULL;

  self = detection_new (width, height, (guint) k, masks != NULL,
                        keypoints != NULL ? (guint) kp_dims[1] : 0, keypoint_names);
  if (masks != NULL)
    mask_data = tvw_tensor_get_data (masks);
  if (keypoints != NULL)
    {
      kp_data = tvw_tensor_get_data (keypoints);
      kps_data = tvw_tensor_get_data (keypoints_scores);
    }

  for (guint i = 0; i < self->n_objects; i++)
    {
      Object *o = &self->objects[i];

      for (int c = 0; c < 4; c++)
        o->box[c] = box_data[i * 4 + c];
      o->score = score_data[i];
      o->label = (guint) tvw_tensor_get_item (labels, i);
      /* Names the weights leave empty are no names either. */
      if (o->label < n_categories && categories[o->label][0] != '\0')
        o->category = g_strdup (categories[o->label]);
      else
        o->category = g_strdup_printf ("class %u", o->label);
      if (mask_data != NULL)
        mask_from_probabilities (&o->mask, mask_data + (gsize) i * height * width, width, height);
      if (kp_data != NULL)
        {
          guint p = self->n_keypoints;

          o->keypoints = g_new (double, MAX (p, 1) * 3);
          for (guint j = 0; j < p; j++)
            {
              o->keypoints[j * 3 + 0] = kp_data[((gsize) i * p + j) * 3 + 0];
              o->keypoints[j * 3 + 1] = kp_data[((gsize) i * p + j) * 3 + 1];
              o->keypoints[j * 3 + 2] = kps_data[(gsize) i * p + j];
            }
        }
    }

  return g_steal_pointer (&self);
}

static Object *
get_object (TvwDetection *self,
            guint         index)
{
  return &self->objects[index];
}

/**
 * tvw_detection_get_width:
 * @self: a detection
 *
 * Returns: the width of the image
 */
guint
tvw_detection_get_width (TvwDetection *self)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);

  return self->width;
}

/**
 * tvw_detection_get_height:
 * @self: a detection
 *
 * Returns: the height of the image
 */
guint
tvw_detection_get_height (TvwDetection *self)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);

  return self->height;
}

/**
 * tvw_detection_get_n_objects:
 * @self: a detection
 *
 * Returns: the number of objects found, 0 or more
 */
guint
tvw_detection_get_n_objects (TvwDetection *self)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);

  return self->n_objects;
}

/**
 * tvw_detection_get_box:
 * @self: a detection
 * @index: an object, less than [property@Detection:n-objects]
 * @x1: (out) (optional): the left edge, in pixels
 * @y1: (out) (optional): the top edge
 * @x2: (out) (optional): the right edge
 * @y2: (out) (optional): the bottom edge
 *
 * Gets the box of an object, as torchvision's `boxes`: x1 ≤ x2 and
 * y1 ≤ y2 in the image's pixel coordinates (pixel (x, y) covers x … x + 1).
 */
void
tvw_detection_get_box (TvwDetection *self,
                       guint         index,
                       double       *x1,
                       double       *y1,
                       double       *x2,
                       double       *y2)
{
  const Object *o;

  g_return_if_fail (TVW_IS_DETECTION (self));
  g_return_if_fail (index < self->n_objects);

  o = get_object (self, index);
  if (x1 != NULL)
    *x1 = o->box[0];
  if (y1 != NULL)
    *y1 = o->box[1];
  if (x2 != NULL)
    *x2 = o->box[2];
  if (y2 != NULL)
    *y2 = o->box[3];
}

/**
 * tvw_detection_get_label:
 * @self: a detection
 * @index: an object, less than [property@Detection:n-objects]
 *
 * Returns: the object's label: its class, an index into the weights'
 *   categories (0 is the background in COCO's)
 */
guint
tvw_detection_get_label (TvwDetection *self,
                         guint         index)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);
  g_return_val_if_fail (index < self->n_objects, 0);

  return get_object (self, index)->label;
}

/**
 * tvw_detection_get_category:
 * @self: a detection
 * @index: an object, less than [property@Detection:n-objects]
 *
 * Returns: the name of the object's class in the weights' categories, or
 *   “class N” for a label they do not name
 */
const char *
tvw_detection_get_category (TvwDetection *self,
                            guint         index)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), NULL);
  g_return_val_if_fail (index < self->n_objects, NULL);

  return get_object (self, index)->category;
}

/**
 * tvw_detection_get_score:
 * @self: a detection
 * @index: an object, less than [property@Detection:n-objects]
 *
 * Returns: the object's score, from 0 to 1
 */
double
tvw_detection_get_score (TvwDetection *self,
                         guint         index)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0.0);
  g_return_val_if_fail (index < self->n_objects, 0.0);

  return get_object (self, index)->score;
}

/**
 * tvw_detection_get_color:
 * @self: a detection
 * @index: an object, less than [property@Detection:n-objects]
 *
 * The colour [method@Detection.render] draws the object in: its label's
 * colour in the Pascal VOC palette ([func@Segmentation.palette_color]),
 * so that objects of one class look alike.
 *
 * Returns: the colour as 0xRRGGBB
 */
guint32
tvw_detection_get_color (TvwDetection *self,
                         guint         index)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);
  g_return_val_if_fail (index < self->n_objects, 0);

  return tvw_segmentation_palette_color (get_object (self, index)->label);
}

/**
 * tvw_detection_count_above:
 * @self: a detection
 * @threshold: a score
 *
 * Returns: how many objects score @threshold or more
 */
guint
tvw_detection_count_above (TvwDetection *self,
                           double        threshold)
{
  guint n = 0;

  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);

  for (guint i = 0; i < self->n_objects; i++)
    n += self->objects[i].score >= threshold;

  return n;
}

/**
 * tvw_detection_filter:
 * @self: a detection
 * @threshold: a score
 *
 * Keeps the objects that score @threshold or more, in their order, as
 * torchvision's examples do with `output["scores"] > threshold`.
 *
 * Returns: (transfer full): a new detection of the same image
 */
TvwDetection *
tvw_detection_filter (TvwDetection *self,
                      double        threshold)
{
  TvwDetection *out;
  guint n = 0;

  g_return_val_if_fail (TVW_IS_DETECTION (self), NULL);

  out = detection_new (self->width, self->height, tvw_detection_count_above (self, threshold),
                       self->has_masks, self->n_keypoints,
                       (const char * const *) self->keypoint_names);
  for (guint i = 0; i < self->n_objects; i++)
    {
      const Object *o = &self->objects[i];
      Object *copy;

      if (!(o->score >= threshold))
        continue;
      copy = &out->objects[n++];
      *copy = *o;
      copy->category = g_strdup (o->category);
      copy->mask.pixels = g_memdup2 (o->mask.pixels, (gsize) o->mask.width * o->mask.height);
      copy->keypoints = g_memdup2 (o->keypoints, sizeof (double) * 3 * self->n_keypoints);
    }

  return out;
}

/**
 * tvw_detection_has_masks:
 * @self: a detection
 *
 * Returns: whether the objects have masks (Mask R-CNN's)
 */
gboolean
tvw_detection_has_masks (TvwDetection *self)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), FALSE);

  return self->has_masks;
}

/**
 * tvw_detection_get_mask_at:
 * @self: a detection with masks
 * @index: an object, less than [property@Detection:n-objects]
 * @x: a column, less than the width
 * @y: a row, less than the height
 *
 * Returns: whether pixel (@x, @y) is the object's: its mask probability is
 *   above 0.5
 */
gboolean
tvw_detection_get_mask_at (TvwDetection *self,
                           guint         index,
                           guint         x,
                           guint         y)
{
  const Mask *m;

  g_return_val_if_fail (TVW_IS_DETECTION (self), FALSE);
  g_return_val_if_fail (index < self->n_objects, FALSE);
  g_return_val_if_fail (x < self->width && y < self->height, FALSE);

  m = &get_object (self, index)->mask;
  if (x < m->x || y < m->y || x >= m->x + m->width || y >= m->y + m->height)
    return FALSE;
  return m->pixels[(gsize) (y - m->y) * m->width + (x - m->x)];
}

/**
 * tvw_detection_get_mask:
 * @self: a detection with masks
 * @index: an object, less than [property@Detection:n-objects]
 *
 * The object's mask at the image's size, one byte a pixel, row after row:
 * 1 where the mask probability is above 0.5, else 0.
 *
 * Returns: (transfer full): width × height bytes
 */
GBytes *
tvw_detection_get_mask (TvwDetection *self,
                        guint         index)
{
  const Mask *m;
  guint8 *map;

  g_return_val_if_fail (TVW_IS_DETECTION (self), NULL);
  g_return_val_if_fail (index < self->n_objects, NULL);

  m = &get_object (self, index)->mask;
  map = g_malloc0 ((gsize) self->width * self->height);
  for (guint y = 0; y < m->height; y++)
    memcpy (map + (gsize) (y + m->y) * self->width + m->x,
            m->pixels + (gsize) y * m->width, m->width);

  return g_bytes_new_take (map, (gsize) self->width * self->height);
}

/**
 * tvw_detection_get_mask_area:
 * @self: a detection with masks
 * @index: an object, less than [property@Detection:n-objects]
 *
 * Returns: how many pixels the object's mask covers
 */
guint64
tvw_detection_get_mask_area (TvwDetection *self,
                             guint         index)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);
  g_return_val_if_fail (index < self->n_objects, 0);

  return get_object (self, index)->mask.area;
}

/**
 * tvw_detection_get_mask_bounds:
 * @self: a detection with masks
 * @index: an object, less than [property@Detection:n-objects]
 * @x: (out) (optional): the first column of the mask's pixels
 * @y: (out) (optional): the first row
 * @width: (out) (optional): the number of columns
 * @height: (out) (optional): the number of rows
 *
 * Gets the smallest rectangle around the object's mask pixels (it may
 * reach a little past the box: torchvision pastes masks into a slightly
 * larger box).
 *
 * Returns: %FALSE if the mask is empty (or there are no masks)
 */
gboolean
tvw_detection_get_mask_bounds (TvwDetection *self,
                               guint         index,
                               guint        *x,
                               guint        *y,
                               guint        *width,
                               guint        *height)
{
  const Mask *m;

  g_return_val_if_fail (TVW_IS_DETECTION (self), FALSE);
  g_return_val_if_fail (index < self->n_objects, FALSE);

  m = &get_object (self, index)->mask;
  if (x != NULL)
    *x = m->x;
  if (y != NULL)
    *y = m->y;
  if (width != NULL)
    *width = m->width;
  if (height != NULL)
    *height = m->height;

  return m->area > 0;
}

/**
 * tvw_detection_get_n_keypoints:
 * @self: a detection
 *
 * Returns: the number of keypoints of every object (17 for Keypoint
 *   R-CNN's COCO people), 0 for a model without keypoints
 */
guint
tvw_detection_get_n_keypoints (TvwDetection *self)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), 0);

  return self->n_keypoints;
}

/**
 * tvw_detection_get_keypoint_name:
 * @self: a detection
 * @keypoint: a keypoint, less than [method@Detection.get_n_keypoints]
 *
 * Returns: (nullable): the keypoint's name in the weights'
 *   `keypoint_names` (`nose`, `left_eye` …), or %NULL without names
 */
const char *
tvw_detection_get_keypoint_name (TvwDetection *self,
                                 guint         keypoint)
{
  g_return_val_if_fail (TVW_IS_DETECTION (self), NULL);
  g_return_val_if_fail (keypoint < self->n_keypoints, NULL);

  return self->keypoint_names != NULL ? self->keypoint_names[keypoint] : NULL;
}

/**
 * tvw_detection_get_keypoint:
 * @self: a detection with keypoints
 * @index: an object, less than [property@Detection:n-objects]
 * @keypoint: a keypoint, less than [method@Detection.get_n_keypoints]
 * @x: (out) (optional): the keypoint's column, in pixels
 * @y: (out) (optional): its row
 * @score: (out) (optional): its score, torchvision's `keypoints_scores`
 *   (the heat map's logit: not a probability)
 *
 * Gets where the object's keypoint is.
 */
void
tvw_detection_get_keypoint (TvwDetection *self,
                            guint         index,
                            guint         keypoint,
                            double       *x,
                            double       *y,
                            double       *score)
{
  const double *kp;

  g_return_if_fail (TVW_IS_DETECTION (self));
  g_return_if_fail (index < self->n_objects);
  g_return_if_fail (keypoint < self->n_keypoints);

  kp = get_object (self, index)->keypoints + keypoint * 3;
  if (x != NULL)
    *x = kp[0];
  if (y != NULL)
    *y = kp[1];
  if (score != NULL)
    *score = kp[2];
}
