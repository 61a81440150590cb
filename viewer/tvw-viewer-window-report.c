/* tvw-viewer-window-report.c — what the window shows, as data: the test
 * hook (TVW_VIEWER_TEST_REPORT) and the accessors the tests use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <tvw.h>

#include <json-glib/json-glib.h>

#include "tvw-viewer-enums.h"
#include "tvw-viewer-image-row.h"
#include "tvw-viewer-segmentation.h"
#include "tvw-viewer-window-private.h"

static gboolean
is_settled (TvwViewerWindow *self)
{
  guint n;

  if (self->images == NULL)
    return FALSE;

  n = g_list_model_get_n_items (G_LIST_MODEL (self->images));

  if (!g_queue_is_empty (&self->incoming) || !g_queue_is_empty (&self->pending) ||
      self->n_running > 0 || self->n_folders > 0 ||
      self->model_state == MODEL_STATE_LOADING || self->model_state == MODEL_STATE_DOWNLOADING)
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);

      if (!tvw_viewer_image_is_settled (image))
        return FALSE;
    }

  return TRUE;
}

gboolean
_tvw_viewer_window_is_settled (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  return is_settled (self);
}

static gboolean
report_cb (gpointer user_data)
{
  TvwViewerWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;

  self->settle_source = 0;
  if (!is_settled (self))
    return G_SOURCE_REMOVE;

  /* The report says what is on screen: wait until it is. */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      self->settle_source = g_timeout_add (100, report_cb, self);
      return G_SOURCE_REMOVE;
    }

  self->reported = TRUE;
  report = _tvw_viewer_window_build_report (self);
  if (!g_file_set_contents (self->report_path, report, -1, &error))
    g_printerr ("tvw-viewer: %s\n", error->message);

  if (self->screenshot_path != NULL &&
      !_tvw_viewer_window_save_screenshot (self, self->screenshot_path, &error))
    g_printerr ("tvw-viewer: %s\n", error->message);

  g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));

  return G_SOURCE_REMOVE;
}

void
_tvw_viewer_window_check_settled (TvwViewerWindow *self)
{
  if (self->report_path == NULL || self->reported || self->settle_source != 0 || !is_settled (self))
    return;

  /* Let the list lay out and draw what it shows first. */
  self->settle_source = g_timeout_add (500, report_cb, self);
}

void
_tvw_viewer_window_set_test_report (TvwViewerWindow *self,
                                    const char      *report_path,
                                    const char      *screenshot_path)
{
  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));

  g_free (self->report_path);
  self->report_path = g_strdup (report_path);
  g_free (self->screenshot_path);
  self->screenshot_path = g_strdup (screenshot_path);

  /* A widget paintable follows what the window draws from now on. */
  if (self->paintable == NULL)
    self->paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
}

static const char *
state_name (TvwViewerImageState state)
{
  GEnumClass *klass = g_type_class_peek (TVW_TYPE_VIEWER_IMAGE_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "?";
}

void
_tvw_viewer_window_collect_rows (GtkWidget  *widget,
                                 GHashTable *rows)
{
  if (TVW_VIEWER_IS_IMAGE_ROW (widget))
    {
      TvwViewerImage *image = tvw_viewer_image_row_get_image (TVW_VIEWER_IMAGE_ROW (widget));

      if (image != NULL)
        g_hash_table_insert (rows, image, widget);
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    _tvw_viewer_window_collect_rows (child, rows);
}

/* The text the list shows for @image, or %NULL when no row shows it (the
 * list view only makes rows for what is on screen). */
char *
_tvw_viewer_window_get_shown_text (TvwViewerWindow *self,
                                   TvwViewerImage  *image)
{
  g_autoptr(GHashTable) rows = g_hash_table_new (NULL, NULL);
  GtkWidget *row;

  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  _tvw_viewer_window_collect_rows (GTK_WIDGET (self->images_view), rows);
  row = g_hash_table_lookup (rows, image);

  return row != NULL ? tvw_viewer_image_row_get_shown_text (TVW_VIEWER_IMAGE_ROW (row)) : NULL;
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

char *
_tvw_viewer_window_build_report (TvwViewerWindow *self)
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

gboolean
_tvw_viewer_window_save_screenshot (TvwViewerWindow  *self,
                                    const char       *path,
                                    GError          **error)
{
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer;
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (renderer == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   "The window is not shown: no screenshot of it");
      return FALSE;
    }

  if (self->paintable == NULL)
    self->paintable = gtk_widget_paintable_new (GTK_WIDGET (self));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (self->paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The window drew nothing");
      return FALSE;
    }

  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write the screenshot “%s”", path);
      return FALSE;
    }

  return TRUE;
}

GListModel *
_tvw_viewer_window_get_images (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return G_LIST_MODEL (self->images);
}

const char *
_tvw_viewer_window_get_status_title (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->status_row));
}

const char *
_tvw_viewer_window_get_status_subtitle (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return adw_action_row_get_subtitle (self->status_row);
}

/* The error's own message when the status row offers it, else %NULL. */
const char *
_tvw_viewer_window_get_status_details (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->details_row)))
    return NULL;

  return gtk_label_get_label (self->details_label);
}

/* The notice above the images, or %NULL when none is shown; @button: its
 * button when it has one. */
const char *
_tvw_viewer_window_get_notice (TvwViewerWindow  *self,
                               GtkWidget       **button)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  if (button != NULL)
    *button = gtk_widget_get_visible (GTK_WIDGET (self->notice_button)) ? GTK_WIDGET (self->notice_button) : NULL;

  if (!gtk_revealer_get_reveal_child (self->notice_revealer))
    return NULL;

  return gtk_label_get_text (self->notice_label);
}

AdwFlap *
_tvw_viewer_window_get_flap (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return self->flap;
}

gboolean
_tvw_viewer_window_can_download (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  return self->can_download;
}
