/* tvw-viewer-image-row.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>

#include "tvw-viewer-image.h"

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_IMAGE_ROW (tvw_viewer_image_row_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerImageRow, tvw_viewer_image_row, TVW_VIEWER, IMAGE_ROW, AdwBin)

GtkWidget      *tvw_viewer_image_row_new              (void);
TvwViewerImage *tvw_viewer_image_row_get_image        (TvwViewerImageRow *self);
void            tvw_viewer_image_row_set_image        (TvwViewerImageRow *self,
                                                       TvwViewerImage    *image);
char           *tvw_viewer_image_row_get_shown_text   (TvwViewerImageRow *self);
GtkWidget      *tvw_viewer_image_row_get_segmentation_view (TvwViewerImageRow *self);
GtkWidget      *tvw_viewer_image_row_get_detection_view (TvwViewerImageRow *self);
GtkWidget      *tvw_viewer_image_row_get_flow_view    (TvwViewerImageRow *self);
void            tvw_viewer_image_row_set_compact      (TvwViewerImageRow *self,
                                                       gboolean           compact);
gboolean        tvw_viewer_image_row_get_compact      (TvwViewerImageRow *self);
GtkWidget      *tvw_viewer_image_row_get_remove_button (TvwViewerImageRow *self);

G_END_DECLS
