/* tvw-kernels-grouped.c — depthwise and narrow grouped convolutions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both kernels walk an output row at a time (one task is a row, or part of
 * its channels when a map has few rows), vectorised along the channels
 * (8 floats).  Away from the borders up to eight output pixels are
 * computed together, so that each weight load feeds as many independent
 * FMAs; at the borders one pixel at a time, skipping the taps that fall in
 * the padding.  The activation runs over each finished row, while it is in
 * cache.
 */

#include "config.h"

#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-engine-threads-private.h"
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

#ifdef TVW_HAVE_AVX2
/* Output columns [*a, *b) whose taps all fall inside the row (only the
 * vector kernels treat them apart). */
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
#endif

/* Below this many multiply-adds a parallel region costs more than it
 * saves. */
#define PARALLEL_MIN_FMAS 100000

static int
threads_for (const TvwConvParams *p,
             int                  n_threads)
{
  double fmas = (double) p->n * p->oh * p->ow * p->cout * p->kh * p->kw * (p->cin / p->groups);

  return fmas < PARALLEL_MIN_FMAS ? 1 : n_threads;
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

#if !defined(__AVX512F__)

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

#endif

#if defined(__AVX512F__)

/* AVX-512: sixteen channels per vector.  Full blocks of sixteen channels
 * use plain loads and stores, the last block of a range masked ones (no
 * scalar tail).  ReLU, ReLU6, hardswish, SiLU and sigmoid are applied in
 * registers, the other activations (a call each) over the finished row.
 * Away from the borders, a 3-, 5- or 7-tap row of stride 1 or 2 loads each
 * input pixel once for all the outputs of a block that use it, with the
 * row's weights in registers: 13 loads for the 24 FMAs of a 3×3 row of 8
 * outputs, where a load per FMA would run out of load ports first.  The
 * accumulators and weights are named variables, not arrays, so that they
 * stay in registers (with arrays GCC kept them on the stack). */

/* Whether depthwise_row() applies @act itself. */
#define DEPTHWISE_ROW_ACTIVATES(act) ((act) == TVW_ACT_NONE || (act) == TVW_ACT_RELU || \
                                      (act) == TVW_ACT_RELU6 || (act) == TVW_ACT_HARDSWISH || \
                                      (act) == TVW_ACT_SILU || (act) == TVW_ACT_SIGMOID)

static inline __attribute__((always_inline)) __m512
dw16_load (const float   *x,
           __mmask16      m,
           const gboolean FULL)
{
  return FULL ? _mm512_loadu_ps (x) : _mm512_maskz_loadu_ps (m, x);
}

/* 1/(1 + e^-x), the reciprocal to 14 bits refined by a Newton step
 * (relative error below 1e-7) rather than a division, which on a
 * 3×3 depthwise row would take longer than the convolution. */
static inline __attribute__((always_inline)) __m512
dw16_sigmoid (__m512 x)
{
  const __m512 d = _mm512_add_ps (_mm512_set1_ps (1.f),
                                  tvw_v16_exp (_mm512_sub_ps (_mm512_setzero_ps (), x)));
  const __m512 r = _mm512_rcp14_ps (d);

  return _mm512_mul_ps (r, _mm512_fnmadd_ps (d, r, _mm512_set1_ps (2.f)));
}

/* The fused activations (the others are left to the row pass). */
static inline __attribute__((always_inline)) __m512
dw16_activate (__m512        x,
               TvwActivation act)
{
  const __m512 zero = _mm512_setzero_ps ();
  const __m512 six = _mm512_set1_ps (6.f);

  switch (act)
    {
    case TVW_ACT_RELU:
      return _mm512_max_ps (x, zero);
    case TVW_ACT_RELU6:
      return _mm512_min_ps (_mm512_max_ps (x, zero), six);
    case TVW_ACT_HARDSWISH:
      /* x·relu6(x + 3)/6, a multiplication rather than a division: the
       * divider would take longer than the convolution. */
      {
        const __m512 r6 = _mm512_min_ps (_mm512_max_ps (_mm512_add_ps (x, _mm512_set1_ps (3.f)), zero), six);

        return _mm512_mul_ps (_mm512_mul_ps (x, r6), _mm512_set1_ps (1.f / 6.f));
      }
    case TVW_ACT_SILU:
      return _mm512_mul_ps (x, dw16_sigmoid (x));
    case TVW_ACT_SIGMOID:
      return dw16_sigmoid (x);
    default:
      return x;
    }
}

