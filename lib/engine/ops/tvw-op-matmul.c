/* tvw-op-matmul.c — torch.matmul
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A [… × M × K] · B [… × K × N] with the batch dimensions broadcast as
 * PyTorch does; a 1-D A is a row (its dimension is dropped from the
 * result), a 1-D B a column.  Each product runs on the packed GEMM: B is
 * packed into the thread's scratch, then every row block of A goes through
 * it.  Work is shared out as (batch, row block) tasks in order, so a thread
 * packs a batch's B once for all the row blocks it gets of it.
 */

#include "config.h"

#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-gemm-private.h"
#include "tvw-ops-private.h"

/* Rows of A per task at least: below that, packing B costs more than the
 * product. */
#define MIN_TASK_ROWS (8 * tvw_gemm_mr ())

/* The problem, from the shapes. */
typedef struct
{
  gint64 m, k, n;
  int    batch_rank;                 /* broadcast batch dimensions */
  gint64 batch[TVW_MAX_RANK];
  gint64 a_step[TVW_MAX_RANK];       /* elements between batches (0: broadcast) */
  gint64 b_step[TVW_MAX_RANK];
  gint64 n_batches;
} MatmulShape;

static gboolean
matmul_shape (const TvwOpCall  *call,
              MatmulShape      *s,
              int              *out_rank,
              gint64           *out_shape,
              GError          **error)
{
  const TvwArray *a = &call->in[0], *b = &call->in[1];
  const int ab = MAX (a->rank - 2, 0), bb = MAX (b->rank - 2, 0);
  gint64 a_k, b_k, sa = 1, sb = 1;
  int r = 0;

  memset (s, 0, sizeof *s);
  s->m = a->rank >= 2 ? a->shape[a->rank - 2] : 1;
  a_k = a->shape[a->rank - 1];
  b_k = b->rank >= 2 ? b->shape[b->rank - 2] : b->shape[0];
  s->n = b->rank >= 2 ? b->shape[b->rank - 1] : 1;
  s->k = a_k;
  s->batch_rank = MAX (ab, bb);

  if (a_k != b_k)
    goto mismatch;

  /* Batch dimensions align on the right; a missing or size-1 one
   * broadcasts. */
  for (int i = s->batch_rank - 1; i >= 0; i--)
    {
      int ai = i - (s->batch_rank - ab), bi = i - (s->batch_rank - bb);
      gint64 da = ai >= 0 ? a->shape[ai] : 1, db = bi >= 0 ? b->shape[bi] : 1;

      if (da != db && da != 1 && db != 1)
        goto mismatch;
      s->batch[i] = da == 1 ? db : da;
      s->a_step[i] = da == 1 ? 0 : sa;
      s->b_step[i] = db == 1 ? 0 : sb;
      sa *= da;
      sb *= db;
    }
  s->n_batches = 1;
  for (int i = 0; i < s->batch_rank; i++)
    {
      s->n_batches *= s->batch[i];
      out_shape[r++] = s->batch[i];
    }
  if (a->rank >= 2)
    out_shape[r++] = s->m;
  if (b->rank >= 2)
    out_shape[r++] = s->n;
  *out_rank = r;
  return TRUE;

mismatch:
  {
    char as[TVW_SHAPE_CHARS];
    char bs[TVW_SHAPE_CHARS];

    tvw_array_format_shape (a, as);
    tvw_array_format_shape (b, bs);
    tvw_op_set_error (call, error, "cannot multiply %s by %s", as, bs);
  }
  return FALSE;
}

