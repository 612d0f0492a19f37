-- core/pyjson's C encoder (bindings/pyjson.c) against the Lua encoder it replaced
-- (tests/lib/pyjson_reference.lua): random values under every option set must give the same
-- bytes, or the same error message; then the cases a random draw rarely reaches (depth limit,
-- cycles, metamethods, nested encodes, the codecs and pyjson.string).
local cjson = require "cjson"
local pyjson = require "introspect.core.pyjson"
local ref = require "lib.pyjson_reference"

-- every option set: separators x ascii x floats x allow_nan x empty x indent
local OPTION_SETS = {}
for _, sep in ipairs({ { ", ", ": " }, { ",", ":" }, { " ;", "=>" } }) do
  for _, ascii in ipairs({ true, false }) do
    for _, floats in ipairs({ "repr", "integral" }) do
      for _, allow_nan in ipairs({ true, false }) do
        for _, empty in ipairs({ "array", "object" }) do
          for _, indent in ipairs({ false, 0, 2, 3 }) do
            OPTION_SETS[#OPTION_SETS + 1] = { separators = sep, ascii = ascii, floats = floats,
              allow_nan = allow_nan, empty = empty, indent = indent or nil }
          end
        end
      end
    end
  end
end

-- pieces of strings: plain and escaped ASCII, 2-, 3- and 4-byte UTF-8, invalid sequences
local PIECES = { "a", "Z", " ", "/", "\\", '"', "\0", "\n", "\r", "\t", "\b", "\f", "\1", "\31", "\127",
  "é", "ß", "€", "中", "\u{FFFF}", "\u{10000}", "𝄞", "\u{10FFFF}", "😀",
  "\x80", "\xBF", "\xC3", "\xC0\x80", "\xE2\x82", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80",
  "\xFF", "é\x80" }
-- numbers: integers near the limits, floats at every branch of the float writer
local NUMBERS = { 0, 1, -1, 42, math.maxinteger, math.mininteger, math.maxinteger - 1, math.mininteger + 1,
  2 ^ 53, -2 ^ 53, 0.0, -0.0, 0.5, -1.5, 3.0, -3.0, 0.1, 1 / 3, 1e15, -1e15, 1e15 - 1, -(1e15 - 1), 1e15 + 0.5,
  999999999999999.9, 1e16, 1.5e16, 1e22, 1e300, 1.7976931348623157e308, 1e-4, 1e-5, 1.234e-7, 4.9e-324,
  2.2250738585072014e-308, 2.225073858507201e-308, 123456789.125, 0 / 0, math.huge, -math.huge }

