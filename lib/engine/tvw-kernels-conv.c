/* tvw-kernels-conv.c — convolution (and linear) over NHWC buffers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only file that includes <cblas.h>.  OpenBLAS runs single-threaded: the
 * engine splits the work itself, so that OpenBLAS's thread pool and ours
 * never spin against each other on the same cores.
 */

#include "config.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "tvw-gemm-private.h"
#include "tvw-kernels-private.h"
#include "tvw-kernels-winograd-private.h"
#include "tvw-engine-threads-private.h"

/* Keep one task's im2col slice (384 KB) within L2 while the GEMM reads it:
 * slices of 2 MB made ResNet's stem some 15 % slower. */
#define IM2COL_TARGET_FLOATS (96 * 1024)
/* Up to this much weight, a GEMM with few rows keeps its rows split over
 * the threads (conv_split ()), if each thread gets this many rows. */
#define ROW_SPLIT_MAX_WEIGHT_BYTES (512 * 1024)
#define ROW_SPLIT_MIN_ROWS 24
/* Rows of taps up to this many floats are copied inline. */
#define SHORT_RUN 64

static inline gboolean
conv_is_direct (const TvwConvParams *p)
{
  return p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 &&
         p->ph == 0 && p->pw == 0 && p->groups == 1;
}

typedef struct
{
  gsize m;          /* rows of the output matrix: n·oh·ow */
  gsize k;          /* kh·kw·cin/groups */
  int   cout_g;
  gsize rows;       /* rows per task */
  int   m_tasks;
  int   cols;       /* output columns per task */
  int   n_tasks;
} ConvSplit;

static void
conv_split (const TvwConvParams *p,
            int                  n_threads,
            ConvSplit           *s)
{
  s->m = (gsize) p->n * p->oh * p->ow;
  s->k = (gsize) p->kh * p->kw * (p->cin / p->groups);
  s->cout_g = p->cout / p->groups;

  /* Rows: one chunk per thread, or more when the im2col slice would not
   * fit the cache target, as many per thread and of equal size. */
  s->rows = (s->m + n_threads - 1) / n_threads;
  if (!conv_is_direct (p) && s->rows * s->k > IM2COL_TARGET_FLOATS)
    {
      gsize tasks = (s->m * s->k + IM2COL_TARGET_FLOATS - 1) / IM2COL_TARGET_FLOATS;

      tasks = (tasks + n_threads - 1) / n_threads * n_threads;
      s->rows = (s->m + tasks - 1) / tasks;
    }
  if (p->groups > 1 && p->groups >= n_threads)
    s->rows = MAX (s->rows, IM2COL_TARGET_FLOATS / MAX (s->k, 1));
  /* Whole register tiles. */
  s->rows = (s->rows + TVW_GEMM_MR - 1) / TVW_GEMM_MR * TVW_GEMM_MR;
  s->rows = MAX (MIN (s->rows, s->m), 1);
  s->m_tasks = (int) ((s->m + s->rows - 1) / s->rows);

  /* Few rows (late layers at batch 1, linear layers) and weights too big
   * to stay in cache (ResNet's last stage: each thread then reads its share
   * of them from memory): split the columns, so that each task keeps whole
   * register tiles.  With weights that stay in cache the rows stay split:
   * each thread then reads the rows it wrote in the layer before, and on a
   * machine whose cores share no cache (two vCPUs on two Zen CCDs, 450 ns
   * from one to the other and back) a layer's whole input no longer moves
   * between them. */
  if (n_threads > 1 && p->groups == 1 && s->m <= 256 && s->cout_g >= 32 * n_threads &&
      (s->k * s->cout_g * sizeof (float) > ROW_SPLIT_MAX_WEIGHT_BYTES ||
       s->m < (gsize) ROW_SPLIT_MIN_ROWS * n_threads))
    {
      s->rows = s->m;
      s->m_tasks = 1;
    }
  s->cols = s->cout_g;
  s->n_tasks = 1;
  if (s->m_tasks * p->groups < n_threads && s->cout_g >= 32 * n_threads)
    {
      int per = (s->cout_g + n_threads - 1) / n_threads;

      per = (per + TVW_GEMM_NR - 1) / TVW_GEMM_NR * TVW_GEMM_NR;
      s->cols = per;
      s->n_tasks = (s->cout_g + per - 1) / per;
    }
}

