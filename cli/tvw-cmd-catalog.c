/* tvw-cmd-catalog.c — tvw list, tvw weights, tvw info: the weights catalog
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-cli.h"

/* {{{ JSON output
 *
 * Written by hand rather than with JsonGenerator so that it reads back in
 * Python exactly: doubles always have a decimal point or an exponent (80.0
 * stays a float), use the shortest text that round-trips, and NaN is
 * written the way Python's json module writes and reads it. */

static void
json_indent (GString *out,
             guint    depth)
{
  g_string_append_c (out, '\n');
  for (guint i = 0; i < depth; i++)
    g_string_append (out, "  ");
}

static void
json_string (GString    *out,
             const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      guchar c = *p;

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

static void
json_double (GString *out,
             double   v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    {
      g_string_append (out, "NaN");
      return;
    }
  if (isinf (v))
    {
      g_string_append (out, v > 0 ? "Infinity" : "-Infinity");
      return;
    }

  /* The shortest precision that reads back as the same double, like
   * Python's repr(). */
  for (int precision = 1; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }

  g_string_append (out, buf);
  if (strpbrk (buf, ".e") == NULL)
    g_string_append (out, ".0");
}

static void
json_variant (GString  *out,
              GVariant *value,
              guint     depth)
{
  const GVariantType *type = g_variant_get_type (value);

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      GVariantIter iter;
      const char *key;
      GVariant *child;
      gboolean first = TRUE;

      if (g_variant_n_children (value) == 0)
        {
          g_string_append (out, "{}");
          return;
        }

      g_string_append_c (out, '{');
      g_variant_iter_init (&iter, value);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &child))
        {
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          json_indent (out, depth + 1);
          json_string (out, key);
          g_string_append (out, ": ");
          json_variant (out, child, depth + 1);
        }
      json_indent (out, depth);
      g_string_append_c (out, '}');
      return;
    }

  if (g_variant_type_is_maybe (type))
    {
      g_autoptr(GVariant) child = g_variant_get_maybe (value);

      if (child == NULL)
        g_string_append (out, "null");
      else
        json_variant (out, child, depth);
      return;
    }

  if (g_variant_type_is_variant (type))
    {
      g_autoptr(GVariant) child = g_variant_get_variant (value);

      json_variant (out, child, depth);
      return;
    }

  if (g_variant_type_is_array (type) || g_variant_type_is_tuple (type))
    {
      gsize n = g_variant_n_children (value);
      /* Short lists of numbers (sizes, mean, std) stay on one line. */
      gboolean inline_items = n <= 4 && !g_variant_type_is_subtype_of (type, G_VARIANT_TYPE_STRING_ARRAY);

      g_string_append_c (out, '[');
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          if (i > 0)
            g_string_append (out, inline_items ? ", " : ",");
          if (!inline_items)
            json_indent (out, depth + 1);
          json_variant (out, child, depth + 1);
        }
      if (!inline_items && n > 0)
        json_indent (out, depth);
      g_string_append_c (out, ']');
      return;
    }

  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_BOOLEAN:
      g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
      break;
    case G_VARIANT_CLASS_BYTE:
      g_string_append_printf (out, "%u", g_variant_get_byte (value));
      break;
    case G_VARIANT_CLASS_INT16:
      g_string_append_printf (out, "%d", g_variant_get_int16 (value));
      break;
    case G_VARIANT_CLASS_UINT16:
      g_string_append_printf (out, "%u", g_variant_get_uint16 (value));
      break;
    case G_VARIANT_CLASS_INT32:
      g_string_append_printf (out, "%d", g_variant_get_int32 (value));
      break;
    case G_VARIANT_CLASS_UINT32:
      g_string_append_printf (out, "%u", g_variant_get_uint32 (value));
      break;
    case G_VARIANT_CLASS_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
      break;
    case G_VARIANT_CLASS_UINT64:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
      break;
    case G_VARIANT_CLASS_DOUBLE:
      json_double (out, g_variant_get_double (value));
      break;
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      json_string (out, g_variant_get_string (value, NULL));
      break;
    case G_VARIANT_CLASS_HANDLE:
    case G_VARIANT_CLASS_MAYBE:
    case G_VARIANT_CLASS_ARRAY:
    case G_VARIANT_CLASS_TUPLE:
    case G_VARIANT_CLASS_DICT_ENTRY:
    case G_VARIANT_CLASS_VARIANT:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* Python's repr() of a value, for the text output: (1, 1), [0.485, …], 'bicubic', None. */
