/* tvw-op-convnd.c — convolutions over 1, 2 or 3 spatial dimensions, plain
 * or transposed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * nn.Conv1d/2d/3d and nn.ConvTranspose2d/3d with groups, stride, padding,
 * dilation and output padding, as one GEMM per group: a block of output
 * positions (rows) times the group's weights, packed once into GEMM panels
 * with the rows of B in (kernel tap, input channel) order.  A block's
 * im2col (vol2col) rows are gathered into the thread's scratch first.
 *
 * Rank 4/5 inputs are taken channels-last, where a tap's input channels
 * are contiguous and the output rows are what the GEMM writes; 1-D
 * convolutions stay row-major (N×C×L) and their rows are scattered.
 *
 * A transposed convolution is gathered the same way, so threads never add
 * into the same output (no col2im): output position o takes tap k from
 * input position (o + padding − k·dilation) / stride when that divides.
 * Which taps divide depends only on (o + padding) mod stride, so the
 * output is computed in stride^d phases, each a GEMM over its own taps
 * (weights packed per phase): no multiplications by im2col zeros for the
 * taps that never reach it.
 *
 * Depthwise convolutions (one input and one output channel per group) skip
 * the GEMM: each output position sums its taps over all channels at once.
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-ops-private.h"

/* Keep one block's im2col within about 1 MB, so it stays in cache while the
 * GEMM reads it. */
#define IM2COL_TARGET_FLOATS (256 * 1024)

/* The convolution as three spatial dimensions (missing ones of size 1). */
typedef struct
{
  gint64 n, cin, cout, groups, cin_g, cout_g;
  gint64 in[3], out[3], k[3], s[3], p[3], d[3];
  gint64 kvol, k_rows;   /* taps; rows of B (taps · cin_g) */
  gint64 m;              /* rows of the output: n · out volume */
  gboolean transposed;
} Geom;

static void
geom_init (const TvwOpCall *call,
           Geom            *g)
{
  const TvwConvNdParams *p = call->params;
  const TvwConvNdSpec *sp = &p->spec;
  const TvwArray *x = &call->in[0];
  const int lead = 3 - sp->rank;

  memset (g, 0, sizeof *g);
  g->n = x->shape[0];
  g->cin = p->in_channels;
  g->cout = p->out_channels;
  g->groups = MAX (sp->groups, 1);
  g->cin_g = g->cin / g->groups;
  g->cout_g = g->cout / g->groups;
  g->transposed = sp->transposed;
  g->kvol = 1;
  g->m = g->n;
  for (int i = 0; i < 3; i++)
    {
      const int j = i - lead;

      g->in[i] = j >= 0 ? x->shape[2 + j] : 1;
      g->k[i] = j >= 0 ? sp->kernel[j] : 1;
      g->s[i] = j >= 0 ? sp->stride[j] : 1;
      g->p[i] = j >= 0 ? sp->padding[j] : 0;
      g->d[i] = j >= 0 ? sp->dilation[j] : 1;
      if (sp->transposed)
        g->out[i] = (g->in[i] - 1) * g->s[i] - 2 * g->p[i] + g->d[i] * (g->k[i] - 1) +
                    (j >= 0 ? sp->output_padding[j] : 0) + 1;
      else
        g->out[i] = g->in[i] + 2 * g->p[i] - g->d[i] * (g->k[i] - 1) - 1 >= 0
                    ? (g->in[i] + 2 * g->p[i] - g->d[i] * (g->k[i] - 1) - 1) / g->s[i] + 1
                    : 0;
      g->kvol *= g->k[i];
      g->m *= g->out[i];
    }
  g->k_rows = g->kvol * g->cin_g;
}

