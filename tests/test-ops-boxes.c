/* test-ops-boxes.c — the detection box ops (tvw-op-boxes.c) and the
 * transform's resize rule, against torchvision
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Expected values are either torchvision's, computed with torchvision
 * 0.14.1 when the test was written and quoted here (the anchors, the
 * resized sizes), hand-checked small cases (box decoding, rescaling), or
 * the op's definition computed by the test in double precision on random
 * inputs of several layouts (padding, decoding, top-k selection).
 */

#include "config.h"

#include "tvw-op-test.h"

/* ---- interpolate: GeneralizedRCNNTransform's size rule ----------------- */

static void
test_resize_min_max (void)
{
  /* (min_size, max_size, h, w) → torchvision's resized (h, w):
   * torch.min (min_size / min_f32, max_size / max_f32).item () then
   * floor (size · scale).  Every case but the last is one where a float32
   * division (rather than PyTorch's reciprocal times the number) would
   * give another size. */
  static const struct
  {
    double min_size, max_size;
    gint64 h, w, out_h, out_w;
  } cases[] = {
    { 160, 256, 3, 4, 160, 213 },
    { 160, 256, 6, 6, 160, 160 },
    { 800, 1333, 3, 3, 800, 800 },
    { 800, 1333, 5, 11, 605, 1333 },
    { 320, 320, 1, 3, 106, 320 },
    { 320, 320, 2, 3, 213, 320 },
    { 160, 256, 333, 222, 240, 160 },
    { 800, 1333, 1, 1, 800, 800 },
    { 800, 1333, 480, 640, 800, 1066 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1800 + i);
      const gint64 shape[4] = { 1, 3, cases[i].h, cases[i].w };
      const TvwResizeParams rule = {
        .mode = TVW_RESIZE_BILINEAR,
        .min_size = cases[i].min_size,
        .max_size = cases[i].max_size,
      };
      TvwResizeParams sized = { cases[i].out_h, cases[i].out_w, 0, 0, TVW_RESIZE_BILINEAR, FALSE };
      TestArray x;
      TvwArray got = { 0 }, want = { 0 };
      gint64 idx[4];

      test_array_random (&x, rng, TVW_ELEM_F32, 4, shape, i % 2 ? TEST_LAYOUT_CHANNELS_LAST :
                         TEST_LAYOUT_CONTIGUOUS, 0, 1);
      test_run_op (&tvw_op_interpolate, &rule, 1, &x.a, 0, NULL, 1, &got, 0);
      g_assert_cmpint (got.shape[2], ==, cases[i].out_h);
      g_assert_cmpint (got.shape[3], ==, cases[i].out_w);

      /* The values are those of F.interpolate to that size (the scale
       * factor recomputed). */
      test_run_op (&tvw_op_interpolate, &sized, 1, &x.a, 0, NULL, 1, &want, 0);
      for (gint64 f = 0; f < tvw_array_numel (&want); f++)
        {
          test_unflatten (&want, f, idx);
          g_assert_cmpfloat (test_array_get (&got, idx), ==, test_array_get (&want, idx));
        }
      g_free (got.data);
      g_free (want.data);
      test_array_clear (&x);
    }
}

/* ---- pad_to_multiple --------------------------------------------------- */

static void
test_pad_to_multiple (void)
{
  static const int multiples[] = { 1, 32, 7 };

  for (int seed = 0; seed < 9; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1810 + seed);
      const TvwPadMultipleParams p = { multiples[seed % 3] };
      const gint64 shape[4] = { 1 + seed % 2, 3, g_rand_int_range (rng, 1, 70),
                                g_rand_int_range (rng, 1, 70) };
      TestArray x;
      TvwArray y = { 0 };
      gint64 idx[4];

      test_array_random (&x, rng, TVW_ELEM_F32, 4, shape, (TestLayout) (seed % TEST_N_LAYOUTS),
                         -2, 2);
      test_run_op (&tvw_op_pad_to_multiple, &p, 1, &x.a, 0, NULL, 1, &y, 0);
      /* ceil (size / d) · d */
      g_assert_cmpint (y.shape[2], ==, (shape[2] + p.multiple - 1) / p.multiple * p.multiple);
      g_assert_cmpint (y.shape[3], ==, (shape[3] + p.multiple - 1) / p.multiple * p.multiple);
      for (gint64 f = 0; f < tvw_array_numel (&y); f++)
        {
          test_unflatten (&y, f, idx);
          if (idx[2] < shape[2] && idx[3] < shape[3])
            g_assert_cmpfloat (test_array_get (&y, idx), ==, test_array_get (&x.a, idx));
          else
            g_assert_cmpfloat (test_array_get (&y, idx), ==, 0.0);
        }
      g_free (y.data);
      test_array_clear (&x);
    }
}

