/*
 * introspect.rng: random generators (xoshiro256** and a CPython-compatible mt19937), Python
 * number formatting (round, repr) and bulk generation of choice trials for the study.
 *
 * Generator userdata: metatable "introspect.rng.Generator".
 * Trials userdata:    metatable "introspect.rng.Trials" (values of n trials x 2 options x k
 *                     attributes; the scenario table is kept as the user value).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>
#include <lauxlib.h>

#include "pyrepr.h"

#define GENERATOR_MT "introspect.rng.Generator"
#define TRIALS_MT "introspect.rng.Trials"

#define MT_N 624
#define MT_M 397

enum { ALGO_XOSHIRO = 0, ALGO_MT = 1 };
static const char *const algo_names[] = { "xoshiro256**", "mt19937", NULL };

typedef struct {
  int algo;
  int mti;               /* mt19937: index into mt[] */
  uint64_t s[4];         /* xoshiro256** state */
  uint32_t mt[MT_N];     /* mt19937 state */
} Generator;

/* ---------------------------------------------------------------- mt19937 (CPython) */

/* mt_init_genrand: seed the MT state from one 32-bit word (CPython's init_genrand). */
static void mt_init_genrand(Generator *g, uint32_t s) {
  g->mt[0] = s;
  for (int i = 1; i < MT_N; i++)
    g->mt[i] = 1812433253U * (g->mt[i - 1] ^ (g->mt[i - 1] >> 30)) + (uint32_t)i;
  g->mti = MT_N;
}

