/* tvw-kernels.c — pooling, elementwise and layout kernels over NHWC buffers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-kernels-private.h"
#include "tvw-engine-threads-private.h"

/* Below this many elements a parallel region costs more than it saves. */
#define PARALLEL_MIN 32768

static inline int
threads_for (gsize work,
             int   n_threads)
{
  return work < PARALLEL_MIN ? 1 : n_threads;
}

float
tvw_activation_apply (float         x,
                      TvwActivation act)
{
  switch (act)
    {
    case TVW_ACT_NONE:
      return x;
    case TVW_ACT_RELU:
      return x > 0.f ? x : 0.f;
    case TVW_ACT_RELU6:
      return fminf (fmaxf (x, 0.f), 6.f);
    case TVW_ACT_SILU:
      return x / (1.f + expf (-x));
    case TVW_ACT_SIGMOID:
      return 1.f / (1.f + expf (-x));
    case TVW_ACT_HARDSWISH:
      return x * fminf (fmaxf (x + 3.f, 0.f), 6.f) / 6.f;
    case TVW_ACT_HARDSIGMOID:
      return fminf (fmaxf (x + 3.f, 0.f), 6.f) / 6.f;
    case TVW_ACT_GELU:
      return 0.5f * x * (1.f + erff (x * (float) M_SQRT1_2));
    case TVW_ACT_TANH:
      return tanhf (x);
    default:
      g_assert_not_reached ();
    }
}

typedef struct
{
  const float   *a, *b;        /* inputs (b: second operand, or NULL) */
  float         *out;
  int            c;
  gsize          pitch;        /* channel_affine: floats between input rows */
  const float   *scale, *shift;
  const float   *gate;
  gsize          hw;
  TvwActivation  act;
} Elementwise;

static void
activation_range (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const Elementwise *e = data;

  for (gsize i = begin; i < end; i++)
    e->out[i] = tvw_activation_apply (e->out[i], e->act);
}

void
tvw_kernel_activation (float         *data,
                       gsize          count,
                       TvwActivation  act,
                       int            n_threads)
{
  Elementwise e = { .out = data, .act = act };

  tvw_parallel_range (count, threads_for (count, n_threads), activation_range, &e);
}

static void
affine_range (gpointer data,
              gsize    begin,
              gsize    end,
              int      thread)
{
  const Elementwise *e = data;
  /* Locals, so that the stores cannot alias them and the loops vectorise. */
  const float *restrict scale = e->scale;
  const float *restrict shift = e->shift;
  const int c = e->c;
  const gsize pitch = e->pitch;
  const TvwActivation act = e->act;

  for (gsize r = begin; r < end; r++)
    {
      const float *restrict in = e->a + r * pitch;
      float *restrict out = e->out + r * c;

      /* BatchNorm + ReLU before a convolution (DenseNet's every layer)
       * and BatchNorm alone inline; the rest through the activation. */
      if (act == TVW_ACT_RELU)
        for (int ch = 0; ch < c; ch++)
          {
            float v = in[ch] * scale[ch] + shift[ch];

            out[ch] = v > 0.f ? v : 0.f;
          }
      else if (act == TVW_ACT_NONE)
        for (int ch = 0; ch < c; ch++)
          out[ch] = in[ch] * scale[ch] + shift[ch];
      else
        for (int ch = 0; ch < c; ch++)
          out[ch] = tvw_activation_apply (in[ch] * scale[ch] + shift[ch], act);
    }
}

void
tvw_kernel_channel_affine (const float   *input,
                           gsize          in_pitch,
                           float         *output,
                           gsize          rows,
                           int            c,
                           const float   *scale,
                           const float   *shift,
                           TvwActivation  act,
                           int            n_threads)
{
  Elementwise e = { .a = input, .out = output, .c = c, .pitch = in_pitch, .scale = scale,
                    .shift = shift, .act = act };

  tvw_parallel_range (rows, threads_for (rows * c, n_threads), affine_range, &e);
}

