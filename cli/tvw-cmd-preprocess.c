/* tvw-cmd-preprocess.c — tvw preprocess: the tensor a model would see
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tvw-cli.h"
#include "tvw-npy.h"

static gboolean
parse_preset (const char  *name,
              TvwPreset   *preset,
              GError     **error)
{
  static const char * const names[] = {
    "ImageClassification", "SemanticSegmentation", "VideoClassification",
    "ObjectDetection", "OpticalFlow",
  };
  static const TvwPreset values[] = {
    TVW_PRESET_IMAGE_CLASSIFICATION, TVW_PRESET_SEMANTIC_SEGMENTATION,
    TVW_PRESET_VIDEO_CLASSIFICATION, TVW_PRESET_OBJECT_DETECTION, TVW_PRESET_OPTICAL_FLOW,
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_ascii_strcasecmp (name, names[i]) == 0)
        {
          *preset = values[i];
          return TRUE;
        }
    }

  g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
               _("Unknown preset “%s” (ImageClassification, SemanticSegmentation, "
                 "VideoClassification, ObjectDetection or OpticalFlow)"), name);
  return FALSE;
}

static gboolean
parse_numbers (const char  *option,
               const char  *text,
               GVariant   **out,
               GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ad"));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *end = NULL;
      double v = g_ascii_strtod (g_strstrip (parts[i]), &end);

      if (end == parts[i] || *end != '\0')
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("%s: “%s” is not a comma-separated list of numbers"), option, text);
          return FALSE;
        }
      g_variant_builder_add (&builder, "d", v);
    }

  *out = g_variant_builder_end (&builder);
  return TRUE;
}

/* "N", "H,W" or (when allowed) "none": an int32, an (ii) tuple or a
 * maybe without a value, as torchvision's keyword arguments take them. */
static gboolean
parse_size (const char  *option,
            const char  *text,
            gboolean     allow_none,
            GVariant   **out,
            GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);
  gint64 v[2];

  if (allow_none && g_ascii_strcasecmp (text, "none") == 0)
    {
      *out = g_variant_new_maybe (G_VARIANT_TYPE_INT32, NULL);
      return TRUE;
    }

  for (guint i = 0; i < n && n <= 2; i++)
    {
      if (!g_ascii_string_to_signed (g_strstrip (parts[i]), 10, 1, G_MAXINT32, &v[i], NULL))
        n = 0;
    }
  if (n < 1 || n > 2)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("%s: “%s” is not a size (N or H,W%s)"), option, text,
                   allow_none ? _(" or none") : "");
      return FALSE;
    }

  if (n == 1)
    *out = g_variant_new_int32 ((gint32) v[0]);
  else
    *out = g_variant_new ("(ii)", (gint32) v[0], (gint32) v[1]);
  return TRUE;
}

/* The overrides as torchvision keyword arguments. */
static GVariant *
build_overrides (const char   *crop_size,
                 const char   *resize_size,
                 const char   *interpolation,
                 const char   *mean,
                 const char   *std,
                 gboolean      antialias,
                 GError      **error)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (crop_size != NULL)
    {
      GVariant *v;

      if (!parse_size ("--crop-size", crop_size, FALSE, &v, error))
        return NULL;
      g_variant_dict_insert_value (&dict, "crop_size", v);
    }
  if (resize_size != NULL)
    {
      GVariant *v;

      if (!parse_size ("--resize-size", resize_size, TRUE, &v, error))
        return NULL;
      g_variant_dict_insert_value (&dict, "resize_size", v);
    }
  if (interpolation != NULL)
    g_variant_dict_insert (&dict, "interpolation", "s", interpolation);
  if (antialias)
    g_variant_dict_insert (&dict, "antialias", "b", TRUE);
  if (mean != NULL)
    {
      GVariant *v;

      if (!parse_numbers ("--mean", mean, &v, error))
        return NULL;
      g_variant_dict_insert_value (&dict, "mean", v);
    }
  if (std != NULL)
    {
      GVariant *v;

      if (!parse_numbers ("--std", std, &v, error))
        return NULL;
      g_variant_dict_insert_value (&dict, "std", v);
    }

  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

