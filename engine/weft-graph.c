/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-graph-private.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void
remove_id (WeftId *items, int *n, WeftId id)
{
  for (int i = 0; i < *n; i++)
    if (items[i] == id)
      {
        memmove (&items[i], &items[i + 1], (size_t) (*n - i - 1) * sizeof *items);
        (*n)--;
        return;
      }
}

static void
touch (WeftGraph *g)
{
  g->serial++;
}

/* ---- lifetime ---- */

WeftGraph *
weft_graph_new (void)
{
  WeftGraph *g = calloc (1, sizeof *g);
  if (g == NULL)
    return NULL;
  g->main_model = WEFT_ID_NONE;
  g->serial = 1;
  weft_train_config_defaults (&g->train);
  return g;
}

static void
layer_free (Layer *l)
{
  if (l == NULL)
    return;
  for (int i = 0; i < l->n_weights; i++)
    free (l->weights[i].data);
  free (l->cfg);
  free (l);
}

static void
node_free (Node *n)
{
  if (n == NULL)
    return;
  free (n->in);
  free (n->out_shapes);
  free (n->out_known);
  free (n);
}

static void
model_free (Model *m)
{
  if (m == NULL)
    return;
  free (m->nodes);
  free (m->inputs);
  free (m->outputs);
  free (m);
}

void
weft_graph_free (WeftGraph *graph)
{
  if (graph == NULL)
    return;
  for (int i = 0; i < graph->n_entities; i++)
    switch (graph->entities[i].kind)
      {
      case WEFT_KIND_LAYER: layer_free (graph->entities[i].ptr); break;
      case WEFT_KIND_MODEL: model_free (graph->entities[i].ptr); break;
      case WEFT_KIND_NODE: node_free (graph->entities[i].ptr); break;
      case WEFT_KIND_NONE: break;
      }
  free (graph->entities);
  free (graph->layers);
  free (graph->models);
  free (graph->diags);
  free (graph);
}

static WeftId
new_entity (WeftGraph *g, WeftKind kind, void *ptr)
{
  if (!GROW (g->entities, g->cap_entities, g->n_entities + 1))
    return WEFT_ID_NONE;
  WeftId id = g->n_entities++;
  g->entities[id].kind = kind;
  g->entities[id].ptr = ptr;
  return id;
}

uint64_t
weft_graph_get_serial (const WeftGraph *graph)
{
  return graph->serial;
}

WeftKind
weft_graph_kind (const WeftGraph *graph, WeftId id)
{
  if (id < 0 || id >= graph->n_entities)
    return WEFT_KIND_NONE;
  return graph->entities[id].kind;
}

WeftId
weft_graph_find (const WeftGraph *graph, const char *name)
{
  if (name == NULL)
    return WEFT_ID_NONE;
  for (int i = 0; i < graph->n_layers; i++)
    if (strcmp (graph_layer (graph, graph->layers[i])->name, name) == 0)
      return graph->layers[i];
  for (int i = 0; i < graph->n_models; i++)
    if (strcmp (graph_model (graph, graph->models[i])->name, name) == 0)
      return graph->models[i];
  return WEFT_ID_NONE;
}

/* ---- names ---- */

static bool
name_valid (const char *name, WeftError *error)
{
  size_t len = name != NULL ? strlen (name) : 0;
  if (len == 0 || len >= WEFT_NAME_MAX)
    return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                           "a name needs 1 to %d characters", WEFT_NAME_MAX - 1);
  for (size_t i = 0; i < len; i++)
    {
      unsigned char c = (unsigned char) name[i];
      if (!(isalnum (c) || c == '_' || c == '-' || c == '.'))
        return weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                               "name '%s': use letters, digits, '_', '-' and '.' only "
                               "(names become weight names and Python identifiers)", name);
    }
  if (strchr (name, '/') != NULL)
    return false;
  return true;
}

/* Keras' automatic names: "dense", "dense_1", ... from the snake_case class name. */
static void
auto_name (const WeftGraph *g, const char *type, char *out)
{
  char base[WEFT_NAME_MAX];
  size_t j = 0;
  for (size_t i = 0; type[i] != '\0' && j + 2 < sizeof base; i++)
    {
      unsigned char c = (unsigned char) type[i];
      bool boundary = i > 0 && isupper (c)
                      && (islower ((unsigned char) type[i - 1])
                          || (type[i + 1] != '\0' && islower ((unsigned char) type[i + 1])
                              && isupper ((unsigned char) type[i - 1])));
      if (boundary)
        base[j++] = '_';
      base[j++] = (char) tolower (c);
    }
  base[j] = '\0';
  if (strcmp (type, "Input") == 0)
    strcpy (base, "input");
  if (weft_graph_find (g, base) == WEFT_ID_NONE)
    {
      strcpy (out, base);
      return;
    }
  for (int k = 1;; k++)
    {
      snprintf (out, WEFT_NAME_MAX, "%s_%d", base, k);
      if (weft_graph_find (g, out) == WEFT_ID_NONE)
        return;
    }
}

const char *
weft_graph_get_name (const WeftGraph *graph, WeftId id)
{
  Layer *l = graph_layer (graph, id);
  if (l != NULL)
    return l->name;
  Model *m = graph_model (graph, id);
  WEFT_CHECK (m != NULL);
  return m->name;
}

bool
weft_graph_set_name (WeftGraph *graph, WeftId id, const char *name, WeftError *error)
{
  Layer *l = graph_layer (graph, id);
  Model *m = graph_model (graph, id);
  WEFT_CHECK (l != NULL || m != NULL);
  if (!name_valid (name, error))
    return false;
  WeftId other = weft_graph_find (graph, name);
  if (other != WEFT_ID_NONE && other != id)
    return weft_error_set (error, WEFT_ERROR_INVALID, id, -1,
                           "the name '%s' is already used", name);
  snprintf (l != NULL ? l->name : m->name, WEFT_NAME_MAX, "%s", name);
  touch (graph);
  return true;
}

const char *
_weft_graph_node_label (const WeftGraph *g, WeftId node)
{
  Node *n = graph_node (g, node);
  if (n == NULL)
    return "?";
  return weft_graph_get_name (g, n->callee);
}

/* ---- layers ---- */

WeftId
weft_graph_add_layer (WeftGraph *graph, const char *type, const char *name, WeftError *error)
{
  const WeftOpDesc *op = weft_op_lookup (type);
  if (op == NULL)
    {
      weft_error_set (error, WEFT_ERROR_UNKNOWN_TYPE, WEFT_ID_NONE, -1,
                      "unknown layer type '%s'", type != NULL ? type : "(null)");
      return WEFT_ID_NONE;
    }
  char buf[WEFT_NAME_MAX];
  if (name == NULL)
    auto_name (graph, op->name, buf);
  else
    {
      if (!name_valid (name, error))
        return WEFT_ID_NONE;
      if (weft_graph_find (graph, name) != WEFT_ID_NONE)
        {
          weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                          "the name '%s' is already used", name);
          return WEFT_ID_NONE;
        }
      snprintf (buf, sizeof buf, "%s", name);
    }
  Layer *l = calloc (1, sizeof *l);
  if (l == NULL)
    return WEFT_ID_NONE;
  l->cfg = calloc ((size_t) (op->n_params > 0 ? op->n_params : 1), sizeof *l->cfg);
  if (l->cfg == NULL || !GROW (graph->layers, graph->cap_layers, graph->n_layers + 1))
    {
      layer_free (l);
      return WEFT_ID_NONE;
    }
  l->op = op;
  l->trainable = true;
  weft_op_defaults (op, l->cfg);
  snprintf (l->name, sizeof l->name, "%s", buf);
  WeftId id = new_entity (graph, WEFT_KIND_LAYER, l);
  if (id == WEFT_ID_NONE)
    {
      layer_free (l);
      return WEFT_ID_NONE;
    }
  l->id = id;
  graph->layers[graph->n_layers++] = id;
  touch (graph);
  return id;
}

static void remove_node_internal (WeftGraph *g, WeftId node);

bool
weft_graph_remove_layer (WeftGraph *graph, WeftId layer)
{
  Layer *l = graph_layer (graph, layer);
  if (l == NULL)
    return false;
  while (weft_graph_callee_n_nodes (graph, layer) > 0)
    remove_node_internal (graph, weft_graph_callee_node_at (graph, layer, 0));
  remove_id (graph->layers, &graph->n_layers, layer);
  graph->entities[layer].kind = WEFT_KIND_NONE;
  graph->entities[layer].ptr = NULL;
  layer_free (l);
  touch (graph);
  return true;
}

const WeftOpDesc *
weft_graph_layer_op (const WeftGraph *graph, WeftId layer)
{
  Layer *l = graph_layer (graph, layer);
  return l != NULL ? l->op : NULL;
}

const WeftValue *
weft_graph_layer_config (const WeftGraph *graph, WeftId layer)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  return l->cfg;
}

