/* test-formats.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint readers.  Fixtures come from tests/formats/gen_fixtures.py,
 * run with /usr/bin/python3 and torch 1.13 into a temporary directory: every
 * tensor's expected float32 values are torch's own tensor.float(), compared
 * bit for bit.  Hostile files must fail with TVW_ERROR_INVALID_DATA and a
 * message naming the file and the problem; truncated and byte-flipped copies
 * of valid files must never crash (run this under ASan/UBSan too).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "tvw-ckpt-private.h"
#include "tvw-zip-private.h"

/* A guard against pathological (exponential, unbounded) behaviour, not a
 * benchmark: each hostile file is refused in a few milliseconds normally. */
#if defined(__SANITIZE_ADDRESS__)
# define HOSTILE_TIME_LIMIT_S 30.0
#else
# define HOSTILE_TIME_LIMIT_S 5.0
#endif

/* Fixtures */

static char *fixtures_dir;
static char *fixtures_skip_reason;
static gboolean fixtures_tried;

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
generate_fixtures (void)
{
  const char *python = g_getenv ("TVW_TEST_PYTHON");
  g_autofree char *script = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *err_out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (python == NULL)
    python = "/usr/bin/python3";
  if (!g_file_test (python, G_FILE_TEST_IS_EXECUTABLE))
    {
      fixtures_skip_reason = g_strdup_printf ("%s not found: cannot generate torch fixtures", python);
      return;
    }

  script = g_test_build_filename (G_TEST_DIST, "formats", "gen_fixtures.py", NULL);
  dir = g_dir_make_tmp ("tvw-formats-XXXXXX", &error);
  g_assert_no_error (error);

  {
    const char *argv[] = { python, script, dir, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                       NULL, NULL, NULL, &err_out, &status, &error))
      {
        g_test_fail_printf ("cannot run %s: %s", script, error->message);
        remove_tree (dir);
        return;
      }
  }
  g_strstrip (err_out);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      fixtures_skip_reason = g_strdup_printf ("torch is not importable, checkpoint fixtures "
                                              "cannot be generated: %s", err_out);
      remove_tree (dir);
      return;
    }
  if (!g_spawn_check_wait_status (status, &error))
    {
      g_test_fail_printf ("%s failed: %s\n%s", script, error->message, err_out);
      remove_tree (dir);
      return;
    }
  fixtures_dir = g_steal_pointer (&dir);
}

/* The fixture directory, or NULL once the test has been skipped/failed. */
static const char *
fixtures (void)
{
  if (!fixtures_tried)
    {
      fixtures_tried = TRUE;
      generate_fixtures ();
    }
  if (fixtures_dir == NULL)
    {
      if (fixtures_skip_reason != NULL)
        g_test_skip (fixtures_skip_reason);
      else
        g_test_fail_printf ("checkpoint fixtures are missing");
    }
  return fixtures_dir;
}

static char *
fixture_path (const char *name)
{
  return g_build_filename (fixtures_dir, name, NULL);
}

/* Expected values: "tensor NAME DTYPE NDIMS D0 D1 …" then "values HEX …". */

typedef struct
{
  char   *name;
  char   *dtype;
  guint   n_dims;
  gint64  shape[TVW_CKPT_MAX_DIMS];
  GArray *bits;   /* guint32 */
} Expected;

static void
expected_free (gpointer data)
{
  Expected *e = data;

  g_free (e->name);
  g_free (e->dtype);
  g_array_unref (e->bits);
  g_free (e);
}

static GPtrArray *
load_expected (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *result = g_ptr_array_new_with_free_func (expected_free);
  guint i;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (contents, "\n", -1);
  for (i = 0; lines[i] != NULL && lines[i][0] != '\0'; i += 2)
    {
      g_auto(GStrv) head = g_strsplit (lines[i], " ", -1);
      g_auto(GStrv) values = NULL;
      Expected *e = g_new0 (Expected, 1);
      guint d, k;

      g_assert_cmpstr (head[0], ==, "tensor");
      e->name = g_strdup (head[1]);
      e->dtype = g_strdup (head[2]);
      e->n_dims = (guint) g_ascii_strtoull (head[3], NULL, 10);
      g_assert_cmpuint (e->n_dims, <=, TVW_CKPT_MAX_DIMS);
      for (d = 0; d < e->n_dims; d++)
        e->shape[d] = g_ascii_strtoll (head[4 + d], NULL, 10);

      g_assert_nonnull (lines[i + 1]);
      values = g_strsplit (lines[i + 1], " ", -1);
      g_assert_cmpstr (values[0], ==, "values");
      e->bits = g_array_new (FALSE, FALSE, sizeof (guint32));
      for (k = 1; values[k] != NULL; k++)
        {
          guint32 b = (guint32) g_ascii_strtoull (values[k], NULL, 16);

          g_array_append_val (e->bits, b);
        }
      g_ptr_array_add (result, e);
    }
  g_assert_cmpuint (result->len, >, 0);
  return result;
}

