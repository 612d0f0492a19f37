/*
 * The per-state pool allocator of lalloc.h. Small sizes (1..LALLOC_SMALL bytes) round up to a
 * multiple of 8 (class k holds 8k bytes); a freed chunk goes on its class's free list (the next
 * pointer in its first 8 bytes) and is reused first; otherwise chunks are carved from the
 * current block: 2 MB mapped as one transparent huge page (new_block), or 64 KB from malloc.
 * Blocks are returned only when the pool is freed (lua_close).
 */
#include "lalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lauxlib.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* LeakSanitizer scans malloc's chunks for pointers, not mapped blocks: a mapped block is
 * registered as a root region, so what Lua objects in it point to (the pool, large objects)
 * stays reachable when a process exits without closing its state. */
#define ROOT(p, n) __lsan_register_root_region((p), (n))
#define UNROOT(p, n) __lsan_unregister_root_region((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define ROOT(p, n) ((void)(p), (void)(n))
#define UNROOT(p, n) ((void)(p), (void)(n))
#endif

#define GRAIN 8
#define NCLASS (LALLOC_SMALL / GRAIN + 1)
#define BLOCK (64 * 1024)          /* a block from malloc (when no huge page can be mapped) */
#define HUGE_BLOCK (2 * 1024 * 1024) /* a block mapped as one transparent huge page */

typedef struct Block {
  struct Block *next;
  size_t size;           /* HUGE_BLOCK (mapped) or BLOCK (malloc) */
  max_align_t align[];   /* the chunks follow, aligned as malloc aligns */
} Block;

typedef struct Pool {
  void *free[NCLASS];   /* free lists, by class */
  char *bump;           /* the unused rest of the newest block */
  size_t left;
  Block *blocks;
  void *state;          /* the state's own block (its first allocation), freed last by lua_close */
  int owned;            /* whether freeing `state` frees the pool (set once lua_newstate succeeded) */
} Pool;

/* The class of a small size n (1..LALLOC_SMALL): chunks of class k are GRAIN * k bytes. */
static size_t class_of(size_t n) { return (n + GRAIN - 1) / GRAIN; }

/* A new block | NULL: 2 MB aligned to 2 MB and advised as a transparent huge page (one page
 * fault instead of 512, and fewer TLB misses on a large heap), else 64 KB from malloc. */
static Block *new_block(void) {
#if defined(MADV_HUGEPAGE)
  size_t span = 2 * (size_t)HUGE_BLOCK;
  char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw != MAP_FAILED) {
    char *start = (char *)(((uintptr_t)raw + HUGE_BLOCK - 1) & ~(uintptr_t)(HUGE_BLOCK - 1));
    char *end = start + HUGE_BLOCK;
    if (start > raw) munmap(raw, (size_t)(start - raw));
    if (end < raw + span) munmap(end, (size_t)(raw + span - end));
    madvise(start, HUGE_BLOCK, MADV_HUGEPAGE);
    ROOT(start, HUGE_BLOCK);
    Block *b = (Block *)(void *)start;
    b->size = HUGE_BLOCK;
    return b;
  }
#endif
  Block *b = malloc(BLOCK);
  if (b) b->size = BLOCK;
  return b;
}

/* A chunk of class k | NULL (out of memory). */
static void *take(Pool *p, size_t k, size_t nsize) {
  void *c = p->free[k];
  if (c) {
    UNPOISON(c, sizeof(void *));
    p->free[k] = *(void **)c;
  } else {
    size_t bytes = k * GRAIN;
    if (p->left < bytes) {
      Block *b = new_block();
      if (!b) return NULL;
      b->next = p->blocks;
      p->blocks = b;
      p->bump = (char *)b->align;
      p->left = b->size - offsetof(Block, align);
      POISON(p->bump, p->left);
    }
    c = p->bump;
    p->bump += bytes;
    p->left -= bytes;
  }
  UNPOISON(c, nsize);
  return c;
}

/* Puts chunk c of class k on its free list. */
static void give(Pool *p, void *c, size_t k) {
  UNPOISON(c, sizeof(void *));
  *(void **)c = p->free[k];
  p->free[k] = c;
  POISON(c, k * GRAIN);
}

