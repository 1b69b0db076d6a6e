/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ops-cases-core.h: gradient-check cases for engine/layers/weft-layers-core.c. */
#pragma once

#include "ops-gradcheck.h"

static const WeftOpCase ops_cases_core[] = {
  { NULL }
};
