/* gsttvwclassify.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-tvwclassify
 * @title: tvwclassify
 *
 * Classifies video frames with a torchvision classification model run by
 * libtvw, from a weights name alone: the entry's own preprocessing
 * (resize, centre crop, mean and std, as torchvision's preset for the
 * entry), its categories and its checkpoint, downloaded into libtvw's
 * cache when it is not there yet.
 *
 * Frames pass through unchanged and are never held back: a worker thread
 * classifies one frame at a time, and frames that arrive while it is busy
 * (or before the model is loaded) pass on unclassified and are counted in
 * #GstTvwClassify:frames-skipped.  The element therefore adds no latency.
 * Frames that QoS reports as late are not classified either, so that a
 * pipeline that falls behind gets the processor back.
 *
 * Each classification is posted as an element message named
 * `tvw-classification`, with the fields `timestamp`, `stream-time`,
 * `running-time` and `duration` of the classified frame, `weights` (the
 * full name of the entry), `label` and `score` (the top class), `indices`,
 * `labels` and `scores` (arrays of the top-k classes, most likely first),
 * `processing-time` (nanoseconds in the model), and the counters
 * `frames-classified` and `frames-skipped`.  The newest result
 * also travels on every buffer that follows it as a custom meta,
 * `TvwClassificationMeta` (gst_buffer_get_custom_meta ()), with the same
 * fields.  With #GstTvwClassify:overlay the top label and its score are
 * drawn on the frames.
 *
 * Downloads post progress messages (#GST_MESSAGE_PROGRESS, code
 * `tvw-download`); a weights entry that cannot be found, downloaded or
 * loaded is an element error.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=60 ! videoconvert ! \
 *   tvwclassify weights=MobileNet_V3_Small_Weights.FASHIONMNIST_V1 ! fakesink
 * ]|
 */

#include "config.h"

#include <pango/pangocairo.h>
#include <tvw.h>

#include "gsttvwclassify.h"

GST_DEBUG_CATEGORY_STATIC (gst_tvw_classify_debug);
#define GST_CAT_DEFAULT gst_tvw_classify_debug

#define DEFAULT_TOP_K    5
#define DEFAULT_INTERVAL 1
#define DEFAULT_THREADS  0
#define DEFAULT_OFFLINE  FALSE
#define DEFAULT_OVERLAY  FALSE
#define DEFAULT_DROP     TRUE

/* One frame for the worker, already converted to RGB. */
typedef struct
{
  GdkPixbuf    *image;
  GstClockTime  timestamp;
  GstClockTime  stream_time;
  GstClockTime  running_time;
  GstClockTime  duration;
  guint         generation;
} Job;

struct _GstTvwClassify
{
  GstVideoFilter parent_instance;

  /* Properties, under the object lock. */
  char     *weights_name;
  guint     top_k;
  guint     interval;
  guint     n_threads;
  gboolean  offline;
  gboolean  overlay;
  gboolean  drop;

  /* QoS: frames before this running time are late downstream.  Under the
   * object lock. */
  GstClockTime earliest_time;

  /* Streaming thread only. */
  GstVideoConverter *converter;
  GstVideoInfo       rgb_info;
  guint64            n_frames;
  GstVideoOverlayComposition *composition;
  guint              composition_serial;
  int                composition_width;
  int                composition_height;

  /* The worker and what it shares, under lock. */
  GMutex        lock;
  GCond         cond;
  GThread      *worker;
  TvwWeights   *weights;
  TvwModel     *model;             /* loaded by start, until the worker takes it */
  GCancellable *cancellable;       /* stops the download, the load, the worker */
  GCancellable *job_cancellable;   /* the classification running now */
  Job          *pending;
  gboolean      model_ready;
  gboolean      stopping;
  gboolean      busy;              /* a frame was taken and is not done yet */
  guint         generation;        /* bumped by flushes: older frames are stale */
  guint64       n_classified;
  guint64       n_skipped;
  GstStructure *latest;            /* the newest result, for meta and overlay */
  guint         latest_serial;
};

enum
{
  PROP_0,
  PROP_WEIGHTS,
  PROP_TOP_K,
  PROP_INTERVAL,
  PROP_THREADS,
  PROP_OFFLINE,
  PROP_OVERLAY,
  PROP_DROP,
  PROP_MODEL_READY,
  PROP_FRAMES_CLASSIFIED,
  PROP_FRAMES_SKIPPED,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

/* The formats videoconvert produces that a GstVideoConverter turns into
 * 8-bit RGB; passthrough means nothing else is touched. */
#define TVW_CLASSIFY_FORMATS \
  "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, " \
  "I420, YV12, NV12, NV21, Y42B, Y444, YUY2, UYVY, YVYU, AYUV, GRAY8 }"

static GstStaticPadTemplate sink_template =
  GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                           GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (TVW_CLASSIFY_FORMATS)));