static void
assert_matches_expected (TvwCheckpoint *ckpt,
                         const char    *expect_name)
{
  g_autoptr(GPtrArray) expected = load_expected (expect_name);
  guint i;

  g_assert_cmpuint (tvw_checkpoint_get_n_tensors (ckpt), ==, expected->len);
  for (i = 0; i < expected->len; i++)
    {
      Expected *e = expected->pdata[i];
      const TvwCkptTensor *t = tvw_checkpoint_get_tensor (ckpt, i);
      g_autoptr(GError) error = NULL;
      const float *values;
      gint64 n = 1;
      guint d;

      /* state_dict order, names, dtypes, shapes */
      g_assert_cmpstr (t->name, ==, e->name);
      g_assert_true (tvw_checkpoint_lookup (ckpt, e->name) == t);
      g_assert_cmpstr (tvw_ckpt_dtype_name (t->dtype), ==, e->dtype);
      g_assert_cmpuint (t->n_dims, ==, e->n_dims);
      for (d = 0; d < e->n_dims; d++)
        {
          g_assert_cmpint (t->shape[d], ==, e->shape[d]);
          n *= e->shape[d];
        }
      g_assert_cmpint (t->n_elements, ==, n);
      g_assert_cmpint (t->n_elements, ==, e->bits->len);

      /* values, bit for bit (-0.0, infinities and fp16 subnormals included) */
      values = tvw_checkpoint_get_float (ckpt, t, &error);
      g_assert_no_error (error);
      g_assert_nonnull (values);
      for (gint64 k = 0; k < n; k++)
        {
          guint32 got;

          memcpy (&got, &values[k], sizeof got);
          if (got != g_array_index (e->bits, guint32, k))
            g_error ("%s[%" G_GINT64_FORMAT "]: got %08x (%g), expected %08x",
                     e->name, k, got, values[k], g_array_index (e->bits, guint32, k));
        }
      /* Converted copies are cached. */
      g_assert_true (tvw_checkpoint_get_float (ckpt, t, NULL) == values);
    }
  g_assert_null (tvw_checkpoint_lookup (ckpt, "no.such.key"));
}

/* Valid checkpoints */

typedef struct
{
  const char    *path;
  const char    *file;
  const char    *expect;
  TvwCkptFormat  format;
} ValidCase;

static const ValidCase valid_cases[] = {
  { "/tvw/formats/zip/values", "sd-zip.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/zip/pickle-protocol-4", "sd-zip-proto4.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/zip/module-state-dict-metadata", "module-sd-zip.pth", "module-sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/zip/handmade-zip64", "handmade.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/zip/handmade-no-zip64", "handmade-no-zip64.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/zip/handmade-zip64-extra-field", "handmade-zip64-extra.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/legacy/values", "sd-legacy.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_LEGACY },
  { "/tvw/formats/legacy/pickle-protocol-1", "sd-legacy-proto1.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_LEGACY },
  { "/tvw/formats/legacy/module-state-dict-metadata", "module-sd-legacy.pth", "module-sd.expect", TVW_CKPT_FORMAT_TORCH_LEGACY },
  { "/tvw/formats/safetensors/values", "sd.safetensors", "sd.expect", TVW_CKPT_FORMAT_SAFETENSORS },
  { "/tvw/formats/wrap/model", "wrap-model.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/wrap/state-dict-with-epoch-and-optimizer", "wrap-state-dict.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
  { "/tvw/formats/wrap/state-dict-legacy", "wrap-state-dict-legacy.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_LEGACY },
  { "/tvw/formats/wrap/module-prefix-stripped", "module-prefix.pth", "sd.expect", TVW_CKPT_FORMAT_TORCH_ZIP },
};

static void
test_valid (gconstpointer data)
{
  const ValidCase *c = data;
  g_autoptr(TvwCheckpoint) ckpt = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (fixtures () == NULL)
    return;
  path = fixture_path (c->file);
  ckpt = tvw_checkpoint_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ckpt);
  g_assert_cmpint (tvw_checkpoint_get_format (ckpt), ==, c->format);
  g_assert_cmpstr (tvw_checkpoint_get_display_name (ckpt), ==, path);
  assert_matches_expected (ckpt, c->expect);
}

static GBytes *
read_fixture (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static gboolean
points_into (const float *p,
             GBytes      *bytes)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  return (const guint8 *) p >= data && (const guint8 *) p < data + size;
}

/* Contiguous float32 tensors are the file's bytes; views of one storage
 * share them; everything else is a converted copy. */
static void
test_zero_copy (void)
{
  static const char * const files[] = { "sd-zip.pth", "sd.safetensors" };
  guint i;

  if (fixtures () == NULL)
    return;

  for (i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr(GBytes) bytes = read_fixture (files[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, files[i], &error);
      const float *weight, *base, *row, *transposed, *half;

      g_assert_no_error (error);
      weight = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "conv.weight"), &error);
      base = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "base"), &error);
      row = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "view_row"), &error);
      transposed = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "transposed"), &error);
      half = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "half"), &error);
      g_assert_no_error (error);

      g_assert_true (points_into (weight, bytes));
      g_assert_false (points_into (half, bytes));
      /* Our hand-written .safetensors packs tensors without alignment
       * padding, so only its first tensor is known to be aligned. */
      if (i == 0)
        {
          g_assert_true (points_into (base, bytes));
          g_assert_true (points_into (row, bytes));
          /* base[1] is the same storage, six floats further. */
          g_assert_true (row == base + 6);
          g_assert_false (points_into (transposed, bytes));
        }
    }
}

