/* test-model.c — TvwModel: construction, errors, loading, legacy flags,
 * asynchronous construction with a download from a loopback server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "tvw.h"
#include "tvw-model-private.h"
#include "tvw-engine-private.h"
#include "tvw-architectures-private.h"

static char *tmpdir;

/* Writes a .safetensors state_dict for @arch with every float parameter
 * drawn from a seeded generator (torchvision-free, so this test needs no
 * Python). */
static GBytes *
make_safetensors (const char *arch,
                  guint       num_classes,
                  guint32     seed)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GString) header = g_string_new ("{");
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  const TvwArchitecture *a = tvw_architecture_lookup (arch);
  guint64 len;

  g_assert_nonnull (a);
  {
    TvwBuildConfig config = { num_classes, FALSE, NULL };

    g_assert_true (a->build (net, a, &config, NULL));
  }

  for (guint i = 0; i < tvw_net_get_n_params (net); i++)
    {
      guint n_dims;
      const gint64 *shape;
      gboolean optional, is_float;
      const char *name = tvw_net_get_param_info (net, i, &n_dims, &shape, &optional, &is_float);
      gsize count = 1, start = data->len;

      for (guint d = 0; d < n_dims; d++)
        count *= shape[d];

      if (is_float)
        for (gsize j = 0; j < count; j++)
          {
            float v;

            seed = seed * 1664525u + 1013904223u;
            v = ((seed >> 8) / 16777216.f - 0.5f) * 0.2f;
            if (g_str_has_suffix (name, "running_var"))
              v = 1.f + v;
            g_byte_array_append (data, (guint8 *) &v, 4);
          }
      else
        {
          gint64 v = 1;

          g_byte_array_append (data, (guint8 *) &v, 8);
        }

      g_string_append_printf (header, "%s\"%s\": {\"dtype\": \"%s\", \"shape\": [",
                              i ? ", " : "", name, is_float ? "F32" : "I64");
      for (guint d = 0; d < n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
      g_string_append_printf (header, "], \"data_offsets\": [%" G_GSIZE_FORMAT ", %u]}",
                              start, data->len);
    }
  g_string_append_c (header, '}');
  while (header->len % 8)
    g_string_append_c (header, ' ');

  len = GUINT64_TO_LE (header->len);
  g_byte_array_append (out, (guint8 *) &len, 8);
  g_byte_array_append (out, (guint8 *) header->str, header->len);
  g_byte_array_append (out, data->data, data->len);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static char *
write_tmp (const char *name,
           GBytes     *bytes)
{
  char *path = g_build_filename (tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), NULL));
  return path;
}

static TvwTensor *
random_batch (int n,
              int size)
{
  gint64 shape[4] = { n, 3, size, size };
  TvwTensor *t = tvw_tensor_new (TVW_DTYPE_FLOAT32, shape, 4);
  float *d = tvw_tensor_get_data (t);
  guint32 s = 99;

  for (gsize i = 0; i < tvw_tensor_get_n_elements (t); i++)
    {
      s = s * 1664525u + 1013904223u;
      d[i] = (s >> 8) / 16777216.f - 0.5f;
    }
  return t;
}

static void
test_unknown_and_catalog (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) nope = tvw_model_new ("resnet9000", 0, NULL, &error);

  g_assert_null (nope);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Every builder of torchvision 0.14.1's catalog is implemented, so no
   * catalog name is refused as unsupported any more. */
  {
    g_auto(GStrv) models = tvw_list_catalog_models (NULL, NULL);

    g_assert_cmpuint (g_strv_length (models), ==, 118);
    for (guint i = 0; models[i] != NULL; i++)
      if (!tvw_is_model_supported (models[i]))
        g_error ("%s is in the catalog but cannot be built", models[i]);
  }
}

/* Builder options are torchvision's keyword arguments: one the builder
 * does not take is refused, like torchvision's TypeError. */
static void
test_unknown_option (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariantDict) dict = g_variant_dict_new (NULL);
  TvwModel *model;

  g_variant_dict_insert (dict, "aux_loss", "b", TRUE);
  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                          "architecture", "resnet18",
                          "options", g_variant_dict_end (dict),
                          NULL);
  g_assert_null (model);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "resnet18"));
  g_assert_nonnull (strstr (error->message, "aux_loss"));
}

