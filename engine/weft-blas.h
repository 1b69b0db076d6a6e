/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-blas.h: the one door to BLAS. Row-major C = alpha * op(A) op(B) + beta * C. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Element-wise loops that run over whole activations every step are compiled for the
 * widest vector unit of the CPU, chosen when the program loads (the build targets plain
 * x86-64). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define WEFT_VECTOR_CLONES __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define WEFT_VECTOR_CLONES
#endif

/* Products of at most WEFT_SGEMM_SMALL_MACS multiply-adds and WEFT_SGEMM_SMALL_N columns run
 * on the engine's own AVX-512 kernel (reads A and B in place) where the CPU has it; callers
 * that choose their chunk sizes (im2col) aim below these. */
#define WEFT_SGEMM_SMALL_MACS ((int64_t) 1 << 21)
#define WEFT_SGEMM_SMALL_N    256

void weft_sgemm (bool trans_a, bool trans_b, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
/* C = A B + bias (added to every row), then max(C, 0) when relu, in one pass while C is in
 * registers, when the engine's small kernel takes the product; returns false without
 * touching C otherwise (the caller then multiplies and adds the bias itself). */
bool weft_sgemm_bias (int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                      float *c, int ldc, const float *bias, bool relu);
/* out[j] (+)= sum over rows of a[r * cols + j]: assigns when `assign`, adds otherwise (the
 * bias gradient of Dense and Conv). */
void weft_sum_rows (const float *a, int rows, int cols, bool assign, float *out);
/* Whether this CPU runs AVX-512F (the engine's own small kernels dispatch on it; checked
 * once, safe from any thread). */
bool weft_cpu_has_avx512 (void);
/* Threads BLAS may use (the trainer sets this from its config). */
void        weft_blas_set_threads (int threads);
int         weft_blas_get_threads (void);
/* Name of the kernel set OpenBLAS chose ("SkylakeX", "Haswell", "Prescott"...). */
const char *weft_blas_core_name   (void);
/* The best OPENBLAS_CORETYPE this CPU supports, or NULL when unknown / not x86. */
const char *weft_blas_best_core   (void);
