/* test-ops-core.c — the convolution, linear, norm, elementwise, pooling
 * and squeeze-excitation ops against naive references, and the op table's
 * coverage by the op tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tolerances: the GEMM-based ops sum K products in float32 in another
 * order than the double reference: 1e-5·(1 + |ref|) covers K ≤ a few
 * thousand with values of order 1 (errors grow like √K·ε·|terms|).  The
 * elementwise and pooling ops compute the same float expression as the
 * reference up to rounding: 1e-6·(1 + |ref|), or 2e-6 for exp-based
 * activations (the vector exp is within 2 ulp).
 */

#include "config.h"

#include "tvw-op-test.h"

#define N_SEEDS 6

static double
act_ref (double        x,
         TvwActivation act)
{
  switch (act)
    {
    case TVW_ACT_RELU: return x > 0 ? x : 0;
    case TVW_ACT_RELU6: return MIN (MAX (x, 0), 6);
    case TVW_ACT_SILU: return x / (1 + exp (-x));
    case TVW_ACT_SIGMOID: return 1 / (1 + exp (-x));
    case TVW_ACT_HARDSWISH: return x * MIN (MAX (x + 3, 0), 6) / 6;
    case TVW_ACT_HARDSIGMOID: return MIN (MAX (x + 3, 0), 6) / 6;
    case TVW_ACT_GELU: return 0.5 * x * (1 + erf (x / G_SQRT2));
    case TVW_ACT_TANH: return tanh (x);
    case TVW_ACT_NONE:
    default: return x;
    }
}

static const TvwActivation all_acts[] = {
  TVW_ACT_NONE, TVW_ACT_RELU, TVW_ACT_RELU6, TVW_ACT_SILU, TVW_ACT_SIGMOID,
  TVW_ACT_HARDSWISH, TVW_ACT_HARDSIGMOID, TVW_ACT_GELU, TVW_ACT_TANH,
};

static void
weight_random (TestArray    *t,
               GRand        *rng,
               int           rank,
               const gint64 *shape,
               double        lo,
               double        hi)
{
  test_array_random (t, rng, TVW_ELEM_F32, rank, shape, TEST_LAYOUT_CONTIGUOUS, lo, hi);
}

static double
at (const TvwArray *a,
    gint64          i0,
    gint64          i1,
    gint64          i2,
    gint64          i3)
{
  gint64 idx[4] = { i0, i1, i2, i3 };

  return test_array_get (a, idx);
}

/* conv2d: groups, strides, dilation, padding, a folded BatchNorm, a
 * residual and an activation, on inputs of every layout. */
