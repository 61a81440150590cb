/* tvw-kernels-winograd.c — 3×3 stride-1 convolutions as Winograd F(4×4, 3×3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks"
 * (2016): each m×m block of outputs is
 *
 *     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *
 * for the (m + 2)×(m + 2) input tile d around it and each 3×3 kernel g.
 * The element-wise products summed over input channels are (m + 2)²
 * independent GEMMs (tiles × cin by cin × cout).  F(4×4, 3×3) spends 36
 * multiply-adds per 4×4 outputs and channel pair instead of 144 (4× fewer),
 * F(2×2, 3×3) 16 per 2×2 instead of 36 (2.25×).
 *
 * The weights are packed once, as F(4, 3)'s 36 matrices, with Lavin's
 * interpolation points 0, ±1, ±2 and ∞.  F(2, 3)'s points are 0, ±1 and ∞,
 * and a row of G depends only on its point: F(2, 3)'s G rows are F(4, 3)'s
 * times a constant.  So F(2, 3) runs on 16 of the 36 matrices, with those
 * constants (4, −3, −3, 1) moved into its input transform.  Each call picks
 * the tile that costs less for its map size: F(2, 3) on maps too small to
 * fill 4×4 tiles, and where the 36 matrices would be streamed from memory
 * for a handful of tiles.
 *
 * Rounding: F(4, 3)'s transforms hold 4, 5 and 8 and its G 1/6 and 1/24, so
 * it loses about an order of magnitude more than F(2, 3) (whose transforms
 * hold only 0, ±1 and ½): up to 4·10⁻⁶ of the sum of the terms' magnitudes
 * against 4·10⁻⁷ (tests/test-winograd.c).  On ResNets' logits that does not
 * show next to the other rounding.  G g Gᵀ is computed in double.
 *
 * The work is split into tasks of up to a few dozen tiles (so that one
 * task's transformed tiles stay in L2 while the GEMMs read them) and, when
 * there are few tiles, of output columns.  A task transforms its input
 * tiles, multiplies, and writes its outputs, with bias, residual and
 * activation: no barrier between the three steps.  The transforms run on
 * vectors of CB channels (GCC's vector extensions: one zmm register with
 * AVX-512, two ymm with AVX2, four xmm in the generic build).
 */

#include "config.h"

#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-winograd-private.h"

#define N_XI 36           /* elements of a transformed 6×6 tile */
#define CB 16             /* channels per step of the transforms */
#define TILE_BUDGET (256 * 1024)   /* floats of scratch per task, ~1 MiB */

typedef float WVec __attribute__ ((vector_size (CB * sizeof (float))));
typedef gint32 WMask __attribute__ ((vector_size (CB * sizeof (gint32))));

/* Which of the 36 matrices F(2, 3) uses: F(4, 3)'s points 0, 1, −1, ∞. */
static const int f23_point[4] = { 0, 1, 2, 5 };

/* The largest cin·cout run as Winograd.  512×512 (ResNet's layer4) too:
 * from batch 2 on its 7×7 maps run about twice as fast as with im2col.  At
 * batch 1 they run as F(2, 3), which reads 16 MiB of weights where im2col
 * reads 9, and is slower by up to a fifth (measured on a Zen 5). */
#define WINOGRAD_MAX_CHANNELS (512 * 512)
/* The cost of reading a matrix of weights, in rows of GEMM (see
 * tile_cost).  In a network each layer's weights come from memory: the
 * others' have evicted them since the last pass (measured on a Zen 5, in
 * ResNet-50: at batch 1 F(2, 3) beats F(4, 3) on layer3's 14×14 maps,
 * though not with the weights in cache). */
#define WEIGHT_ROWS 24.0
/* The largest cin·cout run as F(2, 3) alone. */
#define F23_MAX_CHANNELS (256 * 256)

gsize
tvw_winograd_packed_floats (int cin,
                            int cout,
                            int tile)
{
  return (tile == 4 ? N_XI : 16) * tvw_gemm_packed_floats (cin, cout);
}

