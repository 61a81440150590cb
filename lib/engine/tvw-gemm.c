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

/* c[MR×NR] (+)= a[MR×kc] · b[kc×NR]; rows of a are @lda apart. */
static inline void
micro_kernel (int          kc,
              const float *a0,
              gsize        lda,
              const float *b,
              float       *c,
              gsize        ldc,
              gboolean     accumulate)
{
  const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda, *a4 = a3 + lda, *a5 = a4 + lda;
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
micro_kernel (int          kc,
              const float *a,
              gsize        lda,
              const float *b,
              float       *c,
              gsize        ldc,
              gboolean     accumulate)
{
  float acc[MR][NR];

  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++)
      acc[i][j] = accumulate ? c[i * ldc + j] : 0.f;

  for (int kk = 0; kk < kc; kk++)
    for (int i = 0; i < MR; i++)
      {
        float x = a[i * lda + kk];

        for (int j = 0; j < NR; j++)
          acc[i][j] += x * b[(gsize) kk * NR + j];
      }

  for (int i = 0; i < MR; i++)
    memcpy (c + i * ldc, acc[i], sizeof acc[i]);
}

#endif

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
  for (int i = 0; i < rows; i++)
    {
      float *o = c + i * ldc;
      const float *r = residual != NULL ? residual + i * ldr : NULL;

      for (int j = 0; j < cols; j++)
        {
          float v = o[j] + bias[j];

          if (r != NULL)
            v += r[j];
          if (act == TVW_ACT_RELU)
            v = v > 0.f ? v : 0.f;
          else if (act != TVW_ACT_NONE)
            v = tvw_activation_apply (v, act);
          o[j] = v;
        }
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
  const float *pad_rows[MR];

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

                  if (rows == MR && cols == NR)
                    micro_kernel (kc, ap, lda, bp, cp, ldc, !first);
                  else
                    {
                      /* Edge tile: through a full-size buffer, the missing
                       * rows reading row 0 again. */
                      for (int r = 0; r < MR; r++)
                        pad_rows[r] = ap + (gsize) (r < rows ? r : 0) * lda;
                      if (!first)
                        for (int r = 0; r < rows; r++)
                          memcpy (tmp + r * NR, cp + (gsize) r * ldc, cols * sizeof (float));

                      /* The micro-kernel takes evenly spaced rows: copy
                       * the edge rows of A into place when they are not. */
                      {
                        float arows[MR * KC];

                        for (int r = 0; r < MR; r++)
                          memcpy (arows + r * KC, pad_rows[r], kc * sizeof (float));
                        micro_kernel (kc, arows, KC, bp, tmp, NR, !first);
                      }

                      for (int r = 0; r < rows; r++)
                        memcpy (cp + (gsize) r * ldc, tmp + r * NR, cols * sizeof (float));
                    }

                  if (last)
                    tile_epilogue (cp, rows, cols, ldc, bias + col,
                                   residual != NULL ? residual + (gsize) i * ldr + col : NULL,
                                   ldr, act);
                }
            }
        }
    }
}
