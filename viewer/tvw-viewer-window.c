/* tvw-viewer-window.c — pick weights, see what they make of your images
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The window owns the images (a GListStore of TvwViewerImage shown by a
 * GtkListView) and the model.  Reading and classifying images happens in
 * worker threads, at most MAX_JOBS at a time, so that dropping hundreds of
 * files never blocks the main loop; files are turned into list items a few
 * at a time from an idle callback for the same reason.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include <tvw.h>

#include "tvw-viewer-config.h"
#include "tvw-viewer-image-row.h"
#include "tvw-viewer-util.h"
#include "tvw-viewer-weights-panel.h"
#include "tvw-viewer-window-private.h"

/* Two workers: one can decode while the other runs the model (the forward
 * pass itself uses every core and is serialised by the model). */
#define MAX_JOBS 2
/* Files turned into list items per main loop iteration. */
#define ADD_BATCH 12

G_DEFINE_FINAL_TYPE (TvwViewerWindow, tvw_viewer_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void queue_image         (TvwViewerWindow *self,
                                 TvwViewerImage  *image);
static void run_jobs            (TvwViewerWindow *self);

/* Toasts */

void
tvw_viewer_window_show_toast (TvwViewerWindow *self,
                              const char      *message)
{
  AdwToast *toast;

  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));

  if (self->toast_overlay == NULL)
    return;

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* The model and its state */

static gboolean
is_flow_weights (TvwWeights *weights)
{
  return weights != NULL && g_strcmp0 (tvw_weights_get_preset (weights), "OpticalFlow") == 0;
}

static char *
waiting_message (TvwViewerWindow *self)
{
  switch (self->model_state)
    {
    case MODEL_STATE_UNRUNNABLE:
      /* Translators: %s says why, e.g. “Not implemented yet” */
      return g_strdup_printf (_("These weights cannot run here: %s"),
                              tvw_viewer_weights_get_unrunnable_reason (self->weights));
    case MODEL_STATE_NEEDS_DOWNLOAD:
      if (tvw_get_offline ())
        return g_strdup (_("The chosen weights are not on this computer, and there is no network to download them"));
      return g_strdup (_("Download the weights to classify this image"));
    case MODEL_STATE_DOWNLOAD_FAILED:
      return g_strdup (_("The download of the weights failed"));
    case MODEL_STATE_DOWNLOADING:
      return g_strdup (_("Waiting for the download of the weights"));
    case MODEL_STATE_LOADING:
      return g_strdup (_("Waiting for the weights to load"));
    case MODEL_STATE_FAILED:
      return g_strdup (_("The weights could not be loaded"));
    case MODEL_STATE_READY:
    case MODEL_STATE_NONE:
    default:
      return g_strdup (_("Choose weights to classify this image"));
    }
}

/* The line above the images: what the chosen weights can tell, and what
 * to do when they cannot run and the sidebar is out of sight. */
static void
update_notice (TvwViewerWindow *self)
{
  g_autofree char *text = NULL;
  g_autofree char *button = NULL;
  const char *action = NULL;
  const char *icon = "dialog-information-symbolic";
  gboolean markup = TRUE;
  gboolean sidebar_shown;

  if (self->flap == NULL)
    return;

  sidebar_shown = adw_flap_get_reveal_flap (self->flap);

  if (!sidebar_shown && self->model_state != MODEL_STATE_READY &&
      self->model_state != MODEL_STATE_LOADING && self->model_state != MODEL_STATE_DOWNLOADING)
    {
      const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->status_row));
      const char *subtitle = adw_action_row_get_subtitle (self->status_row);

      /* The status row's title and subtitle, as the row shows them. */
      text = subtitle != NULL && *subtitle != '\0'
               ? g_markup_printf_escaped ("<b>%s</b>\n%s", title, subtitle)
               : g_markup_printf_escaped ("<b>%s</b>", title);
      icon = self->model_state == MODEL_STATE_UNRUNNABLE || self->model_state == MODEL_STATE_NONE
               ? "dialog-information-symbolic" : "dialog-warning-symbolic";
      if (self->can_download)
        {
          button = g_strdup (gtk_button_get_label (GTK_BUTTON (self->download_button)));
          action = "win.download";
        }
      else
        {
          button = g_strdup (_("Choose _Weights"));
          action = "win.toggle-sidebar";
        }
    }
  else if (self->weights != NULL && is_flow_weights (self->weights))
    {
      markup = FALSE;
      text = g_strdup (_("Optical flow: each image shows the motion from the image before it, "
                         "of the same size; a video shows the motion between its first two frames"));
    }
  else if (self->weights != NULL && (text = tvw_viewer_weights_describe_scope (self->weights)) != NULL)
    {
      markup = FALSE;
      if (!tvw_get_offline () && self->general_weights != NULL && self->general_weights != self->weights)
        {
          g_autofree char *name = tvw_viewer_weights_enum_get_display_name (tvw_weights_get_enum (self->general_weights));

          /* Translators: a button that chooses general-purpose weights, e.g. “Use EfficientNet V2 S” */
          button = g_strdup_printf (_("_Use %s"), name);
          action = "win.use-general-weights";
        }
    }

  gtk_label_set_label (self->notice_label, text != NULL ? text : "");
  gtk_label_set_use_markup (self->notice_label, markup);
  gtk_image_set_from_icon_name (self->notice_icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->notice_button), button != NULL);
  gtk_button_set_label (self->notice_button, button != NULL ? button : "");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->notice_button), action);
  gtk_revealer_set_reveal_child (self->notice_revealer, text != NULL);
}

