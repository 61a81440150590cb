/* test-ops-rcnn.c — the two-stage detectors' ops against their definitions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * multi_scale_roi_align against roi_align (tested in test-ops-nn.c) run
 * per box on the level torchvision's LevelMapper picks, computed here in
 * double from its formula; rpn_proposals and roi_candidates against
 * straightforward versions of filter_proposals' and
 * postprocess_detections' filtering (sigmoid in double, greedy NMS per
 * class by the definition after a full sort); and small cases whose
 * results were worked out by hand.  The whole models are checked against
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
      const gint64 k = 40, channels = 5, bs[2] = { k, 4 }, image[4] = { 1, 3, 200, 304 };
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
      /* Only the resized image's shape is read. */
      tvw_array_init (&in[1], TVW_ELEM_F32, 4, image);
      in[1].data = boxes.a.data;

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
  const gint64 image[4] = { 1, 3, 512, 512 }, s0[4] = { 1, 1, 32, 32 }, s1[4] = { 1, 1, 16, 16 };
  const gint64 bs[2] = { 2, 4 };
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
  tvw_array_init (&in[1], TVW_ELEM_F32, 4, image);
  in[1].data = f0;
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
  const gint64 image[2] = { 16, 16 }, one = 1, fs[4] = { 1, 3, 4, 4 }, fs2[4] = { 1, 2, 2, 2 };
  const gint64 bs[2] = { 1, 5 };
  float data[64] = { 0 };
  TvwMultiScaleRoiAlignParams p = { 7, 7, 2, 224, 4, 1e-6 };
  TvwArray in[4];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, image);
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, fs);
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, fs);
  for (int i = 0; i < 4; i++)
    in[i].data = data;
  /* Boxes with a batch column. */
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "expected [K, 4]");
  /* An image without a height and a width. */
  tvw_array_init (&in[0], TVW_ELEM_F32, 2, (const gint64[]) { 1, 4 });
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &one);
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "input 1");
  /* Levels of different channel counts. */
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, image);
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, fs2);
  assert_refused (&tvw_op_multi_scale_roi_align, &p, 4, in, 1, "feature map 1 is [1, 2, 2, 2]");
}

/* ---- rpn_proposals and roi_candidates ------------------------------------ */

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

/* Random clipped boxes in a 60×80 image, clustered so that NMS has work;
 * some a fraction of a pixel wide (remove_small_boxes). */
static void
random_boxes (GRand *rng,
              float *b,
              gint64 n)
{
  for (gint64 i = 0; i < n; i++, b += 4)
    {
      const double cx = g_rand_int_range (rng, 0, 4) * 20 + g_rand_double_range (rng, -3, 3);
      const double cy = g_rand_int_range (rng, 0, 3) * 20 + g_rand_double_range (rng, -3, 3);
      const double w = g_rand_int_range (rng, 0, 10) == 0 ? 0.005 : g_rand_double_range (rng, 3, 30);
      const double h = g_rand_double_range (rng, 3, 30);

      b[0] = (float) CLAMP (cx - w / 2, 0, 80);
      b[1] = (float) CLAMP (cy - h / 2, 0, 60);
      b[2] = (float) CLAMP (cx + w / 2, 0, 80);
      b[3] = (float) CLAMP (cy + h / 2, 0, 60);
    }
}

static int
by_value_desc (gconstpointer a,
               gconstpointer b)
{
  const float x = *(const float *) a, y = *(const float *) b;

  return x > y ? -1 : x < y;
}

