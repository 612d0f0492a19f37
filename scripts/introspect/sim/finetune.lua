-- Fine-tuning of the simulated subject. It learns ONLY from the uploaded JSONL: choice examples
-- move each context's weights toward what they imply (a Bayesian logistic update with the
-- current weights as the prior mean), report examples raise introspective access, lower report
-- noise and store the reported weights (docs/simulated-subject.md, "Fine-tuning").
local cjson = require("cjson")
local hash = require("introspect.sim.hash")
local lines = require("introspect.core.util").lines
local subject = require("introspect.sim.subject")
local conversation = require("introspect.sim.conversation")
local message_text = require("introspect.sim.prompt").message_text
local simcore = require("introspect.simcore")

local M = {}

local combine, normal = hash.combine, hash.normal

M.MIN_EXAMPLES = 10   -- OpenAI's minimum number of training examples

-- resolve_hyperparameters(n, hp) -> {n_epochs=, batch_size=, learning_rate_multiplier=}
-- "auto" (or nil) follows OpenAI's documented defaults: 3 epochs, raised so that
-- n * epochs >= 100 and lowered so that n * epochs <= 25000; batch size ~0.2% of the examples
-- (1..256); learning-rate multiplier 1.8.
function M.resolve_hyperparameters(n, hp)
  hp = hp or {}
  local epochs = hp.n_epochs
  if epochs == nil or epochs == "auto" then
    epochs = 3
    if n * epochs < 100 then epochs = math.min(25, math.ceil(100 / n)) end
    if n * epochs > 25000 then epochs = math.max(1, 25000 // n) end
  end
  local batch = hp.batch_size
  if batch == nil or batch == "auto" then batch = math.max(1, math.min(256, math.ceil(n * 0.002))) end
  local lr = hp.learning_rate_multiplier
  if lr == nil or lr == "auto" then lr = 1.8 end
  return { n_epochs = math.tointeger(epochs) or epochs, batch_size = math.tointeger(batch) or batch,
           learning_rate_multiplier = lr }
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- strip_fences(text) -> text without a surrounding ``` code fence.
local function strip_fences(text)
  local inner = text:match("^%s*```[%w]*\n(.-)\n?```%s*$")
  return inner or text
end

-- parse_report_target(text, ctx) -> array of numbers in attribute order | nil
local function parse_report_target(text, ctx)
  local ok, obj = pcall(cjson.decode, strip_fences(text))
  if not ok or type(obj) ~= "table" then return nil end
  local out, n = {}, 0
  for _ in pairs(obj) do n = n + 1 end
  if n ~= ctx.k then return nil end
  for i, name in ipairs(ctx.names) do
    local v = obj[name]
    if type(v) ~= "number" then return nil end
    out[i] = v
  end
  return out
end

-- parse_examples(text, parser, what[, objects]) -> examples | nil, err
-- objects: the lines' values already decoded by the upload check, by line number (files.lua;
-- a line without one is decoded here).
-- Each line's conversation up to its last assistant message is read like a chat request
-- (conversation.read): the condition (system message and tags) of a choice example, the
-- wording of a report example and a decision made earlier in the conversation count as they do
-- when the subject answers.
-- examples = {choices={[key]={ctx=, rows={{parsed=, y=0|1, ch=, ck=}}, by_cond={[ck]=rows},
--             cond_order=}}, reports={[key]={ctx=, targets=, by_instr={[instruction]=count}}},
--             values={[key]={ctx=, lo=, hi=, n=}}, n=, other=, tokens=, order=, content_hash=
--             (of every message's role and text, in order)}
-- Errors name the file role (`what`) and the line: invalid JSON, no messages, no assistant reply.
function M.parse_examples(text, parser, what, objects)
  local reader = { parser = parser }
  local ex = { choices = {}, reports = {}, values = {}, n = 0, other = 0, tokens = 0, order = {},
               content_hash = 0 }
  local lineno = 0
  for line in lines(text) do
    lineno = lineno + 1
    if line:match("%S") then
      local ok, obj = true, objects and objects[lineno]
      if obj == nil then ok, obj = pcall(cjson.decode, line) end
      if not ok or type(obj) ~= "table" then
        return nil, string.format("%s line %d: not a JSON object", what, lineno)
      end
      local msgs = obj.messages
      if type(msgs) ~= "table" or #msgs == 0 then
        return nil, string.format("%s line %d: missing 'messages' array", what, lineno)
      end
      local last
      for i, m in ipairs(msgs) do
        if type(m) ~= "table" or type(m.role) ~= "string" then
          return nil, string.format("%s line %d: message %d has no role", what, lineno, i)
        end
        local content = message_text(m.content)
        if content == nil then
          return nil, string.format("%s line %d: message %d has no text content", what, lineno, i)
        end
        ex.tokens = ex.tokens + #content // 4 + 4
        if m.role == "assistant" then last = i end
        ex.content_hash = combine(ex.content_hash, hash.string(content, hash.string(m.role)))
      end
      ex.content_hash = combine(ex.content_hash, 0x11e)
      if not last then
        return nil, string.format("%s line %d: no assistant message to learn from", what, lineno)
      end
      ex.n = ex.n + 1
      local q = conversation.read(reader, msgs, last - 1)
      local used = false
      if q.parsed then
        local parsed = q.parsed
        local ctx, key = parsed.ctx, parsed.ctx.key
        local vals = ex.values[key]
        if not vals then
          vals = { ctx = ctx, lo = {}, hi = {}, n = 0 }
          for i = 1, ctx.k do vals.lo[i], vals.hi[i] = math.huge, -math.huge end
          ex.values[key] = vals
          ex.order[#ex.order + 1] = key
        end
        vals.n = vals.n + 2
        local los, his, pa, pb = vals.lo, vals.hi, parsed.a, parsed.b
        for i = 1, ctx.k do   -- math.min / math.max over (current, a, b), inline
          local a, b, lo, hi = pa[i], pb[i], los[i], his[i]
          if a < lo then lo = a end
          if b < lo then lo = b end
          if a > hi then hi = a end
          if b > hi then hi = b end
          los[i], his[i] = lo, hi
        end
        local r = trim(message_text(msgs[last].content))
        if q.kind == "decision" and (r == "A" or r == "B") then
          local c = ex.choices[key] or { ctx = ctx, rows = {}, by_cond = {}, cond_order = {} }
          ex.choices[key] = c
          local ck = subject.condition_key(q.ch)
          local row = { parsed = parsed, y = r == "A" and 1 or 0, ck = ck, ch = q.ch }
          c.rows[#c.rows + 1] = row
          local rows = c.by_cond[ck]
          if not rows then
            rows = {}
            c.by_cond[ck] = rows
            c.cond_order[#c.cond_order + 1] = ck
          end
          rows[#rows + 1] = row
          used = true
        elseif q.kind == "report" then
          local target = parse_report_target(r, ctx)
          if target then
            local rep = ex.reports[key] or { ctx = ctx, targets = {}, by_instr = {} }
            ex.reports[key] = rep
            rep.targets[#rep.targets + 1] = target
            rep.by_instr[q.instruction] = (rep.by_instr[q.instruction] or 0) + 1
            used = true
          end
        end
      end
      if not used then ex.other = ex.other + 1 end
    end
  end
  if ex.n == 0 then return nil, what .. ": file has no examples" end
  return ex
end

-- design(rows, range) -> X (rows of {1, d1..dk}), y
local function design(rows, range, k)
  local X, y = {}, {}
  for r, row in ipairs(rows) do
    local x = { 1 }
    local a, b = row.parsed.a, row.parsed.b
    for i = 1, k do
      local scale = range and range[i] or subject.magnitude(a[i], b[i])
      x[i + 1] = (a[i] - b[i]) / scale
    end
    X[r], y[r] = x, row.y
  end
  return X, y
end

-- mean_nll(theta, X, y) -> mean negative log-likelihood of the labels.
local function mean_nll(theta, X, y)
  local s = 0
  for r = 1, #X do
    local z = 0
    for j = 1, #theta do z = z + theta[j] * X[r][j] end
    s = s - subject.log_sigmoid(y[r] == 1 and z or -z)
  end
  return s / math.max(1, #X)
end
M.mean_nll = mean_nll

-- map_update(prior, X, y, weight, sd0, sd) -> posterior mode of the logistic regression with
-- likelihood weight `weight` and independent normal priors around `prior` (Newton's method
-- with step halving, so separable data cannot make it diverge; introspect.simcore, in C).
M.map_update = simcore.map_update

-- learned_range(vals) -> per-attribute range estimate from the values seen in training prompts:
-- (max - min) * (n + 1) / (n - 1), the unbiased range of a uniform from n draws.
local function learned_range(vals)
  if vals.n < 4 then return nil end
  local r = {}
  for i = 1, vals.ctx.k do
    local w = vals.hi[i] - vals.lo[i]
    if w <= 0 then return nil end
    r[i] = w * (vals.n + 1) / (vals.n - 1)
  end
  return r
end

-- content_key(content_hash, hp, seed) -> hex text identifying a fine-tune by what may shape it:
-- the training examples (ex.content_hash: every message's role and text, in order, so JSON key
-- order and white space do not count), the resolved hyperparameters and the job seed (never the
-- job's id or order). With the parent's own key it seeds the fine-tuned model's draws.
function M.content_key(content_hash, hp, seed)
  local h = combine(content_hash, hash.string(string.format("%s|%s|%.17g", tostring(hp.n_epochs),
    tostring(hp.batch_size), hp.learning_rate_multiplier)))
  return hash.hex(combine(h, seed), 16)
end

-- noisy(theta, p, h) -> theta with the fine-tune's seeded noise update_noise * N(h, j) added to
-- each slope (in place).
local function noisy(theta, p, h)
  for j = 2, #theta do theta[j] = theta[j] + p.update_noise * normal(combine(h, j)) end
  return theta
end

-- copy(t) -> shallow copy of a table (nil stays an empty table)
local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

-- train(parent, ex, hp, seed, id, key) -> model, metrics (key: content_key of the job)
-- metrics = {train_loss_before=, train_loss=, choice_contexts=, report_contexts=,
--            skill_gain=, trained_tokens=}
-- Per context with choice examples: the context's weights become the MAP fit of all its
-- examples (phi_c); each trained condition k gets the fit of its own examples (phi_k) and keeps
-- weights generalization * phi_c + (1 - generalization) * phi_k, stored as a delta from the
-- context's. The job's seed scales how strongly this replicate learns (replicate_lr_sd).
function M.train(parent, ex, hp, seed, id, key)
  local p = parent.profile
  local e = hp.n_epochs * hp.learning_rate_multiplier / 1.8   -- exposure per example
  local strength = math.exp((p.replicate_lr_sd or 0) * normal(combine(seed, 0x57e9)))
  local weight = p.learning_rate * e * strength
  local g = p.generalization
  local overrides, before, after, rows_total = {}, 0, 0, 0
  local n_choice_ctx, n_report_ctx, n_reports = 0, 0, 0
  local skill = copy(subject.as_table(parent.skill))
  for _, ckey in ipairs(ex.order) do
    local vals = ex.values[ckey]
    local ctx = vals.ctx
    local st = parent:state(ctx)
    local parent_o = parent:override(ckey)
    local o = { theta = st.theta, range = st.range, exposure = copy(subject.as_table(parent_o and parent_o.exposure)),
                memory = parent_o and parent_o.memory, conditions = copy(parent_o and parent_o.conditions) }
    local range = st.range or learned_range(vals)
    o.range = range
    local c = ex.choices[ckey]
    if c then
      n_choice_ctx = n_choice_ctx + 1
      local h = combine(combine(seed, ctx.hash), 7)
      local X, y = design(c.rows, range, ctx.k)
      local pooled = noisy(M.map_update(st.theta, X, y, weight, p.intercept_prior_sd, p.prior_sd), p, h)
      local single = #c.cond_order == 1 and not o.conditions[c.cond_order[1]]
      for _, ck in ipairs(c.cond_order) do
        local rows = c.by_cond[ck]
        local Xk, yk = design(rows, range, ctx.k)
        local start = parent:state(ctx, rows[1].ch).theta
        local fit = pooled
        if not single then
          fit = noisy(M.map_update(start, Xk, yk, weight, p.intercept_prior_sd, p.prior_sd), p,
            combine(h, hash.string(ck)))
          local delta = {}
          for j = 1, #fit do delta[j] = (1 - g) * (fit[j] - pooled[j]) end
          o.conditions[ck] = delta
          for j = 1, #fit do fit[j] = pooled[j] + delta[j] end
        end
        before = before + mean_nll(start, Xk, yk) * #Xk
        after = after + mean_nll(fit, Xk, yk) * #Xk
        rows_total = rows_total + #Xk
      end
      o.theta = pooled
    end
    local rep = ex.reports[ckey]
    if rep then
      n_report_ctx = n_report_ctx + 1
      n_reports = n_reports + #rep.targets
      local mean = {}
      for i = 1, ctx.k do
        local s = 0
        for _, t in ipairs(rep.targets) do s = s + t[i] end
        mean[i] = s / #rep.targets
      end
      local old = 0
      for _, v in pairs(o.exposure) do old = old + v end
      local add = e * #rep.targets
      if o.memory and old > 0 then
        for i = 1, ctx.k do mean[i] = (old * o.memory[i] + add * mean[i]) / (old + add) end
      end
      o.memory = mean
      for instruction, count in pairs(rep.by_instr) do
        o.exposure[instruction] = (o.exposure[instruction] or 0) + e * count
        skill[instruction] = (skill[instruction] or 0) + e * count * strength / 100
      end
    end
    if next(o.conditions) == nil then o.conditions = nil end
    overrides[ckey] = o
  end
  local model = subject.derived(parent, id, skill, overrides, key)
  local gain = 0
  for instruction, v in pairs(skill) do gain = gain + v - (subject.as_table(parent.skill)[instruction] or 0) end
  local metrics = {
    train_loss_before = rows_total > 0 and before / rows_total or 0,
    train_loss = rows_total > 0 and after / rows_total or 0,
    choice_contexts = n_choice_ctx, report_contexts = n_report_ctx, report_examples = n_reports,
    skill_gain = gain, trained_tokens = ex.tokens * hp.n_epochs,
  }
  return model, metrics
end

-- validation_loss(model, ex) -> mean negative log-likelihood of the choice examples (or nil).
function M.validation_loss(model, ex)
  local s, n = 0, 0
  for _, c in pairs(ex.choices) do
    for _, row in ipairs(c.rows) do
      local z = model:logit(row.parsed, model:state(row.parsed.ctx, row.ch))
      s = s - subject.log_sigmoid(row.y == 1 and z or -z)
      n = n + 1
    end
  end
  if n == 0 then return nil end
  return s / n
end

-- serialize(model) -> plain table for JSON (the overrides and skill; the parent by id).
function M.serialize(model)
  return { id = model.id, parent = model.parent and model.parent.id, skill = model.skill,
           contexts = model.contexts, key = model.key }
end

return M
