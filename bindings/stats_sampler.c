/* introspect.stats, third source file: the posterior sampler itself, without Lua (it runs in
 * worker threads): Newton's mode, the antithetic multivariate-t proposal, the pair
 * log-likelihood four observations at a time, the self-normalised weights, and the summaries
 * (moments, Pareto k, weighted quantiles, resampled draws); also the sorting shared with
 * bindings/stats.c. The Lua side is bindings/stats_posterior.c. See docs/statistics.md. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "stats_internal.h"

/* The mean of log1p(-t x[i]) over the n values x, ascending and >= 0, as the log of the
 * running product of the factors 1 - t x[i], each split exactly into mantissa and binary
 * exponent as it is multiplied in: one log instead of n (each term is off by the rounding of
 * 1 - t x[i], at most 1.1e-16 absolute). Falls back to log1p when a factor lies outside
 * [2^-1000, 2^1000]. */
static double mean_log1m(const double *x, size_t n, double t) {
  double f0 = 1 - t * x[0], f1 = 1 - t * x[n - 1]; /* the factors are monotone in x */
  double k = 0;
  if (!(fmin(f0, f1) >= 0x1p-1000 && fmax(f0, f1) <= 0x1p1000)) {
    for (size_t i = 0; i < n; i++) k += log1p(-t * x[i]);
    return k / (double)n;
  }
  double m = 1;
  int64_t e = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t b;
    m *= 1 - t * x[i];
    memcpy(&b, &m, sizeof b);
    e += (int64_t)(b >> 52) - 1023;
    b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    memcpy(&m, &b, sizeof m);
  }
  return (log(m) + (double)e * 0x1.62e42fefa39efp-1) / (double)n;
}

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
    double k = mean_log1m(x, n, theta[j]);
    lt[j] = n * (log(-theta[j] / k) - k - 1);
    if (lt[j] > best) best = lt[j];
  }
  double wsum = 0, th = 0;
  for (size_t j = 0; j < m; j++) wsum += exp(lt[j] - best);
  for (size_t j = 0; j < m; j++) th += theta[j] * exp(lt[j] - best) / wsum;
  double k = mean_log1m(x, n, th);
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

/* Four doubles (or 64-bit integers) as one value, by the GCC/Clang vector extension: lane-wise
 * IEEE arithmetic, compiled to AVX2, to pairs of SSE2 registers (or NEON, or scalars) alike, so
 * every build on every CPU computes the same bits (ISO C mode: no contraction into FMA). Only
 * passed by pointer: by value, their calling convention depends on the instruction set. */
typedef double v4d __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));
typedef int64_t v4i __attribute__((vector_size(32)));
#define LANES 4
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* The hot loops in two clones, AVX2 and the x86-64 baseline, chosen once when the module loads
 * (GCC on x86-64 GNU/Linux; elsewhere the one portable build). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define HOT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HOT_CLONES
#endif

static const double EXP_SHIFT = 0x1.8p52, LOG2E = 0x1.71547652b82fep0;
static const double LN2_HI = 0x1.62e42feep-1, LN2_LO = 0x1.a39ef35793c76p-33;

/* p = exp(r) for |r| <= ln2/2 by the degree-13 Taylor polynomial (Horner), for a double or a
 * v4d r alike. */
#define EXP_POLY(p, r)                                                                        \
  do {                                                                                        \
    p = 1.0 / 6227020800.0 * r + 1.0 / 479001600.0;                                         \
    p = p * r + 1.0 / 39916800.0;                                                             \
    p = p * r + 1.0 / 3628800.0;                                                              \
    p = p * r + 1.0 / 362880.0;                                                               \
    p = p * r + 1.0 / 40320.0;                                                                \
    p = p * r + 1.0 / 5040.0;                                                                 \
    p = p * r + 1.0 / 720.0;                                                                  \
    p = p * r + 1.0 / 120.0;                                                                  \
    p = p * r + 1.0 / 24.0;                                                                   \
    p = p * r + 1.0 / 6.0;                                                                    \
    p = p * r + 0.5;                                                                          \
    p = p * r + 1.0;                                                                          \
    p = p * r + 1.0;                                                                          \
  } while (0)

/* exp(x) for |x| <= 700 without a library call: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite
 * split of ln2), exp(r) by EXP_POLY (truncation below 3e-18 relative), 2^k assembled in the
 * exponent bits. Within 2.3e-16 relative of libm's exp over [-700, 700] (2e7 random points). */
