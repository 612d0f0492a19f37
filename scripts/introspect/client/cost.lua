-- Usage and cost: a user-editable price table, a running total and a budget (max_cost) that
-- stops a run before it is exceeded.
local util = require("introspect.core.util")
local apierror = require("introspect.client.apierror")

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

-- price(model [, prices]) -> {input=, output=, ...}, finetuned | nil, err
-- Fine-tuned names "ft:BASE:org:suffix:id" price as BASE with the ft_* rates.
function M.price(model, prices)
  prices = prices or M.prices
  if type(model) ~= "string" then return nil, "cost.price: model must be a string" end
  local base, finetuned = model, false
  local ft_base = model:match("^ft:([^:]+)")
  if ft_base then base, finetuned = ft_base, true end
  local entry = prices[base] or prices[M.aliases[base] or ""]
  if not entry then return nil, "no price for model '" .. model .. "' (add it to cost.prices)" end
  if finetuned then
    return { input = entry.ft_input or entry.input, output = entry.ft_output or entry.output,
      cached_input = entry.ft_input and entry.ft_input / 2 or entry.cached_input,
      training = entry.training }, true
  end
  return entry, false
end

-- of_usage(model, usage [, {batch=, prices=}]) -> dollars | nil, err
-- usage is the API's {prompt_tokens=, completion_tokens=, prompt_tokens_details={cached_tokens=}}.
function M.of_usage(model, usage, opts)
  opts = util.check_options("cost.of_usage", opts, { batch = "boolean", prices = "table" })
  local p, err = M.price(model, opts.prices)
  if not p then return nil, err end
  usage = usage or {}
  -- JSON nulls (cjson.null) and absent fields count as 0: the API's types allow a null cached_tokens
  local function count(v) return type(v) == "number" and v or 0 end
  local input = count(usage.prompt_tokens)
  local details = type(usage.prompt_tokens_details) == "table" and usage.prompt_tokens_details or {}
  local cached = count(details.cached_tokens)
  if cached > input then cached = input end
  local dollars = ((input - cached) * p.input + cached * (p.cached_input or p.input)
    + count(usage.completion_tokens) * p.output) / 1e6
  if opts.batch then dollars = dollars * M.batch_discount end
  return dollars
end

-- of_training(model, tokens [, prices]) -> dollars | nil, err  (tokens = trained tokens)
function M.of_training(model, tokens, prices)
  local p, err = M.price(model, prices)
  if not p then return nil, err end
  if not p.training then return nil, "no training price for model '" .. model .. "'" end
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

-- meter:add_usage(model, usage [, {batch=}]) -> dollars (0 for an unpriced model, counted in
-- meter.unpriced[model])
function Meter:add_usage(model, usage, opts)
  opts = util.check_options("meter:add_usage", opts, { batch = "boolean" })
  usage = usage or {}
  self.requests = self.requests + 1
  self.input_tokens = self.input_tokens + (type(usage.prompt_tokens) == "number" and usage.prompt_tokens or 0)
  self.output_tokens = self.output_tokens
    + (type(usage.completion_tokens) == "number" and usage.completion_tokens or 0)
  return book(self, model, M.of_usage(model, usage, { batch = opts.batch, prices = self.prices }))
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
    local d = M.of_usage(body.model, { prompt_tokens = input, completion_tokens = output },
      { batch = opts.batch, prices = self.prices })
    if d then dollars = dollars + d else unpriced = unpriced + 1 end
  end
  return dollars, unpriced
end

-- meter:estimate_training(model, tokens, epochs) -> dollars | nil, err
function Meter:estimate_training(model, tokens, epochs)
  return M.of_training(model, tokens * (epochs or 1), self.prices)
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

function Meter:__tostring()
  return string.format("cost meter: $%.4f spent over %d requests%s", self.total, self.requests,
    self.max_cost and string.format(" (max_cost $%.2f)", self.max_cost) or "")
end

return M