static void
add_range (gpointer data,
           gsize    begin,
           gsize    end,
           int      thread)
{
  const Elementwise *e = data;
  const float *a = e->a, *b = e->b;
  float *out = e->out;
  gsize i = begin;

  /* The sum in explicit vectors (a compiler would vectorise it behind a
   * run-time overlap check, the output may be an input), the activation
   * over the span after it: no call per element. */
#if defined(__AVX512F__)
  for (; i + 16 <= end; i += 16)
    _mm512_storeu_ps (out + i, _mm512_add_ps (_mm512_loadu_ps (a + i), _mm512_loadu_ps (b + i)));
#elif defined(TVW_HAVE_AVX2)
  for (; i + 8 <= end; i += 8)
    _mm256_storeu_ps (out + i, _mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i)));
#endif
  for (; i < end; i++)
    out[i] = a[i] + b[i];
  tvw_activation_apply_span (out + begin, end - begin, e->act);
}

void
tvw_kernel_add (const float   *a,
                const float   *b,
                float         *output,
                gsize          count,
                TvwActivation  act,
                int            n_threads)
{
  Elementwise e = { .a = a, .b = b, .out = output, .act = act };

  tvw_parallel_range (count, threads_for (count, n_threads), add_range, &e);
}

static void
scale_channels_range (gpointer data,
                      gsize    begin,
                      gsize    end,
                      int      thread)
{
  const Elementwise *e = data;

  for (gsize r = begin; r < end; r++)
    {
      const float *g = e->gate + (r / e->hw) * e->c;
      const float *in = e->a + r * e->c;
      float *out = e->out + r * e->c;

      for (int ch = 0; ch < e->c; ch++)
        out[ch] = in[ch] * g[ch];
    }
}

void
tvw_kernel_scale_channels (const float *input,
                           const float *gate,
                           float       *output,
                           int          n,
                           gsize        hw,
                           int          c,
                           int          n_threads)
{
  const gsize rows = (gsize) n * hw;
  Elementwise e = { .a = input, .gate = gate, .out = output, .c = c, .hw = hw };

  tvw_parallel_range (rows, threads_for (rows * c, n_threads), scale_channels_range, &e);
}

typedef struct
{
  const TvwPoolParams *p;
  const float         *input;
  float               *output;
  gboolean             adaptive;   /* mean pools */
} Pooling;

#define MAX_POOL_CB 64

static void
max_pool_range (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const Pooling *job = data;
  const TvwPoolParams *p = job->p;
  const float *input = job->input;
  float *output = job->output;
  /* Locals: stores through the output pointer could alias *p otherwise,
   * which keeps the channel loop from vectorising. */
  const int c = p->c;
  const gsize pitch = p->out_pitch > 0 ? p->out_pitch : c;

  for (int row = (int) begin; row < (int) end; row++)
    {
      const int b = row / p->oh;
      const int oy = row % p->oh;
      const int y0 = MAX (oy * p->sh - p->ph, 0);
      const int y1 = MIN (oy * p->sh - p->ph + p->kh, p->h);

      for (int ox = 0; ox < p->ow; ox++)
        {
          const int x0 = MAX (ox * p->sw - p->pw, 0);
          const int x1 = MIN (ox * p->sw - p->pw + p->kw, p->w);
          float *restrict o = output + (((gsize) b * p->oh + oy) * p->ow + ox) * pitch;

          /* Blocks of MAX_POOL_CB channels, in registers across the taps
           * (through the output they would be loaded and stored once per
           * tap). */
          for (int c0 = 0; c0 < c; c0 += MAX_POOL_CB)
            {
              const int cb = MIN (MAX_POOL_CB, c - c0);
              float acc[MAX_POOL_CB];

              for (int ch = 0; ch < MAX_POOL_CB; ch++)
                acc[ch] = -INFINITY;

              for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                  {
                    const float *restrict in = input + (((gsize) b * p->h + y) * p->w + x) * c + c0;

                    /* NaN propagates, as in PyTorch (v != v is NaN, and
                     * unlike isnan() it vectorises). */
                    if (cb == MAX_POOL_CB)
                      for (int ch = 0; ch < MAX_POOL_CB; ch++)
                        {
                          float v = in[ch];

                          acc[ch] = (v > acc[ch] || v != v) ? v : acc[ch];
                        }
                    else
                      for (int ch = 0; ch < cb; ch++)
                        {
                          float v = in[ch];

                          acc[ch] = (v > acc[ch] || v != v) ? v : acc[ch];
                        }
                  }

              memcpy (o + c0, acc, cb * sizeof (float));
            }
        }
    }
}

