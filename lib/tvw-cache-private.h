/* tvw-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint cache: where downloaded weights live, how a file named
 * after its hash (torchvision's "name-<sha256 prefix>.pth") is found and
 * verified, and how a missing one is downloaded.  The public part (listing,
 * removing, fetching any URL) is in tvw-cache.h; these are the helpers the
 * rest of the library and the unit tests share.
 *
 * Two directories are searched, in this order:
 *   1. libtvw's own: $TVW_CACHE_DIR, else $XDG_CACHE_HOME/tvw/checkpoints;
 *   2. PyTorch's hub cache: $TORCH_HOME/hub/checkpoints, else
 *      $XDG_CACHE_HOME/torch/hub/checkpoints (read, never written).
 * Downloads always go to the first one.  The environment is read on every
 * call, so tests can point each case at its own directories.
 */

#pragma once

#include <sys/stat.h>

#include <gio/gio.h>

#include "tvw-cache.h"

G_BEGIN_DECLS

/* torch.hub's hash prefix of a file name, or NULL when it has none. */
char       *tvw_cache_get_hash_prefix (const char     *name);
/* @url with its scheme and host replaced by $TVW_MIRROR, if set. */
char       *tvw_cache_apply_mirror    (const char     *url);

/* Returns the local path of a valid file for @url, or NULL with
 * TVW_ERROR_NOT_FOUND (in neither cache) or TVW_ERROR_CHECKSUM_MISMATCH
 * (present but corrupt).  A file is hashed once; the result is remembered
 * for as long as its size, mtime and inode do not change. */
char       *tvw_cache_lookup          (const char     *url,
                                       GCancellable   *cancellable,
                                       GError        **error);

/* Used by tvw-download.c: records that @path (just written) has the sha256
 * @sha256, so the next lookup does not hash it again. */
void        _tvw_cache_remember_verified (const char  *path,
                                          const char  *sha256);

/* Shared by tvw-cache.c (paths, lookups), tvw-cache-verify.c (verification
 * records), tvw-cache-fetch.c (downloads) and tvw-cache-list.c (`tvw cache`). */
typedef enum
{
  TVW_CACHE_CHECK_OK,
  TVW_CACHE_CHECK_MISSING,
  TVW_CACHE_CHECK_CORRUPT,
  TVW_CACHE_CHECK_FAILED,
} TvwCacheCheck;

gboolean       tvw_cache_is_valid_file_name (const char     *name);
void           tvw_cache_get_search_dirs    (char          **tvw_dir,
                                             char          **torch_dir);
char          *tvw_cache_lookup_name        (const char     *url,
                                             const char     *name,
                                             const char     *hash_prefix,
                                             GCancellable   *cancellable,
                                             GError        **error);
char          *tvw_cache_lookup_verified    (const char     *path,
                                             const struct stat *st);
void           tvw_cache_forget_verified    (const char     *path);
TvwCacheCheck  tvw_cache_check_file         (const char     *dir,
                                             const char     *name,
                                             const char     *hash_prefix,
                                             gboolean        may_hash,
                                             char          **out_path,
                                             GCancellable   *cancellable,
                                             GError        **error);
void           tvw_cache_lock_release       (const char     *lock_path,
                                             int             fd);

G_END_DECLS
