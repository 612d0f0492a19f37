-- introspect.simcore: the simulated subject's kernels in C give bit for bit what the Lua they
-- replaced gave (so a run's numbers do not change): the string hash against values the Lua
-- hash produced, the MAP update against the Lua Newton iteration kept here as the reference, the
-- option blocks' reader against the Lua pattern sim/prompt.lua matched before.
local simcore = require "introspect.simcore"
local linalg = require "introspect.core.linalg"
local subject = require "introspect.sim.subject"

-- Values of sim/hash.lua's Lua string hash before it moved to C (seed, text, hash).
local GOLDEN = {
  { "", 0, -780787492076525413 },
  { "a", 0, 2813319537248118479 },
  { "abcdefgh", 0, 974183842270762093 },
  { "abcdefghi", 7, -6737094339944087147 },
  { string.rep("xyz\0\255", 33), -5, 7766617967599331706 },
  { "[DECISION TASK] Which condo?", 123456789, 8996828171563740216 },
}

-- The Lua MAP update that sim/finetune.lua used (Newton's method with step halving).
local function objective(theta, prior, X, y, weight, sd0, sd)
  local s = 0
  for j = 1, #theta do
    local d = theta[j] - prior[j]
    s = s - d * d / (2 * (j == 1 and sd0 * sd0 or sd * sd))
  end
  for r = 1, #X do
    local x, z = X[r], 0
    for j = 1, #theta do z = z + theta[j] * x[j] end
    s = s + weight * subject.log_sigmoid(y[r] == 1 and z or -z)
  end
  return s
end

local function reference_map_update(prior, X, y, weight, sd0, sd)
  local n = #prior
  local theta = {}
  for j = 1, n do theta[j] = prior[j] end
  local f = objective(theta, prior, X, y, weight, sd0, sd)
  for _ = 1, 100 do
    local g, H = {}, {}
    for j = 1, n do
      local s2 = j == 1 and sd0 * sd0 or sd * sd
      g[j] = -(theta[j] - prior[j]) / s2
      H[j] = {}
      for l = 1, n do H[j][l] = l == j and 1 / s2 or 0 end
    end
    for r = 1, #X do
      local x = X[r]
      local z = 0
      for j = 1, n do z = z + theta[j] * x[j] end
      local p = 1 / (1 + math.exp(-z))
      local resid, w = weight * (y[r] - p), weight * p * (1 - p)
      for j = 1, n do
        g[j] = g[j] + resid * x[j]
        local hj, wx = H[j], w * x[j]
        for l = 1, j do hj[l] = hj[l] + wx * x[l] end
      end
    end
    for j = 1, n do for l = j + 1, n do H[j][l] = H[l][j] end end
    local step = linalg.cholesky_solve(H, g, n)
    if not step then break end
    local t, candidate, fc = 1, {}, nil
    for _ = 1, 40 do
      for j = 1, n do candidate[j] = theta[j] + t * step[j] end
      fc = objective(candidate, prior, X, y, weight, sd0, sd)
      if fc >= f then break end
      t = t / 2
    end
    if fc < f then break end
    local size = 0
    for j = 1, n do
      size = math.max(size, math.abs(candidate[j] - theta[j]))
      theta[j] = candidate[j]
    end
    f = fc
    if size < 1e-9 then break end
  end
  return theta
end

describe("simcore.hash", function()
  it("gives the values of the Lua hash it replaced", function()
    for _, g in ipairs(GOLDEN) do assert.equal(g[3], simcore.hash(g[1], g[2])) end
    assert.equal(simcore.hash("abc", 0), simcore.hash("abc"))
    assert.are_not.equal(simcore.hash("abc", 1), simcore.hash("abc", 2))
  end)
end)

describe("simcore.hex", function()
  it("gives string.format('%016x', h):sub(-digits), the Lua it replaced", function()
    local values = { 0, 1, -1, 255, 0x7fffffffffffffff, math.mininteger, -780787492076525413 }
    for i = 1, 50 do values[#values + 1] = simcore.hash("x" .. i) end
    for _, h in ipairs(values) do
      assert.equal(string.format("%016x", h), simcore.hex(h))
      for digits = 1, 16 do assert.equal(string.format("%016x", h):sub(-digits), simcore.hex(h, digits)) end
    end
    assert.has_error(function() simcore.hex(1, 0) end)
    assert.has_error(function() simcore.hex(1, 17) end)
  end)
end)

describe("simcore.map_update", function()
  it("gives bit for bit the Lua Newton iteration's mode", function()
    local seed = 7
    local function u()
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    end
    for case = 1, 40 do
      local p, n = 2 + case % 5, 5 + (case * 7) % 60
      local prior, X, y = {}, {}, {}
      for j = 1, p do prior[j] = (u() - 0.5) * 3 end
      for r = 1, n do
        local row = { 1 }
        for j = 2, p do row[j] = (u() - 0.5) * (case % 3 == 0 and 40 or 2) end   -- some separable
        X[r], y[r] = row, u() < 0.5 and 1 or 0
      end
      local weight, sd0, sd = 0.2 + u() * 3, 0.5 + u() * 2, 0.3 + u() * 2
      local want = reference_map_update(prior, X, y, weight, sd0, sd)
      local got = simcore.map_update(prior, X, y, weight, sd0, sd)
      assert.equal(p, #got)
      for j = 1, p do assert.equal(want[j], got[j]) end
    end
  end)

  it("names bad input", function()
    assert.has_error(function() simcore.map_update({ 0, 0 }, { { 1, 2 } }, { 1, 0 }, 1, 1, 1) end,
      "simcore.map_update: X and y differ in length")
    assert.has_error(function() simcore.map_update({ 0, 0 }, { { 1 } }, { 1 }, 1, 1, 1) end,
      "simcore.map_update: X[1] needs 2 values")
    assert.has_error(function() simcore.map_update({ 0, "x" }, { { 1, 2 } }, { 1 }, 1, 1, 1) end,
      "simcore.map_update: prior[2] is not a number")
  end)
end)

-- The option blocks as sim/prompt.lua read them before simcore.options: one Lua pattern, then
-- tonumber on each value (nil: no match; false: a value that is not a finite number).
local function escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end
local function reference_options(text, init, names, units)
  local parts = {}
  for _, letter in ipairs({ "A", "B" }) do
    local lines = {}
    for i = 1, #names do
      lines[i] = escape(names[i]) .. ": (%S+)" .. (units[i] ~= "" and (" " .. escape(units[i])) or "")
    end
    parts[#parts + 1] = letter .. ":\n" .. table.concat(lines, "\n")
  end
  local v = { string.match(text:sub(init), "^" .. parts[1] .. "\n\n" .. parts[2] .. "%s*$") }
  local k = #names
  if #v ~= 2 * k then return nil end
  local a, b = {}, {}
  for t = 1, k do
    local x, y = tonumber(v[t]), tonumber(v[k + t])
    if not x or not y or x ~= x or y ~= y or x == math.huge or x == -math.huge or y == math.huge
      or y == -math.huge then
      return false
    end
    a[t], b[t] = x, y
  end
  return a, b, table.concat(v, " ")
end

describe("simcore.options", function()
  local VALUES = { "2292.0", "25", "-0.0", "0.1", "-17.25", ".5", "5.", "1e5", "1E-3", "0x1F", "0x1p4",
    "inf", "nan", "1e999", "-1e999", "1.2.3", "--1", "+3", "3.", "123456789012345.6", "0.1234567890123456",
    "99999999999999999999", "12a", "x", "1\0", string.rep("7", 140) .. ".5", "0.30000000000000004",
    "9007199254740993", "1.7976931348623157e308", "-", "." }
  local NAMES = { "square_footage", "a.b", "x%y", "(p)", "[q]", "rate-1", "n" }
  local UNITS = { "", "sq ft", "dollars per month", "%", "a.b+", "(x)" }
  local seed = 11
  local function pick(list)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return list[seed % #list + 1]
  end
  local function same(want, got)
    if type(want) ~= "table" then return want == got end
    if #want ~= #got then return false end
    for i = 1, #want do
      if math.type(want[i]) ~= math.type(got[i]) or want[i] ~= got[i] then return false end
      if want[i] == 0 and 1 / want[i] ~= 1 / got[i] then return false end   -- -0.0
    end
    return true
  end

  it("reads what the Lua pattern read, value for value, on well-formed and broken blocks", function()
    local counts = { table = 0, [false] = 0, [true] = 0 }
    for case = 1, 3000 do
      local k = case % 97 == 0 and 16 or 1 + case % 6   -- 16: the most a Lua pattern captures
      local names, units = {}, {}
      for i = 1, k do names[i], units[i] = pick(NAMES) .. (i > 3 and i or ""), pick(UNITS) end
      local blocks = {}
      for _, letter in ipairs({ "A", "B" }) do
        local lines = {}
        for i = 1, k do
          local value = case % 3 == 0 and pick(VALUES) or pick({ "2292.0", "1.2", "-3.75", "40", "0.05" })
          lines[i] = names[i] .. ": " .. value .. (units[i] ~= "" and (" " .. units[i]) or "")
        end
        blocks[#blocks + 1] = letter .. ":\n" .. table.concat(lines, "\n")
      end
      local text = "[DECISION TASK] pick\n\nQuestion?\n" .. blocks[1] .. "\n\n" .. blocks[2]
        .. pick({ "", "\n", "  \n\t", "", "x", "\nC:" })
      if case % 11 == 0 then   -- damage one byte
        local at = 1 + seed % #text
        text = text:sub(1, at - 1) .. pick({ " ", "\n", "", "A", ":" }) .. text:sub(at + 1)
      end
      local init = (text:find("\nA:\n", 1, true) or 0) + 1
      local wa, wb, wt = reference_options(text, init, names, units)
      local ga, gb, gt = simcore.options(text, init, names, units)
      assert.is_true(same(wa, ga) and same(wb, gb) and wt == gt, "case " .. case .. ": " .. text)
      counts[type(wa) == "table" and "table" or wa == false] = counts[type(wa) == "table" and "table"
        or wa == false] + 1
    end
    -- the cases cover all three outcomes
    assert.is_true(counts.table > 1000 and counts[false] > 100 and counts[true] > 100)
  end)

  it("reads more attributes than a Lua pattern can capture", function()
    local names, units, lines, want = {}, {}, {}, {}
    for i = 1, 40 do
      names[i], units[i] = "attr" .. i, i % 2 == 0 and "kg" or ""
      lines[i] = names[i] .. ": " .. i .. ".5" .. (units[i] ~= "" and " kg" or "")
      want[i] = i .. ".5"
    end
    local block = table.concat(lines, "\n")
    local a, b, text = simcore.options("A:\n" .. block .. "\n\nB:\n" .. block .. "\n", 1, names, units)
    assert.equal(40, #a)
    assert.equal(40.5, a[40])
    assert.equal(1.5, b[1])
    assert.equal(table.concat(want, " ") .. " " .. table.concat(want, " "), text)
  end)
end)