bool
weft_graph_layer_set_param (WeftGraph *graph, WeftId layer, const char *param,
                            const WeftValue *value, WeftError *error)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  int i = weft_op_param_index (l->op, param);
  if (i < 0)
    return weft_error_set (error, WEFT_ERROR_INVALID, layer, -1,
                           "%s layers have no parameter '%s'", l->op->name, param);
  char why[256];
  if (!weft_op_check_value (&l->op->params[i], value, why, sizeof why))
    return weft_error_set (error, WEFT_ERROR_PARAM_RANGE, layer, -1, "%s: %s", l->name, why);
  WeftValue old = l->cfg[i];
  l->cfg[i] = *value;
  if (l->op->check != NULL && !l->op->check (l->cfg, why, sizeof why))
    {
      l->cfg[i] = old;
      return weft_error_set (error, WEFT_ERROR_PARAM_RANGE, layer, -1, "%s: %s", l->name, why);
    }
  touch (graph);
  return true;
}

bool
weft_graph_layer_set_trainable (WeftGraph *graph, WeftId layer, bool trainable)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  l->trainable = trainable;
  touch (graph);
  return true;
}

bool
weft_graph_layer_get_trainable (const WeftGraph *graph, WeftId layer)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  return l->trainable;
}

const WeftWeight *
weft_graph_layer_weights (const WeftGraph *graph, WeftId layer, int *n)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  *n = l->weights_known ? l->n_weights : 0;
  return l->weights;
}

bool
weft_graph_set_weight (WeftGraph *graph, WeftId layer, const char *weight,
                       const WeftShape *shape, const float *data, WeftError *error)
{
  Layer *l = graph_layer (graph, layer);
  WEFT_CHECK (l != NULL);
  if (!l->weights_known)
    return weft_error_set (error, WEFT_ERROR_SHAPE, layer, -1,
                           "the weights of '%s' have no shape yet (is the layer connected?)",
                           l->name);
  for (int i = 0; i < l->n_weights; i++)
    {
      WeftWeight *w = &l->weights[i];
      if (strcmp (w->spec.name, weight) != 0)
        continue;
      if (!weft_shape_equal (&w->spec.shape, shape))
        {
          char a[96], b[96];
          /* weight shapes have no batch axis: print them plainly */
          snprintf (a, sizeof a, "[");
          snprintf (b, sizeof b, "[");
          for (int k = 0; k < w->spec.shape.rank; k++)
            snprintf (a + strlen (a), sizeof a - strlen (a), "%s%d", k ? ", " : "",
                      w->spec.shape.dims[k]);
          for (int k = 0; k < shape->rank; k++)
            snprintf (b + strlen (b), sizeof b - strlen (b), "%s%d", k ? ", " : "",
                      shape->dims[k]);
          return weft_error_set (error, WEFT_ERROR_SHAPE, layer, -1,
                                 "weight '%s/%s' has shape %s] in the graph but %s] was given",
                                 l->name, weight, a, b);
        }
      size_t count = (size_t) weft_shape_size (shape);
      if (w->data == NULL)
        {
          w->data = malloc (count * sizeof (float));
          if (w->data == NULL)
            return weft_error_set (error, WEFT_ERROR_NO_MEMORY, layer, -1,
                                   "out of memory for '%s/%s'", l->name, weight);
        }
      memcpy (w->data, data, count * sizeof (float));
      return true;
    }
  return weft_error_set (error, WEFT_ERROR_INVALID, layer, -1,
                         "layer '%s' (%s) has no weight '%s'", l->name, l->op->name, weight);
}

/* ---- weight initialisers (Keras) ---- */

static void
init_orthogonal_block (WeftRng *rng, float *w, int rows, int cols, int ld)
{
  /* Keras Orthogonal: QR of a normal matrix (we use modified Gram-Schmidt on the longer
   * side), sign-corrected; rows x cols block inside a row-major matrix with leading dim ld. */
  int n = rows > cols ? rows : cols, k = rows < cols ? rows : cols;
  double *q = malloc ((size_t) n * (size_t) k * sizeof *q);
  if (q == NULL)
    return;
  for (int i = 0; i < n * k; i++)
    q[i] = weft_rng_normal (rng);
  /* columns of q (length n) made orthonormal */
  for (int j = 0; j < k; j++)
    {
      for (int p = 0; p < j; p++)
        {
          double dot = 0;
          for (int i = 0; i < n; i++)
            dot += q[i * k + j] * q[i * k + p];
          for (int i = 0; i < n; i++)
            q[i * k + j] -= dot * q[i * k + p];
        }
      double norm = 0;
      for (int i = 0; i < n; i++)
        norm += q[i * k + j] * q[i * k + j];
      norm = sqrt (norm);
      if (norm < 1e-12)
        norm = 1;
      for (int i = 0; i < n; i++)
        q[i * k + j] /= norm;
    }
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      w[(size_t) r * ld + c] = (float) (rows >= cols ? q[r * k + c] : q[c * k + r]);
  free (q);
}

static void
init_weight (WeftRng *rng, WeftWeight *w)
{
  const WeftShape *s = &w->spec.shape;
  size_t count = (size_t) weft_shape_size (s);
  float *d = w->data;
  double fan_in = 1, fan_out = 1;
  if (s->rank == 1)
    fan_in = fan_out = s->dims[0];
  else if (s->rank >= 2)
    {
      double receptive = 1;
      for (int i = 0; i < s->rank - 2; i++)
        receptive *= s->dims[i];
      fan_in = s->dims[s->rank - 2] * receptive;
      fan_out = s->dims[s->rank - 1] * receptive;
    }
  switch (w->spec.init)
    {
    case WEFT_INIT_ZEROS:
      memset (d, 0, count * sizeof *d);
      break;
    case WEFT_INIT_ONES:
      for (size_t i = 0; i < count; i++)
        d[i] = 1.0f;
      break;
    case WEFT_INIT_GLOROT_UNIFORM:
      {
        float limit = (float) sqrt (6.0 / (fan_in + fan_out));
        for (size_t i = 0; i < count; i++)
          d[i] = (2.0f * weft_rng_uniform (rng) - 1.0f) * limit;
        break;
      }
    case WEFT_INIT_HE_UNIFORM:
      {
        float limit = (float) sqrt (6.0 / fan_in);
        for (size_t i = 0; i < count; i++)
          d[i] = (2.0f * weft_rng_uniform (rng) - 1.0f) * limit;
        break;
      }
    case WEFT_INIT_UNIT_FORGET_BIAS:
      {
        /* LSTM bias [4u], gates i, f, c, o: ones for the forget gate (Keras'
         * unit_forget_bias), zeros elsewhere. */
        size_t u = count / 4;
        for (size_t i = 0; i < count; i++)
          d[i] = (i >= u && i < 2 * u) ? 1.0f : 0.0f;
        break;
      }
    case WEFT_INIT_UNIFORM_005:
      for (size_t i = 0; i < count; i++)
        d[i] = (2.0f * weft_rng_uniform (rng) - 1.0f) * 0.05f;
      break;
    case WEFT_INIT_ORTHOGONAL:
      {
        /* Recurrent kernels [u, g*u]: orthogonal per gate block as Keras' recurrent
         * initialiser does for the whole matrix; per block keeps each gate well scaled. */
        if (s->rank != 2)
          {
            for (size_t i = 0; i < count; i++)
              d[i] = weft_rng_normal (rng) * 0.05f;
            break;
          }
        int rows = s->dims[0], cols = s->dims[1];
        if (cols % rows == 0)
          for (int b = 0; b < cols / rows; b++)
            init_orthogonal_block (rng, d + (size_t) b * rows, rows, rows, cols);
        else
          init_orthogonal_block (rng, d, rows, cols, cols);
        break;
      }
    }
}

bool
weft_graph_init_weights (WeftGraph *graph, uint64_t seed)
{
  bool complete = true;
  WeftRng rng;
  weft_rng_seed (&rng, seed);
  for (int i = 0; i < graph->n_layers; i++)
    {
      Layer *l = graph_layer (graph, graph->layers[i]);
      /* A per-layer stream: adding a layer does not change the others' initial weights. */
      WeftRng layer_rng = rng;
      uint64_t h = 1469598103934665603ull;
      for (const char *p = l->name; *p; p++)
        h = (h ^ (unsigned char) *p) * 1099511628211ull;
      weft_rng_seed (&layer_rng, seed ^ h);
      if (!l->weights_known)
        continue;
      for (int k = 0; k < l->n_weights; k++)
        {
          WeftWeight *w = &l->weights[k];
          if (w->data != NULL)
            continue;
          size_t count = (size_t) weft_shape_size (&w->spec.shape);
          w->data = malloc ((count > 0 ? count : 1) * sizeof (float));
          if (w->data == NULL)
            {
              complete = false;
              continue;
            }
          init_weight (&layer_rng, w);
        }
    }
  return complete;
}

