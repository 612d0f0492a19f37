/* introspect.stats: the study's statistics on GSL.
 * Logistic regression (maximum likelihood and MAP by Newton's method), the study's weight
 * scaling, Pearson/Spearman correlations with Fisher-z intervals, z-scores, OLS with the
 * coefficient covariance and the difference of two slopes; the helpers shared with the other
 * source files (bindings/stats_sampler.c, stats_posterior.c: the Bayesian posterior,
 * stats.fit_many, stats.loglik_floor; bindings/stats_bootstrap.c: stats.cluster_bootstrap),
 * declared in bindings/stats_internal.h; the module table. See docs/statistics.md.
 * Scratch memory lives in userdata pushed on the Lua stack, so a raised error leaks nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"
#include "stats_internal.h"

/* ---------------------------------------------------------------- helpers */

/* Pushes a new scratch buffer of `count` doubles (zeroed) and returns it. Stack: +1. */
double *stats_scratch(lua_State *L, size_t count) {
  double *p = lua_newuserdatauv(L, (count ? count : 1) * sizeof(double), 0);
  memset(p, 0, (count ? count : 1) * sizeof(double));
  return p;
}

/* Reads the array of numbers at index idx into a pushed scratch buffer; `what` names it in
 * errors ("fname: what[i] is not a number"). Returns the buffer, length in *n. Stack: +1. */
