/* test-ops-mvit.c — MViT's ops against their definitions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each op runs alone (tvw_op_eager () through the harness, at 1, 2 and 3
 * threads) on random inputs in every test layout (the ops read row-major:
 * the others are staged).  The references follow torchvision's
 * models/video/mvit.py step by step in double: PositionalEncoding's
 * concatenation and sums; Pool's split of the class token, transpose,
 * reshape to a C×T×H×W map, Conv3d (groups = C) or MaxPool3d, and the way
 * back; _add_rel_pos's distances, gathers, einsums and broadcast sum.
 * One case of _add_rel_pos with interpolated tables is checked against
 * numbers printed by torchvision itself.  Tolerance 1e-5 absolute plus
 * 1e-5 relative: float32 sums of at most 27 products of values of order 1.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-op-test.h"

#define ATOL 1e-5
#define RTOL 1e-5

static double
check_op (const char       *what,
          const TvwOpClass *cls,
          gconstpointer     params,
          const TvwArray   *in,
          int               n_weights,
          const TvwArray   *weights,
          int               rank,
          const gint64     *shape,
          const double     *want)
{
  TvwArray out;
  double worst;

  test_run_op (cls, params, 1, in, n_weights, weights, 1, &out, 1e-6);
  worst = test_assert_close (what, &out, rank, shape, want, ATOL, RTOL);
  g_free (out.data);
  return worst;
}

static void
assert_refused (const TvwOpClass *cls,
                gconstpointer     params,
                const TvwArray   *in,
                int               n_weights,
                const TvwArray   *weights,
                const char       *expect)
{
  g_autoptr(GError) error = NULL;
  TvwArray out[1];

  g_assert_false (tvw_op_eager (cls, "blocks.3.attn.pool_k.pool", params, 1, in, n_weights,
                                weights, 1, out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "blocks.3.attn.pool_k.pool"));
  if (strstr (error->message, expect) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expect);
}

/* ---- mvit_pos_encoding ------------------------------------------------------ */

static void
test_pos_encoding (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1901);
  const gint64 n = 2, t = 3, hw = 4, c = 5, l = t * hw;

  for (int with_pos = 0; with_pos < 2; with_pos++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        TvwMvitPosEncodingParams p = { with_pos, t, hw };
        const gint64 out_shape[3] = { n, l + 1, c };
        g_autofree double *want = g_new (double, n * (l + 1) * c);
        TestArray x, w[4];
        TvwArray weights[4];
        const gint64 shapes[4][2] = { { c }, { hw, c }, { t, c }, { c } };
        const int ranks[4] = { 1, 2, 2, 1 };

        test_array_random (&x, rng, TVW_ELEM_F32, 3, (gint64[]) { n, l, c }, layout, -2, 2);
        for (int i = 0; i < 4; i++)
          {
            test_array_random (&w[i], rng, TVW_ELEM_F32, ranks[i], shapes[i],
                               TEST_LAYOUT_CONTIGUOUS, -1, 1);
            weights[i] = w[i].a;
          }

        /* x = cat (class_token, x); x += cat (class_pos, repeat_interleave
         * (temporal_pos, hw) + spatial_pos.expand (t, …)) */
        for (gint64 b = 0; b < n; b++)
          for (gint64 i = 0; i <= l; i++)
            for (gint64 j = 0; j < c; j++)
              {
                double v = i == 0 ? test_array_get (&w[0].a, (gint64[]) { j })
                                  : test_array_get (&x.a, (gint64[]) { b, i - 1, j });

                if (with_pos && i == 0)
                  v += test_array_get (&w[3].a, (gint64[]) { j });
                else if (with_pos)
                  v += test_array_get (&w[2].a, (gint64[]) { (i - 1) / hw, j }) +
                       test_array_get (&w[1].a, (gint64[]) { (i - 1) % hw, j });
                want[(b * (l + 1) + i) * c + j] = v;
              }

        check_op (with_pos ? "with positions" : "class token", &tvw_op_mvit_pos_encoding, &p,
                  &x.a, with_pos ? 4 : 1, weights, 3, out_shape, want);

        test_array_clear (&x);
        for (int i = 0; i < 4; i++)
          test_array_clear (&w[i]);
      }
}

