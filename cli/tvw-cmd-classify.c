/* tvw-cmd-classify.c — tvw classify: the top classes of images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "tvw-cli.h"

static void
print_predictions (GListModel *top)
{
  for (guint i = 0; i < g_list_model_get_n_items (top); i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (top, i);
      const char *category = tvw_prediction_get_category (p);

      if (category != NULL)
        g_print ("  %6.2f%%  %s\n", 100 * tvw_prediction_get_score (p), category);
      else
        g_print ("  %6.2f%%  %s %u\n", 100 * tvw_prediction_get_score (p), _("class"),
                 tvw_prediction_get_index (p));
    }
}

static JsonNode *
predictions_to_json (GListModel *top)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < g_list_model_get_n_items (top); i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (top, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, tvw_prediction_get_index (p));
      json_builder_set_member_name (b, "category");
      if (tvw_prediction_get_category (p) != NULL)
        json_builder_add_string_value (b, tvw_prediction_get_category (p));
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "score");
      json_builder_add_double_value (b, tvw_prediction_get_score (p));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  return json_builder_get_root (b);
}

int
tvw_cmd_classify (int    argc,
                  char **argv)
{
  g_autofree char *weights_name = NULL;
  g_auto(GStrv) images = NULL;
  int top_k = 5, threads = 0, status = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("A weights entry (default: the best one available offline)"), N_("FULL_NAME") },
    { "top", 'k', 0, G_OPTION_ARG_INT, &top_k, N_("How many classes to show (default: 5)"), N_("K") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, N_("IMAGE…|VIDEO…") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwTransform) preprocess = NULL;
  g_autoptr(JsonBuilder) out = json_builder_new ();
  TvwWeights *weights;
  int failures = 0;

  if (!tvw_cli_parse ("classify", _("IMAGE…"),
                      _("Classifies images with a weights entry and its own preprocessing, and\n"
                        "prints the most likely classes of each. Without --weights, the most\n"
                        "accurate entry available without the network is used. Video entries\n"
                        "(r3d_18, s3d, mvit…) take video files: several clips, averaged."),
                      entries, &argc, &argv, &status))
    return status;

  if (images == NULL || top_k < 1 || threads < 0)
    {
      g_printerr ("%s\n", _("tvw classify: give at least one image; --top must be positive"));
      return 2;
    }

  if (weights_name != NULL)
    {
      weights = tvw_get_weight (weights_name, &error);
      if (weights == NULL)
        return tvw_cli_fail ("classify", error);
    }
  else
    {
      weights = tvw_cli_best_offline_weights_by ("acc@1");
      if (weights == NULL)
        {
          g_printerr ("%s\n", _("tvw classify: no weights are available offline; "
                                "use --weights (and the network) or tvw download"));
          return EXIT_FAILURE;
        }
    }

  if (!json)
    {
      if (weights_name == NULL)
        g_print (_("Using %s, the best weights available offline\n"), tvw_weights_get_full_name (weights));
      else
        g_print (_("Using %s\n"), tvw_weights_get_full_name (weights));
    }

  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error, "weights", weights, NULL);
  if (model == NULL)
    return tvw_cli_fail ("classify", error);
  tvw_model_set_n_threads (model, (guint) threads);
  preprocess = tvw_weights_transforms (weights);

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "weights");
  json_builder_add_string_value (out, tvw_weights_get_full_name (weights));
  json_builder_set_member_name (out, "default_choice");
  json_builder_add_boolean_value (out, weights_name == NULL);
  json_builder_set_member_name (out, "images");
  json_builder_begin_array (out);

  for (guint i = 0; images[i] != NULL; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (images[i]);
      g_autoptr(GError) local_error = NULL;
      g_autoptr(TvwTensor) img = NULL;
      g_autoptr(TvwTensor) batch = NULL;
      g_autoptr(TvwTensor) logits = NULL;
      g_autoptr(GListModel) top = NULL;

      /* Video models take video files (clips sampled and averaged). */
      if (tvw_transform_get_preset (preprocess) == TVW_PRESET_VIDEO_CLASSIFICATION)
        top = tvw_model_classify_file (model, file, (guint) top_k, NULL, &local_error);
      else
        img = tvw_transform_apply_file (preprocess, file, NULL, &local_error);
      if (img != NULL)
        {
          batch = tvw_tensor_unsqueeze (img, 0);
          logits = tvw_model_forward (model, batch, NULL, &local_error);
        }
      if (logits != NULL)
        top = tvw_model_predictions_from_output (model, logits, (guint) top_k, &local_error);

      tvw_cli_json_begin_image (out, "classify", images[i], top == NULL ? local_error : NULL);
      if (top == NULL)
        failures++;
      else
        {
          json_builder_set_member_name (out, "top");
          json_builder_add_value (out, predictions_to_json (top));
          if (!json)
            {
              g_print ("%s\n", images[i]);
              print_predictions (top);
            }
        }
      json_builder_end_object (out);
    }

  json_builder_end_array (out);
  json_builder_end_object (out);

  if (json)
    tvw_cli_print_json (out);

  return failures > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