/* F(4, 3)'s G for the points 0, 1, −1, 2, −2, ∞. */
static const double wino_g[6][3] = {
  {  1.0 / 4,  0.0,       0.0     },
  { -1.0 / 6, -1.0 / 6,  -1.0 / 6 },
  { -1.0 / 6,  1.0 / 6,  -1.0 / 6 },
  {  1.0 / 24, 1.0 / 12,  1.0 / 6 },
  {  1.0 / 24, -1.0 / 12, 1.0 / 6 },
  {  0.0,      0.0,       1.0     },
};

void
tvw_winograd_pack (const float  *weight,
                   const double *scale,
                   int           cin,
                   int           cout,
                   int           tile,
                   int           panel_begin,
                   int           panel_end,
                   float        *packed)
{
  const gsize per_xi = tvw_gemm_packed_floats (cin, cout);

  /* Panel by panel, input channel by input channel: each of the 36
   * matrices is written in order, and the arithmetic runs over the panel's
   * NR output channels side by side. */
  for (int p = panel_begin; p < panel_end; p++)
    for (int ci = 0; ci < cin; ci++)
      {
        const gsize at = (gsize) p * TVW_GEMM_NR * cin + (gsize) ci * TVW_GEMM_NR;
        double g[9][TVW_GEMM_NR], gg[6][3][TVW_GEMM_NR];

        for (int j = 0; j < TVW_GEMM_NR; j++)
          {
            const int co = p * TVW_GEMM_NR + j;
            const float *src = weight + ((gsize) MIN (co, cout - 1) * cin + ci) * 9;
            /* Padding columns: a real kernel times 0. */
            const double sc = co < cout ? scale[co] : 0.0;

            for (int e = 0; e < 9; e++)
              g[e][j] = src[e] * sc;
          }

        /* G g */
        for (int r = 0; r < 6; r++)
          for (int c = 0; c < 3; c++)
            for (int j = 0; j < TVW_GEMM_NR; j++)
              gg[r][c][j] = wino_g[r][0] * g[c][j] + wino_g[r][1] * g[3 + c][j] +
                            wino_g[r][2] * g[6 + c][j];

        /* (G g) Gᵀ, element (r, s) into matrix 6r + s; for F(2, 3) alone
         * only its points' elements, in order. */
        for (int k = 0; k < (tile == 4 ? N_XI : 16); k++)
          {
            const int r = tile == 4 ? k / 6 : f23_point[k / 4];
            const int s = tile == 4 ? k % 6 : f23_point[k % 4];
            float *u = packed + (gsize) k * per_xi + at;

            for (int j = 0; j < TVW_GEMM_NR; j++)
              u[j] = (float) (gg[r][0][j] * wino_g[s][0] + gg[r][1][j] * wino_g[s][1] +
                              gg[r][2][j] * wino_g[s][2]);
          }
      }
}

typedef struct
{
  int   m;              /* outputs per tile side: 2 or 4 */
  int   n_xi;           /* matrices used: 16 or 36 */
  int   tiles_h, tiles_w;
  gsize tiles;          /* over the whole batch */
  gsize row_tiles;      /* GEMM register tiles of TVW_GEMM_MR tiles */
  int   n_chunks;       /* chunk i: row tiles [i·R/n, (i + 1)·R/n) */
  int   max_chunk;      /* tiles in the largest chunk */
  int   col_tasks;      /* output columns split in this many parts */
  int   cols;           /* columns per part, a multiple of NR */
} WinogradSplit;

/* A guess at the cost of a tile size, in GEMM rows: the rows multiplied
 * (rounded up to whole register tiles), and the weights read once per
 * matrix, which at batch 1 on small maps dominate (F(4, 3) reads 36
 * matrices, F(2, 3) 16). */
static double
tile_cost (const TvwConvParams *p,
           int                  m)
{
  const int n_xi = (m + 2) * (m + 2);
  const gsize tiles = (gsize) p->n * ((p->oh + m - 1) / m) * ((p->ow + m - 1) / m);
  const gsize rows = (tiles + TVW_GEMM_MR - 1) / TVW_GEMM_MR * TVW_GEMM_MR;

  return (double) n_xi * ((double) rows + WEIGHT_ROWS);
}

