/* test-tvwclassify.c: the GStreamer element tvwclassify
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every classification is compared with tvw_model_classify () on the same
 * frame by a model of the same weights and thread count: libtvw is
 * deterministic for a given thread count, so the scores must be equal to
 * the last bit when the element hands the model the same pixels.
 */

#include <string.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <tvw.h>

#define WEIGHTS "MobileNet_V3_Small_Weights.FASHIONMNIST_V1"
#define META_NAME "TvwClassificationMeta"
#define TIMEOUT (60 * GST_SECOND)
#define FRAME_DURATION (GST_SECOND / 30)

static TvwModel *reference;
static char *cache;   /* TVW_CACHE_DIR, TORCH_HOME and XDG_CACHE_HOME */

/* Helpers */

static GListModel *
reference_classify (GdkPixbuf *image,
                    guint      top_k)
{
  g_autoptr(GError) error = NULL;
  GListModel *predictions;

  predictions = tvw_model_classify (reference, image, top_k, NULL, &error);
  g_assert_no_error (error);
  return predictions;
}

static void
assert_result_equals (const GstStructure *s,
                      GListModel         *predictions)
{
  const GValue *labels = gst_structure_get_value (s, "labels");
  const GValue *scores = gst_structure_get_value (s, "scores");
  const GValue *indices = gst_structure_get_value (s, "indices");
  guint n = g_list_model_get_n_items (predictions);

  g_assert_cmpstr (gst_structure_get_string (s, "weights"), ==, WEIGHTS);
  {
    g_autoptr(TvwPrediction) top = g_list_model_get_item (predictions, 0);
    double score;

    g_assert_cmpstr (gst_structure_get_string (s, "label"), ==, tvw_prediction_get_category (top));
    g_assert_true (gst_structure_get_double (s, "score", &score));
    g_assert_cmpfloat (score, ==, tvw_prediction_get_score (top));
  }
  g_assert_cmpuint (gst_value_array_get_size (labels), ==, n);
  g_assert_cmpuint (gst_value_array_get_size (scores), ==, n);
  g_assert_cmpuint (gst_value_array_get_size (indices), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (predictions, i);

      g_assert_cmpuint (g_value_get_uint (gst_value_array_get_value (indices, i)), ==,
                        tvw_prediction_get_index (p));
      g_assert_cmpstr (g_value_get_string (gst_value_array_get_value (labels, i)), ==,
                       tvw_prediction_get_category (p));
      /* Same pixels, same model, same threads: the same bits. */
      g_assert_cmpfloat (g_value_get_double (gst_value_array_get_value (scores, i)), ==,
                         tvw_prediction_get_score (p));
    }
}

/* Waits for the next tvw-classification message; errors fail the test. */
static GstMessage *
pop_classification (GstBus       *bus,
                    GstClockTime  timeout)
{
  for (;;)
    {
      GstMessage *message = gst_bus_timed_pop_filtered (bus, timeout,
                                                        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);

      if (message == NULL)
        return NULL;
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
        {
          g_autoptr(GError) error = NULL;
          g_autofree char *debug = NULL;

          gst_message_parse_error (message, &error, &debug);
          g_error ("unexpected error: %s (%s)", error->message, debug);
        }
      if (gst_message_has_name (message, "tvw-classification"))
        return message;
      gst_message_unref (message);
    }
}

/* Random pixels (ties between classes are then vanishingly unlikely). */
static GdkPixbuf *
random_image (int width,
              int height)
{
  GdkPixbuf *image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (image);
  int stride = gdk_pixbuf_get_rowstride (image);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      pixels[y * stride + x] = g_test_rand_int_range (0, 256);
  return image;
}

static GdkPixbuf *
image_from_rgb_buffer (GstBuffer    *buffer,
                       GstVideoInfo *info)
{
  GstVideoFrame frame;
  GdkPixbuf *image;
  int width = GST_VIDEO_INFO_WIDTH (info), height = GST_VIDEO_INFO_HEIGHT (info);

  g_assert_true (GST_VIDEO_INFO_FORMAT (info) == GST_VIDEO_FORMAT_RGB);
  g_assert_true (gst_video_frame_map (&frame, info, buffer, GST_MAP_READ));
  image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  for (int y = 0; y < height; y++)
    memcpy (gdk_pixbuf_get_pixels (image) + y * gdk_pixbuf_get_rowstride (image),
            (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
            width * 3);
  gst_video_frame_unmap (&frame);
  return image;
}

/* @image packed in a (packed RGB) @format by hand, not by GstVideoConverter. */
static GstBuffer *
pack_rgb (GdkPixbuf      *image,
          GstVideoFormat  format,
          int             index)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buffer;
  const GstVideoFormatInfo *finfo = gst_video_format_get_info (format);
  int width = gdk_pixbuf_get_width (image), height = gdk_pixbuf_get_height (image);
  const guint8 *src = gdk_pixbuf_get_pixels (image);
  int src_stride = gdk_pixbuf_get_rowstride (image);
  int pstride = GST_VIDEO_FORMAT_INFO_PSTRIDE (finfo, 0);

  g_assert_true (GST_VIDEO_FORMAT_INFO_IS_RGB (finfo) && GST_VIDEO_FORMAT_INFO_N_PLANES (finfo) == 1);
  gst_video_info_set_format (&info, format, width, height);
  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  /* x and A bytes (and the padding) are set opaque; R, G, B go where the
   * format says. */
  gst_buffer_memset (buffer, 0, 255, GST_VIDEO_INFO_SIZE (&info));
  g_assert_true (gst_video_frame_map (&frame, &info, buffer, GST_MAP_WRITE));
  for (int y = 0; y < height; y++)
    {
      guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

      for (int x = 0; x < width; x++)
        for (int c = 0; c < 3; c++)
          row[x * pstride + GST_VIDEO_FORMAT_INFO_POFFSET (finfo, c)] = src[y * src_stride + x * 3 + c];
    }
  gst_video_frame_unmap (&frame);

  GST_BUFFER_PTS (buffer) = index * FRAME_DURATION;
  GST_BUFFER_DURATION (buffer) = FRAME_DURATION;
  return buffer;
}

