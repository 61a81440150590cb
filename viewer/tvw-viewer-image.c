/* tvw-viewer-image.c — one image on screen: its thumbnail, the crop the
 * model sees and its predictions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything slow (reading, decoding, preprocessing, the forward pass) runs
 * in a worker thread of tvw_viewer_image_process_async(); the object itself
 * only changes on the main thread, when the work is finished.
 */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tvw-viewer-detection.h"
#include "tvw-viewer-flow.h"
#include "tvw-viewer-image.h"
#include "tvw-viewer-enums.h"
#include "tvw-viewer-util.h"

/* Thumbnails are decoded at most this large, and tiny images (Fashion-MNIST
 * is 28×28) are enlarged with square pixels at least to this size. */
#define THUMBNAIL_SIZE 256
#define MIN_DISPLAY_SIZE 128
#define READ_CHUNK (64 * 1024)

struct _TvwViewerImage
{
  GObject              parent_instance;

  guint                id;
  GFile               *file;
  GdkPixbuf           *source;      /* pasted images only */
  char                *title;
  char                *details;
  GdkTexture          *thumbnail;
  GdkTexture          *crop;
  GListModel          *predictions;
  TvwSegmentation     *segmentation;
  TvwDetection        *detection;
  GdkPixbuf           *pixels;      /* what segmentation or detection is of */
  char                *message;
  char                *weights_name;
  TvwViewerImageState  state;
  guint                readable : 1;
  guint                waiting_busy : 1;
  guint                video : 1;
  guint                flow_task : 1;

  /* Optical flow: the image before this one (the first frame), whether
   * one comes after it, and the flow from the first frame to this one. */
  TvwViewerImage      *flow_previous;
  guint                flow_followed : 1;
  GdkTexture          *flow;
  GdkTexture          *flow_first_frame;
  char                *flow_first_title;
  char                *flow_summary;
  double               flow_mean;
  double               flow_longest;
};

G_DEFINE_FINAL_TYPE (TvwViewerImage, tvw_viewer_image, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILE,
  PROP_TITLE,
  PROP_DETAILS,
  PROP_THUMBNAIL,
  PROP_CROP,
  PROP_PREDICTIONS,
  PROP_SEGMENTATION,
  PROP_DETECTION,
  PROP_FLOW,
  PROP_STATE,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
tvw_viewer_image_finalize (GObject *object)
{
  TvwViewerImage *self = (TvwViewerImage *)object;

  g_clear_object (&self->file);
  g_clear_object (&self->source);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->details, g_free);
  g_clear_object (&self->thumbnail);
  g_clear_object (&self->crop);
  g_clear_object (&self->predictions);
  g_clear_object (&self->segmentation);
  g_clear_object (&self->detection);
  g_clear_object (&self->pixels);
  g_clear_pointer (&self->message, g_free);
  g_clear_pointer (&self->weights_name, g_free);
  g_clear_object (&self->flow_previous);
  g_clear_object (&self->flow);
  g_clear_object (&self->flow_first_frame);
  g_clear_pointer (&self->flow_first_title, g_free);
  g_clear_pointer (&self->flow_summary, g_free);

  G_OBJECT_CLASS (tvw_viewer_image_parent_class)->finalize (object);
}

