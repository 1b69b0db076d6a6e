/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-interop-util.h"

#include <string.h>

G_DEFINE_QUARK (weft-interop-error-quark, weft_interop_error)

GArray *
weft_interop_topo_order (WeftGraph *graph, WeftId model, GError **error)
{
  int n = weft_graph_model_n_nodes (graph, model);
  g_autoptr (GHashTable) pending = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) done = g_hash_table_new (g_direct_hash, g_direct_equal);
  GArray *order = g_array_sized_new (FALSE, FALSE, sizeof (WeftId), n);

  for (int i = 0; i < n; i++)
    g_hash_table_add (pending, GINT_TO_POINTER (weft_graph_model_node_at (graph, model, i)));
  /* n is small (hundreds): repeated sweeps keep the creation order where it is valid */
  while ((int) order->len < n)
    {
      gboolean progress = FALSE;
      for (int i = 0; i < n; i++)
        {
          WeftId node = weft_graph_model_node_at (graph, model, i);
          if (g_hash_table_contains (done, GINT_TO_POINTER (node)))
            continue;
          gboolean ready = TRUE;
          int n_in = weft_graph_node_n_inputs (graph, node);
          for (int p = 0; p < n_in && ready; p++)
            {
              WeftId src;
              int sp;
              if (!weft_graph_node_input (graph, node, p, &src, &sp))
                {
                  g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                               "input %d of a call of '%s' in model '%s' is not connected", p,
                               weft_graph_get_name (graph, weft_graph_node_callee (graph, node)),
                               weft_graph_get_name (graph, model));
                  g_array_free (order, TRUE);
                  return NULL;
                }
              ready = g_hash_table_contains (done, GINT_TO_POINTER (src));
            }
          if (ready)
            {
              g_hash_table_add (done, GINT_TO_POINTER (node));
              g_array_append_val (order, node);
              progress = TRUE;
            }
        }
      if (!progress)
        {
          g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                       "model '%s' has a cycle", weft_graph_get_name (graph, model));
          g_array_free (order, TRUE);
          return NULL;
        }
    }
  return order;
}

static void
collect_models (WeftGraph *graph, WeftId model, GHashTable *seen, GArray *order, int depth)
{
  if (g_hash_table_contains (seen, GINT_TO_POINTER (model)) || depth > 64)
    return;
  g_hash_table_add (seen, GINT_TO_POINTER (model));
  int n = weft_graph_model_n_nodes (graph, model);
  for (int i = 0; i < n; i++)
    {
      WeftId callee = weft_graph_node_callee (graph, weft_graph_model_node_at (graph, model, i));
      if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
        collect_models (graph, callee, seen, order, depth + 1);
    }
  g_array_append_val (order, model);
}

GArray *
weft_interop_model_order (WeftGraph *graph)
{
  GArray *order = g_array_new (FALSE, FALSE, sizeof (WeftId));
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  WeftId main_model = weft_graph_get_main_model (graph);
  if (main_model != WEFT_ID_NONE)
    collect_models (graph, main_model, seen, order, 0);
  return order;
}

gboolean
weft_interop_check_graph (WeftGraph *graph, GError **error)
{
  WeftId main_model = weft_graph_get_main_model (graph);
  if (main_model == WEFT_ID_NONE)
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                   "the graph has no main model");
      return FALSE;
    }
  weft_graph_analyse (graph);
  g_autoptr (GArray) models = weft_interop_model_order (graph);
  int n;
  const WeftDiagnostic *d = weft_graph_diagnostics (graph, &n);
  for (int i = 0; i < n; i++)
    {
      if (d[i].code == WEFT_OK || d[i].code == WEFT_ERROR_NO_LOSS
          || d[i].code == WEFT_WARNING_UNUSED_INPUT)
        continue;
      gboolean used = FALSE;
      for (guint m = 0; m < models->len; m++)
        used |= g_array_index (models, WeftId, m) == d[i].model;
      if (!used)
        continue;
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                   "the graph is not valid: %s", d[i].message);
      return FALSE;
    }
  return TRUE;
}

gboolean
weft_interop_init_weights (WeftGraph *graph, guint64 seed, GError **error)
{
  WeftError werr = { 0 };
  if (!weft_graph_check_memory (graph, 0, 0, &werr))
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE, "%s",
                   werr.message);
      return FALSE;
    }
  if (!weft_graph_init_weights (graph, seed))
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_TOO_LARGE,
                   "out of memory while creating the weights");
      return FALSE;
    }
  return TRUE;
}

char *
weft_interop_identifier (const char *name)
{
  static const char *const keywords[] = {
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
    "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
    "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
    "try", "while", "with", "yield", "keras", "layers", "model", "tf", "torch", "nn", "F",
    "np", "self", "inputs", "outputs", NULL
  };
  GString *s = g_string_new (NULL);
  for (const char *p = name; *p != '\0'; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) || *p == '_' ? *p : '_');
  if (s->len == 0 || g_ascii_isdigit (s->str[0]))
    g_string_prepend (s, "l_");
  for (int i = 0; keywords[i] != NULL; i++)
    if (strcmp (s->str, keywords[i]) == 0)
      {
        g_string_append_c (s, '_');
        break;
      }
  return g_string_free (s, FALSE);
}

int
weft_interop_call_index (const WeftGraph *graph, WeftId node)
{
  WeftId callee = weft_graph_node_callee (graph, node);
  WeftId model = weft_graph_node_model (graph, node);
  int k = 0;
  int n = weft_graph_callee_n_nodes (graph, callee);
  for (int i = 0; i < n; i++)
    {
      WeftId other = weft_graph_callee_node_at (graph, callee, i);
      if (other == node)
        return k;
      if (weft_graph_node_model (graph, other) == model)
        k++;
    }
  return -1;
}

int
weft_interop_n_calls_in (const WeftGraph *graph, WeftId callee, WeftId model)
{
  int k = 0;
  int n = weft_graph_callee_n_nodes (graph, callee);
  for (int i = 0; i < n; i++)
    if (weft_graph_node_model (graph, weft_graph_callee_node_at (graph, callee, i)) == model)
      k++;
  return k;
}

gboolean
weft_interop_write_file (const char *path, const void *data, gsize len, GError **error)
{
  GError *local = NULL;
  if (!g_file_set_contents_full (path, data, (gssize) len, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0644, &local))
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}
