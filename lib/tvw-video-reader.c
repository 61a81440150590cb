/* tvw-video-reader.c — video files through GStreamer, and clips sampled as
 * torchvision's video reference scripts sample them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef TVW_HAVE_GSTREAMER
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#endif

#include "tvw-error.h"
#include "tvw-model.h"
#include "tvw-tensor-private.h"
#include "tvw-transform.h"
#include "tvw-video.h"
#include "tvw-video-reader-private.h"

/* ------------------------------------------------------------------------ */
/* Clip sampling: references/video_classification/train.py evaluates with
 * VideoClips (frame_rate, frames_per_clip = clip_len, step_between_clips = 1)
 * and UniformClipSampler (clips_per_video), then averages the softmax of
 * the clips of each video. */

static double
docs_number (const char *docs,
             const char *key,
             double      fallback)
{
  const char *p = docs != NULL ? strstr (docs, key) : NULL;
  char *end;
  double value;

  if (p == NULL)
    return fallback;
  p += strlen (key);
  value = g_ascii_strtod (p, &end);
  return end != p && value > 0 && value < 1e6 ? value : fallback;
}

void
tvw_clip_rule_for_weights (TvwClipRule *rule,
                           TvwWeights  *weights)
{
  g_autoptr(GVariant) docs = NULL;
  const char *text = NULL;

  /* train.py's defaults: --frame-rate 15, --clips-per-video 5, --clip-len 16. */
  rule->frame_rate = 15;
  rule->clips_per_video = 5;
  rule->clip_len = 16;

  if (weights != NULL)
    docs = tvw_weights_lookup_meta (weights, "_docs");
  if (docs != NULL && g_variant_is_of_type (docs, G_VARIANT_TYPE_STRING))
    text = g_variant_get_string (docs, NULL);

  rule->frame_rate = docs_number (text, "frame_rate=", rule->frame_rate);
  rule->clips_per_video = (guint) CLAMP (docs_number (text, "clips_per_video=", rule->clips_per_video), 1, 64);
  rule->clip_len = (guint) CLAMP (docs_number (text, "clip_len=", rule->clip_len), 1, TVW_VIDEO_MAX_FRAMES);
}

/* torch.linspace (start, end, steps) in float32, as ATen computes it: from
 * the start in the first half, from the end in the second. */
static float
linspace_at (float start,
             float end,
             gint64 steps,
             gint64 i)
{
  float step;

  if (steps == 1)
    return start;
  step = (end - start) / (float) (steps - 1);
  return i < steps / 2 ? start + step * (float) i : end - step * (float) (steps - i - 1);
}

gint64 *
tvw_clip_rule_sample (const TvwClipRule *rule,
                      gint64             n_frames,
                      double             fps,
                      guint             *n_clips)
{
  const gint64 len = rule->clip_len, k = rule->clips_per_video;
  double frame_rate = rule->frame_rate > 0 ? rule->frame_rate : fps;
  double step = fps > 0 ? fps / frame_rate : 1;
  gboolean integer_step = step == floor (step) && step >= 1;
  gint64 n_resampled, n_starts;
  gint64 *resampled, *frames;

  g_return_val_if_fail (n_frames > 0, NULL);

  /* VideoClips.compute_clips_for_video (): the frames at frame_rate.  An
   * integer step is a slice of every step-th frame; otherwise
   * floor (arange (floor (n · frame_rate / fps), float32) · step). */
  if (fps <= 0)
    n_resampled = n_frames;
  else if (integer_step)
    n_resampled = (n_frames + (gint64) step - 1) / (gint64) step;
  else
    n_resampled = (gint64) floor ((double) n_frames * (frame_rate / fps));
  n_resampled = CLAMP (n_resampled, 1, G_MAXINT32);

  resampled = g_new (gint64, n_resampled);
  for (gint64 j = 0; j < n_resampled; j++)
    {
      gint64 f;

      if (fps <= 0)
        f = j;
      else if (integer_step)
        f = j * (gint64) step;
      else
        f = (gint64) floorf ((float) j * (float) step);
      resampled[j] = CLAMP (f, 0, n_frames - 1);
    }

  /* unfold (frames, clip_len, 1): one clip per start; UniformClipSampler:
   * floor (linspace (0, n_starts − 1, clips_per_video)). */
  n_starts = MAX (n_resampled - len + 1, 1);
  frames = g_new (gint64, k * len);
  for (gint64 c = 0; c < k; c++)
    {
      gint64 start = (gint64) floorf (linspace_at (0.f, (float) (n_starts - 1), k, c));

      start = CLAMP (start, 0, n_starts - 1);
      for (gint64 t = 0; t < len; t++)
        frames[c * len + t] = resampled[MIN (start + t, n_resampled - 1)];
    }

  g_free (resampled);
  if (n_clips != NULL)
    *n_clips = (guint) k;
  return frames;
}

