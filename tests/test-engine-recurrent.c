/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Forward references for the recurrent and normalisation layers that TensorFlow.js cannot
 * give (GRU reset_after=true, BatchNormalization's moving statistics, bad token ids): small
 * cases computed by hand, and straightforward double-precision re-implementations of the
 * Keras formulas run against the engine on random data. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "weft-activation.h"
#include "weft-layers-recurrent.h"
#include "weft-op.h"

#define TOL_HAND 1e-6   /* against values computed by hand (float32 vs double) */
#define TOL_REF  2e-5   /* against the double-precision reference on random data */

/* ---- running one op call ---- */

typedef struct
{
  const WeftOpDesc *op;
  WeftValue         cfg[32];
  WeftShape         in_shape;
  WeftShape         out_shape;
  int               batch;
  int               n_w;
  WeftWeightSpec    specs[WEFT_MAX_WEIGHTS];
  float            *x, *out, *dx, *dout, *aux, *scratch;
  float            *w[WEFT_MAX_WEIGHTS], *dw[WEFT_MAX_WEIGHTS];
  size_t            n_in, n_out;
  WeftRng           rng;
} OpRun;

static void
set_param (OpRun *run, const char *name, const char *value)
{
  int i = weft_op_param_index (run->op, name);
  g_assert_cmpint (i, >=, 0);
  const WeftParamSpec *spec = &run->op->params[i];
  if (spec->type == WEFT_PARAM_CHOICE)
    {
      int k = 0;
      while (spec->choices[k] != NULL && strcmp (spec->choices[k], value) != 0)
        k++;
      g_assert_nonnull (spec->choices[k]);
      run->cfg[i].num = k;
    }
  else
    run->cfg[i].num = g_ascii_strtod (value, NULL);
}

/* params: "units=3 activation=tanh" as in tests/ops-gradcheck.h. */
static void
op_run_init (OpRun *run, const char *op, const char *params, WeftShape in, int batch)
{
  char why[320] = "";

  memset (run, 0, sizeof *run);
  run->op = weft_op_lookup (op);
  g_assert_nonnull (run->op);
  g_assert_cmpint (run->op->n_params, <=, (int) G_N_ELEMENTS (run->cfg));
  weft_op_defaults (run->op, run->cfg);
  if (params != NULL)
    {
      g_auto (GStrv) parts = g_strsplit (params, " ", -1);
      for (int i = 0; parts[i] != NULL; i++)
        {
          if (*parts[i] == '\0')
            continue;
          g_auto (GStrv) kv = g_strsplit (parts[i], "=", 2);
          g_assert_nonnull (kv[1]);
          set_param (run, kv[0], kv[1]);
        }
    }
  for (int i = 0; i < run->op->n_params; i++)
    g_assert_true (weft_op_check_value (&run->op->params[i], &run->cfg[i], why, sizeof why));
  run->in_shape = in;
  run->batch = batch;
  weft_rng_seed (&run->rng, 1234);

  WeftOpArgs args = { .cfg = run->cfg, .in = &run->in_shape, .n_in = 1 };
  if (!run->op->infer (&args, &run->out_shape, why, sizeof why))
    g_error ("%s: %s", op, why);
  args.out = &run->out_shape;
  run->n_w = run->op->weights != NULL ? run->op->weights (&args, run->specs) : 0;
  run->n_in = (size_t) batch * weft_shape_size (&in);
  run->n_out = (size_t) batch * weft_shape_size (&run->out_shape);
  run->x = g_new0 (float, run->n_in);
  run->dx = g_new0 (float, run->n_in);
  run->out = g_new0 (float, run->n_out);
  run->dout = g_new0 (float, run->n_out);
  for (int k = 0; k < run->n_w; k++)
    {
      run->w[k] = g_new0 (float, weft_shape_size (&run->specs[k].shape));
      run->dw[k] = g_new0 (float, weft_shape_size (&run->specs[k].shape));
    }
  size_t aux = run->op->aux_size != NULL ? run->op->aux_size (&args, batch) : 0;
  size_t scratch = run->op->scratch_size != NULL ? run->op->scratch_size (&args, batch) : 0;
  run->aux = g_new0 (float, aux + 1);
  run->scratch = g_new0 (float, scratch + 1);
}

static void
op_run_clear (OpRun *run)
{
  g_free (run->x);
  g_free (run->dx);
  g_free (run->out);
  g_free (run->dout);
  g_free (run->aux);
  g_free (run->scratch);
  for (int k = 0; k < run->n_w; k++)
    {
      g_free (run->w[k]);
      g_free (run->dw[k]);
    }
}

static WeftOpCtx
op_run_ctx (OpRun *run, bool training)
{
  WeftOpCtx ctx = {
    .op = run->op, .cfg = run->cfg, .batch = run->batch, .training = training, .n_in = 1,
    .out = run->out, .dout = run->dout, .out_shape = run->out_shape,
    .aux = run->aux, .scratch = run->scratch, .rng = &run->rng, .threads = 1,
  };
  ctx.in[0] = run->x;
  ctx.din[0] = run->dx;
  ctx.in_shape[0] = run->in_shape;
  for (int k = 0; k < run->n_w; k++)
    {
      ctx.w[k] = run->w[k];
      ctx.dw[k] = run->dw[k];
    }
  return ctx;
}

static void
op_run_forward (OpRun *run, bool training)
{
  WeftOpCtx ctx = op_run_ctx (run, training);
  run->op->forward (&ctx);
}

static void
fill_uniform (GRand *rand, float *v, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rand, lo, hi);
}