void
tvw_kernel_max_pool2d (const TvwPoolParams *p,
                       const float         *input,
                       float               *output,
                       int                  n_threads)
{
  const int rows = p->n * p->oh;
  Pooling job = { p, input, output, FALSE };

  tvw_parallel_range (rows, threads_for ((gsize) rows * p->ow * p->c, n_threads),
                      max_pool_range, &job);
}

/* @o = the sum of image @b's pixels in rows [@y0, @y1), columns [@x0, @x1),
 * times @div. */
static inline void
window_mean (const TvwPoolParams *p,
             const float         *input,
             int                  b,
             int                  y0,
             int                  y1,
             int                  x0,
             int                  x1,
             float                div,
             float               *o)
{
  memset (o, 0, p->c * sizeof (float));
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        const float *in = input + (((gsize) b * p->h + y) * p->w + x) * p->c;

        for (int ch = 0; ch < p->c; ch++)
          o[ch] += in[ch];
      }
  for (int ch = 0; ch < p->c; ch++)
    o[ch] *= div;
}

/* Output pixel (@oy, @ox)'s input window of a pooling kernel, and the
 * count its sum is divided by (with or without the padding). */
static inline int
pool_window (const TvwPoolParams *p,
             int                  oy,
             int                  ox,
             int                 *y0,
             int                 *y1,
             int                 *x0,
             int                 *x1)
{
  const int ys = oy * p->sh - p->ph;
  const int ye = MIN (ys + p->kh, p->h + p->ph);
  const int xs = ox * p->sw - p->pw;
  const int xe = MIN (xs + p->kw, p->w + p->pw);

  *y0 = MAX (ys, 0);
  *y1 = MIN (ye, p->h);
  *x0 = MAX (xs, 0);
  *x1 = MIN (xe, p->w);
  return p->count_include_pad ? (ye - ys) * (xe - xs) : (*y1 - *y0) * (*x1 - *x0);
}

/* Output pixel (@oy, @ox)'s input window and the factor of its sum: a
 * pooling kernel's (with or without the padding counted), or an adaptive
 * pooling's share of the input. */
static inline float
mean_window (const TvwPoolParams *p,
             gboolean             adaptive,
             int                  oy,
             int                  ox,
             int                 *y0,
             int                 *y1,
             int                 *x0,
             int                 *x1)
{
  int pool;

  if (adaptive)
    {
      *y0 = (int) floor ((double) oy * p->h / p->oh);
      *y1 = (int) ceil ((double) (oy + 1) * p->h / p->oh);
      *x0 = (int) floor ((double) ox * p->w / p->ow);
      *x1 = (int) ceil ((double) (ox + 1) * p->w / p->ow);
      return 1.f / ((*y1 - *y0) * (*x1 - *x0));
    }

  pool = pool_window (p, oy, ox, y0, y1, x0, x1);
  return pool > 0 ? 1.f / pool : 0.f;
}

/* One output row of a one-channel average pooling (RAFT's correlation
 * pyramid: 2 852 maps of 46×62 at 368×496), as window_mean () computes it
 * but without a call and a division per pixel. */
