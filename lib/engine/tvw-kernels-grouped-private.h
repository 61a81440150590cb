/* tvw-kernels-grouped-private.h — depthwise and narrow grouped convolutions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Convolutions whose groups are too narrow for a GEMM to pay off: the
 * depthwise ones of MobileNet and EfficientNet (one channel per group) and
 * the grouped 3×3 of RegNet (8 to 32 channels per group).  Direct kernels
 * over NHWC maps, vectorised along the channels, with the bias, residual
 * and activation applied while the outputs are in registers.
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"
#include "tvw-kernels-private.h"

G_BEGIN_DECLS

/* Whether tvw_kernel_grouped_conv2d() handles @p (weights packed as
 * prepare_conv() packs them). */
gboolean tvw_kernel_grouped_supports  (const TvwConvParams *p);

void     tvw_kernel_grouped_conv2d    (const TvwConvParams *p,
                                       const float         *input,
                                       const float         *residual,
                                       float               *output,
                                       int                  n_threads);

G_END_DECLS
