/* tvw-json-private.h — bounds on JSON text before json-glib parses it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* json-glib recurses once per nesting level and keeps tens of bytes per
 * value, so text from a file is checked here first: at most @max_depth
 * levels of nesting, at most @max_values values, and nothing but white
 * space after the top-level value.  On failure *@problem says why (a static
 * string). */
gboolean tvw_json_check_bounds (const char   *text,
                                gsize         length,
                                guint         max_depth,
                                gsize         max_values,
                                const char  **problem);

G_END_DECLS
