/* tvw-op-norm.c — LayerNorm, GroupNorm, InstanceNorm
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * PyTorch's definitions: y = (x − mean) / sqrt (var + eps) · weight + bias,
 * with the biased variance.  The statistics are two passes accumulated in
 * double, so a mean far from zero does not cost precision.
 *
 * layer_norm normalizes rows of the last dimension.  layer_norm_channels is
 * torchvision's LayerNorm2d (ConvNeXt): over dim 1 of N×C×H×W; its input is
 * made channels-last, where the channels of a pixel are one contiguous row,
 * so it is the same kernel (tvw_kernel_layer_norm_rows (), vectorised per
 * instruction set).  group_norm normalizes, per sample, groups of
 * C / G channels with everything after them; instance_norm is the case
 * G = C.  It reads a channels-last input as it is (RAFT's encoders and
 * RetinaNet's heads put it between convolutions): per-channel sums over
 * bands of pixels, then the groups' statistics from them.
 */

#include "config.h"

#include <math.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-kernels-rows-private.h"
#include "tvw-ops-private.h"

/* Normalizes @n floats of @x into @y; @w and @b (nullable) are per element
 * of the row (layer norm) or one value for the whole row (@w_step 0). */
static void
normalize_span (const float *x,
                float       *y,
                gint64       n,
                double       mean,
                double       rstd,
                const float *w,
                const float *b,
                int          w_step)
{
  const float m = (float) mean, r = (float) rstd;

  for (gint64 i = 0; i < n; i++)
    {
      float v = (x[i] - m) * r;

      if (w != NULL)
        v *= w[i * w_step];
      if (b != NULL)
        v += b[i * w_step];
      y[i] = v;
    }
}

static void
moments (const float *x,
         gint64       n,
         double       eps,
         double      *mean,
         double      *rstd)
{
  double sum = 0, sq = 0;

  for (gint64 i = 0; i < n; i++)
    sum += x[i];
  sum /= MAX (n, 1);
  for (gint64 i = 0; i < n; i++)
    {
      double d = x[i] - sum;

      sq += d * d;
    }
  *mean = sum;
  *rstd = 1.0 / sqrt (sq / MAX (n, 1) + eps);
}

static gboolean
check_affine (TvwOpCall  *call,
              gint64      features,
              GError    **error)
{
  const TvwNormParams *p = call->params;

  if (call->n_weights != p->n_weights)
    {
      tvw_op_set_invalid (call, error, "%d weights, expected %d", call->n_weights, p->n_weights);
      return FALSE;
    }
  for (int i = 0; i < call->n_weights; i++)
    {
      const TvwArray *w = &call->weights[i];

      if (w->rank != 1 || w->shape[0] != features)
        {
          char ws[TVW_SHAPE_CHARS];
          char xs[TVW_SHAPE_CHARS];

          tvw_array_format_shape (w, ws);
          tvw_array_format_shape (&call->in[0], xs);
          tvw_op_set_error (call, error,
                            "%s has shape %s, expected [%" G_GINT64_FORMAT "] for input %s",
                            i == 0 ? "weight" : "bias", ws, features, xs);
          return FALSE;
        }
    }
  return TRUE;
}

static const float *
weight_data (const TvwOpCall *call,
             int              i)
{
  return i < call->n_weights ? call->weights[i].data : NULL;
}

/* ---- layer_norm and layer_norm_channels: rows of contiguous features --- */

typedef struct
{
  const TvwOpCall *call;
  gint64           features;
} RowsJob;

static void
layer_norm_rows (gpointer data,
                 gsize    begin,
                 gsize    end,
                 int      thread)
{
  const RowsJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwNormParams *p = call->params;
  const gint64 f = job->features;

  tvw_kernel_layer_norm_rows ((const float *) call->in[0].data + begin * f,
                              (float *) call->out[0].data + begin * f, end - begin, f,
                              weight_data (call, 0), weight_data (call, 1), p->eps);
}

