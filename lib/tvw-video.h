/* tvw-video.h — video files and optical flow images
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tvw-version.h"
#include "tvw-tensor.h"

G_BEGIN_DECLS

TVW_AVAILABLE_IN_ALL
gboolean    tvw_video_get_info       (GFile         *file,
                                      guint         *width,
                                      guint         *height,
                                      double        *fps,
                                      gint64        *n_frames,
                                      GCancellable  *cancellable,
                                      GError       **error);
TVW_AVAILABLE_IN_ALL
TvwTensor  *tvw_video_read_frames    (GFile         *file,
                                      const gint64  *indices,
                                      gsize          n_indices,
                                      GCancellable  *cancellable,
                                      GError       **error);

TVW_AVAILABLE_IN_ALL
GdkPixbuf  *tvw_flow_to_image        (TvwTensor     *flow,
                                      GError       **error);

G_END_DECLS