static void
test_open_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open ("/nonexistent/tvw/missing.pth", &error);

  g_assert_null (ckpt);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/tvw/missing.pth"));
}

/* Hostile files */

typedef struct
{
  const char *path;
  const char *file;
  const char *reason;   /* must appear in the message */
} HostileCase;

static const HostileCase hostile_cases[] = {
  { "/tvw/formats/hostile/zip-os-system", "zip-os-system.pth", "'posix.system' is not allowed" },
  { "/tvw/formats/hostile/legacy-os-system", "legacy-os-system.pth", "'posix.system' is not allowed" },
  { "/tvw/formats/hostile/zip-builtins-eval", "zip-eval.pth", "'__builtin__.eval' is not allowed" },
  { "/tvw/formats/hostile/zip-stack-global-exec", "zip-stack-global.pth", "'builtins.exec' is not allowed" },
  { "/tvw/formats/hostile/zip-inst-opcode", "zip-inst.pth", "class instantiation" },
  { "/tvw/formats/hostile/zip-pickled-module", "zip-module.pth", "torch.nn.modules.linear.Linear" },
  { "/tvw/formats/hostile/zip-not-a-tensor", "zip-not-tensor.pth", "'epoch' is a int, not a tensor" },
  { "/tvw/formats/hostile/zip-list-not-dict", "zip-list.pth", "holds a list, not a state_dict" },
  { "/tvw/formats/hostile/zip-colliding-dict-keys", "zip-colliding-keys.pth", "'junk' is a dict, not a tensor" },
  { "/tvw/formats/hostile/zip-memo-bomb", "zip-memo-bomb.pth", "beyond the limit of 1048576 memo entries" },
  { "/tvw/formats/hostile/zip-deep-marks", "zip-deep-marks.pth", "MARKs nested" },
  { "/tvw/formats/hostile/zip-deep-lists", "zip-deep-lists.pth", "nested more than" },
  { "/tvw/formats/hostile/zip-deep-tuples", "zip-deep-tuples.pth", "nested more than" },
  { "/tvw/formats/hostile/zip-self-append", "zip-self-append.pth", "nested more than" },
  { "/tvw/formats/hostile/zip-no-stop", "zip-no-stop.pth", "truncated" },
  { "/tvw/formats/hostile/zip-stack-underflow", "zip-stack-underflow.pth", "stack underflow" },
  { "/tvw/formats/hostile/zip-bad-memo-get", "zip-bad-memo-get.pth", "memo entry 4294967295 does not exist" },
  { "/tvw/formats/hostile/zip-dims-overflow", "zip-dims-overflow.pth", "too many elements" },
  { "/tvw/formats/hostile/legacy-dims-overflow", "legacy-dims-overflow.pth", "too many elements" },
  { "/tvw/formats/hostile/zip-huge-expand", "zip-huge-expand.pth", "too many elements" },
  { "/tvw/formats/hostile/zip-negative-stride", "zip-negative-stride.pth", "negative stride" },
  { "/tvw/formats/hostile/zip-negative-size", "zip-negative-size.pth", "negative size" },
  { "/tvw/formats/hostile/zip-offset-past-storage", "zip-offset-past.pth", "storage offset 100" },
  { "/tvw/formats/hostile/zip-offset-past-storage-empty", "zip-offset-past-empty.pth", "storage offset 100 past the end" },
  { "/tvw/formats/hostile/zip-extent-past-storage", "zip-extent-past.pth", "of a storage of 4 elements" },
  { "/tvw/formats/hostile/legacy-extent-past-storage", "legacy-extent-past.pth", "of a storage of 4 elements" },
  { "/tvw/formats/hostile/zip-stride-overflow", "zip-stride-overflow.pth", "strides that overflow" },
  { "/tvw/formats/hostile/zip-nine-dims", "zip-nine-dims.pth", "9 dimensions" },
  { "/tvw/formats/hostile/zip-entry-past-end", "zip-entry-past-end.pth", "extends past the end" },
  { "/tvw/formats/hostile/zip-entry-offset-past-end", "zip-entry-offset-past-end.pth", "lies outside the file" },
  { "/tvw/formats/hostile/zip-overlapping-entries", "zip-overlap.pth", "overlap" },
  { "/tvw/formats/hostile/zip-compressed-entry", "zip-compressed.pth", "is compressed (method 8)" },
  { "/tvw/formats/hostile/zip-storage-size-mismatch", "zip-storage-size.pth", "needs 432" },
  { "/tvw/formats/hostile/zip-missing-storage", "zip-missing-storage.pth", "has no zip entry" },
  { "/tvw/formats/hostile/zip-crc-mismatch", "zip-crc.pth", "CRC-32" },
  { "/tvw/formats/hostile/zip-no-end-record", "zip-no-eocd.pth", "end of central directory record not found" },
  { "/tvw/formats/hostile/legacy-bad-magic", "legacy-bad-magic.pth", "bad magic number" },
  { "/tvw/formats/hostile/safetensors-header-too-long", "st-header-too-long.safetensors", "larger than the file" },
  { "/tvw/formats/hostile/safetensors-offsets-past-end", "st-offsets-past-end.safetensors", "outside the data area" },
  { "/tvw/formats/hostile/safetensors-size-mismatch", "st-size-mismatch.safetensors", "need 12" },
  { "/tvw/formats/hostile/safetensors-shape-overflow", "st-shape-overflow.safetensors", "too many elements" },
  { "/tvw/formats/hostile/safetensors-negative-dim", "st-negative-dim.safetensors", "negative size" },
  { "/tvw/formats/hostile/safetensors-reversed-offsets", "st-reversed-offsets.safetensors", "outside the data area" },
  { "/tvw/formats/hostile/safetensors-bad-json", "st-bad-json.safetensors", "not valid JSON" },
  { "/tvw/formats/hostile/safetensors-deep-json", "st-deep-json.safetensors", "nests more than" },
  { "/tvw/formats/hostile/safetensors-not-object", "st-not-object.safetensors", "is not a JSON object" },
  { "/tvw/formats/hostile/not-a-checkpoint", "not-a-checkpoint.txt", "not a checkpoint" },
};