static void
fill_weights (OpRun *run, GRand *rand)
{
  for (int k = 0; k < run->n_w; k++)
    fill_uniform (rand, run->w[k], weft_shape_size (&run->specs[k].shape), -0.6, 0.6);
}

static void
assert_close (const float *got, const double *want, size_t n, double tol, const char *what)
{
  for (size_t i = 0; i < n; i++)
    if (!(fabs (got[i] - want[i]) <= tol * (1.0 + fabs (want[i]))))
      g_error ("%s: value %zu is %.9g, expected %.9g", what, i, got[i], want[i]);
}

/* ---- double-precision reference of the Keras formulas ---- */

static double
ref_act (WeftActivation act, double v)
{
  switch (act)
    {
    case WEFT_ACT_LINEAR:
      return v;
    case WEFT_ACT_RELU:
      return v > 0 ? v : 0;
    case WEFT_ACT_SIGMOID:
      return 1.0 / (1.0 + exp (-v));
    case WEFT_ACT_HARD_SIGMOID:
      return fmin (1.0, fmax (0.0, 0.2 * v + 0.5));
    case WEFT_ACT_TANH:
      return tanh (v);
    default:
      g_error ("reference lacks activation %d", act);
      return 0;
    }
}

typedef struct
{
  int            kind;   /* 0 SimpleRNN, 1 LSTM, 2 GRU */
  int            units;
  WeftActivation act, rec_act;
  bool           use_bias, reset_after, go_backwards, return_sequences;
} RefCell;

/* One sample x[T, in]; h_steps[s*u + j] = state after processing step s. W [in, G*u],
 * U [u, G*u], bias [G*u] (GRU reset_after: [2, 3u]) or NULL. */
static void
ref_cell_run (const RefCell *c, int T, int in, const float *x, const float *W, const float *U,
              const float *bias, double *h_steps)
{
  const int u = c->units, G = c->kind == 0 ? 1 : c->kind == 1 ? 4 : 3, gu = G * u;
  g_autofree double *h = g_new0 (double, u);
  g_autofree double *cs = g_new0 (double, u);
  g_autofree double *xw = g_new0 (double, gu);
  g_autofree double *hu = g_new0 (double, gu);
  g_autofree double *hn = g_new0 (double, u);

  for (int s = 0; s < T; s++)
    {
      int t = c->go_backwards ? T - 1 - s : s;
      for (int k = 0; k < gu; k++)
        {
          double a = bias != NULL ? bias[k] : 0.0, b = 0.0;
          for (int i = 0; i < in; i++)
            a += (double) x[t * in + i] * W[i * gu + k];
          for (int i = 0; i < u; i++)
            b += h[i] * U[i * gu + k];
          if (c->kind == 2 && c->reset_after && bias != NULL)
            b += bias[gu + k];
          xw[k] = a;
          hu[k] = b;
        }
      for (int j = 0; j < u; j++)
        {
          if (c->kind == 0)
            hn[j] = ref_act (c->act, xw[j] + hu[j]);
          else if (c->kind == 1)
            {
              double ig = ref_act (c->rec_act, xw[j] + hu[j]);
              double fg = ref_act (c->rec_act, xw[u + j] + hu[u + j]);
              double cg = ref_act (c->act, xw[2 * u + j] + hu[2 * u + j]);
              double og = ref_act (c->rec_act, xw[3 * u + j] + hu[3 * u + j]);
              cs[j] = fg * cs[j] + ig * cg;
              hn[j] = og * ref_act (c->act, cs[j]);
            }
          else
            {
              double z = ref_act (c->rec_act, xw[j] + hu[j]);
              double r = ref_act (c->rec_act, xw[u + j] + hu[u + j]);
              double hh;
              if (c->reset_after)
                hh = ref_act (c->act, xw[2 * u + j] + r * hu[2 * u + j]);
              else
                {
                  /* (r*h)·Uh: recomputed, since hu used plain h. */
                  double rec = 0.0;
                  for (int i = 0; i < u; i++)
                    rec += ref_act (c->rec_act, xw[u + i] + hu[u + i]) * h[i]
                           * U[i * gu + 2 * u + j];
                  hh = ref_act (c->act, xw[2 * u + j] + rec);
                }
              hn[j] = z * h[j] + (1.0 - z) * hh;
            }
        }
      memcpy (h, hn, sizeof (double) * u);
      memcpy (h_steps + (size_t) s * u, h, sizeof (double) * u);
    }
}

/* Output of one layer for a whole batch, as Keras lays it out (returned sequences in the order
 * of processing). reverse: the returned sequence is reversed (Bidirectional's backward layer). */
