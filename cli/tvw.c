/* tvw.c — the tvw command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-cli.h"

static const TvwCommand commands[] = {
  { "forward",    N_("Run a model on a NumPy array and write its output"), tvw_cmd_forward },
  { "bench",      N_("Measure how fast a model runs"), tvw_cmd_bench },
  { "classify",   N_("Classify images with a weights entry"), tvw_cmd_classify },
  { "segment",    N_("Segment images: the class of every pixel"), tvw_cmd_segment },
  { "flow",       N_("Optical flow between two images or video frames"), tvw_cmd_flow },
  { "detect",     N_("Find the objects in images: boxes, masks, keypoints"), tvw_cmd_detect },
  { "eval",       N_("Measure the accuracy of a weights entry on a dataset"), tvw_cmd_eval },
  /* catalog */
  { "list",       N_("List the models, like torchvision's list_models()"), tvw_cmd_list },
  { "weights",    N_("List the weights entries of a model"), tvw_cmd_weights },
  { "info",       N_("Show a weights entry and its meta-data"), tvw_cmd_info },
  /* transforms */
  { "preprocess", N_("Preprocess an image like a weights entry's transforms"), tvw_cmd_preprocess },
  /* download */
  { "download",   N_("Download weights into the cache"), tvw_cmd_download },
  { "cache",      N_("List or remove cached weights"), tvw_cmd_cache },
};

void
tvw_cli_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

/* --option KEY=VALUE…: torchvision's builder keyword arguments, as
 * booleans (true/false), integers or numbers. */
GVariant *
tvw_cli_parse_options (char    **options,
                       GError  **error)
{
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  for (guint i = 0; options != NULL && options[i] != NULL; i++)
    {
      const char *eq = strchr (options[i], '=');
      g_autofree char *key = NULL;
      const char *value;
      char *end;
      gint64 n;
      double d;

      if (eq == NULL || eq == options[i])
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("--option “%s” is not KEY=VALUE"), options[i]);
          return NULL;
        }
      key = g_strndup (options[i], eq - options[i]);
      value = eq + 1;
      if (g_strcmp0 (value, "true") == 0 || g_strcmp0 (value, "True") == 0)
        g_variant_dict_insert (&dict, key, "b", TRUE);
      else if (g_strcmp0 (value, "false") == 0 || g_strcmp0 (value, "False") == 0)
        g_variant_dict_insert (&dict, key, "b", FALSE);
      else if ((n = g_ascii_strtoll (value, &end, 10), *value != '\0' && *end == '\0'))
        g_variant_dict_insert (&dict, key, "x", n);
      else if ((d = g_ascii_strtod (value, &end), *value != '\0' && *end == '\0'))
        g_variant_dict_insert (&dict, key, "d", d);
      else
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("--option %s: “%s” is not a boolean or a number"), key, value);
          return NULL;
        }
    }

  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

TvwModel *
tvw_cli_open_model (const char    *name,
                    const char    *checkpoint,
                    const char    *weights,
                    int            num_classes,
                    GVariant      *options,
                    gboolean       relaxed,
                    GError       **error)
{
  g_autoptr(TvwModel) model = NULL;
  TvwWeights *w = NULL;

  if (weights != NULL && (w = tvw_get_weight (weights, error)) == NULL)
    return NULL;

  model = g_initable_new (TVW_TYPE_MODEL, NULL, error,
                          "architecture", name,
                          "weights", w,
                          "num-classes", (guint) num_classes,
                          "options", options,
                          NULL);
  if (model == NULL || w != NULL)
    return g_steal_pointer (&model);

  if (checkpoint != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (checkpoint);

      if (!tvw_model_load_state_dict_from_file (model, file, !relaxed, NULL, error))
        return NULL;
    }

  return g_steal_pointer (&model);
}