static void
test_pos_encoding_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1902);
  g_autoptr(GError) error = NULL;
  TvwMvitPosEncodingParams p = { TRUE, 3, 4 };
  TestArray x, w[4];
  TvwArray weights[4], out[1];
  const gint64 shapes[4][2] = { { 5 }, { 4, 5 }, { 3, 5 }, { 5 } };
  const int ranks[4] = { 1, 2, 2, 1 };

  /* 11 tokens are not 3×4 positions (a clip of another size). */
  test_array_random (&x, rng, TVW_ELEM_F32, 3, (gint64[]) { 1, 11, 5 }, TEST_LAYOUT_CONTIGUOUS,
                     -1, 1);
  for (int i = 0; i < 4; i++)
    {
      test_array_random (&w[i], rng, TVW_ELEM_F32, ranks[i], shapes[i], TEST_LAYOUT_CONTIGUOUS,
                         -1, 1);
      weights[i] = w[i].a;
    }
  g_assert_false (tvw_op_eager (&tvw_op_mvit_pos_encoding, "pos_encoding", &p, 1, &x.a, 4,
                                weights, 1, out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "pos_encoding"));
  g_assert_nonnull (strstr (error->message, "3×4 positions"));


  /* The same without the embeddings (V2). */
  g_clear_error (&error);
  p.with_pos = FALSE;
  g_assert_false (tvw_op_eager (&tvw_op_mvit_pos_encoding, "pos_encoding", &p, 1, &x.a, 1,
                                weights, 1, out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
  g_assert_nonnull (strstr (error->message, "3×4 positions"));

  test_array_clear (&x);
  for (int i = 0; i < 4; i++)
    test_array_clear (&w[i]);
}

/* ---- mvit_pool ---------------------------------------------------------------- */

/* Pool.forward by its steps: class token split off, [B, N, L, C] →
 * transpose (2, 3) → reshape (B·N, C, T, H, W) → pool → back. */
static void
ref_pool (const TvwMvitPoolParams *p,
          const TvwArray          *x,
          const TvwArray          *weight,
          const int                out_thw[3],
          double                  *want)
{
  const gboolean rank3 = x->rank == 3;
  const gint64 bn = rank3 ? x->shape[0] : x->shape[0] * x->shape[1];
  const gint64 heads = rank3 ? 1 : x->shape[1];
  const gint64 c = x->shape[x->rank - 1];
  const int t = p->thw[0], h = p->thw[1], w = p->thw[2];
  const gint64 l = (gint64) t * h * w;
  const gint64 ol = (gint64) out_thw[0] * out_thw[1] * out_thw[2];
  g_autofree double *map = g_new (double, c * l);

  for (gint64 plane = 0; plane < bn; plane++)
    {
      const gint64 b = plane / heads, hd = plane % heads;
      double *dst = want + plane * (1 + ol) * c;

#define X(token, ch) (rank3 ? test_array_get (x, (gint64[]) { b, token, ch }) \
                            : test_array_get (x, (gint64[]) { b, hd, token, ch }))
      for (gint64 ch = 0; ch < c; ch++)
        {
          dst[ch] = X (0, ch);
          for (gint64 i = 0; i < l; i++)
            map[ch * l + i] = X (1 + i, ch);
        }
#undef X

      for (gint64 ch = 0; ch < c; ch++)
        for (int ot = 0; ot < out_thw[0]; ot++)
          for (int oy = 0; oy < out_thw[1]; oy++)
            for (int ox = 0; ox < out_thw[2]; ox++)
              {
                double acc = p->max ? -INFINITY : 0;

                for (int kt = 0; kt < p->kernel[0]; kt++)
                  for (int ky = 0; ky < p->kernel[1]; ky++)
                    for (int kx = 0; kx < p->kernel[2]; kx++)
                      {
                        const int it = ot * p->stride[0] - p->padding[0] + kt;
                        const int iy = oy * p->stride[1] - p->padding[1] + ky;
                        const int ix = ox * p->stride[2] - p->padding[2] + kx;
                        double v;

                        if (it < 0 || it >= t || iy < 0 || iy >= h || ix < 0 || ix >= w)
                          continue;
                        v = map[ch * l + ((gint64) it * h + iy) * w + ix];
                        if (p->max)
                          acc = MAX (acc, v);
                        else
                          acc += v * test_array_get (weight, (gint64[]) { ch, 0, kt, ky, kx });
                      }
                dst[(1 + ((gint64) ot * out_thw[1] + oy) * out_thw[2] + ox) * c + ch] = acc;
              }
    }
}

