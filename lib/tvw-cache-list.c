/* tvw-cache-list.c — cache entries, listing and removing them (`tvw cache`)
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

/**
 * TvwCacheEntry:
 *
 * A file in one of the caches, as [func@cache_list] found it: its name, where
 * it is, its size and how far it can be trusted ([enum@CacheState]).
 *
 * An entry is a snapshot: it does not change when the file does.
 */

struct _TvwCacheEntry
{
  char             *name;
  char             *path;
  goffset           size;
  TvwCacheLocation  location;
  TvwCacheState     state;
};

G_DEFINE_BOXED_TYPE (TvwCacheEntry, tvw_cache_entry, tvw_cache_entry_copy, tvw_cache_entry_free)

/**
 * tvw_cache_entry_copy:
 * @self: a cache entry
 *
 * Makes a copy of @self.
 *
 * Returns: (transfer full): a new entry, to be freed with
 *   [method@CacheEntry.free]
 */
TvwCacheEntry *
tvw_cache_entry_copy (TvwCacheEntry *self)
{
  TvwCacheEntry *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new (TvwCacheEntry, 1);
  *copy = *self;
  copy->name = g_strdup (self->name);
  copy->path = g_strdup (self->path);
  return copy;
}

/**
 * tvw_cache_entry_free:
 * @self: (nullable): a cache entry
 *
 * Frees @self.
 */
void
tvw_cache_entry_free (TvwCacheEntry *self)
{
  if (self == NULL)
    return;

  g_free (self->name);
  g_free (self->path);
  g_free (self);
}

/**
 * tvw_cache_entry_get_name:
 * @self: a cache entry
 *
 * Gets the file's name in the cache, the one [func@cache_remove] takes.  For
 * an interrupted download (%TVW_CACHE_STATE_PARTIAL) it is the name the
 * file will have once complete.
 *
 * Returns: (type filename): the file name
 */
const char *
tvw_cache_entry_get_name (TvwCacheEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->name;
}

/**
 * tvw_cache_entry_get_path:
 * @self: a cache entry
 *
 * Gets the path of the file: the partial file for an interrupted download.
 *
 * Returns: (type filename): the path of the file
 */
const char *
tvw_cache_entry_get_path (TvwCacheEntry *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->path;
}

/**
 * tvw_cache_entry_get_size:
 * @self: a cache entry
 *
 * Gets the size of the file when it was listed: what has been downloaded
 * so far for an interrupted download.
 *
 * Returns: the size in bytes
 */
goffset
tvw_cache_entry_get_size (TvwCacheEntry *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->size;
}

/**
 * tvw_cache_entry_get_location:
 * @self: a cache entry
 *
 * Gets the cache the file is in.
 *
 * Returns: libtvw's cache or PyTorch's
 */
TvwCacheLocation
tvw_cache_entry_get_location (TvwCacheEntry *self)
{
  g_return_val_if_fail (self != NULL, TVW_CACHE_LOCATION_TVW);

  return self->location;
}

/**
 * tvw_cache_entry_get_state:
 * @self: a cache entry
 *
 * Gets how far the file can be trusted.  An entry from [func@cache_list] is
 * never %TVW_CACHE_STATE_MISSING.
 *
 * Returns: the state of the file when it was listed
 */
TvwCacheState
tvw_cache_entry_get_state (TvwCacheEntry *self)
{
  g_return_val_if_fail (self != NULL, TVW_CACHE_STATE_MISSING);

  return self->state;
}
/* Listing and removal, for `tvw cache`. */

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const TvwCacheEntry *ea = *(TvwCacheEntry * const *) a;
  const TvwCacheEntry *eb = *(TvwCacheEntry * const *) b;

  if (ea->location != eb->location)
    return (int) ea->location - (int) eb->location;

  return strcmp (ea->name, eb->name);
}

static gboolean
list_dir (GPtrArray         *entries,
          const char        *dir,
          TvwCacheLocation   location,
          gboolean           verify,
          GCancellable      *cancellable,
          GError           **error)
{
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &local_error);
  if (d == NULL)
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot list the cache directory “%s”: %s"), dir, local_error->message);
      return FALSE;
    }

  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autoptr(TvwCacheEntry) entry = NULL;
      g_autofree char *path = NULL;
      g_autofree char *hash_prefix = NULL;
      struct stat st;

      if (name[0] == '.' || g_str_has_suffix (name, ".lock") ||
          g_str_has_suffix (name, ".partial.state"))
        continue;

      path = g_build_filename (dir, name, NULL);
      if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;

      entry = g_new0 (TvwCacheEntry, 1);
      entry->location = location;
      entry->size = st.st_size;

      if (g_str_has_suffix (name, ".partial"))
        {
          /* PyTorch's own partial files have random names: skip them. */
          if (location != TVW_CACHE_LOCATION_TVW)
            continue;

          entry->name = g_strndup (name, strlen (name) - strlen (".partial"));
          entry->state = TVW_CACHE_STATE_PARTIAL;
          entry->path = g_steal_pointer (&path);
          g_ptr_array_add (entries, g_steal_pointer (&entry));
          continue;
        }

      entry->name = g_strdup (name);
      hash_prefix = tvw_cache_get_hash_prefix (name);
      if (hash_prefix == NULL)
        {
          entry->state = TVW_CACHE_STATE_NO_HASH;
        }
      else
        {
          g_autoptr(GError) check_error = NULL;

          switch (tvw_cache_check_file (dir, name, hash_prefix, verify, NULL, cancellable, &check_error))
            {
            case TVW_CACHE_CHECK_OK:
              entry->state = TVW_CACHE_STATE_VERIFIED;
              break;
            case TVW_CACHE_CHECK_MISSING:
              entry->state = TVW_CACHE_STATE_UNCHECKED;
              break;
            case TVW_CACHE_CHECK_CORRUPT:
              entry->state = TVW_CACHE_STATE_CORRUPT;
              break;
            case TVW_CACHE_CHECK_FAILED:
            default:
              g_propagate_error (error, g_steal_pointer (&check_error));
              return FALSE;
            }
        }

      entry->path = g_steal_pointer (&path);
      g_ptr_array_add (entries, g_steal_pointer (&entry));
    }

  return TRUE;
}

