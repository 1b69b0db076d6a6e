/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The benchmark's reference models: same parameter counts as peer_torch.py (Keras' figures),
 * the shapes the peer's listing implies, and one training step on random data each. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "weft-bench-models.h"
#include "weft-train.h"

/* Keras figures as printed by `peer_torch.py --list` (params == keras_params there). */
static const struct
{
  const char *label;
  int64_t     params;
} peer_params[] = {
  { "seq_mlp", 3466 },
  { "wide_mlp", 1863690 },
  { "qa_two_inputs", 1000052 },
  { "social_three_heads", 2544396 },
  { "social_three_heads_same", 2544396 },
  { "inception_same", 546698 },
  { "residual_cnn", 38218 },
  { "siamese_lstm", 20673 },
  { "dual_camera", 19521 },
};

static void
test_every_model_has_the_peers_parameter_count (void)
{
  g_assert_cmpint (weft_bench_model_count (), ==, G_N_ELEMENTS (peer_params));
  for (gsize i = 0; i < G_N_ELEMENTS (peer_params); i++)
    {
      const WeftBenchModelInfo *info = weft_bench_model_lookup (peer_params[i].label);
      g_assert_nonnull (info);
      g_assert_cmpint (info->keras_params, ==, peer_params[i].params);
      WeftError e = { 0 };
      WeftGraph *g = weft_bench_model_build (peer_params[i].label, &e);
      if (g == NULL)
        g_error ("%s: %s", peer_params[i].label, e.message);
      int64_t trainable = -1, frozen = -1;
      g_assert_true (weft_graph_count_params (g, weft_graph_get_main_model (g), &trainable,
                                              &frozen));
      g_test_message ("%s: %" G_GINT64_FORMAT " trainable parameters", peer_params[i].label,
                      trainable);
      g_assert_cmpint (trainable, ==, peer_params[i].params);
      g_assert_cmpint (frozen, ==, 0);
      weft_graph_free (g);
    }
}

static void
expect_output (const char *label, int j, const char *name, int rank, const int *dims)
{
  WeftError e = { 0 };
  WeftGraph *g = weft_bench_model_build (label, &e);
  g_assert_nonnull (g);
  WeftId m = weft_graph_get_main_model (g);
  g_assert_cmpstr (weft_graph_model_output_name (g, m, j), ==, name);
  WeftShape s;
  const WeftHead *h = weft_graph_model_output (g, m, j);
  g_assert_true (weft_graph_node_shape (g, h->node, h->port, &s));
  g_assert_cmpint (s.rank, ==, rank);
  for (int k = 0; k < rank; k++)
    g_assert_cmpint (s.dims[k], ==, dims[k]);
  weft_graph_free (g);
}

static void
test_heads_and_shapes_follow_the_peer (void)
{
  expect_output ("seq_mlp", 0, "digit", 1, (int[]) { 10 });
  expect_output ("qa_two_inputs", 0, "answer", 1, (int[]) { 500 });
  expect_output ("social_three_heads", 0, "age", 1, (int[]) { 1 });
  expect_output ("social_three_heads", 1, "income", 1, (int[]) { 10 });
  expect_output ("social_three_heads_same", 2, "gender", 1, (int[]) { 1 });
  expect_output ("inception_same", 0, "predictions", 1, (int[]) { 10 });
  expect_output ("dual_camera", 0, "reading", 1, (int[]) { 1 });

  /* inception: the four 'same' branches meet at 16x16 and concatenate to 512 channels */
  WeftError e = { 0 };
  WeftGraph *g = weft_bench_model_build ("inception_same", &e);
  g_assert_nonnull (g);
  WeftShape s;
  WeftId concat = weft_graph_find (g, "concatenate");
  g_assert_cmpint (concat, !=, WEFT_ID_NONE);
  g_assert_true (weft_graph_node_shape (g, weft_graph_callee_node_at (g, concat, 0), 0, &s));
  g_assert_cmpint (s.rank, ==, 3);
  g_assert_cmpint (s.dims[0], ==, 16);
  g_assert_cmpint (s.dims[1], ==, 16);
  g_assert_cmpint (s.dims[2], ==, 512);
  weft_graph_free (g);

  /* the shared LSTM and the shared base model are called twice */
  g = weft_bench_model_build ("siamese_lstm", &e);
  g_assert_cmpint (weft_graph_callee_n_nodes (g, weft_graph_find (g, "shared_lstm")), ==, 2);
  weft_graph_free (g);
  g = weft_bench_model_build ("dual_camera", &e);
  g_assert_cmpint (weft_graph_callee_n_nodes (g, weft_graph_find (g, "vision_base")), ==, 2);
  weft_graph_free (g);
}

static void
test_unknown_model_is_refused (void)
{
  WeftError e = { 0 };
  g_assert_null (weft_bench_model_lookup ("resnet50"));
  g_assert_null (weft_bench_model_build ("resnet50", &e));
  g_assert_cmpint (e.code, ==, WEFT_ERROR_INVALID);
  g_assert_nonnull (strstr (e.message, "resnet50"));
}

static void
test_every_model_trains_a_step (void)
{
  for (int i = 0; i < weft_bench_model_count (); i++)
    {
      const WeftBenchModelInfo *info = weft_bench_model_info (i);
      WeftError e = { 0 };
      WeftGraph *g = weft_bench_model_build (info->label, &e);
      g_assert_nonnull (g);
      WeftTrainConfig c;
      weft_train_config_defaults (&c);
      weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c.optimizer);
      c.batch_size = 4;
      c.epochs = 1;
      c.threads = 1;
      WeftDataset *d = weft_synthetic_make ("random", g, 8, 3, &e);
      if (d == NULL)
        g_error ("%s: %s", info->label, e.message);
      WeftTrainer *t = weft_trainer_new (g, &c, &e);
      if (t == NULL)
        g_error ("%s: %s", info->label, e.message);
      if (!weft_trainer_fit (t, d, NULL, &e))
        g_error ("%s: %s", info->label, e.message);
      WeftEpochReport r;
      g_assert_true (weft_trainer_evaluate (t, d, &r, &e));
      g_assert_true (isfinite (r.total));
      weft_trainer_free (t);
      weft_dataset_free (d);
      weft_graph_free (g);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/bench-models/params/equal-peer-keras-figures",
                   test_every_model_has_the_peers_parameter_count);
  g_test_add_func ("/engine/bench-models/shapes/follow-the-peer",
                   test_heads_and_shapes_follow_the_peer);
  g_test_add_func ("/engine/bench-models/lookup/unknown-is-refused",
                   test_unknown_model_is_refused);
  g_test_add_func ("/engine/bench-models/train/one-epoch-on-random-data",
                   test_every_model_trains_a_step);
  return g_test_run ();
}