/* ---- anchor_generator -------------------------------------------------- */

static void
test_anchor_generator (void)
{
  /* AnchorGenerator (((32, 40, 50), (8,)), ((0.5, 1.0, 2.0), (1.0,))) on
   * a 20×30 image with 3×4 and 1×2 maps (strides 6×7 and 20×15), from
   * torchvision 0.14.1: the first location's nine anchors, those of row
   * 1, column 1, and level 1's two. */
  static const float cell[9][4] = {
    { -23, -11, 23, 11 }, { -28, -14, 28, 14 }, { -35, -18, 35, 18 },
    { -16, -16, 16, 16 }, { -20, -20, 20, 20 }, { -25, -25, 25, 25 },
    { -11, -23, 11, 23 }, { -14, -28, 14, 28 }, { -18, -35, 18, 35 },
  };
  static const float at_1_1[9][4] = {
    { -16, -5, 30, 17 }, { -21, -8, 35, 20 }, { -28, -12, 42, 24 },
    { -9, -10, 23, 22 }, { -13, -14, 27, 26 }, { -18, -19, 32, 31 },
    { -4, -17, 18, 29 }, { -7, -22, 21, 34 }, { -11, -29, 25, 41 },
  };
  static const float level1[2][4] = { { -4, -4, 4, 4 }, { 11, -4, 19, 4 } };
  static const double sizes0[3] = { 32, 40, 50 }, ratios0[3] = { 0.5, 1.0, 2.0 };
  static const double sizes1[1] = { 8 }, ratios1[1] = { 1.0 };
  TvwAnchorParams p = { 0 };
  const gint64 image_shape[4] = { 1, 3, 20, 30 };
  const gint64 f0_shape[4] = { 1, 5, 3, 4 }, f1_shape[4] = { 1, 5, 1, 2 };
  TvwArray in[3] = { 0 }, out[2] = { 0 };
  const float *a0, *a1;

  g_assert_true (tvw_anchor_params_set_level (&p, 0, 3, sizes0, 3, ratios0));
  g_assert_true (tvw_anchor_params_set_level (&p, 1, 1, sizes1, 1, ratios1));
  g_assert_cmpint (p.n_levels, ==, 2);
  /* Shapes only: no data needed. */
  tvw_array_init (&in[0], TVW_ELEM_F32, 4, image_shape);
  tvw_array_init (&in[1], TVW_ELEM_F32, 4, f0_shape);
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, f1_shape);
  test_run_op (&tvw_op_anchor_generator, &p, 3, in, 0, NULL, 2, out, 0);

  g_assert_cmpint (out[0].shape[0], ==, 3 * 4 * 9);
  g_assert_cmpint (out[1].shape[0], ==, 2);
  a0 = out[0].data;
  a1 = out[1].data;
  for (int a = 0; a < 9; a++)
    for (int j = 0; j < 4; j++)
      {
        g_assert_cmpfloat (a0[4 * a + j], ==, cell[a][j]);
        g_assert_cmpfloat (a0[4 * (9 * 5 + a) + j], ==, at_1_1[a][j]);
      }
  /* Every location by the definition: cell + (x · 7, y · 6). */
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 4; x++)
      for (int a = 0; a < 9; a++)
        for (int j = 0; j < 4; j++)
          g_assert_cmpfloat (a0[4 * ((y * 4 + x) * 9 + a) + j], ==,
                             cell[a][j] + (j % 2 == 0 ? x * 7 : y * 6));
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++)
      g_assert_cmpfloat (a1[4 * i + j], ==, level1[i][j]);

  g_free (out[0].data);
  g_free (out[1].data);
}

