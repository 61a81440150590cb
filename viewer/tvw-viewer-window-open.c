/* tvw-viewer-window-open.c — opening images: files, folders, the
 * clipboard, the samples
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <tvw.h>

#include "tvw-viewer-config.h"
#include "tvw-viewer-window-private.h"

/* Folders */

typedef struct
{
  GWeakRef   self;
  GFile     *folder;
  GPtrArray *files;
} FolderData;

static void
folder_data_free (FolderData *data)
{
  g_weak_ref_clear (&data->self);
  g_clear_object (&data->folder);
  g_clear_pointer (&data->files, g_ptr_array_unref);
  g_free (data);
}

static int
compare_files (gconstpointer a,
               gconstpointer b)
{
  g_autofree char *name_a = g_file_get_basename (*(GFile * const *) a);
  g_autofree char *name_b = g_file_get_basename (*(GFile * const *) b);
  g_autofree char *key_a = g_utf8_collate_key_for_filename (name_a, -1);
  g_autofree char *key_b = g_utf8_collate_key_for_filename (name_b, -1);

  return strcmp (key_a, key_b);
}

static void folder_next_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

static void
folder_done (FolderData *data)
{
  g_autoptr(TvwViewerWindow) self = g_weak_ref_get (&data->self);

  if (self != NULL)
    self->n_folders--;

  if (self != NULL && self->images == NULL)
    ;
  else if (self != NULL && data->files->len == 0)
    {
      g_autofree char *name = g_file_get_basename (data->folder);
      /* Translators: %s is a folder's name */
      g_autofree char *message = g_strdup_printf (_("“%s” holds no images"), name);

      tvw_viewer_window_show_toast (self, message);
    }
  else if (self != NULL)
    {
      g_ptr_array_sort (data->files, compare_files);
      for (guint i = 0; i < data->files->len; i++)
        _tvw_viewer_window_push_incoming (self, g_ptr_array_index (data->files, i));
      _tvw_viewer_window_update_content (self);
    }
  if (self != NULL && self->images != NULL)
    _tvw_viewer_window_check_settled (self);

  folder_data_free (data);
}

static void
folder_next_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GFileEnumerator *enumerator = G_FILE_ENUMERATOR (object);
  FolderData *data = user_data;
  g_autolist(GFileInfo) infos = g_file_enumerator_next_files_finish (enumerator, result, NULL);

  if (infos == NULL)
    {
      folder_done (data);
      return;
    }

  for (GList *l = infos; l != NULL; l = l->next)
    {
      const char *type = g_file_info_get_content_type (l->data);

      if (g_file_info_get_file_type (l->data) == G_FILE_TYPE_REGULAR &&
          type != NULL && g_content_type_is_mime_type (type, "image/*"))
        g_ptr_array_add (data->files, g_file_get_child (data->folder, g_file_info_get_name (l->data)));
    }

  g_file_enumerator_next_files_async (enumerator, 64, G_PRIORITY_DEFAULT, NULL, folder_next_cb, data);
}

static void
folder_enumerated_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  FolderData *data = user_data;
  g_autoptr(GFileEnumerator) enumerator = NULL;

  enumerator = g_file_enumerate_children_finish (G_FILE (object), result, NULL);
  if (enumerator == NULL)
    {
      folder_done (data);
      return;
    }

  g_file_enumerator_next_files_async (enumerator, 64, G_PRIORITY_DEFAULT, NULL, folder_next_cb, data);
}

/* A dropped or opened folder stands for the images in it (not in its
 * subfolders), in natural order of their names. */
static void
open_folder (TvwViewerWindow *self,
             GFile           *folder)
{
  FolderData *data = g_new0 (FolderData, 1);

  g_weak_ref_init (&data->self, self);
  data->folder = g_object_ref (folder);
  data->files = g_ptr_array_new_with_free_func (g_object_unref);
  self->n_folders++;

  g_file_enumerate_children_async (folder,
                                   G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                   G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                   G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                                   G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, NULL,
                                   folder_enumerated_cb, data);
}