static void
ref_layer (const RefCell *c, int batch, int T, int in, const float *x, const float *W,
           const float *U, const float *bias, bool reverse, double *y)
{
  const int u = c->units;
  g_autofree double *hs = g_new0 (double, (size_t) T * u);

  for (int b = 0; b < batch; b++)
    {
      ref_cell_run (c, T, in, x + (size_t) b * T * in, W, U, bias, hs);
      if (!c->return_sequences)
        memcpy (y + (size_t) b * u, hs + (size_t) (T - 1) * u, sizeof (double) * u);
      else
        for (int s = 0; s < T; s++)
          {
            int p = reverse ? T - 1 - s : s;
            memcpy (y + ((size_t) b * T + p) * u, hs + (size_t) s * u, sizeof (double) * u);
          }
    }
}

/* ---- hand-computed cases (units 1, one feature, two steps, x = [1, -1]) ---- */

static void
set_values (float *dst, const float *src, int n)
{
  memcpy (dst, src, sizeof (float) * n);
}

static void
test_gru_reset_after_hand (void)
{
  OpRun run;
  /* z1 = s(0.5+0.1) = .645656, r1 = s(-0.5+0.2) = .425557,
   * hh1 = tanh(1.0-0.1 + r1*(0*-0.4+0.3)) = .772971, h1 = (1-z1)*hh1 = .273897;
   * step 2 (x=-1): z2 = s(-0.5+0.1+0.2*h1) = .414542, r2 = s(0.5+0.3*h1+0.2) = .686147,
   * hh2 = tanh(-1-0.1 + r2*(-0.4*h1+0.3)) = -.748409, h2 = z2*h1 + (1-z2)*hh2. */
  const double want[] = { 0.2738974209326283, -0.32462039834513906 };
  const float W[] = { 0.5f, -0.5f, 1.0f }, U[] = { 0.2f, 0.3f, -0.4f };
  const float bias[] = { 0.1f, 0.0f, -0.1f, 0.0f, 0.2f, 0.3f };
  const float x[] = { 1.0f, -1.0f };

  op_run_init (&run, "GRU", "units=1 return_sequences=1 reset_after=1",
               weft_shape_make (2, 2, 1), 1);
  g_assert_cmpint (run.n_w, ==, 3);
  g_assert_cmpint (run.specs[2].shape.rank, ==, 2);
  g_assert_cmpint (run.specs[2].shape.dims[0], ==, 2);
  set_values (run.x, x, 2);
  set_values (run.w[0], W, 3);
  set_values (run.w[1], U, 3);
  set_values (run.w[2], bias, 6);
  op_run_forward (&run, false);
  assert_close (run.out, want, 2, TOL_HAND, "GRU reset_after=true");
  op_run_clear (&run);
}

static void
test_gru_reset_before_hand (void)
{
  OpRun run;
  /* bias [bz, br, bh] = [0.1, 0.2, -0.1]; hh = tanh(x*Wh + bh + (r*h)*Uh):
   * step 1 h0 = 0 so hh1 = tanh(0.9) = .716298, h1 = (1-z1)*hh1 = .253816;
   * step 2: z2 = s(-0.5+0.1+0.2*h1), r2 = s(0.5+0.2+0.3*h1), hh2 = tanh(-1.1 - 0.4*r2*h1). */
  const double want[] = { 0.2538156331689181, -0.3783217330575464 };
  const float W[] = { 0.5f, -0.5f, 1.0f }, U[] = { 0.2f, 0.3f, -0.4f };
  const float bias[] = { 0.1f, 0.2f, -0.1f };
  const float x[] = { 1.0f, -1.0f };

  op_run_init (&run, "GRU", "units=1 return_sequences=1 reset_after=0",
               weft_shape_make (2, 2, 1), 1);
  g_assert_cmpint (run.specs[2].shape.rank, ==, 1);
  g_assert_cmpint (run.specs[2].shape.dims[0], ==, 3);
  set_values (run.x, x, 2);
  set_values (run.w[0], W, 3);
  set_values (run.w[1], U, 3);
  set_values (run.w[2], bias, 3);
  op_run_forward (&run, false);
  assert_close (run.out, want, 2, TOL_HAND, "GRU reset_after=false");
  op_run_clear (&run);
}

static void
test_lstm_hand (void)
{
  /* Gates i, f, c, o: W = [.5, -.3, .8, .1], U = [.2, .4, -.6, .3], b = [0, 1, .1, -.1].
   * Step 1: c1 = s(.5)*tanh(.9), h1 = s(0)*tanh(c1); step 2 adds U*h1 to each gate. */
  const double want_sigmoid[] = { 0.20924758814315608, 0.04356098322223397 };
  const double want_hard[] = { 0.20256818347085978, 0.02723983464399163 };
  const float W[] = { 0.5f, -0.3f, 0.8f, 0.1f }, U[] = { 0.2f, 0.4f, -0.6f, 0.3f };
  const float bias[] = { 0.0f, 1.0f, 0.1f, -0.1f };
  const float x[] = { 1.0f, -1.0f };

  for (int hard = 0; hard < 2; hard++)
    {
      OpRun run;
      op_run_init (&run, "LSTM",
                   hard ? "units=1 return_sequences=1 recurrent_activation=hard_sigmoid"
                        : "units=1 return_sequences=1",
                   weft_shape_make (2, 2, 1), 1);
      set_values (run.x, x, 2);
      set_values (run.w[0], W, 4);
      set_values (run.w[1], U, 4);
      set_values (run.w[2], bias, 4);
      op_run_forward (&run, false);
      assert_close (run.out, hard ? want_hard : want_sigmoid, 2, TOL_HAND, "LSTM");
      op_run_clear (&run);
    }
}

