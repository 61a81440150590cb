/* tvw-op-mvit.c — the token-sequence ops of MViT (torchvision's
 * models/video/mvit.py)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * MViT keeps its activations as token sequences: a class token, then the
 * T·H·W tokens of a clip in row-major (t, h, w) order.
 *
 * mvit_pos_encoding: PositionalEncoding — the class token in front of
 * [N, T·HW, C] and, for MViT V1, class_pos on it and temporal_pos[t] +
 * spatial_pos[h·W + w] on the others → [N, 1 + T·HW, C].
 *
 * mvit_pool: Pool without its norm — the tokens of [B, (heads,) 1 + T·H·W,
 * C] seen as a C×T×H×W map per head, pooled by a depthwise Conv3d without
 * bias (weight [C, 1, kt, kh, kw]) or a MaxPool3d, the class token passed
 * through unchanged → [B, (heads,) 1 + T'·H'·W', C].  PyTorch's
 * transpose/reshape round trip is folded into the indexing.
 *
 * mvit_rel_pos: _add_rel_pos's decomposed relative position bias, as an
 * attention bias: from the pooled queries q [B, heads, 1 + Lq, D] and the
 * tables rel_pos_h/w/t ([2·max(q, k) − 1, D] each, linearly interpolated
 * when the table was made for another size, as _interpolate does),
 * [B, heads, 1 + Lq, 1 + Lk] holding q·Rh + q·Rw + q·Rt at the
 * (query, key) pairs of clip tokens and 0 in the class token's row and
 * column, where Rh[qh, kh] = rel_pos_h[dist_h (qh, kh)] and likewise for
 * w and t.  The attention op adds it to the scaled scores.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* ---- mvit_pos_encoding ----------------------------------------------------- */

static gboolean
pos_encoding_infer (TvwOpCall  *call,
                    GError    **error)
{
  const TvwMvitPosEncodingParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 shape[3];

  if (call->n_in != 1 || call->n_weights != (p->with_pos ? 4 : 1))
    {
      tvw_op_set_invalid (call, error, "%d inputs and %d weights", call->n_in, call->n_weights);
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, 3, 3, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  /* Without the embeddings (V2) the size is checked all the same: the
   * blocks' pooling needs T×H·W tokens. */
  if (x->shape[2] != call->weights[0].shape[0] || x->shape[1] != p->temporal * p->spatial)
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_error (call, error,
                        "tokens %s do not fit the encoding of %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                        " positions and %" G_GINT64_FORMAT " channels",
                        xs, p->temporal, p->spatial, call->weights[0].shape[0]);
      return FALSE;
    }

  shape[0] = x->shape[0];
  shape[1] = x->shape[1] + 1;
  shape[2] = x->shape[2];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 3, shape);
  return TRUE;
}

static void
pos_encoding_run (TvwOpCall *call)
{
  const TvwMvitPosEncodingParams *p = call->params;
  const TvwArray *x = &call->in[0];
  const gint64 n = x->shape[0], l = x->shape[1], c = x->shape[2];
  const float *in = x->data;
  const float *class_token = call->weights[0].data;
  float *out = call->out[0].data;

  for (gint64 b = 0; b < n; b++)
    {
      const float *src = in + b * l * c;
      float *dst = out + b * (l + 1) * c;

      if (!p->with_pos)
        {
          memcpy (dst, class_token, c * sizeof (float));
          memcpy (dst + c, src, l * c * sizeof (float));
          continue;
        }

      {
        const float *spatial = call->weights[1].data;
        const float *temporal = call->weights[2].data;
        const float *class_pos = call->weights[3].data;

        for (gint64 j = 0; j < c; j++)
          dst[j] = class_token[j] + class_pos[j];
        for (gint64 i = 0; i < l; i++)
          {
            const float *t = temporal + (i / p->spatial) * c;
            const float *s = spatial + (i % p->spatial) * c;

            /* PyTorch adds the spatial to the temporal embedding first. */
            for (gint64 j = 0; j < c; j++)
              dst[(i + 1) * c + j] = src[i * c + j] + (t[j] + s[j]);
          }
      }
    }
}

const TvwOpClass tvw_op_mvit_pos_encoding = {
  .name = "mvit_pos_encoding",
  .infer = pos_encoding_infer,
  .run = pos_encoding_run,
};

