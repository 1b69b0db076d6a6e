/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-plan.h"

#include "weft-blas.h"
#include "weft-graph-private.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layer calls a compiled model may have after inlining its nested models. */
#define WEFT_PLAN_MAX_CALLS (1 << 18)

typedef struct
{
  WeftShape shape;
  size_t    size;         /* floats per sample */
  float    *val;          /* max_batch * size */
  float    *grad;
  float    *own;          /* inputs: the plan's own buffer; val may point at the caller's
                             rows instead (weft_plan_set_input_rows), never written then */
  bool      is_input;     /* fed from data: no gradient is propagated into it (grad NULL) */
  /* backward steps (see grad_times) from the first write of grad to its last use; grad
   * shares its memory with tensors whose spans do not overlap */
  int       grad_first, grad_last;
  bool      grad_zero;    /* nobody assigns grad: zeroed at grad_first */
} Tensor;

typedef struct
{
  const WeftOpDesc *op;
  WeftValue        *cfg;  /* owned copy: the plan does not follow later graph edits */
  int               layer;
  int               n_in;
  int               in[WEFT_MAX_INPUTS];
  int               out;
  float            *aux;
  size_t            aux_n;
  bool              din_assign[WEFT_MAX_INPUTS]; /* first writer of that gradient (op flag) */
  bool              dw_assign;                   /* first writer of its layer's gradients */
  bool              dout_preact;  /* its head hands over the pre-activation gradient */
} Exec;

typedef struct
{
  WeftId         id;
  char           name[WEFT_NAME_MAX];
  bool           trainable;
  int            n_w;
  WeftWeightSpec spec[WEFT_MAX_WEIGHTS];
  size_t         off[WEFT_MAX_WEIGHTS];
} PLayer;

struct _WeftPlan
{
  int             max_batch;
  Tensor         *tensors;
  int             n_tensors, cap_tensors;
  Exec           *exec;
  int             n_exec, cap_exec;
  PLayer         *layers;
  int             n_layers, cap_layers;
  float          *params;
  float          *grads;
  size_t          n_params;
  WeftParamSlice *slices;
  char          (*slice_names)[2 * WEFT_NAME_MAX];
  int             n_slices;
  int             n_inputs;
  int            *input_tensor;
  char          (*input_names)[WEFT_NAME_MAX];
  int             n_outputs;
  int            *output_tensor;
  WeftHead       *heads;
  char          (*output_names)[WEFT_NAME_MAX + 8];
  float         **out_grad_own; /* heads' own gradient buffers; NULL: the tensor's grad */
  bool           *out_assign;   /* first head on its tensor: its out_grad is the tensor's
                                   gradient itself, nothing is copied */
  int            *zero_tensors; /* gradients no op assigns, by the backward step that first
                                   writes them (zeroed just before it) */
  int             n_zero_tensors;
  int            *zero_slices;  /* trainable weight gradients no op assigns */
  int             n_zero_slices;
  float          *arena;
  size_t          arena_n;
  float          *scratch;
  size_t          scratch_n;
  WeftRng         rng;
  int             threads;
  bool            inference;    /* forward only: no gradients, values share memory */
};

static int
new_tensor (WeftPlan *p, const WeftShape *shape, bool is_input)
{
  if (!GROW (p->tensors, p->cap_tensors, p->n_tensors + 1))
    return -1;
  Tensor *t = &p->tensors[p->n_tensors];
  memset (t, 0, sizeof *t);
  t->shape = *shape;
  t->size = (size_t) weft_shape_size (shape);
  t->is_input = is_input;
  return p->n_tensors++;
}

static int
plan_layer (WeftPlan *p, const WeftGraph *g, WeftId id)
{
  for (int i = 0; i < p->n_layers; i++)
    if (p->layers[i].id == id)
      return i;
  if (!GROW (p->layers, p->cap_layers, p->n_layers + 1))
    return -1;
  PLayer *pl = &p->layers[p->n_layers];
  memset (pl, 0, sizeof *pl);
  pl->id = id;
  snprintf (pl->name, sizeof pl->name, "%s", weft_graph_get_name (g, id));
  pl->trainable = weft_graph_layer_get_trainable (g, id);
  int n = 0;
  const WeftWeight *w = weft_graph_layer_weights (g, id, &n);
  pl->n_w = n;
  for (int k = 0; k < n; k++)
    pl->spec[k] = w[k].spec;
  return p->n_layers++;
}

/* Inlines the needed nodes of model `m` given the tensors feeding its inputs; writes the
 * tensors of its outputs into outs. */
