/* introspect.worker: a Lua chunk running in a thread of its own, in a Lua state of its own,
 * fed through two queues of messages (an integer id and two byte strings each). Mechanism only:
 * what the chunk does (for example answer chat requests as the simulated subject, so the
 * subject and the client use both cores) is Lua's.
 *
 *   local w = worker.start(code, arg)      -- code: Lua source, run as code(channel, arg)
 *   w:send(id, a, b)                       -- to the chunk (a, b strings; b optional)
 *   local id, a, b = w:recv()              -- from the chunk: in order of its sends
 *                                          -- nil, "closed" when the chunk has ended (its error,
 *                                          -- if any, in w:error()); nil, "interrupted" on Ctrl-C
 *   w:wakes()                              -- sends that woke the waiting chunk (see Queue)
 *   w:waiting()                            -- whether the chunk waits for a message now
 *   w:close()                              -- the chunk's recv returns nil; joins the thread
 *
 * Inside the chunk: channel:recv() -> id, a, b (blocks; nil once w:close() was called or w was
 * collected) and channel:send(id, a, b). The new state gets the caller's package.path,
 * package.cpath and the C functions of its package.preload (so the host's built-in bindings
 * load there too). SIGINT and SIGTERM stay with the calling thread. No Lua value crosses
 * between the states: only copied bytes. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "lalloc.h"

#include "binding.h"

#define WORKER_TYPE "introspect.worker.handle"
#define CHANNEL_TYPE "introspect.worker.channel"

typedef struct Msg {
  struct Msg *next;
  lua_Integer id;
  size_t alen, blen;
  char *b;      /* NULL: no second string */
  char data[];  /* a, then b */
} Msg;

/* A queue wakes its reader only when the reader waits on it: a push to a queue its reader is
 * still working through costs no system call. */
typedef struct {
  Msg *head, *tail;
  int closed;
  int waiting;          /* a reader went to wait since the last wake (a push clears it) */
  lua_Integer wakes;    /* pushes that woke a waiting reader */
  pthread_cond_t cv;    /* broadcast by a push that finds `waiting` set, and by close */
} Queue;

typedef struct {
  char *name;
  lua_CFunction open;
} Preload;

/* What the two threads share: guarded by mu. Freed by whichever side lets go last. */
typedef struct {
  pthread_mutex_t mu;
  Queue in, out;    /* in: to the chunk; out: from it */
  int refs;
  char *error;      /* the chunk's error message, if it raised */
  char *code, *arg, *path, *cpath;
  size_t code_len, arg_len;
  Preload *preload;
  int npreload;
} Shared;

typedef struct {
  Shared *sh;
  pthread_t thread;
  int running;
} Worker;

typedef struct {
  Shared *sh;
} Channel;

