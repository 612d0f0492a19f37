/*
 * The REPL, after lua.c's doREPL: line editing and history through libedit, expressions print
 * their values through `introspect.repl.pretty`, incomplete statements continue on the next line,
 * Ctrl-C interrupts a running chunk (or clears the line at the prompt), Ctrl-D exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "lauxlib.h"
#include "lua.h"

#include "host.h"

#define EOFMARK "<eof>"
#define MARKLEN (sizeof(EOFMARK) / sizeof(char) - 1)
#define HISTORY_MAX 1000

/* Standard input while a prompt reads, and /dev/null: the SIGINT handler points standard input
 * at /dev/null, so libedit's read ends (at end of input) however the signal and its read
 * interleave (libedit retries a read that a signal interrupted once, which could leave the
 * prompt waiting for another key). Process-wide signal state, as the interrupt flag is. */
static volatile sig_atomic_t prompt_null_fd = -1;

/* SIGINT at the prompt only interrupts the read: readline returns and the line is dropped.
 * Async-signal-safe: a flag and dup2. */
static void on_prompt_interrupt(int sig) {
  (void)sig;
  *host_interrupt_flag() = 1;
  if (prompt_null_fd >= 0) dup2(prompt_null_fd, STDIN_FILENO);
}

/* Reads one line with the prompt named by global _PROMPT/_PROMPT2 (or the defaults).
 * Returns a malloc'ed line without its newline, or NULL at end of input or when Ctrl-C ended
 * the read (then *interrupted is set and standard input is restored). */
static char *read_line(lua_State *L, int firstline, int *interrupted) {
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  const char *prompt = lua_tostring(L, -1);
  if (prompt == NULL) prompt = firstline ? "> " : ">> ";
  int saved_stdin = dup(STDIN_FILENO);
  int null_fd = saved_stdin >= 0 ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_interrupt;
  sigemptyset(&sa.sa_mask);
  *host_interrupt_flag() = 0;
  prompt_null_fd = null_fd;
  sigaction(SIGINT, &sa, &old);
  char *line = readline(prompt);
  sigaction(SIGINT, &old, NULL);
  prompt_null_fd = -1;
  *interrupted = *host_interrupt_flag() != 0;
  *host_interrupt_flag() = 0;
  if (*interrupted) {
    if (saved_stdin >= 0) dup2(saved_stdin, STDIN_FILENO);
    free(line);
    line = NULL;
  }
  if (null_fd >= 0) close(null_fd);
  if (saved_stdin >= 0) close(saved_stdin);
  lua_pop(L, 1);
  return line;
}

/* Is the status a syntax error caused by an unfinished chunk? Pops the message if so. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (len >= MARKLEN && strcmp(msg + len - MARKLEN, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Tries to compile "return LINE" (so expressions print). [-0, +1] on success. */
static int add_return(lua_State *L, const char *line) {
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
  } else {
    lua_pop(L, 2);
  }
  return status;
}

/* Compiles the statement starting with LINE, reading continuation lines while it is
 * incomplete. [-0, +1]: the chunk or an error message. Returns the load status, or -1 at end
 * of input / Ctrl-C during continuation (nothing pushed). */
static int multiline(lua_State *L, const char *line) {
  lua_pushstring(L, line);
  for (;;) {
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int status = luaL_loadbuffer(L, code, len, "=stdin");
    if (!incomplete(L, status)) {
      lua_remove(L, -2);
      return status;
    }
    int interrupted = 0;
    char *more = read_line(L, 0, &interrupted);
    if (more == NULL) {
      lua_pop(L, 1);
      if (interrupted) fputc('\n', stdout);
      return -1;
    }
    lua_pushliteral(L, "\n");
    lua_pushstring(L, more);
    if (*more) add_history(more);
    free(more);
    lua_concat(L, 3);
  }
}

/* Prints the values on the stack above `base` through introspect.repl.pretty.print (falling back
 * to tostring) and pops them. */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "introspect.repl.pretty");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    lua_getfield(L, -1, "print");
    lua_remove(L, -2);
  } else {
    lua_pop(L, 1);
    lua_getglobal(L, "print");
  }
  lua_insert(L, base + 1);
  if (host_docall(L, n, 0) != LUA_OK) {
    fprintf(stderr, "error calling print (%s)\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

static const char *history_path(char *buf, size_t size) {
  const char *explicit_path = getenv("INTROSPECT_HISTORY");
  if (explicit_path) return *explicit_path ? explicit_path : NULL;
  const char *home = getenv("HOME");
  if (home == NULL || !*home) return NULL;
  snprintf(buf, size, "%s/.introspect_history", home);
  return buf;
}

void host_repl(lua_State *L) {
  char histbuf[4096];
  const char *hist = history_path(histbuf, sizeof histbuf);
  int tty = isatty(STDIN_FILENO);
  using_history();
  stifle_history(HISTORY_MAX);
  if (hist && tty) read_history(hist);
  for (;;) {
    int interrupted = 0;
    char *line = read_line(L, 1, &interrupted);
    if (line == NULL) {
      if (interrupted) {
        fputc('\n', stdout);
        fflush(stdout);
        continue;
      }
      break;
    }
    int base = lua_gettop(L);
    int status = add_return(L, line);
    if (status != LUA_OK) status = multiline(L, line);
    if (*line) add_history(line);
    free(line);
    if (status == -1) continue;
    if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      print_results(L, base);
    } else {
      host_report(L, status);
    }
    lua_settop(L, base);
  }
  if (tty) fputc('\n', stdout);
  fflush(stdout);
  if (hist && tty) write_history(hist);
}
