/* tvw-registry-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "tvw-registry.h"

G_BEGIN_DECLS

/*
 * tvw_registry_legacy_weights:
 * @builder: a builder name, e.g. "resnet50"
 * @backbone: %FALSE for `pretrained=True`, %TRUE for `pretrained_backbone=True`
 *
 * Returns the full entry name torchvision's `@handle_legacy_interface`
 * decorator maps the deprecated parameter to ("ResNet50_Weights.IMAGENET1K_V1";
 * the FBGEMM/QNNPACK entry for quantized builders; the backbone's entry for
 * detection and segmentation), or %NULL if the builder has no such mapping.
 * The string is static.
 */
const char *tvw_registry_legacy_weights (const char          *builder,
                                         gboolean             backbone);

/*
 * tvw_registry_suggest:
 * @word: what the user typed
 * @candidates: the names it could have meant
 * @n_candidates: how many
 *
 * Returns "; did you mean a, b or c?" with the up to three candidates
 * closest to @word in edit distance (case-insensitive, transpositions count
 * once), or %NULL if none is close.
 */
char       *tvw_registry_suggest        (const char          *word,
                                         const char * const  *candidates,
                                         guint                n_candidates);

/* The shared string list @id of the catalog (ImageNet's categories, …) as a
 * strong reference to an `as`, or %NULL if there is none by that name. */

/* What the registered weights at @url say about their file: *@sha256 is
 * set to the sha256 of the first entry that has one, and *@max_size to the
 * largest size the file can have when an entry's meta says: from
 * `_file_size` (MiB, as torchvision ≥ 0.15 gives it: twice that plus 1 MiB)
 * or else `num_params` (TVW_REGISTRY_BYTES_PER_PARAM bytes per parameter,
 * twice float32, plus TVW_REGISTRY_SIZE_SLACK); each is left as it is
 * otherwise.  FALSE when no entry has that URL. */
#define TVW_REGISTRY_FILE_SIZE_FACTOR 2
#define TVW_REGISTRY_BYTES_PER_PARAM  8
#define TVW_REGISTRY_SIZE_SLACK       (16 << 20)
gboolean    tvw_registry_download_limits (const char         *url,
                                          char              **sha256,
                                          goffset            *max_size);

G_END_DECLS
