/*
 * introspect.coverage: the mechanism of `make coverage`'s Lua line counter, a line hook in C
 * (a hook written in Lua costs about 50x on Lua loops). coverage.start(thread) sets the hook on
 * a thread; the hook records each (chunk source, line) the thread runs into a recorder, a
 * userdata anchored in the registry (one per lua_State); coverage.lines() returns what it
 * recorded. The policy (which threads, which files, when and where to write) is
 * tests/coverage/hook.lua's.
 *
 * Chunks are keyed by their source string's address, with a copy of the string made on first
 * sight: a source string freed by the collector may have its address reused by another chunk's,
 * so a hit is confirmed by comparing the copy (length, then bytes) before a line is recorded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"

#define RECORDER_TYPE "introspect.coverage.Recorder"
/* Lines above this are refused (counted as lost): a bitmap per chunk is sized by its last line. */
#define MAX_LINE 10000000

/* The address of this constant is the recorder's registry key. */
static const char RECORDER_KEY = 0;

/* One chunk source: its address as last seen, a copy of its text, the lines run (a bitmap). */
typedef struct {
  uintptr_t key;
  char *source;
  size_t len;
  unsigned char *bits;
  size_t nbytes;
} Chunk;

/* Every chunk seen, in order of first sight; slots map an address to a chunk (index + 1, 0 is
 * empty; open addressing, at most half full). */
typedef struct {
  Chunk *chunks;
  size_t n, cap;
  size_t *slots;
  size_t nslots;
  lua_Integer lost; /* line events not recorded (allocation failure, line out of range) */
  int closed;
} Recorder;

/* Frees everything the recorder owns; it records nothing afterwards. */
static void recorder_free(Recorder *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->chunks[i].source);
    free(r->chunks[i].bits);
  }
  free(r->chunks);
  free(r->slots);
  r->chunks = NULL;
  r->slots = NULL;
  r->n = r->cap = r->nslots = 0;
}

/* The slot of address `key`: the one holding a chunk with that key, or the empty one where it
 * would go. nslots is a power of two and the table is never full. */
static size_t *slot_of(Recorder *r, uintptr_t key) {
  size_t mask = r->nslots - 1;
  size_t i = (size_t)((key >> 4) * (uintptr_t)0x9E3779B97F4A7C15u) & mask;
  while (r->slots[i] && r->chunks[r->slots[i] - 1].key != key) i = (i + 1) & mask;
  return &r->slots[i];
}

/* Doubles the slot table (or makes the first one). Returns 0 on allocation failure. */
static int grow_slots(Recorder *r) {
  size_t n = r->nslots ? r->nslots * 2 : 64;
  size_t *old = r->slots, oldn = r->nslots;
  r->slots = calloc(n, sizeof *r->slots);
  if (!r->slots) {
    r->slots = old;
    return 0;
  }
  r->nslots = n;
  for (size_t i = 0; i < oldn; i++)
    if (old[i]) *slot_of(r, r->chunks[old[i] - 1].key) = old[i];
  free(old);
  return 1;
}

/* The chunk for source text (src, len) at address `src`: found by address and confirmed by
 * content, else a new chunk with a copy of the text (which takes over the address's slot).
 * NULL on allocation failure. */
static Chunk *chunk_for(Recorder *r, const char *src, size_t len) {
  uintptr_t key = (uintptr_t)src;
  if (2 * (r->n + 1) > r->nslots && !grow_slots(r)) return NULL;
  size_t *slot = slot_of(r, key);
  if (*slot) {
    Chunk *c = &r->chunks[*slot - 1];
    if (c->len == len && memcmp(c->source, src, len) == 0) return c;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 32;
    Chunk *chunks = realloc(r->chunks, cap * sizeof *chunks);
    if (!chunks) return NULL;
    r->chunks = chunks;
    r->cap = cap;
  }
  char *copy = malloc(len + 1);
  if (!copy) return NULL;
  memcpy(copy, src, len);
  copy[len] = '\0';
  r->chunks[r->n] = (Chunk){key, copy, len, NULL, 0};
  *slot = ++r->n; /* a reused address now maps to the new chunk; the old one keeps its lines */
  return &r->chunks[r->n - 1];
}

/* Sets bit `line` of the chunk's bitmap, growing it. Returns 0 on failure. */
static int mark_line(Chunk *c, int line) {
  if (line < 0 || line > MAX_LINE) return 0;
  size_t byte = (size_t)line / 8;
  if (byte >= c->nbytes) {
    size_t n = c->nbytes ? c->nbytes : 64;
    while (n <= byte) n *= 2;
    unsigned char *bits = realloc(c->bits, n);
    if (!bits) return 0;
    memset(bits + c->nbytes, 0, n - c->nbytes);
    c->bits = bits;
    c->nbytes = n;
  }
  c->bits[byte] |= (unsigned char)(1u << (line % 8));
  return 1;
}

