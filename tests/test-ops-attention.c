/* test-ops-attention.c — fused attention and the transformers' helper ops
 * against naive references
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each op runs alone (tvw_op_eager () through the harness, at 1, 2 and 3
 * threads) on random shapes and inputs in every test layout; the
 * references are written here from PyTorch's and torchvision's
 * definitions, step by step as they compute (scores in double, then the
 * softmax, then the product; F.pad, torch.roll and the window views one
 * after the other; the shifted-window mask by torchvision's slice
 * assignments), not by the kernels' shortcuts.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-private.h"
#include "tvw-graph-private.h"
#include "tvw-op-test.h"

static const char *const layout_names[] = { "contiguous", "channels-last", "permuted", "gapped" };

static gint64
numel (int           rank,
       const gint64 *shape)
{
  gint64 n = 1;

  for (int i = 0; i < rank; i++)
    n *= shape[i];
  return n;
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

  test_run_op (cls, params, n_in, in, n_weights, weights, 1, &out, atol);
  worst = test_assert_close (what, &out, rank, shape, want, atol, rtol);
  g_free (out.data);
  return worst;
}

static void
assert_refused (const TvwOpClass *cls,
                gconstpointer     params,
                int               n_in,
                const TvwArray   *in,
                int               n_weights,
                const TvwArray   *weights,
                int               code,
                const char       *expect)
{
  g_autoptr(GError) error = NULL;
  TvwArray out[1];

  g_assert_false (tvw_op_eager (cls, "features.1.0.attn", params, n_in, in, n_weights, weights,
                                1, out, 1, &error));
  g_assert_error (error, TVW_ERROR, code);
  g_assert_nonnull (strstr (error->message, "features.1.0.attn"));
  if (expect != NULL && strstr (error->message, expect) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expect);
}

/* ---- attention ----------------------------------------------------------- */

/* The definition, in double: scores, biases, softmax, product. */
static void
ref_attention (const TvwAttentionParams *p,
               const TvwArray           *q,
               const TvwArray           *k,
               const TvwArray           *v,
               int                       n_bias,
               const TvwArray           *bias,
               const float              *logit_scale,
               double                   *want)
{
  const gint64 b = q->shape[0], h = q->shape[1], lq = q->shape[2], d = q->shape[3];
  const gint64 lk = k->shape[2], dv = v->shape[3];
  g_autofree double *s = g_new (double, lk);

  for (gint64 bi = 0; bi < b; bi++)
    for (gint64 hi = 0; hi < h; hi++)
      for (gint64 i = 0; i < lq; i++)
        {
          double qn = 0, mx = -INFINITY, sum = 0;

          for (gint64 c = 0; c < d; c++)
            qn += get4 (q, bi, hi, i, c) * get4 (q, bi, hi, i, c);
          for (gint64 j = 0; j < lk; j++)
            {
              double dot = 0, kn = 0;

              for (gint64 c = 0; c < d; c++)
                {
                  dot += get4 (q, bi, hi, i, c) * get4 (k, bi, hi, j, c);
                  kn += get4 (k, bi, hi, j, c) * get4 (k, bi, hi, j, c);
                }
              if (p->cosine)
                /* F.normalize (q) @ F.normalize (k)ᵀ · exp (clamp (scale)) */
                s[j] = dot / MAX (sqrt (qn), 1e-12) / MAX (sqrt (kn), 1e-12) *
                       exp (MIN ((double) logit_scale[hi], p->max_log_scale));
              else
                s[j] = dot * p->scale;
              for (int n = 0; n < n_bias; n++)
                s[j] += get4 (&bias[n], bi % bias[n].shape[0], bias[n].shape[1] == 1 ? 0 : hi, i, j);
              mx = MAX (mx, s[j]);
            }
          for (gint64 j = 0; j < lk; j++)
            {
              s[j] = exp (s[j] - mx);
              sum += s[j];
            }
          for (gint64 c = 0; c < dv; c++)
            {
              double o = 0;

              for (gint64 j = 0; j < lk; j++)
                o += s[j] / sum * get4 (v, bi, hi, j, c);
              want[((bi * h + hi) * lq + i) * dv + c] = o;
            }
        }
}

