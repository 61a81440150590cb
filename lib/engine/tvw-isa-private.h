/* tvw-isa-private.h — the kernels' names in one instruction-set build
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernel sources are compiled once per instruction set, each time with
 * TVW_ISA defined to the set's name (avx512, avx2, generic).  There every
 * kernel takes that name as a suffix, so the builds link side by side and
 * call each other's functions within one set without going through the
 * dispatcher; tvw-cpu.c, compiled without TVW_ISA, defines the plain names
 * and forwards them to the set chosen at run time.
 *
 * The kernel headers include this one first.  A kernel added to them must
 * be added to TVW_ISA_KERNELS and renamed below too.
 */

#pragma once

/* Every dispatched kernel, for X-macros. */
#define TVW_ISA_KERNELS(X)                     \
  X (tvw_gemm_packed_floats)                   \
  X (tvw_gemm_pack_b)                          \
  X (tvw_gemm_packed)                          \
  X (tvw_gemm_transpose_panel_rows)            \
  X (tvw_gemm_mr)                              \
  X (tvw_conv_scratch_floats)                  \
  X (tvw_kernel_conv2d)                        \
  X (tvw_kernel_activation)                    \
  X (tvw_kernel_channel_affine)                \
  X (tvw_kernel_add)                           \
  X (tvw_kernel_scale_channels)                \
  X (tvw_kernel_max_pool2d)                    \
  X (tvw_kernel_avg_pool2d)                    \
  X (tvw_kernel_adaptive_avg_pool2d)           \
  X (tvw_kernel_nchw_to_nhwc)                  \
  X (tvw_kernel_nhwc_to_nchw)                  \
  X (tvw_activation_apply)                     \
  X (tvw_kernel_grouped_supports)              \
  X (tvw_kernel_grouped_conv2d)                \
  X (tvw_squeeze_excitation_scratch_floats)    \
  X (tvw_kernel_squeeze_excitation)            \
  X (tvw_squeeze_excitation_pack)              \
  X (tvw_winograd_choose)                      \
  X (tvw_winograd_packed_floats)               \
  X (tvw_winograd_pack)                        \
  X (tvw_winograd_scratch_floats)              \
  X (tvw_kernel_winograd_conv2d)              \
  X (tvw_qgemm_pack)                           \
  X (tvw_qconv_scratch_bytes)                  \
  X (tvw_kernel_qconv2d)                       \
  X (tvw_qgemm_variant)                        \
  X (tvw_qgemm_limit)                          \
  X (tvw_kernel_qadd)                          \
  X (tvw_kernel_softmax_rows)                  \
  X (tvw_kernel_layer_norm_rows)

#define TVW_ISA_PASTE_(name, isa) name##_##isa
#define TVW_ISA_PASTE(name, isa) TVW_ISA_PASTE_ (name, isa)

#ifdef TVW_ISA

/* @name in this set: tvw_gemm_packed → tvw_gemm_packed_avx2.  A macro
 * is not expanded again inside its own expansion, so each line below
 * renames exactly one identifier. */
# define TVW_ISA_FN(name) TVW_ISA_PASTE (name, TVW_ISA)

# define tvw_gemm_packed_floats TVW_ISA_FN (tvw_gemm_packed_floats)
# define tvw_gemm_pack_b TVW_ISA_FN (tvw_gemm_pack_b)
# define tvw_gemm_packed TVW_ISA_FN (tvw_gemm_packed)
# define tvw_gemm_transpose_panel_rows TVW_ISA_FN (tvw_gemm_transpose_panel_rows)
# define tvw_gemm_mr TVW_ISA_FN (tvw_gemm_mr)
# define tvw_conv_scratch_floats TVW_ISA_FN (tvw_conv_scratch_floats)
# define tvw_kernel_conv2d TVW_ISA_FN (tvw_kernel_conv2d)
# define tvw_kernel_activation TVW_ISA_FN (tvw_kernel_activation)
# define tvw_kernel_channel_affine TVW_ISA_FN (tvw_kernel_channel_affine)
# define tvw_kernel_add TVW_ISA_FN (tvw_kernel_add)
# define tvw_kernel_scale_channels TVW_ISA_FN (tvw_kernel_scale_channels)
# define tvw_kernel_max_pool2d TVW_ISA_FN (tvw_kernel_max_pool2d)
# define tvw_kernel_avg_pool2d TVW_ISA_FN (tvw_kernel_avg_pool2d)
# define tvw_kernel_adaptive_avg_pool2d TVW_ISA_FN (tvw_kernel_adaptive_avg_pool2d)
# define tvw_kernel_nchw_to_nhwc TVW_ISA_FN (tvw_kernel_nchw_to_nhwc)
# define tvw_kernel_nhwc_to_nchw TVW_ISA_FN (tvw_kernel_nhwc_to_nchw)
# define tvw_activation_apply TVW_ISA_FN (tvw_activation_apply)
# define tvw_kernel_grouped_supports TVW_ISA_FN (tvw_kernel_grouped_supports)
# define tvw_kernel_grouped_conv2d TVW_ISA_FN (tvw_kernel_grouped_conv2d)
# define tvw_squeeze_excitation_scratch_floats TVW_ISA_FN (tvw_squeeze_excitation_scratch_floats)
# define tvw_kernel_squeeze_excitation TVW_ISA_FN (tvw_kernel_squeeze_excitation)
# define tvw_squeeze_excitation_pack TVW_ISA_FN (tvw_squeeze_excitation_pack)
# define tvw_winograd_choose TVW_ISA_FN (tvw_winograd_choose)
# define tvw_winograd_packed_floats TVW_ISA_FN (tvw_winograd_packed_floats)
# define tvw_winograd_pack TVW_ISA_FN (tvw_winograd_pack)
# define tvw_winograd_scratch_floats TVW_ISA_FN (tvw_winograd_scratch_floats)
# define tvw_kernel_winograd_conv2d TVW_ISA_FN (tvw_kernel_winograd_conv2d)
# define tvw_qgemm_pack TVW_ISA_FN (tvw_qgemm_pack)
# define tvw_qconv_scratch_bytes TVW_ISA_FN (tvw_qconv_scratch_bytes)
# define tvw_kernel_qconv2d TVW_ISA_FN (tvw_kernel_qconv2d)
# define tvw_qgemm_variant TVW_ISA_FN (tvw_qgemm_variant)
# define tvw_qgemm_limit TVW_ISA_FN (tvw_qgemm_limit)
# define tvw_kernel_qadd TVW_ISA_FN (tvw_kernel_qadd)
# define tvw_kernel_softmax_rows TVW_ISA_FN (tvw_kernel_softmax_rows)
# define tvw_kernel_layer_norm_rows TVW_ISA_FN (tvw_kernel_layer_norm_rows)

#endif
