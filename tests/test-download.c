/* test-download.c — the weights cache and its downloader, against a
 * loopback SoupServer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server runs in its own thread on 127.0.0.1, port 0, and serves
 * generated files named like torchvision's checkpoints ("x-<sha256 prefix>.pth").
 * Each test gets fresh cache directories through TVW_CACHE_DIR, TORCH_HOME and
 * XDG_CACHE_HOME.  Nothing here talks to a non-loopback address: URLs that
 * must never be fetched point at 127.0.0.2:1, where nothing listens.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "tvw-cache-private.h"
#include "tvw-download-private.h"
#include "tvw-registry.h"
#include "tvw-enums.h"
#include "tvw-error.h"

/* The loopback server. */

typedef struct
{
  char   *path;
  char   *range;   /* the request's Range header, or NULL */
} Request;

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;
  char         *base;       /* http://127.0.0.1:PORT */

  GMutex        mutex;
  GCond         cond;
  GHashTable   *files;      /* name → GBytes */
  GPtrArray    *requests;   /* Request */
  GPtrArray    *writers;    /* GThread of raw responses */

  /* Behaviour, reset for each test. */
  gboolean      ignore_range;
  goffset       cut_at;     /* > 0: the next /files/ response stops after this many bytes */
  guint         slow_ms;    /* > 0: /files/ bodies go out in small chunks with this delay */
  gboolean      gate;       /* TRUE: /files/ bodies wait until it is FALSE */
  gboolean      endless;    /* TRUE: /files/ bodies are chunked and never end */
  guint         drip_ms;    /* > 0: /files/ bodies go out a byte at a time with this delay */
} TestServer;

static TestServer srv;

static void
request_free (Request *r)
{
  g_free (r->path);
  g_free (r->range);
  g_free (r);
}

typedef struct
{
  GIOStream *conn;
  GBytes    *body;
  goffset    send_bytes;
  guint      delay_ms;
  gboolean   wait_gate;
  gboolean   endless;
  gboolean   drip;
} RawResponse;

static gboolean
raw_write (GOutputStream *out,
           const void    *data,
           gsize          len)
{
  return g_output_stream_write_all (out, data, len, NULL, NULL, NULL);
}

/* Writes a response by hand on a stolen connection: a Content-Length for the
 * whole file, then (after the gate opens) @send_bytes of it, slowly if asked,
 * then closes the connection. */
static gpointer
raw_writer_thread (gpointer data)
{
  RawResponse *r = data;
  GOutputStream *out = g_io_stream_get_output_stream (r->conn);
  gsize size = g_bytes_get_size (r->body);
  const guint8 *bytes = g_bytes_get_data (r->body, NULL);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Content-Type: application/octet-stream\r\n"
                                           "Connection: close\r\n\r\n", size);
  gsize chunk = r->drip ? 1 : r->delay_ms > 0 ? 4096 : 65536;

  if (r->endless)
    {
      static const char chunked[] = "HTTP/1.1 200 OK\r\n"
                                    "Transfer-Encoding: chunked\r\n"
                                    "Content-Type: application/octet-stream\r\n"
                                    "Connection: close\r\n\r\n";
      g_autofree guint8 *zeros = g_malloc0 (65536);

      /* Until the client hangs up (at most 1 GiB). */
      if (raw_write (out, chunked, strlen (chunked)))
        for (guint i = 0; i < 16384; i++)
          if (!raw_write (out, "10000\r\n", 7) || !raw_write (out, zeros, 65536) ||
              !raw_write (out, "\r\n", 2))
            break;
    }
  else if (raw_write (out, head, strlen (head)))
    {
      if (r->wait_gate)
        {
          g_mutex_lock (&srv.mutex);
          while (srv.gate)
            g_cond_wait (&srv.cond, &srv.mutex);
          g_mutex_unlock (&srv.mutex);
        }

      for (goffset off = 0; off < r->send_bytes; off += chunk)
        {
          gsize n = MIN (chunk, (gsize) (r->send_bytes - off));

          if (!raw_write (out, bytes + off, n))
            break;
          if (r->delay_ms > 0)
            g_usleep (r->delay_ms * 1000);
        }
    }

  g_io_stream_close (r->conn, NULL, NULL);
  g_object_unref (r->conn);
  g_bytes_unref (r->body);
  g_free (r);
  return NULL;
}

static void
serve_file (SoupServerMessage *msg,
            const char        *name)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  g_autoptr(GBytes) body = NULL;
  g_autofree char *etag = g_strdup_printf ("\"tvw-test-%s\"", name);
  goffset cut_at;
  guint slow_ms;
  gboolean gate, ignore_range, endless;
  guint drip_ms;
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  gsize size;

  g_mutex_lock (&srv.mutex);
  body = g_hash_table_lookup (srv.files, name);
  if (body != NULL)
    g_bytes_ref (body);
  cut_at = srv.cut_at;
  srv.cut_at = 0;
  slow_ms = srv.slow_ms;
  gate = srv.gate;
  ignore_range = srv.ignore_range;
  endless = srv.endless;
  drip_ms = srv.drip_ms;
  g_mutex_unlock (&srv.mutex);

  if (body == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }

  size = g_bytes_get_size (body);

  if (cut_at > 0 || slow_ms > 0 || gate || endless || drip_ms > 0)
    {
      RawResponse *r = g_new0 (RawResponse, 1);

      r->conn = soup_server_message_steal_connection (msg);
      r->body = g_steal_pointer (&body);
      r->send_bytes = cut_at > 0 ? cut_at : (goffset) size;
      r->delay_ms = drip_ms > 0 ? drip_ms : slow_ms;
      r->wait_gate = gate;
      r->endless = endless;
      r->drip = drip_ms > 0;

      g_mutex_lock (&srv.mutex);
      g_ptr_array_add (srv.writers, g_thread_new ("raw-writer", raw_writer_thread, r));
      g_mutex_unlock (&srv.mutex);
      return;
    }

  soup_message_headers_replace (response_headers, "ETag", etag);

  if (!ignore_range &&
      soup_message_headers_get_ranges (request_headers, size, &ranges, &n_ranges) &&
      n_ranges == 1)
    {
      goffset start = ranges[0].start;
      goffset end = ranges[0].end;
      g_autoptr(GBytes) part = g_bytes_new_from_bytes (body, start, end - start + 1);

      soup_message_headers_free_ranges (request_headers, ranges);
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (response_headers, start, end, size);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (part, NULL), g_bytes_get_size (part));
      return;
    }

  if (ranges != NULL)
    soup_message_headers_free_ranges (request_headers, ranges);

  /* Otherwise SoupServer would answer the range itself. */
  soup_message_headers_remove (request_headers, "Range");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (body, NULL), size);
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  Request *request = g_new0 (Request, 1);
  const char *base = strrchr (path, '/') + 1;

  request->path = g_strdup (path);
  request->range = g_strdup (soup_message_headers_get_one (request_headers, "Range"));
  g_mutex_lock (&srv.mutex);
  g_ptr_array_add (srv.requests, request);
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.mutex);

  if (g_str_has_prefix (path, "/status/"))
    {
      guint status = atoi (path + strlen ("/status/"));

      soup_server_message_set_status (msg, status, NULL);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "no\n", 3);
    }
  else if (g_str_has_prefix (path, "/redirect/"))
    {
      g_autofree char *target = g_strconcat ("/files/", base, NULL);

      soup_server_message_set_redirect (msg, SOUP_STATUS_FOUND, target);
    }
  else if (g_str_has_prefix (path, "/files/") || g_str_has_prefix (path, "/models/"))
    {
      serve_file (msg, base);
    }
  else
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    }
}

static gpointer
server_thread (gpointer data)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (srv.context);

  srv.server = soup_server_new ("server-header", "tvw-test ", NULL);
  soup_server_add_handler (srv.server, NULL, server_cb, NULL, NULL);
  soup_server_listen_local (srv.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (srv.server);
  g_assert_nonnull (uris);

  g_mutex_lock (&srv.mutex);
  srv.base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.mutex);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (srv.loop);

  soup_server_disconnect (srv.server);
  g_clear_object (&srv.server);
  g_main_context_pop_thread_default (srv.context);
  return NULL;
}