static char *
format_download_size (goffset bytes)
{
  return tvw_viewer_format_megabytes (bytes / (1024.0 * 1024.0));
}

static void
update_status (TvwViewerWindow *self)
{
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  const char *icon = NULL;
  gboolean spinning = FALSE;
  gboolean show_download = FALSE;
  gboolean show_progress = FALSE;
  gboolean show_details = FALSE;
  gboolean offline = tvw_get_offline ();

  switch (self->model_state)
    {
    case MODEL_STATE_NONE:
      title = g_strdup (_("No weights chosen"));
      icon = "dialog-information-symbolic";
      break;

    case MODEL_STATE_UNRUNNABLE:
      title = g_strdup (_("These weights cannot run here"));
      subtitle = g_strdup (tvw_viewer_weights_get_unrunnable_reason (self->weights));
      icon = "dialog-warning-symbolic";
      break;

    case MODEL_STATE_NEEDS_DOWNLOAD:
      {
        g_autofree char *size = tvw_viewer_weights_describe_download_size (self->weights);
        g_autofree char *source = tvw_viewer_weights_get_download_source (self->weights);

        title = g_strdup (_("The weights must be downloaded first"));
        icon = "folder-download-symbolic";
        show_download = TRUE;
        gtk_button_set_label (GTK_BUTTON (self->download_button), _("_Download"));

        if (offline)
          subtitle = g_strdup (_("There is no network access, so nothing can be downloaded now"));
        else if (size != NULL && source != NULL)
          /* Translators: a download size and the server, e.g. “97.8 MB from download.pytorch.org” */
          subtitle = g_strdup_printf (_("%s from %s"), size, source);
        else if (source != NULL)
          /* Translators: the server a download comes from */
          subtitle = g_strdup_printf (_("From %s"), source);
      }
      break;

    case MODEL_STATE_DOWNLOADING:
      title = g_strdup (_("Downloading the weights…"));
      icon = "folder-download-symbolic";
      show_progress = TRUE;
      if (self->download_total > 0)
        {
          g_autofree char *current = format_download_size (self->download_current);
          g_autofree char *total = format_download_size (self->download_total);

          /* Translators: download progress, e.g. “12.3 MB of 97.8 MB” */
          subtitle = g_strdup_printf (_("%s of %s"), current, total);
          gtk_progress_bar_set_fraction (self->progress_bar,
                                         (double) self->download_current / self->download_total);
        }
      else
        {
          subtitle = format_download_size (self->download_current);
          gtk_progress_bar_pulse (self->progress_bar);
        }
      break;

    case MODEL_STATE_LOADING:
      title = g_strdup (_("Loading the weights…"));
      spinning = TRUE;
      break;

    case MODEL_STATE_READY:
      title = g_strdup (_("Ready"));
      subtitle = g_strdup (_("The model runs on this computer"));
      icon = "emblem-ok-symbolic";
      break;

    case MODEL_STATE_DOWNLOAD_FAILED:
    case MODEL_STATE_FAILED:
      title = g_strdup (self->model_state == MODEL_STATE_DOWNLOAD_FAILED
                          ? _("The download failed") : _("The weights could not be loaded"));
      subtitle = g_strdup (self->model_error);
      icon = "dialog-error-symbolic";
      show_download = TRUE;
      show_details = TRUE;
      gtk_button_set_label (GTK_BUTTON (self->download_button), _("_Try Again"));
      break;

    default:
      g_assert_not_reached ();
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), title);
  adw_action_row_set_subtitle (self->status_row, subtitle != NULL ? subtitle : "");
  if (icon != NULL)
    gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_spinner_set_spinning (self->status_spinner, spinning);
  gtk_stack_set_visible_child_name (self->status_icon_stack, spinning ? "spinner" : "icon");
  gtk_widget_set_visible (self->download_button, show_download);
  gtk_widget_set_visible (self->progress_row, show_progress);
  gtk_widget_set_visible (self->cancel_button, show_progress);
  gtk_label_set_label (self->details_label, self->error_details != NULL ? self->error_details : "");
  gtk_widget_set_visible (GTK_WIDGET (self->details_row), show_details && self->error_details != NULL);
  if (!show_details)
    adw_expander_row_set_expanded (self->details_row, FALSE);

  self->can_download = show_download &&
                       !(offline && (self->model_state == MODEL_STATE_NEEDS_DOWNLOAD ||
                                     self->model_state == MODEL_STATE_DOWNLOAD_FAILED));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.download", self->can_download);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-download", show_progress);

  update_notice (self);
}

static gboolean
is_busy_state (ModelState state)
{
  return state == MODEL_STATE_DOWNLOADING || state == MODEL_STATE_LOADING;
}

/* Tells @image why it is not classified now.  Images that show results of
 * earlier weights keep them (their row names those weights) until the
 * chosen ones can run. */
static void
explain_waiting (TvwViewerWindow *self,
                 TvwViewerImage  *image,
                 const char      *message)
{
  if (tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    return;

  tvw_viewer_image_set_waiting (image, message, is_busy_state (self->model_state));
}

static void
set_model_state (TvwViewerWindow *self,
                 ModelState       state)
{
  self->model_state = state;
  update_status (self);

  /* Readable images that cannot be classified now say why. */
  if (state != MODEL_STATE_READY)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->images));
      g_autofree char *message = waiting_message (self);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);

          if (tvw_viewer_image_is_settled (image))
            explain_waiting (self, image, message);
        }
    }

  _tvw_viewer_window_check_settled (self);
}

