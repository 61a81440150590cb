/* tvw-transform.c
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

/**
 * TvwTransform:
 *
 * The inference preprocessing of a weights entry: torchvision's
 * `ImageClassification`, `SemanticSegmentation`, `VideoClassification`,
 * `ObjectDetection` and `OpticalFlow` presets.
 *
 * A transform is usually obtained from [method@Weights.transforms], which
 * configures it the way the entry's `transforms=partial(...)` does, and
 * applied to an image:
 *
 * ```c
 * g_autoptr(TvwTransform) preprocess = tvw_weights_transforms (weights);
 * g_autoptr(TvwTensor) batch = NULL;
 * g_autoptr(TvwTensor) input = tvw_transform_apply_file (preprocess, file, NULL, &error);
 *
 * batch = tvw_tensor_unsqueeze (input, 0);
 * ```
 *
 * Images (files and pixbufs) follow torchvision's PIL path: for a PIL image,
 * `ImageClassification` resizes the shorter side to [property@Transform:resize-size]
 * with Pillow (which always antialiases when it shrinks), takes a central
 * [property@Transform:crop-size] crop (zero padding when the crop is larger
 * than the image), rescales to [0, 1] and normalizes with
 * [property@Transform:mean] and [property@Transform:std].  The 8-bit pixels
 * after resize and crop are identical to Pillow 9.4's, and
 * [method@Transform.apply_pixbuf_crop] returns them.
 *
 * Tensors follow torchvision's tensor path (`torch.nn.functional.interpolate`,
 * antialiased only if [property@Transform:antialias] is set, as in
 * torchvision 0.14 where tensors are not antialiased by default).
 *
 * Sizes follow torchvision's lists: `crop_size=[224]` is a square crop,
 * `[112, 112]` a (height, width) crop; `resize_size=[256]` resizes the
 * shorter side to 256 keeping the aspect ratio (the longer side is
 * truncated), `[128, 171]` resizes to exactly (height, width), and no
 * resize size (`None`) leaves the size alone.  The int properties
 * [property@Transform:crop-size] and [property@Transform:resize-size] set the
 * one-element forms; [property@Transform:crop-height],
 * [property@Transform:crop-width], [property@Transform:resize-height] and
 * [property@Transform:resize-width] the two-element forms.
 *
 * A transform may be used from several threads at once as long as no
 * property is changed meanwhile.
 */


