-- Ground truth for the end-to-end correctness specs (tests/spec/oracle_*_spec.lua).
--
-- A run on the simulated subject keeps the subject's state (sim-state/) and every request it
-- sent (responses.sqlite). From them this module rebuilds the subject as it was at the end of
-- the run and answers, independently of the study's code path:
--   * what the subject answers to each exact prompt the study sent (the choice it made);
--   * each served model's actual weights per context, expected report and report noise, from
--     the subject's own ground truth (api:truth, the REPL's "sim actual" column);
--   * reference logistic fits recomputed from the published-layout CSVs with plain IRLS
--     (Newton's method in Lua, not the study's GSL code), their Fisher standard errors.
-- Bounds in the specs are derived from these standard errors (the design's size) and the
-- subject's documented parameters (docs/simulated-subject.md), never from a previous run.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local util = require "introspect.core.util"

local M = {}

local abs, sqrt, exp, log = math.abs, math.sqrt, math.exp, math.log

-- pearson(x, y) -> Pearson correlation of two equal-length number arrays
M.pearson = require("sim_support").pearson

-- mean(x), variance(x) (population)
function M.mean(x)
  local s = 0
  for i = 1, #x do s = s + x[i] end
  return s / #x
end
function M.variance(x)
  local m, s = M.mean(x), 0
  for i = 1, #x do s = s + (x[i] - m) ^ 2 end
  return s / #x
end

-- scale100(v) -> v scaled so the largest |value| is 100 (as the study scales weights)
function M.scale100(v)
  local m = 0
  for i = 1, #v do m = math.max(m, abs(v[i])) end
  local out = {}
  for i = 1, #v do out[i] = m > 0 and 100 * v[i] / m or 0 end
  return out
end

-- invert(A) -> inverse of a small symmetric positive-definite matrix (Gauss-Jordan, pivoting)
function M.invert(A)
  local n = #A
  local m = {}
  for i = 1, n do
    m[i] = {}
    for j = 1, n do m[i][j] = A[i][j] end
    for j = 1, n do m[i][n + j] = (i == j) and 1 or 0 end
  end
  for c = 1, n do
    local p = c
    for r = c + 1, n do if abs(m[r][c]) > abs(m[p][c]) then p = r end end
    assert(abs(m[p][c]) > 1e-300, "invert: singular matrix")
    m[c], m[p] = m[p], m[c]
    local d = m[c][c]
    for j = 1, 2 * n do m[c][j] = m[c][j] / d end
    for r = 1, n do
      if r ~= c then
        local f = m[r][c]
        if f ~= 0 then for j = 1, 2 * n do m[r][j] = m[r][j] - f * m[c][j] end end
      end
    end
  end
  local inv = {}
  for i = 1, n do
    inv[i] = {}
    for j = 1, n do inv[i][j] = m[i][n + j] end
  end
  return inv
end

local function sigmoid(z)
  if z >= 0 then return 1 / (1 + exp(-z)) end
  local e = exp(z)
  return e / (1 + e)
end

-- information(X, beta) -> Fisher information matrix of a logistic regression with an intercept
-- (beta[1]) at beta, for design rows X[i] = {x1..xk}
function M.information(X, beta)
  local k = #beta
  local I = {}
  for a = 1, k do I[a] = {} for b = 1, k do I[a][b] = 0 end end
  for _, x in ipairs(X) do
    local z = beta[1]
    for j = 2, k do z = z + beta[j] * x[j - 1] end
    local p = sigmoid(z)
    local w = p * (1 - p)
    for a = 1, k do
      local xa = a == 1 and 1 or x[a - 1]
      for b = 1, k do
        local xb = b == 1 and 1 or x[b - 1]
        I[a][b] = I[a][b] + w * xa * xb
      end
    end
  end
  return I
end

-- irls(X, y, prior_sd[, intercept_sd]) -> beta (intercept first), covariance
-- Maximum a posteriori logistic regression by Newton's method (iteratively reweighted least
-- squares) with an independent N(0, prior_sd^2) prior on every slope and N(0, intercept_sd^2)
-- (default prior_sd) on the intercept (prior_sd = nil: plain maximum likelihood). y may be soft
-- labels in [0, 1]. Written here, separately from introspect.stats, as a reference.
function M.irls(X, y, prior_sd, intercept_sd)
  local k = #X[1] + 1
  local beta, ridge = {}, {}
  for j = 1, k do beta[j] = 0 end
  for j = 1, k do
    local sd = j == 1 and (intercept_sd or prior_sd) or prior_sd
    ridge[j] = sd and 1 / sd ^ 2 or 0
  end
  for _ = 1, 100 do
    local I = M.information(X, beta)
    local g = {}
    for j = 1, k do g[j] = -ridge[j] * beta[j]; I[j][j] = I[j][j] + ridge[j] end
    for i, x in ipairs(X) do
      local z = beta[1]
      for j = 2, k do z = z + beta[j] * x[j - 1] end
      local r = y[i] - sigmoid(z)
      g[1] = g[1] + r
      for j = 2, k do g[j] = g[j] + r * x[j - 1] end
    end
    local inv = M.invert(I)
    local step = 0
    for a = 1, k do
      local d = 0
      for b = 1, k do d = d + inv[a][b] * g[b] end
      beta[a] = beta[a] + d
      step = math.max(step, abs(d))
    end
    if step < 1e-10 then break end
  end
  local I = M.information(X, beta)
  for j = 1, k do I[j][j] = I[j][j] + ridge[j] end
  return beta, M.invert(I)
