/* tvw-bind-private.h — checkpoints into networks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-engine-private.h"
#include "tvw-checkpoint-private.h"

G_BEGIN_DECLS

/* Strict: missing, unexpected or mis-shaped keys are errors that name the
 * key.  Not strict: mis-shaped keys are still errors, missing ones keep
 * their current values, unexpected ones are ignored.  Nothing changes on
 * error.  @ckpt must outlive @net or its next bind: the net may point into
 * it. */
gboolean tvw_bind_checkpoint (TvwNet         *net,
                              TvwCheckpoint  *ckpt,
                              gboolean        strict,
                              GError        **error);

G_END_DECLS