static void
test_random_init_forward (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 7, NULL, &error);
  g_autoptr(TvwTensor) batch = random_batch (2, 40);
  g_autoptr(TvwTensor) out = NULL;
  gint64 params;

  g_assert_no_error (error);
  g_assert_cmpuint (tvw_model_get_num_classes (model), ==, 7);
  /* torchvision: resnet18 has 11 689 512 parameters with 1000 classes;
   * the classifier here has 7·512 + 7 instead of 1000·512 + 1000. */
  params = tvw_model_count_parameters (model);
  g_assert_cmpint (params, ==, 11689512 - 513000 + 7 * 513);

  out = tvw_model_forward (model, batch, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_tensor_get_n_dims (out), ==, 2);
  g_assert_cmpint (tvw_tensor_get_dim (out, 0), ==, 2);
  g_assert_cmpint (tvw_tensor_get_dim (out, 1), ==, 7);

  g_assert_finalize_object (g_steal_pointer (&out));
  g_assert_finalize_object (g_steal_pointer (&model));
}

/* resnet18's parameters and buffers: torchvision's names and shapes, and
 * the parameters sum to the count torchvision's meta gives. */
static void
test_list_parameters (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 0, NULL, &error);
  g_auto(GStrv) params = NULL;
  g_auto(GStrv) all = NULL;
  const gint64 *shape;
  gint64 total = 0;
  guint n_dims;

  g_assert_no_error (error);
  params = tvw_model_list_parameters (model, FALSE);
  all = tvw_model_list_parameters (model, TRUE);
  /* 62 tensors in named_parameters(), 122 keys in state_dict(): each of
   * the 20 BatchNorms adds running_mean, running_var, num_batches_tracked. */
  g_assert_cmpuint (g_strv_length (params), ==, 62);
  g_assert_cmpuint (g_strv_length (all), ==, 62 + 3 * 20);
  g_assert_true (g_strv_contains ((const char * const *) params, "layer4.1.bn2.bias"));
  g_assert_false (g_strv_contains ((const char * const *) params, "bn1.running_mean"));
  g_assert_true (g_strv_contains ((const char * const *) all, "bn1.num_batches_tracked"));

  for (guint i = 0; params[i] != NULL; i++)
    {
      gint64 numel = 1;

      shape = tvw_model_get_parameter_shape (model, params[i], &n_dims, &error);
      g_assert_no_error (error);
      for (guint d = 0; d < n_dims; d++)
        numel *= shape[d];
      total += numel;
    }
  g_assert_cmpint (total, ==, 11689512);

  shape = tvw_model_get_parameter_shape (model, "layer2.0.downsample.0.weight", &n_dims, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_dims, ==, 4);
  g_assert_cmpint (shape[0], ==, 128);
  g_assert_cmpint (shape[1], ==, 64);
  g_assert_cmpint (shape[2], ==, 1);

  g_assert_null (tvw_model_get_parameter_shape (model, "fc.weights", &n_dims, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "fc.weights"));
}

static void
test_bad_inputs (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 0, NULL, NULL);
  gint64 gray[4] = { 1, 1, 16, 16 }, huge[4] = { 1, 3, 100000, 100000 }, flat[2] = { 3, 16 };
  g_autoptr(TvwTensor) t1 = tvw_tensor_new (TVW_DTYPE_FLOAT32, gray, 4);
  g_autoptr(TvwTensor) t2 = tvw_tensor_new (TVW_DTYPE_FLOAT32, flat, 2);
  g_autoptr(GBytes) none = g_bytes_new_static ("", 0);
  g_autoptr(TvwTensor) t3 = NULL;

  g_assert_null (tvw_model_forward (model, t1, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (tvw_model_forward (model, t2, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A 100 000² image claims 120 GB; refused from the shape, before any
   * allocation (the tensor itself is a lie: its data is empty). */
  t3 = tvw_tensor_new_from_bytes (TVW_DTYPE_FLOAT32, huge, 4, none, NULL);
  g_assert_null (t3);
}

static void
test_load_state_dict (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 10, NULL, NULL);
  g_autoptr(TvwModel) model2 = tvw_model_new ("resnet18", 10, NULL, NULL);
  g_autoptr(GBytes) sd = make_safetensors ("resnet18", 10, 1);
  g_autoptr(GBytes) sd1000 = make_safetensors ("resnet18", 1000, 1);
  g_autofree char *path = write_tmp ("r18.safetensors", sd);
  g_autofree char *path1000 = write_tmp ("r18-1000.safetensors", sd1000);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) file1000 = g_file_new_for_path (path1000);
  g_autoptr(TvwTensor) batch = random_batch (1, 32);
  g_autoptr(TvwTensor) a = NULL;
  g_autoptr(TvwTensor) b = NULL;
  g_autoptr(TvwTensor) c = NULL;

  g_assert_true (tvw_model_load_state_dict_from_file (model, file, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tvw_model_load_state_dict_from_file (model2, file, TRUE, NULL, &error));
  a = tvw_model_forward (model, batch, NULL, NULL);
  b = tvw_model_forward (model2, batch, NULL, NULL);
  /* Same weights, same input, same thread count: the same bits. */
  g_assert_cmpmem (tvw_tensor_get_data (a), 40, tvw_tensor_get_data (b), 40);

  /* A classifier of another size: refused, naming the key; the model is
   * unchanged. */
  g_assert_false (tvw_model_load_state_dict_from_file (model, file1000, FALSE, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "fc.weight"));
  c = tvw_model_forward (model, batch, NULL, NULL);
  g_assert_cmpmem (tvw_tensor_get_data (a), 40, tvw_tensor_get_data (c), 40);
}

static void
test_legacy_pretrained_warns (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;

  /* torchvision's two warnings, verbatim, then the legacy entry: offline
   * here, so construction fails saying which file it looked for. */
  g_test_expect_message ("Tvw", G_LOG_LEVEL_WARNING,
                         "The parameter 'pretrained' is deprecated, please use 'weights' instead.");
  g_test_expect_message ("Tvw", G_LOG_LEVEL_WARNING,
                         "Arguments other than a weight enum or `None` for 'weights' are deprecated. "
                         "The current behavior is equivalent to passing "
                         "`weights=ResNet50_Weights.IMAGENET1K_V1`. You can also use "
                         "`weights=ResNet50_Weights.DEFAULT` to get the most up-to-date weights.");
  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                          "architecture", "resnet50", "pretrained", TRUE, NULL);
  g_test_assert_expected_messages ();

  g_assert_null (model);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_OFFLINE);
  g_assert_nonnull (strstr (error->message, "resnet50-0676ba61.pth"));
}

