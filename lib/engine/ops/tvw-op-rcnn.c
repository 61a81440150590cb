/* tvw-op-rcnn.c — the data-dependent steps of the two-stage detectors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * torchvision's RegionProposalNetwork.filter_proposals and
 * RoIHeads.postprocess_detections for one image, as host ops: their
 * output sizes depend on the scores.  Everything is float32 in the order
 * torchvision computes it (the box decoding of BoxCoder.decode_single, the
 * clamp of clip_boxes_to_image, remove_small_boxes' ≥ test), so that the
 * boxes agree to rounding; the NMS is tvw_batched_nms ().
 *
 * Top-k keeps the larger index last among equal logits (torch.topk does
 * not say which of two tied values comes first; ties of random float
 * logits do not happen in practice).
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-ops-private.h"

/* BoxCoder.decode_single for one box: @rel (stride @rs) relative to @ref
 * with @weights, dw and dh clamped at @clip. */
static inline void
decode_box (const float  *rel,
            gint64        rs,
            const float  *ref,
            const double *weights,
            float         clip,
            float        *out)
{
  const float widths = ref[2] - ref[0], heights = ref[3] - ref[1];
  const float ctr_x = ref[0] + 0.5f * widths, ctr_y = ref[1] + 0.5f * heights;
  const float dx = rel[0] / (float) weights[0], dy = rel[rs] / (float) weights[1];
  const float dw = MIN (rel[2 * rs] / (float) weights[2], clip);
  const float dh = MIN (rel[3 * rs] / (float) weights[3], clip);
  const float pred_ctr_x = dx * widths + ctr_x, pred_ctr_y = dy * heights + ctr_y;
  const float half_w = 0.5f * (expf (dw) * widths), half_h = 0.5f * (expf (dh) * heights);

  out[0] = pred_ctr_x - half_w;
  out[1] = pred_ctr_y - half_h;
  out[2] = pred_ctr_x + half_w;
  out[3] = pred_ctr_y + half_h;
}

/* clip_boxes_to_image, then remove_small_boxes' test. */
static inline gboolean
clip_and_check (float *box,
                float  height,
                float  width,
                float  min_size)
{
  box[0] = CLAMP (box[0], 0.f, width);
  box[2] = CLAMP (box[2], 0.f, width);
  box[1] = CLAMP (box[1], 0.f, height);
  box[3] = CLAMP (box[3], 0.f, height);
  return box[2] - box[0] >= min_size && box[3] - box[1] >= min_size;
}

/* torchvision's BoxCoder default bbox_xform_clip, log (1000 / 16). */
#define BBOX_XFORM_CLIP ((float) 4.135166556742356)

/* ---- rpn_proposals ------------------------------------------------------ */

static gint64
level_candidates (const TvwOpCall *call,
                  int              l,
                  gint64          *n_anchors)
{
  const TvwRpnProposalsParams *p = call->params;
  const TvwArray *ob = &call->in[2 + l];
  const gint64 n = ob->shape[1] * ob->shape[2] * ob->shape[3];

  if (n_anchors != NULL)
    *n_anchors = n;
  return MIN (n, (gint64) p->pre_nms_top_n);
}

static gint64
total_candidates (const TvwOpCall *call)
{
  const TvwRpnProposalsParams *p = call->params;
  gint64 m = 0;

  for (int l = 0; l < p->n_levels; l++)
    m += level_candidates (call, l, NULL);
  return m;
}

