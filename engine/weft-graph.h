/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-graph.h: the editable graph, Keras functional-API semantics.
 *
 *  - A *layer* has a type (registry op), a unique name, a config and weights.
 *  - A *model* has named inputs (nodes of Input layers) and outputs (heads). One model is
 *    the main model; others are models used as layers.
 *  - A *node* is one call, inside one model, of a layer or of another model (the callee).
 *    Calling a layer again makes a second node sharing its weights; calling a model reuses
 *    the weights of all its layers. A node of a model callee has one output port per
 *    output of that model; other nodes have one output port.
 *
 * Layers, models and nodes share one id space; ids are stable and never reused. */
#pragma once

#include "weft-op.h"
#include "weft-loss.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _WeftGraph WeftGraph;

typedef enum
{
  WEFT_KIND_NONE,
  WEFT_KIND_LAYER,
  WEFT_KIND_MODEL,
  WEFT_KIND_NODE,
} WeftKind;

/* A model output with its training settings (Keras compile(loss=..., loss_weights=...)). */
typedef struct
{
  WeftId     node;
  int        port;
  WeftLoss   loss;          /* WEFT_LOSS_NONE = no loss (an error for the main model) */
  float      weight;        /* loss weight, default 1 */
  bool       from_logits;
  WeftMetric metric;        /* WEFT_METRIC_NONE, or one metric reported beside the loss */
  float      huber_delta;   /* default 1 */
} WeftHead;

/* A weight tensor of a layer; data is NULL until initialised or loaded. */
typedef struct
{
  WeftWeightSpec spec;
  float         *data;
} WeftWeight;

typedef struct
{
  WeftStatus code;
  WeftId     node;          /* WEFT_ID_NONE when the problem is the model's */
  int        port;          /* input port, or -1 */
  WeftId     model;
  char       message[320];
} WeftDiagnostic;

WeftGraph  *weft_graph_new              (void);
void        weft_graph_free             (WeftGraph *graph);           /* NULL-safe */
/* Deep copy with weights (the trainer's worker gets its own). */
WeftGraph  *weft_graph_dup              (const WeftGraph *graph);
/* Deep copy without weight data (shapes kept, data NULL): cheap snapshots for undo. */
WeftGraph  *weft_graph_dup_structure    (const WeftGraph *graph);
/* Moves weight data, without copying, from src to dst for every weight of a layer id present
 * in both (same type) that has no data in dst and the same name and shape in src; src's
 * weight is left empty. Returns how many weight tensors moved. */
int         weft_graph_move_weights     (WeftGraph *dst, WeftGraph *src);
/* Bumped by every change; cheap "did it change?" for caches. */
uint64_t    weft_graph_get_serial       (const WeftGraph *graph);
WeftKind    weft_graph_kind             (const WeftGraph *graph, WeftId id);
/* Looks a layer or model up by name; WEFT_ID_NONE when absent. */
WeftId      weft_graph_find             (const WeftGraph *graph, const char *name);

/* ---- layers ---- */
/* New layer of a registry type with default config. name NULL: "dense", "dense_1", ... like
 * Keras. Fails (WEFT_ERROR_UNKNOWN_TYPE / WEFT_ERROR_INVALID) with a message. */
WeftId      weft_graph_add_layer        (WeftGraph *graph, const char *type, const char *name,
                                         WeftError *error);
bool        weft_graph_remove_layer     (WeftGraph *graph, WeftId layer);  /* and its nodes */
const WeftOpDesc *weft_graph_layer_op   (const WeftGraph *graph, WeftId layer);
/* Borrowed; n_params values in spec order. */
const WeftValue  *weft_graph_layer_config (const WeftGraph *graph, WeftId layer);
bool        weft_graph_layer_set_param  (WeftGraph *graph, WeftId layer, const char *param,
                                         const WeftValue *value, WeftError *error);
bool        weft_graph_layer_set_trainable (WeftGraph *graph, WeftId layer, bool trainable);
bool        weft_graph_layer_get_trainable (const WeftGraph *graph, WeftId layer);
/* Weights as known after weft_graph_analyse (shapes) and weft_graph_init_weights (data).
 * Borrowed, valid until the next change of the graph. */
const WeftWeight *weft_graph_layer_weights (const WeftGraph *graph, WeftId layer, int *n);
/* Copies data into the named weight; the shape must equal the analysed one. */
bool        weft_graph_set_weight       (WeftGraph *graph, WeftId layer, const char *weight,
                                         const WeftShape *shape, const float *data,
                                         WeftError *error);
