/* tvw-cache-fetch.c — downloading into the cache: one writer per file, progress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tvw-cache-private.h"
#include "tvw-download-private.h"
#include "tvw-error.h"
#include "tvw-registry-private.h"

#define LOCK_POLL_USEC  (50 * 1000)

/* One downloader per file, across threads and processes: an flock() on
 * @name.lock, which the holder removes before releasing it.  A waiter that
 * wakes up holding a lock on a removed file tries again. */
static int
lock_acquire (const char    *lock_path,
              GCancellable  *cancellable,
              GError       **error)
{
  for (;;)
    {
      struct stat fd_st, path_st;
      int fd;

      fd = g_open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          int saved_errno = errno;
          g_autofree char *dir = g_path_get_dirname (lock_path);

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot write to the cache directory “%s”: %s"),
                       dir, g_strerror (saved_errno));
          return -1;
        }

      while (flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          if (errno == EINTR)
            continue;

          if (errno != EWOULDBLOCK)
            {
              /* No locking on this file system: go on unprotected. */
              g_debug ("Cannot lock %s: %s", lock_path, g_strerror (errno));
              return fd;
            }

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              close (fd);
              return -1;
            }

          g_usleep (LOCK_POLL_USEC);
        }

      if (fstat (fd, &fd_st) == 0 && stat (lock_path, &path_st) == 0 &&
          fd_st.st_dev == path_st.st_dev && fd_st.st_ino == path_st.st_ino)
        return fd;

      close (fd);
    }
}

void
tvw_cache_lock_release (const char *lock_path,
                        int         fd)
{
  g_unlink (lock_path);
  close (fd);
}

static char *
fetch_name (const char       *url,
            const char       *name,
            TvwProgressFunc   progress,
            gpointer          progress_data,
            GCancellable     *cancellable,
            GError          **error)
{
  g_autofree char *hash_prefix = tvw_cache_get_hash_prefix (name);
  g_autofree char *dir = NULL;
  g_autofree char *torch_dir = NULL;
  g_autofree char *lock_path = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_autoptr(GError) check_error = NULL;
  g_autofree char *sha256 = NULL;
  goffset max_size = TVW_DOWNLOAD_MAX_SIZE;
  int lock_fd;

  path = tvw_cache_lookup_name (url, name, hash_prefix, cancellable, &lookup_error);
  if (path != NULL)
    return g_steal_pointer (&path);

  if (!g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_NOT_FOUND) &&
      !g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
    {
      g_propagate_error (error, g_steal_pointer (&lookup_error));
      return NULL;
    }

  tvw_cache_get_search_dirs (&dir, &torch_dir);

  if (tvw_get_offline ())
    {
      if (g_error_matches (lookup_error, TVW_ERROR, TVW_ERROR_CHECKSUM_MISMATCH))
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called), so %s cannot be downloaded again from %s: %s"),
                     name, url, lookup_error->message);
      else if (torch_dir != NULL)
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called): %s is neither in %s nor in PyTorch’s cache %s, and cannot be downloaded from %s"),
                     name, dir, torch_dir, url);
      else
        g_set_error (error, TVW_ERROR, TVW_ERROR_OFFLINE,
                     _("Offline (TVW_OFFLINE is set or tvw_set_offline() was called): %s is not in %s, and cannot be downloaded from %s"),
                     name, dir, url);
      return NULL;
    }

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the cache directory “%s” to download %s: %s"),
                   dir, name, g_strerror (saved_errno));
      return NULL;
    }

  lock_path = g_strconcat (dir, G_DIR_SEPARATOR_S, name, ".lock", NULL);
  lock_fd = lock_acquire (lock_path, cancellable, error);
  if (lock_fd < 0)
    return NULL;

  /* Someone else may have downloaded it while we waited for the lock. */
  switch (tvw_cache_check_file (dir, name, hash_prefix, TRUE, &path, cancellable, &check_error))
    {
    case TVW_CACHE_CHECK_OK:
      tvw_cache_lock_release (lock_path, lock_fd);
      return g_steal_pointer (&path);

    case TVW_CACHE_CHECK_CORRUPT:
      {
        /* Ours and useless: drop it so that a failed download cannot
         * leave it behind under the final name. */
        g_autofree char *corrupt_path = g_build_filename (dir, name, NULL);

        g_debug ("%s", check_error->message);
        g_unlink (corrupt_path);
        tvw_cache_forget_verified (corrupt_path);
      }
      break;

    case TVW_CACHE_CHECK_FAILED:
      tvw_cache_lock_release (lock_path, lock_fd);
      g_propagate_error (error, g_steal_pointer (&check_error));
      return NULL;

    case TVW_CACHE_CHECK_MISSING:
    default:
      break;
    }

  /* Registered weights give the full hash and bound the size. */
  tvw_registry_download_limits (url, &sha256, &max_size);
  if (!_tvw_download_file (url, dir, name, hash_prefix, sha256, max_size,
                           progress, progress_data, cancellable, error))
    {
      tvw_cache_lock_release (lock_path, lock_fd);
      return NULL;
    }

  tvw_cache_lock_release (lock_path, lock_fd);
  return g_build_filename (dir, name, NULL);
}

