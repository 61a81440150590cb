/* tvw-ops-private.h — the op table and the graph constructors of every op
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Constructors take torchvision's / PyTorch's arguments and dimensions in
 * torchvision's logical order (N×C×H×W), whatever the layout the engine
 * picks.  Negative dims count from the end, as in PyTorch.  Each returns
 * the (first) output, or -1 once the net has an error (tvw_net_check ()).
 * Weights are declared under “@name.weight” etc., torchvision's keys.
 */

#pragma once

#include "tvw-op-private.h"

G_BEGIN_DECLS

/* Every op class, NULL-terminated (ops/tvw-ops.c). */
extern const TvwOpClass *const tvw_op_table[];

/* ---- tvw-op-conv.c: convolution and linear layers on the GEMM kernels --- */
extern const TvwOpClass tvw_op_conv2d;
extern const TvwOpClass tvw_op_linear;

/* The passes fold and fuse into these (tvw-net-passes.c). */
typedef struct
{
  TvwConvSpec    spec;         /* linear: 1×1, no padding */
  int            cin, cout;
  TvwActivation  act;
  /* A folded BatchNorm: its five weights follow the convolution's own
   * (weight, bias if any). */
  gboolean       batch_norm;
  double         bn_eps;
  /* Input 1, of the output's shape, is added before @act. */
  gboolean       residual;
  /* A per-output-channel factor (ConvNeXt's layer_scale) follows the
   * weight and bias, before any BatchNorm's weights. */
  gboolean       layer_scale;
} TvwConvOpParams;

/* nn.Linear “@module.@linear” applied to the channels of N×C×H×W (a 1×1
 * convolution whose weight is declared [out, in], the Linear's shape):
 * ConvNeXt's pointwise layers between its Permutes, kept channels-last so
 * that the activation and the residual fuse into the GEMM's epilogue.
 * With @layer_scale (nullable), the parameter “@module.@layer_scale” of
 * shape out×1×1 multiplies the output (folded into the weights). */
TvwVal tvw_net_conv2d_channel_linear (TvwNet     *net,
                                      TvwVal      x,
                                      const char *module,
                                      const char *linear,
                                      int         out_features,
                                      gboolean    bias,
                                      const char *layer_scale);

/* ---- tvw-op-batchnorm.c: BatchNorm 1/2/3-D in eval mode ------------- */
extern const TvwOpClass tvw_op_batch_norm;

typedef struct
{
  double         eps;
  TvwActivation  act;
} TvwBatchNormParams;

/* The five weights of a BatchNorm, torchvision's keys. */
#define TVW_BATCH_NORM_N_WEIGHTS 5
void   tvw_batch_norm_weights (gint64         channels,
                               TvwWeightSpec *specs);

/* ---- tvw-op-eltwise.c: activations, broadcasting binary ops --------- */
extern const TvwOpClass tvw_op_activation;
extern const TvwOpClass tvw_op_binary;
extern const TvwOpClass tvw_op_scale_channels;

typedef enum
{
  TVW_BINARY_ADD,
  TVW_BINARY_SUB,
  TVW_BINARY_MUL,
  TVW_BINARY_DIV,
} TvwBinaryOp;

typedef struct
{
  TvwBinaryOp    op;
  TvwActivation  act;
} TvwBinaryParams;

typedef struct
{
  TvwActivation  act;
} TvwActivationParams;

/* a ∘ b with PyTorch's broadcasting. */
TvwVal tvw_net_binary        (TvwNet        *net,
                              TvwBinaryOp    op,
                              TvwVal         a,
                              TvwVal         b);

/* ---- tvw-op-pool.c: 2-D pooling on channels-last maps --------------- */
extern const TvwOpClass tvw_op_max_pool2d;
extern const TvwOpClass tvw_op_avg_pool2d;
extern const TvwOpClass tvw_op_adaptive_avg_pool2d;

typedef struct
{
  int      kernel, stride, padding;
  gboolean ceil_mode, count_include_pad;
  gint64   out_h, out_w;           /* adaptive */
} TvwPool2dParams;

/* PyTorch's pooling output size along one dimension (0 when the window
 * does not fit). */
gint64 tvw_pool_out          (gint64         size,
                              int            kernel,
                              int            stride,
                              int            pad,
                              gboolean       ceil_mode);

/* ---- tvw-op-se.c: torchvision.ops.SqueezeExcitation as one node ----- */
extern const TvwOpClass tvw_op_squeeze_excitation;

typedef struct
{
  int            squeeze;
  TvwActivation  act, gate_act;
} TvwSqueezeExcitationParams;

/* ---- tvw-op-shape.c: views and copies that move data around --------- */
/* (reshape, flatten, permute, transpose, squeeze/unsqueeze, slice, split,
 * concat, pad, roll, channel shuffle, contiguous) */
extern const TvwOpClass tvw_op_reshape;          /* reshape, flatten_dims */
extern const TvwOpClass tvw_op_permute;          /* permute, transpose */
extern const TvwOpClass tvw_op_unsqueeze;
extern const TvwOpClass tvw_op_squeeze;
extern const TvwOpClass tvw_op_slice;
extern const TvwOpClass tvw_op_split;
extern const TvwOpClass tvw_op_contiguous;
extern const TvwOpClass tvw_op_concat;
extern const TvwOpClass tvw_op_pad;
extern const TvwOpClass tvw_op_roll;
extern const TvwOpClass tvw_op_channel_shuffle;

TvwVal tvw_net_reshape       (TvwNet        *net,
                              TvwVal         x,
                              int            rank,
                              const gint64  *shape);   /* one -1 allowed */
/* torch.flatten (x, start_dim, end_dim) */
TvwVal tvw_net_flatten_dims  (TvwNet        *net,
                              TvwVal         x,
                              int            start_dim,
                              int            end_dim);
TvwVal tvw_net_permute       (TvwNet        *net,
                              TvwVal         x,
                              const int     *dims);    /* rank entries */
