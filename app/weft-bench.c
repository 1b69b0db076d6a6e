/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft bench: the protocol of ../shared/bench/peer_torch.py (4 synthetic batches cycled,
 * Adam lr 1e-3 eps 1e-7, warm-up, calibrated runs, median samples/s, per-phase peak RSS)
 * applied to Weft, with the peer spawned in the same invocation. Each Weft measurement
 * runs in a forked child so that peak RSS figures of different models do not mix.
 *
 * The two sides take turns: round i is one timed Weft run and one peer invocation of one
 * timed run, in the order Weft-peer, peer-Weft, Weft-peer, ... so that both see the same
 * state of a shared, drifting machine; the ratio is the median of the rounds' ratios.
 * The Weft child does work only between a "go" byte from the parent and its reply, so it
 * never runs while the peer does. */
#include "config.h"

#include "weft-bench.h"

#include <cblas.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft-activation.h"
#include "weft-bench-models.h"
#include "weft-blas.h"
#include "weft-train.h"

extern void openblas_set_num_threads (int num_threads);

#define MAX_RUNS    64
#define MAX_THREADS 8
#define N_BATCHES   4     /* distinct batches, cycled, as the peer does */

enum { PHASE_TRAIN, PHASE_INFER, N_PHASES };
static const char *const phase_names[N_PHASES] = { "train", "infer" };

typedef struct
{
  char    *model;
  int      batch;
  char    *threads_spec;
  int      threads[MAX_THREADS];
  int      n_threads;
  int      runs;
  double   warmup_sec;
  double   min_run_sec;
  char    *phases_spec;
  gboolean phase[N_PHASES];
  gboolean json;
  gboolean no_peer;
  gboolean no_sgemm;
  char    *peer;
  char    *python;
} Options;

typedef struct
{
  gboolean measured;
  int      steps;          /* per run */
  int      n_runs;
  double   sps[MAX_RUNS];
  double   median, min, max;
  double   cpu_util;
  double   peak_rss_mib;
  double   rss_start_mib;
  double   load_start, load_end;
} PhaseResult;

/* What a child sends back through its pipe. */
typedef struct
{
  gboolean    ok;
  char        error[400];
  int64_t     params;
  char        core[64];
  int         blas_threads;
  PhaseResult phase[N_PHASES];
} WeftResult;

/* The peer's figures of one phase, one timed run per round. */
typedef struct
{
  int     n;                     /* rounds with a figure */
  double  sps[MAX_RUNS];
  double  weft[MAX_RUNS];        /* Weft's run of the same round */
  double  median, min, max, ratio;
  double  peak_rss_mib;          /* the largest of the rounds' */
  char   *line[MAX_RUNS];        /* the peer's JSON lines as printed */
  char   *error;
} PeerPhase;

typedef struct
{
  PeerPhase phase[N_PHASES];
} PeerResult;

/* ---- small helpers ---- */

static double
now_sec (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double
cpu_sec (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + 1e-6 * ru.ru_utime.tv_usec + ru.ru_stime.tv_sec
         + 1e-6 * ru.ru_stime.tv_usec;
}

static double
load_avg (void)
{
  double la[3];
  return getloadavg (la, 3) == 3 ? la[0] : NAN;
}

/* A field of /proc/self/status in KiB, or -1. */
static long
status_kib (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen (field);
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f) != NULL)
    if (strncmp (line, field, n) == 0 && line[n] == ':')
      {
        v = strtol (line + n + 1, NULL, 10);
        break;
      }
  fclose (f);
  return v;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0), as the peer does before each phase. */
