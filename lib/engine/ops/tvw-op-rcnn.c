/* tvw-op-rcnn.c — the data-dependent steps of the two-stage detectors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two host ops for one image, their output sizes depending on the scores
 * (the box decoding, clipping and top-k before them are tvw-op-boxes.c's),
 * and the mask and keypoint decoding of the detections.
 *
 * - rpn_proposals: the end of RegionProposalNetwork.filter_proposals:
 *   each level's best objectness logits (already top-k) turned into
 *   probabilities, their clipped boxes tested by remove_small_boxes (≥
 *   min_size) and score ≥ rpn_score_thresh, NMS per level
 *   (tvw_batched_nms () with the level as the class), the first
 *   post_nms_top_n kept.
 * - roi_candidates: the middle of RoIHeads.postprocess_detections: every
 *   (RoI, class) pair but the background's, RoI-major as torchvision
 *   flattens them, kept when its softmax score is > box_score_thresh and
 *   its box passes remove_small_boxes (1e-2); NMS and the rest follow
 *   (tvw_detection_finish ()).
 * - paste_masks: maskrcnn_inference's sigmoid of each detection's label
 *   and paste_masks_in_image (expand_masks, expand_boxes, a bilinear
 *   resize to the box, the part inside the image pasted), per box as
 *   torchvision's CPU path does.
 * - heatmaps_to_keypoints: each keypoint heat map resized (bicubic, A =
 *   -0.75) to its box and its first maximum taken, without materialising
 *   the resized map.
 *
 * Comparisons are in float32 as torchvision makes them (a Python float
 * threshold against a float tensor).
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

/* remove_small_boxes' test. */
static inline gboolean
big_enough (const float *box,
            float        min_size)
{
  return box[2] - box[0] >= min_size && box[3] - box[1] >= min_size;
}

/* ---- rpn_proposals ------------------------------------------------------ */

static gint64
n_candidates (const TvwOpCall *call)
{
  const TvwRpnProposalsParams *p = call->params;
  gint64 m = 0;

  for (int l = 0; l < p->n_levels; l++)
    m += call->in[l].shape[0];
  return m;
}

static gboolean
rpn_proposals_infer (TvwOpCall  *call,
                     GError    **error)
{
  const TvwRpnProposalsParams *p = call->params;
  gint64 shape[2];

  if (p->n_levels < 1 || call->n_in != 2 * p->n_levels || p->post_nms_top_n < 0)
    {
      tvw_op_set_invalid (call, error, "%d levels, %d inputs, post_nms_top_n %d", p->n_levels,
                          call->n_in, p->post_nms_top_n);
      return FALSE;
    }
  for (int l = 0; l < p->n_levels; l++)
    {
      const TvwArray *logits = &call->in[l], *boxes = &call->in[p->n_levels + l];

      if (!tvw_op_check_rank (call, l, 1, 1, error) ||
          !tvw_op_check_elem (call, l, TVW_ELEM_F32, error) ||
          !tvw_op_check_rank (call, p->n_levels + l, 2, 2, error) ||
          !tvw_op_check_elem (call, p->n_levels + l, TVW_ELEM_F32, error))
        return FALSE;
      if (boxes->shape[0] != logits->shape[0] || boxes->shape[1] != 4)
        {
          char ls[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

          tvw_array_format_shape (logits, ls);
          tvw_array_format_shape (boxes, bs);
          tvw_op_set_error (call, error, "level %d: logits %s and boxes %s, expected [K] and [K, 4]",
                            l, ls, bs);
          return FALSE;
        }
    }

  shape[0] = MIN (n_candidates (call), (gint64) p->post_nms_top_n);
  shape[1] = 4;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, shape);
  return TRUE;
}

/* Scratch: the candidates' levels and kept indices, boxes and
 * probabilities, and the NMS's own. */
static gsize
rpn_proposals_scratch (const TvwOpCall *call)
{
  const gint64 m = n_candidates (call);

  return (gsize) m * (2 * sizeof (gint64) + 5 * sizeof (float)) + tvw_batched_nms_scratch (m);
}

