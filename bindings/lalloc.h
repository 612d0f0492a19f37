/*
 * A Lua state whose memory comes from a pool of its own: objects of up to LALLOC_SMALL bytes
 * are carved from blocks (2 MB huge pages, or 64 KB from malloc where none can be mapped) in
 * size classes of 8 bytes and kept on per-class free lists, larger ones come from malloc. One
 * pool per state (no locks, no globals): the host's state and each worker thread's. Lua frees
 * and allocates millions of small objects in a study, and glibc's malloc spent ~15% of the
 * run's cycles on them (perf). Under AddressSanitizer free chunks and the slack after each
 * object are poisoned, so use-after-free and overflows of Lua objects are still reported.
 * INTROSPECT_ALLOC=malloc in the environment gives lauxlib's plain allocator instead
 * (comparisons, debugging).
 */
#ifndef INTROSPECT_LALLOC_H
#define INTROSPECT_LALLOC_H

#include <stddef.h>

#include "lua.h"

/* Objects up to this size come from the pool: Lua's small strings, tables and closures, and a
 * study's prompts, request and response bodies (0.7 to 2 KB). 4096 against 512: the paper
 * study's page faults 14,400 against 27,200, peak RSS 260 MiB against 250 MiB. */
#define LALLOC_SMALL 4096

/* The pool allocator itself, a lua_Alloc over a pool from lalloc_pool_new (ud). */
void *lalloc_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* A new empty pool | NULL (out of memory); lalloc_pool_free releases it and all its blocks. */
void *lalloc_pool_new(void);
void lalloc_pool_free(void *pool);

/* lalloc_newstate() -> a new state (as luaL_newstate: lauxlib's panic and warning behaviour)
 * over a pool of its own, which lua_close frees with the state (os.exit(code, true) too); with
 * INTROSPECT_ALLOC=malloc, luaL_newstate's. NULL when out of memory. */
lua_State *lalloc_newstate(void);

/* lalloc_gc_mode(L): the collector's mode of the project's states (the host's and each worker's):
 * generational, as lua.c's. The simulated subject's api:handle took 24.5 us of CPU per request
 * in this mode against 28-33 us in incremental mode (a script's one state, best of five; its
 * garbage is short-lived), and make bench's stimuli ratio is twice as high. A study session, whose heap grows through each phase,
 * switches its state to incremental collection itself (introspect.study.session). */
void lalloc_gc_mode(lua_State *L);

#endif
