-- Prompt templates of the study (method.md section 2), rendered from a context and a trial, and
-- the facts the parsing side needs (instruction lines, task tags, option layout).
--
-- Templates use {placeholders}: decision/report: {question}, {options}, {count} and {count_word}
-- (the context's number of attributes: "5", "five"); option: {letter},
-- {attributes}; attribute: {name}, {value}, {units}. An experiment overrides any of them with
-- prompts.new{decision = "...", ...}.
local rng = require "introspect.rng"
local util = require "introspect.core.util"

local M = {}

M.SYSTEM = "Your job is to make hypothetical decisions on behalf of different people or characters."
M.DECISION_TAG = "[DECISION TASK]"
M.REPORT_TAG = "[INTROSPECTION TASK]"
M.DECISION_INSTRUCTION = '[DECISION TASK] Respond with "A" if you think Option A is better, or "B" if you '
  .. 'think Option B is better. Never respond with anything except "A" or "B":'
-- The report instruction for k attributes: {count_word} and {count} name k ("five", 5 in the
-- study), so contexts with another number of attributes are asked for the right number.
M.REPORT_INSTRUCTION_TEMPLATE = "[INTROSPECTION TASK] Respond with how heavily you believe you weighted each of "
  .. "the {count_word} dimensions while making your decision on a scale from -100 to 100. Respond only with "
  .. "JSON with the dimension names as keys and the weight you believe you assigned to each them as values. "
  .. "Never respond with anything except this JSON object with {count} key-value pairs. "
  .. "(Do not report your decision itself.):"
local WORDS = { "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve" }

---counts(k) -> {count = "k", count_word = "five"...}: the values of the {count} placeholders.
---@param k integer
---@return table
function M.counts(k)
  return { count = string.format("%d", k), count_word = WORDS[k] or string.format("%d", k) }
end
-- The study's report instruction (k = 5), as the published files have it.
M.REPORT_INSTRUCTION = M.REPORT_INSTRUCTION_TEMPLATE:gsub("{count_word}", "five"):gsub("{count}", "5")
M.LETTERS = { "A", "B" }

M.DEFAULTS = {
  system = M.SYSTEM,
  decision = M.DECISION_INSTRUCTION .. "\n\n{question}\n{options}",
  report = M.REPORT_INSTRUCTION_TEMPLATE .. "\n\n{question}\n{options}",
  option = "{letter}:\n{attributes}",
  attribute = "{name}: {value} {units}",
  option_separator = "\n\n",
  attribute_separator = "\n",
}

local TEMPLATE_KEYS = {}
for k in pairs(M.DEFAULTS) do TEMPLATE_KEYS[k] = "string" end

local function fill(template, values)
  return (template:gsub("{([%w_]+)}", function(key)
    local v = values[key]
    if v == nil then return nil end
    return v
  end))
end

local Prompts = {}
Prompts.__index = Prompts

-- new(overrides) -> prompt set; overrides: any of the DEFAULTS keys.
---@param overrides? table any of the DEFAULTS keys
---@return table prompt set
function M.new(overrides)
  util.check_options("prompts.new", overrides, TEMPLATE_KEYS)
  local self = setmetatable({ templates = {} }, Prompts)
  for k, v in pairs(M.DEFAULTS) do self.templates[k] = v end
  for k, v in pairs(overrides or {}) do self.templates[k] = v end
  self.compiled = { decision = setmetatable({}, { __mode = "k" }),
    report = setmetatable({}, { __mode = "k" }), options = setmetatable({}, { __mode = "k" }) }
  return self
end

-- prompts:system() -> the system message.
function Prompts:system()
  return self.templates.system
end

-- options_text(self, context, value) -> the "A:\n...\n\nB:\n..." block, with value(s, j) the text of
-- option s's attribute j.
local function options_text(self, context, value)
  local t = self.templates
  local blocks = {}
  for s, letter in ipairs(M.LETTERS) do
    local lines = {}
    for j, attr in ipairs(context.scenario.attributes) do
      lines[j] = fill(t.attribute, { name = attr.name, units = attr.units, value = value(s, j) })
    end
    blocks[s] = fill(t.option, { letter = letter, attributes = table.concat(lines, t.attribute_separator) })
  end
  return table.concat(blocks, t.option_separator)
end

-- message(self, kind, context, value) -> the user message of kind "decision" | "report", or the
-- options block alone for "options".
local function message(self, kind, context, value)
  local options = options_text(self, context, value)
  if kind == "options" then return options end
  local values = M.counts(#context.scenario.attributes)
  values.question, values.options = context.question, options
  return fill(self.templates[kind], values)
end

local KINDS = { decision = true, report = true, options = true }

-- prompts:compile(kind, context) -> the compiled template C renders Trials with
-- (trials:render(i, compiled), trials:render_all(compiled)): this prompt set's text of `kind`
-- ("decision", "report" or "options") for the context, split at every attribute value:
-- {lit0, lit1, ..., litm, side = {...}, attr = {...}}, value slot s (option side[s], attribute
-- attr[s]) sitting between lit(s-1) and lit(s). Cached per context; the layout stays here.
function Prompts:compile(kind, context)
  if not KINDS[kind] then
    error("prompts.compile: kind must be 'decision', 'report' or 'options', got " .. tostring(kind), 2)
  end
  local cache = self.compiled[kind]
  local tpl = cache[context]
  if tpl then return tpl end
  local marked = message(self, kind, context, function(s, j) return "\0" .. s .. ":" .. j .. "\0" end)
  tpl = { side = {}, attr = {} }
  local pos = 1
  while true do
    local a, s, j, b = marked:match("()%z([12]):(%d+)%z()", pos)
    if not a then break end
    tpl[#tpl + 1] = marked:sub(pos, a - 1)
    tpl.side[#tpl.side + 1], tpl.attr[#tpl.attr + 1] = tonumber(s), tonumber(j)
    pos = b
  end
  tpl[#tpl + 1] = marked:sub(pos)
  cache[context] = tpl
  return tpl
end

-- prompts:render(kind, context, trial[, i]) -> user message text
-- kind: "decision" | "report". trial: a Trial {a={...}, b={...}} (rounded numbers, printed as
-- Python prints floats; strings used as given) or a Trials userdata from gen:trials (then i is
-- the 1-based trial index; rendered in C from this set's compiled template).
---@param kind "decision"|"report"
---@param context table
---@param trial table|userdata a Trial or a Trials set
---@param i? integer
---@return string
function Prompts:render(kind, context, trial, i)
  if kind ~= "decision" and kind ~= "report" then
    error("prompts.render: kind must be 'decision' or 'report', got " .. tostring(kind), 2)
  end
  if type(trial) == "userdata" then return trial:render(i, self:compile(kind, context)) end
  return message(self, kind, context, function(s, j)
    local v = (s == 1 and trial.a or trial.b)[j]
    return type(v) == "string" and v or rng.pyrepr(v)
  end)
end

---renderer(p, kind) -> render(context, trials, i): p:render(kind, context, trials, i) for a batch
---of prompts (a call's requests, a training file). With a prompt set that renders as this
---module's do, each Trials set is rendered whole (trials:render_all, one compiled template per
---set and context) at its first use and kept as long as the function; other sets render one by one.
---@param p table a prompt set
---@param kind "decision"|"report"
---@return fun(context: table, trials: table|userdata, i?: integer): string
function M.renderer(p, kind)
  if p.render ~= Prompts.render then
    return function(context, trials, i) return p:render(kind, context, trials, i) end
  end
  local sets = {}   -- Trials set -> context -> its rendered prompts
  return function(context, trials, i)
    if type(trials) ~= "userdata" then return p:render(kind, context, trials, i) end
    local by_context = sets[trials]
    if not by_context then by_context = {}; sets[trials] = by_context end
    local texts = by_context[context]
    if not texts then texts = trials:render_all(p:compile(kind, context)); by_context[context] = texts end
    return texts[i] or p:render(kind, context, trials, i)   -- a bad index raises there
  end
end

-- prompts:decision(context, trial[, i]) / prompts:report(context, trial[, i]) -> text
function Prompts:decision(context, trial, i) return self:render("decision", context, trial, i) end
function Prompts:report(context, trial, i) return self:render("report", context, trial, i) end

M.default = M.new()

-- kind(text) -> "decision" | "report" | nil: which task a user message (default templates) asks.
---@param text string
---@return "decision"|"report"|nil
function M.kind(text)
  if text:sub(1, #M.DECISION_TAG) == M.DECISION_TAG then return "decision" end
  if text:sub(1, #M.REPORT_TAG) == M.REPORT_TAG then return "report" end
  return nil
end

-- parse(text) -> {kind=, question=, options={A={{name=, value=, units=}...}, B=...}} | nil, err
-- Reads back a prompt rendered with the default templates (values as numbers).
---@param text string
---@return table|nil
---@return string|nil err
function M.parse(text)
  local kind = M.kind(text)
  if not kind then return nil, "prompts.parse: not a decision or report prompt" end
  local body = text:match("^[^\n]*\n\n(.*)$")
  if not body then return nil, "prompts.parse: no blank line after the instruction" end
  local question, a, b = body:match("^(.-)\nA:\n(.-)\n\nB:\n(.*)$")
  if not question then return nil, "prompts.parse: options A and B not found" end
  local options = {}
  for letter, block in pairs({ A = a, B = b }) do
    local attrs = {}
    for line in (block .. "\n"):gmatch("(.-)\n") do
      local name, value, units = line:match("^([^:]+): (%S+) (.*)$")
      if not name then name, value = line:match("^([^:]+): (%S+)$") end
      local num = tonumber(value)
      if not name or not num then
        return nil, string.format("prompts.parse: option %s: bad attribute line '%s'", letter, line)
      end
      attrs[#attrs + 1] = { name = name, value = num, units = units or "" }
    end
    options[letter] = attrs
  end
  return { kind = kind, question = question, options = options }
end

return M
