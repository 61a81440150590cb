/* test-viewer.c — tvw-viewer's window under Xvfb: drops, bad input,
 * classification, weights that cannot run, a screenshot
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The model is a ResNet-18 with random weights (no checkpoint, no network);
 * what the window shows is compared with what libtvw computes for the same
 * files with the same model.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include <adwaita.h>
#include <tvw.h>

#include "tvw-viewer-detection.h"
#include "tvw-viewer-flow.h"
#include "tvw-viewer-image-row.h"
#include "tvw-viewer-util.h"
#include "tvw-viewer-weights-panel.h"
#include "tvw-viewer-window-private.h"

static char *fixture_dir;
static TvwModel *random_model;

static void spin (void);

/* Fixtures */

static char *
fixture_path (const char *name)
{
  return g_build_filename (fixture_dir, name, NULL);
}

/* A smooth picture with a disc whose place and colours depend on @seed. */
static void
write_png (const char *path,
           int         width,
           int         height,
           guint       seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GError) error = NULL;
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  GRand *rand = g_rand_new_with_seed (seed);
  int cx = g_rand_int_range (rand, width / 4, 3 * width / 4);
  int cy = g_rand_int_range (rand, height / 4, 3 * height / 4);
  int r = MIN (width, height) / 4;
  guint8 bg[3], fg[3];

  for (int c = 0; c < 3; c++)
    {
      bg[c] = g_rand_int_range (rand, 0, 256);
      fg[c] = g_rand_int_range (rand, 0, 256);
    }

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + y * stride + x * 3;
        gboolean inside = (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r;

        for (int c = 0; c < 3; c++)
          p[c] = inside ? fg[c] : (guint8) ((bg[c] + x * (c + 1) + y) & 0xff);
      }

  g_rand_free (rand);
  g_assert_true (gdk_pixbuf_save (pixbuf, path, "png", &error, NULL));
  g_assert_no_error (error);
}

static guint32
crc32 (const guint8 *data,
       gsize         len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
    }

  return crc ^ 0xffffffff;
}

/* A PNG header for a 20000 × 20000 image, and no pixels: the size alone
 * must get it refused. */
static void
write_huge_png (const char *path)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guint8 ihdr[4 + 13] = { 'I', 'H', 'D', 'R', 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 2, 0, 0, 0 };
  guint8 idat[4 + 2] = { 'I', 'D', 'A', 'T', 0x78, 0x9c };
  guint8 iend[4] = { 'I', 'E', 'N', 'D' };
  g_autoptr(GByteArray) png = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 be[4];
  guint32 crc;

  g_byte_array_append (png, signature, 8);
  be[0] = 0; be[1] = 0; be[2] = 0; be[3] = 13;
  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, ihdr, sizeof ihdr);
  crc = crc32 (ihdr, sizeof ihdr);
  be[0] = crc >> 24; be[1] = crc >> 16; be[2] = crc >> 8; be[3] = crc;
  g_byte_array_append (png, be, 4);
  /* The start of the pixel data: where a decoder learns the size. */
  be[0] = 0; be[1] = 0; be[2] = 0; be[3] = 2;
  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, idat, sizeof idat);
  crc = crc32 (idat, sizeof idat);
  be[0] = crc >> 24; be[1] = crc >> 16; be[2] = crc >> 8; be[3] = crc;
  g_byte_array_append (png, be, 4);
  be[0] = be[1] = be[2] = be[3] = 0;
  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, iend, 4);
  crc = crc32 (iend, 4);
  be[0] = crc >> 24; be[1] = crc >> 16; be[2] = crc >> 8; be[3] = crc;
  g_byte_array_append (png, be, 4);

  g_assert_true (g_file_set_contents (path, (const char *) png->data, png->len, &error));
}

static void
make_fixtures (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *png = NULL;
  g_autofree char *broken = NULL;
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *empty = NULL;
  g_autofree char *many = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  fixture_dir = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                  "viewer-fixtures", NULL);
  g_mkdir_with_parents (fixture_dir, 0755);

  png = fixture_path ("disc.png");
  write_png (png, 320, 240, 1);
  g_clear_pointer (&png, g_free);
  png = fixture_path ("tall.png");
  write_png (png, 180, 300, 2);
  g_clear_pointer (&png, g_free);
  png = fixture_path ("tiny.png");
  write_png (png, 28, 28, 3);

  /* A PNG cut in the middle of its pixel data. */
  g_assert_true (g_file_get_contents (png, &contents, &length, &error));
  g_clear_pointer (&png, g_free);
  png = fixture_path ("disc.png");
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (png, &contents, &length, &error));
  broken = fixture_path ("broken.png");
  g_assert_true (g_file_set_contents (broken, contents, length / 2, &error));

  text = fixture_path ("notes.txt");
  g_assert_true (g_file_set_contents (text, "This is not an image.\n", -1, &error));
  {
    g_autofree char *fake = fixture_path ("fake.png");

    g_assert_true (g_file_set_contents (fake, "This is not an image either.\n", -1, &error));
  }

  empty = fixture_path ("empty.png");
  g_assert_true (g_file_set_contents (empty, "", 0, &error));

  {
    g_autofree char *huge = fixture_path ("huge.png");

    write_huge_png (huge);
  }

  dir = fixture_path ("a-folder");
  g_mkdir_with_parents (dir, 0755);
  {
    g_autofree char *two = g_build_filename (dir, "img-2.png", NULL);
    g_autofree char *ten = g_build_filename (dir, "img-10.png", NULL);
    g_autofree char *note = g_build_filename (dir, "readme.txt", NULL);

    write_png (two, 64, 48, 20);
    write_png (ten, 64, 48, 21);
    g_assert_true (g_file_set_contents (note, "not an image\n", -1, &error));
  }
  {
    g_autofree char *empty_dir = fixture_path ("empty-folder");

    g_mkdir_with_parents (empty_dir, 0755);
  }

  many = fixture_path ("many");
  g_mkdir_with_parents (many, 0755);
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *name = g_strdup_printf ("img-%03u.png", i);
      g_autofree char *path = g_build_filename (many, name, NULL);

      /* Small images: the point is the number of files. */
      write_png (path, 48 + (i % 5) * 8, 40 + (i % 3) * 8, 100 + i);
    }
}

/* Running the window */

static TvwViewerWindow *
new_window (void)
{
  TvwViewerWindow *window = g_object_new (TVW_VIEWER_TYPE_WINDOW, NULL);

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
destroy_window (TvwViewerWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

typedef struct
{
  gint64 last;
  gint64 max_gap;
  guint  max_items_seen_partial;
  TvwViewerWindow *window;
} Ticker;

static gboolean
tick_cb (gpointer user_data)
{
  Ticker *ticker = user_data;
  gint64 now = g_get_monotonic_time ();
  guint n = g_list_model_get_n_items (_tvw_viewer_window_get_images (ticker->window));

  if (ticker->last != 0)
    ticker->max_gap = MAX (ticker->max_gap, now - ticker->last);
  ticker->last = now;

  if (n > 0 && n < 200)
    ticker->max_items_seen_partial = MAX (ticker->max_items_seen_partial, n);

  return G_SOURCE_CONTINUE;
}

static void
wait_settled (TvwViewerWindow *window,
              guint            n_images)
{
  gint64 deadline = g_get_monotonic_time () + 300 * G_USEC_PER_SEC;

  while (!(_tvw_viewer_window_is_settled (window) &&
           g_list_model_get_n_items (_tvw_viewer_window_get_images (window)) == n_images))
    {
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () > deadline)
        g_error ("The window did not settle with %u images", n_images);
    }

  /* Let the list lay out and draw. */
  for (int i = 0; i < 20; i++)
    {
      g_usleep (10000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

/* Drops @names through the window's GtkDropTarget, as a GdkFileList. */
static void
drop_files (TvwViewerWindow    *window,
            const char * const *names)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GSList *files = NULL;
  gboolean handled = FALSE;

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_path_is_absolute (names[i]) ? g_strdup (names[i]) : fixture_path (names[i]);

      files = g_slist_append (files, g_file_new_for_path (path));
    }

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, files);
  g_signal_emit_by_name (_tvw_viewer_window_get_drop_target (window), "drop", &value, 10.0, 10.0, &handled);
  g_assert_true (handled);
}

static TvwViewerImage *
find_image (TvwViewerWindow *window,
            const char      *title)
{
  GListModel *images = _tvw_viewer_window_get_images (window);

  for (guint i = 0; i < g_list_model_get_n_items (images); i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (images, i);

      if (g_strcmp0 (tvw_viewer_image_get_title (image), title) == 0)
        return image;
    }

  g_error ("No image “%s” in the window", title);
  return NULL;
}

static void
use_random_model (TvwViewerWindow *window)
{
  TvwWeights *weights = tvw_get_weight ("ResNet18_Weights.IMAGENET1K_V1", NULL);

  g_assert_nonnull (weights);
  _tvw_viewer_window_set_model_for_testing (window, weights, random_model);
}

/* What libtvw gives for @path with the random model, independently of the
 * viewer's code. */
static GListModel *
expected_predictions (const char *path)
{
  TvwWeights *weights = tvw_get_weight ("ResNet18_Weights.IMAGENET1K_V1", NULL);
  g_autoptr(TvwTransform) transform = tvw_weights_transforms (weights);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwTensor) input = NULL;
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(TvwTensor) output = NULL;
  GListModel *predictions;

  input = tvw_transform_apply_file (transform, file, NULL, &error);
  g_assert_no_error (error);
  batch = tvw_tensor_unsqueeze (input, 0);
  output = tvw_model_forward (random_model, batch, NULL, &error);
  g_assert_no_error (error);
  predictions = tvw_model_predictions_from_output (random_model, output, 5, &error);
  g_assert_no_error (error);

  return predictions;
}

static void
assert_failed (TvwViewerWindow *window,
               const char      *title,
               const char      *reason)
{
  TvwViewerImage *image = find_image (window, title);
  const char *message = tvw_viewer_image_get_message (image);

  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_FAILED);
  g_assert_nonnull (message);
  if (strstr (message, reason) == NULL)
    g_error ("%s: “%s” does not say “%s”", title, message, reason);
  g_assert_null (tvw_viewer_image_get_predictions (image));
}

/* Tests */

static void
test_drop_non_image (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "notes.txt", "fake.png", NULL };
  GdkDragAction action = 0;

  use_random_model (window);

  /* Dragging over the window says where to drop. */
  g_signal_emit_by_name (_tvw_viewer_window_get_drop_target (window), "enter", 10.0, 10.0, &action);
  g_assert_cmpint (action, ==, GDK_ACTION_COPY);
  g_assert_true (_tvw_viewer_window_get_drop_highlight (window));
  spin ();
  {
    g_autofree char *path = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                              "viewer-drop.png", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (_tvw_viewer_window_save_screenshot (window, path, &error));
  }

  drop_files (window, names);
  g_assert_false (_tvw_viewer_window_get_drop_highlight (window));
  wait_settled (window, 2);

  assert_failed (window, "notes.txt", "Not an image");
  /* Not “Not an image: PNG image”. */
  assert_failed (window, "fake.png", "Named like a PNG image, but its content is not an image");
  destroy_window (window);
}

static void
test_drop_broken_image (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "broken.png", "empty.png", "huge.png", NULL };

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 3);

  assert_failed (window, "broken.png", "damaged");
  assert_failed (window, "empty.png", "empty");
  assert_failed (window, "huge.png", "too large");
  destroy_window (window);
}

