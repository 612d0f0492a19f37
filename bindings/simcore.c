/* introspect.simcore: the simulated subject's two numeric kernels, moved out of Lua for speed
 * with results bit for bit those of the Lua they replaced (docs/simulated-subject.md):
 *
 *   simcore.hash(s [, seed]) -> integer   the subject's 64-bit string hash (sim/hash.lua)
 *   simcore.hex(h [, digits]) -> string   the low digits (1-16, default 16) of h in lower-case hex,
 *                                         as string.format("%016x", h):sub(-digits) (sim/hash.lua)
 *   simcore.options(text, init, names, units) -> a, b, values_text | false | nil
 *                                         the two option blocks of a prompt of a known context
 *                                         (sim/prompt.lua's fast path)
 *   simcore.map_update(prior, X, y, weight, sd0, sd) -> theta
 *                                         posterior mode of a weighted logistic regression with
 *                                         independent normal priors (sim/finetune.lua)
 *
 * Every floating-point expression keeps the order of operations of the Lua code it replaced
 * (C11 without extensions: no contraction into fused multiply-adds), so a run's numbers do not
 * change. No state: both are pure functions. */
#include <ctype.h>
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
    uint64_t w;
    memcpy(&w, s + i, 8);   /* the word's bytes little-endian: s[i] lowest */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    h = (h ^ w) * prime;
    h = h ^ (h >> 29);
  }
  for (; i < n; i++) h = (h ^ s[i]) * prime;
  lua_pushinteger(L, (lua_Integer)mix(h));
  return 1;
}

/* expect(p, end, lit, n) -> p after the literal lit[0..n), or NULL when the text differs. */
static const char *expect(const char *p, const char *end, const char *lit, size_t n) {
  if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) return NULL;
  return p + n;
}

/* block(L, p, end, names, units, k, cap) -> p after one option block ("name: value units" lines
 * joined by "\n"), the value of line i at cap[2i] (start offset) and cap[2i+1] (length); NULL
 * when the text differs. A value is the longest run of non-space bytes (isspace, as Lua's %S),
 * which is what the pattern "name: (%S+) units" captures: a shorter run would leave a non-space
 * byte where the pattern needs a space, a newline or the end. */
static const char *block(lua_State *L, const char *text, const char *p, const char *end, int k,
                         size_t *cap) {
  for (int i = 0; i < k; i++) {
    size_t n, nu;
    if (i > 0 && !(p = expect(p, end, "\n", 1))) return NULL;
    lua_rawgeti(L, 3, i + 1);
    lua_rawgeti(L, 4, i + 1);
    const char *name = lua_tolstring(L, -2, &n), *unit = lua_tolstring(L, -1, &nu);
    if (!name || !unit) luaL_error(L, "simcore.options: names and units must be strings");
    if (!(p = expect(p, end, name, n)) || !(p = expect(p, end, ": ", 2))) goto fail;
    const char *v = p;
    while (p < end && !isspace((unsigned char)*p)) p++;
    if (p == v) goto fail;
    cap[2 * i] = (size_t)(v - text);
    cap[2 * i + 1] = (size_t)(p - v);
    if (nu > 0 && (!(p = expect(p, end, " ", 1)) || !(p = expect(p, end, unit, nu)))) goto fail;
    lua_pop(L, 2);
    continue;
  fail:
    lua_pop(L, 2);
    return NULL;
  }
  return p;
}

/* decimal(L, s, n) -> 1 with the float pushed when s is "[-]digits.digits" (a digit on at least
 * one side, at most 15 digits in all): then s is m / 10^d with m < 2^53 and 10^d exact, so the one
 * correctly rounded division gives what strtod (correctly rounded) gives; 0 otherwise. */
static int decimal(lua_State *L, const char *s, size_t n) {
  static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  size_t i = 0;
  int neg = 0, digits = 0, frac = -1;
  uint64_t m = 0;
  if (i < n && s[i] == '-') neg = 1, i++;
  for (; i < n; i++) {
    if (s[i] >= '0' && s[i] <= '9') {
      if (++digits > 15) return 0;
      m = m * 10 + (uint64_t)(s[i] - '0');
      if (frac >= 0) frac++;
    } else if (s[i] == '.' && frac < 0) {
      frac = 0;
    } else {
      return 0;
    }
  }
  if (frac < 0 || digits == 0) return 0;   /* integers are Lua integers: lua_stringtonumber */
  double x = (double)m / pow10[frac];
  lua_pushnumber(L, neg ? -x : x);
  return 1;
}

