/* test-registry.c — the catalog, TvwWeights, TvwWeightsEnum and weights cards
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The catalog's values are checked exhaustively against torchvision by
 * tests/catalog/test_catalog.py; this file checks the C API: singletons,
 * lookups, DEFAULT, errors and suggestions, GVariant types of the meta,
 * list-model signals and weights cards.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <tvw.h>

#include "tvw-registry-private.h"
#include "tvw-transform-private.h"
#include "tvw-weights-private.h"

static char *tmp_dir;        /* removed at exit */
static char *user_data_dir;  /* $XDG_DATA_HOME */
static char *system_data_dir;

/* {{{ Helpers */

static char *
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_mkdir_with_parents (dir, 0700) == 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  return path;
}

/* Registers @contents as a card named @name in the temporary directory. */
static gboolean
register_card (const char  *name,
               const char  *contents,
               char       **path_out,
               GError     **error)
{
  g_autofree char *path = write_file (tmp_dir, name, contents);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  gboolean ok = tvw_register_weights_from_file (file, error);

  if (path_out != NULL)
    *path_out = g_steal_pointer (&path);

  return ok;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  g_remove (path);
}

typedef struct
{
  guint n_calls;
  guint position;
  guint removed;
  guint added;
} ItemsChanged;

static void
items_changed_cb (GListModel   *model,
                  guint         position,
                  guint         removed,
                  guint         added,
                  ItemsChanged *seen)
{
  seen->n_calls++;
  seen->position = position;
  seen->removed = removed;
  seen->added = added;
}

#define CARD_TRANSFORMS "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224}"

/* }}} */
/* {{{ Autoloaded cards (must run first: the registry is built once) */