static gboolean
reset_peak_rss (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  if (f == NULL)
    return FALSE;
  gboolean ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median_of (const double *v, int n)
{
  double s[MAX_RUNS];
  memcpy (s, v, (size_t) n * sizeof *s);
  qsort (s, (size_t) n, sizeof *s, cmp_double);
  return (n & 1) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* Median, smallest and largest of n > 0 figures. */
static void
summarise (const double *v, int n, double *median, double *min, double *max)
{
  *median = median_of (v, n);
  *min = *max = v[0];
  for (int i = 1; i < n; i++)
    {
      *min = MIN (*min, v[i]);
      *max = MAX (*max, v[i]);
    }
}

static void
set_threads (int threads)
{
  /* Weft decides per product how many threads OpenBLAS gets (engine/weft-blas.c) */
  weft_blas_set_threads (threads);
}

/* ---- the child and its turns ---- */

/* A measuring child's side of the turns: it waits for a go byte, works, and replies with
 * one record. */
typedef struct
{
  int      ctl, rep;
  gboolean pending;   /* a go not answered yet */
} Turns;

enum { REPLY_READY, REPLY_RUN, REPLY_FAIL };

typedef struct
{
  int    kind;
  double sps;
} Reply;

/* Waits for the parent's go; FALSE when it closed the pipe instead. */
static gboolean
turns_go (Turns *t)
{
  char c;
  ssize_t r;
  while ((r = read (t->ctl, &c, 1)) < 0 && errno == EINTR)
    ;
  t->pending = r == 1;
  return t->pending;
}

static void
turns_reply (Turns *t, int kind, double sps)
{
  Reply r = { kind, sps };
  if (!t->pending)
    return;
  t->pending = FALSE;
  if (write (t->rep, &r, sizeof r) != (ssize_t) sizeof r)
    _exit (1);
}

/* Runs `units` units of work (a unit is `unit_steps` steps); false with a message. */
typedef gboolean (*RunFunc) (void *ctx, int units, char *why, size_t why_len);

/* Called after the go that prepares the phase: warms up and calibrates, replies READY, then
 * does one timed run per go. */
static gboolean
measure (const Options *o, Turns *turns, RunFunc run, void *ctx, int unit_steps, int batch,
         PhaseResult *r, char *why, size_t why_len)
{
  memset (r, 0, sizeof *r);
  r->rss_start_mib = status_kib ("VmRSS") / 1024.0;
  gboolean reset = reset_peak_rss ();
  r->load_start = load_avg ();

  double t0 = now_sec ();
  int done = 0;
  while (done < 3 || now_sec () - t0 < o->warmup_sec)
    {
      if (!run (ctx, 1, why, why_len))
        return FALSE;
      done += unit_steps;
    }
  double per_step = (now_sec () - t0) / done;
  int steps = (int) (o->min_run_sec / per_step) + 1;
  int units = (steps + unit_steps - 1) / unit_steps;
  r->steps = units * unit_steps;
  turns_reply (turns, REPLY_READY, 0);

  double busy = 0, cpu = 0;
  for (int i = 0; i < o->runs; i++)
    {
      if (!turns_go (turns))
        {
          g_strlcpy (why, _("the benchmark stopped the measurement"), why_len);
          return FALSE;
        }
      double c0 = cpu_sec (), s = now_sec ();
      if (!run (ctx, units, why, why_len))
        return FALSE;
      double dt = now_sec () - s;
      busy += dt;
      cpu += cpu_sec () - c0;
      r->sps[i] = (double) r->steps * batch / dt;
      turns_reply (turns, REPLY_RUN, r->sps[i]);
    }
  r->cpu_util = cpu / busy;
  r->n_runs = o->runs;
  summarise (r->sps, r->n_runs, &r->median, &r->min, &r->max);
  long hwm = reset ? status_kib ("VmHWM") : -1;
  if (hwm < 0)
    {
      struct rusage ru;
      getrusage (RUSAGE_SELF, &ru);
      hwm = ru.ru_maxrss;
    }
  r->peak_rss_mib = hwm / 1024.0;
  r->load_end = load_avg ();
  r->measured = TRUE;
  return TRUE;
}

typedef struct
{
  WeftTrainer *trainer;
  WeftDataset *data;
} TrainCtx;

static gboolean
train_run (void *p, int units, char *why, size_t why_len)
{
  TrainCtx *c = p;
  WeftError e = { 0 };
  /* one unit = one epoch over the N_BATCHES batches (shuffle off: the same batches) */
  for (int i = 0; i < units; i++)
    if (!weft_trainer_fit (c->trainer, c->data, NULL, &e))
      {
        g_snprintf (why, why_len, _("training failed: %s"), e.message);
        return FALSE;
      }
  return TRUE;
}

typedef struct
{
  WeftPlan        *plan;
  int              batch;
  int              n_inputs;
  const WeftArray *in[WEFT_MAX_INPUTS];
  int              next;
} InferCtx;

static gboolean
infer_run (void *p, int units, char *why, size_t why_len)
{
  InferCtx *c = p;
  for (int u = 0; u < units; u++)
    {
      int b = c->next++ % N_BATCHES;
      for (int i = 0; i < c->n_inputs; i++)
        {
          /* the batch's rows where they are, as weft_predict and PyTorch's slices read them */
          size_t w = (size_t) weft_shape_size (&c->in[i]->shape) * (size_t) c->batch;
          weft_plan_set_input_rows (c->plan, i, c->in[i]->data + (size_t) b * w);
        }
      weft_plan_forward (c->plan, c->batch, false);
    }
  return TRUE;
}

/* In the child: builds the model and measures the phases asked for, taking turns. */
static void
weft_measure (const Options *o, Turns *turns, const WeftBenchModelInfo *info, int batch,
              int threads, WeftResult *res)
{
  WeftError e = { 0 };
  WeftGraph *g = NULL;
  WeftDataset *d = NULL;
  WeftTrainer *t = NULL;
  WeftPlan *plan = NULL;
  memset (res, 0, sizeof *res);
  /* the first go prepares the first phase: the model and its data are built after it */
  if (!turns_go (turns))
    goto out;
  set_threads (threads);
  g_strlcpy (res->core, weft_blas_core_name (), sizeof res->core);
  res->blas_threads = weft_blas_get_threads ();   /* the most any product gets */
  g = weft_bench_model_build (info->label, &e);
  if (g == NULL)
    goto fail;
  int64_t frozen = 0;
  weft_graph_count_params (g, weft_graph_get_main_model (g), &res->params, &frozen);
  d = weft_synthetic_make ("random", g, (int64_t) N_BATCHES * batch, 1, &e);
  if (d == NULL)
    goto fail;

  if (o->phase[PHASE_TRAIN])
    {
      WeftTrainConfig c;
      weft_train_config_defaults (&c);
      weft_optim_config_defaults (WEFT_OPTIM_ADAM, &c.optimizer);
      c.optimizer.learning_rate = 1e-3f;
      c.optimizer.epsilon = 1e-7f;
      c.batch_size = batch;
      c.epochs = 1;
      c.shuffle = false;
      c.threads = threads;
      t = weft_trainer_new (g, &c, &e);
      if (t == NULL || !weft_trainer_check_data (t, d, &e))
        goto fail;
      TrainCtx ctx = { t, d };
      if (!measure (o, turns, train_run, &ctx, N_BATCHES, batch, &res->phase[PHASE_TRAIN],
                    res->error, sizeof res->error))
        goto out;
    }
  if (o->phase[PHASE_INFER])
    {
      if (o->phase[PHASE_TRAIN] && !turns_go (turns))
        goto out;
      if (t != NULL)
        {
          weft_trainer_store_weights (t);
          weft_trainer_free (t);
          t = NULL;
        }
      plan = weft_plan_new_inference (g, batch, 0, &e);
      if (plan == NULL)
        goto fail;
      weft_plan_set_threads (plan, threads);
      set_threads (threads);
      InferCtx ctx = { .plan = plan, .batch = batch, .n_inputs = weft_plan_n_inputs (plan) };
      for (int i = 0; i < ctx.n_inputs && i < WEFT_MAX_INPUTS; i++)
        {
          ctx.in[i] = weft_dataset_find (d, weft_plan_input_name (plan, i));
          if (ctx.in[i] == NULL)
            {
              g_snprintf (res->error, sizeof res->error, _("no data for input '%s'"),
                          weft_plan_input_name (plan, i));
              goto out;
            }
        }
      if (!measure (o, turns, infer_run, &ctx, 1, batch, &res->phase[PHASE_INFER], res->error,
                    sizeof res->error))
        goto out;
    }
  res->ok = TRUE;
  goto out;
fail:
  g_snprintf (res->error, sizeof res->error, "%s", e.message);
out:
  turns_reply (turns, REPLY_FAIL, 0);   /* only when a go is still unanswered */
  weft_plan_free (plan);
  weft_trainer_free (t);
  weft_dataset_free (d);
  weft_graph_free (g);
}

/* The parent's side of a forked child: it sends go bytes on ctl, reads replies on rep. */
typedef struct
{
  pid_t pid;
  int   ctl, rep;
} Child;

typedef void (*ChildFunc) (void *arg, Turns *turns, void *result);

/* Forks a child that runs fn (taking turns when the parent sends go bytes), waits until
 * the parent closes its end of ctl, and then writes `size` bytes of result to rep. */
static gboolean
child_start (Child *c, ChildFunc fn, void *arg, void *result, size_t size, char *why,
             size_t why_len)
{
  int ctl[2], rep[2];
  if (pipe (ctl) != 0)
    {
      g_snprintf (why, why_len, "pipe: %s", g_strerror (errno));
      return FALSE;
    }
  if (pipe (rep) != 0)
    {
      g_snprintf (why, why_len, "pipe: %s", g_strerror (errno));
      close (ctl[0]);
      close (ctl[1]);
      return FALSE;
    }
  fflush (stdout);
  fflush (stderr);
  c->pid = fork ();
  if (c->pid < 0)
    {
      g_snprintf (why, why_len, "fork: %s", g_strerror (errno));
      close (ctl[0]);
      close (ctl[1]);
      close (rep[0]);
      close (rep[1]);
      return FALSE;
    }
  if (c->pid == 0)
    {
      close (ctl[1]);
      close (rep[0]);
      Turns t = { ctl[0], rep[1], FALSE };
      fn (arg, &t, result);
      char drain;
      for (;;)
        {
          ssize_t r = read (ctl[0], &drain, 1);
          if (r == 0 || (r < 0 && errno != EINTR))
            break;
        }
      const char *p = result;
      size_t left = size;
      while (left > 0)
        {
          ssize_t w = write (rep[1], p, left);
          if (w <= 0)
            _exit (1);
          p += w;
          left -= (size_t) w;
        }
      _exit (0);
    }
  close (ctl[0]);
  close (rep[1]);
  c->ctl = ctl[1];
  c->rep = rep[0];
  return TRUE;
}

static gboolean
read_all (int fd, void *buf, size_t size)
{
  char *p = buf;
  size_t got = 0;
  while (got < size)
    {
      ssize_t r = read (fd, p + got, size - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return FALSE;
      got += (size_t) r;
    }
  return TRUE;
}

/* Sends a go and reads the child's reply; FALSE (REPLY_FAIL) when the child failed or died. */
static gboolean
child_turn (Child *c, Reply *reply)
{
  char go = 'g';
  reply->kind = REPLY_FAIL;
  reply->sps = 0;
  if (c->ctl < 0 || write (c->ctl, &go, 1) != 1 || !read_all (c->rep, reply, sizeof *reply))
    {
      reply->kind = REPLY_FAIL;
      return FALSE;
    }
  return reply->kind != REPLY_FAIL;
}

/* Ends the turns, reads the child's result and reaps it. */
static gboolean
child_finish (Child *c, void *result, size_t size, char *why, size_t why_len)
{
  close (c->ctl);
  c->ctl = -1;
  gboolean got = read_all (c->rep, result, size);
  close (c->rep);
  int status = 0;
  while (waitpid (c->pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!got)
    {
      if (WIFSIGNALED (status))
        g_snprintf (why, why_len, _("the measuring process died of signal %d (%s)"),
                    WTERMSIG (status), g_strsignal (WTERMSIG (status)));
      else
        g_snprintf (why, why_len, "%s", _("the measuring process exited without a result"));
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  const Options            *o;
  const WeftBenchModelInfo *info;
  int                       batch, threads;
} WeftJob;

static void
weft_job (void *arg, Turns *turns, void *result)
{
  WeftJob *j = arg;
  weft_measure (j->o, turns, j->info, j->batch, j->threads, result);
}

/* ---- the peer ---- */

static void
peer_result_clear (PeerResult *r)
{
  for (int p = 0; p < N_PHASES; p++)
    {
      for (int i = 0; i < r->phase[p].n; i++)
        g_free (r->phase[p].line[i]);
      g_free (r->phase[p].error);
    }
  memset (r, 0, sizeof *r);
}

/* One round: the peer measures one timed run of `phase`; its figure is appended to pp,
 * paired with Weft's run of the same round (weft_sps, filled in later when the peer goes
 * first). On failure pp->error says why and later rounds are skipped. */
static void
peer_round (const Options *o, const WeftBenchModelInfo *info, int batch, int threads,
            const char *core, int phase, PeerPhase *pp)
{
  if (pp->error != NULL || pp->n >= MAX_RUNS)
    return;
  g_autofree char *batch_s = g_strdup_printf ("%d", batch);
  g_autofree char *threads_s = g_strdup_printf ("%d", threads);
  g_autofree char *warm_s = g_strdup_printf ("%g", o->warmup_sec);
  g_autofree char *min_s = g_strdup_printf ("%g", o->min_run_sec);
  GPtrArray *argv = g_ptr_array_new ();
  g_ptr_array_add (argv, o->python);
  g_ptr_array_add (argv, o->peer);
  g_ptr_array_add (argv, "--model");
  g_ptr_array_add (argv, (char *) info->name);
  if (info->variant != NULL)
    {
      g_ptr_array_add (argv, "--variant");
      g_ptr_array_add (argv, (char *) info->variant);
    }
  const char *rest[] = { "--batch", batch_s, "--threads", threads_s, "--runs", "1",
                         "--warmup-sec", warm_s, "--min-run-sec", min_s, "--phases",
                         phase_names[phase], "--tag", "weft-bench" };
  for (gsize i = 0; i < G_N_ELEMENTS (rest); i++)
    g_ptr_array_add (argv, (char *) rest[i]);
  g_ptr_array_add (argv, NULL);

  /* the same OpenBLAS kernels as this process got */
  char **env = g_get_environ ();
  if (g_environ_getenv (env, "OPENBLAS_CORETYPE") == NULL && core != NULL)
    env = g_environ_setenv (env, "OPENBLAS_CORETYPE", core, FALSE);
  env = g_environ_unsetenv (env, "OPENBLAS_NUM_THREADS");

  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out,
                     &err, &status, &error))
    pp->error = g_strdup_printf (_("could not run %s: %s"), o->python, error->message);
  else if (!g_spawn_check_wait_status (status, &error))
    {
      g_strstrip (err);
      const char *last = strrchr (err, '\n');
      pp->error = g_strdup_printf (_("the peer failed (%s): %s"), error->message,
                                   last != NULL ? last + 1 : err);
    }
  else
    {
      char **lines = g_strsplit (out, "\n", -1);
      gboolean found = FALSE;
      for (int i = 0; lines[i] != NULL && !found; i++)
        {
          JsonNode *node = lines[i][0] == '{' ? json_from_string (lines[i], NULL) : NULL;
          JsonObject *obj = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                              ? json_node_get_object (node) : NULL;
          found = obj != NULL
                  && g_strcmp0 (json_object_get_string_member_with_default (obj, "phase", ""),
                                phase_names[phase]) == 0;
          double sps = found ? json_object_get_double_member_with_default (obj,
                                                                           "samples_per_s",
                                                                           NAN) : NAN;
          if (found && !(sps > 0))
            pp->error = g_strdup_printf (_("the peer printed no samples/s: %s"), lines[i]);
          else if (found)
            {
              double rss = json_object_get_double_member_with_default (obj, "peak_rss_mib",
                                                                       NAN);
              if (isfinite (rss) && !(rss <= pp->peak_rss_mib))
                pp->peak_rss_mib = rss;
              pp->line[pp->n] = g_strdup (g_strstrip (lines[i]));
              pp->sps[pp->n++] = sps;
            }
          if (node != NULL)
            json_node_unref (node);
        }
      if (!found)
        pp->error = g_strdup_printf (_("the peer printed no %s figures"), phase_names[phase]);
      g_strfreev (lines);
    }
  g_strfreev (env);
  g_ptr_array_free (argv, TRUE);
}

/* The peer's median, range and the median of the rounds' Weft/peer ratios. */
static void
peer_summarise (PeerPhase *pp)
{
  double ratio[MAX_RUNS];
  pp->median = pp->min = pp->max = pp->ratio = NAN;
  if (pp->n == 0 || pp->error != NULL)
    return;
  summarise (pp->sps, pp->n, &pp->median, &pp->min, &pp->max);
  for (int i = 0; i < pp->n; i++)
    ratio[i] = pp->weft[i] / pp->sps[i];
  pp->ratio = median_of (ratio, pp->n);
}

/* ---- output ---- */

static double
target_ratio (const char *name)
{
  if (strcmp (name, "seq_mlp") == 0)
    return 10;
  if (strcmp (name, "siamese_lstm") == 0 || strcmp (name, "qa_two_inputs") == 0)
    return 3;
  if (strcmp (name, "wide_mlp") == 0)
    return 1.2;
  return 1;
}

static char *
fmt_sps (double v)
{
  if (!isfinite (v))
    return g_strdup ("-");
  if (v >= 1e6)
    return g_strdup_printf ("%.2fM", v / 1e6);
  if (v >= 1e4)
    return g_strdup_printf ("%.1fk", v / 1e3);
  return g_strdup_printf ("%.0f", v);
}

static void
print_table_header (void)
{
  printf ("%-24s %5s %3s %-5s | %9s %9s %9s | %9s %9s %9s | %7s %6s | %8s %8s\n", "model",
          "batch", "thr", "phase", "weft", "min", "max", "pytorch", "min", "max", "ratio",
          "target", "weft MiB", "pt MiB");
  printf ("%.*s\n", 140, "--------------------------------------------------------------------"
          "------------------------------------------------------------------------------");
}

static void
print_table_row (const WeftBenchModelInfo *info, int batch, int threads, int phase,
                 const WeftResult *w, const PeerResult *pr)
{
  const PhaseResult *r = &w->phase[phase];
  const PeerPhase *pp = &pr->phase[phase];
  g_autofree char *a = fmt_sps (r->median), *b = fmt_sps (r->min), *c = fmt_sps (r->max);
  g_autofree char *d = fmt_sps (pp->median), *e = fmt_sps (pp->min), *f = fmt_sps (pp->max);
  char ratio[32] = "-", target[16] = "", prss[32] = "-";
  if (isfinite (pp->ratio))
    g_snprintf (ratio, sizeof ratio, "%.2fx", pp->ratio);
  if (phase == PHASE_TRAIN)
    g_snprintf (target, sizeof target, ">=%gx", target_ratio (info->name));
  if (isfinite (pp->ratio) && pp->peak_rss_mib > 0)
    g_snprintf (prss, sizeof prss, "%.1f", pp->peak_rss_mib);
  printf ("%-24s %5d %3d %-5s | %9s %9s %9s | %9s %9s %9s | %7s %6s | %8.1f %8s\n",
          info->label, batch, threads, phase_names[phase], a, b, c, d, e, f, ratio, target,
          r->peak_rss_mib, prss);
}

/* JSON members written by hand so that numbers keep the peer's rounding (json-glib prints
 * every double with 17 digits). */
static void
json_key (GString *out, const char *key)
{
  g_string_append_printf (out, "%s\"%s\": ", out->len > 1 ? ", " : "", key);
}

static void
json_str (GString *out, const char *key, const char *value)
{
  json_key (out, key);
  if (value == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = value; *c != '\0'; c++)
    if (*c == '"' || *c == '\\')
      g_string_append_printf (out, "\\%c", *c);
    else if ((unsigned char) *c < 0x20)
      g_string_append_printf (out, "\\u%04x", (unsigned char) *c);
    else
      g_string_append_c (out, *c);
  g_string_append_c (out, '"');
}

static void
json_num (GString *out, const char *key, double value, int decimals)
{
  json_key (out, key);
  if (isfinite (value))
    g_string_append_printf (out, "%.*f", decimals, value);
  else
    g_string_append (out, "null");
}

static void
json_runs (GString *out, const char *key, const double *sps, int n)
{
  json_key (out, key);
  g_string_append_c (out, '[');
  for (int i = 0; i < n; i++)
    g_string_append_printf (out, "%s%.1f", i > 0 ? ", " : "", sps[i]);
  g_string_append_c (out, ']');
}

static void
print_json_rows (const WeftBenchModelInfo *info, int batch, int threads, int phase,
                 const WeftResult *w, const PeerResult *pr)
{
  const PhaseResult *r = &w->phase[phase];
  GString *out = g_string_new ("{");
  json_str (out, "engine", "weft");
  json_str (out, "model", info->name);
  json_str (out, "variant", info->variant);
  json_num (out, "params", (double) w->params, 0);
  json_num (out, "keras_params", (double) info->keras_params, 0);
  json_key (out, "params_match");
  g_string_append (out, w->params == info->keras_params ? "true" : "false");
  json_num (out, "batch", batch, 0);
  json_num (out, "threads", threads, 0);
  json_num (out, "openblas_threads", w->blas_threads, 0);
  json_str (out, "openblas_core", w->core);
  json_str (out, "OPENBLAS_CORETYPE", g_getenv ("OPENBLAS_CORETYPE"));
  json_str (out, "phase", phase_names[phase]);
  json_num (out, "samples_per_s", r->median, 1);
  json_num (out, "samples_per_s_min", r->min, 1);
  json_num (out, "samples_per_s_max", r->max, 1);
  json_num (out, "ms_per_step", r->median > 0 ? 1e3 * batch / r->median : NAN, 4);
  json_num (out, "steps_per_run", r->steps, 0);
  json_runs (out, "runs", r->sps, r->n_runs);
  json_num (out, "cpu_util", r->cpu_util, 2);
  json_num (out, "peak_rss_mib", r->peak_rss_mib, 1);
  json_key (out, "peak_rss_is_per_phase");
  g_string_append (out, "true");
  json_num (out, "rss_start_mib", r->rss_start_mib, 1);
  json_num (out, "loadavg_start", r->load_start, 2);
  json_num (out, "loadavg_end", r->load_end, 2);
  const PeerPhase *pp = &pr->phase[phase];
  if (isfinite (pp->ratio))
    {
      json_num (out, "peer_samples_per_s", pp->median, 1);
      json_num (out, "peer_samples_per_s_min", pp->min, 1);
      json_num (out, "peer_samples_per_s_max", pp->max, 1);
      json_runs (out, "peer_runs", pp->sps, pp->n);
      /* the rounds alternate Weft-peer, peer-Weft: runs[i] and peer_runs[i] are neighbours */
      json_num (out, "ratio", pp->ratio, 2);
      json_str (out, "ratio_is", "median of the rounds' ratios");
      json_num (out, "peer_peak_rss_mib", pp->peak_rss_mib, 1);
    }
  if (phase == PHASE_TRAIN)
    json_num (out, "target_ratio", target_ratio (info->name), 1);
  g_string_append_c (out, '}');
  printf ("%s\n", out->str);
  g_string_free (out, TRUE);
  /* the peer's own lines (its numbers keep their rounding), tagged with their round */
  for (int i = 0; i < pp->n; i++)
    printf ("{\"engine\": \"pytorch\", \"round\": %d, %s\n", i, pp->line[i] + 1);
}

/* ---- sgemm at the Dense layers' shapes ---- */

typedef struct
{
  int        batch, in, units;
  int        act;
  gboolean   preact;   /* a softmax or sigmoid head trained with cross-entropy: as the
                          trainer runs it, its gradient arrives for the pre-activation */
  char       label[96];
  WeftValue  cfg[8];
} DenseShape;

typedef struct
{
  double   fwd, dx, dw, sgemm, weft, fraction;   /* GFLOP/s */
  gboolean sgemm_one_thread;   /* some product of the reference was faster at one thread */
} DenseResult;

typedef struct
{
  int        n;
  DenseShape shapes[64];
  int        threads;
  double     min_sec;
} DenseJob;

typedef struct
{
  gboolean    ok;
  char        error[200];
  char        core[64];
  DenseResult r[64];
} DenseOut;

typedef void (*CallFunc) (void *ctx);

/* Calls to time one way: fn(ctx) with OpenBLAS at blas_threads (0: Weft's own setting). */
typedef struct
{
  CallFunc fn;
  void    *ctx;
  int      blas_threads;
  long     calls;     /* per rep, calibrated to >= min_sec */
  double   rep[5];    /* seconds per call */
  double   sec;       /* their median */
} Timed;

static void
timed_reps (Timed *t, int threads, long calls, double *sec)
{
  if (t->blas_threads > 0)
    openblas_set_num_threads (t->blas_threads);
  else
    set_threads (threads);
  double t0 = now_sec ();
  for (long c = 0; c < calls; c++)
    t->fn (t->ctx);
  *sec = now_sec () - t0;
  if (t->blas_threads > 1)
    {
      /* OpenBLAS's threads spin for about 2^28 cycles after a product: let them go to sleep
       * before the next way runs, or they take its second CPU */
      struct timespec pause = { 0, 200 * 1000 * 1000 };
      nanosleep (&pause, NULL);
    }
}

/* Median seconds per call of each way over 5 reps of >= min_sec each, the ways taking
 * turns rep by rep so that all of them see the same state of the machine. */
static void
time_calls (Timed *ways, int n, int threads, double min_sec)
{
  for (int w = 0; w < n; w++)
    {
      Timed *t = &ways[w];
      double dt;
      timed_reps (t, threads, 1, &dt);
      for (t->calls = 1;; )
        {
          timed_reps (t, threads, t->calls, &dt);
          if (dt >= min_sec)
            break;
          long next = dt > 0 ? (long) (t->calls * 1.2 * min_sec / dt) + 1 : t->calls * 10;
          t->calls = next > t->calls * 10 ? t->calls * 10
                                          : (next > t->calls ? next : t->calls * 2);
        }
    }
  for (int r = 0; r < 5; r++)
    for (int w = 0; w < n; w++)
      {
        double dt;
        timed_reps (&ways[w], threads, ways[w].calls, &dt);
        ways[w].rep[r] = dt / ways[w].calls;
      }
  for (int w = 0; w < n; w++)
    ways[w].sec = median_of (ways[w].rep, 5);
}

typedef struct
{
  int          which;  /* 0 fwd, 1 dX, 2 dW, 3 Weft Dense forward + backward */
  const DenseShape *s;
  float       *x, *dx, *y, *dy, *w, *b, *dwk, *db, *aux, *scratch;
  WeftOpCtx    ctx;
} DenseCall;

static void
dense_call (void *p)
{
  DenseCall *c = p;
  const DenseShape *s = c->s;
  switch (c->which)
    {
    case 0:
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->batch, s->units, s->in, 1.0f,
                   c->x, s->in, c->w, s->units, 0.0f, c->y, s->units);
      break;
    case 1:
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->batch, s->in, s->units, 1.0f,
                   c->dy, s->units, c->w, s->units, 0.0f, c->dx, s->in);
      break;
    case 2:
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, s->in, s->units, s->batch, 1.0f,
                   c->x, s->in, c->dy, s->units, 0.0f, c->dwk, s->units);
      break;
    default:
      c->ctx.op->forward (&c->ctx);
      c->ctx.op->backward (&c->ctx);
      break;
    }
}