static bool
expand (WeftPlan *p, const WeftGraph *g, const Model *m, const int *inputs, int *outs,
        int depth, WeftError *error)
{
  if (depth > 64)
    return weft_error_set (error, WEFT_ERROR_CYCLE, WEFT_ID_NONE, -1,
                           "models nested more than 64 deep");
  int n = m->n_nodes;
  WeftId *order = malloc ((size_t) (n > 0 ? n : 1) * sizeof *order);
  int *first_port = malloc ((size_t) (n > 0 ? n : 1) * sizeof *first_port);
  bool *needed = calloc ((size_t) (n > 0 ? n : 1), sizeof *needed);
  int *ports = NULL, *index = NULL;
  int n_ports = 0, cap_ports = 0;
  bool ok = false;
  if (order == NULL || first_port == NULL || needed == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      goto out;
    }
  index = malloc ((size_t) g->n_entities * sizeof *index);
  if (index == NULL)
    {
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
      goto out;
    }
  for (int i = 0; i < g->n_entities; i++)
    index[i] = -1;
  for (int i = 0; i < n; i++)
    index[m->nodes[i]] = i;
  /* validation refused cycles, so every node is placed */
  int placed = _weft_graph_model_topo (g, m, order);

  /* mark what the outputs need, walking the topological order backwards */
#define INDEX_OF(id) index[(id)]
  for (int j = 0; j < m->n_outputs; j++)
    {
      int k = INDEX_OF (m->outputs[j].node);
      if (k >= 0)
        needed[k] = true;
    }
  for (int i = placed - 1; i >= 0; i--)
    {
      int k = INDEX_OF (order[i]);
      if (!needed[k])
        continue;
      Node *node = graph_node (g, order[i]);
      for (int q = 0; q < node->n_in; q++)
        if (node->in[q].src != WEFT_ID_NONE)
          needed[INDEX_OF (node->in[q].src)] = true;
    }

  for (int i = 0; i < placed; i++)
    {
      int k = INDEX_OF (order[i]);
      Node *node = graph_node (g, order[i]);
      Layer *l = graph_layer (g, node->callee);
      Model *cm = graph_model (g, node->callee);
      int n_out = cm != NULL ? cm->n_outputs : 1;
      first_port[k] = n_ports;
      if (!GROW (ports, cap_ports, n_ports + n_out))
        {
          weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
          goto out;
        }
      for (int q = 0; q < n_out; q++)
        ports[n_ports + q] = -1;
      n_ports += n_out;
      if (!needed[k])
        continue;

      int in_t[WEFT_MAX_INPUTS];
      for (int q = 0; q < node->n_in && q < WEFT_MAX_INPUTS; q++)
        {
          int sk = INDEX_OF (node->in[q].src);
          in_t[q] = ports[first_port[sk] + node->in[q].port];
          if (in_t[q] < 0)
            {
              weft_error_set (error, WEFT_ERROR_DISCONNECTED, node->id, q,
                              "'%s': input %d has no value", _weft_graph_node_label (g, node->id), q);
              goto out;
            }
        }

      if (l != NULL && (l->op->flags & WEFT_OP_INPUT))
        {
          int pos = -1;
          for (int q = 0; q < m->n_inputs; q++)
            if (m->inputs[q] == node->id)
              pos = q;
          if (pos < 0)
            {
              weft_error_set (error, WEFT_ERROR_DISCONNECTED, node->id, -1,
                              "Input '%s' is not an input of model '%s'", l->name, m->name);
              goto out;
            }
          ports[first_port[k]] = inputs[pos];
          continue;
        }
      if (cm != NULL)
        {
          int sub_out[WEFT_MAX_INPUTS * 4];
          int *sub = cm->n_outputs <= (int) (sizeof sub_out / sizeof sub_out[0])
                     ? sub_out : malloc ((size_t) cm->n_outputs * sizeof (int));
          if (sub == NULL)
            goto out;
          bool sub_ok = expand (p, g, cm, in_t, sub, depth + 1, error);
          for (int q = 0; sub_ok && q < cm->n_outputs; q++)
            ports[first_port[k] + q] = sub[q];
          if (sub != sub_out)
            free (sub);
          if (!sub_ok)
            goto out;
          continue;
        }

      WeftShape shape;
      if (!weft_graph_node_shape (g, node->id, 0, &shape))
        {
          weft_error_set (error, WEFT_ERROR_SHAPE, node->id, -1, "'%s' has no known shape",
                          l->name);
          goto out;
        }
      if (p->n_exec >= WEFT_PLAN_MAX_CALLS)
        {
          /* models calling submodels several times multiply: a small file can describe
           * billions of calls */
          weft_error_set (error, WEFT_ERROR_NO_MEMORY, node->id, -1,
                          "the model expands to more than %d layer calls (its nested models "
                          "call each other too often to be trained)", WEFT_PLAN_MAX_CALLS);
          goto out;
        }
      int t = new_tensor (p, &shape, false);
      if (t < 0 || !GROW (p->exec, p->cap_exec, p->n_exec + 1))
        {
          weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
          goto out;
        }
      Exec *e = &p->exec[p->n_exec];
      memset (e, 0, sizeof *e);
      e->op = l->op;
      e->cfg = malloc ((size_t) (l->op->n_params > 0 ? l->op->n_params : 1) * sizeof (WeftValue));
      if (e->cfg == NULL)
        goto out;
      memcpy (e->cfg, l->cfg, (size_t) l->op->n_params * sizeof (WeftValue));
      e->layer = plan_layer (p, g, l->id);
      e->n_in = node->n_in;
      memcpy (e->in, in_t, (size_t) node->n_in * sizeof (int));
      e->out = t;
      p->n_exec++;
      ports[first_port[k]] = t;
    }

  for (int j = 0; j < m->n_outputs; j++)
    {
      int k = INDEX_OF (m->outputs[j].node);
      outs[j] = k >= 0 ? ports[first_port[k] + m->outputs[j].port] : -1;
      if (outs[j] < 0)
        {
          weft_error_set (error, WEFT_ERROR_DISCONNECTED, m->outputs[j].node, -1,
                          "output %d of model '%s' cannot be computed", j, m->name);
          goto out;
        }
    }
#undef INDEX_OF
  ok = true;
out:
  free (order);
  free (first_port);
  free (needed);
  free (ports);
  free (index);
  return ok;
}

