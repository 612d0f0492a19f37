-- Report replies as the study parsed them: strip code fences, then the reply must be a JSON
-- object with exactly the context's attribute names as keys (and numbers as values). Invalid
-- replies are dropped but counted by reason. See docs/statistics.md.
local cjson = require "cjson"
local util = require "introspect.core.util"

local M = {}

-- Reasons a reply is invalid, in the order they are tested.
M.REASONS = {
  "empty",          -- nothing but white space (or fences)
  "not_json",       -- not parseable as JSON
  "not_object",     -- JSON, but not an object ({...})
  "wrong_keys",     -- an object whose keys are not exactly the attribute names
  "not_number",     -- a value is not a finite number
  "not_ranking",    -- a ranking reply that does not list every attribute name exactly once
}

-- trim(s) -> s without white space at either end (the end found by one backward scan;
-- gsub("%s+$", "") tries its pattern at every byte).
local function trim(s)
  local first = s:find("%S")
  if not first then return "" end
  return s:sub(first, s:match(".*%S()") - 1)
end

-- strip_fences(text) -> text without a leading ``` or ```json line and a trailing ``` (and
-- without surrounding white space).
function M.strip_fences(text)
  local s = trim(text):gsub("^```[%w_-]*[ \t]*\r?\n?", "")
  if s:sub(-3) == "```" then   -- what gsub("\r?\n?```$", "") removes
    s = s:sub(1, -4)
    if s:byte(-1) == 10 then s = s:sub(1, -2) end
    if s:byte(-1) == 13 then s = s:sub(1, -2) end
  end
  return trim(s)
end

