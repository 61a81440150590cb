/* tvw-engine-threads-private.h — the engine's one thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

G_BEGIN_DECLS

/* Denormals are flushed to zero on every thread that runs kernels: they are
 * noise for inference and cost 100× per operation on x86. */
static inline void
tvw_engine_thread_setup (void)
{
  static __thread gboolean done;

  if (G_UNLIKELY (!done))
    {
      _MM_SET_FLUSH_ZERO_MODE (_MM_FLUSH_ZERO_ON);
      _MM_SET_DENORMALS_ZERO_MODE (_MM_DENORMALS_ZERO_ON);
      done = TRUE;
    }
}

/* The same on a thread that is not the engine's (the application's), for
 * as long as the engine runs on it: returns the mode to put back. */
static inline unsigned int
tvw_engine_fp_enter (void)
{
  unsigned int mode = _mm_getcsr ();

  _mm_setcsr (mode | _MM_FLUSH_ZERO_ON | _MM_DENORMALS_ZERO_ON);
  return mode;
}

static inline void
tvw_engine_fp_leave (unsigned int mode)
{
  _mm_setcsr (mode);
}

/* @thread: 0 for the calling thread, then 1 … n_threads - 1; the index of
 * a per-thread scratch buffer. */
typedef void (*TvwTaskFunc)  (gpointer data,
                              int      task,
                              int      thread);
typedef void (*TvwRangeFunc) (gpointer data,
                              gsize    begin,
                              gsize    end,
                              int      thread);

/* Runs @func for each task in [0, @n_tasks) on up to @n_threads threads,
 * the caller's included, tasks handed out in order as threads free up;
 * returns when all are done.  While another thread runs a job, runs them
 * all on the calling thread. */
void tvw_parallel_tasks (int           n_tasks,
                         int           n_threads,
                         TvwTaskFunc   func,
                         gpointer      data);
/* Cuts [0, @n) into @n_threads contiguous ranges of (nearly) equal size,
 * one per thread. */
void tvw_parallel_range (gsize         n,
                         int           n_threads,
                         TvwRangeFunc  func,
                         gpointer      data);

void tvw_engine_blas_init (void);

G_END_DECLS