static GstCaps *
video_caps (GstVideoFormat format,
            int            width,
            int            height)
{
  GstVideoInfo info;

  gst_video_info_set_format (&info, format, width, height);
  GST_VIDEO_INFO_FPS_N (&info) = 30;
  GST_VIDEO_INFO_FPS_D (&info) = 1;
  return gst_video_info_to_caps (&info);
}

static gboolean
buffers_equal (GstBuffer *a,
               GstBuffer *b)
{
  GstMapInfo ma, mb;
  gboolean equal;

  g_assert_true (gst_buffer_map (a, &ma, GST_MAP_READ));
  g_assert_true (gst_buffer_map (b, &mb, GST_MAP_READ));
  equal = ma.size == mb.size && memcmp (ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap (a, &ma);
  gst_buffer_unmap (b, &mb);
  return equal;
}

typedef struct
{
  GstHarness *h;
  GstElement *element;
  GstBus     *bus;
} Classifier;

/* tvwclassify with the embedded weights, one thread (as the reference) and
 * @properties ("name=value …"), in a harness, playing. */
static void
classifier_init (Classifier *c,
                 const char *properties)
{
  g_auto(GStrv) pairs = g_strsplit (properties, " ", -1);

  c->element = gst_element_factory_make ("tvwclassify", NULL);
  g_assert_nonnull (c->element);
  g_object_set (c->element, "weights", WEIGHTS, "threads", 1, NULL);
  for (guint i = 0; pairs[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (pairs[i], "=", 2);

      if (kv[0] != NULL && kv[0][0] != '\0')
        gst_util_set_object_arg (G_OBJECT (c->element), kv[0], kv[1]);
    }
  c->bus = gst_bus_new ();
  gst_element_set_bus (c->element, c->bus);
  c->h = gst_harness_new_with_element (c->element, "sink", "src");
}

static void
classifier_clear (Classifier *c)
{
  gst_harness_teardown (c->h);
  gst_bus_set_flushing (c->bus, TRUE);
  g_clear_object (&c->bus);
  g_assert_finalize_object (c->element);
}

static guint64
get_counter (GstElement *element,
             const char *name)
{
  guint64 value;

  g_object_get (element, name, &value, NULL);
  return value;
}

/* Pushes @in (drop=false: the element waits for the model), checks that
 * the same pixels come out and that the next message is @expected;
 * returns the message. */
static GstMessage *
classify_frame (Classifier *c,
                GstBuffer  *in,
                GListModel *expected)
{
  g_autoptr(GstBuffer) out = NULL;
  GstMessage *message;

  g_assert_cmpint (gst_harness_push (c->h, gst_buffer_ref (in)), ==, GST_FLOW_OK);
  out = gst_harness_pull (c->h);
  g_assert_true (buffers_equal (in, out));
  g_assert_cmpuint (GST_BUFFER_PTS (out), ==, GST_BUFFER_PTS (in));
  message = pop_classification (c->bus, TIMEOUT);
  g_assert_nonnull (message);
  assert_result_equals (gst_message_get_structure (message), expected);
  return message;
}

/* Tests */

static void
test_properties_documented (void)
{
  GstElement *element = gst_object_ref_sink (gst_element_factory_make ("tvwclassify", NULL));
  const char *expected[] = { "weights", "top-k", "interval", "threads", "offline",
                             "model-ready", "overlay", "drop", "frames-classified",
                             "frames-skipped" };
  guint n_props;
  g_autofree GParamSpec **pspecs =
    g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n_props);
  guint n_own = 0;

  g_assert_nonnull (element);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_nonnull (g_object_class_find_property (G_OBJECT_GET_CLASS (element), expected[i]));
  for (guint i = 0; i < n_props; i++)
    {
      if (pspecs[i]->owner_type != G_OBJECT_TYPE (element))
        continue;
      n_own++;
      g_assert_cmpuint (strlen (g_param_spec_get_blurb (pspecs[i])), >, 20);
      g_assert_cmpstr (g_param_spec_get_nick (pspecs[i]), !=, pspecs[i]->name);
    }
  g_assert_cmpuint (n_own, ==, G_N_ELEMENTS (expected));
  g_assert_finalize_object (element);
}

/* RGB frames reach the model as they are, and leave the element as they
 * came. */
static void
test_rgb_same_as_image_path (void)
{
  Classifier c;

  classifier_init (&c, "drop=false top-k=3");
  {
    gboolean ready;

    g_object_get (c.element, "model-ready", &ready, NULL);
    g_assert_true (ready);   /* the embedded checkpoint is loaded by start */
  }
  gst_harness_set_src_caps (c.h, video_caps (GST_VIDEO_FORMAT_RGB, 97, 71));

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GdkPixbuf) image = random_image (97, 71);
      g_autoptr(GstBuffer) in = pack_rgb (image, GST_VIDEO_FORMAT_RGB, i);
      g_autoptr(GListModel) expected = reference_classify (image, 3);
      g_autoptr(GstMessage) message = classify_frame (&c, in, expected);
      const GstStructure *s = gst_message_get_structure (message);
      guint64 timestamp, running_time;

      g_assert_true (gst_structure_get_uint64 (s, "timestamp", &timestamp));
      g_assert_true (gst_structure_get_uint64 (s, "running-time", &running_time));
      g_assert_cmpuint (timestamp, ==, i * FRAME_DURATION);
      g_assert_cmpuint (running_time, ==, i * FRAME_DURATION);
    }
  g_assert_cmpuint (get_counter (c.element, "frames-classified"), ==, 3);
  g_assert_cmpuint (get_counter (c.element, "frames-skipped"), ==, 0);
  classifier_clear (&c);
}