/* Initialise every weight that has a shape but no data (Keras initialisers, seeded).
 * False when an allocation failed (those weights stay without data). */
bool        weft_graph_init_weights     (WeftGraph *graph, uint64_t seed);
/* Drop all weight data (re-initialised on the next init). */
void        weft_graph_reset_weights    (WeftGraph *graph);

/* ---- models ---- */
WeftId      weft_graph_add_model        (WeftGraph *graph, const char *name, WeftError *error);
bool        weft_graph_remove_model     (WeftGraph *graph, WeftId model); /* and its nodes */
WeftId      weft_graph_get_main_model   (const WeftGraph *graph);
void        weft_graph_set_main_model   (WeftGraph *graph, WeftId model);
/* Inputs are nodes of Input layers inside the model, in order. */
bool        weft_graph_model_add_input  (WeftGraph *graph, WeftId model, WeftId node,
                                         WeftError *error);
bool        weft_graph_model_remove_input (WeftGraph *graph, WeftId model, WeftId node);
int         weft_graph_model_n_inputs   (const WeftGraph *graph, WeftId model);
WeftId      weft_graph_model_input      (const WeftGraph *graph, WeftId model, int i);
/* Outputs (heads) in order; head->node/port name the output tensor. */
bool        weft_graph_model_add_output (WeftGraph *graph, WeftId model, const WeftHead *head,
                                         WeftError *error);
bool        weft_graph_model_remove_output (WeftGraph *graph, WeftId model, int i);
int         weft_graph_model_n_outputs  (const WeftGraph *graph, WeftId model);
const WeftHead *weft_graph_model_output (const WeftGraph *graph, WeftId model, int i);
bool        weft_graph_model_set_head   (WeftGraph *graph, WeftId model, int i,
                                         const WeftHead *head);
/* Name of an input: its Input layer's name. Name of an output: the name of the layer (or
 * model) whose node produces it, with "_<port>" for model nodes' ports > 0. */
const char *weft_graph_model_input_name  (const WeftGraph *graph, WeftId model, int i);
const char *weft_graph_model_output_name (const WeftGraph *graph, WeftId model, int i);

/* ---- names (layers and models) ---- */
const char *weft_graph_get_name         (const WeftGraph *graph, WeftId layer_or_model);
bool        weft_graph_set_name         (WeftGraph *graph, WeftId layer_or_model,
                                         const char *name, WeftError *error);

/* ---- nodes ---- */
/* A new call of `callee` (a layer or a model) inside `model`, inputs unconnected. */
WeftId      weft_graph_add_node         (WeftGraph *graph, WeftId model, WeftId callee,
                                         WeftError *error);
bool        weft_graph_remove_node      (WeftGraph *graph, WeftId node); /* wires too */
WeftId      weft_graph_node_model       (const WeftGraph *graph, WeftId node);
WeftId      weft_graph_node_callee      (const WeftGraph *graph, WeftId node);
int         weft_graph_node_n_inputs    (const WeftGraph *graph, WeftId node); /* wired slots */
int         weft_graph_node_n_outputs   (const WeftGraph *graph, WeftId node);
/* Source of input port `port`; false when unconnected. */
bool        weft_graph_node_input       (const WeftGraph *graph, WeftId node, int port,
                                         WeftId *src_node, int *src_port);
/* Connects src_node:src_port -> dst_node:dst_port (replacing a wire already there). Refuses,
 * with a reason, wires across models, into Input nodes, beyond a fixed input count, and
 * wires that would close a cycle. For a variadic merge, dst_port == n_inputs appends. */
bool        weft_graph_connect          (WeftGraph *graph, WeftId src_node, int src_port,
                                         WeftId dst_node, int dst_port, WeftError *error);
bool        weft_graph_can_connect      (const WeftGraph *graph, WeftId src_node, int src_port,
                                         WeftId dst_node, int dst_port, WeftError *error);
/* Removes the wire into dst_port; variadic merges close the gap. */
bool        weft_graph_disconnect       (WeftGraph *graph, WeftId dst_node, int dst_port);
void        weft_graph_node_get_position (const WeftGraph *graph, WeftId node,
                                          double *x, double *y);
void        weft_graph_node_set_position (WeftGraph *graph, WeftId node, double x, double y);

