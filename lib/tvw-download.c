/* tvw-download.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE  /* fallocate() */
#endif

#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "tvw-cache-private.h"
#include "tvw-download-private.h"
#include "tvw-error.h"

/* A download writes @name.partial while it streams, with what is needed to
 * resume it in @name.partial.state (the URL it came from, the validators
 * the server gave, the full size).  A resumed request carries "Range" and
 * "If-Range", so a server whose file changed sends the whole new file (200)
 * and the partial is dropped.  The hash of the bytes already on disk is
 * recomputed from the partial file; if the finished file does not match,
 * a resumed download is restarted once from zero before giving up. */

#define CHUNK_SIZE   (64 * 1024)
#define STATE_GROUP  "download"

static guint stall_seconds = TVW_DOWNLOAD_STALL_SECONDS;

void
_tvw_download_set_stall_seconds (guint seconds)
{
  g_atomic_int_set (&stall_seconds, seconds > 0 ? seconds : TVW_DOWNLOAD_STALL_SECONDS);
}

typedef struct
{
  const char      *url;          /* as in the catalog: names the file */
  char            *remote_url;   /* after TVW_MIRROR */
  const char      *dir;
  const char      *name;
  const char      *hash_prefix;
  const char      *sha256;       /* the card's, or NULL */
  goffset          max_size;
  char            *final_path;
  char            *partial_path;
  char            *state_path;
  TvwProgressFunc  progress;
  gpointer         progress_data;
} Download;

static void
download_clear (Download *dl)
{
  g_free (dl->remote_url);
  g_free (dl->final_path);
  g_free (dl->partial_path);
  g_free (dl->state_path);
}

static void
discard_partial (Download *dl)
{
  g_unlink (dl->partial_path);
  g_unlink (dl->state_path);
}

static void
set_disk_error (GError     **error,
                int          saved_errno,
                const char  *path,
                Download    *dl)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               _("Cannot write “%s” while downloading %s: %s"),
               path, dl->remote_url, g_strerror (saved_errno));
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         len,
           int          *out_errno)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;

      if (n < 0)
        {
          *out_errno = errno;
          return FALSE;
        }

      data += n;
      len -= n;
    }

  return TRUE;
}

/* The size of a partial file that can be resumed, with its state; 0 when
 * there is nothing usable. */
static goffset
load_resume_state (Download  *dl,
                   char     **etag,
                   char     **last_modified,
                   goffset   *total)
{
  g_autoptr(GKeyFile) state = g_key_file_new ();
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  *total = -1;

  if (stat (dl->partial_path, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size <= 0)
    return 0;

  if (!g_key_file_load_from_file (state, dl->state_path, G_KEY_FILE_NONE, NULL))
    return 0;

  url = g_key_file_get_string (state, STATE_GROUP, "url", NULL);
  if (g_strcmp0 (url, dl->url) != 0)
    return 0;

  *total = g_key_file_get_int64 (state, STATE_GROUP, "total", &error);
  if (error != NULL || *total < -1 || (*total >= 0 && st.st_size > *total) ||
      *total > dl->max_size || st.st_size > dl->max_size)
    return 0;

  *etag = g_key_file_get_string (state, STATE_GROUP, "etag", NULL);
  *last_modified = g_key_file_get_string (state, STATE_GROUP, "last-modified", NULL);

  return st.st_size;
}

static gboolean
save_resume_state (Download    *dl,
                   const char  *etag,
                   const char  *last_modified,
                   goffset      total,
                   GError     **error)
{
  g_autoptr(GKeyFile) state = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;

  g_key_file_set_string (state, STATE_GROUP, "url", dl->url);
  g_key_file_set_int64 (state, STATE_GROUP, "total", total);
  if (etag != NULL)
    g_key_file_set_string (state, STATE_GROUP, "etag", etag);
  if (last_modified != NULL)
    g_key_file_set_string (state, STATE_GROUP, "last-modified", last_modified);

  if (!g_key_file_save_to_file (state, dl->state_path, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Cannot write “%s” while downloading %s: %s"),
                   dl->state_path, dl->remote_url, local_error->message);
      return FALSE;
    }

  return TRUE;
}

/* Feeds the first @length bytes of the partial file to @checksum. */
static gboolean
hash_partial (int            fd,
              goffset        length,
              GChecksum     *checksum,
              Download      *dl,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autofree guint8 *buffer = g_malloc (CHUNK_SIZE);
  goffset done = 0;

  while (done < length)
    {
      gssize n = pread (fd, buffer, MIN (CHUNK_SIZE, length - done), done);

      if (n < 0 && errno == EINTR)
        continue;

      if (n <= 0)
        {
          int saved_errno = n < 0 ? errno : EIO;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot read “%s”: %s"), dl->partial_path, g_strerror (saved_errno));
          return FALSE;
        }

      g_checksum_update (checksum, buffer, n);
      done += n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
    }

  return TRUE;
}

static void
report_progress (Download *dl,
                 goffset   current,
                 goffset   total)
{
  if (dl->progress != NULL)
    dl->progress (current, total, dl->progress_data);
}

static void
sync_directory (const char *dir)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd < 0)
    return;

  if (fsync (fd) != 0)
    g_debug ("Cannot sync the directory %s: %s", dir, g_strerror (errno));
  close (fd);
}

