-- Usage and cost: a user-editable price table (extended by a prices file), a running total and
-- a budget (max_cost) that stops a run before it is exceeded. A model without a price is never
-- counted as free: under max_cost it stops the run before anything is sent, and plans show it
-- as "unpriced".
local util = require("introspect.core.util")
local apierror = require("introspect.client.apierror")
local cjson = require("cjson")
local suggest = require("introspect.core.suggest")

local M = {}

-- US dollars per 1M tokens. input/output: base-model inference; ft_input/ft_output: inference
-- on a fine-tuned model of that base; training: per training token (tokens x epochs).
-- List prices when this table was written; edit or extend it (cost.prices[name] = {...}).
M.prices = {
  ["gpt-4o-2024-08-06"] = { input = 2.50, output = 10.00, cached_input = 1.25,
    training = 25.00, ft_input = 3.75, ft_output = 15.00 },
  ["gpt-4o-mini-2024-07-18"] = { input = 0.15, output = 0.60, cached_input = 0.075,
    training = 3.00, ft_input = 0.30, ft_output = 1.20 },
  ["gpt-4.1-2025-04-14"] = { input = 2.00, output = 8.00, cached_input = 0.50,
    training = 25.00, ft_input = 3.00, ft_output = 12.00 },
  ["gpt-4.1-mini-2025-04-14"] = { input = 0.40, output = 1.60, cached_input = 0.10,
    training = 5.00, ft_input = 0.80, ft_output = 3.20 },
  ["gpt-4.1-nano-2025-04-14"] = { input = 0.10, output = 0.40, cached_input = 0.025,
    training = 1.50, ft_input = 0.20, ft_output = 0.80 },
  ["gpt-3.5-turbo-0125"] = { input = 0.50, output = 1.50, training = 8.00,
    ft_input = 3.00, ft_output = 6.00 },
  -- The simulated subject (embedded or behind `introspect serve`) costs nothing.
  ["sim-small"] = { input = 0, output = 0, cached_input = 0, training = 0 },
  ["sim-large"] = { input = 0, output = 0, cached_input = 0, training = 0 },
}
-- Aliases resolve to a dated entry.
M.aliases = {
  ["gpt-4o"] = "gpt-4o-2024-08-06",
  ["gpt-4o-mini"] = "gpt-4o-mini-2024-07-18",
  ["gpt-4.1"] = "gpt-4.1-2025-04-14",
  ["gpt-4.1-mini"] = "gpt-4.1-mini-2025-04-14",
  ["gpt-4.1-nano"] = "gpt-4.1-nano-2025-04-14",
  ["gpt-3.5-turbo"] = "gpt-3.5-turbo-0125",
}
-- Batch API requests cost this fraction of the list price.
M.batch_discount = 0.5
-- Output tokens assumed per choice when a request sets no max_completion_tokens.
M.default_output_tokens = 256

-- How a user gives prices, said wherever a price is missing.
M.PRICES_HINT = "give its prices in a JSON prices file (paper.lua --prices=FILE; in a script, " ..
  "study.session{prices = FILE} or cost.load_prices), for example " ..
  "{\"MODEL\": {\"input\": 2.5, \"cached_input\": 1.25, \"output\": 10, \"training\": 25}} in dollars per " ..
  "million tokens (a fine-tuned model is priced by its base; docs/http.md)"