static void
rpn_proposals_run (TvwOpCall *call)
{
  const TvwRpnProposalsParams *p = call->params;
  const gint64 m = n_candidates (call);
  gint64 *levels = (gint64 *) call->scratch, *keep = levels + m;
  float *boxes = (float *) (keep + m), *scores = boxes + 4 * m;
  guint8 *nms_scratch = (guint8 *) (scores + m);
  float *out = call->out[0].data;
  gint64 n = 0, kept;

  for (int l = 0; l < p->n_levels; l++)
    {
      const float *logits = call->in[l].data, *lb = call->in[p->n_levels + l].data;

      for (gint64 i = 0; i < call->in[l].shape[0]; i++)
        {
          const float score = 1.f / (1.f + expf (-logits[i]));

          if (!big_enough (lb + 4 * i, (float) p->min_size) || !(score >= (float) p->score_thresh))
            continue;
          memcpy (boxes + 4 * n, lb + 4 * i, 4 * sizeof (float));
          scores[n] = score;
          levels[n] = l;
          n++;
        }
    }

  kept = tvw_batched_nms (boxes, scores, levels, (int) n, p->nms_thresh, keep, nms_scratch);
  kept = MIN (kept, (gint64) p->post_nms_top_n);
  for (gint64 i = 0; i < kept; i++)
    memcpy (out + 4 * i, boxes + 4 * keep[i], 4 * sizeof (float));
  call->out[0].shape[0] = kept;
}

const TvwOpClass tvw_op_rpn_proposals = {
  .name = "rpn_proposals",
  .flags = TVW_OP_ROW_MAJOR | TVW_OP_HOST,
  .infer = rpn_proposals_infer,
  .scratch = rpn_proposals_scratch,
  .run = rpn_proposals_run,
};

/* ---- roi_candidates ----------------------------------------------------- */

static gboolean
roi_candidates_infer (TvwOpCall  *call,
                      GError    **error)
{
  const TvwArray *scores = &call->in[0], *boxes = &call->in[1];
  gint64 k, c, m, shape[2];

  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 2, 2, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
    return FALSE;
  k = scores->shape[0];
  c = scores->shape[1];
  if (c < 1 || boxes->shape[0] != k || boxes->shape[1] != 4 * c)
    {
      char ss[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (scores, ss);
      tvw_array_format_shape (boxes, bs);
      tvw_op_set_error (call, error, "scores %s and boxes %s: expected [K, C] and [K, 4·C]", ss, bs);
      return FALSE;
    }

  m = k * (c - 1);
  shape[0] = m;
  shape[1] = 4;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, shape);
  tvw_array_init (&call->out[1], TVW_ELEM_F32, 1, &m);
  tvw_array_init (&call->out[2], TVW_ELEM_I64, 1, &m);
  return TRUE;
}

static void
roi_candidates_run (TvwOpCall *call)
{
  const TvwRoiCandidatesParams *p = call->params;
  const gint64 k = call->in[0].shape[0], c = call->in[0].shape[1];
  const float *scores = call->in[0].data, *boxes = call->in[1].data;
  float *out_boxes = call->out[0].data, *out_scores = call->out[1].data;
  gint64 *out_labels = call->out[2].data;
  gint64 n = 0;

  for (gint64 i = 0; i < k; i++)
    for (gint64 j = 1; j < c; j++)
      {
        const float score = scores[i * c + j], *box = boxes + 4 * (i * c + j);

        if (!(score > (float) p->score_thresh) || !big_enough (box, (float) p->min_size))
          continue;
        memcpy (out_boxes + 4 * n, box, 4 * sizeof (float));
        out_scores[n] = score;
        out_labels[n] = j;
        n++;
      }
  for (int o = 0; o < 3; o++)
    call->out[o].shape[0] = n;
}

const TvwOpClass tvw_op_roi_candidates = {
  .name = "roi_candidates",
  .flags = TVW_OP_ROW_MAJOR | TVW_OP_HOST,
  .infer = roi_candidates_infer,
  .run = roi_candidates_run,
};

/* ---- paste_masks -------------------------------------------------------- */

