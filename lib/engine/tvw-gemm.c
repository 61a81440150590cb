/* tvw-gemm.c — single-precision GEMM over weights packed at load time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * C[m×n] = A[m×k] · B[k×n], then bias, residual and activation on each tile
 * while it is in L1.  B (the weights) is packed once, when a model is
 * loaded, into panels of TVW_GEMM_NR columns stored k-major, so a forward
 * pass never repacks weights (OpenBLAS packs both operands on every call).
 * A (activations or im2col rows) is read in place: a row is contiguous.
 *
 * Blocking: K in blocks of KC so a panel slice (KC×NR) stays in L1, rows in
 * blocks of MC so an A block (MC×KC) stays in L2 while every panel of the
 * task passes over it, and an MR×NR register tile in the micro-kernel.
 */

#include "config.h"

#include <string.h>

#include "tvw-gemm-private.h"
#include "tvw-kernels-private.h"
#include "tvw-activation-private.h"

#if defined(__AVX2__) && defined(__FMA__)
# include <immintrin.h>
# define HAVE_AVX2_KERNEL 1
#endif

#define MR 6
#define NR TVW_GEMM_NR
#define KC 256
#define MC 72

gsize
tvw_gemm_packed_floats (int k,
                        int n)
{
  return (gsize) ((n + NR - 1) / NR) * NR * k;
}

void
tvw_gemm_pack_b (const float *b,
                 int          k,
                 int          n,
                 gsize        ldb,
                 float       *packed)
{
  int n_panels = (n + NR - 1) / NR;

  for (int p = 0; p < n_panels; p++)
    {
      float *dst = packed + (gsize) p * NR * k;

      for (int kk = 0; kk < k; kk++)
        for (int j = 0; j < NR; j++)
          {
            int col = p * NR + j;

            dst[(gsize) kk * NR + j] = col < n ? b[(gsize) kk * ldb + col] : 0.f;
          }
    }
}

#ifdef HAVE_AVX2_KERNEL

/* c[MR×NR] (+)= a[MR×kc] · b[kc×NR]; @a holds the MR rows (an edge tile
 * repeats one). */
static inline void
micro_kernel (int                kc,
              const float *const a[MR],
              const float       *b,
              float             *c,
              gsize              ldc,
              gboolean           accumulate)
{
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;

  if (accumulate)
    {
      c00 = _mm256_loadu_ps (c + 0 * ldc); c01 = _mm256_loadu_ps (c + 0 * ldc + 8);
      c10 = _mm256_loadu_ps (c + 1 * ldc); c11 = _mm256_loadu_ps (c + 1 * ldc + 8);
      c20 = _mm256_loadu_ps (c + 2 * ldc); c21 = _mm256_loadu_ps (c + 2 * ldc + 8);
      c30 = _mm256_loadu_ps (c + 3 * ldc); c31 = _mm256_loadu_ps (c + 3 * ldc + 8);
      c40 = _mm256_loadu_ps (c + 4 * ldc); c41 = _mm256_loadu_ps (c + 4 * ldc + 8);
      c50 = _mm256_loadu_ps (c + 5 * ldc); c51 = _mm256_loadu_ps (c + 5 * ldc + 8);
    }
  else
    {
      c00 = c01 = c10 = c11 = c20 = c21 = _mm256_setzero_ps ();
      c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps ();
    }

  for (int kk = 0; kk < kc; kk++)
    {
      __m256 b0 = _mm256_loadu_ps (b);
      __m256 b1 = _mm256_loadu_ps (b + 8);
      __m256 x;

      b += NR;
      x = _mm256_broadcast_ss (a0 + kk);
      c00 = _mm256_fmadd_ps (x, b0, c00); c01 = _mm256_fmadd_ps (x, b1, c01);
      x = _mm256_broadcast_ss (a1 + kk);
      c10 = _mm256_fmadd_ps (x, b0, c10); c11 = _mm256_fmadd_ps (x, b1, c11);
      x = _mm256_broadcast_ss (a2 + kk);
      c20 = _mm256_fmadd_ps (x, b0, c20); c21 = _mm256_fmadd_ps (x, b1, c21);
      x = _mm256_broadcast_ss (a3 + kk);
      c30 = _mm256_fmadd_ps (x, b0, c30); c31 = _mm256_fmadd_ps (x, b1, c31);
      x = _mm256_broadcast_ss (a4 + kk);
      c40 = _mm256_fmadd_ps (x, b0, c40); c41 = _mm256_fmadd_ps (x, b1, c41);
      x = _mm256_broadcast_ss (a5 + kk);
      c50 = _mm256_fmadd_ps (x, b0, c50); c51 = _mm256_fmadd_ps (x, b1, c51);
    }

  _mm256_storeu_ps (c + 0 * ldc, c00); _mm256_storeu_ps (c + 0 * ldc + 8, c01);
  _mm256_storeu_ps (c + 1 * ldc, c10); _mm256_storeu_ps (c + 1 * ldc + 8, c11);
  _mm256_storeu_ps (c + 2 * ldc, c20); _mm256_storeu_ps (c + 2 * ldc + 8, c21);
  _mm256_storeu_ps (c + 3 * ldc, c30); _mm256_storeu_ps (c + 3 * ldc + 8, c31);
  _mm256_storeu_ps (c + 4 * ldc, c40); _mm256_storeu_ps (c + 4 * ldc + 8, c41);
  _mm256_storeu_ps (c + 5 * ldc, c50); _mm256_storeu_ps (c + 5 * ldc + 8, c51);
}