gsize
tvw_conv_scratch_floats (const TvwConvParams *p,
                         int                  n_threads)
{
  ConvSplit s;

  if (p->winograd)
    return tvw_winograd_scratch_floats (p, n_threads);
  if (conv_is_direct (p))
    return 0;

  conv_split (p, n_threads, &s);
  return s.rows * s.k;
}

/* Gathers rows [m0, m1) of group @g's im2col matrix into @dst (row-major,
 * K columns in (ky, kx, c) order, matching the packed weights). */
static void
im2col (const TvwConvParams *p,
        const float         *input,
        int                  g,
        gsize                m0,
        gsize                m1,
        float               *dst)
{
  const int cin_g = p->cin / p->groups;
  const gsize plane = (gsize) p->oh * p->ow;
  const int run = p->kw * cin_g;
  /* The output pixel of row m0, then stepped along: no division per row
   * (a stem has some 12 000 rows of 27 floats). */
  int b = (int) (m0 / plane);
  int oy = (int) (m0 % plane) / p->ow;
  int ox = (int) (m0 % plane) % p->ow;

  for (gsize m = m0; m < m1; m++)
    {
      const float *img = input + (gsize) b * p->h * p->w * p->cin + (gsize) g * cin_g;
      const int ix0 = ox * p->sw - p->pw;

      for (int ky = 0; ky < p->kh; ky++)
        {
          const int iy = oy * p->sh - p->ph + ky * p->dh;

          if (p->groups == 1 && p->dw == 1)
            {
              /* The row's taps are neighbouring pixels, whose channels
               * follow each other: one copy for the whole row. */
              const int kx0 = CLAMP (-ix0, 0, p->kw);
              const int kx1 = CLAMP (p->w - ix0, kx0, p->kw);

              if (iy < 0 || iy >= p->h)
                memset (dst, 0, (gsize) run * sizeof (float));
              else if (run <= SHORT_RUN && kx0 == 0 && kx1 == p->kw)
                {
                  /* A stem's few input channels: a call per row of
                   * taps would cost more than the copy. */
                  const float *src = img + ((gsize) iy * p->w + ix0) * p->cin;

                  for (int j = 0; j < run; j++)
                    dst[j] = src[j];
                }
              else
                {
                  memset (dst, 0, (gsize) kx0 * cin_g * sizeof (float));
                  memcpy (dst + (gsize) kx0 * cin_g,
                          img + ((gsize) iy * p->w + ix0 + kx0) * p->cin,
                          (gsize) (kx1 - kx0) * cin_g * sizeof (float));
                  memset (dst + (gsize) kx1 * cin_g, 0, (gsize) (p->kw - kx1) * cin_g * sizeof (float));
                }
              dst += run;
              continue;
            }

          for (int kx = 0; kx < p->kw; kx++)
            {
              const int ix = ix0 + kx * p->dw;

              if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
                memset (dst, 0, cin_g * sizeof (float));
              else
                memcpy (dst, img + ((gsize) iy * p->w + ix) * p->cin, cin_g * sizeof (float));
              dst += cin_g;
            }
        }

      if (++ox == p->ow)
        {
          ox = 0;
          if (++oy == p->oh)
            {
              oy = 0;
              b++;
            }
        }
    }
}

