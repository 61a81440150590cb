/* tvw-viewer-window-report.c — whether the window is busy, and what it
 * shows as data, for the tests (tests/viewer/)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <tvw.h>

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

/* Called wherever the window's work may have ended or begun: keeps
 * TvwViewerWindow:busy up to date. */
void
_tvw_viewer_window_check_settled (TvwViewerWindow *self)
{
  gboolean busy = !is_settled (self);

  if (busy == self->busy)
    return;
  self->busy = busy;
  g_object_notify (G_OBJECT (self), "busy");
}

gboolean
_tvw_viewer_window_is_settled (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  return is_settled (self);
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
