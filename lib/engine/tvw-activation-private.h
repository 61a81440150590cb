/* tvw-activation-private.h — activations over spans of floats, vectorised
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Inline, for the epilogues of kernels: SiLU, sigmoid and hard-swish run
 * on every element of the MobileNet and EfficientNet feature maps, where a
 * call to tvw_activation_apply() (and expf()) per element costs more than
 * the convolution that produced it.  The exponential is Cephes' expf
 * polynomial (about 1 ulp), so results stay within a few ulp of the scalar
 * path.  The AVX-512 build has 16-wide versions with the same arithmetic,
 * and spans end in a masked vector rather than a copy.
 *
 * Each kernel set's build compiles its own copy (tvw-isa-private.h): the
 * vector paths where the set's flags give them, the scalar one in the
 * baseline build.
 */

#pragma once

#include <glib.h>
#include <string.h>

#include "tvw-kernels-private.h"

#if defined(__AVX2__) && defined(__FMA__)
# include <immintrin.h>
# define TVW_HAVE_AVX2 1
#endif

G_BEGIN_DECLS

/* GELU, 0.5·x·(1 + erf (x/√2)), erf as Eigen's rational approximation
 * (x·P(x²)/Q(x²) on [-4, 4], ±1 outside): within 5e-7 of erf. */
#define TVW_ERF_P { -2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f, \
                    -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f, \
                    -1.60960333262415e-02f }
#define TVW_ERF_Q { -1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f, \
                    -7.37332916720468e-03f, -1.42647390514189e-02f }

#if defined(__AVX512F__)

/* e^x for x in [-88.4, 88.4] (clamped outside; NaN stays NaN), as
 * tvw_v8_exp(). */
