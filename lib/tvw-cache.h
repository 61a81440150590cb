/* tvw-cache.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <glib.h>

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

TVW_AVAILABLE_IN_ALL
void      tvw_set_offline   (gboolean offline);
TVW_AVAILABLE_IN_ALL
gboolean  tvw_get_offline   (void);

TVW_AVAILABLE_IN_ALL
char     *tvw_get_cache_dir (void);

G_END_DECLS
