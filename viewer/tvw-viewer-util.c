/* tvw-viewer-util.c — what the viewer needs to know about weights entries
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include <tvw.h>

#include "tvw-viewer-util.h"

/* Returns why @weights cannot run in the viewer, or %NULL if they can. */
const char *
tvw_viewer_weights_get_unrunnable_reason (TvwWeights *weights)
{
  g_return_val_if_fail (TVW_IS_WEIGHTS (weights), NULL);

  if (g_strcmp0 (tvw_weights_get_preset (weights), "ImageClassification") == 0 ||
      g_strcmp0 (tvw_weights_get_preset (weights), "SemanticSegmentation") == 0 ||
      g_strcmp0 (tvw_weights_get_preset (weights), "ObjectDetection") == 0 ||
      g_strcmp0 (tvw_weights_get_preset (weights), "VideoClassification") == 0 ||
      g_strcmp0 (tvw_weights_get_preset (weights), "OpticalFlow") == 0)
    return tvw_is_model_supported (tvw_weights_get_builder (weights))
             ? NULL : _("libtvw cannot build this model yet");

  return _("Not an image or video classifier, segmentation, detection or optical flow model");
}

/* Frame @index of what tvw_video_read_frames () gives, (N, 3, H, W)
 * uint8, as an RGB image. */
GdkPixbuf *
tvw_viewer_frame_to_pixbuf (TvwTensor  *frames,
                            gint64      index,
                            GError    **error)
{
  const gint64 *shape;
  const guint8 *data;
  GdkPixbuf *pixbuf;
  guint8 *pixels;
  guint rank;
  gsize plane;
  int width, height, stride;

  shape = tvw_tensor_get_shape (frames, &rank);
  data = tvw_tensor_get_data_uint8 (frames);
  if (rank != 4 || index < 0 || index >= shape[0] || shape[1] != 3 || data == NULL)
    {
      g_set_error_literal (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, _("The video’s frames cannot be read"));
      return NULL;
    }

  height = (int) shape[2];
  width = (int) shape[3];
  plane = (gsize) width * height;
  data += (gsize) index * 3 * plane;
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  pixels = gdk_pixbuf_get_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < 3; c++)
        pixels[y * stride + x * 3 + c] = data[c * plane + (gsize) y * width + x];

  return pixbuf;
}

gboolean
tvw_viewer_weights_is_runnable (TvwWeights *weights)
{
  return tvw_viewer_weights_get_unrunnable_reason (weights) == NULL;
}

/* A card's file is a path; the weights built into libtvw are a resource:
 * URI. */
static gboolean
local_file_exists (const char *local_file)
{
  g_autoptr(GFile) file = NULL;

  if (g_path_is_absolute (local_file))
    return g_file_test (local_file, G_FILE_TEST_IS_REGULAR);

  file = g_file_new_for_uri (local_file);
  return g_file_query_exists (file, NULL);
}

/* Where the checkpoint of @weights is, without hashing anything, so that it
 * is cheap enough for every entry of the catalog. */
TvwViewerAvailability
tvw_viewer_weights_get_availability (TvwWeights  *weights,
                                     char       **path,
                                     gboolean    *verified)
{
  const char *local_file;
  const char *url;
  TvwCacheState state;

  g_return_val_if_fail (TVW_IS_WEIGHTS (weights), TVW_VIEWER_AVAILABILITY_REMOTE);

  if (path != NULL)
    *path = NULL;
  if (verified != NULL)
    *verified = FALSE;

  local_file = tvw_weights_get_local_file (weights);
  if (local_file != NULL && local_file_exists (local_file))
    {
      if (path != NULL)
        *path = g_strdup (local_file);
      return TVW_VIEWER_AVAILABILITY_LOCAL;
    }

  url = tvw_weights_get_url (weights);
  if (url == NULL)
    return TVW_VIEWER_AVAILABILITY_REMOTE;

  state = tvw_cache_query (url, path);
  switch (state)
    {
    case TVW_CACHE_STATE_VERIFIED:
      if (verified != NULL)
        *verified = TRUE;
      return TVW_VIEWER_AVAILABILITY_CACHED;

    case TVW_CACHE_STATE_UNCHECKED:
    case TVW_CACHE_STATE_NO_HASH:
      return TVW_VIEWER_AVAILABILITY_CACHED;

    case TVW_CACHE_STATE_PARTIAL:
      return TVW_VIEWER_AVAILABILITY_PARTIAL;

    case TVW_CACHE_STATE_CORRUPT:
    case TVW_CACHE_STATE_MISSING:
    default:
      if (path != NULL)
        g_clear_pointer (path, g_free);
      return TVW_VIEWER_AVAILABILITY_REMOTE;
    }
}

