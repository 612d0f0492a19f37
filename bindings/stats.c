/* introspect.stats: the study's statistics on GSL.
 * Logistic regression (maximum likelihood and MAP by Newton's method), the study's Bayesian
 * posterior by importance sampling from a Laplace-centred multivariate t (antithetic pairs,
 * Pareto-k and ESS diagnostics), a bulk fit over many contexts, the study's weight scaling,
 * Pearson/Spearman correlations with Fisher-z intervals, z-scores, OLS with the coefficient
 * covariance, the difference of two slopes, and a cluster bootstrap. See docs/statistics.md.
 * Scratch memory lives in userdata pushed on the Lua stack, so a raised error leaks nothing. */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"

#define RNG_TYPE "introspect.stats.rng"
#define MAX_COEF 64

/* ---------------------------------------------------------------- helpers */

/* Pushes a new scratch buffer of `count` doubles (zeroed) and returns it. Stack: +1. */
static double *scratch(lua_State *L, size_t count) {
  double *p = lua_newuserdatauv(L, (count ? count : 1) * sizeof(double), 0);
  memset(p, 0, (count ? count : 1) * sizeof(double));
  return p;
}

/* Reads the array of numbers at index idx into a pushed scratch buffer; `what` names it in
 * errors ("fname: what[i] is not a number"). Returns the buffer, length in *n. Stack: +1. */
static double *read_vector(lua_State *L, int idx, const char *fname, const char *what,
                           size_t *n) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "%s: %s must be an array of numbers", fname, what);
  size_t len = (size_t)luaL_len(L, idx);
  double *v = scratch(L, len);
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
  double *m = scratch(L, rows * stride);
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

#define POSTERIOR_OPTS "draws", "seed", "rng", "slope_sd", "intercept_df", "intercept_location", \
  "intercept_scale", "proposal_df", "quantiles", "keep_draws", "weights", "intercept"
static const char *const LOGISTIC_KEYS[] = {"weights", "prior_sd", "intercept_sd", "intercept",
                                            "max_iter", NULL};
static const char *const POSTERIOR_KEYS[] = {POSTERIOR_OPTS, NULL};
static const char *const FIT_MANY_KEYS[] = {POSTERIOR_OPTS, "method", "prior_sd",
                                            "intercept_sd", "max_iter", "threads", NULL};

