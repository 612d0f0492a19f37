/*
 * introspect.http: an HTTP transport on libcurl's multi interface.
 *
 * Mechanism only: a pool runs many requests concurrently under a concurrency cap, request and
 * token rate limits (adapting to x-ratelimit-* headers) and a retry policy whose parameters come
 * from Lua. libcurl callbacks only buffer bytes; every Lua call and every error is raised from
 * the perform loop itself, between transfers.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "binding.h"
#include "http.h"

#define POOL_MT "introspect.http.Pool"
#define RUN_MT "introspect.http.Run"
#define MAX_WAIT_MS 100

/* ---------------------------------------------------------------------------------------- */
/* Pure helpers (no Lua): also reached by tests/c/test_http.c.                               */

/* Parses a non-negative decimal number filling the whole string (surrounding blanks allowed);
 * returns it, or -1 (also for NULL). */
static double parse_decimal(const char *s) {
  if (s == NULL) return -1;
  while (*s == ' ' || *s == '\t') s++;
  if (!isdigit((unsigned char)*s) && *s != '.') return -1;
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno != 0 || !isfinite(v) || v < 0) return -1;
  while (*end == ' ' || *end == '\t') end++;
  return *end == '\0' ? v : -1;
}

double ihttp_parse_retry_after_ms(const char *value) {
  if (value == NULL) return -1;
  double ms = parse_decimal(value);
  return ms < 0 ? -1 : ms / 1000.0;
}

double ihttp_parse_retry_after(const char *value, time_t now) {
  if (value == NULL) return -1;
  double secs = parse_decimal(value);
  if (secs >= 0) return secs;
  time_t when = curl_getdate(value, NULL);
  if (when == (time_t)-1) return -1;
  double d = difftime(when, now);
  return d > 0 ? d : 0;
}

double ihttp_parse_duration(const char *value) {
  if (value == NULL) return -1;
  const char *p = value;
  while (*p == ' ') p++;
  if (*p == '\0') return -1;
  double total = 0;
  int parts = 0;
  while (*p && *p != ' ') {
    if (!isdigit((unsigned char)*p) && *p != '.') return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno != 0 || !isfinite(v) || v < 0) return -1;
    p = end;
    if (p[0] == 'm' && p[1] == 's') { total += v / 1000.0; p += 2; }
    else if (p[0] == 'u' && p[1] == 's') { total += v / 1e6; p += 2; }
    else if (p[0] == 'n' && p[1] == 's') { total += v / 1e9; p += 2; }
    else if (*p == 'h') { total += v * 3600; p++; }
    else if (*p == 'm') { total += v * 60; p++; }
    else if (*p == 's') { total += v; p++; }
    else if (*p == '\0' && parts == 0) { total += v; }  /* bare number: seconds */
    else return -1;
    parts++;
  }
  while (*p == ' ') p++;
  return *p == '\0' ? total : -1;
}

int ihttp_parse_header_block(const char *raw, size_t len,
                             void (*fn)(const char *, size_t, const char *, size_t, void *),
                             void *ud) {
  int count = 0;
  size_t i = 0;
  while (i < len) {
    size_t start = i;
    while (i < len && raw[i] != '\n') i++;
    size_t end = i;                       /* line is raw[start, end) */
    if (i < len) i++;                     /* skip '\n' */
    if (end > start && raw[end - 1] == '\r') end--;
    if (end == start) continue;
    if (raw[start] == ' ' || raw[start] == '\t') continue;  /* obsolete folding: skipped */
    const char *colon = memchr(raw + start, ':', end - start);
    if (colon == NULL) continue;          /* status line or garbage */
    size_t nlen = (size_t)(colon - (raw + start));
    if (nlen == 0) continue;
    int bad = 0;
    for (size_t k = 0; k < nlen; k++) {
      unsigned char c = (unsigned char)raw[start + k];
      if (c <= ' ' || c >= 127) { bad = 1; break; }
    }
    if (bad) continue;
    const char *v = colon + 1;
    const char *vend = raw + end;
    while (v < vend && (*v == ' ' || *v == '\t')) v++;
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) vend--;
    if (fn) fn(raw + start, nlen, v, (size_t)(vend - v), ud);
    count++;
  }
  return count;
}

/* ---------------------------------------------------------------------------------------- */
/* Buffers and clocks.                                                                       */

typedef struct Buf {
  char *data;
  size_t len, cap;
  int oom;  /* set when an append failed: the transfer is aborted */
} Buf;

/* Appends n bytes; on allocation failure sets b->oom and returns 0, else 1. */
static int buf_append(Buf *b, const char *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (d == NULL) { b->oom = 1; return 0; }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 1;
}

