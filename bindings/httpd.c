/*
 * introspect.httpd: an HTTP server on libmicrohttpd whose request handlers are written in Lua.
 *
 * MHD runs in external-loop mode (epoll, no threads). server:wait() drives it: MHD's callbacks
 * only buffer each request (bounded size); complete requests are handed to Lua as plain tables
 * between MHD calls. server:respond() stores the response, which is queued inside MHD's next
 * callback for the request. A request Lua answers before the next MHD run (the common case)
 * costs no suspend/resume; one still unanswered then (a held, delayed response) has its
 * connection suspended until server:respond() resumes it, so MHD does not spin on it. No Lua
 * code runs and no Lua error is raised inside an MHD callback.
 *
 *   local httpd = require "introspect.httpd"
 *   local server = assert(httpd.new{host = "127.0.0.1", port = 0})
 *   while true do
 *     for _, req in ipairs(server:wait(1.0)) do
 *       server:respond(req.id, 200, {["content-type"] = "text/plain"}, "hello")
 *     end
 *   end
 */
#include <lua.h>
#include <lauxlib.h>

#include "binding.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define SERVER_MT "introspect.httpd.Server"
#define DEFAULT_MAX_BODY (64u * 1024u * 1024u)
#define POLL_SLICE_MS 100
/* Each connection's MHD memory pool (request line, headers, read and write buffers). MHD
 * 0.9.75 zeroes the whole pool after every request, so its size is paid per request. */
#define CONN_POOL_BYTES (16u * 1024u)
/* Finished request records kept for reuse with their buffers (a body buffer only up to
 * SPARE_BODY_MAX bytes), so a request costs no malloc/free of its own in the steady state. */
#define SPARE_MAX 256
#define SPARE_BODY_MAX (64u * 1024u)

#if MHD_VERSION < 0x00097206
#error "introspect.httpd needs libmicrohttpd >= 0.9.72 (MHD_run_wait)"
#endif

enum req_state { REQ_RECEIVING, REQ_READY, REQ_HANDED, REQ_RESPONDED, REQ_DONE };

typedef struct Server Server;

/* One request: buffered in MHD callbacks, handed to Lua, answered by server:respond. */
typedef struct Req {
  Server *server;
  struct MHD_Connection *conn;
  char *uri;              /* raw request target, path and query */
  size_t uri_cap;
  char method[16];
  char *hdrs;             /* "name\0value\0" pairs, names lower-cased */
  size_t hdrs_len, hdrs_cap;
  int started;            /* headers seen (first access-handler call done) */
  char *body;
  size_t len, cap;
  int too_large;
  enum req_state state;
  unsigned status;
  struct MHD_Response *resp;
  int reset;              /* respond by closing the connection */
  int suspended;          /* MHD_suspend_connection done, no resume yet */
  uint32_t slot;
  struct Req *next_spare; /* in the server's spare list */
} Req;

/* A truncated body: declares the full length, sends `cut` bytes, then fails the transfer. */
typedef struct Truncated {
  char *data;
  size_t cut;
} Truncated;

/* A slow (slow-loris) body: declares the full length, then releases it evenly over
 * `seconds` from `start` (monotonic), a little per MHD call. */
typedef struct Slow {
  char *data;
  size_t len;
  double start, seconds;
} Slow;

struct Server {
  struct MHD_Daemon *daemon;
  int closed;
  size_t max_body;
  unsigned port;
  Req **slots;            /* live requests by slot; NULL when free */
  uint32_t *gens;         /* generation per slot, part of the request id */
  uint32_t nslots;
  uint32_t *free_slots;
  uint32_t nfree;
  Req *spare;             /* finished request records for reuse */
  unsigned nspare;
  Req **ready;            /* complete requests not yet handed to Lua */
  size_t nready, capready;
  int oom;                /* an allocation failed inside a callback */
  unsigned long long served, rejected;
};

