/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-io-fuzz-regressions.c: every seed and every crasher the fuzzers found
 * (tests/fuzz/corpus/<target>, tests/fuzz/regressions/<target>) through the fuzz targets'
 * own entry points, in the normal build, so the suite proves they stay fixed without clang. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>

#include "fuzz/weft-fuzz.h"

typedef int (*FuzzFunc) (const uint8_t *data, size_t size);

typedef struct
{
  const char *target;
  FuzzFunc    func;
  const char *dir;          /* "corpus" or "regressions" */
  guint       min_files;    /* a corpus that went missing fails the test */
} DirCase;

static const struct
{
  const char *name;
  FuzzFunc    func;
} targets[] = {
  { "weft", weft_fuzz_weft },
  { "safetensors", weft_fuzz_safetensors },
  { "npy", weft_fuzz_npy },
  { "npz", weft_fuzz_npz },
  { "csv", weft_fuzz_csv },
  { "keras", weft_fuzz_keras },
};

static char *
target_dir (const char *dir, const char *target)
{
  return g_test_build_filename (G_TEST_DIST, "fuzz", dir, target, NULL);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
list_files (const char *path)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  if (d == NULL)
    return files;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && strcmp (name, "README") != 0)
      g_ptr_array_add (files, g_build_filename (path, name, NULL));
  g_ptr_array_sort (files, compare_paths);
  return files;
}

static void
run_dir (gconstpointer data)
{
  const DirCase *c = data;
  g_autofree char *path = target_dir (c->dir, c->target);
  g_autoptr (GPtrArray) files = list_files (path);

  g_assert_cmpuint (files->len, >=, c->min_files);
  for (guint i = 0; i < files->len; i++)
    {
      const char *file = g_ptr_array_index (files, i);
      g_autofree char *contents = NULL;
      gsize len = 0;
      g_autoptr (GError) error = NULL;

      /* Named first, so a crash in the output points at the file. */
      g_test_message ("%s: %s", c->target, file);
      g_assert_true (g_file_get_contents (file, &contents, &len, &error));
      g_assert_no_error (error);
      /* Exact-size copy: ASan in the sanitizer build sees a read past the end. */
      g_autofree guint8 *exact = g_memdup2 (contents, len);
      g_assert_cmpint (c->func (exact, len), ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      static const char *dirs[] = { "corpus", "regressions" };
      for (int d = 0; d < 2; d++)
        {
          DirCase *c = g_new0 (DirCase, 1);
          c->target = targets[t].name;
          c->func = targets[t].func;
          c->dir = dirs[d];
          c->min_files = d == 0 ? 3 : 0;
          g_autofree char *test_path = g_strdup_printf ("/io/fuzz/%s/%s-files-load-or-fail-cleanly",
                                                        c->target, c->dir);
          g_test_add_data_func_full (test_path, c, run_dir, g_free);
        }
    }
  return g_test_run ();
}