static void
test_drop_directory (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "a-folder", "empty-folder", "does-not-exist.png", NULL };
  GListModel *images = _tvw_viewer_window_get_images (window);

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 3);

  /* The folder's images, in natural order, without its text file; the
   * empty folder adds nothing. */
  g_assert_cmpuint (g_list_model_get_n_items (images), ==, 3);
  {
    g_autoptr(TvwViewerImage) first = g_list_model_get_item (images, 1);
    g_autoptr(TvwViewerImage) second = g_list_model_get_item (images, 2);

    g_assert_cmpstr (tvw_viewer_image_get_title (first), ==, "img-2.png");
    g_assert_cmpstr (tvw_viewer_image_get_title (second), ==, "img-10.png");
    g_assert_cmpint (tvw_viewer_image_get_state (first), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
    g_assert_cmpint (tvw_viewer_image_get_state (second), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
  }
  /* One plain sentence, not GIO's message repeating the path. */
  assert_failed (window, "does-not-exist.png", "The file is gone");
  g_assert_null (strstr (tvw_viewer_image_get_message (find_image (window, "does-not-exist.png")), "/"));
  destroy_window (window);
}

static void
assert_classified_like_libtvw (TvwViewerWindow *window,
                               const char      *title)
{
  TvwViewerImage *image = find_image (window, title);
  g_autofree char *path = fixture_path (title);
  g_autoptr(GListModel) expected = expected_predictions (path);
  TvwWeights *weights = tvw_get_weight ("ResNet18_Weights.IMAGENET1K_V1", NULL);
  const char * const *categories = tvw_weights_get_categories (weights);
  GListModel *shown = tvw_viewer_image_get_predictions (image);
  g_autofree char *text = NULL;

  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
  g_assert_nonnull (tvw_viewer_image_get_thumbnail (image));
  g_assert_nonnull (tvw_viewer_image_get_crop (image));
  g_assert_cmpstr (tvw_viewer_image_get_weights_name (image), ==, "ResNet18_Weights.IMAGENET1K_V1");
  g_assert_nonnull (shown);
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 5);
  g_assert_cmpuint (g_list_model_get_n_items (expected), ==, 5);

  /* The row of the list, when it exists, shows exactly these. */
  text = _tvw_viewer_window_get_shown_text (window, image);

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(TvwPrediction) s = g_list_model_get_item (shown, i);
      g_autoptr(TvwPrediction) e = g_list_model_get_item (expected, i);

      g_assert_cmpuint (tvw_prediction_get_index (s), ==, tvw_prediction_get_index (e));
      g_assert_cmpfloat_with_epsilon (tvw_prediction_get_score (s), tvw_prediction_get_score (e), 1e-6);
      g_assert_cmpstr (tvw_prediction_get_category (s), ==, categories[tvw_prediction_get_index (e)]);

      if (text != NULL)
        {
          g_autofree char *line = g_strdup_printf ("%s\t%.1f %%\n", categories[tvw_prediction_get_index (e)],
                                                   100.0 * tvw_prediction_get_score (e));

          if (strstr (text, line) == NULL)
            g_error ("The row of %s shows “%s”, not the line “%s”", title, text, line);
        }
    }
}

/* Distinct colours where the images are drawn (the right half, top): a
 * screenshot of flat colours missed them. */
static guint
count_colours (GdkPixbuf *pixbuf)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  for (int y = height / 8; y < height / 2; y++)
    for (int x = width / 2; x < width - 10; x++)
      {
        const guint8 *p = pixels + y * stride + x * channels;

        g_hash_table_add (seen, GUINT_TO_POINTER (1u + (p[0] << 16 | p[1] << 8 | p[2])));
      }

  return g_hash_table_size (seen);
}

static void
test_classify_shown (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", "tall.png", "tiny.png", NULL };
  g_autofree char *screenshot = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) png = NULL;

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 3);

  for (guint i = 0; names[i] != NULL; i++)
    assert_classified_like_libtvw (window, names[i]);

  /* At least the first row is on screen, so the widget tree was checked. */
  {
    g_autofree char *text = _tvw_viewer_window_get_shown_text (window, find_image (window, "disc.png"));

    g_assert_nonnull (text);
  }

  screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                 "viewer-window.png", NULL);
  g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
  g_assert_no_error (error);
  png = gdk_pixbuf_new_from_file (screenshot, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (png), ==, gtk_widget_get_width (GTK_WIDGET (window)));
  g_assert_cmpint (gdk_pixbuf_get_height (png), ==, gtk_widget_get_height (GTK_WIDGET (window)));
  g_assert_cmpuint (count_colours (png), >=, 100);

  destroy_window (window);
}

static void
test_reclassify_on_weights_change (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", "tall.png", NULL };
  g_autoptr(TvwModel) other = NULL;
  g_autoptr(GError) error = NULL;
  TvwWeights *resnet34 = tvw_get_weight ("ResNet34_Weights.IMAGENET1K_V1", NULL);

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 2);
  g_assert_cmpstr (tvw_viewer_image_get_weights_name (find_image (window, "disc.png")), ==,
                   "ResNet18_Weights.IMAGENET1K_V1");

  other = tvw_model_new ("resnet34", 1000, NULL, &error);
  g_assert_no_error (error);
  _tvw_viewer_window_set_model_for_testing (window, resnet34, other);
  wait_settled (window, 2);

  for (guint i = 0; names[i] != NULL; i++)
    {
      TvwViewerImage *image = find_image (window, names[i]);

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
      g_assert_cmpstr (tvw_viewer_image_get_weights_name (image), ==, "ResNet34_Weights.IMAGENET1K_V1");
    }

  destroy_window (window);
}

/* Every weights entry of the catalog runs in the viewer: image and video
 * classification, segmentation, detection and optical flow, and every
 * one of torchvision's builders has at least one. */
static void
test_every_entry_runs (void)
{
  g_auto(GStrv) builders = tvw_list_catalog_models (NULL, NULL);
  GListModel *enums = tvw_get_weights_enums ();
  g_autoptr(GHashTable) shown = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_with_weights = 0;

  g_assert_cmpuint (g_strv_length (builders), ==, 118);
  for (guint i = 0; i < g_list_model_get_n_items (enums); i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (enums, i);

      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (e)); j++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (e), j);
          const char *reason = tvw_viewer_weights_get_unrunnable_reason (w);

          if (reason != NULL)
            g_error ("%s cannot run in the viewer: %s", tvw_weights_get_full_name (w), reason);
        }
      g_hash_table_add (shown, (gpointer) tvw_weights_enum_get_builder (e));
    }

  for (guint i = 0; builders[i] != NULL; i++)
    if (g_hash_table_contains (shown, builders[i]))
      n_with_weights++;
  g_test_message ("the viewer can show %u of %u builders (those with weights)",
                  n_with_weights, g_strv_length (builders));
  g_assert_cmpuint (n_with_weights, ==, g_hash_table_size (shown));
  g_assert_true (g_hash_table_contains (shown, "raft_small"));
  g_assert_true (g_hash_table_contains (shown, "raft_large"));
}

static void
test_needs_download_offline (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *cache = fixture_path ("empty-cache");

  /* Nothing in either cache, and the network may not be used. */
  g_mkdir_with_parents (cache, 0755);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_assert_true (tvw_get_offline ());

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The weights must be downloaded first");
  g_assert_false (_tvw_viewer_window_can_download (window));

  /* Even asked to, it does not start. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.download", NULL);
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The weights must be downloaded first");

  g_unsetenv ("TVW_CACHE_DIR");
  g_unsetenv ("TORCH_HOME");
  destroy_window (window);
}

static void
test_drop_many_files (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *many = fixture_path ("many");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GListModel *images;
  Ticker ticker = { 0, 0, 0, window };
  guint tick_id;
  guint n_classified = 0;

  use_random_model (window);

  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (names, g_strdup_printf ("%s/img-%03u.png", many, i));
  g_ptr_array_add (names, NULL);

  tick_id = g_timeout_add (10, tick_cb, &ticker);
  drop_files (window, (const char * const *) names->pdata);

  /* Items are added from the main loop, a few at a time. */
  images = _tvw_viewer_window_get_images (window);
  g_assert_cmpuint (g_list_model_get_n_items (images), ==, 0);

  wait_settled (window, 200);
  g_source_remove (tick_id);

  g_test_message ("longest main loop stall: %.0f ms", ticker.max_gap / 1000.0);
  g_assert_cmpuint (ticker.max_items_seen_partial, >, 0);
  /* Generous, for a loaded machine: what matters is that no step of the
   * work (decoding, classifying, adding rows) runs on the main loop. */
  g_assert_cmpint (ticker.max_gap, <, 750 * 1000);

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (images, i);

      if (tvw_viewer_image_get_state (image) == TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
        n_classified++;
    }
  g_assert_cmpuint (n_classified, ==, 200);

  destroy_window (window);
}

/* Closing the window while hundreds of images are being read and
 * classified: the workers finish on their own, nothing complains. */
static void
test_close_while_busy (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *many = fixture_path ("many");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  use_random_model (window);
  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (names, g_strdup_printf ("%s/img-%03u.png", many, i));
  g_ptr_array_add (names, NULL);
  drop_files (window, (const char * const *) names->pdata);

  while (g_list_model_get_n_items (_tvw_viewer_window_get_images (window)) < 30)
    g_main_context_iteration (NULL, TRUE);

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (window));

  /* The last worker drops the last reference. */
  for (int i = 0; i < 3000 && window != NULL; i++)
    {
      g_usleep (1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  if (window != NULL)
    g_printerr ("refs left: %u\n", G_OBJECT (window)->ref_count);
  g_assert_null (window);
}

static void
test_open_samples (void)
{
  TvwViewerWindow *window;
  const char *samples = g_getenv ("TVW_SAMPLES_DIR");
  g_autoptr(GDir) dir = NULL;
  guint n_samples = 0;
  const char *name;

  if (samples == NULL || (dir = g_dir_open (samples, 0, NULL)) == NULL)
    {
      g_test_skip ("no samples directory");
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".png"))
      n_samples++;

  window = new_window ();
  use_random_model (window);
  /* The empty state's button. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-samples", NULL));
  wait_settled (window, n_samples);

  for (guint i = 0; i < n_samples; i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (_tvw_viewer_window_get_images (window), i);

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
    }

  destroy_window (window);
}

/* The first start: no weights chosen before, no network: the weights
 * built into libtvw are chosen, and the samples classified with them. */
static void
test_first_start_offline (void)
{
  TvwWeights *builtin = tvw_get_weight ("MobileNet_V3_Small_Weights.FASHIONMNIST_V1", NULL);
  g_autofree char *screenshot = NULL;
  g_autoptr(GError) error = NULL;
  TvwViewerWindow *window;
  GListModel *images;

  if (builtin == NULL)
    {
      g_test_skip ("libtvw has no built-in weights");
      return;
    }

  /* Earlier tests chose weights: forget them. */
  {
    g_autoptr(GSettings) settings = g_settings_new ("org.gnome.Tvw.Viewer");

    g_settings_reset (settings, "last-weights");
  }

  window = g_object_new (TVW_VIEWER_TYPE_WINDOW, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 1500);
  gtk_window_present (GTK_WINDOW (window));
  tvw_viewer_window_choose_weights (window, NULL);
  g_assert_true (tvw_viewer_window_get_weights (window) == builtin);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-samples", NULL));
  images = _tvw_viewer_window_get_images (window);
  while (g_list_model_get_n_items (images) == 0)
    g_main_context_iteration (NULL, TRUE);
  wait_settled (window, g_list_model_get_n_items (images));
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "Ready");

  for (guint i = 0; i < g_list_model_get_n_items (images); i++)
    {
      g_autoptr(TvwViewerImage) image = g_list_model_get_item (images, i);
      g_autoptr(TvwPrediction) top = NULL;

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
      g_assert_cmpstr (tvw_viewer_image_get_weights_name (image), ==,
                       "MobileNet_V3_Small_Weights.FASHIONMNIST_V1");
      top = g_list_model_get_item (tvw_viewer_image_get_predictions (image), 0);
      g_assert_nonnull (tvw_prediction_get_category (top));
    }

  /* Where the images are, the window says what these weights know; with
   * no network it offers nothing to download. */
  {
    GtkWidget *button = NULL;
    const char *notice = _tvw_viewer_window_get_notice (window, &button);
    g_autoptr(TvwViewerImage) first = g_list_model_get_item (images, 0);
    g_autofree char *shown = _tvw_viewer_window_get_shown_text (window, first);

    g_assert_nonnull (notice);
    if (strstr (notice, "only know 10 categories of Fashion-MNIST") == NULL ||
        strstr (notice, "clothing") == NULL)
      g_error ("The notice says “%s”", notice);
    g_assert_null (button);
    /* And every card, next to its results. */
    g_assert_nonnull (shown);
    if (strstr (shown, "By MobileNet V3 Small · FASHIONMNIST_V1") == NULL || strstr (shown, "clothing") == NULL)
      g_error ("The card shows “%s”", shown);
  }

  screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                 "viewer-first-start.png", NULL);
  g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
  g_assert_no_error (error);

  destroy_window (window);
}