static gboolean
conv_nd_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwConvNdParams *p = call->params;
  const TvwConvNdSpec *sp = &p->spec;
  const TvwArray *x = &call->in[0];
  char xs[TVW_SHAPE_CHARS];
  gint64 shape[TVW_MAX_RANK], wshape[TVW_MAX_RANK];
  Geom g;

  if (sp->rank < 1 || sp->rank > 3)
    {
      tvw_op_set_invalid (call, error, "%d spatial dimensions, expected 1 to 3", sp->rank);
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, sp->rank + 2, sp->rank + 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;

  tvw_array_format_shape (x, xs);
  if (sp->groups < 1 || p->in_channels < 1 || p->out_channels < 1 ||
      p->in_channels % sp->groups != 0 || p->out_channels % sp->groups != 0)
    {
      tvw_op_set_invalid (call, error, "%d → %d channels do not split into %d groups",
                          p->in_channels, p->out_channels, sp->groups);
      return FALSE;
    }
  if (x->shape[1] != p->in_channels)
    {
      tvw_op_set_error (call, error, "input %s has %" G_GINT64_FORMAT " channels, expected %d",
                        xs, x->shape[1], p->in_channels);
      return FALSE;
    }
  for (int i = 0; i < sp->rank; i++)
    {
      if (sp->kernel[i] < 1 || sp->stride[i] < 1 || sp->dilation[i] < 1 || sp->padding[i] < 0 ||
          sp->output_padding[i] < 0)
        {
          tvw_op_set_invalid (call, error,
                              "dimension %d: kernel %d, stride %d, padding %d, dilation %d",
                              i, sp->kernel[i], sp->stride[i], sp->padding[i], sp->dilation[i]);
          return FALSE;
        }
      /* PyTorch's rule: the extra size must not reach the next input. */
      if (sp->output_padding[i] > 0 &&
          (!sp->transposed ||
           (sp->output_padding[i] >= sp->stride[i] && sp->output_padding[i] >= sp->dilation[i])))
        {
          tvw_op_set_invalid (call, error,
                              "output padding %d must be smaller than the stride (%d) or the "
                              "dilation (%d) of a transposed convolution",
                              sp->output_padding[i], sp->stride[i], sp->dilation[i]);
          return FALSE;
        }
    }

  geom_init (call, &g);
  shape[0] = x->shape[0];
  shape[1] = p->out_channels;
  for (int i = 0; i < sp->rank; i++)
    {
      shape[2 + i] = g.out[3 - sp->rank + i];
      if (shape[2 + i] <= 0)
        {
          tvw_op_set_error (call, error,
                            "input %s is too small for the kernel (output dimension %d is %"
                            G_GINT64_FORMAT ")",
                            xs, 2 + i, shape[2 + i]);
          return FALSE;
        }
    }
  if (g.k_rows > G_MAXINT || g.cout_g > G_MAXINT)
    {
      tvw_op_set_invalid (call, error, "kernel too large");
      return FALSE;
    }

  /* Declared weights: [out, in / groups, k…], transposed [in, out / groups, k…]. */
  wshape[0] = sp->transposed ? p->in_channels : p->out_channels;
  wshape[1] = sp->transposed ? p->out_channels / sp->groups : p->in_channels / sp->groups;
  for (int i = 0; i < sp->rank; i++)
    wshape[2 + i] = sp->kernel[i];
  if (call->n_weights != (sp->bias ? 2 : 1))
    {
      tvw_op_set_invalid (call, error, "%d weights, expected %d", call->n_weights,
                          sp->bias ? 2 : 1);
      return FALSE;
    }
  for (int w = 0; w < call->n_weights; w++)
    {
      const TvwArray *wa = &call->weights[w];
      gboolean ok = w == 0 ? wa->rank == sp->rank + 2
                           : wa->rank == 1 && wa->shape[0] == p->out_channels;

      for (int i = 0; ok && w == 0 && i < wa->rank; i++)
        ok = wa->shape[i] == wshape[i];
      if (!ok)
        {
          char ws[TVW_SHAPE_CHARS];

          tvw_array_format_shape (wa, ws);
          tvw_op_set_error (call, error,
                            "%s has shape %s, wrong for %d → %d channels, groups %d and "
                            "kernel %d",
                            w == 0 ? "weight" : "bias", ws, p->in_channels, p->out_channels,
                            sp->groups, sp->kernel[0]);
          return FALSE;
        }
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, sp->rank + 2, shape);
  return TRUE;
}