static void
test_autoload (void)
{
  TvwWeights *w;
  g_autofree char *expected_file = g_build_filename (user_data_dir, "tvw", "weights", "auto.pth", NULL);
  g_autoptr(GError) error = NULL;

  /* The user's cards are read before the system's, and in name order. */
  g_test_expect_message ("Tvw", G_LOG_LEVEL_WARNING, "Ignoring a weights card: *20-broken.json*entries*");
  g_test_expect_message ("Tvw", G_LOG_LEVEL_WARNING, "Ignoring a weights card: *10-same.json*already registered*");
  w = tvw_get_weight ("Autoload_Weights.AUTO_V1", &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_assert_nonnull (w);
  g_assert_cmpstr (tvw_weights_get_local_file (w), ==, expected_file);
  g_assert_null (tvw_weights_get_url (w));
  g_assert_false (tvw_weights_is_builtin (w));
  g_assert_true (tvw_weights_is_default (w));
  g_assert_cmpstr (tvw_weights_get_builder (w), ==, "resnet18");

  /* The system card with another entry name was registered too. */
  w = tvw_get_weight ("Autoload_Weights.SYSTEM_V1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tvw_weights_get_url (w), ==, "https://example.org/system-00000000.pth");
}

/* }}} */
/* {{{ Listing */

static void
test_list_catalog (void)
{
  g_auto(GStrv) all = tvw_list_catalog_models (NULL, NULL);
  g_auto(GStrv) all_empty = NULL;
  g_auto(GStrv) supported = tvw_list_models (NULL, NULL);
  const char *empty[] = { NULL };

  g_assert_cmpuint (g_strv_length (all), ==, 118);
  for (guint i = 1; all[i] != NULL; i++)
    g_assert_cmpint (strcmp (all[i - 1], all[i]), <, 0);
  g_assert_true (g_strv_contains ((const char * const *)all, "resnet50"));
  g_assert_true (g_strv_contains ((const char * const *)all, "quantized_mobilenet_v3_large"));
  g_assert_true (g_strv_contains ((const char * const *)all, "raft_small"));

  all_empty = tvw_list_catalog_models (empty, empty);
  g_assert_true (g_strv_equal ((const char * const *)all, (const char * const *)all_empty));

  for (guint i = 0; supported[i] != NULL; i++)
    {
      g_assert_true (g_strv_contains ((const char * const *)all, supported[i]));
      g_assert_true (tvw_is_model_supported (supported[i]));
    }
  for (guint i = 0; all[i] != NULL; i++)
    g_assert_cmpint (tvw_is_model_supported (all[i]), ==,
                     g_strv_contains ((const char * const *)supported, all[i]));
  g_assert_false (tvw_is_model_supported ("resnet05"));
}

static void
test_list_globs (void)
{
  const char *include[] = { "resnet*", NULL };
  const char *exclude[] = { "*50", NULL };
  const char *include2[] = { "vgg1?", "alex*", NULL };
  const char *exclude_all[] = { "*", NULL };
  const char *nothing[] = { "zzz*", NULL };
  const char *expected[] = { "resnet101", "resnet152", "resnet18", "resnet34", NULL };
  const char *expected2[] = { "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", NULL };
  g_auto(GStrv) names = tvw_list_catalog_models (include, exclude);
  g_auto(GStrv) names2 = tvw_list_catalog_models (include2, NULL);
  g_auto(GStrv) none = tvw_list_catalog_models (NULL, exclude_all);
  g_auto(GStrv) none2 = tvw_list_catalog_models (nothing, NULL);

  g_assert_true (g_strv_equal ((const char * const *)names, expected));
  g_assert_true (g_strv_equal ((const char * const *)names2, expected2));
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  g_assert_cmpuint (g_strv_length (none2), ==, 0);
}

/* }}} */
/* {{{ Enums and singletons */

static void
test_singletons (void)
{
  g_autoptr(GError) error = NULL;
  TvwWeightsEnum *e = tvw_get_model_weights ("resnet50", &error);
  TvwWeights *v2, *by_default, *by_lookup, *by_lookup_default;
  g_autoptr(TvwWeights) item = NULL;

  g_assert_no_error (error);
  g_assert_true (TVW_IS_WEIGHTS_ENUM (e));
  g_assert_true (tvw_get_model_weights ("resnet50", NULL) == e);

  v2 = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", &error);
  g_assert_no_error (error);
  by_default = tvw_get_weight ("ResNet50_Weights.DEFAULT", &error);
  g_assert_no_error (error);
  by_lookup = tvw_weights_enum_lookup (e, "IMAGENET1K_V2", &error);
  g_assert_no_error (error);
  by_lookup_default = tvw_weights_enum_lookup (e, "DEFAULT", &error);
  g_assert_no_error (error);
  item = g_list_model_get_item (G_LIST_MODEL (e), 1);

  g_assert_true (v2 == by_default);
  g_assert_true (v2 == by_lookup);
  g_assert_true (v2 == by_lookup_default);
  g_assert_true (v2 == item);
  g_assert_true (tvw_weights_enum_get_default (e) == v2);
  g_assert_true (tvw_weights_get_enum (v2) == e);
}

static void
test_enum (void)
{
  TvwWeightsEnum *e = tvw_get_model_weights ("efficientnet_b1", NULL);
  GListModel *model = G_LIST_MODEL (e);
  g_autoptr(TvwWeights) v1 = NULL;
  g_autoptr(TvwWeights) v2 = NULL;
  g_autofree char *name = NULL;
  guint n_items = 0;
  GType item_type = 0;

  g_assert_cmpstr (tvw_weights_enum_get_name (e), ==, "EfficientNet_B1_Weights");
  g_assert_cmpstr (tvw_weights_enum_get_builder (e), ==, "efficientnet_b1");
  g_assert_true (g_list_model_get_item_type (model) == TVW_TYPE_WEIGHTS);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_null (g_list_model_get_item (model, 2));

  /* Declaration order, DEFAULT not an item of its own. */
  v1 = g_list_model_get_item (model, 0);
  v2 = g_list_model_get_item (model, 1);
  g_assert_cmpstr (tvw_weights_get_name (v1), ==, "IMAGENET1K_V1");
  g_assert_cmpstr (tvw_weights_get_name (v2), ==, "IMAGENET1K_V2");
  g_assert_cmpstr (tvw_weights_get_full_name (v2), ==, "EfficientNet_B1_Weights.IMAGENET1K_V2");
  g_assert_false (tvw_weights_is_default (v1));
  g_assert_true (tvw_weights_is_default (v2));
  g_assert_true (tvw_weights_is_builtin (v1));

  g_object_get (e, "n-items", &n_items, "item-type", &item_type, "name", &name, NULL);
  g_assert_cmpuint (n_items, ==, 2);
  g_assert_true (item_type == TVW_TYPE_WEIGHTS);
  g_assert_cmpstr (name, ==, "EfficientNet_B1_Weights");

  /* Every builder's enum is listed once. */
  g_assert_cmpuint (g_list_model_get_n_items (tvw_get_weights_enums ()), >=, 118);
}

static void
test_entry_fields (void)
{
  TvwWeights *w = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL);
  const char * const *categories = tvw_weights_get_categories (w);
  GVariant *kwargs = tvw_weights_get_preset_kwargs (w);
  gint32 crop = 0, resize = 0;

  g_assert_cmpstr (tvw_weights_get_url (w), ==, "https://download.pytorch.org/models/resnet50-11ad3fa6.pth");
  g_assert_cmpstr (tvw_weights_get_builder (w), ==, "resnet50");
  g_assert_null (tvw_weights_get_local_file (w));
  g_assert_null (tvw_weights_get_sha256 (w));
  g_assert_cmpstr (tvw_weights_get_preset (w), ==, "ImageClassification");
  g_assert_true (g_variant_lookup (kwargs, "crop_size", "i", &crop));
  g_assert_true (g_variant_lookup (kwargs, "resize_size", "i", &resize));
  g_assert_cmpint (crop, ==, 224);
  g_assert_cmpint (resize, ==, 232);

  g_assert_nonnull (categories);
  g_assert_cmpuint (g_strv_length ((char **)categories), ==, 1000);
  g_assert_cmpstr (categories[0], ==, "tench");
  g_assert_cmpstr (categories[999], ==, "toilet tissue");
  g_assert_cmpuint (tvw_weights_get_num_classes (w), ==, 1000);

  /* Optical flow has no categories at all. */
  w = tvw_get_weight ("Raft_Large_Weights.C_T_V1", NULL);
  g_assert_null (tvw_weights_get_categories (w));
  g_assert_cmpuint (tvw_weights_get_num_classes (w), ==, 0);
  g_assert_cmpstr (tvw_weights_get_preset (w), ==, "OpticalFlow");
  g_assert_cmpuint (g_variant_n_children (tvw_weights_get_preset_kwargs (w)), ==, 0);

  /* Video: the tuples of VideoClassification. */
  w = tvw_get_weight ("MViT_V2_S_Weights.DEFAULT", NULL);
  kwargs = tvw_weights_get_preset_kwargs (w);
  {
    g_autoptr(GVariant) resize_size = g_variant_lookup_value (kwargs, "resize_size", NULL);
    g_autoptr(GVariant) mean = g_variant_lookup_value (kwargs, "mean", G_VARIANT_TYPE ("ad"));

    g_assert_cmpstr (g_variant_get_type_string (resize_size), ==, "(i)");
    g_assert_nonnull (mean);
    g_assert_cmpuint (g_variant_n_children (mean), ==, 3);
  }
}

static void
test_meta_types (void)
{
  TvwWeights *w = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL);
  GVariant *meta = tvw_weights_get_meta (w);
  g_autoptr(GVariant) min_size = tvw_weights_lookup_meta (w, "min_size");
  g_autoptr(GVariant) num_params = tvw_weights_lookup_meta (w, "num_params");
  g_autoptr(GVariant) metrics = tvw_weights_lookup_meta (w, "_metrics");
  g_autoptr(GVariant) imagenet = NULL;
  g_autoptr(GVariant) categories = tvw_weights_lookup_meta (w, "categories");
  g_autoptr(GVariant) missing = tvw_weights_lookup_meta (w, "no_such_key");
  GVariantIter iter;
  const char *key;
  GVariant *value;
  const char *first_key = NULL;
  gint64 h = 0, wd = 0;
  double acc1 = 0;

  g_assert_true (g_variant_is_of_type (meta, G_VARIANT_TYPE_VARDICT));
  /* torchvision's key order. */
  g_variant_iter_init (&iter, meta);
  g_assert_true (g_variant_iter_next (&iter, "{&sv}", &first_key, &value));
  g_variant_unref (value);
  g_assert_cmpstr (first_key, ==, "min_size");

  g_assert_cmpstr (g_variant_get_type_string (min_size), ==, "(xx)");
  g_variant_get (min_size, "(xx)", &h, &wd);
  g_assert_cmpint (h, ==, 1);
  g_assert_cmpint (wd, ==, 1);
  g_assert_cmpstr (g_variant_get_type_string (num_params), ==, "x");
  g_assert_cmpint (g_variant_get_int64 (num_params), ==, 25557032);
  g_assert_cmpstr (g_variant_get_type_string (categories), ==, "as");
  g_assert_null (missing);

  g_assert_true (g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT));
  imagenet = g_variant_lookup_value (metrics, "ImageNet-1K", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (imagenet);
  g_assert_true (g_variant_lookup (imagenet, "acc@1", "d", &acc1));
  g_assert_cmpfloat (acc1, ==, 80.858);

  /* None and NaN. */
  w = tvw_get_weight ("VGG16_Weights.IMAGENET1K_FEATURES", NULL);
  {
    g_autoptr(GVariant) none = tvw_weights_lookup_meta (w, "categories");
    g_autoptr(GVariant) m = tvw_weights_lookup_meta (w, "_metrics");
    g_autoptr(GVariant) inet = g_variant_lookup_value (m, "ImageNet-1K", NULL);
    double nan_value = 0;

    g_assert_cmpstr (g_variant_get_type_string (none), ==, "mv");
    g_assert_null (g_variant_get_maybe (none));
    g_assert_null (tvw_weights_get_categories (w));
    g_assert_true (g_variant_lookup (inet, "acc@1", "d", &nan_value));
    g_assert_true (isnan (nan_value));
  }

  /* A quantized entry names its float weights. */
  w = tvw_get_weight ("ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1", NULL);
  {
    g_autoptr(GVariant) unquantized = tvw_weights_lookup_meta (w, "unquantized");
    g_autoptr(GVariant) backend = tvw_weights_lookup_meta (w, "backend");

    g_assert_cmpstr (g_variant_get_string (unquantized, NULL), ==, "ResNet50_Weights.IMAGENET1K_V1");
    g_assert_cmpstr (g_variant_get_string (backend, NULL), ==, "fbgemm");
  }

  /* Keypoints and video. */
  w = tvw_get_weight ("KeypointRCNN_ResNet50_FPN_Weights.COCO_V1", NULL);
  {
    g_autoptr(GVariant) names = tvw_weights_lookup_meta (w, "keypoint_names");

    g_assert_cmpstr (g_variant_get_type_string (names), ==, "as");
    g_assert_cmpuint (g_variant_n_children (names), ==, 17);
  }
  w = tvw_get_weight ("S3D_Weights.KINETICS400_V1", NULL);
  {
    g_autoptr(GVariant) t = tvw_weights_lookup_meta (w, "min_temporal_size");

    g_assert_nonnull (t);
    g_assert_cmpstr (g_variant_get_type_string (t), ==, "x");
    g_assert_cmpint (g_variant_get_int64 (t), ==, 14);
    g_assert_cmpuint (tvw_weights_get_num_classes (w), ==, 400);
  }

  /* The shared ImageNet list is expanded, not referenced. */
  g_variant_iter_init (&iter, meta);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    g_assert_false (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) &&
                    g_str_has_prefix (g_variant_get_string (value, NULL), "$"));
}

