/* tvw-cpu.c — the kernels' dispatcher
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The kernel sources are compiled once per instruction set (see
 * tvw-isa-private.h); this file, compiled for the baseline, defines the
 * kernels' plain names and forwards each call to the set chosen on the
 * first one.  Within a set the kernels call each other directly, so the
 * indirection costs one call per kernel call, not per tile.
 */

#include "config.h"

#if defined(__x86_64__) || defined(__i386__)
# include <cpuid.h>
#endif

#include "tvw-cpu-private.h"
#include "tvw-gemm-private.h"
#include "tvw-kernels-private.h"
#include "tvw-kernels-grouped-private.h"
#include "tvw-kernels-se-private.h"
#include "tvw-kernels-winograd-private.h"
#include "tvw-kernels-qconv-private.h"
#include "tvw-kernels-rows-private.h"

/* One set: a pointer per kernel, each named as the kernel. */
typedef struct
{
#define FIELD(fn) __typeof__ (fn) *fn;
  TVW_ISA_KERNELS (FIELD)
#undef FIELD
} KernelSet;

#define DECLARE(fn, isa) extern __typeof__ (fn) TVW_ISA_PASTE (fn, isa);
#define ENTRY(fn, isa) TVW_ISA_PASTE (fn, isa),

#define DECLARE_GENERIC(fn) DECLARE (fn, generic)
#define ENTRY_GENERIC(fn) ENTRY (fn, generic)
TVW_ISA_KERNELS (DECLARE_GENERIC)
static const KernelSet generic_set = { TVW_ISA_KERNELS (ENTRY_GENERIC) };

#ifdef TVW_HAVE_ISA_AVX2
# define DECLARE_AVX2(fn) DECLARE (fn, avx2)
# define ENTRY_AVX2(fn) ENTRY (fn, avx2)
TVW_ISA_KERNELS (DECLARE_AVX2)
static const KernelSet avx2_set = { TVW_ISA_KERNELS (ENTRY_AVX2) };
#endif

#ifdef TVW_HAVE_ISA_AVX512
# define DECLARE_AVX512(fn) DECLARE (fn, avx512)
# define ENTRY_AVX512(fn) ENTRY (fn, avx512)
TVW_ISA_KERNELS (DECLARE_AVX512)
static const KernelSet avx512_set = { TVW_ISA_KERNELS (ENTRY_AVX512) };
#endif

static const char *const set_names[] = { "generic", "avx2", "avx512" };

const char *
tvw_cpu_set_name (TvwCpuSet set)
{
  g_return_val_if_fail (set >= TVW_CPU_GENERIC && set <= TVW_CPU_AVX512, NULL);

  return set_names[set];
}

