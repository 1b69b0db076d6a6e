/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-layers-core.h: what other layer families reuse from the core family. */
#pragma once

#include "weft-op.h"

/* Dense's parameters, in registry order. TimeDistributed(Dense) lists the same parameters
 * after its "layer" choice and runs Dense itself on them. */
enum { DENSE_UNITS, DENSE_ACTIVATION, DENSE_USE_BIAS, DENSE_N_PARAMS };

extern const WeftOpDesc weft_dense_op;
