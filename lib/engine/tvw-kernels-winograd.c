/* tvw-kernels-winograd.c — 3×3 stride-1 convolutions as Winograd F(2×2, 3×3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks"
 * (2016): each 2×2 block of outputs is
 *
 *     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *
 * for the 4×4 input tile d around it and each 3×3 kernel g.  The 16
 * element-wise products summed over input channels are 16 independent GEMMs
 * (tiles × cin by cin × cout), so a 3×3 convolution costs 16 multiply-adds
 * per 2×2 outputs and channel pair instead of 36: 2.25× fewer.  G g Gᵀ is
 * computed once, at load, into GEMM panels; the transforms of d and of the
 * products are additions only, done here per tile and vectorised over
 * channels.  F(2, 3) loses almost nothing to rounding (its transforms hold
 * only 0, ±1 and ½), unlike the larger tiles.
 *
 * The work is split into tasks of up to a few dozen tiles (so that one
 * task's transformed tiles stay in L2 while the 16 GEMMs read them) and, when
 * there are few tiles, of output columns.  A task transforms its input
 * tiles, multiplies, and writes its outputs, with bias, residual and
 * activation: no barrier between the three steps.
 */

#include "config.h"

#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-winograd-private.h"

#define N_XI 16           /* elements of a transformed 4×4 tile */
#define CB 16             /* channels per step of the transforms */
#define TILE_BUDGET (256 * 1024)   /* floats of scratch per task, ~1 MiB */

gboolean
tvw_winograd_supports (int kh,
                       int kw,
                       int sh,
                       int sw,
                       int ph,
                       int pw,
                       int dh,
                       int dw,
                       int groups,
                       int cin,
                       int cout)
{
  /* For whoever tunes the kernels: compare with the im2col path. */
  if (g_getenv ("TVW_NO_WINOGRAD") != NULL)
    return FALSE;

  /* Below 16 channels the transforms cost as much as they save; above
   * 256×256 the transformed weights (16/9 of the original) no longer fit
   * the cache at batch 1 and streaming them costs more than it saves. */
  return kh == 3 && kw == 3 && sh == 1 && sw == 1 && ph == 1 && pw == 1 &&
         dh == 1 && dw == 1 && groups == 1 &&
         cin >= 16 && cout >= 16 && (gsize) cin * cout <= 256 * 256;
}

gsize
tvw_winograd_packed_floats (int cin,
                            int cout)
{
  return N_XI * tvw_gemm_packed_floats (cin, cout);
}

void
tvw_winograd_pack (const float  *weight,
                   const double *scale,
                   int           cin,
                   int           cout,
                   int           panel_begin,
                   int           panel_end,
                   float        *packed)
{
  const gsize per_xi = tvw_gemm_packed_floats (cin, cout);

  /* Panel by panel, input channel by input channel: each of the 16
   * matrices is written in order, and the arithmetic runs over the panel's
   * NR output channels side by side. */
  for (int p = panel_begin; p < panel_end; p++)
    for (int ci = 0; ci < cin; ci++)
      {
        const gsize at = (gsize) p * TVW_GEMM_NR * cin + (gsize) ci * TVW_GEMM_NR;
        double g[9][TVW_GEMM_NR], gg[4][3][TVW_GEMM_NR];

        for (int j = 0; j < TVW_GEMM_NR; j++)
          {
            const int co = p * TVW_GEMM_NR + j;
            const float *src = weight + ((gsize) MIN (co, cout - 1) * cin + ci) * 9;
            /* Padding columns: a real kernel times 0. */
            const double sc = co < cout ? scale[co] : 0.0;

            for (int e = 0; e < 9; e++)
              g[e][j] = src[e] * sc;
          }

        /* G g: G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1] */
        for (int c = 0; c < 3; c++)
          for (int j = 0; j < TVW_GEMM_NR; j++)
            {
              const double g0 = g[c][j], g1 = g[3 + c][j], g2 = g[6 + c][j];

              gg[0][c][j] = g0;
              gg[1][c][j] = 0.5 * (g0 + g1 + g2);
              gg[2][c][j] = 0.5 * (g0 - g1 + g2);
              gg[3][c][j] = g2;
            }

        /* (G g) Gᵀ, row r of the 4×4 result into matrices 4r … 4r + 3 */
        for (int r = 0; r < 4; r++)
          {
            float *u0 = packed + (gsize) (4 * r) * per_xi + at;
            float *u1 = u0 + per_xi, *u2 = u1 + per_xi, *u3 = u2 + per_xi;

            for (int j = 0; j < TVW_GEMM_NR; j++)
              {
                const double a = gg[r][0][j], b = gg[r][1][j], c = gg[r][2][j];

                u0[j] = (float) a;
                u1[j] = (float) (0.5 * (a + b + c));
                u2[j] = (float) (0.5 * (a - b + c));
                u3[j] = (float) c;
              }
          }
      }
}