static float *
rand_floats (size_t n, GRand *rng)
{
  float *p = aligned_alloc (64, ((n > 0 ? n : 1) * sizeof (float) + 63) & ~(size_t) 63);
  if (p == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rng, -0.5, 0.5);
  return p;
}

static void
dense_job (void *arg, Turns *turns, void *result)
{
  (void) turns;   /* nothing else runs meanwhile */
  DenseJob *j = arg;
  DenseOut *out = result;
  memset (out, 0, sizeof *out);
  set_threads (j->threads);
  g_strlcpy (out->core, weft_blas_core_name (), sizeof out->core);
  const WeftOpDesc *op = weft_op_lookup ("Dense");
  GRand *rng = g_rand_new_with_seed (7);
  for (int i = 0; i < j->n; i++)
    {
      const DenseShape *s = &j->shapes[i];
      DenseCall c = { .s = s };
      gboolean r_one[3] = { FALSE, FALSE, FALSE };
      size_t nx = (size_t) s->batch * s->in, ny = (size_t) s->batch * s->units;
      size_t nw = (size_t) s->in * s->units;
      WeftShape in_shape = { 1, { s->in } }, out_shape = { 1, { s->units } };
      WeftOpArgs args = { .cfg = s->cfg, .in = &in_shape, .n_in = 1, .out = &out_shape };
      size_t n_aux = op->aux_size ? op->aux_size (&args, s->batch) : 0;
      size_t n_scratch = op->scratch_size ? op->scratch_size (&args, s->batch) : 0;
      c.x = rand_floats (nx, rng);
      c.dx = rand_floats (nx, rng);
      c.y = rand_floats (ny, rng);
      c.dy = rand_floats (ny, rng);
      c.w = rand_floats (nw, rng);
      c.b = rand_floats ((size_t) s->units, rng);
      c.dwk = rand_floats (nw, rng);
      c.db = rand_floats ((size_t) s->units, rng);
      c.aux = rand_floats (n_aux, rng);
      c.scratch = rand_floats (n_scratch, rng);
      WeftRng wr;
      weft_rng_seed (&wr, 1);
      WeftOpCtx *x = &c.ctx;
      x->op = op;
      x->cfg = s->cfg;
      x->batch = s->batch;
      x->training = true;
      x->n_in = 1;
      x->in[0] = c.x;
      x->din[0] = c.dx;
      x->in_shape[0] = in_shape;
      x->out = c.y;
      x->dout = c.dy;
      x->out_shape = out_shape;
      x->w[0] = c.w;
      x->w[1] = c.b;
      x->dw[0] = c.dwk;
      x->dw[1] = c.db;
      x->aux = c.aux;
      x->scratch = c.scratch;
      x->rng = &wr;
      x->threads = j->threads;
      /* as the plan runs a layer of a plain chain: it writes its gradients first */
      x->din_assign[0] = x->dw_assign[0] = x->dw_assign[1] = true;
      x->dout_preact = s->preact;
      /* OpenBLAS at its best for each product: at one thread too when more are asked for
       * (it splits products from 262,144 multiply-adds on, which at these shapes often
       * makes them slower on shared vCPUs); Weft at the thread count asked for */
      DenseCall calls[7];
      Timed ways[7];
      int n_ways = 0;
      for (int k = 0; k < (j->threads > 1 ? 7 : 4); k++)
        {
          calls[k] = c;
          calls[k].which = k < 3 ? k : k == 3 ? 3 : k - 4;
          ways[n_ways++] = (Timed) { dense_call, &calls[k],
                                     k == 3 ? 0 : k < 3 ? j->threads : 1 };
        }
      time_calls (ways, n_ways, j->threads, j->min_sec);
      double t[4];
      for (int k = 0; k < 4; k++)
        t[k] = ways[k].sec;
      for (int k = 4; k < n_ways; k++)
        {
          r_one[k - 4] = ways[k].sec < t[k - 4];
          t[k - 4] = MIN (t[k - 4], ways[k].sec);
        }
      double flops = 2.0 * s->batch * s->in * s->units;
      DenseResult *r = &out->r[i];
      r->sgemm_one_thread = r_one[0] || r_one[1] || r_one[2];
      r->fwd = flops / t[0] * 1e-9;
      r->dx = flops / t[1] * 1e-9;
      r->dw = flops / t[2] * 1e-9;
      r->sgemm = 3 * flops / (t[0] + t[1] + t[2]) * 1e-9;
      r->weft = 3 * flops / t[3] * 1e-9;
      r->fraction = r->weft / r->sgemm;
      free (c.x); free (c.dx); free (c.y); free (c.dy); free (c.w); free (c.b);
      free (c.dwk); free (c.db); free (c.aux); free (c.scratch);
    }
  g_rand_free (rng);
  out->ok = TRUE;
}

