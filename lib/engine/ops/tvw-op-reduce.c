/* tvw-op-reduce.c — mean, sum and max over dimensions; softmax
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Reductions read any strides and accumulate in double (a float sum of a
 * million terms would drift by ~1e-4 relative; a double one by ~1e-10,
 * then rounded once to float), so a large mean stays within float
 * tolerance of an exact one whatever the order.  Softmax subtracts the
 * row's max before exponentiating (no overflow) and sums in double.
 */

#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "tvw-activation-private.h"
#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-ops-private.h"

#define PARALLEL_MIN_ELEMENTS 32768

static gboolean
reduce_infer (TvwOpCall  *call,
              GError    **error)
{
  const TvwReduceParams *p = call->params;
  const TvwArray *in = &call->in[0];
  char shape[TVW_SHAPE_CHARS];
  TvwArray *out = &call->out[0];

  tvw_array_format_shape (in, shape);

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if ((guint) p->op > TVW_REDUCE_MAX)
    {
      tvw_op_set_invalid (call, error, "unknown reduction %d", p->op);
      return FALSE;
    }
  if (p->dims_mask == 0 || (p->dims_mask >> in->rank) != 0)
    {
      tvw_op_set_invalid (call, error, "dims mask 0x%x does not name dims of input %s",
                   p->dims_mask, shape);
      return FALSE;
    }

  tvw_array_init (out, TVW_ELEM_F32, 0, NULL);
  for (int d = 0; d < in->rank; d++)
    {
      if (!(p->dims_mask & (1u << d)))
        out->shape[out->rank++] = in->shape[d];
      else if (p->keepdim)
        out->shape[out->rank++] = 1;

      /* max () of nothing has no value; PyTorch raises too. */
      if ((p->dims_mask & (1u << d)) && in->shape[d] == 0 && p->op == TVW_REDUCE_MAX)
        {
          tvw_op_set_error (call, error, "max over dim %d of input %s, which is empty", d, shape);
          return FALSE;
        }
    }
  tvw_array_set_contiguous (out);
  return TRUE;
}

/* How a reduction walks its input: kept dims (an output index) and
 * reduced dims, size-1 dims left out.  The dim with the smallest input
 * stride goes last in its list and is the inner loop: over the reduced
 * elements (a dot-product-like row), or, when it is kept (a mean over
 * H×W of a channels-last map), across outputs with a row of accumulators
 * in scratch. */
typedef struct
{
  const TvwArray *in;
  const TvwArray *out;
  TvwReduceOp     op;
  int             n_kept, n_red;
  gint64          kshape[TVW_MAX_RANK], kin[TVW_MAX_RANK], kout[TVW_MAX_RANK];
  gint64          rshape[TVW_MAX_RANK], rin[TVW_MAX_RANK];
  gint64          n_out, count;
  gboolean        inner_kept;
  guint8         *scratch;
  gsize           scratch_bytes;
} ReducePlan;

static void
move_last (gint64 *a,
           gint64 *b,
           gint64 *c,
           int     n,
           int     i)
{
  gint64 ta = a[i], tb = b[i], tc = c != NULL ? c[i] : 0;

  for (int j = i; j < n - 1; j++)
    {
      a[j] = a[j + 1];
      b[j] = b[j + 1];
      if (c != NULL)
        c[j] = c[j + 1];
    }
  a[n - 1] = ta;
  b[n - 1] = tb;
  if (c != NULL)
    c[n - 1] = tc;
}

/* Merges neighbours of a list of dims whose strides (in @a and, unless
 * NULL, @c) make them one longer dim; returns the new length. */
static int
merge_dims (gint64 *shape,
            gint64 *a,
            gint64 *c,
            int     n)
{
  int r = 0;

  for (int i = 0; i < n; i++)
    {
      if (r > 0 && a[r - 1] == a[i] * shape[i] && (c == NULL || c[r - 1] == c[i] * shape[i]))
        {
          shape[r - 1] *= shape[i];
          a[r - 1] = a[i];
          if (c != NULL)
            c[r - 1] = c[i];
          continue;
        }
      shape[r] = shape[i];
      a[r] = a[i];
      if (c != NULL)
        c[r] = c[i];
      r++;
    }

  return r;
}

