-- The REPL helpers installed on the library table `ix` by introspect/init.lua: connect to a
-- backend (ix.use), list contexts and models, show a model's choice on a random trial
-- (ix.choose), ask for a self-report (ix.report), measure a context's weights from n choices
-- (ix.measure), and open a run directory (ix.open, in introspect.run.runview). Results are
-- introspect.core.tabular tables, which print as aligned columns. docs/scripting.md has the reference.
local prompts_mod = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local tabular = require "introspect.core.tabular"
local util = require "introspect.core.util"

local M = {}

local USE_OPTIONS = { backend = "string", model = "string", temperature = "number", seed = "integer",
  scenarios = "string", roles = "string", state_dir = "string", logprobs = "boolean",
  max_tokens = "integer" }

M.DEFAULTS = { backend = "sim", model = "sim-large", temperature = 0, choice_tokens = 5, report_tokens = 200 }

-- The connection made by use(); nil until the first helper needs one.
local state

-- find_default(file, module) -> path of experiments/scenarios/FILE, or nil.
-- Looks in $INTROSPECT_SOURCE, beside the library's own checkout, the current directory, and
-- (after `luarocks make`) the installed module `introspect.default_<module>`.
local function find_default(file, module)
  local candidates = {}
  local src = os.getenv("INTROSPECT_SOURCE")
  if src and src ~= "" then candidates[#candidates + 1] = src .. "/experiments/scenarios/" .. file end
  local init = package.searchpath("introspect", package.path)
  local root = init and init:match("^(.*)/scripts/introspect/init%.lua$")
  if root then candidates[#candidates + 1] = root .. "/experiments/scenarios/" .. file end
  candidates[#candidates + 1] = "experiments/scenarios/" .. file
  for _, path in ipairs(candidates) do
    if util.file_exists(path) then return path end
  end
  return package.searchpath("introspect.default_" .. module, package.path)
end

-- library(opts) -> contexts, path: the default scenario library's contexts (the study's
-- pairing of scenarios and roles) and their target weights (the study's instilled weights).
local function library(opts)
  local spath = opts.scenarios or find_default("library.lua", "scenarios")
  local rpath = opts.roles or find_default("roles.lua", "roles")
  if not spath or not rpath then
    error("ix: the default scenario library (experiments/scenarios/) was not found; set "
      .. "INTROSPECT_SOURCE or pass ix.use{scenarios=, roles=}", 0)
  end
  local list, err = scenarios.load(spath)
  if not list then error("ix: " .. err, 0) end
  local roles, rerr = scenarios.load_roles(rpath)
  if not roles then error("ix: " .. rerr, 0) end
  local contexts = scenarios.contexts(list, roles, { count = math.min(#list, #roles),
    seed = stimuli.PAPER.seeds.roles })
  local targets = stimuli.instilled_weights(contexts)
  return contexts, targets, spath
end

-- client_for(opts) -> client, transport (transport only for the sim backend)
local function client_for(opts)
  local backend = require "introspect.client.backend"
  local name = opts.backend
  if name == "sim" then
    local client = backend.client("sim", { state_dir = opts.state_dir })
    return client, client.transport
  end
  if opts.state_dir then error("ix.use: option 'state_dir' applies only to backend 'sim'", 3) end
  local ok, client = pcall(backend.client, name)
  if not ok then error("ix.use: " .. tostring(client):gsub("^[^:]*:%d+: ", ""), 3) end
  return client
end

-- Connection: what use() returns; prints as one line.
local Connection = {}
Connection.__index = Connection
Connection.__name = "introspect.ix.connection"
function Connection.__tostring(c)
  return string.format("ix: backend %s, model %s, temperature %s%s", c.backend, c.model,
    tostring(c.temperature), c.backend == "sim" and " (simulated subject: a statistical model, not an LLM)" or "")
end

-- use([opts]) -> connection. Connects the helpers to a backend and model.
-- opts: backend ("sim" (default, in process), "openai", another introspect.client.backend profile, or a
-- base URL), model (default "sim-large"), temperature (0), seed (trial generator; default from
-- the clock), scenarios / roles (files of the context library; default experiments/scenarios/),
-- state_dir (sim only: a simulated API state directory, e.g. "runs/x/sim-state", so the run's
-- fine-tuned models answer), logprobs (ask decisions for P(A)), max_tokens (report replies, 200).
function M.use(opts)
  opts = util.check_options("ix.use", opts, USE_OPTIONS)
  local conn = setmetatable({
    backend = opts.backend or M.DEFAULTS.backend,
    model = opts.model or M.DEFAULTS.model,
    temperature = opts.temperature or M.DEFAULTS.temperature,
    logprobs = opts.logprobs or false,
    report_tokens = opts.max_tokens or M.DEFAULTS.report_tokens,
    seed = opts.seed or (os.time() % 1000003),
  }, Connection)
  conn.client, conn.transport = client_for({ backend = conn.backend, state_dir = opts.state_dir })
  conn.contexts, conn.targets, conn.library = library(opts)
  conn.gen = stimuli.generator("default", conn.seed)
  state = conn
  return conn
end

-- connection() -> the current connection, made with the defaults on first use.
function M.connection()
  return state or M.use()
end

-- resolve(ctx) -> context, target weights (or nil)
-- A number is a context id of the library; a table is a Context (its `target` field, if any,
-- is used as the target; a library context keeps the library's target).
local function resolve(ctx, where)
  local conn = M.connection()
  if math.type(ctx) == "integer" then
    local c = conn.contexts[ctx]
    if not c then
      error(string.format("%s: context %d is not in the library (1..%d)", where, ctx, #conn.contexts), 3)
    end
    return c, conn.targets[ctx]
  end
  if type(ctx) ~= "table" or type(ctx.question) ~= "string" or type(ctx.scenario) ~= "table"
      or type(ctx.scenario.attributes) ~= "table" then
    error(where .. ": argument 1 must be a context id (integer) or a context table {question=, scenario=}", 3)
  end
  local lib = ctx.id and conn.contexts[ctx.id]
  if ctx.target == nil and lib and lib.question == ctx.question then return ctx, conn.targets[ctx.id] end
  return ctx, ctx.target
end

local function attribute_names(ctx)
  local names = {}
  for j, a in ipairs(ctx.scenario.attributes) do names[j] = a.name end
  return names
end

local reply_text, prob_a = replies.content, replies.prob_a

local function body(conn, kind, ctx, trial)
  local p = prompts_mod.default
  local b = { model = conn.model, temperature = conn.temperature,
    max_completion_tokens = kind == "decision" and M.DEFAULTS.choice_tokens or conn.report_tokens,
    messages = { { role = "system", content = p:system() },
                 { role = "user", content = p:render(kind, ctx, trial) } } }
  if kind == "decision" and conn.logprobs then b.logprobs, b.top_logprobs = true, 5 end
  return b
end

-- sim_weights(conn, ctx) -> the simulated subject's actual current weights for the context
-- (sim backend only; nil otherwise or when the model is unknown).
local function sim_weights(conn, ctx)
  if not conn.transport then return nil end
  local model = conn.transport.api:model(conn.model)
  if not model then return nil end
  local names, units = {}, {}
  for j, a in ipairs(ctx.scenario.attributes) do names[j], units[j] = a.name, a.units end
  conn.parser = conn.parser or require("introspect.sim.prompt").new()
  return model:weights(conn.parser:context(ctx.question, names, units))
end

local function context_line(ctx)
  return string.format("context %s: %s", tostring(ctx.id or "-"), ctx.question)
end

-- Result: a tabular table with fields; prints as the table.
local function result(header, rows, opts, fields)
  local t = tabular.new(header, rows, opts)
  for k, v in pairs(fields) do t[k] = v end
  return t
end

-- contexts([n | pattern]) -> table of library contexts: the first n (default 20), or those whose
-- question mentions `pattern` (a plain, case-insensitive substring). Columns: id, scenario, role,
-- attributes. The result's `contexts` field holds the Context tables.
function M.contexts(what)
  local conn = M.connection()
  local list = {}
  if type(what) == "string" then
    local needle = what:lower()
    for _, c in ipairs(conn.contexts) do
      if (c.question .. " " .. c.scenario.short_name):lower():find(needle, 1, true) then list[#list + 1] = c end
    end
  elseif what == nil or math.type(what) == "integer" then
    for i = 1, math.min(what or 20, #conn.contexts) do list[i] = conn.contexts[i] end
  else
    error("ix.contexts: argument 1 must be a count (integer) or a search string", 2)
  end
  local rows = {}
  for i, c in ipairs(list) do
    rows[i] = { c.id, c.scenario.short_name, c.role, table.concat(attribute_names(c), ", ") }
  end
  local notes = {}
  if #list < #conn.contexts and type(what) ~= "string" then
    notes[1] = string.format("(%d of %d contexts; ix.contexts(%d) lists all, ix.contexts(\"tea\") searches)",
      #list, #conn.contexts, #conn.contexts)
  end
  return result({ "id", "scenario", "role", "attributes" }, rows, { notes = notes }, { contexts = list })
end

-- models() -> table of the backend's models (id, owned_by, created); `ids` lists the ids.
-- Raises with the backend's error when the listing fails.
function M.models()
  local conn = M.connection()
  local list, err = conn.client:models()
  if not list then error("ix.models: " .. tostring(err), 2) end
  local rows, ids = {}, {}
  for i, m in ipairs(list) do
    rows[i] = { m.id, m.owned_by, m.created and os.date("!%Y-%m-%d %H:%M", m.created) or nil }
    ids[i] = m.id
  end
  table.sort(rows, function(a, b) return tostring(a[1]) < tostring(b[1]) end)
  table.sort(ids)
  local marked = {}
  for i, r in ipairs(rows) do marked[i] = { r[1] == conn.model and "*" or "", r[1], r[2], r[3] } end
  return result({ "", "model", "owned_by", "created" }, marked,
    { notes = { "(* the model ix.use selected)" } }, { ids = ids })
end

-- draw(conn, ctx) -> one fresh Trial {a=, b=} for the context.
local function draw(conn, ctx)
  return conn.gen:trials(ctx.scenario, 1):trial(1)
end

-- choose(ctx) -> the model's choice on one random trial of the context.
-- ctx: a context id or table. Result fields: context, trial {a=, b=}, choice ("A"/"B", nil if
-- the reply is neither), reply (text), p_a (with ix.use{logprobs=true}). Prints the two options
-- side by side with the choice. Raises when the request fails.
function M.choose(ctx)
  local conn = M.connection()
  local c = resolve(ctx, "ix.choose")
  local trial = draw(conn, c)
  local response, err = conn.client:chat(body(conn, "decision", c, trial), { no_cache = true })
  if not response then error("ix.choose: " .. tostring(err), 2) end
  local text = reply_text(response)
  local choice = replies.parse_choice(text)
  local pa = prob_a(response)
  local rows = {}
  local pyrepr = require("introspect.rng").pyrepr
  for j, a in ipairs(c.scenario.attributes) do
    rows[j] = { a.name, pyrepr(trial.a[j]), pyrepr(trial.b[j]), a.units }
  end
  local verdict = choice and ("choice: " .. choice) or ("no valid choice; reply: " .. string.format("%q", text or ""))
  if pa then verdict = verdict .. string.format("  (P(A) = %.3f)", pa) end
  return result({ "attribute", "A", "B", "units" }, rows,
    { title = context_line(c), notes = { string.format("%s [%s]", verdict, conn.model) } },
    { context = c, trial = trial, choice = choice, reply = text, p_a = pa })
end

-- report(ctx) -> the model's self-report for the context beside the target weights.
-- Result fields: context, reply (text), report (list of numbers, nil if the reply is invalid),
-- invalid (the parse failure reason), target, sim (the simulated subject's actual weights, sim
-- backend only). Raises when the request fails.
function M.report(ctx)
  local conn = M.connection()
  local c, target = resolve(ctx, "ix.report")
  local response, err = conn.client:chat(body(conn, "report", c, draw(conn, c)), { no_cache = true })
  if not response then error("ix.report: " .. tostring(err), 2) end
  local text = reply_text(response) or ""
  local names = attribute_names(c)
  local values, reason, detail = replies.parse(text, names)
  local actual = sim_weights(conn, c)
  local header = { "attribute", "reported", "target" }
  if actual then header[4] = "sim actual" end
  local rows = {}
  for j, name in ipairs(names) do
    rows[j] = { name, values and values[j], target and target[j], actual and actual[j] }
  end
  local notes = { string.format("[%s]", conn.model) }
  if not values then
    notes[1] = string.format("invalid reply (%s: %s): %q [%s]", tostring(reason), tostring(detail), text, conn.model)
  end
  return result(header, rows, { title = context_line(c), notes = notes, decimals = 0 },
    { context = c, reply = text, report = values, invalid = not values and reason or nil, target = target,
      sim = actual })
end

-- measure(ctx [, n]) -> the context's weights measured from n choices (default 100) on fresh
-- trials, by the study's Bayesian logistic regression (introspect.stats.posterior), with 95%
-- intervals, beside the target. Predictors are (A - B) / (max - min) per attribute; weights are
-- the posterior mean slopes scaled so the largest |weight| is 100 (intervals scaled alike).
-- Result fields: context, n, valid, choices (string of A/B, "?" for invalid replies), coef, lo,
-- hi (unscaled slopes), weights, weights_lo, weights_hi (scaled), target, sim, fit (the posterior).
-- Raises when every request fails or the fit fails.
function M.measure(ctx, n)
  local conn = M.connection()
  local c, target = resolve(ctx, "ix.measure")
  n = n or 100
  if math.type(n) ~= "integer" or n < 2 then error("ix.measure: argument 2 (n) must be an integer >= 2", 2) end
  local attrs = c.scenario.attributes
  local trials = conn.gen:trials(c.scenario, n)
  local bodies, list = {}, {}
  for i = 1, n do
    list[i] = trials:trial(i)
    bodies[i] = body(conn, "decision", c, list[i])
  end
  local entries = conn.client:chat_many(bodies, { no_cache = true })
  local X, y, letters, failed = {}, {}, {}, 0
  for i, e in ipairs(entries) do
    local text = e.response and reply_text(e.response)
    local choice = replies.parse_choice(text)
    if e.error then failed = failed + 1 end
    letters[i] = choice or "?"
    if choice then
      local x = {}
      for j, a in ipairs(attrs) do x[j] = (list[i].a[j] - list[i].b[j]) / (a.max - a.min) end
      X[#X + 1] = x
      y[#y + 1] = choice == "A" and 1 or 0
    end
  end
  if #X == 0 then
    error(string.format("ix.measure: no valid choice in %d requests (%d failed)%s", n, failed,
      entries[1] and entries[1].error and (": " .. tostring(entries[1].error)) or ""), 2)
  end
  local post, ferr = require("introspect.stats").posterior(X, y, { seed = 1 })
  if not post then error("ix.measure: fit failed: " .. tostring(ferr), 2) end
  local lo, hi = post.quantiles[1].coef, post.quantiles[#post.quantiles].coef
  local biggest = 0
  for _, b in ipairs(post.coef) do biggest = math.max(biggest, math.abs(b)) end
  local factor = biggest > 0 and 100 / biggest or 0
  local weights, wlo, whi = {}, {}, {}
  for j = 1, #attrs do
    weights[j], wlo[j], whi[j] = post.coef[j] * factor, lo[j] * factor, hi[j] * factor
  end
  local actual = sim_weights(conn, c)
  local header = { "attribute", "target", "measured", "95% lo", "95% hi", "slope", "sd" }
  if actual then header[#header + 1] = "sim actual" end
  local rows = {}
  for j, a in ipairs(attrs) do
    rows[j] = { a.name, target and target[j], weights[j], wlo[j], whi[j], post.coef[j], post.sd[j],
      actual and math.tointeger(actual[j]) or actual and actual[j] }
  end
  local nA = 0
  for _, v in ipairs(y) do nA = nA + v end
  local notes = { string.format("%d valid choices of %d (%d A); intercept %.2f; ESS %.0f, Pareto k %.2f [%s]",
    #X, n, nA, post.intercept, post.ess, post.khat, conn.model) }
  if post.khat > 0.7 then notes[#notes + 1] = "warning: Pareto k > 0.7, the posterior is unreliable" end
  return result(header, rows, { title = context_line(c), notes = notes, decimals = 1 },
    { context = c, n = n, valid = #X, choices = table.concat(letters), coef = post.coef, lo = lo, hi = hi,
      weights = weights, weights_lo = wlo, weights_hi = whi, target = target, sim = actual, fit = post })
end

-- open(dir) -> a run directory's tables (see introspect.run.runview).
function M.open(dir)
  return require("introspect.run.runview").open(dir)
end

M.HELP = {
  { "ix.use{backend=, model=, ...}", "connect to a backend (\"sim\" default, \"openai\", a URL) and model" },
  { "ix.contexts([n | \"text\"])", "list the library's contexts (first n, or those matching text)" },
  { "ix.models()", "the backend's models" },
  { "ix.choose(ctx)", "a random trial for a context and the model's choice" },
  { "ix.report(ctx)", "the model's self-report beside the target weights" },
  { "ix.measure(ctx [, n])", "weights from n choices (default 100) with 95% intervals beside the target" },
  { "ix.open(\"runs/x\")", "a run directory: r:summary(), r:selections(m), r:reports(m), r:learned(m), ..." },
  { "ix.help()", "this list" },
}

-- help() -> table of the helpers and the library's modules (prints as a table in the REPL).
function M.help(modules)
  local rows = {}
  for i, h in ipairs(M.HELP) do rows[i] = { h[1], h[2] } end
  local notes = { "ctx is a context id (ix.contexts()) or a context table. docs/scripting.md has the reference." }
  if modules then
    notes[#notes + 1] = "Modules (load on first use as ix.<name>): " .. table.concat(modules, ", ")
  end
  return tabular.new({ "helper", "what" }, rows, { title = "introspect REPL helpers (ix):", notes = notes })
end

return M
