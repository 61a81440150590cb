/* tvw-viewer-weights-panel.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>
#include <tvw.h>

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_WEIGHTS_PANEL (tvw_viewer_weights_panel_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerWeightsPanel, tvw_viewer_weights_panel, TVW_VIEWER, WEIGHTS_PANEL, AdwBin)

void        tvw_viewer_weights_panel_set_weights  (TvwViewerWeightsPanel *self,
                                                   TvwWeights            *weights);
void        tvw_viewer_weights_panel_update_cache (TvwViewerWeightsPanel *self);

G_END_DECLS
