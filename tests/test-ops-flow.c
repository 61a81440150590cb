/* test-ops-flow.c — RAFT's ops against their definitions, in double
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * corr_volume: dot products over channels / √C; corr_lookup: bilinear
 * samples with zeros outside around the flow-moved pixel, halved per
 * level; upsample_flow: the softmax-weighted 3×3 combination of 8·flow,
 * or 8× bilinear with align_corners; zeros_like_flow.  Inputs come in
 * several layouts (the ops read row-major: others are staged).
 * Tolerance 1e-5 absolute on values of order 1–10.
 */

#include "config.h"

#include "tvw-op-test.h"

static double
at (const TvwArray *a,
    gint64 i0, gint64 i1, gint64 i2, gint64 i3)
{
  const gint64 idx[4] = { i0, i1, i2, i3 };

  return test_array_get (a, idx);
}

static void
check_close (const TvwArray *out,
             gint64          i0,
             gint64          i1,
             gint64          i2,
             gint64          i3,
             double          want)
{
  double got = at (out, i0, i1, i2, i3);

  if (!(fabs (got - want) <= 1e-5 * MAX (1.0, fabs (want))))
    g_error ("[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
             "] = %.7g, expected %.7g", i0, i1, i2, i3, got, want);
}

static void
test_corr_volume (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (31);

  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      const gint64 n = 2, c = 5, h = 3, w = 4, hw = h * w;
      TestArray f1, f2;
      TvwArray in[2], out;

      test_array_random (&f1, rng, TVW_ELEM_F32, 4, (gint64[]) { n, c, h, w }, layout, -2, 2);
      test_array_random (&f2, rng, TVW_ELEM_F32, 4, (gint64[]) { n, c, h, w }, layout, -2, 2);
      in[0] = f1.a;
      in[1] = f2.a;
      test_run_op (&tvw_op_corr_volume, NULL, 2, in, 0, NULL, 1, &out, 1e-6);

      g_assert_cmpint (out.shape[0], ==, n * hw);
      g_assert_cmpint (out.shape[1], ==, 1);
      for (gint64 b = 0; b < n; b++)
        for (gint64 i = 0; i < hw; i++)
          for (gint64 y = 0; y < h; y++)
            for (gint64 x = 0; x < w; x++)
              {
                double sum = 0;

                for (gint64 k = 0; k < c; k++)
                  sum += at (&f1.a, b, k, i / w, i % w) * at (&f2.a, b, k, y, x);
                check_close (&out, b * hw + i, 0, y, x, sum / sqrt ((double) c));
              }

      g_free (out.data);
      test_array_clear (&f1);
      test_array_clear (&f2);
    }
}

/* F.grid_sample's bilinear sample at absolute (x, y), zeros outside. */
static double
bilinear (const TvwArray *v,
          gint64          row,
          double          x,
          double          y)
{
  const gint64 h = v->shape[2], w = v->shape[3];
  const gint64 x0 = (gint64) floor (x), y0 = (gint64) floor (y);
  double acc = 0;

  for (int dy = 0; dy < 2; dy++)
    for (int dx = 0; dx < 2; dx++)
      {
        gint64 xx = x0 + dx, yy = y0 + dy;
        double wgt = (dx ? x - x0 : 1 - (x - x0)) * (dy ? y - y0 : 1 - (y - y0));

        if (xx >= 0 && xx < w && yy >= 0 && yy < h)
          acc += wgt * at (v, row, 0, yy, xx);
      }
  return acc;
}

static void
test_corr_lookup (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (32);

  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    for (int radius = 0; radius <= 2; radius++)
      {
        const gint64 n = 2, h = 4, w = 5, hw = h * w, side = 2 * radius + 1;
        TvwCorrLookupParams p = { radius, 0.5 };
        TestArray levels[2], flow;
        TvwArray in[3], out;

        test_array_random (&levels[0], rng, TVW_ELEM_F32, 4, (gint64[]) { n * hw, 1, h, w },
                           layout, -3, 3);
        test_array_random (&levels[1], rng, TVW_ELEM_F32, 4, (gint64[]) { n * hw, 1, h / 2, w / 2 },
                           layout, -3, 3);
        test_array_random (&flow, rng, TVW_ELEM_F32, 4, (gint64[]) { n, 2, h, w }, layout, -3, 3);
        in[0] = levels[0].a;
        in[1] = levels[1].a;
        in[2] = flow.a;
        test_run_op (&tvw_op_corr_lookup, &p, 3, in, 0, NULL, 1, &out, 1e-6);

        g_assert_cmpint (out.shape[1], ==, 2 * side * side);
        for (gint64 b = 0; b < n; b++)
          for (gint64 y = 0; y < h; y++)
            for (gint64 x = 0; x < w; x++)
              for (int l = 0; l < 2; l++)
                {
                  double cx = (x + at (&flow.a, b, 0, y, x)) / (1 << l);
                  double cy = (y + at (&flow.a, b, 1, y, x)) / (1 << l);

                  for (int i = 0; i < side; i++)
                    for (int j = 0; j < side; j++)
                      check_close (&out, b, (l * side + i) * side + j, y, x,
                                   0.5 * bilinear (&levels[l].a, b * hw + y * w + x,
                                                   cx + i - radius, cy + j - radius));
                }

        g_free (out.data);
        for (int l = 0; l < 2; l++)
          test_array_clear (&levels[l]);
        test_array_clear (&flow);
      }
}

