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

#if defined(__AVX2__)
# include <immintrin.h>
#endif
#if defined(__AVX512F__)
# define HAVE_AVX512_KERNEL 1
#elif defined(__AVX2__) && defined(__FMA__)
# define HAVE_AVX2_KERNEL 1
#endif

#define MR 6
#define NR TVW_GEMM_NR
#define KC 256
#define MC 72

int
tvw_gemm_mr (void)
{
  return TVW_GEMM_MR;
}

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

void
tvw_gemm_transpose_panel_rows (const float *const  src[NR],
                               const double       *s,
                               int                 ci,
                               float              *dst)
{
#if defined(__AVX2__)
  /* In registers, eight rows at a time: a compiler turns the plain loop
   * into gathers, slow on most x86. */
  for (int half = 0; half < NR / 8; half++)
    {
      __m256 r[8], t[8], u[8];

      for (int j = 0; j < 8; j++)
        {
          const float *row = src[half * 8 + j] + ci;
          __m256d f = _mm256_set1_pd (s[half * 8 + j]);
          __m128 lo = _mm256_cvtpd_ps (_mm256_mul_pd (_mm256_cvtps_pd (_mm_loadu_ps (row)), f));
          __m128 hi = _mm256_cvtpd_ps (_mm256_mul_pd (_mm256_cvtps_pd (_mm_loadu_ps (row + 4)), f));

          r[j] = _mm256_insertf128_ps (_mm256_castps128_ps256 (lo), hi, 1);
        }
      for (int j = 0; j < 8; j += 2)
        {
          t[j] = _mm256_unpacklo_ps (r[j], r[j + 1]);
          t[j + 1] = _mm256_unpackhi_ps (r[j], r[j + 1]);
        }
      for (int j = 0; j < 8; j += 4)
        {
          u[j] = _mm256_shuffle_ps (t[j], t[j + 2], _MM_SHUFFLE (1, 0, 1, 0));
          u[j + 1] = _mm256_shuffle_ps (t[j], t[j + 2], _MM_SHUFFLE (3, 2, 3, 2));
          u[j + 2] = _mm256_shuffle_ps (t[j + 1], t[j + 3], _MM_SHUFFLE (1, 0, 1, 0));
          u[j + 3] = _mm256_shuffle_ps (t[j + 1], t[j + 3], _MM_SHUFFLE (3, 2, 3, 2));
        }
      for (int c = 0; c < 4; c++)
        {
          _mm256_storeu_ps (dst + c * NR + half * 8,
                            _mm256_permute2f128_ps (u[c], u[c + 4], 0x20));
          _mm256_storeu_ps (dst + (c + 4) * NR + half * 8,
                            _mm256_permute2f128_ps (u[c], u[c + 4], 0x31));
        }
    }
#else
  for (int c = 0; c < 8; c++)
    for (int j = 0; j < NR; j++)
      dst[c * NR + j] = (float) ((double) src[j][ci + c] * s[j]);
#endif
}

/* What the last K block does to a tile before it is stored. */
typedef struct
{
  const float   *bias;      /* NULL: a plain product */
  const float   *residual;  /* the tile's first row of it */
  gsize          ldr;
  TvwActivation  act;
} Epilogue;

#ifdef HAVE_AVX2_KERNEL

/* c[MR×NR] (+)= a[MR×kc] · b[kc×NR]; @a holds the MR rows (an edge tile
 * repeats one).  With @ep, its bias, residual and activation are applied
 * in registers before the store. */
