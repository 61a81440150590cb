/* tvw-transform-repr.c — a transform as torchvision's repr () and describe ()
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

  if (!tvw_preset_has_resize (self->preset))
    {
      g_string_append_c (s, ')');
      return g_string_free (s, FALSE);
    }

  if (tvw_preset_has_crop (self->preset))
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
