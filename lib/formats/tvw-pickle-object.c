/* tvw-pickle-object.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The restricted unpickler's objects: every object belongs to its TvwPickle
 * (freed with it), strings are interned GRefStrings with their SipHash, and
 * dicts keep Python's insertion order with a sorted index once they grow.
 * Counts and nesting are bounded here (PK_MAX_*) so that a hostile pickle
 * cannot grow without limit.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-hash-private.h"
#include "tvw-pickle-object-private.h"

void
tvw_pk_obj_free (gpointer data)
{
  TvwPkObj *obj = data;

  switch (obj->type)
    {
    case TVW_PK_BIGINT:
    case TVW_PK_STR:
    case TVW_PK_BYTES:
      g_ref_string_release (obj->v.str.data);
      break;
    case TVW_PK_TUPLE:
    case TVW_PK_LIST:
    case TVW_PK_SET:
      g_free (obj->v.seq.items);
      break;
    case TVW_PK_DICT:
      g_free (obj->v.dict.keys);
      g_free (obj->v.dict.values);
      g_clear_pointer (&obj->v.dict.index, g_tree_destroy);
      break;
    case TVW_PK_STORAGE:
      g_free (obj->v.storage->key);
      g_free (obj->v.storage);
      break;
    case TVW_PK_TENSOR:
      g_free (obj->v.tensor);
      break;
    case TVW_PK_NONE:
    case TVW_PK_BOOL:
    case TVW_PK_INT:
    case TVW_PK_FLOAT:
    case TVW_PK_GLOBAL:
    default:
      break;
    }
  g_free (obj);
}

TvwPkObj *
tvw_pk_new (TvwPickle  *self,
            TvwPkType   type,
            GError    **error)
{
  TvwPkObj *obj;

  if (self->objects->len >= PK_MAX_OBJECTS)
    {
      tvw_pickle_set_error (self, error, "more than %u objects", PK_MAX_OBJECTS);
      return NULL;
    }
  obj = g_new0 (TvwPkObj, 1);
  obj->type = type;
  g_ptr_array_add (self->objects, obj);
  return obj;
}


const char *
tvw_pk_type_name (TvwPkObj *obj)
{
  static const char * const names[] = {
    "None", "bool", "int", "int", "float", "str", "bytes", "tuple", "list",
    "set", "dict", "global", "storage", "tensor",
  };

  if (obj == NULL || obj->type >= G_N_ELEMENTS (names))
    return "object";
  if (obj->type == TVW_PK_GLOBAL)
    return obj->v.global.name;
  return names[obj->type];
}

gboolean
tvw_pk_is_str (TvwPkObj   *obj,
               const char *value)
{
  return obj != NULL && obj->type == TVW_PK_STR &&
         obj->v.str.len == strlen (value) &&
         memcmp (obj->v.str.data, value, obj->v.str.len) == 0;
}

/* Strings and bytes. */

TvwPkObj *
tvw_pk_new_blob (TvwPickle     *self,
                 TvwPkType      type,
                 const guint8  *data,
                 gsize          len,
                 GError       **error)
{
  TvwPkObj *obj = tvw_pk_new (self, type, error);

  if (obj == NULL)
    return NULL;
  obj->v.str.data = g_ref_string_new_len (len > 0 ? (const char *) data : "", len);
  obj->v.str.len = len;
  obj->v.str.hash = tvw_hash_bytes (data, len);
  return obj;
}

/* A Python str: must be valid UTF-8 without NUL so that it can name things
 * in messages and be used as a C string. */
TvwPkObj *
tvw_pk_new_str (TvwPickle     *self,
                const guint8  *data,
                gsize          len,
                GError       **error)
{
  if (!g_utf8_validate ((const char *) data, len, NULL))
    {
      tvw_pickle_set_error (self, error, "string is not valid UTF-8 or contains NUL");
      return NULL;
    }
  return tvw_pk_new_blob (self, TVW_PK_STR, data, len, error);
}