/* ------------------------------------------------------------------------ */
/* Decoding. */

static char *
file_name (GFile *file)
{
  return g_file_get_parse_name (file);
}

#ifdef TVW_HAVE_GSTREAMER

static gboolean
ensure_gst (GError **error)
{
  static gsize once = 0;
  static gboolean ok;
  static char *message;

  if (g_once_init_enter (&once))
    {
      GError *local_error = NULL;

      ok = gst_init_check (NULL, NULL, &local_error);
      if (!ok)
        {
          message = g_strdup (local_error != NULL ? local_error->message : "unknown error");
          g_clear_error (&local_error);
        }
      g_once_init_leave (&once, 1);
    }

  if (!ok)
    g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                 "GStreamer could not be initialised: %s", message);
  return ok;
}

typedef struct
{
  char       *name;           /* the file, for messages */
  GstElement *pipeline;
  GstElement *convert;
  GstElement *filter;
  GstElement *sink;
  GstBus     *bus;
  gint        pads;           /* atomic: decodebin's pads so far */
  gint        video_pads;     /* atomic: its video pads */
  gint        no_more_pads;   /* atomic */
  gint        empty_demuxer;  /* atomic: a demuxer inside found no stream */
} Reader;

static void
pad_added_cb (GstElement *decodebin,
              GstPad     *pad,
              Reader     *r)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sinkpad = NULL;
  const GstStructure *s;

  g_atomic_int_inc (&r->pads);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return;
  s = gst_caps_get_structure (caps, 0);
  if (!g_str_has_prefix (gst_structure_get_name (s), "video/"))
    return;
  /* The first video stream only; audio and other streams stay unlinked. */
  if (g_atomic_int_add (&r->video_pads, 1) != 0)
    return;
  sinkpad = gst_element_get_static_pad (r->convert, "sink");
  gst_pad_link (pad, sinkpad);
}

static void
no_more_pads_cb (GstElement *decodebin,
                 Reader     *r)
{
  g_atomic_int_set (&r->no_more_pads, 1);
}

static void
child_no_more_pads_cb (GstElement *element,
                       Reader     *r)
{
  if (element->numsrcpads == 0)
    g_atomic_int_set (&r->empty_demuxer, 1);
}

static void
element_added_cb (GstBin     *decodebin,
                  GstElement *element,
                  Reader     *r)
{
  /* Only demuxers emit it; decoders and typefind never do. */
  g_signal_connect (element, "no-more-pads", G_CALLBACK (child_no_more_pads_cb), r);
}

static void
reader_clear (Reader *r)
{
  if (r->pipeline != NULL)
    {
      gst_element_set_state (r->pipeline, GST_STATE_NULL);
      gst_clear_object (&r->pipeline);
    }
  gst_clear_object (&r->bus);
  g_clear_pointer (&r->name, g_free);
}