/* Output pixel @j of a block: the residual, the activation, the store. */
static inline __attribute__((always_inline)) void
dw16_store (__m512         acc,
            const float   *res,
            float         *out,
            __mmask16      m,
            TvwActivation  act,
            const gboolean FULL)
{
  if (res != NULL)
    acc = _mm512_add_ps (acc, dw16_load (res, m, FULL));
  acc = dw16_activate (acc, act);
  if (FULL)
    _mm512_storeu_ps (out, acc);
  else
    _mm512_mask_storeu_ps (out, m, acc);
}

/* Channels [c, c + 16) ∩ @m of output pixel @ox, checking every tap. */
static inline void
dw16_pixel (const TvwConvParams *p,
            const float         *img,
            int                  iy0,
            int                  ky_lo,
            int                  ky_hi,
            int                  ox,
            int                  c,
            __mmask16            m,
            const float         *res_row,
            float               *out_row)
{
  const int C = p->cout;
  const int ix0 = ox * p->sw - p->pw;
  __m512 acc = _mm512_maskz_loadu_ps (m, p->bias + c);
  int kx_lo, kx_hi;

  valid_taps (ix0, p->kw, p->dw, p->w, &kx_lo, &kx_hi);

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      const gssize y = iy0 + ky * p->dh;
      const float *wt = p->weight + (gsize) ky * p->kw * C + c;

      for (int kx = kx_lo; kx < kx_hi; kx++)
        acc = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, img + (y * p->w + ix0 + kx * p->dw) * C + c),
                               _mm512_maskz_loadu_ps (m, wt + (gsize) kx * C), acc);
    }

  dw16_store (acc, res_row != NULL ? res_row + (gsize) ox * C + c : NULL,
              out_row + (gsize) ox * C + c, m, p->act, FALSE);
}

/* Output pixels ox … ox + PX - 1, all taps inside, any kernel width,
 * stride and dilation: a load per FMA, PX accumulators. */
static inline __attribute__((always_inline)) void
dw16_pixels (const TvwConvParams *p,
             const float         *img,
             int                  iy0,
             int                  ky_lo,
             int                  ky_hi,
             int                  ox,
             int                  c,
             __mmask16            m,
             const float         *res_row,
             float               *out_row,
             const int            PX)
{
  const int C = p->cout;
  const gsize step = (gsize) p->sw * C;
  const gsize tap = (gsize) p->dw * C;
  const __m512 bias = _mm512_maskz_loadu_ps (m, p->bias + c);
  __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      const float *in = img + ((gsize) (iy0 + ky * p->dh) * p->w + ox * p->sw - p->pw) * C + c;
      const float *wt = p->weight + (gsize) ky * p->kw * C + c;

      for (int kx = 0; kx < p->kw; kx++)
        {
          const __m512 w = _mm512_maskz_loadu_ps (m, wt + (gsize) kx * C);
          const float *x = in + kx * tap;

#define DW16_FMA(j) \
          if (PX > j) \
            a##j = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, x + j * step), w, a##j)
          DW16_FMA (0); DW16_FMA (1); DW16_FMA (2); DW16_FMA (3);
          DW16_FMA (4); DW16_FMA (5); DW16_FMA (6); DW16_FMA (7);
#undef DW16_FMA
        }
    }