static void
test_conv2d_random (void)
{
  for (guint seed = 0; seed < 4 * N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (seed);
      const int groups = (int[]) { 1, 1, 2, 4 }[seed % 4];
      const int depthwise = seed % 8 == 7;
      const int cin = depthwise ? 8 : groups * g_rand_int_range (rng, 1, 6);
      const int cout = depthwise ? 8 : groups * g_rand_int_range (rng, 1, 7);
      const int g = depthwise ? 8 : groups;
      const int k = g_rand_int_range (rng, 1, 4), s = g_rand_int_range (rng, 1, 3);
      const int d = g_rand_int_range (rng, 1, 3), pad = g_rand_int_range (rng, 0, 3);
      const gboolean bias = g_rand_boolean (rng), bn = seed % 3 == 0, residual = seed % 5 == 1;
      const TvwActivation act = all_acts[seed % G_N_ELEMENTS (all_acts)];
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 3), cin, g_rand_int_range (rng, 5, 12),
                             g_rand_int_range (rng, 5, 12) };
      TvwConvOpParams p = {
        .spec = { k, k, s, s, pad, pad, d, d, g, bias },
        .cin = cin, .cout = cout, .act = act, .batch_norm = bn, .bn_eps = 1e-3,
        .residual = residual,
      };
      const gint64 ws[4] = { cout, cin / g, k, k }, cs[1] = { cout };
      TestArray x, r = { 0 }, w[7];
      TvwArray in[2], weights[7], out;
      int n_w = 0;
      gint64 oh = (xs[2] + 2 * pad - d * (k - 1) - 1) / s + 1;
      gint64 ow = (xs[3] + 2 * pad - d * (k - 1) - 1) / s + 1;
      const gint64 ys[4] = { xs[0], cout, oh, ow };
      g_autofree double *want = NULL;

      if (oh <= 0 || ow <= 0)
        continue;

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -1, 1);
      in[0] = x.a;
      weight_random (&w[n_w], rng, 4, ws, -0.5, 0.5);
      weights[n_w] = w[n_w].a;
      n_w++;
      if (bias)
        {
          weight_random (&w[n_w], rng, 1, cs, -0.5, 0.5);
          weights[n_w] = w[n_w].a;
          n_w++;
        }
      if (bn)
        for (int i = 0; i < 4; i++)
          {
            /* weight, bias, running_mean, running_var (positive) */
            weight_random (&w[n_w], rng, 1, cs, i == 3 ? 0.2 : -1, i == 3 ? 2 : 1);
            weights[n_w] = w[n_w].a;
            n_w++;
          }
      if (residual)
        {
          test_array_random (&r, rng, TVW_ELEM_F32, 4, ys, (seed + 1) % TEST_N_LAYOUTS, -1, 1);
          in[1] = r.a;
        }

      want = g_new0 (double, ys[0] * ys[1] * ys[2] * ys[3]);
      for (gint64 b = 0; b < ys[0]; b++)
        for (gint64 o = 0; o < cout; o++)
          for (gint64 y = 0; y < oh; y++)
            for (gint64 xx = 0; xx < ow; xx++)
              {
                const int cg = cin / g, og = cout / g, grp = (int) (o / og);
                double acc = bias ? ((float *) w[1].a.data)[o] : 0;

                for (int ci = 0; ci < cg; ci++)
                  for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                      {
                        gint64 iy = y * s - pad + ky * d, ix = xx * s - pad + kx * d;

                        if (iy < 0 || iy >= xs[2] || ix < 0 || ix >= xs[3])
                          continue;
                        acc += at (&x.a, b, grp * cg + ci, iy, ix) *
                               ((float *) w[0].a.data)[((o * cg + ci) * k + ky) * k + kx];
                      }
                if (bn)
                  {
                    const int o0 = bias ? 2 : 1;
                    const float *gm = w[o0].a.data, *bt = w[o0 + 1].a.data;
                    const float *mean = w[o0 + 2].a.data, *var = w[o0 + 3].a.data;

                    acc = (acc - mean[o]) / sqrt (var[o] + 1e-3) * gm[o] + bt[o];
                  }
                if (residual)
                  acc += at (&r.a, b, o, y, xx);
                want[((b * cout + o) * oh + y) * ow + xx] = act_ref (acc, act);
              }

      test_run_op (&tvw_op_conv2d, &p, residual ? 2 : 1, in, n_w, weights, 1, &out, 1e-5);
      test_assert_close ("conv2d", &out, 4, ys, want, 1e-5, 1e-5);

      g_free (out.data);
      test_array_clear (&x);
      test_array_clear (&r);
      for (int i = 0; i < n_w; i++)
        test_array_clear (&w[i]);
    }
}