-- a random string of up to n pieces
local function random_string(n)
  local out = {}
  for i = 1, math.random(0, n) do out[i] = PIECES[math.random(#PIECES)] end
  return table.concat(out)
end

-- a random number: from the list, a random integer, or a random double from its bits
local function random_number()
  local r = math.random(4)
  if r == 1 then return NUMBERS[math.random(#NUMBERS)] end
  if r == 2 then return math.random(math.mininteger, math.maxinteger) end
  if r == 3 then return (math.random() - 0.5) * 10 ^ math.random(-20, 20) end
  return (string.unpack("<d", string.pack("<i8", math.random(math.mininteger, math.maxinteger))))
end

local random_value

-- a random table of depth at most `depth`: array, marked array, map, ordered object, empty
local function random_table(depth)
  local r, n = math.random(9), math.random(0, 5)
  local t = {}
  if r <= 2 then
    for i = 1, n do t[i] = random_value(depth - 1) end
    if r == 2 then pyjson.array(t) end
    if r == 2 and math.random(4) == 1 then t.extra = 1 end   -- a marked array writes 1..n only
  elseif r <= 5 then
    for _ = 1, n do
      local k = math.random(6) == 1 and math.random(-3, 9) or random_string(3)
      t[k] = random_value(depth - 1)
    end
    if math.random(12) == 1 then t[math.random(3)] = 1; t["1"] = 2 end   -- given twice
    if math.random(20) == 1 then t[1.5] = true end                        -- a bad key
    if math.random(20) == 1 then t[true] = true end
  elseif r <= 7 then
    local list = {}
    for _ = 1, n do
      list[#list + 1] = math.random(25) == 1 and 7 or random_string(3)   -- sometimes a bad key
      list[#list + 1] = random_value(depth - 1)
    end
    t = pyjson.object(list)
  elseif r == 8 then
    if math.random(2) == 1 then t = pyjson.array() end
  else
    for i = 1, n + 1 do t[i] = random_value(depth - 1) end
    t[math.random(2) == 1 and "k" or n + 3] = 1                           -- mixing: an error
  end
  return t
end

-- a random value of depth at most `depth`
random_value = function(depth)
  local r = math.random(depth > 0 and 12 or 8)
  if r <= 2 then return random_string(6) end
  if r <= 4 then return random_number() end
  if r == 5 then return math.random(2) == 1 end
  if r == 6 then return ({ pyjson.null, cjson.null, false })[math.random(3)] end
  if r == 7 then return math.random(40) == 1 and print or random_string(2) end
  if r == 8 then return NUMBERS[math.random(#NUMBERS)] end
  return random_table(depth)
end

-- text or "error: message" of an encode
local function outcome(encode, v)
  local ok, res = pcall(encode, v)
  return ok and res or "error: " .. tostring(res)
end

-- asserts both encoders agree on v under option set o (i = its index, for the message)
local function same(v, o, i)
  local want = outcome(ref.encoder(o), v)
  local got = outcome(function(x) return pyjson.encode(x, o) end, v)
  if got ~= want then
    error(string.format("option set %d (ascii=%s floats=%s allow_nan=%s empty=%s indent=%s sep=%q):\n"
      .. "reference: %s\nC:         %s", i, tostring(o.ascii), o.floats, tostring(o.allow_nan), o.empty,
      tostring(o.indent), o.separators[1], want, got), 2)
  end
  return want
end

-- n nested arrays around v
local function nest(n, v)
  for _ = 1, n do v = { v } end
  return v
end

describe("pyjson's C encoder against the Lua reference", function()
  it("writes the same bytes or raises the same error for random values under all 192 option sets", function()
    math.randomseed(18)
    local errors, texts = 0, 0
    for i, o in ipairs(OPTION_SETS) do
      for _ = 1, 40 do
        local out = same(random_value(4), o, i)
        if out:sub(1, 7) == "error: " then errors = errors + 1 else texts = texts + 1 end
      end
    end
    -- both kinds happen often enough for the comparison to mean something
    assert.is_true(errors > 500, "errors: " .. errors)
    assert.is_true(texts > 3000, "texts: " .. texts)
  end)

  it("agrees on every piece of string and every listed number alone, as keys and inside arrays", function()
    for i, o in ipairs(OPTION_SETS) do
      for _, p in ipairs(PIECES) do
        same(p, o, i)
        same({ [p] = 1, [p .. "x"] = 2 }, o, i)
        same(pyjson.object({ p, { p } }), o, i)
      end
      for _, x in ipairs(NUMBERS) do same({ x, { x } }, o, i) end
    end
  end)

  it("escapes a byte wherever it falls in a long string (the encoder copies plain bytes 8 at a time)", function()
    local bytes = { "\0", "\31", "\"", "\\", "\127", "\128", "\xC3\xA9", "\xF0\x9F\x98\x80", "\255", "~", " " }
    local kinds = {}
    for i, o in ipairs(OPTION_SETS) do
      if kinds[o.ascii] == nil then
        kinds[o.ascii] = true
        for len = 1, 26 do
          for at = 1, len do
            for _, b in ipairs(bytes) do same(string.rep("x", at - 1) .. b .. string.rep("y", len - at), o, i) end
          end
        end
      end
    end
    assert.is_true(kinds[true] and kinds[false])
  end)

  it("sorts keys by bytes (embedded zeros, prefixes, non-ASCII) and integer keys as their text", function()
    local t = { ["a\0b"] = 1, ["a"] = 2, ["a\0"] = 3, ["ab"] = 4, ["\xC3\xA9"] = 5, ["B"] = 6, [""] = 7,
      [10] = 8, [9] = 9, [-1] = 10 }
    local text = same(t, OPTION_SETS[1], 1)
    assert.equal('{"": 7, "-1": 10, "10": 8, "9": 9, "B": 6, "a": 2, "a\\u0000": 3, "a\\u0000b": 1, "ab": 4, '
      .. '"\\u00e9": 5}', text)
    assert.equal("error: pyjson.encode: key '2' given twice", same({ [2] = 1, ["2"] = 1, x = 1 }, OPTION_SETS[1], 1))
  end)

  it("stops at the same depth, on cycles too", function()
    for i, o in ipairs({ OPTION_SETS[1], OPTION_SETS[#OPTION_SETS] }) do
      assert.is_nil(same(nest(101, 1), o, i):match("^error"))
      assert.equal("error: pyjson.encode: nesting too deep (cycle?)", same(nest(102, 1), o, i))
      local cyc = {}
      cyc.self = cyc
      assert.equal("error: pyjson.encode: nesting too deep (cycle?)", same(cyc, o, i))
      local obj = pyjson.object({ "a", 1 })
      obj.pairs[2] = obj
      assert.equal("error: pyjson.encode: nesting too deep (cycle?)", same(obj, o, i))
    end
  end)

  it("refuses what JSON cannot hold with the same messages", function()
    local o = OPTION_SETS[1]
    assert.equal("error: pyjson.encode: cannot encode a function", same({ f = print }, o, 1))
    assert.equal("error: pyjson.encode: cannot encode a userdata", same({ io.stdout }, o, 1))
    assert.equal("error: pyjson.encode: cannot encode a thread", same(coroutine.create(print), o, 1))
    assert.equal("error: pyjson.encode: table keys must be strings or integers", same({ [2.5] = 1 }, o, 1))
    assert.equal("error: pyjson.encode: object keys must be strings", same(pyjson.object({ 1, 2 }), o, 1))
    assert.equal("error: pyjson.encode: a table mixing array items and other keys", same({ 1, x = 2 }, o, 1))
    assert.equal("error: pyjson: invalid UTF-8 in string at byte 2", same("a\x80b", o, 1))
    local strict = OPTION_SETS[9]   -- allow_nan = false
    assert.is_false(strict.allow_nan)
    assert.equal("error: pyjson.encode: cannot encode a non-finite number", same({ 0 / 0 }, strict, 9))
  end)

  it("honours metamethods as the Lua encoder does (__index, __len, __pairs, __eq, __metatable)", function()
    local data = { b = 2, a = 1, [3] = "x" }
    local proxy = setmetatable({}, { __index = data, __pairs = function() return next, data, nil end })
    local len3 = setmetatable({}, { __len = function() return 3 end, __index = function(_, i) return i * 10 end,
      __metatable = getmetatable(pyjson.array()) })
    local like_null = setmetatable({}, { __eq = function() return true end })
    local marked = setmetatable({ 1, 2, x = 3 }, { __metatable = getmetatable(pyjson.array()) })
    local locked = setmetatable({ k = 1 }, { __metatable = "locked" })
    local class = setmetatable({ 1, nil, 3 }, { __index = function() return "hole" end })
    for i, o in ipairs(OPTION_SETS) do
      for _, v in ipairs({ proxy, len3, like_null, marked, locked, class, { p = proxy, l = { len3 } } }) do
        same(v, o, i)
      end
    end
    assert.equal('{"3": "x", "a": 1, "b": 2}', pyjson.encode(proxy))
    assert.equal("[10, 20, 30]", pyjson.encode(len3))
    assert.equal("null", pyjson.encode(like_null))
    assert.equal("[1, 2]", pyjson.encode(marked))
  end)

  it("encodes again from inside an encode (a metamethod) and after an error", function()
    local fields = {}
    local inner = setmetatable({}, { __index = fields, __pairs = function()
      fields.text = pyjson.encode({ b = { 1 }, a = "é" })
      return next, fields, nil
    end })
    for i, o in ipairs({ OPTION_SETS[1], OPTION_SETS[50] }) do
      same({ inner, inner }, o, i)
    end
    assert.equal('[{"text": "{\\"a\\": \\"\\\\u00e9\\", \\"b\\": [1]}"}]', pyjson.encode({ inner }))
    assert.is_false(pcall(pyjson.encode, { print }))
    assert.equal('{"a": [1, 2]}', pyjson.encode({ a = { 1, 2 } }))
  end)

  it("gives the codecs' and pyjson.string's text unchanged", function()
    math.randomseed(7)
    local compact = ref.encoder({ separators = { ",", ":" }, ascii = false, floats = "integral",
      allow_nan = false, empty = "object" })
    local file = ref.encoder({ separators = { ", ", ": " }, ascii = false, floats = "integral",
      allow_nan = false, empty = "object", indent = 2 })
    for _ = 1, 500 do
      local v = random_value(4)
      assert.equal(outcome(compact, v), outcome(pyjson.compact.encode, v))
      assert.equal(outcome(file, v), outcome(pyjson.file.encode, v))
      local s = random_string(8)
      assert.equal(outcome(ref.string, s), outcome(pyjson.string, s))
    end
  end)
end)
