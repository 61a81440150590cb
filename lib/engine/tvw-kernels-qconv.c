/* tvw-kernels-qconv.c — int8 convolutions (compiled once per instruction set)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See tvw-kernels-qconv-private.h for the arithmetic.  The GEMM works on
 * blocks of QROWS output pixels: their im2col rows (u8, the input zero
 * point in padding) go to the thread's scratch, unless a 1×1 stride-1
 * convolution can read its input rows as they are; then a register tile
 * of rows × one or two panels sums the products in int32 and the
 * epilogue requantises the tile.  Inner kernels: vpdpbusd (AVX-512 VNNI in
 * the AVX-512 set, AVX-VNNI in the AVX2 set) when the CPU has it; plain
 * AVX2 splits each u8 into its low seven bits and its top bit so that
 * vpmaddubsw never saturates; portable C elsewhere.  Depthwise
 * convolutions are a direct loop over channels the compiler vectorises.
 */

#include "config.h"

#if defined(__x86_64__) || defined(__i386__)
# include <cpuid.h>
#endif

#include <math.h>
#include <string.h>

#if defined(__AVX2__)
# include <immintrin.h>
#endif

#include "tvw-engine-threads-private.h"
#include "tvw-kernels-qconv-private.h"

#define QROWS 48   /* rows of an im2col block: a multiple of each tile's rows */
#define QCHUNK 4   /* panels a task covers when rows are few */

/* The register tile: rows × (np panels of NR int32 columns), acc[r][np·NR]. */
typedef void (*TileFunc) (int           rows,
                          int           np,
                          int           kq,
                          const guint8 *a,
                          gsize         lda,
                          const gint8  *b,
                          gsize         panel_bytes,
                          gint32       *acc);

static void
tile_c (int           rows,
        int           np,
        int           kq,
        const guint8 *a,
        gsize         lda,
        const gint8  *b,
        gsize         panel_bytes,
        gint32       *acc)
{
  for (int r = 0; r < rows; r++)
    for (int p = 0; p < np; p++)
      {
        gint32 sum[TVW_QGEMM_NR] = { 0 };
        const guint8 *ar = a + (gsize) r * lda;
        const gint8 *bp = b + (gsize) p * panel_bytes;

        for (int q = 0; q < kq; q++)
          for (int j = 0; j < TVW_QGEMM_NR; j++)
            for (int i = 0; i < 4; i++)
              sum[j] += (gint32) ar[q * 4 + i] * bp[(q * TVW_QGEMM_NR + j) * 4 + i];
        memcpy (acc + (gsize) r * 2 * TVW_QGEMM_NR + p * TVW_QGEMM_NR, sum, sizeof sum);
      }
}

#if defined(__AVX2__)

static inline gint32
load4 (const guint8 *p)
{
  gint32 v;

  memcpy (&v, p, 4);
  return v;
}

/* vpdpbusd without VNNI: a = lo + 128·hi with lo < 128, so that each
 * vpmaddubsw pair sum stays within int16 (2·127·128 < 32768). */
static inline __m256i
dpbusd_avx2 (__m256i acc,
             __m256i av,
             __m256i w)
{
  const __m256i ones = _mm256_set1_epi16 (1), k128 = _mm256_set1_epi16 (128);
  const __m256i lo = _mm256_and_si256 (av, _mm256_set1_epi8 (0x7f));
  const __m256i hi = _mm256_and_si256 (_mm256_srli_epi16 (av, 7), _mm256_set1_epi8 (1));

  acc = _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16 (lo, w), ones));
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_maddubs_epi16 (hi, w), k128));
}

/* A 256-bit tile, rows × 16 columns (two registers a row), up to 6 rows
 * at once, one panel after the other; @dpbusd sums the products. */
