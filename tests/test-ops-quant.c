/* test-ops-quant.c — the int8 ops of quantized models against their definitions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The references compute the integer sums exactly (in int64) from the
 * definition, Σ (x − zx)·(w − zw[c]) over the window, padding being real
 * zeros, and requantise with the same float expression the kernels use
 * (a float multiplier and bias in one fused multiply-add, rounding half
 * to even), so every output byte
 * must match: a wrong sum, zero point, padding or layout is off by whole
 * steps.  The convolutions run with every inner kernel the CPU has (VNNI,
 * AVX2, portable C) and at 1 to 3 threads.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-kernels-qconv-private.h"
#include "tvw-op-test.h"

static float
requant_ref (gint64 acc,
             double sx,
             float  sw,
             float  bias,
             double sy,
             int    zy,
             int    lo)
{
  const float mult = (float) (sx * sw / sy);
  const float b = (float) (bias / sy);
  float f = CLAMP (fmaf ((float) acc, mult, b), -1024.f, 1024.f);
  int q = (int) nearbyintf (f) + zy;

  return (float) CLAMP (q, lo, 255);
}

typedef struct
{
  int      n, cin, cout, h, w, k, stride, pad, dilation, groups;
  gboolean relu, w_zero, linear;
} QConvCase;

static void
check_qconv (const QConvCase *cc,
             GRand           *rng,
             TestLayout       layout)
{
  const int cin_g = cc->cin / cc->groups, cout_g = cc->cout / cc->groups;
  const int taps = cc->k * cc->k;
  const int oh = cc->linear ? 1 : test_conv_out (cc->h, cc->k, cc->stride, cc->pad, cc->dilation);
  const int ow = cc->linear ? 1 : test_conv_out (cc->w, cc->k, cc->stride, cc->pad, cc->dilation);
  const gint64 xshape[4] = { cc->n, cc->cin, cc->linear ? 1 : cc->h, cc->linear ? 1 : cc->w };
  const gsize wn = (gsize) cc->cout * cin_g * taps;
  g_autofree float *w = g_new (float, wn);
  g_autofree float *ws = g_new (float, cc->cout);
  g_autofree float *wz = g_new (float, cc->cout);
  g_autofree float *bias = g_new (float, cc->cout);
  g_autofree double *want = NULL;
  const float out_scale = (float) g_rand_double_range (rng, 0.05, 0.4);
  const float out_zero = (float) g_rand_int_range (rng, 0, 200);
  TvwQConvOpParams p = {
    .spec = { cc->k, cc->k, cc->stride, cc->stride, cc->pad, cc->pad, cc->dilation, cc->dilation,
              cc->groups, TRUE },
    .cin = cc->cin, .cout = cc->cout, .relu = cc->relu,
  };
  TvwArray weights[6];
  TestArray x;
  TvwArray out;
  g_autofree char *what = g_strdup_printf ("%s %d→%d k%d s%d p%d d%d g%d%s%s, layout %d",
                                           cc->linear ? "qlinear" : "qconv2d", cc->cin, cc->cout,
                                           cc->k, cc->stride, cc->pad, cc->dilation, cc->groups,
                                           cc->relu ? " relu" : "", cc->w_zero ? " zw" : "", layout);

  test_array_random (&x, rng, TVW_ELEM_U8, cc->linear ? 2 : 4, xshape,
                     cc->linear ? TEST_LAYOUT_CONTIGUOUS : layout, 0, 256);
  x.a.quantized = TRUE;
  x.a.qaxis = -1;
  x.a.scale = g_rand_double_range (rng, 0.01, 0.05);
  x.a.zero_point = g_rand_int_range (rng, 0, 256);

  for (gsize i = 0; i < wn; i++)
    w[i] = (float) g_rand_int_range (rng, -128, 128);
  for (int c = 0; c < cc->cout; c++)
    {
      ws[c] = (float) g_rand_double_range (rng, 0.002, 0.01);
      wz[c] = cc->w_zero ? (float) g_rand_int_range (rng, -10, 11) : 0.f;
      bias[c] = (float) g_rand_double_range (rng, -2, 2);
    }

  {
    const float *data[6] = { w, ws, wz, bias, &out_scale, &out_zero };

    for (int i = 0; i < 6; i++)
      {
        memset (&weights[i], 0, sizeof weights[i]);
        weights[i].elem = TVW_ELEM_F32;
        weights[i].data = (gpointer) data[i];
      }
  }

  want = g_new (double, (gsize) cc->n * cc->cout * oh * ow);
  for (int b = 0; b < cc->n; b++)
    for (int o = 0; o < cc->cout; o++)
      for (int y = 0; y < oh; y++)
        for (int xx = 0; xx < ow; xx++)
          {
            const int g = o / cout_g;
            gint64 acc = 0;

            for (int ci = 0; ci < cin_g; ci++)
              for (int ky = 0; ky < cc->k; ky++)
                for (int kx = 0; kx < cc->k; kx++)
                  {
                    const int iy = y * cc->stride - cc->pad + ky * cc->dilation;
                    const int ix = xx * cc->stride - cc->pad + kx * cc->dilation;
                    const float wv = w[(((gsize) o * cin_g + ci) * cc->k + ky) * cc->k + kx];
                    double xv;

                    if (!cc->linear && (iy < 0 || iy >= cc->h || ix < 0 || ix >= cc->w))
                      continue;
                    if (cc->linear)
                      {
                        const gint64 idx[2] = { b, ci };

                        xv = test_array_get (&x.a, idx);
                      }
                    else
                      {
                        const gint64 idx[4] = { b, g * cin_g + ci, iy, ix };

                        xv = test_array_get (&x.a, idx);
                      }
                    acc += (gint64) (xv - x.a.zero_point) * (gint64) (wv - wz[o]);
                  }
            want[(((gsize) b * cc->cout + o) * oh + y) * ow + xx] =
              requant_ref (acc, x.a.scale, ws[o], bias[o], out_scale, (int) out_zero,
                           cc->relu ? (int) out_zero : 0);
          }

  for (int variant = tvw_qgemm_limit (2); variant >= 0; variant--)
    {
      const gint64 oshape[4] = { cc->n, cc->cout, oh, ow };
      g_autofree char *label = g_strdup_printf ("%s, kernel variant %d", what, variant);

      tvw_qgemm_limit (variant);
      test_run_op (cc->linear ? &tvw_op_qlinear : &tvw_op_qconv2d, &p, 1, &x.a, 6, weights,
                   1, &out, 0);
      /* (Its scale is the module's only once prepared: tvw_op_eager ()
       * infers first, the graph infers again when it plans.) */
      g_assert_cmpint (out.elem, ==, TVW_ELEM_U8);
      g_assert_true (out.quantized);
      test_assert_close (label, &out, cc->linear ? 2 : 4, oshape, want, 0, 0);
      g_free (out.data);
    }
  tvw_qgemm_limit (2);
  test_array_clear (&x);
}