/* ---- random cases against the reference ---- */

typedef struct
{
  const char *op;
  const char *params;
  int         kind;
} RnnCase;

static const RnnCase rnn_cases[] = {
  { "SimpleRNN", "units=4", 0 },
  { "SimpleRNN", "units=3 return_sequences=1 go_backwards=1 activation=relu", 0 },
  { "SimpleRNN", "units=5 use_bias=0 return_sequences=1", 0 },
  { "LSTM", "units=4", 1 },
  { "LSTM", "units=3 return_sequences=1", 1 },
  { "LSTM", "units=3 go_backwards=1 recurrent_activation=hard_sigmoid", 1 },
  { "LSTM", "units=2 return_sequences=1 go_backwards=1 use_bias=0", 1 },
  { "GRU", "units=4", 2 },
  { "GRU", "units=3 return_sequences=1 reset_after=0", 2 },
  { "GRU", "units=3 return_sequences=1 go_backwards=1", 2 },
  { "GRU", "units=2 go_backwards=1 reset_after=0 recurrent_activation=hard_sigmoid", 2 },
  { "GRU", "units=3 use_bias=0 return_sequences=1", 2 },
};

static RefCell
ref_cell_from (const OpRun *run, int kind)
{
  RefCell c = { .kind = kind };
  int i;

  c.units = (int) run->cfg[weft_op_param_index (run->op, "units")].num;
  c.act = (WeftActivation) run->cfg[weft_op_param_index (run->op, "activation")].num;
  i = weft_op_param_index (run->op, "recurrent_activation");
  c.rec_act = i >= 0 ? (WeftActivation) run->cfg[i].num : WEFT_ACT_SIGMOID;
  c.use_bias = run->cfg[weft_op_param_index (run->op, "use_bias")].num != 0;
  c.return_sequences = run->cfg[weft_op_param_index (run->op, "return_sequences")].num != 0;
  i = weft_op_param_index (run->op, "go_backwards");
  c.go_backwards = i >= 0 && run->cfg[i].num != 0;
  i = weft_op_param_index (run->op, "reset_after");
  c.reset_after = i >= 0 && run->cfg[i].num != 0;
  return c;
}

static void
test_rnn_matches_reference (void)
{
  GRand *rand = g_rand_new_with_seed (20240611);
  const int T = 5, in = 3, batch = 3;

  for (size_t n = 0; n < G_N_ELEMENTS (rnn_cases); n++)
    {
      OpRun run;
      op_run_init (&run, rnn_cases[n].op, rnn_cases[n].params, weft_shape_make (2, T, in),
                   batch);
      fill_weights (&run, rand);
      fill_uniform (rand, run.x, run.n_in, -1, 1);
      op_run_forward (&run, true);

      RefCell c = ref_cell_from (&run, rnn_cases[n].kind);
      g_autofree double *want = g_new0 (double, run.n_out);
      ref_layer (&c, batch, T, in, run.x, run.w[0], run.w[1], c.use_bias ? run.w[2] : NULL,
                 false, want);
      g_autofree char *what = g_strdup_printf ("%s %s", rnn_cases[n].op, rnn_cases[n].params);
      assert_close (run.out, want, run.n_out, TOL_REF, what);
      op_run_clear (&run);
    }
  g_rand_free (rand);
}