static void
test_legacy_pretrained_false (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = g_initable_new (TVW_TYPE_MODEL, NULL, &error,
                                              "architecture", "resnet18",
                                              "pretrained", FALSE, NULL);

  g_assert_no_error (error);
  g_assert_null (tvw_model_get_weights (model));
}

/* A card whose checkpoint is served by a loopback server: asynchronous
 * construction downloads it with progress signals on this main context. */

static GBytes *served;

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  int *requests = user_data;

  (*requests)++;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (served, NULL), g_bytes_get_size (served));
}

typedef struct
{
  GMainLoop *loop;
  TvwModel  *model;
  GError    *error;
  gint64     last;
  gint64     total;
  guint      progress_calls;
} AsyncData;

static void
progress_cb (TvwModel *model,
             gint64    current,
             gint64    total,
             gpointer  user_data)
{
  AsyncData *d = user_data;

  g_assert_cmpint (current, >=, d->last);
  d->last = current;
  d->total = total;
  d->progress_calls++;
}

static void
init_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AsyncData *d = user_data;

  g_assert_true (g_async_initable_init_finish (G_ASYNC_INITABLE (source), result, &d->error));
  g_main_loop_quit (d->loop);
}

static void
test_async_download (void)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *name = NULL;
  g_autofree char *card = NULL;
  g_autofree char *card_path = NULL;
  g_autofree char *cache = g_build_filename (tmpdir, "cache", NULL);
  g_autoptr(GFile) card_file = NULL;
  g_autoptr(TvwTensor) batch = random_batch (1, 32);
  g_autoptr(TvwTensor) out = NULL;
  TvwWeights *weights;
  AsyncData d = { 0 };
  int requests = 0;
  guint port;

  served = make_safetensors ("resnet18", 3, 5);
  g_checksum_update (sum, g_bytes_get_data (served, NULL), g_bytes_get_size (served));
  name = g_strdup_printf ("tiny-%.8s.safetensors", g_checksum_get_string (sum));

  soup_server_add_handler (server, NULL, server_cb, &requests, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  card = g_strdup_printf ("{\"enum\": \"Tiny_Weights\", \"builder\": \"resnet18\", \"entries\": "
                          "[{\"name\": \"THREE_V1\", \"url\": \"http://127.0.0.1:%u/%s\", "
                          "\"num_classes\": 3, \"default\": true, "
                          "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 32, \"resize_size\": 36}, "
                          "\"meta\": {\"categories\": [\"a\", \"b\", \"c\"]}}]}",
                          port, name);
  card_path = g_build_filename (tmpdir, "tiny.json", NULL);
  g_assert_true (g_file_set_contents (card_path, card, -1, NULL));
  card_file = g_file_new_for_path (card_path);
  g_assert_true (tvw_register_weights_from_file (card_file, &error));
  g_assert_no_error (error);

  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_unsetenv ("TVW_OFFLINE");
  tvw_set_offline (FALSE);

  weights = tvw_get_weight ("Tiny_Weights.DEFAULT", &error);
  g_assert_no_error (error);
  g_assert_false (tvw_weights_is_cached (weights));

  d.loop = g_main_loop_new (NULL, FALSE);
  d.model = g_object_new (TVW_TYPE_MODEL, "weights", weights, NULL);
  g_signal_connect (d.model, "download-progress", G_CALLBACK (progress_cb), &d);
  g_async_initable_init_async (G_ASYNC_INITABLE (d.model), G_PRIORITY_DEFAULT, NULL, init_cb, &d);
  g_main_loop_run (d.loop);
  g_main_loop_unref (d.loop);

  g_assert_no_error (d.error);
  g_assert_cmpint (requests, ==, 1);
  g_assert_cmpuint (d.progress_calls, >, 0);
  g_assert_cmpint (d.last, ==, (gint64) g_bytes_get_size (served));
  g_assert_cmpint (d.total, ==, (gint64) g_bytes_get_size (served));
  g_assert_true (tvw_weights_is_cached (weights));
  g_assert_cmpuint (tvw_model_get_num_classes (d.model), ==, 3);

  out = tvw_model_forward (d.model, batch, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tvw_tensor_get_dim (out, 1), ==, 3);

  g_clear_object (&d.model);
  tvw_set_offline (TRUE);
  g_setenv ("TVW_OFFLINE", "1", TRUE);
  g_clear_pointer (&served, g_bytes_unref);
}

