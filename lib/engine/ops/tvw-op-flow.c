/* tvw-op-flow.c — the pieces of RAFT that are not convolutions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * corr_lookup: RAFT's CorrBlock.index_pyramid.  Each level of the
 *   correlation pyramid is (N·h·w)×1×h_l×w_l (level 0: the dot products of
 *   one pixel of the first feature map with every pixel of the second);
 *   for every pixel it samples the (2r+1)² neighbourhood of its centroid —
 *   the pixel moved by the current flow, halved per level — bilinearly
 *   with zeros outside, as F.grid_sample (align_corners=True) does on
 *   absolute coordinates.  Output N×(L·(2r+1)²)×h×w, level-major, then the
 *   x offset, then the y offset, as torchvision's concatenation.  The
 *   1/√C of the correlation is applied here (pooling is linear).
 * upsample_flow: RAFT's upsample_flow — with a mask, each output pixel of
 *   an 8× larger flow is a softmax-weighted (over 9) combination of the 3×3
 *   neighbourhood of its coarse pixel; without, bilinear (align_corners);
 *   the flow scaled by 8 either way.
 * corr_volume: CorrBlock._compute_corr_volume — the dot products of every
 *   pixel of the first feature map with every pixel of the second, over
 *   √C, as (N·h·w)×1×h×w: the pyramid's first level.
 * zeros_like_flow: an N×2×h×w zero flow shaped after its input.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <cblas.h>

#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* ---- corr_lookup --------------------------------------------------------- */

static gboolean
corr_lookup_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwCorrLookupParams *p = call->params;
  const TvwArray *flow = &call->in[call->n_in - 1];
  const int levels = call->n_in - 1;
  const gint64 side = 2 * p->radius + 1;
  gint64 n, h, w;

  if (levels < 1 || p->radius < 0)
    {
      tvw_op_set_invalid (call, error, "needs at least one level and a radius ≥ 0");
      return FALSE;
    }
  if (!tvw_op_check_rank (call, call->n_in - 1, 4, 4, error))
    return FALSE;
  n = flow->shape[0];
  h = flow->shape[2];
  w = flow->shape[3];
  if (flow->shape[1] != 2)
    {
      tvw_op_set_invalid (call, error, "the flow has %" G_GINT64_FORMAT " channels, not 2",
                          flow->shape[1]);
      return FALSE;
    }
  for (int l = 0; l < levels; l++)
    {
      const TvwArray *v = &call->in[l];

      if (!tvw_op_check_rank (call, l, 4, 4, error))
        return FALSE;
      if (v->shape[0] != n * h * w || v->shape[1] != 1)
        {
          tvw_op_set_invalid (call, error,
                              "level %d of the pyramid is %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                              ", expected %" G_GINT64_FORMAT "×1",
                              l, v->shape[0], v->shape[1], n * h * w);
          return FALSE;
        }
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4,
                  (gint64[]) { n, levels * side * side, h, w });
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  const TvwCorrLookupParams *p;
} LookupJob;

/* F.grid_sample's bilinear sample with zero padding at absolute (x, y),
 * reached the way torchvision's grid_sample helper does: normalised by
 * (size − 1), then unnormalised again with align_corners. */
static inline float
sample (const float *img,
        gint64       h,
        gint64       w,
        float        x,
        float        y)
{
  float xn = 2.0f * x / (float) (w - 1) - 1.0f;
  float yn = h > 1 ? 2.0f * y / (float) (h - 1) - 1.0f : y;
  float ix = (xn + 1.0f) / 2.0f * (float) (w - 1);
  float iy = (yn + 1.0f) / 2.0f * (float) (h - 1);
  float fx = floorf (ix), fy = floorf (iy);
  gint64 x0 = (gint64) fx, y0 = (gint64) fy;
  float ax = ix - fx, ay = iy - fy;
  float acc = 0.0f;

  if (!isfinite (ix) || !isfinite (iy))
    return 0.0f;

  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      {
        gint64 xx = x0 + dx, yy = y0 + dy;
        float wgt = (dx ? ax : 1.0f - ax) * (dy ? ay : 1.0f - ay);

        if (xx >= 0 && xx < w && yy >= 0 && yy < h)
          acc += img[yy * w + xx] * wgt;
      }

  return acc;
}

