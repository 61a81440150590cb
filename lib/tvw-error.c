/* tvw-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-error.h"

G_DEFINE_QUARK (tvw-error-quark, tvw_error)