G_DEFINE_FINAL_TYPE (TvwTransform, tvw_transform, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PRESET,
  PROP_CROP_SIZE,
  PROP_CROP_HEIGHT,
  PROP_CROP_WIDTH,
  PROP_RESIZE_SIZE,
  PROP_RESIZE_HEIGHT,
  PROP_RESIZE_WIDTH,
  PROP_MEAN,
  PROP_STD,
  PROP_INTERPOLATION,
  PROP_ANTIALIAS,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static const double imagenet_mean[3] = { 0.485, 0.456, 0.406 };
static const double imagenet_std[3] = { 0.229, 0.224, 0.225 };
static const double kinetics_mean[3] = { 0.43216, 0.394666, 0.37645 };
static const double kinetics_std[3] = { 0.22803, 0.22145, 0.216989 };
static const double half[3] = { 0.5, 0.5, 0.5 };

static const char * const preset_names[] = {
  [TVW_PRESET_IMAGE_CLASSIFICATION] = "ImageClassification",
  [TVW_PRESET_SEMANTIC_SEGMENTATION] = "SemanticSegmentation",
  [TVW_PRESET_VIDEO_CLASSIFICATION] = "VideoClassification",
  [TVW_PRESET_OBJECT_DETECTION] = "ObjectDetection",
  [TVW_PRESET_OPTICAL_FLOW] = "OpticalFlow",
};

const char *
tvw_preset_to_name (TvwPreset preset)
{
  if ((guint) preset < G_N_ELEMENTS (preset_names))
    return preset_names[preset];
  return NULL;
}

gboolean
tvw_preset_from_name (const char *name,
                      TvwPreset  *preset)
{
  for (guint i = 0; i < G_N_ELEMENTS (preset_names); i++)
    {
      if (g_strcmp0 (name, preset_names[i]) == 0)
        {
          if (preset != NULL)
            *preset = (TvwPreset) i;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
tvw_preset_has_crop (TvwPreset preset)
{
  return preset == TVW_PRESET_IMAGE_CLASSIFICATION ||
         preset == TVW_PRESET_VIDEO_CLASSIFICATION;
}

gboolean
tvw_preset_has_resize (TvwPreset preset)
{
  return tvw_preset_has_crop (preset) || preset == TVW_PRESET_SEMANTIC_SEGMENTATION;
}

/* ObjectDetection only rescales; OpticalFlow normalizes with fixed values. */
gboolean
tvw_preset_has_normalize (TvwPreset preset)
{
  return preset != TVW_PRESET_OBJECT_DETECTION;
}

static void
set_values (double       **values,
            guint         *n_values,
            const double  *from,
            guint          n_from)
{
  g_free (*values);
  *values = n_from > 0 ? g_memdup2 (from, n_from * sizeof (double)) : NULL;
  *n_values = n_from;
}

static void
apply_preset_defaults (TvwTransform *self)
{
  self->interpolation = TVW_INTERPOLATION_BILINEAR;
  self->antialias = FALSE;
  self->n_crop = 0;
  self->n_resize = 0;
  set_values (&self->mean, &self->n_mean, imagenet_mean, 3);
  set_values (&self->std, &self->n_std, imagenet_std, 3);

  switch (self->preset)
    {
    case TVW_PRESET_IMAGE_CLASSIFICATION:
      self->crop[0] = 224;
      self->n_crop = 1;
      self->resize[0] = 256;
      self->n_resize = 1;
      break;

    case TVW_PRESET_SEMANTIC_SEGMENTATION:
      self->resize[0] = 520;
      self->n_resize = 1;
      break;

    case TVW_PRESET_VIDEO_CLASSIFICATION:
      self->crop[0] = self->crop[1] = 112;
      self->n_crop = 2;
      self->resize[0] = 128;
      self->resize[1] = 171;
      self->n_resize = 2;
      set_values (&self->mean, &self->n_mean, kinetics_mean, 3);
      set_values (&self->std, &self->n_std, kinetics_std, 3);
      break;

    case TVW_PRESET_OBJECT_DETECTION:
      set_values (&self->mean, &self->n_mean, NULL, 0);
      set_values (&self->std, &self->n_std, NULL, 0);
      break;

    case TVW_PRESET_OPTICAL_FLOW:
    default:
      set_values (&self->mean, &self->n_mean, half, 3);
      set_values (&self->std, &self->n_std, half, 3);
      break;
    }
}

/* ------------------------------------------------------------------------ */
/* Validation shared by properties and keyword arguments. */

static gboolean
check_values (const char    *key,
              const double  *values,
              guint          n_values,
              gboolean       is_std,
              GError       **error)
{
  if (n_values == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: needs at least one value", key);
      return FALSE;
    }

  for (guint i = 0; i < n_values; i++)
    {
      if (!isfinite (values[i]))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: value %u is not a finite number", key, i);
          return FALSE;
        }
      /* torchvision's check, made after the conversion to float32. */
      if (is_std && (float) values[i] == 0.0f)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s evaluated to zero after conversion to float32, "
                       "leading to division by zero", key);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
values_from_variant (GVariant  *value,
                     double   **values,
                     guint     *n_values)
{
  g_autofree double *out = NULL;
  gsize n;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (value);

      return values_from_variant (inner, values, n_values);
    }

  if (!g_variant_is_container (value) || g_variant_is_of_type (value, G_VARIANT_TYPE_DICTIONARY))
    return FALSE;

  n = g_variant_n_children (value);
  if (n > 64)
    return FALSE;
  out = g_new0 (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      if (g_variant_is_of_type (child, G_VARIANT_TYPE_VARIANT))
        {
          g_autoptr(GVariant) inner = g_variant_get_variant (child);

          g_variant_unref (child);
          child = g_steal_pointer (&inner);
        }

      if (g_variant_is_of_type (child, G_VARIANT_TYPE_DOUBLE))
        out[i] = g_variant_get_double (child);
      else if (g_variant_is_of_type (child, G_VARIANT_TYPE_INT32))
        out[i] = g_variant_get_int32 (child);
      else if (g_variant_is_of_type (child, G_VARIANT_TYPE_INT64))
        out[i] = (double) g_variant_get_int64 (child);
      else if (g_variant_is_of_type (child, G_VARIANT_TYPE_UINT32))
        out[i] = g_variant_get_uint32 (child);
      else
        return FALSE;
    }

  *values = g_steal_pointer (&out);
  *n_values = n;
  return TRUE;
}

static GVariant *
values_to_variant (const double *values,
                   guint         n_values)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, values, n_values, sizeof (double));
}

/* ------------------------------------------------------------------------ */
/* GObject */

static void
tvw_transform_constructed (GObject *object)
{
  TvwTransform *self = TVW_TRANSFORM (object);

  G_OBJECT_CLASS (tvw_transform_parent_class)->constructed (object);

  apply_preset_defaults (self);
}

static void
tvw_transform_finalize (GObject *object)
{
  TvwTransform *self = TVW_TRANSFORM (object);

  g_clear_pointer (&self->mean, g_free);
  g_clear_pointer (&self->std, g_free);

  G_OBJECT_CLASS (tvw_transform_parent_class)->finalize (object);
}

int
tvw_transform_crop_height (TvwTransform *self)
{
  return self->n_crop > 0 ? self->crop[0] : 0;
}

int
tvw_transform_crop_width (TvwTransform *self)
{
  return self->n_crop == 2 ? self->crop[1] : self->n_crop == 1 ? self->crop[0] : 0;
}

static void
tvw_transform_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TvwTransform *self = TVW_TRANSFORM (object);

  switch (prop_id)
    {
    case PROP_PRESET:
      g_value_set_enum (value, self->preset);
      break;

    case PROP_CROP_SIZE:
      g_value_set_int (value, tvw_transform_crop_height (self) == tvw_transform_crop_width (self) ? tvw_transform_crop_height (self) : 0);
      break;

    case PROP_CROP_HEIGHT:
      g_value_set_int (value, tvw_transform_crop_height (self));
      break;

    case PROP_CROP_WIDTH:
      g_value_set_int (value, tvw_transform_crop_width (self));
      break;

    case PROP_RESIZE_SIZE:
      g_value_set_int (value, self->n_resize == 1 ? self->resize[0] : 0);
      break;

    case PROP_RESIZE_HEIGHT:
      g_value_set_int (value, self->n_resize == 2 ? self->resize[0] : 0);
      break;

    case PROP_RESIZE_WIDTH:
      g_value_set_int (value, self->n_resize == 2 ? self->resize[1] : 0);
      break;

    case PROP_MEAN:
      g_value_set_variant (value, values_to_variant (self->mean, self->n_mean));
      break;

    case PROP_STD:
      g_value_set_variant (value, values_to_variant (self->std, self->n_std));
      break;

    case PROP_INTERPOLATION:
      g_value_set_enum (value, self->interpolation);
      break;

    case PROP_ANTIALIAS:
      g_value_set_boolean (value, self->antialias);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_crop (TvwTransform *self,
          guint         n,
          int           first,
          int           second)
{
  /* A square crop on ImageClassification keeps torchvision's [c] form. */
  if (n == 2 && first == second && self->preset == TVW_PRESET_IMAGE_CLASSIFICATION)
    n = 1;
  if (n == 1 && self->preset == TVW_PRESET_VIDEO_CLASSIFICATION)
    {
      n = 2;
      second = first;
    }

  if (n == self->n_crop && self->crop[0] == first && (n < 2 || self->crop[1] == second))
    return;

  self->n_crop = n;
  self->crop[0] = first;
  self->crop[1] = n == 2 ? second : 0;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CROP_SIZE]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CROP_HEIGHT]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CROP_WIDTH]);
}

