/* introspect.stats, second source file: the study's Bayesian posterior by importance sampling
 * from a Laplace-centred multivariate t (antithetic pairs, Pareto-k and ESS diagnostics,
 * weighted quantiles), stats.posterior, the bulk stats.fit_many on worker threads, and
 * stats.loglik_floor for make bench. The module table is in bindings/stats.c; the shared
 * helpers are declared in bindings/stats_internal.h. See docs/statistics.md. */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
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

/* Sorts a[0..n) by key, ascending (quicksort with a middle pivot and Hoare partitioning,
 * insertion sort for short runs; inlined comparisons, several times faster than qsort). */
void stats_sort_keys(KeyWeight *a, size_t n) {
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
      stats_sort_keys(a, left);
      a += left, n -= left;
    } else {
      stats_sort_keys(a + left, n - left);
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
void stats_sort_doubles(double *x, size_t n, KeyWeight *kw) {
  for (size_t i = 0; i < n; i++) kw[i] = (KeyWeight){x[i], 0};
  stats_sort_keys(kw, n);
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
  const char *err = stats_newton(p, mode, cov, info, 200);
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
      w[s + k] = ll[k] + stats_log_prior(p, theta + (s + k) * d) - logq;
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
  stats_sort_keys(a, n);
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
  stats_sort_keys(a, n);
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
  stats_sort_keys(top, nt);
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
  for (size_t s = 0; s < o->M; s++) stats_uncentre(wk->theta + s * p->d, NULL, means, p->d);
  stats_uncentre(out->mode, NULL, means, p->d);
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
