/* tvw-prediction.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <glib-object.h>

#include "tvw-version.h"

G_BEGIN_DECLS

#define TVW_TYPE_PREDICTION (tvw_prediction_get_type ())

TVW_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (TvwPrediction, tvw_prediction, TVW, PREDICTION, GObject)

TVW_AVAILABLE_IN_ALL
TvwPrediction *tvw_prediction_new          (guint          index,
                                            const char    *category,
                                            double         score);
TVW_AVAILABLE_IN_ALL
guint          tvw_prediction_get_index    (TvwPrediction *self);
TVW_AVAILABLE_IN_ALL
const char    *tvw_prediction_get_category (TvwPrediction *self);
TVW_AVAILABLE_IN_ALL
double         tvw_prediction_get_score    (TvwPrediction *self);

G_END_DECLS
