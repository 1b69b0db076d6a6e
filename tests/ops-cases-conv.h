/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-conv.h: gradient-check cases for engine/layers/weft-layers-conv.c
 * (see tests/ops-gradcheck.h for the row format). */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_conv[] = {
  { NULL }
};