static void
test_qconv2d (void)
{
  static const QConvCase cases[] = {
    /* n, cin, cout, h, w, k, stride, pad, dilation, groups, relu, w_zero */
    { 1, 3, 16, 9, 11, 7, 2, 3, 1, 1, TRUE, FALSE },     /* a ResNet stem */
    { 2, 8, 20, 6, 5, 3, 1, 1, 1, 1, FALSE, FALSE },     /* K a multiple of 4, partial panel */
    { 1, 64, 48, 5, 4, 1, 1, 0, 1, 1, TRUE, FALSE },     /* 1×1: read in place */
    { 2, 5, 33, 7, 7, 1, 1, 0, 1, 1, FALSE, TRUE },      /* 1×1, K not a multiple of 4 */
    { 1, 16, 40, 8, 9, 1, 2, 0, 1, 1, FALSE, FALSE },    /* 1×1 stride 2 (downsample) */
    { 1, 32, 32, 6, 6, 3, 2, 1, 1, 8, TRUE, FALSE },     /* grouped (ResNeXt) */
    { 2, 24, 24, 7, 6, 3, 1, 1, 1, 24, TRUE, TRUE },     /* depthwise */
    { 1, 40, 40, 9, 9, 5, 2, 2, 1, 40, FALSE, FALSE },   /* depthwise 5×5 stride 2 */
    { 1, 12, 18, 9, 8, 3, 1, 2, 2, 1, TRUE, TRUE },      /* dilated, zero points */
    { 1, 16, 130, 60, 7, 3, 1, 1, 1, 1, TRUE, FALSE },   /* several row blocks and chunks */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int layout = 0; layout < 2; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1600 + i * 10 + layout);

        check_qconv (&cases[i], rng, layout);
      }
}

