/* tvw-op-test.h — a small harness for testing engine ops against naive
 * references (in the spirit of ggml's test-backend-ops)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An op test makes random inputs — contiguous, or views with permuted or
 * gapped strides over a larger buffer — runs the op alone with
 * tvw_op_eager () at several thread counts, and compares every output
 * element with a reference the test computes itself by the op's
 * definition, at a stated tolerance.  Header-only: each test file that
 * includes it gets its own copy of these static helpers.
 */

#pragma once

#include <math.h>
#include <string.h>

#include <glib.h>

#include "tvw-op-private.h"
#include "tvw-ops-private.h"

typedef enum
{
  TEST_LAYOUT_CONTIGUOUS,
  TEST_LAYOUT_CHANNELS_LAST,   /* rank 4/5; else contiguous */
  TEST_LAYOUT_PERMUTED,        /* a random permutation of the storage order */
  TEST_LAYOUT_GAPPED,          /* contiguous inside a larger buffer: every
                                * dimension padded, an offset in front */
  TEST_N_LAYOUTS
} TestLayout;

/* A test array: its descriptor (data points inside @storage) and the
 * storage it owns. */
typedef struct
{
  TvwArray  a;
  gpointer  storage;
} TestArray;

static inline void
test_array_clear (TestArray *t)
{
  g_clear_pointer (&t->storage, g_free);
}

static inline float
test_rand_float (GRand *rng,
                 float  lo,
                 float  hi)
{
  return (float) g_rand_double_range (rng, lo, hi);
}

/* Fills @t with random values in [lo, hi) (integers: [lo, hi] rounded
 * down; bool: 0/1), shape @shape, laid out as @layout. */
static inline void
test_array_random (TestArray     *t,
                   GRand         *rng,
                   TvwElem        elem,
                   int            rank,
                   const gint64  *shape,
                   TestLayout     layout,
                   double         lo,
                   double         hi)
{
  const gsize es = tvw_elem_size (elem);
  gint64 padded[TVW_MAX_RANK];
  int order[TVW_MAX_RANK];
  gint64 offset = 0, total = 1, s;

  memset (t, 0, sizeof *t);
  tvw_array_init (&t->a, elem, rank, shape);

  for (int i = 0; i < rank; i++)
    {
      order[i] = i;
      padded[i] = shape[i];
    }

  switch (layout)
    {
    case TEST_LAYOUT_CHANNELS_LAST:
      tvw_array_set_channels_last (&t->a);
      break;
    case TEST_LAYOUT_PERMUTED:
      for (int i = rank - 1; i > 0; i--)
        {
          int j = g_rand_int_range (rng, 0, i + 1), tmp = order[i];

          order[i] = order[j];
          order[j] = tmp;
        }
      s = 1;
      for (int i = rank - 1; i >= 0; i--)
        {
          t->a.stride[order[i]] = s;
          s *= MAX (shape[order[i]], 1);
        }
      break;
    case TEST_LAYOUT_GAPPED:
      for (int i = 0; i < rank; i++)
        padded[i] = shape[i] + g_rand_int_range (rng, 0, 3);
      s = 1;
      for (int i = rank - 1; i >= 0; i--)
        {
          t->a.stride[i] = s;
          s *= MAX (padded[i], 1);
        }
      offset = g_rand_int_range (rng, 0, 5);
      break;
    case TEST_LAYOUT_CONTIGUOUS:
    case TEST_N_LAYOUTS:
    default:
      break;
    }

  for (int i = 0; i < rank; i++)
    total += (MAX (padded[i], 1) - 1) * t->a.stride[i];
  total += offset;

  t->storage = g_malloc0 (total * es);
  t->a.data = (guint8 *) t->storage + offset * es;

  /* Garbage in the gaps: a kernel that reads them shows. */
  for (gint64 i = 0; i < total; i++)
    {
      double v = g_rand_double_range (rng, lo, hi);
      guint8 *p = (guint8 *) t->storage + i * es;

      switch (elem)
        {
        case TVW_ELEM_F32: *(float *) p = (float) v; break;
        case TVW_ELEM_I32: *(gint32 *) p = (gint32) floor (v); break;
        case TVW_ELEM_I64: *(gint64 *) p = (gint64) floor (v); break;
        case TVW_ELEM_U8: *(guint8 *) p = (guint8) CLAMP (floor (v), 0, 255); break;
        case TVW_ELEM_I8: *(gint8 *) p = (gint8) CLAMP (floor (v), -128, 127); break;
        case TVW_ELEM_BOOL: *p = v >= (lo + hi) / 2; break;
        default: break;
        }
    }
}

