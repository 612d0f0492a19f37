-- The study's sampling phases (installed into introspect.study's Study): report prompts and
-- decision prompts sent to a model at temperature 0, replies parsed as the study did, every
-- reply kept raw, and the CSVs written in the published column layout.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local paper = require "introspect.design.paper"
local prompts_mod = require "introspect.design.prompts"
local replies = require "introspect.design.replies"
local rng = require "introspect.rng"
local stimuli = require "introspect.design.stimuli"
local util = require "introspect.core.util"

return function(Study, M)
  -- csv_headers(k) -> report header, selection header of the published CSV layout for contexts
  -- with k attributes (introspect.design.paper.headers).
  function M.csv_headers(k) return paper.headers.reports(k), paper.headers.selections(k) end
  M.REPORT_HEADER, M.SELECTION_HEADER = M.csv_headers(paper.attributes)

  -- attribute_count(self, ids, where) -> the number of attributes of the contexts `ids` (one
  -- CSV layout needs one count; mixed counts raise, naming two contexts).
  local function attribute_count(self, ids, where)
    local k, first
    for _, id in ipairs(ids) do
      local ctx = self.stim.contexts[id]
      local n = ctx and #ctx.scenario.attributes
      if n and k and n ~= k then
        error(string.format("%s: contexts %d and %d have %d and %d attributes; one CSV file needs one count",
          where, first, id, k, n), 0)
      end
      if n and not k then k, first = n, id end
    end
    return k or paper.attributes
  end

  local function trial_values(trials, i)
    local a, b, ta, tb = {}, {}, {}, {}
    for j = 1, trials:attributes() do
      a[j], b[j] = trials:value(i, "A", j), trials:value(i, "B", j)
      ta[j], tb[j] = trials:text(i, "A", j), trials:text(i, "B", j)
    end
    return a, b, ta, tb
  end

  -- A reported weight as the published files print it: integers without a decimal point.
  local function report_number(v)
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return rng.pyrepr(v)
  end

  local function reply_text(entry) return replies.content(entry.response) end
  local function prob_a(entry) return replies.prob_a(entry.response) end

  -- Sends one phase's chat bodies (or, in a dry run, plans them); returns entries.
  function Study:send(name, bodies)
    if self.opts.dry_run then
      local tokens_in, tokens_out = 0, 0
      local cost = require "introspect.client.cost"
      for _, b in ipairs(bodies) do
        local i, o = cost.request_tokens(b)
        tokens_in, tokens_out = tokens_in + i, tokens_out + o
      end
      local est = self.meter:estimate_chat(bodies, { batch = self.opts.batch })
      local dollars = type(est) == "number" and est or 0
      self.plan = self.plan or {}
      self.plan[#self.plan + 1] = { phase = name, requests = #bodies, tokens = tokens_in + tokens_out,
        input_tokens = tokens_in, output_tokens = tokens_out, cost = dollars }
      return nil
    end
    local ph = self:phase(name, #bodies)
    local entries, info
    if self.opts.batch then
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
    self:record_cost()
    local failed = 0
    for _, e in ipairs(entries) do if e.error then failed = failed + 1 end end
    if failed > 0 then
      self.failed = (self.failed or 0) + failed
      self.progress:message(string.format("%s: %d of %d requests failed (kept in the store; a re-run retries them)",
        name, failed, #bodies))
    end
    return entries
  end

  local function system_message(p) return { role = "system", content = p:system() } end

  -- Builds the bodies of one sampling phase: for each context id, `per` trials from `gen`.
  local function phase_bodies(self, kind, model, ids, gen, max_tokens)
    local p = self.prompts or prompts_mod.default
    local stim = self.stim
    local bodies, meta = {}, {}
    for _, id in ipairs(ids) do
      local ctx = stim.contexts[id]
      if not ctx then error(string.format("context %d does not exist (%d contexts)", id, #stim.contexts), 0) end
      local trials = gen(ctx)
      for i = 1, #trials do
        local body = { model = model, temperature = 0, max_completion_tokens = max_tokens,
          messages = { system_message(p), { role = "user", content = p:render(kind, ctx, trials, i) } } }
        if self.opts.seed then body.seed = self.opts.seed end
        if kind == "decision" and self.opts.logprobs then
          body.logprobs, body.top_logprobs = true, 5
        end
        bodies[#bodies + 1] = body
        meta[#meta + 1] = { context = ctx, trials = trials, i = i }
      end
    end
    return bodies, meta
  end

  -- One raw reply as a JSONL line, keys in a fixed order so re-runs write identical files.
  local function jsonl_line(scenario, context, reply, err)
    local parts = { '{"scenario":', cjson.encode(scenario), ',"context":', tostring(context), ',"reply":',
      reply and cjson.encode(reply) or "null" }
    if err then parts[#parts + 1] = ',"error":' .. cjson.encode(tostring(err)) end
    parts[#parts + 1] = "}\n"
    return table.concat(parts)
  end

  -- study:collected(model) -> {reports = {condition = list}, invalid = {condition = counts}}:
  -- everything study:reports gathered for a base model, pooled by analysis condition.
  function Study:collected(model)
    self.gathered = self.gathered or {}
    local g = self.gathered[model]
    if not g then
      g = { reports = {}, invalid = {} }
      self.gathered[model] = g
    end
    return g
  end

  -- Adds one phase's valid reports and invalid counts to the model's pool for `condition`.
  local function gather(self, model, condition, reports, invalid)
    local g = self:collected(model)
    local list = g.reports[condition] or {}
    for _, r in ipairs(reports) do list[#list + 1] = r end
    g.reports[condition] = list
    local acc = g.invalid[condition] or { total = 0, valid = 0, invalid = 0, reasons = {} }
    acc.total, acc.valid, acc.invalid = acc.total + invalid.total, acc.valid + invalid.valid,
      acc.invalid + invalid.invalid
    for reason, count in pairs(invalid.reasons or {}) do acc.reasons[reason] = (acc.reasons[reason] or 0) + count end
    g.invalid[condition] = acc
  end

  -- study:reports{model=, served=, condition=, name=, contexts=ids, per_context=, file=, version=,
  --   parse=} -> reports, invalid
  -- condition: the analysis condition the reports count for (base, instilled, itrained,
  -- native_instilled, native_itrained); name: the phase's own name (default: condition), used
  -- for progress and the raw replies file. The reports are also pooled by condition for
  -- study:analyze (see study:collected).
  -- Asks `served` for per_context reports per context (each on a fresh trial), keeps the valid
  -- ones as analysis reports and in FILE (the published layout), and every reply raw in
  -- replies/LABEL_reports_CONDITION.jsonl. invalid = replies.collect's counts. parse: the reply
  -- parser (default replies.parse: the study's JSON weights; e.g. replies.parse_ranking).
  function Study:reports(spec)
    spec = util.check_options("study.reports", spec, { model = "string", served = "string",
      condition = "string", name = "string", contexts = "table", per_context = "integer", file = "string",
      version = "string", parse = "function" })
    local parse = spec.parse or replies.parse
    local nattr = spec.file and attribute_count(self, spec.contexts, spec.file)   -- checked before sending
    local phase = spec.name or spec.condition
    local per = spec.per_context or M.DESIGN.reports
    local seed = M.DESIGN.seeds.reports + (self.seed or 0)
    local g = stimuli.generator(self.stim.rng, seed)
    local bodies, meta = phase_bodies(self, "report", spec.served, spec.contexts,
      function(ctx) return g:trials(ctx.scenario, per) end, M.DESIGN.report_tokens)
    local name = string.format("reports %s %s", spec.model, phase)
    local entries = self:send(name, bodies)
    if not entries then return nil end
    local version = spec.version or paper.names.version(self.stim.n)
    local list, raw, rows = {}, {}, {}
    for k, e in ipairs(entries) do
      local m = meta[k]
      list[k] = { scenario = m.context.scenario.short_name, text = reply_text(e) or "", model = spec.served,
        version = version }
      raw[#raw + 1] = jsonl_line(list[k].scenario, m.context.id, reply_text(e), e.error)
    end
    local names_of = function(scenario)
      local ctx = self.stim.by_scenario[scenario]
      if not ctx then return nil end
      local names = {}
      for j, a in ipairs(ctx.scenario.attributes) do names[j] = a.name end
      return names
    end
    local reports, invalid = replies.collect(list, names_of, { parse = parse })
    -- The published files hold the valid reports with their trial's values.
    local index = 0
    for k, item in ipairs(list) do
      local values = parse(item.text, names_of(item.scenario))
      if values then
        index = index + 1
        local _, _, ta, tb = trial_values(meta[k].trials, meta[k].i)
        local row = { spec.served, version, item.scenario }
        for j = 1, #values do row[#row + 1] = report_number(values[j]) end
        for j = 1, #ta do row[#row + 1] = ta[j] end
        for j = 1, #tb do row[#row + 1] = tb[j] end
        rows[#rows + 1] = row
      end
    end
    util.mkdir_p(self.run:path("replies"))
    self:write("replies/" .. M.label(spec.model) .. "_reports_" .. phase .. ".jsonl", table.concat(raw))
    if spec.file then self:write(spec.file, csv.format((M.csv_headers(nattr)), rows)) end
    gather(self, spec.model, spec.condition, reports, invalid)
    return reports, invalid
  end

  -- study:choices{model=, served=, contexts=ids, per_context=, seed=, file=} -> selections, info
  -- Asks `served` to choose on per_context fresh trials per context (trials drawn from `seed`
  -- as the study drew its choice trials). Valid answers (replies.parse_choice) become
  -- analysis selections and rows of FILE (the published layout); others are kept raw in
  -- replies/ and counted (info.reasons = {reason = count}). With --logprobs, P(A) per trial goes to FILE's *_probs.csv.
  function Study:choices(spec)
    spec = util.check_options("study.choices", spec, { model = "string", served = "string",
      contexts = "table", per_context = "integer", seed = "integer", file = "string", label = "string" })
    local nattr = spec.file and attribute_count(self, spec.contexts, spec.file)   -- checked before sending
    local per = spec.per_context or M.DESIGN.trials
    local seed = spec.seed + (self.seed or 0)
    local g = stimuli.generator(self.stim.rng, seed)
    local bodies, meta = phase_bodies(self, "decision", spec.served, spec.contexts,
      function(ctx) return g:trials(ctx.scenario, per) end, M.DESIGN.choice_tokens)
    local label = spec.label or "choices"
    local entries = self:send(string.format("choices %s %s", spec.model, label), bodies)
    if not entries then return nil end
    local selections, rows, raw, probs = {}, {}, {}, {}
    local info = { total = #entries, valid = 0, invalid = 0, failed = 0, reasons = {} }
    for k, e in ipairs(entries) do
      local m = meta[k]
      local text = reply_text(e)
      local letter, why = replies.parse_choice(text)
      local a, b, ta, tb = trial_values(m.trials, m.i)
      raw[#raw + 1] = jsonl_line(m.context.scenario.short_name, m.context.id, text, e.error)
      if e.error then
        info.failed = info.failed + 1
      elseif not letter then
        info.invalid = info.invalid + 1
        info.reasons[why] = (info.reasons[why] or 0) + 1
      else
        info.valid = info.valid + 1
        local sel = { model = spec.served, scenario = m.context.scenario.short_name, selection = letter, a = a, b = b }
        local pa = self.opts.logprobs and prob_a(e) or nil
        sel.p_a = pa
        selections[#selections + 1] = sel
        local row = { spec.served, sel.scenario, letter }
        for j = 1, #ta do row[#row + 1] = ta[j] end
        for j = 1, #tb do row[#row + 1] = tb[j] end
        rows[#rows + 1] = row
        if pa then probs[#probs + 1] = { sel.scenario, #rows, rng.pyrepr(pa) } end
      end
    end
    util.mkdir_p(self.run:path("replies"))
    self:write("replies/" .. M.label(spec.model) .. "_choices_" .. label .. ".jsonl", table.concat(raw))
    if spec.file then
      self:write(spec.file, csv.format(select(2, M.csv_headers(nattr)), rows))
      if #probs > 0 then
        self:write((spec.file:gsub("%.csv$", "_probs.csv")), csv.format(paper.headers.probs, probs))
      end
    end
    return selections, info
  end
end
