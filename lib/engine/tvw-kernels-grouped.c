/* tvw-kernels-grouped.c — depthwise and narrow grouped convolutions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both kernels walk an output row at a time (one task is a row, or part of
 * its channels when a map has few rows), vectorised along the channels
 * (8 floats).  Away from the borders four output pixels are computed
 * together so that each weight load feeds four FMAs; at the borders one
 * pixel at a time, skipping the taps that fall in the padding.
 */

#include "config.h"

#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-grouped-private.h"

/* The taps t ∈ [lo, hi) of a kernel of @k taps (spaced @dil) starting at
 * @start that fall inside [0, size). */
static inline void
valid_taps (int  start,
            int  k,
            int  dil,
            int  size,
            int *lo,
            int *hi)
{
  int l = 0, h = k;

  while (l < k && start + l * dil < 0)
    l++;
  while (h > l && start + (h - 1) * dil >= size)
    h--;

  *lo = l;
  *hi = h;
}

/* Output columns [*a, *b) whose taps all fall inside the row. */
static inline void
interior_columns (const TvwConvParams *p,
                  int                 *a,
                  int                 *b)
{
  int last = p->w - 1 + p->pw - (p->kw - 1) * p->dw;

  *a = MIN ((p->pw + p->sw - 1) / p->sw, p->ow);
  *b = last < 0 ? 0 : MIN (last / p->sw + 1, p->ow);
  *b = MAX (*a, *b);
}

/* Tasks: output rows, split further along the channels (in steps of
 * @align) when there are too few rows to keep every thread busy. */
static int
channel_chunks (const TvwConvParams *p,
                int                  channels,
                int                  align,
                int                  n_threads)
{
  int rows = p->n * p->oh;
  int chunks = 1;

  if (n_threads > 1 && rows < 8 * n_threads)
    chunks = MIN ((8 * n_threads + rows - 1) / rows, channels / (4 * align));

  return MAX (chunks, 1);
}

/* Depthwise */

static void
depthwise_row_scalar (const TvwConvParams *p,
                      const float         *img,
                      int                  oy,
                      int                  c0,
                      int                  c1,
                      const float         *res_row,
                      float               *out_row)
{
  const int c = p->cout;
  const int iy0 = oy * p->sh - p->ph;
  int ky_lo, ky_hi;

  valid_taps (iy0, p->kh, p->dh, p->h, &ky_lo, &ky_hi);

  for (int ox = 0; ox < p->ow; ox++)
    {
      const int ix0 = ox * p->sw - p->pw;
      int kx_lo, kx_hi;

      valid_taps (ix0, p->kw, p->dw, p->w, &kx_lo, &kx_hi);

      for (int ch = c0; ch < c1; ch++)
        {
          float acc = p->bias[ch];

          for (int ky = ky_lo; ky < ky_hi; ky++)
            for (int kx = kx_lo; kx < kx_hi; kx++)
              acc += img[((gssize) (iy0 + ky * p->dh) * p->w + ix0 + kx * p->dw) * c + ch] *
                     p->weight[(gsize) (ky * p->kw + kx) * c + ch];
          if (res_row != NULL)
            acc += res_row[(gsize) ox * c + ch];
          out_row[(gsize) ox * c + ch] = acc;
        }
    }
}

#ifdef TVW_HAVE_AVX2

static inline void
depthwise_store (const TvwConvParams *p,
                 __m256               acc,
                 const float         *res,
                 float               *out)
{
  if (res != NULL)
    acc = _mm256_add_ps (acc, _mm256_loadu_ps (res));
  _mm256_storeu_ps (out, acc);
}

/* Channels [c, c + 8) of output pixel @ox, checking every tap. */
static inline void
depthwise_pixel (const TvwConvParams *p,
                 const float         *img,
                 int                  iy0,
                 int                  ky_lo,
                 int                  ky_hi,
                 int                  ox,
                 int                  c,
                 const float         *res_row,
                 float               *out_row)
{
  const int C = p->cout;
  const int ix0 = ox * p->sw - p->pw;
  __m256 acc = _mm256_loadu_ps (p->bias + c);
  int kx_lo, kx_hi;

  valid_taps (ix0, p->kw, p->dw, p->w, &kx_lo, &kx_hi);

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      const gssize y = iy0 + ky * p->dh;
      const float *wt = p->weight + (gsize) ky * p->kw * C + c;

      for (int kx = kx_lo; kx < kx_hi; kx++)
        acc = _mm256_fmadd_ps (_mm256_loadu_ps (img + (y * p->w + ix0 + kx * p->dw) * C + c),
                               _mm256_loadu_ps (wt + (gsize) kx * C), acc);
    }

  depthwise_store (p, acc, res_row != NULL ? res_row + (gsize) ox * C + c : NULL,
                   out_row + (gsize) ox * C + c);
}

