/* tvw-json-private.h — strict, bounded JSON before json-glib parses it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a JSON text from a file may hold.  json-glib recurses once per
 * nesting level, keeps tens of bytes per value, keeps an object's members
 * in a hash table under GLib's unseeded g_str_hash() and looks repeated
 * names up in a list: each limit below bounds one of these. */
typedef struct
{
  guint max_depth;          /* levels of arrays and objects */
  gsize max_values;         /* values in the whole text */
  guint max_members;        /* members of one object */
  gsize max_name_length;    /* bytes of a member name */
} TvwJsonLimits;

/* At most this many member names of one object may share a g_str_hash()
 * value (real names almost never share one; made-up ones can all). */
#define TVW_JSON_MAX_SAME_HASH 8
/* Characters of a number: more than any double or int64 needs. */
#define TVW_JSON_MAX_NUMBER_LENGTH 64

/* Checks that @text is strict JSON (RFC 8259): valid UTF-8; no single
 * quotes, comments, bare words or other syntax json-glib's scanner also
 * accepts; no \u0000 or lone surrogates; one value and nothing after it
 * but white space; no member name twice in one object; and inside
 * @limits.  The work is linear in @length (n log n for member names) and
 * the memory at most proportional to it.  On failure *@problem says what
 * is wrong and where (free it). */
gboolean tvw_json_check (const char           *text,
                         gsize                 length,
                         const TvwJsonLimits  *limits,
                         char                **problem);

G_END_DECLS
