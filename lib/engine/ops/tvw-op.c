/* tvw-op.c — helpers shared by the ops' shape inference
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "tvw-error.h"
#include "tvw-engine-threads-private.h"
#include "tvw-op-private.h"

static void
set_error_va (const TvwOpCall  *call,
              GError          **error,
              int               code,
              const char       *format,
              va_list           args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  g_set_error (error, TVW_ERROR, code, "%s (%s): %s",
               call->name != NULL ? call->name : "(unnamed)", call->cls->name, message);
}

void
tvw_op_set_error (const TvwOpCall  *call,
                  GError          **error,
                  const char       *format,
                  ...)
{
  va_list args;

  va_start (args, format);
  set_error_va (call, error, TVW_ERROR_SHAPE_MISMATCH, format, args);
  va_end (args);
}

void
tvw_op_set_invalid (const TvwOpCall  *call,
                    GError          **error,
                    const char       *format,
                    ...)
{
  va_list args;

  va_start (args, format);
  set_error_va (call, error, TVW_ERROR_INVALID_ARGUMENT, format, args);
  va_end (args);
}

int
tvw_op_resolve_dim (int dim,
                    int rank)
{
  if (dim < -rank || dim >= rank)
    return -1;
  return dim < 0 ? dim + rank : dim;
}

gboolean
tvw_op_check_dim (const TvwOpCall  *call,
                  int               dim,
                  int               rank,
                  int              *resolved,
                  GError          **error)
{
  char shape[TVW_SHAPE_CHARS];

  *resolved = tvw_op_resolve_dim (dim, rank);
  if (*resolved >= 0)
    return TRUE;

  tvw_op_set_invalid (call, error, "dim %d is out of range for input of shape %s", dim,
                      tvw_array_format_shape (&call->in[0], shape));
  return FALSE;
}

gboolean
tvw_op_check_rank (const TvwOpCall  *call,
                   int               input,
                   int               min_rank,
                   int               max_rank,
                   GError          **error)
{
  const TvwArray *a = &call->in[input];

  if (a->rank >= min_rank && a->rank <= max_rank)
    return TRUE;

  {
    g_autofree char *shape = tvw_array_shape_string (a);

    if (min_rank == max_rank)
      tvw_op_set_error (call, error, "input %d has shape %s, expected %d dimensions",
                        input, shape, min_rank);
    else
      tvw_op_set_error (call, error, "input %d has shape %s, expected %d to %d dimensions",
                        input, shape, min_rank, max_rank);
  }
  return FALSE;
}

gboolean
tvw_op_check_elem (const TvwOpCall  *call,
                   int               input,
                   TvwElem           elem,
                   GError          **error)
{
  if (call->in[input].elem == elem)
    return TRUE;

  tvw_op_set_error (call, error, "input %d is %s, expected %s", input,
                    tvw_elem_name (call->in[input].elem), tvw_elem_name (elem));
  return FALSE;
}

/* Whether input 0 is channels-last and not also contiguous (rank 4 or 5,
 * more than one channel and pixel). */
gboolean
tvw_op_input_channels_last (const TvwOpCall *call)
{
  const TvwArray *a = &call->in[0];

  return (a->rank == 4 || a->rank == 5) && tvw_array_is_channels_last (a) &&
         !tvw_array_is_contiguous (a);
}

/* Strides for an output the class does not place itself. */
void
tvw_op_layout_outputs (TvwOpCall *call)
{
  if (call->cls->flags & (TVW_OP_STRIDED | TVW_OP_VIEW))
    return;

  for (int i = 0; i < call->n_out; i++)
    {
      if ((call->cls->flags & (TVW_OP_CHANNELS_LAST | TVW_OP_CHANNELS_LAST_ALL)) ||
          ((call->cls->flags & TVW_OP_CHANNELS_LAST_OK) && i == 0 &&
           tvw_op_input_channels_last (call)))
        tvw_array_set_channels_last (&call->out[i]);
      else
        tvw_array_set_contiguous (&call->out[i]);
    }
}

/* Whether input @i has a layout the class accepts as it is. */
gboolean
tvw_op_input_ok (const TvwOpCall *call,
                 int              i)
{
  const TvwArray *a = &call->in[i];

  if (call->cls->flags & TVW_OP_STRIDED)
    return TRUE;
  if ((call->cls->flags & TVW_OP_PITCHED_INPUT) && i == 0 && tvw_array_channels_last_pitch (a) > 0)
    return TRUE;
  if ((call->cls->flags & TVW_OP_CHANNELS_LAST_OK) && i == 0 && tvw_op_input_channels_last (call))
    return TRUE;
  if (((call->cls->flags & TVW_OP_CHANNELS_LAST) && i == 0) ||
      (call->cls->flags & TVW_OP_CHANNELS_LAST_ALL))
    return tvw_array_is_channels_last (a);
  return tvw_array_is_contiguous (a);
}