/* }}} */
/* {{{ Legacy mapping */

static void
test_legacy (void)
{
  g_assert_cmpstr (tvw_registry_legacy_weights ("resnet50", FALSE), ==, "ResNet50_Weights.IMAGENET1K_V1");
  g_assert_null (tvw_registry_legacy_weights ("resnet50", TRUE));
  g_assert_cmpstr (tvw_registry_legacy_weights ("quantized_resnet50", FALSE), ==,
                   "ResNet50_QuantizedWeights.IMAGENET1K_FBGEMM_V1");
  g_assert_cmpstr (tvw_registry_legacy_weights ("fasterrcnn_resnet50_fpn", FALSE), ==,
                   "FasterRCNN_ResNet50_FPN_Weights.COCO_V1");
  g_assert_cmpstr (tvw_registry_legacy_weights ("fasterrcnn_resnet50_fpn", TRUE), ==,
                   "ResNet50_Weights.IMAGENET1K_V1");
  g_assert_cmpstr (tvw_registry_legacy_weights ("ssd300_vgg16", TRUE), ==,
                   "VGG16_Weights.IMAGENET1K_FEATURES");
  /* Builders newer than the legacy interface have none. */
  g_assert_null (tvw_registry_legacy_weights ("vit_h_14", FALSE));
  g_assert_null (tvw_registry_legacy_weights ("no_such_model", FALSE));

  g_assert_true (tvw_get_legacy_weights ("resnet50", FALSE) ==
                 tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V1", NULL));
  g_assert_null (tvw_get_legacy_weights ("regnet_y_128gf", FALSE));

  /* Every mapping names an entry of the catalog. */
  {
    g_auto(GStrv) all = tvw_list_catalog_models (NULL, NULL);

    for (guint i = 0; all[i] != NULL; i++)
      for (int backbone = 0; backbone <= 1; backbone++)
        {
          const char *full_name = tvw_registry_legacy_weights (all[i], backbone);
          g_autoptr(GError) error = NULL;

          if (full_name != NULL)
            {
              g_assert_nonnull (tvw_get_weight (full_name, &error));
              g_assert_no_error (error);
            }
        }
  }
}

/* }}} */
/* {{{ Errors */

static void
test_not_found (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (tvw_get_model_weights ("resnet05", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "did you mean resnet50"));
  g_clear_error (&error);

  /* Case-insensitive: ResNet50 is most likely resnet50. */
  g_assert_null (tvw_get_model_weights ("ResNet50", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "resnet50"));
  g_clear_error (&error);

  g_assert_null (tvw_get_model_weights ("xyzzy", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_null (strstr (error->message, "did you mean"));
  g_clear_error (&error);

  g_assert_null (tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V3", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "IMAGENET1K_V2"));
  g_assert_nonnull (strstr (error->message, "IMAGENET1K_V1"));
  g_clear_error (&error);

  g_assert_null (tvw_get_weight ("ResNet50_Weight.DEFAULT", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "ResNet50_Weights"));
  g_clear_error (&error);

  g_assert_null (tvw_get_weight ("resnet50", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "ResNet50_Weights.DEFAULT"));
  g_clear_error (&error);

  g_assert_null (tvw_weights_enum_lookup (tvw_get_model_weights ("resnet18", NULL), "IMAGENET_V1", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "IMAGENET1K_V1"));
  g_clear_error (&error);

  g_assert_null (tvw_get_model ("resnet05", NULL, NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "resnet50"));
  g_clear_error (&error);

  g_assert_null (tvw_get_model ("resnet50", "IMAGENET1K_V3", NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_null (tvw_get_model ("resnet50", "ResNet18_Weights.DEFAULT", NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "resnet18"));
  g_clear_error (&error);
}

static void
test_unsupported (void)
{
  g_auto(GStrv) all = tvw_list_catalog_models (NULL, NULL);
  g_autoptr(GError) error = NULL;
  const char *unsupported = NULL;

  for (guint i = 0; all[i] != NULL && unsupported == NULL; i++)
    if (!tvw_is_model_supported (all[i]))
      unsupported = all[i];

  if (unsupported == NULL)
    {
      g_test_skip ("every architecture is implemented");
      return;
    }

  /* Its weights are complete all the same. */
  g_assert_nonnull (tvw_get_model_weights (unsupported, NULL));
  g_assert_null (tvw_get_model (unsupported, "DEFAULT", NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, unsupported));
}

/* The torchvision module of every builder, as gen-catalog.py read it. */
static void
test_model_task (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (tvw_get_model_task ("resnet50", NULL), ==, "classification");
  g_assert_cmpstr (tvw_get_model_task ("quantized_resnet50", NULL), ==, "quantization");
  g_assert_cmpstr (tvw_get_model_task ("fasterrcnn_resnet50_fpn", NULL), ==, "detection");
  g_assert_cmpstr (tvw_get_model_task ("lraspp_mobilenet_v3_large", NULL), ==, "segmentation");
  g_assert_cmpstr (tvw_get_model_task ("mvit_v1_b", NULL), ==, "video");
  g_assert_cmpstr (tvw_get_model_task ("raft_small", NULL), ==, "optical_flow");
  g_assert_null (tvw_get_model_task ("resnet5", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "resnet50"));
}

/* }}} */
/* {{{ Transforms */

static void
test_transforms (void)
{
  GListModel *enums = tvw_get_weights_enums ();
  guint n_entries = 0;

  for (guint i = 0; i < g_list_model_get_n_items (enums); i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (enums, i);

      if (!tvw_weights_enum_is_builtin (e))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (e)); j++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (e), j);
          TvwTransform *t = tvw_weights_transforms (w);
          TvwTransform *t2 = tvw_weights_transforms (w);

          g_assert_true (TVW_IS_TRANSFORM (t));
          g_assert_true (t != t2);
          g_assert_finalize_object (t);
          g_assert_finalize_object (t2);
          n_entries++;
        }
    }
  /* torchvision's 162, and libtvw's own embedded Fashion-MNIST entry. */
  g_assert_cmpuint (n_entries, ==, 163);
}

static void
test_transforms_with (void)
{
  TvwWeights *w = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GVariantDict) overrides = G_VARIANT_DICT_INIT (NULL);
  TvwTransform *t;
  int h = 0, wd = 0, first = 0, second = 0;

  g_variant_dict_insert (&overrides, "crop_size", "i", 400);
  g_variant_dict_insert (&overrides, "resize_size", "x", (gint64)400);
  t = tvw_weights_transforms_with (w, g_variant_dict_end (&overrides), &error);
  g_assert_no_error (error);
  tvw_transform_get_crop_size (t, &h, &wd);
  tvw_transform_get_resize_size (t, &first, &second);
  g_assert_cmpint (h, ==, 400);
  g_assert_cmpint (wd, ==, 400);
  g_assert_cmpint (first, ==, 400);
  /* The entry's own interpolation stays. */
  g_assert_cmpint (tvw_transform_get_interpolation (t), ==, TVW_INTERPOLATION_BILINEAR);
  g_assert_finalize_object (t);

  /* The entry is unchanged by an override. */
  t = tvw_weights_transforms (w);
  tvw_transform_get_crop_size (t, &h, &wd);
  g_assert_cmpint (h, ==, 224);
  g_assert_finalize_object (t);

  g_variant_dict_init (&overrides, NULL);
  g_variant_dict_insert (&overrides, "crop_sise", "i", 400);
  t = tvw_weights_transforms_with (w, g_variant_dict_end (&overrides), &error);
  g_assert_null (t);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "crop_sise"));
}