static void
py_repr (GString  *out,
         GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);

  if (g_variant_type_is_maybe (type))
    {
      g_autoptr(GVariant) child = g_variant_get_maybe (value);

      if (child == NULL)
        g_string_append (out, "None");
      else
        py_repr (out, child);
    }
  else if (g_variant_type_is_variant (type))
    {
      g_autoptr(GVariant) child = g_variant_get_variant (value);

      py_repr (out, child);
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      GVariantIter iter;
      const char *key;
      GVariant *child;
      gboolean first = TRUE;

      g_string_append_c (out, '{');
      g_variant_iter_init (&iter, value);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &child))
        {
          g_string_append_printf (out, "%s'%s': ", first ? "" : ", ", key);
          py_repr (out, child);
          first = FALSE;
        }
      g_string_append_c (out, '}');
    }
  else if (g_variant_type_is_array (type) || g_variant_type_is_tuple (type))
    {
      gboolean tuple = g_variant_type_is_tuple (type);
      gsize n = g_variant_n_children (value);

      g_string_append_c (out, tuple ? '(' : '[');
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

          if (i > 0)
            g_string_append (out, ", ");
          py_repr (out, child);
        }
      if (tuple && n == 1)
        g_string_append_c (out, ',');
      g_string_append_c (out, tuple ? ')' : ']');
    }
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? "True" : "False");
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    g_string_append_printf (out, "'%s'", g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE) && isnan (g_variant_get_double (value)))
    g_string_append (out, "nan");
  else
    json_variant (out, value, 0);
}

/* }}} */
/* {{{ Building blocks shared by the commands */

/* The entry's preset and keyword arguments: {"preset": …, "crop_size": …}. */
static GVariant *
transforms_variant (TvwWeights *w)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  GVariant *kwargs = tvw_weights_get_preset_kwargs (w);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_add (&builder, "{sv}", "preset", g_variant_new_string (tvw_weights_get_preset (w)));
  g_variant_iter_init (&iter, kwargs);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    g_variant_builder_add (&builder, "{sv}", key, value);

  return g_variant_builder_end (&builder);
}

/* ImageClassification(crop_size=224, resize_size=232), like Python's
 * repr of the partial's keywords. */
static char *
transforms_text (TvwWeights *w)
{
  GString *text = g_string_new (tvw_weights_get_preset (w));
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gboolean first = TRUE;

  g_string_append_c (text, '(');
  g_variant_iter_init (&iter, tvw_weights_get_preset_kwargs (w));
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_string_append_printf (text, "%s%s=", first ? "" : ", ", key);
      py_repr (text, value);
      first = FALSE;
    }
  g_string_append_c (text, ')');

  return g_string_free (text, FALSE);
}

static void
add_legacy (GVariantBuilder *builder,
            const char      *model)
{
  g_auto(GVariantBuilder) legacy = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  TvwWeights *pretrained = tvw_get_legacy_weights (model, FALSE);
  TvwWeights *backbone = tvw_get_legacy_weights (model, TRUE);

  if (pretrained != NULL)
    g_variant_builder_add (&legacy, "{sv}", "pretrained",
                           g_variant_new_string (tvw_weights_get_full_name (pretrained)));
  if (backbone != NULL)
    g_variant_builder_add (&legacy, "{sv}", "pretrained_backbone",
                           g_variant_new_string (tvw_weights_get_full_name (backbone)));
  g_variant_builder_add (builder, "{sv}", "legacy", g_variant_builder_end (&legacy));
}

