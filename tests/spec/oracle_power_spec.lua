-- Correctness oracle for experiments/power.lua: its mean accuracy slope and the slope's spread
-- at its largest design against what the simulated subject's documented equations imply.
--
-- The closed form profiles.accuracy does not apply to this design: the subject is untrained, so
-- it reads each value on its order of magnitude (docs/simulated-subject.md, Decisions) and its
-- weights on the study's predictors (A - B) / (max - min) differ from the actual weights its
-- reports are about; its native weights share the generic guess its reports fall back on
-- (native_generic); learned weights carry the error of a MAP fit to C choices per context. So
-- the expected slope comes from an independent simulation of the documented equations, with
-- the subject's parameters per context read from api:truth (theta, report_mean, report_noise,
-- malformed, choice_noise): choices A with probability sigmoid(utility / choice_noise) on fresh
-- trials, a MAP logistic fit (plain IRLS, the study's prior: slopes N(0, 1)), reports
-- report_mean + report_noise * N scaled to max |.| = 100 and rounded, each malformed (dropped)
-- with the malformed rate, and the slope of z(learned) on z(mean report) over contexts x
-- attributes. Bounds: the two means differ by less than 4 standard errors of their difference
-- (from the replication counts), the two spreads by less than 4 standard errors of a log sd
-- (sqrt(1 / (2 (n - 1))) each). Never compared with a previous run.
local O = require "lib.oracle"
local prompts = require "introspect.design.prompts"
local scenarios = require "introspect.design.scenarios"
local sim = require "introspect.sim"
local stimuli = require "introspect.design.stimuli"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")
local CONTEXTS, CHOICES, REPORTS, REPS, SIM_REPS = 30, 100, 10, 20, 60
local PROFILE = "sim-large"

-- normal() -> a standard normal draw from Lua's own generator (independent of the subject's hashes)
local function normal()
  return math.sqrt(-2 * math.log(1 - math.random())) * math.cos(2 * math.pi * math.random())
end

-- magnitude(x, y) -> the range an untrained subject reads a value on (10^ceil(log10 max |.|))
local function magnitude(x, y)
  local m = math.max(math.abs(x), math.abs(y))
  return m == 0 and 1 or 10 ^ math.ceil(math.log(m, 10) - 1e-12)
end

-- slope(learned, means) -> OLS slope of z(learned) on z(mean report) over the context x attribute
-- rows with reports (learned z-scored over every context, as analysis.accuracy does)
local function slope(learned, means)
  local function z(list)
    local m, v = O.mean(list), O.variance(list)
    local out = {}
    for i, x in ipairs(list) do out[i] = (x - m) / math.sqrt(v) end
    return out
  end
  local all, idx = {}, {}
  for c, w in ipairs(learned) do
    for j = 1, #w do all[#all + 1] = w[j]; idx[c .. "|" .. j] = #all end
  end
  local zl, xs, ys = z(all), {}, {}
  for c, m in pairs(means) do
    for j = 1, #m do xs[#xs + 1] = m[j]; ys[#ys + 1] = zl[idx[c .. "|" .. j]] end
  end
  xs = z(xs)
  local mx, my, sxy, sxx = O.mean(xs), O.mean(ys), 0, 0
  for i = 1, #xs do sxy, sxx = sxy + (xs[i] - mx) * (ys[i] - my), sxx + (xs[i] - mx) ^ 2 end
  return sxy / sxx
end