static int
winograd_tile (const TvwConvParams *p)
{
  const char *force = g_getenv ("TVW_WINOGRAD_TILE");

  /* F(2, 3)'s weights alone allow nothing else. */
  if (p->winograd == 2)
    return 2;
  /* For whoever tunes the kernels: force one tile size. */
  if (force != NULL && (force[0] == '2' || force[0] == '4'))
    return force[0] - '0';
  return tile_cost (p, 2) <= tile_cost (p, 4) ? 2 : 4;
}

int
tvw_winograd_choose (const TvwConvParams *p)
{
  TvwConvParams q = *p;
  int tile;

  /* For whoever tunes the kernels: compare with the im2col path. */
  if (g_getenv ("TVW_NO_WINOGRAD") != NULL)
    return 0;

  /* Below 16 channels the transforms cost as much as they save. */
  if (p->kh != 3 || p->kw != 3 || p->sh != 1 || p->sw != 1 || p->ph != 1 || p->pw != 1 ||
      p->dh != 1 || p->dw != 1 || p->groups != 1 || p->cin < 16 || p->cout < 16 ||
      (gsize) p->cin * p->cout > WINOGRAD_MAX_CHANNELS)
    return 0;

  q.winograd = 4;
  tile = winograd_tile (&q);
  /* F(2, 3) on wide layers (layer4's 512 channels at 7×7, batch 1) reads
   * more weights than im2col and is slower. */
  if (tile == 2 && (gsize) p->cin * p->cout > F23_MAX_CHANNELS)
    return 0;
  return tile;
}

static void
winograd_split (const TvwConvParams *p,
                int                  n_threads,
                WinogradSplit       *s)
{
  gsize budget_rows;

  s->m = winograd_tile (p);
  s->n_xi = (s->m + 2) * (s->m + 2);
  budget_rows = MAX (1, TILE_BUDGET / (s->n_xi * (p->cin + p->cout)) / TVW_GEMM_MR);
  s->tiles_h = (p->oh + s->m - 1) / s->m;
  s->tiles_w = (p->ow + s->m - 1) / s->m;
  s->tiles = (gsize) p->n * s->tiles_h * s->tiles_w;
  s->row_tiles = (s->tiles + TVW_GEMM_MR - 1) / TVW_GEMM_MR;
  s->col_tasks = 1;
  s->cols = p->cout;

  if (s->row_tiles >= 4 * (gsize) n_threads || p->cout < 32 * n_threads)
    {
      /* Chunks of whole register tiles, small enough for L2, as even as
       * can be and a multiple of the thread count (tasks are handed out
       * in order, so each thread ends up with the same share). */
      gsize n = (s->row_tiles + budget_rows - 1) / budget_rows;

      n = MAX (n, (gsize) n_threads);
      n = (n + n_threads - 1) / n_threads * n_threads;
      s->n_chunks = (int) MIN (n, s->row_tiles);
    }
  else
    {
      /* Few tiles (late layers at batch 1): every thread takes all of
       * them and a part of the output channels. */
      int per = (p->cout + n_threads - 1) / n_threads;

      s->n_chunks = 1;
      s->cols = (per + TVW_GEMM_NR - 1) / TVW_GEMM_NR * TVW_GEMM_NR;
      s->col_tasks = (p->cout + s->cols - 1) / s->cols;
    }
  s->max_chunk = (int) MIN (s->tiles,
                            (s->row_tiles + s->n_chunks - 1) / s->n_chunks * TVW_GEMM_MR);
}

static inline void
chunk_range (const WinogradSplit *s,
             int                  chunk,
             gsize               *t0,
             int                 *count)
{
  gsize r0 = s->row_tiles * chunk / s->n_chunks;
  gsize r1 = s->row_tiles * (chunk + 1) / s->n_chunks;

  *t0 = r0 * TVW_GEMM_MR;
  *count = (int) (MIN (s->tiles, r1 * TVW_GEMM_MR) - *t0);
}

/* Floats from one transformed matrix of @count tiles × @c channels to the
 * next: an odd number of cache lines, so that the 16 or 36 elements of a
 * tile, one per matrix, fall in different sets of the L1 cache (at a
 * multiple of 4 KiB apart they would all compete for one). */
static inline gsize
xi_stride (int count,
           int c)
{
  return ((gsize) count * c + 31) / 32 * 32 + 16;
}