/* The other packed RGB layouts give the model the same pixels as RGB. */
static void
test_packed_rgb_formats (void)
{
  const GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_BGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
    GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR, GST_VIDEO_FORMAT_RGBA,
    GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR,
  };
  g_autoptr(GdkPixbuf) image = random_image (64, 50);
  g_autoptr(GListModel) expected = reference_classify (image, 5);
  Classifier c;

  classifier_init (&c, "drop=false");
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(GstBuffer) in = pack_rgb (image, formats[i], i);

      g_test_message ("%s", gst_video_format_to_string (formats[i]));
      /* A caps change before every frame. */
      gst_harness_set_src_caps (c.h, video_caps (formats[i], 64, 50));
      gst_message_unref (classify_frame (&c, in, expected));
    }
  classifier_clear (&c);
}

/* Runs a buffer through videoconvert to @caps. */
static GstBuffer *
videoconvert (GstBuffer *in,
              GstCaps   *in_caps,
              GstCaps   *out_caps)
{
  GstHarness *h = gst_harness_new ("videoconvert");
  GstBuffer *out;

  gst_harness_set_caps (h, in_caps, out_caps);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (in));
  g_assert_nonnull (out);
  gst_harness_teardown (h);
  return out;
}

/* YUV frames are classified as the RGB frame videoconvert makes of them. */
static void
test_yuv_as_videoconvert (void)
{
  const GstVideoFormat formats[] = {
    GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_YUY2,
    GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_GRAY8,
  };
  g_autoptr(GdkPixbuf) image = random_image (80, 60);
  g_autoptr(GstBuffer) rgb = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);
  Classifier c;

  classifier_init (&c, "drop=false");
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(GstBuffer) yuv = NULL;
      g_autoptr(GstBuffer) back = NULL;
      g_autoptr(GdkPixbuf) converted = NULL;
      g_autoptr(GListModel) expected = NULL;
      GstVideoInfo rgb_info;

      g_test_message ("%s", gst_video_format_to_string (formats[i]));
      yuv = videoconvert (rgb, video_caps (GST_VIDEO_FORMAT_RGB, 80, 60),
                          video_caps (formats[i], 80, 60));
      back = videoconvert (yuv, video_caps (formats[i], 80, 60),
                           video_caps (GST_VIDEO_FORMAT_RGB, 80, 60));
      gst_video_info_set_format (&rgb_info, GST_VIDEO_FORMAT_RGB, 80, 60);
      converted = image_from_rgb_buffer (back, &rgb_info);
      expected = reference_classify (converted, 5);

      gst_harness_set_src_caps (c.h, video_caps (formats[i], 80, 60));
      gst_message_unref (classify_frame (&c, yuv, expected));
    }
  classifier_clear (&c);
}

/* The size and the format change mid-stream; results follow. */
static void
test_caps_change (void)
{
  const struct { GstVideoFormat format; int width, height; } steps[] = {
    { GST_VIDEO_FORMAT_RGB, 32, 24 },
    { GST_VIDEO_FORMAT_RGB, 160, 120 },
    { GST_VIDEO_FORMAT_BGRx, 45, 91 },
    { GST_VIDEO_FORMAT_RGB, 32, 24 },
  };
  Classifier c;

  classifier_init (&c, "drop=false");
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      gst_harness_set_src_caps (c.h, video_caps (steps[i].format, steps[i].width, steps[i].height));
      for (int j = 0; j < 2; j++)
        {
          g_autoptr(GdkPixbuf) image = random_image (steps[i].width, steps[i].height);
          g_autoptr(GListModel) expected = reference_classify (image, 5);
          g_autoptr(GstBuffer) in = pack_rgb (image, steps[i].format, 2 * i + j);

          gst_message_unref (classify_frame (&c, in, expected));
        }
    }
  classifier_clear (&c);
}

/* drop=true: frames never wait; each frame due is classified or counted
 * as skipped, and the classifications are the messages. */
