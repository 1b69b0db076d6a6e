/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "weft-torch-export.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "weft-safetensors.h"
#include "weft-torch-runtime.h"   /* weft_torch_runtime[]: weft-torch-runtime.py, generated */

/* Registry types the runtime implements (every other type is refused by name). */
static const char *const torch_layers[] = {
  "Input", "Dense", "TimeDistributed", "Activation", "Dropout", "Flatten", "Reshape",
  "RepeatVector", "Permute", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D",
  "Conv2DTranspose", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
  "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
  "Embedding", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "BatchNormalization",
  "LayerNormalization", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D",
  "UpSampling1D", "UpSampling2D", "Add", "Subtract", "Multiply", "Average", "Maximum",
  "Minimum", "Concatenate", "Dot", NULL
};

static void
py_value (GString *s, const WeftOpDesc *op, const WeftParamSpec *spec, const WeftValue *v)
{
  switch (spec->type)
    {
    case WEFT_PARAM_INT:
      if ((spec->flags & WEFT_PARAM_NULLABLE) && v->num == 0)
        g_string_append (s, "None");
      else
        g_string_append_printf (s, "%d", (int) v->num);
      break;
    case WEFT_PARAM_FLOAT:
      g_string_append_printf (s, "%.17g", v->num);
      break;
    case WEFT_PARAM_BOOL:
      g_string_append (s, v->num != 0 ? "True" : "False");
      break;
    case WEFT_PARAM_CHOICE:
      g_string_append_printf (s, "\"%s\"", spec->choices[(int) v->num]);
      break;
    case WEFT_PARAM_INTS:
      if (v->n == 0)
        {
          g_string_append (s, "None");
          break;
        }
      g_string_append_c (s, '[');
      for (int i = 0; i < v->n; i++)
        g_string_append_printf (s, "%s%d", i ? ", " : "", v->ints[i]);
      g_string_append_c (s, ']');
      break;
    }
  (void) op;
}

static void
py_shape (GString *s, const WeftShape *shape)
{
  g_string_append_c (s, '(');
  for (int i = 0; i < shape->rank; i++)
    g_string_append_printf (s, "%d, ", shape->dims[i]);
  g_string_append_c (s, ')');
}

static char *
class_name (WeftGraph *graph, WeftId model, WeftId main_model)
{
  if (model == main_model)
    return g_strdup ("Model");
  g_autofree char *id = weft_interop_identifier (weft_graph_get_name (graph, model));
  return g_strdup_printf ("Model_%s", id);
}

static char *
tensor_var (WeftGraph *graph, WeftId node, int port)
{
  return g_strdup_printf ("t%d_%d", node, port);
}

/* Which model calls each model, to give every layer one attribute path from the main model. */
static gboolean
attr_paths (WeftGraph *graph, GHashTable *paths, GError **error)
{
  g_autoptr (GArray) models = weft_interop_model_order (graph);
  WeftId main_model = weft_graph_get_main_model (graph);
  g_hash_table_insert (paths, GINT_TO_POINTER (main_model), g_strdup (""));
  for (int m = (int) models->len - 1; m >= 0; m--)
    {
      WeftId model = g_array_index (models, WeftId, m);
      const char *prefix = g_hash_table_lookup (paths, GINT_TO_POINTER (model));
      if (prefix == NULL)
        continue;
      for (int i = 0; i < weft_graph_model_n_nodes (graph, model); i++)
        {
          WeftId callee = weft_graph_node_callee (graph, weft_graph_model_node_at (graph, model, i));
          g_autofree char *id = weft_interop_identifier (weft_graph_get_name (graph, callee));
          char *path = g_strdup_printf ("%s%s.", prefix, id);
          const char *old = g_hash_table_lookup (paths, GINT_TO_POINTER (callee));
          if (old != NULL && strcmp (old, path) != 0)
            {
              g_free (path);
              g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED,
                           "'%s' is called from two different models; PyTorch export needs "
                           "each layer and model inside one model",
                           weft_graph_get_name (graph, callee));
              return FALSE;
            }
          g_hash_table_insert (paths, GINT_TO_POINTER (callee), path);
        }
    }
  return TRUE;
}