static void
server_start (void)
{
  g_mutex_init (&srv.mutex);
  g_cond_init (&srv.cond);
  srv.files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  srv.requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  srv.writers = g_ptr_array_new ();
  srv.context = g_main_context_new ();
  srv.loop = g_main_loop_new (srv.context, FALSE);
  srv.thread = g_thread_new ("loopback-server", server_thread, NULL);

  g_mutex_lock (&srv.mutex);
  while (srv.base == NULL)
    g_cond_wait (&srv.cond, &srv.mutex);
  g_mutex_unlock (&srv.mutex);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (srv.loop);
  return G_SOURCE_REMOVE;
}

static void
server_stop (void)
{
  g_main_context_invoke (srv.context, quit_cb, NULL);
  g_thread_join (srv.thread);
  g_main_loop_unref (srv.loop);
  g_main_context_unref (srv.context);
  g_hash_table_unref (srv.files);
  g_ptr_array_unref (srv.requests);
  g_ptr_array_unref (srv.writers);
  g_free (srv.base);
}

static void
server_open_gate (void)
{
  g_mutex_lock (&srv.mutex);
  srv.gate = FALSE;
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.mutex);
}

/* Waits for the raw writers, then forgets files, requests and behaviour. */
static void
server_reset (void)
{
  g_autoptr(GPtrArray) writers = NULL;

  server_open_gate ();

  g_mutex_lock (&srv.mutex);
  writers = g_steal_pointer (&srv.writers);
  srv.writers = g_ptr_array_new ();
  g_mutex_unlock (&srv.mutex);

  for (guint i = 0; i < writers->len; i++)
    g_thread_join (writers->pdata[i]);

  g_mutex_lock (&srv.mutex);
  g_hash_table_remove_all (srv.files);
  g_ptr_array_set_size (srv.requests, 0);
  srv.ignore_range = FALSE;
  srv.cut_at = 0;
  srv.slow_ms = 0;
  srv.gate = FALSE;
  srv.endless = FALSE;
  srv.drip_ms = 0;
  g_mutex_unlock (&srv.mutex);
}

static void
server_set_endless (void)
{
  g_mutex_lock (&srv.mutex);
  srv.endless = TRUE;
  g_mutex_unlock (&srv.mutex);
}

static void
server_set_drip (guint delay_ms)
{
  g_mutex_lock (&srv.mutex);
  srv.drip_ms = delay_ms;
  g_mutex_unlock (&srv.mutex);
}

static void
server_set_cut (goffset cut_at)
{
  g_mutex_lock (&srv.mutex);
  srv.cut_at = cut_at;
  g_mutex_unlock (&srv.mutex);
}

static void
server_set_slow (guint delay_ms)
{
  g_mutex_lock (&srv.mutex);
  srv.slow_ms = delay_ms;
  g_mutex_unlock (&srv.mutex);
}

static void
server_set_ignore_range (gboolean ignore)
{
  g_mutex_lock (&srv.mutex);
  srv.ignore_range = ignore;
  g_mutex_unlock (&srv.mutex);
}

static void
server_close_gate (void)
{
  g_mutex_lock (&srv.mutex);
  srv.gate = TRUE;
  g_mutex_unlock (&srv.mutex);
}

static void
server_add_file (const char *name,
                 GBytes     *bytes)
{
  g_mutex_lock (&srv.mutex);
  g_hash_table_replace (srv.files, g_strdup (name), g_bytes_ref (bytes));
  g_mutex_unlock (&srv.mutex);
}

static guint
server_n_requests (void)
{
  guint n;

  g_mutex_lock (&srv.mutex);
  n = srv.requests->len;
  g_mutex_unlock (&srv.mutex);
  return n;
}

static char *
server_request_range (guint i)
{
  char *range;

  g_mutex_lock (&srv.mutex);
  g_assert_cmpuint (i, <, srv.requests->len);
  range = g_strdup (((Request *) srv.requests->pdata[i])->range);
  g_mutex_unlock (&srv.mutex);
  return range;
}

static void
server_wait_requests (guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&srv.mutex);
  while (srv.requests->len < n)
    if (!g_cond_wait_until (&srv.cond, &srv.mutex, deadline))
      g_error ("the server did not get %u requests in time", n);
  g_mutex_unlock (&srv.mutex);
}

/* Test data: deterministic bytes and their torchvision-style name. */

static char *
sha256_hex (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

static GBytes *
make_bytes (guint32 seed,
            gsize   size)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = g_rand_int (rand) & 0xff;

  return g_bytes_new_take (data, size);
}

/* A generated checkpoint: deterministic bytes, named after their hash as
 * torchvision's are ("<stem>-<first hex digits of the SHA-256>.pth"), and the
 * URL a test asks for. */
typedef struct
{
  GBytes *bytes;
  char   *name;
  char   *url;
} Checkpoint;

static void
checkpoint_free (Checkpoint *c)
{
  g_bytes_unref (c->bytes);
  g_free (c->name);
  g_free (c->url);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Checkpoint, checkpoint_free)

static char *
unreachable_url (const char *name)
{
  return g_strdup_printf ("http://127.0.0.2:1/models/%s", name);
}

static char *
file_url (const char *route,
          const char *name)
{
  return g_strdup_printf ("%s/%s/%s", srv.base, route, name);
}

/* A checkpoint the server does not have, at a URL where nothing listens. */
static Checkpoint *
checkpoint_new (const char *stem,
                guint32     seed,
                gsize       size,
                guint       prefix_len)
{
  Checkpoint *c = g_new0 (Checkpoint, 1);
  g_autofree char *sha = NULL;

  c->bytes = make_bytes (seed, size);
  sha = sha256_hex (c->bytes);
  c->name = g_strdup_printf ("%s-%.*s.pth", stem, (int) prefix_len, sha);
  c->url = unreachable_url (c->name);
  return c;
}

/* A checkpoint on the server, at its URL under /files/. */
static Checkpoint *
serve_new_checkpoint (const char *stem,
                      guint32     seed,
                      gsize       size,
                      guint       prefix_len)
{
  Checkpoint *c = checkpoint_new (stem, seed, size, prefix_len);

  server_add_file (c->name, c->bytes);
  g_free (c->url);
  c->url = file_url ("files", c->name);
  return c;
}

static void
write_file (const char *path,
            GBytes     *bytes)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static void
assert_file_equals (const char *path,
                    GBytes     *expected)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
}

static void
assert_lookup_finds (const char *url,
                     const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tvw_cache_lookup (url, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, expected);
}

/* The fixture: fresh directories, and an earlier valid download that no
 * failure may touch. */

typedef struct
{
  char    *tmp;
  char    *tvw_dir;
  char    *torch_dir;
  GBytes  *keep_bytes;
  char    *keep_path;
  struct stat keep_st;
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        remove_tree (child);
      }

  if (g_remove (path) != 0 && errno != ENOENT)
    g_error ("cannot remove %s: %s", path, g_strerror (errno));
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Checkpoint) keep = NULL;
  g_autofree char *xdg = NULL;
  g_autofree char *torch_home = NULL;

  server_reset ();
  tvw_set_offline (FALSE);
  g_unsetenv ("TVW_OFFLINE");
  g_unsetenv ("TVW_MIRROR");

  f->tmp = g_dir_make_tmp ("tvw-download-XXXXXX", &error);
  g_assert_no_error (error);
  f->tvw_dir = g_build_filename (f->tmp, "tvw-cache", NULL);
  torch_home = g_build_filename (f->tmp, "torch-home", NULL);
  f->torch_dir = g_build_filename (torch_home, "hub", "checkpoints", NULL);
  xdg = g_build_filename (f->tmp, "xdg-cache", NULL);
  g_setenv ("TVW_CACHE_DIR", f->tvw_dir, TRUE);
  g_setenv ("TORCH_HOME", torch_home, TRUE);
  g_setenv ("XDG_CACHE_HOME", xdg, TRUE);

  /* An earlier download, verified once. */
  keep = checkpoint_new ("keep", 7, 3000, 8);
  f->keep_bytes = g_bytes_ref (keep->bytes);
  f->keep_path = g_build_filename (f->tvw_dir, keep->name, NULL);
  write_file (f->keep_path, f->keep_bytes);
  assert_lookup_finds (keep->url, f->keep_path);
  g_assert_cmpint (stat (f->keep_path, &f->keep_st), ==, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  server_reset ();
  remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->tvw_dir);
  g_free (f->torch_dir);
  g_free (f->keep_path);
  g_bytes_unref (f->keep_bytes);
}