static void
tvw_viewer_image_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TvwViewerImage *self = TVW_VIEWER_IMAGE (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;

    case PROP_DETAILS:
      g_value_set_string (value, self->details);
      break;

    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;

    case PROP_CROP:
      g_value_set_object (value, self->crop);
      break;

    case PROP_PREDICTIONS:
      g_value_set_object (value, self->predictions);
      break;

    case PROP_SEGMENTATION:
      g_value_set_object (value, self->segmentation);
      break;

    case PROP_DETECTION:
      g_value_set_object (value, self->detection);
      break;

    case PROP_FLOW:
      g_value_set_object (value, self->flow);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tvw_viewer_image_class_init (TvwViewerImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tvw_viewer_image_finalize;
  object_class->get_property = tvw_viewer_image_get_property;

  props[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL,
                         G_TYPE_FILE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_DETAILS] =
    g_param_spec_string ("details", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL,
                         GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_CROP] =
    g_param_spec_object ("crop", NULL, NULL,
                         GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_PREDICTIONS] =
    g_param_spec_object ("predictions", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_SEGMENTATION] =
    g_param_spec_object ("segmentation", NULL, NULL,
                         TVW_TYPE_SEGMENTATION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_DETECTION] =
    g_param_spec_object ("detection", NULL, NULL,
                         TVW_TYPE_DETECTION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_FLOW] =
    g_param_spec_object ("flow", NULL, NULL,
                         GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       TVW_TYPE_VIEWER_IMAGE_STATE,
                       TVW_VIEWER_IMAGE_STATE_LOADING,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
tvw_viewer_image_init (TvwViewerImage *self)
{
  static guint last_id;

  self->id = ++last_id;
  self->state = TVW_VIEWER_IMAGE_STATE_LOADING;
}

TvwViewerImage *
tvw_viewer_image_new_for_file (GFile *file)
{
  TvwViewerImage *self;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  self = g_object_new (TVW_VIEWER_TYPE_IMAGE, NULL);
  self->file = g_object_ref (file);
  self->title = g_file_get_basename (file);
  if (self->title != NULL)
    {
      g_autofree char *content_type = g_content_type_guess (self->title, NULL, 0, NULL);

      /* Until the file is read, its name says. */
      self->video = g_content_type_is_a (content_type, "video/*");
    }
  if (self->title == NULL || !g_utf8_validate (self->title, -1, NULL))
    {
      g_free (self->title);
      self->title = g_file_get_parse_name (file);
    }

  return self;
}

TvwViewerImage *
tvw_viewer_image_new_for_texture (GdkTexture *texture,
                                  const char *title)
{
  TvwViewerImage *self;

  g_return_val_if_fail (GDK_IS_TEXTURE (texture), NULL);

  self = g_object_new (TVW_VIEWER_TYPE_IMAGE, NULL);
  self->source = gdk_pixbuf_get_from_texture (texture);
  self->title = g_strdup (title);

  return self;
}

guint
tvw_viewer_image_get_id (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), 0);

  return self->id;
}

GFile *
tvw_viewer_image_get_file (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->file;
}

const char *
tvw_viewer_image_get_title (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->title;
}

const char *
tvw_viewer_image_get_details (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->details;
}

GdkTexture *
tvw_viewer_image_get_thumbnail (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->thumbnail;
}

GdkTexture *
tvw_viewer_image_get_crop (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->crop;
}

GListModel *
tvw_viewer_image_get_predictions (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->predictions;
}

TvwViewerImageState
tvw_viewer_image_get_state (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), 0);

  return self->state;
}

const char *
tvw_viewer_image_get_message (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->message;
}

/* The weights the predictions come from. */
const char *
tvw_viewer_image_get_weights_name (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->weights_name;
}

/* Whether the image was read (and so can be classified). */
/* The segmentation, for weights of a segmentation model: then the
 * predictions are the classes present, scored by their share of the
 * pixels. */
TvwSegmentation *
tvw_viewer_image_get_segmentation (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->segmentation;
}

/* The objects found, for weights of a detection model: then the
 * predictions are the most confident objects. */
TvwDetection *
tvw_viewer_image_get_detection (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->detection;
}

/* The pixels the segmentation or detection is of (EXIF orientation not
 * applied, as the model saw them). */
GdkPixbuf *
tvw_viewer_image_get_model_pixbuf (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->pixels;
}

/* Whether the file is a video (by its name until it is read). */
gboolean
tvw_viewer_image_is_video (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);

  return self->video;
}

/* Whether the image is run through an optical flow model (or was last):
 * its results are a flow, with no model input of its own to show. */
gboolean
tvw_viewer_image_is_flow_task (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);

  return self->flow_task;
}

/* Optical flow pairs images: @previous is the first frame of this one's
 * flow (%NULL when this image is a first frame or a video), @followed
 * whether another image comes after it.  Returns whether that changed. */
gboolean
tvw_viewer_image_set_flow_pair (TvwViewerImage *self,
                                TvwViewerImage *previous,
                                gboolean        followed)
{
  gboolean changed;

  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);
  g_return_val_if_fail (previous == NULL || TVW_VIEWER_IS_IMAGE (previous), FALSE);

  followed = !!followed;
  changed = g_set_object (&self->flow_previous, previous);
  changed |= self->flow_followed != (guint) followed;
  self->flow_followed = followed;

  return changed;
}

/* The optical flow from the first frame to this image (or from a video's
 * first frame to its second), in torchvision's flow_to_image colours at
 * the size the model saw. */
GdkTexture *
tvw_viewer_image_get_flow (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->flow;
}

GdkTexture *
tvw_viewer_image_get_flow_first_frame (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->flow_first_frame;
}

const char *
tvw_viewer_image_get_flow_first_title (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->flow_first_title;
}

const char *
tvw_viewer_image_get_flow_summary (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), NULL);

  return self->flow_summary;
}

/* The mean and largest displacement, in pixels of the model's input. */
void
tvw_viewer_image_get_flow_stats (TvwViewerImage *self,
                                 double         *mean,
                                 double         *longest)
{
  g_return_if_fail (TVW_VIEWER_IS_IMAGE (self));

  *mean = self->flow_mean;
  *longest = self->flow_longest;
}

gboolean
tvw_viewer_image_is_readable (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);

  return self->readable;
}

