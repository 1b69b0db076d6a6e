/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-window"

#include "config.h"

#include "weft-window.h"

#include <glib/gi18n.h>

#include "weft-application.h"
#include "weft-autosave.h"
#include "weft-canvas-painter.h"
#include "weft-code-view.h"
#include "weft-dashboard.h"
#include "weft-file.h"
#include "weft-graph-canvas.h"
#include "weft-inspector.h"
#include "weft-palette.h"
#include "weft-start-view.h"
#include "weft-test-hook.h"

#define TOAST_SECONDS 4

typedef enum
{
  AFTER_SAVE_NOTHING,
  AFTER_SAVE_CLOSE,
  AFTER_SAVE_OPEN,
  AFTER_SAVE_NEW,
  AFTER_SAVE_START,
} AfterSave;

struct _WeftWindow
{
  AdwApplicationWindow parent_instance;

  /* Children */
  GtkWidget    *window_title;     /* AdwWindowTitle */
  GtkWidget    *toast_overlay;
  GtkWidget    *main_stack;       /* "start" / "editor" */
  GtkWidget    *start_view;
  GtkWidget    *left_paned;
  GtkWidget    *right_paned;
  GtkWidget    *center_paned;
  GtkWidget    *palette;
  GtkWidget    *canvas;
  GtkWidget    *inspector;
  GtkWidget    *side_stack;
  GtkWidget    *summary;
  GtkWidget    *code_view;
  GtkWidget    *params_label;
  GtkWidget    *problems_label;
  GtkWidget    *zoom_label;
  GtkWidget    *breadcrumb;
  GtkWidget    *breadcrumb_label;
  GtkWidget    *dashboard_area;
  GtkWidget    *dashboard;        /* WeftDashboard inside dashboard_area */
  GtkWidget    *undo_button;
  GtkWidget    *redo_button;
  GtkWidget    *train_button;     /* header bar's, win.train */

  /* Owned */
  WeftDocument *document;
  GtkNativeDialog *chooser;
  GSettings    *settings;         /* NULL outside a WeftApplication */

  WeftAutosave *autosave;         /* crash recovery copy of the shown document */
  GtkWidget    *restore_revealer; /* the offer to restore leftovers of a crash */
  GtkWidget    *restore_heading;
  GtkWidget    *restore_rows;
  GPtrArray    *leftovers;        /* WeftAutosaveEntry* offered (claimed) in the bar */
  gboolean      confirm_target;   /* restored over an original changed since: Save asks */
  guint         panes_tick;
  AfterSave     after_save;
  gboolean      close_confirmed;
};

G_DEFINE_FINAL_TYPE (WeftWindow, weft_window, ADW_TYPE_APPLICATION_WINDOW)

static void save_as (WeftWindow *self, AfterSave after);
static void open_dialog (WeftWindow *self);
static void new_graph (WeftWindow *self);
static void start_page (WeftWindow *self);
static void update_title (WeftWindow *self);
static void update_actions (WeftWindow *self);
static void save_window_state (WeftWindow *self);

gboolean
weft_window_is_start_view (WeftWindow *self)
{
  g_return_val_if_fail (WEFT_IS_WINDOW (self), FALSE);
  return g_strcmp0 (gtk_stack_get_visible_child_name (GTK_STACK (self->main_stack)), "start") == 0;
}

static void
show_page (WeftWindow *self, const char *page)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), page);
  update_title (self);
  update_actions (self);
  if (g_str_equal (page, "editor"))
    gtk_widget_grab_focus (self->canvas);
  weft_test_hook ("page %s", page);
}

static void
remember (WeftWindow *self, GFile *file)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (WEFT_IS_APPLICATION (app))
    weft_application_add_recent (WEFT_APPLICATION (app), file);
}

/* ---- feedback ---- */

static void
show_toast (WeftWindow *self, const char *text)
{
  AdwToast *toast = adw_toast_new (text);

  adw_toast_set_timeout (toast, TOAST_SECONDS);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), toast);
  weft_test_hook ("toast %s", text);
}

static void
canvas_error_cb (WeftWindow *self, const char *message)
{
  show_toast (self, message);
}

/* ---- state ---- */

static void
update_title (WeftWindow *self)
{
  g_autofree char *title = weft_document_dup_title (self->document);
  g_autofree char *shown = NULL;
  GFile *file = weft_document_get_file (self->document);
  g_autofree char *dir = NULL;

  if (weft_window_is_start_view (self))
    {
      adw_window_title_set_title (ADW_WINDOW_TITLE (self->window_title), "Weft");
      adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title), NULL);
      gtk_window_set_title (GTK_WINDOW (self), "Weft");
      return;
    }
  shown = weft_document_get_dirty (self->document) ? g_strdup_printf ("• %s", title)
                                                   : g_strdup (title);
  adw_window_title_set_title (ADW_WINDOW_TITLE (self->window_title), shown);
  gtk_window_set_title (GTK_WINDOW (self), shown);
  if (file != NULL)
    {
      g_autoptr (GFile) parent = g_file_get_parent (file);
      dir = parent != NULL ? g_file_get_parse_name (parent) : NULL;
    }
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->window_title),
                                 dir != NULL ? dir : _("Not saved yet"));
}

