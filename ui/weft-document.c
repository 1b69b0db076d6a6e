/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-document"

#include "config.h"

#include "weft-document.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "weft-canvas-painter.h"
#include "weft-file.h"

#define MAX_UNDO 200

/* An undo entry holds the whole graph as it was on the other side of the command: undo and
 * redo swap graphs instead of inverting operations, so ids stay valid across any sequence
 * of undo and redo and a failing command rolls back exactly.
 * Trained weights are not copied into entries: a command runs on the graph with its weight
 * buffers moved out to the snapshot, and afterwards every buffer whose layer still has that
 * weight shape moves back. The snapshot keeps only what the command destroyed (weights of a
 * deleted layer, or of a layer whose shape changed), and undo/redo move the live buffers
 * across the same way. */
typedef struct
{
  char       *name;
  WeftGraph  *graph;
  GHashTable *head_pos;   /* head positions on that side of the command, see below */
  WeftId      model;
  guint       state;
} Entry;

struct _WeftDocument
{
  GObject      parent_instance;

  /* Owned */
  WeftGraph   *graph;
  WeftHistory *history;
  GFile       *file;
  char        *display_name;
  WeftFileMeta meta;          /* title, description, data binding: written back on save */
  /* Head boxes moved by hand: "MODEL:NODE:PORT" (the head's source, unique in its model) ->
   * WeftPoint. The engine graph has no place for them; heads not listed sit automatically
   * right of their source. */
  GHashTable  *head_pos;
  GQueue       undo;          /* Entry*, head = most recent */
  GQueue       redo;

  /* Command in progress */
  WeftGraph   *before;
  GHashTable  *before_pos;
  WeftId       before_model;

  WeftId       model;
  guint        state;         /* id of the current state */
  guint        saved_state;
  guint        next_state;
  /* Changed outside the undo stack (trained weights, settings, history) since the last save
   * or load: undo cannot take such a change back, so it keeps the document unsaved. */
  gboolean     modified;
};

G_DEFINE_FINAL_TYPE (WeftDocument, weft_document, G_TYPE_OBJECT)
G_DEFINE_QUARK (weft-document-error-quark, weft_document_error)

enum
{
  PROP_0,
  PROP_DIRTY,
  PROP_FILE,
  PROP_MODEL,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_UNDO_NAME,
  PROP_REDO_NAME,
  N_PROPS
};

enum
{
  CHANGED,
  NODE_ADDED,
  NODE_REMOVED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->name);
  weft_graph_free (e->graph);
  g_clear_pointer (&e->head_pos, g_hash_table_unref);
  g_free (e);
}

const char *
weft_document_describe_status (WeftStatus status)
{
  switch (status)
    {
    case WEFT_OK: return _("No problem");
    case WEFT_ERROR_INVALID: return _("Not possible");
    case WEFT_ERROR_CYCLE: return _("The wire would close a cycle");
    case WEFT_ERROR_UNCONNECTED: return _("An input is not connected");
    case WEFT_ERROR_DISCONNECTED: return _("The output cannot be computed from the inputs");
    case WEFT_ERROR_SHAPE: return _("The shapes do not fit");
    case WEFT_ERROR_NO_LOSS: return _("The head has no loss");
    case WEFT_ERROR_UNKNOWN_TYPE: return _("Unknown layer type");
    case WEFT_ERROR_PARAM_RANGE: return _("The value is out of range");
    case WEFT_ERROR_NOT_FINITE: return _("Training produced NaN or infinity");
    case WEFT_ERROR_CANCELLED: return _("Cancelled");
    case WEFT_ERROR_IO: return _("The file could not be read or written");
    case WEFT_ERROR_FORMAT: return _("The file is malformed");
    case WEFT_ERROR_NO_MEMORY: return _("Out of memory");
    case WEFT_ERROR_DATA: return _("The data does not fit the model");
    case WEFT_ERROR_NO_OUTPUTS: return _("The model has no outputs");
    case WEFT_WARNING_UNUSED_INPUT: return _("An input is not used");
    }
  return _("Not possible");
}

static gboolean
set_weft_error (GError **error, const WeftError *e)
{
  if (e->message[0] != '\0')
    g_set_error (error, WEFT_DOCUMENT_ERROR, e->code, "%s: %s",
                 weft_document_describe_status (e->code), e->message);
  else
    g_set_error_literal (error, WEFT_DOCUMENT_ERROR, e->code,
                         weft_document_describe_status (e->code));
  return FALSE;
}

static void
notify_undo_state (WeftDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNDO_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REDO_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRTY]);
}

/* Emits node-removed / node-added for the difference between two graphs' current model,
 * then changed. */
static void
emit_changes (WeftDocument *self, WeftGraph *old_graph, WeftId old_model)
{
  g_autoptr (GHashTable) old_nodes = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) new_nodes = g_hash_table_new (g_direct_hash, g_direct_equal);
  GHashTableIter iter;
  gpointer key;

  if (old_graph != NULL && weft_graph_kind (old_graph, old_model) == WEFT_KIND_MODEL)
    for (int i = 0; i < weft_graph_model_n_nodes (old_graph, old_model); i++)
      g_hash_table_add (old_nodes, GINT_TO_POINTER (weft_graph_model_node_at (old_graph, old_model, i)));
  for (int i = 0; i < weft_graph_model_n_nodes (self->graph, self->model); i++)
    g_hash_table_add (new_nodes, GINT_TO_POINTER (weft_graph_model_node_at (self->graph, self->model, i)));

  g_hash_table_iter_init (&iter, old_nodes);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (new_nodes, key))
      g_signal_emit (self, signals[NODE_REMOVED], 0, GPOINTER_TO_INT (key));
  for (int i = 0; i < weft_graph_model_n_nodes (self->graph, self->model); i++)
    {
      WeftId id = weft_graph_model_node_at (self->graph, self->model, i);
      if (!g_hash_table_contains (old_nodes, GINT_TO_POINTER (id)))
        g_signal_emit (self, signals[NODE_ADDED], 0, id);
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
clear_stack (GQueue *queue)
{
  g_queue_clear_full (queue, entry_free);
}


static GHashTable *
head_pos_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

static GHashTable *
head_pos_copy (GHashTable *table)
{
  GHashTable *copy = head_pos_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy, g_strdup (key), g_memdup2 (value, sizeof (WeftPoint)));
  return copy;
}

static char *
head_key (WeftGraph *graph, WeftId model, int index)
{
  const WeftHead *head = weft_graph_model_output (graph, model, index);

  return g_strdup_printf ("%d:%d:%d", model, head->node, head->port);
}

/* ---- command frame ---- */

static void
begin (WeftDocument *self)
{
  g_assert (self->before == NULL);
  self->before = weft_graph_dup_structure (self->graph);
  weft_graph_move_weights (self->before, self->graph);
  self->before_pos = head_pos_copy (self->head_pos);
  self->before_model = self->model;
}

