/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ui-autosave.c: WeftAutosave writes a changed document to its folder after the
 * interval, deletes it on a clean save or close, and what a killed process leaves behind is
 * listed and loads back with the edit in it. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <utime.h>

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
  WeftGraph *g = weft_autosave_entry_load (&entry, NULL, NULL, &error);
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
  WeftGraph *g = weft_autosave_entry_load (e, &history, NULL, &error);
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
  /* while listed (offered) they are claimed: listed again once the first list is gone */
  g_autoptr (GPtrArray) claimed = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (claimed->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_autoptr (GPtrArray) rest = weft_autosave_list_leftovers (dir);
  g_assert_cmpuint (rest->len, ==, 1);
  g_assert_cmpstr (((WeftAutosaveEntry *) g_ptr_array_index (rest, 0))->id, ==, "old");
  weft_autosave_entry_delete (g_ptr_array_index (rest, 0));
  remove_dir (dir);
}

/* What the user would lose besides the graph: trained weights, the training history and
 * the file's data binding come back from the autosave. */
static void
test_weights_history_and_binding_restored (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *example = g_build_filename (WEFT_SOURCE_DIR, "resources", "examples",
                                               "mlp.weft", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (example);
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (weft_document_load (doc, file, &error));
  g_assert_no_error (error);
  WeftGraph *graph = weft_document_get_graph (doc);
  weft_graph_init_weights (graph, 1234);   /* as if trained */
  const char *head = weft_graph_model_output_name (graph, weft_graph_get_main_model (graph), 0);
  WeftHistory *trained = weft_history_new (1, &head, NULL, NULL);
  for (int e = 0; e < 2; e++)
    {
      double loss = 1.0 / (e + 1), nan = NAN;
      WeftHistoryEpoch row = { .epoch = e, .total = loss, .seconds = 0.5, .loss = &loss,
                               .metric = &nan };
      g_assert_true (weft_history_append_epoch (trained, &row));
    }
  weft_document_set_history (doc, trained);
  weft_document_mark_modified (doc);
  g_autoptr (WeftAutosave) as = weft_autosave_new (doc, dir, "trained");
  g_assert_true (weft_autosave_save_now (as, &error));
  g_assert_no_error (error);

  WeftAutosaveEntry entry = { .id = (char *) "trained",
                              .path = (char *) weft_autosave_get_path (as) };
  WeftHistory *history = NULL;
  WeftFileMeta meta = { 0 };
  WeftGraph *back = weft_autosave_entry_load (&entry, &history, &meta, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  int checked = 0;
  for (int i = 0; i < weft_graph_n_layers (graph); i++)
    {
      WeftId a = weft_graph_layer_at (graph, i), b = weft_graph_layer_at (back, i);
      int na = 0, nb = 0;
      const WeftWeight *wa = weft_graph_layer_weights (graph, a, &na);
      const WeftWeight *wb = weft_graph_layer_weights (back, b, &nb);
      g_assert_cmpint (na, ==, nb);
      for (int k = 0; k < na; k++)
        {
          g_assert_nonnull (wa[k].data);
          g_assert_nonnull (wb[k].data);
          size_t n = (size_t) weft_shape_size (&wa[k].spec.shape);
          g_assert_cmpmem (wa[k].data, n * sizeof (float), wb[k].data, n * sizeof (float));
          checked++;
        }
    }
  g_assert_cmpint (checked, >, 0);
  g_assert_nonnull (history);
  g_assert_cmpuint (weft_history_n_epochs (history), ==, 2);
  const WeftFileMeta *m0 = weft_document_get_file_meta (doc);
  g_assert_cmpstr (meta.name, ==, m0->name);
  g_assert_true ((meta.data == NULL) == (m0->data == NULL));
  if (m0->data != NULL)
    g_assert_true (json_node_equal (meta.data, m0->data));
  /* the example trains on "synthetic:blobs" */
  g_assert_cmpstr (weft_graph_get_train_config (back)->data, ==, "synthetic:blobs");
  weft_file_meta_clear (&meta);
  weft_history_free (history);
  weft_graph_free (back);
  g_clear_object (&as);
  remove_dir (dir);
}

/* ---- ownership between processes ---- */

static const char *self_exe;

/* Child modes of this program (WEFT_AUTOSAVE_CHILD):
 * "live": opens WEFT_AUTOSAVE_ORIGINAL (or a new graph), adds a Dense, autosaves it as
 *         "other-live" in WEFT_AUTOSAVE_TEST_DIR, prints "ready" and keeps running until its
 *         stdin closes (then closes the document cleanly) or it is killed;
 * "list": prints the number of leftovers it would offer, holds them until stdin closes. */
static int
child_main (const char *mode)
{
  const char *dir = g_getenv ("WEFT_AUTOSAVE_TEST_DIR");
  const char *original = g_getenv ("WEFT_AUTOSAVE_ORIGINAL");
  char line[16];

  if (g_str_equal (mode, "list"))
    {
      g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (dir);
      printf ("%u\n", list->len);
      fflush (stdout);
      while (fgets (line, sizeof line, stdin) != NULL)
        ;
      return 0;
    }

  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (GError) error = NULL;
  if (original != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (original);
      if (!weft_document_load (doc, file, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
    }
  g_autoptr (WeftAutosave) as = weft_autosave_new (doc, dir, "other-live");
  weft_autosave_set_interval (as, 3600);
  add_dense (doc, 10);
  if (!weft_autosave_save_now (as, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);
  while (fgets (line, sizeof line, stdin) != NULL)
    ;
  return 0;
}

typedef struct
{
  GPid  pid;
  int   in_fd;    /* the child's stdin: closing it ends the child */
  FILE *out;      /* the child's stdout */
} Child;

static Child
spawn_child (const char *mode, const char *dir, const char *original)
{
  const char *argv[] = { self_exe, NULL };
  g_auto (GStrv) env = g_get_environ ();
  g_autoptr (GError) error = NULL;
  Child c = { 0 };
  int out_fd = -1;

  env = g_environ_setenv (env, "WEFT_AUTOSAVE_CHILD", mode, TRUE);
  env = g_environ_setenv (env, "WEFT_AUTOSAVE_TEST_DIR", dir, TRUE);
  if (original != NULL)
    env = g_environ_setenv (env, "WEFT_AUTOSAVE_ORIGINAL", original, TRUE);
  else
    env = g_environ_unsetenv (env, "WEFT_AUTOSAVE_ORIGINAL");
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                                           NULL, NULL, &c.pid, &c.in_fd, &out_fd, NULL, &error));
  g_assert_no_error (error);
  c.out = fdopen (out_fd, "r");
  g_assert_nonnull (c.out);
  return c;
}

static char *
child_line (Child *c)
{
  char buf[64];
  g_assert_nonnull (fgets (buf, sizeof buf, c->out));
  return g_strstrip (g_strdup (buf));
}

/* Ends the child: cleanly (stdin closed) or by SIGKILL; returns its wait status. */
static int
end_child (Child *c, gboolean crash)
{
  int status = 0;
  if (crash)
    kill (c->pid, SIGKILL);
  close (c->in_fd);
  g_assert_cmpint (waitpid (c->pid, &status, 0), ==, c->pid);
  fclose (c->out);
  g_spawn_close_pid (c->pid);
  return status;
}

static guint
leftovers_seen_by_another_process (const char *dir)
{
  Child lister = spawn_child ("list", dir, NULL);
  g_autofree char *count = child_line (&lister);
  end_child (&lister, FALSE);
  return (guint) g_ascii_strtoull (count, NULL, 10);
}

/* Another running Weft's autosave is never offered; once that process is killed it is, and
 * then only by one process at a time (a listing claims what it lists). */
static void
test_other_process_live_autosave_is_not_a_leftover (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *weft = g_build_filename (dir, "other-live.weft", NULL);

  Child live = spawn_child ("live", dir, NULL);
  g_autofree char *ready = child_line (&live);
  g_assert_cmpstr (ready, ==, "ready");
  g_assert_true (g_file_test (weft, G_FILE_TEST_EXISTS));
  {
    g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (dir);
    g_assert_cmpuint (list->len, ==, 0);
  }
  /* A clean exit deletes it (and its lock file): nothing left. */
  int status = end_child (&live, FALSE);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_false (g_file_test (weft, G_FILE_TEST_EXISTS));

  /* Killed: a leftover, offered by whoever lists it first, and only by that one. */
  live = spawn_child ("live", dir, NULL);
  g_free (ready);
  ready = child_line (&live);
  g_assert_cmpstr (ready, ==, "ready");
  end_child (&live, TRUE);
  g_assert_true (g_file_test (weft, G_FILE_TEST_EXISTS));
  {
    g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (dir);
    g_assert_cmpuint (list->len, ==, 1);
    g_assert_cmpstr (((WeftAutosaveEntry *) g_ptr_array_index (list, 0))->id, ==, "other-live");
    /* claimed here: not offered by a second process, nor listed twice by this one */
    g_assert_cmpuint (leftovers_seen_by_another_process (dir), ==, 0);
    g_autoptr (GPtrArray) again = weft_autosave_list_leftovers (dir);
    g_assert_cmpuint (again->len, ==, 0);
  }
  /* Released without a decision: still there for the next start, never deleted. */
  g_assert_true (g_file_test (weft, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (leftovers_seen_by_another_process (dir), ==, 1);
  {
    g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (dir);
    g_assert_cmpuint (list->len, ==, 1);
    weft_autosave_entry_delete (g_ptr_array_index (list, 0));
  }
  g_assert_false (g_file_test (weft, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (leftovers_seen_by_another_process (dir), ==, 0);
  remove_dir (dir);
}

/* The entry remembers its original file's time: unchanged, a restore may save over it;
 * rewritten or gone since, saving there must be confirmed. */
static void
test_original_changed_since_autosave (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *orig = g_build_filename (dir, "orig.weft", NULL);
  g_autoptr (WeftDocument) doc = weft_document_new ();
  g_autoptr (GFile) file = g_file_new_for_path (orig);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (cache, 0700), ==, 0);
  add_dense (doc, 10);
  g_assert_true (weft_document_save (doc, file, &error));
  g_assert_no_error (error);

  Child live = spawn_child ("live", cache, orig);
  g_autofree char *ready = child_line (&live);
  g_assert_cmpstr (ready, ==, "ready");
  end_child (&live, TRUE);

  g_autoptr (GPtrArray) list = weft_autosave_list_leftovers (cache);
  g_assert_cmpuint (list->len, ==, 1);
  WeftAutosaveEntry *e = g_ptr_array_index (list, 0);
  g_autofree char *uri = g_file_get_uri (file);
  g_assert_cmpstr (e->original_uri, ==, uri);
  g_assert_cmpstr (e->title, ==, "orig.weft");
  g_assert_cmpuint (e->original_modified, !=, 0);
  g_assert_false (weft_autosave_entry_original_changed (e));

  WeftGraph *g = weft_autosave_entry_load (e, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (count_layers_of_type (g, "Dense"), ==, 2);
  weft_graph_free (g);

  /* someone rewrote the original meanwhile */
  struct utimbuf times = { .actime = 1000000000, .modtime = 1000000000 };
  g_assert_cmpint (utime (orig, &times), ==, 0);
  g_assert_true (weft_autosave_entry_original_changed (e));

  /* Restored and autosaved again, the leftover keeps the time from before the crash: after
   * a second crash the change of the original is still noticed. */
  {
    g_autoptr (WeftDocument) restored = weft_document_new ();
    weft_document_set_file (restored, file);
    weft_document_mark_modified (restored);
    g_autoptr (WeftAutosave) as = weft_autosave_new (restored, cache, e->id);
    g_assert_cmpstr (weft_autosave_get_id (as), ==, e->id);
    g_assert_true (weft_autosave_save_now (as, &error));
    g_assert_no_error (error);
    g_autofree char *info = g_build_filename (cache, "other-live.info", NULL);
    g_autoptr (GKeyFile) kf = g_key_file_new ();
    g_assert_true (g_key_file_load_from_file (kf, info, G_KEY_FILE_NONE, NULL));
    g_assert_cmpuint (g_key_file_get_uint64 (kf, "autosave", "original-modified-usec", NULL),
                      ==, e->original_modified);
  }

  g_unlink (orig);
  g_assert_true (weft_autosave_entry_original_changed (e));

  weft_autosave_entry_delete (e);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_autofree char *weights = g_build_filename (dir, "orig.safetensors", NULL);
  g_unlink (weights);
  remove_dir (cache);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  const char *child = g_getenv ("WEFT_AUTOSAVE_CHILD");
  if (child != NULL)
    return child_main (child);
  self_exe = argv[0];
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ui/autosave/writes-after-an-edit-deletes-on-save-and-close",
                   test_write_and_delete_on_save);
  g_test_add_func ("/ui/autosave/interval-zero-is-off", test_interval_zero_is_off);
  g_test_add_func ("/ui/autosave/undo-to-saved-state-discards", test_undo_to_saved_state_discards);
  g_test_add_func ("/ui/autosave/killed-process-leaves-a-restorable-leftover",
                   test_killed_process_leaves_restorable_leftover);
  g_test_add_func ("/ui/autosave/leftovers-newest-first-and-delete",
                   test_list_newest_first_and_delete);
  g_test_add_func ("/ui/autosave/weights-history-and-data-binding-restored",
                   test_weights_history_and_binding_restored);
  g_test_add_func ("/ui/autosave/another-process-live-autosave-is-not-a-leftover",
                   test_other_process_live_autosave_is_not_a_leftover);
  g_test_add_func ("/ui/autosave/original-changed-since-autosave",
                   test_original_changed_since_autosave);
  return g_test_run ();
}
