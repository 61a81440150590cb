/* tvw-kernels-se.c — squeeze-excitation in one kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision.ops.SqueezeExcitation is five small operations (global
 * average pool, two 1×1 convolutions on a 1×1 map, their activations) and
 * a channel scaling.  As separate nodes each would cost a parallel region,
 * and the two convolutions are too small to be worth splitting: here the
 * pooling and the scaling are split over the threads of one region each,
 * and the gates computed in between, by one thread or, when the two
 * convolutions' weights are large enough to come from memory, by every
 * thread (fc1 by squeeze channels, then fc2 by output channels).
 */

#include "config.h"

#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-engine-threads-private.h"
#include "tvw-kernels-se-private.h"

/* Below this many elements in the map, one thread does it all. */
#define SE_PARALLEL_MIN 16384
/* Pooling tasks per image: each sums the channels over a band of pixels,
 * the bands the threads wrote in the layer before (and rows, as the
 * scaling splits them), so no thread reads the other's part of the map;
 * on a machine whose cores share no cache that costs more than the whole
 * block.  A fixed number of bands: the sums do not depend on the threads. */
#define SE_MEAN_BANDS 8
/* From this many weights in fc1 (as many in fc2) the gates are computed
 * on every thread: the weights (up to 1.8 MB in MobileNet V3's last
 * blocks) come from memory, each thread reading its share. */
#define SE_GATES_PARALLEL_MIN 16384
/* Squeeze channels per fc1 task, output channels per fc2 task. */
#define SE_HIDDEN_BLOCK 16
#define SE_GATE_BLOCK 128

gsize
tvw_squeeze_excitation_scratch_floats (const TvwSeParams *p)
{
  return (gsize) p->n * ((2 + SE_MEAN_BANDS) * p->c + p->squeeze);
}

void
tvw_squeeze_excitation_pack (const float *w2,
                             int          c,
                             int          squeeze,
                             float       *w2t)
{
  for (int o = 0; o < c; o++)
    for (int s = 0; s < squeeze; s++)
      w2t[(gsize) s * c + o] = w2[(gsize) o * squeeze + s];
}

#if defined(__AVX512F__)

/* fc1 and its activation for squeeze channels [s0, s1) of all @n images,
 * AVX-512.  Each weight is read from memory once for the batch: a row of
 * fc1 stays in cache while the images go by. */
static void
compute_hidden (const TvwSeParams *p,
                const float       *mean,
                float             *hidden,
                int                s0,
                int                s1)
{
  const int c = p->c, sq = p->squeeze;

  for (int s = s0; s < s1; s++)
    {
      const float *w = p->w1 + (gsize) s * c;

      for (int b = 0; b < p->n; b++)
        {
          const float *x = mean + (gsize) b * c;
          __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps ();
          int i = 0;

          for (; i + 32 <= c; i += 32)
            {
              a0 = _mm512_fmadd_ps (_mm512_loadu_ps (w + i), _mm512_loadu_ps (x + i), a0);
              a1 = _mm512_fmadd_ps (_mm512_loadu_ps (w + i + 16), _mm512_loadu_ps (x + i + 16), a1);
            }
          for (; i < c; i += 16)
            {
              const __mmask16 m = c - i >= 16 ? 0xffff : (__mmask16) ((1u << (c - i)) - 1);

              a0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m, w + i), _mm512_maskz_loadu_ps (m, x + i), a0);
            }
          hidden[(gsize) b * sq + s] = p->b1[s] + _mm512_reduce_add_ps (_mm512_add_ps (a0, a1));
        }
    }
  for (int b = 0; b < p->n; b++)
    tvw_activation_apply_span (hidden + (gsize) b * sq + s0, s1 - s0, p->act);
}

/* fc2 and the gate activation for channels [o0, o1) of all @n images
 * (@o0 a multiple of SE_GATE_BLOCK): a 128-channel block of fc2's columns
 * stays in cache while the images go by.  The terms are added in the
 * order of the scalar path. */
static void
compute_gates (const TvwSeParams *p,
               const float       *hidden,
               float             *g,
               int                o0,
               int                o1)
{
  const int c = p->c, sq = p->squeeze;

  for (int o = o0; o < o1; o += 128)
    {
      __mmask16 m[8];

      for (int j = 0; j < 8; j++)
        {
          const int left = o1 - o - 16 * j;

          m[j] = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16) ((1u << left) - 1);
        }

      for (int b = 0; b < p->n; b++)
        {
          const float *h = hidden + (gsize) b * sq;
          float *out = g + (gsize) b * c + o;
          __m512 acc[8];

#pragma GCC unroll 8
          for (int j = 0; j < 8; j++)
            acc[j] = _mm512_maskz_loadu_ps (m[j], p->b2 + o + 16 * j);

          for (int s = 0; s < sq; s++)
            {
              const __m512 hs = _mm512_set1_ps (h[s]);
              const float *w = p->w2t + (gsize) s * c + o;

#pragma GCC unroll 8
              for (int j = 0; j < 8; j++)
                acc[j] = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (m[j], w + 16 * j), hs, acc[j]);
            }

#pragma GCC unroll 8
          for (int j = 0; j < 8; j++)
            _mm512_mask_storeu_ps (out + 16 * j, m[j], tvw_v16_activation (acc[j], p->gate_act));
        }
    }
}

#else

static inline float
dot (const float *a,
     const float *b,
     int          n)
{
  float part[8] = { 0 };
  float sum = 0.f;
  int i = 0;

  /* Eight partial sums: vectorised without reassociating the loop. */
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      part[j] += a[i + j] * b[i + j];
  for (; i < n; i++)
    sum += a[i] * b[i];
  for (int j = 0; j < 8; j++)
    sum += part[j];

  return sum;
}