#define DW16_STORE(j) \
  if (PX > j) \
    dw16_store (a##j, res_row != NULL ? res_row + (gsize) (ox + j) * C + c : NULL, \
                out_row + (gsize) (ox + j) * C + c, m, p->act, FALSE)
  DW16_STORE (0); DW16_STORE (1); DW16_STORE (2); DW16_STORE (3);
  DW16_STORE (4); DW16_STORE (5); DW16_STORE (6); DW16_STORE (7);
#undef DW16_STORE
}

/* Weight @k of a row of up to 7 (a constant after unrolling). */
static inline __attribute__((always_inline)) __m512
dw16_pick (int    k,
           __m512 w0,
           __m512 w1,
           __m512 w2,
           __m512 w3,
           __m512 w4,
           __m512 w5,
           __m512 w6)
{
  switch (k)
    {
    case 0: return w0;
    case 1: return w1;
    case 2: return w2;
    case 3: return w3;
    case 4: return w4;
    case 5: return w5;
    default: return w6;
    }
}

/* The same with kernel width KW, stride SW and no dilation along the
 * row, all constants: each of the (PX - 1)·SW + KW input pixels is loaded
 * once.  Taps are added in the order of dw16_pixels().  With CHECK, input
 * pixels outside the row are skipped (they are padding): near the borders
 * and on small maps (7×7 with a 5×5 kernel has no column without padding)
 * a block of pixels still shares its loads.  FULL: all sixteen channels,
 * @m unused. */
static inline __attribute__((always_inline)) void
dw16_slide (const TvwConvParams *p,
            const float         *img,
            int                  iy0,
            int                  ky_lo,
            int                  ky_hi,
            int                  ox,
            int                  c,
            __mmask16            m,
            const float         *res_row,
            float               *out_row,
            const int            PX,
            const int            KW,
            const int            SW,
            const gboolean       CHECK,
            const gboolean       FULL)
{
  const int C = p->cout;
  const int ix0 = ox * SW - p->pw;
  const __m512 bias = dw16_load (p->bias + c, m, FULL);
  const __m512 zero = _mm512_setzero_ps ();
  __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      /* The first input pixel's offset, even in the padding: only those
       * inside are read. */
      const float *in = img + ((gssize) (iy0 + ky * p->dh) * p->w + ix0) * C + c;
      const float *wt = p->weight + (gsize) ky * KW * C + c;
      const __m512 w0 = dw16_load (wt, m, FULL);
      const __m512 w1 = KW > 1 ? dw16_load (wt + C, m, FULL) : zero;
      const __m512 w2 = KW > 2 ? dw16_load (wt + 2 * C, m, FULL) : zero;
      const __m512 w3 = KW > 3 ? dw16_load (wt + 3 * C, m, FULL) : zero;
      const __m512 w4 = KW > 4 ? dw16_load (wt + 4 * C, m, FULL) : zero;
      const __m512 w5 = KW > 5 ? dw16_load (wt + 5 * C, m, FULL) : zero;
      const __m512 w6 = KW > 6 ? dw16_load (wt + 6 * C, m, FULL) : zero;

#pragma GCC unroll 20
      for (int i = 0; i < (PX - 1) * SW + KW; i++)
        {
          __m512 x;

          if (CHECK && (unsigned) (ix0 + i) >= (unsigned) p->w)
            continue;
          x = dw16_load (in + (gssize) i * C, m, FULL);

#define DW16_TAP(j) \
          if (PX > j && i - j * SW >= 0 && i - j * SW < KW) \
            a##j = _mm512_fmadd_ps (x, dw16_pick (i - j * SW, w0, w1, w2, w3, w4, w5, w6), a##j)
          DW16_TAP (0); DW16_TAP (1); DW16_TAP (2); DW16_TAP (3);
          DW16_TAP (4); DW16_TAP (5); DW16_TAP (6); DW16_TAP (7);
#undef DW16_TAP
        }
    }

  /* The residual, then one dispatch on the activation for the block. */
#define DW16_RES(j) \
  if (PX > j) \
    a##j = _mm512_add_ps (a##j, dw16_load (res_row + (gsize) (ox + j) * C + c, m, FULL))
  if (res_row != NULL)
    {
      DW16_RES (0); DW16_RES (1); DW16_RES (2); DW16_RES (3);
      DW16_RES (4); DW16_RES (5); DW16_RES (6); DW16_RES (7);
    }
