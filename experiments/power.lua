-- experiments/power.lua: how many choices and report prompts per context does a study need to
-- measure report accuracy (the slope of z(learned weight) on z(mean report)) within a target
-- 95% interval width? Answered by simulation on the simulated subject: every replication draws
-- fresh trials, asks the subject for its choices and reports, fits the learned weights and the
-- accuracy slope, for every combination of --choices and --reports (nested: the first N of the
-- largest design). Prints the table and writes power.csv, power.svg (interval width) and power_slope.svg
-- (mean slope) into --out.
--
--   introspect experiments/power.lua                          # a few seconds
--   introspect experiments/power.lua --contexts=100 --replications=20 --target=0.2
--
-- The subject is a statistical model (docs/simulated-subject.md), not an LLM: the numbers say how
-- a design behaves on a subject with these noise levels, which is what a power analysis needs.
local analysis = require "introspect.analysis"
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local options = require "introspect.core.options"
local plot = require "introspect.run.plot"
local prompts = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local scenarios = require "introspect.design.scenarios"
local sim = require "introspect.sim"
local sim_chat = require "introspect.sim.chat"
local stimuli = require "introspect.design.stimuli"
local util = require "introspect.core.util"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

local opts = options.parse(arg, {
  { "profile", "string", "sim-large", "simulated subject profile", sim.profiles.names },
  { "contexts", "integer", 30, "contexts (library scenarios with roles)" },
  { "choices", "list", { "10", "25", "50", "100" }, "choices per context to try" },
  { "reports", "list", { "1", "3", "10" }, "report prompts per context to try" },
  { "replications", "integer", 20, "simulated studies per design" },
  { "target", "number", 0.3, "target width of the accuracy slope's 95% interval" },
  { "method", "string", "map", "weight fit: map (fast) or posterior (the study's)", { "map", "posterior" } },
  { "out", "string", "runs/power", "output directory" },
}, { program = "power.lua", usage = "introspect experiments/power.lua [options]",
  description = "Power analysis by simulation: interval width of report accuracy vs choices and reports per context." })

local function usage_error(fmt, ...)
  io.stderr:write("power.lua: ", string.format(fmt, ...), "\n")
  os.exit(2)
end

local function integers(list, name)
  local out = {}
  for i, v in ipairs(list) do
    out[i] = math.tointeger(tonumber(v))
    if not out[i] or out[i] < 1 then usage_error("--%s: '%s' is not a positive integer", name, v) end
  end
  table.sort(out)
  return out
end
local CHOICES, REPORTS = integers(opts.choices, "choices"), integers(opts.reports, "reports")