/* Queues every readable image that does not show the current weights'
 * predictions yet. */
static void
reclassify_all (TvwViewerWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->images));
  const char *full_name = self->weights != NULL ? tvw_weights_get_full_name (self->weights) : NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);

      if (!tvw_viewer_image_is_readable (image))
        continue;
      if (tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_CLASSIFIED &&
          g_strcmp0 (tvw_viewer_image_get_weights_name (image), full_name) == 0)
        continue;

      queue_image (self, image);
    }
}

static void
set_model (TvwViewerWindow *self,
           TvwModel        *model)
{
  g_set_object (&self->model, model);
  set_model_state (self, MODEL_STATE_READY);
  reclassify_all (self);
}

static void
model_failed (TvwViewerWindow *self,
              const GError    *error)
{
  g_free (self->model_error);
  self->model_error = g_strdup (_("The checkpoint is there, but libtvw could not use it."));
  g_free (self->error_details);
  self->error_details = g_strdup (error->message);
  set_model_state (self, MODEL_STATE_FAILED);
}

typedef struct
{
  TvwViewerWindow *self;
  TvwWeights      *weights;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->weights);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void
model_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  TvwViewerWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) model = NULL;

  model = g_async_initable_new_finish (G_ASYNC_INITABLE (object), result, &error);

  /* Other weights were chosen meanwhile. */
  if (data->weights != self->weights ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (model == NULL)
    {
      model_failed (self, error);
      return;
    }

  tvw_viewer_weights_panel_update_cache (self->weights_panel);
  set_model (self, TVW_MODEL (model));
}

static void
load_model (TvwViewerWindow *self)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->self = g_object_ref (self);
  data->weights = g_object_ref (self->weights);

  set_model_state (self, MODEL_STATE_LOADING);
  g_async_initable_new_async (TVW_TYPE_MODEL,
                              G_PRIORITY_DEFAULT,
                              self->model_cancellable,
                              model_loaded_cb,
                              data,
                              "weights", self->weights,
                              NULL);
}

static void
download_progress_cb (goffset  current,
                      goffset  total,
                      gpointer user_data)
{
  TvwViewerWindow *self = user_data;

  if (self->model_state != MODEL_STATE_DOWNLOADING)
    return;

  self->download_current = current;
  self->download_total = total;
  update_status (self);
}

typedef struct
{
  TvwViewerWindow *self;
  TvwWeights      *weights;
} DownloadData;

static void
download_data_free (DownloadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->weights);
  g_free (data);
}

static void
download_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  DownloadData *data = user_data;
  TvwViewerWindow *self = data->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = tvw_cache_fetch_finish (result, &error);

  if (data->weights != self->weights)
    {
      /* The download was for weights no longer shown; it went on (or was
       * cancelled) in the background. */
      download_data_free (data);
      return;
    }

  tvw_viewer_weights_panel_update_cache (self->weights_panel);

  if (path == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          tvw_viewer_window_show_toast (self, _("Download canceled"));
          set_model_state (self, MODEL_STATE_NEEDS_DOWNLOAD);
        }
      else
        {
          g_autofree char *source = tvw_viewer_weights_get_download_source (self->weights);

          /* Stays on the status row until the next attempt. */
          g_free (self->model_error);
          self->model_error = tvw_viewer_describe_download_error (error, source);
          g_free (self->error_details);
          self->error_details = g_strdup (error->message);
          set_model_state (self, MODEL_STATE_DOWNLOAD_FAILED);
        }
      download_data_free (data);
      return;
    }

  download_data_free (data);
  load_model (self);
}

static void
start_download (TvwViewerWindow *self)
{
  DownloadData *data;

  g_clear_pointer (&self->model_error, g_free);
  g_clear_pointer (&self->error_details, g_free);
  self->download_current = 0;
  self->download_total = -1;
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  set_model_state (self, MODEL_STATE_DOWNLOADING);

  data = g_new0 (DownloadData, 1);
  data->self = g_object_ref (self);
  data->weights = g_object_ref (self->weights);

  tvw_cache_fetch_async (tvw_weights_get_url (self->weights),
                         download_progress_cb,
                         g_object_ref (self),
                         g_object_unref,
                         self->model_cancellable,
                         download_done_cb,
                         data);
}

/* Loads the current weights if they are on this computer; says what is
 * missing otherwise. */
static void
prepare_model (TvwViewerWindow *self)
{
  if (self->weights == NULL)
    {
      set_model_state (self, MODEL_STATE_NONE);
      return;
    }

  if (!tvw_viewer_weights_is_runnable (self->weights))
    {
      set_model_state (self, MODEL_STATE_UNRUNNABLE);
      return;
    }

  if (tvw_viewer_weights_is_offline (self->weights))
    load_model (self);
  else
    set_model_state (self, MODEL_STATE_NEEDS_DOWNLOAD);
}