/* Python 2 str (STRING, BINSTRING, SHORT_BINSTRING): a str when it decodes,
 * bytes otherwise. */
TvwPkObj *
tvw_pk_new_str_or_bytes (TvwPickle     *self,
                         const guint8  *data,
                         gsize          len,
                         GError       **error)
{
  if (g_utf8_validate ((const char *) data, len, NULL))
    return tvw_pk_new_blob (self, TVW_PK_STR, data, len, error);
  return tvw_pk_new_blob (self, TVW_PK_BYTES, data, len, error);
}

TvwPkObj *
tvw_pk_new_int (TvwPickle  *self,
                gint64      value,
                GError    **error)
{
  TvwPkObj *obj = tvw_pk_new (self, TVW_PK_INT, error);

  if (obj != NULL)
    obj->v.i = value;
  return obj;
}

/* LONG1 / LONG4: little-endian two's complement of any length. */
TvwPkObj *
tvw_pk_new_long (TvwPickle     *self,
                 const guint8  *p,
                 gsize          n,
                 GError       **error)
{
  guint64 value = 0;
  gboolean negative;
  gsize i;

  if (n == 0)
    return tvw_pk_new_int (self, 0, error);

  negative = (p[n - 1] & 0x80) != 0;

  /* Bytes past the eighth must be pure sign extension to fit in gint64. */
  for (i = 8; i < n; i++)
    if (p[i] != (negative ? 0xff : 0x00))
      return tvw_pk_new_blob (self, TVW_PK_BIGINT, p, n, error);
  if (n > 8 && ((p[7] & 0x80) != 0) != negative)
    return tvw_pk_new_blob (self, TVW_PK_BIGINT, p, n, error);

  for (i = 0; i < MIN (n, 8); i++)
    value |= (guint64) p[i] << (8 * i);
  if (negative && n < 8)
    value |= G_MAXUINT64 << (8 * n);
  return tvw_pk_new_int (self, (gint64) value, error);
}

/* The body of a protocol 0 STRING: a Python repr with its quotes. */
TvwPkObj *
tvw_pk_new_escaped_string (TvwPickle     *self,
                           const guint8  *p,
                           gsize          len,
                           GError       **error)
{
  g_autoptr(GByteArray) out = NULL;
  gsize i;

  if (len < 2 || (p[0] != '\'' && p[0] != '"') || p[len - 1] != p[0])
    {
      tvw_pickle_set_error (self, error, "STRING opcode argument is not quoted");
      return NULL;
    }
  p++;
  len -= 2;
  out = g_byte_array_sized_new (len);
  for (i = 0; i < len; i++)
    {
      guint8 c = p[i];

      if (c != '\\' || i + 1 == len)
        {
          g_byte_array_append (out, &c, 1);
          continue;
        }
      c = p[++i];
      switch (c)
        {
        case '\\': case '\'': case '"':
          break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'a': c = '\a'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'v': c = '\v'; break;
        case '\n':
          continue;
        case 'x':
          if (i + 2 < len && g_ascii_isxdigit (p[i + 1]) &&
              g_ascii_isxdigit (p[i + 2]))
            {
              c = (guint8) (g_ascii_xdigit_value (p[i + 1]) * 16 +
                            g_ascii_xdigit_value (p[i + 2]));
              i += 2;
              break;
            }
          tvw_pickle_set_error (self, error, "invalid \\x escape in STRING");
          return NULL;
        default:
          if (c >= '0' && c <= '7')
            {
              guint v = c - '0';
              guint k;

              for (k = 0; k < 2 && i + 1 < len && p[i + 1] >= '0' && p[i + 1] <= '7'; k++)
                v = v * 8 + (p[++i] - '0');
              c = (guint8) v;
              break;
            }
          /* Unknown escapes keep their backslash, as in Python. */
          g_byte_array_append (out, (const guint8 *) "\\", 1);
          break;
        }
      g_byte_array_append (out, &c, 1);
    }
  return tvw_pk_new_str_or_bytes (self, out->data, out->len, error);
}

