/*
 * introspect: the host executable. Modelled on Lua's own lua.c: runs a script with `arg` set,
 * `-e`, `-l`, `-i`, `-v`, `-E`, `-` for stdin, LUA_INIT, and a REPL; plus subcommands
 * (`introspect NAME ...` runs the Lua module `introspect.cmd.NAME`), every binding and cjson
 * preloaded, and the Lua library found in-tree or installed (INTROSPECT_PATH overrides).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "lua-cjson.h"

#include "config.h"
#include "host.h"
#include "lalloc.h"
#include "preload.h"

#define PROGNAME "introspect"

#define DECLARE_BINDING(name) int luaopen_introspect_##name(lua_State *L);
INTROSPECT_FOR_EACH_BINDING(DECLARE_BINDING)
int luaopen_cjson_safe(lua_State *L);

/* The process's Ctrl-C state. Signals are per process, so this is the one place the host
 * keeps C-level state; bindings reach the flag through the registry, never through a global. */
static volatile sig_atomic_t interrupt_flag = 0;
static lua_State *interrupt_state = NULL;

volatile sig_atomic_t *host_interrupt_flag(void) { return &interrupt_flag; }

/* Hook set by the signal handler: clears itself and raises "interrupted!" in Lua code. */
static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* SIGINT and SIGTERM handler: restore the default action (a second signal kills), set the
 * flag to the signal's number and a hook so the running Lua code stops at its next instruction
 * (a script then closes what it opened). Async-signal-safe as in lua.c. */
static void on_interrupt(int sig) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL);
  interrupt_flag = sig;
  if (interrupt_state) lua_sethook(interrupt_state, stop_hook, flag, 1);
}

void host_catch_interrupts(lua_State *L) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  interrupt_state = L;
  interrupt_flag = 0;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void host_release_interrupts(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  interrupt_flag = 0;
  /* only the interrupt's own hook: a debug.sethook of LUA_INIT or a chunk stays, as in lua.c */
  if (interrupt_state && lua_gethook(interrupt_state) == stop_hook) lua_sethook(interrupt_state, NULL, 0, 0);
  interrupt_state = NULL;
}

/* Message handler: turns the error object into a string (using __tostring for structured
 * errors) and appends a traceback. [-1, +1] */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  host_catch_interrupts(L);
  int status = lua_pcall(L, narg, nres, base);
  host_release_interrupts();
  lua_remove(L, base);
  return status;
}

int host_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

static void print_usage(const char *badoption) {
  if (badoption) {
    if (badoption[1] == 'e' || badoption[1] == 'l')
      fprintf(stderr, PROGNAME ": '%s' needs argument\n", badoption);
    else
      fprintf(stderr, PROGNAME ": unrecognized option '%s'\n", badoption);
  }
  fprintf(stderr,
    "usage: " PROGNAME " [options] [script [args]]\n"
    "       " PROGNAME " COMMAND [args]     (commands: repl, serve, version, help, ...)\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "  -h, --help  show the commands and experiments\n"
    "Run '" PROGNAME " help' for the subcommands.\n");
}

/* Creates the global `arg`: script name at 0, its arguments at 1.., the interpreter and
 * options at negative indices (as lua.c). [-0, +0] */
static void create_arg_table(lua_State *L, char **argv, int argc, int script) {
  int narg = argc - (script + 1);
  lua_createtable(L, narg > 0 ? narg : 0, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Runs a chunk already loaded (status from the loader). */
static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  return host_report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* `-l mod` or `-l g=mod`: global[g] = require(mod). */
static int dolibrary(lua_State *L, char *spec) {
  char *eq = strchr(spec, '=');
  const char *modname = spec, *globname = spec;
  if (eq) { *eq = '\0'; modname = eq + 1; }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  int status = host_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return host_report(L, status);
}

/* Pushes the script's arguments (argv[script+1..]) and returns their count. */
static int push_args(lua_State *L) {
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  int i;
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    lua_getglobal(L, "arg");
    int n = push_args(L);
    status = host_docall(L, n, 0);
  }
  return host_report(L, status);
}

/* Command-line flags collected by collect_args. */
enum { has_error = 1, has_i = 2, has_v = 4, has_e = 8, has_E = 16 };

/* Scans options; returns the flags and sets *first to the script's index (or argc). */
static int collect_args(char **argv, int *first) {
  int flags = 0, i;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return flags;
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return has_error;
        *first = i + 1;
        return flags;
      case '\0': return flags;
      case 'E': if (argv[i][2] != '\0') return has_error; flags |= has_E; break;
      case 'i': if (argv[i][2] != '\0') return has_error; flags |= has_i | has_v; break;
      case 'v': if (argv[i][2] != '\0') return has_error; flags |= has_v; break;
      case 'e': flags |= has_e; /* fallthrough */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return has_error;
        }
        break;
      default: return has_error;
    }
  }
  *first = i;
  return flags;
}

