/* tvw-op.c — helpers shared by the ops' shape inference
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdarg.h>

#include "tvw-error.h"
#include "tvw-op-private.h"

void
tvw_op_set_error (const TvwOpCall  *call,
                  GError          **error,
                  const char       *format,
                  ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, TVW_ERROR, TVW_ERROR_SHAPE_MISMATCH, "%s (%s): %s",
               call->name != NULL ? call->name : "(unnamed)", call->cls->name, message);
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