void
_tvw_viewer_window_select_weights (TvwViewerWindow *self,
                                   TvwWeights      *weights)
{
  if (weights == self->weights)
    return;

  g_set_object (&self->weights, weights);
  _tvw_viewer_window_sync_pickers (self);

  if (self->settings != NULL && weights != NULL)
    g_settings_set_string (self->settings, "last-weights", tvw_weights_get_full_name (weights));

  adw_window_title_set_subtitle (self->window_title,
                                 weights != NULL ? tvw_weights_get_full_name (weights) : NULL);
  tvw_viewer_weights_panel_set_weights (self->weights_panel, weights);

  /* Whatever was loading or downloading was for other weights; a
   * cancelled download keeps its partial file and resumes later. */
  g_cancellable_cancel (self->model_cancellable);
  g_clear_object (&self->model_cancellable);
  self->model_cancellable = g_cancellable_new ();
  g_cancellable_cancel (self->jobs_cancellable);
  g_clear_object (&self->jobs_cancellable);
  self->jobs_cancellable = g_cancellable_new ();
  g_clear_object (&self->model);
  g_clear_pointer (&self->model_error, g_free);
  g_clear_pointer (&self->error_details, g_free);

  prepare_model (self);
}

/**
 * tvw_viewer_window_choose_weights:
 * @full_name: (nullable): weights asked for on the command line
 *
 * Chooses the weights shown first: @full_name, else the ones chosen last
 * time, else the best ones that work offline, else the first that can run.
 */
void
tvw_viewer_window_choose_weights (TvwViewerWindow *self,
                                  const char      *full_name)
{
  g_autoptr(TvwWeights) weights = NULL;

  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));

  if (full_name != NULL)
    {
      g_autoptr(GError) error = NULL;
      TvwWeights *found = tvw_get_weight (full_name, &error);

      if (found != NULL)
        weights = g_object_ref (found);
      else
        {
          /* Translators: %s is an error message */
          g_autofree char *message = g_strdup_printf (_("Cannot use these weights: %s"), error->message);

          tvw_viewer_window_show_toast (self, message);
        }
    }

  if (weights == NULL && self->settings != NULL)
    {
      g_autofree char *last = g_settings_get_string (self->settings, "last-weights");

      if (last != NULL && *last != '\0')
        {
          TvwWeights *found = tvw_get_weight (last, NULL);

          if (found != NULL)
            weights = g_object_ref (found);
        }
    }

  if (weights == NULL)
    weights = tvw_viewer_find_best_offline_weights ();
  if (weights == NULL)
    weights = tvw_viewer_find_first_runnable_weights ();

  _tvw_viewer_window_select_weights (self, weights);
}

TvwWeights *
tvw_viewer_window_get_weights (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), NULL);

  return self->weights;
}

/* Images */

#define QUEUED_KEY "tvw-viewer-queued"
#define REMOVED_KEY "tvw-viewer-removed"

void
_tvw_viewer_window_update_content (TvwViewerWindow *self)
{
  gboolean empty;

  if (self->images == NULL)
    return;

  empty = g_list_model_get_n_items (G_LIST_MODEL (self->images)) == 0 &&
          g_queue_is_empty (&self->incoming);

  gtk_stack_set_visible_child_name (self->content_stack, empty ? "empty" : "images");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.clear", !empty);
}

static void
queue_image (TvwViewerWindow *self,
             TvwViewerImage  *image)
{
  if (g_object_get_data (G_OBJECT (image), QUEUED_KEY) != NULL)
    return;

  g_object_set_data (G_OBJECT (image), QUEUED_KEY, GINT_TO_POINTER (TRUE));
  g_queue_push_tail (&self->pending, g_object_ref (image));
  run_jobs (self);
}

/* A job does not keep the window alive: closing it cancels the jobs. */
typedef struct
{
  GWeakRef         self;
  TvwViewerImage  *image;
} JobData;

static void
job_data_free (JobData *data)
{
  g_weak_ref_clear (&data->self);
  g_clear_object (&data->image);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (JobData, job_data_free)

static void
image_processed_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(JobData) data = user_data;
  g_autoptr(TvwViewerWindow) self = g_weak_ref_get (&data->self);
  TvwViewerImage *image = data->image;
  g_autoptr(GError) error = NULL;

  if (self == NULL || self->images == NULL)
    {
      /* The window is gone. */
      tvw_viewer_image_process_finish (image, result, NULL);
      return;
    }

  self->n_running--;

  if (!tvw_viewer_image_process_finish (image, result, &error))
    {
      /* Cancelled because the weights changed: start again with the new
       * ones, unless the image was removed meanwhile. */
      if (g_object_get_data (G_OBJECT (image), REMOVED_KEY) == NULL)
        queue_image (self, image);
    }
  else if (tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_WAITING &&
           self->model_state == MODEL_STATE_READY)
    {
      /* A first frame of optical flow waits, and says for what; an image
       * read before the model was ready runs now. */
      if (tvw_viewer_image_get_message (image) == NULL)
        queue_image (self, image);
    }
  else if (tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_WAITING)
    {
      g_autofree char *message = waiting_message (self);

      explain_waiting (self, image, message);
    }

  run_jobs (self);
}