#else

static inline void
micro_kernel (int                kc,
              const float *const a[MR],
              const float       *b,
              float             *c,
              gsize              ldc,
              gboolean           accumulate)
{
  float acc[MR][NR];

  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++)
      acc[i][j] = accumulate ? c[i * ldc + j] : 0.f;

  for (int kk = 0; kk < kc; kk++)
    for (int i = 0; i < MR; i++)
      {
        float x = a[i][kk];

        for (int j = 0; j < NR; j++)
          acc[i][j] += x * b[(gsize) kk * NR + j];
      }

  for (int i = 0; i < MR; i++)
    memcpy (c + i * ldc, acc[i], sizeof acc[i]);
}

#endif

/* Bias, residual and activation on a tile while it is in L1; nothing for a
 * plain product (@bias NULL). */
static inline void
tile_epilogue (float               *c,
               int                  rows,
               int                  cols,
               gsize                ldc,
               const float         *bias,
               const float         *residual,
               gsize                ldr,
               TvwActivation        act)
{
  if (bias == NULL)
    return;

  for (int i = 0; i < rows; i++)
    {
      float *o = c + i * ldc;

      for (int j = 0; j < cols; j++)
        o[j] += bias[j];
      if (residual != NULL)
        {
          const float *r = residual + i * ldr;

          for (int j = 0; j < cols; j++)
            o[j] += r[j];
        }
      if (act == TVW_ACT_RELU)
        for (int j = 0; j < cols; j++)
          o[j] = o[j] > 0.f ? o[j] : 0.f;
      else
        tvw_activation_apply_span (o, cols, act);
    }
}

void
tvw_gemm_packed (int                 m,
                 int                 k,
                 const float        *a,
                 gsize               lda,
                 const float        *packed,
                 int                 n,
                 int                 panel_begin,
                 int                 panel_end,
                 float              *c,
                 gsize               ldc,
                 const float        *bias,
                 const float        *residual,
                 gsize               ldr,
                 TvwActivation       act)
{
  float tmp[MR * NR];
  const float *rows_a[MR];

  for (int k0 = 0; k0 < k; k0 += KC)
    {
      const int kc = MIN (KC, k - k0);
      const gboolean first = k0 == 0;
      const gboolean last = k0 + kc >= k;

      for (int i0 = 0; i0 < m; i0 += MC)
        {
          const int mc = MIN (MC, m - i0);

          for (int p = panel_begin; p < panel_end; p++)
            {
              const float *bp = packed + (gsize) p * NR * k + (gsize) k0 * NR;
              const int col = p * NR;
              const int cols = MIN (NR, n - col);

              for (int i = i0; i < i0 + mc; i += MR)
                {
                  const int rows = MIN (MR, i0 + mc - i);
                  const float *ap = a + (gsize) i * lda + k0;
                  float *cp = c + (gsize) i * ldc + col;

                  /* An edge tile repeats its first row in the missing
                   * ones, and goes through a full-size buffer. */
                  for (int r = 0; r < MR; r++)
                    rows_a[r] = ap + (gsize) (r < rows ? r : 0) * lda;

                  if (rows == MR && cols == NR)
                    micro_kernel (kc, rows_a, bp, cp, ldc, !first);
                  else
                    {
                      if (!first)
                        for (int r = 0; r < rows; r++)
                          memcpy (tmp + r * NR, cp + (gsize) r * ldc, cols * sizeof (float));
                      micro_kernel (kc, rows_a, bp, tmp, NR, !first);
                      for (int r = 0; r < rows; r++)
                        memcpy (cp + (gsize) r * ldc, tmp + r * NR, cols * sizeof (float));
                    }

                  if (last)
                    tile_epilogue (cp, rows, cols, ldc, bias != NULL ? bias + col : NULL,
                                   residual != NULL ? residual + (gsize) i * ldr + col : NULL,
                                   ldr, act);
                }
            }
        }
    }
}
