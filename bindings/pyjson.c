/* introspect.pyjson: the encoder behind scripts/introspect/core/pyjson.lua, in C. Lua keeps
 * the API, the option checks and the codecs; pyjson.encoder(types, opts) returns the encode
 * function of one checked option set, and pyjson.string(s) quotes one string (ensure_ascii).
 * The text is byte for byte what the Lua encoder (tests/lib/pyjson_reference.lua) writes, and
 * bad input raises the same messages. Everything an encoder needs (the marker metatables, the
 * two nulls, the separators, the flags and its reusable output buffer) lives in its upvalues. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "pyrepr.h"

#define SCRATCH_MT "introspect.pyjson.scratch"
#define MAX_DEPTH 100     /* a table deeper than this raises, as in the Lua encoder */
#define STACK_KEYS 1000   /* maps with at most this many keys keep them on the Lua stack */
#define KEEP_BYTES (1u << 22) /* a cached buffer larger than this is freed after the call */

/* The upvalues of an encode function. */
enum { UP_SCRATCH = 1, UP_OBJECT, UP_ARRAY, UP_CJSON_ARRAY, UP_NULL, UP_CJSON_NULL, UP_ITEM,
       UP_KEY, UP_INDENT, UP_FLAGS, UP_COUNT = UP_FLAGS };
enum { F_ASCII = 1, F_INTEGRAL = 2, F_ALLOW_NAN = 4, F_EMPTY_OBJECT = 8 };
enum { KIND_PLAIN, KIND_OBJECT, KIND_ARRAY };

/* One key of a map being written: its text (anchored on the stack or in a scratch table),
 * where its value is kept, and whether it was an integer key. */
typedef struct {
  const char *s;
  size_t len, slot;
  int from_int;
} Key;

/* Output bytes and the map keys of every open map (a stack: nested maps push above). */
typedef struct {
  char *buf;
  size_t len, cap;
  Key *keys;
  size_t nkeys, keycap;
  int busy;
} Scratch;

/* One encode call. */
typedef struct {
  lua_State *L;
  Scratch *s;
  unsigned flags;
  const char *item, *key, *indent;
  size_t item_len, key_len, indent_len;
} Enc;

/* Raises msg (no position prefix, as error(msg, 0)). */
static void fail(lua_State *L, const char *msg) {
  lua_pushstring(L, msg);
  lua_error(L);
}

/* Frees the scratch's memory (its __gc). */
static int scratch_gc(lua_State *L) {
  Scratch *s = luaL_checkudata(L, 1, SCRATCH_MT);
  free(s->buf);
  free(s->keys);
  memset(s, 0, sizeof *s);
  return 0;
}

/* Ends a call on the cached scratch (its __close, also on error): frees a large buffer. */
static int scratch_close(lua_State *L) {
  Scratch *s = luaL_checkudata(L, 1, SCRATCH_MT);
  s->busy = 0;
  if (s->cap > KEEP_BYTES) {
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
  }
  return 0;
}