static gboolean
py_model_class (GString *s, WeftGraph *graph, WeftId model, GHashTable *paths, GError **error)
{
  WeftId main_model = weft_graph_get_main_model (graph);
  g_autofree char *cls = class_name (graph, model, main_model);
  g_autoptr (GArray) order = weft_interop_topo_order (graph, model, error);
  if (order == NULL)
    return FALSE;
  g_autoptr (GHashTable) made = g_hash_table_new (g_direct_hash, g_direct_equal);

  g_string_append_printf (s, "\n\nclass %s(nn.Module):\n    \"\"\"Keras model \"%s\".\"\"\"\n",
                          cls, weft_graph_get_name (graph, model));
  if (model == main_model)
    {
      g_string_append (s, "\n    # Keras weight name -> parameter or buffer of this module\n"
                          "    KERAS_WEIGHTS = {\n");
      for (int l = 0; l < weft_graph_n_layers (graph); l++)
        {
          WeftId layer = weft_graph_layer_at (graph, l);
          const char *path = g_hash_table_lookup (paths, GINT_TO_POINTER (layer));
          if (path == NULL)
            continue;
          int n;
          const WeftWeight *w = weft_graph_layer_weights (graph, layer, &n);
          for (int k = 0; k < n; k++)
            {
              g_auto (GStrv) parts = g_strsplit (w[k].spec.name, "/", -1);
              g_autofree char *joined = g_strjoinv ("__", parts);
              g_string_append_printf (s, "        \"%s/%s\": \"%s%s\",\n",
                                      weft_graph_get_name (graph, layer), w[k].spec.name, path,
                                      joined);
            }
        }
      g_string_append (s, "    }\n");
    }
  g_string_append (s, "\n    def __init__(self):\n        super().__init__()\n");
  for (guint i = 0; i < order->len; i++)
    {
      WeftId node = g_array_index (order, WeftId, i);
      WeftId callee = weft_graph_node_callee (graph, node);
      if (!g_hash_table_add (made, GINT_TO_POINTER (callee)))
        continue;
      g_autofree char *id = weft_interop_identifier (weft_graph_get_name (graph, callee));
      if (weft_graph_kind (graph, callee) == WEFT_KIND_MODEL)
        {
          g_autofree char *sub = class_name (graph, callee, main_model);
          g_string_append_printf (s, "        self.%s = %s()\n", id, sub);
          continue;
        }
      const WeftOpDesc *op = weft_graph_layer_op (graph, callee);
      if (op->flags & WEFT_OP_INPUT)
        continue;
      gboolean known = FALSE;
      for (int t = 0; torch_layers[t] != NULL; t++)
        known |= strcmp (torch_layers[t], op->name) == 0;
      if (!known)
        {
          g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_UNSUPPORTED,
                       "layer '%s': PyTorch export has no %s", weft_graph_get_name (graph, callee),
                       op->name);
          return FALSE;
        }
      const WeftValue *cfg = weft_graph_layer_config (graph, callee);
      g_string_append_printf (s, "        self.%s = %s(\n            {", id, op->name);
      for (int p = 0; p < op->n_params; p++)
        {
          g_string_append_printf (s, "%s\"%s\": ", p ? ", " : "", op->params[p].name);
          py_value (s, op, &op->params[p], &cfg[p]);
        }
      g_string_append (s, "},\n            [");
      int n;
      const WeftWeight *w = weft_graph_layer_weights (graph, callee, &n);
      for (int k = 0; k < n; k++)
        {
          g_string_append_printf (s, "%s(\"%s\", ", k ? ", " : "", w[k].spec.name);
          py_shape (s, &w[k].spec.shape);
          g_string_append_printf (s, ", %s)", w[k].spec.trainable ? "True" : "False");
        }
      g_string_append (s, "],\n            in_shapes=[");
      for (int p = 0; p < weft_graph_node_n_inputs (graph, node); p++)
        {
          WeftId src;
          int sp;
          WeftShape shape = { 0 };
          weft_graph_node_input (graph, node, p, &src, &sp);
          weft_graph_node_shape (graph, src, sp, &shape);
          if (p)
            g_string_append (s, ", ");
          py_shape (s, &shape);
        }
      WeftShape out = { 0 };
      weft_graph_node_shape (graph, node, 0, &out);
      g_string_append (s, "], out_shape=");
      py_shape (s, &out);
      g_string_append (s, ")\n");
    }

  g_string_append (s, "\n    def forward(self");
  for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
    {
      g_autofree char *id = weft_interop_identifier (weft_graph_model_input_name (graph, model,
                                                                                  i));
      g_string_append_printf (s, ", %s", id);
    }
  g_string_append (s, "):\n");
  for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
    {
      WeftId in = weft_graph_model_input (graph, model, i);
      g_autofree char *v = tensor_var (graph, in, 0);
      g_autofree char *id = weft_interop_identifier (weft_graph_model_input_name (graph, model,
                                                                                  i));
      g_string_append_printf (s, "        %s = %s\n", v, id);
    }
  for (guint i = 0; i < order->len; i++)
    {
      WeftId node = g_array_index (order, WeftId, i);
      WeftId callee = weft_graph_node_callee (graph, node);
      if (weft_graph_kind (graph, callee) == WEFT_KIND_LAYER
          && (weft_graph_layer_op (graph, callee)->flags & WEFT_OP_INPUT))
        continue;
      g_autofree char *id = weft_interop_identifier (weft_graph_get_name (graph, callee));
      g_string_append (s, "        ");
      int n_out = weft_graph_node_n_outputs (graph, node);
      for (int p = 0; p < n_out; p++)
        {
          g_autofree char *v = tensor_var (graph, node, p);
          g_string_append_printf (s, "%s%s", p ? ", " : "", v);
        }
      g_string_append_printf (s, " = self.%s(", id);
      for (int p = 0; p < weft_graph_node_n_inputs (graph, node); p++)
        {
          WeftId src;
          int sp;
          weft_graph_node_input (graph, node, p, &src, &sp);
          g_autofree char *v = tensor_var (graph, src, sp);
          g_string_append_printf (s, "%s%s", p ? ", " : "", v);
        }
      g_string_append_printf (s, ")  # %s\n", weft_graph_get_name (graph, callee));
    }
  int n_out = weft_graph_model_n_outputs (graph, model);
  g_string_append (s, "        return ");
  for (int j = 0; j < n_out; j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      g_autofree char *v = tensor_var (graph, h->node, h->port);
      g_string_append_printf (s, "%s%s", j ? ", " : "", v);
    }
  g_string_append (s, "\n");
  return TRUE;
}