static GstStaticPadTemplate src_template =
  GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                           GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (TVW_CLASSIFY_FORMATS)));

G_DEFINE_FINAL_TYPE (GstTvwClassify, gst_tvw_classify, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE (tvwclassify, "tvwclassify", GST_RANK_NONE, GST_TYPE_TVW_CLASSIFY);

static void
job_free (Job *job)
{
  g_clear_object (&job->image);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

/* Worker */

typedef struct
{
  GstTvwClassify *self;
  int             percent;
} Progress;

static void
post_progress (GstTvwClassify  *self,
               GstProgressType  type,
               int              percent,
               const char      *text)
{
  GstMessage *message;

  message = gst_message_new_progress (GST_OBJECT (self), type, "tvw-download", text);
  if (percent >= 0)
    gst_structure_set (gst_message_writable_structure (message),
                       "percent", G_TYPE_INT, percent, NULL);
  gst_element_post_message (GST_ELEMENT (self), message);
}

static void
download_progress_cb (goffset  current,
                      goffset  total,
                      gpointer user_data)
{
  Progress *progress = user_data;
  g_autofree char *text = NULL;
  int percent;

  /* One message per percent; a server that gives no size gets one per MiB. */
  if (total > 0)
    percent = (int) CLAMP (current * 100 / total, 0, 100);
  else
    percent = (int) MIN (current >> 20, G_MAXINT);
  if (percent == progress->percent)
    return;
  progress->percent = percent;

  if (total > 0)
    text = g_strdup_printf ("Downloading %s: %d%%",
                            tvw_weights_get_full_name (progress->self->weights), percent);
  else
    text = g_strdup_printf ("Downloading %s: %d MiB",
                            tvw_weights_get_full_name (progress->self->weights), percent);
  post_progress (progress->self, GST_PROGRESS_TYPE_CONTINUE, total > 0 ? percent : -1, text);
}

/* Downloads the checkpoint when needed, with progress messages, and loads
 * the model.  Errors other than a stop are element errors. */
static TvwModel *
load_model (GstTvwClassify *self,
            GCancellable   *cancellable)
{
  TvwWeights *weights = self->weights;
  const char *name = tvw_weights_get_full_name (weights);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  gboolean offline;
  guint n_threads;

  GST_OBJECT_LOCK (self);
  offline = self->offline;
  n_threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);

  if (!tvw_weights_is_cached (weights))
    {
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      Progress progress = { self, -1 };

      if (offline)
        {
          GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                             ("The checkpoint of %s is not on this machine and “offline” is set.", name),
                             ("url %s", tvw_weights_get_url (weights)));
          return NULL;
        }

      text = g_strdup_printf ("Downloading %s from %s", name, tvw_weights_get_url (weights));
      post_progress (self, GST_PROGRESS_TYPE_START, 0, text);
      path = tvw_weights_download (weights, download_progress_cb, &progress,
                                   cancellable, &error);
      if (path == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              post_progress (self, GST_PROGRESS_TYPE_CANCELED, -1, "Download stopped");
              return NULL;
            }
          post_progress (self, GST_PROGRESS_TYPE_ERROR, -1, error->message);
          GST_ELEMENT_ERROR (self, RESOURCE, READ,
                             ("Could not download the checkpoint of %s.", name),
                             ("%s", error->message));
          return NULL;
        }
      post_progress (self, GST_PROGRESS_TYPE_COMPLETE, 100, path);
    }

  model = g_initable_new (TVW_TYPE_MODEL, cancellable, &error,
                          "weights", weights,
                          "n-threads", n_threads,
                          NULL);
  if (model == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        GST_ELEMENT_ERROR (self, LIBRARY, INIT,
                           ("Could not load the model of %s.", name),
                           ("%s", error->message));
      return NULL;
    }

  return g_steal_pointer (&model);
}

