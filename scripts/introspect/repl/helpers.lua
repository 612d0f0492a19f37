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

-- Errors of the helpers print as one line in the REPL (a table error with __tostring: the
-- host's message handler prints it without a traceback).
local ERROR_MT = { __tostring = function(e) return e.message end }

-- fail(fmt, ...): raises a one-line error "ix.NAME: ...".
local function fail(fmt, ...)
  error(setmetatable({ message = string.format(fmt, ...) }, ERROR_MT), 0)
end
M.fail = fail

-- checked(where, opts, spec) -> opts: util.check_options, its error as a one-line error.
local function checked(where, opts, spec)
  local ok, res = pcall(util.check_options, where, opts, spec)
  if not ok then fail("%s", (tostring(res):gsub("^[^\n]-%.lua:%d+: ", ""))) end
  return res
end

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
    fail("ix: the default scenario library (experiments/scenarios/) was not found; set "
      .. "INTROSPECT_SOURCE or pass ix.use{scenarios=, roles=}")
  end
  local list, err = scenarios.load(spath)
  if not list then fail("ix: %s", err) end
  local roles, rerr = scenarios.load_roles(rpath)
  if not roles then fail("ix: %s", rerr) end
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
  if opts.state_dir then fail("ix.use: option 'state_dir' applies only to backend 'sim'") end
  local ok, client = pcall(backend.client, name)
  if not ok then fail("ix.use: %s", (tostring(client):gsub("^[^:]*:%d+: ", ""))) end
  return client
end

-- Connection: what use() returns; prints as one line (two when attached to a run).
local Connection = {}
Connection.__index = Connection
Connection.__name = "introspect.ix.connection"
function Connection.__tostring(c)
  local model = c.model
  if c.model_name and c.model_name ~= c.model then model = c.model_name .. " = " .. c.model end
  local line = string.format("ix: backend %s, model %s, temperature %s%s", c.backend, model,
    tostring(c.temperature), c.backend == "sim" and " (simulated subject: a statistical model, not an LLM)" or "")
  if c.run then
    line = line .. string.format("\nrun %s; its models: %s (ix.use{model = NAME})", c.run,
      table.concat(c.run_names, ", "))
  end
  return line
end

-- The run a connection is attached to: its backend, its models named by condition, its contexts.
-- run_models(run_state) -> names = {[base] = {base = id, instilled = id, itrained_NAME = id}}, order
local function run_models(run_state, bases)
  local names, base_of, order = {}, {}, {}
  local function entry(base)
    if not names[base] then
      names[base] = { base = base }
      order[#order + 1] = base
    end
    return names[base]
  end
  for _, b in ipairs(bases or {}) do entry(b); base_of[b] = b end
  -- fine-tunes form chains: base -> instill -> curricula; resolve parents until none is left
  local pending = {}
  for key, rec in pairs(run_state) do
    local parent, name
    if type(key) == "string" then parent, name = key:match("^finetune:(.+):([^:]+)$") end
    if parent and type(rec) == "table" and type(rec.model) == "string" then
      pending[#pending + 1] = { parent = parent, name = name, model = rec.model }
    end
  end
  table.sort(pending, function(a, b) return a.model < b.model end)
  local progress = true
  while progress and #pending > 0 do
    progress = false
    for i = #pending, 1, -1 do
      local f = pending[i]
      local base = base_of[f.parent] or (not f.parent:match("^ft:") and f.parent) or nil
      if base then
        base_of[f.model] = base
        entry(base)[f.name == "instill" and "instilled" or f.name] = f.model
        table.remove(pending, i)
        progress = true
      end
    end
  end
  return names, order
end

-- run_contexts(dir, library_contexts) -> contexts, targets: the run's own contexts (scenarios.csv:
-- questions with their roles, attribute ranges; units from the library's scenario of the same
-- name) and instilled (target) weights (instilled_weights.csv), by context id.
local function run_contexts(dir, lib)
  local csv = require "introspect.core.csv"
  local t = csv.read(dir .. "/scenarios.csv")
  if not t then return nil end
  local by_name = {}
  for _, c in ipairs(lib) do by_name[c.scenario.short_name] = c.scenario end
  local weights = {}
  local w = csv.read(dir .. "/instilled_weights.csv")
  for _, row in ipairs(w and w.rows or {}) do
    local v = {}
    for j = 1, 99 do
      if row["attr" .. j] == nil then break end
      v[j] = tonumber(row["attr" .. j])
    end
    weights[row.scenario] = v
  end
  local contexts, targets = {}, {}
  for i, row in ipairs(t.rows) do
    local sc = by_name[row.scenario]
    if not sc then
      sc = { short_name = row.scenario, question = row.question, attributes = {} }
      for j = 1, 99 do
        if row["attr" .. j] == nil then break end
        sc.attributes[j] = { name = row["attr" .. j], units = "", min = tonumber(row["attr" .. j .. "_min"]),
          max = tonumber(row["attr" .. j .. "_max"]) }
      end
    end
    contexts[i] = { id = i, scenario = sc, question = row.question,
      role = row.question:match("^Imagine you are (.-)%. ") }
    targets[i] = weights[row.scenario]
  end
  return contexts, targets
end

-- attach(dir) -> {dir=, backend=, state_dir=, names=, order=}: what ix.use needs of a run.
local function attach(dir)
  local rundir = require "introspect.run.rundir"
  dir = dir:gsub("/+$", "")
  local manifest, err = rundir.read_json(dir .. "/manifest.json")
  if not manifest then fail("ix.use: %s is not a run directory (%s)", dir, tostring(err)) end
  local run_state = rundir.read_json(dir .. "/state.json") or {}
  local identity = type(manifest.identity) == "table" and manifest.identity or {}
  local options = type(manifest.options) == "table" and manifest.options or {}
  local backend = identity.backend or options.backend or "sim"
  local bases = identity.models or manifest.models
  local names, order = run_models(run_state, type(bases) == "table" and bases or nil)
  local list = {}
  for _, base in ipairs(order) do
    for _, cond in ipairs({ "base", "instilled" }) do
      if names[base][cond] then list[#list + 1] = (#order > 1 and base .. "/" or "") .. cond end
    end
    local extra = {}
    for cond in pairs(names[base]) do if cond ~= "base" and cond ~= "instilled" then extra[#extra + 1] = cond end end
    table.sort(extra)
    for _, cond in ipairs(extra) do list[#list + 1] = (#order > 1 and base .. "/" or "") .. cond end
  end
  return { dir = dir, backend = backend, names = names, order = order, list = list,
    state_dir = backend == "sim" and util.file_exists(dir .. "/sim-state") and dir .. "/sim-state" or nil }
end

-- resolve_model(run, name) -> model id: a condition name (the run's first base model), or
-- "BASE/condition", or any model id.
local function resolve_model(run, name)
  if not run then return name end
  local base, cond = name:match("^(.+)/([%w_]+)$")
  if base and run.names[base] then
    return run.names[base][cond] or fail("ix.use: run %s has no model '%s' (its models: %s)", run.dir, name,
      table.concat(run.list, ", "))
  end
  local first = run.names[run.order[1] or ""]
  if first and first[name] then return first[name] end
  return name
end

-- use([dir,] [opts]) -> connection. Connects the helpers to a backend and model.
-- dir: a run directory (from experiments/paper.lua): the helpers use its backend (the simulated
-- subject with the run's state, so its fine-tuned models answer), its contexts and target weights,
-- and name its models by condition: model = "base", "instilled", "itrained_first_50", ... (with
-- several base models "sim-small/instilled"); default "instilled".
-- opts: backend ("sim" (default, in process), "openai", another introspect.client.backend profile, or a
-- base URL), model (default "sim-large"), temperature (0), seed (trial generator; default from
-- the clock), scenarios / roles (files of the context library; default experiments/scenarios/),
-- state_dir (sim only: a simulated API state directory), logprobs (ask decisions for P(A)),
-- max_tokens (report replies, 200). Without a dir, a model of the current run's names (after
-- ix.use(dir)) is still resolved through that run.
function M.use(dir, opts)
  if type(dir) == "table" and opts == nil then dir, opts = nil, dir end
  if dir ~= nil and type(dir) ~= "string" then
    fail("ix.use: argument 1 must be a run directory (\"runs/paper\") or an options table")
  end
  opts = checked("ix.use", opts, USE_OPTIONS)
  local run = dir and attach(dir) or (opts.backend == nil and opts.state_dir == nil and state and state.run_info) or nil
  local backend = opts.backend or (run and run.backend) or M.DEFAULTS.backend
  local name = opts.model or (run and (run.names[run.order[1] or ""] or {}).instilled and "instilled")
    or (run and run.order[1]) or M.DEFAULTS.model
  local conn = setmetatable({
    backend = backend,
    model = resolve_model(run, name),
    model_name = name,
    temperature = opts.temperature or M.DEFAULTS.temperature,
    logprobs = opts.logprobs or false,
    report_tokens = opts.max_tokens or M.DEFAULTS.report_tokens,
    seed = opts.seed or (os.time() % 1000003),
    run = run and run.dir, run_names = run and run.list, run_info = run,
  }, Connection)
  local state_dir = opts.state_dir or (run and run.state_dir)
  if state and state.run_info == run and state.transport and state.backend == conn.backend
      and state_dir == state.state_dir then
    conn.client, conn.transport = state.client, state.transport   -- same run: keep its subject
  else
    conn.client, conn.transport = client_for({ backend = conn.backend, state_dir = state_dir })
  end
  conn.state_dir = state_dir
  if conn.backend == "sim" then
    -- the subject is in process: an unknown model is said now, with the ones it has
    local ok, err = require("introspect.client.preflight").models(conn.client, { conn.model },
      { where = "the simulated subject" .. (run and " of run " .. run.dir or "") })
    if not ok then
      fail("ix.use: %s%s", err, run and string.format("; this run's models by condition: %s",
        table.concat(run.list, ", ")) or "")
    end
  end
  conn.contexts, conn.targets, conn.library = library(opts)
  if run then
    local rc, rt = run_contexts(run.dir, conn.contexts)
    if rc then conn.contexts, conn.targets = rc, rt end
  end
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
      fail("%s: context %d is not in the %s (1..%d)", where, ctx, conn.run and "run's contexts" or "library",
        #conn.contexts)
    end
    return c, conn.targets[ctx], false
  end
  if type(ctx) ~= "table" or type(ctx.question) ~= "string" or type(ctx.scenario) ~= "table"
      or type(ctx.scenario.attributes) ~= "table" then
    fail("%s: argument 1 must be a context id (integer) or a context table {question=, scenario=}", where)
  end
  local lib = ctx.id and conn.contexts[ctx.id]
  if ctx.target == nil and lib and lib.question == ctx.question then return ctx, conn.targets[ctx.id] end
  return ctx, ctx.target, ctx.target ~= nil
end

-- shown_target(conn, target, explicit) -> the target weights to show: a context's own target
-- always; the library's or run's instilled weights only for a fine-tuned model (a base model was
-- never trained towards them).
local function shown_target(conn, target, explicit)
  if explicit or conn.model:match("^ft:") then return target end
  return nil
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
    fail("ix.contexts: argument 1 must be a count (integer) or a search string")
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
  if not list then fail("ix.models: %s", tostring(err)) end
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

-- model_hint(conn, err) -> for a model the backend does not know: how to name a run's models.
local function model_hint(conn, err)
  if type(err) == "table" and err.status == 404 then
    return conn.run and string.format(" (this run's models: %s)", table.concat(conn.run_names, ", "))
      or " (ix.models() lists the backend's models; ix.use(\"runs/paper\") names a run's models by condition)"
  end
  return ""
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
  if not response then fail("ix.choose: %s%s", tostring(err), model_hint(conn, err)) end
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
    { title = context_line(c), notes = { string.format("%s [%s]", verdict, conn.model_name or conn.model) } },
    { context = c, trial = trial, choice = choice, reply = text, p_a = pa })
end

-- report(ctx) -> the model's self-report for the context beside the target weights.
-- Result fields: context, reply (text), report (list of numbers, nil if the reply is invalid),
-- invalid (the parse failure reason), target, sim (the simulated subject's actual weights, sim
-- backend only). Raises when the request fails.
function M.report(ctx)
  local conn = M.connection()
  local c, target, explicit = resolve(ctx, "ix.report")
  local response, err = conn.client:chat(body(conn, "report", c, draw(conn, c)), { no_cache = true })
  if not response then fail("ix.report: %s%s", tostring(err), model_hint(conn, err)) end
  local text = reply_text(response) or ""
  local names = attribute_names(c)
  local values, reason, detail = replies.parse(text, names)
  local actual = sim_weights(conn, c)
  target = shown_target(conn, target, explicit)
  local header, cols = { "attribute", "reported" }, {}
  if target then header[#header + 1] = "target"; cols[#cols + 1] = target end
  if actual then header[#header + 1] = "sim actual"; cols[#cols + 1] = actual end
  local rows = {}
  for j, name in ipairs(names) do
    rows[j] = { name, values and values[j] }
    for _, col in ipairs(cols) do rows[j][#rows[j] + 1] = col[j] end
  end
  local shown = conn.model_name or conn.model
  local notes = { string.format("[%s]", shown) }
  if not values then
    notes[1] = string.format("invalid reply (%s: %s): %q [%s]", tostring(reason), tostring(detail), text, shown)
  end
  return result(header, rows, { title = context_line(c), notes = notes, decimals = 0 },
    { context = c, reply = text, report = values, invalid = not values and reason or nil, target = target,
      sim = actual })
end

-- measure(ctx [, n]) -> the context's weights measured from n choices (default 100) on fresh
-- trials, by the study's own analysis (introspect.analysis.fit_weights: the predictors, the
-- Bayesian logistic regression and the scaling of the largest |weight| to 100), with 95%
-- intervals scaled alike, beside the target (fine-tuned models). Result fields: context, n,
-- valid, choices (string of A/B, "?" for invalid replies), selections (the valid choices as the
-- analysis reads them), coef, lo, hi (unscaled slopes), weights,
-- weights_lo, weights_hi (scaled), target, sim, fit (the posterior). Raises (one line) when
-- every request fails or the fit fails.
function M.measure(ctx, n)
  local conn = M.connection()
  local c, target, explicit = resolve(ctx, "ix.measure")
  n = n or 100
  if math.type(n) ~= "integer" or n < 2 then fail("ix.measure: argument 2 (n) must be an integer >= 2") end
  local analysis = require "introspect.analysis"
  local attrs = c.scenario.attributes
  local trials = conn.gen:trials(c.scenario, n)
  local bodies, list = {}, {}
  for i = 1, n do
    list[i] = trials:trial(i)
    bodies[i] = body(conn, "decision", c, list[i])
  end
  local entries = conn.client:chat_many(bodies, { no_cache = true })
  local selections, letters, failed, nA = {}, {}, 0, 0
  local name = c.scenario.short_name
  for i, e in ipairs(entries) do
    local text = e.response and reply_text(e.response)
    local choice = replies.parse_choice(text)
    if e.error then failed = failed + 1 end
    letters[i] = choice or "?"
    if choice then
      selections[#selections + 1] = { scenario = name, selection = choice, a = list[i].a, b = list[i].b }
      if choice == "A" then nA = nA + 1 end
    end
  end
  if #selections == 0 then
    fail("ix.measure: no valid choice in %d requests (%d failed)%s", n, failed,
      entries[1] and entries[1].error and (": " .. tostring(entries[1].error) .. model_hint(conn, entries[1].error))
      or "")
  end
  local weights, fits, problems = analysis.fit_weights(selections, analysis.ranges_from_scenarios({ c.scenario }),
    { method = "posterior", seed = 1 })
  local post = fits[name]
  if not post then fail("ix.measure: %s", problems[1] or "fit failed") end
  local lo, hi = post.quantiles[1].coef, post.quantiles[#post.quantiles].coef
  -- the analysis's own scale: its weights over the slopes (the largest |slope| maps to 100)
  local k = 1
  for j = 2, #attrs do if math.abs(post.coef[j]) > math.abs(post.coef[k]) then k = j end end
  local factor = post.coef[k] ~= 0 and weights[name][k] / post.coef[k] or 0
  local wlo, whi = {}, {}
  for j = 1, #attrs do wlo[j], whi[j] = lo[j] * factor, hi[j] * factor end
  local actual = sim_weights(conn, c)
  target = shown_target(conn, target, explicit)
  local header = { "attribute", "measured", "95% lo", "95% hi", "slope", "sd" }
  if target then table.insert(header, 2, "target") end
  if actual then header[#header + 1] = "sim actual" end
  local rows = {}
  for j, a in ipairs(attrs) do
    local row = { a.name }
    if target then row[#row + 1] = target[j] end
    for _, v in ipairs({ weights[name][j], wlo[j], whi[j], post.coef[j], post.sd[j] }) do row[#row + 1] = v end
    if actual then row[#row + 1] = math.tointeger(actual[j]) or actual[j] end
    rows[j] = row
  end
  local notes = { string.format("%d valid choices of %d (%d A); intercept %.2f; ESS %.0f, Pareto k %.2f [%s]",
    #selections, n, nA, post.intercept, post.ess, post.khat, conn.model_name or conn.model) }
  for _, p in ipairs(problems) do notes[#notes + 1] = "warning: " .. p end
  return result(header, rows, { title = context_line(c), notes = notes, decimals = 1 },
    { context = c, n = n, valid = #selections, choices = table.concat(letters), selections = selections,
      coef = post.coef, lo = lo, hi = hi,
      weights = weights[name], weights_lo = wlo, weights_hi = whi, target = target, sim = actual, fit = post })
end

-- open(dir) -> a run directory's tables (see introspect.run.runview).
function M.open(dir)
  return require("introspect.run.runview").open(dir)
end

M.HELP = {
  { "ix.use{backend=, model=, ...}", "connect to a backend (\"sim\" default, \"openai\", a URL) and model" },
  { "ix.use(\"runs/paper\")", "attach to a run: its backend and state; models by condition (base, instilled, ...)" },
  { "ix.contexts([n | \"text\"])", "list the library's contexts (first n, or those matching text)" },
  { "ix.models()", "the backend's models" },
  { "ix.choose(ctx)", "a random trial for a context and the model's choice" },
  { "ix.report(ctx)", "the model's self-report beside the target weights" },
  { "ix.measure(ctx [, n])", "weights from n choices (default 100) with 95% intervals beside the target" },
  { "ix.open(\"runs/x\")", "a run directory: r:summary(), r:selections(m), r:reports(m), r:learned(m), ..." },
  { "ix.help()", "this list" },
}

-- What every column of the helpers' tables means (ix.help() prints it).
M.COLUMNS = {
  { "reported", "the weight the model reported for the attribute (-100..100), parsed from its reply" },
  { "target", "the weight the run's fine-tune instilled (fine-tuned models only; a base model has none)" },
  { "sim actual", "the simulated subject's own current weight (sim backend only): what a perfect report says" },
  { "measured", "the weight learned from the model's choices, scaled as the study does (largest |w| = 100)" },
  { "95% lo, 95% hi", "the measured weight's 95% posterior interval, on the same scale" },
  { "slope", "the unscaled posterior-mean logistic slope of the attribute's (A - B) / range" },
  { "sd", "the slope's posterior standard deviation" },
  { "ESS", "effective sample size of the posterior's importance draws (more is steadier; < 100 is thin)" },
  { "Pareto k", "importance-sampling diagnostic: below 0.5 good, 0.5-0.7 usable, above 0.7 unreliable" },
  { "intercept", "the fit's preference for option A regardless of attributes (a position bias)" },
  { "P(A)", "the probability of answering A from the first token's logprobs (ix.use{logprobs = true})" },
}

-- help() -> table of the helpers and the library's modules (prints as a table in the REPL).
function M.help(modules)
  local rows = {}
  for i, h in ipairs(M.HELP) do rows[i] = { h[1], h[2] } end
  local notes = { "ctx is a context id (ix.contexts()) or a context table. docs/scripting.md has the reference.",
    "columns:" }
  for _, c in ipairs(M.COLUMNS) do notes[#notes + 1] = string.format("  %-15s %s", c[1], c[2]) end
  if modules then
    notes[#notes + 1] = "Modules (load on first use as ix.<name>): " .. table.concat(modules, ", ")
  end
  return tabular.new({ "helper", "what" }, rows, { title = "introspect REPL helpers (ix):", notes = notes })
end

return M
