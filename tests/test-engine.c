/* test-engine.c — engine ops against naive reference kernels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-private.h"
#include "tvw-op-test.h"
#include "tvw-engine-threads-private.h"
#include "tvw-graph-private.h"

static guint32 rng_state = 12345;

static float
rnd (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float) ((rng_state >> 8) / 16777216.0 * 2.0 - 1.0);
}

static float *
random_buffer (gsize n)
{
  float *buf = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    buf[i] = rnd ();
  return buf;
}

static void
randomise (TvwNet     *net,
           const char *name,
           float       lo,
           float       hi)
{
  gint64 numel = 0;
  float *p = tvw_net_lookup_param (net, name, &numel);

  g_assert_nonnull (p);
  for (gint64 i = 0; i < numel; i++)
    p[i] = lo + (hi - lo) * (rnd () * 0.5f + 0.5f);
}

static float *
param (TvwNet     *net,
       const char *name)
{
  float *p = tvw_net_lookup_param (net, name, NULL);

  g_assert_nonnull (p);
  return p;
}

static void
assert_close (const float *got,
              const float *want,
              gsize        n,
              double       tol)
{
  double max_ref = 1, max_diff = 0;

  for (gsize i = 0; i < n; i++)
    {
      max_ref = MAX (max_ref, fabs (want[i]));
      max_diff = MAX (max_diff, fabs ((double) got[i] - want[i]));
    }

  if (max_diff > tol * max_ref)
    g_error ("max |Δ| = %g exceeds %g·%g", max_diff, tol, max_ref);
}

static float *
run (TvwNet      *net,
     const float *input,
     int          n,
     int          h,
     int          w,
     int          threads,
     gint64      *shape,
     guint       *n_dims)
{
  g_autoptr(GError) error = NULL;
  float *out = NULL;

  g_assert_true (tvw_net_prepare (net, &error));
  g_assert_no_error (error);
  g_assert_true (tvw_net_run (net, input, n, h, w, threads, NULL, &out, shape, n_dims, &error));
  g_assert_no_error (error);

  return out;
}

typedef struct
{
  int          n, c, h, w, cout;
  TvwConvSpec  spec;
  gboolean     bn;
  TvwActivation act;
  gboolean     residual;
} ConvCase;

/* conv (+BN folded) (+residual) (+act), NHWC internally, vs the definition. */
static void
check_conv (const ConvCase *cc,
            int             threads)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autofree float *input = NULL;
  g_autofree float *ref = NULL;
  g_autofree float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  int oh, ow;
  TvwVal x, y;
  gsize in_count = (gsize) cc->n * cc->c * cc->h * cc->w;

  x = tvw_net_input (net, cc->c);
  y = tvw_net_conv2d_full (net, x, "conv", cc->cout, &cc->spec);
  if (cc->bn)
    y = tvw_net_batch_norm (net, y, "bn", 1e-5);
  if (cc->residual)
    y = tvw_net_add (net, y, x);
  y = tvw_net_activation (net, y, cc->act);
  tvw_net_set_output (net, y);

  tvw_net_init_random (net, 7);
  if (cc->spec.bias)
    randomise (net, "conv.bias", -1, 1);
  if (cc->bn)
    {
      randomise (net, "bn.weight", 0.5, 1.5);
      randomise (net, "bn.bias", -0.5, 0.5);
      randomise (net, "bn.running_mean", -0.5, 0.5);
      randomise (net, "bn.running_var", 0.2, 2.0);
    }

  input = random_buffer (in_count);
  out = run (net, input, cc->n, cc->h, cc->w, threads, shape, &n_dims);

  ref = g_new (float, (gsize) cc->n * cc->cout * cc->h * cc->w * 4 + 16);
  test_reference_conv2d (input, cc->n, cc->c, cc->h, cc->w, param (net, "conv.weight"),
                         cc->spec.bias ? param (net, "conv.bias") : NULL,
                         cc->cout, &cc->spec, ref, &oh, &ow);

  g_assert_cmpuint (n_dims, ==, 4);
  g_assert_cmpint (shape[0], ==, cc->n);
  g_assert_cmpint (shape[1], ==, cc->cout);
  g_assert_cmpint (shape[2], ==, oh);
  g_assert_cmpint (shape[3], ==, ow);

  for (int b = 0; b < cc->n; b++)
    for (int o = 0; o < cc->cout; o++)
      for (int i = 0; i < oh * ow; i++)
        {
          float *v = &ref[((gsize) b * cc->cout + o) * oh * ow + i];

          if (cc->bn)
            {
              float g = param (net, "bn.weight")[o], be = param (net, "bn.bias")[o];
              float m = param (net, "bn.running_mean")[o], var = param (net, "bn.running_var")[o];

              *v = (*v - m) / sqrtf (var + 1e-5f) * g + be;
            }
          if (cc->residual)
            *v += input[((gsize) b * cc->c + o) * oh * ow + i];
          if (cc->act == TVW_ACT_RELU)
            *v = MAX (*v, 0.f);
        }

  assert_close (out, ref, (gsize) cc->n * cc->cout * oh * ow, 1e-5);
}

