/* tvw-op-attention.c — fused multi-head attention and the transformers'
 * helpers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * attention: softmax (Q·Kᵀ·scale + bias…) · V for q [B, H, Lq, D],
 * k [B, H, Lk, D], v [B, H, Lk, Dv], as torch's scaled dot product, in one
 * node.  Work is (batch·head, tile of query rows) tasks: a thread packs
 * Kᵀ and V of a head once for all the tiles it gets of it, then for each
 * tile computes the tile's scores (tile rows × Lk floats, the only scores
 * that ever exist), adds the biases and takes the softmax in place in one
 * vectorised kernel (tvw_kernel_softmax_rows ()) and multiplies by V on
 * the packed GEMM.  Biases are rank-4 [Bb, Hb, Lq, Lk] inputs
 * added to the scores: Hb is 1 or H, and batch b reads bias b mod Bb —
 * Swin's shifted-window mask is [windows, 1, L, L] over a batch of
 * N·windows windows, its relative position bias [1, H, L, L].  With
 * @cosine (Swin V2) the rows of Q and K are L2-normalised first and head h
 * scales by exp (min (logit_scale[h], max_log_scale)), logit_scale being
 * the node's weight.  The output is [B, H, Lq, Dv] stored as
 * [B, Lq, H, Dv]: `.transpose (1, 2).reshape (B, Lq, H·Dv)`, which every
 * transformer does next, is then a view.
 *
 * parameter: a weight as a value (ViT's class token and position
 * embedding, Swin V2's tables), its dimension 0 optionally expanded to
 * input 0's batch; elements [zero_begin, zero_end) read as zeros (Swin V2
 * zeroes the key third of its qkv bias at every forward).
 *
 * relative_position_bias: a [(2·Wh − 1)·(2·Ww − 1), H] table gathered
 * into the [1, H, Wh·Ww, Wh·Ww] bias of a window (Swin, MaxViT), with
 * Swin V2's 16·sigmoid () optionally.
 *
 * window_partition, window_merge, window_mask: Swin's shifted windows of
 * an [N, H, W, C] map — padded to whole windows, rolled back by the shift,
 * cut into [N·windows, Wh·Ww, C] — the way back (rolled forward, cropped),
 * and the [windows, 1, L, L] mask, −100 between tokens that came from
 * different regions before the roll, 0 elsewhere.  One node each, for any
 * map size.
 *
 * patch_merge: Swin's _patch_merging_pad: [N, H, W, C] padded to even
 * sizes → [N, H/2, W/2, 4·C] (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
 * x[1::2, 1::2]).
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-rows-private.h"
#include "tvw-ops-private.h"

/* Query rows per task: a multiple of every kernel set's register tile. */
#define TILE 48
/* Scores per task, about: fewer keys make taller tiles. */
#define TILE_SCORES (TILE * 256)

G_STATIC_ASSERT (TVW_ATTENTION_MAX_BIAS <= TVW_SOFTMAX_MAX_BIAS);

#define ALIGN_FLOATS(n) (((n) + 15) & ~(gsize) 15)

/* ---- attention ----------------------------------------------------------- */