gboolean
tvw_viewer_weights_is_offline (TvwWeights *weights)
{
  TvwViewerAvailability availability = tvw_viewer_weights_get_availability (weights, NULL, NULL);

  return availability == TVW_VIEWER_AVAILABILITY_LOCAL ||
         availability == TVW_VIEWER_AVAILABILITY_CACHED;
}

static double
variant_to_double (GVariant *value)
{
  if (value == NULL)
    return NAN;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (value);
      return variant_to_double (inner);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return (double) g_variant_get_int64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    return (double) g_variant_get_int32 (value);
  return NAN;
}

/* One number of the `_metrics` dictionary, NAN when the entry has none. */
double
tvw_viewer_weights_get_metric (TvwWeights *weights,
                               const char *dataset,
                               const char *metric)
{
  g_autoptr(GVariant) metrics = NULL;
  g_autoptr(GVariant) per_dataset = NULL;
  g_autoptr(GVariant) value = NULL;

  metrics = tvw_weights_lookup_meta (weights, "_metrics");
  if (metrics == NULL || !g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT))
    return NAN;

  per_dataset = g_variant_lookup_value (metrics, dataset, G_VARIANT_TYPE_VARDICT);
  if (per_dataset == NULL)
    return NAN;

  value = g_variant_lookup_value (per_dataset, metric, NULL);
  return variant_to_double (value);
}

/* The first dataset's top-1 accuracy, for the weights picker. */
char *
tvw_viewer_weights_describe_accuracy (TvwWeights *weights)
{
  g_autoptr(GVariant) metrics = NULL;
  g_autoptr(GVariant) per_dataset = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *dataset;
  GVariantIter iter;
  double acc1;

  metrics = tvw_weights_lookup_meta (weights, "_metrics");
  if (metrics == NULL || !g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT))
    return NULL;

  g_variant_iter_init (&iter, metrics);
  if (!g_variant_iter_next (&iter, "{&s@v}", &dataset, &per_dataset))
    return NULL;

  {
    g_autoptr(GVariant) dict = g_variant_get_variant (per_dataset);

    if (!g_variant_is_of_type (dict, G_VARIANT_TYPE_VARDICT))
      return NULL;
    value = g_variant_lookup_value (dict, "acc@1", NULL);
  }

  acc1 = variant_to_double (value);
  if (isnan (acc1))
    return g_strdup (dataset);

  /* Translators: a dataset and the top-1 accuracy, e.g. “ImageNet-1K · 80.86 % top-1” (the
   * precision of the meta panel) */
  return g_strdup_printf (_("%s · %.2f %% top-1"), dataset, acc1);
}

static gboolean
visit_weights (gboolean (*visit) (TvwWeights *weights, gpointer data),
               gpointer  data)
{
  GListModel *enums = tvw_get_weights_enums ();
  guint n_enums = g_list_model_get_n_items (enums);

  for (guint i = 0; i < n_enums; i++)
    {
      g_autoptr(TvwWeightsEnum) e = g_list_model_get_item (enums, i);
      guint n = g_list_model_get_n_items (G_LIST_MODEL (e));

      for (guint j = 0; j < n; j++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (G_LIST_MODEL (e), j);

          if (!visit (w, data))
            return FALSE;
        }
    }

  return TRUE;
}

typedef struct
{
  TvwWeights *best;
  double      best_score;
} BestSearch;

static gboolean
consider_offline (TvwWeights *weights,
                  gpointer    data)
{
  BestSearch *search = data;
  double score;

  if (!tvw_viewer_weights_is_runnable (weights) || !tvw_viewer_weights_is_offline (weights))
    return TRUE;

  /* Weights for everyday photos first: the best ImageNet accuracy wins;
   * anything else (the shipped Fashion-MNIST weights) keeps catalog order. */
  score = tvw_viewer_weights_get_metric (weights, "ImageNet-1K", "acc@1");
  if (isnan (score))
    score = -1.0;

  if (search->best == NULL || score > search->best_score)
    {
      g_set_object (&search->best, weights);
      search->best_score = score;
    }

  return TRUE;
}

