/* tvw-registry-catalog.c — loading the built-in catalog and the installed weights cards
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

#define CATALOG_RESOURCE    "/org/gnome/Tvw/catalog.json"
#define LISTS_RESOURCE_DIR  "/org/gnome/Tvw/categories/"
#define CATALOG_FORMAT      1

#define TVW_EMBEDDED_CARD "resource:///org/gnome/Tvw/weights/fashionmnist-card.json"

static Registry *the_registry;


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

  return node != NULL && tvw_registry_node_is_string (node) ? json_node_get_string (node) : NULL;
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
    return tvw_registry_fail (&ctx, "/", error, _("not an object"));
  root = json_node_get_object (node);
  if (json_object_get_int_member_with_default (root, "format", 0) != CATALOG_FORMAT)
    return tvw_registry_fail (&ctx, "format", error, _("unsupported catalog format"));

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
    return tvw_registry_fail (&ctx, "builders", error, _("missing"));
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
        return tvw_registry_fail (&ctx, "builders", error, _("builder %u is incomplete"), i);

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
            return tvw_registry_fail (&ctx, path, error, _("entry is incomplete"));
          if (!tvw_registry_transforms_from_json (&ctx, json_object_get_member (e, "transforms"),
                                                  path, &preset, &kwargs, error))
            return FALSE;
          meta = tvw_registry_node_to_variant (&ctx, json_object_get_member (e, "meta"), path, error);
          if (meta == NULL)
            return FALSE;
          meta = g_variant_ref_sink (meta);
          if (!g_variant_is_of_type (meta, G_VARIANT_TYPE_VARDICT))
            return tvw_registry_fail (&ctx, path, error, _("meta is not an object"));

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
        return tvw_registry_fail (&ctx, enum_name, error, _("DEFAULT names no entry"));
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

          if (!tvw_registry_register_card (reg, FALSE, card, &error))
            g_warning ("Ignoring a weights card: %s", error->message);
        }
    }
}

Registry *
tvw_registry_get (void)
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

        if (!tvw_registry_register_card (reg, TRUE, embedded, &error))
          g_error ("The embedded weights card is broken: %s", error->message);
      }

      autoload_cards (reg);

      g_once_init_leave (&the_registry, reg);
    }

  return the_registry;
}

/* }}} */