static void
test_attention_random (void)
{
  double worst = 0;

  for (int seed = 0; seed < 6; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1500 + seed * 10 + layout);
        /* Seed 0: one head of many rows (several tiles, split between
         * threads); seeds 4, 5: cosine attention. */
        const gboolean cosine = seed >= 4;
        const gint64 b = seed == 0 ? 1 : g_rand_int_range (rng, 1, 5);
        const gint64 h = seed == 0 ? 1 : g_rand_int_range (rng, 1, 4);
        const gint64 lq = seed == 0 ? 130 : g_rand_int_range (rng, 1, 60);
        const gint64 lk = seed == 0 ? 97 : g_rand_int_range (rng, 1, 60);
        const gint64 d = g_rand_int_range (rng, 1, 40), dv = g_rand_int_range (rng, 1, 40);
        const int n_bias = seed % 3;
        TvwAttentionParams p = {
          .scale = 1.0 / sqrt ((double) d), .cosine = cosine, .max_log_scale = log (100.0),
          .n_bias = n_bias,
        };
        const gint64 qs[4] = { b, h, lq, d }, ks[4] = { b, h, lk, d }, vs[4] = { b, h, lk, dv };
        const gint64 os[4] = { b, h, lq, dv }, ls[3] = { h, 1, 1 };
        TestArray t[3 + TVW_ATTENTION_MAX_BIAS], scale;
        TvwArray in[3 + TVW_ATTENTION_MAX_BIAS];
        g_autofree double *want = g_new (double, numel (4, os));

        test_array_random (&t[0], rng, TVW_ELEM_F32, 4, qs, layout, -1, 1);
        test_array_random (&t[1], rng, TVW_ELEM_F32, 4, ks, (layout + 1) % TEST_N_LAYOUTS, -1, 1);
        test_array_random (&t[2], rng, TVW_ELEM_F32, 4, vs, (layout + 2) % TEST_N_LAYOUTS, -1, 1);
        for (int n = 0; n < n_bias; n++)
          {
            /* A per-window mask (batch b reads b mod Bb) or a per-head bias. */
            gint64 bs[4] = { n == 0 ? 1 : b, n == 0 ? h : 1, lq, lk };

            if (n == 1 && b % 2 == 0)
              bs[0] = 2;
            test_array_random (&t[3 + n], rng, TVW_ELEM_F32, 4, bs, layout, -3, 3);
          }
        test_array_random (&scale, rng, TVW_ELEM_F32, 3, ls, TEST_LAYOUT_CONTIGUOUS, 0, 6);
        for (int i = 0; i < 3 + n_bias; i++)
          in[i] = t[i].a;

        ref_attention (&p, &in[0], &in[1], &in[2], n_bias, &in[3], scale.a.data, want);
        /* Float scores and sums over up to 60 terms of order 1 (logit
         * scales up to e⁶ ≈ 400 before the clamp at 100 make the cosine
         * scores larger, so a looser absolute term there). */
        worst = MAX (worst, run_and_check (layout_names[layout], &tvw_op_attention, &p, 3 + n_bias,
                                           in, cosine ? 1 : 0, &scale.a, 4, os, want,
                                           cosine ? 2e-5 : 1e-5, 1e-5));
        for (int i = 0; i < 3 + n_bias; i++)
          test_array_clear (&t[i]);
        test_array_clear (&scale);
      }
  g_test_message ("attention: max error %g", worst);
}

/* Many keys: tiles of 48 query rows (3 of them, the last short), rows of
 * scores longer than any vector, both biases contiguous (added in the
 * softmax kernel's first pass) and one per head. */
static void
test_attention_long_rows (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1596);
  const gint64 b = 2, h = 2, lq = 100, lk = 203, d = 24, dv = 19;
  const gint64 qs[4] = { b, h, lq, d }, ks[4] = { b, h, lk, d }, vs[4] = { b, h, lk, dv };
  const gint64 os[4] = { b, h, lq, dv }, ms[4] = { 2, 1, lq, lk }, bs[4] = { 1, h, lq, lk };
  TvwAttentionParams p = { .scale = 1.0 / sqrt ((double) d), .n_bias = 2 };
  g_autofree double *want = g_new (double, b * h * lq * dv);
  TestArray t[5];
  TvwArray in[5];

  test_array_random (&t[0], rng, TVW_ELEM_F32, 4, qs, TEST_LAYOUT_CONTIGUOUS, -2, 2);
  test_array_random (&t[1], rng, TVW_ELEM_F32, 4, ks, TEST_LAYOUT_GAPPED, -2, 2);
  test_array_random (&t[2], rng, TVW_ELEM_F32, 4, vs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&t[3], rng, TVW_ELEM_F32, 4, ms, TEST_LAYOUT_GAPPED, -4, 4);
  test_array_random (&t[4], rng, TVW_ELEM_F32, 4, bs, TEST_LAYOUT_CONTIGUOUS, -4, 4);
  for (int i = 0; i < 5; i++)
    in[i] = t[i].a;
  ref_attention (&p, &in[0], &in[1], &in[2], 2, &in[3], NULL, want);
  /* As random-strides: float scores, sums of 203 terms of order 1. */
  run_and_check ("long rows", &tvw_op_attention, &p, 5, in, 0, NULL, 4, os, want, 1e-5, 1e-5);
  for (int i = 0; i < 5; i++)
    test_array_clear (&t[i]);
}

