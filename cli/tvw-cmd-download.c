/* tvw-cmd-download.c — tvw download, tvw cache: the weights cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <json-glib/json-glib.h>

#include "tvw-cli.h"

/* An argument is a URL or a weights name ("ResNet50_Weights.IMAGENET1K_V2",
 * "ResNet50_Weights.DEFAULT"). */
static char *
resolve_url (const char  *arg,
             char       **local_file,
             GError     **error)
{
  g_autoptr(TvwWeights) weights = NULL;
  const char *url;

  *local_file = NULL;

  if (strstr (arg, "://") != NULL)
    return g_strdup (arg);

  weights = tvw_get_weight (arg, error);
  if (weights == NULL)
    return NULL;

  url = tvw_weights_get_url (weights);
  if (url == NULL)
    {
      /* A weights card that points at a local file: nothing to download. */
      *local_file = g_strdup (tvw_weights_get_local_file (weights));
      if (*local_file == NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND,
                     _("%s has neither a URL nor a file"), arg);
      return NULL;
    }

  return g_strdup (url);
}

/* {{{ tvw download */

typedef struct
{
  GMainLoop    *loop;
  GCancellable *cancellable;
  const char   *name;
  gboolean      tty;
  gint64        start_us;
  gint64        last_draw_us;
  int           last_tenth;
  goffset       current;
  goffset       total;
  gboolean      got_progress;
  char         *path;
  GError       *error;
} DownloadState;

#define BAR_WIDTH 30

static void
draw_bar (DownloadState *s,
          gboolean       final)
{
  g_autofree char *done = g_format_size (s->current);
  g_autofree char *rate = NULL;
  double elapsed = (g_get_monotonic_time () - s->start_us) / (double) G_USEC_PER_SEC;
  GString *line = g_string_new (NULL);

  rate = g_format_size (elapsed > 0.05 ? (guint64) (s->current / elapsed) : 0);

  g_string_append_printf (line, "\r%s ", s->name);
  if (s->total > 0)
    {
      g_autofree char *all = g_format_size (s->total);
      int filled = (int) (BAR_WIDTH * (double) s->current / s->total);

      g_string_append_c (line, '[');
      for (int i = 0; i < BAR_WIDTH; i++)
        g_string_append_c (line, i < filled ? '#' : (i == filled ? '>' : ' '));
      g_string_append_printf (line, "] %3d%%  %s / %s",
                              (int) (100.0 * s->current / s->total), done, all);
    }
  else
    {
      g_string_append (line, done);
    }
  g_string_append_printf (line, "  %s/s\033[K", rate);
  if (final)
    g_string_append_c (line, '\n');

  fputs (line->str, stderr);
  fflush (stderr);
  g_string_free (line, TRUE);
}

static void
download_progress_cb (goffset  current,
                      goffset  total,
                      gpointer user_data)
{
  DownloadState *s = user_data;
  gint64 now = g_get_monotonic_time ();

  if (!s->got_progress)
    {
      s->got_progress = TRUE;
      s->start_us = now;
      if (!s->tty)
        fprintf (stderr, _("%s: downloading\n"), s->name);
    }

  s->current = current;
  s->total = total;

  if (s->tty)
    {
      if (now - s->last_draw_us >= G_USEC_PER_SEC / 10 || (total > 0 && current == total))
        {
          s->last_draw_us = now;
          draw_bar (s, FALSE);
        }
    }
  else if (total > 0)
    {
      /* One plain line per tenth, so logs stay short. */
      int tenth = (int) (10 * current / total);

      if (tenth > s->last_tenth && tenth < 10)
        {
          g_autofree char *done = g_format_size (current);
          g_autofree char *all = g_format_size (total);

          s->last_tenth = tenth;
          fprintf (stderr, _("%s: %d%% (%s of %s)\n"), s->name, tenth * 10, done, all);
        }
    }
}

static void
download_done_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  DownloadState *s = user_data;

  s->path = tvw_cache_fetch_finish (result, &s->error);
  g_main_loop_quit (s->loop);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  GCancellable *cancellable = user_data;

  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean
download_one (const char   *arg,
              GCancellable *cancellable,
              gboolean      tty)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *local_file = NULL;
  g_autofree char *url = NULL;
  g_autofree char *name = NULL;
  DownloadState s = { 0, };

  url = resolve_url (arg, &local_file, &error);
  if (local_file != NULL)
    {
      g_print ("%s\n", local_file);
      return TRUE;
    }
  if (url != NULL)
    name = tvw_cache_name_from_url (url, &error);
  if (name == NULL)
    {
      g_printerr ("tvw download: %s\n", error->message);
      return FALSE;
    }

  s.loop = loop;
  s.cancellable = cancellable;
  s.name = name;
  s.tty = tty;
  s.last_tenth = 0;

  tvw_cache_fetch_async (url, download_progress_cb, &s, NULL, cancellable,
                         download_done_cb, &s);
  g_main_loop_run (loop);

  if (s.got_progress && tty)
    draw_bar (&s, TRUE);

  if (s.path == NULL)
    {
      g_printerr ("tvw download: %s\n", s.error->message);
      g_clear_error (&s.error);
      return FALSE;
    }

  if (!s.got_progress)
    fprintf (stderr, _("%s: already cached\n"), name);
  else if (!tty)
    fprintf (stderr, _("%s: done\n"), name);

  g_print ("%s\n", s.path);
  g_free (s.path);
  return TRUE;
}

int
tvw_cmd_download (int    argc,
                  char **argv)
{
  g_auto(GStrv) args = NULL;
  const GOptionEntry entries[] = {
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &args, NULL, N_("URL|WEIGHTS…") },
    { NULL }
  };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *dir = NULL;
  gboolean tty = isatty (STDERR_FILENO);
  int status = 0;
  guint sigint_id;
  gboolean ok = TRUE;

  if (!tvw_cli_parse ("download", NULL,
                      _("Downloads checkpoints into the cache (or finds them there) and prints\n"
                        "their local paths.  Arguments are URLs or weights names such as\n"
                        "ResNet50_Weights.IMAGENET1K_V2 or ResNet50_Weights.DEFAULT.\n"
                        "\n"
                        "TVW_CACHE_DIR sets the cache directory; files PyTorch downloaded\n"
                        "are used from TORCH_HOME.  TVW_MIRROR=BASE downloads from BASE\n"
                        "instead of the catalog's host; TVW_OFFLINE=1 forbids downloads.\n"
                        "An interrupted download resumes where it stopped."),
                      entries, &argc, &argv, &status))
    return status;

  if (args == NULL || args[0] == NULL)
    {
      g_printerr ("%s\n", _("tvw download: give at least one URL or weights name"));
      return 2;
    }

  dir = tvw_get_cache_dir ();
  if (!tty)
    fprintf (stderr, _("Cache: %s\n"), dir);

  /* Ctrl+C cancels cleanly: the partial file stays, to resume next time. */
  sigint_id = g_unix_signal_add (SIGINT, interrupt_cb, cancellable);

  for (guint i = 0; args[i] != NULL && !g_cancellable_is_cancelled (cancellable); i++)
    ok = download_one (args[i], cancellable, tty) && ok;

  g_source_remove (sigint_id);

  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* }}} */

/* {{{ tvw cache */

/* The names `tvw cache` shows are the enums' nicks ("no-hash", "torch"). */
static const char *
enum_nick (GType type,
           int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);

  /* The nicks are static strings: they outlive the class reference. */
  return v != NULL ? v->value_nick : "unknown";
}

static void
print_json (GPtrArray  *entries,
            const char *dir,
            const char *torch_dir)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "cache_dir");
  json_builder_add_string_value (builder, dir);
  json_builder_set_member_name (builder, "torch_cache_dir");
  json_builder_add_string_value (builder, torch_dir);
  json_builder_set_member_name (builder, "files");
  json_builder_begin_array (builder);
  for (guint i = 0; i < entries->len; i++)
    {
      TvwCacheEntry *e = g_ptr_array_index (entries, i);
      TvwCacheState state = tvw_cache_entry_get_state (e);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, tvw_cache_entry_get_name (e));
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, tvw_cache_entry_get_path (e));
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, tvw_cache_entry_get_size (e));
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, enum_nick (TVW_TYPE_CACHE_STATE, state));
      json_builder_set_member_name (builder, "verified");
      json_builder_add_boolean_value (builder, state == TVW_CACHE_STATE_VERIFIED);
      json_builder_set_member_name (builder, "cache");
      json_builder_add_string_value (builder, enum_nick (TVW_TYPE_CACHE_LOCATION,
                                                         tvw_cache_entry_get_location (e)));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  tvw_cli_print_json (builder);
}

