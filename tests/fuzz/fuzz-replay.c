/* fuzz-replay.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A main() for the harnesses when they are not linked with libFuzzer: runs
 * LLVMFuzzerTestOneInput() once on every file named on the command line
 * (directories: on every file inside, in name order) and prints TAP.  The
 * test suite runs the seed corpus and the saved crash inputs this way, so
 * every input the fuzzers ever found stays a regression test, with or
 * without sanitizers.
 *
 * An input that takes longer than FUZZ_REPLAY_TIME_LIMIT seconds (default
 * 10; the fuzzers' own limit) fails: hangs are bugs too.
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include <stdio.h>

#include "fuzz-common.h"

/* Harnesses without an initializer get this one. */
__attribute__((weak)) int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  return 0;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
collect (const char *path,
         GPtrArray  *files)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_ptr_array_add (files, g_strdup (path));
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    return;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *child = g_build_filename (path, names->pdata[i], NULL);

      collect (child, files);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  const char *limit_env = g_getenv ("FUZZ_REPLAY_TIME_LIMIT");
  double limit = limit_env != NULL ? g_ascii_strtod (limit_env, NULL) : 10.0;
  guint n_failed = 0;

  LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_EXISTS))
        {
          /* The generated corpus is missing when torch is. */
          printf ("# %s does not exist, skipped\n", argv[i]);
          continue;
        }
      collect (argv[i], files);
    }

  printf ("1..%u\n", files->len);
  if (files->len == 0)
    printf ("# no inputs\n");
  fflush (stdout);

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      gsize len = 0;
      gint64 start;
      double elapsed;

      if (!g_file_get_contents (path, &contents, &len, &error))
        {
          printf ("not ok %u - %s: %s\n", i + 1, path, error->message);
          n_failed++;
          continue;
        }

      /* An exact-size heap copy: ASan sees reads past the end. */
      {
        g_autofree guint8 *copy = g_memdup2 (contents, len);

        start = g_get_monotonic_time ();
        LLVMFuzzerTestOneInput (copy, len);
        elapsed = (g_get_monotonic_time () - start) / 1e6;
      }

      if (elapsed > limit)
        {
          printf ("not ok %u - %s (%.2f s, more than %.0f s)\n", i + 1, path, elapsed, limit);
          n_failed++;
        }
      else
        printf ("ok %u - %s (%.1f ms)\n", i + 1, path, elapsed * 1e3);
      fflush (stdout);
    }

  return n_failed > 0 ? 1 : 0;
}