/* Rows whose scores are all −∞, or have a NaN or a +∞, give NaN, as
 * torch.softmax does (−∞ − −∞ and ∞ − ∞ are NaN); a row with some −∞
 * ignores those keys. */
static void
test_attention_non_finite_scores (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1595);
  const gint64 lq = 5, lk = 37, d = 8, dv = 6;
  const gint64 qs[4] = { 1, 1, lq, d }, ks[4] = { 1, 1, lk, d }, vs[4] = { 1, 1, lk, dv };
  const gint64 ms[4] = { 1, 1, lq, lk };
  TvwAttentionParams p = { .scale = 0.5, .n_bias = 1 };
  g_autoptr(GError) error = NULL;
  double want[5 * 6];
  TestArray t[4];
  TvwArray in[4], out;
  float *mask;

  test_array_random (&t[0], rng, TVW_ELEM_F32, 4, qs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&t[1], rng, TVW_ELEM_F32, 4, ks, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&t[2], rng, TVW_ELEM_F32, 4, vs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&t[3], rng, TVW_ELEM_F32, 4, ms, TEST_LAYOUT_CONTIGUOUS, 0, 0);
  mask = t[3].a.data;
  for (gint64 j = 0; j < lk; j++)
    {
      mask[0 * lk + j] = -INFINITY;                /* row 0: nothing to attend to */
      mask[1 * lk + j] = j % 3 ? -INFINITY : 0;    /* row 1: every third key */
    }
  mask[2 * lk + 30] = NAN;
  mask[3 * lk + 35] = INFINITY;
  for (int i = 0; i < 4; i++)
    in[i] = t[i].a;
  ref_attention (&p, &in[0], &in[1], &in[2], 1, &in[3], NULL, want);

  g_assert_true (tvw_op_eager (&tvw_op_attention, "attn", &p, 4, in, 0, NULL, 1, &out, 1, &error));
  g_assert_no_error (error);
  for (gint64 i = 0; i < lq; i++)
    for (gint64 c = 0; c < dv; c++)
      {
        const double got = get4 (&out, 0, 0, i, c);

        if (i == 0 || i == 2 || i == 3)
          g_assert_true (isnan (got));
        else
          g_assert_cmpfloat_with_epsilon (got, want[i * dv + c], 1e-5);
      }
  g_free (out.data);
  for (int i = 0; i < 4; i++)
    test_array_clear (&t[i]);
}

static float *
random_param (TvwNet     *net,
              const char *name,
              GRand      *rng)
{
  gint64 numel = 0;
  float *p = tvw_net_lookup_param (net, name, &numel);

  g_assert_nonnull (p);
  for (gint64 i = 0; i < numel; i++)
    p[i] = test_rand_float (rng, -0.5, 0.5);
  return p;
}

/* A transformer layer's two residual connections, z = t + fc1 (t) and
 * fc2 (GELU (z)) + z over the tokens t of a permuted (strided) map: the
 * passes make both additions the linear layers' epilogues (no binary
 * node is left), whichever operand of the addition the layer's output
 * is, and the result is the definition's. */
