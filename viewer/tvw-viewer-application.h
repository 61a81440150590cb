/* tvw-viewer-application.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TVW_VIEWER_TYPE_APPLICATION (tvw_viewer_application_get_type ())

G_DECLARE_FINAL_TYPE (TvwViewerApplication, tvw_viewer_application, TVW_VIEWER, APPLICATION, AdwApplication)

void                  tvw_viewer_setup_locale    (void);
TvwViewerApplication *tvw_viewer_application_new (void);

G_END_DECLS
