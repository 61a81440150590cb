/* test-ops-classic.c — the ops the classic families added:
 * the per-channel affine map of GoogLeNet's and Inception v3's
 * transform_input, and ConvNeXt's channel Linear layers (1×1 convolutions
 * declared with a Linear's weight, the layer scale folded in, GELU and the
 * residual fused)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-op-test.h"

#define N_SEEDS 6

static void
test_channel_affine_random (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1400 + seed);
      const int c = g_rand_int_range (rng, 1, 9);
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 4), c, g_rand_int_range (rng, 1, 9),
                             g_rand_int_range (rng, 1, 9) };
      gsize size = sizeof (TvwChannelAffineParams) + 2 * c * sizeof (float);
      g_autofree TvwChannelAffineParams *p = g_malloc0 (size);
      g_autofree double *want = NULL;
      gint64 n, idx[4];
      TestArray x;
      TvwArray out;

      p->channels = c;
      for (int i = 0; i < 2 * c; i++)
        p->values[i] = test_rand_float (rng, -2, 2);

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -3, 3);
      n = tvw_array_numel (&x.a);
      want = g_new (double, n);
      for (gint64 f = 0; f < n; f++)
        {
          test_unflatten (&x.a, f, idx);
          want[f] = (float) test_array_get (&x.a, idx) * p->values[idx[1]] + p->values[c + idx[1]];
        }

      test_run_op (&tvw_op_channel_affine, p, 1, &x.a, 0, NULL, 1, &out, 0);
      /* One float multiply and add: exact up to rounding. */
      test_assert_close ("channel_affine", &out, 4, xs, want, 1e-6, 1e-6);

      g_free (out.data);
      test_array_clear (&x);
    }
}

static void
test_channel_affine_errors (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const float scale[3] = { 1, 2, 3 }, shift[3] = { 0 };
  TvwVal x = tvw_net_input (net, 4);

  g_assert_cmpint (tvw_net_channel_affine (net, x, 3, scale, shift), ==, -1);
  g_assert_false (tvw_net_check (net, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "transform_input"));
  g_assert_nonnull (strstr (error->message, "3 channels"));
}

static float *
param (TvwNet     *net,
       const char *name,
       GRand      *rng,
       double      lo,
       double      hi)
{
  gint64 numel = 0;
  float *p = tvw_net_lookup_param (net, name, &numel);

  g_assert_nonnull (p);
  for (gint64 i = 0; i < numel; i++)
    p[i] = test_rand_float (rng, lo, hi);
  return p;
}

static double
gelu (double x)
{
  return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
}

/* A ConvNeXt block's pointwise half, x + s · W₂ GELU (W₁ x + b₁) + s · b₂
 * over the channels of every pixel, as a graph: the GELU and the residual
 * fuse into the two GEMMs' epilogues and s into W₂'s packing. */
static void
test_channel_linear_block (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1500 + seed);
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      const int n = g_rand_int_range (rng, 1, 3), c = g_rand_int_range (rng, 1, 40);
      const int h = g_rand_int_range (rng, 1, 9), w = g_rand_int_range (rng, 1, 9);
      const int hidden = 4 * c;
      const gboolean bias = seed % 3 != 2;
      g_autofree float *input = g_new (float, n * c * h * w);
      g_autofree float *out = NULL;
      float *w1, *b1 = NULL, *w2, *b2 = NULL, *ls;
      gint64 shape[TVW_MAX_RANK];
      guint n_dims;
      double worst = 0;
      TvwVal x = tvw_net_input (net, c), y;

      y = tvw_net_conv2d_channel_linear (net, x, "features.1.0", "block.3", hidden, bias, NULL);
      y = tvw_net_activation (net, y, TVW_ACT_GELU);
      y = tvw_net_conv2d_channel_linear (net, y, "features.1.0", "block.5", c, bias,
                                         "layer_scale");
      y = tvw_net_add (net, y, x);
      tvw_net_set_output (net, y);
      g_assert_true (tvw_net_check (net, &error));
      g_assert_no_error (error);

      /* torchvision's keys and shapes. */
      g_assert_true (tvw_net_has_param (net, "features.1.0.block.3.weight"));
      g_assert_cmpint (tvw_net_has_param (net, "features.1.0.block.5.bias"), ==, bias);
      g_assert_true (tvw_net_has_param (net, "features.1.0.layer_scale"));
      g_assert_cmpint (tvw_net_count_parameters (net), ==,
                       2 * hidden * c + (bias ? hidden + c : 0) + c);

      tvw_net_init_random (net, seed);
      w1 = param (net, "features.1.0.block.3.weight", rng, -0.5, 0.5);
      w2 = param (net, "features.1.0.block.5.weight", rng, -0.5, 0.5);
      if (bias)
        {
          b1 = param (net, "features.1.0.block.3.bias", rng, -1, 1);
          b2 = param (net, "features.1.0.block.5.bias", rng, -1, 1);
        }
      ls = param (net, "features.1.0.layer_scale", rng, -2, 2);
      for (int i = 0; i < n * c * h * w; i++)
        input[i] = test_rand_float (rng, -2, 2);

      g_assert_true (tvw_net_prepare (net, &error));
      g_assert_no_error (error);
      g_assert_true (tvw_net_run (net, input, n, h, w, 1 + seed % 3, NULL, &out, shape, &n_dims,
                                  &error));
      g_assert_no_error (error);
      g_assert_cmpuint (n_dims, ==, 4);
      g_assert_cmpint (shape[1], ==, c);

      for (int b = 0; b < n; b++)
        for (int p = 0; p < h * w; p++)
          {
            g_autofree double *mid = g_new (double, hidden);

            for (int o = 0; o < hidden; o++)
              {
                double acc = bias ? b1[o] : 0;

                for (int i = 0; i < c; i++)
                  acc += (double) w1[o * c + i] * input[((gsize) b * c + i) * h * w + p];
                mid[o] = gelu (acc);
              }
            for (int o = 0; o < c; o++)
              {
                gsize at = ((gsize) b * c + o) * h * w + p;
                double acc = bias ? b2[o] : 0, want;

                for (int i = 0; i < hidden; i++)
                  acc += w2[o * hidden + i] * mid[i];
                want = input[at] + ls[o] * acc;
                /* float GEMMs over ≤ 160 terms of size ≤ 2·0.5 and an
                 * erf-based GELU approximated to ~1e-7 relative. */
                if (!(fabs (out[at] - want) <= 1e-4 * MAX (1.0, fabs (want))))
                  g_error ("element %" G_GSIZE_FORMAT ": %.7g, expected %.7g", at, out[at], want);
                worst = MAX (worst, fabs (out[at] - want));
              }
          }
      g_test_message ("seed %u: max |Δ| %.3g", seed, worst);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/channel_affine/random-strides", test_channel_affine_random);
  g_test_add_func ("/tvw/ops/channel_affine/errors", test_channel_affine_errors);
  g_test_add_func ("/tvw/ops/conv2d/channel-linear-layer-scale", test_channel_linear_block);

  return g_test_run ();
}