static void
test_rpn_proposals (void)
{
  static const gint64 ks[3] = { 300, 40, 7 };
  static const int posts[] = { 1000, 25, 0 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (guint pi = 0; pi < G_N_ELEMENTS (posts); pi++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1810 + 10 * seed + pi);
        TvwRpnProposalsParams p = { 3, posts[pi], 0.7, seed == 1 ? 0.4 : 0.0, 1e-3 };
        float *logits[3] = { NULL }, *boxes[3] = { NULL };
        g_autofree double *want = NULL;
        GArray *cand = g_array_new (FALSE, FALSE, sizeof (Candidate));
        TvwArray in[6], out;
        int kept;

        for (int l = 0; l < 3; l++)
          {
            const gint64 bs[2] = { ks[l], 4 };

            /* A level's top-k: logits by decreasing value. */
            logits[l] = g_new (float, ks[l]);
            boxes[l] = g_new (float, 4 * ks[l]);
            for (gint64 i = 0; i < ks[l]; i++)
              logits[l][i] = (float) g_rand_double_range (rng, -4, 4);
            qsort (logits[l], ks[l], sizeof (float), by_value_desc);
            random_boxes (rng, boxes[l], ks[l]);
            tvw_array_init (&in[l], TVW_ELEM_F32, 1, &ks[l]);
            in[l].data = logits[l];
            tvw_array_init (&in[3 + l], TVW_ELEM_F32, 2, bs);
            in[3 + l].data = boxes[l];

            for (gint64 i = 0; i < ks[l]; i++)
              {
                const float *b = boxes[l] + 4 * i;
                Candidate c = { { b[0], b[1], b[2], b[3] }, 1 / (1 + exp (-(double) logits[l][i])),
                                l, (int) cand->len };

                if (b[2] - b[0] >= 1e-3 && b[3] - b[1] >= 1e-3 && c.score >= p.score_thresh)
                  g_array_append_val (cand, c);
              }
          }

        test_run_op (&tvw_op_rpn_proposals, &p, 6, in, 0, NULL, 1, &out, 0);

        kept = MIN (reference_nms ((Candidate *) cand->data, (int) cand->len, p.nms_thresh),
                    p.post_nms_top_n);
        want = g_new (double, 4 * MAX (kept, 1));
        for (int i = 0; i < kept; i++)
          memcpy (want + 4 * i, g_array_index (cand, Candidate, i).box, 4 * sizeof (double));
        {
          const gint64 shape[2] = { kept, 4 };

          /* The boxes are copied: exact. */
          test_assert_close ("rpn_proposals", &out, 2, shape, want, 0, 0);
        }
        g_test_message ("rpn_proposals: post %d, %u candidates, %d kept", posts[pi], cand->len, kept);
        g_free (out.data);
        g_array_unref (cand);
        for (int l = 0; l < 3; l++)
          {
            g_free (logits[l]);
            g_free (boxes[l]);
          }
      }
}

/* Three boxes on one level; worked out by hand. */
static void
test_rpn_proposals_by_hand (void)
{
  const gint64 three = 3, bs[2] = { 3, 4 };
  /* Logits 2, 1, 0 (probabilities 0.881, 0.731, 0.5): [20, 5, 30, 15]
   * alone, then [3, 0, 13, 10], which overlaps [0, 0, 10, 10] by 70/130:
   * it suppresses it at 0.5, not at 0.7. */
  const float logits[3] = { 2, 1, 0 };
  const float boxes[12] = { 20, 5, 30, 15, 3, 0, 13, 10, 0, 0, 10, 10 };
  TvwRpnProposalsParams p = { 1, 1000, 0.5, 0.0, 1e-3 };
  TvwArray in[2], out;

  tvw_array_init (&in[0], TVW_ELEM_F32, 1, &three);
  in[0].data = (gpointer) logits;
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[1].data = (gpointer) boxes;

  test_run_op (&tvw_op_rpn_proposals, &p, 2, in, 0, NULL, 1, &out, 0);
  {
    const gint64 shape[2] = { 2, 4 };
    const double want[8] = { 20, 5, 30, 15, 3, 0, 13, 10 };

    test_assert_close ("by hand, 0.5", &out, 2, shape, want, 0, 0);
  }
  g_free (out.data);

  /* At 0.7 all three stay; post_nms_top_n 2 keeps the best two. */
  p.nms_thresh = 0.7;
  test_run_op (&tvw_op_rpn_proposals, &p, 2, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 3);
  g_free (out.data);
  p.post_nms_top_n = 2;
  test_run_op (&tvw_op_rpn_proposals, &p, 2, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 2);
  g_free (out.data);

  /* A threshold over sigmoid (1) leaves the first alone; one over every
   * probability leaves nothing. */
  p.score_thresh = 0.75;
  test_run_op (&tvw_op_rpn_proposals, &p, 2, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 1);
  g_free (out.data);
  p.score_thresh = 0.99;
  test_run_op (&tvw_op_rpn_proposals, &p, 2, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 0);
  g_free (out.data);
}