static gboolean
layer_norm_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwNormParams *p = call->params;
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->dim >= 0 && p->dim != x->rank - 1)
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_invalid (call, error,
                          "normalizes the last dimension (or dimension 1 of 4-D and 5-D inputs), "
                          "not dimension %d of %s",
                          p->dim, xs);
      return FALSE;
    }
  if (!check_affine (call, x->shape[x->rank - 1], error))
    return FALSE;

  tvw_array_init (&call->out[0], TVW_ELEM_F32, x->rank, x->shape);
  return TRUE;
}

static gboolean
layer_norm_channels_infer (TvwOpCall  *call,
                           GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 5, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !check_affine (call, x->shape[1], error))
    return FALSE;

  tvw_array_init (&call->out[0], TVW_ELEM_F32, x->rank, x->shape);
  return TRUE;
}

static void
layer_norm_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];
  RowsJob job = { call, x->shape[x->rank - 1] };
  gint64 n = tvw_array_numel (x);

  if (n == 0)
    return;
  tvw_parallel_range (n / job.features, n < 16384 ? 1 : call->n_threads, layer_norm_rows, &job);
}

static void
layer_norm_channels_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];
  RowsJob job = { call, x->shape[1] };
  gint64 n = tvw_array_numel (x);

  /* Channels-last: each pixel's channels are a contiguous row. */
  if (n == 0)
    return;
  tvw_parallel_range (n / job.features, n < 16384 ? 1 : call->n_threads, layer_norm_rows, &job);
}

const TvwOpClass tvw_op_layer_norm = {
  .name = "layer_norm",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = layer_norm_infer,
  .run = layer_norm_run,
};

const TvwOpClass tvw_op_layer_norm_channels = {
  .name = "layer_norm_channels",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = layer_norm_channels_infer,
  .run = layer_norm_channels_run,
};

/* ---- group_norm: (sample, group) blocks of row-major N×C×… ------------- */

static gboolean
group_norm_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwNormParams *p = call->params;
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 2, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->groups > 0 && x->shape[1] % p->groups != 0)
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_error (call, error,
                        "input %s: %" G_GINT64_FORMAT " channels do not split into %d groups",
                        xs, x->shape[1], p->groups);
      return FALSE;
    }
  if (!check_affine (call, x->shape[1], error))
    return FALSE;

  tvw_array_init (&call->out[0], TVW_ELEM_F32, x->rank, x->shape);
  return TRUE;
}

typedef struct
{
  const TvwOpCall *call;
  gint64           channels, groups, spatial;
} GroupJob;

static void
group_norm_blocks (gpointer data,
                   gsize    begin,
                   gsize    end,
                   int      thread)
{
  const GroupJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwNormParams *p = call->params;
  const gint64 cg = job->channels / job->groups, len = cg * job->spatial;
  const float *w = weight_data (call, 0), *b = weight_data (call, 1);

  for (gsize blk = begin; blk < end; blk++)
    {
      const float *x = (const float *) call->in[0].data + blk * len;
      float *y = (float *) call->out[0].data + blk * len;
      const gint64 c0 = (blk % job->groups) * cg;
      double mean, rstd;

      moments (x, len, p->eps, &mean, &rstd);
      for (gint64 c = 0; c < cg; c++)
        normalize_span (x + c * job->spatial, y + c * job->spatial, job->spatial, mean, rstd,
                        w != NULL ? w + c0 + c : NULL, b != NULL ? b + c0 + c : NULL, 0);
    }
}

/* Channels-last: a sample is @spatial pixels of @channels floats.  Its
 * pixels are cut into CL_BANDS fixed bands (the same whatever the thread
 * count, so are the results); each band's per-channel sums, in double,
 * go to @partial, and thread 0 adds the bands in order. */
#define CL_BANDS 8

