/*
 * introspect.host: what only the host executable offers to Lua: the REPL, version information,
 * the library directory and the Ctrl-C flag. Preloaded by the host; absent under stock lua5.4.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curlver.h>
#include <gsl/gsl_version.h>
#include <histedit.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "lauxlib.h"
#include "lua.h"

#include "config.h"
#include "host.h"

/* Pushes the version of cjson as loaded (its _VERSION field), or "?". [-0, +1] */
static void push_cjson_version(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    lua_getfield(L, -1, "_VERSION");
    lua_remove(L, -2);
    if (lua_isstring(L, -1)) return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "?");
}

/* Writes libmicrohttpd's version: MHD_VERSION holds its digits as hex nibbles (0x00097500 is
 * 0.9.75), so each byte prints in hex, not decimal. */
static void mhd_version(char *buf, size_t size) {
  unsigned mhd = MHD_VERSION;
  snprintf(buf, size, "%x.%x.%x", (mhd >> 24) & 0xffu, (mhd >> 16) & 0xffu, (mhd >> 8) & 0xffu);
}

/* Pushes a table {introspect=, lua=, libcurl=, gsl=, sqlite=, libmicrohttpd=, libedit=,
 * cjson=, bindings=} of the versions this host was built against. [-0, +1] */
static void push_version_table(lua_State *L) {
  char mhd[32];
  mhd_version(mhd, sizeof mhd);
  lua_createtable(L, 0, 9);
  lua_pushliteral(L, INTROSPECT_VERSION);
  lua_setfield(L, -2, "introspect");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua");
  lua_pushliteral(L, LIBCURL_VERSION);
  lua_setfield(L, -2, "libcurl");
  lua_pushliteral(L, GSL_VERSION);
  lua_setfield(L, -2, "gsl");
  lua_pushliteral(L, SQLITE_VERSION);
  lua_setfield(L, -2, "sqlite");
  lua_pushstring(L, mhd);
  lua_setfield(L, -2, "libmicrohttpd");
  lua_pushfstring(L, "%d.%d", LIBEDIT_MAJOR, LIBEDIT_MINOR);
  lua_setfield(L, -2, "libedit");
  push_cjson_version(L);
  lua_setfield(L, -2, "cjson");
  lua_pushliteral(L, INTROSPECT_BINDING_LIST);
  lua_setfield(L, -2, "bindings");
}

void host_push_version(lua_State *L) {
  char mhd[32];
  mhd_version(mhd, sizeof mhd);
  push_cjson_version(L);
  const char *cjson = lua_tostring(L, -1);
  lua_pushfstring(L,
    "introspect %s  %s  libcurl %s  GSL %s  SQLite %s  libmicrohttpd %s  libedit %d.%d"
    "  lua-cjson %s",
    INTROSPECT_VERSION, LUA_RELEASE, LIBCURL_VERSION, GSL_VERSION, SQLITE_VERSION, mhd,
    LIBEDIT_MAJOR, LIBEDIT_MINOR, cjson);
  lua_remove(L, -2);
}

/* host.version() -> text, table. */
static int l_version(lua_State *L) {
  host_push_version(L);
  push_version_table(L);
  return 2;
}

/* host.repl([banner]) -> nothing. Prints a banner on a terminal, sets the global `ix` to the
 * introspect library (a warning if it cannot be loaded) and runs the REPL until Ctrl-D. */
static int l_repl(lua_State *L) {
  int banner = lua_isnone(L, 1) ? 1 : lua_toboolean(L, 1);
  if (banner && isatty(STDIN_FILENO)) {
    host_push_version(L);
    printf("%s\nType ix.help() for the introspect helpers, Ctrl-D to leave.\n", lua_tostring(L, -1));
    fflush(stdout);
    lua_pop(L, 1);
  }
  lua_getglobal(L, "require");
  lua_pushliteral(L, "introspect");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
    lua_setglobal(L, "ix");
  } else {
    fprintf(stderr, "warning: the introspect library did not load: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  host_repl(L);
  return 0;
}

/* host.interrupted() -> boolean [, signal name]: whether Ctrl-C (SIGINT) or SIGTERM arrived
 * during the current call, and which ("SIGINT" or "SIGTERM"). */
static int l_interrupted(lua_State *L) {
  int sig = (int)*host_interrupt_flag();
  lua_pushboolean(L, sig != 0);
  if (sig == 0) return 1;
  lua_pushstring(L, sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return 2;
}

int luaopen_introspect_host(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"version", l_version},
    {"repl", l_repl},
    {"interrupted", l_interrupted},
    {NULL, NULL},
  };
  luaL_newlib(L, funcs);
  lua_getfield(L, LUA_REGISTRYINDEX, HOST_LIBDIR_KEY);
  lua_setfield(L, -2, "library_dir");
  lua_pushliteral(L, INTROSPECT_SOURCE_DIR);
  lua_setfield(L, -2, "source_dir");
  return 1;
}