static inline __m512
tvw_v16_exp (__m512 x)
{
  __m512 fx, y, z;
  __m512i n;

  /* The constant first: a NaN (second operand) passes through. */
  x = _mm512_min_ps (_mm512_set1_ps (88.3762626647949f), x);
  x = _mm512_max_ps (_mm512_set1_ps (-88.3762626647949f), x);

  fx = _mm512_roundscale_ps (_mm512_mul_ps (x, _mm512_set1_ps (1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps (fx, _mm512_set1_ps (0.693359375f), x);
  x = _mm512_fnmadd_ps (fx, _mm512_set1_ps (-2.12194440e-4f), x);

  z = _mm512_mul_ps (x, x);
  y = _mm512_set1_ps (1.9875691500e-4f);
  y = _mm512_fmadd_ps (y, x, _mm512_set1_ps (1.3981999507e-3f));
  y = _mm512_fmadd_ps (y, x, _mm512_set1_ps (8.3334519073e-3f));
  y = _mm512_fmadd_ps (y, x, _mm512_set1_ps (4.1665795894e-2f));
  y = _mm512_fmadd_ps (y, x, _mm512_set1_ps (1.6666665459e-1f));
  y = _mm512_fmadd_ps (y, x, _mm512_set1_ps (5.0000001201e-1f));
  y = _mm512_fmadd_ps (y, z, x);
  y = _mm512_add_ps (y, _mm512_set1_ps (1.f));

  n = _mm512_cvtps_epi32 (fx);
  n = _mm512_slli_epi32 (_mm512_add_epi32 (n, _mm512_set1_epi32 (127)), 23);
  return _mm512_mul_ps (y, _mm512_castsi512_ps (n));
}

/* GELU as 0.5·x·(1 + erf (x/√2)), vectorised with TVW_ERF_P/Q. */
static inline __m512
tvw_v16_gelu (__m512 x)
{
  static const float p[7] = TVW_ERF_P, q[5] = TVW_ERF_Q;
  __m512 t = _mm512_mul_ps (x, _mm512_set1_ps (0.70710678118654752f));
  __m512 t2, num, den;

  t = _mm512_min_ps (_mm512_max_ps (t, _mm512_set1_ps (-4.f)), _mm512_set1_ps (4.f));
  t2 = _mm512_mul_ps (t, t);
  num = _mm512_set1_ps (p[0]);
  for (int i = 1; i < 7; i++)
    num = _mm512_fmadd_ps (num, t2, _mm512_set1_ps (p[i]));
  den = _mm512_set1_ps (q[0]);
  for (int i = 1; i < 5; i++)
    den = _mm512_fmadd_ps (den, t2, _mm512_set1_ps (q[i]));
  t = _mm512_div_ps (_mm512_mul_ps (t, num), den);
  return _mm512_mul_ps (_mm512_mul_ps (_mm512_set1_ps (0.5f), x),
                        _mm512_add_ps (_mm512_set1_ps (1.f), t));
}

static inline __m512
tvw_v16_activation (__m512        x,
                    TvwActivation act)
{
  const __m512 zero = _mm512_setzero_ps ();
  const __m512 one = _mm512_set1_ps (1.f);
  const __m512 three = _mm512_set1_ps (3.f);
  const __m512 six = _mm512_set1_ps (6.f);

  switch (act)
    {
    case TVW_ACT_NONE:
      return x;
    case TVW_ACT_RELU:
      return _mm512_max_ps (x, zero);
    case TVW_ACT_RELU6:
      return _mm512_min_ps (_mm512_max_ps (x, zero), six);
    case TVW_ACT_SILU:
      return _mm512_div_ps (x, _mm512_add_ps (one, tvw_v16_exp (_mm512_sub_ps (zero, x))));
    case TVW_ACT_SIGMOID:
      return _mm512_div_ps (one, _mm512_add_ps (one, tvw_v16_exp (_mm512_sub_ps (zero, x))));
    case TVW_ACT_HARDSWISH:
      return _mm512_div_ps (_mm512_mul_ps (x, _mm512_min_ps (_mm512_max_ps (_mm512_add_ps (x, three), zero), six)),
                            six);
    case TVW_ACT_HARDSIGMOID:
      return _mm512_div_ps (_mm512_min_ps (_mm512_max_ps (_mm512_add_ps (x, three), zero), six), six);
    case TVW_ACT_GELU:
      return tvw_v16_gelu (x);
    default:
      {
        float v[16];

        _mm512_storeu_ps (v, x);
        for (int i = 0; i < 16; i++)
          v[i] = tvw_activation_apply (v[i], act);
        return _mm512_loadu_ps (v);
      }
    }
}

#endif

#ifdef TVW_HAVE_AVX2

/* e^x for x in [-88.4, 88.4] (clamped outside; NaN stays NaN). */
static inline __m256
tvw_v8_exp (__m256 x)
{
  const __m256 one = _mm256_set1_ps (1.f);
  __m256 fx, y, z;
  __m256i n;

  /* The constant first: a NaN (second operand) passes through. */
  x = _mm256_min_ps (_mm256_set1_ps (88.3762626647949f), x);
  x = _mm256_max_ps (_mm256_set1_ps (-88.3762626647949f), x);

  /* x = n·ln2 + r, |r| ≤ ln2 / 2 */
  fx = _mm256_round_ps (_mm256_mul_ps (x, _mm256_set1_ps (1.44269504088896341f)),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps (fx, _mm256_set1_ps (0.693359375f), x);
  x = _mm256_fnmadd_ps (fx, _mm256_set1_ps (-2.12194440e-4f), x);

  z = _mm256_mul_ps (x, x);
  y = _mm256_set1_ps (1.9875691500e-4f);
  y = _mm256_fmadd_ps (y, x, _mm256_set1_ps (1.3981999507e-3f));
  y = _mm256_fmadd_ps (y, x, _mm256_set1_ps (8.3334519073e-3f));
  y = _mm256_fmadd_ps (y, x, _mm256_set1_ps (4.1665795894e-2f));
  y = _mm256_fmadd_ps (y, x, _mm256_set1_ps (1.6666665459e-1f));
  y = _mm256_fmadd_ps (y, x, _mm256_set1_ps (5.0000001201e-1f));
  y = _mm256_fmadd_ps (y, z, x);
  y = _mm256_add_ps (y, one);

  /* · 2^n: n ∈ [-127, 127] after the clamp. */
  n = _mm256_cvtps_epi32 (fx);
  n = _mm256_slli_epi32 (_mm256_add_epi32 (n, _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (y, _mm256_castsi256_ps (n));
}

/* GELU as tvw_v16_gelu (). */
static inline __m256
tvw_v8_gelu (__m256 x)
{
  static const float p[7] = TVW_ERF_P, q[5] = TVW_ERF_Q;
  __m256 t = _mm256_mul_ps (x, _mm256_set1_ps (0.70710678118654752f));
  __m256 t2, num, den;

  t = _mm256_min_ps (_mm256_max_ps (t, _mm256_set1_ps (-4.f)), _mm256_set1_ps (4.f));
  t2 = _mm256_mul_ps (t, t);
  num = _mm256_set1_ps (p[0]);
  for (int i = 1; i < 7; i++)
    num = _mm256_fmadd_ps (num, t2, _mm256_set1_ps (p[i]));
  den = _mm256_set1_ps (q[0]);
  for (int i = 1; i < 5; i++)
    den = _mm256_fmadd_ps (den, t2, _mm256_set1_ps (q[i]));
  t = _mm256_div_ps (_mm256_mul_ps (t, num), den);
  return _mm256_mul_ps (_mm256_mul_ps (_mm256_set1_ps (0.5f), x),
                        _mm256_add_ps (_mm256_set1_ps (1.f), t));
}

static inline __m256
tvw_v8_activation (__m256        x,
                   TvwActivation act)
{
  const __m256 zero = _mm256_setzero_ps ();
  const __m256 one = _mm256_set1_ps (1.f);
  const __m256 three = _mm256_set1_ps (3.f);
  const __m256 six = _mm256_set1_ps (6.f);

  switch (act)
    {
    case TVW_ACT_NONE:
      return x;
    case TVW_ACT_RELU:
      return _mm256_max_ps (x, zero);
    case TVW_ACT_RELU6:
      return _mm256_min_ps (_mm256_max_ps (x, zero), six);
    case TVW_ACT_SILU:
      return _mm256_div_ps (x, _mm256_add_ps (one, tvw_v8_exp (_mm256_sub_ps (zero, x))));
    case TVW_ACT_SIGMOID:
      return _mm256_div_ps (one, _mm256_add_ps (one, tvw_v8_exp (_mm256_sub_ps (zero, x))));
    case TVW_ACT_HARDSWISH:
      return _mm256_div_ps (_mm256_mul_ps (x, _mm256_min_ps (_mm256_max_ps (_mm256_add_ps (x, three), zero), six)),
                            six);
    case TVW_ACT_HARDSIGMOID:
      return _mm256_div_ps (_mm256_min_ps (_mm256_max_ps (_mm256_add_ps (x, three), zero), six), six);
    case TVW_ACT_GELU:
      return tvw_v8_gelu (x);
    default:
      {
        float v[8];

        _mm256_storeu_ps (v, x);
        for (int i = 0; i < 8; i++)
          v[i] = tvw_activation_apply (v[i], act);
        return _mm256_loadu_ps (v);
      }
    }
}

#endif

/* @act on @n floats in place. */
static inline void
tvw_activation_apply_span (float         *x,
                           gsize          n,
                           TvwActivation  act)
{
  gsize i = 0;

  if (act == TVW_ACT_NONE)
    return;

#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps (x + i, tvw_v16_activation (_mm512_loadu_ps (x + i), act));
  if (i < n)
    {
      const __mmask16 m = (__mmask16) ((1u << (n - i)) - 1);

      _mm512_mask_storeu_ps (x + i, m, tvw_v16_activation (_mm512_maskz_loadu_ps (m, x + i), act));
    }
#elif defined(TVW_HAVE_AVX2)
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (x + i, tvw_v8_activation (_mm256_loadu_ps (x + i), act));
  if (i < n)
    {
      float tail[8] = { 0 };

      memcpy (tail, x + i, (n - i) * sizeof (float));
      _mm256_storeu_ps (tail, tvw_v8_activation (_mm256_loadu_ps (tail), act));
      memcpy (x + i, tail, (n - i) * sizeof (float));
    }
#else
  for (; i < n; i++)
    x[i] = tvw_activation_apply (x[i], act);
#endif
}

G_END_DECLS