static void
update_actions (WeftWindow *self)
{
  const char *undo = weft_document_get_undo_name (self->document);
  const char *redo = weft_document_get_redo_name (self->document);
  GAction *a;

  gboolean editing = !weft_window_is_start_view (self);
  static const char *const editor_only[] = { "save", "save-as", "export", "show-summary", "find",
                                              "show-dashboard" };

  a = g_action_map_lookup_action (G_ACTION_MAP (self), "undo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), editing && undo != NULL);
  if (self->dashboard != NULL)
    {
      WeftDashboard *dash = WEFT_DASHBOARD (self->dashboard);
      WeftTrainingSession *session = weft_dashboard_get_session (dash);
      gboolean running = weft_training_session_get_running (session);
      /* the dashboard's rule (its own Train button's sensitivity and reason) */
      const char *why = weft_dashboard_get_train_blocked_reason (dash);
      a = g_action_map_lookup_action (G_ACTION_MAP (self), "train");
      g_simple_action_set_enabled (G_SIMPLE_ACTION (a),
                                   editing && weft_dashboard_get_can_train (dash));
      if (self->train_button != NULL)
        {
          const char *tip = why != NULL ? why : _("Train the model");
          gtk_widget_set_tooltip_text (self->train_button, tip);
          /* (resetting the description would also hide the tooltip from screen readers) */
          gtk_accessible_update_property (GTK_ACCESSIBLE (self->train_button),
                                          GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, tip, -1);
        }
      a = g_action_map_lookup_action (G_ACTION_MAP (self), "train-stop");
      g_simple_action_set_enabled (G_SIMPLE_ACTION (a), running);
      a = g_action_map_lookup_action (G_ACTION_MAP (self), "train-continue");
      g_simple_action_set_enabled (G_SIMPLE_ACTION (a),
                                   editing && weft_training_session_get_can_continue (session));
    }
  a = g_action_map_lookup_action (G_ACTION_MAP (self), "redo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), editing && redo != NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (editor_only); i++)
    {
      a = g_action_map_lookup_action (G_ACTION_MAP (self), editor_only[i]);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (a), editing);
    }
  /* TRANSLATORS: tooltip of the undo button, %s is the edit ("Add Dense") */
  if (undo != NULL)
    {
      g_autofree char *tip = g_strdup_printf (_("Undo “%s” (Ctrl+Z)"), undo);
      gtk_widget_set_tooltip_text (self->undo_button, tip);
    }
  else
    gtk_widget_set_tooltip_text (self->undo_button, _("Undo (Ctrl+Z)"));
  if (redo != NULL)
    {
      /* TRANSLATORS: tooltip of the redo button, %s is the edit ("Add Dense") */
      g_autofree char *tip = g_strdup_printf (_("Redo “%s” (Ctrl+Shift+Z)"), redo);
      gtk_widget_set_tooltip_text (self->redo_button, tip);
    }
  else
    gtk_widget_set_tooltip_text (self->redo_button, _("Redo (Ctrl+Shift+Z)"));
}

static void
update_status (WeftWindow *self)
{
  WeftGraph *g = weft_document_get_graph (self->document);
  WeftId main_model = weft_graph_get_main_model (g);
  WeftId model = weft_document_get_model (self->document);
  gint64 trainable = 0, frozen = 0;
  const WeftDiagnostic *diags;
  int n = 0, errors = 0;
  g_autofree char *text = NULL;
  g_autofree char *summary = NULL;
  size_t len;

  if (weft_graph_count_params (g, main_model, &trainable, &frozen))
    {
      g_autofree char *total = weft_canvas_format_count (trainable + frozen);
      g_autofree char *tr = weft_canvas_format_count (trainable);
      /* TRANSLATORS: status bar: total and trainable parameters of the model */
      text = g_strdup_printf (_("Total params: %s (trainable %s)"), total, tr);
    }
  else
    text = g_strdup (_("Total params: unknown until every shape is known"));
  gtk_label_set_text (GTK_LABEL (self->params_label), text);

  diags = weft_graph_diagnostics (g, &n);
  for (int i = 0; i < n; i++)
    if (diags[i].code != WEFT_WARNING_UNUSED_INPUT)
      errors++;
  g_free (text);
  text = errors == 0 ? g_strdup (_("No problems"))
                     : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d problem", "%d problems",
                                                     errors), errors);
  gtk_label_set_text (GTK_LABEL (self->problems_label), text);
  gtk_widget_remove_css_class (self->problems_label, errors > 0 ? "success" : "error");
  gtk_widget_add_css_class (self->problems_label, errors > 0 ? "error" : "success");

  len = weft_graph_summary (g, model, NULL, 0);
  summary = g_malloc (len + 1);
  weft_graph_summary (g, model, summary, len + 1);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->summary)), summary, -1);

  gtk_widget_set_visible (self->breadcrumb, model != main_model);
  if (model != main_model)
    {
      g_autofree char *crumb = g_strdup_printf ("%s › %s", weft_graph_get_name (g, main_model),
                                                weft_graph_get_name (g, model));
      gtk_label_set_text (GTK_LABEL (self->breadcrumb_label), crumb);
    }
  weft_palette_set_models (WEFT_PALETTE (self->palette), g);
}

static void
document_changed_cb (WeftWindow *self)
{
  update_title (self);
  update_actions (self);
  update_status (self);
}

static void
selection_changed_cb (WeftWindow *self)
{
  const GArray *sel = weft_graph_canvas_get_selection (WEFT_GRAPH_CANVAS (self->canvas));

  weft_inspector_show (WEFT_INSPECTOR (self->inspector),
                       sel->len == 1 ? g_array_index (sel, WeftId, 0) : WEFT_ID_NONE);
  weft_code_view_set_highlight (WEFT_CODE_VIEW (self->code_view),
                                sel->len == 1 ? g_array_index (sel, WeftId, 0) : WEFT_ID_NONE);
}

static void
view_notify (WeftWindow *self)
{
  const WeftCanvasView *view = weft_graph_canvas_get_view (WEFT_GRAPH_CANVAS (self->canvas));
  g_autofree char *text = g_strdup_printf ("%.0f %%", view->zoom * 100);

  gtk_label_set_text (GTK_LABEL (self->zoom_label), text);
}

static gboolean
zoom_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  WeftWindow *self = data;

  view_notify (self);
  return G_SOURCE_CONTINUE;
}

/* autosave_id: the leftover a restored document keeps updating (NULL: a new one). */
static void
set_document_full (WeftWindow *self, WeftDocument *document, const char *autosave_id)
{
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  self->confirm_target = FALSE;
  /* unsaved work is copied to the cache after "autosave-interval" seconds; a clean save or
   * closing deletes the copy (WeftAutosave) */
  g_clear_object (&self->autosave);
  self->autosave = weft_autosave_new (document, NULL, autosave_id);
  weft_autosave_bind_settings (self->autosave, self->settings);
  g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (document, "notify::dirty", G_CALLBACK (update_title), self,
                           G_CONNECT_SWAPPED);
  weft_graph_canvas_set_document (WEFT_GRAPH_CANVAS (self->canvas), document);
  weft_inspector_set_document (WEFT_INSPECTOR (self->inspector), document);
  weft_code_view_set_document (WEFT_CODE_VIEW (self->code_view), document);
  if (self->dashboard != NULL)
    weft_dashboard_set_document (WEFT_DASHBOARD (self->dashboard), document);
  document_changed_cb (self);
}

void
weft_window_set_document (WeftWindow *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_WINDOW (self));
  g_return_if_fail (WEFT_IS_DOCUMENT (document));
  set_document_full (self, document, NULL);
}

WeftDocument *
weft_window_get_document (WeftWindow *self)
{
  g_return_val_if_fail (WEFT_IS_WINDOW (self), NULL);
  return self->document;
}

GtkWidget *
weft_window_get_dashboard_area (WeftWindow *self)
{
  g_return_val_if_fail (WEFT_IS_WINDOW (self), NULL);
  return self->dashboard_area;
}

/* ---- files ---- */

gboolean
weft_window_open_file (WeftWindow *self, GFile *file)
{
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (WEFT_IS_WINDOW (self), FALSE);
  if (!weft_document_load (doc, file, &error))
    {
      g_autofree char *name = g_file_get_parse_name (file);
      g_autofree char *text = g_strdup_printf (_("Could not open “%s”: %s"), name, error->message);
      show_toast (self, text);
      weft_test_hook ("open failed %s", error->message);
      return FALSE;
    }
  weft_window_set_document (self, doc);
  remember (self, file);
  show_page (self, "editor");
  weft_test_hook ("opened %d nodes",
                  weft_graph_model_n_nodes (weft_document_get_graph (doc), weft_document_get_model (doc)));
  return TRUE;
}

