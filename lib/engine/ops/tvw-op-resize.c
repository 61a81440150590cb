/* tvw-op-resize.c — F.interpolate (nearest, bilinear) and F.grid_sample
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both read their N×C×H×W input through its strides (channels-last or
 * not) and write an output in the same layout, so a channels-last network
 * stays channels-last.  The source coordinates follow PyTorch's CPU
 * kernels (checked against torch 1.13): legacy `nearest` is
 * floor (dst · scale) computed in float; bilinear uses
 * area_pixel_compute_source_index () (half-pixel centres clamped at 0, or
 * corners aligned) and copies an axis whose size does not change.  The
 * scale is 1 / scale_factor when the size came from one.  grid_sample pads
 * with zeros.
 */

#include "config.h"

#include <math.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

static gboolean
check_image (TvwOpCall  *call,
             GError    **error)
{
  return tvw_op_check_rank (call, 0, 4, 4, error) &&
         tvw_op_check_elem (call, 0, TVW_ELEM_F32, error);
}

/* The output keeps input 0's layout: channels-last stays so. */
static void
layout_like_input (TvwOpCall *call)
{
  if (call->in[0].stride[1] == 1 && tvw_array_is_channels_last (&call->in[0]))
    tvw_array_set_channels_last (&call->out[0]);
  else
    tvw_array_set_contiguous (&call->out[0]);
}

/* ---- interpolate ------------------------------------------------------- */

static gint64
resize_size (gint64 in,
             gint64 out,
             double scale)
{
  /* F.interpolate: floor (in · scale_factor), in double. */
  return out > 0 ? out : (gint64) floor ((double) in * scale);
}

static gboolean
interpolate_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwResizeParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!check_image (call, error))
    return FALSE;
  if (p->mode != TVW_RESIZE_NEAREST && p->mode != TVW_RESIZE_BILINEAR)
    {
      tvw_op_set_invalid (call, error, "unknown mode %d", p->mode);
      return FALSE;
    }
  if (p->mode == TVW_RESIZE_NEAREST && p->align_corners)
    {
      tvw_op_set_invalid (call, error, "align_corners only applies to bilinear");
      return FALSE;
    }
  /* A second input gives the size (its last two dimensions), as
   * F.interpolate (x, size=like.shape[-2:]) does: it follows the shapes
   * the net runs on. */
  if (call->n_in == 2 && !tvw_op_check_rank (call, 1, 3, TVW_MAX_RANK, error))
    return FALSE;
  if (call->n_in != 2 && !(p->min_size > 0) &&
      ((p->out_h <= 0 && !(p->scale_h > 0)) || (p->out_w <= 0 && !(p->scale_w > 0))))
    {
      tvw_op_set_invalid (call, error, "neither an output size nor a positive scale factor");
      return FALSE;
    }

  shape[0] = x->shape[0];
  shape[1] = x->shape[1];
  if (call->n_in == 2)
    {
      const TvwArray *like = &call->in[1];

      shape[2] = like->shape[like->rank - 2];
      shape[3] = like->shape[like->rank - 1];
    }
  else if (p->min_size > 0 && x->shape[2] > 0 && x->shape[3] > 0)
    {
      /* torch.min (min_size / min_size_f32, max_size / max_size_f32) in
       * float32 — a Python number divided by a tensor is the tensor's
       * reciprocal times the number (Tensor.__rtruediv__), which rounds
       * differently from a division — .item () to a double, then
       * F.interpolate's floor (size · scale) in double; the kernel then
       * uses size / output size. */
      const float lo = (float) MIN (x->shape[2], x->shape[3]);
      const float hi = (float) MAX (x->shape[2], x->shape[3]);
      const float by_min = (1.f / lo) * (float) p->min_size;
      const float by_max = (1.f / hi) * (float) p->max_size;
      const double scale = (double) MIN (by_min, by_max);

      shape[2] = resize_size (x->shape[2], 0, scale);
      shape[3] = resize_size (x->shape[3], 0, scale);
    }
  else
    {
      shape[2] = resize_size (x->shape[2], p->out_h, p->scale_h);
      shape[3] = resize_size (x->shape[3], p->out_w, p->scale_w);
    }
  if (shape[2] <= 0 || shape[3] <= 0 || x->shape[2] <= 0 || x->shape[3] <= 0)
    {
      char xs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_op_set_error (call, error, "input %s resized to %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT,
                        xs, shape[2], shape[3]);
      return FALSE;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  layout_like_input (call);
  return TRUE;
}

/* Where output index @i reads from, for one axis. */
typedef struct
{
  gint64 in, out;
  double scale;          /* bilinear: area_pixel_compute_scale () */
  float  nearest_scale;  /* nearest: compute_scales_value (), in float as PyTorch */
  gboolean align_corners;
} Axis;

