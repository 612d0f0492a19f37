/*
 * introspect.sqlite: a minimal SQLite binding for the response store.
 *
 * sqlite.open(path [, opts]) -> db; db:exec(sql); db:prepare(sql) -> stmt; stmt:bind(...),
 * stmt:step(), stmt:row(); db:run(sql, ...), db:rows(sql, ...); db:transaction(fn); db:close().
 * sqlite.log(path) -> an append-only file held with an exclusive flock (the store's log of
 * records not yet committed): log:append_row(id, ...) appends one row (an id and its values),
 * log:rows() reads them back. Misuse raises; database and file failures return nil, err.
 *
 * A log row: "IX", the payload's length (u32), then the payload: the id (i64), the number of
 * values (u16), one tag per value ('n' nil, 'i' integer, 'f' float, 's' string, 't' true,
 * 'b' false) and the values (i64, f64 bits, or u32 length and bytes). All little-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <sqlite3.h>

#include "binding.h"

#define DB_MT "introspect.sqlite.Db"
#define STMT_MT "introspect.sqlite.Stmt"
#define LOG_MT "introspect.sqlite.Log"

typedef struct Db {
  sqlite3 *db;
  int closed;
} Db;

typedef struct Stmt {
  sqlite3_stmt *stmt;
  int closed;
} Stmt;

/* An append-only log file: fd < 0 once closed; size is the bytes known written. */
typedef struct Log {
  int fd;
  off_t size;
  char *buf;   /* the row being appended, grown as needed */
  size_t cap;
} Log;

/* ---------------------------------------------------------------------------------------- */
/* Handles.                                                                                   */

/* Returns the open database at index i or raises. */
static Db *checkdb(lua_State *L, int i) {
  Db *d = luaL_checkudata(L, i, DB_MT);
  if (d->closed) luaL_argerror(L, i, "attempt to use a closed database");
  return d;
}

/* Returns the live statement at index i or raises. */
static Stmt *checkstmt(lua_State *L, int i) {
  Stmt *s = luaL_checkudata(L, i, STMT_MT);
  if (s->closed) luaL_argerror(L, i, "attempt to use a finalized statement");
  return s;
}

/* Pushes nil and the database's error message prefixed with `what`; returns 2. */
static int push_dberr(lua_State *L, sqlite3 *db, const char *what) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
  return 2;
}

static const char *const OPEN_OPTIONS[] = {"busy_timeout", "wal", "readonly", "synchronous", NULL};

/* sqlite.open(path [, {busy_timeout=ms, wal=true, readonly=false, synchronous="normal"}])
 * -> db | nil, err. Enables WAL (unless wal=false or readonly) and foreign keys. */
static int l_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int busy = 5000, wal = 1, ro = 0;
  const char *sync = "NORMAL";
  if (!lua_isnoneornil(L, 2)) {
    binding_check_options(L, 2, "sqlite.open", OPEN_OPTIONS);
    if (lua_getfield(L, 2, "busy_timeout") != LUA_TNIL) busy = (int)luaL_checkinteger(L, -1);
    if (lua_getfield(L, 2, "wal") != LUA_TNIL) wal = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "readonly") != LUA_TNIL) ro = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "synchronous") != LUA_TNIL) {
      static const char *const modes[] = {"off", "normal", "full", NULL};
      static const char *const upper[] = {"OFF", "NORMAL", "FULL"};
      sync = upper[luaL_checkoption(L, -1, NULL, modes)];
    }
    lua_pop(L, 4);
  }
  Db *d = lua_newuserdatauv(L, sizeof(Db), 0);
  d->db = NULL;
  d->closed = 1;
  luaL_setmetatable(L, DB_MT);
  int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path, &d->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
    sqlite3_close_v2(d->db);
    d->db = NULL;
    return 2;
  }
  d->closed = 0;
  sqlite3_busy_timeout(d->db, busy);
  char sql[128];
  snprintf(sql, sizeof sql, "PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;%s", sync,
           wal && !ro ? " PRAGMA journal_mode=WAL;" : "");
  char *msg = NULL;
  if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, msg ? msg : "cannot configure");
    sqlite3_free(msg);
    sqlite3_close_v2(d->db);
    d->db = NULL;
    d->closed = 1;
    return 2;
  }
  return 1;
}