#undef DW16_RES
#define DW16_ACT(j, ACT) \
  if (PX > j) \
    a##j = dw16_activate (a##j, ACT)
#define DW16_ACT_ALL(ACT) \
  do \
    { \
      DW16_ACT (0, ACT); DW16_ACT (1, ACT); DW16_ACT (2, ACT); DW16_ACT (3, ACT); \
      DW16_ACT (4, ACT); DW16_ACT (5, ACT); DW16_ACT (6, ACT); DW16_ACT (7, ACT); \
    } \
  while (0)
  switch (p->act)
    {
    case TVW_ACT_RELU:
      DW16_ACT_ALL (TVW_ACT_RELU);
      break;
    case TVW_ACT_RELU6:
      DW16_ACT_ALL (TVW_ACT_RELU6);
      break;
    case TVW_ACT_HARDSWISH:
      DW16_ACT_ALL (TVW_ACT_HARDSWISH);
      break;
    case TVW_ACT_SILU:
      DW16_ACT_ALL (TVW_ACT_SILU);
      break;
    case TVW_ACT_SIGMOID:
      DW16_ACT_ALL (TVW_ACT_SIGMOID);
      break;
    default:
      break;
    }
#undef DW16_ACT_ALL
#undef DW16_ACT
#define DW16_STORE(j) \
  if (PX > j) \
    dw16_store (a##j, NULL, out_row + (gsize) (ox + j) * C + c, m, TVW_ACT_NONE, FULL)
  DW16_STORE (0); DW16_STORE (1); DW16_STORE (2); DW16_STORE (3);
  DW16_STORE (4); DW16_STORE (5); DW16_STORE (6); DW16_STORE (7);
#undef DW16_STORE
}

/* Output pixels [0, ow) of channels [c0, c1) by blocks of 8, 4, 2 and 1
 * pixels; those in blocks that reach into the padding ([0, ox_a) and
 * [ox_b, ow)) check their taps.  All the channels of a block before the
 * next block: the input is read in order, once per output row. */
static inline __attribute__((always_inline)) void
dw16_row (const TvwConvParams *p,
          const float         *img,
          int                  iy0,
          int                  ky_lo,
          int                  ky_hi,
          int                  ox_a,
          int                  ox_b,
          int                  c0,
          int                  c1,
          const float         *res_row,
          float               *out_row,
          const int            KW,
          const int            SW)
{
  const int c_full = c0 + (c1 - c0) / 16 * 16;
  const __mmask16 m = (__mmask16) ((1u << ((c1 - c0) % 16)) - 1);
  int ox = 0;

#define DW16_CHANNELS(PX, CHECK) \
  do \
    { \
      for (int c = c0; c < c_full; c += 16) \
        dw16_slide (p, img, iy0, ky_lo, ky_hi, ox, c, 0xffff, res_row, out_row, PX, KW, SW, CHECK, TRUE); \
      if (c_full < c1) \
        dw16_slide (p, img, iy0, ky_lo, ky_hi, ox, c_full, m, res_row, out_row, PX, KW, SW, CHECK, FALSE); \
    } \
  while (0)
#define DW16_BLOCK(PX) \
  do \
    { \
      if (ox >= ox_a && ox + PX <= ox_b) \
        DW16_CHANNELS (PX, FALSE); \
      else \
        DW16_CHANNELS (PX, TRUE); \
      ox += PX; \
    } \
  while (0)
  while (ox + 8 <= p->ow)
    DW16_BLOCK (8);
  if (ox + 4 <= p->ow)
    DW16_BLOCK (4);
  if (ox + 2 <= p->ow)
    DW16_BLOCK (2);
  if (ox < p->ow)
    DW16_BLOCK (1);
#undef DW16_BLOCK
#undef DW16_CHANNELS
}

