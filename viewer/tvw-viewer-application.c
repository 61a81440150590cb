/* tvw-viewer-application.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "tvw-viewer-application.h"
#include "tvw-viewer-config.h"
#include "tvw-viewer-window-private.h"

struct _TvwViewerApplication
{
  AdwApplication  parent_instance;

  char           *weights;
};

G_DEFINE_FINAL_TYPE (TvwViewerApplication, tvw_viewer_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "weights", 'w', 0, G_OPTION_ARG_STRING, NULL,
    N_("Show these weights, e.g. ResNet50_Weights.IMAGENET1K_V2"), N_("FULL_NAME") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

static TvwViewerWindow *
get_window (TvwViewerApplication *self)
{
  TvwViewerWindow *window;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    if (TVW_VIEWER_IS_WINDOW (l->data))
      return l->data;

  window = tvw_viewer_window_new (GTK_APPLICATION (self));
  tvw_viewer_window_choose_weights (window, self->weights);

  return window;
}

static void
tvw_viewer_application_activate (GApplication *application)
{
  TvwViewerApplication *self = TVW_VIEWER_APPLICATION (application);

  gtk_window_present (GTK_WINDOW (get_window (self)));
}

static void
tvw_viewer_application_open (GApplication  *application,
                             GFile        **files,
                             int            n_files,
                             const char    *hint)
{
  TvwViewerApplication *self = TVW_VIEWER_APPLICATION (application);
  TvwViewerWindow *window = get_window (self);

  tvw_viewer_window_open_files (window, files, n_files);
  gtk_window_present (GTK_WINDOW (window));
}

static int
tvw_viewer_application_handle_local_options (GApplication *application,
                                             GVariantDict *options)
{
  TvwViewerApplication *self = TVW_VIEWER_APPLICATION (application);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("tvw-viewer %s\n", PACKAGE_VERSION);
      return 0;
    }

  g_clear_pointer (&self->weights, g_free);
  g_variant_dict_lookup (options, "weights", "s", &self->weights);

  return G_APPLICATION_CLASS (tvw_viewer_application_parent_class)->handle_local_options (application, options);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  TvwViewerApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  static const char *developers[] = { "The libtvw developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "application-icon", APP_ID,
                        "application-name", _("Tvw Viewer"),
                        "developer-name", _("The libtvw developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Try TorchVision weights on your own pictures. "
                                      "The models run natively on this computer with libtvw."),
                        "website", TVW_VIEWER_PROJECT_URL,
                        "issue-url", TVW_VIEWER_PROJECT_URL "/issues",
                        "developers", developers,
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        "license-type", GTK_LICENSE_LGPL_2_1,
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GtkApplication *application = user_data;

  /* Close the windows, so that they remember their size. */
  for (GList *l = gtk_application_get_windows (application); l != NULL;)
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_close (window);
    }
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
};

static void
tvw_viewer_application_startup (GApplication *application)
{
  static const char *quit_accels[] = { "<Primary>q", NULL };

  G_APPLICATION_CLASS (tvw_viewer_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions,
                                   G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);

  gtk_window_set_default_icon_name (APP_ID);
}

static void
tvw_viewer_application_finalize (GObject *object)
{
  TvwViewerApplication *self = (TvwViewerApplication *)object;

  g_clear_pointer (&self->weights, g_free);

  G_OBJECT_CLASS (tvw_viewer_application_parent_class)->finalize (object);
}

static void
tvw_viewer_application_class_init (TvwViewerApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *application_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = tvw_viewer_application_finalize;

  application_class->activate = tvw_viewer_application_activate;
  application_class->open = tvw_viewer_application_open;
  application_class->startup = tvw_viewer_application_startup;
  application_class->handle_local_options = tvw_viewer_application_handle_local_options;
}

static void
tvw_viewer_application_init (TvwViewerApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[IMAGE…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("See what TorchVision weights make of your images."));
}

/* Locale and message catalogue, before anything prints.  TVW_LOCALEDIR:
 * the translations of an uninstalled build (meson devenv). */
void
tvw_viewer_setup_locale (void)
{
  const char *localedir = g_getenv ("TVW_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

TvwViewerApplication *
tvw_viewer_application_new (void)
{
  return g_object_new (TVW_VIEWER_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "resource-base-path", "/org/gnome/Tvw/Viewer",
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       NULL);
}
