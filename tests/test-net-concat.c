/* test-net-concat.c — concatenations written in place by the planner
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The planner lets a convolution write its output straight into its slice
 * of the channel concatenation that reads it, and turns a concatenation
 * whose inputs already lie side by side in a later one's output (a
 * DenseNet block's) into a slice of it.  These tests build such graphs,
 * check against a naive NCHW computation that the results are those of
 * plain copies, and check that the planner did place the values.  Also the
 * ops this relies on: BatchNorm reading a channel slice of a wider map,
 * and max pooling in ceil mode over a map smaller than its window; and
 * the pass that lets a channel shuffle read a concatenation's inputs.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "tvw-engine-private.h"
#include "tvw-graph-private.h"
#include "tvw-op-test.h"

#define EPS 1e-5

static GRand *rng;

static float *
random_floats (gsize n,
               float lo,
               float hi)
{
  float *buf = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    buf[i] = test_rand_float (rng, lo, hi);
  return buf;
}

static float *
param (TvwNet     *net,
       const char *name,
       gint64     *numel)
{
  float *p = tvw_net_lookup_param (net, name, numel);

  g_assert_nonnull (p);
  return p;
}

static void
randomise_param (TvwNet     *net,
                 const char *name,
                 float       lo,
                 float       hi)
{
  gint64 numel;
  float *p = param (net, name, &numel);

  for (gint64 i = 0; i < numel; i++)
    p[i] = test_rand_float (rng, lo, hi);
}

/* BatchNorm statistics far from the identity. */
static void
randomise_batch_norm (TvwNet     *net,
                      const char *prefix)
{
  static const struct { const char *suffix; float lo, hi; } ranges[] = {
    { "weight", 0.5f, 1.5f }, { "bias", -0.5f, 0.5f },
    { "running_mean", -0.3f, 0.3f }, { "running_var", 0.5f, 2.0f },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (ranges); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", prefix, ranges[i].suffix);

      randomise_param (net, name, ranges[i].lo, ranges[i].hi);
    }
}

/* Reference BatchNorm (eval) and optional ReLU on NCHW, in place. */
static void
reference_batch_norm (TvwNet     *net,
                      const char *prefix,
                      float      *x,
                      int         n,
                      int         c,
                      int         hw,
                      gboolean    relu)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", prefix);
  g_autofree char *bn = g_strdup_printf ("%s.bias", prefix);
  g_autofree char *mn = g_strdup_printf ("%s.running_mean", prefix);
  g_autofree char *vn = g_strdup_printf ("%s.running_var", prefix);
  const float *gamma = param (net, wn, NULL), *beta = param (net, bn, NULL);
  const float *mean = param (net, mn, NULL), *var = param (net, vn, NULL);

  for (int b = 0; b < n; b++)
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < hw; i++)
        {
          float *v = &x[((gsize) b * c + ch) * hw + i];
          double y = (*v - mean[ch]) / sqrt ((double) var[ch] + EPS) * gamma[ch] + beta[ch];

          *v = (float) (relu && y < 0 ? 0 : y);
        }
}

static float *
reference_conv (TvwNet      *net,
                const char  *name,
                const float *x,
                int          n,
                int          c,
                int          h,
                int          w,
                int          cout,
                int          kernel,
                gboolean     bias,
                gboolean     relu)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", name);
  g_autofree char *bn = g_strdup_printf ("%s.bias", name);
  TvwConvSpec s = { kernel, kernel, 1, 1, kernel / 2, kernel / 2, 1, 1, 1, bias };
  float *y = g_new (float, (gsize) n * cout * h * w);
  int oh, ow;

  test_reference_conv2d (x, n, c, h, w, param (net, wn, NULL), bias ? param (net, bn, NULL) : NULL,
                         cout, &s, y, &oh, &ow);
  if (relu)
    for (gsize i = 0; i < (gsize) n * cout * h * w; i++)
      y[i] = MAX (y[i], 0.f);
  return y;
}