static void
axis_init (Axis     *ax,
           gint64    in,
           gint64    out,
           double    scale_factor,
           gboolean  align_corners)
{
  ax->in = in;
  ax->out = out;
  ax->align_corners = align_corners;
  if (align_corners)
    ax->scale = out > 1 ? (double) (in - 1) / (double) (out - 1) : 0.0;
  else
    ax->scale = scale_factor > 0 ? 1.0 / scale_factor : (double) in / (double) out;
  ax->nearest_scale = scale_factor > 0 ? (float) (1.0 / scale_factor) : (float) in / (float) out;
}

/* PyTorch's N×C×H×W kernel: no shortcut for equal or doubled sizes (its
 * channels-last kernel has them; the two differ only for scale factors
 * that are not exactly the size ratio). */
static gint64
axis_nearest (const Axis *ax,
              gint64      i)
{
  return MIN ((gint64) floorf ((float) i * ax->nearest_scale), ax->in - 1);
}

static void
axis_linear (const Axis *ax,
             gint64      i,
             gint64     *i0,
             gint64     *i1,
             float      *l0,
             float      *l1)
{
  double src, lambda;

  /* PyTorch leaves an axis whose size does not change as it is, whatever
   * the scale factor. */
  if (ax->in == ax->out)
    {
      *i0 = *i1 = i;
      *l0 = 1.f;
      *l1 = 0.f;
      return;
    }
  if (ax->align_corners)
    src = ax->scale * (double) i;
  else
    src = MAX (ax->scale * ((double) i + 0.5) - 0.5, 0.0);
  *i0 = MIN ((gint64) src, ax->in - 1);
  *i1 = *i0 < ax->in - 1 ? *i0 + 1 : *i0;
  lambda = CLAMP (src - (double) *i0, 0.0, 1.0);
  *l1 = (float) lambda;
  *l0 = (float) (1.0 - lambda);
}

typedef struct
{
  const TvwOpCall *call;
  Axis             h, w;
} ResizeJob;

/* Where output column ox reads: element offsets along W (strides
 * applied) and weights; nearest uses x0 alone. */
typedef struct
{
  gint64 x0, x1;
  float  l0, l1;
} Tap;

static gsize
interpolate_scratch (const TvwOpCall *call)
{
  return (gsize) call->out[0].shape[3] * sizeof (Tap);
}

static void
interpolate_rows (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const ResizeJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  const TvwResizeParams *p = call->params;
  const gint64 channels = x->shape[1], ow = y->shape[3];
  const gint64 xs1 = x->stride[1], ys1 = y->stride[1], ys3 = y->stride[3];
  const gboolean nearest = p->mode == TVW_RESIZE_NEAREST;
  /* Channels innermost in memory (channels-last): a pixel's channels in
   * the inner loop; else a row of one channel. */
  const gboolean channels_inner = ABS (xs1) <= ABS (x->stride[3]);
  Tap *taps = (Tap *) (call->scratch + (gsize) thread * call->scratch_bytes);

  for (gint64 ox = 0; ox < ow; ox++)
    {
      Tap *t = &taps[ox];

      if (nearest)
        {
          t->x0 = t->x1 = axis_nearest (&job->w, ox);
          t->l0 = 1.f;
          t->l1 = 0.f;
        }
      else
        axis_linear (&job->w, ox, &t->x0, &t->x1, &t->l0, &t->l1);
      t->x0 *= x->stride[3];
      t->x1 *= x->stride[3];
    }

  /* One task is one (n, output row). */
  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / y->shape[2], oy = (gint64) row % y->shape[2];
      const float *xn = (const float *) x->data + n * x->stride[0];
      float *yrow = (float *) y->data + n * y->stride[0] + oy * y->stride[2];
      gint64 y0, y1;
      float ly0, ly1;
      const float *r0, *r1;

      if (nearest)
        {
          y0 = y1 = axis_nearest (&job->h, oy);
          ly0 = 1.f;
          ly1 = 0.f;
        }
      else
        axis_linear (&job->h, oy, &y0, &y1, &ly0, &ly1);
      r0 = xn + y0 * x->stride[2];
      r1 = xn + y1 * x->stride[2];

      if (nearest && channels_inner)
        for (gint64 ox = 0; ox < ow; ox++)
          for (gint64 c = 0; c < channels; c++)
            yrow[ox * ys3 + c * ys1] = r0[taps[ox].x0 + c * xs1];
      else if (nearest)
        for (gint64 c = 0; c < channels; c++)
          for (gint64 ox = 0; ox < ow; ox++)
            yrow[ox * ys3 + c * ys1] = r0[taps[ox].x0 + c * xs1];
      else if (channels_inner)
        for (gint64 ox = 0; ox < ow; ox++)
          {
            const Tap *t = &taps[ox];

            for (gint64 c = 0; c < channels; c++)
              {
                const gint64 o = c * xs1;

                yrow[ox * ys3 + c * ys1] = ly0 * (t->l0 * r0[t->x0 + o] + t->l1 * r0[t->x1 + o]) +
                                           ly1 * (t->l0 * r1[t->x0 + o] + t->l1 * r1[t->x1 + o]);
              }
          }
      else
        for (gint64 c = 0; c < channels; c++)
          {
            const float *c0 = r0 + c * xs1, *c1 = r1 + c * xs1;
            float *dst = yrow + c * ys1;

            for (gint64 ox = 0; ox < ow; ox++)
              {
                const Tap *t = &taps[ox];

                dst[ox * ys3] = ly0 * (t->l0 * c0[t->x0] + t->l1 * c0[t->x1]) +
                                ly1 * (t->l0 * c1[t->x0] + t->l1 * c1[t->x1]);
              }
          }
    }
}