void
weft_graph_reset_weights (WeftGraph *graph)
{
  for (int i = 0; i < graph->n_layers; i++)
    {
      Layer *l = graph_layer (graph, graph->layers[i]);
      for (int k = 0; k < l->n_weights; k++)
        {
          free (l->weights[k].data);
          l->weights[k].data = NULL;
        }
    }
  touch (graph);
}

/* ---- models ---- */

WeftId
weft_graph_add_model (WeftGraph *graph, const char *name, WeftError *error)
{
  char buf[WEFT_NAME_MAX];
  if (name == NULL)
    auto_name (graph, "Model", buf);
  else
    {
      if (!name_valid (name, error))
        return WEFT_ID_NONE;
      if (weft_graph_find (graph, name) != WEFT_ID_NONE)
        {
          weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                          "the name '%s' is already used", name);
          return WEFT_ID_NONE;
        }
      snprintf (buf, sizeof buf, "%s", name);
    }
  Model *m = calloc (1, sizeof *m);
  if (m == NULL || !GROW (graph->models, graph->cap_models, graph->n_models + 1))
    {
      free (m);
      return WEFT_ID_NONE;
    }
  snprintf (m->name, sizeof m->name, "%s", buf);
  WeftId id = new_entity (graph, WEFT_KIND_MODEL, m);
  if (id == WEFT_ID_NONE)
    {
      free (m);
      return WEFT_ID_NONE;
    }
  m->id = id;
  graph->models[graph->n_models++] = id;
  if (graph->main_model == WEFT_ID_NONE)
    graph->main_model = id;
  touch (graph);
  return id;
}

bool
weft_graph_remove_model (WeftGraph *graph, WeftId model)
{
  Model *m = graph_model (graph, model);
  if (m == NULL)
    return false;
  while (m->n_nodes > 0)
    remove_node_internal (graph, m->nodes[0]);
  while (weft_graph_callee_n_nodes (graph, model) > 0)
    remove_node_internal (graph, weft_graph_callee_node_at (graph, model, 0));
  remove_id (graph->models, &graph->n_models, model);
  graph->entities[model].kind = WEFT_KIND_NONE;
  graph->entities[model].ptr = NULL;
  model_free (m);
  if (graph->main_model == model)
    graph->main_model = graph->n_models > 0 ? graph->models[0] : WEFT_ID_NONE;
  touch (graph);
  return true;
}

WeftId
weft_graph_get_main_model (const WeftGraph *graph)
{
  return graph->main_model;
}

void
weft_graph_set_main_model (WeftGraph *graph, WeftId model)
{
  WEFT_CHECK (graph_model (graph, model) != NULL);
  graph->main_model = model;
  touch (graph);
}

static bool
node_is_input (const WeftGraph *g, const Node *n)
{
  Layer *l = graph_layer (g, n->callee);
  return l != NULL && (l->op->flags & WEFT_OP_INPUT);
}

bool
weft_graph_model_add_input (WeftGraph *graph, WeftId model, WeftId node, WeftError *error)
{
  Model *m = graph_model (graph, model);
  Node *n = graph_node (graph, node);
  WEFT_CHECK (m != NULL && n != NULL);
  if (n->model != model)
    return weft_error_set (error, WEFT_ERROR_INVALID, node, -1,
                           "'%s' belongs to another model", _weft_graph_node_label (graph, node));
  if (!node_is_input (graph, n))
    return weft_error_set (error, WEFT_ERROR_INVALID, node, -1,
                           "only Input nodes can be model inputs ('%s' is a %s)",
                           _weft_graph_node_label (graph, node),
                           graph_layer (graph, n->callee) != NULL
                             ? graph_layer (graph, n->callee)->op->name : "model");
  for (int i = 0; i < m->n_inputs; i++)
    if (m->inputs[i] == node)
      return weft_error_set (error, WEFT_ERROR_INVALID, node, -1,
                             "'%s' is already an input of '%s'",
                             _weft_graph_node_label (graph, node), m->name);
  if (!GROW (m->inputs, m->cap_inputs, m->n_inputs + 1))
    return weft_error_set (error, WEFT_ERROR_NO_MEMORY, node, -1, "out of memory");
  m->inputs[m->n_inputs++] = node;
  touch (graph);
  return true;
}

bool
weft_graph_model_remove_input (WeftGraph *graph, WeftId model, WeftId node)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  int before = m->n_inputs;
  remove_id (m->inputs, &m->n_inputs, node);
  if (before != m->n_inputs)
    touch (graph);
  return before != m->n_inputs;
}

int
weft_graph_model_n_inputs (const WeftGraph *graph, WeftId model)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  return m->n_inputs;
}

WeftId
weft_graph_model_input (const WeftGraph *graph, WeftId model, int i)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL && i >= 0 && i < m->n_inputs);
  return m->inputs[i];
}

bool
weft_graph_model_add_output (WeftGraph *graph, WeftId model, const WeftHead *head,
                             WeftError *error)
{
  Model *m = graph_model (graph, model);
  Node *n = graph_node (graph, head->node);
  WEFT_CHECK (m != NULL);
  if (n == NULL || n->model != model)
    return weft_error_set (error, WEFT_ERROR_INVALID, head->node, -1,
                           "an output must be a node of model '%s'", m->name);
  if (head->port < 0 || head->port >= weft_graph_node_n_outputs (graph, head->node))
    return weft_error_set (error, WEFT_ERROR_INVALID, head->node, head->port,
                           "'%s' has no output port %d",
                           _weft_graph_node_label (graph, head->node), head->port);
  for (int i = 0; i < m->n_outputs; i++)
    if (m->outputs[i].node == head->node && m->outputs[i].port == head->port)
      return weft_error_set (error, WEFT_ERROR_INVALID, head->node, head->port,
                             "'%s' is already an output of '%s'",
                             _weft_graph_node_label (graph, head->node), m->name);
  if (!GROW (m->outputs, m->cap_outputs, m->n_outputs + 1))
    return weft_error_set (error, WEFT_ERROR_NO_MEMORY, head->node, -1, "out of memory");
  m->outputs[m->n_outputs++] = *head;
  touch (graph);
  return true;
}

bool
weft_graph_model_remove_output (WeftGraph *graph, WeftId model, int i)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  if (i < 0 || i >= m->n_outputs)
    return false;
  memmove (&m->outputs[i], &m->outputs[i + 1], (size_t) (m->n_outputs - i - 1) * sizeof (WeftHead));
  m->n_outputs--;
  touch (graph);
  return true;
}

int
weft_graph_model_n_outputs (const WeftGraph *graph, WeftId model)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  return m->n_outputs;
}

const WeftHead *
weft_graph_model_output (const WeftGraph *graph, WeftId model, int i)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL && i >= 0 && i < m->n_outputs);
  return &m->outputs[i];
}

bool
weft_graph_model_set_head (WeftGraph *graph, WeftId model, int i, const WeftHead *head)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  if (i < 0 || i >= m->n_outputs)
    return false;
  Node *n = graph_node (graph, head->node);
  if (n == NULL || n->model != model || head->port < 0
      || head->port >= weft_graph_node_n_outputs (graph, head->node))
    return false;
  m->outputs[i] = *head;
  touch (graph);
  return true;
}

const char *
weft_graph_model_input_name (const WeftGraph *graph, WeftId model, int i)
{
  return _weft_graph_node_label (graph, weft_graph_model_input (graph, model, i));
}

const char *
weft_graph_model_output_name (const WeftGraph *graph, WeftId model, int i)
{
  Model *m = graph_model (graph, model);
  const WeftHead *h = weft_graph_model_output (graph, model, i);
  const char *base = _weft_graph_node_label (graph, h->node);
  if (h->port == 0)
    return base;
  snprintf (m->output_name_buf, sizeof m->output_name_buf, "%s_%d", base, h->port);
  return m->output_name_buf;
}

/* ---- nodes ---- */

/* seen[id]: model id already explored without reaching the target. Without it a model that
 * calls a submodel twice, nested n deep, is explored 2^n times (a small hostile file hangs
 * the loader). */
static bool
model_calls_rec (const WeftGraph *g, WeftId caller, WeftId target, int depth, uint8_t *seen)
{
  if (caller == target)
    return true;
  if (depth > 64)
    return true;
  Model *m = graph_model (g, caller);
  if (m == NULL || seen[caller])
    return false;
  for (int i = 0; i < m->n_nodes; i++)
    {
      Node *n = graph_node (g, m->nodes[i]);
      if (graph_model (g, n->callee) != NULL
          && model_calls_rec (g, n->callee, target, depth + 1, seen))
        return true;
    }
  seen[caller] = 1;
  return false;
}

static bool
model_calls (const WeftGraph *g, WeftId caller, WeftId target, int depth)
{
  /* Does model `caller` (transitively) call model `target`? */
  uint8_t *seen = calloc ((size_t) (g->n_entities > 0 ? g->n_entities : 1), 1);
  if (seen == NULL)
    return true;   /* refuse rather than risk a cycle */
  bool calls = model_calls_rec (g, caller, target, depth, seen);
  free (seen);
  return calls;
}