static void
test_anchor_rounding (void)
{
  /* torch.round halves to even: size 5, ratio 1 → ±2.5 → ±2; size 7 →
   * ±3.5 → ±4. */
  static const double sizes[2] = { 5, 7 }, ratio = 1.0;
  TvwAnchorParams p = { 0 };

  g_assert_true (tvw_anchor_params_set_level (&p, 0, 2, sizes, 1, &ratio));
  g_assert_cmpfloat (p.cell[0][0][0], ==, -2);
  g_assert_cmpfloat (p.cell[0][0][2], ==, 2);
  g_assert_cmpfloat (p.cell[0][1][1], ==, -4);
  g_assert_cmpfloat (p.cell[0][1][3], ==, 4);
  /* Too many anchors for a level, or a level out of range. */
  {
    double many[TVW_ANCHOR_MAX_PER_LEVEL + 1];

    for (int i = 0; i <= TVW_ANCHOR_MAX_PER_LEVEL; i++)
      many[i] = i + 1;
    g_assert_false (tvw_anchor_params_set_level (&p, 1, TVW_ANCHOR_MAX_PER_LEVEL + 1, many, 1,
                                                 &ratio));
    g_assert_false (tvw_anchor_params_set_level (&p, TVW_ANCHOR_MAX_LEVELS, 1, many, 1, &ratio));
  }
}

static void
test_anchor_bad_shapes (void)
{
  static const double size = 8, ratio = 1;
  TvwAnchorParams p = { 0 };
  const gint64 image_shape[4] = { 1, 3, 8, 8 }, big[4] = { 1, 5, 9, 4 };
  TvwArray in[2] = { 0 }, out[1] = { 0 };
  g_autoptr(GError) error = NULL;

  tvw_anchor_params_set_level (&p, 0, 1, &size, 1, &ratio);
  tvw_array_init (&in[0], TVW_ELEM_F32, 4, image_shape);
  tvw_array_init (&in[1], TVW_ELEM_F32, 4, big);
  /* A feature map larger than the image has no stride. */
  g_assert_false (tvw_op_eager (&tvw_op_anchor_generator, "anchors", &p, 2, in, 0, NULL, 1, out,
                                1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "anchors"));
}

/* ---- box_decode -------------------------------------------------------- */

static void
test_box_decode_cases (void)
{
  /* box (0, 0, 10, 20), centre (5, 10).  Deltas (0.1, -0.2, log 2, 0)
   * with weights 1: centre (6, 6), size 20×20 → (-4, -4, 16, 16), clipped
   * to 15×12 (h × w) → (0, 0, 12, 15).  Weights (10, 10, 5, 5) on codes
   * (1, -2, 5 log 2, 0) give the same box.  A huge dw is clamped at
   * log (1000 / 16): width 10 · 62.5.  Linear, normalised: codes (0.1,
   * 0.2, 0.3, 0.4) → (5 - 1, 10 - 4, 5 + 3, 10 + 8). */
  const float box[4] = { 0, 0, 10, 20 };
  const float ones[4] = { 1, 1, 1, 1 }, rcnn[4] = { 10, 10, 5, 5 };
  const float c1[4] = { 0.1f, -0.2f, logf (2.f), 0 }, c2[4] = { 1, -2, 5 * logf (2.f), 0 };
  const float huge[4] = { 0, 0, 100, 0 }, lin[4] = { 0.1f, 0.2f, 0.3f, 0.4f };
  float out[4];

  tvw_box_decode_deltas (c1, box, ones, out);
  g_assert_cmpfloat_with_epsilon (out[0], -4, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[1], -4, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[2], 16, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[3], 16, 1e-5);
  tvw_box_clip (out, 15, 12);
  g_assert_cmpfloat (out[0], ==, 0);
  g_assert_cmpfloat (out[1], ==, 0);
  g_assert_cmpfloat (out[2], ==, 12);
  g_assert_cmpfloat (out[3], ==, 15);
  tvw_box_decode_deltas (c2, box, rcnn, out);
  g_assert_cmpfloat_with_epsilon (out[0], -4, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[3], 16, 1e-5);
  tvw_box_decode_deltas (huge, box, ones, out);
  g_assert_cmpfloat_with_epsilon (out[2] - out[0], 625, 1e-2);
  tvw_box_decode_linear (lin, box, TRUE, out);
  g_assert_cmpfloat_with_epsilon (out[0], 4, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[1], 6, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[2], 8, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[3], 18, 1e-6);
  tvw_box_decode_linear (lin, box, FALSE, out);
  g_assert_cmpfloat_with_epsilon (out[0], 4.9, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[3], 10.4, 1e-6);
  g_assert_false (tvw_box_is_small (box, 10));
  g_assert_true (tvw_box_is_small (box, 10.5f));
}

