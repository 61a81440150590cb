/* tvw-weights-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-weights.h"
#include "tvw-weights-enum.h"

G_BEGIN_DECLS

/* Everything a weights entry is made of.  The registry fills one in from the
 * catalog or from a card and hands it to tvw_weights_new(), which takes the
 * strings and references it needs. */
typedef struct
{
  const char *name;         /* "IMAGENET1K_V2" */
  const char *url;          /* nullable for cards with a local file */
  const char *local_file;   /* nullable, absolute */
  const char *sha256;       /* nullable, lower-case hex */
  const char *preset;       /* "ImageClassification", … */
  GVariant   *kwargs;       /* a{sv}, the preset's keyword arguments */
  GVariant   *meta;         /* a{sv}, torchvision's meta */
  guint       num_classes;  /* used when meta has no categories */
  gboolean    builtin;
} TvwWeightsInfo;

/* TvwWeights: created by the registry only, owned by its enum. */
TvwWeights     *tvw_weights_new                (TvwWeightsEnum        *owner,
                                                const TvwWeightsInfo  *info);
void            tvw_weights_set_default        (TvwWeights            *self,
                                                gboolean               is_default);

/* TvwWeightsEnum: created by the registry only, which keeps them forever. */
TvwWeightsEnum *tvw_weights_enum_new           (const char            *name,
                                                const char            *builder,
                                                gboolean               builtin);
gboolean        tvw_weights_enum_is_builtin    (TvwWeightsEnum        *self);
/* Looks @name up ("DEFAULT" included) without a GError; transfer none. */
TvwWeights     *tvw_weights_enum_find          (TvwWeightsEnum        *self,
                                                const char            *name);
/* Appends entries without emitting anything; returns the position of the
 * first one so that the caller can emit items-changed once it has let go of
 * the registry lock. */
guint           tvw_weights_enum_append        (TvwWeightsEnum        *self,
                                                GPtrArray             *entries,
                                                TvwWeights            *new_default);
void            tvw_weights_enum_emit_added    (TvwWeightsEnum        *self,
                                                guint                  position,
                                                guint                  n_added);
/* The entry names, for "did you mean …?" (free the container only). */
GPtrArray      *tvw_weights_enum_dup_names     (TvwWeightsEnum        *self);

G_END_DECLS