/* linear over the last dimension of any rank, inputs of any layout. */
static void
test_linear_random (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (100 + seed);
      const int rank = g_rand_int_range (rng, 1, 5);
      const int in_f = g_rand_int_range (rng, 1, 40), out_f = g_rand_int_range (rng, 1, 40);
      gint64 xs[TVW_MAX_RANK], ys[TVW_MAX_RANK], rows = 1;
      const gint64 ws[2] = { out_f, in_f }, bs[1] = { out_f };
      TvwConvOpParams p = {
        .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, TRUE },
        .cin = in_f, .cout = out_f, .act = all_acts[seed % G_N_ELEMENTS (all_acts)],
      };
      TestArray x, w, b;
      TvwArray weights[2], out;
      g_autofree double *want = NULL;

      for (int i = 0; i < rank - 1; i++)
        rows *= (xs[i] = ys[i] = g_rand_int_range (rng, 1, 5));
      xs[rank - 1] = in_f;
      ys[rank - 1] = out_f;
      test_array_random (&x, rng, TVW_ELEM_F32, rank, xs, seed % TEST_N_LAYOUTS, -1, 1);
      weight_random (&w, rng, 2, ws, -0.5, 0.5);
      weight_random (&b, rng, 1, bs, -0.5, 0.5);
      weights[0] = w.a;
      weights[1] = b.a;

      want = g_new0 (double, rows * out_f);
      for (gint64 r = 0; r < rows; r++)
        for (int o = 0; o < out_f; o++)
          {
            gint64 idx[TVW_MAX_RANK];
            double acc = ((float *) b.a.data)[o];

            test_unflatten (&x.a, r * in_f, idx);
            for (int i = 0; i < in_f; i++)
              {
                idx[rank - 1] = i;
                acc += test_array_get (&x.a, idx) * ((float *) w.a.data)[o * in_f + i];
              }
            want[r * out_f + o] = act_ref (acc, p.act);
          }

      test_run_op (&tvw_op_linear, &p, 1, &x.a, 2, weights, 1, &out, 1e-5);
      test_assert_close ("linear", &out, rank, ys, want, 1e-5, 1e-5);

      g_free (out.data);
      test_array_clear (&x);
      test_array_clear (&w);
      test_array_clear (&b);
    }
}

/* BatchNorm in eval mode over dim 1 of N×C, N×C×L, N×C×H×W, N×C×T×H×W. */
static void
test_batch_norm_random (void)
{
  for (guint seed = 0; seed < 4 * N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (200 + seed);
      const int rank = 2 + (int) (seed % 4);
      const gint64 c = g_rand_int_range (rng, 1, 20), cs[1] = { c };
      TvwBatchNormParams p = { 1e-5, all_acts[seed % G_N_ELEMENTS (all_acts)] };
      gint64 xs[TVW_MAX_RANK], n, idx[TVW_MAX_RANK];
      TestArray x, w[4];
      TvwArray weights[5] = { 0 }, out;
      g_autofree double *want = NULL;

      xs[0] = g_rand_int_range (rng, 1, 4);
      xs[1] = c;
      for (int i = 2; i < rank; i++)
        xs[i] = g_rand_int_range (rng, 1, 7);
      test_array_random (&x, rng, TVW_ELEM_F32, rank, xs, seed % TEST_N_LAYOUTS, -2, 2);
      for (int i = 0; i < 4; i++)
        {
          weight_random (&w[i], rng, 1, cs, i == 3 ? 0.2 : -1, i == 3 ? 2 : 1);
          weights[i] = w[i].a;
        }
      /* num_batches_tracked: declared, never read. */
      tvw_array_init (&weights[4], TVW_ELEM_F32, 0, NULL);

      n = tvw_array_numel (&x.a);
      want = g_new (double, n);
      for (gint64 f = 0; f < n; f++)
        {
          const float *g = w[0].a.data, *b = w[1].a.data, *m = w[2].a.data, *v = w[3].a.data;
          gint64 ch;

          test_unflatten (&x.a, f, idx);
          ch = idx[1];
          want[f] = act_ref ((test_array_get (&x.a, idx) - m[ch]) / sqrt (v[ch] + 1e-5) * g[ch] + b[ch],
                             p.act);
        }

      test_run_op (&tvw_op_batch_norm, &p, 1, &x.a, 5, weights, 1, &out, 1e-6);
      test_assert_close ("batch_norm", &out, rank, xs, want, 2e-6, 2e-6);

      g_free (out.data);
      test_array_clear (&x);
      for (int i = 0; i < 4; i++)
        test_array_clear (&w[i]);
    }
}