/* Whether nothing is happening to the image. */
gboolean
tvw_viewer_image_is_settled (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);

  return self->state != TVW_VIEWER_IMAGE_STATE_LOADING &&
         self->state != TVW_VIEWER_IMAGE_STATE_CLASSIFYING;
}

static void
set_state (TvwViewerImage      *self,
           TvwViewerImageState  state,
           const char          *message)
{
  if (g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MESSAGE]);
    }

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
}

static void
set_texture (TvwViewerImage  *self,
             GdkTexture     **field,
             GdkPixbuf       *pixbuf,
             GParamSpec      *pspec)
{
  g_autoptr(GdkTexture) texture = pixbuf != NULL ? gdk_texture_new_for_pixbuf (pixbuf) : NULL;

  if (*field == NULL && texture == NULL)
    return;

  g_set_object (field, texture);
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

static void
set_results (TvwViewerImage  *self,
             TvwSegmentation *segmentation,
             TvwDetection    *detection,
             GdkPixbuf       *pixels)
{
  g_set_object (&self->pixels, pixels);
  if (g_set_object (&self->segmentation, segmentation))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SEGMENTATION]);
  if (g_set_object (&self->detection, detection))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DETECTION]);
}

static void
set_flow (TvwViewerImage      *self,
          TvwViewerFlowResult *result,
          GdkPixbuf           *first_frame,
          const char          *first_title)
{
  g_autoptr(GdkTexture) first = first_frame != NULL ? gdk_texture_new_for_pixbuf (first_frame) : NULL;
  g_autoptr(GdkTexture) flow = result != NULL ? gdk_texture_new_for_pixbuf (result->image) : NULL;

  if (self->flow == NULL && flow == NULL)
    return;

  g_set_object (&self->flow_first_frame, first);
  g_free (self->flow_first_title);
  self->flow_first_title = g_strdup (first_title);
  g_free (self->flow_summary);
  self->flow_summary = result != NULL ? tvw_viewer_flow_describe (result->mean, result->longest,
                                                                  result->width, result->height,
                                                                  result->scaled)
                                      : NULL;
  self->flow_mean = result != NULL ? result->mean : 0.0;
  self->flow_longest = result != NULL ? result->longest : 0.0;
  g_set_object (&self->flow, flow);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FLOW]);
}

static void
set_predictions (TvwViewerImage *self,
                 GListModel     *predictions,
                 const char     *weights_name)
{
  g_free (self->weights_name);
  self->weights_name = g_strdup (weights_name);

  if (predictions == NULL)
    {
      set_results (self, NULL, NULL, NULL);
      set_flow (self, NULL, NULL, NULL);
    }
  if (g_set_object (&self->predictions, predictions))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PREDICTIONS]);
}

/* Drops the results of other weights: there are none that can run now.
 * @busy says whether something is under way (a download, loading) or the
 * user has to act. */
void
tvw_viewer_image_set_waiting (TvwViewerImage *self,
                              const char     *message,
                              gboolean        busy)
{
  g_return_if_fail (TVW_VIEWER_IS_IMAGE (self));

  if (!self->readable)
    return;

  self->waiting_busy = !!busy;

  set_texture (self, &self->crop, NULL, props[PROP_CROP]);
  set_predictions (self, NULL, NULL);
  set_state (self, TVW_VIEWER_IMAGE_STATE_WAITING, message);
}

gboolean
tvw_viewer_image_is_waiting_busy (TvwViewerImage *self)
{
  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);

  return self->state == TVW_VIEWER_IMAGE_STATE_WAITING && self->waiting_busy;
}

/* The worker thread's side. */

typedef struct
{
  /* In. */
  GFile        *file;
  GdkPixbuf    *source;
  TvwModel     *model;
  TvwWeights   *weights;
  gboolean      need_thumbnail;
  gboolean      is_video;         /* also out, once read */
  GFile        *first_file;       /* optical flow's first frame */
  GdkPixbuf    *first_source;
  char         *first_title;
  gboolean      followed;

  /* Out. */
  GdkPixbuf    *thumbnail;
  char         *details;
  GdkPixbuf    *crop;
  GListModel   *predictions;
  TvwSegmentation *segmentation;
  TvwDetection *detection;
  GdkPixbuf    *pixels;
  GError       *read_error;
  GError       *classify_error;
  TvwViewerFlowResult *flow;
  GdkPixbuf    *flow_first_frame;
  gboolean      flow_waiting;     /* a first frame, waiting for a second */
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_clear_object (&job->file);
  g_clear_object (&job->source);
  g_clear_object (&job->model);
  g_clear_object (&job->weights);
  g_clear_object (&job->thumbnail);
  g_clear_pointer (&job->details, g_free);
  g_clear_object (&job->crop);
  g_clear_object (&job->predictions);
  g_clear_object (&job->segmentation);
  g_clear_object (&job->detection);
  g_clear_object (&job->pixels);
  g_clear_error (&job->read_error);
  g_clear_error (&job->classify_error);
  g_clear_object (&job->first_file);
  g_clear_object (&job->first_source);
  g_clear_pointer (&job->first_title, g_free);
  g_clear_pointer (&job->flow, tvw_viewer_flow_result_free);
  g_clear_object (&job->flow_first_frame);
  g_free (job);
}

