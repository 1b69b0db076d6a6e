/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-optim.h: optimizers as pure functions over the flat parameter buffer (Keras formulas). */
#pragma once

#include "weft-graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One weight tensor's slice of the flat buffer. clipnorm works per slice as Keras does;
 * slices with trainable == false are left alone. */
typedef struct
{
  size_t offset;
  size_t count;
  bool   trainable;
  bool   decay;      /* AdamW applies weight decay to this slice (Keras: all variables) */
} WeftParamSlice;

typedef struct _WeftOptim WeftOptim;

/* NULL when out of memory. The state (moments, iteration count) lives inside. */
WeftOptim *weft_optim_new        (const WeftOptimConfig *config, size_t n_params);
void       weft_optim_free       (WeftOptim *optim);
void       weft_optim_set_learning_rate (WeftOptim *optim, float lr);
/* One update: params -= f(grads). grads may be modified (clipping). */
void       weft_optim_step       (WeftOptim *optim, float *params, float *grads,
                                  const WeftParamSlice *slices, int n_slices);
int64_t    weft_optim_iterations (const WeftOptim *optim);
/* Optimizer state for "continue training" and for saving: a flat float array. */
size_t     weft_optim_state_size (const WeftOptim *optim);
float     *weft_optim_state      (WeftOptim *optim);
void       weft_optim_set_iterations (WeftOptim *optim, int64_t iterations);

#ifdef __cplusplus
}
#endif
