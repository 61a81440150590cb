/* test-ops-ssd.c — SSD's own ops: the L2 norm of conv4_3, the
 * default boxes, each against its definition computed here
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-op-test.h"

#define N_SEEDS 6

/* ---- ssd_l2_norm ------------------------------------------------------- */

static void
test_l2_norm_random (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1800 + seed);
      const gint64 c = g_rand_int_range (rng, 1, 70);
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 3), c, g_rand_int_range (rng, 1, 9),
                             g_rand_int_range (rng, 1, 9) };
      g_autofree double *want = NULL;
      gint64 n, idx[4];
      TestArray x, w;
      TvwArray out;

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -3, 3);
      test_array_random (&w, rng, TVW_ELEM_F32, 1, &c, TEST_LAYOUT_CONTIGUOUS, 1, 30);
      /* One pixel of zeros: divided by the 1e-12 floor, it stays 0. */
      for (gint64 k = 0; k < c; k++)
        ((float *) x.a.data)[k * x.a.stride[1]] = 0.f;

      n = tvw_array_numel (&x.a);
      want = g_new (double, n);
      for (gint64 f = 0; f < n; f++)
        {
          double sum = 0;

          test_unflatten (&x.a, f, idx);
          for (gint64 k = 0; k < c; k++)
            {
              gint64 j[4] = { idx[0], k, idx[2], idx[3] };
              double v = test_array_get (&x.a, j);

              sum += v * v;
            }
          want[f] = ((float *) w.a.data)[idx[1]] * test_array_get (&x.a, idx) / MAX (sqrt (sum), 1e-12);
        }

      test_run_op (&tvw_op_ssd_l2_norm, NULL, 1, &x.a, 1, &w.a, 1, &out, 0);
      /* A float sum of c squares and a division: a few ulps of the scale. */
      test_assert_close ("ssd_l2_norm", &out, 4, xs, want, 1e-5, 1e-5);

      g_free (out.data);
      test_array_clear (&x);
      test_array_clear (&w);
    }
}

static void
test_l2_norm_errors (void)
{
  const gint64 xs[4] = { 1, 6, 2, 2 }, ws = 5;
  TestArray x, w;
  g_autoptr(GRand) rng = g_rand_new_with_seed (1850);

  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w, rng, TVW_ELEM_F32, 1, &ws, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_assert_refused (&tvw_op_ssd_l2_norm, "backbone", NULL, 1, &x.a, 1, &w.a, 1,
                       TVW_ERROR_SHAPE_MISMATCH,
                       "scale_weight has 5 channels, the input has shape [1, 6, 2, 2]");
  test_array_clear (&x);
  test_array_clear (&w);
}

/* ---- ssd_default_boxes ------------------------------------------------- */

/* DefaultBoxGenerator by its definition, in double: [A, 4]. */
static double *
reference_default_boxes (const TvwSsdDefaultBoxesParams *p,
                         gint64                          image_h,
                         gint64                          image_w,
                         const gint64                  (*maps)[2],
                         gint64                         *n_boxes)
{
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (double));

  for (int k = 0; k < p->n_levels; k++)
    {
      double wh[2 * (2 + 2 * TVW_SSD_MAX_RATIOS)];
      int n_pairs = 2 + 2 * p->n_ratios[k];
      double f_x = p->steps[k] > 0 ? image_w / p->steps[k] : maps[k][1];
      double f_y = p->steps[k] > 0 ? image_h / p->steps[k] : maps[k][0];

      wh[0] = wh[1] = p->scales[k];
      wh[2] = wh[3] = sqrt (p->scales[k] * p->scales[k + 1]);
      for (int r = 0; r < p->n_ratios[k]; r++)
        {
          wh[4 + 4 * r] = wh[7 + 4 * r] = p->scales[k] * sqrt (p->ratios[k][r]);
          wh[5 + 4 * r] = wh[6 + 4 * r] = p->scales[k] / sqrt (p->ratios[k][r]);
        }
      for (int i = 0; p->clip && i < 2 * n_pairs; i++)
        wh[i] = CLAMP (wh[i], 0.0, 1.0);

      for (gint64 y = 0; y < maps[k][0]; y++)
        for (gint64 x = 0; x < maps[k][1]; x++)
          for (int j = 0; j < n_pairs; j++)
            {
              double cx = (x + 0.5) / f_x, cy = (y + 0.5) / f_y;
              double b[4] = {
                (cx - wh[2 * j] / 2) * image_w, (cy - wh[2 * j + 1] / 2) * image_h,
                (cx + wh[2 * j] / 2) * image_w, (cy + wh[2 * j + 1] / 2) * image_h,
              };

              g_array_append_vals (boxes, b, 4);
            }
    }

  *n_boxes = boxes->len / 4;
  return (double *) g_array_free (boxes, FALSE);
}

/* Runs the op on an image of @image_h×@image_w and maps of @maps,
 * checking it against the reference; returns the number of boxes. */
