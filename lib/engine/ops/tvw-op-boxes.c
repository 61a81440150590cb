/* tvw-op-boxes.c — the box arithmetic of torchvision's detection models
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What models/detection/ computes outside its modules, in float32 like
 * torchvision on the CPU:
 *
 * - pad_to_multiple: GeneralizedRCNNTransform.batch_images for one size
 *   of batch: zeros at the bottom and right up to a multiple of
 *   size_divisible.
 * - anchor_generator: AnchorGenerator.forward: the cell anchors of each
 *   level (round ([-w, -h, w, h] / 2) of every aspect ratio × size, ratio
 *   major) moved by the level's stride (padded image size // feature
 *   size) over its grid, row by row; one output per level.  Inputs are
 *   only read for their shapes, so the anchors follow any input size.
 * - box_decode: BoxCoder.decode_single (weights, dw and dh clamped at
 *   log (1000 / 16)) or BoxLinearCoder.decode (FCOS), each row of codes
 *   holding one or more groups of four; then, with a third input,
 *   clip_boxes_to_image to that input's last two dimensions.
 * - rescale_boxes: GeneralizedRCNNTransform.postprocess's resize_boxes
 *   (and resize_keypoints for K×P×3): coordinates times original size /
 *   resized size, both taken from the shapes of two images.
 * - remove_small_boxes (host): the indices of boxes at least min_size wide
 *   and high.
 * - score_topk (host): the candidate selection of RetinaNet, FCOS and SSD
 *   postprocessing: scores (sigmoid of logits, FCOS's sqrt of sigmoid ·
 *   sigmoid (centerness), or as given) over a threshold, the k best of
 *   them (all classes together, or per class as SSD does), by decreasing
 *   score; outputs their scores, rows (anchors) and classes.
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-ops-private.h"

static inline float
elem_f32 (const TvwArray *a,
          gint64          i,
          gint64          j)
{
  return ((const float *) a->data)[i * a->stride[0] + j * a->stride[1]];
}

static gboolean
check_image_shape (TvwOpCall  *call,
                   int         input,
                   GError    **error)
{
  return tvw_op_check_rank (call, input, 2, TVW_MAX_RANK, error);
}

static inline gint64
image_h (const TvwArray *a)
{
  return a->shape[a->rank - 2];
}

static inline gint64
image_w (const TvwArray *a)
{
  return a->shape[a->rank - 1];
}

/* ---- pad_to_multiple --------------------------------------------------- */

static gint64
round_up (gint64 size,
          int    multiple)
{
  /* math.ceil (float (size) / stride) * stride */
  return multiple > 1 ? (size + multiple - 1) / multiple * multiple : size;
}

static gboolean
pad_to_multiple_infer (TvwOpCall  *call,
                       GError    **error)
{
  const TvwPadMultipleParams *p = call->params;
  const TvwArray *x = &call->in[0];
  gint64 shape[4];

  if (!tvw_op_check_rank (call, 0, 4, 4, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->multiple < 1)
    {
      tvw_op_set_invalid (call, error, "size_divisible %d", p->multiple);
      return FALSE;
    }
  memcpy (shape, x->shape, sizeof shape);
  shape[2] = round_up (x->shape[2], p->multiple);
  shape[3] = round_up (x->shape[3], p->multiple);
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 4, shape);
  /* The output keeps the input's layout: channels-last stays so. */
  if (x->stride[1] == 1 && tvw_array_is_channels_last (x))
    tvw_array_set_channels_last (&call->out[0]);
  else
    tvw_array_set_contiguous (&call->out[0]);
  return TRUE;
}

static void
pad_to_multiple_run (TvwOpCall *call)
{
  const TvwArray *x = &call->in[0], *y = &call->out[0];
  const gint64 h = x->shape[2], w = x->shape[3], channels = y->shape[1];

  for (gint64 n = 0; n < y->shape[0]; n++)
    for (gint64 i = 0; i < y->shape[2]; i++)
      for (gint64 j = 0; j < y->shape[3]; j++)
        {
          const float *src = (const float *) x->data + n * x->stride[0] + i * x->stride[2] +
                             j * x->stride[3];
          float *dst = (float *) y->data + n * y->stride[0] + i * y->stride[2] + j * y->stride[3];
          const gboolean inside = i < h && j < w;

          for (gint64 c = 0; c < channels; c++)
            dst[c * y->stride[1]] = inside ? src[c * x->stride[1]] : 0.f;
        }
}