static void
test_busy_frames_pass (void)
{
  const int n = 40;
  g_autoptr(GdkPixbuf) image = random_image (320, 240);
  Classifier c;
  guint64 classified, skipped;
  guint n_messages = 0;
  GstMessage *message;

  g_autoptr(GstBuffer) frame = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);

  classifier_init (&c, "drop=true");
  gst_harness_set_src_caps (c.h, video_caps (GST_VIDEO_FORMAT_RGB, 320, 240));
  for (int i = 0; i < n; i++)
    {
      /* The same pixels each time: pushing costs microseconds. */
      g_autoptr(GstBuffer) in = gst_buffer_copy (frame);
      g_autoptr(GstBuffer) out = NULL;

      GST_BUFFER_PTS (in) = i * FRAME_DURATION;

      g_assert_cmpint (gst_harness_push (c.h, gst_buffer_ref (in)), ==, GST_FLOW_OK);
      out = gst_harness_pull (c.h);
      g_assert_true (buffers_equal (in, out));
    }
  /* EOS waits for the frame being classified: its message comes first. */
  g_assert_true (gst_harness_push_event (c.h, gst_event_new_eos ()));

  classified = get_counter (c.element, "frames-classified");
  skipped = get_counter (c.element, "frames-skipped");
  g_assert_cmpuint (classified + skipped, ==, n);
  g_assert_cmpuint (classified, >=, 1);
  /* A frame that finds the worker busy passes in microseconds; a forward
   * pass takes over a millisecond, so a burst of 40 frames skips some. */
  g_assert_cmpuint (skipped, >=, 1);
  while ((message = gst_bus_timed_pop_filtered (c.bus, 0, GST_MESSAGE_ELEMENT)) != NULL)
    {
      guint64 reported;

      if (gst_message_has_name (message, "tvw-classification"))
        {
          n_messages++;
          g_assert_true (gst_structure_get_uint64 (gst_message_get_structure (message),
                                                   "frames-classified", &reported));
          g_assert_cmpuint (reported, ==, n_messages);
        }
      gst_message_unref (message);
    }
  g_assert_cmpuint (n_messages, ==, classified);
  classifier_clear (&c);
}

/* After a result, following buffers carry it as TvwClassificationMeta
 * (here the second frame, which is not due for classification);
 * overlay=true draws on the frame's top left corner only. */
static void
test_meta_and_overlay (void)
{
  g_autoptr(GdkPixbuf) image = random_image (160, 120);
  g_autoptr(GListModel) expected = reference_classify (image, 5);
  Classifier c;

  for (int overlay = 0; overlay < 2; overlay++)
    {
      g_autoptr(GstBuffer) first_in = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);
      g_autoptr(GstBuffer) second_in = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 1);
      g_autoptr(GstBuffer) first = NULL;
      g_autoptr(GstBuffer) second = NULL;
      g_autoptr(GstMessage) message = NULL;
      GstCustomMeta *meta;
      GstMapInfo a, b;
      gsize stride = GST_ROUND_UP_4 (160 * 3);
      gboolean corner_changed = FALSE;

      classifier_init (&c, overlay ? "drop=false interval=2 overlay=true" : "drop=false interval=2");
      gst_harness_set_src_caps (c.h, video_caps (GST_VIDEO_FORMAT_RGB, 160, 120));
      first = gst_harness_push_and_pull (c.h, gst_buffer_ref (first_in));
      message = pop_classification (c.bus, TIMEOUT);
      g_assert_nonnull (message);
      second = gst_harness_push_and_pull (c.h, gst_buffer_ref (second_in));

      /* The first frame usually leaves before its result exists; if the
       * worker was quicker than the streaming thread, it carries its own. */
      meta = gst_buffer_get_custom_meta (first, META_NAME);
      if (meta == NULL)
        g_assert_true (buffers_equal (first, first_in));
      else
        assert_result_equals (gst_custom_meta_get_structure (meta), expected);

      meta = gst_buffer_get_custom_meta (second, META_NAME);
      g_assert_nonnull (meta);
      assert_result_equals (gst_custom_meta_get_structure (meta), expected);

      g_assert_true (gst_buffer_map (second, &a, GST_MAP_READ));
      g_assert_true (gst_buffer_map (second_in, &b, GST_MAP_READ));
      for (int y = 0; y < 120; y++)
        for (int x = 0; x < 160 * 3; x++)
          {
            gboolean same = a.data[y * stride + x] == b.data[y * stride + x];

            /* The label's band is at most half the frame high here. */
            if (y >= 60)
              g_assert_true (same);
            else if (!same)
              corner_changed = TRUE;
          }
      gst_buffer_unmap (second, &a);
      gst_buffer_unmap (second_in, &b);
      g_assert_true (corner_changed == overlay);

      /* A message holds a reference to the element. */
      g_clear_pointer (&message, gst_message_unref);
      classifier_clear (&c);
    }
}

/* A QoS event saying the sink is late makes late frames pass
 * unclassified; frames after that point are classified again. */
