/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Embedding and recurrent layers: Embedding, SimpleRNN, LSTM, GRU, Bidirectional,
 * TimeDistributed(Dense). The cells themselves live in weft-rnn-util.c. */
#include "weft-layers-recurrent.h"
#include "weft-layers-core.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-blas.h"
#include "weft-op.h"
#include "weft-rnn-util.h"

#define MAX_UNITS 65536
#define MAX_SAMPLE_SIZE ((int64_t) INT_MAX)

static bool
expect_one_input (const WeftOpArgs *args, const char *layer, char *why, size_t why_len)
{
  if (args->n_in == 1)
    return true;
  snprintf (why, why_len, "%s takes 1 input, not %d", layer, args->n_in);
  return false;
}

static bool
check_out_size (const WeftShape *out, char *why, size_t why_len)
{
  char buf[96];

  if (weft_shape_size (out) <= MAX_SAMPLE_SIZE)
    return true;
  snprintf (why, why_len, "the output %s would have more than %d values per sample",
            weft_shape_format (out, buf, sizeof buf), INT_MAX);
  return false;
}

/* ---- Embedding ---- */

enum { EMB_INPUT_DIM, EMB_OUTPUT_DIM };

static const WeftParamSpec embedding_params[] = {
  { .name = "input_dim", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("Size of the vocabulary: token ids must lie in 0 .. input_dim - 1."),
    .def = 1000, .min = 1, .max = 100000000, .flags = WEFT_PARAM_KEY },
  { .name = "output_dim", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("Length of the dense vector each token id is mapped to."),
    .def = 32, .min = 1, .max = 1000000, .flags = WEFT_PARAM_KEY },
};

bool
weft_embedding_check_ids (const float *ids, size_t n, int input_dim, size_t *bad_index)
{
  for (size_t i = 0; i < n; i++)
    {
      float v = ids[i];
      /* Written so that NaN fails too. */
      if (!(v >= 0.0f && v < (float) input_dim && v == floorf (v)))
        {
          if (bad_index != NULL)
            *bad_index = i;
          return false;
        }
    }
  return true;
}

static bool
embedding_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  char buf[96];

  if (!expect_one_input (args, "Embedding", why, why_len))
    return false;
  const WeftShape *in = &args->in[0];
  if (in->rank < 1 || in->rank >= WEFT_MAX_RANK)
    {
      snprintf (why, why_len, "Embedding needs token ids of shape (batch, ...) with 1 to %d "
                "axes besides the batch, got %s", WEFT_MAX_RANK - 1,
                weft_shape_format (in, buf, sizeof buf));
      return false;
    }
  *out = *in;
  out->dims[out->rank++] = weft_cfg_int (args->cfg, EMB_OUTPUT_DIM);
  return check_out_size (out, why, why_len);
}

static int
embedding_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  memset (specs, 0, sizeof *specs);
  snprintf (specs[0].name, sizeof specs[0].name, "embeddings");
  specs[0].shape = weft_shape_make (2, weft_cfg_int (args->cfg, EMB_INPUT_DIM),
                                    weft_cfg_int (args->cfg, EMB_OUTPUT_DIM));
  specs[0].init = WEFT_INIT_UNIFORM_005;
  specs[0].trainable = true;
  return 1;
}

/* A bad id gives a NaN row, never a read outside the table: the trainer then stops with
 * "non-finite output" naming this layer (it also checks ids up front). */
static void
embedding_forward (const WeftOpCtx *ctx)
{
  const int dim = weft_cfg_int (ctx->cfg, EMB_OUTPUT_DIM);
  const int vocab = weft_cfg_int (ctx->cfg, EMB_INPUT_DIM);
  const size_t n = (size_t) ctx->batch * weft_shape_size (&ctx->in_shape[0]);
  const float *ids = ctx->in[0], *table = ctx->w[0];

  for (size_t i = 0; i < n; i++)
    {
      float *row = ctx->out + i * dim;
      if (weft_embedding_check_ids (&ids[i], 1, vocab, NULL))
        memcpy (row, table + (size_t) ids[i] * dim, sizeof (float) * dim);
      else
        for (int j = 0; j < dim; j++)
          row[j] = NAN;
    }
}