static gboolean
attention_infer (TvwOpCall  *call,
                 GError    **error)
{
  const TvwAttentionParams *p = call->params;
  const TvwArray *q = &call->in[0], *k = &call->in[1], *v = &call->in[2];
  gint64 b, h, lq, lk, dv;
  gint64 shape[4];

  if (p->n_bias < 0 || p->n_bias > TVW_ATTENTION_MAX_BIAS || call->n_in != 3 + p->n_bias)
    {
      tvw_op_set_invalid (call, error, "%d inputs for %d biases", call->n_in, p->n_bias);
      return FALSE;
    }
  for (int i = 0; i < call->n_in; i++)
    if (!tvw_op_check_rank (call, i, 4, 4, error) ||
        !tvw_op_check_elem (call, i, TVW_ELEM_F32, error))
      return FALSE;

  b = q->shape[0];
  h = q->shape[1];
  lq = q->shape[2];
  lk = k->shape[2];
  dv = v->shape[3];
  if (k->shape[0] != b || k->shape[1] != h || k->shape[3] != q->shape[3] ||
      v->shape[0] != b || v->shape[1] != h || v->shape[2] != lk)
    goto mismatch;
  for (int i = 0; i < p->n_bias; i++)
    {
      const TvwArray *m = &call->in[3 + i];

      if (m->shape[0] < 1 || b % m->shape[0] != 0 || (m->shape[1] != 1 && m->shape[1] != h) ||
          m->shape[2] != lq || m->shape[3] != lk)
        goto mismatch;
    }
  if (q->shape[3] > G_MAXINT || lk > G_MAXINT || dv > G_MAXINT)
    {
      tvw_op_set_invalid (call, error, "a dimension is over %d", G_MAXINT);
      return FALSE;
    }
  if (p->cosine && (call->n_weights != 1 || call->weights[0].shape[0] != h))
    {
      tvw_op_set_error (call, error, "cosine attention needs a logit scale per head (%" G_GINT64_FORMAT ")", h);
      return FALSE;
    }

  shape[0] = b;
  shape[1] = h;
  shape[2] = lq;
  shape[3] = dv;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  /* Stored as [B, Lq, H, Dv]. */
  call->out[0].stride[3] = 1;
  call->out[0].stride[1] = dv;
  call->out[0].stride[2] = h * dv;
  call->out[0].stride[0] = lq * h * dv;
  return TRUE;

mismatch:
  {
    char s[4][TVW_SHAPE_CHARS];

    tvw_array_format_shape (q, s[0]);
    tvw_array_format_shape (k, s[1]);
    tvw_array_format_shape (v, s[2]);
    if (p->n_bias > 0)
      tvw_array_format_shape (&call->in[3 + p->n_bias - 1], s[3]);
    else
      strcpy (s[3], "none");
    tvw_op_set_error (call, error, "q %s, k %s, v %s and bias %s do not fit", s[0], s[1], s[2], s[3]);
  }
  return FALSE;
}

/* Query rows per task: TILE, or as many more as keep the tile's scores
 * within TILE_SCORES floats when the keys are few (Swin's and MaxViT's
 * windows of 49 tokens are then one task per window and head, not a tile
 * of 48 rows and one of a single row). */
static gint64
tile_rows (const TvwOpCall *call)
{
  const gint64 lq = call->in[0].shape[2], lk = call->in[1].shape[2];

  return MIN (MAX (TILE, TILE_SCORES / MAX (lk, 1) / TILE * TILE), MAX (lq, 1));
}

/* Per thread: packed Kᵀ, packed V, a gather buffer, the query tile and
 * the tile's scores. */
typedef struct
{
  gsize kt, v, gather, q, s;
} AttentionScratch;

static gsize
attention_layout (const TvwOpCall  *call,
                  AttentionScratch *o)
{
  const gint64 d = call->in[0].shape[3], lk = call->in[1].shape[2], dv = call->in[2].shape[3];
  const gint64 tile = tile_rows (call);
  gsize at = 0;

  o->kt = at;
  at += ALIGN_FLOATS (tvw_gemm_packed_floats ((int) d, (int) lk));
  o->v = at;
  at += ALIGN_FLOATS (tvw_gemm_packed_floats ((int) lk, (int) dv));
  o->gather = at;
  at += ALIGN_FLOATS (MAX (d, dv) * lk);
  o->q = at;
  at += ALIGN_FLOATS (tile * d);
  o->s = at;
  at += ALIGN_FLOATS (tile * lk);
  return at;
}

static gsize
attention_scratch (const TvwOpCall *call)
{
  AttentionScratch o;

  return attention_layout (call, &o) * sizeof (float);
}

typedef struct
{
  const TvwOpCall  *call;
  AttentionScratch  o;
  gint64            tile;        /* query rows per task */
  gint64            tiles;       /* per head */
  float             scale[];     /* per head */
} AttentionJob;

static inline const float *
at4 (const TvwArray *a,
     gint64          i0,
     gint64          i1,
     gint64          i2,
     gint64          i3)
{
  return (const float *) a->data + i0 * a->stride[0] + i1 * a->stride[1] +
         i2 * a->stride[2] + i3 * a->stride[3];
}

