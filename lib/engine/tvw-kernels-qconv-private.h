/* tvw-kernels-qconv-private.h — int8 convolutions with fbgemm's requantisation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Activations are quint8 (channels-last), weights qint8: the products are
 * summed in int32, then the zero points are taken out with the weights'
 * column sums (and the rows' sums when a weight zero point is not 0), and
 * each output is requantised in float with a float bias, as fbgemm and
 * PyTorch's onednn engine do: y = clamp (nearbyint (acc · (sx·sw[c] / sy)
 * + bias[c] / sy) + zy), the product and sum in one fused multiply-add.
 * (fbgemm groups it as (acc + bias / (sx·sw)) · (sx·sw / sy), which
 * rounds differently at ties; this grouping matches onednn's output
 * bit for bit on almost every element, the only int8 engine here.)
 *
 * The GEMM's weights are packed once, the same for every instruction set,
 * in panels of TVW_QGEMM_NR output channels: for each group of four
 * reduction indices k, NR × 4 bytes (channel-major, the 4 k inside), the
 * layout VNNI's vpdpbusd reads.  The reduction runs over
 * [ky][kx][ci of the group], K padded with zeros to a multiple of 4.
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"

G_BEGIN_DECLS

#define TVW_QGEMM_NR 16

typedef struct
{
  int           n, h, w, cin, cout;
  int           kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int           oh, ow;
  gboolean      depthwise;
  /* GEMM: packed panels (tvw_qgemm_packed_bytes () per group, groups back
   * to back).  Depthwise: [ky·kw + kx][c] int16, the zero point taken
   * out. */
  const void   *weight;
  const gint32 *col_sum;     /* [cout]: Σ_k w (GEMM only) */
  const gint32 *w_zero;      /* [cout], or NULL when every one is 0 */
  const float  *mult;        /* [cout]: sx·sw[c]/sy */
  const float  *bias;        /* [cout]: bias[c]/sy */
  int           x_zero, y_zero;
  int           y_min, y_max;
} TvwQConvParams;

/* Reduction length of a group, padded. */
static inline int
tvw_qgemm_kp (int k)
{
  return (k + 3) / 4 * 4;
}

static inline gsize
tvw_qgemm_packed_bytes (int k,
                        int n)
{
  return (gsize) tvw_qgemm_kp (k) * ((n + TVW_QGEMM_NR - 1) / TVW_QGEMM_NR * TVW_QGEMM_NR);
}

/* Packs one group's weights @w ([n][k] int8 values as floats, PyTorch's
 * [oc][ci][ky][kx] order with @taps = ky·kx) into panels, reordering k to
 * [tap][ci]; @col_sum receives Σ_k of each of the n columns. */
void  tvw_qgemm_pack            (const float  *w,
                                 int           n,
                                 int           cin_g,
                                 int           taps,
                                 gint8        *packed,
                                 gint32       *col_sum);

gsize tvw_qconv_scratch_bytes   (const TvwQConvParams *p);

/* @x: N×H×W×cin u8, @y: N×OH×OW×cout u8; @scratch has
 * tvw_qconv_scratch_bytes () for each of @n_threads threads. */
void  tvw_kernel_qconv2d        (const TvwQConvParams *p,
                                 const guint8         *x,
                                 guint8               *y,
                                 guint8               *scratch,
                                 int                   n_threads);

/* FloatFunctional add (add_relu): y = q (fma (a, as, −za·as) + fma (b, bs,
 * −zb·bs)) over @n bytes, as PyTorch's vectorised CPU kernel. */
void  tvw_kernel_qadd           (const guint8         *a,
                                 float                 a_scale,
                                 int                   a_zero,
                                 const guint8         *b,
                                 float                 b_scale,
                                 int                   b_zero,
                                 guint8               *y,
                                 gsize                 n,
                                 float                 y_scale,
                                 int                   y_zero,
                                 gboolean              relu);

/* Which inner kernel runs: 2 = VNNI (AVX-512 VNNI or AVX-VNNI), 1 =
 * AVX2 without VNNI, 0 = portable C.  tvw_qgemm_limit () caps it (tests
 * run every variant the CPU has); it returns the one now in use. */
int   tvw_qgemm_variant         (void);
int   tvw_qgemm_limit           (int                   max_variant);

G_END_DECLS
