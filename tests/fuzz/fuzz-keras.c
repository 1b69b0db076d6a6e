/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-keras.c: Keras/tfjs JSON through weft_keras_import_data. Bytes up to the first NUL are
 * the model.json (or Keras to_json text); the bytes after it, when there is a NUL, are the
 * weight shard, written to a private folder under the names tfjs uses ("weights.bin",
 * "group1-shard1of1.bin"), which becomes base_dir. A graph that imports must be analysable,
 * written as .weft text and read back. */
#include "weft-fuzz.h"

#include <glib/gstdio.h>
#include <string.h>

#include "weft-file.h"
#include "weft-keras-import.h"

static char *shard_dir;

static void
write_shard (const uint8_t *data, size_t size)
{
  static const char *const names[] = { "weights.bin", "group1-shard1of1.bin" };
  if (shard_dir == NULL)
    {
      shard_dir = g_dir_make_tmp ("weft-fuzz-keras-XXXXXX", NULL);
      g_assert (shard_dir != NULL);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (shard_dir, names[i], NULL);
      g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
    }
}

int
weft_fuzz_keras (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
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