/* Interior outputs [ox_a, ox_b) of any shape by blocks of 8, 4, 2 and 1,
 * the others one at a time. */
static inline void
dw16_row_any (const TvwConvParams *p,
              const float         *img,
              int                  iy0,
              int                  ky_lo,
              int                  ky_hi,
              int                  ox_a,
              int                  ox_b,
              int                  c,
              __mmask16            m,
              const float         *res_row,
              float               *out_row)
{
  int ox;

  for (ox = 0; ox < ox_a; ox++)
    dw16_pixel (p, img, iy0, ky_lo, ky_hi, ox, c, m, res_row, out_row);
  for (; ox + 8 <= ox_b; ox += 8)
    dw16_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, m, res_row, out_row, 8);
  if (ox + 4 <= ox_b)
    {
      dw16_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, m, res_row, out_row, 4);
      ox += 4;
    }
  if (ox + 2 <= ox_b)
    {
      dw16_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, m, res_row, out_row, 2);
      ox += 2;
    }
  for (; ox < p->ow; ox++)
    dw16_pixel (p, img, iy0, ky_lo, ky_hi, ox, c, m, res_row, out_row);
}

#ifndef DW16_CHUNK_BYTES
#define DW16_CHUNK_BYTES 8192
#endif

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
  /* The sliding kernels: 3 or 5 taps, stride 1 or 2, no dilation; 7 taps
   * at stride 1 (ConvNeXt). */
  const int shape = p->dw != 1 || p->sw > 2 ? 0 : p->kw == 3 ? p->sw : p->kw == 5 ? 2 + p->sw :
                    p->kw == 7 && p->sw == 1 ? 5 : 0;
  /* 3×3: 224 channels, 5×5: 80, 7×7: 32. */
  const int chunk = MAX (16, DW16_CHUNK_BYTES / (p->kh * p->kw * (int) sizeof (float)) / 16 * 16);
  int ky_lo, ky_hi, ox_a, ox_b;

  valid_taps (iy0, p->kh, p->dh, p->h, &ky_lo, &ky_hi);
  interior_columns (p, &ox_a, &ox_b);

  /* Chunks of channels whose weights take 8 KB stay in L1 while the row
   * goes by. */
  for (int c = c0; c < c1; c += chunk)
    {
      const int ce = MIN (c1, c + chunk);

      switch (shape)
        {
        case 1:
          dw16_row (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, c, ce, res_row, out_row, 3, 1);
          break;
        case 2:
          dw16_row (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, c, ce, res_row, out_row, 3, 2);
          break;
        case 3:
          dw16_row (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, c, ce, res_row, out_row, 5, 1);
          break;
        case 4:
          dw16_row (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, c, ce, res_row, out_row, 5, 2);
          break;
        case 5:
          dw16_row (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, c, ce, res_row, out_row, 7, 1);
          break;
        default:
          for (int cb = c; cb < ce; cb += 16)
            dw16_row_any (p, img, iy0, ky_lo, ky_hi, ox_a, ox_b, cb,
                          ce - cb >= 16 ? 0xffff : (__mmask16) ((1u << (ce - cb)) - 1), res_row, out_row);
          break;
        }
    }
}

#elif defined(TVW_HAVE_AVX2)

/* The activation runs over each finished row. */
#define DEPTHWISE_ROW_ACTIVATES(act) ((act) == TVW_ACT_NONE)

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

/* Channels [c, c + 8) of output pixels ox … ox + PX - 1 (PX ≤ 8, a
 * constant after inlining), all taps inside: eight accumulators hide the
 * FMA latency. */