char *
weft_torch_model_code (WeftGraph *graph, GError **error)
{
  if (!weft_interop_check_graph (graph, error))
    return NULL;
  g_autoptr (GHashTable) paths = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                                        g_free);
  if (!attr_paths (graph, paths, error))
    return NULL;
  GString *s = g_string_new ("# Generated by Weft: the graph as a PyTorch nn.Module with Keras "
                             "semantics.\n# Weights keep their Keras names and layouts; "
                             "load_weft_weights(model, \"weights.safetensors\")\n# loads what "
                             "Weft saved.\n");
  g_string_append (s, weft_torch_runtime);
  g_autoptr (GArray) models = weft_interop_model_order (graph);
  for (guint m = 0; m < models->len; m++)
    if (!py_model_class (s, graph, g_array_index (models, WeftId, m), paths, error))
      {
        g_string_free (s, TRUE);
        return NULL;
      }
  return g_string_free (s, FALSE);
}

static const char train_template[] =
  "# Generated by Weft: trains model.py with the graph's losses, loss weights and optimizer.\n"
  "# One CPU or GPU:   python3 train.py --data DIR\n"
  "# Many GPUs/nodes:  torchrun --nproc_per_node=N [--nnodes=M ...] train.py --data DIR\n"
  "# DIR holds one NAME.npy per model input and per head (named like the head), first axis =\n"
  "# samples. Under torchrun every process trains on its share of each epoch\n"
  "# (DistributedSampler) and DistributedDataParallel averages the gradients.\n"
  "import argparse\n"
  "import json\n"
  "import os\n"
  "import sys\n"
  "\n"
  "import numpy as np\n"
  "import torch\n"
  "import torch.distributed as dist\n"
  "import torch.nn.functional as F\n"
  "from torch.nn.parallel import DistributedDataParallel\n"
  "from torch.utils.data import DataLoader, TensorDataset\n"
  "from torch.utils.data.distributed import DistributedSampler\n"
  "\n"
  "HERE = os.path.dirname(os.path.abspath(__file__))\n"
  "sys.path.insert(0, HERE)\n"
  "from %s import Model, load_weft_weights  # noqa: E402\n"
  "\n"
  "INPUTS = %s\n"
  "HEADS = %s\n"
  "OPTIMIZER = %s\n"
  "SETTINGS = %s\n"
  "EPS = 1e-7  # Keras' backend epsilon\n"
  "\n"
  "\n"
  "def keras_loss(head, pred, target):\n"
  "    \"\"\"Keras semantics: mean over the batch (and over positions).\"\"\"\n"
  "    kind, logits = head[\"loss\"], head[\"from_logits\"]\n"
  "    if kind == \"mse\":\n"
  "        return torch.mean((pred - target) ** 2)\n"
  "    if kind == \"mae\":\n"
  "        return torch.mean(torch.abs(pred - target))\n"
  "    if kind == \"huber\":\n"
  "        return F.huber_loss(pred, target, delta=head[\"huber_delta\"])\n"
  "    if kind == \"binary_crossentropy\":\n"
  "        if logits:\n"
  "            return F.binary_cross_entropy_with_logits(pred, target)\n"
  "        p = torch.clamp(pred, EPS, 1 - EPS)\n"
  "        return torch.mean(-(target * torch.log(p) + (1 - target) * torch.log(1 - p)))\n"
  "    if kind == \"categorical_crossentropy\":\n"
  "        if logits:\n"
  "            return torch.mean(-(target * F.log_softmax(pred, -1)).sum(-1))\n"
  "        p = torch.clamp(pred / pred.sum(-1, keepdim=True), EPS, 1 - EPS)\n"
  "        return torch.mean(-(target * torch.log(p)).sum(-1))\n"
  "    if kind == \"sparse_categorical_crossentropy\":\n"
  "        idx = target.long().reshape(pred.shape[:-1]).unsqueeze(-1)\n"
  "        if logits:\n"
  "            return torch.mean(-torch.gather(F.log_softmax(pred, -1), -1, idx))\n"
  "        p = torch.clamp(pred / pred.sum(-1, keepdim=True), EPS, 1 - EPS)\n"
  "        return torch.mean(-torch.log(torch.gather(p, -1, idx)))\n"
  "    raise ValueError(f\"loss {kind}\")\n"
  "\n"
  "\n"
  "def make_optimizer(params):\n"
  "    o = OPTIMIZER\n"
  "    if o[\"name\"] == \"sgd\":\n"
  "        return torch.optim.SGD(params, lr=o[\"learning_rate\"], momentum=o[\"momentum\"],\n"
  "                               nesterov=o[\"nesterov\"])\n"
  "    if o[\"name\"] == \"adam\":\n"
  "        return torch.optim.Adam(params, lr=o[\"learning_rate\"],\n"
  "                                betas=(o[\"beta_1\"], o[\"beta_2\"]), eps=o[\"epsilon\"])\n"
  "    if o[\"name\"] == \"adamw\":\n"
  "        return torch.optim.AdamW(params, lr=o[\"learning_rate\"],\n"
  "                                 betas=(o[\"beta_1\"], o[\"beta_2\"]), eps=o[\"epsilon\"],\n"
  "                                 weight_decay=o[\"weight_decay\"])\n"
  "    return torch.optim.RMSprop(params, lr=o[\"learning_rate\"], alpha=o[\"rho\"],\n"
  "                               eps=o[\"epsilon\"], momentum=o[\"momentum\"])\n"
  "\n"
  "\n"
  "def main():\n"
  "    ap = argparse.ArgumentParser(description=__doc__)\n"
  "    ap.add_argument(\"--data\", required=True, help=\"folder with one NAME.npy per input and head\")\n"
  "    ap.add_argument(\"--weights\", default=os.path.join(HERE, \"weights.safetensors\"))\n"
  "    ap.add_argument(\"--epochs\", type=int, default=SETTINGS[\"epochs\"])\n"
  "    ap.add_argument(\"--batch-size\", type=int, default=SETTINGS[\"batch_size\"],\n"
  "                    help=\"per process\")\n"
  "    ap.add_argument(\"--no-shuffle\", action=\"store_true\")\n"
  "    ap.add_argument(\"--seed\", type=int, default=SETTINGS[\"seed\"])\n"
  "    ap.add_argument(\"--save\", default=None, help=\"state_dict output (.pt)\")\n"
  "    ap.add_argument(\"--report\", default=None, help=\"JSON with the losses\")\n"
  "    args = ap.parse_args()\n"
  "\n"
  "    distributed = int(os.environ.get(\"WORLD_SIZE\", \"1\")) > 1\n"
  "    cuda = torch.cuda.is_available()\n"
  "    if distributed:\n"
  "        dist.init_process_group(\"nccl\" if cuda else \"gloo\")\n"
  "        rank, local = dist.get_rank(), int(os.environ.get(\"LOCAL_RANK\", \"0\"))\n"
  "    else:\n"
  "        rank, local = 0, 0\n"
  "    device = torch.device(f\"cuda:{local}\") if cuda else torch.device(\"cpu\")\n"
  "    if cuda:\n"
  "        torch.cuda.set_device(device)\n"
  "    torch.manual_seed(args.seed)\n"
  "\n"
  "    model = Model()\n"
  "    load_weft_weights(model, args.weights)\n"
  "    model.to(device)\n"
  "    names = INPUTS + [h[\"name\"] for h in HEADS]\n"
  "    arrays = [torch.from_numpy(np.load(os.path.join(args.data, n + \".npy\")).astype(np.float32))\n"
  "              for n in names]\n"
  "    data = TensorDataset(*arrays)\n"
  "    shuffle = SETTINGS[\"shuffle\"] and not args.no_shuffle\n"
  "    sampler = DistributedSampler(data, shuffle=shuffle, seed=args.seed) if distributed else None\n"
  "    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler,\n"
  "                        shuffle=shuffle and sampler is None,\n"
  "                        generator=torch.Generator().manual_seed(args.seed))\n"
  "    net = DistributedDataParallel(model, device_ids=[local] if cuda else None) \\\n"
  "        if distributed else model\n"
  "    opt = make_optimizer(model.parameters())\n"
  "    history, first = [], None\n"
  "    for epoch in range(args.epochs):\n"
  "        if sampler is not None:\n"
  "            sampler.set_epoch(epoch)\n"
  "        net.train()\n"
  "        sums, steps = [0.0] * (len(HEADS) + 1), 0\n"
  "        for batch in loader:\n"
  "            batch = [b.to(device) for b in batch]\n"
  "            xs, ys = batch[:len(INPUTS)], batch[len(INPUTS):]\n"
  "            preds = net(*xs)\n"
  "            if len(HEADS) == 1:\n"
  "                preds = (preds,)\n"
  "            losses = [keras_loss(h, p, y) for h, p, y in zip(HEADS, preds, ys)]\n"
  "            total = sum(h[\"weight\"] * l for h, l in zip(HEADS, losses))\n"
  "            opt.zero_grad()\n"
  "            total.backward()\n"
  "            if OPTIMIZER[\"clipnorm\"]:\n"
  "                for p in model.parameters():  # Keras clips each weight tensor\n"
  "                    if p.grad is not None:\n"
  "                        torch.nn.utils.clip_grad_norm_([p], OPTIMIZER[\"clipnorm\"])\n"
  "            if OPTIMIZER[\"global_clipnorm\"]:\n"
  "                torch.nn.utils.clip_grad_norm_(model.parameters(), OPTIMIZER[\"global_clipnorm\"])\n"
  "            opt.step()\n"
  "            if first is None:\n"
  "                first = float(total)\n"
  "            for j, l in enumerate(losses):\n"
  "                sums[j] += float(l)\n"
  "            sums[-1] += float(total)\n"
  "            steps += 1\n"
  "        means = [v / max(steps, 1) for v in sums]\n"
  "        history.append(means)\n"
  "        if rank == 0:\n"
  "            heads = \", \".join(f\"{h['name']} {m:.6g}\" for h, m in zip(HEADS, means))\n"
  "            print(f\"epoch {epoch + 1}/{args.epochs}: loss {means[-1]:.6g} ({heads})\", flush=True)\n"
  "    if rank == 0:\n"
  "        if args.save:\n"
  "            torch.save(model.state_dict(), args.save)\n"
  "        if args.report:\n"
  "            with open(args.report, \"w\") as f:\n"
  "                json.dump({\"first_step_loss\": first, \"history\": history}, f)\n"
  "    if distributed:\n"
  "        dist.destroy_process_group()\n"
  "\n"
  "\n"
  "if __name__ == \"__main__\":\n"
  "    main()\n";

