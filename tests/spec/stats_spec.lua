-- introspect.stats from Lua: API shape, errors, reproducibility, and agreement with
-- independent computations on synthetic data (logistic MLE recovers known weights, OLS and
-- correlations against closed forms computed here in plain Lua).
local stats = require "introspect.stats"

-- A synthetic choice data set: n trials, 5 attributes in [-1, 1] from a seeded generator,
-- choices from a logistic model with weights w.
local function synthetic(n, w, seed)
  local g = stats.rng(seed)
  local X, y = {}, {}
  for i = 1, n do
    local x, eta = {}, 0.2
    for j = 1, #w do x[j] = 2 * g:uniform() - 1; eta = eta + w[j] * x[j] end
    X[i], y[i] = x, g:uniform() < 1 / (1 + math.exp(-eta)) and 1 or 0
  end
  return X, y
end

describe("stats.logistic", function()
  it("recovers the generating weights by maximum likelihood on a large sample", function()
    local w = { 2, -1, 0.5, 0, -2.5 }
    local X, y = synthetic(20000, w, 11)
    local fit = assert(stats.logistic(X, y))
    for j = 1, 5 do
      assert.is_true(math.abs(fit.coef[j] - w[j]) < 4 * fit.se[j], "coef " .. j)
      assert.is_true(fit.se[j] > 0.01 and fit.se[j] < 0.1)
    end
    assert.is_true(fit.converged)
    assert.are.equal(20000, fit.n)
  end)

  it("shrinks toward 0 under a Normal(0, 1) prior", function()
    local X, y = synthetic(60, { 3, -3, 1, 0, 2 }, 5)
    local ml = assert(stats.logistic(X, y))
    local map = assert(stats.logistic(X, y, { prior_sd = 1 }))
    local sml, smap = 0, 0
    for j = 1, 5 do sml = sml + ml.coef[j] ^ 2; smap = smap + map.coef[j] ^ 2 end
    assert.is_true(smap < sml)
  end)

  it("says separation instead of returning huge numbers", function()
    local X, y = {}, {}
    for i = 1, 30 do X[i] = { i / 30 - 0.5, (i % 7) / 7 }; y[i] = i > 15 and 1 or 0 end
    local fit, err = stats.logistic(X, y)
    assert.is_nil(fit)
    assert.matches("separation", err)
    local map = assert(stats.logistic(X, y, { prior_sd = 1 }))
    assert.is_true(math.abs(map.coef[1]) < 20)
  end)

  it("rejects bad input by name", function()
    assert.has_error(function() stats.logistic({ { 1 }, { "x" } }, { 0, 1 }) end,
      "stats.logistic: X[2][1] is not a number (string)")
    assert.has_error(function() stats.logistic({ { 1 }, { 2 } }, { 0, 2 }) end,
      "stats.logistic: y[2] = 2.0 is outside [0, 1]")
    assert.error_matches(function() stats.logistic({ { 1 } }, { 1 }, { priorsd = 1 }) end,
      "unknown option 'priorsd'")
    assert.error_matches(function() stats.logistic({ { 1 } }, { 1, 0 }) end, "1 rows but y has 2")
  end)
end)