/**
 * tvw_cache_list:
 * @verify: whether to hash now the files that have not been checked yet
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Lists the files in libtvw's cache, then those in PyTorch's, each sorted by
 * name, with interrupted downloads of libtvw's cache
 * (%TVW_CACHE_STATE_PARTIAL).  Lock files and other bookkeeping are
 * left out.
 *
 * Without @verify nothing is hashed: files that were not checked yet are
 * %TVW_CACHE_STATE_UNCHECKED.  With it they are hashed now (which
 * takes a while for large files), and the result is remembered.
 *
 * Returns: (transfer container) (element-type TvwCacheEntry): the cached
 *   files; the array frees its entries
 */
GPtrArray *
tvw_cache_list (gboolean       verify,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *tvw_dir = NULL;
  g_autofree char *torch_dir = NULL;

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) tvw_cache_entry_free);
  tvw_cache_get_search_dirs (&tvw_dir, &torch_dir);

  if (!list_dir (entries, tvw_dir, TVW_CACHE_LOCATION_TVW, verify, cancellable, error))
    return NULL;

  if (torch_dir != NULL &&
      !list_dir (entries, torch_dir, TVW_CACHE_LOCATION_TORCH, verify, cancellable, error))
    return NULL;

  g_ptr_array_sort (entries, compare_entries);
  return g_steal_pointer (&entries);
}

static gboolean
remove_file (const char  *path,
             gboolean    *removed,
             GError     **error)
{
  if (g_unlink (path) == 0)
    {
      *removed = TRUE;
      return TRUE;
    }

  if (errno == ENOENT)
    return TRUE;

  {
    int saved_errno = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 _("Cannot remove “%s”: %s"), path, g_strerror (saved_errno));
  }
  return FALSE;
}

/**
 * tvw_cache_remove:
 * @name: (type filename): the name of a file in libtvw's cache, as
 *   [method@CacheEntry.get_name] or [func@cache_name_from_url] give it
 * @error: return location for an error
 *
 * Removes a file, and its interrupted download if any, from libtvw's cache.
 * PyTorch's cache is never modified.
 *
 * Fails with %TVW_ERROR_NOT_FOUND if there is no such file in libtvw's cache
 * (the message says so if PyTorch's has it), %TVW_ERROR_INVALID_ARGUMENT if
 * @name is not a file name, and %G_IO_ERROR_BUSY while the file is being
 * downloaded.
 *
 * Returns: %TRUE if the file was removed, %FALSE on error
 */
gboolean
tvw_cache_remove (const char  *name,
                  GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *partial_path = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *lock_path = NULL;
  gboolean removed = FALSE;
  gboolean ok;
  int lock_fd;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!tvw_cache_is_valid_file_name (name))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not the name of a cached file"), name);
      return FALSE;
    }

  tvw_cache_get_search_dirs (&dir, &torch_dir);
  path = g_build_filename (dir, name, NULL);
  partial_path = g_strconcat (path, ".partial", NULL);
  state_path = g_strconcat (path, ".partial.state", NULL);
  lock_path = g_strconcat (path, ".lock", NULL);

  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (partial_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *torch_path = torch_dir != NULL ? g_build_filename (torch_dir, name, NULL) : NULL;

      if (torch_path != NULL && g_file_test (torch_path, G_FILE_TEST_EXISTS))
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("%s is not in %s but in PyTorch’s cache %s, which libtvw does not modify"),
                     name, dir, torch_dir);
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("%s is not in %s"), name, dir);
      return FALSE;
    }

  /* Do not pull a file from under a running download. */
  lock_fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd >= 0 && flock (lock_fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    {
      close (lock_fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("%s is being downloaded into %s; try again later"), name, dir);
      return FALSE;
    }

  ok = remove_file (path, &removed, error) &&
       remove_file (partial_path, &removed, error) &&
       remove_file (state_path, &removed, error);
  tvw_cache_forget_verified (path);

  if (lock_fd >= 0)
    tvw_cache_lock_release (lock_path, lock_fd);

  return ok;
}
