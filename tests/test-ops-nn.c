/* test-ops-nn.c — norms, matmul, resize, generic convolutions, 3-D pools,
 * detection and quantization ops against naive references
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each op runs alone (tvw_op_eager () through the harness, at 1, 2 and 3
 * threads) on random shapes and on inputs in every test layout, and every
 * output element is compared with a double-precision loop written here
 * from the op's definition (PyTorch's or torchvision's).  While writing
 * them, the references were checked against /usr/bin/python3's torch and
 * torchvision on a few cases each (interpolate, grid_sample, roi_align,
 * batched_nms, pooling in ceil mode, transposed convolutions, quantize).
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-op-test.h"

#define N_SEEDS 3

static const char *const layout_names[] = { "contiguous", "channels-last", "permuted", "gapped" };

static gint64
rand_dim (GRand *rng,
          int    lo,
          int    hi)
{
  return g_rand_int_range (rng, lo, hi + 1);
}

static double
get4 (const TvwArray *a,
      gint64          i0,
      gint64          i1,
      gint64          i2,
      gint64          i3)
{
  const gint64 idx[4] = { i0, i1, i2, i3 };

  return test_array_get (a, idx);
}

static double
get5 (const TvwArray *a,
      gint64          i0,
      gint64          i1,
      gint64          i2,
      gint64          i3,
      gint64          i4)
{
  const gint64 idx[5] = { i0, i1, i2, i3, i4 };

  return test_array_get (a, idx);
}

static gint64
numel (int           rank,
       const gint64 *shape)
{
  gint64 n = 1;

  for (int i = 0; i < rank; i++)
    n *= shape[i];
  return n;
}

/* Runs @cls and checks its one output against @want; frees the output. */
static double
run_and_check (const char       *what,
               const TvwOpClass *cls,
               gconstpointer     params,
               int               n_in,
               const TvwArray   *in,
               int               n_weights,
               const TvwArray   *weights,
               int               rank,
               const gint64     *shape,
               const double     *want,
               double            atol,
               double            rtol)
{
  TvwArray out;
  double worst;

  test_run_op (cls, params, n_in, in, n_weights, weights, 1, &out, 0);
  worst = test_assert_close (what, &out, rank, shape, want, atol, rtol);
  g_free (out.data);
  return worst;
}

/* Checks that @cls refuses its inputs with an error naming the node and
 * the op: SHAPE_MISMATCH for shapes that do not fit, INVALID_ARGUMENT
 * (@invalid) for a bad parameter. */
static void
assert_refused (const TvwOpClass *cls,
                gconstpointer     params,
                int               n_in,
                const TvwArray   *in,
                int               n_weights,
                const TvwArray   *weights,
                gboolean          invalid,
                const char       *expect)
{
  const int code = invalid ? TVW_ERROR_INVALID_ARGUMENT : TVW_ERROR_SHAPE_MISMATCH;
  g_autoptr(GError) error = NULL;
  TvwArray out[1];

  g_assert_false (tvw_op_eager (cls, "head.block3", params, n_in, in, n_weights, weights,
                                1, out, 1, &error));
  g_assert_error (error, TVW_ERROR, code);
  g_assert_nonnull (strstr (error->message, "head.block3"));
  g_assert_nonnull (strstr (error->message, cls->name));
  if (expect != NULL && strstr (error->message, expect) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expect);
}

/* ---- norms ------------------------------------------------------------- */

/* Normalizes the elements @idx (flat indices into @x by row-major order)
 * of one block, in double. */
static void
ref_normalize (const TvwArray *x,
               const gint64   *flat,
               gint64          n,
               const double   *w,
               const double   *b,
               double          eps,
               double         *want)
{
  double mean = 0, var = 0;
  gint64 idx[TVW_MAX_RANK];

  for (gint64 i = 0; i < n; i++)
    {
      test_unflatten (x, flat[i], idx);
      mean += test_array_get (x, idx);
    }
  mean /= n;
  for (gint64 i = 0; i < n; i++)
    {
      double d;

      test_unflatten (x, flat[i], idx);
      d = test_array_get (x, idx) - mean;
      var += d * d;
    }
  var /= n;
  for (gint64 i = 0; i < n; i++)
    {
      double v;

      test_unflatten (x, flat[i], idx);
      v = (test_array_get (x, idx) - mean) / sqrt (var + eps);
      want[flat[i]] = v * (w != NULL ? w[i] : 1.0) + (b != NULL ? b[i] : 0.0);
    }
}

static void
affine_weights (GRand     *rng,
                gint64     features,
                TestArray *w)
{
  for (int i = 0; i < 2; i++)
    test_array_random (&w[i], rng, TVW_ELEM_F32, 1, &features, TEST_LAYOUT_CONTIGUOUS, -2, 2);
}

static void
test_layer_norm (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (100 + seed * 10 + layout);
        /* The last seed: big enough for the kernel to use every thread. */
        const gboolean big = seed == N_SEEDS - 1;
        const int rank = big ? 3 : g_rand_int_range (rng, 1, 5);
        const gboolean affine = g_rand_boolean (rng);
        TvwNormParams p = { 1e-5, 0, affine ? 2 : 0, -1 };
        gint64 shape[TVW_MAX_RANK], n, f;
        g_autofree double *want = NULL;
        g_autofree gint64 *flat = NULL;
        g_autofree double *wd = NULL, *bd = NULL;
        TestArray x, w[2] = { 0 };
        TvwArray ws[2];

        for (int i = 0; i < rank; i++)
          shape[i] = rand_dim (rng, 1, 5);
        shape[rank - 1] = f = rand_dim (rng, 1, 70);
        if (big)
          {
            shape[0] = 4;
            shape[1] = 60;
            shape[2] = f = 70;
          }
        n = numel (rank, shape);
        /* An offset mean: the two-pass statistics must not lose it. */
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, 40, 46);
        affine_weights (rng, f, w);
        ws[0] = w[0].a;
        ws[1] = w[1].a;

        want = g_new0 (double, n);
        flat = g_new (gint64, f);
        wd = g_new (double, f);
        bd = g_new (double, f);
        for (gint64 i = 0; i < f; i++)
          {
            wd[i] = ((float *) w[0].a.data)[i];
            bd[i] = ((float *) w[1].a.data)[i];
          }
        for (gint64 r = 0; r < n / f; r++)
          {
            for (gint64 i = 0; i < f; i++)
              flat[i] = r * f + i;
            ref_normalize (&x.a, flat, f, affine ? wd : NULL, affine ? bd : NULL, p.eps, want);
          }

        /* Outputs are O(1) after normalizing (|w|, |b| ≤ 2): float
         * rounding of (x − mean) · rstd · w + b, a few ulp. */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_layer_norm, &p, 1, &x.a,
                                           p.n_weights, ws, rank, shape, want, 2e-5, 2e-5));
        test_array_clear (&x);
        test_array_clear (&w[0]);
        test_array_clear (&w[1]);
      }
  g_test_message ("layer_norm: max error %g", worst);
}

/* Rows as wide as a transformer's (773 features: 48 vectors of 16 and a
 * tail of 5, 96 of 8 and 5), a mean of 1000 that the statistics must not
 * lose, with and without the affine transform. */
static void
test_layer_norm_wide_rows (void)
{
  for (int affine = 0; affine < 2; affine++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (190 + affine);
      const gint64 shape[2] = { 41, 773 }, f = shape[1];
      TvwNormParams p = { 1e-6, 0, affine ? 2 : 0, -1 };
      g_autofree double *want = g_new (double, shape[0] * f);
      g_autofree gint64 *flat = g_new (gint64, f);
      g_autofree double *wd = g_new (double, f), *bd = g_new (double, f);
      TestArray x, w[2] = { 0 };
      TvwArray ws[2];

      test_array_random (&x, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, 997, 1003);
      affine_weights (rng, f, w);
      ws[0] = w[0].a;
      ws[1] = w[1].a;
      for (gint64 i = 0; i < f; i++)
        {
          wd[i] = ((float *) w[0].a.data)[i];
          bd[i] = ((float *) w[1].a.data)[i];
        }
      for (gint64 r = 0; r < shape[0]; r++)
        {
          for (gint64 i = 0; i < f; i++)
            flat[i] = r * f + i;
          ref_normalize (&x.a, flat, f, affine ? wd : NULL, affine ? bd : NULL, p.eps, want);
        }
      /* As last-dim; x − mean in float loses ~1000·2⁻²⁴ ≈ 6e-5 of a
       * spread of ±3, 3e-5 after the scaling by rstd ≈ 0.6, times |w| ≤ 2. */
      run_and_check ("wide", &tvw_op_layer_norm, &p, 1, &x.a, p.n_weights, ws, 2, shape, want,
                     1e-4, 2e-5);
      test_array_clear (&x);
      test_array_clear (&w[0]);
      test_array_clear (&w[1]);
    }
}

static void
test_layer_norm_channels (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (200 + seed * 10 + layout);
        const gboolean big = seed == N_SEEDS - 1;  /* every thread busy */
        const int rank = big ? 4 : g_rand_int_range (rng, 4, 6);
        TvwNormParams p = { 1e-6, 0, 2, -1 };
        gint64 shape[TVW_MAX_RANK], n, c, spatial = 1;
        g_autofree double *want = NULL, *wd = NULL, *bd = NULL;
        g_autofree gint64 *flat = NULL;
        TestArray x, w[2] = { 0 };
        TvwArray ws[2];

        for (int i = 0; i < rank; i++)
          shape[i] = rand_dim (rng, 1, 5);
        shape[1] = c = rand_dim (rng, 1, 40);
        if (big)
          {
            shape[0] = 2;
            shape[1] = c = 48;
            shape[2] = shape[3] = 14;
          }
        for (int i = 2; i < rank; i++)
          spatial *= shape[i];
        n = numel (rank, shape);
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -3, 3);
        affine_weights (rng, c, w);
        ws[0] = w[0].a;
        ws[1] = w[1].a;

        want = g_new0 (double, n);
        flat = g_new (gint64, c);
        wd = g_new (double, c);
        bd = g_new (double, c);
        for (gint64 i = 0; i < c; i++)
          {
            wd[i] = ((float *) w[0].a.data)[i];
            bd[i] = ((float *) w[1].a.data)[i];
          }
        /* LayerNorm2d: over the channels of each pixel. */
        for (gint64 b = 0; b < shape[0]; b++)
          for (gint64 s = 0; s < spatial; s++)
            {
              for (gint64 i = 0; i < c; i++)
                flat[i] = (b * c + i) * spatial + s;
              ref_normalize (&x.a, flat, c, wd, bd, p.eps, want);
            }

        /* As layer_norm. */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_layer_norm_channels, &p,
                                           1, &x.a, 2, ws, rank, shape, want, 2e-5, 2e-5));
        test_array_clear (&x);
        test_array_clear (&w[0]);
        test_array_clear (&w[1]);
      }
  g_test_message ("layer_norm_channels: max error %g", worst);
}

