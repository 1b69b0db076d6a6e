/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-io-crash-save.c: a child process saves a .weft + .safetensors pair over and over while
 * the parent kills it (SIGKILL) at random moments. After every kill the pair on disk must
 * load, and it must be the last save the child finished or the one it was writing: the graph
 * (its title and the hidden layer's width, which changes every generation) and the weights
 * (every value equals the generation number) always match. */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <utime.h>
#include <unistd.h>

#include "weft-file.h"
#include "weft-test-graphs.h"

#define INPUT_FEATURES 512   /* ~1 MB of weights: a save takes long enough to be cut short */
#define DEFAULT_ROUNDS 300

static int
hidden_units (gint64 generation)
{
  return 128 + 64 * (int) (generation % 3);
}

static WeftGraph *
make_generation (gint64 generation)
{
  WeftGraph *g = weft_graph_new ();
  WeftId m = weft_graph_add_model (g, "crash", NULL);
  WeftId x = tg_input1 (g, m, "x", INPUT_FEATURES);
  WeftId h = tg_dense (g, m, "hidden", hidden_units (generation), "relu", x, NULL);
  WeftId y = tg_dense (g, m, "y", 4, NULL, h, NULL);
  tg_head (g, m, y, WEFT_LOSS_MSE, 1.0f, WEFT_METRIC_NONE);
  g_assert_cmpint (weft_graph_analyse (g), ==, 0);

  for (int i = 0; i < weft_graph_n_layers (g); i++)
    {
      WeftId l = weft_graph_layer_at (g, i);
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (g, l, &n);
      for (int k = 0; k < n; k++)
        {
          WeftShape shape = w[k].spec.shape;
          gint64 count = weft_shape_size (&shape);
          g_autofree float *data = g_new (float, MAX (count, 1));
          WeftError e = { 0 };
          for (gint64 j = 0; j < count; j++)
            data[j] = (float) generation;
          char name[64];
          g_strlcpy (name, w[k].spec.name, sizeof name);
          g_assert_true (weft_graph_set_weight (g, l, name, &shape, data, &e));
          w = weft_graph_layer_weights (g, l, &n);
        }
    }
  return g;
}

static gboolean
save_generation (const char *path, gint64 generation, GError **error)
{
  WeftGraph *g = make_generation (generation);
  g_autofree char *title = g_strdup_printf ("generation %" G_GINT64_FORMAT, generation);
  WeftFileMeta meta = { .name = title };
  gboolean ok = weft_file_save_full (g, NULL, &meta, path, error);
  weft_graph_free (g);
  return ok;
}

/* Loads the pair and returns its generation, checking graph and weights agree. */
static gint64
check_pair (const char *path)
{
  g_autoptr (GError) error = NULL;
  WeftFileMeta meta = { 0 };
  WeftGraph *g = weft_file_load_full (path, NULL, &meta, &error);
  gint64 generation;

  if (g == NULL)
    g_error ("after a kill the saved graph does not load: %s", error->message);
  g_assert_nonnull (meta.name);
  g_assert_true (g_str_has_prefix (meta.name, "generation "));
  generation = g_ascii_strtoll (meta.name + strlen ("generation "), NULL, 10);

  int checked = 0;
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    {
      WeftId l = weft_graph_layer_at (g, i);
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (g, l, &n);
      if (strcmp (weft_graph_get_name (g, l), "hidden") == 0)
        {
          g_assert_cmpint (n, ==, 2);
          g_assert_cmpint (w[0].spec.shape.dims[1], ==, hidden_units (generation));
        }
      for (int k = 0; k < n; k++)
        {
          gint64 count = weft_shape_size (&w[k].spec.shape);
          g_assert_nonnull (w[k].data);
          for (gint64 j = 0; j < count; j++)
            if (w[k].data[j] != (float) generation)
              g_error ("graph of generation %" G_GINT64_FORMAT " loaded with weight %s[%"
                       G_GINT64_FORMAT "] = %g", generation, w[k].spec.name, j,
                       (double) w[k].data[j]);
          checked++;
        }
    }
  g_assert_cmpint (checked, ==, 4);
  weft_file_meta_clear (&meta);
  weft_graph_free (g);
  return generation;
}

/* The child: saves generations first, first+1, ... and reports each finished one on fd. */
static G_GNUC_NORETURN void
run_writer (const char *path, gint64 first, int fd)
{
  for (gint64 generation = first;; generation++)
    {
      GError *error = NULL;
      if (!save_generation (path, generation, &error))
        {
          g_printerr ("writer: %s\n", error->message);
          _exit (3);
        }
      if (write (fd, &generation, sizeof generation) != sizeof generation)
        _exit (4);
    }
}

static void
test_kill_during_save (void)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-crash-save-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "graph.weft", NULL);
  g_autoptr (GError) error = NULL;
  const char *env = g_getenv ("WEFT_CRASH_SAVE_ROUNDS");
  int rounds = env != NULL ? atoi (env) : DEFAULT_ROUNDS;
  GRand *rand = g_rand_new_with_seed (20261129);
  gint64 finished = 0;       /* the last generation known to be completely saved */
  int saw_old = 0, saw_new = 0, cut_short = 0;

  g_assert_nonnull (dir);
  g_assert_true (save_generation (path, 0, &error));
  g_assert_no_error (error);

  /* How long one save takes here: the kill delays are spread over a few saves. */
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 1; i <= 3; i++)
    g_assert_true (save_generation (path, i, NULL));
  double save_us = (double) (g_get_monotonic_time () - t0) / 3.0;
  finished = 3;
  g_test_message ("one save takes %.1f ms", save_us / 1000.0);

  for (int round = 0; round < rounds; round++)
    {
      int fds[2];
      g_assert_cmpint (pipe (fds), ==, 0);
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          close (fds[0]);
          run_writer (path, finished + 1, fds[1]);
        }
      close (fds[1]);

      /* Kill at a random point within about four saves (the child's first one is slower:
       * it starts from a fresh fork). */
      g_usleep ((gulong) g_rand_double_range (rand, 0.0, 4.0 * save_us));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      int status = 0;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      if (!(WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL))
        g_error ("the writer ended by itself (status %d)", status);

      gint64 done;
      gint64 last = finished;
      while (read (fds[0], &done, sizeof done) == sizeof done)
        last = done;
      close (fds[0]);

      gint64 on_disk = check_pair (path);
      if (on_disk != last && on_disk != last + 1)
        g_error ("round %d: generation %" G_GINT64_FORMAT " on disk, but the writer had "
                 "finished %" G_GINT64_FORMAT, round, on_disk, last);
      if (on_disk == last)
        saw_old++;
      else
        saw_new++;
      if (last == finished)
        cut_short++;
      finished = on_disk;
    }

  /* What the killed saves left behind (temporary files of the atomic writes): a save
   * removes those older than an hour. Age them, save once more, and only the pair remains. */
  int leftovers = 0, after_save = 0;
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      if (strcmp (name, "graph.weft") != 0 && strcmp (name, "graph.safetensors") != 0)
        {
          g_autofree char *p = g_build_filename (dir, name, NULL);
          struct utimbuf old = { time (NULL) - 7200, time (NULL) - 7200 };
          g_assert_cmpint (utime (p, &old), ==, 0);
          leftovers++;
        }
  }
  g_assert_true (save_generation (path, finished + 1, NULL));
  g_assert_cmpint (check_pair (path), ==, finished + 1);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *p = g_build_filename (dir, name, NULL);
        if (strcmp (name, "graph.weft") != 0 && strcmp (name, "graph.safetensors") != 0)
          {
            g_test_message ("left after a clean save: %s", name);
            after_save++;
          }
        g_unlink (p);
      }
  }
  g_rmdir (dir);
  g_test_message ("%d kills: %d left the last finished save, %d the save in progress "
                  "(%d before any save finished); %d temporary files left behind, %d after "
                  "the next save", rounds, saw_old, saw_new, cut_short, leftovers, after_save);
  g_assert_cmpint (after_save, ==, 0);
  /* The kills must land both mid-save and after it, or the test proves little. */
  if (rounds >= 50)
    {
      g_assert_cmpint (saw_old, >, 0);
      g_assert_cmpint (saw_new, >, 0);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/crash-save/kill-9-during-save-keeps-a-matching-pair",
                   test_kill_during_save);
  return g_test_run ();
}