static void
check_pool (GRand                   *rng,
            const TvwMvitPoolParams *p,
            int                      rank,
            gint64                   batch,
            gint64                   heads,
            gint64                   channels,
            const int                expect_thw[3])
{
  const gint64 tokens = 1 + (gint64) p->thw[0] * p->thw[1] * p->thw[2];

  for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
    {
      gint64 shape[4], out_shape[4];
      g_autofree double *want = NULL;
      TestArray x, w;
      int out_thw[3];
      gint64 n = 1;

      if (rank == 3)
        memcpy (shape, (gint64[]) { batch, tokens, channels }, 3 * sizeof (gint64));
      else
        memcpy (shape, (gint64[]) { batch, heads, tokens, channels }, 4 * sizeof (gint64));
      test_array_random (&x, rng, TVW_ELEM_F32, rank, shape, layout, -2, 2);
      test_array_random (&w, rng, TVW_ELEM_F32, 5,
                         (gint64[]) { channels, 1, p->kernel[0], p->kernel[1], p->kernel[2] },
                         TEST_LAYOUT_CONTIGUOUS, -1, 1);

      tvw_mvit_pool_out_thw (p, out_thw);
      g_assert_cmpmem (out_thw, sizeof out_thw, expect_thw, 3 * sizeof (int));
      memcpy (out_shape, shape, rank * sizeof (gint64));
      out_shape[rank - 2] = 1 + (gint64) out_thw[0] * out_thw[1] * out_thw[2];
      for (int i = 0; i < rank; i++)
        n *= out_shape[i];
      want = g_new (double, n);
      ref_pool (p, &x.a, &w.a, out_thw, want);
      check_op (p->max ? "max" : "conv", &tvw_op_mvit_pool, p, &x.a, p->max ? 0 : 1, &w.a,
                rank, out_shape, want);

      test_array_clear (&x);
      test_array_clear (&w);
    }
}

static void
test_pool_conv (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1903);
  /* MViT's: 3×3×3, padding 1, strides 1×1×1, 1×2×2, 1×4×4 (odd sizes
   * too); and a kernel / stride / padding of each size per axis. */
  const TvwMvitPoolParams cases[] = {
    { { 2, 4, 4 }, { 3, 3, 3 }, { 1, 1, 1 }, { 1, 1, 1 }, FALSE },
    { { 3, 5, 6 }, { 3, 3, 3 }, { 1, 2, 2 }, { 1, 1, 1 }, FALSE },
    { { 2, 7, 9 }, { 3, 3, 3 }, { 1, 4, 4 }, { 1, 1, 1 }, FALSE },
    { { 4, 5, 3 }, { 2, 1, 3 }, { 2, 1, 3 }, { 0, 0, 1 }, FALSE },
  };
  const int expect[][3] = { { 2, 4, 4 }, { 3, 3, 3 }, { 2, 2, 3 }, { 2, 5, 1 } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_pool (rng, &cases[i], 4, 2, 3, 5, expect[i]);
}