/* After a failure: nothing under the final name, no lock left, and the
 * earlier download exactly as it was. */
static void
assert_cache_clean (Fixture    *f,
                    const char *name)
{
  g_autofree char *final = g_build_filename (f->tvw_dir, name, NULL);
  g_autofree char *lock = g_strconcat (final, ".lock", NULL);
  struct stat st;

  g_assert_false (g_file_test (final, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));

  assert_file_equals (f->keep_path, f->keep_bytes);
  g_assert_cmpint (stat (f->keep_path, &st), ==, 0);
  g_assert_cmpint (st.st_ino, ==, f->keep_st.st_ino);
  g_assert_cmpint (st.st_mtim.tv_sec, ==, f->keep_st.st_mtim.tv_sec);
  g_assert_cmpint (st.st_mtim.tv_nsec, ==, f->keep_st.st_mtim.tv_nsec);
}

static void
assert_no_leftovers (Fixture    *f,
                     const char *name)
{
  g_autofree char *final = g_build_filename (f->tvw_dir, name, NULL);
  g_autofree char *partial = g_strconcat (final, ".partial", NULL);
  g_autofree char *state = g_strconcat (final, ".partial.state", NULL);
  g_autofree char *lock = g_strconcat (final, ".lock", NULL);

  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (state, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));
}

/* Progress recording. */

typedef struct
{
  GArray    *calls;   /* pairs of goffset */
  GThread   *thread;  /* where calls must happen */
  gboolean   notified;
  GCancellable *cancel_after;  /* cancelled once current >= cancel_at */
  goffset    cancel_at;
} Progress;

static void
progress_init (Progress *p)
{
  memset (p, 0, sizeof *p);
  p->calls = g_array_new (FALSE, FALSE, sizeof (goffset));
  p->thread = g_thread_self ();
}

static void
progress_clear (Progress *p)
{
  g_array_unref (p->calls);
}

static void
progress_cb (goffset  current,
             goffset  total,
             gpointer user_data)
{
  Progress *p = user_data;

  g_assert_true (g_thread_self () == p->thread);
  g_assert_false (p->notified);
  g_array_append_val (p->calls, current);
  g_array_append_val (p->calls, total);

  if (p->cancel_after != NULL && current >= p->cancel_at)
    g_cancellable_cancel (p->cancel_after);
}

static void
progress_notify_cb (gpointer user_data)
{
  Progress *p = user_data;

  g_assert_true (g_thread_self () == p->thread);
  g_assert_false (p->notified);
  p->notified = TRUE;
}

/* Monotone, with a constant total, from @first (-1: anything, as the
 * asynchronous reports are coalesced) to @total. */
static void
assert_progress (Progress *p,
                 goffset   first,
                 goffset   total)
{
  guint n = p->calls->len / 2;
  goffset *v = (goffset *) p->calls->data;

  g_assert_cmpuint (n, >=, first >= 0 ? 2 : 1);
  if (first >= 0)
    g_assert_cmpint (v[0], ==, first);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (v[2 * i + 1], ==, total);
      if (i > 0)
        g_assert_cmpint (v[2 * i], >=, v[2 * i - 2]);
    }
  g_assert_cmpint (v[2 * (n - 1)], ==, total);
}

/* Async helper: runs tvw_cache_fetch_async on the default main context. */

typedef struct
{
  GAsyncResult *result;
  Progress     *progress;
} AsyncData;

static void
fetch_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncData *data = user_data;

  /* The progress is over (and released) before the result arrives. */
  if (data->progress != NULL)
    g_assert_true (data->progress->notified);
  data->result = g_object_ref (result);
}

static char *
fetch_async_and_wait (const char    *url,
                      Progress      *progress,
                      GCancellable  *cancellable,
                      GError       **error)
{
  AsyncData data = { NULL, progress };
  char *path;

  tvw_cache_fetch_async (url,
                         progress != NULL ? progress_cb : NULL, progress,
                         progress != NULL ? progress_notify_cb : NULL,
                         cancellable, fetch_done_cb, &data);
  while (data.result == NULL)
    g_main_context_iteration (NULL, TRUE);

  path = tvw_cache_fetch_finish (data.result, error);
  g_object_unref (data.result);
  return path;
}

/* Fetching with the outcome checked. */

/* Fetches @url (reporting to @progress unless it is NULL) and returns the
 * path; with @expected, checks that the file holds those bytes. */
static char *
fetch_ok (const char *url,
          Progress   *progress,
          GBytes     *expected)
{
  g_autoptr(GError) error = NULL;
  char *path;

  path = tvw_cache_fetch (url, progress != NULL ? progress_cb : NULL, progress, NULL, &error);
  g_assert_no_error (error);
  if (expected != NULL)
    assert_file_equals (path, expected);
  return path;
}

/* Fetches @url, which must fail with @domain and @code; returns the error
 * for the caller to check the message. */
static GError *
fetch_fails (const char *url,
             GQuark      domain,
             int         code)
{
  g_autofree char *path = NULL;
  GError *error = NULL;

  path = tvw_cache_fetch (url, NULL, NULL, NULL, &error);
  g_assert_error (error, domain, code);
  g_assert_null (path);
  return error;
}

/* With a copy of @file at @copy, fetching finds it there. */
static void
assert_fetch_uses_copy (Checkpoint *file,
                        const char *copy)
{
  g_autofree char *path = NULL;

  write_file (copy, file->bytes);
  path = fetch_ok (file->url, NULL, NULL);
  g_assert_cmpstr (path, ==, copy);
}

/* The server got @n requests, the last one with this Range header (NULL:
 * none). */
static void
assert_last_request (guint       n,
                     const char *range)
{
  g_autofree char *last = NULL;

  g_assert_cmpuint (server_n_requests (), ==, n);
  last = server_request_range (n - 1);
  g_assert_cmpstr (last, ==, range);
}

/* The tests. */

