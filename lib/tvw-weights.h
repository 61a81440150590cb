/* tvw-weights.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tvw-version.h"
#include "tvw-transform.h"
#include "tvw-cache.h"

G_BEGIN_DECLS

/* Declared in tvw-weights-enum.h, which needs TvwWeights in turn. */
typedef struct _TvwWeightsEnum TvwWeightsEnum;

#define TVW_TYPE_WEIGHTS (tvw_weights_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwWeights, tvw_weights, TVW, WEIGHTS, GObject)

TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_name           (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_full_name      (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
TvwWeightsEnum     *tvw_weights_get_enum           (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_builder        (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_url            (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_local_file     (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_sha256         (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
gboolean            tvw_weights_is_default         (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
gboolean            tvw_weights_is_builtin         (TvwWeights  *self);

TVW_AVAILABLE_IN_ALL
GVariant           *tvw_weights_get_meta           (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
GVariant           *tvw_weights_lookup_meta        (TvwWeights  *self,
                                                    const char  *key);
TVW_AVAILABLE_IN_ALL
const char * const *tvw_weights_get_categories     (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
guint               tvw_weights_get_num_classes    (TvwWeights  *self);

TVW_AVAILABLE_IN_ALL
const char         *tvw_weights_get_preset         (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
GVariant           *tvw_weights_get_preset_kwargs  (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
TvwTransform       *tvw_weights_transforms         (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
TvwTransform       *tvw_weights_transforms_with    (TvwWeights  *self,
                                                    GVariant    *overrides,
                                                    GError     **error);

TVW_AVAILABLE_IN_ALL
gboolean            tvw_weights_is_cached          (TvwWeights  *self);
TVW_AVAILABLE_IN_ALL
char               *tvw_weights_download           (TvwWeights           *self,
                                                    TvwProgressFunc       progress,
                                                    gpointer              progress_data,
                                                    GCancellable         *cancellable,
                                                    GError              **error);
TVW_AVAILABLE_IN_ALL
void                tvw_weights_download_async     (TvwWeights           *self,
                                                    TvwProgressFunc       progress,
                                                    gpointer              progress_data,
                                                    GDestroyNotify        progress_notify,
                                                    GCancellable         *cancellable,
                                                    GAsyncReadyCallback   callback,
                                                    gpointer              user_data);
TVW_AVAILABLE_IN_ALL
char               *tvw_weights_download_finish    (TvwWeights           *self,
                                                    GAsyncResult         *result,
                                                    GError              **error);

G_END_DECLS