static void
collect_widgets (GtkWidget *widget,
                 GType      type,
                 GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_widgets (child, type, found);
}

static gboolean
has_visible_label (GtkWidget  *widget,
                   const char *text)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  collect_widgets (widget, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_label (g_ptr_array_index (labels, i)), text) == 0 &&
        gtk_widget_is_visible (g_ptr_array_index (labels, i)))
      return TRUE;

  return FALSE;
}

static void
spin (void)
{
  for (int i = 0; i < 30; i++)
    {
      g_usleep (10000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

static void
test_paste_image (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *path = fixture_path ("disc.png");
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename (path, &error);
  GListModel *images = _tvw_viewer_window_get_images (window);
  TvwViewerImage *image;

  g_assert_no_error (error);
  use_random_model (window);
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (window)), texture);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.paste", NULL));
  while (g_list_model_get_n_items (images) == 0)
    g_main_context_iteration (NULL, TRUE);
  wait_settled (window, 1);

  image = find_image (window, "Pasted image");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
  g_assert_cmpuint (g_list_model_get_n_items (tvw_viewer_image_get_predictions (image)), ==, 5);
  g_assert_cmpstr (tvw_viewer_image_get_details (image), ==, "320 × 240");

  destroy_window (window);
}

static void
test_paste_files (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *png = fixture_path ("tall.png");
  g_autofree char *text = fixture_path ("notes.txt");
  g_autoptr(GFile) f1 = g_file_new_for_path (png);
  g_autoptr(GFile) f2 = g_file_new_for_path (text);
  GSList *files = NULL;
  GListModel *images = _tvw_viewer_window_get_images (window);

  use_random_model (window);
  files = g_slist_append (g_slist_append (NULL, f1), f2);
  gdk_clipboard_set (gtk_widget_get_clipboard (GTK_WIDGET (window)), GDK_TYPE_FILE_LIST, files);
  g_slist_free (files);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.paste", NULL));
  while (g_list_model_get_n_items (images) < 2)
    g_main_context_iteration (NULL, TRUE);
  wait_settled (window, 2);

  g_assert_cmpint (tvw_viewer_image_get_state (find_image (window, "tall.png")), ==,
                   TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
  assert_failed (window, "notes.txt", "Not an image");

  destroy_window (window);
}

/* GSettings (the memory backend here): the window's size and the weights
 * chosen last come back in the next window. */
static void
test_settings_remembered (void)
{
  TvwViewerWindow *window = new_window ();
  int width, height;

  tvw_viewer_window_choose_weights (window, "ResNet34_Weights.IMAGENET1K_V1");
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  spin ();
  gtk_window_close (GTK_WINDOW (window));
  spin ();

  window = new_window ();
  tvw_viewer_window_choose_weights (window, NULL);
  g_assert_cmpstr (tvw_weights_get_full_name (tvw_viewer_window_get_weights (window)), ==,
                   "ResNet34_Weights.IMAGENET1K_V1");
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 640);

  /* Back to the defaults for the tests that follow. */
  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 760);
  gtk_window_close (GTK_WINDOW (window));
  spin ();
  {
    g_autoptr(GSettings) settings = g_settings_new ("org.gnome.Tvw.Viewer");

    g_settings_reset (settings, "last-weights");
  }
}

/* Writes what @widget draws (a popover: its own surface) to the build
 * directory, to look at. */
static void
save_widget_png (GtkWidget  *widget,
                 GdkPaintable *paintable,
                 const char *name)
{
  g_autofree char *path = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                            name, NULL);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* The pickers' popups: every model, searchable; the weights entries with
 * DEFAULT marked, and those that cannot run saying why. */
static void
test_pickers (void)
{
  TvwViewerWindow *window = new_window ();
  g_autoptr(GPtrArray) dropdowns = g_ptr_array_new ();
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autoptr(GPtrArray) popovers = g_ptr_array_new ();
  GtkDropDown *models, *weights;
  GtkWidget *popup;
  guint n_shown;

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  collect_widgets (GTK_WIDGET (window), GTK_TYPE_DROP_DOWN, dropdowns);
  g_assert_cmpuint (dropdowns->len, ==, 2);
  models = g_ptr_array_index (dropdowns, 0);
  weights = g_ptr_array_index (dropdowns, 1);

  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (models)), ==,
                    g_list_model_get_n_items (tvw_get_weights_enums ()));
  g_assert_true (gtk_drop_down_get_enable_search (models));
  g_assert_cmpstr (tvw_weights_enum_get_builder (gtk_drop_down_get_selected_item (models)), ==, "resnet50");
  g_assert_cmpstr (tvw_weights_get_name (gtk_drop_down_get_selected_item (weights)), ==, "IMAGENET1K_V2");

  /* The weights popup: both entries, the default one marked. */
  g_signal_emit_by_name (weights, "activate");
  spin ();
  g_assert_true (has_visible_label (GTK_WIDGET (weights), "IMAGENET1K_V1"));
  g_assert_true (has_visible_label (GTK_WIDGET (weights), "Default"));
  gtk_widget_activate_action (GTK_WIDGET (weights), "popover.close", NULL);

  /* The model popup, searched. */
  g_signal_emit_by_name (models, "activate");
  spin ();
  collect_widgets (GTK_WIDGET (models), GTK_TYPE_POPOVER, popovers);
  g_assert_cmpuint (popovers->len, ==, 1);
  popup = g_ptr_array_index (popovers, 0);
  collect_widgets (popup, GTK_TYPE_SEARCH_ENTRY, entries);
  g_assert_cmpuint (entries->len, ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (g_ptr_array_index (entries, 0)), "vit_");
  spin ();
  g_assert_true (has_visible_label (popup, "ViT B 16"));
  g_assert_false (has_visible_label (popup, "ResNet-50"));
  /* Not implemented (yet): listed, with the reason. */
  if (!tvw_is_model_supported ("vit_b_16"))
    g_assert_true (has_visible_label (popup, "libtvw cannot build this model yet"));

  n_shown = 0;
  {
    g_autoptr(GPtrArray) labels = g_ptr_array_new ();

    collect_widgets (popup, GTK_TYPE_LABEL, labels);
    for (guint i = 0; i < labels->len; i++)
      if (g_str_has_prefix (gtk_label_get_label (g_ptr_array_index (labels, i)), "ViT ") &&
          gtk_widget_get_mapped (g_ptr_array_index (labels, i)))
        n_shown++;
  }
  g_assert_cmpuint (n_shown, >=, 5);

  {
    g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (popup);

    gtk_editable_set_text (GTK_EDITABLE (g_ptr_array_index (entries, 0)), "");
    spin ();
    save_widget_png (popup, paintable, "viewer-model-picker.png");
  }

  destroy_window (window);
}

/* The meta panel of ResNet50_Weights.IMAGENET1K_V2: what the entry's meta
 * and transforms say, and a searchable list of its categories. */
static void
test_meta_panel (void)
{
  TvwViewerWindow *window = new_window ();
  TvwWeights *weights = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL);
  g_autoptr(TvwTransform) transform = tvw_weights_transforms (weights);
  g_autoptr(GVariant) num_params = tvw_weights_lookup_meta (weights, "num_params");
  g_autoptr(GPtrArray) entries = g_ptr_array_new ();
  g_autoptr(GPtrArray) expanders = g_ptr_array_new ();
  g_autofree char *params = NULL;
  g_autofree char *crop = NULL;
  g_autofree char *resize = NULL;
  g_autofree char *top1 = NULL;
  GtkWidget *search = NULL;
  int h, w, first;

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  spin ();

  params = g_strdup_printf ("%.1f million", g_variant_get_int64 (num_params) / 1e6);
  tvw_transform_get_crop_size (transform, &h, &w);
  crop = g_strdup_printf ("%d × %d px", h, w);
  tvw_transform_get_resize_size (transform, &first, NULL);
  resize = g_strdup_printf ("Shorter side to %d px, bilinear", first);
  top1 = g_strdup_printf ("%.2f %%", 80.858);

  g_assert_true (has_visible_label (GTK_WIDGET (window), params));
  g_assert_true (has_visible_label (GTK_WIDGET (window), crop));
  g_assert_true (has_visible_label (GTK_WIDGET (window), resize));
  g_assert_true (has_visible_label (GTK_WIDGET (window), "ImageNet-1K"));
  g_assert_true (has_visible_label (GTK_WIDGET (window), top1));
  g_assert_true (has_visible_label (GTK_WIDGET (window), "1000 classes"));
  g_assert_true (has_visible_label (GTK_WIDGET (window), "0.485, 0.456, 0.406"));
  g_assert_true (has_visible_label (GTK_WIDGET (window), "Not downloaded"));

  /* Expand the categories and search them. */
  {
    g_autoptr(GPtrArray) panels = g_ptr_array_new ();

    collect_widgets (GTK_WIDGET (window), TVW_VIEWER_TYPE_WEIGHTS_PANEL, panels);
    g_assert_cmpuint (panels->len, ==, 1);
    collect_widgets (g_ptr_array_index (panels, 0), ADW_TYPE_EXPANDER_ROW, expanders);
  }
  g_assert_cmpuint (expanders->len, ==, 1);
  adw_expander_row_set_expanded (g_ptr_array_index (expanders, 0), TRUE);
  collect_widgets (g_ptr_array_index (expanders, 0), GTK_TYPE_SEARCH_ENTRY, entries);
  g_assert_cmpuint (entries->len, ==, 1);
  search = g_ptr_array_index (entries, 0);
  spin ();
  /* The categories do not scroll inside the sidebar (a wheel trap): any
   * scrolled window in them shows all it holds. */
  {
    g_autoptr(GPtrArray) scrollers = g_ptr_array_new ();

    collect_widgets (g_ptr_array_index (expanders, 0), GTK_TYPE_SCROLLED_WINDOW, scrollers);
    g_assert_cmpuint (scrollers->len, >=, 1);
    for (guint i = 0; i < scrollers->len; i++)
      {
        GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (g_ptr_array_index (scrollers, i));

        g_assert_cmpfloat (gtk_adjustment_get_upper (v) - gtk_adjustment_get_lower (v), <=,
                           gtk_adjustment_get_page_size (v) + 0.5);
        g_assert_cmpfloat (gtk_adjustment_get_upper (v), >, 1000.0);
      }
  }
  gtk_editable_set_text (GTK_EDITABLE (search), "tabby");
  spin ();
  g_assert_true (has_visible_label (g_ptr_array_index (expanders, 0), "tabby"));
  g_assert_true (has_visible_label (g_ptr_array_index (expanders, 0), "281"));
  g_assert_false (has_visible_label (g_ptr_array_index (expanders, 0), "tench"));
  gtk_editable_set_text (GTK_EDITABLE (search), "no such category");
  spin ();
  g_assert_true (has_visible_label (g_ptr_array_index (expanders, 0), "No matching category"));

  destroy_window (window);
}


/* Nothing cached, network allowed, and downloads going to a mirror folder
 * that does not exist: every download fails at once, without a network. */
static char *
use_failing_mirror (void)
{
  g_autofree char *cache = fixture_path ("empty-cache");
  char *mirror = fixture_path ("no-such-mirror");

  g_mkdir_with_parents (cache, 0755);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_setenv ("TVW_OFFLINE", "0", TRUE);
  {
    g_autofree char *uri = g_filename_to_uri (mirror, NULL, NULL);

    g_setenv ("TVW_MIRROR", uri, TRUE);
  }

  return mirror;
}

static void
forget_failing_mirror (void)
{
  g_unsetenv ("TVW_CACHE_DIR");
  g_unsetenv ("TORCH_HOME");
  g_unsetenv ("TVW_MIRROR");
  g_setenv ("TVW_OFFLINE", "1", TRUE);
}

static void
assert_contains (const char *text,
                 const char *part)
{
  if (text == NULL || strstr (text, part) == NULL)
    g_error ("“%s” does not say “%s”", text, part);
}

