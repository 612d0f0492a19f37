-- introspect.rng: generators, CPython compatibility (checked against /usr/bin/python3 in the
-- same run), Python number formatting, bulk trials.
local skip = require "lib.skip"
local rng = require "introspect.rng"
local prompts = require "introspect.design.prompts"

-- options(scenario) -> the compiled options block of the default prompt set for a scenario
local function options(scenario) return prompts.default:compile("options", { scenario = scenario, question = "?" }) end

local PYTHON = "/usr/bin/python3"

local function have_python()
  local f = io.open(PYTHON, "rb")
  if f then f:close() return true end
  return false
end

-- python(code, ...) -> list of output lines; the code gets sys.argv[1..].
local function python(code, ...)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = "'" .. tostring(a) .. "'" end
  local p = assert(io.popen(PYTHON .. " '" .. script .. "' " .. table.concat(args, " ")))
  local lines = {}
  for line in p:lines() do lines[#lines + 1] = line end
  local ok = p:close()
  os.remove(script)
  assert(ok, "python3 failed")
  return lines
end

local function pysplit(line)
  local t = {}
  for x in line:gmatch("%S+") do t[#t + 1] = x end
  return t
end

describe("introspect.rng generators", function()
  it("makes generators of both algorithms with a __tostring", function()
    local g = rng.new("mt19937", 1)
    assert.equals("mt19937", g:algorithm())
    assert.matches("^introspect%.rng%.Generator%(mt19937%): 0x%x+$", tostring(g))
    assert.equals("xoshiro256**", rng.new():algorithm())
  end)

  it("is reproducible from a seed and differs between seeds", function()
    local a, b, c = rng.new("xoshiro256**", 7), rng.new("xoshiro256**", 7), rng.new("xoshiro256**", 8)
    local same, differ = true, false
    for _ = 1, 100 do
      local x, y, z = a:random(), b:random(), c:random()
      same = same and x == y
      differ = differ or x ~= z
      assert.is_true(x >= 0 and x < 1)
    end
    assert.is_true(same)
    assert.is_true(differ)
  end)

  it("saves and restores state, and clones", function()
    for _, algo in ipairs({ "mt19937", "xoshiro256**" }) do
      local g = rng.new(algo, 3)
      g:random()
      local s = g:state()
      local clone = g:clone()
      local first = {}
      for i = 1, 700 do first[i] = g:random() end   -- past one mt19937 twist
      g:setstate(s)
      for i = 1, 700 do assert.equals(first[i], g:random()) end
      for i = 1, 700 do assert.equals(first[i], clone:random()) end
      local other = rng.new(algo, 99)
      other:setstate(s)
      assert.equals(first[1], other:random())
    end
  end)

  it("gives independent xoshiro streams (jump) and refuses them for mt19937", function()
    local s0, s1 = rng.new("xoshiro256**", 5, 0), rng.new("xoshiro256**", 5, 1)
    assert.are_not.equal(s0:random(), s1:random())
    local j = rng.new("xoshiro256**", 5)
    j:jump()
    assert.equals(rng.new("xoshiro256**", 5, 1):random(), j:random())
    assert.has_error(function() rng.new("mt19937", 5, 1) end)
    assert.has_error(function() rng.new("mt19937", 5):jump() end)
  end)

  it("raises on misuse, naming the function", function()
    local g = rng.new("mt19937", 1)
    assert.has_error(function() rng.new("bogus") end)
    assert.has_error(function() g:randbelow(0) end, nil)
    local ok, err = pcall(g.randbelow, g, 0)
    assert.is_false(ok)
    assert.matches("randbelow", err)
    assert.has_error(function() g:getrandbits(65) end)
    assert.has_error(function() g:setstate("garbage") end)
    assert.has_error(function() g:setstate("mt19937:short") end)
    assert.has_error(function() g:randint(5, 4) end)
  end)

  it("xoshiro256** matches a reference implementation (splitmix64 seeding)", function()
    if not have_python() then skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") return end
    local out = python([[
import sys
M = (1 << 64) - 1
def splitmix(x):
    x = (x + 0x9e3779b97f4a7c15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return x, z ^ (z >> 31)
def rotl(x, k): return ((x << k) | (x >> (64 - k))) & M
x = int(sys.argv[1]) & M
s = []
for _ in range(4):
    x, z = splitmix(x); s.append(z)
for _ in range(20):
    r = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
    print(r >> 1)
]], 12345)
    local g = rng.new("xoshiro256**", 12345)
    for i = 1, 20 do
      assert.equals(math.tointeger(out[i]), g:getrandbits(63), "draw " .. i)
    end
  end)
end)

describe("introspect.rng mt19937 against CPython's random", function()
  if not have_python() then
    it("needs " .. PYTHON, function() skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") end)
    return
  end

  local SEEDS = { 0, 1, 2, 42, -7, 4294967295, 4294967296, 1099511627781, math.maxinteger }

  it("random, uniform, getrandbits, randbelow, randint in the same order", function()
    local code = [[
import random, sys
for s in sys.argv[1:]:
    r = random.Random(int(s))
    out = [repr(r.random()) for _ in range(3)]
    out += [repr(r.uniform(-100, 100)), repr(r.uniform(0.1, 10))]
    out += [str(r.getrandbits(k)) for k in (1, 5, 31, 32, 33, 53, 63)]
    out += [str(r._randbelow(n)) for n in (1, 2, 3, 10, 1000, 2**31, 2**40 + 3)]
    out += [str(r.randint(-5, 5))]
    print(" ".join(out))
]]
    local lines = python(code, table.unpack(SEEDS))
    for i, seed in ipairs(SEEDS) do
      local want = pysplit(lines[i])
      local g = rng.new("mt19937", seed)
      local got = { g:random(), g:random(), g:random(), g:uniform(-100, 100), g:uniform(0.1, 10) }
      for _, k in ipairs({ 1, 5, 31, 32, 33, 53, 63 }) do got[#got + 1] = g:getrandbits(k) end
      for _, n in ipairs({ 1, 2, 3, 10, 1000, 2 ^ 31, 2 ^ 40 + 3 }) do
        got[#got + 1] = g:randbelow(math.tointeger(n))
      end
      got[#got + 1] = g:randint(-5, 5)
      assert.equals(#want, #got)
      for j = 1, #got do
        if math.type(got[j]) == "float" then
          assert.equals(tonumber(want[j]), got[j], "seed " .. seed .. " item " .. j)
        else
          assert.equals(math.tointeger(tonumber(want[j])), got[j], "seed " .. seed .. " item " .. j)
        end
      end
    end
  end)

  it("shuffle gives CPython's permutation", function()
    local lines = python([[
import random
for seed, n in ((0, 1134), (1, 2), (6, 50), (123, 1000)):
    random.seed(seed); x = list(range(n)); random.shuffle(x); print(" ".join(map(str, x)))
]])
    for i, case in ipairs({ { 0, 1134 }, { 1, 2 }, { 6, 50 }, { 123, 1000 } }) do
      local t = {}
      for k = 1, case[2] do t[k] = k - 1 end
      rng.new("mt19937", case[1]):shuffle(t)
      assert.equals(lines[i], table.concat(t, " "))
    end
  end)

  it("getrandbits(64) fills two words low first (wrapping into Lua's signed range)", function()
    local lines = python([[
import random
for seed in (9, 10, 11, 12):
    random.seed(seed); v = random.getrandbits(64); print(v - (1 << 64) if v >= 1 << 63 else v)
]])
    for i, seed in ipairs({ 9, 10, 11, 12 }) do
      assert.equals(math.tointeger(lines[i]), rng.new("mt19937", seed):getrandbits(64))
    end
  end)
end)

describe("Python number formatting", function()
  it("pyrepr prints the documented examples", function()
    assert.equals("67.0", rng.pyrepr(67.0))
    assert.equals("2.2", rng.pyrepr(2.2))
    assert.equals("0.35", rng.pyrepr(0.35))
    assert.equals("1e-05", rng.pyrepr(1e-05))
    assert.equals("0.0001", rng.pyrepr(0.0001))
    assert.equals("1e+16", rng.pyrepr(1e16))
    assert.equals("1234567890123456.0", rng.pyrepr(1234567890123456.0))
    assert.equals("-0.0", rng.pyrepr(-0.0))
    assert.equals("0.30000000000000004", rng.pyrepr(0.1 + 0.2))
    assert.equals("inf", rng.pyrepr(math.huge))
    assert.equals("nan", rng.pyrepr(0 / 0))
  end)

  it("pyrepr matches Python's repr on 30,000 doubles (random bits, subnormals, powers of two, decimals)", function()
    if not have_python() then skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") return end
    local gen = rng.new("xoshiro256**", 2718)
    local xs = {}
    while #xs < 30000 do
      local kind, x = #xs % 5
      if kind == 0 then x = string.unpack("<d", string.pack("<i8", gen:getrandbits(63) * (gen:randbelow(2) * 2 - 1)))
      elseif kind == 1 then x = string.unpack("<d", string.pack("<i8", gen:getrandbits(52)))      -- subnormal
      elseif kind == 2 then x = 2.0 ^ (gen:randbelow(2098) - 1074)                                  -- power of two
      elseif kind == 3 then x = gen:randbelow(1000000) / 10 ^ gen:randbelow(9)                    -- short decimal
      else x = math.log((gen:randbelow(100000) + 1) / 100001) end                                  -- a logprob
      if x == x and x ~= math.huge and x ~= -math.huge then xs[#xs + 1] = x end
    end
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    for _, x in ipairs(xs) do f:write(string.format("%a\n", x)) end
    f:close()
    local lines = python("import sys\nfor l in open(sys.argv[1]): print(repr(float.fromhex(l)))\n", path)
    os.remove(path)
    assert.equals(#xs, #lines)
    for i, x in ipairs(xs) do
      if rng.pyrepr(x) ~= lines[i] then assert.equals(lines[i], rng.pyrepr(x), string.format("%a", x)) end
    end
  end)

  it("pyround is half to even on the exact binary value", function()
    assert.equals(2.67, rng.pyround(2.675, 2))   -- 2.675 is below the tie in binary
    assert.equals(0.12, rng.pyround(0.125, 2))   -- exact tie: to even
    assert.equals(2, rng.pyround(2.5))
    assert.equals(4, rng.pyround(3.5))
    assert.equals(math.type(rng.pyround(2.5)), "integer")
    assert.equals("-0.0", rng.pyrepr(rng.pyround(-0.3, 0)))
    assert.equals(20.0, rng.pyround(25.0, -1))
    assert.equals(1200.0, rng.pyround(1234.5678, -2))
  end)

  it("pyround and pyrepr equal CPython on random and awkward values", function()
    if not have_python() then skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") return end
    local lines = python([[
import random, struct
random.seed(11)
vals = [2.675, 0.125, 0.5, 1.5, 2.5, -2.5, 1e-7, 5e-324, 1.7976931348623157e308, 9007199254740993.0,
        4503599627370497.5, 0.1, 0.7, 1e22, 1e23, 123456.789, 2.0**-1074, 2.0**60, 0.045, 1.005]
for _ in range(3000):
    kind = random.random()
    if kind < 0.4:
        vals.append(random.uniform(-1000, 1000))
    elif kind < 0.7:
        vals.append(random.uniform(-1, 1) * 10 ** random.randint(-12, 18))
    else:
        bits = random.getrandbits(64)
        v = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if v == v and abs(v) != float("inf"):
            vals.append(v)
for v in vals:
    n = random.randint(-5, 25)
    print(v.hex(), n, repr(v), repr(round(v, n)), repr(round(v, 0)), repr(round(v, 3)))
]])
    assert.is_true(#lines > 2000)
    for _, line in ipairs(lines) do
      local f = pysplit(line)
      local v = tonumber(f[1])
      local n = math.tointeger(tonumber(f[2]))
      assert.equals(f[3], rng.pyrepr(v), line)
      assert.equals(f[4], rng.pyrepr(rng.pyround(v, n)), line)
      assert.equals(f[5], rng.pyrepr(rng.pyround(v, 0)), line)
      assert.equals(f[6], rng.pyrepr(rng.pyround(v, 3)), line)
    end
  end)

  it("precision follows the study's rule", function()
    assert.equals(0, rng.precision(0, 70))
    assert.equals(0, rng.precision(0.1, 10))
    assert.equals(1, rng.precision(1, 5.5))
    assert.equals(1, rng.precision(0, 1))
    assert.equals(2, rng.precision(0.5, 1))
    assert.equals(2, rng.precision(0.2, 0.3))     -- log10(0.09999999999999998) == -1.0, as in CPython
    assert.equals(3, rng.precision(0.01, 0.05))
    assert.has_error(function() rng.precision(1, 1) end)
  end)
end)

describe("bulk trials", function()
  local scenario = { short_name = "tea", question = "Which tea?", attributes = {
    { name = "caffeine", units = "mg", min = 0, max = 70 },
    { name = "leaf", units = "mm", min = 0.1, max = 10 },
    { name = "acid", units = "pH", min = 4.5, max = 5.5 },
    { name = "ratio", units = "", min = 0.01, max = 0.05 },
    { name = "temp", units = "C", min = -1, max = 1.5 },
  } }

  it("draws n trials within range, rounded by the rule, printed as Python", function()
    local t = rng.new("xoshiro256**", 1):trials(scenario, 500)
    assert.equals(500, #t)
    assert.equals(5, t:attributes())
    assert.matches("^introspect%.rng%.Trials%(n=500, k=5%)", tostring(t))
    assert.same({ 0, 0, 1, 3, 1 }, { t:precision(1), t:precision(2), t:precision(3), t:precision(4), t:precision(5) })
    for i = 1, #t do
      for _, side in ipairs({ "A", "B" }) do
        for j, a in ipairs(scenario.attributes) do
          local v = t:value(i, side, j)
          -- rounding may step past a bound by half a unit of the last decimal (0.1..10 gives 0.0)
          local half = 0.5 * 10 ^ -t:precision(j)
          assert.is_true(v >= a.min - half and v <= a.max + half)
          assert.equals(v, rng.pyround(v, t:precision(j)))
          assert.equals(rng.pyrepr(v), t:text(i, side, j))
        end
      end
    end
    local tr = t:trial(3)
    assert.equals(t:value(3, "B", 2), tr.b[2])
    assert.equals(t:value(3, 1, 5), tr.a[5])
    assert.is_nil(tr.ta)
    for i = 1, #t do   -- with texts: the values and t:text's texts of every cell, in one call
      local full = t:trial(i, true)
      for j = 1, 5 do
        assert.equals(t:value(i, "A", j), full.a[j])
        assert.equals(t:value(i, "B", j), full.b[j])
        assert.equals(t:text(i, "A", j), full.ta[j])
        assert.equals(t:text(i, "B", j), full.tb[j])
      end
      assert.equals(5, #full.ta)
      assert.equals(5, #full.tb)
    end
  end)

  it("choices follow the utilities: A exactly when U(A) > U(B)", function()
    local t = rng.new("xoshiro256**", 2):trials(scenario, 300)
    local w = { 100, -40, 7, 0, -100 }
    local ua, ub = t:utilities(w)
    local ch = t:choices(w)
    assert.equals(300, #ch)
    local seen = {}
    for i = 1, 300 do
      local u = 0
      for j, a in ipairs(scenario.attributes) do u = u + w[j] * ((t:value(i, "A", j) - a.min) / (a.max - a.min)) end
      assert.equals(u, ua[i])
      local c = ch:sub(i, i)
      seen[c] = true
      assert.equals(ua[i] > ub[i] and "A" or "B", c)
    end
    assert.is_true(seen.A and seen.B)
  end)

  it("renders the study's option layout", function()
    local t = rng.new("mt19937", 4):trials(scenario, 2)
    local lines = {}
    for s, letter in ipairs({ "A", "B" }) do
      lines[#lines + 1] = letter .. ":"
      for j, a in ipairs(scenario.attributes) do
        lines[#lines + 1] = a.name .. ": " .. t:text(1, s, j) .. " " .. a.units
      end
      if s == 1 then lines[#lines + 1] = "" end
    end
    local want = table.concat(lines, "\n")
    assert.equals(want, t:render(1, options(scenario)))
    local decision = prompts.default:compile("decision", { scenario = scenario, question = "Q?" })
    assert.equals(prompts.DECISION_INSTRUCTION .. "\n\nQ?\n" .. want, t:render(1, decision))
    local all = t:render_all(decision)
    assert.equals(2, #all)
    assert.equals(t:render(2, decision), all[2])
  end)

  it("python mode draws the values CPython's study code draws", function()
    if not have_python() then skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") return end
    local lines = python([[
import math, random
ranges = [(0, 70), (0.1, 10), (4.5, 5.5), (0.01, 0.05), (-1, 1.5)]
def p(a, b):
    w = b - a
    return abs(math.floor(math.log10(w))) + 1 if w < 1 else (1 if w < 5 else 0)
random.seed(2)
for _ in range(200):
    print(" ".join(repr(round(random.uniform(a, b), p(a, b))) for a, b in ranges * 2))
]])
    local t = rng.new("mt19937", 2):trials(scenario, 200)
    for i = 1, 200 do
      local got = {}
      for s = 1, 2 do for j = 1, 5 do got[#got + 1] = t:text(i, s, j) end end
      assert.equals(lines[i], table.concat(got, " "), "trial " .. i)
    end
  end)

  it("python mode renders CPython's text for wide, negative and fractional ranges", function()
    if not have_python() then skip.missing("rng_spec", PYTHON .. " absent (Debian package python3)") return end
    local ranges = { { 300, 1200 }, { -50, 50 }, { 1000, 99999 }, { -0.5, 0.5 }, { 0, 0.004 }, { 2, 6.5 },
      { -3e6, 4e7 }, { 0.00001, 0.00009 } }
    local wide = { short_name = "wide", question = "?", attributes = {} }
    local spec = {}
    for j, r in ipairs(ranges) do
      wide.attributes[j] = { name = "x" .. j, units = "u" .. j, min = r[1], max = r[2] }
      spec[j] = string.format("(%.17g, %.17g)", r[1], r[2])
    end
    local lines = python([[
import math, random
ranges = []] .. table.concat(spec, ", ") .. [[]
def p(a, b):
    w = b - a
    return abs(math.floor(math.log10(w))) + 1 if w < 1 else (1 if w < 5 else 0)
def block(letter):
    return letter + ":\n" + "\n".join(f"x{j+1}: {round(random.uniform(a, b), p(a, b))} u{j+1}"
                                       for j, (a, b) in enumerate(ranges))
random.seed(8)
for _ in range(300):
    print(repr(block("A") + "\n\n" + block("B")))
]])
    local t = rng.new("mt19937", 8):trials(wide, 300)
    for i = 1, 300 do
      local want = lines[i]:sub(2, -2):gsub("\\n", "\n")
      assert.equals(want, t:render(i, options(wide)), "trial " .. i)
    end
  end)

  it("render_all (which precomputes whole-number lines) equals rendering one trial at a time", function()
    local whole = { short_name = "w", question = "?", attributes = {
      { name = "a", units = "mg", min = 0, max = 70 }, { name = "b", units = "", min = 0.1, max = 10 },
      { name = "c", units = "percent", min = 0, max = 100 }, { name = "d", units = "x", min = 5, max = 300 },
      { name = "e", units = "y", min = 1, max = 2.5 } } }
    for _, algo in ipairs({ "xoshiro256**", "mt19937" }) do
      local t = rng.new(algo, 5):trials(whole, 400)
      local tpl = prompts.default:compile("report", { scenario = whole, question = "Q" })
      local all = t:render_all(tpl)
      for i = 1, #t do assert.equals(t:render(i, tpl), all[i]) end
    end
  end)

  it("rejects bad scenarios and indices", function()
    local g = rng.new()
    assert.has_error(function() g:trials({ attributes = { { min = 1, max = 1 } } }, 3) end)
    assert.has_error(function() g:trials({ attributes = { { min = "a", max = 2 } } }, 3) end)
    assert.has_error(function() g:trials(scenario, -1) end)
    local t = g:trials(scenario, 2)
    assert.has_error(function() t:value(3, "A", 1) end)
    assert.has_error(function() t:value(1, "C", 1) end)
    assert.has_error(function() t:value(1, "A", 6) end)
    assert.has_error(function() t:choices({ 1, 2 }) end)
  end)
end)
