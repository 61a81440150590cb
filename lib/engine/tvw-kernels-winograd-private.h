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

/* Whether a convolution of this shape runs as Winograd: 3×3, stride 1,
 * padding 1, no dilation, no groups, 16 to 512×512 channels.  Each call
 * then picks F(4×4, 3×3) or F(2×2, 3×3) for its map size and batch. */
gboolean tvw_winograd_supports       (int kh, int kw, int sh, int sw, int ph, int pw,
                                      int dh, int dw, int groups, int cin, int cout);

/* The transformed weights: F(4, 3)'s 36 GEMM panel sets of cin×cout, of
 * which F(2, 3) uses 16. */
gsize    tvw_winograd_packed_floats  (int           cin,
                                      int           cout);
/* Transforms PyTorch's [cout][cin][3][3] @weight, each output channel
 * scaled by @scale (a folded BatchNorm), into the column panels
 * [@panel_begin, @panel_end) (of TVW_GEMM_NR output channels) of @packed. */
void     tvw_winograd_pack           (const float  *weight,
                                      const double *scale,
                                      int           cin,
                                      int           cout,
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
