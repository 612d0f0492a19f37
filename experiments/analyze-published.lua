-- experiments/analyze-published.lua: the paper's analysis of one or more base models' published
-- files, with a Bayesian summary beside each headline statistic.
--
--   introspect experiments/analyze-published.lua --data=DIR --model=NAME[,NAME2] --out=OUT \
--     [--learned=own|published] [--seed=N] [--draws=N] [--prior-sd=S]
--
-- Fits the learned and native weights from DIR/NAME_instilled_selections.csv and
-- DIR/NAME_instilled_latent_selections.csv (the study's Bayesian model, see
-- docs/statistics.md), writes OUT/NAME_regression_results.csv and
-- OUT/NAME_latent_regression_results.csv in the published layout, computes every statistic
-- of method.md section 4 and writes OUT/summary.json. With two or more models, summary.json
-- also holds the training effects pooled over base models (z_learned ~ z_report * trained *
-- base_model, slope differences averaged with equal weights over base models). OUT/posterior.json
-- holds the Bayesian summary (posterior median, 95% interval, probability of direction) of
-- every slope and effect under the stated prior. --learned=published computes the statistics
-- from DIR's *_regression_results.csv instead of the own fit. What was left out (bad rows,
-- contexts without reports, missing files) is printed and listed in the summary.
local analysis = require "introspect.analysis"
local contrasts = require "introspect.analysis.contrasts"
local options = require "introspect.core.options"
local paper = require "introspect.design.paper"
local pyjson = require "introspect.core.pyjson"
local util = require "introspect.core.util"

local opts = options.parse(arg, {
  { "data", "string", nil, "directory with the published files" },
  { "model", "string", nil, "base model name(s), comma-separated, e.g. gpt-4o-mini-2024-07-18" },
  { "out", "string", nil, "output directory" },
  { "learned", "string", "own", "learned weights: own fit or the published regression files",
    { "own", "published" } },
  { "seed", "integer", 1, "seed of the posterior sampler" },
  { "draws", "integer", 4000, "posterior draws per context" },
  { "prior-sd", "number", nil, "Normal(0, S) prior on the slopes of posterior.json (default flat)" },
}, { usage = "introspect experiments/analyze-published.lua --data=DIR --model=NAME[,NAME2] --out=OUT "
  .. "[--learned=own|published]" })

local function fail(msg)
  io.stderr:write("analyze-published: ", msg, "\n")
  os.exit(1)
end

for _, key in ipairs({ "data", "model", "out" }) do
  if not opts[key] then fail("--" .. key .. " is required (see --help)") end
end
local models = {}
for name in opts.model:gmatch("[^,]+") do
  if models[name] then fail("--model names '" .. name .. "' twice") end
  models[name] = true
  models[#models + 1] = name
end
local ok, err = util.mkdir_p(opts.out)
if not ok then fail(err) end

local input = { models = {} }
for _, model in ipairs(models) do
  local one, fitted = analysis.load_published(opts.data, model,
    { learned = opts.learned, seed = opts.seed, draws = opts.draws })
  input.models[model] = one.models[model]
  for key, suffix in pairs({ learned = "_regression_results.csv",
    native_learned = "_latent_regression_results.csv" }) do
    if fitted[key] then
      local path = opts.out .. "/" .. model .. suffix
      local wok, werr = analysis.write_weights(path, fitted[key])
      if not wok then fail(werr) end
      print(path)
    end
  end
end
local summary, extra = analysis.summarize(input, { null = pyjson.null })
local posterior = contrasts.posterior(extra, { prior_sd = opts["prior-sd"] })
for name, content in pairs({ ["summary.json"] = summary, ["posterior.json"] = posterior }) do
  local path = opts.out .. "/" .. name
  local wok, werr = util.write_file_atomic(path, pyjson.encode(content) .. "\n")
  if not wok then fail(werr) end
  print(path)
end

local function bayes(B)
  if not B then return "" end
  return string.format("  | posterior median %.4f [%.4f, %.4f] pd %.4f", B.median, B.lo, B.hi, B.pd)
end
local analysed = false
for _, model in ipairs(models) do
  local m, pm = summary.models[model], posterior.models[model] or { reports = {} }
  if #models > 1 then print(model) end
  for _, cond in ipairs(paper.condition_keys) do
    local R = m.reports[cond]
    if R then
      analysed = true
      print(string.format("%-17s slope %.4f [%.4f, %.4f]  r %.4f  rows %d  contexts %d%s", cond,
        R.slope, R.lo, R.hi, R.r, R.n, R.contexts, bayes(pm.reports[cond])))
    end
  end
  if m.learned_vs_target then
    print(string.format("learned_vs_target r %.4f (%d)", m.learned_vs_target.r, m.learned_vs_target.n))
  end
  for _, job in ipairs(analysis.TRAINING_EFFECTS) do
    local D = m[job[1]]
    if D then
      print(string.format("%-22s diff %.4f [%.4f, %.4f]%s", job[1], D.diff, D.lo, D.hi, bayes(pm[job[1]])))
    end
  end
  for _, msg in ipairs(m.left_out) do io.stderr:write("left out: ", model, ": ", msg, "\n") end
end
for _, job in ipairs(analysis.TRAINING_EFFECTS) do
  local D = summary[job[1]]
  if D then
    print(string.format("pooled %-15s diff %.4f [%.4f, %.4f] over %d base models%s", job[1], D.diff,
      D.lo, D.hi, D.models, bayes(posterior[job[1]])))
  end
end
if not analysed then fail("no condition could be analysed (see 'left out' above)") end