static void
check_group_norm (gboolean instance)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed ((instance ? 400 : 300) + seed * 10 + layout);
        const gboolean big = seed == N_SEEDS - 1;  /* every thread busy */
        const int rank = big ? 4 : g_rand_int_range (rng, 2, 6);
        const int groups = instance ? 0 : g_rand_int_range (rng, 1, 5);
        const gboolean affine = g_rand_boolean (rng);
        TvwNormParams p = { 1e-5, groups, affine ? 2 : 0, -1 };
        gint64 shape[TVW_MAX_RANK], n, c, spatial = 1, g, cg;
        g_autofree double *want = NULL, *wd = NULL, *bd = NULL;
        g_autofree gint64 *flat = NULL;
        TestArray x, w[2] = { 0 };
        TvwArray ws[2];

        for (int i = 0; i < rank; i++)
          shape[i] = rand_dim (rng, 1, 5);
        g = instance ? rand_dim (rng, 1, 12) : groups;
        shape[1] = c = g * rand_dim (rng, 1, 4);
        if (big)
          {
            shape[0] = 4;
            shape[1] = c = instance ? 16 : g * 16;
            shape[2] = shape[3] = 16;
          }
        if (instance)
          g = c;
        cg = c / g;
        for (int i = 2; i < rank; i++)
          spatial *= shape[i];
        n = numel (rank, shape);
        test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -10, 2);
        affine_weights (rng, c, w);
        ws[0] = w[0].a;
        ws[1] = w[1].a;

        want = g_new0 (double, n);
        flat = g_new (gint64, cg * spatial);
        wd = g_new (double, cg * spatial);
        bd = g_new (double, cg * spatial);
        for (gint64 b = 0; b < shape[0]; b++)
          for (gint64 gi = 0; gi < g; gi++)
            {
              for (gint64 ci = 0; ci < cg; ci++)
                for (gint64 s = 0; s < spatial; s++)
                  {
                    gint64 ch = gi * cg + ci, i = ci * spatial + s;

                    flat[i] = (b * c + ch) * spatial + s;
                    wd[i] = ((float *) w[0].a.data)[ch];
                    bd[i] = ((float *) w[1].a.data)[ch];
                  }
              ref_normalize (&x.a, flat, cg * spatial, affine ? wd : NULL, affine ? bd : NULL,
                             p.eps, want);
            }

        /* As layer_norm. */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_group_norm, &p, 1, &x.a,
                                           p.n_weights, ws, rank, shape, want, 2e-5, 2e-5));
        test_array_clear (&x);
        test_array_clear (&w[0]);
        test_array_clear (&w[1]);
      }
  g_test_message ("%s: max error %g", instance ? "instance_norm" : "group_norm", worst);
}

static void
test_group_norm (void)
{
  check_group_norm (FALSE);
}

static void
test_instance_norm (void)
{
  check_group_norm (TRUE);
}

static void
test_norm_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (7);
  const gint64 xs[4] = { 2, 6, 3, 3 }, wrong = 5;
  TvwNormParams ln = { 1e-5, 0, 2, -1 }, gn = { 1e-5, 4, 0, -1 }, mid = { 1e-5, 0, 0, 2 };
  TestArray x, w[2];
  TvwArray ws[2];

  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w[0], rng, TVW_ELEM_F32, 1, &wrong, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w[1], rng, TVW_ELEM_F32, 1, &wrong, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  ws[0] = w[0].a;
  ws[1] = w[1].a;

  /* Weight of 5 features for a last dim of 3, and for 6 channels. */
  assert_refused (&tvw_op_layer_norm, &ln, 1, &x.a, 2, ws, FALSE, "[2, 6, 3, 3]");
  assert_refused (&tvw_op_layer_norm_channels, &ln, 1, &x.a, 2, ws, FALSE, "weight has shape [5]");
  /* LayerNorm over dim 2 of 4. */
  assert_refused (&tvw_op_layer_norm, &mid, 1, &x.a, 0, NULL,
                  TRUE, "not dimension 2 of [2, 6, 3, 3]");
  /* 6 channels in 4 groups. */
  assert_refused (&tvw_op_group_norm, &gn, 1, &x.a, 0, NULL, FALSE, "4 groups");

  test_array_clear (&x);
  test_array_clear (&w[0]);
  test_array_clear (&w[1]);
}

/* ---- matmul ------------------------------------------------------------ */

static void
test_matmul (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS + 2; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (500 + seed * 10 + layout);
        TvwMatmulParams p = { 0 };
        /* Seed 0 and 1: 1-D operands; the last seed: many rows, so rows
         * are split between threads. */
        const int ra = seed == 0 ? 1 : g_rand_int_range (rng, 2, 5);
        const int rb = seed == 1 ? 1 : g_rand_int_range (rng, 2, 5);
        const gint64 m = seed == N_SEEDS + 1 ? 150 : rand_dim (rng, 1, 20);
        const gint64 k = rand_dim (rng, m == 150 ? 30 : 1, 70);
        const gint64 n = rand_dim (rng, m == 150 ? 20 : 1, 40);
        const int ab = MAX (ra - 2, 0), bb = MAX (rb - 2, 0), obr = MAX (ab, bb);
        gint64 as[TVW_MAX_RANK], bs[TVW_MAX_RANK], os[TVW_MAX_RANK], batch[TVW_MAX_RANK];
        gint64 n_batches = 1, orank = 0, aidx[TVW_MAX_RANK], bidx[TVW_MAX_RANK];
        g_autofree double *want = NULL;
        TestArray a, b;
        TvwArray in[2];

        /* Batch dims: broadcast where one side is 1 or missing. */
        for (int i = 0; i < obr; i++)
          {
            batch[i] = rand_dim (rng, 1, 3);
            os[orank++] = batch[i];
            n_batches *= batch[i];
          }
        for (int i = 0; i < ab; i++)
          as[i] = g_rand_int_range (rng, 0, 3) == 0 ? 1 : batch[i + obr - ab];
        for (int i = 0; i < bb; i++)
          bs[i] = g_rand_int_range (rng, 0, 3) == 0 ? 1 : batch[i + obr - bb];
        if (ra >= 2)
          {
            as[ra - 2] = m;
            os[orank++] = m;
          }
        as[ra - 1] = k;
        if (rb >= 2)
          {
            bs[rb - 2] = k;
            bs[rb - 1] = n;
            os[orank++] = n;
          }
        else
          bs[0] = k;
        /* Batch dims that are 1 on both sides are 1 in the result. */
        for (int i = 0; i < obr; i++)
          {
            int ai = i - (obr - ab), bi = i - (obr - bb);
            gint64 da = ai >= 0 ? as[ai] : 1, db = bi >= 0 ? bs[bi] : 1;

            os[i] = batch[i] = MAX (da, db);
          }
        n_batches = 1;
        for (int i = 0; i < obr; i++)
          n_batches *= batch[i];

        test_array_random (&a, rng, TVW_ELEM_F32, ra, as, layout, -1, 1);
        test_array_random (&b, rng, TVW_ELEM_F32, rb, bs, (layout + seed) % TEST_N_LAYOUTS, -1, 1);
        in[0] = a.a;
        in[1] = b.a;

        want = g_new0 (double, numel ((int) orank, os));
        for (gint64 bi = 0; bi < n_batches; bi++)
          {
            gint64 rest = bi;

            for (int i = obr - 1; i >= 0; i--)
              {
                gint64 idx = rest % batch[i];
                int ai = i - (obr - ab), bj = i - (obr - bb);

                rest /= batch[i];
                if (ai >= 0)
                  aidx[ai] = as[ai] == 1 ? 0 : idx;
                if (bj >= 0)
                  bidx[bj] = bs[bj] == 1 ? 0 : idx;
              }
            for (gint64 i = 0; i < (ra >= 2 ? m : 1); i++)
              for (gint64 j = 0; j < (rb >= 2 ? n : 1); j++)
                {
                  double s = 0;

                  for (gint64 kk = 0; kk < k; kk++)
                    {
                      if (ra >= 2)
                        aidx[ra - 2] = i;
                      aidx[ra - 1] = kk;
                      if (rb >= 2)
                        {
                          bidx[rb - 2] = kk;
                          bidx[rb - 1] = j;
                        }
                      else
                        bidx[0] = kk;
                      s += test_array_get (&a.a, aidx) * test_array_get (&b.a, bidx);
                    }
                  want[(bi * (ra >= 2 ? m : 1) + i) * (rb >= 2 ? n : 1) + j] = s;
                }
          }

        /* A float dot product of K terms in [-1, 1]: rounding grows about
         * as sqrt (K) ulp of the partial sums. */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_matmul, &p, 2, in, 0, NULL,
                                           (int) orank, os, want, 1e-6 * sqrt ((double) k) * 4,
                                           1e-6 * sqrt ((double) k) * 4));
        test_array_clear (&a);
        test_array_clear (&b);
      }
  g_test_message ("matmul: max error %g", worst);
}

static void
test_matmul_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (8);
  const gint64 as[3] = { 2, 4, 5 }, bs[3] = { 3, 6, 2 }, bs2[3] = { 3, 5, 2 };
  TvwMatmulParams p = { 0 };
  TestArray a, b, b2;
  TvwArray in[2];

  test_array_random (&a, rng, TVW_ELEM_F32, 3, as, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&b, rng, TVW_ELEM_F32, 3, bs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&b2, rng, TVW_ELEM_F32, 3, bs2, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  in[0] = a.a;
  in[1] = b.a;
  /* K 5 against 6. */
  assert_refused (&tvw_op_matmul, &p, 2, in, 0, NULL,
                  FALSE, "cannot multiply [2, 4, 5] by [3, 6, 2]");
  /* Batches 2 and 3 do not broadcast. */
  in[1] = b2.a;
  assert_refused (&tvw_op_matmul, &p, 2, in, 0, NULL, FALSE, "[3, 5, 2]");

  test_array_clear (&a);
  test_array_clear (&b);
  test_array_clear (&b2);
}

/* ---- interpolate and grid_sample --------------------------------------- */

/* PyTorch's legacy nearest (its N×C×H×W kernel): floor (dst · scale) in
 * float, scale = in / out or 1 / scale_factor. */
static gint64
ref_nearest (gint64 o,
             gint64 in,
             gint64 out,
             double scale_factor)
{
  float scale = scale_factor > 0 ? (float) (1.0 / scale_factor) : (float) in / (float) out;

  return MIN ((gint64) floorf ((float) o * scale), in - 1);
}

/* area_pixel_compute_source_index () and the two taps. */
static void
ref_linear (gint64    o,
            gint64    in,
            gint64    out,
            double    scale_factor,
            gboolean  align_corners,
            gint64   *i0,
            gint64   *i1,
            double   *lambda)
{
  double src;

  /* An axis that keeps its size is copied, whatever the scale factor. */
  if (in == out)
    {
      *i0 = *i1 = o;
      *lambda = 0;
      return;
    }
  if (align_corners)
    src = out > 1 ? (double) (in - 1) / (out - 1) * o : 0;
  else
    {
      double scale = scale_factor > 0 ? 1.0 / scale_factor : (double) in / out;

      src = scale * (o + 0.5) - 0.5;
      if (src < 0)
        src = 0;
    }
  *i0 = (gint64) floor (src);
  if (*i0 > in - 1)
    *i0 = in - 1;
  *i1 = MIN (*i0 + 1, in - 1);
  *lambda = MIN (src - *i0, 1.0);
}