const TvwOpClass tvw_op_pad_to_multiple = {
  .name = "pad_to_multiple",
  .flags = TVW_OP_STRIDED,
  .infer = pad_to_multiple_infer,
  .run = pad_to_multiple_run,
};

/* ---- anchor_generator -------------------------------------------------- */

static gboolean
anchor_generator_infer (TvwOpCall  *call,
                        GError    **error)
{
  const TvwAnchorParams *p = call->params;
  const TvwArray *image = &call->in[0];

  if (p->n_levels < 1 || p->n_levels > TVW_ANCHOR_MAX_LEVELS ||
      call->n_in != p->n_levels + 1 || call->n_out != p->n_levels)
    {
      tvw_op_set_invalid (call, error, "%d levels for %d feature maps", p->n_levels,
                          call->n_in - 1);
      return FALSE;
    }
  if (!check_image_shape (call, 0, error))
    return FALSE;

  for (int l = 0; l < p->n_levels; l++)
    {
      const TvwArray *f = &call->in[l + 1];
      gint64 shape[2];

      if (!check_image_shape (call, l + 1, error))
        return FALSE;
      if (image_h (f) < 1 || image_w (f) < 1 || image_h (f) > image_h (image) ||
          image_w (f) > image_w (image))
        {
          char is[TVW_SHAPE_CHARS], fs[TVW_SHAPE_CHARS];

          tvw_array_format_shape (image, is);
          tvw_array_format_shape (f, fs);
          tvw_op_set_error (call, error, "feature map %d is %s for an image %s", l, fs, is);
          return FALSE;
        }
      shape[0] = image_h (f) * image_w (f) * p->n_anchors[l];
      shape[1] = 4;
      tvw_array_init (&call->out[l], TVW_ELEM_F32, 2, shape);
      tvw_array_set_contiguous (&call->out[l]);
    }
  return TRUE;
}

static void
anchor_generator_run (TvwOpCall *call)
{
  const TvwAnchorParams *p = call->params;
  const TvwArray *image = &call->in[0];

  for (int l = 0; l < p->n_levels; l++)
    {
      const TvwArray *f = &call->in[l + 1];
      const gint64 gh = image_h (f), gw = image_w (f);
      const gint64 sh = image_h (image) / gh, sw = image_w (image) / gw;
      float *dst = call->out[l].data;

      for (gint64 y = 0; y < gh; y++)
        for (gint64 x = 0; x < gw; x++)
          {
            /* int64 shifts plus float cell anchors: float sums */
            const float shift_x = (float) (x * sw), shift_y = (float) (y * sh);

            for (int a = 0; a < p->n_anchors[l]; a++, dst += 4)
              {
                const float *cell = p->cell[l][a];

                dst[0] = shift_x + cell[0];
                dst[1] = shift_y + cell[1];
                dst[2] = shift_x + cell[2];
                dst[3] = shift_y + cell[3];
              }
          }
    }
}

const TvwOpClass tvw_op_anchor_generator = {
  .name = "anchor_generator",
  .flags = TVW_OP_STRIDED,
  .infer = anchor_generator_infer,
  .run = anchor_generator_run,
};