static void
test_names (void)
{
  const struct { const char *name; const char *prefix; } cases[] = {
    { "resnet50-11ad3fa6.pth", "11ad3fa6" },
    { "efficientnet_b0_rwightman-3dd342df.pth", "3dd342df" },
    { "a-b-12ab.pth", "12ab" },          /* the first "-hex." wins */
    { "vit-h-14-0123456789.pth", "0123456789" },
    { "x-.pth", NULL },                  /* empty prefix: no check, as in torch.hub */
    { "plain.pth", NULL },
    { "upper-ABCDEF.pth", NULL },        /* only lowercase hex */
    { "nodot-abcdef", NULL },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *mirrored = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *prefix = tvw_cache_get_hash_prefix (cases[i].name);
      g_assert_cmpstr (prefix, ==, cases[i].prefix);
    }

  name = tvw_cache_name_from_url ("https://download.pytorch.org/models/resnet50-11ad3fa6.pth?x=1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "resnet50-11ad3fa6.pth");
  g_clear_pointer (&name, g_free);

  name = tvw_cache_name_from_url ("https://download.pytorch.org/models/", &error);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_null (name);
  g_clear_error (&error);

  name = tvw_cache_name_from_url ("not a url", &error);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_setenv ("TVW_MIRROR", "http://mirror.example/pytorch/", TRUE);
  mirrored = tvw_cache_apply_mirror ("https://download.pytorch.org/models/x-1234.pth");
  g_assert_cmpstr (mirrored, ==, "http://mirror.example/pytorch/models/x-1234.pth");
  g_unsetenv ("TVW_MIRROR");
  g_clear_pointer (&mirrored, g_free);
  mirrored = tvw_cache_apply_mirror ("https://download.pytorch.org/models/x-1234.pth");
  g_assert_cmpstr (mirrored, ==, "https://download.pytorch.org/models/x-1234.pth");
}

static void
test_dirs (void)
{
  g_autofree char *dir = NULL;

  g_setenv ("TVW_CACHE_DIR", "/somewhere/tvw", TRUE);
  g_setenv ("XDG_CACHE_HOME", "/xdg", TRUE);
  g_setenv ("TORCH_HOME", "/th", TRUE);
  dir = tvw_get_cache_dir ();
  g_assert_cmpstr (dir, ==, "/somewhere/tvw");
  g_clear_pointer (&dir, g_free);
  dir = tvw_cache_get_torch_dir ();
  g_assert_cmpstr (dir, ==, "/th/hub/checkpoints");
  g_clear_pointer (&dir, g_free);

  g_unsetenv ("TVW_CACHE_DIR");
  g_unsetenv ("TORCH_HOME");
  dir = tvw_get_cache_dir ();
  g_assert_cmpstr (dir, ==, "/xdg/tvw/checkpoints");
  g_clear_pointer (&dir, g_free);
  dir = tvw_cache_get_torch_dir ();
  g_assert_cmpstr (dir, ==, "/xdg/torch/hub/checkpoints");
}

static void
test_success (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("x", 1, 200 * 1024 + 17, 8);
  g_autofree char *expected = g_build_filename (f->tvw_dir, file->name, NULL);
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;
  Progress progress;

  progress_init (&progress);
  path = fetch_ok (file->url, &progress, file->bytes);
  g_assert_cmpstr (path, ==, expected);
  assert_progress (&progress, 0, g_bytes_get_size (file->bytes));
  assert_no_leftovers (f, file->name);
  assert_last_request (1, NULL);

  /* Cached now: no second request, no progress. */
  g_array_set_size (progress.calls, 0);
  again = fetch_ok (file->url, &progress, NULL);
  g_assert_cmpstr (again, ==, expected);
  g_assert_cmpuint (server_n_requests (), ==, 1);
  g_assert_cmpuint (progress.calls->len, ==, 0);

  progress_clear (&progress);
}

static void
test_success_async (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("x", 2, 700 * 1024, 10);
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress;

  progress_init (&progress);
  path = fetch_async_and_wait (file->url, &progress, NULL, &error);
  g_assert_no_error (error);
  assert_file_equals (path, file->bytes);
  g_assert_true (progress.notified);
  assert_progress (&progress, -1, g_bytes_get_size (file->bytes));
  assert_no_leftovers (f, file->name);
  g_assert_cmpuint (server_n_requests (), ==, 1);
  progress_clear (&progress);

  /* Cached now: no request, no progress at all. */
  progress_init (&progress);
  again = fetch_async_and_wait (file->url, &progress, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, path);
  g_assert_true (progress.notified);
  g_assert_cmpuint (progress.calls->len, ==, 0);
  g_assert_cmpuint (server_n_requests (), ==, 1);
  progress_clear (&progress);
}

/* Fetching @url fails with @domain and @code, with @detail and @detail2 in
 * the message, and leaves the cache as it was. */
static void
check_failed_fetch (Fixture    *f,
                    const char *url,
                    const char *name,
                    GQuark      domain,
                    int         code,
                    const char *detail,
                    const char *detail2)
{
  g_autoptr(GError) error = fetch_fails (url, domain, code);

  g_assert_nonnull (strstr (error->message, detail));
  g_assert_nonnull (strstr (error->message, detail2));
  assert_cache_clean (f, name);
  assert_no_leftovers (f, name);
}

static void
check_http_error (Fixture    *f,
                  const char *route,
                  const char *code)
{
  g_autofree char *url = g_strdup_printf ("%s/%s", srv.base, route);
  g_autofree char *name = g_path_get_basename (route);

  check_failed_fetch (f, url, name, TVW_ERROR, TVW_ERROR_NETWORK, code, url);
}

static void
test_http_404 (Fixture       *f,
               gconstpointer  data)
{
  check_http_error (f, "files/x-0123abcd.pth", "404");
  check_http_error (f, "status/404/x-0123abcd.pth", "404");
}

static void
test_http_500 (Fixture       *f,
               gconstpointer  data)
{
  check_http_error (f, "status/500/x-0123abcd.pth", "500");
}

static void
test_redirect (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("redir", 3, 5000, 8);
  g_autofree char *url = file_url ("redirect", file->name);
  g_autofree char *path = NULL;

  path = fetch_ok (url, NULL, file->bytes);
  g_assert_true (g_str_has_suffix (path, file->name));
  g_assert_cmpuint (server_n_requests (), ==, 2);
}

static void
test_wrong_hash (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GBytes) bytes = make_bytes (4, 10000);
  g_autofree char *sha = sha256_hex (bytes);
  const char *prefix = g_str_has_prefix (sha, "deadbeef") ? "feedf00d" : "deadbeef";
  g_autofree char *name = g_strdup_printf ("bad-%s.pth", prefix);
  g_autofree char *url = file_url ("files", name);

  server_add_file (name, bytes);
  check_failed_fetch (f, url, name, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH, prefix, sha);
}

/* Interrupts a download half-way, checks what is left, and returns the
 * number of bytes the partial file holds. */
static goffset
interrupt_download (Fixture    *f,
                    Checkpoint *file,
                    goffset     cut_at)
{
  g_autofree char *partial = g_strdup_printf ("%s/%s.partial", f->tvw_dir, file->name);
  g_autoptr(GError) error = NULL;
  struct stat st;

  server_set_cut (cut_at);
  error = fetch_fails (file->url, TVW_ERROR, TVW_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, file->url));
  assert_cache_clean (f, file->name);

  /* What arrived is kept to resume from. */
  g_assert_cmpint (stat (partial, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, cut_at);
  return st.st_size;
}

static void
test_truncated_body (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("cut", 5, 300 * 1024, 8);

  interrupt_download (f, file, 100 * 1024 + 3);
  g_assert_cmpuint (server_n_requests (), ==, 1);
}

/* Interrupts the download of @file after @cut_at bytes and fetches it
 * again: the second request asks for the rest.  A server that ignores the
 * range sends the whole file, and the download starts over. */
static void
check_resume (Fixture    *f,
              Checkpoint *file,
              goffset     cut_at,
              gboolean    ignore_range)
{
  g_autofree char *path = NULL;
  g_autofree char *expected_range = NULL;
  Progress progress;
  goffset kept;

  kept = interrupt_download (f, file, cut_at);
  if (ignore_range)
    server_set_ignore_range (TRUE);

  progress_init (&progress);
  path = fetch_ok (file->url, &progress, file->bytes);
  assert_no_leftovers (f, file->name);

  expected_range = g_strdup_printf ("bytes=%" G_GOFFSET_FORMAT "-", kept);
  assert_last_request (2, expected_range);
  assert_progress (&progress, ignore_range ? 0 : kept, g_bytes_get_size (file->bytes));
  progress_clear (&progress);
}

/* Bounds: the card's sha256 before the rename, sizes, stalls, schemes,
 * reservations. */

/* Registers a weights card for @url; @num_params 0 leaves it out. */
static void
register_card (Fixture    *f,
               const char *url,
               const char *sha256,
               gint64      num_params)
{
  static guint n_cards;
  g_autofree char *path = g_strdup_printf ("%s/card-%u.json", f->tmp, n_cards);
  g_autoptr(GString) card = g_string_new (NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;

  g_string_append_printf (card, "{\"enum\": \"Download%u_Weights\", \"builder\": \"resnet18\", "
                          "\"entries\": [{\"name\": \"V1\", \"url\": \"%s\", ", n_cards++, url);
  if (sha256 != NULL)
    g_string_append_printf (card, "\"sha256\": \"%s\", ", sha256);
  if (num_params > 0)
    g_string_append_printf (card, "\"meta\": {\"num_params\": %" G_GINT64_FORMAT "}, ", num_params);
  g_string_append (card, "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224}}]}");
  g_file_set_contents (path, card->str, card->len, &error);
  g_assert_no_error (error);
  tvw_register_weights_from_file (file, &error);
  g_assert_no_error (error);
}

static void
test_card_sha256 (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) bytes = make_bytes (31, 20000);
  g_autofree char *sha = sha256_hex (bytes);
  g_autofree char *wrong = g_strnfill (64, sha[0] == '0' ? '1' : '0');
  g_autofree char *url = file_url ("files", "carded.pth");
  g_autofree char *good_url = file_url ("files", "carded-good.pth");
  g_autofree char *path = NULL;

  /* No hash prefix in the name: only the card can tell. */
  server_add_file ("carded.pth", bytes);
  server_add_file ("carded-good.pth", bytes);
  register_card (f, url, wrong, 0);
  check_failed_fetch (f, url, "carded.pth", TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH, wrong, sha);

  register_card (f, good_url, sha, 0);
  path = fetch_ok (good_url, NULL, bytes);
  assert_no_leftovers (f, "carded-good.pth");
}

