/* Internal to the introspect.stats module, shared by its four source files: bindings/stats.c
 * (scratch buffers, option readers, the rng handle, logistic regression, correlations, OLS,
 * the module table), bindings/stats_sampler.c (the posterior sampler and its summaries,
 * without Lua; sorting), bindings/stats_posterior.c (stats.posterior, the threaded
 * stats.fit_many, stats.loglik_floor) and bindings/stats_bootstrap.c
 * (stats.cluster_bootstrap). Every symbol declared here is hidden:
 * linked into the host it is not exported, so no other module can bind to it. */
#ifndef INTROSPECT_STATS_INTERNAL_H
#define INTROSPECT_STATS_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "lauxlib.h"
#include "lua.h"

#define STATS_INTERNAL __attribute__((visibility("hidden")))
#define RNG_TYPE "introspect.stats.rng"
#define MAX_COEF 64

/* A stats.rng handle (userdata of metatable RNG_TYPE). */
typedef struct {
  gsl_rng *r;
  int closed;
} Rng;

/* A logistic regression problem: data, case weights and priors. */
typedef struct {
  size_t n, d;       /* observations, coefficients (column 0 is the intercept if any) */
  const double *X;   /* n x d, row-major */
  const double *y;   /* outcomes in [0, 1] (soft labels allowed) */
  const double *w;   /* case weights, or NULL */
  double pmean[MAX_COEF], psd[MAX_COEF]; /* Gaussian prior; psd = INFINITY means flat */
  int t_index;                           /* coefficient with a Student-t prior, or -1 */
  double t_df, t_loc, t_scale;
} Problem;

/* What Newton's method reports about a fit. */
typedef struct {
  int iterations, converged, separated, extreme; /* extreme: fitted p numerically 0 or 1 */
  double logpost, max_eta;
} Info;

/* A sort key with a payload (a weight, or a row index stored as a double). */
typedef struct {
  double key, w;
} KeyWeight;

/* log(1 + exp(x)) without overflow. */
static inline double log1pexp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* Log prior density of b (up to a constant). */
static inline double log_prior(const Problem *p, const double *b) {
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

/* stats.c: Lua-side helpers (see their definitions for the contracts). */
STATS_INTERNAL double *stats_scratch(lua_State *L, size_t count);
STATS_INTERNAL double *stats_read_vector(lua_State *L, int idx, const char *fname,
                                         const char *what, size_t *n);
STATS_INTERNAL void stats_mean_sd(const double *x, size_t n, double *mean, double *sd);
STATS_INTERNAL double stats_opt_number(lua_State *L, int idx, const char *key, double def);
STATS_INTERNAL int stats_opt_bool(lua_State *L, int idx, const char *key, int def);
STATS_INTERNAL void stats_push_vector(lua_State *L, const double *v, size_t n, size_t stride);
STATS_INTERNAL void stats_set_number(lua_State *L, const char *key, double v);
STATS_INTERNAL void stats_check_interrupt(lua_State *L);
STATS_INTERNAL Rng *stats_new_rng(lua_State *L, unsigned long seed);
STATS_INTERNAL gsl_rng *stats_call_rng(lua_State *L, int opts);

/* stats.c: logistic regression. */
STATS_INTERNAL const char *stats_newton(const Problem *p, double *b, double *cov, Info *info,
                                        int max_iter);
STATS_INTERNAL void stats_build_problem(lua_State *L, const char *fname, int xi, int yi, int oi,
                                        Problem *p, int study, double *means);
STATS_INTERNAL void stats_uncentre(double *b, double *cov, const double *means, size_t d);
STATS_INTERNAL int stats_fit_and_push(lua_State *L, const Problem *p, int icpt,
                                      const double *means, int max_iter);
STATS_INTERNAL void stats_check_fit_args(lua_State *L, const char *fname,
                                         const char *const *keys);

/* Per-thread workspace of the sampler, sized for the largest group. */
typedef struct {
  double *theta, *w, *tail, *eta0, *E, *Y, *XT;
  KeyWeight *kw;
} Work;

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

/* stats_sampler.c: one posterior fit (no Lua calls), its workspace, and sorting. */
STATS_INTERNAL void stats_posterior_fit(const Problem *p, const double *means, gsl_rng *r,
                                        const PostOpts *o, Work *wk, Summary *out);
STATS_INTERNAL size_t stats_work_carve(Work *wk, void *base, size_t M, size_t nmax, size_t d);
STATS_INTERNAL void stats_sort_keys(KeyWeight *a, size_t n);
STATS_INTERNAL void stats_sort_doubles(double *x, size_t n, KeyWeight *kw);

/* stats_posterior.c, stats_bootstrap.c: their functions of the module table. */
STATS_INTERNAL extern const luaL_Reg stats_posterior_funcs[];
STATS_INTERNAL extern const luaL_Reg stats_bootstrap_funcs[];

#endif