double *stats_read_vector(lua_State *L, int idx, const char *fname, const char *what,
                           size_t *n) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "%s: %s must be an array of numbers", fname, what);
  size_t len = (size_t)luaL_len(L, idx);
  double *v = stats_scratch(L, len);
  for (size_t i = 0; i < len; i++) {
    lua_geti(L, idx, (lua_Integer)i + 1);
    int ok;
    v[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "%s: %s[%d] is not a number (%s)", fname, what, (int)i + 1,
                        luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  *n = len;
  return v;
}

/* Reads an array of n rows of k numbers at idx into a pushed n x (k + off) row-major buffer,
 * leaving `off` leading columns for the caller (an intercept). Sets *n, *k. Stack: +1. */
static double *read_matrix(lua_State *L, int idx, const char *fname, const char *what, int off,
                           size_t *n, size_t *k) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "%s: %s must be an array of rows", fname, what);
  size_t rows = (size_t)luaL_len(L, idx), cols = 0;
  if (rows > 0) {
    if (lua_geti(L, idx, 1) != LUA_TTABLE) luaL_error(L, "%s: %s[1] is not a row", fname, what);
    cols = (size_t)luaL_len(L, -1);
    lua_pop(L, 1);
  }
  if (cols + off > MAX_COEF) luaL_error(L, "%s: %s has more than %d columns", fname, what,
                                        MAX_COEF - off);
  size_t stride = cols + off;
  double *m = stats_scratch(L, rows * stride);
  for (size_t i = 0; i < rows; i++) {
    if (lua_geti(L, idx, (lua_Integer)i + 1) != LUA_TTABLE || (size_t)luaL_len(L, -1) != cols)
      luaL_error(L, "%s: %s[%d] is not a row of %d numbers", fname, what, (int)i + 1, (int)cols);
    for (size_t j = 0; j < cols; j++) {
      lua_geti(L, -1, (lua_Integer)j + 1);
      int ok;
      m[i * stride + off + j] = lua_tonumberx(L, -1, &ok);
      if (!ok) luaL_error(L, "%s: %s[%d][%d] is not a number (%s)", fname, what, (int)i + 1,
                          (int)j + 1, luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  *n = rows;
  *k = cols;
  return m;
}

static const char *const LOGISTIC_KEYS[] = {"weights", "prior_sd", "intercept_sd", "intercept",
                                            "max_iter", NULL};

/* Field `key` of the options table at idx as a number, or `def` when absent. Stack: 0. */
double stats_opt_number(lua_State *L, int idx, const char *key, double def) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_getfield(L, idx, key);
  double v = def;
  if (!lua_isnil(L, -1)) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "option '%s' must be a number", key);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* Field `key` of the options table at idx as a boolean, or `def` when absent. Stack: 0. */
int stats_opt_bool(lua_State *L, int idx, const char *key, int def) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_getfield(L, idx, key);
  int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Pushes an array of n numbers. Stack: +1. */
void stats_push_vector(lua_State *L, const double *v, size_t n, size_t stride) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, v[i * stride]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Pushes a d x d matrix (row-major) as an array of rows. Stack: +1. */
static void push_matrix(lua_State *L, const double *m, size_t d) {
  lua_createtable(L, (int)d, 0);
  for (size_t i = 0; i < d; i++) {
    stats_push_vector(L, m + i * d, d, 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Sets t[key] = v on the table at the top. Stack: 0. */
void stats_set_number(lua_State *L, const char *key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* Raises "interrupted!" if the host's Ctrl-C flag is set (absent under stock lua5.4). */
void stats_check_interrupt(lua_State *L) {
  volatile sig_atomic_t *flag = binding_interrupt_flag(L);
  if (flag && *flag) luaL_error(L, "interrupted!");
}

/* In-place Cholesky factor and inverse of the d x d SPD matrix a; returns 0 or a GSL status.
 * On success `a` holds the inverse and `chol` (if not NULL) the lower factor. */
static int spd_invert(double *a, double *chol, size_t d) {
  gsl_matrix_view m = gsl_matrix_view_array(a, d, d);
  int st = gsl_linalg_cholesky_decomp1(&m.matrix);
  if (st) return st;
  if (chol) {
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) chol[i * d + j] = j <= i ? a[i * d + j] : 0.0;
  }
  return gsl_linalg_cholesky_invert(&m.matrix);
}

/* ---------------------------------------------------------------- rng handle */

/* Returns the open generator at idx or raises an argument error. Stack: 0. */
static Rng *check_rng(lua_State *L, int idx) {
  Rng *g = luaL_checkudata(L, idx, RNG_TYPE);
  if (g->closed) luaL_argerror(L, idx, "attempt to use a closed generator");
  return g;
}

/* Pushes a new mt19937 generator seeded with `seed`. Stack: +1. */
Rng *stats_new_rng(lua_State *L, unsigned long seed) {
  Rng *g = lua_newuserdatauv(L, sizeof(Rng), 0);
  g->r = NULL;
  g->closed = 1;
  luaL_setmetatable(L, RNG_TYPE);
  g->r = gsl_rng_alloc(gsl_rng_mt19937);
  if (!g->r) luaL_error(L, "stats.rng: out of memory");
  gsl_rng_set(g->r, seed);
  g->closed = 0;
  return g;
}

/* stats.rng(seed) -> generator (GSL mt19937). */
static int l_rng(lua_State *L) {
  stats_new_rng(L, (unsigned long)luaL_checkinteger(L, 1));
  return 1;
}

/* gen:uniform() -> number in [0, 1). */
static int l_rng_uniform(lua_State *L) {
  lua_pushnumber(L, gsl_rng_uniform(check_rng(L, 1)->r));
  return 1;
}

/* gen:normal() -> a standard normal draw. */
static int l_rng_normal(lua_State *L) {
  lua_pushnumber(L, gsl_ran_ugaussian(check_rng(L, 1)->r));
  return 1;
}

/* __gc/__close/gen:close(): frees the generator once. Stack: 0. */
static int l_rng_close(lua_State *L) {
  Rng *g = luaL_checkudata(L, 1, RNG_TYPE);
  if (!g->closed && g->r) gsl_rng_free(g->r);
  g->r = NULL;
  g->closed = 1;
  return 0;
}

/* __tostring: "stats.rng (0x...)" or "stats.rng (closed)". */
static int l_rng_tostring(lua_State *L) {
  Rng *g = luaL_checkudata(L, 1, RNG_TYPE);
  if (g->closed) lua_pushliteral(L, "stats.rng (closed)");
  else lua_pushfstring(L, "stats.rng (%p)", (void *)g);
  return 1;
}

/* The generator for a call: opts.rng (a handle) or a fresh one from opts.seed (default 1),
 * pushed on the stack either way. Stack: +1. */
gsl_rng *stats_call_rng(lua_State *L, int opts) {
  if (!lua_isnoneornil(L, opts)) {
    lua_getfield(L, opts, "rng");
    if (!lua_isnil(L, -1)) return check_rng(L, lua_gettop(L))->r;
    lua_pop(L, 1);
  }
  return stats_new_rng(L, (unsigned long)stats_opt_number(L, opts, "seed", 1))->r;
}

/* ---------------------------------------------------------------- logistic regression */

/* Log posterior (log likelihood + log prior, up to a constant) of b. */
static double log_target(const Problem *p, const double *b) {
  double ll = 0;
  for (size_t i = 0; i < p->n; i++) {
    const double *x = p->X + i * p->d;
    double eta = 0;
    for (size_t j = 0; j < p->d; j++) eta += x[j] * b[j];
    double li = p->y[i] * eta - log1pexp(eta);
    ll += p->w ? p->w[i] * li : li;
  }
  return ll + log_prior(p, b);
}

/* Gradient g and negative Hessian H (d x d) of the log posterior at b; `exact` selects the
 * exact Student-t curvature (may be negative far out) over its positive majorizer. */
static void grad_hess(const Problem *p, const double *b, double *g, double *H, int exact,
                      double *max_eta) {
  size_t d = p->d;
  memset(g, 0, d * sizeof(double));
  memset(H, 0, d * d * sizeof(double));
  *max_eta = 0;
  for (size_t i = 0; i < p->n; i++) {
    const double *x = p->X + i * d;
    double eta = 0;
    for (size_t j = 0; j < d; j++) eta += x[j] * b[j];
    if (fabs(eta) > *max_eta) *max_eta = fabs(eta);
    double pr = 1.0 / (1.0 + exp(-eta)), wi = p->w ? p->w[i] : 1.0;
    double r = wi * (p->y[i] - pr), v = wi * pr * (1 - pr);
    for (size_t j = 0; j < d; j++) {
      g[j] += r * x[j];
      for (size_t k = 0; k <= j; k++) H[j * d + k] += v * x[j] * x[k];
    }
  }
  for (size_t j = 0; j < d; j++) {
    for (size_t k = 0; k < j; k++) H[k * d + j] = H[j * d + k];
    if ((int)j == p->t_index) {
      double r = b[j] - p->t_loc, s2 = p->t_df * p->t_scale * p->t_scale, q = s2 + r * r;
      g[j] -= (p->t_df + 1) * r / q;
      H[j * d + j] += exact ? (p->t_df + 1) * (s2 - r * r) / (q * q) : (p->t_df + 1) / q;
    } else if (isfinite(p->psd[j])) {
      g[j] -= (b[j] - p->pmean[j]) / (p->psd[j] * p->psd[j]);
      H[j * d + j] += 1.0 / (p->psd[j] * p->psd[j]);
    }
  }
}

/* Newton's method with step halving from b (updated in place) to the posterior mode (the MLE
 * when every prior is flat). Fills cov (d x d, inverse negative Hessian) and info. Returns
 * NULL or a static message for a singular information matrix. */
const char *stats_newton(const Problem *p, double *b, double *cov, Info *info, int max_iter) {
  size_t d = p->d;
  double g[MAX_COEF], H[MAX_COEF * MAX_COEF], step[MAX_COEF], trial[MAX_COEF];
  double cur = log_target(p, b);
  memset(info, 0, sizeof(*info));
  for (int it = 1; it <= max_iter; it++) {
    info->iterations = it;
    grad_hess(p, b, g, H, 0, &info->max_eta);
    gsl_matrix_view Hm = gsl_matrix_view_array(H, d, d);
    gsl_vector_view gv = gsl_vector_view_array(g, d), sv = gsl_vector_view_array(step, d);
    if (gsl_linalg_cholesky_decomp1(&Hm.matrix) ||
        gsl_linalg_cholesky_solve(&Hm.matrix, &gv.vector, &sv.vector))
      return "singular information matrix (a predictor is constant or collinear)";
    double scale = 1, next = cur, maxstep = 0;
    for (int h = 0; h < 40; h++, scale /= 2) {
      for (size_t j = 0; j < d; j++) trial[j] = b[j] + scale * step[j];
      next = log_target(p, trial);
      if (next >= cur - 1e-12 * fabs(cur)) break;
    }
    for (size_t j = 0; j < d; j++) {
      maxstep = fmax(maxstep, fabs(trial[j] - b[j]));
      b[j] = trial[j];
    }
    double gain = next - cur;
    cur = next;
    if (maxstep < 1e-10 || (gain >= 0 && gain < 1e-13 * (1 + fabs(cur)) && maxstep < 1e-6)) {
      info->converged = 1;
      break;
    }
  }
  info->logpost = cur;
  grad_hess(p, b, g, cov, 1, &info->max_eta);
  int extreme = 0;
  for (size_t i = 0; i < p->n; i++) {
    double eta = 0;
    for (size_t j = 0; j < d; j++) eta += p->X[i * d + j] * b[j];
    if (fabs(eta) > 25) extreme++;
  }
  info->extreme = extreme;
  if (spd_invert(cov, NULL, d)) {
    grad_hess(p, b, g, cov, 0, &info->max_eta); /* fall back to the majorizer's curvature */
    if (spd_invert(cov, NULL, d)) return "singular information matrix at the mode";
  }
  return NULL;
}

/* Builds a Problem from Lua: X (array of rows, predictors only) at xi, y at yi, options at oi.
 * Adds an intercept column 0 unless opts.intercept == false. Generic priors come from
 * opts.prior_sd / opts.intercept_sd; with `study` set, the study's model instead: predictors
 * centred (means[] receives the column means), slopes ~ Normal(0, opts.slope_sd or 1), the
 * centred intercept ~ Student-t(intercept_df 3, intercept_location 0, intercept_scale 2.5).
 * Pushes 2-3 scratch buffers. */
void stats_build_problem(lua_State *L, const char *fname, int xi, int yi, int oi, Problem *p,
                          int study, double *means) {
  int centre = study;
  size_t n, k, ny;
  int icpt = stats_opt_bool(L, oi, "intercept", 1);
  double *X = read_matrix(L, xi, fname, "X", icpt, &n, &k);
  double *y = stats_read_vector(L, yi, fname, "y", &ny);
  if (ny != n) luaL_error(L, "%s: X has %d rows but y has %d values", fname, (int)n, (int)ny);
  for (size_t i = 0; i < n; i++)
    if (!(y[i] >= 0 && y[i] <= 1)) luaL_error(L, "%s: y[%d] = %f is outside [0, 1]", fname,
                                              (int)i + 1, y[i]);
  memset(p, 0, sizeof(*p));
  p->n = n;
  p->d = k + icpt;
  p->X = X;
  p->y = y;
  p->t_index = -1;
  for (size_t i = 0; i < n && icpt; i++) X[i * p->d] = 1.0;
  for (size_t j = 0; j < p->d; j++) {
    means[j] = 0;
    if (!centre || (icpt && j == 0) || n == 0) continue;
    for (size_t i = 0; i < n; i++) means[j] += X[i * p->d + j];
    means[j] /= (double)n;
    for (size_t i = 0; i < n; i++) X[i * p->d + j] -= means[j];
  }
  if (!lua_isnoneornil(L, oi)) {
    if (lua_getfield(L, oi, "weights") != LUA_TNIL) {
      size_t nw;
      double *w = stats_read_vector(L, -1, fname, "weights", &nw);
      lua_remove(L, -2); /* keep the buffer, drop the table */
      if (nw != n) luaL_error(L, "%s: %d weights for %d rows", fname, (int)nw, (int)n);
      for (size_t i = 0; i < n; i++)
        if (!(w[i] >= 0)) luaL_error(L, "%s: weights[%d] is negative", fname, (int)i + 1);
      p->w = w;
    } else {
      lua_pop(L, 1);
    }
  }
  /* Priors: slope_sd (number or array; default flat), intercept_sd (default flat). */
  double slope_sd = INFINITY;
  int have_array = 0;
  if (!lua_isnoneornil(L, oi)) {
    lua_getfield(L, oi, "prior_sd");
    if (lua_istable(L, -1)) have_array = 1;
    else if (!lua_isnil(L, -1)) slope_sd = luaL_checknumber(L, -1);
    if (!have_array) lua_pop(L, 1);
  }
  for (size_t j = 0; j < p->d; j++) {
    p->pmean[j] = 0;
    p->psd[j] = slope_sd;
    if (have_array && j >= (size_t)icpt) {
      lua_geti(L, -1, (lua_Integer)(j - icpt + 1));
      p->psd[j] = lua_isnil(L, -1) ? INFINITY : lua_tonumber(L, -1);
      lua_pop(L, 1);
    }
    if (!(p->psd[j] > 0)) luaL_error(L, "%s: prior_sd must be positive", fname);
  }
  if (have_array) lua_pop(L, 1);
  if (icpt) p->psd[0] = stats_opt_number(L, oi, "intercept_sd", INFINITY);
  if (study) {
    if (!icpt) luaL_error(L, "%s: the study's model needs an intercept", fname);
    double sd = stats_opt_number(L, oi, "slope_sd", 1.0);
    if (!(sd > 0)) luaL_error(L, "%s: slope_sd must be positive", fname);
    for (size_t j = 1; j < p->d; j++) p->psd[j] = sd;
    p->t_index = 0;
    p->t_df = stats_opt_number(L, oi, "intercept_df", 3);
    p->t_loc = stats_opt_number(L, oi, "intercept_location", 0);
    p->t_scale = stats_opt_number(L, oi, "intercept_scale", 2.5);
    if (!(p->t_df > 0 && p->t_scale > 0))
      luaL_error(L, "%s: intercept_df and intercept_scale must be positive", fname);
  }
}

/* Turns the centred intercept b[0] into the intercept of the uncentred predictors,
 * b0 = b0c - sum_j means[j] b[j], and transforms cov (d x d, or NULL) alike (J cov J'). */
void stats_uncentre(double *b, double *cov, const double *means, size_t d) {
  for (size_t j = 1; j < d; j++) b[0] -= means[j] * b[j];
  if (!cov) return;
  double row[MAX_COEF] = {0};
  for (size_t k = 0; k < d; k++) { /* row 0 of J cov */
    row[k] = cov[k];
    for (size_t j = 1; j < d; j++) row[k] -= means[j] * cov[j * d + k];
  }
  double c00 = row[0];
  for (size_t j = 1; j < d; j++) c00 -= means[j] * row[j];
  for (size_t k = 1; k < d; k++) cov[k] = cov[k * d] = row[k];
  cov[0] = c00;
}

/* Pushes the fit table of a mode/MLE: intercept, coef, se, intercept_se, cov, loglik etc. */
static void push_fit(lua_State *L, const Problem *p, const double *b, const double *cov,
                     const Info *info, int icpt) {
  size_t d = p->d;
  lua_createtable(L, 0, 10);
  stats_push_vector(L, b + icpt, d - icpt, 1);
  lua_setfield(L, -2, "coef");
  double se[MAX_COEF];
  for (size_t j = 0; j < d; j++) se[j] = sqrt(cov[j * d + j]);
  stats_push_vector(L, se + icpt, d - icpt, 1);
  lua_setfield(L, -2, "se");
  if (icpt) {
    stats_set_number(L, "intercept", b[0]);
    stats_set_number(L, "intercept_se", se[0]);
  }
  push_matrix(L, cov, d);
  lua_setfield(L, -2, "cov");
  stats_set_number(L, "logpost", info->logpost);
  lua_pushinteger(L, info->iterations);
  lua_setfield(L, -2, "iterations");
  lua_pushboolean(L, info->converged);
  lua_setfield(L, -2, "converged");
  lua_pushinteger(L, (lua_Integer)p->n);
  lua_setfield(L, -2, "n");
}

/* Fits one logistic problem by ML (every prior flat) or MAP and pushes the fit table or
 * nil, err. ML on separated data answers nil, "complete separation ..." (or quasi-complete).
 * `means` (or NULL): column means the predictors were centred by, undone in the result.
 * Stack: +1 or +2; returns the number pushed. */
int stats_fit_and_push(lua_State *L, const Problem *p, int icpt, const double *means,
                        int max_iter) {
  double b[MAX_COEF] = {0}, cov[MAX_COEF * MAX_COEF];
  Info info;
  int ml = 1;
  for (size_t j = 0; j < p->d; j++) ml = ml && !isfinite(p->psd[j]) && (int)j != p->t_index;
  if (p->n == 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "no observations");
    return 2;
  }
  const char *err = stats_newton(p, b, cov, &info, max_iter);
  if (ml && !info.converged) {
    lua_pushnil(L);
    if (info.extreme >= (int)p->n)
      lua_pushliteral(L, "complete separation: the predictors classify every observation "
                         "perfectly, so the maximum-likelihood estimate is infinite (use a prior)");
    else
      lua_pushfstring(L, "quasi-complete separation: %d of %d observations are fitted with "
                         "probability 0 or 1, so the maximum-likelihood estimate is infinite "
                         "(use a prior)", info.extreme, (int)p->n);
    return 2;
  }
  if (err) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  if (means) stats_uncentre(b, cov, means, p->d);
  push_fit(L, p, b, cov, &info, icpt);
  return 1;
}

/* Checks the (X, y [, opts]) arguments of a fitting function and its option names; leaves
 * exactly three stack slots. */
void stats_check_fit_args(lua_State *L, const char *fname, const char *const *keys) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  binding_check_options(L, 3, fname, keys);
}

/* stats.logistic(X, y [, opts]) -> fit | nil, err. X: rows of predictors (an intercept is
 * added unless opts.intercept == false); y: outcomes in [0, 1]. opts: weights, prior_sd
 * (number or per-slope array; absent = ML), intercept_sd, max_iter. */
static int l_logistic(lua_State *L) {
  Problem p;
  double means[MAX_COEF];
  stats_check_fit_args(L, "stats.logistic", LOGISTIC_KEYS);
  stats_build_problem(L, "stats.logistic", 1, 2, 3, &p, 0, means);
  return stats_fit_and_push(L, &p, stats_opt_bool(L, 3, "intercept", 1), NULL,
                      (int)stats_opt_number(L, 3, "max_iter", 100));
}

/* ---------------------------------------------------------------- scaling */

/* Round half to even on the exact binary value (R's round(x) and Python's round(x)). */
static double round_even(double x) {
  double r = round(x);
  if (fabs(x - trunc(x)) == 0.5) r = 2.0 * round(x / 2.0);
  return r;
}

/* stats.round(x) -> integer: rounds half to even like R's round and Python's round. */
static int l_round(lua_State *L) {
  lua_Number x = luaL_checknumber(L, 1);
  double r = round_even(x);
  if (r >= -9.0e15 && r <= 9.0e15) lua_pushinteger(L, (lua_Integer)r);
  else lua_pushnumber(L, r);
  return 1;
}

/* stats.scale_weights(b [, target]) -> integers | nil, err: multiplies b by the factor that
 * makes its largest absolute value exactly +-target (default 100, sign kept) and rounds half
 * to even; nil, err when every value is 0. */
static int l_scale_weights(lua_State *L) {
  size_t n;
  double target = luaL_optnumber(L, 2, 100), big = 0;
  lua_settop(L, 2);
  double *b = stats_read_vector(L, 1, "stats.scale_weights", "argument #1", &n);
  for (size_t i = 0; i < n; i++) big = fmax(big, fabs(b[i]));
  if (!(big > 0) || !isfinite(big)) {
    lua_pushnil(L);
    lua_pushliteral(L, "cannot scale weights: every weight is 0 (or one is not finite)");
    return 2;
  }
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)round_even(b[i] * (target / big)));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* ---------------------------------------------------------------- correlation, OLS */

/* Mean and sample sd (n - 1) of x[0..n). */
void stats_mean_sd(const double *x, size_t n, double *mean, double *sd) {
  double m = 0, v = 0;
  for (size_t i = 0; i < n; i++) m += x[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
  *mean = m;
  *sd = n > 1 ? sqrt(v / (double)(n - 1)) : NAN;
}

/* Pearson correlation of x and y (n pairs). */
static double pearson(const double *x, const double *y, size_t n) {
  double mx, my, sx, sy, c = 0;
  stats_mean_sd(x, n, &mx, &sx);
  stats_mean_sd(y, n, &my, &sy);
  for (size_t i = 0; i < n; i++) c += (x[i] - mx) * (y[i] - my);
  return c / ((double)(n - 1) * sx * sy);
}

/* Replaces x by its ranks (1-based, ties get their average rank). Uses kw as workspace. */
static void rank_in_place(double *x, size_t n, KeyWeight *kw) {
  for (size_t i = 0; i < n; i++) kw[i] = (KeyWeight){x[i], (double)i};
  stats_sort_keys(kw, n);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && kw[j + 1].key == kw[i].key) j++;
    for (size_t k = i; k <= j; k++) x[(size_t)kw[k].w] = (i + j) / 2.0 + 1;
    i = j + 1;
  }
}