static SoupSession *
create_session (void)
{
  SoupSession *session;

  /* The default proxy resolver and TLS database are the system's.  A
   * server silent for the stall time fails the read. */
  session = soup_session_new_with_options ("user-agent", "libtvw/" PACKAGE_VERSION,
                                           "timeout", g_atomic_int_get (&stall_seconds),
                                           NULL);

  /* Checkpoints are not compressed, and byte ranges must refer to the file
   * itself, not to an encoded form of it. */
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);

  return session;
}

static void
set_too_large_error (GError  **error,
                     Download *dl,
                     goffset   size)
{
  g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_DATA,
               _("Download of %s refused: %" PRId64 " bytes, more than the %" PRId64
                 " bytes expected for %s"),
               dl->remote_url, (gint64) size, (gint64) dl->max_size, dl->name);
}

/* Opens the body of the download, a local file for a file:// mirror.
 * Returns the stream and sets *offset (the bytes of the partial file to keep)
 * and *total; on a resumable failure keeps the partial file. */
static GInputStream *
open_body (Download      *dl,
           SoupSession   *session,
           gboolean       allow_resume,
           goffset       *offset,
           goffset       *total,
           gboolean      *restart,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *etag = NULL;
  g_autofree char *last_modified = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  SoupMessageHeaders *request_headers;
  SoupMessageHeaders *response_headers;
  goffset state_total = -1;
  guint status;

  *restart = FALSE;
  *total = -1;
  *offset = allow_resume ? load_resume_state (dl, &etag, &last_modified, &state_total) : 0;
  if (*offset == 0)
    discard_partial (dl);

  if (g_strcmp0 (g_uri_peek_scheme (dl->remote_url), "file") == 0)
    {
      g_autoptr(GFile) file = g_file_new_for_uri (dl->remote_url);
      g_autoptr(GFileInfo) info = NULL;

      /* A local mirror is cheap to copy again: never resume from it. */
      discard_partial (dl);
      *offset = 0;

      /* Not a FIFO or a device that never ends. */
      info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
      if (info != NULL && g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
        {
          g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                       _("Cannot copy %s from the mirror: not a regular file"), dl->remote_url);
          return NULL;
        }
      if (info != NULL && g_file_info_get_size (info) > dl->max_size)
        {
          set_too_large_error (error, dl, g_file_info_get_size (info));
          return NULL;
        }
      if (info != NULL)
        stream = G_INPUT_STREAM (g_file_read (file, cancellable, &local_error));
      if (stream == NULL)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                         _("Cannot copy %s from the mirror: %s"),
                         dl->remote_url, local_error->message);
          return NULL;
        }

      *total = g_file_info_get_size (info);
      return g_steal_pointer (&stream);
    }

  /* A partial file that is already complete needs no request. */
  if (*offset > 0 && *offset == state_total)
    {
      *total = state_total;
      return NULL;
    }

  msg = soup_message_new (SOUP_METHOD_GET, dl->remote_url);
  if (msg == NULL)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("Cannot download %s: not an http or https URL"), dl->remote_url);
      return NULL;
    }

  request_headers = soup_message_get_request_headers (msg);
  if (*offset > 0)
    {
      soup_message_headers_set_range (request_headers, *offset, -1);

      /* A weak ETag cannot validate a range. */
      if (etag != NULL && !g_str_has_prefix (etag, "W/"))
        soup_message_headers_replace (request_headers, "If-Range", etag);
      else if (last_modified != NULL)
        soup_message_headers_replace (request_headers, "If-Range", last_modified);
    }

  stream = soup_session_send (session, msg, cancellable, &local_error);
  if (stream == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                     _("Cannot download %s: %s"), dl->remote_url, local_error->message);
      return NULL;
    }

  status = soup_message_get_status (msg);
  response_headers = soup_message_get_response_headers (msg);

  if (*offset > 0 && status == SOUP_STATUS_PARTIAL_CONTENT)
    {
      goffset start, end, length;

      if (!soup_message_headers_get_content_range (response_headers, &start, &end, &length) ||
          start != *offset ||
          (length >= 0 && state_total >= 0 && length != state_total))
        {
          g_debug ("%s: unexpected Content-Range for bytes=%" G_GOFFSET_FORMAT "-, restarting",
                   dl->remote_url, *offset);
          *restart = TRUE;
          return NULL;
        }

      *total = length >= 0 ? length : state_total;
      if (*total > dl->max_size)
        {
          set_too_large_error (error, dl, *total);
          return NULL;
        }
      return g_steal_pointer (&stream);
    }

  if (*offset > 0 && status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
    {
      g_debug ("%s: range not satisfiable, restarting", dl->remote_url);
      *restart = TRUE;
      return NULL;
    }

  if (status != SOUP_STATUS_OK)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                   _("Cannot download %s: the server answered %u %s"),
                   dl->remote_url, status,
                   soup_message_get_reason_phrase (msg) != NULL ? soup_message_get_reason_phrase (msg) : "");
      return NULL;
    }

  /* 200: the whole file, whether or not a range was asked for. */
  if (*offset > 0)
    g_debug ("%s: the server sent the whole file instead of bytes %" G_GOFFSET_FORMAT "-",
             dl->remote_url, *offset);
  *offset = 0;

  if (soup_message_headers_get_encoding (response_headers) == SOUP_ENCODING_CONTENT_LENGTH)
    *total = soup_message_headers_get_content_length (response_headers);
  else
    *total = -1;
  if (*total > dl->max_size)
    {
      set_too_large_error (error, dl, *total);
      return NULL;
    }

  if (!save_resume_state (dl,
                          soup_message_headers_get_one (response_headers, "ETag"),
                          soup_message_headers_get_one (response_headers, "Last-Modified"),
                          *total, error))
    return NULL;

  return g_steal_pointer (&stream);
}

