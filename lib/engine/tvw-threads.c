/* tvw-threads.c — the engine's thread pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One pool for the process, its workers started on first use.  A forward
 * pass is a chain of parallel loops a few microseconds to a few milliseconds
 * long, so an idle worker first spins on the job counter (a new loop comes
 * within microseconds), then sleeps on a condition variable after
 * SPIN_USEC.  OpenMP's libgomp spins some 300 000 times, and with no API to
 * change that from a library: when another process holds a core, a
 * spinning worker takes time slices from the one doing the work (measured:
 * regnet_y_400mf 16.5 ms instead of 9.8 beside one busy process).
 *
 * The caller is thread 0 and works too.  The tasks are cut into one run of
 * neighbouring tasks per thread, each handed out through its own atomic
 * counter: a thread takes its own run's tasks first, then helps with the
 * others'.  So when nothing holds a thread up, thread t runs the same part
 * of every layer (the first half of the rows, say) and finds the rows the
 * layer before wrote in its own L2 cache; when another process holds a
 * core, the others still take over its tasks.  What a task computes never
 * depends on the thread that runs it (only which scratch buffer it uses).
 */

#include "config.h"

#include <glib.h>
#if defined(__x86_64__) || defined(__i386__)
# include <immintrin.h>
# define cpu_relax() _mm_pause ()
#else
# define cpu_relax() do { } while (0)
#endif

#include "tvw-engine-threads-private.h"

#define SPIN_USEC 200
/* Spins after which a waiting thread yields its processor now and then:
 * when the scheduler has put the worker on the caller's processor, the
 * thread that has the work then runs instead of the one that waits for
 * it. */
#define YIELD_AFTER 4096    /* some 80 µs here */
#define MAX_WORKERS 255

typedef struct
{
  GMutex        lock;
  GCond         wake;         /* a new job (workers sleep on it) */
  GCond         done;         /* the tasks are done, or the last worker left */
  int           n_workers;
  gint          sleepers;     /* workers asleep on @wake */
  gint          waiting;      /* the caller is asleep on @done */

  gint          generation;   /* moves when a job is out */
  gint          open;         /* the job's fields may be read */
  gint          inside;       /* workers looking at the job */

  /* The job: written only while no worker is inside and it is closed. */
  TvwTaskFunc   func;
  gpointer      data;
  int           n_tasks;
  int           n_threads;    /* workers from this index on sit it out */
  gint          next[MAX_WORKERS + 1];  /* per thread's run: its next task */
  gint          completed;    /* tasks done */
} Pool;

static Pool pool;
static GMutex dispatch_lock;  /* one job at a time */

/* Runs tasks until there are none left, its own run first; returns how
 * many it ran. */
static int
run_tasks (int thread)
{
  const int n = pool.n_threads;
  int ran = 0;

  for (int i = 0; i < n; i++)
    {
      const int r = (thread + i) % n;
      const int begin = (int) ((gint64) pool.n_tasks * r / n);
      const int end = (int) ((gint64) pool.n_tasks * (r + 1) / n);
      int task;

      while ((task = begin + g_atomic_int_add (&pool.next[r], 1)) < end)
        {
          pool.func (pool.data, task, thread);
          ran++;
        }
    }
  return ran;
}

/* Wakes the caller if it sleeps (no system call otherwise: most jobs end
 * while it spins).  Called after the counter it waits on has moved; it
 * sets @waiting before it looks at the counter, so one of the two sees the
 * other. */
static void
signal_done (void)
{
  if (!g_atomic_int_get (&pool.waiting))
    return;

  g_mutex_lock (&pool.lock);
  g_cond_broadcast (&pool.done);
  g_mutex_unlock (&pool.lock);
}

/* Spins, for at most SPIN_USEC, until *@counter is not @value (@equal
 * FALSE) or is @value (@equal TRUE); returns whether it happened. */
static gboolean
spin_for (gint     *counter,
          gint      value,
          gboolean  equal)
{
  gint64 deadline = 0;

  for (guint i = 1;; i++)
    {
      if ((g_atomic_int_get (counter) == value) == equal)
        return TRUE;
      cpu_relax ();
      if (i % 256 == 0)
        {
          gint64 now = g_get_monotonic_time ();

          if (deadline == 0)
            deadline = now + SPIN_USEC;
          else if (now > deadline)
            return FALSE;
          else if (i >= YIELD_AFTER)
            g_thread_yield ();
        }
    }
}

/* Waits for *@counter to be @value: spinning a while, then asleep. */
static void
wait_for (gint *counter,
          gint  value)
{
  if (spin_for (counter, value, TRUE))
    return;

  g_mutex_lock (&pool.lock);
  g_atomic_int_set (&pool.waiting, 1);
  while (g_atomic_int_get (counter) != value)
    g_cond_wait (&pool.done, &pool.lock);
  g_atomic_int_set (&pool.waiting, 0);
  g_mutex_unlock (&pool.lock);
}