/* The recorder of this state, or NULL if coverage.start was never called. Stack: 0. */
static Recorder *recorder_get(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &RECORDER_KEY);
  Recorder *r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return r;
}

/* The line hook: records (source, line) of the running function. Raises nothing. */
static void line_hook(lua_State *L, lua_Debug *ar) {
  if (ar->event != LUA_HOOKLINE) return;
  Recorder *r = recorder_get(L);
  if (!r || r->closed || !lua_getinfo(L, "S", ar)) return;
  Chunk *c = chunk_for(r, ar->source, ar->srclen);
  if (!c || !mark_line(c, ar->currentline)) r->lost++;
}

/* The recorder of this state, created (and anchored in the registry) on first use. Stack: 0. */
static Recorder *recorder_make(lua_State *L) {
  Recorder *r = recorder_get(L);
  if (r) return r;
  r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  luaL_setmetatable(L, RECORDER_TYPE);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &RECORDER_KEY);
  return r;
}

/* The thread argument at index 1, or L itself when absent. */
static lua_State *thread_arg(lua_State *L) {
  if (lua_isnoneornil(L, 1)) return L;
  luaL_checktype(L, 1, LUA_TTHREAD);
  return lua_tothread(L, 1);
}

/* coverage.start([thread]) -> true: sets the line hook on `thread` (default: the running one),
 * replacing any hook it had. Threads it creates afterwards inherit the hook. */
static int l_start(lua_State *L) {
  lua_State *co = thread_arg(L);
  if (recorder_make(L)->closed) return luaL_error(L, "coverage: the recorder is closed");
  lua_sethook(co, line_hook, LUA_MASKLINE, 0);
  lua_pushboolean(L, 1);
  return 1;
}

/* coverage.stop([thread]) -> nothing: removes the line hook from `thread` if it is set (another
 * hook is left alone). */
static int l_stop(lua_State *L) {
  lua_State *co = thread_arg(L);
  if (lua_gethook(co) == line_hook) lua_sethook(co, NULL, 0, 0);
  return 0;
}

/* coverage.active([thread]) -> boolean: whether the line hook is set on `thread`. */
static int l_active(lua_State *L) {
  lua_pushboolean(L, lua_gethook(thread_arg(L)) == line_hook);
  return 1;
}

/* coverage.lines() -> {[source] = {[line] = true, ...}}, lost: every line recorded in this state
 * since the last coverage.clear() (chunks with the same source merged) and the number of line
 * events that could not be recorded (0 unless memory ran out). */
static int l_lines(lua_State *L) {
  Recorder *r = recorder_get(L);
  lua_newtable(L);
  if (!r) {
    lua_pushinteger(L, 0);
    return 2;
  }
  if (r->closed) return luaL_error(L, "coverage: the recorder is closed");
  for (size_t i = 0; i < r->n; i++) {
    Chunk *c = &r->chunks[i];
    lua_pushlstring(L, c->source, c->len);
    if (lua_rawget(L, -2) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushlstring(L, c->source, c->len);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
    }
    for (size_t b = 0; b < c->nbytes; b++) {
      if (!c->bits[b]) continue;
      for (int k = 0; k < 8; k++) {
        if (!(c->bits[b] & (1u << k))) continue;
        lua_pushboolean(L, 1);
        lua_rawseti(L, -2, (lua_Integer)(b * 8 + (size_t)k));
      }
    }
    lua_pop(L, 1);
  }
  lua_pushinteger(L, r->lost);
  return 2;
}

/* coverage.clear() -> nothing: forgets every recorded line (hooks stay set). */
static int l_clear(lua_State *L) {
  Recorder *r = recorder_get(L);
  if (r && !r->closed) {
    recorder_free(r);
    r->lost = 0;
  }
  return 0;
}

/* __gc of the recorder (at lua_close): frees its memory; the hook records nothing afterwards. */
static int l_recorder_gc(lua_State *L) {
  Recorder *r = luaL_checkudata(L, 1, RECORDER_TYPE);
  recorder_free(r);
  r->closed = 1;
  return 0;
}

int luaopen_introspect_coverage(lua_State *L) {
  static const luaL_Reg no_methods[] = {{NULL, NULL}};
  static const luaL_Reg funcs[] = {
    {"start", l_start}, {"stop", l_stop}, {"active", l_active},
    {"lines", l_lines}, {"clear", l_clear}, {NULL, NULL},
  };
  handle_register(L, RECORDER_TYPE, no_methods, l_recorder_gc, NULL);
  luaL_newlib(L, funcs);
  return 1;
}