#define TILE_256(name, inline_attrs, attrs, dpbusd)                                   \
  static inline __attribute__ (inline_attrs) void                                     \
  name##_n (const int     rows,                                                       \
            int           kq,                                                         \
            const guint8 *a,                                                          \
            gsize         lda,                                                        \
            const gint8  *b,                                                          \
            gint32       *acc)                                                        \
  {                                                                                   \
    __m256i c0[6], c1[6];                                                             \
                                                                                      \
    for (int r = 0; r < rows; r++)                                                    \
      c0[r] = c1[r] = _mm256_setzero_si256 ();                                        \
    for (int q = 0; q < kq; q++)                                                      \
      {                                                                               \
        const __m256i w0 = _mm256_loadu_si256 ((const __m256i *) (b + q * 64));       \
        const __m256i w1 = _mm256_loadu_si256 ((const __m256i *) (b + q * 64 + 32));  \
                                                                                      \
        for (int r = 0; r < rows; r++)                                                \
          {                                                                           \
            const __m256i av = _mm256_set1_epi32 (load4 (a + (gsize) r * lda + q * 4)); \
                                                                                      \
            c0[r] = dpbusd (c0[r], av, w0);                                           \
            c1[r] = dpbusd (c1[r], av, w1);                                           \
          }                                                                           \
      }                                                                               \
    for (int r = 0; r < rows; r++)                                                    \
      {                                                                               \
        _mm256_storeu_si256 ((__m256i *) (acc + r * 2 * TVW_QGEMM_NR), c0[r]);        \
        _mm256_storeu_si256 ((__m256i *) (acc + r * 2 * TVW_QGEMM_NR + 8), c1[r]);    \
      }                                                                               \
  }                                                                                   \
                                                                                      \
  static __attribute__ (attrs) void                                                   \
  name (int           rows,                                                           \
        int           np,                                                             \
        int           kq,                                                             \
        const guint8 *a,                                                              \
        gsize         lda,                                                            \
        const gint8  *b,                                                              \
        gsize         panel_bytes,                                                    \
        gint32       *acc)                                                            \
  {                                                                                   \
    for (int p = 0; p < np; p++)                                                      \
      for (int r = 0; r < rows; r += 6)                                               \
        {                                                                             \
          const gint8 *bp = b + (gsize) p * panel_bytes;                              \
                                                                                      \
          if (rows - r >= 6)                                                          \
            name##_n (6, kq, a + (gsize) r * lda, lda, bp,                            \
                      acc + (gsize) r * 2 * TVW_QGEMM_NR + p * TVW_QGEMM_NR);         \
          else                                                                        \
            for (int i = r; i < rows; i++)                                            \
              name##_n (1, kq, a + (gsize) i * lda, lda, bp,                          \
                        acc + (gsize) i * 2 * TVW_QGEMM_NR + p * TVW_QGEMM_NR);       \
        }                                                                             \
  }

TILE_256 (tile_avx2, (always_inline), (hot), dpbusd_avx2)

#if !defined(__AVX512F__)
/* AVX-VNNI: vpdpbusd on 256-bit registers. */
TILE_256 (tile_avxvnni, (always_inline, target ("avxvnni")), (target ("avxvnni")),
          _mm256_dpbusd_avx_epi32)
#endif

#endif /* __AVX2__ */

#if defined(__AVX512F__) && defined(__AVX512BW__)

/* AVX-512 VNNI: 8 rows × 2 panels, 16 accumulators. */
static inline __attribute__ ((always_inline, target ("avx512vnni"))) void
tile_vnni512_n (const int     rows,
                const int     np,
                int           kq,
                const guint8 *a,
                gsize         lda,
                const gint8  *b,
                gsize         panel_bytes,
                gint32       *acc)
{
  __m512i c0[8], c1[8];

  for (int r = 0; r < rows; r++)
    c0[r] = c1[r] = _mm512_setzero_si512 ();
  for (int q = 0; q < kq; q++)
    {
      const __m512i w0 = _mm512_loadu_si512 (b + q * 64);
      const __m512i w1 = np > 1 ? _mm512_loadu_si512 (b + panel_bytes + q * 64) : w0;

      for (int r = 0; r < rows; r++)
        {
          const __m512i av = _mm512_set1_epi32 (load4 (a + (gsize) r * lda + q * 4));

          c0[r] = _mm512_dpbusd_epi32 (c0[r], av, w0);
          if (np > 1)
            c1[r] = _mm512_dpbusd_epi32 (c1[r], av, w1);
        }
    }
  for (int r = 0; r < rows; r++)
    {
      _mm512_storeu_si512 (acc + r * 2 * TVW_QGEMM_NR, c0[r]);
      if (np > 1)
        _mm512_storeu_si512 (acc + r * 2 * TVW_QGEMM_NR + TVW_QGEMM_NR, c1[r]);
    }
}