/**
 * tvw_cache_fetch:
 * @url: the URL of a file
 * @progress: (scope call) (nullable) (closure progress_data): called from
 *   the calling thread as the download progresses
 * @progress_data: data for @progress
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Gets a valid local copy of the file at @url: from libtvw's cache or
 * PyTorch's if one is there, else by downloading it into libtvw's cache.
 *
 * A file whose name has a hash prefix (torchvision's
 * `name-<sha256 prefix>.pth`) is checked against it, once; a corrupt cached
 * copy is downloaded again.  An interrupted download resumes where it
 * stopped, and only one process downloads a given file at a time.
 * @progress is only called when something is downloaded.
 *
 * Fails with %TVW_ERROR_INVALID_ARGUMENT if @url does not name a file,
 * %TVW_ERROR_OFFLINE if the file would have to be downloaded while offline
 * (see [func@set_offline]), %TVW_ERROR_NETWORK or
 * %TVW_ERROR_CHECKSUM_MISMATCH if the download fails, an error in the
 * %G_IO_ERROR domain if the cache cannot be written, and
 * %G_IO_ERROR_CANCELLED if @cancellable is cancelled.  A failed download never leaves a file under the final name;
 * an interrupted one keeps its partial file for the next call to resume.
 *
 * Returns: (transfer full) (type filename): the local path of the file, or
 *   %NULL on error
 */
char *
tvw_cache_fetch (const char       *url,
                 TvwProgressFunc   progress,
                 gpointer          progress_data,
                 GCancellable     *cancellable,
                 GError          **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  name = tvw_cache_name_from_url (url, error);
  if (name == NULL)
    return NULL;

  return fetch_name (url, name, progress, progress_data, cancellable, error);
}

/* Progress from the worker thread to the caller's main context.  Reports are
 * coalesced: at most one idle is pending, and it delivers the latest values.
 * The relay is flushed (last values delivered, then the destroy notify
 * called) on the caller's context before the operation completes. */
typedef struct
{
  GMutex           mutex;
  GMainContext    *context;
  TvwProgressFunc  func;
  gpointer         data;
  GDestroyNotify   notify;
  goffset          current;
  goffset          total;
  goffset          delivered_current;
  goffset          delivered_total;
  guint            reported : 1;
  guint            delivered : 1;
  guint            pending : 1;
  guint            finished : 1;
} ProgressRelay;

static void
progress_relay_free (ProgressRelay *relay)
{
  g_main_context_unref (relay->context);
  g_mutex_clear (&relay->mutex);
}

static ProgressRelay *
progress_relay_new (TvwProgressFunc func,
                    gpointer        data,
                    GDestroyNotify  notify)
{
  ProgressRelay *relay = g_atomic_rc_box_new0 (ProgressRelay);

  g_mutex_init (&relay->mutex);
  relay->context = g_main_context_ref_thread_default ();
  relay->func = func;
  relay->data = data;
  relay->notify = notify;
  return relay;
}

static void
progress_relay_unref (gpointer relay)
{
  g_atomic_rc_box_release_full (relay, (GDestroyNotify) progress_relay_free);
}

/* On the caller's context: deliver the latest values if they are new. */
static void
progress_relay_deliver (ProgressRelay *relay)
{
  TvwProgressFunc func = NULL;
  goffset current, total;

  g_mutex_lock (&relay->mutex);
  relay->pending = FALSE;
  current = relay->current;
  total = relay->total;
  if (relay->reported && !relay->finished &&
      (!relay->delivered || current != relay->delivered_current || total != relay->delivered_total))
    {
      relay->delivered = TRUE;
      relay->delivered_current = current;
      relay->delivered_total = total;
      func = relay->func;
    }
  g_mutex_unlock (&relay->mutex);

  if (func != NULL)
    func (current, total, relay->data);
}