static void
test_bidirectional_matches_reference (void)
{
  static const char *const inner[] = { "LSTM", "GRU", "SimpleRNN" };
  static const char *const modes[] = { "concat", "sum", "mul", "ave" };
  GRand *rand = g_rand_new_with_seed (77);
  const int T = 4, in = 3, batch = 2, u = 3;

  for (int l = 0; l < 3; l++)
    for (int m = 0; m < 4; m++)
      for (int seq = 0; seq < 2; seq++)
        for (int gb = 0; gb < 2; gb++)
          {
            OpRun run;
            g_autofree char *params = g_strdup_printf (
              "layer=%s units=%d merge_mode=%s return_sequences=%d reset_after=%d "
              "go_backwards=%d", inner[l], u, modes[m], seq, m % 2, gb);
            op_run_init (&run, "Bidirectional", params, weft_shape_make (2, T, in), batch);
            fill_weights (&run, rand);
            fill_uniform (rand, run.x, run.n_in, -1, 1);
            op_run_forward (&run, false);

            RefCell c = { .kind = l == 0 ? 1 : l == 1 ? 2 : 0, .units = u, .act = WEFT_ACT_TANH,
                          .rec_act = WEFT_ACT_SIGMOID, .use_bias = true,
                          .reset_after = m % 2, .return_sequences = seq,
                          .go_backwards = gb };
            size_t n = (size_t) batch * (seq ? T : 1) * u;
            g_autofree double *yf = g_new0 (double, n);
            g_autofree double *yb = g_new0 (double, n);
            g_autofree double *want = g_new0 (double, run.n_out);
            ref_layer (&c, batch, T, in, run.x, run.w[0], run.w[1], run.w[2], false, yf);
            c.go_backwards = !gb;
            ref_layer (&c, batch, T, in, run.x, run.w[3], run.w[4], run.w[5], true, yb);
            for (size_t r = 0; r < n / u; r++)
              for (int j = 0; j < u; j++)
                {
                  double f = yf[r * u + j], b = yb[r * u + j];
                  if (m == 0)
                    {
                      want[r * 2 * u + j] = f;
                      want[r * 2 * u + u + j] = b;
                    }
                  else
                    want[r * u + j] = m == 1 ? f + b : m == 2 ? f * b : 0.5 * (f + b);
                }
            assert_close (run.out, want, run.n_out, TOL_REF, params);
            op_run_clear (&run);
          }
  g_rand_free (rand);
}

/* Linear SimpleRNN with kernel I: with recurrent_kernel 0, out[t] = x[t] * mask; with
 * recurrent_kernel I too, out[t] - x[t] = mask * out[t-1]. Keras semantics: one mask per
 * sequence (the same at every step), kept values scaled by 1/(1 - rate), none in inference. */
static void
test_rnn_dropout_masks (void)
{
  const int T = 5, u = 4, batch = 8;
  GRand *rand = g_rand_new_with_seed (3);

  for (int recurrent = 0; recurrent < 2; recurrent++)
    {
      OpRun run;
      op_run_init (&run, "SimpleRNN",
                   recurrent ? "units=4 activation=linear use_bias=0 return_sequences=1 "
                               "recurrent_dropout=0.5"
                             : "units=4 activation=linear use_bias=0 return_sequences=1 "
                               "dropout=0.5",
                   weft_shape_make (2, T, u), batch);
      for (int i = 0; i < u; i++)
        {
          run.w[0][i * u + i] = 1.0f;
          run.w[1][i * u + i] = recurrent ? 1.0f : 0.0f;
        }
      for (size_t i = 0; i < run.n_in; i++)
        run.x[i] = (float) g_rand_double_range (rand, 0.5, 1.0);

      op_run_forward (&run, false);
      if (!recurrent)
        for (size_t i = 0; i < run.n_out; i++)
          g_assert_cmpfloat (run.out[i], ==, run.x[i]);

      op_run_forward (&run, true);
      int dropped = 0;
      for (int b = 0; b < batch; b++)
        for (int j = 0; j < u; j++)
          {
            double first = -1;
            for (int t = recurrent ? 1 : 0; t < T; t++)
              {
                size_t i = ((size_t) b * T + t) * u + j;
                double base = recurrent ? run.out[i - u] : run.x[i];
                double m = (run.out[i] - (recurrent ? run.x[i] : 0.0)) / base;
                g_assert_true (fabs (m) < 1e-5 || fabs (m - 2.0) < 1e-5);
                if (first < 0)
                  first = m;
                g_assert_cmpfloat_with_epsilon (m, first, 1e-5);
              }
            dropped += first < 1.0;
          }
      /* 32 draws at rate 0.5: both kinds of entry occur. */
      g_assert_cmpint (dropped, >, 4);
      g_assert_cmpint (dropped, <, 28);
      op_run_clear (&run);
    }
  g_rand_free (rand);
}

static void
test_bidirectional_weight_names (void)
{
  OpRun run;

  op_run_init (&run, "Bidirectional", "layer=GRU units=2 reset_after=1",
               weft_shape_make (2, 3, 4), 1);
  g_assert_cmpint (run.n_w, ==, 6);
  g_assert_cmpstr (run.specs[0].name, ==, "forward_gru/kernel");
  g_assert_cmpstr (run.specs[1].name, ==, "forward_gru/recurrent_kernel");
  g_assert_cmpstr (run.specs[2].name, ==, "forward_gru/bias");
  g_assert_cmpstr (run.specs[3].name, ==, "backward_gru/kernel");
  g_assert_cmpstr (run.specs[5].name, ==, "backward_gru/bias");
  g_assert_cmpint (run.specs[5].shape.dims[0], ==, 2);
  g_assert_cmpint (run.specs[5].shape.dims[1], ==, 6);
  g_assert_cmpint (run.out_shape.rank, ==, 1);
  g_assert_cmpint (run.out_shape.dims[0], ==, 4);
  op_run_clear (&run);

  op_run_init (&run, "Bidirectional", "layer=SimpleRNN units=2 use_bias=0 merge_mode=sum",
               weft_shape_make (2, 3, 4), 1);
  g_assert_cmpint (run.n_w, ==, 4);
  g_assert_cmpstr (run.specs[2].name, ==, "backward_simple_rnn/kernel");
  g_assert_cmpint (run.out_shape.dims[0], ==, 2);
  op_run_clear (&run);
}