static GstStructure *
result_new (GstTvwClassify *self,
            const Job      *job,
            GListModel     *predictions,
            GstClockTime    processing_time,
            guint64         n_classified,
            guint64         n_skipped)
{
  GstStructure *s;
  GValue indices = G_VALUE_INIT;
  GValue labels = G_VALUE_INIT;
  GValue scores = G_VALUE_INIT;
  guint n = g_list_model_get_n_items (predictions);

  gst_value_array_init (&indices, n);
  gst_value_array_init (&labels, n);
  gst_value_array_init (&scores, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (predictions, i);
      GValue v = G_VALUE_INIT;
      const char *category = tvw_prediction_get_category (p);

      g_value_init (&v, G_TYPE_UINT);
      g_value_set_uint (&v, tvw_prediction_get_index (p));
      gst_value_array_append_and_take_value (&indices, &v);

      /* Weights without categories name a class by its index, as
       * `tvw classify` does. */
      g_value_init (&v, G_TYPE_STRING);
      if (category != NULL)
        g_value_set_string (&v, category);
      else
        g_value_take_string (&v, g_strdup_printf ("%u", tvw_prediction_get_index (p)));
      gst_value_array_append_and_take_value (&labels, &v);

      g_value_init (&v, G_TYPE_DOUBLE);
      g_value_set_double (&v, tvw_prediction_get_score (p));
      gst_value_array_append_and_take_value (&scores, &v);
    }

  s = gst_structure_new ("tvw-classification",
                         "timestamp", G_TYPE_UINT64, job->timestamp,
                         "stream-time", G_TYPE_UINT64, job->stream_time,
                         "running-time", G_TYPE_UINT64, job->running_time,
                         "duration", G_TYPE_UINT64, job->duration,
                         "weights", G_TYPE_STRING, tvw_weights_get_full_name (self->weights),
                         NULL);
  /* The top class also as plain fields, for bindings that cannot read
   * GstValueArray (PyGObject without gst-python). */
  if (n > 0)
    gst_structure_set (s,
                       "label", G_TYPE_STRING,
                       g_value_get_string (gst_value_array_get_value (&labels, 0)),
                       "score", G_TYPE_DOUBLE,
                       g_value_get_double (gst_value_array_get_value (&scores, 0)),
                       NULL);
  gst_structure_take_value (s, "indices", &indices);
  gst_structure_take_value (s, "labels", &labels);
  gst_structure_take_value (s, "scores", &scores);
  gst_structure_set (s,
                     "processing-time", G_TYPE_UINT64, processing_time,
                     "frames-classified", G_TYPE_UINT64, n_classified,
                     "frames-skipped", G_TYPE_UINT64, n_skipped,
                     NULL);
  return s;
}

static gpointer
worker_main (gpointer data)
{
  GstTvwClassify *self = data;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(GCancellable) cancellable = NULL;

  g_mutex_lock (&self->lock);
  cancellable = g_object_ref (self->cancellable);
  model = g_steal_pointer (&self->model);
  g_mutex_unlock (&self->lock);

  if (model == NULL)
    {
      model = load_model (self, cancellable);
      if (model == NULL)
        return NULL;

      g_mutex_lock (&self->lock);
      self->model_ready = TRUE;
      g_mutex_unlock (&self->lock);
      GST_INFO_OBJECT (self, "%s loaded", tvw_weights_get_full_name (self->weights));
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL_READY]);
    }

  for (;;)
    {
      g_autoptr(Job) job = NULL;
      g_autoptr(GCancellable) job_cancellable = g_cancellable_new ();
      g_autoptr(GListModel) predictions = NULL;
      g_autoptr(GError) error = NULL;
      GstStructure *result = NULL;
      guint top_k, n_threads;
      gint64 start;
      GstClockTime processing_time;
      gboolean posted, failed;

      g_mutex_lock (&self->lock);
      while (!self->stopping && self->pending == NULL)
        g_cond_wait (&self->cond, &self->lock);
      if (self->stopping)
        {
          g_mutex_unlock (&self->lock);
          break;
        }
      job = g_steal_pointer (&self->pending);
      g_set_object (&self->job_cancellable, job_cancellable);
      g_mutex_unlock (&self->lock);

      GST_OBJECT_LOCK (self);
      top_k = self->top_k;
      n_threads = self->n_threads;
      GST_OBJECT_UNLOCK (self);
      if (tvw_model_get_n_threads (model) != n_threads)
        tvw_model_set_n_threads (model, n_threads);

      start = g_get_monotonic_time ();
      predictions = tvw_model_classify (model, job->image, top_k, job_cancellable, &error);
      processing_time = (g_get_monotonic_time () - start) * GST_USECOND;

      /* The message and the meta are out before the frame counts as done
       * (busy): EOS waits for that. */
      g_mutex_lock (&self->lock);
      g_clear_object (&self->job_cancellable);
      posted = predictions != NULL && job->generation == self->generation;
      if (posted)
        {
          self->n_classified++;
          result = result_new (self, job, predictions, processing_time,
                               self->n_classified, self->n_skipped);
          g_clear_pointer (&self->latest, gst_structure_free);
          self->latest = gst_structure_copy (result);
          self->latest_serial++;
        }
      g_mutex_unlock (&self->lock);

      if (posted)
        gst_element_post_message (GST_ELEMENT (self),
                                  gst_message_new_element (GST_OBJECT (self), result));
      else if (predictions == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        GST_ELEMENT_ERROR (self, STREAM, FAILED,
                           ("Could not classify a frame with %s.",
                            tvw_weights_get_full_name (self->weights)),
                           ("%s", error->message));

      failed = predictions == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_mutex_lock (&self->lock);
      self->busy = FALSE;
      /* After an error nothing is classified any more: frames pass. */
      if (failed)
        self->model_ready = FALSE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);

      if (failed)
        {
          g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL_READY]);
          break;
        }
    }

  return NULL;
}

