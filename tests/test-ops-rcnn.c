/* test-ops-rcnn.c — the two-stage detectors' ops against their definitions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * multi_scale_roi_align against roi_align (tested in test-ops-nn.c) run
 * per box on the level torchvision's LevelMapper picks, computed here in
 * double from its formula; rpn_proposals and roi_detections against
 * straightforward double-precision versions of filter_proposals and
 * postprocess_detections (full sorts instead of a heap, decoding in
 * double, greedy NMS by the definition); and small cases whose results
 * were worked out by hand.  The whole models are checked against
 * torchvision itself by tests/conformance/test_detection_rcnn.py.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-op-test.h"

#define N_SEEDS 3

static void
assert_refused (const TvwOpClass *cls,
                gconstpointer     params,
                int               n_in,
                const TvwArray   *in,
                int               n_out,
                const char       *needle)
{
  g_autoptr(GError) error = NULL;
  g_autofree TvwArray *out = g_new0 (TvwArray, n_out);

  g_assert_false (tvw_op_eager (cls, "test", params, n_in, in, 0, NULL, n_out, out, 1, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, needle);
}

/* ---- multi_scale_roi_align --------------------------------------------- */

/* LevelMapper in double: floor (4 + log2 (sqrt (area) / 224) + 1e-6),
 * clamped to [k_min, k_max], minus k_min. */
static int
reference_level (const float *box,
                 int          k_min,
                 int          k_max)
{
  const double s = sqrt (((double) box[2] - box[0]) * ((double) box[3] - box[1]));
  const double t = floor (4 + log2 (s / 224) + 1e-6);

  return (int) CLAMP (t, k_min, k_max) - k_min;
}

static void
test_msra_levels (void)
{
  /* The image is 200×304 (a 1216×800 input resized with min_size 200),
   * padded to 224×320: levels at strides 4, 8, 16, 32. */
  static const gint64 heights[4] = { 56, 28, 14, 7 }, widths[4] = { 80, 40, 20, 10 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1800 + seed);
      const gint64 k = 40, channels = 5, bs[2] = { k, 4 }, two = 2;
      const float size[2] = { 200, 304 };
      TvwMultiScaleRoiAlignParams p = { 7, 7, 2, 224, 4, 1e-6 };
      TestArray feats[4], boxes;
      TvwArray in[6], out;
      g_autofree double *want = NULL;
      gint64 counts[4] = { 0 };

      for (int l = 0; l < 4; l++)
        {
          const gint64 shape[4] = { 1, channels, heights[l], widths[l] };

          test_array_random (&feats[l], rng, TVW_ELEM_F32, 4, shape,
                             (TestLayout) ((seed + l) % TEST_N_LAYOUTS), -1, 1);
          in[2 + l] = feats[l].a;
        }
      test_array_random (&boxes, rng, TVW_ELEM_F32, 2, bs, TEST_LAYOUT_CONTIGUOUS, 0, 1);
      /* Boxes of every scale: sides from 2 to 600 pixels, some over the
       * image's edges, and a few exactly 112, 224 and 448 wide and high
       * (the levels' boundaries, where eps decides). */
      for (gint64 i = 0; i < k; i++)
        {
          float *b = (float *) boxes.a.data + 4 * i;
          const double side = i < 3 ? 112.0 * (1 << i) : exp (g_rand_double_range (rng, log (2), log (600)));
          const double aspect = i < 3 ? 1 : exp (g_rand_double_range (rng, -1, 1));
          const double cx = g_rand_double_range (rng, -20, 324), cy = g_rand_double_range (rng, -20, 220);

          b[0] = (float) (cx - side * aspect / 2);
          b[1] = (float) (cy - side / aspect / 2);
          b[2] = (float) (b[0] + side * aspect);
          b[3] = (float) (b[1] + side / aspect);
        }
      in[0] = boxes.a;
      tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
      in[1].data = (gpointer) size;

      test_run_op (&tvw_op_multi_scale_roi_align, &p, 6, in, 0, NULL, 1, &out, 1e-6);

      /* Scales 1/4 … 1/32: k_min 2, k_max 5. */
      want = g_new (double, k * channels * 49);
      for (gint64 i = 0; i < k; i++)
        {
          const float *b = (const float *) boxes.a.data + 4 * i;
          const int level = reference_level (b, 2, 5);
          const TvwRoiAlignParams rp = { 7, 7, 1.0 / (4 << level), 2, FALSE };
          const float roi[5] = { 0, b[0], b[1], b[2], b[3] };
          const gint64 rs[2] = { 1, 5 };
          TvwArray rin[2], rout;
          gint64 idx[4];

          if (i < 3)
            g_assert_cmpint (level, ==, (int) i + 1);
          counts[level]++;
          rin[0] = feats[level].a;
          tvw_array_init (&rin[1], TVW_ELEM_F32, 2, rs);
          rin[1].data = (gpointer) roi;
          test_run_op (&tvw_op_roi_align, &rp, 2, rin, 0, NULL, 1, &rout, 0);
          for (gint64 f = 0; f < channels * 49; f++)
            {
              test_unflatten (&rout, f, idx);
              want[i * channels * 49 + f] = test_array_get (&rout, idx);
            }
          g_free (rout.data);
        }
      /* Every level is used. */
      for (int l = 0; l < 4; l++)
        g_assert_cmpint (counts[l], >, 0);
      {
        const gint64 shape[4] = { k, channels, 7, 7 };

        test_assert_close ("multi_scale_roi_align", &out, 4, shape, want, 0, 0);
      }
      g_free (out.data);
      for (int l = 0; l < 4; l++)
        test_array_clear (&feats[l]);
      test_array_clear (&boxes);
    }
}