/* Ends a command: on success records it under `name`, otherwise restores the graph. */
static gboolean
end (WeftDocument *self, gboolean ok, const char *name)
{
  WeftGraph *before = g_steal_pointer (&self->before);

  if (!ok)
    {
      weft_graph_free (self->graph);
      self->graph = before;
      g_hash_table_unref (self->head_pos);
      self->head_pos = g_steal_pointer (&self->before_pos);
      self->model = self->before_model;
      weft_graph_analyse (self->graph);
      return FALSE;
    }
  else
    {
      Entry *e = g_new0 (Entry, 1);
      weft_graph_analyse (self->graph);
      weft_graph_move_weights (self->graph, before);
      e->name = g_strdup (name);
      e->graph = before;
      e->head_pos = g_steal_pointer (&self->before_pos);
      e->model = self->before_model;
      e->state = self->state;
      g_queue_push_head (&self->undo, e);
      while (g_queue_get_length (&self->undo) > MAX_UNDO)
        entry_free (g_queue_pop_tail (&self->undo));
      clear_stack (&self->redo);
      self->state = ++self->next_state;
      weft_graph_analyse (self->graph);
      emit_changes (self, before, self->before_model);
      notify_undo_state (self);
      return TRUE;
    }
}

static void
swap_in (WeftDocument *self, GQueue *from, GQueue *to)
{
  Entry *e = g_queue_pop_head (from);
  WeftGraph *old = self->graph;
  WeftId old_model = self->model;
  guint old_state = self->state;

  self->graph = e->graph;
  self->state = e->state;
  if (weft_graph_kind (self->graph, self->model) != WEFT_KIND_MODEL)
    self->model = weft_graph_kind (self->graph, e->model) == WEFT_KIND_MODEL
                  ? e->model : weft_graph_get_main_model (self->graph);
  e->graph = old;
  {
    GHashTable *pos = self->head_pos;
    self->head_pos = e->head_pos;
    e->head_pos = pos;
  }
  e->model = old_model;
  e->state = old_state;
  g_queue_push_head (to, e);
  weft_graph_analyse (self->graph);
  weft_graph_move_weights (self->graph, old);
  emit_changes (self, old, old_model);
  if (self->model != old_model)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
  notify_undo_state (self);
}

gboolean
weft_document_undo (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (g_queue_is_empty (&self->undo))
    return FALSE;
  swap_in (self, &self->undo, &self->redo);
  return TRUE;
}

gboolean
weft_document_redo (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (g_queue_is_empty (&self->redo))
    return FALSE;
  swap_in (self, &self->redo, &self->undo);
  return TRUE;
}

gboolean
weft_document_can_undo (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  return !g_queue_is_empty (&self->undo);
}

gboolean
weft_document_can_redo (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  return !g_queue_is_empty (&self->redo);
}

const char *
weft_document_get_undo_name (WeftDocument *self)
{
  Entry *e;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  e = g_queue_peek_head (&self->undo);
  return e != NULL ? e->name : NULL;
}

const char *
weft_document_get_redo_name (WeftDocument *self)
{
  Entry *e;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  e = g_queue_peek_head (&self->redo);
  return e != NULL ? e->name : NULL;
}

/* ---- GObject ---- */

static void
weft_document_finalize (GObject *object)
{
  WeftDocument *self = WEFT_DOCUMENT (object);

  clear_stack (&self->undo);
  clear_stack (&self->redo);
  g_clear_pointer (&self->graph, weft_graph_free);
  g_clear_pointer (&self->before, weft_graph_free);
  g_clear_pointer (&self->history, weft_history_free);
  g_clear_object (&self->file);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->head_pos, g_hash_table_unref);
  g_clear_pointer (&self->before_pos, g_hash_table_unref);
  weft_file_meta_clear (&self->meta);
  G_OBJECT_CLASS (weft_document_parent_class)->finalize (object);
}

static void
weft_document_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  WeftDocument *self = WEFT_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_DIRTY: g_value_set_boolean (value, weft_document_get_dirty (self)); break;
    case PROP_FILE: g_value_set_object (value, self->file); break;
    case PROP_MODEL: g_value_set_int (value, self->model); break;
    case PROP_CAN_UNDO: g_value_set_boolean (value, weft_document_can_undo (self)); break;
    case PROP_CAN_REDO: g_value_set_boolean (value, weft_document_can_redo (self)); break;
    case PROP_UNDO_NAME: g_value_set_string (value, weft_document_get_undo_name (self)); break;
    case PROP_REDO_NAME: g_value_set_string (value, weft_document_get_redo_name (self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
weft_document_class_init (WeftDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = weft_document_finalize;
  object_class->get_property = weft_document_get_property;

  properties[PROP_DIRTY] = g_param_spec_boolean ("dirty", NULL, NULL, FALSE, flags);
  properties[PROP_FILE] = g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE, flags);
  properties[PROP_MODEL] = g_param_spec_int ("model", NULL, NULL, -1, G_MAXINT32, -1, flags);
  properties[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, flags);
  properties[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, flags);
  properties[PROP_UNDO_NAME] = g_param_spec_string ("undo-name", NULL, NULL, NULL, flags);
  properties[PROP_REDO_NAME] = g_param_spec_string ("redo-name", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Emitted after every edit, undo, redo, load and model switch. */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[NODE_ADDED] = g_signal_new ("node-added", G_TYPE_FROM_CLASS (klass),
                                      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_INT);
  signals[NODE_REMOVED] = g_signal_new ("node-removed", G_TYPE_FROM_CLASS (klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                        G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
weft_document_init (WeftDocument *self)
{
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);
  self->model = WEFT_ID_NONE;
  self->head_pos = head_pos_new ();
}

static void
take_graph (WeftDocument *self, WeftGraph *graph, WeftHistory *history)
{
  WeftGraph *old = self->graph;
  WeftId old_model = self->model;

  if (weft_graph_get_main_model (graph) == WEFT_ID_NONE)
    {
      WeftId main_model = weft_graph_add_model (graph, "model", NULL);
      if (main_model == WEFT_ID_NONE)
        main_model = weft_graph_add_model (graph, NULL, NULL);
      weft_graph_set_main_model (graph, main_model);
    }
  self->graph = graph;
  if (self->history != history)
    g_clear_pointer (&self->history, weft_history_free);
  self->history = history;
  self->model = weft_graph_get_main_model (graph);
  g_hash_table_remove_all (self->head_pos);
  clear_stack (&self->undo);
  clear_stack (&self->redo);
  self->state = self->saved_state = ++self->next_state;
  self->modified = FALSE;
  weft_graph_analyse (graph);
  emit_changes (self, old, old_model);
  weft_graph_free (old);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
  notify_undo_state (self);
}

WeftDocument *
weft_document_new (void)
{
  return weft_document_new_for_graph (weft_graph_new (), NULL);
}

WeftDocument *
weft_document_new_for_graph (WeftGraph *graph, WeftHistory *history)
{
  WeftDocument *self;

  g_return_val_if_fail (graph != NULL, NULL);
  self = g_object_new (WEFT_TYPE_DOCUMENT, NULL);
  take_graph (self, graph, history);
  return self;
}

gboolean
weft_document_load (WeftDocument *self, GFile *file, GError **error)
{
  g_autofree char *path = NULL;
  WeftHistory *history = NULL;
  WeftFileMeta meta = { 0 };
  WeftGraph *graph;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Only local files can be opened"));
      return FALSE;
    }
  graph = weft_file_load_full (path, &history, &meta, error);
  if (graph == NULL)
    return FALSE;
  g_set_object (&self->file, file);
  take_graph (self, graph, history);
  weft_document_set_file_meta (self, &meta);
  weft_file_meta_clear (&meta);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
  return TRUE;
}

gboolean
weft_document_save (WeftDocument *self, GFile *file, GError **error)
{
  g_autofree char *path = NULL;
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Only local files can be saved"));
      return FALSE;
    }
  /* the file's own title, description and data binding go back in, with the head boxes */
  g_clear_pointer (&self->meta.head_positions, g_hash_table_unref);
  self->meta.head_positions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (int m = 0; m < weft_graph_n_models (self->graph); m++)
    {
      WeftId model = weft_graph_model_at (self->graph, m);
      for (int i = 0; i < weft_graph_model_n_outputs (self->graph, model); i++)
        {
          g_autofree char *key = head_key (self->graph, model, i);
          const WeftPoint *p = g_hash_table_lookup (self->head_pos, key);
          if (p != NULL)
            {
              double *xy = g_new (double, 2);
              xy[0] = p->x;
              xy[1] = p->y;
              g_hash_table_insert (self->meta.head_positions,
                                   g_strdup_printf ("%s/%d", weft_graph_get_name (self->graph, model), i),
                                   xy);
            }
        }
    }
  ok = weft_file_save_full (self->graph, self->history, &self->meta, path, error);
  g_clear_pointer (&self->meta.head_positions, g_hash_table_unref);
  if (!ok)
    return FALSE;
  self->saved_state = self->state;
  self->modified = FALSE;
  if (g_set_object (&self->file, file))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRTY]);
  return TRUE;
}