/* num_params 1000: at most 8 × 1000 bytes + 16 MiB. */
#define SMALL_PARAMS 1000
#define SMALL_BOUND (8 * SMALL_PARAMS + (16 << 20))

static void
test_size_bound_announced (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GBytes) bytes = make_bytes (32, SMALL_BOUND + 1);
  g_autofree char *url = file_url ("files", "too-big.pth");
  g_autofree char *bound = g_strdup_printf ("%d", SMALL_BOUND);

  server_add_file ("too-big.pth", bytes);
  register_card (f, url, NULL, SMALL_PARAMS);
  check_failed_fetch (f, url, "too-big.pth", TVW_ERROR, TVW_ERROR_INVALID_DATA, "more than the", bound);
}

/* A card's _file_size (MiB, as torchvision gives it): 0.5 allows 2 MiB. */
static void
test_size_bound_file_size (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GBytes) bytes = make_bytes (36, (2 << 20) + 1);
  g_autoptr(GBytes) small = make_bytes (37, 1 << 20);
  g_autofree char *url = file_url ("files", "sized.pth");
  g_autofree char *small_url = file_url ("files", "sized-small.pth");
  g_autofree char *card = g_build_filename (f->tmp, "sized.json", NULL);
  g_autofree char *json = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (card);
  g_autoptr(GError) error = NULL;

  server_add_file ("sized.pth", bytes);
  server_add_file ("sized-small.pth", small);
  json = g_strdup_printf ("{\"enum\": \"Sized_Weights\", \"builder\": \"resnet18\", \"entries\": ["
                          "{\"name\": \"V1\", \"url\": \"%s\", \"meta\": {\"_file_size\": 0.5}, %s},"
                          "{\"name\": \"V2\", \"url\": \"%s\", \"meta\": {\"_file_size\": 0.5}, %s}]}",
                          url, "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224}",
                          small_url, "\"transforms\": {\"preset\": \"ImageClassification\", \"crop_size\": 224}");
  g_file_set_contents (card, json, -1, &error);
  g_assert_no_error (error);
  tvw_register_weights_from_file (file, &error);
  g_assert_no_error (error);

  check_failed_fetch (f, url, "sized.pth", TVW_ERROR, TVW_ERROR_INVALID_DATA, "more than the", "2097152");
  path = fetch_ok (small_url, NULL, small);
}

static void
test_size_bound_endless (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GBytes) bytes = make_bytes (33, 100);
  g_autofree char *url = file_url ("files", "endless.pth");
  g_autofree char *bound = g_strdup_printf ("%d", SMALL_BOUND);

  server_add_file ("endless.pth", bytes);
  server_set_endless ();
  register_card (f, url, NULL, SMALL_PARAMS);
  check_failed_fetch (f, url, "endless.pth", TVW_ERROR, TVW_ERROR_INVALID_DATA, "more than the", bound);
}

static void
test_stall (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("drip", 34, 64 * 1024, 8);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double elapsed;

  _tvw_download_set_stall_seconds (1);
  server_set_drip (50);
  error = fetch_fails (file->url, TVW_ERROR, TVW_ERROR_NETWORK);
  elapsed = (g_get_monotonic_time () - start) / 1e6;
  _tvw_download_set_stall_seconds (0);
  g_assert_nonnull (strstr (error->message, "stalled"));
  g_assert_nonnull (strstr (error->message, file->url));
  /* One stall time, and the time to notice it. */
  g_assert_cmpfloat (elapsed, <, 10.0);
  assert_cache_clean (f, file->name);
}

static void
test_reservation_released (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("reserve", 35, 32 << 20, 8);
  g_autofree char *partial = g_strdup_printf ("%s/%s.partial", f->tvw_dir, file->name);
  struct stat st;

  interrupt_download (f, file, 10);
  g_assert_cmpint (stat (partial, &st), ==, 0);
  /* 10 bytes written: a block or so, not the 32 MiB announced. */
  g_assert_cmpint ((gint64) st.st_blocks * 512, <, 1 << 20);
}

/* file:///dev/zero never ends; a FIFO never starts. */
static void
test_scheme_refused (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *fifo = g_build_filename (f->tmp, "fifo.pth", NULL);
  g_autofree char *fifo_url = g_filename_to_uri (fifo, NULL, NULL);
  g_autoptr(GError) error = fetch_fails ("file:///dev/zero", TVW_ERROR, TVW_ERROR_NETWORK);

  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  error = fetch_fails (fifo_url, TVW_ERROR, TVW_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  error = fetch_fails ("ftp://127.0.0.2:1/models/x.pth", TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not an http, https or file URL"));
}

static void
test_resume (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("resume", 6, 300 * 1024, 8);

  check_resume (f, file, 123457, FALSE);
}

static void
test_resume_ignored (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("norange", 8, 250 * 1024, 8);

  check_resume (f, file, 50000, TRUE);
}

static void
test_resume_corrupt_partial (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("badpartial", 9, 200 * 1024, 8);
  g_autofree char *partial = NULL;
  g_autofree char *path = NULL;
  goffset kept;
  int fd;

  kept = interrupt_download (f, file, 70000);

  /* Damage the bytes already on disk: the resumed file cannot match, so
   * the download must start over once. */
  partial = g_strdup_printf ("%s/%s.partial", f->tvw_dir, file->name);
  fd = g_open (partial, O_WRONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "garbage", 7, kept / 2), ==, 7);
  close (fd);

  path = fetch_ok (file->url, NULL, file->bytes);
  assert_no_leftovers (f, file->name);
  assert_last_request (3, NULL);
}

static void
check_cancel (Fixture  *f,
              gboolean  async)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("slow", 10, 256 * 1024, 8);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress;

  server_set_slow (10);
  progress_init (&progress);
  progress.cancel_after = cancellable;
  progress.cancel_at = 16 * 1024;

  if (async)
    path = fetch_async_and_wait (file->url, &progress, cancellable, &error);
  else
    path = tvw_cache_fetch (file->url, progress_cb, &progress, cancellable, &error);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (path);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  assert_cache_clean (f, file->name);
  if (async)
    g_assert_true (progress.notified);
  progress_clear (&progress);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  check_cancel (f, FALSE);
}

static void
test_cancel_async (Fixture       *f,
                   gconstpointer  data)
{
  check_cancel (f, TRUE);
}

typedef struct
{
  const char *url;
  char       *path;
  GError     *error;
} ThreadFetch;

static gpointer
fetch_thread (gpointer data)
{
  ThreadFetch *t = data;

  t->path = tvw_cache_fetch (t->url, NULL, NULL, NULL, &t->error);
  return NULL;
}

/* Closes the server's gate and starts @t in a thread; returns once the
 * server has its request, whose body then waits for the gate. */
static GThread *
start_gated_fetch (const char  *thread_name,
                   ThreadFetch *t)
{
  GThread *thread;

  server_close_gate ();
  thread = g_thread_new (thread_name, fetch_thread, t);
  server_wait_requests (1);
  return thread;
}

static void
join_fetch (GThread     *thread,
            ThreadFetch *t)
{
  g_thread_join (thread);
  g_assert_no_error (t->error);
}

/* @file arrived at @path in one request, with nothing left over. */
static void
assert_fetched_once (Fixture    *f,
                     Checkpoint *file,
                     const char *path)
{
  assert_file_equals (path, file->bytes);
  g_assert_cmpuint (server_n_requests (), ==, 1);
  assert_no_leftovers (f, file->name);
}