/* db:exec(sql) -> true | nil, err. Runs one or more statements without parameters. */
static int l_exec(lua_State *L) {
  Db *d = checkdb(L, 1);
  const char *sql = luaL_checkstring(L, 2);
  char *msg = NULL;
  if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushstring(L, msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* db:prepare(sql) -> stmt | nil, err. The statement keeps the database alive. */
static int l_prepare(lua_State *L) {
  Db *d = checkdb(L, 1);
  size_t len;
  const char *sql = luaL_checklstring(L, 2, &len);
  Stmt *s = lua_newuserdatauv(L, sizeof(Stmt), 1);
  s->stmt = NULL;
  s->closed = 1;
  luaL_setmetatable(L, STMT_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  const char *tail = NULL;
  if (sqlite3_prepare_v2(d->db, sql, (int)len, &s->stmt, &tail) != SQLITE_OK)
    return push_dberr(L, d->db, "prepare");
  if (s->stmt == NULL) return luaL_argerror(L, 2, "no SQL statement");
  s->closed = 0;
  return 1;
}

/* Binds Lua value at index v to parameter i of stmt, strings with destructor `keep`
 * (SQLITE_TRANSIENT: copied; SQLITE_STATIC: the caller keeps them alive until the bindings are
 * cleared); raises on an unsupported type. */
static int bind_value_as(lua_State *L, sqlite3_stmt *st, int i, int v, sqlite3_destructor_type keep) {
  switch (lua_type(L, v)) {
    case LUA_TNIL: case LUA_TNONE: return sqlite3_bind_null(st, i);
    case LUA_TBOOLEAN: return sqlite3_bind_int(st, i, lua_toboolean(L, v));
    case LUA_TNUMBER:
      if (lua_isinteger(L, v)) return sqlite3_bind_int64(st, i, lua_tointeger(L, v));
      return sqlite3_bind_double(st, i, lua_tonumber(L, v));
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, v, &len);
      return sqlite3_bind_text64(st, i, s, len, keep, SQLITE_UTF8);
    }
    default:
      return luaL_argerror(L, v, lua_pushfstring(L, "cannot bind a %s", luaL_typename(L, v)));
  }
}

/* Binds Lua value at index v to parameter i of stmt (strings copied); raises on an unsupported
 * type. */
static int bind_value(lua_State *L, sqlite3_stmt *st, int i, int v) {
  return bind_value_as(L, st, i, v, SQLITE_TRANSIENT);
}

/* Binds the values at stack indices first..last to parameters 1..n (after a reset); or, if
 * first holds a table, binds its named fields (:name, @name, $name). Returns an sqlite code. */
static int bind_all(lua_State *L, sqlite3_stmt *st, int first, int last) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  int np = sqlite3_bind_parameter_count(st);
  if (first == last && lua_istable(L, first)) {
    for (int i = 1; i <= np; i++) {
      const char *name = sqlite3_bind_parameter_name(st, i);
      if (name == NULL) luaL_argerror(L, first, "statement has unnamed parameters");
      lua_getfield(L, first, name + 1);
      int rc = bind_value(L, st, i, lua_gettop(L));
      lua_pop(L, 1);
      if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
  }
  int n = last - first + 1;
  if (n != np)
    return luaL_error(L, "sqlite: statement has %d parameters, %d values given", np, n < 0 ? 0 : n);
  for (int i = 1; i <= n; i++) {
    int rc = bind_value(L, st, i, first + i - 1);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

/* stmt:bind(v1, v2, ... | {name=v}) -> stmt | nil, err. Resets, then binds. */
static int l_bind(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  if (bind_all(L, s->stmt, 2, lua_gettop(L)) != SQLITE_OK)
    return push_dberr(L, sqlite3_db_handle(s->stmt), "bind");
  lua_settop(L, 1);
  return 1;
}

/* Pushes column i of the current row as a Lua value. */
static void push_column(lua_State *L, sqlite3_stmt *st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: lua_pushinteger(L, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
    case SQLITE_NULL: lua_pushnil(L); break;
    default: {
      const void *p = sqlite3_column_blob(st, i);
      lua_pushlstring(L, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
    }
  }
}

/* Pushes the current row as a table {column_name = value}. */
static void push_row(lua_State *L, sqlite3_stmt *st) {
  int n = sqlite3_column_count(st);
  lua_createtable(L, 0, n);
  for (int i = 0; i < n; i++) {
    push_column(L, st, i);
    lua_setfield(L, -2, sqlite3_column_name(st, i));
  }
}

/* stmt:step() -> "row" | "done" | nil, err. */
static int l_step(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  int rc = sqlite3_step(s->stmt);
  if (rc == SQLITE_ROW) lua_pushliteral(L, "row");
  else if (rc == SQLITE_DONE) lua_pushliteral(L, "done");
  else {
    sqlite3_reset(s->stmt);
    return push_dberr(L, sqlite3_db_handle(s->stmt), "step");
  }
  return 1;
}

/* stmt:row() -> table of the current row's columns by name. */
static int l_row(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  push_row(L, s->stmt);
  return 1;
}

/* stmt:columns() -> list of column names. */
static int l_columns(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  int n = sqlite3_column_count(s->stmt);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, sqlite3_column_name(s->stmt, i));
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* stmt:reset() -> stmt. */
static int l_reset(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  sqlite3_reset(s->stmt);
  lua_settop(L, 1);
  return 1;
}

/* stmt:finalize() -> true. Idempotent; also __gc/__close. */
static int l_finalize(lua_State *L) {
  Stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (!s->closed) {
    sqlite3_finalize(s->stmt);
    s->stmt = NULL;
    s->closed = 1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring of a statement. */
static int l_stmt_tostring(lua_State *L) {
  Stmt *s = luaL_checkudata(L, 1, STMT_MT);
  if (s->closed) lua_pushliteral(L, "sqlite statement (finalized)");
  else lua_pushfstring(L, "sqlite statement (%s)", sqlite3_sql(s->stmt));
  return 1;
}

/* Prepares sql and binds the arguments from index `first` on; pushes the statement as a
 * to-be-closed handle (finalized when the calling C function returns or raises) and returns it,
 * or pushes nil, err, sets *nret = 2 and returns NULL. */
static sqlite3_stmt *prepare_bound(lua_State *L, Db *d, int sqlidx, int first, int *nret) {
  size_t len;
  const char *sql = luaL_checklstring(L, sqlidx, &len);
  int last = lua_gettop(L);
  Stmt *s = lua_newuserdatauv(L, sizeof(Stmt), 0);
  s->stmt = NULL;
  s->closed = 1;
  luaL_setmetatable(L, STMT_MT);
  lua_toclose(L, -1);
  if (sqlite3_prepare_v2(d->db, sql, (int)len, &s->stmt, NULL) != SQLITE_OK) {
    *nret = push_dberr(L, d->db, "prepare");
    return NULL;
  }
  if (s->stmt == NULL) luaL_argerror(L, sqlidx, "no SQL statement");
  s->closed = 0;
  if (bind_all(L, s->stmt, first, last) != SQLITE_OK) {
    *nret = push_dberr(L, d->db, "bind");
    return NULL;
  }
  return s->stmt;
}

/* db:run(sql, ...) -> changes, last_insert_rowid | nil, err. One statement, stepped to done. */
static int l_run(lua_State *L) {
  Db *d = checkdb(L, 1);
  int nret = 0;
  sqlite3_stmt *st = prepare_bound(L, d, 2, 3, &nret);
  if (!st) return nret;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) return push_dberr(L, d->db, "run");
  lua_pushinteger(L, sqlite3_changes(d->db));
  lua_pushinteger(L, sqlite3_last_insert_rowid(d->db));
  return 2;
}

/* db:rows(sql, ...) -> list of row tables | nil, err. */
static int l_rows(lua_State *L) {
  Db *d = checkdb(L, 1);
  int nret = 0;
  sqlite3_stmt *st = prepare_bound(L, d, 2, 3, &nret);
  if (!st) return nret;
  lua_newtable(L);
  int rc, k = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    push_row(L, st);
    lua_rawseti(L, -2, ++k);
  }
  if (rc != SQLITE_DONE) return push_dberr(L, d->db, "rows");
  return 1;
}

/* db:transaction(fn, ...) -> fn's results. BEGIN IMMEDIATE; commits if fn returns, rolls back
 * and re-raises if it raises. Returns nil, err if BEGIN or COMMIT fails. */
static int l_transaction(lua_State *L) {
  Db *d = checkdb(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  char *msg = NULL;
  if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "begin: %s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return 2;
  }
  int nargs = lua_gettop(L) - 2;
  if (lua_pcall(L, nargs, LUA_MULTRET, 0) != LUA_OK) {
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    return lua_error(L);
  }
  if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    lua_pushnil(L);
    lua_pushfstring(L, "commit: %s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return 2;
  }
  return lua_gettop(L) - 1;
}

/* db:changes() -> rows changed by the last statement. */
static int l_changes(lua_State *L) {
  lua_pushinteger(L, sqlite3_changes(checkdb(L, 1)->db));
  return 1;
}

/* db:last_insert_rowid() -> rowid of the last successful INSERT on this connection. */
static int l_last_insert_rowid(lua_State *L) {
  lua_pushinteger(L, sqlite3_last_insert_rowid(checkdb(L, 1)->db));
  return 1;
}

/* db:close() -> true. Idempotent; statements still open become unusable once finalized. */
static int l_close(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  if (!d->closed) {
    sqlite3_close_v2(d->db);
    d->db = NULL;
    d->closed = 1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring of a database. */
static int l_db_tostring(lua_State *L) {
  Db *d = luaL_checkudata(L, 1, DB_MT);
  if (d->closed) lua_pushliteral(L, "sqlite database (closed)");
  else {
    const char *f = sqlite3_db_filename(d->db, "main");
    lua_pushfstring(L, "sqlite database (%s)", f && *f ? f : ":memory:");
  }
  return 1;
}


/* ---------------------------------------------------------------------------------------- */
/* Append-only logs.                                                                          */

/* Pushes nil and "path: strerror(err)"; returns 2. */
static int push_errno(lua_State *L, const char *path, int err) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", path, strerror(err));
  return 2;
}

/* Returns the open log at index i or raises. */
static Log *checklog_at(lua_State *L, int i) {
  Log *g = luaL_checkudata(L, i, LOG_MT);
  if (g->fd < 0) luaL_argerror(L, i, "attempt to use a closed log");
  return g;
}

/* Returns the open log at index 1 or raises. */
static Log *checklog(lua_State *L) { return checklog_at(L, 1); }

/* sqlite.log(path) -> log | nil, err [, true]. Opens (creating) path for appending and takes an
 * exclusive flock without waiting; the third result is true when another process holds it.
 * The lock is on the file the path names when this returns (a file unlinked meanwhile is
 * reopened), so two processes never both append to one log. */
static int l_log(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  Log *g = lua_newuserdatauv(L, sizeof(Log), 1);
  g->fd = -1;
  g->size = 0;
  g->buf = NULL;
  g->cap = 0;
  luaL_setmetatable(L, LOG_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  for (int tries = 0; tries < 8; tries++) {
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return push_errno(L, path, errno);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      close(fd);
      if (err != EWOULDBLOCK) return push_errno(L, path, err);
      lua_pushnil(L);
      lua_pushfstring(L, "%s: held by another process", path);
      lua_pushboolean(L, 1);
      return 3;
    }
    struct stat held, named;
    if (fstat(fd, &held) != 0) {
      int err = errno;
      close(fd);
      return push_errno(L, path, err);
    }
    if (stat(path, &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev) {
      g->fd = fd;
      g->size = held.st_size;
      return 1;
    }
    close(fd);   /* unlinked by its last holder after we opened it: open the new file */
  }
  return push_errno(L, path, EAGAIN);
}

/* Writes len bytes at the end; on a failure (a full disk) cuts the file back to its size before
 * the call, so it never ends with part of them. Pushes true or nil, err; returns the count. */
static int log_write(lua_State *L, Log *g, const char *s, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(g->fd, s + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      if (ftruncate(g->fd, g->size) != 0) { /* a reader drops a cut-short last row anyway */ }
      lua_pushnil(L);
      lua_pushstring(L, strerror(err));
      return 2;
    }
    done += (size_t)n;
  }
  g->size += (off_t)len;
  lua_pushboolean(L, 1);
  return 1;
}

/* log:append(s) -> true | nil, err. Appends the bytes of s (all or nothing, as log_write). */
static int l_log_append(lua_State *L) {
  Log *g = checklog(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  return log_write(L, g, s, len);
}

/* Stores v little-endian in n bytes at p. */
static void put_le(char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (char)(v >> (8 * i));
}

/* Reads n little-endian bytes at p. */
static uint64_t get_le(const char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)(unsigned char)p[i] << (8 * i);
  return v;
}

#define ROW_HEADER 6   /* "IX" and the payload length */

/* Appends one row (see the top): id and the n values at stack indices first.. (nil, integers,
 * floats, strings, booleans; others raise), with one write(2): all of it or, on a failure,
 * nothing. Pushes true or nil, err; returns the count. */
static int log_append_values(lua_State *L, Log *g, lua_Integer id, int first, int n) {
  luaL_argcheck(L, n <= 0xFFFF, first, "too many values");
  size_t size = ROW_HEADER + 8 + 2 + (size_t)n;
  for (int i = first; i < first + n; i++) {
    switch (lua_type(L, i)) {
      case LUA_TNIL: case LUA_TBOOLEAN: break;
      case LUA_TNUMBER: size += 8; break;
      case LUA_TSTRING: {
        size_t len;
        lua_tolstring(L, i, &len);
        luaL_argcheck(L, len <= 0xFFFFFFFFu, i, "string too long");
        size += 4 + len;
        break;
      }
      default: return luaL_argerror(L, i, lua_pushfstring(L, "cannot log a %s", luaL_typename(L, i)));
    }
  }
  luaL_argcheck(L, size - ROW_HEADER <= 0xFFFFFFFFu, 2, "row too long");
  if (size > g->cap) {
    char *p = realloc(g->buf, size);
    if (!p) return luaL_error(L, "sqlite.log: out of memory");
    g->buf = p;
    g->cap = size;
  }
  char *b = g->buf, *tags = b + ROW_HEADER + 10, *v = tags + n;
  memcpy(b, "IX", 2);
  put_le(b + 2, size - ROW_HEADER, 4);
  put_le(b + ROW_HEADER, (uint64_t)id, 8);
  put_le(b + ROW_HEADER + 8, (uint64_t)n, 2);
  for (int i = 0; i < n; i++) {
    int k = first + i;
    switch (lua_type(L, k)) {
      case LUA_TNIL: tags[i] = 'n'; break;
      case LUA_TBOOLEAN: tags[i] = lua_toboolean(L, k) ? 't' : 'b'; break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, k)) {
          tags[i] = 'i';
          put_le(v, (uint64_t)lua_tointeger(L, k), 8);
        } else {
          double d = lua_tonumber(L, k);
          uint64_t bits;
          memcpy(&bits, &d, 8);
          tags[i] = 'f';
          put_le(v, bits, 8);
        }
        v += 8;
        break;
      default: {
        size_t len;
        const char *s = lua_tolstring(L, k, &len);
        tags[i] = 's';
        put_le(v, len, 4);
        memcpy(v + 4, s, len);
        v += 4 + len;
      }
    }
  }
  return log_write(L, g, b, size);
}

/* log:append_row(id, v1, ..., vn) -> true | nil, err. Appends one row (see the top) with one
 * write(2): all of it or, on a failure, nothing. Values: nil, integers, floats, strings,
 * booleans. */
static int l_log_append_row(lua_State *L) {
  Log *g = checklog(L);
  lua_Integer id = luaL_checkinteger(L, 2);
  return log_append_values(L, g, id, 3, lua_gettop(L) - 2);
}

/* Pushes the whole file's content and returns 1, or pushes nil, err and returns 2. */
static int push_content(lua_State *L, Log *g, const char *path) {
  struct stat st;
  if (fstat(g->fd, &st) != 0) return push_errno(L, path, errno);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, (size_t)st.st_size);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = pread(g->fd, out + got, (size_t)st.st_size - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return push_errno(L, path, errno);
    if (n == 0) break;
    got += (size_t)n;
  }
  luaL_pushresultsize(&b, got);
  return 1;
}

/* log:read() -> the whole file's content | nil, err. */
static int l_log_read(lua_State *L) {
  Log *g = checklog(L);
  lua_getiuservalue(L, 1, 1);
  return push_content(L, g, lua_tostring(L, -1));
}

/* Pushes the payload at p (len bytes) as {id=, n=, values={...}}; returns 0 if malformed. */
static int push_row_payload(lua_State *L, const char *p, size_t len) {
  if (len < 10) return 0;
  size_t n = (size_t)get_le(p + 8, 2);
  if (len < 10 + n) return 0;
  const char *tags = p + 10, *v = tags + n, *end = p + len;
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)get_le(p, 8));
  lua_setfield(L, -2, "id");
  lua_pushinteger(L, (lua_Integer)n);
  lua_setfield(L, -2, "n");
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    switch (tags[i]) {
      case 'n': continue;
      case 't': case 'b': lua_pushboolean(L, tags[i] == 't'); break;
      case 'i': case 'f': {
        if (end - v < 8) { lua_pop(L, 2); return 0; }
        uint64_t bits = get_le(v, 8);
        v += 8;
        if (tags[i] == 'i') lua_pushinteger(L, (lua_Integer)bits);
        else {
          double d;
          memcpy(&d, &bits, 8);
          lua_pushnumber(L, d);
        }
        break;
      }
      case 's': {
        if (end - v < 4) { lua_pop(L, 2); return 0; }
        size_t sl = (size_t)get_le(v, 4);
        if ((size_t)(end - v - 4) < sl) { lua_pop(L, 2); return 0; }
        lua_pushlstring(L, v + 4, sl);
        v += 4 + sl;
        break;
      }
      default: lua_pop(L, 2); return 0;
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  if (v != end) { lua_pop(L, 2); return 0; }
  lua_setfield(L, -2, "values");
  return 1;
}

/* log:rows() -> list of {id=, n=, values=} | nil, err. A last row cut short (a write cut by a
 * crash or power loss: never reported written) is left out; any other unreadable row is an
 * error naming the log's path and the row's byte offset. */
static int l_log_rows(lua_State *L) {
  Log *g = checklog(L);
  lua_getiuservalue(L, 1, 1);
  const char *path = lua_tostring(L, -1);
  if (push_content(L, g, path) != 1) return 2;
  size_t got;
  const char *text = lua_tolstring(L, -1, &got);
  lua_newtable(L);
  size_t pos = 0;
  lua_Integer k = 0;
  while (got - pos >= ROW_HEADER) {
    size_t len = (size_t)get_le(text + pos + 2, 4);
    if (memcmp(text + pos, "IX", 2) != 0) break;
    if (got - pos - ROW_HEADER < len) { pos = got; break; }   /* cut short: the last row */
    if (!push_row_payload(L, text + pos + ROW_HEADER, len)) break;
    lua_rawseti(L, -2, ++k);
    pos += ROW_HEADER + len;
  }
  if (pos < got && got - pos >= ROW_HEADER) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: row at byte %d is unreadable", path, (int)pos);
    return 2;
  }
  return 1;
}