static void
run_jobs (TvwViewerWindow *self)
{
  while (self->n_running < MAX_JOBS && !g_queue_is_empty (&self->pending))
    {
      g_autoptr(TvwViewerImage) image = g_queue_pop_head (&self->pending);
      TvwModel *model = self->model_state == MODEL_STATE_READY ? self->model : NULL;
      JobData *data;

      g_object_set_data (G_OBJECT (image), QUEUED_KEY, NULL);

      if (g_object_get_data (G_OBJECT (image), REMOVED_KEY) != NULL)
        continue;

      if (model == NULL && tvw_viewer_image_is_readable (image))
        {
          g_autofree char *message = waiting_message (self);

          explain_waiting (self, image, message);
          continue;
        }

      data = g_new0 (JobData, 1);
      g_weak_ref_init (&data->self, self);
      data->image = g_object_ref (image);
      self->n_running++;
      tvw_viewer_image_process_async (image, model, self->weights, self->jobs_cancellable,
                                      image_processed_cb, data);
    }

  _tvw_viewer_window_check_settled (self);
}

/* Optical flow pairs consecutive images: each still image's flow is from
 * the image before it (1→2, 2→3, …), and the first waits for a second.
 * A video is a pair by itself (its first two frames) and breaks the
 * chain.  Images whose pair changed run again when RAFT is chosen. */
static void
update_flow_pairs (TvwViewerWindow *self)
{
  GListModel *images = G_LIST_MODEL (self->images);
  guint n = g_list_model_get_n_items (images);
  gboolean flow = is_flow_weights (self->weights);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (images, i);
      g_autoptr(TvwViewerImage) previous = i > 0 ? g_list_model_get_item (images, i - 1) : NULL;
      g_autoptr(TvwViewerImage) next = i + 1 < n ? g_list_model_get_item (images, i + 1) : NULL;
      gboolean video = tvw_viewer_image_is_video (image);

      if (video || (previous != NULL && tvw_viewer_image_is_video (previous)))
        g_clear_object (&previous);

      if (tvw_viewer_image_set_flow_pair (image, previous,
                                          !video && next != NULL && !tvw_viewer_image_is_video (next)) &&
          flow && tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_FAILED)
        queue_image (self, image);
    }
}

static void
images_changed_cb (TvwViewerWindow *self)
{
  if (self->images != NULL)
    update_flow_pairs (self);
}

static gboolean
add_incoming_cb (gpointer user_data)
{
  TvwViewerWindow *self = user_data;
  g_autoptr(GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);

  while (batch->len < ADD_BATCH && !g_queue_is_empty (&self->incoming))
    {
      g_autoptr(GObject) incoming = g_queue_pop_head (&self->incoming);

      if (G_IS_FILE (incoming))
        g_ptr_array_add (batch, tvw_viewer_image_new_for_file (G_FILE (incoming)));
      else
        g_ptr_array_add (batch, g_object_ref (incoming));
    }

  g_list_store_splice (self->images,
                       g_list_model_get_n_items (G_LIST_MODEL (self->images)), 0,
                       batch->pdata, batch->len);
  for (guint i = 0; i < batch->len; i++)
    queue_image (self, g_ptr_array_index (batch, i));

  _tvw_viewer_window_update_content (self);

  if (g_queue_is_empty (&self->incoming))
    {
      self->incoming_source = 0;
      _tvw_viewer_window_check_settled (self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

void
_tvw_viewer_window_push_incoming (TvwViewerWindow *self,
                                  GObject         *object)
{
  /* A paste or drop that finished after the window closed. */
  if (self->images == NULL)
    return;

  g_queue_push_tail (&self->incoming, g_object_ref (object));

  if (self->incoming_source == 0)
    self->incoming_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, add_incoming_cb, self, NULL);
}

void
tvw_viewer_window_open_texture (TvwViewerWindow *self,
                                GdkTexture      *texture,
                                const char      *title)
{
  g_autoptr(TvwViewerImage) image = NULL;

  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));
  g_return_if_fail (GDK_IS_TEXTURE (texture));

  image = tvw_viewer_image_new_for_texture (texture, title);
  _tvw_viewer_window_push_incoming (self, G_OBJECT (image));
  _tvw_viewer_window_update_content (self);
}

static void
forget_image (TvwViewerImage *image)
{
  g_object_set_data (G_OBJECT (image), REMOVED_KEY, GINT_TO_POINTER (TRUE));
}

static void
remove_image_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  guint id = g_variant_get_uint32 (param);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->images));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);

      if (tvw_viewer_image_get_id (image) == id)
        {
          forget_image (image);
          g_list_store_remove (self->images, i);
          break;
        }
    }

  _tvw_viewer_window_update_content (self);
  _tvw_viewer_window_check_settled (self);
}

/* Once its toast is gone, nothing can undo Remove All: the images go. */
static void
clear_toast_dismissed_cb (AdwToast        *toast,
                          TvwViewerWindow *self)
{
  /* Not the images of a later Remove All, whose toast replaced this one. */
  if (self->removed != NULL && self->removed == g_object_get_data (G_OBJECT (toast), "tvw-viewer-removed"))
    g_clear_pointer (&self->removed, g_ptr_array_unref);
}

static void
clear_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->images));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), i);

      forget_image (image);
    }

  g_queue_clear_full (&self->incoming, g_object_unref);
  g_clear_handle_id (&self->incoming_source, g_source_remove);

  /* Kept until the toast goes, for its Undo button. */
  g_clear_pointer (&self->removed, g_ptr_array_unref);
  self->removed = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->removed, g_list_model_get_item (G_LIST_MODEL (self->images), i));
  g_list_store_remove_all (self->images);
  _tvw_viewer_window_update_content (self);

  if (n > 0 && self->toast_overlay != NULL)
    {
      /* Translators: a toast after Remove All */
      g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u image removed", "%u images removed", n), n);
      AdwToast *toast = adw_toast_new (title);

      adw_toast_set_button_label (toast, _("_Undo"));
      adw_toast_set_action_name (toast, "win.undo-clear");
      g_object_set_data (G_OBJECT (toast), "tvw-viewer-removed", self->removed);
      g_signal_connect_object (toast, "dismissed", G_CALLBACK (clear_toast_dismissed_cb), self, 0);
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
}