void
weft_document_set_file_meta (WeftDocument *self, const WeftFileMeta *meta)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  g_return_if_fail (meta != NULL);

  weft_file_meta_clear (&self->meta);
  self->meta.name = g_strdup (meta->name);
  self->meta.description = g_strdup (meta->description);
  self->meta.data = meta->data != NULL ? json_node_copy (meta->data) : NULL;
  g_hash_table_remove_all (self->head_pos);
  if (meta->head_positions == NULL)
    return;
  for (int m = 0; m < weft_graph_n_models (self->graph); m++)
    {
      WeftId model = weft_graph_model_at (self->graph, m);
      for (int i = 0; i < weft_graph_model_n_outputs (self->graph, model); i++)
        {
          g_autofree char *file_key = g_strdup_printf ("%s/%d", weft_graph_get_name (self->graph, model), i);
          const double *xy = g_hash_table_lookup (meta->head_positions, file_key);
          if (xy != NULL)
            {
              WeftPoint p = { xy[0], xy[1] };
              g_hash_table_insert (self->head_pos, head_key (self->graph, model, i),
                                   g_memdup2 (&p, sizeof p));
            }
        }
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

void
weft_document_set_data_binding (WeftDocument *self, JsonNode *data)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));

  if (data == self->meta.data
      || (data != NULL && self->meta.data != NULL && json_node_equal (data, self->meta.data)))
    return;
  g_clear_pointer (&self->meta.data, json_node_unref);
  self->meta.data = data != NULL ? json_node_copy (data) : NULL;
  weft_document_mark_modified (self);
}

const WeftFileMeta *
weft_document_get_file_meta (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  return &self->meta;
}

GArray *
weft_document_dup_head_positions (WeftDocument *self)
{
  int n;
  GArray *positions;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  n = weft_graph_model_n_outputs (self->graph, self->model);
  positions = g_array_sized_new (FALSE, FALSE, sizeof (WeftPoint), n);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *key = head_key (self->graph, self->model, i);
      const WeftPoint *p = g_hash_table_lookup (self->head_pos, key);
      WeftPoint at = p != NULL ? *p : (WeftPoint) { NAN, NAN };
      g_array_append_val (positions, at);
    }
  return positions;
}

WeftGraph *
weft_document_get_graph (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  return self->graph;
}

WeftHistory *
weft_document_get_history (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  return self->history;
}

WeftId
weft_document_get_model (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), WEFT_ID_NONE);
  return self->model;
}

void
weft_document_set_model (WeftDocument *self, WeftId model)
{
  WeftId old;

  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  g_return_if_fail (weft_graph_kind (self->graph, model) == WEFT_KIND_MODEL);
  if (self->model == model)
    return;
  old = self->model;
  self->model = model;
  emit_changes (self, self->graph, old);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

GFile *
weft_document_get_file (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  return self->file;
}

void
weft_document_set_file (WeftDocument *self, GFile *file)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));
  if (g_set_object (&self->file, file))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
}

gboolean
weft_document_get_dirty (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  return self->state != self->saved_state || self->modified;
}

void
weft_document_mark_modified (WeftDocument *self)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  self->modified = TRUE;
  /* notified every time, not only on the flip: autosave counts each change */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRTY]);
}

void
weft_document_set_history (WeftDocument *self, WeftHistory *history)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  if (history == self->history)
    return;
  g_clear_pointer (&self->history, weft_history_free);
  self->history = history;
  weft_document_mark_modified (self);
}

static gboolean
optim_config_equal (const WeftOptimConfig *a, const WeftOptimConfig *b)
{
  return a->kind == b->kind && a->learning_rate == b->learning_rate
         && a->momentum == b->momentum && a->nesterov == b->nesterov
         && a->beta_1 == b->beta_1 && a->beta_2 == b->beta_2 && a->epsilon == b->epsilon
         && a->rho == b->rho && a->weight_decay == b->weight_decay
         && a->clipnorm == b->clipnorm && a->global_clipnorm == b->global_clipnorm;
}

/* Field by field: memcmp would see the padding and the bytes after data's NUL. */
static gboolean
train_config_equal (const WeftTrainConfig *a, const WeftTrainConfig *b)
{
  return optim_config_equal (&a->optimizer, &b->optimizer) && a->epochs == b->epochs
         && a->batch_size == b->batch_size && a->validation_split == b->validation_split
         && a->shuffle == b->shuffle && a->seed == b->seed && a->threads == b->threads
         && strncmp (a->data, b->data, sizeof a->data) == 0;
}

void
weft_document_set_train_config (WeftDocument *self, const WeftTrainConfig *config)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  g_return_if_fail (config != NULL);
  if (train_config_equal (weft_graph_get_train_config (self->graph), config))
    return;
  weft_graph_set_train_config (self->graph, config);
  weft_document_mark_modified (self);
}

char *
weft_document_dup_title (WeftDocument *self)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  if (self->file == NULL)
    return g_strdup (self->display_name != NULL ? self->display_name : _("Untitled"));
  return g_file_get_basename (self->file);
}

/* ---- helpers ---- */