/* The best runnable entry whose checkpoint is already on this computer. */
TvwWeights *
tvw_viewer_find_best_offline_weights (void)
{
  BestSearch search = { NULL, -1.0 };

  visit_weights (consider_offline, &search);

  return search.best;
}

static gboolean
consider_runnable (TvwWeights *weights,
                   gpointer    data)
{
  TvwWeights **found = data;

  if (!tvw_viewer_weights_is_runnable (weights))
    return TRUE;

  /* The enum's DEFAULT rather than its first entry. */
  {
    TvwWeights *def = tvw_weights_enum_get_default (tvw_weights_get_enum (weights));

    *found = g_object_ref (def != NULL && tvw_viewer_weights_is_runnable (def) ? def : weights);
  }

  return FALSE;
}

TvwWeights *
tvw_viewer_find_first_runnable_weights (void)
{
  TvwWeights *found = NULL;

  visit_weights (consider_runnable, &found);

  return found;
}

static void
append_escaped (GString    *out,
                const char *text,
                gssize      len)
{
  g_autofree char *escaped = g_markup_escape_text (text, len);

  g_string_append (out, escaped);
}

static gboolean
is_http_url (const char *url)
{
  return g_str_has_prefix (url, "https://") || g_str_has_prefix (url, "http://");
}

/* torchvision's `_docs` are reStructuredText fragments: links written
 * `text <url>`_, literals written ``code``, and the source's indentation.
 * This makes Pango markup of them: one paragraph per blank line. */
char *
tvw_viewer_rst_to_markup (const char *text)
{
  g_autoptr(GString) flat = g_string_new (NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  gboolean pending_break = FALSE;
  const char *p;

  if (text == NULL)
    return NULL;

  /* Join the lines of a paragraph, dropping the indentation. */
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (*line == '\0')
        {
          if (flat->len > 0)
            pending_break = TRUE;
          continue;
        }

      if (pending_break)
        g_string_append (flat, "\n\n");
      else if (flat->len > 0)
        g_string_append_c (flat, ' ');
      pending_break = FALSE;
      g_string_append (flat, line);
    }

  p = flat->str;
  while (*p != '\0')
    {
      if (g_str_has_prefix (p, "``"))
        {
          const char *end = strstr (p + 2, "``");

          if (end != NULL)
            {
              g_string_append (out, "<tt>");
              append_escaped (out, p + 2, end - (p + 2));
              g_string_append (out, "</tt>");
              p = end + 2;
              continue;
            }
        }
      else if (*p == '`')
        {
          const char *end = strstr (p + 1, ">`_");
          const char *open = end != NULL ? g_strrstr_len (p + 1, end - (p + 1), "<") : NULL;

          if (open != NULL)
            {
              g_autofree char *url = g_strndup (open + 1, end - (open + 1));
              g_autofree char *label = g_strndup (p + 1, open - (p + 1));

              g_strstrip (label);
              if (is_http_url (url))
                {
                  g_autofree char *escaped_url = g_markup_escape_text (url, -1);

                  g_string_append_printf (out, "<a href=\"%s\">", escaped_url);
                  append_escaped (out, *label != '\0' ? label : url, -1);
                  g_string_append (out, "</a>");
                  p = end + 3;
                  continue;
                }
            }
        }

      {
        const char *next = g_utf8_next_char (p);

        append_escaped (out, p, next - p);
        p = next;
      }
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* torchvision's `_file_size` is in MB of 2^20 bytes. */
char *
tvw_viewer_format_megabytes (double megabytes)
{
  /* Translators: a file size in megabytes */
  return g_strdup_printf (_("%.1f MB"), megabytes);
}

char *
tvw_viewer_format_count (gint64 count)
{
  if (count >= 1000000000)
    /* Translators: a number of parameters, e.g. “1.2 billion” */
    return g_strdup_printf (_("%.1f billion"), count / 1e9);
  if (count >= 1000000)
    /* Translators: a number of parameters, e.g. “25.6 million” */
    return g_strdup_printf (_("%.1f million"), count / 1e6);
  if (count >= 1000)
    /* Translators: a number of parameters, e.g. “12.5 thousand” */
    return g_strdup_printf (_("%.1f thousand"), count / 1e3);

  return g_strdup_printf ("%" G_GINT64_FORMAT, count);
}

char *
tvw_viewer_format_doubles (const double *values,
                           guint         n_values)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < n_values; i++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      if (i > 0)
        g_string_append (out, ", ");
      g_snprintf (buf, sizeof buf, "%.4g", values[i]);
      g_string_append (out, buf);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Readable model names */

/* “ResNet50_Weights” → “ResNet-50”, “MobileNet_V3_Small_Weights” →
 * “MobileNet V3 Small”: the enum's name without “_Weights”, words apart,
 * and a hyphen between a name and its depth. */
char *
tvw_viewer_weights_enum_get_display_name (TvwWeightsEnum *weights_enum)
{
  const char *name = tvw_weights_enum_get_name (weights_enum);
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) words = NULL;
  gsize len;

  len = g_str_has_suffix (name, "_Weights") ? strlen (name) - strlen ("_Weights") : strlen (name);
  {
    g_autofree char *stem = g_strndup (name, len);

    words = g_strsplit (stem, "_", -1);
  }

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      const char *digits = word;

      if (*word == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');

      while (g_ascii_isalpha (*digits))
        digits++;

      /* “ResNet50”, “VGG16”: letters then only digits. */
      if (digits - word >= 2 && *digits != '\0' && strspn (digits, "0123456789") == strlen (digits))
        g_string_append_printf (out, "%.*s-%s", (int) (digits - word), word, digits);
      else
        g_string_append (out, word);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Whether some entry of @weights_enum can run in the viewer. */
gboolean
tvw_viewer_weights_enum_is_runnable (TvwWeightsEnum *weights_enum)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (weights_enum));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TvwWeights) weights = g_list_model_get_item (G_LIST_MODEL (weights_enum), i);

      if (tvw_viewer_weights_is_runnable (weights))
        return TRUE;
    }

  return FALSE;
}

