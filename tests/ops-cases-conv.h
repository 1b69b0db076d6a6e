/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-conv.h: gradient-check cases for engine/layers/weft-layers-conv.c
 * (see tests/ops-gradcheck.h for the row format). Odd sizes with padding=same put the odd
 * padding row/column at the bottom/right; smooth activations keep finite differences exact. */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_conv[] = {
  { "Conv1D", "valid", "filters=3 kernel_size=3", 1, { { 2, { 7, 2 } } } },
  { "Conv1D", "same-stride2-tanh", "filters=2 kernel_size=4 strides=2 padding=same activation=tanh",
    1, { { 2, { 9, 3 } } } },
  { "Conv1D", "causal-dilation2", "filters=2 kernel_size=3 padding=causal dilation_rate=2",
    1, { { 2, { 8, 2 } } } },
  { "Conv1D", "pointwise-nobias", "filters=3 kernel_size=1 use_bias=0", 1, { { 2, { 5, 4 } } } },
  { "Conv2D", "valid", "filters=3 kernel_size=3,3", 1, { { 3, { 5, 6, 2 } } } },
  { "Conv2D", "same-stride2-odd", "filters=2 kernel_size=3,2 strides=2,2 padding=same "
    "activation=sigmoid", 1, { { 3, { 7, 6, 2 } } } },
  { "Conv2D", "same-even-kernel", "filters=2 kernel_size=4 padding=same", 1,
    { { 3, { 5, 5, 2 } } } },
  { "Conv2D", "dilation-same", "filters=2 kernel_size=3 dilation_rate=2,1 padding=same "
    "use_bias=0", 1, { { 3, { 6, 5, 2 } } } },
  { "Conv2D", "dilation-valid", "filters=2 kernel_size=2 dilation_rate=2", 1,
    { { 3, { 5, 5, 1 } } } },
  { "Conv2D", "pointwise-1x1-swish", "filters=3 kernel_size=1 activation=swish", 1,
    { { 3, { 3, 4, 5 } } } },
  { "Conv2D", "1x1-stride2", "filters=2 kernel_size=1 strides=2", 1, { { 3, { 5, 5, 3 } } } },
  { "Conv2D", "softmax-channels", "filters=4 kernel_size=2 strides=1,2 activation=softmax", 1,
    { { 3, { 4, 5, 2 } } } },
  { "SeparableConv2D", "valid", "filters=3 kernel_size=3", 1, { { 3, { 5, 5, 2 } } } },
  { "SeparableConv2D", "same-mult2-stride2-tanh", "filters=2 kernel_size=3 depth_multiplier=2 "
    "strides=2 padding=same activation=tanh", 1, { { 3, { 7, 5, 2 } } } },
  { "SeparableConv2D", "dilation-nobias-gelu", "filters=2 kernel_size=2 dilation_rate=2 "
    "padding=same use_bias=0 activation=gelu", 1, { { 3, { 5, 6, 3 } } } },
  { "DepthwiseConv2D", "valid", "kernel_size=3", 1, { { 3, { 5, 6, 3 } } } },
  { "DepthwiseConv2D", "same-mult3-stride2-elu", "kernel_size=3,2 depth_multiplier=3 strides=2 "
    "padding=same activation=elu", 1, { { 3, { 7, 7, 2 } } } },
  { "DepthwiseConv2D", "dilation-nobias", "kernel_size=3 dilation_rate=2 padding=same use_bias=0",
    1, { { 3, { 6, 5, 2 } } } },
  { "Conv2DTranspose", "valid", "filters=2 kernel_size=3", 1, { { 3, { 3, 4, 2 } } } },
  { "Conv2DTranspose", "same-stride2", "filters=2 kernel_size=3 strides=2 padding=same", 1,
    { { 3, { 3, 3, 3 } } } },
  { "Conv2DTranspose", "valid-stride2-even-tanh", "filters=2 kernel_size=4,2 strides=2 "
    "activation=tanh", 1, { { 3, { 3, 2, 2 } } } },
  { "Conv2DTranspose", "valid-kernel-below-stride", "filters=2 kernel_size=2 strides=3", 1,
    { { 3, { 2, 3, 2 } } } },
  { "Conv2DTranspose", "same-stride3-k4-nobias", "filters=2 kernel_size=4 strides=3,2 "
    "padding=same use_bias=0", 1, { { 3, { 3, 2, 2 } } } },
  { "Conv2DTranspose", "pointwise-1x1", "filters=3 kernel_size=1", 1,
    { { 3, { 3, 3, 2 } } } },
  { NULL }
};
