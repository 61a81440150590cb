/* tvw-op-detection.c — RoIAlign, MultiScaleRoIAlign and batched NMS
 * (torchvision.ops)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * roi_align is torchvision's CPU kernel, in float like it: the aligned
 * half-pixel offset, an adaptive sampling grid of ceil (roi size / output
 * size) points per bin when sampling_ratio ≤ 0, bilinear samples that are
 * zero outside [-1, size] and clamped inside, averaged per bin.  The
 * sampling weights of a bin are computed once and applied to every channel
 * (the inner loop), so a channels-last input is read contiguously.
 *
 * multi_scale_roi_align is MultiScaleRoIAlign for one image: each box
 * pooled by the same kernel from the level LevelMapper picks (in float32
 * as torchvision: floor (4 + log2 (sqrt (area) / 224) + 1e-6), clamped to
 * [k_min, k_max]), the levels' scales 2^round (log2 (map height / image
 * height)) and k_min/k_max found at run time, so any input size works.
 *
 * batched_nms is torchvision.ops.batched_nms: up to 1000 boxes, the
 * coordinate trick (each class's boxes moved by idx · (max coordinate + 1),
 * then one NMS); above that, NMS per class with the boxes as they are.  The
 * two differ only in float rounding, so both are kept.  Boxes are visited
 * by decreasing score, equal scores in index order as torchvision's stable
 * sort in nms () (above 1000 boxes torchvision re-sorts the kept ones with
 * an unstable sort: equal scores may come out in another order there).  A
 * box is suppressed by a kept one of the same class whose IoU with it is
 * over the threshold.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* ---- roi_align --------------------------------------------------------- */

static gboolean
roi_align_infer (TvwOpCall  *call,
                 GError    **error)
{
  const TvwRoiAlignParams *p = call->params;
  const TvwArray *x = &call->in[0], *rois = &call->in[1];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 2, 2, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
    return FALSE;
  if (rois->shape[1] != 5)
    {
      char rs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (rois, rs);
      tvw_op_set_error (call, error,
                        "rois have shape %s, expected [K, 5] (batch index, x1, y1, x2, y2)", rs);
      return FALSE;
    }
  if (p->out_h < 1 || p->out_w < 1)
    {
      tvw_op_set_invalid (call, error, "output size %d×%d", p->out_h, p->out_w);
      return FALSE;
    }

  shape[0] = rois->shape[0];
  shape[1] = x->shape[1];
  shape[2] = p->out_h;
  shape[3] = p->out_w;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  /* The output keeps the input's layout. */
  if (x->stride[1] == 1 && tvw_array_is_channels_last (x))
    tvw_array_set_channels_last (&call->out[0]);
  return TRUE;
}

/* Output row @ph of one RoI: the box (x1, y1, x2, y2) in image
 * coordinates, on image @batch of @x at @scale, into @dst (the RoI's
 * C×oh×ow output at @y's strides). */
