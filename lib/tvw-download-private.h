/* tvw-download-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tvw-cache.h"

G_BEGIN_DECLS

/* Downloads @url (after TVW_MIRROR is applied) into @dir/@name, the caller
 * holding @dir/@name.lock.  The body goes to @name.partial (with its resume
 * state in @name.partial.state), is hashed while it streams, checked against
 * @hash_prefix (may be NULL), synced and renamed over @name.  On failure
 * @dir/@name is untouched; the partial file is kept when the download can
 * resume from it (network errors, cancellation) and removed otherwise. */
gboolean _tvw_download_file (const char       *url,
                             const char       *dir,
                             const char       *name,
                             const char       *hash_prefix,
                             TvwProgressFunc   progress,
                             gpointer          progress_data,
                             GCancellable     *cancellable,
                             GError          **error);

G_END_DECLS
