/* tvw-cmd-segment.c — tvw segment: the classes of every pixel of images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "tvw-cli.h"

static JsonNode *
classes_to_json (TvwSegmentation *seg)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree guint *present = NULL;
  guint n;

  present = tvw_segmentation_get_classes_present (seg, &n);
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      const char *category = tvw_segmentation_get_category (seg, present[i]);
      g_autofree char *color = g_strdup_printf ("#%06x", tvw_segmentation_palette_color (present[i]));

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, present[i]);
      json_builder_set_member_name (b, "category");
      if (category != NULL)
        json_builder_add_string_value (b, category);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "pixels");
      json_builder_add_int_value (b, (gint64) tvw_segmentation_get_area (seg, present[i]));
      json_builder_set_member_name (b, "share");
      json_builder_add_double_value (b, tvw_segmentation_get_fraction (seg, present[i]));
      json_builder_set_member_name (b, "score");
      json_builder_add_double_value (b, tvw_segmentation_get_score (seg, present[i]));
      json_builder_set_member_name (b, "color");
      json_builder_add_string_value (b, color);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  return json_builder_get_root (b);
}

static void
print_classes (TvwSegmentation *seg)
{
  g_autofree guint *present = NULL;
  guint n;

  present = tvw_segmentation_get_classes_present (seg, &n);
  for (guint i = 0; i < n; i++)
    {
      const char *category = tvw_segmentation_get_category (seg, present[i]);
      double share = 100 * tvw_segmentation_get_fraction (seg, present[i]);

      if (category != NULL)
        g_print ("  %6.2f%%  %s\n", share, category);
      else
        g_print ("  %6.2f%%  %s %u\n", share, _("class"), present[i]);
    }
}

int
tvw_cmd_segment (int    argc,
                 char **argv)
{
  g_autofree char *weights_name = NULL;
  g_autofree char *output = NULL;
  g_auto(GStrv) images = NULL;
  int threads = 0, status = 0;
  double opacity = 0.6;
  gboolean json = FALSE, mask = FALSE;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("A segmentation weights entry (default: the best one available offline)"), N_("FULL_NAME") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the overlay as a PNG (OUT-1.png, OUT-2.png … for several images)"), N_("OUT.png") },
    { "mask", 0, 0, G_OPTION_ARG_NONE, &mask, N_("Write the colour mask alone, not over the image"), NULL },
    { "opacity", 0, 0, G_OPTION_ARG_DOUBLE, &opacity, N_("Opacity of the overlay's colours, 0 to 1 (default: 0.6)"), N_("A") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, N_("IMAGE…") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(JsonBuilder) out = json_builder_new ();
  TvwWeights *weights;
  guint n_images;
  int failures = 0;

  if (!tvw_cli_parse ("segment", _("IMAGE…"),
                      _("Segments images with a semantic segmentation weights entry and its own\n"
                        "preprocessing: prints the classes present and their share of the\n"
                        "pixels, and with --output draws them over the image in the VOC palette.\n"
                        "Without --weights, the best entry available without the network is used."),
                      entries, &argc, &argv, &status))
    return status;

  if (images == NULL || threads < 0 || !(opacity >= 0 && opacity <= 1))
    {
      g_printerr ("%s\n", _("tvw segment: give at least one image; --opacity is from 0 to 1"));
      return 2;
    }
  n_images = g_strv_length (images);

  if (weights_name != NULL)
    {
      weights = tvw_get_weight (weights_name, &error);
      if (weights == NULL)
        return tvw_cli_fail ("segment", error);
    }
  else
    {
      weights = tvw_cli_best_offline_weights_by ("miou");
      if (weights == NULL)
        {
          g_printerr ("%s\n", _("tvw segment: no segmentation weights are available offline; "
                                "use --weights (and the network) or tvw download"));
          return EXIT_FAILURE;
        }
    }

  if (!json)
    g_print (_("Using %s\n"), tvw_weights_get_full_name (weights));

  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error, "weights", weights, NULL);
  if (model == NULL)
    return tvw_cli_fail ("segment", error);
  tvw_model_set_n_threads (model, (guint) threads);

  json_builder_begin_object (out);
  json_builder_set_member_name (out, "weights");
  json_builder_add_string_value (out, tvw_weights_get_full_name (weights));
  json_builder_set_member_name (out, "images");
  json_builder_begin_array (out);

  for (guint i = 0; i < n_images; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GdkPixbuf) image = NULL;
      g_autoptr(GdkPixbuf) rendered = NULL;
      g_autoptr(TvwSegmentation) seg = NULL;
      g_autofree char *path = NULL;

      image = gdk_pixbuf_new_from_file (images[i], &local_error);
      /* The pixels as stored, EXIF orientation ignored, as PIL's
       * Image.open () gives them to torchvision. */
      if (image != NULL)
        seg = tvw_model_segment (model, image, NULL, &local_error);
      if (seg != NULL && output != NULL)
        {
          rendered = mask ? tvw_segmentation_render_mask (seg, &local_error)
                          : tvw_segmentation_render_overlay (seg, image, opacity, &local_error);
          path = tvw_cli_output_path (output, i, n_images);
          if (rendered == NULL || !gdk_pixbuf_save (rendered, path, "png", &local_error, NULL))
            g_clear_object (&seg);
        }

      tvw_cli_json_begin_image (out, "segment", images[i], seg == NULL ? local_error : NULL);
      if (seg == NULL)
        failures++;
      else
        {
          tvw_cli_json_add_size (out, tvw_segmentation_get_width (seg),
                                 tvw_segmentation_get_height (seg), path);
          json_builder_set_member_name (out, "classes");
          json_builder_add_value (out, classes_to_json (seg));
          if (!json)
            {
              g_print ("%s\n", images[i]);
              print_classes (seg);
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
