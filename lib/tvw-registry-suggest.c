/* tvw-registry-suggest.c — “did you mean …?” for unknown model and weights names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tvw-architectures-private.h"
#include "tvw-error.h"
#include "tvw-registry-impl-private.h"
#include "tvw-registry-private.h"
#include "tvw-hash-private.h"
#include "tvw-json-private.h"
#include "tvw-transform-private.h"
#include "tvw-weights-private.h"

/* {{{ Suggestions */

/* Model and weights names are a few dozen characters. */
#define MAX_SUGGEST_LENGTH 128

static char *
fold (const char *s)
{
  return g_ascii_strdown (s, -1);
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions, so "resnte50" is one edit away from "resnet50". */
static guint
edit_distance (const char *a,
               const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *d = g_new (guint, (la + 1) * (lb + 1));
  guint result;

#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (gsize i = 0; i <= la; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= lb; j++)
    D (0, j) = j;
  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
        guint v = MIN (D (i - 1, j) + 1, D (i, j - 1) + 1);

        v = MIN (v, D (i - 1, j - 1) + cost);
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          v = MIN (v, D (i - 2, j - 2) + 1);
        D (i, j) = v;
      }
  result = D (la, lb);
#undef D

  return result;
}

typedef struct
{
  const char *name;
  guint distance;
} Suggestion;

static int
suggestion_compare (gconstpointer a,
                    gconstpointer b)
{
  const Suggestion *sa = a, *sb = b;

  if (sa->distance != sb->distance)
    return sa->distance < sb->distance ? -1 : 1;
  return strcmp (sa->name, sb->name);
}

char *
tvw_registry_suggest (const char         *word,
                      const char * const *candidates,
                      guint               n_candidates)
{
  g_autofree char *folded = NULL;
  g_autoptr(GArray) found = NULL;
  GString *hint;
  gsize length;
  guint limit, n;

  g_return_val_if_fail (word != NULL, NULL);

  /* The table is length × length: a word from a file can be megabytes,
   * and nothing that long is a typo of a name. */
  length = strlen (word);
  if (length > MAX_SUGGEST_LENGTH)
    return NULL;
  folded = fold (word);
  /* Allow about one typo every three characters, and at least two. */
  limit = MAX (2, length / 3);
  found = g_array_new (FALSE, FALSE, sizeof (Suggestion));

  for (guint i = 0; i < n_candidates; i++)
    {
      gsize other_length = strlen (candidates[i]);
      g_autofree char *other = NULL;
      Suggestion s = { candidates[i], 0 };

      /* The distance is at least the difference in length. */
      if (MAX (length, other_length) - MIN (length, other_length) > limit)
        continue;
      other = fold (candidates[i]);
      s.distance = edit_distance (folded, other);
      if (s.distance <= limit && !g_str_equal (word, candidates[i]))
        g_array_append_val (found, s);
    }

  if (found->len == 0)
    return NULL;

  g_array_sort (found, suggestion_compare);
  n = MIN (found->len, 3);
  hint = g_string_new (_("; did you mean "));
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (hint, i == n - 1 ? _(" or ") : ", ");
      g_string_append (hint, g_array_index (found, Suggestion, i).name);
    }
  g_string_append_c (hint, '?');

  return g_string_free (hint, FALSE);
}

/* }}} */