/* Frees the buffer's memory and empties it. */
static void buf_free(Buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------------------------------- */
/* The pool.                                                                                 */

typedef struct Pool {
  CURLM *multi;
  CURL **idle;            /* reusable easy handles */
  int nidle;
  int closed, busy;
  /* configuration */
  int concurrency;
  double rpm, tpm;        /* effective limits (0 = none) */
  double rpm_set, tpm_set;  /* configured limits (0 = none) */
  int learn_limits;       /* adopt x-ratelimit-limit-* when lower than the configured ones */
  int max_retries;
  double backoff_base, backoff_max, retry_after_max;
  long connect_timeout_ms, timeout_ms;
  int http2;
  char *user_agent, *ca_file;
  /* rate state, kept across performs */
  double next_start;      /* rpm pacing: earliest start of the next request */
  double bucket, bucket_at;  /* tpm token bucket and when it was last refilled */
  double blocked_until;   /* from x-ratelimit-* headers */
  uint64_t rng;
} Pool;

/* Returns the pool at index i or raises (also when it is closed). */
static Pool *checkpool(lua_State *L, int i) {
  Pool *p = luaL_checkudata(L, i, POOL_MT);
  if (p->closed) luaL_argerror(L, i, "attempt to use a closed http pool");
  return p;
}

/* Uniform double in [0,1) from the pool's xorshift64* state. */
static double pool_random(Pool *p) {
  p->rng ^= p->rng >> 12;
  p->rng ^= p->rng << 25;
  p->rng ^= p->rng >> 27;
  return (double)((p->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* Releases every resource of the pool (idempotent). */
static void pool_release(Pool *p) {
  if (p->closed) return;
  p->closed = 1;
  for (int i = 0; i < p->nidle; i++) curl_easy_cleanup(p->idle[i]);
  free(p->idle);
  p->idle = NULL;
  p->nidle = 0;
  if (p->multi) curl_multi_cleanup(p->multi);
  p->multi = NULL;
  free(p->user_agent);
  free(p->ca_file);
  p->user_agent = p->ca_file = NULL;
}

/* Reads number field `key` of the options table at `idx` into *out if present. */
static void opt_number(lua_State *L, int idx, const char *where, const char *key, double *out,
                       double lo) {
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    int isnum = 0;
    double v = lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(v >= lo))
      luaL_error(L, "%s: option '%s' must be a number >= %g", where, key, lo);
    *out = v;
  }
  lua_pop(L, 1);
}

static const char *const POOL_OPTIONS[] = {
  "concurrency", "rpm", "tpm", "max_retries", "backoff_base", "backoff_max", "retry_after_max",
  "connect_timeout", "timeout", "http2", "user_agent", "ca_file", "learn_limits", NULL};

/* Creates a pool from the options table at idx (or none); pushes the pool userdata. */
static Pool *pool_create(lua_State *L, int idx, const char *where) {
  int has_opts = !lua_isnoneornil(L, idx);
  if (has_opts) luaL_checktype(L, idx, LUA_TTABLE);
  Pool *p = lua_newuserdatauv(L, sizeof(Pool), 0);
  memset(p, 0, sizeof *p);
  p->closed = 1;  /* until fully initialised, so __gc is harmless */
  luaL_setmetatable(L, POOL_MT);
  double conc = 16, maxr = 2, ct = 10, to = 600;
  p->rpm = 0;
  p->tpm = 0;
  p->backoff_base = 0.5;
  p->backoff_max = 8;
  p->retry_after_max = 60;
  p->http2 = 1;
  p->learn_limits = 1;
  const char *ua = "introspect/0.1 (+libcurl)";
  const char *ca = NULL;
  if (has_opts) {
    binding_check_options(L, idx, where, POOL_OPTIONS);
    opt_number(L, idx, where, "concurrency", &conc, 1);
    opt_number(L, idx, where, "rpm", &p->rpm, 0);
    opt_number(L, idx, where, "tpm", &p->tpm, 0);
    opt_number(L, idx, where, "max_retries", &maxr, 0);
    opt_number(L, idx, where, "backoff_base", &p->backoff_base, 0);
    opt_number(L, idx, where, "backoff_max", &p->backoff_max, 0);
    opt_number(L, idx, where, "retry_after_max", &p->retry_after_max, 0);
    opt_number(L, idx, where, "connect_timeout", &ct, 0.001);
    opt_number(L, idx, where, "timeout", &to, 0.001);
    if (lua_getfield(L, idx, "http2") != LUA_TNIL) {
      if (!lua_isboolean(L, -1)) luaL_error(L, "%s: option 'http2' must be a boolean", where);
      p->http2 = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "learn_limits") != LUA_TNIL) {
      if (!lua_isboolean(L, -1)) luaL_error(L, "%s: option 'learn_limits' must be a boolean", where);
      p->learn_limits = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "user_agent") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: option 'user_agent' must be a string", where);
      ua = lua_tostring(L, -1);
    }
    lua_pop(L, 1);  /* the string stays reachable through the options table */
    if (lua_getfield(L, idx, "ca_file") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: option 'ca_file' must be a string", where);
      ca = lua_tostring(L, -1);
    }
    lua_pop(L, 1);
  }
  if (conc > 100000) luaL_error(L, "%s: option 'concurrency' must be <= 100000", where);
  if (ct >= 1e7 || to >= 1e7) luaL_error(L, "%s: timeouts must be below 1e7 seconds", where);
  if (maxr > 100) luaL_error(L, "%s: option 'max_retries' must be <= 100", where);
  p->concurrency = (int)conc;
  p->max_retries = (int)maxr;
  p->connect_timeout_ms = (long)(ct * 1000);
  p->timeout_ms = (long)(to * 1000);
  p->closed = 0;
  p->user_agent = strdup(ua);
  p->ca_file = ca ? strdup(ca) : NULL;
  p->idle = calloc((size_t)p->concurrency, sizeof(CURL *));
  p->multi = curl_multi_init();
  if (!p->user_agent || (ca && !p->ca_file) || !p->idle || !p->multi) {
    pool_release(p);
    luaL_error(L, "%s: out of memory", where);
  }
  curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)(p->concurrency < 16 ? 16 : p->concurrency));
  p->rpm_set = p->rpm;
  p->tpm_set = p->tpm;
  p->bucket = p->tpm;
  p->bucket_at = binding_now();
  p->rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)p;
  if (p->rng == 0) p->rng = 1;
  return p;
}

