/* tvw-kernels-se-private.h — squeeze-excitation in one kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-isa-private.h"
#include "tvw-kernels-private.h"

G_BEGIN_DECLS

typedef struct
{
  int            n, c, squeeze;
  gsize          hw;
  const float   *w1;        /* fc1: [squeeze][c] */
  const float   *b1;        /* [squeeze] */
  const float   *w2t;       /* fc2, transposed: [squeeze][c] */
  const float   *b2;        /* [c] */
  TvwActivation  act;       /* after fc1 */
  TvwActivation  gate_act;  /* after fc2 */
} TvwSeParams;

/* Floats of scratch the kernel needs (in one buffer). */
gsize tvw_squeeze_excitation_scratch_floats (const TvwSeParams *p);

/* output = input · gate_act (fc2 (act (fc1 (mean over the map of input)))),
 * NHWC, one gate per image and channel. */
void  tvw_kernel_squeeze_excitation         (const TvwSeParams *p,
                                             const float       *input,
                                             float             *output,
                                             float             *scratch,
                                             int                n_threads);

/* fc2's weight [c][squeeze] → [squeeze][c], for the kernel. */
void  tvw_squeeze_excitation_pack           (const float       *w2,
                                             int                c,
                                             int                squeeze,
                                             float             *w2t);

G_END_DECLS