static gboolean
node_in_model (WeftDocument *self, WeftId node, GError **error)
{
  if (weft_graph_kind (self->graph, node) != WEFT_KIND_NODE
      || weft_graph_node_model (self->graph, node) != self->model)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                   _("Node %d is not part of the model being edited"), node);
      return FALSE;
    }
  return TRUE;
}

static const char *
callee_name (WeftGraph *graph, WeftId node)
{
  return weft_graph_get_name (graph, weft_graph_node_callee (graph, node));
}

static gboolean
is_input_layer (WeftGraph *graph, WeftId callee)
{
  const WeftOpDesc *op;

  if (weft_graph_kind (graph, callee) != WEFT_KIND_LAYER)
    return FALSE;
  op = weft_graph_layer_op (graph, callee);
  return op != NULL && (op->flags & WEFT_OP_INPUT);
}

static WeftId
add_node_at (WeftDocument *self, WeftId callee, double x, double y, GError **error)
{
  WeftError e = { 0 };
  WeftId node = weft_graph_add_node (self->graph, self->model, callee, &e);

  if (node == WEFT_ID_NONE)
    {
      set_weft_error (error, &e);
      return WEFT_ID_NONE;
    }
  weft_graph_node_set_position (self->graph, node, x, y);
  if (is_input_layer (self->graph, callee)
      && !weft_graph_model_add_input (self->graph, self->model, node, &e))
    {
      set_weft_error (error, &e);
      return WEFT_ID_NONE;
    }
  return node;
}

static gboolean
copy_layer_settings (WeftGraph *dst, WeftId dst_layer, WeftGraph *src, WeftId src_layer,
                     GError **error)
{
  const WeftOpDesc *op = weft_graph_layer_op (src, src_layer);
  const WeftValue *cfg = weft_graph_layer_config (src, src_layer);

  for (int i = 0; i < op->n_params; i++)
    {
      WeftError e = { 0 };
      if (!weft_graph_layer_set_param (dst, dst_layer, op->params[i].name, &cfg[i], &e))
        return set_weft_error (error, &e);
    }
  weft_graph_layer_set_trainable (dst, dst_layer, weft_graph_layer_get_trainable (src, src_layer));
  return TRUE;
}

static void
remove_orphan_layers (WeftGraph *graph)
{
  for (int i = weft_graph_n_layers (graph) - 1; i >= 0; i--)
    {
      WeftId layer = weft_graph_layer_at (graph, i);
      if (weft_graph_callee_n_nodes (graph, layer) == 0)
        weft_graph_remove_layer (graph, layer);
    }
}

/* The strings go through g_dngettext at the call sites so that xgettext extracts both forms. */
static char *
count_name (const char *translated_format, int n)
{
  return g_strdup_printf (translated_format, n);
}

/* ---- commands ---- */

WeftId
weft_document_add_layer (WeftDocument *self, const char *type, double x, double y,
                         GError **error)
{
  WeftError e = { 0 };
  WeftId layer, node = WEFT_ID_NONE;
  g_autofree char *name = NULL;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), WEFT_ID_NONE);
  g_return_val_if_fail (type != NULL, WEFT_ID_NONE);
  begin (self);
  layer = weft_graph_add_layer (self->graph, type, NULL, &e);
  if (layer == WEFT_ID_NONE)
    set_weft_error (error, &e);
  else
    node = add_node_at (self, layer, x, y, error);
  /* TRANSLATORS: undo history entry, %s is a layer type such as "Dense" */
  name = g_strdup_printf (_("Add %s"), type);
  return end (self, node != WEFT_ID_NONE, name) ? node : WEFT_ID_NONE;
}

WeftId
weft_document_call_again (WeftDocument *self, WeftId node, double x, double y, GError **error)
{
  WeftId copy = WEFT_ID_NONE;
  g_autofree char *name = NULL;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), WEFT_ID_NONE);
  if (!node_in_model (self, node, error))
    return WEFT_ID_NONE;
  if (is_input_layer (self->graph, weft_graph_node_callee (self->graph, node)))
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                   _("An Input cannot be called again: add another Input instead"));
      return WEFT_ID_NONE;
    }
  /* TRANSLATORS: undo history entry, %s is a layer name such as "dense_1" */
  name = g_strdup_printf (_("Call %s again"), callee_name (self->graph, node));
  begin (self);
  copy = add_node_at (self, weft_graph_node_callee (self->graph, node), x, y, error);
  return end (self, copy != WEFT_ID_NONE, name) ? copy : WEFT_ID_NONE;
}

WeftId
weft_document_add_model_node (WeftDocument *self, WeftId callee, double x, double y,
                              GError **error)
{
  WeftId node;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), WEFT_ID_NONE);
  if (weft_graph_kind (self->graph, callee) != WEFT_KIND_MODEL)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("Not a model"));
      return WEFT_ID_NONE;
    }
  begin (self);
  node = add_node_at (self, callee, x, y, error);
  return end (self, node != WEFT_ID_NONE, _("Place model")) ? node : WEFT_ID_NONE;
}

GArray *
weft_document_paste (WeftDocument *self, WeftGraph *source, const WeftId *nodes, int n_nodes,
                     double dx, double dy, gboolean duplicate, GError **error)
{
  g_autoptr (GHashTable) map = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) created = g_array_new (FALSE, FALSE, sizeof (WeftId));
  g_autofree char *name = NULL;
  gboolean same = source == self->graph;
  gboolean ok = TRUE;
  WeftGraph *src;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), NULL);
  g_return_val_if_fail (source != NULL, NULL);
  if (n_nodes <= 0)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("Nothing to copy"));
      return NULL;
    }
  /* TRANSLATORS: undo history entries */
  name = duplicate ? count_name (g_dngettext (GETTEXT_PACKAGE, "Duplicate %d node",
                                              "Duplicate %d nodes", n_nodes), n_nodes)
                   : count_name (g_dngettext (GETTEXT_PACKAGE, "Paste %d node",
                                              "Paste %d nodes", n_nodes), n_nodes);
  begin (self);
  /* the source may be this very graph: read it from the snapshot, which stays unchanged */
  src = same ? self->before : source;
  for (int i = 0; i < n_nodes && ok; i++)
    {
      WeftId node = nodes[i], callee, new_callee = WEFT_ID_NONE, copy;
      double x, y;
      if (weft_graph_kind (src, node) != WEFT_KIND_NODE)
        {
          g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                       _("Node %d does not exist"), node);
          ok = FALSE;
          break;
        }
      callee = weft_graph_node_callee (src, node);
      if (weft_graph_kind (src, callee) == WEFT_KIND_MODEL)
        {
          /* a model is pasted as another call of the model of that name */
          new_callee = same ? callee : weft_graph_find (self->graph, weft_graph_get_name (src, callee));
          if (weft_graph_kind (self->graph, new_callee) != WEFT_KIND_MODEL
              || new_callee == self->model)
            {
              g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                           _("The model “%s” cannot be placed here"),
                           weft_graph_get_name (src, callee));
              ok = FALSE;
              break;
            }
        }
      else
        {
          WeftError e = { 0 };
          const WeftOpDesc *op = weft_graph_layer_op (src, callee);
          new_callee = weft_graph_add_layer (self->graph, op->name, NULL, &e);
          if (new_callee == WEFT_ID_NONE)
            ok = set_weft_error (error, &e);
          else
            ok = copy_layer_settings (self->graph, new_callee, src, callee, error);
          if (!ok)
            break;
        }
      weft_graph_node_get_position (src, node, &x, &y);
      copy = add_node_at (self, new_callee, x + dx, y + dy, error);
      if (copy == WEFT_ID_NONE)
        {
          ok = FALSE;
          break;
        }
      g_hash_table_insert (map, GINT_TO_POINTER (node), GINT_TO_POINTER (copy));
      g_array_append_val (created, copy);
    }
  /* the wires among the copied nodes */
  for (int i = 0; i < n_nodes && ok; i++)
    {
      WeftId copy = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (nodes[i])));
      int n_in = weft_graph_node_n_inputs (src, nodes[i]);
      for (int port = 0; port < n_in && ok; port++)
        {
          WeftId s;
          int sp;
          WeftError e = { 0 };
          if (!weft_graph_node_input (src, nodes[i], port, &s, &sp)
              || !g_hash_table_contains (map, GINT_TO_POINTER (s)))
            continue;
          if (!weft_graph_connect (self->graph,
                                   GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (s))),
                                   sp, copy, port, &e))
            ok = set_weft_error (error, &e);
        }
    }
  if (!end (self, ok, name))
    return NULL;
  return g_steal_pointer (&created);
}

