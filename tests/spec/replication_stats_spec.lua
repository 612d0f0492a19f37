-- Replication-aware statistics: cluster bootstrap (string ids, crossed, nested), Bayesian
-- summaries, replicates pooled with learned weights per served model, agreement, paired
-- differences, and the pooled two-model contrasts (published data under two names).
local agreement = require "introspect.analysis.agreement"
local analysis = require "introspect.analysis"
local bayes = require "introspect.analysis.bayes"
local bootstrap = require "introspect.analysis.bootstrap"
local contrasts = require "introspect.analysis.contrasts"
local replicates = require "introspect.analysis.replicates"
local samples = require "introspect.analysis.samples"
local stats = require "introspect.stats"
local util = require "introspect.core.util"

local root = os.getenv("INTROSPECT_SOURCE") or "."
local data = root .. "/../shared/paper-data"
local MODEL = "gpt-4o-mini-2024-07-18"

local function near(a, b, tol, what)
  assert.is_true(math.abs(a - b) <= tol, string.format("%s: %.10g vs %.10g", what or "value", a, b))
end

-- rows from y = slope x + replicate effect on the slope + context effect + noise
local function crossed_data(seed, R, C, per, slope, rep_sd)
  local g <close> = stats.rng(seed)
  local x, y, rep, ctx = {}, {}, {}, {}
  for r = 1, R do
    local b = slope + rep_sd * g:normal()
    for c = 1, C do
      local u = 0.5 * g:normal()
      for _ = 1, per do
        local xi = g:normal()
        x[#x + 1], y[#y + 1] = xi, b * xi + u + g:normal()
        rep[#rep + 1], ctx[#ctx + 1] = "rep" .. r, "context_" .. c
      end
    end
  end
  return x, y, rep, ctx
end

describe("bootstrap.clusters", function()
  local x, y, rep, ctx = crossed_data(1, 6, 60, 5, 0.5, 0.3)

  it("takes string ids: the same clusters as numbers give the same result", function()
    local codes, seen, n = {}, {}, 0
    for i, c in ipairs(ctx) do
      if not seen[c] then n = n + 1; seen[c] = n end
      codes[i] = seen[c] * 7
    end
    local a = assert(bootstrap.clusters(x, y, ctx, { reps = 300, seed = 4 }))
    local b = assert(bootstrap.clusters(x, y, codes, { reps = 300, seed = 4 }))
    assert.are.same(a, b)
    assert.are.same({ 60 }, a.clusters)
    assert.are.equal("one", a.design)
    local fit = stats.ols((function() local X = {} for i = 1, #x do X[i] = { x[i] } end return X end)(), y)
    near(a.estimate, fit.coef[1], 1e-12, "estimate is the full-data slope")
  end)

  it("agrees with the C bootstrap on one level (standard error within 15%)", function()
    local codes, seen, n = {}, {}, 0
    for i, c in ipairs(ctx) do
      if not seen[c] then n = n + 1; seen[c] = n end
      codes[i] = seen[c]
    end
    local lua = assert(bootstrap.clusters(x, y, ctx, { reps = 2000, seed = 1 }))
    local c = assert(stats.cluster_bootstrap(x, y, codes, { reps = 2000, seed = 1 }))
    near(lua.se / c.se, 1, 0.15, "se ratio")
  end)

  it("crossed replicate x context resampling sees the replicate variance a context bootstrap misses", function()
    local one = assert(bootstrap.clusters(x, y, ctx, { reps = 1000 }))
    local crossed = assert(bootstrap.clusters(x, y, { crossed = { rep, ctx } }, { reps = 1000 }))
    assert.are.same({ 6, 60 }, crossed.clusters)
    assert.are.equal("crossed", crossed.design)
    -- the slope's replicate SD is 0.3 over 6 replicates: SE of the mean slope ~ 0.3 / sqrt(6)
    assert.is_true(crossed.se > 2 * one.se, string.format("%.4f vs %.4f", crossed.se, one.se))
    assert.is_true(crossed.se > 0.06 and crossed.se < 0.25, tostring(crossed.se))
  end)

  it("nested: inner clusters are resampled within their outer cluster", function()
    local nested = assert(bootstrap.clusters(x, y, { nested = { rep, ctx } }, { reps = 1000 }))
    assert.are.equal("nested", nested.design)
    assert.are.same({ 6, 360 }, nested.clusters)  -- 60 contexts within each of 6 replicates
    assert.is_true(nested.lo < nested.estimate and nested.estimate < nested.hi)
  end)

  it("recovers the standard error of a mean of equal clusters", function()
    local g <close> = stats.rng(9)
    local v, ids, means = {}, {}, {}
    for c = 1, 80 do
      local u, s = g:normal(), 0
      for _ = 1, 4 do
        local e = u + 0.5 * g:normal()
        v[#v + 1], ids[#ids + 1], s = e, "c" .. c, s + e
      end
      means[c] = s / 4
    end
    local sd = replicates.spread(means).sd
    local b = assert(bootstrap.clusters(nil, v, ids, { statistic = "mean", reps = 4000 }))
    near(b.se / (sd / math.sqrt(80) * math.sqrt(79 / 80)), 1, 0.08, "se / analytic")
  end)

  it("takes a statistic function of the row weights", function()
    local b = assert(bootstrap.clusters(nil, y, ctx, { reps = 50, statistic = function(w)
      local s, n = 0, 0
      for i = 1, #w do s, n = s + w[i] * y[i], n + w[i] end
      return s / n
    end }))
    local m = assert(bootstrap.clusters(nil, y, ctx, { reps = 50, statistic = "mean" }))
    near(b.estimate, m.estimate, 1e-12, "estimate")
    near(b.lo, m.lo, 1e-12, "lo")
  end)

  it("refuses misuse by name", function()
    assert.has_error(function() bootstrap.clusters(x, y, ctx, { rep = 10 }) end)
    assert.has_error(function() bootstrap.clusters(x, y, { "a" }) end)
    assert.has_error(function() bootstrap.clusters(x, y, ctx, { statistic = "median" }) end)
    local r, err = bootstrap.clusters({ 1, 2, 3 }, { 1, 2, 4 }, { "a", "a", "a" })
    assert.is_nil(r)
    assert.matches("at least 2 clusters", err)
  end)
end)

describe("bayes", function()
  local g <close> = stats.rng(5)
  local x, y, X = {}, {}, {}
  for i = 1, 300 do x[i] = g:normal(); y[i] = 0.2 * x[i] + g:normal(); X[i] = { x[i] } end
  local fit = assert(stats.ols(X, y))

  it("under the flat prior gives the OLS slope and t interval, and pd = 1 - p/2", function()
    local B = assert(bayes.slope(x, y))
    near(B.median, fit.coef[1], 1e-6, "median")
    near(B.lo, fit.lo[1], 1e-6, "lo")
    near(B.hi, fit.hi[1], 1e-6, "hi")
    near(B.sd, fit.se[1] * math.sqrt(fit.df / (fit.df - 2)), 1e-5, "sd of a t posterior")
    local p = assert(stats.pearson(x, y)).p
    near(B.pd, 1 - p / 2, 1e-6, "pd")
  end)

  it("shrinks toward 0 as a Normal prior says (normal-normal at sigma-hat)", function()
    local s0 = 0.05
    local B = assert(bayes.slope(x, y, { prior_sd = s0 }))
    local se = fit.se[1]
    local expect = fit.coef[1] / se ^ 2 / (1 / se ^ 2 + 1 / s0 ^ 2)
    near(B.median, expect, 0.01 * math.abs(expect) + 1e-4, "posterior median")
    assert.is_true(B.median < fit.coef[1])
  end)

  it("gives the training-effect contrast the OLS contrast under the flat prior", function()
    local rows = function(b, seed)
      local h <close> = stats.rng(seed)
      local out = {}
      for i = 1, 200 do local xi = h:normal(); out[i] = { x = xi, y = b * xi + h:normal() } end
      return out
    end
    local pairs_ = { { untrained = rows(0.3, 1), trained = rows(0.6, 2) } }
    local D = assert(analysis.training_effect(pairs_))
    local Xd, yd, c = analysis.training_design(pairs_)
    local B = assert(bayes.contrast(Xd, yd, c))
    near(B.median, D.diff, 1e-6, "median")
    near(B.lo, D.lo, 1e-6, "lo")
    near(B.hi, D.hi, 1e-6, "hi")
  end)
end)

-- three replicates of 40 contexts x 5 attributes: learned weights differ per replicate;
-- reports = learned + noise, so accuracy is high in every replicate.
local function replicate_set()
  local g <close> = stats.rng(11)
  local learned, reports = {}, {}
  for r = 1, 3 do
    local w = { order = {} }
    for c = 1, 40 do
      local s = "ctx" .. c
      w.order[c] = s
      w[s] = {}
      for j = 1, 5 do w[s][j] = math.floor(100 * g:normal() + 0.5) end
      for _ = 1, 2 do
        local rep = {}
        for j = 1, 5 do rep[j] = w[s][j] + (30 + 30 * r) * g:normal() end
        reports[#reports + 1] = { model = "ft:base:r" .. r, scenario = s, report = rep }
      end
    end
    learned["ft:base:r" .. r] = w
  end
  return learned, reports
end

describe("replicates.accuracy", function()
  local learned, reports = replicate_set()

  it("pools replicates, each against its own learned weights, with a crossed interval", function()
    local R = assert(replicates.accuracy(reports, learned, { reps = 500 }))
    assert.are.equal(600, R.n)
    assert.are.equal(40, R.contexts)
    assert.are.same({ "ft:base:r1", "ft:base:r2", "ft:base:r3" }, R.order)
    local slopes = {}
    for i, label in ipairs(R.order) do
      local one = assert(analysis.accuracy((function()
        local t = {}
        for _, r in ipairs(reports) do if r.model == label then t[#t + 1] = r end end
        return t
      end)(), learned[label]))
      near(R.replicates[label].slope, one.slope, 1e-12, label)
      slopes[i] = one.slope
    end
    assert.is_true(slopes[1] > slopes[3], "noisier replicates report worse")
    near(R.between_sd, replicates.spread(slopes).sd, 1e-12, "between-replicate SD")
    assert.are.equal("crossed", R.boot.design)
    assert.is_true(R.boot.lo < R.slope and R.slope < R.boot.hi)
    -- a report compared with the wrong replicate's weights would pull the pooled slope to ~0
    assert.is_true(R.slope > 0.5, tostring(R.slope))
  end)

  it("is what analysis.accuracy does with learned weights per served model", function()
    local R = assert(analysis.accuracy(reports, learned, { reps = 100 }))
    assert.are.equal(3, #R.order)
    assert.are.equal(600, R.n)
    -- one weights map shared by several models: the same slope as analysis.accuracy with the map
    local shared = learned["ft:base:r1"]
    local S = assert(analysis.accuracy(reports, { ["ft:base:r1"] = shared, ["ft:base:r2"] = shared,
      ["ft:base:r3"] = shared }, { reps = 100 }))
    near(S.slope, assert(analysis.accuracy(reports, shared)).slope, 1e-12, "same slope")
  end)

  it("maps models to replicates, and refuses one replicate with two sets of weights", function()
    local R = assert(replicates.accuracy(reports, learned,
      { reps = 100, replicate = function(m) return m:match("r%d$") end }))
    assert.are.same({ "r1", "r2", "r3" }, R.order)
    assert.has_error(function()
      replicates.accuracy(reports, learned, { replicate = function() return "one" end })
    end)
  end)

  it("lists reports without learned weights", function()
    local R = assert(replicates.accuracy(reports, { ["ft:base:r1"] = learned["ft:base:r1"],
      ["ft:base:r2"] = learned["ft:base:r2"] }, { reps = 100 }))
    assert.are.equal(400, R.n)
    assert.matches("ft:base:r3", table.concat(R.left_out, "\n"))
  end)

  it("gives the between-replicate spread of every headline statistic", function()
    local S = replicates.headline_spread({
      { reports = { instilled = { slope = 0.4 } }, training_effect = { diff = 0.2 } },
      { reports = { instilled = { slope = 0.6 } }, training_effect = { diff = 0.3 } } })
    near(S.reports.instilled.sd, math.sqrt(0.02), 1e-12, "sd")
    near(S.training_effect.mean, 0.25, 1e-12, "mean")
  end)
end)

describe("agreement and paired differences", function()
  local ranges = { order = { "c1", "c2", "c3" } }
  for _, s in ipairs(ranges.order) do ranges[s] = { names = { "p", "q" }, min = { 0, 0 }, max = { 1, 100 } } end

  it("scores sign(w . (a - b) / range) against the choice; ties count one half", function()
    local sel = {
      { scenario = "c1", selection = "A", a = { 1, 0 }, b = { 0, 50 } },   -- d = 1 - 0.5 > 0: agrees
      { scenario = "c1", selection = "B", a = { 1, 0 }, b = { 0, 50 } },   -- disagrees
      { scenario = "c2", selection = "B", a = { 0, 0 }, b = { 0.5, 50 } }, -- d = -1 < 0: agrees
      { scenario = "c3", selection = "A", a = { 0.5, 50 }, b = { 0, 0 } }, -- d = 0.5 - 0.5: tie
      { scenario = "c4", selection = "A", a = { 0, 0 }, b = { 0, 0 } },    -- no weights
    }
    ranges.c4 = ranges.c1
    local w = { c1 = { 1, 1 }, c2 = { 1, 1 }, c3 = { 1, -1 } }
    local A = assert(agreement.agreement(w, sel, ranges, { reps = 100 }))
    near(A.agreement, 2.5 / 4, 1e-12, "agreement")
    assert.are.equal(4, A.n)
    assert.are.equal(1, A.ties)
    assert.are.equal(1, A.missing)
    near(A.per_context.c1.agreement, 0.5, 1e-12, "c1")
    -- the ranges reach the sign: without scaling trials 1 and 4 change (1 - 50 < 0, 0.5 - 50 < 0)
    local unscaled = { c1 = { names = { "p", "q" }, min = { 0, 0 }, max = { 1, 1 } } }
    unscaled.c2, unscaled.c3, unscaled.c4 = unscaled.c1, unscaled.c1, unscaled.c1
    near(assert(agreement.agreement(w, sel, unscaled, { reps = 100 })).agreement, 0.5, 1e-12, "unscaled")
    local B = assert(analysis.agreement(w, sel, ranges, { reps = 100 }))
    assert.are.equal(A.agreement, B.agreement)
    assert.has_error(function() agreement.agreement(w, sel) end)
  end)

  it("gives per-context differences with a t interval and a bootstrap interval", function()
    local a, b = {}, {}
    local d = { 0.1, 0.3, 0.2, 0.4, 0.0 }
    for i = 1, 5 do a["c" .. i] = 0.5 + d[i]; b["c" .. i] = 0.5 end
    a.only_a = 1
    local P = assert(agreement.paired(a, b, { reps = 500 }))
    assert.are.equal(5, P.n)
    near(P.mean, 0.2, 1e-12, "mean")
    local sd = replicates.spread(d).sd
    near(P.sd, sd, 1e-12, "sd")
    -- t(0.975, 4) = 2.776445
    near(P.hi - P.mean, 2.776445 * sd / math.sqrt(5), 1e-5, "t interval")
    assert.is_true(P.boot.lo >= 0 and P.boot.hi <= 0.4)
  end)
end)

describe("samples.proportions", function()
  it("pools the n samples of each trial into P(A), and soft fits recover the weights", function()
    local g <close> = stats.rng(21)
    local w = { 100, -60, 30, -10, 70 }
    local ranges = { order = { "ctx" },
      ctx = { names = { "p", "q", "r", "s", "t" }, min = { 0, 0, 0, 0, 0 }, max = { 1, 1, 1, 1, 1 } } }
    local sel = {}
    for _ = 1, 300 do
      local a, b = {}, {}
      for j = 1, 5 do a[j], b[j] = g:uniform(), g:uniform() end
      local u = 0
      for j = 1, 5 do u = u + w[j] / 25 * (a[j] - b[j]) end
      local trial = {}
      for _ = 1, 8 do
        sel[#sel + 1] = { scenario = "ctx", a = a, b = b, trial = trial,
          selection = g:uniform() < 1 / (1 + math.exp(-u)) and "A" or "B" }
      end
      sel[#sel + 1] = { scenario = "ctx", a = a, b = b, trial = trial, selection = "?" }
    end
    local pooled, info = samples.proportions(sel)
    assert.are.same({ trials = 300, samples = 2400, invalid = 300 }, info)
    assert.are.equal(8, pooled[1].n)
    local learned = analysis.fit_weights(pooled, ranges, { soft = true, draws = 400 })
    local r = assert(stats.pearson(learned.ctx, w)).r
    assert.is_true(r > 0.95, tostring(r))
    -- by values when the samples carry no trial table
    for _, s in ipairs(sel) do s.trial = nil end
    assert.are.equal(300, select(2, samples.proportions(sel)).trials)
  end)
end)

describe("two base models pooled (published gpt-4o-mini data under two names)", function()
  if not util.file_exists(data .. "/" .. MODEL .. "_regression_results.csv") then
    it("needs ../shared/paper-data", function()
      require("lib.skip").missing("replication_stats_spec", "../shared/paper-data absent (" .. data .. ")")
    end)
    return
  end
  local one = analysis.load_published(data, MODEL, { learned = "published", draws = 200 })
  local m = one.models[MODEL]
  local input = { models = { [MODEL] = m, ["gpt-4o-2024-08-06"] = m } }
  local summary, extra = analysis.summarize(input)

  it("gives exactly the mini effect as the pooled one, with a narrower interval", function()
    for _, job in ipairs(analysis.TRAINING_EFFECTS) do
      local key = job[1]
      local mini, pooled = summary.models[MODEL][key], summary[key]
      assert.are.equal(2, pooled.models)
      near(pooled.diff, mini.diff, 1e-14, key)
      assert.is_true(pooled.hi - pooled.lo < mini.hi - mini.lo)
    end
    near(summary.models[MODEL].training_effect.diff, 0.24853692897672275, 1e-9, "the published mini effect")
  end)

  it("puts a Bayesian summary beside each slope and effect (flat prior: the OLS numbers)", function()
    local P = contrasts.posterior(extra)
    assert.matches("flat", P.prior)
    for _, cond in ipairs(analysis.CONDITIONS) do
      local R, B = summary.models[MODEL].reports[cond], P.models[MODEL].reports[cond]
      near(B.median, R.slope, 1e-6, cond .. " median")
      near(B.lo, R.lo, 1e-6, cond .. " lo")
      assert.is_true(B.pd >= 0.5 and B.pd <= 1)
    end
    near(P.training_effect.median, summary.training_effect.diff, 1e-6, "pooled median")
    near(P.training_effect.hi, summary.training_effect.hi, 1e-6, "pooled hi")
    assert.are.equal(2, P.training_effect.models)
    local N = contrasts.posterior(extra, { prior_sd = 0.01 })
    assert.is_true(math.abs(N.models[MODEL].reports.itrained.median) < 0.1, "a tight prior shrinks")
  end)

  it("analyze-published --model=A,B writes per-model and pooled effects and posterior.json", function()
    local bin = os.getenv("INTROSPECT_BIN")
    if not bin or not util.file_exists(bin) then
      require("lib.skip").missing("replication_stats_spec", "no introspect host binary (INTROSPECT_BIN)")
      return
    end
    local dir, out = os.tmpname(), os.tmpname()
    os.remove(dir); os.remove(out)
    util.mkdir_p(dir)
    local p = io.popen("ls '" .. data .. "'")
    for name in p:lines() do
      local other = name:gsub("^gpt%-4o%-mini%-2024%-07%-18", "gpt-4o-2024-08-06")
      os.execute(string.format("ln -s '%s/%s' '%s/%s'", data, name, dir, name))
      if other ~= name then os.execute(string.format("ln -s '%s/%s' '%s/%s'", data, name, dir, other)) end
    end
    p:close()
    local cmd = string.format("%s %s/experiments/analyze-published.lua --data=%s --model=%s,gpt-4o-2024-08-06 "
      .. "--learned=published --out=%s --draws=200 2>/dev/null", bin, root, dir, MODEL, out)
    local h = io.popen(cmd)
    local text = h:read("a")
    h:close()
    local cjson = require "cjson"
    local s = cjson.decode((assert(util.read_file(out .. "/summary.json"))))
    local post = cjson.decode((assert(util.read_file(out .. "/posterior.json"))))
    os.execute("rm -rf '" .. dir .. "' '" .. out .. "'")
    near(s.training_effect.diff, s.models[MODEL].training_effect.diff, 1e-14, "pooled = mini")
    near(s.training_effect.diff, s.models["gpt-4o-2024-08-06"].training_effect.diff, 1e-14, "pooled = other")
    assert.are.equal(2, s.native_training_effect.models)
    near(post.training_effect.median, s.training_effect.diff, 1e-6, "posterior median")
    assert.matches("pooled training_effect%s+diff 0%.2485", text)
    assert.matches("posterior median", text)
  end)
end)

describe("tables", function()
  local tables = require "introspect.analysis.tables"
  it("writes weights with a label column and rows with named columns", function()
    local by = { plain = { order = { "c1" }, c1 = { 1, -2 } }, trigger = { order = { "c1" }, c1 = { -1, 2 } } }
    assert.are.equal("condition,scenario,b_attr1,b_attr2\r\nplain,c1,1,-2\r\ntrigger,c1,-1,2\r\n",
      (tables.weights(by, "condition"):gsub("\r?\n", "\r\n")))
    assert.matches("^a,b\r?\n1,\r?\n", tables.rows({ { a = 1 } }, { "a", "b" }))
  end)
  it("gives the study's utility difference for ranges, Scenarios and Contexts", function()
    local scenario = { attributes = { { min = 0, max = 10 }, { min = 0, max = 2 } } }
    near(agreement.utility_difference({ 100, -50 }, scenario, { 5, 1 }, { 0, 0 }), 50 - 25, 1e-12, "scenario")
    near(agreement.utility_difference({ 100, -50 }, { scenario = scenario }, { 5, 1 }, { 0, 0 }), 25, 1e-12, "context")
    near(agreement.utility_difference({ 100, -50 }, { min = { 0, 0 }, max = { 10, 2 } }, { 5, 1 }, { 0, 0 }), 25,
      1e-12, "ranges")
  end)
end)

describe("replicates.pooled", function()
  it("pools each condition over replicate inputs, the base model's reports against each replicate", function()
    local learned, reports = replicate_set()
    local inputs = {}
    for r = 1, 3 do
      local m = "ft:base:r" .. r
      local mine, base = {}, {}
      for _, x in ipairs(reports) do
        if x.model == m then
          mine[#mine + 1] = x
          base[#base + 1] = { model = "base", scenario = x.scenario, report = x.report }
        end
      end
      inputs[r] = { learned = learned[m], reports = { instilled = mine, base = base } }
    end
    local P = replicates.pooled(inputs, { reps = 200 })
    assert.are.equal(3, P.instilled.replicates)
    assert.are.equal(600, P.instilled.n)
    near(P.instilled.slope, assert(replicates.accuracy(reports, learned, { reps = 10 })).slope, 1e-12, "slope")
    assert.are.equal(3, P.base.replicates)
    assert.is_true(P.instilled.boot_lo < P.instilled.slope and P.instilled.slope < P.instilled.boot_hi)
    assert.is_nil(P.itrained)
  end)
end)

describe("replicates.study", function()
  it("gives summary.json's replicates entry: models, the between-replicate spread, the pooled accuracy", function()
    local learned, reports = replicate_set()
    local inputs, summary = {}, { models = {} }
    local keys = { "base", "base r2", "base r3" }
    for r, key in ipairs(keys) do
      local m = "ft:base:r" .. r
      local mine = {}
      for _, x in ipairs(reports) do if x.model == m then mine[#mine + 1] = x end end
      inputs[key] = { learned = learned[m], reports = { instilled = mine } }
      summary.models[key] = { reports = { instilled = { slope = assert(analysis.accuracy(mine, learned[m])).slope } } }
    end
    local S = replicates.study(summary, inputs, { base = keys }, { reps = 100 })
    assert.are.same(keys, S.base.models)
    assert.are.equal(3, S.base.between.reports.instilled.n)
    near(S.base.between.reports.instilled.sd, S.base.pooled.instilled.between_sd, 1e-12, "two routes to the SD")
  end)
end)
