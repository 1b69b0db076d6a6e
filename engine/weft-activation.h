/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-activation.h: Keras activations, shared by Activation, Dense, Conv and RNN layers. */
#pragma once

#include "weft-types.h"

typedef enum
{
  WEFT_ACT_LINEAR,
  WEFT_ACT_RELU,
  WEFT_ACT_LEAKY_RELU,   /* alpha 0.3 as Keras' LeakyReLU default */
  WEFT_ACT_ELU,          /* alpha 1 */
  WEFT_ACT_SELU,
  WEFT_ACT_GELU,         /* exact erf form */
  WEFT_ACT_SIGMOID,
  WEFT_ACT_HARD_SIGMOID, /* Keras 2 / tfjs: clip(0.2x + 0.5, 0, 1) */
  WEFT_ACT_TANH,
  WEFT_ACT_SOFTMAX,      /* over the last axis */
  WEFT_ACT_SOFTPLUS,
  WEFT_ACT_SOFTSIGN,
  WEFT_ACT_SWISH,        /* x * sigmoid(x) */
  WEFT_ACT_COUNT
} WeftActivation;

/* Keras spellings, NULL-terminated, in enum order: the choices of every "activation" param. */
extern const char *const weft_activation_names[];

/* y = act(x) over n floats; softmax works on rows of `width` (the last axis). x == y allowed. */
void weft_activation_forward  (WeftActivation act, const float *x, float *y, size_t n, int width);
/* dx += act'(x) * dy, using the saved output y (and x where needed; every activation here
 * can be differentiated from y alone except gelu, swish, selu, elu, leaky_relu at 0 and
 * softplus, which use x). x may equal NULL only for activations that do not need it. */
void weft_activation_backward (WeftActivation act, const float *x, const float *y,
                               const float *dy, float *dx, size_t n, int width);
/* x += bias per row of `width` (bias may be NULL), then y = act(x); x keeps the
 * pre-activation when x != y for the activations that need it (weft_activation_needs_input;
 * relu, linear and softmax add the bias on the fly). The output pass of Dense/Conv after
 * the product. */
void weft_activation_forward_bias (WeftActivation act, float *x, const float *bias, float *y,
                                   size_t n, int width);
/* g = act'(.) * dy (assigns; g == dy allowed), for layers that fuse bias + activation. */
void weft_activation_grad (WeftActivation act, const float *x, const float *y,
                           const float *dy, float *g, size_t n, int width);
/* Multiply dy by act'(.) in place (dy := dy * act'), for layers that fuse bias + activation. */
/* weft_activation_grad, and db (+)= the column sums of g over rows of width (assigned when
 * `assign`): a layer's bias gradient, taken in the same pass for relu. */
void weft_activation_grad_sum_rows (WeftActivation act, const float *x, const float *y,
                                    const float *dy, float *g, size_t n, int width, float *db,
                                    bool assign);
void weft_activation_grad_inplace (WeftActivation act, const float *x, const float *y,
                                   float *dy, size_t n, int width);
bool weft_activation_needs_input (WeftActivation act);
