/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "weft-code-view"

#include "config.h"

#include "weft-code-view.h"

#include <glib/gi18n.h>

#include "weft-keras-export.h"

struct _WeftCodeView
{
  GtkWidget      parent_instance;

  GtkWidget     *header;
  GtkWidget     *scrolled;
  GtkWidget     *text_view;
  GtkWidget     *copy_button;
  GtkTextTag    *highlight_tag;
  GtkTextMark   *highlight_mark;

  WeftDocument  *document;
  WeftId         highlight;
  gboolean       stale;
  guint          idle_id;
  guint          scroll_id;
};

G_DEFINE_FINAL_TYPE (WeftCodeView, weft_code_view, GTK_TYPE_WIDGET)

/* Scrolls vertically only, and only when the highlighted lines are off screen: in GTK 4.8
 * gtk_text_view_scroll_to_mark right after a new text also shifts the view sideways. */
static void
scroll_to_highlight (WeftCodeView *self)
{
  GtkTextView *view = GTK_TEXT_VIEW (self->text_view);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkAdjustment *vadj = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (view));
  GtkTextIter first, last;
  int y, height, last_y, last_height;
  double value, page;

  gtk_text_buffer_get_iter_at_mark (buffer, &first, self->highlight_mark);
  if (vadj == NULL || !gtk_text_iter_has_tag (&first, self->highlight_tag))
    return;
  last = first;
  gtk_text_iter_forward_to_tag_toggle (&last, self->highlight_tag);
  gtk_text_iter_backward_char (&last);
  gtk_text_view_get_line_yrange (view, &first, &y, &height);
  gtk_text_view_get_line_yrange (view, &last, &last_y, &last_height);
  value = gtk_adjustment_get_value (vadj);
  page = gtk_adjustment_get_page_size (vadj);
  if (y < value)
    gtk_adjustment_set_value (vadj, y - height);
  else if (last_y + last_height > value + page)
    /* the whole range when it fits, else its first line at the top */
    gtk_adjustment_set_value (vadj, MIN (y - height, last_y + 2 * last_height - page));
}

static gboolean
scroll_idle (gpointer data)
{
  WeftCodeView *self = data;

  self->scroll_id = 0;
  scroll_to_highlight (self);
  return G_SOURCE_REMOVE;
}

static void
regenerate (WeftCodeView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
  WeftGraph *graph;
  g_autofree char *code = NULL;
  g_autofree char *old = NULL;
  GtkTextIter start, end;
  int first = 0, last = 0;

  self->stale = FALSE;
  if (self->document == NULL)
    {
      gtk_text_buffer_set_text (buffer, "", -1);
      return;
    }
  graph = weft_document_get_graph (self->document);
  /* head ids are negative and not nodes of the graph */
  code = weft_keras_code (graph, self->highlight >= 0 ? self->highlight : WEFT_ID_NONE,
                          &first, &last);
  if (code == NULL)
    code = g_strdup (_("# The graph has no main model."));

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  old = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  /* an unchanged text keeps the reader's scroll position */
  if (g_strcmp0 (old, code) != 0)
    gtk_text_buffer_set_text (buffer, code, -1);

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_tag (buffer, self->highlight_tag, &start, &end);
  gtk_text_buffer_move_mark (buffer, self->highlight_mark, &start);
  if (first > 0 && last >= first)
    {
      gtk_text_buffer_get_iter_at_line (buffer, &start, first - 1);
      gtk_text_buffer_get_iter_at_line (buffer, &end, last - 1);
      if (!gtk_text_iter_ends_line (&end))
        gtk_text_iter_forward_to_line_end (&end);
      /* include the newline so the background spans the whole line */
      gtk_text_iter_forward_char (&end);
      gtk_text_buffer_apply_tag (buffer, self->highlight_tag, &start, &end);
      gtk_text_buffer_move_mark (buffer, self->highlight_mark, &start);
    }
}

static gboolean
regenerate_idle (gpointer data)
{
  WeftCodeView *self = data;

  self->idle_id = 0;
  regenerate (self);
  /* after GTK has laid out the new text (its validation runs at a higher priority) */
  if (self->scroll_id == 0)
    self->scroll_id = g_idle_add_full (G_PRIORITY_LOW, scroll_idle, self, NULL);
  return G_SOURCE_REMOVE;
}

/* Edits come in bursts (a drag moves nodes many times): regenerate once, and only while
 * the pane is on screen; mapping it catches up. */
static void
queue_regenerate (WeftCodeView *self)
{
  self->stale = TRUE;
  if (self->idle_id == 0 && gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, regenerate_idle, self, NULL);
}

static void
document_changed_cb (WeftCodeView *self)
{
  queue_regenerate (self);
}