TvwVal tvw_net_transpose     (TvwNet        *net,
                              TvwVal         x,
                              int            dim0,
                              int            dim1);
TvwVal tvw_net_unsqueeze     (TvwNet        *net,
                              TvwVal         x,
                              int            dim);
TvwVal tvw_net_squeeze       (TvwNet        *net,
                              TvwVal         x,
                              int            dim);
/* x[..., start:end:step, ...] along @dim (end clamped like Python). */
TvwVal tvw_net_slice         (TvwNet        *net,
                              TvwVal         x,
                              int            dim,
                              gint64         start,
                              gint64         end,
                              gint64         step);
/* torch.split (x, sizes, dim): @n_out outputs of sizes[i] along @dim. */
void   tvw_net_split         (TvwNet        *net,
                              TvwVal         x,
                              int            dim,
                              int            n_out,
                              const gint64  *sizes,
                              TvwVal        *outputs);
TvwVal tvw_net_concat        (TvwNet        *net,
                              int            n_in,
                              const TvwVal  *inputs,
                              int            dim);
/* F.pad (x, pads, mode="constant", value): pads as F.pad gives them, last
 * dimension first (left, right, top, bottom, …), 2·n_pads entries. */
TvwVal tvw_net_pad           (TvwNet        *net,
                              TvwVal         x,
                              int            n_pads,
                              const gint64  *pads,
                              double         value);
/* torch.roll (x, shifts, dims) */
TvwVal tvw_net_roll          (TvwNet        *net,
                              TvwVal         x,
                              int            n_dims,
                              const gint64  *shifts,
                              const int     *dims);
/* torchvision's channel_shuffle (ShuffleNet V2) on N×C×H×W. */
TvwVal tvw_net_channel_shuffle (TvwNet      *net,
                              TvwVal         x,
                              int            groups);
TvwVal tvw_net_contiguous    (TvwNet        *net,
                              TvwVal         x);

/* ---- tvw-op-reduce.c: reductions, softmax --------------------------- */
extern const TvwOpClass tvw_op_reduce;
extern const TvwOpClass tvw_op_softmax;          /* softmax, log_softmax */

typedef enum
{
  TVW_REDUCE_MEAN,
  TVW_REDUCE_SUM,
  TVW_REDUCE_MAX,
} TvwReduceOp;

/* Over the dims whose bit is set in @dims_mask (bit i: dim i). */
TvwVal tvw_net_reduce        (TvwNet        *net,
                              TvwReduceOp    op,
                              TvwVal         x,
                              guint          dims_mask,
                              gboolean       keepdim);
TvwVal tvw_net_softmax       (TvwNet        *net,
                              TvwVal         x,
                              int            dim,
                              gboolean       log);

/* ---- tvw-op-index.c: gather, index_select, top-k -------------------- */
extern const TvwOpClass tvw_op_index_select;
extern const TvwOpClass tvw_op_gather;
extern const TvwOpClass tvw_op_topk;

/* torch.index_select (x, dim, index), index an i64 vector */
TvwVal tvw_net_index_select  (TvwNet        *net,
                              TvwVal         x,
                              int            dim,
                              TvwVal         index);
/* torch.gather (x, dim, index) */
TvwVal tvw_net_gather        (TvwNet        *net,
                              TvwVal         x,
                              int            dim,
                              TvwVal         index);
/* torch.topk (x, k, dim, largest=True, sorted=True): values, indices (i64). */
void   tvw_net_topk          (TvwNet        *net,
                              TvwVal         x,
                              gint64         k,
                              int            dim,
                              TvwVal        *values,
                              TvwVal        *indices);

/* ---- tvw-op-norm.c: LayerNorm, GroupNorm, InstanceNorm -------------- */
extern const TvwOpClass tvw_op_layer_norm;
extern const TvwOpClass tvw_op_layer_norm_channels;
extern const TvwOpClass tvw_op_group_norm;
/* nn.LayerNorm over the last dim (@channels_dim < 0), or over dim
 * @channels_dim (torchvision's LayerNorm2d: channels of N×C×H×W). */
TvwVal tvw_net_layer_norm    (TvwNet        *net,
                              TvwVal         x,
                              const char    *name,
                              int            channels_dim,
                              gint64         features,
                              double         eps,
                              gboolean       affine);
TvwVal tvw_net_group_norm    (TvwNet        *net,
                              TvwVal         x,
                              const char    *name,
                              int            groups,
                              double         eps,
                              gboolean       affine);
TvwVal tvw_net_instance_norm (TvwNet        *net,
                              TvwVal         x,
                              const char    *name,
                              double         eps,
                              gboolean       affine);

/* ---- tvw-op-matmul.c: matmul, batched matmul ------------------------ */
extern const TvwOpClass tvw_op_matmul;
/* torch.matmul (a, b) for ranks ≥ 2 with batch broadcasting. */
TvwVal tvw_net_matmul        (TvwNet        *net,
                              TvwVal         a,
                              TvwVal         b);

/* ---- tvw-op-resize.c: interpolate, grid sample ---------------------- */
extern const TvwOpClass tvw_op_interpolate;
extern const TvwOpClass tvw_op_grid_sample;
typedef enum
{
  TVW_RESIZE_NEAREST,
  TVW_RESIZE_BILINEAR,
} TvwResizeMode;

/* F.interpolate (x, size=(out_h, out_w), mode, align_corners) on N×C×H×W;
 * with out_h/out_w ≤ 0, scale factors @scale_h/@scale_w instead. */
TvwVal tvw_net_interpolate   (TvwNet        *net,
                              TvwVal         x,
                              gint64         out_h,
                              gint64         out_w,
                              double         scale_h,
                              double         scale_w,
                              TvwResizeMode  mode,
                              gboolean       align_corners);
/* F.interpolate (x, size=like.shape[-2:], mode, align_corners): the size
 * of @like (rank ≥ 3; only its shape is read) whatever it is at run time. */