static gboolean
paste_masks_infer (TvwOpCall  *call,
                   GError    **error)
{
  const TvwArray *logits = &call->in[0], *labels = &call->in[1], *boxes = &call->in[2];
  const TvwArray *image = &call->in[3];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 1, 1, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_I64, error) ||
      !tvw_op_check_rank (call, 2, 2, 2, error) ||
      !tvw_op_check_elem (call, 2, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 3, 2, TVW_MAX_RANK, error))
    return FALSE;
  if (labels->shape[0] != logits->shape[0] || boxes->shape[0] != logits->shape[0] ||
      boxes->shape[1] != 4 || logits->shape[2] < 1 || logits->shape[3] < 1)
    {
      char ms[TVW_SHAPE_CHARS], ls[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (logits, ms);
      tvw_array_format_shape (labels, ls);
      tvw_array_format_shape (boxes, bs);
      tvw_op_set_error (call, error,
                        "mask logits %s, labels %s and boxes %s: expected [K, C, M, M], [K] and "
                        "[K, 4]", ms, ls, bs);
      return FALSE;
    }

  shape[0] = logits->shape[0];
  shape[1] = 1;
  shape[2] = image->shape[image->rank - 2];
  shape[3] = image->shape[image->rank - 1];
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  return TRUE;
}

/* F.interpolate (bilinear, align_corners=False, size=@out) along one
 * axis of @in samples, in float as PyTorch's CPU kernel: the source
 * index of output @i and its two weights. */
static inline void
linear_source (gint64  in,
               gint64  out,
               gint64  i,
               gint64 *i0,
               gint64 *i1,
               float  *l1)
{
  const float scale = (float) in / (float) out;
  const float src = MAX (scale * ((float) i + 0.5f) - 0.5f, 0.f);

  *i0 = (gint64) src;
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l1 = CLAMP (src - (float) *i0, 0.f, 1.f);
}

typedef struct
{
  const TvwOpCall *call;
  float           *padded;      /* per thread: (M + 2)² */
} PasteJob;

static void
paste_masks_rows (gpointer data,
                  gsize    begin,
                  gsize    end,
                  int      thread)
{
  const PasteJob *job = data;
  const TvwOpCall *call = job->call;
  const TvwArray *logits = &call->in[0], *y = &call->out[0];
  const gint64 c = logits->shape[1], mh = logits->shape[2], mw = logits->shape[3];
  const gint64 ph = mh + 2, pw = mw + 2, im_h = y->shape[2], im_w = y->shape[3];
  const gint64 *labels = call->in[1].data;
  const float *boxes = call->in[2].data;
  float *padded = job->padded + thread * ph * pw;

  for (gsize k = begin; k < end; k++)
    {
      const gint64 label = CLAMP (labels[k], 0, c - 1);
      const float *m = (const float *) logits->data + (k * c + label) * mh * mw;
      const float *b = boxes + 4 * k;
      float *dst = (float *) y->data + k * im_h * im_w;
      /* expand_masks (padding 1: the scale of the width, M + 2 over M)
       * and expand_boxes, in float32. */
      const float scale = (float) ((double) pw / (double) mw);
      const float w_half = (b[2] - b[0]) * 0.5f * scale, h_half = (b[3] - b[1]) * 0.5f * scale;
      const float x_c = (b[2] + b[0]) * 0.5f, y_c = (b[3] + b[1]) * 0.5f;
      /* .to (torch.int64) truncates. */
      const gint64 bx0 = (gint64) (x_c - w_half), bx1 = (gint64) (x_c + w_half);
      const gint64 by0 = (gint64) (y_c - h_half), by1 = (gint64) (y_c + h_half);
      const gint64 w = MAX (bx1 - bx0 + 1, 1), h = MAX (by1 - by0 + 1, 1);
      const gint64 x_0 = MAX (bx0, 0), x_1 = MIN (bx1 + 1, im_w);
      const gint64 y_0 = MAX (by0, 0), y_1 = MIN (by1 + 1, im_h);

      memset (dst, 0, im_h * im_w * sizeof (float));
      /* The label's probabilities inside a border of zeros. */
      memset (padded, 0, ph * pw * sizeof (float));
      for (gint64 i = 0; i < mh; i++)
        for (gint64 j = 0; j < mw; j++)
          padded[(i + 1) * pw + j + 1] = 1.f / (1.f + expf (-m[i * mw + j]));

      /* paste_mask_in_image: the mask resized to h×w, its part inside the
       * image written at the box. */
      for (gint64 yy = y_0; yy < y_1; yy++)
        {
          gint64 r0, r1;
          float lr;

          linear_source (ph, h, yy - by0, &r0, &r1, &lr);
          for (gint64 xx = x_0; xx < x_1; xx++)
            {
              gint64 c0, c1;
              float lc;

              linear_source (pw, w, xx - bx0, &c0, &c1, &lc);
              dst[yy * im_w + xx] =
                (1.f - lr) * ((1.f - lc) * padded[r0 * pw + c0] + lc * padded[r0 * pw + c1]) +
                lr * ((1.f - lc) * padded[r1 * pw + c0] + lc * padded[r1 * pw + c1]);
            }
        }
    }
}

