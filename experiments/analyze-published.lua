-- experiments/analyze-published.lua: the paper's analysis of one base model's published files.
--
--   introspect experiments/analyze-published.lua --data=DIR --model=NAME --out=OUT \
--     [--learned=own|published] [--seed=N] [--draws=N]
--
-- Fits the learned and native weights from DIR/NAME_instilled_selections.csv and
-- DIR/NAME_instilled_latent_selections.csv (the study's Bayesian model, see
-- docs/statistics.md), writes OUT/NAME_regression_results.csv and
-- OUT/NAME_latent_regression_results.csv in the published layout, computes every statistic
-- of method.md section 4 and writes OUT/summary.json. --learned=published computes the
-- statistics from DIR's *_regression_results.csv instead of the own fit. What was left out
-- (bad rows, contexts without reports, missing files) is printed and listed in the summary.
local analysis = require "introspect.analysis"
local options = require "introspect.core.options"
local pyjson = require "introspect.core.pyjson"
local util = require "introspect.core.util"

local opts = options.parse(arg, {
  { "data", "string", nil, "directory with the published files" },
  { "model", "string", nil, "base model name, e.g. gpt-4o-mini-2024-07-18" },
  { "out", "string", nil, "output directory" },
  { "learned", "string", "own", "learned weights: own fit or the published regression files",
    { "own", "published" } },
  { "seed", "integer", 1, "seed of the posterior sampler" },
  { "draws", "integer", 4000, "posterior draws per context" },
}, { usage = "introspect experiments/analyze-published.lua --data=DIR --model=NAME --out=OUT "
  .. "[--learned=own|published]" })

local function fail(msg)
  io.stderr:write("analyze-published: ", msg, "\n")
  os.exit(1)
end

for _, key in ipairs({ "data", "model", "out" }) do
  if not opts[key] then fail("--" .. key .. " is required (see --help)") end
end
local ok, err = util.mkdir_p(opts.out)
if not ok then fail(err) end

local input, fitted = analysis.load_published(opts.data, opts.model,
  { learned = opts.learned, seed = opts.seed, draws = opts.draws })
for key, suffix in pairs({ learned = "_regression_results.csv",
  native_learned = "_latent_regression_results.csv" }) do
  if fitted[key] then
    local path = opts.out .. "/" .. opts.model .. suffix
    local wok, werr = analysis.write_weights(path, fitted[key])
    if not wok then fail(werr) end
    print(path)
  end
end
local summary = analysis.summarize(input, { null = pyjson.null })
local path = opts.out .. "/summary.json"
local wok, werr = util.write_file_atomic(path, pyjson.encode(summary) .. "\n")
if not wok then fail(werr) end
print(path)
local m = summary.models[opts.model]
for _, cond in ipairs(analysis.CONDITIONS) do
  local R = m.reports[cond]
  if R then
    print(string.format("%-17s slope %.4f [%.4f, %.4f]  r %.4f  rows %d  contexts %d", cond,
      R.slope, R.lo, R.hi, R.r, R.n, R.contexts))
  end
end
if m.learned_vs_target then
  print(string.format("learned_vs_target r %.4f (%d)", m.learned_vs_target.r, m.learned_vs_target.n))
end
for _, msg in ipairs(m.left_out) do io.stderr:write("left out: ", msg, "\n") end
if next(m.reports) == nil then fail("no condition could be analysed (see 'left out' above)") end