static void
test_concurrent_threads (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("twice", 11, 400 * 1024, 8);
  ThreadFetch a = { file->url, NULL, NULL }, b = { file->url, NULL, NULL };
  GThread *ta, *tb;

  /* A gets the headers and then waits for the body; B starts meanwhile and
   * must wait for A instead of sending its own request. */
  ta = start_gated_fetch ("fetch-a", &a);
  tb = g_thread_new ("fetch-b", fetch_thread, &b);
  g_usleep (300 * 1000);
  g_assert_cmpuint (server_n_requests (), ==, 1);
  server_open_gate ();

  join_fetch (ta, &a);
  join_fetch (tb, &b);
  g_assert_cmpstr (a.path, ==, b.path);
  assert_fetched_once (f, file, a.path);
  g_free (a.path);
  g_free (b.path);
}

static gpointer
open_gate_later (gpointer data)
{
  g_usleep (GPOINTER_TO_UINT (data) * 1000);
  server_open_gate ();
  return NULL;
}

static void
test_concurrent_processes (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("twoproc", 12, 400 * 1024, 8);
  ThreadFetch a = { file->url, NULL, NULL };
  GThread *ta, *opener;

  /* The environment only changes while no download runs. */
  g_setenv ("TVW_TEST_URL", file->url, TRUE);
  ta = start_gated_fetch ("fetch-a", &a);

  /* The child blocks on the lock until this process is done. */
  opener = g_thread_new ("open-gate", open_gate_later, GUINT_TO_POINTER (500));
  g_test_trap_subprocess ("/tvw/download/concurrent-processes/subprocess", 30 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  g_thread_join (opener);
  join_fetch (ta, &a);
  g_unsetenv ("TVW_TEST_URL");
  assert_fetched_once (f, file, a.path);
  g_free (a.path);
}

static void
test_concurrent_processes_child (void)
{
  const char *url = g_getenv ("TVW_TEST_URL");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *sha = NULL;
  gsize len;

  g_assert_nonnull (url);
  path = tvw_cache_fetch (url, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  name = g_path_get_basename (path);
  prefix = tvw_cache_get_hash_prefix (name);
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  g_assert_true (g_str_has_prefix (sha, prefix));
}

static void
test_offline (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("off", 13, 4000, 8);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  /* The environment variable. */
  g_setenv ("TVW_OFFLINE", "1", TRUE);
  g_assert_true (tvw_get_offline ());
  error = fetch_fails (file->url, TVW_ERROR, TVW_ERROR_OFFLINE);
  g_assert_nonnull (strstr (error->message, file->name));
  g_assert_nonnull (strstr (error->message, f->tvw_dir));
  g_assert_nonnull (strstr (error->message, f->torch_dir));
  g_clear_error (&error);
  g_unsetenv ("TVW_OFFLINE");

  /* The API switch. */
  g_assert_false (tvw_get_offline ());
  tvw_set_offline (TRUE);
  g_assert_true (tvw_get_offline ());
  path = fetch_async_and_wait (file->url, NULL, NULL, &error);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_OFFLINE);
  g_clear_error (&error);
  tvw_set_offline (FALSE);

  g_assert_cmpuint (server_n_requests (), ==, 0);
  assert_cache_clean (f, file->name);
}

static void
test_offline_cached (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("offc", 14, 4000, 8);
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;

  path = fetch_ok (file->url, NULL, NULL);
  g_assert_cmpuint (server_n_requests (), ==, 1);

  g_setenv ("TVW_OFFLINE", "1", TRUE);
  again = fetch_ok (file->url, NULL, NULL);
  g_unsetenv ("TVW_OFFLINE");
  g_assert_cmpstr (again, ==, path);
  g_assert_cmpuint (server_n_requests (), ==, 1);
}

static void
test_torch_cache (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Checkpoint) file = checkpoint_new ("torchfile", 15, 9000, 8);
  g_autofree char *torch_path = g_build_filename (f->torch_dir, file->name, NULL);
  g_autofree char *xdg_torch = NULL;

  assert_fetch_uses_copy (file, torch_path);

  /* Without TORCH_HOME, PyTorch's default under XDG_CACHE_HOME. */
  g_unsetenv ("TORCH_HOME");
  xdg_torch = g_build_filename (g_getenv ("XDG_CACHE_HOME"), "torch", "hub", "checkpoints", file->name, NULL);
  assert_fetch_uses_copy (file, xdg_torch);

  g_assert_cmpuint (server_n_requests (), ==, 0);
  assert_cache_clean (f, file->name);
}

static void
test_torch_cache_corrupt (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("tc", 16, 9000, 8);
  g_autofree char *torch_path = g_build_filename (f->torch_dir, file->name, NULL);
  g_autoptr(GBytes) junk = make_bytes (99, 9000);
  g_autofree char *junk_sha = sha256_hex (junk);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  write_file (torch_path, junk);

  /* Not used, and the error tells why. */
  path = tvw_cache_lookup (file->url, NULL, &error);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH);
  g_assert_nonnull (strstr (error->message, torch_path));
  g_assert_nonnull (strstr (error->message, junk_sha));
  g_clear_error (&error);

  /* Fetching downloads a good copy into our cache; PyTorch's is left alone. */
  path = fetch_ok (file->url, NULL, file->bytes);
  g_assert_true (g_str_has_prefix (path, f->tvw_dir));
  assert_file_equals (torch_path, junk);
  g_assert_cmpuint (server_n_requests (), ==, 1);
}

static void
set_mtime (const char            *path,
           const struct timespec *mtime)
{
  struct timespec times[2] = { *mtime, *mtime };

  g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
}

static void
test_verified_once (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("once", 17, 8000, 8);
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;
  int fd;

  path = fetch_ok (file->url, NULL, NULL);
  g_assert_cmpint (stat (path, &st), ==, 0);

  /* Change the bytes behind the cache's back, keeping size and mtime: the
   * remembered verification is used, so the file is not hashed again ... */
  fd = g_open (path, O_WRONLY, 0);
  g_assert_cmpint (pwrite (fd, "XXXX", 4, 100), ==, 4);
  close (fd);
  set_mtime (path, &st.st_mtim);

  assert_lookup_finds (file->url, path);

  /* ... also by another process, which reads the record from disk. */
  g_setenv ("TVW_TEST_URL", file->url, TRUE);
  g_test_trap_subprocess ("/tvw/download/verified-once/subprocess", 30 * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("TVW_TEST_URL");
  g_test_trap_assert_passed ();

  /* Once the file visibly changes, it is checked again. */
  st.st_mtim.tv_sec += 10;
  set_mtime (path, &st.st_mtim);
  again = tvw_cache_lookup (file->url, NULL, &error);
  g_assert_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH);
  g_assert_null (again);
  g_clear_error (&error);

  /* And fetching replaces our corrupt copy. */
  again = fetch_ok (file->url, NULL, file->bytes);
  g_assert_cmpuint (server_n_requests (), ==, 2);
}

static void
test_verified_once_child (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tvw_cache_lookup (g_getenv ("TVW_TEST_URL"), NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (path);
}

static void
test_read_only_dir (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("ro", 18, 5000, 8);
  g_autofree char *blocker = g_build_filename (f->tmp, "not-a-dir", NULL);
  g_autofree char *dir = g_build_filename (blocker, "cache", NULL);
  g_autofree char *torch_path = g_build_filename (f->torch_dir, file->name, NULL);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  /* Tests run as root, where permissions do not stop writes: a directory
   * under a regular file cannot be created by anyone. */
  write_file (blocker, file->bytes);
  g_setenv ("TVW_CACHE_DIR", dir, TRUE);

  error = fetch_fails (file->url, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, dir));
  g_clear_error (&error);
  g_assert_cmpuint (server_n_requests (), ==, 0);

  /* A file in PyTorch's cache is still usable. */
  assert_fetch_uses_copy (file, torch_path);

  /* Without root, a plain read-only directory too. */
  g_unlink (torch_path);
  if (geteuid () != 0)
    {
      g_autofree char *ro = g_build_filename (f->tmp, "read-only", NULL);

      g_assert_cmpint (g_mkdir (ro, 0555), ==, 0);
      g_setenv ("TVW_CACHE_DIR", ro, TRUE);
      path = tvw_cache_fetch (file->url, NULL, NULL, NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, ro));
      g_clear_error (&error);
      g_chmod (ro, 0755);
    }

  g_setenv ("TVW_CACHE_DIR", f->tvw_dir, TRUE);
  assert_cache_clean (f, file->name);
}