gboolean
tvw_anchor_params_set_level (TvwAnchorParams *p,
                             int              level,
                             int              n_sizes,
                             const double    *sizes,
                             int              n_ratios,
                             const double    *ratios)
{
  int a = 0;

  if (level < 0 || level >= TVW_ANCHOR_MAX_LEVELS ||
      n_sizes * n_ratios > TVW_ANCHOR_MAX_PER_LEVEL || n_sizes < 1 || n_ratios < 1)
    return FALSE;

  /* AnchorGenerator.generate_anchors, in float32. */
  for (int r = 0; r < n_ratios; r++)
    {
      const float h_ratio = sqrtf ((float) ratios[r]);
      const float w_ratio = 1.f / h_ratio;

      for (int s = 0; s < n_sizes; s++, a++)
        {
          const float ws = w_ratio * (float) sizes[s], hs = h_ratio * (float) sizes[s];

          /* torch.round: halves to even, as nearbyintf in the default
           * rounding mode. */
          p->cell[level][a][0] = nearbyintf (-ws / 2.f);
          p->cell[level][a][1] = nearbyintf (-hs / 2.f);
          p->cell[level][a][2] = nearbyintf (ws / 2.f);
          p->cell[level][a][3] = nearbyintf (hs / 2.f);
        }
    }
  p->n_anchors[level] = a;
  p->n_levels = MAX (p->n_levels, level + 1);
  return TRUE;
}

/* ---- box_decode -------------------------------------------------------- */

static gboolean
check_boxes (TvwOpCall  *call,
             int         input,
             gboolean    groups,
             GError    **error)
{
  const TvwArray *b = &call->in[input];

  if (!tvw_op_check_rank (call, input, 2, 2, error) ||
      !tvw_op_check_elem (call, input, TVW_ELEM_F32, error))
    return FALSE;
  if (groups ? (b->shape[1] < 4 || b->shape[1] % 4 != 0) : b->shape[1] != 4)
    {
      char bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (b, bs);
      tvw_op_set_error (call, error, "input %d has shape %s, expected [K, %s]", input, bs,
                        groups ? "4·n" : "4");
      return FALSE;
    }
  return TRUE;
}

static gboolean
box_decode_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwBoxDecodeParams *p = call->params;
  const TvwArray *codes = &call->in[0], *boxes = &call->in[1];

  if (p->coder != TVW_BOX_CODER_NONE && p->coder != TVW_BOX_CODER_DELTAS &&
      p->coder != TVW_BOX_CODER_LINEAR)
    {
      tvw_op_set_invalid (call, error, "unknown box coder %d", p->coder);
      return FALSE;
    }
  if (!check_boxes (call, 0, TRUE, error))
    return FALSE;
  if (p->coder != TVW_BOX_CODER_NONE)
    {
      if (call->n_in < 2 || !check_boxes (call, 1, FALSE, error))
        return FALSE;
      if (boxes->shape[0] != codes->shape[0])
        {
          tvw_op_set_error (call, error, "%" G_GINT64_FORMAT " codes for %" G_GINT64_FORMAT " boxes",
                            codes->shape[0], boxes->shape[0]);
          return FALSE;
        }
    }
  if (p->clip && !check_image_shape (call, call->n_in - 1, error))
    return FALSE;

  tvw_array_init (&call->out[0], TVW_ELEM_F32, 2, codes->shape);
  tvw_array_set_contiguous (&call->out[0]);
  return TRUE;
}

void
tvw_box_decode_deltas (const float  code[4],
                       const float  box[4],
                       const float  weights[4],
                       float        out[4])
{
  const float clip = logf (1000.f / 16.f);
  const float widths = box[2] - box[0], heights = box[3] - box[1];
  const float ctr_x = box[0] + 0.5f * widths, ctr_y = box[1] + 0.5f * heights;
  const float dx = code[0] / weights[0], dy = code[1] / weights[1];
  const float dw = MIN (code[2] / weights[2], clip), dh = MIN (code[3] / weights[3], clip);
  const float pred_ctr_x = dx * widths + ctr_x, pred_ctr_y = dy * heights + ctr_y;
  const float pred_w = expf (dw) * widths, pred_h = expf (dh) * heights;
  const float half_w = 0.5f * pred_w, half_h = 0.5f * pred_h;

  out[0] = pred_ctr_x - half_w;
  out[1] = pred_ctr_y - half_h;
  out[2] = pred_ctr_x + half_w;
  out[3] = pred_ctr_y + half_h;
}