void
tvw_viewer_window_open_files (TvwViewerWindow  *self,
                              GFile           **files,
                              guint             n_files)
{
  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));

  for (guint i = 0; i < n_files; i++)
    {
      /* A stat of what was just dropped: cheap on the main loop. */
      if (g_file_query_file_type (files[i], G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        open_folder (self, files[i]);
      else
        _tvw_viewer_window_push_incoming (self, G_OBJECT (files[i]));
    }

  _tvw_viewer_window_update_content (self);
}

/* The file chooser, the clipboard, the samples */

static void
file_chooser_response_cb (TvwViewerWindow      *self,
                          int                   response,
                          GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      guint n = g_list_model_get_n_items (files);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          _tvw_viewer_window_push_incoming (self, G_OBJECT (file));
        }
      _tvw_viewer_window_update_content (self);
    }

  gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (chooser));
  g_object_unref (chooser);
}

static void
open_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  g_autoptr(GtkFileFilter) images = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) videos = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;

  gtk_file_filter_set_name (images, _("Images"));
  gtk_file_filter_add_pixbuf_formats (images);
  /* For video classifiers. */
  gtk_file_filter_set_name (videos, _("Videos"));
  gtk_file_filter_add_mime_type (videos, "video/*");
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");

  chooser = gtk_file_chooser_native_new (_("Open Images"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Open"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), images);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), videos);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (file_chooser_response_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
paste_texture_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TvwViewerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  texture = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (object), result, &error);
  if (texture == NULL)
    {
      /* Translators: %s is an error message */
      g_autofree char *message = g_strdup_printf (_("Cannot paste the image: %s"), error->message);

      tvw_viewer_window_show_toast (self, message);
      return;
    }

  tvw_viewer_window_open_texture (self, texture, _("Pasted image"));
}

static void
paste_files_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TvwViewerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value;

  value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (object), result, &error);
  if (value == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Cannot paste the files: %s"), error->message);

      tvw_viewer_window_show_toast (self, message);
      return;
    }

  _tvw_viewer_window_drop_value (self, value);
}

static void
paste_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  GdkClipboard *clipboard = gtk_widget_get_clipboard (widget);
  g_autoptr(GdkContentFormats) formats = NULL;

  /* What the clipboard offers, and what GDK can make of it. */
  formats = gdk_content_formats_union_deserialize_gtypes (gdk_content_formats_ref (gdk_clipboard_get_formats (clipboard)));

  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT, NULL,
                                    paste_files_cb, g_object_ref (self));
  else if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_TEXTURE))
    gdk_clipboard_read_texture_async (clipboard, NULL, paste_texture_cb, g_object_ref (self));
  else
    tvw_viewer_window_show_toast (self, _("The clipboard holds no image to paste"));
}

static char *
get_samples_dir (void)
{
  const char *dir = g_getenv ("TVW_SAMPLES_DIR");

  return g_strdup (dir != NULL && *dir != '\0' ? dir : TVW_VIEWER_SAMPLES_DIR);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
open_samples_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  g_autofree char *dir_path = get_samples_dir ();
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  /* A handful of files in one local directory: cheap enough to list here. */
  dir = g_dir_open (dir_path, 0, &error);
  if (dir == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Cannot open the samples: %s"), error->message);

      tvw_viewer_window_show_toast (self, message);
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".jpg") ||
        g_str_has_suffix (name, ".jpeg"))
      g_ptr_array_add (names, g_strdup (name));

  if (names->len == 0)
    {
      tvw_viewer_window_show_toast (self, _("There are no samples"));
      return;
    }

  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(GFile) file = g_file_new_build_filename (dir_path, g_ptr_array_index (names, i), NULL);

      _tvw_viewer_window_push_incoming (self, G_OBJECT (file));
    }
  _tvw_viewer_window_update_content (self);
}

void
_tvw_viewer_window_class_open_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.paste", NULL, paste_action);
  gtk_widget_class_install_action (widget_class, "win.open-samples", NULL, open_samples_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "win.paste", NULL);
}

/* The samples button shows only when there are samples. */
void
_tvw_viewer_window_open_init (TvwViewerWindow *self)
{
  g_autofree char *samples_dir = get_samples_dir ();
  gboolean has_samples = g_file_test (samples_dir, G_FILE_TEST_IS_DIR);

  gtk_widget_set_visible (self->samples_button, has_samples);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-samples", has_samples);
}