static __attribute__ ((target ("avx512vnni"))) void
tile_vnni512 (int           rows,
              int           np,
              int           kq,
              const guint8 *a,
              gsize         lda,
              const gint8  *b,
              gsize         panel_bytes,
              gint32       *acc)
{
  int r = 0;

  for (; r + 8 <= rows; r += 8)
    {
      if (np > 1)
        tile_vnni512_n (8, 2, kq, a + (gsize) r * lda, lda, b, panel_bytes,
                        acc + (gsize) r * 2 * TVW_QGEMM_NR);
      else
        tile_vnni512_n (8, 1, kq, a + (gsize) r * lda, lda, b, panel_bytes,
                        acc + (gsize) r * 2 * TVW_QGEMM_NR);
    }
  for (; r < rows; r++)
    {
      if (np > 1)
        tile_vnni512_n (1, 2, kq, a + (gsize) r * lda, lda, b, panel_bytes,
                        acc + (gsize) r * 2 * TVW_QGEMM_NR);
      else
        tile_vnni512_n (1, 1, kq, a + (gsize) r * lda, lda, b, panel_bytes,
                        acc + (gsize) r * 2 * TVW_QGEMM_NR);
    }
}

#endif

/* The best variant this set and CPU have, capped by the tests. */
static int variant_limit = 2;

/* CPUID directly: clang 14's __builtin_cpu_supports () knows neither
 * "avx512vnni" nor "avxvnni".  This set runs only when the CPU (and the
 * OS's saved state) has its base ISA, checked by the dispatcher. */
static int
best_variant (void)
{
#if defined(__AVX2__)
  unsigned int eax, ebx, ecx, edx;

# if defined(__AVX512F__) && defined(__AVX512BW__)
  /* AVX512_VNNI: leaf 7, subleaf 0, ECX bit 11 */
  if (__get_cpuid_count (7, 0, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 11)) != 0)
    return 2;
# else
  /* AVX-VNNI: leaf 7, subleaf 1, EAX bit 4 */
  if (__get_cpuid_count (7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 4)) != 0)
    return 2;
# endif
  return 1;
#else
  return 0;
#endif
}

int
tvw_qgemm_variant (void)
{
  return MIN (best_variant (), variant_limit);
}

int
tvw_qgemm_limit (int max_variant)
{
  variant_limit = CLAMP (max_variant, 0, 2);
  return tvw_qgemm_variant ();
}

static TileFunc
choose_tile (void)
{
  switch (tvw_qgemm_variant ())
    {
#if defined(__AVX2__)
    case 2:
# if defined(__AVX512F__) && defined(__AVX512BW__)
      return tile_vnni512;
# else
      return tile_avxvnni;
# endif
    case 1:
      return tile_avx2;
#endif
    default:
      return tile_c;
    }
}

void
tvw_qgemm_pack (const float  *w,
                int           n,
                int           cin_g,
                int           taps,
                gint8        *packed,
                gint32       *col_sum)
{
  const int k = taps * cin_g, kp = tvw_qgemm_kp (k);

  memset (packed, 0, tvw_qgemm_packed_bytes (k, n));
  for (int o = 0; o < n; o++)
    {
      gint8 *panel = packed + (gsize) (o / TVW_QGEMM_NR) * kp * TVW_QGEMM_NR;
      const int j = o % TVW_QGEMM_NR;
      gint32 sum = 0;

      for (int t = 0; t < taps; t++)
        for (int ci = 0; ci < cin_g; ci++)
          {
            const int kk = t * cin_g + ci;
            const float v = w[(gsize) o * k + (gsize) ci * taps + t];
            const gint8 q = (gint8) CLAMP (nearbyintf (v), -128.f, 127.f);

            panel[((kk / 4) * TVW_QGEMM_NR + j) * 4 + kk % 4] = q;
            sum += q;
          }
      col_sum[o] = sum;
    }
}