static void
test_lstm_weight_layout (void)
{
  OpRun run;

  op_run_init (&run, "LSTM", "units=5", weft_shape_make (2, 7, 3), 1);
  g_assert_cmpint (run.n_w, ==, 3);
  g_assert_cmpstr (run.specs[0].name, ==, "kernel");
  g_assert_cmpint (run.specs[0].shape.dims[0], ==, 3);
  g_assert_cmpint (run.specs[0].shape.dims[1], ==, 20);
  g_assert_cmpstr (run.specs[1].name, ==, "recurrent_kernel");
  g_assert_cmpint (run.specs[1].shape.dims[0], ==, 5);
  g_assert_cmpint (run.specs[1].shape.dims[1], ==, 20);
  g_assert_cmpint (run.specs[1].init, ==, WEFT_INIT_ORTHOGONAL);
  g_assert_cmpstr (run.specs[2].name, ==, "bias");
  g_assert_cmpint (run.specs[2].init, ==, WEFT_INIT_UNIT_FORGET_BIAS);
  op_run_clear (&run);

  op_run_init (&run, "LSTM", "units=5 unit_forget_bias=0", weft_shape_make (2, 7, 3), 1);
  g_assert_cmpint (run.specs[2].init, ==, WEFT_INIT_ZEROS);
  op_run_clear (&run);
}

static void
test_rnn_rejects_wrong_rank (void)
{
  static const char *const ops[] = { "SimpleRNN", "LSTM", "GRU", "Bidirectional" };
  char why[320];

  for (size_t i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      const WeftOpDesc *op = weft_op_lookup (ops[i]);
      WeftValue cfg[16];
      WeftShape in = weft_shape_make (1, 10), out;
      WeftOpArgs args = { .cfg = cfg, .in = &in, .n_in = 1 };

      weft_op_defaults (op, cfg);
      why[0] = '\0';
      g_assert_false (op->infer (&args, &out, why, sizeof why));
      g_assert_nonnull (strstr (why, "(None, 10)"));
      g_assert_nonnull (strstr (why, "timesteps"));
    }
}

/* ---- Embedding ---- */

static void
test_embedding_looks_up_rows (void)
{
  OpRun run;
  const float ids[] = { 2, 0, 4, 2 };

  op_run_init (&run, "Embedding", "input_dim=5 output_dim=3", weft_shape_make (1, 2), 2);
  g_assert_cmpint (run.out_shape.rank, ==, 2);
  g_assert_cmpint (run.out_shape.dims[1], ==, 3);
  g_assert_cmpint (run.specs[0].init, ==, WEFT_INIT_UNIFORM_005);
  for (int i = 0; i < 15; i++)
    run.w[0][i] = (float) i;
  set_values (run.x, ids, 4);
  op_run_forward (&run, true);
  for (int k = 0; k < 4; k++)
    for (int j = 0; j < 3; j++)
      g_assert_cmpfloat (run.out[k * 3 + j], ==, ids[k] * 3 + j);

  /* Backward: row 2 is looked up twice, so it collects both gradients. */
  for (size_t i = 0; i < run.n_out; i++)
    run.dout[i] = 1.0f + (float) i;
  WeftOpCtx ctx = op_run_ctx (&run, true);
  ctx.din[0] = NULL;
  run.op->backward (&ctx);
  g_assert_cmpfloat (run.dw[0][2 * 3 + 0], ==, 1.0f + 10.0f);
  g_assert_cmpfloat (run.dw[0][0 * 3 + 1], ==, 5.0f);
  g_assert_cmpfloat (run.dw[0][4 * 3 + 2], ==, 9.0f);
  g_assert_cmpfloat (run.dw[0][1 * 3 + 0], ==, 0.0f);
  op_run_clear (&run);
}

static void
test_embedding_bad_ids_give_nan (void)
{
  OpRun run;
  /* Out of range above, negative, not whole, NaN, huge: none may be read from the table. */
  const float ids[] = { 1, 5, -1, 2.5f, NAN, 1e30f, -1e30f, INFINITY, 4 };
  const int n = G_N_ELEMENTS (ids);

  op_run_init (&run, "Embedding", "input_dim=5 output_dim=2", weft_shape_make (1, n), 1);
  for (int i = 0; i < 10; i++)
    run.w[0][i] = 0.5f;
  set_values (run.x, ids, n);
  op_run_forward (&run, true);
  for (int k = 0; k < n; k++)
    {
      bool good = k == 0 || k == n - 1;
      for (int j = 0; j < 2; j++)
        if (good)
          g_assert_cmpfloat (run.out[k * 2 + j], ==, 0.5f);
        else
          g_assert_true (isnan (run.out[k * 2 + j]));
    }
  /* The backward pass skips bad ids instead of writing outside the table. */
  for (size_t i = 0; i < run.n_out; i++)
    run.dout[i] = 1.0f;
  WeftOpCtx ctx = op_run_ctx (&run, true);
  ctx.din[0] = NULL;
  run.op->backward (&ctx);
  g_assert_cmpfloat (run.dw[0][1 * 2], ==, 1.0f);
  g_assert_cmpfloat (run.dw[0][4 * 2], ==, 1.0f);
  g_assert_cmpfloat (run.dw[0][0], ==, 0.0f);
  op_run_clear (&run);
}

