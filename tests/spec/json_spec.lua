-- introspect.core.json: json.decode gives exactly what cjson.decode gives (the same types, values
-- and keys, or the same error) on the simulated API's responses, on random JSON written by
-- cjson and by pyjson, on hand-picked edge cases and on thousands of corrupted texts; and the
-- C fast path (introspect.jsondecode) takes the responses a run reads, so they do not fall
-- back to cjson.
local cjson = require "cjson"
local json = require "introspect.core.json"
local native = require "introspect.jsondecode"
local pyjson = require "introspect.core.pyjson"
local sim = require "introspect.sim"

-- same(a, b) -> true | false, path: deep equality that tells floats from integers, compares
-- NaN with NaN and -0.0 with 0.0 by sign, and cjson.null by identity.
local function same(a, b, path)
  path = path or "value"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b) end
    if a ~= a and b ~= b then return true end
    if a ~= b or (a == 0 and 1 / a ~= 1 / b) then return false, path .. ": " .. a .. " vs " .. b end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return true
  end
  if getmetatable(a) ~= getmetatable(b) then return false, path .. ": metatables differ" end
  for k, v in pairs(a) do
    local ok, where = same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing on the left" end
  end
  return true
end

-- agrees(text): json.decode(text) and cjson.decode(text) give the same value or the same error,
-- and a value from the fast path is cjson's.
local function agrees(text)
  local ok1, v1 = pcall(cjson.decode, text)
  local ok2, v2 = pcall(json.decode, text)
  assert(ok1 == ok2, string.format("%q: cjson %s, json.decode %s", text, tostring(v1), tostring(v2)))
  if ok1 then
    local ok, where = same(v1, v2)
    assert(ok, string.format("%q: %s", text, where))
  else
    assert(v1 == v2, string.format("%q: errors differ: %s / %s", text, v1, v2))
  end
  local fast = native.decode(text)
  if fast ~= nil then
    assert(ok1, string.format("%q: the fast path decoded a text cjson refuses", text))
    local ok, where = same(v1, fast)
    assert(ok, string.format("%q: fast path: %s", text, where))
  end
  return fast ~= nil
end