static int
callee_fixed_inputs (const WeftGraph *g, WeftId callee)
{
  Layer *l = graph_layer (g, callee);
  if (l != NULL)
    return l->op->max_inputs == WEFT_VARIADIC ? l->op->min_inputs : l->op->max_inputs;
  Model *m = graph_model (g, callee);
  return m != NULL ? m->n_inputs : 0;
}

/* Keeps a node's slot array in step with its callee (a model's inputs can change). */
static bool
node_sync_slots (const WeftGraph *g, Node *n)
{
  Layer *l = graph_layer (g, n->callee);
  int want = callee_fixed_inputs (g, n->callee);
  if (l != NULL && l->op->max_inputs == WEFT_VARIADIC && n->n_in > want)
    want = n->n_in;
  if (!GROW (n->in, n->cap_in, want > 0 ? want : 1))
    return false;
  for (int i = n->n_in; i < want; i++)
    {
      n->in[i].src = WEFT_ID_NONE;
      n->in[i].port = 0;
    }
  n->n_in = want;
  return true;
}

WeftId
weft_graph_add_node (WeftGraph *graph, WeftId model, WeftId callee, WeftError *error)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  Layer *l = graph_layer (graph, callee);
  Model *cm = graph_model (graph, callee);
  if (l == NULL && cm == NULL)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "a node must call a layer or a model");
      return WEFT_ID_NONE;
    }
  if (cm != NULL && model_calls (graph, callee, model, 0))
    {
      weft_error_set (error, WEFT_ERROR_CYCLE, WEFT_ID_NONE, -1,
                      "model '%s' cannot be used inside '%s': it would contain itself (or "
                      "models would be nested more than 64 deep)", cm->name, m->name);
      return WEFT_ID_NONE;
    }
  if (l != NULL && (l->op->flags & WEFT_OP_INPUT) && weft_graph_callee_n_nodes (graph, callee) > 0)
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "Input '%s' already has a node; an Input is called exactly once",
                      l->name);
      return WEFT_ID_NONE;
    }
  Node *n = calloc (1, sizeof *n);
  if (n == NULL || !GROW (m->nodes, m->cap_nodes, m->n_nodes + 1))
    {
      free (n);
      return WEFT_ID_NONE;
    }
  n->model = model;
  n->callee = callee;
  n->diag = -1;
  if (!node_sync_slots (graph, n))
    {
      node_free (n);
      return WEFT_ID_NONE;
    }
  WeftId id = new_entity (graph, WEFT_KIND_NODE, n);
  if (id == WEFT_ID_NONE)
    {
      node_free (n);
      return WEFT_ID_NONE;
    }
  n->id = id;
  m->nodes[m->n_nodes++] = id;
  touch (graph);
  return id;
}

static void
remove_node_internal (WeftGraph *g, WeftId node)
{
  Node *n = graph_node (g, node);
  if (n == NULL)
    return;
  Model *m = graph_model (g, n->model);
  /* unplug consumers */
  for (int i = 0; i < m->n_nodes; i++)
    {
      Node *c = graph_node (g, m->nodes[i]);
      for (int p = 0; p < c->n_in; p++)
        if (c->in[p].src == node)
          c->in[p].src = WEFT_ID_NONE;
    }
  remove_id (m->nodes, &m->n_nodes, node);
  remove_id (m->inputs, &m->n_inputs, node);
  for (int i = m->n_outputs - 1; i >= 0; i--)
    if (m->outputs[i].node == node)
      {
        memmove (&m->outputs[i], &m->outputs[i + 1],
                 (size_t) (m->n_outputs - i - 1) * sizeof (WeftHead));
        m->n_outputs--;
      }
  g->entities[node].kind = WEFT_KIND_NONE;
  g->entities[node].ptr = NULL;
  node_free (n);
  touch (g);
}

bool
weft_graph_remove_node (WeftGraph *graph, WeftId node)
{
  if (graph_node (graph, node) == NULL)
    return false;
  remove_node_internal (graph, node);
  return true;
}

WeftId
weft_graph_node_model (const WeftGraph *graph, WeftId node)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  return n->model;
}

WeftId
weft_graph_node_callee (const WeftGraph *graph, WeftId node)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  return n->callee;
}

int
weft_graph_node_n_inputs (const WeftGraph *graph, WeftId node)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  node_sync_slots (graph, n);
  return n->n_in;
}

int
weft_graph_node_n_outputs (const WeftGraph *graph, WeftId node)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  Model *cm = graph_model (graph, n->callee);
  return cm != NULL ? cm->n_outputs : 1;
}

bool
weft_graph_node_input (const WeftGraph *graph, WeftId node, int port, WeftId *src_node,
                       int *src_port)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  node_sync_slots (graph, n);
  if (port < 0 || port >= n->n_in || n->in[port].src == WEFT_ID_NONE)
    return false;
  if (src_node)
    *src_node = n->in[port].src;
  if (src_port)
    *src_port = n->in[port].port;
  return true;
}

/* Is `target` an ancestor of (or equal to) `from`? Each node is visited once, with an
 * explicit stack: a recursive walk re-visits shared ancestors (2^n times for n chained
 * Add(x, x)) and can overflow the C stack on long chains. `depth` is unused. */
static bool
depends_on (const WeftGraph *g, WeftId from, WeftId target, int depth)
{
  (void) depth;
  if (from == target)
    return true;
  size_t n_ent = (size_t) (g->n_entities > 0 ? g->n_entities : 1);
  uint8_t *seen = calloc (n_ent, 1);
  size_t cap = 64, top = 0;
  WeftId *stack = malloc (cap * sizeof *stack);
  bool found = false;
  if (seen == NULL || stack == NULL)
    {
      free (seen);
      free (stack);
      return true;   /* refuse rather than risk a cycle */
    }
  stack[top++] = from;
  while (top > 0 && !found)
    {
      WeftId id = stack[--top];
      Node *n = graph_node (g, id);
      if (n == NULL || seen[id])
        continue;
      seen[id] = 1;
      for (int i = 0; i < n->n_in && !found; i++)
        {
          WeftId src = n->in[i].src;
          if (src == WEFT_ID_NONE)
            continue;
          if (src == target)
            found = true;
          else if (src >= 0 && (size_t) src < n_ent && !seen[src])
            {
              if (top == cap)
                {
                  WeftId *bigger = realloc (stack, 2 * cap * sizeof *stack);
                  if (bigger == NULL)
                    {
                      found = true;   /* as above */
                      break;
                    }
                  stack = bigger;
                  cap *= 2;
                }
              stack[top++] = src;
            }
        }
    }
  free (seen);
  free (stack);
  return found;
}

bool
weft_graph_can_connect (const WeftGraph *graph, WeftId src_node, int src_port,
                        WeftId dst_node, int dst_port, WeftError *error)
{
  Node *s = graph_node (graph, src_node);
  Node *d = graph_node (graph, dst_node);
  if (s == NULL || d == NULL)
    return weft_error_set (error, WEFT_ERROR_INVALID, dst_node, dst_port, "no such node");
  node_sync_slots (graph, d);
  const char *sname = _weft_graph_node_label (graph, src_node);
  const char *dname = _weft_graph_node_label (graph, dst_node);
  if (s->model != d->model)
    return weft_error_set (error, WEFT_ERROR_INVALID, dst_node, dst_port,
                           "'%s' and '%s' are in different models", sname, dname);
  if (src_port < 0 || src_port >= weft_graph_node_n_outputs (graph, src_node))
    return weft_error_set (error, WEFT_ERROR_INVALID, src_node, src_port,
                           "'%s' has no output %d", sname, src_port);
  if (node_is_input (graph, d))
    return weft_error_set (error, WEFT_ERROR_INVALID, dst_node, dst_port,
                           "an Input node takes no wires: it is fed with data");
  Layer *dl = graph_layer (graph, d->callee);
  bool variadic = dl != NULL && dl->op->max_inputs == WEFT_VARIADIC;
  int limit = variadic ? WEFT_MAX_INPUTS : d->n_in;
  if (dst_port < 0 || dst_port > limit - (variadic ? 1 : 1) || (!variadic && dst_port >= d->n_in)
      || (variadic && dst_port > d->n_in))
    return weft_error_set (error, WEFT_ERROR_INVALID, dst_node, dst_port,
                           "'%s' has no input %d (it takes %d)", dname, dst_port,
                           variadic ? WEFT_MAX_INPUTS : d->n_in);
  if (depends_on (graph, src_node, dst_node, 0))
    return weft_error_set (error, WEFT_ERROR_CYCLE, dst_node, dst_port,
                           "wiring '%s' into '%s' would create a cycle: '%s' already feeds '%s'",
                           sname, dname, dname, sname);
  return true;
}