static void *
alloc_floats (size_t n)
{
  /* 64-byte aligned for the vector units; at least one element so that NULL means failure */
  size_t bytes = ((n > 0 ? n : 1) * sizeof (float) + 63) & ~(size_t) 63;
  return aligned_alloc (64, bytes);
}

void
weft_plan_free (WeftPlan *plan)
{
  if (plan == NULL)
    return;
  for (int i = 0; i < plan->n_exec; i++)
    free (plan->exec[i].cfg);
  free (plan->exec);
  free (plan->tensors);
  free (plan->layers);
  free (plan->params);
  free (plan->grads);
  free (plan->slices);
  free (plan->slice_names);
  free (plan->input_tensor);
  free (plan->input_names);
  free (plan->output_tensor);
  free (plan->heads);
  free (plan->output_names);
  if (plan->out_grad_own != NULL)
    for (int j = 0; j < plan->n_outputs; j++)
      free (plan->out_grad_own[j]);
  free (plan->out_grad_own);
  free (plan->out_assign);
  free (plan->zero_tensors);
  free (plan->zero_slices);
  free (plan->arena);
  free (plan->scratch);
  free (plan);
}

static WeftOpArgs
exec_args (const WeftPlan *p, const Exec *e, WeftShape *in_shapes)
{
  for (int q = 0; q < e->n_in; q++)
    in_shapes[q] = p->tensors[e->in[q]].shape;
  WeftOpArgs args = { .cfg = e->cfg, .in = in_shapes, .n_in = e->n_in,
                      .out = &p->tensors[e->out].shape };
  return args;
}

/* Who writes each gradient first in a backward pass (the heads' copies, then the calls in
 * reverse order): an op with WEFT_OP_ASSIGNS_GRADS assigns it, and only the gradients
 * nobody assigns are zeroed before each pass (zeroing every activation and weight gradient
 * cost more than the small models' products). */
static bool
plan_grad_writers (WeftPlan *p)
{
  bool *assigned = calloc ((size_t) p->n_tensors + 1, sizeof *assigned);
  bool *seen = calloc ((size_t) p->n_tensors + 1, sizeof *seen);
  bool *layer_seen = calloc ((size_t) p->n_layers + 1, sizeof *layer_seen);
  bool *layer_assigned = calloc ((size_t) p->n_layers + 1, sizeof *layer_assigned);
  p->out_assign = calloc ((size_t) p->n_outputs + 1, sizeof *p->out_assign);
  p->zero_tensors = calloc ((size_t) p->n_tensors + 1, sizeof *p->zero_tensors);
  p->zero_slices = calloc ((size_t) p->n_slices + 1, sizeof *p->zero_slices);
  bool ok = assigned && seen && layer_seen && layer_assigned && p->out_assign
            && p->zero_tensors && p->zero_slices;
  if (!ok)
    goto out;
  for (int j = 0; j < p->n_outputs; j++)
    {
      int t = p->output_tensor[j];
      if (!seen[t])
        p->out_assign[j] = assigned[t] = true;
      seen[t] = true;
    }
  for (int i = p->n_exec - 1; i >= 0; i--)
    {
      Exec *e = &p->exec[i];
      if (e->op->backward == NULL)
        continue;
      bool assigns = (e->op->flags & WEFT_OP_ASSIGNS_GRADS) != 0;
      for (int q = 0; q < e->n_in; q++)
        {
          int t = e->in[q], uses = 0;
          for (int r = 0; r < e->n_in; r++)
            uses += e->in[r] == t;
          /* a call that reads one tensor twice adds its second gradient to the first */
          if (!seen[t] && assigns && uses == 1)
            e->din_assign[q] = assigned[t] = true;
          seen[t] = true;
        }
      if (!layer_seen[e->layer])
        {
          e->dw_assign = layer_assigned[e->layer] = assigns;
          layer_seen[e->layer] = true;
        }
    }
  for (int t = 0; t < p->n_tensors; t++)
    p->tensors[t].grad_zero = !p->tensors[t].is_input && !assigned[t];
  for (int i = 0; i < p->n_layers; i++)
    for (int k = 0; k < p->layers[i].n_w; k++)
      if (!layer_assigned[i] && p->layers[i].trainable && p->layers[i].spec[k].trainable)
        for (int s = 0; s < p->n_slices; s++)
          if (p->slices[s].offset == p->layers[i].off[k])
            p->zero_slices[p->n_zero_slices++] = s;
out:
  free (assigned);
  free (seen);
  free (layer_seen);
  free (layer_assigned);
  return ok;
}

/* Backward runs in steps: step 0 sets the heads' gradients (before weft_plan_backward is
 * called and at its start), step n_exec - i runs exec i's backward. A tensor's gradient is
 * first written at step 0 (a head) or by the first of its readers to run backward, and last
 * used by the exec that wrote the tensor (its dout). */