static GVariant *
entry_variant (TvwWeights *w,
               gboolean    with_meta)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *url = tvw_weights_get_url (w);
  const char *file = tvw_weights_get_local_file (w);
  const char *sha256 = tvw_weights_get_sha256 (w);

  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (tvw_weights_get_name (w)));
  g_variant_builder_add (&builder, "{sv}", "full_name", g_variant_new_string (tvw_weights_get_full_name (w)));
  g_variant_builder_add (&builder, "{sv}", "enum",
                         g_variant_new_string (tvw_weights_enum_get_name (tvw_weights_get_enum (w))));
  g_variant_builder_add (&builder, "{sv}", "builder", g_variant_new_string (tvw_weights_get_builder (w)));
  g_variant_builder_add (&builder, "{sv}", "default", g_variant_new_boolean (tvw_weights_is_default (w)));
  g_variant_builder_add (&builder, "{sv}", "builtin", g_variant_new_boolean (tvw_weights_is_builtin (w)));
  g_variant_builder_add (&builder, "{sv}", "url",
                         url ? g_variant_new_maybe (NULL, g_variant_new_string (url))
                             : g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL));
  if (file != NULL)
    g_variant_builder_add (&builder, "{sv}", "file", g_variant_new_string (file));
  if (sha256 != NULL)
    g_variant_builder_add (&builder, "{sv}", "sha256", g_variant_new_string (sha256));
  g_variant_builder_add (&builder, "{sv}", "num_classes", g_variant_new_uint32 (tvw_weights_get_num_classes (w)));
  g_variant_builder_add (&builder, "{sv}", "transforms", transforms_variant (w));
  if (with_meta)
    g_variant_builder_add (&builder, "{sv}", "meta", tvw_weights_get_meta (w));

  return g_variant_builder_end (&builder);
}

static void
print_json (GVariant *value)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GVariant) sunk = g_variant_ref_sink (value);

  json_variant (out, sunk, 0);
  g_string_append_c (out, '\n');
  fwrite (out->str, 1, out->len, stdout);
}

/* The headline numbers of a _metrics dict: "ImageNet-1K acc@1 80.858, acc@5 95.434". */
static char *
metrics_text (GVariant *metrics)
{
  GString *text = g_string_new (NULL);
  GVariantIter datasets;
  const char *dataset;
  GVariant *values;

  g_variant_iter_init (&datasets, metrics);
  while (g_variant_iter_loop (&datasets, "{&sv}", &dataset, &values))
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;
      gboolean first = TRUE;

      if (!g_variant_is_of_type (values, G_VARIANT_TYPE_VARDICT))
        continue;
      if (text->len > 0)
        g_string_append (text, "; ");
      g_string_append_printf (text, "%s ", dataset);
      g_variant_iter_init (&iter, values);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          if (!first)
            g_string_append (text, ", ");
          first = FALSE;
          g_string_append_printf (text, "%s ", key);
          py_repr (text, value);
        }
    }

  return g_string_free (text, FALSE);
}

/* }}} */
/* {{{ tvw list */