describe("stats.posterior", function()
  local X, y = synthetic(50, { 1.5, -1, 0.5, 0, -0.8 }, 21)

  it("is reproducible from its seed and reports diagnostics", function()
    local a = assert(stats.posterior(X, y, { seed = 7 }))
    local b = assert(stats.posterior(X, y, { seed = 7 }))
    local c = assert(stats.posterior(X, y, { seed = 8 }))
    assert.are.same(a.coef, b.coef)
    assert.are_not.same(a.coef, c.coef)
    assert.is_true(a.ess > 1000 and a.ess <= 4000)
    assert.is_true(a.khat < 0.7)
    for j = 1, 5 do
      -- two seeds differ by about their Monte Carlo error
      assert.is_true(math.abs(a.coef[j] - c.coef[j]) < 6 * math.sqrt(a.mcse[j] ^ 2 + c.mcse[j] ^ 2))
      assert.is_true(a.quantiles[1].coef[j] < a.coef[j] and a.coef[j] < a.quantiles[3].coef[j])
    end
  end)

  it("lies between the prior mean and the MLE, near the mode", function()
    local post = assert(stats.posterior(X, y, { seed = 1 }))
    local ml = assert(stats.logistic(X, y))
    for j = 1, 5 do
      assert.is_true(math.abs(post.coef[j]) < math.abs(ml.coef[j]) + 0.05)
      assert.is_true(math.abs(post.coef[j] - post.mode[j]) < 0.3)
    end
  end)

  it("takes a generator handle and keeps draws on request", function()
    local g <close> = stats.rng(3)
    local post = assert(stats.posterior(X, y, { rng = g, draws = 400, keep_draws = true }))
    assert.are.equal(400, #post.draws)
    assert.are.equal(6, #post.draws[1]) -- intercept first, then 5 slopes
    assert.matches("stats.rng", tostring(g))
    g:close()
    assert.matches("closed", tostring(g))
    assert.error_matches(function() stats.posterior(X, y, { rng = g }) end, "closed generator")
  end)

  it("fits many contexts in one call, with per-context errors", function()
    local res = stats.fit_many({ { X = X, y = y }, { X = {}, y = {} } }, { seed = 7 })
    assert.are.same(assert(stats.posterior(X, y, { seed = 7 })).coef, res[1].coef)
    assert.matches("no observations", res[2].error)
  end)

  it("gives the same fits on any number of threads (group g samples from seed + g - 1)", function()
    local groups = {}
    for g = 1, 9 do
      local Xg, yg = synthetic(40, { 1, -0.5, 0.3, 0, 0.7 }, 100 + g)
      groups[g] = { X = Xg, y = yg }
    end
    local one = stats.fit_many(groups, { seed = 5, threads = 1, keep_draws = true, draws = 200 })
    local three = stats.fit_many(groups, { seed = 5, threads = 3, keep_draws = true, draws = 200 })
    assert.are.same(one, three)
    local fourth = assert(stats.posterior(groups[4].X, groups[4].y, { seed = 8, draws = 200 }))
    assert.are.same(fourth.coef, one[4].coef)
    assert.error_matches(function() stats.fit_many(groups, { threads = 0 }) end, "threads")
  end)

  -- Case weights (here all 1) send every draw down the plain per-observation log-likelihood;
  -- without them the sampler takes its four-lane product path (padding included: n = 3, 17),
  -- and a pair with some |x.v| > 64 falls back to the plain path (scale 100 with n = 3: about
  -- 400 of the 2000 pairs, counted when this spec was written).
  it("gives the same posterior on its fast path as on the plain one", function()
    local g = stats.rng(77)
    for _, case in ipairs({ { 3, 1 }, { 17, 1 }, { 64, 1 }, { 3, 100 } }) do
      local n, scale = case[1], case[2]
      local Xs, ys, ws = {}, {}, {}
      for i = 1, n do
        Xs[i] = {}
        for j = 1, 5 do Xs[i][j] = scale * (2 * g:uniform() - 1) end
        ys[i], ws[i] = g:uniform() < 0.5 and 1 or 0, 1
      end
      local a = assert(stats.posterior(Xs, ys, { seed = 3 }))
      local b = assert(stats.posterior(Xs, ys, { seed = 3, weights = ws }))
      local worst = math.abs(a.intercept - b.intercept)
      for j = 1, 5 do
        worst = math.max(worst, math.abs(a.coef[j] - b.coef[j]), math.abs(a.sd[j] - b.sd[j]),
          math.abs(a.quantiles[1].coef[j] - b.quantiles[1].coef[j]),
          math.abs(a.quantiles[3].coef[j] - b.quantiles[3].coef[j]))
      end
      assert.is_true(worst < 1e-12 * scale, string.format("n %d scale %d: %g", n, scale, worst))
      assert.is_true(math.abs(a.ess - b.ess) < 1e-8 * a.ess)
    end
  end)

  it("times the log-likelihood floor for the bench (seconds and the sum of all evaluations)", function()
    local secs, sum = stats.loglik_floor({ { X = X, y = y } }, { draws = 100 })
    local secs2, sum2 = stats.loglik_floor({ { X = X, y = y }, { X = X, y = y } }, { draws = 100 })
    assert.is_true(secs >= 0 and secs2 >= 0)
    assert.is_true(sum < 0 and sum > -1e6)
    assert.is_true(math.abs(sum2 - 2 * sum) > 0) -- the second group gets other draws
    assert.error_matches(function() stats.loglik_floor({}, { bogus = 1 }) end, "unknown option 'bogus'")
  end)

  -- Calibration: with the true weights drawn from the prior itself (slopes ~ Normal(0, 1), the
  -- centred intercept ~ Student-t(3, 0, 2.5)), a correct posterior's 95% intervals cover the
  -- truth 95% of the time. 1000 simulated contexts x 5 slopes = 5000 intervals (binomial sd
  -- 0.3 points); the sampler must be within 1 point of nominal.
  it("has 95% intervals that cover the truth within 1 point of nominal on simulated data", function()
    local g = stats.rng(2024)
    local groups, truth = {}, {}
    for c = 1, 1000 do
      local b = {}
      for j = 1, 5 do b[j] = g:normal() end
      local chi = g:normal() ^ 2 + g:normal() ^ 2 + g:normal() ^ 2
      local b0 = 2.5 * g:normal() / math.sqrt(chi / 3)
      local Xc, yc, means = {}, {}, { 0, 0, 0, 0, 0 }
      for i = 1, 50 do
        Xc[i] = {}
        for j = 1, 5 do
          Xc[i][j] = 2 * g:uniform() - 1
          means[j] = means[j] + Xc[i][j] / 50
        end
      end
      for i = 1, 50 do
        local eta = b0
        for j = 1, 5 do eta = eta + b[j] * (Xc[i][j] - means[j]) end
        yc[i] = g:uniform() < 1 / (1 + math.exp(-eta)) and 1 or 0
      end
      groups[c], truth[c] = { X = Xc, y = yc }, b
    end
    local res = stats.fit_many(groups, { seed = 1 })
    local covered, total = 0, 0
    for c, r in ipairs(res) do
      assert.is_nil(r.error)
      for j = 1, 5 do
        total = total + 1
        local lo, hi = r.quantiles[1].coef[j], r.quantiles[3].coef[j]
        if lo <= truth[c][j] and truth[c][j] <= hi then covered = covered + 1 end
      end
    end
    local coverage = covered / total
    assert.is_true(math.abs(coverage - 0.95) <= 0.01, string.format("coverage %.4f", coverage))
  end)
end)

describe("stats summaries", function()
  it("scales like the study and rounds half to even", function()
    assert.are.same({ 100, -50, 0 }, stats.scale_weights({ 0.8, -0.4, 0.001 }))
    assert.are.same({ -100, 12 }, stats.scale_weights({ -2, 0.25 })) -- 12.5 -> 12
    assert.are.equal(0, stats.round(0.5))
    assert.are.equal(2, stats.round(1.5))
    assert.is_nil((stats.scale_weights({ 0, 0 })))
  end)

  it("computes Pearson r with a Fisher-z interval and Spearman on ranks", function()
    local x, y = {}, {}
    for i = 1, 30 do x[i] = i; y[i] = (i * 7) % 11 + i / 3 end
    local mx, my, sxy, sxx, syy = 15.5, 0, 0, 0, 0
    for i = 1, 30 do my = my + y[i] / 30 end
    for i = 1, 30 do
      sxy = sxy + (x[i] - mx) * (y[i] - my)
      sxx = sxx + (x[i] - mx) ^ 2
      syy = syy + (y[i] - my) ^ 2
    end
    local r = stats.pearson(x, y)
    assert.is_true(math.abs(r.r - sxy / math.sqrt(sxx * syy)) < 1e-12)
    local z, h = 0.5 * math.log((1 + r.r) / (1 - r.r)), 1.959963984540054 / math.sqrt(27)
    local function tanh(v) return (math.exp(2 * v) - 1) / (math.exp(2 * v) + 1) end
    assert.is_true(math.abs(r.lo - tanh(z - h)) < 1e-9)
    local cubed = {}
    for i = 1, 30 do cubed[i] = x[i] ^ 3 end
    assert.are.equal(1, stats.spearman(x, cubed).r) -- monotone: ranks agree exactly
  end)

  it("fits OLS with the coefficient covariance and compares two slopes", function()
    local X, y, x1, y1, x2, y2 = {}, {}, {}, {}, {}, {}
    for i = 1, 40 do
      X[i] = { i, (i * 3) % 7 }
      y[i] = 1 + 2 * i - 0.5 * X[i][2] + ((i * 13) % 5 - 2) / 10
      if i <= 20 then x1[#x1 + 1], y1[#y1 + 1] = i, 0.5 * i + (i % 3) / 10
      else x2[#x2 + 1], y2[#y2 + 1] = i, 0.8 * i + (i % 4) / 10 end
    end
    local fit = assert(stats.ols(X, y))
    assert.is_true(math.abs(fit.coef[1] - 2) < 0.01 and math.abs(fit.coef[2] + 0.5) < 0.05)
    assert.are.equal(37, fit.df)
    assert.is_true(math.abs(fit.cov[2][2] - fit.se[1] ^ 2) < 1e-15)
    local d = assert(stats.slope_difference(x1, y1, x2, y2))
    assert.is_true(math.abs(d.diff - 0.3) < 0.02 and d.lo < d.diff and d.diff < d.hi)
    assert.is_true(math.abs(d.slope2 - d.slope1 - d.diff) < 1e-12)
  end)

  it("bootstraps over clusters reproducibly", function()
    local x, y, cl = {}, {}, {}
    local g = stats.rng(1)
    for c = 1, 40 do
      local shift = g:normal()
      for _ = 1, 5 do
        local v = g:normal()
        x[#x + 1], y[#y + 1], cl[#cl + 1] = v, 0.6 * v + shift + 0.3 * g:normal(), c
      end
    end
    local a = assert(stats.cluster_bootstrap(x, y, cl, { reps = 500, seed = 2 }))
    local b = assert(stats.cluster_bootstrap(x, y, cl, { reps = 500, seed = 2 }))
    assert.are.same(a, b)
    assert.are.equal(40, a.clusters)
    assert.is_true(a.lo < a.estimate and a.estimate < a.hi and a.lo > 0.2 and a.hi < 1.0)
    local r = assert(stats.cluster_bootstrap(x, y, cl, { reps = 200, statistic = "r" }))
    assert.is_true(r.estimate > 0 and r.estimate < 1)
  end)

  it("bootstraps over string cluster ids exactly as bootstrap.clusters does (one implementation)", function()
    local bootstrap = require "introspect.analysis.bootstrap"
    local x, y, names, codes, reps = {}, {}, {}, {}, {}
    local g = stats.rng(5)
    for c = 1, 30 do
      local shift = g:normal()
      for r = 1, 4 do
        local v = g:normal()
        x[#x + 1], y[#y + 1] = v, 0.5 * v + shift + 0.3 * g:normal()
        names[#names + 1], codes[#codes + 1], reps[#reps + 1] = "context " .. c, 10 * c, "r" .. r
      end
    end
    local opts = { reps = 300, seed = 9 }
    local c = assert(stats.cluster_bootstrap(x, y, names, opts))
    assert.are.same(c, assert(stats.cluster_bootstrap(x, y, codes, opts))) -- numbers still work
    assert.are.equal(30, c.clusters)
    assert.are.equal("one", c.design)
    local l = assert(bootstrap.clusters(x, y, names, opts))
    for _, k in ipairs({ "estimate", "se", "lo", "hi", "reps", "level" }) do assert.are.equal(c[k], l[k]) end
    assert.are.same({ 30 }, l.clusters)
    local cc = assert(stats.cluster_bootstrap(x, y, { crossed = { reps, names } }, opts))
    local lc = assert(bootstrap.clusters(x, y, { crossed = { reps, names } }, opts))
    assert.are.same({ cc.se, cc.lo, cc.hi, 4, 30 }, { lc.se, lc.lo, lc.hi, lc.clusters[1], lc.clusters[2] })
    assert.is_true(cc.se > c.se * 0.5 and cc.lo < cc.estimate and cc.estimate < cc.hi)
    local m = assert(stats.cluster_bootstrap(nil, y, names, { statistic = "mean", reps = 100 }))
    local sum = 0
    for _, v in ipairs(y) do sum = sum + v end
    assert.is_true(math.abs(m.estimate - sum / #y) < 1e-12)
    names[7] = 0 / 0
    assert.error_matches(function() stats.cluster_bootstrap(x, y, names) end, "clusters%[7%] is not an id")
    names[7], names[#names] = "context 2", nil
    assert.error_matches(function() stats.cluster_bootstrap(x, y, names) end, "clusters needs 120 cluster ids")
  end)

  it("z-scores with the sample sd and refuses constants", function()
    local z, m, sd = stats.zscore({ 1, 2, 3 })
    assert.are.same({ -1, 0, 1 }, z)
    assert.are.equal(2, m)
    assert.are.equal(1, sd)
    local none, err = stats.zscore({ 4, 4 })
    assert.is_nil(none)
    assert.matches("constant", err)
  end)
end)