static inline __attribute__((always_inline)) void
depthwise_pixels (const TvwConvParams *p,
                  const float         *img,
                  int                  iy0,
                  int                  ky_lo,
                  int                  ky_hi,
                  int                  ox,
                  int                  c,
                  const float         *res_row,
                  float               *out_row,
                  const int            PX)
{
  const int C = p->cout;
  const gsize step = (gsize) p->sw * C;     /* between neighbouring outputs */
  const gsize tap = (gsize) p->dw * C;      /* between neighbouring taps */
  const __m256 bias = _mm256_loadu_ps (p->bias + c);
  __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;

  for (int ky = ky_lo; ky < ky_hi; ky++)
    {
      const float *in = img + ((gsize) (iy0 + ky * p->dh) * p->w + ox * p->sw - p->pw) * C + c;
      const float *wt = p->weight + (gsize) ky * p->kw * C + c;

      for (int kx = 0; kx < p->kw; kx++)
        {
          const __m256 w = _mm256_loadu_ps (wt + (gsize) kx * C);
          const float *x = in + kx * tap;

          a0 = _mm256_fmadd_ps (_mm256_loadu_ps (x), w, a0);
          if (PX > 1) a1 = _mm256_fmadd_ps (_mm256_loadu_ps (x + step), w, a1);
          if (PX > 2) a2 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 2 * step), w, a2);
          if (PX > 3) a3 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 3 * step), w, a3);
          if (PX > 4) a4 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 4 * step), w, a4);
          if (PX > 5) a5 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 5 * step), w, a5);
          if (PX > 6) a6 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 6 * step), w, a6);
          if (PX > 7) a7 = _mm256_fmadd_ps (_mm256_loadu_ps (x + 7 * step), w, a7);
        }
    }

#define DEPTHWISE_STORE(j) \
  if (PX > j) \
    depthwise_store (p, a##j, res_row != NULL ? res_row + (gsize) (ox + j) * C + c : NULL, \
                     out_row + (gsize) (ox + j) * C + c)
  DEPTHWISE_STORE (0); DEPTHWISE_STORE (1); DEPTHWISE_STORE (2); DEPTHWISE_STORE (3);
  DEPTHWISE_STORE (4); DEPTHWISE_STORE (5); DEPTHWISE_STORE (6); DEPTHWISE_STORE (7);
#undef DEPTHWISE_STORE
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
        if (ox >= ox_a && ox + 8 <= ox_b)
          {
            depthwise_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, res_row, out_row, 8);
            ox += 8;
          }
        else if (ox >= ox_a && ox + 4 <= ox_b)
          {
            depthwise_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, res_row, out_row, 4);
            ox += 4;
          }
        else if (ox >= ox_a && ox + 2 <= ox_b)
          {
            depthwise_pixels (p, img, iy0, ky_lo, ky_hi, ox, c, res_row, out_row, 2);
            ox += 2;
          }
        else
          depthwise_pixel (p, img, iy0, ky_lo, ky_hi, ox++, c, res_row, out_row);
      }

  if (c < c1)
    depthwise_row_scalar (p, img, oy, c, c1, res_row, out_row);
}

#else

#define DEPTHWISE_ROW_ACTIVATES(act) ((act) == TVW_ACT_NONE)

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

/* What a row task of the direct kernels needs. */
typedef struct
{
  const TvwConvParams *p;
  const float         *input;
  const float         *residual;
  float               *output;
  int                  chunks;   /* channel (or group) chunks per row */
  int                  per;      /* channels (or groups) per chunk */
} RowJob;

static void
depthwise_tasks (gpointer data,
                 gsize    begin,
                 gsize    end,
                 int      thread)
{
  const RowJob *job = data;
  const TvwConvParams *p = job->p;
  const int C = p->cout;

  for (int task = (int) begin; task < (int) end; task++)
    {
      const int row = task / job->chunks;
      const int b = row / p->oh;
      const int oy = row % p->oh;
      const int c0 = (task % job->chunks) * job->per;
      const int c1 = MIN (C, c0 + job->per);
      const gsize at = (gsize) row * p->ow * C;

      if (c0 < c1)
        {
          depthwise_row (p, job->input + (gsize) b * p->h * p->w * C, oy, c0, c1,
                         job->residual != NULL ? job->residual + at : NULL, job->output + at);
          /* The activations depthwise_row() does not apply, once per
           * row while it is in cache: one dispatch rather than one per
           * vector. */
          if (!DEPTHWISE_ROW_ACTIVATES (p->act))
            for (int ox = 0; ox < p->ow; ox++)
              tvw_activation_apply_span (job->output + at + (gsize) ox * C + c0, c1 - c0, p->act);
        }
    }
}

