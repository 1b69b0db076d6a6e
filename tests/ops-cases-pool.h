/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-pool.h: gradient-check cases for engine/layers/weft-layers-pool.c
 * (see tests/ops-gradcheck.h for the row format). */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_pool[] = {
  { "MaxPooling1D", "default", "", 1, { { 2, { 8, 3 } } } },
  { "MaxPooling1D", "same-stride1", "pool_size=3 strides=1 padding=same", 1,
    { { 2, { 7, 2 } } } },
  { "MaxPooling2D", "default", "", 1, { { 3, { 6, 5, 2 } } } },
  { "MaxPooling2D", "same-odd", "pool_size=3,2 strides=2 padding=same", 1,
    { { 3, { 7, 5, 2 } } } },
  { "MaxPooling2D", "overlap-stride1", "pool_size=2 strides=1", 1, { { 3, { 4, 4, 2 } } } },
  { "AveragePooling1D", "same", "pool_size=2 padding=same", 1, { { 2, { 7, 2 } } } },
  { "AveragePooling1D", "valid-stride1", "pool_size=3 strides=1", 1, { { 2, { 6, 3 } } } },
  { "AveragePooling2D", "valid", "pool_size=2", 1, { { 3, { 6, 6, 2 } } } },
  { "AveragePooling2D", "same-excludes-padding", "pool_size=3 strides=2 padding=same", 1,
    { { 3, { 5, 7, 2 } } } },
  { "GlobalMaxPooling1D", "default", "", 1, { { 2, { 5, 3 } } } },
  { "GlobalMaxPooling1D", "keepdims", "keepdims=1", 1, { { 2, { 4, 2 } } } },
  { "GlobalMaxPooling2D", "default", "", 1, { { 3, { 4, 3, 2 } } } },
  { "GlobalAveragePooling1D", "default", "", 1, { { 2, { 5, 3 } } } },
  { "GlobalAveragePooling2D", "default", "", 1, { { 3, { 4, 3, 2 } } } },
  { "GlobalAveragePooling2D", "keepdims", "keepdims=1", 1, { { 3, { 3, 3, 2 } } } },
  { NULL }
};
