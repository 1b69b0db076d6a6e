/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-window"

#include "config.h"

#include "weft-window.h"

#include <glib/gi18n.h>

#include "weft-canvas-painter.h"
#include "weft-file.h"
#include "weft-graph-canvas.h"
#include "weft-inspector.h"
#include "weft-palette.h"
#include "weft-test-hook.h"

#define TOAST_SECONDS 4

typedef enum
{
  AFTER_SAVE_NOTHING,
  AFTER_SAVE_CLOSE,
  AFTER_SAVE_OPEN,
} AfterSave;

struct _WeftWindow
{
  GtkApplicationWindow parent_instance;

  /* Children */
  GtkWidget    *title;
  GtkWidget    *subtitle;
  GtkWidget    *palette;
  GtkWidget    *canvas;
  GtkWidget    *inspector;
  GtkWidget    *side_stack;
  GtkWidget    *summary;
  GtkWidget    *params_label;
  GtkWidget    *problems_label;
  GtkWidget    *zoom_label;
  GtkWidget    *toast;
  GtkWidget    *toast_label;
  GtkWidget    *breadcrumb;
  GtkWidget    *breadcrumb_label;
  GtkWidget    *dashboard_area;

  /* Owned */
  WeftDocument *document;
  GtkNativeDialog *chooser;

  guint         toast_id;
  AfterSave     after_save;
  gboolean      close_confirmed;
};

G_DEFINE_FINAL_TYPE (WeftWindow, weft_window, GTK_TYPE_APPLICATION_WINDOW)

static void save_as (WeftWindow *self, AfterSave after);
static void open_dialog (WeftWindow *self);

/* ---- feedback ---- */

static gboolean
toast_timeout_cb (gpointer data)
{
  WeftWindow *self = data;

  self->toast_id = 0;
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast), FALSE);
  return G_SOURCE_REMOVE;
}

static void
show_toast (WeftWindow *self, const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->toast_label), text);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->toast), TRUE);
  g_clear_handle_id (&self->toast_id, g_source_remove);
  self->toast_id = g_timeout_add_seconds (TOAST_SECONDS, toast_timeout_cb, self);
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

  shown = weft_document_get_dirty (self->document) ? g_strdup_printf ("• %s", title)
                                                   : g_strdup (title);
  gtk_label_set_text (GTK_LABEL (self->title), shown);
  gtk_window_set_title (GTK_WINDOW (self), shown);
  if (file != NULL)
    {
      g_autoptr (GFile) parent = g_file_get_parent (file);
      dir = parent != NULL ? g_file_get_parse_name (parent) : NULL;
    }
  gtk_label_set_text (GTK_LABEL (self->subtitle), dir != NULL ? dir : _("Not saved yet"));
}

static void
update_actions (WeftWindow *self)
{
  const char *undo = weft_document_get_undo_name (self->document);
  const char *redo = weft_document_get_redo_name (self->document);
  GAction *a;

  a = g_action_map_lookup_action (G_ACTION_MAP (self), "undo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), undo != NULL);
  a = g_action_map_lookup_action (G_ACTION_MAP (self), "redo");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), redo != NULL);
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

void
weft_window_set_document (WeftWindow *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_WINDOW (self));
  g_return_if_fail (WEFT_IS_DOCUMENT (document));

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (document, "notify::dirty", G_CALLBACK (update_title), self,
                           G_CONNECT_SWAPPED);
  weft_graph_canvas_set_document (WEFT_GRAPH_CANVAS (self->canvas), document);
  weft_inspector_set_document (WEFT_INSPECTOR (self->inspector), document);
  document_changed_cb (self);
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
  graph = weft_file_load_data (data, len, NULL, &history, &error);
  if (graph == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not open the example “%s”: %s"), name,
                                               error->message);
      show_toast (self, text);
      return FALSE;
    }
  doc = weft_document_new_for_graph (graph, history);
  {
    /* TRANSLATORS: window title for a built-in example, %s is its name */
    g_autofree char *title = g_strdup_printf (_("Example: %s"), name);
    weft_document_set_display_name (doc, title);
  }
  weft_window_set_document (self, doc);
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
}

static void
save (WeftWindow *self, AfterSave after)
{
  GFile *file = weft_document_get_file (self->document);

  if (file == NULL)
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

/* Asks what to do with unsaved changes, then continues with `after`. */
static void
confirm_response_cb (GtkDialog *dialog, int response, WeftWindow *self)
{
  AfterSave after = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "weft-after"));

  gtk_window_destroy (GTK_WINDOW (dialog));
  if (response == GTK_RESPONSE_ACCEPT)
    save (self, after);
  else if (response == GTK_RESPONSE_REJECT)
    {
      if (after == AFTER_SAVE_CLOSE)
        {
          self->close_confirmed = TRUE;
          gtk_window_close (GTK_WINDOW (self));
        }
      else
        open_dialog (self);
    }
}