-- unpriced_message(model) -> "no price for model 'X' (did you mean Y?): give its prices ..."
function M.unpriced_message(model)
  local names = {}
  for k in pairs(M.prices) do names[#names + 1] = k end
  for k in pairs(M.aliases) do names[#names + 1] = k end
  return "no price for model '" .. model .. "'" .. suggest.did_you_mean(model, names) .. ": " .. M.PRICES_HINT
end

local PRICE_FIELDS = { input = true, cached_input = true, output = true, training = true,
  ft_input = true, ft_output = true }

-- load_prices(path [, base]) -> prices | nil, err: the price table `base` (default cost.prices)
-- with the entries of a JSON prices file added or replaced: {"MODEL": {"input": 2.5,
-- "cached_input": 1.25, "output": 10, "training": 25}} (dollars per million tokens; ft_input and
-- ft_output optional: a fine-tuned model's inference, else its base's rates). Every field is
-- checked; err names the file, the model and the field.
function M.load_prices(path, base)
  local text, rerr = util.read_file(path)
  if not text then return nil, rerr end
  local ok, doc = pcall(cjson.decode, text)
  if not ok or type(doc) ~= "table" then
    return nil, string.format("%s: not a JSON object of model prices (%s)", path, ok and type(doc) or doc)
  end
  local out = {}
  for k, v in pairs(base or M.prices) do out[k] = v end
  for model, entry in pairs(doc) do
    if type(entry) ~= "table" then
      return nil, string.format("%s: model '%s': expected an object of prices per million tokens", path, model)
    end
    for field, value in pairs(entry) do
      if not PRICE_FIELDS[field] then
        return nil, string.format("%s: model '%s': unknown field '%s' (known: input, cached_input, output, " ..
          "training, ft_input, ft_output)", path, model, tostring(field))
      end
      if type(value) ~= "number" or value < 0 or value ~= value then
        return nil, string.format("%s: model '%s': field '%s' must be a non-negative number of dollars " ..
          "per million tokens", path, model, field)
      end
    end
    if entry.input == nil or entry.output == nil then
      return nil, string.format("%s: model '%s': needs at least 'input' and 'output'", path, model)
    end
    out[model] = entry
  end
  return out
end

-- Model name -> its base model's name, or false when it is not a fine-tuned name (a pure
-- function of the name, so remembered: the price lookup runs on every response).
local FT_BASE = {}

-- split_model(model) -> base, finetuned: "ft:BASE:org:suffix:id" is BASE, fine-tuned.
local function split_model(model)
  local base = FT_BASE[model]
  if base == nil then
    base = model:match("^ft:([^:]+)") or false
    FT_BASE[model] = base
  end
  if base then return base, true end
  return model, false
end

-- rates(model, prices) -> entry, finetuned, input, cached_input (nil: as input), output | nil:
-- a model's price entry and per-million-token rates, without building a table. A fine-tuned
-- model uses its base's ft_* rates (else the base rates), cached input at half ft_input.
local function rates(model, prices)
  local base, finetuned = split_model(model)
  local entry = prices[base] or prices[M.aliases[base] or ""]
  if not entry then return nil end
  if finetuned then
    return entry, true, entry.ft_input or entry.input,
      entry.ft_input and entry.ft_input / 2 or entry.cached_input, entry.ft_output or entry.output
  end
  return entry, false, entry.input, entry.cached_input, entry.output
end

-- price(model [, prices]) -> {input=, output=, ...}, finetuned | nil, err
-- Fine-tuned names "ft:BASE:org:suffix:id" price as BASE with the ft_* rates.
function M.price(model, prices)
  if type(model) ~= "string" then return nil, "cost.price: model must be a string" end
  local entry, finetuned, input, cached, output = rates(model, prices or M.prices)
  if not entry then return nil, M.unpriced_message((split_model(model))) end
  if finetuned then
    return { input = input, output = output, cached_input = cached, training = entry.training }, true
  end
  return entry, false
end

-- A token count from a usage field: JSON nulls (cjson.null) and absent fields count as 0 (the
-- API's types allow a null cached_tokens).
local function count(v) return type(v) == "number" and v or 0 end

-- cost_of(model, prices, input, cached, output, batch) -> dollars | nil (unpriced): the cost of
-- token counts, cached input tokens (at most all input tokens) at the cached rate.
local function cost_of(model, prices, input, cached, output, batch)
  if type(model) ~= "string" then return nil end
  local entry, _, pin, pcached, pout = rates(model, prices)
  if not entry then return nil end
  if cached > input then cached = input end
  local d = ((input - cached) * pin + cached * (pcached or pin) + output * pout) / 1e6
  if batch then d = d * M.batch_discount end
  return d
end

-- usage_dollars(model, usage, batch, prices) -> dollars | nil (unpriced) of an API usage object.
local function usage_dollars(model, usage, batch, prices)
  local details = usage.prompt_tokens_details
  return cost_of(model, prices, count(usage.prompt_tokens),
    type(details) == "table" and count(details.cached_tokens) or 0, count(usage.completion_tokens), batch)
end

-- of_usage(model, usage [, {batch=, prices=}]) -> dollars | nil, err
-- usage is the API's {prompt_tokens=, completion_tokens=, prompt_tokens_details={cached_tokens=}}.
function M.of_usage(model, usage, opts)
  opts = util.check_options("cost.of_usage", opts, { batch = "boolean", prices = "table" })
  local d = usage_dollars(model, usage or {}, opts.batch, opts.prices or M.prices)
  if d then return d end
  return M.price(model, opts.prices)   -- nil and the reason
end

-- of_training(model, tokens [, prices]) -> dollars | nil, err  (tokens = trained tokens)
function M.of_training(model, tokens, prices)
  local p, err = M.price(model, prices)
  if not p then return nil, err end
  if not p.training then
    return nil, "no training price for model '" .. model .. "': " .. M.PRICES_HINT
  end
  return tokens * p.training / 1e6
end

-- estimate_tokens(text) -> tokens (about 4 characters per token, rounded up)
function M.estimate_tokens(text)
  return math.ceil(#text / 4)
end

-- request_tokens(body) -> input_tokens, max_output_tokens for a chat request table.
function M.request_tokens(body)
  local chars = 0
  for _, m in ipairs(body.messages or {}) do
    chars = chars + 8
    if type(m.content) == "string" then chars = chars + #m.content end
  end
  local out = body.max_completion_tokens or body.max_tokens or M.default_output_tokens
  return math.ceil(chars / 4), out * (body.n or 1)
end

---------------------------------------------------------------------------------------------
-- The meter: running totals and the budget.

local Meter = {}
Meter.__index = Meter

-- meter([{max_cost=, prices=, batch=}]) -> meter
-- max_cost: dollars the run may spend; check() refuses work that could exceed it.
function M.meter(opts)
  opts = util.check_options("cost.meter", opts, { max_cost = "number", prices = "table" })
  return setmetatable({ max_cost = opts.max_cost, prices = opts.prices or M.prices, total = 0,
    reserved = 0, requests = 0, input_tokens = 0, output_tokens = 0, training_tokens = 0,
    unpriced = {}, by_model = {} }, Meter)
end

-- Adds dollars (nil: no price) to the meter's totals; returns the dollars booked.
local function book(self, model, dollars)
  if not dollars then
    self.unpriced[model] = (self.unpriced[model] or 0) + 1
    return 0
  end
  self.total = self.total + dollars
  self.by_model[model] = (self.by_model[model] or 0) + dollars
  return dollars
end

local ADD_USAGE_OPTIONS = { batch = "boolean" }

-- meter:add_usage(model, usage [, {batch=}]) -> dollars (0 for an unpriced model, counted in
-- meter.unpriced[model])
function Meter:add_usage(model, usage, opts)
  local batch = opts ~= nil and util.check_options("meter:add_usage", opts, ADD_USAGE_OPTIONS).batch
  usage = usage or {}
  self.requests = self.requests + 1
  self.input_tokens = self.input_tokens + count(usage.prompt_tokens)
  self.output_tokens = self.output_tokens + count(usage.completion_tokens)
  return book(self, model, usage_dollars(model, usage, batch, self.prices))
end

-- meter:add_training(model, tokens) -> dollars
function Meter:add_training(model, tokens)
  self.training_tokens = self.training_tokens + tokens
  return book(self, model, M.of_training(model, tokens, self.prices))
end

-- meter:estimate_chat(bodies [, {batch=}]) -> dollars, unpriced_count
-- An upper bound for a list of chat request tables: estimated input tokens plus the full
-- max_completion_tokens (or cost.default_output_tokens) for every choice.
function Meter:estimate_chat(bodies, opts)
  opts = util.check_options("meter:estimate_chat", opts, { batch = "boolean" })
  local dollars, unpriced = 0, 0
  for _, body in ipairs(bodies) do
    local input, output = M.request_tokens(body)
    local d = cost_of(body.model, self.prices, input, 0, output, opts.batch)
    if d then dollars = dollars + d else unpriced = unpriced + 1 end
  end
  return dollars, unpriced
end

-- meter:estimate_training(model, tokens, epochs) -> dollars | nil, err
function Meter:estimate_training(model, tokens, epochs)
  return M.of_training(model, tokens * (epochs or 1), self.prices)
end

-- meter:unpriced_models(models [, {training=}]) -> the models (base or fine-tuned names) the
-- meter's prices cannot price (inference, and training too when training is true), in order.
function Meter:unpriced_models(models, opts)
  opts = util.check_options("meter:unpriced_models", opts, { training = "boolean" })
  local out = {}
  for _, model in ipairs(models) do
    local p = M.price(model, self.prices)
    if not p or (opts.training and not p.training) then out[#out + 1] = model end
  end
  return out
end

-- meter:require_prices(models [, {training=}]) -> true | nil, err: under max_cost every model
-- must have a price (training too when training is true), else err names the first unpriced
-- model and how to price it. Without max_cost, always true. Call it before anything is sent.
function Meter:require_prices(models, opts)
  if not self.max_cost then return true end
  local missing = self:unpriced_models(models, opts)
  if #missing == 0 then return true end
  return nil, "--max-cost is set but there is " .. M.unpriced_message(missing[1])
end

local function budget_error(self, extra)
  return apierror.new({ type = "budget_exceeded", code = "max_cost",
    message = string.format("spending $%.4f more would exceed max_cost $%.4f (spent $%.4f, "
      .. "reserved $%.4f)", extra, self.max_cost, self.total, self.reserved) })
end

-- meter:check(extra) -> true | nil, err: whether spending `extra` more dollars (on top of the
-- total and what is reserved) stays within max_cost. err is a structured budget error.
function Meter:check(extra)
  if not self.max_cost then return true end
  if self.total + self.reserved + extra > self.max_cost + 1e-12 then
    return nil, budget_error(self, extra)
  end
  return true
end

-- meter:reserve(dollars) -> true | nil, err: books an upper bound before work starts.
function Meter:reserve(dollars)
  local ok, err = self:check(dollars)
  if not ok then return nil, err end
  self.reserved = self.reserved + dollars
  return true
end

-- meter:release(dollars): returns a reservation (after the real cost was added).
function Meter:release(dollars)
  self.reserved = math.max(0, self.reserved - dollars)
end

-- meter:summary() -> {total=, requests=, input_tokens=, output_tokens=, training_tokens=,
-- by_model=, unpriced=, max_cost=}
function Meter:summary()
  return { total = self.total, requests = self.requests, input_tokens = self.input_tokens,
    output_tokens = self.output_tokens, training_tokens = self.training_tokens,
    by_model = self.by_model, unpriced = self.unpriced, max_cost = self.max_cost }
end

-- whole_run(meter, totals, trainings) -> the meter:summary() of a whole run, all its sessions
-- together: requests, tokens and inference dollars from the response store's totals
-- (store:totals()), training from every finished fine-tune of the run (trainings: list of
-- {model=, tokens=}, priced with the meter's prices), the budget from the meter. A session
-- that was killed and resumed thus reports what an uninterrupted run does.
function M.whole_run(meter, totals, trainings)
  local s = meter:summary()
  s.session = { total = s.total, requests = s.requests, input_tokens = s.input_tokens,
    output_tokens = s.output_tokens, training_tokens = s.training_tokens }
  s.requests, s.failed = totals.requests, totals.failed
  s.input_tokens, s.output_tokens = totals.input_tokens, totals.output_tokens
  s.total, s.training_tokens, s.by_model = totals.cost, 0, {}
  for model, m in pairs(totals.by_model) do s.by_model[model] = m.cost end
  for _, t in ipairs(trainings or {}) do
    s.training_tokens = s.training_tokens + t.tokens
    local d = M.of_training(t.model, t.tokens, meter.prices)
    if d then
      s.total = s.total + d
      s.by_model[t.model] = (s.by_model[t.model] or 0) + d
    end
  end
  return s
end

-- trainings(state) -> {{model=, tokens=}, ...}: every finished fine-tune a run's state.json records
-- under "finetune:PARENT:NAME" (its parent and trained tokens), for whole_run.
function M.trainings(state)
  local out = {}
  for key, rec in pairs(state or {}) do
    local parent = type(key) == "string" and type(rec) == "table" and key:match("^finetune:(.+):[^:]+$")
    if parent and rec.trained_tokens then out[#out + 1] = { model = parent, tokens = rec.trained_tokens } end
  end
  table.sort(out, function(a, b) return a.model < b.model end)
  return out
end

-- dollars(d) -> "$1.23" (cents; "$0.0012" below a cent, so a small cost never reads $0.00)
function M.dollars(d)
  if d ~= 0 and math.abs(d) < 0.005 then return string.format("$%.4f", d) end
  return string.format("$%.2f", d)
end

-- plan_table(plan [, {max_cost=, title=, unpriced=}]) -> text: a dry run's plan, one row per phase
-- ({phase=, requests=, tokens=, cost=, unpriced=}: unpriced = requests or jobs without a price),
-- then the total. A phase with unpriced requests shows "unpriced" (never $0.00); the text ends
-- by saying when the estimate exceeds max_cost or unpriced models would stop a run under it, and
-- names each model of `unpriced` (a list: meter:unpriced_models) with how to price it.
function M.plan_table(plan, opts)
  opts = util.check_options("cost.plan_table", opts, { max_cost = "number", title = "string", unpriced = "table" })
  local width, total, unpriced = 40, 0, 0
  for _, p in ipairs(plan) do width = math.max(width, #p.phase) end
  local row = "%-" .. width .. "s %10s %14s %14s"
  local function money(d, n)
    if (n or 0) == 0 then return M.dollars(d or 0) end
    if (d or 0) == 0 then return "unpriced" end
    return M.dollars(d) .. " + unpriced"
  end
  local lines = { string.format(row, "phase", "requests", "tokens", "est. cost") }
  for _, p in ipairs(plan) do
    total, unpriced = total + (p.cost or 0), unpriced + (p.unpriced or 0)
    lines[#lines + 1] = string.format(row, p.phase, p.requests, p.tokens, money(p.cost, p.unpriced))
  end
  lines[#lines + 1] = string.format(row, opts.title or "total (dry run: nothing was sent)", "", "",
    money(total, unpriced))
  if unpriced > 0 then
    lines[#lines + 1] = string.format("%d requests or jobs have no price (shown as unpriced, not counted " ..
      "in the total)%s", unpriced, opts.max_cost and "; under --max-cost the run would refuse to start" or "")
    for _, model in ipairs(opts.unpriced or {}) do lines[#lines + 1] = M.unpriced_message(model) end
  end
  if opts.max_cost and total > opts.max_cost then
    lines[#lines + 1] = string.format("the estimate %s exceeds --max-cost %s: the run would stop before " ..
      "spending more than that", M.dollars(total), M.dollars(opts.max_cost))
  end
  return table.concat(lines, "\n") .. "\n"
end

function Meter:__tostring()
  return string.format("cost meter: $%.4f spent over %d requests%s", self.total, self.requests,
    self.max_cost and string.format(" (max_cost $%.2f)", self.max_cost) or "")
end

return M