static void
set_resize (TvwTransform *self,
            guint         n,
            int           first,
            int           second)
{
  if (n == 0)
    first = second = 0;
  if (n == 1)
    second = 0;

  if (n == self->n_resize && self->resize[0] == first && self->resize[1] == second)
    return;

  self->n_resize = n;
  self->resize[0] = first;
  self->resize[1] = second;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESIZE_SIZE]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESIZE_HEIGHT]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RESIZE_WIDTH]);
}

static void
set_values_property (TvwTransform  *self,
                     GVariant      *value,
                     gboolean       is_std)
{
  const char *key = is_std ? "std" : "mean";
  g_autoptr(GError) error = NULL;
  g_autofree double *values = NULL;
  guint n_values = 0;

  if (value == NULL || !values_from_variant (value, &values, &n_values) ||
      !check_values (key, values, n_values, is_std, &error))
    {
      g_critical ("TvwTransform:%s: %s", key,
                  error != NULL ? error->message : "expected an array of numbers");
      return;
    }

  if (is_std)
    {
      if (n_values == self->n_std && memcmp (values, self->std, n_values * sizeof (double)) == 0)
        return;
      set_values (&self->std, &self->n_std, values, n_values);
    }
  else
    {
      if (n_values == self->n_mean && memcmp (values, self->mean, n_values * sizeof (double)) == 0)
        return;
      set_values (&self->mean, &self->n_mean, values, n_values);
    }

  g_object_notify_by_pspec (G_OBJECT (self), props[is_std ? PROP_STD : PROP_MEAN]);
}

