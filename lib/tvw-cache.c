/* tvw-cache.c
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

/* Pretrained weights are downloaded on first use and kept in a cache.
 *
 * libtvw looks for a checkpoint in two places: its own cache
 * (`$TVW_CACHE_DIR`, else `$XDG_CACHE_HOME/tvw/checkpoints`), then PyTorch's
 * hub cache (`$TORCH_HOME/hub/checkpoints`, else
 * `$XDG_CACHE_HOME/torch/hub/checkpoints`), so weights that torchvision has
 * already downloaded are used as they are.  File names carry the start of
 * the file's SHA-256 (`resnet50-11ad3fa6.pth`); a file is checked against it
 * once, and again only when it changes.
 *
 * Downloads go to libtvw's cache only.  Setting `TVW_MIRROR` to a base URL
 * replaces the scheme and host of every download URL
 * (`https://download.pytorch.org/models/x.pth` becomes `BASE/models/x.pth`).
 * Setting `TVW_OFFLINE=1`, or calling [func@set_offline], forbids any
 * network access: weights that are not in a cache cannot be loaded then.
 */

#define VERIFIED_FILE_NAME  ".tvw-verified"
#define HASH_CHUNK_SIZE     (1024 * 1024)
#define LOCK_POLL_USEC      (50 * 1000)

static gint offline_switch;

/**
 * tvw_set_offline:
 * @offline: whether libtvw may not use the network
 *
 * Forbids (or allows again) downloads for the whole process.
 *
 * While offline, loading weights that are in no cache fails with
 * %TVW_ERROR_OFFLINE.  The environment variable `TVW_OFFLINE=1` has the
 * same effect and cannot be overridden by this function.
 */
void
tvw_set_offline (gboolean offline)
{
  g_atomic_int_set (&offline_switch, !!offline);
}

static gboolean
offline_from_env (void)
{
  const char *value = g_getenv ("TVW_OFFLINE");

  if (value == NULL || *value == '\0')
    return FALSE;

  return strcmp (value, "0") != 0 &&
         g_ascii_strcasecmp (value, "false") != 0 &&
         g_ascii_strcasecmp (value, "no") != 0 &&
         g_ascii_strcasecmp (value, "off") != 0;
}

/**
 * tvw_get_offline:
 *
 * Tells whether downloads are forbidden, by [func@set_offline] or by the
 * environment variable `TVW_OFFLINE`.
 *
 * Returns: %TRUE if libtvw will not use the network
 */
gboolean
tvw_get_offline (void)
{
  return g_atomic_int_get (&offline_switch) || offline_from_env ();
}

/* Like g_get_user_cache_dir(), but reads the environment at every call
 * (GLib caches the first answer). */
static char *
user_cache_home (void)
{
  const char *xdg = g_getenv ("XDG_CACHE_HOME");

  if (xdg != NULL && g_path_is_absolute (xdg))
    return g_strdup (xdg);

  return g_build_filename (g_get_home_dir (), ".cache", NULL);
}

/**
 * tvw_get_cache_dir:
 *
 * Gets the directory where libtvw keeps the weights it downloads:
 * `$TVW_CACHE_DIR` if set, else `$XDG_CACHE_HOME/tvw/checkpoints`
 * (`~/.cache/tvw/checkpoints`).  The directory may not exist yet.
 *
 * Weights that PyTorch downloaded are also used, from
 * `$TORCH_HOME/hub/checkpoints`.
 *
 * Returns: (transfer full) (type filename): the cache directory
 */
char *
tvw_get_cache_dir (void)
{
  const char *dir = g_getenv ("TVW_CACHE_DIR");
  g_autofree char *cache_home = NULL;

  if (dir != NULL && *dir != '\0')
    return g_strdup (dir);

  cache_home = user_cache_home ();
  return g_build_filename (cache_home, "tvw", "checkpoints", NULL);
}

/**
 * tvw_cache_get_torch_dir:
 *
 * Gets the directory where PyTorch keeps the weights it downloads, which
 * libtvw reads but never modifies: `$TORCH_HOME/hub/checkpoints` if
 * `TORCH_HOME` is set, else `$XDG_CACHE_HOME/torch/hub/checkpoints`
 * (`~/.cache/torch/hub/checkpoints`).  The directory may not exist.
 *
 * Returns: (transfer full) (type filename): PyTorch's cache directory
 */