/* Pushes a new empty scratch. */
static Scratch *scratch_new(lua_State *L) {
  Scratch *s = lua_newuserdatauv(L, sizeof(Scratch), 0);
  memset(s, 0, sizeof *s);
  if (luaL_newmetatable(L, SCRATCH_MT)) {
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, scratch_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  return s;
}

/* Makes room for n more output bytes; returns where they go. Raises on overflow/no memory. */
static char *reserve(Enc *e, size_t n) {
  Scratch *s = e->s;
  if (s->cap - s->len >= n) return s->buf + s->len;
  if (n > SIZE_MAX / 2 - s->len) fail(e->L, "not enough memory");
  size_t cap = s->cap ? s->cap : 256;
  while (cap - s->len < n) cap *= 2;
  char *p = realloc(s->buf, cap);
  if (!p) fail(e->L, "not enough memory");
  s->buf = p;
  s->cap = cap;
  return p + s->len;
}

/* Appends n bytes. */
static void put(Enc *e, const char *p, size_t n) {
  memcpy(reserve(e, n), p, n);
  e->s->len += n;
}

/* Appends one byte. */
static void put_char(Enc *e, char c) {
  *reserve(e, 1) = c;
  e->s->len++;
}

/* Appends "\n" and `depth` indents. */
static void put_newline(Enc *e, int depth) {
  if (e->indent_len > (SIZE_MAX / 2) / (MAX_DEPTH + 2)) fail(e->L, "not enough memory");
  char *o = reserve(e, 1 + (size_t)depth * e->indent_len);
  *o++ = '\n';
  for (int i = 0; i < depth; i++, o += e->indent_len) memcpy(o, e->indent, e->indent_len);
  e->s->len = (size_t)(o - e->s->buf);
}

/* Bytes below 0x80 that JSON text escapes (as cjson and Python do, and DEL): their escape. */
static const char *ascii_escape(unsigned c) {
  static const char *const ctl[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f" };
  if (c < 32) return ctl[c];
  if (c == '"') return "\\\"";
  if (c == '\\') return "\\\\";
  if (c == 127) return "\\u007f";
  return NULL;
}

/* Decodes one UTF-8 sequence at p (< end) as Lua's strict utf8 functions do (no overlong
 * forms, surrogates or code points above U+10FFFF); returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *p, const unsigned char *end, unsigned long *cp) {
  unsigned c = p[0];
  size_t n;
  unsigned long v, min;
  if (c < 0xC0) return 0;
  if (c < 0xE0) { n = 2; v = c & 0x1F; min = 0x80; }
  else if (c < 0xF0) { n = 3; v = c & 0x0F; min = 0x800; }
  else if (c < 0xF8) { n = 4; v = c & 0x07; min = 0x10000; }
  else return 0;
  if ((size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

/* Writes \uXXXX (lowercase hex) for a code unit. */
static char *put_u16(char *o, unsigned long u) {
  static const char hex[] = "0123456789abcdef";
  o[0] = '\\'; o[1] = 'u';
  o[2] = hex[(u >> 12) & 15]; o[3] = hex[(u >> 8) & 15]; o[4] = hex[(u >> 4) & 15]; o[5] = hex[u & 15];
  return o + 6;
}

/* Whether all 8 bytes at p are printable ASCII other than '"' and '\\' (the bytes quote()
 * copies as they are). Each test below is exact when it says no: a byte below 0x20, with the
 * high bit, or equal to '"', '\\' or DEL sets the high bit of its lane; a yes may be a false
 * alarm, and the bytes are then looked at one by one. */
static int plain8(const unsigned char *p) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t v;
  memcpy(&v, p, 8);
  uint64_t below = (v - 0x20 * ones) & ~v;                       /* bytes < 0x20 */
  uint64_t quote_ = ((v ^ 0x22 * ones) - ones) & ~(v ^ 0x22 * ones);
  uint64_t slash = ((v ^ 0x5C * ones) - ones) & ~(v ^ 0x5C * ones);
  uint64_t del = ((v ^ 0x7F * ones) - ones) & ~(v ^ 0x7F * ones);
  return ((below | quote_ | slash | del | v) & highs) == 0;
}

/* Writes the quoted JSON string of s[0..len) at o (room for 6 * len + 2 bytes); with ascii,
 * non-ASCII as \uXXXX (surrogate pairs above U+FFFF). Returns the end, or NULL with *bad the
 * 1-based byte where an invalid UTF-8 sequence starts (ascii only). */
static char *quote(char *o, const char *str, size_t len, int ascii, size_t *bad) {
  const unsigned char *p = (const unsigned char *)str, *end = p + len;
  *o++ = '"';
  while (p < end) {
    /* a run of bytes written as they are: printable ASCII but '"' and '\\' (8 at a time) */
    const unsigned char *run = p;
    while (end - p >= 8 && plain8(p)) p += 8;
    while (p < end && *p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\') p++;
    if (p > run) {
      memcpy(o, run, (size_t)(p - run));
      o += p - run;
      if (p == end) break;
    }
    unsigned c = *p;
    if (c >= 0x80) {
      if (!ascii) { *o++ = (char)c; p++; continue; }
      unsigned long cp;
      size_t n = utf8_decode(p, end, &cp);
      if (n == 0) { *bad = (size_t)(p - (const unsigned char *)str) + 1; return NULL; }
      if (cp < 0x10000) o = put_u16(o, cp);
      else {
        cp -= 0x10000;
        o = put_u16(put_u16(o, 0xD800 + (cp >> 10)), 0xDC00 + (cp & 0x3FF));
      }
      p += n;
      continue;
    }
    const char *esc = ascii_escape(c);
    if (!esc) { *o++ = (char)c; p++; continue; }
    size_t n = strlen(esc);
    memcpy(o, esc, n);
    o += n;
    p++;
  }
  *o++ = '"';
  return o;
}

/* Raises the invalid UTF-8 error for byte `bad`. */
static void fail_utf8(lua_State *L, size_t bad) {
  lua_pushfstring(L, "pyjson: invalid UTF-8 in string at byte %I", (lua_Integer)bad);
  lua_error(L);
}

/* Appends s[0..len) as a JSON string. */
static void put_string(Enc *e, const char *str, size_t len) {
  if (len > (SIZE_MAX / 2 - 2) / 6) fail(e->L, "not enough memory");
  size_t bad = 0;
  char *o = quote(reserve(e, 6 * len + 2), str, len, e->flags & F_ASCII, &bad);
  if (!o) fail_utf8(e->L, bad);
  e->s->len = (size_t)(o - e->s->buf);
}

/* Appends an integer in decimal. */
static void put_integer(Enc *e, lua_Integer i) {
  char tmp[24], *q = tmp + sizeof tmp;
  unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
  do { *--q = (char)('0' + u % 10); u /= 10; } while (u);
  if (i < 0) *--q = '-';
  put(e, q, (size_t)(tmp + sizeof tmp - q));
}

/* Appends the number at idx: integers as integers, floats as Python's repr (or as integers
 * when integral and |v| < 1e15), non-finite as NaN/Infinity (or raises without allow_nan). */
static void put_number(Enc *e, int idx) {
  lua_State *L = e->L;
  if (lua_isinteger(L, idx)) { put_integer(e, lua_tointeger(L, idx)); return; }
  double v = lua_tonumber(L, idx);
  if (isnan(v) || isinf(v)) {
    if (!(e->flags & F_ALLOW_NAN)) fail(L, "pyjson.encode: cannot encode a non-finite number");
    const char *t = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    put(e, t, strlen(t));
    return;
  }
  if ((e->flags & F_INTEGRAL) && v == floor(v) && v > -1e15 && v < 1e15) {
    put_integer(e, (lua_Integer)v);
    return;
  }
  char *o = reserve(e, 40);
  e->s->len += (size_t)py_repr(v, o);
}

static void put_value(Enc *e, int idx, int depth);

/* The length of the table at t (# with __len), which must be an integer. */
static lua_Integer length(lua_State *L, int t) {
  lua_len(L, t);
  int ok;
  lua_Integer n = lua_tointegerx(L, -1, &ok);
  if (!ok) fail(L, "pyjson.encode: the length of a table is not an integer");
  lua_pop(L, 1);
  return n;
}

/* What getmetatable(t) says t is (__metatable honoured); *foreign is set when t has a
 * metatable that is none of the encoder's markers (so __pairs may apply). */
static int table_kind(lua_State *L, int t, int *foreign) {
  *foreign = 0;
  if (!lua_getmetatable(L, t)) return KIND_PLAIN;
  int kind = KIND_PLAIN;
  for (int pass = 0; pass < 2; pass++) {
    if (lua_rawequal(L, -1, lua_upvalueindex(UP_OBJECT))) kind = KIND_OBJECT;
    else if (lua_rawequal(L, -1, lua_upvalueindex(UP_ARRAY)) ||
             lua_rawequal(L, -1, lua_upvalueindex(UP_CJSON_ARRAY))) kind = KIND_ARRAY;
    if (kind != KIND_PLAIN || pass == 1) break;
    *foreign = 1;
    lua_pushliteral(L, "__metatable");
    if (lua_rawget(L, -2) == LUA_TNIL) { lua_pop(L, 1); break; }
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return kind;
}

/* pairs(t), as Lua's pairs does it: with __pairs (foreign metatables only) pushes its function,
 * state and control and returns 1; else pushes nil (the first key for lua_next), returns 0. */
static int iter_start(lua_State *L, int t, int foreign) {
  if (foreign && luaL_getmetafield(L, t, "__pairs") != LUA_TNIL) {
    lua_pushvalue(L, t);
    lua_call(L, 1, 3);
    return 1;
  }
  lua_pushnil(L);
  return 0;
}

/* With the previous key on top, pushes the next key and value (the key replaces the previous
 * one) and returns 1; at the end pops the key (and a __pairs function and state), returns 0. */
static int iter_next(lua_State *L, int t, int custom) {
  if (!custom) return lua_next(L, t);
  int c = lua_gettop(L);
  lua_pushvalue(L, c - 2);
  lua_pushvalue(L, c - 1);
  lua_pushvalue(L, c);
  lua_call(L, 2, 2);
  lua_remove(L, c);
  if (lua_isnil(L, -2)) {
    lua_pop(L, 4);
    return 0;
  }
  return 1;
}

/* The number of pairs(t). */
static lua_Integer count_pairs(lua_State *L, int t, int foreign) {
  int custom = iter_start(L, t, foreign);
  lua_Integer count = 0;
  while (iter_next(L, t, custom)) {
    lua_pop(L, 1);
    count++;
  }
  return count;
}

/* Pushes the key (a string) and the value of member j of the object being written. */
typedef void (*PushPair)(Enc *e, void *ctx, size_t j);

/* Appends "{" m members "}" (each from push_pair), one per line under indent. */
static void put_members(Enc *e, size_t m, int depth, PushPair push_pair, void *ctx) {
  lua_State *L = e->L;
  put_char(e, '{');
  for (size_t j = 0; j < m; j++) {
    if (j > 0) {
      if (e->indent) put_char(e, ',');
      else put(e, e->item, e->item_len);
    }
    if (e->indent) put_newline(e, depth + 1);
    push_pair(e, ctx, j);
    size_t len;
    const char *k = lua_tolstring(L, -2, &len);
    put_string(e, k, len);
    put(e, e->key, e->key_len);
    put_value(e, lua_gettop(L), depth + 1);
    lua_pop(L, 2);
  }
  if (e->indent && m > 0) put_newline(e, depth);
  put_char(e, '}');
}

/* Pushes pair j of an ordered object's list (at *ctx); raises if its key is not a string
 * (a value's metamethod could have changed the list since the keys were checked). */
static void object_pair(Enc *e, void *ctx, size_t j) {
  int list = *(int *)ctx;
  if (lua_geti(e->L, list, (lua_Integer)(2 * j + 1)) != LUA_TSTRING)
    fail(e->L, "pyjson.encode: object keys must be strings");
  lua_geti(e->L, list, (lua_Integer)(2 * j + 2));
}

/* An ordered object ({pairs = {k1, v1, ...}}): every key checked first, then written in order. */
static void put_object(Enc *e, int t, int depth) {
  lua_State *L = e->L;
  lua_getfield(L, t, "pairs");
  int list = lua_gettop(L);
  lua_Integer n = length(L, list);
  for (lua_Integer i = 1; i <= n; i += 2) {
    if (lua_geti(L, list, i) != LUA_TSTRING) fail(L, "pyjson.encode: object keys must be strings");
    lua_pop(L, 1);
  }
  put_members(e, n > 0 ? (size_t)((n + 1) / 2) : 0, depth, object_pair, &list);
  lua_pop(L, 1);
}

/* Makes room for one more key on the key stack. */
static Key *push_key(Enc *e) {
  Scratch *s = e->s;
  if (s->nkeys == s->keycap) {
    size_t cap = s->keycap ? 2 * s->keycap : 64;
    if (cap > SIZE_MAX / sizeof(Key)) fail(e->L, "not enough memory");
    Key *k = realloc(s->keys, cap * sizeof(Key));
    if (!k) fail(e->L, "not enough memory");
    s->keys = k;
    s->keycap = cap;
  }
  return &s->keys[s->nkeys++];
}

/* Orders keys as Lua's < orders strings in the C locale: bytes, then length. */
static int key_cmp(const void *a, const void *b) {
  const Key *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Where a map's keys and values are kept while it is written: pairs on the stack from `base`
 * (key slot*2, value slot*2+1), or in the table at `tab` (key 2*slot+1, value 2*slot+2). */
typedef struct {
  int t, foreign, base, tab;
  size_t first;
} MapCtx;

/* Pushes the key and value of the map's j-th key in sorted order; a foreign table's string
 * keys are looked up again (t[k], honouring __index) as the Lua encoder does. */
static void map_pair(Enc *e, void *ctx, size_t j) {
  lua_State *L = e->L;
  MapCtx *c = ctx;
  Key *k = &e->s->keys[c->first + j];
  int from_int = k->from_int;
  size_t slot = k->slot;
  if (c->tab) {
    lua_rawgeti(L, c->tab, (lua_Integer)(2 * slot + 1));
    lua_rawgeti(L, c->tab, (lua_Integer)(2 * slot + 2));
  } else {
    lua_pushvalue(L, c->base + (int)(2 * slot));
    lua_pushvalue(L, c->base + (int)(2 * slot) + 1);
  }
  if (c->foreign && !from_int) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_gettable(L, c->t);
  }
}

/* A map: string keys and integer keys (written as decimal strings, refused if the string is
 * also a key), sorted. Raises on any other key. */
static void put_map(Enc *e, int t, int depth, int foreign, lua_Integer count) {
  lua_State *L = e->L;
  MapCtx c = { t, foreign, 0, 0, e->s->nkeys };
  if (foreign || count > STACK_KEYS || !lua_checkstack(L, (int)(2 * count) + LUA_MINSTACK)) {
    lua_createtable(L, (int)(count < STACK_KEYS ? 2 * count : 2 * STACK_KEYS), 0);
    c.tab = lua_gettop(L);
  }
  c.base = lua_gettop(L) + 1;
  int custom = iter_start(L, t, foreign);
  size_t slot = 0;
  while (iter_next(L, t, custom)) {
    int from_int = lua_type(L, -2) != LUA_TSTRING;
    if (from_int) {
      if (!lua_isinteger(L, -2)) fail(L, "pyjson.encode: table keys must be strings or integers");
      const char *name = lua_pushfstring(L, "%I", (lua_Integer)lua_tointeger(L, -2));
      if (lua_getfield(L, t, name) != LUA_TNIL) {
        lua_pushfstring(L, "pyjson.encode: key '%s' given twice", name);
        lua_error(L);
      }
      lua_pop(L, 1);
    } else {
      lua_pushvalue(L, -2);
    }
    Key *k = push_key(e);  /* stack: ... key value name */
    k->s = lua_tolstring(L, -1, &k->len);
    k->slot = slot;
    k->from_int = from_int;
    if (c.tab) {
      lua_rawseti(L, c.tab, (lua_Integer)(2 * slot + 1));
      lua_rawseti(L, c.tab, (lua_Integer)(2 * slot + 2));
    } else {
      lua_insert(L, -2);
      lua_rotate(L, -3, -1);  /* ... name value key: the pair stays, the key goes on */
    }
    slot++;
  }
  size_t m = e->s->nkeys - c.first;
  if (m > 1) qsort(e->s->keys + c.first, m, sizeof(Key), key_cmp);
  for (size_t j = 1; j < m; j++) {  /* the same integer key twice (a __pairs iterator) */
    Key *a = &e->s->keys[c.first + j - 1], *b = a + 1;
    if ((a->from_int || b->from_int) && key_cmp(a, b) == 0) {
      lua_pushfstring(L, "pyjson.encode: key '%s' given twice", a->s);
      lua_error(L);
    }
  }
  put_members(e, m, depth, map_pair, &c);
  e->s->nkeys = c.first;
  lua_settop(L, c.tab ? c.tab - 1 : c.base - 1);
}

/* A table: an ordered object, an array (marked, or keys exactly 1..#t and not empty under
 * empty = "object") or a map. Raises past MAX_DEPTH and on a table mixing both. */
static void put_table(Enc *e, int t, int depth) {
  lua_State *L = e->L;
  if (depth > MAX_DEPTH) fail(L, "pyjson.encode: nesting too deep (cycle?)");
  luaL_checkstack(L, 2 * LUA_MINSTACK, "pyjson.encode");
  int foreign;
  int kind = table_kind(L, t, &foreign);
  if (kind == KIND_OBJECT) {
    put_object(e, t, depth);
    return;
  }
  lua_Integer n = length(L, t);
  lua_Integer count = count_pairs(L, t, foreign);
  if (kind != KIND_ARRAY) {
    if (count == n && (n > 0 || !(e->flags & F_EMPTY_OBJECT))) kind = KIND_ARRAY;
    else if (n > 0) fail(L, "pyjson.encode: a table mixing array items and other keys");
  }
  if (kind != KIND_ARRAY) {
    put_map(e, t, depth, foreign, count);
    return;
  }
  put_char(e, '[');
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) put(e, e->item, e->item_len);
    lua_geti(L, t, i);
    put_value(e, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
  }
  put_char(e, ']');
}

/* Appends the value at idx (nil, pyjson.null and cjson.null as null). */
static void put_value(Enc *e, int idx, int depth) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    put_string(e, s, len);
    return;
  }
  case LUA_TNUMBER: put_number(e, idx); return;
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, idx)) put(e, "true", 4);
    else put(e, "false", 5);
    return;
  case LUA_TNIL: put(e, "null", 4); return;
  case LUA_TTABLE:
    if (lua_compare(L, idx, lua_upvalueindex(UP_NULL), LUA_OPEQ)) put(e, "null", 4);
    else put_table(e, idx, depth);
    return;
  default:
    if (lua_rawequal(L, idx, lua_upvalueindex(UP_CJSON_NULL))) { put(e, "null", 4); return; }
    lua_pushfstring(L, "pyjson.encode: cannot encode a %s", luaL_typename(L, idx));
    lua_error(L);
  }
}