void
tvw_box_decode_linear (const float  code[4],
                       const float  box[4],
                       gboolean     normalize_by_size,
                       float        out[4])
{
  const float ctr_x = 0.5f * (box[0] + box[2]), ctr_y = 0.5f * (box[1] + box[3]);
  const float bw = normalize_by_size ? box[2] - box[0] : 1.f;
  const float bh = normalize_by_size ? box[3] - box[1] : 1.f;

  out[0] = ctr_x - code[0] * bw;
  out[1] = ctr_y - code[1] * bh;
  out[2] = ctr_x + code[2] * bw;
  out[3] = ctr_y + code[3] * bh;
}

void
tvw_box_clip (float box[4],
              float height,
              float width)
{
  /* clamp (min=0, max=size); NaN stays NaN as in torch */
  for (int j = 0; j < 4; j++)
    {
      const float hi = j % 2 == 0 ? width : height;

      if (box[j] < 0.f)
        box[j] = 0.f;
      else if (box[j] > hi)
        box[j] = hi;
    }
}

gboolean
tvw_box_is_small (const float box[4],
                  float       min_size)
{
  return !(box[2] - box[0] >= min_size && box[3] - box[1] >= min_size);
}

static void
box_decode_run (TvwOpCall *call)
{
  const TvwBoxDecodeParams *p = call->params;
  const TvwArray *codes = &call->in[0], *boxes = &call->in[1];
  const gint64 k = codes->shape[0], groups = codes->shape[1] / 4;
  const float weights[4] = {
    (float) p->weights[0], (float) p->weights[1], (float) p->weights[2], (float) p->weights[3]
  };
  float height = 0.f, width = 0.f;
  float *dst = call->out[0].data;

  if (p->clip)
    {
      const TvwArray *image = &call->in[call->n_in - 1];

      height = (float) image_h (image);
      width = (float) image_w (image);
    }

  for (gint64 i = 0; i < k; i++)
    {
      float box[4] = { 0.f, 0.f, 0.f, 0.f };

      if (p->coder != TVW_BOX_CODER_NONE)
        for (int j = 0; j < 4; j++)
          box[j] = elem_f32 (boxes, i, j);

      for (gint64 g = 0; g < groups; g++, dst += 4)
        {
          float code[4];

          for (int j = 0; j < 4; j++)
            code[j] = elem_f32 (codes, i, 4 * g + j);
          if (p->coder == TVW_BOX_CODER_DELTAS)
            tvw_box_decode_deltas (code, box, weights, dst);
          else if (p->coder == TVW_BOX_CODER_LINEAR)
            tvw_box_decode_linear (code, box, p->normalize_by_size, dst);
          else
            memcpy (dst, code, sizeof code);
          if (p->clip)
            tvw_box_clip (dst, height, width);
        }
    }
}

const TvwOpClass tvw_op_box_decode = {
  .name = "box_decode",
  .flags = TVW_OP_STRIDED,
  .infer = box_decode_infer,
  .run = box_decode_run,
};

/* ---- rescale_boxes ----------------------------------------------------- */

static gboolean
rescale_boxes_infer (TvwOpCall  *call,
                     GError    **error)
{
  const TvwArray *b = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 2, 3, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !check_image_shape (call, 1, error) || !check_image_shape (call, 2, error))
    return FALSE;
  if ((b->rank == 2 && b->shape[1] != 4) || (b->rank == 3 && b->shape[2] < 2))
    {
      char bs[TVW_SHAPE_CHARS];

      tvw_array_format_shape (b, bs);
      tvw_op_set_error (call, error, "boxes %s: expected [K, 4] or keypoints [K, P, ≥2]", bs);
      return FALSE;
    }
  tvw_array_init (&call->out[0], TVW_ELEM_F32, b->rank, b->shape);
  tvw_array_set_contiguous (&call->out[0]);
  return TRUE;
}

