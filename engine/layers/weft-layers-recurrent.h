/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-layers-recurrent.h: helpers of the Embedding and recurrent family that other parts of
 * the engine use (the trainer validates token ids before training). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True when every one of the n ids is a whole number in [0, input_dim). Otherwise false,
 * with the position of the first bad id in *bad_index (when non-NULL). NaN is bad. */
bool weft_embedding_check_ids (const float *ids, size_t n, int input_dim, size_t *bad_index);