static void
test_disk_full (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("full", 19, 512 * 1024, 8);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  struct rlimit old_limit, limit;
  void (*old_handler) (int);

  /* A file size limit makes writes past 128 KiB fail (EFBIG) as a full disk
   * would (ENOSPC): same code path, no special file system needed. */
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  limit = old_limit;
  limit.rlim_cur = 128 * 1024;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  path = tvw_cache_fetch (file->url, NULL, NULL, NULL, &error);

  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  signal (SIGXFSZ, old_handler);

  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_nonnull (strstr (error->message, file->name));
  g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
  g_assert_null (path);
  assert_cache_clean (f, file->name);
  assert_no_leftovers (f, file->name);
}

static void
test_mirror (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(Checkpoint) mirrored = checkpoint_new ("mirrored", 20, 6000, 8);
  g_autoptr(Checkpoint) local = checkpoint_new ("local", 21, 7000, 8);
  g_autofree char *mirror_dir = g_build_filename (f->tmp, "mirror", NULL);
  g_autofree char *local_copy = g_build_filename (mirror_dir, "models", local->name, NULL);
  g_autofree char *mirror_uri = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  /* The catalog host is replaced by the mirror's scheme, host and port. */
  server_add_file (mirrored->name, mirrored->bytes);
  g_setenv ("TVW_MIRROR", srv.base, TRUE);
  path = fetch_ok (mirrored->url, NULL, mirrored->bytes);
  g_assert_cmpuint (server_n_requests (), ==, 1);

  /* An air-gapped mirror on the file system. */
  write_file (local_copy, local->bytes);
  mirror_uri = g_filename_to_uri (mirror_dir, NULL, &error);
  g_assert_no_error (error);
  g_setenv ("TVW_MIRROR", mirror_uri, TRUE);
  g_clear_pointer (&path, g_free);
  path = fetch_ok (local->url, NULL, local->bytes);
  g_assert_true (g_str_has_prefix (path, f->tvw_dir));

  g_unsetenv ("TVW_MIRROR");
  g_assert_cmpuint (server_n_requests (), ==, 1);
}