static void
rescale_boxes_run (TvwOpCall *call)
{
  const TvwArray *b = &call->in[0], *resized = &call->in[1], *original = &call->in[2];
  /* resize_boxes: float32 ratios original / resized */
  const float rh = (float) image_h (original) / (float) image_h (resized);
  const float rw = (float) image_w (original) / (float) image_w (resized);
  float *dst = call->out[0].data;

  if (b->rank == 2)
    {
      for (gint64 i = 0; i < b->shape[0]; i++, dst += 4)
        for (int j = 0; j < 4; j++)
          dst[j] = elem_f32 (b, i, j) * (j % 2 == 0 ? rw : rh);
      return;
    }

  /* resize_keypoints: x and y of each point; the rest as it is */
  for (gint64 i = 0; i < b->shape[0]; i++)
    for (gint64 k = 0; k < b->shape[1]; k++)
      {
        const float *src = (const float *) b->data + i * b->stride[0] + k * b->stride[1];

        for (gint64 j = 0; j < b->shape[2]; j++)
          {
            const float v = src[j * b->stride[2]];

            *dst++ = j == 0 ? v * rw : j == 1 ? v * rh : v;
          }
      }
}

const TvwOpClass tvw_op_rescale_boxes = {
  .name = "rescale_boxes",
  .flags = TVW_OP_STRIDED,
  .infer = rescale_boxes_infer,
  .run = rescale_boxes_run,
};

/* ---- remove_small_boxes ------------------------------------------------ */

static gboolean
remove_small_boxes_infer (TvwOpCall  *call,
                          GError    **error)
{
  if (!check_boxes (call, 0, FALSE, error))
    return FALSE;
  tvw_array_init (&call->out[0], TVW_ELEM_I64, 1, call->in[0].shape);
  tvw_array_set_contiguous (&call->out[0]);
  return TRUE;
}

static void
remove_small_boxes_run (TvwOpCall *call)
{
  const TvwRemoveSmallParams *p = call->params;
  const TvwArray *b = &call->in[0];
  const float min_size = (float) p->min_size;
  gint64 *keep = call->out[0].data, kept = 0;

  for (gint64 i = 0; i < b->shape[0]; i++)
    {
      float box[4];

      for (int j = 0; j < 4; j++)
        box[j] = elem_f32 (b, i, j);
      if (!tvw_box_is_small (box, min_size))
        keep[kept++] = i;
    }
  call->out[0].shape[0] = kept;
}

const TvwOpClass tvw_op_remove_small_boxes = {
  .name = "remove_small_boxes",
  .flags = TVW_OP_STRIDED | TVW_OP_HOST,
  .infer = remove_small_boxes_infer,
  .run = remove_small_boxes_run,
};

/* ---- score_topk -------------------------------------------------------- */

