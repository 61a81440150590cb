/* tvw-viewer-window-private.h — what the window's other files and the
 * tests may use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>
#include <tvw.h>

#include "tvw-viewer-image.h"
#include "tvw-viewer-weights-panel.h"
#include "tvw-viewer-window.h"

G_BEGIN_DECLS

/* The window is split by concern, as GNOME Text Editor's is:
 * tvw-viewer-window.c (the weights and the model, the images and their
 * jobs, the layout), -pickers.c (the model and weights pickers), -open.c
 * (opening files, folders, the clipboard, the samples), -dnd.c (drops),
 * -report.c (whether it is busy; what it shows, for tests). */

typedef enum
{
  MODEL_STATE_NONE,
  MODEL_STATE_UNRUNNABLE,
  MODEL_STATE_NEEDS_DOWNLOAD,
  MODEL_STATE_DOWNLOADING,
  MODEL_STATE_DOWNLOAD_FAILED,
  MODEL_STATE_LOADING,
  MODEL_STATE_READY,
  MODEL_STATE_FAILED,
} ModelState;

struct _TvwViewerWindow
{
  AdwApplicationWindow   parent_instance;

  GSettings             *settings;
  GListStore            *images;
  GPtrArray             *removed;         /* for Undo after Remove All */
  GQueue                 incoming;
  guint                  incoming_source;
  GQueue                 pending;
  guint                  n_running;
  guint                  n_folders;       /* being listed */
  GCancellable          *jobs_cancellable;

  TvwWeightsEnum        *weights_enum;
  TvwWeights            *weights;
  TvwModel              *model;
  ModelState             model_state;
  char                  *model_error;     /* a sentence for people */
  char                  *error_details;   /* the error's own message */
  TvwWeights            *general_weights;
  GtkSortListModel      *sorted_enums;
  GCancellable          *model_cancellable;
  goffset                download_current;
  goffset                download_total;
  guint                  syncing_pickers : 1;
  guint                  can_download : 1;

  GdkPaintable          *paintable;     /* for screenshots */
  guint                  busy : 1;
  guint                  narrow : 1;
  guint                  narrow_source;
  guint                  focus_tick;      /* focusing a card scrolled to */
  guint                  focus_position;
  GtkDirectionType       focus_direction;
  guint                  focus_tries;

  /* Template children. */
  AdwWindowTitle        *window_title;
  GtkToggleButton       *sidebar_button;
  AdwToastOverlay       *toast_overlay;
  AdwFlap               *flap;
  GtkDropDown           *model_dropdown;
  GtkDropDown           *weights_dropdown;
  AdwActionRow          *status_row;
  GtkStack              *status_icon_stack;
  GtkImage              *status_icon;
  GtkSpinner            *status_spinner;
  GtkWidget             *download_button;
  GtkProgressBar        *progress_bar;
  GtkWidget             *progress_row;
  GtkWidget             *cancel_button;
  AdwExpanderRow        *details_row;
  GtkLabel              *details_label;
  GtkRevealer           *notice_revealer;
  GtkBox                *notice_box;
  GtkImage              *notice_icon;
  GtkLabel              *notice_label;
  GtkButton             *notice_button;
  TvwViewerWeightsPanel *weights_panel;
  GtkRevealer           *drop_revealer;
  GtkStack              *content_stack;
  AdwStatusPage         *empty_page;
  GtkWidget             *samples_button;
  GtkScrolledWindow     *images_scroller;
  GtkListView           *images_view;
};

/* tvw-viewer-window.c */
void           _tvw_viewer_window_select_weights       (TvwViewerWindow  *self,
                                                        TvwWeights       *weights);
void           _tvw_viewer_window_push_incoming        (TvwViewerWindow  *self,
                                                        GObject          *object);
void           _tvw_viewer_window_update_content       (TvwViewerWindow  *self);

/* tvw-viewer-window-pickers.c */
void           _tvw_viewer_window_pickers_init         (TvwViewerWindow  *self);
void           _tvw_viewer_window_sync_pickers         (TvwViewerWindow  *self);

/* tvw-viewer-window-open.c */
void           _tvw_viewer_window_class_open_init      (GtkWidgetClass   *widget_class);
void           _tvw_viewer_window_open_init            (TvwViewerWindow  *self);

/* tvw-viewer-window-report.c */
void           _tvw_viewer_window_check_settled        (TvwViewerWindow  *self);
void           _tvw_viewer_window_collect_rows         (GtkWidget        *widget,
                                                        GHashTable       *rows);

/* tvw-viewer-window-dnd.c */
void           _tvw_viewer_window_dnd_init             (TvwViewerWindow  *self);
GtkDropTarget *_tvw_viewer_window_get_drop_target      (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_drop_value           (TvwViewerWindow  *self,
                                                        const GValue     *value);
void           _tvw_viewer_window_set_drop_highlight   (TvwViewerWindow  *self,
                                                        gboolean          highlight);
gboolean       _tvw_viewer_window_get_drop_highlight   (TvwViewerWindow  *self);

/* For tests: a model that needs no checkpoint (random weights). */
void           _tvw_viewer_window_set_model_for_testing (TvwViewerWindow *self,
                                                         TvwWeights      *weights,
                                                         TvwModel        *model);
GListModel    *_tvw_viewer_window_get_images           (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_is_settled           (TvwViewerWindow  *self);
char          *_tvw_viewer_window_get_shown_text       (TvwViewerWindow  *self,
                                                        TvwViewerImage   *image);
gboolean       _tvw_viewer_window_save_screenshot      (TvwViewerWindow  *self,
                                                        const char       *path,
                                                        GError          **error);
const char    *_tvw_viewer_window_get_status_title     (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_can_download         (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_is_narrow            (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_status_subtitle  (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_status_details   (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_notice           (TvwViewerWindow  *self,
                                                        GtkWidget       **button);
AdwFlap       *_tvw_viewer_window_get_flap             (TvwViewerWindow  *self);

G_END_DECLS