static void
grad_times (WeftPlan *p)
{
  for (int t = 0; t < p->n_tensors; t++)
    {
      p->tensors[t].grad_first = INT_MAX;
      p->tensors[t].grad_last = -1;
    }
  for (int j = 0; j < p->n_outputs; j++)
    p->tensors[p->output_tensor[j]].grad_first = 0;
  for (int i = 0; i < p->n_exec; i++)
    {
      const Exec *e = &p->exec[i];
      int step = p->n_exec - i;
      if (e->op->backward == NULL)
        continue;
      for (int q = 0; q < e->n_in; q++)
        {
          Tensor *t = &p->tensors[e->in[q]];
          if (step < t->grad_first)
            t->grad_first = step;
          if (step > t->grad_last)
            t->grad_last = step;
        }
      Tensor *o = &p->tensors[e->out];
      if (step > o->grad_last)
        o->grad_last = step;
      /* read but never written (no reader runs backward, no head): zeroed before it */
      if (o->grad_first == INT_MAX)
        o->grad_first = step;
    }
  for (int t = 0; t < p->n_tensors; t++)
    {
      Tensor *x = &p->tensors[t];
      if (x->grad_first == INT_MAX)   /* nobody reads or writes it */
        x->grad_first = x->grad_last = 0;
      if (x->grad_last < x->grad_first)
        x->grad_last = x->grad_first;
    }
}

#define NO_BUFFER ((size_t) -1)

typedef struct
{
  size_t size;      /* floats: the largest item it held */
  int    busy_to;   /* last step of its current item */
  size_t offset;
} Slot;

/* Places n buffers of need[i] floats (NO_BUFFER: none) that are in use from step first[i] to
 * last[i] inclusive, sharing memory between buffers whose spans do not overlap: by first
 * step, each takes the smallest free slot that fits, else the biggest free one (which
 * grows), else a new one. Writes each buffer's offset (NO_BUFFER for none) and returns the
 * floats of all slots, or NO_BUFFER without memory. */
static size_t
share_slots (int n, const size_t *need, const int *first, const int *last, size_t *offset)
{
  int *order = malloc (((size_t) n + 1) * sizeof *order);
  int *slot_of = malloc (((size_t) n + 1) * sizeof *slot_of);
  Slot *slots = malloc (((size_t) n + 1) * sizeof *slots);
  int n_slots = 0, m = 0;
  if (order == NULL || slot_of == NULL || slots == NULL)
    {
      free (order);
      free (slot_of);
      free (slots);
      return NO_BUFFER;
    }
  for (int i = 0; i < n; i++)
    {
      slot_of[i] = -1;
      if (need[i] != NO_BUFFER)
        order[m++] = i;
    }
  /* by first step (insertion sort: plans have a few hundred buffers) */
  for (int a = 1; a < m; a++)
    {
      int i = order[a], b = a;
      while (b > 0 && first[order[b - 1]] > first[i])
        {
          order[b] = order[b - 1];
          b--;
        }
      order[b] = i;
    }
  for (int a = 0; a < m; a++)
    {
      int i = order[a];
      int best = -1;
      for (int k = 0; k < n_slots; k++)
        {
          if (slots[k].busy_to >= first[i])
            continue;
          if (best < 0)
            best = k;
          else if (slots[best].size >= need[i])
            best = slots[k].size >= need[i] && slots[k].size < slots[best].size ? k : best;
          else if (slots[k].size > slots[best].size)
            best = k;
        }
      if (best < 0)
        {
          best = n_slots++;
          slots[best].size = 0;
        }
      if (slots[best].size < need[i])
        slots[best].size = need[i];
      slots[best].busy_to = last[i];
      slot_of[i] = best;
    }
  size_t total = 0;
  for (int k = 0; k < n_slots; k++)
    {
      slots[k].offset = total;
      total += slots[k].size;
    }
  for (int i = 0; i < n; i++)
    offset[i] = slot_of[i] >= 0 ? slots[slot_of[i]].offset : NO_BUFFER;
  free (order);
  free (slot_of);
  free (slots);
  return total;
}

static size_t
padded (size_t n)
{
  return (n + 15) & ~(size_t) 15;
}

/* Where every tensor's value, gradient and every call's aux live in the arena; returns the
 * arena's floats, or NO_BUFFER without memory. Training: values and aux each their own (the
 * backward pass reads them), gradients shared by their backward lifetimes (grad_times).
 * Inference: no gradients; values shared by their forward lifetimes (from the call that
 * writes one to the last that reads it; model inputs and outputs keep their own), aux only
 * live during its call. */
