/* tvw-kernels-rows.c — softmax and LayerNorm over rows of floats
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The transformers' row operations: attention's softmax over the scores
 * of a query (197 of them per row in ViT-B/16, 12·197 rows per layer) and
 * LayerNorm over a token's features.  With expf () per score, ViT-B/16's
 * softmax took three times as long as attention's two matrix products,
 * and LayerNorm with its statistics one double at a time eight times as
 * long as now.  Here the exponential is tvw_v16_exp () (Cephes'
 * polynomial, about 1 ulp), sums of the softmax are taken in float over
 * 16 (8) lanes, LayerNorm's mean and variance in double lanes, two passes
 * as before.  The AVX-512 build ends rows in masked vectors, the AVX2
 * build in scalar code, the baseline build is scalar throughout.
 *
 * Compiled once per instruction set (tvw-isa-private.h).
 */

#include "config.h"

#include <math.h>

#include "tvw-activation-private.h"
#include "tvw-kernels-rows-private.h"

/* ---- softmax --------------------------------------------------------------- */

/* Adds the biases to row[j] for j in [@begin, @n); returns the largest
 * of them and @mx. */
static inline float
add_bias_max_scalar (float              *row,
                     gsize               begin,
                     gsize               n,
                     int                 n_bias,
                     const float *const *bias,
                     float               mx)
{
  for (gsize j = begin; j < n; j++)
    {
      float v = row[j];

      for (int b = 0; b < n_bias; b++)
        v += bias[b][j];
      row[j] = v;
      mx = MAX (mx, v);
    }
  return mx;
}

/* row[j] = e^(row[j] − @mx) for j in [@begin, @n); returns the sum of
 * them and @sum. */
static inline float
exp_sum_scalar (float *row,
                gsize  begin,
                gsize  n,
                float  mx,
                float  sum)
{
  for (gsize j = begin; j < n; j++)
    {
      row[j] = expf (row[j] - mx);
      sum += row[j];
    }
  return sum;
}

#if defined(__AVX512F__)

static inline __mmask16
tail_mask (gsize left)
{
  return left >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << left) - 1);
}

static void
softmax_row (float              *row,
             gsize               n,
             int                 n_bias,
             const float *const *bias)
{
  __m512 vmax = _mm512_set1_ps (-INFINITY), vsum = _mm512_setzero_ps (), vm, inv;

  for (gsize j = 0; j < n; j += 16)
    {
      const __mmask16 m = tail_mask (n - j);
      __m512 v = _mm512_maskz_loadu_ps (m, row + j);

      for (int b = 0; b < n_bias; b++)
        v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (m, bias[b] + j));
      if (n_bias > 0)
        _mm512_mask_storeu_ps (row + j, m, v);
      vmax = _mm512_mask_max_ps (vmax, m, vmax, v);
    }
  vm = _mm512_set1_ps (_mm512_reduce_max_ps (vmax));
  for (gsize j = 0; j < n; j += 16)
    {
      const __mmask16 m = tail_mask (n - j);
      __m512 e = tvw_v16_exp (_mm512_sub_ps (_mm512_maskz_loadu_ps (m, row + j), vm));

      _mm512_mask_storeu_ps (row + j, m, e);
      vsum = _mm512_mask_add_ps (vsum, m, vsum, e);
    }
  inv = _mm512_set1_ps (1.0f / _mm512_reduce_add_ps (vsum));
  for (gsize j = 0; j < n; j += 16)
    {
      const __mmask16 m = tail_mask (n - j);

      _mm512_mask_storeu_ps (row + j, m, _mm512_mul_ps (_mm512_maskz_loadu_ps (m, row + j), inv));
    }
}

#elif defined(TVW_HAVE_AVX2)

static inline float
hmax8 (__m256 v)
{
  __m128 m = _mm_max_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  m = _mm_max_ps (m, _mm_movehl_ps (m, m));
  m = _mm_max_ss (m, _mm_movehdup_ps (m));
  return _mm_cvtss_f32 (m);
}