static void
test_box_decode_random (void)
{
  for (int seed = 0; seed < 12; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1820 + seed);
      const int coder = seed % 3;   /* none (clip only), deltas, linear */
      const gint64 k = seed == 0 ? 0 : g_rand_int_range (rng, 1, 40), groups = 1 + seed % 2;
      const gint64 cshape[2] = { k, 4 * groups }, bshape[2] = { k, 4 };
      const gint64 ishape[4] = { 1, 3, 37, 53 };
      TvwBoxDecodeParams p = {
        .coder = coder,
        .weights = { 10, 10, 5, 5 },
        .normalize_by_size = seed % 4 != 3,
        .clip = seed % 2 == 0,
      };
      TestArray codes, boxes;
      TvwArray in[3] = { 0 }, y = { 0 };
      g_autofree double *want = g_new0 (double, k * 4 * groups + 1);
      gint64 idx[2];
      int n = 0;

      test_array_random (&codes, rng, TVW_ELEM_F32, 2, cshape,
                         (TestLayout) (seed % TEST_N_LAYOUTS), -3, 3);
      test_array_random (&boxes, rng, TVW_ELEM_F32, 2, bshape,
                         (TestLayout) ((seed + 1) % TEST_N_LAYOUTS), 0, 40);
      /* x2 ≥ x1, y2 ≥ y1 as boxes are */
      for (gint64 i = 0; i < k; i++)
        for (int j = 2; j < 4; j++)
          {
            gint64 lo[2] = { i, j - 2 }, hi[2] = { i, j };
            float *a = (float *) boxes.a.data + lo[0] * boxes.a.stride[0] + lo[1] * boxes.a.stride[1];
            float *b = (float *) boxes.a.data + hi[0] * boxes.a.stride[0] + hi[1] * boxes.a.stride[1];

            *b = *a + fabsf (*b - 20.f);
          }

      in[n++] = codes.a;
      if (coder != TVW_BOX_CODER_NONE)
        in[n++] = boxes.a;
      if (p.clip)
        tvw_array_init (&in[n++], TVW_ELEM_F32, 4, ishape);
      test_run_op (&tvw_op_box_decode, &p, n, in, 0, NULL, 1, &y, 0);

      /* The definition, in double */
      for (gint64 i = 0; i < k; i++)
        {
          double b[4];

          for (int j = 0; j < 4; j++)
            {
              idx[0] = i;
              idx[1] = j;
              b[j] = test_array_get (&boxes.a, idx);
            }
          for (gint64 g = 0; g < groups; g++)
            {
              double c[4], *o = &want[(i * groups + g) * 4];

              for (int j = 0; j < 4; j++)
                {
                  idx[0] = i;
                  idx[1] = 4 * g + j;
                  c[j] = test_array_get (&codes.a, idx);
                }
              if (coder == TVW_BOX_CODER_DELTAS)
                {
                  double w = b[2] - b[0], h = b[3] - b[1];
                  double cx = b[0] + w / 2 + c[0] / 10 * w, cy = b[1] + h / 2 + c[1] / 10 * h;
                  double pw = exp (MIN (c[2] / 5, log (1000. / 16))) * w;
                  double ph = exp (MIN (c[3] / 5, log (1000. / 16))) * h;

                  o[0] = cx - pw / 2;
                  o[1] = cy - ph / 2;
                  o[2] = cx + pw / 2;
                  o[3] = cy + ph / 2;
                }
              else if (coder == TVW_BOX_CODER_LINEAR)
                {
                  double w = p.normalize_by_size ? b[2] - b[0] : 1;
                  double h = p.normalize_by_size ? b[3] - b[1] : 1;

                  o[0] = (b[0] + b[2]) / 2 - c[0] * w;
                  o[1] = (b[1] + b[3]) / 2 - c[1] * h;
                  o[2] = (b[0] + b[2]) / 2 + c[2] * w;
                  o[3] = (b[1] + b[3]) / 2 + c[3] * h;
                }
              else
                memcpy (o, c, sizeof c);
              if (p.clip)
                for (int j = 0; j < 4; j++)
                  o[j] = CLAMP (o[j], 0, j % 2 == 0 ? 53 : 37);
            }
        }
      /* float32 arithmetic on values up to ~40 · e^0.6: 1e-4 absolute
       * plus 1e-5 relative */
      test_assert_close ("box_decode", &y, 2, cshape, want, 1e-4, 1e-5);
      g_free (y.data);
      test_array_clear (&codes);
      test_array_clear (&boxes);
    }
}