gboolean
weft_window_open_example (WeftWindow *self, const char *name)
{
  g_autofree char *path = g_strdup_printf ("/org/weft/Weft/examples/%s.weft", name);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  WeftHistory *history = NULL;
  WeftGraph *graph;
  g_autoptr (WeftDocument) doc = NULL;
  WeftFileMeta meta = { 0 };
  gsize len;
  const char *data;

  g_return_val_if_fail (WEFT_IS_WINDOW (self), FALSE);
  bytes = g_resources_lookup_data (path, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL)
    {
      show_toast (self, error->message);
      return FALSE;
    }
  data = g_bytes_get_data (bytes, &len);
  graph = weft_file_load_data_full (data, len, NULL, &history, &meta, &error);
  if (graph == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not open the example “%s”: %s"), name,
                                               error->message);
      show_toast (self, text);
      weft_file_meta_clear (&meta);
      return FALSE;
    }
  doc = weft_document_new_for_graph (graph, history);
  /* the copy keeps the example's data binding and description for when it is saved */
  weft_document_set_file_meta (doc, &meta);
  if (meta.name != NULL)
    weft_document_set_display_name (doc, meta.name);
  else
    {
      /* TRANSLATORS: window title for a built-in example without a title, %s is its name */
      g_autofree char *title = g_strdup_printf (_("Example: %s"), name);
      weft_document_set_display_name (doc, title);
    }
  weft_file_meta_clear (&meta);
  weft_window_set_document (self, doc);
  show_page (self, "editor");
  weft_test_hook ("example %s", name);
  return TRUE;
}

static gboolean
save_to (WeftWindow *self, GFile *file)
{
  g_autoptr (GError) error = NULL;

  if (!weft_document_save (self->document, file, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not save: %s"), error->message);
      show_toast (self, text);
      weft_test_hook ("save failed %s", error->message);
      return FALSE;
    }
  weft_test_hook ("saved");
  self->confirm_target = FALSE;
  remember (self, file);
  show_toast (self, _("Saved"));
  return TRUE;
}

static void
after_saved (WeftWindow *self, AfterSave after)
{
  if (after == AFTER_SAVE_CLOSE)
    {
      self->close_confirmed = TRUE;
      gtk_window_close (GTK_WINDOW (self));
    }
  else if (after == AFTER_SAVE_OPEN)
    open_dialog (self);
  else if (after == AFTER_SAVE_NEW)
    new_graph (self);
  else if (after == AFTER_SAVE_START)
    start_page (self);
}

static void
save (WeftWindow *self, AfterSave after)
{
  GFile *file = weft_document_get_file (self->document);

  /* a restored autosave whose original changed since: Save As, the original preselected,
   * so that overwriting it is a choice */
  if (file == NULL || self->confirm_target)
    save_as (self, after);
  else if (save_to (self, file))
    after_saved (self, after);
}

static GtkFileFilter *
weft_filter (void)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Weft graphs"));
  gtk_file_filter_add_pattern (filter, "*.weft");
  gtk_file_filter_add_mime_type (filter, "application/x-weft");
  return filter;
}

static void
save_response_cb (GtkNativeDialog *dialog, int response, WeftWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (save_to (self, file))
        after_saved (self, self->after_save);
    }
  g_clear_object (&self->chooser);
}

static void
save_as (WeftWindow *self, AfterSave after)
{
  GtkFileChooserNative *chooser;
  g_autofree char *name = weft_document_dup_title (self->document);

  chooser = gtk_file_chooser_native_new (_("Save Graph"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), weft_filter ());
  if (weft_document_get_file (self->document) != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), weft_document_get_file (self->document), NULL);
  else
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("graph.weft"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  self->after_save = after;
  g_signal_connect (chooser, "response", G_CALLBACK (save_response_cb), self);
  g_clear_object (&self->chooser);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
open_response_cb (GtkNativeDialog *dialog, int response, WeftWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      weft_window_open_file (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
open_dialog (WeftWindow *self)
{
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Open Graph"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), weft_filter ());
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (open_response_cb), self);
  g_clear_object (&self->chooser);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

/* ---- restoring the autosaves a crash left behind ---- */

static void
restore_bar_update (WeftWindow *self)
{
  guint n = self->leftovers != NULL ? self->leftovers->len : 0;

  if (n > 0)
    {
      g_autofree char *heading =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                      "Weft did not close properly last time. Unsaved work "
                                      "of %u graph can be restored.",
                                      "Weft did not close properly last time. Unsaved work "
                                      "of %u graphs can be restored.", n), n);
      gtk_label_set_text (GTK_LABEL (self->restore_heading), heading);
    }
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->restore_revealer), n > 0);
}