static void
tvw_transform_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  TvwTransform *self = TVW_TRANSFORM (object);
  int v;

  switch (prop_id)
    {
    case PROP_PRESET:
      self->preset = g_value_get_enum (value);
      break;

    case PROP_CROP_SIZE:
      v = g_value_get_int (value);
      if (v > 0)
        set_crop (self, 1, v, v);
      else
        set_crop (self, 0, 0, 0);
      break;

    case PROP_CROP_HEIGHT:
      v = g_value_get_int (value);
      set_crop (self, 2, v, tvw_transform_crop_width (self) > 0 ? tvw_transform_crop_width (self) : v);
      break;

    case PROP_CROP_WIDTH:
      v = g_value_get_int (value);
      set_crop (self, 2, tvw_transform_crop_height (self) > 0 ? tvw_transform_crop_height (self) : v, v);
      break;

    case PROP_RESIZE_SIZE:
      v = g_value_get_int (value);
      set_resize (self, v > 0 ? 1 : 0, v, 0);
      break;

    case PROP_RESIZE_HEIGHT:
      v = g_value_get_int (value);
      set_resize (self, 2, v, self->n_resize == 2 ? self->resize[1] : v);
      break;

    case PROP_RESIZE_WIDTH:
      v = g_value_get_int (value);
      set_resize (self, 2, self->n_resize == 2 ? self->resize[0] : v, v);
      break;

    case PROP_MEAN:
      set_values_property (self, g_value_get_variant (value), FALSE);
      break;

    case PROP_STD:
      set_values_property (self, g_value_get_variant (value), TRUE);
      break;

    case PROP_INTERPOLATION:
      if (self->interpolation != (TvwInterpolation) g_value_get_enum (value))
        {
          self->interpolation = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_ANTIALIAS:
      if (self->antialias != g_value_get_boolean (value))
        {
          self->antialias = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The crop and resize sides all take the sizes libtvw supports. */
static GParamSpec *
size_param_spec (const char *name)
{
  return g_param_spec_int (name, NULL, NULL,
                           0, MAX_RESIZED_SIDE, 0,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static void
tvw_transform_class_init (TvwTransformClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = tvw_transform_constructed;
  object_class->finalize = tvw_transform_finalize;
  object_class->get_property = tvw_transform_get_property;
  object_class->set_property = tvw_transform_set_property;

  /**
   * TvwTransform:preset:
   *
   * Which torchvision preset this is.  It sets the defaults of the other
   * properties: ImageClassification `crop_size=224, resize_size=256` with
   * ImageNet's mean and std, SemanticSegmentation `resize_size=520`,
   * VideoClassification `crop_size=(112, 112), resize_size=(128, 171)` with
   * Kinetics' mean and std, all bilinear.
   */
  props[PROP_PRESET] =
    g_param_spec_enum ("preset", NULL, NULL,
                       TVW_TYPE_PRESET,
                       TVW_PRESET_IMAGE_CLASSIFICATION,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * TvwTransform:crop-size:
   *
   * The side of the square central crop (`crop_size=N`); 0 when the crop
   * is not square or the preset does not crop.  Setting 0 removes the crop.
   */
  props[PROP_CROP_SIZE] = size_param_spec ("crop-size");

  /**
   * TvwTransform:crop-height:
   *
   * The height of the central crop (`crop_size=(H, W)`).
   */
  props[PROP_CROP_HEIGHT] = size_param_spec ("crop-height");

  /**
   * TvwTransform:crop-width:
   *
   * The width of the central crop (`crop_size=(H, W)`).
   */
  props[PROP_CROP_WIDTH] = size_param_spec ("crop-width");

  /**
   * TvwTransform:resize-size:
   *
   * The size the shorter side is resized to, keeping the aspect ratio
   * (`resize_size=N`); 0 means no resize (`resize_size=None`), or that the
   * resize is to a fixed (height, width).
   */
  props[PROP_RESIZE_SIZE] = size_param_spec ("resize-size");

  /**
   * TvwTransform:resize-height:
   *
   * The height images are resized to (`resize_size=(H, W)`); 0 unless the
   * resize is to a fixed (height, width).
   */
  props[PROP_RESIZE_HEIGHT] = size_param_spec ("resize-height");

  /**
   * TvwTransform:resize-width:
   *
   * The width images are resized to (`resize_size=(H, W)`); 0 unless the
   * resize is to a fixed (height, width).
   */
  props[PROP_RESIZE_WIDTH] = size_param_spec ("resize-width");

  /**
   * TvwTransform:mean:
   *
   * The per-channel mean subtracted after rescaling to [0, 1], an `ad`
   * variant (one value, or one per channel).
   */
  props[PROP_MEAN] =
    g_param_spec_variant ("mean", NULL, NULL,
                          G_VARIANT_TYPE ("ad"), NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwTransform:std:
   *
   * The per-channel standard deviation divided by after subtracting
   * [property@Transform:mean], an `ad` variant.
   */
  props[PROP_STD] =
    g_param_spec_variant ("std", NULL, NULL,
                          G_VARIANT_TYPE ("ad"), NULL,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwTransform:interpolation:
   *
   * How images are resized.
   */
  props[PROP_INTERPOLATION] =
    g_param_spec_enum ("interpolation", NULL, NULL,
                       TVW_TYPE_INTERPOLATION,
                       TVW_INTERPOLATION_BILINEAR,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * TvwTransform:antialias:
   *
   * Whether tensors are antialiased when they are shrunk (bilinear and
   * bicubic only), torchvision's `antialias` argument of `resize`.  Images
   * are always antialiased, as Pillow does.
   */
  props[PROP_ANTIALIAS] =
    g_param_spec_boolean ("antialias", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_transform_init (TvwTransform *self)
{
  self->preset = TVW_PRESET_IMAGE_CLASSIFICATION;
  self->interpolation = TVW_INTERPOLATION_BILINEAR;
}

/* ------------------------------------------------------------------------ */
/* Construction from torchvision's keyword arguments. */

static gboolean
variant_get_int (GVariant *value,
                 gint64   *out)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (value);

      return variant_get_int (inner, out);
    }

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    *out = g_variant_get_uint32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    *out = (gint64) MIN (g_variant_get_uint64 (value), (guint64) G_MAXINT64);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT16))
    *out = g_variant_get_int16 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    *out = g_variant_get_uint16 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BYTE))
    *out = g_variant_get_byte (value);
  else
    return FALSE;

  return TRUE;
}

/* An int, or a tuple/array of one or two ints; a maybe without a value is
 * None (n = 0). */
static gboolean
parse_size (const char  *key,
            GVariant    *value,
            gboolean     allow_none,
            guint       *n,
            int          sizes[2],
            GError     **error)
{
  g_autoptr(GVariant) holder = g_variant_ref (value);
  gint64 v[2] = { 0, 0 };
  gsize count;

  while (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT) ||
         g_variant_is_of_type (value, G_VARIANT_TYPE_MAYBE))
    {
      GVariant *child;

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_MAYBE) && g_variant_n_children (value) == 0)
        {
          if (!allow_none)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                           "%s: None is not accepted here", key);
              return FALSE;
            }
          *n = 0;
          return TRUE;
        }
      child = g_variant_get_child_value (value, 0);
      g_variant_unref (holder);
      holder = value = child;
    }

  if (variant_get_int (value, &v[0]))
    {
      count = 1;
    }
  else if ((g_variant_is_of_type (value, G_VARIANT_TYPE_TUPLE) ||
            g_variant_is_of_type (value, G_VARIANT_TYPE_ARRAY)) &&
           (count = g_variant_n_children (value)) >= 1 && count <= 2)
    {
      for (gsize i = 0; i < count; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          if (!variant_get_int (child, &v[i]))
            goto bad_type;
        }
    }
  else
    {
      goto bad_type;
    }

  for (gsize i = 0; i < count; i++)
    {
      if (v[i] < 1 || v[i] > MAX_RESIZED_SIDE)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: %" G_GINT64_FORMAT " is not a size between 1 and %d",
                       key, v[i], MAX_RESIZED_SIDE);
          return FALSE;
        }
      sizes[i] = (int) v[i];
    }
  *n = (guint) count;
  return TRUE;

