-- A study session: only what the steps of a run truly share. The run directory (manifest,
-- state for resuming, lock), a client of the backend with its response store and cost meter
-- (in a dry run the client's transport plans instead of sending: introspect.client.planner),
-- and progress. Everything else is passed to the steps and returned by them
-- (introspect.study.steps). The session samples requests, uploads files and fine-tunes.
local backend = require "introspect.client.backend"
local cost = require "introspect.client.cost"
local csv = require "introspect.core.csv"
local finetune = require "introspect.study.finetune"
local paper = require "introspect.design.paper"
local preflight = require "introspect.client.preflight"
local progress_mod = require "introspect.core.progress"
local prompts_mod = require "introspect.design.prompts"
local rng = require "introspect.rng"
local rundir = require "introspect.run.rundir"
local steps = require "introspect.study.steps"
local sys = require "introspect.sys"
local util = require "introspect.core.util"

local M = {}

-- The collector's parameters while a session is open (incremental mode: a cycle once the heap
-- is GC_PAUSE% of what the last one kept, in steps of GC_STEPMUL).
M.GC_PAUSE, M.GC_STEPMUL = 300, 400

---@class introspect.Session
---@field out string the run directory
---@field run table the run directory (introspect.run.rundir)
---@field client table the backend's client (introspect.client.openai)
---@field meter table the cost meter
---@field store table|nil the response store (nil in a dry run)
---@field progress table progress lines
---@field planner table|nil the planning transport of a dry run
---@field simulated boolean the backend is the simulated subject
local Session = {}
Session.__index = Session
M.Session = Session

local OPTIONS = {
  out = "string", name = "string", backend = "string", batch = "boolean", max_cost = "number",
  dry_run = "boolean", finetune_command = "string", progress = "any", manifest = "table",
  poll_interval = "number", sim = "table", concurrency = "integer", finetune_settings = "table",
  slurm_template = "string", models = "table", design = "any", logprobs = "boolean", prices = "string",
  write_only = "boolean",
}

---label(model) -> a file-name-safe label of a model name ("meta/llama 3" -> "meta_llama_3").
---@param model string
---@return string
function M.label(model)
  return (model:gsub("[^%w%._%-]", "_"))
end

---explain(err) -> the error's text for a one-line message; a budget stop says what to do next.
---@param err any
---@return string
function M.explain(err)
  err = tostring(err)
  if err:find("max_cost", 1, true) then
    err = err .. "\n(the run stopped before spending it; see the plan with --dry-run, then re-run with a higher " ..
      "--max-cost: nothing already answered is paid for again)"
  end
  return err
end

-- The models a session runs: the wanted ones checked against the backend's list (GET /v1/models,
-- introspect.client.preflight), or the server's own base models when none are named. A dry run
-- on a real backend sends nothing, so it cannot ask: it takes the named models as they are.
local function resolve_models(self, wanted)
  if self.planner and not self.simulated then
    if not wanted or #wanted == 0 then
      error(string.format("a dry run on backend %s needs --models (it sends nothing, so it cannot ask the " ..
        "server which models it has)", self.backend_name), 0)
    end
    return wanted
  end
  -- the subject's own list comes from an in-memory subject: its state directory is not made yet
  local lister = self.simulated and backend.client("sim", { sim = self.opts.sim }) or self.client
  local models, err = preflight.models(lister, wanted, { where = self.simulated
    and "the simulated subject" or self.client.base_url, warn = function(line) io.stderr:write(line, "\n") end })
  if not models then error(err, 0) end
  return models
end