static void
test_interpolate (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS + 1; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      for (int variant = 0; variant < 3; variant++)
        {
          g_autoptr(GRand) rng = g_rand_new_with_seed (600 + seed * 100 + layout * 10 + variant);
          /* Variants: nearest, bilinear, bilinear with aligned corners. */
          TvwResizeParams p = {
            0, 0, 0, 0, variant == 0 ? TVW_RESIZE_NEAREST : TVW_RESIZE_BILINEAR, variant == 2,
          };
          gint64 xs[4], os[4];
          g_autofree double *want = NULL;
          TestArray x;

          xs[0] = rand_dim (rng, 1, 2);
          xs[1] = rand_dim (rng, 1, 9);
          xs[2] = rand_dim (rng, 1, 12);
          xs[3] = rand_dim (rng, 1, 12);
          /* The last seed: big enough for every thread. */
          if (seed == N_SEEDS)
            {
              xs[0] = 2;
              xs[1] = 16;
              xs[2] = xs[3] = 20;
            }
          /* Seed 1: scale factors (e.g. 2, 0.5, 1.7); else sizes, some
           * exactly double. */
          if (seed == 1)
            {
              static const double factors[] = { 2.0, 0.5, 1.7, 3.0, 0.75, 1.2, 2.3 };

              p.scale_h = factors[g_rand_int_range (rng, 0, 7)];
              p.scale_w = factors[g_rand_int_range (rng, 0, 7)];
              xs[2] = MAX (xs[2], 2);
              xs[3] = MAX (xs[3], 2);
            }
          else
            {
              p.out_h = seed == 2 ? xs[2] * 2 : rand_dim (rng, seed == N_SEEDS ? 24 : 1, 25);
              p.out_w = rand_dim (rng, seed == N_SEEDS ? 24 : 1, 25);
            }
          os[0] = xs[0];
          os[1] = xs[1];
          os[2] = p.out_h > 0 ? p.out_h : (gint64) floor (xs[2] * p.scale_h);
          os[3] = p.out_w > 0 ? p.out_w : (gint64) floor (xs[3] * p.scale_w);
          test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);

          want = g_new0 (double, numel (4, os));
          for (gint64 n = 0; n < os[0]; n++)
            for (gint64 c = 0; c < os[1]; c++)
              for (gint64 oy = 0; oy < os[2]; oy++)
                for (gint64 ox = 0; ox < os[3]; ox++)
                  {
                    double v;

                    if (variant == 0)
                      v = get4 (&x.a, n, c, ref_nearest (oy, xs[2], os[2], p.scale_h),
                                ref_nearest (ox, xs[3], os[3], p.scale_w));
                    else
                      {
                        gint64 y0, y1, x0, x1;
                        double ly, lx;

                        ref_linear (oy, xs[2], os[2], p.scale_h, p.align_corners, &y0, &y1, &ly);
                        ref_linear (ox, xs[3], os[3], p.scale_w, p.align_corners, &x0, &x1, &lx);
                        v = (1 - ly) * ((1 - lx) * get4 (&x.a, n, c, y0, x0) +
                                        lx * get4 (&x.a, n, c, y0, x1)) +
                            ly * ((1 - lx) * get4 (&x.a, n, c, y1, x0) +
                                  lx * get4 (&x.a, n, c, y1, x1));
                      }
                    want[((n * os[1] + c) * os[2] + oy) * os[3] + ox] = v;
                  }

          /* Nearest copies; bilinear is 3 float multiply-adds of
           * values ≤ 1: a few ulp. */
          worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_interpolate, &p,
                                             1, &x.a, 0, NULL,
                                             4, os, want, variant == 0 ? 0 : 1e-6, 1e-6));
          test_array_clear (&x);
        }
  g_test_message ("interpolate: max error %g", worst);
}

static double
ref_grid_tap (const TvwArray *x,
              gint64          n,
              gint64          c,
              gint64          iy,
              gint64          ix)
{
  if (iy < 0 || ix < 0 || iy >= x->shape[2] || ix >= x->shape[3])
    return 0;  /* padding_mode="zeros" */
  return get4 (x, n, c, iy, ix);
}

static void
test_grid_sample (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      for (int variant = 0; variant < 4; variant++)
        {
          g_autoptr(GRand) rng = g_rand_new_with_seed (700 + seed * 100 + layout * 10 + variant);
          const gboolean nearest = variant & 1, align = variant >> 1;
          TvwResizeParams p = {
            0, 0, 0, 0, nearest ? TVW_RESIZE_NEAREST : TVW_RESIZE_BILINEAR, align,
          };
          gint64 xs[4], gs[4], os[4];
          g_autofree double *want = NULL;
          TestArray x, g;
          TvwArray in[2];

          xs[0] = rand_dim (rng, 1, 2);
          xs[1] = rand_dim (rng, 1, 9);
          xs[2] = rand_dim (rng, 1, 10);
          xs[3] = rand_dim (rng, 1, 10);
          gs[0] = xs[0];
          gs[1] = rand_dim (rng, 1, 12);
          gs[2] = rand_dim (rng, 1, 12);
          gs[3] = 2;
          /* The last seed: big enough for every thread. */
          if (seed == N_SEEDS - 1)
            {
              xs[0] = gs[0] = 2;
              xs[1] = 16;
              gs[1] = gs[2] = 24;
            }
          os[0] = xs[0];
          os[1] = xs[1];
          os[2] = gs[1];
          os[3] = gs[2];
          test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);
          /* Past [-1, 1]: some samples fall in the zero padding. */
          test_array_random (&g, rng, TVW_ELEM_F32, 4, gs, (layout + seed) % TEST_N_LAYOUTS,
                             -1.3, 1.3);
          /* Seed 0: an 8×8 input and the grid on multiples of 1/8, where
           * nearest meets exact halves (ties to even, as nearbyint). */
          if (seed == 0)
            {
              const gint64 xs8[4] = { xs[0], xs[1], 8, 8 };

              test_array_clear (&x);
              memcpy (xs, xs8, sizeof xs);
              test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);
              for (gint64 f = 0; f < numel (4, gs); f++)
                {
                  gint64 idx[4], off = 0;

                  test_unflatten (&g.a, f, idx);
                  for (int i = 0; i < 4; i++)
                    off += idx[i] * g.a.stride[i];
                  ((float *) g.a.data)[off] = g_rand_int_range (rng, -10, 11) / 8.f;
                }
            }
          in[0] = x.a;
          in[1] = g.a;

          want = g_new0 (double, numel (4, os));
          for (gint64 n = 0; n < os[0]; n++)
            for (gint64 oy = 0; oy < os[2]; oy++)
              for (gint64 ox = 0; ox < os[3]; ox++)
                {
                  const double gx = get4 (&g.a, n, oy, ox, 0), gy = get4 (&g.a, n, oy, ox, 1);
                  double fx, fy;

                  if (align)
                    {
                      fx = (gx + 1) / 2 * (xs[3] - 1);
                      fy = (gy + 1) / 2 * (xs[2] - 1);
                    }
                  else
                    {
                      fx = ((gx + 1) * xs[3] - 1) / 2;
                      fy = ((gy + 1) * xs[2] - 1) / 2;
                    }
                  for (gint64 c = 0; c < os[1]; c++)
                    {
                      double v;

                      if (nearest)
                        v = ref_grid_tap (&x.a, n, c, (gint64) nearbyint (fy),
                                          (gint64) nearbyint (fx));
                      else
                        {
                          const double x0 = floor (fx), y0 = floor (fy), lx = fx - x0, ly = fy - y0;

                          v = (1 - ly) * (1 - lx) * ref_grid_tap (&x.a, n, c, y0, x0) +
                              (1 - ly) * lx * ref_grid_tap (&x.a, n, c, y0, x0 + 1) +
                              ly * (1 - lx) * ref_grid_tap (&x.a, n, c, y0 + 1, x0) +
                              ly * lx * ref_grid_tap (&x.a, n, c, y0 + 1, x0 + 1);
                        }
                      want[((n * os[1] + c) * os[2] + oy) * os[3] + ox] = v;
                    }
                }

          /* The kernel unnormalizes in float as PyTorch: coordinates to
           * ~1e-6 pixel, and values change by at most 2 per pixel. */
          worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_grid_sample, &p,
                                             2, in, 0, NULL,
                                             4, os, want, 1e-5, 1e-5));
          test_array_clear (&x);
          test_array_clear (&g);
        }
  g_test_message ("grid_sample: max error %g", worst);
}

static void
test_resize_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (9);
  const gint64 xs[4] = { 2, 3, 5, 5 }, gs[4] = { 1, 4, 4, 2 }, x3[3] = { 3, 5, 5 };
  TvwResizeParams near_aligned = { 4, 4, 0, 0, TVW_RESIZE_NEAREST, TRUE };
  TvwResizeParams bilinear = { 4, 4, 0, 0, TVW_RESIZE_BILINEAR, FALSE };
  TvwResizeParams no_size = { 0, 4, 0, 0, TVW_RESIZE_BILINEAR, FALSE };
  TestArray x, g, bad;
  TvwArray in[2];

  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&g, rng, TVW_ELEM_F32, 4, gs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&bad, rng, TVW_ELEM_F32, 3, x3, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  assert_refused (&tvw_op_interpolate, &near_aligned, 1, &x.a, 0, NULL, TRUE, "align_corners");
  assert_refused (&tvw_op_interpolate, &no_size, 1, &x.a, 0, NULL, TRUE, "scale factor");
  assert_refused (&tvw_op_interpolate, &bilinear, 1, &bad.a, 0, NULL, FALSE, "[3, 5, 5]");
  /* A grid for batch 1 on a batch of 2. */
  in[0] = x.a;
  in[1] = g.a;
  assert_refused (&tvw_op_grid_sample, &bilinear, 2, in, 0, NULL, FALSE, "grid [1, 4, 4, 2]");

  test_array_clear (&x);
  test_array_clear (&g);
  test_array_clear (&bad);
}

/* ---- generic convolutions ---------------------------------------------- */

