/*
 * introspect.sys: the few operating-system facilities the Lua library needs and stock Lua
 * lacks: clocks, isatty, the process id, signals to other processes, exclusive lock files.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "handle.h"

#define LOCK_TYPE "introspect.sys.Lock"

/* A lock file held with flock(LOCK_EX); fd < 0 once released. */
typedef struct {
  int fd;
} Lock;

/* sys.now() -> seconds (float) on a monotonic clock. */
static int l_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* sys.time() -> seconds since the epoch (float), wall clock. */
static int l_time(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* sys.cputime() -> seconds of CPU used by this process (user + system). */
static int l_cputime(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* sys.sleep(seconds) -> nothing. Raises on a negative argument. */
static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0, 1, "negative duration");
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return 0;
}

/* Returns the file descriptor of argument `arg`: an integer or an open Lua file. */
static int check_fd(lua_State *L, int arg) {
  if (lua_isinteger(L, arg)) return (int)lua_tointeger(L, arg);
  luaL_Stream *s = (luaL_Stream *)luaL_checkudata(L, arg, LUA_FILEHANDLE);
  luaL_argcheck(L, s->closef != NULL && s->f != NULL, arg, "file is closed");
  return fileno(s->f);
}

/* sys.isatty(fd|file) -> boolean. */
static int l_isatty(lua_State *L) {
  lua_pushboolean(L, isatty(check_fd(L, 1)));
  return 1;
}

/* sys.fsync(file) -> true | nil, err. Flushes the Lua buffer, then the kernel's. */
static int l_fsync(lua_State *L) {
  luaL_Stream *s = (luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
  luaL_argcheck(L, s->closef != NULL && s->f != NULL, 1, "file is closed");
  if (fflush(s->f) != 0 || fsync(fileno(s->f)) != 0) return luaL_fileresult(L, 0, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

/* sys.getpid() -> integer. */
static int l_getpid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

/* sys.kill(pid, signal) -> true | nil, err. signal is a number or "TERM", "KILL", "INT", 0. */
static int l_kill(lua_State *L) {
  pid_t pid = (pid_t)luaL_checkinteger(L, 1);
  int sig;
  if (lua_type(L, 2) == LUA_TSTRING) {
    static const char *const names[] = {"TERM", "KILL", "INT", "HUP", NULL};
    static const int numbers[] = {SIGTERM, SIGKILL, SIGINT, SIGHUP};
    sig = numbers[luaL_checkoption(L, 2, NULL, names)];
  } else {
    sig = (int)luaL_optinteger(L, 2, SIGTERM);
  }
  luaL_argcheck(L, pid > 0, 1, "process id must be positive");
  if (kill(pid, sig) != 0) return luaL_fileresult(L, 0, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

static Lock *check_lock(lua_State *L) { return (Lock *)luaL_checkudata(L, 1, LOCK_TYPE); }

/* sys.lock(path) -> lock | nil, err, holder_pid. Creates `path` if needed and takes an
 * exclusive flock without waiting; writes our pid into it. If another process holds it,
 * returns nil, a message, and the pid written by the holder (if readable). */
static int l_lock(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  Lock *lk = (Lock *)lua_newuserdatauv(L, sizeof(Lock), 0);
  lk->fd = -1;
  luaL_setmetatable(L, LOCK_TYPE);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return luaL_fileresult(L, 0, path);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    lua_pushnil(L);
    if (err == EWOULDBLOCK) {
      lua_pushfstring(L, "%s: held by another process", path);
      if (n > 0) {
        lua_pushinteger(L, (lua_Integer)strtol(buf, NULL, 10));
        return 3;
      }
      return 2;
    }
    lua_pushfstring(L, "%s: %s", path, strerror(err));
    return 2;
  }
  lk->fd = fd;
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
    /* The lock is held even if the pid could not be written: not an error. */
  }
  return 1;
}

/* lock:release() -> true. Releases the lock (idempotent). */
static int l_lock_release(lua_State *L) {
  Lock *lk = check_lock(L);
  if (lk->fd >= 0) {
    flock(lk->fd, LOCK_UN);
    close(lk->fd);
    lk->fd = -1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* tostring(lock) -> "introspect.sys.Lock (held)" or "(released)". */
static int l_lock_tostring(lua_State *L) {
  Lock *lk = check_lock(L);
  lua_pushfstring(L, "introspect.sys.Lock (%s)", lk->fd >= 0 ? "held" : "released");
  return 1;
}

int luaopen_introspect_sys(lua_State *L) {
  static const luaL_Reg lock_methods[] = {
    {"release", l_lock_release},
    {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {
    {"now", l_now},         {"time", l_time},     {"cputime", l_cputime},
    {"sleep", l_sleep},     {"isatty", l_isatty}, {"fsync", l_fsync},
    {"getpid", l_getpid},   {"kill", l_kill},     {"lock", l_lock},
    {NULL, NULL},
  };
  handle_register(L, LOCK_TYPE, lock_methods, l_lock_release, l_lock_tostring);
  luaL_newlib(L, funcs);
  return 1;
}