/* Bias, residual and activation on a tile of the output, while it is hot. */
static void
epilogue (float               *out,
          gsize                rows,
          int                  cols,
          gsize                ldc,
          const float         *bias,
          const float         *residual,
          TvwActivation        act)
{
  for (gsize r = 0; r < rows; r++)
    {
      float *o = out + r * ldc;
      const float *res = residual != NULL ? residual + r * ldc : NULL;

      if (bias != NULL && res != NULL)
        for (int c = 0; c < cols; c++)
          o[c] += bias[c] + res[c];
      else if (bias != NULL)
        for (int c = 0; c < cols; c++)
          o[c] += bias[c];
      else if (res != NULL)
        for (int c = 0; c < cols; c++)
          o[c] += res[c];

      switch (act)
        {
        case TVW_ACT_NONE:
          break;
        case TVW_ACT_RELU:
          for (int c = 0; c < cols; c++)
            o[c] = o[c] > 0.f ? o[c] : 0.f;
          break;
        case TVW_ACT_RELU6:
          for (int c = 0; c < cols; c++)
            o[c] = fminf (fmaxf (o[c], 0.f), 6.f);
          break;
        case TVW_ACT_SILU:
        case TVW_ACT_SIGMOID:
        case TVW_ACT_HARDSWISH:
        case TVW_ACT_HARDSIGMOID:
        case TVW_ACT_GELU:
        default:
          for (int c = 0; c < cols; c++)
            o[c] = tvw_activation_apply (o[c], act);
          break;
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
  ConvSplit            s;
} ConvJob;

static void
conv_task (gpointer data,
           int      task,
           int      thread)
{
  const ConvJob *job = data;
  const TvwConvParams *p = job->p;
  const ConvSplit *s = &job->s;
  const float *input = job->input;
  const float *residual = job->residual;
  float *output = job->output;
  const int g = task / (s->m_tasks * s->n_tasks);
  const int mt = (task / s->n_tasks) % s->m_tasks;
  const int nt = task % s->n_tasks;
  const gsize m0 = (gsize) mt * s->rows;
  const gsize m1 = MIN (s->m, m0 + s->rows);
  const int c0 = nt * s->cols;
  const int c1 = MIN (s->cout_g, c0 + s->cols);
  const gsize ldc = p->out_pitch > 0 ? p->out_pitch : p->cout;
  const float *a;
  gsize lda;
  float *c;

  if (conv_is_direct (p))
    {
      a = input + m0 * p->cin;
      lda = p->cin;
    }
  else
    {
      float *buf = job->scratch + (gsize) thread * job->scratch_per_thread;

      im2col (p, input, g, m0, m1, buf);
      a = buf;
      lda = s->k;
    }

  if (p->panels)
    {
      /* Column ranges are whole panels (cols is a multiple of NR). */
      gsize group_floats = tvw_gemm_packed_floats ((int) s->k, s->cout_g);

      c = output + m0 * ldc + (gsize) g * s->cout_g;
      tvw_gemm_packed ((int) (m1 - m0), (int) s->k, a, lda,
                       p->weight + (gsize) g * group_floats, s->cout_g,
                       c0 / TVW_GEMM_NR, (c1 + TVW_GEMM_NR - 1) / TVW_GEMM_NR,
                       c, ldc, p->bias + (gsize) g * s->cout_g,
                       residual != NULL ? residual + m0 * p->cout + (gsize) g * s->cout_g : NULL,
                       p->cout, p->act);
      return;
    }

  c = output + m0 * ldc + (gsize) g * s->cout_g + c0;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans,
               (int) (m1 - m0), c1 - c0, (int) s->k,
               1.0f, a, (int) lda,
               p->weight + (gsize) g * s->k * s->cout_g + c0, s->cout_g,
               0.0f, c, (int) ldc);
  /* (A pitched output has no residual: both are read with ldc.) */
  epilogue (c, m1 - m0, c1 - c0, ldc,
            p->bias + (gsize) g * s->cout_g + c0,
            residual != NULL ? residual + m0 * p->cout + (gsize) g * s->cout_g + c0 : NULL,
            p->act);
}

void
tvw_kernel_conv2d (const TvwConvParams *p,
                   const float         *input,
                   const float         *residual,
                   float               *output,
                   float               *scratch,
                   gsize                scratch_per_thread,
                   int                  n_threads)
{
  ConvJob job = { p, input, residual, output, scratch, scratch_per_thread, { 0 } };

  /* Depthwise convolutions never come here: tvw_kernel_grouped_conv2d ()
   * takes them (tvw_kernel_grouped_supports ()). */
  g_assert (!p->depthwise);
  if (p->winograd)
    {
      tvw_kernel_winograd_conv2d (p, input, residual, output, scratch, scratch_per_thread, n_threads);
      return;
    }

  conv_split (p, n_threads, &job.s);
  tvw_parallel_tasks (p->groups * job.s.m_tasks * job.s.n_tasks, n_threads, conv_task, &job);
}

/* Not a kernel: this file is compiled once per instruction set, and this
 * is defined in the baseline build only. */
#ifdef TVW_ISA_BASELINE
void
tvw_engine_blas_init (void)
{
  openblas_set_num_threads (1);
}
#endif