static gboolean
reader_open (Reader   *r,
             GFile    *file,
             GError  **error)
{
  static const char * const factories[] = {
    "filesrc", "decodebin", "videoconvert", "videoscale", "capsfilter", "appsink"
  };
  GstElement *e[G_N_ELEMENTS (factories)];
  g_autoptr(GstCaps) caps = NULL;
  const char *path = g_file_peek_path (file);

  memset (r, 0, sizeof *r);
  r->name = file_name (file);

  if (!ensure_gst (error))
    return FALSE;
  if (path == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   "%s: only local video files can be read", r->name);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   "%s: no such file", r->name);
      return FALSE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (factories); i++)
    {
      e[i] = gst_element_factory_make (factories[i], NULL);
      if (e[i] == NULL)
        {
          for (gsize j = 0; j < i; j++)
            gst_object_unref (gst_object_ref_sink (e[j]));
          g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                       "The GStreamer element “%s” is missing (Debian: gstreamer1.0-plugins-base)",
                       factories[i]);
          return FALSE;
        }
    }

  r->pipeline = gst_pipeline_new ("tvw-video-reader");
  r->convert = e[2];
  r->filter = e[4];
  r->sink = e[5];
  gst_bin_add_many (GST_BIN (r->pipeline), e[0], e[1], e[2], e[3], e[4], e[5], NULL);

  g_object_set (e[0], "location", path, NULL);
  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB", NULL);
  g_object_set (r->filter, "caps", caps, NULL);
  /* As fast as it decodes, one frame ahead at most: memory stays bounded
   * however long the video is. */
  g_object_set (r->sink, "sync", FALSE, "max-buffers", 2, "drop", FALSE,
                "enable-last-sample", FALSE, NULL);

  if (!gst_element_link (e[0], e[1]) || !gst_element_link_many (e[2], e[3], e[4], e[5], NULL))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_FAILED,
                   "%s: the GStreamer pipeline could not be linked", r->name);
      return FALSE;
    }
  g_signal_connect (e[1], "pad-added", G_CALLBACK (pad_added_cb), r);
  g_signal_connect (e[1], "no-more-pads", G_CALLBACK (no_more_pads_cb), r);
  g_signal_connect (e[1], "element-added", G_CALLBACK (element_added_cb), r);
  r->bus = gst_element_get_bus (r->pipeline);
  return TRUE;
}

static gboolean
reader_no_video (Reader  *r,
                 GError **error)
{
  if (g_atomic_int_get (&r->video_pads) == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s has no video stream", r->name);
      return TRUE;
    }
  return FALSE;
}

/* An ERROR message as a GError naming the file. */
static void
set_error_from_message (Reader      *r,
                        GstMessage  *message,
                        GError     **error)
{
  g_autoptr(GError) gst_error = NULL;
  g_autofree char *debug = NULL;
  int code = TVW_ERROR_INVALID_DATA;

  gst_message_parse_error (message, &gst_error, &debug);
  g_debug ("%s: %s", r->name, debug != NULL ? debug : "");

  /* Streams no decoder was linked for: audio only, subtitles. */
  if (g_atomic_int_get (&r->no_more_pads) && reader_no_video (r, error))
    return;

  if (g_error_matches (gst_error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN) ||
      g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND))
    code = TVW_ERROR_UNSUPPORTED;
  else if (gst_error->domain == GST_RESOURCE_ERROR)
    code = TVW_ERROR_FAILED;

  if (g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND) ||
      g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE))
    g_set_error (error, TVW_ERROR, code, "%s is not a video file (GStreamer: %s)",
                 r->name, gst_error->message);
  else if (gst_error->domain == GST_STREAM_ERROR && code == TVW_ERROR_INVALID_DATA)
    g_set_error (error, TVW_ERROR, code, "%s is truncated or corrupt (GStreamer: %s)",
                 r->name, gst_error->message);
  else
    g_set_error (error, TVW_ERROR, code, "%s: GStreamer cannot decode it: %s",
                 r->name, gst_error->message);
}

/* A pending ERROR message, if any, as @error. */
static gboolean
reader_failed (Reader  *r,
               GError **error)
{
  g_autoptr(GstMessage) message = gst_bus_pop_filtered (r->bus, GST_MESSAGE_ERROR);

  if (message == NULL)
    return FALSE;
  set_error_from_message (r, message, error);
  return TRUE;
}