static void
test_hostile (gconstpointer data)
{
  const HostileCase *c = data;
  g_autoptr(TvwCheckpoint) ckpt = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *marker = NULL;
  gint64 start;
  double elapsed;

  if (fixtures () == NULL)
    return;
  path = fixture_path (c->file);
  marker = fixture_path ("PWNED");

  start = g_get_monotonic_time ();
  ckpt = tvw_checkpoint_open (path, &error);
  elapsed = (g_get_monotonic_time () - start) / 1e6;

  g_assert_null (ckpt);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
  g_test_message ("%s (%.1f ms)", error->message, elapsed * 1e3);
  if (strstr (error->message, path) == NULL || strstr (error->message, c->reason) == NULL)
    g_error ("message \"%s\" should name %s and say \"%s\"", error->message, path, c->reason);
  g_assert_cmpfloat (elapsed, <, HOSTILE_TIME_LIMIT_S);
  g_assert_false (g_file_test (marker, G_FILE_TEST_EXISTS));
}

/* Truncations and byte flips of valid files */

static void
assert_refused (GError     *error,
                const char *display_name)
{
  g_assert_nonnull (error);
  if (!g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_DATA) &&
      !g_error_matches (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED))
    g_error ("unexpected error for %s: %s", display_name, error->message);
  if (strstr (error->message, display_name) == NULL)
    g_error ("message \"%s\" does not name %s", error->message, display_name);
}

static void
test_truncated (gconstpointer data)
{
  const char *file = data;
  g_autoptr(GBytes) whole = NULL;
  const guint8 *bytes;
  gsize size, cut, step;
  guint n_cuts = 0;

  if (fixtures () == NULL)
    return;
  whole = read_fixture (file);
  bytes = g_bytes_get_data (whole, &size);

  /* Every cut for small files; the ends (headers, zip directory) always. */
  step = MAX (1, size / 2000);
  for (cut = 0; cut < size; cut += (cut < 512 || size - cut < 512) ? 1 : step)
    {
      /* An exact-size copy, so that ASan sees any read past the cut. */
      g_autoptr(GBytes) part = g_bytes_new (bytes, cut);
      g_autofree char *name = g_strdup_printf ("%s (cut at %" G_GSIZE_FORMAT ")", file, cut);
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (part, name, &error);

      g_assert_null (ckpt);
      assert_refused (error, name);
      g_assert_true (g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_DATA));
      n_cuts++;
    }
  g_test_message ("%s: %u truncations refused", file, n_cuts);
}

/* TVW_TEST_FUZZ_VARIANTS=N runs a longer fuzzing session. */
#define N_FUZZ_VARIANTS 300