static void
roi_align_row (const TvwArray           *x,
               const TvwRoiAlignParams  *p,
               float                     scale,
               gint64                    batch,
               const float               box[4],
               int                       ph,
               const TvwArray           *y,
               float                    *dst_roi)
{
  const gint64 channels = x->shape[1];
  const int height = (int) x->shape[2], width = (int) x->shape[3];
  const gint64 xs1 = x->stride[1], ys1 = y->stride[1];
  const float offset = p->aligned ? 0.5f : 0.f;
  const float start_w = box[0] * scale - offset, start_h = box[1] * scale - offset;
  const float end_w = box[2] * scale - offset, end_h = box[3] * scale - offset;
  float roi_w = end_w - start_w, roi_h = end_h - start_h, bin_w, bin_h, count;
  int grid_h, grid_w;
  const float *xn;

  if (!p->aligned)
    {
      roi_w = MAX (roi_w, 1.f);
      roi_h = MAX (roi_h, 1.f);
    }
  bin_h = roi_h / (float) p->out_h;
  bin_w = roi_w / (float) p->out_w;
  grid_h = p->sampling_ratio > 0 ? p->sampling_ratio : (int) ceilf (roi_h / (float) p->out_h);
  grid_w = p->sampling_ratio > 0 ? p->sampling_ratio : (int) ceilf (roi_w / (float) p->out_w);
  count = (float) MAX (grid_h * grid_w, 1);

  for (int pw = 0; pw < p->out_w; pw++)
    {
      float *dst = dst_roi + ph * y->stride[2] + pw * y->stride[3];

      for (gint64 c = 0; c < channels; c++)
        dst[c * ys1] = 0.f;
      /* A batch index outside the input reads nothing. */
      if (batch < 0 || batch >= x->shape[0] || height <= 0 || width <= 0)
        continue;
      xn = (const float *) x->data + batch * x->stride[0];

      for (int iy = 0; iy < grid_h; iy++)
        {
          const float yy = start_h + ph * bin_h + ((float) iy + .5f) * bin_h / (float) grid_h;

          for (int ix = 0; ix < grid_w; ix++)
            {
              float sx = start_w + pw * bin_w + ((float) ix + .5f) * bin_w / (float) grid_w;
              float sy = yy, ly, lx, hy, hx, w1, w2, w3, w4;
              int y_low, x_low, y_high, x_high;
              const float *p1, *p2, *p3, *p4;

              if (sy < -1.f || sy > (float) height || sx < -1.f || sx > (float) width)
                continue;
              sy = MAX (sy, 0.f);
              sx = MAX (sx, 0.f);
              y_low = (int) sy;
              x_low = (int) sx;
              if (y_low >= height - 1)
                {
                  y_high = y_low = height - 1;
                  sy = (float) y_low;
                }
              else
                y_high = y_low + 1;
              if (x_low >= width - 1)
                {
                  x_high = x_low = width - 1;
                  sx = (float) x_low;
                }
              else
                x_high = x_low + 1;

              ly = sy - y_low;
              lx = sx - x_low;
              hy = 1.f - ly;
              hx = 1.f - lx;
              w1 = hy * hx;
              w2 = hy * lx;
              w3 = ly * hx;
              w4 = ly * lx;
              p1 = xn + y_low * x->stride[2] + x_low * x->stride[3];
              p2 = xn + y_low * x->stride[2] + x_high * x->stride[3];
              p3 = xn + y_high * x->stride[2] + x_low * x->stride[3];
              p4 = xn + y_high * x->stride[2] + x_high * x->stride[3];

              for (gint64 c = 0; c < channels; c++)
                {
                  const gint64 o = c * xs1;

                  dst[c * ys1] += w1 * p1[o] + w2 * p2[o] + w3 * p3[o] + w4 * p4[o];
                }
            }
        }

      for (gint64 c = 0; c < channels; c++)
        dst[c * ys1] /= count;
    }
}

static void
roi_align_rows (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const TvwOpCall *call = data;
  const TvwRoiAlignParams *p = call->params;
  const TvwArray *rois = &call->in[1], *y = &call->out[0];
  const gint64 rs = rois->stride[1];

  /* One task is one (roi, output row). */
  for (gsize row = begin; row < end; row++)
    {
      const gint64 k = (gint64) row / p->out_h;
      const int ph = (int) ((gint64) row % p->out_h);
      const float *r = (const float *) rois->data + k * rois->stride[0];
      const float box[4] = { r[rs], r[2 * rs], r[3 * rs], r[4 * rs] };

      roi_align_row (&call->in[0], p, (float) p->spatial_scale, (gint64) r[0], box, ph, y,
                     (float *) y->data + k * y->stride[0]);
    }
}

static void
roi_align_run (TvwOpCall *call)
{
  const TvwArray *y = &call->out[0];

  if (tvw_array_numel (y) == 0)
    return;
  tvw_parallel_range ((gsize) (y->shape[0] * y->shape[2]),
                      tvw_array_numel (y) < 4096 ? 1 : call->n_threads, roi_align_rows, call);
}

const TvwOpClass tvw_op_roi_align = {
  .name = "roi_align",
  .flags = TVW_OP_STRIDED,
  .infer = roi_align_infer,
  .run = roi_align_run,
};

/* ---- multi_scale_roi_align --------------------------------------------- */