/* Lower-cases an ASCII string in place. */
static void lower(char *s) {
  for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

/* Takes a free slot for r (growing the tables); returns 0 on allocation failure. */
static int slot_take(Server *s, Req *r) {
  if (s->nfree == 0) {
    uint32_t n = s->nslots ? s->nslots * 2 : 64;
    Req **slots = realloc(s->slots, n * sizeof *slots);
    if (!slots) return 0;
    s->slots = slots;
    uint32_t *gens = realloc(s->gens, n * sizeof *gens);
    if (!gens) return 0;
    s->gens = gens;
    uint32_t *fr = realloc(s->free_slots, n * sizeof *fr);
    if (!fr) return 0;
    s->free_slots = fr;
    for (uint32_t i = s->nslots; i < n; i++) {
      s->slots[i] = NULL;
      s->gens[i] = 1;
      s->free_slots[s->nfree++] = n - 1 - (i - s->nslots);
    }
    s->nslots = n;
  }
  uint32_t slot = s->free_slots[--s->nfree];
  s->slots[slot] = r;
  r->slot = slot;
  return 1;
}

/* Frees r and its buffers. */
static void req_destroy(Req *r) {
  free(r->uri);
  free(r->hdrs);
  free(r->body);
  free(r);
}

/* Releases r's slot (the id of r becomes stale) and its response; keeps r with its buffers in
 * the server's spare list, or frees it (no server, list full). */
static void req_free(Req *r) {
  Server *s = r->server;
  if (s && s->slots && s->slots[r->slot] == r) {
    s->slots[r->slot] = NULL;
    s->gens[r->slot]++;
    s->free_slots[s->nfree++] = r->slot;
  }
  if (r->resp) MHD_destroy_response(r->resp);
  r->resp = NULL;
  if (!s || s->nspare >= SPARE_MAX) {
    req_destroy(r);
    return;
  }
  if (r->cap > SPARE_BODY_MAX) {
    free(r->body);
    r->body = NULL;
    r->cap = 0;
  }
  r->next_spare = s->spare;
  s->spare = r;
  s->nspare++;
}

/* A zeroed request record for s: a spare one with its buffers kept, or a new one; NULL when
 * out of memory. */
static Req *req_new(Server *s) {
  Req *r = s->spare;
  if (!r) return calloc(1, sizeof *r);
  s->spare = r->next_spare;
  s->nspare--;
  Req keep = *r;
  memset(r, 0, sizeof *r);
  r->uri = keep.uri;
  r->uri_cap = keep.uri_cap;
  r->hdrs = keep.hdrs;
  r->hdrs_cap = keep.hdrs_cap;
  r->body = keep.body;
  r->cap = keep.cap;
  return r;
}

/* Grows *buf (capacity *cap) to hold at least `need` bytes, at least doubling; 0 when out of
 * memory (the buffer is left as it was). */
static int grow(char **buf, size_t *cap, size_t need, size_t least) {
  if (need <= *cap) return 1;
  size_t n = *cap ? *cap * 2 : least;
  if (n < need) n = need;
  char *b = realloc(*buf, n);
  if (!b) return 0;
  *buf = b;
  *cap = n;
  return 1;
}

/* MHD URI log callback: takes a request record and copies the raw URI (path and query). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  Server *s = cls;
  Req *r = req_new(s);
  if (!r) { s->oom = 1; return NULL; }
  r->server = s;
  r->conn = conn;
  if (!uri) uri = "/";
  size_t n = strlen(uri) + 1;
  if (!grow(&r->uri, &r->uri_cap, n, 256) || !slot_take(s, r)) {
    req_destroy(r);
    s->oom = 1;
    return NULL;
  }
  memcpy(r->uri, uri, n);
  return r;
}

/* MHD completion callback: the connection is done with the request; frees it. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls; (void)conn; (void)toe;
  Req *r = *con_cls;
  if (r) req_free(r);
  *con_cls = NULL;
}

/* Queues a small JSON error response from inside the access handler. */
static enum MHD_Result queue_error(struct MHD_Connection *conn, unsigned status, const char *msg,
                                   const char *code) {
  char buf[512];
  int n = snprintf(buf, sizeof buf,
                   "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\","
                   "\"param\":null,\"code\":\"%s\"}}", msg, code);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Header iterator (inside MHD, pure C): appends "name\0value\0" to the request's buffer. */
static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
  (void)kind;
  Req *r = cls;
  if (!value) value = "";
  size_t nk = strlen(key), nv = strlen(value);
  if (!grow(&r->hdrs, &r->hdrs_cap, r->hdrs_len + nk + nv + 2, 512)) {
    r->server->oom = 1;
    return MHD_NO;
  }
  char *b = r->hdrs;
  memcpy(b + r->hdrs_len, key, nk + 1);
  lower(b + r->hdrs_len);
  memcpy(b + r->hdrs_len + nk + 1, value, nv + 1);
  r->hdrs_len += nk + nv + 2;
  return MHD_YES;
}

/* MHD access handler: buffers the body (bounded), then parks the request for Lua; when Lua has
 * answered and the connection is resumed, queues the stored response. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
  (void)url; (void)version;
  Server *s = cls;
  Req *r = *con_cls;
  if (!r) return MHD_NO; /* allocation failed in on_uri */
  if (r->state == REQ_RECEIVING) {
    if (!r->started) {
      r->started = 1;
      snprintf(r->method, sizeof r->method, "%s", method ? method : "GET");
      MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r);
      const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
      if (cl && strtoull(cl, NULL, 10) > s->max_body) {
        /* refuse a declared oversized body before reading it */
        s->rejected++;
        r->state = REQ_DONE;
        return queue_error(conn, 413, "Request body exceeds the server's size limit.",
                           "request_too_large");
      }
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      size_t n = *upload_data_size;
      *upload_data_size = 0;
      if (r->too_large) return MHD_YES;
      if (r->len + n > s->max_body) {
        r->too_large = 1;
        free(r->body);
        r->body = NULL;
        r->len = r->cap = 0;
        return MHD_YES;
      }
      if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + n) cap *= 2;
        if (cap > s->max_body) cap = s->max_body;
        char *b = realloc(r->body, cap);
        if (!b) { s->oom = 1; return MHD_NO; }
        r->body = b;
        r->cap = cap;
      }
      memcpy(r->body + r->len, upload_data, n);
      r->len += n;
      return MHD_YES;
    }
    if (r->too_large) {
      s->rejected++;
      r->state = REQ_DONE;
      return queue_error(conn, 413, "Request body exceeds the server's size limit.",
                         "request_too_large");
    }
    if (s->nready == s->capready) {
      size_t cap = s->capready ? s->capready * 2 : 64;
      Req **rd = realloc(s->ready, cap * sizeof *rd);
      if (!rd) { s->oom = 1; return MHD_NO; }
      s->ready = rd;
      s->capready = cap;
    }
    s->ready[s->nready++] = r;
    r->state = REQ_READY;
    return MHD_YES; /* MHD calls again on its next run; answered by then, or suspended then */
  }
  if (r->state == REQ_RESPONDED) {
    r->state = REQ_DONE;
    if (r->reset) return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, r->status, r->resp);
    MHD_destroy_response(r->resp);
    r->resp = NULL;
    s->served++;
    return ret;
  }
  if ((r->state == REQ_READY || r->state == REQ_HANDED) && !r->suspended) {
    /* still unanswered a whole MHD run later: park it until server:respond */
    r->suspended = 1;
    MHD_suspend_connection(conn);
  }
  return MHD_YES;
}

