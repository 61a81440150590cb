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
/* Writes @tensor ('<f4', '|u1' or '<i8') atomically. */
gboolean   tvw_npy_save (const char  *path,
                         TvwTensor   *tensor,
                         GError     **error);

/* Appends the .npy encoding of @tensor to @out. */
void       tvw_npy_encode (GByteArray        *out,
                           TvwTensor         *tensor);
/* Writes @tensors as a NumPy .npz archive (a zip of stored .npy files,
 * numpy.savez's layout), entry k being “@names[k].npy”. */
gboolean   tvw_npz_save (const char          *path,
                         const char * const  *names,
                         GListModel          *tensors,
                         GError             **error);

G_END_DECLS
