/* tvw-json.c — strict, bounded JSON before json-glib parses it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib 1.6 reads more than JSON: its scanner also takes single-quoted
 * strings, comments and bare words.  A checker that only knows JSON can be
 * fooled by them (a "'\"'" looks like the start of a string to it), so this
 * is a full RFC 8259 validator: whatever it accepts, json-glib reads as the
 * same JSON, and anything else is refused before json-glib sees it.  It
 * never recurses (nesting is a counter and a small stack of open objects).
 */

#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-hash-private.h"
#include "tvw-json-private.h"

/* A member name of an open object. */
typedef struct
{
  guint32 str_hash;   /* g_str_hash() of the name, as json-glib computes it */
  guint64 key;        /* tvw_hash_bytes() of the name */
  gsize   offset;     /* in the object's names */
  gsize   length;
} Name;

typedef struct
{
  gboolean  is_object;
  GArray   *names;    /* Name */
  GString  *bytes;    /* the unescaped names, one after another */
} Frame;

typedef struct
{
  const guchar        *start;
  const guchar        *p;
  const guchar        *end;
  const TvwJsonLimits *limits;
  char                *problem;
  gsize                values;
  GArray              *frames;  /* Frame, one per open array or object */
  guint                depth;
} Parser;

static gboolean G_GNUC_PRINTF (2, 3)
refuse (Parser     *ps,
        const char *format,
        ...)
{
  va_list args;

  va_start (args, format);
  ps->problem = g_strdup_vprintf (format, args);
  va_end (args);
  return FALSE;
}

/* Something at the current position is not JSON. */
static gboolean
unexpected (Parser *ps)
{
  gsize at = ps->p - ps->start;

  if (ps->p >= ps->end)
    return refuse (ps, "not valid JSON: the text ends at byte %" G_GSIZE_FORMAT
                   " in the middle of a value", at);
  switch (*ps->p)
    {
    case '\'':
      return refuse (ps, "not valid JSON: a single quote at byte %" G_GSIZE_FORMAT
                     " (JSON strings take double quotes)", at);
    case '/':
    case '#':
      return refuse (ps, "not valid JSON: a comment at byte %" G_GSIZE_FORMAT
                     " (JSON has none)", at);
    default:
      if (*ps->p >= 0x20 && *ps->p < 0x7f)
        return refuse (ps, "not valid JSON: unexpected '%c' at byte %" G_GSIZE_FORMAT,
                       *ps->p, at);
      return refuse (ps, "not valid JSON: unexpected byte 0x%02x at byte %" G_GSIZE_FORMAT,
                     *ps->p, at);
    }
}