static void
test_linear_residual_fused (void)
{
  for (guint seed = 0; seed < 3; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1590 + seed);
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      const int order[4] = { 0, 2, 3, 1 };
      const int n = 1 + seed % 2, c = g_rand_int_range (rng, 3, 40);
      const int h = g_rand_int_range (rng, 1, 9), w = g_rand_int_range (rng, 1, 9);
      g_autofree float *input = g_new (float, n * c * h * w);
      g_autofree float *out = NULL;
      g_autofree double *z = g_new (double, c);
      float *w1, *b1, *w2, *b2;
      gint64 shape[TVW_MAX_RANK];
      guint n_dims, live_adds = 0, fused = 0;
      TvwVal x = tvw_net_input (net, c), t, y;

      t = tvw_net_permute (net, x, order);
      y = tvw_net_add (net, t, tvw_net_linear (net, t, "fc1", c, TRUE));
      y = tvw_net_add (net, tvw_net_linear (net, tvw_net_activation (net, y, TVW_ACT_GELU), "fc2",
                                            c, TRUE), y);
      tvw_net_set_output (net, y);
      g_assert_true (tvw_net_check (net, &error));
      g_assert_no_error (error);
      tvw_net_init_random (net, seed);
      w1 = random_param (net, "fc1.weight", rng);
      b1 = random_param (net, "fc1.bias", rng);
      w2 = random_param (net, "fc2.weight", rng);
      b2 = random_param (net, "fc2.bias", rng);
      for (int i = 0; i < n * c * h * w; i++)
        input[i] = test_rand_float (rng, -2, 2);

      g_assert_true (tvw_net_prepare (net, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < net->nodes->len; i++)
        {
          TvwNode *node = tvw_net_node (net, i);

          if (node->dead)
            continue;
          live_adds += node->call.cls == &tvw_op_binary;
          if (node->call.cls == &tvw_op_linear)
            fused += ((TvwConvOpParams *) node->call.params)->residual;
        }
      g_assert_cmpuint (live_adds, ==, 0);
      g_assert_cmpuint (fused, ==, 2);

      g_assert_true (tvw_net_run (net, input, n, h, w, 1 + seed, NULL, &out, shape, &n_dims,
                                  &error));
      g_assert_no_error (error);
      g_assert_cmpuint (n_dims, ==, 4);
      g_assert_cmpint (shape[3], ==, c);

      for (int b = 0; b < n; b++)
        for (int p = 0; p < h * w; p++)
          for (int o = 0; o < c; o++)
            {
              const gsize at = ((gsize) b * h * w + p) * c + o;
              double acc = b2[o], want;

              for (int k = 0; k < c; k++)
                {
                  double a1 = b1[k];

                  for (int i = 0; i < c; i++)
                    a1 += (double) w1[k * c + i] * input[((gsize) b * c + i) * h * w + p];
                  z[k] = input[((gsize) b * c + k) * h * w + p] + a1;
                }
              for (int k = 0; k < c; k++)
                acc += w2[o * c + k] * 0.5 * z[k] * (1.0 + erf (z[k] / sqrt (2.0)));
              want = z[o] + acc;
              /* float GEMMs over < 40 terms of size ≤ 2·0.5, the GELU's
               * erf to ~1e-7 relative. */
              if (!(fabs (out[at] - want) <= 1e-4 * MAX (1.0, fabs (want))))
                g_error ("element %" G_GSIZE_FORMAT ": %.7g, expected %.7g", at, out[at], want);
            }
    }
}

static void
test_attention_output_is_transposed (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1599);
  const gint64 qs[4] = { 2, 3, 5, 4 };
  TvwAttentionParams p = { .scale = 0.5 };
  g_autoptr(GError) error = NULL;
  TestArray t[3];
  TvwArray in[3], out;

  for (int i = 0; i < 3; i++)
    {
      test_array_random (&t[i], rng, TVW_ELEM_F32, 4, qs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
      in[i] = t[i].a;
    }
  g_assert_true (tvw_op_eager (&tvw_op_attention, "attn", &p, 3, in, 0, NULL, 1, &out, 1, &error));
  g_assert_no_error (error);
  /* [B, H, L, D] stored as [B, L, H, D]: transpose (1, 2) is contiguous. */
  g_assert_cmpint (out.stride[3], ==, 1);
  g_assert_cmpint (out.stride[1], ==, 4);
  g_assert_cmpint (out.stride[2], ==, 3 * 4);
  g_assert_cmpint (out.stride[0], ==, 5 * 3 * 4);
  g_free (out.data);
  for (int i = 0; i < 3; i++)
    test_array_clear (&t[i]);
}

/* Heads of size 0: every score is 0, the softmax uniform, the output the
 * mean of V's rows (PyTorch gives the same). */
static void
test_attention_empty_head (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1597);
  const gint64 qs[4] = { 1, 2, 3, 0 }, ks[4] = { 1, 2, 4, 0 }, vs[4] = { 1, 2, 4, 5 };
  const gint64 os[4] = { 1, 2, 3, 5 };
  TvwAttentionParams p = { .scale = 1 };
  TestArray q, k, v;
  TvwArray in[3];
  double want[2 * 3 * 5];

  test_array_random (&q, rng, TVW_ELEM_F32, 4, qs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&k, rng, TVW_ELEM_F32, 4, ks, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&v, rng, TVW_ELEM_F32, 4, vs, TEST_LAYOUT_GAPPED, -1, 1);
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 3; i++)
      for (int c = 0; c < 5; c++)
        {
          double sum = 0;

          for (int j = 0; j < 4; j++)
            sum += get4 (&v.a, 0, h, j, c);
          want[(h * 3 + i) * 5 + c] = sum / 4;
        }
  in[0] = q.a;
  in[1] = k.a;
  in[2] = v.a;
  run_and_check ("empty", &tvw_op_attention, &p, 3, in, 0, NULL, 4, os, want, 1e-6, 1e-6);
  test_array_clear (&q);
  test_array_clear (&k);
  test_array_clear (&v);
}