gboolean
weft_document_remove_nodes (WeftDocument *self, const WeftId *nodes, int n_nodes,
                            GError **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (n_nodes <= 0)
    return FALSE;
  for (int i = 0; i < n_nodes; i++)
    if (!node_in_model (self, nodes[i], error))
      return FALSE;
  /* TRANSLATORS: undo history entry */
  name = count_name (g_dngettext (GETTEXT_PACKAGE, "Delete %d node", "Delete %d nodes", n_nodes),
                     n_nodes);
  begin (self);
  for (int i = 0; i < n_nodes; i++)
    {
      WeftId callee;
      if (weft_graph_kind (self->graph, nodes[i]) != WEFT_KIND_NODE)
        continue;   /* listed twice */
      callee = weft_graph_node_callee (self->graph, nodes[i]);
      weft_graph_remove_node (self->graph, nodes[i]);
      if (weft_graph_kind (self->graph, callee) == WEFT_KIND_LAYER
          && weft_graph_callee_n_nodes (self->graph, callee) == 0)
        weft_graph_remove_layer (self->graph, callee);
    }
  return end (self, TRUE, name);
}

gboolean
weft_document_connect (WeftDocument *self, WeftId src, int src_port, WeftId dst, int dst_port,
                       GError **error)
{
  WeftError e = { 0 };
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (!node_in_model (self, src, error) || !node_in_model (self, dst, error))
    return FALSE;
  begin (self);
  ok = weft_graph_connect (self->graph, src, src_port, dst, dst_port, &e);
  if (!ok)
    set_weft_error (error, &e);
  return end (self, ok, _("Connect"));
}

gboolean
weft_document_disconnect (WeftDocument *self, WeftId dst, int dst_port, GError **error)
{
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (!node_in_model (self, dst, error))
    return FALSE;
  begin (self);
  ok = weft_graph_disconnect (self->graph, dst, dst_port);
  if (!ok)
    g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("There is no wire here"));
  return end (self, ok, _("Disconnect"));
}

gboolean
weft_document_move_nodes (WeftDocument *self, const WeftId *nodes, int n_nodes, double dx,
                          double dy)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (n_nodes <= 0 || (dx == 0 && dy == 0) || !isfinite (dx) || !isfinite (dy))
    return FALSE;
  for (int i = 0; i < n_nodes; i++)
    if (WEFT_CANVAS_IS_HEAD_ID (nodes[i])
        ? WEFT_CANVAS_HEAD_INDEX (nodes[i]) >= weft_graph_model_n_outputs (self->graph, self->model)
        : !node_in_model (self, nodes[i], NULL))
      return FALSE;
  /* TRANSLATORS: undo history entry */
  name = count_name (g_dngettext (GETTEXT_PACKAGE, "Move %d node", "Move %d nodes", n_nodes),
                     n_nodes);
  begin (self);
  for (int i = 0; i < n_nodes; i++)
    if (WEFT_CANVAS_IS_HEAD_ID (nodes[i]))
      {
        /* a head placed automatically starts from where it is drawn now */
        g_autoptr (GArray) positions = weft_document_dup_head_positions (self);
        WeftCanvasScene *scene = weft_canvas_scene_new ();
        const WeftCanvasNode *n;
        WeftPoint p = { NAN, NAN };

        weft_canvas_scene_build (scene, self->before, self->model, positions);
        n = weft_canvas_scene_lookup (scene, nodes[i]);
        if (n != NULL)
          p = (WeftPoint) { n->x + dx, n->y + dy };
        weft_canvas_scene_free (scene);
        if (isfinite (p.x) && isfinite (p.y))
          g_hash_table_replace (self->head_pos,
                                head_key (self->graph, self->model, WEFT_CANVAS_HEAD_INDEX (nodes[i])),
                                g_memdup2 (&p, sizeof p));
      }
    else
      {
        double x, y;
        weft_graph_node_get_position (self->graph, nodes[i], &x, &y);
        weft_graph_node_set_position (self->graph, nodes[i], x + dx, y + dy);
      }
  return end (self, TRUE, name);
}

gboolean
weft_document_set_param (WeftDocument *self, WeftId layer, const char *param,
                         const WeftValue *value, GError **error)
{
  WeftError e = { 0 };
  g_autofree char *name = NULL;
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (param != NULL && value != NULL, FALSE);
  if (weft_graph_kind (self->graph, layer) != WEFT_KIND_LAYER)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("Not a layer"));
      return FALSE;
    }
  /* TRANSLATORS: undo history entry, %s is a parameter such as "units" */
  name = g_strdup_printf (_("Change %s"), param);
  begin (self);
  ok = weft_graph_layer_set_param (self->graph, layer, param, value, &e);
  if (!ok)
    set_weft_error (error, &e);
  return end (self, ok, name);
}

gboolean
weft_document_rename (WeftDocument *self, WeftId layer_or_model, const char *new_name,
                      GError **error)
{
  WeftError e = { 0 };
  g_autofree char *name = NULL;
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (new_name != NULL, FALSE);
  if (weft_graph_kind (self->graph, layer_or_model) != WEFT_KIND_LAYER
      && weft_graph_kind (self->graph, layer_or_model) != WEFT_KIND_MODEL)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("Nothing to rename"));
      return FALSE;
    }
  if (g_strcmp0 (weft_graph_get_name (self->graph, layer_or_model), new_name) == 0)
    return TRUE;
  /* TRANSLATORS: undo history entry, %s is the old name */
  name = g_strdup_printf (_("Rename %s"), weft_graph_get_name (self->graph, layer_or_model));
  begin (self);
  ok = weft_graph_set_name (self->graph, layer_or_model, new_name, &e);
  if (!ok)
    set_weft_error (error, &e);
  return end (self, ok, name);
}