static void
random_conv (GRand         *rng,
             int            rank,
             gboolean       transposed,
             gboolean       depthwise,
             TvwConvNdSpec *s,
             int           *cin,
             int           *cout)
{
  memset (s, 0, sizeof *s);
  s->rank = rank;
  s->transposed = transposed;
  s->groups = depthwise ? g_rand_int_range (rng, 2, 12) : g_rand_int_range (rng, 1, 4);
  s->bias = g_rand_boolean (rng);
  *cin = s->groups * (depthwise ? 1 : g_rand_int_range (rng, 1, 5));
  *cout = s->groups * (depthwise ? 1 : g_rand_int_range (rng, 1, 7));
  for (int i = 0; i < rank; i++)
    {
      s->kernel[i] = g_rand_int_range (rng, 1, 4);
      s->stride[i] = g_rand_int_range (rng, 1, 4);
      s->padding[i] = g_rand_int_range (rng, 0, 3);
      s->dilation[i] = g_rand_int_range (rng, 1, 3);
      if (transposed)
        s->output_padding[i] = g_rand_int_range (rng, 0, MAX (s->stride[i], s->dilation[i]));
    }
}

/* x[n, c, t, h, w] of a rank 3, 4 or 5 input (leading spatial indices
 * 0). */
static double
conv_get (const TvwArray *x,
          gint64          n,
          gint64          c,
          gint64          t,
          gint64          h,
          gint64          w)
{
  const gint64 sp[3] = { t, h, w };
  gint64 idx[5] = { n, c };

  for (int i = 2; i < x->rank; i++)
    idx[i] = sp[3 - (x->rank - 2) + i - 2];
  return test_array_get (x, idx);
}

static void
check_conv (int      rank,
            gboolean transposed)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (800 + rank * 1000 + transposed * 100 +
                                                     seed * 10 + layout);
        TvwConvNdParams p;
        TvwConvNdSpec *s = &p.spec;
        gint64 xs[5], ws[5], os[5], in[3] = { 1, 1, 1 }, out[3] = { 1, 1, 1 }, k[3] = { 1, 1, 1 };
        gint64 st[3] = { 1, 1, 1 }, pd[3] = { 0, 0, 0 }, dl[3] = { 1, 1, 1 }, bias_n;
        gint64 cin_g, cout_g, krows;
        g_autofree double *want = NULL;
        TestArray x, w, b = { 0 };
        TvwArray wts[2];
        int cin, cout;
        gboolean ok;

        /* Draw until the output is not empty. */
        do
          {
            /* Seed 1: depthwise (one channel per group). */
            random_conv (rng, rank, transposed, seed == 1, s, &cin, &cout);
            ok = TRUE;
            for (int i = 0; i < rank; i++)
              {
                const int j = 3 - rank + i;

                in[j] = rand_dim (rng, 1, rank == 3 ? 6 : 11);
                k[j] = s->kernel[i];
                st[j] = s->stride[i];
                pd[j] = s->padding[i];
                dl[j] = s->dilation[i];
                if (transposed)
                  out[j] = (in[j] - 1) * st[j] - 2 * pd[j] + dl[j] * (k[j] - 1) +
                           s->output_padding[i] + 1;
                else
                  out[j] = (in[j] + 2 * pd[j] - dl[j] * (k[j] - 1) - 1) >= 0
                           ? (in[j] + 2 * pd[j] - dl[j] * (k[j] - 1) - 1) / st[j] + 1 : 0;
                ok = ok && out[j] > 0;
              }
          }
        while (!ok);
        p.in_channels = cin;
        p.out_channels = cout;
        cin_g = cin / s->groups;
        cout_g = cout / s->groups;

        xs[0] = os[0] = rand_dim (rng, 1, 2);
        xs[1] = cin;
        os[1] = cout;
        ws[0] = transposed ? cin : cout;
        ws[1] = transposed ? cout_g : cin_g;
        for (int i = 0; i < rank; i++)
          {
            xs[2 + i] = in[3 - rank + i];
            os[2 + i] = out[3 - rank + i];
            ws[2 + i] = s->kernel[i];
          }
        bias_n = cout;
        test_array_random (&x, rng, TVW_ELEM_F32, rank + 2, xs, layout, -1, 1);
        test_array_random (&w, rng, TVW_ELEM_F32, rank + 2, ws, TEST_LAYOUT_CONTIGUOUS, -1, 1);
        wts[0] = w.a;
        if (s->bias)
          {
            test_array_random (&b, rng, TVW_ELEM_F32, 1, &bias_n, TEST_LAYOUT_CONTIGUOUS, -1, 1);
            wts[1] = b.a;
          }

        /* The definitions, on the 3-D view (size-1 leading dims). */
        want = g_new0 (double, numel (rank + 2, os));
        for (gint64 n = 0; n < os[0]; n++)
          for (gint64 co = 0; co < cout; co++)
            {
              const gint64 g = co / cout_g;
              double *dst = want + (n * cout + co) * out[0] * out[1] * out[2];
              const double bv = s->bias ? ((float *) b.a.data)[co] : 0;

              for (gint64 o = 0; o < out[0] * out[1] * out[2]; o++)
                dst[o] = bv;

              for (gint64 ci = 0; ci < cin_g; ci++)
                for (gint64 kt = 0; kt < k[0]; kt++)
                  for (gint64 kh = 0; kh < k[1]; kh++)
                    for (gint64 kw = 0; kw < k[2]; kw++)
                      {
                        const gint64 tap = (kt * k[1] + kh) * k[2] + kw;
                        double wv;

                        if (transposed)
                          wv = ((float *) w.a.data)[((g * cin_g + ci) * cout_g + co % cout_g) *
                                                    k[0] * k[1] * k[2] + tap];
                        else
                          wv = ((float *) w.a.data)[(co * cin_g + ci) * k[0] * k[1] * k[2] + tap];

                        if (!transposed)
                          {
                            /* y[o] += x[o·s − p + k·d] · w[k] */
                            for (gint64 ot = 0; ot < out[0]; ot++)
                              for (gint64 oh = 0; oh < out[1]; oh++)
                                for (gint64 ow = 0; ow < out[2]; ow++)
                                  {
                                    gint64 it = ot * st[0] - pd[0] + kt * dl[0];
                                    gint64 ih = oh * st[1] - pd[1] + kh * dl[1];
                                    gint64 iw = ow * st[2] - pd[2] + kw * dl[2];

                                    if (it < 0 || ih < 0 || iw < 0 ||
                                        it >= in[0] || ih >= in[1] || iw >= in[2])
                                      continue;
                                    dst[(ot * out[1] + oh) * out[2] + ow] +=
                                      wv * conv_get (&x.a, n, g * cin_g + ci, it, ih, iw);
                                  }
                          }
                        else
                          {
                            /* The adjoint: x[i] scatters to y[i·s − p + k·d]. */
                            for (gint64 it = 0; it < in[0]; it++)
                              for (gint64 ih = 0; ih < in[1]; ih++)
                                for (gint64 iw = 0; iw < in[2]; iw++)
                                  {
                                    gint64 ot = it * st[0] - pd[0] + kt * dl[0];
                                    gint64 oh = ih * st[1] - pd[1] + kh * dl[1];
                                    gint64 ow = iw * st[2] - pd[2] + kw * dl[2];

                                    if (ot < 0 || oh < 0 || ow < 0 ||
                                        ot >= out[0] || oh >= out[1] || ow >= out[2])
                                      continue;
                                    dst[(ot * out[1] + oh) * out[2] + ow] +=
                                      wv * conv_get (&x.a, n, g * cin_g + ci, it, ih, iw);
                                  }
                          }
                      }
            }

        krows = cin_g * k[0] * k[1] * k[2];
        /* GEMM dot products of K = cin_g · taps terms in [-1, 1]. */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_conv_nd, &p, 1, &x.a,
                                           s->bias ? 2 : 1, wts, rank + 2, os, want,
                                           4e-6 * sqrt ((double) krows),
                                           4e-6 * sqrt ((double) krows)));
        test_array_clear (&x);
        test_array_clear (&w);
        test_array_clear (&b);
      }
  g_test_message ("conv%dd%s: max error %g", rank, transposed ? " transposed" : "", worst);
}

static void test_conv1d (void) { check_conv (1, FALSE); }
static void test_conv2d (void) { check_conv (2, FALSE); }
static void test_conv3d (void) { check_conv (3, FALSE); }
static void test_conv_transpose2d (void) { check_conv (2, TRUE); }
static void test_conv_transpose3d (void) { check_conv (3, TRUE); }
static void test_conv_transpose1d (void) { check_conv (1, TRUE); }

static void
test_conv_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (10);
  const gint64 xs[5] = { 1, 4, 3, 3, 3 }, ws[5] = { 6, 2, 3, 3, 3 }, wbad[5] = { 6, 4, 3, 3, 3 };
  TvwConvNdParams p = {
    { 3, { 3, 3, 3 }, { 1, 1, 1 }, { 0, 0, 0 }, { 1, 1, 1 }, { 0, 0, 0 }, 2, FALSE, FALSE }, 4, 6,
  };
  TestArray x, w, wb;

  test_array_random (&x, rng, TVW_ELEM_F32, 5, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w, rng, TVW_ELEM_F32, 5, ws, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&wb, rng, TVW_ELEM_F32, 5, wbad, TEST_LAYOUT_CONTIGUOUS, -1, 1);

  /* Weights for groups 1 given to a grouped convolution. */
  assert_refused (&tvw_op_conv_nd, &p, 1, &x.a, 1, &wb.a,
                  FALSE, "weight has shape [6, 4, 3, 3, 3]");
  /* A kernel larger than the padded input. */
  p.spec.dilation[0] = 2;
  assert_refused (&tvw_op_conv_nd, &p, 1, &x.a, 1, &w.a, FALSE, "too small");
  p.spec.dilation[0] = 1;
  /* 4 input channels declared 6. */
  p.in_channels = 6;
  assert_refused (&tvw_op_conv_nd, &p, 1, &x.a, 1, &w.a, FALSE, "channels");
  p.in_channels = 4;
  /* Output padding on a plain convolution. */
  p.spec.output_padding[1] = 1;
  assert_refused (&tvw_op_conv_nd, &p, 1, &x.a, 1, &w.a, TRUE, "output padding");

  test_array_clear (&x);
  test_array_clear (&w);
  test_array_clear (&wb);
}

/* ---- 3-D pools --------------------------------------------------------- */

/* PyTorch's output size, written from its documentation: floor or ceil of
 * (in + 2p − k) / s + 1, and in ceil mode the last window must start
 * inside the input or the left padding. */
static gint64
ref_pool_out (gint64   in,
              int      k,
              int      s,
              int      pad,
              gboolean ceil_mode)
{
  double q = (double) (in + 2 * pad - k) / s;
  gint64 out = (gint64) (ceil_mode ? ceil (q) : floor (q)) + 1;

  if (ceil_mode && (out - 1) * s >= in + pad)
    out--;
  return out;
}

