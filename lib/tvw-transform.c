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

struct _TvwTransform
{
  GObject           parent_instance;

  TvwPreset         preset;
  int               crop[2];
  guint             n_crop;
  int               resize[2];
  guint             n_resize;
  double           *mean;
  guint             n_mean;
  double           *std;
  guint             n_std;
  TvwInterpolation  interpolation;
  gboolean          antialias;
};

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

/* The largest resized side: Pillow computes sizes through floats. */
#define MAX_RESIZED_SIDE (1 << 24)

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

static gboolean
preset_has_crop (TvwPreset preset)
{
  return preset == TVW_PRESET_IMAGE_CLASSIFICATION ||
         preset == TVW_PRESET_VIDEO_CLASSIFICATION;
}

static gboolean
preset_has_resize (TvwPreset preset)
{
  return preset_has_crop (preset) || preset == TVW_PRESET_SEMANTIC_SEGMENTATION;
}

/* ObjectDetection only rescales; OpticalFlow normalizes with fixed values. */
static gboolean
preset_has_normalize (TvwPreset preset)
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

static int
crop_height (TvwTransform *self)
{
  return self->n_crop > 0 ? self->crop[0] : 0;
}

static int
crop_width (TvwTransform *self)
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
      g_value_set_int (value, crop_height (self) == crop_width (self) ? crop_height (self) : 0);
      break;

    case PROP_CROP_HEIGHT:
      g_value_set_int (value, crop_height (self));
      break;

    case PROP_CROP_WIDTH:
      g_value_set_int (value, crop_width (self));
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
      set_crop (self, 2, v, crop_width (self) > 0 ? crop_width (self) : v);
      break;

    case PROP_CROP_WIDTH:
      v = g_value_get_int (value);
      set_crop (self, 2, crop_height (self) > 0 ? crop_height (self) : v, v);
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
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          gboolean known;

          /* The keyword arguments each preset's __init__ takes. */
          if (g_str_equal (key, "crop_size"))
            known = preset_has_crop (p);
          else if (g_str_equal (key, "resize_size") || g_str_equal (key, "interpolation") ||
                   g_str_equal (key, "antialias"))
            known = preset_has_resize (p);
          else if (g_str_equal (key, "mean") || g_str_equal (key, "std"))
            known = preset_has_resize (p);
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
  if (preset_has_crop (p) && !has_crop)
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
    *height = crop_height (self);
  if (width != NULL)
    *width = crop_width (self);
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

  if (self->n_crop > 0 && preset_has_crop (self->preset))
    {
      g->out_h = crop_height (self);
      g->out_w = crop_width (self);
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

  if (!preset_has_normalize (self->preset))
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

/* Python's repr() of a float: the shortest digits that read back to the
 * same double, in fixed notation for exponents -4 ≤ e < 16. */
static void
append_python_float (GString *s,
                     double   v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char digits[32];
  int n_digits = 0, exponent = 0;
  gboolean negative;
  const char *p;

  if (isnan (v))
    {
      g_string_append (s, "nan");
      return;
    }
  if (isinf (v))
    {
      g_string_append (s, v < 0 ? "-inf" : "inf");
      return;
    }
  if (v == 0.0)
    {
      g_string_append (s, signbit (v) ? "-0.0" : "0.0");
      return;
    }

  for (int precision = 1; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%de", precision - 1);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }

  /* buf is "-d.ddde±XX": split into digits and exponent. */
  p = buf;
  negative = *p == '-';
  if (negative)
    p++;
  for (; *p != '\0' && *p != 'e'; p++)
    if (g_ascii_isdigit (*p) && n_digits < (int) sizeof digits - 1)
      digits[n_digits++] = *p;
  digits[n_digits] = '\0';
  if (*p == 'e')
    exponent = atoi (p + 1);
  while (n_digits > 1 && digits[n_digits - 1] == '0')
    digits[--n_digits] = '\0';

  if (negative)
    g_string_append_c (s, '-');

  if (exponent >= -5 + 1 && exponent < 16)
    {
      if (exponent < 0)
        {
          g_string_append (s, "0.");
          for (int i = 0; i < -exponent - 1; i++)
            g_string_append_c (s, '0');
          g_string_append (s, digits);
        }
      else if (n_digits <= exponent + 1)
        {
          g_string_append (s, digits);
          for (int i = n_digits; i < exponent + 1; i++)
            g_string_append_c (s, '0');
          g_string_append (s, ".0");
        }
      else
        {
          g_string_append_len (s, digits, exponent + 1);
          g_string_append_c (s, '.');
          g_string_append (s, digits + exponent + 1);
        }
    }
  else
    {
      g_string_append_c (s, digits[0]);
      if (n_digits > 1)
        {
          g_string_append_c (s, '.');
          g_string_append (s, digits + 1);
        }
      g_string_append_printf (s, "e%c%02d", exponent < 0 ? '-' : '+', ABS (exponent));
    }
}

static void
append_float_list (GString      *s,
                   const double *values,
                   guint         n_values)
{
  g_string_append_c (s, '[');
  for (guint i = 0; i < n_values; i++)
    {
      if (i > 0)
        g_string_append (s, ", ");
      append_python_float (s, values[i]);
    }
  g_string_append_c (s, ']');
}

static void
append_int_list (GString   *s,
                 const int *values,
                 guint      n_values)
{
  if (n_values == 0)
    {
      g_string_append (s, "None");
      return;
    }
  g_string_append_c (s, '[');
  for (guint i = 0; i < n_values; i++)
    g_string_append_printf (s, "%s%d", i > 0 ? ", " : "", values[i]);
  g_string_append_c (s, ']');
}

static const char *
interpolation_repr (TvwInterpolation interpolation)
{
  switch (interpolation)
    {
    case TVW_INTERPOLATION_NEAREST:
      return "InterpolationMode.NEAREST";
    case TVW_INTERPOLATION_BICUBIC:
      return "InterpolationMode.BICUBIC";
    case TVW_INTERPOLATION_BILINEAR:
    default:
      return "InterpolationMode.BILINEAR";
    }
}

/**
 * tvw_transform_to_string:
 * @self: a transform
 *
 * Formats the transform as torchvision's `repr()` of the preset, e.g.
 *
 * ```
 * ImageClassification(
 *     crop_size=[224]
 *     resize_size=[256]
 *     mean=[0.485, 0.456, 0.406]
 *     std=[0.229, 0.224, 0.225]
 *     interpolation=InterpolationMode.BILINEAR
 * )
 * ```
 *
 * An `antialias=True` line is added when [property@Transform:antialias] is
 * set (torchvision 0.14 has no such argument).
 *
 * Returns: (transfer full): the description
 */
char *
tvw_transform_to_string (TvwTransform *self)
{
  GString *s;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);

  s = g_string_new (tvw_preset_to_name (self->preset));
  g_string_append_c (s, '(');

  if (!preset_has_resize (self->preset))
    {
      g_string_append_c (s, ')');
      return g_string_free (s, FALSE);
    }

  if (preset_has_crop (self->preset))
    {
      g_string_append (s, "\n    crop_size=");
      append_int_list (s, self->crop, self->n_crop);
    }
  g_string_append (s, "\n    resize_size=");
  append_int_list (s, self->resize, self->n_resize);
  g_string_append (s, "\n    mean=");
  append_float_list (s, self->mean, self->n_mean);
  g_string_append (s, "\n    std=");
  append_float_list (s, self->std, self->n_std);
  g_string_append_printf (s, "\n    interpolation=%s", interpolation_repr (self->interpolation));
  if (self->antialias)
    g_string_append (s, "\n    antialias=True");
  g_string_append (s, "\n)");

  return g_string_free (s, FALSE);
}

/**
 * tvw_transform_describe:
 * @self: a transform
 *
 * Gets torchvision's `describe()` text of the preset, the paragraph the
 * documentation of each weights entry shows.
 *
 * Returns: (transfer full): the description
 */
char *
tvw_transform_describe (TvwTransform *self)
{
  g_autoptr(GString) resize = g_string_new (NULL);
  g_autoptr(GString) crop = g_string_new (NULL);
  g_autoptr(GString) mean = g_string_new (NULL);
  g_autoptr(GString) std = g_string_new (NULL);
  const char *interp;

  g_return_val_if_fail (TVW_IS_TRANSFORM (self), NULL);

  append_int_list (resize, self->resize, self->n_resize);
  append_int_list (crop, self->crop, self->n_crop);
  append_float_list (mean, self->mean, self->n_mean);
  append_float_list (std, self->std, self->n_std);
  interp = interpolation_repr (self->interpolation);

  switch (self->preset)
    {
    case TVW_PRESET_IMAGE_CLASSIFICATION:
      return g_strdup_printf ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                              "``torch.Tensor`` objects. The images are resized to ``resize_size=%s`` using "
                              "``interpolation=%s``, followed by a central crop of ``crop_size=%s``. Finally the "
                              "values are first rescaled to ``[0.0, 1.0]`` and then normalized using ``mean=%s`` "
                              "and ``std=%s``.",
                              resize->str, interp, crop->str, mean->str, std->str);
    case TVW_PRESET_SEMANTIC_SEGMENTATION:
      return g_strdup_printf ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                              "``torch.Tensor`` objects. The images are resized to ``resize_size=%s`` using "
                              "``interpolation=%s``. Finally the values are first rescaled to ``[0.0, 1.0]`` and "
                              "then normalized using ``mean=%s`` and ``std=%s``.",
                              resize->str, interp, mean->str, std->str);
    case TVW_PRESET_VIDEO_CLASSIFICATION:
      return g_strdup_printf ("Accepts batched ``(B, T, C, H, W)`` and single ``(T, C, H, W)`` video frame "
                              "``torch.Tensor`` objects. The frames are resized to ``resize_size=%s`` using "
                              "``interpolation=%s``, followed by a central crop of ``crop_size=%s``. Finally the "
                              "values are first rescaled to ``[0.0, 1.0]`` and then normalized using ``mean=%s`` "
                              "and ``std=%s``. Finally the output dimensions are permuted to ``(..., C, T, H, W)`` "
                              "tensors.",
                              resize->str, interp, crop->str, mean->str, std->str);
    case TVW_PRESET_OBJECT_DETECTION:
      return g_strdup ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                       "``torch.Tensor`` objects. The images are rescaled to ``[0.0, 1.0]``.");
    case TVW_PRESET_OPTICAL_FLOW:
    default:
      return g_strdup ("Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image "
                       "``torch.Tensor`` objects. The images are rescaled to ``[-1.0, 1.0]``.");
    }
}
