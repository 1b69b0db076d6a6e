/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-reshape.h: gradient-check cases for engine/layers/weft-layers-reshape.c
 * (see tests/ops-gradcheck.h for the row format). */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_reshape[] = {
  { "ZeroPadding1D", "default", "", 1, { { 2, { 4, 2 } } } },
  { "ZeroPadding1D", "asym", "padding=2,1", 1, { { 2, { 3, 3 } } } },
  { "ZeroPadding2D", "one-number", "padding=1", 1, { { 3, { 3, 4, 2 } } } },
  { "ZeroPadding2D", "four-numbers", "padding=1,2,0,3", 1, { { 3, { 3, 2, 2 } } } },
  { "Cropping1D", "default", "", 1, { { 2, { 5, 2 } } } },
  { "Cropping1D", "asym", "cropping=0,2", 1, { { 2, { 5, 3 } } } },
  { "Cropping2D", "rows-cols", "cropping=1,2", 1, { { 3, { 5, 6, 2 } } } },
  { "Cropping2D", "four-numbers", "cropping=1,2,2,0", 1, { { 3, { 6, 5, 2 } } } },
  { "UpSampling1D", "size3", "size=3", 1, { { 2, { 3, 2 } } } },
  { "UpSampling2D", "size2x3", "size=2,3", 1, { { 3, { 2, 3, 2 } } } },
  { "Permute", "swap", "dims=2,1", 1, { { 2, { 3, 4 } } } },
  { "Permute", "rotate3", "dims=3,1,2", 1, { { 3, { 2, 3, 4 } } } },
  { "Permute", "rank4", "dims=2,4,1,3", 1, { { 4, { 2, 3, 2, 3 } } } },
  { NULL }
};