/* Asks the worker to stop what it does and wakes everything that waits
 * for it. */
static void
stop_worker_locked (GstTvwClassify *self)
{
  self->stopping = TRUE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->job_cancellable != NULL)
    g_cancellable_cancel (self->job_cancellable);
  g_cond_broadcast (&self->cond);
}

/* GstBaseTransform */

static gboolean
gst_tvw_classify_start (GstBaseTransform *trans)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (trans);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  TvwWeights *weights;

  GST_OBJECT_LOCK (self);
  name = g_strdup (self->weights_name);
  self->earliest_time = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (self);

  if (name == NULL)
    {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
                         ("No weights set: set “weights” to a name such as "
                          "MobileNet_V3_Small_Weights.FASHIONMNIST_V1."), (NULL));
      return FALSE;
    }

  weights = tvw_get_weight (name, &error);
  if (weights == NULL)
    {
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                         ("Unknown weights %s.", name), ("%s", error->message));
      return FALSE;
    }
  if (g_strcmp0 (tvw_weights_get_preset (weights), "ImageClassification") != 0)
    {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
                         ("%s are not image classification weights.", name),
                         ("preset %s", tvw_weights_get_preset (weights)));
      return FALSE;
    }

  self->n_frames = 0;

  g_mutex_lock (&self->lock);
  g_set_object (&self->weights, weights);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->stopping = FALSE;
  self->busy = FALSE;
  self->model_ready = FALSE;
  self->n_classified = 0;
  self->n_skipped = 0;
  self->generation++;
  g_mutex_unlock (&self->lock);

  /* A checkpoint on this machine is loaded now (mapped, then packed:
   * about a second for ResNet-50), so that the first frames are
   * classified.  Downloads happen on the worker, with progress messages,
   * while frames pass. */
  if (tvw_weights_is_cached (weights))
    {
      g_autoptr(TvwModel) model = load_model (self, self->cancellable);

      if (model == NULL)
        return FALSE;
      g_mutex_lock (&self->lock);
      self->model = g_steal_pointer (&model);
      self->model_ready = TRUE;
      g_mutex_unlock (&self->lock);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL_READY]);
    }

  self->worker = g_thread_new ("tvwclassify", worker_main, self);
  return TRUE;
}

static gboolean
gst_tvw_classify_stop (GstBaseTransform *trans)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (trans);
  gboolean was_ready;

  g_mutex_lock (&self->lock);
  stop_worker_locked (self);
  g_mutex_unlock (&self->lock);

  if (self->worker != NULL)
    g_thread_join (g_steal_pointer (&self->worker));

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->pending, job_free);
  g_clear_pointer (&self->latest, gst_structure_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->weights);
  g_clear_object (&self->model);
  was_ready = self->model_ready;
  self->model_ready = FALSE;
  self->busy = FALSE;
  g_mutex_unlock (&self->lock);

  g_clear_pointer (&self->converter, gst_video_converter_free);
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);

  if (was_ready)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL_READY]);
  return TRUE;
}

static gboolean
gst_tvw_classify_sink_event (GstBaseTransform *trans,
                             GstEvent         *event)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (trans);

  switch (GST_EVENT_TYPE (event))
    {
    case GST_EVENT_FLUSH_START:
      /* Results for frames from before the flush are not posted. */
      g_mutex_lock (&self->lock);
      self->generation++;
      if (self->pending != NULL)
        {
          g_clear_pointer (&self->pending, job_free);
          self->busy = FALSE;
        }
      if (self->job_cancellable != NULL)
        g_cancellable_cancel (self->job_cancellable);
      g_clear_pointer (&self->latest, gst_structure_free);
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;

    case GST_EVENT_FLUSH_STOP:
      self->n_frames = 0;
      GST_OBJECT_LOCK (self);
      self->earliest_time = GST_CLOCK_TIME_NONE;
      GST_OBJECT_UNLOCK (self);
      break;

    case GST_EVENT_EOS:
      {
        /* The frame being classified is the stream's: post its result
         * before the EOS message.  This waits for one forward pass at most,
         * and a flush or a state change ends the wait. */
        guint generation;

        g_mutex_lock (&self->lock);
        generation = self->generation;
        while (self->busy && !self->stopping && generation == self->generation)
          g_cond_wait (&self->cond, &self->lock);
        g_mutex_unlock (&self->lock);
      }
      break;

    default:
      break;
    }

  return GST_BASE_TRANSFORM_CLASS (gst_tvw_classify_parent_class)->sink_event (trans, event);
}