static void
skip_space (Parser *ps)
{
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int
hex_digit (guchar c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits after "\u". */
static gboolean
read_u_escape (Parser   *ps,
               gunichar *out)
{
  gunichar v = 0;

  if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
    return FALSE;
  for (guint i = 2; i < 6; i++)
    {
      int d = hex_digit (ps->p[i]);

      if (d < 0)
        return FALSE;
      v = v * 16 + d;
    }
  ps->p += 6;
  *out = v;
  return TRUE;
}

/* A string at ps->p (the opening quote).  Its unescaped bytes are appended
 * to @out when that is not NULL, up to @max_length of them. */
static gboolean
read_string (Parser  *ps,
             GString *out,
             gsize    max_length)
{
  gsize out_start = out != NULL ? out->len : 0;

  ps->p++;
  for (;;)
    {
      const guchar *run = ps->p;

      /* Plain characters (UTF-8 was validated already). */
      while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && *ps->p >= 0x20)
        ps->p++;
      if (out != NULL)
        {
          if (out->len - out_start + (ps->p - run) > max_length)
            return refuse (ps, "a JSON member name at byte %" G_GSIZE_FORMAT
                           " is longer than %" G_GSIZE_FORMAT " bytes",
                           (gsize) (run - ps->start), max_length);
          g_string_append_len (out, (const char *) run, ps->p - run);
        }
      if (ps->p >= ps->end)
        return refuse (ps, "not valid JSON: a string is not closed");
      if (*ps->p == '"')
        {
          ps->p++;
          return TRUE;
        }
      if (*ps->p < 0x20)
        return refuse (ps, "not valid JSON: a control character in a string at byte %"
                       G_GSIZE_FORMAT, (gsize) (ps->p - ps->start));

      /* An escape. */
      {
        const guchar *at = ps->p;
        char utf8[8];
        gunichar c;
        int n;

        if (ps->end - ps->p < 2)
          return refuse (ps, "not valid JSON: a string is not closed");
        switch (ps->p[1])
          {
          case '"': c = '"'; break;
          case '\\': c = '\\'; break;
          case '/': c = '/'; break;
          case 'b': c = '\b'; break;
          case 'f': c = '\f'; break;
          case 'n': c = '\n'; break;
          case 'r': c = '\r'; break;
          case 't': c = '\t'; break;
          case 'u':
            if (!read_u_escape (ps, &c))
              return refuse (ps, "not valid JSON: bad \\u escape at byte %" G_GSIZE_FORMAT,
                             (gsize) (at - ps->start));
            if (c >= 0xd800 && c < 0xdc00)
              {
                gunichar low;

                if (!read_u_escape (ps, &low) || low < 0xdc00 || low >= 0xe000)
                  return refuse (ps, "not valid JSON: a lone surrogate \\u%04X at byte %"
                                 G_GSIZE_FORMAT, c, (gsize) (at - ps->start));
                c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
              }
            else if (c >= 0xdc00 && c < 0xe000)
              return refuse (ps, "not valid JSON: a lone surrogate \\u%04X at byte %"
                             G_GSIZE_FORMAT, c, (gsize) (at - ps->start));
            else if (c == 0)
              return refuse (ps, "a JSON string holds \\u0000 at byte %" G_GSIZE_FORMAT,
                             (gsize) (at - ps->start));
            ps->p -= 2;   /* the common step below */
            break;
          default:
            return refuse (ps, "not valid JSON: bad escape at byte %" G_GSIZE_FORMAT,
                           (gsize) (at - ps->start));
          }
        ps->p += 2;
        if (out != NULL)
          {
            n = g_unichar_to_utf8 (c, utf8);
            if (out->len - out_start + n > max_length)
              return refuse (ps, "a JSON member name at byte %" G_GSIZE_FORMAT
                             " is longer than %" G_GSIZE_FORMAT " bytes",
                             (gsize) (at - ps->start), max_length);
            g_string_append_len (out, utf8, n);
          }
      }
    }
}

static gboolean
is_digit (Parser *ps)
{
  return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
read_number (Parser *ps)
{
  const guchar *start = ps->p;

  if (*ps->p == '-')
    ps->p++;
  if (!is_digit (ps))
    return unexpected (ps);
  if (*ps->p == '0')
    ps->p++;
  else
    while (is_digit (ps))
      ps->p++;
  if (ps->p < ps->end && *ps->p == '.')
    {
      ps->p++;
      if (!is_digit (ps))
        return unexpected (ps);
      while (is_digit (ps))
        ps->p++;
    }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
    {
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
        ps->p++;
      if (!is_digit (ps))
        return unexpected (ps);
      while (is_digit (ps))
        ps->p++;
    }
  if (ps->p - start > TVW_JSON_MAX_NUMBER_LENGTH)
    return refuse (ps, "a JSON number at byte %" G_GSIZE_FORMAT " has more than %d characters",
                   (gsize) (start - ps->start), TVW_JSON_MAX_NUMBER_LENGTH);
  return TRUE;
}

static gboolean
read_literal (Parser *ps)
{
  static const char * const words[] = { "true", "false", "null" };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize n = strlen (words[i]);

      if ((gsize) (ps->end - ps->p) >= n && memcmp (ps->p, words[i], n) == 0)
        {
          ps->p += n;
          /* "nullx" and "true1" are not JSON; the next check sees the x. */
          return TRUE;
        }
    }
  return unexpected (ps);
}

static Frame *
top (Parser *ps)
{
  return &g_array_index (ps->frames, Frame, ps->depth - 1);
}

static gboolean
open_container (Parser   *ps,
                gboolean  is_object)
{
  Frame *f;

  if (ps->depth >= ps->limits->max_depth)
    return refuse (ps, "the JSON nests more than %u levels deep", ps->limits->max_depth);
  if (ps->depth == ps->frames->len)
    {
      Frame fresh = { FALSE, g_array_new (FALSE, FALSE, sizeof (Name)), g_string_new (NULL) };

      g_array_append_val (ps->frames, fresh);
    }
  ps->depth++;
  f = top (ps);
  f->is_object = is_object;
  g_array_set_size (f->names, 0);
  g_string_truncate (f->bytes, 0);
  ps->p++;
  return TRUE;
}

/* A member name and its colon. */
static gboolean
read_member_name (Parser *ps)
{
  Frame *f = top (ps);
  Name name;
  const guchar *c;

  skip_space (ps);
  if (ps->p >= ps->end || *ps->p != '"')
    return unexpected (ps);
  if (f->names->len >= ps->limits->max_members)
    return refuse (ps, "a JSON object has more than %u members", ps->limits->max_members);

  name.offset = f->bytes->len;
  if (!read_string (ps, f->bytes, ps->limits->max_name_length))
    return FALSE;
  name.length = f->bytes->len - name.offset;
  name.key = tvw_hash_bytes (f->bytes->str + name.offset, name.length);
  /* g_str_hash(), over signed chars. */
  name.str_hash = 5381;
  for (c = (const guchar *) f->bytes->str + name.offset; c < (const guchar *) f->bytes->str + name.offset + name.length; c++)
    name.str_hash = (name.str_hash << 5) + name.str_hash + (guint32) (gint32) (signed char) *c;
  g_array_append_val (f->names, name);

  skip_space (ps);
  if (ps->p >= ps->end || *ps->p != ':')
    return unexpected (ps);
  ps->p++;
  return TRUE;
}

static int
name_compare (gconstpointer pa,
              gconstpointer pb)
{
  const Name *a = pa, *b = pb;

  if (a->str_hash != b->str_hash)
    return a->str_hash < b->str_hash ? -1 : 1;
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  if (a->length != b->length)
    return a->length < b->length ? -1 : 1;
  return 0;
}

/* An object's names, all read: none twice, and few sharing a g_str_hash().
 * Sorted, equal names and equal hashes are neighbours. */
static gboolean
check_names (Parser *ps,
             Frame  *f)
{
  guint run = 1;

  g_array_sort (f->names, name_compare);
  for (guint i = 1; i < f->names->len; i++)
    {
      const Name *a = &g_array_index (f->names, Name, i - 1);
      const Name *b = &g_array_index (f->names, Name, i);

      if (name_compare (a, b) == 0 &&
          memcmp (f->bytes->str + a->offset, f->bytes->str + b->offset, a->length) == 0)
        {
          g_autofree char *shown = g_utf8_make_valid (f->bytes->str + a->offset, MIN (a->length, 64));

          return refuse (ps, "the JSON object member “%s%s” appears twice", shown,
                         a->length > 64 ? "…" : "");
        }
      run = a->str_hash == b->str_hash ? run + 1 : 1;
      if (run > TVW_JSON_MAX_SAME_HASH)
        return refuse (ps, "more than %d member names of a JSON object have the same hash value "
                       "(names made to collide)", TVW_JSON_MAX_SAME_HASH);
    }
  return TRUE;
}

static gboolean
parse (Parser *ps)
{
  const char *bad_utf8;

  if (!g_utf8_validate ((const char *) ps->start, ps->end - ps->start, &bad_utf8))
    return refuse (ps, "not valid JSON: not valid UTF-8 at byte %" G_GSIZE_FORMAT,
                   (gsize) ((const guchar *) bad_utf8 - ps->start));
  skip_space (ps);
  if (ps->p == ps->end)
    return refuse (ps, "the JSON text is empty");

  for (;;)
    {
      /* A value. */
      skip_space (ps);
      if (ps->p >= ps->end)
        return unexpected (ps);
      if (++ps->values > ps->limits->max_values)
        return refuse (ps, "the JSON has more than %" G_GSIZE_FORMAT " values",
                       ps->limits->max_values);
      switch (*ps->p)
        {
        case '{':
          if (!open_container (ps, TRUE))
            return FALSE;
          skip_space (ps);
          if (ps->p < ps->end && *ps->p == '}')
            {
              ps->p++;
              ps->depth--;
              break;
            }
          if (!read_member_name (ps))
            return FALSE;
          continue;

        case '[':
          if (!open_container (ps, FALSE))
            return FALSE;
          skip_space (ps);
          if (ps->p < ps->end && *ps->p == ']')
            {
              ps->p++;
              ps->depth--;
              break;
            }
          continue;

        case '"':
          if (!read_string (ps, NULL, 0))
            return FALSE;
          break;

        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
          if (!read_number (ps))
            return FALSE;
          break;

        default:
          if (!read_literal (ps))
            return FALSE;
          break;
        }

      /* After a value: close what ends here, then a comma or the end. */
      for (;;)
        {
          Frame *f;

          skip_space (ps);
          if (ps->depth == 0)
            {
              if (ps->p != ps->end)
                return refuse (ps, "not valid JSON: more after the value, at byte %"
                               G_GSIZE_FORMAT, (gsize) (ps->p - ps->start));
              return TRUE;
            }
          f = top (ps);
          if (ps->p >= ps->end)
            return refuse (ps, "not valid JSON: the text ends before an %s is closed",
                           f->is_object ? "object" : "array");
          if (*ps->p == ',')
            {
              ps->p++;
              if (f->is_object && !read_member_name (ps))
                return FALSE;
              break;
            }
          if (*ps->p != (f->is_object ? '}' : ']'))
            return unexpected (ps);
          ps->p++;
          if (f->is_object && !check_names (ps, f))
            return FALSE;
          ps->depth--;
        }
    }
}

gboolean
tvw_json_check (const char           *text,
                gsize                 length,
                const TvwJsonLimits  *limits,
                char                **problem)
{
  Parser ps = { 0, };
  gboolean ok;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);
  g_return_val_if_fail (limits != NULL && problem != NULL, FALSE);

  ps.start = ps.p = (const guchar *) (text != NULL ? text : "");
  ps.end = ps.start + length;
  ps.limits = limits;
  ps.frames = g_array_new (FALSE, FALSE, sizeof (Frame));

  ok = parse (&ps);

  for (guint i = 0; i < ps.frames->len; i++)
    {
      Frame *f = &g_array_index (ps.frames, Frame, i);

      g_array_unref (f->names);
      g_string_free (f->bytes, TRUE);
    }
  g_array_unref (ps.frames);
  if (!ok)
    *problem = g_steal_pointer (&ps.problem);
  return ok;
}
