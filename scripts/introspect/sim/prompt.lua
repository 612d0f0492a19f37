-- Reads the prompts sent to the simulated subject: the study's decision and report templates
-- (docs/simulated-subject.md, "Prompts it understands") and variants that differ only in the
-- wording of the instruction line. Parsed contexts are cached by question text, so a request
-- costs one string.match on the option blocks.
local hash = require("introspect.sim.hash")

local M = {}

local find, sub, match, gsub, lower = string.find, string.sub, string.match, string.gsub, string.lower
local concat = table.concat
local tonumber = tonumber

-- The fixed reply to anything that is not a decision or report prompt.
M.REFUSAL = "I can only choose between two options (A or B) or report my decision weights as JSON."

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

local function escape(s) return (gsub(s, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- block_pattern(names, units) -> Lua pattern capturing the 2k values of an A/B pair.
local function block_pattern(names, units)
  local parts = {}
  for _, letter in ipairs({ "A", "B" }) do
    local lines = {}
    for i = 1, #names do
      local u = units[i] ~= "" and (" " .. escape(units[i])) or ""
      lines[i] = escape(names[i]) .. ": (%S+)" .. u
    end
    parts[#parts + 1] = letter .. ":\n" .. table.concat(lines, "\n")
  end
  return "^" .. parts[1] .. "\n\n" .. parts[2] .. "%s*$"
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
-- {question=, names=, units=, k=, key=, hash=, pattern=}
function Parser:context(question, names, units)
  local parts = { question }
  for i = 1, #names do parts[#parts + 1] = names[i] .. "\t" .. units[i] end
  local key = table.concat(parts, "\n")
  local ctx = self.by_key[key]
  if not ctx then
    if self.count >= MAX_CACHE then self.by_key, self.by_question, self.count = {}, {}, 0 end
    ctx = { question = question, names = names, units = units, k = #names, key = key,
            hash = hash.string(key), pattern = block_pattern(names, units) }
    self.by_key[key] = ctx
    self.count = self.count + 1
  end
  self.by_question[question] = ctx
  return ctx
end

-- parse(text) -> parsed | nil
-- parsed = {kind="decision"|"report", ctx=<context record>, a={...}, b={...}, instruction=,
--           values_text= (the option values as written, A then B, space-separated)}
-- Returns nil for anything that is not one of the two tasks with a well-formed A/B pair.
function Parser:parse(text)
  local i = find(text, "\n\n", 1, true)
  if not i then return nil end
  local instr = sub(text, 1, i - 1)
  local kind = self.kinds[instr]
  if kind == nil then
    kind = classify(instr) or false
    if #instr < 4096 then self.kinds[instr] = kind end
  end
  if not kind then return nil end
  local j = find(text, "\nA:\n", i + 2, true)
  if not j then return nil end
  local question = sub(text, i + 2, j - 1)
  local blocks = sub(text, j + 1)
  local ctx = self.by_question[question]
  if ctx then
    local v = { match(blocks, ctx.pattern) }
    local k = ctx.k
    if #v == 2 * k then
      local a, b = {}, {}
      for t = 1, k do
        local x, y = tonumber(v[t]), tonumber(v[k + t])
        if not x or not y or x ~= x or y ~= y or x == math.huge or x == -math.huge
          or y == math.huge or y == -math.huge then
          return nil
        end
        a[t], b[t] = x, y
      end
      return { kind = kind, ctx = ctx, a = a, b = b, instruction = instr, values_text = concat(v, " ") }
    end
  end
  -- Slow path: a new context (or a new attribute set for a known question).
  local sa, sb = match(blocks, "^A:\n(.-)\n\nB:\n(.-)%s*$")
  if not sa then return nil end
  local na, va, ua, ra = parse_block(sa)
  local nb, vb, ub, rb = parse_block(sb)
  if not na or not nb or #na ~= #nb then return nil end
  for t = 1, #na do
    if na[t] ~= nb[t] or ua[t] ~= ub[t] then return nil end
  end
  ctx = self:context(question, na, ua)
  return { kind = kind, ctx = ctx, a = va, b = vb, instruction = instr,
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