char *
tvw_cache_get_torch_dir (void)
{
  const char *torch_home = g_getenv ("TORCH_HOME");
  g_autofree char *cache_home = NULL;

  /* torch.hub._get_torch_home() expands a leading "~". */
  if (torch_home != NULL && *torch_home != '\0')
    {
      if (torch_home[0] == '~' && (torch_home[1] == '/' || torch_home[1] == '\0'))
        return g_build_filename (g_get_home_dir (), torch_home + 1, "hub", "checkpoints", NULL);
      return g_build_filename (torch_home, "hub", "checkpoints", NULL);
    }

  cache_home = user_cache_home ();
  return g_build_filename (cache_home, "torch", "hub", "checkpoints", NULL);
}

static gboolean
is_valid_file_name (const char *name)
{
  return name[0] != '\0' && name[0] != '.' && strchr (name, '/') == NULL;
}

/**
 * tvw_cache_name_from_url:
 * @url: the URL of a file
 * @error: return location for an error
 *
 * Gets the name a download of @url has in the cache: like torch.hub, the
 * last component of the URL's path, not percent-decoded
 * (`resnet50-11ad3fa6.pth` for
 * `https://download.pytorch.org/models/resnet50-11ad3fa6.pth`).
 *
 * Fails with %TVW_ERROR_INVALID_ARGUMENT if @url is not a URL or its path
 * does not end in a file name.
 *
 * Returns: (transfer full) (type filename): the file name, or %NULL on error
 */
char *
tvw_cache_name_from_url (const char  *url,
                         GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *path;
  const char *base;

  g_return_val_if_fail (url != NULL, NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("Invalid weights URL “%s”: %s"), url, local_error->message);
      return NULL;
    }

  path = g_uri_get_path (uri);
  base = strrchr (path, '/');
  base = base != NULL ? base + 1 : path;

  if (!is_valid_file_name (base))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("The weights URL “%s” does not end in a file name"), url);
      return NULL;
    }

  return g_strdup (base);
}

/* torch.hub's HASH_REGEX, r"-([a-f0-9]*)\.", searched in the file name:
 * the first "-" followed by lowercase hex digits and a ".".  An empty
 * prefix means no check, as in torch.hub. */
char *
tvw_cache_get_hash_prefix (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  for (const char *dash = strchr (name, '-'); dash != NULL; dash = strchr (dash + 1, '-'))
    {
      const char *end = dash + 1;

      while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
        end++;

      if (*end == '.')
        return end > dash + 1 ? g_strndup (dash + 1, end - dash - 1) : NULL;
    }

  return NULL;
}

char *
tvw_cache_apply_mirror (const char *url)
{
  const char *mirror = g_getenv ("TVW_MIRROR");
  g_autoptr(GUri) uri = NULL;
  g_autofree char *base = NULL;
  const char *query;

  g_return_val_if_fail (url != NULL, NULL);

  if (mirror == NULL || *mirror == '\0')
    return g_strdup (url);

  uri = g_uri_parse (url, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    return g_strdup (url);

  base = g_strdup (mirror);
  while (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';

  query = g_uri_get_query (uri);
  return g_strconcat (base, g_uri_get_path (uri),
                      query != NULL ? "?" : "", query != NULL ? query : "",
                      NULL);
}

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
static char *
lookup_verified (const char        *path,
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

static void
forget_verified (const char *path)
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

typedef enum
{
  CHECK_OK,
  CHECK_MISSING,
  CHECK_CORRUPT,
  CHECK_FAILED,
} CheckResult;

/* Checks @dir/@name against @hash_prefix, hashing it only if it has not been
 * verified in its current state.  CHECK_CORRUPT and CHECK_FAILED set @error;
 * CHECK_MISSING does not. */
static CheckResult
check_cached_file (const char    *dir,
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
    return CHECK_MISSING;

  if (hash_prefix != NULL)
    {
      sha256 = lookup_verified (path, &st);
      if (sha256 == NULL || !g_str_has_prefix (sha256, hash_prefix))
        {
          g_clear_pointer (&sha256, g_free);

          if (!may_hash)
            return CHECK_MISSING;

          sha256 = hash_file (path, cancellable, error);
          if (sha256 == NULL)
            return CHECK_FAILED;

          if (!g_str_has_prefix (sha256, hash_prefix))
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH,
                           _("Checksum mismatch for “%s”: the name expects a SHA-256 starting with %s, the file has %s"),
                           path, hash_prefix, sha256);
              return CHECK_CORRUPT;
            }

          /* Remember the state the file had when it was hashed. */
          remember_verified (path, &st, sha256);
        }
    }

  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);

  return CHECK_OK;
}