/* Prerolls: the first frame reaches the sink (or an error, or the end). */
static gboolean
reader_preroll (Reader        *r,
                GCancellable  *cancellable,
                GError       **error)
{
  GstStateChangeReturn ret;
  gint64 start = g_get_monotonic_time ();

  g_atomic_int_set (&r->pads, 0);
  g_atomic_int_set (&r->video_pads, 0);
  g_atomic_int_set (&r->empty_demuxer, 0);
  g_atomic_int_set (&r->no_more_pads, 0);
  ret = gst_element_set_state (r->pipeline, GST_STATE_PAUSED);
  if (ret == GST_STATE_CHANGE_SUCCESS || ret == GST_STATE_CHANGE_NO_PREROLL)
    return TRUE;

  for (;;)
    {
      g_autoptr(GstMessage) message = NULL;

      if (ret == GST_STATE_CHANGE_FAILURE && reader_failed (r, error))
        return FALSE;
      message = gst_bus_timed_pop_filtered (r->bus, 50 * GST_MSECOND,
                                            GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_EOS);
      if (message != NULL)
        switch (GST_MESSAGE_TYPE (message))
          {
          case GST_MESSAGE_ERROR:
            set_error_from_message (r, message, error);
            return FALSE;
          case GST_MESSAGE_EOS:
            if (!reader_no_video (r, error))
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                           "%s has no video frames", r->name);
            return FALSE;
          case GST_MESSAGE_ASYNC_DONE:
          default:
            return TRUE;
          }

      if (g_atomic_int_get (&r->no_more_pads) && reader_no_video (r, error))
        return FALSE;
      if (ret == GST_STATE_CHANGE_FAILURE)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s: GStreamer cannot play it", r->name);
          return FALSE;
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      /* decodebin drops the errors of an element it is still trying out
       * (its "filtered" elements): a demuxer that fails at once on a
       * truncated header can leave the pipeline waiting forever (about one
       * run in three with a 300-byte WebM).  Such a demuxer says it has
       * no more pads without having any; otherwise, streams are found from
       * the headers in milliseconds, so none after 10 s means the same.  A
       * stall after that is not waited out beyond a minute. */
      if (g_atomic_int_get (&r->pads) == 0 &&
          (g_atomic_int_get (&r->empty_demuxer) ||
           g_get_monotonic_time () - start > 10 * G_USEC_PER_SEC))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s is truncated or corrupt: GStreamer found no stream in it", r->name);
          return FALSE;
        }
      if (g_get_monotonic_time () - start > 60 * G_USEC_PER_SEC)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_FAILED,
                       "%s: GStreamer gave no frame within a minute", r->name);
          return FALSE;
        }
    }
}

/* The size, rate and estimated length of the prerolled video. */
static gboolean
reader_info (Reader   *r,
             int      *width,
             int      *height,
             int      *fps_n,
             int      *fps_d,
             gint64   *duration,
             GError  **error)
{
  g_autoptr(GstSample) sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (r->sink), 0);
  GstVideoInfo info;

  if (sample == NULL || !gst_video_info_from_caps (&info, gst_sample_get_caps (sample)))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: GStreamer gave no video frame", r->name);
      return FALSE;
    }

  *width = GST_VIDEO_INFO_WIDTH (&info);
  *height = GST_VIDEO_INFO_HEIGHT (&info);
  *fps_n = GST_VIDEO_INFO_FPS_N (&info);
  *fps_d = GST_VIDEO_INFO_FPS_D (&info);
  if (!gst_element_query_duration (r->pipeline, GST_FORMAT_TIME, duration))
    *duration = -1;
  return TRUE;
}

/* Opens and prerolls @file, scaled down to TVW_VIDEO_MAX_SIDE if larger. */
static gboolean
reader_start (Reader        *r,
              GFile         *file,
              int           *width,
              int           *height,
              double        *fps,
              gint64        *duration,
              GCancellable  *cancellable,
              GError       **error)
{
  int w, h, fps_n, fps_d;

  if (!reader_open (r, file, error) ||
      !reader_preroll (r, cancellable, error) ||
      !reader_info (r, &w, &h, &fps_n, &fps_d, duration, error))
    return FALSE;

  if (w > TVW_VIDEO_MAX_SIDE || h > TVW_VIDEO_MAX_SIDE)
    {
      double scale = (double) TVW_VIDEO_MAX_SIDE / MAX (w, h);
      g_autoptr(GstCaps) caps = NULL;

      w = MAX ((int) round (w * scale), 1);
      h = MAX ((int) round (h * scale), 1);
      caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB",
                                  "width", G_TYPE_INT, w, "height", G_TYPE_INT, h, NULL);
      gst_element_set_state (r->pipeline, GST_STATE_NULL);
      g_object_set (r->filter, "caps", caps, NULL);
      if (!reader_preroll (r, cancellable, error))
        return FALSE;
    }

  *width = w;
  *height = h;
  *fps = fps_n > 0 && fps_d > 0 ? (double) fps_n / fps_d : 0;
  return TRUE;
}

/* Pulls frames until @func has had every index (or, with @count_all, to
 * the end); *@n_decoded is the number of frames pulled. */