/* Ids have no gradient; only the rows that were looked up collect one. */
static void
embedding_backward (const WeftOpCtx *ctx)
{
  const int dim = weft_cfg_int (ctx->cfg, EMB_OUTPUT_DIM);
  const int vocab = weft_cfg_int (ctx->cfg, EMB_INPUT_DIM);
  const size_t n = (size_t) ctx->batch * weft_shape_size (&ctx->in_shape[0]);
  const float *ids = ctx->in[0];
  float *dtable = ctx->dw[0];

  if (dtable == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    {
      if (!weft_embedding_check_ids (&ids[i], 1, vocab, NULL))
        continue;
      float *drow = dtable + (size_t) ids[i] * dim;
      const float *g = ctx->dout + i * dim;
      for (int j = 0; j < dim; j++)
        drow[j] += g[j];
    }
}

static const WeftOpDesc embedding_op = {
  .name = "Embedding",
  .category = "Core",
  .help = WEFT_N_("Turns integer token ids into dense vectors learned during training."),
  .params = embedding_params,
  .n_params = 2,
  .min_inputs = 1,
  .max_inputs = 1,
  .flags = WEFT_OP_INT_INPUT,
  .infer = embedding_infer,
  .weights = embedding_weights,
  .forward = embedding_forward,
  .backward = embedding_backward,
};

/* ---- SimpleRNN, LSTM, GRU ---- */

#define UNITS_SPEC(def_units) \
  { .name = "units", .type = WEFT_PARAM_INT, \
    .help = WEFT_N_("Size of the hidden state (and of each output step)."), \
    .def = (def_units), .min = 1, .max = MAX_UNITS, .flags = WEFT_PARAM_KEY }
#define ACTIVATION_SPEC \
  { .name = "activation", .type = WEFT_PARAM_CHOICE, \
    .help = WEFT_N_("Activation of the candidate state and of the output (tanh in Keras)."), \
    .def = WEFT_ACT_TANH, .choices = weft_activation_names }
#define REC_ACTIVATION_SPEC \
  { .name = "recurrent_activation", .type = WEFT_PARAM_CHOICE, \
    .help = WEFT_N_("Activation of the gates: sigmoid (Keras), or hard_sigmoid as in " \
                    "TensorFlow.js and older Keras files."), \
    .def = WEFT_ACT_SIGMOID, .choices = weft_activation_names }
#define USE_BIAS_SPEC \
  { .name = "use_bias", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Whether the cell adds learned biases to its gates."), \
    .def = 1, .min = 0, .max = 1 }
#define RETURN_SEQUENCES_SPEC \
  { .name = "return_sequences", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Output the state of every time step instead of only the last one."), \
    .def = 0, .min = 0, .max = 1, .flags = WEFT_PARAM_KEY }
#define GO_BACKWARDS_SPEC \
  { .name = "go_backwards", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Read the sequence from its last step to its first; returned sequences " \
                    "are in that reversed order."), \
    .def = 0, .min = 0, .max = 1 }
#define DROPOUT_SPECS \
  { .name = "dropout", .type = WEFT_PARAM_FLOAT, \
    .help = WEFT_N_("Fraction of the input features dropped while training, with one mask per " \
                    "sequence."), \
    .def = 0.0, .min = 0.0, .max = 0.999 }, \
  { .name = "recurrent_dropout", .type = WEFT_PARAM_FLOAT, \
    .help = WEFT_N_("Fraction of the state's units dropped while training where the state " \
                    "enters the recurrent step."), \
    .def = 0.0, .min = 0.0, .max = 0.999 }
#define RESET_AFTER_SPEC \
  { .name = "reset_after", .type = WEFT_PARAM_BOOL, \
    .help = WEFT_N_("Apply the reset gate after the recurrent matrix product (TensorFlow 2 " \
                    "default, two bias rows) instead of before it."), \
    .def = 1, .min = 0, .max = 1 }

enum { SRNN_UNITS, SRNN_ACTIVATION, SRNN_USE_BIAS, SRNN_RETURN_SEQUENCES, SRNN_GO_BACKWARDS,
       SRNN_DROPOUT, SRNN_RECURRENT_DROPOUT };

static const WeftParamSpec simple_rnn_params[] = {
  UNITS_SPEC (32), ACTIVATION_SPEC, USE_BIAS_SPEC, RETURN_SEQUENCES_SPEC, GO_BACKWARDS_SPEC,
  DROPOUT_SPECS,
};

enum { LSTM_UNITS, LSTM_ACTIVATION, LSTM_REC_ACTIVATION, LSTM_USE_BIAS, LSTM_UNIT_FORGET_BIAS,
       LSTM_RETURN_SEQUENCES, LSTM_GO_BACKWARDS, LSTM_DROPOUT, LSTM_RECURRENT_DROPOUT };

static const WeftParamSpec lstm_params[] = {
  UNITS_SPEC (32), ACTIVATION_SPEC, REC_ACTIVATION_SPEC, USE_BIAS_SPEC,
  { .name = "unit_forget_bias", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("Start the forget-gate biases at 1 so that the cell remembers by "
                    "default."),
    .def = 1, .min = 0, .max = 1 },
  RETURN_SEQUENCES_SPEC, GO_BACKWARDS_SPEC, DROPOUT_SPECS,
};

enum { GRU_UNITS, GRU_ACTIVATION, GRU_REC_ACTIVATION, GRU_USE_BIAS, GRU_RETURN_SEQUENCES,
       GRU_GO_BACKWARDS, GRU_RESET_AFTER, GRU_DROPOUT, GRU_RECURRENT_DROPOUT };

static const WeftParamSpec gru_params[] = {
  UNITS_SPEC (32), ACTIVATION_SPEC, REC_ACTIVATION_SPEC, USE_BIAS_SPEC,
  RETURN_SEQUENCES_SPEC, GO_BACKWARDS_SPEC, RESET_AFTER_SPEC, DROPOUT_SPECS,
};

static WeftRnnKind
kind_of (const WeftOpDesc *op)
{
  if (strcmp (op->name, "LSTM") == 0)
    return WEFT_RNN_LSTM;
  if (strcmp (op->name, "GRU") == 0)
    return WEFT_RNN_GRU;
  return WEFT_RNN_SIMPLE;
}

static WeftRnnCell
make_cell (WeftRnnKind kind, const WeftValue *cfg, const WeftShape *in)
{
  WeftRnnCell cell = { .kind = kind };

  cell.steps = in->dims[0];
  cell.in_dim = in->dims[1];
  switch (kind)
    {
    case WEFT_RNN_SIMPLE:
      cell.units = weft_cfg_int (cfg, SRNN_UNITS);
      cell.act = (WeftActivation) weft_cfg_int (cfg, SRNN_ACTIVATION);
      cell.rec_act = WEFT_ACT_SIGMOID;
      cell.use_bias = weft_cfg_bool (cfg, SRNN_USE_BIAS);
      cell.return_sequences = weft_cfg_bool (cfg, SRNN_RETURN_SEQUENCES);
      cell.go_backwards = weft_cfg_bool (cfg, SRNN_GO_BACKWARDS);
      cell.dropout = weft_cfg_float (cfg, SRNN_DROPOUT);
      cell.recurrent_dropout = weft_cfg_float (cfg, SRNN_RECURRENT_DROPOUT);
      break;
    case WEFT_RNN_LSTM:
      cell.units = weft_cfg_int (cfg, LSTM_UNITS);
      cell.act = (WeftActivation) weft_cfg_int (cfg, LSTM_ACTIVATION);
      cell.rec_act = (WeftActivation) weft_cfg_int (cfg, LSTM_REC_ACTIVATION);
      cell.use_bias = weft_cfg_bool (cfg, LSTM_USE_BIAS);
      cell.return_sequences = weft_cfg_bool (cfg, LSTM_RETURN_SEQUENCES);
      cell.go_backwards = weft_cfg_bool (cfg, LSTM_GO_BACKWARDS);
      cell.dropout = weft_cfg_float (cfg, LSTM_DROPOUT);
      cell.recurrent_dropout = weft_cfg_float (cfg, LSTM_RECURRENT_DROPOUT);
      break;
    case WEFT_RNN_GRU:
      cell.units = weft_cfg_int (cfg, GRU_UNITS);
      cell.act = (WeftActivation) weft_cfg_int (cfg, GRU_ACTIVATION);
      cell.rec_act = (WeftActivation) weft_cfg_int (cfg, GRU_REC_ACTIVATION);
      cell.use_bias = weft_cfg_bool (cfg, GRU_USE_BIAS);
      cell.return_sequences = weft_cfg_bool (cfg, GRU_RETURN_SEQUENCES);
      cell.go_backwards = weft_cfg_bool (cfg, GRU_GO_BACKWARDS);
      cell.reset_after = weft_cfg_bool (cfg, GRU_RESET_AFTER);
      cell.dropout = weft_cfg_float (cfg, GRU_DROPOUT);
      cell.recurrent_dropout = weft_cfg_float (cfg, GRU_RECURRENT_DROPOUT);
      break;
    }
  return cell;
}

/* The op of an args/ctx is not passed to infer/weights/aux_size, so each layer gets thin
 * wrappers that name its kind. */
#define RNN_WRAPPERS(prefix, kind, label) \
  static bool \
  prefix##_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len) \
  { \
    if (!expect_one_input (args, label, why, why_len) \
        || !weft_rnn_check_input (label, &args->in[0], why, why_len)) \
      return false; \
    WeftRnnCell cell = make_cell (kind, args->cfg, &args->in[0]); \
    *out = cell.return_sequences ? weft_shape_make (2, cell.steps, cell.units) \
                                 : weft_shape_make (1, cell.units); \
    return check_out_size (out, why, why_len); \
  } \
  static int \
  prefix##_weights (const WeftOpArgs *args, WeftWeightSpec *specs) \
  { \
    WeftRnnCell cell = make_cell (kind, args->cfg, &args->in[0]); \
    return rnn_weights (&cell, args->cfg, specs); \
  } \
  static size_t \
  prefix##_aux_size (const WeftOpArgs *args, int batch) \
  { \
    WeftRnnCell cell = make_cell (kind, args->cfg, &args->in[0]); \
    return weft_rnn_aux_size (&cell, batch); \
  } \
  static size_t \
  prefix##_scratch_size (const WeftOpArgs *args, int batch) \
  { \
    WeftRnnCell cell = make_cell (kind, args->cfg, &args->in[0]); \
    return weft_rnn_scratch_size (&cell, batch); \
  }

static int
rnn_weights (const WeftRnnCell *cell, const WeftValue *cfg, WeftWeightSpec *specs)
{
  int n = weft_rnn_weights (cell, "", specs);
  if (cell->kind == WEFT_RNN_LSTM && n == 3 && !weft_cfg_bool (cfg, LSTM_UNIT_FORGET_BIAS))
    specs[2].init = WEFT_INIT_ZEROS;
  return n;
}

RNN_WRAPPERS (simple_rnn, WEFT_RNN_SIMPLE, "SimpleRNN")
RNN_WRAPPERS (lstm, WEFT_RNN_LSTM, "LSTM")
RNN_WRAPPERS (gru, WEFT_RNN_GRU, "GRU")

static void
rnn_forward (const WeftOpCtx *ctx)
{
  WeftRnnCell cell = make_cell (kind_of (ctx->op), ctx->cfg, &ctx->in_shape[0]);
  weft_rnn_forward (&cell, ctx->batch, ctx->in[0], ctx->w, ctx->aux, ctx->scratch, ctx->out,
                    ctx->training, ctx->rng);
}

static void
rnn_backward (const WeftOpCtx *ctx)
{
  WeftRnnCell cell = make_cell (kind_of (ctx->op), ctx->cfg, &ctx->in_shape[0]);
  weft_rnn_backward (&cell, ctx->batch, ctx->in[0], ctx->w, ctx->aux, ctx->scratch, ctx->dout,
                     ctx->din[0], ctx->dw);
}

#define RNN_OP(var, label, prefix, params_, help_) \
  static const WeftOpDesc var = { \
    .name = label, \
    .category = "Recurrent", \
    .help = help_, \
    .params = params_, \
    .n_params = (int) (sizeof params_ / sizeof params_[0]), \
    .min_inputs = 1, \
    .max_inputs = 1, \
    .infer = prefix##_infer, \
    .weights = prefix##_weights, \
    .aux_size = prefix##_aux_size, \
    .scratch_size = prefix##_scratch_size, \
    .forward = rnn_forward, \
    .backward = rnn_backward, \
  };

RNN_OP (simple_rnn_op, "SimpleRNN", simple_rnn, simple_rnn_params,
        WEFT_N_("Fully connected recurrent layer: each step mixes the input with the previous "
                "state."))
RNN_OP (lstm_op, "LSTM", lstm, lstm_params,
        WEFT_N_("Long short-term memory: a gated recurrent layer with a cell state that keeps "
                "information over long sequences."))
RNN_OP (gru_op, "GRU", gru, gru_params,
        WEFT_N_("Gated recurrent unit: a lighter gated recurrent layer with update and reset "
                "gates."))

/* ---- Bidirectional ---- */

static const char *const bidir_layers[] = { "LSTM", "GRU", "SimpleRNN", NULL };
static const char *const bidir_inner_names[] = { "lstm", "gru", "simple_rnn" };
static const WeftRnnKind bidir_kinds[] = { WEFT_RNN_LSTM, WEFT_RNN_GRU, WEFT_RNN_SIMPLE };
static const char *const merge_modes[] = { "concat", "sum", "mul", "ave", NULL };
enum { MERGE_CONCAT, MERGE_SUM, MERGE_MUL, MERGE_AVE };

enum { BI_LAYER, BI_UNITS, BI_ACTIVATION, BI_REC_ACTIVATION, BI_USE_BIAS,
       BI_RETURN_SEQUENCES, BI_RESET_AFTER, BI_MERGE_MODE, BI_GO_BACKWARDS, BI_DROPOUT,
       BI_RECURRENT_DROPOUT };

static const WeftParamSpec bidir_params[] = {
  { .name = "layer", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("The recurrent layer that is run once forwards and once backwards."),
    .def = 0, .choices = bidir_layers, .flags = WEFT_PARAM_KEY },
  UNITS_SPEC (32),
  ACTIVATION_SPEC,
  { .name = "recurrent_activation", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("Activation of the gates of LSTM and GRU (unused by SimpleRNN)."),
    .def = WEFT_ACT_SIGMOID, .choices = weft_activation_names },
  USE_BIAS_SPEC,
  RETURN_SEQUENCES_SPEC,
  { .name = "reset_after", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("GRU only: apply the reset gate after the recurrent matrix product "
                    "(TensorFlow 2 default)."),
    .def = 1, .min = 0, .max = 1 },
  { .name = "merge_mode", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("How the forward and backward outputs are combined: concatenated, "
                    "summed, multiplied or averaged."),
    .def = MERGE_CONCAT, .choices = merge_modes, .flags = WEFT_PARAM_KEY },
  { .name = "go_backwards", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("The wrapped layer's own go_backwards: when set, the forward layer reads "
                    "the sequence from its end and the backward layer from its start."),
    .def = 0, .min = 0, .max = 1 },
  DROPOUT_SPECS,
};

static WeftRnnCell
bidir_cell (const WeftValue *cfg, const WeftShape *in, bool backward)
{
  WeftRnnCell cell = { .kind = bidir_kinds[weft_cfg_int (cfg, BI_LAYER)] };

  cell.steps = in->dims[0];
  cell.in_dim = in->dims[1];
  cell.units = weft_cfg_int (cfg, BI_UNITS);
  cell.act = (WeftActivation) weft_cfg_int (cfg, BI_ACTIVATION);
  cell.rec_act = (WeftActivation) weft_cfg_int (cfg, BI_REC_ACTIVATION);
  cell.use_bias = weft_cfg_bool (cfg, BI_USE_BIAS);
  cell.return_sequences = weft_cfg_bool (cfg, BI_RETURN_SEQUENCES);
  cell.reset_after = cell.kind == WEFT_RNN_GRU && weft_cfg_bool (cfg, BI_RESET_AFTER);
  /* Keras: the backward layer is a copy with go_backwards flipped, and its returned
   * sequence is reversed along time. */
  cell.go_backwards = weft_cfg_bool (cfg, BI_GO_BACKWARDS) != backward;
  cell.reverse_output = backward;
  cell.dropout = weft_cfg_float (cfg, BI_DROPOUT);
  cell.recurrent_dropout = weft_cfg_float (cfg, BI_RECURRENT_DROPOUT);
  return cell;
}

static bool
bidir_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  if (!expect_one_input (args, "Bidirectional", why, why_len)
      || !weft_rnn_check_input ("Bidirectional", &args->in[0], why, why_len))
    return false;
  WeftRnnCell cell = bidir_cell (args->cfg, &args->in[0], false);
  int width = cell.units * (weft_cfg_int (args->cfg, BI_MERGE_MODE) == MERGE_CONCAT ? 2 : 1);
  *out = cell.return_sequences ? weft_shape_make (2, cell.steps, width)
                               : weft_shape_make (1, width);
  return check_out_size (out, why, why_len);
}

static int
bidir_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  const char *inner = bidir_inner_names[weft_cfg_int (args->cfg, BI_LAYER)];
  char prefix[WEFT_NAME_MAX];
  int n = 0;

  for (int dir = 0; dir < 2; dir++)
    {
      WeftRnnCell cell = bidir_cell (args->cfg, &args->in[0], dir == 1);
      snprintf (prefix, sizeof prefix, "%s_%s/", dir == 0 ? "forward" : "backward", inner);
      n += weft_rnn_weights (&cell, prefix, specs + n);
    }
  return n;
}

/* aux: forward cell state, backward cell state, yf, yb (each direction's output). */
static size_t
bidir_aux_size (const WeftOpArgs *args, int batch)
{
  WeftRnnCell cell = bidir_cell (args->cfg, &args->in[0], false);
  return 2 * weft_rnn_aux_size (&cell, batch) + 2 * (size_t) batch * weft_rnn_out_size (&cell);
}

/* scratch: one cell's scratch (the directions run one after the other), dyf, dyb. */
static size_t
bidir_scratch_size (const WeftOpArgs *args, int batch)
{
  WeftRnnCell cell = bidir_cell (args->cfg, &args->in[0], false);
  return weft_rnn_scratch_size (&cell, batch) + 2 * (size_t) batch * weft_rnn_out_size (&cell);
}

static void
bidir_forward (const WeftOpCtx *ctx)
{
  WeftRnnCell fw = bidir_cell (ctx->cfg, &ctx->in_shape[0], false);
  WeftRnnCell bw = bidir_cell (ctx->cfg, &ctx->in_shape[0], true);
  const int mode = weft_cfg_int (ctx->cfg, BI_MERGE_MODE);
  const int nw = fw.use_bias ? 3 : 2;
  const size_t cell_aux = weft_rnn_aux_size (&fw, ctx->batch);
  const size_t u = (size_t) fw.units;
  const size_t n = (size_t) ctx->batch * weft_rnn_out_size (&fw);
  float *yf = ctx->aux + 2 * cell_aux, *yb = yf + n;
  float *wf[3] = { ctx->w[0], ctx->w[1], nw == 3 ? ctx->w[2] : NULL };
  float *wb[3] = { ctx->w[nw], ctx->w[nw + 1], nw == 3 ? ctx->w[nw + 2] : NULL };

  weft_rnn_forward (&fw, ctx->batch, ctx->in[0], wf, ctx->aux, ctx->scratch, yf,
                    ctx->training, ctx->rng);
  weft_rnn_forward (&bw, ctx->batch, ctx->in[0], wb, ctx->aux + cell_aux, ctx->scratch, yb,
                    ctx->training, ctx->rng);
  switch (mode)
    {
    case MERGE_CONCAT:
      for (size_t r = 0; r < n / u; r++)
        {
          memcpy (ctx->out + 2 * r * u, yf + r * u, sizeof (float) * u);
          memcpy (ctx->out + (2 * r + 1) * u, yb + r * u, sizeof (float) * u);
        }
      break;
    case MERGE_SUM:
      for (size_t i = 0; i < n; i++)
        ctx->out[i] = yf[i] + yb[i];
      break;
    case MERGE_MUL:
      for (size_t i = 0; i < n; i++)
        ctx->out[i] = yf[i] * yb[i];
      break;
    case MERGE_AVE:
      for (size_t i = 0; i < n; i++)
        ctx->out[i] = 0.5f * (yf[i] + yb[i]);
      break;
    }
}

static void
bidir_backward (const WeftOpCtx *ctx)
{
  WeftRnnCell fw = bidir_cell (ctx->cfg, &ctx->in_shape[0], false);
  WeftRnnCell bw = bidir_cell (ctx->cfg, &ctx->in_shape[0], true);
  const int mode = weft_cfg_int (ctx->cfg, BI_MERGE_MODE);
  const int nw = fw.use_bias ? 3 : 2;
  const size_t cell_aux = weft_rnn_aux_size (&fw, ctx->batch);
  const size_t u = (size_t) fw.units;
  const size_t n = (size_t) ctx->batch * weft_rnn_out_size (&fw);
  const float *yf = ctx->aux + 2 * cell_aux, *yb = yf + n;
  float *dyf = ctx->scratch + weft_rnn_scratch_size (&fw, ctx->batch), *dyb = dyf + n;
  const float *dout = ctx->dout;
  float *wf[3] = { ctx->w[0], ctx->w[1], nw == 3 ? ctx->w[2] : NULL };
  float *wb[3] = { ctx->w[nw], ctx->w[nw + 1], nw == 3 ? ctx->w[nw + 2] : NULL };
  float *dwf[3] = { ctx->dw[0], ctx->dw[1], nw == 3 ? ctx->dw[2] : NULL };
  float *dwb[3] = { ctx->dw[nw], ctx->dw[nw + 1], nw == 3 ? ctx->dw[nw + 2] : NULL };

  switch (mode)
    {
    case MERGE_CONCAT:
      for (size_t r = 0; r < n / u; r++)
        {
          memcpy (dyf + r * u, dout + 2 * r * u, sizeof (float) * u);
          memcpy (dyb + r * u, dout + (2 * r + 1) * u, sizeof (float) * u);
        }
      break;
    case MERGE_SUM:
      memcpy (dyf, dout, sizeof (float) * n);
      memcpy (dyb, dout, sizeof (float) * n);
      break;
    case MERGE_MUL:
      for (size_t i = 0; i < n; i++)
        {
          dyf[i] = dout[i] * yb[i];
          dyb[i] = dout[i] * yf[i];
        }
      break;
    case MERGE_AVE:
      for (size_t i = 0; i < n; i++)
        dyf[i] = dyb[i] = 0.5f * dout[i];
      break;
    }
  weft_rnn_backward (&fw, ctx->batch, ctx->in[0], wf, ctx->aux, ctx->scratch, dyf, ctx->din[0],
                     dwf);
  weft_rnn_backward (&bw, ctx->batch, ctx->in[0], wb, ctx->aux + cell_aux, ctx->scratch, dyb,
                     ctx->din[0], dwb);
}

static const WeftOpDesc bidirectional_op = {
  .name = "Bidirectional",
  .category = "Recurrent",
  .help = WEFT_N_("Runs a recurrent layer over the sequence in both directions and merges "
                  "the two outputs."),
  .params = bidir_params,
  .n_params = (int) (sizeof bidir_params / sizeof bidir_params[0]),
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = bidir_infer,
  .weights = bidir_weights,
  .aux_size = bidir_aux_size,
  .scratch_size = bidir_scratch_size,
  .forward = bidir_forward,
  .backward = bidir_backward,
};

/* ---- TimeDistributed(Dense) ---- */

static const char *const td_layers[] = { "Dense", NULL };

enum { TD_LAYER, TD_UNITS, TD_ACTIVATION, TD_USE_BIAS };

static const WeftParamSpec td_params[] = {
  { .name = "layer", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("The layer applied to every time step with the same weights."),
    .def = 0, .choices = td_layers, .flags = WEFT_PARAM_KEY },
  { .name = "units", .type = WEFT_PARAM_INT,
    .help = WEFT_N_("Number of output values per time step."),
    .def = 32, .min = 1, .max = 1000000, .flags = WEFT_PARAM_KEY },
  { .name = "activation", .type = WEFT_PARAM_CHOICE,
    .help = WEFT_N_("Function applied to each output; linear leaves it unchanged."),
    .def = WEFT_ACT_LINEAR, .choices = weft_activation_names, .flags = WEFT_PARAM_KEY },
  { .name = "use_bias", .type = WEFT_PARAM_BOOL,
    .help = WEFT_N_("Whether a learned bias is added to each output."),
    .def = 1, .min = 0, .max = 1 },
};

static bool
td_infer (const WeftOpArgs *args, WeftShape *out, char *why, size_t why_len)
{
  char buf[96];

  if (!expect_one_input (args, "TimeDistributed", why, why_len))
    return false;
  const WeftShape *in = &args->in[0];
  if (in->rank < 2)
    {
      snprintf (why, why_len, "TimeDistributed needs an input of at least 3D (batch, "
                "timesteps, features), got %s", weft_shape_format (in, buf, sizeof buf));
      return false;
    }
  *out = *in;
  out->dims[out->rank - 1] = weft_cfg_int (args->cfg, TD_UNITS);
  return check_out_size (out, why, why_len);
}

/* TimeDistributed(Dense) is Dense on the last axis: its parameters after "layer" are
 * Dense's, in Dense's order, so the Dense op runs on the shifted configuration. */
_Static_assert (TD_UNITS == DENSE_UNITS + 1 && TD_ACTIVATION == DENSE_ACTIVATION + 1
                && TD_USE_BIAS == DENSE_USE_BIAS + 1, "TimeDistributed mirrors Dense");

static WeftOpArgs
td_dense_args (const WeftOpArgs *args)
{
  WeftOpArgs inner = *args;
  inner.cfg = args->cfg + 1;
  return inner;
}

static int
td_weights (const WeftOpArgs *args, WeftWeightSpec *specs)
{
  WeftOpArgs inner = td_dense_args (args);
  return weft_dense_op.weights (&inner, specs);
}

static size_t
td_aux_size (const WeftOpArgs *args, int batch)
{
  WeftOpArgs inner = td_dense_args (args);
  return weft_dense_op.aux_size (&inner, batch);
}

static size_t
td_scratch_size (const WeftOpArgs *args, int batch)
{
  WeftOpArgs inner = td_dense_args (args);
  return weft_dense_op.scratch_size (&inner, batch);
}

static void
td_forward (const WeftOpCtx *ctx)
{
  WeftOpCtx inner = *ctx;
  inner.cfg = ctx->cfg + 1;
  weft_dense_op.forward (&inner);
}

static void
td_backward (const WeftOpCtx *ctx)
{
  WeftOpCtx inner = *ctx;
  inner.cfg = ctx->cfg + 1;
  weft_dense_op.backward (&inner);
}

static const WeftOpDesc time_distributed_op = {
  .name = "TimeDistributed",
  .category = "Recurrent",
  .help = WEFT_N_("Applies the same Dense layer to every time step of a sequence."),
  .params = td_params,
  .n_params = (int) (sizeof td_params / sizeof td_params[0]),
  .min_inputs = 1,
  .max_inputs = 1,
  .infer = td_infer,
  .weights = td_weights,
  .aux_size = td_aux_size,
  .scratch_size = td_scratch_size,
  .forward = td_forward,
  .backward = td_backward,
};

const WeftOpDesc *const weft_layers_recurrent[] = {
  &embedding_op,
  &simple_rnn_op,
  &lstm_op,
  &gru_op,
  &bidirectional_op,
  &time_distributed_op,
  NULL
};