bad_type:
  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
               "%s: expected an integer or a tuple of one or two integers, got a value of type “%s”",
               key, g_variant_get_type_string (value));
  return FALSE;
}

/* Returns @value, unboxed if it is a "v", when it has @type; otherwise an
 * error that names @key and the @expected kind of value. */
static GVariant *
unbox_typed (const char          *key,
             GVariant            *value,
             const GVariantType  *type,
             const char          *expected,
             GError             **error)
{
  g_autoptr(GVariant) unboxed = NULL;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    unboxed = g_variant_get_variant (value);
  else
    unboxed = g_variant_ref (value);

  if (!g_variant_is_of_type (unboxed, type))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: expected %s, got a value of type “%s”",
                   key, expected, g_variant_get_type_string (unboxed));
      return NULL;
    }

  return g_steal_pointer (&unboxed);
}

static gboolean
parse_interpolation (GVariant          *value,
                     TvwInterpolation  *interpolation,
                     GError           **error)
{
  g_autoptr(GVariant) string = NULL;
  const char *s;

  string = unbox_typed ("interpolation", value, G_VARIANT_TYPE_STRING, "a string", error);
  if (string == NULL)
    return FALSE;

  s = g_variant_get_string (string, NULL);
  if (g_str_has_prefix (s, "InterpolationMode."))
    s += strlen ("InterpolationMode.");

  if (g_ascii_strcasecmp (s, "nearest") == 0)
    *interpolation = TVW_INTERPOLATION_NEAREST;
  else if (g_ascii_strcasecmp (s, "bilinear") == 0)
    *interpolation = TVW_INTERPOLATION_BILINEAR;
  else if (g_ascii_strcasecmp (s, "bicubic") == 0)
    *interpolation = TVW_INTERPOLATION_BICUBIC;
  else if (g_ascii_strcasecmp (s, "nearest-exact") == 0 || g_ascii_strcasecmp (s, "nearest_exact") == 0 ||
           g_ascii_strcasecmp (s, "box") == 0 || g_ascii_strcasecmp (s, "hamming") == 0 ||
           g_ascii_strcasecmp (s, "lanczos") == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "interpolation: “%s” is not supported (nearest, bilinear and bicubic are)", s);
      return FALSE;
    }
  else
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "interpolation: unknown mode “%s” (expected nearest, bilinear or bicubic)", s);
      return FALSE;
    }

  return TRUE;
}