/* Channels [c, c + 8) of output pixels ox … ox + 3, all taps inside. */
static inline void
depthwise_pixels4 (const TvwConvParams *p,
                   const float         *img,
                   int                  iy0,
                   int                  ky_lo,
                   int                  ky_hi,
                   int                  ox,
                   int                  c,
                   const float         *res_row,
                   float               *out_row)
{
  const int C = p->cout;
  const gsize step = (gsize) p->sw * C;     /* between neighbouring outputs */
  const gsize tap = (gsize) p->dw * C;      /* between neighbouring taps */
  __m256 a0, a1, a2, a3;

  a0 = a1 = a2 = a3 = _mm256_loadu_ps (p->bias + c);

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      const float *in = img + ((gsize) (iy0 + ky * p->dh) * p->w + ox * p->sw - p->pw) * C + c;
      const float *wt = p->weight + (gsize) ky * p->kw * C + c;

      for (int kx = 0; kx < p->kw; kx++)
        {
          const __m256 w = _mm256_loadu_ps (wt + (gsize) kx * C);
          const float *x = in + kx * tap;

          a0 = _mm256_fmadd_ps (_mm256_loadu_ps (x), w, a0);
          a1 = _mm256_fmadd_ps (_mm256_loadu_ps (x + step), w, a1);
          a2 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 2 * step), w, a2);
          a3 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 3 * step), w, a3);
        }
    }

  for (int j = 0; j < 4; j++)
    {
      __m256 acc = j == 0 ? a0 : j == 1 ? a1 : j == 2 ? a2 : a3;
      gsize at = (gsize) (ox + j) * C + c;

      depthwise_store (p, acc, res_row != NULL ? res_row + at : NULL, out_row + at);
    }
}

static void
depthwise_row (const TvwConvParams *p,
               const float         *img,
               int                  oy,
               int                  c0,
               int                  c1,
               const float         *res_row,
               float               *out_row)
{
  const int iy0 = oy * p->sh - p->ph;
  int ky_lo, ky_hi, ox_a, ox_b, c;

  valid_taps (iy0, p->kh, p->dh, p->h, &ky_lo, &ky_hi);
  interior_columns (p, &ox_a, &ox_b);

  /* Channel blocks outermost: the block's weights stay in L1 while the
   * row goes by. */
  for (c = c0; c + 8 <= c1; c += 8)
    for (int ox = 0; ox < p->ow;)
      {
        if (ox >= ox_a && ox + 4 <= ox_b)
          {
            depthwise_pixels4 (p, img, iy0, ky_lo, ky_hi, ox, c, res_row, out_row);
            ox += 4;
          }
        else
          depthwise_pixel (p, img, iy0, ky_lo, ky_hi, ox++, c, res_row, out_row);
      }

  if (c < c1)
    depthwise_row_scalar (p, img, oy, c, c1, res_row, out_row);
}

#else

static void
depthwise_row (const TvwConvParams *p,
               const float         *img,
               int                  oy,
               int                  c0,
               int                  c1,
               const float         *res_row,
               float               *out_row)
{
  depthwise_row_scalar (p, img, oy, c0, c1, res_row, out_row);
}

#endif