/* NCHW concatenation along channels. */
static float *
reference_concat (int           n_in,
                  float * const *xs,
                  const int    *channels,
                  int           n,
                  int           hw,
                  int          *out_channels)
{
  int total = 0, at = 0;
  float *y;

  for (int i = 0; i < n_in; i++)
    total += channels[i];
  y = g_new (float, (gsize) n * total * hw);
  for (int i = 0; i < n_in; i++)
    {
      for (int b = 0; b < n; b++)
        memcpy (y + ((gsize) b * total + at) * hw, xs[i] + (gsize) b * channels[i] * hw,
                (gsize) channels[i] * hw * sizeof (float));
      at += channels[i];
    }
  *out_channels = total;
  return y;
}

static void
assert_close (const float *got,
              const float *want,
              gsize        count,
              double       rtol)
{
  double max_ref = 1, max_diff = 0;

  for (gsize i = 0; i < count; i++)
    {
      max_ref = MAX (max_ref, fabs (want[i]));
      max_diff = MAX (max_diff, fabs ((double) got[i] - want[i]));
    }
  g_assert_cmpfloat (max_diff, <=, rtol * max_ref);
}

static int
last_node_of (TvwNet           *net,
              const TvwOpClass *cls,
              int               skip)
{
  for (int i = (int) net->nodes->len - 1; i >= 0; i--)
    if (!tvw_net_node (net, i)->dead && tvw_net_node (net, i)->call.cls == cls && skip-- == 0)
      return i;
  return -1;
}

#define GROWTH 24
#define STEM 16
#define N_LAYERS 3

/* A DenseNet block in small: a stem convolution (im2col), then layers of
 * BatchNorm + ReLU over the concatenation of everything so far, a 1×1
 * convolution (the GEMM on the input itself) and a 3×3 one with 24 channels
 * in and out (Winograd) — 24: the GEMM's last 16-column panel is partial,
 * its edge must not spill into the next slice — and a last concatenation
 * read by a BatchNorm.
 * Every concatenation's input is written in place, the earlier
 * concatenations are slices of the last; the result is that of copies. */