/* The directories to search, libtvw's first; PyTorch's is left out when both
 * are the same directory. */
static void
get_search_dirs (char **tvw_dir,
                 char **torch_dir)
{
  *tvw_dir = tvw_get_cache_dir ();
  *torch_dir = tvw_cache_get_torch_dir ();

  if (g_strcmp0 (*tvw_dir, *torch_dir) == 0)
    g_clear_pointer (torch_dir, g_free);
}

static char *
lookup_name (const char    *url,
             const char    *name,
             const char    *hash_prefix,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree char *tvw_dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autoptr(GError) corrupt_error = NULL;
  const char *dirs[2];

  get_search_dirs (&tvw_dir, &torch_dir);
  dirs[0] = tvw_dir;
  dirs[1] = torch_dir;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GError) local_error = NULL;
      char *path = NULL;

      if (dirs[i] == NULL)
        continue;

      switch (check_cached_file (dirs[i], name, hash_prefix, TRUE, &path, cancellable, &local_error))
        {
        case CHECK_OK:
          return path;

        case CHECK_MISSING:
          break;

        case CHECK_CORRUPT:
          /* A valid copy in the other cache is still good to use. */
          if (corrupt_error == NULL)
            corrupt_error = g_steal_pointer (&local_error);
          break;

        case CHECK_FAILED:
        default:
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }

  if (corrupt_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&corrupt_error));
      return NULL;
    }

  if (torch_dir != NULL)
    g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                 _("%s (from %s) is neither in %s nor in PyTorch’s cache %s"),
                 name, url, tvw_dir, torch_dir);
  else
    g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                 _("%s (from %s) is not in %s"), name, url, tvw_dir);
  return NULL;
}

char *
tvw_cache_lookup (const char    *url,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree char *name = NULL;
  g_autofree char *hash_prefix = NULL;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = tvw_cache_name_from_url (url, error);
  if (name == NULL)
    return NULL;

  hash_prefix = tvw_cache_get_hash_prefix (name);
  return lookup_name (url, name, hash_prefix, cancellable, error);
}

/**
 * tvw_cache_query:
 * @url: the URL of a file
 * @out_path: (out) (optional) (nullable) (transfer full) (type filename): return
 *   location for the path of the file (of the partial file for
 *   %TVW_CACHE_STATE_PARTIAL, %NULL for %TVW_CACHE_STATE_MISSING)
 *
 * Tells where the file of @url is and how far it can be trusted, without
 * hashing anything nor using the network, so it is cheap enough to call
 * for every entry of the catalog.
 *
 * libtvw's cache is searched first, then PyTorch's.  The state is
 * %TVW_CACHE_STATE_VERIFIED, %TVW_CACHE_STATE_UNCHECKED (the file will be
 * hashed on first use), %TVW_CACHE_STATE_NO_HASH,
 * %TVW_CACHE_STATE_PARTIAL (only an interrupted download) or
 * %TVW_CACHE_STATE_MISSING (also when @url is not a valid URL).
 *
 * Returns: the state of the file of @url
 */
TvwCacheState
tvw_cache_query (const char  *url,
                 char       **out_path)
{
  g_autofree char *name = NULL;
  g_autofree char *hash_prefix = NULL;
  g_autofree char *tvw_dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autofree char *partial_path = NULL;
  const char *dirs[2];
  struct stat st;

  g_return_val_if_fail (url != NULL, TVW_CACHE_STATE_MISSING);

  if (out_path != NULL)
    *out_path = NULL;

  name = tvw_cache_name_from_url (url, NULL);
  if (name == NULL)
    return TVW_CACHE_STATE_MISSING;

  hash_prefix = tvw_cache_get_hash_prefix (name);
  get_search_dirs (&tvw_dir, &torch_dir);
  dirs[0] = tvw_dir;
  dirs[1] = torch_dir;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;
      g_autofree char *sha256 = NULL;
      TvwCacheState state;

      if (dirs[i] == NULL)
        continue;

      path = g_build_filename (dirs[i], name, NULL);
      if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;

      if (hash_prefix == NULL)
        state = TVW_CACHE_STATE_NO_HASH;
      else if ((sha256 = lookup_verified (path, &st)) != NULL && g_str_has_prefix (sha256, hash_prefix))
        state = TVW_CACHE_STATE_VERIFIED;
      else
        state = TVW_CACHE_STATE_UNCHECKED;

      if (out_path != NULL)
        *out_path = g_steal_pointer (&path);
      return state;
    }

  partial_path = g_strconcat (tvw_dir, G_DIR_SEPARATOR_S, name, ".partial", NULL);
  if (stat (partial_path, &st) == 0 && S_ISREG (st.st_mode))
    {
      if (out_path != NULL)
        *out_path = g_steal_pointer (&partial_path);
      return TVW_CACHE_STATE_PARTIAL;
    }

  return TVW_CACHE_STATE_MISSING;
}