static void
test_embedding_check_ids (void)
{
  const float good[] = { 0, 3, 9, 9, 1 };
  const float bad[] = { 0, 3, 10, -1 };
  const float frac[] = { 0, 0.5f };
  const float nan_id[] = { 1, 2, NAN };
  size_t where = 99;

  g_assert_true (weft_embedding_check_ids (good, 5, 10, &where));
  g_assert_cmpuint (where, ==, 99);
  g_assert_false (weft_embedding_check_ids (bad, 4, 10, &where));
  g_assert_cmpuint (where, ==, 2);
  g_assert_false (weft_embedding_check_ids (frac, 2, 10, &where));
  g_assert_cmpuint (where, ==, 1);
  g_assert_false (weft_embedding_check_ids (nan_id, 3, 10, NULL));
  g_assert_true (weft_embedding_check_ids (NULL, 0, 10, NULL));
}

/* ---- TimeDistributed(Dense) ---- */

static void
test_time_distributed_matches_reference (void)
{
  GRand *rand = g_rand_new_with_seed (5);
  OpRun run;
  const int T = 4, in = 3, u = 2, batch = 2;

  op_run_init (&run, "TimeDistributed", "units=2 activation=tanh", weft_shape_make (2, T, in),
               batch);
  g_assert_cmpstr (run.specs[0].name, ==, "kernel");
  g_assert_cmpstr (run.specs[1].name, ==, "bias");
  fill_weights (&run, rand);
  fill_uniform (rand, run.x, run.n_in, -1, 1);
  op_run_forward (&run, false);
  g_autofree double *want = g_new0 (double, run.n_out);
  for (int r = 0; r < batch * T; r++)
    for (int j = 0; j < u; j++)
      {
        double a = run.w[1][j];
        for (int i = 0; i < in; i++)
          a += (double) run.x[r * in + i] * run.w[0][i * u + j];
        want[r * u + j] = tanh (a);
      }
  assert_close (run.out, want, run.n_out, TOL_REF, "TimeDistributed(Dense)");
  op_run_clear (&run);
  g_rand_free (rand);
}

/* ---- normalisation ---- */

static void
test_batch_norm_inference (void)
{
  OpRun run;
  /* One channel pair: y = gamma*(x - mm)/sqrt(mv + 1e-3) + beta. */
  const float x[] = { 1.0f, -2.0f, 3.0f, 0.5f };

  op_run_init (&run, "BatchNormalization", NULL, weft_shape_make (1, 2), 2);
  g_assert_cmpint (run.n_w, ==, 4);
  g_assert_cmpstr (run.specs[0].name, ==, "gamma");
  g_assert_cmpstr (run.specs[3].name, ==, "moving_variance");
  g_assert_false (run.specs[2].trainable);
  g_assert_false (run.specs[3].trainable);
  set_values (run.x, x, 4);
  run.w[0][0] = 2.0f;  run.w[0][1] = 0.5f;     /* gamma */
  run.w[1][0] = 0.1f;  run.w[1][1] = -0.2f;    /* beta */
  run.w[2][0] = 0.5f;  run.w[2][1] = -1.0f;    /* moving mean */
  run.w[3][0] = 4.0f;  run.w[3][1] = 0.25f;    /* moving variance */
  op_run_forward (&run, false);
  const double want[] = {
    2.0 * (1.0 - 0.5) / sqrt (4.001) + 0.1, 0.5 * (-2.0 + 1.0) / sqrt (0.251) - 0.2,
    2.0 * (3.0 - 0.5) / sqrt (4.001) + 0.1, 0.5 * (0.5 + 1.0) / sqrt (0.251) - 0.2,
  };
  assert_close (run.out, want, 4, TOL_HAND, "BatchNormalization inference");
  /* Inference leaves the moving statistics alone. */
  g_assert_cmpfloat (run.w[2][0], ==, 0.5f);
  g_assert_cmpfloat (run.w[3][1], ==, 0.25f);
  op_run_clear (&run);
}