/* Content reader for truncated bodies: sends the first `cut` bytes, then an error. */
static ssize_t truncated_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  Truncated *t = cls;
  if (pos >= t->cut) return MHD_CONTENT_READER_END_WITH_ERROR;
  size_t n = t->cut - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, t->data + pos, n);
  return (ssize_t)n;
}

/* Frees a Truncated. */
static void truncated_free(void *cls) {
  Truncated *t = cls;
  free(t->data);
  free(t);
}

/* Content reader for slow bodies: sends what the elapsed time allows, the whole body once
 * `seconds` have passed. When nothing is due it naps 1 ms and returns 0 (MHD calls again on its
 * next turn): the socket stays writable, so without the nap the server loop would spin. */
static ssize_t slow_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  Slow *w = cls;
  if (pos >= w->len) return MHD_CONTENT_READER_END_OF_STREAM;
  double f = w->seconds > 0 ? (binding_now() - w->start) / w->seconds : 1.0;
  size_t allowed = f >= 1.0 ? w->len : (size_t)((double)w->len * f);
  if (allowed <= pos) {
    binding_sleep(NULL, 0.001);
    return 0;
  }
  size_t n = allowed - (size_t)pos;
  if (n > max) n = max;
  memcpy(buf, w->data + pos, n);
  return (ssize_t)n;
}

/* Frees a Slow. */
static void slow_free(void *cls) {
  Slow *w = cls;
  free(w->data);
  free(w);
}

/* Returns the server at index i or raises (closed servers raise too). */
static Server *checkserver(lua_State *L, int i) {
  Server *s = luaL_checkudata(L, i, SERVER_MT);
  if (s->closed) luaL_error(L, "attempt to use a closed httpd server");
  return s;
}

