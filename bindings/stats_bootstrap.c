/* introspect.stats, fourth source file: stats.cluster_bootstrap, the one implementation of the
 * cluster bootstrap (scripts/introspect/analysis/bootstrap.lua's bootstrap.clusters calls it).
 * Ids of any type (context names, model names, numbers) numbered in order of first
 * appearance; one level, crossed or nested designs; the statistic from per-cell sums weighted
 * by how often each cell's clusters were drawn; a percentile interval. See docs/statistics.md. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"
#include "stats_internal.h"

/* The sums of the rows of one cell: rows that always get the same bootstrap weight. */
typedef struct {
  double n, sx, sy, sxx, syy, sxy;
  size_t row; /* its first row (0-based) */
} Cell;

/* The statistics computed from weighted cells; STAT_FUNCTION calls a Lua function. */
enum { STAT_SLOPE, STAT_R, STAT_MEAN, STAT_FUNCTION };

/* One bootstrap problem, read from Lua. */
typedef struct {
  size_t n, na, nb;     /* rows, clusters of the first factor, of the second (0 for one level) */
  size_t *a, *b;        /* each row's codes (0-based) */
  int design;           /* 0 one level, 1 crossed, 2 nested */
  size_t *list, *start; /* nested: the inner codes of outer o are list[start[o] .. start[o+1]) */
  Cell *cells;
  size_t ncells;
  size_t *ca, *cb; /* draw counts */
} Boot;

static const char *const DESIGNS[] = {"one", "crossed", "nested"};

/* Numbers the n ids of the array at idx in order of first appearance (0-based codes), ids
 * being equal as Lua table keys are (1 and 1.0 are one id); with `within` (nested), an id is
 * read within its row's code within[i], so the codes number the (within, id) pairs. Raises,
 * naming `where` and the index, for a short array or an id that is nil or NaN. Returns the
 * number of distinct ids (pairs). Stack: 0. */
static size_t index_ids(lua_State *L, int idx, size_t n, const char *where, const size_t *within,
                        size_t *codes) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx) || (size_t)luaL_len(L, idx) != n)
    luaL_error(L, "stats.cluster_bootstrap: %s needs %d cluster ids", where, (int)n);
  lua_newtable(L); /* seen: id -> code, or (nested) outer code -> {id -> code} */
  int seen = lua_gettop(L);
  size_t levels = 0;
  for (size_t i = 0; i < n; i++) {
    int t = seen;
    if (within) {
      if (lua_rawgeti(L, seen, (lua_Integer)within[i] + 1) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawseti(L, seen, (lua_Integer)within[i] + 1);
      }
      t = lua_gettop(L);
    }
    lua_geti(L, idx, (lua_Integer)i + 1);
    if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && isnan(lua_tonumber(L, -1))))
      luaL_error(L, "stats.cluster_bootstrap: %s[%d] is not an id", where, (int)i + 1);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, t) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushinteger(L, (lua_Integer)levels++);
      lua_rawset(L, t); /* pops the id and its code */
      codes[i] = levels - 1;
    } else {
      codes[i] = (size_t)lua_tointeger(L, -1);
      lua_pop(L, 2);
    }
    if (within) lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return levels;
}

/* Reads the clusters argument at idx (an array of ids, {crossed = {ids1, ids2}} or
 * {nested = {outer, inner}}) for n rows into bt, in buffers pushed on the stack. */
static void read_clusters(lua_State *L, int idx, size_t n, Boot *bt) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "stats.cluster_bootstrap: clusters must be a table");
  bt->a = lua_newuserdatauv(L, (n ? n : 1) * sizeof(size_t), 0);
  bt->b = lua_newuserdatauv(L, (n ? n : 1) * sizeof(size_t), 0);
  bt->nb = 0;
  bt->design = 0;
  if (lua_getfield(L, idx, "crossed") != LUA_TNIL) {
    bt->design = 1;
  } else {
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "nested") != LUA_TNIL) bt->design = 2;
  }
  if (bt->design == 0) {
    lua_pop(L, 1);
    bt->na = index_ids(L, idx, n, "clusters", NULL, bt->a);
    return;
  }
  const char *name = DESIGNS[bt->design];
  char where[32];
  if (!lua_istable(L, -1)) luaL_error(L, "stats.cluster_bootstrap: %s must be a pair of arrays", name);
  lua_geti(L, -1, 1);
  snprintf(where, sizeof where, "%s[1]", name);
  bt->na = index_ids(L, -1, n, where, NULL, bt->a);
  lua_geti(L, -2, 2);
  snprintf(where, sizeof where, "%s[2]", name);
  bt->nb = index_ids(L, -1, n, where, bt->design == 2 ? bt->a : NULL, bt->b);
  lua_pop(L, 3);
}

