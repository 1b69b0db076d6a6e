/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-core.h: gradient-check cases for engine/layers/weft-layers-core.c. */
#pragma once

#include "ops-gradcheck.h"

#define S1(a)       { 1, { a } }
#define S2(a, b)    { 2, { a, b } }
#define S3(a, b, c) { 3, { a, b, c } }

static const WeftOpCase ops_cases_core[] = {
  { "Dense", "vector", "units=3", 1, { S1 (4) } },
  { "Dense", "no-bias-tanh", "units=3 activation=tanh use_bias=0", 1, { S1 (5) } },
  { "Dense", "relu", "units=4 activation=relu", 1, { S1 (5) } },
  { "Dense", "sigmoid", "units=2 activation=sigmoid", 1, { S1 (3) } },
  { "Dense", "softmax", "units=4 activation=softmax", 1, { S1 (3) } },
  { "Dense", "gelu-sequence", "units=3 activation=gelu", 1, { S2 (3, 4) } },
  { "Dense", "swish-image", "units=2 activation=swish", 1, { S3 (2, 2, 3) } },
  { "Dense", "selu", "units=3 activation=selu", 1, { S1 (4) } },
  { "Activation", "linear", "activation=linear", 1, { S2 (2, 5) } },
  { "Activation", "relu", "activation=relu", 1, { S2 (2, 5) } },
  { "Activation", "leaky-relu", "activation=leaky_relu", 1, { S2 (2, 5) } },
  { "Activation", "elu", "activation=elu", 1, { S2 (2, 5) } },
  { "Activation", "selu", "activation=selu", 1, { S2 (2, 5) } },
  { "Activation", "gelu", "activation=gelu", 1, { S2 (2, 5) } },
  { "Activation", "sigmoid", "activation=sigmoid", 1, { S2 (2, 5) } },
  { "Activation", "hard-sigmoid", "activation=hard_sigmoid", 1, { S2 (2, 5) } },
  { "Activation", "tanh", "activation=tanh", 1, { S2 (2, 5) } },
  { "Activation", "softmax", "activation=softmax", 1, { S2 (2, 5) } },
  { "Activation", "softplus", "activation=softplus", 1, { S2 (2, 5) } },
  { "Activation", "softsign", "activation=softsign", 1, { S2 (2, 5) } },
  { "Activation", "swish", "activation=swish", 1, { S2 (2, 5) } },
  { "Dropout", "rate-0.4", "rate=0.4", 1, { S2 (3, 4) } },
  { "Dropout", "rate-0", "rate=0", 1, { S1 (5) } },
  { "Flatten", "image", "", 1, { S3 (2, 3, 2) } },
  { "Reshape", "infer-first", "target_shape=-1,3", 1, { S3 (2, 3, 2) } },
  { "Reshape", "explicit", "target_shape=3,2,2", 1, { S1 (12) } },
  { "RepeatVector", "three", "n=3", 1, { S1 (4) } },
  { NULL }
};

#undef S1
#undef S2
#undef S3
