/* tvw-download-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tvw-cache.h"

G_BEGIN_DECLS

/* Files of unknown size are refused beyond this: three times torchvision's
 * largest checkpoint (ViT-H/14 and RegNetY-128GF, 2.6 GB). */
#define TVW_DOWNLOAD_MAX_SIZE (G_GINT64_CONSTANT (8) << 30)
/* A download that gets fewer than TVW_DOWNLOAD_STALL_BYTES in
 * TVW_DOWNLOAD_STALL_SECONDS, or nothing at all for that long, stalled. */
#define TVW_DOWNLOAD_STALL_SECONDS 30
#define TVW_DOWNLOAD_STALL_BYTES   (16 * 1024)

/* Downloads @url (after TVW_MIRROR is applied) into @dir/@name, the caller
 * holding @dir/@name.lock.  @url must be http, https or file (cards
 * only give http and https URLs; TVW_MIRROR may point at a file://
 * directory), and a file:// URL must name a regular file.  The body goes to @name.partial (with its
 * resume state in @name.partial.state), is hashed while it streams, checked
 * against @hash_prefix and @sha256 (the full hash a weights card gives;
 * either may be NULL), synced and renamed over @name.  More than @max_size
 * bytes, or a stall, is an error.  On failure @dir/@name is untouched, no
 * disk space stays reserved past what was written, and the partial file is
 * kept when the download can resume from it (network errors, cancellation)
 * and removed otherwise. */
gboolean _tvw_download_file (const char       *url,
                             const char       *dir,
                             const char       *name,
                             const char       *hash_prefix,
                             const char       *sha256,
                             goffset           max_size,
                             TvwProgressFunc   progress,
                             gpointer          progress_data,
                             GCancellable     *cancellable,
                             GError          **error);

/* For tests: the stall time, in seconds (0 restores the default). */
void     _tvw_download_set_stall_seconds (guint seconds);

G_END_DECLS