static void
interpolate_run (TvwOpCall *call)
{
  const TvwResizeParams *p = call->params;
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  ResizeJob job = { call };
  gint64 rows = y->shape[0] * y->shape[2];

  if (tvw_array_numel (y) == 0)
    return;
  /* Scale factors only matter when the size came from them (PyTorch
   * passes them on when recompute_scale_factor is unset). */
  axis_init (&job.h, x->shape[2], y->shape[2], p->out_h > 0 ? 0.0 : p->scale_h, p->align_corners);
  axis_init (&job.w, x->shape[3], y->shape[3], p->out_w > 0 ? 0.0 : p->scale_w, p->align_corners);
  tvw_parallel_range ((gsize) rows, tvw_array_numel (y) < 16384 ? 1 : call->n_threads,
                      interpolate_rows, &job);
}

const TvwOpClass tvw_op_interpolate = {
  .name = "interpolate",
  .flags = TVW_OP_STRIDED,
  .infer = interpolate_infer,
  .scratch = interpolate_scratch,
  .run = interpolate_run,
};

/* ---- grid_sample ------------------------------------------------------- */

static gboolean
grid_sample_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwResizeParams *p = call->params;
  const TvwArray *x = &call->in[0], *g = &call->in[1];
  gint64 shape[4];

  if (!check_image (call, error) ||
      !tvw_op_check_rank (call, 1, 4, 4, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
    return FALSE;
  if (p->mode != TVW_RESIZE_NEAREST && p->mode != TVW_RESIZE_BILINEAR)
    {
      tvw_op_set_invalid (call, error, "unknown mode %d", p->mode);
      return FALSE;
    }
  if (g->shape[0] != x->shape[0] || g->shape[3] != 2)
    {
      char xs[TVW_SHAPE_CHARS];
      char gs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (x, xs);
      tvw_array_format_shape (g, gs);
      tvw_op_set_error (call, error,
                        "grid %s does not fit input %s (expected [%" G_GINT64_FORMAT ", H, W, 2])",
                        gs, xs, x->shape[0]);
      return FALSE;
    }

  shape[0] = x->shape[0];
  shape[1] = x->shape[1];
  shape[2] = g->shape[1];
  shape[3] = g->shape[2];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  layout_like_input (call);
  return TRUE;
}

/* grid_sampler_unnormalize (): [-1, 1] to pixel coordinates. */
static inline float
unnormalize (float    coord,
             gint64   size,
             gboolean align_corners)
{
  if (align_corners)
    return (coord + 1.f) / 2.f * (float) (size - 1);
  return ((coord + 1.f) * (float) size - 1.f) / 2.f;
}

static void
grid_sample_rows (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const TvwOpCall *call = data;
  const TvwResizeParams *p = call->params;
  const TvwArray *x = &call->in[0], *g = &call->in[1], *y = &call->out[0];
  const gint64 channels = x->shape[1], ih = x->shape[2], iw = x->shape[3];
  const gint64 xs1 = x->stride[1], ys1 = y->stride[1];

  for (gsize row = begin; row < end; row++)
    {
      const gint64 n = (gint64) row / y->shape[2], oy = (gint64) row % y->shape[2];
      const float *xn = (const float *) x->data + n * x->stride[0];

      for (gint64 ox = 0; ox < y->shape[3]; ox++)
        {
          const float *gp = (const float *) g->data + n * g->stride[0] + oy * g->stride[1] +
                            ox * g->stride[2];
          const float fx = unnormalize (gp[0], iw, p->align_corners);
          const float fy = unnormalize (gp[g->stride[3]], ih, p->align_corners);
          float *dst = (float *) y->data + n * y->stride[0] + oy * y->stride[2] + ox * y->stride[3];

          if (p->mode == TVW_RESIZE_NEAREST)
            {
              /* std::nearbyint: ties to even. */
              const float rx = nearbyintf (fx), ry = nearbyintf (fy);
              const gboolean inside = rx >= 0 && rx < (float) iw && ry >= 0 && ry < (float) ih;
              const float *src = inside
                                 ? xn + (gint64) ry * x->stride[2] + (gint64) rx * x->stride[3]
                                 : NULL;

              for (gint64 c = 0; c < channels; c++)
                dst[c * ys1] = src != NULL ? src[c * xs1] : 0.f;
            }
          else
            {
              const float x0f = floorf (fx), y0f = floorf (fy);
              const float wx1 = fx - x0f, wx0 = 1.f - wx1, wy1 = fy - y0f, wy0 = 1.f - wy1;
              const float *corner[4] = { NULL, NULL, NULL, NULL };
              float weight[4];
              int k = 0;

              /* The corners inside the image; the others read zeros. */
              for (int dy = 0; dy < 2; dy++)
                for (int dx = 0; dx < 2; dx++)
                  {
                    const float cx = x0f + dx, cy = y0f + dy;

                    if (cx >= 0 && cx < (float) iw && cy >= 0 && cy < (float) ih)
                      {
                        corner[k] = xn + (gint64) cy * x->stride[2] + (gint64) cx * x->stride[3];
                        weight[k] = (dx ? wx1 : wx0) * (dy ? wy1 : wy0);
                        k++;
                      }
                  }

              for (gint64 c = 0; c < channels; c++)
                {
                  float v = 0.f;

                  for (int i = 0; i < k; i++)
                    v += corner[i][c * xs1] * weight[i];
                  dst[c * ys1] = v;
                }
            }
        }
    }
}

static void
grid_sample_run (TvwOpCall *call)
{
  const TvwArray *y = &call->out[0];

  if (tvw_array_numel (y) == 0 || call->in[0].shape[2] == 0 || call->in[0].shape[3] == 0)
    {
      /* Nothing to sample from: zeros, as padding_mode="zeros". */
      gint64 idx[4] = { 0 };

      for (idx[0] = 0; idx[0] < y->shape[0]; idx[0]++)
        for (idx[1] = 0; idx[1] < y->shape[1]; idx[1]++)
          for (idx[2] = 0; idx[2] < y->shape[2]; idx[2]++)
            for (idx[3] = 0; idx[3] < y->shape[3]; idx[3]++)
              ((float *) y->data)[idx[0] * y->stride[0] + idx[1] * y->stride[1] +
                                  idx[2] * y->stride[2] + idx[3] * y->stride[3]] = 0.f;
      return;
    }
  tvw_parallel_range ((gsize) (y->shape[0] * y->shape[2]),
                      tvw_array_numel (y) < 16384 ? 1 : call->n_threads,
                      grid_sample_rows, call);
}

const TvwOpClass tvw_op_grid_sample = {
  .name = "grid_sample",
  .flags = TVW_OP_STRIDED,
  .infer = grid_sample_infer,
  .run = grid_sample_run,
};

/* ---- graph constructors ------------------------------------------------ */

TvwVal
tvw_net_interpolate (TvwNet        *net,
                     TvwVal         x,
                     gint64         out_h,
                     gint64         out_w,
                     double         scale_h,
                     double         scale_w,
                     TvwResizeMode  mode,
                     gboolean       align_corners)
{
  const TvwResizeParams p = {
    out_h, out_w,
    out_h > 0 ? 0.0 : scale_h, out_w > 0 ? 0.0 : scale_w,
    mode, align_corners,
  };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_interpolate,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_interpolate_min_max (TvwNet *net,
                             TvwVal  x,
                             double  min_size,
                             double  max_size)
{
  const TvwResizeParams p = {
    .mode = TVW_RESIZE_BILINEAR,
    .min_size = min_size,
    .max_size = max_size,
  };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_interpolate,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_interpolate_like (TvwNet        *net,
                          TvwVal         x,
                          TvwVal         like,
                          TvwResizeMode  mode,
                          gboolean       align_corners)
{
  const TvwResizeParams p = { 0, 0, 0.0, 0.0, mode, align_corners };
  const TvwVal in[2] = { x, like };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_interpolate,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 2,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_grid_sample (TvwNet        *net,
                     TvwVal         x,
                     TvwVal         grid,
                     TvwResizeMode  mode,
                     gboolean       align_corners)
{
  const TvwResizeParams p = { 0, 0, 0.0, 0.0, mode, align_corners };
  const TvwVal in[2] = { x, grid };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_grid_sample,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 2,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}