/* Packs Kᵀ and V of (@b, @h) into the thread's scratch. */
static void
pack_head (const AttentionJob *job,
           float              *scratch,
           gint64              b,
           gint64              h)
{
  const TvwOpCall *call = job->call;
  const TvwAttentionParams *p = call->params;
  const TvwArray *k = &call->in[1], *v = &call->in[2];
  const gint64 d = k->shape[3], lk = k->shape[2], dv = v->shape[3];
  float *g = scratch + job->o.gather;

  /* Kᵀ: D × Lk, each key row normalised for cosine attention. */
  for (gint64 j = 0; j < lk; j++)
    {
      const float *row = at4 (k, b, h, j, 0);
      float r = 1;

      if (p->cosine)
        {
          double sq = 0;

          for (gint64 c = 0; c < d; c++)
            sq += (double) row[c * k->stride[3]] * row[c * k->stride[3]];
          r = (float) (1.0 / MAX (sqrt (sq), 1e-12));
        }
      for (gint64 c = 0; c < d; c++)
        g[c * lk + j] = row[c * k->stride[3]] * r;
    }
  tvw_gemm_pack_b (g, (int) d, (int) lk, lk, scratch + job->o.kt);

  for (gint64 j = 0; j < lk; j++)
    {
      const float *row = at4 (v, b, h, j, 0);

      if (v->stride[3] == 1)
        memcpy (g + j * dv, row, dv * sizeof (float));
      else
        for (gint64 c = 0; c < dv; c++)
          g[j * dv + c] = row[c * v->stride[3]];
    }
  tvw_gemm_pack_b (g, (int) lk, (int) dv, dv, scratch + job->o.v);
}

/* One tile of query rows [q0, q1) of head (@b, @h). */
static void
attention_tile (const AttentionJob *job,
                float              *scratch,
                gint64              b,
                gint64              h,
                gint64              q0,
                gint64              q1)
{
  const TvwOpCall *call = job->call;
  const TvwAttentionParams *p = call->params;
  const TvwArray *q = &call->in[0], *out = &call->out[0];
  const gint64 d = q->shape[3], lk = call->in[1].shape[2], dv = call->in[2].shape[3];
  const gint64 m = q1 - q0;
  float *qt = scratch + job->o.q, *s = scratch + job->o.s;
  float *o = (float *) out->data + b * out->stride[0] + h * out->stride[1] + q0 * out->stride[2];
  const float scale = job->scale[h];
  const float *rows[TVW_SOFTMAX_MAX_BIAS];
  gsize rows_ld[TVW_SOFTMAX_MAX_BIAS];
  int n_rows = 0;

  for (gint64 i = 0; i < m; i++)
    {
      const float *row = at4 (q, b, h, q0 + i, 0);
      float r = scale;

      if (p->cosine)
        {
          double sq = 0;

          for (gint64 c = 0; c < d; c++)
            sq += (double) row[c * q->stride[3]] * row[c * q->stride[3]];
          r = (float) (scale / MAX (sqrt (sq), 1e-12));
        }
      for (gint64 c = 0; c < d; c++)
        qt[i * d + c] = row[c * q->stride[3]] * r;
    }

  if (d == 0)
    memset (s, 0, m * lk * sizeof (float));
  else
    tvw_gemm_packed ((int) m, (int) d, qt, d, scratch + job->o.kt, (int) lk, 0,
                     (int) ((lk + TVW_GEMM_NR - 1) / TVW_GEMM_NR), s, lk, NULL, NULL, 0,
                     TVW_ACT_NONE);

  /* The biases' rows join the softmax's first pass when they are
   * contiguous; any other layout is added here first. */
  for (int n = 0; n < p->n_bias; n++)
    {
      const TvwArray *bias = &call->in[3 + n];
      const float *src = at4 (bias, b % bias->shape[0], bias->shape[1] == 1 ? 0 : h, q0, 0);

      if (bias->stride[3] == 1)
        {
          rows[n_rows] = src;
          rows_ld[n_rows++] = bias->stride[2];
          continue;
        }
      for (gint64 i = 0; i < m; i++)
        for (gint64 j = 0; j < lk; j++)
          s[i * lk + j] += src[i * bias->stride[2] + j * bias->stride[3]];
    }
  tvw_kernel_softmax_rows (s, lk, m, lk, n_rows, rows, rows_ld);

  tvw_gemm_packed ((int) m, (int) lk, s, lk, scratch + job->o.v, (int) dv, 0,
                   (int) ((dv + TVW_GEMM_NR - 1) / TVW_GEMM_NR), o, out->stride[2], NULL, NULL, 0,
                   TVW_ACT_NONE);
}

static void
attention_tasks (gpointer data,
                 gsize    begin,
                 gsize    end,
                 int      thread)
{
  const AttentionJob *job = data;
  const TvwOpCall *call = job->call;
  const gint64 heads = call->in[0].shape[1], lq = call->in[0].shape[2];
  float *scratch = (float *) (call->scratch + (gsize) thread * call->scratch_bytes);
  gint64 packed = -1;

  for (gsize t = begin; t < end; t++)
    {
      const gint64 bh = (gint64) t / job->tiles;
      const gint64 q0 = ((gint64) t % job->tiles) * job->tile;

      if (bh != packed)
        {
          pack_head (job, scratch, bh / heads, bh % heads);
          packed = bh;
        }
      attention_tile (job, scratch, bh / heads, bh % heads, q0, MIN (q0 + job->tile, lq));
    }
}

