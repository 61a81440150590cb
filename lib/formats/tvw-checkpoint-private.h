/* tvw-checkpoint-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Read-only access to the tensors of a checkpoint file: the zip container
 * written by torch.save (>= 1.6), the legacy pre-1.6 torch.save format and
 * .safetensors.  The format is detected from the content, never the name.
 *
 * Everything is bounds-checked: a corrupt, truncated or hostile file gives a
 * TVW_ERROR_INVALID_DATA error naming the file and the problem, never a crash.
 * Pickles are read by an allow-list VM that builds plain data and the few
 * torch globals a state_dict needs; nothing from the file is ever executed.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TVW_CKPT_MAX_DIMS 8

typedef enum
{
  TVW_CKPT_DTYPE_FLOAT32,
  TVW_CKPT_DTYPE_FLOAT16,
  TVW_CKPT_DTYPE_BFLOAT16,
  TVW_CKPT_DTYPE_FLOAT64,
  TVW_CKPT_DTYPE_INT64,
  TVW_CKPT_DTYPE_INT32,
  TVW_CKPT_DTYPE_INT16,
  TVW_CKPT_DTYPE_INT8,
  TVW_CKPT_DTYPE_UINT8,
  TVW_CKPT_DTYPE_BOOL,
} TvwCkptDType;

typedef enum
{
  TVW_CKPT_FORMAT_TORCH_ZIP,
  TVW_CKPT_FORMAT_TORCH_LEGACY,
  TVW_CKPT_FORMAT_SAFETENSORS,
} TvwCkptFormat;

typedef struct _TvwCheckpoint TvwCheckpoint;

typedef struct
{
  /* The state_dict key, after unwrapping {"model": …} / {"state_dict": …}
   * and stripping a common "module." prefix. */
  const char   *name;
  TvwCkptDType  dtype;
  guint         n_dims;
  gint64        shape[TVW_CKPT_MAX_DIMS];
  gint64        n_elements;
  /* A quantized tensor (qint8 / quint8) of a torchvision quantized model:
   * the raw integers, with its affine parameters as two more float32
   * entries “@name.q_scales” and “@name.q_zero_points” of shape
   * [shape[0]] (per-channel along dimension 0, or one value repeated). */
  gboolean      quantized;
} TvwCkptTensor;

/* Maps @path and parses its index.  Tensor data is not converted until asked
 * for. */
TvwCheckpoint       *tvw_checkpoint_open          (const char           *path,
                                                   GError              **error);
/* Same over memory (tests and fuzzers).  @display_name is used in messages. */
TvwCheckpoint       *tvw_checkpoint_open_bytes    (GBytes               *bytes,
                                                   const char           *display_name,
                                                   GError              **error);
void                 tvw_checkpoint_free          (TvwCheckpoint        *self);

TvwCkptFormat        tvw_checkpoint_get_format    (TvwCheckpoint        *self);
const char          *tvw_checkpoint_get_display_name (TvwCheckpoint     *self);
guint                tvw_checkpoint_get_n_tensors (TvwCheckpoint        *self);
/* In file order (zip/legacy: pickle order, i.e. state_dict order). */
const TvwCkptTensor *tvw_checkpoint_get_tensor    (TvwCheckpoint        *self,
                                                   guint                 index);
const TvwCkptTensor *tvw_checkpoint_lookup        (TvwCheckpoint        *self,
                                                   const char           *name);

/* Returns the new name of a key, or NULL to keep it. */
typedef char *(*TvwCkptRenameFn) (const char *name);

/* Renames keys as @rename says, in place (old torchvision names to new
 * ones); a renamed key replaces a tensor already under its new name. */
void                 tvw_checkpoint_rename_keys   (TvwCheckpoint        *self,
                                                   TvwCkptRenameFn       rename);

/* Contiguous row-major float32 data of @tensor: a pointer into the mapped
 * file when it is stored that way already, otherwise a converted copy owned
 * by @self (fp16, bf16, fp64, integer types, non-contiguous strides).
 * Valid until @self is freed. */
const float         *tvw_checkpoint_get_float     (TvwCheckpoint        *self,
                                                   const TvwCkptTensor  *tensor,
                                                   GError              **error);

/* Maps the whole file in one call, before weights are read from it all
 * (a page fault every 64 KiB otherwise).  Best effort. */
void                 tvw_checkpoint_prefetch      (TvwCheckpoint        *self);
/* Tells the kernel the mapped pages are not needed for now: after weights
 * are packed, the file no longer counts in the process's resident memory.
 * Pointers stay valid (the pages are read again from the file if used). */
void                 tvw_checkpoint_release_pages (TvwCheckpoint        *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TvwCheckpoint, tvw_checkpoint_free)

G_END_DECLS