static inline double exp_inline(double x) {
  double kd = x * LOG2E + EXP_SHIFT, r, p, scale; /* round to nearest: k in the low bits */
  uint64_t bits;
  memcpy(&bits, &kd, sizeof bits);
  kd -= EXP_SHIFT;
  r = (x - kd * LN2_HI) - kd * LN2_LO;
  EXP_POLY(p, r);
  bits = (bits + 1023) << 52; /* low bits of kd + shift hold k (two's complement) */
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/* *y = exp(*x) lane by lane with exp_inline's operations (the same bits), for |x| <= 700. */
ALWAYS_INLINE void exp4(v4d *y, const v4d *x) {
  v4d kd = *x * LOG2E + EXP_SHIFT, r, p, scale;
  v4u bits;
  memcpy(&bits, &kd, sizeof bits);
  kd -= EXP_SHIFT;
  r = (*x - kd * LN2_HI) - kd * LN2_LO;
  EXP_POLY(p, r);
  bits = (bits + 1023) << 52;
  memcpy(&scale, &bits, sizeof scale);
  *y = p * scale;
}

/* Loads 4 doubles from p (any alignment). */
ALWAYS_INLINE void load4(v4d *v, const double *p) { memcpy(v, p, sizeof *v); }

/* Each lane of *a becomes the smaller (lt) or larger (!lt) of it and the lane of *b. */
ALWAYS_INLINE void pick4(v4d *a, const v4d *b, int lt) {
  v4i take = lt ? *b < *a : *b > *a;
  v4u ua, ub;
  memcpy(&ua, a, sizeof ua);
  memcpy(&ub, b, sizeof ub);
  ua = (ua & ~(v4u)take) | (ub & (v4u)take);
  memcpy(a, &ua, sizeof ua);
}

/* Splits each lane of *m (positive and normal) into its mantissa in [1, 2), left in *m, and
 * its binary exponent, added to *e: exact, and the running product can never overflow. */
ALWAYS_INLINE void renorm4(v4d *m, v4i *e) {
  v4u b;
  memcpy(&b, m, sizeof b);
  *e += (v4i)(b >> 52) - 1023;
  b = (b & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
  memcpy(m, &b, sizeof b);
}

/* log(m[0] m[1] m[2] m[3] 2^(e[0] + ... + e[3])) for mantissas m in [1, 2): one log. */
static double log_lanes(const v4d *m, const v4i *e) {
  double k = (double)((*e)[0] + (*e)[1] + (*e)[2] + (*e)[3]); /* |k| < 2^21: k LN2_HI exact */
  return log((*m)[0] * (*m)[1] * (*m)[2] * (*m)[3]) + k * LN2_HI + k * LN2_LO;
}

/* The sum of the four lanes of v. */
static double sum_lanes(const v4d *v) { return ((*v)[0] + (*v)[1]) + ((*v)[2] + (*v)[3]); }

/* A problem's data laid out for pair_loglik_fast: observations padded to a multiple of LANES,
 * each column contiguous. A padded observation has all-zero predictors (intercept column
 * included), E = 0 and y = 0: its x.v is 0, exp(0) = 1, and both of its factors are exactly 1. */
typedef struct {
  size_t np;           /* padded number of observations */
  size_t d;            /* coefficients (column 0 the intercept's 1) */
  const double *XT;    /* d x np, column by column */
  const double *E, *Y; /* np each: exp(eta0) at the mode, the outcomes */
  double y0;           /* sum_i y_i eta0_i */
} Layout;

/* Largest |x.v| of an observation on the fast path. With |eta0| <= 50 every factor
 * 1 + exp(eta0 + c) lies in [1, 2^165) and every exp(c) + exp(eta0) in (2^-93, 2^94), so a
 * product over 4 blocks started from [1, 2) stays within (2^-373, 2^661): no overflow, no
 * denormals. */
#define FAST_C_MAX 64.0

/* pair_loglik_fast's loop for D coefficients (a constant when inlined, so the loop over the
 * coefficients unrolls). See pair_loglik_fast. */
ALWAYS_INLINE int pair_loglik_d(const Layout *lay, const double *v, double ll[2], size_t D) {
  size_t np = lay->np;
  v4d P1 = {1, 1, 1, 1}, P2 = {1, 1, 1, 1}, yc = {0, 0, 0, 0}, cs = {0, 0, 0, 0};
  v4i e1 = {0, 0, 0, 0}, e2 = {0, 0, 0, 0}, ok = {-1, -1, -1, -1};
  for (size_t o = 0, k = 0; o < np; o += LANES) {
    v4d c, x, ec, E, y;
    load4(&c, lay->XT + o);
    c *= v[0];
#pragma GCC unroll 8
    for (size_t j = 1; j < D; j++) {
      load4(&x, lay->XT + j * np + o);
      c += x * v[j];
    }
    v4u mag;
    memcpy(&mag, &c, sizeof mag);
    mag &= 0x7fffffffffffffffull; /* |c|, as bits: a NaN compares false below */
    memcpy(&x, &mag, sizeof x);
    ok &= x <= FAST_C_MAX;
    load4(&y, lay->Y + o);
    load4(&E, lay->E + o);
    yc += y * c;
    cs += c;
    exp4(&ec, &c);
    P1 *= E * ec + 1.0;
    P2 *= ec + E;
    if (++k == 4) { /* every 4 blocks: see FAST_C_MAX */
      k = 0;
      renorm4(&P1, &e1);
      renorm4(&P2, &e2);
    }
  }
  renorm4(&P1, &e1);
  renorm4(&P2, &e2);
  if (!(ok[0] & ok[1] & ok[2] & ok[3])) return 0;
  double ycs = sum_lanes(&yc);
  ll[0] = lay->y0 + ycs - log_lanes(&P1, &e1);
  ll[1] = lay->y0 - ycs - (log_lanes(&P2, &e2) - sum_lanes(&cs));
  return 1;
}

/* Log-likelihoods of the antithetic pair mode + v, mode - v (ll[0], ll[1]) from the layout
 * lay, LANES observations at a time. exp(eta0 + c) = E exp(c) and
 * 1 + exp(eta0 - c) = (exp(c) + E) / exp(c), so each observation costs one exp for both draws;
 * the sums of log(1 + exp(eta)) are logs of running products, renormalised (exactly) every 4
 * blocks, one log per draw. Returns 0, ll untouched, when some |c| > FAST_C_MAX (or is NaN): the
 * caller takes the exact path. */
HOT_CLONES static int pair_loglik_fast(const Layout *lay, const double *v, double ll[2]) {
  switch (lay->d) { /* the study's 6 coefficients and its neighbours, unrolled */
  case 2: return pair_loglik_d(lay, v, ll, 2);
  case 3: return pair_loglik_d(lay, v, ll, 3);
  case 4: return pair_loglik_d(lay, v, ll, 4);
  case 5: return pair_loglik_d(lay, v, ll, 5);
  case 6: return pair_loglik_d(lay, v, ll, 6);
  case 7: return pair_loglik_d(lay, v, ll, 7);
  case 8: return pair_loglik_d(lay, v, ll, 8);
  default: return pair_loglik_d(lay, v, ll, lay->d);
  }
}

/* Log-likelihoods of the antithetic pair mode + v, mode - v (ll[0], ll[1]) by the plain
 * formula (with case weights), the two draws sharing x.v; eta0: linear predictor at the mode. */
static void pair_loglik_exact(const Problem *p, const double *eta0, const double *v,
                              double ll[2]) {
  size_t d = p->d;
  ll[0] = ll[1] = 0;
  for (size_t i = 0; i < p->n; i++) {
    const double *x = p->X + i * d;
    double c = 0, wi = p->w ? p->w[i] : 1.0;
    for (size_t j = 0; j < d; j++) c += x[j] * v[j];
    double e1 = eta0[i] + c, e2 = eta0[i] - c;
    ll[0] += wi * (p->y[i] * e1 - log1pexp(e1));
    ll[1] += wi * (p->y[i] * e2 - log1pexp(e2));
  }
}

/* Turns the M log weights lw (M even, largest maxlw) into weights exp(lw - maxlw) normalised
 * to sum 1, four lanes at a time; below exp(-700) a weight is 0. */
HOT_CLONES static void normalise_weights(double *lw, size_t M, double maxlw) {
  v4d sum4 = {0, 0, 0, 0}, x, e, floor4 = {-700, -700, -700, -700};
  size_t end = M / LANES * LANES;
  for (size_t s = 0; s < end; s += LANES) {
    load4(&x, lw + s);
    x -= maxlw;
    v4u keep = (v4u)(x >= -700.0), bits;
    pick4(&x, &floor4, 0); /* exp4 needs x >= -700 */
    exp4(&e, &x);
    memcpy(&bits, &e, sizeof bits);
    bits &= keep;
    memcpy(&e, &bits, sizeof e);
    sum4 += e;
    memcpy(lw + s, &e, sizeof e);
  }
  double sum = sum_lanes(&sum4);
  for (size_t s = end; s < M; s++) {
    double t = lw[s] - maxlw;
    sum += (lw[s] = t < -700 ? 0 : exp_inline(t));
  }
  for (size_t s = 0; s < M; s++) lw[s] /= sum;
}

/* Fills eta0 (the linear predictor at the mode) and, when the fast path applies (no case
 * weights, every |eta0| <= 50), the layout lay in wk's buffers. Returns whether it applies. */
static int lay_out(const Problem *p, const double *mode, Work *wk, Layout *lay) {
  size_t n = p->n, d = p->d, np = (n + LANES - 1) / LANES * LANES;
  int fast = p->w == NULL;
  lay->np = np, lay->d = d, lay->y0 = 0;
  lay->XT = wk->XT, lay->E = wk->E, lay->Y = wk->Y;
  for (size_t i = 0; i < n; i++) {
    double eta = 0;
    for (size_t j = 0; j < d; j++) eta += p->X[i * d + j] * mode[j];
    wk->eta0[i] = eta;
    lay->y0 += p->y[i] * eta;
    if (!(fabs(eta) <= 50)) fast = 0;
  }
  if (!fast) return 0;
  for (size_t i = 0; i < np; i++) {
    wk->E[i] = i < n ? exp_inline(wk->eta0[i]) : 0;
    wk->Y[i] = i < n ? p->y[i] : 0;
    for (size_t j = 0; j < d; j++) wk->XT[j * np + i] = i < n ? p->X[i * d + j] : 0;
  }
  return 1;
}

/* Importance sampling of the posterior of p (predictors centred by means): proposal
 * multivariate t(nu) at the mode with the inverse negative Hessian as scale, M draws in
 * antithetic pairs. Fills wk->theta (d x M, column by column, intercept uncentred), wk->w (M,
 * normalised weights), mode (centred) and info. No Lua calls (runs in worker threads). Returns
 * NULL or a static message. */
static const char *sample_posterior(const Problem *p, const double *means, gsl_rng *r,
                                    size_t M, double nu, Work *wk, double *mode, Info *info) {
  size_t d = p->d;
  double cov[MAX_COEF * MAX_COEF], chol[MAX_COEF * MAX_COEF], z[MAX_COEF];
  double *theta = wk->theta, *w = wk->w;
  memset(mode, 0, d * sizeof(double));
  const char *err = stats_newton(p, mode, cov, info, 200);
  if (err) return err;
  if (!info->converged) return "posterior mode search did not converge";
  gsl_matrix_view cm = gsl_matrix_view_array(cov, d, d);
  if (gsl_linalg_cholesky_decomp1(&cm.matrix)) return "posterior covariance is not positive";
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) chol[i * d + j] = j <= i ? cov[i * d + j] : 0.0;
  Layout lay;
  int fast = lay_out(p, mode, wk, &lay);
  double mode0 = mode[0]; /* the intercept of the uncentred predictors at the mode */
  for (size_t j = 1; j < d; j++) mode0 -= means[j] * mode[j];
  double maxlw = -INFINITY, v[MAX_COEF], plus[MAX_COEF], minus[MAX_COEF];
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
      plus[i] = mode[i] + v[i];
      minus[i] = mode[i] - v[i];
      theta[i * M + s] = plus[i];
      theta[i * M + s + 1] = minus[i];
    }
    double v0 = v[0]; /* the intercept's step for the uncentred predictors */
    for (size_t j = 1; j < d; j++) v0 -= means[j] * v[j];
    theta[s] = mode0 + v0;
    theta[s + 1] = mode0 - v0;
    if (!fast || !pair_loglik_fast(&lay, v, ll)) pair_loglik_exact(p, wk->eta0, v, ll);
    w[s] = ll[0] + log_prior(p, plus) - logq;
    w[s + 1] = ll[1] + log_prior(p, minus) - logq;
    if (w[s] > maxlw) maxlw = w[s];
    if (w[s + 1] > maxlw) maxlw = w[s + 1];
  }
  normalise_weights(w, M, maxlw);
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