static void
attention_run (TvwOpCall *call)
{
  const TvwAttentionParams *p = call->params;
  const TvwArray *q = &call->in[0];
  const gint64 heads = q->shape[1], lq = q->shape[2], lk = call->in[1].shape[2];
  g_autofree AttentionJob *job = NULL;
  gint64 tasks;
  int threads = call->n_threads;

  if (tvw_array_numel (&call->out[0]) == 0)
    return;
  if (lk == 0)
    {
      /* softmax over nothing: NaN, as PyTorch gives. */
      const TvwArray *out = &call->out[0];

      for (gint64 i = 0; i < tvw_array_numel (out); i++)
        ((float *) out->data)[i] = NAN;
      return;
    }

  job = g_malloc0 (sizeof *job + heads * sizeof (float));
  job->call = call;
  attention_layout (call, &job->o);
  job->tile = tile_rows (call);
  job->tiles = (lq + job->tile - 1) / job->tile;
  for (gint64 h = 0; h < heads; h++)
    job->scale[h] = p->cosine ? expf (MIN (((const float *) call->weights[0].data)[h],
                                           (float) p->max_log_scale))
                              : (float) p->scale;

  tasks = q->shape[0] * heads * job->tiles;
  if (q->shape[0] * heads * lq * lk * q->shape[3] < 32768)
    threads = 1;
  tvw_parallel_range ((gsize) tasks, threads, attention_tasks, job);
}

const TvwOpClass tvw_op_attention = {
  .name = "attention",
  .flags = TVW_OP_STRIDED,
  .infer = attention_infer,
  .scratch = attention_scratch,
  .run = attention_run,
};

