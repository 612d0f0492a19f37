/* C-level known-answer checks of introspect.stats. The expected values were computed
 * independently with Debian's python3 (statsmodels Logit/OLS, scipy.optimize for MAP and soft
 * labels, scipy.stats for correlations, a 801 x 1001 grid quadrature for the posterior mean)
 * on the same deterministic data set, built below by the same formulas. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "check.h"

int luaopen_introspect_stats(lua_State *L);

/* Evaluates the Lua expression `expr` (globals: stats, X, X1, y, x1, x2, z) to a number;
 * NAN (and a message) when it raises or is not a number. */
static double eval(lua_State *L, const char *expr) {
  char code[1024];
  snprintf(code, sizeof code, "return %s", expr);
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("error in '%s': %s\n", expr, lua_tostring(L, -1));
    lua_pop(L, 1);
    return NAN;
  }
  int ok;
  double v = lua_tonumberx(L, -1, &ok);
  lua_pop(L, 1);
  return ok ? v : NAN;
}

/* Runs the Lua chunk `code`; a raised error counts as a failed check. */
static void run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("error in '%s': %s\n", code, lua_tostring(L, -1));
    failed++;
  }
  lua_settop(L, 0);
}

/* Checks |eval(expr) - want| <= tol. */
static void near(lua_State *L, const char *expr, double want, double tol) {
  double got = eval(L, expr);
  char what[1200];
  snprintf(what, sizeof what, "%s = %.10g, want %.10g (tol %g)", expr, got, want, tol);
  check(fabs(got - want) <= tol, what);
}

/* Checks that the Lua chunk `code` returns a string containing `needle` (a nil, err result or
 * a caught error message). */
static void message(lua_State *L, const char *code, const char *needle) {
  const char *got = "";
  int status = luaL_dostring(L, code);
  if (lua_type(L, -1) == LUA_TSTRING) got = lua_tostring(L, -1);
  char what[1200];
  snprintf(what, sizeof what, "[%s] -> status %d '%s', want '%s'", code, status, got, needle);
  check(strstr(got, needle) != NULL, what);
  lua_settop(L, 0);
}

static const int Y[40] = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0,
                          0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0};

