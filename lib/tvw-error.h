/* tvw-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(_TVW_INSIDE) && !defined(TVW_COMPILATION)
# error "Only <tvw.h> can be included directly."
#endif

#include <glib.h>

#include "tvw-version.h"

G_BEGIN_DECLS

/**
 * TVW_ERROR:
 *
 * The error domain of libtvw.
 */
#define TVW_ERROR (tvw_error_quark ())

/**
 * TvwError:
 * @TVW_ERROR_NOT_FOUND: an unknown model, weights entry, file or key
 * @TVW_ERROR_INVALID_ARGUMENT: an argument that cannot be used (wrong input
 *   shape, an input smaller than the architecture allows, …)
 * @TVW_ERROR_INVALID_DATA: a corrupt, truncated or hostile file
 * @TVW_ERROR_CHECKSUM_MISMATCH: a downloaded or cached file whose hash is not
 *   the expected one
 * @TVW_ERROR_SHAPE_MISMATCH: a checkpoint tensor whose shape does not match
 *   the architecture, or a missing or unexpected key
 * @TVW_ERROR_UNSUPPORTED: a feature or architecture libtvw does not implement
 * @TVW_ERROR_NETWORK: a download failed
 * @TVW_ERROR_OFFLINE: a file would have to be downloaded but the network may
 *   not be used
 * @TVW_ERROR_NO_MEMORY: memory for the work asked for could not be allocated
 *   (an input or a checkpoint too large for this machine)
 * @TVW_ERROR_FAILED: a failure none of the other codes describes
 *
 * Error codes in the %TVW_ERROR domain.
 */
typedef enum
{
  TVW_ERROR_NOT_FOUND,
  TVW_ERROR_INVALID_ARGUMENT,
  TVW_ERROR_INVALID_DATA,
  TVW_ERROR_CHECKSUM_MISMATCH,
  TVW_ERROR_SHAPE_MISMATCH,
  TVW_ERROR_UNSUPPORTED,
  TVW_ERROR_NETWORK,
  TVW_ERROR_OFFLINE,
  TVW_ERROR_NO_MEMORY,
  TVW_ERROR_FAILED,
} TvwError;

TVW_AVAILABLE_IN_ALL
GQuark tvw_error_quark (void);

G_END_DECLS
