/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-norm.h: gradient-check cases for engine/layers/weft-layers-norm.c
 * (see tests/ops-gradcheck.h for the row format). The cases run in training mode, so
 * BatchNormalization is checked with its full batch-statistics gradient. */
#pragma once

#include "ops-gradcheck.h"

#define NS1(a)       { 1, { a } }
#define NS2(a, b)    { 2, { a, b } }
#define NS3(a, b, c) { 3, { a, b, c } }

static const WeftOpCase ops_cases_norm[] = {
  { "BatchNormalization", "vector", "", 1, { NS1 (4) } },
  { "BatchNormalization", "image", "", 1, { NS3 (2, 2, 3) } },
  { "BatchNormalization", "sequence-no-center", "center=0 epsilon=0.01", 1, { NS2 (3, 2) } },
  { "BatchNormalization", "no-scale", "scale=0 momentum=0.5", 1, { NS2 (2, 3) } },
  { "LayerNormalization", "vector", "", 1, { NS1 (5) } },
  { "LayerNormalization", "sequence", "", 1, { NS2 (3, 4) } },
  { "LayerNormalization", "no-center-no-scale", "center=0 scale=0", 1, { NS2 (2, 4) } },
  { "LayerNormalization", "no-scale", "scale=0", 1, { NS3 (2, 2, 3) } },
  { NULL }
};

#undef NS1
#undef NS2
#undef NS3