static gsize
paste_masks_scratch (const TvwOpCall *call)
{
  return (gsize) (call->in[0].shape[2] + 2) * (gsize) (call->in[0].shape[3] + 2) * sizeof (float);
}

static void
paste_masks_run (TvwOpCall *call)
{
  const PasteJob job = { call, (float *) call->scratch };

  if (call->out[0].shape[0] == 0)
    return;
  tvw_parallel_range ((gsize) call->out[0].shape[0], call->n_threads, paste_masks_rows,
                      (gpointer) &job);
}

const TvwOpClass tvw_op_paste_masks = {
  .name = "paste_masks",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = paste_masks_infer,
  .scratch = paste_masks_scratch,
  .run = paste_masks_run,
};

/* ---- heatmaps_to_keypoints ---------------------------------------------- */

static gboolean
heatmaps_to_keypoints_infer (TvwOpCall  *call,
                             GError    **error)
{
  const TvwArray *maps = &call->in[0], *boxes = &call->in[1];
  gint64 shape[3];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 2, 2, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
    return FALSE;
  if (boxes->shape[0] != maps->shape[0] || boxes->shape[1] != 4 || maps->shape[2] < 1 ||
      maps->shape[3] < 1)
    {
      char ms[TVW_SHAPE_CHARS], bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (maps, ms);
      tvw_array_format_shape (boxes, bs);
      tvw_op_set_error (call, error, "heat maps %s and boxes %s: expected [K, P, H, W] and [K, 4]",
                        ms, bs);
      return FALSE;
    }

  shape[0] = maps->shape[0];
  shape[1] = maps->shape[1];
  shape[2] = 3;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 3, shape);
  tvw_array_init (&call->out[1], TVW_ELEM_F32, 2, shape);
  return TRUE;
}

/* upsample_bicubic2d's cubic convolution (A = -0.75) of four samples. */
static inline float
cubic (float x0,
       float x1,
       float x2,
       float x3,
       float t)
{
  const float a = -0.75f, u = 1.f - t;
  const float c0 = ((a * (t + 1.f) - 5.f * a) * (t + 1.f) + 8.f * a) * (t + 1.f) - 4.f * a;
  const float c1 = ((a + 2.f) * t - (a + 3.f)) * t * t + 1.f;
  const float c2 = ((a + 2.f) * u - (a + 3.f)) * u * u + 1.f;
  const float c3 = ((a * (u + 1.f) - 5.f * a) * (u + 1.f) + 8.f * a) * (u + 1.f) - 4.f * a;

  return x0 * c0 + x1 * c1 + x2 * c2 + x3 * c3;
}