static inline void
micro_kernel (int                kc,
              const float *const a[MR],
              const float       *b,
              float             *c,
              gsize              ldc,
              gboolean           accumulate,
              const Epilogue    *ep)
{
  const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;

  /* As the AVX-512 kernel does: the residual's lines on their way while
   * the K loop runs. */
  if (ep != NULL && ep->residual != NULL)
    for (int r = 0; r < MR; r++)
      _mm_prefetch ((const char *) (ep->residual + r * ep->ldr), _MM_HINT_T0);

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

  if (ep != NULL)
    {
      const __m256 bias0 = _mm256_loadu_ps (ep->bias), bias1 = _mm256_loadu_ps (ep->bias + 8);

#define EPILOGUE_ROW(r, x0, x1)                                             \
      do                                                                    \
        {                                                                   \
          x0 = _mm256_add_ps (x0, bias0);                                   \
          x1 = _mm256_add_ps (x1, bias1);                                   \
          if (ep->residual != NULL)                                         \
            {                                                               \
              x0 = _mm256_add_ps (x0, _mm256_loadu_ps (ep->residual + (r) * ep->ldr));     \
              x1 = _mm256_add_ps (x1, _mm256_loadu_ps (ep->residual + (r) * ep->ldr + 8)); \
            }                                                               \
          x0 = tvw_v8_activation (x0, ep->act);                             \
          x1 = tvw_v8_activation (x1, ep->act);                             \
        }                                                                   \
      while (0)
      EPILOGUE_ROW (0, c00, c01);
      EPILOGUE_ROW (1, c10, c11);
      EPILOGUE_ROW (2, c20, c21);
      EPILOGUE_ROW (3, c30, c31);
      EPILOGUE_ROW (4, c40, c41);
      EPILOGUE_ROW (5, c50, c51);
#undef EPILOGUE_ROW
    }

  _mm256_storeu_ps (c + 0 * ldc, c00); _mm256_storeu_ps (c + 0 * ldc + 8, c01);
  _mm256_storeu_ps (c + 1 * ldc, c10); _mm256_storeu_ps (c + 1 * ldc + 8, c11);
  _mm256_storeu_ps (c + 2 * ldc, c20); _mm256_storeu_ps (c + 2 * ldc + 8, c21);
  _mm256_storeu_ps (c + 3 * ldc, c30); _mm256_storeu_ps (c + 3 * ldc + 8, c31);
  _mm256_storeu_ps (c + 4 * ldc, c40); _mm256_storeu_ps (c + 4 * ldc + 8, c41);
  _mm256_storeu_ps (c + 5 * ldc, c50); _mm256_storeu_ps (c + 5 * ldc + 8, c51);
}

#elif !defined(HAVE_AVX512_KERNEL)

static inline void
micro_kernel (int                kc,
              const float *const a[MR],
              const float       *b,
              float             *c,
              gsize              ldc,
              gboolean           accumulate,
              const Epilogue    *ep G_GNUC_UNUSED)
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

#ifdef HAVE_AVX512_KERNEL

/* AVX-512: MR_512 rows × two panels (32 columns) per register tile, 24 of
 * the 32 vector registers accumulating.  C's edges are masked loads and
 * stores, so no tile goes through a buffer; on the last K block bias,
 * residual and ReLU are applied in registers before the store. */

#define MR_512 12
#define TILE_ROWS MR_512
#define TILE_PANELS 2
#define BLOCK_ROWS 96
#define B_AHEAD 64

static inline __attribute__ ((always_inline)) void
kernel_512 (const int           mr,
            const int           np,
            int                 kc,
            const float *const  a[MR_512],
            const float        *b0,
            const float        *b1,
            float              *c,
            gsize               ldc,
            int                 rows,
            int                 cols,
            gboolean            accumulate,
            const Epilogue     *ep)
{
  const __mmask16 m0 = cols >= NR ? 0xffff : (__mmask16) ((1u << cols) - 1);
  const __mmask16 m1 = cols >= 2 * NR ? 0xffff :
                       cols > NR ? (__mmask16) ((1u << (cols - NR)) - 1) : 0;
  __m512 acc[MR_512][2];

  /* The residual's lines are fetched now, so that they arrive while the
   * K loop runs: the epilogue would otherwise stall on each of them. */
  if (ep != NULL && ep->residual != NULL)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        if (r < rows)
          {
            _mm_prefetch ((const char *) (ep->residual + r * ep->ldr), _MM_HINT_T0);
            if (np == 2)
              _mm_prefetch ((const char *) (ep->residual + r * ep->ldr + NR), _MM_HINT_T0);
          }
    }

  /* And C's, for writing, when this K block stores it without loading. */
  if (!accumulate)
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        if (r < rows)
          {
            _mm_prefetch ((const char *) (c + r * ldc), _MM_HINT_ET0);
            if (np == 2)
              _mm_prefetch ((const char *) (c + r * ldc + NR), _MM_HINT_ET0);
          }
    }

