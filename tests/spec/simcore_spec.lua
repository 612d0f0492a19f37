-- introspect.simcore: the simulated subject's kernels in C give bit for bit what the Lua they
-- replaced gave (so a run's numbers do not change): the string hash against values the Lua
-- hash produced, the MAP update against the Lua Newton iteration kept here as the reference.
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