/* "~/models/graph.weft, autosaved today at 14:02" */
static char *
leftover_subtitle (const WeftAutosaveEntry *entry)
{
  g_autoptr (GDateTime) local = g_date_time_to_local (entry->saved);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = NULL;
  g_autofree char *where = NULL;

  if (g_date_time_get_year (local) == g_date_time_get_year (now)
      && g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* TRANSLATORS: when a graph was autosaved; a g_date_time_format() format.
     * xgettext:no-c-format */
    when = g_date_time_format (local, _("today at %H:%M"));
  else
    /* TRANSLATORS: when a graph was autosaved; a g_date_time_format() format.
     * xgettext:no-c-format */
    when = g_date_time_format (local, _("%-d %B %Y at %H:%M"));
  if (entry->original_uri != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_uri (entry->original_uri);
      g_autofree char *path = g_file_get_parse_name (file);
      const char *home = g_get_home_dir ();
      if (g_str_has_prefix (path, home) && path[strlen (home)] == '/')
        where = g_strconcat ("~", path + strlen (home), NULL);
      else
        where = g_steal_pointer (&path);
    }
  else
    where = g_strdup (_("never saved"));
  /* TRANSLATORS: restore offer: the file (or "never saved"), then when it was autosaved */
  return g_strdup_printf (_("%s, autosaved %s"), where, when ? when : "?");
}

static WeftAutosaveEntry *
leftover_for_row (WeftWindow *self, GtkWidget *button, GtkWidget **row_out)
{
  GtkWidget *row = g_object_get_data (G_OBJECT (button), "weft-row");
  WeftAutosaveEntry *entry = g_object_get_data (G_OBJECT (row), "weft-entry");

  *row_out = row;
  if (self->leftovers == NULL || !g_ptr_array_find (self->leftovers, entry, NULL))
    return NULL;
  return entry;
}

/* The entry was dealt with: its row goes, and the entry (and its claim) with it. */
static void
leftover_done (WeftWindow *self, GtkWidget *row, WeftAutosaveEntry *entry)
{
  gtk_box_remove (GTK_BOX (self->restore_rows), row);
  g_ptr_array_remove (self->leftovers, entry);
  restore_bar_update (self);
}

static void
restore_discard_cb (GtkButton *button, WeftWindow *self)
{
  GtkWidget *row;
  WeftAutosaveEntry *entry = leftover_for_row (self, GTK_WIDGET (button), &row);

  if (entry == NULL)
    return;
  weft_autosave_entry_delete (entry);
  weft_test_hook ("restore declined %s", entry->id);
  leftover_done (self, row, entry);
}

static void
restore_cb (GtkButton *button, WeftWindow *self)
{
  GtkWidget *row;
  WeftAutosaveEntry *entry = leftover_for_row (self, GTK_WIDGET (button), &row);
  g_autoptr (GError) error = NULL;
  g_autoptr (WeftDocument) doc = NULL;
  WeftHistory *history = NULL;
  WeftFileMeta meta = { 0 };
  WeftGraph *graph;
  WeftWindow *target = self;
  gboolean changed;

  if (entry == NULL)
    return;
  graph = weft_autosave_entry_load (entry, &history, &meta, &error);
  if (graph == NULL)
    {
      /* kept: the user may still discard it, or copy it out of the cache by hand */
      g_autofree char *text = g_strdup_printf (_("Could not restore “%s”: %s"), entry->title,
                                               error->message);
      show_toast (self, text);
      weft_test_hook ("restore failed %s %s", entry->id, error->message);
      return;
    }
  doc = weft_document_new_for_graph (graph, history);
  weft_document_set_file_meta (doc, &meta);
  weft_file_meta_clear (&meta);
  if (entry->original_uri != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_uri (entry->original_uri);
      weft_document_set_file (doc, file);
    }
  else
    weft_document_set_display_name (doc, entry->title);
  /* recovered work is unsaved work: the user saves it (or closes and discards it) */
  weft_document_mark_modified (doc);
  changed = weft_autosave_entry_original_changed (entry);

  /* the start view is replaced; work shown already stays, the graph gets its own window */
  if (!weft_window_is_start_view (self))
    {
      GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
      target = app != NULL ? weft_window_new (app)
                           : g_object_new (WEFT_TYPE_WINDOW, NULL);
      gtk_window_present (GTK_WINDOW (target));
    }
  /* the restored document keeps updating the leftover's files, so that they stay until it
   * is saved or closed without saving */
  set_document_full (target, doc, entry->id);
  target->confirm_target = entry->original_uri != NULL && changed;
  show_page (target, "editor");
  weft_test_hook ("autosave restored %s nodes=%d", entry->id,
                  weft_graph_model_n_nodes (weft_document_get_graph (doc),
                                            weft_document_get_model (doc)));
  if (target->confirm_target)
    {
      g_autofree char *text =
        g_strdup_printf (_("“%s” changed since the autosave; Save will ask where to save"),
                         entry->title);
      show_toast (target, text);
    }
  else
    show_toast (target, _("Restored; save to keep it"));
  leftover_done (self, row, entry);
}

static void
restore_later_cb (GtkButton *button, WeftWindow *self)
{
  /* nothing is deleted: the claims go, and the next start offers them again */
  weft_test_hook ("restore later");
  while (self->leftovers != NULL && self->leftovers->len > 0)
    {
      GtkWidget *row = gtk_widget_get_first_child (self->restore_rows);
      g_assert (row != NULL);
      leftover_done (self, row, g_object_get_data (G_OBJECT (row), "weft-entry"));
    }
}

static GtkWidget *
leftover_row (WeftWindow *self, WeftAutosaveEntry *entry)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (entry->title);
  g_autofree char *sub = leftover_subtitle (entry);
  GtkWidget *subtitle = gtk_label_new (sub);
  GtkWidget *discard = gtk_button_new_with_mnemonic (_("_Discard"));
  GtkWidget *restore = gtk_button_new_with_mnemonic (_("_Restore"));
  /* TRANSLATORS: accessible name of a restore offer's button, %s is the graph's title */
  g_autofree char *restore_name = g_strdup_printf (_("Restore “%s”"), entry->title);
  /* TRANSLATORS: accessible name of a restore offer's button, %s is the graph's title */
  g_autofree char *discard_name = g_strdup_printf (_("Discard “%s”"), entry->title);

  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_START);
  gtk_box_append (GTK_BOX (texts), title);
  gtk_box_append (GTK_BOX (texts), subtitle);
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);

  gtk_widget_set_valign (discard, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (restore, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (restore, "suggested-action");
  gtk_widget_set_tooltip_text (discard, _("Delete the unsaved work for good"));
  gtk_widget_set_tooltip_text (restore, _("Open the unsaved work; save it to keep it"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (restore), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  restore_name, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (discard), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  discard_name, -1);
  g_object_set_data (G_OBJECT (discard), "weft-row", row);
  g_object_set_data (G_OBJECT (restore), "weft-row", row);
  g_object_set_data (G_OBJECT (row), "weft-entry", entry);
  g_signal_connect (discard, "clicked", G_CALLBACK (restore_discard_cb), self);
  g_signal_connect (restore, "clicked", G_CALLBACK (restore_cb), self);

  gtk_box_append (GTK_BOX (row), gtk_image_new_from_icon_name ("document-revert-symbolic"));
  gtk_box_append (GTK_BOX (row), texts);
  gtk_box_append (GTK_BOX (row), discard);
  gtk_box_append (GTK_BOX (row), restore);
  return row;
}

static GtkWidget *
build_restore_bar (WeftWindow *self)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *later = gtk_button_new_from_icon_name ("window-close-symbolic");
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->restore_heading = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->restore_heading), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->restore_heading), 0);
  gtk_widget_set_hexpand (self->restore_heading, TRUE);
  gtk_widget_add_css_class (later, "flat");
  gtk_widget_add_css_class (later, "circular");
  gtk_widget_set_valign (later, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text (later, _("Decide later: the unsaved work is offered again at "
                                        "the next start"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (later), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Decide later"), -1);
  g_signal_connect (later, "clicked", G_CALLBACK (restore_later_cb), self);
  gtk_box_append (GTK_BOX (top), self->restore_heading);
  gtk_box_append (GTK_BOX (top), later);

  /* several leftovers scroll past about three rows */
  self->restore_rows = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->restore_rows);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 160);

  gtk_widget_add_css_class (card, "card");
  gtk_widget_set_margin_start (card, 12);
  gtk_widget_set_margin_end (card, 12);
  gtk_widget_set_margin_top (card, 8);
  gtk_widget_set_margin_bottom (card, 8);
  gtk_widget_set_margin_start (top, 12);
  gtk_widget_set_margin_end (top, 6);
  gtk_widget_set_margin_top (top, 6);
  gtk_widget_set_margin_start (scrolled, 12);
  gtk_widget_set_margin_end (scrolled, 12);
  gtk_widget_set_margin_bottom (scrolled, 10);
  gtk_box_append (GTK_BOX (card), top);
  gtk_box_append (GTK_BOX (card), scrolled);
  gtk_accessible_update_property (GTK_ACCESSIBLE (card), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Restore unsaved work"), -1);

  self->restore_revealer = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->restore_revealer),
                                    GTK_REVEALER_TRANSITION_TYPE_SLIDE_DOWN);
  gtk_revealer_set_child (GTK_REVEALER (self->restore_revealer), card);
  return self->restore_revealer;
}