static void
test_qlinear (void)
{
  static const QConvCase cases[] = {
    { 1, 512, 1000, 1, 1, 1, 1, 0, 1, 1, FALSE, FALSE, TRUE },
    { 3, 37, 21, 1, 1, 1, 1, 0, 1, 1, TRUE, TRUE, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1700 + i);

      check_qconv (&cases[i], rng, TEST_LAYOUT_CONTIGUOUS);
    }
}

/* ---- elementwise and pools ---------------------------------------------- */

static void
quantize_array (TestArray *t,
                GRand     *rng)
{
  t->a.quantized = TRUE;
  t->a.qaxis = -1;
  t->a.scale = g_rand_double_range (rng, 0.01, 0.1);
  t->a.zero_point = g_rand_int_range (rng, 0, 256);
}

static void
test_qadd (void)
{
  for (int relu = 0; relu < 2; relu++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1800 + relu * 10 + layout);
        const gint64 shape[4] = { 2, 19, 5, 7 };
        const float out_scale = 0.07f, out_zero = 100.f;
        const float *data[2] = { &out_scale, &out_zero };
        const TvwQAddParams p = { relu };
        g_autofree double *want = g_new (double, 2 * 19 * 5 * 7);
        TvwArray weights[2] = { { 0 } }, in[2], out;
        TestArray a, b;

        test_array_random (&a, rng, TVW_ELEM_U8, 4, shape, layout, 0, 256);
        test_array_random (&b, rng, TVW_ELEM_U8, 4, shape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
        quantize_array (&a, rng);
        quantize_array (&b, rng);
        for (int i = 0; i < 2; i++)
          {
            weights[i].elem = TVW_ELEM_F32;
            weights[i].data = (gpointer) data[i];
          }
        for (gint64 f = 0; f < 2 * 19 * 5 * 7; f++)
          {
            gint64 idx[4];
            float v;

            test_unflatten (&a.a, f, idx);
            /* Dequantized in float, added, requantised (PyTorch's qadd). */
            v = fmaf ((float) test_array_get (&a.a, idx), (float) a.a.scale,
                      -(float) a.a.zero_point * (float) a.a.scale) +
                fmaf ((float) test_array_get (&b.a, idx), (float) b.a.scale,
                      -(float) b.a.zero_point * (float) b.a.scale);
            if (relu)
              v = MAX (v, 0.f);
            want[f] = CLAMP (nearbyintf (v * (1.f / out_scale)) + out_zero, 0, 255);
          }
        in[0] = a.a;
        in[1] = b.a;
        test_run_op (&tvw_op_qadd, &p, 2, in, 2, weights, 1, &out, 0);
        test_assert_close ("qadd", &out, 4, shape, want, 0, 0);
        g_free (out.data);
        test_array_clear (&a);
        test_array_clear (&b);
      }
}

/* FloatFunctional.cat: three maps of 5, 16 and 3 channels in different
 * layouts, the second quantized like the output (copied as it is), the
 * others requantised: x·s + (−z·s) fused, times 1/scale, rounded half to
 * even, plus the zero point — PyTorch's qcat. */
static void
test_qcat (void)
{
  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (2200 + layout);
      const int channels[3] = { 5, 16, 3 };
      const float out_scale = 0.05f, out_zero = 77.f;
      const float *data[2] = { &out_scale, &out_zero };
      const gint64 shape[4] = { 2, 24, 6, 7 };
      const TvwDimParams p = { 1 };
      g_autofree double *want = g_new (double, 2 * 24 * 6 * 7);
      TvwArray weights[2] = { { 0 } }, in[3], out;
      TestArray x[3];
      int first = 0;

      for (int k = 0; k < 3; k++)
        {
          const gint64 xshape[4] = { 2, channels[k], 6, 7 };

          test_array_random (&x[k], rng, TVW_ELEM_U8, 4, xshape,
                             k == 1 ? (TestLayout) layout : TEST_LAYOUT_CHANNELS_LAST, 0, 256);
          quantize_array (&x[k], rng);
          in[k] = x[k].a;
        }
      in[1].scale = out_scale;
      in[1].zero_point = (int) out_zero;
      for (int i = 0; i < 2; i++)
        {
          weights[i].elem = TVW_ELEM_F32;
          weights[i].data = (gpointer) data[i];
        }
      for (int k = 0; k < 3; k++)
        {
          for (gint64 f = 0; f < 2 * channels[k] * 6 * 7; f++)
            {
              const float s = (float) in[k].scale;
              gint64 idx[4];
              float v;

              test_unflatten (&in[k], f, idx);
              v = (float) test_array_get (&in[k], idx);
              if (k != 1)
                v = CLAMP (nearbyintf (fmaf (v, s, -(float) in[k].zero_point * s) *
                                       (1.f / out_scale)) + out_zero, 0, 255);
              idx[1] += first;
              want[((idx[0] * 24 + idx[1]) * 6 + idx[2]) * 7 + idx[3]] = v;
            }
          first += channels[k];
        }
      test_run_op (&tvw_op_qcat, &p, 3, in, 2, weights, 1, &out, 0);
      test_assert_close ("qcat", &out, 4, shape, want, 0, 0);
      /* (Run eagerly, the descriptor keeps what infer said before
       * prepare read the module's scale: the conformance tests cover the
       * graph's.) */
      g_assert_true (out.quantized);
      g_free (out.data);
      for (int k = 0; k < 3; k++)
        test_array_clear (&x[k]);
    }
}