TvwTransform *
tvw_transform_new_for_preset (const char  *preset,
                              GVariant    *kwargs,
                              GError     **error)
{
  g_autoptr(TvwTransform) self = NULL;
  TvwPreset p;
  gboolean has_crop = FALSE, has_resize = FALSE;

  g_return_val_if_fail (preset != NULL, NULL);
  g_return_val_if_fail (kwargs == NULL || g_variant_is_of_type (kwargs, G_VARIANT_TYPE_VARDICT), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!tvw_preset_from_name (preset, &p))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   "Unknown transforms preset “%s”", preset);
      return NULL;
    }

  self = tvw_transform_new (p);

  if (kwargs != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, kwargs);
      /* g_variant_iter_next (), not _loop (): an error returns from
       * inside the loop, which would leak _loop ()'s value. */
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autoptr(GVariant) owned = value;
          gboolean known;

          /* The keyword arguments each preset's __init__ takes. */
          if (g_str_equal (key, "crop_size"))
            known = tvw_preset_has_crop (p);
          else if (g_str_equal (key, "resize_size") || g_str_equal (key, "interpolation") ||
                   g_str_equal (key, "antialias"))
            known = tvw_preset_has_resize (p);
          else if (g_str_equal (key, "mean") || g_str_equal (key, "std"))
            known = tvw_preset_has_resize (p);
          else
            known = FALSE;

          if (!known)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                           "%s got an unexpected keyword argument “%s”", preset, key);
              return NULL;
            }

          if (g_str_equal (key, "crop_size"))
            {
              int sizes[2];
              guint n;

              if (!parse_size (key, value, FALSE, &n, sizes, error))
                return NULL;
              self->n_crop = 0;
              set_crop (self, n, sizes[0], n == 2 ? sizes[1] : sizes[0]);
              has_crop = TRUE;
            }
          else if (g_str_equal (key, "resize_size"))
            {
              int sizes[2] = { 0, 0 };
              guint n;

              /* Only SemanticSegmentation takes None. */
              if (!parse_size (key, value, p == TVW_PRESET_SEMANTIC_SEGMENTATION, &n, sizes, error))
                return NULL;
              if (n == 2 && p == TVW_PRESET_SEMANTIC_SEGMENTATION)
                {
                  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                               "resize_size: SemanticSegmentation takes a single size or None");
                  return NULL;
                }
              set_resize (self, n, sizes[0], sizes[1]);
              has_resize = TRUE;
            }
          else if (g_str_equal (key, "mean") || g_str_equal (key, "std"))
            {
              gboolean is_std = g_str_equal (key, "std");
              g_autofree double *values = NULL;
              guint n_values = 0;

              if (!values_from_variant (value, &values, &n_values))
                {
                  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                               "%s: expected a tuple of numbers, got a value of type “%s”",
                               key, g_variant_get_type_string (value));
                  return NULL;
                }
              if (!check_values (key, values, n_values, is_std, error))
                return NULL;
              if (is_std)
                set_values (&self->std, &self->n_std, values, n_values);
              else
                set_values (&self->mean, &self->n_mean, values, n_values);
            }
          else if (g_str_equal (key, "interpolation"))
            {
              if (!parse_interpolation (value, &self->interpolation, error))
                return NULL;
            }
          else if (g_str_equal (key, "antialias"))
            {
              g_autoptr(GVariant) b = NULL;

              b = unbox_typed (key, value, G_VARIANT_TYPE_BOOLEAN, "a boolean", error);
              if (b == NULL)
                return NULL;
              self->antialias = g_variant_get_boolean (b);
            }
        }
    }

  /* torchvision's required keyword-only arguments. */
  if (tvw_preset_has_crop (p) && !has_crop)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s missing required keyword argument “crop_size”", preset);
      return NULL;
    }
  if ((p == TVW_PRESET_VIDEO_CLASSIFICATION || p == TVW_PRESET_SEMANTIC_SEGMENTATION) && !has_resize)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s missing required keyword argument “resize_size”", preset);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/* ------------------------------------------------------------------------ */