bool
weft_graph_connect (WeftGraph *graph, WeftId src_node, int src_port, WeftId dst_node,
                    int dst_port, WeftError *error)
{
  if (!weft_graph_can_connect (graph, src_node, src_port, dst_node, dst_port, error))
    return false;
  Node *d = graph_node (graph, dst_node);
  if (dst_port == d->n_in)
    {
      if (!GROW (d->in, d->cap_in, d->n_in + 1))
        return weft_error_set (error, WEFT_ERROR_NO_MEMORY, dst_node, dst_port, "out of memory");
      d->n_in++;
    }
  d->in[dst_port].src = src_node;
  d->in[dst_port].port = src_port;
  touch (graph);
  return true;
}

bool
weft_graph_disconnect (WeftGraph *graph, WeftId dst_node, int dst_port)
{
  Node *d = graph_node (graph, dst_node);
  WEFT_CHECK (d != NULL);
  if (dst_port < 0 || dst_port >= d->n_in)
    return false;
  Layer *l = graph_layer (graph, d->callee);
  bool variadic = l != NULL && l->op->max_inputs == WEFT_VARIADIC;
  if (variadic && d->n_in > l->op->min_inputs)
    {
      memmove (&d->in[dst_port], &d->in[dst_port + 1], (size_t) (d->n_in - dst_port - 1) * sizeof (Wire));
      d->n_in--;
    }
  else
    d->in[dst_port].src = WEFT_ID_NONE;
  touch (graph);
  return true;
}

void
weft_graph_node_get_position (const WeftGraph *graph, WeftId node, double *x, double *y)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  if (x)
    *x = n->x;
  if (y)
    *y = n->y;
}

void
weft_graph_node_set_position (WeftGraph *graph, WeftId node, double x, double y)
{
  Node *n = graph_node (graph, node);
  WEFT_CHECK (n != NULL);
  n->x = x;
  n->y = y;
  /* positions do not change the model: no serial bump, so caches stay valid */
}

/* ---- enumeration ---- */

int
weft_graph_n_layers (const WeftGraph *graph)
{
  return graph->n_layers;
}

WeftId
weft_graph_layer_at (const WeftGraph *graph, int i)
{
  WEFT_CHECK (i >= 0 && i < graph->n_layers);
  return graph->layers[i];
}

int
weft_graph_n_models (const WeftGraph *graph)
{
  return graph->n_models;
}

WeftId
weft_graph_model_at (const WeftGraph *graph, int i)
{
  WEFT_CHECK (i >= 0 && i < graph->n_models);
  return graph->models[i];
}

int
weft_graph_model_n_nodes (const WeftGraph *graph, WeftId model)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  return m->n_nodes;
}

WeftId
weft_graph_model_node_at (const WeftGraph *graph, WeftId model, int i)
{
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL && i >= 0 && i < m->n_nodes);
  return m->nodes[i];
}

int
weft_graph_callee_n_nodes (const WeftGraph *graph, WeftId callee)
{
  int count = 0;
  for (int i = 0; i < graph->n_entities; i++)
    if (graph->entities[i].kind == WEFT_KIND_NODE
        && ((Node *) graph->entities[i].ptr)->callee == callee)
      count++;
  return count;
}

WeftId
weft_graph_callee_node_at (const WeftGraph *graph, WeftId callee, int k)
{
  for (int i = 0; i < graph->n_entities; i++)
    if (graph->entities[i].kind == WEFT_KIND_NODE
        && ((Node *) graph->entities[i].ptr)->callee == callee && k-- == 0)
      return i;
  return WEFT_ID_NONE;
}

/* ---- duplicate ---- */

/* memcpy for arrays that an empty graph has not allocated yet (NULL with 0 elements):
 * memcpy from NULL is undefined even for 0 bytes. */
static void
copy_array (void *dst, const void *src, size_t bytes)
{
  if (bytes > 0)
    memcpy (dst, src, bytes);
}

static WeftGraph *graph_dup (const WeftGraph *src, bool with_weights);

WeftGraph *
weft_graph_dup (const WeftGraph *src)
{
  return graph_dup (src, true);
}

WeftGraph *
weft_graph_dup_structure (const WeftGraph *src)
{
  return graph_dup (src, false);
}

int
weft_graph_move_weights (WeftGraph *dst, WeftGraph *src)
{
  int moved = 0;

  WEFT_CHECK (dst != NULL && src != NULL);
  for (int i = 0; i < dst->n_layers; i++)
    {
      Layer *d = graph_layer (dst, dst->layers[i]);
      Layer *s = graph_layer (src, dst->layers[i]);
      if (d == NULL || s == NULL || d->op != s->op || d->n_weights != s->n_weights)
        continue;
      for (int k = 0; k < d->n_weights; k++)
        {
          WeftWeight *dw = &d->weights[k], *sw = &s->weights[k];
          if (dw->data != NULL || sw->data == NULL
              || strcmp (dw->spec.name, sw->spec.name) != 0
              || !weft_shape_equal (&dw->spec.shape, &sw->spec.shape))
            continue;
          dw->data = sw->data;
          sw->data = NULL;
          moved++;
        }
    }
  return moved;
}

static WeftGraph *
graph_dup (const WeftGraph *src, bool with_weights)
{
  WeftGraph *g = calloc (1, sizeof *g);
  if (g == NULL)
    return NULL;
  g->main_model = src->main_model;
  g->serial = src->serial;
  g->train = src->train;
  g->entities = calloc ((size_t) (src->cap_entities > 0 ? src->cap_entities : 1), sizeof (Entity));
  g->cap_entities = src->cap_entities;
  g->n_entities = src->n_entities;
  g->layers = malloc ((size_t) (src->cap_layers > 0 ? src->cap_layers : 1) * sizeof (WeftId));
  g->cap_layers = src->cap_layers;
  g->n_layers = src->n_layers;
  g->models = malloc ((size_t) (src->cap_models > 0 ? src->cap_models : 1) * sizeof (WeftId));
  g->cap_models = src->cap_models;
  g->n_models = src->n_models;
  if (g->entities == NULL || g->layers == NULL || g->models == NULL)
    goto fail;
  copy_array (g->layers, src->layers, (size_t) src->n_layers * sizeof (WeftId));
  copy_array (g->models, src->models, (size_t) src->n_models * sizeof (WeftId));
  for (int i = 0; i < src->n_entities; i++)
    {
      const Entity *e = &src->entities[i];
      g->entities[i].kind = e->kind;
      if (e->kind == WEFT_KIND_LAYER)
        {
          const Layer *sl = e->ptr;
          Layer *l = malloc (sizeof *l);
          if (l == NULL)
            goto fail;
          *l = *sl;
          g->entities[i].ptr = l;
          l->cfg = malloc ((size_t) (sl->op->n_params > 0 ? sl->op->n_params : 1) * sizeof (WeftValue));
          for (int k = 0; k < sl->n_weights; k++)
            l->weights[k].data = NULL;
          if (l->cfg == NULL)
            goto fail;
          memcpy (l->cfg, sl->cfg, (size_t) sl->op->n_params * sizeof (WeftValue));
          for (int k = 0; k < sl->n_weights; k++)
            if (with_weights && sl->weights[k].data != NULL)
              {
                size_t count = (size_t) weft_shape_size (&sl->weights[k].spec.shape);
                l->weights[k].data = malloc ((count > 0 ? count : 1) * sizeof (float));
                if (l->weights[k].data == NULL)
                  goto fail;
                memcpy (l->weights[k].data, sl->weights[k].data, count * sizeof (float));
              }
        }
      else if (e->kind == WEFT_KIND_MODEL)
        {
          const Model *sm = e->ptr;
          Model *m = calloc (1, sizeof *m);
          if (m == NULL)
            goto fail;
          g->entities[i].ptr = m;
          *m = *sm;
          m->nodes = malloc ((size_t) (sm->cap_nodes > 0 ? sm->cap_nodes : 1) * sizeof (WeftId));
          m->inputs = malloc ((size_t) (sm->cap_inputs > 0 ? sm->cap_inputs : 1) * sizeof (WeftId));
          m->outputs = malloc ((size_t) (sm->cap_outputs > 0 ? sm->cap_outputs : 1) * sizeof (WeftHead));
          if (m->nodes == NULL || m->inputs == NULL || m->outputs == NULL)
            goto fail;
          copy_array (m->nodes, sm->nodes, (size_t) sm->n_nodes * sizeof (WeftId));
          copy_array (m->inputs, sm->inputs, (size_t) sm->n_inputs * sizeof (WeftId));
          copy_array (m->outputs, sm->outputs, (size_t) sm->n_outputs * sizeof (WeftHead));
        }
      else if (e->kind == WEFT_KIND_NODE)
        {
          const Node *sn = e->ptr;
          Node *n = calloc (1, sizeof *n);
          if (n == NULL)
            goto fail;
          g->entities[i].ptr = n;
          n->id = sn->id;
          n->model = sn->model;
          n->callee = sn->callee;
          n->x = sn->x;
          n->y = sn->y;
          n->diag = -1;
          n->cap_in = sn->n_in > 0 ? sn->n_in : 1;
          n->n_in = sn->n_in;
          n->in = malloc ((size_t) n->cap_in * sizeof (Wire));
          if (n->in == NULL)
            goto fail;
          copy_array (n->in, sn->in, (size_t) sn->n_in * sizeof (Wire));
        }
    }
  g->analysed_serial = 0;
  return g;
fail:
  weft_graph_free (g);
  return NULL;
}