static void
check_pool3d (int kind)
{
  static const char *const names[] = { "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d" };
  const TvwOpClass *const classes[] = {
    &tvw_op_max_pool3d, &tvw_op_avg_pool3d, &tvw_op_adaptive_avg_pool3d,
  };
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS + 1; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (900 + kind * 100 + seed * 10 + layout);
        TvwPool3dParams p = { 0 };
        gint64 xs[5], os[5];
        g_autofree double *want = NULL;
        TestArray x;
        gboolean ok;

        xs[0] = os[0] = rand_dim (rng, 1, 2);
        xs[1] = os[1] = rand_dim (rng, 1, 7);
        /* The last seed: big enough for every thread. */
        if (seed == N_SEEDS)
          {
            xs[0] = os[0] = 2;
            xs[1] = os[1] = 16;
          }
        do
          {
            ok = TRUE;
            p.ceil_mode = seed >= 2 || g_rand_boolean (rng);
            p.count_include_pad = g_rand_boolean (rng);
            for (int i = 0; i < 3; i++)
              {
                xs[2 + i] = rand_dim (rng, seed == N_SEEDS ? 8 : 1, 9);
                if (kind == 2)
                  {
                    p.out_size[i] = os[2 + i] = rand_dim (rng, 1, 10);
                    continue;
                  }
                p.kernel[i] = g_rand_int_range (rng, 1, 4);
                p.stride[i] = g_rand_int_range (rng, 1, 4);
                p.padding[i] = g_rand_int_range (rng, 0, p.kernel[i] / 2 + 1);
                os[2 + i] = ref_pool_out (xs[2 + i], p.kernel[i], p.stride[i], p.padding[i],
                                          p.ceil_mode);
                ok = ok && os[2 + i] > 0;
              }
          }
        while (!ok);
        test_array_random (&x, rng, TVW_ELEM_F32, 5, xs, layout, -1, 1);

        want = g_new0 (double, numel (5, os));
        for (gint64 n = 0; n < os[0]; n++)
          for (gint64 c = 0; c < os[1]; c++)
            for (gint64 f = 0; f < os[2] * os[3] * os[4]; f++)
              {
                const gint64 o[3] = { f / (os[3] * os[4]), f / os[4] % os[3], f % os[4] };
                gint64 lo[3], hi[3], plo[3], phi[3];
                double acc = kind == 0 ? -INFINITY : 0, count = 1, valid = 1;

                for (int i = 0; i < 3; i++)
                  {
                    const gint64 in = xs[2 + i];

                    if (kind == 2)
                      {
                        plo[i] = lo[i] = (gint64) floor ((double) o[i] * in / os[2 + i]);
                        phi[i] = hi[i] = (gint64) ceil ((double) (o[i] + 1) * in / os[2 + i]);
                      }
                    else
                      {
                        /* The window within the padded input, then
                         * within the input. */
                        plo[i] = o[i] * p.stride[i] - p.padding[i];
                        phi[i] = MIN (plo[i] + p.kernel[i], in + p.padding[i]);
                        lo[i] = MAX (plo[i], 0);
                        hi[i] = MIN (phi[i], in);
                      }
                    count *= phi[i] - plo[i];
                    valid *= hi[i] - lo[i];
                  }
                for (gint64 t = lo[0]; t < hi[0]; t++)
                  for (gint64 h = lo[1]; h < hi[1]; h++)
                    for (gint64 w = lo[2]; w < hi[2]; w++)
                      {
                        double v = get5 (&x.a, n, c, t, h, w);

                        acc = kind == 0 ? MAX (acc, v) : acc + v;
                      }
                if (kind == 1)
                  acc /= p.count_include_pad ? count : valid;
                else if (kind == 2)
                  acc /= valid;
                want[(n * os[1] + c) * os[2] * os[3] * os[4] + f] = acc;
              }

        /* Max is exact; averages add up to 27 floats ≤ 1 in float. */
        worst = MAX (worst, run_and_check (layout_names[layout], classes[kind], &p,
                                           1, &x.a, 0, NULL,
                                           5, os, want, kind == 0 ? 0 : 2e-6, 1e-6));
        test_array_clear (&x);
      }
  g_test_message ("%s: max error %g", names[kind], worst);
}

static void test_max_pool3d (void) { check_pool3d (0); }
static void test_avg_pool3d (void) { check_pool3d (1); }
static void test_adaptive_avg_pool3d (void) { check_pool3d (2); }

static void
test_pool3d_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (11);
  const gint64 xs[5] = { 1, 2, 2, 4, 4 }, x4[4] = { 1, 2, 4, 4 };
  TvwPool3dParams big = { { 3, 3, 3 }, { 1, 1, 1 }, { 0, 0, 0 }, FALSE, TRUE, { 0 } };
  TvwPool3dParams pad = { { 2, 2, 2 }, { 1, 1, 1 }, { 0, 2, 0 }, FALSE, TRUE, { 0 } };
  TvwPool3dParams adaptive = { { 0 }, { 0 }, { 0 }, FALSE, FALSE, { 1, 0, 1 } };
  TestArray x, x2;

  test_array_random (&x, rng, TVW_ELEM_F32, 5, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&x2, rng, TVW_ELEM_F32, 4, x4, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  /* A 3-kernel over 2 frames. */
  assert_refused (&tvw_op_max_pool3d, &big, 1, &x.a, 0, NULL, FALSE, "[1, 2, 2, 4, 4]");
  assert_refused (&tvw_op_avg_pool3d, &pad, 1, &x.a, 0, NULL, TRUE, "half the kernel");
  assert_refused (&tvw_op_adaptive_avg_pool3d, &adaptive, 1, &x.a, 0, NULL, TRUE, "output size 0");
  assert_refused (&tvw_op_avg_pool3d, &big, 1, &x2.a, 0, NULL, FALSE, "expected 5 dimensions");

  test_array_clear (&x);
  test_array_clear (&x2);
}

/* ---- roi_align --------------------------------------------------------- */

/* torchvision's bilinear_interpolate (): zero outside [-1, size], clamped
 * inside. */
static double
ref_bilinear (const TvwArray *x,
              gint64          n,
              gint64          c,
              double          y,
              double          xx)
{
  const gint64 height = x->shape[2], width = x->shape[3];
  gint64 y0, x0, y1, x1;
  double ly, lx;

  if (y < -1.0 || y > height || xx < -1.0 || xx > width)
    return 0;
  y = MAX (y, 0.0);
  xx = MAX (xx, 0.0);
  y0 = (gint64) y;
  x0 = (gint64) xx;
  if (y0 >= height - 1)
    {
      y0 = y1 = height - 1;
      y = y0;
    }
  else
    y1 = y0 + 1;
  if (x0 >= width - 1)
    {
      x0 = x1 = width - 1;
      xx = x0;
    }
  else
    x1 = x0 + 1;
  ly = y - y0;
  lx = xx - x0;
  return (1 - ly) * (1 - lx) * get4 (x, n, c, y0, x0) + (1 - ly) * lx * get4 (x, n, c, y0, x1) +
         ly * (1 - lx) * get4 (x, n, c, y1, x0) + ly * lx * get4 (x, n, c, y1, x1);
}

static void
test_roi_align (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS + 1; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      for (int aligned = 0; aligned < 2; aligned++)
        {
          g_autoptr(GRand) rng = g_rand_new_with_seed (1000 + seed * 100 + layout * 10 + aligned);
          static const double scales[] = { 1.0, 0.5, 0.25, 0.125 };
          TvwRoiAlignParams p = {
            (int) rand_dim (rng, 1, 7), (int) rand_dim (rng, 1, 7),
            scales[g_rand_int_range (rng, 0, 4)],
            seed == 0 ? 2 : seed == 1 ? 0 : -1,
            aligned,
          };
          gint64 xs[4], rs[2], os[4];
          g_autofree double *want = NULL;
          TestArray x, r;
          TvwArray in[2];

          xs[0] = rand_dim (rng, 1, 3);
          xs[1] = rand_dim (rng, 1, 9);
          xs[2] = rand_dim (rng, 1, 14);
          xs[3] = rand_dim (rng, 1, 14);
          rs[0] = rand_dim (rng, 0, 7);
          rs[1] = 5;
          /* The last seed: big enough for every thread. */
          if (seed == N_SEEDS)
            {
              xs[1] = 16;
              rs[0] = 7;
              p.out_h = p.out_w = 7;
            }
          os[0] = rs[0];
          os[1] = xs[1];
          os[2] = p.out_h;
          os[3] = p.out_w;
          test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);
          test_array_random (&r, rng, TVW_ELEM_F32, 2, rs, (layout + seed) % TEST_N_LAYOUTS, 0, 1);
          /* Boxes in image coordinates, partly outside, some tiny. */
          for (gint64 k = 0; k < rs[0]; k++)
            {
              const double sx = xs[3] / p.spatial_scale, sy = xs[2] / p.spatial_scale;
              float *row = (float *) r.a.data + k * r.a.stride[0];
              const gint64 s1 = r.a.stride[1];
              double x1 = g_rand_double_range (rng, -0.2 * sx, sx);
              double y1 = g_rand_double_range (rng, -0.2 * sy, sy);

              row[0] = (float) g_rand_int_range (rng, 0, (int) xs[0]);
              row[s1] = (float) x1;
              row[2 * s1] = (float) y1;
              row[3 * s1] = (float) (x1 + g_rand_double_range (rng, k == 0 ? 0 : 0.1, 0.7 * sx));
              row[4 * s1] = (float) (y1 + g_rand_double_range (rng, k == 0 ? 0 : 0.1, 0.7 * sy));
            }
          in[0] = x.a;
          in[1] = r.a;

          want = g_new0 (double, numel (4, os));
          for (gint64 k = 0; k < rs[0]; k++)
            {
              gint64 idx[2] = { k, 0 };
              float box[5], start_w, start_h, roi_w, roi_h, bin_w, bin_h;
              const float off = aligned ? 0.5f : 0.f;
              int grid_h, grid_w;

              /* The box geometry in float, as torchvision computes it
               * for float inputs (the grid size depends on it). */
              for (int j = 0; j < 5; j++)
                {
                  idx[1] = j;
                  box[j] = (float) test_array_get (&r.a, idx);
                }
              start_w = box[1] * (float) p.spatial_scale - off;
              start_h = box[2] * (float) p.spatial_scale - off;
              roi_w = box[3] * (float) p.spatial_scale - off - start_w;
              roi_h = box[4] * (float) p.spatial_scale - off - start_h;
              if (!aligned)
                {
                  roi_w = MAX (roi_w, 1.f);
                  roi_h = MAX (roi_h, 1.f);
                }
              bin_h = roi_h / p.out_h;
              bin_w = roi_w / p.out_w;
              grid_h = p.sampling_ratio > 0 ? p.sampling_ratio : (int) ceilf (roi_h / p.out_h);
              grid_w = p.sampling_ratio > 0 ? p.sampling_ratio : (int) ceilf (roi_w / p.out_w);

              for (gint64 c = 0; c < xs[1]; c++)
                for (int ph = 0; ph < p.out_h; ph++)
                  for (int pw = 0; pw < p.out_w; pw++)
                    {
                      double acc = 0;

                      for (int iy = 0; iy < grid_h; iy++)
                        for (int ix = 0; ix < grid_w; ix++)
                          {
                            double yy = start_h + ph * (double) bin_h + (iy + 0.5) * bin_h / grid_h;
                            double xx = start_w + pw * (double) bin_w + (ix + 0.5) * bin_w / grid_w;

                            acc += ref_bilinear (&x.a, (gint64) box[0], c, yy, xx);
                          }
                      want[((k * xs[1] + c) * p.out_h + ph) * p.out_w + pw] =
                        acc / MAX (grid_h * grid_w, 1);
                    }
            }

          /* Sample positions in float (as torchvision) against double: a
           * few 1e-6 pixel, times a slope of at most 2 per pixel. */
          worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_roi_align, &p,
                                             2, in, 0, NULL,
                                             4, os, want, 2e-5, 1e-5));
          test_array_clear (&x);
          test_array_clear (&r);
        }
  g_test_message ("roi_align: max error %g", worst);
}