TvwVal
tvw_net_mvit_pos_encoding (TvwNet     *net,
                           TvwVal      x,
                           const char *name,
                           int         channels,
                           int         temporal,
                           int         spatial,
                           gboolean    with_pos)
{
  TvwMvitPosEncodingParams params = { with_pos, temporal, spatial };
  TvwWeightSpec weights[4] = {
    { "class_token", 1, { channels } },
    { "spatial_pos", 2, { spatial, channels } },
    { "temporal_pos", 2, { temporal, channels } },
    { "class_pos", 1, { channels } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_mvit_pos_encoding, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &x,
    .n_weights = with_pos ? 4 : 1, .weights = weights,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

/* ---- mvit_pool --------------------------------------------------------------- */

static gint64
pool_out (gint64 size,
          int    kernel,
          int    stride,
          int    padding)
{
  gint64 span = size + 2 * (gint64) padding - kernel;

  return span < 0 || stride < 1 ? 0 : span / stride + 1;
}

void
tvw_mvit_pool_out_thw (const TvwMvitPoolParams *p,
                       int                      out_thw[3])
{
  for (int i = 0; i < 3; i++)
    out_thw[i] = (int) pool_out (p->thw[i], p->kernel[i], p->stride[i], p->padding[i]);
}

static gboolean
pool_infer (TvwOpCall  *call,
            GError    **error)
{
  const TvwMvitPoolParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];
  int out_thw[3];
  gint64 channels, tokens;

  if (call->n_in != 1 || call->n_weights != (p->max ? 0 : 1))
    {
      tvw_op_set_invalid (call, error, "%d inputs and %d weights", call->n_in, call->n_weights);
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, 3, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (p->thw[i] < 1 || p->kernel[i] < 1 || p->stride[i] < 1 || p->padding[i] < 0 ||
        (p->max && 2 * p->padding[i] > p->kernel[i]))
      {
        tvw_op_set_invalid (call, error, "bad pooling along dimension %d: size %d, kernel %d, "
                            "stride %d, padding %d", i, p->thw[i], p->kernel[i], p->stride[i],
                            p->padding[i]);
        return FALSE;
      }

  channels = x->shape[x->rank - 1];
  tokens = x->shape[x->rank - 2];
  if (tokens != 1 + (gint64) p->thw[0] * p->thw[1] * p->thw[2] ||
      (!p->max && call->weights[0].shape[0] != channels))
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_error (call, error, "%s is not a class token and %d×%d×%d tokens of %s channels",
                        xs, p->thw[0], p->thw[1], p->thw[2],
                        p->max ? "any" : "the pool's");
      return FALSE;
    }

  tvw_mvit_pool_out_thw (p, out_thw);
  if (out_thw[0] < 1 || out_thw[1] < 1 || out_thw[2] < 1)
    {
      tvw_op_set_error (call, error, "a %d×%d×%d kernel does not fit %d×%d×%d tokens",
                        p->kernel[0], p->kernel[1], p->kernel[2], p->thw[0], p->thw[1], p->thw[2]);
      return FALSE;
    }
  memcpy (shape, x->shape, x->rank * sizeof (gint64));
  shape[x->rank - 2] = 1 + (gint64) out_thw[0] * out_thw[1] * out_thw[2];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, x->rank, shape);
  return TRUE;
}

/* The depthwise weights tap-major, [taps][C], so that the kernel's inner
 * loop over channels reads them contiguously. */
static gboolean
pool_prepare (TvwOpCall  *call,
              GError    **error)
{
  const TvwMvitPoolParams *p = call->params;
  const gint64 c = call->n_weights > 0 ? call->weights[0].shape[0] : 0;
  const int taps = p->kernel[0] * p->kernel[1] * p->kernel[2];
  const float *w;
  float *t;

  if (p->max)
    return TRUE;
  w = call->weights[0].data;
  t = g_new (float, (gsize) taps * c);
  for (gint64 j = 0; j < c; j++)
    for (int k = 0; k < taps; k++)
      t[(gsize) k * c + j] = w[j * taps + k];
  call->prepared = t;
  return TRUE;
}

static void
pool_release (TvwOpCall *call)
{
  g_clear_pointer (&call->prepared, g_free);
}

typedef struct
{
  const TvwOpCall *call;
  int              out_thw[3];
  gint64           channels;
} PoolJob;

/* Output frames [begin, end) of the (batch · head) planes, T' per plane. */
static void
pool_frames (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const PoolJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwMvitPoolParams *p = call->params;
  const gint64 c = job->channels;
  const int ot = job->out_thw[0], oh = job->out_thw[1], ow = job->out_thw[2];
  const gint64 in_tokens = 1 + (gint64) p->thw[0] * p->thw[1] * p->thw[2];
  const gint64 out_tokens = 1 + (gint64) ot * oh * ow;
  const float *weight = call->prepared;

  for (gsize f = begin; f < end; f++)
    {
      const gint64 plane = (gint64) f / ot;
      const int t = (int) ((gint64) f % ot);
      const float *src = (const float *) call->in[0].data + plane * in_tokens * c;
      float *dst = (float *) call->out[0].data + plane * out_tokens * c;

      if (t == 0)
        memcpy (dst, src, c * sizeof (float));

      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          {
            float *o = dst + (1 + ((gint64) t * oh + y) * ow + x) * c;

            for (gint64 j = 0; j < c; j++)
              o[j] = p->max ? -INFINITY : 0.0f;

            for (int kt = 0; kt < p->kernel[0]; kt++)
              {
                const int it = t * p->stride[0] - p->padding[0] + kt;

                if (it < 0 || it >= p->thw[0])
                  continue;
                for (int ky = 0; ky < p->kernel[1]; ky++)
                  {
                    const int iy = y * p->stride[1] - p->padding[1] + ky;

                    if (iy < 0 || iy >= p->thw[1])
                      continue;
                    for (int kx = 0; kx < p->kernel[2]; kx++)
                      {
                        const int ix = x * p->stride[2] - p->padding[2] + kx;
                        const int tap = (kt * p->kernel[1] + ky) * p->kernel[2] + kx;
                        const float *i;

                        if (ix < 0 || ix >= p->thw[2])
                          continue;
                        i = src + (1 + ((gint64) it * p->thw[1] + iy) * p->thw[2] + ix) * c;
                        if (p->max)
                          for (gint64 j = 0; j < c; j++)
                            o[j] = i[j] > o[j] || isnan (i[j]) ? i[j] : o[j];
                        else
                          for (gint64 j = 0; j < c; j++)
                            o[j] += weight[(gsize) tap * c + j] * i[j];
                      }
                  }
              }
          }
    }
}

static void
pool_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];
  PoolJob job = { call, { 0 }, x->shape[x->rank - 1] };
  gint64 planes = 1;

  tvw_mvit_pool_out_thw (call->params, job.out_thw);
  for (int i = 0; i < x->rank - 2; i++)
    planes *= x->shape[i];
  if (tvw_array_numel (&call->out[0]) == 0)
    return;
  tvw_parallel_range ((gsize) (planes * job.out_thw[0]), call->n_threads, pool_frames, &job);
}