/* Maps of different heights, or a float input, are errors naming the
 * module. */
static void
test_qcat_refuses (void)
{
  const gint64 a_shape[4] = { 1, 4, 5, 5 }, b_shape[4] = { 1, 4, 6, 5 };
  const float scale = 0.1f, zero = 0.f;
  const float *data[2] = { &scale, &zero };
  const TvwDimParams p = { 1 };
  g_autoptr(GRand) rng = g_rand_new_with_seed (2300);
  g_autoptr(GError) error = NULL;
  TvwArray weights[2] = { { 0 } }, in[2], out;
  TestArray a, b, f;

  for (int i = 0; i < 2; i++)
    {
      weights[i].elem = TVW_ELEM_F32;
      weights[i].data = (gpointer) data[i];
    }
  test_array_random (&a, rng, TVW_ELEM_U8, 4, a_shape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
  test_array_random (&b, rng, TVW_ELEM_U8, 4, b_shape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
  test_array_random (&f, rng, TVW_ELEM_F32, 4, a_shape, TEST_LAYOUT_CONTIGUOUS, 0, 1);
  quantize_array (&a, rng);
  quantize_array (&b, rng);

  in[0] = a.a;
  in[1] = b.a;
  g_assert_false (tvw_op_eager (&tvw_op_qcat, "stage2.0.cat", &p, 2, in, 2, weights, 1, &out,
                                1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "stage2.0.cat"));
  g_clear_error (&error);

  in[1] = f.a;
  g_assert_false (tvw_op_eager (&tvw_op_qcat, "stage2.0.cat", &p, 2, in, 2, weights, 1, &out,
                                1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "input 1"));
  test_array_clear (&a);
  test_array_clear (&b);
  test_array_clear (&f);
}

/* ShuffleNet V2's x.chunk (2, dim=1) and channel shuffle on quint8 maps:
 * bytes moved, the per-tensor quantization kept. */
static void
test_shuffle_quint8 (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (2400);
  const gint64 shape[4] = { 2, 6, 3, 4 }, half[4] = { 2, 3, 3, 4 };
  const TvwShuffleParams sp = { 2 };
  g_autofree TvwSplitParams *split = g_malloc0 (sizeof (TvwSplitParams) + 2 * sizeof (gint64));
  g_autofree double *want = g_new (double, 2 * 6 * 3 * 4);
  g_autofree double *want_half = g_new (double, 2 * 3 * 3 * 4);
  TvwArray out, parts[2];
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_U8, 4, shape, TEST_LAYOUT_CHANNELS_LAST, 0, 256);
  quantize_array (&x, rng);
  for (gint64 f = 0; f < 2 * 6 * 3 * 4; f++)
    {
      gint64 idx[4], src[4];

      test_unflatten (&x.a, f, idx);
      memcpy (src, idx, sizeof src);
      /* out channel c = in channel (c % 2)·3 + c / 2 */
      src[1] = idx[1] % 2 * 3 + idx[1] / 2;
      want[f] = test_array_get (&x.a, src);
      if (idx[1] >= 3)
        want_half[((idx[0] * 3 + idx[1] - 3) * 3 + idx[2]) * 4 + idx[3]] =
          test_array_get (&x.a, idx);
    }
  test_run_op (&tvw_op_channel_shuffle, &sp, 1, &x.a, 0, NULL, 1, &out, 0);
  test_assert_close ("channel_shuffle", &out, 4, shape, want, 0, 0);
  g_assert_true (out.quantized && out.qaxis < 0);
  g_assert_cmpfloat (out.scale, ==, x.a.scale);
  g_assert_cmpint (out.zero_point, ==, x.a.zero_point);
  g_free (out.data);

  /* A view: its outputs are not freed. */
  split->dim = 1;
  split->n = 2;
  split->sizes[0] = split->sizes[1] = 3;
  test_run_op (&tvw_op_split, split, 1, &x.a, 0, NULL, 2, parts, 0);
  test_assert_close ("split", &parts[1], 4, half, want_half, 0, 0);
  g_assert_true (parts[1].quantized);
  g_assert_cmpfloat (parts[1].scale, ==, x.a.scale);
  g_assert_cmpint (parts[1].zero_point, ==, x.a.zero_point);
  test_array_clear (&x);
}

static void
test_qpools (void)
{
  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1900 + layout);
      const gint64 shape[4] = { 2, 21, 9, 8 };
      const TvwPool2dParams mp = { .kernel = 3, .stride = 2, .padding = 1 };
      const TvwPool2dParams ap = { .out_h = 1, .out_w = 1 };
      const gint64 mshape[4] = { 2, 21, 5, 4 }, ashape[4] = { 2, 21, 1, 1 };
      g_autofree double *want_max = g_new (double, 2 * 21 * 5 * 4);
      g_autofree double *want_avg = g_new (double, 2 * 21);
      TestArray x;
      TvwArray out;

      test_array_random (&x, rng, TVW_ELEM_U8, 4, shape, layout, 0, 256);
      quantize_array (&x, rng);
      for (int b = 0; b < 2; b++)
        for (int c = 0; c < 21; c++)
          {
            gint64 sum = 0;

            for (int y = 0; y < 9; y++)
              for (int xx = 0; xx < 8; xx++)
                {
                  const gint64 idx[4] = { b, c, y, xx };

                  sum += (gint64) test_array_get (&x.a, idx) - x.a.zero_point;
                }
            /* PyTorch: the int32 sum times 1/size, to nearest even. */
            want_avg[b * 21 + c] = CLAMP (nearbyintf ((float) sum * (1.f / 72.f)) +
                                          x.a.zero_point, 0, 255);
            for (int oy = 0; oy < 5; oy++)
              for (int ox = 0; ox < 4; ox++)
                {
                  double m = 0;

                  for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                      {
                        const gint64 idx[4] = { b, c, oy * 2 - 1 + ky, ox * 2 - 1 + kx };

                        if (idx[2] >= 0 && idx[2] < 9 && idx[3] >= 0 && idx[3] < 8)
                          m = MAX (m, test_array_get (&x.a, idx));
                      }
                  want_max[((b * 21 + c) * 5 + oy) * 4 + ox] = m;
                }
          }

      test_run_op (&tvw_op_qmax_pool2d, &mp, 1, &x.a, 0, NULL, 1, &out, 0);
      test_assert_close ("qmax_pool2d", &out, 4, mshape, want_max, 0, 0);
      g_assert_cmpfloat (out.scale, ==, x.a.scale);
      g_free (out.data);
      test_run_op (&tvw_op_qadaptive_avg_pool2d, &ap, 1, &x.a, 0, NULL, 1, &out, 0);
      test_assert_close ("qadaptive_avg_pool2d", &out, 4, ashape, want_avg, 0, 0);
      g_assert_cmpint (out.zero_point, ==, x.a.zero_point);
      g_free (out.data);
      test_array_clear (&x);
    }
}