static void
test_roi_align_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (12);
  const gint64 xs[4] = { 1, 2, 8, 8 }, rs[2] = { 3, 4 };
  TvwRoiAlignParams p = { 7, 7, 1.0, 2, TRUE };
  TestArray x, r;
  TvwArray in[2];

  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&r, rng, TVW_ELEM_F32, 2, rs, TEST_LAYOUT_CONTIGUOUS, 0, 4);
  in[0] = x.a;
  in[1] = r.a;
  /* Boxes without their batch index. */
  assert_refused (&tvw_op_roi_align, &p, 2, in, 0, NULL, FALSE, "[3, 4]");
  test_array_clear (&x);
  test_array_clear (&r);
}

/* ---- batched_nms ------------------------------------------------------- */

typedef struct
{
  const float *scores;
} ScoreOrder;

static int
by_score (gconstpointer a,
          gconstpointer b,
          gpointer      data)
{
  const ScoreOrder *o = data;
  const int i = *(const int *) a, j = *(const int *) b;

  if (o->scores[i] != o->scores[j])
    return o->scores[i] > o->scores[j] ? -1 : 1;
  return i - j;
}

static void
test_batched_nms (void)
{
  static const gint64 sizes[] = { 0, 1, 9, 60, 300, 1001 };

  for (int seed = 0; seed < N_SEEDS; seed++)
    for (guint si = 0; si < G_N_ELEMENTS (sizes); si++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1100 + seed * 100 + si);
        const gint64 k = sizes[si], bs[2] = { k, 4 };
        TvwNmsParams p = { g_rand_double_range (rng, 0.2, 0.8) };
        g_autofree float *boxes = g_new (float, 4 * MAX (k, 1));
        g_autofree float *scores = g_new (float, MAX (k, 1));
        g_autofree gint64 *idxs = g_new (gint64, MAX (k, 1));
        g_autofree int *order = g_new (int, MAX (k, 1));
        g_autofree guint8 *gone = g_new0 (guint8, MAX (k, 1));
        g_autofree double *want = g_new (double, MAX (k, 1));
        ScoreOrder so = { scores };
        TvwArray in[3], out;
        gint64 kept = 0;

        tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
        tvw_array_init (&in[1], TVW_ELEM_F32, 1, &k);
        tvw_array_init (&in[2], TVW_ELEM_I64, 1, &k);
        in[0].data = boxes;
        in[1].data = scores;
        in[2].data = idxs;
        /* Clustered boxes (overlaps around the threshold), scores on a
         * coarse grid (ties), a few classes. */
        for (gint64 i = 0; i < k; i++)
          {
            const double cx = g_rand_int_range (rng, 0, 5) * 20 + g_rand_double_range (rng, -4, 4);
            const double cy = g_rand_int_range (rng, 0, 5) * 20 + g_rand_double_range (rng, -4, 4);
            const double w = g_rand_double_range (rng, 4, 30), h = g_rand_double_range (rng, 4, 30);

            boxes[4 * i] = (float) (cx - w / 2);
            boxes[4 * i + 1] = (float) (cy - h / 2);
            boxes[4 * i + 2] = (float) (cx + w / 2);
            boxes[4 * i + 3] = (float) (cy + h / 2);
            scores[i] = (float) (g_rand_int_range (rng, 0, 40) / 40.0);
            idxs[i] = g_rand_int_range (rng, 0, 4);
            order[i] = (int) i;
          }

        /* Greedy NMS per class, in double, by decreasing score. */
        g_qsort_with_data (order, (int) k, sizeof (int), by_score, &so);
        for (gint64 a = 0; a < k; a++)
          {
            const int i = order[a];

            if (gone[i])
              continue;
            want[kept++] = i;
            for (gint64 b = a + 1; b < k; b++)
              {
                const int j = order[b];
                double iw, ih, inter, ai, aj;

                if (gone[j] || idxs[j] != idxs[i])
                  continue;
                iw = MAX (0.0, MIN ((double) boxes[4 * i + 2], boxes[4 * j + 2]) -
                               MAX ((double) boxes[4 * i], boxes[4 * j]));
                ih = MAX (0.0, MIN ((double) boxes[4 * i + 3], boxes[4 * j + 3]) -
                               MAX ((double) boxes[4 * i + 1], boxes[4 * j + 1]));
                inter = iw * ih;
                ai = ((double) boxes[4 * i + 2] - boxes[4 * i]) *
                     ((double) boxes[4 * i + 3] - boxes[4 * i + 1]);
                aj = ((double) boxes[4 * j + 2] - boxes[4 * j]) *
                     ((double) boxes[4 * j + 3] - boxes[4 * j + 1]);
                if (inter / (ai + aj - inter) > p.iou_threshold)
                  gone[j] = 1;
              }
          }

        /* Indices: exact. */
        test_run_op (&tvw_op_batched_nms, &p, 3, in, 0, NULL, 1, &out, 0);
        test_assert_close ("batched_nms", &out, 1, &kept, want, 0, 0);
        g_free (out.data);
      }
}

static void
test_batched_nms_errors (void)
{
  const gint64 bs[2] = { 3, 4 }, k = 3, k2 = 2;
  float boxes[12] = { 0 }, scores[3] = { 0 };
  gint64 idxs[3] = { 0 };
  TvwNmsParams p = { 0.5 };
  TvwArray in[3];

  tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &k2);
  tvw_array_init (&in[2], TVW_ELEM_I64, 1, &k);
  in[0].data = boxes;
  in[1].data = scores;
  in[2].data = idxs;
  /* Two scores for three boxes. */
  assert_refused (&tvw_op_batched_nms, &p, 3, in, 0, NULL, FALSE, "scores [2]");
  /* Class indices as float. */
  tvw_array_init (&in[1], TVW_ELEM_F32, 1, &k);
  tvw_array_init (&in[2], TVW_ELEM_F32, 1, &k);
  in[1].data = scores;
  in[2].data = scores;
  assert_refused (&tvw_op_batched_nms, &p, 3, in, 0, NULL,
                  FALSE, "input 2 is float32, expected int64");
}

/* ---- quantize and dequantize ------------------------------------------- */

static void
test_quantize (void)
{
  for (int seed = 0; seed < N_SEEDS + 1; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      for (int signed_ = 0; signed_ < 2; signed_++)
        {
          g_autoptr(GRand) rng = g_rand_new_with_seed (1200 + seed * 100 + layout * 10 + signed_);
          /* The last seed: big enough for every thread. */
          const gboolean big = seed == N_SEEDS;
          const int rank = big ? 2 : g_rand_int_range (rng, 1, 6);
          /* Seed 0: a power-of-two scale, where x · (1 / scale) is exact
           * and halves are common: ties go to even. */
          TvwQuantizeParams p = {
            seed == 0 ? 0.25 : g_rand_double_range (rng, 0.005, 0.1),
            signed_ ? g_rand_int_range (rng, -20, 21) : g_rand_int_range (rng, 0, 256),
            signed_ ? TVW_ELEM_I8 : TVW_ELEM_U8,
          };
          const float inv = 1.f / (float) p.scale;
          gint64 shape[TVW_MAX_RANK], n, idx[TVW_MAX_RANK];
          g_autofree double *want = NULL;
          TestArray x;
          TvwArray out;

          for (int i = 0; i < rank; i++)
            shape[i] = rand_dim (rng, 1, 6);
          if (big)
            {
              shape[0] = 256;
              shape[1] = 300;
            }
          n = numel (rank, shape);
          test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -8, 8);
          if (seed == 0)
            for (gint64 f = 0; f < n; f++)
              {
                gint64 off = 0;

                /* Multiples of scale / 2. */
                test_unflatten (&x.a, f, idx);
                for (int i = 0; i < rank; i++)
                  off += idx[i] * x.a.stride[i];
                ((float *) x.a.data)[off] = (float) (g_rand_int_range (rng, -64, 64) * 0.125);
              }

          want = g_new (double, n);
          for (gint64 f = 0; f < n; f++)
            {
              double q;

              test_unflatten (&x.a, f, idx);
              /* fbgemm: round (x · inverse scale), to even, plus the zero
               * point, clamped to the type. */
              q = rint ((double) ((float) test_array_get (&x.a, idx) * inv)) + p.zero_point;
              want[f] = CLAMP (q, signed_ ? -128 : 0, signed_ ? 127 : 255);
            }

          test_run_op (&tvw_op_quantize, &p, 1, &x.a, 0, NULL, 1, &out, 0);
          g_assert_cmpint (out.elem, ==, p.elem);
          g_assert_true (out.quantized);
          g_assert_cmpfloat (out.scale, ==, p.scale);
          g_assert_cmpint (out.zero_point, ==, p.zero_point);
          g_assert_cmpint (out.qaxis, <, 0);
          /* Integers: exact. */
          test_assert_close (layout_names[layout], &out, rank, shape, want, 0, 0);
          g_free (out.data);
          test_array_clear (&x);
        }
}

static void
test_dequantize (void)
{
  double worst = 0;

  for (int seed = 0; seed < N_SEEDS + 1; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      for (int signed_ = 0; signed_ < 2; signed_++)
        {
          g_autoptr(GRand) rng = g_rand_new_with_seed (1300 + seed * 100 + layout * 10 + signed_);
          /* The last seed: big enough for every thread. */
          const gboolean big = seed == N_SEEDS;
          const int rank = big ? 2 : g_rand_int_range (rng, 1, 6);
          /* Seeds 0 and 1 per tensor, then per channel. */
          const int qaxis = seed < 2 ? -1 : g_rand_int_range (rng, 0, rank);
          gint64 shape[TVW_MAX_RANK], n, idx[TVW_MAX_RANK];
          g_autofree double *want = NULL;
          g_autofree float *scales = NULL;
          g_autofree gint32 *zps = NULL;
          int unused = 0;
          TestArray x;

          for (int i = 0; i < rank; i++)
            shape[i] = rand_dim (rng, 1, 6);
          if (big)
            {
              shape[0] = 300;
              shape[1] = 256;
            }
          n = numel (rank, shape);
          test_array_random (&x, rng, signed_ ? TVW_ELEM_I8 : TVW_ELEM_U8, rank, shape, layout,
                             signed_ ? -128 : 0, signed_ ? 128 : 256);
          x.a.quantized = TRUE;
          x.a.scale = g_rand_double_range (rng, 0.001, 0.2);
          x.a.zero_point = signed_ ? g_rand_int_range (rng, -10, 11)
                                   : g_rand_int_range (rng, 0, 256);
          x.a.qaxis = qaxis;
          if (qaxis >= 0)
            {
              scales = g_new (float, shape[qaxis]);
              zps = g_new (gint32, shape[qaxis]);
              for (gint64 c = 0; c < shape[qaxis]; c++)
                {
                  scales[c] = (float) g_rand_double_range (rng, 0.001, 0.2);
                  zps[c] = signed_ ? 0 : g_rand_int_range (rng, 0, 256);
                }
              x.a.scales = scales;
              x.a.zero_points = zps;
            }

          want = g_new (double, n);
          for (gint64 f = 0; f < n; f++)
            {
              test_unflatten (&x.a, f, idx);
              if (qaxis >= 0)
                want[f] = (test_array_get (&x.a, idx) - zps[idx[qaxis]]) * scales[idx[qaxis]];
              else
                want[f] = (test_array_get (&x.a, idx) - x.a.zero_point) * x.a.scale;
            }

          /* One float rounding of a product ≤ 255 · 0.2. */
          worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_dequantize, &unused,
                                             1, &x.a, 0, NULL,
                                             rank, shape, want, 1e-6, 1e-6));
          test_array_clear (&x);
        }
  g_test_message ("dequantize: max error %g", worst);
}

