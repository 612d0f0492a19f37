/* introspect.stats, second source file: the Lua side of the study's Bayesian posterior:
 * stats.posterior, the bulk stats.fit_many (its posteriors on worker threads), and
 * stats.loglik_floor for make bench. The sampler itself is bindings/stats_sampler.c, the module
 * table bindings/stats.c, the shared declarations bindings/stats_internal.h. See
 * docs/statistics.md. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"
#include "stats_internal.h"

#define POSTERIOR_OPTS "draws", "seed", "rng", "slope_sd", "intercept_df", "intercept_location", \
  "intercept_scale", "proposal_df", "quantiles", "keep_draws", "weights", "intercept"
static const char *const POSTERIOR_KEYS[] = {POSTERIOR_OPTS, NULL};
static const char *const FIT_MANY_KEYS[] = {POSTERIOR_OPTS, "method", "prior_sd",
                                            "intercept_sd", "max_iter", "threads", NULL};

/* Reads the posterior options at oi (draws, proposal_df, quantiles, keep_draws). Stack: 0. */
static void read_post_opts(lua_State *L, int oi, PostOpts *o) {
  o->nq = 3;
  o->qs[0] = 0.025, o->qs[1] = 0.5, o->qs[2] = 0.975;
  if (!lua_isnoneornil(L, oi) && lua_getfield(L, oi, "quantiles") != LUA_TNIL) {
    o->nq = (size_t)luaL_len(L, -1);
    if (o->nq > 16) luaL_error(L, "option 'quantiles': at most 16 levels");
    for (size_t i = 0; i < o->nq; i++) {
      lua_geti(L, -1, (lua_Integer)i + 1);
      o->qs[i] = lua_tonumber(L, -1);
      if (!(o->qs[i] > 0 && o->qs[i] < 1))
        luaL_error(L, "option 'quantiles': levels must be in (0, 1)");
      lua_pop(L, 1);
    }
  }
  if (!lua_isnoneornil(L, oi)) lua_pop(L, 1);
  double M = stats_opt_number(L, oi, "draws", 4000);
  if (!(M >= 100 && M <= 1e8) || fmod(M, 2) != 0)
    luaL_error(L, "option 'draws' must be an even number >= 100");
  o->M = (size_t)M;
  o->nu = stats_opt_number(L, oi, "proposal_df", 7);
  if (!(o->nu > 0)) luaL_error(L, "option 'proposal_df' must be positive");
  o->keep = stats_opt_bool(L, oi, "keep_draws", 0);
}

/* Pushes a workspace for groups of up to nmax observations and d coefficients (one userdata).
 * Stack: +1. */
static void push_work(lua_State *L, const PostOpts *o, size_t nmax, size_t d, Work *wk) {
  size_t bytes = stats_work_carve(NULL, NULL, o->M, nmax, d);
  stats_work_carve(wk, lua_newuserdatauv(L, bytes, 0), o->M, nmax, d);
}

/* Pushes the posterior summary table of s (see stats.posterior). Stack: +1. */
static void push_summary(lua_State *L, const Summary *s, const PostOpts *o) {
  size_t d = s->d;
  lua_createtable(L, 0, 14);
  stats_push_vector(L, s->mean + 1, d - 1, 1);
  lua_setfield(L, -2, "coef");
  stats_push_vector(L, s->sd + 1, d - 1, 1);
  lua_setfield(L, -2, "sd");
  stats_push_vector(L, s->mcse + 1, d - 1, 1);
  lua_setfield(L, -2, "mcse");
  stats_set_number(L, "intercept", s->mean[0]);
  stats_set_number(L, "intercept_sd", s->sd[0]);
  stats_set_number(L, "intercept_mcse", s->mcse[0]);
  stats_set_number(L, "ess", s->ess);
  stats_set_number(L, "khat", s->khat);
  lua_createtable(L, (int)o->nq, 0);
  for (size_t i = 0; i < o->nq; i++) {
    lua_createtable(L, 0, 3);
    stats_set_number(L, "q", o->qs[i]);
    stats_set_number(L, "intercept", s->q[i][0]);
    stats_push_vector(L, s->q[i] + 1, d - 1, 1);
    lua_setfield(L, -2, "coef");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "quantiles");
  if (s->draws) {
    lua_createtable(L, (int)o->M, 0);
    for (size_t k = 0; k < o->M; k++) {
      stats_push_vector(L, s->draws + k * d, d, 1);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "draws");
  }
  lua_pushinteger(L, (lua_Integer)o->M);
  lua_setfield(L, -2, "draw_count");
  stats_push_vector(L, s->mode + 1, d - 1, 1);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, (lua_Integer)s->n);
  lua_setfield(L, -2, "n");
}