/* The smallest and largest of the M >= 4 values x (NaNs are skipped unless first). */
HOT_CLONES static void column_range(const double *x, size_t M, double *lo, double *hi) {
  v4d l, h, v;
  load4(&l, x);
  h = l;
  size_t s = LANES;
  for (; s + LANES <= M; s += LANES) {
    load4(&v, x + s);
    pick4(&l, &v, 1);
    pick4(&h, &v, 0);
  }
  *lo = l[0], *hi = h[0];
  for (int k = 1; k < LANES; k++) *lo = l[k] < *lo ? l[k] : *lo, *hi = h[k] > *hi ? h[k] : *hi;
  for (; s < M; s++) *lo = x[s] < *lo ? x[s] : *lo, *hi = x[s] > *hi ? x[s] : *hi;
}

/* The weighted mean of the M values x (M even) with weights w summing to 1, their weighted
 * variance, and the Monte Carlo variance of the mean with antithetic pairs (x[2i], x[2i+1]) as
 * the independent units (out[0..2]), four lanes at a time. */
HOT_CLONES static void column_moments(const double *x, const double *w, size_t M,
                                      double out[3]) {
  v4d acc = {0, 0, 0, 0}, xv, wv, u;
  size_t end = M / LANES * LANES;
  for (size_t s = 0; s < end; s += LANES) {
    load4(&xv, x + s);
    load4(&wv, w + s);
    acc += wv * xv;
  }
  double mean = sum_lanes(&acc), var = 0, mc = 0;
  for (size_t s = end; s < M; s++) mean += w[s] * x[s];
  acc = (v4d){0, 0, 0, 0};
  for (size_t s = 0; s < end; s += LANES) {
    load4(&xv, x + s);
    load4(&wv, w + s);
    xv -= mean;
    u = wv * xv;
    acc += u * xv;
    double t0 = u[0] + u[1], t1 = u[2] + u[3];
    mc += t0 * t0 + t1 * t1;
  }
  var = sum_lanes(&acc);
  for (size_t s = end; s < M; s += 2) {
    double u0 = w[s] * (x[s] - mean), u1 = w[s + 1] * (x[s + 1] - mean);
    var += u0 * (x[s] - mean) + u1 * (x[s + 1] - mean);
    mc += (u0 + u1) * (u0 + u1);
  }
  out[0] = mean, out[1] = var, out[2] = mc;
}