static gint64
check_default_boxes (const TvwSsdDefaultBoxesParams *p,
                     gint64                          image_h,
                     gint64                          image_w,
                     const gint64                  (*maps)[2])
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1900);
  g_autofree double *want = NULL;
  TestArray in[TVW_SSD_MAX_LEVELS + 1];
  TvwArray arrays[TVW_SSD_MAX_LEVELS + 1], out;
  gint64 n_boxes, shape[2];

  test_array_random (&in[0], rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 3, image_h, image_w },
                     TEST_LAYOUT_CONTIGUOUS, 0, 1);
  for (int k = 0; k < p->n_levels; k++)
    test_array_random (&in[k + 1], rng, TVW_ELEM_F32, 4,
                       (gint64[]) { 1, 1 + k, maps[k][0], maps[k][1] },
                       k % 2 ? TEST_LAYOUT_CHANNELS_LAST : TEST_LAYOUT_GAPPED, 0, 1);
  for (int i = 0; i <= p->n_levels; i++)
    arrays[i] = in[i].a;

  want = reference_default_boxes (p, image_h, image_w, maps, &n_boxes);
  shape[0] = n_boxes;
  shape[1] = 4;
  test_run_op (&tvw_op_ssd_default_boxes, p, p->n_levels + 1, arrays, 0, NULL, 1, &out, 0);
  /* Float arithmetic on pixel coordinates up to ~1000: a few ulps. */
  test_assert_close ("ssd_default_boxes", &out, 2, shape, want, 1e-3, 1e-6);

  g_free (out.data);
  for (int i = 0; i <= p->n_levels; i++)
    test_array_clear (&in[i]);
  return n_boxes;
}

/* ssd300_vgg16's generator on its 300×300 maps gives SSD's 8732 boxes;
 * on another image size the boxes follow the new shapes. */
static void
test_default_boxes_ssd300 (void)
{
  TvwSsdDefaultBoxesParams p = {
    .n_levels = 6,
    .n_ratios = { 1, 2, 2, 2, 1, 1 },
    .ratios = { { 2 }, { 2, 3 }, { 2, 3 }, { 2, 3 }, { 2 }, { 2 } },
    .scales = { 0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05 },
    .steps = { 8, 16, 32, 64, 100, 300 },
    .clip = TRUE,
  };
  const gint64 maps300[6][2] = { { 38, 38 }, { 19, 19 }, { 10, 10 }, { 5, 5 }, { 3, 3 }, { 1, 1 } };
  const gint64 maps_odd[6][2] = { { 30, 41 }, { 15, 21 }, { 8, 11 }, { 4, 6 }, { 2, 4 }, { 1, 1 } };

  g_assert_cmpint (check_default_boxes (&p, 300, 300, maps300), ==, 8732);
  g_assert_cmpint (check_default_boxes (&p, 240, 330, maps_odd), ==,
                   (30 * 41 + 1 * 1) * 4 + (15 * 21 + 8 * 11 + 4 * 6) * 6 + 2 * 4 * 4);
}

/* ssdlite320's: no steps (the maps' own sizes), scales from min_ratio and
 * max_ratio, pairs clipped at 1; and unclipped. */
static void
test_default_boxes_ssdlite (void)
{
  TvwSsdDefaultBoxesParams p = { .n_levels = 6, .clip = TRUE };
  const gint64 maps[6][2] = { { 20, 20 }, { 10, 10 }, { 5, 5 }, { 3, 3 }, { 2, 2 }, { 1, 1 } };
  const gint64 maps2[2][2] = { { 7, 3 }, { 1, 2 } };

  for (int k = 0; k < 6; k++)
    {
      p.n_ratios[k] = 2;
      p.ratios[k][0] = 2;
      p.ratios[k][1] = 3;
      p.scales[k] = 0.2 + 0.75 * k / 5.0;
    }
  p.scales[6] = 1.0;
  g_assert_cmpint (check_default_boxes (&p, 320, 320, maps), ==, 6 * (400 + 100 + 25 + 9 + 4 + 1));

  /* Scales over 1 unclipped, one level without ratios. */
  p = (TvwSsdDefaultBoxesParams) {
    .n_levels = 2, .n_ratios = { 0, 1 }, .ratios = { { 0 }, { 4 } },
    .scales = { 0.9, 1.3, 2.0 }, .steps = { 0, 7 }, .clip = FALSE,
  };
  g_assert_cmpint (check_default_boxes (&p, 50, 21, maps2), ==, 7 * 3 * 2 + 2 * 4);
}

static void
test_default_boxes_errors (void)
{
  TvwSsdDefaultBoxesParams p = { .n_levels = 2, .scales = { 0.1, 0.2, 0.3 }, .clip = TRUE };
  TvwArray in[2];

  tvw_array_init (&in[0], TVW_ELEM_F32, 4, (gint64[]) { 1, 3, 8, 8 });
  tvw_array_init (&in[1], TVW_ELEM_F32, 4, (gint64[]) { 1, 3, 8, 8 });
  in[0].data = in[1].data = NULL;
  /* One feature map for two levels. */
  test_assert_refused (&tvw_op_ssd_default_boxes, "anchor_generator", &p, 2, in, 0, NULL, 1,
                       TVW_ERROR_INVALID_ARGUMENT, "1 feature maps for 2 levels");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/ssd_l2_norm/random", test_l2_norm_random);
  g_test_add_func ("/tvw/ops/ssd_l2_norm/bad-scale", test_l2_norm_errors);
  g_test_add_func ("/tvw/ops/ssd_default_boxes/ssd300-and-other-sizes", test_default_boxes_ssd300);
  g_test_add_func ("/tvw/ops/ssd_default_boxes/ssdlite-no-steps-unclipped", test_default_boxes_ssdlite);
  g_test_add_func ("/tvw/ops/ssd_default_boxes/bad-inputs", test_default_boxes_errors);

  return g_test_run ();
}