static void
depthwise (const TvwConvParams *p,
           const float         *input,
           const float         *residual,
           float               *output,
           int                  n_threads)
{
  const int C = p->cout;
#if defined(__AVX512F__)
  const int vec = 16;
#else
  const int vec = 8;
#endif
  const int chunks = channel_chunks (p, C, vec, n_threads);
  RowJob job = { p, input, residual, output, chunks, ((C + chunks - 1) / chunks + vec - 1) / vec * vec };

  tvw_parallel_range ((gsize) p->n * p->oh * chunks, n_threads, depthwise_tasks, &job);
}

/* Narrow groups */

gboolean
tvw_kernel_grouped_supports (const TvwConvParams *p)
{
  if (p->depthwise)
    return TRUE;

#ifdef TVW_HAVE_AVX2
  /* Eight output channels per group (RegNet's smallest group width): the
   * im2col + GEMM path would run a GEMM eight columns wide per group.
   * From sixteen on, measured, the GEMM path is as fast or faster. */
  return p->groups > 1 && p->cout / p->groups == 8 && !p->panels;
#else
  return FALSE;
#endif
}

#ifdef TVW_HAVE_AVX2

/* @PX ≤ 8 output pixels (@px_step floats apart in the input) of one group
 * of 8 output channels, whose weights @wg are prepare_conv()'s row-major
 * [K][8] matrix.  @in is the offset in @img of the group's first input
 * channel at the first pixel's top-left tap; taps outside
 * [kx_lo, kx_hi) × [ky_lo, ky_hi) are skipped (they are padding).  The
 * accumulators are named variables, @PX a constant after inlining. */