/* Reads the paired vectors at 1 and 2 (same length >= 4) for fname. Pushes 2 buffers. */
static size_t read_pairs(lua_State *L, const char *fname, double **x, double **y) {
  size_t nx, ny;
  *x = stats_read_vector(L, 1, fname, "x", &nx);
  *y = stats_read_vector(L, 2, fname, "y", &ny);
  if (nx != ny) luaL_error(L, "%s: x has %d values but y has %d", fname, (int)nx, (int)ny);
  if (nx < 4) luaL_error(L, "%s: need at least 4 pairs, got %d", fname, (int)nx);
  return nx;
}

/* Pushes {r, lo, hi, n, p, level} for correlation r of n pairs: Fisher-z interval and the
 * two-sided t-test p-value. Stack: +1. */
static void push_correlation(lua_State *L, double r, size_t n, double level) {
  double z = atanh(r), h = gsl_cdf_ugaussian_Pinv(0.5 + level / 2) / sqrt((double)n - 3);
  double t = r * sqrt((n - 2) / fmax(1e-300, 1 - r * r));
  lua_createtable(L, 0, 6);
  stats_set_number(L, "r", r);
  stats_set_number(L, "lo", tanh(z - h));
  stats_set_number(L, "hi", tanh(z + h));
  stats_set_number(L, "p", 2 * gsl_cdf_tdist_Q(fabs(t), (double)n - 2));
  stats_set_number(L, "level", level);
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, "n");
}