static gboolean
gst_tvw_classify_src_event (GstBaseTransform *trans,
                            GstEvent         *event)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS)
    {
      GstQOSType type;
      double proportion;
      GstClockTimeDiff diff;
      GstClockTime timestamp;

      gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
      GST_OBJECT_LOCK (self);
      /* As GstBaseTransform does: a late frame says the next ones will be
       * about twice as late.  (GStreamer guarantees -diff <= timestamp.) */
      if (!GST_CLOCK_TIME_IS_VALID (timestamp))
        self->earliest_time = GST_CLOCK_TIME_NONE;
      else if (diff > 0)
        self->earliest_time = timestamp + 2 * diff;
      else
        self->earliest_time = timestamp + diff;
      GST_OBJECT_UNLOCK (self);
    }

  return GST_BASE_TRANSFORM_CLASS (gst_tvw_classify_parent_class)->src_event (trans, event);
}

/* The result travels downstream on the buffers that follow it.  In
 * passthrough the buffer is upstream's: making it writable shares its
 * memory, so the pixels are not copied. */
static GstFlowReturn
gst_tvw_classify_generate_output (GstBaseTransform  *trans,
                                  GstBuffer        **outbuf)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (trans);
  GstFlowReturn ret;
  GstStructure *latest = NULL;

  ret = GST_BASE_TRANSFORM_CLASS (gst_tvw_classify_parent_class)->generate_output (trans, outbuf);
  if (ret != GST_FLOW_OK || *outbuf == NULL)
    return ret;

  g_mutex_lock (&self->lock);
  if (self->latest != NULL)
    latest = gst_structure_copy (self->latest);
  g_mutex_unlock (&self->lock);

  if (latest != NULL)
    {
      GstCustomMeta *meta;
      GstStructure *s;
      guint n = gst_structure_n_fields (latest);

      *outbuf = gst_buffer_make_writable (*outbuf);
      meta = gst_buffer_add_custom_meta (*outbuf, GST_TVW_CLASSIFICATION_META_NAME);
      s = gst_custom_meta_get_structure (meta);
      for (guint i = 0; i < n; i++)
        {
          const char *field = gst_structure_nth_field_name (latest, i);

          gst_structure_set_value (s, field, gst_structure_get_value (latest, field));
        }
      gst_structure_free (latest);
    }

  return GST_FLOW_OK;
}

/* GstVideoFilter */

static gboolean
gst_tvw_classify_set_info (GstVideoFilter *filter,
                           GstCaps        *incaps,
                           GstVideoInfo   *in_info,
                           GstCaps        *outcaps,
                           GstVideoInfo   *out_info)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (filter);
  GstVideoInfo rgb;

  /* The converter changes neither frame rate nor interlacing. */
  gst_video_info_set_interlaced_format (&rgb, GST_VIDEO_FORMAT_RGB,
                                        GST_VIDEO_INFO_INTERLACE_MODE (in_info),
                                        GST_VIDEO_INFO_WIDTH (in_info),
                                        GST_VIDEO_INFO_HEIGHT (in_info));
  GST_VIDEO_INFO_FPS_N (&rgb) = GST_VIDEO_INFO_FPS_N (in_info);
  GST_VIDEO_INFO_FPS_D (&rgb) = GST_VIDEO_INFO_FPS_D (in_info);
  GST_VIDEO_INFO_PAR_N (&rgb) = GST_VIDEO_INFO_PAR_N (in_info);
  GST_VIDEO_INFO_PAR_D (&rgb) = GST_VIDEO_INFO_PAR_D (in_info);
  /* RGB input is copied as it is, whatever colorimetry it claims. */
  if (GST_VIDEO_INFO_IS_RGB (in_info))
    {
      rgb.colorimetry = in_info->colorimetry;
      rgb.colorimetry.matrix = GST_VIDEO_COLOR_MATRIX_RGB;
    }

  g_clear_pointer (&self->converter, gst_video_converter_free);
  self->converter =
    gst_video_converter_new (in_info, &rgb,
                             gst_structure_new ("GstVideoConverter",
                                                GST_VIDEO_CONVERTER_OPT_DITHER_METHOD,
                                                GST_TYPE_VIDEO_DITHER_METHOD,
                                                GST_VIDEO_DITHER_NONE,
                                                NULL));
  if (self->converter == NULL)
    {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
                         ("Cannot convert %" GST_PTR_FORMAT " to RGB.", incaps), (NULL));
      return FALSE;
    }
  self->rgb_info = rgb;
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  return TRUE;
}

static void
free_pixels (guchar   *pixels,
             gpointer  data)
{
  g_free (pixels);
}

/* The frame as the 8-bit RGB image torchvision's presets start from. */
static GdkPixbuf *
frame_to_pixbuf (GstTvwClassify *self,
                 GstVideoFrame  *frame)
{
  const GstVideoInfo *info = &self->rgb_info;
  gsize size = GST_VIDEO_INFO_SIZE (info);
  guint8 *pixels = g_malloc (size);
  g_autoptr(GstBuffer) buffer = gst_buffer_new_wrapped_full (0, pixels, size, 0, size, NULL, NULL);
  GstVideoFrame rgb;

  if (!gst_video_frame_map (&rgb, info, buffer, GST_MAP_WRITE))
    {
      g_free (pixels);
      return NULL;
    }
  gst_video_converter_frame (self->converter, frame, &rgb);
  gst_video_frame_unmap (&rgb);

  return gdk_pixbuf_new_from_data (pixels, GDK_COLORSPACE_RGB, FALSE, 8,
                                   GST_VIDEO_INFO_WIDTH (info),
                                   GST_VIDEO_INFO_HEIGHT (info),
                                   GST_VIDEO_INFO_PLANE_STRIDE (info, 0),
                                   free_pixels, NULL);
}