TvwVal tvw_net_interpolate_like (TvwNet        *net,
                                 TvwVal         x,
                                 TvwVal         like,
                                 TvwResizeMode  mode,
                                 gboolean       align_corners);
/* GeneralizedRCNNTransform.resize's F.interpolate (bilinear,
 * align_corners=False, recompute_scale_factor=True) with the scale of
 * @min_size and @max_size, from the shape @x has at run time. */
TvwVal tvw_net_interpolate_min_max (TvwNet  *net,
                              TvwVal         x,
                              double         min_size,
                              double         max_size);
/* F.grid_sample (x, grid, mode, padding_mode="zeros", align_corners) */
TvwVal tvw_net_grid_sample   (TvwNet        *net,
                              TvwVal         x,
                              TvwVal         grid,
                              TvwResizeMode  mode,
                              gboolean       align_corners);

/* ---- tvw-op-convnd.c: other convolutions (1-D, 3-D, transposed) ----- */
extern const TvwOpClass tvw_op_conv_nd;
typedef struct
{
  int      rank;                   /* spatial dimensions: 1, 2 or 3 */
  int      kernel[3], stride[3], padding[3], dilation[3], output_padding[3];
  int      groups;
  gboolean bias;
  gboolean transposed;
} TvwConvNdSpec;

TvwVal tvw_net_conv_nd       (TvwNet              *net,
                              TvwVal               x,
                              const char          *name,
                              int                  out_channels,
                              const TvwConvNdSpec *spec);

/* ---- tvw-op-pool3d.c: 3-D pooling and ceil-mode pools over N×C×T×H×W --- */
extern const TvwOpClass tvw_op_max_pool3d;
extern const TvwOpClass tvw_op_avg_pool3d;
extern const TvwOpClass tvw_op_adaptive_avg_pool3d;
TvwVal tvw_net_max_pool3d    (TvwNet        *net,
                              TvwVal         x,
                              const int     *kernel,   /* [3] */
                              const int     *stride,
                              const int     *padding,
                              gboolean       ceil_mode);
TvwVal tvw_net_avg_pool3d    (TvwNet        *net,
                              TvwVal         x,
                              const int     *kernel,
                              const int     *stride,
                              const int     *padding,
                              gboolean       ceil_mode,
                              gboolean       count_include_pad);
TvwVal tvw_net_adaptive_avg_pool3d (TvwNet  *net,
                              TvwVal         x,
                              const gint64  *out_size); /* [3] */

/* ---- tvw-op-detection.c: RoIAlign, NMS ------------------------------ */
extern const TvwOpClass tvw_op_roi_align;
extern const TvwOpClass tvw_op_batched_nms;
/* torchvision.ops.roi_align (x, rois K×5 [batch, x1, y1, x2, y2],
 * output_size, spatial_scale, sampling_ratio, aligned) → K×C×oh×ow */
TvwVal tvw_net_roi_align     (TvwNet        *net,
                              TvwVal         x,
                              TvwVal         rois,
                              int            out_h,
                              int            out_w,
                              double         spatial_scale,
                              int            sampling_ratio,
                              gboolean       aligned);
/* torchvision.ops.batched_nms (boxes K×4, scores K, idxs K (i64),
 * iou_threshold) → kept indices (i64, by decreasing score); a host op. */
TvwVal tvw_net_batched_nms   (TvwNet        *net,
                              TvwVal         boxes,
                              TvwVal         scores,
                              TvwVal         idxs,
                              double         iou_threshold);

/* ---- tvw-op-quant.c: quantize, dequantize --------------------------- */
extern const TvwOpClass tvw_op_quantize;
extern const TvwOpClass tvw_op_dequantize;
/* torch.quantize_per_tensor (x, scale, zero_point, dtype u8/i8) */
TvwVal tvw_net_quantize      (TvwNet        *net,
                              TvwVal         x,
                              double         scale,
                              gint32         zero_point,
                              TvwElem        elem);
TvwVal tvw_net_dequantize    (TvwNet        *net,
                              TvwVal         x);

/* ---- tvw-op-flow.c: RAFT's correlation lookup and convex upsampling --- */
extern const TvwOpClass tvw_op_corr_lookup;
extern const TvwOpClass tvw_op_upsample_flow;
extern const TvwOpClass tvw_op_zeros_like_flow;
extern const TvwOpClass tvw_op_corr_volume;
#define TVW_CORR_MAX_LEVELS 8
/* CorrBlock._compute_corr_volume (fmap1, fmap2), both N×C×h×w →
 * (N·h·w)×1×h×w */
TvwVal tvw_net_corr_volume   (TvwNet        *net,
                              TvwVal         fmap1,
                              TvwVal         fmap2);
/* CorrBlock.index_pyramid: @pyramid levels (N·h·w)×1×h_l×w_l, @flow N×2×h×w
 * → N×(levels·(2·radius+1)²)×h×w, every sample times @scale. */
TvwVal tvw_net_corr_lookup   (TvwNet        *net,
                              int            n_levels,
                              const TvwVal  *pyramid,
                              TvwVal         flow,
                              int            radius,
                              double         scale);
/* upsample_flow (flow, up_mask): 8× by the convex combination of
 * softmax (@multiplier · mask), or bilinearly when @mask is -1 */
TvwVal tvw_net_upsample_flow (TvwNet        *net,
                              TvwVal         flow,
                              TvwVal         mask,
                              double         multiplier);
/* zeros N×2×h×w, shaped after @like (N×C×h×w) */
TvwVal tvw_net_zeros_like_flow (TvwNet      *net,
                              TvwVal         like);

/* ---- tvw-op-attention.c: fused attention, transformer helpers ------- */
extern const TvwOpClass tvw_op_attention;
extern const TvwOpClass tvw_op_parameter;
extern const TvwOpClass tvw_op_relative_position_bias;
extern const TvwOpClass tvw_op_window_mask;