static gboolean
reader_run (Reader             *r,
            const gint64       *indices,
            gsize               n_indices,
            gboolean            count_all,
            TvwVideoFrameFunc   func,
            gpointer            user_data,
            gint64             *n_decoded,
            GCancellable       *cancellable,
            GError            **error)
{
  gint64 frame = 0;
  gsize next = 0;

  if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      if (!reader_failed (r, error))
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                     "%s: GStreamer cannot play it", r->name);
      return FALSE;
    }

  while (count_all || next < n_indices)
    {
      g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (r->sink),
                                                                  50 * GST_MSECOND);

      if (sample == NULL)
        {
          if (reader_failed (r, error))
            return FALSE;
          if (gst_app_sink_is_eos (GST_APP_SINK (r->sink)))
            break;
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          continue;
        }

      if (next < n_indices && indices[next] == frame)
        {
          GstVideoInfo info;
          GstVideoFrame vframe;
          gboolean ok;

          if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)) ||
              !gst_video_frame_map (&vframe, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                           "%s: frame %" G_GINT64_FORMAT " cannot be read", r->name, frame);
              return FALSE;
            }
          ok = func (next, GST_VIDEO_FRAME_PLANE_DATA (&vframe, 0),
                     GST_VIDEO_FRAME_WIDTH (&vframe), GST_VIDEO_FRAME_HEIGHT (&vframe),
                     GST_VIDEO_FRAME_PLANE_STRIDE (&vframe, 0), user_data, error);
          gst_video_frame_unmap (&vframe);
          if (!ok)
            return FALSE;
          next++;
        }
      frame++;
    }

  /* A decoder that reported an error before the end. */
  if (reader_failed (r, error))
    return FALSE;
  *n_decoded = frame;
  return TRUE;
}

gboolean
tvw_video_decode (GFile              *file,
                  const gint64       *indices,
                  gsize               n_indices,
                  TvwVideoFrameFunc   func,
                  gpointer            user_data,
                  gint64             *n_decoded,
                  GCancellable       *cancellable,
                  GError            **error)
{
  Reader r;
  int w, h;
  double fps;
  gint64 duration;
  gboolean ok;

  ok = reader_start (&r, file, &w, &h, &fps, &duration, cancellable, error) &&
       reader_run (&r, indices, n_indices, FALSE, func, user_data, n_decoded, cancellable, error);
  reader_clear (&r);
  return ok;
}

/**
 * tvw_video_get_info:
 * @file: a video file
 * @width: (out) (optional): return location for the width of the frames
 *   libtvw reads
 * @height: (out) (optional): return location for their height
 * @fps: (out) (optional): return location for the frame rate, 0 if the file
 *   does not state one
 * @n_frames: (out) (optional): return location for the number of frames
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Opens @file with GStreamer (`filesrc ! decodebin ! videoconvert`) and
 * reads its first video stream's size and rate.  The number of frames is
 * the duration times the rate when the file states both (exact for
 * constant-rate video), otherwise the video is decoded to count them.
 * Frames larger than 2048 pixels on a side are read scaled down to 2048,
 * and @width and @height say so.
 *
 * Returns: %TRUE, or %FALSE with @error naming the file if it cannot be
 *   read as video, or libtvw was built without GStreamer
 */
gboolean
tvw_video_get_info (GFile         *file,
                    guint         *width,
                    guint         *height,
                    double        *fps,
                    gint64        *n_frames,
                    GCancellable  *cancellable,
                    GError       **error)
{
  Reader r;
  int w = 0, h = 0;
  double rate = 0;
  gint64 duration = -1, count = 0;
  gboolean ok;

  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = reader_start (&r, file, &w, &h, &rate, &duration, cancellable, error);
  if (ok && n_frames != NULL)
    {
      if (rate > 0 && duration > 0)
        count = (gint64) llround ((double) duration * rate / GST_SECOND);
      else
        ok = reader_run (&r, NULL, 0, TRUE, NULL, NULL, &count, cancellable, error);
      if (ok && count < 1)
        count = 1;
    }
  reader_clear (&r);
  if (!ok)
    return FALSE;

  if (width != NULL)
    *width = (guint) w;
  if (height != NULL)
    *height = (guint) h;
  if (fps != NULL)
    *fps = rate;
  if (n_frames != NULL)
    *n_frames = count;
  return TRUE;
}