static gboolean
rpn_proposals_infer (TvwOpCall  *call,
                     GError    **error)
{
  const TvwRpnProposalsParams *p = call->params;
  const TvwArray *anchors = &call->in[0];
  gint64 n_anchors = 0, shape[2];

  if (p->n_levels < 1 || call->n_in != 2 + 2 * p->n_levels || p->pre_nms_top_n < 0 ||
      p->post_nms_top_n < 0)
    {
      tvw_op_set_invalid (call, error, "%d levels, %d inputs, top-n %d/%d", p->n_levels,
                          call->n_in, p->pre_nms_top_n, p->post_nms_top_n);
      return FALSE;
    }
  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_detection_check_size (call, 1, error))
    return FALSE;

  for (int l = 0; l < p->n_levels; l++)
    {
      const TvwArray *ob = &call->in[2 + l], *d = &call->in[2 + p->n_levels + l];

      if (!tvw_op_check_rank (call, 2 + l, 4, 4, error) ||
          !tvw_op_check_elem (call, 2 + l, TVW_ELEM_F32, error) ||
          !tvw_op_check_rank (call, 2 + p->n_levels + l, 4, 4, error) ||
          !tvw_op_check_elem (call, 2 + p->n_levels + l, TVW_ELEM_F32, error))
        return FALSE;
      if (ob->shape[0] != 1 || d->shape[0] != 1 || d->shape[1] != 4 * ob->shape[1] ||
          d->shape[2] != ob->shape[2] || d->shape[3] != ob->shape[3])
        {
          char os[TVW_SHAPE_CHARS], ds[TVW_SHAPE_CHARS];

          tvw_array_format_shape (ob, os);
          tvw_array_format_shape (d, ds);
          tvw_op_set_error (call, error,
                            "level %d: objectness %s and deltas %s, expected [1, A, H, W] and "
                            "[1, 4·A, H, W] (one image at a time)", l, os, ds);
          return FALSE;
        }
      n_anchors += ob->shape[1] * ob->shape[2] * ob->shape[3];
    }
  if (anchors->shape[0] != n_anchors || anchors->shape[1] != 4)
    {
      char as[TVW_SHAPE_CHARS];

      tvw_array_format_shape (anchors, as);
      tvw_op_set_error (call, error, "anchors %s for %" G_GINT64_FORMAT " predictions", as,
                        n_anchors);
      return FALSE;
    }

  shape[0] = MIN (total_candidates (call), (gint64) p->post_nms_top_n);
  shape[1] = 4;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, shape);
  return TRUE;
}

/* Scratch: a heap of a level's top indices, then the candidates' boxes,
 * scores, levels and kept indices, and the NMS's own. */
static gsize
rpn_proposals_scratch (const TvwOpCall *call)
{
  const gsize m = (gsize) total_candidates (call);

  return m * (sizeof (gint64) + 5 * sizeof (float) + 2 * sizeof (gint64)) +
         tvw_batched_nms_scratch ((gint64) m) + 64;
}

/* Whether logit @i ranks before logit @j: larger, then the lower index. */
static inline gboolean
ranks_before (const float *v,
              gint64       i,
              gint64       j)
{
  return v[i] > v[j] || (v[i] == v[j] && i < j);
}

/* Restores the heap property below @root of the min-heap @heap[0, n)
 * whose root is the worst-ranked index. */
static void
sift_down (gint64      *heap,
           gint64       n,
           gint64       root,
           const float *v)
{
  for (;;)
    {
      gint64 worst = root, l = 2 * root + 1, r = l + 1, t;

      if (l < n && ranks_before (v, heap[worst], heap[l]))
        worst = l;
      if (r < n && ranks_before (v, heap[worst], heap[r]))
        worst = r;
      if (worst == root)
        return;
      t = heap[root];
      heap[root] = heap[worst];
      heap[worst] = t;
      root = worst;
    }
}

/* torch.topk (v[0, n), k): the indices of the k largest, best first. */
static void
top_k (const float *v,
       gint64       n,
       gint64       k,
       gint64      *heap)
{
  if (k == 0)
    return;
  for (gint64 i = 0; i < k; i++)
    heap[i] = i;
  for (gint64 i = k / 2 - 1; i >= 0; i--)
    sift_down (heap, k, i, v);
  for (gint64 i = k; i < n; i++)
    if (ranks_before (v, i, heap[0]))
      {
        heap[0] = i;
        sift_down (heap, k, 0, v);
      }
  /* Heap sort: the worst goes last. */
  for (gint64 end = k - 1; end > 0; end--)
    {
      gint64 t = heap[0];

      heap[0] = heap[end];
      heap[end] = t;
      sift_down (heap, end, 0, v);
    }
}