static void
test_attention_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1598);
  const gint64 qs[4] = { 4, 2, 5, 8 }, ks[4] = { 4, 2, 6, 8 }, bad_k[4] = { 4, 2, 6, 7 };
  const gint64 mask[4] = { 3, 1, 5, 6 }, ok_mask[4] = { 2, 1, 5, 6 };
  TvwAttentionParams p = { .scale = 1 };
  TestArray q, k, bk, m, om;
  TvwArray in[4];

  test_array_random (&q, rng, TVW_ELEM_F32, 4, qs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&k, rng, TVW_ELEM_F32, 4, ks, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&bk, rng, TVW_ELEM_F32, 4, bad_k, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&m, rng, TVW_ELEM_F32, 4, mask, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&om, rng, TVW_ELEM_F32, 4, ok_mask, TEST_LAYOUT_CONTIGUOUS, -1, 1);

  /* Head sizes 8 and 7. */
  in[0] = q.a;
  in[1] = bk.a;
  in[2] = bk.a;
  assert_refused (&tvw_op_attention, &p, 3, in, 0, NULL, TVW_ERROR_SHAPE_MISMATCH, "[4, 2, 6, 7]");
  /* A mask of 3 windows over a batch of 4. */
  in[1] = k.a;
  in[2] = k.a;
  in[3] = m.a;
  p.n_bias = 1;
  assert_refused (&tvw_op_attention, &p, 4, in, 0, NULL, TVW_ERROR_SHAPE_MISMATCH, "[3, 1, 5, 6]");
  /* Two windows do: and the bias count must match the inputs. */
  in[3] = om.a;
  p.n_bias = 2;
  assert_refused (&tvw_op_attention, &p, 4, in, 0, NULL, TVW_ERROR_INVALID_ARGUMENT, "biases");

  test_array_clear (&q);
  test_array_clear (&k);
  test_array_clear (&bk);
  test_array_clear (&m);
  test_array_clear (&om);
}

/* ---- parameter ------------------------------------------------------------ */

static void
test_parameter_expand (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1600);
  const gint64 ws[3] = { 1, 3, 4 }, xs[4] = { 5, 3, 8, 8 }, os[3] = { 5, 3, 4 };
  TvwParameterParams p = { .expand = TRUE, .zero_begin = 2, .zero_end = 7 };
  TestArray w, x;
  double want[5 * 12];

  test_array_random (&w, rng, TVW_ELEM_F32, 3, ws, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_PERMUTED, -1, 1);
  for (int n = 0; n < 5; n++)
    for (int i = 0; i < 12; i++)
      want[n * 12 + i] = i >= 2 && i < 7 ? 0 : ((const float *) w.a.data)[i];
  run_and_check ("expand", &tvw_op_parameter, &p, 1, &x.a, 1, &w.a, 3, os, want, 0, 0);

  /* Without an input, the weight as it is. */
  p = (TvwParameterParams) { 0 };
  for (int i = 0; i < 12; i++)
    want[i] = ((const float *) w.a.data)[i];
  run_and_check ("plain", &tvw_op_parameter, &p, 0, NULL, 1, &w.a, 3, ws, want, 0, 0);

  /* ViT's size check names the size it needs. */
  p = (TvwParameterParams) { .expand = TRUE, .need_h = 384, .need_w = 384 };
  assert_refused (&tvw_op_parameter, &p, 1, &x.a, 1, &w.a, TVW_ERROR_INVALID_ARGUMENT, "384×384");
  /* Only a dimension of size 1 expands. */
  p = (TvwParameterParams) { .expand = TRUE };
  {
    const gint64 ws2[2] = { 2, 6 };
    TestArray w2;

    test_array_random (&w2, rng, TVW_ELEM_F32, 2, ws2, TEST_LAYOUT_CONTIGUOUS, -1, 1);
    assert_refused (&tvw_op_parameter, &p, 1, &x.a, 1, &w2.a, TVW_ERROR_SHAPE_MISMATCH, "size 1");
    test_array_clear (&w2);
  }

  test_array_clear (&w);
  test_array_clear (&x);
}

/* ---- relative_position_bias ------------------------------------------------ */