/* log:truncate() -> true | nil, err. Empties the file. */
static int l_log_truncate(lua_State *L) {
  Log *g = checklog(L);
  if (ftruncate(g->fd, 0) != 0) return push_errno(L, "log", errno);
  g->size = 0;
  lua_pushboolean(L, 1);
  return 1;
}

/* log:size() -> bytes appended and not truncated. */
static int l_log_size(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)checklog(L)->size);
  return 1;
}

/* Closes the log's file (releasing its lock) once. */
static void log_close(Log *g) {
  if (g->fd >= 0) {
    flock(g->fd, LOCK_UN);
    close(g->fd);
    g->fd = -1;
  }
  free(g->buf);
  g->buf = NULL;
  g->cap = 0;
}

/* log:close() -> true. Idempotent; also __gc/__close. The file stays. */
static int l_log_close(lua_State *L) {
  log_close(luaL_checkudata(L, 1, LOG_MT));
  lua_pushboolean(L, 1);
  return 1;
}

/* log:finish() -> true. Closes the log, first removing its file (still locked) if empty. */
static int l_log_finish(lua_State *L) {
  Log *g = luaL_checkudata(L, 1, LOG_MT);
  if (g->fd >= 0 && g->size == 0 && lua_getiuservalue(L, 1, 1) == LUA_TSTRING)
    unlink(lua_tostring(L, -1));
  log_close(g);
  lua_pushboolean(L, 1);
  return 1;
}