static void
test_rpn_proposals_errors (void)
{
  const gint64 three = 3, bs[2] = { 2, 4 };
  float data[64] = { 0 };
  TvwRpnProposalsParams p = { 1, 1000, 0.7, 0.0, 1e-3 };
  TvwArray in[2];

  tvw_array_init (&in[0], TVW_ELEM_F32, 1, &three);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[0].data = in[1].data = data;
  /* Three logits, two boxes. */
  assert_refused (&tvw_op_rpn_proposals, &p, 2, in, 1, "logits [3] and boxes [2, 4]");
  /* Two levels announced, one given. */
  p.n_levels = 2;
  assert_refused (&tvw_op_rpn_proposals, &p, 2, in, 1, "2 levels, 2 inputs");
}

static void
test_roi_candidates (void)
{
  static const gint64 ks[] = { 0, 1, 30, 200 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (guint ki = 0; ki < G_N_ELEMENTS (ks); ki++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1850 + 10 * seed + ki);
        const gint64 k = ks[ki], c = 6, ss[2] = { k, c }, bs[2] = { k, 4 * c };
        TvwRoiCandidatesParams p = { seed == 2 ? 0.3 : 0.05, 1e-2 };
        g_autofree float *scores = g_new (float, MAX (k * c, 1));
        g_autofree float *boxes = g_new (float, MAX (4 * k * c, 1));
        g_autofree double *want_boxes = g_new (double, MAX (4 * k * c, 1));
        g_autofree double *want_scores = g_new (double, MAX (k * c, 1));
        g_autofree double *want_labels = g_new (double, MAX (k * c, 1));
        TvwArray in[2], out[3];
        gint64 m = 0;

        for (gint64 i = 0; i < k * c; i++)
          scores[i] = (float) g_rand_double (rng);
        random_boxes (rng, boxes, k * c);
        tvw_array_init (&in[0], TVW_ELEM_F32, 2, ss);
        in[0].data = scores;
        tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
        in[1].data = boxes;

        test_run_op (&tvw_op_roi_candidates, &p, 2, in, 0, NULL, 3, out, 0);

        for (gint64 i = 0; i < k; i++)
          for (gint64 j = 1; j < c; j++)
            {
              const float *b = boxes + 4 * (i * c + j);

              if (scores[i * c + j] > p.score_thresh && b[2] - b[0] >= 1e-2 && b[3] - b[1] >= 1e-2)
                {
                  for (int e = 0; e < 4; e++)
                    want_boxes[4 * m + e] = b[e];
                  want_scores[m] = scores[i * c + j];
                  want_labels[m] = (double) j;
                  m++;
                }
            }
        {
          const gint64 obs[2] = { m, 4 };

          test_assert_close ("roi_candidates boxes", &out[0], 2, obs, want_boxes, 0, 0);
          test_assert_close ("roi_candidates scores", &out[1], 1, &m, want_scores, 0, 0);
          test_assert_close ("roi_candidates labels", &out[2], 1, &m, want_labels, 0, 0);
        }
        for (int o = 0; o < 3; o++)
          g_free (out[o].data);
      }
}

/* Two RoIs, three classes; worked out by hand. */
static void
test_roi_candidates_by_hand (void)
{
  const gint64 ss[2] = { 2, 3 }, bs[2] = { 2, 12 };
  /* The background (column 0) never counts; 0.05 is not over 0.05; the
   * 0.005-wide box is too small. */
  const float scores[6] = { 0.9f, 0.05f, 0.6f, 0.1f, 0.3f, 0.5f };
  const float boxes[24] = { 0, 0, 9, 9, 1, 1, 5, 5, 2, 2, 8, 8,
                            0, 0, 9, 9, 3, 3, 6, 7, 4, 4, 4.005f, 9 };
  TvwRoiCandidatesParams p = { 0.05, 1e-2 };
  TvwArray in[2], out[3];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, ss);
  in[0].data = (gpointer) scores;
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[1].data = (gpointer) boxes;
  test_run_op (&tvw_op_roi_candidates, &p, 2, in, 0, NULL, 3, out, 0);
  {
    const gint64 obs[2] = { 2, 4 }, n = 2;
    const double want_boxes[8] = { 2, 2, 8, 8, 3, 3, 6, 7 };
    const double want_scores[2] = { 0.6f, 0.3f }, want_labels[2] = { 2, 1 };

    test_assert_close ("boxes", &out[0], 2, obs, want_boxes, 0, 0);
    test_assert_close ("scores", &out[1], 1, &n, want_scores, 0, 0);
    test_assert_close ("labels", &out[2], 1, &n, want_labels, 0, 0);
  }
  for (int o = 0; o < 3; o++)
    g_free (out[o].data);
}

