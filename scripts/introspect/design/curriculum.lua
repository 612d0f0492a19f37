-- Curricula for introspection training: which contexts get examples, how many per context,
-- which labels (the instilled target weights, or weights measured from the model's own choices),
-- which prompt template, which validation split, and where the trained model is evaluated.
-- A curriculum is plain Lua: a file returning a table, or a function of n (the number of
-- instilled contexts; n+1 .. 2n are the native ones) returning one (see experiments/curricula/):
--
--   return function(n)
--     return {
--       name = "itrained_first_50",          -- names the fine-tuned model (suffix) and its files
--       description = "...",
--       train = { 1, n // 2 },               -- contexts {first, last}, or {list = {3, 9, ...}}
--       validation = { n // 2 + 1, n },      -- optional
--       evaluate = { n // 2 + 1, n },        -- contexts whose reports measure the trained model
--       condition = "itrained",              -- analysis condition the evaluation feeds
--       examples_per_context = 1,
--       labels = "target",                   -- "target" | "learned"
--       template = "report",                 -- prompt kind of the examples
--       seed = 6,                            -- reseeded before every context's examples
--       files = { train = "x_" .. n // 2 .. ".jsonl" },  -- optional file names
--       suffix = "itrained-first-" .. n // 2 .. "-of-" .. n .. "-50ex",  -- optional fine-tune
--                                          -- suffix (default: name with - for _)
--     }
--   end
local stimuli = require "introspect.design.stimuli"
local trainfiles = require "introspect.design.trainfiles"
local util = require "introspect.core.util"

local M = {}

local SPEC = {
  name = "string", description = "string", train = "table", validation = "table", evaluate = "table",
  condition = "string", examples_per_context = "integer", labels = { "target", "learned" },
  template = { "report" }, seed = "integer", files = "table", suffix = "string",
}

-- bound(v, n, where) -> integer: v is an integer, or a function of n (the number of instilled
-- contexts) returning one.
local function bound(v, n, where)
  if type(v) == "function" then v = v(n) end
  if math.type(v) == "integer" then return v end
  error(string.format("%s: bound %s is not an integer or a function of n returning one", where, tostring(v)), 0)
end

-- expand(range, where, n) -> list of context ids. range: {first, last} or {list = {...}}.
local function expand(range, where, n)
  local ids = {}
  if range.list then
    for i, id in ipairs(range.list) do
      if math.type(id) ~= "integer" or id < 1 then
        error(string.format("%s: list entry #%d must be a positive integer", where, i), 0)
      end
      ids[#ids + 1] = id
    end
    return ids
  end
  local first, last = bound(range[1], n, where), bound(range[2], n, where)
  if math.type(first) ~= "integer" or math.type(last) ~= "integer" or first < 1 or last < first then
    error(string.format("%s must be {first, last} with 1 <= first <= last", where), 0)
  end
  for id = first, last do ids[#ids + 1] = id end
  return ids
end

-- validate(t, source[, {n=}]) -> curriculum | nil, err. Fills defaults and expands the context
-- ranges into `train_ids`, `validation_ids`, `evaluate_ids` for n instilled contexts (default
-- 100, the study's).
function M.validate(t, source, opts)
  source = source or "curriculum"
  local n = opts and opts.n or 100
  if type(t) ~= "table" then return nil, source .. ": must return a table" end
  local ok, err = pcall(util.check_options, source, t, SPEC)
  if not ok then return nil, (tostring(err):gsub("^.-:%d+: ", "")) end
  if not t.name or not t.name:match("^[%w_%-]+$") then
    return nil, source .. ": 'name' must be a word of letters, digits, _ or -"
  end
  if not t.train then return nil, source .. ": 'train' is required" end
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  c.examples_per_context = c.examples_per_context or 1
  if c.examples_per_context < 1 then return nil, source .. ": 'examples_per_context' must be at least 1" end
  c.labels = c.labels or "target"
  c.template = c.template or "report"
  c.seed = c.seed or stimuli.PAPER.seeds.introspection
  c.condition = c.condition or "itrained"
  c.files = {}
  for k, v in pairs(t.files or {}) do c.files[k] = tostring(v) end
  c.suffix = t.suffix or c.name:gsub("_", "-")
  c.source = source
  c.n = n
  local eok, eerr = pcall(function()
    c.train_ids = expand(t.train, source .. ": 'train'", n)
    c.validation_ids = t.validation and expand(t.validation, source .. ": 'validation'", n) or {}
    c.evaluate_ids = t.evaluate and expand(t.evaluate, source .. ": 'evaluate'", n) or {}
  end)
  if not eok then return nil, tostring(eerr) end
  return c
end

-- load(path[, {n=}]) -> curriculum | nil, err (errors name the file).
---@param path string
---@param opts? {n?: integer}
---@return table|nil curriculum
---@return string|nil err
function M.load(path, opts)
  local chunk, err = loadfile(path, "t", {})
  if not chunk then return nil, err end
  local ok, t = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(t) end
  if type(t) == "function" then
    ok, t = pcall(t, opts and opts.n or 100)
    if not ok then return nil, path .. ": " .. tostring(t) end
  end
  return M.validate(t, path, opts)
end

-- max_context(c) -> the largest context id the curriculum uses.
function M.max_context(c)
  local m = 0
  for _, list in ipairs({ c.train_ids, c.validation_ids, c.evaluate_ids }) do
    for _, id in ipairs(list) do m = math.max(m, id) end
  end
  return m
end

-- lines(c, ids, contexts, label_of, opts) -> list of JSONL lines: for each context id, reseed,
-- draw examples_per_context report trials and label each with label_of(context) (a weight
-- vector). opts: rng ("python" | "default"), prompts (a prompt set), messages (a hook).
local function lines(c, ids, contexts, label_of, opts)
  local gen = stimuli.generator(opts.rng or "default", c.seed)
  local out = {}
  for _, id in ipairs(ids) do
    local ctx = contexts[id]
    if not ctx then
      error(string.format("%s: context %d does not exist (%d contexts)", c.source, id, #contexts), 0)
    end
    local weights = label_of(ctx)
    if not weights then
      error(string.format("%s: no %s weights for context %d", c.source, c.labels, id), 0)
    end
    gen:seed(c.seed)
    local trials = gen:trials(ctx.scenario, c.examples_per_context)
    for i = 1, c.examples_per_context do
      out[#out + 1] = trainfiles.report_line(ctx, trials, i, weights, opts.prompts, opts.messages)
    end
  end
  return out
end

-- files(c, contexts, label_of, opts) -> {train = text, validation = text | nil}
-- label_of(context) -> the weight vector that labels the context's examples (the target
-- weights, or the learned weights when c.labels == "learned").
---@param c table
---@param contexts table[]
---@param label_of fun(ctx: table): number[]
---@param opts? table
---@return table
function M.files(c, contexts, label_of, opts)
  opts = util.check_options("curriculum.files", opts,
    { rng = { "python", "default" }, prompts = "table", messages = "function", final_newline = "boolean" })
  local jopts = { final_newline = opts.final_newline ~= false }
  local lopts = { rng = opts.rng, prompts = opts.prompts, messages = opts.messages }
  local result = { train = trainfiles.jsonl(lines(c, c.train_ids, contexts, label_of, lopts), jopts) }
  if #c.validation_ids > 0 then
    result.validation = trainfiles.jsonl(lines(c, c.validation_ids, contexts, label_of, lopts), jopts)
  end
  return result
end

return M