/* A failed download stays on the status row, in a sentence, with the
 * error itself in an expander, until the next attempt; the row names the
 * mirror actually used and the size before anything is downloaded. */
static void
test_download_error_persists (void)
{
  TvwViewerWindow *window = new_window ();
  g_autofree char *mirror = use_failing_mirror ();
  const char *details;

  g_assert_false (tvw_get_offline ());
  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The weights must be downloaded first");
  /* 25 557 032 float32 parameters: about 97 MB, from the mirror. */
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), "about 97 MB from ");
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), mirror);
  g_assert_true (_tvw_viewer_window_can_download (window));
  g_assert_null (_tvw_viewer_window_get_status_details (window));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.download", NULL));
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The download failed");
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), "could not be downloaded from");
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), mirror);
  details = _tvw_viewer_window_get_status_details (window);
  g_assert_nonnull (details);
  /* The technical message is in the details, not in the sentence. */
  assert_contains (details, "resnet50-11ad3fa6.pth");
  g_assert_null (strstr (_tvw_viewer_window_get_status_subtitle (window), "resnet50-11ad3fa6.pth"));

  /* Still there later: no toast that times out. */
  for (int i = 0; i < 5; i++)
    spin ();
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The download failed");
  g_assert_true (_tvw_viewer_window_can_download (window));

  /* The next attempt clears it while it runs. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.download", NULL));
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "Downloading the weights…");
  g_assert_null (_tvw_viewer_window_get_status_details (window));
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The download failed");

  forget_failing_mirror ();
  destroy_window (window);
}


/* A loopback server that starts every download and never finishes it:
 * the first megabyte of a 100 MB file, then nothing. */
static gboolean
stalling_server_cb (GSocketService     *service,
                    GSocketConnection  *connection,
                    GObject            *source,
                    GPtrArray          *kept)
{
  static const char headers[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n";
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autofree char *body = g_malloc0 (1024 * 1024);

  g_output_stream_write_all (out, headers, strlen (headers), NULL, NULL, NULL);
  g_output_stream_write_all (out, body, 1024 * 1024, NULL, NULL, NULL);
  g_ptr_array_add (kept, g_object_ref (connection));

  return TRUE;
}

static GtkLabel *
find_label (GtkWidget  *widget,
            const char *text)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();

  collect_widgets (widget, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_label (g_ptr_array_index (labels, i)), text) == 0 &&
        gtk_widget_get_mapped (g_ptr_array_index (labels, i)))
      return g_ptr_array_index (labels, i);

  return NULL;
}

/* While downloading, the status row keeps its title on one line (the
 * progress bar has a row of its own) and can be cancelled. */
static void
test_download_progress_row (void)
{
  TvwViewerWindow *window = new_window ();
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  g_autofree char *cache = fixture_path ("progress-cache");
  g_autofree char *mirror = NULL;
  GtkLabel *title;
  guint16 port;
  int one_line, height;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (stalling_server_cb), kept);
  g_socket_service_start (service);

  mirror = g_strdup_printf ("http://127.0.0.1:%u", port);
  g_mkdir_with_parents (cache, 0755);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_setenv ("TVW_OFFLINE", "0", TRUE);
  g_setenv ("TVW_MIRROR", mirror, TRUE);

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  wait_settled (window, 0);
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), "from 127.0.0.1");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.download", NULL));
  while (strstr (_tvw_viewer_window_get_status_subtitle (window), "of 95.4 MB") == NULL)
    g_main_context_iteration (NULL, TRUE);
  spin ();

  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "Downloading the weights…");
  title = find_label (GTK_WIDGET (window), "Downloading the weights…");
  g_assert_nonnull (title);
  /* Its height at the width it has is that of one line. */
  gtk_widget_measure (GTK_WIDGET (title), GTK_ORIENTATION_VERTICAL, G_MAXINT / 2, &one_line, NULL, NULL, NULL);
  height = gtk_widget_get_height (GTK_WIDGET (title));
  g_assert_cmpint (height, ==, one_line);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-download", NULL));
  wait_settled (window, 0);
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The weights must be downloaded first");

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  /* The interrupted download's partial file would resume next time. */
  {
    g_autoptr(GDir) dir = g_dir_open (cache, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (cache, name, NULL);

        g_unlink (path);
      }
  }
  forget_failing_mirror ();
  destroy_window (window);
}


/* Remove All can be undone from its toast, with the results as they were. */
static void
test_remove_all_undo (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", "tall.png", NULL };
  GListModel *images = _tvw_viewer_window_get_images (window);

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 2);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.clear", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (images), ==, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-clear", NULL));
  wait_settled (window, 2);
  for (guint i = 0; names[i] != NULL; i++)
    {
      TvwViewerImage *image = find_image (window, names[i]);

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
      g_assert_cmpuint (g_list_model_get_n_items (tvw_viewer_image_get_predictions (image)), ==, 5);
    }

  /* Once only. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo-clear", NULL));
  g_assert_cmpuint (g_list_model_get_n_items (images), ==, 2);

  destroy_window (window);
}

/* The meta panel per task: detection entries have no empty preprocessing
 * group and name their metric; quantized entries link the unquantized
 * weights their text speaks of. */
static void
test_meta_per_task (void)
{
  TvwViewerWindow *window = new_window ();
  g_autoptr(GPtrArray) groups = g_ptr_array_new ();
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  AdwActionRow *unquantized = NULL;
  GtkWidget *sidebar = adw_flap_get_flap (_tvw_viewer_window_get_flap (window));
  const char * const entries[] = { "ResNet50_Weights.IMAGENET1K_V2", "MobileNet_V3_Small_Weights.FASHIONMNIST_V1",
                                   "ViT_H_14_Weights.IMAGENET1K_SWAG_E2E_V1", NULL };
  int width = -1;

  /* The sidebar keeps its width whatever the entry shows. */
  for (guint i = 0; entries[i] != NULL; i++)
    {
      tvw_viewer_window_choose_weights (window, entries[i]);
      spin ();
      if (width < 0)
        width = gtk_widget_get_width (sidebar);
      g_assert_cmpint (gtk_widget_get_width (sidebar), ==, width);
    }

  /* One precision for one number: the picker and the panel. */
  {
    g_autofree char *picker = tvw_viewer_weights_describe_accuracy (tvw_get_weight (entries[0], NULL));

    tvw_viewer_window_choose_weights (window, entries[0]);
    spin ();
    assert_contains (picker, "80.86 %");
    g_assert_true (has_visible_label (GTK_WIDGET (window), "80.86 %"));
  }

  tvw_viewer_window_choose_weights (window, "FasterRCNN_ResNet50_FPN_Weights.COCO_V1");
  spin ();
  collect_widgets (GTK_WIDGET (window), ADW_TYPE_PREFERENCES_GROUP, groups);
  for (guint i = 0; i < groups->len; i++)
    if (g_strcmp0 (adw_preferences_group_get_title (g_ptr_array_index (groups, i)), "Preprocessing") == 0)
      g_assert_false (gtk_widget_get_visible (g_ptr_array_index (groups, i)));
  collect_widgets (GTK_WIDGET (window), ADW_TYPE_ACTION_ROW, rows);
  {
    gboolean named = FALSE;

    for (guint i = 0; i < rows->len; i++)
      if (g_strcmp0 (adw_action_row_get_subtitle (g_ptr_array_index (rows, i)), "Box mAP: 37.0") == 0)
        named = TRUE;
    g_assert_true (named);
  }

  tvw_viewer_window_choose_weights (window, "ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1");
  spin ();
  g_ptr_array_set_size (rows, 0);
  collect_widgets (GTK_WIDGET (window), ADW_TYPE_ACTION_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_strcmp0 (adw_preferences_row_get_title (g_ptr_array_index (rows, i)), "Unquantized weights") == 0)
      unquantized = g_ptr_array_index (rows, i);
  g_assert_nonnull (unquantized);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (unquantized)));
  g_assert_cmpstr (adw_action_row_get_subtitle (unquantized), ==, "ResNet50_Weights.IMAGENET1K_V1");
  g_signal_emit_by_name (unquantized, "activate");
  spin ();
  g_assert_cmpstr (tvw_weights_get_full_name (tvw_viewer_window_get_weights (window)), ==,
                   "ResNet50_Weights.IMAGENET1K_V1");

  destroy_window (window);
}


/* With the network allowed, narrow weights come with an offer of
 * general-purpose ones: choosing them downloads nothing by itself. */
static void
test_offer_general_weights (void)
{
  TvwWeights *builtin = tvw_get_weight ("MobileNet_V3_Small_Weights.FASHIONMNIST_V1", NULL);
  g_autofree char *mirror = NULL;
  TvwViewerWindow *window;
  GtkWidget *button = NULL;
  TvwWeights *chosen;
  g_autoptr(GVariant) num_params = NULL;

  if (builtin == NULL)
    {
      g_test_skip ("libtvw has no built-in weights");
      return;
    }

  mirror = use_failing_mirror ();
  window = new_window ();
  tvw_viewer_window_choose_weights (window, "MobileNet_V3_Small_Weights.FASHIONMNIST_V1");
  wait_settled (window, 0);
  assert_contains (_tvw_viewer_window_get_notice (window, &button), "only know 10 categories");
  g_assert_nonnull (button);
  g_assert_true (g_str_has_prefix (gtk_button_get_label (GTK_BUTTON (button)), "_Use "));

  g_signal_emit_by_name (button, "clicked");
  wait_settled (window, 0);
  chosen = tvw_viewer_window_get_weights (window);
  g_assert_true (chosen != builtin);
  /* An ImageNet classifier this build runs, of a reasonable download. */
  g_assert_cmpuint (tvw_weights_get_num_classes (chosen), ==, 1000);
  g_assert_null (tvw_viewer_weights_get_unrunnable_reason (chosen));
  num_params = tvw_weights_lookup_meta (chosen, "num_params");
  g_assert_cmpint (g_variant_get_int64 (num_params), <=, 30000000);
  g_test_message ("offered: %s", tvw_weights_get_full_name (chosen));
  g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "The weights must be downloaded first");
  /* General weights need no notice. */
  g_assert_null (_tvw_viewer_window_get_notice (window, NULL));

  forget_failing_mirror ();
  destroy_window (window);
}

/* Offline: the status says “no network” in words, and choosing weights
 * that are not here keeps the results of the ones that were. */
static void
test_offline_keeps_results (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", "tall.png", NULL };
  g_autofree char *cache = fixture_path ("empty-cache");

  g_mkdir_with_parents (cache, 0755);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);

  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 2);

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  wait_settled (window, 2);
  g_assert_false (_tvw_viewer_window_can_download (window));
  assert_contains (_tvw_viewer_window_get_status_subtitle (window), "no network");
  g_assert_null (strstr (_tvw_viewer_window_get_status_subtitle (window), "TVW_OFFLINE"));

  for (guint i = 0; names[i] != NULL; i++)
    {
      TvwViewerImage *image = find_image (window, names[i]);
      g_autofree char *shown = _tvw_viewer_window_get_shown_text (window, image);

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
      g_assert_cmpuint (g_list_model_get_n_items (tvw_viewer_image_get_predictions (image)), ==, 5);
      g_assert_cmpstr (tvw_viewer_image_get_weights_name (image), ==, "ResNet18_Weights.IMAGENET1K_V1");
      /* The card says whose results they are. */
      if (shown != NULL)
        assert_contains (shown, "By ResNet-18 · IMAGENET1K_V1");
    }

  /* A new image cannot be classified: it says why, in words, and shows no
   * “loading” dots since nothing is under way. */
  {
    const char * const more[] = { "tiny.png", NULL };
    TvwViewerImage *image;

    drop_files (window, more);
    wait_settled (window, 3);
    image = find_image (window, "tiny.png");
    g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_WAITING);
    assert_contains (tvw_viewer_image_get_message (image), "no network");
    g_assert_false (tvw_viewer_image_is_waiting_busy (image));
  }

  g_unsetenv ("TVW_CACHE_DIR");
  g_unsetenv ("TORCH_HOME");
  destroy_window (window);
}

