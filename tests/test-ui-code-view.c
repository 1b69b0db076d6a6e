/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The "Keras code" pane in a real (Xvfb) window: the text is weft_keras_code's, the selected
 * node's lines carry the highlight tag, edits through the document update it (only while the
 * pane is mapped), and the Copy button fills the clipboard. Run with GTK_A11Y=test. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <gtk/gtk.h>

#include "weft-code-view.h"
#include "weft-file.h"
#include "weft-keras-export.h"

#define SPIN_TIMEOUT_MS 5000

static gboolean
flag (gpointer p)
{
  *(gboolean *) p = TRUE;
  return G_SOURCE_REMOVE;
}

static char *
buffer_text (WeftCodeView *view)
{
  GtkTextBuffer *buffer = weft_code_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
}

/* Spins the main loop until the buffer holds `expected` (or times out). */
static gboolean
spin_until_text (WeftCodeView *view, const char *expected)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (SPIN_TIMEOUT_MS, flag, &timed_out);
  gboolean ok = FALSE;

  while (!timed_out)
    {
      g_autofree char *text = buffer_text (view);
      if (g_strcmp0 (text, expected) == 0)
        {
          ok = TRUE;
          break;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  if (!timed_out)
    g_source_remove (id);
  return ok;
}

/* The 1-based line range covered by the "highlight" tag, 0 when it covers nothing. */
static void
highlight_range (WeftCodeView *view, int *first, int *last)
{
  GtkTextBuffer *buffer = weft_code_view_get_buffer (view);
  GtkTextTag *tag = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), "highlight");
  GtkTextIter it, end;

  g_assert_nonnull (tag);
  *first = *last = 0;
  gtk_text_buffer_get_start_iter (buffer, &it);
  if (!gtk_text_iter_starts_tag (&it, tag) && !gtk_text_iter_forward_to_tag_toggle (&it, tag))
    return;
  end = it;
  g_assert_true (gtk_text_iter_forward_to_tag_toggle (&end, tag));
  g_assert_true (gtk_text_iter_ends_tag (&end, tag));
  *first = gtk_text_iter_get_line (&it) + 1;
  /* the tag takes the last line's newline: it ends at the start of the next line */
  if (gtk_text_iter_starts_line (&end))
    gtk_text_iter_backward_char (&end);
  *last = gtk_text_iter_get_line (&end) + 1;
  /* one range only */
  g_assert_false (gtk_text_iter_forward_to_tag_toggle (&end, tag) && gtk_text_iter_starts_tag (&end, tag));
}

static void
wait_for_no_highlight (WeftCodeView *view)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (SPIN_TIMEOUT_MS, flag, &timed_out);
  int first, last;

  /* let a queued regeneration run first */
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  for (highlight_range (view, &first, &last); first != 0 && !timed_out;
       highlight_range (view, &first, &last))
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

static void
read_text_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  *(char **) data = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
}