static inline guint8
requant (const TvwQConvParams *p,
         gint32                v,
         int                   c)
{
  /* One rounding for the product and the sum in every set (the FMA sets
   * would contract it anyway): the same bytes whatever the CPU. */
  float f = fmaf ((float) v, p->mult[c], p->bias[c]);
  int q;

  f = CLAMP (f, -1024.f, 1024.f);
  q = (int) nearbyintf (f) + p->y_zero;
  return (guint8) CLAMP (q, p->y_min, p->y_max);
}

/* requant () on 16 columns at a time, without weight zero points: the
 * same operations, vectorised (cvtps rounds to nearest even as
 * nearbyintf does).  Returns how many columns it did. */
static inline int
requant_vector (const TvwQConvParams *p,
                const gint32         *acc,
                int                   c,
                int                   nc,
                guint8               *y)
{
  int j = 0;
#if defined(__AVX512F__)
  const __m512i xz = _mm512_set1_epi32 (p->x_zero), yz = _mm512_set1_epi32 (p->y_zero);
  const __m512i lo = _mm512_set1_epi32 (p->y_min), hi = _mm512_set1_epi32 (p->y_max);
  const __m512 fmin = _mm512_set1_ps (-1024.f), fmax = _mm512_set1_ps (1024.f);

  for (; j + 16 <= nc; j += 16)
    {
      __m512i v = _mm512_sub_epi32 (_mm512_loadu_si512 (acc + j),
                                    _mm512_mullo_epi32 (xz, _mm512_loadu_si512 (p->col_sum + c + j)));
      __m512 f = _mm512_fmadd_ps (_mm512_cvtepi32_ps (v), _mm512_loadu_ps (p->mult + c + j),
                                  _mm512_loadu_ps (p->bias + c + j));
      __m512i q;

      f = _mm512_min_ps (_mm512_max_ps (f, fmin), fmax);
      q = _mm512_add_epi32 (_mm512_cvtps_epi32 (f), yz);
      q = _mm512_min_epi32 (_mm512_max_epi32 (q, lo), hi);
      _mm_storeu_si128 ((__m128i *) (y + j), _mm512_cvtepi32_epi8 (q));
    }
#elif defined(__AVX2__)
  const __m256i xz = _mm256_set1_epi32 (p->x_zero), yz = _mm256_set1_epi32 (p->y_zero);
  const __m256i lo = _mm256_set1_epi32 (p->y_min), hi = _mm256_set1_epi32 (p->y_max);
  const __m256 fmin = _mm256_set1_ps (-1024.f), fmax = _mm256_set1_ps (1024.f);

  for (; j + 8 <= nc; j += 8)
    {
      __m256i v = _mm256_sub_epi32 (_mm256_loadu_si256 ((const __m256i *) (acc + j)),
                                    _mm256_mullo_epi32 (xz, _mm256_loadu_si256 ((const __m256i *) (p->col_sum + c + j))));
      __m256 f = _mm256_fmadd_ps (_mm256_cvtepi32_ps (v), _mm256_loadu_ps (p->mult + c + j),
                                  _mm256_loadu_ps (p->bias + c + j));
      __m256i q;
      __m128i w;

      f = _mm256_min_ps (_mm256_max_ps (f, fmin), fmax);
      q = _mm256_add_epi32 (_mm256_cvtps_epi32 (f), yz);
      q = _mm256_min_epi32 (_mm256_max_epi32 (q, lo), hi);
      /* 0…255 already: the saturating packs only narrow. */
      w = _mm_packs_epi32 (_mm256_castsi256_si128 (q), _mm256_extracti128_si256 (q, 1));
      _mm_storel_epi64 ((__m128i *) (y + j), _mm_packus_epi16 (w, w));
    }
#endif
  return j;
}

