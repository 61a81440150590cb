/* tvw-detection.h
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

#define TVW_TYPE_DETECTION (tvw_detection_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwDetection, tvw_detection, TVW, DETECTION, GObject)

TVW_AVAILABLE_IN_ALL
TvwDetection *tvw_detection_new_from_tensors (guint                width,
                                              guint                height,
                                              TvwTensor           *boxes,
                                              TvwTensor           *labels,
                                              TvwTensor           *scores,
                                              TvwTensor           *masks,
                                              TvwTensor           *keypoints,
                                              TvwTensor           *keypoints_scores,
                                              const char * const  *categories,
                                              const char * const  *keypoint_names,
                                              GError             **error);
TVW_AVAILABLE_IN_ALL
guint         tvw_detection_get_width        (TvwDetection        *self);
TVW_AVAILABLE_IN_ALL
guint         tvw_detection_get_height       (TvwDetection        *self);
TVW_AVAILABLE_IN_ALL
guint         tvw_detection_get_n_objects    (TvwDetection        *self);
TVW_AVAILABLE_IN_ALL
void          tvw_detection_get_box          (TvwDetection        *self,
                                              guint                index,
                                              double              *x1,
                                              double              *y1,
                                              double              *x2,
                                              double              *y2);
TVW_AVAILABLE_IN_ALL
guint         tvw_detection_get_label        (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
const char   *tvw_detection_get_category     (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
double        tvw_detection_get_score        (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
guint32       tvw_detection_get_color        (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
guint         tvw_detection_count_above      (TvwDetection        *self,
                                              double               threshold);
TVW_AVAILABLE_IN_ALL
TvwDetection *tvw_detection_filter           (TvwDetection        *self,
                                              double               threshold);

TVW_AVAILABLE_IN_ALL
gboolean      tvw_detection_has_masks        (TvwDetection        *self);
TVW_AVAILABLE_IN_ALL
GBytes       *tvw_detection_get_mask         (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
gboolean      tvw_detection_get_mask_at      (TvwDetection        *self,
                                              guint                index,
                                              guint                x,
                                              guint                y);
TVW_AVAILABLE_IN_ALL
guint64       tvw_detection_get_mask_area    (TvwDetection        *self,
                                              guint                index);
TVW_AVAILABLE_IN_ALL
gboolean      tvw_detection_get_mask_bounds  (TvwDetection        *self,
                                              guint                index,
                                              guint               *x,
                                              guint               *y,
                                              guint               *width,
                                              guint               *height);

TVW_AVAILABLE_IN_ALL
guint         tvw_detection_get_n_keypoints  (TvwDetection        *self);
TVW_AVAILABLE_IN_ALL
const char   *tvw_detection_get_keypoint_name (TvwDetection       *self,
                                               guint               keypoint);
TVW_AVAILABLE_IN_ALL
void          tvw_detection_get_keypoint     (TvwDetection        *self,
                                              guint                index,
                                              guint                keypoint,
                                              double              *x,
                                              double              *y,
                                              double              *score);

TVW_AVAILABLE_IN_ALL
GdkPixbuf    *tvw_detection_render           (TvwDetection        *self,
                                              GdkPixbuf           *image,
                                              double               threshold,
                                              GError             **error);

G_END_DECLS
