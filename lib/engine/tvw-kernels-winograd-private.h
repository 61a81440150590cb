/* tvw-kernels-winograd-private.h — 3×3 stride-1 convolutions, Winograd F(4, 3)
 * and F(2, 3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"
#include "tvw-kernels-private.h"

G_BEGIN_DECLS

/* Whether a convolution of @p's shape runs as Winograd — 3×3, stride 1,
 * padding 1, no dilation, no groups, 16 to 512×512 channels — and with
 * which weights: 4 when F(4×4, 3×3) pays at @p's map size and batch (the
 * weights for it, on which F(2, 3) can run too), 2 when F(2×2, 3×3) does
 * (its weights alone: 16 matrices instead of 36), 0 when im2col does
 * better.  The op decides once, at load, from the sizes the model was
 * built for; each run then picks the tile its weights allow. */
int      tvw_winograd_choose         (const TvwConvParams *p);

/* The transformed weights for @tile: F(4, 3)'s 36 GEMM panel sets of
 * cin×cout (F(2, 3) runs on 16 of them), or F(2, 3)'s 16. */
gsize    tvw_winograd_packed_floats  (int           cin,
                                      int           cout,
                                      int           tile);
/* Transforms PyTorch's [cout][cin][3][3] @weight, each output channel
 * scaled by @scale (a folded BatchNorm), into the column panels
 * [@panel_begin, @panel_end) (of TVW_GEMM_NR output channels) of @packed,
 * for @tile. */
void     tvw_winograd_pack           (const float  *weight,
                                      const double *scale,
                                      int           cin,
                                      int           cout,
                                      int           tile,
                                      int           panel_begin,
                                      int           panel_end,
                                      float        *packed);

gsize    tvw_winograd_scratch_floats (const TvwConvParams *p,
                                      int                  n_threads);
void     tvw_kernel_winograd_conv2d  (const TvwConvParams *p,
                                      const float         *input,
                                      const float         *residual,
                                      float               *output,
                                      float               *scratch,
                                      gsize                scratch_per_thread,
                                      int                  n_threads);

G_END_DECLS