/* The Dense layers of the selected models, one per distinct (batch, in, units, act). */
static void
collect_dense (const WeftBenchModelInfo *info, int batch, DenseJob *job)
{
  WeftGraph *g = weft_bench_model_build (info->label, NULL);
  if (g == NULL)
    return;
  /* the heads whose activation the trainer fuses with their cross-entropy */
  WeftPlan *plan = weft_plan_new (g, 1, 1, NULL);
  for (int i = 0; i < weft_graph_n_layers (g); i++)
    {
      WeftId l = weft_graph_layer_at (g, i);
      const WeftOpDesc *op = weft_graph_layer_op (g, l);
      if (op == NULL || strcmp (op->name, "Dense") != 0 || op->n_params > 8)
        continue;
      int n = 0;
      const WeftWeight *w = weft_graph_layer_weights (g, l, &n);
      if (n < 1 || w[0].spec.shape.rank != 2)
        continue;
      const WeftValue *cfg = weft_graph_layer_config (g, l);
      int act = (int) cfg[weft_op_param_index (op, "activation")].num;
      int in = w[0].spec.shape.dims[0], units = w[0].spec.shape.dims[1];
      gboolean preact = FALSE;
      for (int j = 0; plan != NULL && j < weft_plan_n_outputs (plan); j++)
        {
          const WeftHead *h = weft_plan_head (plan, j);
          WeftLossSpec spec = { .loss = h->loss, .from_logits = h->from_logits };
          preact |= strcmp (weft_plan_output_name (plan, j), weft_graph_get_name (g, l)) == 0
                    && weft_loss_fuses_activation (&spec, weft_plan_output_activation (plan, j));
        }
      gboolean dup = FALSE;
      for (int k = 0; k < job->n; k++)
        dup |= job->shapes[k].batch == batch && job->shapes[k].in == in
               && job->shapes[k].units == units && job->shapes[k].act == act
               && job->shapes[k].preact == preact;
      if (dup || job->n >= (int) G_N_ELEMENTS (job->shapes))
        continue;
      DenseShape *s = &job->shapes[job->n++];
      s->batch = batch;
      s->in = in;
      s->units = units;
      s->act = act;
      s->preact = preact;
      memcpy (s->cfg, cfg, (size_t) op->n_params * sizeof (WeftValue));
      g_snprintf (s->label, sizeof s->label, "%s/%s", info->label, weft_graph_get_name (g, l));
    }
  weft_plan_free (plan);
  weft_graph_free (g);
#ifdef __GLIBC__
  /* the freed weights must not stay resident here: every measurement is a fork of this
   * process, and pages it inherits count in its peak RSS */
  malloc_trim (0);
#endif
}

