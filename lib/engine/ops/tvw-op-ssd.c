/* tvw-op-ssd.c — the ops only SSD uses (torchvision/models/detection/ssd.py,
 * anchor_utils.py)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ssd_l2_norm is SSDFeatureExtractorVGG's rescaling of conv4_3:
 * scale_weight · F.normalize (x, dim=1), every pixel's channel vector
 * divided by its Euclidean norm (at least 1e-12).
 *
 * ssd_default_boxes is DefaultBoxGenerator: for each feature map k (row by
 * row, then the 2 + 2·|ratios_k| width-height pairs of a cell) a box
 * centred on ((x + 0.5) / f_x, (y + 0.5) / f_y), f being the image size
 * over steps[k] or else the map's size, of size (s_k, s_k),
 * (√(s_k s_k+1), √(s_k s_k+1)) and (s_k √r, s_k / √r), (s_k / √r, s_k √r)
 * per ratio r, clamped to [0, 1] with @clip, then turned into x1, y1, x2,
 * y2 in the image's pixels.  The sizes come from the inputs' shapes when
 * the node runs, never from the build: it reads no data.  Arithmetic as
 * torchvision's: the pairs in double rounded to float, the rest in float.
 *
 * (SSD's per-class selection before NMS is the shared score_topk op.)
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* ---- ssd_l2_norm ------------------------------------------------------- */

#define L2_NORM_EPS 1e-12f

static gboolean
l2_norm_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwArray *x = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) || !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (x->shape[1] != call->weights[0].shape[0])
    {
      char have[TVW_SHAPE_CHARS];

      tvw_op_set_error (call, error, "scale_weight has %" G_GINT64_FORMAT " channels, the input has shape %s",
                        call->weights[0].shape[0], tvw_array_format_shape (x, have));
      return FALSE;
    }

  call->out[0] = *x;
  return TRUE;
}

static void
l2_norm_pixels (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const TvwOpCall *call = data;
  const gint64 c = call->in[0].shape[1];
  const float *scale = call->weights[0].data;

  /* Dense channels-last: a pixel's channels are adjacent. */
  for (gsize i = begin; i < end; i++)
    {
      const float *x = (const float *) call->in[0].data + i * c;
      float *y = (float *) call->out[0].data + i * c;
      float sum = 0.f, denom;

      for (gint64 k = 0; k < c; k++)
        sum += x[k] * x[k];
      denom = MAX (sqrtf (sum), L2_NORM_EPS);
      for (gint64 k = 0; k < c; k++)
        y[k] = scale[k] * (x[k] / denom);
    }
}

static void
l2_norm_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0];
  const gsize pixels = (gsize) (x->shape[0] * x->shape[2] * x->shape[3]);

  if (pixels == 0 || x->shape[1] == 0)
    return;
  tvw_parallel_range (pixels, tvw_array_numel (x) < 16384 ? 1 : call->n_threads,
                      l2_norm_pixels, call);
}

const TvwOpClass tvw_op_ssd_l2_norm = {
  .name = "ssd_l2_norm",
  .flags = TVW_OP_CHANNELS_LAST,
  .infer = l2_norm_infer,
  .run = l2_norm_run,
};

/* ---- ssd_default_boxes ------------------------------------------------- */

static int
default_boxes_per_cell (const TvwSsdDefaultBoxesParams *p,
                        int                             level)
{
  return 2 + 2 * p->n_ratios[level];
}

static gboolean
default_boxes_infer (TvwOpCall  *call,
                     GError    **error)
{
  const TvwSsdDefaultBoxesParams *p = call->params;
  gint64 total = 0;

  if (p->n_levels < 1 || p->n_levels > TVW_SSD_MAX_LEVELS || call->n_in != p->n_levels + 1)
    {
      tvw_op_set_invalid (call, error, "%d feature maps for %d levels of default boxes",
                          call->n_in - 1, p->n_levels);
      return FALSE;
    }
  for (int i = 0; i < call->n_in; i++)
    if (!tvw_op_check_rank (call, i, 4, 4, error))
      return FALSE;

  for (int k = 0; k < p->n_levels; k++)
    {
      const TvwArray *f = &call->in[k + 1];

      total += f->shape[2] * f->shape[3] * default_boxes_per_cell (p, k);
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, (gint64[]) { total, 4 });
  return TRUE;
}