static void
reduce_plan (const TvwOpCall *call,
             ReducePlan      *plan)
{
  const TvwReduceParams *p = call->params;
  const TvwArray *in = &call->in[0], *out = &call->out[0];
  gint64 best = G_MAXINT64;
  int best_red = -1, best_kept = -1, o = 0;

  memset (plan, 0, sizeof *plan);
  plan->in = in;
  plan->out = out;
  plan->op = p->op;
  plan->n_out = tvw_array_numel (out);
  plan->count = 1;

  for (int d = 0; d < in->rank; d++)
    {
      gboolean reduced = (p->dims_mask & (1u << d)) != 0;

      if (reduced)
        plan->count *= in->shape[d];
      if (in->shape[d] == 1)
        {
          if (!reduced || p->keepdim)
            o++;
          continue;
        }
      if (reduced)
        {
          plan->rshape[plan->n_red] = in->shape[d];
          plan->rin[plan->n_red++] = in->stride[d];
          if (p->keepdim)
            o++;
        }
      else
        {
          plan->kshape[plan->n_kept] = in->shape[d];
          plan->kin[plan->n_kept] = in->stride[d];
          plan->kout[plan->n_kept++] = out->stride[o++];
        }
    }

  /* H×W of a row-major map is one run of H·W. */
  plan->n_red = merge_dims (plan->rshape, plan->rin, NULL, plan->n_red);
  plan->n_kept = merge_dims (plan->kshape, plan->kin, plan->kout, plan->n_kept);

  for (int i = 0; i < plan->n_red; i++)
    if (ABS (plan->rin[i]) < best)
      {
        best = ABS (plan->rin[i]);
        best_red = i;
      }
  for (int i = 0; i < plan->n_kept; i++)
    if (ABS (plan->kin[i]) < best)
      {
        best = ABS (plan->kin[i]);
        best_kept = i;
      }

  if (best_kept >= 0 && plan->n_red > 0)
    {
      plan->inner_kept = TRUE;
      move_last (plan->kshape, plan->kin, plan->kout, plan->n_kept, best_kept);
    }
  else if (best_red >= 0)
    move_last (plan->rshape, plan->rin, NULL, plan->n_red, best_red);

  /* Nothing left to reduce (all size 1): a one-element inner loop. */
  if (plan->n_red == 0)
    {
      plan->rshape[0] = 1;
      plan->rin[0] = 0;
      plan->n_red = 1;
    }
}

static gsize
reduce_scratch (const TvwOpCall *call)
{
  ReducePlan plan;

  reduce_plan (call, &plan);
  return plan.inner_kept ? plan.kshape[plan.n_kept - 1] * sizeof (double) : 0;
}

/* Offsets of output element / row @i over the first @n kept dims. */
static void
kept_offsets (const ReducePlan *plan,
              int               n,
              gint64            i,
              gint64           *in_off,
              gint64           *out_off)
{
  *in_off = *out_off = 0;
  for (int d = n - 1; d >= 0; d--)
    {
      gint64 k = i % plan->kshape[d];

      i /= plan->kshape[d];
      *in_off += k * plan->kin[d];
      *out_off += k * plan->kout[d];
    }
}

static inline double
finish (const ReducePlan *plan,
        double            acc)
{
  return plan->op == TVW_REDUCE_MEAN ? acc / (double) plan->count : acc;
}

/* Σ p[0..n) in double: eight running sums side by side, not one chain of
 * dependent additions. */