/* Runs -e and -l in order; returns 0 if any failed. */
static int run_args(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    if (option != 'e' && option != 'l') continue;
    char *extra = argv[i] + 2;
    if (*extra == '\0') extra = argv[++i];
    int status = option == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

static int handle_luainit(lua_State *L) {
  const char *name = "=LUA_INIT_5_4";
  const char *init = getenv(name + 1);
  if (init == NULL) { name = "=LUA_INIT"; init = getenv(name + 1); }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}

static int is_dir_with_library(const char *dir) {
  char path[PATH_MAX];
  struct stat st;
  if (snprintf(path, sizeof path, "%s/introspect/init.lua", dir) >= (int)sizeof path) return 0;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds the Lua library: $INTROSPECT_PATH, else next to the executable in a build or source
 * tree (EXEDIR/../scripts), else the configured source tree, else the install prefix
 * (EXEDIR/../share/lua/5.4, then the configured one). Prepends it to package.path and records
 * it in the registry. [-0, +0] */
static void setup_library_path(lua_State *L, int ignore_env) {
  char exe[PATH_MAX], candidate[PATH_MAX];
  const char *found = NULL;
  const char *env = ignore_env ? NULL : getenv("INTROSPECT_PATH");
  if (env && *env) {
    found = env;
  } else {
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = '\0';
      char *slash = strrchr(exe, '/');
      if (slash) *slash = '\0';
      const char *rel[] = {"/../scripts", "/../share/lua/5.4", "/scripts"};
      for (size_t i = 0; !found && i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(candidate, sizeof candidate, "%s%s", exe, rel[i]);
        if (is_dir_with_library(candidate)) found = candidate;
      }
    }
    if (!found && is_dir_with_library(INTROSPECT_SOURCE_DIR "/scripts"))
      found = INTROSPECT_SOURCE_DIR "/scripts";
    if (!found && is_dir_with_library(INTROSPECT_INSTALL_LUADIR))
      found = INTROSPECT_INSTALL_LUADIR;
  }
  if (!found) return;
  char resolved[PATH_MAX];
  if (realpath(found, resolved)) found = resolved;
  lua_pushstring(L, found);
  lua_setfield(L, LUA_REGISTRYINDEX, HOST_LIBDIR_KEY);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", found, found, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}

/* Fills package.preload with every binding, cjson, cjson.safe and introspect.host. */
static void preload_modules(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#define PRELOAD_BINDING(name) \
  lua_pushcfunction(L, luaopen_introspect_##name); \
  lua_setfield(L, -2, "introspect." #name);
  INTROSPECT_FOR_EACH_BINDING(PRELOAD_BINDING)
#undef PRELOAD_BINDING
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pushcfunction(L, luaopen_cjson_safe);
  lua_setfield(L, -2, "cjson.safe");
  lua_pushcfunction(L, luaopen_introspect_host);
  lua_setfield(L, -2, "introspect.host");
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)host_interrupt_flag());
  lua_setfield(L, LUA_REGISTRYINDEX, HOST_INTERRUPT_KEY);
}

/* If argv[1] names a subcommand (a lower-case word for which the module introspect.cmd.WORD
 * exists on package.path), runs LUA_INIT, then `require(module).main(args)`, and returns its exit code;
 * returns -1 if argv[1] is not a subcommand. */
static int run_subcommand(lua_State *L, int argc, char **argv) {
  const char *word = argv[1];
  if (word == NULL || word[0] < 'a' || word[0] > 'z') return -1;
  for (const char *p = word; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) return -1;
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushfstring(L, "introspect.cmd.%s", word);
  lua_getfield(L, -3, "path");
  lua_call(L, 2, 1);
  int found = !lua_isnil(L, -1);
  lua_pop(L, 2);
  if (!found) return -1;
  create_arg_table(L, argv, argc, 1);
  if (handle_luainit(L) != LUA_OK) return 1; /* LUA_INIT runs first, as before a script */
  lua_getglobal(L, "require");
  lua_pushfstring(L, "introspect.cmd.%s", word);
  int status = host_docall(L, 1, 1);
  if (status != LUA_OK) return host_report(L, status) == LUA_OK ? 0 : 1;
  lua_getfield(L, -1, "main");
  if (!lua_isfunction(L, -1)) {
    fprintf(stderr, PROGNAME ": module introspect.cmd.%s has no main function\n", word);
    return 1;
  }
  lua_createtable(L, argc - 2, 0);
  for (int i = 2; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  status = host_docall(L, 1, 1);
  if (status != LUA_OK) { host_report(L, status); return 1; }
  if (lua_isinteger(L, -1)) return (int)lua_tointeger(L, -1);
  return lua_toboolean(L, -1) || lua_isnil(L, -1) ? 0 : 1;
}

/* `introspect WORD` where WORD is neither a subcommand nor a file: one line from the help
 * module (with the closest command) on stderr; returns exit status 2. */
static int unknown_command(lua_State *L, const char *word) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "introspect.cmd.help");
  if (host_docall(L, 1, 1) == LUA_OK) {
    lua_getfield(L, -1, "unknown");
    lua_pushstring(L, word);
    if (host_docall(L, 1, 1) == LUA_OK) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      fflush(stderr);
      return 2;
    }
  }
  host_report(L, LUA_ERRRUN);
  return 2;
}