static inline float
hsum8 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

static void
softmax_row (float              *row,
             gsize               n,
             int                 n_bias,
             const float *const *bias)
{
  const gsize whole = n & ~(gsize) 7;
  __m256 vmax = _mm256_set1_ps (-INFINITY), vsum = _mm256_setzero_ps (), vm, inv;
  float mx, sum;

  for (gsize j = 0; j < whole; j += 8)
    {
      __m256 v = _mm256_loadu_ps (row + j);

      for (int b = 0; b < n_bias; b++)
        v = _mm256_add_ps (v, _mm256_loadu_ps (bias[b] + j));
      if (n_bias > 0)
        _mm256_storeu_ps (row + j, v);
      vmax = _mm256_max_ps (vmax, v);
    }
  mx = add_bias_max_scalar (row, whole, n, n_bias, bias, hmax8 (vmax));
  vm = _mm256_set1_ps (mx);
  for (gsize j = 0; j < whole; j += 8)
    {
      __m256 e = tvw_v8_exp (_mm256_sub_ps (_mm256_loadu_ps (row + j), vm));

      _mm256_storeu_ps (row + j, e);
      vsum = _mm256_add_ps (vsum, e);
    }
  sum = exp_sum_scalar (row, whole, n, mx, hsum8 (vsum));
  inv = _mm256_set1_ps (1.0f / sum);
  for (gsize j = 0; j < whole; j += 8)
    _mm256_storeu_ps (row + j, _mm256_mul_ps (_mm256_loadu_ps (row + j), inv));
  for (gsize j = whole; j < n; j++)
    row[j] *= _mm256_cvtss_f32 (inv);
}

#else

static void
softmax_row (float              *row,
             gsize               n,
             int                 n_bias,
             const float *const *bias)
{
  float mx = add_bias_max_scalar (row, 0, n, n_bias, bias, -INFINITY);
  float inv = 1.0f / exp_sum_scalar (row, 0, n, mx, 0.0f);

  for (gsize j = 0; j < n; j++)
    row[j] *= inv;
}

#endif

void
tvw_kernel_softmax_rows (float              *x,
                         gsize               ld,
                         gsize               rows,
                         gsize               n,
                         int                 n_bias,
                         const float *const *bias,
                         const gsize        *bias_ld)
{
  const float *b[TVW_SOFTMAX_MAX_BIAS] = { NULL };

  n_bias = CLAMP (n_bias, 0, TVW_SOFTMAX_MAX_BIAS);
  for (gsize r = 0; r < rows; r++)
    {
      for (int i = 0; i < n_bias; i++)
        b[i] = bias[i] + r * bias_ld[i];
      softmax_row (x + r * ld, n, n_bias, b);
    }
}

/* ---- LayerNorm --------------------------------------------------------------- */

#if defined(__AVX512F__)

/* Σ (x − @shift), or Σ (x − @shift)² with @squares, over the whole
 * vectors at the start of @x; returns where they end (the caller adds the
 * rest). */
static inline gsize
row_sums (const float *x,
          gsize        n,
          double       shift,
          gboolean     squares,
          double      *sum)
{
  const __m512d m = _mm512_set1_pd (shift);
  __m512d s0 = _mm512_setzero_pd (), s1 = _mm512_setzero_pd ();
  gsize j = 0;

  for (; j + 16 <= n; j += 16)
    {
      const __m512 v = _mm512_loadu_ps (x + j);
      const __m512d d0 = _mm512_sub_pd (_mm512_cvtps_pd (_mm512_castps512_ps256 (v)), m);
      const __m512d d1 = _mm512_sub_pd (_mm512_cvtps_pd (_mm512_extractf32x8_ps (v, 1)), m);

      s0 = squares ? _mm512_fmadd_pd (d0, d0, s0) : _mm512_add_pd (s0, d0);
      s1 = squares ? _mm512_fmadd_pd (d1, d1, s1) : _mm512_add_pd (s1, d1);
    }
  *sum = _mm512_reduce_add_pd (_mm512_add_pd (s0, s1));
  return j;
}