static void
test_roi_candidates_errors (void)
{
  const gint64 ss[2] = { 2, 3 }, bs[2] = { 2, 8 };
  float data[64] = { 0 };
  TvwRoiCandidatesParams p = { 0.05, 1e-2 };
  TvwArray in[2];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, ss);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[0].data = in[1].data = data;
  /* Boxes for two classes, scores for three. */
  assert_refused (&tvw_op_roi_candidates, &p, 2, in, 3, "scores [2, 3] and boxes [2, 8]");
}

/* ---- paste_masks --------------------------------------------------------- */

/* One detection, worked out by hand: a 2×2 mask of label 1 certain
 * everywhere (sigmoid (20) is 1 in float), box [10, 20, 18, 24] in a
 * 30×40 image.  expand_masks pads it to 4×4 with a zero border, scale
 * 4 / 2 = 2; expand_boxes gives [6, 18, 22, 26], so the mask is resized
 * to 17×9 and pasted on rows 18…26, columns 6…22.  At the centre (22, 14)
 * the sources are 1.5, 1.5 (between two ones): 1; at the corner (18, 6)
 * the source is the zero border: 0. */
static void
test_paste_masks_by_hand (void)
{
  const gint64 ms[4] = { 1, 2, 2, 2 }, one = 1, bs[2] = { 1, 4 }, image[4] = { 1, 3, 30, 40 };
  const float logits[8] = { -20, -20, -20, -20, 20, 20, 20, 20 };
  const gint64 labels[1] = { 1 };
  const float boxes[4] = { 10, 20, 18, 24 };
  TvwArray in[4], out;
  const float *m;
  int inside = 0;

  tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
  in[0].data = (gpointer) logits;
  tvw_array_init (&in[1], TVW_ELEM_I64, 1, &one);
  in[1].data = (gpointer) labels;
  tvw_array_init (&in[2], TVW_ELEM_F32, 2, bs);
  in[2].data = (gpointer) boxes;
  tvw_array_init (&in[3], TVW_ELEM_F32, 4, image);
  in[3].data = (gpointer) logits;

  test_run_op (&tvw_op_paste_masks, NULL, 4, in, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.rank, ==, 4);
  g_assert_cmpint (out.shape[0], ==, 1);
  g_assert_cmpint (out.shape[1], ==, 1);
  g_assert_cmpint (out.shape[2], ==, 30);
  g_assert_cmpint (out.shape[3], ==, 40);
  m = out.data;
  g_assert_cmpfloat (m[22 * 40 + 14], ==, 1.f);
  g_assert_cmpfloat (m[18 * 40 + 6], ==, 0.f);
  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      {
        const gboolean in_box = y >= 18 && y <= 26 && x >= 6 && x <= 22;

        g_assert_true (m[y * 40 + x] >= 0.f && m[y * 40 + x] <= 1.f);
        if (!in_box)
          g_assert_cmpfloat (m[y * 40 + x], ==, 0.f);
        else
          inside += m[y * 40 + x] > 0.5f;
      }
  /* The certain 2×2 core covers about half of the expanded box. */
  g_assert_cmpint (inside, >, 30);
  g_assert_cmpint (inside, <, 17 * 9);
  g_free (out.data);
}

/* Random detections, some over the image's edges, against
 * paste_masks_in_image written out in double (the box arithmetic in
 * float32 as torchvision's, so that both paste at the same pixels). */