/* The model picker: models that run first, readable names in natural
 * order; the others say why and never look busy. */
static void
test_runnable_first (void)
{
  TvwViewerWindow *window = new_window ();
  g_autoptr(GPtrArray) dropdowns = g_ptr_array_new ();
  const char * const names[] = { "disc.png", NULL };
  GListModel *models;
  gboolean seen_unrunnable = FALSE;
  guint n_runnable = 0, n_unrunnable = 0;
  int resnet18 = -1, resnet101 = -1;
  TvwWeights *unrunnable = NULL;
  TvwViewerImage *image;

  collect_widgets (GTK_WIDGET (window), GTK_TYPE_DROP_DOWN, dropdowns);
  models = gtk_drop_down_get_model (g_ptr_array_index (dropdowns, 0));
  g_assert_cmpuint (g_list_model_get_n_items (models), ==, g_list_model_get_n_items (tvw_get_weights_enums ()));

  for (guint i = 0; i < g_list_model_get_n_items (models); i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (models, i);
      g_autoptr(TvwWeights) first = g_list_model_get_item (G_LIST_MODEL (e), 0);
      gboolean runs = FALSE;

      /* What the library says, independently of the viewer's helpers. */
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (e)); j++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (e), j);
          const char *preset = tvw_weights_get_preset (w);

          runs |= tvw_is_model_supported (tvw_weights_enum_get_builder (e)) &&
                  (g_strcmp0 (preset, "ImageClassification") == 0 || g_strcmp0 (preset, "SemanticSegmentation") == 0 ||
                   g_strcmp0 (preset, "ObjectDetection") == 0 || g_strcmp0 (preset, "VideoClassification") == 0 ||
                   g_strcmp0 (preset, "OpticalFlow") == 0);
        }

      if (runs)
        {
          g_assert_false (seen_unrunnable);
          n_runnable++;
        }
      else
        {
          seen_unrunnable = TRUE;
          n_unrunnable++;
          if (unrunnable == NULL)
            unrunnable = tvw_get_weight (tvw_weights_get_full_name (first), NULL);
        }

      if (g_str_equal (tvw_weights_enum_get_builder (e), "resnet18"))
        resnet18 = i;
      if (g_str_equal (tvw_weights_enum_get_builder (e), "resnet101"))
        resnet101 = i;
    }
  g_test_message ("%u models run, %u do not", n_runnable, n_unrunnable);
  g_assert_cmpuint (n_runnable, >, 0);
  g_assert_cmpint (resnet18, >=, 0);
  g_assert_cmpint (resnet101, >, resnet18);

  {
    g_autofree char *name = tvw_viewer_weights_enum_get_display_name (tvw_get_model_weights ("resnet50", NULL));

    g_assert_cmpstr (name, ==, "ResNet-50");
    g_clear_pointer (&name, g_free);
    name = tvw_viewer_weights_enum_get_display_name (tvw_get_model_weights ("mobilenet_v3_small", NULL));
    g_assert_cmpstr (name, ==, "MobileNet V3 Small");
  }

  /* Weights that cannot run (whichever they are in this build): the
   * status and the card say why, with no dots of something loading. */
  if (unrunnable != NULL)
    {
      tvw_viewer_window_choose_weights (window, tvw_weights_get_full_name (unrunnable));
      drop_files (window, names);
      wait_settled (window, 1);
      g_assert_cmpstr (_tvw_viewer_window_get_status_title (window), ==, "These weights cannot run here");
      g_assert_cmpstr (_tvw_viewer_window_get_status_subtitle (window), ==,
                       tvw_viewer_weights_get_unrunnable_reason (unrunnable));
      image = find_image (window, "disc.png");
      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_WAITING);
      g_assert_false (tvw_viewer_image_is_waiting_busy (image));
      assert_contains (tvw_viewer_image_get_message (image), tvw_viewer_weights_get_unrunnable_reason (unrunnable));
    }

  destroy_window (window);
}

static void
assert_accessible_label (GtkWidget  *widget,
                         const char *expected)
{
  g_autofree char *problem = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                                                 GTK_ACCESSIBLE_PROPERTY_LABEL, expected);

  if (problem != NULL)
    g_error ("%s", problem);
}

/* The RGB of @texture at (@x, @y). */
static void
texture_pixel (GdkTexture *texture,
               int         x,
               int         y,
               guint8      rgb[3])
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint8 *data = g_malloc ((gsize) width * height * 4);
  guint32 pixel;

  /* GDK_MEMORY_DEFAULT: premultiplied B, G, R, A in memory; the images
   * are opaque. */
  gdk_texture_download (texture, data, (gsize) width * 4);
  memcpy (&pixel, data + ((gsize) y * width + x) * 4, 4);
  rgb[0] = (pixel >> 16) & 0xff;
  rgb[1] = (pixel >> 8) & 0xff;
  rgb[2] = pixel & 0xff;
}

/* A detection entry with a random SSDlite: the drawn image, the list of
 * the objects at the slider's threshold, redrawn without the model
 * running again, and the selected object highlighted.  Random weights
 * find any number of objects: the test holds the list to
 * tvw_detection_count_above () and to what libtvw finds by itself. */
static void
test_detection (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", NULL };
  TvwWeights *weights = tvw_get_weight ("SSDLite320_MobileNet_V3_Large_Weights.COCO_V1", NULL);
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwDetection) expected = NULL;
  g_autoptr(GdkPixbuf) pixels = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = fixture_path ("disc.png");
  g_autofree char *shown = NULL;
  TvwViewerDetection *view;
  TvwViewerImageRow *row;
  TvwViewerImage *image;
  TvwDetection *detection;
  GdkTexture *plain;
  guint n_objects;
  int first;

  g_assert_nonnull (weights);
  g_assert_null (tvw_viewer_weights_get_unrunnable_reason (weights));
  model = tvw_model_new ("ssdlite320_mobilenet_v3_large", 91, NULL, &error);
  g_assert_no_error (error);

  _tvw_viewer_window_set_model_for_testing (window, weights, model);
  drop_files (window, names);
  wait_settled (window, 1);

  image = find_image (window, "disc.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
  detection = tvw_viewer_image_get_detection (image);
  g_assert_nonnull (detection);
  g_assert_null (tvw_viewer_image_get_segmentation (image));

  /* What libtvw finds in the same pixels with the same model. */
  pixels = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  expected = tvw_model_detect (model, pixels, NULL, &error);
  g_assert_no_error (error);
  n_objects = tvw_detection_get_n_objects (expected);
  g_test_message ("%u objects, %u at 0.5", n_objects, tvw_detection_count_above (expected, 0.5));
  g_assert_cmpuint (tvw_detection_get_n_objects (detection), ==, n_objects);
  g_assert_cmpuint (tvw_detection_get_width (detection), ==, 320);
  g_assert_cmpuint (tvw_detection_get_height (detection), ==, 240);
  if (n_objects > 0)
    g_assert_cmpfloat_with_epsilon (tvw_detection_get_score (detection, 0),
                                    tvw_detection_get_score (expected, 0), 1e-6);

  spin ();
  collect_widgets (GTK_WIDGET (window), TVW_VIEWER_TYPE_IMAGE_ROW, rows);
  g_assert_cmpuint (rows->len, ==, 1);
  row = g_ptr_array_index (rows, 0);
  g_assert_nonnull (tvw_viewer_image_row_get_detection_view (row));
  view = TVW_VIEWER_DETECTION (tvw_viewer_image_row_get_detection_view (row));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)));
  g_assert_true (tvw_viewer_detection_get_detection (view) == detection);

  /* The default threshold, and the drawing at the image's size. */
  g_assert_cmpfloat (tvw_viewer_detection_get_threshold (view), ==, 0.5);
  g_assert_cmpuint (tvw_viewer_detection_get_n_listed (view), ==, tvw_detection_count_above (detection, 0.5));
  g_assert_nonnull (tvw_viewer_detection_get_rendered (view));
  g_assert_cmpint (gdk_texture_get_width (tvw_viewer_detection_get_rendered (view)), ==, 320);
  g_assert_cmpint (gdk_texture_get_height (tvw_viewer_detection_get_rendered (view)), ==, 240);
  assert_accessible_label (tvw_viewer_detection_get_threshold_scale (view), "Lowest score of the objects shown");
  assert_accessible_label (GTK_WIDGET (tvw_viewer_detection_get_list (view)), "Objects found");

  /* Every threshold: the list is the objects scoring at least it, and the
   * model does not run again. */
  for (double t = 0.0; t <= 1.0001; t += 0.25)
    {
      tvw_viewer_detection_set_threshold (view, t);
      spin ();
      g_assert_cmpuint (tvw_viewer_detection_get_n_listed (view), ==, tvw_detection_count_above (detection, t));
      for (guint i = 0; i < tvw_viewer_detection_get_n_listed (view); i++)
        g_assert_cmpfloat (tvw_detection_get_score (detection, tvw_viewer_detection_get_listed_object (view, i)), >=, t);
      g_assert_true (tvw_viewer_image_get_detection (image) == detection);
      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
    }
  g_assert_cmpuint (tvw_viewer_detection_get_n_listed (view), ==, 0);
  shown = tvw_viewer_image_row_get_shown_text (row);
  g_assert_cmpstr (shown, ==, "disc.png\n");

  /* Everything listed, the first object selected: the others dimmed,
   * its box kept as drawn. */
  tvw_viewer_detection_set_threshold (view, 0.0);
  spin ();
  if (n_objects == 0)
    {
      g_test_message ("random weights found nothing: selection not checked");
      destroy_window (window);
      return;
    }
  first = tvw_viewer_detection_get_listed_object (view, 0);
  g_assert_cmpint (first, >=, 0);
  {
    GtkListBoxRow *list_row = gtk_list_box_get_row_at_index (tvw_viewer_detection_get_list (view), 0);
    g_autofree char *name = tvw_viewer_detection_object_name (detection, first, tvw_weights_get_categories (weights));
    g_autofree char *label = g_strdup_printf ("%s, score %.1f %%", name, 100.0 * tvw_detection_get_score (detection, first));

    const char *category = tvw_weights_get_categories (weights)[tvw_detection_get_label (detection, first)];

    /* Named from the weights' categories, though the model has none
     * (COCO's unused labels are “N/A”: then the model's “class N”). */
    if (g_strcmp0 (category, "N/A") != 0)
      g_assert_cmpstr (name, ==, category);
    else
      g_assert_cmpstr (name, ==, tvw_detection_get_category (detection, first));
    assert_accessible_label (GTK_WIDGET (list_row), label);
  }

  plain = g_object_ref (tvw_viewer_detection_get_rendered (view));
  tvw_viewer_detection_select_object (view, first);
  g_assert_cmpint (tvw_viewer_detection_get_selected_object (view), ==, first);
  g_assert_true (tvw_viewer_detection_get_rendered (view) != plain);
  {
    double x1, y1, x2, y2;
    guint8 before[3], after[3];
    gboolean compared = FALSE;

    tvw_detection_get_box (detection, first, &x1, &y1, &x2, &y2);
    for (int y = 0; y < 240 && !compared; y += 7)
      for (int x = 0; x < 320 && !compared; x += 7)
        {
          /* Outside the box and its frame: dimmed to 2/5. */
          if (x >= x1 - 4 && x <= x2 + 4 && y >= y1 - 4 && y <= y2 + 4)
            continue;
          texture_pixel (plain, x, y, before);
          texture_pixel (tvw_viewer_detection_get_rendered (view), x, y, after);
          for (int c = 0; c < 3; c++)
            g_assert_cmpint (after[c], ==, before[c] * 2 / 5);
          compared = TRUE;
        }
    if (!compared)
      g_test_message ("the first box covers the image: dimming not checked");

    if (x2 - x1 >= 2 && y2 - y1 >= 2)
      {
        int cx = (int) ((x1 + x2) / 2), cy = (int) ((y1 + y2) / 2);

        /* Inside it: as drawn. */
        texture_pixel (plain, cx, cy, before);
        texture_pixel (tvw_viewer_detection_get_rendered (view), cx, cy, after);
        g_assert_cmpmem (before, 3, after, 3);
      }
  }

  {
    g_autofree char *screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                                    "viewer-detection.png", NULL);

    /* For people to look at: the first object selected, the others
     * dimmed. */
    spin ();
    g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
    g_assert_no_error (error);
  }

  /* A threshold above its score drops the selection with the row. */
  tvw_viewer_detection_set_threshold (view, 1.0);
  spin ();
  g_assert_cmpint (tvw_viewer_detection_get_selected_object (view), ==, -1);
  g_object_unref (plain);

  destroy_window (window);
}

