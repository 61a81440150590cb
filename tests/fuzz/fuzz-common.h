/* fuzz-common.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the libFuzzer harnesses in this directory.  Each harness
 * defines LLVMFuzzerTestOneInput() (and may define LLVMFuzzerInitialize());
 * it is linked either with libFuzzer (-Dfuzzing=true, clang) or with
 * fuzz-replay.c, a main() that runs it over saved inputs for the test suite.
 */

#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gprintf.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "tvw-error.h"

G_BEGIN_DECLS

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);

static GLogLevelFlags fuzz_fatal_levels;

/* GLib stops a fatal message with a breakpoint (SIGTRAP), which libFuzzer
 * does not catch: no artifact would be written.  abort() is caught. */
static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  if (log_level & fuzz_fatal_levels)
    abort ();
  return G_LOG_WRITER_HANDLED;
}

/* Hostile input must never make the library log a critical (a failed
 * precondition inside libtvw) or, with @warnings_fatal, a warning: both
 * abort, so that the fuzzer reports them like a crash. */
static inline void
fuzz_setup (gboolean warnings_fatal)
{
  g_autofree char *home = NULL;
  g_autofree char *data_home = NULL;
  g_autofree char *cache = NULL;

  fuzz_fatal_levels = G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR |
                      (warnings_fatal ? G_LOG_LEVEL_WARNING : 0);
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);

  /* Nothing from the user's own setup: no weights cards, no cache, no
   * network.  Nothing is written there, so a unique path that does not
   * exist does (libFuzzer may leave without running atexit handlers). */
  home = g_dir_make_tmp ("tvw-fuzz-XXXXXX", NULL);
  if (home == NULL)
    abort ();
  g_rmdir (home);
  data_home = g_build_filename (home, "data", NULL);
  cache = g_build_filename (home, "cache", NULL);
  /* XDG_DATA_DIRS stays: gdk-pixbuf recognises images through the shared
   * MIME database found there. */
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("TVW_CACHE_DIR", cache, TRUE);
  g_setenv ("TORCH_HOME", cache, TRUE);
  g_setenv ("TVW_OFFLINE", "1", TRUE);
  g_setenv ("OMP_NUM_THREADS", "1", TRUE);
}

/* Some entry points take a file: the input goes to an anonymous in-memory
 * file, reopened through /proc/self/fd like any path. */
static inline const char *
fuzz_memfd_path (const uint8_t *data,
                 size_t         size)
{
  static int fd = -1;
  static char path[64];
  size_t done = 0;

  if (fd < 0)
    {
      fd = memfd_create ("tvw-fuzz-input", MFD_CLOEXEC);
      if (fd < 0)
        abort ();
      g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    }
  if (ftruncate (fd, 0) != 0)
    abort ();
  while (done < size)
    {
      ssize_t n = pwrite (fd, data + done, size - done, (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        abort ();
      done += (size_t) n;
    }
  return path;
}

/* FUZZ_VERBOSE=1 says what became of each input (harness debugging). */
G_GNUC_PRINTF (1, 2)
static inline void
fuzz_verbose (const char *format,
              ...)
{
  static int verbose = -1;
  va_list args;

  if (verbose < 0)
    verbose = g_getenv ("FUZZ_VERBOSE") != NULL;
  if (!verbose)
    return;
  va_start (args, format);
  g_vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
}

/* Errors from hostile input are expected; anything outside TVW_ERROR and
 * GIO's errors means an error path forgot to translate. */
static inline void
fuzz_check_error (GError *error)
{
  if (error == NULL)
    {
      g_printerr ("failure without a GError\n");
      abort ();
    }
  fuzz_verbose ("refused: %s", error->message);
  if (error->domain != TVW_ERROR && error->domain != G_IO_ERROR)
    {
      g_printerr ("unexpected error domain %s: %s\n",
                  g_quark_to_string (error->domain), error->message);
      abort ();
    }
}

G_END_DECLS