static void
test_activation_random (void)
{
  for (guint seed = 0; seed < 2 * G_N_ELEMENTS (all_acts); seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (300 + seed);
      const int rank = g_rand_int_range (rng, 1, 6);
      TvwActivationParams p = { all_acts[seed % G_N_ELEMENTS (all_acts)] };
      gint64 xs[TVW_MAX_RANK], n, idx[TVW_MAX_RANK];
      TestArray x;
      TvwArray out;
      g_autofree double *want = NULL;

      for (int i = 0; i < rank; i++)
        xs[i] = g_rand_int_range (rng, 1, 9);
      test_array_random (&x, rng, TVW_ELEM_F32, rank, xs, seed % TEST_N_LAYOUTS, -8, 8);
      n = tvw_array_numel (&x.a);
      want = g_new (double, n);
      for (gint64 f = 0; f < n; f++)
        {
          test_unflatten (&x.a, f, idx);
          want[f] = act_ref (test_array_get (&x.a, idx), p.act);
        }

      test_run_op (&tvw_op_activation, &p, 1, &x.a, 0, NULL, 1, &out, 0);
      test_assert_close ("activation", &out, rank, xs, want, 2e-6, 2e-6);

      g_free (out.data);
      test_array_clear (&x);
    }
}

/* a ∘ b with broadcasting: operands of different ranks, size-1 dims, every
 * layout, every op, an activation. */
static void
test_binary_random (void)
{
  for (guint seed = 0; seed < 8 * N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (400 + seed);
      const int rank = g_rand_int_range (rng, 1, 6);
      const int rank_b = g_rand_int_range (rng, 1, rank + 1);
      TvwBinaryParams p = { seed % 4, all_acts[(seed / 4) % G_N_ELEMENTS (all_acts)] };
      gint64 as[TVW_MAX_RANK], bs[TVW_MAX_RANK], n, idx[TVW_MAX_RANK], ia[TVW_MAX_RANK], ib[TVW_MAX_RANK];
      TestArray a, b;
      TvwArray in[2], out;
      g_autofree double *want = NULL;

      for (int i = 0; i < rank; i++)
        as[i] = g_rand_int_range (rng, 1, 6);
      for (int i = 0; i < rank_b; i++)
        bs[i] = g_rand_int_range (rng, 0, 3) == 0 ? 1 : as[rank - rank_b + i];
      /* Sometimes the broadcast goes the other way. */
      if (seed % 3 == 2 && as[rank - 1] != 1)
        {
          bs[rank_b - 1] = as[rank - 1];
          as[rank - 1] = 1;
        }
      test_array_random (&a, rng, TVW_ELEM_F32, rank, as, seed % TEST_N_LAYOUTS, -2, 2);
      test_array_random (&b, rng, TVW_ELEM_F32, rank_b, bs, (seed / 2) % TEST_N_LAYOUTS, 0.5, 2);
      in[0] = a.a;
      in[1] = b.a;

      {
        gint64 os[TVW_MAX_RANK];
        TvwArray shape;

        for (int i = 0; i < rank; i++)
          {
            int j = i - (rank - rank_b);

            os[i] = MAX (as[i], j >= 0 ? bs[j] : 1);
          }
        tvw_array_init (&shape, TVW_ELEM_F32, rank, os);
        n = tvw_array_numel (&shape);
        want = g_new (double, n);
        for (gint64 f = 0; f < n; f++)
          {
            double x, y, r;

            test_unflatten (&shape, f, idx);
            for (int i = 0; i < rank; i++)
              ia[i] = as[i] == 1 ? 0 : idx[i];
            for (int i = 0; i < rank_b; i++)
              ib[i] = bs[i] == 1 ? 0 : idx[rank - rank_b + i];
            x = (float) test_array_get (&a.a, ia);
            y = (float) test_array_get (&b.a, ib);
            r = p.op == TVW_BINARY_ADD ? x + y : p.op == TVW_BINARY_SUB ? x - y :
                p.op == TVW_BINARY_MUL ? x * y : x / y;
            want[f] = act_ref ((float) r, p.act);
          }

        test_run_op (&tvw_op_binary, &p, 2, in, 0, NULL, 1, &out, 0);
        test_assert_close ("binary", &out, rank, os, want, 2e-6, 2e-6);
      }

      g_free (out.data);
      test_array_clear (&a);
      test_array_clear (&b);
    }
}