static void
test_corr_lookup_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (33);
  g_autoptr(GError) error = NULL;
  TvwCorrLookupParams p = { 1, 1.0 };
  TestArray level, flow;
  TvwArray in[2], out;

  /* The pyramid's rows must be the flow's N·h·w pixels. */
  test_array_random (&level, rng, TVW_ELEM_F32, 4, (gint64[]) { 5, 1, 2, 2 }, TEST_LAYOUT_CONTIGUOUS, 0, 1);
  test_array_random (&flow, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 2, 2, 2 }, TEST_LAYOUT_CONTIGUOUS, 0, 1);
  in[0] = level.a;
  in[1] = flow.a;
  g_assert_false (tvw_op_eager (&tvw_op_corr_lookup, "corr", &p, 2, in, 0, NULL, 1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  test_array_clear (&level);
  test_array_clear (&flow);
}

static void
test_upsample_flow_convex (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (34);

  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      const gint64 n = 2, h = 3, w = 2;
      TvwUpsampleFlowParams p = { 0.25 };
      TestArray flow, mask;
      TvwArray in[2], out;

      test_array_random (&flow, rng, TVW_ELEM_F32, 4, (gint64[]) { n, 2, h, w }, layout, -2, 2);
      test_array_random (&mask, rng, TVW_ELEM_F32, 4, (gint64[]) { n, 576, h, w }, layout, -8, 8);
      in[0] = flow.a;
      in[1] = mask.a;
      test_run_op (&tvw_op_upsample_flow, &p, 2, in, 0, NULL, 1, &out, 1e-6);

      g_assert_cmpint (out.shape[2], ==, 8 * h);
      g_assert_cmpint (out.shape[3], ==, 8 * w);
      for (gint64 b = 0; b < n; b++)
        for (gint64 y = 0; y < h; y++)
          for (gint64 x = 0; x < w; x++)
            for (int a = 0; a < 8; a++)
              for (int s = 0; s < 8; s++)
                {
                  double e[9], total = 0;

                  for (int k = 0; k < 9; k++)
                    total += e[k] = exp (0.25 * at (&mask.a, b, k * 64 + a * 8 + s, y, x));
                  for (int c = 0; c < 2; c++)
                    {
                      double want = 0;

                      for (int k = 0; k < 9; k++)
                        {
                          gint64 yy = y + k / 3 - 1, xx = x + k % 3 - 1;

                          if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                            want += e[k] / total * 8 * at (&flow.a, b, c, yy, xx);
                        }
                      check_close (&out, b, c, y * 8 + a, x * 8 + s, want);
                    }
                }

      g_free (out.data);
      test_array_clear (&flow);
      test_array_clear (&mask);
    }
}

static void
test_upsample_flow_bilinear (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (35);

  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      const gint64 n = 1, h = 3, w = 4, oh = 8 * h, ow = 8 * w;
      TvwUpsampleFlowParams p = { 1.0 };
      TestArray flow;
      TvwArray out;

      test_array_random (&flow, rng, TVW_ELEM_F32, 4, (gint64[]) { n, 2, h, w }, layout, -2, 2);
      test_run_op (&tvw_op_upsample_flow, &p, 1, &flow.a, 0, NULL, 1, &out, 1e-6);

      for (int c = 0; c < 2; c++)
        for (gint64 oy = 0; oy < oh; oy++)
          for (gint64 ox = 0; ox < ow; ox++)
            {
              /* align_corners: the corners of input and output coincide */
              double sy = oy * (double) (h - 1) / (oh - 1), sx = ox * (double) (w - 1) / (ow - 1);
              gint64 y0 = MIN ((gint64) sy, h - 2), x0 = MIN ((gint64) sx, w - 2);
              double fy = sy - y0, fx = sx - x0;
              double want = (1 - fy) * ((1 - fx) * at (&flow.a, 0, c, y0, x0) + fx * at (&flow.a, 0, c, y0, x0 + 1)) +
                            fy * ((1 - fx) * at (&flow.a, 0, c, y0 + 1, x0) + fx * at (&flow.a, 0, c, y0 + 1, x0 + 1));

              check_close (&out, 0, c, oy, ox, 8 * want);
            }

      g_free (out.data);
      test_array_clear (&flow);
    }
}

static void
test_zeros_like_flow (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (36);
  TestArray like;
  TvwArray out;

  test_array_random (&like, rng, TVW_ELEM_F32, 4, (gint64[]) { 3, 7, 5, 6 }, TEST_LAYOUT_GAPPED, 1, 2);
  test_run_op (&tvw_op_zeros_like_flow, NULL, 1, &like.a, 0, NULL, 1, &out, 0);
  g_assert_cmpint (out.shape[0], ==, 3);
  g_assert_cmpint (out.shape[1], ==, 2);
  g_assert_cmpint (out.shape[2], ==, 5);
  g_assert_cmpint (out.shape[3], ==, 6);
  for (gint64 i = 0; i < tvw_array_numel (&out); i++)
    g_assert_cmpfloat (((const float *) out.data)[i], ==, 0.0f);
  g_free (out.data);
  test_array_clear (&like);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/corr_volume/definition", test_corr_volume);
  g_test_add_func ("/tvw/ops/corr_lookup/definition", test_corr_lookup);
  g_test_add_func ("/tvw/ops/corr_lookup/errors", test_corr_lookup_errors);
  g_test_add_func ("/tvw/ops/upsample_flow/convex", test_upsample_flow_convex);
  g_test_add_func ("/tvw/ops/upsample_flow/bilinear", test_upsample_flow_bilinear);
  g_test_add_func ("/tvw/ops/zeros_like_flow/shape-and-zeros", test_zeros_like_flow);

  return g_test_run ();
}