static void
default_boxes_run (TvwOpCall *call)
{
  const TvwSsdDefaultBoxesParams *p = call->params;
  const TvwArray *image = &call->in[0];
  const float image_h = (float) image->shape[2], image_w = (float) image->shape[3];
  float *out = call->out[0].data;

  for (int k = 0; k < p->n_levels; k++)
    {
      const TvwArray *f = &call->in[k + 1];
      const gint64 fh = f->shape[2], fw = f->shape[3];
      const int n_pairs = default_boxes_per_cell (p, k);
      float wh[2 * (2 + 2 * TVW_SSD_MAX_RATIOS)];
      float f_x, f_y;

      /* _generate_wh_pairs: in double, then a float32 tensor, clamped. */
      wh[0] = wh[1] = (float) p->scales[k];
      wh[2] = wh[3] = (float) sqrt (p->scales[k] * p->scales[k + 1]);
      for (int r = 0; r < p->n_ratios[k]; r++)
        {
          const double sq = sqrt (p->ratios[k][r]);
          const float w = (float) (p->scales[k] * sq), h = (float) (p->scales[k] / sq);

          wh[4 + 4 * r] = w;
          wh[5 + 4 * r] = h;
          wh[6 + 4 * r] = h;
          wh[7 + 4 * r] = w;
        }
      if (p->clip)
        for (int i = 0; i < 2 * n_pairs; i++)
          wh[i] = CLAMP (wh[i], 0.f, 1.f);

      if (p->steps[k] > 0)
        {
          f_x = (float) (image->shape[3] / p->steps[k]);
          f_y = (float) (image->shape[2] / p->steps[k]);
        }
      else
        {
          f_x = (float) fw;
          f_y = (float) fh;
        }

      for (gint64 y = 0; y < fh; y++)
        for (gint64 x = 0; x < fw; x++)
          {
            const float cx = ((float) x + .5f) / f_x, cy = ((float) y + .5f) / f_y;

            for (int j = 0; j < n_pairs; j++)
              {
                const float w = wh[2 * j], h = wh[2 * j + 1];

                out[0] = (cx - .5f * w) * image_w;
                out[1] = (cy - .5f * h) * image_h;
                out[2] = (cx + .5f * w) * image_w;
                out[3] = (cy + .5f * h) * image_h;
                out += 4;
              }
          }
    }
}

const TvwOpClass tvw_op_ssd_default_boxes = {
  .name = "ssd_default_boxes",
  /* Only the inputs' shapes are read: never stage them. */
  .flags = TVW_OP_STRIDED,
  .infer = default_boxes_infer,
  .run = default_boxes_run,
};

/* ---- graph constructors ------------------------------------------------ */

TvwVal
tvw_net_ssd_l2_norm (TvwNet     *net,
                     TvwVal      x,
                     const char *name)
{
  const TvwWeightSpec weight = {
    "scale_weight", 1, { tvw_net_channels (net, x) }, TVW_WEIGHT_INIT_ONES
  };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_ssd_l2_norm,
    .name = name,
    .n_in = 1,
    .in = &x,
    .n_weights = 1,
    .weights = &weight,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_ssd_default_boxes (TvwNet                         *net,
                           TvwVal                          image,
                           const TvwVal                   *features,
                           const TvwSsdDefaultBoxesParams *params)
{
  TvwVal in[TVW_SSD_MAX_LEVELS + 1];
  const TvwNodeSpec spec = {
    .cls = &tvw_op_ssd_default_boxes,
    .name = "anchor_generator",
    .params = params,
    .params_size = sizeof *params,
    .n_in = params->n_levels + 1,
    .in = in,
    .n_out = 1,
  };

  g_return_val_if_fail (params->n_levels >= 1 && params->n_levels <= TVW_SSD_MAX_LEVELS, -1);

  in[0] = image;
  memcpy (in + 1, features, params->n_levels * sizeof (TvwVal));
  return tvw_net_add_node (net, &spec, NULL);
}
