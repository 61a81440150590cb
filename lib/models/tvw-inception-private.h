/* tvw-inception-private.h — what GoogLeNet and Inception v3 share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-architectures-private.h"

G_BEGIN_DECLS

/* The keyword arguments both take: transform_input, aux_logits,
 * init_weights. */
extern const char * const tvw_inception_option_names[];

/* torchvision's googlenet () / inception_v3 () logic for @config: whether
 * the input is re-normalised, and whether the checkpoint carries the
 * auxiliary heads' parameters.  With a weights entry, transform_input
 * defaults to TRUE and aux_logits=False or init_weights=True are refused
 * (torchvision's ValueError from _ovewrite_named_param); the checkpoint
 * has the heads.  Without one, transform_input defaults to FALSE and the
 * heads follow aux_logits (TRUE by default, as in GoogLeNet and
 * Inception3). */
gboolean tvw_inception_options         (const TvwArchitecture *arch,
                                        const TvwBuildConfig  *config,
                                        gboolean              *transform_input,
                                        gboolean              *aux_params,
                                        GError               **error);

/* _transform_input (): ImageNet normalisation to the [-1, 1] one the
 * ported weights expect, per channel: N×3×H×W → N×3×H×W */
TvwVal   tvw_inception_transform_input (TvwNet                *net,
                                        TvwVal                 x);

G_END_DECLS