/* }}} */
/* {{{ Weights cards */

static void
test_card_new_enum (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected_file = g_build_filename (tmp_dir, "weights", "flowers.pth", NULL);
  GListModel *enums = tvw_get_weights_enums ();
  guint n_enums = g_list_model_get_n_items (enums);
  ItemsChanged seen = { 0, };
  TvwWeights *v1, *v2;
  TvwWeightsEnum *e;
  gulong handler;

  handler = g_signal_connect (enums, "items-changed", G_CALLBACK (items_changed_cb), &seen);
  g_assert_true (register_card ("flowers.json",
    "{\"enum\": \"Flowers_Weights\", \"builder\": \"resnet18\", \"entries\": ["
    " {\"name\": \"FLOWERS_V1\", \"file\": \"weights/flowers.pth\", \"default\": true,"
    "  \"sha256\": \"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\","
    "  \"num_classes\": 3,"
    "  \"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224, \"resize_size\": 232,"
    "                  \"interpolation\": \"bicubic\", \"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25]},"
    "  \"meta\": {\"categories\": [\"daisy\", \"rose\", \"tulip\"], \"min_size\": [1, 1],"
    "           \"num_params\": 11227812, \"_metrics\": {\"Flowers-102\": {\"acc@1\": 91.5}},"
    "           \"recipe\": \"https://example.org/recipe\"}},"
    " {\"name\": \"FLOWERS_V2\", \"url\": \"https://example.org/flowers-12345678.pth\","
    "  \"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224},"
    "  \"meta\": {\"categories\": {\"$list\": \"imagenet\"}}}"
    "]}", &path, &error));
  g_assert_no_error (error);
  g_signal_handler_disconnect (enums, handler);

  /* The new enum was appended to the list of enums. */
  g_assert_cmpuint (seen.n_calls, ==, 1);
  g_assert_cmpuint (seen.position, ==, n_enums);
  g_assert_cmpuint (seen.removed, ==, 0);
  g_assert_cmpuint (seen.added, ==, 1);

  v1 = tvw_get_weight ("Flowers_Weights.DEFAULT", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tvw_weights_get_name (v1), ==, "FLOWERS_V1");
  g_assert_cmpstr (tvw_weights_get_local_file (v1), ==, expected_file);
  g_assert_null (tvw_weights_get_url (v1));
  g_assert_cmpstr (tvw_weights_get_sha256 (v1), ==, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  g_assert_cmpuint (tvw_weights_get_num_classes (v1), ==, 3);
  g_assert_cmpstr (tvw_weights_get_categories (v1)[2], ==, "tulip");
  g_assert_false (tvw_weights_is_builtin (v1));
  {
    g_autoptr(GVariant) min_size = tvw_weights_lookup_meta (v1, "min_size");
    g_autoptr(GVariant) num_params = tvw_weights_lookup_meta (v1, "num_params");
    TvwTransform *t = tvw_weights_transforms (v1);
    int h = 0, w = 0;

    g_assert_cmpstr (g_variant_get_type_string (min_size), ==, "(xx)");
    g_assert_cmpint (g_variant_get_int64 (num_params), ==, 11227812);
    tvw_transform_get_crop_size (t, &h, &w);
    g_assert_cmpint (h, ==, 224);
    g_assert_cmpint (tvw_transform_get_interpolation (t), ==, TVW_INTERPOLATION_BICUBIC);
    g_assert_finalize_object (t);
  }

  v2 = tvw_get_weight ("Flowers_Weights.FLOWERS_V2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tvw_weights_get_num_classes (v2), ==, 1000);
  g_assert_false (tvw_weights_is_default (v2));

  e = tvw_weights_get_enum (v1);
  g_assert_true (tvw_weights_get_enum (v2) == e);
  g_assert_cmpstr (tvw_weights_enum_get_builder (e), ==, "resnet18");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (e)), ==, 2);

  /* A second card extends the card's enum: one items-changed at the end. */
  seen = (ItemsChanged) { 0, };
  handler = g_signal_connect (e, "items-changed", G_CALLBACK (items_changed_cb), &seen);
  g_assert_true (register_card ("flowers-more.json",
    "{\"enum\": \"Flowers_Weights\", \"builder\": \"resnet18\", \"entries\": ["
    " {\"name\": \"FLOWERS_V3\", \"url\": \"https://example.org/flowers3-12345678.pth\", " CARD_TRANSFORMS "}"
    "]}", NULL, &error));
  g_assert_no_error (error);
  g_signal_handler_disconnect (e, handler);
  g_assert_cmpuint (seen.n_calls, ==, 1);
  g_assert_cmpuint (seen.position, ==, 2);
  g_assert_cmpuint (seen.removed, ==, 0);
  g_assert_cmpuint (seen.added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (e)), ==, 3);
  g_assert_true (tvw_weights_enum_get_default (e) == v1);

  /* Registering the same card again collides with itself. */
  {
    g_autoptr(GFile) file = g_file_new_for_path (path);

    g_assert_false (tvw_register_weights_from_file (file, &error));
    g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "already registered"));
  }
}