static void
test_qos_late_frames_skipped (void)
{
  g_autoptr(GdkPixbuf) image = random_image (48, 48);
  Classifier c;
  g_autoptr(GstMessage) message = NULL;
  GstBuffer *buffer;

  classifier_init (&c, "drop=false");
  gst_harness_set_src_caps (c.h, video_caps (GST_VIDEO_FORMAT_RGB, 48, 48));
  gst_harness_push (c.h, pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0));
  g_clear_pointer (&message, gst_message_unref);
  message = pop_classification (c.bus, TIMEOUT);
  g_assert_nonnull (message);

  /* A frame 30 ms early is no reason to skip anything. */
  g_assert_true (gst_harness_push_upstream_event (c.h,
      gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 0.5, -30 * GST_MSECOND, 50 * GST_MSECOND)));
  buffer = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);
  GST_BUFFER_PTS (buffer) = 100 * GST_MSECOND;
  gst_harness_push (c.h, buffer);
  g_clear_pointer (&message, gst_message_unref);
  message = pop_classification (c.bus, TIMEOUT);
  g_assert_nonnull (message);
  g_assert_cmpuint (get_counter (c.element, "frames-skipped"), ==, 0);

  /* The frame at 1 s was 100 ms late: frames before 1.2 s will be late. */
  g_assert_true (gst_harness_push_upstream_event (c.h,
      gst_event_new_qos (GST_QOS_TYPE_UNDERFLOW, 0.9, 100 * GST_MSECOND, GST_SECOND)));

  buffer = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);
  GST_BUFFER_PTS (buffer) = GST_SECOND + 100 * GST_MSECOND;
  gst_harness_push (c.h, buffer);
  g_assert_cmpuint (get_counter (c.element, "frames-skipped"), ==, 1);
  g_assert_cmpuint (get_counter (c.element, "frames-classified"), ==, 2);

  buffer = pack_rgb (image, GST_VIDEO_FORMAT_RGB, 0);
  GST_BUFFER_PTS (buffer) = 2 * GST_SECOND;
  gst_harness_push (c.h, buffer);
  g_clear_pointer (&message, gst_message_unref);
  message = pop_classification (c.bus, TIMEOUT);
  g_assert_nonnull (message);
  {
    guint64 timestamp;

    g_assert_true (gst_structure_get_uint64 (gst_message_get_structure (message),
                                             "timestamp", &timestamp));
    g_assert_cmpuint (timestamp, ==, 2 * GST_SECOND);
  }
  g_assert_cmpuint (gst_harness_buffers_received (c.h), ==, 4);
  g_clear_pointer (&message, gst_message_unref);
  classifier_clear (&c);
}

/* Pipelines */

/* Drops the last reference to @pipeline and checks it is finalized: GstBin
 * may still hold one for a moment in gst_element_call_async () after a
 * state change returns, so this waits up to ten seconds for it. */
static void
assert_pipeline_finalized (GstElement *pipeline)
{
  gpointer weak = pipeline;

  g_object_add_weak_pointer (G_OBJECT (pipeline), &weak);
  gst_object_unref (pipeline);
  for (int i = 0; i < 1000 && g_atomic_pointer_get (&weak) != NULL; i++)
    g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  g_assert_null (weak);
}

typedef struct
{
  GMutex      lock;
  GHashTable *frames;   /* pts → RGB pixbuf */
  GstVideoInfo info;
} FrameLog;

static GstPadProbeReturn
log_frame_cb (GstPad          *pad,
              GstPadProbeInfo *info,
              gpointer         user_data)
{
  FrameLog *log = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;

  g_assert_true (gst_video_info_from_caps (&vinfo, caps));
  g_mutex_lock (&log->lock);
  g_hash_table_insert (log->frames, g_memdup2 (&GST_BUFFER_PTS (buffer), sizeof (guint64)),
                       image_from_rgb_buffer (buffer, &vinfo));
  g_mutex_unlock (&log->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
pipeline_new (const char *description,
              FrameLog   *log)
{
  g_autoptr(GError) error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  g_assert_no_error (error);
  if (log != NULL)
    {
      g_autoptr(GstElement) c = gst_bin_get_by_name (GST_BIN (pipeline), "c");
      g_autoptr(GstPad) pad = gst_element_get_static_pad (c, "sink");

      g_mutex_init (&log->lock);
      log->frames = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, log_frame_cb, log, NULL);
    }
  return pipeline;
}

static void
frame_log_clear (FrameLog *log)
{
  g_hash_table_unref (log->frames);
  g_mutex_clear (&log->lock);
}

/* Checks a message against the logged frame; returns its timestamp. */
static guint64
check_against_log (GstMessage *message,
                   FrameLog   *log,
                   guint       top_k)
{
  const GstStructure *s = gst_message_get_structure (message);
  g_autoptr(GListModel) expected = NULL;
  GdkPixbuf *image;
  guint64 timestamp;

  g_assert_true (gst_structure_get_uint64 (s, "timestamp", &timestamp));
  g_mutex_lock (&log->lock);
  image = g_hash_table_lookup (log->frames, &timestamp);
  g_assert_nonnull (image);
  expected = reference_classify (image, top_k);
  g_mutex_unlock (&log->lock);
  assert_result_equals (s, expected);
  return timestamp;
}

/* The next tvw-classification message of a pipeline, or NULL at EOS. */
static GstMessage *
pop_classification_or_eos (GstBus *bus)
{
  for (;;)
    {
      GstMessage *message =
        gst_bus_timed_pop_filtered (bus, TIMEOUT, GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

      g_assert_nonnull (message);
      g_assert_cmpint (GST_MESSAGE_TYPE (message), !=, GST_MESSAGE_ERROR);
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
        {
          gst_message_unref (message);
          return NULL;
        }
      if (gst_message_has_name (message, "tvw-classification"))
        return message;
      gst_message_unref (message);
    }
}

/* videotestsrc → tvwclassify interval=5: one message per 5 frames, all
 * before EOS, each equal to the image path on its frame. */
static void
test_pipeline_interval (void)
{
  FrameLog log;
  GstElement *pipeline = pipeline_new (
    "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,format=RGB,width=96,height=72,framerate=30/1 "
    "! tvwclassify name=c weights=" WEIGHTS " threads=1 interval=5 top-k=3 drop=false ! fakesink", &log);
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
  guint n = 0;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;)
    {
      g_autoptr(GstMessage) message = pop_classification_or_eos (bus);

      if (message == NULL)
        break;
      g_assert_cmpuint (check_against_log (message, &log, 3), ==,
                        gst_util_uint64_scale (5 * n, GST_SECOND, 30));
      n++;
    }
  g_assert_cmpuint (n, ==, 6);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  assert_pipeline_finalized (pipeline);
  frame_log_clear (&log);
}

/* A flushing seek back to the start while classifying: results restart
 * from the new segment and none of the old one follows them. */
static void
test_pipeline_flushing_seek (void)
{
  FrameLog log;
  GstElement *pipeline = pipeline_new (
    "videotestsrc num-buffers=300 pattern=ball ! video/x-raw,format=RGB,width=96,height=72,framerate=30/1 "
    "! tvwclassify name=c weights=" WEIGHTS " threads=1 interval=3 drop=false ! fakesink", &log);
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
  guint64 expected_next = 0;
  guint n_before = 0, n_after = 0;
  gboolean seeked = FALSE, restarted = FALSE;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;)
    {
      g_autoptr(GstMessage) message = pop_classification_or_eos (bus);
      guint64 timestamp, running_time;

      if (message == NULL)
        break;

      timestamp = check_against_log (message, &log, 5);
      g_assert_true (gst_structure_get_uint64 (gst_message_get_structure (message),
                                               "running-time", &running_time));
      g_assert_cmpuint (running_time, ==, timestamp);

      /* The worker takes frames one by one: results of the old segment
       * (those on the bus already, and the frame in flight during the
       * flush) all come before the first of the new one, which restarts
       * at 0.  A stale result after that breaks the sequence. */
      if (seeked && !restarted && timestamp == 0)
        {
          restarted = TRUE;
          expected_next = 0;
        }
      g_assert_cmpuint (timestamp, ==, expected_next);
      expected_next += gst_util_uint64_scale (3, GST_SECOND, 30);
      if (restarted)
        n_after++;

      if (!seeked && ++n_before == 3)
        {
          /* Back to 0, and 30 frames from there. */
          g_assert_true (gst_element_seek (pipeline, 1.0, GST_FORMAT_TIME,
                                           GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                           GST_SEEK_TYPE_SET, 0,
                                           GST_SEEK_TYPE_SET, GST_SECOND));
          seeked = TRUE;
        }
    }
  g_assert_true (restarted);
  g_assert_cmpuint (n_after, ==, 10);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  assert_pipeline_finalized (pipeline);
  frame_log_clear (&log);
}