typedef struct
{
  int      width;
  int      height;
  gboolean too_large;
} SizeInfo;

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  SizeInfo        *info)
{
  info->width = width;
  info->height = height;

  if (width <= 0 || height <= 0 ||
      (gint64) width * height > TVW_TRANSFORM_MAX_IMAGE_PIXELS)
    {
      /* A zero size makes the loader stop before it allocates anything. */
      info->too_large = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }

  if (width > THUMBNAIL_SIZE || height > THUMBNAIL_SIZE)
    {
      double scale = (double) THUMBNAIL_SIZE / MAX (width, height);

      gdk_pixbuf_loader_set_size (loader,
                                  MAX (1, (int) (width * scale + 0.5)),
                                  MAX (1, (int) (height * scale + 0.5)));
    }
}

/* Tiny images are enlarged with square pixels, so that they stay sharp. */
static GdkPixbuf *
enlarge_small (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int factor;

  if (MAX (width, height) >= MIN_DISPLAY_SIZE)
    return g_object_ref (pixbuf);

  factor = MAX (1, MIN_DISPLAY_SIZE / MAX (width, height));
  if (factor == 1)
    return g_object_ref (pixbuf);

  return gdk_pixbuf_scale_simple (pixbuf, width * factor, height * factor, GDK_INTERP_NEAREST);
}

/* @pixbuf at the size of a thumbnail. */
static GdkPixbuf *
thumbnail_of (GdkPixbuf *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  double scale = MIN (1.0, (double) THUMBNAIL_SIZE / MAX (width, height));
  g_autoptr(GdkPixbuf) scaled = NULL;

  scaled = gdk_pixbuf_scale_simple (pixbuf,
                                    MAX (1, (int) (width * scale + 0.5)),
                                    MAX (1, (int) (height * scale + 0.5)),
                                    GDK_INTERP_BILINEAR);
  return enlarge_small (scaled);
}

static char *
describe_content_type (GFileInfo *info)
{
  const char *content_type = info != NULL ? g_file_info_get_content_type (info) : NULL;

  if (content_type == NULL)
    return NULL;

  return g_content_type_get_description (content_type);
}

/* The first frame of a video, as libtvw's GStreamer reader decodes it. */
static GdkPixbuf *
read_poster (GFile         *file,
             GCancellable  *cancellable,
             GError       **error)
{
  static const gint64 first[1] = { 0 };
  g_autoptr(TvwTensor) frames = NULL;

  frames = tvw_video_read_frames (file, first, 1, cancellable, error);
  if (frames == NULL)
    return NULL;

  return tvw_viewer_frame_to_pixbuf (frames, 0, error);
}

/* A video's poster frame as its thumbnail, and its size and length. */
static gboolean
read_video_thumbnail (Job           *job,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GdkPixbuf) poster = read_poster (job->file, cancellable, error);
  guint width, height;
  gint64 n_frames;
  double fps;

  if (poster == NULL)
    return FALSE;

  job->is_video = TRUE;
  job->thumbnail = thumbnail_of (poster);
  if (tvw_video_get_info (job->file, &width, &height, &fps, &n_frames, cancellable, NULL) && fps > 0)
    /* Translators: a video’s size in pixels and its length, e.g. “640 × 480 · video, 2.5 s” */
    job->details = g_strdup_printf (_("%u × %u · video, %.1f s"), width, height, n_frames / fps);
  else
    /* Translators: a video’s size in pixels */
    job->details = g_strdup_printf (_("%d × %d · video"), gdk_pixbuf_get_width (poster),
                                    gdk_pixbuf_get_height (poster));

  return TRUE;
}

static gboolean
check_decodable (GFile         *file,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(TvwTransform) probe = NULL;
  g_autoptr(GdkPixbuf) pixels = NULL;
  g_autoptr(GError) local_error = NULL;

  probe = g_object_new (TVW_TYPE_TRANSFORM,
                        "preset", TVW_PRESET_IMAGE_CLASSIFICATION,
                        "resize-size", 8,
                        "crop-size", 8,
                        "interpolation", TVW_INTERPOLATION_NEAREST,
                        "antialias", FALSE,
                        NULL);
  pixels = tvw_transform_apply_file_crop (probe, file, cancellable, &local_error);
  if (pixels != NULL)
    return TRUE;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* libtvw's own message (untranslated, technical) goes to the debug log;
   * the row says it in the user's language. */
  g_debug ("%s", local_error->message);
  g_set_error_literal (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                       _("The image is damaged: its data is cut short or corrupt"));
  return FALSE;
}

