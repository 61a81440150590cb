/* tvw-ops.c — the op table: every op class of the engine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A new op is one file under lib/engine/ops/ and one row here; the per-op
 * test harness (tests/test-ops.c) checks that every row has a test.
 */

#include "config.h"

#include "tvw-ops-private.h"

const TvwOpClass *const tvw_op_table[] = {
  /* tvw-op-conv.c, tvw-op-batchnorm.c, tvw-op-eltwise.c, tvw-op-pool.c,
   * tvw-op-se.c */
  &tvw_op_conv2d,
  &tvw_op_linear,
  &tvw_op_batch_norm,
  &tvw_op_activation,
  &tvw_op_binary,
  &tvw_op_scale_channels,
  &tvw_op_max_pool2d,
  &tvw_op_avg_pool2d,
  &tvw_op_adaptive_avg_pool2d,
  &tvw_op_squeeze_excitation,
  /* tvw-op-shape.c, tvw-op-reduce.c, tvw-op-index.c */
  &tvw_op_reshape,
  &tvw_op_permute,
  &tvw_op_unsqueeze,
  &tvw_op_squeeze,
  &tvw_op_slice,
  &tvw_op_split,
  &tvw_op_contiguous,
  &tvw_op_concat,
  &tvw_op_pad,
  &tvw_op_roll,
  &tvw_op_channel_shuffle,
  &tvw_op_reduce,
  &tvw_op_softmax,
  &tvw_op_index_select,
  &tvw_op_gather,
  &tvw_op_topk,
  /* tvw-op-norm.c, tvw-op-matmul.c, tvw-op-resize.c, tvw-op-convnd.c,
   * tvw-op-pool3d.c, tvw-op-detection.c, tvw-op-quant.c
   * (tests/test-ops-nn.c) */
  &tvw_op_layer_norm,
  &tvw_op_layer_norm_channels,
  &tvw_op_group_norm,
  &tvw_op_matmul,
  &tvw_op_interpolate,
  &tvw_op_grid_sample,
  &tvw_op_conv_nd,
  &tvw_op_max_pool3d,
  &tvw_op_avg_pool3d,
  &tvw_op_adaptive_avg_pool3d,
  &tvw_op_roi_align,
  &tvw_op_batched_nms,
  &tvw_op_quantize,
  &tvw_op_dequantize,
  &tvw_op_corr_lookup,
  &tvw_op_upsample_flow,
  &tvw_op_zeros_like_flow,
  &tvw_op_corr_volume,
  &tvw_op_quantize_stub,
  &tvw_op_qconv2d,
  &tvw_op_qlinear,
  &tvw_op_qadd,
  &tvw_op_qcat,
  &tvw_op_qavg_pool2d,
  &tvw_op_qmax_pool2d,
  &tvw_op_qadaptive_avg_pool2d,
  /* tvw-op-qat.c (tests/test-ops-qat.c) */
  &tvw_op_qat_conv2d,
  &tvw_op_qat_linear,
  &tvw_op_qat_eltwise,
  /* tvw-op-attention.c (tests/test-ops-attention.c) */
  &tvw_op_attention,
  &tvw_op_parameter,
  &tvw_op_relative_position_bias,
  &tvw_op_window_partition,
  &tvw_op_window_merge,
  &tvw_op_window_mask,
  &tvw_op_patch_merge,
  /* tvw-op-affine.c (tests/test-ops-classic.c) */
  &tvw_op_channel_affine,
  /* tvw-op-mvit.c (tests/test-ops-mvit.c) */
  &tvw_op_mvit_pos_encoding,
  &tvw_op_mvit_pool,
  &tvw_op_mvit_rel_pos,
  /* tvw-op-boxes.c (tests/test-ops-boxes.c) */
  &tvw_op_pad_to_multiple,
  &tvw_op_anchor_generator,
  &tvw_op_box_decode,
  &tvw_op_rescale_boxes,
  &tvw_op_remove_small_boxes,
  &tvw_op_score_topk,
  /* tvw-op-ssd.c (tests/test-ops-ssd.c) */
  &tvw_op_ssd_l2_norm,
  &tvw_op_ssd_default_boxes,
  /* tvw-op-detection.c, tvw-op-rcnn.c: the two-stage detectors
   * (tests/test-ops-rcnn.c) */
  &tvw_op_multi_scale_roi_align,
  &tvw_op_rpn_proposals,
  &tvw_op_roi_candidates,
  &tvw_op_paste_masks,
  &tvw_op_heatmaps_to_keypoints,
  NULL
};