gsize
tvw_winograd_scratch_floats (const TvwConvParams *p,
                             int                  n_threads)
{
  WinogradSplit s;

  winograd_split (p, n_threads, &s);
  return (gsize) s.n_xi * (xi_stride (s.max_chunk, p->cin) + xi_stride (s.max_chunk, p->cout));
}

/* A step's worth of channels, @cb ≤ CB of them, into or out of a vector:
 * a fixed-size copy when whole, which compiles to one vector move (a
 * variable one, to a slow “rep movs”); zeros past @cb. */
static inline void
load_step (WVec        *dst,
           const float *src,
           int          cb)
{
  if (cb == CB)
    memcpy (dst, src, sizeof *dst);
  else
    {
      float *d = (float *) dst;

      for (int c = 0; c < CB; c++)
        d[c] = c < cb ? src[c] : 0.f;
    }
}

static inline void
store_step (float      *dst,
            const WVec *src,
            int         cb)
{
  if (cb == CB)
    memcpy (dst, src, sizeof *src);
  else
    memcpy (dst, src, (gsize) cb * sizeof (float));
}

/* Tile @t's image and its top left output pixel. */
static inline void
tile_origin (const WinogradSplit *s,
             gsize                t,
             int                 *b,
             int                 *y0,
             int                 *x0)
{
  const gsize plane = (gsize) s->tiles_h * s->tiles_w;
  const int r = (int) (t % plane);

  *b = (int) (t / plane);
  *y0 = (r / s->tiles_w) * s->m;
  *x0 = (r % s->tiles_w) * s->m;
}

/* Bᵀ x for F(4, 3), one column of vectors: Bᵀ =
 * [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
 *  0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1] */
#define BT43(o, x)                                                    \
  G_STMT_START {                                                      \
    const WVec x0_ = (x)[0], x1_ = (x)[1], x2_ = (x)[2];              \
    const WVec x3_ = (x)[3], x4_ = (x)[4], x5_ = (x)[5];              \
    const WVec a_ = x4_ - 4.f * x2_, b_ = x3_ - 4.f * x1_;            \
    const WVec c_ = x4_ - x2_, e_ = 2.f * (x3_ - x1_);                \
    (o)[0] = 4.f * x0_ - 5.f * x2_ + x4_;                             \
    (o)[1] = a_ + b_;                                                 \
    (o)[2] = a_ - b_;                                                 \
    (o)[3] = c_ + e_;                                                 \
    (o)[4] = c_ - e_;                                                 \
    (o)[5] = 4.f * x1_ - 5.f * x3_ + x5_;                             \
  } G_STMT_END

/* Bᵀ x for F(2, 3), rows scaled by 4, −3, −3, 1 to match F(4, 3)'s
 * weights: Bᵀ = [4 0 −4 0; 0 −3 −3 0; 0 3 −3 0; 0 1 0 −1] */
#define BT23(o, x)                                                    \
  G_STMT_START {                                                      \
    const WVec x0_ = (x)[0], x1_ = (x)[1], x2_ = (x)[2], x3_ = (x)[3];\
    (o)[0] = 4.f * (x0_ - x2_);                                       \
    (o)[1] = -3.f * (x1_ + x2_);                                      \
    (o)[2] = 3.f * (x1_ - x2_);                                       \
    (o)[3] = x1_ - x3_;                                               \
  } G_STMT_END

/* Aᵀ x for F(4, 3): Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0;
 * 0 1 1 4 4 0; 0 1 −1 8 −8 1] */
#define AT43(o, x)                                                    \
  G_STMT_START {                                                      \
    const WVec p1_ = (x)[1] + (x)[2], m1_ = (x)[1] - (x)[2];          \
    const WVec p2_ = (x)[3] + (x)[4], m2_ = (x)[3] - (x)[4];          \
    (o)[0] = (x)[0] + p1_ + p2_;                                      \
    (o)[1] = m1_ + 2.f * m2_;                                         \
    (o)[2] = p1_ + 4.f * p2_;                                         \
    (o)[3] = m1_ + 8.f * m2_ + (x)[5];                                \
  } G_STMT_END