/* Public constructor and getters. */

/**
 * tvw_transform_new:
 * @preset: the preset
 *
 * Creates the preset with the defaults described under
 * [property@Transform:preset]; [method@Weights.transforms] gives the one a
 * weights entry uses.
 *
 * Returns: (transfer full): a new transform
 */
TvwTransform *
tvw_transform_new (TvwPreset preset)
{
  g_return_val_if_fail ((guint) preset < G_N_ELEMENTS (preset_names), NULL);

  return g_object_new (TVW_TYPE_TRANSFORM, "preset", preset, NULL);
}

/**
 * tvw_transform_get_preset:
 * @self: a transform
 *
 * Returns: the preset
 */
TvwPreset
tvw_transform_get_preset (TvwTransform *self)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), TVW_PRESET_IMAGE_CLASSIFICATION);

  return self->preset;
}

/**
 * tvw_transform_get_crop_size:
 * @self: a transform
 * @height: (out) (optional): the crop height, or 0
 * @width: (out) (optional): the crop width, or 0
 *
 * Gets the central crop, torchvision's `crop_size` list.
 *
 * Returns: the length of the list: 0 when the preset does not crop, 1 for
 *   a square crop (`[224]`), 2 for a (height, width) crop (`[112, 112]`)
 */
guint
tvw_transform_get_crop_size (TvwTransform *self,
                             int          *height,
                             int          *width)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), 0);

  if (height != NULL)
    *height = tvw_transform_crop_height (self);
  if (width != NULL)
    *width = tvw_transform_crop_width (self);
  return self->n_crop;
}