/* A worker joins a job if it is still open, and takes tasks while there
 * are some.  The caller never waits for a worker that took none: a worker
 * the scheduler has set aside (another process on its core) holds up a job
 * only if it holds one of its tasks. */
static gpointer
worker (gpointer data)
{
  const int thread = GPOINTER_TO_INT (data);
  gint seen = 0;

  tvw_engine_thread_setup ();

  for (;;)
    {
      if (!spin_for (&pool.generation, seen, FALSE))
        {
          g_mutex_lock (&pool.lock);
          g_atomic_int_inc (&pool.sleepers);
          while (g_atomic_int_get (&pool.generation) == seen)
            g_cond_wait (&pool.wake, &pool.lock);
          g_atomic_int_add (&pool.sleepers, -1);
          g_mutex_unlock (&pool.lock);
        }
      seen = g_atomic_int_get (&pool.generation);

      g_atomic_int_inc (&pool.inside);
      if (g_atomic_int_get (&pool.open) && thread < pool.n_threads)
        {
          int ran = run_tasks (thread);

          if (ran > 0 && g_atomic_int_add (&pool.completed, ran) + ran == pool.n_tasks)
            signal_done ();
        }
      if (g_atomic_int_dec_and_test (&pool.inside))
        signal_done ();
    }

  return NULL;
}

void
tvw_parallel_tasks (int          n_tasks,
                    int          n_threads,
                    TvwTaskFunc  func,
                    gpointer     data)
{
  unsigned int fp_mode;
  int ran;

  n_threads = CLAMP (MIN (n_threads, n_tasks), 1, MAX_WORKERS + 1);

  /* Alone, or while another thread runs a job (another model's forward
   * pass): on this thread. */
  if (n_threads == 1 || !g_mutex_trylock (&dispatch_lock))
    {
      fp_mode = tvw_engine_fp_enter ();
      for (int task = 0; task < n_tasks; task++)
        func (data, task, 0);
      tvw_engine_fp_leave (fp_mode);
      return;
    }

  while (pool.n_workers < n_threads - 1)
    {
      g_autoptr(GError) error = NULL;
      GThread *thread;

      thread = g_thread_try_new ("tvw-worker", worker, GINT_TO_POINTER (pool.n_workers + 1), &error);
      if (thread == NULL)
        break;
      g_thread_unref (thread);
      pool.n_workers++;
    }
  /* Fewer threads, if some could not start. */
  n_threads = MIN (n_threads, pool.n_workers + 1);

  /* No worker is inside: the last job waited for them to leave. */
  pool.func = func;
  pool.data = data;
  pool.n_tasks = n_tasks;
  pool.n_threads = n_threads;
  for (int r = 0; r < n_threads; r++)
    g_atomic_int_set (&pool.next[r], 0);
  g_atomic_int_set (&pool.completed, 0);
  g_atomic_int_set (&pool.open, 1);
  g_atomic_int_inc (&pool.generation);

  /* A worker counts itself asleep before it looks at the generation, and
   * the generation moved before this looks at the count: one of the two
   * sees the other. */
  if (g_atomic_int_get (&pool.sleepers) > 0)
    {
      g_mutex_lock (&pool.lock);
      g_cond_broadcast (&pool.wake);
      g_mutex_unlock (&pool.lock);
    }

  fp_mode = tvw_engine_fp_enter ();
  ran = run_tasks (0);
  tvw_engine_fp_leave (fp_mode);
  if (g_atomic_int_add (&pool.completed, ran) + ran != n_tasks)
    wait_for (&pool.completed, n_tasks);

  /* Close the job, and wait for workers still looking at it (they find no
   * task left) before its fields can change. */
  g_atomic_int_set (&pool.open, 0);
  wait_for (&pool.inside, 0);

  g_mutex_unlock (&dispatch_lock);
}

typedef struct
{
  gsize         n;
  int           parts;
  TvwRangeFunc  func;
  gpointer      data;
} RangeJob;

static void
range_task (gpointer data,
            int      task,
            int      thread)
{
  const RangeJob *job = data;

  job->func (job->data, job->n * task / job->parts, job->n * (task + 1) / job->parts, thread);
}

void
tvw_parallel_range (gsize         n,
                    int           n_threads,
                    TvwRangeFunc  func,
                    gpointer      data)
{
  RangeJob job = { n, (int) MIN ((gsize) MAX (n_threads, 1), MAX (n, 1)), func, data };

  tvw_parallel_tasks (job.parts, job.parts, range_task, &job);
}