/* ---- phases -------------------------------------------------------------
 *
 * A transposed convolution's output position o reads tap k only when
 * o + padding − k·dilation is a multiple of the stride: the output splits
 * into stride^d phases ((o + padding) mod stride along each axis), each
 * with its own fixed subset of the taps.  Each phase is a GEMM of its own
 * (its weights packed apart), so no zero im2col columns are multiplied.  A
 * plain convolution is one phase with every tap. */

typedef struct
{
  gint64 r[3];           /* the phase along each axis */
  gint64 o0[3], n[3];    /* its first output position and count per axis */
  gint64 taps;           /* valid taps */
  gint64 k_rows;         /* rows of its B: taps · cin_g */
  gint64 m;              /* its output rows: batch · n[0] · n[1] · n[2] */
} Phase;

static gint64
n_phases (const Geom *g)
{
  return g->transposed ? g->s[0] * g->s[1] * g->s[2] : 1;
}

static inline gboolean
tap_valid (const Geom  *g,
           const Phase *f,
           int          axis,
           gint64       k)
{
  return !g->transposed || (k * g->d[axis]) % g->s[axis] == f->r[axis];
}

static void
phase_init (const Geom *g,
            gint64      ph,
            Phase      *f)
{
  gint64 rest = ph;

  f->taps = 1;
  f->m = g->n;
  for (int a = 2; a >= 0; a--)
    {
      gint64 valid = 0;

      if (g->transposed)
        {
          f->r[a] = rest % g->s[a];
          rest /= g->s[a];
          f->o0[a] = ((f->r[a] - g->p[a]) % g->s[a] + g->s[a]) % g->s[a];
          f->n[a] = f->o0[a] < g->out[a] ? (g->out[a] - 1 - f->o0[a]) / g->s[a] + 1 : 0;
        }
      else
        {
          f->r[a] = 0;
          f->o0[a] = 0;
          f->n[a] = g->out[a];
        }
      for (gint64 k = 0; k < g->k[a]; k++)
        valid += tap_valid (g, f, a, k);
      f->taps *= valid;
      f->m *= f->n[a];
    }
  f->k_rows = f->taps * g->cin_g;
}

/* The output position of a phase's @j-th one along @axis. */
static inline gint64
output_index (const Geom  *g,
              const Phase *f,
              int          axis,
              gint64       j)
{
  return f->o0[axis] + j * (g->transposed ? g->s[axis] : 1);
}

/* The input position tap @k of output position @o reads along @axis, or -1
 * (padding). */
static inline gint64
source_index (const Geom *g,
              int         axis,
              gint64      o,
              gint64      k)
{
  gint64 i;

  /* For a valid tap of a transposed convolution the division is exact. */
  if (!g->transposed)
    i = o * g->s[axis] - g->p[axis] + k * g->d[axis];
  else
    i = (o + g->p[axis] - k * g->d[axis]) / g->s[axis];
  return i >= 0 && i < g->in[axis] ? i : -1;
}

/* ---- packing: each group's and phase's B[(tap, ci)][co] in GEMM panels -- */

static gsize
phase_floats (const Geom  *g,
              const Phase *f)
{
  return f->k_rows > 0 ? tvw_gemm_packed_floats ((int) f->k_rows, (int) g->cout_g) : 0;
}

/* Floats before phase @ph in a group's packed weights (@ph = n_phases:
 * the group's total). */
static gsize
phase_offset (const Geom *g,
              gint64      ph)
{
  gsize off = 0;

  for (gint64 q = 0; q < ph; q++)
    {
      Phase f;

      phase_init (g, q, &f);
      off += phase_floats (g, &f);
    }
  return off;
}