typedef struct
{
  const TvwOpCall *call;
  gint64           channels, groups, spatial;
  const float     *x;
  float           *y;
  double          *partial;   /* [CL_BANDS][channels] */
  const double    *mean;      /* per channel: its group's */
  const double    *rstd;
  int              pass;      /* 0: sums, 1: squared deviations, 2: normalize */
} ClJob;

static void
group_norm_cl_band (gpointer data,
                    int      band,
                    int      thread)
{
  const ClJob *job = data;
  const gint64 c = job->channels;
  const gint64 p0 = job->spatial * band / CL_BANDS, p1 = job->spatial * (band + 1) / CL_BANDS;
  double *acc = job->partial + band * c;

  if (job->pass < 2)
    {
      for (gint64 ch = 0; ch < c; ch++)
        acc[ch] = 0;
      for (gint64 px = p0; px < p1; px++)
        {
          const float *x = job->x + px * c;

          if (job->pass == 0)
            for (gint64 ch = 0; ch < c; ch++)
              acc[ch] += x[ch];
          else
            for (gint64 ch = 0; ch < c; ch++)
              {
                const double d = x[ch] - job->mean[ch];

                acc[ch] += d * d;
              }
        }
      return;
    }

  {
    const float *w = weight_data (job->call, 0), *b = weight_data (job->call, 1);
    /* normalize_span ()'s arithmetic, per channel. */
    float *m = (float *) (job->partial + CL_BANDS * c), *r = m + c;

    for (gint64 px = p0; px < p1; px++)
      {
        const float *x = job->x + px * c;
        float *y = job->y + px * c;

        for (gint64 ch = 0; ch < c; ch++)
          {
            float v = (x[ch] - m[ch]) * r[ch];

            if (w != NULL)
              v *= w[ch];
            if (b != NULL)
              v += b[ch];
            y[ch] = v;
          }
      }
  }
}

/* The group statistics from the bands' per-channel sums (@pass 0: the
 * mean, 1: the reciprocal standard deviation), set on every channel. */
static void
group_norm_cl_reduce (const ClJob *job,
                      int          pass,
                      double       eps,
                      double      *out)
{
  const gint64 c = job->channels, cg = c / job->groups;
  const double count = MAX ((double) cg * job->spatial, 1);

  for (gint64 g = 0; g < job->groups; g++)
    {
      double sum = 0;

      for (gint64 ch = g * cg; ch < (g + 1) * cg; ch++)
        for (int band = 0; band < CL_BANDS; band++)
          sum += job->partial[band * c + ch];
      for (gint64 ch = g * cg; ch < (g + 1) * cg; ch++)
        out[ch] = pass == 0 ? sum / count : 1.0 / sqrt (sum / count + eps);
    }
}

static void
group_norm_cl (TvwOpCall *call,
               gint64     groups,
               gint64     spatial)
{
  const TvwNormParams *p = call->params;
  const TvwArray *x = &call->in[0];
  const gint64 c = x->shape[1];
  const int threads = tvw_array_numel (x) < 16384 ? 1 : call->n_threads;
  double *partial = (double *) call->scratch;
  double *mean = partial + CL_BANDS * c + c;   /* after the floats of pass 2 */
  double *rstd = mean + c;
  ClJob job = { call, c, groups, spatial, NULL, NULL, partial, mean, rstd, 0 };

  for (gint64 n = 0; n < x->shape[0]; n++)
    {
      float *m = (float *) (partial + CL_BANDS * c), *r = m + c;

      job.x = (const float *) x->data + n * spatial * c;
      job.y = (float *) call->out[0].data + n * spatial * c;
      for (job.pass = 0; job.pass < 2; job.pass++)
        {
          tvw_parallel_tasks (CL_BANDS, threads, group_norm_cl_band, &job);
          group_norm_cl_reduce (&job, job.pass, p->eps, job.pass == 0 ? mean : rstd);
        }
      for (gint64 ch = 0; ch < c; ch++)
        {
          m[ch] = (float) mean[ch];
          r[ch] = (float) rstd[ch];
        }
      job.pass = 2;
      tvw_parallel_tasks (CL_BANDS, threads, group_norm_cl_band, &job);
    }
}