/* Writes a WebM clip of @source (GStreamer's videotestsrc and its
 * options) at @width × @height.  Without gst-launch-1.0, skips the test
 * and returns FALSE. */
static gboolean
make_clip (const char *path,
           const char *source,
           int         width,
           int         height)
{
  g_autofree char *gst_launch = g_find_program_in_path ("gst-launch-1.0");
  g_autofree char *location = NULL;
  g_autofree char *command = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1;

  if (gst_launch == NULL)
    {
      g_test_skip ("gst-launch-1.0 is not installed: no clip to drop");
      return FALSE;
    }

  location = g_shell_quote (path);
  command = g_strdup_printf ("%s -q %s ! video/x-raw,width=%d,height=%d "
                             "! vp8enc ! webmmux ! filesink location=%s",
                             gst_launch, source, width, height, location);
  g_assert_true (g_spawn_command_line_sync (command, NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", command, err);

  return TRUE;
}

/* A video entry with a random R3D-18: a dropped clip (made here with
 * GStreamer's videotestsrc) gets its first frame as thumbnail and picture,
 * and the top-5 actions libtvw gives for the file with the same model. */
static void
test_video (void)
{
  g_autofree char *path = fixture_path ("clip.webm");
  g_autofree char *shown = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(GListModel) expected = NULL;
  g_autoptr(GFile) file = NULL;
  TvwWeights *weights = tvw_get_weight ("R3D_18_Weights.KINETICS400_V1", NULL);
  TvwViewerWindow *window;
  TvwViewerImage *image;
  GListModel *predictions;

  if (!make_clip (path, "videotestsrc num-buffers=20", 160, 120))
    return;

  g_assert_nonnull (weights);
  g_assert_null (tvw_viewer_weights_get_unrunnable_reason (weights));
  model = tvw_model_new ("r3d_18", 400, NULL, &error);
  g_assert_no_error (error);

  window = new_window ();
  _tvw_viewer_window_set_model_for_testing (window, weights, model);
  {
    const char * const names[] = { path, NULL };

    drop_files (window, names);
  }
  wait_settled (window, 1);

  image = find_image (window, "clip.webm");
  if (tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    g_error ("the clip was not classified: %s", tvw_viewer_image_get_message (image));
  g_assert_nonnull (tvw_viewer_image_get_thumbnail (image));
  g_assert_nonnull (tvw_viewer_image_get_crop (image));
  /* videotestsrc's first frame is its colour bars: 160 × 120, shown at
   * least 128 wide. */
  g_assert_cmpint (gdk_texture_get_width (tvw_viewer_image_get_thumbnail (image)) * 120, ==,
                   gdk_texture_get_height (tvw_viewer_image_get_thumbnail (image)) * 160);
  assert_contains (tvw_viewer_image_get_details (image), "160 × 120 · video");

  /* The same actions as libtvw's for the file, named by the weights. */
  file = g_file_new_for_path (path);
  expected = tvw_model_classify_file (model, file, 5, NULL, &error);
  g_assert_no_error (error);
  predictions = tvw_viewer_image_get_predictions (image);
  g_assert_cmpuint (g_list_model_get_n_items (predictions), ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(TvwPrediction) got = g_list_model_get_item (predictions, i);
      g_autoptr(TvwPrediction) want = g_list_model_get_item (expected, i);

      g_assert_cmpuint (tvw_prediction_get_index (got), ==, tvw_prediction_get_index (want));
      g_assert_cmpfloat_with_epsilon (tvw_prediction_get_score (got), tvw_prediction_get_score (want), 1e-6);
      g_assert_cmpstr (tvw_prediction_get_category (got), ==,
                       tvw_weights_get_categories (weights)[tvw_prediction_get_index (want)]);
    }

  spin ();
  {
    g_autoptr(GPtrArray) rows = g_ptr_array_new ();
    g_autoptr(TvwPrediction) top = g_list_model_get_item (predictions, 0);

    collect_widgets (GTK_WIDGET (window), TVW_VIEWER_TYPE_IMAGE_ROW, rows);
    g_assert_cmpuint (rows->len, ==, 1);
    shown = tvw_viewer_image_row_get_shown_text (g_ptr_array_index (rows, 0));
    assert_contains (shown, tvw_prediction_get_category (top));
  }

  destroy_window (window);
}

/* Each row's widgets within the row, and the row within the window. */
static void
assert_fits (GtkWidget *widget,
             GtkWidget *window)
{
  graphene_rect_t bounds;
  int min;

  if (!gtk_widget_get_mapped (widget))
    return;

  g_assert_true (gtk_widget_compute_bounds (widget, window, &bounds));
  if (bounds.origin.x < -0.5 || bounds.origin.x + bounds.size.width > gtk_widget_get_width (window) + 0.5)
    g_error ("A %s spans %.0f to %.0f in a window %d px wide", G_OBJECT_TYPE_NAME (widget),
             bounds.origin.x, bounds.origin.x + bounds.size.width, gtk_widget_get_width (window));

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
  if (min > gtk_widget_get_width (widget))
    g_error ("A %s needs %d px and has %d", G_OBJECT_TYPE_NAME (widget), min, gtk_widget_get_width (widget));
}

/* With three images, the window goes down to 360 px: the sidebar folds
 * away, the cards put their results under the pictures, and what the
 * sidebar offered (Download) is still at hand. */
static void
test_adaptive_360 (void)
{
  TvwViewerWindow *window = g_object_new (TVW_VIEWER_TYPE_WINDOW, NULL);
  const char * const names[] = { "disc.png", "tall.png", "tiny.png", NULL };
  g_autofree char *mirror = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *screenshot = NULL;
  GtkWidget *button = NULL;
  int min_width;

  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 800);
  gtk_window_present (GTK_WINDOW (window));
  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 3);

  gtk_window_set_default_size (GTK_WINDOW (window), 360, 800);
  for (int i = 0; i < 5 && !(gtk_widget_get_width (GTK_WIDGET (window)) == 360 &&
                             _tvw_viewer_window_is_narrow (window)); i++)
    spin ();
  spin ();

  /* What the window asks for inside its decorations (the client-side
   * shadow adds to the window's own measure). */
  gtk_widget_measure (gtk_widget_get_first_child (GTK_WIDGET (window)), GTK_ORIENTATION_HORIZONTAL, -1,
                      &min_width, NULL, NULL, NULL);
  g_assert_cmpint (min_width, <=, 360);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), ==, 360);
  g_assert_true (adw_flap_get_folded (_tvw_viewer_window_get_flap (window)));
  g_assert_false (adw_flap_get_reveal_flap (_tvw_viewer_window_get_flap (window)));
  g_assert_true (_tvw_viewer_window_is_narrow (window));

  collect_widgets (GTK_WIDGET (window), TVW_VIEWER_TYPE_IMAGE_ROW, rows);
  g_assert_cmpuint (rows->len, >=, 1);
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr(GPtrArray) parts = g_ptr_array_new ();

      g_assert_true (tvw_viewer_image_row_get_compact (g_ptr_array_index (rows, i)));
      collect_widgets (g_ptr_array_index (rows, i), GTK_TYPE_WIDGET, parts);
      for (guint j = 0; j < parts->len; j++)
        assert_fits (g_ptr_array_index (parts, j), GTK_WIDGET (window));
    }

  screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                 "viewer-360.png", NULL);
  g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
  g_assert_no_error (error);

  /* Weights that must be downloaded, the sidebar out of sight: the
   * Download button is above the images. */
  mirror = use_failing_mirror ();
  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  wait_settled (window, 3);
  spin ();
  assert_contains (_tvw_viewer_window_get_notice (window, &button), "must be downloaded");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_mapped (button));
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "win.download");
  assert_fits (button, GTK_WIDGET (window));

  g_clear_pointer (&screenshot, g_free);
  screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                 "viewer-360-download.png", NULL);
  g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
  g_assert_no_error (error);

  /* Wide again: side by side. */
  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 800);
  for (int i = 0; i < 5 && _tvw_viewer_window_is_narrow (window); i++)
    spin ();
  g_assert_false (_tvw_viewer_window_is_narrow (window));

  forget_failing_mirror ();
  destroy_window (window);
}

/* Accessible names say what a control acts on; the sidebar's values are
 * not Tab stops. */
static void
test_accessible_names (void)
{
  TvwViewerWindow *window = new_window ();
  const char * const names[] = { "disc.png", "tall.png", NULL };
  g_autoptr(GPtrArray) rows = g_ptr_array_new ();
  g_autoptr(GHashTable) stops = g_hash_table_new (NULL, NULL);
  GtkWidget *sidebar;
  guint n_tabs = 0;

  tvw_viewer_window_choose_weights (window, "ResNet50_Weights.IMAGENET1K_V2");
  use_random_model (window);
  drop_files (window, names);
  wait_settled (window, 2);

  collect_widgets (GTK_WIDGET (window), TVW_VIEWER_TYPE_IMAGE_ROW, rows);
  g_assert_cmpuint (rows->len, ==, 2);
  for (guint i = 0; i < rows->len; i++)
    {
      TvwViewerImageRow *row = g_ptr_array_index (rows, i);
      g_autofree char *expected = g_strdup_printf ("Remove “%s”",
                                                   tvw_viewer_image_get_title (tvw_viewer_image_row_get_image (row)));
      g_autofree char *problem = NULL;

      problem = gtk_test_accessible_check_property (GTK_ACCESSIBLE (tvw_viewer_image_row_get_remove_button (row)),
                                                    GTK_ACCESSIBLE_PROPERTY_LABEL, expected);
      if (problem != NULL)
        g_error ("%s", problem);
    }

  /* Tab through the sidebar: each control once; no text is a stop. */
  sidebar = adw_flap_get_flap (_tvw_viewer_window_get_flap (window));
  while (gtk_widget_child_focus (sidebar, GTK_DIR_TAB_FORWARD) && n_tabs < 100)
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

      n_tabs++;
      g_assert_nonnull (focus);
      if (GTK_IS_LABEL (focus) || GTK_IS_TEXT (focus))
        g_error ("Tab stops at text “%s”", GTK_IS_LABEL (focus) ? gtk_label_get_label (GTK_LABEL (focus)) : "");
      g_assert_false (g_hash_table_contains (stops, focus));
      g_hash_table_add (stops, focus);
    }
  g_test_message ("%u Tab presses leave the sidebar", n_tabs);
  /* The two pickers, the categories; the rows of values are read, not
   * visited (they were two stops each, 23 in all). */
  g_assert_cmpuint (n_tabs, <=, 6);

  /* Tab in the images visits every card, also those scrolled away. */
  {
    g_autofree char *many = fixture_path ("many");
    g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func (g_free);
    GtkWidget *list = gtk_widget_get_ancestor (g_ptr_array_index (rows, 0), GTK_TYPE_LIST_VIEW);
    g_autoptr(GHashTable) visited = g_hash_table_new (g_str_hash, g_str_equal);
    guint n = 0;

    for (guint i = 0; i < 14; i++)
      g_ptr_array_add (more, g_strdup_printf ("%s/img-%03u.png", many, i));
    g_ptr_array_add (more, NULL);
    drop_files (window, (const char * const *) more->pdata);
    wait_settled (window, 16);

    GtkEventController *keys = NULL;
    gboolean handled = TRUE;

    /* The window's Tab handler in the list (key events as a press of Tab
     * delivers them; GTK 4.8 has no API to synthesize the press). */
    for (guint i = 0; ; i++)
      {
        g_autoptr(GtkEventController) controller = g_list_model_get_item (gtk_widget_observe_controllers (list), i);

        g_assert_nonnull (controller);
        if (g_strcmp0 (gtk_event_controller_get_name (controller), "tvw-viewer-card-tab") == 0)
          {
            keys = controller;
            break;
          }
      }

    g_assert_true (gtk_widget_child_focus (list, GTK_DIR_TAB_FORWARD));
    while (handled && n < 200)
      {
        GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
        GtkWidget *row = focus != NULL ? gtk_widget_get_ancestor (focus, TVW_VIEWER_TYPE_IMAGE_ROW) : NULL;

        g_assert_nonnull (row);
        g_hash_table_add (visited, (gpointer) tvw_viewer_image_get_title (tvw_viewer_image_row_get_image (TVW_VIEWER_IMAGE_ROW (row))));
        g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Tab, 0, 0, &handled);
        n++;
        /* Scrolling and the next frame's rows. */
        for (int j = 0; j < 6; j++)
          {
            g_usleep (20000);
            while (g_main_context_iteration (NULL, FALSE))
              ;
          }
      }
    g_test_message ("Tab visits %u of 16 cards in %u presses", g_hash_table_size (visited), n);
    g_assert_cmpuint (g_hash_table_size (visited), ==, 16);
  }

  destroy_window (window);
}