static void
test_dense_block (void)
{
  const int n = 2, h = 9, w = 11, hw = h * w;
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *input = random_floats ((gsize) n * 3 * hw, -1, 1);
  g_autofree float *out = NULL;
  float *ref_features[N_LAYERS + 1];
  int channels[N_LAYERS + 1];
  g_autofree float *ref = NULL;
  TvwVal features[N_LAYERS + 1];
  TvwVal x;
  gint64 shape[TVW_MAX_RANK];
  guint n_dims;
  int total, last, root;

  x = tvw_net_input (net, 3);
  features[0] = tvw_net_conv2d (net, x, "stem", STEM, 3, 1, 1, 1, 1, TRUE);
  for (int i = 1; i <= N_LAYERS; i++)
    {
      g_autofree char *bn = g_strdup_printf ("l%d.bn", i);
      g_autofree char *conv1 = g_strdup_printf ("l%d.conv1", i);
      g_autofree char *conv2 = g_strdup_printf ("l%d.conv2", i);

      x = i > 1 ? tvw_net_concat (net, i, features, 1) : features[0];
      x = tvw_net_batch_norm (net, x, bn, EPS);
      x = tvw_net_activation (net, x, TVW_ACT_RELU);
      x = tvw_net_conv2d (net, x, conv1, GROWTH, 1, 1, 0, 1, 1, TRUE);
      x = tvw_net_activation (net, x, TVW_ACT_RELU);
      features[i] = tvw_net_conv2d (net, x, conv2, GROWTH, 3, 1, 1, 1, 1, FALSE);
    }
  x = tvw_net_concat (net, N_LAYERS + 1, features, 1);
  x = tvw_net_batch_norm (net, x, "final", EPS);
  tvw_net_set_output (net, x);
  g_assert_true (tvw_net_check (net, &error));

  tvw_net_init_random (net, 14);
  randomise_param (net, "stem.bias", -0.5f, 0.5f);
  randomise_batch_norm (net, "final");
  for (int i = 1; i <= N_LAYERS; i++)
    {
      g_autofree char *bn = g_strdup_printf ("l%d.bn", i);
      g_autofree char *bias = g_strdup_printf ("l%d.conv1.bias", i);

      randomise_batch_norm (net, bn);
      randomise_param (net, bias, -0.5f, 0.5f);
    }

  /* The reference, with copies. */
  ref_features[0] = reference_conv (net, "stem", input, n, 3, h, w, STEM, 3, TRUE, FALSE);
  channels[0] = STEM;
  for (int i = 1; i <= N_LAYERS; i++)
    {
      g_autofree char *bn = g_strdup_printf ("l%d.bn", i);
      g_autofree char *conv1 = g_strdup_printf ("l%d.conv1", i);
      g_autofree char *conv2 = g_strdup_printf ("l%d.conv2", i);
      g_autofree float *cat = reference_concat (i, ref_features, channels, n, hw, &total);
      g_autofree float *y = NULL;

      reference_batch_norm (net, bn, cat, n, total, hw, TRUE);
      y = reference_conv (net, conv1, cat, n, total, h, w, GROWTH, 1, TRUE, TRUE);
      ref_features[i] = reference_conv (net, conv2, y, n, GROWTH, h, w, GROWTH, 3, FALSE, FALSE);
      channels[i] = GROWTH;
    }
  ref = reference_concat (N_LAYERS + 1, ref_features, channels, n, hw, &total);
  reference_batch_norm (net, "final", ref, n, total, hw, FALSE);

  for (int threads = 1; threads <= 3; threads += 2)
    {
      g_clear_pointer (&out, g_free);
      g_assert_true (tvw_net_prepare (net, &error));
      g_assert_true (tvw_net_run (net, input, n, h, w, threads, NULL, &out, shape, &n_dims, &error));
      g_assert_no_error (error);
      g_assert_cmpint (shape[1], ==, total);
      assert_close (out, ref, (gsize) n * total * hw, 1e-4);
    }

  /* Every feature lives in the last concatenation's output, at its
   * channel; the earlier concatenations are its first channels. */
  last = last_node_of (net, &tvw_op_concat, 0);
  g_assert_cmpint (last, >=, 0);
  root = tvw_net_node (net, last)->out[0];
  g_assert_cmpint (tvw_net_value (net, root)->alias, ==, -1);
  for (int i = 0, at = 0; i <= N_LAYERS; i++)
    {
      const TvwValue *v = tvw_net_value (net, tvw_net_node (net, last)->in[i]);

      g_assert_cmpint (v->alias, ==, root);
      g_assert_cmpint (v->alias_channel, ==, at);
      at += channels[i];
    }
  for (int k = 1; k < N_LAYERS - 1; k++)
    {
      int earlier = last_node_of (net, &tvw_op_concat, k);

      g_assert_cmpint (tvw_net_value (net, tvw_net_node (net, earlier)->out[0])->alias, ==, root);
      g_assert_cmpint (tvw_net_value (net, tvw_net_node (net, earlier)->out[0])->alias_channel, ==, 0);
    }

  for (int i = 0; i <= N_LAYERS; i++)
    g_free (ref_features[i]);
}

/* A pool's output is written in place too; what cannot be is copied: the
 * second place of a value concatenated twice, the graph output; a
 * concatenation is written in place into a later one; a placed value that
 * a convolution also reads reaches it through a staging copy.  Same
 * results as copies. */
