/* tvw-npy.h — NumPy .npy files for the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <tvw.h>

G_BEGIN_DECLS

/* Reads a little-endian float32 ('<f4'), C-ordered array.  Anything else
 * (other dtypes, Fortran order, a truncated file) is TVW_ERROR_INVALID_DATA
 * naming @path. */
TvwTensor *tvw_npy_load (const char  *path,
                         GError     **error);
/* Writes @tensor ('<f4' or '|u1') atomically. */
gboolean   tvw_npy_save (const char  *path,
                         TvwTensor   *tensor,
                         GError     **error);

G_END_DECLS