static guint
n_fuzz_variants (void)
{
  const char *env = g_getenv ("TVW_TEST_FUZZ_VARIANTS");
  guint64 n;

  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1, G_MAXINT32, &n, NULL))
    return (guint) n;
  return N_FUZZ_VARIANTS;
}

static void
check_loaded_variant (TvwCheckpoint *ckpt)
{
  guint i;

  for (i = 0; i < tvw_checkpoint_get_n_tensors (ckpt); i++)
    {
      const TvwCkptTensor *t = tvw_checkpoint_get_tensor (ckpt, i);
      g_autoptr(GError) error = NULL;
      const float *values;

      g_assert_true (tvw_checkpoint_lookup (ckpt, t->name) == t);
      if (t->n_elements > (1 << 24))
        continue;
      values = tvw_checkpoint_get_float (ckpt, t, &error);
      g_assert_no_error (error);
      if (t->n_elements > 0)
        {
          volatile float sink = 0;

          /* Touch every element: ASan checks the view stays in bounds. */
          for (gint64 k = 0; k < t->n_elements; k++)
            sink += values[k];
          (void) sink;
        }
    }
}

/* Offsets of data.pkl and of its CRC in the central directory, so that the
 * pickle itself can be fuzzed behind a valid CRC. */
static gboolean
find_zip_pickle (const guint8 *data,
                 gsize         size,
                 gsize        *pkl_offset,
                 gsize        *pkl_size,
                 gsize        *crc_offset)
{
  gsize i;

  for (i = 0; i + 46 < size; i++)
    {
      guint16 name_len;

      if (memcmp (data + i, "PK\x01\x02", 4) != 0)
        continue;
      name_len = tvw_le16 (data + i + 28);
      if (i + 46 + name_len <= size && name_len >= 8 &&
          memcmp (data + i + 46 + name_len - 8, "data.pkl", 8) == 0)
        {
          gsize local = tvw_le32 (data + i + 42);

          *crc_offset = i + 16;
          *pkl_size = tvw_le32 (data + i + 24);
          *pkl_offset = local + 30 + tvw_le16 (data + local + 26) + tvw_le16 (data + local + 28);
          return TRUE;
        }
    }
  return FALSE;
}

static void
test_fuzz (gconstpointer data)
{
  const char *spec = data;
  gboolean pickle_only = g_str_has_suffix (spec, ":pickle");
  g_autofree char *file = g_strndup (spec, strcspn (spec, ":"));
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(GRand) rand = NULL;
  const guint8 *bytes;
  gsize size, lo = 0, hi, pkl_offset = 0, pkl_size = 0, crc_offset = 0;
  guint v, n_loaded = 0, n_refused = 0, n_variants = n_fuzz_variants ();

  if (fixtures () == NULL)
    return;
  whole = read_fixture (file);
  bytes = g_bytes_get_data (whole, &size);
  hi = size;
  if (pickle_only)
    {
      g_assert_true (find_zip_pickle (bytes, size, &pkl_offset, &pkl_size, &crc_offset));
      lo = pkl_offset;
      hi = pkl_offset + pkl_size;
    }

  rand = g_rand_new_with_seed (0x7677 + (guint32) size);
  for (v = 0; v < n_variants; v++)
    {
      g_autofree guint8 *copy = g_memdup2 (bytes, size);
      g_autoptr(GBytes) variant = NULL;
      g_autofree char *name = g_strdup_printf ("%s (variant %u)", spec, v);
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwCheckpoint) ckpt = NULL;
      guint n_changes = g_rand_int_range (rand, 1, 5);
      guint k;

      for (k = 0; k < n_changes; k++)
        {
          /* Half the changes land in the first KiB (headers, pickles). */
          gsize end = g_rand_boolean (rand) ? MIN (hi, lo + 1024) : hi;
          gsize pos = lo + g_rand_int_range (rand, 0, (gint32) (end - lo));

          copy[pos] = (guint8) g_rand_int_range (rand, 0, 256);
        }
      if (pickle_only)
        {
          guint32 crc = tvw_crc32 (copy + pkl_offset, pkl_size);

          copy[crc_offset] = crc & 0xff;
          copy[crc_offset + 1] = (crc >> 8) & 0xff;
          copy[crc_offset + 2] = (crc >> 16) & 0xff;
          copy[crc_offset + 3] = crc >> 24;
        }

      variant = g_bytes_new_take (g_steal_pointer (&copy), size);
      ckpt = tvw_checkpoint_open_bytes (variant, name, &error);
      if (ckpt != NULL)
        {
          g_assert_no_error (error);
          check_loaded_variant (ckpt);
          n_loaded++;
        }
      else
        {
          assert_refused (error, name);
          n_refused++;
        }
    }
  g_test_message ("%s: %u variants loaded, %u refused", spec, n_loaded, n_refused);
  g_assert_cmpuint (n_loaded + n_refused, ==, n_variants);
  g_assert_cmpuint (n_refused, >, 0);
}

