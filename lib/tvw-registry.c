/* tvw-registry.c
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
#include "tvw-registry-private.h"
#include "tvw-hash-private.h"
#include "tvw-json-private.h"
#include "tvw-transform-private.h"
#include "tvw-weights-private.h"

/* The registry: torchvision's catalog (built-in, from the GResource that
 * build-aux/gen-catalog.py writes) plus the entries of weights cards.
 *
 * It is built once, on first use, and then only grows.  Builders and the
 * shared string lists never change after that; the enum table and the enums'
 * entries grow when cards are registered, under `lock` (and each enum's own
 * lock).  Signals are emitted without holding the lock.
 */

#define CATALOG_RESOURCE    "/org/gnome/Tvw/catalog.json"
#define LISTS_RESOURCE_DIR  "/org/gnome/Tvw/categories/"
#define CATALOG_FORMAT      1

typedef struct
{
  char *name;
  char *task;
  char *legacy_pretrained;      /* nullable full entry name */
  char *legacy_backbone;        /* nullable full entry name */
  TvwWeightsEnum *weights;      /* the built-in enum, owned by enums */
} Builder;

typedef struct
{
  GMutex lock;
  GHashTable *builders;         /* name → Builder, fixed */
  GPtrArray *builder_names;     /* sorted, fixed */
  GHashTable *lists;            /* id → GVariant "as", fixed */
  GHashTable *enums;            /* name → TvwWeightsEnum */
  GHashTable *card_of_entry;    /* full name → card path, for messages */
  GListStore *enum_list;        /* TvwWeightsEnum, catalog order then cards */
} Registry;

static Registry *the_registry;

static Registry *registry_get (void);
/* Limits on a weights card: far above any real one (torchvision's largest
 * meta is a few KB), far below what would hurt. */
#define MAX_CARD_SIZE   (16 << 20)
static const TvwJsonLimits card_json_limits = {
  .max_depth = 32,
  .max_values = 1 << 18,
  .max_members = 1 << 12,
  .max_name_length = 1024,
};

#define TVW_EMBEDDED_CARD "resource:///org/gnome/Tvw/weights/fashionmnist-card.json"

static gboolean  registry_register_card (Registry  *reg,
                                         gboolean   builtin,
                                         GFile     *card,
                                         GError   **error);

/* Where a value comes from, for error messages: "card “x.json”: entries[0].meta". */
typedef struct
{
  GHashTable *lists;
  const char *card;             /* NULL for the built-in catalog */
} Context;

static void
builder_free (gpointer data)
{
  Builder *b = data;

  g_free (b->name);
  g_free (b->task);
  g_free (b->legacy_pretrained);
  g_free (b->legacy_backbone);
  g_free (b);
}

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
/* {{{ JSON to GVariant */

static gboolean G_GNUC_PRINTF (4, 5)
fail (const Context  *ctx,
      const char     *path,
      GError        **error,
      const char     *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (ctx->card != NULL)
    g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                 _("Weights card “%s”: %s: %s"), ctx->card, path, message);
  else
    g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                 _("Catalog: %s: %s"), path, message);

  return FALSE;
}

static gboolean
is_identifier (const char *s)
{
  if (s == NULL || !(g_ascii_isalpha (*s) || *s == '_'))
    return FALSE;
  for (s++; *s; s++)
    if (!(g_ascii_isalnum (*s) || *s == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
node_is_int (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
node_is_number (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 ||
          json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static gboolean
node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
node_is_bool (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

static const char *
node_type_name (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
    default:
      if (node_is_string (node))
        return "a string";
      if (node_is_bool (node))
        return "a boolean";
      if (node_is_int (node))
        return "an integer";
      return "a number";
    }
}

/* A marker object is {"$tuple": …}, {"$list": …}, {"$float": …} or
 * {"$weights": …}: exactly one member whose name starts with "$". */
static const char *
marker_of (JsonObject *object)
{
  const char *name;
  JsonObjectIter iter;
  JsonNode *member;

  if (json_object_get_size (object) != 1)
    return NULL;
  json_object_iter_init (&iter, object);
  if (!json_object_iter_next (&iter, &name, &member) || name[0] != '$')
    return NULL;
  return name;
}

/* node_to_variant() returns a floating value, except for a shared "$list",
 * which comes back as a strong reference to the catalog's own copy.  Adding
 * a value to a builder or tuple sinks floating ones; this drops the extra
 * reference of the others afterwards. */
static void
add_value (GVariantBuilder *builder,
           const char      *format,
           const char      *key,
           GVariant        *value)
{
  gboolean owned = !g_variant_is_floating (value);

  if (key != NULL)
    g_variant_builder_add (builder, format, key, value);
  else
    g_variant_builder_add (builder, format, value);
  if (owned)
    g_variant_unref (value);
}

static GVariant *node_to_variant (const Context  *ctx,
                                  JsonNode       *node,
                                  const char     *path,
                                  GError        **error);

static GVariant *
array_to_variant (const Context  *ctx,
                  JsonArray      *array,
                  const char     *path,
                  GError        **error)
{
  guint n = json_array_get_length (array);
  gboolean all_strings = TRUE, all_ints = TRUE, all_numbers = TRUE, all_bools = TRUE;
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_ARRAY);

  for (guint i = 0; i < n; i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      all_strings &= node_is_string (item);
      all_ints &= node_is_int (item);
      all_numbers &= node_is_number (item);
      all_bools &= node_is_bool (item);
    }

  /* An empty list is most likely an empty list of names. */
  if (n == 0 || all_strings)
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
      for (guint i = 0; i < n; i++)
        g_variant_builder_add (&builder, "s", json_array_get_string_element (array, i));
    }
  else if (all_ints)
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("ax"));
      for (guint i = 0; i < n; i++)
        g_variant_builder_add (&builder, "x", json_array_get_int_element (array, i));
    }
  else if (all_numbers)
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("ad"));
      for (guint i = 0; i < n; i++)
        g_variant_builder_add (&builder, "d", json_array_get_double_element (array, i));
    }
  else if (all_bools)
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("ab"));
      for (guint i = 0; i < n; i++)
        g_variant_builder_add (&builder, "b", json_array_get_boolean_element (array, i));
    }
  else
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *item_path = g_strdup_printf ("%s[%u]", path, i);
          GVariant *v = node_to_variant (ctx, json_array_get_element (array, i), item_path, error);

          if (v == NULL)
            return NULL;
          add_value (&builder, "v", NULL, v);
        }
    }

  return g_variant_builder_end (&builder);
}