int
tvw_cmd_list (int    argc,
              char **argv)
{
  g_auto(GStrv) include = NULL;
  g_auto(GStrv) exclude = NULL;
  gboolean all = FALSE, json = FALSE;
  int status = 0;
  const GOptionEntry entries[] = {
    { "include", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &include, N_("List the models matching GLOB (repeatable)"), N_("GLOB") },
    { "exclude", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &exclude, N_("Leave out the models matching GLOB (repeatable)"), N_("GLOB") },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, N_("Also list the models libtvw cannot build yet"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_auto(GStrv) names = NULL;

  if (!tvw_cli_parse ("list", NULL,
                      _("Lists the models, like torchvision.models.list_models(). Patterns are\n"
                        "shell globs: “--include 'resnet*' --exclude '*50'”."),
                      entries, &argc, &argv, &status))
    return status;

  if (argc > 1)
    {
      g_printerr (_("tvw list: unexpected argument “%s”\n"), argv[1]);
      return 2;
    }

  if (all)
    names = tvw_list_catalog_models ((const char * const *)include, (const char * const *)exclude);
  else
    names = tvw_list_models ((const char * const *)include, (const char * const *)exclude);

  if (json)
    {
      g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

      for (guint i = 0; names[i] != NULL; i++)
        {
          g_auto(GVariantBuilder) model = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
          TvwWeightsEnum *weights = tvw_get_model_weights (names[i], NULL);

          g_variant_builder_add (&model, "{sv}", "name", g_variant_new_string (names[i]));
          g_variant_builder_add (&model, "{sv}", "supported", g_variant_new_boolean (tvw_is_model_supported (names[i])));
          g_variant_builder_add (&model, "{sv}", "enum", g_variant_new_string (tvw_weights_enum_get_name (weights)));
          g_variant_builder_add (&model, "{sv}", "default",
                                 g_variant_new_string (tvw_weights_get_name (tvw_weights_enum_get_default (weights))));
          g_variant_builder_add (&model, "{sv}", "n_entries",
                                 g_variant_new_uint32 (g_list_model_get_n_items (G_LIST_MODEL (weights))));
          g_variant_builder_add_value (&list, g_variant_builder_end (&model));
        }
      print_json (g_variant_builder_end (&list));
      return EXIT_SUCCESS;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (all && !tvw_is_model_supported (names[i]))
        g_print ("%-40s %s\n", names[i], _("(not implemented yet)"));
      else
        g_print ("%s\n", names[i]);
    }

  return EXIT_SUCCESS;
}

/* }}} */
/* {{{ tvw weights */

static GVariant *
weights_json (TvwWeightsEnum *weights)
{
  const char *model = tvw_weights_enum_get_builder (weights);
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (weights));

  g_variant_builder_add (&builder, "{sv}", "builder", g_variant_new_string (model));
  g_variant_builder_add (&builder, "{sv}", "enum", g_variant_new_string (tvw_weights_enum_get_name (weights)));
  g_variant_builder_add (&builder, "{sv}", "supported", g_variant_new_boolean (tvw_is_model_supported (model)));
  g_variant_builder_add (&builder, "{sv}", "default",
                         g_variant_new_string (tvw_weights_get_name (tvw_weights_enum_get_default (weights))));
  add_legacy (&builder, model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (weights), i);

      g_variant_builder_add_value (&list, entry_variant (w, FALSE));
    }
  g_variant_builder_add (&builder, "{sv}", "entries", g_variant_builder_end (&list));

  return g_variant_builder_end (&builder);
}

static void
print_weights_text (TvwWeightsEnum *weights)
{
  const char *model = tvw_weights_enum_get_builder (weights);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (weights));

  g_print ("%s (%s)%s\n", tvw_weights_enum_get_name (weights), model,
           tvw_is_model_supported (model) ? "" : _(" — not implemented yet"));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (weights), i);
      g_autoptr(GVariant) metrics = tvw_weights_lookup_meta (w, "_metrics");
      g_autofree char *summary = metrics ? metrics_text (metrics) : g_strdup ("");

      g_print ("  %-28s %-9s %s\n", tvw_weights_get_name (w),
               tvw_weights_is_default (w) ? "DEFAULT" : "", summary);
    }
}

static TvwWeightsEnum *
find_enum (const char *name)
{
  GListModel *enums = tvw_get_weights_enums ();

  for (guint i = 0; i < g_list_model_get_n_items (enums); i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (enums, i);

      if (g_str_equal (tvw_weights_enum_get_name (e), name))
        return e;
    }

  return NULL;
}

int
tvw_cmd_weights (int    argc,
                 char **argv)
{
  gboolean json = FALSE;
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON (an array when there are several models)"), NULL },
    { NULL }
  };
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_auto(GVariantBuilder) array = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  if (!tvw_cli_parse ("weights", _("MODEL…"),
                      _("Lists the weights entries of models, like\n"
                        "torchvision.models.get_model_weights(MODEL). The DEFAULT entry is marked.\n"
                        "MODEL is a builder name (resnet50) or an enum name (ResNet50_Weights)."),
                      entries, &argc, &argv, &status))
    return status;

  if (argc < 2)
    {
      g_printerr ("%s\n", _("tvw weights: expected a MODEL, e.g. “tvw weights resnet50”"));
      return 2;
    }

  /* Check every name before printing anything. */
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;
      TvwWeightsEnum *weights = tvw_get_model_weights (argv[i], &error);

      /* Enums that weights cards created have no builder of their own. */
      if (weights == NULL)
        weights = find_enum (argv[i]);
      if (weights == NULL)
        return tvw_cli_fail ("weights", error);
      g_ptr_array_add (found, weights);
    }

  for (int i = 1; i < argc; i++)
    {
      TvwWeightsEnum *weights = g_ptr_array_index (found, i - 1);

      if (json && argc == 2)
        print_json (weights_json (weights));
      else if (json)
        g_variant_builder_add_value (&array, weights_json (weights));
      else
        print_weights_text (weights);
    }
  if (json && argc > 2)
    print_json (g_variant_builder_end (&array));

  return EXIT_SUCCESS;
}