#if defined(__x86_64__) || defined(__i386__)
/* __builtin_cpu_supports() of clang 14 knows no "f16c". */
static gboolean
cpu_has_f16c (void)
{
  unsigned int eax, ebx, ecx, edx;

  return __get_cpuid (1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}
#endif

TvwCpuSet
tvw_cpu_best (void)
{
#if defined(__x86_64__) || defined(__i386__)
  /* What each set was compiled with (lib/meson.build); the builtins also
   * check that the OS saves the vector registers. */
  __builtin_cpu_init ();
# ifdef TVW_HAVE_ISA_AVX512
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
      __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl") &&
      __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") && cpu_has_f16c ())
    return TVW_CPU_AVX512;
# endif
# ifdef TVW_HAVE_ISA_AVX2
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") && cpu_has_f16c ())
    return TVW_CPU_AVX2;
# endif
#endif
  return TVW_CPU_GENERIC;
}

TvwCpuSet
tvw_cpu_choose (const char *request,
                TvwCpuSet   best)
{
  if (request == NULL || *request == '\0')
    return best;

  for (TvwCpuSet set = TVW_CPU_GENERIC; set <= TVW_CPU_AVX512; set++)
    if (g_ascii_strcasecmp (request, set_names[set]) == 0)
      {
        if (set > best)
          {
            g_message ("TVW_CPU=%s: this CPU (or build) has no %s, running %s",
                       request, set_names[set], set_names[best]);
            return best;
          }
        return set;
      }

  g_warning ("TVW_CPU=%s is none of avx512, avx2 and generic; ignored", request);
  return best;
}

static gsize chosen;  /* the KernelSet, once chosen */
static TvwCpuSet chosen_set;

static const KernelSet *
choose (void)
{
  chosen_set = tvw_cpu_choose (g_getenv ("TVW_CPU"), tvw_cpu_best ());
  g_debug ("kernels: %s", set_names[chosen_set]);

  switch (chosen_set)
    {
#ifdef TVW_HAVE_ISA_AVX512
    case TVW_CPU_AVX512:
      return &avx512_set;
#endif
#ifdef TVW_HAVE_ISA_AVX2
    case TVW_CPU_AVX2:
      return &avx2_set;
#endif
    default:
      return &generic_set;
    }
}

static inline const KernelSet *
kernels (void)
{
  if (g_once_init_enter (&chosen))
    g_once_init_leave (&chosen, (gsize) choose ());

  return (const KernelSet *) chosen;
}

const char *
tvw_engine_cpu_name (void)
{
  kernels ();

  return set_names[chosen_set];
}

/* The forwarders, in the order of the headers. */

gsize
tvw_gemm_packed_floats (int k,
                        int n)
{
  return kernels ()->tvw_gemm_packed_floats (k, n);
}

void
tvw_gemm_pack_b (const float *b,
                 int          k,
                 int          n,
                 gsize        ldb,
                 float       *packed)
{
  kernels ()->tvw_gemm_pack_b (b, k, n, ldb, packed);
}

void
tvw_gemm_packed (int            m,
                 int            k,
                 const float   *a,
                 gsize          lda,
                 const float   *packed,
                 int            n,
                 int            panel_begin,
                 int            panel_end,
                 float         *c,
                 gsize          ldc,
                 const float   *bias,
                 const float   *residual,
                 gsize          ldr,
                 TvwActivation  act)
{
  kernels ()->tvw_gemm_packed (m, k, a, lda, packed, n, panel_begin, panel_end,
                               c, ldc, bias, residual, ldr, act);
}

void
tvw_gemm_transpose_panel_rows (const float *const  src[TVW_GEMM_NR],
                               const double       *s,
                               int                 ci,
                               float              *dst)
{
  kernels ()->tvw_gemm_transpose_panel_rows (src, s, ci, dst);
}

int
tvw_gemm_mr (void)
{
  return kernels ()->tvw_gemm_mr ();
}

gsize
tvw_conv_scratch_floats (const TvwConvParams *p,
                         int                  n_threads)
{
  return kernels ()->tvw_conv_scratch_floats (p, n_threads);
}

void
tvw_kernel_conv2d (const TvwConvParams *p,
                   const float         *input,
                   const float         *residual,
                   float               *output,
                   float               *scratch,
                   gsize                scratch_per_thread,
                   int                  n_threads)
{
  kernels ()->tvw_kernel_conv2d (p, input, residual, output, scratch,
                                 scratch_per_thread, n_threads);
}

void
tvw_kernel_activation (float         *data,
                       gsize          count,
                       TvwActivation  act,
                       int            n_threads)
{
  kernels ()->tvw_kernel_activation (data, count, act, n_threads);
}

void
tvw_kernel_channel_affine (const float   *input,
                           gsize          in_pitch,
                           float         *output,
                           gsize          rows,
                           int            c,
                           const float   *scale,
                           const float   *shift,
                           TvwActivation  act,
                           int            n_threads)
{
  kernels ()->tvw_kernel_channel_affine (input, in_pitch, output, rows, c, scale, shift,
                                         act, n_threads);
}

void
tvw_kernel_add (const float   *a,
                const float   *b,
                float         *output,
                gsize          count,
                TvwActivation  act,
                int            n_threads)
{
  kernels ()->tvw_kernel_add (a, b, output, count, act, n_threads);
}

void
tvw_kernel_scale_channels (const float *input,
                           const float *gate,
                           float       *output,
                           int          n,
                           gsize        hw,
                           int          c,
                           int          n_threads)
{
  kernels ()->tvw_kernel_scale_channels (input, gate, output, n, hw, c, n_threads);
}

void
tvw_kernel_max_pool2d (const TvwPoolParams *p,
                       const float         *input,
                       float               *output,
                       int                  n_threads)
{
  kernels ()->tvw_kernel_max_pool2d (p, input, output, n_threads);
}

void
tvw_kernel_avg_pool2d (const TvwPoolParams *p,
                       const float         *input,
                       float               *output,
                       int                  n_threads)
{
  kernels ()->tvw_kernel_avg_pool2d (p, input, output, n_threads);
}

void
tvw_kernel_adaptive_avg_pool2d (const TvwPoolParams *p,
                                const float         *input,
                                float               *output,
                                int                  n_threads)
{
  kernels ()->tvw_kernel_adaptive_avg_pool2d (p, input, output, n_threads);
}

void
tvw_kernel_nchw_to_nhwc (const float *input,
                         float       *output,
                         int          n,
                         int          c,
                         int          h,
                         int          w,
                         int          n_threads)
{
  kernels ()->tvw_kernel_nchw_to_nhwc (input, output, n, c, h, w, n_threads);
}

void
tvw_kernel_nhwc_to_nchw (const float *input,
                         float       *output,
                         int          n,
                         int          h,
                         int          w,
                         int          c,
                         int          n_threads)
{
  kernels ()->tvw_kernel_nhwc_to_nchw (input, output, n, h, w, c, n_threads);
}

float
tvw_activation_apply (float         x,
                      TvwActivation act)
{
  return kernels ()->tvw_activation_apply (x, act);
}

gboolean
tvw_kernel_grouped_supports (const TvwConvParams *p)
{
  return kernels ()->tvw_kernel_grouped_supports (p);
}

void
tvw_kernel_grouped_conv2d (const TvwConvParams *p,
                           const float         *input,
                           const float         *residual,
                           float               *output,
                           int                  n_threads)
{
  kernels ()->tvw_kernel_grouped_conv2d (p, input, residual, output, n_threads);
}

gsize
tvw_squeeze_excitation_scratch_floats (const TvwSeParams *p)
{
  return kernels ()->tvw_squeeze_excitation_scratch_floats (p);
}

void
tvw_kernel_squeeze_excitation (const TvwSeParams *p,
                               const float       *input,
                               float             *output,
                               float             *scratch,
                               int                n_threads)
{
  kernels ()->tvw_kernel_squeeze_excitation (p, input, output, scratch, n_threads);
}

void
tvw_squeeze_excitation_pack (const float *w2,
                             int          c,
                             int          squeeze,
                             float       *w2t)
{
  kernels ()->tvw_squeeze_excitation_pack (w2, c, squeeze, w2t);
}

int
tvw_winograd_choose (const TvwConvParams *p)
{
  return kernels ()->tvw_winograd_choose (p);
}

gsize
tvw_winograd_packed_floats (int cin,
                            int cout,
                            int tile)
{
  return kernels ()->tvw_winograd_packed_floats (cin, cout, tile);
}

void
tvw_winograd_pack (const float  *weight,
                   const double *scale,
                   int           cin,
                   int           cout,
                   int           tile,
                   int           panel_begin,
                   int           panel_end,
                   float        *packed)
{
  kernels ()->tvw_winograd_pack (weight, scale, cin, cout, tile, panel_begin, panel_end, packed);
}

gsize
tvw_winograd_scratch_floats (const TvwConvParams *p,
                             int                  n_threads)
{
  return kernels ()->tvw_winograd_scratch_floats (p, n_threads);
}

void
tvw_kernel_winograd_conv2d (const TvwConvParams *p,
                            const float         *input,
                            const float         *residual,
                            float               *output,
                            float               *scratch,
                            gsize                scratch_per_thread,
                            int                  n_threads)
{
  kernels ()->tvw_kernel_winograd_conv2d (p, input, residual, output, scratch,
                                          scratch_per_thread, n_threads);
}

void
tvw_qgemm_pack (const float *w,
                int          n,
                int          cin_g,
                int          taps,
                gint8       *packed,
                gint32      *col_sum)
{
  kernels ()->tvw_qgemm_pack (w, n, cin_g, taps, packed, col_sum);
}

gsize
tvw_qconv_scratch_bytes (const TvwQConvParams *p)
{
  return kernels ()->tvw_qconv_scratch_bytes (p);
}

void
tvw_kernel_qconv2d (const TvwQConvParams *p,
                    const guint8         *x,
                    guint8               *y,
                    guint8               *scratch,
                    int                   n_threads)
{
  kernels ()->tvw_kernel_qconv2d (p, x, y, scratch, n_threads);
}

int
tvw_qgemm_variant (void)
{
  return kernels ()->tvw_qgemm_variant ();
}

int
tvw_qgemm_limit (int max_variant)
{
  return kernels ()->tvw_qgemm_limit (max_variant);
}

void
tvw_kernel_qadd (const guint8 *a,
                 float         a_scale,
                 int           a_zero,
                 const guint8 *b,
                 float         b_scale,
                 int           b_zero,
                 guint8       *y,
                 gsize         n,
                 float         y_scale,
                 int           y_zero,
                 gboolean      relu)
{
  kernels ()->tvw_kernel_qadd (a, a_scale, a_zero, b, b_scale, b_zero, y, n, y_scale, y_zero, relu);
}

void
tvw_kernel_softmax_rows (float              *x,
                         gsize               ld,
                         gsize               rows,
                         gsize               n,
                         int                 n_bias,
                         const float *const *bias,
                         const gsize        *bias_ld)
{
  kernels ()->tvw_kernel_softmax_rows (x, ld, rows, n, n_bias, bias, bias_ld);
}

void
tvw_kernel_layer_norm_rows (const float *x,
                            float       *y,
                            gsize        rows,
                            gsize        n,
                            const float *w,
                            const float *b,
                            double       eps)
{
  kernels ()->tvw_kernel_layer_norm_rows (x, y, rows, n, w, b, eps);
}