static char *dup_bytes(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static void queue_free(Queue *q) {
  while (q->head) {
    Msg *m = q->head;
    q->head = m->next;
    free(m);
  }
  q->tail = NULL;
}

static void shared_release(Shared *sh) {
  pthread_mutex_lock(&sh->mu);
  int last = --sh->refs == 0;
  pthread_mutex_unlock(&sh->mu);
  if (!last) return;
  queue_free(&sh->in);
  queue_free(&sh->out);
  for (int i = 0; i < sh->npreload; i++) free(sh->preload[i].name);
  free(sh->preload);
  free(sh->error);
  free(sh->code);
  free(sh->arg);
  free(sh->path);
  free(sh->cpath);
  pthread_cond_destroy(&sh->in.cv);
  pthread_cond_destroy(&sh->out.cv);
  pthread_mutex_destroy(&sh->mu);
  free(sh);
}

/* What queue_push did. */
enum { PUSH_NOMEM = -1, PUSH_CLOSED = 0, PUSH_OK = 1 };

/* Appends a message (copies of a and b; b may be NULL) to q, unless q is closed or `gate` (the
 * other side's queue, whose closing means that side is gone; may be NULL) is. */
static int queue_push(Shared *sh, Queue *q, const Queue *gate, lua_Integer id, const char *a, size_t alen,
                      const char *b, size_t blen) {
  Msg *m = malloc(sizeof(Msg) + alen + blen + 2);
  if (!m) return PUSH_NOMEM;
  m->next = NULL;
  m->id = id;
  m->alen = alen;
  m->blen = blen;
  memcpy(m->data, a, alen);
  m->data[alen] = '\0';
  m->b = NULL;
  if (b) {
    m->b = m->data + alen + 1;
    memcpy(m->b, b, blen);
    m->b[blen] = '\0';
  }
  pthread_mutex_lock(&sh->mu);
  if (q->closed || (gate && gate->closed)) {
    pthread_mutex_unlock(&sh->mu);
    free(m);
    return PUSH_CLOSED;
  }
  if (q->tail) q->tail->next = m;
  else q->head = m;
  q->tail = m;
  if (q->waiting) {   /* cleared: pushes before the woken reader runs wake nothing more */
    q->waiting = 0;
    q->wakes++;
    pthread_cond_broadcast(&q->cv);
  }
  pthread_mutex_unlock(&sh->mu);
  return PUSH_OK;
}

/* Pushes the message given as arguments 2..4 (id, a[, b]) of a send method; raises when out
 * of memory. */
static int push_args(lua_State *L, Shared *sh, Queue *q, const Queue *gate) {
  lua_Integer id = luaL_checkinteger(L, 2);
  size_t alen, blen = 0;
  const char *a = luaL_checklstring(L, 3, &alen);
  const char *b = lua_isnoneornil(L, 4) ? NULL : luaL_checklstring(L, 4, &blen);
  int r = queue_push(sh, q, gate, id, a, alen, b, blen);
  if (r == PUSH_NOMEM) return luaL_error(L, "worker: out of memory");
  return r;
}

/* Takes the first message of q, waiting up to `wait` seconds (< 0: forever). Returns it, or
 * NULL with *closed set when q is closed and empty (or, for the chunk's queue, closed at all). */
static Msg *queue_pop(Shared *sh, Queue *q, double wait, int drop_when_closed, int *closed) {
  Msg *m = NULL;
  *closed = 0;
  pthread_mutex_lock(&sh->mu);
  struct timespec until;
  if (wait >= 0) {
    clock_gettime(CLOCK_REALTIME, &until);
    double t = (double)until.tv_sec + (double)until.tv_nsec / 1e9 + wait;
    until.tv_sec = (time_t)t;
    until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
  }
  for (;;) {
    if (q->closed && (drop_when_closed || !q->head)) {
      *closed = 1;
      break;
    }
    if (q->head) {
      m = q->head;
      q->head = m->next;
      if (!q->head) q->tail = NULL;
      break;
    }
    q->waiting = 1;
    if (wait < 0) pthread_cond_wait(&q->cv, &sh->mu);
    else if (pthread_cond_timedwait(&q->cv, &sh->mu, &until) != 0) break;
  }
  pthread_mutex_unlock(&sh->mu);
  return m;
}

static void queue_close(Shared *sh, Queue *q) {
  pthread_mutex_lock(&sh->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->cv);
  pthread_mutex_unlock(&sh->mu);
}

/* Pushes a message's id and strings; returns how many. */
static int push_msg(lua_State *L, Msg *m) {
  lua_pushinteger(L, m->id);
  lua_pushlstring(L, m->data, m->alen);
  if (!m->b) return 2;
  lua_pushlstring(L, m->b, m->blen);
  return 3;
}

/* ---- inside the chunk ---- */

static Channel *check_channel(lua_State *L) { return luaL_checkudata(L, 1, CHANNEL_TYPE); }

/* channel:recv() -> id, a[, b] | nil (the caller closed the worker) */
static int ch_recv(lua_State *L) {
  Channel *c = check_channel(L);
  int closed;
  Msg *m = queue_pop(c->sh, &c->sh->in, -1, 1, &closed);
  if (!m) {
    lua_pushnil(L);
    return 1;
  }
  int n = push_msg(L, m);
  free(m);
  return n;
}

/* channel:send(id, a[, b]) -> true | false (the caller has gone) */
static int ch_send(lua_State *L) {
  Channel *c = check_channel(L);
  lua_pushboolean(L, push_args(L, c->sh, &c->sh->out, NULL) == PUSH_OK);
  return 1;
}

/* Sets package.path/cpath and package.preload of the new state; pushes nothing. */
static void setup_state(lua_State *L, Shared *sh) {
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  if (sh->path) {
    lua_pushstring(L, sh->path);
    lua_setfield(L, -2, "path");
  }
  if (sh->cpath) {
    lua_pushstring(L, sh->cpath);
    lua_setfield(L, -2, "cpath");
  }
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (int i = 0; i < sh->npreload; i++) {
    lua_pushcfunction(L, sh->preload[i].open);
    lua_setfield(L, -2, sh->preload[i].name);
  }
  lua_pop(L, 1);
  static const luaL_Reg methods[] = {{"recv", ch_recv}, {"send", ch_send}, {NULL, NULL}};
  handle_register(L, CHANNEL_TYPE, methods, NULL, NULL);
}

/* Runs code(channel, arg) in a fresh state (protected; the error message is kept). */
static int run_chunk(lua_State *L) {
  Shared *sh = lua_touserdata(L, 1);
  setup_state(L, sh);
  if (luaL_loadbuffer(L, sh->code, sh->code_len, "=worker") != LUA_OK) return lua_error(L);
  Channel *c = lua_newuserdatauv(L, sizeof(Channel), 0);
  c->sh = sh;
  luaL_setmetatable(L, CHANNEL_TYPE);
  lua_pushlstring(L, sh->arg, sh->arg_len);
  lua_call(L, 2, 0);
  return 0;
}

static void *thread_main(void *p) {
  Shared *sh = p;
  lua_State *L = lalloc_newstate();   /* a pool of its own: no locks between threads */
  if (!L) {
    pthread_mutex_lock(&sh->mu);
    sh->error = dup_bytes("worker: cannot create a Lua state", 33);
    pthread_mutex_unlock(&sh->mu);
  } else {
    lalloc_gc_mode(L);
    lua_pushcfunction(L, run_chunk);
    lua_pushlightuserdata(L, sh);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      size_t n;
      const char *msg = lua_tolstring(L, -1, &n);
      pthread_mutex_lock(&sh->mu);
      sh->error = msg ? dup_bytes(msg, n) : dup_bytes("worker: error object is not a string", 36);
      pthread_mutex_unlock(&sh->mu);
    }
    lua_close(L);
  }
  queue_close(sh, &sh->out);
  shared_release(sh);
  return NULL;
}