static void
copy_clicked_cb (WeftCodeView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
  g_autofree char *text = NULL;
  GtkTextIter start, end;

  if (self->stale)
    regenerate (self);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

/* The highlight follows the theme: the stylesheet may define weft_code_highlight, else
 * the theme's accent or selection colour is used, faded so the code stays readable. */
static void
update_highlight_color (WeftCodeView *self)
{
  GtkStyleContext *context = gtk_widget_get_style_context (self->text_view);
  GdkRGBA color;

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (gtk_style_context_lookup_color (context, "weft_code_highlight", &color))
    ;
  else if (gtk_style_context_lookup_color (context, "accent_bg_color", &color)
           || gtk_style_context_lookup_color (context, "theme_selected_bg_color", &color))
    color.alpha *= 0.25f;
  else
    {
      gtk_style_context_get_color (context, &color);
      color.alpha *= 0.15f;
    }
G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_set (self->highlight_tag, "paragraph-background-rgba", &color, NULL);
}

static void
weft_code_view_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (weft_code_view_parent_class)->css_changed (widget, change);
  update_highlight_color (WEFT_CODE_VIEW (widget));
}

static void
weft_code_view_map (GtkWidget *widget)
{
  WeftCodeView *self = WEFT_CODE_VIEW (widget);

  GTK_WIDGET_CLASS (weft_code_view_parent_class)->map (widget);
  if (self->stale)
    queue_regenerate (self);
}

static void
weft_code_view_dispose (GObject *object)
{
  WeftCodeView *self = WEFT_CODE_VIEW (object);

  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->scroll_id, g_source_remove);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_pointer (&self->header, gtk_widget_unparent);
  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  G_OBJECT_CLASS (weft_code_view_parent_class)->dispose (object);
}

static void
weft_code_view_class_init (WeftCodeViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = weft_code_view_dispose;
  widget_class->map = weft_code_view_map;
  widget_class->css_changed = weft_code_view_css_changed;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "weft-code-view");
}

static void
weft_code_view_init (WeftCodeView *self)
{
  GtkTextBuffer *buffer;
  GtkTextIter start;
  GtkWidget *title;

  self->highlight = WEFT_ID_NONE;
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->header, "weft-code-header");
  gtk_widget_set_margin_start (self->header, 12);
  gtk_widget_set_margin_end (self->header, 6);
  gtk_widget_set_margin_top (self->header, 2);
  gtk_widget_set_margin_bottom (self->header, 2);
  title = gtk_label_new (_("Keras functional API"));
  gtk_widget_add_css_class (title, "dim-label");
  gtk_widget_set_hexpand (title, TRUE);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  self->copy_button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_widget_add_css_class (self->copy_button, "flat");
  gtk_widget_set_tooltip_text (self->copy_button, _("Copy the Keras code to the clipboard"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Copy Keras code"), -1);
  g_signal_connect_swapped (self->copy_button, "clicked", G_CALLBACK (copy_clicked_cb), self);
  gtk_box_append (GTK_BOX (self->header), title);
  gtk_box_append (GTK_BOX (self->header), self->copy_button);
  gtk_widget_set_parent (self->header, GTK_WIDGET (self));

  self->text_view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->text_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (self->text_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->text_view), GTK_WRAP_NONE);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->text_view), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->text_view), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->text_view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (self->text_view), 12);
  gtk_widget_add_css_class (self->text_view, "weft-code");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Keras code"), -1);
  gtk_widget_set_tooltip_text (self->text_view,
                               _("The graph as Keras functional-API Python, as the export writes it"));
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
  self->highlight_tag = gtk_text_buffer_create_tag (buffer, "highlight", NULL);
  gtk_text_buffer_get_start_iter (buffer, &start);
  self->highlight_mark = gtk_text_buffer_create_mark (buffer, "highlight", &start, TRUE);
  update_highlight_color (self);

  self->scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (self->scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), self->text_view);
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));
}

GtkWidget *
weft_code_view_new (void)
{
  return g_object_new (WEFT_TYPE_CODE_VIEW, NULL);
}

void
weft_code_view_set_document (WeftCodeView *self, WeftDocument *document)
{
  g_return_if_fail (WEFT_IS_CODE_VIEW (self));
  g_return_if_fail (document == NULL || WEFT_IS_DOCUMENT (document));

  if (self->document == document)
    return;
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  self->highlight = WEFT_ID_NONE;
  if (document != NULL)
    g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self,
                             G_CONNECT_SWAPPED);
  queue_regenerate (self);
}

void
weft_code_view_set_highlight (WeftCodeView *self, WeftId node)
{
  g_return_if_fail (WEFT_IS_CODE_VIEW (self));

  if (node < 0)
    node = WEFT_ID_NONE;
  if (self->highlight == node)
    return;
  self->highlight = node;
  queue_regenerate (self);
}

GtkTextBuffer *
weft_code_view_get_buffer (WeftCodeView *self)
{
  g_return_val_if_fail (WEFT_IS_CODE_VIEW (self), NULL);
  return gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
}