static gboolean
run_dense_section (const Options *o, DenseJob *job)
{
  gboolean ok = TRUE;
  if (job->n == 0)
    return TRUE;
  if (!o->json)
    {
      printf ("\n%s\n", _("Dense layers vs OpenBLAS sgemm at the same shapes (GFLOP/s; "
                            "forward + dX + dW = 3 GEMMs; Weft = Dense forward + backward incl. "
                            "bias and activation)"));
      printf ("%s\n", _("sgemm = OpenBLAS at the faster thread count for each product (one or "
                         "the count asked for; * = one); weft = the layer as a plain chain runs "
                         "it (gradients assigned, not added); +ce = a softmax or sigmoid head "
                         "whose cross-entropy hands it the pre-activation gradient, as in "
                         "training"));
      printf ("%-28s %5s %5s %5s %-10s %3s | %7s %7s %7s %7s | %7s %6s\n", "layer", "batch",
              "in", "units", "act", "thr", "fwd", "dX", "dW", "sgemm", "weft", "frac");
    }
  for (int ti = 0; ti < o->n_threads; ti++)
    {
      job->threads = o->threads[ti];
      job->min_sec = 0.05;
      DenseOut *out = g_new0 (DenseOut, 1);
      char why[256];
      Child child;
      if (!child_start (&child, dense_job, job, out, sizeof *out, why, sizeof why)
          || !child_finish (&child, out, sizeof *out, why, sizeof why) || !out->ok)
        {
          g_printerr (_("weft bench: dense section: %s\n"), out->ok ? why : out->error);
          ok = FALSE;
          g_free (out);
          continue;
        }
      for (int i = 0; i < job->n; i++)
        {
          const DenseShape *s = &job->shapes[i];
          const DenseResult *r = &out->r[i];
          char act[32];
          g_snprintf (act, sizeof act, "%s%s", weft_activation_names[s->act],
                      s->preact ? "+ce" : "");
          if (o->json)
            printf ("{\"section\": \"dense_sgemm\", \"layer\": \"%s\", \"batch\": %d, "
                    "\"in\": %d, \"units\": %d, \"activation\": \"%s\", \"threads\": %d, "
                    "\"openblas_core\": \"%s\", \"sgemm_gflops_fwd\": %.2f, "
                    "\"sgemm_gflops_dx\": %.2f, \"sgemm_gflops_dw\": %.2f, "
                    "\"sgemm_gflops\": %.2f, \"sgemm_one_thread_faster\": %s, "
                    "\"weft_dense_gflops\": %.2f, \"fraction\": %.3f}\n", s->label, s->batch,
                    s->in, s->units, act, job->threads, out->core, r->fwd, r->dx, r->dw,
                    r->sgemm, r->sgemm_one_thread ? "true" : "false", r->weft, r->fraction);
          else
            printf ("%-28s %5d %5d %5d %-10s %3d | %7.1f %7.1f %7.1f %6.1f%s | %7.1f %5.0f%%\n",
                    s->label, s->batch, s->in, s->units, act, job->threads, r->fwd, r->dx,
                    r->dw, r->sgemm, r->sgemm_one_thread ? "*" : " ", r->weft,
                    100 * r->fraction);
        }
      fflush (stdout);
      g_free (out);
    }
  return ok;
}