gboolean
weft_document_set_trainable (WeftDocument *self, WeftId layer, gboolean trainable)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (weft_graph_kind (self->graph, layer) != WEFT_KIND_LAYER
      || weft_graph_layer_get_trainable (self->graph, layer) == trainable)
    return FALSE;
  begin (self);
  weft_graph_layer_set_trainable (self->graph, layer, trainable);
  return end (self, TRUE, trainable ? _("Unfreeze layer") : _("Freeze layer"));
}

gboolean
weft_document_add_head (WeftDocument *self, WeftId node, int port, GError **error)
{
  WeftHead head = { node, port, WEFT_LOSS_MSE, 1.0f, false, WEFT_METRIC_NONE, 1.0f };
  WeftError e = { 0 };
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (!node_in_model (self, node, error))
    return FALSE;
  /* heads of a model used as a layer are plain outputs: no loss */
  if (self->model != weft_graph_get_main_model (self->graph))
    head.loss = WEFT_LOSS_NONE;
  for (int i = 0; i < weft_graph_model_n_outputs (self->graph, self->model); i++)
    {
      const WeftHead *h = weft_graph_model_output (self->graph, self->model, i);
      if (h->node == node && h->port == port)
        {
          g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                       _("This output is a head already"));
          return FALSE;
        }
    }
  begin (self);
  ok = weft_graph_model_add_output (self->graph, self->model, &head, &e);
  if (!ok)
    set_weft_error (error, &e);
  return end (self, ok, _("Add head"));
}

gboolean
weft_document_set_head (WeftDocument *self, int index, const WeftHead *head, const char *what,
                        GError **error)
{
  gboolean ok;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (head != NULL, FALSE);
  if (index < 0 || index >= weft_graph_model_n_outputs (self->graph, self->model))
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("No such head"));
      return FALSE;
    }
  if (!node_in_model (self, head->node, error))
    return FALSE;
  if (memcmp (head, weft_graph_model_output (self->graph, self->model, index),
              sizeof *head) == 0)
    return TRUE;
  begin (self);
  ok = weft_graph_model_set_head (self->graph, self->model, index, head);
  if (!ok)
    g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("The head was refused"));
  return end (self, ok, what != NULL ? what : _("Change head"));
}

gboolean
weft_document_remove_head (WeftDocument *self, int index)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (index < 0 || index >= weft_graph_model_n_outputs (self->graph, self->model))
    return FALSE;
  begin (self);
  return end (self, weft_graph_model_remove_output (self->graph, self->model, index),
              _("Remove head"));
}

gboolean
weft_document_set_head_weights (WeftDocument *self, WeftId model, const float *weights,
                                int n_weights, const char *what, GError **error)
{
  gboolean ok = TRUE, same = TRUE;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (weights != NULL || n_weights == 0, FALSE);
  if (weft_graph_kind (self->graph, model) != WEFT_KIND_MODEL)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("No such model"));
      return FALSE;
    }
  if (n_weights < 0 || n_weights > weft_graph_model_n_outputs (self->graph, model))
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("No such head"));
      return FALSE;
    }
  for (int i = 0; i < n_weights; i++)
    {
      if (!isfinite (weights[i]) || weights[i] < 0)
        {
          g_set_error_literal (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_PARAM_RANGE,
                               weft_document_describe_status (WEFT_ERROR_PARAM_RANGE));
          return FALSE;
        }
      same = same && weft_graph_model_output (self->graph, model, i)->weight == weights[i];
    }
  if (same)
    return TRUE;
  begin (self);
  for (int i = 0; ok && i < n_weights; i++)
    {
      WeftHead head = *weft_graph_model_output (self->graph, model, i);
      head.weight = weights[i];
      ok = weft_graph_model_set_head (self->graph, model, i, &head);
    }
  if (!ok)
    g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("The head was refused"));
  return end (self, ok, what != NULL ? what : _("Change loss weights"));
}

/* ---- group / ungroup ---- */

typedef struct { WeftId node; int port; } Tensor;

static guint
tensor_hash (gconstpointer p)
{
  const Tensor *t = p;
  return (guint) t->node * 31u + (guint) t->port;
}

static gboolean
tensor_equal (gconstpointer a, gconstpointer b)
{
  const Tensor *x = a, *y = b;
  return x->node == y->node && x->port == y->port;
}

static char *
unique_model_name (WeftGraph *graph)
{
  for (int i = 0;; i++)
    {
      char *name = i == 0 ? g_strdup ("block") : g_strdup_printf ("block_%d", i);
      if (weft_graph_find (graph, name) == WEFT_ID_NONE)
        return name;
      g_free (name);
    }
}