void *lalloc_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  Pool *p = ud;
  if (ptr == NULL) osize = 0;   /* osize is then the object's type, not a size */
  int osmall = osize <= LALLOC_SMALL, nsmall = nsize <= LALLOC_SMALL;
  if (nsize == 0) {
    if (ptr) {
      if (osmall) give(p, ptr, class_of(osize));
      else free(ptr);
      /* lua_close frees the state's own block last: the pool goes with it */
      if (ptr == p->state && p->owned) lalloc_pool_free(p);
    }
    return NULL;
  }
  if (ptr && !osmall && !nsmall) return realloc(ptr, nsize);
  if (ptr && osmall && nsmall && class_of(osize) == class_of(nsize)) {
#if defined(__SANITIZE_ADDRESS__)
    UNPOISON(ptr, nsize);
    POISON((char *)ptr + nsize, class_of(nsize) * GRAIN - nsize);
#endif
    return ptr;
  }
  void *n = nsmall ? take(p, class_of(nsize), nsize) : malloc(nsize);
  if (!n) {
    /* a shrink that found no memory keeps the old chunk: it is large enough, and a chunk is
     * only ever released to a class it can hold */
    return nsize <= osize ? ptr : NULL;
  }
  if (ptr) {
    memcpy(n, ptr, osize < nsize ? osize : nsize);
    if (osmall) give(p, ptr, class_of(osize));
    else free(ptr);
  } else if (!p->state) {
    p->state = n;
  }
  return n;
}

void *lalloc_pool_new(void) { return calloc(1, sizeof(Pool)); }

void lalloc_pool_free(void *pool) {
  Pool *p = pool;
  if (!p) return;
  for (Block *b = p->blocks, *next; b; b = next) {
    next = b->next;
    UNPOISON(b, b->size);
    if (b->size == HUGE_BLOCK) {
      UNROOT(b, HUGE_BLOCK);
      munmap(b, HUGE_BLOCK);
    } else {
      free(b);
    }
  }
  free(p);
}

/* lauxlib's behaviour for a state it did not make: the panic message, and warnings off until
 * "@on" (lauxlib keeps its own functions static). */
static int panic(lua_State *L) {
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
  fflush(stderr);
  return 0;
}

static void warn_off(void *ud, const char *message, int tocont);
static void warn_on(void *ud, const char *message, int tocont);
static void warn_cont(void *ud, const char *message, int tocont);

/* A control message ("@on", "@off") switches warnings; returns whether message was one. */
static int warn_control(lua_State *L, const char *message, int tocont) {
  if (tocont || *message++ != '@') return 0;
  if (strcmp(message, "off") == 0) lua_setwarnf(L, warn_off, L);
  else if (strcmp(message, "on") == 0) lua_setwarnf(L, warn_on, L);
  return 1;
}

static void warn_off(void *ud, const char *message, int tocont) { warn_control(ud, message, tocont); }

static void warn_cont(void *ud, const char *message, int tocont) {
  fprintf(stderr, "%s", message);
  fflush(stderr);
  if (tocont) lua_setwarnf(ud, warn_cont, ud);
  else {
    fprintf(stderr, "\n");
    fflush(stderr);
    lua_setwarnf(ud, warn_on, ud);
  }
}

static void warn_on(void *ud, const char *message, int tocont) {
  if (warn_control(ud, message, tocont)) return;
  fprintf(stderr, "Lua warning: ");
  warn_cont(ud, message, tocont);
}

void lalloc_gc_mode(lua_State *L) { lua_gc(L, LUA_GCGEN, 0, 0); }

lua_State *lalloc_newstate(void) {
  const char *which = getenv("INTROSPECT_ALLOC");
  if (which && strcmp(which, "malloc") == 0) return luaL_newstate();
  Pool *p = lalloc_pool_new();
  if (!p) return NULL;
  lua_State *L = lua_newstate(lalloc_alloc, p);
  if (!L) {
    lalloc_pool_free(p);
    return NULL;
  }
  p->owned = 1;
  lua_atpanic(L, panic);
  lua_setwarnf(L, warn_off, L);
  return L;
}
