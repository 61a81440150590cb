/* tvw-viewer-instrumented.c — tvw-viewer with a report for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The viewer's own sources and main () with, around them, what
 * test_viewer_app.py and test_viewer_segmentation.py need to check a real
 * run from outside: once the window is no longer busy and has drawn what
 * it shows, the JSON report of TVW_VIEWER_TEST_REPORT (weights, status,
 * and per image its state, results and the text on screen) and the
 * screenshot of TVW_VIEWER_TEST_SCREENSHOT are written and the application
 * quits; TVW_VIEWER_TEST_ACTIONS names window actions to activate first,
 * as if their buttons were clicked ("win.download,win.open-samples").  The
 * shipped tvw-viewer reads none of these variables.
 */

#include "config.h"

#include <json-glib/json-glib.h>

#include "tvw-viewer-application.h"
#include "tvw-viewer-enums.h"
#include "tvw-viewer-image-row.h"
#include "tvw-viewer-segmentation.h"
#include "tvw-viewer-window-private.h"

typedef struct
{
  const char *report_path;
  const char *screenshot_path;
  const char *actions;
  guint       settle_source;
  gboolean    reported;
} Hooks;

static Hooks hooks;

static const char *
state_name (TvwViewerImageState state)
{
  GEnumClass *klass = g_type_class_peek (TVW_TYPE_VIEWER_IMAGE_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "?";
}

/* What the segmentation view of @row shows: the overlay's size, the
 * opacity, the legend, and the class named when the pointer is at the
 * picture's centre. */
static void
add_segmentation_report (JsonBuilder       *builder,
                         TvwViewerImageRow *row)
{
  TvwViewerSegmentation *view = TVW_VIEWER_SEGMENTATION (tvw_viewer_image_row_get_segmentation_view (row));
  GdkTexture *overlay = tvw_viewer_segmentation_get_overlay (view);
  g_autofree char *legend = tvw_viewer_segmentation_get_legend_text (view);
  g_autofree char *centre = NULL;
  GtkWidget *picture = gtk_widget_get_first_child (GTK_WIDGET (view));

  centre = tvw_viewer_segmentation_describe_point (view, gtk_widget_get_width (picture) / 2.0,
                                                   gtk_widget_get_height (picture) / 2.0);

  json_builder_set_member_name (builder, "segmentation");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "overlay");
  json_builder_begin_array (builder);
  if (overlay != NULL)
    {
      json_builder_add_int_value (builder, gdk_texture_get_width (overlay));
      json_builder_add_int_value (builder, gdk_texture_get_height (overlay));
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "opacity");
  json_builder_add_double_value (builder, tvw_viewer_segmentation_get_opacity (view));
  json_builder_set_member_name (builder, "legend");
  json_builder_add_string_value (builder, legend);
  json_builder_set_member_name (builder, "class_at_centre");
  json_builder_add_string_value (builder, centre);
  json_builder_set_member_name (builder, "visible");
  json_builder_add_boolean_value (builder, gtk_widget_is_drawable (GTK_WIDGET (view)));
  json_builder_end_object (builder);
}

static char *
build_report (TvwViewerWindow *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) rows = g_hash_table_new (NULL, NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->images));

  _tvw_viewer_window_collect_rows (GTK_WIDGET (self->images_view), rows);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "weights");
  if (self->weights != NULL)
    json_builder_add_string_value (builder, tvw_weights_get_full_name (self->weights));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->status_row)));

  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);
      GListModel *predictions = tvw_viewer_image_get_predictions (image);
      GtkWidget *row = g_hash_table_lookup (rows, image);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, tvw_viewer_image_get_title (image));
      if (tvw_viewer_image_get_file (image) != NULL)
        {
          g_autofree char *path = g_file_get_path (tvw_viewer_image_get_file (image));

          json_builder_set_member_name (builder, "file");
          json_builder_add_string_value (builder, path);
        }
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, state_name (tvw_viewer_image_get_state (image)));
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, tvw_viewer_image_get_message (image));
      json_builder_set_member_name (builder, "details");
      json_builder_add_string_value (builder, tvw_viewer_image_get_details (image));
      json_builder_set_member_name (builder, "has_thumbnail");
      json_builder_add_boolean_value (builder, tvw_viewer_image_get_thumbnail (image) != NULL);
      json_builder_set_member_name (builder, "has_crop");
      json_builder_add_boolean_value (builder, tvw_viewer_image_get_crop (image) != NULL);
      json_builder_set_member_name (builder, "weights");
      json_builder_add_string_value (builder, tvw_viewer_image_get_weights_name (image));

      json_builder_set_member_name (builder, "predictions");
      json_builder_begin_array (builder);
      for (guint j = 0; predictions != NULL && j < g_list_model_get_n_items (predictions); j++)
        {
          g_autoptr(TvwPrediction) p = g_list_model_get_item (predictions, j);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "index");
          json_builder_add_int_value (builder, tvw_prediction_get_index (p));
          json_builder_set_member_name (builder, "category");
          json_builder_add_string_value (builder, tvw_prediction_get_category (p));
          json_builder_set_member_name (builder, "score");
          json_builder_add_double_value (builder, tvw_prediction_get_score (p));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      if (row != NULL && tvw_viewer_image_get_segmentation (image) != NULL &&
          tvw_viewer_image_row_get_segmentation_view (TVW_VIEWER_IMAGE_ROW (row)) != NULL)
        add_segmentation_report (builder, TVW_VIEWER_IMAGE_ROW (row));

      /* What a row of the list shows, when the image is on screen. */
      json_builder_set_member_name (builder, "shown");
      if (row != NULL)
        {
          g_autofree char *text = tvw_viewer_image_row_get_shown_text (TVW_VIEWER_IMAGE_ROW (row));

          json_builder_add_string_value (builder, text);
        }
      else
        json_builder_add_null_value (builder);

      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