/* stats.pearson(x, y [, opts{level=0.95}]) -> {r, lo, hi, n, p, level} | nil, err (constant
 * input). stats.spearman: the same on average ranks. */
static int correlation(lua_State *L, int ranked) {
  const char *fname = ranked ? "stats.spearman" : "stats.pearson";
  static const char *const keys[] = {"level", NULL};
  binding_check_options(L, 3, fname, keys);
  double level = stats_opt_number(L, 3, "level", 0.95), *x, *y, sx, sy, m;
  if (!(level > 0 && level < 1)) luaL_argerror(L, 3, "option 'level' must be in (0, 1)");
  size_t n = read_pairs(L, fname, &x, &y);
  if (ranked) {
    KeyWeight *kw = lua_newuserdatauv(L, n * sizeof(KeyWeight), 0);
    rank_in_place(x, n, kw);
    rank_in_place(y, n, kw);
  }
  stats_mean_sd(x, n, &m, &sx);
  stats_mean_sd(y, n, &m, &sy);
  if (!(sx > 0) || !(sy > 0)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s is constant (sd = 0)", fname, sx > 0 ? "y" : "x");
    return 2;
  }
  push_correlation(L, pearson(x, y, n), n, level);
  return 1;
}
/* stats.pearson: see correlation. */
static int l_pearson(lua_State *L) { return correlation(L, 0); }
/* stats.spearman: see correlation. */
static int l_spearman(lua_State *L) { return correlation(L, 1); }