static void
test_classify_pixbuf (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 0, NULL, NULL);
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 300, 200);
  g_autoptr(GListModel) top = NULL;
  double previous = 1.0;

  gdk_pixbuf_fill (image, 0x80402000);
  top = tvw_model_classify (model, image, 5, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (top), ==, 5);

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(TvwPrediction) p = g_list_model_get_item (top, i);

      g_assert_cmpfloat (tvw_prediction_get_score (p), <=, previous);
      g_assert_cmpuint (tvw_prediction_get_index (p), <, 1000);
      /* Random weights: no categories. */
      g_assert_null (tvw_prediction_get_category (p));
      previous = tvw_prediction_get_score (p);
    }
}

static void
classified_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GListModel **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = tvw_model_classify_finish (TVW_MODEL (source), result, &error);
  g_assert_no_error (error);
}

/* The worker thread gets the image and top_k: the same predictions as
 * the synchronous call, top_k of them. */
static void
test_classify_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = tvw_model_new ("resnet18", 0, NULL, NULL);
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 120, 90);
  g_autoptr(GListModel) sync = NULL;
  g_autoptr(GListModel) later = NULL;

  gdk_pixbuf_fill (image, 0x20a0c000);
  sync = tvw_model_classify (model, image, 3, NULL, &error);
  g_assert_no_error (error);

  tvw_model_classify_async (model, image, 3, NULL, classified_cb, &later);
  while (later == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (g_list_model_get_n_items (later), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(TvwPrediction) a = g_list_model_get_item (sync, i);
      g_autoptr(TvwPrediction) b = g_list_model_get_item (later, i);

      g_assert_cmpuint (tvw_prediction_get_index (a), ==, tvw_prediction_get_index (b));
      g_assert_cmpfloat (tvw_prediction_get_score (a), ==, tvw_prediction_get_score (b));
    }
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("tvw-test-model-XXXXXX", NULL);
  /* Never the real network: only the loopback server, when a test says so. */
  g_setenv ("TVW_OFFLINE", "1", TRUE);
  g_setenv ("TVW_CACHE_DIR", tmpdir, TRUE);
  g_setenv ("TORCH_HOME", tmpdir, TRUE);

  g_test_add_func ("/tvw/model/unknown-and-catalog", test_unknown_and_catalog);
  g_test_add_func ("/tvw/model/unknown-option", test_unknown_option);
  g_test_add_func ("/tvw/model/random-init-forward", test_random_init_forward);
  g_test_add_func ("/tvw/model/bad-inputs", test_bad_inputs);
  g_test_add_func ("/tvw/model/list-parameters", test_list_parameters);
  g_test_add_func ("/tvw/model/load-state-dict", test_load_state_dict);
  g_test_add_func ("/tvw/model/legacy-pretrained-warns", test_legacy_pretrained_warns);
  g_test_add_func ("/tvw/model/legacy-pretrained-false", test_legacy_pretrained_false);
  g_test_add_func ("/tvw/model/async-download", test_async_download);
  g_test_add_func ("/tvw/model/classify-pixbuf", test_classify_pixbuf);
  g_test_add_func ("/tvw/model/classify-async", test_classify_async);

  status = g_test_run ();

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);

    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmpdir);
  }
  return status;
}