static void
heatmaps_to_keypoints_rows (gpointer data,
                            gsize    begin,
                            gsize    end,
                            int      thread)
{
  const TvwOpCall *call = data;
  const TvwArray *maps = &call->in[0];
  const gint64 np = maps->shape[1], mh = maps->shape[2], mw = maps->shape[3];
  const float *boxes = call->in[1].data;
  float *kps = call->out[0].data, *kps_scores = call->out[1].data;

  for (gsize row = begin; row < end; row++)
    {
      const gint64 i = (gint64) row / np, p = (gint64) row % np;
      const float *b = boxes + 4 * i;
      const float *map = (const float *) maps->data + (i * np + p) * mh * mw;
      const float widths = MAX (b[2] - b[0], 1.f), heights = MAX (b[3] - b[1], 1.f);
      const gint64 rw = (gint64) ceilf (widths), rh = (gint64) ceilf (heights);
      /* F.interpolate (size=(rh, rw), mode="bicubic", align_corners=False):
       * source scale in float, indices clamped when read. */
      const float scale_x = (float) mw / (float) rw, scale_y = (float) mh / (float) rh;
      float best = -INFINITY;
      gint64 best_x = 0, best_y = 0;

      for (gint64 oy = 0; oy < rh; oy++)
        {
          const float ry = scale_y * ((float) oy + 0.5f) - 0.5f, fy = floorf (ry);
          const gint64 iy = (gint64) fy;
          const float ty = ry - fy;
          gint64 ys[4];

          for (int k = 0; k < 4; k++)
            ys[k] = CLAMP (iy - 1 + k, 0, mh - 1);
          for (gint64 ox = 0; ox < rw; ox++)
            {
              const float rx = scale_x * ((float) ox + 0.5f) - 0.5f, fx = floorf (rx);
              const gint64 ix = (gint64) fx;
              const float tx = rx - fx;
              gint64 xs[4];
              float r[4], v;

              for (int k = 0; k < 4; k++)
                xs[k] = CLAMP (ix - 1 + k, 0, mw - 1);
              for (int k = 0; k < 4; k++)
                {
                  const float *line = map + ys[k] * mw;

                  r[k] = cubic (line[xs[0]], line[xs[1]], line[xs[2]], line[xs[3]], tx);
                }
              v = cubic (r[0], r[1], r[2], r[3], ty);
              /* argmax: the first of equal maxima, row-major. */
              if (v > best)
                {
                  best = v;
                  best_x = ox;
                  best_y = oy;
                }
            }
        }

      kps[3 * row] = ((float) best_x + 0.5f) * (widths / (float) rw) + b[0];
      kps[3 * row + 1] = ((float) best_y + 0.5f) * (heights / (float) rh) + b[1];
      kps[3 * row + 2] = 1.f;
      kps_scores[row] = best;
    }
}

static void
heatmaps_to_keypoints_run (TvwOpCall *call)
{
  const gsize n = (gsize) (call->in[0].shape[0] * call->in[0].shape[1]);

  if (n > 0)
    tvw_parallel_range (n, call->n_threads, heatmaps_to_keypoints_rows, call);
}

const TvwOpClass tvw_op_heatmaps_to_keypoints = {
  .name = "heatmaps_to_keypoints",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = heatmaps_to_keypoints_infer,
  .run = heatmaps_to_keypoints_run,
};

/* ---- graph constructors ------------------------------------------------- */

TvwVal
tvw_net_rpn_proposals (TvwNet                      *net,
                       const TvwVal                *logits,
                       const TvwVal                *boxes,
                       const TvwRpnProposalsParams *params)
{
  const int n_levels = MAX (params->n_levels, 0);
  g_autofree TvwVal *in = g_new (TvwVal, 2 * n_levels + 1);
  const TvwNodeSpec spec = {
    .cls = &tvw_op_rpn_proposals,
    .params = params,
    .params_size = sizeof *params,
    .n_in = 2 * n_levels,
    .in = in,
    .n_out = 1,
  };

  memcpy (in, logits, n_levels * sizeof (TvwVal));
  memcpy (in + n_levels, boxes, n_levels * sizeof (TvwVal));
  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_roi_candidates (TvwNet                       *net,
                        TvwVal                        scores,
                        TvwVal                        boxes,
                        const TvwRoiCandidatesParams *params,
                        TvwVal                        outputs[3])
{
  const TvwVal in[2] = { scores, boxes };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_roi_candidates,
    .params = params,
    .params_size = sizeof *params,
    .n_in = 2,
    .in = in,
    .n_out = 3,
  };

  tvw_net_add_node (net, &spec, outputs);
}

TvwVal
tvw_net_paste_masks (TvwNet *net,
                     TvwVal  mask_logits,
                     TvwVal  labels,
                     TvwVal  boxes,
                     TvwVal  image)
{
  const TvwVal in[4] = { mask_logits, labels, boxes, image };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_paste_masks,
    .n_in = 4,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_heatmaps_to_keypoints (TvwNet *net,
                               TvwVal  maps,
                               TvwVal  boxes,
                               TvwVal  outputs[2])
{
  const TvwVal in[2] = { maps, boxes };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_heatmaps_to_keypoints,
    .n_in = 2,
    .in = in,
    .n_out = 2,
  };

  tvw_net_add_node (net, &spec, outputs);
}