/* Models that run first, then by readable name, numbers in numeric order
 * (ResNet-18 before ResNet-101). */
int
tvw_viewer_compare_weights_enums (TvwWeightsEnum *a,
                                  TvwWeightsEnum *b)
{
  gboolean runs_a = tvw_viewer_weights_enum_is_runnable (a);
  gboolean runs_b = tvw_viewer_weights_enum_is_runnable (b);
  g_autofree char *name_a = NULL;
  g_autofree char *name_b = NULL;
  g_autofree char *key_a = NULL;
  g_autofree char *key_b = NULL;

  if (runs_a != runs_b)
    return runs_a ? -1 : 1;

  name_a = tvw_viewer_weights_enum_get_display_name (a);
  name_b = tvw_viewer_weights_enum_get_display_name (b);
  key_a = g_utf8_collate_key_for_filename (name_a, -1);
  key_b = g_utf8_collate_key_for_filename (name_b, -1);

  return strcmp (key_a, key_b);
}

/* What weights know */

static const char *
first_dataset (TvwWeights *weights,
               char      **owned)
{
  g_autoptr(GVariant) metrics = tvw_weights_lookup_meta (weights, "_metrics");
  GVariantIter iter;
  const char *dataset = NULL;

  *owned = NULL;
  if (metrics == NULL || !g_variant_is_of_type (metrics, G_VARIANT_TYPE_VARDICT))
    return NULL;

  g_variant_iter_init (&iter, metrics);
  if (g_variant_iter_next (&iter, "{&sv}", &dataset, NULL))
    *owned = g_strdup (dataset);

  return *owned;
}

/* What a dataset's pictures are like, for the datasets whose weights only
 * apply to some pictures. */
static const char *
describe_dataset (const char *dataset)
{
  if (g_strcmp0 (dataset, "Fashion-MNIST") == 0)
    return _("small grey pictures of clothing");

  return NULL;
}

/* Whether @weights only know a narrow kind of picture: classifiers not
 * trained on ImageNet.  %NULL for general-purpose weights; otherwise a
 * sentence that says what they recognise. */
