/* tvw-gemm-private.h — GEMM over weights packed at load time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"

G_BEGIN_DECLS

/* Columns per packed panel. */
#define TVW_GEMM_NR 16
/* Rows per register tile: work split in multiples of it wastes none. */
#if defined(__AVX512F__)
# define TVW_GEMM_MR 12
#else
# define TVW_GEMM_MR 6
#endif

gsize tvw_gemm_packed_floats (int          k,
                              int          n);
/* Packs B (k×n, rows @ldb apart) into ceil(n/NR) panels of k×NR floats,
 * zero-padded. */
void  tvw_gemm_pack_b        (const float *b,
                              int          k,
                              int          n,
                              gsize        ldb,
                              float       *packed);
/* C[:, panels] = A · B[:, panels], then bias (indexed by column),
 * residual (rows @ldr apart) and @act.  Columns past @n are not written. */
void  tvw_gemm_packed        (int                 m,
                              int                 k,
                              const float        *a,
                              gsize               lda,
                              const float        *packed,
                              int                 n,
                              int                 panel_begin,
                              int                 panel_end,
                              float              *c,
                              gsize               ldc,
                              const float        *bias,
                              const float        *residual,
                              gsize               ldr,
                              TvwActivation       act);

G_END_DECLS
