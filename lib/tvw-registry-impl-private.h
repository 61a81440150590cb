/* tvw-registry-impl-private.h — what the registry's source files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry is tvw-registry.c (public lookups), tvw-registry-catalog.c
 * (loading the built-in catalog and installed cards), tvw-registry-card.c
 * (one weights card), tvw-registry-json.c (JSON to GVariant, transforms) and
 * tvw-registry-suggest.c.  Nothing else includes this header.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "tvw-registry-private.h"
#include "tvw-weights-enum.h"

G_BEGIN_DECLS

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

/* Where a value comes from, for error messages: "card “x.json”: entries[0].meta". */
typedef struct
{
  GHashTable *lists;
  const char *card;             /* NULL for the built-in catalog */
} Context;

/* The registry, built on first use. */
Registry   *tvw_registry_get                  (void);
gboolean    tvw_registry_register_card        (Registry        *reg,
                                               gboolean         builtin,
                                               GFile           *card,
                                               GError         **error);

/* tvw-registry-json.c: a FALSE return with @error set to “Weights card
 * “@ctx->card”: @path: message” (or “Catalog: …”). */
gboolean    tvw_registry_fail                 (const Context   *ctx,
                                               const char      *path,
                                               GError         **error,
                                               const char      *format,
                                               ...) G_GNUC_PRINTF (4, 5);
gboolean    tvw_registry_is_identifier        (const char      *s);
gboolean    tvw_registry_node_is_int          (JsonNode        *node);
gboolean    tvw_registry_node_is_string       (JsonNode        *node);
gboolean    tvw_registry_node_is_bool         (JsonNode        *node);
const char *tvw_registry_node_type_name       (JsonNode        *node);
const char *tvw_registry_marker_of            (JsonObject      *object);
GVariant   *tvw_registry_object_to_variant    (const Context   *ctx,
                                               JsonObject      *object,
                                               const char      *path,
                                               gboolean         top_level,
                                               GError         **error);
GVariant   *tvw_registry_node_to_variant      (const Context   *ctx,
                                               JsonNode        *node,
                                               const char      *path,
                                               GError         **error);
gboolean    tvw_registry_transforms_from_json (const Context   *ctx,
                                               JsonNode        *node,
                                               const char      *path,
                                               char           **preset_out,
                                               GVariant       **kwargs_out,
                                               GError         **error);

G_END_DECLS