---session(opts) -> a session. opts: out (run directory, default runs/study), name (the run's
---name), backend ("sim" (default), "openai", a profile name or a base URL), models (the base
---models the run uses: checked against the backend's model list before anything is written; an
---empty list: the server's own base models; the result is session.models), design (what besides backend and
---models makes two runs the same run: a re-run into the same directory with another backend,
---models or design is refused, naming the run there), logprobs (the run asks for logprobs:
---checked against the backend's capabilities), batch (Batch API for sampling), max_cost
---(dollars: every model must then be priced), prices (a JSON prices file, cost.load_prices),
---dry_run (plan and price in a scratch directory, send nothing, write nothing into out),
---write_only (write files into out but send nothing: --stimuli-only), finetune_command (a
---command-line fine-tuner), progress (an introspect.core.progress), manifest (entries for
---manifest.json), poll_interval (seconds between fine-tuning and batch checks), sim (options of
---the simulated subject), concurrency (requests in flight), finetune_settings (per-stage
---hyperparameters, study.finetune_settings), slurm_template (run finetune_command as Slurm jobs).
---Every check that can refuse the run (API key, models, capabilities, prices, the run directory's
---identity) comes before anything is created or sent.
---@param opts table
---@return introspect.Session
function M.new(opts)
  opts = util.check_options("study.session", opts, OPTIONS)
  local self = setmetatable({ opts = opts, timings = {}, phase_order = {}, failed = 0 }, Session)
  self.out = opts.out or "runs/study"
  self.progress = opts.progress or progress_mod.new()
  self.backend_name = opts.backend or "sim"
  local prices
  if opts.prices then
    local perr
    prices, perr = cost.load_prices(opts.prices)
    if not prices then error(perr, 0) end
  end
  self.meter = cost.meter({ max_cost = not (opts.dry_run or opts.write_only) and opts.max_cost or nil,
    prices = prices })
  -- 1. the backend (a missing API key stops here) and its models, before anything is written
  if opts.dry_run or opts.write_only then self.planner = require("introspect.client.planner").new() end
  self.simulated = backend.simulated(self.backend_name)
  if self.planner or not self.simulated then   -- the subject's client is made beside its state (3.)
    self.client = backend.client(self.backend_name, { meter = self.meter, transport = self.planner,
      concurrency = opts.concurrency })
  end
  if opts.models and not opts.write_only then
    -- named models are checked locally (capabilities, prices) before the backend is asked
    local named = #opts.models > 0
    if named then finetune.check_models(self, opts.models, { logprobs = opts.logprobs }) end
    self.models = resolve_models(self, opts.models)
    if not named then finetune.check_models(self, self.models, { logprobs = opts.logprobs }) end
  end
  -- 2. the run directory: a dry run plans in a scratch directory, so `out` is never touched
  local dir = self.out
  if opts.dry_run then
    local serr
    dir, serr = util.scratch_dir("introspect-dry-run")
    if not dir then error(serr, 0) end
    self.scratch = dir
  end
  local identity = not opts.dry_run and { backend = self.backend_name, models = self.models,
    design = opts.design } or nil
  local run, err = rundir.open(dir, { name = opts.name, manifest = opts.manifest, identity = identity })
  if not run then
    if self.scratch then util.remove_tree(self.scratch) end
    error(err, 0)
  end
  self.run = run
  self.meter.total = run:get("cost_spent") or 0   -- earlier sessions of this run count too
  -- 3. the response store, and the simulated subject's state beside it
  if not self.planner then
    local store_mod = require "introspect.client.store"
    local st, serr = store_mod.open(run:path("responses.sqlite"), { run = opts.name or self.out })
    if not st then run:close(); error(serr, 0) end
    self.store = st
  end
  if self.simulated and not self.planner then
    self.client = backend.client("sim", { store = self.store, meter = self.meter, sim = opts.sim,
      state_dir = run:path("sim-state"), threaded = true })
  end
  self.client.store = self.store
  if self.store then
    for _, s in ipairs(self.client:secrets()) do self.store:add_secret(s) end
  end
  run:set_manifest("backend", backend.describe(self.backend_name))
  if self.models then run:set_manifest("models", self.models) end
  if opts.finetune_settings then run:set_manifest("finetune_settings", opts.finetune_settings) end
  local versions = { lua = _VERSION, cjson = require("cjson")._VERSION }
  local ok, host = pcall(require, "introspect.host")
  if ok then
    local _, info = host.version()
    for k, v in pairs(info) do versions[k] = v end
  end
  run:set_manifest("versions", versions)
  run:set_manifest("templates", M.template_hashes(prompts_mod.default))
  -- the heap grows through each phase (its requests and replies), which kept generational
  -- collection in major collections: incremental until session:close (docs/host.md, "Memory"),
  -- set once every check has passed (a refused session changes nothing)
  self.gc_mode = collectgarbage("incremental", M.GC_PAUSE, M.GC_STEPMUL)
  return self
end

---template_hashes(p) -> {template name = first 16 hex digits of its sha256} of a prompt set.
---@param p table
---@return table
function M.template_hashes(p)
  local hashes = {}
  for name, text in pairs(p.templates or {}) do hashes[name] = sys.sha256(text):sub(1, 16) end
  return hashes
end

---session:path(name) -> the path of a file in the run directory.
---@param name string
---@return string
function Session:path(name) return self.run:path(name) end

---session:write(name, content) -> path (atomic, in the run directory; folders created).
---@param name string
---@param content string
---@return string
function Session:write(name, content)
  local dir = name:match("^(.*)/[^/]*$")
  if dir then util.mkdir_p(self.run:path(dir)) end
  return self.run:write(name, content)
end

---session:phase(name, total) -> a progress phase whose time goes into the summary's timings.
---@param name string
---@param total? integer
---@return table
function Session:phase(name, total)
  local ph = self.progress:phase(name, total)
  local finish = ph.finish
  ph.finish = function(p)
    local secs = finish(p)
    self:add_time(name, secs)
    return secs
  end
  return ph
end

---session:add_time(name, seconds): adds to the time of phase `name` (summary timings).
---@param name string
---@param seconds number
function Session:add_time(name, seconds)
  if not self.timings[name] then self.phase_order[#self.phase_order + 1] = name end
  self.timings[name] = (self.timings[name] or 0) + seconds
end

---session:timed(name, fn, ...) -> fn's results; records the time under `name`.
---@param name string
---@param fn function
---@param ... any fn's arguments
---@return any
function Session:timed(name, fn, ...)
  local t0 = sys.now()
  local results = table.pack(fn(...))
  self:add_time(name, sys.now() - t0)
  return table.unpack(results, 1, results.n)
end

-- Saves the running total so a resumed run keeps counting from it.
local function record_cost(self)
  if (self.run:get("cost_spent") or 0) ~= self.meter.total then self.run:set("cost_spent", self.meter.total) end
end

-- In a dry run: the cost of what `fn` planned goes to the plan row of phase `name`.
local function planned(self, name, fn)
  if not self.planner then return fn() end
  self.planner:phase(name)
  local function unpriced()
    local n = 0
    for _, count in pairs(self.meter.unpriced) do n = n + count end
    return n
  end
  local before, unpriced_before = self.meter.total, unpriced()
  local results = table.pack(fn())
  local row = self.planner.by_name[name]
  if row then
    row.cost = (row.cost or 0) + (self.meter.total - before)
    row.unpriced = (row.unpriced or 0) + (unpriced() - unpriced_before)
  end
  return table.unpack(results, 1, results.n)
end

---session:sample(name, requests) -> replies, one per request (same order): {response=,
---error=, key= (the store key), cached=}. Stored responses are reused (a re-run pays nothing
---twice); failed requests are counted (session.failed) and kept for a re-run to retry.
---@param name string the phase name (progress, timings, the dry-run plan)
---@param requests table[] from study.requests
---@return table[]
function Session:sample(name, requests)
  local bodies = {}
  for i, r in ipairs(requests) do bodies[i] = r.body end
  return planned(self, name, function()
    local ph = self:phase(name, #bodies)
    local entries, info
    if self.opts.batch and not self.planner then
      entries, info = self.client:batch_run(bodies, { poll_interval = self.opts.poll_interval or 60,
        on_status = function(b) ph:update({ state = "batch " .. tostring(b.status) }) end })
      if not entries then error(string.format("%s: %s", name, tostring(info)), 0) end
      ph:update({ done = #bodies })
    else
      local done, cached, retries = 0, 0, 0
      entries = self.client:chat_many(bodies, {
        on_result = function(_, e)
          done = done + 1
          if e.cached then cached = cached + 1 end
          if (e.attempts or 1) > 1 then retries = retries + e.attempts - 1 end
          if done % 64 == 0 or done == #bodies then
            ph:update({ done = done, cached = cached, retries = retries, cost = self.meter.total })
          end
        end })
    end
    ph:finish()
    if not self.planner then record_cost(self) end
    local failed = 0
    for _, e in ipairs(entries) do if e.error then failed = failed + 1 end end
    if failed > 0 then
      self.failed = self.failed + failed
      self.progress:message(string.format("%s: %d of %d requests failed (kept in the store; a re-run retries them)",
        name, failed, #bodies))
    end
    return entries
  end)
end

local ASK_OPTIONS = { name = "string", model = "string", contexts = "table", trials = "table",
  per_context = "integer", seed = "integer", rng = { "default", "python" }, prompts = "table",
  messages = "function", temperature = "number", n = "integer", sample_seed = "integer", logprobs = "boolean",
  max_tokens = "integer", condition = "string", parse = "function", file = "string", version = "string",
  raw = "string" }

---session:ask(kind, spec) -> records, counts: the steps trials -> requests -> sample -> records
---in one call, writing every reply raw (replies/NAME.jsonl or spec.raw) and, with spec.file, the
---valid ones in the published CSV layout. spec: name (phase), model (served), contexts + per_context
---+ seed (+ rng) to draw fresh trials, or trials = (exact trials to reuse, e.g. those of earlier
---records); prompts, messages, temperature, n, sample_seed (seed of the first request; each
---request its own), logprobs, max_tokens, condition, parse (reports), file, version (reports).
---@param kind "decision"|"report"
---@param spec table
---@return table[] records
---@return table counts (study.counts)
function Session:ask(kind, spec)
  spec = util.check_options("session:ask", spec, ASK_OPTIONS)
  if not spec.model then error("session:ask: 'model' is required", 2) end
  local trials = spec.trials
  if not trials then
    if not (spec.contexts and spec.per_context and spec.seed) then
      error("session:ask: give trials = ..., or contexts, per_context and seed", 2)
    end
    trials = steps.trials(spec.contexts, { per_context = spec.per_context, seed = spec.seed, rng = spec.rng })
  end
  local name = spec.name or (kind == "decision" and "choices " or "reports ") .. spec.model
  local requests = steps.requests(trials, { model = spec.model, kind = kind, prompts = spec.prompts,
    messages = spec.messages, temperature = spec.temperature, n = spec.n, seed = spec.sample_seed,
    logprobs = spec.logprobs, max_tokens = spec.max_tokens, condition = spec.condition })
  -- the CSV's attribute count is checked before anything is sent
  if spec.file then steps.attribute_count(requests, spec.file) end
  -- what each call sent, for telling runs apart (the prompt set's templates, sampling settings)
  local calls = self.run.manifest.calls or {}
  calls[name] = { templates = M.template_hashes(spec.prompts or prompts_mod.default), temperature = spec.temperature,
    n = spec.n, sample_seed = spec.sample_seed, seed = spec.seed, messages = spec.messages and true or nil,
    logprobs = spec.logprobs, reused_trials = spec.trials and true or nil }
  self.run:set_manifest("calls", calls)
  local replies = self:sample(name, requests)
  local records = steps.records(requests, replies, { parse = spec.parse })
  self:write(spec.raw or ("replies/" .. M.label(name) .. ".jsonl"), steps.raw_lines(records))
  if spec.file then
    local header, rows
    if kind == "decision" then header, rows = steps.selection_rows(records, spec.file)
    else header, rows = steps.report_rows(records, spec.version or spec.model, spec.file) end
    self:write(spec.file, csv.format(header, rows))
    local probs, row = {}, 0   -- P(A) of each valid choice, by its row in the CSV
    for _, r in ipairs(records) do
      if r.kind == "decision" and r.value then
        row = row + 1
        if r.p_a then probs[#probs + 1] = { r.context.scenario.short_name, row, rng.pyrepr(r.p_a) } end
      end
    end
    if #probs > 0 then self:write((spec.file:gsub("%.csv$", "_probs.csv")), csv.format(paper.headers.probs, probs)) end
  end
  return records, steps.counts(records)
end

---session:choices(spec) -> records, counts (session:ask("decision", spec)).
---@param spec table
---@return table[]
---@return table
function Session:choices(spec) return self:ask("decision", spec) end

---session:reports(spec) -> records, counts (session:ask("report", spec)).
---@param spec table
---@return table[]
---@return table
function Session:reports(spec) return self:ask("report", spec) end

---session:upload(path) -> file id (once per content; see introspect.study.finetune).
---@param path string
---@return string
function Session:upload(path) return finetune.upload(self, path) end

---session:finetune(parent, name, files[, {seed=, hyperparameters=, suffix=, label=}]) -> model
---(introspect.study.finetune.finetune: resumes; seed and hyperparameters go into the manifest).
---@param parent string
---@param name string
---@param files {train: string, validation?: string}
---@param opts? table
---@return string
function Session:finetune(parent, name, files, opts)
  return planned(self, "fine-tune " .. name, function() return finetune.finetune(self, parent, name, files, opts) end)
end

---session:check_models(models[, {logprobs=}]): refuses in one line what the backend cannot do and,
---under max_cost, a model without a price (introspect.study.finetune.check_models). session.new
---already checks the models it is given; this is for models a script picks later.
---@param models string[]
---@param opts? table
function Session:check_models(models, opts) return finetune.check_models(self, models, opts) end

---session:close(): releases the run directory and closes the store; the collector goes back to
---generational mode if the session found it there.
function Session:close()
  local transport = self.client and self.client.transport
  if type(transport) == "table" and transport.close then transport:close() end
  if self.store then self.store:close() self.store = nil end
  if self.run then self.run:close() end
  if self.scratch then util.remove_tree(self.scratch) self.scratch = nil end
  if self.gc_mode == "generational" then collectgarbage("generational") end
  self.gc_mode = nil
end

---session:plan() -> the dry run's plan: {{phase=, requests=, tokens=, cost=}, ...} (nil when
---the session sends).
---@return table[]|nil
function Session:plan()
  return self.planner and self.planner.phases or nil
end

return M
