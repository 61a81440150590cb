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

/* The network's input (N×3×H×W) as torchvision's googlenet () /
 * inception_v3 () set it up for @config: re-normalised by _transform_input
 * () when transform_input is on, and in @aux_params whether the checkpoint
 * carries the auxiliary heads.  With a weights entry, transform_input
 * defaults to TRUE, the heads are there, and aux_logits=False or
 * init_weights=True are refused (torchvision's ValueError from
 * _ovewrite_named_param): -1 and @error.  Without one, transform_input
 * defaults to FALSE and the heads follow aux_logits (TRUE by default, as
 * in GoogLeNet and Inception3). */
TvwVal   tvw_inception_input      (TvwNet                *net,
                                   const TvwArchitecture *arch,
                                   const TvwBuildConfig  *config,
                                   gboolean              *aux_params,
                                   GError               **error);

/* Average pooling to 1×1, flatten and the Linear “fc” (dropout is an
 * identity at inference) as the graph's output; then tvw_net_check ():
 * N×C×h×w → N×num_classes */
gboolean tvw_inception_classifier (TvwNet                *net,
                                   TvwVal                 x,
                                   const TvwBuildConfig  *config,
                                   GError               **error);

G_END_DECLS
