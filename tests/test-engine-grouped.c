/* test-engine-grouped.c — depthwise and narrow grouped convolutions, and
 * the vectorised activations, against the definitions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-private.h"
#include "tvw-op-test.h"

static guint32 rng_state = 4242;

static float
rnd (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float) ((rng_state >> 8) / 16777216.0 * 2.0 - 1.0);
}

/* The definitions, as PyTorch writes them. */
static double
activation (double        x,
            TvwActivation act)
{
  switch (act)
    {
    case TVW_ACT_NONE:
      return x;
    case TVW_ACT_RELU:
      return MAX (x, 0.0);
    case TVW_ACT_RELU6:
      return MIN (MAX (x, 0.0), 6.0);
    case TVW_ACT_SILU:
      return x / (1.0 + exp (-x));
    case TVW_ACT_SIGMOID:
      return 1.0 / (1.0 + exp (-x));
    case TVW_ACT_HARDSWISH:
      return x * MIN (MAX (x + 3.0, 0.0), 6.0) / 6.0;
    case TVW_ACT_HARDSIGMOID:
      return MIN (MAX (x + 3.0, 0.0), 6.0) / 6.0;
    case TVW_ACT_GELU:
    default:
      return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
    }
}

typedef struct
{
  int           n, c, h, w, cout;
  TvwConvSpec   spec;
  TvwActivation act;
  gboolean      residual;
} Case;

/* conv + bias (+ residual) + act, NHWC inside the engine, against
 * tvw_reference_conv2d() and the definition of the activation. */
static void
check (const Case *cc,
       int         threads)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *input = NULL;
  g_autofree float *ref = NULL;
  g_autofree float *out = NULL;
  gsize in_count = (gsize) cc->n * cc->c * cc->h * cc->w;
  double max_ref = 1, max_diff = 0;
  gint64 shape[4], numel;
  guint n_dims;
  float *bias;
  int oh, ow;
  TvwVal x, y;

  x = tvw_net_input (net, cc->c);
  y = tvw_net_conv2d_full (net, x, "conv", cc->cout, &cc->spec);
  if (cc->residual)
    y = tvw_net_add (net, y, x);
  y = tvw_net_activation (net, y, cc->act);
  tvw_net_set_output (net, y);

  tvw_net_init_random (net, 11);
  bias = tvw_net_lookup_param (net, "conv.bias", &numel);
  for (gint64 i = 0; i < numel; i++)
    bias[i] = rnd ();

  input = g_new (float, in_count);
  for (gsize i = 0; i < in_count; i++)
    input[i] = 3 * rnd ();

  g_assert_true (tvw_net_prepare (net, &error));
  g_assert_no_error (error);
  g_assert_true (tvw_net_run (net, input, cc->n, cc->h, cc->w, threads, NULL, &out, shape,
                              &n_dims, &error));
  g_assert_no_error (error);

  ref = g_new (float, (gsize) cc->n * cc->cout * cc->h * cc->w + 16);
  test_reference_conv2d (input, cc->n, cc->c, cc->h, cc->w,
                         tvw_net_lookup_param (net, "conv.weight", NULL), bias,
                         cc->cout, &cc->spec, ref, &oh, &ow);

  /* A convolution's output is N×C×H×W, 1×1 maps too. */
  g_assert_cmpuint (n_dims, ==, 4);
  g_assert_cmpint (shape[1], ==, cc->cout);
  g_assert_cmpint (shape[2], ==, oh);
  g_assert_cmpint (shape[3], ==, ow);

  for (gsize i = 0; i < (gsize) cc->n * cc->cout * oh * ow; i++)
    {
      double want = ref[i];

      if (cc->residual)
        want += input[i];
      want = activation (want, cc->act);
      max_ref = MAX (max_ref, fabs (want));
      max_diff = MAX (max_diff, fabs (out[i] - want));
    }

  if (max_diff > 1e-5 * max_ref)
    g_error ("case %d×%d×%d×%d → %d, groups %d, kernel %d×%d, stride %d, act %d, "
             "%d threads: max |Δ| = %g",
             cc->n, cc->c, cc->h, cc->w, cc->cout, cc->spec.groups, cc->spec.kernel_h,
             cc->spec.kernel_w, cc->spec.stride_h, cc->act, threads, max_diff);
}

