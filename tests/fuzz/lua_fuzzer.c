/* libFuzzer harness for the Lua parsers: one executable per target, built with
 * -DFUZZ_TARGET="name". At start-up it opens a Lua state with every binding and cjson preloaded,
 * puts the source tree's scripts/ on package.path and runs tests/fuzz/targets/NAME.lua, which
 * returns a function f(data). Each input is passed to f under a traceback handler: a Lua error
 * escaping f is a finding (the target script catches the raises its parser's contract allows),
 * and so is any ASan/UBSan report.
 *
 * libFuzzer sees only C edges, and liblua is not instrumented, so a line hook feeds Lua coverage
 * to it: each (function, line, previous line) triple bumps one of 64 Ki 8-bit counters that are
 * registered (with a table of fake PCs) as an extra module. A fuzzer harness is a
 * process-wide singleton, so its state (the Lua state, the counters) lives in statics. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "preload.h"

#ifndef FUZZ_TARGET
#error "compile with -DFUZZ_TARGET=\"name\""
#endif
#ifndef FUZZ_SOURCE_DIR
#error "compile with -DFUZZ_SOURCE_DIR=\"/path/to/repo\""
#endif

#define X(name) int luaopen_introspect_##name(lua_State *L);
INTROSPECT_FOR_EACH_BINDING(X)
#undef X
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

void __sanitizer_cov_8bit_counters_init(uint8_t *start, uint8_t *stop);
void __sanitizer_cov_pcs_init(const uintptr_t *start, const uintptr_t *stop);

#define LUA_COUNTERS (1 << 16)
static uint8_t lua_counters[LUA_COUNTERS];
static uintptr_t lua_pcs[2 * LUA_COUNTERS]; /* libFuzzer's PC table: (fake PC, flags) per counter */
static uintptr_t previous_location;
static lua_State *state;
static int target_ref = LUA_NOREF;

/* Line hook: records the edge (previous line -> this line of this function) in the counters.
 * Stack effect: none. */
static void line_hook(lua_State *L, lua_Debug *ar) {
  if (!lua_getinfo(L, "S", ar)) return;
  uintptr_t here = ((uintptr_t)ar->source * 2654435761u) ^ ((uintptr_t)ar->currentline * 40503u);
  uint8_t *c = &lua_counters[(here ^ previous_location) & (LUA_COUNTERS - 1)];
  if (*c < 255) (*c)++;
  previous_location = here >> 1;
}

/* Message handler: the error message with a traceback. Stack effect: [msg] -> [msg']. */
static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Fills package.preload with every binding and cjson. Stack effect: none. */
static void preload_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#define X(name)                                  \
  lua_pushcfunction(L, luaopen_introspect_##name); \
  lua_setfield(L, -2, "introspect." #name);
  INTROSPECT_FOR_EACH_BINDING(X)
#undef X
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pushcfunction(L, luaopen_cjson_safe);
  lua_setfield(L, -2, "cjson.safe");
  lua_pop(L, 1);
}

/* Creates the Lua state and loads the target's function; exits on failure. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  for (size_t i = 0; i < LUA_COUNTERS; i++) lua_pcs[2 * i] = i + 1;
  __sanitizer_cov_8bit_counters_init(lua_counters, lua_counters + LUA_COUNTERS);
  __sanitizer_cov_pcs_init(lua_pcs, lua_pcs + 2 * LUA_COUNTERS);
  lua_State *L = luaL_newstate();
  if (L == NULL) abort();
  luaL_openlibs(L);
  preload_modules(L);
  lua_getglobal(L, "package");
  lua_pushstring(L, FUZZ_SOURCE_DIR "/scripts/?.lua;" FUZZ_SOURCE_DIR "/scripts/?/init.lua;"
                    FUZZ_SOURCE_DIR "/tests/fuzz/?.lua");
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, FUZZ_SOURCE_DIR "/tests/fuzz/targets/" FUZZ_TARGET ".lua") != LUA_OK ||
      lua_pcall(L, 0, 1, 1) != LUA_OK || !lua_isfunction(L, -1)) {
    fprintf(stderr, "fuzz target %s: %s\n", FUZZ_TARGET,
            lua_isstring(L, -1) ? lua_tostring(L, -1) : "did not return a function");
    exit(2);
  }
  target_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  lua_sethook(L, line_hook, LUA_MASKLINE, 0);
  state = L;
  return 0;
}

/* Runs the target on one input; aborts (a finding) when a Lua error escapes it. A full
 * collection afterwards frees the input's garbage, so libFuzzer's per-input leak check (a full
 * LeakSanitizer scan whenever an input allocated more than it freed) stays meaningful and rare. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = state;
  previous_location = 0;
  lua_pushcfunction(L, traceback);
  lua_rawgeti(L, LUA_REGISTRYINDEX, target_ref);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, -3) != LUA_OK) {
    fprintf(stderr, "fuzz target %s raised: %s\n", FUZZ_TARGET, lua_tostring(L, -1));
    abort();
  }
  lua_pop(L, 1);
  lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