static void
test_batch_norm_training (void)
{
  OpRun run;
  /* Channel 0 sees 1, 3, 5, 7 (mean 4, biased variance 5); channel 1 sees 2, 2, 2, 2. */
  const float x[] = { 1, 2, 3, 2, 5, 2, 7, 2 };

  op_run_init (&run, "BatchNormalization", "momentum=0.9 center=0", weft_shape_make (2, 2, 2),
               2);
  g_assert_cmpint (run.n_w, ==, 3);
  g_assert_cmpstr (run.specs[0].name, ==, "gamma");
  g_assert_cmpstr (run.specs[1].name, ==, "moving_mean");
  set_values (run.x, x, 8);
  run.w[0][0] = run.w[0][1] = 1.0f;
  run.w[1][0] = run.w[1][1] = 0.0f;
  run.w[2][0] = run.w[2][1] = 1.0f;
  op_run_forward (&run, true);
  double s = 1.0 / sqrt (5.0 + 1e-3);
  const double want[] = { -3 * s, 0, -1 * s, 0, 1 * s, 0, 3 * s, 0 };
  assert_close (run.out, want, 8, TOL_HAND, "BatchNormalization training");
  /* moving = 0.9 * moving + 0.1 * batch statistic (biased variance, as Keras 3 and tfjs). */
  const double mm[] = { 0.1 * 4.0, 0.1 * 2.0 }, mv[] = { 0.9 + 0.1 * 5.0, 0.9 };
  assert_close (run.w[1], mm, 2, TOL_HAND, "moving_mean");
  assert_close (run.w[2], mv, 2, TOL_HAND, "moving_variance");
  op_run_clear (&run);
}

static void
test_batch_norm_rejects_other_axis (void)
{
  const WeftOpDesc *op = weft_op_lookup ("BatchNormalization");
  WeftValue cfg[8];
  WeftShape in = weft_shape_make (3, 4, 4, 3), out;
  WeftOpArgs args = { .cfg = cfg, .in = &in, .n_in = 1 };
  char why[320] = "";

  weft_op_defaults (op, cfg);
  cfg[weft_op_param_index (op, "axis")].num = 3;
  g_assert_true (op->infer (&args, &out, why, sizeof why));
  cfg[weft_op_param_index (op, "axis")].num = 1;
  g_assert_false (op->infer (&args, &out, why, sizeof why));
  g_assert_nonnull (strstr (why, "last axis"));
}

static void
test_layer_norm_matches_reference (void)
{
  GRand *rand = g_rand_new_with_seed (11);
  OpRun run;
  const int T = 3, c = 5, batch = 2;

  op_run_init (&run, "LayerNormalization", NULL, weft_shape_make (2, T, c), batch);
  fill_weights (&run, rand);
  fill_uniform (rand, run.x, run.n_in, -2, 2);
  op_run_forward (&run, true);
  g_autofree double *want = g_new0 (double, run.n_out);
  for (int r = 0; r < batch * T; r++)
    {
      double m = 0, v = 0;
      for (int j = 0; j < c; j++)
        m += run.x[r * c + j] / (double) c;
      for (int j = 0; j < c; j++)
        v += (run.x[r * c + j] - m) * (run.x[r * c + j] - m) / c;
      for (int j = 0; j < c; j++)
        want[r * c + j] = run.w[0][j] * (run.x[r * c + j] - m) / sqrt (v + 1e-3) + run.w[1][j];
    }
  assert_close (run.out, want, run.n_out, TOL_REF, "LayerNormalization");
  op_run_clear (&run);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/recurrent/gru/reset-after-matches-hand-computed",
                   test_gru_reset_after_hand);
  g_test_add_func ("/engine/recurrent/gru/reset-before-matches-hand-computed",
                   test_gru_reset_before_hand);
  g_test_add_func ("/engine/recurrent/lstm/matches-hand-computed", test_lstm_hand);
  g_test_add_func ("/engine/recurrent/lstm/weight-layout", test_lstm_weight_layout);
  g_test_add_func ("/engine/recurrent/rnn/matches-reference", test_rnn_matches_reference);
  g_test_add_func ("/engine/recurrent/rnn/rejects-wrong-rank", test_rnn_rejects_wrong_rank);
  g_test_add_func ("/engine/recurrent/rnn/dropout-masks-are-per-sequence",
                   test_rnn_dropout_masks);
  g_test_add_func ("/engine/recurrent/bidirectional/matches-reference",
                   test_bidirectional_matches_reference);
  g_test_add_func ("/engine/recurrent/bidirectional/weight-names",
                   test_bidirectional_weight_names);
  g_test_add_func ("/engine/recurrent/embedding/looks-up-rows", test_embedding_looks_up_rows);
  g_test_add_func ("/engine/recurrent/embedding/bad-ids-give-nan-rows",
                   test_embedding_bad_ids_give_nan);
  g_test_add_func ("/engine/recurrent/embedding/check-ids-finds-first-bad",
                   test_embedding_check_ids);
  g_test_add_func ("/engine/recurrent/time-distributed/matches-reference",
                   test_time_distributed_matches_reference);
  g_test_add_func ("/engine/norm/batch-normalization/inference-uses-moving-statistics",
                   test_batch_norm_inference);
  g_test_add_func ("/engine/norm/batch-normalization/training-updates-moving-statistics",
                   test_batch_norm_training);
  g_test_add_func ("/engine/norm/batch-normalization/rejects-other-axis",
                   test_batch_norm_rejects_other_axis);
  g_test_add_func ("/engine/norm/layer-normalization/matches-reference",
                   test_layer_norm_matches_reference);
  return g_test_run ();
}