/* Same-shape dense additions take tvw_kernel_add (): vectors, a tail,
 * ranges split between threads at odd places (above 32768 elements),
 * then the activation. */
static void
test_binary_dense_add (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (all_acts); i++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (480 + i);
      const gint64 shape[2] = { i % 2 ? 197 : 5, i % 2 ? 173 : 7 };
      TvwBinaryParams p = { TVW_BINARY_ADD, all_acts[i] };
      g_autofree double *want = g_new (double, shape[0] * shape[1]);
      TestArray a, b;
      TvwArray in[2], out;

      test_array_random (&a, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, -4, 4);
      test_array_random (&b, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, -4, 4);
      for (gint64 f = 0; f < shape[0] * shape[1]; f++)
        want[f] = act_ref (((float *) a.a.data)[f] + ((float *) b.a.data)[f], p.act);
      in[0] = a.a;
      in[1] = b.a;
      test_run_op (&tvw_op_binary, &p, 2, in, 0, NULL, 1, &out, 0);
      /* As random-strides. */
      test_assert_close ("dense add", &out, 2, shape, want, 2e-6, 2e-6);
      g_free (out.data);
      test_array_clear (&a);
      test_array_clear (&b);
    }
}

static void
test_binary_errors (void)
{
  g_autoptr(GError) error = NULL;
  const gint64 as[2] = { 3, 4 }, bs[2] = { 2, 4 };
  TvwBinaryParams p = { TVW_BINARY_ADD, TVW_ACT_NONE };
  TvwArray in[2], out;

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, as);
  tvw_array_init (&in[1], TVW_ELEM_F32, 2, bs);
  in[0].data = in[1].data = NULL;
  g_assert_false (tvw_op_eager (&tvw_op_binary, "layer1.add", &p, 2, in, 0, NULL, 1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "layer1.add"));
  g_assert_nonnull (strstr (error->message, "[3, 4]"));
  g_assert_nonnull (strstr (error->message, "[2, 4]"));
}

static void
test_scale_channels_random (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (500 + seed);
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 3), g_rand_int_range (rng, 1, 20),
                             g_rand_int_range (rng, 1, 7), g_rand_int_range (rng, 1, 7) };
      const gint64 gs[4] = { xs[0], xs[1], 1, 1 };
      gint64 n, idx[4], gi[4];
      TestArray x, g;
      TvwArray in[2], out;
      g_autofree double *want = NULL;

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -2, 2);
      test_array_random (&g, rng, TVW_ELEM_F32, 4, gs, TEST_LAYOUT_CONTIGUOUS, 0, 1);
      in[0] = x.a;
      in[1] = g.a;
      n = tvw_array_numel (&x.a);
      want = g_new (double, n);
      for (gint64 f = 0; f < n; f++)
        {
          test_unflatten (&x.a, f, idx);
          gi[0] = idx[0];
          gi[1] = idx[1];
          gi[2] = gi[3] = 0;
          want[f] = (float) test_array_get (&x.a, idx) * (float) test_array_get (&g.a, gi);
        }

      test_run_op (&tvw_op_scale_channels, NULL, 2, in, 0, NULL, 1, &out, 0);
      test_assert_close ("scale_channels", &out, 4, xs, want, 1e-6, 1e-6);

      g_free (out.data);
      test_array_clear (&x);
      test_array_clear (&g);
    }
}