/* http.pool([opts]) -> pool. Raises on bad options. */
static int l_pool(lua_State *L) {
  pool_create(L, 1, "http.pool");
  return 1;
}

/* pool:close() -> true. Frees connections; raises while a perform is running. */
static int l_pool_close(lua_State *L) {
  Pool *p = luaL_checkudata(L, 1, POOL_MT);
  if (p->busy) return luaL_error(L, "http pool: cannot close while perform is running");
  pool_release(p);
  lua_pushboolean(L, 1);
  return 1;
}

/* __gc / __close of a pool: releases it. */
static int l_pool_gc(lua_State *L) {
  Pool *p = luaL_checkudata(L, 1, POOL_MT);
  if (!p->busy) pool_release(p);
  return 0;
}

/* __tostring of a pool. Pushes a description. */
static int l_pool_tostring(lua_State *L) {
  Pool *p = luaL_checkudata(L, 1, POOL_MT);
  if (p->closed) lua_pushstring(L, "http pool (closed)");
  else lua_pushfstring(L, "http pool (concurrency %d, %p)", p->concurrency, (void *)p);
  return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* A perform run: per-request transfer state, as a to-be-closed userdata.                    */

enum { T_QUEUED, T_ACTIVE, T_WAITING, T_DONE };

typedef struct Transfer {
  CURL *easy;
  int state;
  int attempts;
  double first_start, ready_at, tokens;
  long timeout_ms;
  Buf body, head;
  struct curl_slist *hdrs;
  char errbuf[CURL_ERROR_SIZE];
} Transfer;

typedef struct Run {
  Pool *pool;
  Transfer *t;
  int n;
  int next_fresh;         /* first never-started request (0-based) */
  int active, done, nwaiting, retries;
  int *waiting;           /* indices of transfers waiting to retry */
  int stop;               /* no new starts (cancelled by a callback) */
  int closed;
} Run;

/* Removes every transfer from the multi handle and frees all run memory (idempotent). */
static void run_release(Run *r) {
  if (r->closed) return;
  r->closed = 1;
  for (int i = 0; r->t && i < r->n; i++) {
    Transfer *t = &r->t[i];
    if (t->easy) {
      if (t->state == T_ACTIVE && r->pool->multi) curl_multi_remove_handle(r->pool->multi, t->easy);
      curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->hdrs);
    buf_free(&t->body);
    buf_free(&t->head);
  }
  free(r->t);
  free(r->waiting);
  r->t = NULL;
  r->waiting = NULL;
  if (r->pool) r->pool->busy = 0;
}

/* __close / __gc of a run: releases it. */
static int l_run_close(lua_State *L) {
  run_release(luaL_checkudata(L, 1, RUN_MT));
  return 0;
}

/* libcurl write callback: appends body bytes; returns 0 (abort) on allocation failure. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  Transfer *t = ud;
  size_t n = size * nmemb;
  return buf_append(&t->body, ptr, n) ? n : 0;
}

/* libcurl header callback: buffers header lines, restarting at each status line. */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  Transfer *t = ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) t->head.len = 0;  /* 1xx, redirects */
  return buf_append(&t->head, ptr, n) ? n : 0;
}

typedef struct Finder {
  const char *name;
  char *out;
  size_t cap;
  int found;
} Finder;

/* Header-block visitor: copies the value of the header named f->name (case-insensitive). */
static void find_visit(const char *n, size_t nl, const char *v, size_t vl, void *ud) {
  Finder *f = ud;
  if (f->found || strlen(f->name) != nl || strncasecmp(n, f->name, nl) != 0) return;
  size_t k = vl < f->cap - 1 ? vl : f->cap - 1;
  memcpy(f->out, v, k);
  f->out[k] = '\0';
  f->found = 1;
}

/* Copies the value of header `name` from a raw block into out; returns out or NULL. */
static const char *find_header(const Buf *head, const char *name, char *out, size_t cap) {
  Finder f = {name, out, cap, 0};
  if (head->data) ihttp_parse_header_block(head->data, head->len, find_visit, &f);
  return f.found ? out : NULL;
}

/* Header-block visitor: sets t[lower(name)] = value (joining repeats with ", ") in the table
 * on top of the Lua stack. */
static void table_visit(const char *n, size_t nl, const char *v, size_t vl, void *ud) {
  lua_State *L = ud;
  char name[128];
  if (nl >= sizeof name) return;
  for (size_t i = 0; i < nl; i++) name[i] = (char)tolower((unsigned char)n[i]);
  lua_pushlstring(L, name, nl);
  lua_pushvalue(L, -1);
  if (lua_rawget(L, -3) == LUA_TSTRING) {
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, v, vl);
    lua_concat(L, 3);
  } else {
    lua_pop(L, 1);
    lua_pushlstring(L, v, vl);
  }
  lua_rawset(L, -3);
}