/* Pushes the summary of s, or nil, err. Returns the number pushed. */
static int push_summary_or_error(lua_State *L, const Summary *s, const PostOpts *o) {
  if (s->err) {
    lua_pushnil(L);
    lua_pushstring(L, s->err);
    return 2;
  }
  push_summary(L, s, o);
  return 1;
}

/* stats.posterior(X, y [, opts]) -> post | nil, err: the study's Bayesian logistic regression
 * (slopes ~ Normal(0, slope_sd); centred intercept ~ Student-t(3, 0, 2.5)) by importance
 * sampling. opts: draws, seed | rng, slope_sd, intercept_df/location/scale, proposal_df,
 * quantiles, keep_draws, weights. */
static int l_posterior(lua_State *L) {
  Problem p;
  double means[MAX_COEF];
  PostOpts o;
  Work wk;
  Summary *s;
  stats_check_fit_args(L, "stats.posterior", POSTERIOR_KEYS);
  read_post_opts(L, 3, &o);
  gsl_rng *r = stats_call_rng(L, 3);
  stats_build_problem(L, "stats.posterior", 1, 2, 3, &p, 1, means);
  push_work(L, &o, p.n, p.d, &wk);
  s = lua_newuserdatauv(L, sizeof(Summary), 0);
  s->draws = o.keep ? stats_scratch(L, o.M * p.d) : NULL;
  stats_posterior_fit(&p, means, r, &o, &wk, s);
  return push_summary_or_error(L, s, &o);
}

/* ---------------------------------------------------------------- many posteriors, threaded */

/* Pushes groups[g] (groups at index 1, opts at 2), its X, y and weights, and when it has weights
 * a copy of opts with them merged in. Returns the index of the group table (X, y at +1, +2) and
 * sets *oi to the options index to build the problem with. */
static int push_group(lua_State *L, lua_Integer g, const char *where, int *oi) {
  if (lua_geti(L, 1, g) != LUA_TTABLE) luaL_error(L, "%s is not a table", where);
  int gi = lua_gettop(L);
  lua_getfield(L, gi, "X");
  lua_getfield(L, gi, "y");
  *oi = 2;
  if (lua_getfield(L, gi, "weights") != LUA_TNIL) {
    lua_newtable(L);
    if (!lua_isnil(L, 2)) {
      lua_pushnil(L);
      while (lua_next(L, 2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -3);
      }
    }
    lua_pushvalue(L, gi + 3);
    lua_setfield(L, -2, "weights");
    *oi = lua_gettop(L);
  }
  return gi;
}

/* The shared state of a threaded fit_many: workers take the next group index atomically; they
 * read only C data (problems built beforehand) and write only their groups' summaries. */
typedef struct {
  const Problem *probs;
  const double *means;          /* count x MAX_COEF */
  const unsigned long *seeds;   /* one generator seed per group */
  Summary *out;
  size_t count;
  const PostOpts *o;
  volatile sig_atomic_t *flag;  /* the host's Ctrl-C flag or NULL: workers stop taking groups */
  atomic_size_t next;
} Batch;

typedef struct {
  Batch *b;
  Work wk;
  gsl_rng *r;
} Worker;

/* Worker thread: fits groups until none are left (or Ctrl-C). */
static void *worker_main(void *arg) {
  Worker *w = arg;
  Batch *b = w->b;
  for (;;) {
    if (b->flag && *b->flag) break;
    size_t g = atomic_fetch_add(&b->next, 1);
    if (g >= b->count) break;
    gsl_rng_set(w->r, b->seeds[g]);
    stats_posterior_fit(&b->probs[g], b->means + g * MAX_COEF, w->r, b->o, &w->wk, &b->out[g]);
  }
  return NULL;
}

/* Number of worker threads: opts.threads, or the online processors (at most 64). */
static int thread_count(lua_State *L, int oi, size_t groups) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  double t = stats_opt_number(L, oi, "threads", (double)(n > 0 ? n : 1));
  if (!(t >= 1 && t <= 64)) luaL_error(L, "option 'threads' must be in 1..64");
  int k = (int)t;
  return (size_t)k > groups ? (groups > 0 ? (int)groups : 1) : k;
}

