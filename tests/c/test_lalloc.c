/* C-level checks of bindings/lalloc.c, the pool allocator of the host's and workers' Lua
 * states: every size and every grow or shrink across the size classes and the small/large
 * boundary keeps the bytes it should; a Lua program computes the same on a pool state as on
 * lauxlib's allocator; INTROSPECT_ALLOC=malloc gives lauxlib's allocator; a pool's blocks are
 * 2 MB huge-page blocks (aligned, advised for transparent huge pages where the kernel has them);
 * and under AddressSanitizer a write to a freed chunk is reported (a child process dies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lalloc.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "check.h"

/* Fills n bytes with a pattern that depends on the chunk's id. */
static void fill(unsigned char *p, size_t n, unsigned id) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(id * 31 + i * 7);
}

/* Whether the first n bytes still hold the pattern of id. */
static int intact(const unsigned char *p, size_t n, unsigned id) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(id * 31 + i * 7)) return 0;
  return 1;
}

/* Allocates, resizes and frees chunks of random sizes around every class and the small/large
 * boundary, checking the kept bytes after each resize. */
static void check_sizes(void) {
  enum { N = 4000 };
  void *pool = lalloc_pool_new();
  unsigned char *chunk[N] = {0};
  size_t size[N] = {0};
  unsigned seed = 12345;
  int ok = 1;
  for (int round = 0; round < 40000 && ok; round++) {
    seed = seed * 1103515245u + 12345u;
    int i = (int)((seed >> 8) % N);
    size_t n = (seed >> 3) % 4 == 0 ? 0 : 1 + (seed >> 12) % (LALLOC_SMALL * 3);
    if (n == 0 && chunk[i]) {
      ok = intact(chunk[i], size[i], (unsigned)i);
      lalloc_alloc(pool, chunk[i], size[i], 0);
      chunk[i] = NULL;
      size[i] = 0;
    } else if (n > 0) {
      unsigned char *p = lalloc_alloc(pool, chunk[i], chunk[i] ? size[i] : 5 /* a type tag */, n);
      if (!p) { ok = 0; break; }
      if (chunk[i]) ok = intact(p, size[i] < n ? size[i] : n, (unsigned)i);
      fill(p, n, (unsigned)i);
      chunk[i] = p;
      size[i] = n;
    }
  }
  check(ok, "every resize keeps the bytes of the smaller size");
  for (int i = 0; i < N; i++) if (chunk[i]) lalloc_alloc(pool, chunk[i], size[i], 0);
  lalloc_pool_free(pool);
}

/* Runs a Lua program that churns strings and tables; returns its result (malloc'd) | NULL. */
static char *run_program(lua_State *L) {
  static const char *code =
      "local t, parts = {}, {}\n"
      "for i = 1, 20000 do\n"
      "  t[i % 997] = { i, tostring(i):rep(i % 70), { x = i } }\n"
      "  parts[#parts + 1] = tostring(#t[i % 997][2])\n"
      "  if #parts > 300 then parts = { table.concat(parts, ',', 1, 50) } end\n"
      "  if i % 5000 == 0 then collectgarbage() end\n"
      "end\n"
      "local s = 0\n"
      "for k, v in pairs(t) do s = s + k * v[1] + #v[2] + v[3].x end\n"
      "return s .. ':' .. table.concat(parts, ';'):sub(1, 200)\n";
  luaL_openlibs(L);
  if (luaL_dostring(L, code) != LUA_OK) return NULL;
  return strdup(lua_tostring(L, -1));
}

/* The same program on a pool state and on lauxlib's allocator gives the same result. */
static void check_program(void) {
  unsetenv("INTROSPECT_ALLOC");
  lua_State *L = lalloc_newstate();
  void *ud;
  check(L && lua_getallocf(L, &ud) == lalloc_alloc, "lalloc_newstate uses the pool allocator");
  char *a = run_program(L);
  lua_close(L);
  lua_State *R = luaL_newstate();
  char *b = run_program(R);
  lua_close(R);
  check(a && b && strcmp(a, b) == 0, "a Lua program computes the same on a pool state as on malloc");
  free(a);
  free(b);
  setenv("INTROSPECT_ALLOC", "malloc", 1);
  L = lalloc_newstate();
  check(L && lua_getallocf(L, &ud) != lalloc_alloc, "INTROSPECT_ALLOC=malloc gives lauxlib's allocator");
  lua_close(L);
  unsetenv("INTROSPECT_ALLOC");
}

/* Whether the kernel gives transparent huge pages to regions advised MADV_HUGEPAGE. */
static int thp_available(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return 0;
  char line[128] = {0};
  int ok = fgets(line, sizeof line, f) && (strstr(line, "[madvise]") || strstr(line, "[always]"));
  fclose(f);
  return ok;
}

/* The smaps field `name` ("THPeligible:") of the mapping that holds address a, or -1. */
static long smaps_field(uintptr_t a, const char *name) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[256];
  int inside = 0;
  long value = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = a >= lo && a < hi;
    } else if (inside && strncmp(line, name, strlen(name)) == 0) {
      value = strtol(line + strlen(name), NULL, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

/* A pool's first chunk lies just past a 2 MB boundary (its block is one huge page), and the
 * block's mapping is eligible for transparent huge pages where the kernel has them. */
static void check_huge_blocks(void) {
  void *pool = lalloc_pool_new();
  char *p = lalloc_alloc(pool, NULL, 0, 40);
  uintptr_t a = (uintptr_t)p;
  check(p != NULL && a % (2u << 20) < 64, "a pool's block starts on a 2 MB boundary");
  if (thp_available()) {
    check(smaps_field(a, "THPeligible:") == 1, "a pool's block is eligible for transparent huge pages");
  } else {
    printf("skip: transparent huge pages are not enabled on this kernel\n");
  }
  lalloc_alloc(pool, p, 40, 0);
  lalloc_pool_free(pool);
}

/* Under AddressSanitizer: a write to a freed pool chunk kills a child process. */
static void check_poison(void) {
#if defined(__SANITIZE_ADDRESS__)
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    void *pool = lalloc_pool_new();
    volatile char *p = lalloc_alloc(pool, NULL, 0, 40);
    lalloc_alloc(pool, (void *)p, 40, 0);
    p[3] = 1;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "a write to a freed chunk is reported under ASan");
#endif
}

int main(void) {
  check_sizes();
  check_program();
  check_huge_blocks();
  check_poison();
  return check_summary();
}