/* GoogLeNet's ceil-mode pools: 9×8 → 4×4 by 3×3 windows of stride 2, the
 * last ones cut by the input's edge; and 3×3 stride 1 padding 1. */
static void
test_qmax_pool2d_ceil (void)
{
  static const struct { int kernel, stride, padding, oh, ow; } cases[] = {
    { 3, 2, 0, 4, 4 },
    { 3, 1, 1, 9, 8 },
    { 2, 2, 0, 5, 4 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (2500 + i);
      const gint64 shape[4] = { 1, 10, 9, 8 };
      const gint64 oshape[4] = { 1, 10, cases[i].oh, cases[i].ow };
      const TvwPool2dParams p = {
        .kernel = cases[i].kernel, .stride = cases[i].stride, .padding = cases[i].padding,
        .ceil_mode = TRUE,
      };
      g_autofree double *want = g_new (double, 10 * cases[i].oh * cases[i].ow);
      TestArray x;
      TvwArray out;

      test_array_random (&x, rng, TVW_ELEM_U8, 4, shape, TEST_LAYOUT_CHANNELS_LAST, 0, 256);
      quantize_array (&x, rng);
      for (int c = 0; c < 10; c++)
        for (int oy = 0; oy < cases[i].oh; oy++)
          for (int ox = 0; ox < cases[i].ow; ox++)
            {
              double m = 0;

              for (int ky = 0; ky < p.kernel; ky++)
                for (int kx = 0; kx < p.kernel; kx++)
                  {
                    const gint64 idx[4] = {
                      0, c, oy * p.stride - p.padding + ky, ox * p.stride - p.padding + kx
                    };

                    if (idx[2] >= 0 && idx[2] < 9 && idx[3] >= 0 && idx[3] < 8)
                      m = MAX (m, test_array_get (&x.a, idx));
                  }
              want[(c * cases[i].oh + oy) * cases[i].ow + ox] = m;
            }
      test_run_op (&tvw_op_qmax_pool2d, &p, 1, &x.a, 0, NULL, 1, &out, 0);
      test_assert_close ("qmax_pool2d ceil", &out, 4, oshape, want, 0, 0);
      g_free (out.data);
      test_array_clear (&x);
    }
}

/* Inception v3's F.avg_pool2d (x, 3, stride=1, padding=1) on quint8
 * (count_include_pad): the sum of (x − zx) over the window's input
 * elements times 1/9, to nearest even, plus zx — checked against PyTorch's
 * onednn output for this formula on NCHW and NHWC maps; and stride 2. */
static void
test_qavg_pool2d (void)
{
  static const struct { int stride, oh, ow; } cases[] = { { 1, 9, 8 }, { 2, 5, 4 } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (2600 + i * 10 + layout);
        const gint64 shape[4] = { 2, 13, 9, 8 };
        const gint64 oshape[4] = { 2, 13, cases[i].oh, cases[i].ow };
        const TvwPool2dParams p = {
          .kernel = 3, .stride = cases[i].stride, .padding = 1, .count_include_pad = TRUE,
        };
        g_autofree double *want = g_new (double, 2 * 13 * cases[i].oh * cases[i].ow);
        TestArray x;
        TvwArray out;

        test_array_random (&x, rng, TVW_ELEM_U8, 4, shape, layout, 0, 256);
        quantize_array (&x, rng);
        for (int b = 0; b < 2; b++)
          for (int c = 0; c < 13; c++)
            for (int oy = 0; oy < cases[i].oh; oy++)
              for (int ox = 0; ox < cases[i].ow; ox++)
                {
                  gint64 sum = 0;

                  for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                      {
                        const gint64 idx[4] = {
                          b, c, oy * p.stride - 1 + ky, ox * p.stride - 1 + kx
                        };

                        if (idx[2] >= 0 && idx[2] < 9 && idx[3] >= 0 && idx[3] < 8)
                          sum += (gint64) test_array_get (&x.a, idx) - x.a.zero_point;
                      }
                  want[((b * 13 + c) * cases[i].oh + oy) * cases[i].ow + ox] =
                    CLAMP (nearbyintf ((float) sum * (1.f / 9.f)) + x.a.zero_point, 0, 255);
                }
        test_run_op (&tvw_op_qavg_pool2d, &p, 1, &x.a, 0, NULL, 1, &out, 0);
        test_assert_close ("qavg_pool2d", &out, 4, oshape, want, 0, 0);
        g_assert_cmpfloat (out.scale, ==, x.a.scale);
        g_assert_cmpint (out.zero_point, ==, x.a.zero_point);
        g_free (out.data);
        test_array_clear (&x);
      }
}

static void
test_quantize_stub (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (2000);
  const gint64 shape[4] = { 2, 3, 11, 13 };
  const float scale = 0.03125f, zero = 128.f;   /* halves are exact: ties to even */
  const float *data[2] = { &scale, &zero };
  const int unused = 0;
  g_autofree double *want = g_new (double, 2 * 3 * 11 * 13);
  TvwArray weights[2] = { { 0 } }, out;
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_F32, 4, shape, TEST_LAYOUT_CONTIGUOUS, -5, 5);
  for (gint64 f = 0; f < 2 * 3 * 11 * 13; f++)
    {
      float *v = (float *) x.a.data + f;

      if (f % 7 == 0)
        *v = (float) (g_rand_int_range (rng, -200, 200) + 0.5) * scale;
      want[f] = CLAMP (nearbyintf (*v * (1.f / scale)) + zero, 0, 255);
    }
  for (int i = 0; i < 2; i++)
    {
      weights[i].elem = TVW_ELEM_F32;
      weights[i].data = (gpointer) data[i];
    }
  test_run_op (&tvw_op_quantize_stub, &unused, 1, &x.a, 2, weights, 1, &out, 0);
  test_assert_close ("quantize_stub", &out, 4, shape, want, 0, 0);
  g_assert_true (out.quantized);
  g_free (out.data);
  test_array_clear (&x);
}