/* ---- analysis ---- */

static void
add_diag (WeftGraph *g, WeftStatus code, WeftId model, WeftId node, int port,
          const char *format, ...) __attribute__ ((format (printf, 6, 7)));

static void
add_diag (WeftGraph *g, WeftStatus code, WeftId model, WeftId node, int port,
          const char *format, ...)
{
  if (!GROW (g->diags, g->cap_diags, g->n_diags + 1))
    return;
  WeftDiagnostic *d = &g->diags[g->n_diags];
  d->code = code;
  d->model = model;
  d->node = node;
  d->port = port;
  va_list ap;
  va_start (ap, format);
  vsnprintf (d->message, sizeof d->message, format, ap);
  va_end (ap);
  if (code != WEFT_WARNING_UNUSED_INPUT)
    {
      g->n_errors++;
      Node *n = graph_node (g, node);
      if (n != NULL && n->diag < 0)
        n->diag = g->n_diags;
    }
  g->n_diags++;
}

int
_weft_graph_model_topo (const WeftGraph *g, const Model *m, WeftId *order)
{
  /* Kahn over the model's nodes; indegree counts wired inputs from nodes of this model. */
  int n = m->n_nodes;
  int *indeg = calloc ((size_t) (n > 0 ? n : 1), sizeof *indeg);
  int placed = 0;
  if (indeg == NULL)
    return 0;
  for (int i = 0; i < n; i++)
    {
      Node *node = graph_node (g, m->nodes[i]);
      for (int p = 0; p < node->n_in; p++)
        if (node->in[p].src != WEFT_ID_NONE)
          indeg[i]++;
    }
  for (int i = 0; i < n; i++)
    if (indeg[i] == 0)
      order[placed++] = m->nodes[i];
  for (int head = 0; head < placed; head++)
    {
      WeftId done = order[head];
      for (int i = 0; i < n; i++)
        {
          Node *node = graph_node (g, m->nodes[i]);
          for (int p = 0; p < node->n_in; p++)
            if (node->in[p].src == done && --indeg[i] == 0)
              order[placed++] = m->nodes[i];
        }
    }
  free (indeg);
  return placed;
}

static bool
node_out_shape (const WeftGraph *g, WeftId node, int port, WeftShape *shape)
{
  Node *n = graph_node (g, node);
  if (n == NULL || port < 0 || port >= n->n_out_shapes || !n->out_known[port])
    return false;
  *shape = n->out_shapes[port];
  return true;
}

static void analyse_model (WeftGraph *g, Model *m);

static void
set_out_shapes (Node *n, int count)
{
  if (n->n_out_shapes != count)
    {
      free (n->out_shapes);
      free (n->out_known);
      n->out_shapes = calloc ((size_t) (count > 0 ? count : 1), sizeof (WeftShape));
      n->out_known = calloc ((size_t) (count > 0 ? count : 1), sizeof (bool));
      n->n_out_shapes = n->out_shapes != NULL && n->out_known != NULL ? count : 0;
    }
  for (int i = 0; i < n->n_out_shapes; i++)
    n->out_known[i] = false;
}

/* First call of a layer (in model order, then node order) fixes its weight shapes. */
static void
layer_weights_from_call (WeftGraph *g, Layer *l, Node *n, const WeftOpArgs *args)
{
  WeftWeightSpec specs[WEFT_MAX_WEIGHTS];
  int count = l->op->weights != NULL ? l->op->weights (args, specs) : 0;
  if (count < 0 || count > WEFT_MAX_WEIGHTS)
    count = 0;
  if (l->weights_known)
    {
      bool same = count == l->n_weights;
      for (int k = 0; same && k < count; k++)
        same = weft_shape_equal (&specs[k].shape, &l->weights[k].spec.shape);
      if (!same)
        {
          char a[96] = "";
          weft_shape_format (&args->in[0], a, sizeof a);
          add_diag (g, WEFT_ERROR_SHAPE, n->model, n->id, 0,
                    "shared layer '%s' is called here on %s, which needs other weights than "
                    "its first call; every call of a shared layer needs inputs of the same "
                    "size", l->name, a);
        }
      return;
    }
  for (int k = 0; k < count; k++)
    {
      WeftWeight *w = &l->weights[k];
      bool keep = k < l->n_weights && weft_shape_equal (&w->spec.shape, &specs[k].shape)
                  && strcmp (w->spec.name, specs[k].name) == 0;
      if (!keep && k < l->n_weights)
        {
          free (w->data);
          w->data = NULL;
        }
      if (k >= l->n_weights)
        w->data = NULL;
      w->spec = specs[k];
    }
  for (int k = count; k < l->n_weights; k++)
    {
      free (l->weights[k].data);
      l->weights[k].data = NULL;
    }
  l->n_weights = count;
  l->weights_known = true;
}

static void
analyse_node (WeftGraph *g, Model *m, Node *n)
{
  Layer *l = graph_layer (g, n->callee);
  Model *cm = graph_model (g, n->callee);
  const char *name = _weft_graph_node_label (g, n->id);
  WeftShape in[WEFT_MAX_INPUTS];
  bool ready = true;

  node_sync_slots (g, n);
  set_out_shapes (n, cm != NULL ? cm->n_outputs : 1);

  if (l != NULL)
    {
      /* parameters first: a bad value explains itself even when unconnected */
      char why[256];
      for (int i = 0; i < l->op->n_params; i++)
        if (!weft_op_check_value (&l->op->params[i], &l->cfg[i], why, sizeof why))
          {
            add_diag (g, WEFT_ERROR_PARAM_RANGE, m->id, n->id, -1, "%s: %s", name, why);
            ready = false;
          }
      if (ready && l->op->check != NULL && !l->op->check (l->cfg, why, sizeof why))
        {
          add_diag (g, WEFT_ERROR_PARAM_RANGE, m->id, n->id, -1, "%s: %s", name, why);
          ready = false;
        }
      if (n->n_in < l->op->min_inputs)
        {
          add_diag (g, WEFT_ERROR_UNCONNECTED, m->id, n->id, n->n_in,
                    "%s: a %s needs at least %d inputs, it has %d", name, l->op->name,
                    l->op->min_inputs, n->n_in);
          ready = false;
        }
    }

  if (n->n_in > WEFT_MAX_INPUTS)
    {
      add_diag (g, WEFT_ERROR_INVALID, m->id, n->id, -1, "%s: more than %d inputs", name,
                WEFT_MAX_INPUTS);
      return;
    }
  for (int p = 0; p < n->n_in; p++)
    {
      if (n->in[p].src == WEFT_ID_NONE)
        {
          if (cm != NULL)
            add_diag (g, WEFT_ERROR_UNCONNECTED, m->id, n->id, p,
                      "%s: input %d ('%s') is not connected", name, p,
                      p < cm->n_inputs ? _weft_graph_node_label (g, cm->inputs[p]) : "?");
          else
            add_diag (g, WEFT_ERROR_UNCONNECTED, m->id, n->id, p,
                      "%s: input %d is not connected", name, p);
          ready = false;
        }
      else if (!node_out_shape (g, n->in[p].src, n->in[p].port, &in[p]))
        ready = false;   /* the cause is reported at the source */
    }
  if (!ready)
    return;

  if (cm != NULL)
    {
      if (cm->analysed != 2)
        analyse_model (g, cm);
      for (int p = 0; p < n->n_in && p < cm->n_inputs; p++)
        {
          WeftShape want;
          if (!node_out_shape (g, cm->inputs[p], 0, &want))
            return;
          if (!weft_shape_equal (&want, &in[p]))
            {
              char a[96], b[96];
              add_diag (g, WEFT_ERROR_SHAPE, m->id, n->id, p,
                        "%s: input %d ('%s') expects %s but receives %s", name, p,
                        _weft_graph_node_label (g, cm->inputs[p]),
                        weft_shape_format (&want, a, sizeof a),
                        weft_shape_format (&in[p], b, sizeof b));
              return;
            }
        }
      for (int j = 0; j < cm->n_outputs; j++)
        if (node_out_shape (g, cm->outputs[j].node, cm->outputs[j].port, &n->out_shapes[j]))
          n->out_known[j] = true;
      return;
    }

  WeftOpArgs args = { .cfg = l->cfg, .in = in, .n_in = n->n_in, .out = NULL };
  WeftShape out = { 0 };
  char why[256] = "";
  if (l->op->infer == NULL || !l->op->infer (&args, &out, why, sizeof why))
    {
      add_diag (g, WEFT_ERROR_SHAPE, m->id, n->id, -1, "%s: %s", name,
                why[0] ? why : "the inputs do not fit this layer");
      return;
    }
  if (weft_shape_size (&out) <= 0 || weft_shape_size (&out) > ((int64_t) 1 << 40))
    {
      char a[96];
      add_diag (g, WEFT_ERROR_SHAPE, m->id, n->id, -1, "%s: output shape %s is %s", name,
                weft_shape_format (&out, a, sizeof a),
                weft_shape_size (&out) <= 0 ? "empty" : "absurdly large");
      return;
    }
  n->out_shapes[0] = out;
  n->out_known[0] = true;
  args.out = &out;
  layer_weights_from_call (g, l, n, &args);
}