static void
test_paste_masks (void)
{
  for (int seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1870 + seed);
      const gint64 k = seed == 0 ? 0 : 6, c = 3, mm = 5, h = 37, w = 29;
      const gint64 ms[4] = { k, c, mm, mm }, bs[2] = { k, 4 }, image[4] = { 1, 3, h, w };
      g_autofree float *logits = g_new (float, MAX (k * c * mm * mm, 1));
      g_autofree gint64 *labels = g_new (gint64, MAX (k, 1));
      g_autofree float *boxes = g_new (float, MAX (4 * k, 1));
      g_autofree double *want = g_new0 (double, MAX (k * h * w, 1));
      TvwArray in[4], out;

      for (gint64 i = 0; i < k * c * mm * mm; i++)
        logits[i] = (float) g_rand_double_range (rng, -4, 4);
      for (gint64 i = 0; i < k; i++)
        {
          const double x = g_rand_double_range (rng, -10, 30), y = g_rand_double_range (rng, -10, 40);

          labels[i] = g_rand_int_range (rng, 0, (int) c);
          boxes[4 * i] = (float) x;
          boxes[4 * i + 1] = (float) y;
          boxes[4 * i + 2] = (float) (x + g_rand_double_range (rng, 0, 25));
          boxes[4 * i + 3] = (float) (y + g_rand_double_range (rng, 0, 25));
        }
      tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
      in[0].data = logits;
      tvw_array_init (&in[1], TVW_ELEM_I64, 1, &k);
      in[1].data = labels;
      tvw_array_init (&in[2], TVW_ELEM_F32, 2, bs);
      in[2].data = boxes;
      tvw_array_init (&in[3], TVW_ELEM_F32, 4, image);
      in[3].data = logits;

      test_run_op (&tvw_op_paste_masks, NULL, 4, in, 0, NULL, 1, &out, 0);

      for (gint64 i = 0; i < k; i++)
        {
          const float *b = boxes + 4 * i, scale = (float) (mm + 2) / (float) mm;
          const float wh = (b[2] - b[0]) * 0.5f * scale, hh = (b[3] - b[1]) * 0.5f * scale;
          const float xc = (b[2] + b[0]) * 0.5f, yc = (b[3] + b[1]) * 0.5f;
          const gint64 x0 = (gint64) (xc - wh), x1 = (gint64) (xc + wh);
          const gint64 y0 = (gint64) (yc - hh), y1 = (gint64) (yc + hh);
          const gint64 bw = MAX (x1 - x0 + 1, 1), bh = MAX (y1 - y0 + 1, 1);
          double padded[7][7] = { { 0 } };

          for (int r = 0; r < mm; r++)
            for (int q = 0; q < mm; q++)
              padded[r + 1][q + 1] = 1 / (1 + exp (-(double) logits[((i * c + labels[i]) * mm + r) * mm + q]));
          for (gint64 yy = MAX (y0, 0); yy < MIN (y1 + 1, h); yy++)
            for (gint64 xx = MAX (x0, 0); xx < MIN (x1 + 1, w); xx++)
              {
                /* F.interpolate, bilinear, align_corners=False */
                const double sy = MAX ((double) (mm + 2) / bh * (yy - y0 + 0.5) - 0.5, 0);
                const double sx = MAX ((double) (mm + 2) / bw * (xx - x0 + 0.5) - 0.5, 0);
                const int r0 = (int) sy, q0 = (int) sx;
                const int r1 = r0 < mm + 1 ? r0 + 1 : r0, q1 = q0 < mm + 1 ? q0 + 1 : q0;
                const double ly = sy - r0, lx = sx - q0;

                want[(i * h + yy) * w + xx] =
                  (1 - ly) * ((1 - lx) * padded[r0][q0] + lx * padded[r0][q1]) +
                  ly * ((1 - lx) * padded[r1][q0] + lx * padded[r1][q1]);
              }
        }
      {
        const gint64 shape[4] = { k, 1, h, w };

        /* Probabilities in [0, 1] through float32 sampling weights. */
        test_assert_close ("paste_masks", &out, 4, shape, want, 1e-5, 0);
      }
      g_free (out.data);
    }
}

