/* tvw-registry-json.c — the catalog's and the weights cards' JSON as GVariants
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

/* {{{ JSON to GVariant */

gboolean G_GNUC_PRINTF (4, 5)
tvw_registry_fail (const Context  *ctx,
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

gboolean
tvw_registry_is_identifier (const char *s)
{
  if (s == NULL || !(g_ascii_isalpha (*s) || *s == '_'))
    return FALSE;
  for (s++; *s; s++)
    if (!(g_ascii_isalnum (*s) || *s == '_'))
      return FALSE;
  return TRUE;
}

gboolean
tvw_registry_node_is_int (JsonNode *node)
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

gboolean
tvw_registry_node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

gboolean
tvw_registry_node_is_bool (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

const char *
tvw_registry_node_type_name (JsonNode *node)
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
      if (tvw_registry_node_is_string (node))
        return "a string";
      if (tvw_registry_node_is_bool (node))
        return "a boolean";
      if (tvw_registry_node_is_int (node))
        return "an integer";
      return "a number";
    }
}

/* A marker object is {"$tuple": …}, {"$list": …}, {"$float": …} or
 * {"$weights": …}: exactly one member whose name starts with "$". */
const char *
tvw_registry_marker_of (JsonObject *object)
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

/* tvw_registry_node_to_variant() returns a floating value, except for a shared "$list",
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

      all_strings &= tvw_registry_node_is_string (item);
      all_ints &= tvw_registry_node_is_int (item);
      all_numbers &= node_is_number (item);
      all_bools &= tvw_registry_node_is_bool (item);
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
          GVariant *v = tvw_registry_node_to_variant (ctx, json_array_get_element (array, i), item_path, error);

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
        return tvw_registry_fail (ctx, path, error, _("“$tuple” must be an array, not %s"), tvw_registry_node_type_name (value)), NULL;

      array = json_node_get_array (value);
      n = json_array_get_length (array);
      items = g_new0 (GVariant *, MAX (n, 1));
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *item_path = g_strdup_printf ("%s[%u]", path, i);

          items[i] = tvw_registry_node_to_variant (ctx, json_array_get_element (array, i), item_path, error);
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

      if (!tvw_registry_node_is_string (value))
        return tvw_registry_fail (ctx, path, error, _("“$list” must be a string, not %s"), tvw_registry_node_type_name (value)), NULL;
      list = g_hash_table_lookup (ctx->lists, json_node_get_string (value));
      if (list == NULL)
        return tvw_registry_fail (ctx, path, error, _("unknown list “%s”"), json_node_get_string (value)), NULL;
      return g_variant_ref (list);
    }

  if (g_str_equal (marker, "$float"))
    {
      const char *s = tvw_registry_node_is_string (value) ? json_node_get_string (value) : "";

      if (g_str_equal (s, "nan"))
        return g_variant_new_double (NAN);
      if (g_str_equal (s, "inf"))
        return g_variant_new_double (INFINITY);
      if (g_str_equal (s, "-inf"))
        return g_variant_new_double (-INFINITY);
      return tvw_registry_fail (ctx, path, error, _("“$float” must be \"nan\", \"inf\" or \"-inf\"")), NULL;
    }

  if (g_str_equal (marker, "$weights"))
    {
      if (!tvw_registry_node_is_string (value))
        return tvw_registry_fail (ctx, path, error, _("“$weights” must be a string, not %s"), tvw_registry_node_type_name (value)), NULL;
      return g_variant_new_string (json_node_get_string (value));
    }

  return tvw_registry_fail (ctx, path, error, _("unknown marker “%s”"), marker), NULL;
}

GVariant *
tvw_registry_object_to_variant (const Context  *ctx,
                                JsonObject     *object,
                                const char     *path,
                                gboolean        top_level,
                                GError        **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *marker = tvw_registry_marker_of (object);
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
        return tvw_registry_fail (ctx, member_path, error, _("names starting with “$” are reserved")), NULL;

      /* Cards write min_size as [h, w]; torchvision's is a tuple, as in the
       * catalog, so that both read the same. */
      if (top_level && ctx->card != NULL && g_str_equal (name, "min_size") &&
          JSON_NODE_HOLDS_ARRAY (member))
        value = marker_to_variant (ctx, "$tuple", member, member_path, error);
      else
        value = tvw_registry_node_to_variant (ctx, member, member_path, error);

      if (value == NULL)
        return NULL;
      add_value (&builder, "{sv}", name, value);
    }

  return g_variant_builder_end (&builder);
}