/* Depthwise (one input and one output channel per group: MViT's pooling
 * convolutions, separable stems) is a direct kernel: a GEMM of one column
 * per group would waste 15 of every 16. */
static gboolean
is_depthwise (const Geom *g)
{
  return !g->transposed && g->cin_g == 1 && g->cout_g == 1 && g->groups > 1;
}

static gsize
conv_nd_packed_bytes (const TvwOpCall *call)
{
  Geom g;

  geom_init (call, &g);
  /* Depthwise: the weights tap-major, [tap][channel]. */
  if (is_depthwise (&g))
    return MAX (g.kvol * g.cout * sizeof (float), 1);
  return MAX (phase_offset (&g, n_phases (&g)) * g.groups * sizeof (float), 1);
}

static int
conv_nd_pack_pieces (const TvwOpCall *call)
{
  const TvwConvNdParams *p = call->params;

  return MAX (p->spec.groups, 1);
}

static void
conv_nd_pack (const TvwOpCall *call,
              int              begin,
              int              end)
{
  const float *w = call->weights[0].data;
  Geom g;
  gsize group_total;

  geom_init (call, &g);
  if (is_depthwise (&g))
    {
      for (int c = begin; c < end; c++)
        for (gint64 tap = 0; tap < g.kvol; tap++)
          ((float *) call->packed)[tap * g.cout + c] = w[c * g.kvol + tap];
      return;
    }
  group_total = phase_offset (&g, n_phases (&g));
  for (int grp = begin; grp < end; grp++)
    for (gint64 ph = 0; ph < n_phases (&g); ph++)
      {
        float *dst = (float *) call->packed + (gsize) grp * group_total + phase_offset (&g, ph);
        const gint64 panels = (g.cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR;
        gint64 kk = 0;
        Phase f;

        phase_init (&g, ph, &f);
        /* B's rows in the order the im2col writes them: valid taps
         * (kt, kh, kw), then input channels.  The layout is
         * tvw_gemm_pack_b ()'s: panel-major, then k, then NR columns,
         * zero-padded. */
        for (gint64 kt = 0; kt < g.k[0]; kt++)
          for (gint64 kh = 0; kh < g.k[1]; kh++)
            for (gint64 kw = 0; kw < g.k[2]; kw++)
              {
                const gint64 tap = (kt * g.k[1] + kh) * g.k[2] + kw;

                if (!tap_valid (&g, &f, 0, kt) || !tap_valid (&g, &f, 1, kh) ||
                    !tap_valid (&g, &f, 2, kw))
                  continue;
                for (gint64 ci = 0; ci < g.cin_g; ci++, kk++)
                  for (gint64 pn = 0; pn < panels; pn++)
                    {
                      float *row = dst + (pn * f.k_rows + kk) * TVW_GEMM_NR;

                      for (int j = 0; j < TVW_GEMM_NR; j++)
                        {
                          const gint64 co = pn * TVW_GEMM_NR + j;

                          if (co >= g.cout_g)
                            row[j] = 0.f;
                          else if (g.transposed)
                            row[j] = w[((grp * g.cin_g + ci) * g.cout_g + co) * g.kvol + tap];
                          else
                            row[j] = w[((grp * g.cout_g + co) * g.cin_g + ci) * g.kvol + tap];
                        }
                    }
              }
      }
}

/* ---- the kernel -------------------------------------------------------- */

/* Rows per block: whole register tiles, the im2col within the target. */
static gint64
block_rows (const Geom *g)
{
  gint64 rows = IM2COL_TARGET_FLOATS / MAX (g->k_rows, 1);

  rows = MAX (rows / tvw_gemm_mr (), 1) * tvw_gemm_mr ();
  return MIN (rows, MAX (g->m, 1));
}

/* Whether the GEMM writes the output in place: a plain convolution's rows
 * are consecutive output positions of a channels-last N×(T×)H×W×C array;
 * others go through a tile in scratch. */
static gboolean
output_is_rows (const Geom     *g,
                const TvwArray *y)
{
  return !g->transposed && y->rank >= 4 && tvw_array_is_channels_last (y);
}

static gsize
conv_nd_scratch (const TvwOpCall *call)
{
  Geom g;
  gint64 rows;

  geom_init (call, &g);
  if (is_depthwise (&g))
    return 0;
  rows = block_rows (&g);
  /* The im2col block, and the tile the GEMM writes unless in place. */
  return (gsize) rows * (g.k_rows + (output_is_rows (&g, &call->out[0]) ? 0 : g.cout_g)) *
         sizeof (float);
}

typedef struct
{
  const TvwOpCall *call;
  Geom             g;
  gint64           rows;            /* per block */
  gint64           group_tasks;     /* blocks over all phases, per group */
  gsize            group_total;     /* packed floats per group */
} ConvJob;

static void
conv_nd_block (gpointer data,
               int      task,
               int      thread)
{
  const ConvJob *job = data;
  const TvwOpCall *call = job->call;
  const Geom *g = &job->g;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  const int lead = 3 - (x->rank - 2);
  const gint64 grp = task / job->group_tasks;
  const gint64 sc = x->stride[1];
  float *col = (float *) (call->scratch + (gsize) thread * call->scratch_bytes);
  float *tile = col + job->rows * g->k_rows;
  const float *bias = call->n_weights > 1 && call->weights[1].data != NULL
                      ? (const float *) call->weights[1].data + grp * g->cout_g : NULL;
  gint64 block = task % job->group_tasks, ph, m0, m1, vol;
  gint64 xs[3], ys[3];
  float *c;
  gsize ldc, packed_off = 0;
  Phase f;

  for (int i = 0; i < 3; i++)
    {
      xs[i] = i >= lead ? x->stride[2 + i - lead] : 0;
      ys[i] = i >= lead ? y->stride[2 + i - lead] : 0;
    }

  /* The phase this block is in, and where its weights are. */
  for (ph = 0;; ph++)
    {
      gint64 blocks;

      phase_init (g, ph, &f);
      blocks = (f.m + job->rows - 1) / job->rows;
      if (block < blocks)
        break;
      block -= blocks;
      packed_off += phase_floats (g, &f);
    }
  m0 = block * job->rows;
  m1 = MIN (m0 + job->rows, f.m);
  vol = f.n[0] * f.n[1] * f.n[2];

  /* vol2col: row r is the phase's output position m0 + r, columns its
   * valid taps × input channels. */
  for (gint64 m = m0; m < m1; m++)
    {
      const gint64 n = m / vol, pos = m % vol;
      const gint64 o[3] = {
        output_index (g, &f, 0, pos / (f.n[1] * f.n[2])),
        output_index (g, &f, 1, pos / f.n[2] % f.n[1]),
        output_index (g, &f, 2, pos % f.n[2]),
      };
      const float *xn = (const float *) x->data + n * x->stride[0] + grp * g->cin_g * sc;
      float *dst = col + (m - m0) * f.k_rows;

      for (gint64 kt = 0; kt < g->k[0]; kt++)
        {
          gint64 it;

          if (!tap_valid (g, &f, 0, kt))
            continue;
          it = source_index (g, 0, o[0], kt);
          for (gint64 kh = 0; kh < g->k[1]; kh++)
            {
              gint64 ih;

              if (!tap_valid (g, &f, 1, kh))
                continue;
              ih = it < 0 ? -1 : source_index (g, 1, o[1], kh);
              for (gint64 kw = 0; kw < g->k[2]; kw++)
                {
                  gint64 iw;
                  const float *src;

                  if (!tap_valid (g, &f, 2, kw))
                    continue;
                  iw = ih < 0 ? -1 : source_index (g, 2, o[2], kw);
                  if (iw < 0)
                    memset (dst, 0, g->cin_g * sizeof (float));
                  else
                    {
                      src = xn + it * xs[0] + ih * xs[1] + iw * xs[2];
                      if (sc == 1)
                        memcpy (dst, src, g->cin_g * sizeof (float));
                      else
                        for (gint64 ci = 0; ci < g->cin_g; ci++)
                          dst[ci] = src[ci * sc];
                    }
                  dst += g->cin_g;
                }
            }
        }
    }

  if (output_is_rows (g, y))
    {
      c = (float *) y->data + m0 * g->cout + grp * g->cout_g;
      ldc = g->cout;
    }
  else
    {
      c = tile;
      ldc = g->cout_g;
    }
  if (f.k_rows > 0)
    tvw_gemm_packed ((int) (m1 - m0), (int) f.k_rows, col, f.k_rows,
                     (const float *) call->packed + grp * job->group_total + packed_off,
                     (int) g->cout_g,
                     0, (int) ((g->cout_g + TVW_GEMM_NR - 1) / TVW_GEMM_NR),
                     c, ldc, bias, NULL, 0, TVW_ACT_NONE);
  else
    /* No tap reaches this phase (a stride over the kernel): bias only. */
    for (gint64 r = 0; r < m1 - m0; r++)
      for (gint64 co = 0; co < g->cout_g; co++)
        c[r * ldc + co] = bias != NULL ? bias[co] : 0.f;

  if (c == tile)
    for (gint64 m = m0; m < m1; m++)
      {
        const gint64 n = m / vol, pos = m % vol;
        const gint64 ot = output_index (g, &f, 0, pos / (f.n[1] * f.n[2]));
        const gint64 oh = output_index (g, &f, 1, pos / f.n[2] % f.n[1]);
        const gint64 ow = output_index (g, &f, 2, pos % f.n[2]);
        float *dst = (float *) y->data + n * y->stride[0] + grp * g->cout_g * y->stride[1] +
                     ot * ys[0] + oh * ys[1] + ow * ys[2];
        const float *src = tile + (m - m0) * g->cout_g;

        if (y->stride[1] == 1)
          memcpy (dst, src, g->cout_g * sizeof (float));
        else
          for (gint64 co = 0; co < g->cout_g; co++)
            dst[co * y->stride[1]] = src[co];
      }
}

/* One task is a run of output positions; each accumulates its taps over
 * all channels (contiguous when channels-last). */
static void
depthwise_rows (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const ConvJob *job = data;
  const TvwOpCall *call = job->call;
  const Geom *g = &job->g;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  const int lead = 3 - (x->rank - 2);
  const gint64 channels = g->cout, sc = x->stride[1], ys1 = y->stride[1];
  const gint64 vol = g->out[0] * g->out[1] * g->out[2];
  const float *wt = call->packed;
  const float *bias = call->n_weights > 1 ? call->weights[1].data : NULL;
  gint64 xs[3], ys[3];

  for (int i = 0; i < 3; i++)
    {
      xs[i] = i >= lead ? x->stride[2 + i - lead] : 0;
      ys[i] = i >= lead ? y->stride[2 + i - lead] : 0;
    }

  for (gsize m = begin; m < end; m++)
    {
      const gint64 n = (gint64) m / vol, pos = (gint64) m % vol;
      const gint64 o[3] = {
        pos / (g->out[1] * g->out[2]), pos / g->out[2] % g->out[1], pos % g->out[2],
      };
      const float *xn = (const float *) x->data + n * x->stride[0];
      float *dst = (float *) y->data + n * y->stride[0] + o[0] * ys[0] + o[1] * ys[1] +
                   o[2] * ys[2];

      for (gint64 c = 0; c < channels; c++)
        dst[c * ys1] = bias != NULL ? bias[c] : 0.f;
      for (gint64 kt = 0; kt < g->k[0]; kt++)
        {
          const gint64 it = source_index (g, 0, o[0], kt);

          for (gint64 kh = 0; it >= 0 && kh < g->k[1]; kh++)
            {
              const gint64 ih = source_index (g, 1, o[1], kh);

              for (gint64 kw = 0; ih >= 0 && kw < g->k[2]; kw++)
                {
                  const gint64 iw = source_index (g, 2, o[2], kw);
                  const float *src, *w;

                  if (iw < 0)
                    continue;
                  src = xn + it * xs[0] + ih * xs[1] + iw * xs[2];
                  w = wt + ((kt * g->k[1] + kh) * g->k[2] + kw) * channels;
                  if (sc == 1 && ys1 == 1)
                    for (gint64 c = 0; c < channels; c++)
                      dst[c] += src[c] * w[c];
                  else
                    for (gint64 c = 0; c < channels; c++)
                      dst[c * ys1] += src[c * sc] * w[c];
                }
            }
        }
    }
}

static gint64
count_blocks (const Geom *g,
              gint64      rows)
{
  gint64 blocks = 0;

  for (gint64 ph = 0; ph < n_phases (g); ph++)
    {
      Phase f;

      phase_init (g, ph, &f);
      blocks += (f.m + rows - 1) / rows;
    }
  return blocks;
}

static void
conv_nd_run (TvwOpCall *call)
{
  ConvJob job = { call };

  geom_init (call, &job.g);
  if (job.g.m == 0)
    return;
  if (is_depthwise (&job.g))
    {
      const gint64 work = job.g.m * job.g.cout * job.g.kvol;

      tvw_parallel_range ((gsize) job.g.m, work < 32768 ? 1 : call->n_threads,
                          depthwise_rows, &job);
      return;
    }
  job.rows = block_rows (&job.g);
  /* Enough blocks for every thread when the output allows. */
  if (job.g.groups * count_blocks (&job.g, job.rows) < call->n_threads)
    {
      gint64 per = (job.g.m * job.g.groups + call->n_threads - 1) / call->n_threads;

      per = (per + tvw_gemm_mr () - 1) / tvw_gemm_mr () * tvw_gemm_mr ();
      job.rows = MAX (MIN (job.rows, per), 1);
    }
  job.group_tasks = count_blocks (&job.g, job.rows);
  job.group_total = phase_offset (&job.g, n_phases (&job.g));
  tvw_parallel_tasks ((int) (job.group_tasks * job.g.groups), call->n_threads, conv_nd_block, &job);
}

const TvwOpClass tvw_op_conv_nd = {
  .name = "conv_nd",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = conv_nd_infer,
  .packed_bytes = conv_nd_packed_bytes,
  .pack_pieces = conv_nd_pack_pieces,
  .pack = conv_nd_pack,
  .scratch = conv_nd_scratch,
  .run = conv_nd_run,
};

TvwVal
tvw_net_conv_nd (TvwNet              *net,
                 TvwVal               x,
                 const char          *name,
                 int                  out_channels,
                 const TvwConvNdSpec *spec)
{
  const TvwArray *a = tvw_net_array (net, x);
  TvwConvNdParams p = { *spec, a != NULL && a->rank >= 2 ? (int) a->shape[1] : 0, out_channels };
  const int groups = MAX (spec->groups, 1);
  /* A bad rank is reported by infer; the declaration must still fit. */
  TvwWeightSpec weights[2] = {
    { "weight", CLAMP (spec->rank, 1, 3) + 2, { 0 }, 0 },
    { "bias", 1, { out_channels }, 0 },
  };
  const TvwNodeSpec node = {
    .cls = &tvw_op_conv_nd,
    .name = name,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_weights = spec->bias ? 2 : 1,
    .weights = weights,
    .n_out = 1,
  };

  weights[0].shape[0] = spec->transposed ? p.in_channels : out_channels;
  weights[0].shape[1] = spec->transposed ? out_channels / groups : p.in_channels / groups;
  for (int i = 0; i < spec->rank && i < 3; i++)
    weights[0].shape[2 + i] = spec->kernel[i];

  return tvw_net_add_node (net, &node, NULL);
}
