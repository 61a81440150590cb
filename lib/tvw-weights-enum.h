/* tvw-weights-enum.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tvw-version.h"
#include "tvw-weights.h"

G_BEGIN_DECLS

#define TVW_TYPE_WEIGHTS_ENUM (tvw_weights_enum_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwWeightsEnum, tvw_weights_enum, TVW, WEIGHTS_ENUM, GObject)

TVW_AVAILABLE_IN_ALL
const char *tvw_weights_enum_get_name    (TvwWeightsEnum  *self);
TVW_AVAILABLE_IN_ALL
const char *tvw_weights_enum_get_builder (TvwWeightsEnum  *self);
TVW_AVAILABLE_IN_ALL
TvwWeights *tvw_weights_enum_get_default (TvwWeightsEnum  *self);
TVW_AVAILABLE_IN_ALL
TvwWeights *tvw_weights_enum_lookup      (TvwWeightsEnum  *self,
                                          const char      *name,
                                          GError         **error);

G_END_DECLS