/* Tests that need no Python: hand-built files. */

static void
test_garbage (void)
{
  static const struct { const char *data; gsize len; const char *reason; } cases[] = {
    { "", 0, "empty" },
    { "hello", 5, "not a checkpoint" },
    { "PK\x03\x04", 4, "end of central directory record not found" },
    { "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22, "archive is empty" },
    { "\x80", 1, "truncated" },
    { "\x80\x02\x8a\x0a\x6c\xfc", 6, "truncated" },
    { "\x80\x02K\x01.", 5, "bad magic number" },
    { "\x10\0\0\0\0\0\0\0{}", 10, "larger than the file" },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (cases[i].data, cases[i].len);
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, "garbage.bin", &error);

      g_assert_null (ckpt);
      g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
      if (strstr (error->message, "garbage.bin") == NULL ||
          strstr (error->message, cases[i].reason) == NULL)
        g_error ("case %u: message \"%s\" should say \"%s\"", i, error->message, cases[i].reason);
    }

  for (i = 0; i < 200; i++)
    {
      gsize len = g_rand_int_range (rand, 1, 4096);
      g_autofree guint8 *data = g_malloc (len);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(TvwCheckpoint) ckpt = NULL;

      for (gsize k = 0; k < len; k++)
        data[k] = (guint8) g_rand_int_range (rand, 0, 256);
      if (i % 3 == 0)
        data[0] = 0x80;  /* the unpickler gets random opcodes */
      bytes = g_bytes_new_take (g_steal_pointer (&data), len);
      ckpt = tvw_checkpoint_open_bytes (bytes, "random.bin", &error);
      g_assert_null (ckpt);
      assert_refused (error, "random.bin");
    }
}

static GBytes *
build_safetensors (const char   *header,
                   const guint8 *data,
                   gsize         data_len)
{
  GByteArray *out = g_byte_array_new ();
  guint8 len[8];
  guint64 n = strlen (header);

  for (int i = 0; i < 8; i++)
    len[i] = (n >> (8 * i)) & 0xff;
  g_byte_array_append (out, len, 8);
  g_byte_array_append (out, (const guint8 *) header, n);
  g_byte_array_append (out, data, data_len);
  return g_byte_array_free_to_bytes (out);
}

/* Every fp16 and bf16 bit pattern, against a reference built from the
 * IEEE definitions with ldexp(). */
static void
test_half_exhaustive (void)
{
  g_autofree guint8 *data = g_malloc (2 * 65536 * 2);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TvwCheckpoint) ckpt = NULL;
  g_autoptr(GError) error = NULL;
  const float *h, *b;
  guint i;

  for (i = 0; i < 65536; i++)
    {
      data[2 * i] = data[131072 + 2 * i] = i & 0xff;
      data[2 * i + 1] = data[131072 + 2 * i + 1] = i >> 8;
    }
  bytes = build_safetensors ("{\"h\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]},"
                             "\"b\":{\"dtype\":\"BF16\",\"shape\":[256,256],\"data_offsets\":[131072,262144]}}",
                             data, 262144);
  ckpt = tvw_checkpoint_open_bytes (bytes, "half.safetensors", &error);
  g_assert_no_error (error);
  h = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "h"), &error);
  g_assert_no_error (error);
  b = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "b"), &error);
  g_assert_no_error (error);

  for (i = 0; i < 65536; i++)
    {
      double sign = (i & 0x8000) ? -1.0 : 1.0;
      guint he = (i >> 10) & 0x1f, hm = i & 0x3ff;
      guint be = (i >> 7) & 0xff, bm = i & 0x7f;
      double href, bref;

      if (he == 0x1f)
        href = hm ? NAN : sign * INFINITY;
      else if (he == 0)
        href = sign * ldexp (hm, -24);
      else
        href = sign * ldexp (1024 + hm, (int) he - 25);

      if (be == 0xff)
        bref = bm ? NAN : sign * INFINITY;
      else if (be == 0)
        bref = sign * ldexp (bm, -133);
      else
        bref = sign * ldexp (128 + bm, (int) be - 134);

      if (isnan (href))
        g_assert_true (isnan (h[i]));
      else if ((double) h[i] != href || !signbit (h[i]) != !signbit (href))
        g_error ("fp16 %04x: got %g, expected %g", i, h[i], href);
      if (isnan (bref))
        g_assert_true (isnan (b[i]));
      else if ((double) b[i] != bref || !signbit (b[i]) != !signbit (bref))
        g_error ("bf16 %04x: got %g, expected %g", i, b[i], bref);
    }
}

