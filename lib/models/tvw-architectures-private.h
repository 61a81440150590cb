/* tvw-architectures-private.h — the architectures libtvw can build
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "tvw-engine-private.h"
#include "tvw-checkpoint-private.h"

G_BEGIN_DECLS

/* What a builder is asked for: torchvision's keyword arguments. */
typedef struct
{
  guint         num_classes;
  /* A weights entry was given (built-in or a card): the options it implies
   * are set, like torchvision's builders do with `weights=…`. */
  gboolean      with_weights;
  /* Other keyword arguments by torchvision's names (“aux_loss”,
   * “transform_input”, “image_size”, “min_size”, …); nullable. */
  GVariantDict *options;
} TvwBuildConfig;

typedef struct _TvwArchitecture TvwArchitecture;

struct _TvwArchitecture
{
  const char *name;                 /* torchvision's builder name */
  guint       default_num_classes;
  guint       min_size;             /* smallest square input it accepts */
  /* Appends the whole network to @net, parameters named like
   * torchvision's state_dict keys; fails with a GError naming the module
   * when the configuration cannot be built. */
  gboolean  (*build) (TvwNet                *net,
                      const TvwArchitecture *arch,
                      const TvwBuildConfig  *config,
                      GError               **error);
  /* The family's own description of this member, for build (nullable). */
  gconstpointer config;
  /* The keyword arguments build reads from TvwBuildConfig.options, by
   * torchvision's names; NULL-terminated, nullable (none). */
  const char * const *options;
  /* Optional: adds to @options what a checkpoint without a weights entry
   * implies and nobody set (ViT's image_size, from its position
   * embedding); TRUE when @net, built without it, does not fit and must
   * be built again with @options. */
  gboolean  (*checkpoint_options) (const TvwArchitecture *arch,
                                   TvwCheckpoint         *ckpt,
                                   TvwNet                *net,
                                   GVariantDict          *options);
  /* Heights and widths must be multiples of it (RAFT: 8); 0: any. */
  guint       size_multiple;
  /* A checkpoint key of an older torchvision mapped to its current name
   * (as the family's _load_state_dict () renames it), or NULL when @key
   * needs no change; nullable (no old names). */
  char     *(*upgrade_key) (const char *key);
};

/* Refuses an option @arch does not take, as torchvision's TypeError. */
gboolean  tvw_architecture_check_options (const TvwArchitecture *arch,
                                          GVariant              *options,
                                          GError               **error);

/* An option of @config, or @fallback when it is not set. */
gint64    tvw_build_config_get_int      (const TvwBuildConfig *config,
                                         const char           *key,
                                         gint64                fallback);
gboolean  tvw_build_config_get_boolean  (const TvwBuildConfig *config,
                                         const char           *key,
                                         gboolean              fallback);
double    tvw_build_config_get_double   (const TvwBuildConfig *config,
                                         const char           *key,
                                         double                fallback);

/* Refuses a “weights_backbone” option other than None: libtvw loads whole
 * checkpoints only. */
gboolean  tvw_build_config_check_no_backbone_weights (const TvwBuildConfig  *config,
                                                      const TvwArchitecture *arch,
                                                      GError               **error);

const TvwArchitecture *tvw_architecture_lookup          (const char *name);
gboolean               tvw_architecture_is_implemented  (const char *name);
/* Sorted names, NULL-terminated, owned by the library. */

/* One table per family file, ended by an entry whose name is NULL. */
extern const TvwArchitecture tvw_resnet_architectures[];
extern const TvwArchitecture tvw_regnet_architectures[];
extern const TvwArchitecture tvw_efficientnet_architectures[];
extern const TvwArchitecture tvw_video_architectures[];
extern const TvwArchitecture tvw_raft_architectures[];
extern const TvwArchitecture tvw_mobilenet_architectures[];
extern const TvwArchitecture tvw_segmentation_architectures[];
extern const TvwArchitecture tvw_quantized_architectures[];
extern const TvwArchitecture tvw_vit_architectures[];
extern const TvwArchitecture tvw_swin_architectures[];
extern const TvwArchitecture tvw_maxvit_architectures[];
/* GoogLeNet, Inception v3, MNASNet, ShuffleNet V2, ConvNeXt */
extern const TvwArchitecture tvw_googlenet_architectures[];
extern const TvwArchitecture tvw_inception_architectures[];
extern const TvwArchitecture tvw_mnasnet_architectures[];
extern const TvwArchitecture tvw_shufflenet_architectures[];
extern const TvwArchitecture tvw_convnext_architectures[];
extern const TvwArchitecture tvw_alexnet_vgg_architectures[];
extern const TvwArchitecture tvw_squeezenet_architectures[];
extern const TvwArchitecture tvw_densenet_architectures[];
/* MViT V1 and V2 */
extern const TvwArchitecture tvw_mvit_architectures[];
/* RetinaNet (v1, v2), FCOS */
extern const TvwArchitecture tvw_retinanet_architectures[];
extern const TvwArchitecture tvw_ssd_architectures[];
/* Faster, Mask and Keypoint R-CNN */
extern const TvwArchitecture tvw_rcnn_architectures[];

G_END_DECLS
