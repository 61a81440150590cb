/* test-ops-qat.c — QAT modules converted on load, against torch's convert
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * qat_conv2d / qat_linear must run exactly as the quantized convolution
 * torch.ao.quantization.convert makes of the QAT module: the test derives
 * that module's int8 weights, weight scale, float bias and output qparams
 * itself (fuse_conv_bn_weights, the weight observer's last update,
 * MinMax qparams) and runs tvw-op-qnn.c's qconv2d / qlinear with them;
 * every output byte must match.  Observer ranges with round qparams check
 * the qparams against numbers worked out by hand.  The elementwise
 * modules are checked against PyTorch's quantized CPU kernels' expressions
 * (dequantisation x·s + (−z·s) fused, 1/scale, ties to even), byte for
 * byte.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-op-test.h"

enum { FQ_FLAGS, FQ_OBSERVER, FQ_SCALE, FQ_ZERO_POINT, FQ_EPS, FQ_MIN, FQ_MAX, N_FQ };

/* A FakeQuantize's seven weights: observer @observer_on, range [@lo, @hi]. */
typedef struct
{
  float observer, scale, zero_point, eps, min_val, max_val;
} FakeQuant;

static void
fake_quant_arrays (TvwArray  *w,
                   FakeQuant *fq)
{
  float *data[N_FQ] = {
    NULL, &fq->observer, &fq->scale, NULL, &fq->eps, &fq->min_val, &fq->max_val
  };

  for (int i = 0; i < N_FQ; i++)
    {
      w[i] = (TvwArray) { 0 };
      w[i].elem = TVW_ELEM_F32;
      w[i].data = data[i];
    }
}

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
assert_same_bytes (const TvwArray *got,
                   const TvwArray *want)
{
  gint64 idx[TVW_MAX_RANK], n = tvw_array_numel (want);

  g_assert_true (tvw_array_same_shape (got, want));
  for (gint64 f = 0; f < n; f++)
    {
      test_unflatten (want, f, idx);
      g_assert_cmpfloat (test_array_get (got, idx), ==, test_array_get (want, idx));
    }
}

typedef struct
{
  int      cin, cout, kernel, stride, groups;
  gboolean bn, bias, relu, observer_on, linear;
  float    w_min, w_max;     /* the weight observer's saved range */
} QatCase;

/* The QAT module of @qc on random weights, and the quantized module
 * convert makes of it, on one input: the same bytes. */