static void
confirm_discard (WeftWindow *self, AfterSave after)
{
  GtkWidget *dialog;
  g_autofree char *title = weft_document_dup_title (self->document);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Save changes to “%s”?"), title);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("Unsaved changes will be lost for good."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Discard"), GTK_RESPONSE_REJECT, _("_Save"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_REJECT),
                            "destructive-action");
  gtk_widget_add_css_class (gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT),
                            "suggested-action");
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_set_data (G_OBJECT (dialog), "weft-after", GINT_TO_POINTER (after));
  g_signal_connect (dialog, "response", G_CALLBACK (confirm_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
  weft_test_hook ("confirm unsaved");
}

static gboolean
close_request_cb (GtkWindow *window, WeftWindow *self)
{
  if (self->close_confirmed || self->document == NULL || !weft_document_get_dirty (self->document))
    return FALSE;
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
      if (path == NULL || !weft_canvas_export (weft_document_get_graph (self->document), path, format, &error))
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

static void
action_train (GSimpleAction *a, GVariant *p, gpointer data)
{
  /* training is wired by the dashboard; the action stays disabled until then */
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
  { "train", action_train },
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
  GMenu *files = g_menu_new (), *examples = g_menu_new (), *view = g_menu_new (), *about = g_menu_new ();

  g_menu_append (files, _("_New Window"), "app.new-window");
  g_menu_append (files, _("Save _As…"), "win.save-as");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (files));
  g_menu_append (examples, _("Three heads (age, income, gender)"), "win.open-example::three-heads");
  g_menu_append (examples, _("Sequential MLP"), "win.open-example::mlp");
  g_menu_append (examples, _("Siamese shared layers"), "win.open-example::siamese");
  g_menu_append (examples, _("Dual camera (model as a layer)"), "win.open-example::dual-camera");
  g_menu_append_submenu (menu, _("_Examples"), G_MENU_MODEL (examples));
  g_menu_append (view, _("_Fit to View"), "graph.fit");
  g_menu_append (view, _("_Tidy Up Layout"), "graph.tidy");
  g_menu_append (view, _("Model _Summary"), "win.show-summary");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (view));
  g_menu_append (about, _("_Keyboard Shortcuts"), "win.show-help-overlay");
  g_menu_append (about, _("_About Weft"), "app.about");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (about));
  g_object_unref (files);
  g_object_unref (examples);
  g_object_unref (view);
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
  GtkWidget *header = gtk_header_bar_new ();
  GtkWidget *title_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *open = gtk_button_new_with_mnemonic (_("_Open"));
  GtkWidget *save = icon_button ("document-save-symbolic", "win.save", _("Save"));
  GtkWidget *undo = icon_button ("edit-undo-symbolic", "win.undo", _("Undo"));
  GtkWidget *redo = icon_button ("edit-redo-symbolic", "win.redo", _("Redo"));
  GtkWidget *menu = gtk_menu_button_new ();
  GtkWidget *export = gtk_menu_button_new ();
  GtkWidget *train = gtk_button_new_with_mnemonic (_("_Train"));
  GtkWidget *undo_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "win.open");
  gtk_widget_set_tooltip_text (open, _("Open a graph (Ctrl+O)"));
  gtk_widget_add_css_class (undo_box, "linked");
  gtk_box_append (GTK_BOX (undo_box), undo);
  gtk_box_append (GTK_BOX (undo_box), redo);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), open);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), save);
  gtk_header_bar_pack_start (GTK_HEADER_BAR (header), undo_box);

  self->title = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->title, "title");
  self->subtitle = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->subtitle, "subtitle");
  gtk_label_set_ellipsize (GTK_LABEL (self->subtitle), PANGO_ELLIPSIZE_START);
  gtk_box_append (GTK_BOX (title_box), self->title);
  gtk_box_append (GTK_BOX (title_box), self->subtitle);
  gtk_widget_set_valign (title_box, GTK_ALIGN_CENTER);
  gtk_header_bar_set_title_widget (GTK_HEADER_BAR (header), title_box);

  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "open-menu-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu), main_menu ());
  gtk_menu_button_set_primary (GTK_MENU_BUTTON (menu), TRUE);
  gtk_widget_set_tooltip_text (menu, _("Main Menu"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Main Menu"), -1);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export), "document-send-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export), export_menu ());
  gtk_widget_set_tooltip_text (export, _("Export"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (export), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Export"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (train), "win.train");
  gtk_widget_add_css_class (train, "suggested-action");
  gtk_widget_set_tooltip_text (train, _("Train the model (needs the training dashboard)"));
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), menu);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), export);
  gtk_header_bar_pack_end (GTK_HEADER_BAR (header), train);
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
  self->problems_label = gtk_label_new (NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->problems_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Problems"), -1);
  self->zoom_label = gtk_label_new ("100 %");
  gtk_widget_add_css_class (self->zoom_label, "numeric");
  gtk_widget_add_css_class (self->zoom_label, "dim-label");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->zoom_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Zoom"), -1);
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
  GtkWidget *toast_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *back;

  self->canvas = weft_graph_canvas_new ();
  gtk_overlay_set_child (GTK_OVERLAY (overlay), self->canvas);

  self->toast = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->toast), GTK_REVEALER_TRANSITION_TYPE_SLIDE_UP);
  gtk_widget_set_halign (self->toast, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (self->toast, GTK_ALIGN_END);
  gtk_widget_set_can_target (self->toast, FALSE);
  self->toast_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->toast_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->toast_label), 70);
  gtk_widget_add_css_class (toast_box, "weft-toast");
  gtk_box_append (GTK_BOX (toast_box), self->toast_label);
  gtk_revealer_set_child (GTK_REVEALER (self->toast), toast_box);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), self->toast);

  self->breadcrumb = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->breadcrumb, "weft-breadcrumb");
  gtk_widget_set_halign (self->breadcrumb, GTK_ALIGN_START);
  gtk_widget_set_valign (self->breadcrumb, GTK_ALIGN_START);
  back = icon_button ("go-up-symbolic", "graph.close-model", _("Back to the main model"));
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
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->summary);
  gtk_stack_add_titled (GTK_STACK (self->side_stack), self->inspector, "inspector", _("Inspector"));
  gtk_stack_add_titled (GTK_STACK (self->side_stack), scrolled, "summary", _("Summary"));
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (switcher), GTK_STACK (self->side_stack));
  gtk_widget_set_halign (switcher, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (switcher, 6);
  gtk_widget_set_margin_bottom (switcher, 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (switcher), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Side panel"), -1);
  gtk_widget_set_vexpand (self->side_stack, TRUE);
  gtk_box_append (GTK_BOX (box), switcher);
  gtk_box_append (GTK_BOX (box), self->side_stack);
  return box;
}

static void
weft_window_dispose (GObject *object)
{
  WeftWindow *self = WEFT_WINDOW (object);

  g_clear_handle_id (&self->toast_id, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
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
  GtkWidget *left = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *right = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *center = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  g_autoptr (GtkBuilder) builder = NULL;
  g_autoptr (WeftDocument) doc = weft_document_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
  install_graph_forwarders (self);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self), "train")),
                               FALSE);

  gtk_window_set_titlebar (GTK_WINDOW (self), build_header (self));
  gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);

  self->palette = weft_palette_new ();
  gtk_widget_set_size_request (self->palette, 200, -1);
  g_signal_connect_swapped (self->palette, "add", G_CALLBACK (palette_add_cb), self);

  gtk_box_append (GTK_BOX (center), build_canvas_area (self));
  self->dashboard_area = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_visible (self->dashboard_area, FALSE);
  gtk_box_append (GTK_BOX (center), self->dashboard_area);

  gtk_paned_set_start_child (GTK_PANED (right), center);
  gtk_paned_set_end_child (GTK_PANED (right), build_side (self));
  gtk_paned_set_resize_end_child (GTK_PANED (right), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (right), FALSE);
  gtk_paned_set_position (GTK_PANED (right), 1280 - 220 - 320);
  gtk_paned_set_start_child (GTK_PANED (left), self->palette);
  gtk_paned_set_end_child (GTK_PANED (left), right);
  gtk_paned_set_resize_start_child (GTK_PANED (left), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (left), FALSE);
  gtk_paned_set_position (GTK_PANED (left), 220);
  gtk_widget_set_vexpand (left, TRUE);
  gtk_box_append (GTK_BOX (outer), left);
  gtk_box_append (GTK_BOX (outer), build_status (self));
  gtk_window_set_child (GTK_WINDOW (self), outer);

  g_signal_connect_swapped (self->canvas, "selection-changed", G_CALLBACK (selection_changed_cb), self);
  g_signal_connect_swapped (self->canvas, "node-activated", G_CALLBACK (node_activated_cb), self);
  g_signal_connect_swapped (self->canvas, "error", G_CALLBACK (canvas_error_cb), self);
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), self);
  gtk_widget_add_tick_callback (self->canvas, zoom_tick_cb, self, NULL);

  builder = gtk_builder_new_from_resource ("/org/weft/Weft/ui/weft-shortcuts.ui");
  gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (self),
                                           GTK_SHORTCUTS_WINDOW (gtk_builder_get_object (builder, "help_overlay")));

  weft_window_set_document (self, doc);
}

WeftWindow *
weft_window_new (GtkApplication *application)
{
  return g_object_new (WEFT_TYPE_WINDOW, "application", application, NULL);
}