static void
test_pool_max (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1904);
  /* pool_skip's MaxPool3d: kernel stride + 1 where the stride is over 1,
   * padding kernel // 2, over [B, N, C] and [B, heads, N, C]. */
  const TvwMvitPoolParams cases[] = {
    { { 2, 6, 6 }, { 1, 3, 3 }, { 1, 2, 2 }, { 0, 1, 1 }, TRUE },
    { { 3, 5, 7 }, { 1, 3, 3 }, { 1, 2, 2 }, { 0, 1, 1 }, TRUE },
    { { 4, 3, 2 }, { 3, 2, 1 }, { 2, 1, 1 }, { 1, 1, 0 }, TRUE },
  };
  const int expect[][3] = { { 2, 3, 3 }, { 3, 3, 4 }, { 2, 4, 2 } };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      check_pool (rng, &cases[i], 3, 2, 1, 6, expect[i]);
      check_pool (rng, &cases[i], 4, 1, 2, 3, expect[i]);
    }
}

static void
test_pool_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1905);
  TvwMvitPoolParams p = { { 2, 4, 4 }, { 3, 3, 3 }, { 1, 2, 2 }, { 1, 1, 1 }, FALSE };
  TestArray x, w;

  /* 32 tokens without a class token */
  test_array_random (&x, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 2, 32, 4 },
                     TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w, rng, TVW_ELEM_F32, 5, (gint64[]) { 4, 1, 3, 3, 3 },
                     TEST_LAYOUT_CONTIGUOUS, -1, 1);
  assert_refused (&tvw_op_mvit_pool, &p, &x.a, 1, &w.a, "2×4×4 tokens");
  test_array_clear (&x);

  /* a pool of 5 channels over 4 */
  test_array_clear (&w);
  test_array_random (&x, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 2, 33, 4 },
                     TEST_LAYOUT_CONTIGUOUS, -1, 1);
  test_array_random (&w, rng, TVW_ELEM_F32, 5, (gint64[]) { 5, 1, 3, 3, 3 },
                     TEST_LAYOUT_CONTIGUOUS, -1, 1);
  assert_refused (&tvw_op_mvit_pool, &p, &x.a, 1, &w.a, "channels");
  test_array_clear (&x);

  /* a 3×3×3 kernel without padding over 2×4×4 tokens */
  p.padding[0] = p.padding[1] = p.padding[2] = 0;
  test_array_random (&x, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 2, 33, 5 },
                     TEST_LAYOUT_CONTIGUOUS, -1, 1);
  assert_refused (&tvw_op_mvit_pool, &p, &x.a, 1, &w.a, "does not fit 2×4×4 tokens");
  test_array_clear (&x);
  test_array_clear (&w);
}

/* ---- mvit_rel_pos ----------------------------------------------------------------- */

/* _interpolate (table, d), row @i: F.interpolate linear, align_corners
 * False. */
static double
ref_table (const TvwArray *table,
           gint64          d,
           gint64          i,
           gint64          c)
{
  const gint64 s = table->shape[0];
  double src, l1;
  gint64 i0, i1;

  if (s == d)
    return test_array_get (table, (gint64[]) { i, c });
  src = MAX ((i + 0.5) * s / d - 0.5, 0.0);
  i0 = (gint64) floor (src);
  i1 = MIN (i0 + 1, s - 1);
  l1 = src - i0;
  return (1 - l1) * test_array_get (table, (gint64[]) { i0, c }) +
         l1 * test_array_get (table, (gint64[]) { i1, c });
}

/* q[:, :, 1:] · R[dist] along one axis of size @qn (queries) and @kn
 * (keys): rel[b, h, i, k] for the query token i's coordinate @qc. */