static gboolean
multi_scale_roi_align_infer (TvwOpCall  *call,
                             GError    **error)
{
  const TvwMultiScaleRoiAlignParams *p = call->params;
  const TvwArray *boxes = &call->in[0], *x0 = &call->in[2];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 2, TVW_MAX_RANK, error))
    return FALSE;
  if (boxes->shape[1] != 4)
    {
      char bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (boxes, bs);
      tvw_op_set_error (call, error, "boxes have shape %s, expected [K, 4]", bs);
      return FALSE;
    }
  if (p->out_h < 1 || p->out_w < 1 || call->n_in < 3 || call->n_in > 2 + TVW_MSRA_MAX_LEVELS)
    {
      tvw_op_set_invalid (call, error, "output size %d×%d, %d feature maps",
                          p->out_h, p->out_w, call->n_in - 2);
      return FALSE;
    }
  for (int l = 2; l < call->n_in; l++)
    {
      const TvwArray *x = &call->in[l];

      if (!tvw_op_check_rank (call, l, 4, 4, error) ||
          !tvw_op_check_elem (call, l, TVW_ELEM_F32, error))
        return FALSE;
      if (x->shape[0] != x0->shape[0] || x->shape[1] != x0->shape[1] || x->shape[2] < 1 ||
          x->shape[3] < 1)
        {
          char s0[TVW_SHAPE_CHARS], sl[TVW_SHAPE_CHARS];

          tvw_array_format_shape (x0, s0);
          tvw_array_format_shape (x, sl);
          tvw_op_set_error (call, error, "feature map %d is %s, feature map 0 %s", l - 2, sl, s0);
          return FALSE;
        }
    }

  shape[0] = boxes->shape[0];
  shape[1] = x0->shape[1];
  shape[2] = p->out_h;
  shape[3] = p->out_w;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  if (x0->stride[1] == 1 && tvw_array_is_channels_last (x0))
    tvw_array_set_channels_last (&call->out[0]);
  return TRUE;
}

/* torchvision's _infer_scale: 2 ** round (log2 (feature height / image
 * height)), in float32 like torch.tensor (approx_scale).log2 ().round ()
 * (half to even). */
static float
infer_scale (gint64 feature_h,
             double image_h)
{
  const float approx = (float) ((double) feature_h / image_h);

  return (float) pow (2.0, nearbyintf (log2f (approx)));
}

typedef struct
{
  const TvwOpCall *call;
  float            scale[TVW_MSRA_MAX_LEVELS];
  int              k_min, k_max;
} MsraJob;

static void
multi_scale_roi_align_rows (gpointer data,
                            gsize    begin,
                            gsize    end,
                            int      thread)
{
  const MsraJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwMultiScaleRoiAlignParams *p = call->params;
  const TvwRoiAlignParams rp = { p->out_h, p->out_w, 0, p->sampling_ratio, FALSE };
  const TvwArray *boxes = &call->in[0], *y = &call->out[0];
  const gint64 bs = boxes->stride[1];

  for (gsize row = begin; row < end; row++)
    {
      const gint64 k = (gint64) row / p->out_h;
      const int ph = (int) ((gint64) row % p->out_h);
      const float *b = (const float *) boxes->data + k * boxes->stride[0];
      const float box[4] = { b[0], b[bs], b[2 * bs], b[3 * bs] };
      /* LevelMapper, in float32 as torchvision. */
      const float s = sqrtf ((box[2] - box[0]) * (box[3] - box[1]));
      float target = floorf ((float) p->canonical_level + log2f (s / (float) p->canonical_scale) +
                             (float) p->eps);
      int level;

      target = CLAMP (target, (float) job->k_min, (float) job->k_max);
      level = (int) target - job->k_min;
      roi_align_row (&call->in[2 + level], &rp, job->scale[level], 0, box, ph, y,
                     (float *) y->data + k * y->stride[0]);
    }
}