/* One downloader per file, across threads and processes: an flock() on
 * @name.lock, which the holder removes before releasing it.  A waiter that
 * wakes up holding a lock on a removed file tries again. */
static int
lock_acquire (const char    *lock_path,
              GCancellable  *cancellable,
              GError       **error)
{
  for (;;)
    {
      struct stat fd_st, path_st;
      int fd;

      fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          int saved_errno = errno;
          g_autofree char *dir = g_path_get_dirname (lock_path);

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot write to the cache directory “%s”: %s"),
                       dir, g_strerror (saved_errno));
          return -1;
        }

      while (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          if (errno == EINTR)
            continue;

          if (errno != EWOULDBLOCK)
            {
              /* No locking on this file system: go on unprotected. */
              g_debug ("Cannot lock %s: %s", lock_path, g_strerror (errno));
              return fd;
            }

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              close (fd);
              return -1;
            }

          g_usleep (LOCK_POLL_USEC);
        }

      if (fstat (fd, &fd_st) == 0 && stat (lock_path, &path_st) == 0 &&
          fd_st.st_dev == path_st.st_dev && fd_st.st_ino == path_st.st_ino)
        return fd;

      close (fd);
    }
}

static void
lock_release (const char *lock_path,
              int         fd)
{
  g_unlink (lock_path);
  close (fd);
}

static char *
fetch_name (const char       *url,
            const char       *name,
            TvwProgressFunc   progress,
            gpointer          progress_data,
            GCancellable     *cancellable,
            GError          **error)
{
  g_autofree char *hash_prefix = tvw_cache_get_hash_prefix (name);
  g_autofree char *dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autofree char *lock_path = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_autoptr(GError) check_error = NULL;
  g_autofree char *sha256 = NULL;
  goffset max_size = TVW_DOWNLOAD_MAX_SIZE;
  int lock_fd;

  path = lookup_name (url, name, hash_prefix, cancellable, &lookup_error);
  if (path != NULL)
    return g_steal_pointer (&path);

  if (!g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_NOT_FOUND) &&
      !g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
    {
      g_propagate_error (error, g_steal_pointer (&lookup_error));
      return NULL;
    }

  get_search_dirs (&dir, &torch_dir);

  if (tvw_get_offline ())
    {
      if (g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called), so %s cannot be downloaded again from %s: %s"),
                     name, url, lookup_error->message);
      else if (torch_dir != NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called): %s is neither in %s nor in PyTorch’s cache %s, and cannot be downloaded from %s"),
                     name, dir, torch_dir, url);
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called): %s is not in %s, and cannot be downloaded from %s"),
                     name, dir, url);
      return NULL;
    }

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the cache directory “%s” to download %s: %s"),
                   dir, name, g_strerror (saved_errno));
      return NULL;
    }

  lock_path = g_strconcat (dir, G_DIR_SEPARATOR_S, name, ".lock", NULL);
  lock_fd = lock_acquire (lock_path, cancellable, error);
  if (lock_fd < 0)
    return NULL;

  /* Someone else may have downloaded it while we waited for the lock. */
  switch (check_cached_file (dir, name, hash_prefix, TRUE, &path, cancellable, &check_error))
    {
    case CHECK_OK:
      lock_release (lock_path, lock_fd);
      return g_steal_pointer (&path);

    case CHECK_CORRUPT:
      {
        /* Ours and useless: drop it so that a failed download cannot
         * leave it behind under the final name. */
        g_autofree char *corrupt_path = g_build_filename (dir, name, NULL);

        g_debug ("%s", check_error->message);
        g_unlink (corrupt_path);
        forget_verified (corrupt_path);
      }
      break;

    case CHECK_FAILED:
      lock_release (lock_path, lock_fd);
      g_propagate_error (error, g_steal_pointer (&check_error));
      return NULL;

    case CHECK_MISSING:
    default:
      break;
    }

  /* Registered weights give the full hash and bound the size. */
  tvw_registry_download_limits (url, &sha256, &max_size);
  if (!_tvw_download_file (url, dir, name, hash_prefix, sha256, max_size,
                           progress, progress_data, cancellable, error))
    {
      lock_release (lock_path, lock_fd);
      return NULL;
    }

  lock_release (lock_path, lock_fd);
  return g_build_filename (dir, name, NULL);
}

