/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-merge.h: gradient-check cases for engine/layers/weft-layers-merge.c. */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_merge[] = {
  { NULL }
};