static size_t
plan_layout (WeftPlan *p, int max_batch, size_t *val_at, size_t *grad_at, size_t *aux_at)
{
  int nt = p->n_tensors, n = nt + p->n_exec;
  size_t *need = malloc (((size_t) n + 1) * sizeof *need);
  size_t *off = malloc (((size_t) n + 1) * sizeof *off);
  int *first = malloc (((size_t) n + 1) * sizeof *first);
  int *last = malloc (((size_t) n + 1) * sizeof *last);
  size_t total = NO_BUFFER;
  if (need == NULL || off == NULL || first == NULL || last == NULL)
    goto out;
  if (!p->inference)
    {
      size_t pos = 0;
      for (int t = 0; t < nt; t++)
        {
          val_at[t] = pos;
          pos += padded ((size_t) max_batch * p->tensors[t].size);
        }
      for (int i = 0; i < p->n_exec; i++)
        {
          aux_at[i] = pos;
          pos += padded (p->exec[i].aux_n);
        }
      for (int t = 0; t < nt; t++)
        {
          need[t] = p->tensors[t].is_input ? NO_BUFFER
                                           : padded ((size_t) max_batch * p->tensors[t].size);
          first[t] = p->tensors[t].grad_first;
          last[t] = p->tensors[t].grad_last;
        }
      size_t grads = share_slots (nt, need, first, last, off);
      if (grads == NO_BUFFER)
        goto out;
      for (int t = 0; t < nt; t++)
        grad_at[t] = off[t] == NO_BUFFER ? NO_BUFFER : pos + off[t];
      total = pos + grads;
      goto out;
    }
  /* inference: steps are the calls in order; inputs and outputs span every step */
  for (int t = 0; t < nt; t++)
    {
      need[t] = padded ((size_t) max_batch * p->tensors[t].size);
      first[t] = p->tensors[t].is_input ? 0 : INT_MAX;
      last[t] = p->tensors[t].is_input ? p->n_exec : -1;
      grad_at[t] = NO_BUFFER;
    }
  for (int j = 0; j < p->n_outputs; j++)
    {
      first[p->output_tensor[j]] = 0;
      last[p->output_tensor[j]] = p->n_exec;
    }
  for (int i = 0; i < p->n_exec; i++)
    {
      const Exec *e = &p->exec[i];
      for (int q = 0; q < e->n_in; q++)
        if (i > last[e->in[q]])
          last[e->in[q]] = i;
      if (i < first[e->out])
        first[e->out] = i;
      if (i > last[e->out])
        last[e->out] = i;
      need[nt + i] = padded (e->aux_n);
      first[nt + i] = last[nt + i] = i;
    }
  total = share_slots (n, need, first, last, off);
  if (total == NO_BUFFER)
    goto out;
  for (int t = 0; t < nt; t++)
    val_at[t] = off[t];
  for (int i = 0; i < p->n_exec; i++)
    aux_at[i] = off[nt + i];
out:
  free (need);
  free (off);
  free (first);
  free (last);
  return total;
}

