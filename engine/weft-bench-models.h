/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-bench-models.h: the reference models of the benchmark (../shared/bench/peer_torch.py)
 * built as WeftGraphs with the same layer specs, losses and parameter counts. */
#pragma once

#include "weft-graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct
{
  const char *name;          /* peer_torch.py --model */
  const char *variant;       /* peer_torch.py --variant, or NULL when the model has none */
  const char *label;         /* unique label: name, or name + "_" + variant */
  int         batch_sizes[2]; /* the batch sizes of the peer's spec; 0 = unused slot */
  int64_t     keras_params;  /* trainable parameters, as Keras counts them */
} WeftBenchModelInfo;

/* Number of reference models (each variant counts once) and their descriptions. */
int                        weft_bench_model_count  (void);
const WeftBenchModelInfo  *weft_bench_model_info   (int i);
/* Looks a model up by label ("seq_mlp", "social_three_heads", "social_three_heads_same");
 * NULL when unknown. */
const WeftBenchModelInfo  *weft_bench_model_lookup (const char *label);
/* Builds the model as a new graph (caller frees), analysed and valid. NULL with a message
 * in error when the label is unknown or the engine refused a step. */
WeftGraph                 *weft_bench_model_build  (const char *label, WeftError *error);

#ifdef __cplusplus
}
#endif
