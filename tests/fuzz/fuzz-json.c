/* fuzz-json.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The strict JSON front end (tvw_json_check()) that cards and safetensors
 * headers pass before json-glib sees them, fed with what json-glib 1.6 also
 * reads (single quotes, comments, bare words, …; see the seeds).  Whatever
 * the front end accepts, json-glib must read, within the limits: no deeper,
 * no more values, no more members than allowed.  The limits are small here
 * so that the fuzzer reaches them.
 */

/* memfd_create(), in fuzz-common.h */
#define _GNU_SOURCE

#include "config.h"

#include <json-glib/json-glib.h>

#include "fuzz-common.h"
#include "tvw-json-private.h"

static const TvwJsonLimits limits = {
  .max_depth = 8,
  .max_values = 512,
  .max_members = 32,
  .max_name_length = 64,
};

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup (TRUE);
  return 0;
}

/* Walks json-glib's tree without recursion; aborts past the limits. */
static void
check_tree (JsonNode *root)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(GArray) depths = g_array_new (FALSE, FALSE, sizeof (guint));
  gsize values = 0;
  guint zero = 0;

  g_ptr_array_add (stack, root);
  g_array_append_val (depths, zero);
  while (stack->len > 0)
    {
      JsonNode *node = g_ptr_array_steal_index (stack, stack->len - 1);
      guint depth = g_array_index (depths, guint, depths->len - 1);

      g_array_set_size (depths, depths->len - 1);
      if (++values > limits.max_values)
        {
          g_printerr ("accepted, but json-glib holds more than %zu values\n", limits.max_values);
          abort ();
        }
      if (JSON_NODE_HOLDS_OBJECT (node) || JSON_NODE_HOLDS_ARRAY (node))
        {
          g_autoptr(GList) children = NULL;

          if (++depth > limits.max_depth)
            {
              g_printerr ("accepted, but json-glib nests deeper than %u\n", limits.max_depth);
              abort ();
            }
          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              JsonObject *object = json_node_get_object (node);

              if (json_object_get_size (object) > limits.max_members)
                abort ();
              children = json_object_get_values (object);
            }
          else
            children = json_array_get_elements (json_node_get_array (node));
          for (GList *l = children; l != NULL; l = l->next)
            {
              g_ptr_array_add (stack, l->data);
              g_array_append_val (depths, depth);
            }
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *problem = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;

  if (!tvw_json_check ((const char *) data, size, &limits, &problem))
    {
      if (problem == NULL || !g_utf8_validate (problem, -1, NULL))
        abort ();
      fuzz_verbose ("refused: %s", problem);
      return 0;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data, size, &error))
    {
      g_printerr ("accepted, but json-glib refuses it: %s\n", error->message);
      abort ();
    }
  check_tree (json_parser_get_root (parser));
  fuzz_verbose ("accepted");
  return 0;
}