/* ---- enumeration (ids in creation order) ---- */
int         weft_graph_n_layers         (const WeftGraph *graph);
WeftId      weft_graph_layer_at         (const WeftGraph *graph, int i);
int         weft_graph_n_models         (const WeftGraph *graph);
WeftId      weft_graph_model_at         (const WeftGraph *graph, int i);
int         weft_graph_model_n_nodes    (const WeftGraph *graph, WeftId model);
WeftId      weft_graph_model_node_at    (const WeftGraph *graph, WeftId model, int i);
/* Nodes (in any model) calling this layer/model, in creation order. */
int         weft_graph_callee_n_nodes   (const WeftGraph *graph, WeftId callee);
WeftId      weft_graph_callee_node_at   (const WeftGraph *graph, WeftId callee, int i);

/* ---- analysis: shapes, weights' shapes, diagnostics ---- */
/* Infers every shape in every model, (re)sizes layer weights (dropping data whose shape
 * changed), and collects diagnostics. Returns the number of errors (warnings not counted).
 * Cheap enough to run after every edit. */
int         weft_graph_analyse          (WeftGraph *graph);
/* Borrowed list from the last analyse, errors and warnings, in model/node order. */
const WeftDiagnostic *weft_graph_diagnostics (const WeftGraph *graph, int *n);
/* First error of a node (NULL when fine), from the last analyse. */
const WeftDiagnostic *weft_graph_node_diagnostic (const WeftGraph *graph, WeftId node);
/* Output shape of a node port from the last analyse; false when unknown. */
bool        weft_graph_node_shape       (const WeftGraph *graph, WeftId node, int port,
                                         WeftShape *shape);
/* Errors of the main model only, the first into *error: what training needs. */
bool        weft_graph_validate         (WeftGraph *graph, WeftError *error);
/* Whether training the main model with batch samples per step fits in budget bytes of
 * memory (0: this computer's, see weft_memory_budget). Counted from below, before anything
 * is allocated: three floats per parameter (the weights, the training copy, the gradients)
 * and two per value of every call's output (value, gradient) for each sample. A hostile
 * file that claims a layer of 2^31 parameters or an activation of billions of values is
 * refused here, naming the biggest layer or call and what it needs ("layer 'd': 24.0 GiB
 * for 2147483647 parameters"), instead of being killed for memory later. Analyses first.
 * batch 0 checks the weights alone, as an export needs them (two floats per parameter: the
 * weights and the written copy). */
bool        weft_graph_check_memory     (WeftGraph *graph, int batch, uint64_t budget,
                                         WeftError *error);
/* Bytes this process may use: the physical memory, or less when an address-space or data
 * limit (ulimit -v / -d) is lower; 0 when unknown. */
uint64_t    weft_memory_budget          (void);
/* Parameters of a layer or model (shared layers once); false when shapes are unknown. */
bool        weft_graph_count_params     (const WeftGraph *graph, WeftId layer_or_model,
                                         int64_t *trainable, int64_t *non_trainable);

/* ---- training settings stored with the graph ---- */
typedef enum
{
  WEFT_OPTIM_SGD,
  WEFT_OPTIM_ADAM,
  WEFT_OPTIM_ADAMW,
  WEFT_OPTIM_RMSPROP,
} WeftOptimKind;

typedef struct
{
  WeftOptimKind kind;
  float learning_rate;      /* 1e-3 (SGD 1e-2) */
  float momentum;           /* SGD momentum, RMSprop momentum */
  bool  nesterov;
  float beta_1, beta_2;     /* 0.9, 0.999 */
  float epsilon;            /* 1e-7 */
  float rho;                /* RMSprop, 0.9 */
  float weight_decay;       /* AdamW, 0.004 */
  float clipnorm;           /* 0 = off; per weight tensor as Keras */
  float global_clipnorm;    /* 0 = off */
} WeftOptimConfig;

typedef struct
{
  WeftOptimConfig optimizer;
  int      epochs;            /* 10 */
  int      batch_size;        /* 32 */
  float    validation_split;  /* 0..<1, the last fraction of the samples, as Keras */
  bool     shuffle;           /* true */
  uint64_t seed;              /* 0 */
  int      threads;           /* 0 = automatic */
  char     data[512];         /* data source spec ("synthetic:NAME" or a path), may be "" */
} WeftTrainConfig;

void        weft_optim_config_defaults  (WeftOptimKind kind, WeftOptimConfig *config);
void        weft_train_config_defaults  (WeftTrainConfig *config);
const WeftTrainConfig *weft_graph_get_train_config (const WeftGraph *graph);
void        weft_graph_set_train_config (WeftGraph *graph, const WeftTrainConfig *config);

/* ---- Keras model.summary() ---- */
/* Writes the summary table of a model into buf (like snprintf: returns the length it
 * needed). Runs weft_graph_analyse first when needed. */
size_t      weft_graph_summary          (WeftGraph *graph, WeftId model, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
