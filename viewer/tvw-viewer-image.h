/* tvw-viewer-image.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <tvw.h>

G_BEGIN_DECLS

/**
 * TvwViewerImageState:
 * @TVW_VIEWER_IMAGE_STATE_LOADING: being read
 * @TVW_VIEWER_IMAGE_STATE_WAITING: read, waiting for weights that can run
 * @TVW_VIEWER_IMAGE_STATE_CLASSIFYING: being classified
 * @TVW_VIEWER_IMAGE_STATE_CLASSIFIED: the predictions are there
 * @TVW_VIEWER_IMAGE_STATE_FAILED: the file cannot be read as an image
 * @TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED: read, but these weights could not
 *   classify it (other weights may)
 */
typedef enum
{
  TVW_VIEWER_IMAGE_STATE_LOADING,
  TVW_VIEWER_IMAGE_STATE_WAITING,
  TVW_VIEWER_IMAGE_STATE_CLASSIFYING,
  TVW_VIEWER_IMAGE_STATE_CLASSIFIED,
  TVW_VIEWER_IMAGE_STATE_FAILED,
  TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED,
} TvwViewerImageState;

/* How many classes each image shows. */
#define TVW_VIEWER_TOP_K 5

#define TVW_VIEWER_TYPE_IMAGE (tvw_viewer_image_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerImage, tvw_viewer_image, TVW_VIEWER, IMAGE, GObject)

TvwViewerImage      *tvw_viewer_image_new_for_file      (GFile               *file);
TvwViewerImage      *tvw_viewer_image_new_for_texture   (GdkTexture          *texture,
                                                         const char          *title);
guint                tvw_viewer_image_get_id            (TvwViewerImage      *self);
GFile               *tvw_viewer_image_get_file          (TvwViewerImage      *self);
const char          *tvw_viewer_image_get_title         (TvwViewerImage      *self);
const char          *tvw_viewer_image_get_details       (TvwViewerImage      *self);
GdkTexture          *tvw_viewer_image_get_thumbnail     (TvwViewerImage      *self);
GdkTexture          *tvw_viewer_image_get_crop          (TvwViewerImage      *self);
GListModel          *tvw_viewer_image_get_predictions   (TvwViewerImage      *self);
TvwSegmentation     *tvw_viewer_image_get_segmentation  (TvwViewerImage      *self);
TvwDetection        *tvw_viewer_image_get_detection     (TvwViewerImage      *self);
GdkPixbuf           *tvw_viewer_image_get_model_pixbuf  (TvwViewerImage      *self);
TvwViewerImageState  tvw_viewer_image_get_state         (TvwViewerImage      *self);
const char          *tvw_viewer_image_get_message       (TvwViewerImage      *self);
const char          *tvw_viewer_image_get_weights_name  (TvwViewerImage      *self);
gboolean             tvw_viewer_image_is_readable       (TvwViewerImage      *self);
gboolean             tvw_viewer_image_is_video          (TvwViewerImage      *self);
gboolean             tvw_viewer_image_is_flow_task      (TvwViewerImage      *self);
gboolean             tvw_viewer_image_set_flow_pair     (TvwViewerImage      *self,
                                                         TvwViewerImage      *previous,
                                                         gboolean             followed);
GdkTexture          *tvw_viewer_image_get_flow          (TvwViewerImage      *self);
GdkTexture          *tvw_viewer_image_get_flow_first_frame (TvwViewerImage   *self);
const char          *tvw_viewer_image_get_flow_first_title (TvwViewerImage   *self);
const char          *tvw_viewer_image_get_flow_summary  (TvwViewerImage      *self);
void                 tvw_viewer_image_get_flow_stats    (TvwViewerImage      *self,
                                                         double              *mean,
                                                         double              *longest);
gboolean             tvw_viewer_image_is_settled        (TvwViewerImage      *self);
void                 tvw_viewer_image_set_waiting       (TvwViewerImage      *self,
                                                         const char          *message,
                                                         gboolean             busy);
gboolean             tvw_viewer_image_is_waiting_busy   (TvwViewerImage      *self);

void                 tvw_viewer_image_process_async     (TvwViewerImage      *self,
                                                         TvwModel            *model,
                                                         TvwWeights          *weights,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean             tvw_viewer_image_process_finish    (TvwViewerImage      *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

G_END_DECLS