static void
test_relative_position_bias (void)
{
  /* torchvision's relative_position_index for a 2×3 window (printed by
   * ShiftedWindowAttention (8, [2, 3], [0, 0], 2)). */
  static const int torch_index[36] = {
    7, 6, 5, 2, 1, 0, 8, 7, 6, 3, 2, 1, 9, 8, 7, 4, 3, 2,
    12, 11, 10, 7, 6, 5, 13, 12, 11, 8, 7, 6, 14, 13, 12, 9, 8, 7,
  };
  g_autoptr(GRand) rng = g_rand_new_with_seed (1601);
  const gint64 ts[2] = { 3 * 5, 4 }, os[4] = { 1, 4, 6, 6 };
  TestArray t;
  double want[4 * 36];

  for (int sigmoid = 0; sigmoid < 2; sigmoid++)
    {
      TvwRelPosBiasParams p = { 2, 3, sigmoid };

      test_array_random (&t, rng, TVW_ELEM_F32, 2, ts, TEST_LAYOUT_CONTIGUOUS, -4, 4);
      /* table[index].view (L, L, H).permute (2, 0, 1) */
      for (int h = 0; h < 4; h++)
        for (int ij = 0; ij < 36; ij++)
          {
            double v = ((const float *) t.a.data)[torch_index[ij] * 4 + h];

            want[h * 36 + ij] = sigmoid ? 16 / (1 + exp (-v)) : v;
          }
      run_and_check (sigmoid ? "sigmoid" : "table", &tvw_op_relative_position_bias, &p, 1, &t.a,
                     0, NULL, 4, os, want, 1e-6, 1e-6);
      test_array_clear (&t);
    }

  {
    TvwRelPosBiasParams p = { 3, 3, FALSE };

    test_array_random (&t, rng, TVW_ELEM_F32, 2, ts, TEST_LAYOUT_CONTIGUOUS, -4, 4);
    assert_refused (&tvw_op_relative_position_bias, &p, 1, &t.a, 0, NULL,
                    TVW_ERROR_SHAPE_MISMATCH, "3×3 window");
    test_array_clear (&t);
  }
}

/* ---- Swin's windows --------------------------------------------------------- */

/* F.pad to whole windows, then torch.roll by −shift (no shift along an axis
 * of one window), then view / permute / reshape into windows: @want is
 * [N·windows, wh·ww, C]. */
static void
ref_window_partition (const TvwArray *x,
                      int             wh,
                      int             ww,
                      int             sh,
                      int             sw,
                      gint64         *n_windows,
                      double        **want)
{
  const gint64 n = x->shape[0], h = x->shape[1], w = x->shape[2], c = x->shape[3];
  const gint64 ph = h + (wh - h % wh) % wh, pw = w + (ww - w % ww) % ww;
  g_autofree double *padded = g_new0 (double, n * ph * pw * c);
  g_autofree double *rolled = g_new0 (double, n * ph * pw * c);
  const gint64 nh = ph / wh, nw = pw / ww;

  if (wh >= ph)
    sh = 0;
  if (ww >= pw)
    sw = 0;
  for (gint64 b = 0; b < n; b++)
    for (gint64 y = 0; y < h; y++)
      for (gint64 xx = 0; xx < w; xx++)
        for (gint64 k = 0; k < c; k++)
          padded[((b * ph + y) * pw + xx) * c + k] = get4 (x, b, y, xx, k);
  /* torch.roll (shifts = −s): out[i] = in[(i + s) mod size] */
  for (gint64 b = 0; b < n; b++)
    for (gint64 y = 0; y < ph; y++)
      for (gint64 xx = 0; xx < pw; xx++)
        memcpy (&rolled[((b * ph + y) * pw + xx) * c],
                &padded[((b * ph + (y + sh) % ph) * pw + (xx + sw) % pw) * c], c * sizeof (double));
  *n_windows = n * nh * nw;
  *want = g_new (double, n * ph * pw * c);
  /* view (N, nh, wh, nw, ww, C).permute (0, 1, 3, 2, 4, 5) */
  for (gint64 b = 0; b < n; b++)
    for (gint64 i = 0; i < nh; i++)
      for (gint64 j = 0; j < nw; j++)
        for (gint64 a = 0; a < wh; a++)
          for (gint64 e = 0; e < ww; e++)
            memcpy (&(*want)[((((b * nh + i) * nw + j) * wh + a) * ww + e) * c],
                    &rolled[((b * ph + i * wh + a) * pw + j * ww + e) * c], c * sizeof (double));
}

