/* C-level checks of introspect.http: the pure header/retry-after/duration parsers (the pieces a
 * fuzzer reaches), and that a set Ctrl-C flag makes pool:perform clean up and raise
 * "interrupted!" instead of blocking on a server that never answers. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "check.h"

int luaopen_introspect_http(lua_State *L);

/* Whether a and b agree within 1e-9. */
static int near(double a, double b) { return fabs(a - b) < 1e-9; }

typedef struct Seen {
  int n;
  char names[8][32];
  char values[8][64];
} Seen;

/* Header visitor collecting names and values. */
static void collect(const char *n, size_t nl, const char *v, size_t vl, void *ud) {
  Seen *s = ud;
  if (s->n >= 8 || nl >= 32 || vl >= 64) return;
  memcpy(s->names[s->n], n, nl);
  s->names[s->n][nl] = '\0';
  memcpy(s->values[s->n], v, vl);
  s->values[s->n][vl] = '\0';
  s->n++;
}

/* Checks the pure parsers on valid, edge and hostile input. */
static void test_parsers(void) {
  check(near(ihttp_parse_retry_after("2", 0), 2), "retry-after integer seconds");
  check(near(ihttp_parse_retry_after(" 1.5 ", 0), 1.5), "retry-after decimal seconds");
  check(ihttp_parse_retry_after("-3", 0) < 0, "retry-after negative rejected");
  check(ihttp_parse_retry_after("soon", 0) < 0, "retry-after garbage rejected");
  check(ihttp_parse_retry_after("", 0) < 0, "retry-after empty rejected");
  check(ihttp_parse_retry_after(NULL, 0) < 0, "retry-after NULL rejected");
  time_t when = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);
  check(near(ihttp_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when - 30), 30),
        "retry-after HTTP date in 30 s");
  check(near(ihttp_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when + 30), 0),
        "retry-after HTTP date in the past is 0");
  check(near(ihttp_parse_retry_after_ms("150"), 0.15), "retry-after-ms 150");
  check(ihttp_parse_retry_after_ms("1e999") < 0, "retry-after-ms overflow rejected");
  check(near(ihttp_parse_duration("6m0s"), 360), "duration 6m0s");
  check(near(ihttp_parse_duration("1h2m3.5s"), 3723.5), "duration 1h2m3.5s");
  check(near(ihttp_parse_duration("20ms"), 0.02), "duration 20ms");
  check(near(ihttp_parse_duration("7"), 7), "duration bare number");
  check(ihttp_parse_duration("5x") < 0, "duration bad unit rejected");
  check(ihttp_parse_duration("s") < 0, "duration unit without number rejected");
  check(ihttp_parse_duration("1s 2") < 0, "duration trailing garbage rejected");

  const char *raw = "HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\nX-A: 1\r\n"
                    "bad line\r\n: empty\r\nSp ace: no\r\n continuation\r\nLast: v";
  Seen s = {0};
  int n = ihttp_parse_header_block(raw, strlen(raw), collect, &s);
  check(n == 3 && s.n == 3, "header block: 3 valid headers");
  check(strcmp(s.names[0], "Content-Type") == 0 && strcmp(s.values[0], "application/json") == 0,
        "header block: value trimmed");
  check(strcmp(s.names[2], "Last") == 0 && strcmp(s.values[2], "v") == 0,
        "header block: last line without newline");
  /* hostile input: every byte value, no terminator; must not crash or over-read */
  char junk[512];
  for (int i = 0; i < 512; i++) junk[i] = (char)(i * 37 + 11);
  ihttp_parse_header_block(junk, sizeof junk, NULL, NULL);
  check(ihttp_parse_header_block("", 0, collect, &s) == 0, "empty header block");
}

/* Visitor counting headers and checking that names and values stay inside the input. */
typedef struct Bounds {
  const char *lo, *hi;
  int n, bad;
} Bounds;

static void bounds_visit(const char *n, size_t nl, const char *v, size_t vl, void *ud) {
  Bounds *b = ud;
  b->n++;
  if (nl == 0 || n < b->lo || n + nl > b->hi || v < b->lo || v + vl > b->hi) b->bad++;
}

/* Feeds 20000 pseudo-random inputs built from header-like fragments to every parser: no crash
 * (the sanitizer build checks memory), results in range, names and values inside the input. */
