/* tvw-cmd-eval.c — tvw eval: accuracy of a weights entry on a dataset
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tvw-cli.h"

#define BATCH 50
#define MAX_IDX_BYTES (256 * 1024 * 1024)

typedef struct
{
  /* Fashion-MNIST / MNIST idx files */
  GBytes  *images;
  GBytes  *labels;
  guint    rows, cols;
  /* ImageFolder */
  GPtrArray *files;     /* char * */
  GArray    *classes;   /* guint label per file */
  guint      count;
} Dataset;

static void
dataset_clear (Dataset *d)
{
  g_clear_pointer (&d->images, g_bytes_unref);
  g_clear_pointer (&d->labels, g_bytes_unref);
  g_clear_pointer (&d->files, g_ptr_array_unref);
  g_clear_pointer (&d->classes, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Dataset, dataset_clear)

/* Reads a whole idx file, gunzipping a .gz one, at most MAX_IDX_BYTES. */
static GBytes *
read_idx (const char  *dir,
          const char  *name,
          GError     **error)
{
  g_autofree char *plain = g_build_filename (dir, name, NULL);
  g_autofree char *gz = g_strconcat (plain, ".gz", NULL);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 buf[65536];
  gssize n;

  if (g_file_test (plain, G_FILE_TEST_IS_REGULAR))
    {
      file = g_file_new_for_path (plain);
      in = G_INPUT_STREAM (g_file_read (file, NULL, error));
    }
  else if (g_file_test (gz, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      g_autoptr(GInputStream) raw = NULL;

      file = g_file_new_for_path (gz);
      raw = G_INPUT_STREAM (g_file_read (file, NULL, error));
      if (raw != NULL)
        in = g_converter_input_stream_new (raw, G_CONVERTER (z));
    }
  else
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND, _("Neither %s nor %s exists"), plain, gz);
      return NULL;
    }

  if (in == NULL)
    return NULL;

  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, error)) > 0)
    {
      if (out->len + (gsize) n > MAX_IDX_BYTES)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, _("%s is too large"), name);
          return NULL;
        }
      g_byte_array_append (out, buf, n);
    }
  if (n < 0)
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static gboolean
open_idx (Dataset     *d,
          const char  *dir,
          GError     **error)
{
  const guint8 *img, *lab;
  gsize img_size, lab_size;
  guint32 n;

  d->images = read_idx (dir, "t10k-images-idx3-ubyte", error);
  if (d->images == NULL)
    return FALSE;
  d->labels = read_idx (dir, "t10k-labels-idx1-ubyte", error);
  if (d->labels == NULL)
    return FALSE;

  img = g_bytes_get_data (d->images, &img_size);
  lab = g_bytes_get_data (d->labels, &lab_size);
  if (img_size < 16 || be32 (img) != 0x803 || lab_size < 8 || be32 (lab) != 0x801)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, _("%s: not idx image and label files"), dir);
      return FALSE;
    }

  n = be32 (img + 4);
  d->rows = be32 (img + 8);
  d->cols = be32 (img + 12);
  if (n != be32 (lab + 4) || d->rows == 0 || d->cols == 0 || d->rows > 4096 || d->cols > 4096 ||
      (img_size - 16) / ((gsize) d->rows * d->cols) < n || lab_size - 8 < n)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   _("%s: the idx headers do not match the file sizes"), dir);
      return FALSE;
    }
  d->count = n;

  return TRUE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* torchvision's ImageFolder: one sub-directory per class, sorted. */
static gboolean
open_folder (Dataset     *d,
             const char  *dir,
             GError     **error)
{
  g_autoptr(GDir) top = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) classes = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (top == NULL)
    return FALSE;

  while ((name = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (classes, g_strdup (name));
    }
  g_ptr_array_sort (classes, compare_strings);

  d->files = g_ptr_array_new_with_free_func (g_free);
  d->classes = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint c = 0; c < classes->len; c++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (classes, c), NULL);
      g_autoptr(GDir) sub = g_dir_open (path, 0, error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

      if (sub == NULL)
        return FALSE;
      while ((name = g_dir_read_name (sub)) != NULL)
        g_ptr_array_add (names, g_build_filename (path, name, NULL));
      g_ptr_array_sort (names, compare_strings);

      for (guint i = 0; i < names->len; i++)
        {
          g_ptr_array_add (d->files, g_strdup (g_ptr_array_index (names, i)));
          g_array_append_val (d->classes, c);
        }
    }

  if (d->files->len == 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   _("%s holds neither idx files nor class folders with images"), dir);
      return FALSE;
    }

  d->count = d->files->len;
  return TRUE;
}

/* Image @i as the preset would see it, and its label. */
static TvwTensor *
load_item (Dataset       *d,
           TvwTransform  *preprocess,
           guint          i,
           guint         *label,
           GError       **error)
{
  if (d->images != NULL)
    {
      const guint8 *img = (const guint8 *) g_bytes_get_data (d->images, NULL) + 16 +
                          (gsize) i * d->rows * d->cols;
      g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, d->cols, d->rows);
      guint8 *px = gdk_pixbuf_get_pixels (pixbuf);
      int stride = gdk_pixbuf_get_rowstride (pixbuf);

      /* Grayscale to RGB, like Pillow's convert("RGB"). */
      for (guint y = 0; y < d->rows; y++)
        for (guint x = 0; x < d->cols; x++)
          {
            guint8 v = img[y * d->cols + x];

            px[y * stride + 3 * x] = px[y * stride + 3 * x + 1] = px[y * stride + 3 * x + 2] = v;
          }

      *label = ((const guint8 *) g_bytes_get_data (d->labels, NULL))[8 + i];
      return tvw_transform_apply_pixbuf (preprocess, pixbuf, error);
    }
  else
    {
      g_autoptr(GFile) file = g_file_new_for_path (g_ptr_array_index (d->files, i));

      *label = g_array_index (d->classes, guint, i);
      return tvw_transform_apply_file (preprocess, file, NULL, error);
    }
}