static void
test_paste_masks_errors (void)
{
  const gint64 ms[4] = { 2, 3, 4, 4 }, one = 1, bs[2] = { 2, 4 }, image[2] = { 8, 8 };
  float data[128] = { 0 };
  TvwArray in[4];

  tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
  tvw_array_init (&in[1], TVW_ELEM_I64, 1, &one);
  tvw_array_init (&in[2], TVW_ELEM_F32, 2, bs);
  tvw_array_init (&in[3], TVW_ELEM_F32, 2, image);
  for (int i = 0; i < 4; i++)
    in[i].data = data;
  /* One label for two masks. */
  assert_refused (&tvw_op_paste_masks, NULL, 4, in, 1, "labels [1]");
}

/* ---- heatmaps_to_keypoints ---------------------------------------------- */

/* A box the size of the map: bicubic at scale 1 samples the pixels
 * themselves (t = 0), so the keypoint is the peak's centre plus the box's
 * corner and its score the peak; a box under a pixel wide counts as one. */
static void
test_keypoints_by_hand (void)
{
  const gint64 ms[4] = { 2, 1, 4, 5 }, bs[2] = { 2, 4 };
  float maps[40] = { 0 };
  const float boxes[8] = { 10, 20, 15, 24, 3, 3, 3.5f, 3.25f };
  TvwArray in[2], out[2];
  const float *kp, *sc;

  maps[2 * 5 + 3] = 7;        /* detection 0: peak at (y 2, x 3) */
  maps[20 + 1 * 5 + 1] = 2;   /* detection 1: the 1×1 resize averages the map */
  tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
  in[0].data = maps;
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[1].data = (gpointer) boxes;
  test_run_op (&tvw_op_heatmaps_to_keypoints, NULL, 2, in, 0, NULL, 2, out, 0);
  g_assert_cmpint (out[0].rank, ==, 3);
  g_assert_cmpint (out[0].shape[2], ==, 3);
  kp = out[0].data;
  sc = out[1].data;
  g_assert_cmpfloat (kp[0], ==, 13.5f);
  g_assert_cmpfloat (kp[1], ==, 22.5f);
  g_assert_cmpfloat (kp[2], ==, 1.f);
  g_assert_cmpfloat (sc[0], ==, 7.f);
  /* Widths and heights clamped to 1: the one pixel's centre, 0.5 in. */
  g_assert_cmpfloat (kp[3], ==, 3.5f);
  g_assert_cmpfloat (kp[4], ==, 3.5f);
  for (int o = 0; o < 2; o++)
    g_free (out[o].data);
}

/* Bicubic interpolation (A = -0.75, align_corners=False, indices clamped)
 * of @map h×w at output pixel (oy, ox) of an rh×rw resize, in double. */
static double
reference_bicubic (const float *map,
                   int          h,
                   int          w,
                   int          rh,
                   int          rw,
                   int          oy,
                   int          ox)
{
  const double a = -0.75, ry = (double) h / rh * (oy + 0.5) - 0.5, rx = (double) w / rw * (ox + 0.5) - 0.5;
  const double fy = floor (ry), fx = floor (rx), ty = ry - fy, tx = rx - fx;
  double cy[4], cx[4], v = 0;

  for (int k = 0; k < 4; k++)
    {
      const double dy = fabs (ty - (k - 1)), dx = fabs (tx - (k - 1));

      cy[k] = dy <= 1 ? ((a + 2) * dy - (a + 3)) * dy * dy + 1 : ((a * dy - 5 * a) * dy + 8 * a) * dy - 4 * a;
      cx[k] = dx <= 1 ? ((a + 2) * dx - (a + 3)) * dx * dx + 1 : ((a * dx - 5 * a) * dx + 8 * a) * dx - 4 * a;
    }
  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 4; j++)
      {
        const int y = CLAMP ((int) fy - 1 + k, 0, h - 1), x = CLAMP ((int) fx - 1 + j, 0, w - 1);

        v += cy[k] * cx[j] * map[y * w + x];
      }
  return v;
}

/* Random maps and boxes: each keypoint must sit on a maximum of the
 * resized map (within float rounding: near-ties may pick either), at that
 * pixel's centre in the box, with the map's value there as its score. */