static void
test_quant_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (13);
  const gint64 shape[2] = { 3, 4 };
  TvwQuantizeParams bad_zp = { 0.1, 300, TVW_ELEM_U8 }, bad_elem = { 0.1, 0, TVW_ELEM_I32 };
  int unused = 0;
  TestArray x, q;

  test_array_random (&x, rng, TVW_ELEM_F32, 2, shape, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&q, rng, TVW_ELEM_U8, 2, shape, TEST_LAYOUT_CONTIGUOUS, 0, 255);
  assert_refused (&tvw_op_quantize, &bad_zp, 1, &x.a, 0, NULL, TRUE, "zero point 300");
  assert_refused (&tvw_op_quantize, &bad_elem, 1, &x.a, 0, NULL, TRUE, "int32");
  /* A uint8 array without quantization parameters. */
  assert_refused (&tvw_op_dequantize, &unused, 1, &q.a, 0, NULL, FALSE, "expected a quantized");
  /* Per channel along an axis it does not have. */
  q.a.quantized = TRUE;
  q.a.qaxis = 2;
  assert_refused (&tvw_op_dequantize, &unused, 1, &q.a, 0, NULL, TRUE, "per-channel axis 2");
  test_array_clear (&x);
  test_array_clear (&q);
}

/* ---- the graph constructors -------------------------------------------- */

/* A weight the graph declared: its shape must be @shape; it is filled with
 * random values (init_random leaves biases at zero and norm scales at one,
 * which would hide a swapped weight) and described for an eager run. */
static void
graph_weight (TvwNet       *net,
              GRand        *rng,
              const char   *name,
              int           rank,
              const gint64 *shape,
              TvwArray     *desc)
{
  gint64 count = 0;
  float *p = tvw_net_lookup_param (net, name, &count);

  if (p == NULL)
    g_error ("the graph declares no %s", name);
  g_assert_cmpint (count, ==, numel (rank, shape));
  for (gint64 i = 0; i < count; i++)
    p[i] = test_rand_float (rng, -1, 1);
  tvw_array_init (desc, TVW_ELEM_F32, rank, shape);
  desc->data = p;
}

/* Runs @net (prepared here) on @in and compares its one output with
 * @cls run eagerly on the same inputs (or @eager_in) and weights. */
static void
graph_matches_eager (TvwNet           *net,
                     int               n_in,
                     const TvwArray   *in,
                     const TvwOpClass *cls,
                     const TvwArray   *eager_in,
                     gconstpointer     params,
                     int               n_weights,
                     TvwArray         *weights,
                     double            atol)
{
  g_autoptr(GError) error = NULL;
  g_autofree float **copies = g_new0 (float *, MAX (n_weights, 1));
  TvwArray got, want;
  gint64 idx[TVW_MAX_RANK];

  /* The weights stay readable for the eager run after prepare. */
  for (int i = 0; i < n_weights; i++)
    {
      copies[i] = g_memdup2 (weights[i].data, tvw_array_extent_bytes (&weights[i]));
      weights[i].data = copies[i];
    }
  if (!tvw_net_prepare (net, &error) ||
      !tvw_net_run_arrays (net, in, 2, NULL, &got, &error) ||
      !tvw_op_eager (cls, "test", params, n_in, eager_in != NULL ? eager_in : in,
                     n_weights, weights, 1, &want, 1, &error))
    g_error ("%s: %s", cls->name, error->message);

  g_assert_true (tvw_array_same_shape (&got, &want));
  for (gint64 f = 0; f < tvw_array_numel (&want); f++)
    {
      test_unflatten (&want, f, idx);
      if (!(fabs (test_array_get (&got, idx) - test_array_get (&want, idx)) <= atol))
        g_error ("%s: graph element %" G_GINT64_FORMAT " is %g, eager %g", cls->name, f,
                 test_array_get (&got, idx), test_array_get (&want, idx));
    }
  g_free (got.data);
  g_free (want.data);
  for (int i = 0; i < n_weights; i++)
    g_free (copies[i]);
}

static void
graph_input (TvwNet       *net,
             GRand        *rng,
             const char   *name,
             int           rank,
             const gint64 *shape,
             TestArray    *t,
             TvwVal       *v)
{
  /* Graph inputs are contiguous. */
  test_array_random (t, rng, TVW_ELEM_F32, rank, shape, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  *v = tvw_net_input_full (net, name, TVW_ELEM_F32, rank, shape);
}

static void
test_graph_norms (void)
{
  for (int which = 0; which < 4; which++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GRand) rng = g_rand_new_with_seed (1400 + which);
      const gint64 xs[4] = { 2, 6, 3, 5 }, c = 6, f = 5;
      const TvwOpClass *cls = which == 0 ? &tvw_op_layer_norm
                            : which == 1 ? &tvw_op_layer_norm_channels : &tvw_op_group_norm;
      TvwNormParams p = { 1e-5, which == 2 ? 3 : 0, 2, -1 };
      TestArray x;
      TvwArray w[2];
      TvwVal v, y;

      graph_input (net, rng, "x", 4, xs, &x, &v);
      if (which == 0)
        y = tvw_net_layer_norm (net, v, "norm", -1, f, 1e-5, TRUE);
      else if (which == 1)
        y = tvw_net_layer_norm (net, v, "norm", 1, c, 1e-5, TRUE);
      else if (which == 2)
        y = tvw_net_group_norm (net, v, "norm", 3, 1e-5, TRUE);
      else
        y = tvw_net_instance_norm (net, v, "norm", 1e-5, TRUE);
      tvw_net_set_output (net, y);
      g_assert_true (tvw_net_check (net, &error));
      tvw_net_init_random (net, 1);
      graph_weight (net, rng, "norm.weight", 1, which == 0 ? &f : &c, &w[0]);
      graph_weight (net, rng, "norm.bias", 1, which == 0 ? &f : &c, &w[1]);
      graph_matches_eager (net, 1, &x.a, cls, NULL, &p, 2, w, 1e-6);
      test_array_clear (&x);
    }
}

/* A constructor's bad arguments come back from tvw_net_check (), naming
 * the module. */
static void
test_graph_norm_bad_dim (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const gint64 xs[4] = { 2, 6, 3, 5 };

  TvwVal x = tvw_net_input_full (net, "x", TVW_ELEM_F32, 4, xs);

  tvw_net_set_output (net, tvw_net_layer_norm (net, x, "blocks.0.norm", 2, 3, 1e-6, TRUE));
  g_assert_false (tvw_net_check (net, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "blocks.0.norm"));
  g_assert_nonnull (strstr (error->message, "not dimension 2"));
}

static void
test_graph_matmul_resize (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1500);

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    g_autoptr(GError) error = NULL;
    const gint64 as[3] = { 2, 7, 9 }, bs[2] = { 9, 20 };
    TvwMatmulParams p = { 0 };
    TestArray a, b;
    TvwArray in[2];
    TvwVal va, vb;

    graph_input (net, rng, "a", 3, as, &a, &va);
    graph_input (net, rng, "b", 2, bs, &b, &vb);
    tvw_net_set_output (net, tvw_net_matmul (net, va, vb));
    g_assert_true (tvw_net_check (net, &error));
    in[0] = a.a;
    in[1] = b.a;
    graph_matches_eager (net, 2, in, &tvw_op_matmul, NULL, &p, 0, NULL, 1e-6);
    test_array_clear (&a);
    test_array_clear (&b);
  }

  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      const gint64 xs[4] = { 1, 3, 5, 6 };
      /* By size (bilinear, aligned corners) and by scale factor. */
      TvwResizeParams p = { mode ? 0 : 9, mode ? 0 : 4, mode ? 1.5 : 0, mode ? 2.0 : 0,
                         mode ? TVW_RESIZE_NEAREST : TVW_RESIZE_BILINEAR, !mode };
      TestArray x;
      TvwVal v;

      graph_input (net, rng, "x", 4, xs, &x, &v);
      tvw_net_set_output (net, tvw_net_interpolate (net, v, p.out_h, p.out_w, p.scale_h, p.scale_w,
                                                    p.mode, p.align_corners));
      g_assert_true (tvw_net_check (net, &error));
      graph_matches_eager (net, 1, &x.a, &tvw_op_interpolate, NULL, &p, 0, NULL, 1e-6);
      test_array_clear (&x);
    }

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    g_autoptr(GError) error = NULL;
    const gint64 xs[4] = { 2, 3, 5, 5 }, gs[4] = { 2, 3, 4, 2 };
    TvwResizeParams p = { 0, 0, 0, 0, TVW_RESIZE_BILINEAR, TRUE };
    TestArray x, g;
    TvwArray in[2];
    TvwVal vx, vg;

    graph_input (net, rng, "x", 4, xs, &x, &vx);
    graph_input (net, rng, "grid", 4, gs, &g, &vg);
    tvw_net_set_output (net, tvw_net_grid_sample (net, vx, vg, TVW_RESIZE_BILINEAR, TRUE));
    g_assert_true (tvw_net_check (net, &error));
    in[0] = x.a;
    in[1] = g.a;
    graph_matches_eager (net, 2, in, &tvw_op_grid_sample, NULL, &p, 0, NULL, 1e-6);
    test_array_clear (&x);
    test_array_clear (&g);
  }
}

