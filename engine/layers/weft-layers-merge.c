/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-op.h"

const WeftOpDesc *const weft_layers_merge[] = {
  NULL
};