/* Optical flow */

static TvwModel *
new_raft_small (void)
{
  g_autoptr(GError) error = NULL;
  TvwModel *model = tvw_model_new ("raft_small", 0, NULL, &error);

  g_assert_no_error (error);
  return model;
}

/* The flow libtvw gives for two (1, 3, H, W) inputs, as `tvw flow` computes
 * it, independently of the viewer's code: its colours, and the mean and
 * largest displacement. */
static GdkPixbuf *
expected_flow (TvwModel  *model,
               TvwTensor *first,
               TvwTensor *second,
               double    *mean,
               double    *longest)
{
  TvwTensor *pair[2] = { first, second };
  g_autoptr(GListModel) outputs = NULL;
  g_autoptr(TvwTensor) flow = NULL;
  g_autoptr(GError) error = NULL;
  GdkPixbuf *image;
  const float *data;
  gsize plane;

  outputs = tvw_model_forward_inputs (model, pair, 2, NULL, &error);
  g_assert_no_error (error);
  flow = g_list_model_get_item (outputs, 0);
  image = tvw_flow_to_image (flow, &error);
  g_assert_no_error (error);

  data = tvw_tensor_get_data (flow);
  plane = tvw_tensor_get_n_elements (flow) / 2;
  *mean = *longest = 0.0;
  for (gsize i = 0; i < plane; i++)
    {
      double length = hypot (data[i], data[plane + i]);

      *mean += length / plane;
      *longest = MAX (*longest, length);
    }

  return image;
}

static TvwTensor *
batch_of_file (TvwTransform *transform,
               const char   *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(TvwTensor) input = NULL;
  g_autoptr(GError) error = NULL;

  input = tvw_transform_apply_file (transform, file, NULL, &error);
  g_assert_no_error (error);
  return tvw_tensor_unsqueeze (input, 0);
}

/* @texture has exactly @pixbuf's pixels. */
static void
assert_texture_equals (GdkTexture *texture,
                       GdkPixbuf  *pixbuf)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  g_autofree guint8 *data = NULL;
  guint n_different = 0;

  g_assert_cmpint (gdk_texture_get_width (texture), ==, width);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, height);

  data = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, data, (gsize) width * 4);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 pixel;
        const guint8 *want = pixels + y * stride + x * channels;

        memcpy (&pixel, data + ((gsize) y * width + x) * 4, 4);
        if (((pixel >> 16) & 0xff) != want[0] || ((pixel >> 8) & 0xff) != want[1] || (pixel & 0xff) != want[2])
          n_different++;
      }
  g_assert_cmpuint (n_different, ==, 0);
}

static GtkWidget *
row_of (TvwViewerWindow *window,
        TvwViewerImage  *image)
{
  g_autoptr(GHashTable) rows = g_hash_table_new (NULL, NULL);
  GtkWidget *row;

  _tvw_viewer_window_collect_rows (GTK_WIDGET (window), rows);
  row = g_hash_table_lookup (rows, image);
  g_assert_nonnull (row);
  return row;
}

/* A RAFT entry with a random RAFT-Small: one image waits for a second; the
 * second shows the flow from the first, the one libtvw computes for the
 * two files; a third of another size says why it has none; removing the
 * first makes the second the first frame. */