static void
test_depthwise (void)
{
  const Case cases[] = {
    /* MobileNet V2: 3×3 stride 1 and 2, ReLU6 */
    { 1, 32, 12, 12, 32, { 3, 3, 1, 1, 1, 1, 1, 1, 32, TRUE }, TVW_ACT_RELU6, FALSE },
    { 2, 48, 13, 11, 48, { 3, 3, 2, 2, 1, 1, 1, 1, 48, TRUE }, TVW_ACT_RELU6, FALSE },
    /* EfficientNet: 5×5, SiLU, odd sizes */
    { 1, 40, 9, 17, 40, { 5, 5, 1, 1, 2, 2, 1, 1, 40, TRUE }, TVW_ACT_SILU, FALSE },
    { 3, 24, 15, 10, 24, { 5, 5, 2, 2, 2, 2, 1, 1, 24, TRUE }, TVW_ACT_SILU, FALSE },
    /* MobileNet V3: hardswish, a dilated variant */
    { 1, 72, 8, 8, 72, { 3, 3, 1, 1, 1, 1, 1, 1, 72, TRUE }, TVW_ACT_HARDSWISH, FALSE },
    { 1, 16, 11, 14, 16, { 5, 5, 1, 1, 4, 4, 2, 2, 16, TRUE }, TVW_ACT_HARDSWISH, FALSE },
    /* channels not a multiple of 8 (the scalar tail), a residual */
    { 2, 13, 7, 9, 13, { 3, 3, 1, 1, 1, 1, 1, 1, 13, TRUE }, TVW_ACT_SIGMOID, TRUE },
    { 1, 21, 6, 5, 21, { 3, 5, 1, 2, 1, 2, 1, 1, 21, TRUE }, TVW_ACT_HARDSIGMOID, FALSE },
    /* maps smaller than the kernel, 1×1 maps, no padding */
    { 1, 16, 2, 3, 16, { 5, 5, 1, 1, 2, 2, 1, 1, 16, TRUE }, TVW_ACT_SILU, TRUE },
    { 2, 8, 1, 1, 8, { 3, 3, 2, 2, 1, 1, 1, 1, 8, TRUE }, TVW_ACT_RELU, FALSE },
    { 1, 8, 9, 9, 8, { 3, 3, 1, 1, 0, 0, 1, 1, 8, TRUE }, TVW_ACT_NONE, FALSE },
    /* few rows, many channels: split along the channels */
    { 1, 960, 3, 3, 960, { 5, 5, 1, 1, 2, 2, 1, 1, 960, TRUE }, TVW_ACT_GELU, FALSE },
    /* ConvNeXt's 7×7 (the 7-tap sliding kernel): wide rows, rows narrower
     * than the kernel, a partial vector of channels, a residual, 1×1 */
    { 1, 96, 14, 19, 96, { 7, 7, 1, 1, 3, 3, 1, 1, 96, TRUE }, TVW_ACT_NONE, FALSE },
    { 2, 20, 5, 6, 20, { 7, 7, 1, 1, 3, 3, 1, 1, 20, TRUE }, TVW_ACT_GELU, TRUE },
    { 1, 16, 1, 1, 16, { 7, 7, 1, 1, 3, 3, 1, 1, 16, TRUE }, TVW_ACT_NONE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      check (&cases[i], threads);
}

/* Random depthwise shapes over every kernel path: 3 and 5 taps at
 * strides 1 and 2 (the sliding kernels, near the borders too), other
 * shapes, channel counts that end in a partial vector, maps down to 1×1,
 * every activation, with and without a residual. */
static void
test_depthwise_random (void)
{
  const TvwActivation acts[] = {
    TVW_ACT_NONE, TVW_ACT_RELU, TVW_ACT_RELU6, TVW_ACT_SILU, TVW_ACT_SIGMOID,
    TVW_ACT_HARDSWISH, TVW_ACT_HARDSIGMOID, TVW_ACT_GELU,
  };
  GRand *rand = g_rand_new_with_seed (1313);

  for (int i = 0; i < 48; i++)
    {
      const int k = g_rand_boolean (rand) ? 3 : 5;
      const int stride = 1 + g_rand_int_range (rand, 0, 2);
      const int c = i < 8 ? 16 * (i + 1) + i % 2 : g_rand_int_range (rand, 1, 80);
      /* Mostly PyTorch's "same" padding; a dilation or a kernel 3 wide
       * and 5 high now and then (the other kernels). */
      const gboolean odd_shape = i % 7 == 6;
      const int dil = i % 11 == 10 ? 2 : 1;
      Case cc = {
        1 + g_rand_int_range (rand, 0, 2), c,
        g_rand_int_range (rand, 1, 24), g_rand_int_range (rand, 1, 30), c,
        { odd_shape ? 5 : k, odd_shape ? 3 : k, stride, stride,
          (odd_shape ? 5 : k) / 2 * dil, g_rand_int_range (rand, 0, (odd_shape ? 3 : k) / 2 + 1) * dil,
          dil, dil, c, TRUE },
        acts[i % G_N_ELEMENTS (acts)], FALSE,
      };

      /* No empty outputs. */
      cc.h = MAX (cc.h, dil * (cc.spec.kernel_h - 1) + 1 - 2 * cc.spec.pad_h);
      cc.w = MAX (cc.w, dil * (cc.spec.kernel_w - 1) + 1 - 2 * cc.spec.pad_w);
      /* A residual where the output has the input's shape. */
      cc.residual = stride == 1 && !odd_shape && cc.spec.pad_w == k / 2 * dil && i % 3 == 0;

      for (int threads = 1; threads <= 3; threads++)
        check (&cc, threads);
    }

  g_rand_free (rand);
}

static void
test_grouped (void)
{
  /* Groups of 8 output channels (RegNet's narrowest) take the direct
   * kernel: stride 1 and 2, rows wide enough for every block width. */
  const Case cases[] = {
    { 1, 48, 14, 14, 48, { 3, 3, 1, 1, 1, 1, 1, 1, 6, TRUE }, TVW_ACT_RELU, FALSE },
    { 2, 48, 13, 15, 48, { 3, 3, 2, 2, 1, 1, 1, 1, 6, TRUE }, TVW_ACT_RELU, FALSE },
    { 1, 24, 30, 29, 24, { 3, 3, 1, 1, 1, 1, 1, 1, 3, TRUE }, TVW_ACT_RELU, FALSE },
    { 1, 64, 9, 12, 64, { 3, 3, 1, 1, 1, 1, 1, 1, 8, TRUE }, TVW_ACT_RELU, TRUE },
    { 3, 72, 7, 7, 72, { 3, 3, 2, 2, 1, 1, 1, 1, 9, TRUE }, TVW_ACT_NONE, FALSE },
    { 1, 96, 10, 6, 96, { 3, 3, 1, 1, 1, 1, 1, 1, 12, TRUE }, TVW_ACT_SILU, FALSE },
    /* other input group widths, a 5×3 dilated kernel */
    { 1, 12, 11, 10, 48, { 3, 3, 1, 1, 1, 1, 1, 1, 6, TRUE }, TVW_ACT_HARDSWISH, FALSE },
    { 1, 32, 12, 13, 64, { 5, 3, 1, 2, 4, 1, 2, 1, 8, TRUE }, TVW_ACT_NONE, FALSE },
    /* tiny maps, few rows */
    { 1, 440, 2, 2, 440, { 3, 3, 1, 1, 1, 1, 1, 1, 55, TRUE }, TVW_ACT_RELU, TRUE },
    { 1, 16, 1, 1, 16, { 3, 3, 2, 2, 1, 1, 1, 1, 2, TRUE }, TVW_ACT_RELU, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      check (&cases[i], threads);
}

/* The vectorised activations of the direct kernels, over the range where
 * they bend and far outside it: a depthwise 1×1 identity convolution of 8
 * channels, then the activation. */
static void
test_activations (void)
{
  const TvwActivation acts[] = {
    TVW_ACT_RELU, TVW_ACT_RELU6, TVW_ACT_SILU, TVW_ACT_SIGMOID,
    TVW_ACT_HARDSWISH, TVW_ACT_HARDSIGMOID, TVW_ACT_GELU,
  };
  const int width = 500, channels = 8, count = width * channels;

  for (gsize a = 0; a < G_N_ELEMENTS (acts); a++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      g_autofree float *input = g_new (float, count);
      g_autofree float *out = NULL;
      gint64 shape[4];
      guint n_dims;
      float *weight;
      TvwVal x;

      x = tvw_net_input (net, channels);
      x = tvw_net_conv2d (net, x, "conv", channels, 1, 1, 0, 1, channels, FALSE);
      x = tvw_net_activation (net, x, acts[a]);
      tvw_net_set_output (net, x);
      tvw_net_init_random (net, 1);
      weight = tvw_net_lookup_param (net, "conv.weight", NULL);
      for (int c = 0; c < channels; c++)
        weight[c] = 1.f;

      /* NCHW: -50 … 50 in steps of 0.025, and ±100. */
      for (int i = 0; i < count; i++)
        input[i] = (i - count / 2) * 0.025f;
      input[0] = -100.f;
      input[count - 1] = 100.f;

      g_assert_true (tvw_net_prepare (net, &error));
      g_assert_true (tvw_net_run (net, input, 1, 1, width, 1, NULL, &out, shape, &n_dims, &error));
      g_assert_no_error (error);

      for (int i = 0; i < count; i++)
        {
          double want = activation (input[i], acts[a]);

          if (fabs (out[i] - want) > 2e-6 * MAX (1.0, fabs (want)))
            g_error ("activation %d of %g: %.9g, expected %.9g", acts[a], input[i], out[i], want);
        }
    }
}

typedef struct
{
  int           n, c, h, w, squeeze;
  TvwActivation act, gate_act;
} SeCase;

/* The fused squeeze-excitation against its definition (in double). */
static void
check_squeeze_excitation (const SeCase *sc,
                          int           threads)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *input = NULL;
  g_autofree float *out = NULL;
  g_autofree double *hidden = g_new (double, sc->squeeze);
  const gsize hw = (gsize) sc->h * sc->w;
  const gsize count = (gsize) sc->n * sc->c * hw;
  const char *names[] = { "se.fc1.weight", "se.fc1.bias", "se.fc2.weight", "se.fc2.bias" };
  float *w1, *b1, *w2, *b2;
  double max_diff = 0;
  gint64 shape[4];
  guint n_dims;
  TvwVal x;

  x = tvw_net_input (net, sc->c);
  x = tvw_net_squeeze_excitation (net, x, "se", sc->squeeze, sc->act, sc->gate_act);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 5);
  for (gsize k = 0; k < G_N_ELEMENTS (names); k++)
    {
      gint64 numel;
      float *v = tvw_net_lookup_param (net, names[k], &numel);

      g_assert_nonnull (v);
      for (gint64 i = 0; i < numel; i++)
        v[i] = rnd ();
    }
  w1 = tvw_net_lookup_param (net, names[0], NULL);
  b1 = tvw_net_lookup_param (net, names[1], NULL);
  w2 = tvw_net_lookup_param (net, names[2], NULL);
  b2 = tvw_net_lookup_param (net, names[3], NULL);

  input = g_new (float, count);
  for (gsize i = 0; i < count; i++)
    input[i] = 2 * rnd () + 0.3f;

  g_assert_true (tvw_net_prepare (net, &error));
  g_assert_true (tvw_net_run (net, input, sc->n, sc->h, sc->w, threads, NULL, &out, shape,
                              &n_dims, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_dims, ==, 4);

  for (int b = 0; b < sc->n; b++)
    {
      const float *img = input + (gsize) b * sc->c * hw;

      for (int s = 0; s < sc->squeeze; s++)
        {
          double acc = b1[s];

          for (int c = 0; c < sc->c; c++)
            {
              double mean = 0;

              for (gsize i = 0; i < hw; i++)
                mean += img[c * hw + i];
              acc += w1[(gsize) s * sc->c + c] * (mean / hw);
            }
          hidden[s] = activation (acc, sc->act);
        }

      for (int c = 0; c < sc->c; c++)
        {
          double g = b2[c];

          for (int s = 0; s < sc->squeeze; s++)
            g += w2[(gsize) c * sc->squeeze + s] * hidden[s];
          g = activation (g, sc->gate_act);

          for (gsize i = 0; i < hw; i++)
            {
              gsize at = ((gsize) b * sc->c + c) * hw + i;

              max_diff = MAX (max_diff, fabs (out[at] - img[c * hw + i] * g));
            }
        }
    }

  if (max_diff > 1e-5 * 3)
    g_error ("squeeze-excitation %d×%d×%d×%d (squeeze %d), %d threads: max |Δ| = %g",
             sc->n, sc->c, sc->h, sc->w, sc->squeeze, threads, max_diff);
}

static void
test_squeeze_excitation (void)
{
  const SeCase cases[] = {
    /* EfficientNet: SiLU and sigmoid; a map large enough to be split */
    { 1, 96, 56, 56, 4, TVW_ACT_SILU, TVW_ACT_SIGMOID },
    { 3, 40, 9, 13, 10, TVW_ACT_SILU, TVW_ACT_SIGMOID },
    /* MobileNet V3: ReLU and hard-sigmoid; channels not a multiple of 8 */
    { 2, 120, 7, 7, 32, TVW_ACT_RELU, TVW_ACT_HARDSIGMOID },
    { 2, 67, 5, 3, 9, TVW_ACT_RELU, TVW_ACT_HARDSIGMOID },
    /* RegNet Y on a 1×1 map */
    { 3, 440, 1, 1, 52, TVW_ACT_RELU, TVW_ACT_SIGMOID },
    /* MobileNet V3's widest (the 128-channel blocks of fc2, and a partial
     * one), odd channel counts, a batch */
    { 1, 960, 7, 7, 240, TVW_ACT_RELU, TVW_ACT_HARDSIGMOID },
    /* small maps with wide layers, a batch */
    { 2, 672, 5, 5, 168, TVW_ACT_RELU, TVW_ACT_HARDSIGMOID },
    { 1, 1152, 3, 3, 48, TVW_ACT_SILU, TVW_ACT_SIGMOID },
    { 2, 129, 3, 5, 7, TVW_ACT_SILU, TVW_ACT_SIGMOID },
    { 3, 7, 4, 4, 1, TVW_ACT_RELU, TVW_ACT_HARDSIGMOID },
    { 8, 200, 2, 3, 17, TVW_ACT_HARDSWISH, TVW_ACT_SIGMOID },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      check_squeeze_excitation (&cases[i], threads);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/engine/grouped/depthwise", test_depthwise);
  g_test_add_func ("/tvw/engine/grouped/depthwise-random", test_depthwise_random);
  g_test_add_func ("/tvw/engine/grouped/narrow-groups", test_grouped);
  g_test_add_func ("/tvw/engine/grouped/activations", test_activations);
  g_test_add_func ("/tvw/engine/grouped/squeeze-excitation", test_squeeze_excitation);

  return g_test_run ();
}