static void
undo_clear_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  g_autoptr(GPtrArray) removed = g_steal_pointer (&self->removed);

  if (removed == NULL)
    return;

  for (guint i = 0; i < removed->len; i++)
    g_object_set_data (g_ptr_array_index (removed, i), REMOVED_KEY, NULL);
  g_list_store_splice (self->images, 0, 0, removed->pdata, removed->len);

  /* Those whose work was dropped with them start again. */
  for (guint i = 0; i < removed->len; i++)
    if (!tvw_viewer_image_is_settled (g_ptr_array_index (removed, i)))
      queue_image (self, g_ptr_array_index (removed, i));
  reclassify_all (self);
  _tvw_viewer_window_update_content (self);
  _tvw_viewer_window_check_settled (self);
}

static void
download_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);

  if (!self->can_download || self->weights == NULL || !tvw_viewer_weights_is_runnable (self->weights))
    return;

  g_clear_pointer (&self->model_error, g_free);
  g_clear_pointer (&self->error_details, g_free);
  if (tvw_viewer_weights_is_offline (self->weights))
    load_model (self);
  else
    start_download (self);
}

static void
cancel_download_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);

  g_cancellable_cancel (self->model_cancellable);
  g_clear_object (&self->model_cancellable);
  self->model_cancellable = g_cancellable_new ();
}

static void
use_general_weights_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);

  if (self->general_weights != NULL)
    _tvw_viewer_window_select_weights (self, self->general_weights);
}

static void
choose_weights_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  TvwWeights *weights = tvw_get_weight (g_variant_get_string (param, NULL), NULL);

  if (weights != NULL)
    _tvw_viewer_window_select_weights (self, weights);
}

static void
toggle_sidebar_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);

  gtk_toggle_button_set_active (self->sidebar_button,
                                !gtk_toggle_button_get_active (self->sidebar_button));
}

/* Breakpoints, by hand (libadwaita 1.2 has no AdwBreakpoint): below this
 * width of the images' area, the cards put the results under the
 * pictures. */
#define NARROW_CONTENT_WIDTH 560

static void
set_row_compact (GtkWidget *widget,
                 gboolean   compact)
{
  if (TVW_VIEWER_IS_IMAGE_ROW (widget))
    {
      tvw_viewer_image_row_set_compact (TVW_VIEWER_IMAGE_ROW (widget), compact);
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    set_row_compact (child, compact);
}

static gboolean
apply_narrow_cb (gpointer user_data)
{
  TvwViewerWindow *self = user_data;

  self->narrow_source = 0;
  set_row_compact (GTK_WIDGET (self->images_view), self->narrow);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self->notice_box),
                                  self->narrow ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  if (self->narrow)
    gtk_widget_add_css_class (GTK_WIDGET (self), "narrow");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "narrow");

  return G_SOURCE_REMOVE;
}

static void
tvw_viewer_window_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (widget);
  gboolean narrow;

  GTK_WIDGET_CLASS (tvw_viewer_window_parent_class)->size_allocate (widget, width, height, baseline);

  /* The layout changes after this allocation, not during it. */
  narrow = gtk_widget_get_width (GTK_WIDGET (self->content_stack)) < NARROW_CONTENT_WIDTH;
  if (narrow != self->narrow)
    {
      self->narrow = narrow;
      if (self->narrow_source == 0)
        self->narrow_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, apply_narrow_cb, self, NULL);
    }
}

gboolean
_tvw_viewer_window_is_narrow (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  return self->narrow && self->narrow_source == 0;
}

/* Tab from card to card.  GtkListView (GTK 4.8) only has widgets for the
 * rows on screen, so plain Tab leaves the list at the last of those;
 * here Tab scrolls to the next card and focuses it. */

static GtkWidget *
find_row (TvwViewerWindow *self,
          TvwViewerImage  *image)
{
  g_autoptr(GHashTable) rows = g_hash_table_new (NULL, NULL);

  _tvw_viewer_window_collect_rows (GTK_WIDGET (self->images_view), rows);

  return g_hash_table_lookup (rows, image);
}

static gboolean
focus_card_tick_cb (GtkWidget     *widget,
                    GdkFrameClock *clock,
                    gpointer       user_data)
{
  TvwViewerWindow *self = user_data;
  g_autoptr(TvwViewerImage) image = g_list_model_get_item (G_LIST_MODEL (self->images), self->focus_position);
  GtkWidget *row = image != NULL ? find_row (self, image) : NULL;

  /* The row is made at the next layout after the scroll. */
  if (row == NULL && image != NULL && ++self->focus_tries < 10)
    return G_SOURCE_CONTINUE;

  if (row != NULL)
    gtk_widget_child_focus (row, self->focus_direction);

  self->focus_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
focus_card (TvwViewerWindow  *self,
            guint             position,
            GtkDirectionType  direction)
{
  self->focus_position = position;
  self->focus_direction = direction;
  self->focus_tries = 0;
  gtk_widget_activate_action (GTK_WIDGET (self->images_view), "list.scroll-to-item", "u", position);
  if (self->focus_tick == 0)
    self->focus_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->images_view),
                                                     focus_card_tick_cb, self, NULL);
}