/* mt_init_by_array: CPython's init_by_array over the 32-bit key words. */
static void mt_init_by_array(Generator *g, const uint32_t *key, size_t len) {
  mt_init_genrand(g, 19650218U);
  size_t i = 1, j = 0;
  for (size_t k = (MT_N > len ? MT_N : len); k; k--) {
    g->mt[i] = (g->mt[i] ^ ((g->mt[i - 1] ^ (g->mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
    i++; j++;
    if (i >= MT_N) { g->mt[0] = g->mt[MT_N - 1]; i = 1; }
    if (j >= len) j = 0;
  }
  for (size_t k = MT_N - 1; k; k--) {
    g->mt[i] = (g->mt[i] ^ ((g->mt[i - 1] ^ (g->mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
    i++;
    if (i >= MT_N) { g->mt[0] = g->mt[MT_N - 1]; i = 1; }
  }
  g->mt[0] = 0x80000000U;
}

/* mt_next: the next 32-bit output (CPython's genrand_uint32). */
static uint32_t mt_next(Generator *g) {
  static const uint32_t mag01[2] = { 0x0U, 0x9908b0dfU };
  uint32_t y;
  if (g->mti >= MT_N) {
    int kk;
    for (kk = 0; kk < MT_N - MT_M; kk++) {
      y = (g->mt[kk] & 0x80000000U) | (g->mt[kk + 1] & 0x7fffffffU);
      g->mt[kk] = g->mt[kk + MT_M] ^ (y >> 1) ^ mag01[y & 1U];
    }
    for (; kk < MT_N - 1; kk++) {
      y = (g->mt[kk] & 0x80000000U) | (g->mt[kk + 1] & 0x7fffffffU);
      g->mt[kk] = g->mt[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1U];
    }
    y = (g->mt[MT_N - 1] & 0x80000000U) | (g->mt[0] & 0x7fffffffU);
    g->mt[MT_N - 1] = g->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1U];
    g->mti = 0;
  }
  y = g->mt[g->mti++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

/* ---------------------------------------------------------------- xoshiro256** */

/* rotl64: x rotated left by k (0 < k < 64) bits. */
static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* splitmix64: expands a seed into xoshiro state words; advances *x. */
static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* xo_next: the next 64-bit output of xoshiro256**. */
static uint64_t xo_next(Generator *g) {
  uint64_t *s = g->s;
  const uint64_t result = rotl64(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return result;
}

/* xo_jump: advance the state by 2^128 draws (one independent stream). */
static void xo_jump(Generator *g) {
  static const uint64_t JUMP[] = { 0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                   0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL };
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 64; b++) {
      if (JUMP[i] & (UINT64_C(1) << b)) {
        s0 ^= g->s[0]; s1 ^= g->s[1]; s2 ^= g->s[2]; s3 ^= g->s[3];
      }
      xo_next(g);
    }
  g->s[0] = s0; g->s[1] = s1; g->s[2] = s2; g->s[3] = s3;
}

/* ---------------------------------------------------------------- common drawing */

/* gen_seed: seed g from a 64-bit integer; mt19937 follows CPython's random.seed(int). */
static void gen_seed(Generator *g, lua_Integer seed) {
  uint64_t mag = seed < 0 ? (uint64_t)0 - (uint64_t)seed : (uint64_t)seed;
  if (g->algo == ALGO_MT) {
    uint32_t key[2];
    size_t len = 0;
    do { key[len++] = (uint32_t)(mag & 0xffffffffU); mag >>= 32; } while (mag);
    mt_init_by_array(g, key, len);
  } else {
    uint64_t x = (uint64_t)seed;
    for (int i = 0; i < 4; i++) g->s[i] = splitmix64(&x);
  }
}

/* gen_random: a double in [0, 1) with 53 random bits (CPython's random() for mt19937). */
static double gen_random(Generator *g) {
  if (g->algo == ALGO_MT) {
    uint32_t a = mt_next(g) >> 5, b = mt_next(g) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }
  return (double)(xo_next(g) >> 11) * (1.0 / 9007199254740992.0);
}

/* gen_bits: k (0..64) random bits; mt19937 fills 32-bit words low word first, like CPython. */
static uint64_t gen_bits(Generator *g, int k) {
  if (k == 0) return 0;
  if (g->algo == ALGO_XOSHIRO) return xo_next(g) >> (64 - k);
  if (k <= 32) return mt_next(g) >> (32 - k);
  uint64_t lo = mt_next(g);
  uint64_t hi = mt_next(g) >> (64 - k);
  return lo | (hi << 32);
}

/* gen_below: uniform integer in [0, n) by CPython's rejection on bit_length(n) bits. */
static uint64_t gen_below(Generator *g, uint64_t n) {
  int k = 0;
  for (uint64_t m = n; m; m >>= 1) k++;
  uint64_t r = gen_bits(g, k);
  while (r >= n) r = gen_bits(g, k);
  return r;
}

/* ---------------------------------------------------------------- Python number formatting */

static const double POW10[23] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* round_digits_fast: exact round-half-even of |x| * 10^nd to an integer (as a double) when
   0 <= nd <= 22 and |x| * 10^nd < 2^52; returns 0 when the fast path does not apply. */
static inline int round_digits_fast(double ax, int nd, double *n_out) {
  if (nd < 0 || nd > 22) return 0;
  double P = POW10[nd];
  double y = ax * P;
  if (!(y < 4503599627370496.0)) return 0;
  double fl = (double)(int64_t)y; /* floor: y is >= 0 and < 2^52 */
  double frac = y - fl;          /* exact */
  int up;
  /* the product's rounding error is at most ulp(y)/2 <= y * 2^-53, so it can only matter when
     frac is within that of one half */
  if (fabs(frac - 0.5) > y * 2.3e-16) {
    up = frac > 0.5;
  } else {
    double err = fma(ax, P, -y); /* ax * P == y + err exactly */
    if (frac > 0.5) up = 1;
    else if (frac < 0.5) up = 0;
    else if (err != 0) up = err > 0;
    else up = fl != 2.0 * floor(fl / 2.0);
  }
  *n_out = fl + up;
  return 1;
}

/* round_negative_digits: CPython round(x, nd) for nd < 0 (round to a multiple of 10^-nd),
   half to even on the exact value; returns the rounded double (may be inf). */
static double round_negative_digits(double x, int nd) {
  double ax = fabs(x), ip = floor(ax), fr = ax - ip;
  char digits[400];
  int len = snprintf(digits, sizeof digits, "%.0f", ip);
  int keep = len + nd;                  /* digits kept before the rounding point */
  char out[420];
  if (keep < 0) return copysign(0.0, x);
  int up = 0;
  char first = digits[keep];
  int rest_nonzero = fr > 0;
  for (int i = keep + 1; i < len; i++) if (digits[i] != '0') rest_nonzero = 1;
  if (first > '5' || (first == '5' && rest_nonzero)) up = 1;
  else if (first == '5') up = keep > 0 && ((digits[keep - 1] - '0') & 1);
  char kept[400];
  memcpy(kept + 1, digits, (size_t)keep);
  kept[0] = '0';
  int klen = keep + 1;
  if (up) {
    int i = klen - 1;
    while (kept[i] == '9') kept[i--] = '0';
    kept[i]++;
  }
  kept[klen] = '\0';
  snprintf(out, sizeof out, "%s%se%d", x < 0 ? "-" : "", kept, -nd);
  return strtod(out, NULL);
}

/* py_round: CPython's round(x, nd) for a float: correctly rounded, half to even on the exact
   binary value; *overflow is set when the result is not finite. */
static double py_round(double x, lua_Integer nd, int *overflow) {
  *overflow = 0;
  if (!isfinite(x)) return x;
  if (nd > 323) return x;
  if (nd < -308) return 0.0 * x;
  double n;
  if (round_digits_fast(fabs(x), (int)nd, &n)) return copysign(n / POW10[nd], x);
  double r;
  if (nd >= 0) {
    char buf[1100];
    snprintf(buf, sizeof buf, "%.*f", (int)nd, x);
    r = strtod(buf, NULL);
  } else {
    r = round_negative_digits(x, (int)nd);
  }
  if (!isfinite(r)) *overflow = 1;
  return r;
}

static const char DIGIT_PAIRS[] =
  "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
  "8081828384858687888990919293949596979899";

static const uint64_t UPOW10[20] = { 1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
  1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
  1000000000000ULL, 10000000000000ULL, 100000000000000ULL, 1000000000000000ULL,
  10000000000000000ULL, 100000000000000000ULL, 1000000000000000000ULL,
  10000000000000000000ULL };

/* write_digits: writes exactly width decimal digits of n (zero-padded) at o. */
static inline void write_digits(char *o, uint64_t n, int width) {
  char *e = o + width;
  while (width >= 2) {
    unsigned d = (unsigned)(n % 100) * 2;
    n /= 100;
    *--e = DIGIT_PAIRS[d + 1];
    *--e = DIGIT_PAIRS[d];
    width -= 2;
  }
  if (width) *--e = (char)('0' + n % 10);
}

/* digit_count: decimal digits of n (1 for 0). */
static inline int digit_count(uint64_t n) {
  int d = 1;
  while (d < 20 && n >= UPOW10[d]) d++;
  return d;
}

/* emit_decimal: writes n / 10^p (n < 10^15, p <= 22) as Python prints the float: trailing zeros
   of the fraction dropped, at least one fraction digit, sign from neg. Returns the length. */
static int emit_decimal(uint64_t n, int p, int neg, char *out) {
  char *o = out;
  if (neg) *o++ = '-';
  if (p == 0) {
    int w = digit_count(n);
    write_digits(o, n, w);
    o += w;
    *o++ = '.'; *o++ = '0';
    return (int)(o - out);
  }
  while (p > 0 && n % 10 == 0) { n /= 10; p--; }
  uint64_t ip = p < 20 ? n / UPOW10[p] : 0, fp = p < 20 ? n % UPOW10[p] : n;
  int w = digit_count(ip);
  write_digits(o, ip, w);
  o += w;
  *o++ = '.';
  if (p == 0) *o++ = '0';
  write_digits(o, fp, p);
  return (int)(o + p - out);
}

/* paper_precision: the study's rounding rule for a range of width max - min. */
static int paper_precision(double min, double max) {
  double r = max - min;
  if (r < 1) return (int)fabs(floor(log10(r))) + 1;
  if (r < 5) return 1;
  return 0;
}

/* ---------------------------------------------------------------- Generator methods */

/* checkgen: the Generator at index i, or raises an argument error. */
static Generator *checkgen(lua_State *L, int i) {
  return (Generator *)luaL_checkudata(L, i, GENERATOR_MT);
}

/* default_seed: 64 bits from /dev/urandom, else from the clock. */
static lua_Integer default_seed(void) {
  uint64_t v = 0;
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    if (fread(&v, sizeof v, 1, f) != 1) v = 0;
    fclose(f);
  }
  if (v == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
  }
  return (lua_Integer)(v >> 1);
}

/* rng.new([algorithm [, seed [, stream]]]) -> Generator. Stack: pushes the new generator. */
static int l_new(lua_State *L) {
  int algo = luaL_checkoption(L, 1, "xoshiro256**", algo_names);
  lua_Integer seed = luaL_opt(L, luaL_checkinteger, 2, 0);
  if (lua_isnoneornil(L, 2)) seed = default_seed();
  lua_Integer stream = luaL_optinteger(L, 3, 0);
  luaL_argcheck(L, stream >= 0, 3, "rng.new: stream must be >= 0");
  luaL_argcheck(L, stream == 0 || algo == ALGO_XOSHIRO, 3,
                "rng.new: streams need xoshiro256** (mt19937 has no jump)");
  Generator *g = (Generator *)lua_newuserdatauv(L, sizeof(Generator), 0);
  memset(g, 0, sizeof *g);
  g->algo = algo;
  gen_seed(g, seed);
  for (lua_Integer i = 0; i < stream; i++) xo_jump(g);
  luaL_setmetatable(L, GENERATOR_MT);
  return 1;
}

/* gen:seed(n): reseed in place (CPython random.seed(n) for mt19937). Returns nothing. */
static int g_seed(lua_State *L) {
  Generator *g = checkgen(L, 1);
  gen_seed(g, luaL_checkinteger(L, 2));
  return 0;
}

/* gen:random() -> float in [0, 1). */
static int g_random(lua_State *L) {
  lua_pushnumber(L, gen_random(checkgen(L, 1)));
  return 1;
}

/* gen:uniform(a, b) -> a + (b - a) * random(), as CPython. */
static int g_uniform(lua_State *L) {
  Generator *g = checkgen(L, 1);
  double a = luaL_checknumber(L, 2), b = luaL_checknumber(L, 3);
  lua_pushnumber(L, a + (b - a) * gen_random(g));
  return 1;
}

/* gen:getrandbits(k) -> integer with k (0..64) random bits (64 bits wrap to Lua's signed range). */
static int g_getrandbits(lua_State *L) {
  Generator *g = checkgen(L, 1);
  lua_Integer k = luaL_checkinteger(L, 2);
  luaL_argcheck(L, k >= 0 && k <= 64, 2, "gen:getrandbits: k must be in 0..64");
  lua_pushinteger(L, (lua_Integer)gen_bits(g, (int)k));
  return 1;
}

/* gen:randbelow(n) -> integer in [0, n), n >= 1 (CPython's _randbelow). */
static int g_randbelow(lua_State *L) {
  Generator *g = checkgen(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 1, 2, "gen:randbelow: n must be >= 1");
  lua_pushinteger(L, (lua_Integer)gen_below(g, (uint64_t)n));
  return 1;
}

/* gen:randint(a, b) -> integer in [a, b] (CPython randint = a + randbelow(b - a + 1)). */
static int g_randint(lua_State *L) {
  Generator *g = checkgen(L, 1);
  lua_Integer a = luaL_checkinteger(L, 2), b = luaL_checkinteger(L, 3);
  luaL_argcheck(L, b >= a, 3, "gen:randint: b must be >= a");
  uint64_t width = (uint64_t)b - (uint64_t)a + 1;
  luaL_argcheck(L, width != 0, 3, "gen:randint: range too wide");
  lua_pushinteger(L, (lua_Integer)((uint64_t)a + gen_below(g, width)));
  return 1;
}

/* gen:shuffle(t) -> t, shuffled in place with CPython's algorithm (same draws, same order). */
static int g_shuffle(lua_State *L) {
  Generator *g = checkgen(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = n - 1; i > 0; i--) {
    lua_Integer j = (lua_Integer)gen_below(g, (uint64_t)i + 1);
    lua_geti(L, 2, i + 1);
    lua_geti(L, 2, j + 1);
    lua_seti(L, 2, i + 1);
    lua_seti(L, 2, j + 1);
  }
  lua_settop(L, 2);
  return 1;
}

/* gen:jump([times]) -> gen: advance an xoshiro256** generator by times * 2^128 draws. */
static int g_jump(lua_State *L) {
  Generator *g = checkgen(L, 1);
  lua_Integer times = luaL_optinteger(L, 2, 1);
  luaL_argcheck(L, g->algo == ALGO_XOSHIRO, 1, "gen:jump: only xoshiro256** can jump");
  luaL_argcheck(L, times >= 0, 2, "gen:jump: times must be >= 0");
  for (lua_Integer i = 0; i < times; i++) xo_jump(g);
  lua_settop(L, 1);
  return 1;
}

/* gen:algorithm() -> "xoshiro256**" | "mt19937". */
static int g_algorithm(lua_State *L) {
  lua_pushstring(L, algo_names[checkgen(L, 1)->algo]);
  return 1;
}

/* gen:state() -> string: an opaque binary snapshot for gen:setstate. */
static int g_state(lua_State *L) {
  Generator *g = checkgen(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, algo_names[g->algo]);
  luaL_addchar(&b, ':');
  if (g->algo == ALGO_MT) {
    uint32_t idx = (uint32_t)g->mti;
    luaL_addlstring(&b, (const char *)&idx, sizeof idx);
    luaL_addlstring(&b, (const char *)g->mt, sizeof g->mt);
  } else {
    luaL_addlstring(&b, (const char *)g->s, sizeof g->s);
  }
  luaL_pushresult(&b);
  return 1;
}

/* gen:setstate(s) -> gen: restore a snapshot from gen:state() (any generator of that algorithm). */
static int g_setstate(lua_State *L) {
  Generator *g = checkgen(L, 1);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  const char *colon = memchr(s, ':', len);
  luaL_argcheck(L, colon != NULL, 2, "gen:setstate: not a generator state");
  size_t tag = (size_t)(colon - s), body = len - tag - 1;
  const char *p = colon + 1;
  if (tag == strlen(algo_names[ALGO_MT]) && memcmp(s, algo_names[ALGO_MT], tag) == 0) {
    uint32_t idx;
    luaL_argcheck(L, body == sizeof idx + sizeof g->mt, 2, "gen:setstate: truncated mt19937 state");
    memcpy(&idx, p, sizeof idx);
    luaL_argcheck(L, idx <= MT_N, 2, "gen:setstate: bad mt19937 index");
    g->algo = ALGO_MT;
    g->mti = (int)idx;
    memcpy(g->mt, p + sizeof idx, sizeof g->mt);
  } else if (tag == strlen(algo_names[ALGO_XOSHIRO]) &&
             memcmp(s, algo_names[ALGO_XOSHIRO], tag) == 0) {
    luaL_argcheck(L, body == sizeof g->s, 2, "gen:setstate: truncated xoshiro256** state");
    g->algo = ALGO_XOSHIRO;
    memcpy(g->s, p, sizeof g->s);
  } else {
    return luaL_argerror(L, 2, "gen:setstate: unknown algorithm in state");
  }
  lua_settop(L, 1);
  return 1;
}

/* gen:clone() -> a new Generator with the same algorithm and state. */
static int g_clone(lua_State *L) {
  Generator *g = checkgen(L, 1);
  Generator *c = (Generator *)lua_newuserdatauv(L, sizeof(Generator), 0);
  memcpy(c, g, sizeof *c);
  luaL_setmetatable(L, GENERATOR_MT);
  return 1;
}

/* __tostring: "introspect.rng.Generator(ALGO): 0xADDR". */
static int g_tostring(lua_State *L) {
  Generator *g = checkgen(L, 1);
  lua_pushfstring(L, "introspect.rng.Generator(%s): %p", algo_names[g->algo], (void *)g);
  return 1;
}

/* ---------------------------------------------------------------- Trials */

typedef struct {
  lua_Integer n;   /* trials */
  int k;           /* attributes per option */
  double *min, *max;
  int *prec;
  double *v;       /* v[(i * 2 + side) * k + j] */
  int64_t *mant;   /* decimal mantissa n with |v| == n / 10^prec, as Python prints it: n for
                      v >= +0, -(n + 1) for v <= -0, NO_MANT when py_repr is needed */
} Trials;

/* checktrials: the Trials at index i, or raises an argument error. */
static Trials *checktrials(lua_State *L, int i) {
  return (Trials *)luaL_checkudata(L, i, TRIALS_MT);
}

/* field_number: scenario.attributes[j][name] as a number, raising a clear error otherwise.
   Stack: unchanged. */
static double field_number(lua_State *L, int attr_idx, int j, const char *name) {
  if (lua_getfield(L, attr_idx, name) != LUA_TNUMBER)
    luaL_error(L, "gen:trials: attribute %d: field '%s' must be a number", j, name);
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

#define NO_MANT INT64_MIN

/* signed_mant: the mant[] encoding of mantissa n >= 0 with the sign of u. */
static inline int64_t signed_mant(int64_t n, double u) {
  return signbit(u) ? -(n + 1) : n;
}

/* emit_mant: writes value v (mant[] entry m, precision p) as Python prints it; returns the
   length. */
static inline int emit_mant(int64_t m, double v, int p, char *out) {
  if (p == 0 && m >= 0 && m < 10000) {
    /* the common case: a small whole number */
    char *o = out;
    if (m >= 1000) {
      memcpy(o, DIGIT_PAIRS + 2 * (m / 100), 2);
      o += 2;
    } else if (m >= 100) {
      *o++ = (char)('0' + m / 100);
    }
    if (m >= 10) *o++ = DIGIT_PAIRS[2 * (m % 100)];
    *o++ = DIGIT_PAIRS[2 * (m % 100) + 1];
    *o++ = '.'; *o++ = '0';
    return (int)(o - out);
  }
  if (m == NO_MANT) return py_repr(v, out);
  if (m >= 0) return emit_decimal((uint64_t)m, p, 0, out);
  return emit_decimal((uint64_t)(-(m + 1)), p, 1, out);
}

/* store_rounded: v[c] = Python round(u, prec[j]), with its decimal mantissa when the digits
   alone give Python's repr (at most 15 significant digits, no exponent notation). */
static inline void store_rounded(Trials *t, size_t c, int j, double u) {
  int nd = t->prec[j];
  double nn, au = fabs(u);
  if (nd == 0 && au < 4503599627370496.0) {
    /* adding 2^52 rounds to an integer, half to even, in the default rounding mode */
    double x = (au + 4503599627370496.0) - 4503599627370496.0;
    t->v[c] = copysign(x, u);
    t->mant[c] = x < 1e15 ? signed_mant((int64_t)x, u) : NO_MANT;
  } else if (round_digits_fast(au, nd, &nn)) {
    double x = nd == 0 ? nn : nn / POW10[nd];
    t->v[c] = copysign(x, u);
    t->mant[c] = (nn < 1e15 && (x >= 1e-4 || x == 0)) ? signed_mant((int64_t)nn, u) : NO_MANT;
  } else {
    int ovf;
    t->v[c] = py_round(u, nd, &ovf);
    t->mant[c] = NO_MANT;
  }
}

/* fill_trials: draws every value of t in the study's order (trial by trial, option A's k values
   then option B's), each uniform(min, max) rounded by its column's precision. Whole numbers
   from a non-negative range (most of the study's attributes) take a shortcut: adding 2^52
   rounds half to even, which is what round(u, 0) does. */
static void fill_trials(Generator *g, Trials *t) {
  int k = t->k;
  double width[1000];
  unsigned char whole[1000];
  for (int j = 0; j < k; j++) {
    width[j] = t->max[j] - t->min[j];
    whole[j] = t->prec[j] == 0 && t->min[j] >= 0 && t->max[j] < 1e15;
  }
  const double TWO52 = 4503599627370496.0;
  size_t c = 0;
  for (lua_Integer r = 0; r < 2 * t->n; r++)
    for (int j = 0; j < k; j++, c++) {
      double draw = g->algo == ALGO_XOSHIRO
        ? (double)(xo_next(g) >> 11) * (1.0 / 9007199254740992.0) : gen_random(g);
      double u = t->min[j] + width[j] * draw;
      if (whole[j]) {
        double x = (u + TWO52) - TWO52;
        t->v[c] = x;
        t->mant[c] = (int64_t)x;
      } else {
        store_rounded(t, c, j, u);
      }
    }
}

/* gen:trials(scenario, n) -> Trials: n trials, each option A's k values then option B's, each
   uniform(min, max) rounded by the study's precision rule (or attribute.precision). */
static int g_trials(lua_State *L) {
  Generator *g = checkgen(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 0 && n <= 100000000, 3, "gen:trials: n must be in 0..1e8");
  if (lua_getfield(L, 2, "attributes") != LUA_TTABLE)
    return luaL_argerror(L, 2, "gen:trials: scenario.attributes must be a table");
  int attrs = lua_gettop(L);
  lua_Integer k = luaL_len(L, attrs);
  luaL_argcheck(L, k >= 1 && k <= 1000, 2, "gen:trials: scenario needs 1..1000 attributes");
  size_t head = (sizeof(Trials) + 15) & ~(size_t)15;
  size_t bytes = head + (size_t)k * (2 * sizeof(double) + sizeof(int) + 8) +
                 (size_t)n * 2 * (size_t)k * (sizeof(double) + sizeof(int64_t));
  Trials *t = (Trials *)lua_newuserdatauv(L, bytes, 1);
  char *base = (char *)t + head;
  t->n = n;
  t->k = (int)k;
  t->min = (double *)base;
  t->max = t->min + k;
  t->v = t->max + k;
  t->mant = (int64_t *)(t->v + (size_t)n * 2 * (size_t)k);
  t->prec = (int *)(t->mant + (size_t)n * 2 * (size_t)k);
  luaL_setmetatable(L, TRIALS_MT);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);
  for (int j = 0; j < k; j++) {
    if (lua_geti(L, attrs, j + 1) != LUA_TTABLE)
      return luaL_error(L, "gen:trials: attribute %d must be a table", j + 1);
    int a = lua_gettop(L);
    t->min[j] = field_number(L, a, j + 1, "min");
    t->max[j] = field_number(L, a, j + 1, "max");
    if (!(t->min[j] < t->max[j]))
      return luaL_error(L, "gen:trials: attribute %d: min must be < max", j + 1);
    if (lua_getfield(L, a, "precision") == LUA_TNUMBER) t->prec[j] = (int)lua_tointeger(L, -1);
    else t->prec[j] = paper_precision(t->min[j], t->max[j]);
    lua_pop(L, 2);
  }
  fill_trials(g, t);
  return 1;
}

/* trial_index: checks the 1-based trial index at stack index i; returns it 0-based. */
static lua_Integer trial_index(lua_State *L, Trials *t, int i) {
  lua_Integer idx = luaL_checkinteger(L, i);
  luaL_argcheck(L, idx >= 1 && idx <= t->n, i, "trials: trial index out of range");
  return idx - 1;
}

/* side_index: option at stack index i: 1|2 or "A"|"B" (any case); returns 0|1. */
static int side_index(lua_State *L, int i) {
  if (lua_type(L, i) == LUA_TSTRING) {
    const char *s = lua_tostring(L, i);
    if ((s[0] == 'A' || s[0] == 'a') && s[1] == '\0') return 0;
    if ((s[0] == 'B' || s[0] == 'b') && s[1] == '\0') return 1;
  } else if (lua_isinteger(L, i)) {
    lua_Integer v = lua_tointeger(L, i);
    if (v == 1 || v == 2) return (int)v - 1;
  }
  return luaL_argerror(L, i, "trials: option must be 'A', 'B', 1 or 2");
}

/* #trials -> n. */
static int t_len(lua_State *L) {
  lua_pushinteger(L, checktrials(L, 1)->n);
  return 1;
}

/* trials:attributes() -> k. */
static int t_attributes(lua_State *L) {
  lua_pushinteger(L, checktrials(L, 1)->k);
  return 1;
}

/* trials:precision(j) -> decimals used for attribute j. */
static int t_precision(lua_State *L) {
  Trials *t = checktrials(L, 1);
  lua_Integer j = luaL_checkinteger(L, 2);
  luaL_argcheck(L, j >= 1 && j <= t->k, 2, "trials:precision: attribute index out of range");
  lua_pushinteger(L, t->prec[j - 1]);
  return 1;
}

/* cell_text: Python's repr of value cell c (attribute j) into out; returns the length. */
static int cell_text(const Trials *t, size_t c, int j, char *out) {
  return emit_mant(t->mant[c], t->v[c], t->prec[j], out);
  return py_repr(t->v[c], out);
}

/* check_cell: reads (i, option, j) at stack indices 2..4; returns the value's index in v and
   sets *j0 to the 0-based attribute. */
static size_t check_cell(lua_State *L, Trials *t, int *j0) {
  lua_Integer i = trial_index(L, t, 2);
  int s = side_index(L, 3);
  lua_Integer j = luaL_checkinteger(L, 4);
  luaL_argcheck(L, j >= 1 && j <= t->k, 4, "trials: attribute index out of range");
  *j0 = (int)j - 1;
  return ((size_t)i * 2 + (size_t)s) * (size_t)t->k + (size_t)j - 1;
}

/* trials:value(i, option, j) -> the rounded value. */
static int t_value(lua_State *L) {
  Trials *t = checktrials(L, 1);
  int j;
  lua_pushnumber(L, t->v[check_cell(L, t, &j)]);
  return 1;
}

/* trials:text(i, option, j) -> the value as Python prints it. */
static int t_text(lua_State *L) {
  Trials *t = checktrials(L, 1);
  int j;
  size_t cell = check_cell(L, t, &j);
  char buf[40];
  int len = cell_text(t, cell, j, buf);
  lua_pushlstring(L, buf, (size_t)len);
  return 1;
}

/* trials:trial(i [, texts]) -> {a={...}, b={...}} (the architecture's Trial); with texts true
   also ta={...}, tb={...}: each value as trials:text prints it (one call instead of 1 + 2k). */
static int t_trial(lua_State *L) {
  Trials *t = checktrials(L, 1);
  lua_Integer i = trial_index(L, t, 2);
  int texts = lua_toboolean(L, 3);
  lua_createtable(L, 0, texts ? 4 : 2);
  for (int s = 0; s < 2; s++) {
    size_t first = ((size_t)i * 2 + (size_t)s) * (size_t)t->k;
    lua_createtable(L, t->k, 0);
    for (int j = 0; j < t->k; j++) { lua_pushnumber(L, t->v[first + (size_t)j]); lua_rawseti(L, -2, j + 1); }
    lua_setfield(L, -2, s == 0 ? "a" : "b");
    if (!texts) continue;
    lua_createtable(L, t->k, 0);
    for (int j = 0; j < t->k; j++) {
      char buf[40];
      int len = cell_text(t, first + (size_t)j, j, buf);
      lua_pushlstring(L, buf, (size_t)len);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, s == 0 ? "ta" : "tb");
  }
  return 1;
}

/* read_weights: the k weights at stack index i into w (raises on a bad table). */
static void read_weights(lua_State *L, Trials *t, int i, double *w) {
  luaL_checktype(L, i, LUA_TTABLE);
  luaL_argcheck(L, luaL_len(L, i) == t->k, i, "trials: weights must have one number per attribute");
  for (int j = 0; j < t->k; j++) {
    if (lua_geti(L, i, j + 1) != LUA_TNUMBER) luaL_argerror(L, i, "trials: weights must be numbers");
    w[j] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
}

/* utility: sum_j w_j (x_j - min_j) / (max_j - min_j), summed left to right from 0. */
static double utility(const Trials *t, const double *row, const double *w) {
  double u = 0;
  for (int j = 0; j < t->k; j++) u += w[j] * ((row[j] - t->min[j]) / (t->max[j] - t->min[j]));
  return u;
}

/* trials:utilities(weights) -> ua, ub: arrays of the n utilities of options A and B. */
static int t_utilities(lua_State *L) {
  Trials *t = checktrials(L, 1);
  double w[1000];
  read_weights(L, t, 2, w);
  lua_createtable(L, (int)t->n, 0);
  lua_createtable(L, (int)t->n, 0);
  for (lua_Integer i = 0; i < t->n; i++) {
    const double *row = t->v + (size_t)i * 2 * (size_t)t->k;
    lua_pushnumber(L, utility(t, row, w));
    lua_seti(L, -3, i + 1);
    lua_pushnumber(L, utility(t, row + t->k, w));
    lua_seti(L, -2, i + 1);
  }
  return 2;
}

/* trials:choices(weights) -> string of n letters: "A" where U(A) > U(B), else "B". */
static int t_choices(lua_State *L) {
  Trials *t = checktrials(L, 1);
  double w[1000];
  read_weights(L, t, 2, w);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, (size_t)t->n);
  for (lua_Integer i = 0; i < t->n; i++) {
    const double *row = t->v + (size_t)i * 2 * (size_t)t->k;
    out[i] = utility(t, row, w) > utility(t, row + t->k, w) ? 'A' : 'B';
  }
  luaL_pushresultsize(&b, (size_t)t->n);
  return 1;
}

/* copy_blocks: copies len bytes from src (readable to len rounded up to 16) to o (writable
   likewise) in 16-byte blocks; returns o + len. */
static inline char *copy_blocks(char *o, const char *src, size_t len) {
  for (size_t i = 0; i < len; i += 16) memcpy(o + i, src + i, 16);
  return o + len;
}

#define PAD16(n) (((n) + 15) & ~(size_t)15)

/* One value slot of a compiled prompt template: the value of option `side` (0 = A, 1 = B),
   attribute `attr`, then the literal text up to the next slot. For whole-number attributes
   `lines` caches value + literal for every mantissa in lo..hi (shared by slots that agree). */
typedef struct {
  const char *lit;
  size_t len;
  int side, attr;
  const char *lines;
  const unsigned char *line_len;
  size_t stride;
  int64_t lo, hi;
} Slot;

/* A compiled template (prompts:compile): the head literal, then the slots. */
typedef struct {
  const char *head;
  size_t head_len, room;
  int m;
  Slot *slot;
} Tmpl;

/* read_template: reads the compiled template at index idx ({lit0, lit1, ..., litm, side = {..},
   attr = {..}}: slot s sits between lit(s-1) and lit(s)) into padded copies in a userdata it
   pushes, and caches value + literal lines for whole-number attributes whose span is at most
   `values` (one more userdata pushed). Sets *tm; tm->room bounds one rendered prompt. */
static void read_template(lua_State *L, const Trials *t, int idx, size_t values, Tmpl *tm) {
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer nlit = (lua_Integer)lua_rawlen(L, idx);
  if (nlit < 1 || nlit > 100001) luaL_argerror(L, idx, "not a compiled prompt template");
  int m = (int)(nlit - 1);
  if (lua_getfield(L, idx, "side") != LUA_TTABLE || lua_getfield(L, idx, "attr") != LUA_TTABLE ||
      (lua_Integer)lua_rawlen(L, -1) != m || (lua_Integer)lua_rawlen(L, -2) != m)
    luaL_argerror(L, idx, "compiled template needs side and attr arrays, one entry per slot");
  int sides = lua_gettop(L) - 1, attrs = lua_gettop(L);
  size_t bytes = sizeof(Slot) * (size_t)(m + 1);
  for (lua_Integer i = 1; i <= nlit; i++) {
    if (lua_rawgeti(L, idx, i) != LUA_TSTRING) luaL_argerror(L, idx, "compiled template literals must be strings");
    bytes += PAD16(lua_rawlen(L, -1)) + 16;
    lua_pop(L, 1);
  }
  Slot *sl = (Slot *)lua_newuserdatauv(L, bytes, 0);
  char *p = (char *)(sl + m + 1);
  tm->head = p, tm->head_len = 0;
  tm->slot = sl;
  tm->m = m;
  tm->room = 16;
  for (lua_Integer i = 1; i <= nlit; i++) {
    size_t len;
    lua_rawgeti(L, idx, i);
    const char *lit = lua_tolstring(L, -1, &len);
    memcpy(p, lit, len);
    if (i == 1) {
      tm->head = p, tm->head_len = len;
    } else {
      Slot *s = &sl[i - 2];
      s->lit = p, s->len = len, s->lines = NULL;
      lua_rawgeti(L, sides, i - 1);
      lua_rawgeti(L, attrs, i - 1);
      s->side = (int)lua_tointeger(L, -2) - 1;
      s->attr = (int)lua_tointeger(L, -1) - 1;
      if (s->side < 0 || s->side > 1 || s->attr < 0 || s->attr >= t->k)
        luaL_argerror(L, idx, "compiled template slot names no option 1..2 or attribute of these trials");
      lua_pop(L, 2);
    }
    tm->room += PAD16(len) + 48;
    p += PAD16(len) + 16;
    lua_pop(L, 1);
  }
  lua_remove(L, sides); /* the side and attr arrays; the slots stay pushed */
  lua_remove(L, sides);
  /* the value + literal caches */
  size_t cache = 0;
  size_t *stride = (size_t *)lua_newuserdatauv(L, sizeof(size_t) * (size_t)(m + 1), 0);
  for (int s = 0; s < m; s++) {
    int j = sl[s].attr;
    stride[s] = 0;
    if (t->prec[j] != 0 || !(t->min[j] >= 0) || !(t->max[j] < 1e15)) continue;
    size_t span = (size_t)((int64_t)ceil(t->max[j]) - (int64_t)floor(t->min[j]) + 1);
    size_t len = 24 + sl[s].len;
    if (span > values || len > 255) continue;
    int shared = 0;
    for (int r = 0; r < s && !shared; r++)
      shared = stride[r] && sl[r].attr == j && sl[r].len == sl[s].len && memcmp(sl[r].lit, sl[s].lit, sl[s].len) == 0;
    if (shared) continue;
    stride[s] = PAD16(len);
    cache += span * (stride[s] + 1);
  }
  char *c = (char *)lua_newuserdatauv(L, cache, 0);
  for (int s = 0; s < m; s++) {
    Slot *sv = &sl[s];
    int j = sv->attr;
    if (!stride[s]) {
      for (int r = 0; r < s; r++)
        if (sl[r].lines && sl[r].attr == j && sl[r].len == sv->len && memcmp(sl[r].lit, sv->lit, sv->len) == 0) {
          sv->lines = sl[r].lines, sv->line_len = sl[r].line_len, sv->stride = sl[r].stride;
          sv->lo = sl[r].lo, sv->hi = sl[r].hi;
          break;
        }
      continue;
    }
    sv->lo = (int64_t)floor(t->min[j]);
    sv->hi = (int64_t)ceil(t->max[j]);
    size_t span = (size_t)(sv->hi - sv->lo + 1);
    unsigned char *lens = (unsigned char *)(c + span * stride[s]);
    for (size_t a = 0; a < span; a++) {
      char *o = c + a * stride[s];
      size_t n = (size_t)emit_mant(sv->lo + (int64_t)a, (double)(sv->lo + (int64_t)a), 0, o);
      memcpy(o + n, sv->lit, sv->len);
      lens[a] = (unsigned char)(n + sv->len);
    }
    sv->lines = c, sv->line_len = lens, sv->stride = stride[s];
    c += span * (stride[s] + 1);
  }
  lua_remove(L, -2); /* the strides; the slots and the caches stay pushed */
}

/* write_slots: writes trial i's values and the literals after them (the template tm after its
   head) at o (room for tm->room bytes); returns the end. */
static char *write_slots(char *o, const Trials *t, const Tmpl *tm, lua_Integer i) {
  size_t base = (size_t)i * 2 * (size_t)t->k;
  for (int s = 0; s < tm->m; s++) {
    const Slot *sv = &tm->slot[s];
    size_t c = base + (size_t)sv->side * (size_t)t->k + (size_t)sv->attr;
    int64_t mv = t->mant[c];
    if (sv->lines && mv >= sv->lo && mv <= sv->hi) {
      size_t at = (size_t)(mv - sv->lo);
      o = copy_blocks(o, sv->lines + at * sv->stride, sv->line_len[at]);
      continue;
    }
    o += emit_mant(mv, t->v[c], t->prec[sv->attr], o);
    o = copy_blocks(o, sv->lit, sv->len);
  }
  return o;
}

/* render_prompts: pushes the template at index tpl filled with trials first..last (0-based) as
   strings; into the table at index out when out != 0, else leaves the one string pushed. */
static void render_prompts(lua_State *L, Trials *t, int tpl, lua_Integer first, lua_Integer last,
                           int out) {
  int top = lua_gettop(L);
  Tmpl tm;
  read_template(L, t, tpl, (size_t)(last - first + 1) * 2, &tm);
  char *buf = (char *)lua_newuserdatauv(L, tm.room, 0);
  char *body = copy_blocks(buf, tm.head, tm.head_len); /* the head is the same for every trial */
  for (lua_Integer i = first; i <= last; i++) {
    char *end = write_slots(body, t, &tm, i);
    lua_pushlstring(L, buf, (size_t)(end - buf));
    if (out) lua_rawseti(L, out, i - first + 1);
  }
  if (!out) lua_replace(L, top + 1);
  lua_settop(L, out ? top : top + 1);
}

/* trials:render(i, template) -> the compiled prompt template (prompts:compile) filled with
   trial i's values, as Python prints them. */
static int t_render(lua_State *L) {
  Trials *t = checktrials(L, 1);
  lua_Integer i = trial_index(L, t, 2);
  render_prompts(L, t, 3, i, i, 0);
  return 1;
}

/* trials:render_all(template) -> array of the n rendered prompts (see render). */
static int t_render_all(lua_State *L) {
  Trials *t = checktrials(L, 1);
  lua_settop(L, 2);
  lua_createtable(L, (int)t->n, 0);
  render_prompts(L, t, 2, 0, t->n - 1, 3);
  return 1;
}

/* __tostring: "introspect.rng.Trials(n=N, k=K): 0xADDR". */
static int t_tostring(lua_State *L) {
  Trials *t = checktrials(L, 1);
  lua_pushfstring(L, "introspect.rng.Trials(n=%I, k=%d): %p", (LUAI_UACINT)t->n, t->k, (void *)t);
  return 1;
}

/* ---------------------------------------------------------------- module functions */

/* rng.pyround(x [, n]) -> Python's round(x, n) (a float); without n, round(x) (an integer). */
static int l_pyround(lua_State *L) {
  double x = luaL_checknumber(L, 1);
  int ovf;
  if (lua_isnoneornil(L, 2)) {
    luaL_argcheck(L, isfinite(x), 1, "rng.pyround: cannot convert a non-finite float to integer");
    double r = py_round(x, 0, &ovf);
    lua_Integer n = 0;
    luaL_argcheck(L, lua_numbertointeger(r, &n), 1, "rng.pyround: value out of integer range");
    lua_pushinteger(L, n);
    return 1;
  }
  double r = py_round(x, luaL_checkinteger(L, 2), &ovf);
  if (ovf) return luaL_error(L, "rng.pyround: rounded value too large to represent");
  lua_pushnumber(L, r);
  return 1;
}

/* rng.pyrepr(x) -> Python's repr(float(x)): shortest round-trip text ("67.0", "0.35", "1e-05"). */
static int l_pyrepr(lua_State *L) {
  char buf[40];
  int len = py_repr(luaL_checknumber(L, 1), buf);
  lua_pushlstring(L, buf, (size_t)len);
  return 1;
}

/* rng.precision(min, max) -> decimals by the study's rule (width < 1: |floor(log10 w)| + 1;
   1 <= w < 5: 1; else 0). */
static int l_precision(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  luaL_argcheck(L, a < b, 2, "rng.precision: max must be > min");
  lua_pushinteger(L, paper_precision(a, b));
  return 1;
}

static const luaL_Reg gen_methods[] = {
  { "seed", g_seed }, { "random", g_random }, { "uniform", g_uniform },
  { "getrandbits", g_getrandbits }, { "randbelow", g_randbelow }, { "randint", g_randint },
  { "shuffle", g_shuffle }, { "jump", g_jump }, { "algorithm", g_algorithm },
  { "state", g_state }, { "setstate", g_setstate }, { "clone", g_clone },
  { "trials", g_trials }, { NULL, NULL }
};

static const luaL_Reg trials_methods[] = {
  { "count", t_len }, { "attributes", t_attributes }, { "precision", t_precision },
  { "value", t_value }, { "text", t_text }, { "trial", t_trial },
  { "utilities", t_utilities }, { "choices", t_choices },
  { "render", t_render }, { "render_all", t_render_all },
  { NULL, NULL }
};

static const luaL_Reg module_functions[] = {
  { "new", l_new }, { "pyround", l_pyround }, { "pyrepr", l_pyrepr },
  { "precision", l_precision }, { NULL, NULL }
};

/* luaopen_introspect_rng: registers both metatables; pushes the module table. */
int luaopen_introspect_rng(lua_State *L) {
  luaL_newmetatable(L, GENERATOR_MT);
  luaL_newlib(L, gen_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, g_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  luaL_newmetatable(L, TRIALS_MT);
  luaL_newlib(L, trials_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, t_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, t_len);
  lua_setfield(L, -2, "__len");
  lua_pop(L, 1);
  luaL_newlib(L, module_functions);
  return 1;
}
