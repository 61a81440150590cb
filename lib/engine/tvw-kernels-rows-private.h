/* tvw-kernels-rows-private.h — softmax and LayerNorm over rows of floats
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"

G_BEGIN_DECLS

/* Biases a softmax row may add first (attention's mask and position
 * bias). */
#define TVW_SOFTMAX_MAX_BIAS 2

/* Row r of @rows rows of @n floats, at @x + r·@ld, becomes
 * softmax (row + bias[0] row r + …) in place; bias[i]'s row r is at
 * @bias[i] + r·@bias_ld[i] (@n_bias ≤ TVW_SOFTMAX_MAX_BIAS).  A row with
 * a NaN, or whose largest value is infinite, is NaN, as in PyTorch.  On
 * the calling thread. */
void  tvw_kernel_softmax_rows    (float              *x,
                                  gsize               ld,
                                  gsize               rows,
                                  gsize               n,
                                  int                 n_bias,
                                  const float *const *bias,
                                  const gsize        *bias_ld);

/* @rows rows of @n floats, @x and @y contiguous:
 * y = (x − mean) / sqrt (var + @eps) · @w + @b with the biased variance,
 * the statistics accumulated in double over two passes; @w and @b
 * nullable.  @y may be @x.  On the calling thread. */
void  tvw_kernel_layer_norm_rows (const float        *x,
                                  float              *y,
                                  gsize               rows,
                                  gsize               n,
                                  const float        *w,
                                  const float        *b,
                                  double              eps);

G_END_DECLS
