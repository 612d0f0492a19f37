/* Shared by the bindings: registering a liolib-style handle type. Header-only (static inline),
 * so each binding stays one object file that also builds as its own Lua module. */
#ifndef INTROSPECT_HANDLE_H
#define INTROSPECT_HANDLE_H

#include "lauxlib.h"
#include "lua.h"

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

#endif