/* ---- the caller's side ---- */

static Worker *check_worker(lua_State *L) { return luaL_checkudata(L, 1, WORKER_TYPE); }

/* Copies package.path, package.cpath and the C functions of package.preload into sh. */
static int copy_package(lua_State *L, Shared *sh) {
  lua_getglobal(L, "package");
  if (lua_istable(L, -1)) {
    size_t n;
    const char *s;
    lua_getfield(L, -1, "path");
    if ((s = lua_tolstring(L, -1, &n)) && !(sh->path = dup_bytes(s, n))) return 0;
    lua_getfield(L, -2, "cpath");
    if ((s = lua_tolstring(L, -1, &n)) && !(sh->cpath = dup_bytes(s, n))) return 0;
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  int cap = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_CFunction f = lua_tocfunction(L, -1);
    int plain = f && lua_type(L, -2) == LUA_TSTRING;
    if (plain && lua_getupvalue(L, -1, 1) != NULL) {   /* a C closure: its upvalues cannot be copied */
      lua_pop(L, 1);
      plain = 0;
    }
    if (plain) {
      if (sh->npreload == cap) {
        cap = cap ? 2 * cap : 16;
        Preload *p = realloc(sh->preload, (size_t)cap * sizeof(Preload));
        if (!p) {
          lua_pop(L, 3);
          return 0;
        }
        sh->preload = p;
      }
      size_t n;
      const char *name = lua_tolstring(L, -2, &n);
      sh->preload[sh->npreload].name = dup_bytes(name, n);
      sh->preload[sh->npreload].open = f;
      if (!sh->preload[sh->npreload].name) {
        lua_pop(L, 3);
        return 0;
      }
      sh->npreload++;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

/* worker.start(code [, arg]) -> worker | nil, err */
static int l_start(lua_State *L) {
  size_t code_len, arg_len = 0;
  const char *code = luaL_checklstring(L, 1, &code_len);
  const char *arg = luaL_optlstring(L, 2, "", &arg_len);
  Worker *w = lua_newuserdatauv(L, sizeof(Worker), 0);
  w->sh = NULL;
  w->running = 0;
  luaL_setmetatable(L, WORKER_TYPE);
  Shared *sh = calloc(1, sizeof(Shared));
  if (!sh) return luaL_error(L, "worker.start: out of memory");
  pthread_mutex_init(&sh->mu, NULL);
  pthread_cond_init(&sh->in.cv, NULL);
  pthread_cond_init(&sh->out.cv, NULL);
  sh->refs = 1;
  w->sh = sh;   /* from here the handle's __gc frees it */
  sh->code = dup_bytes(code, code_len);
  sh->arg = dup_bytes(arg, arg_len);
  sh->code_len = code_len;
  sh->arg_len = arg_len;
  if (!sh->code || !sh->arg || !copy_package(L, sh)) return luaL_error(L, "worker.start: out of memory");
  /* signals stay with this thread: the new one starts with them blocked */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  sh->refs = 2;
  int rc = pthread_create(&w->thread, NULL, thread_main, sh);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    sh->refs = 1;
    lua_pushnil(L);
    lua_pushstring(L, "worker.start: cannot create a thread");
    return 2;
  }
  w->running = 1;
  return 1;
}

/* w:send(id, a[, b]) -> true | nil, "closed" (the chunk has ended) */
static int w_send(lua_State *L) {
  Worker *w = check_worker(L);
  if (!w->sh || !w->running) return luaL_error(L, "worker: closed");
  if (push_args(L, w->sh, &w->sh->in, &w->sh->out) == PUSH_OK) {   /* the chunk has not ended */
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushliteral(L, "closed");
  return 2;
}

/* w:recv([timeout]) -> id, a[, b] | nil, "closed" | "timeout" | "interrupted" */
static int w_recv(lua_State *L) {
  Worker *w = check_worker(L);
  double timeout = luaL_optnumber(L, 2, -1);
  if (!w->sh) return luaL_error(L, "worker: closed");
  volatile sig_atomic_t *flag = binding_interrupt_flag(L);
  double end = timeout >= 0 ? binding_now() + timeout : 0;
  for (;;) {
    if (flag && *flag) {
      lua_pushnil(L);
      lua_pushliteral(L, "interrupted");
      return 2;
    }
    double wait = 0.1;
    if (timeout >= 0) {
      double left = end - binding_now();
      if (left < wait) wait = left > 0 ? left : 0;
    }
    int closed;
    Msg *m = queue_pop(w->sh, &w->sh->out, wait, 0, &closed);
    if (m) {
      int n = push_msg(L, m);
      free(m);
      return n;
    }
    if (closed) {
      lua_pushnil(L);
      lua_pushliteral(L, "closed");
      return 2;
    }
    if (timeout >= 0 && binding_now() >= end) {
      lua_pushnil(L);
      lua_pushliteral(L, "timeout");
      return 2;
    }
  }
}

/* w:error() -> the chunk's error message, or nil */
static int w_error(lua_State *L) {
  Worker *w = check_worker(L);
  if (!w->sh) return 0;
  pthread_mutex_lock(&w->sh->mu);
  if (w->sh->error) lua_pushstring(L, w->sh->error);
  else lua_pushnil(L);
  pthread_mutex_unlock(&w->sh->mu);
  return 1;
}

/* Reads, under the lock, the chunk's queue's wake count and whether the chunk waits on it;
 * raises when the worker is closed. */
static void chunk_queue_state(lua_State *L, lua_Integer *wakes, int *waiting) {
  Worker *w = check_worker(L);
  if (!w->sh) luaL_error(L, "worker: closed");
  pthread_mutex_lock(&w->sh->mu);
  *wakes = w->sh->in.wakes;
  *waiting = w->sh->in.waiting;
  pthread_mutex_unlock(&w->sh->mu);
}

/* w:wakes() -> how many of the caller's sends woke the chunk from waiting (a system call each;
 * sends to a chunk still working through earlier messages wake nothing) */
static int w_wakes(lua_State *L) {
  lua_Integer wakes;
  int waiting;
  chunk_queue_state(L, &wakes, &waiting);
  lua_pushinteger(L, wakes);
  return 1;
}

/* w:waiting() -> whether the chunk is waiting for a message now (it went to wait on an empty
 * queue and no send has woken it since). */
static int w_waiting(lua_State *L) {
  lua_Integer wakes;
  int waiting;
  chunk_queue_state(L, &wakes, &waiting);
  lua_pushboolean(L, waiting);
  return 1;
}

/* w:close(): the chunk's recv returns nil (queued messages are dropped); waits for the thread.
 * Harmless twice; also __gc and __close. */
static int w_close(lua_State *L) {
  Worker *w = check_worker(L);
  if (w->sh) {
    queue_close(w->sh, &w->sh->in);
    if (w->running) pthread_join(w->thread, NULL);
    w->running = 0;
    queue_close(w->sh, &w->sh->out);
    shared_release(w->sh);
    w->sh = NULL;
  }
  return 0;
}

static int w_tostring(lua_State *L) {
  Worker *w = check_worker(L);
  lua_pushfstring(L, "introspect worker (%s)", w->sh ? "running" : "closed");
  return 1;
}

int luaopen_introspect_worker(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"send", w_send}, {"recv", w_recv}, {"error", w_error}, {"wakes", w_wakes},
    {"waiting", w_waiting},
    {"close", w_close}, {NULL, NULL},
  };
  static const luaL_Reg funcs[] = {{"start", l_start}, {NULL, NULL}};
  handle_register(L, WORKER_TYPE, methods, w_close, w_tostring);
  luaL_newlib(L, funcs);
  return 1;
}