static void
test_list_remove (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Checkpoint) listed = serve_new_checkpoint ("listed", 22, 3000, 8);
  g_autoptr(Checkpoint) cut = serve_new_checkpoint ("half", 23, 200000, 8);
  g_autoptr(GBytes) torch_bytes = make_bytes (24, 100);
  g_autofree char *torch_name = g_strdup ("nohash.pth");
  g_autofree char *torch_path = g_build_filename (f->torch_dir, torch_name, NULL);
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  guint seen = 0;

  path = fetch_ok (listed->url, NULL, NULL);
  interrupt_download (f, cut, 1000);
  write_file (torch_path, torch_bytes);

  entries = tvw_cache_list (FALSE, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      TvwCacheEntry *e = g_ptr_array_index (entries, i);
      const char *name = tvw_cache_entry_get_name (e);

      if (strcmp (name, listed->name) == 0)
        {
          g_assert_cmpstr (tvw_cache_entry_get_path (e), ==, path);
          g_assert_cmpint (tvw_cache_entry_get_location (e), ==, TVW_CACHE_LOCATION_TVW);
          g_assert_cmpint (tvw_cache_entry_get_state (e), ==, TVW_CACHE_STATE_VERIFIED);
          g_assert_cmpint (tvw_cache_entry_get_size (e), ==, 3000);
          seen |= 1;
        }
      else if (strcmp (name, cut->name) == 0)
        {
          g_assert_true (g_str_has_suffix (tvw_cache_entry_get_path (e), ".partial"));
          g_assert_cmpint (tvw_cache_entry_get_location (e), ==, TVW_CACHE_LOCATION_TVW);
          g_assert_cmpint (tvw_cache_entry_get_state (e), ==, TVW_CACHE_STATE_PARTIAL);
          g_assert_cmpint (tvw_cache_entry_get_size (e), ==, 1000);
          seen |= 2;
        }
      else if (strcmp (name, torch_name) == 0)
        {
          g_assert_cmpstr (tvw_cache_entry_get_path (e), ==, torch_path);
          g_assert_cmpint (tvw_cache_entry_get_location (e), ==, TVW_CACHE_LOCATION_TORCH);
          g_assert_cmpint (tvw_cache_entry_get_state (e), ==, TVW_CACHE_STATE_NO_HASH);
          g_assert_cmpint (tvw_cache_entry_get_size (e), ==, 100);
          seen |= 4;
        }
      else
        {
          g_assert_cmpstr (tvw_cache_entry_get_path (e), ==, f->keep_path);
          seen |= 8;
        }
    }
  g_assert_cmpuint (seen, ==, 15);
  g_assert_cmpuint (entries->len, ==, 4);
  /* libtvw's cache first, then PyTorch's. */
  g_assert_cmpint (tvw_cache_entry_get_location (g_ptr_array_index (entries, 3)), ==, TVW_CACHE_LOCATION_TORCH);

  g_assert_true (tvw_cache_remove (listed->name, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (tvw_cache_remove (cut->name, &error));
  g_assert_no_error (error);
  assert_no_leftovers (f, cut->name);

  g_assert_false (tvw_cache_remove (listed->name, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* PyTorch's cache is not ours to change. */
  g_assert_false (tvw_cache_remove (torch_name, &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, f->torch_dir));
  g_clear_error (&error);
  g_assert_true (g_file_test (torch_path, G_FILE_TEST_EXISTS));

  g_assert_false (tvw_cache_remove ("../etc", &error));
  g_assert_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT);
}

/* Finds @name in libtvw's cache in a fresh listing. */
static TvwCacheEntry *
list_find (const char *name,
           gboolean    verify)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;

  entries = tvw_cache_list (verify, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      TvwCacheEntry *e = g_ptr_array_index (entries, i);

      if (strcmp (tvw_cache_entry_get_name (e), name) == 0 &&
          tvw_cache_entry_get_location (e) == TVW_CACHE_LOCATION_TVW)
        return tvw_cache_entry_copy (e);
    }

  return NULL;
}

static TvwCacheState
list_state (const char *name,
            gboolean    verify)
{
  g_autoptr(TvwCacheEntry) e = list_find (name, verify);

  g_assert_nonnull (e);
  return tvw_cache_entry_get_state (e);
}

static void
test_list_verify (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("verify", 26, 5000, 8);
  g_autoptr(Checkpoint) bad = checkpoint_new ("bad", 27, 2000, 8);
  g_autoptr(GBytes) junk = make_bytes (28, 2000);
  g_autofree char *bad_path = g_build_filename (f->tvw_dir, bad->name, NULL);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  path = fetch_ok (file->url, NULL, file->bytes);
  g_assert_cmpint (list_state (file->name, FALSE), ==, TVW_CACHE_STATE_VERIFIED);

  /* Touched: not trusted until hashed again, which only @verify does. */
  g_assert_cmpint (stat (path, &st), ==, 0);
  st.st_mtim.tv_sec -= 100;
  set_mtime (path, &st.st_mtim);
  g_assert_cmpint (list_state (file->name, FALSE), ==, TVW_CACHE_STATE_UNCHECKED);
  g_assert_cmpint (list_state (file->name, TRUE), ==, TVW_CACHE_STATE_VERIFIED);
  /* ... and what it found is remembered. */
  g_assert_cmpint (list_state (file->name, FALSE), ==, TVW_CACHE_STATE_VERIFIED);

  /* A file whose bytes do not match its name. */
  write_file (bad_path, junk);
  g_assert_cmpint (list_state (bad->name, FALSE), ==, TVW_CACHE_STATE_UNCHECKED);
  g_assert_cmpint (list_state (bad->name, TRUE), ==, TVW_CACHE_STATE_CORRUPT);
  g_assert_true (g_file_test (bad_path, G_FILE_TEST_EXISTS));

  /* Removing it is how the user gets rid of it. */
  g_assert_true (tvw_cache_remove (bad->name, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (bad_path, G_FILE_TEST_EXISTS));
  g_assert_null (list_find (bad->name, FALSE));
  g_assert_cmpuint (server_n_requests (), ==, 1);
}

static void
test_entry_boxed (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("boxed", 29, 4000, 8);
  g_autoptr(TvwCacheEntry) listed = NULL;
  g_autoptr(TvwCacheEntry) copy = NULL;
  g_autoptr(GEnumClass) states = NULL;
  g_autoptr(GEnumClass) locations = NULL;
  g_autofree char *path = NULL;

  g_assert_true (G_TYPE_IS_BOXED (TVW_TYPE_CACHE_ENTRY));
  g_assert_true (G_TYPE_IS_ENUM (TVW_TYPE_CACHE_STATE));
  g_assert_true (G_TYPE_IS_ENUM (TVW_TYPE_CACHE_LOCATION));

  /* The nicks are what bindings and `tvw cache --json` show. */
  states = g_type_class_ref (TVW_TYPE_CACHE_STATE);
  locations = g_type_class_ref (TVW_TYPE_CACHE_LOCATION);
  g_assert_cmpstr (g_enum_get_value (states, TVW_CACHE_STATE_NO_HASH)->value_nick, ==, "no-hash");
  g_assert_cmpstr (g_enum_get_value (locations, TVW_CACHE_LOCATION_TORCH)->value_nick, ==, "torch");

  /* list_find() copies the entry out of a listing it has freed since. */
  path = fetch_ok (file->url, NULL, file->bytes);
  listed = list_find (file->name, FALSE);
  g_assert_nonnull (listed);

  /* The boxed copy owns its strings: it outlives the original. */
  copy = g_boxed_copy (TVW_TYPE_CACHE_ENTRY, listed);
  g_assert_true (tvw_cache_entry_get_path (copy) != tvw_cache_entry_get_path (listed));
  g_boxed_free (TVW_TYPE_CACHE_ENTRY, g_steal_pointer (&listed));

  g_assert_cmpstr (tvw_cache_entry_get_name (copy), ==, file->name);
  g_assert_cmpstr (tvw_cache_entry_get_path (copy), ==, path);
  g_assert_cmpint (tvw_cache_entry_get_size (copy), ==, 4000);
  g_assert_cmpint (tvw_cache_entry_get_location (copy), ==, TVW_CACHE_LOCATION_TVW);
  g_assert_cmpint (tvw_cache_entry_get_state (copy), ==, TVW_CACHE_STATE_VERIFIED);

  tvw_cache_entry_free (NULL);
}

static void
ignore_log_cb (const char     *domain,
               GLogLevelFlags  level,
               const char     *message,
               gpointer        data)
{
}

static void
test_query (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(Checkpoint) file = serve_new_checkpoint ("query", 25, 100000, 8);
  g_autofree char *final = g_build_filename (f->tvw_dir, file->name, NULL);
  g_autofree char *partial = g_strconcat (final, ".partial", NULL);
  g_autofree char *torch_path = g_build_filename (f->torch_dir, "plain.pth", NULL);
  g_autofree char *path = NULL;
  struct stat st;

  g_assert_cmpint (tvw_cache_query (file->url, &path), ==, TVW_CACHE_STATE_MISSING);
  g_assert_null (path);

  interrupt_download (f, file, 40000);
  g_assert_cmpint (tvw_cache_query (file->url, &path), ==, TVW_CACHE_STATE_PARTIAL);
  g_assert_cmpstr (path, ==, partial);
  g_clear_pointer (&path, g_free);

  path = fetch_ok (file->url, NULL, NULL);
  g_clear_pointer (&path, g_free);
  g_assert_cmpint (tvw_cache_query (file->url, &path), ==, TVW_CACHE_STATE_VERIFIED);
  g_assert_cmpstr (path, ==, final);
  g_clear_pointer (&path, g_free);

  /* A touched file must be checked again before it is trusted. */
  g_assert_cmpint (stat (final, &st), ==, 0);
  st.st_mtim.tv_sec -= 100;
  set_mtime (final, &st.st_mtim);
  g_assert_cmpint (tvw_cache_query (file->url, NULL), ==, TVW_CACHE_STATE_UNCHECKED);

  write_file (torch_path, file->bytes);
  g_assert_cmpint (tvw_cache_query ("http://127.0.0.2:1/models/plain.pth", &path), ==, TVW_CACHE_STATE_NO_HASH);
  g_assert_cmpstr (path, ==, torch_path);

  /* The interrupted request and the resumed one; querying sent none. */
  g_assert_cmpuint (server_n_requests (), ==, 2);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  int ret;

  /* meson sets TVW_OFFLINE=1 for every test; this one brings its own
   * server.  Proxies must not see loopback requests. */
  g_unsetenv ("TVW_OFFLINE");
  g_unsetenv ("TVW_MIRROR");
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_unsetenv ("http_proxy");
  g_unsetenv ("https_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("HTTPS_PROXY");
  g_unsetenv ("all_proxy");
  g_unsetenv ("ALL_PROXY");

  g_test_init (&argc, &argv, NULL);

  /* The tests change the environment between downloads, never during one;
   * GLib's debug notes about setenv() with threads around are noise here. */
  g_log_set_handler ("GLib", G_LOG_LEVEL_DEBUG, ignore_log_cb, NULL);

  server_start ();

  g_test_add_func ("/tvw/download/names", test_names);
  g_test_add_func ("/tvw/download/dirs", test_dirs);
  ADD ("/tvw/download/success", test_success);
  ADD ("/tvw/download/success-async", test_success_async);
  ADD ("/tvw/download/http-404", test_http_404);
  ADD ("/tvw/download/http-500", test_http_500);
  ADD ("/tvw/download/redirect", test_redirect);
  ADD ("/tvw/download/wrong-hash", test_wrong_hash);
  ADD ("/tvw/download/truncated-body", test_truncated_body);
  ADD ("/tvw/download/resume", test_resume);
  ADD ("/tvw/download/resume-range-ignored", test_resume_ignored);
  ADD ("/tvw/download/resume-corrupt-partial", test_resume_corrupt_partial);
  ADD ("/tvw/download/cancel", test_cancel);
  ADD ("/tvw/download/cancel-async", test_cancel_async);
  ADD ("/tvw/download/concurrent-threads", test_concurrent_threads);
  ADD ("/tvw/download/concurrent-processes", test_concurrent_processes);
  g_test_add_func ("/tvw/download/concurrent-processes/subprocess", test_concurrent_processes_child);
  ADD ("/tvw/download/offline", test_offline);
  ADD ("/tvw/download/offline-cached", test_offline_cached);
  ADD ("/tvw/download/torch-cache", test_torch_cache);
  ADD ("/tvw/download/torch-cache-corrupt", test_torch_cache_corrupt);
  ADD ("/tvw/download/verified-once", test_verified_once);
  g_test_add_func ("/tvw/download/verified-once/subprocess", test_verified_once_child);
  ADD ("/tvw/download/read-only-dir", test_read_only_dir);
  ADD ("/tvw/download/disk-full", test_disk_full);
  ADD ("/tvw/download/mirror", test_mirror);
  ADD ("/tvw/download/list-remove", test_list_remove);
  ADD ("/tvw/download/list-verify", test_list_verify);
  ADD ("/tvw/download/entry-boxed", test_entry_boxed);
  ADD ("/tvw/download/query", test_query);
  ADD ("/tvw/download/card-sha256-before-rename", test_card_sha256);
  ADD ("/tvw/download/size-bound-announced", test_size_bound_announced);
  ADD ("/tvw/download/size-bound-endless-body", test_size_bound_endless);
  ADD ("/tvw/download/size-bound-file-size", test_size_bound_file_size);
  ADD ("/tvw/download/stall-timeout", test_stall);
  ADD ("/tvw/download/reservation-released", test_reservation_released);
  ADD ("/tvw/download/only-regular-files-and-http", test_scheme_refused);

  ret = g_test_run ();

  server_reset ();
  server_stop ();
  return ret;
}
