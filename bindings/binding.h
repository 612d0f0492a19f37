/* Shared by the bindings: the few helpers every C module needs, written once. Header-only
 * (static inline), so each binding stays one object file that also builds as its own Lua
 * module: registering a liolib-style handle type, rejecting unknown option names, the host's
 * Ctrl-C flag, a monotonic clock and a sleep that wakes for Ctrl-C. */
#ifndef INTROSPECT_BINDING_H
#define INTROSPECT_BINDING_H

#include <signal.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"

/* Registry key of the host's Ctrl-C flag (a light userdata pointing at a volatile
 * sig_atomic_t; absent under stock lua5.4). See docs/architecture.md, "Interrupts". */
#define BINDING_INTERRUPT_KEY "introspect.interrupted"

/* Creates metatable `name` (once per state) with __index = methods, __gc and __close = closer,
 * and __tostring = tostr (either may be NULL). Stack unchanged. */
static inline void handle_register(lua_State *L, const char *name, const luaL_Reg *methods,
                                   lua_CFunction closer, lua_CFunction tostr) {
  if (luaL_newmetatable(L, name)) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    if (closer) {
      lua_pushcfunction(L, closer);
      lua_setfield(L, -2, "__gc");
      lua_pushcfunction(L, closer);
      lua_setfield(L, -2, "__close");
    }
    if (tostr) {
      lua_pushcfunction(L, tostr);
      lua_setfield(L, -2, "__tostring");
    }
  }
  lua_pop(L, 1);
}

/* Raises "where: unknown option 'k' (known: a, b, ...)" if the options table at idx has a key
 * not in the NULL-terminated list `known`; raises "where: options must be a table" for a
 * non-table. None or nil is no options. Stack: 0. */
static inline void binding_check_options(lua_State *L, int idx, const char *where,
                                         const char *const *known) {
  if (lua_isnoneornil(L, idx)) return;
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "%s: options must be a table", where);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int i = 0; known[i] && !ok; i++) ok = strcmp(known[i], lua_tostring(L, -1)) == 0;
    if (!ok) {
      const char *key = luaL_tolstring(L, -1, NULL);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int i = 0; known[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[i]);
      }
      luaL_pushresult(&b);
      luaL_error(L, "%s: unknown option '%s' (known: %s)", where, key, lua_tostring(L, -1));
    }
  }
}

/* The host's Ctrl-C flag, or NULL under stock Lua. Stack: 0. */
static inline volatile sig_atomic_t *binding_interrupt_flag(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, BINDING_INTERRUPT_KEY);
  volatile sig_atomic_t *f = lua_islightuserdata(L, -1) ? lua_touserdata(L, -1) : NULL;
  lua_pop(L, 1);
  return f;
}

/* Monotonic time in seconds. */
static inline double binding_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps `secs` seconds, waking every 100 ms to look at `flag` (may be NULL); returns 1 if the
 * flag was set (the caller cleans up and raises "interrupted!"), else 0. No Lua calls, so it is
 * safe in any callback. */
static inline int binding_sleep(volatile sig_atomic_t *flag, double secs) {
  double end = binding_now() + secs;
  for (;;) {
    if (flag && *flag) return 1;
    double left = end - binding_now();
    if (left <= 0) return 0;
    if (left > 0.1) left = 0.1;
    struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
    nanosleep(&ts, NULL);
  }
}

#endif