/* A file that cannot be read, in a sentence without GIO's own (which
 * repeats the path the row already shows). */
static void
set_read_error (GError      **error,
                const GError *io_error)
{
  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_set_error_literal (error, io_error->domain, io_error->code,
                         _("The file is gone: it was moved or deleted"));
  else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error_literal (error, io_error->domain, io_error->code,
                         _("You are not allowed to read this file"));
  else
    g_set_error (error, io_error->domain, io_error->code,
                 _("Cannot read the file: %s"), io_error->message);
}

static gboolean
read_thumbnail (Job           *job,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *format_name = NULL;
  g_autofree guint8 *buffer = NULL;
  SizeInfo size = { 0, 0, FALSE };
  GdkPixbufFormat *format;
  GdkPixbuf *pixbuf;
  gboolean ok = TRUE;

  if (job->source != NULL)
    {
      job->thumbnail = thumbnail_of (job->source);
      /* Translators: the size of an image in pixels, e.g. “640 × 480” */
      job->details = g_strdup_printf (_("%d × %d"), gdk_pixbuf_get_width (job->source),
                                      gdk_pixbuf_get_height (job->source));
      return TRUE;
    }

  info = g_file_query_info (job->file,
                            G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                            G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE ","
                            G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
  if (info == NULL)
    {
      set_read_error (error, local_error);
      return FALSE;
    }

  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                           _("This is a folder, not an image"));
      return FALSE;
    }

  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR &&
      g_file_info_get_file_type (info) != G_FILE_TYPE_SYMBOLIC_LINK &&
      g_file_info_get_file_type (info) != G_FILE_TYPE_UNKNOWN)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                           _("This is not a regular file"));
      return FALSE;
    }

  if (g_file_info_get_size (info) == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The file is empty"));
      return FALSE;
    }

  if (g_file_info_get_content_type (info) != NULL &&
      g_content_type_is_a (g_file_info_get_content_type (info), "video/*"))
    return read_video_thumbnail (job, cancellable, error);

  stream = G_INPUT_STREAM (g_file_read (job->file, cancellable, &local_error));
  if (stream == NULL)
    {
      set_read_error (error, local_error);
      return FALSE;
    }

  loader = gdk_pixbuf_loader_new ();
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), &size);

  buffer = g_malloc (READ_CHUNK);
  for (;;)
    {
      gssize n_read = g_input_stream_read (stream, buffer, READ_CHUNK, cancellable, &local_error);

      if (n_read < 0)
        {
          gdk_pixbuf_loader_close (loader, NULL);
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            set_read_error (error, local_error);
          return FALSE;
        }

      if (n_read == 0)
        break;

      if (!gdk_pixbuf_loader_write (loader, buffer, n_read, &local_error) || size.too_large)
        {
          ok = FALSE;
          break;
        }
    }

  if (ok)
    ok = gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (size.too_large)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   /* Translators: an image’s width and height in pixels */
                   _("The image is too large to classify (%d × %d pixels)"),
                   size.width, size.height);
      return FALSE;
    }

  if (!ok || gdk_pixbuf_loader_get_pixbuf (loader) == NULL)
    {
      g_autofree char *description = describe_content_type (info);
      const char *content_type = g_file_info_get_content_type (info);

      if (gdk_pixbuf_loader_get_format (loader) == NULL ||
          g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE))
        {
          /* The type guessed from the name said image: not “Not an
           * image: PNG image”. */
          if (description != NULL && content_type != NULL && g_str_has_prefix (content_type, "image/"))
            /* Translators: %s is a file type, e.g. “PNG image” */
            g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                         _("Named like a %s, but its content is not an image"), description);
          else if (description != NULL)
            /* Translators: %s describes the file’s type, e.g. “plain text document” */
            g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                         _("Not an image: %s"), description);
          else
            g_set_error_literal (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                                 _("Not an image"));
        }
      else
        {
          g_debug ("%s", local_error != NULL ? local_error->message : "no pixels");
          g_set_error_literal (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                               _("The image is damaged: its data is cut short or corrupt"));
        }
      return FALSE;
    }

  /* gdk-pixbuf's loaders fill in what is missing at the end of a truncated
   * file.  libtvw's decoder, the one the model's input comes from, notices:
   * it decodes the file once more here, through a transform to a few
   * pixels that costs next to nothing beyond the decoding. */
  if (!check_decodable (job->file, cancellable, error))
    return FALSE;

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  job->thumbnail = enlarge_small (oriented != NULL ? oriented : pixbuf);

  format = gdk_pixbuf_loader_get_format (loader);
  format_name = format != NULL ? g_ascii_strup (gdk_pixbuf_format_get_name (format), -1) : NULL;
  if (format_name != NULL)
    /* Translators: an image’s size in pixels and its format, e.g. “640 × 480 · PNG” */
    job->details = g_strdup_printf (_("%d × %d · %s"), size.width, size.height, format_name);
  else
    job->details = g_strdup_printf (_("%d × %d"), size.width, size.height);

  return TRUE;
}

