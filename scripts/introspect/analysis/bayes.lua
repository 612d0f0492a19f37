-- Bayesian summaries of linear-model contrasts, in the spirit of brms + bayestestR
-- (posterior median, 95% equal-tailed interval, probability of direction, % in ROPE).
-- Model y = X b + e, e ~ Normal(0, sigma^2); prior: the coefficients named in opts.prior_sd
-- ~ Normal(0, sd), the others flat; p(sigma) proportional to 1/sigma. The posterior of a contrast
-- c'b is a mixture over sigma of normals, integrated exactly on a fine grid of log sigma
-- (no sampling). See docs/statistics.md ("Bayesian summaries").
local util = require "introspect.core.util"
local linalg = require "introspect.core.linalg"

local M = {}

M.DEFAULT_PRIOR = "flat on every coefficient (brms's default for b); p(sigma) ~ 1/sigma"

-- Standard normal CDF, from erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
local function Phi(z)
  local x = -z / math.sqrt(2)
  local t = 1 / (1 + 0.5 * math.abs(x))
  local r = t * math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))))
  if x < 0 then r = 2 - r end
  return r / 2
end
M.Phi = Phi

local cholesky, solve = linalg.cholesky, linalg.solve

-- contrast(X, y, c [, opts]) -> {median, lo, hi, pd, rope, mean, sd, level, prior} | nil, err
-- X: rows of predictors (no intercept is added: put a column of 1s where one is wanted);
-- c: contrast weights, one per column. opts: level (0.95), prior_sd (a number: Normal(0, sd)
-- on every coefficient; an array: one entry per column, false = flat; absent: all flat),
-- rope ({-0.1, 0.1}), grid (points of log sigma; at least 801, 30 per posterior SD).
function M.contrast(X, y, c, opts)
  opts = util.check_options("bayes.contrast", opts, { level = "number", prior_sd = "any",
    rope = "table", grid = "integer" })
  local n, p = #y, #c
  if #X ~= n then error(string.format("bayes.contrast: %d rows of X for %d values of y", #X, n), 2) end
  if n <= p then return nil, string.format("bayes.contrast: %d observations for %d coefficients", n, p) end
  local prec = {}
  for j = 1, p do
    local sd = opts.prior_sd
    if type(sd) == "table" then sd = sd[j] end
    if sd and not (type(sd) == "number" and sd > 0) then
      error("bayes.contrast: prior_sd must be positive numbers (or false for flat)", 2)
    end
    prec[j] = sd and 1 / (sd * sd) or 0
  end
  local XtX, Xty, yty = {}, {}, 0
  for j = 1, p do XtX[j] = {}; Xty[j] = 0; for k = 1, p do XtX[j][k] = 0 end end
  for i = 1, n do
    local row, yi = X[i], y[i]
    if #row ~= p then error(string.format("bayes.contrast: X[%d] has %d columns, c has %d", i, #row, p), 2) end
    yty = yty + yi * yi
    for j = 1, p do
      local xj = row[j]
      if xj ~= 0 then
        Xty[j] = Xty[j] + xj * yi
        local r = XtX[j]
        for k = 1, p do r[k] = r[k] + xj * row[k] end
      end
    end
  end
  local L0 = cholesky(XtX, p)
  if not L0 then return nil, "bayes.contrast: singular design" end
  local bhat = solve(L0, p, Xty)
  local rss = yty
  for j = 1, p do rss = rss - bhat[j] * Xty[j] end
  if rss <= 0 then return nil, "bayes.contrast: the data are fitted exactly" end
  -- sigma lies between the least-squares residual SD (no shrinkage) and sqrt(y'y / (n - p))
  -- (everything shrunk to 0); the grid spans both, 12 posterior SDs of log sigma beyond.
  local width = 1 / math.sqrt(2 * (n - p))
  local lo_u = 0.5 * math.log(rss / (n - p)) - 12 * width
  local hi_u = 0.5 * math.log(math.max(yty, rss) / (n - p)) + 12 * width
  local K = opts.grid or math.max(801, math.ceil((hi_u - lo_u) / width * 30))
  local logw, mu, sd = {}, {}, {}
  local A = {}
  for j = 1, p do A[j] = {} end
  local best = -math.huge
  for k = 1, K do
    local u = lo_u + (hi_u - lo_u) * (k - 1) / (K - 1)
    local s2 = math.exp(2 * u)
    for j = 1, p do
      for l = 1, p do A[j][l] = XtX[j][l] / s2 end
      A[j][j] = A[j][j] + prec[j]
    end
    local L = cholesky(A, p)
    if not L then return nil, "bayes.contrast: posterior precision not positive definite" end
    local h = {}
    for j = 1, p do h[j] = Xty[j] / s2 end
    local m = solve(L, p, h)
    local logdet, hm, cm = 0, 0, 0
    for j = 1, p do logdet = logdet + 2 * math.log(L[j][j]); hm = hm + h[j] * m[j]; cm = cm + c[j] * m[j] end
    local v = solve(L, p, c)
    local cv = 0
    for j = 1, p do cv = cv + c[j] * v[j] end
    -- log p(u | y): sigma^-n |A|^-1/2 exp(-(y'y/s2 - h'm)/2), p(sigma) ~ 1/sigma and du = dsigma/sigma
    logw[k] = -n * u - 0.5 * logdet - 0.5 * (yty / s2 - hm)
    mu[k], sd[k] = cm, math.sqrt(cv)
    if logw[k] > best then best = logw[k] end
  end
  local total, mean, second = 0, 0, 0
  for k = 1, K do
    local w = math.exp(logw[k] - best)
    if k == 1 or k == K then w = w / 2 end
    logw[k] = w
    total = total + w
  end
  if logw[1] / total > 1e-9 or logw[K] / total > 1e-9 then
    return nil, "bayes.contrast: the posterior of sigma is wider than the grid"
  end
  local lo_t, hi_t = math.huge, -math.huge
  for k = 1, K do
    logw[k] = logw[k] / total
    mean = mean + logw[k] * mu[k]
    second = second + logw[k] * (sd[k] ^ 2 + mu[k] ^ 2)
    lo_t, hi_t = math.min(lo_t, mu[k] - 12 * sd[k]), math.max(hi_t, mu[k] + 12 * sd[k])
  end
  local function cdf(t)
    local s = 0
    for k = 1, K do if logw[k] > 1e-15 then s = s + logw[k] * Phi((t - mu[k]) / sd[k]) end end
    return s
  end
  local function quantile(q)
    local a, b = lo_t, hi_t
    for _ = 1, 80 do
      local mid = (a + b) / 2
      if cdf(mid) < q then a = mid else b = mid end
    end
    return (a + b) / 2
  end
  local level = opts.level or 0.95
  local rope = opts.rope or { -0.1, 0.1 }
  local f0 = cdf(0)
  return { median = quantile(0.5), lo = quantile((1 - level) / 2), hi = quantile((1 + level) / 2),
    pd = math.max(f0, 1 - f0), rope = cdf(rope[2]) - cdf(rope[1]), mean = mean,
    sd = math.sqrt(math.max(second - mean * mean, 0)), level = level }
end

-- slope(x, y [, opts]) -> summary of the slope of y ~ 1 + x (opts as for contrast; prior_sd a
-- number puts Normal(0, sd) on the slope, the intercept stays flat).
function M.slope(x, y, opts)
  opts = opts or {}
  local X = {}
  for i = 1, #x do X[i] = { 1, x[i] } end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if type(o.prior_sd) == "number" then o.prior_sd = { false, o.prior_sd } end
  return M.contrast(X, y, { 0, 1 }, o)
end

-- describe(prior_sd) -> the prior in words, for reports and JSON.
function M.describe(prior_sd)
  if not prior_sd then return M.DEFAULT_PRIOR end
  return string.format("slopes ~ Normal(0, %g), intercepts flat; p(sigma) ~ 1/sigma", prior_sd)
end

return M