static void
submit_frame (GstTvwClassify *self,
              GstVideoFrame  *frame,
              GstClockTime    earliest_time,
              gboolean        drop)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  GstBuffer *buffer = frame->buffer;
  GstClockTime timestamp = GST_BUFFER_PTS (buffer);
  GstClockTime running_time;
  guint generation;
  Job *job;

  running_time = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, timestamp);

  g_mutex_lock (&self->lock);
  /* Without dropping, wait for the worker, unless a flush or a state
   * change comes first. */
  generation = self->generation;
  while (!drop && self->model_ready && self->busy &&
         !self->stopping && generation == self->generation)
    g_cond_wait (&self->cond, &self->lock);

  if (self->stopping || !self->model_ready || self->busy ||
      generation != self->generation ||
      (GST_CLOCK_TIME_IS_VALID (earliest_time) && GST_CLOCK_TIME_IS_VALID (running_time) &&
       running_time <= earliest_time))
    {
      self->n_skipped++;
      g_mutex_unlock (&self->lock);
      GST_LOG_OBJECT (self, "frame %" GST_TIME_FORMAT " passes unclassified",
                      GST_TIME_ARGS (timestamp));
      return;
    }
  self->busy = TRUE;
  g_mutex_unlock (&self->lock);

  job = g_new0 (Job, 1);
  job->image = frame_to_pixbuf (self, frame);
  job->timestamp = timestamp;
  job->running_time = running_time;
  job->stream_time = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, timestamp);
  job->duration = GST_BUFFER_DURATION (buffer);
  job->generation = generation;

  g_mutex_lock (&self->lock);
  if (job->image == NULL)
    {
      self->busy = FALSE;
      self->n_skipped++;
      g_clear_pointer (&job, job_free);
    }
  else
    {
      g_clear_pointer (&self->pending, job_free);
      self->pending = job;
    }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* The top label and score, white on a dark band in the top left corner,
 * sized for the frame. */
static GstVideoOverlayComposition *
composition_new (const GstStructure *result,
                 int                 frame_width,
                 int                 frame_height)
{
  const GValue *labels = gst_structure_get_value (result, "labels");
  const GValue *scores = gst_structure_get_value (result, "scores");
  g_autofree char *text = NULL;
  g_autoptr(PangoFontDescription) font = NULL;
  PangoLayout *layout;
  cairo_surface_t *surface;
  cairo_t *cr;
  PangoRectangle extent;
  GstBuffer *buffer;
  GstVideoOverlayRectangle *rectangle;
  GstVideoOverlayComposition *composition;
  int pad, width, height;

  if (gst_value_array_get_size (labels) == 0)
    return NULL;
  text = g_strdup_printf ("%s %.1f%%",
                          g_value_get_string (gst_value_array_get_value (labels, 0)),
                          100 * g_value_get_double (gst_value_array_get_value (scores, 0)));

  /* Measure on a scratch surface, then draw on one of the text's size. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (surface);
  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (font, MAX (8, frame_height / 20) * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_extents (layout, NULL, &extent);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  pad = MAX (2, frame_height / 80);
  width = MIN (extent.width + 2 * pad, frame_width);
  height = MIN (extent.height + 2 * pad, frame_height);
  if (width <= 0 || height <= 0)
    {
      g_object_unref (layout);
      return NULL;
    }

  buffer = gst_buffer_new_allocate (NULL, (gsize) width * height * 4, NULL);
  gst_buffer_add_video_meta (buffer, GST_VIDEO_FRAME_FLAG_NONE,
                             GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width, height);
  {
    GstMapInfo map;

    gst_buffer_map (buffer, &map, GST_MAP_WRITE);
    surface = cairo_image_surface_create_for_data (map.data, CAIRO_FORMAT_ARGB32,
                                                   width, height, width * 4);
    cr = cairo_create (surface);
    /* SOURCE: the new buffer's bytes are not read. */
    cairo_set_operator (cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
    cairo_paint (cr);
    cairo_set_operator (cr, CAIRO_OPERATOR_OVER);
    cairo_move_to (cr, pad - extent.x, pad - extent.y);
    cairo_set_source_rgb (cr, 1, 1, 1);
    pango_cairo_update_layout (cr, layout);
    pango_cairo_show_layout (cr, layout);
    cairo_destroy (cr);
    cairo_surface_destroy (surface);
    gst_buffer_unmap (buffer, &map);
  }
  g_object_unref (layout);

  rectangle = gst_video_overlay_rectangle_new_raw (buffer, 0, 0, width, height,
                                                   GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA);
  gst_buffer_unref (buffer);
  composition = gst_video_overlay_composition_new (rectangle);
  gst_video_overlay_rectangle_unref (rectangle);
  return composition;
}

