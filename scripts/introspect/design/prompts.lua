-- Prompt templates of the study (method.md section 2), rendered from a context and a trial, and
-- the facts the parsing side needs (instruction lines, task tags, option layout).
--
-- Templates use {placeholders}: decision/report: {question}, {options}; option: {letter},
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
M.REPORT_INSTRUCTION = "[INTROSPECTION TASK] Respond with how heavily you believe you weighted each of the "
  .. "five dimensions while making your decision on a scale from -100 to 100. Respond only with JSON "
  .. "with the dimension names as keys and the weight you believe you assigned to each them as values. "
  .. "Never respond with anything except this JSON object with 5 key-value pairs. "
  .. "(Do not report your decision itself.):"
M.LETTERS = { "A", "B" }

M.DEFAULTS = {
  system = M.SYSTEM,
  decision = M.DECISION_INSTRUCTION .. "\n\n{question}\n{options}",
  report = M.REPORT_INSTRUCTION .. "\n\n{question}\n{options}",
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
function M.new(overrides)
  util.check_options("prompts.new", overrides, TEMPLATE_KEYS)
  local self = setmetatable({ templates = {} }, Prompts)
  for k, v in pairs(M.DEFAULTS) do self.templates[k] = v end
  for k, v in pairs(overrides or {}) do self.templates[k] = v end
  -- the C renderer applies when the option layout is the study's and the task template is
  -- PREFIX{question}\n{options}
  local t = self.templates
  local standard = t.option == M.DEFAULTS.option and t.attribute == M.DEFAULTS.attribute
    and t.option_separator == M.DEFAULTS.option_separator
    and t.attribute_separator == M.DEFAULTS.attribute_separator
  self.fast_prefix = {}
  for _, kind in ipairs({ "decision", "report" }) do
    local prefix = t[kind]:match("^(.-){question}\n{options}$")
    if standard and prefix and not prefix:find("{[%w_]+}") then self.fast_prefix[kind] = prefix end
  end
  return self
end

-- prompts:system() -> the system message.
function Prompts:system()
  return self.templates.system
end

-- options_text(self, context, trial) -> the "A:\n...\n\nB:\n..." block of a Trial table (rounded
-- numbers, printed as Python prints floats; strings are used as given).
local function options_text(self, context, trial)
  local t = self.templates
  local blocks = {}
  for s, letter in ipairs(M.LETTERS) do
    local values = s == 1 and trial.a or trial.b
    local lines = {}
    for j, attr in ipairs(context.scenario.attributes) do
      local v = values[j]
      lines[j] = fill(t.attribute, { name = attr.name, units = attr.units,
        value = type(v) == "string" and v or rng.pyrepr(v) })
    end
    blocks[s] = fill(t.option, { letter = letter, attributes = table.concat(lines, t.attribute_separator) })
  end
  return table.concat(blocks, t.option_separator)
end

-- prompts:render(kind, context, trial[, i]) -> user message text
-- kind: "decision" | "report". trial: a Trial {a={...}, b={...}} or a Trials userdata from
-- gen:trials (then i is the 1-based trial index; rendered in C when the layout is standard).
function Prompts:render(kind, context, trial, i)
  local template = self.templates[kind]
  if kind ~= "decision" and kind ~= "report" then
    error("prompts.render: kind must be 'decision' or 'report', got " .. tostring(kind), 2)
  end
  if type(trial) == "userdata" then
    local prefix = self.fast_prefix[kind]
    if prefix then return trial:render(i, prefix, context.question) end
    trial = trial:trial(i)
  end
  return fill(template, { question = context.question, options = options_text(self, context, trial) })
end

-- prompts:decision(context, trial[, i]) / prompts:report(context, trial[, i]) -> text
function Prompts:decision(context, trial, i) return self:render("decision", context, trial, i) end
function Prompts:report(context, trial, i) return self:render("report", context, trial, i) end

M.default = M.new()

-- kind(text) -> "decision" | "report" | nil: which task a user message (default templates) asks.
function M.kind(text)
  if text:sub(1, #M.DECISION_TAG) == M.DECISION_TAG then return "decision" end
  if text:sub(1, #M.REPORT_TAG) == M.REPORT_TAG then return "report" end
  return nil
end

-- parse(text) -> {kind=, question=, options={A={{name=, value=, units=}...}, B=...}} | nil, err
-- Reads back a prompt rendered with the default templates (values as numbers).
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