/* Aᵀ x for F(2, 3): Aᵀ = [1 1 1 0; 0 1 −1 −1] */
#define AT23(o, x)                                                    \
  G_STMT_START {                                                      \
    (o)[0] = (x)[0] + (x)[1] + (x)[2];                                \
    (o)[1] = (x)[1] - (x)[2] - (x)[3];                                \
  } G_STMT_END

/* V[k][t][c] = (Bᵀ d B)[k] for the tiles [t0, t0 + count), k over the
 * n_xi matrices in use.  Inlined for each tile size @m, a constant, so
 * that the loops over the tile unroll and the tile stays in registers. */
static inline __attribute__ ((always_inline)) void
transform_input_m (const TvwConvParams *p,
                   const WinogradSplit *s,
                   const float         *input,
                   gsize                t0,
                   int                  count,
                   float               *v,
                   const int            m)
{
  const int C = p->cin;
  const int n = m + 2;
  const gsize stride = xi_stride (count, C);

  for (int tl = 0; tl < count; tl++)
    {
      float *dst = v + (gsize) tl * C;
      const float *img;
      int b, y0, x0;
      gboolean inside;

      tile_origin (s, t0 + tl, &b, &y0, &x0);
      /* The input tile starts one row and column before (padding 1). */
      y0--;
      x0--;
      img = input + (gsize) b * p->h * p->w * C;
      inside = y0 >= 0 && x0 >= 0 && y0 + n <= p->h && x0 + n <= p->w;

      for (int c0 = 0; c0 < C; c0 += CB)
        {
          const int cb = MIN (CB, C - c0);
          WVec d[6][6], col[6], t[6][6], r[6];

          for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
              {
                const int y = y0 + i, x = x0 + j;

                if (!inside && (y < 0 || y >= p->h || x < 0 || x >= p->w))
                  memset (&d[i][j], 0, sizeof d[i][j]);
                else
                  load_step (&d[i][j], img + ((gsize) y * p->w + x) * C + c0, cb);
              }

          /* Bᵀ d, a column at a time, then (Bᵀ d) B a row at a time. */
          for (int j = 0; j < n; j++)
            {
              for (int i = 0; i < n; i++)
                col[i] = d[i][j];
              if (n == 6)
                BT43 (r, col);
              else
                BT23 (r, col);
              for (int i = 0; i < n; i++)
                t[i][j] = r[i];
            }
          for (int i = 0; i < n; i++)
            {
              if (n == 6)
                BT43 (r, t[i]);
              else
                BT23 (r, t[i]);
              for (int j = 0; j < n; j++)
                store_step (dst + (gsize) (i * n + j) * stride + c0, &r[j], cb);
            }
        }
    }
}

static void
transform_input (const TvwConvParams *p,
                 const WinogradSplit *s,
                 const float         *input,
                 gsize                t0,
                 int                  count,
                 float               *v)
{
  if (s->m == 4)
    transform_input_m (p, s, input, t0, count, v, 4);
  else
    transform_input_m (p, s, input, t0, count, v, 2);
}

/* Y = Aᵀ M A for the tiles [t0, t0 + count), columns [c0, c1), then bias,
 * residual and activation, into the output; inlined for each @m. */