local list = assert(scenarios.load(HERE .. "/scenarios/library.lua"))
local roles = assert(scenarios.load_roles(HERE .. "/scenarios/roles.lua", { header = true }))
if opts.contexts < 2 or opts.contexts > math.min(#list, #roles) then
  usage_error("--contexts must be between 2 and %d (the scenario library's size)", math.min(#list, #roles))
end
if opts.replications < 2 then usage_error("--replications must be at least 2 (the spread needs two)") end
if opts.target <= 0 then usage_error("--target must be positive") end
local contexts = scenarios.contexts(list, roles, { count = opts.contexts, rng = "default", seed = 0 })
local ranges = analysis.ranges_from_scenarios(list)

-- The subject answers through the simulated API's chat handler: the same answers a study gets.
local api = sim.api({})
local function ask(kind, ctx, trials, i)
  local status, body = sim_chat.run(api, { model = opts.profile, temperature = 0,
    messages = { { role = "system", content = prompts.SYSTEM },
      { role = "user", content = prompts.default:render(kind, ctx, trials, i) } } })
  assert(status == 200, body)
  return cjson.decode(body).choices[1].message.content
end

-- One simulated study per replication: the largest design, analysed at every smaller size.
local results = {}   -- results[c][r] = list of {slope, width}
for _, c in ipairs(CHOICES) do
  results[c] = {}
  for _, r in ipairs(REPORTS) do results[c][r] = {} end
end
for rep = 1, opts.replications do
  local gen = stimuli.generator("default", 1000 + rep)
  local choices, reports = {}, {}   -- per context, in draw order
  for _, ctx in ipairs(contexts) do
    local sc = ctx.scenario
    local names = {}
    for j, a in ipairs(sc.attributes) do names[j] = a.name end
    local trials = gen:trials(sc, CHOICES[#CHOICES])
    choices[ctx.id] = {}
    for i = 1, #trials do
      local t = trials:trial(i)
      choices[ctx.id][i] = { scenario = sc.short_name, selection = ask("decision", ctx, trials, i), a = t.a, b = t.b }
    end
    local rtrials = gen:trials(sc, REPORTS[#REPORTS])
    reports[ctx.id] = {}
    for i = 1, #rtrials do
      -- An invalid reply (the subject's malformed rate) is dropped, as in the study.
      reports[ctx.id][#reports[ctx.id] + 1] = replies.parse(ask("report", ctx, rtrials, i), names) or false
    end
  end
  for _, c in ipairs(CHOICES) do
    local sel = {}
    for _, ctx in ipairs(contexts) do
      for i = 1, c do sel[#sel + 1] = choices[ctx.id][i] end
    end
    local learned = analysis.fit_weights(sel, ranges, { method = opts.method, seed = rep })
    for _, r in ipairs(REPORTS) do
      local rs = {}
      for _, ctx in ipairs(contexts) do
        for i = 1, r do
          local v = reports[ctx.id][i]
          if v then rs[#rs + 1] = { model = "m", scenario = ctx.scenario.short_name, report = v } end
        end
      end
      local acc = analysis.accuracy(rs, learned)
      if acc then table.insert(results[c][r], { slope = acc.slope, width = acc.hi - acc.lo }) end
    end
  end
end

-- Summary per design: mean slope, its spread across replications (3.92 sd is the width a 95%
-- interval needs to have), the mean width of the OLS interval a single study reports, and the
-- share of replications whose reported interval is at most --target wide. Few choices or
-- reports also attenuate the slope (noise in the learned weights and in the mean reports).
local rows, series, slopes = {}, {}, {}
print(string.format("%s, %d contexts, %d replications, target width %.2f", opts.profile, #contexts,
  opts.replications, opts.target))
print(string.format("%8s %8s %8s %8s %10s %10s %11s", "choices", "reports", "slope", "sd", "3.92 sd",
  "OLS width", "P(<=target)"))
for ri, r in ipairs(REPORTS) do
  local label = r .. (r == 1 and " report" or " reports")
  series[ri], slopes[ri] = { label = label, points = {} }, { label = label, points = {} }
  for _, c in ipairs(CHOICES) do
    local list_ = results[c][r]
    local n, s, s2, wsum, hits = #list_, 0, 0, 0, 0
    for _, x in ipairs(list_) do
      s, s2, wsum = s + x.slope, s2 + x.slope ^ 2, wsum + x.width
      if x.width <= opts.target then hits = hits + 1 end
    end
    local mean = n > 0 and s / n or 0 / 0
    local sd = n > 1 and math.sqrt(math.max(0, (s2 - n * mean ^ 2) / (n - 1))) or 0 / 0
    local width, share = n > 0 and wsum / n or 0 / 0, n > 0 and hits / n or 0 / 0
    print(string.format("%8d %8d %8.3f %8.3f %10.3f %10.3f %11.2f", c, r, mean, sd, 3.92 * sd, width, share))
    rows[#rows + 1] = { c, r, n, string.format("%.4f", mean), string.format("%.4f", sd),
      string.format("%.4f", width), string.format("%.3f", share) }
    series[ri].points[#series[ri].points + 1] = { c, n > 0 and width or nil }
    slopes[ri].points[#slopes[ri].points + 1] = { c, n > 0 and mean or nil }
  end
end

assert(util.mkdir_p(opts.out))
assert(util.write_file_atomic(opts.out .. "/power.csv", csv.format({ "choices_per_context", "reports_per_context",
  "replications", "mean_slope", "sd_slope", "mean_interval_width", "share_within_target" }, rows)))
assert(util.write_file_atomic(opts.out .. "/power.svg", plot.lines(series, {
  title = string.format("Report accuracy: 95%% interval width (%s, %d contexts)", opts.profile, #contexts),
  xlabel = "choices per context", ylabel = "interval width", logx = true, hline = opts.target,
  hline_label = "target" })))
assert(util.write_file_atomic(opts.out .. "/power_slope.svg", plot.lines(slopes, {
  title = "Mean accuracy slope (attenuated by noise)", xlabel = "choices per context", ylabel = "slope",
  logx = true })))
print("wrote " .. opts.out .. "/power.csv, power.svg and power_slope.svg")