static gboolean
matmul_infer (TvwOpCall  *call,
              GError    **error)
{
  MatmulShape s;
  gint64 shape[TVW_MAX_RANK + 2];
  int rank;

  if (!tvw_op_check_rank (call, 0, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_rank (call, 1, 1, TVW_MAX_RANK, error) ||
      !tvw_op_check_elem (call, 0, TVW_ELEM_F32, error) ||
      !tvw_op_check_elem (call, 1, TVW_ELEM_F32, error) ||
      !matmul_shape (call, &s, &rank, shape, error))
    return FALSE;
  if (s.k > G_MAXINT || s.n > G_MAXINT || s.m > G_MAXINT)
    {
      tvw_op_set_invalid (call, error, "a matrix dimension is over %d", G_MAXINT);
      return FALSE;
    }

  tvw_array_init (&call->out[0], TVW_ELEM_F32, rank, shape);
  return TRUE;
}

static gsize
matmul_scratch (const TvwOpCall *call)
{
  MatmulShape s;
  gint64 shape[TVW_MAX_RANK + 2];
  int rank;

  if (!matmul_shape (call, &s, &rank, shape, NULL))
    return 0;
  return tvw_gemm_packed_floats ((int) s.k, (int) s.n) * sizeof (float);
}

typedef struct
{
  const TvwOpCall *call;
  MatmulShape      s;
  gint64           rows;        /* rows of A per task */
  gint64           row_tasks;   /* tasks per batch */
} MatmulJob;

static void
matmul_tasks (gpointer data,
              gsize    begin,
              gsize    end,
              int      thread)
{
  const MatmulJob *job = data;
  const MatmulShape *s = &job->s;
  const TvwOpCall *call = job->call;
  float *packed = (float *) (call->scratch + (gsize) thread * call->scratch_bytes);
  gint64 packed_batch = -1;

  for (gsize t = begin; t < end; t++)
    {
      const gint64 bi = (gint64) t / job->row_tasks;
      const gint64 r0 = ((gint64) t % job->row_tasks) * job->rows;
      const gint64 r1 = MIN (r0 + job->rows, s->m);
      gint64 a_off = 0, b_off = 0, rest = bi;
      float *c = (float *) call->out[0].data + (bi * s->m + r0) * s->n;

      for (int i = s->batch_rank - 1; i >= 0; i--)
        {
          gint64 idx = rest % s->batch[i];

          rest /= s->batch[i];
          a_off += idx * s->a_step[i];
          b_off += idx * s->b_step[i];
        }

      if (s->k == 0)
        {
          memset (c, 0, (r1 - r0) * s->n * sizeof (float));
          continue;
        }
      if (packed_batch < 0 || b_off != packed_batch)
        {
          tvw_gemm_pack_b ((const float *) call->in[1].data + b_off * s->k * s->n,
                           (int) s->k, (int) s->n, s->n, packed);
          packed_batch = b_off;
        }
      tvw_gemm_packed ((int) (r1 - r0), (int) s->k,
                       (const float *) call->in[0].data + (a_off * s->m + r0) * s->k, s->k,
                       packed, (int) s->n, 0, (int) ((s->n + TVW_GEMM_NR - 1) / TVW_GEMM_NR),
                       c, s->n, NULL, NULL, 0, TVW_ACT_NONE);
    }
}

static void
matmul_run (TvwOpCall *call)
{
  MatmulJob job = { call };
  gint64 shape[TVW_MAX_RANK + 2], tasks;
  int rank, threads = call->n_threads;

  if (!matmul_shape (call, &job.s, &rank, shape, NULL) || job.s.n_batches * job.s.m * job.s.n == 0)
    return;

  /* Enough tasks for every thread, but not so small that packing B
   * dominates. */
  job.rows = job.s.m;
  if (job.s.n_batches < threads)
    {
      gint64 per = (job.s.n_batches * job.s.m + threads - 1) / threads;

      job.rows = MAX (MIN (per, job.s.m), MIN (MIN_TASK_ROWS, job.s.m));
    }
  job.row_tasks = (job.s.m + job.rows - 1) / job.rows;
  tasks = job.s.n_batches * job.row_tasks;
  if (job.s.m * job.s.n * job.s.k * job.s.n_batches < 32768)
    threads = 1;
  tvw_parallel_range ((gsize) tasks, threads, matmul_tasks, &job);
}

const TvwOpClass tvw_op_matmul = {
  .name = "matmul",
  .flags = TVW_OP_ROW_MAJOR,
  .infer = matmul_infer,
  .scratch = matmul_scratch,
  .run = matmul_run,
};

TvwVal
tvw_net_matmul (TvwNet *net,
                TvwVal  a,
                TvwVal  b)
{
  const TvwMatmulParams p = { 0 };
  const TvwVal in[2] = { a, b };
  const TvwNodeSpec spec = {
    .cls = &tvw_op_matmul,
    .params = &p,
    .params_size = sizeof p,
    .n_in = 2,
    .in = in,
    .n_out = 1,
  };

  return tvw_net_add_node (net, &spec, NULL);
}
