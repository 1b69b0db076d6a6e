/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-convert.h"

#include <stdio.h>
#include <string.h>

#include "weft-file.h"
#include "weft-keras-export.h"
#include "weft-keras-import.h"
#include "weft-onnx-export.h"
#include "weft-torch-export.h"

typedef enum { TO_NONE, TO_WEFT, TO_ONNX, TO_TFJS, TO_PYTORCH, TO_KERAS } Target;

static const char usage[] =
  "Usage: weft convert SRC DST [--to onnx|tfjs|pytorch|keras|weft]\n"
  "\n"
  "  SRC  a .weft file, a TensorFlow.js model.json (or its folder), or Keras to_json() text\n"
  "  DST  NAME.weft (imported weights land beside it as NAME.safetensors), NAME.onnx,\n"
  "       a folder with --to tfjs (model.json + shard) or --to pytorch (model.py, train.py,\n"
  "       weights.safetensors), NAME.py with --to keras (functional API) or --to pytorch\n";

static Target
target_from_name (const char *s)
{
  static const struct { const char *name; Target t; } names[] = {
    { "onnx", TO_ONNX }, { "tfjs", TO_TFJS }, { "tensorflowjs", TO_TFJS },
    { "pytorch", TO_PYTORCH }, { "torch", TO_PYTORCH }, { "keras", TO_KERAS },
    { "weft", TO_WEFT },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (s, names[i].name) == 0)
      return names[i].t;
  return TO_NONE;
}

static WeftGraph *
load_source (const char *src, GError **error)
{
  if (g_str_has_suffix (src, ".weft"))
    return weft_file_load (src, NULL, error);
  if (g_file_test (src, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *mj = g_build_filename (src, "model.json", NULL);
      return weft_keras_import_file (mj, error);
    }
  return weft_keras_import_file (src, error);
}

int
weft_convert_main (int argc, char **argv)
{
  const char *src = NULL, *dst = NULL, *to = NULL;
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          fputs (usage, stdout);
          return 0;
        }
      if (strcmp (argv[i], "--to") == 0 && i + 1 < argc)
        to = argv[++i];
      else if (g_str_has_prefix (argv[i], "--to="))
        to = argv[i] + 5;
      else if (argv[i][0] == '-' && argv[i][1] != '\0')
        {
          fprintf (stderr, "weft convert: unknown option '%s'\n\n%s", argv[i], usage);
          return 2;
        }
      else if (src == NULL)
        src = argv[i];
      else if (dst == NULL)
        dst = argv[i];
      else
        {
          fprintf (stderr, "weft convert: unexpected argument '%s'\n\n%s", argv[i], usage);
          return 2;
        }
    }
  if (src == NULL || dst == NULL)
    {
      fprintf (stderr, "weft convert: give SRC and DST\n\n%s", usage);
      return 2;
    }
  Target target = TO_NONE;
  if (to != NULL && (target = target_from_name (to)) == TO_NONE)
    {
      fprintf (stderr, "weft convert: --to '%s' is not one of onnx, tfjs, pytorch, keras, weft\n",
               to);
      return 2;
    }
  if (target == TO_NONE)
    {
      if (g_str_has_suffix (dst, ".weft"))
        target = TO_WEFT;
      else if (g_str_has_suffix (dst, ".onnx"))
        target = TO_ONNX;
      else if (g_str_has_suffix (dst, ".py"))
        {
          fprintf (stderr, "weft convert: '%s': say --to keras (functional-API code) or --to "
                   "pytorch (nn.Module and training script)\n", dst);
          return 2;
        }
      else
        {
          fprintf (stderr, "weft convert: cannot tell the format of '%s' from its name: use "
                   "--to onnx|tfjs|pytorch|keras|weft\n", dst);
          return 2;
        }
    }

  GError *error = NULL;
  WeftGraph *graph = load_source (src, &error);
  if (graph == NULL)
    {
      fprintf (stderr, "weft convert: %s: %s\n", src, error->message);
      g_error_free (error);
      return 1;
    }
  gboolean ok = FALSE;
  switch (target)
    {
    case TO_WEFT:
      ok = weft_file_save (graph, NULL, dst, &error);
      break;
    case TO_ONNX:
      ok = weft_onnx_export (graph, dst, &error);
      break;
    case TO_TFJS:
      ok = weft_tfjs_export (graph, dst, &error);
      break;
    case TO_KERAS:
      ok = weft_keras_code_export (graph, dst, &error);
      break;
    case TO_PYTORCH:
      if (g_str_has_suffix (dst, ".py"))
        {
          g_autofree char *dir = g_path_get_dirname (dst);
          g_autofree char *base = g_path_get_basename (dst);
          base[strlen (base) - 3] = '\0';
          ok = weft_torch_export_module (graph, dir, base, &error);
        }
      else
        ok = weft_torch_export (graph, dst, &error);
      break;
    case TO_NONE:
      break;
    }
  weft_graph_free (graph);
  if (!ok)
    {
      fprintf (stderr, "weft convert: %s: %s\n", dst, error->message);
      g_error_free (error);
      return 1;
    }
  printf ("wrote %s\n", dst);
  return 0;
}