#define TVW_ATTENTION_MAX_BIAS 2

typedef struct
{
  double   scale;              /* of Q·Kᵀ (not with @cosine) */
  gboolean cosine;             /* Swin V2: normalised rows, weight logit_scale [H, 1, 1] */
  double   max_log_scale;      /* the logit scale's clamp (log 100) */
  int      n_bias;             /* set by the constructor */
} TvwAttentionParams;

/* softmax (q·kᵀ·scale + bias[0] + …) · v for q [B, H, Lq, D], k [B, H, Lk,
 * D], v [B, H, Lk, Dv]; each bias [Bb, 1 or H, Lq, Lk], batch b reading
 * bias b mod Bb.  → [B, H, Lq, Dv], stored as [B, Lq, H, Dv] so that
 * transpose (1, 2) then reshape is a view.  @name names logit_scale. */
TvwVal tvw_net_attention     (TvwNet                   *net,
                              const char               *name,
                              TvwVal                    q,
                              TvwVal                    k,
                              TvwVal                    v,
                              int                       n_bias,
                              const TvwVal             *bias,
                              const TvwAttentionParams *params);

typedef struct
{
  gboolean expand;             /* dim 0 (of size 1) to input 0's dim 0 */
  gboolean buffer;             /* a buffer, not a parameter (not counted) */
  gint64   zero_begin, zero_end;
  /* > 0: input 0 (an N×C×H×W batch) must be need_h × need_w. */
  gint64   need_h, need_w;
} TvwParameterParams;

/* The weight “@name.@suffix” (“@name” when @suffix is NULL) as a value; with @like ≥ 0 its
 * dimension 0 (of size 1) repeated to @like's batch.  @opts (nullable):
 * elements [zero_begin, zero_end) read as zeros; the size @like must
 * have. */
TvwVal tvw_net_parameter     (TvwNet                   *net,
                              const char               *name,
                              const char               *suffix,
                              int                       rank,
                              const gint64             *shape,
                              TvwVal                    like,
                              const TvwParameterParams *opts);

typedef struct
{
  int      window_h, window_w;
  gboolean sigmoid16;          /* Swin V2: 16 · sigmoid (bias) */
} TvwRelPosBiasParams;

/* table [(2·Wh − 1)·(2·Ww − 1), H] → [1, H, Wh·Ww, Wh·Ww] by torchvision's
 * relative_position_index, declared “@name.relative_position_index” (a
 * buffer, [(Wh·Ww)²] with @flat_index as Swin has it, else [L, L]). */
TvwVal tvw_net_relative_position_bias (TvwNet *net,
                              const char    *name,
                              TvwVal         table,
                              int            window_h,
                              int            window_w,
                              gboolean       flat_index,
                              gboolean       sigmoid16);

extern const TvwOpClass tvw_op_window_partition;
extern const TvwOpClass tvw_op_window_merge;
extern const TvwOpClass tvw_op_patch_merge;

typedef struct
{
  int window_h, window_w, shift_h, shift_w;
} TvwWindowParams;

/* Swin's windows of an [N, H, W, C] map: padded to whole windows, rolled
 * by −shift (no shift along an axis of one window), → [N·windows, Wh·Ww,
 * C]. */
TvwVal tvw_net_window_partition (TvwNet     *net,
                              TvwVal         x,
                              int            window_h,
                              int            window_w,
                              int            shift_h,
                              int            shift_w);
/* The way back to @like's [N, H, W, ·] map. */
TvwVal tvw_net_window_merge  (TvwNet        *net,
                              TvwVal         windows,
                              TvwVal         like,
                              int            window_h,
                              int            window_w,
                              int            shift_h,
                              int            shift_w);
/* The shifted-window attention mask for windows of @x: [windows, 1,
 * Wh·Ww, Wh·Ww] of 0 and −100. */
TvwVal tvw_net_window_mask   (TvwNet        *net,
                              TvwVal         x,
                              int            window_h,
                              int            window_w,
                              int            shift_h,
                              int            shift_w);
/* Swin's patch merging gather: [N, H, W, C] → [N, ⌈H/2⌉, ⌈W/2⌉, 4·C]. */
TvwVal tvw_net_patch_merge   (TvwNet        *net,
                              TvwVal         x);
/* ---- tvw-op-affine.c: a per-channel affine map by constants --------- */
extern const TvwOpClass tvw_op_channel_affine;
/* x[:, c] · scale[c] + shift[c] on N×@channels×H×W, the constants known
 * when the model is built (GoogLeNet's and Inception v3's
 * transform_input). */
TvwVal tvw_net_channel_affine (TvwNet      *net,
                              TvwVal         x,
                              int            channels,
                              const float   *scale,
                              const float   *shift);

/* ---- the parameter blocks of the ops above (tests build them too) --- */

typedef struct
{
  TvwConvNdSpec spec;
  int           in_channels;
  int           out_channels;
} TvwConvNdParams;

typedef struct
{
  int   channels;
  float values[];                /* scale[channels], then shift[channels] */
} TvwChannelAffineParams;

typedef struct
{
  int dim;
} TvwDimParams;

typedef struct
{
  int    radius;
  double scale;
} TvwCorrLookupParams;

typedef struct
{
  double multiplier;
} TvwUpsampleFlowParams;

typedef struct
{
  int dummy;  /* matmul has no parameters */
} TvwMatmulParams;

typedef struct
{
  double iou_threshold;
} TvwNmsParams;

typedef struct
{
  double eps;
  int    groups;     /* group_norm: ≤ 0 for one group per channel (instance) */
  int    n_weights;  /* 2 with an affine transform, else 0 */
  int    dim;        /* layer_norm: the dimension asked for (< 0: the last) */
} TvwNormParams;

typedef struct
{
  int    n_pads;                         /* dimensions padded, from the last */
  gint64 pads[2 * TVW_MAX_RANK];         /* F.pad's order */
  double value;
} TvwPadParams;

