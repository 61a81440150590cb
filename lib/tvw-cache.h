/* tvw-cache.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tvw-version.h"

G_BEGIN_DECLS

/**
 * TvwProgressFunc:
 * @current: the number of bytes of the file that are on disk so far
 *   (a resumed download starts at the size of the partial file)
 * @total: the size of the whole file, or -1 when the server did not say
 * @user_data: (closure): the data given with the callback
 *
 * Reports the progress of a download.
 *
 * Asynchronous operations call it on the thread-default main context of the
 * thread that started them; synchronous ones call it from the calling
 * thread.  @current never decreases during one download and the last call
 * of a successful download has @current equal to @total.
 */
typedef void (*TvwProgressFunc) (goffset  current,
                                 goffset  total,
                                 gpointer user_data);

/**
 * TvwCacheLocation:
 * @TVW_CACHE_LOCATION_TVW: libtvw's own cache, [func@get_cache_dir]; the
 *   only one downloads go to and files are removed from
 * @TVW_CACHE_LOCATION_TORCH: PyTorch's hub cache,
 *   [func@cache_get_torch_dir]; read, never modified
 *
 * The cache directory a file is in.
 */
typedef enum
{
  TVW_CACHE_LOCATION_TVW,
  TVW_CACHE_LOCATION_TORCH,
} TvwCacheLocation;

/**
 * TvwCacheState:
 * @TVW_CACHE_STATE_VERIFIED: the file's SHA-256 starts with the hash prefix
 *   in its name, and the file has not changed since it was checked
 * @TVW_CACHE_STATE_UNCHECKED: the name has a hash prefix, but the file has
 *   not been checked yet (or has changed since); it is checked on first use
 * @TVW_CACHE_STATE_NO_HASH: the name has no hash prefix to check the file
 *   against
 * @TVW_CACHE_STATE_CORRUPT: the file was checked, and its hash does not
 *   match its name
 * @TVW_CACHE_STATE_PARTIAL: only an interrupted download, which the next
 *   download of the file resumes
 * @TVW_CACHE_STATE_MISSING: the file is in no cache
 *
 * How far a cached file can be trusted.
 */
typedef enum
{
  TVW_CACHE_STATE_VERIFIED,
  TVW_CACHE_STATE_UNCHECKED,
  TVW_CACHE_STATE_NO_HASH,
  TVW_CACHE_STATE_CORRUPT,
  TVW_CACHE_STATE_PARTIAL,
  TVW_CACHE_STATE_MISSING,
} TvwCacheState;

#define TVW_TYPE_CACHE_ENTRY (tvw_cache_entry_get_type ())

typedef struct _TvwCacheEntry TvwCacheEntry;

TVW_AVAILABLE_IN_ALL
GType             tvw_cache_entry_get_type     (void) G_GNUC_CONST;
TVW_AVAILABLE_IN_ALL
TvwCacheEntry    *tvw_cache_entry_copy         (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
void              tvw_cache_entry_free         (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
const char       *tvw_cache_entry_get_name     (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
const char       *tvw_cache_entry_get_path     (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
goffset           tvw_cache_entry_get_size     (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
TvwCacheLocation  tvw_cache_entry_get_location (TvwCacheEntry  *self);
TVW_AVAILABLE_IN_ALL
TvwCacheState     tvw_cache_entry_get_state    (TvwCacheEntry  *self);

TVW_AVAILABLE_IN_ALL
void              tvw_set_offline              (gboolean        offline);
TVW_AVAILABLE_IN_ALL
gboolean          tvw_get_offline              (void);

TVW_AVAILABLE_IN_ALL
char             *tvw_get_cache_dir            (void);
TVW_AVAILABLE_IN_ALL
char             *tvw_cache_get_torch_dir      (void);
TVW_AVAILABLE_IN_ALL
char             *tvw_cache_name_from_url      (const char           *url,
                                                GError              **error);

TVW_AVAILABLE_IN_ALL
TvwCacheState     tvw_cache_query              (const char           *url,
                                                char                **out_path);

TVW_AVAILABLE_IN_ALL
char             *tvw_cache_fetch              (const char           *url,
                                                TvwProgressFunc       progress,
                                                gpointer              progress_data,
                                                GCancellable         *cancellable,
                                                GError              **error);
TVW_AVAILABLE_IN_ALL
void              tvw_cache_fetch_async        (const char           *url,
                                                TvwProgressFunc       progress,
                                                gpointer              progress_data,
                                                GDestroyNotify        progress_notify,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
TVW_AVAILABLE_IN_ALL
char             *tvw_cache_fetch_finish       (GAsyncResult         *result,
                                                GError              **error);

TVW_AVAILABLE_IN_ALL
GPtrArray        *tvw_cache_list               (gboolean              verify,
                                                GCancellable         *cancellable,
                                                GError              **error);
TVW_AVAILABLE_IN_ALL
gboolean          tvw_cache_remove             (const char           *name,
                                                GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwCacheEntry, tvw_cache_entry_free)

G_END_DECLS