#else /* !TVW_HAVE_GSTREAMER */

static gboolean
no_gstreamer (GFile   *file,
              GError **error)
{
  g_autofree char *name = file_name (file);

  g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
               "%s: libtvw was built without GStreamer and cannot read video files", name);
  return FALSE;
}

gboolean
tvw_video_decode (GFile              *file,
                  const gint64       *indices,
                  gsize               n_indices,
                  TvwVideoFrameFunc   func,
                  gpointer            user_data,
                  gint64             *n_decoded,
                  GCancellable       *cancellable,
                  GError            **error)
{
  return no_gstreamer (file, error);
}

gboolean
tvw_video_get_info (GFile         *file,
                    guint         *width,
                    guint         *height,
                    double        *fps,
                    gint64        *n_frames,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_return_val_if_fail (G_IS_FILE (file), FALSE);

  return no_gstreamer (file, error);
}

#endif /* TVW_HAVE_GSTREAMER */

/* ------------------------------------------------------------------------ */
/* Frames as a tensor. */

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* @indices sorted, duplicates removed. */
static gint64 *
sorted_unique (const gint64 *indices,
               gsize         n,
               gsize        *n_unique)
{
  gint64 *sorted = g_memdup2 (indices, n * sizeof (gint64));
  gsize m = 0;

  qsort (sorted, n, sizeof (gint64), compare_gint64);
  for (gsize i = 0; i < n; i++)
    if (m == 0 || sorted[m - 1] != sorted[i])
      sorted[m++] = sorted[i];
  *n_unique = m;
  return sorted;
}

static gsize
slot_of (const gint64 *sorted,
         gsize         n,
         gint64        index)
{
  const gint64 *p = bsearch (&index, sorted, n, sizeof (gint64), compare_gint64);

  return p != NULL ? (gsize) (p - sorted) : 0;
}

typedef struct
{
  char   *name;
  gsize   n_frames;
  int     width, height;
  guint8 *frames;      /* n_frames × 3 × height × width */
} ReadFrames;

static gboolean
read_frame_cb (gsize          slot,
               const guint8  *rgb,
               int            width,
               int            height,
               int            stride,
               gpointer       user_data,
               GError       **error)
{
  ReadFrames *rf = user_data;
  gsize plane;
  guint8 *out;

  if (rf->frames == NULL)
    {
      if ((guint64) rf->n_frames * width * height * 3 > TVW_VIDEO_MAX_READ_BYTES)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       "%s: %" G_GSIZE_FORMAT " frames of %d×%d are more than libtvw reads at once",
                       rf->name, rf->n_frames, width, height);
          return FALSE;
        }
      rf->width = width;
      rf->height = height;
      rf->frames = g_try_malloc ((gsize) rf->n_frames * width * height * 3);
      if (rf->frames == NULL)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_NO_MEMORY,
                       "%s: no memory for %" G_GSIZE_FORMAT " frames", rf->name, rf->n_frames);
          return FALSE;
        }
    }
  else if (width != rf->width || height != rf->height)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   "%s: the frames change size (%d×%d, then %d×%d)",
                   rf->name, rf->width, rf->height, width, height);
      return FALSE;
    }

  /* HWC rows → CHW planes. */
  plane = (gsize) width * height;
  out = rf->frames + slot * 3 * plane;
  for (int y = 0; y < height; y++)
    {
      const guint8 *row = rgb + (gsize) y * stride;

      for (int x = 0; x < width; x++)
        for (int c = 0; c < 3; c++)
          out[c * plane + (gsize) y * width + x] = row[x * 3 + c];
    }
  return TRUE;
}

/**
 * tvw_video_read_frames:
 * @file: a video file
 * @indices: (array length=n_indices): the frames to read, counted from 0 in
 *   the order GStreamer decodes them; in any order, repeats allowed
 * @n_indices: the number of indices, 1 to 1024
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Decodes @file with GStreamer (`filesrc ! decodebin ! videoconvert !
 * video/x-raw,format=RGB ! appsink`) up to the last frame asked for, and
 * returns those frames as torchvision's `read_video (…,
 * output_format="TCHW")` does: a uint8 `(T, 3, H, W)` tensor, in the order
 * of @indices.  Only the frames asked for are kept; frames larger than
 * 2048 pixels on a side are scaled down to 2048, and at most 1 GiB of
 * frames is read at once.
 *
 * Returns: (transfer full): the frames, or %NULL with @error naming the
 *   file if it is not a video, is truncated before the last index, or
 *   libtvw was built without GStreamer
 */