static void
depthwise (const TvwConvParams *p,
           const float         *input,
           const float         *residual,
           float               *output,
           int                  n_threads)
{
  const int C = p->cout;
  const int rows = p->n * p->oh;
  const int chunks = channel_chunks (p, C, 8, n_threads);
  const int per = ((C + chunks - 1) / chunks + 7) & ~7;
  const int n_tasks = rows * chunks;

#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int task = 0; task < n_tasks; task++)
    {
      const int row = task / chunks;
      const int b = row / p->oh;
      const int oy = row % p->oh;
      const int c0 = (task % chunks) * per;
      const int c1 = MIN (C, c0 + per);
      const gsize at = (gsize) row * p->ow * C;

      tvw_engine_thread_setup ();

      if (c0 < c1)
        {
          depthwise_row (p, input + (gsize) b * p->h * p->w * C, oy, c0, c1,
                         residual != NULL ? residual + at : NULL, output + at);
          /* The activation once per row, while it is in cache: one
           * dispatch rather than one per vector. */
          for (int ox = 0; ox < p->ow; ox++)
            tvw_activation_apply_span (output + at + (gsize) ox * C + c0, c1 - c0, p->act);
        }
    }
}

/* Narrow groups */

/* Group widths up to this many vectors of 8 go through the direct kernel;
 * wider ones are better served by im2col and a GEMM. */
#define GROUPED_MAX_VECTORS 4

gboolean
tvw_kernel_grouped_supports (const TvwConvParams *p)
{
  const int cout_g = p->cout / p->groups;

  if (p->depthwise)
    return TRUE;

#ifdef TVW_HAVE_AVX2
  return p->groups > 1 && cout_g % 8 == 0 && cout_g / 8 <= GROUPED_MAX_VECTORS;
#else
  return FALSE;
#endif
}

#ifdef TVW_HAVE_AVX2

/* Where the weights of vector @v (output channels 8v … 8v + 7 of a group)
 * start, and the distance between their rows: the packing of
 * prepare_conv(), GEMM panels of TVW_GEMM_NR columns or a plain row-major
 * [K][cout_g] matrix. */
typedef struct
{
  const float *base[GROUPED_MAX_VECTORS];
  gsize        ld;
} GroupWeights;

static inline void
group_weights (const TvwConvParams *p,
               int                  g,
               GroupWeights        *gw)
{
  const int cout_g = p->cout / p->groups;
  const int k = p->kh * p->kw * (p->cin / p->groups);

  if (p->panels)
    {
      const float *group = p->weight + (gsize) g * tvw_gemm_packed_floats (k, cout_g);
      const int per_panel = TVW_GEMM_NR / 8;

      for (int v = 0; v < cout_g / 8; v++)
        gw->base[v] = group + (gsize) (v / per_panel) * TVW_GEMM_NR * k + (v % per_panel) * 8;
      gw->ld = TVW_GEMM_NR;
    }
  else
    {
      const float *group = p->weight + (gsize) g * k * cout_g;

      for (int v = 0; v < cout_g / 8; v++)
        gw->base[v] = group + v * 8;
      gw->ld = cout_g;
    }
}

/* @PX ≤ 8 output pixels (@px_step floats apart in the input) × @NV ≤ 4
 * vectors of one group.  @in is the offset in @img of the group's first
 * input channel at the first pixel's top-left tap; taps outside
 * [kx_lo, kx_hi) × [ky_lo, ky_hi) are skipped (they are padding).  The
 * accumulators are named variables (the compiler keeps an array of them on
 * the stack); @NV and @PX are constants after inlining, so the unused ones
 * disappear. */
#define GROUPED_ACC_ROW(j) __m256 a##j##0, a##j##1, a##j##2, a##j##3
#define GROUPED_INIT_ROW(j) \
  if (PX > j) \
    { \
      a##j##0 = b0; a##j##1 = b1; a##j##2 = b2; a##j##3 = b3; \
    }
#define GROUPED_FMA_ROW(j) \
  if (PX > j) \
    { \
      const __m256 xv = _mm256_broadcast_ss (x + j * px_step + ci); \
      a##j##0 = _mm256_fmadd_ps (xv, w0, a##j##0); \
      if (NV > 1) a##j##1 = _mm256_fmadd_ps (xv, w1, a##j##1); \
      if (NV > 2) a##j##2 = _mm256_fmadd_ps (xv, w2, a##j##2); \
      if (NV > 3) a##j##3 = _mm256_fmadd_ps (xv, w3, a##j##3); \
    }