/* PLAYING → NULL while a live pipeline classifies, dropping or waiting,
 * at several moments: no deadlock, nothing leaked. */
static void
test_pipeline_state_changes (void)
{
  for (int round = 0; round < 6; round++)
    {
      g_autofree char *description = g_strdup_printf (
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
        "! videoconvert ! tvwclassify name=c weights=" WEIGHTS " threads=2 drop=%s ! fakesink",
        round % 2 ? "false" : "true");
      GstElement *pipeline = pipeline_new (description, NULL);
      g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);

      g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
                       GST_STATE_CHANGE_FAILURE);
      if (round >= 2)
        {
          g_autoptr(GstMessage) message = pop_classification (bus, TIMEOUT);

          g_assert_nonnull (message);
        }
      if (round >= 4)
        {
          g_autoptr(GstMessage) message = pop_classification (bus, TIMEOUT);

          g_assert_nonnull (message);
          /* Back to PAUSED and PLAYING first: the worker starts again. */
          gst_element_set_state (pipeline, GST_STATE_READY);
          gst_element_set_state (pipeline, GST_STATE_PLAYING);
          g_clear_pointer (&message, gst_message_unref);
          message = pop_classification (bus, TIMEOUT);
          g_assert_nonnull (message);
        }
      g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_NULL), ==,
                       GST_STATE_CHANGE_SUCCESS);
      gst_bus_set_flushing (bus, TRUE);
      assert_pipeline_finalized (pipeline);
    }
}

/* The element adds no latency: the query answers as without it. */
static void
test_pipeline_latency (void)
{
  GstClockTime mins[2];
  gboolean lives[2];

  for (int with = 0; with < 2; with++)
    {
      g_autofree char *description = g_strdup_printf (
        "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! %s fakesink sync=true",
        with ? "tvwclassify weights=" WEIGHTS " !" : "");
      GstElement *pipeline = pipeline_new (description, NULL);
      g_autoptr(GstQuery) query = gst_query_new_latency ();
      GstClockTime max;

      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      g_assert_cmpint (gst_element_get_state (pipeline, NULL, NULL, TIMEOUT), ==,
                       GST_STATE_CHANGE_SUCCESS);
      g_assert_true (gst_element_query (pipeline, query));
      gst_query_parse_latency (query, &lives[with], &mins[with], &max);
      gst_element_set_state (pipeline, GST_STATE_NULL);
      assert_pipeline_finalized (pipeline);
    }
  g_assert_true (lives[0] && lives[1]);
  g_assert_cmpuint (mins[1], ==, mins[0]);
}

/* Errors */

static GstMessage *
pop_error (GstBus *bus)
{
  return gst_bus_timed_pop_filtered (bus, TIMEOUT, GST_MESSAGE_ERROR);
}