static void
check_qat_conv (const QatCase *qc,
                guint32        seed)
{
  g_autoptr(GRand) rng = g_rand_new_with_seed (seed);
  const int taps = qc->kernel * qc->kernel, cin_g = qc->cin / qc->groups;
  const gsize k = (gsize) cin_g * taps, n = k * qc->cout;
  const gint64 xshape[4] = { 2, qc->cin, qc->linear ? 1 : 6, qc->linear ? 1 : 5 };
  const int pad = (qc->kernel - 1) / 2;
  const TvwQatConvParams p = {
    .q = {
      .spec = { qc->kernel, qc->kernel, qc->stride, qc->stride, pad, pad, 1, 1, qc->groups, TRUE },
      .cin = qc->cin, .cout = qc->cout, .relu = qc->relu,
    },
    .bn = qc->bn, .bn_eps = 1e-3, .bias = qc->bias,
  };
  g_autofree float *w = g_new (float, n), *folded = g_new (float, n);
  g_autofree float *bias = g_new (float, qc->cout), *fbias = g_new0 (float, qc->cout);
  g_autofree float *bn = g_new (float, 4 * qc->cout);
  g_autofree float *ws = g_new (float, qc->cout), *wz = g_new0 (float, qc->cout);
  /* The activation observer: [−1, 3] is scale 4/255, zero point 64. */
  FakeQuant wfq = { qc->observer_on, 1.f, 0.f, 1.1920929e-07f, qc->w_min, qc->w_max };
  FakeQuant afq = { 1.f, 1.f, 0.f, 1.1920929e-07f, -1.f, 3.f };
  TvwArray qat_w[2 * N_FQ + 7] = { { 0 } }, q_w[6] = { { 0 } }, got, want;
  float out_scale = 4.f / 255.f, out_zero = 64.f, lo, hi, scale;
  int nw = 1 + 2 * N_FQ;
  TestArray x;

  test_array_random (&x, rng, TVW_ELEM_U8, 4, xshape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
  quantize_array (&x, rng);
  for (gsize i = 0; i < n; i++)
    w[i] = test_rand_float (rng, -0.5f, 0.5f);
  for (int c = 0; c < qc->cout; c++)
    {
      bias[c] = test_rand_float (rng, -0.5f, 0.5f);
      bn[c] = test_rand_float (rng, 0.5f, 1.5f);                      /* γ */
      bn[qc->cout + c] = test_rand_float (rng, -0.5f, 0.5f);          /* β */
      bn[2 * qc->cout + c] = test_rand_float (rng, -0.2f, 0.2f);      /* mean */
      bn[3 * qc->cout + c] = test_rand_float (rng, 0.5f, 2.f);        /* var */
    }

  /* The QAT module's weights. */
  qat_w[0].elem = TVW_ELEM_F32;
  qat_w[0].data = w;
  fake_quant_arrays (qat_w + 1, &wfq);
  fake_quant_arrays (qat_w + 1 + N_FQ, &afq);
  if (qc->bias)
    {
      qat_w[nw].elem = TVW_ELEM_F32;
      qat_w[nw++].data = bias;
    }
  if (qc->bn)
    {
      for (int i = 0; i < 4; i++)
        {
          qat_w[nw].elem = TVW_ELEM_F32;
          qat_w[nw++].data = bn + i * qc->cout;
        }
      qat_w[nw++].elem = TVW_ELEM_F32;   /* num_batches_tracked: not read */
    }

  /* What convert makes of it: fuse_conv_bn_weights … */
  memcpy (folded, w, n * sizeof (float));
  for (int c = 0; c < qc->cout; c++)
    {
      fbias[c] = qc->bias ? bias[c] : 0.f;
      if (qc->bn)
        {
          volatile float rsqrt = 1.f / sqrtf (bn[3 * qc->cout + c] + 1e-3f);
          volatile float factor = bn[c] * rsqrt, t;

          for (gsize i = 0; i < k; i++)
            folded[c * k + i] *= factor;
          t = (fbias[c] - bn[2 * qc->cout + c]) * rsqrt;
          t = t * bn[c];
          fbias[c] = t + bn[qc->cout + c];
        }
    }
  /* … weight_post_process (mod.weight) … */
  lo = qc->w_min;
  hi = qc->w_max;
  if (qc->observer_on)
    {
      float flo = folded[0], fhi = folded[0];

      for (gsize i = 0; i < n; i++)
        {
          flo = MIN (flo, folded[i]);
          fhi = MAX (fhi, folded[i]);
        }
      lo = isinf (lo) ? flo : lo + 0.01f * (flo - lo);
      hi = isinf (hi) ? fhi : hi + 0.01f * (fhi - hi);
    }
  /* … per_tensor_symmetric qparams and quantize_per_tensor. */
  scale = MAX (-MIN (lo, 0.f), MAX (hi, 0.f)) / 127.5f;
  for (gsize i = 0; i < n; i++)
    folded[i] = CLAMP (nearbyintf (folded[i] * (1.f / scale)), -128.f, 127.f);
  for (int c = 0; c < qc->cout; c++)
    ws[c] = scale;
  {
    float *data[6] = { folded, ws, wz, fbias, &out_scale, &out_zero };

    for (int i = 0; i < 6; i++)
      {
        q_w[i].elem = TVW_ELEM_F32;
        q_w[i].data = data[i];
      }
  }

  test_run_op (qc->linear ? &tvw_op_qat_linear : &tvw_op_qat_conv2d, &p, 1, &x.a, nw, qat_w, 1,
               &got, 0);
  test_run_op (qc->linear ? &tvw_op_qlinear : &tvw_op_qconv2d, &p.q, 1, &x.a, 6, q_w, 1, &want,
               0);
  assert_same_bytes (&got, &want);
  g_free (got.data);
  g_free (want.data);
  test_array_clear (&x);
}

static void
test_qat_conv2d (void)
{
  static const QatCase cases[] = {
    /* ConvBnReLU2d, the observer updated with the folded weight */
    { 5, 7, 3, 1, 1, TRUE, FALSE, TRUE, TRUE, FALSE, -0.6f, 0.4f },
    /* ConvBn2d, stride 2, the observer disabled: its range as saved */
    { 4, 6, 1, 2, 1, TRUE, FALSE, FALSE, FALSE, FALSE, -0.7f, 0.9f },
    /* depthwise 5×5 ConvBnReLU2d, an observer that never ran before */
    { 8, 8, 5, 1, 8, TRUE, FALSE, TRUE, TRUE, FALSE, INFINITY, -INFINITY },
    /* SqueezeExcitation's fc1 (ConvReLU2d with bias, no BatchNorm) */
    { 6, 3, 1, 1, 1, FALSE, TRUE, TRUE, FALSE, FALSE, -0.5f, 0.5f },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    check_qat_conv (&cases[i], 2600 + i);
}

static void
test_qat_linear (void)
{
  /* A Linear 24×1×1 → 10 with bias, observers on and off. */
  const QatCase on = { 24, 10, 1, 1, 1, FALSE, TRUE, FALSE, TRUE, TRUE, -0.3f, 0.2f };
  const QatCase off = { 24, 10, 1, 1, 1, FALSE, TRUE, FALSE, FALSE, TRUE, -0.3f, 0.2f };

  check_qat_conv (&on, 2700);
  check_qat_conv (&off, 2701);
}

/* The weight observer's qparams by hand: range [−0.51, 0.255], disabled,
 * is scale 0.51 / 127.5 = 0.004: a folded weight of 0.1 is 25. */
static void
test_qat_conv2d_weight_scale (void)
{
  const TvwQatConvParams p = {
    .q = { .spec = { 1, 1, 1, 1, 0, 0, 1, 1, 1, TRUE }, .cin = 1, .cout = 1 },
  };
  const gint64 shape[4] = { 1, 1, 1, 1 };
  float w = 0.1f;
  guint8 one = 11;   /* x = (11 − 1) · 0.1 = 1 */
  FakeQuant wfq = { 0.f, 1.f, 0.f, 1.1920929e-07f, -0.51f, 0.255f };
  FakeQuant afq = { 0.f, 1.f, 0.f, 1.1920929e-07f, 0.f, 2.55f };   /* scale 0.01, zero point 0 */
  TvwArray weights[1 + 2 * N_FQ] = { { 0 } }, x = { 0 }, out;

  weights[0].elem = TVW_ELEM_F32;
  weights[0].data = &w;
  fake_quant_arrays (weights + 1, &wfq);
  fake_quant_arrays (weights + 1 + N_FQ, &afq);
  tvw_array_init (&x, TVW_ELEM_U8, 4, shape);
  x.data = &one;
  x.quantized = TRUE;
  x.qaxis = -1;
  x.scale = 0.1;
  x.zero_point = 1;
  /* 25 · 0.004 · 1 = 0.1, which is 10 steps of 0.01 (an eager call
   * infers before prepare: the bytes say what the qparams were). */
  test_run_op (&tvw_op_qat_conv2d, &p, 1, &x, 1 + 2 * N_FQ, weights, 1, &out, 0);
  g_assert_cmpint (((guint8 *) out.data)[0], ==, 10);
  g_free (out.data);
}

/* ---- elementwise -------------------------------------------------------- */

static float
deq (int             q,
     const TvwArray *a)
{
  return fmaf ((float) q, (float) a->scale, (float) a->scale * -(float) a->zero_point);
}

static double
quant (float v,
       float inv,
       int   zero_point)
{
  return CLAMP (nearbyintf (v * inv) + (float) zero_point, 0.f, 255.f);
}

static void
test_qat_eltwise (void)
{
  static const TvwQatEltwiseKind kinds[] = {
    TVW_QAT_QUANTIZE, TVW_QAT_HARDSWISH, TVW_QAT_HARDSIGMOID, TVW_QAT_ADD, TVW_QAT_MUL,
  };
  /* The output observer: [−2, 6.2] is scale 8.2/255, zero point 62. */
  FakeQuant afq = { 1.f, 1.f, 0.f, 1.1920929e-07f, -2.f, 6.2f };

  for (gsize kind = 0; kind < G_N_ELEMENTS (kinds); kind++)
    for (int layout = 0; layout < 2; layout++)
      {
        g_autoptr(GRand) rng = g_rand_new_with_seed (2800 + kind * 10 + layout);
        const TvwQatEltwiseParams p = { kinds[kind] };
        const gint64 shape[4] = { 2, 9, 5, 7 }, sshape[4] = { 2, 9, 1, 1 };
        const gint64 numel = 2 * 9 * 5 * 7;
        const gboolean sigmoid = kinds[kind] == TVW_QAT_HARDSIGMOID;
        const float out_scale = sigmoid ? 1.f / 256.f : 8.2f / 255.f;
        const int out_zero = sigmoid ? 0 : 62;
        g_autofree double *want = g_new (double, numel);
        TvwArray weights[N_FQ], in[2] = { { 0 } }, out, oshape;
        TestArray a = { 0 }, b = { 0 };
        int n_in = 1;

        tvw_array_init (&oshape, TVW_ELEM_F32, 4, shape);

        fake_quant_arrays (weights, &afq);
        if (kinds[kind] == TVW_QAT_QUANTIZE)
          test_array_random (&a, rng, TVW_ELEM_F32, 4, shape, layout, -3, 7);
        else
          {
            test_array_random (&a, rng, TVW_ELEM_U8, 4,
                               kinds[kind] == TVW_QAT_MUL ? sshape : shape, layout, 0, 256);
            quantize_array (&a, rng);
          }
        if (kinds[kind] == TVW_QAT_ADD || kinds[kind] == TVW_QAT_MUL)
          {
            test_array_random (&b, rng, TVW_ELEM_U8, 4, shape, TEST_LAYOUT_CONTIGUOUS, 0, 256);
            quantize_array (&b, rng);
            n_in = 2;
          }

        for (gint64 f = 0; f < numel; f++)
          {
            gint64 idx[4] = { 0 }, sidx[4];
            float v = 0, d;

            test_unflatten (&oshape, f, idx);
            memcpy (sidx, idx, sizeof idx);
            sidx[2] = sidx[3] = 0;
            switch (kinds[kind])
              {
              case TVW_QAT_QUANTIZE:
                v = (float) test_array_get (&a.a, idx);
                break;
              case TVW_QAT_HARDSWISH:
                d = deq ((int) test_array_get (&a.a, idx), &a.a);
                v = d * MIN (MAX (d + 3.f, 0.f), 6.f) / 6.f;
                break;
              case TVW_QAT_HARDSIGMOID:
                d = deq ((int) test_array_get (&a.a, idx), &a.a);
                v = MIN (MAX (d + 3.f, 0.f), 6.f) / 6.f;
                break;
              case TVW_QAT_ADD:
                v = deq ((int) test_array_get (&a.a, idx), &a.a) +
                    deq ((int) test_array_get (&b.a, idx), &b.a);
                break;
              case TVW_QAT_MUL:
                {
                  /* qmul: the integer product, times sa·sb·(1/so). */
                  const gint32 prod = ((gint32) test_array_get (&a.a, sidx) - a.a.zero_point) *
                                      ((gint32) test_array_get (&b.a, idx) - b.a.zero_point);
                  const float mult = (float) a.a.scale * (float) b.a.scale * (1.f / out_scale);

                  want[f] = CLAMP (nearbyintf ((float) prod * mult) + (float) out_zero, 0, 255);
                  continue;
                }
              }
            /* quantized hardswish / hardsigmoid take 1/scale in double */
            want[f] = quant (v, sigmoid || kinds[kind] == TVW_QAT_HARDSWISH
                                ? (float) (1.0 / out_scale) : 1.f / out_scale, out_zero);
          }

        in[0] = a.a;
        in[1] = b.a;
        test_run_op (&tvw_op_qat_eltwise, &p, n_in, in, sigmoid ? 0 : N_FQ, weights, 1, &out, 0);
        g_assert_cmpfloat (out.scale, ==, out_scale);
        g_assert_cmpint (out.zero_point, ==, out_zero);
        test_assert_close (tvw_op_qat_eltwise.name, &out, 4, shape, want, 0, 0);
        g_free (out.data);
        test_array_clear (&a);
        if (n_in == 2)
          test_array_clear (&b);
      }
}

/* An observer that never ran gives scale 1 and zero point 0 (with
 * PyTorch's warning); an inverted range is an error naming the module. */
static void
test_qat_eltwise_observer (void)
{
  const TvwQatEltwiseParams p = { TVW_QAT_QUANTIZE };
  const gint64 shape[2] = { 1, 4 };
  float x[4] = { -1.f, 0.4f, 1.5f, 300.f };
  FakeQuant unseen = { 1.f, 1.f, 0.f, 1.1920929e-07f, INFINITY, -INFINITY };
  FakeQuant inverted = { 1.f, 1.f, 0.f, 1.1920929e-07f, 2.f, 1.f };
  TvwArray weights[N_FQ], in = { 0 }, out;
  g_autoptr(GError) error = NULL;

  tvw_array_init (&in, TVW_ELEM_F32, 2, shape);
  in.data = x;
  fake_quant_arrays (weights, &unseen);
  test_run_op (&tvw_op_qat_eltwise, &p, 1, &in, N_FQ, weights, 1, &out, 0);
  g_assert_cmpfloat (out.scale, ==, 1.0);
  g_assert_cmpint (out.zero_point, ==, 0);
  g_assert_cmpint (((guint8 *) out.data)[0], ==, 0);
  g_assert_cmpint (((guint8 *) out.data)[1], ==, 0);
  g_assert_cmpint (((guint8 *) out.data)[2], ==, 2);   /* 1.5 → 2, ties to even */
  g_assert_cmpint (((guint8 *) out.data)[3], ==, 255);
  g_free (out.data);

  fake_quant_arrays (weights, &inverted);
  g_assert_false (tvw_op_eager (&tvw_op_qat_eltwise, "features.0.2", &p, 1, &in, N_FQ, weights,
                                1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "features.0.2"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/ops/qat_conv2d/as-converted", test_qat_conv2d);
  g_test_add_func ("/tvw/ops/qat_conv2d/weight-scale", test_qat_conv2d_weight_scale);
  g_test_add_func ("/tvw/ops/qat_linear/as-converted", test_qat_linear);
  g_test_add_func ("/tvw/ops/qat_eltwise/vs-definition", test_qat_eltwise);
  g_test_add_func ("/tvw/ops/qat_eltwise/observer", test_qat_eltwise_observer);

  return g_test_run ();
}