/* ---- the rounds ---- */

/* Measures one model, batch and thread count: a forked Weft child and the peer take turns,
 * round by round, phase by phase (see the top of this file). */
static gboolean
measure_rounds (const Options *o, WeftJob *job, const char *core, WeftResult *w,
                PeerResult *pr, char *why, size_t why_len)
{
  Child child;
  if (!child_start (&child, weft_job, job, w, sizeof *w, why, why_len))
    return FALSE;
  gboolean ok = TRUE;
  for (int p = 0; p < N_PHASES && ok; p++)
    {
      PeerPhase *pp = &pr->phase[p];
      Reply reply;
      if (!o->phase[p])
        continue;
      /* prepare: build, warm up and calibrate, while the peer waits */
      ok = child_turn (&child, &reply);
      for (int i = 0; i < o->runs && ok; i++)
        {
          gboolean peer_first = i % 2 == 1;
          if (peer_first && !o->no_peer)
            peer_round (o, job->info, job->batch, job->threads, core, p, pp);
          ok = child_turn (&child, &reply);
          pp->weft[i] = reply.sps;
          if (!peer_first && ok && !o->no_peer)
            peer_round (o, job->info, job->batch, job->threads, core, p, pp);
        }
      peer_summarise (pp);
    }
  return child_finish (&child, w, sizeof *w, why, why_len);
}

