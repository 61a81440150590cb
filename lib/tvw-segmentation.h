/* tvw-segmentation.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tvw-version.h"
#include "tvw-tensor.h"

G_BEGIN_DECLS

#define TVW_TYPE_SEGMENTATION (tvw_segmentation_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwSegmentation, tvw_segmentation, TVW, SEGMENTATION, GObject)

TVW_AVAILABLE_IN_ALL
TvwSegmentation *tvw_segmentation_new_from_output     (TvwTensor           *output,
                                                       guint                width,
                                                       guint                height,
                                                       const char * const  *categories,
                                                       GError             **error);
TVW_AVAILABLE_IN_ALL
guint            tvw_segmentation_get_width           (TvwSegmentation     *self);
TVW_AVAILABLE_IN_ALL
guint            tvw_segmentation_get_height          (TvwSegmentation     *self);
TVW_AVAILABLE_IN_ALL
guint            tvw_segmentation_get_n_classes       (TvwSegmentation     *self);
TVW_AVAILABLE_IN_ALL
GBytes          *tvw_segmentation_get_class_map       (TvwSegmentation     *self);
TVW_AVAILABLE_IN_ALL
guint            tvw_segmentation_get_class_at        (TvwSegmentation     *self,
                                                       guint                x,
                                                       guint                y);
TVW_AVAILABLE_IN_ALL
const char      *tvw_segmentation_get_category        (TvwSegmentation     *self,
                                                       guint                class_index);
TVW_AVAILABLE_IN_ALL
guint64          tvw_segmentation_get_area            (TvwSegmentation     *self,
                                                       guint                class_index);
TVW_AVAILABLE_IN_ALL
double           tvw_segmentation_get_fraction        (TvwSegmentation     *self,
                                                       guint                class_index);
TVW_AVAILABLE_IN_ALL
double           tvw_segmentation_get_score           (TvwSegmentation     *self,
                                                       guint                class_index);
TVW_AVAILABLE_IN_ALL
guint           *tvw_segmentation_get_classes_present (TvwSegmentation     *self,
                                                       guint               *n_classes);
TVW_AVAILABLE_IN_ALL
guint32          tvw_segmentation_palette_color       (guint                class_index);
TVW_AVAILABLE_IN_ALL
GdkPixbuf       *tvw_segmentation_render_mask         (TvwSegmentation     *self,
                                                       GError             **error);
TVW_AVAILABLE_IN_ALL
GdkPixbuf       *tvw_segmentation_render_overlay      (TvwSegmentation     *self,
                                                       GdkPixbuf           *image,
                                                       double               opacity,
                                                       GError             **error);

G_END_DECLS