/* Reads an optional integer field of the options table at idx; raises on a wrong type. */
static lua_Integer opt_int(lua_State *L, int idx, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi) {
  lua_Integer v = def;
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    int ok;
    v = lua_tointegerx(L, -1, &ok);
    if (!ok || v < lo || v > hi)
      luaL_error(L, "httpd.new: option '%s' must be an integer in [%I, %I]", key, lo, hi);
  }
  lua_pop(L, 1);
  return v;
}

/* Stops the daemon: closes every parked connection, then frees all requests. */
static void server_shutdown(Server *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->daemon) {
    for (uint32_t i = 0; i < s->nslots; i++) {
      Req *r = s->slots[i];
      if (r && (r->state == REQ_READY || r->state == REQ_HANDED)) {
        r->reset = 1;
        r->state = REQ_RESPONDED;
        if (r->suspended) {
          r->suspended = 0;
          MHD_resume_connection(r->conn);
        }
      }
    }
    MHD_run(s->daemon);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
  }
  for (uint32_t i = 0; i < s->nslots; i++) {
    if (s->slots[i]) {
      Req *r = s->slots[i];
      r->server = NULL;
      req_free(r);
      s->slots[i] = NULL;
    }
  }
  free(s->slots); s->slots = NULL;
  free(s->gens); s->gens = NULL;
  free(s->free_slots); s->free_slots = NULL;
  free(s->ready); s->ready = NULL;
  while (s->spare) {
    Req *r = s->spare;
    s->spare = r->next_spare;
    req_destroy(r);
  }
  s->nspare = 0;
  s->nslots = s->nfree = 0;
  s->nready = 0;
}

/* httpd.new{host=, port=, max_body=, connection_limit=, timeout=, backlog=} -> server | nil, err
 * host: numeric address or name (default 127.0.0.1); port 0 picks a free port. Stack: +1/+2. */
static int l_new(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  else { lua_settop(L, 0); lua_newtable(L); }
  static const char *const known[] = {"host", "port", "max_body", "connection_limit", "timeout",
                                      "backlog", NULL};
  binding_check_options(L, 1, "httpd.new", known);
  const char *host = "127.0.0.1";
  if (lua_getfield(L, 1, "host") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "httpd.new: option 'host' must be a string");
    host = lua_tostring(L, -1);
  }
  lua_pop(L, 1);
  lua_Integer port = opt_int(L, 1, "port", 0, 0, 65535);
  lua_Integer max_body = opt_int(L, 1, "max_body", DEFAULT_MAX_BODY, 1, (lua_Integer)1 << 40);
  lua_Integer conn_limit = opt_int(L, 1, "connection_limit", 1000, 1, 100000);
  lua_Integer timeout = opt_int(L, 1, "timeout", 60, 0, 86400);
  lua_Integer backlog = opt_int(L, 1, "backlog", 1024, 1, 65535);

  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", (int)port);
  int gai = getaddrinfo(host, portbuf, &hints, &ai);
  if (gai != 0 || !ai) {
    lua_pushnil(L);
    lua_pushfstring(L, "httpd.new: cannot resolve host '%s': %s", host, gai_strerror(gai));
    return 2;
  }
  struct sockaddr_storage addr;
  memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  int v6 = ai->ai_family == AF_INET6;
  freeaddrinfo(ai);

  Server *s = lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  s->closed = 1; /* until the daemon is up */
  s->max_body = (size_t)max_body;
  luaL_setmetatable(L, SERVER_MT);
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
  if (v6) flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, s,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned int)conn_limit,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)timeout,
                               MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)backlog,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_POOL_BYTES,
                               MHD_OPTION_END);
  if (!s->daemon) {
    int e = errno;
    lua_pushnil(L);
    lua_pushfstring(L, "httpd.new: cannot listen on %s:%d: %s", host, (int)port,
                    e ? strerror(e) : "libmicrohttpd refused to start");
    return 2;
  }
  s->closed = 0;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : (unsigned)port;
  return 1;
}

