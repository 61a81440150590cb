/* tvw-hash.c — a seeded hash for names that come from files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "tvw-hash-private.h"

static guint64 hash_key[2];

static gpointer
init_key (gpointer data)
{
  (void) data;
  /* g_random_int() is seeded from /dev/urandom: unknown to whoever wrote
   * the file. */
  for (guint i = 0; i < 2; i++)
    hash_key[i] = ((guint64) g_random_int () << 32) | g_random_int ();
  return NULL;
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                              \
  G_STMT_START {                                              \
    v0 += v1; v1 = ROTL (v1, 13); v1 ^= v0; v0 = ROTL (v0, 32); \
    v2 += v3; v3 = ROTL (v3, 16); v3 ^= v2;                   \
    v0 += v3; v3 = ROTL (v3, 21); v3 ^= v0;                   \
    v2 += v1; v1 = ROTL (v1, 17); v1 ^= v2; v2 = ROTL (v2, 32); \
  } G_STMT_END

static inline guint64
load_le64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

guint64
tvw_hash_bytes (const void *data,
                gsize       length)
{
  static GOnce once = G_ONCE_INIT;
  /* An empty run may come as NULL: no arithmetic on a null pointer. */
  const guint8 *p = data != NULL ? data : (const guint8 *) "";
  const guint8 *end = p + (length & ~(gsize) 7);
  guint64 v0, v1, v2, v3, m, b = (guint64) length << 56;

  g_once (&once, init_key, NULL);
  v0 = hash_key[0] ^ G_GUINT64_CONSTANT (0x736f6d6570736575);
  v1 = hash_key[1] ^ G_GUINT64_CONSTANT (0x646f72616e646f6d);
  v2 = hash_key[0] ^ G_GUINT64_CONSTANT (0x6c7967656e657261);
  v3 = hash_key[1] ^ G_GUINT64_CONSTANT (0x7465646279746573);

  for (; p != end; p += 8)
    {
      m = load_le64 (p);
      v3 ^= m;
      SIPROUND;
      v0 ^= m;
    }
  for (guint i = 0; i < (length & 7); i++)
    b |= (guint64) p[i] << (8 * i);
  v3 ^= b;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

guint
tvw_str_hash (gconstpointer string)
{
  guint64 h = tvw_hash_bytes (string, strlen (string));

  return (guint) (h ^ (h >> 32));
}

GHashTable *
tvw_str_table_new (GDestroyNotify key_destroy,
                   GDestroyNotify value_destroy)
{
  return g_hash_table_new_full (tvw_str_hash, g_str_equal, key_destroy, value_destroy);
}