/* Builds the data set as Lua globals X (rows {x1, x2}), X1 (rows {x1}), y, x1, x2, z. */
static void make_data(lua_State *L) {
  const char *names[] = {"X", "X1", "y", "x1", "x2", "z"};
  for (int t = 0; t < 6; t++) lua_createtable(L, 40, 0);
  for (int i = 0; i < 40; i++) {
    double a = ((i * 37) % 41) / 20.0 - 1, b = ((i * 17) % 23) / 11.0 - 1;
    double z = ((i * 13) % 17) / 5.0 + a;
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, a), lua_rawseti(L, -2, 1);
    lua_pushnumber(L, b), lua_rawseti(L, -2, 2);
    lua_rawseti(L, 1, i + 1);
    lua_createtable(L, 1, 0);
    lua_pushnumber(L, a), lua_rawseti(L, -2, 1);
    lua_rawseti(L, 2, i + 1);
    lua_pushinteger(L, Y[i]), lua_rawseti(L, 3, i + 1);
    lua_pushnumber(L, a), lua_rawseti(L, 4, i + 1);
    lua_pushnumber(L, b), lua_rawseti(L, 5, i + 1);
    lua_pushnumber(L, z), lua_rawseti(L, 6, i + 1);
  }
  for (int t = 5; t >= 0; t--) lua_setglobal(L, names[t]);
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "introspect.stats", luaopen_introspect_stats, 0);
  lua_setglobal(L, "stats");
  make_data(L);

  /* Maximum likelihood vs statsmodels Logit. */
  run(L, "ml = stats.logistic(X, y)");
  near(L, "ml.intercept", 0.008999160783728612, 1e-7);
  near(L, "ml.coef[1]", 1.3819991821203983, 1e-7);
  near(L, "ml.coef[2]", -2.4666084992446518, 1e-7);
  near(L, "ml.intercept_se", 0.39276866445510616, 1e-6);
  near(L, "ml.se[1]", 0.7418186360483423, 1e-6);
  near(L, "ml.se[2]", 0.8012931468449389, 1e-6);
  near(L, "ml.cov[2][2]", 0.7418186360483423 * 0.7418186360483423, 1e-6);
  /* MAP with Normal(0, 1) slopes and a flat intercept vs scipy BFGS. */
  near(L, "stats.logistic(X, y, {prior_sd = 1}).coef[1]", 0.7724757001496035, 1e-6);
  near(L, "stats.logistic(X, y, {prior_sd = {1, 1}}).coef[2]", -1.5625952437013078, 1e-6);
  near(L, "stats.logistic(X, y, {prior_sd = 1}).intercept", 0.013549044029259247, 1e-6);
  /* Soft labels: y = 0.2 + 0.6 * y. */
  run(L, "soft = {} for i, v in ipairs(y) do soft[i] = 0.2 + 0.6 * v end");
  near(L, "stats.logistic(X, soft).coef[1]", 0.6166896448586849, 1e-6);
  near(L, "stats.logistic(X, soft).coef[2]", -1.1785471038522057, 1e-6);
  /* Case weights of 2 equal duplicating every row: same estimate, se / sqrt(2). */
  run(L, "w2 = {} for i = 1, #y do w2[i] = 2 end");
  near(L, "stats.logistic(X, y, {weights = w2}).coef[1]", 1.3819991821203983, 1e-7);
  near(L, "stats.logistic(X, y, {weights = w2}).se[1]", 0.7418186360483423 / sqrt(2), 1e-6);

  /* Study posterior, one slope, vs grid quadrature: mean 0.57429, sd 0.49499, intercept
   * -0.01180. Monte Carlo error with 4000 antithetic draws is well under the tolerance. */
  run(L, "post = stats.posterior(X1, y, {seed = 3})");
  near(L, "post.coef[1]", 0.5742888995166417, 0.005);
  near(L, "post.sd[1]", 0.4949936524816443, 0.015);
  near(L, "post.intercept", -0.011804441635502285, 0.005);
  near(L, "post.mcse[1] < 0.01 and post.ess > 2000 and post.khat < 0.5 and 1 or 0", 1, 0);
  near(L, "post.quantiles[2].coef[1]", 0.5742888995166417, 0.05); /* median ~ mean */
  near(L, "stats.posterior(X1, y, {seed = 3}).coef[1] - post.coef[1]", 0, 0);
  near(L, "math.abs(stats.posterior(X1, y, {seed = 4}).coef[1] - post.coef[1]) > 0 and 1 or 0",
       1, 0);
  near(L, "#stats.posterior(X1, y, {draws = 200, keep_draws = true}).draws", 200, 0);

  /* Separation: ML refuses, MAP and the posterior stay finite. */
  run(L, "sy = {} for i, r in ipairs(X) do sy[i] = r[1] > 0 and 1 or 0 end");
  message(L, "return select(2, stats.logistic(X, sy))", "complete separation");
  run(L, "sy[1] = 1 - sy[1]");
  near(L, "stats.logistic(X, sy) == nil and 1 or 0", 0, 0);
  run(L, "sq = {} for i, r in ipairs(X) do sq[i] = r[1] > 0.3 and 1 or 0 end "
                   "Xq = {} for i, r in ipairs(X) do Xq[i] = {r[1] > 0.3 and r[1] or 0.3, r[2]} end");
  message(L, "return select(2, stats.logistic(Xq, sq))", "separation");
  near(L, "math.abs(stats.logistic(Xq, sq, {prior_sd = 1}).coef[1]) < 10 and 1 or 0", 1, 0);

  /* Bulk fits match single fits. */
  near(L, "stats.fit_many({{X = X, y = y}}, {method = 'ml'})[1].coef[2]", -2.4666084992446518,
       1e-7);
  near(L, "stats.fit_many({{X = X1, y = y}}, {seed = 3})[1].coef[1] - post.coef[1]", 0, 0);
  message(L, "return stats.fit_many({{X = X, y = sy}, {X = {}, y = {}}}, {method = 'ml'})[2].error",
          "no observations");

  /* Correlation, OLS, scaling, rounding. */
  near(L, "stats.pearson(x1, z).r", 0.512133746612629, 1e-12);
  near(L, "stats.spearman(x2, z).r", 0.0798948759298501, 1e-12);
  near(L, "stats.pearson(x1, z).lo", tanh(atanh(0.512133746612629) - 1.959963984540054 / sqrt(37)),
       1e-9);
  near(L, "stats.ols(X, z).intercept", 1.567800089969428, 1e-10);
  near(L, "stats.ols(X, z).coef[1]", 1.0068518611754056, 1e-10);
  near(L, "stats.ols(X, z).se[2]", 0.2685800341028132, 1e-10);
  near(L, "stats.round(2.5) + stats.round(3.5) + stats.round(-2.5)", 2 + 4 - 2, 0);
  near(L, "stats.scale_weights({0.5, -2, 1.01})[2]", -100, 0);
  near(L, "stats.scale_weights({0.5, -2, 1.01})[1]", 25, 0);
  near(L, "stats.scale_weights({0.5, -2, 1.01})[3]", 50, 0); /* 50.5 -> 50 */
  near(L, "select(3, stats.zscore({1, 2, 3, 4}))", sqrt(5.0 / 3.0), 1e-12);

  /* Misuse raises naming function and argument; bad data names the element. */
  message(L, "return select(2, pcall(stats.logistic, {{1}, {'a'}}, {1, 0}))", "X[2][1]");
  message(L, "return select(2, pcall(stats.logistic, X, y, {prio_sd = 1}))", "unknown option 'prio_sd'");
  message(L, "return select(2, pcall(stats.fit_many, {{X = X, y = y}}, {method = 'mcmc'}))",
          "method");
  message(L, "return select(2, stats.zscore({2, 2, 2}))", "constant");

  lua_close(L);
  return check_summary();
}
