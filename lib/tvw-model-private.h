/* tvw-model-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-model.h"
#include "tvw-weights.h"

G_BEGIN_DECLS

/* Inputs larger than this are refused before anything is allocated: a
 * batch of 64 images of 1024×1024 is far beyond what these models are run
 * on, and would need tens of GB of activations. */
#define TVW_MODEL_MAX_INPUT_SIZE   8192
#define TVW_MODEL_MAX_INPUT_PIXELS (64 * 1024 * 1024)

/* Maps the deprecated pretrained / pretrained-backbone properties to the
 * weights entry torchvision maps them to, logging its warnings. */
gboolean  tvw_model_resolve_legacy     (TvwModel      *self,
                                        TvwWeights   **weights,
                                        GError       **error);
/* Whether @name is a torchvision builder (implemented or not). */
gboolean  tvw_model_architecture_known (const char    *name);
/* The local checkpoint of @weights, downloaded if needed. */
char     *tvw_model_fetch_weights      (TvwWeights    *weights,
                                        GCancellable  *cancellable,
                                        GError       **error);

G_END_DECLS