/* Groups the rows into cells of equal weight (one level: a cluster; crossed: a pair of
 * levels; nested: an inner cluster) in order of first appearance, with their sums of x (0
 * when x is NULL) and y, and (nested) lists each outer cluster's inner clusters. Pushes 2-4
 * buffers. */
static void make_cells(lua_State *L, const double *x, const double *y, Boot *bt) {
  size_t n = bt->n, *cell_of = lua_newuserdatauv(L, (n ? n : 1) * sizeof(size_t), 0);
  bt->ncells = 0;
  if (bt->design == 1) { /* a cell per (a, b) pair seen, numbered by a Lua table */
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
      lua_Integer key = (lua_Integer)(bt->a[i] * (bt->nb + 1) + bt->b[i]);
      if (lua_rawgeti(L, -1, key) == LUA_TNIL) {
        cell_of[i] = bt->ncells++;
        lua_pushinteger(L, (lua_Integer)cell_of[i]);
        lua_rawseti(L, -3, key);
      } else {
        cell_of[i] = (size_t)lua_tointeger(L, -1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else { /* one level: the cluster; nested: the inner cluster (it determines the outer) */
    const size_t *code = bt->design == 0 ? bt->a : bt->b;
    for (size_t i = 0; i < n; i++) {
      cell_of[i] = code[i];
      if (code[i] + 1 > bt->ncells) bt->ncells = code[i] + 1;
    }
  }
  bt->cells = lua_newuserdatauv(L, (bt->ncells ? bt->ncells : 1) * sizeof(Cell), 0);
  for (size_t c = 0; c < bt->ncells; c++) bt->cells[c] = (Cell){0, 0, 0, 0, 0, 0, SIZE_MAX};
  for (size_t i = 0; i < n; i++) {
    Cell *c = &bt->cells[cell_of[i]];
    double xi = x ? x[i] : 0, yi = y[i];
    if (c->row == SIZE_MAX) c->row = i;
    c->n += 1, c->sx += xi, c->sy += yi;
    c->sxx += xi * xi, c->syy += yi * yi, c->sxy += xi * yi;
  }
  if (bt->design != 2) return;
  /* inner codes are numbered in order of first appearance, so listing them by outer code in
   * code order keeps each list in order of first appearance */
  size_t *outer = lua_newuserdatauv(L, (bt->nb ? bt->nb : 1) * sizeof(size_t), 0);
  bt->start = lua_newuserdatauv(L, (bt->na + 1) * sizeof(size_t), 0);
  bt->list = lua_newuserdatauv(L, (bt->nb ? bt->nb : 1) * sizeof(size_t), 0);
  memset(bt->start, 0, (bt->na + 1) * sizeof(size_t));
  for (size_t i = 0; i < n; i++) outer[bt->b[i]] = bt->a[i];
  for (size_t k = 0; k < bt->nb; k++) bt->start[outer[k] + 1]++;
  for (size_t o = 0; o < bt->na; o++) bt->start[o + 1] += bt->start[o];
  size_t *fill = bt->ca; /* na entries of workspace, overwritten by the first draw */
  memcpy(fill, bt->start, bt->na * sizeof(size_t));
  for (size_t k = 0; k < bt->nb; k++) bt->list[fill[outer[k]]++] = k;
}

/* The bootstrap weight of row i under the draw counts in bt (1 for the full data). */
static lua_Integer row_weight(const Boot *bt, size_t i, int full) {
  if (full) return 1;
  if (bt->design == 0) return (lua_Integer)bt->ca[bt->a[i]];
  if (bt->design == 1) return (lua_Integer)(bt->ca[bt->a[i]] * bt->cb[bt->b[i]]);
  return (lua_Integer)bt->cb[bt->b[i]];
}

/* The statistic (slope of y on x, Pearson r, mean of y) of the cells weighted by row_weight;
 * NAN when undefined (no rows, or x or y constant to 1e-12 of their sums of squares). */
static double from_sums(const Boot *bt, int kind, int full) {
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t k = 0; k < bt->ncells; k++) {
    const Cell *c = &bt->cells[k];
    double w = (double)row_weight(bt, c->row, full);
    if (w > 0) {
      n += w * c->n, sx += w * c->sx, sy += w * c->sy;
      sxx += w * c->sxx, syy += w * c->syy, sxy += w * c->sxy;
    }
  }
  if (n == 0) return NAN;
  if (kind == STAT_MEAN) return sy / n;
  double vxx = sxx - sx * sx / n, vyy = syy - sy * sy / n, vxy = sxy - sx * sy / n;
  if (vxx <= 1e-12 * fmax(sxx, 1e-300)) return NAN;
  if (kind == STAT_SLOPE) return vxy / vxx;
  if (vyy <= 1e-12 * fmax(syy, 1e-300)) return NAN;
  return vxy / sqrt(vxx * vyy);
}

/* The statistic of one sample: from_sums, or the Lua function at fi called with the array of
 * row weights (table at wi, refilled). Raises if the function returns no number. */
static double statistic(lua_State *L, const Boot *bt, int kind, int fi, int wi, int full) {
  if (kind != STAT_FUNCTION) return from_sums(bt, kind, full);
  for (size_t i = 0; i < bt->n; i++) {
    lua_pushinteger(L, row_weight(bt, i, full));
    lua_rawseti(L, wi, (lua_Integer)i + 1);
  }
  lua_pushvalue(L, fi);
  lua_pushvalue(L, wi);
  lua_call(L, 1, 1);
  int ok;
  double s = lua_tonumberx(L, -1, &ok);
  if (!ok) luaL_error(L, "stats.cluster_bootstrap: the statistic function returned %s",
                      luaL_typename(L, -1));
  lua_pop(L, 1);
  return s;
}

/* Draws the clusters of one bootstrap sample into bt->ca (and bt->cb): na clusters with
 * replacement; crossed: nb levels of the second factor independently; nested: for every draw
 * of an outer cluster, as many of its inner clusters, with replacement. */
static void draw(const Boot *bt, gsl_rng *r) {
  memset(bt->ca, 0, bt->na * sizeof(size_t));
  memset(bt->cb, 0, (bt->nb ? bt->nb : 1) * sizeof(size_t));
  for (size_t k = 0; k < bt->na; k++) bt->ca[(size_t)(gsl_rng_uniform(r) * (double)bt->na)]++;
  if (bt->design == 1) {
    for (size_t k = 0; k < bt->nb; k++) bt->cb[(size_t)(gsl_rng_uniform(r) * (double)bt->nb)]++;
  } else if (bt->design == 2) {
    for (size_t o = 0; o < bt->na; o++) {
      size_t len = bt->start[o + 1] - bt->start[o];
      for (size_t t = 0; t < bt->ca[o]; t++)
        for (size_t u = 0; u < len; u++)
          bt->cb[bt->list[bt->start[o] + (size_t)(gsl_rng_uniform(r) * (double)len)]]++;
    }
  }
}

/* stats.cluster_bootstrap(x, y, clusters [, opts]) -> {estimate, se, lo, hi, reps, clusters,
 * clusters_inner, design, level} | nil, err. clusters: an array of ids (numbers, strings, any
 * value but nil and NaN), {crossed = {ids1, ids2}} or {nested = {outer, inner}}. opts: reps
 * (1000), level (0.95), statistic ("slope" of y on x, "r", "mean" of y, or a function of the
 * row weights; x may be nil for the last two), seed (1) | rng. */
static int l_cluster_bootstrap(lua_State *L) {
  static const char *const keys[] = {"reps", "level", "statistic", "seed", "rng", NULL};
  const char *fname = "stats.cluster_bootstrap";
  binding_check_options(L, 4, fname, keys);
  lua_settop(L, 4);
  double level = stats_opt_number(L, 4, "level", 0.95);
  double reps_d = stats_opt_number(L, 4, "reps", 1000);
  if (!(reps_d >= 10 && reps_d <= 1e8)) luaL_error(L, "%s: option 'reps' must be >= 10", fname);
  if (!(level > 0 && level < 1)) luaL_error(L, "%s: option 'level' must be in (0, 1)", fname);
  size_t reps = (size_t)reps_d;
  int kind = STAT_SLOPE;
  if (lua_isnil(L, 4)) lua_pushnil(L); /* stack 5: the statistic (a function stays here) */
  else lua_getfield(L, 4, "statistic");
  if (lua_isfunction(L, 5)) kind = STAT_FUNCTION;
  else if (!lua_isnil(L, 5)) {
    const char *st = lua_tostring(L, 5);
    kind = st && strcmp(st, "slope") == 0 ? STAT_SLOPE : st && strcmp(st, "r") == 0 ? STAT_R
           : st && strcmp(st, "mean") == 0 ? STAT_MEAN : -1;
    if (kind < 0)
      luaL_error(L, "%s: option 'statistic' must be slope, r, mean or a function", fname);
  }
  gsl_rng *r = stats_call_rng(L, 4); /* stack 6 */
  lua_newtable(L);                   /* stack 7: the row weights for a statistic function */
  Boot bt;
  double *x = NULL, *y = stats_read_vector(L, 2, fname, "y", &bt.n);
  if (kind == STAT_SLOPE || kind == STAT_R || !lua_isnil(L, 1)) {
    size_t nx;
    x = stats_read_vector(L, 1, fname, "x", &nx);
    if (nx != bt.n) luaL_error(L, "%s: x has %d values but y has %d", fname, (int)nx, (int)bt.n);
  }
  read_clusters(L, 3, bt.n, &bt);
  if (bt.na < 2 || (bt.design == 1 && bt.nb < 2)) {
    lua_pushnil(L);
    if (bt.design == 1)
      lua_pushfstring(L, "%s: need at least 2 clusters per factor, got %d x %d", fname,
                      (int)bt.na, (int)bt.nb);
    else
      lua_pushfstring(L, "%s: need at least 2 clusters per factor, got %d", fname, (int)bt.na);
    return 2;
  }
  bt.ca = lua_newuserdatauv(L, bt.na * sizeof(size_t), 0);
  bt.cb = lua_newuserdatauv(L, (bt.nb ? bt.nb : 1) * sizeof(size_t), 0);
  make_cells(L, x, y, &bt);
  double *values = stats_scratch(L, reps);
  double estimate = statistic(L, &bt, kind, 5, 7, 1);
  if (isnan(estimate)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: the statistic is undefined on the data", fname);
    return 2;
  }
  size_t valid = 0;
  for (size_t k = 0; k < reps; k++) {
    if (k % 64 == 0) stats_check_interrupt(L);
    draw(&bt, r);
    double s = statistic(L, &bt, kind, 5, 7, 0);
    if (!isnan(s)) values[valid++] = s;
  }
  if (valid < 10) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: the statistic is undefined in most samples", fname);
    return 2;
  }
  stats_sort_doubles(values, valid, lua_newuserdatauv(L, valid * sizeof(KeyWeight), 0));
  double m, sd, a = (1 - level) / 2;
  stats_mean_sd(values, valid, &m, &sd);
  lua_createtable(L, 0, 9);
  stats_set_number(L, "estimate", estimate);
  stats_set_number(L, "se", sd);
  stats_set_number(L, "lo", values[(size_t)floor(a * (double)(valid - 1))]);
  stats_set_number(L, "hi", values[(size_t)ceil((1 - a) * (double)(valid - 1))]);
  stats_set_number(L, "level", level);
  lua_pushinteger(L, (lua_Integer)valid);
  lua_setfield(L, -2, "reps");
  lua_pushinteger(L, (lua_Integer)bt.na);
  lua_setfield(L, -2, "clusters");
  if (bt.design) {
    lua_pushinteger(L, (lua_Integer)bt.nb);
    lua_setfield(L, -2, "clusters_inner");
  }
  lua_pushstring(L, DESIGNS[bt.design]);
  lua_setfield(L, -2, "design");
  return 1;
}

/* The bootstrap function of the introspect.stats table (merged in by luaopen_introspect_stats). */
const luaL_Reg stats_bootstrap_funcs[] = {{"cluster_bootstrap", l_cluster_bootstrap},
                                          {NULL, NULL}};