static double
ref_axis (const TvwArray *q,
          const TvwArray *table,
          gint64          b,
          gint64          h,
          gint64          token,
          int             qc,
          int             kc,
          int             qn,
          int             kn)
{
  const gint64 d = 2 * (gint64) MAX (qn, kn) - 1;
  const double q_ratio = MAX ((double) kn / qn, 1.0), k_ratio = MAX ((double) qn / kn, 1.0);
  const gint64 index = (gint64) (qc * q_ratio - (kc + (1.0 - kn)) * k_ratio);
  double s = 0;

  g_assert_cmpint (index, >=, 0);
  g_assert_cmpint (index, <, d);
  for (gint64 c = 0; c < q->shape[3]; c++)
    s += test_array_get (q, (gint64[]) { b, h, token, c }) * ref_table (table, d, index, c);
  return s;
}

static void
ref_rel_pos (const TvwMvitRelPosParams *p,
             const TvwArray            *q,
             const TvwArray            *tables, /* h, w, t */
             double                    *want)
{
  const gint64 lq = q->shape[2];
  const gint64 lk = 1 + (gint64) p->k_thw[0] * p->k_thw[1] * p->k_thw[2];

  for (gint64 b = 0; b < q->shape[0]; b++)
    for (gint64 h = 0; h < q->shape[1]; h++)
      for (gint64 i = 0; i < lq; i++)
        for (gint64 j = 0; j < lk; j++)
          {
            double *o = want + ((b * q->shape[1] + h) * lq + i) * lk + j;
            int qt, qy, qx, kt, ky, kx;

            if (i == 0 || j == 0)
              {
                *o = 0;
                continue;
              }
            qx = (int) ((i - 1) % p->q_thw[2]);
            qy = (int) ((i - 1) / p->q_thw[2] % p->q_thw[1]);
            qt = (int) ((i - 1) / p->q_thw[2] / p->q_thw[1]);
            kx = (int) ((j - 1) % p->k_thw[2]);
            ky = (int) ((j - 1) / p->k_thw[2] % p->k_thw[1]);
            kt = (int) ((j - 1) / p->k_thw[2] / p->k_thw[1]);
            *o = ref_axis (q, &tables[0], b, h, i, qy, ky, p->q_thw[1], p->k_thw[1]) +
                 ref_axis (q, &tables[1], b, h, i, qx, kx, p->q_thw[2], p->k_thw[2]) +
                 ref_axis (q, &tables[2], b, h, i, qt, kt, p->q_thw[0], p->k_thw[0]);
          }
}

static void
test_rel_pos_random (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1906);
  /* MViT V2's shapes in small: queries pooled less than keys (strides 1,
   * 2, 4 apart), the same, and more (tables of 2·max − 1 rows); the last
   * two with tables made for other sizes (interpolated). */
  const struct
  {
    TvwMvitRelPosParams p;
    int                 rows[3];   /* h, w, t */
  } cases[] = {
    { { { 2, 4, 4 }, { 2, 1, 1 } }, { 7, 7, 3 } },
    { { { 2, 4, 6 }, { 2, 2, 3 } }, { 7, 11, 3 } },
    { { { 3, 3, 3 }, { 3, 3, 3 } }, { 5, 5, 5 } },
    { { { 1, 2, 2 }, { 2, 4, 4 } }, { 7, 7, 3 } },
    { { { 2, 3, 2 }, { 1, 2, 3 } }, { 4, 7, 3 } },
    { { { 2, 2, 4 }, { 2, 2, 2 } }, { 9, 3, 4 } },
  };

  for (gsize n = 0; n < G_N_ELEMENTS (cases); n++)
    for (int layout = 0; layout < TEST_N_LAYOUTS; layout++)
      {
        const TvwMvitRelPosParams *p = &cases[n].p;
        const gint64 dim = 3, lq = 1 + (gint64) p->q_thw[0] * p->q_thw[1] * p->q_thw[2];
        const gint64 lk = 1 + (gint64) p->k_thw[0] * p->k_thw[1] * p->k_thw[2];
        const gint64 out_shape[4] = { 2, 2, lq, lk };
        g_autofree double *want = g_new (double, 4 * lq * lk);
        TestArray q, t[3];
        TvwArray tables[3];

        test_array_random (&q, rng, TVW_ELEM_F32, 4, (gint64[]) { 2, 2, lq, dim }, layout, -2, 2);
        for (int i = 0; i < 3; i++)
          {
            test_array_random (&t[i], rng, TVW_ELEM_F32, 2,
                               (gint64[]) { cases[n].rows[i], dim }, TEST_LAYOUT_CONTIGUOUS,
                               -1, 1);
            tables[i] = t[i].a;
          }
        ref_rel_pos (p, &q.a, tables, want);
        check_op ("rel_pos", &tvw_op_mvit_rel_pos, p, &q.a, 3, tables, 4, out_shape, want);

        test_array_clear (&q);
        for (int i = 0; i < 3; i++)
          test_array_clear (&t[i]);
      }
}