/* number(L, s, n) -> 1 with tonumber(s) pushed (integer or float, as Lua's tonumber reads a
 * string), or 0 with nothing pushed when s is not a finite number. */
static int number(lua_State *L, const char *s, size_t n) {
  char buf[128];
  size_t got;
  if (decimal(L, s, n)) return 1;
  if (n < sizeof buf) {
    memcpy(buf, s, n);
    buf[n] = '\0';
    got = lua_stringtonumber(L, buf);
  } else {
    lua_pushlstring(L, s, n);
    got = lua_stringtonumber(L, lua_tostring(L, -1));
    if (got) lua_remove(L, -2); else lua_pop(L, 1);
  }
  if (got == 0) return 0;
  if (got != n + 1) {   /* an embedded NUL: the number stopped before the value's end */
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_isinteger(L, -1)) {
    lua_Number x = lua_tonumber(L, -1);
    if (x != x || isinf(x)) {
      lua_pop(L, 1);
      return 0;
    }
  }
  return 1;
}

/* options(text, init, names, units) -> a, b, values_text: the option blocks of a prompt whose
 * context is known, read from byte init of text as the Lua pattern
 * "^A:\n<names[i]>: (%S+) <units[i]>...\n\nB:\n<same lines>%s*$" reads them (an empty unit has
 * no space before it); a and b hold tonumber of each value, values_text the values as written,
 * A then B, joined by single spaces. nil when the text does not have that layout, false when it
 * does but a value is not a finite number. */
static int l_options(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  lua_Integer init = luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  luaL_checktype(L, 4, LUA_TTABLE);
  int k = (int)lua_rawlen(L, 3);
  if (init < 1 || (size_t)init > len + 1 || k < 1 || (lua_Integer)lua_rawlen(L, 4) != k) {
    lua_pushnil(L);
    return 1;
  }
  size_t small[128], *cap = small;
  if (k > 32) cap = lua_newuserdatauv(L, sizeof(size_t) * 4 * (size_t)k, 0);
  const char *end = text + len, *p = text + init - 1;
  if (!(p = expect(p, end, "A:\n", 3)) || !(p = block(L, text, p, end, k, cap))
      || !(p = expect(p, end, "\n\nB:\n", 5)) || !(p = block(L, text, p, end, k, cap + 2 * k))) {
    lua_pushnil(L);
    return 1;
  }
  while (p < end && isspace((unsigned char)*p)) p++;
  if (p != end) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, k, 0);
  lua_createtable(L, k, 0);
  for (int t = 0; t < 2 * k; t++) {
    if (!number(L, text + cap[2 * t], cap[2 * t + 1])) {
      lua_pushboolean(L, 0);
      return 1;
    }
    lua_rawseti(L, t < k ? -3 : -2, t % k + 1);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int t = 0; t < 2 * k; t++) {
    if (t > 0) luaL_addchar(&b, ' ');
    luaL_addlstring(&b, text + cap[2 * t], cap[2 * t + 1]);
  }
  luaL_pushresult(&b);
  return 3;
}

/* hex(h [, digits]) -> the low `digits` hex digits of h (two's complement), lower case, zero
 * padded: string.format("%016x", h):sub(-digits) without the format. */
static int l_hex(lua_State *L) {
  uint64_t h = (uint64_t)luaL_checkinteger(L, 1);
  lua_Integer digits = luaL_optinteger(L, 2, 16);
  luaL_argcheck(L, digits >= 1 && digits <= 16, 2, "digits must be 1 to 16");
  char buf[16];
  for (int i = 15; i >= 0; i--, h >>= 4) buf[i] = "0123456789abcdef"[h & 15];
  lua_pushlstring(L, buf + 16 - digits, (size_t)digits);
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
    {"options", l_options},
    {"hex", l_hex},
    {NULL, NULL},
  };
  luaL_newlib(L, funcs);
  return 1;
}