#pragma GCC unroll 12
  for (int r = 0; r < mr; r++)
    {
      const gboolean load = accumulate && r < rows;

      acc[r][0] = load ? _mm512_maskz_loadu_ps (m0, c + r * ldc) : _mm512_setzero_ps ();
      if (np == 2)
        acc[r][1] = load ? _mm512_maskz_loadu_ps (m1, c + r * ldc + NR) : _mm512_setzero_ps ();
    }

  for (int kk = 0; kk < kc; kk++)
    {
      const __m512 v0 = _mm512_loadu_ps (b0 + (gsize) kk * NR);

      /* B's lines ahead, past the latency of memory: the first tile of
       * a row block meets them there (a few tiles share a slice of B at
       * batch 1, on 7×7 or 14×14 maps and in transformers). */
      _mm_prefetch ((const char *) (b0 + (gsize) (kk + B_AHEAD) * NR), _MM_HINT_T0);
      if (np == 2)
        _mm_prefetch ((const char *) (b1 + (gsize) (kk + B_AHEAD) * NR), _MM_HINT_T0);
      const __m512 v1 = np == 2 ? _mm512_loadu_ps (b1 + (gsize) kk * NR) : v0;

#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          const __m512 x = _mm512_set1_ps (a[r][kk]);

          acc[r][0] = _mm512_fmadd_ps (x, v0, acc[r][0]);
          if (np == 2)
            acc[r][1] = _mm512_fmadd_ps (x, v1, acc[r][1]);
        }
    }

  if (ep != NULL && ep->bias != NULL)
    {
      const __m512 bias0 = _mm512_maskz_loadu_ps (m0, ep->bias);
      const __m512 bias1 = np == 2 ? _mm512_maskz_loadu_ps (m1, ep->bias + NR) : bias0;
      const __m512 zero = _mm512_setzero_ps ();

#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        {
          acc[r][0] = _mm512_add_ps (acc[r][0], bias0);
          if (np == 2)
            acc[r][1] = _mm512_add_ps (acc[r][1], bias1);
          if (ep->residual != NULL && r < rows)
            {
              const float *res = ep->residual + r * ep->ldr;

              acc[r][0] = _mm512_add_ps (acc[r][0], _mm512_maskz_loadu_ps (m0, res));
              if (np == 2)
                acc[r][1] = _mm512_add_ps (acc[r][1], _mm512_maskz_loadu_ps (m1, res + NR));
            }
          if (ep->act == TVW_ACT_RELU)
            {
              acc[r][0] = _mm512_max_ps (acc[r][0], zero);
              if (np == 2)
                acc[r][1] = _mm512_max_ps (acc[r][1], zero);
            }
          else if (ep->act != TVW_ACT_NONE)
            {
              /* In registers too: applied to the stored tile, row by
               * row, SiLU made an EfficientNet stem twice as slow. */
              acc[r][0] = tvw_v16_activation (acc[r][0], ep->act);
              if (np == 2)
                acc[r][1] = tvw_v16_activation (acc[r][1], ep->act);
            }
        }
    }

  /* Full columns with plain stores: only the edge tiles need masks, and
   * a masked store can cost more than a plain one. */
  if (m0 == 0xffff && (np == 1 || m1 == 0xffff))
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        if (r < rows)
          {
            _mm512_storeu_ps (c + r * ldc, acc[r][0]);
            if (np == 2)
              _mm512_storeu_ps (c + r * ldc + NR, acc[r][1]);
          }
    }
  else
    {
#pragma GCC unroll 12
      for (int r = 0; r < mr; r++)
        if (r < rows)
          {
            _mm512_mask_storeu_ps (c + r * ldc, m0, acc[r][0]);
            if (np == 2)
              _mm512_mask_storeu_ps (c + r * ldc + NR, m1, acc[r][1]);
          }
    }

}