static void test_random_inputs(void) {
  static const char *const frags[] = {"HTTP/1.1 200 OK", "\r\n", "\n", ":", " ", "\t", "x-a",
                                      "Retry-After", "1", "0.5", "ms", "m", "s", "h", "GMT", ",",
                                      "Wed, 21 Oct 2015 07:28:00", "\0", "\xff", "e9", "-", "."};
  uint64_t x = 88172645463325252ULL;
  int bad = 0;
  char buf[256];
  for (int iter = 0; iter < 20000; iter++) {
    size_t len = 0;
    int parts = (int)(x % 12);
    for (int k = 0; k < parts; k++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      const char *f = frags[x % (sizeof frags / sizeof frags[0])];
      size_t fl = strcmp(f, "\0") == 0 ? 1 : strlen(f);
      if (len + fl >= sizeof buf) break;
      memcpy(buf + len, f, fl);
      len += fl;
    }
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    Bounds b = {buf, buf + len, 0, 0};
    int n = ihttp_parse_header_block(buf, len, bounds_visit, &b);
    if (n != b.n || b.bad) bad++;
    char *copy = malloc(len + 1);  /* exact-size copy: the sanitizer catches over-reads */
    memcpy(copy, buf, len);
    copy[len] = '\0';
    double d = ihttp_parse_duration(copy);
    double r = ihttp_parse_retry_after(copy, 1445412480);
    double m = ihttp_parse_retry_after_ms(copy);
    if (!(d == -1 || d >= 0) || !(r == -1 || r >= 0) || !(m == -1 || m >= 0)) bad++;
    free(copy);
  }
  check(bad == 0, "random inputs: parsers stay in range and in bounds");
}

static volatile sig_atomic_t flag;

/* set_interrupt(): sets the Ctrl-C flag, as the host's signal handler would. */
static int set_interrupt(lua_State *L) {
  (void)L;
  flag = 1;
  return 0;
}

/* Runs a perform against a listening socket that never answers; the progress callback sets
 * the interrupt flag while 4 transfers are in flight: perform must clean up and raise
 * "interrupted!" within a few hundred ms, and the pool must stay usable. */
static void test_interrupt(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "introspect.http", luaopen_introspect_http, 0);
  lua_pop(L, 1);
  lua_pushlightuserdata(L, (void *)&flag);
  lua_setfield(L, LUA_REGISTRYINDEX, "introspect.interrupted");
  lua_register(L, "set_interrupt", set_interrupt);
  const char *code =
      "local http = require 'introspect.http'\n"
      "local p = io.popen('exec /usr/bin/python3 -c \"import os,socket,time;s=socket.socket();"
      "s.bind((\\'127.0.0.1\\',0));s.listen();print(s.getsockname()[1],os.getpid(),flush=True);"
      "time.sleep(30)\"', 'r')\n"
      "local port, pid = p:read('n', 'n')\n"
      "local pool = http.pool{concurrency = 4}\n"
      "local reqs = {}\n"
      "for i = 1, 4 do reqs[i] = {url = 'http://127.0.0.1:' .. port .. '/'} end\n"
      "local t0 = os.clock()\n"
      "local calls = 0\n"
      "local ok, err = pcall(pool.perform, pool, reqs, {progress_interval = 0.2,\n"
      "  progress = function(info) calls = calls + 1; if info.active == 4 then set_interrupt() end end})\n"
      "local clean = pcall(pool.perform, pool, {})\n"
      "os.execute('kill ' .. math.tointeger(pid)); p:close()\n"
      "return ok, tostring(err), calls, clean\n";
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("error: %s\n", lua_tostring(L, -1));
    check(0, "interrupt script ran");
  } else {
    check(!lua_toboolean(L, -4), "interrupted perform raised");
    check(strstr(lua_tostring(L, -3), "interrupted!") != NULL, "error is 'interrupted!'");
    check(lua_tointeger(L, -2) >= 1, "progress ran while transfers were active");
    check(lua_toboolean(L, -1), "pool usable after the interrupt");
  }
  flag = 0;
  lua_close(L);
}

int main(void) {
  test_parsers();
  test_random_inputs();
  test_interrupt();
  return check_summary();
}
