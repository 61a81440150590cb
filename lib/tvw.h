/* tvw.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define _TVW_INSIDE

#include "tvw-version.h"
#include "tvw-enums.h"
#include "tvw-error.h"
#include "tvw-cache.h"
#include "tvw-tensor.h"
#include "tvw-transform.h"
#include "tvw-prediction.h"
#include "tvw-segmentation.h"
#include "tvw-video.h"
#include "tvw-detection.h"
#include "tvw-model.h"
#include "tvw-weights.h"
#include "tvw-weights-enum.h"
#include "tvw-registry.h"

#undef _TVW_INSIDE

G_END_DECLS