static inline __attribute__ ((always_inline)) void
transform_output_m (const TvwConvParams *p,
                    const WinogradSplit *s,
                    const float         *mat,
                    gsize                t0,
                    int                  count,
                    int                  c0,
                    int                  c1,
                    const float         *residual,
                    float               *output,
                    const int            m)
{
  const int C = p->cout;
  const gsize pitch = p->out_pitch > 0 ? p->out_pitch : C;
  const int n = m + 2;
  const gsize stride = xi_stride (count, C);

  for (int tl = 0; tl < count; tl++)
    {
      const float *src = mat + (gsize) tl * C;
      int b, y0, x0;

      tile_origin (s, t0 + tl, &b, &y0, &x0);

      for (int cc = c0; cc < c1; cc += CB)
        {
          const int cb = MIN (CB, c1 - cc);
          WVec x[6][6], col[6], at[4][6], r[4], bias;

          for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
              load_step (&x[i][j], src + (gsize) (i * n + j) * stride + cc, cb);
          load_step (&bias, p->bias + cc, cb);

          /* Aᵀ M, a column at a time */
          for (int j = 0; j < n; j++)
            {
              for (int i = 0; i < n; i++)
                col[i] = x[i][j];
              if (m == 4)
                AT43 (r, col);
              else
                AT23 (r, col);
              for (int i = 0; i < m; i++)
                at[i][j] = r[i];
            }

          /* (Aᵀ M) A, a row at a time, plus bias, residual, activation */
          for (int i = 0; i < m && y0 + i < p->oh; i++)
            {
              if (m == 4)
                AT43 (r, at[i]);
              else
                AT23 (r, at[i]);

              for (int j = 0; j < m && x0 + j < p->ow; j++)
                {
                  const gsize px = ((gsize) b * p->oh + y0 + i) * p->ow + x0 + j;
                  const gsize at_px = px * pitch + cc;
                  WVec y = r[j] + bias;

                  if (residual != NULL)
                    {
                      WVec res;

                      load_step (&res, residual + px * C + cc, cb);
                      y += res;
                    }
                  if (p->act == TVW_ACT_RELU)
                    {
                      const WVec zero = { 0 };

                      y = (WVec) ((WMask) y & (y > zero));
                    }
                  store_step (output + at_px, &y, cb);
                  if (p->act != TVW_ACT_RELU)
                    tvw_activation_apply_span (output + at_px, cb, p->act);
                }
            }
        }
    }
}

static void
transform_output (const TvwConvParams *p,
                  const WinogradSplit *s,
                  const float         *mat,
                  gsize                t0,
                  int                  count,
                  int                  c0,
                  int                  c1,
                  const float         *residual,
                  float               *output)
{
  if (s->m == 4)
    transform_output_m (p, s, mat, t0, count, c0, c1, residual, output, 4);
  else
    transform_output_m (p, s, mat, t0, count, c0, c1, residual, output, 2);
}

typedef struct
{
  const TvwConvParams *p;
  const float         *input;
  const float         *residual;
  float               *output;
  float               *scratch;
  gsize                scratch_per_thread;
  WinogradSplit        s;
} WinogradJob;

static void
winograd_task (gpointer data,
               int      task,
               int      thread)
{
  const WinogradJob *job = data;
  const TvwConvParams *p = job->p;
  const WinogradSplit *s = &job->s;
  const gsize per_xi = tvw_gemm_packed_floats (p->cin, p->cout);
  const int chunk = task / s->col_tasks;
  const int part = task % s->col_tasks;
  const int c0 = part * s->cols;
  const int c1 = MIN (p->cout, c0 + s->cols);
  float *v = job->scratch + (gsize) thread * job->scratch_per_thread;
  float *m = v + (gsize) s->n_xi * xi_stride (s->max_chunk, p->cin);
  gsize t0;
  int count;

  chunk_range (s, chunk, &t0, &count);

  transform_input (p, s, job->input, t0, count, v);
  for (int k = 0; k < s->n_xi; k++)
    {
      /* F(2, 3)'s element (i, j) is F(4, 3)'s at its points' places. */
      const int xi = s->m == 4 || p->winograd == 2 ? k : 6 * f23_point[k / 4] + f23_point[k % 4];

      tvw_gemm_packed (count, p->cin, v + (gsize) k * xi_stride (count, p->cin), p->cin,
                       p->weight + xi * per_xi, p->cout,
                       c0 / TVW_GEMM_NR, (c1 + TVW_GEMM_NR - 1) / TVW_GEMM_NR,
                       m + (gsize) k * xi_stride (count, p->cout), p->cout,
                       NULL, NULL, 0, TVW_ACT_NONE);
    }
  transform_output (p, s, m, t0, count, c0, c1, job->residual, job->output);
}

void
tvw_kernel_winograd_conv2d (const TvwConvParams *p,
                            const float         *input,
                            const float         *residual,
                            float               *output,
                            float               *scratch,
                            gsize                scratch_per_thread,
                            int                  n_threads)
{
  WinogradJob job = { p, input, residual, output, scratch, scratch_per_thread, { 0 } };

  winograd_split (p, n_threads, &job.s);
  /* Chunks are equal and a multiple of the thread count: handed out in
   * order, they share out evenly. */
  tvw_parallel_tasks (job.s.n_chunks * job.s.col_tasks, n_threads, winograd_task, &job);
}