static void
test_mixed_inputs (void)
{
  const int n = 1, c = 4, h = 6, w = 5, hw = h * w, k = 8;
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *input = random_floats ((gsize) n * c * hw, -1, 1);
  g_autofree float *out = NULL;
  g_autofree float *a = NULL, *b = NULL, *pooled = NULL, *ref = NULL;
  TvwVal x, va, vb, vp, first, parts[3];
  gint64 shape[TVW_MAX_RANK];
  guint n_dims;
  int channels[4], total;

  x = tvw_net_input (net, c);
  va = tvw_net_conv2d (net, x, "a", k, 3, 1, 1, 1, 1, TRUE);
  vb = tvw_net_conv2d (net, va, "b", k, 1, 1, 0, 1, 1, TRUE);
  vp = tvw_net_max_pool2d (net, x, 3, 1, 1, FALSE);
  parts[0] = va;
  parts[1] = vp;
  parts[2] = va;
  first = tvw_net_concat (net, 3, parts, 1);
  parts[0] = first;
  parts[1] = vb;
  x = tvw_net_concat (net, 2, parts, 1);
  tvw_net_set_output (net, x);
  g_assert_true (tvw_net_check (net, &error));
  tvw_net_init_random (net, 3);
  randomise_param (net, "a.bias", -0.5f, 0.5f);
  randomise_param (net, "b.bias", -0.5f, 0.5f);

  a = reference_conv (net, "a", input, n, c, h, w, k, 3, TRUE, FALSE);
  b = reference_conv (net, "b", a, n, k, h, w, k, 1, TRUE, FALSE);
  pooled = g_new (float, (gsize) n * c * hw);
  for (int ch = 0; ch < n * c; ch++)
    for (int y = 0; y < h; y++)
      for (int xx = 0; xx < w; xx++)
        {
          float m = -INFINITY;

          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              if (y + dy >= 0 && y + dy < h && xx + dx >= 0 && xx + dx < w)
                m = MAX (m, input[(gsize) ch * hw + (y + dy) * w + xx + dx]);
          pooled[(gsize) ch * hw + y * w + xx] = m;
        }
  {
    float *xs[3] = { a, pooled, a };
    int cs[3] = { k, c, k };
    g_autofree float *cat = reference_concat (3, xs, cs, n, hw, &total);
    float *ys[2] = { cat, b };

    channels[0] = total;
    channels[1] = k;
    ref = reference_concat (2, ys, channels, n, hw, &total);
  }

  g_assert_true (tvw_net_prepare (net, &error));
  g_assert_true (tvw_net_run (net, input, n, h, w, 2, NULL, &out, shape, &n_dims, &error));
  g_assert_no_error (error);
  g_assert_cmpint (shape[1], ==, total);
  assert_close (out, ref, (gsize) n * total * hw, 1e-4);

  /* The graph output keeps its own storage; its inputs are placed in it,
   * and the first concatenation's first input too. */
  g_assert_cmpint (tvw_net_value (net, x)->alias, ==, -1);
  g_assert_cmpint (tvw_net_value (net, first)->alias, ==, x);
  g_assert_cmpint (tvw_net_value (net, vb)->alias, ==, x);
  g_assert_cmpint (tvw_net_value (net, vb)->alias_channel, ==, 2 * k + c);
  g_assert_cmpint (tvw_net_value (net, va)->alias, ==, x);
  g_assert_cmpint (tvw_net_value (net, va)->alias_channel, ==, 0);
  g_assert_cmpint (tvw_net_value (net, vp)->alias, ==, x);
  g_assert_cmpint (tvw_net_value (net, vp)->alias_channel, ==, k);
}

/* ShuffleNet V2's unit in small: a 1×1 convolution's output (channels
 * last) split in halves, a 1×1 convolution + ReLU on the second, torch.cat with the first, a channel
 * shuffle of two groups and a 1×1 convolution after it.  The passes fuse
 * the concatenation into the shuffle (it reads the split half and the
 * convolution's output itself); with @shared, the concatenation is also
 * added to the shuffle's output, so it has two readers and stays. */
