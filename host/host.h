/* The introspect host: shared declarations between main.c, repl.c and hostlib.c. */
#ifndef INTROSPECT_HOST_H
#define INTROSPECT_HOST_H

#include <signal.h>

#include "lua.h"

/* Registry key under which the host stores a light userdata pointing at its
 * `volatile sig_atomic_t` Ctrl-C flag (see docs/architecture.md, "Interrupts"). */
#define HOST_INTERRUPT_KEY "introspect.interrupted"

/* Installs the Ctrl-C handler for the duration of a protected call: the first SIGINT sets the
 * interrupt flag and a hook that raises "interrupted!" in the running Lua code; a second one
 * kills the process (the default action is restored by the handler, as in lua.c). */
void host_catch_interrupts(lua_State *L);
/* Restores the default SIGINT action and clears the interrupt flag. */
void host_release_interrupts(void);
/* Address of the process's interrupt flag (there is one per process: signals are). */
volatile sig_atomic_t *host_interrupt_flag(void);

/* Calls the function below `narg` arguments on the stack with a traceback message handler
 * and Ctrl-C catching; returns the lua_pcall status, leaving results or the message. */
int host_docall(lua_State *L, int narg, int nres);
/* Prints the message at the top of the stack (if any) on stderr and pops it; returns status. */
int host_report(lua_State *L, int status);

/* Runs the interactive read-eval-print loop until end of input. Stack unchanged. */
void host_repl(lua_State *L);

/* Opens the `introspect.host` module: pushes its table. */
int luaopen_introspect_host(lua_State *L);
/* Pushes the one-line version text (introspect, Lua and the libraries built against). */
void host_push_version(lua_State *L);


/* Registry key of the directory holding the Lua library (a string), if one was found. */
#define HOST_LIBDIR_KEY "introspect.library_dir"

#endif