/**
 * tvw_cache_fetch:
 * @url: the URL of a file
 * @progress: (scope call) (nullable) (closure progress_data): called from
 *   the calling thread as the download progresses
 * @progress_data: data for @progress
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Gets a valid local copy of the file at @url: from libtvw's cache or
 * PyTorch's if one is there, else by downloading it into libtvw's cache.
 *
 * A file whose name has a hash prefix (torchvision's
 * `name-<sha256 prefix>.pth`) is checked against it, once; a corrupt cached
 * copy is downloaded again.  An interrupted download resumes where it
 * stopped, and only one process downloads a given file at a time.
 * @progress is only called when something is downloaded.
 *
 * Fails with %TVW_ERROR_INVALID_ARGUMENT if @url does not name a file,
 * %TVW_ERROR_OFFLINE if the file would have to be downloaded while offline
 * (see [func@set_offline]), %TVW_ERROR_NETWORK or
 * %TVW_ERROR_CHECKSUM_MISMATCH if the download fails, an error in the
 * %G_IO_ERROR domain if the cache cannot be written, and
 * %G_IO_ERROR_CANCELLED if @cancellable is cancelled.  A failed download never leaves a file under the final name;
 * an interrupted one keeps its partial file for the next call to resume.
 *
 * Returns: (transfer full) (type filename): the local path of the file, or
 *   %NULL on error
 */
char *
tvw_cache_fetch (const char       *url,
                 TvwProgressFunc   progress,
                 gpointer          progress_data,
                 GCancellable     *cancellable,
                 GError          **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = tvw_cache_name_from_url (url, error);
  if (name == NULL)
    return NULL;

  return fetch_name (url, name, progress, progress_data, cancellable, error);
}

/* Progress from the worker thread to the caller's main context.  Reports are
 * coalesced: at most one idle is pending, and it delivers the latest values.
 * The relay is flushed (last values delivered, then the destroy notify
 * called) on the caller's context before the operation completes. */
typedef struct
{
  GMutex           mutex;
  GMainContext    *context;
  TvwProgressFunc  func;
  gpointer         data;
  GDestroyNotify   notify;
  goffset          current;
  goffset          total;
  goffset          delivered_current;
  goffset          delivered_total;
  guint            reported : 1;
  guint            delivered : 1;
  guint            pending : 1;
  guint            finished : 1;
} ProgressRelay;

static void
progress_relay_free (ProgressRelay *relay)
{
  g_main_context_unref (relay->context);
  g_mutex_clear (&relay->mutex);
}

static ProgressRelay *
progress_relay_new (TvwProgressFunc func,
                    gpointer        data,
                    GDestroyNotify  notify)
{
  ProgressRelay *relay = g_atomic_rc_box_new0 (ProgressRelay);

  g_mutex_init (&relay->mutex);
  relay->context = g_main_context_ref_thread_default ();
  relay->func = func;
  relay->data = data;
  relay->notify = notify;
  return relay;
}

static void
progress_relay_unref (gpointer relay)
{
  g_atomic_rc_box_release_full (relay, (GDestroyNotify) progress_relay_free);
}

/* On the caller's context: deliver the latest values if they are new. */
static void
progress_relay_deliver (ProgressRelay *relay)
{
  TvwProgressFunc func = NULL;
  goffset current, total;

  g_mutex_lock (&relay->mutex);
  relay->pending = FALSE;
  current = relay->current;
  total = relay->total;
  if (relay->reported && !relay->finished &&
      (!relay->delivered || current != relay->delivered_current || total != relay->delivered_total))
    {
      relay->delivered = TRUE;
      relay->delivered_current = current;
      relay->delivered_total = total;
      func = relay->func;
    }
  g_mutex_unlock (&relay->mutex);

  if (func != NULL)
    func (current, total, relay->data);
}

static gboolean
progress_relay_idle_cb (gpointer user_data)
{
  progress_relay_deliver (user_data);
  return G_SOURCE_REMOVE;
}