static void
check_concat_shuffle (gboolean shared)
{
  const int n = 2, half = 6, c = 2 * half, h = 5, w = 7, hw = h * w, k = 8;
  g_autoptr(TvwNet) net = tvw_net_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *input = random_floats ((gsize) n * c * hw, -1, 1);
  g_autofree float *first = g_new (float, (gsize) n * half * hw);
  g_autofree float *second = g_new (float, (gsize) n * half * hw);
  g_autofree float *shuffled = g_new (float, (gsize) n * c * hw);
  g_autofree float *out = NULL, *a = NULL, *b = NULL, *cat = NULL, *ref = NULL;
  const gint64 sizes[2] = { half, half };
  TvwVal x, halves[2], parts[2], vcat, y;
  gint64 shape[TVW_MAX_RANK];
  guint n_dims;
  int channels[2] = { half, half }, total, shuffle;

  x = tvw_net_conv2d (net, tvw_net_input (net, c), "a", c, 1, 1, 0, 1, 1, TRUE);
  tvw_net_split (net, x, 1, 2, sizes, halves);
  parts[0] = halves[0];
  parts[1] = tvw_net_activation (net, tvw_net_conv2d (net, halves[1], "b", half, 1, 1, 0, 1, 1, TRUE),
                                 TVW_ACT_RELU);
  vcat = tvw_net_concat (net, 2, parts, 1);
  y = tvw_net_channel_shuffle (net, vcat, 2);
  if (shared)
    y = tvw_net_add (net, y, vcat);
  y = tvw_net_conv2d (net, y, "c", k, 1, 1, 0, 1, 1, TRUE);
  tvw_net_set_output (net, y);
  g_assert_true (tvw_net_check (net, &error));
  tvw_net_init_random (net, 5);
  randomise_param (net, "a.bias", -0.5f, 0.5f);
  randomise_param (net, "b.bias", -0.5f, 0.5f);

  a = reference_conv (net, "a", input, n, c, h, w, c, 1, TRUE, FALSE);
  for (int i = 0; i < n; i++)
    {
      memcpy (first + (gsize) i * half * hw, a + (gsize) i * c * hw, (gsize) half * hw * sizeof (float));
      memcpy (second + (gsize) i * half * hw, a + ((gsize) i * c + half) * hw,
              (gsize) half * hw * sizeof (float));
    }
  b = reference_conv (net, "b", second, n, half, h, w, half, 1, TRUE, TRUE);
  {
    float *xs[2] = { first, b };

    cat = reference_concat (2, xs, channels, n, hw, &total);
  }
  /* Output channel 2a + g is channel g·half + a. */
  for (int i = 0; i < n; i++)
    for (int ch = 0; ch < c; ch++)
      for (int p = 0; p < hw; p++)
        shuffled[((gsize) i * c + ch) * hw + p] =
          cat[((gsize) i * c + ch % 2 * half + ch / 2) * hw + p] +
          (shared ? cat[((gsize) i * c + ch) * hw + p] : 0.f);
  ref = reference_conv (net, "c", shuffled, n, c, h, w, k, 1, TRUE, FALSE);

  g_assert_true (tvw_net_prepare (net, &error));
  g_assert_true (tvw_net_run (net, input, n, h, w, 2, NULL, &out, shape, &n_dims, &error));
  g_assert_no_error (error);
  g_assert_cmpint (shape[1], ==, k);
  assert_close (out, ref, (gsize) n * k * hw, 1e-4);

  /* Fused: no concatenation left, the shuffle reads its two inputs. */
  shuffle = last_node_of (net, &tvw_op_channel_shuffle, 0);
  g_assert_cmpint (shuffle, >=, 0);
  if (shared)
    {
      g_assert_cmpint (last_node_of (net, &tvw_op_concat, 0), >=, 0);
      g_assert_cmpint (tvw_net_node (net, shuffle)->call.n_in, ==, 1);
    }
  else
    {
      g_assert_cmpint (last_node_of (net, &tvw_op_concat, 0), ==, -1);
      g_assert_cmpint (tvw_net_node (net, shuffle)->call.n_in, ==, 2);
      g_assert_cmpint (tvw_net_node (net, shuffle)->in[0], ==, halves[0]);
      /* The split half is a channels-last view of the input: the output
       * stays channels-last, as the concatenation's would. */
      g_assert_true (tvw_array_is_channels_last (&tvw_net_node (net, shuffle)->call.out[0]));
      /* The convolution's output (the ReLU was fused into it). */
      g_assert_true (tvw_net_node (net, tvw_net_value (net, tvw_net_node (net, shuffle)->in[1])->producer)->call.cls ==
                     &tvw_op_conv2d);
    }
}

static void
test_concat_shuffle (void)
{
  check_concat_shuffle (FALSE);
  check_concat_shuffle (TRUE);
}

