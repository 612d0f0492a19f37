/* introspect.jsondecode: a fast path for cjson.decode on strict JSON. decode(text) returns
 * the value cjson.decode(text) returns (numbers as floats, null as cjson.null, objects and
 * arrays as plain tables, pushed in the same order so repeated keys keep the last value), with
 * each table sized once instead of grown key by key; or nothing when the text is outside the
 * subset it reads, and the caller then calls cjson.decode, which decodes it or raises its own
 * error. The subset: RFC 8259 JSON with no control byte or surrogate \u escape in a string, a
 * number followed by a delimiter, nesting at most MAX_DEPTH deep. Mechanism only: the choice of
 * decoder is scripts/introspect/core/json.lua's. */
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#define MAX_DEPTH 200   /* deeper text goes to cjson (its limit is 1000) */
#define NUMBER_MAX 64   /* a longer number token goes to cjson */

typedef struct {
  const char *p, *end;
  int depth;
} Parser;

static int parse_value(lua_State *L, Parser *s);

/* Skips JSON whitespace. */
static void skip_ws(Parser *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

/* Value of one hex digit, or -1. */
static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Pushes the string starting after the opening quote at s->p; 0 when outside the subset. */
static int parse_string(lua_State *L, Parser *s) {
  const char *start = s->p, *q = start;
  int escaped = 0;
  for (;;) {   /* find the closing quote: the decoded text is at most this long */
    while (q < s->end && (unsigned char)*q >= 0x20 && *q != '"' && *q != '\\') q++;   /* plain bytes */
    if (q >= s->end) return 0;
    unsigned char c = (unsigned char)*q;
    if (c == '"') break;
    if (c < 0x20) return 0;
    if (c == '\\') {
      escaped = 1;
      if (q + 1 >= s->end) return 0;
      q += 2;
    } else {
      q++;
    }
  }
  if (!escaped) {
    lua_pushlstring(L, start, (size_t)(q - start));
    s->p = q + 1;
    return 1;
  }
  luaL_Buffer b;
  char *o = luaL_buffinitsize(L, &b, (size_t)(q - start)), *o0 = o;
  for (const char *r = start; r < q;) {
    if (*r != '\\') {
      *o++ = *r++;
      continue;
    }
    char e = r[1];
    r += 2;
    switch (e) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        if (q - r < 4) goto outside;
        unsigned cp = 0;
        for (int i = 0; i < 4; i++) {
          int h = hex(r[i]);
          if (h < 0) goto outside;
          cp = cp << 4 | (unsigned)h;
        }
        r += 4;
        if (cp >= 0xD800 && cp <= 0xDFFF) goto outside;   /* surrogates: cjson's rules */
        if (cp < 0x80) {
          *o++ = (char)cp;
        } else if (cp < 0x800) {   /* 6 escape bytes always hold the 2-3 bytes written */
          *o++ = (char)(0xC0 | cp >> 6);
          *o++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *o++ = (char)(0xE0 | cp >> 12);
          *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
          *o++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: goto outside;
    }
  }
  luaL_pushresultsize(&b, (size_t)(o - o0));
  s->p = q + 1;
  return 1;
outside:
  luaL_pushresultsize(&b, 0);   /* leaves the buffer's stack balanced; the caller resets the stack */
  return 0;
}

/* Pushes the number at s->p (JSON's grammar, followed by a delimiter) as a float, read by strtod
 * as cjson reads it; 0 when outside the subset. */
static int parse_number(lua_State *L, Parser *s) {
  const char *q = s->p;
  if (q < s->end && *q == '-') q++;
  if (q >= s->end) return 0;
  if (*q == '0') {
    q++;
  } else if (*q >= '1' && *q <= '9') {
    while (q < s->end && *q >= '0' && *q <= '9') q++;
  } else {
    return 0;
  }
  if (q < s->end && *q == '.') {
    q++;
    if (q >= s->end || *q < '0' || *q > '9') return 0;
    while (q < s->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < s->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < s->end && (*q == '+' || *q == '-')) q++;
    if (q >= s->end || *q < '0' || *q > '9') return 0;
    while (q < s->end && *q >= '0' && *q <= '9') q++;
  }
  if (q < s->end && (*q == '\0' || !strchr(" \t\r\n,]}", *q))) return 0;
  size_t n = (size_t)(q - s->p);
  if (n <= 16 && !memchr(s->p, '.', n) && !memchr(s->p, 'e', n) && !memchr(s->p, 'E', n)) {
    /* an integer of at most 15 digits: exact in a double, as strtod reads it */
    const char *d = s->p;
    int neg = *d == '-';
    long long v = 0;
    for (d += neg; d < q; d++) v = v * 10 + (*d - '0');
    if (n - (size_t)neg <= 15) {
      lua_pushnumber(L, neg ? -(lua_Number)v : (lua_Number)v);
      s->p = q;
      return 1;
    }
  }
  if (n >= NUMBER_MAX) return 0;
  char buf[NUMBER_MAX], *after;
  memcpy(buf, s->p, n);
  buf[n] = '\0';
  double d = strtod(buf, &after);
  if (after != buf + n) return 0;   /* a locale whose decimal point is not '.' */
  lua_pushnumber(L, (lua_Number)d);
  s->p = q;
  return 1;
}

/* Pushes the array whose '[' s->p is past; 0 when outside the subset. */
static int parse_array(lua_State *L, Parser *s) {
  int base = lua_gettop(L), n = 0;
  skip_ws(s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
  } else {
    for (;;) {
      if (!lua_checkstack(L, 2) || !parse_value(L, s)) return 0;
      n++;
      skip_ws(s);
      if (s->p >= s->end) return 0;
      if (*s->p == ']') { s->p++; break; }
      if (*s->p != ',') return 0;
      s->p++;
      skip_ws(s);
    }
  }
  if (!lua_checkstack(L, 2)) return 0;
  lua_createtable(L, n, 0);
  for (int i = 1; i <= n; i++) {
    lua_pushvalue(L, base + i);
    lua_rawseti(L, -2, i);
  }
  lua_copy(L, -1, base + 1);
  lua_settop(L, base + 1);
  return 1;
}

/* Pushes the object whose '{' s->p is past; 0 when outside the subset. */
static int parse_object(lua_State *L, Parser *s) {
  int base = lua_gettop(L), n = 0;
  skip_ws(s);
  if (s->p < s->end && *s->p == '}') {
    s->p++;
  } else {
    for (;;) {
      if (s->p >= s->end || *s->p != '"') return 0;
      s->p++;
      if (!lua_checkstack(L, 3) || !parse_string(L, s)) return 0;
      skip_ws(s);
      if (s->p >= s->end || *s->p != ':') return 0;
      s->p++;
      skip_ws(s);
      if (!parse_value(L, s)) return 0;
      n++;
      skip_ws(s);
      if (s->p >= s->end) return 0;
      if (*s->p == '}') { s->p++; break; }
      if (*s->p != ',') return 0;
      s->p++;
      skip_ws(s);
    }
  }
  if (!lua_checkstack(L, 2)) return 0;
  lua_createtable(L, 0, n);
  for (int i = 0; i < n; i++) {
    lua_pushvalue(L, base + 2 * i + 1);
    lua_pushvalue(L, base + 2 * i + 2);
    lua_rawset(L, -3);
  }
  lua_copy(L, -1, base + 1);
  lua_settop(L, base + 1);
  return 1;
}

/* Pushes the value at s->p (no leading whitespace); 0 when outside the subset. */
static int parse_value(lua_State *L, Parser *s) {
  if (s->p >= s->end) return 0;
  switch (*s->p) {
    case '{':
    case '[': {
      if (++s->depth > MAX_DEPTH) return 0;
      int open = *s->p++;
      int ok = open == '{' ? parse_object(L, s) : parse_array(L, s);
      s->depth--;
      return ok;
    }
    case '"':
      s->p++;
      return parse_string(L, s);
    case 't':
      if (s->end - s->p < 4 || memcmp(s->p, "true", 4) != 0) return 0;
      s->p += 4;
      lua_pushboolean(L, 1);
      return 1;
    case 'f':
      if (s->end - s->p < 5 || memcmp(s->p, "false", 5) != 0) return 0;
      s->p += 5;
      lua_pushboolean(L, 0);
      return 1;
    case 'n':
      if (s->end - s->p < 4 || memcmp(s->p, "null", 4) != 0) return 0;
      s->p += 4;
      lua_pushlightuserdata(L, NULL);   /* cjson.null */
      return 1;
    default:
      return parse_number(L, s);
  }
}

/* jsondecode.decode(text) -> value | nothing (text outside the subset: use cjson.decode). */
static int l_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  Parser s = { text, text + len, 0 };
  lua_settop(L, 1);
  skip_ws(&s);
  if (!lua_checkstack(L, 4) || !parse_value(L, &s)) return 0;
  skip_ws(&s);
  if (s.p != s.end) return 0;
  return 1;
}

int luaopen_introspect_jsondecode(lua_State *L) {
  static const luaL_Reg funcs[] = { { "decode", l_decode }, { NULL, NULL } };
  luaL_newlib(L, funcs);
  return 1;
}
