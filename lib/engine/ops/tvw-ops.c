/* tvw-ops.c — the op table: every op class of the engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A new op is one file under lib/engine/ops/ and one row here; the per-op
 * test harness (tests/test-ops.c) checks that every row has a test.
 */

#include "config.h"

#include "tvw-ops-private.h"

const TvwOpClass *const tvw_op_table[] = {
  NULL
};
