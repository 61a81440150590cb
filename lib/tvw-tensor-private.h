/* tvw-tensor-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-tensor.h"

G_BEGIN_DECLS

/* Takes ownership of @bytes, whose size must match @shape already. */
TvwTensor *tvw_tensor_new_take (TvwDType      dtype,
                                const gint64 *shape,
                                guint         n_dims,
                                GBytes       *bytes);

G_END_DECLS