static void
pool_ref (const TvwArray   *x,
          const TvwOpClass *cls,
          const TvwPool2dParams *p,
          const gint64     *ys,
          double           *want)
{
  for (gint64 b = 0; b < ys[0]; b++)
    for (gint64 c = 0; c < ys[1]; c++)
      for (gint64 oy = 0; oy < ys[2]; oy++)
        for (gint64 ox = 0; ox < ys[3]; ox++)
          {
            gint64 y0, y1, x0, x1, count;
            double acc;

            if (cls == &tvw_op_adaptive_avg_pool2d)
              {
                y0 = oy * x->shape[2] / ys[2];
                y1 = ((oy + 1) * x->shape[2] + ys[2] - 1) / ys[2];
                x0 = ox * x->shape[3] / ys[3];
                x1 = ((ox + 1) * x->shape[3] + ys[3] - 1) / ys[3];
                count = (y1 - y0) * (x1 - x0);
              }
            else
              {
                gint64 ys0 = oy * p->stride - p->padding, xs0 = ox * p->stride - p->padding;
                gint64 ye = MIN (ys0 + p->kernel, x->shape[2] + p->padding);
                gint64 xe = MIN (xs0 + p->kernel, x->shape[3] + p->padding);

                count = (ye - ys0) * (xe - xs0);
                y0 = MAX (ys0, 0);
                x0 = MAX (xs0, 0);
                y1 = MIN (ys0 + p->kernel, x->shape[2]);
                x1 = MIN (xs0 + p->kernel, x->shape[3]);
                if (!p->count_include_pad)
                  count = (y1 - y0) * (x1 - x0);
              }

            acc = cls == &tvw_op_max_pool2d ? -INFINITY : 0;
            for (gint64 y = y0; y < y1; y++)
              for (gint64 xx = x0; xx < x1; xx++)
                {
                  double v = at (x, b, c, y, xx);

                  acc = cls == &tvw_op_max_pool2d ? MAX (acc, v) : acc + v;
                }
            if (cls != &tvw_op_max_pool2d)
              acc /= count;
            want[((b * ys[1] + c) * ys[2] + oy) * ys[3] + ox] = acc;
          }
}

static void
test_pool_random (gconstpointer data)
{
  const TvwOpClass *cls = data;

  for (guint seed = 0; seed < 4 * N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (600 + seed);
      /* Some with more channels than one block of the max pool's (64),
       * and a partial block after full ones; some with one channel (the
       * average pool's path for single planes). */
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 3),
                             seed % 3 == 2 ? g_rand_int_range (rng, 60, 140) :
                             seed % 3 == 1 && seed % 2 == 0 ? 1 : g_rand_int_range (rng, 1, 12),
                             g_rand_int_range (rng, 3, 14), g_rand_int_range (rng, 3, 14) };
      TvwPool2dParams p = { 0 };
      gint64 ys[4] = { xs[0], xs[1] };
      TestArray x;
      TvwArray out;
      g_autofree double *want = NULL;

      if (cls == &tvw_op_adaptive_avg_pool2d)
        {
          p.out_h = ys[2] = g_rand_int_range (rng, 1, 8);
          p.out_w = ys[3] = g_rand_int_range (rng, 1, 8);
        }
      else
        {
          p.kernel = g_rand_int_range (rng, 1, 4);
          p.stride = g_rand_int_range (rng, 1, 3);
          p.padding = g_rand_int_range (rng, 0, p.kernel / 2 + 1);
          p.ceil_mode = seed % 2;
          p.count_include_pad = seed % 4 < 2;
          for (int i = 2; i < 4; i++)
            {
              gint64 num = xs[i] + 2 * p.padding - p.kernel;

              ys[i] = (p.ceil_mode ? (num + p.stride - 1) / p.stride : num / p.stride) + 1;
              if (p.ceil_mode && (ys[i] - 1) * p.stride >= xs[i] + p.padding)
                ys[i]--;
            }
        }

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -2, 2);
      want = g_new (double, ys[0] * ys[1] * ys[2] * ys[3]);
      pool_ref (&x.a, cls, &p, ys, want);

      test_run_op (cls, &p, 1, &x.a, 0, NULL, 1, &out, 0);
      test_assert_close (cls->name, &out, 4, ys, want, 1e-6, 1e-6);

      g_free (out.data);
      test_array_clear (&x);
    }
}