static gboolean
report_cb (gpointer user_data)
{
  TvwViewerWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;

  hooks.settle_source = 0;
  if (!_tvw_viewer_window_is_settled (self))
    return G_SOURCE_REMOVE;

  /* The report says what is on screen: wait until it is. */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      hooks.settle_source = g_timeout_add (100, report_cb, self);
      return G_SOURCE_REMOVE;
    }

  hooks.reported = TRUE;
  report = build_report (self);
  if (!g_file_set_contents (hooks.report_path, report, -1, &error))
    g_printerr ("tvw-viewer: %s\n", error->message);

  if (hooks.screenshot_path != NULL &&
      !_tvw_viewer_window_save_screenshot (self, hooks.screenshot_path, &error))
    g_printerr ("tvw-viewer: %s\n", error->message);

  g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));

  return G_SOURCE_REMOVE;
}

static void
busy_changed_cb (TvwViewerWindow *window)
{
  gboolean busy;

  g_object_get (window, "busy", &busy, NULL);
  if (busy || hooks.reported || hooks.settle_source != 0)
    return;

  /* Let the list lay out and draw what it shows first. */
  hooks.settle_source = g_timeout_add (500, report_cb, window);
}

static gboolean
run_actions_cb (gpointer user_data)
{
  TvwViewerWindow *window = user_data;
  g_auto(GStrv) actions = g_strsplit (hooks.actions, ",", -1);

  for (guint i = 0; actions[i] != NULL; i++)
    if (*actions[i] != '\0' && !gtk_widget_activate_action (GTK_WIDGET (window), actions[i], NULL))
      g_printerr ("tvw-viewer: no action “%s”\n", actions[i]);

  return G_SOURCE_REMOVE;
}

static void
window_added_cb (GtkApplication *application,
                 GtkWindow      *window)
{
  TvwViewerWindow *self;

  if (!TVW_VIEWER_IS_WINDOW (window))
    return;
  self = TVW_VIEWER_WINDOW (window);

  /* Screenshots without half-finished transitions, of what the window
   * draws from now on. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  if (self->paintable == NULL)
    self->paintable = gtk_widget_paintable_new (GTK_WIDGET (self));

  g_signal_connect (self, "notify::busy", G_CALLBACK (busy_changed_cb), NULL);

  /* Before anything else the main loop does: the report must not find
   * the window idle (no images yet) before the actions ran. */
  if (hooks.actions != NULL)
    g_idle_add_full (G_PRIORITY_HIGH, run_actions_cb, g_object_ref (self), g_object_unref);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TvwViewerApplication) app = NULL;

  hooks.report_path = g_getenv ("TVW_VIEWER_TEST_REPORT");
  hooks.screenshot_path = g_getenv ("TVW_VIEWER_TEST_SCREENSHOT");
  hooks.actions = g_getenv ("TVW_VIEWER_TEST_ACTIONS");
  if (hooks.report_path == NULL)
    {
      g_printerr ("tvw-viewer-instrumented: set TVW_VIEWER_TEST_REPORT\n");
      return 2;
    }

  tvw_viewer_setup_locale ();
  app = tvw_viewer_application_new ();
  /* A test run is its own instance, whatever else runs. */
  g_application_set_flags (G_APPLICATION (app),
                           g_application_get_flags (G_APPLICATION (app)) | G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "window-added", G_CALLBACK (window_added_cb), NULL);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
