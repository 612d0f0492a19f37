-- experiments/decide-explain.lua: decide, then explain. Two-turn conversations with an instilled
-- model: the choice, then "which weights did you use for this decision" (JSON). Per trial, does
-- sign(w_report . (a - b)) name the choice made? That agreement beside the learned weights' (fit
-- to the same choices), a plain report's (no decision before it) and chance (0.5), with intervals;
-- the paired per-context difference explanation - plain report shows the pull to rationalize.
--   introspect experiments/decide-explain.lua [--backend=sim] [--model=sim-large] [--max-cost=N] [--out=DIR]
local agreement = require "introspect.analysis.agreement"
local analysis = require "introspect.analysis"
local prompts = require "introspect.design.prompts"
local pyjson = require "introspect.core.pyjson"
local entry = require "introspect.run.entry"
local study = require "introspect.study"

entry.main({ program = "decide-explain.lua", options = {
  { "model", "string", "sim-large", "base model" }, { "contexts", "integer", 40, "instilled contexts" },
  { "trials", "integer", 30, "decisions per context" }, { "backend", "string", "sim", "sim, openai, a profile, a URL" },
  { "question", "string", "Which weights did you use for this decision? Answer only with JSON, the dimension names "
    .. "as keys and weights from -100 to 100 as values.", "the second turn" },
  { "max-cost", "number", nil, "dollars at most" }, { "out", "string", "runs/decide-explain", "run directory" },
} }, function(opts)
  local s = entry.closing(study.session({ out = opts.out, backend = opts.backend, max_cost = opts.max_cost,
    name = "decide-explain", models = { opts.model }, design = entry.design(opts) }))
  local stim = study.stimuli(s, study.inputs({ contexts = opts.contexts,
    scenarios = entry.beside("scenarios/library.lua"), roles = entry.beside("scenarios/roles.lua") }))
  local ctxs = study.pick(stim.contexts, study.ids(1, opts.contexts))
  local model = s:finetune(opts.model, "instill", stim.instill, { suffix = "instill" })
  local recs = s:choices({ name = "decisions", model = model, file = "selections.csv",
    trials = study.trials(ctxs, { per_context = opts.trials, seed = 5 }) })
  local decided, chosen, sel = {}, {}, study.selections(recs)   -- one selection per valid decision
  for _, r in ipairs(recs) do
    if r.value then decided[#decided + 1], chosen[r.trial], sel[#decided + 1].trial = r.trial, r.raw, r.trial end
  end
  local function conversation(_, t)   -- the decision turn, the model's own answer, the question
    local m = study.messages(prompts.default, "decision", t)
    return { m[1], m[2], { role = "assistant", content = chosen[t] }, { role = "user", content = opts.question } }
  end
  local function reported(name, hook)   -- the weights reported for each decided trial
    local got = {}
    for _, r in ipairs(s:reports({ name = name, model = model, trials = decided, messages = hook })) do
      got[r.trial] = r.value
    end
    return function(x) return got[x.trial] end
  end
  local A = { explanation = analysis.agreement(reported("explanations", conversation), sel, ctxs),
    plain_report = analysis.agreement(reported("plain reports"), sel, ctxs),
    learned = analysis.agreement(analysis.fit_weights(sel, ctxs), sel, ctxs) }
  local out = { chance = 0.5, agreement = {} }
  for _, k in ipairs({ "explanation", "plain_report", "learned" }) do
    local a = A[k]
    out.agreement[k] = { agreement = a.agreement, lo = a.lo, hi = a.hi, n = a.n, ties = a.ties, missing = a.missing }
    print(string.format("%-12s agreement %.3f [%.3f, %.3f] (%d trials)", k, a.agreement, a.lo, a.hi, a.n))
  end
  local P = agreement.paired(agreement.values(A.explanation.per_context), agreement.values(A.plain_report.per_context))
  out.explanation_minus_plain = { mean = P.mean, lo = P.lo, hi = P.hi, n = P.n }
  print(string.format("explanation - plain report, per context: %.3f [%.3f, %.3f]", P.mean, P.lo, P.hi))
  s:write("summary.json", pyjson.encode(out) .. "\n"); s:close()
end)
