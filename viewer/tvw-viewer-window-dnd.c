/* tvw-viewer-window-dnd.c — dropping files and images on the window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tvw-viewer-window-private.h"

/* Handles a dropped (or pasted) value: a list of files, which can hold
 * anything (folders, text files, broken images — each becomes an item that
 * says what is wrong with it), or an image. */
gboolean
_tvw_viewer_window_drop_value (TvwViewerWindow *self,
                               const GValue    *value)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      g_autoptr(GPtrArray) files = g_ptr_array_new ();

      for (const GSList *l = g_value_get_boxed (value); l != NULL; l = l->next)
        g_ptr_array_add (files, l->data);

      if (files->len == 0)
        return FALSE;

      tvw_viewer_window_open_files (self, (GFile **) files->pdata, files->len);
      return TRUE;
    }

  if (G_VALUE_HOLDS (value, GDK_TYPE_TEXTURE) && g_value_get_object (value) != NULL)
    {
      tvw_viewer_window_open_texture (self, g_value_get_object (value), _("Dropped image"));
      return TRUE;
    }

  return FALSE;
}

static gboolean
drop_cb (TvwViewerWindow *self,
         const GValue    *value,
         double           x,
         double           y,
         GtkDropTarget   *target)
{
  _tvw_viewer_window_set_drop_highlight (self, FALSE);

  return _tvw_viewer_window_drop_value (self, value);
}

static GdkDragAction
enter_cb (TvwViewerWindow *self,
          double           x,
          double           y,
          GtkDropTarget   *target)
{
  _tvw_viewer_window_set_drop_highlight (self, TRUE);

  return GDK_ACTION_COPY;
}

static void
leave_cb (TvwViewerWindow *self,
          GtkDropTarget   *target)
{
  _tvw_viewer_window_set_drop_highlight (self, FALSE);
}

void
_tvw_viewer_window_dnd_init (TvwViewerWindow *self)
{
  GType types[] = { GDK_TYPE_FILE_LIST, GDK_TYPE_TEXTURE };
  GtkDropTarget *target;

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect_object (target, "drop", G_CALLBACK (drop_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (target, "enter", G_CALLBACK (enter_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (target, "leave", G_CALLBACK (leave_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  g_object_set_data (G_OBJECT (self), "tvw-viewer-drop-target", target);
}

GtkDropTarget *
_tvw_viewer_window_get_drop_target (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return g_object_get_data (G_OBJECT (self), "tvw-viewer-drop-target");
}