#define GROUPED_STORE_ROW(j) \
  if (PX > j) \
    { \
      grouped_store (p, a##j##0, res, out, j, 0); \
      if (NV > 1) grouped_store (p, a##j##1, res, out, j, 1); \
      if (NV > 2) grouped_store (p, a##j##2, res, out, j, 2); \
      if (NV > 3) grouped_store (p, a##j##3, res, out, j, 3); \
    }

static inline void
grouped_store (const TvwConvParams *p,
               __m256               a,
               const float         *res,
               float               *out,
               int                  j,
               int                  v)
{
  const gsize at = (gsize) j * p->cout + v * 8;

  if (res != NULL)
    a = _mm256_add_ps (a, _mm256_loadu_ps (res + at));
  _mm256_storeu_ps (out + at, a);
}

static inline __attribute__((always_inline)) void
grouped_block (const TvwConvParams *p,
               const GroupWeights  *gw,
               const float         *img,
               gssize               in,
               gsize                px_step,
               int                  ky_lo,
               int                  ky_hi,
               int                  kx_lo,
               int                  kx_hi,
               const float         *bias,
               const float         *res,
               float               *out,
               const int            NV,
               const int            PX)
{
  const int cin_g = p->cin / p->groups;
  const gssize row = (gssize) p->w * p->cin;
  const __m256 zero = _mm256_setzero_ps ();
  const __m256 b0 = _mm256_loadu_ps (bias);
  const __m256 b1 = NV > 1 ? _mm256_loadu_ps (bias + 8) : zero;
  const __m256 b2 = NV > 2 ? _mm256_loadu_ps (bias + 16) : zero;
  const __m256 b3 = NV > 3 ? _mm256_loadu_ps (bias + 24) : zero;
  GROUPED_ACC_ROW (0); GROUPED_ACC_ROW (1); GROUPED_ACC_ROW (2); GROUPED_ACC_ROW (3);
  GROUPED_ACC_ROW (4); GROUPED_ACC_ROW (5); GROUPED_ACC_ROW (6); GROUPED_ACC_ROW (7);

  GROUPED_INIT_ROW (0); GROUPED_INIT_ROW (1); GROUPED_INIT_ROW (2); GROUPED_INIT_ROW (3);
  GROUPED_INIT_ROW (4); GROUPED_INIT_ROW (5); GROUPED_INIT_ROW (6); GROUPED_INIT_ROW (7);

  for (int ky = ky_lo; ky < ky_hi; ky++)
    for (int kx = kx_lo; kx < kx_hi; kx++)
      {
        const float *x = img + (in + (gssize) ky * p->dh * row + (gssize) kx * p->dw * p->cin);
        const gsize kk = (gsize) (ky * p->kw + kx) * cin_g;
        const float *wp0 = gw->base[0] + kk * gw->ld;
        const float *wp1 = gw->base[NV > 1 ? 1 : 0] + kk * gw->ld;
        const float *wp2 = gw->base[NV > 2 ? 2 : 0] + kk * gw->ld;
        const float *wp3 = gw->base[NV > 3 ? 3 : 0] + kk * gw->ld;

        for (int ci = 0; ci < cin_g; ci++)
          {
            const gsize off = (gsize) ci * gw->ld;
            const __m256 w0 = _mm256_loadu_ps (wp0 + off);
            const __m256 w1 = NV > 1 ? _mm256_loadu_ps (wp1 + off) : zero;
            const __m256 w2 = NV > 2 ? _mm256_loadu_ps (wp2 + off) : zero;
            const __m256 w3 = NV > 3 ? _mm256_loadu_ps (wp3 + off) : zero;

            GROUPED_FMA_ROW (0); GROUPED_FMA_ROW (1); GROUPED_FMA_ROW (2); GROUPED_FMA_ROW (3);
            GROUPED_FMA_ROW (4); GROUPED_FMA_ROW (5); GROUPED_FMA_ROW (6); GROUPED_FMA_ROW (7);
          }
      }

  GROUPED_STORE_ROW (0); GROUPED_STORE_ROW (1); GROUPED_STORE_ROW (2); GROUPED_STORE_ROW (3);
  GROUPED_STORE_ROW (4); GROUPED_STORE_ROW (5); GROUPED_STORE_ROW (6); GROUPED_STORE_ROW (7);
}

static inline __attribute__((always_inline)) void
grouped_row_nv (const TvwConvParams *p,
                const float         *img,
                int                  oy,
                int                  g0,
                int                  g1,
                const float         *res_row,
                float               *out_row,
                const int            NV)
{
  const int cout_g = p->cout / p->groups;
  const int cin_g = p->cin / p->groups;
  const int iy0 = oy * p->sh - p->ph;
  const gsize px_step = (gsize) p->sw * p->cin;
  /* Enough accumulators to hide the FMA latency, few enough to stay in
   * the 16 vector registers. */
  const int PX = NV == 1 ? 8 : NV == 2 ? 6 : NV == 3 ? 4 : 3;
  int ky_lo, ky_hi, ox_a, ox_b;

  valid_taps (iy0, p->kh, p->dh, p->h, &ky_lo, &ky_hi);
  interior_columns (p, &ox_a, &ox_b);

  for (int g = g0; g < g1; g++)
    {
      GroupWeights gw;
      const float *bias = p->bias + (gsize) g * cout_g;

      group_weights (p, g, &gw);

      for (int ox = 0; ox < p->ow;)
        {
          const int ix0 = ox * p->sw - p->pw;
          /* The first tap's offset, even when it is in the padding:
           * only valid taps are read. */
          const gssize in = ((gssize) iy0 * p->w + ix0) * p->cin + (gssize) g * cin_g;
          const gsize at = (gsize) ox * p->cout + (gsize) g * cout_g;
          const float *res = res_row != NULL ? res_row + at : NULL;

          if (ox >= ox_a && ox + PX <= ox_b)
            {
              grouped_block (p, &gw, img, in, px_step, ky_lo, ky_hi, 0, p->kw,
                             bias, res, out_row + at, NV, PX);
              ox += PX;
            }
          else
            {
              int kx_lo, kx_hi;

              valid_taps (ix0, p->kw, p->dw, p->w, &kx_lo, &kx_hi);
              grouped_block (p, &gw, img, in, px_step, ky_lo, ky_hi, kx_lo, kx_hi,
                             bias, res, out_row + at, NV, 1);
              ox++;
            }
        }
    }
}

static void
grouped_row (const TvwConvParams *p,
             const float         *img,
             int                  oy,
             int                  g0,
             int                  g1,
             const float         *res_row,
             float               *out_row)
{
  switch ((p->cout / p->groups) / 8)
    {
    case 1:
      grouped_row_nv (p, img, oy, g0, g1, res_row, out_row, 1);
      break;
    case 2:
      grouped_row_nv (p, img, oy, g0, g1, res_row, out_row, 2);
      break;
    case 3:
      grouped_row_nv (p, img, oy, g0, g1, res_row, out_row, 3);
      break;
    case 4:
      grouped_row_nv (p, img, oy, g0, g1, res_row, out_row, 4);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
grouped (const TvwConvParams *p,
         const float         *input,
         const float         *residual,
         float               *output,
         int                  n_threads)
{
  const int rows = p->n * p->oh;
  const int chunks = channel_chunks (p, p->groups, 1, n_threads);
  const int per = (p->groups + chunks - 1) / chunks;
  const int n_tasks = rows * chunks;

#pragma omp parallel for num_threads(n_threads) schedule(static)
  for (int task = 0; task < n_tasks; task++)
    {
      const int row = task / chunks;
      const int b = row / p->oh;
      const int oy = row % p->oh;
      const int g0 = (task % chunks) * per;
      const int g1 = MIN (p->groups, g0 + per);
      const gsize at = (gsize) row * p->ow * p->cout;

      tvw_engine_thread_setup ();

      if (g0 < g1)
        {
          const int cout_g = p->cout / p->groups;

          grouped_row (p, input + (gsize) b * p->h * p->w * p->cin, oy, g0, g1,
                       residual != NULL ? residual + at : NULL, output + at);
          for (int ox = 0; ox < p->ow; ox++)
            tvw_activation_apply_span (output + at + (gsize) ox * p->cout + (gsize) g0 * cout_g,
                                       (gsize) (g1 - g0) * cout_g, p->act);
        }
    }
}

#endif

void
tvw_kernel_grouped_conv2d (const TvwConvParams *p,
                           const float         *input,
                           const float         *residual,
                           float               *output,
                           int                  n_threads)
{
  if (p->depthwise)
    {
      depthwise (p, input, residual, output, n_threads);
      return;
    }

#ifdef TVW_HAVE_AVX2
  grouped (p, input, residual, output, n_threads);
#else
  g_assert_not_reached ();
#endif
}
