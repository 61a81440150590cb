/* tvw-viewer-flow.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <tvw.h>

G_BEGIN_DECLS

/* Frames larger than this on their longer side are scaled down before
 * RAFT sees them: its all-pairs correlation grows with the square of the
 * number of pixels. */
#define TVW_VIEWER_FLOW_MAX_SIDE 512

/* What RAFT made of two frames. */
typedef struct
{
  GdkPixbuf *image;       /* torchvision's flow_to_image colours, at the model's size */
  double     mean;        /* mean displacement, in pixels of the model's input */
  double     longest;     /* largest displacement */
  int        width;       /* the model's input size */
  int        height;
  gboolean   scaled;      /* whether the frames were scaled to that size */
} TvwViewerFlowResult;

void           tvw_viewer_flow_result_free     (TvwViewerFlowResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwViewerFlowResult, tvw_viewer_flow_result_free)

GdkPixbuf           *tvw_viewer_flow_read_frame       (TvwTransform  *transform,
                                                       GFile         *file,
                                                       GCancellable  *cancellable,
                                                       GError       **error);
gboolean             tvw_viewer_flow_read_video_pair  (GFile         *file,
                                                       GdkPixbuf    **first,
                                                       GdkPixbuf    **second,
                                                       GCancellable  *cancellable,
                                                       GError       **error);
TvwViewerFlowResult *tvw_viewer_flow_compute          (TvwModel      *model,
                                                       TvwTransform  *transform,
                                                       GdkPixbuf     *first,
                                                       GdkPixbuf     *second,
                                                       GCancellable  *cancellable,
                                                       GError       **error);
char                *tvw_viewer_flow_describe         (double         mean,
                                                       double         longest,
                                                       int            width,
                                                       int            height,
                                                       gboolean       scaled);

#define TVW_VIEWER_TYPE_FLOW (tvw_viewer_flow_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerFlow, tvw_viewer_flow, TVW_VIEWER, FLOW, GtkWidget)

GtkWidget   *tvw_viewer_flow_new              (void);
void         tvw_viewer_flow_set_flow         (TvwViewerFlow *self,
                                               GdkTexture    *first_frame,
                                               const char    *first_title,
                                               const char    *second_title,
                                               GdkTexture    *flow,
                                               const char    *summary);
GdkTexture  *tvw_viewer_flow_get_shown_flow   (TvwViewerFlow *self);
char        *tvw_viewer_flow_get_text         (TvwViewerFlow *self);

G_END_DECLS
