/* test-winograd.c — the Winograd 3×3 convolution against the definition
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernel is called directly, below the op, so that any channel count
 * runs through it (the op sends only 16 channels and more), with each tile
 * size forced in turn and with the one the kernel picks, at 1 to 3 threads.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-gemm-private.h"
#include "tvw-kernels-winograd-private.h"

/* Rounding in float: F(4×4, 3×3)'s transforms multiply by up to 8 and its
 * weights hold 1/6 and 1/24, so a product of rounded terms can be off by
 * some tens of units of 2⁻²⁴ relative to the sum of the terms' magnitudes
 * (measured: up to 4.3·10⁻⁶ on this test's shapes, with one input channel;
 * 3.4·10⁻⁷ for F(2, 3)).  A wrong transform constant gives errors of the
 * order of the result. */
#define TOLERANCE 1e-5

typedef struct
{
  int           n, cin, cout, h, w;
  gboolean      residual;
  TvwActivation act;
} WinoCase;

static guint32 rng_state = 2024;

static guint32
rng (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return rng_state >> 8;
}

/* Uniform in [lo, hi). */
static double
uniform (double lo,
         double hi)
{
  return lo + (hi - lo) * (rng () / 16777216.0);
}

static float *
random_floats (gsize  n,
               double lo,
               double hi)
{
  float *buf = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    buf[i] = (float) uniform (lo, hi);
  return buf;
}

static double
activate (double        x,
          TvwActivation act)
{
  switch (act)
    {
    case TVW_ACT_NONE:
      return x;
    case TVW_ACT_RELU:
      return MAX (x, 0.0);
    case TVW_ACT_RELU6:
      return CLAMP (x, 0.0, 6.0);
    default:
      g_assert_not_reached ();
    }
}

/* The definition, in double, NHWC, padding 1; @mag gets the sum of the
 * terms' magnitudes per output, the scale of its rounding error. */
static void
reference (const WinoCase *wc,
           const float    *input,
           const float    *weight,
           const double   *scale,
           const float    *bias,
           const float    *residual,
           double         *out,
           double         *mag)
{
  for (int b = 0; b < wc->n; b++)
    for (int y = 0; y < wc->h; y++)
      for (int x = 0; x < wc->w; x++)
        for (int o = 0; o < wc->cout; o++)
          {
            const gsize at = (((gsize) b * wc->h + y) * wc->w + x) * wc->cout + o;
            double acc = 0, m = 0;

            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++)
                {
                  const int iy = y + ky - 1, ix = x + kx - 1;
                  const float *px;

                  if (iy < 0 || iy >= wc->h || ix < 0 || ix >= wc->w)
                    continue;
                  px = input + (((gsize) b * wc->h + iy) * wc->w + ix) * wc->cin;
                  for (int ci = 0; ci < wc->cin; ci++)
                    {
                      const double t = px[ci] * (weight[((gsize) o * wc->cin + ci) * 9 + ky * 3 + kx] * scale[o]);

                      acc += t;
                      m += fabs (t);
                    }
                }
            acc += bias[o];
            m += fabs (bias[o]);
            if (residual != NULL)
              {
                acc += residual[at];
                m += fabs (residual[at]);
              }
            out[at] = activate (acc, wc->act);
            mag[at] = m;
          }
}

/* The weights' tile: 4 (F(4, 3)'s, on which either tile runs, as
 * TVW_WINOGRAD_TILE says) or 2 (F(2, 3)'s alone). */
static int weights_tile = 4;

/* Runs @wc at 1 to 3 threads; returns the largest error relative to the
 * terms' magnitudes. */
static double
check_case (const WinoCase *wc)
{
  const gsize in_count = (gsize) wc->n * wc->h * wc->w * wc->cin;
  const gsize out_count = (gsize) wc->n * wc->h * wc->w * wc->cout;
  const int n_panels = (wc->cout + TVW_GEMM_NR - 1) / TVW_GEMM_NR;
  const char *tile = g_getenv ("TVW_WINOGRAD_TILE");
  g_autofree float *input = random_floats (in_count, -1, 1);
  g_autofree float *weight = random_floats ((gsize) wc->cout * wc->cin * 9, -1, 1);
  g_autofree float *bias = random_floats (wc->cout, -1, 1);
  g_autofree float *residual = wc->residual ? random_floats (out_count, -1, 1) : NULL;
  g_autofree double *scale = g_new (double, wc->cout);
  g_autofree double *ref = g_new (double, MAX (out_count, 1));
  g_autofree double *mag = g_new (double, MAX (out_count, 1));
  g_autofree float *packed = g_new (float, tvw_winograd_packed_floats (wc->cin, wc->cout,
                                                                      weights_tile));
  g_autofree float *out = g_new (float, MAX (out_count, 1));
  double worst = 0;

  /* A folded BatchNorm's factor per output channel. */
  for (int o = 0; o < wc->cout; o++)
    scale[o] = uniform (0.5, 1.5);
  reference (wc, input, weight, scale, bias, residual, ref, mag);

  /* In two pieces, as the op packs them. */
  tvw_winograd_pack (weight, scale, wc->cin, wc->cout, weights_tile, 0, n_panels / 2, packed);
  tvw_winograd_pack (weight, scale, wc->cin, wc->cout, weights_tile, n_panels / 2, n_panels, packed);

  for (int threads = 1; threads <= 3; threads++)
    {
      TvwConvParams p = {
        .n = wc->n, .h = wc->h, .w = wc->w, .cin = wc->cin,
        .oh = wc->h, .ow = wc->w, .cout = wc->cout,
        .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1, .dh = 1, .dw = 1,
        .groups = 1, .winograd = weights_tile,
        .weight = packed, .bias = bias, .act = wc->act,
      };
      g_autofree float *scratch = NULL;
      gsize per_thread;

      per_thread = tvw_winograd_scratch_floats (&p, threads);
      scratch = g_new (float, per_thread * threads);
      /* NaNs where nothing is written would show. */
      memset (out, 0xff, out_count * sizeof (float));
      tvw_kernel_winograd_conv2d (&p, input, residual, out, scratch, per_thread, threads);

      for (gsize i = 0; i < out_count; i++)
        {
          const double err = fabs (out[i] - ref[i]);

          if (!(err <= TOLERANCE * mag[i]))
            g_error ("n %d, %d -> %d channels, %dx%d, tile %s, %d threads: "
                     "element %" G_GSIZE_FORMAT " is %g, not %g (|err| %g > %g * %g)",
                     wc->n, wc->cin, wc->cout, wc->h, wc->w,
                     tile != NULL ? tile : "auto", threads,
                     i, out[i], ref[i], err, TOLERANCE, mag[i]);
          if (mag[i] > 0)
            worst = MAX (worst, err / mag[i]);
        }
    }

  return worst;
}