/* Two levels only (as the MobileNetV3 FPN's '0' and '1'), here at
 * strides 16 and 32: k_min 4, k_max 5. */
static void
test_msra_two_levels (void)
{
  const gint64 two = 2, s0[4] = { 1, 1, 32, 32 }, s1[4] = { 1, 1, 16, 16 }, bs[2] = { 2, 4 };
  const float size[2] = { 512, 512 };
  /* Level '0' holds 1, level '1' holds 2 everywhere: a box's output says
   * the level it was pooled from. */
  float f0[1024], f1[256];
  /* 30×30 → level 4 − 3 = 1, clamped to 4 → index 0; 500×500 → level 5. */
  const float b[8] = { 0, 0, 30, 30, 0, 0, 500, 500 };
  TvwMultiScaleRoiAlignParams p = { 2, 2, 2, 224, 4, 1e-6 };
  TvwArray in[4], out;

  for (int i = 0; i < 1024; i++)
    f0[i] = 1;
  for (int i = 0; i < 256; i++)
    f1[i] = 2;
  tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
  in[0].data = (gpointer) b;
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
  in[1].data = (gpointer) size;
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, s0);
  in[2].data = f0;
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, s1);
  in[3].data = f1;
  test_run_op (&tvw_op_multi_scale_roi_align, &p, 4, in, 0, NULL, 1, &out, 0);
  {
    const gint64 shape[4] = { 2, 1, 2, 2 };
    const double want[8] = { 1, 1, 1, 1, 2, 2, 2, 2 };

    test_assert_close ("two levels", &out, 4, shape, want, 0, 0);
  }
  g_free (out.data);
}

static void
test_msra_errors (void)
{
  const gint64 two = 2, one = 1, fs[4] = { 1, 3, 4, 4 }, fs2[4] = { 1, 2, 2, 2 }, bs[2] = { 1, 5 };
  float data[64] = { 0 };
  TvwMultiScaleRoiAlignParams p = { 7, 7, 2, 224, 4, 1e-6 };
  TvwArray in[4];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, fs);
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, fs);
  for (int i = 0; i < 4; i++)
    in[i].data = data;
  /* Boxes with a batch column. */
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "expected [K, 4]");
  /* An image size of one number. */
  tvw_array_init (&in[0], TVW_ELEM_F32, 2, (const gint64[]) { 1, 4 });
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &one);
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "expected (height, width)");
  /* Levels of different channel counts. */
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, fs2);
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "feature map 1 is [1, 2, 2, 2]");
}

/* ---- shared references -------------------------------------------------- */