/* Fits the study posterior of every group at stack index 1 (opts at 2, generator at 3) on
 * worker threads and pushes the results array. Group g samples from its own mt19937 seeded
 * seed + g - 1 (or from successive outputs of opts.rng), so results do not depend on the
 * number of threads and group 1 matches stats.posterior with the same seed. Stack: +1. */
static int fit_many_posterior(lua_State *L, lua_Integer count, gsl_rng *master) {
  PostOpts o;
  read_post_opts(L, 2, &o);
  int anchor = lua_gettop(L) + 1;
  lua_createtable(L, (int)count, 0);
  int nanchor = 0;
  size_t n = count > 0 ? (size_t)count : 1;
  Problem *probs = lua_newuserdatauv(L, n * sizeof(Problem), 0);
  double *means = stats_scratch(L, n * MAX_COEF);
  unsigned long *seeds = lua_newuserdatauv(L, n * sizeof(unsigned long), 0);
  Summary *out = lua_newuserdatauv(L, n * sizeof(Summary), 0);
  for (int k = 0; k < 4; k++) lua_rawseti(L, anchor, ++nanchor);
  unsigned long seed = (unsigned long)stats_opt_number(L, 2, "seed", 1);
  int have_rng = 0;
  if (!lua_isnil(L, 2)) {
    lua_getfield(L, 2, "rng");
    have_rng = !lua_isnil(L, -1);
    lua_pop(L, 1);
  }
  size_t nmax = 0, dmax = 1;
  char where[64];
  for (lua_Integer g = 1; g <= count; g++) {
    int base = lua_gettop(L);
    snprintf(where, sizeof where, "stats.fit_many: groups[%d]", (int)g);
    int oi, gi = push_group(L, g, where, &oi);
    int built = lua_gettop(L);
    stats_build_problem(L, where, gi + 1, gi + 2, oi, &probs[g - 1], 1, means + (g - 1) * MAX_COEF);
    while (lua_gettop(L) > built) lua_rawseti(L, anchor, ++nanchor); /* keep the buffers */
    lua_settop(L, base);
    Summary *s = &out[g - 1];
    s->draws = NULL;
    if (o.keep) {
      s->draws = stats_scratch(L, o.M * probs[g - 1].d);
      lua_rawseti(L, anchor, ++nanchor);
    }
    seeds[g - 1] = have_rng ? gsl_rng_get(master) : seed + (unsigned long)(g - 1);
    if (probs[g - 1].n > nmax) nmax = probs[g - 1].n;
    if (probs[g - 1].d > dmax) dmax = probs[g - 1].d;
  }
  int nthreads = thread_count(L, 2, (size_t)count);
  Batch b = {probs, means, seeds, out, (size_t)count, &o, binding_interrupt_flag(L), 0};
  atomic_init(&b.next, 0);
  Worker *ws = lua_newuserdatauv(L, sizeof(Worker) * (size_t)nthreads, 0);
  lua_rawseti(L, anchor, ++nanchor);
  for (int t = 0; t < nthreads; t++) {
    ws[t].b = &b;
    push_work(L, &o, nmax, dmax, &ws[t].wk);
    lua_rawseti(L, anchor, ++nanchor);
    ws[t].r = stats_new_rng(L, 1)->r; /* a handle: freed by the GC even if something raises */
    lua_rawseti(L, anchor, ++nanchor);
  }
  pthread_t tid[64];
  int started = 0;
  for (int t = 1; t < nthreads; t++) {
    if (pthread_create(&tid[t], NULL, worker_main, &ws[t]) != 0) break;
    started = t;
  }
  worker_main(&ws[0]); /* the calling thread works too */
  for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
  if (b.flag && *b.flag) return luaL_error(L, "interrupted!");
  lua_createtable(L, (int)count, 0);
  for (lua_Integer g = 1; g <= count; g++) {
    if (push_summary_or_error(L, &out[g - 1], &o) == 2) {
      lua_createtable(L, 0, 1);
      lua_insert(L, -2);
      lua_setfield(L, -2, "error");
      lua_remove(L, -2);
    }
    lua_rawseti(L, -2, g);
  }
  return 1;
}

/* stats.fit_many(groups [, opts]) -> results: fits every group {X=, y= [, weights=]}.
 * opts.method: "posterior" (default; on opts.threads worker threads, default one per
 * processor), "map" (the study posterior's mode), "ml"; other options as for stats.posterior /
 * stats.logistic. A failed group gives {error = message}. */
