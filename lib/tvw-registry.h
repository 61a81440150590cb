/* tvw-registry.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <gio/gio.h>

#include "tvw-version.h"
#include "tvw-model.h"
#include "tvw-weights.h"
#include "tvw-weights-enum.h"

G_BEGIN_DECLS

TVW_AVAILABLE_IN_ALL
char           **tvw_list_models                (const char * const  *include,
                                                 const char * const  *exclude);
TVW_AVAILABLE_IN_ALL
char           **tvw_list_catalog_models        (const char * const  *include,
                                                 const char * const  *exclude);
TVW_AVAILABLE_IN_ALL
gboolean         tvw_is_model_supported         (const char          *name);
TVW_AVAILABLE_IN_ALL
const char      *tvw_get_model_task             (const char          *name,
                                                 GError             **error);

TVW_AVAILABLE_IN_ALL
TvwModel        *tvw_get_model                  (const char          *name,
                                                 const char          *weights,
                                                 GCancellable        *cancellable,
                                                 GError             **error);
TVW_AVAILABLE_IN_ALL
TvwWeightsEnum  *tvw_get_model_weights          (const char          *name,
                                                 GError             **error);
TVW_AVAILABLE_IN_ALL
TvwWeights      *tvw_get_weight                 (const char          *full_name,
                                                 GError             **error);
TVW_AVAILABLE_IN_ALL
GListModel      *tvw_get_weights_enums          (void);
TVW_AVAILABLE_IN_ALL
TvwWeights      *tvw_get_legacy_weights         (const char          *name,
                                                 gboolean             backbone);

TVW_AVAILABLE_IN_ALL
gboolean         tvw_register_weights_from_file (GFile               *card,
                                                 GError             **error);

G_END_DECLS