void
weft_window_offer_restore (WeftWindow *self)
{
  g_autoptr (GPtrArray) found = NULL;

  g_return_if_fail (WEFT_IS_WINDOW (self));
  /* what another running Weft writes or offers is not listed (weft_autosave_list_leftovers) */
  found = weft_autosave_list_leftovers (NULL);
  weft_test_hook ("autosave leftovers %u", found->len);
  if (self->leftovers == NULL)
    self->leftovers = g_ptr_array_new_with_free_func ((GDestroyNotify) weft_autosave_entry_free);
  for (guint i = 0; i < found->len; i++)
    {
      WeftAutosaveEntry *entry = g_ptr_array_index (found, i);
      gtk_box_append (GTK_BOX (self->restore_rows), leftover_row (self, entry));
      weft_test_hook ("restore offered %s", entry->id);
    }
  /* the entries (and their claims) live as long as their rows */
  g_ptr_array_extend_and_steal (self->leftovers, g_steal_pointer (&found));
  restore_bar_update (self);
}

/* Asks what to do with unsaved changes, then continues with `after`. */
static void
confirm_response_cb (AdwMessageDialog *dialog, const char *response, WeftWindow *self)
{
  AfterSave after = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "weft-after"));

  weft_test_hook ("confirm response %s", response);
  if (g_str_equal (response, "save"))
    save (self, after);
  else if (g_str_equal (response, "discard"))
    {
      if (after == AFTER_SAVE_CLOSE)
        {
          self->close_confirmed = TRUE;
          gtk_window_close (GTK_WINDOW (self));
        }
      else if (after == AFTER_SAVE_NEW)
        new_graph (self);
      else if (after == AFTER_SAVE_START)
        start_page (self);
      else
        open_dialog (self);
    }
}

static void
confirm_discard (WeftWindow *self, AfterSave after)
{
  GtkWidget *dialog;
  g_autofree char *title = weft_document_dup_title (self->document);
  g_autofree char *heading = g_strdup_printf (_("Save changes to “%s”?"), title);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   _("Unsaved changes will be lost for good."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "discard", _("_Discard"),
                                    "save", _("_Save"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "save",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "weft-after", GINT_TO_POINTER (after));
  g_signal_connect (dialog, "response", G_CALLBACK (confirm_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
  weft_test_hook ("confirm unsaved");
}

static gboolean
close_request_cb (GtkWindow *window, WeftWindow *self)
{
  if (self->close_confirmed || self->document == NULL || !weft_document_get_dirty (self->document))
    {
      save_window_state (self);
      return FALSE;
    }
  confirm_discard (self, AFTER_SAVE_CLOSE);
  return TRUE;
}

/* ---- actions ---- */

static void
action_open (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  if (weft_document_get_dirty (self->document))
    confirm_discard (self, AFTER_SAVE_OPEN);
  else
    open_dialog (self);
}

static void action_save (GSimpleAction *a, GVariant *p, gpointer data) { save (data, AFTER_SAVE_NOTHING); }
static void action_save_as (GSimpleAction *a, GVariant *p, gpointer data) { save_as (data, AFTER_SAVE_NOTHING); }

static void
action_undo (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;
  g_autofree char *name = g_strdup (weft_document_get_undo_name (self->document));

  if (weft_document_undo (self->document))
    weft_test_hook ("undo %s", name);
}

static void
action_redo (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;
  g_autofree char *name = g_strdup (weft_document_get_redo_name (self->document));

  if (weft_document_redo (self->document))
    weft_test_hook ("redo %s", name);
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, WeftWindow *self)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "weft-format");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr (GError) error = NULL;
      WeftGraph *graph = weft_document_get_graph (self->document);
      g_autoptr (GArray) heads = NULL;
      /* the picture shows the main model; hand-placed heads are known for the model shown */
      if (weft_document_get_model (self->document) == weft_graph_get_main_model (graph))
        heads = weft_document_dup_head_positions (self->document);
      if (path == NULL || !weft_canvas_export_full (graph, heads, path, format, &error))
        show_toast (self, error != NULL ? error->message : _("Only local files can be written"));
      else
        show_toast (self, _("Picture exported"));
    }
  g_clear_object (&self->chooser);
}