/* Whether a curl error is worth retrying (connection trouble, timeouts, truncation). */
static int curl_retryable(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_PROXY: case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT: case CURLE_PARTIAL_FILE: case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_HTTP2: case CURLE_HTTP2_STREAM: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY: case CURLE_BAD_CONTENT_ENCODING:
      return 1;
    default:
      return 0;
  }
}

/* Refills the pool's token bucket up to its capacity. */
static void bucket_refill(Pool *p, double now) {
  if (p->tpm <= 0) return;
  p->bucket += (now - p->bucket_at) * p->tpm / 60.0;
  if (p->bucket > p->tpm) p->bucket = p->tpm;
  p->bucket_at = now;
}

/* Seconds until a request needing `tokens` may start under the pool's limits (0 = now). */
static double gate_wait(Pool *p, double tokens, double now) {
  double wait = 0;
  if (p->blocked_until > now) wait = p->blocked_until - now;
  if (p->rpm > 0 && p->next_start > now && p->next_start - now > wait) wait = p->next_start - now;
  if (p->tpm > 0) {
    bucket_refill(p, now);
    double need = tokens < p->tpm ? tokens : p->tpm;
    if (p->bucket < need) {
      double w = (need - p->bucket) * 60.0 / p->tpm;
      if (w > wait) wait = w;
    }
  }
  return wait;
}

/* Books a request start against the rate limits. */
static void gate_take(Pool *p, double tokens, double now) {
  if (p->rpm > 0) {
    double interval = 60.0 / p->rpm;
    if (p->next_start < now - interval) p->next_start = now;
    p->next_start += interval;
  }
  if (p->tpm > 0) p->bucket -= tokens < p->tpm ? tokens : p->tpm;
}

/* Adapts the pool's limits to the x-ratelimit-* response headers: pauses new starts until a
 * reset when the remaining requests or tokens run out, and (with learn_limits) adopts a
 * server's limit-requests / limit-tokens when it is below the configured one. */
static void gate_adapt(Pool *p, const Buf *head, int active, double now) {
  char v[64];
  const char *s;
  if (p->learn_limits) {
    double lim = parse_decimal(find_header(head, "x-ratelimit-limit-requests", v, sizeof v));
    if (lim >= 1 && (p->rpm_set == 0 || lim < p->rpm_set)) p->rpm = lim;
    lim = parse_decimal(find_header(head, "x-ratelimit-limit-tokens", v, sizeof v));
    if (lim >= 1 && (p->tpm_set == 0 || lim < p->tpm_set) && lim != p->tpm) {
      if (p->tpm == 0) { p->bucket = lim; p->bucket_at = now; }
      else if (p->bucket > lim) p->bucket = lim;
      p->tpm = lim;
    }
  }
  s = find_header(head, "x-ratelimit-remaining-requests", v, sizeof v);
  if (s) {
    double remaining = parse_decimal(s);
    if (remaining >= 0 && remaining < 1 + active) {
      double reset = ihttp_parse_duration(find_header(head, "x-ratelimit-reset-requests", v, sizeof v));
      if (reset > 0 && now + reset > p->blocked_until) p->blocked_until = now + (reset < 60 ? reset : 60);
    }
  }
  s = find_header(head, "x-ratelimit-remaining-tokens", v, sizeof v);
  if (s && parse_decimal(s) == 0) {
    double reset = ihttp_parse_duration(find_header(head, "x-ratelimit-reset-tokens", v, sizeof v));
    if (reset > 0 && now + reset > p->blocked_until) p->blocked_until = now + (reset < 60 ? reset : 60);
  }
}

/* Reads request i (1-based) of the table at `reqs` and checks its fields; raises naming the
 * request on misuse. Leaves the stack unchanged. */
static void check_request(lua_State *L, int reqs, int i, const char *where) {
  if (lua_rawgeti(L, reqs, i) != LUA_TTABLE)
    luaL_error(L, "%s: request %d must be a table", where, i);
  if (lua_getfield(L, -1, "url") != LUA_TSTRING)
    luaL_error(L, "%s: request %d: 'url' must be a string", where, i);
  lua_pop(L, 1);
  int t = lua_getfield(L, -1, "method");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    luaL_error(L, "%s: request %d: 'method' must be a string", where, i);
  lua_pop(L, 1);
  t = lua_getfield(L, -1, "body");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    luaL_error(L, "%s: request %d: 'body' must be a string", where, i);
  lua_pop(L, 1);
  t = lua_getfield(L, -1, "headers");
  if (t != LUA_TNIL && t != LUA_TTABLE)
    luaL_error(L, "%s: request %d: 'headers' must be a table", where, i);
  if (t == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: request %d: header names and values must be strings", where, i);
      size_t vl;
      const char *v = lua_tolstring(L, -1, &vl);
      if (strpbrk(lua_tostring(L, -2), "\r\n:") || memchr(v, '\r', vl) || memchr(v, '\n', vl))
        luaL_error(L, "%s: request %d: header '%s' contains CR, LF or ':'", where, i,
                   lua_tostring(L, -2));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  t = lua_getfield(L, -1, "tokens");
  if (t != LUA_TNIL && (t != LUA_TNUMBER || !(lua_tonumber(L, -1) >= 0)))
    luaL_error(L, "%s: request %d: 'tokens' must be a number >= 0", where, i);
  lua_pop(L, 1);
  t = lua_getfield(L, -1, "timeout");
  if (t != LUA_TNIL && (t != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0 && lua_tonumber(L, -1) < 1e7)))
    luaL_error(L, "%s: request %d: 'timeout' must be a number of seconds in (0, 1e7)", where, i);
  lua_pop(L, 2);
}