typedef struct
{
  gboolean transpose;            /* dims[0] ↔ dims[1] */
  int      n_dims;               /* else a permutation of n_dims entries */
  int      dims[TVW_MAX_RANK];
} TvwPermuteParams;

typedef struct
{
  double  scale;
  gint32  zero_point;
  int     elem;        /* TvwElem: u8 or i8 */
} TvwQuantizeParams;

typedef struct
{
  TvwReduceOp op;
  guint       dims_mask;
  gboolean    keepdim;
} TvwReduceParams;

typedef struct
{
  gboolean flatten;              /* torch.flatten (start_dim, end_dim) */
  int      start_dim, end_dim;
  int      rank;                 /* else view (shape[rank]), one -1 allowed */
  gint64   shape[TVW_MAX_RANK];
} TvwReshapeParams;

typedef struct
{
  gint64   out_h, out_w;       /* ≤ 0: from the scale factors */
  double   scale_h, scale_w;   /* F.interpolate's scale_factor, 0 if none */
  int      mode;               /* TvwResizeMode */
  gboolean align_corners;
  /* > 0: GeneralizedRCNNTransform's size rule instead (detection): scale
   * min (min_size / min (H, W), max_size / max (H, W)) computed in float32,
   * sizes floor (H · scale), recompute_scale_factor=True. */
  double   min_size, max_size;
} TvwResizeParams;

typedef struct
{
  int      kernel[3], stride[3], padding[3];
  gboolean ceil_mode;
  gboolean count_include_pad;
  gint64   out_size[3];          /* adaptive only */
} TvwPool3dParams;

typedef struct
{
  int      out_h, out_w;
  double   spatial_scale;
  int      sampling_ratio;
  gboolean aligned;
} TvwRoiAlignParams;

/* torch.roll takes any number of dims, repeated ones too. */
#define TVW_ROLL_MAX_DIMS 8

typedef struct
{
  int    n_dims;
  gint64 shifts[TVW_ROLL_MAX_DIMS];
  int    dims[TVW_ROLL_MAX_DIMS];
} TvwRollParams;

typedef struct
{
  int groups;
} TvwShuffleParams;

typedef struct
{
  int    dim;
  gint64 start, end, step;
} TvwSliceParams;

typedef struct
{
  int      dim;
  gboolean log;
} TvwSoftmaxParams;

typedef struct
{
  int    dim;
  int    n;
  gint64 sizes[];                /* [n] */
} TvwSplitParams;

typedef struct
{
  gint64 k;
  int    dim;
} TvwTopkParams;

/* ---- tvw-op-qnn.c: the modules of converted (int8) torchvision models --- */
/* quint8 activations (per tensor), qint8 weights (per tensor or channel);
 * each module's output scale and zero point are its “scale” and
 * “zero_point” weights, a quantized weight comes with “weight.q_scales”
 * and “weight.q_zero_points” (what the checkpoint reader makes of
 * _rebuild_qtensor). */
extern const TvwOpClass tvw_op_quantize_stub;
extern const TvwOpClass tvw_op_qconv2d;
extern const TvwOpClass tvw_op_qlinear;
extern const TvwOpClass tvw_op_qadd;
extern const TvwOpClass tvw_op_qmax_pool2d;
extern const TvwOpClass tvw_op_qadaptive_avg_pool2d;
extern const TvwOpClass tvw_op_qcat;
extern const TvwOpClass tvw_op_qavg_pool2d;

typedef struct
{
  TvwConvSpec  spec;           /* linear: 1×1 */
  int          cin, cout;
  gboolean     relu;           /* ConvReLU2d, LinearReLU */
} TvwQConvOpParams;

typedef struct
{
  gboolean     relu;           /* add_relu */
} TvwQAddParams;

/* QuantStub → Quantize “@name” (f32 → quint8). */
TvwVal tvw_net_quantize_stub (TvwNet            *net,
                              TvwVal             x,
                              const char        *name);
/* Conv2d / ConvReLU2d “@name”: N×C×H×W quint8 → N×@out_channels×OH×OW. */
TvwVal tvw_net_qconv2d       (TvwNet            *net,
                              TvwVal             x,
                              const char        *name,
                              int                out_channels,
                              const TvwConvSpec *spec,
                              gboolean           relu);
/* Linear “@name”: N×C (or N×C×1×1) → N×@out_features. */
TvwVal tvw_net_qlinear       (TvwNet            *net,
                              TvwVal             x,
                              const char        *name,
                              int                out_features,
                              gboolean           relu);
/* FloatFunctional “@name”: add or add_relu of two maps of one shape. */
TvwVal tvw_net_qadd          (TvwNet            *net,
                              TvwVal             a,
                              TvwVal             b,
                              const char        *name,
                              gboolean           relu);
TvwVal tvw_net_qmax_pool2d   (TvwNet            *net,
                              TvwVal             x,
                              int                kernel,
                              int                stride,
                              int                padding,
                              gboolean           ceil_mode);
/* avg_pool2d (x, kernel, stride, padding), count_include_pad, floor
 * mode. */
TvwVal tvw_net_qavg_pool2d   (TvwNet            *net,
                              TvwVal             x,
                              int                kernel,
                              int                stride,
                              int                padding);
/* adaptive_avg_pool2d (x, 1): N×C×H×W → N×C×1×1. */
TvwVal tvw_net_qadaptive_avg_pool2d (TvwNet     *net,
                                     TvwVal      x);
/* Declares the weights of Conv2d / ConvReLU2d “@name” (@kernel > 0) or
 * Linear “@name” (@kernel 0) without running it (GoogLeNet's auxiliary
 * heads); not @counted as parameters: as buffers. */
void   tvw_net_declare_qconv (TvwNet            *net,
                              const char        *name,
                              int                in_channels,
                              int                out_channels,
                              int                kernel,
                              gboolean           counted);
/* FloatFunctional “@name”'s cat (inputs, dim=1) of @n_in N×Cᵢ×H×W maps:
 * each input requantised to the module's scale and zero point. */