static gsize
group_norm_scratch (const TvwOpCall *call)
{
  /* The bands' sums, the float mean and rstd, the double ones. */
  return (CL_BANDS + 1 + 2) * (gsize) call->in[0].shape[1] * sizeof (double);
}

static void
group_norm_run (TvwOpCall *call)
{
  const TvwNormParams *p = call->params;
  const TvwArray *x = &call->in[0];
  GroupJob job = { call, x->shape[1], p->groups > 0 ? p->groups : x->shape[1], 1 };
  gint64 n = tvw_array_numel (x);

  if (n == 0)
    return;
  for (int i = 2; i < x->rank; i++)
    job.spatial *= x->shape[i];
  if (tvw_op_input_channels_last (call))
    {
      group_norm_cl (call, job.groups, job.spatial);
      return;
    }
  tvw_parallel_range (x->shape[0] * job.groups, n < 16384 ? 1 : call->n_threads,
                      group_norm_blocks, &job);
}

const TvwOpClass tvw_op_group_norm = {
  .name = "group_norm",
  .flags = TVW_OP_CHANNELS_LAST_OK,
  .infer = group_norm_infer,
  .scratch = group_norm_scratch,
  .run = group_norm_run,
};

/* ---- graph constructors ------------------------------------------------ */

static TvwVal
add_norm (TvwNet           *net,
          const TvwOpClass *cls,
          TvwVal            x,
          const char       *name,
          const TvwNormParams *p,
          gint64            features)
{
  const TvwWeightSpec weights[2] = {
    { "weight", 1, { features }, TVW_WEIGHT_INIT_ONES },
    { "bias", 1, { features }, 0 },
  };
  const TvwNodeSpec spec = {
    .cls = cls,
    .name = name,
    .params = p,
    .params_size = sizeof *p,
    .n_in = 1,
    .in = &x,
    .n_weights = p->n_weights,
    .weights = weights,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

static gint64
input_channels (TvwNet *net,
                TvwVal  x)
{
  const TvwArray *a = tvw_net_array (net, x);

  /* A bad input is reported by infer, naming the node. */
  return a != NULL && a->rank >= 2 ? a->shape[1] : 0;
}

TvwVal
tvw_net_layer_norm (TvwNet     *net,
                    TvwVal      x,
                    const char *name,
                    int         channels_dim,
                    gint64      features,
                    double      eps,
                    gboolean    affine)
{
  const TvwArray *a = tvw_net_array (net, x);
  TvwNormParams p = { eps, 0, affine ? 2 : 0, channels_dim < 0 ? -1 : channels_dim };

  /* Dim 1 of a 4-D or 5-D input is LayerNorm2d; any other dimension but
   * the last is refused by infer, naming the node. */
  if (a != NULL && channels_dim >= 0 && channels_dim == a->rank - 1)
    p.dim = -1;
  if (a != NULL && channels_dim == 1 && a->rank >= 4)
    return add_norm (net, &tvw_op_layer_norm_channels, x, name, &p, features);
  return add_norm (net, &tvw_op_layer_norm, x, name, &p, features);
}

TvwVal
tvw_net_group_norm (TvwNet     *net,
                    TvwVal      x,
                    const char *name,
                    int         groups,
                    double      eps,
                    gboolean    affine)
{
  TvwNormParams p = { eps, MAX (groups, 1), affine ? 2 : 0, -1 };

  return add_norm (net, &tvw_op_group_norm, x, name, &p, input_channels (net, x));
}

TvwVal
tvw_net_instance_norm (TvwNet     *net,
                       TvwVal      x,
                       const char *name,
                       double      eps,
                       gboolean    affine)
{
  TvwNormParams p = { eps, 0, affine ? 2 : 0, -1 };

  return add_norm (net, &tvw_op_group_norm, x, name, &p, input_channels (net, x));
}