/* Stack slots used by perform. */
typedef struct Slots {
  int reqs, results, anchor, on_result, progress;
} Slots;

/* Starts (or restarts) transfer i (0-based); returns NULL or an error message. The request's
 * url/body strings are pinned in the anchor table while the transfer runs. */
static const char *start_transfer(lua_State *L, Run *r, int i, const Slots *s, double now) {
  Pool *p = r->pool;
  Transfer *t = &r->t[i];
  lua_rawgeti(L, s->reqs, i + 1);
  int req = lua_gettop(L);
  lua_getfield(L, req, "url");
  lua_rawseti(L, s->anchor, 2 * i + 1);
  lua_getfield(L, req, "body");
  lua_rawseti(L, s->anchor, 2 * i + 2);
  lua_rawgeti(L, s->anchor, 2 * i + 1);
  const char *url = lua_tostring(L, -1);
  lua_rawgeti(L, s->anchor, 2 * i + 2);
  size_t blen = 0;
  const char *body = lua_tolstring(L, -1, &blen);
  lua_pop(L, 2);

  if (p->nidle > 0) {
    t->easy = p->idle[--p->nidle];
    curl_easy_reset(t->easy);
  } else {
    t->easy = curl_easy_init();
    if (!t->easy) { lua_settop(L, req - 1); return "curl_easy_init failed"; }
  }
  CURL *e = t->easy;
  buf_free(&t->body);
  buf_free(&t->head);
  t->errbuf[0] = '\0';
  curl_slist_free_all(t->hdrs);
  t->hdrs = NULL;
  int oom = 0;
  if (lua_getfield(L, req, "headers") == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      lua_pushliteral(L, ": ");
      lua_pushvalue(L, -3);
      lua_concat(L, 3);
      struct curl_slist *n = curl_slist_append(t->hdrs, lua_tostring(L, -1));
      if (!n) oom = 1; else t->hdrs = n;
      lua_pop(L, 2);
    }
  }
  lua_pop(L, 1);
  struct curl_slist *n = curl_slist_append(t->hdrs, "Expect:");
  if (!n) oom = 1; else t->hdrs = n;
  const char *method = "GET";
  if (lua_getfield(L, req, "method") == LUA_TSTRING) method = lua_tostring(L, -1);
  else if (body) method = "POST";
  t->tokens = 0;
  if (lua_getfield(L, req, "tokens") == LUA_TNUMBER) t->tokens = lua_tonumber(L, -1);
  t->timeout_ms = p->timeout_ms;
  if (lua_getfield(L, req, "timeout") == LUA_TNUMBER) t->timeout_ms = (long)(lua_tonumber(L, -1) * 1000);

  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)t);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->timeout_ms);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   p->http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (p->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, p->user_agent);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (strcmp(method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  } else if (strcmp(method, "GET") != 0) {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  }
  lua_settop(L, req - 1);
  if (oom) return "out of memory building headers";
  if (curl_multi_add_handle(p->multi, e) != CURLM_OK) return "curl_multi_add_handle failed";
  if (t->attempts == 0) t->first_start = now;
  t->attempts++;
  t->state = T_ACTIVE;
  r->active++;
  gate_take(p, t->tokens, now);
  return NULL;
}

/* Returns the transfer's easy handle to the pool's idle list (or frees it). */
static void recycle_easy(Pool *p, Transfer *t) {
  if (!t->easy) return;
  if (p->nidle < p->concurrency) p->idle[p->nidle++] = t->easy;
  else curl_easy_cleanup(t->easy);
  t->easy = NULL;
}

/* Pushes the seconds of a CURLINFO_*_TIME_T value. */
static void push_time(lua_State *L, CURL *e, CURLINFO what, const char *key) {
  curl_off_t us = 0;
  curl_easy_getinfo(e, what, &us);
  lua_pushnumber(L, (double)us / 1e6);
  lua_setfield(L, -2, key);
}

/* Finishes transfer i: builds its result table, stores it in results[i+1], releases buffers,
 * then calls on_result(i+1, result); a false return stops new starts. Raises only from the
 * Lua callback (the run is closed by its __close). */
