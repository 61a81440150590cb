/* tvw-cpu-private.h — which kernel set runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernels are built for several instruction sets; the first kernel
 * call picks the best set the CPU runs, or the one TVW_CPU (avx512, avx2,
 * generic) asks for when the CPU has it, and keeps it for the process.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* In order: a set runs wherever a later one does. */
typedef enum
{
  TVW_CPU_GENERIC,
  TVW_CPU_AVX2,
  TVW_CPU_AVX512,
} TvwCpuSet;

/* The set the kernels run: "avx512", "avx2" or "generic". */
const char *tvw_engine_cpu_name (void);

const char *tvw_cpu_set_name    (TvwCpuSet   set);
/* The best set both built and supported by this CPU. */
TvwCpuSet   tvw_cpu_best        (void);
/* The set TVW_CPU=@request selects when @best is the best one: @request's
 * if @best reaches it, else @best (with a message); @best for NULL or an
 * empty string, and with a warning for an unknown name. */
TvwCpuSet   tvw_cpu_choose      (const char *request,
                                 TvwCpuSet   best);

G_END_DECLS
