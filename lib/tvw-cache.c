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

gboolean
tvw_cache_is_valid_file_name (const char *name)
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

  if (!tvw_cache_is_valid_file_name (base))
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


/* The directories to search, libtvw's first; PyTorch's is left out when both
 * are the same directory. */
void
tvw_cache_get_search_dirs (char **tvw_dir,
                           char **torch_dir)
{
  *tvw_dir = tvw_get_cache_dir ();
  *torch_dir = tvw_cache_get_torch_dir ();

  if (g_strcmp0 (*tvw_dir, *torch_dir) == 0)
    g_clear_pointer (torch_dir, g_free);
}

char *
tvw_cache_lookup_name (const char    *url,
                       const char    *name,
                       const char    *hash_prefix,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autofree char *tvw_dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autoptr(GError) corrupt_error = NULL;
  const char *dirs[2];

  tvw_cache_get_search_dirs (&tvw_dir, &torch_dir);
  dirs[0] = tvw_dir;
  dirs[1] = torch_dir;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GError) local_error = NULL;
      char *path = NULL;

      if (dirs[i] == NULL)
        continue;

      switch (tvw_cache_check_file (dirs[i], name, hash_prefix, TRUE, &path, cancellable, &local_error))
        {
        case TVW_CACHE_CHECK_OK:
          return path;

        case TVW_CACHE_CHECK_MISSING:
          break;

        case TVW_CACHE_CHECK_CORRUPT:
          /* A valid copy in the other cache is still good to use. */
          if (corrupt_error == NULL)
            corrupt_error = g_steal_pointer (&local_error);
          break;

        case TVW_CACHE_CHECK_FAILED:
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
  return tvw_cache_lookup_name (url, name, hash_prefix, cancellable, error);
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
  tvw_cache_get_search_dirs (&tvw_dir, &torch_dir);
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
      else if ((sha256 = tvw_cache_lookup_verified (path, &st)) != NULL && g_str_has_prefix (sha256, hash_prefix))
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