end

-- read_csv(path) -> csv table (fails the test when unreadable)
function M.read_csv(path)
  local t, err = csv.read(path)
  assert(t, err)
  return t
end

-- ranges(scenarios_csv) -> ranges[scenario] = {question=, min={}, max={}} from the published
-- scenarios.csv layout
function M.ranges(path)
  local t = M.read_csv(path)
  local out = {}
  for _, row in ipairs(t.rows) do
    local r = { question = row.question, min = {}, max = {}, names = {} }
    local j = 1
    while row["attr" .. j] do
      r.names[j] = row["attr" .. j]
      r.min[j], r.max[j] = tonumber(row["attr" .. j .. "_min"]), tonumber(row["attr" .. j .. "_max"])
      j = j + 1
    end
    out[row.scenario] = r
  end
  return out
end

-- weights(path) -> w[scenario] = {numbers} from a *_regression_results.csv or
-- instilled_weights.csv; w.order = scenarios in file order
function M.weights(path)
  local t = M.read_csv(path)
  local out = { order = {} }
  for _, row in ipairs(t.rows) do
    local w, j = {}, 1
    while row["b_attr" .. j] or row["attr" .. j] do
      w[j] = assert(tonumber(row["b_attr" .. j] or row["attr" .. j]), path .. ": not a number")
      j = j + 1
    end
    out[row.scenario] = w
    out.order[#out.order + 1] = row.scenario
  end
  return out
end

-- selections(path, ranges) -> groups[scenario] = {model=, X={}, y={}, rows={}} from a published
-- *_selections.csv: predictors (A_j - B_j) / (max_j - min_j), y = 1 for A
function M.selections(path, ranges)
  local t = M.read_csv(path)
  local groups = { order = {} }
  for _, row in ipairs(t.rows) do
    local r = assert(ranges[row.scenario], "no ranges for " .. tostring(row.scenario))
    local g = groups[row.scenario]
    if not g then
      g = { model = row.model, X = {}, y = {}, rows = {} }
      groups[row.scenario] = g
      groups.order[#groups.order + 1] = row.scenario
    end
    local x, a, b = {}, {}, {}
    for j = 1, #r.min do
      a[j], b[j] = tonumber(row["A_attribute_" .. j]), tonumber(row["B_attribute_" .. j])
      x[j] = (a[j] - b[j]) / (r.max[j] - r.min[j])
    end
    assert(row.selection == "A" or row.selection == "B", path .. ": selection " .. tostring(row.selection))
    g.X[#g.X + 1] = x
    g.y[#g.y + 1] = row.selection == "A" and 1 or 0
    g.rows[#g.rows + 1] = { selection = row.selection, a = a, b = b }
  end
  return groups
end

-- copy_dir(from) -> a fresh copy of a directory (the subject's state is loaded from a copy,
-- so rebuilding it never appends to the run's journal)
local function copy_dir(from)
  local to = os.tmpname()
  os.remove(to)
  assert(os.execute(string.format("cp -r '%s' '%s'", from, to)), "cannot copy " .. from)
  return to
end

-- subject(dir[, profiles]) -> truth: the simulated subject of the run in `dir` rebuilt from its
-- sim-state/ journal, with every decision and report prompt the run sent (from
-- responses.sqlite) parsed by the subject's own prompt reader.
-- truth.api, truth.prompts = list of {model=, kind=, parsed=, body=, reply=, response= (decoded)}
function M.subject(dir, profiles)
  local sim = require "introspect.sim"
  local state = copy_dir(dir .. "/sim-state")
  local api = sim.api({ state_dir = state, profiles = profiles })
  local parser = require("introspect.sim.prompt").new()
  local truth = { api = api, parser = parser, prompts = {}, by_question = {} }
  local st = assert(require("introspect.client.store").open(dir .. "/responses.sqlite"))
  local rows = assert(st:records()) -- bodies decoded (the store compresses them)
  st:close()
  for _, row in ipairs(rows) do
    if row.ok == 1 and row.path == "/chat/completions" then
      local body = cjson.decode(row.request)
      local user = body.messages[#body.messages].content
      local parsed = parser:parse(user)
      if parsed then
        local resp = cjson.decode(row.response)
        truth.prompts[#truth.prompts + 1] = { model = row.model, kind = parsed.kind, parsed = parsed, body = body,
          reply = resp.choices[1].message.content, response = resp }
        truth.by_question[parsed.ctx.question] = body.messages
      end
    end
  end
  return truth
end

-- facts(truth, model_id, question) -> the subject's ground truth (api:truth, see
-- introspect.sim.truth: weights, report_mean, report_noise, access, ...) for a served model in
-- the context asked with `question` (as sent in the run's prompts)
function M.facts(truth, model_id, question)
  local messages = assert(truth.by_question[question], "no prompt of the run asked: " .. question)
  local facts, err = truth.api:truth(model_id, messages)
  return assert(facts, err)
end

-- actual(truth, model_id, question) -> the model's actual weights (max |w| = 100)
function M.actual(truth, model_id, question)
  return M.facts(truth, model_id, question).weights
end

-- expected_report(truth, model_id, question) -> the model's expected report for the context
-- (before per-prompt noise and rescaling), docs/simulated-subject.md "Reports"
function M.expected_report(truth, model_id, question)
  return M.facts(truth, model_id, question).report_mean
end

-- ask(truth, body) -> the reply text the rebuilt subject gives to a chat request body
function M.ask(truth, body)
  local res = truth.api:handle({ method = "POST", path = "/v1/chat/completions",
    headers = { ["content-type"] = "application/json" }, body = cjson.encode(body) })
  assert(res.status == 200, "the rebuilt subject answered " .. tostring(res.status) .. ": " .. tostring(res.body))
  return cjson.decode(res.body).choices[1].message.content
end

-- p_a(response) -> P("A") among "A" and "B" in the first token's top_logprobs of a decoded chat
-- response (the oracle's own reading), or nil when it carries none
function M.p_a(response)
  local lp = response.choices[1].logprobs
  local first = lp and lp.content and lp.content[1]
  if not (first and first.top_logprobs) then return nil end
  local pa, pb
  for _, t in ipairs(first.top_logprobs) do
    if t.token == "A" then pa = exp(t.logprob) elseif t.token == "B" then pb = exp(t.logprob) end
  end
  return pa and pb and pa / (pa + pb) or nil
end

-- choice_agreement(truth, items) -> agreement, expected, sd over items {model=, messages=,
-- selection=}: agreement is the share of choices on the side of the true utility (without the
-- prompt's noise), expected what the subject's documented choice noise implies (P =
-- sigmoid(|z| / choice_noise) per trial), sd the binomial sd of the agreement around it.
function M.choice_agreement(truth, items)
  local agree, expected, var = 0, 0, 0
  for _, it in ipairs(items) do
    local facts = assert(truth.api:truth(it.model, it.messages))
    local noise = truth.api:model(it.model).profile.choice_noise
    local pr = sigmoid(abs(facts.utility_logit) / noise)
    if (facts.utility_logit >= 0) == (it.selection == "A") then agree = agree + 1 end
    expected, var = expected + pr, var + pr * (1 - pr)
  end
  return agree / #items, expected / #items, sqrt(var) / #items
end

-- effective(truth, items, X) -> the subject's effective weights (max |w| = 100) on the study's
-- predictors X[i] of items[i] = {model=, messages=}: the least-squares slopes (with an
-- intercept) of its true utility logits on them. An untrained subject reads each value on its
-- order of magnitude (docs/simulated-subject.md, Decisions), so these are the weights a fit on
-- the study's predictors recovers; with a known range they are its actual weights.
function M.effective(truth, items, X)
  local k = #X[1] + 1
  local XtX, Xtz = {}, {}
  for a = 1, k do
    XtX[a], Xtz[a] = {}, 0
    for b = 1, k do XtX[a][b] = 0 end
  end
  for i, it in ipairs(items) do
    local z = assert(truth.api:truth(it.model, it.messages)).utility_logit
    local row = { 1, table.unpack(X[i]) }
    for a = 1, k do
      Xtz[a] = Xtz[a] + row[a] * z
      for b = 1, k do XtX[a][b] = XtX[a][b] + row[a] * row[b] end
    end
  end
  local inv, slopes = M.invert(XtX), {}
  for a = 2, k do
    local v = 0
    for b = 1, k do v = v + inv[a][b] * Xtz[b] end
    slopes[a - 1] = v
  end
  return M.scale100(slopes)
end

-- decisions_key(question, a, b) -> a key identifying one choice trial by its context and values
function M.trial_key(question, a, b)
  local parts = { question }
  for j = 1, #a do parts[#parts + 1] = string.format("%.10g", a[j]) end
  for j = 1, #b do parts[#parts + 1] = string.format("%.10g", b[j]) end
  return table.concat(parts, "|")
end

-- scaled_se(X, w, beta[, y]) -> per-attribute standard errors of a fit's scaled weights
-- (max |w| = 100) at the truth: the Fisher information I of the design X at the logit slopes
-- implied by the actual weights w with the magnitude of the fitted slopes beta (one nuisance
-- scale per context), by the delta method for the rescaling. With soft labels y (P(A) in 0..1,
-- whose variance is not a Bernoulli's) the sandwich I^-1 (sum x x' (y - p)^2) I^-1 instead.
function M.scaled_se(X, w, beta, y)
  local big = 0
  for j = 2, #beta do big = math.max(big, abs(beta[j])) end
  local truth = { beta[1] }
  for j = 1, #w do truth[j + 1] = big * w[j] / 100 end
  local cov = M.invert(M.information(X, truth))
  if y then
    local k, B = #truth, {}
    for a = 1, k do B[a] = {} for b = 1, k do B[a][b] = 0 end end
    for i, x in ipairs(X) do
      local row = { 1, table.unpack(x) }
      local z = 0
      for a = 1, k do z = z + truth[a] * row[a] end
      local r2 = (y[i] - sigmoid(z)) ^ 2
      for a = 1, k do for b = 1, k do B[a][b] = B[a][b] + row[a] * row[b] * r2 end end
    end
    local S = {}
    for a = 1, k do
      S[a] = {}
      for b = 1, k do
        local v = 0
        for c = 1, k do for d = 1, k do v = v + cov[a][c] * B[c][d] * cov[d][b] end end
        S[a][b] = v
      end
    end
    cov = S
  end
  local se = {}
  for j = 1, #w do se[j] = 100 * sqrt(cov[j + 1][j + 1]) / math.max(big, 1e-9) end
  return se
end

-- compare(groups, learned, actual_of[, soft]) -> c: a run's learned weights against the truth,
-- per context x attribute in group order. actual_of(group, scenario) -> true weights (max |w| =
-- 100); soft: the groups' y are soft labels (standard errors by the sandwich, see scaled_se).
-- c = {learned=, actual=, reference= (IRLS of the CSV, scaled), scenarios=, z2= (mean squared
-- error standardized by the standard errors at the truth), r= (learned, actual),
-- r_ref= (learned, reference), r_design= (the r those standard errors imply)}
function M.compare(groups, learned, actual_of, soft)
  local c = { learned = {}, actual = {}, reference = {}, scenarios = {} }
  local L, A, R, Z2, SE2 = c.learned, c.actual, c.reference, {}, {}
  for _, s in ipairs(groups.order) do
    local g = groups[s]
    local w = actual_of(g, s)
    local beta = M.irls(g.X, g.y, 10)
    local ref = {}
    for j = 2, #beta do ref[j - 1] = beta[j] end
    ref = M.scale100(ref)
    local se = M.scaled_se(g.X, w, beta, soft and g.y or nil)
    for j = 1, #w do
      local n = #L + 1
      L[n], A[n], R[n], c.scenarios[n] = assert(learned[s], "no learned weights for " .. s)[j], w[j], ref[j], s
      Z2[n], SE2[n] = ((L[n] - w[j]) / se[j]) ^ 2, se[j] ^ 2
    end
  end
  c.z2, c.r, c.r_ref = M.mean(Z2), M.pearson(L, A), M.pearson(L, R)
  c.r_design = math.sqrt(M.variance(A) / (M.variance(A) + M.mean(SE2)))
  return c
end

-- read_file / exists helpers re-exported for specs
M.read_file, M.file_exists = util.read_file, util.file_exists

-- log is used by callers computing likelihoods
M.log = log

return M
