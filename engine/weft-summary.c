/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Keras' model.summary() for functional models: one row per layer (a shared layer once,
 * with every call in "Connected to"), nested models as one "Functional" row. */
#include "weft-graph-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  char  *buf;
  size_t len;
  size_t used;   /* may exceed len: the length needed */
} Out;

static void
out_printf (Out *o, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
out_printf (Out *o, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  size_t room = o->used < o->len ? o->len - o->used : 0;
  int n = vsnprintf (room > 0 ? o->buf + o->used : NULL, room, format, ap);
  va_end (ap);
  if (n > 0)
    o->used += (size_t) n;
}

static void
out_rule (Out *o, char c, int width)
{
  char line[256];
  if (width > (int) sizeof line - 2)
    width = (int) sizeof line - 2;
  memset (line, c, (size_t) width);
  line[width] = '\0';
  out_printf (o, "%s\n", line);
}

static void
format_count (int64_t v, char *buf, size_t len)
{
  char digits[32];
  snprintf (digits, sizeof digits, "%lld", (long long) v);
  size_t n = strlen (digits), j = 0;
  for (size_t i = 0; i < n && j + 2 < len; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        buf[j++] = ',';
      buf[j++] = digits[i];
    }
  buf[j] = '\0';
}

/* index of `node` among the calls of its callee, as Keras numbers inbound nodes */
static int
call_index (const WeftGraph *g, WeftId node)
{
  Node *n = graph_node (g, node);
  int k = 0;
  for (int i = 0; i < g->n_entities && i < node; i++)
    if (g->entities[i].kind == WEFT_KIND_NODE
        && ((Node *) g->entities[i].ptr)->callee == n->callee)
      k++;
  return k;
}

size_t
weft_graph_summary (WeftGraph *graph, WeftId model, char *buf, size_t len)
{
  Out o = { buf, len, 0 };
  Model *m = graph_model (graph, model);
  WEFT_CHECK (m != NULL);
  const int w_layer = 32, w_shape = 22, w_param = 12, width = 100;

  weft_graph_analyse (graph);
  if (buf != NULL && len > 0)
    buf[0] = '\0';

  WeftId *order = malloc ((size_t) (m->n_nodes > 0 ? m->n_nodes : 1) * sizeof *order);
  WeftId *rows = malloc ((size_t) (m->n_nodes > 0 ? m->n_nodes : 1) * sizeof *rows);
  if (order == NULL || rows == NULL)
    {
      free (order);
      free (rows);
      return 0;
    }
  int placed = _weft_graph_model_topo (graph, m, order);
  /* nodes on a cycle still get a row */
  for (int i = 0; i < m->n_nodes; i++)
    {
      bool in = false;
      for (int k = 0; k < placed && !in; k++)
        in = order[k] == m->nodes[i];
      if (!in)
        order[placed++] = m->nodes[i];
    }
  /* Keras orders a functional model's layers by depth counted from the outputs (deepest,
   * i.e. closest to the inputs, first), ties in creation order: reorder the topological list
   * the same way so the table reads like Keras'. */
  int *depth = calloc ((size_t) (m->n_nodes > 0 ? m->n_nodes : 1), sizeof *depth);
  if (depth != NULL)
    {
      for (int i = placed - 1; i >= 0; i--)
        {
          Node *n = graph_node (graph, order[i]);
          int d = 0;
          for (int k = i + 1; k < placed; k++)
            {
              Node *c = graph_node (graph, order[k]);
              for (int p = 0; p < c->n_in; p++)
                if (c->in[p].src == n->id && depth[k] + 1 > d)
                  d = depth[k] + 1;
            }
          depth[i] = d;
        }
      /* stable sort by decreasing depth, ties by creation order (ids grow with creation) */
      for (int i = 1; i < placed; i++)
        for (int k = i; k > 0; k--)
          {
            bool swap = depth[k] > depth[k - 1]
                        || (depth[k] == depth[k - 1] && order[k] < order[k - 1]);
            if (!swap)
              break;
            int td = depth[k];
            depth[k] = depth[k - 1];
            depth[k - 1] = td;
            WeftId tn = order[k];
            order[k] = order[k - 1];
            order[k - 1] = tn;
          }
      free (depth);
    }
  int n_rows = 0;
  for (int i = 0; i < placed; i++)
    {
      WeftId callee = graph_node (graph, order[i])->callee;
      bool seen = false;
      for (int k = 0; k < n_rows && !seen; k++)
        seen = graph_node (graph, rows[k])->callee == callee;
      if (!seen)
        rows[n_rows++] = order[i];
    }

  out_printf (&o, "Model: \"%s\"\n", m->name);
  out_rule (&o, '_', width);
  out_printf (&o, " %-*s %-*s %-*s %s\n", w_layer - 1, "Layer (type)", w_shape, "Output Shape",
              w_param, "Param #", "Connected to");
  out_rule (&o, '=', width);

  for (int r = 0; r < n_rows; r++)
    {
      Node *first = graph_node (graph, rows[r]);
      WeftId callee = first->callee;
      Layer *l = graph_layer (graph, callee);
      char label[160], shape[96] = "?", params[32], conn[1024] = "";
      snprintf (label, sizeof label, "%s (%s)", weft_graph_get_name (graph, callee),
                l != NULL ? (strcmp (l->op->name, "Input") == 0 ? "InputLayer" : l->op->name)
                          : "Functional");
      /* output shape: "multiple" when calls (or ports) differ, as Keras prints it */
      WeftShape s0;
      bool have = weft_graph_node_shape (graph, first->id, 0, &s0);
      bool multiple = weft_graph_node_n_outputs (graph, first->id) > 1;
      for (int i = 0; i < m->n_nodes && have && !multiple; i++)
        {
          Node *n = graph_node (graph, m->nodes[i]);
          WeftShape s;
          if (n->callee == callee && n != first
              && (!weft_graph_node_shape (graph, n->id, 0, &s) || !weft_shape_equal (&s, &s0)))
            multiple = true;
        }
      if (multiple)
        snprintf (shape, sizeof shape, "multiple");
      else if (have)
        {
          weft_shape_format (&s0, shape, sizeof shape);
          if (l != NULL && (l->op->flags & WEFT_OP_INPUT))
            {
              char tmp[96];
              snprintf (tmp, sizeof tmp, "[%s]", shape);
              snprintf (shape, sizeof shape, "%s", tmp);
            }
        }
      int64_t tr = 0, ntr = 0;
      weft_graph_count_params (graph, callee, &tr, &ntr);
      /* rows print plain numbers, the totals group digits: as Keras 2 does */
      snprintf (params, sizeof params, "%lld", (long long) (tr + ntr));
      /* every call of this callee inside the model */
      size_t cl = 0;
      cl += (size_t) snprintf (conn + cl, sizeof conn - cl, "[");
      bool any = false;
      for (int i = 0; i < m->n_nodes && cl < sizeof conn; i++)
        {
          Node *n = graph_node (graph, m->nodes[i]);
          if (n->callee != callee)
            continue;
          for (int p = 0; p < n->n_in && cl < sizeof conn; p++)
            {
              if (n->in[p].src == WEFT_ID_NONE)
                continue;
              cl += (size_t) snprintf (conn + cl, sizeof conn - cl, "%s'%s[%d][%d]'",
                                       any ? ", " : "",
                                       _weft_graph_node_label (graph, n->in[p].src),
                                       call_index (graph, n->in[p].src), n->in[p].port);
              any = true;
            }
        }
      if (cl < sizeof conn)
        snprintf (conn + cl, sizeof conn - cl, "]");
      out_printf (&o, " %-*s %-*s %-*s %s\n", w_layer - 1, label, w_shape, shape, w_param,
                  params, conn);
      if (r + 1 < n_rows)
        out_printf (&o, "\n");
    }
  out_rule (&o, '=', width);
  int64_t tr = 0, ntr = 0;
  bool known = weft_graph_count_params (graph, model, &tr, &ntr);
  char a[32], b[32], c[32];
  format_count (tr + ntr, a, sizeof a);
  format_count (tr, b, sizeof b);
  format_count (ntr, c, sizeof c);
  out_printf (&o, "Total params: %s%s\n", a, known ? "" : " (some shapes unknown)");
  out_printf (&o, "Trainable params: %s\n", b);
  out_printf (&o, "Non-trainable params: %s\n", c);
  out_rule (&o, '_', width);
  free (order);
  free (rows);
  return o.used;
}