/* The body of a protocol 0 UNICODE: raw-unicode-escape. */
TvwPkObj *
tvw_pk_new_raw_unicode (TvwPickle     *self,
                        const guint8  *p,
                        gsize          len,
                        GError       **error)
{
  g_autoptr(GString) out = g_string_sized_new (len);
  gsize i = 0;

  while (i < len)
    {
      gunichar ch = p[i];

      if (p[i] == '\\' && i + 1 < len && (p[i + 1] == 'u' || p[i + 1] == 'U'))
        {
          gsize digits = p[i + 1] == 'u' ? 4 : 8;
          gsize k;

          if (len - i - 2 < digits)
            {
              tvw_pickle_set_error (self, error, "truncated \\u escape in UNICODE");
              return NULL;
            }
          ch = 0;
          for (k = 0; k < digits; k++)
            {
              if (!g_ascii_isxdigit (p[i + 2 + k]))
                {
                  tvw_pickle_set_error (self, error, "invalid \\u escape in UNICODE");
                  return NULL;
                }
              ch = ch * 16 + g_ascii_xdigit_value (p[i + 2 + k]);
            }
          i += 2 + digits;
        }
      else
        i++;

      if (ch == 0 || !g_unichar_validate (ch))
        {
          tvw_pickle_set_error (self, error, "invalid character in UNICODE");
          return NULL;
        }
      g_string_append_unichar (out, ch);
    }
  return tvw_pk_new_str (self, (const guint8 *) out->str, out->len, error);
}

/* Containers. */

static gboolean
pk_note_child (TvwPickle  *self,
               TvwPkObj   *parent,
               TvwPkObj   *child,
               GError    **error)
{
  if (child->depth + 1 > parent->depth)
    parent->depth = child->depth + 1;
  if (parent->depth > PK_MAX_DEPTH)
    {
      tvw_pickle_set_error (self, error, "objects nested more than %d levels deep",
                            PK_MAX_DEPTH);
      return FALSE;
    }
  if (self->n_items >= PK_MAX_ITEMS)
    {
      tvw_pickle_set_error (self, error, "more than %u container items", PK_MAX_ITEMS);
      return FALSE;
    }
  self->n_items++;
  return TRUE;
}

gboolean
tvw_pk_seq_append (TvwPickle  *self,
                   TvwPkObj   *seq,
                   TvwPkObj   *item,
                   GError    **error)
{
  if (!pk_note_child (self, seq, item, error))
    return FALSE;
  if (seq->v.seq.n == seq->v.seq.alloc)
    {
      seq->v.seq.alloc = MAX (4, seq->v.seq.alloc * 2);
      seq->v.seq.items = g_renew (TvwPkObj *, seq->v.seq.items, seq->v.seq.alloc);
    }
  seq->v.seq.items[seq->v.seq.n++] = item;
  return TRUE;
}

TvwPkObj *
tvw_pk_new_seq (TvwPickle  *self,
                TvwPkType   type,
                TvwPkObj  **items,
                guint       n,
                GError    **error)
{
  TvwPkObj *obj = tvw_pk_new (self, type, error);
  guint i;

  if (obj == NULL)
    return NULL;
  if (n > 0)
    {
      obj->v.seq.items = g_new (TvwPkObj *, n);
      obj->v.seq.alloc = n;
    }
  for (i = 0; i < n; i++)
    if (!tvw_pk_seq_append (self, obj, items[i], error))
      return NULL;
  return obj;
}