/* A NaN in a max pool's window gives NaN, as in PyTorch; in every channel
 * block (the kernel keeps 64 channels in registers). */
static void
test_max_pool_nan (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (77);
  const gint64 xs[4] = { 1, 150, 4, 4 }, ys[4] = { 1, 150, 2, 2 };
  const int nan_channels[] = { 3, 64, 149 };
  TvwPool2dParams p = { 0 };
  TestArray x;
  TvwArray out;

  p.kernel = 2;
  p.stride = 2;
  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CHANNELS_LAST, -2, 2);
  /* Pixel (1, 2): in output pixel (0, 1)'s window only. */
  for (guint i = 0; i < G_N_ELEMENTS (nan_channels); i++)
    {
      const gint64 idx[4] = { 0, nan_channels[i], 1, 2 };
      gint64 off = 0;

      for (int d = 0; d < 4; d++)
        off += idx[d] * x.a.stride[d];
      ((float *) x.a.data)[off] = NAN;
    }

  test_run_op (&tvw_op_max_pool2d, &p, 1, &x.a, 0, NULL, 1, &out, 0);
  for (gint64 c = 0; c < ys[1]; c++)
    for (gint64 oy = 0; oy < 2; oy++)
      for (gint64 ox = 0; ox < 2; ox++)
        {
          const gint64 idx[4] = { 0, c, oy, ox };
          gboolean nan_channel = c == 3 || c == 64 || c == 149;

          g_assert_cmpint (isnan (test_array_get (&out, idx)), ==, nan_channel && oy == 0 && ox == 1);
        }

  g_free (out.data);
  test_array_clear (&x);
}

static void
test_squeeze_excitation_random (void)
{
  for (guint seed = 0; seed < N_SEEDS; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (700 + seed);
      /* Every fourth seed a map large enough (from 32×24×24) for the
       * kernel to split it over the threads. */
      const gboolean big = seed % 4 == 3;
      const gint64 c = big ? g_rand_int_range (rng, 32, 40) : g_rand_int_range (rng, 1, 40);
      const gint64 sq = g_rand_int_range (rng, 1, 12);
      const gint32 lo = big ? 24 : 1, hi = big ? 29 : 9;
      const gint64 xs[4] = { g_rand_int_range (rng, 1, 3), c, g_rand_int_range (rng, lo, hi),
                             g_rand_int_range (rng, lo, hi) };
      const gint64 w1s[4] = { sq, c, 1, 1 }, b1s[1] = { sq }, w2s[4] = { c, sq, 1, 1 }, b2s[1] = { c };
      TvwSqueezeExcitationParams p = { (int) sq, seed % 2 ? TVW_ACT_RELU : TVW_ACT_SILU,
                     seed % 2 ? TVW_ACT_HARDSIGMOID : TVW_ACT_SIGMOID };
      TestArray x, w[4];
      TvwArray weights[4], out;
      g_autofree double *want = g_new (double, xs[0] * c * xs[2] * xs[3]);

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, seed % TEST_N_LAYOUTS, -2, 2);
      weight_random (&w[0], rng, 4, w1s, -0.5, 0.5);
      weight_random (&w[1], rng, 1, b1s, -0.5, 0.5);
      weight_random (&w[2], rng, 4, w2s, -0.5, 0.5);
      weight_random (&w[3], rng, 1, b2s, -0.5, 0.5);
      for (int i = 0; i < 4; i++)
        weights[i] = w[i].a;

      for (gint64 b = 0; b < xs[0]; b++)
        {
          g_autofree double *mean = g_new0 (double, c);
          g_autofree double *hidden = g_new0 (double, sq);

          for (gint64 ch = 0; ch < c; ch++)
            {
              for (gint64 y = 0; y < xs[2]; y++)
                for (gint64 xx = 0; xx < xs[3]; xx++)
                  mean[ch] += at (&x.a, b, ch, y, xx);
              mean[ch] /= xs[2] * xs[3];
            }
          for (gint64 j = 0; j < sq; j++)
            {
              double acc = ((float *) w[1].a.data)[j];

              for (gint64 ch = 0; ch < c; ch++)
                acc += ((float *) w[0].a.data)[j * c + ch] * mean[ch];
              hidden[j] = act_ref (acc, p.act);
            }
          for (gint64 ch = 0; ch < c; ch++)
            {
              double gate = ((float *) w[3].a.data)[ch];

              for (gint64 j = 0; j < sq; j++)
                gate += ((float *) w[2].a.data)[ch * sq + j] * hidden[j];
              gate = act_ref (gate, p.gate_act);
              for (gint64 y = 0; y < xs[2]; y++)
                for (gint64 xx = 0; xx < xs[3]; xx++)
                  want[((b * c + ch) * xs[2] + y) * xs[3] + xx] = at (&x.a, b, ch, y, xx) * gate;
            }
        }

      test_run_op (&tvw_op_squeeze_excitation, &p, 1, &x.a, 4, weights, 1, &out, 1e-6);
      test_assert_close ("squeeze_excitation", &out, 4, xs, want, 1e-5, 1e-5);

      g_free (out.data);
      test_array_clear (&x);
      for (int i = 0; i < 4; i++)
        test_array_clear (&w[i]);
    }
}

