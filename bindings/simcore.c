/* introspect.simcore: the simulated subject's two numeric kernels, moved out of Lua for speed
 * with results bit for bit those of the Lua they replaced (docs/simulated-subject.md):
 *
 *   simcore.hash(s [, seed]) -> integer   the subject's 64-bit string hash (sim/hash.lua)
 *   simcore.map_update(prior, X, y, weight, sd0, sd) -> theta
 *                                         posterior mode of a weighted logistic regression with
 *                                         independent normal priors (sim/finetune.lua)
 *
 * Every floating-point expression keeps the order of operations of the Lua code it replaced
 * (C11 without extensions: no contraction into fused multiply-adds), so a run's numbers do not
 * change. No state: both are pure functions. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"

/* splitmix64's finalizer: a bijective 64-bit mixer. */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* hash(s [, seed]) -> integer: FNV-style over 8-byte little-endian words, then the bytes left,
 * then mixed. Seed and length are folded into the offset basis. */
static int l_hash(lua_State *L) {
  size_t n;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
  uint64_t seed = (uint64_t)luaL_optinteger(L, 2, 0);
  uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed ^ (uint64_t)n;
  const uint64_t prime = UINT64_C(1099511628211);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = 0;
    for (int b = 7; b >= 0; b--) w = (w << 8) | s[i + (size_t)b];
    h = (h ^ w) * prime;
    h = h ^ (h >> 29);
  }
  for (; i < n; i++) h = (h ^ s[i]) * prime;
  lua_pushinteger(L, (lua_Integer)mix(h));
  return 1;
}

/* log(1 / (1 + exp(-z))), as subject.log_sigmoid computes it. */
static double log_sigmoid(double z) {
  if (z >= 0) return -log(1 + exp(-z));
  return z - log(1 + exp(z));
}

/* The fit's data: n rows of p values (row-major), labels and the prior. */
typedef struct {
  int n, p;
  double *x, *y, *prior, weight, sd0, sd;
} Fit;

/* Weighted log-likelihood plus log prior at theta (finetune.lua's objective). */
static double objective(const Fit *f, const double *theta) {
  double s = 0;
  for (int j = 0; j < f->p; j++) {
    double d = theta[j] - f->prior[j];
    s = s - d * d / (2 * (j == 0 ? f->sd0 * f->sd0 : f->sd * f->sd));
  }
  for (int r = 0; r < f->n; r++) {
    const double *x = f->x + (size_t)r * (size_t)f->p;
    double z = 0;
    for (int j = 0; j < f->p; j++) z = z + theta[j] * x[j];
    s = s + f->weight * log_sigmoid(f->y[r] == 1 ? z : -z);
  }
  return s;
}

/* Solves H step = g by Cholesky (core/linalg.lua's order of operations); 0 when H is not
 * positive definite. L: p*p scratch, z: p scratch. */
static int cholesky_solve(int p, const double *H, const double *g, double *L, double *z, double *step) {
  for (int i = 0; i < p; i++) {
    for (int j = 0; j <= i; j++) {
      double s = H[i * p + j];
      for (int k = 0; k < j; k++) s = s - L[i * p + k] * L[j * p + k];
      if (i == j) {
        if (s <= 0) return 0;
        L[i * p + i] = sqrt(s);
      } else {
        L[i * p + j] = s / L[j * p + j];
      }
    }
  }
  for (int i = 0; i < p; i++) {
    double s = g[i];
    for (int k = 0; k < i; k++) s = s - L[i * p + k] * z[k];
    z[i] = s / L[i * p + i];
  }
  for (int i = p - 1; i >= 0; i--) {
    double s = z[i];
    for (int k = i + 1; k < p; k++) s = s - L[k * p + i] * step[k];
    step[i] = s / L[i * p + i];
  }
  return 1;
}

/* Newton's method with step halving from the prior (finetune.lua's map_update); theta in/out.
 * work: 3p + 2p*p doubles. */
