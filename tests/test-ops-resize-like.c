/* test-ops-resize-like.c — interpolate to another value's size, as
 * F.interpolate (x, size=like.shape[-2:]) in segmentation heads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The size taken from a second input must give exactly what the same op
 * gives with that size as a parameter (checked against the definition in
 * test-ops-nn.c), in a graph too, where it follows the shapes a run is
 * given rather than the build-time ones.
 */

#include "config.h"

#include "tvw-op-test.h"

/* |a − b| ≤ @tol everywhere, whatever the strides of each. */
static void
assert_close (const TvwArray *a,
              const TvwArray *b,
              double          tol)
{
  gint64 idx[TVW_MAX_RANK], n = tvw_array_numel (a);

  g_assert_true (tvw_array_same_shape (a, b));
  for (gint64 f = 0; f < n; f++)
    {
      test_unflatten (a, f, idx);
      g_assert_cmpfloat (fabs (test_array_get (a, idx) - test_array_get (b, idx)), <=, tol);
    }
}

static void
test_size_of_another_input (void)
{
  for (int seed = 0; seed < 12; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1700 + seed);
      /* Bilinear as the heads use it, nearest, aligned corners. */
      TvwResizeParams like_p = { 0, 0, 0, 0, seed % 3 == 1 ? TVW_RESIZE_NEAREST : TVW_RESIZE_BILINEAR,
                                 seed % 3 == 2 };
      TvwResizeParams sized_p = like_p;
      int like_rank = 3 + seed % 3;
      gint64 xs[4], ls[5];
      TestArray x, like;
      TvwArray pair[2], got, want;

      xs[0] = g_rand_int_range (rng, 1, 3);
      xs[1] = g_rand_int_range (rng, 1, 9);
      xs[2] = g_rand_int_range (rng, 1, 10);
      xs[3] = g_rand_int_range (rng, 1, 10);
      for (int i = 0; i < like_rank; i++)
        ls[i] = g_rand_int_range (rng, 1, 30);
      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -1, 1);
      test_array_random (&like, rng, TVW_ELEM_F32, like_rank, ls, (seed / 3) % TEST_N_LAYOUTS, -1, 1);

      pair[0] = x.a;
      pair[1] = like.a;
      test_run_op (&tvw_op_interpolate, &like_p, 2, pair, 0, NULL, 1, &got, 0);
      sized_p.out_h = ls[like_rank - 2];
      sized_p.out_w = ls[like_rank - 1];
      test_run_op (&tvw_op_interpolate, &sized_p, 1, &x.a, 0, NULL, 1, &want, 0);

      g_assert_cmpint (got.shape[2], ==, ls[like_rank - 2]);
      g_assert_cmpint (got.shape[3], ==, ls[like_rank - 1]);
      assert_close (&got, &want, 0);

      g_free (got.data);
      g_free (want.data);
      test_array_clear (&x);
      test_array_clear (&like);
    }
}

/* Built at one size, run at others: the output follows the input. */
static void
test_follows_the_run_shapes (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const gint64 example[4] = { 1, 3, 224, 224 };
  TvwVal image, small;

  image = tvw_net_input_full (net, "input", TVW_ELEM_F32, 4, example);
  small = tvw_net_avg_pool2d (net, image, 4, 4, 0, FALSE, TRUE);
  tvw_net_set_output (net, tvw_net_interpolate_like (net, small, image, TVW_RESIZE_BILINEAR, FALSE));
  g_assert_true (tvw_net_check (net, &error));
  g_assert_true (tvw_net_prepare (net, &error));

  for (int run = 0; run < 3; run++)
    {
      static const gint64 sizes[3][2] = { { 17, 23 }, { 8, 8 }, { 41, 9 } };
      g_autoptr(GRand) rng = g_rand_new_with_seed (run);
      const gint64 shape[4] = { 2, 3, sizes[run][0], sizes[run][1] };
      TestArray x;
      TvwArray out, pooled, want;
      TvwPool2dParams pp = { 4, 4, 0, FALSE, TRUE, 0, 0 };
      TvwResizeParams sized = { sizes[run][0], sizes[run][1], 0, 0, TVW_RESIZE_BILINEAR, FALSE };

      test_array_random (&x, rng, TVW_ELEM_F32, 4, shape, TEST_LAYOUT_CONTIGUOUS, -1, 1);
      g_assert_true (tvw_net_run_arrays (net, &x.a, 1, NULL, &out, &error));
      g_assert_no_error (error);
      g_assert_cmpint (out.shape[2], ==, sizes[run][0]);
      g_assert_cmpint (out.shape[3], ==, sizes[run][1]);

      test_run_op (&tvw_op_avg_pool2d, &pp, 1, &x.a, 0, NULL, 1, &pooled, 0);
      test_run_op (&tvw_op_interpolate, &sized, 1, &pooled, 0, NULL, 1, &want, 0);
      /* The graph may pool channels-last: the same sums, maybe in
       * another order. */
      assert_close (&out, &want, 1e-6);
      g_free (out.data);
      g_free (pooled.data);
      g_free (want.data);
      test_array_clear (&x);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/interpolate/size-of-another-input", test_size_of_another_input);
  g_test_add_func ("/tvw/ops/interpolate/follows-the-run-shapes", test_follows_the_run_shapes);

  return g_test_run ();
}