typedef struct
{
  const TvwQConvParams *p;
  const guint8         *x;
  guint8               *y;
  guint8               *scratch;
  gsize                 scratch_bytes;
  TileFunc              tile;
  gint64                m;           /* output pixels */
  int                   row_blocks, chunks, chunk_panels;
  gboolean              direct;      /* A is the input itself */
} QConvJob;

/* The im2col rows [m0, m0 + rows) of group @g into @a (kp bytes apart). */
static void
im2col (const TvwQConvParams *p,
        const guint8         *x,
        gint64                m0,
        int                   rows,
        int                   g,
        guint8               *a,
        int                   kp)
{
  const int cin_g = p->cin / p->groups;
  const int k = p->kh * p->kw * cin_g;

  for (int r = 0; r < rows; r++)
    {
      const gint64 m = m0 + r;
      const int ox = (int) (m % p->ow), oy = (int) (m / p->ow % p->oh);
      const gint64 b = m / ((gint64) p->ow * p->oh);
      guint8 *dst = a + (gsize) r * kp;

      for (int ky = 0; ky < p->kh; ky++)
        {
          const int iy = oy * p->sh - p->ph + ky * p->dh;
          const int ix0 = ox * p->sw - p->pw;

          /* A whole row of taps inside the map, ungrouped and undilated:
           * kw·cin contiguous bytes of the input. */
          if (p->groups == 1 && p->dw == 1 && iy >= 0 && iy < p->h && ix0 >= 0 &&
              ix0 + p->kw <= p->w)
            {
              memcpy (dst, x + (((gsize) b * p->h + iy) * p->w + ix0) * p->cin,
                      (gsize) p->kw * cin_g);
              dst += p->kw * cin_g;
              continue;
            }

          for (int kx = 0; kx < p->kw; kx++)
            {
              const int ix = ox * p->sw - p->pw + kx * p->dw;

              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                memset (dst, p->x_zero, cin_g);
              else
                memcpy (dst, x + (((gsize) b * p->h + iy) * p->w + ix) * p->cin + (gsize) g * cin_g,
                        cin_g);
              dst += cin_g;
            }
        }
      memset (a + (gsize) r * kp + k, 0, kp - k);
    }
}

static void
qconv_task (gpointer data,
            int      task,
            int      thread)
{
  const QConvJob *job = data;
  const TvwQConvParams *p = job->p;
  const int cin_g = p->cin / p->groups, cout_g = p->cout / p->groups;
  const int k = p->kh * p->kw * cin_g, kp = tvw_qgemm_kp (k);
  const gsize panel_bytes = (gsize) kp * TVW_QGEMM_NR;
  const int n_panels = (cout_g + TVW_QGEMM_NR - 1) / TVW_QGEMM_NR;
  const int rb = task % job->row_blocks;
  const int gc = task / job->row_blocks;
  const int g = gc / job->chunks, chunk = gc % job->chunks;
  const gint64 m0 = (gint64) rb * QROWS;
  const int rows = (int) MIN (QROWS, job->m - m0);
  guint8 *scratch = job->scratch + (gsize) thread * job->scratch_bytes;
  gint32 *acc = (gint32 *) scratch;
  int *row_sum = (int *) (scratch + QROWS * 2 * TVW_QGEMM_NR * sizeof (gint32));
  guint8 *a = scratch + QROWS * (2 * TVW_QGEMM_NR + 1) * sizeof (gint32);
  const guint8 *ap;
  gsize lda;

  if (job->direct)
    {
      ap = job->x + (gsize) m0 * p->cin;
      lda = p->cin;
    }
  else
    {
      im2col (p, job->x, m0, rows, g, a, kp);
      ap = a;
      lda = kp;
    }
  if (p->w_zero != NULL)
    for (int r = 0; r < rows; r++)
      {
        int s = 0;

        for (int i = 0; i < k; i++)
          s += ap[(gsize) r * lda + i];
        row_sum[r] = s - k * p->x_zero;
      }

  const int panel_end = MIN (n_panels, (chunk + 1) * job->chunk_panels);

  for (int panel = chunk * job->chunk_panels; panel < panel_end; panel += 2)
    {
      const int np = MIN (2, panel_end - panel);
      const gint8 *b = (const gint8 *) p->weight +
        (gsize) g * tvw_qgemm_packed_bytes (k, cout_g) + (gsize) panel * panel_bytes;
      const int c0 = panel * TVW_QGEMM_NR;
      const int nc = MIN (np * TVW_QGEMM_NR, cout_g - c0);

      job->tile (rows, np, kp / 4, ap, lda, b, panel_bytes, acc);

      for (int r = 0; r < rows; r++)
        {
          const gint32 *ar = acc + (gsize) r * 2 * TVW_QGEMM_NR;
          guint8 *yr = job->y + (gsize) (m0 + r) * p->cout + (gsize) g * cout_g;

          int j = 0;

          if (p->w_zero == NULL)
            j = requant_vector (p, ar, g * cout_g + c0, nc, yr + c0);
          for (; j < nc; j++)
            {
              const int c = g * cout_g + c0 + j;
              gint32 v = ar[j] - p->x_zero * p->col_sum[c];

              if (p->w_zero != NULL)
                v -= p->w_zero[c] * row_sum[r];
              yr[c0 + j] = requant (p, v, c);
            }
        }
    }
}