static gboolean
images_key_pressed_cb (TvwViewerWindow       *self,
                       guint                  keyval,
                       guint                  keycode,
                       GdkModifierType        state,
                       GtkEventControllerKey *controller)
{
  GtkDirectionType direction;
  GtkWidget *focus;
  GtkWidget *row;
  guint position;

  if ((keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab && keyval != GDK_KEY_ISO_Left_Tab) ||
      (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return FALSE;

  direction = keyval == GDK_KEY_ISO_Left_Tab || (state & GDK_SHIFT_MASK) != 0
                ? GTK_DIR_TAB_BACKWARD : GTK_DIR_TAB_FORWARD;
  focus = gtk_root_get_focus (GTK_ROOT (self));
  row = focus != NULL ? gtk_widget_get_ancestor (focus, TVW_VIEWER_TYPE_IMAGE_ROW) : NULL;
  if (row == NULL || tvw_viewer_image_row_get_image (TVW_VIEWER_IMAGE_ROW (row)) == NULL)
    return FALSE;

  /* Within the card first. */
  if (gtk_widget_child_focus (row, direction))
    return TRUE;

  position = tvw_viewer_list_model_find (G_LIST_MODEL (self->images), tvw_viewer_image_row_get_image (TVW_VIEWER_IMAGE_ROW (row)));
  if (position == GTK_INVALID_LIST_POSITION ||
      (direction == GTK_DIR_TAB_FORWARD && position + 1 >= g_list_model_get_n_items (G_LIST_MODEL (self->images))) ||
      (direction == GTK_DIR_TAB_BACKWARD && position == 0))
    return FALSE;

  focus_card (self, direction == GTK_DIR_TAB_FORWARD ? position + 1 : position - 1, direction);
  return TRUE;
}

static void
image_setup_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                TvwViewerWindow          *self)
{
  GtkWidget *row = tvw_viewer_image_row_new ();

  tvw_viewer_image_row_set_compact (TVW_VIEWER_IMAGE_ROW (row), self->narrow);
  gtk_list_item_set_child (item, row);
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_selectable (item, FALSE);
}

static void
image_bind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item)
{
  tvw_viewer_image_row_set_image (TVW_VIEWER_IMAGE_ROW (gtk_list_item_get_child (item)),
                                  gtk_list_item_get_item (item));
}

static void
image_unbind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item)
{
  tvw_viewer_image_row_set_image (TVW_VIEWER_IMAGE_ROW (gtk_list_item_get_child (item)), NULL);
}

void
_tvw_viewer_window_set_drop_highlight (TvwViewerWindow *self,
                                       gboolean         highlight)
{
  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));

  gtk_revealer_set_reveal_child (self->drop_revealer, highlight);
}

gboolean
_tvw_viewer_window_get_drop_highlight (TvwViewerWindow *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_WINDOW (self), FALSE);

  return gtk_revealer_get_reveal_child (self->drop_revealer);
}

/* For tests: a model that needs no checkpoint. */
void
_tvw_viewer_window_set_model_for_testing (TvwViewerWindow *self,
                                          TvwWeights      *weights,
                                          TvwModel        *model)
{
  g_return_if_fail (TVW_VIEWER_IS_WINDOW (self));
  g_return_if_fail (TVW_IS_MODEL (model));

  _tvw_viewer_window_select_weights (self, weights);
  g_cancellable_cancel (self->model_cancellable);
  g_clear_object (&self->model_cancellable);
  self->model_cancellable = g_cancellable_new ();
  set_model (self, model);
}

/* The window itself */

static gboolean
tvw_viewer_window_close_request (GtkWindow *window)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (window);

  if (self->settings != NULL)
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (self->settings);
      g_settings_set_int (self->settings, "window-width", MAX (width, 360));
      g_settings_set_int (self->settings, "window-height", MAX (height, 294));
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
      g_settings_set_boolean (self->settings, "show-sidebar",
                              gtk_toggle_button_get_active (self->sidebar_button));
      g_settings_apply (self->settings);
    }

  g_cancellable_cancel (self->model_cancellable);
  g_cancellable_cancel (self->jobs_cancellable);

  return GTK_WINDOW_CLASS (tvw_viewer_window_parent_class)->close_request (window);
}

static void
tvw_viewer_window_dispose (GObject *object)
{
  TvwViewerWindow *self = (TvwViewerWindow *)object;

  g_cancellable_cancel (self->model_cancellable);
  g_cancellable_cancel (self->jobs_cancellable);
  self->model_state = MODEL_STATE_NONE;
  g_clear_handle_id (&self->incoming_source, g_source_remove);
  g_clear_handle_id (&self->narrow_source, g_source_remove);
  if (self->focus_tick != 0 && self->images_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->images_view), self->focus_tick);
  self->focus_tick = 0;
  g_queue_clear_full (&self->incoming, g_object_unref);
  g_queue_clear_full (&self->pending, g_object_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), TVW_VIEWER_TYPE_WINDOW);

  g_clear_object (&self->paintable);
  g_clear_object (&self->images);
  g_clear_pointer (&self->removed, g_ptr_array_unref);
  g_clear_object (&self->model);
  g_clear_object (&self->weights);
  g_clear_object (&self->weights_enum);
  g_clear_object (&self->general_weights);
  g_clear_object (&self->sorted_enums);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (tvw_viewer_window_parent_class)->dispose (object);
}

