/* C-level checks of bindings/binding.h, the helpers every binding shares: unknown option names
 * are refused by name with the known ones listed, the host's Ctrl-C flag is found in the
 * registry (and absent under stock Lua), and the sleep wakes within ~100 ms of the flag being
 * set by a signal handler, so sys.sleep and http.sleep raise "interrupted!" promptly. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "binding.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "check.h"

int luaopen_introspect_sys(lua_State *L);
int luaopen_introspect_http(lua_State *L);

static volatile sig_atomic_t flag;

static void on_alarm(int sig) {
  (void)sig;
  flag = 1;
}

/* Arms a one-shot timer that sets the flag after `ms` milliseconds. */
static void set_flag_after(int ms) {
  flag = 0;
  signal(SIGALRM, on_alarm);
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static const char *const KNOWN[] = {"alpha", "beta", NULL};

static int call_check(lua_State *L) {
  binding_check_options(L, 1, "demo.fn", KNOWN);
  return 0;
}

static void test_options(lua_State *L) {
  lua_pushcfunction(L, call_check);
  check(luaL_dostring(L, "return {alpha = 1, beta = 2}") == LUA_OK, "options table built");
  check(lua_pcall(L, 1, 0, 0) == LUA_OK, "known options accepted");
  lua_pushcfunction(L, call_check);
  luaL_dostring(L, "return {alpha = 1, gamma = 2}");
  check(lua_pcall(L, 1, 0, 0) != LUA_OK, "unknown option refused");
  check(strcmp(lua_tostring(L, -1), "demo.fn: unknown option 'gamma' (known: alpha, beta)") == 0,
        "message names the option and the known ones");
  lua_pop(L, 1);
  lua_pushcfunction(L, call_check);
  lua_pushinteger(L, 3);
  check(lua_pcall(L, 1, 0, 0) != LUA_OK, "non-table options refused");
  lua_pop(L, 1);
}

static void test_sleep(lua_State *L) {
  check(binding_interrupt_flag(L) == NULL, "no flag under stock Lua");
  double t0 = binding_now();
  check(binding_sleep(NULL, 0.03) == 0 && binding_now() - t0 >= 0.029, "plain sleep sleeps");
  lua_pushlightuserdata(L, (void *)&flag);
  lua_setfield(L, LUA_REGISTRYINDEX, BINDING_INTERRUPT_KEY);
  check(binding_interrupt_flag(L) == &flag, "host flag found");
  set_flag_after(50);
  t0 = binding_now();
  check(binding_sleep(&flag, 10) == 1, "sleep reports the interrupt");
  check(binding_now() - t0 < 1.0, "sleep woke promptly");
  const char *mods[] = {"introspect.sys", "introspect.http"};
  for (int m = 0; m < 2; m++) {
    set_flag_after(50);
    lua_getglobal(L, "require");
    lua_pushstring(L, mods[m]);
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "sleep");
    lua_pushnumber(L, 10);
    t0 = binding_now();
    int st = lua_pcall(L, 1, 0, 0);
    char what[96];
    snprintf(what, sizeof what, "%s.sleep raises interrupted! promptly", mods[m]);
    check(st != LUA_OK && strstr(lua_tostring(L, -1), "interrupted!") && binding_now() - t0 < 1.0,
          what);
    lua_pop(L, 2);
  }
  flag = 0;
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "introspect.sys", luaopen_introspect_sys, 0);
  luaL_requiref(L, "introspect.http", luaopen_introspect_http, 0);
  lua_pop(L, 2);
  test_options(L);
  test_sleep(L);
  lua_close(L);
  return check_summary();
}