typedef struct
{
  const TvwQConvParams *p;
  const guint8         *x;
  guint8               *y;
} DepthwiseJob;

/* One output row (n, oy) of a depthwise convolution: all channels of
 * each pixel at once, acc[c] += (x − zx) · (w − zw). */
static void
depthwise_rows (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const DepthwiseJob *job = data;
  const TvwQConvParams *p = job->p;
  const gint16 *w = p->weight;
  const int c_n = p->cout;
  gint32 acc[1024];

  for (gsize row = begin; row < end; row++)
    {
      const int oy = (int) (row % p->oh);
      const gsize b = row / p->oh;

      for (int ox = 0; ox < p->ow; ox++)
        {
          guint8 *yp = job->y + ((b * p->oh + oy) * p->ow + ox) * c_n;

          for (int c0 = 0; c0 < c_n; c0 += 1024)
            {
              const int cn = MIN (1024, c_n - c0);

              memset (acc, 0, cn * sizeof (gint32));
              for (int ky = 0; ky < p->kh; ky++)
                {
                  const int iy = oy * p->sh - p->ph + ky * p->dh;

                  if (iy < 0 || iy >= p->h)
                    continue;
                  for (int kx = 0; kx < p->kw; kx++)
                    {
                      const int ix = ox * p->sw - p->pw + kx * p->dw;
                      const guint8 *xp;
                      const gint16 *wp;

                      if (ix < 0 || ix >= p->w)
                        continue;
                      xp = job->x + ((b * p->h + iy) * p->w + ix) * c_n + c0;
                      wp = w + (gsize) (ky * p->kw + kx) * c_n + c0;
                      for (int c = 0; c < cn; c++)
                        acc[c] += ((gint32) xp[c] - p->x_zero) * wp[c];
                    }
                }
              for (int c = 0; c < cn; c++)
                yp[c0 + c] = requant (p, acc[c], c0 + c);
            }
        }
    }
}

gsize
tvw_qconv_scratch_bytes (const TvwQConvParams *p)
{
  const int k = p->kh * p->kw * (p->cin / p->groups);

  if (p->depthwise)
    return 0;
  /* acc, row sums, im2col rows; a multiple of 64 bytes, as the threads'
   * scratch areas are laid out. */
  return (QROWS * (2 * TVW_QGEMM_NR + 1) * sizeof (gint32) +
          (gsize) QROWS * tvw_qgemm_kp (k) + 63) / 64 * 64;
}