static gboolean
pk_is_scalar (TvwPkObj *obj)
{
  switch (obj->type)
    {
    case TVW_PK_NONE:
    case TVW_PK_BOOL:
    case TVW_PK_INT:
    case TVW_PK_BIGINT:
    case TVW_PK_FLOAT:
    case TVW_PK_STR:
    case TVW_PK_BYTES:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Dict keys are scalars or tuples of scalars, so hashing and comparing them
 * never recurses more than one level. */
static gboolean
pk_is_hashable (TvwPkObj *obj)
{
  guint i;

  if (pk_is_scalar (obj))
    return TRUE;
  if (obj->type != TVW_PK_TUPLE)
    return FALSE;
  for (i = 0; i < obj->v.seq.n; i++)
    if (!pk_is_scalar (obj->v.seq.items[i]))
      return FALSE;
  return TRUE;
}

static gboolean
pk_as_integer (TvwPkObj *obj,
               gint64   *out)
{
  switch (obj->type)
    {
    case TVW_PK_BOOL:
      *out = obj->v.b ? 1 : 0;
      return TRUE;
    case TVW_PK_INT:
      *out = obj->v.i;
      return TRUE;
    case TVW_PK_FLOAT:
      if (isfinite (obj->v.f) && obj->v.f == floor (obj->v.f) &&
          fabs (obj->v.f) < 9.2e18)
        {
          *out = (gint64) obj->v.f;
          return TRUE;
        }
      return FALSE;
    default:
      return FALSE;
    }
}

/* A total order on hashable keys that agrees with Python's equality for
 * the cases that matter (1 == 1.0 == True), so that a dict's index can be a
 * balanced tree: no key set, however crafted, makes it slower than
 * O(log n) comparisons per insertion (a hash table could be flooded).
 * Strings are ordered by length, then by their seeded hash, then by their
 * bytes, so that only equal strings are compared byte by byte (different
 * ones with a common prefix of megabytes are not); equal ones then share
 * their bytes, so that the same key set again and again is compared in
 * full once. */
static gint
pk_key_rank (TvwPkObj *obj,
             gint64   *as_int)
{
  if (pk_as_integer (obj, as_int))
    return 0;
  switch (obj->type)
    {
    case TVW_PK_FLOAT: return 1;
    case TVW_PK_BIGINT: return 2;
    case TVW_PK_NONE: return 3;
    case TVW_PK_STR: return 4;
    case TVW_PK_BYTES: return 5;
    case TVW_PK_TUPLE: return 6;
    default: return 7;
    }
}

static gint
pk_scalar_compare (TvwPkObj *a,
                   TvwPkObj *b)
{
  gint64 ia = 0, ib = 0;
  gint ra = pk_key_rank (a, &ia);
  gint rb = pk_key_rank (b, &ib);

  if (ra != rb)
    return ra < rb ? -1 : 1;
  switch (ra)
    {
    case 0:
      return ia < ib ? -1 : ia > ib;
    case 1:
      if (a->v.f < b->v.f)
        return -1;
      if (a->v.f > b->v.f)
        return 1;
      /* Equal values, or NaNs: order by bits to stay total. */
      return memcmp (&a->v.f, &b->v.f, sizeof (double));
    case 2:
    case 4:
    case 5:
      {
        gint c;

        if (a->v.str.len != b->v.str.len)
          return a->v.str.len < b->v.str.len ? -1 : 1;
        if (a->v.str.hash != b->v.str.hash)
          return a->v.str.hash < b->v.str.hash ? -1 : 1;
        if (a->v.str.data == b->v.str.data)
          return 0;
        c = memcmp (a->v.str.data, b->v.str.data, a->v.str.len);
        if (c == 0)
          {
            g_ref_string_release (b->v.str.data);
            b->v.str.data = g_ref_string_acquire (a->v.str.data);
          }
        return c;
      }
    default:
      return 0;
    }
}

static gint
pk_key_compare (gconstpointer pa,
                gconstpointer pb,
                gpointer      user_data)
{
  TvwPkObj *a = (TvwPkObj *) pa;
  TvwPkObj *b = (TvwPkObj *) pb;
  guint i;

  /* The same key again (a memo reference): nothing to compare. */
  if (a == b)
    return 0;
  if (a->type != TVW_PK_TUPLE || b->type != TVW_PK_TUPLE)
    return pk_scalar_compare (a, b);
  if (a->v.seq.n != b->v.seq.n)
    return a->v.seq.n < b->v.seq.n ? -1 : 1;
  for (i = 0; i < a->v.seq.n; i++)
    {
      gint c = pk_scalar_compare (a->v.seq.items[i], b->v.seq.items[i]);

      if (c != 0)
        return c;
    }
  return 0;
}

static gint
pk_dict_find (TvwPkObj *dict,
              TvwPkObj *key)
{
  guint i;

  if (dict->v.dict.index != NULL)
    return GPOINTER_TO_INT (g_tree_lookup (dict->v.dict.index, key)) - 1;
  for (i = 0; i < dict->v.dict.n; i++)
    if (pk_key_compare (dict->v.dict.keys[i], key, NULL) == 0)
      return (gint) i;
  return -1;
}

gboolean
tvw_pk_dict_set (TvwPickle  *self,
                 TvwPkObj   *dict,
                 TvwPkObj   *key,
                 TvwPkObj   *value,
                 GError    **error)
{
  gint pos;

  if (!pk_is_hashable (key))
    {
      tvw_pickle_set_error (self, error, "a %s cannot be a dict key",
                            tvw_pk_type_name (key));
      return FALSE;
    }
  /* Each comparison of tuple keys walks their items. */
  if (key->type == TVW_PK_TUPLE && key->v.seq.n > PK_MAX_KEY_ITEMS)
    {
      tvw_pickle_set_error (self, error, "a tuple of %u items as a dict key (at most %u)",
                            key->v.seq.n, PK_MAX_KEY_ITEMS);
      return FALSE;
    }
  if (!pk_note_child (self, dict, key, error) ||
      !pk_note_child (self, dict, value, error))
    return FALSE;

  pos = pk_dict_find (dict, key);
  if (pos >= 0)
    {
      /* Like Python: the value is replaced, the key keeps its place. */
      dict->v.dict.values[pos] = value;
      return TRUE;
    }

  if (dict->v.dict.n == dict->v.dict.alloc)
    {
      dict->v.dict.alloc = MAX (8, dict->v.dict.alloc * 2);
      dict->v.dict.keys = g_renew (TvwPkObj *, dict->v.dict.keys, dict->v.dict.alloc);
      dict->v.dict.values = g_renew (TvwPkObj *, dict->v.dict.values, dict->v.dict.alloc);
    }
  dict->v.dict.keys[dict->v.dict.n] = key;
  dict->v.dict.values[dict->v.dict.n] = value;
  dict->v.dict.n++;

  if (dict->v.dict.index != NULL)
    g_tree_insert (dict->v.dict.index, key, GINT_TO_POINTER (dict->v.dict.n));
  else if (dict->v.dict.n >= PK_DICT_INDEX_THRESHOLD)
    {
      guint i;

      dict->v.dict.index = g_tree_new_full (pk_key_compare, NULL, NULL, NULL);
      for (i = 0; i < dict->v.dict.n; i++)
        g_tree_insert (dict->v.dict.index, dict->v.dict.keys[i], GINT_TO_POINTER (i + 1));
    }
  return TRUE;
}

TvwPkObj *
tvw_pk_dict_get_str (TvwPkObj   *dict,
                     const char *key)
{
  TvwPkObj probe = { 0, };
  gint pos;

  g_return_val_if_fail (dict != NULL && dict->type == TVW_PK_DICT, NULL);

  probe.type = TVW_PK_STR;
  probe.v.str.len = strlen (key);
  probe.v.str.data = g_ref_string_new_len (key, probe.v.str.len);
  probe.v.str.hash = tvw_hash_bytes (key, probe.v.str.len);
  pos = pk_dict_find (dict, &probe);
  g_ref_string_release (probe.v.str.data);
  return pos >= 0 ? dict->v.dict.values[pos] : NULL;
}

/* The stack.  Like CPython, MARK starts a new frame: opcodes can only pop
 * what was pushed after the most recent mark. */
