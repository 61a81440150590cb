/* tvw-architectures-private.h — the architectures libtvw can build
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"

G_BEGIN_DECLS

typedef struct
{
  const char *name;                 /* torchvision's builder name */
  guint       default_num_classes;
  guint       min_size;             /* smallest square input it accepts */
  /* Appends the whole network to @net, parameters named like
   * torchvision's state_dict keys. */
  void      (*build) (TvwNet     *net,
                      const char *name,
                      guint       num_classes);
  /* The family's own description of this member, for build (nullable). */
  gconstpointer config;
} TvwArchitecture;

const TvwArchitecture *tvw_architecture_lookup          (const char *name);
gboolean               tvw_architecture_is_implemented  (const char *name);
/* Sorted names, NULL-terminated, owned by the library. */
const char * const    *tvw_architecture_list            (void);

/* One table per family file, ended by an entry whose name is NULL. */
extern const TvwArchitecture tvw_resnet_architectures[];
extern const TvwArchitecture tvw_regnet_architectures[];
extern const TvwArchitecture tvw_efficientnet_architectures[];
extern const TvwArchitecture tvw_mobilenet_architectures[];

G_END_DECLS