static void
reference_decode (const float  *rel,
                  gint64        rs,
                  const float  *ref,
                  const double *w,
                  double       *out)
{
  const double clip = log (1000.0 / 16);
  const double widths = (double) ref[2] - ref[0], heights = (double) ref[3] - ref[1];
  const double cx = ref[0] + 0.5 * widths, cy = ref[1] + 0.5 * heights;
  const double pcx = rel[0] / w[0] * widths + cx, pcy = rel[rs] / w[1] * heights + cy;
  const double pw = exp (MIN (rel[2 * rs] / w[2], clip)) * widths;
  const double ph = exp (MIN (rel[3 * rs] / w[3], clip)) * heights;

  out[0] = pcx - pw / 2;
  out[1] = pcy - ph / 2;
  out[2] = pcx + pw / 2;
  out[3] = pcy + ph / 2;
}

static gboolean
reference_clip_keep (double *b,
                     double  height,
                     double  width,
                     double  min_size)
{
  b[0] = CLAMP (b[0], 0, width);
  b[2] = CLAMP (b[2], 0, width);
  b[1] = CLAMP (b[1], 0, height);
  b[3] = CLAMP (b[3], 0, height);
  return b[2] - b[0] >= min_size && b[3] - b[1] >= min_size;
}

typedef struct
{
  double box[4];
  double score;
  gint64 cls;
  int    index;      /* candidate order, for ties */
} Candidate;

static int
by_score_desc (gconstpointer a,
               gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->index - y->index;
}

/* Greedy NMS per class by the definition: sorts @c and returns the number
 * kept, moved to the front in order. */
static int
reference_nms (Candidate *c,
               int        n,
               double     iou)
{
  g_autofree guint8 *gone = g_new0 (guint8, MAX (n, 1));
  int kept = 0;

  qsort (c, n, sizeof *c, by_score_desc);
  for (int i = 0; i < n; i++)
    {
      if (gone[i])
        continue;
      for (int j = i + 1; j < n; j++)
        {
          const double *a = c[i].box, *b = c[j].box;
          double w, h, inter;

          if (gone[j] || c[j].cls != c[i].cls)
            continue;
          w = MAX (0, MIN (a[2], b[2]) - MAX (a[0], b[0]));
          h = MAX (0, MIN (a[3], b[3]) - MAX (a[1], b[1]));
          inter = w * h;
          if (inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter) > iou)
            gone[j] = 1;
        }
      c[kept++] = c[i];
    }
  return kept;
}

/* ---- rpn_proposals ------------------------------------------------------- */

typedef struct
{
  double v;
  gint64 i;
} Ranked;

static int
by_value_desc (gconstpointer a,
               gconstpointer b)
{
  const Ranked *x = a, *y = b;

  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->i < y->i ? -1 : 1;
}

