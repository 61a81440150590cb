/* tvw-viewer-window.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>
#include <tvw.h>

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_WINDOW (tvw_viewer_window_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerWindow, tvw_viewer_window, TVW_VIEWER, WINDOW, AdwApplicationWindow)

TvwViewerWindow *tvw_viewer_window_new            (GtkApplication   *application);
void             tvw_viewer_window_choose_weights (TvwViewerWindow  *self,
                                                   const char       *full_name);
TvwWeights      *tvw_viewer_window_get_weights    (TvwViewerWindow  *self);
void             tvw_viewer_window_open_files     (TvwViewerWindow  *self,
                                                   GFile           **files,
                                                   guint             n_files);
void             tvw_viewer_window_open_texture   (TvwViewerWindow  *self,
                                                   GdkTexture       *texture,
                                                   const char       *title);
void             tvw_viewer_window_show_toast     (TvwViewerWindow  *self,
                                                   const char       *message);

G_END_DECLS