/* In the worker thread. */
static void
progress_relay_report (goffset  current,
                       goffset  total,
                       gpointer user_data)
{
  ProgressRelay *relay = user_data;

  g_mutex_lock (&relay->mutex);
  relay->current = current;
  relay->total = total;
  relay->reported = TRUE;
  if (!relay->pending && !relay->finished)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      relay->pending = TRUE;
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[tvw] download progress");
      g_source_set_callback (source, progress_relay_idle_cb,
                             g_atomic_rc_box_acquire (relay), progress_relay_unref);
      g_source_attach (source, relay->context);
    }
  g_mutex_unlock (&relay->mutex);
}

static void
progress_relay_finish (ProgressRelay *relay)
{
  GDestroyNotify notify;
  gpointer data;

  progress_relay_deliver (relay);

  g_mutex_lock (&relay->mutex);
  relay->finished = TRUE;
  notify = relay->notify;
  data = relay->data;
  relay->notify = NULL;
  relay->func = NULL;
  g_mutex_unlock (&relay->mutex);

  if (notify != NULL)
    notify (data);
}

typedef struct
{
  char          *url;
  char          *name;
  ProgressRelay *relay;
} FetchData;

static void
fetch_data_free (FetchData *data)
{
  g_free (data->url);
  g_free (data->name);
  g_clear_pointer (&data->relay, progress_relay_unref);
  g_free (data);
}

static void
fetch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  FetchData *data = task_data;
  GError *error = NULL;
  char *path;

  path = fetch_name (data->url, data->name,
                     data->relay->func != NULL ? progress_relay_report : NULL,
                     data->relay, cancellable, &error);
  if (path != NULL)
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, error);
}

/* On the caller's context, once the worker is done: flush the progress, then
 * complete the task the caller sees. */
static void
fetch_thread_done_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *path;

  progress_relay_finish (data->relay);

  path = g_task_propagate_pointer (G_TASK (result), &error);
  if (path != NULL)
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, error);
}

/**
 * tvw_cache_fetch_async:
 * @url: the URL of a file
 * @progress: (scope notified) (nullable) (closure progress_data) (destroy progress_notify): called
 *   on the thread-default main context of the caller as the download
 *   progresses
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main
 *   context, once @progress will not be called again (before @callback)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the file is
 *   ready
 * @user_data: data for @callback
 *
 * Asynchronous version of [func@cache_fetch]: the work is done in a worker
 * thread, @progress and @callback run on the thread-default main context
 * of the thread that calls this function.
 */
void
tvw_cache_fetch_async (const char          *url,
                       TvwProgressFunc      progress,
                       gpointer             progress_data,
                       GDestroyNotify       progress_notify,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  g_autoptr(GError) error = NULL;
  FetchData *data;

  g_return_if_fail (url != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_cache_fetch_async);
  g_task_set_name (task, "[tvw] fetch weights");

  data = g_new0 (FetchData, 1);
  data->url = g_strdup (url);
  data->relay = progress_relay_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, data, (GDestroyNotify) fetch_data_free);

  data->name = tvw_cache_name_from_url (url, &error);
  if (data->name == NULL)
    {
      progress_relay_finish (data->relay);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  worker = g_task_new (NULL, cancellable, fetch_thread_done_cb, g_object_ref (task));
  g_task_set_source_tag (worker, fetch_thread);
  g_task_set_name (worker, "[tvw] fetch weights (worker)");
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, fetch_thread);
}

/**
 * tvw_cache_fetch_finish:
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [func@cache_fetch_async].
 *
 * Returns: (transfer full) (type filename): the local path of the file, or
 *   %NULL on error
 */
char *
tvw_cache_fetch_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_cache_fetch_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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

          switch (check_cached_file (dir, name, hash_prefix, verify, NULL, cancellable, &check_error))
            {
            case CHECK_OK:
              entry->state = TVW_CACHE_STATE_VERIFIED;
              break;
            case CHECK_MISSING:
              entry->state = TVW_CACHE_STATE_UNCHECKED;
              break;
            case CHECK_CORRUPT:
              entry->state = TVW_CACHE_STATE_CORRUPT;
              break;
            case CHECK_FAILED:
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
  get_search_dirs (&tvw_dir, &torch_dir);

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

  if (!is_valid_file_name (name))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not the name of a cached file"), name);
      return FALSE;
    }

  get_search_dirs (&dir, &torch_dir);
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
  forget_verified (path);

  if (lock_fd >= 0)
    lock_release (lock_path, lock_fd);

  return ok;
}