/**
 * tvw_transform_get_resize_size:
 * @self: a transform
 * @first: (out) (optional): the shorter side's size, or the height
 * @second: (out) (optional): the width, or 0
 *
 * Gets torchvision's `resize_size` list.
 *
 * Returns: the length of the list: 0 for no resize (`None`), 1 when
 *   @first is the size of the shorter side, 2 when the image is resized
 *   to (@first, @second) = (height, width)
 */
guint
tvw_transform_get_resize_size (TvwTransform *self,
                               int          *first,
                               int          *second)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), 0);

  if (first != NULL)
    *first = self->n_resize > 0 ? self->resize[0] : 0;
  if (second != NULL)
    *second = self->n_resize > 1 ? self->resize[1] : 0;
  return self->n_resize;
}

/**
 * tvw_transform_get_mean:
 * @self: a transform
 * @n_values: (out): the number of values
 *
 * Returns: (array length=n_values) (transfer none) (nullable): the mean
 */
const double *
tvw_transform_get_mean (TvwTransform *self,
                        guint        *n_values)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);

  *n_values = self->n_mean;
  return self->mean;
}

/**
 * tvw_transform_get_std:
 * @self: a transform
 * @n_values: (out): the number of values
 *
 * Returns: (array length=n_values) (transfer none) (nullable): the standard
 *   deviation
 */
const double *
tvw_transform_get_std (TvwTransform *self,
                       guint        *n_values)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);
  g_return_val_if_fail (n_values != NULL, NULL);

  *n_values = self->n_std;
  return self->std;
}

/**
 * tvw_transform_get_interpolation:
 * @self: a transform
 *
 * Returns: the interpolation mode
 */
TvwInterpolation
tvw_transform_get_interpolation (TvwTransform *self)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), TVW_INTERPOLATION_BILINEAR);

  return self->interpolation;
}

/**
 * tvw_transform_get_antialias:
 * @self: a transform
 *
 * Returns: whether tensors are antialiased when shrunk
 */
gboolean
tvw_transform_get_antialias (TvwTransform *self)
{
  g_return_val_if_fail (TVW_IS_TRANSFORM (self), FALSE);

  return self->antialias;
}

/* ------------------------------------------------------------------------ */
