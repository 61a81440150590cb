/* tvw-viewer-detection.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <tvw.h>

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_DETECTION (tvw_viewer_detection_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerDetection, tvw_viewer_detection, TVW_VIEWER, DETECTION, GtkWidget)

#define TVW_VIEWER_DETECTION_DEFAULT_THRESHOLD 0.5

GtkWidget    *tvw_viewer_detection_new                 (void);
void          tvw_viewer_detection_set_detection       (TvwViewerDetection *self,
                                                        TvwDetection       *detection,
                                                        GdkPixbuf          *image,
                                                        const char * const *categories);
TvwDetection *tvw_viewer_detection_get_detection       (TvwViewerDetection *self);
double        tvw_viewer_detection_get_threshold       (TvwViewerDetection *self);
void          tvw_viewer_detection_set_threshold       (TvwViewerDetection *self,
                                                        double              threshold);
GtkWidget    *tvw_viewer_detection_get_threshold_scale (TvwViewerDetection *self);
GtkListBox   *tvw_viewer_detection_get_list            (TvwViewerDetection *self);
guint         tvw_viewer_detection_get_n_listed        (TvwViewerDetection *self);
int           tvw_viewer_detection_get_listed_object   (TvwViewerDetection *self,
                                                        guint               position);
int           tvw_viewer_detection_get_selected_object (TvwViewerDetection *self);
void          tvw_viewer_detection_select_object       (TvwViewerDetection *self,
                                                        int                 index);
GdkTexture   *tvw_viewer_detection_get_rendered        (TvwViewerDetection *self);
char         *tvw_viewer_detection_get_list_text       (TvwViewerDetection *self);

/* An object's class for people: the detection's category, or the
 * weights' when the model was built without them. */
char         *tvw_viewer_detection_object_name         (TvwDetection       *detection,
                                                        guint               index,
                                                        const char * const *categories);

G_END_DECLS
