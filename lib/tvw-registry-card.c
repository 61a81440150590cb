/* tvw-registry-card.c — reading, checking and registering a weights card
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

/* Limits on a weights card: far above any real one (torchvision's largest
 * meta is a few KB), far below what would hurt. */
#define MAX_CARD_SIZE   (16 << 20)
static const TvwJsonLimits card_json_limits = {
  .max_depth = 32,
  .max_values = 1 << 18,
  .max_members = 1 << 12,
  .max_name_length = 1024,
};

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

        return tvw_registry_fail (ctx, member_path, error, _("unknown field (known fields: %s)"), known);
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
    return tvw_registry_fail (ctx, path, error, _("must be an object, not %s"), tvw_registry_node_type_name (node)), NULL;
  object = json_node_get_object (node);
  if (!check_members (ctx, object, path, allowed, error))
    return NULL;

  e = g_new0 (CardEntry, 1);

#define FAIL(field, ...) \
  G_STMT_START { \
    g_autofree char *field_path = g_strdup_printf ("%s.%s", path, field); \
    tvw_registry_fail (ctx, field_path, error, __VA_ARGS__); \
    card_entry_free (e); \
    return NULL; \
  } G_STMT_END

  member = json_object_get_member (object, "name");
  if (member == NULL)
    FAIL ("name", _("missing"));
  if (!tvw_registry_node_is_string (member) || !tvw_registry_is_identifier (json_node_get_string (member)))
    FAIL ("name", _("must be an identifier such as FLOWERS_V1"));
  if (g_str_equal (json_node_get_string (member), "DEFAULT"))
    FAIL ("name", _("DEFAULT is an alias; mark the default entry with \"default\": true"));
  e->name = g_strdup (json_node_get_string (member));

  member = json_object_get_member (object, "url");
  if (member != NULL)
    {
      const char *scheme = tvw_registry_node_is_string (member) ? g_uri_peek_scheme (json_node_get_string (member)) : NULL;

      /* Downloads are http(s) only: a file:// URL could name /dev/zero. */
      if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)
        FAIL ("url", _("must be an http or https URL"));
      e->url = g_strdup (json_node_get_string (member));
    }

  member = json_object_get_member (object, "file");
  if (member != NULL)
    {
      g_autoptr(GFile) file = NULL;

      if (!tvw_registry_node_is_string (member) || json_node_get_string (member)[0] == '\0')
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
      const char *s = tvw_registry_node_is_string (member) ? json_node_get_string (member) : "";
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
      if (!tvw_registry_node_is_bool (member))
        FAIL ("default", _("must be true or false, not %s"), tvw_registry_node_type_name (member));
      e->is_default = json_node_get_boolean (member);
    }

  member = json_object_get_member (object, "num_classes");
  if (member != NULL)
    {
      gint64 v = tvw_registry_node_is_int (member) ? json_node_get_int (member) : 0;

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

      if (!tvw_registry_transforms_from_json (ctx, member, field_path, &e->preset, &e->kwargs, error))
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

      if (!JSON_NODE_HOLDS_OBJECT (member) || tvw_registry_marker_of (json_node_get_object (member)) != NULL)
        FAIL ("meta", _("must be an object, not %s"), tvw_registry_node_type_name (member));
      e->meta = tvw_registry_object_to_variant (ctx, json_node_get_object (member), field_path, TRUE, error);
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

gboolean
tvw_registry_register_card (Registry  *reg,
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
        return tvw_registry_fail (&ctx, "/", error, "%s", local_error->message);
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                    _("Weights card “%s”: "), card_name);
      return FALSE;
    }

  /* Cards come from anywhere: strict and bounded before json-glib sees them. */
  {
    g_autofree char *problem = NULL;

    if (!tvw_json_check (contents, length, &card_json_limits, &problem))
      return tvw_registry_fail (&ctx, "/", error, "%s", problem);
  }

  if (!json_parser_load_from_data (parser, contents, length, &local_error))
    return tvw_registry_fail (&ctx, "/", error, _("not valid JSON: %s"), local_error->message);

  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return tvw_registry_fail (&ctx, "/", error, _("the card must be a JSON object"));
  root = json_node_get_object (node);
  if (!check_members (&ctx, root, "", allowed, error))
    return FALSE;

  node = json_object_get_member (root, "enum");
  if (node == NULL)
    return tvw_registry_fail (&ctx, "enum", error, _("missing"));
  if (!tvw_registry_node_is_string (node) || !tvw_registry_is_identifier (json_node_get_string (node)))
    return tvw_registry_fail (&ctx, "enum", error, _("must be an identifier such as MyNet_Weights"));
  enum_name = json_node_get_string (node);

  node = json_object_get_member (root, "builder");
  if (node == NULL)
    return tvw_registry_fail (&ctx, "builder", error, _("missing"));
  if (!tvw_registry_node_is_string (node))
    return tvw_registry_fail (&ctx, "builder", error, _("must be a string, not %s"), tvw_registry_node_type_name (node));
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

      return tvw_registry_fail (&ctx, "builder", error, _("unknown model “%s%s”%s"), shown,
                                long_name ? "…" : "", hint ? hint : "");
    }

  node = json_object_get_member (root, "entries");
  if (node == NULL)
    return tvw_registry_fail (&ctx, "entries", error, _("missing"));
  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) == 0)
    return tvw_registry_fail (&ctx, "entries", error, _("must be a non-empty list of entries"));
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
          return tvw_registry_fail (&ctx, name_path, error, _("entries[%u] has the same name"), j);
        }
      if (e->is_default && default_index > 0)
        {
          g_autofree char *default_path = g_strdup_printf ("%s.default", path);

          card_entry_free (e);
          return tvw_registry_fail (&ctx, default_path, error, _("entries[%u] is the default already"),
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
          return tvw_registry_fail (&ctx, "builder", error, _("%s holds weights for %s, not for %s"),
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
          return tvw_registry_fail (&ctx, path, error, _("%s is a built-in entry and cannot be replaced"), full_name);
        }
      if (existing != NULL)
        {
          const char *other = g_hash_table_lookup (reg->card_of_entry, full_name);

          g_mutex_unlock (&reg->lock);
          return tvw_registry_fail (&ctx, path, error, _("%s is already registered by “%s”"),
                                    full_name, other ? other : "?");
        }
      if (weights_enum != NULL && e->is_default)
        {
          g_autofree char *default_path = g_strdup_printf ("entries[%u].default", i);
          TvwWeights *current = tvw_weights_enum_get_default (weights_enum);

          g_mutex_unlock (&reg->lock);
          return tvw_registry_fail (&ctx, default_path, error,
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