/* The shapes ResNets run, and edges: one pixel, one channel, maps smaller
 * than a tile, channel counts off the vector width. */
static void
test_winograd_fixed (void)
{
  const WinoCase cases[] = {
    { 1, 512, 512, 7, 7, TRUE, TVW_ACT_RELU },     /* ResNet-50's layer4 */
    { 2, 256, 256, 14, 14, FALSE, TVW_ACT_RELU },  /* layer3, batch 2 */
    { 1, 64, 64, 56, 56, FALSE, TVW_ACT_RELU },    /* layer1 */
    { 3, 17, 33, 7, 7, TRUE, TVW_ACT_NONE },
    { 1, 1, 1, 1, 1, FALSE, TVW_ACT_NONE },
    { 2, 1, 3, 5, 6, TRUE, TVW_ACT_RELU6 },
    { 1, 300, 20, 30, 29, TRUE, TVW_ACT_RELU },
    { 1, 16, 300, 2, 3, FALSE, TVW_ACT_RELU },     /* the column split */
    { 3, 48, 80, 1, 30, FALSE, TVW_ACT_RELU6 },
  };
  double worst = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      /* Not inside MAX (), which would run it twice. */
      const double err = check_case (&cases[i]);

      worst = MAX (worst, err);
    }
  /* A TAP comment that reaches the parent. */
  g_print ("# tile %s: largest |err| / sum |terms| %.3g (tolerance %g)\n",
           g_getenv ("TVW_WINOGRAD_TILE") != NULL ? g_getenv ("TVW_WINOGRAD_TILE") : "auto",
           worst, TOLERANCE);
}

/* Random shapes within a budget of multiply-adds for the reference. */
static void
test_winograd_random (void)
{
  const TvwActivation acts[] = { TVW_ACT_NONE, TVW_ACT_RELU, TVW_ACT_RELU6 };
  double worst = 0;

  for (int i = 0; i < 40; i++)
    {
      WinoCase wc;
      double err;

      do
        {
          wc.n = 1 + rng () % 3;
          wc.cin = 1 + rng () % 300;
          wc.cout = 1 + rng () % 300;
          wc.h = 1 + rng () % 30;
          wc.w = 1 + rng () % 30;
        }
      while ((double) wc.n * wc.cin * wc.cout * wc.h * wc.w * 9 > 2e7);
      wc.residual = rng () % 2;
      wc.act = acts[rng () % G_N_ELEMENTS (acts)];
      err = check_case (&wc);
      worst = MAX (worst, err);
    }
  /* A TAP comment that reaches the parent. */
  g_print ("# tile %s: largest |err| / sum |terms| %.3g (tolerance %g)\n",
           g_getenv ("TVW_WINOGRAD_TILE") != NULL ? g_getenv ("TVW_WINOGRAD_TILE") : "auto",
           worst, TOLERANCE);
}

/* Each test once per tile choice, in a child process that inherits it in
 * TVW_WINOGRAD_TILE: set here, before any thread exists. */
static void
test_winograd_tile (gconstpointer data)
{
  const char *path = data;
  const char *tile = strrchr (path, '/') + 1;

  if (g_test_subprocess ())
    {
      if (strcmp (tile, "2-alone") == 0)
        weights_tile = 2;
      if (g_str_has_prefix (path, "/tvw/engine/winograd/fixed"))
        test_winograd_fixed ();
      else
        test_winograd_random ();
      return;
    }

  if (strcmp (tile, "auto") == 0 || strcmp (tile, "2-alone") == 0)
    g_unsetenv ("TVW_WINOGRAD_TILE");
  else
    g_setenv ("TVW_WINOGRAD_TILE", tile, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  const char *paths[] = {
    "/tvw/engine/winograd/fixed/auto",
    "/tvw/engine/winograd/fixed/2",
    "/tvw/engine/winograd/fixed/4",
    "/tvw/engine/winograd/random/auto",
    "/tvw/engine/winograd/random/2",
    "/tvw/engine/winograd/random/4",
    /* F(2, 3)'s weights alone, as the op packs them for small maps */
    "/tvw/engine/winograd/fixed/2-alone",
    "/tvw/engine/winograd/random/2-alone",
  };

  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    g_test_add_data_func (paths[i], paths[i], test_winograd_tile);

  return g_test_run ();
}