/* }}} */
/* {{{ tvw info */

static void
print_meta_text (GVariant *meta)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, meta);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = NULL;

      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          /* _docs are indented Python docstrings: one line is enough here. */
          g_auto(GStrv) words = g_strsplit_set (g_variant_get_string (value, NULL), " \t\n", -1);
          GString *joined = g_string_new (NULL);

          for (guint i = 0; words[i] != NULL; i++)
            if (words[i][0] != '\0')
              g_string_append_printf (joined, "%s%s", joined->len ? " " : "", words[i]);
          text = g_string_free (joined, FALSE);
        }
      else if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
        {
          gsize n = g_variant_n_children (value);
          g_autofree const char **items = g_variant_get_strv (value, NULL);
          GString *joined = g_string_new (NULL);

          g_string_append_printf (joined, "%" G_GSIZE_FORMAT ":", n);
          for (gsize i = 0; i < MIN (n, 5); i++)
            g_string_append_printf (joined, "%s %s", i ? "," : "", items[i]);
          if (n > 5)
            g_string_append (joined, ", …");
          text = g_string_free (joined, FALSE);
        }
      else if (g_str_equal (key, "_metrics") && g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
        {
          text = metrics_text (value);
        }
      else
        {
          GString *printed = g_string_new (NULL);

          py_repr (printed, value);
          text = g_string_free (printed, FALSE);
        }

      g_print ("  %-18s %s\n", key, text);
    }
}

static void
print_info_text (TvwWeights *w)
{
  const char *location = tvw_weights_get_local_file (w) ? tvw_weights_get_local_file (w)
                                                        : tvw_weights_get_url (w);
  g_autofree char *transforms = transforms_text (w);

  g_print ("%s%s\n", tvw_weights_get_full_name (w), tvw_weights_is_default (w) ? "  (DEFAULT)" : "");
  g_print ("  %-18s %s%s\n", _("builder"), tvw_weights_get_builder (w),
           tvw_is_model_supported (tvw_weights_get_builder (w)) ? "" : _(" (not implemented yet)"));
  g_print ("  %-18s %s\n", _("checkpoint"), location);
  g_print ("  %-18s %s\n", _("transforms"), transforms);
  print_meta_text (tvw_weights_get_meta (w));
}

int
tvw_cmd_info (int    argc,
              char **argv)
{
  gboolean json = FALSE;
  int status = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print JSON: the entry, its transforms and its meta (an array when there are several)"), NULL },
    { NULL }
  };
  g_autoptr(GPtrArray) found = g_ptr_array_new ();
  g_auto(GVariantBuilder) array = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  if (!tvw_cli_parse ("info", _("FULL_NAME…"),
                      _("Shows weights entries and their meta-data, like torchvision's\n"
                        "get_weight(FULL_NAME).meta, e.g. “tvw info ResNet50_Weights.DEFAULT”."),
                      entries, &argc, &argv, &status))
    return status;

  if (argc < 2)
    {
      g_printerr ("%s\n", _("tvw info: expected a FULL_NAME, e.g. “tvw info ResNet50_Weights.IMAGENET1K_V2”"));
      return 2;
    }

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;
      TvwWeights *w = tvw_get_weight (argv[i], &error);

      if (w == NULL)
        return tvw_cli_fail ("info", error);
      g_ptr_array_add (found, w);
    }

  for (guint i = 0; i < found->len; i++)
    {
      TvwWeights *w = g_ptr_array_index (found, i);

      if (json && found->len == 1)
        print_json (entry_variant (w, TRUE));
      else if (json)
        g_variant_builder_add_value (&array, entry_variant (w, TRUE));
      else
        {
          if (i > 0)
            g_print ("\n");
          print_info_text (w);
        }
    }
  if (json && found->len > 1)
    print_json (g_variant_builder_end (&array));

  return EXIT_SUCCESS;
}

/* }}} */