/* Closes the partial file after a failure that keeps it: space reserved
 * past what was written goes back (ext4 and XFS free blocks allocated past
 * the end when a file is truncated, even to its own size). */
static void
close_kept_partial (int      fd,
                    goffset  written,
                    gboolean reserved)
{
  if (reserved && ftruncate (fd, written) != 0)
    g_debug ("Cannot release the space reserved for a download: %s", g_strerror (errno));
  close (fd);
}

static gboolean
download_once (Download      *dl,
               SoupSession   *session,
               gboolean       allow_resume,
               gboolean      *resumed,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  g_autofree guint8 *buffer = NULL;
  g_autoptr(GError) local_error = NULL;
  goffset offset = 0, total = -1, current, window_bytes = 0;
  gint64 window_start;
  guint stall = g_atomic_int_get (&stall_seconds);
  gboolean restart, reserved = FALSE;
  const char *sha256;
  int saved_errno = 0;
  int fd;

  *resumed = FALSE;

  stream = open_body (dl, session, allow_resume, &offset, &total, &restart, cancellable, &local_error);
  if (restart)
    {
      discard_partial (dl);
      return download_once (dl, session, FALSE, resumed, cancellable, error);
    }

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  *resumed = offset > 0;

  fd = g_open (dl->partial_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      set_disk_error (error, errno, dl->partial_path, dl);
      return FALSE;
    }

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  if (offset > 0 && !hash_partial (fd, offset, checksum, dl, cancellable, error))
    {
      close (fd);
      return FALSE;
    }

  if (ftruncate (fd, offset) != 0 || lseek (fd, offset, SEEK_SET) != offset)
    {
      set_disk_error (error, errno, dl->partial_path, dl);
      close (fd);
      discard_partial (dl);
      return FALSE;
    }

#ifdef FALLOC_FL_KEEP_SIZE
  /* Fail now rather than at 90 % when the disk is too small; the file keeps
   * its size, so an interrupted download still resumes at the right place. */
  if (stream != NULL && total > offset)
    {
      if (fallocate (fd, FALLOC_FL_KEEP_SIZE, offset, total - offset) == 0)
        reserved = TRUE;
      else if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
        {
          set_disk_error (error, errno, dl->partial_path, dl);
          close (fd);
          discard_partial (dl);
          return FALSE;
        }
    }
#endif

  current = offset;
  if (stream != NULL)
    report_progress (dl, current, total);

  buffer = g_malloc (CHUNK_SIZE);
  window_start = g_get_monotonic_time ();
  while (stream != NULL)
    {
      gssize n;
      gint64 now;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          close_kept_partial (fd, current, reserved);
          return FALSE;
        }

      n = g_input_stream_read (stream, buffer, CHUNK_SIZE, cancellable, &local_error);
      if (n < 0)
        {
          close_kept_partial (fd, current, reserved);
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else if (total >= 0)
            g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                         _("Download of %s interrupted after %" PRId64 " of %" PRId64 " bytes: %s"),
                         dl->remote_url, current, total, local_error->message);
          else
            g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                         _("Download of %s interrupted after %" PRId64 " bytes: %s"),
                         dl->remote_url, current, local_error->message);
          return FALSE;
        }

      if (n == 0)
        break;

      if (n > dl->max_size - current)
        {
          close (fd);
          discard_partial (dl);
          set_too_large_error (error, dl, current + n);
          return FALSE;
        }

      if (!write_all (fd, buffer, n, &saved_errno))
        {
          set_disk_error (error, saved_errno, dl->partial_path, dl);
          close (fd);
          discard_partial (dl);
          return FALSE;
        }

      g_checksum_update (checksum, buffer, n);
      current += n;
      report_progress (dl, current, total);

      /* A server that sends a byte now and then never times out a read. */
      window_bytes += n;
      now = g_get_monotonic_time ();
      if (now - window_start >= stall * G_TIME_SPAN_SECOND)
        {
          if (window_bytes < TVW_DOWNLOAD_STALL_BYTES)
            {
              close_kept_partial (fd, current, reserved);
              g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                           _("Download of %s stalled: %" PRId64 " bytes in %u s, after %"
                             PRId64 " bytes"),
                           dl->remote_url, (gint64) window_bytes, stall, (gint64) current);
              return FALSE;
            }
          window_start = now;
          window_bytes = 0;
        }
    }

  if (total >= 0 && current != total)
    {
      close_kept_partial (fd, current, reserved);
      g_set_error (error, TVW_ERROR, TVW_ERROR_NETWORK,
                   _("Download of %s ended early: got %" PRId64 " of %" PRId64 " bytes"),
                   dl->remote_url, current, total);
      return FALSE;
    }

  if (stream != NULL)
    g_input_stream_close (stream, NULL, NULL);

  sha256 = g_checksum_get_string (checksum);
  if (dl->hash_prefix != NULL && !g_str_has_prefix (sha256, dl->hash_prefix))
    {
      close (fd);
      discard_partial (dl);
      g_set_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH,
                   _("Checksum mismatch for %s downloaded from %s: the name expects a SHA-256 starting with %s, the download has %s"),
                   dl->name, dl->remote_url, dl->hash_prefix, sha256);
      return FALSE;
    }
  if (dl->sha256 != NULL && g_ascii_strcasecmp (sha256, dl->sha256) != 0)
    {
      close (fd);
      discard_partial (dl);
      g_set_error (error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH,
                   _("Checksum mismatch for %s downloaded from %s: its weights card expects the SHA-256 %s, the download has %s"),
                   dl->name, dl->remote_url, dl->sha256, sha256);
      return FALSE;
    }

  /* Only a file that is entirely on disk may get the final name. */
  if (fsync (fd) != 0)
    {
      set_disk_error (error, errno, dl->partial_path, dl);
      close (fd);
      discard_partial (dl);
      return FALSE;
    }

  if (close (fd) != 0)
    {
      set_disk_error (error, errno, dl->partial_path, dl);
      discard_partial (dl);
      return FALSE;
    }

  if (g_rename (dl->partial_path, dl->final_path) != 0)
    {
      set_disk_error (error, errno, dl->final_path, dl);
      discard_partial (dl);
      return FALSE;
    }

  sync_directory (dl->dir);
  g_unlink (dl->state_path);
  _tvw_cache_remember_verified (dl->final_path, sha256);

  if (stream == NULL)
    report_progress (dl, current, total);

  return TRUE;
}