/* The layout input @i is staged into when it is not acceptable. */
void
tvw_op_input_layout (const TvwOpCall *call,
                     int              i,
                     TvwArray        *staged)
{
  *staged = call->in[i];
  if (((call->cls->flags & TVW_OP_CHANNELS_LAST) && i == 0) ||
      (call->cls->flags & TVW_OP_CHANNELS_LAST_ALL))
    tvw_array_set_channels_last (staged);
  else
    tvw_array_set_contiguous (staged);
}

gboolean
tvw_op_eager (const TvwOpClass *cls,
              const char       *name,
              gconstpointer     params,
              int               n_in,
              const TvwArray   *in,
              int               n_weights,
              const TvwArray   *weights,
              int               n_out,
              TvwArray         *out,
              int               n_threads,
              GError          **error)
{
  TvwOpCall call = { 0 };
  g_autofree TvwArray *ins = g_new0 (TvwArray, MAX (n_in, 1));
  g_autofree TvwArray *outs = g_new0 (TvwArray, n_out);
  g_autofree TvwArray *ws = g_new0 (TvwArray, MAX (n_weights, 1));
  g_autofree gint64 *view_offset = g_new0 (gint64, n_out);
  g_autoptr(GPtrArray) staged = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint8 *scratch = NULL;
  gboolean ok = FALSE;

  if (n_threads <= 0)
    n_threads = tvw_engine_default_threads ();

  call.cls = cls;
  call.name = name;
  call.params = (gpointer) params;
  call.n_in = n_in;
  call.in = ins;
  call.n_out = n_out;
  call.out = outs;
  call.view_offset = view_offset;
  call.n_weights = n_weights;
  call.weights = ws;
  call.n_threads = n_threads;
  /* memcpy () from NULL is undefined even for 0 bytes. */
  if (n_in > 0)
    memcpy (ins, in, n_in * sizeof (TvwArray));
  if (n_weights > 0)
    memcpy (ws, weights, n_weights * sizeof (TvwArray));

  /* Staging happens after infer in a graph; its shapes are the same. */
  for (int i = 0; i < n_in; i++)
    if (!tvw_op_input_ok (&call, i))
      {
        TvwArray s;

        if (cls->flags & TVW_OP_VIEW)
          {
            g_set_error (error, TVW_ERROR, TVW_ERROR_INVALID_ARGUMENT,
                         "%s: an eager view needs an input it can view", cls->name);
            return FALSE;
          }
        tvw_op_input_layout (&call, i, &s);
        s.data = g_malloc (MAX (tvw_array_extent_bytes (&s), 1));
        g_ptr_array_add (staged, s.data);
        tvw_array_copy (&ins[i], &s, n_threads);
        ins[i] = s;
      }

  if (!cls->infer (&call, error))
    return FALSE;
  tvw_op_layout_outputs (&call);

  for (int i = 0; i < n_out; i++)
    {
      if (cls->flags & TVW_OP_VIEW)
        outs[i].data = (guint8 *) ins[0].data + view_offset[i] * (gint64) tvw_elem_size (ins[0].elem);
      else
        outs[i].data = g_malloc0 (MAX (tvw_array_extent_bytes (&outs[i]), 1));
    }

  if (cls->prepare != NULL && !cls->prepare (&call, error))
    goto out;
  if (cls->packed_bytes != NULL)
    {
      call.packed = g_malloc (MAX (cls->packed_bytes (&call), 1));
      cls->pack (&call, 0, cls->pack_pieces (&call));
    }

  if (cls->scratch != NULL)
    {
      call.scratch_bytes = (cls->scratch (&call) + 63) & ~(gsize) 63;
      scratch = g_malloc (MAX (call.scratch_bytes * n_threads, 1) + 64);
      call.scratch = (guint8 *) (((guintptr) scratch + 63) & ~(guintptr) 63);
    }

  if (cls->run != NULL)
    {
      unsigned int fp_mode = tvw_engine_fp_enter ();

      cls->run (&call);
      tvw_engine_fp_leave (fp_mode);
    }
  ok = TRUE;

out:
  if (cls->release != NULL)
    cls->release (&call);
  g_free (call.packed);

  for (int i = 0; i < n_out; i++)
    {
      if (!ok && !(cls->flags & TVW_OP_VIEW))
        g_clear_pointer (&outs[i].data, g_free);
      out[i] = outs[i];
    }
  return ok;
}