char *
tvw_viewer_weights_describe_scope (TvwWeights *weights)
{
  g_autofree char *dataset = NULL;
  const char *pictures;
  guint n;

  g_return_val_if_fail (TVW_IS_WEIGHTS (weights), NULL);

  if (g_strcmp0 (tvw_weights_get_preset (weights), "ImageClassification") != 0)
    return NULL;
  if (first_dataset (weights, &dataset) == NULL || g_str_has_prefix (dataset, "ImageNet"))
    return NULL;

  n = tvw_weights_get_num_classes (weights);
  pictures = describe_dataset (dataset);
  if (pictures != NULL)
    /* Translators: e.g. “These weights only know 10 categories of Fashion-MNIST (small grey
     * pictures of clothing). Any picture gets one of these names, whatever it shows.” */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "These weights only know %u category of %s (%s). Any picture gets this name, whatever it shows.",
                                         "These weights only know %u categories of %s (%s). Any picture gets one of these names, whatever it shows.",
                                         n),
                            n, dataset, pictures);

  /* Translators: e.g. “These weights only know 10 categories of CIFAR-10. Any picture gets
   * one of these names, whatever it shows.” */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "These weights only know %u category of %s. Any picture gets this name, whatever it shows.",
                                       "These weights only know %u categories of %s. Any picture gets one of these names, whatever it shows.",
                                       n),
                          n, dataset);
}

/* The checkpoint's size in MB: the catalog's `_file_size` when it has one,
 * else estimated from the number of parameters (4 bytes each, 1 for
 * quantized weights).  NAN when nothing says. */
double
tvw_viewer_weights_get_download_megabytes (TvwWeights *weights,
                                           gboolean   *estimated)
{
  g_autoptr(GVariant) file_size = tvw_weights_lookup_meta (weights, "_file_size");
  g_autoptr(GVariant) num_params = NULL;
  g_autoptr(GError) error = NULL;
  const char *task;

  if (estimated != NULL)
    *estimated = FALSE;
  if (file_size != NULL && g_variant_is_of_type (file_size, G_VARIANT_TYPE_DOUBLE))
    return g_variant_get_double (file_size);

  num_params = tvw_weights_lookup_meta (weights, "num_params");
  if (num_params == NULL || !g_variant_is_of_type (num_params, G_VARIANT_TYPE_INT64))
    return NAN;

  if (estimated != NULL)
    *estimated = TRUE;
  task = tvw_get_model_task (tvw_weights_get_builder (weights), &error);

  return g_variant_get_int64 (num_params) * (g_strcmp0 (task, "quantization") == 0 ? 1.0 : 4.0)
         / (1024.0 * 1024.0);
}

/* “97.8 MB”, or “about 98 MB” when estimated; %NULL when unknown. */
char *
tvw_viewer_weights_describe_download_size (TvwWeights *weights)
{
  gboolean estimated;
  double megabytes = tvw_viewer_weights_get_download_megabytes (weights, &estimated);

  if (isnan (megabytes))
    return NULL;
  if (estimated)
    /* Translators: an estimated file size in megabytes */
    return g_strdup_printf (_("about %.0f MB"), MAX (megabytes, 1.0));

  return tvw_viewer_format_megabytes (megabytes);
}

/* Where a download of @weights comes from: the host of `TVW_MIRROR` when
 * it is set (libtvw downloads from there then), else the URL's host; for a
 * local mirror, its folder. */
char *
tvw_viewer_weights_get_download_source (TvwWeights *weights)
{
  const char *mirror = g_getenv ("TVW_MIRROR");
  const char *url = tvw_weights_get_url (weights);
  g_autoptr(GUri) uri = NULL;

  if (mirror != NULL && *mirror != '\0')
    url = mirror;
  if (url == NULL)
    return NULL;

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    return g_strdup (url);
  if (g_strcmp0 (g_uri_get_scheme (uri), "file") == 0)
    return g_strdup (g_uri_get_path (uri));

  return g_strdup (g_uri_get_host (uri));
}

/* The largest checkpoint offered as the general-purpose choice: about
 * 120 MB of float32 parameters. */
#define GENERAL_MAX_PARAMS 30000000