/* One tile of C: @rows rows (@a holds TILE_ROWS, an edge repeating
 * one) by @cols columns of @np panels, over a K block; @ep on the last.
 * Here the smallest register tile that holds @rows rows. */
static inline void
tile (int                 np,
      int                 kc,
      const float *const  a[TILE_ROWS],
      const float        *b0,
      const float        *b1,
      float              *c,
      gsize               ldc,
      int                 rows,
      int                 cols,
      gboolean            accumulate,
      const Epilogue     *ep)
{
  if (np == 2)
    {
      if (rows > 8)
        kernel_512 (12, 2, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
      else if (rows > 4)
        kernel_512 (8, 2, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
      else
        kernel_512 (4, 2, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
    }
  else
    {
      if (rows > 8)
        kernel_512 (12, 1, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
      else if (rows > 4)
        kernel_512 (8, 1, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
      else
        kernel_512 (4, 1, kc, a, b0, b1, c, ldc, rows, cols, accumulate, ep);
    }
}

#else  /* !HAVE_AVX512_KERNEL */

#define TILE_ROWS MR
#define TILE_PANELS 1
#define BLOCK_ROWS MC

/* One tile of C (see above): here MR×NR, an edge tile through a
 * full-size buffer, the epilogue after the store. */
static inline void
tile (int                 np,
      int                 kc,
      const float *const  a[TILE_ROWS],
      const float        *b0,
      const float        *b1,
      float              *c,
      gsize               ldc,
      int                 rows,
      int                 cols,
      gboolean            accumulate,
      const Epilogue     *ep)
{
  float tmp[MR * NR];
  /* The AVX2 kernel applies the epilogue to a whole tile in registers
   * (a pass over the stored tile, row by row, cost as much as the
   * product on a stem); edge tiles and the generic kernel, after it. */
#ifdef HAVE_AVX2_KERNEL
  const gboolean fused = ep != NULL && ep->bias != NULL && rows == MR && cols == NR;
#else
  const gboolean fused = FALSE;
#endif

  if (rows == MR && cols == NR)
    micro_kernel (kc, a, b0, c, ldc, accumulate, fused ? ep : NULL);
  else
    {
      if (accumulate)
        for (int r = 0; r < rows; r++)
          memcpy (tmp + r * NR, c + (gsize) r * ldc, cols * sizeof (float));
      micro_kernel (kc, a, b0, tmp, NR, accumulate, NULL);
      for (int r = 0; r < rows; r++)
        memcpy (c + (gsize) r * ldc, tmp + r * NR, cols * sizeof (float));
    }

  if (fused || ep == NULL || ep->bias == NULL)
    return;

  for (int i = 0; i < rows; i++)
    {
      float *o = c + i * ldc;

      for (int j = 0; j < cols; j++)
        o[j] += ep->bias[j];
      if (ep->residual != NULL)
        {
          const float *r = ep->residual + i * ep->ldr;

          for (int j = 0; j < cols; j++)
            o[j] += r[j];
        }
      if (ep->act == TVW_ACT_RELU)
        for (int j = 0; j < cols; j++)
          o[j] = o[j] > 0.f ? o[j] : 0.f;
      else
        tvw_activation_apply_span (o, cols, ep->act);
    }
}

#endif  /* HAVE_AVX512_KERNEL */

/* Rows whose starts lie a multiple of 4 KiB apart (more or less) fall in
 * the same few L1 sets: a register tile's rows then evict each other, and
 * such a GEMM runs ~30 % slower (k = 1024, 2048 or 3072: ResNet's late
 * 1×1 convolutions, ViT's second MLP layer).  Whether the TILE_ROWS rows
 * of a tile, @lda floats apart, put more than A_SET_SHARE of them in one
 * of the 64 sets of a 64-byte-line L1. */
#define A_SET_SHARE 4
/* Up to this much of A (a K block of all its rows) stays in L2 while every
 * panel passes over it: then B is read once, not once per row block. */
#define A_BLOCK_MAX_BYTES (256 * 1024)
#define A_COPY_PAD 16

static gboolean
rows_alias (gsize lda)
{
  guint8 count[64] = { 0 };

  for (int r = 0; r < TILE_ROWS; r++)
    if (++count[(r * lda * sizeof (float) / 64) % 64] > A_SET_SHARE)
      return TRUE;
  return FALSE;
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
  const float *rows_a[TILE_ROWS];
  /* One row tile (a linear layer at batch 1): no panel slice is used
   * twice, so K is not blocked, and each panel is read from start to end
   * (they follow each other: the whole matrix in order, which the
   * prefetchers follow) while C stays in registers. */
  const int kc_max = m <= TILE_ROWS ? MAX (k, 1) : KC;
  /* Row blocks of equal size (in whole tiles), at most BLOCK_ROWS: no
   * short block at the end sweeping B once more for a few rows. */
  const int n_blocks = (gsize) m * kc_max * sizeof (float) <= A_BLOCK_MAX_BYTES ? 1 :
                       MAX ((m + BLOCK_ROWS - 1) / BLOCK_ROWS, 1);
  const int block_rows = ((m + n_blocks - 1) / n_blocks + TILE_ROWS - 1) / TILE_ROWS * TILE_ROWS;
  /* Aliasing rows are copied, a block at a time, to rows of a pitch that
   * does not alias; worth it when the block meets more than one register
   * tile of B (the copy costs about what one tile's FMAs do). */
  const gsize copy_lda = (gsize) kc_max + A_COPY_PAD;
  g_autofree float *copy = NULL;

  if (m <= 0 || panel_begin >= panel_end)
    return;
  if (m > 1 && panel_end - panel_begin > TILE_PANELS && rows_alias (lda))
    copy = g_malloc (sizeof (float) * copy_lda * MIN (m, block_rows));

  for (int k0 = 0; k0 < k; k0 += kc_max)
    {
      const int kc = MIN (kc_max, k - k0);
      const gboolean first = k0 == 0;
      const gboolean last = k0 + kc >= k;

      for (int i0 = 0; i0 < m; i0 += block_rows)
        {
          const int mc = MIN (block_rows, m - i0);
          const float *block = a + (gsize) i0 * lda + k0;
          gsize block_lda = lda;

          if (copy != NULL)
            {
              for (int r = 0; r < mc; r++)
                memcpy (copy + r * copy_lda, block + r * lda, sizeof (float) * kc);
              block = copy;
              block_lda = copy_lda;
            }

          for (int p = panel_begin; p < panel_end; p += TILE_PANELS)
            {
              const int np = MIN (TILE_PANELS, panel_end - p);
              const float *b0 = packed + (gsize) p * NR * k + (gsize) k0 * NR;
              const float *b1 = np > 1 ? b0 + (gsize) NR * k : b0;
              const int col = p * NR;
              const int cols = MIN (np * NR, n - col);

              for (int i = i0; i < i0 + mc; i += TILE_ROWS)
                {
                  const int rows = MIN (TILE_ROWS, i0 + mc - i);
                  const float *ap = block + (gsize) (i - i0) * block_lda;
                  Epilogue ep = {
                    bias != NULL ? bias + col : NULL,
                    residual != NULL ? residual + (gsize) i * ldr + col : NULL,
                    ldr, act,
                  };

                  /* Rows past the edge read the first one again. */
                  for (int r = 0; r < TILE_ROWS; r++)
                    rows_a[r] = ap + (gsize) (r < rows ? r : 0) * block_lda;

                  tile (np, kc, rows_a, b0, b1, c + (gsize) i * ldc + col, ldc,
                        rows, cols, !first, last ? &ep : NULL);
                }
            }
        }
    }
}
