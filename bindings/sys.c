/*
 * introspect.sys: the few operating-system facilities the Lua library needs and stock Lua
 * lacks: clocks, an interruptible sleep, isatty, the process id, signals to other processes,
 * exclusive lock files, SHA-256, mkdir.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
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

#include "binding.h"

#define LOCK_TYPE "introspect.sys.Lock"

/* A lock file held with flock(LOCK_EX); fd < 0 once released. */
typedef struct {
  int fd;
} Lock;

/* sys.now() -> seconds (float) on a monotonic clock. */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)binding_now());
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

/* sys.sleep(seconds) -> nothing. Raises on a negative argument, and "interrupted!" when Ctrl-C
 * is pressed meanwhile (the host's flag is polled every 100 ms). */
static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s >= 0 && s < 1e9, 1, "duration must be in [0, 1e9) seconds");
  if (binding_sleep(binding_interrupt_flag(L), s)) return luaL_error(L, "interrupted!");
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* SHA-256 (FIPS 180-4): store keys, prompt and file hashes.                                    */

typedef struct Sha256 {
  uint32_t h[8];
  uint64_t len;
  unsigned char buf[64];
  size_t nbuf;
} Sha256;

static const uint32_t K256[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* Processes one 64-byte block (portable C). */
static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64], a, b, c, d, e, f, g, hh;
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           (uint32_t)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  a = h[0]; b = h[1]; c = h[2]; d = h[3];
  e = h[4]; f = h[5]; g = h[6]; hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#include <immintrin.h>
#define SHA256_NI 1

/* Processes n 64-byte blocks with the x86 SHA extensions (callers check the CPU has them). */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_ni(uint32_t h[8], const unsigned char *p, size_t n) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);   /* CDAB */
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);  /* EFGH */
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                          /* ABEF */
  s1 = _mm_blend_epi16(s1, t, 0xF0);                                               /* CDGH */
  for (; n > 0; n--, p += 64) {
    __m128i abef = s0, cdgh = s1, x[4];
    for (int j = 0; j < 16; j++) {
      __m128i w;
      if (j < 4) w = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * j)), swap);
      else
        w = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(x[j & 3], x[(j + 1) & 3]),
                                               _mm_alignr_epi8(x[(j + 3) & 3], x[(j + 2) & 3], 4)),
                                 x[(j + 3) & 3]);
      x[j & 3] = w;
      __m128i m = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K256[4 * j]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, m);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  t = _mm_shuffle_epi32(s0, 0x1B);                                  /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xB1);                                 /* DCHG */
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0));  /* DCBA */
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));     /* HGFE */
}
#endif

/* Processes n 64-byte blocks: with the CPU's SHA extensions when it has them (the same digest,
 * several times faster), else in portable C. */
static void sha256_blocks(Sha256 *s, const unsigned char *p, size_t n) {
#ifdef SHA256_NI
  if (__builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1")) {
    sha256_blocks_ni(s->h, p, n);
    return;
  }
#endif
  for (; n > 0; n--, p += 64) sha256_block(s->h, p);
}

/* Starts a digest. */
static void sha256_init(Sha256 *s) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
                                 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, h0, sizeof h0);
  s->len = 0;
  s->nbuf = 0;
}

/* Adds data[0, len) to the digest. */
static void sha256_update(Sha256 *s, const unsigned char *data, size_t len) {
  s->len += (uint64_t)len * 8;
  if (s->nbuf > 0) {
    size_t take = 64 - s->nbuf < len ? 64 - s->nbuf : len;
    memcpy(s->buf + s->nbuf, data, take);
    s->nbuf += take;
    data += take;
    len -= take;
    if (s->nbuf < 64) return;
    sha256_blocks(s, s->buf, 1);
    s->nbuf = 0;
  }
  if (len >= 64) {
    sha256_blocks(s, data, len / 64);
    data += len / 64 * 64;
    len %= 64;
  }
  memcpy(s->buf, data, len);
  s->nbuf = len;
}

/* Ends the digest: writes its lower-case hex into out (65 bytes with the NUL). */
static void sha256_hex(Sha256 *s, char out[65]) {
  uint64_t bits = s->len;
  s->buf[s->nbuf++] = 0x80;
  if (s->nbuf > 56) {
    memset(s->buf + s->nbuf, 0, 64 - s->nbuf);
    sha256_blocks(s, s->buf, 1);
    s->nbuf = 0;
  }
  memset(s->buf + s->nbuf, 0, 56 - s->nbuf);
  for (int k = 0; k < 8; k++) s->buf[56 + k] = (unsigned char)(bits >> (56 - 8 * k));
  sha256_blocks(s, s->buf, 1);
  static const char hex[] = "0123456789abcdef";
  for (int k = 0; k < 32; k++) {
    unsigned char byte = (unsigned char)(s->h[k / 4] >> (24 - 8 * (k % 4)));
    out[2 * k] = hex[byte >> 4];
    out[2 * k + 1] = hex[byte & 15];
  }
  out[64] = '\0';
}

/* sys.sha256(s, ...) -> 64-character lower-case hex digest of the arguments' concatenation
 * (strings or numbers, as `..` joins them; no joined copy is made). */
static int l_sha256(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checkany(L, 1);
  Sha256 s;
  sha256_init(&s);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *p = luaL_checklstring(L, i, &len);
    sha256_update(&s, (const unsigned char *)p, len);
  }
  char out[65];
  sha256_hex(&s, out);
  lua_pushlstring(L, out, 64);
  return 1;
}

/* sys.hex(s) -> s's bytes as lower-case hex digits (two per byte). */
static int l_hex(lua_State *L) {
  size_t len;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &len);
  static const char hex[] = "0123456789abcdef";
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, 2 * len);
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = hex[p[i] >> 4];
    out[2 * i + 1] = hex[p[i] & 15];
  }
  luaL_pushresultsize(&b, 2 * len);
  return 1;
}

/* Returns the value of lower-case hex digit c, or -1. */
static int unhex_digit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* sys.unhex(s) -> the bytes s's lower-case hex digits stand for (two per byte) | nil when s has
 * an odd length or any other character. */
static int l_unhex(lua_State *L) {
  size_t len;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &len);
  if (len % 2 != 0) {
    lua_pushnil(L);
    return 1;
  }
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, len / 2);
  for (size_t i = 0; i < len / 2; i++) {
    int hi = unhex_digit(p[2 * i]), lo = unhex_digit(p[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      lua_pushnil(L);
      return 1;
    }
    out[i] = (char)(hi << 4 | lo);
  }
  luaL_pushresultsize(&b, len / 2);
  return 1;
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

/* sys.mkdir(path) -> true | nil, err, errno: one directory (mode 0777 less the umask); an
 * existing one is an error (EEXIST), as mkdir(2). util.mkdir_p builds on it. */
static int l_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  return luaL_fileresult(L, mkdir(path, 0777) == 0, path);
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
    {"sha256", l_sha256},   {"hex", l_hex},       {"unhex", l_unhex},
    {"mkdir", l_mkdir},
    {NULL, NULL},
  };
  handle_register(L, LOCK_TYPE, lock_methods, l_lock_release, l_lock_tostring);
  luaL_newlib(L, funcs);
  return 1;
}