static void finish(lua_State *L, Run *r, int i, const Slots *s, CURLcode code, long status,
                   const char *err, double now) {
  Transfer *t = &r->t[i];
  lua_createtable(L, 0, 8);
  if (status > 0) { lua_pushinteger(L, status); lua_setfield(L, -2, "status"); }
  lua_newtable(L);
  if (t->head.data) ihttp_parse_header_block(t->head.data, t->head.len, table_visit, L);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
  lua_setfield(L, -2, "body");
  if (err) {
    lua_pushstring(L, err);
    lua_setfield(L, -2, "error");
  } else if (code != CURLE_OK) {
    if (t->body.oom || t->head.oom) lua_pushstring(L, "out of memory reading the response");
    else lua_pushfstring(L, "curl error %d (%s): %s", (int)code, curl_easy_strerror(code),
                         t->errbuf[0] ? t->errbuf : "no details");
    lua_setfield(L, -2, "error");
    lua_pushinteger(L, (lua_Integer)code);
    lua_setfield(L, -2, "curl_code");
  }
  lua_pushinteger(L, t->attempts);
  lua_setfield(L, -2, "attempts");
  lua_pushnumber(L, t->attempts ? now - t->first_start : 0);
  lua_setfield(L, -2, "time");
  if (t->easy) {
    lua_createtable(L, 0, 5);
    push_time(L, t->easy, CURLINFO_NAMELOOKUP_TIME_T, "dns");
    push_time(L, t->easy, CURLINFO_CONNECT_TIME_T, "connect");
    push_time(L, t->easy, CURLINFO_APPCONNECT_TIME_T, "tls");
    push_time(L, t->easy, CURLINFO_STARTTRANSFER_TIME_T, "first_byte");
    push_time(L, t->easy, CURLINFO_TOTAL_TIME_T, "total");
    lua_setfield(L, -2, "timings");
    long ver = 0;
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_VERSION, &ver);
    const char *vs = ver == CURL_HTTP_VERSION_2_0 ? "2" : ver == CURL_HTTP_VERSION_1_1 ? "1.1"
                     : ver == CURL_HTTP_VERSION_1_0 ? "1.0" : NULL;
    if (vs) { lua_pushstring(L, vs); lua_setfield(L, -2, "http_version"); }
    recycle_easy(r->pool, t);
  }
  curl_slist_free_all(t->hdrs);
  t->hdrs = NULL;
  buf_free(&t->body);
  buf_free(&t->head);
  t->state = T_DONE;
  r->done++;
  lua_pushnil(L);
  lua_rawseti(L, s->anchor, 2 * i + 1);
  lua_pushnil(L);
  lua_rawseti(L, s->anchor, 2 * i + 2);
  lua_pushvalue(L, -1);
  lua_rawseti(L, s->results, i + 1);
  if (s->on_result) {
    lua_pushvalue(L, s->on_result);
    lua_pushinteger(L, i + 1);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 1);
    if (lua_toboolean(L, -1) == 0 && !lua_isnil(L, -1)) r->stop = 1;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Handles a completed attempt of transfer i: schedules a retry or finishes it. */
static void complete(lua_State *L, Run *r, int i, CURLcode code, const Slots *s) {
  Pool *p = r->pool;
  Transfer *t = &r->t[i];
  double now = binding_now();
  long status = 0;
  curl_multi_remove_handle(p->multi, t->easy);
  r->active--;
  t->state = T_WAITING;
  if (code == CURLE_OK) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (code == CURLE_OK) gate_adapt(p, &t->head, r->active, now);
  int retry = code != CURLE_OK ? curl_retryable(code) && !t->body.oom && !t->head.oom
              : (status == 408 || status == 409 || status == 429 || status >= 500);
  char v[128];
  double delay = -1;
  if (code == CURLE_OK) {
    const char *sr = find_header(&t->head, "x-should-retry", v, sizeof v);
    if (sr && strcasecmp(sr, "true") == 0) retry = 1;
    if (sr && strcasecmp(sr, "false") == 0) retry = 0;
    delay = ihttp_parse_retry_after_ms(find_header(&t->head, "retry-after-ms", v, sizeof v));
    if (delay < 0) delay = ihttp_parse_retry_after(find_header(&t->head, "retry-after", v, sizeof v),
                                                   time(NULL));
  }
  if (retry && t->attempts <= p->max_retries && !r->stop) {
    if (delay < 0) {
      delay = p->backoff_base * pow(2.0, t->attempts - 1);
      if (delay > p->backoff_max) delay = p->backoff_max;
      delay *= 1.0 - 0.25 * pool_random(p);
    } else if (delay > p->retry_after_max) {
      delay = p->retry_after_max;
    }
    t->ready_at = now + delay;
    recycle_easy(p, t);
    r->waiting[r->nwaiting++] = i;
    r->retries++;
    return;
  }
  finish(L, r, i, s, code, status, NULL, now);
}

/* Pushes the progress table and calls opts.progress(info); a false return stops new starts. */
static void report_progress(lua_State *L, Run *r, const Slots *s, double started) {
  lua_pushvalue(L, s->progress);
  lua_createtable(L, 0, 8);
  lua_pushinteger(L, r->done); lua_setfield(L, -2, "done");
  lua_pushinteger(L, r->n); lua_setfield(L, -2, "total");
  lua_pushinteger(L, r->active); lua_setfield(L, -2, "active");
  lua_pushinteger(L, r->nwaiting); lua_setfield(L, -2, "waiting");
  lua_pushinteger(L, r->n - r->next_fresh); lua_setfield(L, -2, "queued");
  lua_pushinteger(L, r->retries); lua_setfield(L, -2, "retries");
  lua_pushnumber(L, binding_now() - started); lua_setfield(L, -2, "elapsed");
  lua_call(L, 1, 1);
  if (lua_toboolean(L, -1) == 0 && !lua_isnil(L, -1)) r->stop = 1;
  lua_pop(L, 1);
}