/* ---- rescale_boxes, remove_small_boxes --------------------------------- */

static void
test_rescale_boxes (void)
{
  /* resized 100×150 → original 40×90: x · 0.6, y · 0.4 */
  const float boxes[2][4] = { { 10, 20, 30, 40 }, { 0, 0, 150, 100 } };
  const float keypoints[1][2][3] = { { { 10, 20, 1 }, { 50, 50, 0 } } };
  const double want_boxes[8] = { 6, 8, 18, 16, 0, 0, 90, 40 };
  const double want_kp[6] = { 6, 8, 1, 30, 20, 0 };
  const gint64 bshape[2] = { 2, 4 }, kshape[3] = { 1, 2, 3 };
  const gint64 resized[4] = { 1, 3, 100, 150 }, original[4] = { 1, 3, 40, 90 };
  TvwArray in[3] = { 0 }, y = { 0 };

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, bshape);
  in[0].data = (gpointer) boxes;
  tvw_array_init (&in[1], TVW_ELEM_F32, 4, resized);
  tvw_array_init (&in[2], TVW_ELEM_F32, 4, original);
  test_run_op (&tvw_op_rescale_boxes, NULL, 3, in, 0, NULL, 1, &y, 0);
  test_assert_close ("rescale_boxes", &y, 2, bshape, want_boxes, 1e-5, 1e-6);
  g_free (y.data);

  tvw_array_init (&in[0], TVW_ELEM_F32, 3, kshape);
  in[0].data = (gpointer) keypoints;
  test_run_op (&tvw_op_rescale_boxes, NULL, 3, in, 0, NULL, 1, &y, 0);
  test_assert_close ("rescale_boxes (keypoints)", &y, 3, kshape, want_kp, 1e-5, 1e-6);
  g_free (y.data);
}

static void
test_remove_small_boxes (void)
{
  const float boxes[5][4] = {
    { 0, 0, 1, 1 }, { 0, 0, 0.5f, 3 }, { 2, 2, 5, 2.9f }, { 1, 1, 2, 2 }, { 3, 0, 9, 9 },
  };
  const gint64 shape[2] = { 5, 4 }, none[2] = { 0, 4 };
  const TvwRemoveSmallParams p = { 1.0 };
  TvwArray in = { 0 }, y = { 0 };
  const gint64 *keep;

  tvw_array_init (&in, TVW_ELEM_F32, 2, shape);
  in.data = (gpointer) boxes;
  test_run_op (&tvw_op_remove_small_boxes, &p, 1, &in, 0, NULL, 1, &y, 0);
  /* ws ≥ 1 and hs ≥ 1: boxes 0, 3, 4 */
  g_assert_cmpint (y.shape[0], ==, 3);
  keep = y.data;
  g_assert_cmpint (keep[0], ==, 0);
  g_assert_cmpint (keep[1], ==, 3);
  g_assert_cmpint (keep[2], ==, 4);
  g_free (y.data);

  tvw_array_init (&in, TVW_ELEM_F32, 2, none);
  test_run_op (&tvw_op_remove_small_boxes, &p, 1, &in, 0, NULL, 1, &y, 0);
  g_assert_cmpint (y.shape[0], ==, 0);
  g_free (y.data);
}

/* ---- score_topk -------------------------------------------------------- */

typedef struct
{
  double score;
  gint64 index;
} Ref;