-- strict_json(s) -> true | nil, reason, detail: what cjson accepts beyond JSON is refused.
-- Every bare token outside strings must be a JSON number (no NaN, Infinity, hex, "+5", "05")
-- or true/false/null, and no key may appear twice in one object (cjson keeps the last).
local function strict_json(s)
  local pos, n, stack = 1, #s, {}
  while true do
    pos = s:find('["{}%[%]%w%.%+%-]', pos)   -- what lies between these is skipped
    if not pos then break end
    local c = s:byte(pos)
    if c == 34 then   -- '"'
      local i = pos + 1
      while true do
        local q = s:find('["\\]', i)
        if not q then i = n + 1 break end
        if s:byte(q) == 92 then i = q + 2 else i = q break end
      end
      local top = stack[#stack]
      if top and s:find("^%s*:", i + 1) then
        local str = s:sub(pos + 1, i - 1)
        if top[str] then return nil, "wrong_keys", "key '" .. str .. "' appears twice" end
        top[str] = true
      end
      pos = i + 1
    elseif c == 123 then stack[#stack + 1] = {}; pos = pos + 1   -- "{"
    elseif c == 91 then stack[#stack + 1] = false; pos = pos + 1  -- "["
    elseif c == 125 or c == 93 then stack[#stack] = nil; pos = pos + 1
    else
      local tok = s:match("^[%w%.%+%-]+", pos)
      if not tok:find("^%-?[1-9]%d*$") then   -- an integer is the usual token
        if tok ~= "true" and tok ~= "false" and tok ~= "null" and not tok:find("^%-?0$")
          and not tok:find("^%-?%d+%.%d+$") and not tok:find("^%-?%d+%.?%d*[eE][%+%-]?%d+$")
          or tok:find("^%-?0%d") then
          return nil, "not_number", "'" .. tok .. "' is not a JSON number"
        end
      end
      pos = pos + #tok
    end
  end
  return true
end

-- parse(text, names) -> values | nil, reason, detail
-- values: array of numbers in the order of `names` (the attribute names). reason is one of
-- M.REASONS; detail says what was wrong (a key, a value). What counts is decided in
-- docs/reliability.md ("Replies real models write"): code fences are stripped; anything else
-- around the object, a value that is not a finite JSON number (NaN, Infinity, 1e309, "57",
-- nested objects, null), an extra, missing or repeated key makes the reply invalid.
function M.parse(text, names)
  if type(text) ~= "string" then return nil, "empty", "reply is " .. type(text) end
  local s = M.strip_fences(text)
  if s == "" then return nil, "empty", "empty reply" end
  local ok, value = pcall(cjson.decode, s)
  if not ok then return nil, "not_json", tostring(value) end
  if type(value) ~= "table" or s:sub(1, 1) ~= "{" then
    return nil, "not_object", "JSON " .. (type(value) == "table" and "array" or type(value))
  end
  local strict, why, bad = strict_json(s)
  if not strict then return nil, why, bad end
  local want = {}
  for _, n in ipairs(names) do want[n] = true end
  for k in pairs(value) do
    if not want[k] then return nil, "wrong_keys", "unexpected key '" .. tostring(k) .. "'" end
  end
  local out = {}
  for i, n in ipairs(names) do
    local v = value[n]
    if v == nil then return nil, "wrong_keys", "missing key '" .. n .. "'" end
    if math.type(v) == nil or v ~= v or v == math.huge or v == -math.huge then
      local what = type(v) == "string" and string.format("the string %q", v)
        or type(v) == "table" and "an object or array" or v == cjson.null and "null" or tostring(v)
      return nil, "not_number", string.format("'%s' is %s", n, what)
    end
    out[i] = v
  end
  return out
end

-- parse_ranking(text, names) -> ranks | nil, reason, detail
-- A ranking reply: the attribute names in order, one per line or separated by commas or ">",
-- each optionally numbered ("1.", "2)", "#3") or bulleted ("-", "*") and quoted or in bold.
-- ranks[i] is the position (1 = first) of names[i]. Every name must appear exactly once
-- (reason "not_ranking" otherwise, with the name in detail); an empty reply is "empty".
function M.parse_ranking(text, names)
  if type(text) ~= "string" then return nil, "empty", "reply is " .. type(text) end
  local s = M.strip_fences(text)
  if s == "" then return nil, "empty", "empty reply" end
  local index = {}
  for i, n in ipairs(names) do index[n] = i end
  local ranks, position = {}, 0
  for item in (s:gsub("\r", ""):gsub("[,>]", "\n") .. "\n"):gmatch("(.-)\n") do
    item = item:gsub("^%s*[%-%*#]?%s*%d*[%.%):]?%s+", ""):gsub("^%s*[%-%*]%s*", "")
    item = item:gsub("^[%*`\"']+", ""):gsub("[%*`\"'%.;]+%s*$", ""):gsub("^%s+", ""):gsub("%s+$", "")
    if item ~= "" then
      local i = index[item]
      if not i then return nil, "not_ranking", "unexpected item '" .. item .. "'" end
      if ranks[i] then return nil, "not_ranking", "'" .. item .. "' listed twice" end
      position = position + 1
      ranks[i] = position
    end
  end
  for i, n in ipairs(names) do
    if not ranks[i] then return nil, "not_ranking", "missing '" .. n .. "'" end
  end
  return ranks
end

-- collect(replies, names_of, opts) -> reports, invalid
-- replies: array of {scenario=, text=, model= [, version=]}; names_of(scenario) -> attribute
-- names (or a map scenario -> names). Returns the valid reports as
-- {model=, version=, scenario=, report={...}} (the layout analysis.read_reports gives) and
-- invalid = {total=, valid=, invalid=, reasons={reason=count}, examples={reason=detail}}.
-- A scenario without names counts as "unknown_context". opts.parse: the reply parser
-- (default M.parse; e.g. M.parse_ranking, or an experiment's own function(text, names) ->
-- values | nil, reason, detail).
function M.collect(replies, names_of, opts)
  opts = util.check_options("replies.collect", opts, { parse = "function" })
  local parse = opts.parse or M.parse
  local lookup = names_of
  if type(names_of) == "table" then lookup = function(s) return names_of[s] end end
  local reports = {}
  local invalid = { total = #replies, valid = 0, invalid = 0, reasons = {}, examples = {} }
  for _, r in ipairs(replies) do
    local names = lookup(r.scenario)
    local values, reason, detail
    if names == nil then
      reason, detail = "unknown_context", "no attribute names for '" .. tostring(r.scenario) .. "'"
    else
      values, reason, detail = parse(r.text, names)
    end
    if values then
      invalid.valid = invalid.valid + 1
      reports[#reports + 1] = { model = r.model, version = r.version, scenario = r.scenario,
        report = values }
    else
      invalid.invalid = invalid.invalid + 1
      invalid.reasons[reason] = (invalid.reasons[reason] or 0) + 1
      invalid.examples[reason] = invalid.examples[reason] or detail
    end
  end
  return reports, invalid
end

-- Reasons a choice reply is invalid (parse_choice).
M.CHOICE_REASONS = {
  "empty",          -- nothing but white space
  "extra_text",     -- a choice followed or preceded by other words ("A because...", "I choose B")
  "not_a_choice",   -- anything else: a refusal, another letter, both options
}

-- parse_choice(text) -> "A" | "B" | nil, reason, detail
-- The one choice parser (the study's choices and the REPL's ix.choose / ix.measure). A reply
-- counts when, after trimming white space, it is the letter A or B alone (either case),
-- optionally wrapped in markdown emphasis, backticks, quotes or brackets, optionally after
-- "Option", "Answer:" or "Choice:", optionally followed by "." or "!". Everything else is
-- invalid: the prompt asks for the letter only, and reading a letter out of prose is ambiguous
-- ("A" is also an article). See docs/reliability.md, "Replies real models write".
local LETTER = { A = "A", B = "B", a = "A", b = "B" }   -- the usual reply: the letter alone
function M.parse_choice(text)
  local letter = LETTER[text]
  if letter then return letter end
  if type(text) ~= "string" then return nil, "empty", "reply is " .. type(text) end
  local s = text:match("^%s*(.-)%s*$")
  if s == "" then return nil, "empty", "empty reply" end
  local core = s
  for _ = 1, 3 do   -- peel decorations: **A**, `A`, "A", (A), [A]
    local inner = core:match("^%*%*(.-)%*%*$") or core:match("^__(.-)__$") or core:match("^%*(.-)%*$")
      or core:match("^_(.-)_$") or core:match("^`(.-)`$") or core:match('^"(.-)"$') or core:match("^'(.-)'$")
      or core:match("^%((.-)%)$") or core:match("^%[(.-)%]$")
    if not inner then break end
    core = inner:match("^%s*(.-)%s*$")
  end
  core = core:gsub("[%.!]$", "")
  core = core:gsub("^[Oo]ption%s+", ""):gsub("^[Aa]nswer:%s*", ""):gsub("^[Cc]hoice:%s*", "")
  core = core:match("^%*%*(.-)%*%*$") or core
  letter = core:match("^([AaBb])$")
  if letter then return letter:upper() end
  local lead = s:match("^[%*_`\"'%(%[]*[Oo]?p?t?i?o?n?%s*([AB])[%*_`\"'%)%]]*[%s%.,:;!%-]")
  if lead or s:find("%f[%w][AB]%f[%W]") then return nil, "extra_text", string.format("%q", s:sub(1, 80)) end
  return nil, "not_a_choice", string.format("%q", s:sub(1, 80))
end

-- content(response) -> the text of a chat completion's first choice, or nil.
function M.content(response)
  local choice = type(response) == "table" and type(response.choices) == "table" and response.choices[1]
  local msg = type(choice) == "table" and choice.message
  return type(msg) == "table" and type(msg.content) == "string" and msg.content or nil
end

-- prob_a(response) -> P(A) among the answers "A" and "B" in the first token's top_logprobs, or
-- nil when the response has none.
function M.prob_a(response)
  local choice = type(response) == "table" and type(response.choices) == "table" and response.choices[1]
  local lp = type(choice) == "table" and type(choice.logprobs) == "table" and choice.logprobs.content
  local first = type(lp) == "table" and lp[1]
  if type(first) ~= "table" or type(first.top_logprobs) ~= "table" then return nil end
  local pa, pb = 0, 0
  for _, t in ipairs(first.top_logprobs) do
    local tok = type(t.token) == "string" and t.token:match("^%s*(.-)%s*$")
    if tok == "A" then pa = pa + math.exp(t.logprob) elseif tok == "B" then pb = pb + math.exp(t.logprob) end
  end
  if pa + pb == 0 then return nil end
  return pa / (pa + pb)
end

return M