static void
draw_overlay (GstTvwClassify *self,
              GstVideoFrame  *frame)
{
  GstStructure *latest = NULL;
  guint serial;

  g_mutex_lock (&self->lock);
  serial = self->latest_serial;
  if (self->latest != NULL &&
      (self->composition == NULL || serial != self->composition_serial ||
       self->composition_width != GST_VIDEO_FRAME_WIDTH (frame) ||
       self->composition_height != GST_VIDEO_FRAME_HEIGHT (frame)))
    latest = gst_structure_copy (self->latest);
  else if (self->latest == NULL)
    g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  g_mutex_unlock (&self->lock);

  if (latest != NULL)
    {
      g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
      self->composition = composition_new (latest, GST_VIDEO_FRAME_WIDTH (frame),
                                           GST_VIDEO_FRAME_HEIGHT (frame));
      self->composition_serial = serial;
      self->composition_width = GST_VIDEO_FRAME_WIDTH (frame);
      self->composition_height = GST_VIDEO_FRAME_HEIGHT (frame);
      gst_structure_free (latest);
    }

  if (self->composition != NULL)
    gst_video_overlay_composition_blend (self->composition, frame);
}

static GstFlowReturn
gst_tvw_classify_transform_frame_ip (GstVideoFilter *filter,
                                     GstVideoFrame  *frame)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (filter);
  GstClockTime earliest_time;
  guint interval;
  gboolean overlay, drop;

  GST_OBJECT_LOCK (self);
  interval = self->interval;
  overlay = self->overlay;
  drop = self->drop;
  earliest_time = self->earliest_time;
  GST_OBJECT_UNLOCK (self);

  if (self->n_frames++ % interval == 0)
    submit_frame (self, frame, earliest_time, drop);

  /* The passthrough flag follows the overlay property; a frame mapped
   * read-only (the switch happens on the next buffer) is not drawn on. */
  if (overlay && !gst_base_transform_is_passthrough (GST_BASE_TRANSFORM (self)))
    draw_overlay (self, frame);

  return GST_FLOW_OK;
}

/* GstElement */

static GstStateChangeReturn
gst_tvw_classify_change_state (GstElement     *element,
                               GstStateChange  transition)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (element);

  /* Stop the worker's work before the pads are deactivated: a streaming
   * thread that waits for it (EOS, drop=false) then returns at once. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    {
      g_mutex_lock (&self->lock);
      stop_worker_locked (self);
      g_mutex_unlock (&self->lock);
    }

  return GST_ELEMENT_CLASS (gst_tvw_classify_parent_class)->change_state (element, transition);
}

/* GObject */

static void
gst_tvw_classify_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
    case PROP_WEIGHTS:
      g_free (self->weights_name);
      self->weights_name = g_value_dup_string (value);
      break;

    case PROP_TOP_K:
      self->top_k = g_value_get_uint (value);
      break;

    case PROP_INTERVAL:
      self->interval = g_value_get_uint (value);
      break;

    case PROP_THREADS:
      self->n_threads = g_value_get_uint (value);
      break;

    case PROP_OFFLINE:
      self->offline = g_value_get_boolean (value);
      break;

    case PROP_OVERLAY:
      self->overlay = g_value_get_boolean (value);
      break;

    case PROP_DROP:
      self->drop = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  GST_OBJECT_UNLOCK (self);

  /* Drawing needs writable frames; otherwise the buffers are upstream's. */
  if (prop_id == PROP_OVERLAY)
    gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), !g_value_get_boolean (value));
}

static void
gst_tvw_classify_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (object);

  switch (prop_id)
    {
    case PROP_MODEL_READY:
      g_mutex_lock (&self->lock);
      g_value_set_boolean (value, self->model_ready);
      g_mutex_unlock (&self->lock);
      return;

    case PROP_FRAMES_CLASSIFIED:
      g_mutex_lock (&self->lock);
      g_value_set_uint64 (value, self->n_classified);
      g_mutex_unlock (&self->lock);
      return;

    case PROP_FRAMES_SKIPPED:
      g_mutex_lock (&self->lock);
      g_value_set_uint64 (value, self->n_skipped);
      g_mutex_unlock (&self->lock);
      return;

    default:
      break;
    }

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
    case PROP_WEIGHTS:
      g_value_set_string (value, self->weights_name);
      break;

    case PROP_TOP_K:
      g_value_set_uint (value, self->top_k);
      break;

    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;

    case PROP_THREADS:
      g_value_set_uint (value, self->n_threads);
      break;

    case PROP_OFFLINE:
      g_value_set_boolean (value, self->offline);
      break;

    case PROP_OVERLAY:
      g_value_set_boolean (value, self->overlay);
      break;

    case PROP_DROP:
      g_value_set_boolean (value, self->drop);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tvw_classify_finalize (GObject *object)
{
  GstTvwClassify *self = GST_TVW_CLASSIFY (object);

  g_free (self->weights_name);
  g_clear_pointer (&self->converter, gst_video_converter_free);
  g_clear_pointer (&self->composition, gst_video_overlay_composition_unref);
  g_clear_pointer (&self->pending, job_free);
  g_clear_pointer (&self->latest, gst_structure_free);
  g_clear_object (&self->weights);
  g_clear_object (&self->model);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (gst_tvw_classify_parent_class)->finalize (object);
}

