/* tvw-kernels-private.h — compute kernels over NHWC float32 buffers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kernels only compute: shapes were validated and memory planned before they
 * run, so they never fail and never allocate.  Each takes the number of
 * threads to split its work over.
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"
#include "tvw-engine-private.h"

G_BEGIN_DECLS

typedef struct
{
  int n, h, w, cin;            /* input, NHWC */
  int oh, ow, cout;            /* output, NHWC */
  int kh, kw, sh, sw, ph, pw, dh, dw, groups;
  gboolean depthwise;          /* groups == cin == cout */
  gboolean panels;             /* weights in tvw_gemm_pack_b() panels */
  int      winograd;           /* 0, or the tile of the Winograd weights:
                                * 4, F(4, 3)'s 36 matrices (F(2, 3) runs
                                * on 16 of them), or 2, F(2, 3)'s 16 alone */
  /* Packed weights, per group: GEMM panels of the [kh·kw·cin/groups]×
   * [cout/groups] matrix when @panels, else that matrix row-major; for
   * depthwise convolutions [kh·kw][cout]; Winograd's own when @winograd. */
  const float   *weight;
  const float   *bias;         /* [cout], never NULL once prepared */
  TvwActivation  act;
  /* Floats between output pixels, 0 for cout: the output may be a channel
   * slice of a wider buffer (im2col, 1×1 and Winograd paths, without a
   * residual; tvw_conv_writes_pitched ()). */
  int            out_pitch;
} TvwConvParams;

/* Whether tvw_kernel_conv2d () honours @p's out_pitch. */
static inline gboolean
tvw_conv_writes_pitched (const TvwConvParams *p)
{
  return !p->depthwise && (p->groups == 1 || p->panels);
}

/* How many rows of the im2col matrix one task handles, and so the size of
 * the per-thread scratch: shared by the planner and the kernel. */
gsize  tvw_conv_scratch_floats   (const TvwConvParams *p,
                                  int                  n_threads);

void   tvw_kernel_conv2d         (const TvwConvParams *p,
                                  const float         *input,
                                  const float         *residual,
                                  float               *output,
                                  float               *scratch,
                                  gsize                scratch_per_thread,
                                  int                  n_threads);

void   tvw_kernel_activation     (float               *data,
                                  gsize                count,
                                  TvwActivation        act,
                                  int                  n_threads);
/* @rows rows of @c channels, input rows @in_pitch floats apart. */
void   tvw_kernel_channel_affine (const float         *input,
                                  gsize                in_pitch,
                                  float               *output,
                                  gsize                rows,
                                  int                  c,
                                  const float         *scale,
                                  const float         *shift,
                                  TvwActivation        act,
                                  int                  n_threads);
void   tvw_kernel_add            (const float         *a,
                                  const float         *b,
                                  float               *output,
                                  gsize                count,
                                  TvwActivation        act,
                                  int                  n_threads);
void   tvw_kernel_scale_channels (const float         *input,
                                  const float         *gate,
                                  float               *output,
                                  int                  n,
                                  gsize                hw,
                                  int                  c,
                                  int                  n_threads);

typedef struct
{
  int n, h, w, c;
  int oh, ow;
  int kh, kw, sh, sw, ph, pw;
  gboolean count_include_pad;
  int out_pitch;               /* floats between output pixels, 0 for c */
} TvwPoolParams;

void   tvw_kernel_max_pool2d     (const TvwPoolParams *p,
                                  const float         *input,
                                  float               *output,
                                  int                  n_threads);
void   tvw_kernel_avg_pool2d     (const TvwPoolParams *p,
                                  const float         *input,
                                  float               *output,
                                  int                  n_threads);
void   tvw_kernel_adaptive_avg_pool2d (const TvwPoolParams *p,
                                       const float         *input,
                                       float               *output,
                                       int                  n_threads);

void   tvw_kernel_nchw_to_nhwc   (const float         *input,
                                  float               *output,
                                  int                  n,
                                  int                  c,
                                  int                  h,
                                  int                  w,
                                  int                  n_threads);
void   tvw_kernel_nhwc_to_nchw   (const float         *input,
                                  float               *output,
                                  int                  n,
                                  int                  h,
                                  int                  w,
                                  int                  c,
                                  int                  n_threads);

float  tvw_activation_apply      (float                x,
                                  TvwActivation        act);

G_END_DECLS