static void
action_export (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;
  const char *format = g_variant_get_string (p, NULL);
  GtkFileChooserNative *chooser;
  g_autofree char *title = weft_document_dup_title (self->document);
  g_autofree char *base = NULL, *name = NULL;

  if (g_str_has_suffix (title, ".weft"))
    title[strlen (title) - 5] = '\0';
  name = g_strdup_printf ("%s.%s", title, format);
  chooser = gtk_file_chooser_native_new (_("Export Picture"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_object_set_data_full (G_OBJECT (chooser), "weft-format", g_strdup (format), g_free);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  g_clear_object (&self->chooser);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
action_find (GSimpleAction *a, GVariant *p, gpointer data)
{
  weft_palette_focus_search (WEFT_PALETTE (WEFT_WINDOW (data)->palette));
}

static void
action_summary (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "summary");
}

static void
action_example (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  if (weft_document_get_dirty (self->document))
    {
      show_toast (self, _("Save or undo your changes before opening an example"));
      return;
    }
  weft_window_open_example (self, g_variant_get_string (p, NULL));
}

/* A new untitled graph with the training defaults from the settings. */
static void
new_graph (WeftWindow *self)
{
  g_autoptr (WeftDocument) doc = weft_document_new ();

  if (self->settings != NULL)
    {
      WeftGraph *graph = weft_document_get_graph (doc);
      WeftTrainConfig config = *weft_graph_get_train_config (graph);
      weft_optim_config_defaults (g_settings_get_enum (self->settings, "default-optimizer"),
                                  &config.optimizer);
      config.batch_size = g_settings_get_int (self->settings, "default-batch-size");
      weft_graph_set_train_config (graph, &config);
    }
  weft_window_set_document (self, doc);
  show_page (self, "editor");
}

static void
start_page (WeftWindow *self)
{
  g_autoptr (WeftDocument) doc = weft_document_new ();

  weft_window_set_document (self, doc);
  show_page (self, "start");
}

static void
action_new_graph (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  if (weft_document_get_dirty (self->document))
    confirm_discard (self, AFTER_SAVE_NEW);
  else
    new_graph (self);
}

static void
action_show_start (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  if (weft_window_is_start_view (self))
    return;
  if (weft_document_get_dirty (self->document))
    confirm_discard (self, AFTER_SAVE_START);
  else
    start_page (self);
}

static void
action_train (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  gtk_widget_set_visible (self->dashboard_area, TRUE);
  weft_dashboard_train (WEFT_DASHBOARD (self->dashboard));
}

/* Train is insensitive while the binding is incomplete: the dashboard must be reachable
 * without it to fix the binding. */
static void
action_show_dashboard (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  gtk_widget_set_visible (self->dashboard_area, TRUE);
}

static void
action_train_stop (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  weft_dashboard_stop (WEFT_DASHBOARD (self->dashboard));
}

static void
action_train_continue (GSimpleAction *a, GVariant *p, gpointer data)
{
  WeftWindow *self = data;

  gtk_widget_set_visible (self->dashboard_area, TRUE);
  weft_dashboard_continue (WEFT_DASHBOARD (self->dashboard));
}

static const GActionEntry win_actions[] = {
  { "open", action_open },
  { "save", action_save },
  { "save-as", action_save_as },
  { "undo", action_undo },
  { "redo", action_redo },
  { "export", action_export, "s" },
  { "find", action_find },
  { "show-summary", action_summary },
  { "open-example", action_example, "s" },
  { "new-graph", action_new_graph },
  { "show-start", action_show_start },
  { "train", action_train },
  { "show-dashboard", action_show_dashboard },
  { "train-stop", action_train_stop },
  { "train-continue", action_train_continue },
};

/* ---- construction ---- */

/* The canvas' graph.* actions for the widgets outside it (inspector buttons, menus). */
static void
forward_graph_action (GSimpleAction *action, GVariant *param, gpointer data)
{
  WeftWindow *self = data;
  g_autofree char *name = g_strdup_printf ("graph.%s", g_action_get_name (G_ACTION (action)));

  gtk_widget_activate_action (self->canvas, name, NULL);
}

static void
install_graph_forwarders (WeftWindow *self)
{
  static const char *const names[] = {
    "delete", "copy", "cut", "paste", "duplicate", "call-again", "group", "ungroup",
    "open-model", "close-model", "add-head", "fit", "tidy", "select-all", "zoom-in",
    "zoom-out", "zoom-reset", "quick-add",
  };
  g_autoptr (GSimpleActionGroup) group = g_simple_action_group_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GSimpleAction) action = g_simple_action_new (names[i], NULL);
      g_signal_connect (action, "activate", G_CALLBACK (forward_graph_action), self);
      g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (action));
    }
  gtk_widget_insert_action_group (GTK_WIDGET (self), "graph", G_ACTION_GROUP (group));
}

static GtkWidget *
icon_button (const char *icon, const char *action, const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  return button;
}

static GMenuModel *
main_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *files = g_menu_new (), *view = g_menu_new (), *style = g_menu_new (), *about = g_menu_new ();
  GMenuItem *item;

  g_menu_append (files, _("_New Graph"), "win.new-graph");
  g_menu_append (files, _("New _Window"), "app.new-window");
  g_menu_append (files, _("Save _As…"), "win.save-as");
  g_menu_append (files, _("_Start View"), "win.show-start");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (files));
  g_menu_append (view, _("_Fit to View"), "graph.fit");
  g_menu_append (view, _("_Tidy Up Layout"), "graph.tidy");
  g_menu_append (view, _("Model _Summary"), "win.show-summary");
  g_menu_append (view, _("Training Dash_board"), "win.show-dashboard");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (view));
  /* TRANSLATORS: colour scheme choices in the main menu */
  item = g_menu_item_new (_("Follow _System Style"), "app.style::system");
  g_menu_append_item (style, item);
  g_object_unref (item);
  item = g_menu_item_new (_("_Light Style"), "app.style::light");
  g_menu_append_item (style, item);
  g_object_unref (item);
  item = g_menu_item_new (_("_Dark Style"), "app.style::dark");
  g_menu_append_item (style, item);
  g_object_unref (item);
  g_menu_append_section (menu, NULL, G_MENU_MODEL (style));
  g_menu_append (about, _("_Preferences"), "app.preferences");
  g_menu_append (about, _("_Keyboard Shortcuts"), "win.show-help-overlay");
  g_menu_append (about, _("_About Weft"), "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (about));
  g_object_unref (files);
  g_object_unref (view);
  g_object_unref (style);
  g_object_unref (about);
  return G_MENU_MODEL (menu);
}

static GMenuModel *
export_menu (void)
{
  GMenu *menu = g_menu_new ();

  g_menu_append (menu, _("Picture as _PNG…"), "win.export::png");
  g_menu_append (menu, _("Picture as _SVG…"), "win.export::svg");
  g_menu_append (menu, _("Picture as P_DF…"), "win.export::pdf");
  return G_MENU_MODEL (menu);
}

static void
palette_add_cb (WeftWindow *self, const char *type)
{
  WeftPoint c = weft_graph_canvas_get_center (WEFT_GRAPH_CANVAS (self->canvas));

  if (g_str_equal (type, "head"))
    {
      gtk_widget_activate_action (self->canvas, "graph.add-head", NULL);
      return;
    }
  weft_graph_canvas_add_at (WEFT_GRAPH_CANVAS (self->canvas), type, c.x, c.y);
}

static void
node_activated_cb (WeftWindow *self, int node)
{
  gtk_stack_set_visible_child_name (GTK_STACK (self->side_stack), "inspector");
}

static GtkWidget *
build_header (WeftWindow *self)
{
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *open = gtk_button_new_with_mnemonic (_("_Open"));
  GtkWidget *save = icon_button ("document-save-symbolic", "win.save", _("Save (Ctrl+S)"));
  GtkWidget *menu = gtk_menu_button_new ();
  GtkWidget *export = gtk_menu_button_new ();
  GtkWidget *train = gtk_button_new_with_mnemonic (_("_Train"));
  GtkWidget *undo_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  self->undo_button = icon_button ("edit-undo-symbolic", "win.undo", _("Undo"));
  self->redo_button = icon_button ("edit-redo-symbolic", "win.redo", _("Redo"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "win.open");
  gtk_widget_set_tooltip_text (open, _("Open a graph (Ctrl+O)"));
  gtk_widget_add_css_class (undo_box, "linked");
  gtk_box_append (GTK_BOX (undo_box), self->undo_button);
  gtk_box_append (GTK_BOX (undo_box), self->redo_button);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), open);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), save);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), undo_box);

  self->window_title = adw_window_title_new ("Weft", NULL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), self->window_title);

  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu), main_menu ());
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (menu), TRUE);
  gtk_widget_set_tooltip_text (menu, _("Main Menu (F10)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Main Menu"), -1);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export), "document-send-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), export_menu ());
  gtk_widget_set_tooltip_text (export, _("Export the graph as a picture"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (export), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Export"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (train), "win.train");
  gtk_widget_add_css_class (train, "suggested-action");
  gtk_widget_set_tooltip_text (train, _("Train the model"));
  self->train_button = train;
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), menu);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), export);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), train);
  return header;
}