static int
ref_order (gconstpointer a,
           gconstpointer b)
{
  const Ref *x = a, *y = b;

  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static void
test_score_topk (void)
{
  for (int seed = 0; seed < 16; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1830 + seed);
      const int mode = seed % 3;
      const gint64 rows = g_rand_int_range (rng, 1, 60), classes = g_rand_int_range (rng, 1, 9);
      const gint64 sshape[3] = { 1, rows, classes }, cshape[3] = { 1, rows, 1 };
      TvwScoreTopkParams p = {
        .mode = mode,
        .threshold = mode == TVW_SCORE_IDENTITY ? 0.2 : 0.4,
        .k = seed == 5 ? 0 : g_rand_int_range (rng, 1, 80),
        .per_class = seed % 4 == 1,
        .first_class = seed % 5 == 2 ? 1 : 0,
      };
      TestArray s, c;
      TvwArray in[2], out[3] = { 0 };
      g_autofree Ref *all = g_new (Ref, rows * classes);
      gint64 idx[3] = { 0 }, n_want = 0;
      const float *got_score;
      const gint64 *got_row, *got_label;

      if (seed == 7)
        p.threshold = 1.0;  /* nothing passes */
      test_array_random (&s, rng, TVW_ELEM_F32, 3, sshape, (TestLayout) (seed % TEST_N_LAYOUTS),
                         mode == TVW_SCORE_IDENTITY ? 0 : -3, mode == TVW_SCORE_IDENTITY ? 1 : 3);
      test_array_random (&c, rng, TVW_ELEM_F32, 3, cshape, TEST_LAYOUT_CONTIGUOUS, -3, 3);
      in[0] = s.a;
      in[1] = c.a;
      test_run_op (&tvw_op_score_topk, &p, mode == TVW_SCORE_SIGMOID_CENTERNESS ? 2 : 1, in, 0,
                   NULL, 3, out, 0);
      got_score = out[0].data;
      got_row = out[1].data;
      got_label = out[2].data;

      /* The definition in double: the scores over the threshold, by
       * decreasing score (k per class, classes in order, or k overall). */
      for (gint64 cls = p.first_class; cls < classes; cls++)
        {
          gint64 n = 0;
          gint64 lo = p.per_class ? cls : p.first_class, hi = p.per_class ? cls + 1 : classes;

          if (!p.per_class && cls > p.first_class)
            break;
          for (gint64 r = 0; r < rows; r++)
            for (gint64 j = lo; j < hi; j++)
              {
                double v;

                idx[1] = r;
                idx[2] = j;
                v = test_array_get (&s.a, idx);
                if (mode != TVW_SCORE_IDENTITY)
                  v = 1 / (1 + exp (-v));
                if (mode == TVW_SCORE_SIGMOID_CENTERNESS)
                  {
                    gint64 ci[3] = { 0, r, 0 };

                    v = sqrt (v / (1 + exp (-test_array_get (&c.a, ci))));
                  }
                /* no score within float rounding of the threshold here */
                g_assert_cmpfloat (fabs (v - p.threshold), >, 1e-6);
                if (v > p.threshold)
                  all[n++] = (Ref) { v, r * classes + j };
              }
          qsort (all, n, sizeof *all, ref_order);
          n = MIN (n, p.k);
          for (gint64 m = 0; m < n; m++, n_want++)
            {
              g_assert_cmpint (n_want, <, out[0].shape[0]);
              g_assert_cmpint (got_row[n_want], ==, all[m].index / classes);
              g_assert_cmpint (got_label[n_want], ==, all[m].index % classes);
              g_assert_cmpfloat_with_epsilon (got_score[n_want], all[m].score, 1e-6);
            }
        }
      g_assert_cmpint (out[0].shape[0], ==, n_want);
      g_assert_cmpint (out[1].shape[0], ==, n_want);
      g_assert_cmpint (out[2].shape[0], ==, n_want);
      if (seed == 7 || seed == 5)
        g_assert_cmpint (n_want, ==, 0);
      for (int o = 0; o < 3; o++)
        g_free (out[o].data);
      test_array_clear (&s);
      test_array_clear (&c);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/interpolate/detection-min-max-size", test_resize_min_max);
  g_test_add_func ("/tvw/ops/pad_to_multiple/random-strides", test_pad_to_multiple);
  g_test_add_func ("/tvw/ops/anchor_generator/torchvision", test_anchor_generator);
  g_test_add_func ("/tvw/ops/anchor_generator/rounding", test_anchor_rounding);
  g_test_add_func ("/tvw/ops/anchor_generator/bad-shapes", test_anchor_bad_shapes);
  g_test_add_func ("/tvw/ops/box_decode/cases", test_box_decode_cases);
  g_test_add_func ("/tvw/ops/box_decode/random-strides", test_box_decode_random);
  g_test_add_func ("/tvw/ops/rescale_boxes/boxes-and-keypoints", test_rescale_boxes);
  g_test_add_func ("/tvw/ops/remove_small_boxes/cases", test_remove_small_boxes);
  g_test_add_func ("/tvw/ops/score_topk/definition", test_score_topk);

  return g_test_run ();
}