/* torchvision's _add_rel_pos on zeros with q_thw (2, 3, 2), k_thw (1, 2,
 * 3), rel_pos_h of 4 rows and rel_pos_w of 7 (both interpolated to 5),
 * rel_pos_t of 3, D = 3, two heads, q[i] = sin (0.37 i + 0.1), rel_pos_h[i]
 * = cos (0.53 i), rel_pos_w[i] = sin (0.29 i + 1), rel_pos_t[i] = cos
 * (0.71 i + 2) over the flattened tensors. */
static void
test_rel_pos_torchvision (void)
{
  static const double torch_out[2 * 13 * 7] = {
    0, 0, 0, 0, 0, 0, 0, 0, -4.3814812, -1.3518083, 0.13889599, -1.8534758, 1.1761968,
    2.6669011, 0, -1.7407045, -1.355831, -0.016471982, -0.71708107, -0.3322075, 1.0071515, 0,
    3.9238288, 2.0852792, 1.0200766, 3.175709, 1.3371594, 0.2719568, 0, 6.1523628, 5.695498,
    2.7210743, 4.6369271, 4.1800623, 1.2056384, 0, 1.2423892, 0.43571547, 0.23295221,
    1.1413088, 0.33463511, 0.13187185, 0, -4.1524625, -3.9849386, -1.7279084, -4.8480301,
    -4.6805062, -2.4234762, 0, -1.7650151, 1.0488875, 2.3592517, 0.54434931, 3.3582518,
    4.6686163, 0, -0.43891519, -0.18460429, 0.060833991, -0.33864731, -0.0843364, 0.16110188,
    0, 2.7823696, 0.18674082, -1.1948636, 1.6008425, -0.99478638, -2.3763907, 0, 3.4618897,
    2.9868774, 0.43308669, 2.0832829, 1.6082702, -0.94552034, 0, 0.23519856, 0.55968243,
    0.91982216, -0.12607074, 0.19841319, 0.55855286, 0, -2.6867211, -2.3666923, 0.47566938,
    -3.4190238, -3.098995, -0.25663328, 0, 0, 0, 0, 0, 0, 0, 0, 1.8980598, 1.0151381,
    0.38771087, 1.0609028, 0.1779812, -0.44944608, 0, 4.8109593, 4.4303961, 1.4418999,
    2.2997761, 1.9192128, -1.0692835, 0, 3.0903296, 1.3155127, 0.60527062, 2.0419939,
    0.26717687, -0.44306517, 0, -3.1325009, -3.1312408, -1.7211303, -2.6156642, -2.6144044,
    -1.2042937, 0, -5.2087312, -2.1798701, -0.69368589, -5.8750143, -2.8461533, -1.3599689, 0,
    -2.450809, -2.0717695, -0.78824437, -2.472584, -2.0935445, -0.81001937, 0, 1.1510975,
    -0.73629522, -1.8230052, -0.50601703, -2.3934097, -3.4801199, 0, 2.3117628, 1.8522046,
    -1.109822, -0.13804787, -0.59760624, -3.559633, 0, 1.067076, 0.32026985, 0.14803168,
    0.49611092, -0.25069517, -0.42293334, 0, -2.5932686, -2.4166539, -0.11877894, -1.5876164,
    -1.4110018, 0.88687313, 0, -2.7094889, 0.080869883, 1.3758339, -3.2162614, -0.42590263,
    0.86906135, 0, -0.93914449, -0.69313163, -0.50947583, -0.68965483, -0.44364196,
    -0.25998616,
  };
  const TvwMvitRelPosParams p = { { 2, 3, 2 }, { 1, 2, 3 } };
  const gint64 out_shape[4] = { 1, 2, 13, 7 };
  const int rows[3] = { 4, 7, 3 };
  float q[2 * 13 * 3], tables[3][7 * 3];
  TvwArray in, weights[3];

  for (gsize i = 0; i < G_N_ELEMENTS (q); i++)
    q[i] = (float) sin (0.37 * i + 0.1);
  for (int i = 0; i < 4 * 3; i++)
    tables[0][i] = (float) cos (0.53 * i);
  for (int i = 0; i < 7 * 3; i++)
    tables[1][i] = (float) sin (0.29 * i + 1);
  for (int i = 0; i < 3 * 3; i++)
    tables[2][i] = (float) cos (0.71 * i + 2);

  tvw_array_init (&in, TVW_ELEM_F32, 4, (gint64[]) { 1, 2, 13, 3 });
  in.data = q;
  for (int i = 0; i < 3; i++)
    {
      tvw_array_init (&weights[i], TVW_ELEM_F32, 2, (gint64[]) { rows[i], 3 });
      weights[i].data = tables[i];
    }
  check_op ("torchvision", &tvw_op_mvit_rel_pos, &p, &in, 3, weights, 4, out_shape, torch_out);
}