static GtkWidget *
build_status (WeftWindow *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);

  gtk_widget_add_css_class (bar, "weft-statusbar");
  self->params_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->params_label, "numeric");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->params_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Total parameters"), -1);
  gtk_widget_set_tooltip_text (self->params_label, _("Parameters of the model, shared layers counted once"));
  self->problems_label = gtk_label_new (NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->problems_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Problems"), -1);
  gtk_widget_set_tooltip_text (self->problems_label, _("Errors in the graph; nodes with an error are marked on the canvas"));
  self->zoom_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->zoom_label, "numeric");
  gtk_widget_add_css_class (self->zoom_label, "dim-label");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zoom_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Zoom"), -1);
  gtk_widget_set_tooltip_text (self->zoom_label, _("Zoom (Ctrl+scroll, Ctrl+0 for 100 %)"));
  gtk_widget_set_hexpand (self->problems_label, TRUE);
  gtk_widget_set_halign (self->problems_label, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (bar), self->params_label);
  gtk_box_append (GTK_BOX (bar), self->problems_label);
  gtk_box_append (GTK_BOX (bar), self->zoom_label);
  return bar;
}

static GtkWidget *
build_canvas_area (WeftWindow *self)
{
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *back;

  self->canvas = weft_graph_canvas_new ();
  gtk_overlay_set_child (GTK_OVERLAY (overlay), self->canvas);

  self->breadcrumb = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->breadcrumb, "weft-breadcrumb");
  gtk_widget_set_halign (self->breadcrumb, GTK_ALIGN_START);
  gtk_widget_set_valign (self->breadcrumb, GTK_ALIGN_START);
  back = icon_button ("go-up-symbolic", "graph.close-model", _("Back to the main model (Alt+Up)"));
  gtk_widget_add_css_class (back, "flat");
  self->breadcrumb_label = gtk_label_new (NULL);
  gtk_box_append (GTK_BOX (self->breadcrumb), back);
  gtk_box_append (GTK_BOX (self->breadcrumb), self->breadcrumb_label);
  gtk_widget_set_visible (self->breadcrumb, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), self->breadcrumb);
  return overlay;
}

static GtkWidget *
build_side (WeftWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *switcher = gtk_stack_switcher_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->side_stack = gtk_stack_new ();
  self->inspector = weft_inspector_new ();
  self->summary = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->summary), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->summary), TRUE);
  gtk_widget_add_css_class (self->summary, "weft-summary");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->summary), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Model summary"), -1);
  gtk_widget_set_tooltip_text (self->summary, _("The Keras model.summary() table of the shown model"));
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->summary);
  gtk_stack_add_titled (GTK_STACK (self->side_stack), self->inspector, "inspector", _("Inspector"));
  gtk_stack_add_titled (GTK_STACK (self->side_stack), scrolled, "summary", _("Summary"));
  self->code_view = weft_code_view_new ();
  gtk_stack_add_titled (GTK_STACK (self->side_stack), self->code_view, "code", _("Keras code"));
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (self->side_stack));
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (switcher, 6);
  gtk_widget_set_margin_bottom (switcher, 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (switcher), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Side panel"), -1);
  {
    /* the switcher's buttons exist once the stack is set */
    GtkWidget *tab = gtk_widget_get_first_child (switcher);
    if (tab != NULL)
      gtk_widget_set_tooltip_text (tab, _("Settings and shapes of the selected node"));
    if (tab != NULL && (tab = gtk_widget_get_next_sibling (tab)) != NULL)
      gtk_widget_set_tooltip_text (tab, _("The Keras model.summary() table of the shown model"));
    if (tab != NULL && (tab = gtk_widget_get_next_sibling (tab)) != NULL)
      gtk_widget_set_tooltip_text (tab, _("The graph as Keras functional-API Python"));
  }
  gtk_widget_set_vexpand (self->side_stack, TRUE);
  gtk_box_append (GTK_BOX (box), switcher);
  gtk_box_append (GTK_BOX (box), self->side_stack);
  return box;
}

/* ---- settings: window state, panel sizes, recent files ---- */

static void
save_window_state (WeftWindow *self)
{
  int width, height;

  if (self->settings == NULL)
    return;
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  if (!gtk_window_is_maximized (GTK_WINDOW (self)))
    {
      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", MAX (width, 360));
          g_settings_set_int (self->settings, "window-height", MAX (height, 294));
        }
    }
  if (gtk_widget_get_mapped (self->left_paned))
    {
      int side = gtk_widget_get_width (self->right_paned)
                 - gtk_paned_get_position (GTK_PANED (self->right_paned));
      g_settings_set_int (self->settings, "palette-width",
                          CLAMP (gtk_paned_get_position (GTK_PANED (self->left_paned)), 120, 800));
      if (side > 0)
        g_settings_set_int (self->settings, "side-panel-width", CLAMP (side, 200, 1200));
    }
  if (gtk_widget_get_visible (self->dashboard_area) && gtk_widget_get_mapped (self->center_paned))
    {
      int dash = gtk_widget_get_height (self->center_paned)
                 - gtk_paned_get_position (GTK_PANED (self->center_paned));
      if (dash > 0)
        g_settings_set_int (self->settings, "dashboard-height", CLAMP (dash, 120, 2000));
    }
}

/* Panel sizes are stored as widths of the side panels; the paned positions they give depend
 * on the allocated size, so apply them once the editor has a size. */
static gboolean
restore_panes_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  WeftWindow *self = data;
  int width = gtk_widget_get_width (self->right_paned);

  if (width <= 0)
    return G_SOURCE_CONTINUE;
  self->panes_tick = 0;
  if (self->settings != NULL)
    {
      int side = g_settings_get_int (self->settings, "side-panel-width");
      gtk_paned_set_position (GTK_PANED (self->left_paned),
                              g_settings_get_int (self->settings, "palette-width"));
      gtk_paned_set_position (GTK_PANED (self->right_paned), MAX (width - side, 200));
    }
  return G_SOURCE_REMOVE;
}

static void
dashboard_visible_cb (WeftWindow *self)
{
  int height = gtk_widget_get_height (self->center_paned);
  int dash = self->settings != NULL ? g_settings_get_int (self->settings, "dashboard-height") : 280;

  if (gtk_widget_get_visible (self->dashboard_area) && height > 0)
    gtk_paned_set_position (GTK_PANED (self->center_paned), MAX (height - dash, 120));
}