/* Predictions of a model built without weights have no category names:
 * take them from the weights the window shows. */
static GListModel *
name_predictions (GListModel *predictions,
                  TvwWeights *weights)
{
  const char * const *categories = weights != NULL ? tvw_weights_get_categories (weights) : NULL;
  guint n_categories = categories != NULL ? g_strv_length ((char **) categories) : 0;
  g_autoptr(GListStore) named = NULL;
  guint n = g_list_model_get_n_items (predictions);

  if (n_categories == 0)
    return g_object_ref (predictions);

  named = g_list_store_new (TVW_TYPE_PREDICTION);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (predictions, i);
      g_autoptr(TvwPrediction) copy = NULL;
      guint index = tvw_prediction_get_index (p);
      const char *category = tvw_prediction_get_category (p);

      if (category == NULL && index < n_categories)
        category = categories[index];
      copy = tvw_prediction_new (index, category, tvw_prediction_get_score (p));
      g_list_store_append (named, copy);
    }

  return G_LIST_MODEL (g_steal_pointer (&named));
}

/* The image's own pixels, as the model sees them (EXIF orientation not
 * applied). */
static GdkPixbuf *
read_pixels (Job           *job,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GInputStream) stream = NULL;

  if (job->file == NULL)
    return g_object_ref (job->source);

  stream = G_INPUT_STREAM (g_file_read (job->file, cancellable, error));
  if (stream == NULL)
    return NULL;

  return gdk_pixbuf_new_from_stream (stream, cancellable, error);
}

/* A segmentation model's output: the classes of the image's own pixels,
 * and the classes present as predictions scored by their share. */
static gboolean
segment (Job           *job,
         TvwTensor     *output,
         GCancellable  *cancellable,
         GError       **error)
{
  const char * const *categories = job->weights != NULL ? tvw_weights_get_categories (job->weights) : NULL;
  g_autoptr(GListStore) classes = g_list_store_new (TVW_TYPE_PREDICTION);
  g_autoptr(GdkPixbuf) pixels = NULL;
  g_autofree guint *present = NULL;
  guint n;

  pixels = read_pixels (job, cancellable, error);
  if (pixels == NULL)
    return FALSE;

  job->segmentation = tvw_segmentation_new_from_output (output, gdk_pixbuf_get_width (pixels),
                                                        gdk_pixbuf_get_height (pixels),
                                                        categories, error);
  if (job->segmentation == NULL)
    return FALSE;

  present = tvw_segmentation_get_classes_present (job->segmentation, &n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwPrediction) p = NULL;

      p = tvw_prediction_new (present[i], tvw_segmentation_get_category (job->segmentation, present[i]),
                              tvw_segmentation_get_fraction (job->segmentation, present[i]));
      g_list_store_append (classes, p);
    }

  job->predictions = G_LIST_MODEL (g_steal_pointer (&classes));
  job->pixels = g_steal_pointer (&pixels);
  return TRUE;
}

/* A detection model's objects in the image's own pixels, and the most
 * confident ones as predictions.  The picture beside is the whole image:
 * detection models see all of it. */
static gboolean
detect (Job           *job,
        GCancellable  *cancellable,
        GError       **error)
{
  const char * const *categories = job->weights != NULL ? tvw_weights_get_categories (job->weights) : NULL;
  g_autoptr(GListStore) objects = g_list_store_new (TVW_TYPE_PREDICTION);
  g_autoptr(GdkPixbuf) pixels = NULL;

  pixels = read_pixels (job, cancellable, error);
  if (pixels == NULL)
    return FALSE;

  job->detection = tvw_model_detect (job->model, pixels, cancellable, error);
  if (job->detection == NULL)
    return FALSE;

  for (guint i = 0; i < MIN (tvw_detection_get_n_objects (job->detection), TVW_VIEWER_TOP_K); i++)
    {
      g_autofree char *name = tvw_viewer_detection_object_name (job->detection, i, categories);
      g_autoptr(TvwPrediction) p = NULL;

      p = tvw_prediction_new (tvw_detection_get_label (job->detection, i), name,
                              tvw_detection_get_score (job->detection, i));
      g_list_store_append (objects, p);
    }

  job->crop = thumbnail_of (pixels);
  job->predictions = G_LIST_MODEL (g_steal_pointer (&objects));
  job->pixels = g_steal_pointer (&pixels);
  return TRUE;
}