static void
test_rpn_proposals (void)
{
  static const gint64 hs[3] = { 12, 6, 3 }, ws[3] = { 10, 5, 3 };
  static const int pre[] = { 1000, 40, 7 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (guint pi = 0; pi < G_N_ELEMENTS (pre); pi++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1810 + 10 * seed + pi);
        const gint64 a_count = 3, two = 2;
        /* A 45×38 image padded to 48×40, strides 4, 8, 16. */
        const float size[2] = { 45, 38 };
        TvwRpnProposalsParams p = { 3, pre[pi], 25, 0.7, seed == 1 ? 0.4 : 0.0, 1e-3 };
        TestArray ob[3], dl[3];
        TvwArray in[8], out;
        GArray *cand = g_array_new (FALSE, FALSE, sizeof (Candidate));
        g_autofree float *anchors = NULL;
        g_autofree double *want = NULL;
        gint64 n_anchors = 0, as[2], anchor0 = 0;
        int kept;

        for (int l = 0; l < 3; l++)
          {
            const gint64 os[4] = { 1, a_count, hs[l], ws[l] }, ds[4] = { 1, 4 * a_count, hs[l], ws[l] };

            test_array_random (&ob[l], rng, TVW_ELEM_F32, 4, os, TEST_LAYOUT_CONTIGUOUS, -3, 3);
            test_array_random (&dl[l], rng, TVW_ELEM_F32, 4, ds, TEST_LAYOUT_CONTIGUOUS, -0.5, 0.5);
            in[2 + l] = ob[l].a;
            in[5 + l] = dl[l].a;
            n_anchors += a_count * hs[l] * ws[l];
          }
        /* A few large deltas: clamped widths, boxes clipped to nothing. */
        ((float *) dl[0].a.data)[2 * hs[0] * ws[0]] = 9;
        ((float *) dl[1].a.data)[3 * hs[1] * ws[1] + 1] = -9;
        /* Anchors as AnchorGenerator lays them out: level, position, anchor. */
        anchors = g_new (float, 4 * n_anchors);
        for (int l = 0, a_i = 0; l < 3; l++)
          for (gint64 y = 0; y < hs[l]; y++)
            for (gint64 x = 0; x < ws[l]; x++)
              for (gint64 a = 0; a < a_count; a++, a_i++)
                {
                  const double stride = 4 << l, side = stride * 2 * (a + 1);

                  anchors[4 * a_i] = (float) (x * stride - side / 2);
                  anchors[4 * a_i + 1] = (float) (y * stride - side / 2 * (a == 1 ? 2 : 1));
                  anchors[4 * a_i + 2] = (float) (x * stride + side / 2);
                  anchors[4 * a_i + 3] = (float) (y * stride + side / 2 * (a == 1 ? 2 : 1));
                }
        as[0] = n_anchors;
        as[1] = 4;
        tvw_array_init (&in[0], TVW_ELEM_F32, 2, as);
        in[0].data = anchors;
        tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
        in[1].data = (gpointer) size;

        test_run_op (&tvw_op_rpn_proposals, &p, 8, in, 0, NULL, 1, &out, 0);

        /* The reference: sort each level's logits in (y, x, a) order. */
        for (int l = 0; l < 3; l++)
          {
            const gint64 hw = hs[l] * ws[l], n = a_count * hw, k = MIN (n, p.pre_nms_top_n);
            const float *logits = ob[l].a.data, *deltas = dl[l].a.data;
            g_autofree Ranked *r = g_new (Ranked, n);

            for (gint64 pos = 0; pos < hw; pos++)
              for (gint64 a = 0; a < a_count; a++)
                {
                  r[pos * a_count + a].v = logits[a * hw + pos];
                  r[pos * a_count + a].i = pos * a_count + a;
                }
            qsort (r, n, sizeof *r, by_value_desc);
            for (gint64 t = 0; t < k; t++)
              {
                const gint64 pos = r[t].i / a_count, a = r[t].i % a_count;
                const double unit[4] = { 1, 1, 1, 1 };
                Candidate c = { .score = 1 / (1 + exp (-r[t].v)), .cls = l, .index = (int) cand->len };

                reference_decode (deltas + 4 * a * hw + pos, hw, anchors + 4 * (anchor0 + r[t].i),
                                  unit, c.box);
                if (reference_clip_keep (c.box, size[0], size[1], 1e-3) && c.score >= p.score_thresh)
                  g_array_append_val (cand, c);
              }
            anchor0 += n;
          }
        kept = MIN (reference_nms ((Candidate *) cand->data, (int) cand->len, p.nms_thresh),
                    p.post_nms_top_n);
        want = g_new (double, 4 * MAX (kept, 1));
        for (int i = 0; i < kept; i++)
          memcpy (want + 4 * i, g_array_index (cand, Candidate, i).box, 4 * sizeof (double));
        {
          const gint64 shape[2] = { kept, 4 };

          /* Coordinates up to ~100 px decoded in float32. */
          test_assert_close ("rpn_proposals", &out, 2, shape, want, 1e-4, 1e-5);
        }
        g_test_message ("rpn_proposals: pre %d, %u candidates, %d kept", pre[pi], cand->len, kept);
        g_free (out.data);
        g_array_unref (cand);
        for (int l = 0; l < 3; l++)
          {
            test_array_clear (&ob[l]);
            test_array_clear (&dl[l]);
          }
      }
}