/* BatchNorm reads a channel slice of a wider channels-last map as it is. */
static void
test_batch_norm_pitched (void)
{
  const int n = 2, c = 5, h = 3, w = 4, pitch = 13;
  TvwArray x, weights[TVW_BATCH_NORM_N_WEIGHTS], out;
  TvwWeightSpec specs[TVW_BATCH_NORM_N_WEIGHTS];
  g_autofree float *buf = random_floats ((gsize) n * h * w * pitch, -2, 2);
  float *params[4] = { NULL };
  TvwBatchNormParams p = { EPS, TVW_ACT_RELU };
  g_autoptr(GError) error = NULL;
  const gint64 shape[4] = { n, c, h, w };

  tvw_batch_norm_weights (c, specs);
  for (int i = 0; i < TVW_BATCH_NORM_N_WEIGHTS; i++)
    {
      tvw_array_init (&weights[i], TVW_ELEM_F32, specs[i].rank, specs[i].shape);
      if (i < 4)
        {
          params[i] = random_floats (c, i == 3 ? 0.5f : -1.f, 1.5f);
          weights[i].data = params[i];
        }
    }

  /* Channels 3…7 of a 13-channel map. */
  tvw_array_init (&x, TVW_ELEM_F32, 4, shape);
  tvw_array_set_channels_last_pitch (&x, pitch);
  x.data = buf + 3;
  g_assert_cmpint (tvw_array_channels_last_pitch (&x), ==, pitch);

  g_assert_true (tvw_op_eager (&tvw_op_batch_norm, "bn", &p, 1, &x, TVW_BATCH_NORM_N_WEIGHTS,
                               weights, 1, &out, 2, &error));
  g_assert_no_error (error);
  g_assert_true (tvw_array_is_channels_last (&out));

  for (int b = 0; b < n; b++)
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < h * w; i++)
        {
          double v = buf[((gsize) b * h * w + i) * pitch + 3 + ch];
          double y = (v - params[2][ch]) / sqrt ((double) params[3][ch] + EPS) * params[0][ch] +
                     params[1][ch];
          float got = ((float *) out.data)[((gsize) b * h * w + i) * c + ch];

          g_assert_cmpfloat_with_epsilon (got, MAX (y, 0), 1e-5);
        }
  g_free (out.data);
  /* g_autofree on an array would free only its first element */
  for (int i = 0; i < 4; i++)
    g_free (params[i]);
}

/* A 3×3 window by 2 in ceil mode over a 2×2 map: one window, clipped to
 * the map (PyTorch's size; SqueezeNet at its smallest input). */
static void
test_max_pool_ceil_small_map (void)
{
  const gint64 shape[4] = { 1, 3, 2, 2 };
  TvwPool2dParams p = { .kernel = 3, .stride = 2, .padding = 0, .ceil_mode = TRUE };
  g_autofree float *data = random_floats (12, -1, 1);
  g_autoptr(GError) error = NULL;
  TvwArray x, out;

  tvw_array_init (&x, TVW_ELEM_F32, 4, shape);
  x.data = data;
  g_assert_true (tvw_op_eager (&tvw_op_max_pool2d, "pool", &p, 1, &x, 0, NULL, 1, &out, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out.shape[2], ==, 1);
  g_assert_cmpint (out.shape[3], ==, 1);
  for (int ch = 0; ch < 3; ch++)
    {
      float m = MAX (MAX (data[ch * 4], data[ch * 4 + 1]), MAX (data[ch * 4 + 2], data[ch * 4 + 3]));

      g_assert_cmpfloat (((float *) out.data)[ch], ==, m);
    }
  g_free (out.data);

  /* Without ceil mode there is no window. */
  p.ceil_mode = FALSE;
  g_assert_false (tvw_op_eager (&tvw_op_max_pool2d, "pool", &p, 1, &x, 0, NULL, 1, &out, 1, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  tvw_engine_init ();
  rng = g_rand_new_with_seed (1414);

  g_test_add_func ("/tvw/engine/plan/concat-in-place/dense-block", test_dense_block);
  g_test_add_func ("/tvw/engine/plan/concat-in-place/copies-what-it-cannot-place",
                   test_mixed_inputs);
  g_test_add_func ("/tvw/engine/passes/concat-into-channel-shuffle", test_concat_shuffle);
  g_test_add_func ("/tvw/ops/batch_norm/reads-a-channel-slice", test_batch_norm_pitched);
  g_test_add_func ("/tvw/ops/max_pool2d/ceil-mode-window-larger-than-map",
                   test_max_pool_ceil_small_map);

  ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