/* encode(value) -> JSON text (an encode function made by pyjson.encoder). */
static int l_encode(lua_State *L) {
  lua_settop(L, 1);
  Scratch *s = lua_touserdata(L, lua_upvalueindex(UP_SCRATCH));
  if (s->busy) {
    s = scratch_new(L);  /* called again from a metamethod inside an encode: a scratch of its own */
  } else {
    lua_pushvalue(L, lua_upvalueindex(UP_SCRATCH));
    lua_toclose(L, 2);  /* busy until this call ends, by return or by error */
    s->busy = 1;
  }
  s->len = 0;
  s->nkeys = 0;
  Enc e = { L, s, (unsigned)lua_tointeger(L, lua_upvalueindex(UP_FLAGS)), NULL, NULL, NULL, 0, 0, 0 };
  e.item = lua_tolstring(L, lua_upvalueindex(UP_ITEM), &e.item_len);
  e.key = lua_tolstring(L, lua_upvalueindex(UP_KEY), &e.key_len);
  e.indent = lua_tolstring(L, lua_upvalueindex(UP_INDENT), &e.indent_len);
  put_value(&e, 1, 0);
  lua_pushlstring(L, s->buf ? s->buf : "", s->len);
  return 1;
}

/* Reads field `name` of the table at idx as a boolean flag. */
static unsigned flag(lua_State *L, int idx, const char *name, unsigned bit) {
  lua_getfield(L, idx, name);
  unsigned on = lua_toboolean(L, -1) ? bit : 0;
  lua_pop(L, 1);
  return on;
}