static void
corr_lookup_rows (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const LookupJob *job = data;
  const TvwOpCall *call = job->call;
  const int levels = call->n_in - 1, r = job->p->radius;
  const gint64 side = 2 * r + 1;
  const TvwArray *flow = &call->in[levels], *out = &call->out[0];
  const gint64 h = flow->shape[2], w = flow->shape[3], hw = h * w;
  const float scale = (float) job->p->scale;

  /* One row: pixel (b, y, x). */
  for (gsize row = begin; row < end; row++)
    {
      const gint64 b = (gint64) row / hw, yx = (gint64) row % hw;
      const gint64 y = yx / w, x = yx % w;
      const float *f = (const float *) flow->data + b * 2 * hw;
      float cx = (float) x + f[yx], cy = (float) y + f[hw + yx];
      float *o = (float *) out->data + b * out->shape[1] * hw + yx;

      for (int l = 0; l < levels; l++)
        {
          const TvwArray *v = &call->in[l];
          const gint64 lh = v->shape[2], lw = v->shape[3];
          const float *img = (const float *) v->data + (gint64) row * lh * lw;

          for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++)
              {
                gint64 c = (l * side + i) * side + j;

                o[c * hw] = scale * sample (img, lh, lw, cx + (float) (i - r), cy + (float) (j - r));
              }
          cx /= 2.0f;
          cy /= 2.0f;
        }
    }
}

static void
corr_lookup_run (TvwOpCall *call)
{
  const TvwArray *flow = &call->in[call->n_in - 1];
  LookupJob job = { call, call->params };
  gsize rows = (gsize) (flow->shape[0] * flow->shape[2] * flow->shape[3]);

  tvw_parallel_range (rows, rows >= 64 ? call->n_threads : 1, corr_lookup_rows, &job);
}

const TvwOpClass tvw_op_corr_lookup = {
  .name = "corr_lookup",
  .infer = corr_lookup_infer,
  .run = corr_lookup_run,
};

TvwVal
tvw_net_corr_lookup (TvwNet       *net,
                     int           n_levels,
                     const TvwVal *pyramid,
                     TvwVal        flow,
                     int           radius,
                     double        scale)
{
  TvwCorrLookupParams params = { radius, scale };
  TvwVal in[TVW_CORR_MAX_LEVELS + 1];
  TvwNodeSpec node = {
    .cls = &tvw_op_corr_lookup,
    .params = &params, .params_size = sizeof params,
    .n_in = n_levels + 1, .in = in,
    .n_out = 1,
  };

  g_return_val_if_fail (n_levels >= 1 && n_levels <= TVW_CORR_MAX_LEVELS, -1);

  memcpy (in, pyramid, n_levels * sizeof (TvwVal));
  in[n_levels] = flow;
  return tvw_net_add_node (net, &node, NULL);
}

/* ---- upsample_flow -------------------------------------------------------- */

#define UP 8

static gboolean
upsample_flow_infer (TvwOpCall  *call,
                     GError    **error)
{
  const TvwArray *flow = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 4, error))
    return FALSE;
  if (call->n_in == 2)
    {
      const TvwArray *mask = &call->in[1];

      if (!tvw_op_check_rank (call, 1, 4, 4, error))
        return FALSE;
      if (mask->shape[0] != flow->shape[0] || mask->shape[1] != 9 * UP * UP ||
          mask->shape[2] != flow->shape[2] || mask->shape[3] != flow->shape[3])
        {
          tvw_op_set_invalid (call, error, "the mask must be N×%d×h×w like the flow", 9 * UP * UP);
          return FALSE;
        }
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4,
                  (gint64[]) { flow->shape[0], flow->shape[1],
                               flow->shape[2] * UP, flow->shape[3] * UP });
  return TRUE;
}

typedef struct
{
  const TvwArray *flow, *mask, *out;
  float           multiplier;
} UpsampleJob;

/* The convex combination: out[8y + a, 8x + s] = Σₖ softmaxₖ (mult · mask
 * [k·64 + a·8 + s, y, x]) · 8·flow[(y, x) + offsetₖ], zeros outside. */