/* fc1 and its activation for squeeze channels [s0, s1) of each image. */
static void
compute_hidden (const TvwSeParams *p,
                const float       *means,
                float             *hiddens,
                int                s0,
                int                s1)
{
  for (int b = 0; b < p->n; b++)
    {
      const float *mean = means + (gsize) b * p->c;
      float *hidden = hiddens + (gsize) b * p->squeeze;

      for (int s = s0; s < s1; s++)
        hidden[s] = p->b1[s] + dot (p->w1 + (gsize) s * p->c, mean, p->c);
      tvw_activation_apply_span (hidden + s0, s1 - s0, p->act);
    }
}

/* fc2 and the gate activation for channels [o0, o1) of each image. */
static void
compute_gates (const TvwSeParams *p,
               const float       *hiddens,
               float             *gs,
               int                o0,
               int                o1)
{
  for (int b = 0; b < p->n; b++)
    {
      const float *hidden = hiddens + (gsize) b * p->squeeze;
      float *g = gs + (gsize) b * p->c;

      memcpy (g + o0, p->b2 + o0, (o1 - o0) * sizeof (float));
      for (int s = 0; s < p->squeeze; s++)
        {
          const float *w = p->w2t + (gsize) s * p->c;
          const float h = hidden[s];

          for (int o = o0; o < o1; o++)
            g[o] += w[o] * h;
        }
      tvw_activation_apply_span (g + o0, o1 - o0, p->gate_act);
    }
}

#endif

typedef struct
{
  const TvwSeParams *p;
  const float       *input;
  float             *output;
  float             *mean;
  float             *hidden;
  float             *gates;
  float             *bands;    /* [n][SE_MEAN_BANDS][c] sums */
} SeJob;

static void
se_hidden (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const SeJob *job = data;
  const int sq = job->p->squeeze;

  compute_hidden (job->p, job->mean, job->hidden, MIN ((int) begin * SE_HIDDEN_BLOCK, sq),
                  MIN ((int) end * SE_HIDDEN_BLOCK, sq));
}

static void
se_gates (gpointer data,
          gsize    begin,
          gsize    end,
          int      thread)
{
  const SeJob *job = data;
  const int c = job->p->c;

  compute_gates (job->p, job->hidden, job->gates, MIN ((int) begin * SE_GATE_BLOCK, c),
                 MIN ((int) end * SE_GATE_BLOCK, c));
}

static void
se_bands (gpointer data,
          gsize    begin,
          gsize    end,
          int      thread)
{
  const SeJob *job = data;
  const int c = job->p->c;
  const gsize hw = job->p->hw;

  for (gsize task = begin; task < end; task++)
    {
      const gsize b = task / SE_MEAN_BANDS, band = task % SE_MEAN_BANDS;
      const gsize r0 = hw * band / SE_MEAN_BANDS, r1 = hw * (band + 1) / SE_MEAN_BANDS;
      const float *x = job->input + (b * hw + r0) * c;
      float *sum = job->bands + task * c;

      memset (sum, 0, c * sizeof (float));
      for (gsize r = r0; r < r1; r++, x += c)
        for (int j = 0; j < c; j++)
          sum[j] += x[j];
    }
}

/* The bands' sums, in their order, over the pixels. */
static void
se_means (const SeJob *job)
{
  const int c = job->p->c;

  for (int b = 0; b < job->p->n; b++)
    {
      const float *band = job->bands + (gsize) b * SE_MEAN_BANDS * c;
      float *mean = job->mean + (gsize) b * c;

      memcpy (mean, band, c * sizeof (float));
      for (int q = 1; q < SE_MEAN_BANDS; q++)
        for (int j = 0; j < c; j++)
          mean[j] += band[(gsize) q * c + j];
      for (int j = 0; j < c; j++)
        mean[j] /= (float) job->p->hw;
    }
}

static void
se_scale (gpointer data,
          gsize    begin,
          gsize    end,
          int      thread)
{
  const SeJob *job = data;
  const int c = job->p->c;

  for (gsize r = begin; r < end; r++)
    {
      const float *g = job->gates + (r / job->p->hw) * c;
      const float *x = job->input + r * c;
      float *o = job->output + r * c;

      for (int j = 0; j < c; j++)
        o[j] = x[j] * g[j];
    }
}

void
tvw_kernel_squeeze_excitation (const TvwSeParams *p,
                               const float       *input,
                               float             *output,
                               float             *scratch,
                               int                n_threads)
{
  const int c = p->c;
  const gsize rows = (gsize) p->n * p->hw;
  float *mean = scratch;
  float *hidden = mean + (gsize) p->n * c;
  float *gates = hidden + (gsize) p->n * p->squeeze;
  float *bands = gates + (gsize) p->n * c;
  const int gate_threads = (gsize) c * p->squeeze >= SE_GATES_PARALLEL_MIN ? n_threads : 1;
  SeJob job = { p, input, output, mean, hidden, gates, bands };

  if (rows * c < SE_PARALLEL_MIN)
    n_threads = 1;

  /* The sums over bands of pixels, then the means; fc1 by blocks of
   * squeeze channels; fc2 by blocks of channels; the product. */
  tvw_parallel_range ((gsize) p->n * SE_MEAN_BANDS, n_threads, se_bands, &job);
  se_means (&job);
  tvw_parallel_range ((gsize) (p->squeeze + SE_HIDDEN_BLOCK - 1) / SE_HIDDEN_BLOCK, gate_threads,
                      se_hidden, &job);
  tvw_parallel_range ((gsize) (c + SE_GATE_BLOCK - 1) / SE_GATE_BLOCK, gate_threads, se_gates, &job);
  tvw_parallel_range (rows, n_threads, se_scale, &job);
}
