/* tvw-engine-threads-private.h — the engine's one thread pool (OpenMP)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <omp.h>
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

static inline int
tvw_engine_thread_num (void)
{
  return omp_get_thread_num ();
}

void tvw_engine_blas_init (void);

G_END_DECLS