/* Bad inputs and parameters are errors naming the module. */
static void
test_qconv2d_refuses (void)
{
  const gint64 shape[4] = { 1, 4, 5, 5 };
  const TvwQConvOpParams p = { .spec = { 3, 3, 1, 1, 1, 1, 1, 1, 1, TRUE }, .cin = 4, .cout = 2 };
  float w[72] = { 0 }, ws[2] = { 0.01f, 0.01f }, wz[2] = { 0 }, bias[2] = { 0 };
  float bad_scale = 0.f, zero = 0.f, scale = 0.1f;
  const float *data[6] = { w, ws, wz, bias, &bad_scale, &zero };
  TvwArray weights[6] = { { 0 } }, out;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rng = g_rand_new_with_seed (2100);
  TestArray x;

  for (int i = 0; i < 6; i++)
    {
      weights[i].elem = TVW_ELEM_F32;
      weights[i].data = (gpointer) data[i];
    }

  /* A float input. */
  test_array_random (&x, rng, TVW_ELEM_F32, 4, shape, TEST_LAYOUT_CONTIGUOUS, 0, 1);
  g_assert_false (tvw_op_eager (&tvw_op_qconv2d, "layer1.0.conv1", &p, 1, &x.a, 6, weights,
                                1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "layer1.0.conv1"));
  g_clear_error (&error);
  test_array_clear (&x);

  /* An output scale of 0. */
  test_array_random (&x, rng, TVW_ELEM_U8, 4, shape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
  quantize_array (&x, rng);
  g_assert_false (tvw_op_eager (&tvw_op_qconv2d, "layer1.0.conv1", &p, 1, &x.a, 6, weights,
                                1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "scale 0"));
  g_clear_error (&error);

  /* A weight channel with scale 0. */
  ws[1] = 0.f;
  weights[4].data = &scale;
  g_assert_false (tvw_op_eager (&tvw_op_qconv2d, "layer1.0.conv1", &p, 1, &x.a, 6, weights,
                                1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "channel 1"));
  test_array_clear (&x);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_message ("int8 kernel variant on this CPU: %d", tvw_qgemm_variant ());
  g_test_add_func ("/tvw/ops/qconv2d/vs-definition", test_qconv2d);
  g_test_add_func ("/tvw/ops/qconv2d/refuses-bad-input", test_qconv2d_refuses);
  g_test_add_func ("/tvw/ops/qlinear/vs-definition", test_qlinear);
  g_test_add_func ("/tvw/ops/qadd/vs-definition", test_qadd);
  g_test_add_func ("/tvw/ops/qcat/vs-definition", test_qcat);
  g_test_add_func ("/tvw/ops/qcat/refuses-bad-input", test_qcat_refuses);
  g_test_add_func ("/tvw/ops/channel_shuffle/quint8", test_shuffle_quint8);
  g_test_add_func ("/tvw/ops/qmax_pool2d/vs-definition", test_qpools);
  g_test_add_func ("/tvw/ops/qmax_pool2d/ceil-mode", test_qmax_pool2d_ceil);
  g_test_add_func ("/tvw/ops/qavg_pool2d/vs-definition", test_qavg_pool2d);
  g_test_add_func ("/tvw/ops/qadaptive_avg_pool2d/vs-definition", test_qpools);
  g_test_add_func ("/tvw/ops/quantize_stub/ties-to-even", test_quantize_stub);

  return g_test_run ();
}