static gboolean
consider_general (TvwWeights *weights,
                  gpointer    data)
{
  BestSearch *search = data;
  g_autoptr(GVariant) num_params = NULL;
  g_autoptr(GError) error = NULL;
  double score;

  if (!tvw_viewer_weights_is_runnable (weights) ||
      g_strcmp0 (tvw_weights_get_preset (weights), "ImageClassification") != 0 ||
      g_strcmp0 (tvw_get_model_task (tvw_weights_get_builder (weights), &error), "classification") != 0)
    return TRUE;

  num_params = tvw_weights_lookup_meta (weights, "num_params");
  if (num_params == NULL || !g_variant_is_of_type (num_params, G_VARIANT_TYPE_INT64) ||
      g_variant_get_int64 (num_params) > GENERAL_MAX_PARAMS)
    return TRUE;

  score = tvw_viewer_weights_get_metric (weights, "ImageNet-1K", "acc@1");
  if (!isnan (score) && (search->best == NULL || score > search->best_score))
    {
      g_set_object (&search->best, weights);
      search->best_score = score;
    }

  return TRUE;
}

/* The best general-purpose weights to offer instead of narrow ones: the
 * most accurate runnable ImageNet classifier of a reasonable download
 * size. */
TvwWeights *
tvw_viewer_find_general_weights (void)
{
  BestSearch search = { NULL, -1.0 };

  visit_weights (consider_general, &search);

  return search.best;
}

/* A short sentence for a failed download; the error's own message goes in
 * the details. */
char *
tvw_viewer_describe_download_error (const GError *error,
                                    const char   *source)
{
  if (g_error_matches (error, TVW_ERROR, TVW_ERROR_OFFLINE))
    return g_strdup (_("There is no network access, so the weights cannot be downloaded."));
  if (g_error_matches (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
    return g_strdup (_("The file arrived damaged and was deleted. Try again."));
  if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NO_SPACE)
    return g_strdup (_("There is not enough disk space for the weights."));
  if (error->domain == G_IO_ERROR)
    return g_strdup (_("The weights could not be saved on this computer."));
  if (source != NULL)
    /* Translators: %s is a server, e.g. download.pytorch.org */
    return g_strdup_printf (_("The weights could not be downloaded from %s. Check the network connection, then try again."),
                            source);

  return g_strdup (_("The weights could not be downloaded. Check the network connection, then try again."));
}

/* Which weights gave an image's results, and, for narrow weights, what
 * they know: shown with the results. */
char *
tvw_viewer_describe_results_source (const char *full_name)
{
  TvwWeights *weights;
  g_autofree char *model = NULL;
  g_autofree char *scope = NULL;

  if (full_name == NULL || (weights = tvw_get_weight (full_name, NULL)) == NULL)
    return NULL;

  model = tvw_viewer_weights_enum_get_display_name (tvw_weights_get_enum (weights));
  scope = tvw_viewer_weights_describe_scope (weights);
  if (scope != NULL)
    {
      g_autofree char *dataset = NULL;
      const char *pictures = describe_dataset (first_dataset (weights, &dataset));
      guint n = tvw_weights_get_num_classes (weights);

      /* Translators: the weights that gave the results, then what they know, e.g.
       * “By MobileNet V3 Small · FASHIONMNIST_V1: the closest of its 10 categories
       * (small grey pictures of clothing), whatever the picture shows” */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "By %s · %s: its %u category (%s), whatever the picture shows",
                                           "By %s · %s: the closest of its %u categories (%s), whatever the picture shows",
                                           n),
                              model, tvw_weights_get_name (weights), n, pictures != NULL ? pictures : dataset);
    }

  /* Translators: the weights that gave the results, e.g. “By ResNet-50 · IMAGENET1K_V2” */
  return g_strdup_printf (_("By %s · %s"), model, tvw_weights_get_name (weights));
}

/* torchvision's metric keys, for people. */
char *
tvw_viewer_describe_metric (const char *metric)
{
  static const struct { const char *key; const char *name; } names[] = {
    { "acc@1", N_("Top-1") },
    { "acc@5", N_("Top-5") },
    { "box_map", N_("Box mAP") },
    { "mask_map", N_("Mask mAP") },
    { "kp_map", N_("Keypoint mAP") },
    { "miou", N_("Mean IoU") },
    { "pixel_acc", N_("Pixel accuracy") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (metric, names[i].key))
      return g_strdup (_(names[i].name));

  return g_strdup (metric);
}

/* The position of @item in @model, or G_MAXUINT (GTK_INVALID_LIST_POSITION). */
guint
tvw_viewer_list_model_find (GListModel *model,
                            gpointer    item)
{
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) candidate = g_list_model_get_item (model, i);

      if (candidate == item)
        return i;
    }

  return G_MAXUINT;
}