static void
mean_pool_plane_row (const TvwPoolParams *p,
                     const float         *plane,
                     int                  oy,
                     float               *out,
                     gsize                pitch)
{
  int last = 0;
  float div = 0.f;

  for (int ox = 0; ox < p->ow; ox++)
    {
      int y0, y1, x0, x1;
      const int pool = pool_window (p, oy, ox, &y0, &y1, &x0, &x1);
      float sum = 0.f;

      if (pool != last)
        {
          div = pool > 0 ? 1.f / pool : 0.f;
          last = pool;
        }
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          sum += plane[(gsize) y * p->w + x];
      out[ox * pitch] = sum * div;
    }
}

static void
mean_pool_range (gpointer data,
                 gsize    begin,
                 gsize    end,
                 int      thread)
{
  const Pooling *job = data;
  const TvwPoolParams *p = job->p;
  const gsize pitch = p->out_pitch > 0 ? p->out_pitch : p->c;

  for (int row = (int) begin; row < (int) end; row++)
    {
      const int b = row / p->oh;
      const int oy = row % p->oh;

      if (p->c == 1 && !job->adaptive)
        {
          mean_pool_plane_row (p, job->input + (gsize) b * p->h * p->w, oy,
                               job->output + ((gsize) b * p->oh + oy) * p->ow * pitch, pitch);
          continue;
        }

      for (int ox = 0; ox < p->ow; ox++)
        {
          float *o = job->output + (((gsize) b * p->oh + oy) * p->ow + ox) * pitch;
          int y0, y1, x0, x1;
          float div = mean_window (p, job->adaptive, oy, ox, &y0, &y1, &x0, &x1);

          window_mean (p, job->input, b, y0, y1, x0, x1, div, o);
        }
    }
}

void
tvw_kernel_avg_pool2d (const TvwPoolParams *p,
                       const float         *input,
                       float               *output,
                       int                  n_threads)
{
  const int rows = p->n * p->oh;
  Pooling job = { p, input, output, FALSE };

  tvw_parallel_range (rows, threads_for ((gsize) rows * p->ow * p->c, n_threads),
                      mean_pool_range, &job);
}

void
tvw_kernel_adaptive_avg_pool2d (const TvwPoolParams *p,
                                const float         *input,
                                float               *output,
                                int                  n_threads)
{
  const int rows = p->n * p->oh;
  Pooling job = { p, input, output, TRUE };

  tvw_parallel_range (rows, threads_for ((gsize) p->n * p->h * p->w * p->c, n_threads),
                      mean_pool_range, &job);
}

typedef struct
{
  const float *input;
  float       *output;
  int          c;
  gsize        hw;
} Layout;

static void
nchw_to_nhwc_range (gpointer data,
                    gsize    begin,
                    gsize    end,
                    int      thread)
{
  const Layout *l = data;

  for (gsize b = begin; b < end; b++)
    for (gsize i = 0; i < l->hw; i++)
      for (int ch = 0; ch < l->c; ch++)
        l->output[(b * l->hw + i) * l->c + ch] = l->input[(b * l->c + ch) * l->hw + i];
}

void
tvw_kernel_nchw_to_nhwc (const float *input,
                         float       *output,
                         int          n,
                         int          c,
                         int          h,
                         int          w,
                         int          n_threads)
{
  Layout l = { input, output, c, (gsize) h * w };

  tvw_parallel_range (n, threads_for ((gsize) n * c * l.hw, n_threads), nchw_to_nhwc_range, &l);
}

static void
nhwc_to_nchw_range (gpointer data,
                    gsize    begin,
                    gsize    end,
                    int      thread)
{
  const Layout *l = data;

  for (gsize b = begin; b < end; b++)
    for (int ch = 0; ch < l->c; ch++)
      for (gsize i = 0; i < l->hw; i++)
        l->output[(b * l->c + ch) * l->hw + i] = l->input[(b * l->hw + i) * l->c + ch];
}

void
tvw_kernel_nhwc_to_nchw (const float *input,
                         float       *output,
                         int          n,
                         int          h,
                         int          w,
                         int          c,
                         int          n_threads)
{
  Layout l = { input, output, c, (gsize) h * w };

  tvw_parallel_range (n, threads_for ((gsize) n * c * l.hw, n_threads), nhwc_to_nchw_range, &l);
}
