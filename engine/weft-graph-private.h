/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-graph-private.h: the graph's structs, shared by weft-graph.c, weft-summary.c and
 * weft-plan.c. Nothing outside the engine core includes this. */
#pragma once

#include "weft-graph.h"

#include <stdlib.h>

/* Growable arrays of the engine: doubles the capacity (from 8) until `need` fits. */
static inline bool
_weft_grow (void **items, int *cap, int need, size_t item_size)
{
  if (need <= *cap)
    return true;
  int new_cap = *cap > 0 ? *cap * 2 : 8;
  while (new_cap < need)
    new_cap *= 2;
  void *p = realloc (*items, (size_t) new_cap * item_size);
  if (p == NULL)
    return false;
  *items = p;
  *cap = new_cap;
  return true;
}

#define GROW(arr, cap, need) _weft_grow ((void **) &(arr), &(cap), (need), sizeof *(arr))

typedef struct
{
  WeftId            id;
  char              name[WEFT_NAME_MAX];
  const WeftOpDesc *op;
  WeftValue        *cfg;            /* op->n_params values */
  bool              trainable;
  WeftWeight        weights[WEFT_MAX_WEIGHTS];
  int               n_weights;
  bool              weights_known;  /* shapes known from the last analyse */
} Layer;

typedef struct
{
  WeftId src;                       /* WEFT_ID_NONE: unconnected */
  int    port;
} Wire;

typedef struct
{
  WeftId     id;
  WeftId     model;
  WeftId     callee;
  Wire      *in;
  int        n_in;
  int        cap_in;
  double     x, y;
  /* analysis */
  WeftShape *out_shapes;
  int        n_out_shapes;
  bool      *out_known;
  int        diag;                  /* index of the first error diagnostic, -1 */
} Node;

typedef struct
{
  WeftId    id;
  char      name[WEFT_NAME_MAX];
  WeftId   *nodes;
  int       n_nodes, cap_nodes;
  WeftId   *inputs;
  int       n_inputs, cap_inputs;
  WeftHead *outputs;
  int       n_outputs, cap_outputs;
  char      output_name_buf[WEFT_NAME_MAX + 8];
  int       analysed;               /* analyse recursion guard: 0 no, 1 busy, 2 done */
} Model;

typedef struct
{
  WeftKind kind;
  void    *ptr;
} Entity;

struct _WeftGraph
{
  Entity          *entities;        /* indexed by id */
  int              n_entities, cap_entities;
  WeftId          *layers;          /* creation order */
  int              n_layers, cap_layers;
  WeftId          *models;
  int              n_models, cap_models;
  WeftId           main_model;
  uint64_t         serial;
  uint64_t         analysed_serial;
  WeftDiagnostic  *diags;
  int              n_diags, cap_diags;
  int              n_errors;
  WeftTrainConfig  train;
};

static inline Layer *
graph_layer (const WeftGraph *g, WeftId id)
{
  if (id < 0 || id >= g->n_entities || g->entities[id].kind != WEFT_KIND_LAYER)
    return NULL;
  return g->entities[id].ptr;
}

static inline Model *
graph_model (const WeftGraph *g, WeftId id)
{
  if (id < 0 || id >= g->n_entities || g->entities[id].kind != WEFT_KIND_MODEL)
    return NULL;
  return g->entities[id].ptr;
}

static inline Node *
graph_node (const WeftGraph *g, WeftId id)
{
  if (id < 0 || id >= g->n_entities || g->entities[id].kind != WEFT_KIND_NODE)
    return NULL;
  return g->entities[id].ptr;
}

/* Names used in messages: the callee's name. */
const char *_weft_graph_node_label (const WeftGraph *g, WeftId node);
/* Topological order of a model's nodes (Kahn); returns the count placed (less than
 * n_nodes when there is a cycle). order must hold n_nodes ids. */
int         _weft_graph_model_topo (const WeftGraph *g, const Model *m, WeftId *order);