/* Whether argv[1] looks like a mistyped subcommand: a lower-case word that is no file. */
static int looks_like_command(const char *word) {
  struct stat st;
  if (word == NULL || word[0] < 'a' || word[0] > 'z') return 0;
  for (const char *p = word; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) return 0;
  return stat(word, &st) != 0;
}

/* Ask the REPL to print the version banner and enter; ix = require "introspect" first. */
static void start_repl(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "introspect.host");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "repl");
  lua_remove(L, -2);
  host_report(L, host_docall(L, 0, 0));
}

struct main_args { int argc; char **argv; int exit_code; };

/* The protected main: everything that may raise runs here. [-0, +0] */
static int pmain(lua_State *L) {
  struct main_args *ma = (struct main_args *)lua_touserdata(L, 1);
  int argc = ma->argc;
  char **argv = ma->argv;
  int script = 0;
  ma->exit_code = 1;
  luaL_checkversion(L);
  /* `introspect --help` and `-h` are `introspect help` */
  char help_word[] = "help";
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) argv[1] = help_word;
  int flags = collect_args(argv, &script);
  if (flags == has_error) {
    print_usage(argv[script]);
    ma->exit_code = 2;
    return 0;
  }
  if (flags & has_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  preload_modules(L);
  setup_library_path(L, flags & has_E);
  if (flags == 0 && script == 1) {
    int code = run_subcommand(L, argc, argv);
    if (code >= 0) { ma->exit_code = code; return 0; }
    if (looks_like_command(argv[1])) { ma->exit_code = unknown_command(L, argv[1]); return 0; }
  }
  create_arg_table(L, argv, argc, script < argc ? script : 0);
  lalloc_gc_mode(L);
  if (flags & has_v) {
    host_push_version(L);
    printf("%s\n", lua_tostring(L, -1));
    fflush(stdout);
    lua_pop(L, 1);
  }
  if (!(flags & has_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!run_args(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  if (flags & has_i) {
    start_repl(L);
  } else if (script == argc && !(flags & (has_e | has_v))) {
    if (isatty(STDIN_FILENO)) {
      start_repl(L);
    } else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) {
      return 0;
    }
  }
  ma->exit_code = 0;
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L = lalloc_newstate();   /* a pool allocator of its own (bindings/lalloc.h) */
  if (L == NULL) {
    fprintf(stderr, PROGNAME ": cannot create state: not enough memory\n");
    return EXIT_FAILURE;
  }
  struct main_args ma = {argc, argv, 1};
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &ma);
  int status = lua_pcall(L, 1, 0, 0);
  if (status != LUA_OK) {
    host_report(L, status);
    ma.exit_code = 1;
  }
  lua_close(L);
  return ma.exit_code;
}