TvwTensor *
tvw_video_read_frames (GFile         *file,
                       const gint64  *indices,
                       gsize          n_indices,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autofree gint64 *sorted = NULL;
  ReadFrames rf = { NULL };
  gint64 decoded = 0;
  gsize n_unique, plane;
  guint8 *out;
  gint64 shape[4];

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (indices != NULL || n_indices == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rf.name = file_name (file);
  if (n_indices < 1 || n_indices > TVW_VIDEO_MAX_FRAMES)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s: read from 1 to %d frames at once, not %" G_GSIZE_FORMAT,
                   rf.name, TVW_VIDEO_MAX_FRAMES, n_indices);
      g_free (rf.name);
      return NULL;
    }
  for (gsize i = 0; i < n_indices; i++)
    if (indices[i] < 0)
      {
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     "%s: frame %" G_GINT64_FORMAT " does not exist", rf.name, indices[i]);
        g_free (rf.name);
        return NULL;
      }

  sorted = sorted_unique (indices, n_indices, &n_unique);
  rf.n_frames = n_unique;
  if (!tvw_video_decode (file, sorted, n_unique, read_frame_cb, &rf, &decoded, cancellable, error))
    goto fail;
  if (decoded <= sorted[n_unique - 1])
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   "%s has %" G_GINT64_FORMAT " frames: there is no frame %" G_GINT64_FORMAT,
                   rf.name, decoded, sorted[n_unique - 1]);
      goto fail;
    }

  plane = (gsize) rf.width * rf.height * 3;
  out = g_malloc (n_indices * plane);
  for (gsize i = 0; i < n_indices; i++)
    memcpy (out + i * plane, rf.frames + slot_of (sorted, n_unique, indices[i]) * plane, plane);
  g_free (rf.frames);
  g_free (rf.name);

  shape[0] = (gint64) n_indices;
  shape[1] = 3;
  shape[2] = rf.height;
  shape[3] = rf.width;
  return tvw_tensor_new_take (TVW_DTYPE_UINT8, shape, 4, g_bytes_new_take (out, n_indices * plane));

fail:
  g_free (rf.frames);
  g_free (rf.name);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Classification: each frame is preprocessed as it is decoded (the preset
 * works frame by frame), so only the model-sized frames are kept. */

typedef struct
{
  TvwTransform  *transform;
  TvwTensor    **frames;     /* per slot: (3, 1, h, w) float */
} ClassifyFrames;

static gboolean
classify_frame_cb (gsize          slot,
                   const guint8  *rgb,
                   int            width,
                   int            height,
                   int            stride,
                   gpointer       user_data,
                   GError       **error)
{
  ClassifyFrames *cf = user_data;
  gsize plane = (gsize) width * height;
  guint8 *chw = g_malloc (MAX (plane * 3, 1));
  g_autoptr(TvwTensor) frame = NULL;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        chw[c * plane + (gsize) y * width + x] = rgb[(gsize) y * stride + x * 3 + c];
  frame = tvw_tensor_new_take (TVW_DTYPE_UINT8, (gint64[]) { 1, 3, height, width }, 4,
                               g_bytes_new_take (chw, plane * 3));
  cf->frames[slot] = tvw_transform_apply_tensor (cf->transform, frame, error);
  return cf->frames[slot] != NULL;
}

static void
classify_frames_clear (ClassifyFrames *cf,
                       gsize           n)
{
  for (gsize i = 0; cf->frames != NULL && i < n; i++)
    g_clear_object (&cf->frames[i]);
  g_clear_pointer (&cf->frames, g_free);
}