static void
test_card_builtin_enum (void)
{
  g_autoptr(GError) error = NULL;
  TvwWeightsEnum *e = tvw_get_model_weights ("resnet34", NULL);
  TvwWeights *before = tvw_weights_enum_get_default (e);
  ItemsChanged seen = { 0, };
  gulong handler;

  handler = g_signal_connect (e, "items-changed", G_CALLBACK (items_changed_cb), &seen);
  g_assert_true (register_card ("resnet34-extra.json",
    "{\"enum\": \"ResNet34_Weights\", \"builder\": \"resnet34\", \"entries\": ["
    " {\"name\": \"MY_FINETUNE_V1\", \"url\": \"https://example.org/r34-12345678.pth\", " CARD_TRANSFORMS "}"
    "]}", NULL, &error));
  g_assert_no_error (error);
  g_signal_handler_disconnect (e, handler);

  g_assert_cmpuint (seen.n_calls, ==, 1);
  g_assert_cmpuint (seen.position, ==, 1);
  g_assert_cmpuint (seen.added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (e)), ==, 2);
  g_assert_true (tvw_weights_enum_get_default (e) == before);
  g_assert_true (tvw_get_weight ("ResNet34_Weights.MY_FINETUNE_V1", NULL) != NULL);
  g_assert_null (tvw_get_model ("resnet34", "NO_SUCH", NULL, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
}

static void
test_card_collisions (void)
{
  TvwWeightsEnum *e = tvw_get_model_weights ("resnet50", NULL);
  TvwWeights *v2 = tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL);
  g_autofree char *url = g_strdup (tvw_weights_get_url (v2));
  struct {
    const char *card;
    const char *expected;
  } cases[] = {
    /* Replacing a built-in entry. */
    { "{\"enum\": \"ResNet50_Weights\", \"builder\": \"resnet50\", \"entries\": ["
      " {\"name\": \"IMAGENET1K_V2\", \"url\": \"https://evil.example/x-12345678.pth\", " CARD_TRANSFORMS "}]}",
      "entries[0].name: ResNet50_Weights.IMAGENET1K_V2 is a built-in entry" },
    /* The first entry is fine, the second collides: nothing is registered. */
    { "{\"enum\": \"ResNet50_Weights\", \"builder\": \"resnet50\", \"entries\": ["
      " {\"name\": \"NEW_OK\", \"url\": \"https://example.org/ok-12345678.pth\", " CARD_TRANSFORMS "},"
      " {\"name\": \"IMAGENET1K_V1\", \"url\": \"https://evil.example/x-12345678.pth\", " CARD_TRANSFORMS "}]}",
      "entries[1].name" },
    /* Moving DEFAULT of a built-in enum. */
    { "{\"enum\": \"ResNet50_Weights\", \"builder\": \"resnet50\", \"entries\": ["
      " {\"name\": \"NEW_DEFAULT\", \"default\": true, \"url\": \"https://example.org/d-12345678.pth\", " CARD_TRANSFORMS "}]}",
      "entries[0].default" },
    /* A built-in enum with another builder. */
    { "{\"enum\": \"ResNet50_Weights\", \"builder\": \"resnet18\", \"entries\": ["
      " {\"name\": \"OTHER\", \"url\": \"https://example.org/o-12345678.pth\", " CARD_TRANSFORMS "}]}",
      "builder: ResNet50_Weights holds weights for resnet50" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("collision-%u.json", i);
      g_autofree char *path = NULL;

      g_assert_false (register_card (name, cases[i].card, &path, &error));
      g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, path));
      if (strstr (error->message, cases[i].expected) == NULL)
        g_error ("“%s” does not say “%s”", error->message, cases[i].expected);
    }

  /* The built-in enum is exactly as it was. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (e)), ==, 2);
  g_assert_true (tvw_weights_enum_get_default (e) == v2);
  g_assert_true (tvw_get_weight ("ResNet50_Weights.IMAGENET1K_V2", NULL) == v2);
  g_assert_cmpstr (tvw_weights_get_url (v2), ==, url);
  g_assert_true (tvw_weights_is_builtin (v2));
  g_assert_null (tvw_weights_enum_find (e, "NEW_OK"));
}

static void
test_card_malformed (void)
{
  struct {
    const char *card;
    const char *field;
  } cases[] = {
    { "{\"enum\": ", "not valid JSON" },
    { "[1, 2]", "must be a JSON object" },
    { "{\"builder\": \"resnet18\", \"entries\": []}", "enum: missing" },
    { "{\"enum\": \"3Bad\", \"builder\": \"resnet18\", \"entries\": []}", "enum: must be an identifier" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet5O\", \"entries\": []}", "builder: unknown model “resnet5O”; did you mean resnet50" },
    { "{\"enum\": \"A_Weights\", \"builder\": 18, \"entries\": []}", "builder: must be a string" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": []}", "entries: must be a non-empty list" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [], \"extra\": 1}", "extra: unknown field" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [7]}", "entries[0]: must be an object" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"url\": \"https://x/y.pth\", " CARD_TRANSFORMS "}]}",
      "entries[0].name: missing" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"DEFAULT\", \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS "}]}",
      "entries[0].name: DEFAULT is an alias" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", " CARD_TRANSFORMS "}]}",
      "entries[0].url: an entry needs a “url” or a “file”" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"not a url\", " CARD_TRANSFORMS "}]}",
      "entries[0].url: must be an http or https URL" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"file:///dev/zero\", " CARD_TRANSFORMS "}]}",
      "entries[0].url: must be an http or https URL" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", \"sha256\": \"abc\", " CARD_TRANSFORMS "}]}",
      "entries[0].sha256" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", \"num_classes\": -1, " CARD_TRANSFORMS "}]}",
      "entries[0].num_classes" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", \"default\": \"yes\", " CARD_TRANSFORMS "}]}",
      "entries[0].default" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\"}]}",
      "entries[0].transforms: missing" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", "
      "\"transforms\": {\"preset\": \"Imageclassification\", \"crop_size\": 224}}]}",
      "entries[0].transforms: “preset” must be one of" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", "
      "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": \"big\"}}]}",
      "entries[0].transforms.crop_size" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", "
      "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224, \"interpolation\": \"lanczos\"}}]}",
      "entries[0].transforms.interpolation" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", "
      "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224, \"sharpen\": true}}]}",
      "entries[0].transforms.sharpen: unknown parameter" },
    /* The preset itself refuses it: ImageClassification needs a crop size. */
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", "
      "\"transforms\": {\"preset\": \"ImageClassification\"}}]}",
      "entries[0].transforms: " },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS ", \"meta\": [1]}]}",
      "entries[0].meta: must be an object" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS ", \"meta\": {\"categories\": [1, 2]}}]}",
      "entries[0].meta.categories" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS ", \"meta\": {\"categories\": {\"$list\": \"nope\"}}}]}",
      "entries[0].meta.categories: unknown list “nope”" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", \"num_classes\": 4, " CARD_TRANSFORMS ", \"meta\": {\"categories\": [\"a\", \"b\"]}}]}",
      "entries[0].num_classes: 4 does not match" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS "},"
      " {\"name\": \"V1\", \"url\": \"https://x/z.pth\", " CARD_TRANSFORMS "}]}",
      "entries[1].name: entries[0] has the same name" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"default\": true, \"url\": \"https://x/y.pth\", " CARD_TRANSFORMS "},"
      " {\"name\": \"V2\", \"default\": true, \"url\": \"https://x/z.pth\", " CARD_TRANSFORMS "}]}",
      "entries[1].default" },
    { "{\"enum\": \"A_Weights\", \"builder\": \"resnet18\", \"entries\": [{\"name\": \"V1\", \"url\": \"https://x/y.pth\", \"flie\": \"x.pth\", " CARD_TRANSFORMS "}]}",
      "entries[0].flie: unknown field" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *name = g_strdup_printf ("malformed-%u.json", i);
      g_autofree char *path = NULL;

      g_assert_false (register_card (name, cases[i].card, &path, &error));
      g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, path));
      if (strstr (error->message, cases[i].field) == NULL)
        g_error ("case %u: “%s” does not say “%s”", i, error->message, cases[i].field);
    }

  /* Nothing of any of them was registered. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (tvw_get_weight ("A_Weights.V1", &error));
    g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  }
}

static void
test_card_missing (void)
{
  g_autofree char *path = g_build_filename (tmp_dir, "no-such-card.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;

  g_assert_false (tvw_register_weights_from_file (file, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
}

/* }}} */