/* stats.zscore(x) -> z, mean, sd | nil, err: (x - mean) / sd with the sample sd (n - 1). */
static int l_zscore(lua_State *L) {
  size_t n;
  double *x = stats_read_vector(L, 1, "stats.zscore", "x", &n), m, sd;
  if (n < 2) return luaL_argerror(L, 1, "need at least 2 values");
  stats_mean_sd(x, n, &m, &sd);
  if (!(sd > 0)) {
    lua_pushnil(L);
    lua_pushliteral(L, "stats.zscore: the values are constant (sd = 0)");
    return 2;
  }
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, (x[i] - m) / sd);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushnumber(L, m);
  lua_pushnumber(L, sd);
  return 3;
}

/* Least squares of y on X (n x d row-major): fills b (d) and cov (d x d, sigma^2 (X'X)^-1);
 * returns the residual variance or NAN when X'X is singular or n <= d. */
static double ols_core(const double *X, const double *y, size_t n, size_t d, double *b,
                       double *cov) {
  double xty[MAX_COEF] = {0};
  memset(cov, 0, d * d * sizeof(double));
  if (n <= d) return NAN;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) {
      xty[j] += X[i * d + j] * y[i];
      for (size_t k = 0; k <= j; k++) cov[j * d + k] += X[i * d + j] * X[i * d + k];
    }
  for (size_t j = 0; j < d; j++)
    for (size_t k = 0; k < j; k++) cov[k * d + j] = cov[j * d + k];
  if (spd_invert(cov, NULL, d)) return NAN;
  for (size_t j = 0; j < d; j++) {
    b[j] = 0;
    for (size_t k = 0; k < d; k++) b[j] += cov[j * d + k] * xty[k];
  }
  double rss = 0;
  for (size_t i = 0; i < n; i++) {
    double e = y[i];
    for (size_t j = 0; j < d; j++) e -= X[i * d + j] * b[j];
    rss += e * e;
  }
  double s2 = rss / (double)(n - d);
  for (size_t j = 0; j < d * d; j++) cov[j] *= s2;
  return s2;
}

