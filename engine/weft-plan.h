/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-plan.h: a compiled model. Nested model calls are inlined, the nodes the outputs need
 * are sorted topologically (Kahn), every layer's weights get a slice of one flat parameter
 * buffer, and activations, gradients and per-call state get slices of one arena sized for
 * max_batch rows. Nothing is allocated by forward or backward. */
#pragma once

#include "weft-graph.h"
#include "weft-optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _WeftPlan WeftPlan;

/* Compiles the main model of graph. Weights without data are initialised first
 * (weft_graph_init_weights with seed). Fails with the first validation error. */
WeftPlan        *weft_plan_new            (WeftGraph *graph, int max_batch, uint64_t seed,
                                           WeftError *error);
/* The same for forward passes only (prediction): no gradients, and values share memory
 * where their lifetimes in the forward pass do not overlap, so only the model's inputs and
 * outputs keep theirs; weft_plan_backward, weft_plan_output_grad and
 * weft_plan_first_nonfinite must not be called on it. */
WeftPlan        *weft_plan_new_inference  (WeftGraph *graph, int max_batch, uint64_t seed,
                                           WeftError *error);
void             weft_plan_free           (WeftPlan *plan);
int              weft_plan_max_batch      (const WeftPlan *plan);

int              weft_plan_n_inputs       (const WeftPlan *plan);
const char      *weft_plan_input_name     (const WeftPlan *plan, int i);
const WeftShape *weft_plan_input_shape    (const WeftPlan *plan, int i);
/* Input i's own buffer of max_batch rows, to be filled; the next forward reads it. */
float           *weft_plan_input          (WeftPlan *plan, int i);
/* The next forward passes read input i's batch rows straight from `rows` (no copy) until
 * weft_plan_input (i) is called again; rows must stay valid and unchanged until then. */
void             weft_plan_set_input_rows (WeftPlan *plan, int i, const float *rows);
int              weft_plan_n_outputs      (const WeftPlan *plan);
const char      *weft_plan_output_name    (const WeftPlan *plan, int j);
const WeftShape *weft_plan_output_shape   (const WeftPlan *plan, int j);
const WeftHead  *weft_plan_head           (const WeftPlan *plan, int j);
const float     *weft_plan_output         (const WeftPlan *plan, int j);
/* Output j's gradient: set it before every backward pass (for the first head on a tensor
 * it is that tensor's own gradient buffer, which backward adds the other readers' parts to). */
float           *weft_plan_output_grad    (WeftPlan *plan, int j);
/* The activation (WeftActivation) output j ends with when it is written by a call that can
 * take the gradient of its pre-activation z instead of the output's and read by nothing
 * else; -1 otherwise. */
int              weft_plan_output_activation (const WeftPlan *plan, int j);
/* on: from now on weft_plan_output_grad (j) holds dL/dz, the pre-activation gradient (for a
 * cross-entropy on softmax or sigmoid p - target, which saves the activation's backward and
 * is exact where the probabilities' gradient is clipped). Returns false when output j
 * cannot take it (weft_plan_output_activation is -1) and on was asked. */
bool             weft_plan_set_output_preact_grad (WeftPlan *plan, int j, bool on);

/* Runs every needed node for `batch` rows (<= max_batch). */
void             weft_plan_forward        (WeftPlan *plan, int batch, bool training);
/* Zeroes all gradients (activations and parameters), then back-propagates the output
 * gradients set with weft_plan_output_grad; parameter gradients of shared layers add up. */
void             weft_plan_backward       (WeftPlan *plan, int batch);
/* Name of the layer of the first node (in execution order) whose output holds NaN/Inf in
 * the first `batch` rows, or NULL when all are finite. */
const char      *weft_plan_first_nonfinite (const WeftPlan *plan, int batch);

float           *weft_plan_params         (WeftPlan *plan, size_t *n);
float           *weft_plan_grads          (WeftPlan *plan, size_t *n);   /* NULL: inference */
const WeftParamSlice *weft_plan_slices    (const WeftPlan *plan, int *n);
/* Layer and weight of a slice (for reports). */
const char      *weft_plan_slice_name     (const WeftPlan *plan, int slice);
/* Copies the flat parameters back into the graph's layer weights. */
void             weft_plan_store_weights  (const WeftPlan *plan, WeftGraph *graph);
/* Re-reads weights from the graph (after loading new ones). */
void             weft_plan_load_weights   (WeftPlan *plan, const WeftGraph *graph);
void             weft_plan_set_threads    (WeftPlan *plan, int threads);
void             weft_plan_set_seed       (WeftPlan *plan, uint64_t seed); /* dropout RNG */
/* Bytes of the arena and of the parameters (for the benchmark and memory reports). */
size_t           weft_plan_arena_bytes    (const WeftPlan *plan);

#ifdef __cplusplus
}
#endif

/* For inputs that feed integer-id layers (Embedding): checks that every value of `rows`
 * samples is an integer id inside the layer's range. False with a message naming the input,
 * the sample and the value. */
bool             weft_plan_check_input_values (const WeftPlan *plan, int i, const float *data,
                                               int64_t rows, char *why, size_t why_len);