typedef struct
{
  int   tiles_h, tiles_w;
  gsize tiles;          /* over the whole batch */
  gsize row_tiles;      /* GEMM register tiles of TVW_GEMM_MR tiles */
  int   n_chunks;       /* chunk i: row tiles [i·R/n, (i + 1)·R/n) */
  int   max_chunk;      /* tiles in the largest chunk */
  int   col_tasks;      /* output columns split in this many parts */
  int   cols;           /* columns per part, a multiple of NR */
} WinogradSplit;

static void
winograd_split (const TvwConvParams *p,
                int                  n_threads,
                WinogradSplit       *s)
{
  const int per_tile = N_XI * (p->cin + p->cout);
  const gsize budget_rows = MAX (1, TILE_BUDGET / per_tile / TVW_GEMM_MR);

  s->tiles_h = (p->oh + 1) / 2;
  s->tiles_w = (p->ow + 1) / 2;
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

gsize
tvw_winograd_scratch_floats (const TvwConvParams *p,
                             int                  n_threads)
{
  WinogradSplit s;

  winograd_split (p, n_threads, &s);
  return (gsize) N_XI * s.max_chunk * (p->cin + p->cout);
}

/* A step's worth of channels: a fixed-size copy when whole, which
 * compiles to vector moves (a variable one, to a slow “rep movs”). */
static inline void
copy_step (float       *dst,
           const float *src,
           int          cb)
{
  if (cb == CB)
    memcpy (dst, src, CB * sizeof (float));
  else
    for (int c = 0; c < cb; c++)
      dst[c] = src[c];
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
  *y0 = (r / s->tiles_w) * 2;
  *x0 = (r % s->tiles_w) * 2;
}

/* V[xi][t][c] = (Bᵀ d B)[xi] for the tiles [t0, t0 + count). */
static void
transform_input (const TvwConvParams *p,
                 const WinogradSplit *s,
                 const float         *input,
                 gsize                t0,
                 int                  count,
                 float               *v)
{
  const int C = p->cin;
  const gsize xi_stride = (gsize) count * C;

  for (int tl = 0; tl < count; tl++)
    {
      float *dst = v + (gsize) tl * C;
      const float *img;
      int b, y0, x0;

      tile_origin (s, t0 + tl, &b, &y0, &x0);
      /* The input tile starts one row and column before (padding 1). */
      y0--;
      x0--;
      img = input + (gsize) b * p->h * p->w * C;

      for (int c0 = 0; c0 < C; c0 += CB)
        {
          const int cb = MIN (CB, C - c0);
          float d[4][4][CB], bt[4][4][CB];

          for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
              {
                const int y = y0 + i, x = x0 + j;

                if (y < 0 || y >= p->h || x < 0 || x >= p->w)
                  memset (d[i][j], 0, sizeof d[i][j]);
                else
                  copy_step (d[i][j], img + ((gsize) y * p->w + x) * C + c0, cb);
              }

          /* Bᵀ d: Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] */
          for (int j = 0; j < 4; j++)
            for (int c = 0; c < cb; c++)
              {
                bt[0][j][c] = d[0][j][c] - d[2][j][c];
                bt[1][j][c] = d[1][j][c] + d[2][j][c];
                bt[2][j][c] = d[2][j][c] - d[1][j][c];
                bt[3][j][c] = d[1][j][c] - d[3][j][c];
              }
          /* (Bᵀ d) B */
          for (int i = 0; i < 4; i++)
            {
              float *row = dst + (gsize) i * 4 * xi_stride + c0;

              for (int c = 0; c < cb; c++)
                {
                  row[c] = bt[i][0][c] - bt[i][2][c];
                  row[xi_stride + c] = bt[i][1][c] + bt[i][2][c];
                  row[2 * xi_stride + c] = bt[i][2][c] - bt[i][1][c];
                  row[3 * xi_stride + c] = bt[i][1][c] - bt[i][3][c];
                }
            }
        }
    }
}

/* Y = Aᵀ M A for the tiles [t0, t0 + count), columns [c0, c1), then bias,
 * residual and activation, into the output. */
static void
transform_output (const TvwConvParams *p,
                  const WinogradSplit *s,
                  const float         *m,
                  gsize                t0,
                  int                  count,
                  int                  c0,
                  int                  c1,
                  const float         *residual,
                  float               *output)
{
  const int C = p->cout;
  const gsize xi_stride = (gsize) count * C;

  for (int tl = 0; tl < count; tl++)
    {
      const float *src = m + (gsize) tl * C;
      int b, y0, x0;

      tile_origin (s, t0 + tl, &b, &y0, &x0);

      for (int cc = c0; cc < c1; cc += CB)
        {
          const int cb = MIN (CB, c1 - cc);
          float at[2][4][CB], y[2][2][CB];

          /* Aᵀ M: Aᵀ = [1 1 1 0; 0 1 -1 -1] */
          for (int j = 0; j < 4; j++)
            {
              const float *m0 = src + (gsize) j * xi_stride + cc;
              const float *m1 = m0 + 4 * xi_stride, *m2 = m1 + 4 * xi_stride, *m3 = m2 + 4 * xi_stride;

              for (int c = 0; c < cb; c++)
                {
                  at[0][j][c] = m0[c] + m1[c] + m2[c];
                  at[1][j][c] = m1[c] - m2[c] - m3[c];
                }
            }
          /* (Aᵀ M) A, plus bias */
          for (int i = 0; i < 2; i++)
            for (int c = 0; c < cb; c++)
              {
                y[i][0][c] = at[i][0][c] + at[i][1][c] + at[i][2][c] + p->bias[cc + c];
                y[i][1][c] = at[i][1][c] - at[i][2][c] - at[i][3][c] + p->bias[cc + c];
              }

          for (int i = 0; i < 2 && y0 + i < p->oh; i++)
            for (int j = 0; j < 2 && x0 + j < p->ow; j++)
              {
                const gsize at_px = (((gsize) b * p->oh + y0 + i) * p->ow + x0 + j) * C + cc;
                float *o = output + at_px;

                if (residual != NULL)
                  for (int c = 0; c < cb; c++)
                    o[c] = y[i][j][c] + residual[at_px + c];
                else
                  copy_step (o, y[i][j], cb);

                if (p->act == TVW_ACT_RELU)
                  for (int c = 0; c < cb; c++)
                    o[c] = o[c] > 0.f ? o[c] : 0.f;
                else
                  tvw_activation_apply_span (o, cb, p->act);
              }
        }
    }
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
  float *m = v + (gsize) N_XI * s->max_chunk * p->cin;
  gsize t0;
  int count;

  chunk_range (s, chunk, &t0, &count);

  transform_input (p, s, job->input, t0, count, v);
  for (int xi = 0; xi < N_XI; xi++)
    tvw_gemm_packed (count, p->cin, v + (gsize) xi * count * p->cin, p->cin,
                     p->weight + xi * per_xi, p->cout,
                     c0 / TVW_GEMM_NR, (c1 + TVW_GEMM_NR - 1) / TVW_GEMM_NR,
                     m + (gsize) xi * count * p->cout, p->cout,
                     NULL, NULL, 0, TVW_ACT_NONE);
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