-- simulate(contexts, facts, rep) -> one study's accuracy slope by the documented equations
local function simulate(contexts, facts, rep)
  local gen = stimuli.generator("default", 900000 + rep)
  local learned, means = {}, {}
  for c, ctx in ipairs(contexts) do
    local f, sc = facts[c], ctx.scenario
    local trials = gen:trials(sc, CHOICES)
    local X, y = {}, {}
    for i = 1, CHOICES do
      local t = trials:trial(i)
      local u, x = f.theta[1], {}
      for j, a in ipairs(sc.attributes) do
        u = u + f.theta[j + 1] * (t.a[j] - t.b[j]) / magnitude(t.a[j], t.b[j])
        x[j] = (t.a[j] - t.b[j]) / (a.max - a.min)
      end
      X[i], y[i] = x, math.random() < 1 / (1 + math.exp(-u / f.choice_noise)) and 1 or 0
    end
    learned[c] = O.scale100({ table.unpack(O.irls(X, y, 1, 2.5), 2) })
    local sum, n = {}, 0
    for _ = 1, REPORTS do
      if math.random() >= f.malformed then
        local r = {}
        for j, m in ipairs(f.report_mean) do r[j] = m + f.report_noise * normal() end
        r = O.scale100(r)
        for j = 1, #r do sum[j] = (sum[j] or 0) + math.floor(r[j] + 0.5) end
        n = n + 1
      end
    end
    if n > 0 then
      means[c] = {}
      for j = 1, #sum do means[c][j] = sum[j] / n end
    end
  end
  return slope(learned, means)
end

describe("power.lua against the subject's documented equations", function()
  local dir = os.tmpname()
  os.remove(dir)
  local p = io.popen(string.format("cd '%s' && '%s' experiments/power.lua --profile=%s --contexts=%d "
    .. "--choices=25,%d --reports=1,%d --replications=%d --out=%s 2>&1; echo \"exit=$?\"", SOURCE, BIN, PROFILE,
    CONTEXTS, CHOICES, REPORTS, REPS, dir))
  local out = p:read("a")
  p:close()
  assert(out:match("exit=0%s*$"), out)
  local row
  for _, r in ipairs(O.read_csv(dir .. "/power.csv").rows) do
    if tonumber(r.choices_per_context) == CHOICES and tonumber(r.reports_per_context) == REPORTS then row = r end
  end
  assert(row, "power.csv has no row for the largest design")

  -- the subject's parameters per context, from its ground truth (the same contexts power.lua uses)
  local list = assert(scenarios.load(SOURCE .. "/experiments/scenarios/library.lua"))
  local roles = assert(scenarios.load_roles(SOURCE .. "/experiments/scenarios/roles.lua", { header = true }))
  local contexts = scenarios.contexts(list, roles, { count = CONTEXTS, rng = "default", seed = 0 })
  local api = sim.api({})
  local noise = api:model(PROFILE).profile.choice_noise
  local facts, gen = {}, stimuli.generator("default", 1)
  for c, ctx in ipairs(contexts) do
    local trials = gen:trials(ctx.scenario, 1)
    local function truth(kind)
      return assert(api:truth(PROFILE, { { role = "system", content = prompts.SYSTEM },
        { role = "user", content = prompts.default:render(kind, ctx, trials, 1) } }))
    end
    local d, r = truth("decision"), truth("report")
    assert(d.range == nil, "an untrained subject reads values on their order of magnitude")
    facts[c] = { theta = d.theta, choice_noise = noise, report_mean = r.report_mean, report_noise = r.report_noise,
      malformed = r.malformed }
  end
  math.randomseed(20261202)
  local slopes = {}
  for rep = 1, SIM_REPS do slopes[rep] = simulate(contexts, facts, rep) end
  local expected, spread = O.mean(slopes), math.sqrt(O.variance(slopes) * SIM_REPS / (SIM_REPS - 1))
  local mean, sd, n = tonumber(row.mean_slope), tonumber(row.sd_slope), tonumber(row.replications)

  it("finds the mean accuracy slope the subject's parameters imply at its largest design", function()
    assert.equal(REPS, n)
    local se = math.sqrt(sd ^ 2 / n + spread ^ 2 / SIM_REPS)
    assert.is_true(math.abs(mean - expected) < 4 * se, string.format(
      "mean slope %.3f over %d replications; the equations imply %.3f (sd %.3f), bound +-%.3f", mean, n, expected,
      spread, 4 * se))
  end)

  it("finds the spread of the slope the design implies", function()
    local bound = 4 * math.sqrt(1 / (2 * (n - 1)) + 1 / (2 * (SIM_REPS - 1)))
    assert.is_true(math.abs(math.log(sd / spread)) < bound, string.format(
      "sd of the slope %.4f over %d replications; the equations imply %.4f (log ratio bound %.2f)", sd, n, spread,
      bound))
  end)
end)
