/* fuzz-card.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Weights cards (tvw_register_weights_from_file).  A card that registers is
 * then read back through the public API: its meta, categories and
 * transforms.  Registered entries stay in the process-wide registry, so a
 * card that registered once is refused as a duplicate afterwards.
 */

/* memfd_create() */
#define _GNU_SOURCE

#include "config.h"

#include <json-glib/json-glib.h>

#include "fuzz-common.h"
#include "tvw-registry.h"
#include "tvw-transform.h"
#include "tvw-weights.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup (TRUE);
  /* Load the catalog now, not during the first input. */
  g_strfreev (tvw_list_models (NULL, NULL));
  return 0;
}

static void
read_back (const uint8_t *data,
           size_t         size)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *entries;
  const char *enum_name;

  /* The card was accepted, so it is a JSON object with these members. */
  if (!json_parser_load_from_data (parser, (const char *) data, size, NULL))
    abort ();
  root = json_node_get_object (json_parser_get_root (parser));
  enum_name = json_object_get_string_member (root, "enum");
  entries = json_object_get_array_member (root, "entries");

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      g_autofree char *full_name = g_strdup_printf ("%s.%s", enum_name,
                                                    json_object_get_string_member (entry, "name"));
      g_autoptr(GError) error = NULL;
      TvwWeights *weights = tvw_get_weight (full_name, &error);
      g_autoptr(TvwTransform) transform = NULL;
      g_autofree char *meta = NULL;
      g_autofree char *repr = NULL;
      const char * const *categories;

      if (weights == NULL)
        {
          g_printerr ("%s was registered but cannot be looked up: %s\n",
                      full_name, error->message);
          abort ();
        }
      meta = g_variant_print (tvw_weights_get_meta (weights), TRUE);
      categories = tvw_weights_get_categories (weights);
      for (guint k = 0; categories != NULL && categories[k] != NULL; k++)
        (void) strlen (categories[k]);
      (void) tvw_weights_get_num_classes (weights);
      transform = tvw_weights_transforms (weights);
      if (transform == NULL)
        abort ();
      repr = tvw_transform_to_string (transform);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GFile) card = g_file_new_for_path (fuzz_memfd_path (data, size));
  g_autoptr(GError) error = NULL;

  if (tvw_register_weights_from_file (card, &error))
    {
      fuzz_verbose ("registered");
      read_back (data, size);
      return 0;
    }

  fuzz_check_error (error);
  if (!g_error_matches (error, TVW_ERROR, TVW_ERROR_INVALID_DATA))
    {
      g_printerr ("unexpected error code %d: %s\n", error->code, error->message);
      abort ();
    }
  return 0;
}