static GVariant *
marker_to_variant (const Context  *ctx,
                   const char     *marker,
                   JsonNode       *value,
                   const char     *path,
                   GError        **error)
{
  if (g_str_equal (marker, "$tuple"))
    {
      JsonArray *array;
      guint n;
      g_autofree GVariant **items = NULL;
      g_autofree gboolean *owned = NULL;
      GVariant *tuple;

      if (!JSON_NODE_HOLDS_ARRAY (value))
        return fail (ctx, path, error, _("“$tuple” must be an array, not %s"), node_type_name (value)), NULL;

      array = json_node_get_array (value);
      n = json_array_get_length (array);
      items = g_new0 (GVariant *, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *item_path = g_strdup_printf ("%s[%u]", path, i);

          items[i] = node_to_variant (ctx, json_array_get_element (array, i), item_path, error);
          if (items[i] == NULL)
            {
              for (guint j = 0; j < i; j++)
                g_variant_unref (g_variant_take_ref (items[j]));
              return NULL;
            }
        }
      /* g_variant_new_tuple() sinks floating children and refs the others. */
      owned = g_new0 (gboolean, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        owned[i] = !g_variant_is_floating (items[i]);
      tuple = g_variant_new_tuple (items, n);
      for (guint i = 0; i < n; i++)
        if (owned[i])
          g_variant_unref (items[i]);

      return tuple;
    }

  if (g_str_equal (marker, "$list"))
    {
      GVariant *list;

      if (!node_is_string (value))
        return fail (ctx, path, error, _("“$list” must be a string, not %s"), node_type_name (value)), NULL;
      list = g_hash_table_lookup (ctx->lists, json_node_get_string (value));
      if (list == NULL)
        return fail (ctx, path, error, _("unknown list “%s”"), json_node_get_string (value)), NULL;
      return g_variant_ref (list);
    }

  if (g_str_equal (marker, "$float"))
    {
      const char *s = node_is_string (value) ? json_node_get_string (value) : "";

      if (g_str_equal (s, "nan"))
        return g_variant_new_double (NAN);
      if (g_str_equal (s, "inf"))
        return g_variant_new_double (INFINITY);
      if (g_str_equal (s, "-inf"))
        return g_variant_new_double (-INFINITY);
      return fail (ctx, path, error, _("“$float” must be \"nan\", \"inf\" or \"-inf\"")), NULL;
    }

  if (g_str_equal (marker, "$weights"))
    {
      if (!node_is_string (value))
        return fail (ctx, path, error, _("“$weights” must be a string, not %s"), node_type_name (value)), NULL;
      return g_variant_new_string (json_node_get_string (value));
    }

  return fail (ctx, path, error, _("unknown marker “%s”"), marker), NULL;
}

static GVariant *
object_to_variant (const Context  *ctx,
                   JsonObject     *object,
                   const char     *path,
                   gboolean        top_level,
                   GError        **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *marker = marker_of (object);
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (marker != NULL)
    return marker_to_variant (ctx, marker, json_object_get_member (object, marker), path, error);

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autofree char *member_path = g_strdup_printf ("%s.%s", path, name);
      GVariant *value;

      if (name[0] == '$')
        return fail (ctx, member_path, error, _("names starting with “$” are reserved")), NULL;

      /* Cards write min_size as [h, w]; torchvision's is a tuple, as in the
       * catalog, so that both read the same. */
      if (top_level && ctx->card != NULL && g_str_equal (name, "min_size") &&
          JSON_NODE_HOLDS_ARRAY (member))
        value = marker_to_variant (ctx, "$tuple", member, member_path, error);
      else
        value = node_to_variant (ctx, member, member_path, error);

      if (value == NULL)
        return NULL;
      add_value (&builder, "{sv}", name, value);
    }

  return g_variant_builder_end (&builder);
}

static GVariant *
node_to_variant (const Context  *ctx,
                 JsonNode       *node,
                 const char     *path,
                 GError        **error)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_NULL:
      return g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL);

    case JSON_NODE_ARRAY:
      return array_to_variant (ctx, json_node_get_array (node), path, error);

    case JSON_NODE_OBJECT:
      return object_to_variant (ctx, json_node_get_object (node), path, FALSE, error);

    case JSON_NODE_VALUE:
    default:
      if (node_is_string (node))
        return g_variant_new_string (json_node_get_string (node));
      if (node_is_bool (node))
        return g_variant_new_boolean (json_node_get_boolean (node));
      if (node_is_int (node))
        return g_variant_new_int64 (json_node_get_int (node));
      return g_variant_new_double (json_node_get_double (node));
    }
}

/* The preset and its keyword arguments: {"preset": "ImageClassification",
 * "crop_size": 224, "resize_size": {"$tuple": [256]}, …}.  Cards may write
 * tuples as plain arrays. */
static gboolean
transforms_from_json (const Context  *ctx,
                      JsonNode       *node,
                      const char     *path,
                      char          **preset_out,
                      GVariant      **kwargs_out,
                      GError        **error)
{
  g_auto(GVariantBuilder) kwargs = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  JsonObject *object;
  JsonNode *preset;
  TvwPreset unused;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, error, _("must be an object, not %s"), node_type_name (node));
  object = json_node_get_object (node);

  preset = json_object_get_member (object, "preset");
  if (preset == NULL)
    return fail (ctx, path, error, _("“preset” is missing"));
  if (!node_is_string (preset) || !tvw_preset_from_name (json_node_get_string (preset), &unused))
    return fail (ctx, path, error,
                 _("“preset” must be one of ImageClassification, SemanticSegmentation, "
                   "VideoClassification, ObjectDetection or OpticalFlow"));

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autofree char *member_path = g_strdup_printf ("%s.%s", path, name);
      JsonNode *items_node = member;
      GVariant *value = NULL;

      if (g_str_equal (name, "preset"))
        continue;

      if (JSON_NODE_HOLDS_OBJECT (member) &&
          g_strcmp0 (marker_of (json_node_get_object (member)), "$tuple") == 0)
        items_node = json_object_get_member (json_node_get_object (member), "$tuple");

      if (g_str_equal (name, "crop_size") || g_str_equal (name, "resize_size"))
        {
          if (node_is_int (member))
            {
              gint64 v = json_node_get_int (member);

              if (v < 1 || v > G_MAXINT32)
                return fail (ctx, member_path, error, _("%" PRId64 " is out of range"), v);
              value = g_variant_new_int32 (v);
            }
          else if (JSON_NODE_HOLDS_NULL (member) && g_str_equal (name, "resize_size"))
            {
              value = g_variant_new_maybe (G_VARIANT_TYPE_INT32, NULL);
            }
          else if (JSON_NODE_HOLDS_ARRAY (items_node))
            {
              JsonArray *array = json_node_get_array (items_node);
              guint n = json_array_get_length (array);
              GVariant *items[2];

              gint64 sizes[2] = { 0, 0 };

              if (n < 1 || n > 2)
                return fail (ctx, member_path, error, _("must have one or two sizes, not %u"), n);
              for (guint i = 0; i < n; i++)
                {
                  JsonNode *item = json_array_get_element (array, i);

                  sizes[i] = node_is_int (item) ? json_node_get_int (item) : 0;
                  if (sizes[i] < 1 || sizes[i] > G_MAXINT32)
                    return fail (ctx, member_path, error, _("sizes must be positive integers"));
                }
              for (guint i = 0; i < n; i++)
                items[i] = g_variant_new_int32 (sizes[i]);
              value = g_variant_new_tuple (items, n);
            }
          else
            {
              return fail (ctx, member_path, error,
                           _("must be an integer or a list of one or two integers, not %s"),
                           node_type_name (member));
            }
        }
      else if (g_str_equal (name, "mean") || g_str_equal (name, "std"))
        {
          g_auto(GVariantBuilder) numbers = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ad"));
          JsonArray *array;

          if (!JSON_NODE_HOLDS_ARRAY (items_node))
            return fail (ctx, member_path, error, _("must be a list of numbers, not %s"),
                         node_type_name (member));
          array = json_node_get_array (items_node);
          if (json_array_get_length (array) == 0)
            return fail (ctx, member_path, error, _("must not be empty"));
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *item = json_array_get_element (array, i);

              if (!node_is_number (item))
                return fail (ctx, member_path, error, _("must be a list of numbers"));
              g_variant_builder_add (&numbers, "d", json_node_get_double (item));
            }
          value = g_variant_builder_end (&numbers);
        }
      else if (g_str_equal (name, "interpolation"))
        {
          const char *s = node_is_string (member) ? json_node_get_string (member) : "";

          if (!g_str_equal (s, "nearest") && !g_str_equal (s, "bilinear") && !g_str_equal (s, "bicubic"))
            return fail (ctx, member_path, error, _("must be \"nearest\", \"bilinear\" or \"bicubic\""));
          value = g_variant_new_string (s);
        }
      else if (g_str_equal (name, "antialias"))
        {
          if (!node_is_bool (member))
            return fail (ctx, member_path, error, _("must be true or false, not %s"), node_type_name (member));
          value = g_variant_new_boolean (json_node_get_boolean (member));
        }
      else
        {
          return fail (ctx, member_path, error,
                       _("unknown parameter (the presets take crop_size, resize_size, "
                         "interpolation, mean, std and antialias)"));
        }

      g_variant_builder_add (&kwargs, "{sv}", name, value);
    }

  *preset_out = g_strdup (json_node_get_string (preset));
  *kwargs_out = g_variant_ref_sink (g_variant_builder_end (&kwargs));

  return TRUE;
}