static void
convex_rows (const UpsampleJob *job,
             gsize              begin,
             gsize              end)
{
  const gint64 c_n = job->flow->shape[1], h = job->flow->shape[2], w = job->flow->shape[3];
  const gint64 hw = h * w, ow = w * UP;

  for (gsize row = begin; row < end; row++)
    {
      const gint64 b = (gint64) row / hw, yx = (gint64) row % hw;
      const gint64 y = yx / w, x = yx % w;
      const float *m = (const float *) job->mask->data + b * 9 * UP * UP * hw + yx;
      const float *f = (const float *) job->flow->data + b * c_n * hw;
      float *o = (float *) job->out->data + b * c_n * hw * UP * UP;

      for (int a = 0; a < UP; a++)
        for (int s = 0; s < UP; s++)
          {
            float wk[9], max = -INFINITY, sum = 0.0f;

            for (int k = 0; k < 9; k++)
              {
                wk[k] = job->multiplier * m[(gint64) (k * UP * UP + a * UP + s) * hw];
                max = MAX (max, wk[k]);
              }
            for (int k = 0; k < 9; k++)
              {
                wk[k] = expf (wk[k] - max);
                sum += wk[k];
              }

            for (gint64 c = 0; c < c_n; c++)
              {
                const float *fc = f + c * hw;
                float acc = 0.0f;

                for (int k = 0; k < 9; k++)
                  {
                    gint64 yy = y + k / 3 - 1, xx = x + k % 3 - 1;

                    if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                      acc += (wk[k] / sum) * ((float) UP * fc[yy * w + xx]);
                  }
                o[c * hw * UP * UP + (y * UP + a) * ow + x * UP + s] = acc;
              }
          }
    }
}

/* 8 · F.interpolate (flow, size=(8h, 8w), mode="bilinear",
 * align_corners=True), with ATen's arithmetic: the source index is
 * dst · (in − 1)/(out − 1) in float.  Rows: (b, c, output row). */
static void
bilinear_rows (const UpsampleJob *job,
               gsize              begin,
               gsize              end)
{
  const gint64 h = job->flow->shape[2], w = job->flow->shape[3];
  const gint64 oh = h * UP, ow = w * UP;
  const float sh = oh > 1 ? (float) (h - 1) / (float) (oh - 1) : 0.0f;
  const float sw = ow > 1 ? (float) (w - 1) / (float) (ow - 1) : 0.0f;

  for (gsize row = begin; row < end; row++)
    {
      const gint64 plane = (gint64) row / oh, oy = (gint64) row % oh;
      const float *in = (const float *) job->flow->data + plane * h * w;
      float *o = (float *) job->out->data + plane * oh * ow + oy * ow;
      const float h1r = sh * (float) oy;
      const gint64 h1 = (gint64) h1r, h1p = h1 < h - 1 ? 1 : 0;
      const float h1l = h1r - (float) h1, h0l = 1.0f - h1l;

      for (gint64 ox = 0; ox < ow; ox++)
        {
          const float w1r = sw * (float) ox;
          const gint64 w1 = (gint64) w1r, w1p = w1 < w - 1 ? 1 : 0;
          const float w1l = w1r - (float) w1, w0l = 1.0f - w1l;
          const float *r0 = in + h1 * w + w1, *r1 = in + (h1 + h1p) * w + w1;

          o[ox] = (float) UP * (h0l * (w0l * r0[0] + w1l * r0[w1p]) +
                                h1l * (w0l * r1[0] + w1l * r1[w1p]));
        }
    }
}

static void
upsample_flow_rows (gpointer data,
                    gsize    begin,
                    gsize    end,
                    int      thread)
{
  const UpsampleJob *job = data;

  if (job->mask != NULL)
    convex_rows (job, begin, end);
  else
    bilinear_rows (job, begin, end);
}

static void
upsample_flow_run (TvwOpCall *call)
{
  const TvwUpsampleFlowParams *p = call->params;
  UpsampleJob job = { &call->in[0], call->n_in == 2 ? &call->in[1] : NULL, &call->out[0],
                      (float) p->multiplier };
  const TvwArray *f = job.flow;
  gsize rows = job.mask != NULL ? (gsize) (f->shape[0] * f->shape[2] * f->shape[3])
                                : (gsize) (f->shape[0] * f->shape[1] * f->shape[2] * UP);

  if (rows > 0)
    tvw_parallel_range (rows, rows >= 16 ? call->n_threads : 1, upsample_flow_rows, &job);
}