static WeftPlan *
plan_new (WeftGraph *graph, int max_batch, uint64_t seed, bool inference, WeftError *error)
{
  if (max_batch < 1 || max_batch > (1 << 24))
    {
      weft_error_set (error, WEFT_ERROR_INVALID, WEFT_ID_NONE, -1,
                      "batch size %d is outside 1..16777216", max_batch);
      return NULL;
    }
  /* sizes a hostile file claims are refused before the weights are allocated */
  if (!weft_graph_validate (graph, error) || !weft_graph_check_memory (graph, max_batch, 0, error))
    return NULL;
  weft_graph_init_weights (graph, seed);

  WeftPlan *p = calloc (1, sizeof *p);
  if (p == NULL)
    goto oom;
  p->max_batch = max_batch;
  p->threads = 1;
  p->inference = inference;
  weft_rng_seed (&p->rng, seed ^ 0x5eedf00dull);

  Model *m = graph_model (graph, graph->main_model);
  p->n_inputs = m->n_inputs;
  p->n_outputs = m->n_outputs;
  p->input_tensor = calloc ((size_t) p->n_inputs + 1, sizeof (int));
  p->input_names = calloc ((size_t) p->n_inputs + 1, sizeof *p->input_names);
  p->output_tensor = calloc ((size_t) p->n_outputs + 1, sizeof (int));
  p->heads = calloc ((size_t) p->n_outputs + 1, sizeof (WeftHead));
  p->output_names = calloc ((size_t) p->n_outputs + 1, sizeof *p->output_names);
  p->out_grad_own = calloc ((size_t) p->n_outputs + 1, sizeof (float *));
  if (!p->input_tensor || !p->input_names || !p->output_tensor || !p->heads || !p->output_names
      || !p->out_grad_own)
    goto oom;
  for (int i = 0; i < p->n_inputs; i++)
    {
      WeftShape s;
      if (!weft_graph_node_shape (graph, m->inputs[i], 0, &s))
        {
          weft_error_set (error, WEFT_ERROR_SHAPE, m->inputs[i], -1, "input without a shape");
          goto fail;
        }
      p->input_tensor[i] = new_tensor (p, &s, true);
      if (p->input_tensor[i] < 0)
        goto oom;
      snprintf (p->input_names[i], sizeof p->input_names[i], "%s",
                weft_graph_model_input_name (graph, m->id, i));
    }
  if (!expand (p, graph, m, p->input_tensor, p->output_tensor, 0, error))
    goto fail;
  for (int j = 0; j < p->n_outputs; j++)
    {
      p->heads[j] = m->outputs[j];
      snprintf (p->output_names[j], sizeof p->output_names[j], "%s",
                weft_graph_model_output_name (graph, m->id, j));
    }

  /* parameters: one flat buffer, layers in order of first use */
  size_t total = 0;
  int n_slices = 0;
  for (int i = 0; i < p->n_layers; i++)
    for (int k = 0; k < p->layers[i].n_w; k++)
      {
        p->layers[i].off[k] = total;
        /* keep every slice 16-float aligned so kernels can assume aligned rows */
        total += ((size_t) weft_shape_size (&p->layers[i].spec[k].shape) + 15) & ~(size_t) 15;
        n_slices++;
      }
  p->n_params = total;
  p->params = alloc_floats (total);
  p->grads = inference ? NULL : alloc_floats (total);
  p->slices = calloc ((size_t) n_slices + 1, sizeof *p->slices);
  p->slice_names = calloc ((size_t) n_slices + 1, sizeof *p->slice_names);
  if (!p->params || (!inference && !p->grads) || !p->slices || !p->slice_names)
    goto oom;
  memset (p->params, 0, total * sizeof (float));
  if (p->grads != NULL)
    memset (p->grads, 0, total * sizeof (float));
  for (int i = 0; i < p->n_layers; i++)
    for (int k = 0; k < p->layers[i].n_w; k++)
      {
        PLayer *pl = &p->layers[i];
        WeftParamSlice *s = &p->slices[p->n_slices];
        s->offset = pl->off[k];
        s->count = (size_t) weft_shape_size (&pl->spec[k].shape);
        s->trainable = pl->trainable && pl->spec[k].trainable;
        s->decay = s->trainable;
        snprintf (p->slice_names[p->n_slices], sizeof p->slice_names[0], "%s/%s", pl->name,
                  pl->spec[k].name);
        p->n_slices++;
      }
  weft_plan_load_weights (p, graph);

  /* arena: values, per-call aux and gradients where plan_layout puts them; one scratch */
  if (!plan_grad_writers (p))
    goto oom;
  grad_times (p);
  size_t scratch = 0;
  for (int i = 0; i < p->n_exec; i++)
    {
      Exec *e = &p->exec[i];
      WeftShape in_shapes[WEFT_MAX_INPUTS];
      WeftOpArgs args = exec_args (p, e, in_shapes);
      e->aux_n = e->op->aux_size ? e->op->aux_size (&args, max_batch) : 0;
      size_t s = e->op->scratch_size ? e->op->scratch_size (&args, max_batch) : 0;
      if (s > scratch)
        scratch = s;
    }
  size_t nt = (size_t) p->n_tensors;
  size_t *at = malloc ((2 * nt + (size_t) p->n_exec + 1) * sizeof *at);
  if (at == NULL)
    goto oom;
  size_t *val_at = at, *grad_at = at + nt, *aux_at = at + 2 * nt;
  size_t arena = plan_layout (p, max_batch, val_at, grad_at, aux_at);
  if (arena == NO_BUFFER)
    {
      free (at);
      goto oom;
    }
  if (arena > ((size_t) 1 << 36))
    {
      free (at);
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1,
                      "the activations of batch size %d need %.1f GiB; use a smaller batch",
                      max_batch, arena * 4.0 / (1 << 30));
      goto fail;
    }
  p->arena_n = arena;
  p->arena = alloc_floats (arena);
  p->scratch_n = scratch;
  p->scratch = alloc_floats (scratch);
  if (p->arena == NULL || p->scratch == NULL)
    {
      free (at);
      weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1,
                      "out of memory: the plan needs %.1f MiB for batch size %d",
                      arena * 4.0 / (1 << 20), max_batch);
      goto fail;
    }
  memset (p->arena, 0, arena * sizeof (float));
  for (int t = 0; t < p->n_tensors; t++)
    {
      p->tensors[t].val = p->tensors[t].own = p->arena + val_at[t];
      p->tensors[t].grad = grad_at[t] != NO_BUFFER ? p->arena + grad_at[t] : NULL;
    }
  for (int i = 0; i < p->n_exec; i++)
    p->exec[i].aux = p->arena + aux_at[i];
  free (at);
  if (p->inference)
    return p;
  /* the gradients nobody assigns, by the step that first writes them */
  for (int step = 0; step <= p->n_exec; step++)
    for (int t = 0; t < p->n_tensors; t++)
      if (p->tensors[t].grad_zero && p->tensors[t].grad_first == step)
        p->zero_tensors[p->n_zero_tensors++] = t;
  /* The first head on a tensor writes that tensor's gradient directly; a second head on the
   * same tensor (or a head on an input) gets a buffer of its own, added in backward. */
  for (int j = 0; j < p->n_outputs; j++)
    {
      const Tensor *t = &p->tensors[p->output_tensor[j]];
      if (p->out_assign[j] && !t->is_input)
        continue;
      p->out_grad_own[j] = alloc_floats ((size_t) max_batch * t->size);
      if (p->out_grad_own[j] == NULL)
        goto oom;
      memset (p->out_grad_own[j], 0, (size_t) max_batch * t->size * sizeof (float));
    }
  return p;

oom:
  weft_error_set (error, WEFT_ERROR_NO_MEMORY, WEFT_ID_NONE, -1, "out of memory");
fail:
  weft_plan_free (p);
  return NULL;
}

WeftPlan *
weft_plan_new (WeftGraph *graph, int max_batch, uint64_t seed, WeftError *error)
{
  return plan_new (graph, max_batch, seed, false, error);
}

WeftPlan *
weft_plan_new_inference (WeftGraph *graph, int max_batch, uint64_t seed, WeftError *error)
{
  return plan_new (graph, max_batch, seed, true, error);
}

int
weft_plan_max_batch (const WeftPlan *plan)
{
  return plan->max_batch;
}

int
weft_plan_n_inputs (const WeftPlan *plan)
{
  return plan->n_inputs;
}

const char *
weft_plan_input_name (const WeftPlan *plan, int i)
{
  WEFT_CHECK (i >= 0 && i < plan->n_inputs);
  return plan->input_names[i];
}

const WeftShape *
weft_plan_input_shape (const WeftPlan *plan, int i)
{
  WEFT_CHECK (i >= 0 && i < plan->n_inputs);
  return &plan->tensors[plan->input_tensor[i]].shape;
}

