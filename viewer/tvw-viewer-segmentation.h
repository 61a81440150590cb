/* tvw-viewer-segmentation.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <tvw.h>

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_SEGMENTATION (tvw_viewer_segmentation_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerSegmentation, tvw_viewer_segmentation, TVW_VIEWER, SEGMENTATION, GtkWidget)

GtkWidget       *tvw_viewer_segmentation_new              (void);
void             tvw_viewer_segmentation_set_segmentation (TvwViewerSegmentation *self,
                                                           TvwSegmentation       *segmentation,
                                                           GdkPixbuf             *image);
TvwSegmentation *tvw_viewer_segmentation_get_segmentation (TvwViewerSegmentation *self);
double           tvw_viewer_segmentation_get_opacity      (TvwViewerSegmentation *self);
void             tvw_viewer_segmentation_set_opacity      (TvwViewerSegmentation *self,
                                                           double                 opacity);
GdkTexture      *tvw_viewer_segmentation_get_overlay      (TvwViewerSegmentation *self);
char            *tvw_viewer_segmentation_get_legend_text  (TvwViewerSegmentation *self);
char            *tvw_viewer_segmentation_describe_point   (TvwViewerSegmentation *self,
                                                           double                 x,
                                                           double                 y);
const char      *tvw_viewer_segmentation_get_hover_text   (TvwViewerSegmentation *self);

/* A class's name for people: its category, or “Class N”. */
char            *tvw_viewer_segmentation_class_name       (TvwSegmentation       *segmentation,
                                                           guint                  class_index);

G_END_DECLS