static void
test_safetensors_handmade (void)
{
  /* i8 [-1, 2], u8 [200], bool [1, 0, 1], a 0-dim f64 2.5, an empty f32,
   * metadata ignored, file order kept (not alphabetical). */
  static const guint8 data[] = {
    0xff, 0x02,
    200,
    1, 0, 1,
    0, 0, 0, 0, 0, 0, 0x04, 0x40,
  };
  g_autoptr(GBytes) bytes = build_safetensors (
    "{\"z\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]},"
    "\"__metadata__\":{\"format\":\"pt\"},"
    "\"y\":{\"dtype\":\"U8\",\"shape\":[1,1],\"data_offsets\":[2,3]},"
    "\"x\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[3,6]},"
    "\"w\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[6,14]},"
    "\"v\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[14,14]}}   ",
    data, sizeof data);
  static const char * const names[] = { "z", "y", "x", "w", "v" };
  static const float expected[] = { -1, 2, 200, 1, 0, 1, 2.5 };
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, "hand.safetensors", &error);
  guint i, k = 0;

  g_assert_no_error (error);
  g_assert_cmpint (tvw_checkpoint_get_format (ckpt), ==, TVW_CKPT_FORMAT_SAFETENSORS);
  g_assert_cmpuint (tvw_checkpoint_get_n_tensors (ckpt), ==, G_N_ELEMENTS (names));
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const TvwCkptTensor *t = tvw_checkpoint_get_tensor (ckpt, i);
      const float *values = tvw_checkpoint_get_float (ckpt, t, &error);

      g_assert_no_error (error);
      g_assert_nonnull (values);
      g_assert_cmpstr (t->name, ==, names[i]);
      for (gint64 j = 0; j < t->n_elements; j++)
        g_assert_cmpfloat (values[j], ==, expected[k++]);
    }
  g_assert_cmpuint (k, ==, G_N_ELEMENTS (expected));
  g_assert_cmpuint (tvw_checkpoint_lookup (ckpt, "w")->n_dims, ==, 0);
  g_assert_cmpint (tvw_checkpoint_lookup (ckpt, "v")->n_elements, ==, 0);
}

static void
test_safetensors_unsupported_dtype (void)
{
  static const guint8 data[2] = { 0, 0 };
  g_autoptr(GBytes) bytes = build_safetensors (
    "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", data, 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, "f8.safetensors", &error);

  g_assert_null (ckpt);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "F8_E4M3"));
}

/* A legacy torch.save file assembled by hand: the five pickles and one
 * storage 'k' of two floats, 1.5 and -10.  @callable is the GLOBAL that
 * rebuilds the tensor, @view the view_metadata of its persistent id and
 * @size its size tuple (storage offset 0, stride 1).  Use BUILD_LEGACY():
 * @view contains NUL bytes. */
static GBytes *
build_legacy (const char *callable,
              const char *view,
              gsize       view_len,
              const char *size)
{
  static const guint8 magic[] = {
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.',
  };
  static const guint8 storage[] = { 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x3f, 0, 0, 0x20, 0xc1 };
  static const char keys_pickle[] = "\x80\x02]X\x01\0\0\0ka.";
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GString) main_pickle = g_string_new (NULL);

  g_byte_array_append (out, magic, sizeof magic);
  g_byte_array_append (out, (const guint8 *) "\x80\x02M\xe9\x03.", 6);
  g_byte_array_append (out, (const guint8 *) "\x80\x02}.", 4);

  /* {'w': callable(('storage', FloatStorage, 'k', 'cpu', 2, view), 0, size, (1,), False, OrderedDict())} */
#define APPEND_LITERAL(s) g_string_append_len (main_pickle, s, sizeof s - 1)
  APPEND_LITERAL ("\x80\x02}q\x00(X\x01\0\0\0w");
  g_string_append (main_pickle, callable);
  APPEND_LITERAL ("((X\x07\0\0\0storage");
  APPEND_LITERAL ("ctorch\nFloatStorage\n");
  APPEND_LITERAL ("X\x01\0\0\0kX\x03\0\0\0cpuK\x02");
  g_string_append_len (main_pickle, view, view_len);
  APPEND_LITERAL ("tQK\x00");
  g_string_append (main_pickle, size);
  APPEND_LITERAL ("K\x01\x85\x89");
  APPEND_LITERAL ("ccollections\nOrderedDict\n)R");
  APPEND_LITERAL ("tRu.");
#undef APPEND_LITERAL
  g_byte_array_append (out, (const guint8 *) main_pickle->str, main_pickle->len);

  g_byte_array_append (out, (const guint8 *) keys_pickle, sizeof keys_pickle - 1);
  g_byte_array_append (out, storage, sizeof storage);
  return g_byte_array_free_to_bytes (out);
}

#define BUILD_LEGACY(callable, view, size) build_legacy (callable, view, sizeof view - 1, size)
#define REBUILD_V2 "ctorch._utils\n_rebuild_tensor_v2\n"
#define NO_VIEW "N"
#define SIZE_2 "K\x02\x85"