/* A video model's actions for a video file, the clips sampled and
 * averaged by libtvw; the picture beside is the poster frame. */
static gboolean
classify_video (Job           *job,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GListModel) predictions = NULL;
  g_autoptr(GdkPixbuf) poster = NULL;

  if (job->file == NULL)
    {
      g_set_error_literal (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                           _("A video model needs a video file"));
      return FALSE;
    }

  poster = read_poster (job->file, cancellable, error);
  if (poster == NULL)
    return FALSE;
  predictions = tvw_model_classify_file (job->model, job->file, TVW_VIEWER_TOP_K, cancellable, error);
  if (predictions == NULL)
    return FALSE;

  job->predictions = name_predictions (predictions, job->weights);
  job->crop = thumbnail_of (poster);
  return TRUE;
}

/* RAFT on two frames: a video's first two, or the image before this one
 * (the first frame) and this one.  A first frame alone waits. */
static gboolean
estimate_flow (Job           *job,
               TvwTransform  *transform,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GdkPixbuf) first = NULL;
  g_autoptr(GdkPixbuf) second = NULL;

  if (job->file != NULL && job->is_video)
    {
      if (!tvw_viewer_flow_read_video_pair (job->file, &first, &second, cancellable, error))
        return FALSE;
    }
  else if (job->first_file == NULL && job->first_source == NULL)
    {
      job->flow_waiting = TRUE;
      return TRUE;
    }
  else
    {
      if (job->first_file != NULL)
        {
          g_autoptr(GError) local_error = NULL;

          first = tvw_viewer_flow_read_frame (transform, job->first_file, cancellable, &local_error);
          if (first == NULL)
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                g_propagate_error (error, g_steal_pointer (&local_error));
              else
                /* Translators: the first of two frames cannot be read, e.g.
                 * “The first frame, “a.png”, cannot be read: …” */
                g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                             _("The first frame, “%s”, cannot be read: %s"),
                             job->first_title, local_error->message);
              return FALSE;
            }
        }
      else
        first = g_object_ref (job->first_source);

      second = job->file != NULL ? tvw_viewer_flow_read_frame (transform, job->file, cancellable, error)
                                 : g_object_ref (job->source);
      if (second == NULL)
        return FALSE;
    }

  job->flow = tvw_viewer_flow_compute (job->model, transform, first, second, cancellable, error);
  if (job->flow == NULL)
    return FALSE;

  job->flow_first_frame = thumbnail_of (first);
  return TRUE;
}

static gboolean
classify (Job           *job,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(TvwTensor) input = NULL;
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(TvwTensor) output = NULL;
  g_autoptr(GdkPixbuf) crop = NULL;
  g_autoptr(GListModel) predictions = NULL;

  if (job->weights != NULL)
    transform = tvw_weights_transforms (job->weights);
  if (transform != NULL && tvw_transform_get_preset (transform) == TVW_PRESET_OBJECT_DETECTION)
    return detect (job, cancellable, error);
  if (transform != NULL && tvw_transform_get_preset (transform) == TVW_PRESET_VIDEO_CLASSIFICATION)
    return classify_video (job, cancellable, error);
  if (transform != NULL && tvw_transform_get_preset (transform) == TVW_PRESET_OPTICAL_FLOW)
    return estimate_flow (job, transform, cancellable, error);
  if (transform == NULL)
    transform = tvw_transform_new (TVW_PRESET_IMAGE_CLASSIFICATION);

  /* Files go through libtvw's own decoder: the pixels Pillow would give
   * torchvision, EXIF orientation not applied. */
  if (job->file != NULL)
    {
      input = tvw_transform_apply_file (transform, job->file, cancellable, error);
      if (input != NULL)
        crop = tvw_transform_apply_file_crop (transform, job->file, cancellable, error);
    }
  else
    {
      input = tvw_transform_apply_pixbuf (transform, job->source, error);
      if (input != NULL)
        crop = tvw_transform_apply_pixbuf_crop (transform, job->source, error);
    }

  if (input == NULL || crop == NULL)
    return FALSE;

  batch = tvw_tensor_unsqueeze (input, 0);
  output = tvw_model_forward (job->model, batch, cancellable, error);
  if (output == NULL)
    return FALSE;

  if (tvw_transform_get_preset (transform) == TVW_PRESET_SEMANTIC_SEGMENTATION)
    {
      job->crop = enlarge_small (crop);
      return segment (job, output, cancellable, error);
    }

  predictions = tvw_model_predictions_from_output (job->model, output, TVW_VIEWER_TOP_K, error);
  if (predictions == NULL)
    return FALSE;

  job->predictions = name_predictions (predictions, job->weights);
  job->crop = enlarge_small (crop);

  return TRUE;
}

