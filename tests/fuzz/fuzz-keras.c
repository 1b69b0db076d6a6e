/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-keras.c: Keras/tfjs JSON through weft_keras_import_data. Bytes up to the first NUL are
 * the model.json (or Keras to_json text); the bytes after it, when there is a NUL, are the
 * weight shard, written to a private folder under the names tfjs uses ("weights.bin",
 * "group1-shard1of1.bin"), which becomes base_dir. A graph that imports must be analysable,
 * written as .weft text and read back. */
#include "weft-fuzz.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "weft-file.h"
#include "weft-keras-import.h"

static char *shard_dir;

static GBytes *last_shard;

/* Plain writes (no fsync, unlike g_file_set_contents), skipped when the shard is unchanged:
 * the shard files are rewritten for nearly every input otherwise. */
static void
write_shard (const uint8_t *data, size_t size)
{
  static const char *const names[] = { "weights.bin", "group1-shard1of1.bin" };
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);

  if (shard_dir == NULL)
    {
      shard_dir = g_dir_make_tmp ("weft-fuzz-keras-XXXXXX", NULL);
      g_assert (shard_dir != NULL);
    }
  if (last_shard != NULL && g_bytes_equal (last_shard, bytes))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (shard_dir, names[i], NULL);
      FILE *fp = fopen (path, "wb");
      g_assert (fp != NULL);
      g_assert (size == 0 || fwrite (data, 1, size, fp) == size);
      g_assert (fclose (fp) == 0);
    }
  g_clear_pointer (&last_shard, g_bytes_unref);
  last_shard = g_steal_pointer (&bytes);
}

int
weft_fuzz_keras (const uint8_t *data, size_t size)
{
  const uint8_t *nul = size > 0 ? memchr (data, 0, size) : NULL;
  size_t json_len = nul != NULL ? (size_t) (nul - data) : size;
  const char *base_dir = NULL;
  g_autoptr (GError) error = NULL;

  if (nul != NULL)
    {
      write_shard (nul + 1, size - json_len - 1);
      base_dir = shard_dir;
    }
  /* The importer gets exactly the JSON bytes (ASan sees a read past them). */
  g_autofree char *json = g_malloc (MAX (json_len, 1));
  if (json_len > 0)
    memcpy (json, data, json_len);
  WeftGraph *graph = weft_keras_import_data (json, json_len, base_dir, &error);
  if (graph == NULL)
    {
      g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');
      return 0;
    }
  g_assert (error == NULL);

  weft_graph_analyse (graph);
  g_autofree char *text = weft_file_to_json (graph, NULL, NULL, NULL);
  g_assert (text != NULL);
  WeftGraph *again = weft_file_load_data (text, strlen (text), NULL, NULL, &error);
  if (again == NULL)
    g_error ("an imported graph does not load from its own .weft text: %s\n%s",
             error->message, text);
  g_assert_cmpint (weft_graph_n_layers (again), ==, weft_graph_n_layers (graph));
  weft_graph_free (again);
  weft_graph_free (graph);
  return 0;
}