float *
weft_plan_input (WeftPlan *plan, int i)
{
  WEFT_CHECK (i >= 0 && i < plan->n_inputs);
  Tensor *t = &plan->tensors[plan->input_tensor[i]];
  t->val = t->own;
  return t->own;
}

void
weft_plan_set_input_rows (WeftPlan *plan, int i, const float *rows)
{
  WEFT_CHECK (i >= 0 && i < plan->n_inputs && rows != NULL);
  /* ops only read their inputs: the caller's rows are never written */
  plan->tensors[plan->input_tensor[i]].val = (float *) rows;
}

int
weft_plan_n_outputs (const WeftPlan *plan)
{
  return plan->n_outputs;
}

const char *
weft_plan_output_name (const WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  return plan->output_names[j];
}

const WeftShape *
weft_plan_output_shape (const WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  return &plan->tensors[plan->output_tensor[j]].shape;
}

const WeftHead *
weft_plan_head (const WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  return &plan->heads[j];
}

const float *
weft_plan_output (const WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  return plan->tensors[plan->output_tensor[j]].val;
}

float *
weft_plan_output_grad (WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs && !plan->inference);
  return plan->out_grad_own[j] != NULL ? plan->out_grad_own[j]
                                       : plan->tensors[plan->output_tensor[j]].grad;
}

static void
fill_ctx (WeftPlan *p, const Exec *e, WeftOpCtx *ctx, int batch, bool training, bool grads)
{
  const PLayer *pl = &p->layers[e->layer];
  memset (ctx, 0, sizeof *ctx);
  ctx->op = e->op;
  ctx->cfg = e->cfg;
  ctx->batch = batch;
  ctx->training = training;
  ctx->n_in = e->n_in;
  for (int q = 0; q < e->n_in; q++)
    {
      Tensor *t = &p->tensors[e->in[q]];
      ctx->in[q] = t->val;
      ctx->in_shape[q] = t->shape;
      ctx->din[q] = grads && !t->is_input ? t->grad : NULL;
      ctx->din_assign[q] = ctx->din[q] != NULL && e->din_assign[q];
    }
  Tensor *o = &p->tensors[e->out];
  ctx->out = o->val;
  ctx->dout = o->grad;
  ctx->out_shape = o->shape;
  for (int k = 0; k < pl->n_w; k++)
    {
      ctx->w[k] = p->params + pl->off[k];
      ctx->dw[k] = grads && pl->trainable && pl->spec[k].trainable ? p->grads + pl->off[k] : NULL;
      ctx->dw_assign[k] = ctx->dw[k] != NULL && e->dw_assign;
    }
  ctx->dout_preact = grads && e->dout_preact;
  ctx->aux = e->aux;
  ctx->scratch = p->scratch;
  ctx->rng = &p->rng;
  ctx->threads = p->threads;
}

/* The call that writes output j's tensor when it may be handed its pre-activation gradient
 * (see weft-plan.h), else NULL. */
static Exec *
preact_head_exec (const WeftPlan *p, int j)
{
  int t = p->output_tensor[j];
  if (p->tensors[t].is_input)
    return NULL;
  for (int k = 0; k < p->n_outputs; k++)
    if (k != j && p->output_tensor[k] == t)
      return NULL;
  Exec *writer = NULL;
  for (int i = 0; i < p->n_exec; i++)
    {
      Exec *e = &p->exec[i];
      for (int q = 0; q < e->n_in; q++)
        if (e->in[q] == t)
          return NULL;
      if (e->out == t)
        writer = e;
    }
  if (writer == NULL || writer->op->output_activation == NULL || writer->op->backward == NULL)
    return NULL;
  return writer;
}

int
weft_plan_output_activation (const WeftPlan *plan, int j)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  const Exec *e = preact_head_exec (plan, j);
  return e != NULL ? e->op->output_activation (e->cfg) : -1;
}

bool
weft_plan_set_output_preact_grad (WeftPlan *plan, int j, bool on)
{
  WEFT_CHECK (j >= 0 && j < plan->n_outputs);
  Exec *e = preact_head_exec (plan, j);
  if (e == NULL)
    return !on;
  e->dout_preact = on;
  return true;
}

void
weft_plan_forward (WeftPlan *plan, int batch, bool training)
{
  WEFT_CHECK (batch >= 1 && batch <= plan->max_batch);
  WeftOpCtx ctx;
  for (int i = 0; i < plan->n_exec; i++)
    {
      const Exec *e = &plan->exec[i];
      fill_ctx (plan, e, &ctx, batch, training, false);
      e->op->forward (&ctx);
    }
}