/* One level, one anchor per position on a 1×3 map; worked out by hand. */
static void
test_rpn_proposals_by_hand (void)
{
  const gint64 two = 2, os[4] = { 1, 1, 1, 3 }, ds[4] = { 1, 4, 1, 3 }, as[2] = { 3, 4 };
  const float size[2] = { 20, 30 };
  /* Anchors: [0, 0, 10, 10], [2, 0, 12, 10] (IoU 80/120 with the first),
   * [20, 5, 40, 15] (clipped to [20, 5, 30, 15]). */
  const float anchors[12] = { 0, 0, 10, 10, 2, 0, 12, 10, 20, 5, 40, 15 };
  /* Logits 0, 1, 2 → the third first, then the second; the first is
   * suppressed by the moved second at 0.5, not at 0.7 (IoU 70/130). */
  const float logits[3] = { 0, 1, 2 };
  /* dx = 0.1 on the second anchor: moved 1 px right. */
  const float deltas[12] = { 0, 0.1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  TvwRpnProposalsParams p = { 1, 1000, 1000, 0.5, 0.0, 1e-3 };
  TvwArray in[4], out;

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, as);
  in[0].data = (gpointer) anchors;
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
  in[1].data = (gpointer) size;
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, os);
  in[2].data = (gpointer) logits;
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, ds);
  in[3].data = (gpointer) deltas;

  /* At 0.5: [3, 0, 13, 10] overlaps [0, 0, 10, 10] by 70/130 > 0.5. */
  test_run_op (&tvw_op_rpn_proposals, &p, 4, in, 0, NULL, 1, &out, 0);
  {
    const gint64 shape[2] = { 2, 4 };
    const double want[8] = { 20, 5, 30, 15, 3, 0, 13, 10 };

    test_assert_close ("by hand, 0.5", &out, 2, shape, want, 1e-6, 0);
  }
  g_free (out.data);

  /* At 0.7 all three stay; post_nms_top_n 2 keeps the best two. */
  p.nms_thresh = 0.7;
  test_run_op (&tvw_op_rpn_proposals, &p, 4, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 3);
  g_free (out.data);
  p.post_nms_top_n = 2;
  test_run_op (&tvw_op_rpn_proposals, &p, 4, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 2);
  g_free (out.data);

  /* A score threshold over sigmoid (1) = 0.731 leaves the third alone;
   * one over every score leaves nothing. */
  p.score_thresh = 0.75;
  test_run_op (&tvw_op_rpn_proposals, &p, 4, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 1);
  g_free (out.data);
  p.score_thresh = 0.99;
  test_run_op (&tvw_op_rpn_proposals, &p, 4, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 0);
  g_free (out.data);
}

static void
test_rpn_proposals_errors (void)
{
  const gint64 two = 2, os[4] = { 2, 1, 1, 3 }, ds[4] = { 2, 4, 1, 3 }, as[2] = { 3, 4 };
  float data[64] = { 0 };
  TvwRpnProposalsParams p = { 1, 1000, 1000, 0.7, 0.0, 1e-3 };
  TvwArray in[4];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, as);
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &two);
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, os);
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, ds);
  for (int i = 0; i < 4; i++)
    in[i].data = data;
  /* Two images. */
  assert_refused (&tvw_op_rpn_proposals, &p, 4, in, 1, "one image at a time");
  /* Anchors that do not match the predictions. */
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, (const gint64[]) { 1, 1, 2, 3 });
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, (const gint64[]) { 1, 4, 2, 3 });
  assert_refused (&tvw_op_rpn_proposals, &p, 4, in, 1, "anchors [3, 4] for 6 predictions");
}

/* ---- roi_detections ------------------------------------------------------ */