/* }}} */
/* {{{ The built-in catalog */

static GVariant *
load_list (const char  *id,
           GError     **error)
{
  g_autofree char *path = g_strconcat (LISTS_RESOURCE_DIR, id, ".txt", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;
  gsize size;
  const char *data;
  guint n;

  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return NULL;

  data = g_bytes_get_data (bytes, &size);
  text = g_strndup (data, size);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  /* Every item ends with a newline, so the last piece is empty. */
  if (n > 0 && lines[n - 1][0] == '\0')
    {
      g_free (lines[n - 1]);
      lines[n - 1] = NULL;
    }

  return g_variant_ref_sink (g_variant_new_strv ((const char * const *)lines, -1));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  return node != NULL && node_is_string (node) ? json_node_get_string (node) : NULL;
}

static gboolean
load_catalog (Registry  *reg,
              GError   **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  Context ctx = { reg->lists, NULL };
  JsonObject *root;
  JsonArray *lists, *builders;
  JsonNode *node;
  gsize size;
  const char *data;

  bytes = g_resources_lookup_data (CATALOG_RESOURCE, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &size);
  if (!json_parser_load_from_data (parser, data, size, error))
    return FALSE;

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return fail (&ctx, "/", error, _("not an object"));
  root = json_node_get_object (node);
  if (json_object_get_int_member_with_default (root, "format", 0) != CATALOG_FORMAT)
    return fail (&ctx, "format", error, _("unsupported catalog format"));

  node = json_object_get_member (root, "lists");
  lists = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; lists != NULL && i < json_array_get_length (lists); i++)
    {
      const char *id = json_array_get_string_element (lists, i);
      GVariant *list = load_list (id, error);

      if (list == NULL)
        return FALSE;
      g_hash_table_insert (reg->lists, g_strdup (id), list);
    }

  node = json_object_get_member (root, "builders");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return fail (&ctx, "builders", error, _("missing"));
  builders = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (builders); i++)
    {
      JsonObject *b = json_array_get_object_element (builders, i);
      const char *name = b ? get_string (b, "name") : NULL;
      const char *enum_name = b ? get_string (b, "enum") : NULL;
      const char *default_name = b ? get_string (b, "default") : NULL;
      JsonNode *legacy;
      JsonNode *entries_node;
      JsonArray *entries;
      g_autoptr(TvwWeightsEnum) weights_enum = NULL;
      g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
      TvwWeights *default_entry = NULL;
      Builder *builder;

      entries_node = b ? json_object_get_member (b, "entries") : NULL;
      if (name == NULL || enum_name == NULL || default_name == NULL ||
          entries_node == NULL || !JSON_NODE_HOLDS_ARRAY (entries_node))
        return fail (&ctx, "builders", error, _("builder %u is incomplete"), i);

      weights_enum = tvw_weights_enum_new (enum_name, name, TRUE);
      entries = json_node_get_array (entries_node);
      for (guint j = 0; j < json_array_get_length (entries); j++)
        {
          JsonObject *e = json_array_get_object_element (entries, j);
          g_autofree char *path = g_strdup_printf ("%s[%u]", enum_name, j);
          g_autofree char *preset = NULL;
          g_autoptr(GVariant) kwargs = NULL;
          g_autoptr(GVariant) meta = NULL;
          TvwWeightsInfo info = { 0, };
          TvwWeights *w;

          if (e == NULL || get_string (e, "name") == NULL || get_string (e, "url") == NULL ||
              !json_object_has_member (e, "transforms") || !json_object_has_member (e, "meta"))
            return fail (&ctx, path, error, _("entry is incomplete"));
          if (!transforms_from_json (&ctx, json_object_get_member (e, "transforms"),
                                     path, &preset, &kwargs, error))
            return FALSE;
          meta = node_to_variant (&ctx, json_object_get_member (e, "meta"), path, error);
          if (meta == NULL)
            return FALSE;
          meta = g_variant_ref_sink (meta);
          if (!g_variant_is_of_type (meta, G_VARIANT_TYPE_VARDICT))
            return fail (&ctx, path, error, _("meta is not an object"));

          info.name = get_string (e, "name");
          info.url = get_string (e, "url");
          info.preset = preset;
          info.kwargs = kwargs;
          info.meta = meta;
          info.builtin = TRUE;
          w = tvw_weights_new (weights_enum, &info);
          g_ptr_array_add (items, w);
          if (g_str_equal (info.name, default_name))
            default_entry = w;
        }

      if (default_entry == NULL)
        return fail (&ctx, enum_name, error, _("DEFAULT names no entry"));
      tvw_weights_enum_append (weights_enum, items, default_entry);

      builder = g_new0 (Builder, 1);
      builder->name = g_strdup (name);
      builder->task = g_strdup (get_string (b, "task"));
      builder->weights = weights_enum;
      legacy = json_object_get_member (b, "legacy");
      if (legacy != NULL && JSON_NODE_HOLDS_OBJECT (legacy))
        {
          JsonObject *l = json_node_get_object (legacy);

          builder->legacy_pretrained = g_strdup (get_string (l, "pretrained"));
          builder->legacy_backbone = g_strdup (get_string (l, "pretrained_backbone"));
        }
      g_hash_table_insert (reg->builders, builder->name, builder);
      g_ptr_array_add (reg->builder_names, builder->name);
      g_hash_table_insert (reg->enums, g_strdup (enum_name), g_object_ref (weights_enum));
      g_list_store_append (reg->enum_list, weights_enum);
    }

  g_ptr_array_sort (reg->builder_names, compare_strings);

  return TRUE;
}