/* Pushes the Lua table {id=, method=, path=, headers=, body=} for a ready request. */
static void push_request(lua_State *L, Server *s, Req *r) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)(((uint64_t)s->gens[r->slot] << 32) | r->slot));
  lua_setfield(L, -2, "id");
  lua_pushstring(L, r->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, r->uri);
  lua_setfield(L, -2, "path");
  lua_pushlstring(L, r->body ? r->body : "", r->len);
  lua_setfield(L, -2, "body");
  lua_createtable(L, 0, 8);
  for (size_t off = 0; off < r->hdrs_len;) {
    const char *k = r->hdrs + off;
    const char *v = k + strlen(k) + 1;
    off = (size_t)(v - r->hdrs) + strlen(v) + 1;
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
  lua_setfield(L, -2, "headers");
}

/* Runs MHD once, blocking up to `ms` milliseconds for network events (or MHD's own timeout),
 * and collects ready requests into the array at index `out`. */
static void pump(lua_State *L, Server *s, int out, int32_t ms) {
  MHD_run_wait(s->daemon, ms);
  for (size_t i = 0; i < s->nready; i++) {
    Req *r = s->ready[i];
    r->state = REQ_HANDED;
    push_request(L, s, r);
    lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
  }
  s->nready = 0;
}

/* server:wait([timeout]) -> list of requests (possibly empty after `timeout` seconds, default
 * 1). Each request is {id=, method=, path=, headers= (lower-case names), body=}. Polls the
 * host's Ctrl-C flag every 100 ms and raises "interrupted!" when it is set. Stack: +1. */
static int l_wait(lua_State *L) {
  Server *s = checkserver(L, 1);
  double timeout = luaL_optnumber(L, 2, 1.0);
  luaL_argcheck(L, timeout >= 0, 2, "httpd wait: timeout must be >= 0");
  volatile sig_atomic_t *flag = binding_interrupt_flag(L);
  lua_newtable(L);
  int out = lua_gettop(L);
  double t0 = binding_now();
  int32_t ms = 0; /* the first run only sends answered responses and takes what is there */
  for (;;) {
    pump(L, s, out, ms);
    if (s->oom) {
      s->oom = 0;
      return luaL_error(L, "httpd wait: out of memory while receiving a request");
    }
    if (lua_rawlen(L, out) > 0) break;
    if (flag && *flag) return luaL_error(L, "interrupted!");
    double left = timeout - (binding_now() - t0);
    if (left <= 0) break;
    ms = (int32_t)(left * 1000.0) + 1;
    if (ms > POLL_SLICE_MS) ms = POLL_SLICE_MS;
  }
  return 1;
}

/* Looks up a handed-out request by id; NULL when it is gone (closed connection, answered). */
static Req *find_req(Server *s, lua_Integer id) {
  uint64_t u = (uint64_t)id;
  uint32_t slot = (uint32_t)(u & 0xffffffffu), gen = (uint32_t)(u >> 32);
  if (slot >= s->nslots || s->gens[slot] != gen) return NULL;
  Req *r = s->slots[slot];
  if (!r || r->state != REQ_HANDED) return NULL;
  return r;
}

/* server:respond(id, status, headers, body [, fault [, seconds]]) -> true | nil, err
 * Stores the response for request `id` (resuming its connection if it was parked); it is sent
 * by the next server:wait(). fault: "reset" closes the connection without a response, "truncate" sends
 * the headers and half the body, then closes, "slow" sends the headers at once and trickles
 * the body over `seconds` (default 2). Stack: +1/+2. */