GVariant *
tvw_registry_node_to_variant (const Context  *ctx,
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
      return tvw_registry_object_to_variant (ctx, json_node_get_object (node), path, FALSE, error);

    case JSON_NODE_VALUE:
    default:
      if (tvw_registry_node_is_string (node))
        return g_variant_new_string (json_node_get_string (node));
      if (tvw_registry_node_is_bool (node))
        return g_variant_new_boolean (json_node_get_boolean (node));
      if (tvw_registry_node_is_int (node))
        return g_variant_new_int64 (json_node_get_int (node));
      return g_variant_new_double (json_node_get_double (node));
    }
}

/* The preset and its keyword arguments: {"preset": "ImageClassification",
 * "crop_size": 224, "resize_size": {"$tuple": [256]}, …}.  Cards may write
 * tuples as plain arrays. */
gboolean
tvw_registry_transforms_from_json (const Context  *ctx,
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
    return tvw_registry_fail (ctx, path, error, _("must be an object, not %s"), tvw_registry_node_type_name (node));
  object = json_node_get_object (node);

  preset = json_object_get_member (object, "preset");
  if (preset == NULL)
    return tvw_registry_fail (ctx, path, error, _("“preset” is missing"));
  if (!tvw_registry_node_is_string (preset) || !tvw_preset_from_name (json_node_get_string (preset), &unused))
    return tvw_registry_fail (ctx, path, error,
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
          g_strcmp0 (tvw_registry_marker_of (json_node_get_object (member)), "$tuple") == 0)
        items_node = json_object_get_member (json_node_get_object (member), "$tuple");

      if (g_str_equal (name, "crop_size") || g_str_equal (name, "resize_size"))
        {
          if (tvw_registry_node_is_int (member))
            {
              gint64 v = json_node_get_int (member);

              if (v < 1 || v > G_MAXINT32)
                return tvw_registry_fail (ctx, member_path, error, _("%" PRId64 " is out of range"), v);
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
                return tvw_registry_fail (ctx, member_path, error, _("must have one or two sizes, not %u"), n);
              for (guint i = 0; i < n; i++)
                {
                  JsonNode *item = json_array_get_element (array, i);

                  sizes[i] = tvw_registry_node_is_int (item) ? json_node_get_int (item) : 0;
                  if (sizes[i] < 1 || sizes[i] > G_MAXINT32)
                    return tvw_registry_fail (ctx, member_path, error, _("sizes must be positive integers"));
                }
              for (guint i = 0; i < n; i++)
                items[i] = g_variant_new_int32 (sizes[i]);
              value = g_variant_new_tuple (items, n);
            }
          else
            {
              return tvw_registry_fail (ctx, member_path, error,
                                        _("must be an integer or a list of one or two integers, not %s"),
                                        tvw_registry_node_type_name (member));
            }
        }
      else if (g_str_equal (name, "mean") || g_str_equal (name, "std"))
        {
          g_auto(GVariantBuilder) numbers = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("ad"));
          JsonArray *array;

          if (!JSON_NODE_HOLDS_ARRAY (items_node))
            return tvw_registry_fail (ctx, member_path, error, _("must be a list of numbers, not %s"),
                                      tvw_registry_node_type_name (member));
          array = json_node_get_array (items_node);
          if (json_array_get_length (array) == 0)
            return tvw_registry_fail (ctx, member_path, error, _("must not be empty"));
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *item = json_array_get_element (array, i);

              if (!node_is_number (item))
                return tvw_registry_fail (ctx, member_path, error, _("must be a list of numbers"));
              g_variant_builder_add (&numbers, "d", json_node_get_double (item));
            }
          value = g_variant_builder_end (&numbers);
        }
      else if (g_str_equal (name, "interpolation"))
        {
          const char *s = tvw_registry_node_is_string (member) ? json_node_get_string (member) : "";

          if (!g_str_equal (s, "nearest") && !g_str_equal (s, "bilinear") && !g_str_equal (s, "bicubic"))
            return tvw_registry_fail (ctx, member_path, error, _("must be \"nearest\", \"bilinear\" or \"bicubic\""));
          value = g_variant_new_string (s);
        }
      else if (g_str_equal (name, "antialias"))
        {
          if (!tvw_registry_node_is_bool (member))
            return tvw_registry_fail (ctx, member_path, error, _("must be true or false, not %s"), tvw_registry_node_type_name (member));
          value = g_variant_new_boolean (json_node_get_boolean (member));
        }
      else
        {
          return tvw_registry_fail (ctx, member_path, error,
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