void
weft_plan_backward (WeftPlan *plan, int batch)
{
  WEFT_CHECK (batch >= 1 && batch <= plan->max_batch && !plan->inference);
  int z = 0;   /* zero_tensors, in step order */
  for (; z < plan->n_zero_tensors && plan->tensors[plan->zero_tensors[z]].grad_first == 0; z++)
    {
      const Tensor *t = &plan->tensors[plan->zero_tensors[z]];
      memset (t->grad, 0, (size_t) batch * t->size * sizeof (float));
    }
  for (int zs = 0; zs < plan->n_zero_slices; zs++)
    {
      const WeftParamSlice *s = &plan->slices[plan->zero_slices[zs]];
      memset (plan->grads + s->offset, 0, s->count * sizeof (float));
    }
  /* the first head on each tensor wrote its gradient in place; later ones add theirs */
  for (int j = 0; j < plan->n_outputs; j++)
    {
      Tensor *t = &plan->tensors[plan->output_tensor[j]];
      size_t n = (size_t) batch * t->size;
      const float *g = plan->out_grad_own[j];
      if (t->is_input || g == NULL)
        continue;
      for (size_t i = 0; i < n; i++)
        t->grad[i] += g[i];
    }
  WeftOpCtx ctx;
  for (int i = plan->n_exec - 1; i >= 0; i--)
    {
      const Exec *e = &plan->exec[i];
      int step = plan->n_exec - i;
      for (; z < plan->n_zero_tensors
             && plan->tensors[plan->zero_tensors[z]].grad_first == step; z++)
        {
          const Tensor *t = &plan->tensors[plan->zero_tensors[z]];
          memset (t->grad, 0, (size_t) batch * t->size * sizeof (float));
        }
      if (e->op->backward == NULL)
        continue;
      fill_ctx (plan, e, &ctx, batch, true, true);
      e->op->backward (&ctx);
    }
}

const char *
weft_plan_first_nonfinite (const WeftPlan *plan, int batch)
{
  WEFT_CHECK (!plan->inference);   /* its values share memory */
  for (int i = 0; i < plan->n_exec; i++)
    {
      const Tensor *t = &plan->tensors[plan->exec[i].out];
      size_t n = (size_t) batch * t->size;
      for (size_t k = 0; k < n; k++)
        if (!isfinite (t->val[k]))
          return plan->layers[plan->exec[i].layer].name;
    }
  return NULL;
}

float *
weft_plan_params (WeftPlan *plan, size_t *n)
{
  if (n)
    *n = plan->n_params;
  return plan->params;
}

float *
weft_plan_grads (WeftPlan *plan, size_t *n)
{
  if (n)
    *n = plan->n_params;
  return plan->grads;
}

const WeftParamSlice *
weft_plan_slices (const WeftPlan *plan, int *n)
{
  *n = plan->n_slices;
  return plan->slices;
}

const char *
weft_plan_slice_name (const WeftPlan *plan, int slice)
{
  WEFT_CHECK (slice >= 0 && slice < plan->n_slices);
  return plan->slice_names[slice];
}

void
weft_plan_store_weights (const WeftPlan *plan, WeftGraph *graph)
{
  weft_graph_analyse (graph);
  for (int i = 0; i < plan->n_layers; i++)
    {
      const PLayer *pl = &plan->layers[i];
      if (weft_graph_kind (graph, pl->id) != WEFT_KIND_LAYER)
        continue;
      for (int k = 0; k < pl->n_w; k++)
        weft_graph_set_weight (graph, pl->id, pl->spec[k].name, &pl->spec[k].shape,
                               plan->params + pl->off[k], NULL);
    }
}

void
weft_plan_load_weights (WeftPlan *plan, const WeftGraph *graph)
{
  for (int i = 0; i < plan->n_layers; i++)
    {
      PLayer *pl = &plan->layers[i];
      if (weft_graph_kind (graph, pl->id) != WEFT_KIND_LAYER)
        continue;
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (graph, pl->id, &n);
      for (int k = 0; k < pl->n_w && k < n; k++)
        if (w[k].data != NULL && weft_shape_equal (&w[k].spec.shape, &pl->spec[k].shape))
          memcpy (plan->params + pl->off[k], w[k].data,
                  (size_t) weft_shape_size (&pl->spec[k].shape) * sizeof (float));
    }
}

void
weft_plan_set_threads (WeftPlan *plan, int threads)
{
  plan->threads = threads > 0 ? threads : 1;
  weft_blas_set_threads (plan->threads);
}

void
weft_plan_set_seed (WeftPlan *plan, uint64_t seed)
{
  weft_rng_seed (&plan->rng, seed ^ 0x5eedf00dull);
}

size_t
weft_plan_arena_bytes (const WeftPlan *plan)
{
  return (plan->arena_n + plan->scratch_n + plan->n_params * (plan->inference ? 1 : 2))
         * sizeof (float);
}

bool
weft_plan_check_input_values (const WeftPlan *plan, int i, const float *data, int64_t rows,
                              char *why, size_t why_len)
{
  WEFT_CHECK (i >= 0 && i < plan->n_inputs);
  int t = plan->input_tensor[i];
  size_t size = plan->tensors[t].size;
  for (int k = 0; k < plan->n_exec; k++)
    {
      const Exec *e = &plan->exec[k];
      if (!(e->op->flags & WEFT_OP_INT_INPUT) || e->n_in < 1 || e->in[0] != t)
        continue;
      int p = weft_op_param_index (e->op, "input_dim");
      double limit = p >= 0 ? e->cfg[p].num : 0;
      for (int64_t r = 0; r < rows; r++)
        for (size_t c = 0; c < size; c++)
          {
            float v = data[(size_t) r * size + c];
            if (!(v >= 0) || v != floorf (v) || (limit > 0 && v >= limit))
              {
                snprintf (why, why_len,
                          "input '%s', sample %lld, position %zu: %g is not a token id in "
                          "0..%d of layer '%s' (input_dim %d)", plan->input_names[i],
                          (long long) r, c, (double) v, (int) limit - 1,
                          plan->layers[e->layer].name, (int) limit);
                return false;
              }
          }
    }
  return true;
}