static inline __attribute__((always_inline)) void
grouped_block (const TvwConvParams *p,
               const float         *wg,
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
               const int            PX)
{
  const int cin_g = p->cin / p->groups;
  const gssize row = (gssize) p->w * p->cin;
  const __m256 b = _mm256_loadu_ps (bias);
  __m256 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;

  for (int ky = ky_lo; ky < ky_hi; ky++)
    for (int kx = kx_lo; kx < kx_hi; kx++)
      {
        const float *x = img + (in + (gssize) ky * p->dh * row + (gssize) kx * p->dw * p->cin);
        const float *w = wg + (gsize) (ky * p->kw + kx) * cin_g * 8;

        for (int ci = 0; ci < cin_g; ci++)
          {
            const __m256 wv = _mm256_loadu_ps (w + ci * 8);

#define GROUPED_FMA(j) \
            if (PX > j) \
              a##j = _mm256_fmadd_ps (_mm256_broadcast_ss (x + j * px_step + ci), wv, a##j)
            GROUPED_FMA (0); GROUPED_FMA (1); GROUPED_FMA (2); GROUPED_FMA (3);
            GROUPED_FMA (4); GROUPED_FMA (5); GROUPED_FMA (6); GROUPED_FMA (7);
#undef GROUPED_FMA
          }
      }

#define GROUPED_STORE(j) \
  if (PX > j) \
    _mm256_storeu_ps (out + (gsize) j * p->cout, \
                      res != NULL ? _mm256_add_ps (a##j, _mm256_loadu_ps (res + (gsize) j * p->cout)) \
                                  : a##j)
  GROUPED_STORE (0); GROUPED_STORE (1); GROUPED_STORE (2); GROUPED_STORE (3);
  GROUPED_STORE (4); GROUPED_STORE (5); GROUPED_STORE (6); GROUPED_STORE (7);
#undef GROUPED_STORE
}

/* Groups [g0, g1) of output row @oy, before the activation. */
static void
grouped_row (const TvwConvParams *p,
             const float         *img,
             int                  oy,
             int                  g0,
             int                  g1,
             const float         *res_row,
             float               *out_row)
{
  const int cin_g = p->cin / p->groups;
  const gsize k = (gsize) p->kh * p->kw * cin_g;
  const int iy0 = oy * p->sh - p->ph;
  const gsize px_step = (gsize) p->sw * p->cin;
  int ky_lo, ky_hi, ox_a, ox_b;

  valid_taps (iy0, p->kh, p->dh, p->h, &ky_lo, &ky_hi);
  interior_columns (p, &ox_a, &ox_b);

  for (int g = g0; g < g1; g++)
    {
      const float *wg = p->weight + (gsize) g * k * 8;
      const float *bias = p->bias + (gsize) g * 8;

      for (int ox = 0; ox < p->ow;)
        {
          const int ix0 = ox * p->sw - p->pw;
          /* The first tap's offset, even when it is in the padding:
           * only valid taps are read. */
          const gssize in = ((gssize) iy0 * p->w + ix0) * p->cin + (gssize) g * cin_g;
          const gsize at = (gsize) ox * p->cout + (gsize) g * 8;
          const float *res = res_row != NULL ? res_row + at : NULL;

          /* Inside: the widest block that fits. */
          if (ox >= ox_a && ox + 8 <= ox_b)
            {
              grouped_block (p, wg, img, in, px_step, ky_lo, ky_hi, 0, p->kw,
                             bias, res, out_row + at, 8);
              ox += 8;
            }
          else if (ox >= ox_a && ox + 4 <= ox_b)
            {
              grouped_block (p, wg, img, in, px_step, ky_lo, ky_hi, 0, p->kw,
                             bias, res, out_row + at, 4);
              ox += 4;
            }
          else if (ox >= ox_a && ox + 2 <= ox_b)
            {
              grouped_block (p, wg, img, in, px_step, ky_lo, ky_hi, 0, p->kw,
                             bias, res, out_row + at, 2);
              ox += 2;
            }
          else
            {
              int kx_lo, kx_hi;

              valid_taps (ix0, p->kw, p->dw, p->w, &kx_lo, &kx_hi);
              grouped_block (p, wg, img, in, px_step, ky_lo, ky_hi, kx_lo, kx_hi,
                             bias, res, out_row + at, 1);
              ox++;
            }
        }
    }
}

static void
grouped_tasks (gpointer data,
               gsize    begin,
               gsize    end,
               int      thread)
{
  const RowJob *job = data;
  const TvwConvParams *p = job->p;

  for (int task = (int) begin; task < (int) end; task++)
    {
      const int row = task / job->chunks;
      const int b = row / p->oh;
      const int oy = row % p->oh;
      const int g0 = (task % job->chunks) * job->per;
      const int g1 = MIN (p->groups, g0 + job->per);
      const gsize at = (gsize) row * p->ow * p->cout;

      if (g0 < g1)
        {
          grouped_row (p, job->input + (gsize) b * p->h * p->w * p->cin, oy, g0, g1,
                       job->residual != NULL ? job->residual + at : NULL, job->output + at);
          for (int ox = 0; ox < p->ow; ox++)
            tvw_activation_apply_span (job->output + at + (gsize) ox * p->cout + (gsize) g0 * 8,
                                       (gsize) (g1 - g0) * 8, p->act);
        }
    }
}

static void
grouped (const TvwConvParams *p,
         const float         *input,
         const float         *residual,
         float               *output,
         int                  n_threads)
{
  const int chunks = channel_chunks (p, p->groups, 1, n_threads);
  RowJob job = { p, input, residual, output, chunks, (p->groups + chunks - 1) / chunks };

  tvw_parallel_range ((gsize) p->n * p->oh * chunks, n_threads, grouped_tasks, &job);
}

#endif

void
tvw_kernel_grouped_conv2d (const TvwConvParams *p,
                           const float         *input,
                           const float         *residual,
                           float               *output,
                           int                  n_threads)
{
  n_threads = threads_for (p, n_threads);

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