void
tvw_kernel_qconv2d (const TvwQConvParams *p,
                    const guint8         *x,
                    guint8               *y,
                    guint8               *scratch,
                    int                   n_threads)
{
  const int cout_g = p->cout / p->groups;
  const int n_panels = (cout_g + TVW_QGEMM_NR - 1) / TVW_QGEMM_NR;
  QConvJob job;

  if (p->depthwise)
    {
      DepthwiseJob dj = { p, x, y };
      gsize rows = (gsize) p->n * p->oh;

      tvw_parallel_range (rows, (gint64) rows * p->ow * p->cout < 16384 ? 1 : n_threads,
                          depthwise_rows, &dj);
      return;
    }

  job = (QConvJob) {
    .p = p, .x = x, .y = y, .scratch = scratch,
    .scratch_bytes = tvw_qconv_scratch_bytes (p),
    .tile = choose_tile (),
    .m = (gint64) p->n * p->oh * p->ow,
    .direct = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->ph == 0 &&
              p->pw == 0 && p->groups == 1 && p->cin % 4 == 0,
  };
  job.row_blocks = (int) ((job.m + QROWS - 1) / QROWS);
  /* A task gathers its im2col rows once for all of a group's panels when
   * there are rows enough to share out; a late layer at batch 1 or a
   * linear layer splits its panels instead, to use every thread. */
  job.chunk_panels = job.row_blocks * p->groups >= 4 * n_threads ? n_panels : QCHUNK;
  job.chunks = (n_panels + job.chunk_panels - 1) / job.chunk_panels;
  tvw_parallel_tasks (job.row_blocks * job.chunks * p->groups, n_threads, qconv_task, &job);
}

void
tvw_kernel_qadd (const guint8 *a,
                 float         a_scale,
                 int           a_zero,
                 const guint8 *b,
                 float         b_scale,
                 int           b_zero,
                 guint8       *y,
                 gsize         n,
                 float         y_scale,
                 int           y_zero,
                 gboolean      relu)
{
  const float az = -(float) a_zero * a_scale, bz = -(float) b_zero * b_scale;
  const float inv = 1.f / y_scale, lo = relu ? 0.f : -G_MAXFLOAT;
  gsize i = 0;

#if defined(__AVX2__)
  {
    const __m256 as8 = _mm256_set1_ps (a_scale), bs8 = _mm256_set1_ps (b_scale);
    const __m256 az8 = _mm256_set1_ps (az), bz8 = _mm256_set1_ps (bz);
    const __m256 lo8 = _mm256_set1_ps (lo), inv8 = _mm256_set1_ps (inv);
    const __m256 fmin = _mm256_set1_ps (-1024.f), fmax = _mm256_set1_ps (1024.f);
    const __m256i yz = _mm256_set1_epi32 (y_zero);

    for (; i + 8 <= n; i += 8)
      {
        __m256 va = _mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (a + i))));
        __m256 vb = _mm256_cvtepi32_ps (_mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) (b + i))));
        __m256 v = _mm256_add_ps (_mm256_fmadd_ps (va, as8, az8), _mm256_fmadd_ps (vb, bs8, bz8));
        __m256i q;
        __m128i w;

        v = _mm256_max_ps (v, lo8);
        v = _mm256_min_ps (_mm256_max_ps (_mm256_mul_ps (v, inv8), fmin), fmax);
        q = _mm256_add_epi32 (_mm256_cvtps_epi32 (v), yz);
        /* The saturating packs clamp to 0…255. */
        w = _mm_packs_epi32 (_mm256_castsi256_si128 (q), _mm256_extracti128_si256 (q, 1));
        _mm_storel_epi64 ((__m128i *) (y + i), _mm_packus_epi16 (w, w));
      }
  }
#endif

  for (; i < n; i++)
    {
      float v = MAX (fmaf ((float) a[i], a_scale, az) + fmaf ((float) b[i], b_scale, bz), lo);
      float q = nearbyintf (CLAMP (v * inv, -1024.f, 1024.f)) + (float) y_zero;

      y[i] = (guint8) CLAMP (q, 0.f, 255.f);
    }
}