static void
test_flow_images (void)
{
  TvwWeights *weights = tvw_get_weight ("Raft_Small_Weights.C_T_V2", NULL);
  g_autoptr(TvwModel) model = new_raft_small ();
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_autoptr(TvwTensor) second = NULL;
  g_autoptr(GdkPixbuf) expected = NULL;
  g_autofree char *a = fixture_path ("flow-a.png");
  g_autofree char *b = fixture_path ("flow-b.png");
  g_autofree char *c = fixture_path ("flow-c.png");
  g_autofree char *d = fixture_path ("flow-d.png");
  g_autofree char *e = fixture_path ("flow-e.png");
  g_autofree char *shown = NULL;
  const char * const names_a[] = { "flow-a.png", NULL };
  const char * const names_be[] = { "flow-b.png", "flow-c.png", "flow-d.png", "flow-e.png", NULL };
  TvwViewerWindow *window;
  TvwViewerImage *image;
  GtkWidget *row, *view;
  double mean, longest, want_mean, want_longest;

  g_assert_nonnull (weights);
  g_assert_null (tvw_viewer_weights_get_unrunnable_reason (weights));
  /* RAFT-Small takes 128 pixels each way at least, multiples of 8. */
  write_png (a, 160, 128, 40);
  write_png (b, 160, 128, 41);
  write_png (c, 128, 128, 42);
  write_png (d, 96, 64, 43);
  write_png (e, 96, 64, 44);

  window = new_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1180, 800);
  _tvw_viewer_window_set_model_for_testing (window, weights, model);

  /* One image: it waits for a second, and nothing looks busy. */
  drop_files (window, names_a);
  wait_settled (window, 1);
  image = find_image (window, "flow-a.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_WAITING);
  g_assert_false (tvw_viewer_image_is_waiting_busy (image));
  g_assert_nonnull (tvw_viewer_image_get_thumbnail (image));
  g_assert_null (tvw_viewer_image_get_flow (image));
  assert_contains (tvw_viewer_image_get_message (image), "Drop a second frame");
  shown = _tvw_viewer_window_get_shown_text (window, image);
  assert_contains (shown, "Drop a second frame");
  g_clear_pointer (&shown, g_free);
  {
    gboolean busy = TRUE;

    g_object_get (window, "busy", &busy, NULL);
    g_assert_false (busy);
  }

  /* The second: the flow from the first, at the frames' size. */
  drop_files (window, names_be);
  wait_settled (window, 5);
  image = find_image (window, "flow-b.png");
  if (tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    g_error ("no flow for the second frame: %s", tvw_viewer_image_get_message (image));
  g_assert_nonnull (tvw_viewer_image_get_flow (image));
  g_assert_cmpint (gdk_texture_get_width (tvw_viewer_image_get_flow (image)), ==, 160);
  g_assert_cmpint (gdk_texture_get_height (tvw_viewer_image_get_flow (image)), ==, 128);
  g_assert_cmpstr (tvw_viewer_image_get_flow_first_title (image), ==, "flow-a.png");
  g_assert_nonnull (tvw_viewer_image_get_flow_first_frame (image));

  transform = tvw_weights_transforms (weights);
  first = batch_of_file (transform, a);
  second = batch_of_file (transform, b);
  expected = expected_flow (model, first, second, &want_mean, &want_longest);
  assert_texture_equals (tvw_viewer_image_get_flow (image), expected);
  tvw_viewer_image_get_flow_stats (image, &mean, &longest);
  /* Sums in another order: float rounding only. */
  g_assert_cmpfloat_with_epsilon (mean, want_mean, 1e-6 * MAX (1.0, want_mean));
  g_assert_cmpfloat_with_epsilon (longest, want_longest, 1e-6 * MAX (1.0, want_longest));

  /* The row shows that flow and what the summary says. */
  spin ();
  row = row_of (window, image);
  view = tvw_viewer_image_row_get_flow_view (TVW_VIEWER_IMAGE_ROW (row));
  g_assert_nonnull (view);
  g_assert_true (gtk_widget_get_mapped (view));
  g_assert_true (tvw_viewer_flow_get_shown_flow (TVW_VIEWER_FLOW (view)) == tvw_viewer_image_get_flow (image));
  shown = tvw_viewer_image_row_get_shown_text (TVW_VIEWER_IMAGE_ROW (row));
  assert_contains (shown, "flow-a.png");
  assert_contains (shown, tvw_viewer_image_get_flow_summary (image));
  g_clear_pointer (&shown, g_free);
  {
    g_autofree char *summary = g_strdup_printf ("Mean motion %.1f px, largest %.1f px", want_mean, want_longest);

    g_assert_cmpstr (tvw_viewer_image_get_flow_summary (image), ==, summary);
  }

  /* The first is now a first frame with a second; the third, of another
   * size, says why it has no flow. */
  image = find_image (window, "flow-a.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_WAITING);
  assert_contains (tvw_viewer_image_get_message (image), "The first frame");
  image = find_image (window, "flow-c.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED);
  assert_contains (tvw_viewer_image_get_message (image),
                   "The frames differ in size (160 × 128 and 128 × 128): optical flow needs two frames of the same size");
  g_assert_null (tvw_viewer_image_get_flow (image));

  /* Frames smaller than RAFT takes are enlarged, and the summary says
   * to what. */
  image = find_image (window, "flow-e.png");
  if (tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    g_error ("no flow for the small frames: %s", tvw_viewer_image_get_message (image));
  g_assert_cmpint (gdk_texture_get_width (tvw_viewer_image_get_flow (image)), ==, 192);
  g_assert_cmpint (gdk_texture_get_height (tvw_viewer_image_get_flow (image)), ==, 128);
  assert_contains (tvw_viewer_image_get_flow_summary (image), "(frames scaled to 192 × 128)");

  {
    g_autofree char *path = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                              "viewer-flow.png", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (_tvw_viewer_window_save_screenshot (window, path, &error));
    g_assert_no_error (error);
  }

  /* In a 360-pixel window, the flow and the first frame fit in the card. */
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 800);
  for (int i = 0; i < 5 && !(gtk_widget_get_width (GTK_WIDGET (window)) == 360 &&
                             _tvw_viewer_window_is_narrow (window)); i++)
    spin ();
  spin ();
  g_assert_true (_tvw_viewer_window_is_narrow (window));
  {
    g_autoptr(GPtrArray) parts = g_ptr_array_new ();
    g_autofree char *path = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                              "viewer-flow-360.png", NULL);
    g_autoptr(GError) error = NULL;

    row = row_of (window, find_image (window, "flow-b.png"));
    collect_widgets (row, GTK_TYPE_WIDGET, parts);
    for (guint j = 0; j < parts->len; j++)
      assert_fits (g_ptr_array_index (parts, j), GTK_WIDGET (window));
    g_assert_true (_tvw_viewer_window_save_screenshot (window, path, &error));
    g_assert_no_error (error);
  }

  /* Without the first, the second is a first frame: its flow goes. */
  image = find_image (window, "flow-a.png");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.remove-image", "u", tvw_viewer_image_get_id (image));
  wait_settled (window, 4);
  image = find_image (window, "flow-b.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_WAITING);
  g_assert_null (tvw_viewer_image_get_flow (image));
  assert_contains (tvw_viewer_image_get_message (image), "The first frame");

  destroy_window (window);
}

/* Two pasted images make a pair as files do; a file that cannot be read
 * as the first frame is named in the next one's message. */
static void
test_flow_pasted (void)
{
  TvwWeights *weights = tvw_get_weight ("Raft_Small_Weights.C_T_V2", NULL);
  g_autoptr(TvwModel) model = new_raft_small ();
  g_autoptr(TvwTransform) transform = tvw_weights_transforms (weights);
  g_autofree char *a = fixture_path ("paste-a.png");
  g_autofree char *b = fixture_path ("paste-b.png");
  g_autoptr(GdkPixbuf) pixbuf_a = NULL;
  g_autoptr(GdkPixbuf) pixbuf_b = NULL;
  g_autoptr(GdkTexture) texture_a = NULL;
  g_autoptr(GdkTexture) texture_b = NULL;
  g_autoptr(TvwTensor) input_a = NULL;
  g_autoptr(TvwTensor) input_b = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_autoptr(TvwTensor) second = NULL;
  g_autoptr(GdkPixbuf) expected = NULL;
  g_autoptr(GError) error = NULL;
  const char * const names[] = { "notes.txt", "paste-b.png", NULL };
  TvwViewerWindow *window;
  TvwViewerImage *image;
  double want_mean, want_longest;

  write_png (a, 128, 128, 50);
  write_png (b, 128, 128, 51);
  pixbuf_a = gdk_pixbuf_new_from_file (a, &error);
  g_assert_no_error (error);
  pixbuf_b = gdk_pixbuf_new_from_file (b, &error);
  g_assert_no_error (error);
  texture_a = gdk_texture_new_for_pixbuf (pixbuf_a);
  texture_b = gdk_texture_new_for_pixbuf (pixbuf_b);

  window = new_window ();
  _tvw_viewer_window_set_model_for_testing (window, weights, model);
  tvw_viewer_window_open_texture (window, texture_a, "Pasted A");
  tvw_viewer_window_open_texture (window, texture_b, "Pasted B");
  wait_settled (window, 2);

  image = find_image (window, "Pasted B");
  if (tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    g_error ("no flow for the pasted pair: %s", tvw_viewer_image_get_message (image));
  g_assert_cmpstr (tvw_viewer_image_get_flow_first_title (image), ==, "Pasted A");
  input_a = tvw_transform_apply_pixbuf (transform, pixbuf_a, &error);
  g_assert_no_error (error);
  input_b = tvw_transform_apply_pixbuf (transform, pixbuf_b, &error);
  g_assert_no_error (error);
  first = tvw_tensor_unsqueeze (input_a, 0);
  second = tvw_tensor_unsqueeze (input_b, 0);
  expected = expected_flow (model, first, second, &want_mean, &want_longest);
  assert_texture_equals (tvw_viewer_image_get_flow (image), expected);

  /* After a text file: the flow says what is wrong with its first frame. */
  drop_files (window, names);
  wait_settled (window, 4);
  assert_failed (window, "notes.txt", "Not an image");
  image = find_image (window, "paste-b.png");
  g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_NOT_CLASSIFIED);
  assert_contains (tvw_viewer_image_get_message (image), "The first frame, “notes.txt”, cannot be read: ");
  g_assert_null (tvw_viewer_image_get_flow (image));

  destroy_window (window);
}

/* Other weights chosen while RAFT runs: the flow is cancelled, the
 * images are classified, and their cards show what classifiers show. */
static void
test_flow_weights_change (void)
{
  TvwWeights *weights = tvw_get_weight ("Raft_Small_Weights.C_T_V2", NULL);
  g_autoptr(TvwModel) model = new_raft_small ();
  g_autofree char *a = fixture_path ("switch-a.png");
  g_autofree char *b = fixture_path ("switch-b.png");
  const char * const names[] = { "switch-a.png", "switch-b.png", NULL };
  TvwViewerWindow *window;
  gint64 deadline;

  write_png (a, 256, 192, 60);
  write_png (b, 256, 192, 61);

  window = new_window ();
  _tvw_viewer_window_set_model_for_testing (window, weights, model);
  drop_files (window, names);

  /* Until the second card's job (reading it, then the flow) runs. */
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_list_model_get_n_items (_tvw_viewer_window_get_images (window)) < 2 ||
         !tvw_viewer_image_is_flow_task (find_image (window, "switch-b.png")))
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
      if (g_get_monotonic_time () > deadline)
        g_error ("the flow did not start");
    }
  g_assert_false (tvw_viewer_image_is_settled (find_image (window, "switch-b.png")));

  use_random_model (window);
  wait_settled (window, 2);

  for (guint i = 0; names[i] != NULL; i++)
    {
      TvwViewerImage *image = find_image (window, names[i]);
      g_autofree char *path = fixture_path (names[i]);
      g_autoptr(GListModel) expected = expected_predictions (path);
      g_autoptr(TvwPrediction) want = g_list_model_get_item (expected, 0);
      g_autoptr(TvwPrediction) got = NULL;

      g_assert_cmpint (tvw_viewer_image_get_state (image), ==, TVW_VIEWER_IMAGE_STATE_CLASSIFIED);
      g_assert_null (tvw_viewer_image_get_flow (image));
      g_assert_false (tvw_viewer_image_is_flow_task (image));
      g_assert_nonnull (tvw_viewer_image_get_crop (image));
      got = g_list_model_get_item (tvw_viewer_image_get_predictions (image), 0);
      g_assert_cmpuint (tvw_prediction_get_index (got), ==, tvw_prediction_get_index (want));
    }

  destroy_window (window);
}

/* A RAFT entry and a clip (made here with GStreamer's videotestsrc): the
 * poster frame, and the flow between the first two frames that libtvw
 * gives for them. */
static void
test_flow_video (void)
{
  g_autofree char *path = fixture_path ("flow-clip.webm");
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = new_raft_small ();
  g_autoptr(TvwTransform) transform = NULL;
  g_autoptr(TvwTensor) frames = NULL;
  g_autoptr(TvwTensor) batch = NULL;
  g_autoptr(TvwTensor) first = NULL;
  g_autoptr(TvwTensor) second = NULL;
  g_autoptr(GdkPixbuf) expected = NULL;
  g_autoptr(GFile) file = NULL;
  TvwWeights *weights = tvw_get_weight ("Raft_Small_Weights.C_T_V2", NULL);
  TvwViewerWindow *window;
  TvwViewerImage *image;
  double mean, longest, want_mean, want_longest;

  /* The ball pattern moves from frame to frame; RAFT-Small takes 128
   * pixels each way at least. */
  if (!make_clip (path, "videotestsrc pattern=ball num-buffers=10", 160, 128))
    return;

  window = new_window ();
  _tvw_viewer_window_set_model_for_testing (window, weights, model);
  {
    const char * const names[] = { path, NULL };

    drop_files (window, names);
  }
  wait_settled (window, 1);

  image = find_image (window, "flow-clip.webm");
  if (tvw_viewer_image_get_state (image) != TVW_VIEWER_IMAGE_STATE_CLASSIFIED)
    g_error ("no flow for the clip: %s", tvw_viewer_image_get_message (image));
  g_assert_true (tvw_viewer_image_is_video (image));
  g_assert_nonnull (tvw_viewer_image_get_thumbnail (image));
  assert_contains (tvw_viewer_image_get_details (image), "160 × 128 · video");
  g_assert_cmpstr (tvw_viewer_image_get_flow_first_title (image), ==, "Frame 1");

  /* As `tvw flow VIDEO` computes it: frames 0 and 1 through the preset. */
  file = g_file_new_for_path (path);
  frames = tvw_video_read_frames (file, (gint64[]) { 0, 1 }, 2, NULL, &error);
  g_assert_no_error (error);
  transform = tvw_weights_transforms (weights);
  batch = tvw_transform_apply_tensor (transform, frames, &error);
  g_assert_no_error (error);
  {
    g_autoptr(TvwTensor) f0 = tvw_tensor_index (batch, 0);
    g_autoptr(TvwTensor) f1 = tvw_tensor_index (batch, 1);

    first = tvw_tensor_unsqueeze (f0, 0);
    second = tvw_tensor_unsqueeze (f1, 0);
  }
  expected = expected_flow (model, first, second, &want_mean, &want_longest);
  assert_texture_equals (tvw_viewer_image_get_flow (image), expected);
  tvw_viewer_image_get_flow_stats (image, &mean, &longest);
  g_assert_cmpfloat_with_epsilon (mean, want_mean, 1e-6 * MAX (1.0, want_mean));
  g_assert_cmpfloat_with_epsilon (longest, want_longest, 1e-6 * MAX (1.0, want_longest));

  spin ();
  {
    GtkWidget *row = row_of (window, image);
    g_autofree char *shown = tvw_viewer_image_row_get_shown_text (TVW_VIEWER_IMAGE_ROW (row));

    assert_contains (shown, "Frame 1");
    assert_contains (shown, "Mean motion");
  }
  {
    g_autofree char *screenshot = g_build_filename (g_getenv ("G_TEST_BUILDDIR") ? g_getenv ("G_TEST_BUILDDIR") : ".",
                                                    "viewer-flow-video.png", NULL);

    g_assert_true (_tvw_viewer_window_save_screenshot (window, screenshot, &error));
    g_assert_no_error (error);
  }

  destroy_window (window);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkCssProvider) css = NULL;

  /* GTK's test accessibility backend: the accessible names and roles the
   * tests check, without an AT-SPI bus. */
  g_setenv ("GTK_A11Y", "test", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  /* What AdwApplication would do: the style sheet and the icons. */
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/gnome/Tvw/Viewer/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                    "/org/gnome/Tvw/Viewer/icons");

  make_fixtures ();
  random_model = tvw_model_new ("resnet18", 1000, NULL, &error);
  g_assert_no_error (error);

  g_test_add_func ("/tvw/viewer/drop/non-image", test_drop_non_image);
  g_test_add_func ("/tvw/viewer/drop/broken-image", test_drop_broken_image);
  g_test_add_func ("/tvw/viewer/drop/directory", test_drop_directory);
  g_test_add_func ("/tvw/viewer/drop/many-files-stay-responsive", test_drop_many_files);
  g_test_add_func ("/tvw/viewer/drop/close-while-busy", test_close_while_busy);
  g_test_add_func ("/tvw/viewer/classify/shown-equals-libtvw", test_classify_shown);
  g_test_add_func ("/tvw/viewer/classify/weights-change-reclassifies", test_reclassify_on_weights_change);
  g_test_add_func ("/tvw/viewer/weights/every-entry-runs", test_every_entry_runs);
  g_test_add_func ("/tvw/viewer/weights/offline-needs-download", test_needs_download_offline);
  g_test_add_func ("/tvw/viewer/samples/open-from-empty-state", test_open_samples);
  g_test_add_func ("/tvw/viewer/first-start/offline-builtin-weights", test_first_start_offline);
  g_test_add_func ("/tvw/viewer/first-start/offers-general-weights-online", test_offer_general_weights);
  g_test_add_func ("/tvw/viewer/pickers/searchable-and-marked", test_pickers);
  g_test_add_func ("/tvw/viewer/meta/readable-and-searchable", test_meta_panel);
  g_test_add_func ("/tvw/viewer/paste/image", test_paste_image);
  g_test_add_func ("/tvw/viewer/paste/files", test_paste_files);
  g_test_add_func ("/tvw/viewer/settings/remembered", test_settings_remembered);
  g_test_add_func ("/tvw/viewer/download/error-persists-with-details", test_download_error_persists);
  g_test_add_func ("/tvw/viewer/offline/no-network-in-words-results-kept", test_offline_keeps_results);
  g_test_add_func ("/tvw/viewer/download/progress-row-one-line", test_download_progress_row);
  g_test_add_func ("/tvw/viewer/pickers/runnable-first-natural-names", test_runnable_first);
  g_test_add_func ("/tvw/viewer/adaptive/360-px-with-three-images", test_adaptive_360);
  g_test_add_func ("/tvw/viewer/a11y/names-and-tab-stops", test_accessible_names);
  g_test_add_func ("/tvw/viewer/clear/undo-from-toast", test_remove_all_undo);
  g_test_add_func ("/tvw/viewer/meta/per-task", test_meta_per_task);
  g_test_add_func ("/tvw/viewer/detection/threshold-list-highlight", test_detection);
  g_test_add_func ("/tvw/viewer/video/poster-and-actions", test_video);
  g_test_add_func ("/tvw/viewer/flow/two-images-equal-libtvw", test_flow_images);
  g_test_add_func ("/tvw/viewer/flow/video-first-two-frames", test_flow_video);
  g_test_add_func ("/tvw/viewer/flow/pasted-pair-and-unreadable-first", test_flow_pasted);
  g_test_add_func ("/tvw/viewer/flow/weights-change-cancels", test_flow_weights_change);

  return g_test_run ();
}