static gboolean
score_topk_infer (TvwOpCall  *call,
                  GError    **error)
{
  const TvwScoreTopkParams *p = call->params;
  const TvwArray *s = &call->in[0];
  gint64 rows, classes, bound;

  if (!tvw_op_check_rank (call, 0, 2, 3, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (s->rank == 3 && s->shape[0] != 1)
    {
      char ss[TVW_SHAPE_CHARS];

      tvw_array_format_shape (s, ss);
      tvw_op_set_error (call, error, "scores %s: one image at a time", ss);
      return FALSE;
    }
  rows = s->shape[s->rank - 2];
  classes = s->shape[s->rank - 1];
  if (p->k < 0 || p->first_class < 0 ||
      (p->mode != TVW_SCORE_IDENTITY && p->mode != TVW_SCORE_SIGMOID &&
       p->mode != TVW_SCORE_SIGMOID_CENTERNESS))
    {
      tvw_op_set_invalid (call, error, "k %" G_GINT64_FORMAT ", first class %d, mode %d",
                          p->k, p->first_class, p->mode);
      return FALSE;
    }
  if (p->mode == TVW_SCORE_SIGMOID_CENTERNESS)
    {
      const TvwArray *c;

      if (call->n_in != 2 || !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error))
        return FALSE;
      c = &call->in[1];
      if (tvw_array_numel (c) != rows ||
          (c->rank > 1 && c->shape[c->rank - 1] != 1))
        {
          char ss[TVW_SHAPE_CHARS], cs[TVW_SHAPE_CHARS];

          tvw_array_format_shape (s, ss);
          tvw_array_format_shape (c, cs);
          tvw_op_set_error (call, error, "centerness %s for scores %s", cs, ss);
          return FALSE;
        }
    }

  if (p->per_class)
    bound = MAX (classes - p->first_class, 0) * MIN (rows, p->k);
  else
    bound = MIN (rows * MAX (classes - p->first_class, 0), p->k);
  tvw_array_init (&call->out[0], TVW_ELEM_F32, 1, &bound);
  tvw_array_init (&call->out[1], TVW_ELEM_I64, 1, &bound);
  tvw_array_init (&call->out[2], TVW_ELEM_I64, 1, &bound);
  for (int o = 0; o < 3; o++)
    tvw_array_set_contiguous (&call->out[o]);
  return TRUE;
}

typedef struct
{
  float  score;
  gint64 index;    /* row · classes + class */
} Candidate;

/* Decreasing score, then increasing index (torch.topk leaves the order of
 * ties open; this one is deterministic). */
static int
candidate_order (gconstpointer a,
                 gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

/* Room for 2·k candidates (at most all @n): whenever it fills up,
 * sorting it and keeping the k best costs O(k log k) per k candidates. */
static gint64
topk_room (gint64 k,
           gint64 n)
{
  return MIN (2 * MIN (k, n), n);
}

static gsize
score_topk_scratch (const TvwOpCall *call)
{
  const TvwScoreTopkParams *p = call->params;
  const TvwArray *s = &call->in[0];
  const gint64 rows = s->shape[s->rank - 2], classes = s->shape[s->rank - 1];

  return (gsize) topk_room (p->k, rows * classes) * sizeof (Candidate) + 1;
}

static inline float
sigmoid (float x)
{
  return 1.f / (1.f + expf (-x));
}

/* The k best candidates of classes [c0, c1) (all rows), written from
 * @at on by decreasing score; returns how many. */
static gint64
select_topk (const TvwOpCall *call,
             gint64           c0,
             gint64           c1,
             gint64           at)
{
  const TvwScoreTopkParams *p = call->params;
  const TvwArray *s = &call->in[0];
  const int r = s->rank;
  const gint64 rows = s->shape[r - 2], classes = s->shape[r - 1];
  const gint64 rs = s->stride[r - 2], cs = s->stride[r - 1];
  const float threshold = (float) p->threshold;
  const float *base = s->data;
  const gint64 room = topk_room (p->k, rows * classes);
  Candidate *best = (Candidate *) call->scratch;
  gint64 n = 0;
  /* Once k are known, a candidate must rank before the k-th. */
  gboolean full = FALSE;
  Candidate kth = { 0 };

  if (p->k == 0)
    return 0;

  for (gint64 i = 0; i < rows; i++)
    {
      float ctr = 0.f;

      if (p->mode == TVW_SCORE_SIGMOID_CENTERNESS)
        {
          const TvwArray *c = &call->in[1];

          /* centerness [.., rows, 1] or [rows]: rows along its dim rank-2
           * or 0 */
          ctr = sigmoid (((const float *) c->data)[i * c->stride[c->rank > 1 ? c->rank - 2 : 0]]);
        }
      for (gint64 j = c0; j < c1; j++)
        {
          float v = base[i * rs + j * cs];
          Candidate cand;

          if (p->mode == TVW_SCORE_SIGMOID)
            v = sigmoid (v);
          else if (p->mode == TVW_SCORE_SIGMOID_CENTERNESS)
            v = sqrtf (sigmoid (v) * ctr);
          if (!(v > threshold))
            continue;
          cand.score = v;
          cand.index = i * classes + j;
          if (full && candidate_order (&cand, &kth) > 0)
            continue;
          if (n == room)
            {
              qsort (best, n, sizeof *best, candidate_order);
              n = p->k;
              kth = best[n - 1];
              full = TRUE;
            }
          best[n++] = cand;
        }
    }

  qsort (best, n, sizeof *best, candidate_order);
  n = MIN (n, p->k);
  {
    float *scores = call->out[0].data;
    gint64 *row = call->out[1].data, *label = call->out[2].data;

    for (gint64 m = 0; m < n; m++)
      {
        scores[at + m] = best[m].score;
        row[at + m] = best[m].index / classes;
        label[at + m] = best[m].index % classes;
      }
  }
  return n;
}

static void
score_topk_run (TvwOpCall *call)
{
  const TvwScoreTopkParams *p = call->params;
  const TvwArray *s = &call->in[0];
  const gint64 classes = s->shape[s->rank - 1];
  gint64 n = 0;

  if (p->per_class)
    for (gint64 c = p->first_class; c < classes; c++)
      n += select_topk (call, c, c + 1, n);
  else if (p->first_class < classes)
    n = select_topk (call, p->first_class, classes, 0);

  for (int o = 0; o < 3; o++)
    call->out[o].shape[0] = n;
}

const TvwOpClass tvw_op_score_topk = {
  .name = "score_topk",
  .flags = TVW_OP_STRIDED | TVW_OP_HOST,
  .infer = score_topk_infer,
  .scratch = score_topk_scratch,
  .run = score_topk_run,
};

/* ---- graph constructors ------------------------------------------------ */

TvwVal
tvw_net_pad_to_multiple (TvwNet *net,
                         TvwVal  x,
                         int     multiple)
{
  const TvwPadMultipleParams p = { multiple };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_pad_to_multiple,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_anchor_generator (TvwNet                *net,
                          TvwVal                 image,
                          const TvwVal          *features,
                          const TvwAnchorParams *params,
                          TvwVal                *anchors)
{
  TvwVal in[TVW_ANCHOR_MAX_LEVELS + 1];
  const int n = CLAMP (params->n_levels, 1, TVW_ANCHOR_MAX_LEVELS);
  const TvwNodeSpec spec = {
    .cls = &tvw_op_anchor_generator,
    .params = params,
    .params_size = sizeof *params,
    .n_in = n + 1,
    .in = in,
    .n_out = n,
  };

  in[0] = image;
  for (int l = 0; l < n; l++)
    in[l + 1] = features[l];
  tvw_net_add_node (net, &spec, anchors);
}

TvwVal
tvw_net_box_decode (TvwNet                   *net,
                    TvwVal                    codes,
                    TvwVal                    boxes,
                    TvwVal                    clip_to,
                    const TvwBoxDecodeParams *params)
{
  TvwBoxDecodeParams p = *params;
  TvwVal in[3];
  int n = 0;
  TvwNodeSpec spec = {
    .cls = &tvw_op_box_decode,
    .params = &p,
    .params_size = sizeof p,
    .in = in,
    .n_out = 1,
  };

  in[n++] = codes;
  if (p.coder != TVW_BOX_CODER_NONE)
    in[n++] = boxes;
  p.clip = clip_to >= 0;
  if (p.clip)
    in[n++] = clip_to;
  spec.n_in = n;
  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_clip_boxes (TvwNet *net,
                    TvwVal  boxes,
                    TvwVal  image)
{
  const TvwBoxDecodeParams p = { .coder = TVW_BOX_CODER_NONE };

  return tvw_net_box_decode (net, boxes, -1, image, &p);
}

TvwVal
tvw_net_rescale_boxes (TvwNet *net,
                       TvwVal  boxes,
                       TvwVal  resized,
                       TvwVal  original)
{
  const TvwVal in[3] = { boxes, resized, original };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_rescale_boxes,
    .n_in = 3,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

TvwVal
tvw_net_remove_small_boxes (TvwNet *net,
                            TvwVal  boxes,
                            double  min_size)
{
  const TvwRemoveSmallParams p = { min_size };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_remove_small_boxes,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &boxes,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

void
tvw_net_score_topk (TvwNet                   *net,
                    TvwVal                    scores,
                    TvwVal                    centerness,
                    const TvwScoreTopkParams *params,
                    TvwVal                   *values,
                    TvwVal                   *rows,
                    TvwVal                   *labels)
{
  const TvwVal in[2] = { scores, centerness };
  TvwVal out[3] = { -1, -1, -1 };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_score_topk,
    .params = params,
    .params_size = sizeof *params,
    .n_in = params->mode == TVW_SCORE_SIGMOID_CENTERNESS ? 2 : 1,
    .in = in,
    .n_out = 3,
  };

  tvw_net_add_node (net, &spec, out);
  if (values != NULL)
    *values = out[0];
  if (rows != NULL)
    *rows = out[1];
  if (labels != NULL)
    *labels = out[2];
}