static WeftId
group_internal (WeftDocument *self, const WeftId *nodes, int n_nodes, GError **error)
{
  WeftGraph *g = self->graph;
  WeftId outer = self->model, model, call;
  g_autoptr (GHashTable) in_sel = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) map = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) inputs = g_hash_table_new_full (tensor_hash, tensor_equal, g_free, NULL);
  g_autoptr (GHashTable) outputs = g_hash_table_new_full (tensor_hash, tensor_equal, g_free, NULL);
  g_autoptr (GArray) input_order = g_array_new (FALSE, FALSE, sizeof (Tensor));
  g_autoptr (GArray) output_order = g_array_new (FALSE, FALSE, sizeof (Tensor));
  g_autofree char *model_name = NULL;
  WeftError e = { 0 };
  double cx = 0, cy = 0;

  for (int i = 0; i < n_nodes; i++)
    {
      if (is_input_layer (g, weft_graph_node_callee (g, nodes[i])))
        {
          g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                       _("Inputs of the model cannot be grouped; select the layers after them"));
          return WEFT_ID_NONE;
        }
      g_hash_table_add (in_sel, GINT_TO_POINTER (nodes[i]));
    }

  model_name = unique_model_name (g);
  model = weft_graph_add_model (g, model_name, &e);
  if (model == WEFT_ID_NONE)
    return set_weft_error (error, &e), WEFT_ID_NONE;

  /* wires entering the selection become Input layers of the new model */
  for (int i = 0; i < n_nodes; i++)
    {
      int n_in = weft_graph_node_n_inputs (g, nodes[i]);
      for (int port = 0; port < n_in; port++)
        {
          Tensor t;
          WeftShape shape;
          WeftId layer, node;
          WeftValue value = { 0 };
          if (!weft_graph_node_input (g, nodes[i], port, &t.node, &t.port)
              || g_hash_table_contains (in_sel, GINT_TO_POINTER (t.node))
              || g_hash_table_contains (inputs, &t))
            continue;
          if (!weft_graph_node_shape (g, t.node, t.port, &shape))
            {
              g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_SHAPE,
                           _("The shape entering “%s” is unknown; fix the errors before grouping"),
                           callee_name (g, nodes[i]));
              return WEFT_ID_NONE;
            }
          layer = weft_graph_add_layer (g, "Input", NULL, &e);
          value.n = shape.rank;
          memcpy (value.ints, shape.dims, sizeof value.ints);
          if (layer == WEFT_ID_NONE
              || !weft_graph_layer_set_param (g, layer, "shape", &value, &e)
              || (node = weft_graph_add_node (g, model, layer, &e)) == WEFT_ID_NONE
              || !weft_graph_model_add_input (g, model, node, &e))
            return set_weft_error (error, &e), WEFT_ID_NONE;
          g_hash_table_insert (inputs, g_memdup2 (&t, sizeof t), GINT_TO_POINTER (node));
          g_array_append_val (input_order, t);
        }
    }

  /* the selected calls move into the model (same layers: same weights) */
  for (int i = 0; i < n_nodes; i++)
    {
      double x, y;
      WeftId copy = weft_graph_add_node (g, model, weft_graph_node_callee (g, nodes[i]), &e);
      if (copy == WEFT_ID_NONE)
        return set_weft_error (error, &e), WEFT_ID_NONE;
      weft_graph_node_get_position (g, nodes[i], &x, &y);
      weft_graph_node_set_position (g, copy, x, y);
      cx += x / n_nodes;
      cy += y / n_nodes;
      g_hash_table_insert (map, GINT_TO_POINTER (nodes[i]), GINT_TO_POINTER (copy));
    }
  for (int i = 0; i < n_nodes; i++)
    {
      int n_in = weft_graph_node_n_inputs (g, nodes[i]);
      WeftId copy = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (nodes[i])));
      for (int port = 0; port < n_in; port++)
        {
          Tensor t;
          WeftId src;
          int src_port = 0;
          if (!weft_graph_node_input (g, nodes[i], port, &t.node, &t.port))
            continue;
          if (g_hash_table_contains (in_sel, GINT_TO_POINTER (t.node)))
            src = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (t.node))),
            src_port = t.port;
          else
            src = GPOINTER_TO_INT (g_hash_table_lookup (inputs, &t));
          if (!weft_graph_connect (g, src, src_port, copy, port, &e))
            return set_weft_error (error, &e), WEFT_ID_NONE;
        }
    }

  /* tensors read outside the selection (wires and heads) become its outputs */
  for (int i = 0; i < weft_graph_model_n_nodes (g, outer); i++)
    {
      WeftId consumer = weft_graph_model_node_at (g, outer, i);
      int n_in;
      if (g_hash_table_contains (in_sel, GINT_TO_POINTER (consumer)))
        continue;
      n_in = weft_graph_node_n_inputs (g, consumer);
      for (int port = 0; port < n_in; port++)
        {
          Tensor t;
          if (weft_graph_node_input (g, consumer, port, &t.node, &t.port)
              && g_hash_table_contains (in_sel, GINT_TO_POINTER (t.node))
              && !g_hash_table_contains (outputs, &t))
            {
              g_hash_table_insert (outputs, g_memdup2 (&t, sizeof t),
                                   GINT_TO_POINTER (output_order->len));
              g_array_append_val (output_order, t);
            }
        }
    }
  for (int i = 0; i < weft_graph_model_n_outputs (g, outer); i++)
    {
      const WeftHead *h = weft_graph_model_output (g, outer, i);
      Tensor t = { h->node, h->port };
      if (g_hash_table_contains (in_sel, GINT_TO_POINTER (t.node))
          && !g_hash_table_contains (outputs, &t))
        {
          g_hash_table_insert (outputs, g_memdup2 (&t, sizeof t),
                               GINT_TO_POINTER (output_order->len));
          g_array_append_val (output_order, t);
        }
    }
  if (output_order->len == 0)
    {
      /* nothing reads the selection yet: its last nodes are the outputs */
      for (int i = 0; i < n_nodes; i++)
        {
          gboolean read = FALSE;
          for (int j = 0; j < n_nodes && !read; j++)
            for (int port = 0; port < weft_graph_node_n_inputs (g, nodes[j]); port++)
              {
                Tensor t;
                if (weft_graph_node_input (g, nodes[j], port, &t.node, &t.port)
                    && t.node == nodes[i])
                  read = TRUE;
              }
          if (!read)
            {
              Tensor t = { nodes[i], 0 };
              g_hash_table_insert (outputs, g_memdup2 (&t, sizeof t),
                                   GINT_TO_POINTER (output_order->len));
              g_array_append_val (output_order, t);
            }
        }
    }
  for (guint i = 0; i < output_order->len; i++)
    {
      Tensor t = g_array_index (output_order, Tensor, i);
      WeftHead head = { GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (t.node))),
                        t.port, WEFT_LOSS_NONE, 1.0f, false, WEFT_METRIC_NONE, 1.0f };
      if (!weft_graph_model_add_output (g, model, &head, &e))
        return set_weft_error (error, &e), WEFT_ID_NONE;
    }

  /* one call of the model in place of the selection */
  call = weft_graph_add_node (g, outer, model, &e);
  if (call == WEFT_ID_NONE)
    return set_weft_error (error, &e), WEFT_ID_NONE;
  weft_graph_node_set_position (g, call, weft_canvas_snap (cx), weft_canvas_snap (cy));
  for (guint i = 0; i < input_order->len; i++)
    {
      Tensor t = g_array_index (input_order, Tensor, i);
      if (!weft_graph_connect (g, t.node, t.port, call, (int) i, &e))
        return set_weft_error (error, &e), WEFT_ID_NONE;
    }
  for (int i = 0; i < weft_graph_model_n_nodes (g, outer); i++)
    {
      WeftId consumer = weft_graph_model_node_at (g, outer, i);
      int n_in;
      if (consumer == call || g_hash_table_contains (in_sel, GINT_TO_POINTER (consumer)))
        continue;
      n_in = weft_graph_node_n_inputs (g, consumer);
      for (int port = 0; port < n_in; port++)
        {
          Tensor t;
          if (weft_graph_node_input (g, consumer, port, &t.node, &t.port)
              && g_hash_table_contains (outputs, &t)
              && !weft_graph_connect (g, call,
                                      GPOINTER_TO_INT (g_hash_table_lookup (outputs, &t)),
                                      consumer, port, &e))
            return set_weft_error (error, &e), WEFT_ID_NONE;
        }
    }
  for (int i = 0; i < weft_graph_model_n_outputs (g, outer); i++)
    {
      WeftHead h = *weft_graph_model_output (g, outer, i);
      Tensor t = { h.node, h.port };
      if (g_hash_table_contains (outputs, &t))
        {
          h.node = call;
          h.port = GPOINTER_TO_INT (g_hash_table_lookup (outputs, &t));
          weft_graph_model_set_head (g, outer, i, &h);
        }
    }
  for (int i = 0; i < n_nodes; i++)
    weft_graph_remove_node (g, nodes[i]);
  return call;
}

