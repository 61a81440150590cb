/* main.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "tvw-viewer-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TvwViewerApplication) app = NULL;

  tvw_viewer_setup_locale ();
  app = tvw_viewer_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
