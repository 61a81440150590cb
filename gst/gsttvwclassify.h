/* gsttvwclassify.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* The name of the custom meta (gst_buffer_get_custom_meta ()) that carries
 * the newest classification on the buffers that follow it. */
#define GST_TVW_CLASSIFICATION_META_NAME "TvwClassificationMeta"

#define GST_TYPE_TVW_CLASSIFY (gst_tvw_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstTvwClassify, gst_tvw_classify, GST, TVW_CLASSIFY, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (tvwclassify);

G_END_DECLS
