/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ui-autosave.c: WeftAutosave writes a changed document to its folder after the
 * interval, deletes it on a clean save or close, and what a killed process leaves behind is
 * listed and loads back with the edit in it. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>

#include "weft-autosave.h"
#include "weft-document.h"
#include "weft-file.h"

static char *
make_dir (void)
{
  char *dir = g_dir_make_tmp ("weft-autosave-XXXXXX", NULL);
  g_assert_nonnull (dir);
  return dir;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

/* Runs the main loop until path exists (want TRUE) or not, at most timeout_ms. */
static gboolean
wait_for_file (const char *path, gboolean want, int timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS) == want)
        return TRUE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
  return g_file_test (path, G_FILE_TEST_EXISTS) == want;
}

static WeftId
add_dense (WeftDocument *doc, double x)
{
  g_autoptr (GError) error = NULL;
  WeftId node = weft_document_add_layer (doc, "Dense", x, 40.0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (node, !=, WEFT_ID_NONE);
  return node;
}

static int
count_layers_of_type (WeftGraph *g, const char *type)
{
  int n = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    if (strcmp (weft_graph_layer_op (g, weft_graph_layer_at (g, i))->name, type) == 0)
      n++;
  return n;
}

static void
test_write_and_delete_on_save (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (WeftAutosave) as = weft_autosave_new (doc, dir, NULL);
  g_autoptr (GError) error = NULL;

  weft_autosave_set_interval (as, 1);
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  add_dense (doc, 10);
  add_dense (doc, 200);
  /* Not before the interval... */
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  /* ...but within it (1 s, plus slack for a loaded machine). */
  g_assert_true (wait_for_file (weft_autosave_get_path (as), TRUE, 5000));

  /* The autosave of this live document is not a leftover. */
  g_autoptr (GPtrArray) live = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (live->len, ==, 0);

  /* The autosaved graph has both edits. */
  WeftAutosaveEntry entry = { .id = (char *) weft_autosave_get_id (as),
                              .path = (char *) weft_autosave_get_path (as) };
  WeftGraph *g = weft_autosave_entry_load (&entry, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_layers_of_type (g, "Dense"), ==, 2);
  weft_graph_free (g);

  /* A clean save removes it. */
  g_autofree char *saved_path = g_build_filename (dir, "mine.weft", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (saved_path);
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));

  /* The next edit is autosaved again, and closing the document removes it. */
  add_dense (doc, 400);
  g_assert_true (wait_for_file (weft_autosave_get_path (as), TRUE, 5000));
  g_autofree char *path = g_strdup (weft_autosave_get_path (as));
  g_clear_object (&as);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_unlink (saved_path);
  remove_dir (dir);
}

static void
test_interval_zero_is_off (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (WeftAutosave) as = weft_autosave_new (doc, dir, NULL);

  weft_autosave_set_interval (as, 0);
  add_dense (doc, 10);
  g_assert_true (wait_for_file (weft_autosave_get_path (as), FALSE, 1500));
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  /* Turning it on schedules the pending change. */
  weft_autosave_set_interval (as, 1);
  g_assert_true (wait_for_file (weft_autosave_get_path (as), TRUE, 5000));
  weft_autosave_set_interval (as, 0);
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  g_clear_object (&as);
  remove_dir (dir);
}