static void
test_conv_variants (void)
{
  const ConvCase cases[] = {
    /* 1×1 stride 1: the direct GEMM path */
    { 1, 16, 7, 5, 24, { 1, 1, 1, 1, 0, 0, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* 1×1 stride 2 (a ResNet downsample) */
    { 2, 16, 9, 8, 32, { 1, 1, 2, 2, 0, 0, 1, 1, 1, FALSE }, TRUE, TVW_ACT_NONE, FALSE },
    /* 3×3 pad 1 with a residual and ReLU: a BasicBlock's tail */
    { 2, 8, 6, 7, 8, { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, TRUE },
    /* 7×7 stride 2 pad 3: a stem, odd input */
    { 1, 3, 15, 11, 16, { 7, 7, 2, 2, 3, 3, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* grouped, with bias, no BN */
    { 3, 12, 5, 6, 18, { 3, 3, 1, 1, 1, 1, 1, 1, 3, TRUE }, FALSE, TVW_ACT_NONE, FALSE },
    /* ResNeXt-like grouped stride 2 */
    { 1, 64, 9, 9, 64, { 3, 3, 2, 2, 1, 1, 1, 1, 32, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* dilated, rectangular kernel and padding */
    { 1, 4, 11, 13, 6, { 3, 5, 1, 2, 2, 1, 2, 1, 1, TRUE }, FALSE, TVW_ACT_NONE, FALSE },
    /* depthwise 3×3 stride 2 */
    { 2, 24, 10, 9, 24, { 3, 3, 2, 2, 1, 1, 1, 1, 24, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* depthwise 5×5 with bias and residual */
    { 1, 8, 7, 7, 8, { 5, 5, 1, 1, 2, 2, 1, 1, 8, TRUE }, FALSE, TVW_ACT_NONE, TRUE },
    /* many output channels, few rows: the column split */
    { 1, 32, 2, 2, 256, { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* 3×3 stride 1 from 16 channels on: Winograd F(2, 3); odd sizes leave
     * half tiles, channel counts not a multiple of the vector width */
    { 2, 40, 9, 11, 40, { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, TRUE },
    { 1, 17, 13, 6, 19, { 3, 3, 1, 1, 1, 1, 1, 1, 1, TRUE }, FALSE, TVW_ACT_NONE, FALSE },
    /* many tiles: several tasks, each a chunk of tiles */
    { 3, 64, 30, 29, 64, { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE }, TRUE, TVW_ACT_RELU, FALSE },
    /* a 1×2 map: half of each tile is padding */
    { 2, 16, 1, 2, 48, { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE }, TRUE, TVW_ACT_NONE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      check_conv (&cases[i], threads);
}

/* Runs with the same thread count give the same bits (the work split is a
 * function of the shapes and the thread count only); other counts agree
 * within rounding. */
static void
test_conv_deterministic (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autofree float *input = random_buffer (2 * 32 * 20 * 20);
  g_autofree float *a = NULL;
  g_autofree float *b = NULL;
  g_autofree float *c = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x;

  x = tvw_net_input (net, 32);
  x = tvw_net_conv2d (net, x, "c1", 64, 3, 1, 1, 1, 1, FALSE);
  x = tvw_net_conv2d (net, x, "c2", 128, 1, 1, 0, 1, 1, TRUE);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 3);

  a = run (net, input, 2, 20, 20, 2, shape, &n_dims);
  b = run (net, input, 2, 20, 20, 2, shape, &n_dims);
  g_assert_cmpmem (a, 2 * 128 * 400 * sizeof (float), b, 2 * 128 * 400 * sizeof (float));
  c = run (net, input, 2, 20, 20, 1, shape, &n_dims);
  assert_close (c, a, 2 * 128 * 400, 1e-5);
}

static void
reference_pool (const float *in,
                int          n,
                int          c,
                int          h,
                int          w,
                int          k,
                int          s,
                int          p,
                gboolean     ceil_mode,
                gboolean     is_max,
                gboolean     include_pad,
                float       *out,
                int         *oh_out,
                int         *ow_out)
{
  int oh = (h + 2 * p - k + (ceil_mode ? s - 1 : 0)) / s + 1;
  int ow = (w + 2 * p - k + (ceil_mode ? s - 1 : 0)) / s + 1;

  if (ceil_mode && (oh - 1) * s >= h + p)
    oh--;
  if (ceil_mode && (ow - 1) * s >= w + p)
    ow--;
  *oh_out = oh;
  *ow_out = ow;

  for (int b = 0; b < n * c; b++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          double acc = is_max ? -INFINITY : 0;
          int count = 0, padded = 0;

          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              {
                int iy = y * s - p + ky, ix = x * s - p + kx;

                if (iy < h + p && ix < w + p)
                  padded++;
                if (iy < 0 || ix < 0 || iy >= h || ix >= w)
                  continue;
                count++;
                if (is_max)
                  acc = MAX (acc, in[(gsize) b * h * w + iy * w + ix]);
                else
                  acc += in[(gsize) b * h * w + iy * w + ix];
              }
          out[((gsize) b * oh + y) * ow + x] = is_max ? acc : acc / (include_pad ? padded : count);
        }
}

static void
test_pools (void)
{
  const struct { int k, s, p; gboolean ceil, max, include_pad; } cases[] = {
    { 3, 2, 1, FALSE, TRUE, FALSE },   /* ResNet's max pool */
    { 3, 2, 0, TRUE, TRUE, FALSE },    /* GoogLeNet/SqueezeNet ceil_mode */
    { 2, 2, 0, FALSE, FALSE, TRUE },   /* DenseNet transition */
    { 3, 1, 1, FALSE, FALSE, TRUE },   /* Inception, count_include_pad */
    { 3, 2, 1, TRUE, FALSE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      const int n = 2, c = 5, h = 9, w = 8;
      g_autofree float *input = random_buffer (n * c * h * w);
      g_autofree float *ref = g_new (float, n * c * h * w * 4);
      g_autofree float *out = NULL;
      gint64 shape[4];
      guint n_dims;
      int oh, ow;
      TvwVal x = tvw_net_input (net, c);

      if (cases[i].max)
        x = tvw_net_max_pool2d (net, x, cases[i].k, cases[i].s, cases[i].p, cases[i].ceil);
      else
        x = tvw_net_avg_pool2d (net, x, cases[i].k, cases[i].s, cases[i].p, cases[i].ceil,
                                cases[i].include_pad);
      tvw_net_set_output (net, x);

      out = run (net, input, n, h, w, 2, shape, &n_dims);
      reference_pool (input, n, c, h, w, cases[i].k, cases[i].s, cases[i].p, cases[i].ceil,
                      cases[i].max, cases[i].include_pad, ref, &oh, &ow);
      g_assert_cmpint (shape[2], ==, oh);
      g_assert_cmpint (shape[3], ==, ow);
      assert_close (out, ref, (gsize) n * c * oh * ow, 1e-6);
    }
}

/* Adaptive pooling to 1×1, flatten and a linear layer: a classifier head. */
static void
test_classifier_head (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  const int n = 3, c = 6, h = 5, w = 7, classes = 11;
  g_autofree float *input = random_buffer (n * c * h * w);
  g_autofree float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x = tvw_net_input (net, c);
  float *weight, *bias;

  x = tvw_net_adaptive_avg_pool2d (net, x, 1, 1);
  x = tvw_net_flatten (net, x);
  x = tvw_net_linear (net, x, "fc", classes, TRUE);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 5);
  randomise (net, "fc.bias", -1, 1);
  weight = param (net, "fc.weight");
  bias = param (net, "fc.bias");

  g_assert_cmpint (tvw_net_count_parameters (net), ==, classes * c + classes);

  out = run (net, input, n, h, w, 2, shape, &n_dims);
  g_assert_cmpuint (n_dims, ==, 2);
  g_assert_cmpint (shape[0], ==, n);
  g_assert_cmpint (shape[1], ==, classes);

  for (int b = 0; b < n; b++)
    for (int o = 0; o < classes; o++)
      {
        double acc = bias[o];

        for (int ch = 0; ch < c; ch++)
          {
            double mean = 0;

            for (int i = 0; i < h * w; i++)
              mean += input[((gsize) b * c + ch) * h * w + i];
            acc += weight[o * c + ch] * mean / (h * w);
          }
        g_assert_cmpfloat_with_epsilon (out[b * classes + o], acc, 1e-5);
      }
}

/* Adaptive pooling to 2×3 then flatten: NCHW order, as torch.flatten. */
static void
test_flatten_order (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  const int c = 3, h = 4, w = 6;
  g_autofree float *input = random_buffer (c * h * w);
  g_autofree float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x = tvw_net_input (net, c);

  x = tvw_net_adaptive_avg_pool2d (net, x, 2, 3);
  x = tvw_net_flatten (net, x);
  tvw_net_set_output (net, x);

  out = run (net, input, 1, h, w, 1, shape, &n_dims);
  g_assert_cmpint (shape[1], ==, c * 6);
  for (int ch = 0; ch < c; ch++)
    for (int oy = 0; oy < 2; oy++)
      for (int ox = 0; ox < 3; ox++)
        {
          double acc = 0;

          for (int y = oy * 2; y < oy * 2 + 2; y++)
            for (int x2 = ox * 2; x2 < ox * 2 + 2; x2++)
              acc += input[(ch * h + y) * w + x2];
          g_assert_cmpfloat_with_epsilon (out[ch * 6 + oy * 3 + ox], acc / 4, 1e-6);
        }
}

static void
test_activations (void)
{
  const float xs[] = { -4.f, -3.f, -1.f, -0.25f, 0.f, 0.5f, 2.f, 3.f, 7.f };
  const struct { TvwActivation act; double (*ref) (double); } acts[] = {
    { TVW_ACT_RELU, NULL }, { TVW_ACT_RELU6, NULL }, { TVW_ACT_SILU, NULL },
    { TVW_ACT_SIGMOID, NULL }, { TVW_ACT_HARDSWISH, NULL }, { TVW_ACT_HARDSIGMOID, NULL },
  };

  for (gsize a = 0; a < G_N_ELEMENTS (acts); a++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autofree float *out = NULL;
      gint64 shape[4];
      guint n_dims;
      TvwVal x = tvw_net_input (net, 1);

      /* An activation on the input cannot fuse: the standalone kernel. */
      x = tvw_net_activation (net, x, acts[a].act);
      tvw_net_set_output (net, x);
      out = run (net, xs, 1, 1, G_N_ELEMENTS (xs), 1, shape, &n_dims);

      for (gsize i = 0; i < G_N_ELEMENTS (xs); i++)
        {
          double v = xs[i], want;

          switch (acts[a].act)
            {
            case TVW_ACT_RELU: want = MAX (v, 0); break;
            case TVW_ACT_RELU6: want = MIN (MAX (v, 0), 6); break;
            case TVW_ACT_SILU: want = v / (1 + exp (-v)); break;
            case TVW_ACT_SIGMOID: want = 1 / (1 + exp (-v)); break;
            case TVW_ACT_HARDSWISH: want = v * MIN (MAX (v + 3, 0), 6) / 6; break;
            case TVW_ACT_HARDSIGMOID: want = MIN (MAX (v + 3, 0), 6) / 6; break;
            default: g_assert_not_reached ();
            }
          g_assert_cmpfloat_with_epsilon (out[i], want, 1e-6);
        }
    }
}

static void
test_too_small_input (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  float input[3 * 2 * 2] = { 0 };
  float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x = tvw_net_input (net, 3);

  x = tvw_net_conv2d (net, x, "conv", 4, 5, 1, 0, 1, 1, FALSE);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 1);
  g_assert_true (tvw_net_prepare (net, NULL));

  g_assert_false (tvw_net_run (net, input, 1, 2, 2, 1, NULL, &out, shape, &n_dims, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "conv"));
  g_assert_null (out);
}

static void
test_cancel (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  float input[3 * 4 * 4] = { 0 };
  float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x = tvw_net_input (net, 3);

  x = tvw_net_conv2d (net, x, "conv", 4, 3, 1, 1, 1, 1, FALSE);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 1);
  g_assert_true (tvw_net_prepare (net, NULL));

  g_cancellable_cancel (cancellable);
  g_assert_false (tvw_net_run (net, input, 1, 4, 4, 1, cancellable, &out, shape, &n_dims, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The thread pool: every task runs exactly once, on a thread index below
 * the count asked for, whatever the job sizes, including while another
 * thread dispatches jobs of its own (those run on the calling thread). */
typedef struct
{
  gint *runs;
  int   n_threads;
  gint  bad_thread;
} PoolJob;

static void
count_task (gpointer data,
            int      task,
            int      thread)
{
  PoolJob *job = data;

  if (thread < 0 || thread >= job->n_threads)
    g_atomic_int_set (&job->bad_thread, 1);
  g_atomic_int_inc (&job->runs[task]);
}

static void
check_pool_jobs (int rounds)
{
  for (int r = 0; r < rounds; r++)
    {
      int n_tasks = 1 + (r * 7919) % 97;
      int n_threads = 1 + r % 4;
      g_autofree gint *runs = g_new0 (gint, n_tasks);
      PoolJob job = { runs, n_threads, 0 };

      tvw_parallel_tasks (n_tasks, n_threads, count_task, &job);
      g_assert_cmpint (job.bad_thread, ==, 0);
      for (int t = 0; t < n_tasks; t++)
        g_assert_cmpint (runs[t], ==, 1);
    }
}

static gpointer
pool_thread (gpointer data)
{
  check_pool_jobs (GPOINTER_TO_INT (data));
  return NULL;
}

static void
test_thread_pool (void)
{
  const unsigned int fp_mode = _mm_getcsr ();
  GThread *other;

  check_pool_jobs (2000);
  /* Long enough idle for the workers to go to sleep, then wake them. */
  g_usleep (5000);
  check_pool_jobs (10);

  other = g_thread_new ("dispatcher", pool_thread, GINT_TO_POINTER (2000));
  check_pool_jobs (2000);
  g_thread_join (other);

  /* Denormals are flushed while the engine runs on the caller's thread,
   * not after. */
  g_assert_cmphex (_mm_getcsr (), ==, fp_mode);
}

/* A forward pass leaves the caller's floating-point mode as it was. */
static void
test_fp_mode_restored (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  const unsigned int fp_mode = _mm_getcsr ();
  g_autofree float *input = random_buffer (2 * 4 * 9 * 9);
  g_autofree float *out = NULL;
  gint64 shape[4];
  guint n_dims;
  TvwVal x;

  g_assert_cmphex (fp_mode & (_MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON), ==, 0);
  x = tvw_net_input (net, 4);
  x = tvw_net_conv2d (net, x, "c1", 32, 3, 1, 1, 1, 1, FALSE);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 3);

  out = run (net, input, 2, 9, 9, 2, shape, &n_dims);
  g_assert_nonnull (out);
  g_assert_cmphex (_mm_getcsr (), ==, fp_mode);
}

/* Two named outputs, one of them a view: a conv's map and its
 * per-channel mean (reduce over H, W), run through the general API; the
 * map comes back row-major N×C×H×W whatever the engine's layout. */
static void
test_named_outputs (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const gint64 shape[4] = { 2, 3, 5, 7 };
  g_autofree float *input = random_buffer (2 * 3 * 5 * 7);
  TvwArray in, out[2];
  TvwVal x, y, m;

  x = tvw_net_input_full (net, "image", TVW_ELEM_F32, 4, shape);
  y = tvw_net_conv2d (net, x, "conv", 4, 3, 1, 1, 1, 1, TRUE);
  m = tvw_net_reduce (net, TVW_REDUCE_MEAN, y, (1 << 2) | (1 << 3), FALSE);
  tvw_net_output (net, "map", y);
  tvw_net_output (net, "mean", m);
  g_assert_true (tvw_net_check (net, &error));
  g_assert_cmpuint (tvw_net_get_n_outputs (net), ==, 2);
  g_assert_cmpstr (tvw_net_get_output_name (net, 1), ==, "mean");
  tvw_net_init_random (net, 9);
  randomise (net, "conv.bias", -1, 1);
  g_assert_true (tvw_net_prepare (net, &error));

  tvw_array_init (&in, TVW_ELEM_F32, 4, shape);
  in.data = input;
  g_assert_true (tvw_net_run_arrays (net, &in, 2, NULL, out, &error));
  g_assert_no_error (error);

  g_assert_cmpint (out[0].rank, ==, 4);
  g_assert_cmpint (out[0].shape[1], ==, 4);
  g_assert_true (tvw_array_is_contiguous (&out[0]));
  g_assert_cmpint (out[1].rank, ==, 2);
  g_assert_cmpint (out[1].shape[0], ==, 2);
  g_assert_cmpint (out[1].shape[1], ==, 4);

  {
    const TvwConvSpec spec = { 3, 3, 1, 1, 1, 1, 1, 1, 1, TRUE };
    g_autofree float *ref = g_new (float, 2 * 4 * 5 * 7);
    int oh, ow;

    test_reference_conv2d (input, 2, 3, 5, 7, param (net, "conv.weight"), param (net, "conv.bias"),
                           4, &spec, ref, &oh, &ow);
    assert_close (out[0].data, ref, 2 * 4 * 5 * 7, 1e-5);
    for (int b = 0; b < 2; b++)
      for (int c = 0; c < 4; c++)
        {
          double sum = 0;

          for (int i = 0; i < 35; i++)
            sum += ref[(b * 4 + c) * 35 + i];
          g_assert_cmpfloat_with_epsilon (((float *) out[1].data)[b * 4 + c], sum / 35, 1e-5);
        }
  }

  g_free (out[0].data);
  g_free (out[1].data);
}

/* An N×H×W×C input permuted to N×C×H×W is a channels-last view: the
 * convolution reads it in place; the result equals the convolution of
 * the NCHW copy of the same data. */
static void
test_permuted_input (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const gint64 shape[4] = { 1, 6, 5, 3 };
  const int perm[4] = { 0, 3, 1, 2 };
  g_autofree float *nhwc = random_buffer (6 * 5 * 3);
  g_autofree float *nchw = g_new (float, 6 * 5 * 3);
  g_autofree float *ref = g_new (float, 8 * 6 * 5);
  const TvwConvSpec spec = { 3, 3, 1, 1, 1, 1, 1, 1, 1, FALSE };
  TvwArray in, out;
  TvwVal x;
  int oh, ow;

  x = tvw_net_input_full (net, "nhwc", TVW_ELEM_F32, 4, shape);
  x = tvw_net_permute (net, x, perm);
  x = tvw_net_conv2d_full (net, x, "conv", 8, &spec);
  tvw_net_set_output (net, x);
  tvw_net_init_random (net, 4);
  g_assert_true (tvw_net_prepare (net, &error));

  tvw_array_init (&in, TVW_ELEM_F32, 4, shape);
  in.data = nhwc;
  g_assert_true (tvw_net_run_arrays (net, &in, 1, NULL, &out, &error));
  g_assert_no_error (error);

  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 30; i++)
      nchw[c * 30 + i] = nhwc[i * 3 + c];
  test_reference_conv2d (nchw, 1, 3, 6, 5, param (net, "conv.weight"), NULL, 8, &spec, ref, &oh, &ow);
  g_assert_cmpint (out.shape[2], ==, 6);
  g_assert_cmpint (out.shape[3], ==, 5);
  assert_close (out.data, ref, 8 * 6 * 5, 1e-5);

  /* Read in place: the convolution (the last node) stages nothing. */
  {
    TvwNode *conv = tvw_net_node (net, net->nodes->len - 1);

    g_assert_true (conv->call.cls == &tvw_op_conv2d);
    g_assert_false (conv->staged[0]);
  }
  g_free (out.data);
}

/* Shape mismatches are GErrors that name the module and the shapes, at
 * build time and when a real input does not fit; never a crash. */
static void
test_malformed_graph (void)
{
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    TvwVal x = tvw_net_input (net, 3), a, b;

    a = tvw_net_conv2d (net, x, "layer1.0.conv1", 8, 3, 1, 1, 1, 1, FALSE);
    b = tvw_net_conv2d (net, x, "layer1.0.conv2", 8, 3, 2, 1, 1, 1, FALSE);
    x = tvw_net_add (net, a, b);
    g_assert_cmpint (x, ==, -1);
    /* Later constructors do nothing. */
    g_assert_cmpint (tvw_net_linear (net, x, "fc", 10, TRUE), ==, -1);
    tvw_net_set_output (net, x);
    g_assert_false (tvw_net_check (net, &error));
    g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
    g_assert_nonnull (strstr (error->message, "[1, 8, 224, 224]"));
    g_assert_nonnull (strstr (error->message, "[1, 8, 112, 112]"));
    g_clear_error (&error);
  }

  {
    g_autoptr(TvwNet) net = tvw_net_new ();
    const gint64 shape[2] = { 1, 16 };
    TvwVal x = tvw_net_input_full (net, "features", TVW_ELEM_F32, 2, shape);
    TvwArray in;
    float input[32] = { 0 };
    g_autofree float *out = NULL;

    x = tvw_net_linear (net, x, "classifier.1", 4, TRUE);
    tvw_net_set_output (net, x);
    tvw_net_init_random (net, 1);
    g_assert_true (tvw_net_prepare (net, &error));

    /* 32 features where the layer takes 16. */
    tvw_array_init (&in, TVW_ELEM_F32, 2, (gint64[]) { 1, 32 });
    in.data = input;
    {
      TvwArray result;

      g_assert_false (tvw_net_run_arrays (net, &in, 1, NULL, &result, &error));
    }
    g_assert_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH);
    g_assert_nonnull (strstr (error->message, "classifier.1"));
    g_assert_nonnull (strstr (error->message, "[1, 32]"));
  }
}

/* A data-dependent op in a graph: batched NMS, then the kept boxes and
 * scores gathered by its indices.  Two runs of the same plan keep 3 and 4
 * boxes; the outputs have those sizes and the boxes in decreasing score. */
static void
test_dynamic_shapes (void)
{
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  const gint64 bshape[2] = { 5, 4 }, kshape[1] = { 5 };
  /* A, A' (IoU 0.68 with A), B, B' (IoU 0.68 with B), C. */
  float boxes[5][4] = { { 0, 0, 10, 10 }, { 1, 1, 11, 11 }, { 20, 20, 30, 30 },
                        { 21, 21, 31, 31 }, { 50, 50, 60, 60 } };
  float scores[5] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f };
  gint64 classes[2][5] = { { 0, 0, 0, 0, 0 }, { 0, 1, 0, 0, 0 } };
  TvwVal b, s, c, keep;

  b = tvw_net_input_full (net, "boxes", TVW_ELEM_F32, 2, bshape);
  s = tvw_net_input_full (net, "scores", TVW_ELEM_F32, 1, kshape);
  c = tvw_net_input_full (net, "classes", TVW_ELEM_I64, 1, kshape);
  keep = tvw_net_batched_nms (net, b, s, c, 0.5);
  tvw_net_output (net, "boxes", tvw_net_index_select (net, b, 0, keep));
  tvw_net_output (net, "scores", tvw_net_index_select (net, s, 0, keep));
  g_assert_true (tvw_net_prepare (net, &error));

  for (int run = 0; run < 2; run++)
    {
      const int kept = run == 0 ? 3 : 4;
      const int order[2][4] = { { 0, 2, 4 }, { 0, 1, 2, 4 } };
      TvwArray in[3], out[2];

      tvw_array_init (&in[0], TVW_ELEM_F32, 2, bshape);
      in[0].data = boxes;
      tvw_array_init (&in[1], TVW_ELEM_F32, 1, kshape);
      in[1].data = scores;
      tvw_array_init (&in[2], TVW_ELEM_I64, 1, kshape);
      in[2].data = classes[run];
      g_assert_true (tvw_net_run_arrays (net, in, 1, NULL, out, &error));
      g_assert_no_error (error);

      g_assert_cmpint (out[0].rank, ==, 2);
      g_assert_cmpint (out[0].shape[0], ==, kept);
      g_assert_cmpint (out[1].shape[0], ==, kept);
      for (int i = 0; i < kept; i++)
        {
          g_assert_cmpfloat (((float *) out[1].data)[i], ==, scores[order[run][i]]);
          g_assert_cmpfloat (((float *) out[0].data)[i * 4], ==, boxes[order[run][i]][0]);
        }
      g_free (out[0].data);
      g_free (out[1].data);
    }
}

/* A module applied twice with tvw_net_set_param_sharing () is one set of
 * parameters and one copy of packed weights; the result is the module
 * applied twice. */
static void
test_shared_packing (void)
{
  const gint64 shape[4] = { 1, 16, 6, 6 };
  g_autofree float *input = random_buffer (16 * 36);
  gsize bytes[2];
  float *result[2];

  for (int shared = 0; shared < 2; shared++)
    {
      g_autoptr(TvwNet) net = tvw_net_new ();
      g_autoptr(GError) error = NULL;
      TvwArray in, out;
      TvwVal x;

      x = tvw_net_input_full (net, "x", TVW_ELEM_F32, 4, shape);
      tvw_net_set_param_sharing (net, shared);
      x = tvw_net_conv2d (net, x, "conv", 16, 3, 1, 1, 1, 1, TRUE);
      x = tvw_net_conv2d (net, x, shared ? "conv" : "conv2", 16, 3, 1, 1, 1, 1, TRUE);
      tvw_net_output (net, "y", x);
      g_assert_true (tvw_net_check (net, &error));
      tvw_net_init_random (net, 5);
      if (!shared)
        {
          /* The same values under the second name. */
          memcpy (param (net, "conv2.weight"), param (net, "conv.weight"), 16 * 16 * 9 * sizeof (float));
          memcpy (param (net, "conv2.bias"), param (net, "conv.bias"), 16 * sizeof (float));
        }
      g_assert_true (tvw_net_prepare (net, &error));
      bytes[shared] = tvw_net_get_packed_bytes (net);

      tvw_array_init (&in, TVW_ELEM_F32, 4, shape);
      in.data = input;
      g_assert_true (tvw_net_run_arrays (net, &in, 1, NULL, &out, &error));
      g_assert_no_error (error);
      result[shared] = out.data;
    }

  g_assert_cmpuint (bytes[1], >, 0);
  g_assert_cmpuint (bytes[1] * 2, ==, bytes[0]);
  for (int i = 0; i < 16 * 36; i++)
    g_assert_cmpfloat (result[0][i], ==, result[1][i]);
  g_free (result[0]);
  g_free (result[1]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tvw/engine/conv-matches-reference", test_conv_variants);
  g_test_add_func ("/tvw/engine/conv-deterministic-per-thread-count", test_conv_deterministic);
  g_test_add_func ("/tvw/engine/pools-match-reference", test_pools);
  g_test_add_func ("/tvw/engine/classifier-head", test_classifier_head);
  g_test_add_func ("/tvw/engine/flatten-is-nchw-order", test_flatten_order);
  g_test_add_func ("/tvw/engine/activations", test_activations);
  g_test_add_func ("/tvw/engine/input-too-small", test_too_small_input);
  g_test_add_func ("/tvw/engine/cancel-between-nodes", test_cancel);
  g_test_add_func ("/tvw/engine/thread-pool", test_thread_pool);
  g_test_add_func ("/tvw/engine/fp-mode-restored", test_fp_mode_restored);
  g_test_add_func ("/tvw/engine/graph/named-outputs", test_named_outputs);
  g_test_add_func ("/tvw/engine/graph/shared-packing", test_shared_packing);
  g_test_add_func ("/tvw/engine/graph/permuted-input-is-a-view", test_permuted_input);
  g_test_add_func ("/tvw/engine/graph/malformed", test_malformed_graph);
  g_test_add_func ("/tvw/engine/graph/data-dependent-shapes", test_dynamic_shapes);

  return g_test_run ();
}
