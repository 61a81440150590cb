/* tvw-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The checkpoint cache: where downloaded weights live, how a file named
 * after its hash (torchvision's "name-<sha256 prefix>.pth") is found and
 * verified, and how a missing one is downloaded.
 *
 * Two directories are searched, in this order:
 *   1. libtvw's own: $TVW_CACHE_DIR, else $XDG_CACHE_HOME/tvw/checkpoints;
 *   2. PyTorch's hub cache: $TORCH_HOME/hub/checkpoints, else
 *      $XDG_CACHE_HOME/torch/hub/checkpoints (read, never written).
 * Downloads always go to the first one.  The environment is read on every
 * call, so tests can point each case at its own directories.
 */

#pragma once

#include <gio/gio.h>

#include "tvw-cache.h"

G_BEGIN_DECLS

/* These are exported from the shared library, but are in no public header
 * and not in the GIR: the tvw command line uses them for `tvw download URL`
 * and `tvw cache`. */
#define TVW_PRIVATE_API _TVW_EXTERN

typedef enum
{
  TVW_CACHE_LOCATION_TVW,
  TVW_CACHE_LOCATION_TORCH,
} TvwCacheLocation;

typedef enum
{
  TVW_CACHE_STATE_VERIFIED,   /* hash prefix checked, file unchanged since */
  TVW_CACHE_STATE_UNCHECKED,  /* the name has a hash prefix, not checked yet */
  TVW_CACHE_STATE_NO_HASH,    /* the name has no hash prefix to check */
  TVW_CACHE_STATE_CORRUPT,    /* checked, and the hash does not match */
  TVW_CACHE_STATE_PARTIAL,    /* an interrupted download that can resume */
  TVW_CACHE_STATE_MISSING,    /* in no cache */
} TvwCacheState;

typedef struct
{
  char             *name;      /* final file name, also for a partial */
  char             *path;
  goffset           size;
  TvwCacheLocation  location;
  TvwCacheState     state;
} TvwCacheEntry;

TVW_PRIVATE_API
void        tvw_cache_entry_free      (TvwCacheEntry  *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwCacheEntry, tvw_cache_entry_free)

/* Directories and names. */
TVW_PRIVATE_API
char       *tvw_cache_get_torch_dir   (void);
TVW_PRIVATE_API
char       *tvw_cache_name_from_url   (const char     *url,
                                       GError        **error);
TVW_PRIVATE_API
char       *tvw_cache_get_hash_prefix (const char     *name);
TVW_PRIVATE_API
char       *tvw_cache_apply_mirror    (const char     *url);

/* Returns the local path of a valid file for @url, or NULL with
 * TVW_ERROR_NOT_FOUND (in neither cache) or TVW_ERROR_CHECKSUM_MISMATCH
 * (present but corrupt).  A file is hashed once; the result is remembered
 * for as long as its size, mtime and inode do not change. */
TVW_PRIVATE_API
char       *tvw_cache_lookup          (const char           *url,
                                       GCancellable         *cancellable,
                                       GError              **error);

/* Where the file of @url is and how far it can be trusted, without hashing
 * anything (cheap enough to show the state of every catalog entry):
 * VERIFIED, UNCHECKED (it will be hashed on first use), NO_HASH, PARTIAL
 * (only an interrupted download) or MISSING.  @out_path gets the file (the
 * partial file for PARTIAL, NULL for MISSING). */
TVW_PRIVATE_API
TvwCacheState tvw_cache_query         (const char           *url,
                                       char                **out_path);

/* Lookup, else download into libtvw's cache (TVW_ERROR_OFFLINE when
 * offline).  @progress is called from the calling thread. */
TVW_PRIVATE_API
char       *tvw_cache_fetch           (const char           *url,
                                       TvwProgressFunc       progress,
                                       gpointer              progress_data,
                                       GCancellable         *cancellable,
                                       GError              **error);
/* The same in a worker thread; @progress and @callback run on the
 * thread-default main context of the caller, @progress_notify is called
 * there once the operation no longer needs @progress_data. */
TVW_PRIVATE_API
void        tvw_cache_fetch_async     (const char           *url,
                                       TvwProgressFunc       progress,
                                       gpointer              progress_data,
                                       GDestroyNotify        progress_notify,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
TVW_PRIVATE_API
char       *tvw_cache_fetch_finish    (GAsyncResult         *result,
                                       GError              **error);

/* What `tvw cache` shows and removes.  With @verify, unchecked files are
 * hashed now (and the result remembered). */
TVW_PRIVATE_API
GPtrArray  *tvw_cache_list            (gboolean              verify,
                                       GCancellable         *cancellable,
                                       GError              **error);
/* Removes @name (a file name) and its partial download from libtvw's own
 * cache.  PyTorch's cache is never modified. */
TVW_PRIVATE_API
gboolean    tvw_cache_remove          (const char           *name,
                                       GError              **error);

/* Used by tvw-download.c: records that @path (just written) has the sha256
 * @sha256, so the next lookup does not hash it again. */
void        _tvw_cache_remember_verified (const char        *path,
                                          const char        *sha256);

G_END_DECLS