static int l_fit_many(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  const char *method = "posterior";
  if (!lua_isnil(L, 2)) {
    binding_check_options(L, 2, "stats.fit_many", FIT_MANY_KEYS);
    lua_getfield(L, 2, "method");
    if (lua_isstring(L, -1)) method = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  int kind = strcmp(method, "posterior") == 0 ? 0 : strcmp(method, "map") == 0 ? 1
             : strcmp(method, "ml") == 0 ? 2 : -1;
  if (kind < 0) luaL_argerror(L, 2, "option 'method' must be posterior, map or ml");
  int max_iter = (int)stats_opt_number(L, 2, "max_iter", 200);
  gsl_rng *r = stats_call_rng(L, 2); /* stack 3 */
  lua_Integer count = luaL_len(L, 1);
  if (kind == 0) return fit_many_posterior(L, count, r);
  lua_createtable(L, (int)count, 0); /* stack 4 */
  char where[64];
  for (lua_Integer g = 1; g <= count; g++) {
    stats_check_interrupt(L);
    snprintf(where, sizeof where, "stats.fit_many: groups[%d]", (int)g);
    int oi;
    push_group(L, g, where, &oi);
    Problem p;
    double means[MAX_COEF];
    stats_build_problem(L, where, 6, 7, oi, &p, kind != 2, means); /* group at 5: X 6, y 7 */
    int nres = stats_fit_and_push(L, &p, 1, kind == 1 ? means : NULL, max_iter);
    if (nres == 2) {
      lua_createtable(L, 0, 1);
      lua_insert(L, -2);
      lua_setfield(L, -2, "error");
      lua_remove(L, -2);
    }
    lua_rawseti(L, 4, g);
    lua_settop(L, 4);
  }
  return 1;
}

/* stats.loglik_floor(groups [, {draws=4000, seed=1}]) -> seconds, checksum: the floor a
 * posterior sampler cannot go below: evaluates each group's log-likelihood
 * sum_i y_i eta_i - log(1 + exp(eta_i)) with the plain formula, on one thread, at `draws`
 * coefficient vectors (uniform in +-0.5 around zero, generated beforehand and not timed).
 * Returns the wall seconds of the evaluations alone and the sum of all log-likelihoods (so none
 * is optimised away). For make bench (tests/bench/stats.lua). */
static int l_loglik_floor(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  static const char *const keys[] = {"draws", "seed", NULL};
  binding_check_options(L, 2, "stats.loglik_floor", keys);
  size_t M = (size_t)stats_opt_number(L, 2, "draws", 4000);
  uint64_t state = (uint64_t)stats_opt_number(L, 2, "seed", 1) * 0x9E3779B97F4A7C15ull + 1;
  lua_Integer count = luaL_len(L, 1);
  double total = 0, secs = 0, means[MAX_COEF];
  for (lua_Integer g = 1; g <= count; g++) {
    int base = lua_gettop(L);
    if (lua_geti(L, 1, g) != LUA_TTABLE)
      luaL_error(L, "stats.loglik_floor: groups[%d] is not a table", (int)g);
    lua_getfield(L, base + 1, "X");
    lua_getfield(L, base + 1, "y");
    Problem p;
    stats_build_problem(L, "stats.loglik_floor", base + 2, base + 3, 2, &p, 1, means);
    double *B = stats_scratch(L, M * p.d);
    for (size_t k = 0; k < M * p.d; k++) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      B[k] = (double)(state >> 11) / 9007199254740992.0 - 0.5;
    }
    double t0 = binding_now();
    for (size_t k = 0; k < M; k++) {
      const double *b = B + k * p.d;
      double ll = 0;
      for (size_t i = 0; i < p.n; i++) {
        const double *x = p.X + i * p.d;
        double eta = 0;
        for (size_t j = 0; j < p.d; j++) eta += x[j] * b[j];
        ll += p.y[i] * eta - log1pexp(eta);
      }
      total += ll;
    }
    secs += binding_now() - t0;
    lua_settop(L, base);
  }
  lua_pushnumber(L, secs);
  lua_pushnumber(L, total);
  return 2;
}

/* The posterior functions of the introspect.stats table (merged in by luaopen_introspect_stats). */
const luaL_Reg stats_posterior_funcs[] = {
    {"posterior", l_posterior},
    {"fit_many", l_fit_many},
    {"loglik_floor", l_loglik_floor},
    {NULL, NULL}};