/* Cards in tvw/weights/ of $XDG_DATA_HOME, then of each $XDG_DATA_DIRS:
 * the user's own cards come first and so win over system-wide ones. */
static void
autoload_cards (Registry *reg)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  const char * const *system_dirs = g_get_system_data_dirs ();

  g_ptr_array_add (dirs, g_build_filename (g_get_user_data_dir (), "tvw", "weights", NULL));
  for (guint i = 0; system_dirs[i] != NULL; i++)
    g_ptr_array_add (dirs, g_build_filename (system_dirs[i], "tvw", "weights", NULL));

  for (guint i = 0; i < dirs->len; i++)
    {
      const char *path = g_ptr_array_index (dirs, i);
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GPtrArray) names = NULL;
      gboolean seen = FALSE;
      const char *name;

      for (guint j = 0; j < i && !seen; j++)
        seen = g_str_equal (path, g_ptr_array_index (dirs, j));
      if (seen || (dir = g_dir_open (path, 0, NULL)) == NULL)
        continue;

      names = g_ptr_array_new_with_free_func (g_free);
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".json"))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_strings);

      for (guint j = 0; j < names->len; j++)
        {
          g_autofree char *card_path = g_build_filename (path, g_ptr_array_index (names, j), NULL);
          g_autoptr(GFile) card = g_file_new_for_path (card_path);
          g_autoptr(GError) error = NULL;

          if (!registry_register_card (reg, FALSE, card, &error))
            g_warning ("Ignoring a weights card: %s", error->message);
        }
    }
}

static Registry *
registry_get (void)
{
  if (g_once_init_enter (&the_registry))
    {
      Registry *reg = g_new0 (Registry, 1);
      g_autoptr(GError) error = NULL;

      g_mutex_init (&reg->lock);
      reg->builders = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, builder_free);
      reg->builder_names = g_ptr_array_new ();
      reg->lists = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
      /* Cards name enums and entries: seeded, so that names made to collide
       * cannot slow them down. */
      reg->enums = tvw_str_table_new (g_free, g_object_unref);
      reg->card_of_entry = tvw_str_table_new (g_free, g_free);
      reg->enum_list = g_list_store_new (TVW_TYPE_WEIGHTS_ENUM);

      /* The catalog is compiled into the library: failing to read it is a
       * build error, not something a caller could handle. */
      if (!load_catalog (reg, &error))
        g_error ("The built-in weights catalog is broken: %s", error->message);

      /* libtvw's own weights, compiled into the library: usable on a
       * machine that never saw the network. */
      {
        g_autoptr(GFile) embedded = g_file_new_for_uri (TVW_EMBEDDED_CARD);

        if (!registry_register_card (reg, TRUE, embedded, &error))
          g_error ("The embedded weights card is broken: %s", error->message);
      }

      autoload_cards (reg);

      g_once_init_leave (&the_registry, reg);
    }

  return the_registry;
}

/* }}} */
/* {{{ Weights cards */

typedef struct
{
  char *name;
  char *url;
  char *local_file;
  char *sha256;
  char *preset;
  GVariant *kwargs;
  GVariant *meta;
  guint num_classes;
  gboolean is_default;
} CardEntry;

static void
card_entry_free (gpointer data)
{
  CardEntry *e = data;

  g_free (e->name);
  g_free (e->url);
  g_free (e->local_file);
  g_free (e->sha256);
  g_free (e->preset);
  g_clear_pointer (&e->kwargs, g_variant_unref);
  g_clear_pointer (&e->meta, g_variant_unref);
  g_free (e);
}

static gboolean
check_members (const Context       *ctx,
               JsonObject          *object,
               const char          *path,
               const char * const  *allowed,
               GError             **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    if (!g_strv_contains (allowed, name))
      {
        g_autofree char *member_path = *path ? g_strdup_printf ("%s.%s", path, name) : g_strdup (name);
        g_autofree char *known = g_strjoinv (", ", (char **)allowed);

        return fail (ctx, member_path, error, _("unknown field (known fields: %s)"), known);
      }

  return TRUE;
}