/* OUT.png for one image; OUT-1.png, OUT-2.png … for several. */
char *
tvw_cli_output_path (const char *output,
                     guint       index,
                     guint       n_images)
{
  const char *dot = strrchr (output, '.');
  const char *slash = strrchr (output, G_DIR_SEPARATOR);

  if (n_images == 1)
    return g_strdup (output);
  if (dot == NULL || (slash != NULL && dot < slash))
    return g_strdup_printf ("%s-%u", output, index + 1);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - output), output, index + 1, dot);
}

void
tvw_cli_json_begin_image (JsonBuilder  *out,
                          const char   *command,
                          const char   *file,
                          const GError *error)
{
  json_builder_begin_object (out);
  json_builder_set_member_name (out, "file");
  json_builder_add_string_value (out, file);
  if (error != NULL)
    {
      g_printerr ("tvw %s: %s\n", command, error->message);
      json_builder_set_member_name (out, "error");
      json_builder_add_string_value (out, error->message);
    }
}

void
tvw_cli_json_add_size (JsonBuilder *out,
                       guint        width,
                       guint        height,
                       const char  *path)
{
  json_builder_set_member_name (out, "width");
  json_builder_add_int_value (out, width);
  json_builder_set_member_name (out, "height");
  json_builder_add_int_value (out, height);
  if (path != NULL)
    {
      json_builder_set_member_name (out, "output");
      json_builder_add_string_value (out, path);
    }
}

/* The first dataset's @metric of an entry, or -1 without one. */
static double
metric_of (TvwWeights *weights,
           const char *metric)
{
  g_autoptr(GVariant) metrics = tvw_weights_lookup_meta (weights, "_metrics");
  g_autoptr(GVariant) first = NULL;
  GVariantIter iter;
  const char *dataset;
  double value = -1;

  if (metrics == NULL || !g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT))
    return -1;

  g_variant_iter_init (&iter, metrics);
  if (g_variant_iter_next (&iter, "{&sv}", &dataset, &first) &&
      g_variant_is_of_type (first, G_VARIANT_TYPE_VARDICT) &&
      !g_variant_lookup (first, metric, "d", &value))
    value = -1;

  return isnan (value) ? -1 : value;
}

TvwWeights *
tvw_cli_best_offline_weights_by (const char *metric)
{
  GListModel *enums = tvw_get_weights_enums ();
  TvwWeights *best = NULL;
  double best_value = -2;

  for (guint i = 0; i < g_list_model_get_n_items (enums); i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (enums, i);

      if (!tvw_is_model_supported (tvw_weights_enum_get_builder (e)))
        continue;

      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (e)); j++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (e), j);
          double value = metric_of (w, metric);

          if (value >= 0 && value > best_value && tvw_weights_is_cached (w))
            {
              best = w;
              best_value = value;
            }
        }
    }

  return best;
}

int
tvw_cli_fail (const char   *command,
              const GError *error)
{
  g_printerr ("tvw %s: %s\n", command, error->message);
  return EXIT_FAILURE;
}

gboolean
tvw_cli_parse (const char          *command,
               const char          *parameter_string,
               const char          *description,
               const GOptionEntry  *entries,
               int                 *argc,
               char              ***argv,
               int                 *status)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf ("tvw %s", command);

  g_set_prgname (prgname);
  context = g_option_context_new (parameter_string);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("tvw %s: %s\n", command, error->message);
      g_printerr (_("Run “tvw %s --help” to see a full list of available options.\n"), command);
      *status = 2;
      return FALSE;
    }

  return TRUE;
}

static void
print_usage (FILE *stream)
{
  fprintf (stream, "%s\n  tvw %s\n\n", _("Usage:"), _("COMMAND [OPTION…]"));
  fprintf (stream, "%s\n", _("Run TorchVision models natively, with their pretrained weights and meta-data."));
  fprintf (stream, "\n%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-12s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (stream, "\n%s\n", _("Run “tvw COMMAND --help” for the options of a command."));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }

  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0)
    {
      print_usage (stdout);
      return EXIT_SUCCESS;
    }

  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("tvw %s\n", TVW_VERSION_S);
      return EXIT_SUCCESS;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  g_printerr (_("tvw: unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return 2;
}