static const char *const PERFORM_OPTIONS[] = {"on_result", "progress", "progress_interval", NULL};

/* Runs the requests at index reqs with the pool p; pushes the results table. Raises on misuse,
 * on "interrupted!" and on errors from the Lua callbacks, always after cleaning up. */
static int perform(lua_State *L, Pool *p, int reqs, int opts, const char *where) {
  luaL_checktype(L, reqs, LUA_TTABLE);
  if (p->busy) return luaL_error(L, "%s: the pool is already performing (re-entrant call)", where);
  lua_Integer n = luaL_len(L, reqs);
  if (n > 100000000) return luaL_error(L, "%s: too many requests", where);
  for (int i = 1; i <= (int)n; i++) check_request(L, reqs, i, where);
  Slots s = {reqs, 0, 0, 0, 0};
  double interval = 1.0;
  if (!lua_isnoneornil(L, opts)) {
    luaL_checktype(L, opts, LUA_TTABLE);
    binding_check_options(L, opts, where, PERFORM_OPTIONS);
    if (lua_getfield(L, opts, "on_result") != LUA_TNIL) {
      if (!lua_isfunction(L, -1)) luaL_error(L, "%s: option 'on_result' must be a function", where);
      s.on_result = lua_gettop(L);
    } else lua_pop(L, 1);
    if (lua_getfield(L, opts, "progress") != LUA_TNIL) {
      if (!lua_isfunction(L, -1)) luaL_error(L, "%s: option 'progress' must be a function", where);
      s.progress = lua_gettop(L);
    } else lua_pop(L, 1);
    opt_number(L, opts, where, "progress_interval", &interval, 0);
  }
  volatile sig_atomic_t *interrupted = binding_interrupt_flag(L);
  lua_createtable(L, (int)n, 0);
  s.results = lua_gettop(L);
  lua_createtable(L, p->concurrency * 2, 0);
  s.anchor = lua_gettop(L);
  Run *r = lua_newuserdatauv(L, sizeof(Run), 0);
  memset(r, 0, sizeof *r);
  r->closed = 1;
  luaL_setmetatable(L, RUN_MT);
  r->pool = p;
  r->n = (int)n;
  r->t = calloc(n ? (size_t)n : 1, sizeof(Transfer));
  r->waiting = calloc(n ? (size_t)n : 1, sizeof(int));
  if (!r->t || !r->waiting) {
    free(r->t);
    free(r->waiting);
    return luaL_error(L, "%s: out of memory", where);
  }
  r->closed = 0;
  p->busy = 1;
  lua_toclose(L, -1);
  int run_slot = lua_gettop(L);

  double started = binding_now(), last_progress = started;
  while (r->done < r->n) {
    if (interrupted && *interrupted) {
      run_release(r);
      return luaL_error(L, "interrupted!");
    }
    double now = binding_now();
    double wait = MAX_WAIT_MS / 1000.0;
    /* start what the caps and rate limits allow: due retries first, then fresh requests */
    while (r->active < p->concurrency) {
      int pick = -1, wi = -1;
      double soonest = INFINITY;
      for (int k = 0; k < r->nwaiting; k++) {
        double ra = r->t[r->waiting[k]].ready_at;
        if (ra <= now && (pick < 0 || ra < r->t[pick].ready_at)) { pick = r->waiting[k]; wi = k; }
        if (ra > now && ra - now < soonest) soonest = ra - now;
      }
      if (soonest < wait) wait = soonest;
      if (pick < 0 && !r->stop && r->next_fresh < r->n) pick = r->next_fresh;
      if (pick < 0) break;
      double tokens = 0;
      if (pick == r->next_fresh) {
        lua_rawgeti(L, reqs, pick + 1);
        if (lua_getfield(L, -1, "tokens") == LUA_TNUMBER) tokens = lua_tonumber(L, -1);
        lua_pop(L, 2);
      } else {
        tokens = r->t[pick].tokens;
      }
      double gw = gate_wait(p, tokens, now);
      if (gw > 0) { if (gw < wait) wait = gw; break; }
      if (wi >= 0) r->waiting[wi] = r->waiting[--r->nwaiting];
      else r->next_fresh++;
      const char *err = start_transfer(L, r, pick, &s, now);
      if (err) {
        if (r->t[pick].easy) recycle_easy(p, &r->t[pick]);
        finish(L, r, pick, &s, CURLE_OK, 0, err, now);
      }
    }
    /* cancelled: everything not running finishes now as cancelled */
    if (r->stop) {
      while (r->nwaiting > 0) {
        int i = r->waiting[--r->nwaiting];
        finish(L, r, i, &s, CURLE_OK, 0, "cancelled", now);
      }
      while (r->next_fresh < r->n) finish(L, r, r->next_fresh++, &s, CURLE_OK, 0, "cancelled", now);
    }
    if (r->done >= r->n) break;
    int running = 0;
    curl_multi_perform(p->multi, &running);
    int left = 0, completed = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE) continue;
      completed++;
      Transfer *t = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
      CURLcode code = m->data.result;
      complete(L, r, (int)(t - r->t), code, &s);
    }
    if (s.progress && binding_now() - last_progress >= interval) {
      last_progress = binding_now();
      report_progress(L, r, &s, started);
    }
    if (r->done >= r->n) break;
    if (completed > 0) continue;  /* start the next requests before waiting */
    if (r->active > 0 || wait > 0) {
      int ms = (int)ceil(wait * 1000);
      if (ms > MAX_WAIT_MS) ms = MAX_WAIT_MS;
      if (r->active > 0) curl_multi_poll(p->multi, NULL, 0, ms, NULL);
      else if (ms > 0) binding_sleep(interrupted, ms / 1000.0);
    }
  }
  if (s.progress) report_progress(L, r, &s, started);
  lua_settop(L, run_slot - 1);  /* closes the run */
  lua_pushvalue(L, s.results);
  return 1;
}