/* __tostring of a log. */
static int l_log_tostring(lua_State *L) {
  Log *g = luaL_checkudata(L, 1, LOG_MT);
  if (g->fd < 0) lua_pushliteral(L, "sqlite log (closed)");
  else lua_pushfstring(L, "sqlite log (%d bytes)", (int)g->size);
  return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* A logged insert: the response store's per-record write in one call.                         */

/* stmt:insert(values, n [, log]) -> rowid, changes | nil, err [, "log"]. Binds NULL (a new row
 * id) and values[1..n] (nil, integers, floats, strings, booleans; others raise before anything
 * is bound) to the statement's n + 1 parameters, steps it to done and resets it; strings are
 * bound without a copy and the bindings cleared before returning. rowid and changes are
 * db:last_insert_rowid() and db:changes(). When a row was inserted and log is given, appends it
 * (its id and the values, as log:append_row) before returning: if that append fails, returns
 * nil, err, "log" with the row inserted in the open transaction. A failed bind or step returns
 * nil, "bind: ..." or "step: ...". */
static int l_insert(lua_State *L) {
  Stmt *s = checkstmt(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer n = luaL_checkinteger(L, 3);
  Log *g = lua_isnoneornil(L, 4) ? NULL : checklog_at(L, 4);
  sqlite3_stmt *st = s->stmt;
  sqlite3 *db = sqlite3_db_handle(st);
  int np = sqlite3_bind_parameter_count(st);
  if (n < 0 || n + 1 != np)
    return luaL_error(L, "sqlite: statement has %d parameters, %d values given", np, (int)n + 1);
  lua_settop(L, 4);
  luaL_checkstack(L, (int)n, "too many values");
  const int first = 5;
  for (int i = 1; i <= n; i++) {
    int t = lua_rawgeti(L, 2, i);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER && t != LUA_TSTRING)
      return luaL_error(L, "sqlite: insert: value %d: cannot bind a %s", i, lua_typename(L, t));
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  int rc = SQLITE_OK;
  for (int i = 1; i <= n && rc == SQLITE_OK; i++)
    rc = bind_value_as(L, st, i + 1, first + i - 1, SQLITE_STATIC);
  const char *stage = "bind";
  if (rc == SQLITE_OK) {
    stage = "step";
    rc = sqlite3_step(st);
  }
  if (rc != SQLITE_DONE) {
    lua_pushnil(L);
    if (rc == SQLITE_ROW) lua_pushliteral(L, "step: the statement returns rows");
    else lua_pushfstring(L, "%s: %s", stage, sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return 2;
  }
  lua_Integer rowid = sqlite3_last_insert_rowid(db);
  int changes = sqlite3_changes(db);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (g && changes > 0 && log_append_values(L, g, rowid, first, (int)n) != 1) {
    lua_pushliteral(L, "log");
    return 3;
  }
  lua_pushinteger(L, rowid);
  lua_pushinteger(L, changes);
  return 2;
}

static const luaL_Reg db_methods[] = {
  {"exec", l_exec}, {"prepare", l_prepare}, {"run", l_run}, {"rows", l_rows},
  {"transaction", l_transaction}, {"changes", l_changes},
  {"last_insert_rowid", l_last_insert_rowid}, {"close", l_close}, {NULL, NULL}};

static const luaL_Reg stmt_methods[] = {
  {"bind", l_bind}, {"step", l_step}, {"row", l_row}, {"columns", l_columns},
  {"reset", l_reset}, {"finalize", l_finalize}, {"insert", l_insert}, {NULL, NULL}};

static const luaL_Reg log_methods[] = {
  {"append", l_log_append}, {"append_row", l_log_append_row}, {"rows", l_log_rows},
  {"read", l_log_read}, {"truncate", l_log_truncate},
  {"size", l_log_size}, {"close", l_log_close}, {"finish", l_log_finish}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"open", l_open}, {"log", l_log}, {NULL, NULL}};

/* Opens the module; pushes its table (with .version = SQLite's version). */
int luaopen_introspect_sqlite(lua_State *L) {
  handle_register(L, DB_MT, db_methods, l_close, l_db_tostring);
  handle_register(L, STMT_MT, stmt_methods, l_finalize, l_stmt_tostring);
  handle_register(L, LOG_MT, log_methods, l_log_close, l_log_tostring);
  luaL_newlib(L, funcs);
  lua_pushstring(L, sqlite3_libversion());
  lua_setfield(L, -2, "version");
  return 1;
}