/* The element at logical multi-index @idx, as a double. */
static inline double
test_array_get (const TvwArray *a,
                const gint64   *idx)
{
  gint64 off = 0;
  const guint8 *p;

  for (int i = 0; i < a->rank; i++)
    off += idx[i] * a->stride[i];
  p = (const guint8 *) a->data + off * (gint64) tvw_elem_size (a->elem);

  switch (a->elem)
    {
    case TVW_ELEM_F32: return *(const float *) p;
    case TVW_ELEM_I32: return *(const gint32 *) p;
    case TVW_ELEM_I64: return (double) *(const gint64 *) p;
    case TVW_ELEM_U8: return *(const guint8 *) p;
    case TVW_ELEM_I8: return *(const gint8 *) p;
    case TVW_ELEM_BOOL: return *p;
    default: return NAN;
    }
}

/* Logical index @flat (row-major over the shape) to a multi-index. */
static inline void
test_unflatten (const TvwArray *a,
                gint64          flat,
                gint64         *idx)
{
  for (int i = a->rank - 1; i >= 0; i--)
    {
      idx[i] = a->shape[i] > 0 ? flat % a->shape[i] : 0;
      flat = a->shape[i] > 0 ? flat / a->shape[i] : 0;
    }
}

/* Checks @got (any strides) against @want (row-major doubles):
 * |got − want| ≤ atol + rtol·|want| everywhere, same shape.  Returns the
 * largest error found. */