static void
test_window_partition_random (void)
{
  for (int seed = 0; seed < 4; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1700 + seed * 10 + layout);
        const int wh = g_rand_int_range (rng, 1, 6), ww = g_rand_int_range (rng, 1, 6);
        TvwWindowParams p = { wh, ww, g_rand_int_range (rng, 0, wh), g_rand_int_range (rng, 0, ww) };
        /* Seed 0: a map smaller than a window (padded, shift dropped). */
        const gint64 xs[4] = {
          g_rand_int_range (rng, 1, 3),
          seed == 0 ? MAX (wh - 1, 1) : g_rand_int_range (rng, 1, 17),
          g_rand_int_range (rng, 1, 17), g_rand_int_range (rng, 1, 9),
        };
        g_autofree double *want = NULL;
        gint64 windows, os[3];
        TestArray x;

        test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);
        ref_window_partition (&x.a, wh, ww, p.shift_h, p.shift_w, &windows, &want);
        os[0] = windows;
        os[1] = (gint64) wh * ww;
        os[2] = xs[3];
        run_and_check (layout_names[layout], &tvw_op_window_partition, &p, 1, &x.a, 0, NULL,
                       3, os, want, 0, 0);

        /* And back: window_merge of the partition is the map itself. */
        {
          TvwArray parts, in[2];
          g_autoptr(GError) error = NULL;
          g_autofree double *same = g_new (double, numel (4, xs));
          gint64 idx[4];

          g_assert_true (tvw_op_eager (&tvw_op_window_partition, "p", &p, 1, &x.a, 0, NULL, 1,
                                       &parts, 1, &error));
          g_assert_no_error (error);
          for (gint64 f = 0; f < numel (4, xs); f++)
            {
              test_unflatten (&x.a, f, idx);
              same[f] = test_array_get (&x.a, idx);
            }
          in[0] = parts;
          in[1] = x.a;
          run_and_check ("merge", &tvw_op_window_merge, &p, 2, in, 0, NULL, 4, xs, same, 0, 0);
          g_free (parts.data);
        }
        test_array_clear (&x);
      }
}

/* Swin's attn_mask, by its slice assignments on the padded map. */
static void
ref_window_mask (gint64  h,
                 gint64  w,
                 int     wh,
                 int     ww,
                 int     sh,
                 int     sw,
                 double *want)
{
  const gint64 ph = h + (wh - h % wh) % wh, pw = w + (ww - w % ww) % ww;
  const gint64 nh = ph / wh, nw = pw / ww, l = (gint64) wh * ww;
  g_autofree int *img = g_new0 (int, ph * pw);
  gint64 hs[3][2], ws[3][2];
  int count = 0;

  if (wh >= ph)
    sh = 0;
  if (ww >= pw)
    sw = 0;
  /* ((0, −window), (−window, −shift), (−shift, None)) as Python slices */
  hs[0][0] = 0, hs[0][1] = ph - wh, hs[1][0] = ph - wh, hs[1][1] = ph - sh, hs[2][0] = sh ? ph - sh : 0, hs[2][1] = ph;
  ws[0][0] = 0, ws[0][1] = pw - ww, ws[1][0] = pw - ww, ws[1][1] = pw - sw, ws[2][0] = sw ? pw - sw : 0, ws[2][1] = pw;
  if (sh == 0)
    hs[1][1] = 0;    /* -0 is 0: an empty slice */
  if (sw == 0)
    ws[1][1] = 0;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++, count++)
      for (gint64 y = hs[a][0]; y < hs[a][1]; y++)
        for (gint64 x = ws[b][0]; x < ws[b][1]; x++)
          img[y * pw + x] = count;
  for (gint64 i = 0; i < nh; i++)
    for (gint64 j = 0; j < nw; j++)
      for (gint64 a = 0; a < l; a++)
        for (gint64 b = 0; b < l; b++)
          {
            const int ma = img[(i * wh + a / ww) * pw + j * ww + a % ww];
            const int mb = img[(i * wh + b / ww) * pw + j * ww + b % ww];

            want[((i * nw + j) * l + a) * l + b] = ma == mb ? 0 : -100;
          }
}

static void
test_window_mask_random (void)
{
  for (int seed = 0; seed < 8; seed++)
    {
      g_autoptr(GRand) rng = g_rand_new_with_seed (1800 + seed);
      const int wh = g_rand_int_range (rng, 1, 8), ww = g_rand_int_range (rng, 1, 8);
      TvwWindowParams p = { wh, ww, wh / 2, seed == 3 ? 0 : ww / 2 };
      const gint64 xs[4] = { 2, g_rand_int_range (rng, 1, 30), g_rand_int_range (rng, 1, 30), 3 };
      const gint64 ph = xs[1] + (wh - xs[1] % wh) % wh, pw = xs[2] + (ww - xs[2] % ww) % ww;
      const gint64 os[4] = { (ph / wh) * (pw / ww), 1, (gint64) wh * ww, (gint64) wh * ww };
      g_autofree double *want = g_new (double, numel (4, os));
      TestArray x;

      test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
      ref_window_mask (xs[1], xs[2], wh, ww, p.shift_h, p.shift_w, want);
      run_and_check ("mask", &tvw_op_window_mask, &p, 1, &x.a, 0, NULL, 4, os, want, 0, 0);
      test_array_clear (&x);
    }
}