/* Walks back from an output; reports the first reason it cannot be computed. */
static bool
trace_output (WeftGraph *g, Model *m, WeftId node, const char *out_name, bool *reach,
              int depth)
{
  Node *n = graph_node (g, node);
  int idx = -1;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i] == node)
      idx = i;
  if (n == NULL || idx < 0 || depth > 100000)
    return false;
  if (reach[idx])
    return true;
  reach[idx] = true;
  if (node_is_input (g, n))
    {
      for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i] == node)
          return true;
      add_diag (g, WEFT_ERROR_DISCONNECTED, m->id, node, -1,
                "graph disconnected: output '%s' needs Input '%s', which is not an input of "
                "model '%s'", out_name, _weft_graph_node_label (g, node), m->name);
      return false;
    }
  bool ok = true;
  for (int p = 0; p < n->n_in; p++)
    {
      if (n->in[p].src == WEFT_ID_NONE)
        {
          add_diag (g, WEFT_ERROR_DISCONNECTED, m->id, node, p,
                    "graph disconnected: output '%s' cannot be computed from the model "
                    "inputs: input %d of layer '%s' is missing", out_name, p,
                    _weft_graph_node_label (g, node));
          ok = false;
          continue;
        }
      if (!trace_output (g, m, n->in[p].src, out_name, reach, depth + 1))
        ok = false;
    }
  return ok;
}