TvwVal tvw_net_qcat          (TvwNet            *net,
                              int                n_in,
                              const TvwVal      *inputs,
                              const char        *name);

/* ---- tvw-op-qat.c: QAT modules converted on load (MobileNet V3) ----- */
/* A prepare_qat module's keys — float weights, BatchNorm and FakeQuantize
 * observers — converted in prepare as torch.ao.quantization.convert does,
 * then run as the quantized module. */
extern const TvwOpClass tvw_op_qat_conv2d;
extern const TvwOpClass tvw_op_qat_linear;
extern const TvwOpClass tvw_op_qat_eltwise;

typedef struct
{
  TvwQConvOpParams q;          /* first: the quantized op reads it */
  gboolean         bn;         /* ConvBn2d / ConvBnReLU2d */
  double           bn_eps;
  gboolean         bias;
} TvwQatConvParams;

typedef enum
{
  TVW_QAT_QUANTIZE,            /* QuantStub: f32 → quint8 */
  TVW_QAT_HARDSWISH,
  TVW_QAT_HARDSIGMOID,         /* no observer: output 1/256, zero point 0 */
  TVW_QAT_ADD,                 /* FloatFunctional.add of two maps */
  TVW_QAT_MUL,                 /* FloatFunctional.mul (N×C×1×1 scale, N×C×H×W map) */
} TvwQatEltwiseKind;

typedef struct
{
  TvwQatEltwiseKind kind;
} TvwQatEltwiseParams;

/* ConvBn2d / ConvBnReLU2d (@batch_norm), ConvReLU2d or Conv2d “@name”. */
TvwVal tvw_net_qat_conv2d    (TvwNet            *net,
                              TvwVal             x,
                              const char        *name,
                              int                out_channels,
                              const TvwConvSpec *spec,
                              gboolean           batch_norm,
                              double             bn_eps,
                              gboolean           bias,
                              gboolean           relu);
/* Linear “@name” with bias: N×C (or N×C×1×1) → N×@out_features. */
TvwVal tvw_net_qat_linear    (TvwNet            *net,
                              TvwVal             x,
                              const char        *name,
                              int                out_features);
/* The module “@name” whose output observer is “@name.activation_post_process”
 * (none for Hardsigmoid); @b only for add and mul (@a is mul's scale). */
TvwVal tvw_net_qat_eltwise   (TvwNet            *net,
                              TvwQatEltwiseKind  kind,
                              TvwVal             a,
                              TvwVal             b,
                              const char        *name);
/* The observer keys of “@name.activation_post_process” without a node (a
 * FloatFunctional a block does not use). */
void   tvw_net_declare_fake_quantize (TvwNet    *net,
                                      const char *name);

/* ---- tvw-op-mvit.c: MViT's token sequences -------------------------- */
extern const TvwOpClass tvw_op_mvit_pos_encoding;
extern const TvwOpClass tvw_op_mvit_pool;
extern const TvwOpClass tvw_op_mvit_rel_pos;

typedef struct
{
  gboolean with_pos;             /* MViT V1's absolute embeddings */
  gint64   temporal, spatial;    /* T and H·W of the tokens */
} TvwMvitPosEncodingParams;

typedef struct
{
  int      thw[3];               /* the input's tokens, class token aside */
  int      kernel[3], stride[3], padding[3];
  gboolean max;                  /* MaxPool3d, else a depthwise Conv3d */
} TvwMvitPoolParams;

typedef struct
{
  int q_thw[3], k_thw[3];
} TvwMvitRelPosParams;

/* PositionalEncoding “@name”: [N, T·HW, C] → [N, 1 + T·HW, C] with
 * “@name.class_token” in front, and with @with_pos (V1) “class_pos”,
 * “temporal_pos” [T, C] and “spatial_pos” [HW, C] added; other token
 * counts are refused (V2 too: its blocks pool T×H×W maps). */
TvwVal tvw_net_mvit_pos_encoding (TvwNet      *net,
                              TvwVal         x,
                              const char    *name,
                              int            channels,
                              int            temporal,
                              int            spatial,
                              gboolean       with_pos);
/* Pool “@name” without its norm: [B, (heads,) 1 + T·H·W, C] → [B,
 * (heads,) 1 + T'·H'·W', C], by the depthwise Conv3d “@name.weight”
 * [C, 1, k…] or a MaxPool3d; @out_thw receives T', H', W'. */
TvwVal tvw_net_mvit_pool     (TvwNet                  *net,
                              TvwVal                   x,
                              const char              *name,
                              const TvwMvitPoolParams *params,
                              int                      out_thw[3]);
void   tvw_mvit_pool_out_thw (const TvwMvitPoolParams *params,
                              int                      out_thw[3]);
/* _add_rel_pos's bias from the pooled queries q [B, heads, 1 + Lq, D] and
 * “@name.rel_pos_h/w” [@spatial_dim, D], “@name.rel_pos_t”
 * [@temporal_dim, D] → [B, heads, 1 + Lq, 1 + Lk], zero in the class
 * token's row and column. */
TvwVal tvw_net_mvit_rel_pos  (TvwNet        *net,
                              TvwVal         q,
                              const char    *name,
                              const int      q_thw[3],
                              const int      k_thw[3],
                              int            spatial_dim,
                              int            temporal_dim);
/* ---- tvw-op-boxes.c: detection box arithmetic ----------------------- */
extern const TvwOpClass tvw_op_pad_to_multiple;
extern const TvwOpClass tvw_op_anchor_generator;
extern const TvwOpClass tvw_op_box_decode;
extern const TvwOpClass tvw_op_rescale_boxes;
extern const TvwOpClass tvw_op_remove_small_boxes;
extern const TvwOpClass tvw_op_score_topk;

typedef struct
{
  int multiple;
} TvwPadMultipleParams;

