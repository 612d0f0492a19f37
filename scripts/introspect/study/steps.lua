-- The study's steps as pure functions on plain tables (no network, no files):
--   contexts -> trials -> requests -> (session:sample) replies -> records -> selections/reports
-- A trial is {context=, a={...}, b={...}, ta={...}, tb={...}, source=, index=} (numbers, their
-- printed text, and the generator's trial set for fast rendering). A request is {body=, trial=,
-- kind=, condition=, sample=}; a record adds what came back: {raw=, error=, key=, value=,
-- reason=, p_a=}. Every function works for contexts with any number of attributes.
local paper = require "introspect.design.paper"
local pyjson = require "introspect.core.pyjson"
local prompts_mod = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local rng = require "introspect.rng"
local stimuli = require "introspect.design.stimuli"
local util = require "introspect.core.util"

local M = {}

---@class introspect.Trial
---@field context table the Context {id=, scenario=, role=, question=}
---@field a number[] option A's values (rounded by the study's rule)
---@field b number[] option B's values
---@field ta string[] option A's values as printed in prompts
---@field tb string[] option B's values as printed
---@field source userdata|nil the generator's trial set (renders in C)
---@field index integer|nil the trial's index in source

---trials(contexts, opts) -> per_context fresh trials for each context, drawn as the study draws
---its choice trials (one generator seeded once, contexts in order).
---@param contexts table[] Context tables
---@param opts {per_context: integer, seed: integer, rng?: "default"|"python", reseed?: boolean}
---@return introspect.Trial[]
function M.trials(contexts, opts)
  opts = util.check_options("study.trials", opts, { per_context = "integer", seed = "integer",
    rng = { "default", "python" }, reseed = "boolean" })
  if not opts.per_context or not opts.seed then error("study.trials: per_context and seed are required", 2) end
  local g = stimuli.generator(opts.rng or "default", opts.seed)
  local out = {}
  for _, ctx in ipairs(contexts) do
    if opts.reseed then g:seed(opts.seed) end
    local set = g:trials(ctx.scenario, opts.per_context)
    for i = 1, #set do
      local t = set:trial(i, true)   -- values and their printed texts in one call
      out[#out + 1] = { context = ctx, a = t.a, b = t.b, ta = t.ta, tb = t.tb, source = set, index = i }
    end
  end
  return out
end

---render(p, kind, trial) -> the user message of a trial ("decision" or "report") in prompt set p.
---@param p table a prompt set (introspect.design.prompts.new)
---@param kind "decision"|"report"
---@param trial introspect.Trial
---@return string
function M.render(p, kind, trial)
  if trial.source then return p:render(kind, trial.context, trial.source, trial.index) end
  return p:render(kind, trial.context, trial)
end

-- messages_of(p, trial, user, hook, i) -> the messages of a trial whose user message is `user`
-- (study.messages after rendering).
local function messages_of(p, trial, user, hook, i)
  local default = { { role = "system", content = p:system() }, { role = "user", content = user } }
  if not hook then return default end
  local list = hook(trial.context, trial, trial.index or i or 1, default)
  if type(list) ~= "table" or #list == 0 then
    error(string.format("messages hook: context %s: must return a non-empty list of messages",
      tostring(trial.context.id)), 0)
  end
  for k, m in ipairs(list) do
    if type(m) ~= "table" or type(m.role) ~= "string" or type(m.content) ~= "string" then
      error(string.format("messages hook: context %s: message %d needs role and content strings",
        tostring(trial.context.id), k), 0)
    end
  end
  return list
end

---messages(p, kind, trial[, hook, i]) -> the chat messages of a trial: hook(ctx, trial, i, default)
---when given (it may return a prefix or trigger, a system prompt of its own, or a whole
---conversation), else {system, user} of the prompt set. i is the trial's index within its
---context (trial.index; the argument i only for a trial without one), as in training files
---(introspect.design.trainfiles), so one hook gives a trial the same messages in both.
---@param p table prompt set
---@param kind "decision"|"report"
---@param trial introspect.Trial
---@param hook? fun(ctx: table, trial: introspect.Trial, i: integer, default: table[]): table[]
---@param i? integer the trial's index when it has no trial.index
---@return table[]
function M.messages(p, kind, trial, hook, i)
  return messages_of(p, trial, M.render(p, kind, trial), hook, i)
end

local REQUEST_OPTIONS = { model = "string", kind = { "decision", "report" }, prompts = "table",
  messages = "function", temperature = "number", n = "integer", seed = "integer", logprobs = "boolean",
  max_tokens = "integer", condition = "string" }

---requests(trials, opts) -> one request per trial and sample. opts: model (required), kind
---("decision" default, or "report"), prompts (a prompt set; default the study's), messages (a
---hook (ctx, trial, i, default) -> messages), temperature (0), n (samples per trial, 1), seed
---(each request gets its own: seed + its position, so every sample is reproducible; without
---seed no seed is sent), logprobs (top 5 logprobs of the first token), max_tokens (the study's
---5 for decisions, 200 for reports), condition (a label carried into every record).
---@param trials introspect.Trial[]
---@param opts table
---@return table[] requests {body=, trial=, kind=, condition=, sample=}
function M.requests(trials, opts)
  opts = util.check_options("study.requests", opts, REQUEST_OPTIONS)
  if not opts.model then error("study.requests: 'model' is required", 2) end
  local kind = opts.kind or "decision"
  local p = opts.prompts or prompts_mod.default
  local n = opts.n or 1
  if n < 1 then error("study.requests: n must be at least 1", 2) end
  local max_tokens = opts.max_tokens or (kind == "decision" and paper.tokens.choice or paper.tokens.report)
  local render = prompts_mod.renderer(p, kind)   -- study.render, a generator's set at once
  local out = {}
  for i, trial in ipairs(trials) do
    local set = trial.source
    local user = set and render(trial.context, set, trial.index) or render(trial.context, trial)
    local msgs = messages_of(p, trial, user, opts.messages, i)
    for s = 1, n do
      local body = { model = opts.model, temperature = opts.temperature or 0, max_completion_tokens = max_tokens,
        messages = msgs }
      if opts.seed then body.seed = opts.seed + #out end
      if opts.logprobs then body.logprobs, body.top_logprobs = true, 5 end
      out[#out + 1] = { body = body, trial = trial, kind = kind, condition = opts.condition, sample = s }
    end
  end
  return out
end

---records(requests, replies[, {parse=}]) -> one record per request: the request's trial, kind,
---condition and sample, plus raw (the reply text or nil), error (a failed request), key (its
---store key), value (the parsed answer: "A"/"B" for decisions, the numbers for reports), reason
---(why value is nil) and p_a (P(A) from logprobs, decisions only). parse(text, names) -> value |
---nil, reason for reports (default replies.parse: the study's JSON weights).
---@param requests table[] from study.requests
---@param replies_list table[] from session:sample (same order)
---@param opts? {parse?: function}
---@return table[] records
function M.records(requests, replies_list, opts)
  opts = util.check_options("study.records", opts, { parse = "function" })
  local parse = opts.parse or replies.parse
  local names_of = {}   -- scenario -> its attribute names
  local out = {}
  for k, req in ipairs(requests) do
    local rep = replies_list[k] or {}
    local text = rep.response and replies.content(rep.response) or nil
    local err = rep.error and tostring(rep.error) or nil
    local ctx = req.trial.context
    local value, reason, p_a
    if err then
      reason = "failed"
    elseif req.kind == "decision" then
      value, reason = replies.parse_choice(text)   -- the one choice parser
      if value and req.body.logprobs then p_a = replies.prob_a(rep.response) end
    elseif text then
      local scenario = ctx.scenario
      local names = names_of[scenario]
      if not names then
        names = {}
        for j, a in ipairs(scenario.attributes) do names[j] = a.name end
        names_of[scenario] = names
      end
      value, reason = parse(text, names)
    else
      reason = "empty"
    end
    out[k] = { trial = req.trial, context = ctx, kind = req.kind, condition = req.condition, sample = req.sample,
      model = req.body.model, raw = text, error = err, key = rep.key, value = value, reason = reason, p_a = p_a }
  end
  return out
end

---selections(records) -> the valid decisions as analysis selections {model=, scenario=,
---selection=, a=, b=, p_a=, condition=} (introspect.analysis.fit_weights).
---@param records table[]
---@return table[]
function M.selections(records)
  local out = {}
  for _, r in ipairs(records) do
    if r.kind == "decision" and r.value then
      out[#out + 1] = { model = r.model, scenario = r.context.scenario.short_name, selection = r.value,
        a = r.trial.a, b = r.trial.b, p_a = r.p_a, condition = r.condition }
    end
  end
  return out
end

---counts(records) -> {total=, valid=, invalid=, failed=, reasons={reason=count}} (failed
---requests are not counted as invalid replies).
---@param records table[]
---@return table
function M.counts(records)
  local c = { total = #records, valid = 0, invalid = 0, failed = 0, reasons = {} }
  for _, r in ipairs(records) do
    if r.error then c.failed = c.failed + 1
    elseif r.value then c.valid = c.valid + 1
    else
      c.invalid = c.invalid + 1
      c.reasons[r.reason or "invalid"] = (c.reasons[r.reason or "invalid"] or 0) + 1
    end
  end
  return c
end

---reports(records[, version]) -> the valid reports as analysis reports {model=, version=,
---scenario=, report={...}, condition=} (introspect.analysis.accuracy).
---@param records table[]
---@param version? string
---@return table[]
function M.reports(records, version)
  local out = {}
  for _, r in ipairs(records) do
    if r.kind == "report" and r.value then
      out[#out + 1] = { model = r.model, version = version, scenario = r.context.scenario.short_name,
        report = r.value, condition = r.condition }
    end
  end
  return out
end

-- attribute_count(records or requests, where) -> k (one CSV file needs one count; mixed counts
-- raise naming two contexts).
local function attribute_count(records, where)
  local k, first
  for _, r in ipairs(records) do
    local ctx = r.context or r.trial.context
    local n = #ctx.scenario.attributes
    if k and n ~= k then
      error(string.format("%s: contexts %s and %s have %d and %d attributes; one CSV file needs one count",
        where, first, ctx.scenario.short_name, k, n), 0)
    end
    k, first = n, first or ctx.scenario.short_name
  end
  return k or paper.attributes
end
M.attribute_count = attribute_count

-- A reported number as the published files print it: integers without a decimal point.
local function report_number(v)
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  return rng.pyrepr(v)
end

-- append(row, list) -> row with list's items added after its own (util.concat_lists in place).
local function append(row, list)
  local n = #row
  for j, v in ipairs(list) do row[n + j] = v end
  return row
end

---selection_rows(records) -> header, rows of the published selections layout (valid decisions).
---@param records table[]
---@param where? string names the file in errors
---@return string[] header
---@return table[] rows
function M.selection_rows(records, where)
  local header = paper.headers.selections(attribute_count(records, where or "selections"))
  local rows = {}
  for _, r in ipairs(records) do
    if r.kind == "decision" and r.value then
      rows[#rows + 1] = append(append({ r.model, r.context.scenario.short_name, r.value }, r.trial.ta), r.trial.tb)
    end
  end
  return header, rows
end

---report_rows(records, version) -> header, rows of the published reports layout (valid reports).
---@param records table[]
---@param version string
---@param where? string names the file in errors
---@return string[] header
---@return table[] rows
function M.report_rows(records, version, where)
  local header = paper.headers.reports(attribute_count(records, where or "reports"))
  local rows = {}
  for _, r in ipairs(records) do
    if r.kind == "report" and r.value then
      local row = { r.model, version, r.context.scenario.short_name }
      for j, v in ipairs(r.value) do row[3 + j] = report_number(v) end
      rows[#rows + 1] = append(append(row, r.trial.ta), r.trial.tb)
    end
  end
  return header, rows
end

-- The raw files' encoder.
local raw_json = pyjson.codec({ separators = { ",", ":" }, ascii = false })

---raw_lines(records) -> JSONL text: every reply raw ({"scenario", "context", "reply"[, "error"]},
---keys in a fixed order, so re-runs write identical files).
---@param records table[]
---@return string
function M.raw_lines(records)
  local parts, heads, short = {}, {}, {}   -- heads: context -> its lines' text up to the reply
  for _, r in ipairs(records) do
    local ctx = r.context
    if r.error or (r.sample and r.sample > 1) then
      local fields = { "scenario", ctx.scenario.short_name, "context", ctx.id, "reply", r.raw or pyjson.null }
      if r.error then fields[#fields + 1] = "error"; fields[#fields + 1] = r.error end
      if r.sample and r.sample > 1 then fields[#fields + 1] = "sample"; fields[#fields + 1] = r.sample end
      parts[#parts + 1] = raw_json.encode(pyjson.object(fields))
      parts[#parts + 1] = "\n"
    else
      local head = heads[ctx]
      if not head then
        -- the line of a null reply, cut before its "null}"
        head = raw_json.encode(pyjson.object({ "scenario", ctx.scenario.short_name, "context", ctx.id,
          "reply", pyjson.null })):sub(1, -6)
        heads[ctx] = head
      end
      parts[#parts + 1] = head
      local raw = r.raw
      local json = not raw and "null" or short[raw]   -- short replies (a choice's letter) encoded once
      if not json then
        json = raw_json.encode(raw)
        if type(raw) == "string" and #raw <= 8 then short[raw] = json end
      end
      parts[#parts + 1] = json
      parts[#parts + 1] = "}\n"
    end
  end
  return table.concat(parts)
end

return M
