/* tvw-viewer-window-private.h — what the window's other files and the
 * tests may use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>

#include "tvw-viewer-image.h"
#include "tvw-viewer-window.h"

G_BEGIN_DECLS

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
char          *_tvw_viewer_window_build_report         (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_save_screenshot      (TvwViewerWindow  *self,
                                                        const char       *path,
                                                        GError          **error);
void           _tvw_viewer_window_set_test_report      (TvwViewerWindow  *self,
                                                        const char       *report_path,
                                                        const char       *screenshot_path);
const char    *_tvw_viewer_window_get_status_title     (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_can_download         (TvwViewerWindow  *self);
gboolean       _tvw_viewer_window_is_narrow            (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_status_subtitle  (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_status_details   (TvwViewerWindow  *self);
const char    *_tvw_viewer_window_get_notice           (TvwViewerWindow  *self,
                                                        GtkWidget       **button);
AdwFlap       *_tvw_viewer_window_get_flap             (TvwViewerWindow  *self);

G_END_DECLS