static CardEntry *
parse_card_entry (const Context  *ctx,
                  GFile          *card_dir,
                  JsonNode       *node,
                  const char     *path,
                  GError        **error)
{
  static const char * const allowed[] = {
    "name", "url", "file", "sha256", "default", "num_classes", "transforms", "meta", NULL
  };
  g_autoptr(GVariant) categories = NULL;
  CardEntry *e;
  JsonObject *object;
  JsonNode *member;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (ctx, path, error, _("must be an object, not %s"), node_type_name (node)), NULL;
  object = json_node_get_object (node);
  if (!check_members (ctx, object, path, allowed, error))
    return NULL;

  e = g_new0 (CardEntry, 1);

#define FAIL(field, ...) \
  G_STMT_START { \
    g_autofree char *field_path = g_strdup_printf ("%s.%s", path, field); \
    fail (ctx, field_path, error, __VA_ARGS__); \
    card_entry_free (e); \
    return NULL; \
  } G_STMT_END

  member = json_object_get_member (object, "name");
  if (member == NULL)
    FAIL ("name", _("missing"));
  if (!node_is_string (member) || !is_identifier (json_node_get_string (member)))
    FAIL ("name", _("must be an identifier such as FLOWERS_V1"));
  if (g_str_equal (json_node_get_string (member), "DEFAULT"))
    FAIL ("name", _("DEFAULT is an alias; mark the default entry with \"default\": true"));
  e->name = g_strdup (json_node_get_string (member));

  member = json_object_get_member (object, "url");
  if (member != NULL)
    {
      const char *scheme = node_is_string (member) ? g_uri_peek_scheme (json_node_get_string (member)) : NULL;

      /* Downloads are http(s) only: a file:// URL could name /dev/zero. */
      if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)
        FAIL ("url", _("must be an http or https URL"));
      e->url = g_strdup (json_node_get_string (member));
    }

  member = json_object_get_member (object, "file");
  if (member != NULL)
    {
      g_autoptr(GFile) file = NULL;

      if (!node_is_string (member) || json_node_get_string (member)[0] == '\0')
        FAIL ("file", _("must be a file name"));
      if (card_dir == NULL)
        FAIL ("file", _("the card is not a local file, so “file” cannot be resolved"));
      file = g_file_resolve_relative_path (card_dir, json_node_get_string (member));
      /* Embedded weights are resources of the library itself. */
      if (g_file_has_uri_scheme (file, "resource"))
        e->local_file = g_file_get_uri (file);
      else
        e->local_file = g_file_get_path (file);
      if (e->local_file == NULL)
        FAIL ("file", _("“%s” is not a local path"), json_node_get_string (member));
    }

  if (e->url == NULL && e->local_file == NULL)
    FAIL ("url", _("an entry needs a “url” or a “file”"));

  member = json_object_get_member (object, "sha256");
  if (member != NULL)
    {
      const char *s = node_is_string (member) ? json_node_get_string (member) : "";
      gboolean ok = strlen (s) == 64;

      for (guint i = 0; ok && i < 64; i++)
        ok = g_ascii_isxdigit (s[i]);
      if (!ok)
        FAIL ("sha256", _("must be 64 hexadecimal digits"));
      e->sha256 = g_ascii_strdown (s, -1);
    }

  member = json_object_get_member (object, "default");
  if (member != NULL)
    {
      if (!node_is_bool (member))
        FAIL ("default", _("must be true or false, not %s"), node_type_name (member));
      e->is_default = json_node_get_boolean (member);
    }

  member = json_object_get_member (object, "num_classes");
  if (member != NULL)
    {
      gint64 v = node_is_int (member) ? json_node_get_int (member) : 0;

      if (v < 1 || v > G_MAXINT32)
        FAIL ("num_classes", _("must be a positive integer"));
      e->num_classes = v;
    }

  member = json_object_get_member (object, "transforms");
  if (member == NULL)
    FAIL ("transforms", _("missing"));
  else
    {
      g_autofree char *field_path = g_strdup_printf ("%s.transforms", path);
      g_autoptr(TvwTransform) transform = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!transforms_from_json (ctx, member, field_path, &e->preset, &e->kwargs, error))
        {
          card_entry_free (e);
          return NULL;
        }
      transform = tvw_transform_new_for_preset (e->preset, e->kwargs, &local_error);
      if (transform == NULL)
        FAIL ("transforms", "%s", local_error->message);
    }

  member = json_object_get_member (object, "meta");
  if (member != NULL)
    {
      g_autofree char *field_path = g_strdup_printf ("%s.meta", path);

      if (!JSON_NODE_HOLDS_OBJECT (member) || marker_of (json_node_get_object (member)) != NULL)
        FAIL ("meta", _("must be an object, not %s"), node_type_name (member));
      e->meta = object_to_variant (ctx, json_node_get_object (member), field_path, TRUE, error);
      if (e->meta == NULL)
        {
          card_entry_free (e);
          return NULL;
        }
      g_variant_ref_sink (e->meta);
    }
  else
    {
      e->meta = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
    }

  categories = g_variant_lookup_value (e->meta, "categories", NULL);
  if (categories != NULL && !g_variant_is_of_type (categories, G_VARIANT_TYPE_STRING_ARRAY) &&
      !g_variant_is_of_type (categories, G_VARIANT_TYPE ("mv")))
    FAIL ("meta.categories", _("must be a list of strings or null"));
  if (categories != NULL && e->num_classes != 0 &&
      g_variant_is_of_type (categories, G_VARIANT_TYPE_STRING_ARRAY) &&
      g_variant_n_children (categories) != e->num_classes)
    FAIL ("num_classes", _("%u does not match the %u categories of meta.categories"),
          e->num_classes, (guint) g_variant_n_children (categories));

#undef FAIL

  return e;
}

/* One read from a descriptor or a stream: bytes read, 0 at the end, -1 on
 * error. */
static gssize
read_some (int            fd,
           GInputStream  *stream,
           char          *buffer,
           gsize          n,
           GError       **error)
{
  gssize got;

  if (stream != NULL)
    return g_input_stream_read (stream, buffer, n, NULL, error);
  do
    got = read (fd, buffer, n);
  while (got < 0 && errno == EINTR);
  if (got < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
    }
  return got;
}

/* Reads to the end, but at most @limit bytes: more is an error. */
static gboolean
read_bounded (int            fd,
              GInputStream  *stream,
              gsize          limit,
              char         **contents,
              gsize         *length,
              GError       **error)
{
  g_autofree char *buffer = NULL;
  gsize size = 0, alloc = MIN (64 * 1024, limit + 1);

  buffer = g_malloc (alloc);
  for (;;)
    {
      gssize got;

      if (size == alloc)
        {
          /* One byte past the limit says that there is more. */
          if (size > limit)
            {
              g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                           _("larger than %" G_GSIZE_FORMAT " MiB"), limit >> 20);
              return FALSE;
            }
          alloc = MIN (alloc * 2, limit + 1);
          buffer = g_realloc (buffer, alloc);
        }
      got = read_some (fd, stream, buffer + size, alloc - size, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        break;
      size += got;
    }
  *length = size;
  *contents = g_steal_pointer (&buffer);
  return TRUE;
}

/* A card's bytes: a regular file (not a FIFO that never ends, not a
 * device), read up to MAX_CARD_SIZE and no further.  A native file is
 * opened without blocking and checked on its descriptor, so that it cannot
 * be swapped for something else between the check and the read. */
static gboolean
read_card (GFile   *card,
           char   **contents,
           gsize   *length,
           GError **error)
{
  g_autofree char *path = g_file_get_path (card);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GInputStream) stream = NULL;
  struct stat st;
  gboolean ok;
  int fd;

  if (path == NULL)
    {
      /* The embedded card, or another GIO location. */
      info = g_file_query_info (card, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                G_FILE_QUERY_INFO_NONE, NULL, error);
      if (info == NULL)
        return FALSE;
      if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, _("not a regular file"));
          return FALSE;
        }
      stream = G_INPUT_STREAM (g_file_read (card, NULL, error));
      return stream != NULL && read_bounded (-1, stream, MAX_CARD_SIZE, contents, length, error);
    }

  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA, _("not a regular file"));
      ok = FALSE;
    }
  else if (st.st_size > MAX_CARD_SIZE)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
                   _("larger than %d MiB"), MAX_CARD_SIZE >> 20);
      ok = FALSE;
    }
  else
    ok = read_bounded (fd, NULL, MAX_CARD_SIZE, contents, length, error);
  g_close (fd, NULL);
  return ok;
}