WeftId
weft_document_group (WeftDocument *self, const WeftId *nodes, int n_nodes, GError **error)
{
  WeftId call;

  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), WEFT_ID_NONE);
  if (n_nodes <= 0)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID, _("Select nodes to group"));
      return WEFT_ID_NONE;
    }
  for (int i = 0; i < n_nodes; i++)
    if (!node_in_model (self, nodes[i], error))
      return WEFT_ID_NONE;
  begin (self);
  call = group_internal (self, nodes, n_nodes, error);
  return end (self, call != WEFT_ID_NONE, _("Group into model")) ? call : WEFT_ID_NONE;
}

static gboolean
ungroup_internal (WeftDocument *self, WeftId call, GError **error)
{
  WeftGraph *g = self->graph;
  WeftId outer = self->model, model = weft_graph_node_callee (g, call);
  g_autoptr (GHashTable) map = g_hash_table_new (g_direct_hash, g_direct_equal);
  WeftError e = { 0 };
  double call_x, call_y, cx = 0, cy = 0;
  int n = weft_graph_model_n_nodes (g, model), n_inner = 0;

  weft_graph_node_get_position (g, call, &call_x, &call_y);
  for (int i = 0; i < n; i++)
    {
      WeftId node = weft_graph_model_node_at (g, model, i);
      double x, y;
      if (is_input_layer (g, weft_graph_node_callee (g, node)))
        continue;
      weft_graph_node_get_position (g, node, &x, &y);
      cx += x, cy += y, n_inner++;
    }
  if (n_inner > 0)
    cx /= n_inner, cy /= n_inner;

  for (int i = 0; i < n; i++)
    {
      WeftId node = weft_graph_model_node_at (g, model, i), copy;
      double x, y;
      if (is_input_layer (g, weft_graph_node_callee (g, node)))
        continue;
      copy = weft_graph_add_node (g, outer, weft_graph_node_callee (g, node), &e);
      if (copy == WEFT_ID_NONE)
        return set_weft_error (error, &e);
      weft_graph_node_get_position (g, node, &x, &y);
      weft_graph_node_set_position (g, copy, weft_canvas_snap (call_x + x - cx),
                                    weft_canvas_snap (call_y + y - cy));
      g_hash_table_insert (map, GINT_TO_POINTER (node), GINT_TO_POINTER (copy));
    }
  for (int i = 0; i < n; i++)
    {
      WeftId node = weft_graph_model_node_at (g, model, i), copy;
      if (!g_hash_table_contains (map, GINT_TO_POINTER (node)))
        continue;
      copy = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (node)));
      for (int port = 0; port < weft_graph_node_n_inputs (g, node); port++)
        {
          WeftId src, outer_src = WEFT_ID_NONE;
          int sp, outer_port = 0;
          if (!weft_graph_node_input (g, node, port, &src, &sp))
            continue;
          if (g_hash_table_contains (map, GINT_TO_POINTER (src)))
            outer_src = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (src))),
            outer_port = sp;
          else
            for (int k = 0; k < weft_graph_model_n_inputs (g, model); k++)
              if (weft_graph_model_input (g, model, k) == src
                  && !weft_graph_node_input (g, call, k, &outer_src, &outer_port))
                outer_src = WEFT_ID_NONE;
          if (outer_src != WEFT_ID_NONE
              && !weft_graph_connect (g, outer_src, outer_port, copy, port, &e))
            return set_weft_error (error, &e);
        }
    }
  /* consumers and heads of the call read the model's outputs directly */
  for (int i = 0; i < weft_graph_model_n_nodes (g, outer); i++)
    {
      WeftId consumer = weft_graph_model_node_at (g, outer, i);
      for (int port = 0; port < weft_graph_node_n_inputs (g, consumer); port++)
        {
          WeftId src;
          int sp;
          const WeftHead *h;
          if (!weft_graph_node_input (g, consumer, port, &src, &sp) || src != call)
            continue;
          h = weft_graph_model_output (g, model, sp);
          if (!g_hash_table_contains (map, GINT_TO_POINTER (h->node)))
            continue;
          if (!weft_graph_connect (g, GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (h->node))),
                                   h->port, consumer, port, &e))
            return set_weft_error (error, &e);
        }
    }
  for (int i = 0; i < weft_graph_model_n_outputs (g, outer); i++)
    {
      WeftHead h = *weft_graph_model_output (g, outer, i);
      const WeftHead *inner;
      if (h.node != call)
        continue;
      inner = weft_graph_model_output (g, model, h.port);
      if (!g_hash_table_contains (map, GINT_TO_POINTER (inner->node)))
        continue;
      h.node = GPOINTER_TO_INT (g_hash_table_lookup (map, GINT_TO_POINTER (inner->node)));
      h.port = inner->port;
      weft_graph_model_set_head (g, outer, i, &h);
    }
  weft_graph_remove_node (g, call);
  if (weft_graph_callee_n_nodes (g, model) == 0)
    {
      weft_graph_remove_model (g, model);
      remove_orphan_layers (g);
    }
  return TRUE;
}

gboolean
weft_document_ungroup (WeftDocument *self, WeftId node, GError **error)
{
  g_return_val_if_fail (WEFT_IS_DOCUMENT (self), FALSE);
  if (!node_in_model (self, node, error))
    return FALSE;
  if (weft_graph_kind (self->graph, weft_graph_node_callee (self->graph, node)) != WEFT_KIND_MODEL)
    {
      g_set_error (error, WEFT_DOCUMENT_ERROR, WEFT_ERROR_INVALID,
                   _("Only a model node can be ungrouped"));
      return FALSE;
    }
  begin (self);
  return end (self, ungroup_internal (self, node, error), _("Ungroup"));
}

void
weft_document_tidy (WeftDocument *self)
{
  WeftCanvasScene *scene;

  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  if (weft_graph_model_n_nodes (self->graph, self->model) == 0)
    return;
  begin (self);
  scene = weft_canvas_scene_new ();
  weft_canvas_scene_build (scene, self->graph, self->model, NULL);
  weft_canvas_scene_layout (scene, WEFT_CANVAS_GRID * 2, WEFT_CANVAS_GRID * 2);
  for (guint i = 0; i < scene->nodes->len; i++)
    {
      WeftCanvasNode *n = &g_array_index (scene->nodes, WeftCanvasNode, i);
      if (!WEFT_CANVAS_IS_HEAD_ID (n->id))
        weft_graph_node_set_position (self->graph, n->id, n->x, n->y);
    }
  weft_canvas_scene_free (scene);
  /* the heads follow their sources again */
  for (int i = 0; i < weft_graph_model_n_outputs (self->graph, self->model); i++)
    {
      g_autofree char *key = head_key (self->graph, self->model, i);
      g_hash_table_remove (self->head_pos, key);
    }
  end (self, TRUE, _("Tidy up"));
}

void
weft_document_set_display_name (WeftDocument *self, const char *name)
{
  g_return_if_fail (WEFT_IS_DOCUMENT (self));
  g_free (self->display_name);
  self->display_name = g_strdup (name);
}