/* Field `key` of the options table at idx as a number, or `def` when absent. Stack: 0. */
static double opt_number(lua_State *L, int idx, const char *key, double def) {
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
static int opt_bool(lua_State *L, int idx, const char *key, int def) {
  if (lua_isnoneornil(L, idx)) return def;
  lua_getfield(L, idx, key);
  int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Pushes an array of n numbers. Stack: +1. */
static void push_vector(lua_State *L, const double *v, size_t n, size_t stride) {
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
    push_vector(L, m + i * d, d, 1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* Sets t[key] = v on the table at the top. Stack: 0. */
static void set_number(lua_State *L, const char *key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* Raises "interrupted!" if the host's Ctrl-C flag is set (absent under stock lua5.4). */
static void check_interrupt(lua_State *L) {
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

typedef struct {
  gsl_rng *r;
  int closed;
} Rng;

/* Returns the open generator at idx or raises an argument error. Stack: 0. */
static Rng *check_rng(lua_State *L, int idx) {
  Rng *g = luaL_checkudata(L, idx, RNG_TYPE);
  if (g->closed) luaL_argerror(L, idx, "attempt to use a closed generator");
  return g;
}

/* Pushes a new mt19937 generator seeded with `seed`. Stack: +1. */
static Rng *new_rng(lua_State *L, unsigned long seed) {
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
  new_rng(L, (unsigned long)luaL_checkinteger(L, 1));
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
static gsl_rng *call_rng(lua_State *L, int opts) {
  if (!lua_isnoneornil(L, opts)) {
    lua_getfield(L, opts, "rng");
    if (!lua_isnil(L, -1)) return check_rng(L, lua_gettop(L))->r;
    lua_pop(L, 1);
  }
  return new_rng(L, (unsigned long)opt_number(L, opts, "seed", 1))->r;
}

/* ---------------------------------------------------------------- logistic regression */

typedef struct {
  size_t n, d;       /* observations, coefficients (column 0 is the intercept if any) */
  const double *X;   /* n x d, row-major */
  const double *y;   /* outcomes in [0, 1] (soft labels allowed) */
  const double *w;   /* case weights, or NULL */
  double pmean[MAX_COEF], psd[MAX_COEF]; /* Gaussian prior; psd = INFINITY means flat */
  int t_index;                           /* coefficient with a Student-t prior, or -1 */
  double t_df, t_loc, t_scale;
} Problem;

typedef struct {
  int iterations, converged, separated, extreme; /* extreme: fitted p numerically 0 or 1 */
  double logpost, max_eta;
} Info;

/* log(1 + exp(x)) without overflow. */
static double log1pexp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* Log prior density of b (up to a constant). */
static double log_prior(const Problem *p, const double *b) {
  double lp = 0;
  for (size_t j = 0; j < p->d; j++) {
    if ((int)j == p->t_index) {
      double r = (b[j] - p->t_loc) / p->t_scale;
      lp -= 0.5 * (p->t_df + 1) * log1p(r * r / p->t_df);
    } else if (isfinite(p->psd[j])) {
      double z = (b[j] - p->pmean[j]) / p->psd[j];
      lp -= 0.5 * z * z;
    }
  }
  return lp;
}

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
static const char *newton(const Problem *p, double *b, double *cov, Info *info, int max_iter) {
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
static void build_problem(lua_State *L, const char *fname, int xi, int yi, int oi, Problem *p,
                          int study, double *means) {
  int centre = study;
  size_t n, k, ny;
  int icpt = opt_bool(L, oi, "intercept", 1);
  double *X = read_matrix(L, xi, fname, "X", icpt, &n, &k);
  double *y = read_vector(L, yi, fname, "y", &ny);
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
      double *w = read_vector(L, -1, fname, "weights", &nw);
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
  if (icpt) p->psd[0] = opt_number(L, oi, "intercept_sd", INFINITY);
  if (study) {
    if (!icpt) luaL_error(L, "%s: the study's model needs an intercept", fname);
    double sd = opt_number(L, oi, "slope_sd", 1.0);
    if (!(sd > 0)) luaL_error(L, "%s: slope_sd must be positive", fname);
    for (size_t j = 1; j < p->d; j++) p->psd[j] = sd;
    p->t_index = 0;
    p->t_df = opt_number(L, oi, "intercept_df", 3);
    p->t_loc = opt_number(L, oi, "intercept_location", 0);
    p->t_scale = opt_number(L, oi, "intercept_scale", 2.5);
    if (!(p->t_df > 0 && p->t_scale > 0))
      luaL_error(L, "%s: intercept_df and intercept_scale must be positive", fname);
  }
}

/* Turns the centred intercept b[0] into the intercept of the uncentred predictors,
 * b0 = b0c - sum_j means[j] b[j], and transforms cov (d x d, or NULL) alike (J cov J'). */
static void uncentre(double *b, double *cov, const double *means, size_t d) {
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
  push_vector(L, b + icpt, d - icpt, 1);
  lua_setfield(L, -2, "coef");
  double se[MAX_COEF];
  for (size_t j = 0; j < d; j++) se[j] = sqrt(cov[j * d + j]);
  push_vector(L, se + icpt, d - icpt, 1);
  lua_setfield(L, -2, "se");
  if (icpt) {
    set_number(L, "intercept", b[0]);
    set_number(L, "intercept_se", se[0]);
  }
  push_matrix(L, cov, d);
  lua_setfield(L, -2, "cov");
  set_number(L, "logpost", info->logpost);
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
static int fit_and_push(lua_State *L, const Problem *p, int icpt, const double *means,
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
  const char *err = newton(p, b, cov, &info, max_iter);
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
  if (means) uncentre(b, cov, means, p->d);
  push_fit(L, p, b, cov, &info, icpt);
  return 1;
}

/* Checks the (X, y [, opts]) arguments of a fitting function and its option names; leaves
 * exactly three stack slots. */
static void check_fit_args(lua_State *L, const char *fname, const char *const *keys) {
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
  check_fit_args(L, "stats.logistic", LOGISTIC_KEYS);
  build_problem(L, "stats.logistic", 1, 2, 3, &p, 0, means);
  return fit_and_push(L, &p, opt_bool(L, 3, "intercept", 1), NULL,
                      (int)opt_number(L, 3, "max_iter", 100));
}

/* ---------------------------------------------------------------- Bayesian posterior */

/* Pareto shape k-hat of the upper tail of the importance weights (Zhang & Stephens 2009 with
 * the weakly informative adjustment of Vehtari et al.'s PSIS): x holds the n exceedances in
 * ascending order. Below 0.5 the estimates are reliable; above 0.7 they are not. */
static double pareto_khat(const double *x, size_t n) {
  if (n < 5 || x[n - 1] <= 0) return NAN;
  size_t m = 30 + (size_t)floor(sqrt((double)n));
  double xstar = x[(size_t)floor(n / 4.0 + 0.5) - 1], theta[128], lt[128], best = -INFINITY;
  if (m > 128) m = 128;
  for (size_t j = 0; j < m; j++) {
    theta[j] = 1 / x[n - 1] + (1 - sqrt(m / (j + 0.5))) / 3.0 / xstar;
    double k = 0;
    for (size_t i = 0; i < n; i++) k += log1p(-theta[j] * x[i]);
    k /= (double)n;
    lt[j] = n * (log(-theta[j] / k) - k - 1);
    if (lt[j] > best) best = lt[j];
  }
  double wsum = 0, th = 0;
  for (size_t j = 0; j < m; j++) wsum += exp(lt[j] - best);
  for (size_t j = 0; j < m; j++) th += theta[j] * exp(lt[j] - best) / wsum;
  double k = 0;
  for (size_t i = 0; i < n; i++) k += log1p(-th * x[i]);
  k /= (double)n;
  return (k * n + 0.5 * 10) / (n + 10);
}

/* A sort key with a payload (a weight, or a row index stored as a double). */
typedef struct {
  double key, w;
} KeyWeight;

/* Sorts a[0..n) by key, ascending (quicksort with a middle pivot and Hoare partitioning,
 * insertion sort for short runs; inlined comparisons, several times faster than qsort). */
static void sort_keys(KeyWeight *a, size_t n) {
  while (n > 16) {
    double pivot = a[(n - 1) / 2].key;
    size_t i = 0, j = n - 1;
    for (;;) {
      while (a[i].key < pivot) i++;
      while (a[j].key > pivot) j--;
      if (i >= j) break;
      KeyWeight t = a[i];
      a[i++] = a[j];
      a[j--] = t;
    }
    size_t left = j + 1; /* a[0..left) <= pivot <= a[left..n) */
    if (left < n - left) {
      sort_keys(a, left);
      a += left, n -= left;
    } else {
      sort_keys(a + left, n - left);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    KeyWeight t = a[i];
    size_t j = i;
    while (j > 0 && a[j - 1].key > t.key) a[j] = a[j - 1], j--;
    a[j] = t;
  }
}

/* Sorts the doubles x[0..n) ascending, using kw (n entries) as workspace. */
static void sort_doubles(double *x, size_t n, KeyWeight *kw) {
  for (size_t i = 0; i < n; i++) kw[i] = (KeyWeight){x[i], 0};
  sort_keys(kw, n);
  for (size_t i = 0; i < n; i++) x[i] = kw[i].key;
}

/* exp(x) for |x| <= 700 without a library call (so the compiler can inline and vectorise it):
 * x = k ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by its degree-13 Taylor
 * polynomial (truncation below 3e-18 relative), 2^k assembled in the exponent bits. Within
 * 2.3e-16 relative of libm's exp over [-700, 700] (2e7 random points). */
static inline double exp_inline(double x) {
  const double shift = 0x1.8p52, ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33;
  double kd = x * 0x1.71547652b82fep0 + shift; /* round to nearest: k in the low bits */
  uint64_t bits;
  memcpy(&bits, &kd, sizeof bits);
  kd -= shift;
  double r = (x - kd * ln2_hi) - kd * ln2_lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  uint64_t sbits = (bits + 1023) << 52; /* low bits of kd + shift hold k (two's complement) */
  double scale;
  memcpy(&scale, &sbits, sizeof scale);
  return p * scale;
}

/* Log-likelihoods of the antithetic pair of draws mode + v and mode - v (ll[0], ll[1]).
 * eta0: linear predictor at the mode; y0 = sum y_i eta0_i; E: exp(eta0) when every |eta0| <= 50
 * and there are no case weights, else NULL. With E the sums of log(1 + exp(eta)) are logs of
 * running products: exp(eta0 + c) = E exp(c) and 1 + exp(eta0 - c) = (exp(c) + E) / exp(c),
 * so each observation costs one exp() for both draws and the logs are taken once per ~2^560 of
 * product (an observation whose |c| > 250 takes the exact path). XT: the predictors (columns
 * 1..d-1) column by column; E has room for 2n numbers (the second n are workspace). */
static void pair_loglik(const Problem *p, const double *eta0, double y0, double *E,
                        const double *XT, const double *v, double ll[2]) {
  size_t d = p->d;
  if (!E) {
    ll[0] = ll[1] = 0;
    for (size_t i = 0; i < p->n; i++) { /* both draws of the pair share x.v */
      const double *x = p->X + i * d;
      double c = 0, wi = p->w ? p->w[i] : 1.0;
      for (size_t j = 0; j < d; j++) c += x[j] * v[j];
      double e1 = eta0[i] + c, e2 = eta0[i] - c;
      ll[0] += wi * (p->y[i] * e1 - log1pexp(e1));
      ll[1] += wi * (p->y[i] * e2 - log1pexp(e2));
    }
    return;
  }
  double yc = 0, csum = 0, P1 = 1, P2 = 1, L1 = 0, L2 = 0, *cs = E + p->n;
  size_t n = p->n;
  for (size_t i = 0; i < n; i++) cs[i] = v[0]; /* column 0 is the intercept's 1 */
  for (size_t j = 1; j < d; j++) { /* x.v by columns: a streaming loop per coefficient */
    const double *col = XT + (j - 1) * n;
    double vj = v[j];
    for (size_t i = 0; i < n; i++) cs[i] += col[i] * vj;
  }
  for (size_t i = 0; i < n; i++) {
    double c = cs[i];
    yc += p->y[i] * c;
    if (fabs(c) > 250) {
      L1 += log1pexp(eta0[i] + c);
      L2 += log1pexp(eta0[i] - c);
      continue;
    }
    double ec = exp_inline(c);
    csum += c;
    P1 *= 1 + E[i] * ec;
    P2 *= ec + E[i];
    if (P1 > 0x1p560) L1 += log(P1), P1 = 1;
    if (P2 > 0x1p560) L2 += log(P2), P2 = 1;
  }
  ll[0] = y0 + yc - (L1 + log(P1));
  ll[1] = y0 - yc - (L2 + log(P2) - csum);
}

/* Importance sampling of the posterior of p: proposal multivariate t(nu) at the mode with the
 * inverse negative Hessian as scale, M draws in antithetic pairs. Fills theta (M x d), w (M,
 * normalised weights), mode and info; eta0 (n), E (2n) and XT (n x d) are workspace. No Lua
 * calls (runs in
 * worker threads). Returns NULL or a static message. */
static const char *sample_posterior(const Problem *p, gsl_rng *r, size_t M, double nu,
                                    double *theta, double *w, double *eta0, double *E,
                                    double *XT, double *mode, Info *info) {
  size_t d = p->d;
  double cov[MAX_COEF * MAX_COEF], chol[MAX_COEF * MAX_COEF], z[MAX_COEF];
  memset(mode, 0, d * sizeof(double));
  const char *err = newton(p, mode, cov, info, 200);
  if (err) return err;
  if (!info->converged) return "posterior mode search did not converge";
  gsl_matrix_view cm = gsl_matrix_view_array(cov, d, d);
  if (gsl_linalg_cholesky_decomp1(&cm.matrix)) return "posterior covariance is not positive";
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) chol[i * d + j] = j <= i ? cov[i * d + j] : 0.0;
  double y0 = 0;
  int fast = p->w == NULL;
  for (size_t i = 0; i < p->n; i++) { /* linear predictor at the mode */
    eta0[i] = 0;
    for (size_t j = 0; j < d; j++) eta0[i] += p->X[i * d + j] * mode[j];
    y0 += p->y[i] * eta0[i];
    if (fabs(eta0[i]) > 50) fast = 0;
  }
  for (size_t i = 0; i < p->n && fast; i++) E[i] = exp_inline(eta0[i]);
  for (size_t j = 1; j < d && fast; j++)
    for (size_t i = 0; i < p->n; i++) XT[(j - 1) * p->n + i] = p->X[i * d + j];
  double maxlw = -INFINITY, v[MAX_COEF];
  for (size_t s = 0; s + 1 < M; s += 2) {
    double zz = 0, u = gsl_ran_chisq(r, nu);
    for (size_t j = 0; j < d; j++) {
      z[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
      zz += z[j] * z[j];
    }
    double f = sqrt(nu / u), logq = -0.5 * (nu + d) * log1p(zz / u), ll[2];
    for (size_t i = 0; i < d; i++) {
      v[i] = 0;
      for (size_t j = 0; j <= i; j++) v[i] += chol[i * d + j] * z[j];
      v[i] *= f;
      theta[s * d + i] = mode[i] + v[i];
      theta[(s + 1) * d + i] = mode[i] - v[i];
    }
    pair_loglik(p, eta0, y0, fast ? E : NULL, XT, v, ll);
    for (int k = 0; k < 2; k++) {
      w[s + k] = ll[k] + log_prior(p, theta + (s + k) * d) - logq;
      if (w[s + k] > maxlw) maxlw = w[s + k];
    }
  }
  double sum = 0;
  for (size_t s = 0; s < M; s++) sum += (w[s] = exp(w[s] - maxlw));
  for (size_t s = 0; s < M; s++) w[s] /= sum;
  return NULL;
}

/* Three-way partition of a[0..n) around pivot: a[0..*lt) < pivot == a[*lt..*gt) < a[*gt..n).
 * Returns the total weight of the lower part; *eq gets the weight of the middle. */
static double partition3(KeyWeight *a, size_t n, double pivot, size_t *lt, size_t *gt,
                         double *eq) {
  size_t l = 0, i = 0, g = n;
  double wl = 0, we = 0;
  while (i < g) {
    KeyWeight t = a[i];
    if (t.key < pivot) {
      a[i++] = a[l];
      a[l++] = t;
      wl += t.w;
    } else if (t.key > pivot) {
      a[i] = a[--g];
      a[g] = t;
    } else {
      we += t.w;
      i++;
    }
  }
  *lt = l, *gt = g, *eq = we;
  return wl;
}

/* Median of the keys of a[0], a[n/2], a[n-1] (n > 0). */
static double pivot3(const KeyWeight *a, size_t n) {
  double x = a[0].key, y = a[n / 2].key, z = a[n - 1].key;
  return x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
}

/* The weighted q-quantile of a[0..n): the first key, in ascending order, at which the running
 * sum of weights reaches q (the last key if it never does), in expected O(n) by three-way
 * partitioning instead of a sort. Reorders a. */
static double weighted_quantile(KeyWeight *a, size_t n, double q) {
  while (n > 16) {
    size_t lt, gt;
    double we, wl = partition3(a, n, pivot3(a, n), &lt, &gt, &we);
    if (lt > 0 && q <= wl) {
      n = lt;
    } else if (q <= wl + we || gt == n) {
      return a[lt].key;
    } else {
      q -= wl + we;
      a += gt;
      n -= gt;
    }
  }
  sort_keys(a, n);
  size_t s = 0;
  double cum = a[0].w;
  while (cum < q && s + 1 < n) cum += a[++s].w;
  return a[s].key;
}

/* The weighted q-quantile (as weighted_quantile) of column x[0], x[stride], ... of M draws with
 * weights w. Brackets the answer between two keys of a sorted sample of 63 (about the q-th
 * fraction of the weight, +-4 sample ranks), gathers the keys inside the bracket in one pass
 * and selects among those; falls back to the full selection when the bracket misses. kw and
 * sample (M entries each) are workspace. */
static double column_quantile(const double *x, size_t stride, const double *w, size_t M,
                              double q, KeyWeight *kw, double *sample) {
  enum { S = 63 };
  if (M >= 32 * S) {
    for (size_t k = 0; k < S; k++) sample[k] = x[(k * (M / S) + M / (2 * S)) * stride];
    for (size_t k = 1; k < S; k++) { /* insertion sort of the sample */
      double t = sample[k];
      size_t m = k;
      while (m > 0 && sample[m - 1] > t) sample[m] = sample[m - 1], m--;
      sample[m] = t;
    }
    long at = (long)(q * S), lo_i = at - 4, hi_i = at + 4;
    double lo = lo_i < 0 ? -INFINITY : sample[lo_i], hi = hi_i >= S ? INFINITY : sample[hi_i];
    double below = 0;
    size_t n = 0;
    for (size_t s = 0; s < M; s++) {
      double v = x[s * stride];
      if (v < lo) below += w[s];
      else if (v <= hi) kw[n++] = (KeyWeight){v, w[s]};
    }
    double inside = 0;
    for (size_t k = 0; k < n; k++) inside += kw[k].w;
    /* the bracket holds the answer when the weight below it is short of q and the weight up to
     * its top reaches q (or nothing lies above it) */
    if (n > 0 && below < q && (below + inside >= q || hi == INFINITY))
      return weighted_quantile(kw, n, q - below);
  }
  for (size_t s = 0; s < M; s++) kw[s] = (KeyWeight){x[s * stride], w[s]};
  return weighted_quantile(kw, M, q);
}

/* Moves the k-th smallest key of a[0..n) to a[k], smaller ones before it, larger after. */
static void select_kth(KeyWeight *a, size_t n, size_t k) {
  while (n > 16) {
    size_t lt, gt;
    double we;
    partition3(a, n, pivot3(a, n), &lt, &gt, &we);
    if (k < lt) {
      n = lt;
    } else if (k < gt) {
      return;
    } else {
      a += gt, n -= gt, k -= gt;
    }
  }
  sort_keys(a, n);
}

/* The options of a posterior fit, read once from Lua. */
typedef struct {
  size_t M, nq;
  double nu, qs[16];
  int keep;
} PostOpts;

/* What one posterior fit produces: filled without touching Lua (in a worker thread). */
typedef struct {
  const char *err;
  size_t n, d;
  double mean[MAX_COEF], sd[MAX_COEF], mcse[MAX_COEF], mode[MAX_COEF], q[16][MAX_COEF];
  double ess, khat;
  double *draws; /* M x d unweighted draws (systematic resampling) when keep_draws, else NULL */
} Summary;

/* Per-thread workspace of the sampler, sized for the largest group. */
typedef struct {
  double *theta, *w, *tail, *eta0, *E, *XT;
  KeyWeight *kw;
} Work;

/* Fills out from the draws theta (M x d, intercept uncentred in column 0) with weights w:
 * mean, sd, mcse (antithetic pairs are the independent units), ess, Pareto k of the largest
 * weights' exceedances (PSIS tail length), weighted quantiles, and the resampled draws.
 * kw and tail (M entries each) are workspace. */
static void summarise(const double *theta, const double *w, size_t d, const PostOpts *o,
                      KeyWeight *kw, double *tail, gsl_rng *r, Summary *out) {
  size_t M = o->M;
  double *mean = out->mean, *sd = out->sd, *mcse = out->mcse, ess = 0;
  memset(mean, 0, sizeof out->mean);
  memset(sd, 0, sizeof out->sd);
  memset(mcse, 0, sizeof out->mcse);
  for (size_t s = 0; s < M; s++)
    for (size_t j = 0; j < d; j++) mean[j] += w[s] * theta[s * d + j];
  for (size_t s = 0; s < M; s++) {
    ess += w[s] * w[s];
    for (size_t j = 0; j < d; j++) sd[j] += w[s] * pow(theta[s * d + j] - mean[j], 2);
  }
  for (size_t s = 0; s + 1 < M; s += 2)
    for (size_t j = 0; j < d; j++)
      mcse[j] += pow(w[s] * (theta[s * d + j] - mean[j]) + w[s + 1] * (theta[(s + 1) * d + j] -
                     mean[j]), 2);
  for (size_t j = 0; j < d; j++) {
    sd[j] = sqrt(sd[j]);
    mcse[j] = sqrt(mcse[j]);
  }
  out->ess = 1.0 / ess;
  size_t nt = (size_t)ceil(fmin(0.2 * M, 3 * sqrt((double)M)));
  for (size_t s = 0; s < M; s++) kw[s] = (KeyWeight){w[s], 0};
  select_kth(kw, M, M - nt - 1);
  double cut = kw[M - nt - 1].key;
  KeyWeight *top = kw + M - nt;
  sort_keys(top, nt);
  for (size_t i = 0; i < nt; i++) tail[i] = top[i].key - cut;
  out->khat = pareto_khat(tail, nt);
  for (size_t j = 0; j < d; j++) {
    for (size_t i = 0; i < o->nq; i++) out->q[i][j] = column_quantile(theta + j, d, w, M,
                                                                      o->qs[i], kw, tail);
  }
  if (out->draws) {
    double u = gsl_rng_uniform(r) / (double)M, cum = w[0];
    size_t src = 0;
    for (size_t s = 0; s < M; s++, u += 1.0 / (double)M) {
      while (cum < u && src + 1 < M) cum += w[++src];
      memcpy(out->draws + s * d, theta + src * d, d * sizeof(double));
    }
  }
}

/* One posterior fit of p (centred by means) into out, with workspace wk. No Lua calls. */
static void posterior_fit(const Problem *p, const double *means, gsl_rng *r, const PostOpts *o,
                          Work *wk, Summary *out) {
  Info info;
  out->n = p->n;
  out->d = p->d;
  out->err = NULL;
  if (p->n == 0) {
    out->err = "no observations";
    return;
  }
  out->err = sample_posterior(p, r, o->M, o->nu, wk->theta, wk->w, wk->eta0, wk->E, wk->XT,
                              out->mode, &info);
  if (out->err) return;
  for (size_t s = 0; s < o->M; s++) uncentre(wk->theta + s * p->d, NULL, means, p->d);
  uncentre(out->mode, NULL, means, p->d);
  summarise(wk->theta, wk->w, p->d, o, wk->kw, wk->tail, r, out);
}

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
  double M = opt_number(L, oi, "draws", 4000);
  if (!(M >= 100 && M <= 1e8) || fmod(M, 2) != 0)
    luaL_error(L, "option 'draws' must be an even number >= 100");
  o->M = (size_t)M;
  o->nu = opt_number(L, oi, "proposal_df", 7);
  if (!(o->nu > 0)) luaL_error(L, "option 'proposal_df' must be positive");
  o->keep = opt_bool(L, oi, "keep_draws", 0);
}

/* Pushes a workspace for groups of up to nmax observations and d coefficients (one userdata).
 * Stack: +1. */
static void push_work(lua_State *L, const PostOpts *o, size_t nmax, size_t d, Work *wk) {
  size_t M = o->M, bytes = (M * d + 2 * M + (3 + d) * nmax + 3) * sizeof(double) +
                            M * sizeof(KeyWeight);
  double *base = lua_newuserdatauv(L, bytes, 0);
  wk->theta = base;
  wk->w = wk->theta + M * d;
  wk->tail = wk->w + M;
  wk->eta0 = wk->tail + M;
  wk->E = wk->eta0 + nmax + 1;
  wk->XT = wk->E + 2 * nmax + 1;
  wk->kw = (KeyWeight *)(wk->XT + d * nmax + 1);
}

/* Pushes the posterior summary table of s (see stats.posterior). Stack: +1. */
static void push_summary(lua_State *L, const Summary *s, const PostOpts *o) {
  size_t d = s->d;
  lua_createtable(L, 0, 14);
  push_vector(L, s->mean + 1, d - 1, 1);
  lua_setfield(L, -2, "coef");
  push_vector(L, s->sd + 1, d - 1, 1);
  lua_setfield(L, -2, "sd");
  push_vector(L, s->mcse + 1, d - 1, 1);
  lua_setfield(L, -2, "mcse");
  set_number(L, "intercept", s->mean[0]);
  set_number(L, "intercept_sd", s->sd[0]);
  set_number(L, "intercept_mcse", s->mcse[0]);
  set_number(L, "ess", s->ess);
  set_number(L, "khat", s->khat);
  lua_createtable(L, (int)o->nq, 0);
  for (size_t i = 0; i < o->nq; i++) {
    lua_createtable(L, 0, 3);
    set_number(L, "q", o->qs[i]);
    set_number(L, "intercept", s->q[i][0]);
    push_vector(L, s->q[i] + 1, d - 1, 1);
    lua_setfield(L, -2, "coef");
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "quantiles");
  if (s->draws) {
    lua_createtable(L, (int)o->M, 0);
    for (size_t k = 0; k < o->M; k++) {
      push_vector(L, s->draws + k * d, d, 1);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "draws");
  }
  lua_pushinteger(L, (lua_Integer)o->M);
  lua_setfield(L, -2, "draw_count");
  push_vector(L, s->mode + 1, d - 1, 1);
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
  check_fit_args(L, "stats.posterior", POSTERIOR_KEYS);
  read_post_opts(L, 3, &o);
  gsl_rng *r = call_rng(L, 3);
  build_problem(L, "stats.posterior", 1, 2, 3, &p, 1, means);
  push_work(L, &o, p.n, p.d, &wk);
  s = lua_newuserdatauv(L, sizeof(Summary), 0);
  s->draws = o.keep ? scratch(L, o.M * p.d) : NULL;
  posterior_fit(&p, means, r, &o, &wk, s);
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
    posterior_fit(&b->probs[g], b->means + g * MAX_COEF, w->r, b->o, &w->wk, &b->out[g]);
  }
  return NULL;
}

/* Number of worker threads: opts.threads, or the online processors (at most 64). */
static int thread_count(lua_State *L, int oi, size_t groups) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  double t = opt_number(L, oi, "threads", (double)(n > 0 ? n : 1));
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
  double *means = scratch(L, n * MAX_COEF);
  unsigned long *seeds = lua_newuserdatauv(L, n * sizeof(unsigned long), 0);
  Summary *out = lua_newuserdatauv(L, n * sizeof(Summary), 0);
  for (int k = 0; k < 4; k++) lua_rawseti(L, anchor, ++nanchor);
  unsigned long seed = (unsigned long)opt_number(L, 2, "seed", 1);
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
    build_problem(L, where, gi + 1, gi + 2, oi, &probs[g - 1], 1, means + (g - 1) * MAX_COEF);
    while (lua_gettop(L) > built) lua_rawseti(L, anchor, ++nanchor); /* keep the buffers */
    lua_settop(L, base);
    Summary *s = &out[g - 1];
    s->draws = NULL;
    if (o.keep) {
      s->draws = scratch(L, o.M * probs[g - 1].d);
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
    ws[t].r = new_rng(L, 1)->r; /* a handle: freed by the GC even if something raises */
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
  int max_iter = (int)opt_number(L, 2, "max_iter", 200);
  gsl_rng *r = call_rng(L, 2); /* stack 3 */
  lua_Integer count = luaL_len(L, 1);
  if (kind == 0) return fit_many_posterior(L, count, r);
  lua_createtable(L, (int)count, 0); /* stack 4 */
  char where[64];
  for (lua_Integer g = 1; g <= count; g++) {
    check_interrupt(L);
    snprintf(where, sizeof where, "stats.fit_many: groups[%d]", (int)g);
    int oi;
    push_group(L, g, where, &oi);
    Problem p;
    double means[MAX_COEF];
    build_problem(L, where, 6, 7, oi, &p, kind != 2, means); /* group at 5: X 6, y 7 */
    int nres = fit_and_push(L, &p, 1, kind == 1 ? means : NULL, max_iter);
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
  size_t M = (size_t)opt_number(L, 2, "draws", 4000);
  uint64_t state = (uint64_t)opt_number(L, 2, "seed", 1) * 0x9E3779B97F4A7C15ull + 1;
  lua_Integer count = luaL_len(L, 1);
  double total = 0, secs = 0, means[MAX_COEF];
  for (lua_Integer g = 1; g <= count; g++) {
    int base = lua_gettop(L);
    if (lua_geti(L, 1, g) != LUA_TTABLE) luaL_error(L, "stats.loglik_floor: groups[%d] is not a table", (int)g);
    lua_getfield(L, base + 1, "X");
    lua_getfield(L, base + 1, "y");
    Problem p;
    build_problem(L, "stats.loglik_floor", base + 2, base + 3, 2, &p, 1, means);
    double *B = scratch(L, M * p.d);
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
  double *b = read_vector(L, 1, "stats.scale_weights", "argument #1", &n);
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
static void mean_sd(const double *x, size_t n, double *mean, double *sd) {
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
  mean_sd(x, n, &mx, &sx);
  mean_sd(y, n, &my, &sy);
  for (size_t i = 0; i < n; i++) c += (x[i] - mx) * (y[i] - my);
  return c / ((double)(n - 1) * sx * sy);
}

/* Replaces x by its ranks (1-based, ties get their average rank). Uses kw as workspace. */
static void rank_in_place(double *x, size_t n, KeyWeight *kw) {
  for (size_t i = 0; i < n; i++) kw[i] = (KeyWeight){x[i], (double)i};
  sort_keys(kw, n);
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
  *x = read_vector(L, 1, fname, "x", &nx);
  *y = read_vector(L, 2, fname, "y", &ny);
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
  set_number(L, "r", r);
  set_number(L, "lo", tanh(z - h));
  set_number(L, "hi", tanh(z + h));
  set_number(L, "p", 2 * gsl_cdf_tdist_Q(fabs(t), (double)n - 2));
  set_number(L, "level", level);
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, "n");
}

/* stats.pearson(x, y [, opts{level=0.95}]) -> {r, lo, hi, n, p, level} | nil, err (constant
 * input). stats.spearman: the same on average ranks. */
static int correlation(lua_State *L, int ranked) {
  const char *fname = ranked ? "stats.spearman" : "stats.pearson";
  static const char *const keys[] = {"level", NULL};
  binding_check_options(L, 3, fname, keys);
  double level = opt_number(L, 3, "level", 0.95), *x, *y, sx, sy, m;
  if (!(level > 0 && level < 1)) luaL_argerror(L, 3, "option 'level' must be in (0, 1)");
  size_t n = read_pairs(L, fname, &x, &y);
  if (ranked) {
    KeyWeight *kw = lua_newuserdatauv(L, n * sizeof(KeyWeight), 0);
    rank_in_place(x, n, kw);
    rank_in_place(y, n, kw);
  }
  mean_sd(x, n, &m, &sx);
  mean_sd(y, n, &m, &sy);
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
  double *x = read_vector(L, 1, "stats.zscore", "x", &n), m, sd;
  if (n < 2) return luaL_argerror(L, 1, "need at least 2 values");
  mean_sd(x, n, &m, &sd);
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
  int icpt = opt_bool(L, 3, "intercept", 1);
  double level = opt_number(L, 3, "level", 0.95);
  size_t n, k, ny;
  double *X = read_matrix(L, 1, "stats.ols", "X", icpt, &n, &k);
  double *y = read_vector(L, 2, "stats.ols", "y", &ny);
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
  mean_sd(y, n, &my, &sy);
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
  push_vector(L, lo + icpt, d - icpt, 1);
  lua_setfield(L, -2, "lo");
  push_vector(L, hi + icpt, d - icpt, 1);
  lua_setfield(L, -2, "hi");
  lua_pushinteger(L, (lua_Integer)(n - d));
  lua_setfield(L, -2, "df");
  set_number(L, "sigma", sqrt(s2));
  set_number(L, "r2", 1 - s2 * (double)(n - d) / (sy * sy * (double)(n - 1)));
  return 1;
}

/* stats.slope_difference(x1, y1, x2, y2 [, opts{level}]) -> {diff, se, lo, hi, df, slope1,
 * slope2} | nil, err: slope2 - slope1 from y ~ x * group with a pooled residual variance. */
static int l_slope_difference(lua_State *L) {
  static const char *const keys[] = {"level", NULL};
  const char *fname = "stats.slope_difference";
  binding_check_options(L, 5, fname, keys);
  double level = opt_number(L, 5, "level", 0.95);
  size_t n1, n2, m1, m2;
  double *x1 = read_vector(L, 1, fname, "x1", &n1), *y1 = read_vector(L, 2, fname, "y1", &m1);
  double *x2 = read_vector(L, 3, fname, "x2", &n2), *y2 = read_vector(L, 4, fname, "y2", &m2);
  if (n1 != m1 || n2 != m2) luaL_error(L, "%s: x and y lengths differ", fname);
  size_t n = n1 + n2;
  double *X = scratch(L, n * 4), *y = scratch(L, n), b[4], cov[16];
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
  set_number(L, "diff", b[3]);
  set_number(L, "se", se);
  set_number(L, "lo", b[3] - tq * se);
  set_number(L, "hi", b[3] + tq * se);
  set_number(L, "slope1", b[2]);
  set_number(L, "slope2", b[2] + b[3]);
  lua_pushinteger(L, (lua_Integer)(n - 4));
  lua_setfield(L, -2, "df");
  return 1;
}

/* Centred cross products of x and y over the rows listed in idx[0..m): sxx, sxy, syy. */
static void cross_products(const double *x, const double *y, const size_t *idx, size_t m,
                           double out[3]) {
  double mx = 0, my = 0;
  for (size_t i = 0; i < m; i++) mx += x[idx[i]], my += y[idx[i]];
  mx /= (double)m, my /= (double)m;
  out[0] = out[1] = out[2] = 0;
  for (size_t i = 0; i < m; i++) {
    double dx = x[idx[i]] - mx, dy = y[idx[i]] - my;
    out[0] += dx * dx, out[1] += dx * dy, out[2] += dy * dy;
  }
}

/* The bootstrap statistic over the rows idx[0..m): slope of y on x, or Pearson r when use_r;
 * NAN when undefined (x or y constant). */
static double statistic(const double *x, const double *y, const size_t *idx, size_t m,
                        int use_r) {
  double c[3];
  cross_products(x, y, idx, m, c);
  if (!(c[0] > 0)) return NAN;
  if (!use_r) return c[1] / c[0];
  return c[2] > 0 ? c[1] / sqrt(c[0] * c[2]) : NAN;
}

/* stats.cluster_bootstrap(x, y, clusters [, opts]) -> {estimate, se, lo, hi, reps, clusters}
 * | nil, err: resamples whole clusters (contexts) with replacement and recomputes the slope of
 * y on x (statistic = "slope", default) or Pearson r ("r"); percentile interval at `level`.
 * opts: reps (1000), level (0.95), statistic, seed | rng. */
static int l_cluster_bootstrap(lua_State *L) {
  static const char *const keys[] = {"reps", "level", "statistic", "seed", "rng", NULL};
  const char *fname = "stats.cluster_bootstrap";
  binding_check_options(L, 4, fname, keys);
  lua_settop(L, 4);
  double level = opt_number(L, 4, "level", 0.95);
  long reps = (long)opt_number(L, 4, "reps", 1000);
  int use_r = 0;
  if (!lua_isnil(L, 4)) {
    lua_getfield(L, 4, "statistic");
    const char *st = luaL_optstring(L, -1, "slope");
    if (strcmp(st, "r") == 0) use_r = 1;
    else if (strcmp(st, "slope") != 0) luaL_argerror(L, 4, "option 'statistic' must be slope or r");
    lua_pop(L, 1);
  }
  if (reps < 10) luaL_argerror(L, 4, "option 'reps' must be >= 10");
  gsl_rng *r = call_rng(L, 4);
  size_t n, nc;
  double *x, *y;
  n = read_pairs(L, fname, &x, &y);
  double *cl = read_vector(L, 3, fname, "clusters", &nc);
  if (nc != n) luaL_error(L, "%s: %d cluster ids for %d rows", fname, (int)nc, (int)n);
  /* order rows by cluster; starts[c] .. starts[c+1] are cluster c's rows */
  KeyWeight *kw = lua_newuserdatauv(L, n * sizeof(KeyWeight), 0);
  size_t *order = lua_newuserdatauv(L, n * sizeof(size_t), 0);
  size_t *starts = lua_newuserdatauv(L, (n + 1) * sizeof(size_t), 0);
  size_t *pick = lua_newuserdatauv(L, n * sizeof(size_t), 0);
  double *stat = scratch(L, (size_t)reps);
  for (size_t i = 0; i < n; i++) kw[i] = (KeyWeight){cl[i], (double)i};
  sort_keys(kw, n);
  size_t C = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || kw[i].key != kw[i - 1].key) starts[C++] = i;
    order[i] = (size_t)kw[i].w;
  }
  starts[C] = n;
  if (C < 2) luaL_error(L, "%s: need at least 2 clusters, got %d", fname, (int)C);
  for (size_t i = 0; i < n; i++) pick[i] = i;
  double estimate = statistic(x, y, pick, n, use_r);
  size_t valid = 0;
  for (long b = 0; b < reps; b++) {
    size_t m = 0;
    for (size_t c = 0; c < C; c++) {
      size_t k = gsl_rng_uniform_int(r, C);
      for (size_t i = starts[k]; i < starts[k + 1]; i++) pick[m++] = order[i];
    }
    double s = statistic(x, y, pick, m, use_r);
    if (!isnan(s)) stat[valid++] = s;
  }
  if (valid < 10 || isnan(estimate)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: the statistic is undefined (x or y constant)", fname);
    return 2;
  }
  sort_doubles(stat, valid, lua_newuserdatauv(L, valid * sizeof(KeyWeight), 0));
  double m, sd;
  mean_sd(stat, valid, &m, &sd);
  double a = (1 - level) / 2;
  lua_createtable(L, 0, 6);
  set_number(L, "estimate", estimate);
  set_number(L, "se", sd);
  set_number(L, "lo", stat[(size_t)floor(a * (double)(valid - 1))]);
  set_number(L, "hi", stat[(size_t)ceil((1 - a) * (double)(valid - 1))]);
  lua_pushinteger(L, (lua_Integer)valid);
  lua_setfield(L, -2, "reps");
  lua_pushinteger(L, (lua_Integer)C);
  lua_setfield(L, -2, "clusters");
  return 1;
}

/* ---------------------------------------------------------------- module */

static const luaL_Reg stats_funcs[] = {
    {"rng", l_rng},
    {"logistic", l_logistic},
    {"posterior", l_posterior},
    {"fit_many", l_fit_many},
    {"loglik_floor", l_loglik_floor},
    {"round", l_round},
    {"scale_weights", l_scale_weights},
    {"pearson", l_pearson},
    {"spearman", l_spearman},
    {"zscore", l_zscore},
    {"ols", l_ols},
    {"slope_difference", l_slope_difference},
    {"cluster_bootstrap", l_cluster_bootstrap},
    {NULL, NULL}};

static const luaL_Reg rng_methods[] = {
    {"uniform", l_rng_uniform}, {"normal", l_rng_normal}, {"close", l_rng_close}, {NULL, NULL}};

/* Opens the module: turns GSL's abort-on-error handler off, registers the rng metatable and
 * pushes the function table. Stack: +1. */
int luaopen_introspect_stats(lua_State *L) {
  gsl_set_error_handler_off();
  handle_register(L, RNG_TYPE, rng_methods, l_rng_close, l_rng_tostring);
  luaL_newlib(L, stats_funcs);
  return 1;
}