static void
test_siamese_highlight_edit_copy (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "resources", "examples",
                                                 "siamese.weft", NULL);
  GError *error = NULL;
  WeftHistory *history = NULL;
  WeftGraph *graph = weft_file_load (path, &history, &error);
  g_autoptr (WeftDocument) doc = NULL;
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = weft_code_view_new ();
  g_autofree char *expected = NULL;
  g_autofree char *clip = NULL;
  WeftId shared, second;
  int first = 0, last = 0, tag_first, tag_last;
  GtkWidget *button;

  g_assert_no_error (error);
  g_assert_nonnull (graph);
  doc = weft_document_new_for_graph (graph, history);
  graph = NULL;

  /* short, so the highlighted line starts off screen and must be scrolled to */
  gtk_window_set_default_size (GTK_WINDOW (window), 600, 160);
  gtk_window_set_child (GTK_WINDOW (window), view);
  weft_code_view_set_document (WEFT_CODE_VIEW (view), doc);
  gtk_window_present (GTK_WINDOW (window));

  /* the text is the export's: Input, Model, and the shared layer is one instance called twice */
  expected = weft_keras_code (weft_document_get_graph (doc), WEFT_ID_NONE, NULL, NULL);
  g_assert_true (spin_until_text (WEFT_CODE_VIEW (view), expected));
  g_assert_nonnull (strstr (expected, "keras.Input("));
  g_assert_nonnull (strstr (expected, "keras.Model("));
  g_assert_nonnull (strstr (expected, "# shared: called 2 times"));
  highlight_range (WEFT_CODE_VIEW (view), &tag_first, &tag_last);
  g_assert_cmpint (tag_first, ==, 0);

  /* selecting the shared layer's second call highlights exactly the generator's lines */
  shared = weft_graph_find (weft_document_get_graph (doc), "shared_1");
  g_assert_cmpint (shared, !=, WEFT_ID_NONE);
  second = weft_graph_callee_node_at (weft_document_get_graph (doc), shared, 1);
  g_assert_cmpint (second, !=, WEFT_ID_NONE);
  weft_code_view_set_highlight (WEFT_CODE_VIEW (view), second);
  g_free (expected);
  expected = weft_keras_code (weft_document_get_graph (doc), second, &first, &last);
  g_assert_cmpint (first, >, 0);
  g_assert_cmpint (last, >=, first);
  {
    gboolean timed_out = FALSE;
    guint id = g_timeout_add (SPIN_TIMEOUT_MS, flag, &timed_out);
    do
      {
        highlight_range (WEFT_CODE_VIEW (view), &tag_first, &tag_last);
        if (tag_first != 0)
          break;
        g_main_context_iteration (NULL, TRUE);
      }
    while (!timed_out);
    g_assert_false (timed_out);
    g_source_remove (id);
  }
  g_assert_cmpint (tag_first, ==, first);
  g_assert_cmpint (tag_last, ==, last);
  {
    GtkTextView *tv = GTK_TEXT_VIEW (gtk_widget_get_first_child (
                        gtk_widget_get_last_child (view)));   /* scrolled window's view */
    GtkTextBuffer *buffer = weft_code_view_get_buffer (WEFT_CODE_VIEW (view));
    GdkRectangle visible;
    GtkTextIter line;
    int y = 0, height = 0;
    gboolean timed_out = FALSE;
    guint id = g_timeout_add (SPIN_TIMEOUT_MS, flag, &timed_out);

    g_assert_true (GTK_IS_TEXT_VIEW (tv));
    gtk_text_buffer_get_iter_at_line (buffer, &line, first - 1);
    do
      {
        gtk_text_view_get_visible_rect (tv, &visible);
        gtk_text_view_get_line_yrange (tv, &line, &y, &height);
        if (visible.y > 0 && y >= visible.y && y + height <= visible.y + visible.height)
          break;
        g_main_context_iteration (NULL, TRUE);
      }
    while (!timed_out);
    g_assert_false (timed_out);
    g_source_remove (id);
  }
  {
    g_auto (GStrv) lines = g_strsplit (expected, "\n", -1);
    g_test_message ("highlighted %d-%d: %s", first, last, lines[first - 1]);
  }

  /* an edit through the document updates the text and keeps the highlight on the node */
  g_assert_true (weft_document_rename (doc, weft_graph_node_callee (weft_document_get_graph (doc),
                                                                    second),
                                       "twin_encoder", &error));
  g_assert_no_error (error);
  g_free (expected);
  expected = weft_keras_code (weft_document_get_graph (doc), second, &first, &last);
  g_assert_nonnull (strstr (expected, "twin_encoder"));
  g_assert_true (spin_until_text (WEFT_CODE_VIEW (view), expected));
  highlight_range (WEFT_CODE_VIEW (view), &tag_first, &tag_last);
  g_assert_cmpint (tag_first, ==, first);
  g_assert_cmpint (tag_last, ==, last);

  /* hidden, the pane does not regenerate; shown again, it catches up */
  gtk_widget_set_visible (view, FALSE);
  g_assert_true (weft_document_undo (doc));
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  {
    g_autofree char *text = buffer_text (WEFT_CODE_VIEW (view));
    g_assert_cmpstr (text, ==, expected);
  }
  gtk_widget_set_visible (view, TRUE);
  g_free (expected);
  expected = weft_keras_code (weft_document_get_graph (doc), second, NULL, NULL);
  g_assert_null (strstr (expected, "twin_encoder"));
  g_assert_true (spin_until_text (WEFT_CODE_VIEW (view), expected));

  /* the Copy button (header's last child) has a name and fills the clipboard */
  button = gtk_widget_get_last_child (gtk_widget_get_first_child (view));
  g_assert_true (GTK_IS_BUTTON (button));
  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Copy Keras code");
  g_signal_emit_by_name (button, "clicked");
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (view), NULL, read_text_cb, &clip);
  {
    gboolean timed_out = FALSE;
    guint id = g_timeout_add (SPIN_TIMEOUT_MS, flag, &timed_out);
    while (clip == NULL && !timed_out)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (timed_out);
    g_source_remove (id);
  }
  g_assert_cmpstr (clip, ==, expected);

  /* a head id, and an id no longer in the graph, clear the highlight; the text stays */
  weft_code_view_set_highlight (WEFT_CODE_VIEW (view), (WeftId) -2);
  wait_for_no_highlight (WEFT_CODE_VIEW (view));
  weft_code_view_set_highlight (WEFT_CODE_VIEW (view), second);
  tag_first = 0;
  for (int i = 0; i < 1000 && tag_first == 0; i++)
    {
      g_main_context_iteration (NULL, TRUE);
      highlight_range (WEFT_CODE_VIEW (view), &tag_first, &tag_last);
    }
  g_assert_cmpint (tag_first, >, 0);
  weft_code_view_set_highlight (WEFT_CODE_VIEW (view), 1000000);
  wait_for_no_highlight (WEFT_CODE_VIEW (view));
  g_assert_true (spin_until_text (WEFT_CODE_VIEW (view), expected));

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    {
      printf ("1..0 # SKIP no display\n");
      return 0;
    }
  g_test_add_func ("/ui/code-view/siamese/highlight-edit-copy", test_siamese_highlight_edit_copy);
  return g_test_run ();
}