static void
test_rel_pos_errors (void)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (1907);
  const TvwMvitRelPosParams p = { { 2, 2, 2 }, { 1, 1, 1 } };
  TestArray q, t[3];
  TvwArray tables[3];

  /* 8 query tokens without the class token */
  test_array_random (&q, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 1, 8, 3 }, TEST_LAYOUT_CONTIGUOUS,
                     -1, 1);
  for (int i = 0; i < 3; i++)
    {
      test_array_random (&t[i], rng, TVW_ELEM_F32, 2, (gint64[]) { 3, 3 },
                         TEST_LAYOUT_CONTIGUOUS, -1, 1);
      tables[i] = t[i].a;
    }
  assert_refused (&tvw_op_mvit_rel_pos, &p, &q.a, 3, tables, "2×2×2 tokens");
  test_array_clear (&q);

  /* tables of another head size */
  test_array_random (&q, rng, TVW_ELEM_F32, 4, (gint64[]) { 1, 1, 9, 4 }, TEST_LAYOUT_CONTIGUOUS,
                     -1, 1);
  assert_refused (&tvw_op_mvit_rel_pos, &p, &q.a, 3, tables, "relative position tables");
  test_array_clear (&q);
  for (int i = 0; i < 3; i++)
    test_array_clear (&t[i]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/mvit_pos_encoding/class-token-and-positions", test_pos_encoding);
  g_test_add_func ("/tvw/ops/mvit_pos_encoding/errors", test_pos_encoding_errors);
  g_test_add_func ("/tvw/ops/mvit_pool/depthwise-conv3d", test_pool_conv);
  g_test_add_func ("/tvw/ops/mvit_pool/max-pool3d", test_pool_max);
  g_test_add_func ("/tvw/ops/mvit_pool/errors", test_pool_errors);
  g_test_add_func ("/tvw/ops/mvit_rel_pos/decomposed-bias", test_rel_pos_random);
  g_test_add_func ("/tvw/ops/mvit_rel_pos/torchvision-interpolated", test_rel_pos_torchvision);
  g_test_add_func ("/tvw/ops/mvit_rel_pos/errors", test_rel_pos_errors);

  return g_test_run ();
}