static void
analyse_model (WeftGraph *g, Model *m)
{
  if (m->analysed == 2)
    return;
  if (m->analysed == 1)
    return;   /* recursion is refused when nodes are added; guard anyway */
  m->analysed = 1;

  WeftId *order = malloc ((size_t) (m->n_nodes > 0 ? m->n_nodes : 1) * sizeof *order);
  bool *reach = calloc ((size_t) (m->n_nodes > 0 ? m->n_nodes : 1), sizeof *reach);
  if (order == NULL || reach == NULL)
    {
      free (order);
      free (reach);
      m->analysed = 2;
      return;
    }
  int placed = _weft_graph_model_topo (g, m, order);
  for (int i = 0; i < placed; i++)
    analyse_node (g, m, graph_node (g, order[i]));
  if (placed < m->n_nodes)
    {
      /* nodes on or behind a cycle: report those on the cycle itself */
      for (int i = 0; i < m->n_nodes; i++)
        {
          bool done = false;
          for (int k = 0; k < placed && !done; k++)
            done = order[k] == m->nodes[i];
          if (done)
            continue;
          Node *n = graph_node (g, m->nodes[i]);
          set_out_shapes (n, weft_graph_node_n_outputs (g, n->id));
          bool on_cycle = false;
          for (int p = 0; p < n->n_in && !on_cycle; p++)
            if (n->in[p].src != WEFT_ID_NONE && depends_on (g, n->in[p].src, n->id, 0))
              on_cycle = true;
          if (on_cycle)
            add_diag (g, WEFT_ERROR_CYCLE, m->id, n->id, -1,
                      "%s: part of a cycle; a layer's output cannot feed back into itself",
                      _weft_graph_node_label (g, n->id));
        }
    }

  /* model-level checks */
  if (m->n_outputs == 0)
    add_diag (g, WEFT_ERROR_NO_OUTPUTS, m->id, WEFT_ID_NONE, -1,
              "model '%s' has no outputs: mark at least one node as an output (head)", m->name);
  for (int j = 0; j < m->n_outputs; j++)
    {
      const WeftHead *h = &m->outputs[j];
      const char *oname = weft_graph_model_output_name (g, m->id, j);
      char oname_buf[WEFT_NAME_MAX + 8];
      snprintf (oname_buf, sizeof oname_buf, "%s", oname);
      trace_output (g, m, h->node, oname_buf, reach, 0);
      if (m->id == g->main_model && h->loss == WEFT_LOSS_NONE)
        add_diag (g, WEFT_ERROR_NO_LOSS, m->id, h->node, -1,
                  "head '%s' has no loss: choose one (e.g. mse for regression, "
                  "categorical_crossentropy for classes)", oname_buf);
      else if (m->id == g->main_model && h->loss != WEFT_LOSS_NONE)
        {
          WeftShape s;
          if (node_out_shape (g, h->node, h->port, &s)
              && (h->loss == WEFT_LOSS_CATEGORICAL_CROSSENTROPY
                  || h->loss == WEFT_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
              && s.rank >= 1 && s.dims[s.rank - 1] < 2)
            add_diag (g, WEFT_ERROR_SHAPE, m->id, h->node, -1,
                      "head '%s' uses %s but has %d class; use binary_crossentropy for one "
                      "unit, or give the layer one unit per class", oname_buf,
                      weft_loss_names[h->loss], s.dims[s.rank - 1]);
        }
      if (m->id == g->main_model && h->loss != WEFT_LOSS_NONE && h->metric != WEFT_METRIC_NONE)
        {
          WeftShape s;
          if (node_out_shape (g, h->node, h->port, &s) && s.rank >= 1)
            {
              int width = (int) weft_shape_size (&s), classes = s.dims[s.rank - 1];
              if (weft_metric_target_width (h->metric, width, classes)
                  != weft_loss_target_width (h->loss, width, classes))
                add_diag (g, WEFT_ERROR_PARAM_RANGE, m->id, h->node, -1,
                          "head '%s': the metric %s needs other targets than the loss %s; "
                          "choose 'accuracy' and Weft picks the variant that fits",
                          oname_buf, weft_metric_names[h->metric], weft_loss_names[h->loss]);
            }
        }
      if (!(h->weight >= 0) || !isfinite (h->weight))
        add_diag (g, WEFT_ERROR_PARAM_RANGE, m->id, h->node, -1,
                  "head '%s': the loss weight must be a number >= 0", oname_buf);
    }
  for (int i = 0; i < m->n_inputs; i++)
    {
      int idx = -1;
      for (int k = 0; k < m->n_nodes; k++)
        if (m->nodes[k] == m->inputs[i])
          idx = k;
      if (idx >= 0 && !reach[idx] && m->n_outputs > 0)
        add_diag (g, WEFT_WARNING_UNUSED_INPUT, m->id, m->inputs[i], -1,
                  "input '%s' is not used by any output of model '%s'",
                  _weft_graph_node_label (g, m->inputs[i]), m->name);
    }
  free (order);
  free (reach);
  m->analysed = 2;
}

int
weft_graph_analyse (WeftGraph *graph)
{
  if (graph->analysed_serial == graph->serial)
    return graph->n_errors;
  graph->n_diags = 0;
  graph->n_errors = 0;
  for (int i = 0; i < graph->n_layers; i++)
    graph_layer (graph, graph->layers[i])->weights_known = false;
  for (int i = 0; i < graph->n_entities; i++)
    if (graph->entities[i].kind == WEFT_KIND_NODE)
      {
        Node *n = graph->entities[i].ptr;
        n->diag = -1;
        for (int k = 0; k < n->n_out_shapes; k++)
          n->out_known[k] = false;
      }
  for (int i = 0; i < graph->n_models; i++)
    graph_model (graph, graph->models[i])->analysed = 0;
  /* The main model first (its diagnostics read first); called models on demand. */
  if (graph->main_model != WEFT_ID_NONE)
    analyse_model (graph, graph_model (graph, graph->main_model));
  for (int i = 0; i < graph->n_models; i++)
    analyse_model (graph, graph_model (graph, graph->models[i]));
  /* A layer with no analysable call keeps its weight data (a layer unplugged for a
   * moment keeps its trained weights); its shapes are just unknown until wired again. */
  graph->analysed_serial = graph->serial;
  return graph->n_errors;
}

const WeftDiagnostic *
weft_graph_diagnostics (const WeftGraph *graph, int *n)
{
  *n = graph->n_diags;
  return graph->diags;
}

const WeftDiagnostic *
weft_graph_node_diagnostic (const WeftGraph *graph, WeftId node)
{
  Node *n = graph_node (graph, node);
  if (n == NULL || n->diag < 0 || n->diag >= graph->n_diags)
    return NULL;
  return &graph->diags[n->diag];
}

bool
weft_graph_node_shape (const WeftGraph *graph, WeftId node, int port, WeftShape *shape)
{
  return node_out_shape (graph, node, port, shape);
}

static bool
model_in_use_rec (const WeftGraph *g, WeftId model, WeftId from, int depth, uint8_t *seen)
{
  if (model == from)
    return true;
  Model *m = graph_model (g, from);
  if (m == NULL || depth > 64 || seen[from])
    return false;
  for (int i = 0; i < m->n_nodes; i++)
    {
      Node *n = graph_node (g, m->nodes[i]);
      if (graph_model (g, n->callee) != NULL
          && model_in_use_rec (g, model, n->callee, depth + 1, seen))
        return true;
    }
  seen[from] = 1;   /* explored without finding `model` (see model_calls_rec) */
  return false;
}

static bool
model_in_use (const WeftGraph *g, WeftId model, WeftId from, int depth)
{
  uint8_t *seen = calloc ((size_t) (g->n_entities > 0 ? g->n_entities : 1), 1);
  if (seen == NULL)
    return true;
  bool used = model_in_use_rec (g, model, from, depth, seen);
  free (seen);
  return used;
}

bool
weft_graph_validate (WeftGraph *graph, WeftError *error)
{
  if (graph->main_model == WEFT_ID_NONE)
    return weft_error_set (error, WEFT_ERROR_NO_OUTPUTS, WEFT_ID_NONE, -1,
                           "the graph has no model");
  weft_graph_analyse (graph);
  for (int i = 0; i < graph->n_diags; i++)
    {
      const WeftDiagnostic *d = &graph->diags[i];
      if (d->code == WEFT_WARNING_UNUSED_INPUT)
        continue;
      if (!model_in_use (graph, d->model, graph->main_model, 0))
        continue;
      return weft_error_set (error, d->code, d->node, d->port, "%s", d->message);
    }
  Model *m = graph_model (graph, graph->main_model);
  if (m->n_inputs == 0)
    return weft_error_set (error, WEFT_ERROR_DISCONNECTED, WEFT_ID_NONE, -1,
                           "model '%s' has no inputs", m->name);
  weft_error_clear (error);
  return true;
}

uint64_t
weft_memory_budget (void)
{
  double budget = 0;
  long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
  static const int limits[] = { RLIMIT_AS, RLIMIT_DATA };

  if (pages > 0 && page > 0)
    budget = (double) pages * (double) page;
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
    {
      struct rlimit rl;
      if (getrlimit (limits[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
          && (budget == 0 || (double) rl.rlim_cur < budget))
        budget = (double) rl.rlim_cur;
    }
  return (uint64_t) budget;
}

#define GIB(bytes) ((bytes) / (1024.0 * 1024.0 * 1024.0))

bool
weft_graph_check_memory (WeftGraph *graph, int batch, uint64_t budget, WeftError *error)
{
  if (budget == 0)
    budget = weft_memory_budget ();
  weft_graph_analyse (graph);
  if (budget == 0)
    {
      weft_error_clear (error);
      return true;
    }
  /* batch 0: the weights alone (an export), each once plus its written copy */
  const bool training = batch > 0;
  const char *what = training ? "training" : "the weights";

  /* doubles: a hostile file's products overflow 64-bit integers */
  double total = 0, worst = 0, worst_count = 0;
  const Layer *worst_layer = NULL;
  const Node *worst_node = NULL;
  for (int i = 0; i < graph->n_layers; i++)
    {
      const Layer *l = graph_layer (graph, graph->layers[i]);
      if (!l->weights_known)
        continue;
      double params = 0;
      for (int k = 0; k < l->n_weights; k++)
        {
          double c = 1;
          for (int d = 0; d < l->weights[k].spec.shape.rank; d++)
            c *= (double) l->weights[k].spec.shape.dims[d];
          params += c;
        }
      double bytes = (training ? 3.0 : 2.0) * sizeof (float) * params;
      total += bytes;
      if (bytes > worst)
        worst = bytes, worst_count = params, worst_layer = l;
    }
  for (int i = 0; training && i < graph->n_models; i++)
    {
      const Model *m = graph_model (graph, graph->models[i]);
      for (int j = 0; j < m->n_nodes; j++)
        {
          const Node *n = graph_node (graph, m->nodes[j]);
          double values = 0;
          for (int q = 0; n != NULL && q < n->n_out_shapes; q++)
            if (n->out_known[q])
              values += (double) weft_shape_size (&n->out_shapes[q]);
          double bytes = 2.0 * sizeof (float) * (double) batch * values;
          total += bytes;
          if (bytes > worst)
            worst = bytes, worst_count = values, worst_layer = NULL, worst_node = n;
        }
    }
  if (total <= (double) budget)
    {
      weft_error_clear (error);
      return true;
    }

  if (worst_layer != NULL)
    {
      /* point at a call of the layer, for the canvas */
      WeftId at = WEFT_ID_NONE;
      for (int i = 0; i < graph->n_models && at == WEFT_ID_NONE; i++)
        {
          const Model *m = graph_model (graph, graph->models[i]);
          for (int j = 0; j < m->n_nodes && at == WEFT_ID_NONE; j++)
            if (graph_node (graph, m->nodes[j])->callee == worst_layer->id)
              at = m->nodes[j];
        }
      return weft_error_set (error, WEFT_ERROR_NO_MEMORY, at, -1,
                             "%s need%s at least %.1f GiB of memory, more than the %.1f "
                             "GiB available: layer '%s' alone needs %.1f GiB for its %.0f "
                             "parameters", what, training ? "s" : "", GIB (total),
                             GIB ((double) budget),
                             worst_layer->name, GIB (worst), worst_count);
    }
  const Layer *callee = worst_node != NULL ? graph_layer (graph, worst_node->callee) : NULL;
  const Model *callee_model = worst_node != NULL ? graph_model (graph, worst_node->callee) : NULL;
  return weft_error_set (error, WEFT_ERROR_NO_MEMORY,
                         worst_node != NULL ? worst_node->id : WEFT_ID_NONE, -1,
                         "training needs at least %.1f GiB of memory, more than the %.1f GiB "
                         "available: the output of '%s' alone needs %.1f GiB for %.0f values "
                         "per sample at batch size %d", GIB (total), GIB ((double) budget),
                         callee != NULL ? callee->name
                                        : callee_model != NULL ? callee_model->name : "?",
                         GIB (worst), worst_count, batch);
}

static void
count_layer (const WeftGraph *g, const Layer *l, int64_t *tr, int64_t *ntr)
{
  for (int k = 0; k < l->n_weights; k++)
    {
      int64_t c = weft_shape_size (&l->weights[k].spec.shape);
      if (l->trainable && l->weights[k].spec.trainable)
        *tr += c;
      else
        *ntr += c;
    }
}

static void
collect_layers (const WeftGraph *g, WeftId model, bool *seen, int depth)
{
  Model *m = graph_model (g, model);
  /* Models are marked too: each is walked once, however often it is called. */
  if (m == NULL || depth > 64 || seen[model])
    return;
  seen[model] = true;
  for (int i = 0; i < m->n_nodes; i++)
    {
      Node *n = graph_node (g, m->nodes[i]);
      if (graph_layer (g, n->callee) != NULL)
        seen[n->callee] = true;
      else
        collect_layers (g, n->callee, seen, depth + 1);
    }
}

bool
weft_graph_count_params (const WeftGraph *graph, WeftId id, int64_t *trainable,
                         int64_t *non_trainable)
{
  int64_t tr = 0, ntr = 0;
  bool known = true;
  Layer *l = graph_layer (graph, id);
  if (l != NULL)
    {
      known = l->weights_known || (l->op->weights == NULL);
      count_layer (graph, l, &tr, &ntr);
    }
  else
    {
      WEFT_CHECK (graph_model (graph, id) != NULL);
      bool *seen = calloc ((size_t) graph->n_entities + 1, sizeof *seen);
      if (seen == NULL)
        return false;
      collect_layers (graph, id, seen, 0);
      for (int i = 0; i < graph->n_entities; i++)
        if (seen[i] && graph_layer (graph, i) != NULL)
          {
            Layer *sl = graph_layer (graph, i);
            if (!sl->weights_known && sl->op->weights != NULL)
              known = false;
            count_layer (graph, sl, &tr, &ntr);
          }
      free (seen);
    }
  if (trainable)
    *trainable = tr;
  if (non_trainable)
    *non_trainable = ntr;
  return known;
}

/* ---- training settings ---- */

const WeftTrainConfig *
weft_graph_get_train_config (const WeftGraph *graph)
{
  return &graph->train;
}

void
weft_graph_set_train_config (WeftGraph *graph, const WeftTrainConfig *config)
{
  graph->train = *config;
}