/* ---- main ---- */

static gboolean
parse_threads (Options *o, GError **error)
{
  char **parts = g_strsplit (o->threads_spec, ",", -1);
  o->n_threads = 0;
  for (int i = 0; parts[i] != NULL; i++)
    {
      char *end = NULL;
      long v = strtol (parts[i], &end, 10);
      if (end == parts[i] || *end != '\0' || v < 1 || v > 256 || o->n_threads >= MAX_THREADS)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--threads takes up to %d comma-separated counts in 1..256, not '%s'"),
                       MAX_THREADS, o->threads_spec);
          g_strfreev (parts);
          return FALSE;
        }
      o->threads[o->n_threads++] = (int) v;
    }
  g_strfreev (parts);
  if (o->n_threads == 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("--threads is empty"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_phases (Options *o, GError **error)
{
  char **parts = g_strsplit (o->phases_spec, ",", -1);
  o->phase[PHASE_TRAIN] = o->phase[PHASE_INFER] = FALSE;
  for (int i = 0; parts[i] != NULL; i++)
    {
      int p;
      for (p = 0; p < N_PHASES; p++)
        if (strcmp (g_strstrip (parts[i]), phase_names[p]) == 0)
          break;
      if (p == N_PHASES)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("unknown phase '%s' (train, infer)"), parts[i]);
          g_strfreev (parts);
          return FALSE;
        }
      o->phase[p] = TRUE;
    }
  g_strfreev (parts);
  if (!o->phase[PHASE_TRAIN] && !o->phase[PHASE_INFER])
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("no phase selected"));
      return FALSE;
    }
  return TRUE;
}

static int
usage_error (GOptionContext *ctx, const char *message)
{
  g_printerr ("weft bench: %s\n", message);
  g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);
  g_printerr ("%s", help);
  return 2;
}