static void
process_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Job *job = task_data;

  if (job->need_thumbnail && !read_thumbnail (job, cancellable, &job->read_error))
    {
      if (g_error_matches (job->read_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&job->read_error));
          return;
        }
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (job->model != NULL && !classify (job, cancellable, &job->classify_error))
    {
      if (g_error_matches (job->classify_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&job->classify_error));
          return;
        }
    }

  g_task_return_boolean (task, TRUE);
}

/**
 * tvw_viewer_image_process_async:
 * @self: an image
 * @model: (nullable): the model to classify it with, or %NULL to only read it
 * @weights: (nullable): the weights shown (names the categories)
 *
 * Reads the image if it was not read yet, then classifies it with @model.
 */
void
tvw_viewer_image_process_async (TvwViewerImage      *self,
                                TvwModel            *model,
                                TvwWeights          *weights,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (TVW_VIEWER_IS_IMAGE (self));
  g_return_if_fail (model == NULL || TVW_IS_MODEL (model));

  job = g_new0 (Job, 1);
  job->file = self->file != NULL ? g_object_ref (self->file) : NULL;
  job->source = self->source != NULL ? g_object_ref (self->source) : NULL;
  job->model = model != NULL ? g_object_ref (model) : NULL;
  job->weights = weights != NULL ? g_object_ref (weights) : NULL;
  job->need_thumbnail = !self->readable;
  job->is_video = self->video;
  if (model != NULL)
    self->flow_task = weights != NULL && g_strcmp0 (tvw_weights_get_preset (weights), "OpticalFlow") == 0;
  job->followed = self->flow_followed;
  if (self->flow_previous != NULL)
    {
      TvwViewerImage *previous = self->flow_previous;

      job->first_file = previous->file != NULL ? g_object_ref (previous->file) : NULL;
      job->first_source = previous->source != NULL ? g_object_ref (previous->source) : NULL;
      job->first_title = g_strdup (previous->title);
    }

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_viewer_image_process_async);
  g_task_set_task_data (task, job, job_free);

  if (!self->readable)
    set_state (self, TVW_VIEWER_IMAGE_STATE_LOADING, NULL);
  else if (model != NULL)
    {
      set_texture (self, &self->crop, NULL, props[PROP_CROP]);
      set_predictions (self, NULL, NULL);
      set_state (self, TVW_VIEWER_IMAGE_STATE_CLASSIFYING, NULL);
    }

  g_task_run_in_thread (task, process_thread);
}

/* Applies what the worker found.  Returns %FALSE only when cancelled: a file
 * that is not an image is a state of the image, not an error. */
gboolean
tvw_viewer_image_process_finish (TvwViewerImage  *self,
                                 GAsyncResult    *result,
                                 GError         **error)
{
  Job *job;

  g_return_val_if_fail (TVW_VIEWER_IS_IMAGE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  job = g_task_get_task_data (G_TASK (result));

  if (job->need_thumbnail)
    {
      if (job->read_error != NULL)
        {
          set_state (self, TVW_VIEWER_IMAGE_STATE_FAILED, job->read_error->message);
          return TRUE;
        }

      self->readable = TRUE;
      self->video = job->is_video;
      set_texture (self, &self->thumbnail, job->thumbnail, props[PROP_THUMBNAIL]);
      g_free (self->details);
      self->details = g_steal_pointer (&job->details);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_DETAILS]);
    }

  if (job->model == NULL)
    {
      set_state (self, TVW_VIEWER_IMAGE_STATE_WAITING, NULL);
      return TRUE;
    }

  if (job->classify_error != NULL)
    {
      set_texture (self, &self->crop, NULL, props[PROP_CROP]);
      set_predictions (self, NULL, NULL);
      set_state (self, TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED, job->classify_error->message);
      return TRUE;
    }

  if (job->flow_waiting)
    {
      set_texture (self, &self->crop, NULL, props[PROP_CROP]);
      set_predictions (self, NULL, NULL);
      self->waiting_busy = FALSE;
      set_state (self, TVW_VIEWER_IMAGE_STATE_WAITING,
                 job->followed ? _("The first frame: the next image shows the optical flow from this one")
                               : _("Drop a second frame of the same size to see the optical flow"));
      return TRUE;
    }

  set_texture (self, &self->crop, job->crop, props[PROP_CROP]);
  set_results (self, job->segmentation, job->detection, job->pixels);
  set_predictions (self, job->predictions,
                   job->weights != NULL ? tvw_weights_get_full_name (job->weights) : NULL);
  set_flow (self, job->flow, job->flow_first_frame,
            job->is_video ? _("Frame 1") : job->first_title);
  set_state (self, TVW_VIEWER_IMAGE_STATE_CLASSIFIED, NULL);

  return TRUE;
}