static void
test_graph_conv_nd (void)
{
  for (int which = 0; which < 3; which++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GRand) rng = g_rand_new_with_seed (1600 + which);
      /* Conv3d (video stems), ConvTranspose2d (Mask R-CNN's mask head),
       * Conv1d. */
      static const TvwConvNdSpec specs[3] = {
        { 3, { 3, 7, 7 }, { 1, 2, 2 }, { 1, 3, 3 }, { 1, 1, 1 }, { 0, 0, 0 }, 1, FALSE, FALSE },
        { 2, { 2, 2 }, { 2, 2 }, { 0, 0 }, { 1, 1 }, { 0, 0 }, 1, TRUE, TRUE },
        { 1, { 3 }, { 2 }, { 1 }, { 2 }, { 0 }, 2, TRUE, FALSE },
      };
      const TvwConvNdSpec *s = &specs[which];
      const gint64 x3[5] = { 1, 3, 4, 9, 9 }, x2[4] = { 2, 4, 5, 5 }, x1[3] = { 2, 4, 11 };
      const gint64 *xs = which == 0 ? x3 : which == 1 ? x2 : x1;
      const int cout = 6;
      TvwConvNdParams p = { *s, (int) xs[1], cout };
      gint64 ws[5], bias = cout;
      TestArray x;
      TvwArray w[2];
      TvwVal v;

      ws[0] = s->transposed ? xs[1] : cout;
      ws[1] = s->transposed ? cout / s->groups : xs[1] / s->groups;
      for (int i = 0; i < s->rank; i++)
        ws[2 + i] = s->kernel[i];
      graph_input (net, rng, "x", s->rank + 2, xs, &x, &v);
      tvw_net_set_output (net, tvw_net_conv_nd (net, v, "conv", cout, s));
      g_assert_true (tvw_net_check (net, &error));
      tvw_net_init_random (net, 1);
      graph_weight (net, rng, "conv.weight", s->rank + 2, ws, &w[0]);
      if (s->bias)
        graph_weight (net, rng, "conv.bias", 1, &bias, &w[1]);
      else
        g_assert_false (tvw_net_has_param (net, "conv.bias"));
      graph_matches_eager (net, 1, &x.a, &tvw_op_conv_nd, NULL, &p, s->bias ? 2 : 1, w, 1e-5);
      test_array_clear (&x);
    }
}

static void
test_graph_pool3d_roi_nms_quant (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1700);

  for (int kind = 0; kind < 3; kind++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      const gint64 xs[5] = { 1, 4, 5, 7, 7 }, out[3] = { 1, 3, 2 };
      const int k[3] = { 1, 3, 3 }, st[3] = { 1, 2, 2 }, pad[3] = { 0, 1, 1 };
      const TvwOpClass *const classes[3] = {
        &tvw_op_max_pool3d, &tvw_op_avg_pool3d, &tvw_op_adaptive_avg_pool3d,
      };
      TvwPool3dParams p = { { 1, 3, 3 }, { 1, 2, 2 }, { 0, 1, 1 }, TRUE, FALSE, { 1, 3, 2 } };
      TestArray x;
      TvwVal v, y;

      graph_input (net, rng, "x", 5, xs, &x, &v);
      if (kind == 0)
        y = tvw_net_max_pool3d (net, v, k, st, pad, TRUE);
      else if (kind == 1)
        y = tvw_net_avg_pool3d (net, v, k, st, pad, TRUE, FALSE);
      else
        y = tvw_net_adaptive_avg_pool3d (net, v, out);
      tvw_net_set_output (net, y);
      g_assert_true (tvw_net_check (net, &error));
      graph_matches_eager (net, 1, &x.a, classes[kind], NULL, &p, 0, NULL, 1e-6);
      test_array_clear (&x);
    }

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    g_autoptr(GError) error = NULL;
    const gint64 xs[4] = { 2, 3, 10, 12 }, rs[2] = { 4, 5 };
    TvwRoiAlignParams p = { 3, 4, 0.5, 0, TRUE };
    TestArray x, r;
    TvwArray in[2];
    TvwVal vx, vr;

    graph_input (net, rng, "x", 4, xs, &x, &vx);
    graph_input (net, rng, "rois", 2, rs, &r, &vr);
    for (int i = 0; i < 4; i++)
      {
        float *row = (float *) r.a.data + 5 * i;

        row[0] = (float) (i % 2);
        row[1] = 2.f + i;
        row[2] = 1.f + 2 * i;
        row[3] = 12.f + 2 * i;
        row[4] = 9.f + i;
      }
    tvw_net_set_output (net, tvw_net_roi_align (net, vx, vr, 3, 4, 0.5, 0, TRUE));
    g_assert_true (tvw_net_check (net, &error));
    in[0] = x.a;
    in[1] = r.a;
    graph_matches_eager (net, 2, in, &tvw_op_roi_align, NULL, &p, 0, NULL, 1e-6);
    test_array_clear (&x);
    test_array_clear (&r);
  }

  {
    /* A host op with a data-dependent size: the graph hands on the
     * length its run gives. */
    g_autoptr(TvwNet) net = tvw_net_new ();
    g_autoptr(GError) error = NULL;
    const gint64 bs[2] = { 40, 4 }, k = 40;
    TvwNmsParams p = { 0.4 };
    g_autofree float *boxes = g_new (float, 4 * k);
    g_autofree float *scores = g_new (float, k);
    g_autofree gint64 *idxs = g_new (gint64, k);
    TvwArray in[3];
    TvwVal vb, vs, vi;

    for (gint64 i = 0; i < k; i++)
      {
        const float cx = (float) g_rand_int_range (rng, 0, 3) * 10, cy = (float) (i % 2) * 10;

        boxes[4 * i] = cx + test_rand_float (rng, 0, 3);
        boxes[4 * i + 1] = cy + test_rand_float (rng, 0, 3);
        boxes[4 * i + 2] = boxes[4 * i] + test_rand_float (rng, 4, 9);
        boxes[4 * i + 3] = boxes[4 * i + 1] + test_rand_float (rng, 4, 9);
        scores[i] = test_rand_float (rng, 0, 1);
        idxs[i] = g_rand_int_range (rng, 0, 2);
      }
    tvw_array_init (&in[0], TVW_ELEM_F32, 2, bs);
    tvw_array_init (&in[1], TVW_ELEM_F32, 1, &k);
    tvw_array_init (&in[2], TVW_ELEM_I64, 1, &k);
    in[0].data = boxes;
    in[1].data = scores;
    in[2].data = idxs;
    vb = tvw_net_input_full (net, "boxes", TVW_ELEM_F32, 2, bs);
    vs = tvw_net_input_full (net, "scores", TVW_ELEM_F32, 1, &k);
    vi = tvw_net_input_full (net, "idxs", TVW_ELEM_I64, 1, &k);
    tvw_net_set_output (net, tvw_net_batched_nms (net, vb, vs, vi, 0.4));
    g_assert_true (tvw_net_check (net, &error));
    graph_matches_eager (net, 3, in, &tvw_op_batched_nms, NULL, &p, 0, NULL, 0);
  }

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    g_autoptr(GError) error = NULL;
    const gint64 xs[2] = { 3, 17 };
    int unused = 0;
    TestArray x;
    TvwArray q;
    TvwQuantizeParams p = { 0.02, 3, TVW_ELEM_I8 };
    TvwVal v;

    /* quantize then dequantize: the round trip through int8. */
    graph_input (net, rng, "x", 2, xs, &x, &v);
    tvw_net_set_output (net, tvw_net_dequantize (net, tvw_net_quantize (net, v, 0.02, 3,
                                                                       TVW_ELEM_I8)));
    g_assert_true (tvw_net_check (net, &error));
    g_assert_true (tvw_op_eager (&tvw_op_quantize, "test", &p, 1, &x.a, 0, NULL, 1, &q, 1, &error));
    g_assert_no_error (error);
    graph_matches_eager (net, 1, &x.a, &tvw_op_dequantize, &q, &unused, 0, NULL, 0);
    g_free (q.data);
    test_array_clear (&x);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/layer_norm/last-dim", test_layer_norm);
  g_test_add_func ("/tvw/ops/layer_norm/wide-rows", test_layer_norm_wide_rows);
  g_test_add_func ("/tvw/ops/layer_norm_channels/layernorm2d", test_layer_norm_channels);
  g_test_add_func ("/tvw/ops/group_norm/groups", test_group_norm);
  g_test_add_func ("/tvw/ops/group_norm/instance", test_instance_norm);
  g_test_add_func ("/tvw/ops/group_norm/bad-shapes", test_norm_errors);
  g_test_add_func ("/tvw/ops/matmul/broadcast", test_matmul);
  g_test_add_func ("/tvw/ops/matmul/bad-shapes", test_matmul_errors);
  g_test_add_func ("/tvw/ops/interpolate/nearest-bilinear", test_interpolate);
  g_test_add_func ("/tvw/ops/grid_sample/zeros-padding", test_grid_sample);
  g_test_add_func ("/tvw/ops/interpolate/bad-shapes", test_resize_errors);
  g_test_add_func ("/tvw/ops/conv_nd/conv1d", test_conv1d);
  g_test_add_func ("/tvw/ops/conv_nd/conv2d", test_conv2d);
  g_test_add_func ("/tvw/ops/conv_nd/conv3d", test_conv3d);
  g_test_add_func ("/tvw/ops/conv_nd/transposed1d", test_conv_transpose1d);
  g_test_add_func ("/tvw/ops/conv_nd/transposed2d", test_conv_transpose2d);
  g_test_add_func ("/tvw/ops/conv_nd/transposed3d", test_conv_transpose3d);
  g_test_add_func ("/tvw/ops/conv_nd/bad-shapes", test_conv_errors);
  g_test_add_func ("/tvw/ops/max_pool3d/ceil-mode", test_max_pool3d);
  g_test_add_func ("/tvw/ops/avg_pool3d/ceil-count-pad", test_avg_pool3d);
  g_test_add_func ("/tvw/ops/adaptive_avg_pool3d/windows", test_adaptive_avg_pool3d);
  g_test_add_func ("/tvw/ops/max_pool3d/bad-shapes", test_pool3d_errors);
  g_test_add_func ("/tvw/ops/roi_align/sampling", test_roi_align);
  g_test_add_func ("/tvw/ops/roi_align/bad-rois", test_roi_align_errors);
  g_test_add_func ("/tvw/ops/batched_nms/per-class", test_batched_nms);
  g_test_add_func ("/tvw/ops/batched_nms/bad-shapes", test_batched_nms_errors);
  g_test_add_func ("/tvw/ops/quantize/round-half-even", test_quantize);
  g_test_add_func ("/tvw/ops/dequantize/per-tensor-channel", test_dequantize);
  g_test_add_func ("/tvw/ops/quantize/bad-params", test_quant_errors);

  g_test_add_func ("/tvw/ops/layer_norm/graph", test_graph_norms);
  g_test_add_func ("/tvw/ops/layer_norm/graph-bad-dim", test_graph_norm_bad_dim);
  g_test_add_func ("/tvw/ops/matmul/graph-with-resize", test_graph_matmul_resize);
  g_test_add_func ("/tvw/ops/conv_nd/graph", test_graph_conv_nd);
  g_test_add_func ("/tvw/ops/max_pool3d/graph-with-roi-nms-quant", test_graph_pool3d_roi_nms_quant);

  return g_test_run ();
}