static void
test_undo_to_saved_state_discards (void)
{
  g_autofree char *dir = make_dir ();
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (WeftAutosave) as = weft_autosave_new (doc, dir, NULL);
  g_autoptr (GError) error = NULL;

  weft_autosave_set_interval (as, 1);
  add_dense (doc, 10);
  g_assert_true (weft_autosave_save_now (as, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  g_assert_true (weft_document_undo (doc));
  g_assert_false (weft_document_get_dirty (doc));
  g_assert_false (g_file_test (weft_autosave_get_path (as), G_FILE_TEST_EXISTS));
  g_clear_object (&as);
  remove_dir (dir);
}

/* The child of the crash test: edits, waits for the autosave, then dies by SIGKILL. */
static void
crash_child (void)
{
  const char *dir = g_getenv ("WEFT_AUTOSAVE_TEST_DIR");
  g_autoptr (WeftDocument) doc = weft_document_new ();
  WeftAutosave *as = weft_autosave_new (doc, dir, "crashed-session");

  g_assert_nonnull (dir);
  weft_autosave_set_interval (as, 1);
  add_dense (doc, 10);
  add_dense (doc, 200);
  add_dense (doc, 400);
  g_assert_true (wait_for_file (weft_autosave_get_path (as), TRUE, 5000));
  kill (getpid (), SIGKILL);
}

static void
test_killed_process_leaves_restorable_leftover (void)
{
  if (g_test_subprocess ())
    {
      crash_child ();
      return;
    }

  g_autofree char *dir = make_dir ();
  g_autoptr (GError) error = NULL;

  g_setenv ("WEFT_AUTOSAVE_TEST_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();

  g_autoptr (GPtrArray) leftovers = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (leftovers->len, ==, 1);
  WeftAutosaveEntry *e = g_ptr_array_index (leftovers, 0);
  g_assert_cmpstr (e->id, ==, "crashed-session");
  g_assert_cmpstr (e->title, ==, "Untitled");
  g_assert_null (e->original_uri);
  g_assert_nonnull (e->saved);

  WeftHistory *history = NULL;
  WeftGraph *g = weft_autosave_entry_load (e, &history, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_layers_of_type (g, "Dense"), ==, 3);
  weft_graph_free (g);
  weft_history_free (history);

  /* Restored under its id, the leftover is live again; declined, it is gone. */
  g_autoptr (WeftDocument) doc = weft_document_new ();
  WeftAutosave *as = weft_autosave_new (doc, dir, e->id);
  g_autoptr (GPtrArray) now = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (now->len, ==, 0);
  g_object_unref (as);   /* a clean close of a document without changes deletes it */
  g_autoptr (GPtrArray) after = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (after->len, ==, 0);
  remove_dir (dir);
}

static void
test_list_newest_first_and_delete (void)
{
  g_autofree char *dir = make_dir ();
  static const char *const ids[] = { "old", "new" };
  static const char *const stamps[] = { "2026-01-01T10:00:00Z", "2026-06-01T10:00:00Z" };
  g_autoptr (WeftDocument) doc = weft_document_new ();

  add_dense (doc, 10);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *weft = g_strdup_printf ("%s/%s.weft", dir, ids[i]);
      g_autofree char *info = g_strdup_printf ("%s/%s.info", dir, ids[i]);
      g_autofree char *text = g_strdup_printf ("[autosave]\ntitle=T %s\n"
                                               "original-uri=file:///tmp/%s.weft\nsaved=%s\n",
                                               ids[i], ids[i], stamps[i]);
      g_assert_true (weft_file_save (weft_document_get_graph (doc), NULL, weft, NULL));
      g_assert_true (g_file_set_contents (info, text, -1, NULL));
    }
  g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (list->len, ==, 2);
  WeftAutosaveEntry *first = g_ptr_array_index (list, 0);
  g_assert_cmpstr (first->id, ==, "new");
  g_assert_cmpstr (first->title, ==, "T new");
  g_assert_cmpstr (first->original_uri, ==, "file:///tmp/new.weft");
  weft_autosave_entry_delete (first);
  g_autoptr (GPtrArray) rest = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (rest->len, ==, 1);
  g_assert_cmpstr (((WeftAutosaveEntry *) g_ptr_array_index (rest, 0))->id, ==, "old");
  weft_autosave_entry_delete (g_ptr_array_index (rest, 0));
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/autosave/writes-after-an-edit-deletes-on-save-and-close",
                   test_write_and_delete_on_save);
  g_test_add_func ("/ui/autosave/interval-zero-is-off", test_interval_zero_is_off);
  g_test_add_func ("/ui/autosave/undo-to-saved-state-discards", test_undo_to_saved_state_discards);
  g_test_add_func ("/ui/autosave/killed-process-leaves-a-restorable-leftover",
                   test_killed_process_leaves_restorable_leftover);
  g_test_add_func ("/ui/autosave/leftovers-newest-first-and-delete",
                   test_list_newest_first_and_delete);
  return g_test_run ();
}