static gboolean
progress_relay_idle_cb (gpointer user_data)
{
  progress_relay_deliver (user_data);
  return G_SOURCE_REMOVE;
}

/* In the worker thread. */
static void
progress_relay_report (goffset  current,
                       goffset  total,
                       gpointer user_data)
{
  ProgressRelay *relay = user_data;

  g_mutex_lock (&relay->mutex);
  relay->current = current;
  relay->total = total;
  relay->reported = TRUE;
  if (!relay->pending && !relay->finished)
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      relay->pending = TRUE;
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[tvw] download progress");
      g_source_set_callback (source, progress_relay_idle_cb,
                             g_atomic_rc_box_acquire (relay), progress_relay_unref);
      g_source_attach (source, relay->context);
    }
  g_mutex_unlock (&relay->mutex);
}

static void
progress_relay_finish (ProgressRelay *relay)
{
  GDestroyNotify notify;
  gpointer data;

  progress_relay_deliver (relay);

  g_mutex_lock (&relay->mutex);
  relay->finished = TRUE;
  notify = relay->notify;
  data = relay->data;
  relay->notify = NULL;
  relay->func = NULL;
  g_mutex_unlock (&relay->mutex);

  if (notify != NULL)
    notify (data);
}

typedef struct
{
  char          *url;
  char          *name;
  ProgressRelay *relay;
} FetchData;

static void
fetch_data_free (FetchData *data)
{
  g_free (data->url);
  g_free (data->name);
  g_clear_pointer (&data->relay, progress_relay_unref);
  g_free (data);
}

static void
fetch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  FetchData *data = task_data;
  GError *error = NULL;
  char *path;

  path = fetch_name (data->url, data->name,
                     data->relay->func != NULL ? progress_relay_report : NULL,
                     data->relay, cancellable, &error);
  if (path != NULL)
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, error);
}

/* On the caller's context, once the worker is done: flush the progress, then
 * complete the task the caller sees. */
static void
fetch_thread_done_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FetchData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *path;

  progress_relay_finish (data->relay);

  path = g_task_propagate_pointer (G_TASK (result), &error);
  if (path != NULL)
    g_task_return_pointer (task, path, g_free);
  else
    g_task_return_error (task, error);
}

/**
 * tvw_cache_fetch_async:
 * @url: the URL of a file
 * @progress: (scope notified) (nullable) (closure progress_data) (destroy progress_notify): called
 *   on the thread-default main context of the caller as the download
 *   progresses
 * @progress_data: data for @progress
 * @progress_notify: (nullable): frees @progress_data, on the same main
 *   context, once @progress will not be called again (before @callback)
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async) (closure user_data): called when the file is
 *   ready
 * @user_data: data for @callback
 *
 * Asynchronous version of [func@cache_fetch]: the work is done in a worker
 * thread, @progress and @callback run on the thread-default main context
 * of the thread that calls this function.
 */
void
tvw_cache_fetch_async (const char          *url,
                       TvwProgressFunc      progress,
                       gpointer             progress_data,
                       GDestroyNotify       progress_notify,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  g_autoptr(GError) error = NULL;
  FetchData *data;

  g_return_if_fail (url != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tvw_cache_fetch_async);
  g_task_set_name (task, "[tvw] fetch weights");

  data = g_new0 (FetchData, 1);
  data->url = g_strdup (url);
  data->relay = progress_relay_new (progress, progress_data, progress_notify);
  g_task_set_task_data (task, data, (GDestroyNotify) fetch_data_free);

  data->name = tvw_cache_name_from_url (url, &error);
  if (data->name == NULL)
    {
      progress_relay_finish (data->relay);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  worker = g_task_new (NULL, cancellable, fetch_thread_done_cb, g_object_ref (task));
  g_task_set_source_tag (worker, fetch_thread);
  g_task_set_name (worker, "[tvw] fetch weights (worker)");
  g_task_set_task_data (worker, data, NULL);
  g_task_run_in_thread (worker, fetch_thread);
}

/**
 * tvw_cache_fetch_finish:
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Finishes [func@cache_fetch_async].
 *
 * Returns: (transfer full) (type filename): the local path of the file, or
 *   %NULL on error
 */
char *
tvw_cache_fetch_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tvw_cache_fetch_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