static void
show_progress (guint    done,
               guint    total,
               gboolean tty,
               guint   *last_decile)
{
  if (tty)
    {
      int width = 30, filled = (int) ((gint64) width * done / MAX (total, 1));

      g_printerr ("\r[%.*s%*s] %3u%%  %u/%u", filled, "##############################",
                  width - filled, "", (guint) (100 * (gint64) done / MAX (total, 1)), done, total);
      if (done == total)
        g_printerr ("\n");
    }
  else if (done * 10 / MAX (total, 1) > *last_decile || done == total)
    {
      *last_decile = done * 10 / MAX (total, 1);
      g_printerr ("tvw eval: %u/%u images\n", done, total);
    }
}

int
tvw_cmd_eval (int    argc,
              char **argv)
{
  g_autofree char *weights_name = NULL;
  g_auto(GStrv) rest = NULL;
  int limit = 0, threads = 0, status = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "weights", 'w', 0, G_OPTION_ARG_STRING, &weights_name, N_("The weights entry to evaluate"), N_("FULL_NAME") },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_("Only the first N images"), N_("N") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, N_("Number of threads (default: one per processor)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, N_("DATASET") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwModel) model = NULL;
  g_autoptr(TvwTransform) preprocess = NULL;
  g_auto(Dataset) data = { 0 };
  TvwWeights *weights;
  guint count, top1 = 0, top5 = 0, last_decile = 0;
  gboolean tty = isatty (STDERR_FILENO);
  double acc1, acc5;

  if (!tvw_cli_parse ("eval", _("DATASET"),
                      _("Measures acc@1 and acc@5 of a weights entry with its own preprocessing,\n"
                        "over an ImageFolder directory (one folder per class) or a directory\n"
                        "with the idx files of (Fashion-)MNIST's test set."),
                      entries, &argc, &argv, &status))
    return status;

  if (weights_name == NULL || rest == NULL || rest[0] == NULL || rest[1] != NULL ||
      limit < 0 || threads < 0)
    {
      g_printerr ("%s\n", _("tvw eval: --weights and one DATASET directory are required"));
      return 2;
    }

  weights = tvw_get_weight (weights_name, &error);
  if (weights == NULL)
    return tvw_cli_fail ("eval", error);

  {
    g_autofree char *idx = g_build_filename (rest[0], "t10k-labels-idx1-ubyte", NULL);
    g_autofree char *idx_gz = g_strconcat (idx, ".gz", NULL);
    gboolean ok;

    if (g_file_test (idx, G_FILE_TEST_EXISTS) || g_file_test (idx_gz, G_FILE_TEST_EXISTS))
      ok = open_idx (&data, rest[0], &error);
    else
      ok = open_folder (&data, rest[0], &error);
    if (!ok)
      return tvw_cli_fail ("eval", error);
  }

  model = g_initable_new (TVW_TYPE_MODEL, NULL, &error, "weights", weights, NULL);
  if (model == NULL)
    return tvw_cli_fail ("eval", error);
  tvw_model_set_n_threads (model, (guint) threads);
  preprocess = tvw_weights_transforms (weights);

  count = limit > 0 ? MIN ((guint) limit, data.count) : data.count;

  for (guint start = 0; start < count; start += BATCH)
    {
      guint n = MIN (BATCH, count - start);
      TvwTensor *items[BATCH] = { NULL };
      guint labels[BATCH];
      g_autoptr(TvwTensor) batch = NULL;
      g_autoptr(TvwTensor) logits = NULL;
      const float *out;
      gint64 classes;

      for (guint i = 0; i < n; i++)
        {
          items[i] = load_item (&data, preprocess, start + i, &labels[i], &error);
          if (items[i] == NULL)
            break;
        }
      if (error == NULL)
        batch = tvw_tensor_stack (items, n, &error);
      for (guint i = 0; i < n; i++)
        g_clear_object (&items[i]);
      if (batch != NULL)
        logits = tvw_model_forward (model, batch, NULL, &error);
      if (logits == NULL)
        return tvw_cli_fail ("eval", error);

      out = tvw_tensor_get_data (logits);
      classes = tvw_tensor_get_dim (logits, 1);
      for (guint i = 0; i < n; i++)
        {
          const float *row = out + (gsize) i * classes;
          guint rank = 0;

          if (labels[i] >= classes)
            {
              g_printerr (_("tvw eval: label %u of image %u is not a class of %s\n"),
                          labels[i], start + i, weights_name);
              return EXIT_FAILURE;
            }
          /* Rank of the true class: how many score higher (ties count for
           * the lower index first, as a stable sort would). */
          for (gint64 c = 0; c < classes; c++)
            if (row[c] > row[labels[i]] || (row[c] == row[labels[i]] && c < labels[i]))
              rank++;
          top1 += rank < 1;
          top5 += rank < 5;
        }

      show_progress (start + n, count, tty, &last_decile);
    }

  acc1 = count ? 100.0 * top1 / count : 0;
  acc5 = count ? 100.0 * top5 / count : 0;

  if (json)
    g_print ("{\"weights\": \"%s\", \"acc@1\": %.3f, \"acc@5\": %.3f, \"count\": %u}\n",
             tvw_weights_get_full_name (weights), acc1, acc5, count);
  else
    g_print (_("%s on %u images: acc@1 %.2f, acc@5 %.2f\n"),
             tvw_weights_get_full_name (weights), count, acc1, acc5);

  return EXIT_SUCCESS;
}