static void
assert_legacy_refused (GBytes     *bytes,
                       const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (bytes, "bad.pth", &error);

  g_assert_null (ckpt);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA);
  if (strstr (error->message, "bad.pth") == NULL || strstr (error->message, reason) == NULL)
    g_error ("message \"%s\" should say \"%s\"", error->message, reason);
}

static void
test_legacy_handmade (void)
{
  g_autoptr(GBytes) good = BUILD_LEGACY (REBUILD_V2, NO_VIEW, SIZE_2);
  g_autoptr(GBytes) evil = BUILD_LEGACY ("cposix\nsystem\n", NO_VIEW, SIZE_2);
  g_autoptr(GBytes) storage_call = BUILD_LEGACY ("ctorch\nFloatStorage\n", NO_VIEW, SIZE_2);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (good, "hand.pth", &error);
  const float *w;

  g_assert_no_error (error);
  g_assert_cmpint (tvw_checkpoint_get_format (ckpt), ==, TVW_CKPT_FORMAT_TORCH_LEGACY);
  g_assert_cmpuint (tvw_checkpoint_get_n_tensors (ckpt), ==, 1);
  w = tvw_checkpoint_get_float (ckpt, tvw_checkpoint_lookup (ckpt, "w"), &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (w[0], ==, 1.5f);
  g_assert_cmpfloat (w[1], ==, -10.0f);

  assert_legacy_refused (evil, "'posix.system' is not allowed");
  assert_legacy_refused (storage_call, "not callable");
}

/* Storage views of pre-1.0 torch: ('v', offset 1, 1 element) of 'k'. */
static void
test_legacy_storage_view (void)
{
  g_autoptr(GBytes) view = BUILD_LEGACY (REBUILD_V2, "(X\x01\0\0\0vK\x01K\x01t", "K\x01\x85");
  g_autoptr(GBytes) too_long = BUILD_LEGACY (REBUILD_V2, "(X\x01\0\0\0vK\x01K\x02t", "K\x01\x85");
  g_autoptr(GBytes) past_view = BUILD_LEGACY (REBUILD_V2, "(X\x01\0\0\0vK\x01K\x01t", SIZE_2);
  g_autoptr(GError) error = NULL;
  g_autoptr(TvwCheckpoint) ckpt = tvw_checkpoint_open_bytes (view, "view.pth", &error);
  const TvwCkptTensor *t;
  const float *w;

  g_assert_no_error (error);
  t = tvw_checkpoint_lookup (ckpt, "w");
  g_assert_cmpint (t->n_elements, ==, 1);
  w = tvw_checkpoint_get_float (ckpt, t, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (w[0], ==, -10.0f);

  assert_legacy_refused (too_long, "storage view 'v' lies outside storage 'k'");
  assert_legacy_refused (past_view, "of a storage of 1 elements");
}

int
main (int   argc,
      char *argv[])
{
  static const char * const truncated[] = { "sd-zip.pth", "sd-legacy.pth", "sd.safetensors" };
  static const char * const fuzzed[] = {
    "sd-zip.pth", "sd-zip.pth:pickle", "sd-legacy.pth", "sd-legacy-proto1.pth",
    "module-sd-legacy.pth", "sd.safetensors",
  };
  guint i;
  int ret;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/formats/garbage-refused", test_garbage);
  g_test_add_func ("/tvw/formats/open-missing-file", test_open_missing);
  g_test_add_func ("/tvw/formats/safetensors/half-bfloat16-exhaustive", test_half_exhaustive);
  g_test_add_func ("/tvw/formats/safetensors/handmade-dtypes-and-order", test_safetensors_handmade);
  g_test_add_func ("/tvw/formats/safetensors/unsupported-dtype", test_safetensors_unsupported_dtype);
  g_test_add_func ("/tvw/formats/legacy/handmade-and-refused-globals", test_legacy_handmade);
  g_test_add_func ("/tvw/formats/legacy/storage-views", test_legacy_storage_view);

  for (i = 0; i < G_N_ELEMENTS (valid_cases); i++)
    g_test_add_data_func (valid_cases[i].path, &valid_cases[i], test_valid);
  g_test_add_func ("/tvw/formats/zero-copy-and-shared-storage", test_zero_copy);
  for (i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    g_test_add_data_func (hostile_cases[i].path, &hostile_cases[i], test_hostile);
  for (i = 0; i < G_N_ELEMENTS (truncated); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tvw/formats/truncated/%s", truncated[i]);

      g_test_add_data_func (path, truncated[i], test_truncated);
    }
  for (i = 0; i < G_N_ELEMENTS (fuzzed); i++)
    {
      g_autofree char *path = g_strdup_printf ("/tvw/formats/byte-flips/%s", fuzzed[i]);

      g_test_add_data_func (path, fuzzed[i], test_fuzz);
    }

  ret = g_test_run ();

  if (fixtures_dir != NULL)
    remove_tree (fixtures_dir);
  g_free (fixtures_dir);
  g_free (fixtures_skip_reason);
  return ret;
}