static inline double
sum_span (const float *p,
          gint64       n)
{
  double total = 0;
  gint64 j = 0;

#ifdef TVW_HAVE_AVX2
  if (n >= 8)
    {
      __m256d lo = _mm256_setzero_pd (), hi = _mm256_setzero_pd ();
      double lanes[4];

      for (; j + 8 <= n; j += 8)
        {
          __m256 v = _mm256_loadu_ps (p + j);

          lo = _mm256_add_pd (lo, _mm256_cvtps_pd (_mm256_castps256_ps128 (v)));
          hi = _mm256_add_pd (hi, _mm256_cvtps_pd (_mm256_extractf128_ps (v, 1)));
        }
      _mm256_storeu_pd (lanes, _mm256_add_pd (lo, hi));
      total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
#endif

  for (; j < n; j++)
    total += p[j];
  return total;
}

/* One output element at a time; the inner loop runs along a reduced dim. */
static void
reduce_outputs (gpointer data,
                gsize    begin,
                gsize    end,
                int      thread)
{
  const ReducePlan *plan = data;
  const float *in = plan->in->data;
  float *out = plan->out->data;
  const int nr = plan->n_red;
  const gint64 len = plan->rshape[nr - 1], step = plan->rin[nr - 1];
  gint64 rows = 1;

  for (int d = 0; d < nr - 1; d++)
    rows *= plan->rshape[d];

  for (gsize i = begin; i < end; i++)
    {
      gint64 base, out_off, idx[TVW_MAX_RANK] = { 0 }, off = 0;
      double acc = plan->op == TVW_REDUCE_MAX ? -INFINITY : 0;

      kept_offsets (plan, plan->n_kept, (gint64) i, &base, &out_off);
      for (gint64 r = 0; r < rows; r++)
        {
          const float *p = in + base + off;

          if (plan->op == TVW_REDUCE_MAX)
            {
              for (gint64 j = 0; j < len; j++)
                if (p[j * step] > acc || isnan (p[j * step]))
                  acc = p[j * step];
            }
          else if (step == 1)
            acc += sum_span (p, len);
          else
            for (gint64 j = 0; j < len; j++)
              acc += p[j * step];

          /* Next index over the outer reduced dims. */
          for (int d = nr - 2; d >= 0; d--)
            {
              off += plan->rin[d];
              if (++idx[d] < plan->rshape[d])
                break;
              off -= plan->rin[d] * plan->rshape[d];
              idx[d] = 0;
            }
        }
      out[out_off] = (float) finish (plan, acc);
    }
}

/* A row of outputs along the innermost kept dim at a time, accumulated
 * side by side: every input read is unit-stride (or the smallest). */
static void
reduce_rows (gpointer data,
             gsize    begin,
             gsize    end,
             int      thread)
{
  const ReducePlan *plan = data;
  const float *in = plan->in->data;
  float *out = plan->out->data;
  const int nk = plan->n_kept, nr = plan->n_red;
  const gint64 len = plan->kshape[nk - 1], step = plan->kin[nk - 1], ostep = plan->kout[nk - 1];
  double *acc = (double *) (plan->scratch + thread * plan->scratch_bytes);

  for (gsize row = begin; row < end; row++)
    {
      gint64 base, out_off, idx[TVW_MAX_RANK] = { 0 }, off = 0;

      kept_offsets (plan, nk - 1, (gint64) row, &base, &out_off);
      for (gint64 j = 0; j < len; j++)
        acc[j] = plan->op == TVW_REDUCE_MAX ? -INFINITY : 0;

      for (gint64 r = 0; r < plan->count; r++)
        {
          const float *p = in + base + off;

          if (plan->op == TVW_REDUCE_MAX)
            {
              for (gint64 j = 0; j < len; j++)
                if (p[j * step] > acc[j] || isnan (p[j * step]))
                  acc[j] = p[j * step];
            }
          else if (step == 1)
            for (gint64 j = 0; j < len; j++)
              acc[j] += p[j];
          else
            for (gint64 j = 0; j < len; j++)
              acc[j] += p[j * step];

          for (int d = nr - 1; d >= 0; d--)
            {
              off += plan->rin[d];
              if (++idx[d] < plan->rshape[d])
                break;
              off -= plan->rin[d] * plan->rshape[d];
              idx[d] = 0;
            }
        }

      for (gint64 j = 0; j < len; j++)
        out[out_off + j * ostep] = (float) finish (plan, acc[j]);
    }
}

static void
reduce_run (TvwOpCall *call)
{
  ReducePlan plan;
  int n_threads;

  reduce_plan (call, &plan);
  if (plan.n_out == 0)
    return;
  n_threads = tvw_array_numel (plan.in) < PARALLEL_MIN_ELEMENTS ? 1 : call->n_threads;
  plan.scratch = call->scratch;
  plan.scratch_bytes = call->scratch_bytes;

  if (plan.inner_kept)
    tvw_parallel_range (plan.n_out / plan.kshape[plan.n_kept - 1], n_threads, reduce_rows, &plan);
  else
    tvw_parallel_range (plan.n_out, n_threads, reduce_outputs, &plan);
}

const TvwOpClass tvw_op_reduce = {
  .name = "reduce",
  .flags = TVW_OP_STRIDED,
  .infer = reduce_infer,
  .scratch = reduce_scratch,
  .run = reduce_run,
};

TvwVal
tvw_net_reduce (TvwNet      *net,
                TvwReduceOp  op,
                TvwVal       x,
                guint        dims_mask,
                gboolean     keepdim)
{
  TvwReduceParams p = { op, dims_mask, keepdim };
  TvwNodeSpec spec = {
    .cls = &tvw_op_reduce,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}

/* ---- softmax, log_softmax ------------------------------------------------ */

static gboolean
softmax_infer (TvwOpCall  *call,
               GError    **error)
{
  const TvwSoftmaxParams *p = call->params;
  const TvwArray *in = &call->in[0];

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error))
    return FALSE;
  if (p->dim < -in->rank || p->dim >= in->rank)
    {
      char shape[TVW_SHAPE_CHARS];

      tvw_array_format_shape (in, shape);

      tvw_op_set_invalid (call, error, "dim %d is out of range for input of shape %s", p->dim, shape);
      return FALSE;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, in->rank, in->shape);
  return TRUE;
}

