/* tvw-gemm-private.h — GEMM over weights packed at load time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"
#include "tvw-engine-private.h"

G_BEGIN_DECLS

/* Columns per packed panel: the same for every instruction set, since
 * weights are packed once, before a set runs on them. */
#define TVW_GEMM_NR 16

#ifdef TVW_ISA
/* Rows per register tile: work split in multiples of it wastes none.  It
 * differs between the instruction sets, so only their kernels see it as a
 * constant; elsewhere tvw_gemm_mr() tells the running set's. */
# if defined(__AVX512F__)
#  define TVW_GEMM_MR 12
# else
#  define TVW_GEMM_MR 6
# endif
#endif

/* TVW_GEMM_MR of the instruction set that runs. */
int   tvw_gemm_mr            (void);

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

/* @dst[c·NR + j] = @src[j][@ci + c] · @s[j] for c < 8, j < NR: eight rows
 * of a panel from its NR weight rows (a 1×1 convolution's), each output
 * channel scaled by its folded BatchNorm. */
void  tvw_gemm_transpose_panel_rows (const float *const  src[TVW_GEMM_NR],
                                     const double       *s,
                                     int                 ci,
                                     float              *dst);

G_END_DECLS
