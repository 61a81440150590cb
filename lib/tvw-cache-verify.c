/* tvw-cache-verify.c — which cached files were checked, and checking them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tvw-cache-private.h"
#include "tvw-download-private.h"
#include "tvw-error.h"
#include "tvw-registry-private.h"

#define VERIFIED_FILE_NAME  ".tvw-verified"
#define HASH_CHUNK_SIZE     (1024 * 1024)

/* Verification records.
 *
 * A file is hashed once; what was found is remembered with the file's
 * identity (device, inode, size, mtime), in memory and in a key file in
 * libtvw's cache directory, so that the next process does not hash it again.
 * Any change to the file (rewritten, replaced, touched) makes it be checked
 * again.  Losing a record (two processes writing at once) only costs one
 * more check. */

G_LOCK_DEFINE_STATIC (verified);
static GHashTable *verified_in_memory;  /* path → identity:sha256 */

static char *
file_identity (const struct stat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT ".%09ld",
                          (guint64) st->st_dev, (guint64) st->st_ino,
                          (gint64) st->st_size, (gint64) st->st_mtim.tv_sec,
                          (long) st->st_mtim.tv_nsec);
}

static gboolean
can_be_key_file_group (const char *path)
{
  return strpbrk (path, "[]\n\r") == NULL && g_utf8_validate (path, -1, NULL);
}

static char *
verified_file_path (void)
{
  g_autofree char *dir = tvw_get_cache_dir ();

  return g_build_filename (dir, VERIFIED_FILE_NAME, NULL);
}

/* Returns the remembered sha256 of @path if @st still describes the file
 * that was checked. */
char *
tvw_cache_lookup_verified (const char        *path,
                           const struct stat *st)
{
  g_autofree char *identity = file_identity (st);
  g_autofree char *record_path = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *stored_identity = NULL;
  char *sha256 = NULL;

  G_LOCK (verified);
  if (verified_in_memory != NULL)
    {
      const char *record = g_hash_table_lookup (verified_in_memory, path);
      gsize len = strlen (identity);

      if (record != NULL && strncmp (record, identity, len) == 0 && record[len] == '|')
        sha256 = g_strdup (record + len + 1);
    }
  G_UNLOCK (verified);

  if (sha256 != NULL || !can_be_key_file_group (path))
    return sha256;

  record_path = verified_file_path ();
  key_file = g_key_file_new ();
  if (!g_key_file_load_from_file (key_file, record_path, G_KEY_FILE_NONE, NULL))
    return NULL;

  stored_identity = g_key_file_get_string (key_file, path, "identity", NULL);
  if (g_strcmp0 (stored_identity, identity) != 0)
    return NULL;

  return g_key_file_get_string (key_file, path, "sha256", NULL);
}

static void
remember_verified (const char        *path,
                   const struct stat *st,
                   const char        *sha256)
{
  g_autofree char *identity = file_identity (st);
  g_autofree char *dir = NULL;
  g_autofree char *record_path = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_auto(GStrv) groups = NULL;
  g_autoptr(GError) error = NULL;

  G_LOCK (verified);
  if (verified_in_memory == NULL)
    verified_in_memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (verified_in_memory, g_strdup (path),
                        g_strdup_printf ("%s|%s", identity, sha256));

  if (!can_be_key_file_group (path))
    {
      G_UNLOCK (verified);
      return;
    }

  /* The process-wide lock keeps threads from losing each other's records;
   * other processes may still race, which only costs a check. */
  dir = tvw_get_cache_dir ();
  record_path = g_build_filename (dir, VERIFIED_FILE_NAME, NULL);
  key_file = g_key_file_new ();
  g_key_file_load_from_file (key_file, record_path, G_KEY_FILE_KEEP_COMMENTS, NULL);

  /* Forget files that are gone. */
  groups = g_key_file_get_groups (key_file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    if (!g_file_test (groups[i], G_FILE_TEST_EXISTS))
      g_key_file_remove_group (key_file, groups[i], NULL);

  g_key_file_set_string (key_file, path, "identity", identity);
  g_key_file_set_string (key_file, path, "sha256", sha256);

  if (g_mkdir_with_parents (dir, 0755) != 0 ||
      !g_key_file_save_to_file (key_file, record_path, &error))
    g_debug ("Cannot remember that %s was verified in %s: %s", path, record_path,
             error != NULL ? error->message : g_strerror (errno));
  G_UNLOCK (verified);
}

void
tvw_cache_forget_verified (const char *path)
{
  g_autofree char *record_path = verified_file_path ();
  g_autoptr(GKeyFile) key_file = g_key_file_new ();

  G_LOCK (verified);
  if (verified_in_memory != NULL)
    g_hash_table_remove (verified_in_memory, path);

  if (can_be_key_file_group (path) &&
      g_key_file_load_from_file (key_file, record_path, G_KEY_FILE_KEEP_COMMENTS, NULL) &&
      g_key_file_remove_group (key_file, path, NULL))
    g_key_file_save_to_file (key_file, record_path, NULL);
  G_UNLOCK (verified);
}

void
_tvw_cache_remember_verified (const char *path,
                              const char *sha256)
{
  struct stat st;

  if (stat (path, &st) == 0)
    remember_verified (path, &st, sha256);
}

static char *
hash_file (const char    *path,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = NULL;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot read “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }

  buffer = g_malloc (HASH_CHUNK_SIZE);
  for (;;)
    {
      gssize n = read (fd, buffer, HASH_CHUNK_SIZE);

      if (n < 0 && errno == EINTR)
        continue;

      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot read “%s”: %s"), path, g_strerror (saved_errno));
          close (fd);
          return NULL;
        }

      if (n == 0)
        break;

      g_checksum_update (checksum, buffer, n);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close (fd);
          return NULL;
        }
    }

  close (fd);
  return g_strdup (g_checksum_get_string (checksum));
}


/* Checks @dir/@name against @hash_prefix, hashing it only if it has not been
 * verified in its current state.  TVW_CACHE_CHECK_CORRUPT and TVW_CACHE_CHECK_FAILED set @error;
 * TVW_CACHE_CHECK_MISSING does not. */
TvwCacheCheck
tvw_cache_check_file (const char    *dir,
                      const char    *name,
                      const char    *hash_prefix,
                      gboolean       may_hash,
                      char         **out_path,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *sha256 = NULL;
  struct stat st;

  if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return TVW_CACHE_CHECK_MISSING;

  if (hash_prefix != NULL)
    {
      sha256 = tvw_cache_lookup_verified (path, &st);
      if (sha256 == NULL || !g_str_has_prefix (sha256, hash_prefix))
        {
          g_clear_pointer (&sha256, g_free);

          if (!may_hash)
            return TVW_CACHE_CHECK_MISSING;

          sha256 = hash_file (path, cancellable, error);
          if (sha256 == NULL)
            return TVW_CACHE_CHECK_FAILED;

          if (!g_str_has_prefix (sha256, hash_prefix))
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH,
                           _("Checksum mismatch for “%s”: the name expects a SHA-256 starting with %s, the file has %s"),
                           path, hash_prefix, sha256);
              return TVW_CACHE_CHECK_CORRUPT;
            }

          /* Remember the state the file had when it was hashed. */
          remember_verified (path, &st, sha256);
        }
    }

  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);

  return TVW_CACHE_CHECK_OK;
}