/* Applies @overrides through the properties, for --preset. */
static gboolean
apply_overrides (TvwTransform  *transform,
                 GVariant      *overrides,
                 GError       **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, overrides);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean pair = g_variant_is_of_type (value, G_VARIANT_TYPE ("(ii)"));
      gboolean none = g_variant_is_of_type (value, G_VARIANT_TYPE_MAYBE);
      gint32 first = 0, second = 0;

      if (pair)
        g_variant_get (value, "(ii)", &first, &second);
      else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
        first = g_variant_get_int32 (value);

      if (g_str_equal (key, "crop_size") && pair)
        g_object_set (transform, "crop-height", first, "crop-width", second, NULL);
      else if (g_str_equal (key, "crop_size"))
        g_object_set (transform, "crop-size", first, NULL);
      else if (g_str_equal (key, "resize_size") && pair)
        g_object_set (transform, "resize-height", first, "resize-width", second, NULL);
      else if (g_str_equal (key, "resize_size"))
        g_object_set (transform, "resize-size", none ? 0 : first, NULL);
      else if (g_str_equal (key, "antialias"))
        g_object_set (transform, "antialias", g_variant_get_boolean (value), NULL);
      else if (g_str_equal (key, "mean"))
        g_object_set (transform, "mean", value, NULL);
      else if (g_str_equal (key, "std"))
        g_object_set (transform, "std", value, NULL);
      else if (g_str_equal (key, "interpolation"))
        {
          const char *s = g_variant_get_string (value, NULL);
          g_autoptr(GEnumClass) klass = g_type_class_ref (TVW_TYPE_INTERPOLATION);
          GEnumValue *ev = g_enum_get_value_by_nick (klass, s);

          if (ev == NULL)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                           _("--interpolation: unknown mode “%s” (nearest, bilinear or bicubic)"), s);
              return FALSE;
            }
          g_object_set (transform, "interpolation", ev->value, NULL);
        }
    }

  return TRUE;
}

/* A float32 .npy of 0–255 integers, as uint8. */
static TvwTensor *
to_uint8 (TvwTensor  *tensor,
          GError    **error)
{
  guint n_dims;
  const gint64 *shape = tvw_tensor_get_shape (tensor, &n_dims);
  g_autoptr(TvwTensor) out = tvw_tensor_new (TVW_DTYPE_UINT8, shape, n_dims);
  const float *in = tvw_tensor_get_data (tensor);
  guint8 *data = tvw_tensor_get_data_uint8 (out);

  for (gsize i = 0; i < tvw_tensor_get_n_elements (tensor); i++)
    {
      if (!(in[i] >= 0.0f && in[i] <= 255.0f) || in[i] != (float) (int) in[i])
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("--uint8: the input holds values that are not integers from 0 to 255"));
          return NULL;
        }
      data[i] = (guint8) in[i];
    }

  return g_steal_pointer (&out);
}