int
weft_bench_main (int argc, char **argv)
{
  Options o = { .runs = 5, .warmup_sec = 1.0, .min_run_sec = 1.0 };
  g_autofree char *models_help = NULL;
  GString *names = g_string_new ("all");
  for (int i = 0; i < weft_bench_model_count (); i++)
    g_string_append_printf (names, ", %s", weft_bench_model_info (i)->label);
  models_help = g_strdup_printf (_("Model to measure: %s (default all)"), names->str);
  g_string_free (names, TRUE);
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &o.model, models_help, "NAME" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &o.batch,
      N_("Batch size (default: every batch size of the model's spec)"), "N" },
    { "threads", 't', 0, G_OPTION_ARG_STRING, &o.threads_spec,
      N_("Thread counts to measure (default 1,2)"), "1,2" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &o.runs,
      N_("Timed runs after the warm-up, one per round with the peer (default 5)"), "N" },
    { "warmup-sec", 0, 0, G_OPTION_ARG_DOUBLE, &o.warmup_sec,
      N_("Warm-up seconds per phase (default 1)"), "S" },
    { "min-run-sec", 0, 0, G_OPTION_ARG_DOUBLE, &o.min_run_sec,
      N_("Minimum seconds per timed run (default 1)"), "S" },
    { "phases", 0, 0, G_OPTION_ARG_STRING, &o.phases_spec,
      N_("Phases to measure (default train,infer)"), "train,infer" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json,
      N_("Print JSON lines (the peer's fields) instead of a table"), NULL },
    { "no-peer", 0, 0, G_OPTION_ARG_NONE, &o.no_peer, N_("Do not run the PyTorch peer"), NULL },
    { "no-sgemm", 0, 0, G_OPTION_ARG_NONE, &o.no_sgemm,
      N_("Skip the Dense-vs-sgemm section"), NULL },
    { "peer", 0, 0, G_OPTION_ARG_FILENAME, &o.peer,
      N_("Path of peer_torch.py (default: ../shared/bench/peer_torch.py next to the sources)"),
      "PATH" },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &o.python,
      N_("Python interpreter for the peer (default /usr/bin/python3)"), "PATH" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new (N_("- training and inference speed of the "
                                                 "reference models, next to PyTorch"));
  g_option_context_set_translation_domain (ctx, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      status = usage_error (ctx, error->message);
      goto out;
    }
  if (argc > 1)
    {
      g_autofree char *m = g_strdup_printf (_("unexpected argument '%s'"), argv[1]);
      status = usage_error (ctx, m);
      goto out;
    }
  if (o.threads_spec == NULL)
    o.threads_spec = g_strdup ("1,2");
  if (o.phases_spec == NULL)
    o.phases_spec = g_strdup ("train,infer");
  if (o.model == NULL)
    o.model = g_strdup ("all");
  if (o.python == NULL)
    o.python = g_strdup ("/usr/bin/python3");
  if (o.peer == NULL)
    o.peer = g_build_filename (WEFT_SOURCE_DIR, "..", "shared", "bench", "peer_torch.py",
                               NULL);
  if (!parse_threads (&o, &error) || !parse_phases (&o, &error))
    {
      status = usage_error (ctx, error->message);
      goto out;
    }
  if (o.runs < 1 || o.runs > MAX_RUNS)
    {
      status = usage_error (ctx, _("--runs must be in 1..64"));
      goto out;
    }
  if (o.batch < 0 || o.batch > 65536)
    {
      status = usage_error (ctx, _("--batch must be in 1..65536"));
      goto out;
    }
  if (!(o.warmup_sec >= 0 && o.warmup_sec < 3600 && o.min_run_sec > 0 && o.min_run_sec < 3600))
    {
      status = usage_error (ctx, _("--warmup-sec and --min-run-sec must be in 0..3600 seconds"));
      goto out;
    }
  const WeftBenchModelInfo *selected[32];
  int n_selected = 0;
  if (strcmp (o.model, "all") == 0)
    for (int i = 0; i < weft_bench_model_count () && n_selected < 32; i++)
      selected[n_selected++] = weft_bench_model_info (i);
  else
    {
      char **parts = g_strsplit (o.model, ",", -1);
      for (int i = 0; parts[i] != NULL && n_selected < 32; i++)
        {
          const WeftBenchModelInfo *info = weft_bench_model_lookup (g_strstrip (parts[i]));
          if (info == NULL)
            {
              g_autofree char *m = g_strdup_printf (_("unknown model '%s'"), parts[i]);
              g_strfreev (parts);
              status = usage_error (ctx, m);
              goto out;
            }
          selected[n_selected++] = info;
        }
      g_strfreev (parts);
    }
  if (!o.no_peer && (!g_file_test (o.peer, G_FILE_TEST_IS_REGULAR)
                     || !g_file_test (o.python, G_FILE_TEST_IS_EXECUTABLE)))
    {
      g_printerr (_("weft bench: no peer: %s or %s is missing (use --peer PATH / --python "
                    "PATH, or --no-peer)\n"), o.peer, o.python);
      o.no_peer = TRUE;
    }

  const char *core = weft_blas_core_name ();
  const char *coretype = g_getenv ("OPENBLAS_CORETYPE");
  if (!o.json)
    {
      printf (_("weft bench: OpenBLAS core %s (OPENBLAS_CORETYPE=%s; the peer gets the same), "
                "%ld CPUs online, load %.2f\n"), core, coretype != NULL ? coretype : _("unset"),
              sysconf (_SC_NPROCESSORS_ONLN), load_avg ());
      printf (_("samples/s: median of %d runs of >= %gs after >= %gs warm-up; train = forward "
                "+ loss + backward + Adam step; RSS = peak per phase (MiB)\n"), o.runs,
              o.min_run_sec, o.warmup_sec);
      if (!o.no_peer)
        {
          printf (_("peer: %s %s\n"), o.python, o.peer);
          printf ("%s\n", _("Weft and the peer take turns, one timed run each per round (Weft "
                            "first, then the peer first, ...); ratio = median of the rounds' "
                            "ratios"));
        }
      printf ("\n");
      print_table_header ();
    }
  fflush (stdout);

  DenseJob *dense = g_new0 (DenseJob, 1);
  for (int mi = 0; mi < n_selected; mi++)
    {
      const WeftBenchModelInfo *info = selected[mi];
      int batches[2], n_b = 0;
      if (o.batch > 0)
        batches[n_b++] = o.batch;
      else
        for (int k = 0; k < 2; k++)
          if (info->batch_sizes[k] > 0)
            batches[n_b++] = info->batch_sizes[k];
      for (int bi = 0; bi < n_b; bi++)
        {
          collect_dense (info, batches[bi], dense);
          for (int ti = 0; ti < o.n_threads; ti++)
            {
              int threads = o.threads[ti];
              WeftJob job = { &o, info, batches[bi], threads };
              WeftResult *w = g_new0 (WeftResult, 1);
              PeerResult pr = { 0 };
              char why[256] = "";
              if (!measure_rounds (&o, &job, core, w, &pr, why, sizeof why))
                g_strlcpy (w->error, why, sizeof w->error);
              if (!w->ok)
                {
                  g_printerr (_("weft bench: %s batch %d threads %d: %s\n"), info->label,
                              batches[bi], threads, w->error);
                  status = 1;
                }
              for (int p = 0; p < N_PHASES; p++)
                {
                  if (pr.phase[p].error != NULL)
                    g_printerr (_("weft bench: peer %s batch %d threads %d: %s\n"),
                                info->label, batches[bi], threads, pr.phase[p].error);
                  if (w->ok && w->phase[p].measured)
                    {
                      if (o.json)
                        print_json_rows (info, batches[bi], threads, p, w, &pr);
                      else
                        print_table_row (info, batches[bi], threads, p, w, &pr);
                    }
                }
              fflush (stdout);
              peer_result_clear (&pr);
              g_free (w);
            }
        }
    }
  if (!o.no_sgemm && !run_dense_section (&o, dense))
    status = 1;
  g_free (dense);

out:
  g_option_context_free (ctx);
  g_free (o.model);
  g_free (o.threads_spec);
  g_free (o.phases_spec);
  g_free (o.peer);
  g_free (o.python);
  return status;
}