/* GeneralizedRCNNTransform.batch_images for a batch of one size: N×C×H×W
 * padded with zeros at the bottom and right to multiples of @multiple. */
TvwVal tvw_net_pad_to_multiple (TvwNet      *net,
                              TvwVal         x,
                              int            multiple);

#define TVW_ANCHOR_MAX_LEVELS    8
#define TVW_ANCHOR_MAX_PER_LEVEL 32

typedef struct
{
  int   n_levels;
  int   n_anchors[TVW_ANCHOR_MAX_LEVELS];
  float cell[TVW_ANCHOR_MAX_LEVELS][TVW_ANCHOR_MAX_PER_LEVEL][4];
} TvwAnchorParams;

/* AnchorGenerator.generate_anchors for @level of zero-initialised @p:
 * one cell anchor per (ratio, size), ratio major; FALSE when too many. */
gboolean tvw_anchor_params_set_level (TvwAnchorParams *p,
                              int            level,
                              int            n_sizes,
                              const double  *sizes,
                              int            n_ratios,
                              const double  *ratios);
/* AnchorGenerator.forward for the padded @image (N×C×H×W, only its shape
 * is read) and @params->n_levels feature maps: @anchors[l] receives level
 * l's (h·w·A)×4 anchors, torchvision's order (concatenate them for its
 * per-image tensor). */
void   tvw_net_anchor_generator (TvwNet     *net,
                              TvwVal         image,
                              const TvwVal  *features,
                              const TvwAnchorParams *params,
                              TvwVal        *anchors);

typedef enum
{
  TVW_BOX_CODER_NONE,            /* the codes are boxes: clip only */
  TVW_BOX_CODER_DELTAS,          /* BoxCoder.decode_single (weights) */
  TVW_BOX_CODER_LINEAR,          /* BoxLinearCoder.decode (FCOS) */
} TvwBoxCoder;

typedef struct
{
  int      coder;                /* TvwBoxCoder */
  double   weights[4];           /* DELTAS: (wx, wy, ww, wh) */
  gboolean normalize_by_size;    /* LINEAR */
  gboolean clip;                 /* set by the constructor */
} TvwBoxDecodeParams;

/* @codes K×(4·n) decoded against @boxes K×4 (each group of four against
 * its row's box) → K×(4·n); with @clip_to ≥ 0, clip_boxes_to_image to its
 * last two dimensions (h, w: an image whose shape only is read). */
TvwVal tvw_net_box_decode    (TvwNet        *net,
                              TvwVal         codes,
                              TvwVal         boxes,
                              TvwVal         clip_to,
                              const TvwBoxDecodeParams *params);
/* clip_boxes_to_image (boxes K×(4·n), image.shape[-2:]) */
TvwVal tvw_net_clip_boxes    (TvwNet        *net,
                              TvwVal         boxes,
                              TvwVal         image);
/* transform.postprocess: boxes K×4 (or keypoints K×P×3: x, y scaled, the
 * rest kept) from @resized's size to @original's (only their last two
 * dimensions are read; the sizes before padding). */
TvwVal tvw_net_rescale_boxes (TvwNet        *net,
                              TvwVal         boxes,
                              TvwVal         resized,
                              TvwVal         original);

/* The same on one box, for host ops' own loops (float32 like
 * torchvision): BoxCoder.decode_single with @weights (dw, dh clamped at
 * log (1000 / 16)); BoxLinearCoder.decode; clip_boxes_to_image to
 * @height × @width in place; whether remove_small_boxes drops @box. */
void     tvw_box_decode_deltas (const float  code[4],
                              const float    box[4],
                              const float    weights[4],
                              float          out[4]);
void     tvw_box_decode_linear (const float  code[4],
                              const float    box[4],
                              gboolean       normalize_by_size,
                              float          out[4]);
void     tvw_box_clip        (float          box[4],
                              float          height,
                              float          width);
gboolean tvw_box_is_small    (const float    box[4],
                              float          min_size);

typedef struct
{
  double min_size;
} TvwRemoveSmallParams;

/* box_ops.remove_small_boxes: indices (i64) of the boxes K×4 whose width
 * and height are ≥ @min_size; a host op. */
TvwVal tvw_net_remove_small_boxes (TvwNet   *net,
                              TvwVal         boxes,
                              double         min_size);

typedef enum
{
  TVW_SCORE_IDENTITY,            /* scores as given (SSD's softmax) */
  TVW_SCORE_SIGMOID,             /* sigmoid (logits): RetinaNet */
  TVW_SCORE_SIGMOID_CENTERNESS,  /* sqrt (sigmoid (logits) · sigmoid (ctr)): FCOS */
} TvwScoreMode;

typedef struct
{
  int      mode;                 /* TvwScoreMode */
  double   threshold;            /* kept when score > threshold */
  gint64   k;                    /* topk_candidates */
  gboolean per_class;            /* k per class, classes in order (SSD) */
  int      first_class;          /* classes before it are skipped (SSD's background) */
} TvwScoreTopkParams;

/* The candidates of one level (RetinaNet, FCOS) or image (SSD): @scores
 * [1,] rows×classes (logits or scores per @params->mode), @centerness
 * rows×1 for FCOS (else ignored), scores over the threshold, the k best
 * by decreasing score (all classes together, or per class one after the
 * other) → @values (f32), @rows and @labels (i64: index // classes and
 * index % classes); a host op, at most k (per class) long. */
void   tvw_net_score_topk    (TvwNet        *net,
                              TvwVal         scores,
                              TvwVal         centerness,
                              const TvwScoreTopkParams *params,
                              TvwVal        *values,
                              TvwVal        *rows,
                              TvwVal        *labels);

/* ---- tvw-op-ssd.c: SSD's L2 norm of conv4_3, its default boxes ------ */
extern const TvwOpClass tvw_op_ssd_l2_norm;
extern const TvwOpClass tvw_op_ssd_default_boxes;

#define TVW_SSD_MAX_LEVELS 8
#define TVW_SSD_MAX_RATIOS 4