static void
print_table (GPtrArray  *entries,
             const char *dir,
             const char *torch_dir)
{
  int width = (int) strlen ("NAME");
  guint64 total = 0;

  g_print (_("Cache: %s\n"), dir);
  g_print (_("PyTorch cache (read only): %s\n"), torch_dir);

  if (entries->len == 0)
    {
      g_print ("%s\n", _("No cached weights."));
      return;
    }

  for (guint i = 0; i < entries->len; i++)
    width = MAX (width, (int) strlen (tvw_cache_entry_get_name (g_ptr_array_index (entries, i))));

  g_print ("\n%-*s  %10s  %-9s  %s\n", width, "NAME", "SIZE", "STATE", "CACHE");
  for (guint i = 0; i < entries->len; i++)
    {
      TvwCacheEntry *e = g_ptr_array_index (entries, i);
      g_autofree char *size = g_format_size (tvw_cache_entry_get_size (e));

      g_print ("%-*s  %10s  %-9s  %s\n", width, tvw_cache_entry_get_name (e), size,
               enum_nick (TVW_TYPE_CACHE_STATE, tvw_cache_entry_get_state (e)),
               enum_nick (TVW_TYPE_CACHE_LOCATION, tvw_cache_entry_get_location (e)));
      total += tvw_cache_entry_get_size (e);
    }

  {
    g_autofree char *size = g_format_size (total);
    g_print (_("\n%u files, %s\n"), entries->len, size);
  }
}

/* NAME is a cached file's name, or a weights name, or a URL. */
static char *
resolve_file_name (const char  *arg,
                   GError     **error)
{
  g_autofree char *url = NULL;
  g_autofree char *local_file = NULL;

  if (strchr (arg, '/') == NULL && (g_str_has_suffix (arg, ".pth") ||
                                    g_str_has_suffix (arg, ".safetensors") ||
                                    g_str_has_suffix (arg, ".pt")))
    return g_strdup (arg);

  url = resolve_url (arg, &local_file, error);
  if (url == NULL)
    {
      if (local_file != NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                     _("%s is a local file (%s), not a cached download"), arg, local_file);
      return NULL;
    }

  return tvw_cache_name_from_url (url, error);
}

int
tvw_cmd_cache (int    argc,
               char **argv)
{
  gboolean json = FALSE;
  gboolean verify = FALSE;
  g_auto(GStrv) remove = NULL;
  g_auto(GStrv) rest = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print one JSON object"), NULL },
    { "verify", 0, 0, G_OPTION_ARG_NONE, &verify, N_("Check the hash of files not checked yet"), NULL },
    { "remove", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &remove, N_("Remove this file (or weights) from the cache; may be repeated"), N_("NAME") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL }
  };
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *torch_dir = NULL;
  int status = 0;

  if (!tvw_cli_parse ("cache", NULL,
                      _("Lists the checkpoints in libtvw's cache and in PyTorch's, with their\n"
                        "size and whether their hash was checked, or removes some of them.\n"
                        "Files in PyTorch's cache are used but never removed."),
                      entries, &argc, &argv, &status))
    return status;

  if (rest != NULL && rest[0] != NULL)
    {
      g_printerr (_("tvw cache: unexpected argument “%s”\n"), rest[0]);
      return 2;
    }

  if (remove != NULL)
    {
      gboolean ok = TRUE;

      for (guint i = 0; remove[i] != NULL; i++)
        {
          g_autofree char *name = resolve_file_name (remove[i], &error);

          if (name == NULL || !tvw_cache_remove (name, &error))
            {
              g_printerr ("tvw cache: %s\n", error->message);
              g_clear_error (&error);
              ok = FALSE;
              continue;
            }
          g_print (_("Removed %s\n"), name);
        }

      return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    }

  files = tvw_cache_list (verify, NULL, &error);
  if (files == NULL)
    return tvw_cli_fail ("cache", error);

  dir = tvw_get_cache_dir ();
  torch_dir = tvw_cache_get_torch_dir ();
  if (json)
    print_json (files, dir, torch_dir);
  else
    print_table (files, dir, torch_dir);

  return EXIT_SUCCESS;
}

/* }}} */
