/* main.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "tvw-viewer-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TvwViewerApplication) app = NULL;
  const char *localedir = g_getenv ("TVW_LOCALEDIR");

  /* TVW_LOCALEDIR: the translations of an uninstalled build (meson devenv). */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = tvw_viewer_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