TvwVal
tvw_net_attention (TvwNet                   *net,
                   const char               *name,
                   TvwVal                    q,
                   TvwVal                    k,
                   TvwVal                    v,
                   int                       n_bias,
                   const TvwVal             *bias,
                   const TvwAttentionParams *params)
{
  const TvwArray *qa = tvw_net_array (net, q);
  TvwVal in[3 + TVW_ATTENTION_MAX_BIAS] = { q, k, v };
  TvwAttentionParams p = *params;
  TvwWeightSpec weights[1] = {
    { "logit_scale", 3, { qa != NULL && qa->rank == 4 ? qa->shape[1] : 0, 1, 1 } },
  };
  TvwNodeSpec spec = {
    .cls = &tvw_op_attention, .name = name,
    .params = &p, .params_size = sizeof p,
    .n_in = 3 + n_bias, .in = in,
    .n_weights = p.cosine ? 1 : 0, .weights = weights,
    .n_out = 1,
  };

  g_return_val_if_fail (n_bias >= 0 && n_bias <= TVW_ATTENTION_MAX_BIAS, -1);
  p.n_bias = n_bias;
  for (int i = 0; i < n_bias; i++)
    in[3 + i] = bias[i];
  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- parameter ----------------------------------------------------------- */

static gboolean
parameter_infer (TvwOpCall  *call,
                 GError    **error)
{
  const TvwParameterParams *p = call->params;
  const TvwArray *w = &call->weights[0];

  if (call->n_weights != 1 || call->n_in != (p->expand ? 1 : 0))
    {
      tvw_op_set_invalid (call, error, "%d inputs and %d weights", call->n_in, call->n_weights);
      return FALSE;
    }
  if (p->zero_begin < 0 || p->zero_end < p->zero_begin || p->zero_end > tvw_array_numel (w))
    {
      tvw_op_set_invalid (call, error, "cannot zero elements %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                          p->zero_begin, p->zero_end);
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_F32, w->rank, w->shape);
  if (p->expand)
    {
      if (w->rank < 1 || w->shape[0] != 1 || call->in[0].rank < 1)
        {
          tvw_op_set_error (call, error, "only a dimension 0 of size 1 expands");
          return FALSE;
        }
      call->out[0].shape[0] = call->in[0].shape[0];
      tvw_array_set_contiguous (&call->out[0]);
    }
  if (p->need_h > 0 &&
      (!p->expand || call->in[0].rank != 4 || call->in[0].shape[2] != p->need_h ||
       call->in[0].shape[3] != p->need_w))
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_op_set_invalid (call, error, "the model needs %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                          " images, not a batch of shape %s", p->need_h, p->need_w,
                          p->expand ? tvw_array_format_shape (&call->in[0], xs) : "(none)");
      return FALSE;
    }
  return TRUE;
}

static void
parameter_run (TvwOpCall *call)
{
  const TvwParameterParams *p = call->params;
  const gint64 n = tvw_array_numel (&call->weights[0]);
  const gint64 copies = call->out[0].shape[0] / MAX (call->weights[0].shape[0], 1);
  float *out = call->out[0].data;

  for (gint64 c = 0; c < copies; c++)
    {
      float *dst = out + c * n;

      memcpy (dst, call->weights[0].data, n * sizeof (float));
      memset (dst + p->zero_begin, 0, (p->zero_end - p->zero_begin) * sizeof (float));
    }
}

const TvwOpClass tvw_op_parameter = {
  .name = "parameter",
  .flags = TVW_OP_STRIDED,     /* input 0 is only a shape */
  .infer = parameter_infer,
  .run = parameter_run,
};

TvwVal
tvw_net_parameter (TvwNet                   *net,
                   const char               *name,
                   const char               *suffix,
                   int                       rank,
                   const gint64             *shape,
                   TvwVal                    like,
                   const TvwParameterParams *opts)
{
  TvwParameterParams p = { 0 };
  TvwWeightSpec w = { suffix, rank };
  TvwNodeSpec spec = {
    .cls = &tvw_op_parameter, .name = name,
    .params = &p, .params_size = sizeof p,
    .n_in = like >= 0 ? 1 : 0, .in = &like,
    .n_weights = 1, .weights = &w,
    .n_out = 1,
  };

  g_return_val_if_fail (rank >= 0 && rank <= TVW_MAX_RANK, -1);
  if (opts != NULL)
    p = *opts;
  p.expand = like >= 0;
  if (p.buffer)
    w.flags |= TVW_WEIGHT_BUFFER;
  for (int i = 0; i < rank; i++)
    w.shape[i] = shape[i];
  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- relative_position_bias ---------------------------------------------- */

static gboolean
rel_bias_infer (TvwOpCall  *call,
                GError    **error)
{
  const TvwRelPosBiasParams *p = call->params;
  const TvwArray *t = &call->in[0];
  const gint64 l = (gint64) p->window_h * p->window_w;
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->window_h < 1 || p->window_w < 1 ||
      t->shape[0] != (gint64) (2 * p->window_h - 1) * (2 * p->window_w - 1))
    {
      char ts[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "a table of shape %s for a %d×%d window",
                        tvw_array_format_shape (t, ts), p->window_h, p->window_w);
      return FALSE;
    }
  shape[0] = 1;
  shape[1] = t->shape[1];
  shape[2] = shape[3] = l;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

static void
rel_bias_run (TvwOpCall *call)
{
  const TvwRelPosBiasParams *p = call->params;
  const float *t = call->in[0].data;
  const gint64 heads = call->in[0].shape[1], l = (gint64) p->window_h * p->window_w;
  float *out = call->out[0].data;

  /* torchvision's relative_position_index: (Δy + Wh − 1)·(2·Ww − 1) +
   * Δx + Ww − 1 between token i and token j. */
  for (gint64 i = 0; i < l; i++)
    for (gint64 j = 0; j < l; j++)
      {
        const gint64 dy = i / p->window_w - j / p->window_w + p->window_h - 1;
        const gint64 dx = i % p->window_w - j % p->window_w + p->window_w - 1;
        const float *row = t + (dy * (2 * p->window_w - 1) + dx) * heads;

        for (gint64 h = 0; h < heads; h++)
          {
            float v = row[h];

            if (p->sigmoid16)
              v = 16.0f / (1.0f + expf (-v));
            out[(h * l + i) * l + j] = v;
          }
      }
}

const TvwOpClass tvw_op_relative_position_bias = {
  .name = "relative_position_bias",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = rel_bias_infer,
  .run = rel_bias_run,
};

TvwVal
tvw_net_relative_position_bias (TvwNet     *net,
                                const char *name,
                                TvwVal      table,
                                int         window_h,
                                int         window_w,
                                gboolean    flat_index,
                                gboolean    sigmoid16)
{
  const gint64 l = (gint64) window_h * window_w;
  TvwRelPosBiasParams p = { window_h, window_w, sigmoid16 };
  /* The index is computed, as torchvision does: the checkpoint's copy is
   * only checked. */
  TvwWeightSpec index = {
    "relative_position_index", flat_index ? 1 : 2, { flat_index ? l * l : l, l },
    TVW_WEIGHT_BUFFER | TVW_WEIGHT_INT,
  };
  TvwNodeSpec spec = {
    .cls = &tvw_op_relative_position_bias, .name = name,
    .params = &p, .params_size = sizeof p,
    .n_in = 1, .in = &table,
    .n_weights = 1, .weights = &index,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- Swin's windows ------------------------------------------------------ */

/* torchvision pads the map to whole windows and drops a shift along an
 * axis that has one window only. */
static void
window_geometry (const TvwWindowParams *p,
                 const TvwArray        *x,
                 gint64                *ph,
                 gint64                *pw,
                 int                   *sh,
                 int                   *sw)
{
  *ph = (x->shape[1] + p->window_h - 1) / p->window_h * p->window_h;
  *pw = (x->shape[2] + p->window_w - 1) / p->window_w * p->window_w;
  *sh = p->window_h >= *ph ? 0 : p->shift_h;
  *sw = p->window_w >= *pw ? 0 : p->shift_w;
}

static gboolean
check_windows (TvwOpCall  *call,
               int         input,
               GError    **error)
{
  const TvwWindowParams *p = call->params;

  if (!tvw_op_check_rank (call, input, 4, 4, error) ||
      !tvw_op_check_elem (call, input, TVW_ELEM_F32, error))
    return FALSE;
  if (p->window_h < 1 || p->window_w < 1 || p->shift_h < 0 || p->shift_w < 0 ||
      p->shift_h >= p->window_h || p->shift_w >= p->window_w)
    {
      tvw_op_set_invalid (call, error, "%d×%d windows shifted by %d×%d",
                          p->window_h, p->window_w, p->shift_h, p->shift_w);
      return FALSE;
    }
  return TRUE;
}

/* The channels of pixel (@y, @x) of image @n of an [N, H, W, C] map into
 * @dst, zeros outside the map (the padding). */
static inline void
copy_pixel (const TvwArray *x,
            gint64          n,
            gint64          y,
            gint64          xx,
            float          *dst)
{
  const gint64 c = x->shape[3];

  if (y >= x->shape[1] || xx >= x->shape[2])
    memset (dst, 0, c * sizeof (float));
  else
    {
      const float *src = at4 (x, n, y, xx, 0);

      if (x->stride[3] == 1)
        memcpy (dst, src, c * sizeof (float));
      else
        for (gint64 k = 0; k < c; k++)
          dst[k] = src[k * x->stride[3]];
    }
}

/* Where window token (w, i) of a padded, rolled map comes from: the row
 * and column in the unrolled padded map. */
static inline void
window_source (const TvwWindowParams *p,
               gint64                 ph,
               gint64                 pw,
               int                    sh,
               int                    sw,
               gint64                 w,
               gint64                 i,
               gint64                *y,
               gint64                *x)
{
  const gint64 nw = pw / p->window_w;

  *y = ((w / nw) * p->window_h + i / p->window_w + sh) % ph;
  *x = ((w % nw) * p->window_w + i % p->window_w + sw) % pw;
}

static gboolean
window_partition_infer (TvwOpCall  *call,
                        GError    **error)
{
  const TvwWindowParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 ph, pw, shape[3];
  int sh, sw;

  if (!check_windows (call, 0, error))
    return FALSE;
  window_geometry (p, x, &ph, &pw, &sh, &sw);
  shape[0] = x->shape[0] * (ph / p->window_h) * (pw / p->window_w);
  shape[1] = (gint64) p->window_h * p->window_w;
  shape[2] = x->shape[3];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 3, shape);
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  gint64           ph, pw;
  int              sh, sw;
} WindowJob;

static void
window_partition_rows (gpointer data,
                       gsize    begin,
                       gsize    end,
                       int      thread)
{
  const WindowJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwWindowParams *p = call->params;
  const TvwArray *x = &call->in[0], *out = &call->out[0];
  const gint64 l = out->shape[1], c = out->shape[2], windows = out->shape[0] / MAX (x->shape[0], 1);

  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / (windows * l), w = (gint64) row / l % windows, i = (gint64) row % l;
      float *dst = (float *) out->data + row * c;
      gint64 y, xx;

      window_source (p, job->ph, job->pw, job->sh, job->sw, w, i, &y, &xx);
      copy_pixel (x, n, y, xx, dst);
    }
}

static void
window_partition_run (TvwOpCall *call)
{
  WindowJob job = { call };
  const gint64 rows = call->out[0].shape[0] * call->out[0].shape[1];

  window_geometry (call->params, &call->in[0], &job.ph, &job.pw, &job.sh, &job.sw);
  tvw_parallel_range ((gsize) rows, tvw_array_numel (&call->out[0]) < 16384 ? 1 : call->n_threads,
                      window_partition_rows, &job);
}

const TvwOpClass tvw_op_window_partition = {
  .name = "window_partition",
  .flags = TVW_OP_STRIDED,
  .infer = window_partition_infer,
  .run = window_partition_run,
};

static gboolean
window_merge_infer (TvwOpCall  *call,
                    GError    **error)
{
  const TvwWindowParams *p = call->params;
  const TvwArray *w = &call->in[0], *x = &call->in[1];
  gint64 ph, pw;
  int sh, sw;

  if (!check_windows (call, 1, error) ||
      !tvw_op_check_rank (call, 0, 3, 3, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  window_geometry (p, x, &ph, &pw, &sh, &sw);
  if (w->shape[0] != x->shape[0] * (ph / p->window_h) * (pw / p->window_w) ||
      w->shape[1] != (gint64) p->window_h * p->window_w)
    {
      char ws[TVW_SHAPE_CHARS];
      char xs[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "windows %s do not tile a map %s",
                        tvw_array_format_shape (w, ws), tvw_array_format_shape (x, xs));
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, x->shape);
  call->out[0].shape[3] = w->shape[2];
  tvw_array_set_contiguous (&call->out[0]);
  return TRUE;
}

static void
window_merge_rows (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const WindowJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwWindowParams *p = call->params;
  const TvwArray *w = &call->in[0], *out = &call->out[0];
  const gint64 h = out->shape[1], wd = out->shape[2], c = out->shape[3];
  const gint64 nw = job->pw / p->window_w, windows = nw * (job->ph / p->window_h);

  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / (h * wd), y = (gint64) row / wd % h, x = (gint64) row % wd;
      /* Rolled back: output (y, x) is rolled position (y − shift, x − shift). */
      const gint64 ry = (y - job->sh + job->ph) % job->ph, rx = (x - job->sw + job->pw) % job->pw;
      const gint64 win = (ry / p->window_h) * nw + rx / p->window_w;
      const gint64 tok = (ry % p->window_h) * p->window_w + rx % p->window_w;
      const float *src = (const float *) w->data + (n * windows + win) * w->stride[0] + tok * w->stride[1];
      float *dst = (float *) out->data + row * c;

      if (w->stride[2] == 1)
        memcpy (dst, src, c * sizeof (float));
      else
        for (gint64 k = 0; k < c; k++)
          dst[k] = src[k * w->stride[2]];
    }
}

static void
window_merge_run (TvwOpCall *call)
{
  WindowJob job = { call };
  const TvwArray *out = &call->out[0];

  window_geometry (call->params, &call->in[1], &job.ph, &job.pw, &job.sh, &job.sw);
  tvw_parallel_range ((gsize) (out->shape[0] * out->shape[1] * out->shape[2]),
                      tvw_array_numel (out) < 16384 ? 1 : call->n_threads, window_merge_rows, &job);
}

const TvwOpClass tvw_op_window_merge = {
  .name = "window_merge",
  .flags = TVW_OP_STRIDED,
  .infer = window_merge_infer,
  .run = window_merge_run,
};

/* ---- window_mask --------------------------------------------------------- */

static gboolean
window_mask_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwWindowParams *p = call->params;
  gint64 ph, pw, shape[4];
  int sh, sw;

  if (!check_windows (call, 0, error))
    return FALSE;
  window_geometry (p, &call->in[0], &ph, &pw, &sh, &sw);
  shape[0] = (ph / p->window_h) * (pw / p->window_w);
  shape[1] = 1;
  shape[2] = shape[3] = (gint64) p->window_h * p->window_w;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

/* The region of a rolled position along an axis, in torchvision's slices
 * (0, −window), (−window, −shift), (−shift, None); without a shift the
 * mask is not used, every position is alike. */
static int
region (gint64 i,
        gint64 size,
        int    window,
        int    shift)
{
  if (shift == 0 || i < size - window)
    return 0;
  if (i < size - shift)
    return 1;
  return 2;
}

static void
window_mask_run (TvwOpCall *call)
{
  const TvwWindowParams *p = call->params;
  const gint64 l = (gint64) p->window_h * p->window_w;
  float *out = call->out[0].data;
  gint64 ph, pw;
  int sh, sw;

  window_geometry (p, &call->in[0], &ph, &pw, &sh, &sw);
  for (gint64 w = 0; w < call->out[0].shape[0]; w++)
    for (gint64 i = 0; i < l; i++)
      {
        const gint64 nw = pw / p->window_w;
        const gint64 yi = (w / nw) * p->window_h + i / p->window_w;
        const gint64 xi = (w % nw) * p->window_w + i % p->window_w;
        const int ri = region (yi, ph, p->window_h, sh) * 3 + region (xi, pw, p->window_w, sw);

        for (gint64 j = 0; j < l; j++)
          {
            const gint64 yj = (w / nw) * p->window_h + j / p->window_w;
            const gint64 xj = (w % nw) * p->window_w + j % p->window_w;
            const int rj = region (yj, ph, p->window_h, sh) * 3 + region (xj, pw, p->window_w, sw);

            out[(w * l + i) * l + j] = ri == rj ? 0.0f : -100.0f;
          }
      }
}

const TvwOpClass tvw_op_window_mask = {
  .name = "window_mask",
  .flags = TVW_OP_STRIDED,     /* input 0 is only a shape */
  .infer = window_mask_infer,
  .run = window_mask_run,
};

static TvwVal
add_window_node (TvwNet           *net,
                 const TvwOpClass *cls,
                 int               n_in,
                 const TvwVal     *in,
                 int               window_h,
                 int               window_w,
                 int               shift_h,
                 int               shift_w)
{
  TvwWindowParams p = { window_h, window_w, shift_h, shift_w };
  TvwNodeSpec spec = {
    .cls = cls,
    .params = &p, .params_size = sizeof p,
    .n_in = n_in, .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_window_partition (TvwNet *net,
                          TvwVal  x,
                          int     window_h,
                          int     window_w,
                          int     shift_h,
                          int     shift_w)
{
  return add_window_node (net, &tvw_op_window_partition, 1, &x, window_h, window_w, shift_h, shift_w);
}

TvwVal
tvw_net_window_merge (TvwNet *net,
                      TvwVal  windows,
                      TvwVal  like,
                      int     window_h,
                      int     window_w,
                      int     shift_h,
                      int     shift_w)
{
  const TvwVal in[2] = { windows, like };

  return add_window_node (net, &tvw_op_window_merge, 2, in, window_h, window_w, shift_h, shift_w);
}

TvwVal
tvw_net_window_mask (TvwNet *net,
                     TvwVal  x,
                     int     window_h,
                     int     window_w,
                     int     shift_h,
                     int     shift_w)
{
  return add_window_node (net, &tvw_op_window_mask, 1, &x, window_h, window_w, shift_h, shift_w);
}

/* ---- patch_merge ---------------------------------------------------------- */

static gboolean
patch_merge_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  shape[0] = x->shape[0];
  shape[1] = (x->shape[1] + 1) / 2;
  shape[2] = (x->shape[2] + 1) / 2;
  shape[3] = 4 * x->shape[3];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

static void
patch_merge_rows (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const TvwOpCall *call = data;
  const TvwArray *x = &call->in[0], *out = &call->out[0];
  const gint64 oh = out->shape[1], ow = out->shape[2], c = x->shape[3];
  /* torch.cat ([x0, x1, x2, x3], -1): (0, 0), (1, 0), (0, 1), (1, 1). */
  static const int dy[4] = { 0, 1, 0, 1 }, dx[4] = { 0, 0, 1, 1 };

  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / (oh * ow), y = (gint64) row / ow % oh, xx = (gint64) row % ow;
      float *dst = (float *) out->data + row * 4 * c;

      for (int part = 0; part < 4; part++, dst += c)
        {
          copy_pixel (x, n, 2 * y + dy[part], 2 * xx + dx[part], dst);
        }
    }
}

static void
patch_merge_run (TvwOpCall *call)
{
  const TvwArray *out = &call->out[0];

  tvw_parallel_range ((gsize) (out->shape[0] * out->shape[1] * out->shape[2]),
                      tvw_array_numel (out) < 16384 ? 1 : call->n_threads, patch_merge_rows, call);
}

const TvwOpClass tvw_op_patch_merge = {
  .name = "patch_merge",
  .flags = TVW_OP_STRIDED,
  .infer = patch_merge_infer,
  .run = patch_merge_run,
};

TvwVal
tvw_net_patch_merge (TvwNet *net,
                     TvwVal  x)
{
  TvwNodeSpec spec = {
    .cls = &tvw_op_patch_merge,
    .n_in = 1, .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}
