/* tvw-hash-private.h — a seeded hash for names that come from files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SipHash-1-3 under a key drawn at random once per process.  GLib's
 * g_str_hash() is the same for everyone, so a file can hold thousands of
 * names with one hash value and make a hash table quadratic; with a secret
 * key, names that collide cannot be made in advance. */
guint64     tvw_hash_bytes       (const void    *data,
                                  gsize          length);

/* For GHashTable: tvw_str_hash() with g_str_equal(). */
guint       tvw_str_hash         (gconstpointer  string);

/* g_hash_table_new_full (tvw_str_hash, g_str_equal, …). */
GHashTable *tvw_str_table_new    (GDestroyNotify key_destroy,
                                  GDestroyNotify value_destroy);

G_END_DECLS