GListModel *
tvw_video_classify (TvwModel      *model,
                    GFile         *file,
                    guint          top_k,
                    GCancellable  *cancellable,
                    GError       **error)
{
  TvwWeights *weights = tvw_model_get_weights (model);
  g_autoptr(TvwTransform) transform = NULL;
  g_autofree gint64 *clips = NULL;
  g_autofree gint64 *sorted = NULL;
  g_autofree float *sum = NULL;
  g_autofree char *name = file_name (file);
  ClassifyFrames cf = { NULL };
  TvwClipRule rule;
  gsize n_unique = 0, n_classes = 0;
  gint64 n_frames = 0, decoded = 0;
  double fps = 0;
  guint n_clips = 0;
  GListModel *result = NULL;

  transform = weights != NULL ? tvw_weights_transforms (weights)
                              : tvw_transform_new (TVW_PRESET_VIDEO_CLASSIFICATION);
  cf.transform = transform;
  tvw_clip_rule_for_weights (&rule, weights);
  if (!tvw_video_get_info (file, NULL, NULL, &fps, &n_frames, cancellable, error))
    return NULL;

  /* The length comes from the container's duration; if the video ends
   * sooner, sample again with the frames it has. */
  for (int attempt = 0; attempt < 2; attempt++)
    {
      g_clear_pointer (&clips, g_free);
      g_clear_pointer (&sorted, g_free);
      classify_frames_clear (&cf, n_unique);

      clips = tvw_clip_rule_sample (&rule, n_frames, fps, &n_clips);
      sorted = sorted_unique (clips, (gsize) n_clips * rule.clip_len, &n_unique);
      cf.frames = g_new0 (TvwTensor *, n_unique);
      if (!tvw_video_decode (file, sorted, n_unique, classify_frame_cb, &cf, &decoded,
                             cancellable, error))
        goto out;
      if (decoded > sorted[n_unique - 1])
        break;
      if (decoded < 1 || attempt == 1)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       "%s: GStreamer decoded %" G_GINT64_FORMAT " frames", name, decoded);
          goto out;
        }
      n_frames = decoded;
    }

  for (guint k = 0; k < n_clips; k++)
    {
      g_autoptr(TvwTensor) first = g_object_ref (cf.frames[slot_of (sorted, n_unique, clips[(gsize) k * rule.clip_len])]);
      const gint64 h = tvw_tensor_get_dim (first, 2), w = tvw_tensor_get_dim (first, 3);
      const gsize plane = (gsize) h * w, len = rule.clip_len;
      float *clip = g_new (float, 3 * len * plane);
      g_autoptr(TvwTensor) input = NULL;
      g_autoptr(TvwTensor) logits = NULL;
      g_autoptr(TvwTensor) probabilities = NULL;
      const float *p;

      /* (1, 3, T, h, w): each frame's three planes at its time step. */
      for (gsize t = 0; t < len; t++)
        {
          TvwTensor *f = cf.frames[slot_of (sorted, n_unique, clips[k * len + t])];
          const float *src = tvw_tensor_get_data (f);

          for (gsize c = 0; c < 3; c++)
            memcpy (clip + (c * len + t) * plane, src + c * plane, plane * sizeof (float));
        }
      input = tvw_tensor_new_take (TVW_DTYPE_FLOAT32, (gint64[]) { 1, 3, (gint64) len, h, w }, 5,
                                   g_bytes_new_take (clip, 3 * len * plane * sizeof (float)));
      logits = tvw_model_forward (model, input, cancellable, error);
      if (logits == NULL)
        goto out;

      /* train.py's evaluate (): softmax per clip, summed per video. */
      n_classes = tvw_tensor_get_n_elements (logits);
      {
        g_autoptr(TvwTensor) row = tvw_tensor_reshape (logits, (gint64[]) { (gint64) n_classes }, 1, error);

        if (row == NULL)
          goto out;
        probabilities = tvw_tensor_softmax (row, 0);
      }
      if (sum == NULL)
        sum = g_new0 (float, n_classes);
      p = tvw_tensor_get_data (probabilities);
      for (gsize i = 0; i < n_classes; i++)
        sum[i] += p[i];
    }

  /* The mean probability, as logits whose softmax gives it back. */
  {
    float *log_mean = g_new (float, n_classes);
    g_autoptr(TvwTensor) mean = NULL;

    for (gsize i = 0; i < n_classes; i++)
      log_mean[i] = logf (sum[i] / (float) n_clips);
    mean = tvw_tensor_new_take (TVW_DTYPE_FLOAT32, (gint64[]) { (gint64) n_classes }, 1,
                                g_bytes_new_take (log_mean, n_classes * sizeof (float)));
    result = tvw_model_predictions_from_output (model, mean, top_k, error);
  }

out:
  classify_frames_clear (&cf, n_unique);
  return result;
}