static void
py_string (GString *s, const char *v)
{
  g_string_append_c (s, '"');
  for (const char *p = v; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

static char *
train_code (WeftGraph *graph, const char *module, GError **error)
{
  static const char *const loss_names[] = {
    NULL, "mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy"
  };
  static const char *const optim_names[] = { "sgd", "adam", "adamw", "rmsprop" };
  if (!weft_interop_check_graph (graph, error))
    return NULL;
  WeftId model = weft_graph_get_main_model (graph);
  g_autoptr (GString) inputs = g_string_new ("[");
  for (int i = 0; i < weft_graph_model_n_inputs (graph, model); i++)
    {
      if (i)
        g_string_append (inputs, ", ");
      py_string (inputs, weft_graph_model_input_name (graph, model, i));
    }
  g_string_append_c (inputs, ']');
  g_autoptr (GString) heads = g_string_new ("[\n");
  for (int j = 0; j < weft_graph_model_n_outputs (graph, model); j++)
    {
      const WeftHead *h = weft_graph_model_output (graph, model, j);
      if (h->loss <= WEFT_LOSS_NONE || h->loss >= WEFT_LOSS_COUNT)
        {
          g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                       "head '%s' has no loss", weft_graph_model_output_name (graph, model, j));
          return NULL;
        }
      g_string_append (heads, "    {\"name\": ");
      py_string (heads, weft_graph_model_output_name (graph, model, j));
      g_string_append_printf (heads, ", \"loss\": \"%s\", \"weight\": %.9g, \"from_logits\": %s, "
                              "\"huber_delta\": %.9g},\n", loss_names[h->loss], h->weight,
                              h->from_logits ? "True" : "False", h->huber_delta);
    }
  g_string_append_c (heads, ']');
  const WeftTrainConfig *tc = weft_graph_get_train_config (graph);
  const WeftOptimConfig *o = &tc->optimizer;
  g_autofree char *optim = g_strdup_printf (
    "{\"name\": \"%s\", \"learning_rate\": %.9g, \"momentum\": %.9g, \"nesterov\": %s, "
    "\"beta_1\": %.9g, \"beta_2\": %.9g, \"epsilon\": %.9g, \"rho\": %.9g, "
    "\"weight_decay\": %.9g, \"clipnorm\": %.9g, \"global_clipnorm\": %.9g}",
    optim_names[o->kind], o->learning_rate, o->momentum, o->nesterov ? "True" : "False",
    o->beta_1, o->beta_2, o->epsilon, o->rho, o->weight_decay, o->clipnorm, o->global_clipnorm);
  g_autofree char *settings = g_strdup_printf (
    "{\"epochs\": %d, \"batch_size\": %d, \"shuffle\": %s, \"seed\": %" G_GUINT64_FORMAT "}",
    tc->epochs, tc->batch_size, tc->shuffle ? "True" : "False", tc->seed);
  return g_strdup_printf (train_template, module, inputs->str, heads->str, optim, settings);
}

char *
weft_torch_train_code (WeftGraph *graph, GError **error)
{
  return train_code (graph, "model", error);
}

gboolean
weft_torch_export (WeftGraph *graph, const char *dir, GError **error)
{
  return weft_torch_export_module (graph, dir, "model", error);
}

gboolean
weft_torch_export_module (WeftGraph *graph, const char *dir, const char *module, GError **error)
{
  for (const char *p = module; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      {
        g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                     "'%s' is not a Python module name (letters, digits, _)", module);
        return FALSE;
      }
  if (*module == '\0' || g_ascii_isdigit (*module) || strcmp (module, "train") == 0)
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_INVALID,
                   "'%s' cannot be the module name", module);
      return FALSE;
    }
  g_autofree char *model = weft_torch_model_code (graph, error);
  if (model == NULL)
    return FALSE;
  g_autofree char *train = train_code (graph, module, error);
  if (train == NULL)
    return FALSE;
  if (!weft_interop_init_weights (graph, weft_graph_get_train_config (graph)->seed, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int e = errno;
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "cannot create '%s': %s",
                   dir, g_strerror (e));
      return FALSE;
    }
  g_autofree char *mfile = g_strdup_printf ("%s.py", module);
  g_autofree char *mp = g_build_filename (dir, mfile, NULL);
  g_autofree char *tp = g_build_filename (dir, "train.py", NULL);
  g_autofree char *wp = g_build_filename (dir, "weights.safetensors", NULL);
  if (!weft_interop_write_file (mp, model, strlen (model), error)
      || !weft_interop_write_file (tp, train, strlen (train), error))
    return FALSE;
  GError *local = NULL;
  if (!weft_safetensors_save_graph (graph, wp, NULL, &local))
    {
      g_set_error (error, WEFT_INTEROP_ERROR, WEFT_INTEROP_ERROR_IO, "%s", local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}