static int l_respond(lua_State *L) {
  Server *s = checkserver(L, 1);
  lua_Integer id = luaL_checkinteger(L, 2);
  lua_Integer status = luaL_checkinteger(L, 3);
  luaL_argcheck(L, status >= 100 && status <= 599, 3, "httpd respond: status must be 100..599");
  if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TTABLE);
  size_t len = 0;
  const char *body = luaL_optlstring(L, 5, "", &len);
  static const char *const faults[] = {"none", "reset", "truncate", "slow", NULL};
  int fault = luaL_checkoption(L, 6, "none", faults);
  double seconds = luaL_optnumber(L, 7, 2.0);
  luaL_argcheck(L, seconds >= 0 && seconds <= 3600, 7, "httpd respond: seconds must be 0..3600");
  Req *r = find_req(s, id);
  if (!r) {
    lua_pushnil(L);
    lua_pushliteral(L, "httpd respond: request is gone (answered already or connection closed)");
    return 2;
  }
  struct MHD_Response *resp = NULL;
  if (fault == 2) {
    Truncated *t = malloc(sizeof *t);
    char *copy = malloc(len ? len : 1);
    if (!t || !copy) { free(t); free(copy); return luaL_error(L, "httpd respond: out of memory"); }
    memcpy(copy, body, len);
    t->data = copy;
    t->cut = len / 2;
    resp = MHD_create_response_from_callback(len, 4096, truncated_reader, t, truncated_free);
    if (!resp) { truncated_free(t); return luaL_error(L, "httpd respond: cannot create response"); }
  } else if (fault == 3) {
    Slow *w = malloc(sizeof *w);
    char *copy = malloc(len ? len : 1);
    if (!w || !copy) { free(w); free(copy); return luaL_error(L, "httpd respond: out of memory"); }
    memcpy(copy, body, len);
    *w = (Slow){.data = copy, .len = len, .start = binding_now(), .seconds = seconds};
    resp = MHD_create_response_from_callback(len, 4096, slow_reader, w, slow_free);
    if (!resp) { slow_free(w); return luaL_error(L, "httpd respond: cannot create response"); }
  } else if (fault == 0) {
    resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!resp) return luaL_error(L, "httpd respond: cannot create response");
  }
  if (resp && !lua_isnoneornil(L, 4)) {
    lua_pushnil(L);
    while (lua_next(L, 4)) {
      if (lua_type(L, -2) == LUA_TSTRING && (lua_type(L, -1) == LUA_TSTRING ||
                                             lua_type(L, -1) == LUA_TNUMBER)) {
        const char *k = lua_tostring(L, -2);
        const char *v = lua_tostring(L, -1);
        if (strcasecmp(k, "content-length") != 0 && !strchr(v, '\n') && !strchr(v, '\r'))
          MHD_add_response_header(resp, k, v);
      }
      lua_pop(L, 1);
    }
  }
  r->resp = resp;
  r->status = (unsigned)status;
  r->reset = fault == 1;
  r->state = REQ_RESPONDED;
  if (r->suspended) {
    r->suspended = 0;
    MHD_resume_connection(r->conn);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* server:port() -> the TCP port the server listens on. Stack: +1. */
static int l_port(lua_State *L) {
  Server *s = checkserver(L, 1);
  lua_pushinteger(L, (lua_Integer)s->port);
  return 1;
}

/* server:stats() -> {served=, rejected=, connections=}. Stack: +1. */
static int l_stats(lua_State *L) {
  Server *s = checkserver(L, 1);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)s->served);
  lua_setfield(L, -2, "served");
  lua_pushinteger(L, (lua_Integer)s->rejected);
  lua_setfield(L, -2, "rejected");
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
  lua_pushinteger(L, info ? (lua_Integer)info->num_connections : 0);
  lua_setfield(L, -2, "connections");
  return 1;
}

/* server:close() -> true. Stops listening and drops open connections; idempotent. Stack: +1. */
static int l_close(lua_State *L) {
  Server *s = luaL_checkudata(L, 1, SERVER_MT);
  server_shutdown(s);
  lua_pushboolean(L, 1);
  return 1;
}

/* tostring(server) -> "introspect.httpd.Server (port N)" or "(closed)". Stack: +1. */
static int l_tostring(lua_State *L) {
  Server *s = luaL_checkudata(L, 1, SERVER_MT);
  if (s->closed) lua_pushliteral(L, "introspect.httpd.Server (closed)");
  else lua_pushfstring(L, "introspect.httpd.Server (port %d)", (int)s->port);
  return 1;
}

/* httpd.now() -> seconds on a monotonic clock (for scheduling delayed responses). Stack: +1. */
static int l_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)binding_now());
  return 1;
}

/* luaopen_introspect_httpd: the module table {new=, now=, mhd_version=}. Stack: +1. */
int luaopen_introspect_httpd(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"wait", l_wait},   {"respond", l_respond}, {"port", l_port},
      {"stats", l_stats}, {"close", l_close},     {NULL, NULL}};
  static const luaL_Reg meta[] = {
      {"__gc", l_close}, {"__close", l_close}, {"__tostring", l_tostring}, {NULL, NULL}};
  if (luaL_newmetatable(L, SERVER_MT)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "new");
  lua_pushcfunction(L, l_now);
  lua_setfield(L, -2, "now");
  lua_pushstring(L, MHD_get_version());
  lua_setfield(L, -2, "mhd_version");
  return 1;
}
