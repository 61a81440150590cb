/* tvw-cmd-detect.c — tvw detect: the objects in images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "tvw-cli.h"

static JsonNode *
objects_to_json (TvwDetection *det,
                 double        threshold)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < tvw_detection_get_n_objects (det); i++)
    {
      g_autofree char *color = g_strdup_printf ("#%06x", tvw_detection_get_color (det, i));
      double box[4];

      if (!(tvw_detection_get_score (det, i) >= threshold))
        continue;
      tvw_detection_get_box (det, i, &box[0], &box[1], &box[2], &box[3]);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "label");
      json_builder_add_int_value (b, tvw_detection_get_label (det, i));
      json_builder_set_member_name (b, "category");
      json_builder_add_string_value (b, tvw_detection_get_category (det, i));
      json_builder_set_member_name (b, "score");
      json_builder_add_double_value (b, tvw_detection_get_score (det, i));
      json_builder_set_member_name (b, "box");
      json_builder_begin_array (b);
      for (int c = 0; c < 4; c++)
        json_builder_add_double_value (b, box[c]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "color");
      json_builder_add_string_value (b, color);
      if (tvw_detection_has_masks (det))
        {
          json_builder_set_member_name (b, "mask_pixels");
          json_builder_add_int_value (b, (gint64) tvw_detection_get_mask_area (det, i));
        }
      if (tvw_detection_get_n_keypoints (det) > 0)
        {
          json_builder_set_member_name (b, "keypoints");
          json_builder_begin_array (b);
          for (guint k = 0; k < tvw_detection_get_n_keypoints (det); k++)
            {
              const char *name = tvw_detection_get_keypoint_name (det, k);
              double x, y, score;

              tvw_detection_get_keypoint (det, i, k, &x, &y, &score);
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "name");
              if (name != NULL)
                json_builder_add_string_value (b, name);
              else
                json_builder_add_null_value (b);
              json_builder_set_member_name (b, "x");
              json_builder_add_double_value (b, x);
              json_builder_set_member_name (b, "y");
              json_builder_add_double_value (b, y);
              json_builder_set_member_name (b, "score");
              json_builder_add_double_value (b, score);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  return json_builder_get_root (b);
}

static void
print_objects (TvwDetection *det,
               double        threshold)
{
  guint shown = 0;

  for (guint i = 0; i < tvw_detection_get_n_objects (det); i++)
    {
      double x1, y1, x2, y2;

      if (!(tvw_detection_get_score (det, i) >= threshold))
        continue;
      tvw_detection_get_box (det, i, &x1, &y1, &x2, &y2);
      g_print ("  %6.2f%%  %-16s [%.1f, %.1f, %.1f, %.1f]\n",
               100 * tvw_detection_get_score (det, i), tvw_detection_get_category (det, i),
               x1, y1, x2, y2);
      shown++;
    }
  if (shown == 0)
    g_print ("  %s\n", _("no objects above the threshold"));
}

int
tvw_cmd_detect (int    argc,
                char **argv)
{
  g_autofree char *weights_name = NULL;
  g_autofree char *checkpoint = NULL;
  g_autofree char *arch = NULL;
  g_autofree char *output = NULL;
  g_auto(GStrv) images = NULL;
  g_auto(GStrv) option_args = NULL;
  int threads = 0, num_classes = 0, status = 0;
  double threshold = 0.5;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("A detection weights entry (default: the best one available offline)"), N_("FULL_NAME") },
    { "checkpoint", 'c', 0, G_OPTION_ARG_FILENAME, &checkpoint, N_("A .pth or .safetensors state_dict of the --arch model, instead of --weights"), N_("FILE") },
    { "arch", 'm', 0, G_OPTION_ARG_STRING, &arch, N_("The architecture of --checkpoint, e.g. fasterrcnn_resnet50_fpn"), N_("NAME") },
    { "num-classes", 0, 0, G_OPTION_ARG_INT, &num_classes, N_("Number of classes of --checkpoint (default: the architecture’s, 91 for COCO)"), N_("N") },
    { "option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &option_args, N_("A builder keyword argument, e.g. box_score_thresh=0.3 (repeatable)"), N_("KEY=VALUE") },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, N_("The lowest score of the objects shown and drawn (default: 0.5)"), N_("T") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Draw the objects over the image into a PNG (OUT-1.png, OUT-2.png … for several images)"), N_("OUT.png") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, N_("IMAGE…") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autoptr(JsonBuilder) out = json_builder_new ();
  TvwWeights *weights = NULL;
  guint n_images;
  int failures = 0;

  if (!tvw_cli_parse ("detect", NULL,
                      _("Finds the objects in images with an object detection, instance\n"
                        "segmentation or keypoint model and prints them, most confident first;\n"
                        "with --output draws their boxes, labels, masks and skeletons over the\n"
                        "image.  The model is a weights entry (--weights; without it the\n"
                        "entry with the best box mAP available without the network) or a\n"
                        "checkpoint of an architecture (--checkpoint and --arch)."),
                      entries, &argc, &argv, &status))
    return status;

  if (images == NULL || threads < 0 || num_classes < 0 ||
      (weights_name != NULL && checkpoint != NULL) || (checkpoint != NULL) != (arch != NULL))
    {
      g_printerr ("%s\n", _("tvw detect: give at least one image, and at most one of --weights "
                            "and --checkpoint (with --arch)"));
      return 2;
    }
  n_images = g_strv_length (images);

  options = tvw_cli_parse_options (option_args, &error);
  if (options == NULL)
    return tvw_cli_fail ("detect", error);

  if (weights_name != NULL)
    weights = tvw_get_weight (weights_name, &error);
  else if (checkpoint == NULL)
    {
      weights = tvw_cli_best_offline_weights_by ("box_map");
      if (weights == NULL)
        {
          g_printerr ("%s\n", _("tvw detect: no detection weights are available offline; "
                                "use --weights (and the network), tvw download or --checkpoint"));
          return EXIT_FAILURE;
        }
    }
  if (weights_name != NULL && weights == NULL)
    return tvw_cli_fail ("detect", error);
  if (weights != NULL)
    arch = g_strdup (tvw_weights_get_builder (weights));

  model = tvw_cli_open_model (arch, checkpoint,
                              weights != NULL ? tvw_weights_get_full_name (weights) : NULL,
                              num_classes, options, FALSE, &error);
  if (model == NULL)
    return tvw_cli_fail ("detect", error);
  tvw_model_set_n_threads (model, (guint) threads);

  if (!json)
    g_print (_("Using %s\n"), weights != NULL ? tvw_weights_get_full_name (weights) : checkpoint);

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "weights");
  if (weights != NULL)
    json_builder_add_string_value (out, tvw_weights_get_full_name (weights));
  else
    json_builder_add_null_value (out);
  json_builder_set_member_name (out, "architecture");
  json_builder_add_string_value (out, arch);
  json_builder_set_member_name (out, "threshold");
  json_builder_add_double_value (out, threshold);
  json_builder_set_member_name (out, "images");
  json_builder_begin_array (out);

  for (guint i = 0; i < n_images; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GdkPixbuf) image = NULL;
      g_autoptr(GdkPixbuf) rendered = NULL;
      g_autoptr(TvwDetection) det = NULL;
      g_autofree char *path = NULL;

      /* The pixels as stored, EXIF orientation ignored, as PIL's
       * Image.open () gives them to torchvision. */
      image = gdk_pixbuf_new_from_file (images[i], &local_error);
      if (image != NULL)
        det = tvw_model_detect (model, image, NULL, &local_error);
      if (det != NULL && output != NULL)
        {
          rendered = tvw_detection_render (det, image, threshold, &local_error);
          path = tvw_cli_output_path (output, i, n_images);
          if (rendered == NULL || !gdk_pixbuf_save (rendered, path, "png", &local_error, NULL))
            g_clear_object (&det);
        }

      tvw_cli_json_begin_image (out, "detect", images[i], det == NULL ? local_error : NULL);
      if (det == NULL)
        failures++;
      else
        {
          tvw_cli_json_add_size (out, tvw_detection_get_width (det),
                                 tvw_detection_get_height (det), path);
          json_builder_set_member_name (out, "found");
          json_builder_add_int_value (out, tvw_detection_get_n_objects (det));
          json_builder_set_member_name (out, "objects");
          json_builder_add_value (out, objects_to_json (det, threshold));
          if (!json)
            {
              g_print ("%s\n", images[i]);
              print_objects (det, threshold);
              if (path != NULL)
                g_print (_("  written to %s\n"), path);
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