static void
rpn_proposals_run (TvwOpCall *call)
{
  static const double unit[4] = { 1, 1, 1, 1 };
  const TvwRpnProposalsParams *p = call->params;
  const gint64 m = total_candidates (call);
  const float height = (float) tvw_detection_size_at (&call->in[1], 0);
  const float width = (float) tvw_detection_size_at (&call->in[1], 1);
  const float *anchors = call->in[0].data;
  gint64 *heap = (gint64 *) call->scratch, *levels = heap + m, *keep = levels + m;
  float *boxes = (float *) (keep + m), *scores = boxes + 4 * m;
  guint8 *nms_scratch = (guint8 *) (scores + m);
  float *out = call->out[0].data;
  gint64 anchor0 = 0, n = 0, kept;

  for (int l = 0; l < p->n_levels; l++)
    {
      const TvwArray *ob = &call->in[2 + l];
      const float *logits = ob->data, *deltas = call->in[2 + p->n_levels + l].data;
      const gint64 a_count = ob->shape[1], hw = ob->shape[2] * ob->shape[3];
      gint64 n_anchors, k = level_candidates (call, l, &n_anchors);

      /* The logits are A×H×W; torchvision ranks them in (H, W, A) order. */
      top_k (logits, n_anchors, k, heap);
      for (gint64 t = 0; t < k; t++)
        {
          const gint64 i = heap[t], a = i / hw, pos = i % hw;
          const float logit = logits[i];
          float *box = boxes + 4 * n, score;

          decode_box (deltas + 4 * a * hw + pos, hw, anchors + 4 * (anchor0 + pos * a_count + a),
                      unit, BBOX_XFORM_CLIP, box);
          score = 1.f / (1.f + expf (-logit));
          if (!clip_and_check (box, height, width, (float) p->min_size) ||
              !(score >= (float) p->score_thresh))
            continue;
          scores[n] = score;
          levels[n] = l;
          n++;
        }
      anchor0 += n_anchors;
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

/* ---- roi_detections ----------------------------------------------------- */

static gboolean
roi_detections_infer (TvwOpCall  *call,
                      GError    **error)
{
  const TvwRoiDetectionsParams *p = call->params;
  const TvwArray *logits = &call->in[0], *reg = &call->in[1], *props = &call->in[2];
  gint64 k, c, d, shape[2];

  if (!tvw_op_check_rank (call, 0, 2, 2, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 1, 2, 2, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error) ||
      !tvw_op_check_rank (call, 2, 2, 2, error) ||
      !tvw_op_check_elem (call, 2, TVW_ELEM_F32, error) ||
      !tvw_detection_check_size (call, 3, error))
    return FALSE;
  k = logits->shape[0];
  c = logits->shape[1];
  if (c < 1 || reg->shape[0] != k || reg->shape[1] != 4 * c || props->shape[0] != k ||
      props->shape[1] != 4)
    {
      char ls[TVW_SHAPE_CHARS], rs[TVW_SHAPE_CHARS], ps[TVW_SHAPE_CHARS];

      tvw_array_format_shape (logits, ls);
      tvw_array_format_shape (reg, rs);
      tvw_array_format_shape (props, ps);
      tvw_op_set_error (call, error,
                        "class logits %s, box regression %s and proposals %s: expected [K, C], "
                        "[K, 4·C] and [K, 4]", ls, rs, ps);
      return FALSE;
    }
  if (p->detections_per_img < 0)
    {
      tvw_op_set_invalid (call, error, "detections_per_img %d", p->detections_per_img);
      return FALSE;
    }

  d = MIN (k * (c - 1), (gint64) p->detections_per_img);
  shape[0] = d;
  shape[1] = 4;
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, shape);
  tvw_array_init (&call->out[1], TVW_ELEM_F32, 1, &d);
  tvw_array_init (&call->out[2], TVW_ELEM_I64, 1, &d);
  return TRUE;
}

/* Scratch: one row's probabilities, then every (box, class) candidate's
 * box, score, label and kept index, and the NMS's own. */
static gsize
roi_detections_scratch (const TvwOpCall *call)
{
  const gint64 c = call->in[0].shape[1], m = call->in[0].shape[0] * MAX (c - 1, 0);

  return (gsize) c * sizeof (float) + 64 +
         (gsize) m * (5 * sizeof (float) + 2 * sizeof (gint64)) + tvw_batched_nms_scratch (m);
}

static void
roi_detections_run (TvwOpCall *call)
{
  const TvwRoiDetectionsParams *p = call->params;
  const TvwArray *logits = &call->in[0];
  const gint64 k = logits->shape[0], c = logits->shape[1], m = k * MAX (c - 1, 0);
  const float height = (float) tvw_detection_size_at (&call->in[3], 0);
  const float width = (float) tvw_detection_size_at (&call->in[3], 1);
  const float *reg = call->in[1].data, *props = call->in[2].data;
  float *prob = (float *) call->scratch;
  gint64 *labels = (gint64 *) (call->scratch + ((c * sizeof (float) + 63) & ~(gsize) 63));
  gint64 *keep = labels + m;
  float *boxes = (float *) (keep + m), *scores = boxes + 4 * m;
  guint8 *nms_scratch = (guint8 *) (scores + m);
  float *out_boxes = call->out[0].data, *out_scores = call->out[1].data;
  gint64 *out_labels = call->out[2].data;
  gint64 n = 0, kept;

  for (gint64 i = 0; i < k; i++)
    {
      const float *row = (const float *) logits->data + i * c;
      float max = -INFINITY, sum = 0.f;

      /* F.softmax (class_logits, -1) */
      for (gint64 j = 0; j < c; j++)
        max = MAX (max, row[j]);
      for (gint64 j = 0; j < c; j++)
        {
          prob[j] = expf (row[j] - max);
          sum += prob[j];
        }
      /* The background (class 0) is dropped. */
      for (gint64 j = 1; j < c; j++)
        {
          const float score = prob[j] / sum;
          float *box = boxes + 4 * n;

          if (!(score > (float) p->score_thresh))
            continue;
          decode_box (reg + i * 4 * c + 4 * j, 1, props + 4 * i, p->weights, BBOX_XFORM_CLIP, box);
          if (!clip_and_check (box, height, width, (float) p->min_size))
            continue;
          scores[n] = score;
          labels[n] = j;
          n++;
        }
    }

  kept = tvw_batched_nms (boxes, scores, labels, (int) n, p->nms_thresh, keep, nms_scratch);
  kept = MIN (kept, (gint64) p->detections_per_img);
  for (gint64 i = 0; i < kept; i++)
    {
      memcpy (out_boxes + 4 * i, boxes + 4 * keep[i], 4 * sizeof (float));
      out_scores[i] = scores[keep[i]];
      out_labels[i] = labels[keep[i]];
    }
  for (int o = 0; o < 3; o++)
    call->out[o].shape[0] = kept;
}

const TvwOpClass tvw_op_roi_detections = {
  .name = "roi_detections",
  .flags = TVW_OP_ROW_MAJOR | TVW_OP_HOST,
  .infer = roi_detections_infer,
  .scratch = roi_detections_scratch,
  .run = roi_detections_run,
};

/* ---- graph constructors ------------------------------------------------- */

TvwVal
tvw_net_rpn_proposals (TvwNet                      *net,
                       TvwVal                       anchors,
                       TvwVal                       image_size,
                       const TvwVal                *objectness,
                       const TvwVal                *deltas,
                       const TvwRpnProposalsParams *params)
{
  const int n_levels = params->n_levels;
  g_autofree TvwVal *in = g_new (TvwVal, 2 + 2 * MAX (n_levels, 0));
  const TvwNodeSpec spec = {
    .cls = &tvw_op_rpn_proposals,
    .params = params,
    .params_size = sizeof *params,
    .n_in = 2 + 2 * MAX (n_levels, 0),
    .in = in,
    .n_out = 1,
  };

  in[0] = anchors;
  in[1] = image_size;
  for (int l = 0; l < n_levels; l++)
    {
      in[2 + l] = objectness[l];
      in[2 + n_levels + l] = deltas[l];
    }
  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_roi_detections (TvwNet                       *net,
                        TvwVal                        class_logits,
                        TvwVal                        box_regression,
                        TvwVal                        proposals,
                        TvwVal                        image_size,
                        const TvwRoiDetectionsParams *params,
                        TvwVal                        outputs[3])
{
  const TvwVal in[4] = { class_logits, box_regression, proposals, image_size };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_roi_detections,
    .params = params,
    .params_size = sizeof *params,
    .n_in = 4,
    .in = in,
    .n_out = 3,
  };

  tvw_net_add_node (net, &spec, outputs);
}