const TvwOpClass tvw_op_mvit_pool = {
  .name = "mvit_pool",
  .infer = pool_infer,
  .prepare = pool_prepare,
  .release = pool_release,
  .run = pool_run,
};

TvwVal
tvw_net_mvit_pool (TvwNet                  *net,
                   TvwVal                   x,
                   const char              *name,
                   const TvwMvitPoolParams *params,
                   int                      out_thw[3])
{
  const TvwArray *a = tvw_net_array (net, x);
  const gint64 channels = a != NULL && a->rank > 0 ? a->shape[a->rank - 1] : 0;
  TvwWeightSpec weight = {
    "weight", 5, { channels, 1, params->kernel[0], params->kernel[1], params->kernel[2] },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_mvit_pool, .name = name,
    .params = params, .params_size = sizeof *params,
    .n_in = 1, .in = &x,
    .n_weights = params->max ? 0 : 1, .weights = &weight,
    .n_out = 1,
  };

  tvw_mvit_pool_out_thw (params, out_thw);
  return tvw_net_add_node (net, &node, NULL);
}

/* ---- mvit_rel_pos -------------------------------------------------------------- */

static gint64
rel_pos_tokens (const int thw[3])
{
  return 1 + (gint64) thw[0] * thw[1] * thw[2];
}

