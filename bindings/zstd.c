/*
 * introspect.zstd: Zstandard compression (Debian's libzstd) for the response store.
 *
 * zstd.compress(s [, level]) -> frame; zstd.decompress(frame) -> s | nil, err;
 * zstd.dictionary(content [, level]) -> dict: a raw-content dictionary (any bytes, typically
 * earlier records) with dict:compress(s) -> frame, dict:decompress(frame) -> s | nil, err,
 * dict:close(). Small texts that resemble the dictionary compress to a fraction of their size.
 * Misuse raises; a corrupt frame returns nil, err. Contexts live in the handle (no globals).
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "lauxlib.h"
#include "lua.h"

#include "binding.h"

#define DICT_MT "introspect.zstd.Dictionary"
#define MAX_OUTPUT ((size_t)1 << 31)

typedef struct {
  ZSTD_CCtx *cctx;
  ZSTD_DCtx *dctx;
  ZSTD_CDict *cdict;
  ZSTD_DDict *ddict;
  char *in, *out;   /* scratch buffers of dict:compress, grown as needed */
  size_t in_cap, out_cap;
  int closed;
} Dict;

/* Grows *buf to at least n bytes; raises on out of memory. */
static char *scratch(lua_State *L, char **buf, size_t *cap, size_t n) {
  if (n > *cap) {
    char *p = realloc(*buf, n);
    if (!p) luaL_error(L, "zstd: out of memory");
    *buf = p;
    *cap = n;
  }
  return *buf;
}

/* Compresses src into a pushed string using cctx and (optionally) cdict, else level. */
static int push_compressed(lua_State *L, ZSTD_CCtx *cctx, const ZSTD_CDict *cdict, int level,
                           const char *src, size_t len) {
  size_t cap = ZSTD_compressBound(len);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, cap);
  size_t n = cdict ? ZSTD_compress_usingCDict(cctx, out, cap, src, len, cdict)
                   : ZSTD_compressCCtx(cctx, out, cap, src, len, level);
  if (ZSTD_isError(n)) return luaL_error(L, "zstd: %s", ZSTD_getErrorName(n));
  luaL_pushresultsize(&b, n);
  return 1;
}

/* Decompresses one frame into a pushed string, or pushes nil, err. Returns the count. */
static int push_decompressed(lua_State *L, ZSTD_DCtx *dctx, const ZSTD_DDict *ddict,
                             const char *src, size_t len) {
  unsigned long long size = ZSTD_getFrameContentSize(src, len);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > MAX_OUTPUT) {
    lua_pushnil(L);
    lua_pushliteral(L, "zstd: not a frame with a known size");
    return 2;
  }
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, (size_t)size);
  size_t n = ddict ? ZSTD_decompress_usingDDict(dctx, out, (size_t)size, src, len, ddict)
                   : ZSTD_decompressDCtx(dctx, out, (size_t)size, src, len);
  if (ZSTD_isError(n) || n != size) {
    luaL_pushresultsize(&b, 0);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_pushfstring(L, "zstd: %s", ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame");
    return 2;
  }
  luaL_pushresultsize(&b, n);
  return 1;
}

static Dict *checkdict(lua_State *L) {
  Dict *d = luaL_checkudata(L, 1, DICT_MT);
  if (d->closed) luaL_argerror(L, 1, "attempt to use a closed zstd dictionary");
  return d;
}

/* Pushes a new empty handle (closed until filled). Stack: +1. */
static Dict *new_handle(lua_State *L) {
  Dict *d = lua_newuserdatauv(L, sizeof(Dict), 0);
  memset(d, 0, sizeof *d);
  d->closed = 1;
  luaL_setmetatable(L, DICT_MT);
  return d;
}

/* zstd.dictionary(content [, level]) -> dict (content: any bytes; level 1..19, default 3). */
static int l_dictionary(lua_State *L) {
  size_t len;
  const char *content = luaL_checklstring(L, 1, &len);
  int level = (int)luaL_optinteger(L, 2, 3);
  luaL_argcheck(L, level >= 1 && level <= 19, 2, "level must be 1..19");
  Dict *d = new_handle(L);
  d->closed = 0;
  d->cctx = ZSTD_createCCtx();
  d->dctx = ZSTD_createDCtx();
  d->cdict = ZSTD_createCDict(content, len, level);
  d->ddict = ZSTD_createDDict(content, len);
  if (!d->cctx || !d->dctx || !d->cdict || !d->ddict) return luaL_error(L, "zstd: out of memory");
  ZSTD_CCtx_setParameter(d->cctx, ZSTD_c_checksumFlag, 0);
  return 1;
}