static void
multi_scale_roi_align_run (TvwOpCall *call)
{
  const TvwArray *y = &call->out[0];
  const int n_levels = call->n_in - 2;
  const TvwArray *image = &call->in[1];
  const double image_h = (double) image->shape[image->rank - 2];
  MsraJob job = { call };

  if (tvw_array_numel (y) == 0)
    return;
  for (int l = 0; l < n_levels; l++)
    job.scale[l] = infer_scale (call->in[2 + l].shape[2], MAX (image_h, 1.0));
  /* k_min and k_max from the first and last scales (int () truncates). */
  job.k_min = (int) -log2f (job.scale[0]);
  job.k_max = (int) -log2f (job.scale[n_levels - 1]);
  /* Levels are consecutive powers of two in torchvision's FPNs; a mapping
   * outside the maps given reads the nearest one. */
  if (job.k_max - job.k_min + 1 > n_levels)
    job.k_max = job.k_min + n_levels - 1;
  tvw_parallel_range ((gsize) (y->shape[0] * y->shape[2]),
                      tvw_array_numel (y) < 4096 ? 1 : call->n_threads,
                      multi_scale_roi_align_rows, &job);
}

const TvwOpClass tvw_op_multi_scale_roi_align = {
  .name = "multi_scale_roi_align",
  .flags = TVW_OP_STRIDED,
  .infer = multi_scale_roi_align_infer,
  .run = multi_scale_roi_align_run,
};

/* ---- batched_nms ------------------------------------------------------- */

/* torchvision switches from the coordinate trick to per-class NMS above
 * this many box coordinates on the CPU. */
#define NMS_TRICK_MAX_NUMEL 4000

static gboolean
batched_nms_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwArray *boxes = &call->in[0], *scores = &call->in[1], *idxs = &call->in[2];
  gint64 k;

  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 1, 1, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 2, 1, 1, error) ||
      !tvw_op_check_elem (call, 2, TVW_ELEM_I64, error))
    return FALSE;

  k = boxes->shape[0];
  if (boxes->shape[1] != 4 || scores->shape[0] != k || idxs->shape[0] != k || k > G_MAXINT / 2)
    {
      char bs[TVW_SHAPE_CHARS];
      char ss[TVW_SHAPE_CHARS];
      char is[TVW_SHAPE_CHARS];

      tvw_array_format_shape (boxes, bs);
      tvw_array_format_shape (scores, ss);
      tvw_array_format_shape (idxs, is);
      tvw_op_set_error (call, error,
                        "boxes %s, scores %s and idxs %s: expected [K, 4], [K] and [K]",
                        bs, ss, is);
      return FALSE;
    }

  /* An upper bound: run gives the number kept. */
  tvw_array_init (&call->out[0], TVW_ELEM_I64, 1, &k);
  return TRUE;
}

/* Scratch: the visiting order, a merge buffer, the boxes NMS compares
 * (moved per class, or not) with their areas, and the suppressed flags. */
gsize
tvw_batched_nms_scratch (gint64 n)
{
  return (gsize) n * (2 * sizeof (int) + 5 * sizeof (float) + 1);
}

static gsize
batched_nms_scratch (const TvwOpCall *call)
{
  return tvw_batched_nms_scratch (call->in[0].shape[0]);
}

/* Decreasing score, then increasing index: a stable order. */
static inline gboolean
before (const float *scores,
        int          a,
        int          b)
{
  return scores[a] > scores[b] || (scores[a] == scores[b] && a < b) ||
         (isnan (scores[a]) && !isnan (scores[b]));
}

static void
sort_by_score (int         *order,
               int         *tmp,
               int          n,
               const float *scores)
{
  /* Bottom-up merge sort: no allocation, stable. */
  for (int width = 1; width < n; width *= 2)
    {
      for (int lo = 0; lo < n; lo += 2 * width)
        {
          int mid = MIN (lo + width, n), hi = MIN (lo + 2 * width, n);
          int i = lo, j = mid, o = lo;

          while (i < mid && j < hi)
            tmp[o++] = before (scores, order[j], order[i]) ? order[j++] : order[i++];
          while (i < mid)
            tmp[o++] = order[i++];
          while (j < hi)
            tmp[o++] = order[j++];
        }
      memcpy (order, tmp, n * sizeof (int));
    }
}

