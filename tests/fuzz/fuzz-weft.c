/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-weft.c: .weft JSON text through weft_file_load_data_full. A graph that loads must
 * also survive analysis, be written back and load again from its own text. */
#include "weft-fuzz.h"

#include "weft-file.h"

int
weft_fuzz_weft (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  WeftHistory *history = NULL;
  WeftFileMeta meta;

  WeftGraph *graph = weft_file_load_data_full ((const char *) data, size, NULL, &history,
                                               &meta, &error);
  if (graph == NULL)
    {
      g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');
      g_assert (history == NULL);
      return 0;
    }
  g_assert (error == NULL);

  /* Round trip: what was accepted is written back and reads again. */
  g_autofree char *text = weft_file_to_json_full (graph, history, &meta, NULL, NULL);
  g_assert (text != NULL);
  WeftHistory *history2 = NULL;
  WeftGraph *graph2 = weft_file_load_data_full (text, strlen (text), NULL, &history2, NULL,
                                                &error);
  if (graph2 == NULL)
    g_error ("a loaded graph does not load from its own text: %s\n%s", error->message, text);
  g_assert_cmpint (weft_graph_n_layers (graph2), ==, weft_graph_n_layers (graph));
  g_assert_cmpint (weft_graph_n_models (graph2), ==, weft_graph_n_models (graph));

  weft_graph_free (graph2);
  weft_history_free (history2);
  weft_graph_free (graph);
  weft_history_free (history);
  weft_file_meta_clear (&meta);
  return 0;
}