static void
recent_changed_cb (WeftWindow *self)
{
  g_auto (GStrv) uris = g_settings_get_strv (self->settings, "recent-files");

  weft_start_view_set_recent (WEFT_START_VIEW (self->start_view), (const char * const *) uris);
}

static void
dark_changed_cb (WeftWindow *self)
{
  weft_start_view_set_dark (WEFT_START_VIEW (self->start_view),
                            adw_style_manager_get_dark (adw_style_manager_get_default ()));
  gtk_widget_queue_draw (self->canvas);
}

static void
start_open_file_cb (WeftWindow *self, GFile *file)
{
  weft_window_open_file (self, file);
}

static void
start_open_example_cb (WeftWindow *self, const char *name)
{
  weft_window_open_example (self, name);
}

/* GtkWindow:application is not a construct property: GObject sets it only after
 * constructed(), so the settings are bound here, once the window knows its application. */
static void
bind_application (WeftWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  if (!WEFT_IS_APPLICATION (app) || self->settings != NULL)
    return;
  self->settings = g_object_ref (weft_application_get_settings (WEFT_APPLICATION (app)));
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_signal_connect_object (self->settings, "changed::recent-files",
                           G_CALLBACK (recent_changed_cb), self, G_CONNECT_SWAPPED);
  recent_changed_cb (self);
  if (self->autosave != NULL)
    weft_autosave_bind_settings (self->autosave, self->settings);
}

static void
weft_window_dispose (GObject *object)
{
  WeftWindow *self = WEFT_WINDOW (object);

  g_clear_object (&self->autosave);
  /* offered and not decided: kept for the next start (freeing releases the claims) */
  g_clear_pointer (&self->leftovers, g_ptr_array_unref);
  if (self->panes_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->panes_tick);
  self->panes_tick = 0;
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (weft_window_parent_class)->dispose (object);
}

static void
weft_window_class_init (WeftWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = weft_window_dispose;
}

static void
weft_window_init (WeftWindow *self)
{
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *editor = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  g_autoptr (GtkBuilder) builder = NULL;
  g_autoptr (WeftDocument) doc = weft_document_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
  install_graph_forwarders (self);

  gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);
  gtk_box_append (GTK_BOX (outer), build_header (self));
  gtk_box_append (GTK_BOX (outer), build_restore_bar (self));

  self->palette = weft_palette_new ();
  gtk_widget_set_size_request (self->palette, 200, -1);
  g_signal_connect_swapped (self->palette, "add", G_CALLBACK (palette_add_cb), self);

  /* canvas above the dashboard area (filled in by the training dashboard) */
  self->center_paned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  gtk_paned_set_start_child (GTK_PANED (self->center_paned), build_canvas_area (self));
  self->dashboard_area = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_visible (self->dashboard_area, FALSE);
  gtk_paned_set_end_child (GTK_PANED (self->center_paned), self->dashboard_area);
  self->dashboard = weft_dashboard_new ();
  gtk_widget_set_vexpand (self->dashboard, TRUE);
  gtk_box_append (GTK_BOX (self->dashboard_area), self->dashboard);
  g_signal_connect_object (weft_dashboard_get_session (WEFT_DASHBOARD (self->dashboard)),
                           "notify::running", G_CALLBACK (update_actions), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (weft_dashboard_get_session (WEFT_DASHBOARD (self->dashboard)),
                           "notify::can-continue", G_CALLBACK (update_actions), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->dashboard, "notify::can-train", G_CALLBACK (update_actions),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->dashboard, "notify::train-blocked-reason",
                           G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  gtk_paned_set_resize_end_child (GTK_PANED (self->center_paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (self->center_paned), FALSE);
  g_signal_connect_swapped (self->dashboard_area, "notify::visible",
                            G_CALLBACK (dashboard_visible_cb), self);

  self->right_paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (self->right_paned), self->center_paned);
  gtk_paned_set_end_child (GTK_PANED (self->right_paned), build_side (self));
  gtk_paned_set_resize_end_child (GTK_PANED (self->right_paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (self->right_paned), FALSE);
  gtk_paned_set_position (GTK_PANED (self->right_paned), 1280 - 220 - 320);
  self->left_paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_paned_set_start_child (GTK_PANED (self->left_paned), self->palette);
  gtk_paned_set_end_child (GTK_PANED (self->left_paned), self->right_paned);
  gtk_paned_set_resize_start_child (GTK_PANED (self->left_paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (self->left_paned), FALSE);
  gtk_paned_set_position (GTK_PANED (self->left_paned), 220);
  gtk_widget_set_vexpand (self->left_paned, TRUE);
  gtk_box_append (GTK_BOX (editor), self->left_paned);
  gtk_box_append (GTK_BOX (editor), build_status (self));

  self->start_view = weft_start_view_new ();
  g_signal_connect_swapped (self->start_view, "open-file", G_CALLBACK (start_open_file_cb), self);
  g_signal_connect_swapped (self->start_view, "open-example", G_CALLBACK (start_open_example_cb), self);

  self->main_stack = gtk_stack_new ();
  gtk_stack_set_transition_type (GTK_STACK (self->main_stack), GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  gtk_stack_add_named (GTK_STACK (self->main_stack), self->start_view, "start");
  gtk_stack_add_named (GTK_STACK (self->main_stack), editor, "editor");
  gtk_widget_set_vexpand (self->main_stack, TRUE);
  self->toast_overlay = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toast_overlay), self->main_stack);
  gtk_box_append (GTK_BOX (outer), self->toast_overlay);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), outer);

  g_signal_connect_swapped (self->canvas, "selection-changed", G_CALLBACK (selection_changed_cb), self);
  g_signal_connect_swapped (self->canvas, "node-activated", G_CALLBACK (node_activated_cb), self);
  g_signal_connect_swapped (self->canvas, "error", G_CALLBACK (canvas_error_cb), self);
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), self);
  gtk_widget_add_tick_callback (self->canvas, zoom_tick_cb, self, NULL);
  self->panes_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), restore_panes_cb, self, NULL);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (dark_changed_cb), self, G_CONNECT_SWAPPED);
  weft_start_view_set_dark (WEFT_START_VIEW (self->start_view),
                            adw_style_manager_get_dark (adw_style_manager_get_default ()));

  builder = gtk_builder_new_from_resource ("/org/weft/Weft/ui/weft-shortcuts.ui");
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                           GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));

  weft_window_set_document (self, doc);
  show_page (self, "start");
}

WeftWindow *
weft_window_new (GtkApplication *application)
{
  WeftWindow *self = g_object_new (WEFT_TYPE_WINDOW, "application", application, NULL);

  bind_application (self);
  return self;
}