int
tvw_cmd_preprocess (int    argc,
                    char **argv)
{
  g_autofree char *weights_name = NULL;
  g_autofree char *preset_name = NULL;
  g_autofree char *interpolation = NULL;
  g_autofree char *mean = NULL;
  g_autofree char *std = NULL;
  g_autofree char *output = NULL;
  g_autofree char *crop_output = NULL;
  g_autofree char *tensor_input = NULL;
  g_autofree char *crop_size = NULL;
  g_autofree char *resize_size = NULL;
  int status = 0;
  gboolean antialias = FALSE, print = FALSE, as_uint8 = FALSE;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("Use the transforms of a weights entry, e.g. ResNet50_Weights.DEFAULT"), N_("FULL_NAME") },
    { "preset", 'p', 0, G_OPTION_ARG_STRING, &preset_name, N_("Use a preset with its defaults, e.g. ImageClassification"), N_("NAME") },
    { "crop-size", 0, 0, G_OPTION_ARG_STRING, &crop_size, N_("Override crop_size: N, or H,W"), N_("N") },
    { "resize-size", 0, 0, G_OPTION_ARG_STRING, &resize_size, N_("Override resize_size: N (shorter side), H,W or none"), N_("N") },
    { "interpolation", 0, 0, G_OPTION_ARG_STRING, &interpolation, N_("Override interpolation: nearest, bilinear or bicubic"), N_("MODE") },
    { "mean", 0, 0, G_OPTION_ARG_STRING, &mean, N_("Override mean"), N_("M1,M2,M3") },
    { "std", 0, 0, G_OPTION_ARG_STRING, &std, N_("Override std"), N_("S1,S2,S3") },
    { "antialias", 0, 0, G_OPTION_ARG_NONE, &antialias, N_("Antialias tensors when shrinking them"), NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Where to write the float32 tensor"), N_("OUT.npy") },
    { "crop-output", 0, 0, G_OPTION_ARG_FILENAME, &crop_output, N_("Also write the uint8 (3, H, W) resized and cropped image"), N_("CROP.npy") },
    { "tensor", 't', 0, G_OPTION_ARG_FILENAME, &tensor_input, N_("Preprocess a float32 .npy tensor instead of an image"), N_("IN.npy") },
    { "uint8", 0, 0, G_OPTION_ARG_NONE, &as_uint8, N_("With --tensor: the tensor holds 0–255 integers to treat as uint8"), NULL },
    { "print", 0, 0, G_OPTION_ARG_NONE, &print, N_("Print the transforms like torchvision's repr()"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) overrides = NULL;
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(TvwTensor) result = NULL;

  if (!tvw_cli_parse ("preprocess", N_("[IMAGE]"),
                      _("Writes the float32 (C, H, W) tensor a model sees for IMAGE, preprocessed\n"
                        "with the transforms of a weights entry (or a preset), as a .npy file."),
                      entries, &argc, &argv, &status))
    return status;

  if ((weights_name == NULL) == (preset_name == NULL) ||
      (!print && output == NULL) ||
      (!print && (argc != 2) == (tensor_input == NULL)) ||
      (tensor_input != NULL && crop_output != NULL) ||
      (as_uint8 && tensor_input == NULL))
    {
      g_printerr ("%s\n", _("tvw preprocess: one of --weights and --preset is required, and "
                            "--output with either IMAGE or --tensor (or --print)"));
      return 2;
    }

  overrides = build_overrides (crop_size, resize_size, interpolation, mean, std, antialias, &error);
  if (overrides == NULL)
    return tvw_cli_fail ("preprocess", error);

  if (weights_name != NULL)
    {
      TvwWeights *weights = tvw_get_weight (weights_name, &error);

      if (weights == NULL)
        return tvw_cli_fail ("preprocess", error);
      transform = tvw_weights_transforms_with (weights, overrides, &error);
      if (transform == NULL)
        return tvw_cli_fail ("preprocess", error);
    }
  else
    {
      TvwPreset preset;

      if (!parse_preset (preset_name, &preset, &error))
        return tvw_cli_fail ("preprocess", error);
      transform = tvw_transform_new (preset);
      if (!apply_overrides (transform, overrides, &error))
        return tvw_cli_fail ("preprocess", error);
    }

  if (print)
    {
      g_autofree char *text = tvw_transform_to_string (transform);

      g_print ("%s\n", text);
      if (output == NULL)
        return EXIT_SUCCESS;
    }

  if (tensor_input != NULL)
    {
      g_autoptr(TvwTensor) input = tvw_npy_load (tensor_input, &error);

      if (input != NULL && as_uint8)
        {
          TvwTensor *u8 = to_uint8 (input, &error);

          g_clear_object (&input);
          input = u8;
        }
      if (input == NULL)
        return tvw_cli_fail ("preprocess", error);

      result = tvw_transform_apply_tensor (transform, input, &error);
    }
  else
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (argv[1]);
      g_autoptr(GdkPixbuf) crop = NULL;

      result = tvw_transform_apply_file_full (transform, file, crop_output != NULL ? &crop : NULL,
                                              NULL, &error);
      if (result != NULL && crop != NULL)
        {
          g_autoptr(TvwTensor) chw = tvw_tensor_new_from_pixbuf (crop);

          if (!tvw_npy_save (crop_output, chw, &error))
            return tvw_cli_fail ("preprocess", error);
        }
    }

  if (result == NULL)
    return tvw_cli_fail ("preprocess", error);

  if (!tvw_npy_save (output, result, &error))
    return tvw_cli_fail ("preprocess", error);

  return EXIT_SUCCESS;
}
