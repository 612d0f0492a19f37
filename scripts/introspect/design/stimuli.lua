-- The study's stimuli (method.md section 1): instilled weights, simulated choice trials and
-- introspection examples. rng = "python" draws exactly as the published study did (CPython's
-- Mersenne Twister, reseeded per phase); rng = "default" uses xoshiro256** with the same seeds.
local paper = require "introspect.design.paper"
local rng = require "introspect.rng"
local util = require "introspect.core.util"

local M = {}

-- The published study's stimulus numbers (from introspect.design.paper).
M.PAPER = {
  contexts = paper.scenario_contexts,   -- contexts (scenario + role) written to scenarios.csv
  instilled = paper.contexts,           -- contexts whose preferences are instilled
  train_per_context = paper.train_per_context,
  val_per_context = paper.val_per_context,
  attributes = paper.attributes,
  seeds = paper.seeds.stimuli,
}

-- generator(mode, seed) -> Generator: mt19937 for "python", xoshiro256** for "default".
function M.generator(mode, seed)
  if mode ~= "python" and mode ~= "default" then
    error("stimuli.generator: mode must be 'python' or 'default', got " .. tostring(mode), 2)
  end
  return rng.new(mode == "python" and "mt19937" or "xoshiro256**", seed)
end

-- weights(gen, k) -> k integers: k draws Uniform(-100, 100), scaled so the largest absolute
-- value is exactly 100 with its sign kept, each rounded half to even.
function M.weights(gen, k)
  local raw, imax = {}, 1
  for i = 1, k do
    raw[i] = gen:uniform(-100, 100)
    if math.abs(raw[i]) > math.abs(raw[imax]) then imax = i end
  end
  local m = raw[imax]
  local sign = m > 0 and 1.0 or (m < 0 and -1.0 or 0.0)
  local factor = (100 * sign) / m
  local w = {}
  for i = 1, k do w[i] = rng.pyround(raw[i] * factor) end
  return w
end

-- instilled_weights(contexts, opts) -> list of weight vectors, one per context in order.
-- opts: rng ("python" | "default"), seed (default 1).
function M.instilled_weights(contexts, opts)
  opts = util.check_options("stimuli.instilled_weights", opts, { rng = { "python", "default" }, seed = "integer" })
  local gen = M.generator(opts.rng or "default", opts.seed or M.PAPER.seeds.weights)
  local list = {}
  for i, c in ipairs(contexts) do list[i] = M.weights(gen, #c.scenario.attributes) end
  return list
end

-- choice_trials(contexts, weights, opts) -> list of {context=, trials=Trials, choices="ABB..."}
-- for contexts first..last, per_context simulated trials each, drawn in context order from one
-- generator seeded once. opts: rng, seed (default 2), first (1), last (#contexts),
-- per_context (60).
function M.choice_trials(contexts, weights, opts)
  opts = util.check_options("stimuli.choice_trials", opts, { rng = { "python", "default" },
    seed = "integer", first = "integer", last = "integer", per_context = "integer" })
  local gen = M.generator(opts.rng or "default", opts.seed or M.PAPER.seeds.selections)
  local first, last = opts.first or 1, opts.last or #contexts
  local per = opts.per_context or (M.PAPER.train_per_context + M.PAPER.val_per_context)
  local list = {}
  for i = first, last do
    local c = contexts[i]
    local trials = gen:trials(c.scenario, per)
    list[#list + 1] = { context = c, trials = trials, choices = weights and trials:choices(weights[i]) }
  end
  return list
end

-- report_trials(contexts, opts) -> list of {context=, trials=Trials (1 trial)} for contexts
-- first..last; the generator is reseeded before every context (the study's introspection
-- examples). opts: rng, seed (default 6), first, last.
function M.report_trials(contexts, opts)
  opts = util.check_options("stimuli.report_trials", opts, { rng = { "python", "default" },
    seed = "integer", first = "integer", last = "integer" })
  local seed = opts.seed or M.PAPER.seeds.introspection
  local gen = M.generator(opts.rng or "default", seed)
  local list = {}
  for i = opts.first or 1, opts.last or #contexts do
    gen:seed(seed)
    list[#list + 1] = { context = contexts[i], trials = gen:trials(contexts[i].scenario, 1) }
  end
  return list
end

-- study(contexts, opts) -> the published study's stimuli for the given contexts:
-- {contexts=, weights= (one per context), choices= (contexts 1..instilled, 60 trials each:
-- first 50 training, last 10 validation), reports= (introspection examples for 1..instilled),
-- rng=}. opts: rng ("python" | "default"), instilled (default 100).
function M.study(contexts, opts)
  opts = util.check_options("stimuli.study", opts, { rng = { "python", "default" }, instilled = "integer" })
  local mode = opts.rng or "default"
  local n = opts.instilled or M.PAPER.instilled
  if n > #contexts then
    error(string.format("stimuli.study: %d instilled contexts need %d contexts, have %d", n, n, #contexts), 0)
  end
  local weights = M.instilled_weights(contexts, { rng = mode })
  return {
    rng = mode,
    contexts = contexts,
    weights = weights,
    choices = M.choice_trials(contexts, weights, { rng = mode, first = 1, last = n }),
    reports = M.report_trials(contexts, { rng = mode, first = 1, last = n }),
    train_per_context = M.PAPER.train_per_context,
    val_per_context = M.PAPER.val_per_context,
  }
end

return M