static gboolean
rel_pos_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwMvitRelPosParams *p = call->params;
  const TvwArray *q = &call->in[0];
  gint64 shape[4];

  if (call->n_in != 1 || call->n_weights != 3)
    {
      tvw_op_set_invalid (call, error, "%d inputs and %d weights", call->n_in, call->n_weights);
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (p->q_thw[i] < 1 || p->k_thw[i] < 1 || call->weights[i].shape[0] < 1 ||
        call->weights[i].shape[1] != q->shape[3])
      {
        char qs[TVW_SHAPE_CHARS];

        tvw_array_format_shape (q, qs);
        tvw_op_set_error (call, error, "queries %s do not fit the relative position tables", qs);
        return FALSE;
      }
  if (q->shape[2] != rel_pos_tokens (p->q_thw))
    {
      char qs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (q, qs);
      tvw_op_set_error (call, error, "queries %s are not a class token and %d×%d×%d tokens",
                        qs, p->q_thw[0], p->q_thw[1], p->q_thw[2]);
      return FALSE;
    }

  shape[0] = q->shape[0];
  shape[1] = q->shape[1];
  shape[2] = q->shape[2];
  shape[3] = rel_pos_tokens (p->k_thw);
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

/* R [q][k][D]: for each axis, the table row of each (query, key)
 * position pair. */
typedef struct
{
  float *r[3];                 /* t, h, w */
} RelPosPrepared;

static void
rel_pos_release (TvwOpCall *call)
{
  RelPosPrepared *prep = call->prepared;

  if (prep == NULL)
    return;
  for (int i = 0; i < 3; i++)
    g_free (prep->r[i]);
  g_clear_pointer (&call->prepared, g_free);
}

/* Row @i of _interpolate (@table, @d): F.interpolate (mode="linear",
 * align_corners=False) of the [S, D] table along S to @d rows, in float
 * as PyTorch computes it. */
static void
interpolated_row (const TvwArray *table,
                  gint64          d,
                  gint64          i,
                  float          *row)
{
  const gint64 s = table->shape[0], dim = table->shape[1];
  const float *t = table->data;
  float src, l1;
  gint64 i0, i1;

  if (s == d)
    {
      memcpy (row, t + i * dim, dim * sizeof (float));
      return;
    }
  src = ((float) s / (float) d) * ((float) i + 0.5f) - 0.5f;
  if (src < 0)
    src = 0;
  i0 = MIN ((gint64) src, s - 1);
  i1 = i0 + (i0 < s - 1 ? 1 : 0);
  l1 = src - (float) i0;
  for (gint64 c = 0; c < dim; c++)
    row[c] = (1.0f - l1) * t[i0 * dim + c] + l1 * t[i1 * dim + c];
}

static gboolean
rel_pos_prepare (TvwOpCall  *call,
                 GError    **error)
{
  const TvwMvitRelPosParams *p = call->params;
  RelPosPrepared *prep = g_new0 (RelPosPrepared, 1);
  /* The weights are declared h, w, t; the axes here are t, h, w. */
  static const int weight_of_axis[3] = { 2, 0, 1 };

  for (int axis = 0; axis < 3; axis++)
    {
      const TvwArray *table = &call->weights[weight_of_axis[axis]];
      const gint64 dim = table->shape[1];
      const int qn = p->q_thw[axis], kn = p->k_thw[axis];
      const gint64 d = 2 * (gint64) MAX (qn, kn) - 1;
      /* As _add_rel_pos computes the distances: float32 tensors. */
      const float q_ratio = (float) MAX ((double) kn / qn, 1.0);
      const float k_ratio = (float) MAX ((double) qn / kn, 1.0);

      prep->r[axis] = g_new (float, (gsize) qn * kn * dim);
      for (int i = 0; i < qn; i++)
        for (int j = 0; j < kn; j++)
          {
            const float dist = (float) i * q_ratio - ((float) j + (float) (1 - kn)) * k_ratio;
            const gint64 index = (gint64) dist;

            if (index < 0 || index >= d)
              {
                tvw_op_set_invalid (call, error, "relative distance %" G_GINT64_FORMAT
                                    " outside a table of %" G_GINT64_FORMAT, index, d);
                call->prepared = prep;
                rel_pos_release (call);
                return FALSE;
              }
            interpolated_row (table, d, index, prep->r[axis] + ((gsize) i * kn + j) * dim);
          }
    }

  call->prepared = prep;
  return TRUE;
}

static gsize
rel_pos_scratch (const TvwOpCall *call)
{
  const TvwMvitRelPosParams *p = call->params;

  return (gsize) (p->k_thw[0] + p->k_thw[1] + p->k_thw[2]) * sizeof (float);
}

static float
dot (const float *a,
     const float *b,
     gint64       n)
{
  float part[8] = { 0 }, s = 0;
  gint64 i = 0;

  /* Eight partial sums: the compiler can keep them in one vector. */
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      part[k] += a[i + k] * b[i + k];
  for (; i < n; i++)
    s += a[i] * b[i];
  for (int k = 0; k < 8; k++)
    s += part[k];
  return s;
}

typedef struct
{
  const TvwOpCall *call;
} RelPosJob;

/* Rows [begin, end) of the [B·heads·(1 + Lq), 1 + Lk] output. */
static void
rel_pos_rows (gpointer data,
              gsize    begin,
              gsize    end,
              int      thread)
{
  const RelPosJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwMvitRelPosParams *p = call->params;
  const RelPosPrepared *prep = call->prepared;
  const gint64 dim = call->in[0].shape[3];
  const gint64 lq = call->in[0].shape[2], lk = call->out[0].shape[3];
  const int kt = p->k_thw[0], kh = p->k_thw[1], kw = p->k_thw[2];
  float *rt = (float *) (call->scratch + (gsize) thread * call->scratch_bytes);
  float *rh = rt + kt, *rw = rh + kh;

  for (gsize r = begin; r < end; r++)
    {
      const gint64 token = (gint64) r % lq;
      const float *q = (const float *) call->in[0].data + (gint64) r * dim;
      float *o = (float *) call->out[0].data + (gint64) r * lk;
      int t, y, x;

      if (token == 0)
        {
          memset (o, 0, lk * sizeof (float));
          continue;
        }
      x = (int) ((token - 1) % p->q_thw[2]);
      y = (int) ((token - 1) / p->q_thw[2] % p->q_thw[1]);
      t = (int) ((token - 1) / p->q_thw[2] / p->q_thw[1]);
      for (int j = 0; j < kt; j++)
        rt[j] = dot (q, prep->r[0] + ((gsize) t * kt + j) * dim, dim);
      for (int j = 0; j < kh; j++)
        rh[j] = dot (q, prep->r[1] + ((gsize) y * kh + j) * dim, dim);
      for (int j = 0; j < kw; j++)
        rw[j] = dot (q, prep->r[2] + ((gsize) x * kw + j) * dim, dim);

      o[0] = 0;
      o++;
      for (int a = 0; a < kt; a++)
        for (int b = 0; b < kh; b++)
          for (int c = 0; c < kw; c++)
            *o++ = (rh[b] + rw[c]) + rt[a];
    }
}

static void
rel_pos_run (TvwOpCall *call)
{
  const TvwArray *q = &call->in[0];
  RelPosJob job = { call };

  if (tvw_array_numel (&call->out[0]) == 0)
    return;
  tvw_parallel_range ((gsize) (q->shape[0] * q->shape[1] * q->shape[2]), call->n_threads,
                      rel_pos_rows, &job);
}

const TvwOpClass tvw_op_mvit_rel_pos = {
  .name = "mvit_rel_pos",
  .infer = rel_pos_infer,
  .prepare = rel_pos_prepare,
  .release = rel_pos_release,
  .scratch = rel_pos_scratch,
  .run = rel_pos_run,
};

TvwVal
tvw_net_mvit_rel_pos (TvwNet     *net,
                      TvwVal      q,
                      const char *name,
                      const int   q_thw[3],
                      const int   k_thw[3],
                      int         spatial_dim,
                      int         temporal_dim)
{
  const TvwArray *a = tvw_net_array (net, q);
  const gint64 dim = a != NULL && a->rank == 4 ? a->shape[3] : 0;
  TvwMvitRelPosParams params;
  TvwWeightSpec weights[3] = {
    { "rel_pos_h", 2, { spatial_dim, dim } },
    { "rel_pos_w", 2, { spatial_dim, dim } },
    { "rel_pos_t", 2, { temporal_dim, dim } },
  };
  TvwNodeSpec node = {
    .cls = &tvw_op_mvit_rel_pos, .name = name,
    .params = &params, .params_size = sizeof params,
    .n_in = 1, .in = &q,
    .n_weights = 3, .weights = weights,
    .n_out = 1,
  };

  memcpy (params.q_thw, q_thw, sizeof params.q_thw);
  memcpy (params.k_thw, k_thw, sizeof params.k_thw);
  return tvw_net_add_node (net, &node, NULL);
}