int
tvw_batched_nms (const float  *b,
                 const float  *scores,
                 const gint64 *idxs,
                 int           n,
                 double        iou_threshold,
                 gint64       *keep,
                 guint8       *scratch)
{
  int *order = (int *) scratch, *tmp = order + n;
  float *nb = (float *) (tmp + n), *area = nb + 4 * (gsize) n;
  guint8 *suppressed = (guint8 *) (area + n);
  const gboolean trick = (gint64) n * 4 <= NMS_TRICK_MAX_NUMEL;
  float max_coord = -INFINITY;
  int kept = 0;

  if (n == 0)
    return 0;

  for (int i = 0; i < 4 * n; i++)
    max_coord = MAX (max_coord, b[i]);
  for (int i = 0; i < n; i++)
    {
      /* idxs.to (boxes) · (max_coordinate + 1), in float as torchvision. */
      const float shift = trick ? (float) idxs[i] * (max_coord + 1.f) : 0.f;

      for (int j = 0; j < 4; j++)
        nb[4 * i + j] = b[4 * i + j] + shift;
      area[i] = (nb[4 * i + 2] - nb[4 * i]) * (nb[4 * i + 3] - nb[4 * i + 1]);
      order[i] = i;
      suppressed[i] = 0;
    }
  sort_by_score (order, tmp, n, scores);

  for (int a = 0; a < n; a++)
    {
      const int i = order[a];
      const float *bi = nb + 4 * i;

      if (suppressed[i])
        continue;
      keep[kept++] = i;
      for (int c = a + 1; c < n; c++)
        {
          const int j = order[c];
          const float *bj = nb + 4 * j;
          float w, h, inter;

          /* Per-class NMS never compares boxes of different classes. */
          if (suppressed[j] || (!trick && idxs[j] != idxs[i]))
            continue;
          w = MAX (0.f, MIN (bi[2], bj[2]) - MAX (bi[0], bj[0]));
          h = MAX (0.f, MIN (bi[3], bj[3]) - MAX (bi[1], bj[1]));
          inter = w * h;
          if (inter / (area[i] + area[j] - inter) > iou_threshold)
            suppressed[j] = 1;
        }
    }
  return kept;
}

static void
batched_nms_run (TvwOpCall *call)
{
  const TvwNmsParams *p = call->params;

  call->out[0].shape[0] = tvw_batched_nms (call->in[0].data, call->in[1].data, call->in[2].data,
                                           (int) call->in[0].shape[0], p->iou_threshold,
                                           call->out[0].data, call->scratch);
}

const TvwOpClass tvw_op_batched_nms = {
  .name = "batched_nms",
  .flags = TVW_OP_ROW_MAJOR | TVW_OP_HOST,
  .infer = batched_nms_infer,
  .scratch = batched_nms_scratch,
  .run = batched_nms_run,
};

/* ---- graph constructors ------------------------------------------------ */

TvwVal
tvw_net_roi_align (TvwNet   *net,
                   TvwVal    x,
                   TvwVal    rois,
                   int       out_h,
                   int       out_w,
                   double    spatial_scale,
                   int       sampling_ratio,
                   gboolean  aligned)
{
  const TvwRoiAlignParams p = { out_h, out_w, spatial_scale, sampling_ratio, aligned };
  const TvwVal in[2] = { x, rois };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_roi_align,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 2,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_batched_nms (TvwNet *net,
                     TvwVal  boxes,
                     TvwVal  scores,
                     TvwVal  idxs,
                     double  iou_threshold)
{
  const TvwNmsParams p = { iou_threshold };
  const TvwVal in[3] = { boxes, scores, idxs };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_batched_nms,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 3,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_multi_scale_roi_align (TvwNet       *net,
                               TvwVal        boxes,
                               TvwVal        image,
                               int           n_levels,
                               const TvwVal *features,
                               int           out_size,
                               int           sampling_ratio)
{
  const TvwMultiScaleRoiAlignParams p = {
    .out_h = out_size,
    .out_w = out_size,
    .sampling_ratio = sampling_ratio,
    .canonical_scale = 224,
    .canonical_level = 4,
    .eps = 1e-6,
  };
  TvwVal in[2 + TVW_MSRA_MAX_LEVELS];
  const TvwNodeSpec spec = {
    .cls = &tvw_op_multi_scale_roi_align,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 2 + n_levels,
    .in = in,
    .n_out = 1,
  };

  g_return_val_if_fail (n_levels >= 1 && n_levels <= TVW_MSRA_MAX_LEVELS, -1);
  in[0] = boxes;
  in[1] = image;
  memcpy (in + 2, features, n_levels * sizeof (TvwVal));
  return tvw_net_add_node (net, &spec, NULL);
}