/* Every row of the op table has a “/tvw/ops/<name>/…” test in one of the
 * op test programs. */
static void
test_table_covered (void)
{
  static const char *const programs[] = {
    "test-ops-core", "test-ops-shape", "test-ops-nn", "test-ops-attention",
    "test-ops-resize-like", "test-ops-flow", "test-ops-quant", "test-ops-classic",
    "test-ops-qat",
    "test-ops-mvit",
    "test-ops-boxes",
    "test-ops-ssd",
    "test-ops-rcnn",
  };
  g_autoptr(GString) paths = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (programs); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_BUILT, programs[i], NULL);
      const char *argv[] = { path, "-l", NULL };
      g_autofree char *out = NULL;
      g_autoptr(GError) error = NULL;
      int status;

      if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
        continue;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                                   NULL, NULL, &out, NULL, &status, &error));
      g_assert_no_error (error);
      g_string_append (paths, out);
    }

  for (int t = 0; tvw_op_table[t] != NULL; t++)
    {
      g_autofree char *prefix = g_strdup_printf ("/tvw/ops/%s/", tvw_op_table[t]->name);

      if (strstr (paths->str, prefix) == NULL)
        g_error ("op %s has no test (no %s... path in the op test programs)",
                 tvw_op_table[t]->name, prefix);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/conv2d/random-strides", test_conv2d_random);
  g_test_add_func ("/tvw/ops/linear/random-strides", test_linear_random);
  g_test_add_func ("/tvw/ops/batch_norm/random-strides", test_batch_norm_random);
  g_test_add_func ("/tvw/ops/activation/random-strides", test_activation_random);
  g_test_add_func ("/tvw/ops/binary/random-strides", test_binary_random);
  g_test_add_func ("/tvw/ops/binary/dense-add", test_binary_dense_add);
  g_test_add_func ("/tvw/ops/binary/errors", test_binary_errors);
  g_test_add_func ("/tvw/ops/scale_channels/random-strides", test_scale_channels_random);
  g_test_add_data_func ("/tvw/ops/max_pool2d/random-strides", &tvw_op_max_pool2d, test_pool_random);
  g_test_add_func ("/tvw/ops/max_pool2d/nan", test_max_pool_nan);
  g_test_add_data_func ("/tvw/ops/avg_pool2d/random-strides", &tvw_op_avg_pool2d, test_pool_random);
  g_test_add_data_func ("/tvw/ops/adaptive_avg_pool2d/random-strides", &tvw_op_adaptive_avg_pool2d,
                        test_pool_random);
  g_test_add_func ("/tvw/ops/squeeze_excitation/random-strides", test_squeeze_excitation_random);
  g_test_add_func ("/tvw/ops/table/every-op-tested", test_table_covered);

  return g_test_run ();
}