const TvwOpClass tvw_op_upsample_flow = {
  .name = "upsample_flow",
  .infer = upsample_flow_infer,
  .run = upsample_flow_run,
};

TvwVal
tvw_net_upsample_flow (TvwNet *net,
                       TvwVal  flow,
                       TvwVal  mask,
                       double  multiplier)
{
  TvwUpsampleFlowParams params = { multiplier };
  TvwVal in[2] = { flow, mask };
  TvwNodeSpec node = {
    .cls = &tvw_op_upsample_flow,
    .params = &params, .params_size = sizeof params,
    .n_in = mask >= 0 ? 2 : 1, .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

/* ---- zeros_like_flow ----------------------------------------------------- */

static gboolean
zeros_like_flow_infer (TvwOpCall  *call,
                       GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 4, error))
    return FALSE;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4,
                  (gint64[]) { x->shape[0], 2, x->shape[2], x->shape[3] });
  return TRUE;
}

static void
zeros_like_flow_run (TvwOpCall *call)
{
  memset (call->out[0].data, 0, tvw_array_numel (&call->out[0]) * sizeof (float));
}

const TvwOpClass tvw_op_zeros_like_flow = {
  .name = "zeros_like_flow",
  .flags = TVW_OP_STRIDED,
  .infer = zeros_like_flow_infer,
  .run = zeros_like_flow_run,
};

TvwVal
tvw_net_zeros_like_flow (TvwNet *net,
                         TvwVal  like)
{
  TvwNodeSpec node = {
    .cls = &tvw_op_zeros_like_flow,
    .n_in = 1, .in = &like,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}

/* ---- corr_volume ---------------------------------------------------------- */

static gboolean
corr_volume_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwArray *a = &call->in[0], *b = &call->in[1];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_rank (call, 1, 4, 4, error))
    return FALSE;
  for (int d = 0; d < 4; d++)
    if (a->shape[d] != b->shape[d])
      {
        tvw_op_set_invalid (call, error, "the feature maps differ in shape");
        return FALSE;
      }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4,
                  (gint64[]) { a->shape[0] * a->shape[2] * a->shape[3], 1, a->shape[2], a->shape[3] });
  return TRUE;
}

/* Rows of 64 pixels of the first map at a time. */
#define CORR_ROWS 64

static void
corr_volume_tasks (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const TvwOpCall *call = data;
  const TvwArray *a = &call->in[0];
  const gint64 c = a->shape[1], hw = a->shape[2] * a->shape[3];
  const gint64 blocks = (hw + CORR_ROWS - 1) / CORR_ROWS;
  const float root = sqrtf ((float) c);

  for (gsize task = begin; task < end; task++)
    {
      const gint64 n = (gint64) task / blocks, i0 = ((gint64) task % blocks) * CORR_ROWS;
      const gint64 rows = MIN (CORR_ROWS, hw - i0);
      const float *f1 = (const float *) call->in[0].data + n * c * hw;
      const float *f2 = (const float *) call->in[1].data + n * c * hw;
      float *out = (float *) call->out[0].data + (n * hw + i0) * hw;

      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int) rows, (int) hw, (int) c,
                   1.0f, f1 + i0, (int) hw, f2, (int) hw, 0.0f, out, (int) hw);
      for (gint64 i = 0; i < rows * hw; i++)
        out[i] /= root;
    }
}

static void
corr_volume_run (TvwOpCall *call)
{
  const TvwArray *a = &call->in[0];
  const gint64 hw = a->shape[2] * a->shape[3];
  gsize tasks = (gsize) (a->shape[0] * ((hw + CORR_ROWS - 1) / CORR_ROWS));

  if (tasks > 0)
    tvw_parallel_range (tasks, call->n_threads, corr_volume_tasks, call);
}

const TvwOpClass tvw_op_corr_volume = {
  .name = "corr_volume",
  .infer = corr_volume_infer,
  .run = corr_volume_run,
};

TvwVal
tvw_net_corr_volume (TvwNet *net,
                     TvwVal  fmap1,
                     TvwVal  fmap2)
{
  TvwVal in[2] = { fmap1, fmap2 };
  TvwNodeSpec node = {
    .cls = &tvw_op_corr_volume,
    .n_in = 2, .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &node, NULL);
}