static void newton(const Fit *f, double *theta, double *work) {
  int p = f->p;
  double *g = work, *step = g + p, *cand = step + p, *H = cand + p, *L = H + p * p;
  double fv = objective(f, theta);
  for (int iter = 0; iter < 100; iter++) {
    for (int j = 0; j < p; j++) {
      double s2 = j == 0 ? f->sd0 * f->sd0 : f->sd * f->sd;
      g[j] = -(theta[j] - f->prior[j]) / s2;
      for (int l = 0; l < p; l++) H[j * p + l] = l == j ? 1 / s2 : 0;
    }
    for (int r = 0; r < f->n; r++) {
      const double *x = f->x + (size_t)r * (size_t)p;
      double z = 0;
      for (int j = 0; j < p; j++) z = z + theta[j] * x[j];
      double pr = 1 / (1 + exp(-z));
      double resid = f->weight * (f->y[r] - pr), w = f->weight * pr * (1 - pr);
      for (int j = 0; j < p; j++) {
        g[j] = g[j] + resid * x[j];
        double wx = w * x[j];
        for (int l = 0; l <= j; l++) H[j * p + l] = H[j * p + l] + wx * x[l];
      }
    }
    for (int j = 0; j < p; j++)
      for (int l = j + 1; l < p; l++) H[j * p + l] = H[l * p + j];
    if (!cholesky_solve(p, H, g, L, cand, step)) break;
    double t = 1, fc = 0;
    for (int k = 0; k < 40; k++) {
      for (int j = 0; j < p; j++) cand[j] = theta[j] + t * step[j];
      fc = objective(f, cand);
      if (fc >= fv) break;
      t = t / 2;
    }
    if (fc < fv) break;
    double size = 0;
    for (int j = 0; j < p; j++) {
      size = fmax(size, fabs(cand[j] - theta[j]));
      theta[j] = cand[j];
    }
    fv = fc;
    if (size < 1e-9) break;
  }
}

/* Reads t[1..n] (numbers) into out; raises naming `what` and the index otherwise. */
static void read_numbers(lua_State *L, int t, int n, double *out, const char *what) {
  for (int i = 0; i < n; i++) {
    if (lua_geti(L, t, i + 1) != LUA_TNUMBER) luaL_error(L, "simcore.map_update: %s[%d] is not a number", what, i + 1);
    out[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
}

/* map_update(prior, X, y, weight, sd0, sd) -> theta (a new table of #prior numbers).
 * X: rows of #prior numbers; y: #X labels (1 or 0). */
static int l_map_update(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  Fit f;
  f.p = (int)luaL_len(L, 1);
  f.n = (int)luaL_len(L, 2);
  f.weight = luaL_checknumber(L, 4);
  f.sd0 = luaL_checknumber(L, 5);
  f.sd = luaL_checknumber(L, 6);
  if (f.p < 1 || f.p > 64) return luaL_error(L, "simcore.map_update: prior needs 1 to 64 entries");
  if ((int)luaL_len(L, 3) != f.n) return luaL_error(L, "simcore.map_update: X and y differ in length");
  size_t p = (size_t)f.p, cells = (size_t)f.n * p + (size_t)f.n + 2 * p + 3 * p + 2 * p * p;
  /* one allocation, owned by a userdata so an error below cannot leak it */
  double *mem = lua_newuserdatauv(L, cells * sizeof(double), 0);
  f.x = mem;
  f.y = f.x + (size_t)f.n * p;
  f.prior = f.y + f.n;
  double *theta = f.prior + p, *work = theta + p;
  read_numbers(L, 1, f.p, f.prior, "prior");
  read_numbers(L, 3, f.n, f.y, "y");
  for (int r = 0; r < f.n; r++) {
    if (lua_geti(L, 2, r + 1) != LUA_TTABLE) return luaL_error(L, "simcore.map_update: X[%d] is not a row", r + 1);
    if ((int)luaL_len(L, -1) != f.p) return luaL_error(L, "simcore.map_update: X[%d] needs %d values", r + 1, f.p);
    read_numbers(L, lua_gettop(L), f.p, f.x + (size_t)r * p, "X row");
    lua_pop(L, 1);
  }
  memcpy(theta, f.prior, p * sizeof(double));
  newton(&f, theta, work);
  lua_createtable(L, f.p, 0);
  for (int j = 0; j < f.p; j++) {
    lua_pushnumber(L, theta[j]);
    lua_rawseti(L, -2, j + 1);
  }
  return 1;
}

int luaopen_introspect_simcore(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"hash", l_hash},
    {"map_update", l_map_update},
    {NULL, NULL},
  };
  luaL_newlib(L, funcs);
  return 1;
}