static gboolean
registry_register_card (Registry  *reg,
                        gboolean   builtin,
                        GFile     *card,
                        GError   **error)
{
  static const char * const allowed[] = { "enum", "builder", "entries", NULL };
  g_autofree char *card_name = g_file_get_parse_name (card);
  g_autoptr(GFile) card_dir = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func (card_entry_free);
  g_autoptr(GHashTable) seen = NULL;
  guint default_index = 0;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(TvwWeightsEnum) weights_enum = NULL;
  g_autofree char *contents = NULL;
  Context ctx = { reg->lists, card_name };
  const char *enum_name, *builder_name;
  TvwWeights *new_default = NULL;
  gboolean new_enum = FALSE;
  JsonObject *root;
  JsonArray *entries;
  JsonNode *node;
  Builder *builder;
  gsize length;
  guint position;

  if (!read_card (card, &contents, &length, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("Weights card “%s” does not exist"), card_name);
      else if (local_error->domain == TVW_ERROR)
        return fail (&ctx, "/", error, "%s", local_error->message);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    _("Weights card “%s”: "), card_name);
      return FALSE;
    }

  /* Cards come from anywhere: strict and bounded before json-glib sees them. */
  {
    g_autofree char *problem = NULL;

    if (!tvw_json_check (contents, length, &card_json_limits, &problem))
      return fail (&ctx, "/", error, "%s", problem);
  }

  if (!json_parser_load_from_data (parser, contents, length, &local_error))
    return fail (&ctx, "/", error, _("not valid JSON: %s"), local_error->message);

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return fail (&ctx, "/", error, _("the card must be a JSON object"));
  root = json_node_get_object (node);
  if (!check_members (&ctx, root, "", allowed, error))
    return FALSE;

  node = json_object_get_member (root, "enum");
  if (node == NULL)
    return fail (&ctx, "enum", error, _("missing"));
  if (!node_is_string (node) || !is_identifier (json_node_get_string (node)))
    return fail (&ctx, "enum", error, _("must be an identifier such as MyNet_Weights"));
  enum_name = json_node_get_string (node);

  node = json_object_get_member (root, "builder");
  if (node == NULL)
    return fail (&ctx, "builder", error, _("missing"));
  if (!node_is_string (node))
    return fail (&ctx, "builder", error, _("must be a string, not %s"), node_type_name (node));
  builder_name = json_node_get_string (node);
  builder = g_hash_table_lookup (reg->builders, builder_name);
  if (builder == NULL)
    {
      g_autofree char *hint = tvw_registry_suggest (builder_name,
                                                    (const char * const *)reg->builder_names->pdata,
                                                    reg->builder_names->len);

      /* Not megabytes of it in a message. */
      gboolean long_name = g_utf8_strlen (builder_name, -1) > 64;
      g_autofree char *shown = long_name ? g_utf8_substring (builder_name, 0, 64) : g_strdup (builder_name);

      return fail (&ctx, "builder", error, _("unknown model “%s%s”%s"), shown,
                   long_name ? "…" : "", hint ? hint : "");
    }

  node = json_object_get_member (root, "entries");
  if (node == NULL)
    return fail (&ctx, "entries", error, _("missing"));
  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) == 0)
    return fail (&ctx, "entries", error, _("must be a non-empty list of entries"));
  entries = json_node_get_array (node);

  if (g_file_is_native (card) || (builtin && g_file_has_uri_scheme (card, "resource")))
    card_dir = g_file_get_parent (card);

  seen = tvw_str_table_new (NULL, NULL);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      g_autofree char *path = g_strdup_printf ("entries[%u]", i);
      CardEntry *e = parse_card_entry (&ctx, card_dir, json_array_get_element (entries, i), path, error);

      if (e == NULL)
        return FALSE;
      /* Names seen so far, so that many entries stay linear. */
      if (g_hash_table_contains (seen, e->name))
        {
          g_autofree char *name_path = g_strdup_printf ("%s.name", path);
          guint j = GPOINTER_TO_UINT (g_hash_table_lookup (seen, e->name)) - 1;

          card_entry_free (e);
          return fail (&ctx, name_path, error, _("entries[%u] has the same name"), j);
        }
      if (e->is_default && default_index > 0)
        {
          g_autofree char *default_path = g_strdup_printf ("%s.default", path);

          card_entry_free (e);
          return fail (&ctx, default_path, error, _("entries[%u] is the default already"),
                       default_index - 1);
        }
      g_hash_table_insert (seen, e->name, GUINT_TO_POINTER (i + 1));
      if (e->is_default)
        default_index = i + 1;
      g_ptr_array_add (parsed, e);
    }

  /* Everything is checked against the registry and added in one go, so a
   * card is registered whole or not at all. */
  g_mutex_lock (&reg->lock);

  weights_enum = g_hash_table_lookup (reg->enums, enum_name);
  if (weights_enum != NULL)
    {
      g_object_ref (weights_enum);
      if (!g_str_equal (tvw_weights_enum_get_builder (weights_enum), builder_name))
        {
          g_mutex_unlock (&reg->lock);
          return fail (&ctx, "builder", error, _("%s holds weights for %s, not for %s"),
                       enum_name, tvw_weights_enum_get_builder (weights_enum), builder_name);
        }
    }

  for (guint i = 0; i < parsed->len; i++)
    {
      CardEntry *e = g_ptr_array_index (parsed, i);
      g_autofree char *path = g_strdup_printf ("entries[%u].name", i);
      g_autofree char *full_name = g_strdup_printf ("%s.%s", enum_name, e->name);
      TvwWeights *existing = weights_enum ? tvw_weights_enum_find (weights_enum, e->name) : NULL;

      if (existing != NULL && tvw_weights_is_builtin (existing))
        {
          g_mutex_unlock (&reg->lock);
          return fail (&ctx, path, error, _("%s is a built-in entry and cannot be replaced"), full_name);
        }
      if (existing != NULL)
        {
          const char *other = g_hash_table_lookup (reg->card_of_entry, full_name);

          g_mutex_unlock (&reg->lock);
          return fail (&ctx, path, error, _("%s is already registered by “%s”"),
                       full_name, other ? other : "?");
        }
      if (weights_enum != NULL && e->is_default)
        {
          g_autofree char *default_path = g_strdup_printf ("entries[%u].default", i);
          TvwWeights *current = tvw_weights_enum_get_default (weights_enum);

          g_mutex_unlock (&reg->lock);
          return fail (&ctx, default_path, error,
                       _("%s.DEFAULT is %s already and cannot be changed by a card"),
                       enum_name, current ? tvw_weights_get_name (current) : "?");
        }
    }

  if (weights_enum == NULL)
    {
      weights_enum = tvw_weights_enum_new (enum_name, builder_name, FALSE);
      new_enum = TRUE;
    }

  for (guint i = 0; i < parsed->len; i++)
    {
      CardEntry *e = g_ptr_array_index (parsed, i);
      TvwWeightsInfo info = {
        .name = e->name,
        .url = e->url,
        .local_file = e->local_file,
        .sha256 = e->sha256,
        .preset = e->preset,
        .kwargs = e->kwargs,
        .meta = e->meta,
        .num_classes = e->num_classes,
        .builtin = builtin,
      };
      TvwWeights *w = tvw_weights_new (weights_enum, &info);

      g_ptr_array_add (items, w);
      if (e->is_default)
        new_default = w;
      g_hash_table_insert (reg->card_of_entry,
                           g_strdup (tvw_weights_get_full_name (w)), g_strdup (card_name));
    }

  /* A new enum always has a DEFAULT, like every torchvision enum. */
  if (new_enum && new_default == NULL)
    new_default = g_ptr_array_index (items, 0);

  position = tvw_weights_enum_append (weights_enum, items, new_default);
  if (new_enum)
    g_hash_table_insert (reg->enums, g_strdup (enum_name), g_object_ref (weights_enum));

  g_mutex_unlock (&reg->lock);

  if (new_enum)
    g_list_store_append (reg->enum_list, weights_enum);
  else
    tvw_weights_enum_emit_added (weights_enum, position, items->len);

  g_debug ("Registered %u weights entries of %s from %s", items->len, enum_name, card_name);

  return TRUE;
}

/* }}} */
/* {{{ Private API */