/* dict:compress(s, ...) -> one frame of the strings concatenated, compressed in the handle's
 * scratch buffers (no Lua buffer per call). */
static int l_dict_compress(lua_State *L) {
  Dict *d = checkdict(L);
  int n = lua_gettop(L);
  size_t total = 0, len;
  for (int i = 2; i <= n; i++) {
    luaL_checklstring(L, i, &len);
    total += len;
  }
  if (n < 2) luaL_checklstring(L, 2, &len);
  const char *src;
  if (n == 2) {
    src = lua_tolstring(L, 2, &len);
  } else {
    char *in = scratch(L, &d->in, &d->in_cap, total ? total : 1);
    size_t at = 0;
    for (int i = 2; i <= n; i++) {
      const char *p = lua_tolstring(L, i, &len);
      memcpy(in + at, p, len);
      at += len;
    }
    src = in;
  }
  size_t cap = ZSTD_compressBound(total);
  char *out = scratch(L, &d->out, &d->out_cap, cap);
  size_t r = ZSTD_compress_usingCDict(d->cctx, out, cap, src, total, d->cdict);
  if (ZSTD_isError(r)) return luaL_error(L, "zstd: %s", ZSTD_getErrorName(r));
  lua_pushlstring(L, out, r);
  return 1;
}

/* dict:decompress(frame) -> s | nil, err */
static int l_dict_decompress(lua_State *L) {
  Dict *d = checkdict(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  return push_decompressed(L, d->dctx, d->ddict, s, len);
}

/* __gc/__close/dict:close(): frees the contexts once. */
static int l_dict_close(lua_State *L) {
  Dict *d = luaL_checkudata(L, 1, DICT_MT);
  ZSTD_freeCCtx(d->cctx);
  ZSTD_freeDCtx(d->dctx);
  ZSTD_freeCDict(d->cdict);
  ZSTD_freeDDict(d->ddict);
  free(d->in);
  free(d->out);
  memset(d, 0, sizeof *d);
  d->closed = 1;
  return 0;
}

static int l_dict_tostring(lua_State *L) {
  Dict *d = luaL_checkudata(L, 1, DICT_MT);
  if (d->closed) lua_pushliteral(L, "zstd dictionary (closed)");
  else lua_pushfstring(L, "zstd dictionary (%p)", (void *)d);
  return 1;
}

/* The per-state plain contexts (a handle without dictionaries in the upvalue). */
static Dict *plain(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

/* zstd.compress(s [, level]) -> frame */
static int l_compress(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int level = (int)luaL_optinteger(L, 2, 3);
  luaL_argcheck(L, level >= 1 && level <= 19, 2, "level must be 1..19");
  return push_compressed(L, plain(L)->cctx, NULL, level, s, len);
}

/* zstd.decompress(frame) -> s | nil, err */
static int l_decompress(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  return push_decompressed(L, plain(L)->dctx, NULL, s, len);
}

int luaopen_introspect_zstd(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"compress", l_dict_compress}, {"decompress", l_dict_decompress}, {"close", l_dict_close},
    {NULL, NULL}};
  static const luaL_Reg funcs[] = {
    {"compress", l_compress}, {"decompress", l_decompress}, {"dictionary", l_dictionary},
    {NULL, NULL}};
  handle_register(L, DICT_MT, methods, l_dict_close, l_dict_tostring);
  luaL_newlibtable(L, funcs);
  Dict *d = new_handle(L); /* the contexts of the plain functions, shared through an upvalue */
  d->closed = 0;
  d->cctx = ZSTD_createCCtx();
  d->dctx = ZSTD_createDCtx();
  if (!d->cctx || !d->dctx) return luaL_error(L, "zstd: out of memory");
  ZSTD_CCtx_setParameter(d->cctx, ZSTD_c_checksumFlag, 0);
  luaL_setfuncs(L, funcs, 1);
  lua_pushfstring(L, "%s", ZSTD_versionString());
  lua_setfield(L, -2, "version");
  return 1;
}