/* pool:perform(requests [, opts]) -> results. See docs/http.md. */
static int l_pool_perform(lua_State *L) {
  Pool *p = checkpool(L, 1);
  return perform(L, p, 2, 3, "pool:perform");
}

/* pool:limits() -> {rpm=, tpm=, rpm_configured=, tpm_configured=, paused_for=}: the effective
 * rate limits (0 = none; learned from x-ratelimit-limit-* when lower) and how long new starts
 * are paused by x-ratelimit-remaining-* / reset-* headers. */
static int l_pool_limits(lua_State *L) {
  Pool *p = checkpool(L, 1);
  double now = binding_now();
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, p->rpm); lua_setfield(L, -2, "rpm");
  lua_pushnumber(L, p->tpm); lua_setfield(L, -2, "tpm");
  lua_pushnumber(L, p->rpm_set); lua_setfield(L, -2, "rpm_configured");
  lua_pushnumber(L, p->tpm_set); lua_setfield(L, -2, "tpm_configured");
  lua_pushnumber(L, p->blocked_until > now ? p->blocked_until - now : 0);
  lua_setfield(L, -2, "paused_for");
  return 1;
}

/* http.request(req [, pool_opts]) -> result. One synchronous request on a temporary pool. */
static int l_request(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  Pool *p = pool_create(L, 2, "http.request");  /* slot 3 */
  lua_createtable(L, 1, 0);                      /* slot 4: {req} */
  lua_pushvalue(L, 1);
  lua_rawseti(L, 4, 1);
  perform(L, p, 4, 5, "http.request");  /* slot 5 is none: no perform options */
  lua_rawgeti(L, -1, 1);
  pool_release(p);
  return 1;
}

/* http.sleep(seconds) -> true. Sleeps, polling the host's Ctrl-C flag every 100 ms; raises
 * "interrupted!" when it is set. */
static int l_sleep(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  luaL_argcheck(L, secs >= 0 && secs < 1e7, 1, "seconds must be in [0, 1e7)");
  if (binding_sleep(binding_interrupt_flag(L), secs)) return luaL_error(L, "interrupted!");
  lua_pushboolean(L, 1);
  return 1;
}

/* http.parse_retry_after(headers) -> seconds | nil. Reads retry-after-ms, then retry-after
 * (seconds or HTTP date) from a table of lower-case headers. */
static int l_parse_retry_after(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  double d = -1;
  if (lua_getfield(L, 1, "retry-after-ms") == LUA_TSTRING)
    d = ihttp_parse_retry_after_ms(lua_tostring(L, -1));
  if (d < 0 && lua_getfield(L, 1, "retry-after") == LUA_TSTRING)
    d = ihttp_parse_retry_after(lua_tostring(L, -1), time(NULL));
  if (d < 0) lua_pushnil(L); else lua_pushnumber(L, d);
  return 1;
}

/* http.parse_duration(s) -> seconds | nil. Parses "6m0s", "20ms", "1.5s". */
static int l_parse_duration(lua_State *L) {
  double d = ihttp_parse_duration(luaL_checkstring(L, 1));
  if (d < 0) lua_pushnil(L); else lua_pushnumber(L, d);
  return 1;
}

/* http.parse_headers(raw) -> table of lower-case name -> value. */
static int l_parse_headers(lua_State *L) {
  size_t len;
  const char *raw = luaL_checklstring(L, 1, &len);
  lua_newtable(L);
  ihttp_parse_header_block(raw, len, table_visit, L);
  return 1;
}

/* http.version() -> libcurl version string. */
static int l_version(lua_State *L) {
  lua_pushstring(L, curl_version());
  return 1;
}

static const luaL_Reg pool_methods[] = {
  {"perform", l_pool_perform}, {"limits", l_pool_limits}, {"close", l_pool_close}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
  {"pool", l_pool}, {"request", l_request}, {"sleep", l_sleep},
  {"parse_retry_after", l_parse_retry_after}, {"parse_duration", l_parse_duration},
  {"parse_headers", l_parse_headers}, {"version", l_version}, {NULL, NULL}};

/* Opens the module: initialises libcurl once, registers metatables; pushes the module table. */
int luaopen_introspect_http(lua_State *L) {
  curl_global_init(CURL_GLOBAL_DEFAULT);  /* reference counted and thread-safe since 7.84 */
  handle_register(L, POOL_MT, pool_methods, l_pool_gc, l_pool_tostring);
  if (luaL_newmetatable(L, RUN_MT)) {
    lua_pushcfunction(L, l_run_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, l_run_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