const char *
tvw_registry_legacy_weights (const char *builder,
                             gboolean    backbone)
{
  Registry *reg = registry_get ();
  Builder *b;

  g_return_val_if_fail (builder != NULL, NULL);

  b = g_hash_table_lookup (reg->builders, builder);
  if (b == NULL)
    return NULL;

  return backbone ? b->legacy_backbone : b->legacy_pretrained;
}

/* }}} */
/* {{{ Public API */

static Builder *
lookup_builder (Registry    *reg,
                const char  *name,
                GError     **error)
{
  Builder *b = g_hash_table_lookup (reg->builders, name);
  g_autofree char *hint = NULL;

  if (b != NULL)
    return b;

  hint = tvw_registry_suggest (name, (const char * const *)reg->builder_names->pdata,
                               reg->builder_names->len);
  g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
               _("Unknown model “%s”%s"), name, hint ? hint : "");

  return NULL;
}

static char **
filter_models (const char * const *include,
               const char * const *exclude,
               gboolean            implemented_only)
{
  Registry *reg = registry_get ();
  g_autoptr(GStrvBuilder) result = g_strv_builder_new ();
  gboolean any_include = include != NULL && include[0] != NULL;

  /* torchvision's list_models: the union of the include patterns (all
   * models if there are none) minus every exclude pattern, sorted. */
  for (guint i = 0; i < reg->builder_names->len; i++)
    {
      const char *name = g_ptr_array_index (reg->builder_names, i);
      gboolean keep = !any_include;

      for (guint j = 0; any_include && include[j] != NULL && !keep; j++)
        keep = fnmatch (include[j], name, 0) == 0;
      for (guint j = 0; keep && exclude != NULL && exclude[j] != NULL; j++)
        keep = fnmatch (exclude[j], name, 0) != 0;
      if (keep && implemented_only)
        keep = tvw_architecture_is_implemented (name);

      if (keep)
        g_strv_builder_add (result, name);
    }

  return g_strv_builder_end (result);
}

/**
 * tvw_list_models:
 * @include: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to list, or %NULL for all
 * @exclude: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to leave out, or %NULL
 *
 * Lists the model builders libtvw can build, like torchvision's
 * `list_models(include=…, exclude=…)`: the models matching any of @include
 * (every model if it is %NULL or empty), minus those matching any of
 * @exclude, sorted. Patterns are shell globs as `fnmatch` reads them.
 *
 * Builders of torchvision whose architecture libtvw does not implement yet
 * are left out; [func@list_catalog_models] lists them too.
 *
 * Returns: (transfer full) (array zero-terminated=1): the builder names
 */
char **
tvw_list_models (const char * const *include,
                 const char * const *exclude)
{
  return filter_models (include, exclude, TRUE);
}

/**
 * tvw_list_catalog_models:
 * @include: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to list, or %NULL for all
 * @exclude: (array zero-terminated=1) (nullable): glob patterns of the models
 *   to leave out, or %NULL
 *
 * Lists every model builder of torchvision's catalog, whether libtvw
 * implements its architecture or not (see [func@is_model_supported]). The
 * patterns work as in [func@list_models].
 *
 * Returns: (transfer full) (array zero-terminated=1): the builder names
 */
char **
tvw_list_catalog_models (const char * const *include,
                         const char * const *exclude)
{
  return filter_models (include, exclude, FALSE);
}

/**
 * tvw_is_model_supported:
 * @name: a builder name, e.g. `resnet50`
 *
 * Checks whether @name is a model of the catalog whose architecture libtvw
 * implements, so that [func@get_model] can build it.
 *
 * Returns: %TRUE if the model can be built
 */
gboolean
tvw_is_model_supported (const char *name)
{
  Registry *reg = registry_get ();

  g_return_val_if_fail (name != NULL, FALSE);

  return g_hash_table_contains (reg->builders, name) && tvw_architecture_is_implemented (name);
}

/**
 * tvw_get_model_task:
 * @name: a builder name, e.g. `resnet50`
 * @error: return location for a #GError
 *
 * Gets the task of a model builder, which is also the torchvision module
 * that defines it: `classification` (`torchvision.models`),
 * `quantization`, `detection`, `segmentation`, `video` or `optical_flow`
 * (`torchvision.models.quantization`, …). Unknown names are
 * %TVW_ERROR_NOT_FOUND, with the closest model names suggested.
 *
 * Returns: (transfer none): the task, or %NULL with @error set
 */
const char *
tvw_get_model_task (const char  *name,
                    GError     **error)
{
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);

  b = lookup_builder (registry_get (), name, error);
  return b ? b->task : NULL;
}

/**
 * tvw_get_model_weights:
 * @name: a builder name, e.g. `resnet50`
 * @error: return location for a #GError
 *
 * Gets the weights enum of a model builder, like torchvision's
 * `get_model_weights("resnet50")`. Unknown names are %TVW_ERROR_NOT_FOUND,
 * with the closest model names suggested. Models libtvw cannot build yet
 * have their enum too.
 *
 * Returns: (transfer none): the enum, e.g. `ResNet50_Weights`, or %NULL with
 *   @error set
 */
TvwWeightsEnum *
tvw_get_model_weights (const char  *name,
                       GError     **error)
{
  Registry *reg = registry_get ();
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  b = lookup_builder (reg, name, error);

  return b ? b->weights : NULL;
}

/**
 * tvw_get_weight:
 * @full_name: an enum and entry name, e.g. `ResNet50_Weights.IMAGENET1K_V2`
 *   or `ResNet50_Weights.DEFAULT`
 * @error: return location for a #GError
 *
 * Gets a weights entry by its full name, like torchvision's `get_weight()`.
 * Unknown names are %TVW_ERROR_NOT_FOUND, with the closest names suggested.
 *
 * Returns: (transfer none): the entry, or %NULL with @error set
 */
TvwWeights *
tvw_get_weight (const char  *full_name,
                GError     **error)
{
  Registry *reg = registry_get ();
  g_autofree char *enum_name = NULL;
  g_autoptr(TvwWeightsEnum) weights_enum = NULL;
  const char *dot;

  g_return_val_if_fail (full_name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  dot = strrchr (full_name, '.');
  if (dot == NULL)
    {
      Builder *b = g_hash_table_lookup (reg->builders, full_name);

      if (b != NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("“%s” is a model, not a weights entry; did you mean %s.DEFAULT?"),
                     full_name, tvw_weights_enum_get_name (b->weights));
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("“%s” is not a weights name such as ResNet50_Weights.IMAGENET1K_V2"),
                     full_name);
      return NULL;
    }

  enum_name = g_strndup (full_name, dot - full_name);

  g_mutex_lock (&reg->lock);
  weights_enum = g_hash_table_lookup (reg->enums, enum_name);
  if (weights_enum != NULL)
    g_object_ref (weights_enum);
  g_mutex_unlock (&reg->lock);

  if (weights_enum == NULL)
    {
      g_autofree char *hint = NULL;
      g_autofree const char **names = NULL;
      guint n;

      g_mutex_lock (&reg->lock);
      names = (const char **)g_hash_table_get_keys_as_array (reg->enums, &n);
      hint = tvw_registry_suggest (enum_name, names, n);
      g_mutex_unlock (&reg->lock);

      g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                   _("Unknown weights enum “%s”%s"), enum_name, hint ? hint : "");
      return NULL;
    }

  return tvw_weights_enum_lookup (weights_enum, dot + 1, error);
}