static void
test_keypoints_reference (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1890);
  const gint64 k = 5, np = 3, mh = 8, mw = 8, ms[4] = { k, np, mh, mw }, bs[2] = { k, 4 };
  float maps[5 * 3 * 64], boxes[20];
  TvwArray in[2], out[2];

  for (int i = 0; i < 5 * 3 * 64; i++)
    maps[i] = (float) g_rand_double_range (rng, -2, 2);
  for (int i = 0; i < 5; i++)
    {
      const double x = g_rand_double_range (rng, 0, 50), y = g_rand_double_range (rng, 0, 50);

      boxes[4 * i] = (float) x;
      boxes[4 * i + 1] = (float) y;
      boxes[4 * i + 2] = (float) (x + g_rand_double_range (rng, 0.5, 30));
      boxes[4 * i + 3] = (float) (y + g_rand_double_range (rng, 0.5, 30));
    }
  tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
  in[0].data = maps;
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[1].data = boxes;
  test_run_op (&tvw_op_heatmaps_to_keypoints, NULL, 2, in, 0, NULL, 2, out, 0);

  for (int i = 0; i < k; i++)
    for (int p = 0; p < np; p++)
      {
        const float *b = boxes + 4 * i, *map = maps + (i * np + p) * 64;
        const double bw = MAX (b[2] - b[0], 1.f), bh = MAX (b[3] - b[1], 1.f);
        const int rw = (int) ceil (bw), rh = (int) ceil (bh);
        const float *kp = (const float *) out[0].data + 3 * (i * np + p);
        const double score = ((const float *) out[1].data)[i * np + p];
        const int ox = (int) floor ((kp[0] - b[0]) / (bw / rw)), oy = (int) floor ((kp[1] - b[1]) / (bh / rh));
        double best = -INFINITY;

        for (int y = 0; y < rh; y++)
          for (int x = 0; x < rw; x++)
            best = MAX (best, reference_bicubic (map, 8, 8, rh, rw, y, x));
        g_assert_cmpint (ox, >=, 0);
        g_assert_cmpint (ox, <, rw);
        g_assert_cmpint (oy, >=, 0);
        g_assert_cmpint (oy, <, rh);
        g_assert_cmpfloat (fabs (kp[0] - (b[0] + (ox + 0.5) * bw / rw)), <=, 1e-4);
        g_assert_cmpfloat (fabs (kp[1] - (b[1] + (oy + 0.5) * bh / rh)), <=, 1e-4);
        g_assert_cmpfloat (kp[2], ==, 1.f);
        g_assert_cmpfloat (fabs (score - reference_bicubic (map, 8, 8, rh, rw, oy, ox)), <=, 1e-5);
        g_assert_cmpfloat (score, >=, best - 1e-5);
      }
  for (int o = 0; o < 2; o++)
    g_free (out[o].data);
}

static void
test_keypoints_errors (void)
{
  const gint64 ms[4] = { 2, 17, 56, 56 }, bs[2] = { 3, 4 };
  float data[16] = { 0 };
  TvwArray in[2];

  tvw_array_init (&in[0], TVW_ELEM_F32, 4, ms);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[0].data = in[1].data = data;
  /* Three boxes for two detections' maps. */
  assert_refused (&tvw_op_heatmaps_to_keypoints, NULL, 2, in, 2, "boxes [3, 4]");
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
  g_test_add_func ("/tvw/ops/roi_candidates/reference", test_roi_candidates);
  g_test_add_func ("/tvw/ops/roi_candidates/by-hand", test_roi_candidates_by_hand);
  g_test_add_func ("/tvw/ops/roi_candidates/bad-inputs", test_roi_candidates_errors);
  g_test_add_func ("/tvw/ops/paste_masks/by-hand", test_paste_masks_by_hand);
  g_test_add_func ("/tvw/ops/paste_masks/reference", test_paste_masks);
  g_test_add_func ("/tvw/ops/paste_masks/bad-inputs", test_paste_masks_errors);
  g_test_add_func ("/tvw/ops/heatmaps_to_keypoints/by-hand", test_keypoints_by_hand);
  g_test_add_func ("/tvw/ops/heatmaps_to_keypoints/reference", test_keypoints_reference);
  g_test_add_func ("/tvw/ops/heatmaps_to_keypoints/bad-inputs", test_keypoints_errors);

  return g_test_run ();
}