/* Columns of a softmax along an outer dim handled together (on the
 * stack). */
#define SOFTMAX_CHUNK 64

/* e^(x[j] − shift[j]) for j < n (@shift_step 0: one shift for all),
 * stored in @y unless NULL and added to @sum[j·sum_step] in double.  AVX2
 * uses the Cephes polynomial of the activations (about 1 ulp from expf);
 * a NaN input stays NaN (the polynomial's clamp would lose it), so its
 * row comes out NaN as in PyTorch. */
static inline void
exp_span (const float *x,
          const float *shift,
          int          shift_step,
          float       *y,
          double      *sum,
          int          sum_step,
          gint64       n)
{
  gint64 j = 0;

#ifdef TVW_HAVE_AVX2
  __m256d acc_lo = _mm256_setzero_pd (), acc_hi = _mm256_setzero_pd ();

  for (; j + 8 <= n; j += 8)
    {
      __m256 m = shift_step ? _mm256_loadu_ps (shift + j) : _mm256_set1_ps (shift[0]);
      __m256 d = _mm256_sub_ps (_mm256_loadu_ps (x + j), m);
      __m256 e = _mm256_or_ps (tvw_v8_exp (d), _mm256_cmp_ps (d, d, _CMP_UNORD_Q));
      __m256d lo = _mm256_cvtps_pd (_mm256_castps256_ps128 (e));
      __m256d hi = _mm256_cvtps_pd (_mm256_extractf128_ps (e, 1));

      if (y != NULL)
        _mm256_storeu_ps (y + j, e);
      if (sum_step)
        {
          _mm256_storeu_pd (sum + j, _mm256_add_pd (_mm256_loadu_pd (sum + j), lo));
          _mm256_storeu_pd (sum + j + 4, _mm256_add_pd (_mm256_loadu_pd (sum + j + 4), hi));
        }
      else
        {
          acc_lo = _mm256_add_pd (acc_lo, lo);
          acc_hi = _mm256_add_pd (acc_hi, hi);
        }
    }
  if (!sum_step && j > 0)
    {
      double lanes[4];

      _mm256_storeu_pd (lanes, _mm256_add_pd (acc_lo, acc_hi));
      sum[0] += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
#endif

  for (; j < n; j++)
    {
      float e = expf (x[j] - shift[j * shift_step]);

      if (y != NULL)
        y[j] = e;
      sum[j * sum_step] += e;
    }
}

/* Largest of @n floats.  A NaN may be skipped: exp_span () makes its
 * row NaN anyway. */
static inline float
max_span (const float *x,
          gint64       n)
{
  float max = -INFINITY;
  gint64 j = 0;

#ifdef TVW_HAVE_AVX2
  if (n >= 8)
    {
      __m256 m = _mm256_loadu_ps (x);
      float lanes[8];

      for (j = 8; j + 8 <= n; j += 8)
        m = _mm256_max_ps (_mm256_loadu_ps (x + j), m);
      _mm256_storeu_ps (lanes, m);
      for (int l = 0; l < 8; l++)
        max = lanes[l] > max ? lanes[l] : max;
    }
#endif

  for (; j < n; j++)
    max = x[j] > max ? x[j] : max;
  return max;
}

typedef struct
{
  const float *in;
  float       *out;
  gint64       outer, n, inner, chunks;
  gboolean     log;
} SoftmaxJob;

/* Softmax along unit-stride rows. */
static void
softmax_rows (gpointer data,
              gsize    begin,
              gsize    end,
              int      thread)
{
  const SoftmaxJob *job = data;
  const gint64 n = job->n;

  for (gsize row = begin; row < end; row++)
    {
      const float *x = job->in + row * n;
      float *y = job->out + row * n;
      float max = max_span (x, n);
      double sum = 0;

      if (job->log)
        {
          float lse;

          /* (x − max) − log Σ: x − max is exact near the max, where a
           * single x − (max + log Σ) would round at max's magnitude. */
          exp_span (x, &max, 0, NULL, &sum, 0, n);
          lse = (float) log (sum);
          for (gint64 j = 0; j < n; j++)
            y[j] = (x[j] - max) - lse;
        }
      else
        {
          float scale;

          exp_span (x, &max, 0, y, &sum, 0, n);
          scale = (float) (1.0 / sum);
          for (gint64 j = 0; j < n; j++)
            y[j] *= scale;
        }
    }
}

/* Softmax along a dim with inner elements after it: SOFTMAX_CHUNK
 * columns at a time, so every pass reads unit-stride runs. */
static void
softmax_columns (gpointer data,
                 gsize    begin,
                 gsize    end,
                 int      thread)
{
  const SoftmaxJob *job = data;
  const gint64 n = job->n, inner = job->inner;

  for (gsize task = begin; task < end; task++)
    {
      gint64 o = task / job->chunks, c0 = task % job->chunks * SOFTMAX_CHUNK;
      gint64 w = MIN (SOFTMAX_CHUNK, inner - c0);
      const float *x = job->in + o * n * inner + c0;
      float *y = job->out + o * n * inner + c0;
      float max[SOFTMAX_CHUNK], shift[SOFTMAX_CHUNK];
      double sum[SOFTMAX_CHUNK];

      for (gint64 j = 0; j < w; j++)
        {
          max[j] = -INFINITY;
          sum[j] = 0;
        }
      for (gint64 i = 0; i < n; i++)
        for (gint64 j = 0; j < w; j++)
          {
            float v = x[i * inner + j];

            max[j] = v > max[j] ? v : max[j];
          }

      for (gint64 i = 0; i < n; i++)
        exp_span (x + i * inner, max, 1, job->log ? NULL : y + i * inner, sum, 1, w);

      if (job->log)
        {
          for (gint64 j = 0; j < w; j++)
            shift[j] = (float) log (sum[j]);
          for (gint64 i = 0; i < n; i++)
            for (gint64 j = 0; j < w; j++)
              y[i * inner + j] = (x[i * inner + j] - max[j]) - shift[j];
        }
      else
        {
          for (gint64 j = 0; j < w; j++)
            shift[j] = (float) (1.0 / sum[j]);
          for (gint64 i = 0; i < n; i++)
            for (gint64 j = 0; j < w; j++)
              y[i * inner + j] *= shift[j];
        }
    }
}

static void
softmax_run (TvwOpCall *call)
{
  const TvwSoftmaxParams *p = call->params;
  const TvwArray *in = &call->in[0];
  const int dim = p->dim < 0 ? p->dim + in->rank : p->dim;
  gint64 numel = tvw_array_numel (in);
  SoftmaxJob job = { in->data, call->out[0].data, 1, in->shape[dim], 1, 1, p->log };
  int n_threads = numel < PARALLEL_MIN_ELEMENTS ? 1 : call->n_threads;

  if (numel == 0)
    return;
  for (int d = 0; d < dim; d++)
    job.outer *= in->shape[d];
  for (int d = dim + 1; d < in->rank; d++)
    job.inner *= in->shape[d];

  if (job.inner == 1)
    tvw_parallel_range (job.outer, n_threads, softmax_rows, &job);
  else
    {
      job.chunks = (job.inner + SOFTMAX_CHUNK - 1) / SOFTMAX_CHUNK;
      tvw_parallel_range (job.outer * job.chunks, n_threads, softmax_columns, &job);
    }
}

/* Row-major input: the executor stages strided ones, after which both
 * cases above read unit-stride runs. */
const TvwOpClass tvw_op_softmax = {
  .name = "softmax",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = softmax_infer,
  .run = softmax_run,
};

TvwVal
tvw_net_softmax (TvwNet   *net,
                 TvwVal    x,
                 int       dim,
                 gboolean  log)
{
  TvwSoftmaxParams p = { dim, log };
  TvwNodeSpec spec = {
    .cls = &tvw_op_softmax,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 1,
    .in = &x,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}