static void
gst_tvw_classify_class_init (GstTvwClassifyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);
  static const char *meta_tags[] = { NULL };

  GST_DEBUG_CATEGORY_INIT (gst_tvw_classify_debug, "tvwclassify", 0,
                           "libtvw image classification");
  gst_meta_register_custom (GST_TVW_CLASSIFICATION_META_NAME, meta_tags, NULL, NULL, NULL);

  object_class->set_property = gst_tvw_classify_set_property;
  object_class->get_property = gst_tvw_classify_get_property;
  object_class->finalize = gst_tvw_classify_finalize;

  props[PROP_WEIGHTS] =
    g_param_spec_string ("weights", "Weights",
                         "Full name of the weights entry, built in or from a weights card "
                         "(e.g. ResNet50_Weights.DEFAULT); read when the element starts",
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_TOP_K] =
    g_param_spec_uint ("top-k", "Top k",
                       "How many classes each result lists, most likely first",
                       1, 1000, DEFAULT_TOP_K,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_INTERVAL] =
    g_param_spec_uint ("interval", "Interval",
                       "Classify every N-th frame (counted from the start and from each flush)",
                       1, G_MAXUINT, DEFAULT_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_THREADS] =
    g_param_spec_uint ("threads", "Threads",
                       "Threads of one forward pass (0: one per processor)",
                       0, 1024, DEFAULT_THREADS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_OFFLINE] =
    g_param_spec_boolean ("offline", "Offline",
                          "Never download: weights that are not on this machine are an error",
                          DEFAULT_OFFLINE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  props[PROP_OVERLAY] =
    g_param_spec_boolean ("overlay", "Overlay",
                          "Draw the newest top label and score on the frames "
                          "(then frames are written to instead of passed through)",
                          DEFAULT_OVERLAY,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_DROP] =
    g_param_spec_boolean ("drop", "Drop",
                          "Let frames pass unclassified while the classifier is busy; "
                          "false makes each frame due wait for it (files, not live sources)",
                          DEFAULT_DROP,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  props[PROP_MODEL_READY] =
    g_param_spec_boolean ("model-ready", "Model ready",
                          "Whether the weights are downloaded and loaded (notified when they are)",
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_FRAMES_CLASSIFIED] =
    g_param_spec_uint64 ("frames-classified", "Frames classified",
                         "Frames classified since the element started",
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_FRAMES_SKIPPED] =
    g_param_spec_uint64 ("frames-skipped", "Frames skipped",
                         "Frames due for classification (see interval) that passed unclassified "
                         "since the element started: the model was loading or busy, or QoS said "
                         "they were late",
                         0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gst_element_class_set_static_metadata (element_class,
                                         "libtvw image classifier",
                                         "Filter/Analyzer/Video",
                                         "Classifies video frames with a torchvision model and "
                                         "weights (libtvw), posting the top classes as messages",
                                         "libtvw developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  element_class->change_state = gst_tvw_classify_change_state;

  trans_class->start = gst_tvw_classify_start;
  trans_class->stop = gst_tvw_classify_stop;
  trans_class->sink_event = gst_tvw_classify_sink_event;
  trans_class->src_event = gst_tvw_classify_src_event;
  trans_class->generate_output = gst_tvw_classify_generate_output;

  filter_class->set_info = gst_tvw_classify_set_info;
  filter_class->transform_frame_ip = gst_tvw_classify_transform_frame_ip;
}

static void
gst_tvw_classify_init (GstTvwClassify *self)
{
  self->top_k = DEFAULT_TOP_K;
  self->interval = DEFAULT_INTERVAL;
  self->n_threads = DEFAULT_THREADS;
  self->offline = DEFAULT_OFFLINE;
  self->overlay = DEFAULT_OVERLAY;
  self->drop = DEFAULT_DROP;
  self->earliest_time = GST_CLOCK_TIME_NONE;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);

  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  /* Frames are never dropped here (GstVideoFilter would drop late ones):
   * the sink decides.  QoS events make the element skip classifying late
   * frames instead, see src_event. */
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}