static inline double
test_assert_close (const char     *what,
                   const TvwArray *got,
                   int             rank,
                   const gint64   *shape,
                   const double   *want,
                   double          atol,
                   double          rtol)
{
  gint64 idx[TVW_MAX_RANK], n = 1;
  double worst = 0;

  if (got->rank != rank)
    g_error ("%s: rank %d, expected %d", what, got->rank, rank);
  for (int i = 0; i < rank; i++)
    {
      if (got->shape[i] != shape[i])
        g_error ("%s: dim %d is %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                 what, i, got->shape[i], shape[i]);
      n *= shape[i];
    }

  for (gint64 f = 0; f < n; f++)
    {
      double g, err;

      test_unflatten (got, f, idx);
      g = test_array_get (got, idx);
      err = fabs (g - want[f]);
      if (!(err <= atol + rtol * fabs (want[f])))
        g_error ("%s: element %" G_GINT64_FORMAT " is %.9g, expected %.9g (tolerance %g + %g·|ref|)",
                 what, f, g, want[f], atol, rtol);
      worst = MAX (worst, err);
    }

  return worst;
}

/* Runs @cls on @in at 1, 2 and 3 threads; checks that each run gives the
 * same bytes (deterministic for a thread count is not required across
 * counts, but the results must agree within @atol), and returns the
 * 1-thread outputs in @out (the caller frees out[i].data unless a view). */
static inline void
test_run_op (const TvwOpClass *cls,
             gconstpointer     params,
             int               n_in,
             const TvwArray   *in,
             int               n_weights,
             const TvwArray   *weights,
             int               n_out,
             TvwArray         *out,
             double            atol)
{
  g_autoptr(GError) error = NULL;

  if (!tvw_op_eager (cls, "test", params, n_in, in, n_weights, weights, n_out, out, 1, &error))
    g_error ("%s: %s", cls->name, error->message);

  for (int threads = 2; threads <= 3; threads++)
    {
      g_autofree TvwArray *again = g_new0 (TvwArray, n_out);

      if (!tvw_op_eager (cls, "test", params, n_in, in, n_weights, weights, n_out, again, threads, &error))
        g_error ("%s at %d threads: %s", cls->name, threads, error->message);

      for (int o = 0; o < n_out; o++)
        {
          gint64 idx[TVW_MAX_RANK], n = tvw_array_numel (&out[o]);

          g_assert_true (tvw_array_same_shape (&out[o], &again[o]));
          for (gint64 f = 0; f < n; f++)
            {
              double v, w;

              test_unflatten (&out[o], f, idx);
              v = test_array_get (&out[o], idx);
              w = test_array_get (&again[o], idx);
              /* (NaN where the other run has NaN too is the same.) */
              if (!(fabs (v - w) <= atol) && !(isnan (v) && isnan (w)))
                g_error ("%s: output %d element %" G_GINT64_FORMAT " differs at %d threads",
                         cls->name, o, f, threads);
            }
          if (!(cls->flags & TVW_OP_VIEW))
            g_free (again[o].data);
        }
    }
}

/* Checks that @cls refuses @in (run as node “@name” with @n_out outputs)
 * with a TVW_ERROR @code whose message names the node and says @expect. */
static inline void
test_assert_refused (const TvwOpClass *cls,
                     const char       *name,
                     gconstpointer     params,
                     int               n_in,
                     const TvwArray   *in,
                     int               n_weights,
                     const TvwArray   *weights,
                     int               n_out,
                     int               code,
                     const char       *expect)
{
  GError *error = NULL;
  TvwArray out[TVW_MAX_RANK];

  g_assert_cmpint (n_out, <=, TVW_MAX_RANK);
  g_assert_false (tvw_op_eager (cls, name, params, n_in, in, n_weights, weights, n_out, out, 1,
                                &error));
  g_assert_error (error, TVW_ERROR, code);
  g_assert_nonnull (strstr (error->message, name));
  if (strstr (error->message, expect) == NULL)
    g_error ("“%s” does not say “%s”", error->message, expect);
  g_error_free (error);
}

/* PyTorch's output size of a convolution. */
static inline int
test_conv_out (int size,
               int kernel,
               int stride,
               int pad,
               int dilation)
{
  int num = size + 2 * pad - dilation * (kernel - 1) - 1;

  return num < 0 ? 0 : num / stride + 1;
}

/* Naive reference: the definition of a convolution, for tests. */
static inline void
test_reference_conv2d (const float       *input,
                       int                n,
                       int                c,
                       int                h,
                       int                w,
                       const float       *weight,
                       const float       *bias,
                       int                out_channels,
                       const TvwConvSpec *s,
                       float             *output,
                       int               *out_h,
                       int               *out_w)
{
  int oh = test_conv_out (h, s->kernel_h, s->stride_h, s->pad_h, s->dilation_h);
  int ow = test_conv_out (w, s->kernel_w, s->stride_w, s->pad_w, s->dilation_w);
  int cin_g = c / s->groups, cout_g = out_channels / s->groups;

  *out_h = oh;
  *out_w = ow;

  for (int b = 0; b < n; b++)
    for (int o = 0; o < out_channels; o++)
      for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++)
          {
            int g = o / cout_g;
            double acc = bias != NULL ? bias[o] : 0.0;

            for (int ci = 0; ci < cin_g; ci++)
              for (int ky = 0; ky < s->kernel_h; ky++)
                for (int kx = 0; kx < s->kernel_w; kx++)
                  {
                    int iy = y * s->stride_h - s->pad_h + ky * s->dilation_h;
                    int ix = x * s->stride_w - s->pad_w + kx * s->dilation_w;

                    if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                      continue;
                    acc += (double) input[(((gsize) b * c + g * cin_g + ci) * h + iy) * w + ix] *
                           weight[(((gsize) o * cin_g + ci) * s->kernel_h + ky) * s->kernel_w + kx];
                  }
            output[(((gsize) b * out_channels + o) * oh + y) * ow + x] = (float) acc;
          }
}