/* Bins of column_quantiles: with 4000 draws spread over the proposal's range, about 10-40
 * draws per bin near the usual levels. */
enum { QBINS = 512 };

/* The bin of x among QBINS equal bins from lo at `scale` bins per unit: monotone in x. */
static inline size_t qbin(double x, double lo, double scale) {
  double t = (x - lo) * scale;
  return t < QBINS - 1 ? (size_t)t : QBINS - 1; /* also the last bin for x == hi and NaN */
}

/* The weighted quantiles (as weighted_quantile) at levels qs[0..nq) of the M values x with
 * weights w, into out[0..nq). One pass sorts the values into QBINS equal bins between their
 * minimum and maximum and sums each bin's weight; the level's bin is where the running sum of
 * bin weights reaches it (bins are ordered like their values), and weighted_quantile selects
 * within that bin's values, gathered by a second pass. kw (M entries) and bins (M uint16_t)
 * are workspace. */
static void column_quantiles(const double *x, const double *w, size_t M, const double *qs,
                             size_t nq, KeyWeight *kw, uint16_t *bins, double *out) {
  double lo, hi, bw[QBINS] = {0}, below[16];
  size_t count[QBINS] = {0}, at[16], start[QBINS];
  column_range(x, M, &lo, &hi);
  double scale = QBINS / (hi - lo);
  if (!(hi > lo) || !isfinite(scale)) scale = 0;
  for (size_t s = 0; s < M; s++) {
    size_t b = qbin(x[s], lo, scale);
    bins[s] = (uint16_t)b;
    bw[b] += w[s];
    count[b]++;
  }
  for (size_t b = 0; b < QBINS; b++) start[b] = SIZE_MAX; /* bins not needed */
  size_t used = 0;
  for (size_t i = 0; i < nq; i++) {
    double cum = 0;
    size_t b = 0;
    while (b < QBINS && cum + bw[b] < qs[i]) cum += bw[b++];
    at[i] = b, below[i] = cum;
    if (b < QBINS && start[b] == SIZE_MAX) start[b] = used, used += count[b];
  }
  size_t fill[QBINS];
  memcpy(fill, start, sizeof fill);
  for (size_t s = 0; s < M; s++)
    if (start[bins[s]] != SIZE_MAX) kw[fill[bins[s]]++] = (KeyWeight){x[s], w[s]};
  for (size_t i = 0; i < nq; i++)
    out[i] = at[i] == QBINS ? hi /* rounding: the weights never reach the level */
             : weighted_quantile(kw + start[at[i]], count[at[i]], qs[i] - below[i]);
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

/* Fills out from the draws theta (d x M, column by column, intercept uncentred) with weights
 * w: mean, sd, mcse (antithetic pairs are the independent units), ess, Pareto k of the largest
 * weights' exceedances (PSIS tail length), weighted quantiles, and the resampled draws.
 * kw and tail (M entries each) are workspace. */
static void summarise(const double *theta, const double *w, size_t d, const PostOpts *o,
                      KeyWeight *kw, double *tail, gsl_rng *r, Summary *out) {
  size_t M = o->M;
  double ess = 0;
  for (size_t s = 0; s < M; s++) ess += w[s] * w[s];
  out->ess = 1.0 / ess;
  for (size_t j = 0; j < d; j++) {
    double m[3];
    column_moments(theta + j * M, w, M, m);
    out->mean[j] = m[0], out->sd[j] = sqrt(m[1]), out->mcse[j] = sqrt(m[2]);
  }
  size_t nt = (size_t)ceil(fmin(0.2 * M, 3 * sqrt((double)M)));
  for (size_t s = 0; s < M; s++) kw[s] = (KeyWeight){w[s], 0};
  select_kth(kw, M, M - nt - 1);
  double cut = kw[M - nt - 1].key;
  KeyWeight *top = kw + M - nt;
  stats_sort_keys(top, nt);
  for (size_t i = 0; i < nt; i++) tail[i] = top[i].key - cut;
  out->khat = pareto_khat(tail, nt);
  for (size_t j = 0; j < d; j++) {
    double q[16];
    column_quantiles(theta + j * M, w, M, o->qs, o->nq, kw, (uint16_t *)tail, q);
    for (size_t i = 0; i < o->nq; i++) out->q[i][j] = q[i];
  }
  if (out->draws) {
    double u = gsl_rng_uniform(r) / (double)M, cum = w[0];
    size_t src = 0;
    for (size_t s = 0; s < M; s++, u += 1.0 / (double)M) {
      while (cum < u && src + 1 < M) cum += w[++src];
      for (size_t j = 0; j < d; j++) out->draws[s * d + j] = theta[j * M + src];
    }
  }
}

/* One posterior fit of p (centred by means) into out, with workspace wk. No Lua calls. */
void stats_posterior_fit(const Problem *p, const double *means, gsl_rng *r,
                         const PostOpts *o, Work *wk, Summary *out) {
  Info info;
  out->n = p->n;
  out->d = p->d;
  out->err = NULL;
  if (p->n == 0) {
    out->err = "no observations";
    return;
  }
  out->err = sample_posterior(p, means, r, o->M, o->nu, wk, out->mode, &info);
  if (out->err) return;
  stats_uncentre(out->mode, NULL, means, p->d);
  summarise(wk->theta, wk->w, p->d, o, wk->kw, wk->tail, r, out);
}

/* Lays out a workspace for M draws and groups of up to nmax observations and d coefficients
 * in base (when wk is not NULL) and returns its size in bytes. */
size_t stats_work_carve(Work *wk, void *base, size_t M, size_t nmax, size_t d) {
  size_t np = (nmax + LANES - 1) / LANES * LANES;
  size_t doubles = M * d + 2 * M + nmax + (2 + d) * np;
  if (wk) {
    wk->theta = base;
    wk->w = wk->theta + M * d;
    wk->tail = wk->w + M;
    wk->eta0 = wk->tail + M;
    wk->E = wk->eta0 + nmax;
    wk->Y = wk->E + np;
    wk->XT = wk->Y + np;
    wk->kw = (KeyWeight *)(wk->XT + d * np);
  }
  return doubles * sizeof(double) + M * sizeof(KeyWeight);
}