-- The simulated API's chat responses to study-style requests (logprobs on and off, n > 1),
-- and its model list.
local function responses()
  local api = sim.api({})
  local out = {}
  local headers = { authorization = "Bearer sk-test" }
  for i = 1, 40 do
    local body = { model = i % 2 == 0 and "sim-large" or "sim-small", temperature = i % 3 == 0 and 1 or 0,
      messages = { { role = "system", content = "You choose between two options." },
        { role = "user",
          content = "[DECISION TASK] Option A: " .. i .. " \"quoted\"\n\tOption B: caf\u{e9} " .. -i } } }
    if i % 2 == 0 then body.logprobs, body.top_logprobs = true, 2 end
    if i % 5 == 0 then body.n = 3 end
    local res = api:handle({ method = "POST", path = "/v1/chat/completions", headers = headers,
      body = pyjson.encode(body) })
    out[#out + 1] = res.body
    out[#out + 1] = cjson.encode({ status = res.status, headers = res.headers })
  end
  out[#out + 1] = api:handle({ method = "GET", path = "/v1/models", headers = headers }).body
  out[#out + 1] = api:handle({ method = "POST", path = "/v1/chat/completions", headers = headers,
    body = "{}" }).body
  return out
end

-- A random JSON-able value: nested tables, strings with escapes and UTF-8, numbers of every kind.
local function random_value(rng, depth)
  local kind = rng(depth > 3 and 5 or 7)
  if kind == 1 then
    local choices = { 0, -0.0, 1, -1, 0.1, 1e300, -2.5e-300, 123456789012, 2 ^ 53, 1 / 3, 5e-324,
      1.7976931348623157e308, 999999999999999, -999999999999999, 1e15, 1e16 }
    local x = choices[rng(#choices)]
    return rng(2) == 1 and x or x * rng(1000) / 7
  elseif kind == 2 then
    local parts = {}
    for i = 1, rng(12) - 1 do
      local c = rng(10)
      parts[i] = c == 1 and "\"" or c == 2 and "\\" or c == 3 and "\n" or c == 4 and "\u{e9}"
        or c == 5 and "\u{1F600}" or c == 6 and "/" or c == 7 and "\1" or c == 8 and "\u{2028}"
        or string.char(rng(95) + 31)
    end
    return table.concat(parts)
  elseif kind == 3 then return rng(2) == 1
  elseif kind == 4 then return cjson.null
  elseif kind == 5 then return rng(1000)
  elseif kind == 6 then
    local t = {}
    for i = 1, rng(6) - 1 do t[i] = random_value(rng, depth + 1) end
    return t
  else
    local t = {}
    for _ = 1, rng(6) - 1 do t["k" .. rng(20) .. (rng(3) == 1 and "\"\\/" or "")] = random_value(rng, depth + 1) end
    return t
  end
end

describe("json.decode", function()
  it("gives cjson's values for the simulated API's responses, through the fast path", function()
    for _, text in ipairs(responses()) do
      assert.is_true(agrees(text), "fell back to cjson on " .. text:sub(1, 200))
    end
  end)

  it("gives cjson's values for random JSON written by cjson and by pyjson", function()
    local seed = 12345
    local function rng(n)   -- a small LCG: the same texts on every run
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local fast = 0
    for i = 1, 3000 do
      local v = random_value(rng, 0)
      local texts = { cjson.encode(v) }
      local ok, text = pcall(pyjson.encode, v)
      if ok then texts[#texts + 1] = text end
      ok, text = pcall(pyjson.encode, v, { indent = 2, ascii = false })
      if ok then texts[#texts + 1] = text end
      for _, t in ipairs(texts) do if agrees(t) then fast = fast + 1 end end
      if i % 7 == 0 then agrees("  \n" .. texts[1] .. "\t\r\n ") end
    end
    assert.is_true(fast > 6000, "the fast path took only " .. fast .. " texts")
  end)

  it("agrees with cjson on edge cases, falling back where cjson has rules of its own", function()
    local cases = {
      "0", "-0", "1", "-1", "1.5", "1e5", "1E+5", "1e-5", "-0.0e-0", "1e400", "-1e400", "1e-400",
      "123456789012345678901234567890", "0.1", "5e-324", "01", "-01", "1.", ".5", "+1", "0x10", "-", "1e",
      "1e+", "Infinity", "-Infinity", "NaN", "nan", "inf", "1 2", "[1 2]", "[1,]", "[,1]", "[", "]", "{",
      "}", "{}", "[]", "[[]]", "{\"a\":{}}", "{\"a\":1,\"a\":2}", "{\"a\":1,}", "{a:1}", "{\"a\" 1}",
      "{\"a\":}", "{,}", "\"\"", "\"abc", "\"a\\\"b\"", "\"\\/\\\\\\b\\f\\n\\r\\t\"", "\"\\u0000\"",
      "\"\\u0041\\u00e9\\u20AC\\uffff\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83dx\"",
      "\"\\u12\"", "\"\\u12g4\"", "\"\\x41\"", "\"\\a\"", "\"a\tb\"", "\"a\0b\"", "\"\1\"", "\"\127\"",
      "\"\255\254\"", "\"\u{e9}\"", "true", "false", "null", "tru", "nul", "truex", "nullnull",
      "[true,false,null]", "[null]", "", " ", "\t\n", "[1]\0", "\0", "[1] x", "{\"\":\"\"}",
      "[-]", "[--1]", "[1.e5]", "[1e5.5]", "[0e0]", "[-0E-0]", "[1,\n2 , 3\t]", "999999999999999",
      "-999999999999999", "1000000000000000", "-1000000000000000", "9007199254740993", "[-0,0]",
    }
    for _, text in ipairs(cases) do agrees(text) end
    for _, depth in ipairs({ 1, 199, 200, 201, 999, 1000, 1001, 1500 }) do
      agrees(string.rep("[", depth) .. string.rep("]", depth))
      agrees(string.rep("{\"a\":", depth) .. "1" .. string.rep("}", depth))
    end
    local big = {}
    for i = 1, 100000 do big[i] = i end
    assert.is_true(agrees(cjson.encode(big)))
  end)

  it("agrees with cjson on corrupted texts: the same value or the same error", function()
    local seed = 777
    local function rng(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local bytes = { "{", "}", "[", "]", "\"", ",", ":", "\\", "u", "0", "1", "9", "e", "E", "+", "-", ".",
      "t", "f", "n", " ", "\t", "\n", "\0", "\31", "\128", "\255", "x", "d", "8" }
    local sources = responses()
    for i = 1, 4000 do
      local text = sources[rng(#sources)]
      if i % 2 == 0 then text = cjson.encode(random_value(rng, 0)) end
      for _ = 1, rng(3) do
        local at = rng(#text + 1) - 1
        local op = rng(3)
        if op == 1 then
          text = text:sub(1, at) .. bytes[rng(#bytes)] .. text:sub(at + 1)
        elseif op == 2 then
          text = text:sub(1, at) .. text:sub(at + 2)
        else
          text = text:sub(1, at) .. bytes[rng(#bytes)] .. text:sub(at + 2)
        end
      end
      agrees(text)
    end
  end)

  it("raises cjson's error for a non-string, as cjson.decode does", function()
    for _, v in ipairs({ 1, true, {} }) do
      local ok1, e1 = pcall(cjson.decode, v)
      local ok2, e2 = pcall(json.decode, v)
      assert.are.equal(ok1, ok2)
      assert.are.equal(e1, e2)
    end
  end)
end)