static void
test_window_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1802);
  const gint64 xs[4] = { 1, 14, 14, 4 }, ws[3] = { 5, 49, 4 };
  TvwWindowParams p = { 7, 7, 7, 0 };
  TestArray x, w;
  TvwArray in[2];

  test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w, rng, TVW_ELEM_F32, 3, ws, TEST_LAYOUT_CONTIGUOUS, -1, 1);
  /* A shift of a whole window. */
  assert_refused (&tvw_op_window_partition, &p, 1, &x.a, 0, NULL, TVW_ERROR_INVALID_ARGUMENT, "7×7");
  /* 5 windows do not tile a 14×14 map of 7×7 windows. */
  p.shift_h = 3;
  in[0] = w.a;
  in[1] = x.a;
  assert_refused (&tvw_op_window_merge, &p, 2, in, 0, NULL, TVW_ERROR_SHAPE_MISMATCH, "[5, 49, 4]");
  test_array_clear (&x);
  test_array_clear (&w);
}

/* ---- patch_merge ------------------------------------------------------------ */

static void
test_patch_merge_random (void)
{
  /* torch.cat ([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2]], -1)
   * after F.pad to even sizes */
  static const int dy[4] = { 0, 1, 0, 1 }, dx[4] = { 0, 0, 1, 1 };

  for (int seed = 0; seed < 3; seed++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (1900 + seed * 10 + layout);
        const gint64 xs[4] = {
          g_rand_int_range (rng, 1, 3), g_rand_int_range (rng, 1, 12),
          g_rand_int_range (rng, 1, 12), g_rand_int_range (rng, 1, 7),
        };
        const gint64 os[4] = { xs[0], (xs[1] + 1) / 2, (xs[2] + 1) / 2, 4 * xs[3] };
        g_autofree double *want = g_new (double, numel (4, os));
        TestArray x;

        test_array_random (&x, rng, TVW_ELEM_F32, 4, xs, layout, -1, 1);
        for (gint64 b = 0; b < os[0]; b++)
          for (gint64 y = 0; y < os[1]; y++)
            for (gint64 xx = 0; xx < os[2]; xx++)
              for (int part = 0; part < 4; part++)
                for (gint64 c = 0; c < xs[3]; c++)
                  {
                    const gint64 sy = 2 * y + dy[part], sx = 2 * xx + dx[part];

                    want[((b * os[1] + y) * os[2] + xx) * os[3] + part * xs[3] + c] =
                      sy < xs[1] && sx < xs[2] ? get4 (&x.a, b, sy, sx, c) : 0;
                  }
        run_and_check (layout_names[layout], &tvw_op_patch_merge, NULL, 1, &x.a, 0, NULL, 4, os,
                       want, 0, 0);
        test_array_clear (&x);
      }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/attention/random-strides", test_attention_random);
  g_test_add_func ("/tvw/ops/attention/long-rows", test_attention_long_rows);
  g_test_add_func ("/tvw/ops/attention/non-finite-scores", test_attention_non_finite_scores);
  g_test_add_func ("/tvw/ops/attention/output-is-transposed", test_attention_output_is_transposed);
  g_test_add_func ("/tvw/ops/linear/residual-fused", test_linear_residual_fused);
  g_test_add_func ("/tvw/ops/attention/empty-head", test_attention_empty_head);
  g_test_add_func ("/tvw/ops/attention/errors", test_attention_errors);
  g_test_add_func ("/tvw/ops/parameter/expand-zero-and-size", test_parameter_expand);
  g_test_add_func ("/tvw/ops/relative_position_bias/torchvision-index", test_relative_position_bias);
  g_test_add_func ("/tvw/ops/window_partition/pad-roll-partition", test_window_partition_random);
  g_test_add_func ("/tvw/ops/window_merge/inverse-of-partition", test_window_partition_random);
  g_test_add_func ("/tvw/ops/window_mask/torchvision-slices", test_window_mask_random);
  g_test_add_func ("/tvw/ops/window_merge/errors", test_window_errors);
  g_test_add_func ("/tvw/ops/patch_merge/random-strides", test_patch_merge_random);

  return g_test_run ();
}