static void
test_roi_detections (void)
{
  static const gint64 ks[] = { 0, 1, 30, 200 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1850 + 10 * seed + ki);
        const gint64 k = ks[ki], c = 6, two = 2;
        const float size[2] = { 90, 120 };
        TvwRoiDetectionsParams p = { { 10, 10, 5, 5 }, seed == 2 ? 0.3 : 0.05, 0.5, 1e-2,
                                     seed == 1 ? 7 : 100 };
        const gint64 ls[2] = { k, c }, rs[2] = { k, 4 * c }, ps[2] = { k, 4 };
        TestArray logits, reg, props;
        TvwArray in[4], out[3];
        GArray *cand = g_array_new (FALSE, FALSE, sizeof (Candidate));
        g_autofree double *want_boxes = NULL, *want_scores = NULL, *want_labels = NULL;
        int kept;

        test_array_random (&logits, rng, TVW_ELEM_F32, 2, ls, TEST_LAYOUT_CONTIGUOUS, -3, 3);
        test_array_random (&reg, rng, TVW_ELEM_F32, 2, rs, TEST_LAYOUT_CONTIGUOUS, -4, 4);
        test_array_random (&props, rng, TVW_ELEM_F32, 2, ps, TEST_LAYOUT_CONTIGUOUS, 0, 1);
        /* Proposals inside or over the image, from 1 to 80 px. */
        for (gint64 i = 0; i < k; i++)
          {
            float *b = (float *) props.a.data + 4 * i;
            const double x = g_rand_double_range (rng, -10, 120), y = g_rand_double_range (rng, -10, 90);

            b[0] = (float) x;
            b[1] = (float) y;
            b[2] = (float) (x + g_rand_double_range (rng, 1, 80));
            b[3] = (float) (y + g_rand_double_range (rng, 1, 80));
          }
        in[0] = logits.a;
        in[1] = reg.a;
        in[2] = props.a;
        tvw_array_init (&in[3], TVW_ELEM_F32, 1, &two);
        in[3].data = (gpointer) size;

        test_run_op (&tvw_op_roi_detections, &p, 4, in, 0, NULL, 3, out, 0);

        for (gint64 i = 0; i < k; i++)
          {
            const float *row = (const float *) logits.a.data + i * c;
            double sum = 0;

            for (gint64 j = 0; j < c; j++)
              sum += exp (row[j]);
            for (gint64 j = 1; j < c; j++)
              {
                Candidate cd = { .score = exp (row[j]) / sum, .cls = j, .index = (int) cand->len };

                reference_decode ((const float *) reg.a.data + i * 4 * c + 4 * j, 1,
                                  (const float *) props.a.data + 4 * i, p.weights, cd.box);
                if (cd.score > p.score_thresh && reference_clip_keep (cd.box, size[0], size[1], 1e-2))
                  g_array_append_val (cand, cd);
              }
          }
        kept = MIN (reference_nms ((Candidate *) cand->data, (int) cand->len, p.nms_thresh),
                    p.detections_per_img);
        want_boxes = g_new (double, 4 * MAX (kept, 1));
        want_scores = g_new (double, MAX (kept, 1));
        want_labels = g_new (double, MAX (kept, 1));
        for (int i = 0; i < kept; i++)
          {
            const Candidate *cd = &g_array_index (cand, Candidate, i);

            memcpy (want_boxes + 4 * i, cd->box, 4 * sizeof (double));
            want_scores[i] = cd->score;
            want_labels[i] = (double) cd->cls;
          }
        {
          const gint64 bs[2] = { kept, 4 }, n = kept;

          test_assert_close ("roi_detections boxes", &out[0], 2, bs, want_boxes, 1e-4, 1e-5);
          test_assert_close ("roi_detections scores", &out[1], 1, &n, want_scores, 1e-6, 1e-5);
          test_assert_close ("roi_detections labels", &out[2], 1, &n, want_labels, 0, 0);
        }
        g_test_message ("roi_detections: %" G_GINT64_FORMAT " rois, %u candidates, %d kept",
                        k, cand->len, kept);
        for (int o = 0; o < 3; o++)
          g_free (out[o].data);
        g_array_unref (cand);
        test_array_clear (&logits);
        test_array_clear (&reg);
        test_array_clear (&props);
      }
}