static void
test_error_unknown_weights (void)
{
  GstElement *pipeline = pipeline_new (
    "videotestsrc ! tvwclassify weights=NoSuch_Weights.DEFAULT ! fakesink", NULL);
  g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr(GstMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
                   GST_STATE_CHANGE_FAILURE);
  message = pop_error (bus);
  g_assert_nonnull (message);
  gst_message_parse_error (message, &error, NULL);
  g_assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "NoSuch_Weights.DEFAULT"));

  gst_element_set_state (pipeline, GST_STATE_NULL);
  assert_pipeline_finalized (pipeline);
}

/* Weights not on this machine (the caches point to an empty directory):
 * offline=true is an error without any download; offline=false tries
 * the download (TVW_OFFLINE=1 in the tests forbids the network), posting
 * progress, then an error. */
static void
test_error_not_cached (void)
{
  for (int offline = 0; offline < 2; offline++)
    {
      g_autofree char *description = g_strdup_printf (
        "videotestsrc ! tvwclassify name=c weights=ResNet18_Weights.IMAGENET1K_V1 offline=%s ! fakesink",
        offline ? "true" : "false");
      GstElement *pipeline = pipeline_new (description, NULL);
      g_autoptr(GstBus) bus = gst_element_get_bus (pipeline);
      g_autoptr(GError) error = NULL;
      GstProgressType last_progress = GST_PROGRESS_TYPE_CONTINUE;
      guint n_progress = 0;

      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      for (;;)
        {
          g_autoptr(GstMessage) message =
            gst_bus_timed_pop_filtered (bus, TIMEOUT, GST_MESSAGE_ERROR | GST_MESSAGE_PROGRESS);

          g_assert_nonnull (message);
          if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_PROGRESS)
            {
              g_autofree char *code = NULL;

              gst_message_parse_progress (message, &last_progress, &code, NULL);
              g_assert_cmpstr (code, ==, "tvw-download");
              g_assert_true (n_progress > 0 || last_progress == GST_PROGRESS_TYPE_START);
              n_progress++;
              continue;
            }
          gst_message_parse_error (message, &error, NULL);
          break;
        }
      g_assert_nonnull (strstr (error->message, "ResNet18_Weights.IMAGENET1K_V1"));
      if (offline)
        {
          g_assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND);
          g_assert_cmpuint (n_progress, ==, 0);
        }
      else
        {
          g_assert_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ);
          g_assert_cmpuint (n_progress, >=, 2);
          g_assert_cmpint (last_progress, ==, GST_PROGRESS_TYPE_ERROR);
        }
      gst_element_set_state (pipeline, GST_STATE_NULL);
      assert_pipeline_finalized (pipeline);
    }
}

/* Downloads: a loopback server serves the embedded checkpoint under a
 * weights card's URL. */

#define EMBEDDED_CHECKPOINT "/org/gnome/Tvw/weights/mobilenet_v3_small-fashionmnist-5ac0872f.pth"
#define EMBEDDED_SHA256 "5ac0872f57002fb07bf5d04067903d1c33bf5b65d7e5a9ad29e4dac38477a9b2"

typedef struct
{
  GMainContext *context;
  GMainLoop    *loop;
  GBytes       *checkpoint;
  GMutex        lock;
  GCond         cond;
  int           port;
} Loopback;