/* stats.ols(X, y [, opts{intercept=true, level=0.95}]) -> fit | nil, err: fit = {intercept,
 * coef, se, intercept_se, lo, hi (coef intervals), cov (intercept first), df, sigma, r2, n}. */
static int l_ols(lua_State *L) {
  static const char *const keys[] = {"intercept", "level", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  binding_check_options(L, 3, "stats.ols", keys);
  lua_settop(L, 3);
  int icpt = stats_opt_bool(L, 3, "intercept", 1);
  double level = stats_opt_number(L, 3, "level", 0.95);
  size_t n, k, ny;
  double *X = read_matrix(L, 1, "stats.ols", "X", icpt, &n, &k);
  double *y = stats_read_vector(L, 2, "stats.ols", "y", &ny);
  if (ny != n) luaL_error(L, "stats.ols: X has %d rows but y has %d values", (int)n, (int)ny);
  size_t d = k + icpt;
  for (size_t i = 0; i < n && icpt; i++) X[i * d] = 1;
  double b[MAX_COEF], cov[MAX_COEF * MAX_COEF], se[MAX_COEF], lo[MAX_COEF], hi[MAX_COEF];
  double s2 = ols_core(X, y, n, d, b, cov);
  if (isnan(s2)) {
    lua_pushnil(L);
    lua_pushfstring(L, "stats.ols: singular design (%d rows, %d coefficients; a column is "
                       "constant or collinear)", (int)n, (int)d);
    return 2;
  }
  double tq = gsl_cdf_tdist_Pinv(0.5 + level / 2, (double)(n - d)), my, sy;
  for (size_t j = 0; j < d; j++) {
    se[j] = sqrt(cov[j * d + j]);
    lo[j] = b[j] - tq * se[j];
    hi[j] = b[j] + tq * se[j];
  }
  stats_mean_sd(y, n, &my, &sy);
  Info info = {0};
  Problem p = {.n = n, .d = d};
  info.iterations = 0;
  push_fit(L, &p, b, cov, &info, icpt);
  lua_pushnil(L);
  lua_setfield(L, -2, "logpost");
  lua_pushnil(L);
  lua_setfield(L, -2, "converged");
  lua_pushnil(L);
  lua_setfield(L, -2, "iterations");
  stats_push_vector(L, lo + icpt, d - icpt, 1);
  lua_setfield(L, -2, "lo");
  stats_push_vector(L, hi + icpt, d - icpt, 1);
  lua_setfield(L, -2, "hi");
  lua_pushinteger(L, (lua_Integer)(n - d));
  lua_setfield(L, -2, "df");
  stats_set_number(L, "sigma", sqrt(s2));
  stats_set_number(L, "r2", 1 - s2 * (double)(n - d) / (sy * sy * (double)(n - 1)));
  return 1;
}

/* stats.slope_difference(x1, y1, x2, y2 [, opts{level}]) -> {diff, se, lo, hi, df, slope1,
 * slope2} | nil, err: slope2 - slope1 from y ~ x * group with a pooled residual variance. */
static int l_slope_difference(lua_State *L) {
  static const char *const keys[] = {"level", NULL};
  const char *fname = "stats.slope_difference";
  binding_check_options(L, 5, fname, keys);
  double level = stats_opt_number(L, 5, "level", 0.95);
  size_t n1, n2, m1, m2;
  double *x1 = stats_read_vector(L, 1, fname, "x1", &n1), *y1 = stats_read_vector(L, 2, fname, "y1", &m1);
  double *x2 = stats_read_vector(L, 3, fname, "x2", &n2), *y2 = stats_read_vector(L, 4, fname, "y2", &m2);
  if (n1 != m1 || n2 != m2) luaL_error(L, "%s: x and y lengths differ", fname);
  size_t n = n1 + n2;
  double *X = stats_scratch(L, n * 4), *y = stats_scratch(L, n), b[4], cov[16];
  for (size_t i = 0; i < n; i++) {
    int g = i >= n1;
    double xi = g ? x2[i - n1] : x1[i];
    y[i] = g ? y2[i - n1] : y1[i];
    X[i * 4] = 1, X[i * 4 + 1] = g, X[i * 4 + 2] = xi, X[i * 4 + 3] = g * xi;
  }
  if (isnan(ols_core(X, y, n, 4, b, cov))) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: singular design (each group needs >= 2 distinct x)", fname);
    return 2;
  }
  double se = sqrt(cov[15]), tq = gsl_cdf_tdist_Pinv(0.5 + level / 2, (double)(n - 4));
  lua_createtable(L, 0, 7);
  stats_set_number(L, "diff", b[3]);
  stats_set_number(L, "se", se);
  stats_set_number(L, "lo", b[3] - tq * se);
  stats_set_number(L, "hi", b[3] + tq * se);
  stats_set_number(L, "slope1", b[2]);
  stats_set_number(L, "slope2", b[2] + b[3]);
  lua_pushinteger(L, (lua_Integer)(n - 4));
  lua_setfield(L, -2, "df");
  return 1;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg stats_funcs[] = {
    {"rng", l_rng},
    {"logistic", l_logistic},
    {"round", l_round},
    {"scale_weights", l_scale_weights},
    {"pearson", l_pearson},
    {"spearman", l_spearman},
    {"zscore", l_zscore},
    {"ols", l_ols},
    {"slope_difference", l_slope_difference},
    {NULL, NULL}};

static const luaL_Reg rng_methods[] = {
    {"uniform", l_rng_uniform}, {"normal", l_rng_normal}, {"close", l_rng_close}, {NULL, NULL}};

/* Opens the module: turns GSL's abort-on-error handler off, registers the rng metatable and
 * pushes the function table (these functions and stats_posterior.c's). Stack: +1. */
int luaopen_introspect_stats(lua_State *L) {
  gsl_set_error_handler_off();
  handle_register(L, RNG_TYPE, rng_methods, l_rng_close, l_rng_tostring);
  lua_createtable(L, 0, 16);
  luaL_setfuncs(L, stats_funcs, 0);
  luaL_setfuncs(L, stats_posterior_funcs, 0);
  luaL_setfuncs(L, stats_bootstrap_funcs, 0);
  return 1;
}