static void
tvw_viewer_window_finalize (GObject *object)
{
  TvwViewerWindow *self = (TvwViewerWindow *)object;

  g_clear_object (&self->model_cancellable);
  g_clear_object (&self->jobs_cancellable);
  g_clear_pointer (&self->model_error, g_free);
  g_clear_pointer (&self->error_details, g_free);

  G_OBJECT_CLASS (tvw_viewer_window_parent_class)->finalize (object);
}

static void
tvw_viewer_window_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  TvwViewerWindow *self = TVW_VIEWER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_window_class_init (TvwViewerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tvw_viewer_window_dispose;
  object_class->finalize = tvw_viewer_window_finalize;
  object_class->get_property = tvw_viewer_window_get_property;
  window_class->close_request = tvw_viewer_window_close_request;
  widget_class->size_allocate = tvw_viewer_window_size_allocate;

  /**
   * TvwViewerWindow:busy:
   *
   * Whether the window is still at work: weights loading or downloading,
   * images being opened or run through the model.
   */
  props[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  g_type_ensure (TVW_VIEWER_TYPE_WEIGHTS_PANEL);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/gnome/Tvw/Viewer/tvw-viewer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, sidebar_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, model_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, weights_dropdown);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, status_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, status_icon_stack);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, status_spinner);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, download_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, progress_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, details_row);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, details_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, notice_revealer);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, notice_box);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, notice_icon);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, notice_label);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, notice_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, weights_panel);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, drop_revealer);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, samples_button);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, images_scroller);
  gtk_widget_class_bind_template_child (widget_class, TvwViewerWindow, images_view);

  _tvw_viewer_window_class_open_init (widget_class);
  gtk_widget_class_install_action (widget_class, "win.remove-image", "u", remove_image_action);
  gtk_widget_class_install_action (widget_class, "win.clear", NULL, clear_action);
  gtk_widget_class_install_action (widget_class, "win.undo-clear", NULL, undo_clear_action);
  gtk_widget_class_install_action (widget_class, "win.download", NULL, download_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-download", NULL, cancel_download_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-sidebar", NULL, toggle_sidebar_action);
  gtk_widget_class_install_action (widget_class, "win.use-general-weights", NULL, use_general_weights_action);
  gtk_widget_class_install_action (widget_class, "win.choose-weights", "s", choose_weights_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.toggle-sidebar", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, GDK_CONTROL_MASK, "win.clear", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
tvw_viewer_window_init (TvwViewerWindow *self)
{
  g_autoptr(GtkListItemFactory) images_factory = NULL;
  g_autoptr(GtkNoSelection) selection = NULL;
  GSettingsSchemaSource *source;
  g_autoptr(GSettingsSchema) schema = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->busy = TRUE;
  self->images = g_list_store_new (TVW_VIEWER_TYPE_IMAGE);
  self->model_cancellable = g_cancellable_new ();
  self->jobs_cancellable = g_cancellable_new ();
  g_queue_init (&self->incoming);
  g_queue_init (&self->pending);

  /* Without the installed schema (an uninstalled build), nothing is
   * remembered, but the viewer works. */
  source = g_settings_schema_source_get_default ();
  schema = source != NULL ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  if (schema != NULL)
    self->settings = g_settings_new (APP_ID);

  if (self->settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (self->settings, "window-width"),
                                   g_settings_get_int (self->settings, "window-height"));
      if (g_settings_get_boolean (self->settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      gtk_toggle_button_set_active (self->sidebar_button,
                                    g_settings_get_boolean (self->settings, "show-sidebar"));
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (self), 1180, 760);

  _tvw_viewer_window_pickers_init (self);

  /* The images. */
  images_factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (images_factory, "setup", G_CALLBACK (image_setup_cb), self);
  g_signal_connect (images_factory, "bind", G_CALLBACK (image_bind_cb), NULL);
  g_signal_connect (images_factory, "unbind", G_CALLBACK (image_unbind_cb), NULL);
  gtk_list_view_set_factory (self->images_view, images_factory);
  g_signal_connect_object (self->images, "items-changed",
                           G_CALLBACK (images_changed_cb), self, G_CONNECT_SWAPPED);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->images)));
  gtk_list_view_set_model (self->images_view, GTK_SELECTION_MODEL (selection));
  {
    GtkEventController *keys = gtk_event_controller_key_new ();

    gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
    gtk_event_controller_set_name (keys, "tvw-viewer-card-tab");
    g_signal_connect_object (keys, "key-pressed", G_CALLBACK (images_key_pressed_cb), self, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (GTK_WIDGET (self->images_view), keys);
  }

  _tvw_viewer_window_open_init (self);

  /* The weights offered when the chosen ones only know a narrow kind of
   * picture. */
  self->general_weights = tvw_viewer_find_general_weights ();

  g_signal_connect_object (self->flap, "notify::reveal-flap",
                           G_CALLBACK (update_notice), self, G_CONNECT_SWAPPED);

  update_status (self);
  _tvw_viewer_window_update_content (self);

  _tvw_viewer_window_dnd_init (self);
}

TvwViewerWindow *
tvw_viewer_window_new (GtkApplication *application)
{
  return g_object_new (TVW_VIEWER_TYPE_WINDOW,
                       "application", application,
                       NULL);
}