/* Two RoIs, three classes; worked out by hand. */
static void
test_roi_detections_by_hand (void)
{
  const gint64 two = 2, ls[2] = { 2, 3 }, rs[2] = { 2, 12 }, ps[2] = { 2, 4 };
  const float size[2] = { 50, 60 };
  /* RoI 0: softmax (0, ln 3, ln 6) = (0.1, 0.3, 0.6); RoI 1: (0.8, 0.1,
   * 0.1) with ln 8. */
  const float logits[6] = { 0, 1.0986123f, 1.7917595f, 2.0794415f, 0, 0 };
  /* RoI 0's class 2 box moved by dx = 10/10 (one width) right and clipped
   * to the image; every other delta zero. */
  const float reg[24] = { 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0,
                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  const float props[8] = { 20, 10, 40, 30, 22, 10, 42, 30 };
  TvwRoiDetectionsParams p = { { 10, 10, 5, 5 }, 0.05, 0.5, 1e-2, 100 };
  TvwArray in[4], out[3];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, ls);
  in[0].data = (gpointer) logits;
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, rs);
  in[1].data = (gpointer) reg;
  tvw_array_init (&in[2], TVW_ELEM_F32, 2, ps);
  in[2].data = (gpointer) props;
  tvw_array_init (&in[3], TVW_ELEM_F32, 1, &two);
  in[3].data = (gpointer) size;
  test_run_op (&tvw_op_roi_detections, &p, 4, in, 0, NULL, 3, out, 0);
  {
    /* 0.6 class 2 at [40, 10, 60, 30] clipped from 60 → 60; 0.3 class 1
     * at RoI 0; RoI 1's class 1 (0.1) overlaps it by IoU 360/440 and goes;
     * RoI 1's class 2 (0.1) overlaps the moved box by 40/760 and stays. */
    const gint64 bs[2] = { 3, 4 }, n = 3;
    const double boxes[12] = { 40, 10, 60, 30, 20, 10, 40, 30, 22, 10, 42, 30 };
    const double scores[3] = { 0.6, 0.3, 0.1 }, labels[3] = { 2, 1, 2 };

    test_assert_close ("boxes", &out[0], 2, bs, boxes, 1e-5, 0);
    test_assert_close ("scores", &out[1], 1, &n, scores, 1e-6, 0);
    test_assert_close ("labels", &out[2], 1, &n, labels, 0, 0);
  }
  for (int o = 0; o < 3; o++)
    g_free (out[o].data);

  /* detections_per_img 1 keeps the best. */
  p.detections_per_img = 1;
  test_run_op (&tvw_op_roi_detections, &p, 4, in, 0, NULL, 3, out, 0);
  g_assert_cmpint (out[0].shape[0], ==, 1);
  g_assert_cmpint (((gint64 *) out[2].data)[0], ==, 2);
  for (int o = 0; o < 3; o++)
    g_free (out[o].data);
}

static void
test_roi_detections_errors (void)
{
  const gint64 two = 2, ls[2] = { 2, 3 }, rs[2] = { 2, 8 }, ps[2] = { 2, 4 };
  float data[64] = { 0 };
  TvwRoiDetectionsParams p = { { 10, 10, 5, 5 }, 0.05, 0.5, 1e-2, 100 };
  TvwArray in[4];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, ls);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, rs);
  tvw_array_init (&in[2], TVW_ELEM_F32, 2, ps);
  tvw_array_init (&in[3], TVW_ELEM_F32, 1, &two);
  for (int i = 0; i < 4; i++)
    in[i].data = data;
  /* Box regression for two classes, logits for three. */
  assert_refused (&tvw_op_roi_detections, &p, 4, in, 3, "box regression [2, 8]");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/multi_scale_roi_align/levels", test_msra_levels);
  g_test_add_func ("/tvw/ops/multi_scale_roi_align/two-levels", test_msra_two_levels);
  g_test_add_func ("/tvw/ops/multi_scale_roi_align/bad-inputs", test_msra_errors);
  g_test_add_func ("/tvw/ops/rpn_proposals/reference", test_rpn_proposals);
  g_test_add_func ("/tvw/ops/rpn_proposals/by-hand", test_rpn_proposals_by_hand);
  g_test_add_func ("/tvw/ops/rpn_proposals/bad-inputs", test_rpn_proposals_errors);
  g_test_add_func ("/tvw/ops/roi_detections/reference", test_roi_detections);
  g_test_add_func ("/tvw/ops/roi_detections/by-hand", test_roi_detections_by_hand);
  g_test_add_func ("/tvw/ops/roi_detections/bad-inputs", test_roi_detections_errors);

  return g_test_run ();
}