static void
loopback_cb (SoupServer        *server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Loopback *loopback = user_data;

  if (g_str_equal (path, "/gsttest-5ac0872f.pth"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (loopback->checkpoint, NULL),
                                        g_bytes_get_size (loopback->checkpoint));
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static gpointer
loopback_thread (gpointer data)
{
  Loopback *loopback = data;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (loopback->context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, loopback_cb, loopback, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_mutex_lock (&loopback->lock);
  loopback->port = g_uri_get_port (uris->data);
  g_cond_broadcast (&loopback->cond);
  g_mutex_unlock (&loopback->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (loopback->loop);
  soup_server_disconnect (server);
  /* Let the closed connections go. */
  while (g_main_context_iteration (loopback->context, FALSE))
    ;
  g_main_context_pop_thread_default (loopback->context);
  return NULL;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Weights that are not on the machine are downloaded while frames pass,
 * with progress messages from START to COMPLETE; then frames are
 * classified. */
static void
test_download_progress (void)
{
  Loopback loopback = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GThread) thread = NULL;
  g_autofree char *card_path = g_build_filename (cache, "gsttest-card.json", NULL);
  g_autofree char *card = NULL;
  g_autoptr(GFile) card_file = NULL;
  g_autofree char *saved_offline = g_strdup (g_getenv ("TVW_OFFLINE"));
  GstElement *pipeline;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstElement) element = NULL;
  TvwWeights *weights;
  int last_percent = -1;
  guint n_progress = 0;
  gboolean complete = FALSE, ready = FALSE;

  loopback.checkpoint = g_resources_lookup_data (EMBEDDED_CHECKPOINT, 0, &error);
  g_assert_no_error (error);
  g_mutex_init (&loopback.lock);
  g_cond_init (&loopback.cond);
  loopback.context = g_main_context_new ();
  loopback.loop = g_main_loop_new (loopback.context, FALSE);
  thread = g_thread_new ("loopback", loopback_thread, &loopback);
  g_mutex_lock (&loopback.lock);
  while (loopback.port == 0)
    g_cond_wait (&loopback.cond, &loopback.lock);
  g_mutex_unlock (&loopback.lock);

  card = g_strdup_printf ("{\"enum\": \"GstTest_Weights\", \"builder\": \"mobilenet_v3_small\", "
                          "\"entries\": [{\"name\": \"LOOPBACK_V1\", "
                          "\"url\": \"http://127.0.0.1:%d/gsttest-5ac0872f.pth\", "
                          "\"sha256\": \"" EMBEDDED_SHA256 "\", \"num_classes\": 10, "
                          "\"transforms\": {\"preset\": \"ImageClassification\", "
                          "\"crop_size\": 64, \"resize_size\": 64}}]}",
                          loopback.port);
  g_assert_true (g_file_set_contents (card_path, card, -1, NULL));
  card_file = g_file_new_for_path (card_path);
  g_assert_true (tvw_register_weights_from_file (card_file, &error));
  g_assert_no_error (error);
  weights = tvw_get_weight ("GstTest_Weights.LOOPBACK_V1", &error);
  g_assert_no_error (error);
  g_assert_false (tvw_weights_is_cached (weights));

  /* The network is the loopback server. */
  g_unsetenv ("TVW_OFFLINE");
  pipeline = pipeline_new ("videotestsrc is-live=true ! video/x-raw,format=RGB,width=64,height=48,framerate=30/1 "
                           "! tvwclassify name=c weights=GstTest_Weights.LOOPBACK_V1 threads=1 ! fakesink",
                           NULL);
  bus = gst_element_get_bus (pipeline);
  element = gst_bin_get_by_name (GST_BIN (pipeline), "c");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;)
    {
      g_autoptr(GstMessage) message =
        gst_bus_timed_pop_filtered (bus, TIMEOUT, GST_MESSAGE_PROGRESS | GST_MESSAGE_ELEMENT |
                                                  GST_MESSAGE_ERROR);
      GstProgressType type;
      int percent;

      g_assert_nonnull (message);
      g_assert_cmpint (GST_MESSAGE_TYPE (message), !=, GST_MESSAGE_ERROR);
      if (gst_message_has_name (message, "tvw-classification"))
        break;
      if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_PROGRESS)
        continue;
      gst_message_parse_progress (message, &type, NULL, NULL);
      g_assert_true (gst_structure_get_int (gst_message_get_structure (message), "percent", &percent));
      g_assert_true (n_progress > 0 || type == GST_PROGRESS_TYPE_START);
      g_assert_false (complete);
      g_assert_cmpint (percent, >=, last_percent);
      last_percent = percent;
      n_progress++;
      complete = type == GST_PROGRESS_TYPE_COMPLETE;
    }
  g_assert_true (complete);
  g_assert_cmpint (last_percent, ==, 100);
  g_assert_cmpuint (n_progress, >=, 3);
  g_object_get (element, "model-ready", &ready, NULL);
  g_assert_true (ready);
  g_assert_true (tvw_weights_is_cached (weights));

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_set_flushing (bus, TRUE);
  g_clear_object (&element);
  assert_pipeline_finalized (pipeline);
  if (saved_offline != NULL)
    g_setenv ("TVW_OFFLINE", saved_offline, TRUE);

  g_main_context_invoke (loopback.context, quit_cb, loopback.loop);
  g_thread_join (g_steal_pointer (&thread));
  g_main_loop_unref (loopback.loop);
  g_main_context_unref (loopback.context);
  g_bytes_unref (loopback.checkpoint);
  g_mutex_clear (&loopback.lock);
  g_cond_clear (&loopback.cond);
  g_unlink (card_path);
}

/* The temporary cache: the downloaded checkpoint, dconf's cache. */
static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  TvwWeights *weights;
  int ret;

  /* No cache holds anything but the embedded weights. */
  cache = g_dir_make_tmp ("tvw-gst-XXXXXX", NULL);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  weights = tvw_get_weight (WEIGHTS, &error);
  g_assert_no_error (error);
  reference = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                              "weights", weights, "n-threads", 1, NULL);
  g_assert_no_error (error);

  g_test_add_func ("/tvw/gst/classify/properties-documented", test_properties_documented);
  g_test_add_func ("/tvw/gst/classify/rgb-same-as-image-path", test_rgb_same_as_image_path);
  g_test_add_func ("/tvw/gst/classify/packed-rgb-formats", test_packed_rgb_formats);
  g_test_add_func ("/tvw/gst/classify/yuv-as-videoconvert", test_yuv_as_videoconvert);
  g_test_add_func ("/tvw/gst/classify/caps-change", test_caps_change);
  g_test_add_func ("/tvw/gst/classify/busy-frames-pass", test_busy_frames_pass);
  g_test_add_func ("/tvw/gst/classify/meta-and-overlay", test_meta_and_overlay);
  g_test_add_func ("/tvw/gst/classify/qos-late-frames-skipped", test_qos_late_frames_skipped);
  g_test_add_func ("/tvw/gst/pipeline/interval", test_pipeline_interval);
  g_test_add_func ("/tvw/gst/pipeline/flushing-seek", test_pipeline_flushing_seek);
  g_test_add_func ("/tvw/gst/pipeline/state-changes", test_pipeline_state_changes);
  g_test_add_func ("/tvw/gst/pipeline/latency", test_pipeline_latency);
  g_test_add_func ("/tvw/gst/errors/unknown-weights", test_error_unknown_weights);
  g_test_add_func ("/tvw/gst/errors/not-cached", test_error_not_cached);
  g_test_add_func ("/tvw/gst/download/progress", test_download_progress);

  ret = g_test_run ();

  g_clear_object (&reference);
  remove_tree (cache);
  g_free (cache);
  gst_deinit ();
  return ret;
}