/**
 * tvw_get_weights_enums:
 *
 * Gets every weights enum: torchvision's, in catalog order, then those
 * weights cards created, in the order they were registered. The list grows
 * when a card creates an enum.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@WeightsEnum]
 */
GListModel *
tvw_get_weights_enums (void)
{
  return G_LIST_MODEL (registry_get ()->enum_list);
}

/**
 * tvw_get_legacy_weights:
 * @name: a builder name, e.g. `resnet50`
 * @backbone: %FALSE for `pretrained=True`, %TRUE for
 *   `pretrained_backbone=True`
 *
 * Gets the entry torchvision's deprecated `pretrained=True` (or
 * `pretrained_backbone=True`) stands for with this builder:
 * `ResNet50_Weights.IMAGENET1K_V1` for `resnet50`, the FBGEMM or QNNPACK
 * entry for quantized builders, the backbone's ImageNet entry for detection
 * and segmentation backbones.
 *
 * Returns: (transfer none) (nullable): the entry, or %NULL if the builder
 *   has no such legacy parameter
 */
TvwWeights *
tvw_get_legacy_weights (const char *name,
                        gboolean    backbone)
{
  const char *full_name;

  g_return_val_if_fail (name != NULL, NULL);

  full_name = tvw_registry_legacy_weights (name, backbone);
  if (full_name == NULL)
    return NULL;

  return tvw_get_weight (full_name, NULL);
}

/**
 * tvw_get_model:
 * @name: a builder name, e.g. `resnet50`
 * @weights: (nullable): %NULL for random weights, `DEFAULT`, an entry name
 *   of the model's enum (`IMAGENET1K_V2`) or a full name
 *   (`ResNet50_Weights.IMAGENET1K_V2`, which may also name an entry a
 *   weights card added for this builder)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Builds a model, like torchvision's `get_model("resnet50",
 * weights="DEFAULT")`, downloading and loading its weights if asked to.
 *
 * Unknown models and entries are %TVW_ERROR_NOT_FOUND (with the closest
 * names suggested), weights of another model %TVW_ERROR_INVALID_ARGUMENT,
 * and a model of the catalog whose architecture libtvw does not implement
 * %TVW_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 */
TvwModel *
tvw_get_model (const char    *name,
               const char    *weights,
               GCancellable  *cancellable,
               GError       **error)
{
  Registry *reg = registry_get ();
  TvwWeights *w = NULL;
  Builder *b;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  b = lookup_builder (reg, name, error);
  if (b == NULL)
    return NULL;

  if (weights != NULL && strchr (weights, '.') != NULL)
    {
      w = tvw_get_weight (weights, error);
      if (w == NULL)
        return NULL;
      if (!g_str_equal (tvw_weights_get_builder (w), name))
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                       _("%s are weights for %s, not for %s"),
                       tvw_weights_get_full_name (w), tvw_weights_get_builder (w), name);
          return NULL;
        }
    }
  else if (weights != NULL)
    {
      w = tvw_weights_enum_lookup (b->weights, weights, error);
      if (w == NULL)
        return NULL;
    }

  if (!tvw_architecture_is_implemented (name))
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_UNSUPPORTED,
                   _("The architecture of %s is not implemented by libtvw yet"), name);
      return NULL;
    }

  return g_initable_new (TVW_TYPE_MODEL, cancellable, error,
                         "architecture", name,
                         "weights", w,
                         NULL);
}

/**
 * tvw_register_weights_from_file:
 * @card: a weights card, a JSON file
 * @error: return location for a #GError
 *
 * Registers the weights entries of a weights card, so that they can be used
 * like built-in ones: [func@get_weight], [func@get_model], the enum's
 * [iface@Gio.ListModel]. A card can create an enum or add entries to an
 * existing one (built-in or not), but never replace an entry or change the
 * `DEFAULT` of an enum that has one.
 *
 * Cards (files ending in `.json`) in `tvw/weights/` under
 * `$XDG_DATA_HOME` and each of `$XDG_DATA_DIRS` are registered
 * automatically the first time the registry is used. The format is described in the README.
 *
 * A malformed card is %TVW_ERROR_INVALID_DATA naming the card and the field;
 * a card is registered whole or not at all.
 *
 * [signal@Gio.ListModel::items-changed] is emitted in the calling thread, so
 * register cards from the thread that uses the list models (usually the
 * main thread).
 *
 * Returns: %TRUE if the entries were registered
 */
gboolean
tvw_register_weights_from_file (GFile   *card,
                                GError **error)
{
  g_return_val_if_fail (G_IS_FILE (card), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return registry_register_card (registry_get (), FALSE, card, error);
}

/* }}} */

/* A number of a meta dictionary, whatever its JSON form became. */
static gboolean
variant_get_number (GVariant *v,
                    double   *out)
{
  if (v == NULL)
    return FALSE;
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    *out = g_variant_get_uint64 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    *out = g_variant_get_int32 (v);
  else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (v);
  else
    return FALSE;
  return isfinite (*out) && *out >= 0;
}

gboolean
tvw_registry_download_limits (const char  *url,
                              char       **sha256,
                              goffset     *max_size)
{
  Registry *reg = registry_get ();
  gboolean found = FALSE, sized = FALSE;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (url != NULL && sha256 != NULL && max_size != NULL, FALSE);

  g_mutex_lock (&reg->lock);
  g_hash_table_iter_init (&iter, reg->enums);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GListModel *entries = value;

      for (guint i = 0; i < g_list_model_get_n_items (entries); i++)
        {
          g_autoptr(TvwWeights) w = g_list_model_get_item (entries, i);
          g_autoptr(GVariant) num_params = NULL;
          g_autoptr(GVariant) file_size = NULL;
          double n;

          if (g_strcmp0 (tvw_weights_get_url (w), url) != 0)
            continue;
          found = TRUE;
          if (*sha256 == NULL && tvw_weights_get_sha256 (w) != NULL)
            *sha256 = g_strdup (tvw_weights_get_sha256 (w));
          if (sized || tvw_weights_get_meta (w) == NULL)
            continue;
          file_size = g_variant_lookup_value (tvw_weights_get_meta (w), "_file_size", NULL);
          num_params = g_variant_lookup_value (tvw_weights_get_meta (w), "num_params", NULL);
          /* torchvision's _file_size is in MiB, rounded. */
          if (variant_get_number (file_size, &n) && n < 1e9)
            *max_size = (goffset) (n * TVW_REGISTRY_FILE_SIZE_FACTOR * (1 << 20)) + (1 << 20);
          else if (variant_get_number (num_params, &n) && n < 1e15)
            *max_size = (goffset) (n * TVW_REGISTRY_BYTES_PER_PARAM) + TVW_REGISTRY_SIZE_SLACK;
          else
            continue;
          sized = TRUE;
        }
    }
  g_mutex_unlock (&reg->lock);
  return found;
}
