/* tvw-video-reader-private.h — decoding video files with GStreamer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tvw-model.h"
#include "tvw-weights.h"

G_BEGIN_DECLS

/* Frames wider or taller than this are scaled down (keeping their aspect)
 * while decoding: the presets shrink them to a few hundred pixels anyway,
 * and a clip of 8K frames would need gigabytes. */
#define TVW_VIDEO_MAX_SIDE 2048
/* At most this many frames in one clip or one read, and this many bytes of
 * decoded frames held at once by tvw_video_read_frames (). */
#define TVW_VIDEO_MAX_FRAMES 1024
#define TVW_VIDEO_MAX_READ_BYTES ((gsize) 1 << 30)

/* What torchvision's video reference scripts (references/video_classification,
 * train.py) evaluate with: the video resampled to @frame_rate frames per
 * second (VideoClips), every run of @clip_len consecutive resampled frames
 * a clip (step 1), @clips_per_video of them spread uniformly
 * (UniformClipSampler), their softmax averaged. */
typedef struct
{
  double frame_rate;
  guint  clip_len;
  guint  clips_per_video;
} TvwClipRule;

/* The entry's rule, from the parameters its `_docs` meta states
 * ("frame_rate=15, clips_per_video=5, clip_len=16"); train.py's defaults
 * (15, 5, 16) for what it does not state, or without weights. */
void     tvw_clip_rule_for_weights (TvwClipRule        *rule,
                                    TvwWeights         *weights);

/* The frames (indices in the decoded video) of the clips the rule samples
 * from a video of @n_frames frames at @fps: clips_per_video × clip_len
 * indices, clip after clip.  A video too short for one clip (torchvision
 * skips it) gives clips that repeat its last frame. */
gint64  *tvw_clip_rule_sample      (const TvwClipRule  *rule,
                                    gint64              n_frames,
                                    double              fps,
                                    guint              *n_clips);

/* Called with each requested frame, in the order of the video, as 8-bit
 * RGB rows; @slot is its position among the sorted, unique indices. */
typedef gboolean (*TvwVideoFrameFunc) (gsize          slot,
                                       const guint8  *rgb,
                                       int            width,
                                       int            height,
                                       int            stride,
                                       gpointer       user_data,
                                       GError       **error);

/* Decodes @file up to the last of @indices (sorted, unique), handing those
 * frames to @func.  *@n_decoded is how many frames there were up to there:
 * fewer than the last index + 1 when the video ends first, which is not an
 * error here. */
gboolean tvw_video_decode          (GFile              *file,
                                    const gint64       *indices,
                                    gsize               n_indices,
                                    TvwVideoFrameFunc   func,
                                    gpointer            user_data,
                                    gint64             *n_decoded,
                                    GCancellable       *cancellable,
                                    GError            **error);

/* tvw_model_classify_file () for a video model. */
GListModel *tvw_video_classify     (TvwModel           *model,
                                    GFile              *file,
                                    guint               top_k,
                                    GCancellable       *cancellable,
                                    GError            **error);

G_END_DECLS