/* pyjson.encoder(types, opts) -> encode(value). types = {object, array, cjson_array (the
 * marker metatables), null, cjson_null}; opts = {item, key (separators), indent (the indent
 * string, or nil for none), ascii, integral, allow_nan, empty_object (booleans)}, checked. */
static int l_encoder(lua_State *L) {
  static const char *const type_keys[] = { "object", "array", "cjson_array", "null", "cjson_null", NULL };
  static const char *const opt_keys[] = { "item", "key", "indent", "ascii", "integral", "allow_nan",
                                          "empty_object", NULL };
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  binding_check_options(L, 1, "pyjson.encoder types", type_keys);
  binding_check_options(L, 2, "pyjson.encoder", opt_keys);
  lua_settop(L, 2);
  scratch_new(L);
  for (int i = 0; i < 5; i++) {
    int t = lua_getfield(L, 1, type_keys[i]);
    if (i < 4 && t != LUA_TTABLE) luaL_error(L, "pyjson.encoder: types.%s must be a table", type_keys[i]);
  }
  if (lua_getfield(L, 2, "item") != LUA_TSTRING || lua_getfield(L, 2, "key") != LUA_TSTRING)
    luaL_error(L, "pyjson.encoder: item and key must be strings");
  int it = lua_getfield(L, 2, "indent");
  if (it != LUA_TNIL && it != LUA_TSTRING) luaL_error(L, "pyjson.encoder: indent must be a string or nil");
  lua_pushinteger(L, flag(L, 2, "ascii", F_ASCII) | flag(L, 2, "integral", F_INTEGRAL) |
                     flag(L, 2, "allow_nan", F_ALLOW_NAN) | flag(L, 2, "empty_object", F_EMPTY_OBJECT));
  lua_pushcclosure(L, l_encode, UP_COUNT);
  return 1;
}

/* pyjson.string(s) -> s as a JSON string with ensure_ascii; raises on invalid UTF-8. */
static int l_string(lua_State *L) {
  size_t len, bad = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  if (len > (SIZE_MAX / 2 - 2) / 6) fail(L, "not enough memory");
  luaL_Buffer b;
  char *o = luaL_buffinitsize(L, &b, 6 * len + 2);
  char *end = quote(o, s, len, 1, &bad);
  if (!end) fail_utf8(L, bad);
  luaL_pushresultsize(&b, (size_t)(end - o));
  return 1;
}

int luaopen_introspect_pyjson(lua_State *L) {
  static const luaL_Reg funcs[] = { { "encoder", l_encoder }, { "string", l_string }, { NULL, NULL } };
  luaL_newlib(L, funcs);
  return 1;
}