/* y = (x − @m)·@r·w + b, in the scalar order (no fused multiply-add). */
static void
normalize_row (const float *x,
               float       *y,
               gsize        n,
               float        m,
               float        r,
               const float *w,
               const float *b)
{
  const __m512 vm = _mm512_set1_ps (m), vr = _mm512_set1_ps (r);

  for (gsize j = 0; j < n; j += 16)
    {
      const __mmask16 k = tail_mask (n - j);
      __m512 v = _mm512_mul_ps (_mm512_sub_ps (_mm512_maskz_loadu_ps (k, x + j), vm), vr);

      if (w != NULL)
        v = _mm512_mul_ps (v, _mm512_maskz_loadu_ps (k, w + j));
      if (b != NULL)
        v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (k, b + j));
      _mm512_mask_storeu_ps (y + j, k, v);
    }
}

#elif defined(TVW_HAVE_AVX2)

static inline gsize
row_sums (const float *x,
          gsize        n,
          double       shift,
          gboolean     squares,
          double      *sum)
{
  const __m256d m = _mm256_set1_pd (shift);
  __m256d s0 = _mm256_setzero_pd (), s1 = _mm256_setzero_pd ();
  __m128d h;
  gsize j = 0;

  for (; j + 8 <= n; j += 8)
    {
      const __m256d d0 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + j)), m);
      const __m256d d1 = _mm256_sub_pd (_mm256_cvtps_pd (_mm_loadu_ps (x + j + 4)), m);

      s0 = squares ? _mm256_fmadd_pd (d0, d0, s0) : _mm256_add_pd (s0, d0);
      s1 = squares ? _mm256_fmadd_pd (d1, d1, s1) : _mm256_add_pd (s1, d1);
    }
  s0 = _mm256_add_pd (s0, s1);
  h = _mm_add_pd (_mm256_castpd256_pd128 (s0), _mm256_extractf128_pd (s0, 1));
  *sum = _mm_cvtsd_f64 (_mm_add_sd (h, _mm_unpackhi_pd (h, h)));
  return j;
}

#else

/* The baseline build: all in the caller's scalar loops. */
static inline gsize
row_sums (const float *x,
          gsize        n,
          double       shift,
          gboolean     squares,
          double      *sum)
{
  *sum = 0;
  return 0;
}

#endif

#if !defined(__AVX512F__)

/* The AVX2 and the baseline builds: the compiler vectorises this loop as
 * it is (checking at run time that @y is not one of the others' ranges). */
static void
normalize_row (const float *x,
               float       *y,
               gsize        n,
               float        m,
               float        r,
               const float *w,
               const float *b)
{
  for (gsize j = 0; j < n; j++)
    {
      float v = (x[j] - m) * r;

      if (w != NULL)
        v *= w[j];
      if (b != NULL)
        v += b[j];
      y[j] = v;
    }
}

#endif

void
tvw_kernel_layer_norm_rows (const float *x,
                            float       *y,
                            gsize        rows,
                            gsize        n,
                            const float *w,
                            const float *b,
                            double       eps)
{
  for (gsize r = 0; r < rows; r++, x += n, y += n)
    {
      double sum, sq, mean;
      gsize j;

      for (j = row_sums (x, n, 0, FALSE, &sum); j < n; j++)
        sum += x[j];
      mean = sum / MAX (n, 1);
      for (j = row_sums (x, n, mean, TRUE, &sq); j < n; j++)
        sq += (x[j] - mean) * (x[j] - mean);
      normalize_row (x, y, n, (float) mean, (float) (1.0 / sqrt (sq / MAX (n, 1) + eps)), w, b);
    }
}