gboolean
_tvw_download_file (const char       *url,
                    const char       *dir,
                    const char       *name,
                    const char       *hash_prefix,
                    const char       *sha256,
                    goffset           max_size,
                    TvwProgressFunc   progress,
                    gpointer          progress_data,
                    GCancellable     *cancellable,
                    GError          **error)
{
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GError) local_error = NULL;
  Download dl = { 0, };
  gboolean resumed = FALSE;
  gboolean ok;
  const char *scheme = g_uri_peek_scheme (url);

  /* Cards may only name http(s) URLs; a file:// URL the application
   * passes itself is copied if it is a regular file (not /dev/zero, not a
   * FIFO; see open_body()). */
  if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0 &&
      g_strcmp0 (scheme, "file") != 0)
    {
      g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                   _("Cannot download %s: not an http, https or file URL"), url);
      return FALSE;
    }

  dl.url = url;
  dl.remote_url = tvw_cache_apply_mirror (url);
  dl.dir = dir;
  dl.name = name;
  dl.hash_prefix = hash_prefix;
  dl.sha256 = sha256;
  dl.max_size = max_size;
  dl.final_path = g_build_filename (dir, name, NULL);
  dl.partial_path = g_strconcat (dl.final_path, ".partial", NULL);
  dl.state_path = g_strconcat (dl.final_path, ".partial.state", NULL);
  dl.progress = progress;
  dl.progress_data = progress_data;

  session = create_session ();

  ok = download_once (&dl, session, TRUE, &resumed, cancellable, &local_error);

  /* The bytes kept from an earlier attempt may be what is wrong. */
  if (!ok && resumed && g_error_matches (local_error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
    {
      g_debug ("%s; downloading it again from the start", local_error->message);
      g_clear_error (&local_error);
      ok = download_once (&dl, session, FALSE, &resumed, cancellable, &local_error);
    }

  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local_error));

  download_clear (&dl);
  return ok;
}
