-- experiments/logprobs.lua: learned weights from P(A) (the first token's logprobs, fitted as soft
-- labels) against learned weights from the sampled choices ("A" or "B"): how many decision
-- requests per context each needs for the same precision. Every replication asks the model
-- for its choices on fresh trials with logprobs on (the study's --logprobs machinery), so both
-- estimates come from the same requests; precision is the spread of each context's scaled
-- weights (-100..100) across replications. Writes logprobs.csv, logprobs.svg and
-- logprobs_weights.csv (every estimate: replication, requests, labels, context, weights) into --out,
-- beside the run's store (re-running resumes: stored answers are not asked again).
--
--   introspect experiments/logprobs.lua                       # the simulated subject
--   introspect experiments/logprobs.lua --backend=openai --model=gpt-4o-mini-2024-07-18 --max-cost=5
local analysis = require "introspect.analysis"
local csv = require "introspect.core.csv"
local options = require "introspect.core.options"
local plot = require "introspect.run.plot"
local study = require "introspect.study"

local HERE = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

local opts = options.parse(arg, {
  { "backend", "string", "sim", "sim, openai, a profile name or a base URL" },
  { "model", "string", "sim-large", "the model whose native preferences are measured" },
  { "contexts", "integer", 8, "contexts" },
  { "requests", "list", { "10", "20", "40", "80", "160" }, "decision requests per context to compare" },
  { "replications", "integer", 6, "independent measurements per design" },
  { "target", "number", 20, "target precision: sd of a scaled weight across replications" },
  { "method", "string", "map", "weight fit: map (fast) or posterior (the study's)", { "map", "posterior" } },
  { "max-cost", "number", nil, "stop before spending more than this many dollars" },
  { "out", "string", "runs/logprobs", "run directory" },
}, { program = "logprobs.lua", usage = "introspect experiments/logprobs.lua [options]",
  description = "Soft labels from P(A) vs sampled choices: requests needed for the same precision." })

local function fail(status, fmt, ...)
  io.stderr:write("logprobs.lua: ", string.format(fmt, ...), "\n")
  os.exit(status)
end

local SIZES = {}
for i, v in ipairs(opts.requests) do
  SIZES[i] = math.tointeger(tonumber(v))
  if not SIZES[i] or SIZES[i] < 2 then fail(2, "--requests: '%s' is not an integer >= 2", v) end
end
table.sort(SIZES)
if opts.replications < 2 then fail(2, "--replications must be at least 2 (the spread needs two)") end
if opts.contexts < 1 then fail(2, "--contexts must be at least 1") end
if opts.target <= 0 then fail(2, "--target must be positive") end

local ok, err = pcall(function()
  -- Inputs are checked before the run directory is created.
  local inputs = study.inputs({ scenarios = HERE .. "/scenarios/library.lua", roles = HERE .. "/scenarios/roles.lua",
    contexts = opts.contexts })
  local s = study.session({ out = opts.out, name = "logprobs", backend = opts.backend,
    max_cost = opts.max_cost, manifest = { options = opts, experiment = "experiments/logprobs.lua" } })
  local stim = study.stimuli(s, inputs)
  local contexts = study.pick(stim.contexts, study.ids(1, opts.contexts))
  local scenario_list = {}
  for i, c in ipairs(stim.contexts) do scenario_list[i] = c.scenario end
  local ranges = analysis.ranges_from_scenarios(scenario_list)

  -- estimates[method][size][rep] = weights map
  local estimates = { choices = {}, logprobs = {} }
  for _, m in pairs(estimates) do for _, n in ipairs(SIZES) do m[n] = {} end end
  for rep = 1, opts.replications do
    local selections = study.selections(s:choices({ name = "choices " .. opts.model .. " replication_" .. rep,
      model = opts.model, contexts = contexts, per_context = SIZES[#SIZES], seed = 100 + rep, logprobs = true }))
    local with_pa = 0
    for _, x in ipairs(selections) do if x.p_a then with_pa = with_pa + 1 end end
    if with_pa < #selections then
      s:close()
      fail(1, "%d of %d answers came without logprobs for 'A'/'B'; this backend cannot be compared",
        #selections - with_pa, #selections)
    end
    for _, n in ipairs(SIZES) do
      local first, seen = {}, {}
      for _, x in ipairs(selections) do
        seen[x.scenario] = (seen[x.scenario] or 0) + 1
        if seen[x.scenario] <= n then first[#first + 1] = x end
      end
      local fit = { method = opts.method, seed = rep }
      estimates.choices[n][rep] = analysis.fit_weights(first, ranges, fit)
      fit.soft = true
      estimates.logprobs[n][rep] = analysis.fit_weights(first, ranges, fit)
    end
  end

  -- spread(reps) -> the sd of a weight across replications, averaged over contexts and attributes
  local function spread(reps)
    local total, count = 0, 0
    for _, ctx in ipairs(contexts) do
      local name = ctx.scenario.short_name
      for j = 1, #ctx.scenario.attributes do
        local vals = {}
        for _, w in ipairs(reps) do if w[name] then vals[#vals + 1] = w[name][j] end end
        if #vals > 1 then
          local mean = 0
          for _, v in ipairs(vals) do mean = mean + v / #vals end
          local ss = 0
          for _, v in ipairs(vals) do ss = ss + (v - mean) ^ 2 end
          total, count = total + math.sqrt(ss / (#vals - 1)), count + 1
        end
      end
    end
    return count > 0 and total / count or nil
  end

  local rows, series = {}, {}
  print(string.format("%s on %s: %d contexts, %d replications; sd of a scaled weight (-100..100)",
    opts.model, opts.backend, #contexts, opts.replications))
  print(string.format("%10s %12s %12s", "requests", "choices sd", "P(A) sd"))
  for i, method in ipairs({ "choices", "logprobs" }) do
    series[i] = { label = method == "choices" and "sampled choices" or "P(A) soft labels", points = {} }
  end
  for _, n in ipairs(SIZES) do
    local a, b = spread(estimates.choices[n]), spread(estimates.logprobs[n])
    print(string.format("%10d %12.1f %12.1f", n, a or 0 / 0, b or 0 / 0))
    rows[#rows + 1] = { n, a and string.format("%.2f", a) or "", b and string.format("%.2f", b) or "" }
    series[1].points[#series[1].points + 1] = { n, a }
    series[2].points[#series[2].points + 1] = { n, b }
  end
  -- Requests for the target by the least-squares line of log sd on log requests (sd falls
  -- roughly as 1/sqrt(requests)), so the answer need not be one of the sizes tried.
  local function requests_for(points)
    local n, sx, sy, sxx, sxy = 0, 0, 0, 0, 0
    for _, p in ipairs(points) do
      if p[2] and p[2] > 0 then
        local x, y = math.log(p[1]), math.log(p[2])
        n, sx, sy, sxx, sxy = n + 1, sx + x, sy + y, sxx + x * x, sxy + x * y
      end
    end
    if n < 2 or n * sxx - sx * sx == 0 then return nil end
    local b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    local a = (sy - b * sx) / n
    if b >= 0 then return nil end
    return math.exp((math.log(opts.target) - a) / b), b
  end
  local nc, bc = requests_for(series[1].points)
  local nl, bl = requests_for(series[2].points)
  print(string.format("sd <= %g needs about %s requests per context from sampled choices (sd ~ requests^%.2f) and %s "
    .. "from P(A) (sd ~ requests^%.2f)%s", opts.target, nc and string.format("%.0f", nc) or "?", bc or 0 / 0,
    nl and string.format("%.0f", nl) or "?", bl or 0 / 0,
    (nc and nl) and string.format(": P(A) needs %.0f%% of the requests", 100 * nl / nc) or ""))
  rows[#rows + 1] = { "for_target_" .. opts.target, nc and string.format("%.1f", nc) or "",
    nl and string.format("%.1f", nl) or "" }

  local wrows, k = {}, 0   -- every estimate, for checking it against the subject's ground truth
  for _, ctx in ipairs(contexts) do k = math.max(k, #ctx.scenario.attributes) end
  for rep = 1, opts.replications do
    for _, n in ipairs(SIZES) do
      for _, method in ipairs({ "choices", "logprobs" }) do
        for _, ctx in ipairs(contexts) do
          local w = estimates[method][n][rep][ctx.scenario.short_name]
          if w then wrows[#wrows + 1] = { rep, n, method, ctx.scenario.short_name, table.unpack(w) } end
        end
      end
    end
  end
  local wheader = { "replication", "requests_per_context", "labels", "scenario" }
  for j = 1, k do wheader[#wheader + 1] = "b_attr" .. j end
  s:write("logprobs_weights.csv", csv.format(wheader, wrows))
  s:write("logprobs.csv", csv.format({ "requests_per_context", "sd_choices", "sd_logprobs" }, rows))
  s:write("logprobs.svg", plot.lines(series, { title = "Precision of learned weights: " .. opts.model,
    xlabel = "decision requests per context", ylabel = "sd of a scaled weight", logx = true,
    hline = opts.target, hline_label = "target" }))
  s:close()
  print("wrote " .. opts.out .. "/logprobs.csv, logprobs.svg and logprobs_weights.csv")
end)
if not ok then fail(1, "%s", tostring(err)) end