static void
write_autoload_cards (void)
{
  g_autofree char *user_cards = g_build_filename (user_data_dir, "tvw", "weights", NULL);
  g_autofree char *system_cards = g_build_filename (system_data_dir, "tvw", "weights", NULL);
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *ignored = NULL;

  a = write_file (user_cards, "10-good.json",
    "{\"enum\": \"Autoload_Weights\", \"builder\": \"resnet18\", \"entries\": ["
    " {\"name\": \"AUTO_V1\", \"file\": \"auto.pth\", " CARD_TRANSFORMS "}]}");
  b = write_file (user_cards, "20-broken.json",
    "{\"enum\": \"Broken_Weights\", \"builder\": \"resnet18\", \"entries\": {}}");
  ignored = write_file (user_cards, "README.txt", "not a card");
  /* Same entry as the user's card: the user's wins, this one is refused. */
  c = write_file (system_cards, "10-same.json",
    "{\"enum\": \"Autoload_Weights\", \"builder\": \"resnet18\", \"entries\": ["
    " {\"name\": \"AUTO_V1\", \"url\": \"https://example.org/evil-00000000.pth\", " CARD_TRANSFORMS "}]}");
  d = write_file (system_cards, "20-more.json",
    "{\"enum\": \"Autoload_Weights\", \"builder\": \"resnet18\", \"entries\": ["
    " {\"name\": \"SYSTEM_V1\", \"url\": \"https://example.org/system-00000000.pth\", " CARD_TRANSFORMS "}]}");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  /* Before anything reads them: GLib caches the XDG directories. */
  tmp_dir = g_dir_make_tmp ("tvw-test-registry-XXXXXX", &error);
  g_assert_no_error (error);
  user_data_dir = g_build_filename (tmp_dir, "data-home", NULL);
  system_data_dir = g_build_filename (tmp_dir, "data-dir", NULL);
  g_setenv ("XDG_DATA_HOME", user_data_dir, TRUE);
  g_setenv ("XDG_DATA_DIRS", system_data_dir, TRUE);
  write_autoload_cards ();

  g_test_init (&argc, &argv, NULL);

  /* First: it is the one that builds the registry. */
  g_test_add_func ("/tvw/registry/autoload-cards", test_autoload);
  g_test_add_func ("/tvw/registry/list-catalog", test_list_catalog);
  g_test_add_func ("/tvw/registry/list-globs", test_list_globs);
  g_test_add_func ("/tvw/registry/singletons", test_singletons);
  g_test_add_func ("/tvw/registry/enum-list-model", test_enum);
  g_test_add_func ("/tvw/registry/entry-fields", test_entry_fields);
  g_test_add_func ("/tvw/registry/meta-types", test_meta_types);
  g_test_add_func ("/tvw/registry/legacy-mapping", test_legacy);
  g_test_add_func ("/tvw/registry/not-found-suggests", test_not_found);
  g_test_add_func ("/tvw/registry/unsupported-architecture", test_unsupported);
  g_test_add_func ("/tvw/registry/model-task", test_model_task);
  g_test_add_func ("/tvw/registry/transforms-every-entry", test_transforms);
  g_test_add_func ("/tvw/registry/transforms-overrides", test_transforms_with);
  g_test_add_func ("/tvw/registry/card-new-enum", test_card_new_enum);
  g_test_add_func ("/tvw/registry/card-extends-builtin-enum", test_card_builtin_enum);
  g_test_add_func ("/tvw/registry/card-collisions-keep-builtin", test_card_collisions);
  g_test_add_func ("/tvw/registry/card-malformed", test_card_malformed);
  g_test_add_func ("/tvw/registry/card-missing", test_card_missing);

  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (user_data_dir);
  g_free (system_data_dir);

  return status;
}