/* DefaultBoxGenerator's configuration. */
typedef struct
{
  int      n_levels;
  int      n_ratios[TVW_SSD_MAX_LEVELS];
  double   ratios[TVW_SSD_MAX_LEVELS][TVW_SSD_MAX_RATIOS];
  double   scales[TVW_SSD_MAX_LEVELS + 1];
  double   steps[TVW_SSD_MAX_LEVELS];        /* ≤ 0: the map's own size */
  gboolean clip;
} TvwSsdDefaultBoxesParams;

/* scale_weight.view (1, -1, 1, 1) · F.normalize (x) on N×C×H×W, the
 * weight “@name.scale_weight” [C]. */
TvwVal tvw_net_ssd_l2_norm   (TvwNet        *net,
                              TvwVal         x,
                              const char    *name);
/* DefaultBoxGenerator (image_list, feature_maps) for the @image batch (only
 * its H×W is read) and params->n_levels feature maps (only their h×w):
 * → [A, 4] boxes (x1, y1, x2, y2) in the image's pixels. */
TvwVal tvw_net_ssd_default_boxes (TvwNet                         *net,
                              TvwVal                          image,
                              const TvwVal                   *features,
                              const TvwSsdDefaultBoxesParams *params);
/* ---- tvw-op-detection.c (more) and tvw-op-rcnn.c: the two-stage detectors --- */
extern const TvwOpClass tvw_op_multi_scale_roi_align;
extern const TvwOpClass tvw_op_rpn_proposals;
extern const TvwOpClass tvw_op_roi_candidates;
extern const TvwOpClass tvw_op_paste_masks;
extern const TvwOpClass tvw_op_heatmaps_to_keypoints;

/* torchvision.ops.batched_nms on plain arrays (boxes n×4, scores n, idxs
 * n, contiguous): writes the kept indices by decreasing score to @keep
 * and returns how many; @scratch holds tvw_batched_nms_scratch (n)
 * bytes. */
gsize    tvw_batched_nms_scratch  (gint64            n);
int      tvw_batched_nms          (const float      *boxes,
                                   const float      *scores,
                                   const gint64     *idxs,
                                   int               n,
                                   double            iou_threshold,
                                   gint64           *keep,
                                   guint8           *scratch);

#define TVW_MSRA_MAX_LEVELS 8

typedef struct
{
  int    out_h, out_w, sampling_ratio;
  double canonical_scale;
  int    canonical_level;
  double eps;
} TvwMultiScaleRoiAlignParams;

/* torchvision.ops.MultiScaleRoIAlign for one image: @boxes K×4 in the
 * resized image's coordinates, @image that image (only the last two
 * dimensions of its shape are read: image_sizes), the @n_levels feature
 * maps 1×C×Hₗ×Wₗ ('0', '1', … in order).  Each box is pooled (roi_align,
 * aligned=False) from the level the LevelMapper gives it (canonical size
 * 224 at level 4, eps 1e-6), the levels' scales inferred at run time
 * from the maps' heights.  → K×C×@out_size×@out_size */
TvwVal   tvw_net_multi_scale_roi_align (TvwNet       *net,
                                        TvwVal        boxes,
                                        TvwVal        image,
                                        int           n_levels,
                                        const TvwVal *features,
                                        int           out_size,
                                        int           sampling_ratio);

typedef struct
{
  int    n_levels;
  int    post_nms_top_n;
  double nms_thresh, score_thresh, min_size;
} TvwRpnProposalsParams;

/* The end of RegionProposalNetwork.filter_proposals for one image, given
 * per level its pre_nms_top_n best objectness logits (by decreasing
 * value) and their boxes, decoded and clipped: boxes under @min_size and
 * probabilities (sigmoid) under @score_thresh removed, NMS per level at
 * @nms_thresh, the first @post_nms_top_n by score → proposals P×4.  A host
 * op. */
TvwVal   tvw_net_rpn_proposals    (TvwNet                      *net,
                                   const TvwVal                *logits,
                                   const TvwVal                *boxes,
                                   const TvwRpnProposalsParams *params);

typedef struct
{
  double score_thresh, min_size;
} TvwRoiCandidatesParams;

/* The candidates of RoIHeads.postprocess_detections for one image:
 * @scores K×C (softmax), @boxes K×4C (decoded, clipped); every (RoI,
 * class ≥ 1) whose score is over @score_thresh and whose box is at least
 * @min_size wide and high, RoI-major → boxes M×4, scores M, labels M
 * (i64).  A host op. */
void     tvw_net_roi_candidates   (TvwNet                       *net,
                                   TvwVal                        scores,
                                   TvwVal                        boxes,
                                   const TvwRoiCandidatesParams *params,
                                   TvwVal                        outputs[3]);

/* maskrcnn_inference and transform.postprocess's paste_masks_in_image
 * for one image: the sigmoid of each detection's @labels channel of
 * @mask_logits K×C×M×M, padded by one zero, resized (bilinear) to its box
 * of @boxes K×4 (in @image's pixels) expanded by (M + 2) / M and pasted
 * into zeros the size of @image (only the last two dimensions of its
 * shape are read) → masks K×1×H×W. */
TvwVal   tvw_net_paste_masks      (TvwNet                       *net,
                                   TvwVal                        mask_logits,
                                   TvwVal                        labels,
                                   TvwVal                        boxes,
                                   TvwVal                        image);

/* roi_heads.heatmaps_to_keypoints: each heat map of @maps K×P×H×W
 * resized (bicubic) to its box of @boxes K×4 (rounded up, at least 1×1),
 * its first maximum's pixel centre in the box's coordinates → keypoints
 * K×P×3 (x, y, 1) and their scores K×P (the maxima). */
void     tvw_net_heatmaps_to_keypoints (TvwNet                  *net,
                                        TvwVal                   maps,
                                        TvwVal                   boxes,
                                        TvwVal                   outputs[2]);

G_END_DECLS
