-- Scenarios (choice types), roles and contexts: loading from Lua files, the published JSON
-- format (candidate_scenarios.json) and role lists, with validation whose errors name the file,
-- the scenario and the field in one line.
local cjson = require "cjson"
local csv = require "introspect.core.csv"
local rng = require "introspect.rng"
local util = require "introspect.core.util"

local M = {}

M.QUESTION_TEMPLATE = "Imagine you are {role}. {question}"

local function extension(path)
  return (path:match("%.([%w]+)$") or ""):lower()
end

-- load_lua(path) -> value | nil, err: runs a data file in an environment with only the safe
-- standard library (no io, os, require).
local function load_lua(path)
  local env = { ipairs = ipairs, pairs = pairs, select = select, tostring = tostring,
    tonumber = tonumber, type = type, string = string, table = table, math = math, utf8 = utf8,
    error = error, assert = assert, setmetatable = setmetatable }
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  local ok, value = pcall(chunk)
  if not ok then return nil, string.format("%s: %s", path, tostring(value)) end
  return value
end

local function describe(i, s)
  local name = type(s) == "table" and type(s.short_name) == "string" and s.short_name or nil
  return name and string.format("scenario #%d '%s'", i, name) or string.format("scenario #%d", i)
end

local function describe_attr(j, a)
  local name = type(a) == "table" and type(a.name) == "string" and a.name or nil
  return name and string.format("attribute #%d '%s'", j, name) or string.format("attribute #%d", j)
end

local function nonempty(v) return type(v) == "string" and v:find("%S") ~= nil end

-- normalize(raw) -> Scenario: accepts {min=, max=} or {range={min, max}} per attribute.
local function normalize(raw)
  local attributes = {}
  for j, a in ipairs(raw.attributes) do
    local min, max = a.min, a.max
    if type(a.range) == "table" and min == nil and max == nil then min, max = a.range[1], a.range[2] end
    attributes[j] = { name = a.name, units = a.units, min = min, max = max, precision = a.precision }
  end
  return { short_name = raw.short_name, question = raw.question, attributes = attributes }
end

-- validate(list, source, opts) -> list | nil, err
-- Checks every scenario: short_name, question, attributes (count = opts.attributes when given),
-- each with a name, units, numeric min < max, names unique within the scenario; short_names
-- unique across the list. Errors read "SOURCE: scenario #i 'name': attribute #j 'x': problem".
function M.validate(list, source, opts)
  opts = util.check_options("scenarios.validate", opts, { attributes = "integer" })
  source = source or "scenarios"
  if type(list) ~= "table" then return nil, source .. ": expected a list of scenarios" end
  if #list == 0 then return nil, source .. ": no scenarios (empty list)" end
  local seen = {}
  for i, s in ipairs(list) do
    local where = source .. ": " .. describe(i, s)
    if type(s) ~= "table" then return nil, where .. ": not a table" end
    if not nonempty(s.short_name) then return nil, where .. ": missing short_name" end
    if seen[s.short_name] then
      return nil, string.format("%s: duplicate short_name (first at scenario #%d)", where, seen[s.short_name])
    end
    seen[s.short_name] = i
    if not nonempty(s.question) then return nil, where .. ": missing question" end
    if type(s.attributes) ~= "table" or #s.attributes == 0 then
      return nil, where .. ": missing attributes"
    end
    if opts.attributes and #s.attributes ~= opts.attributes then
      return nil, string.format("%s: has %d attributes, the study needs %d", where, #s.attributes,
        opts.attributes)
    end
    local names = {}
    for j, a in ipairs(s.attributes) do
      local aw = where .. ": " .. describe_attr(j, a)
      if type(a) ~= "table" then return nil, aw .. ": not a table" end
      if not nonempty(a.name) then return nil, aw .. ": missing name" end
      if names[a.name] then return nil, aw .. ": duplicate attribute name" end
      names[a.name] = true
      if not nonempty(a.units) then return nil, aw .. ": missing units" end
      if type(a.min) ~= "number" or type(a.max) ~= "number" or a.min ~= a.min or a.max ~= a.max
        or math.abs(a.min) == math.huge or math.abs(a.max) == math.huge then
        return nil, string.format("%s: range must be two finite numbers, got [%s, %s]", aw,
          tostring(a.min), tostring(a.max))
      end
      if a.min == a.max then
        return nil, string.format("%s: zero-width range [%s, %s]", aw, rng.pyrepr(a.min), rng.pyrepr(a.max))
      end
      if a.min > a.max then
        return nil, string.format("%s: min >= max in range [%s, %s]", aw, rng.pyrepr(a.min), rng.pyrepr(a.max))
      end
      if a.precision ~= nil and math.type(a.precision) ~= "integer" then
        return nil, aw .. ": precision must be an integer"
      end
    end
  end
  return list
end

-- load(path, opts) -> list of Scenario | nil, err
-- path: a .json file in the published format ([{short_name, question, attributes:[{name, units,
-- range:[min,max]}]}]) or a .lua file returning a list of Scenarios. opts.attributes: required
-- attribute count (5 for the study). Errors name the file, the scenario and the field.
---@param path string
---@param opts? table
---@return table[]|nil scenarios
---@return string|nil err
function M.load(path, opts)
  opts = util.check_options("scenarios.load", opts, { attributes = "integer", format = { "json", "lua" } })
  local format = opts.format or (extension(path) == "lua" and "lua" or "json")
  local raw
  if format == "lua" then
    local value, err = load_lua(path)
    if value == nil then return nil, err or (path .. ": returned nothing") end
    raw = value
  else
    local text, err = util.read_file(path)
    if not text then return nil, err end
    if not text:find("%S") then return nil, path .. ": empty file" end
    local ok, value = pcall(cjson.decode, text)
    if not ok then return nil, string.format("%s: malformed JSON: %s", path, tostring(value)) end
    raw = value
  end
  if type(raw) ~= "table" then return nil, path .. ": expected a list of scenarios" end
  if #raw == 0 then return nil, path .. ": empty file (no scenarios)" end
  local list = {}
  for i, s in ipairs(raw) do
    if type(s) ~= "table" then return nil, string.format("%s: %s: not an object", path, describe(i, s)) end
    if type(s.attributes) ~= "table" then
      return nil, string.format("%s: %s: missing attributes", path, describe(i, s))
    end
    for j, a in ipairs(s.attributes) do
      if type(a) ~= "table" then
        return nil, string.format("%s: %s: %s: not an object", path, describe(i, s), describe_attr(j, a))
      end
    end
    list[i] = normalize(s)
  end
  return M.validate(list, path, { attributes = opts.attributes })
end

-- load_roles(path, opts) -> list of strings | nil, err
-- .csv: first column of each row; the first row is a header when it is "role", except with
-- opts.header == false (the published study's loader, used by --rng=python: "role" becomes a
-- role). .lua: a file returning a list of strings. Anything else: one role per line.
function M.load_roles(path, opts)
  opts = util.check_options("scenarios.load_roles", opts, { header = "boolean" })
  local ext = extension(path)
  local roles, lines = {}, {}
  if ext == "lua" then
    local value, err = load_lua(path)
    if value == nil then return nil, err or (path .. ": returned nothing") end
    if type(value) ~= "table" then return nil, path .. ": expected a list of roles" end
    roles = value
  else
    local text, err = util.read_file(path)
    if not text then return nil, err end
    if not text:find("%S") then return nil, path .. ": empty file" end
    if ext == "csv" then
      local rows, rlines = csv.parse(text, path)
      if not rows then return nil, rlines end
      for i, row in ipairs(rows) do roles[i], lines[i] = row[1], rlines[i] end
      if opts.header ~= false and roles[1] == "role" then
        table.remove(roles, 1)
        table.remove(lines, 1)
      end
    else
      local n = 0
      for line in util.lines(text) do
        n = n + 1
        if line:find("%S") then roles[#roles + 1], lines[#roles + 1] = line, n end
      end
    end
  end
  if #roles == 0 then return nil, path .. ": no roles" end
  for i, r in ipairs(roles) do
    if not nonempty(r) then
      return nil, string.format("%s:%s: role #%d is empty or not a string", path, tostring(lines[i] or i), i)
    end
  end
  return roles
end

-- contexts(scenarios, roles, opts) -> list of Context
-- Context i = scenario i + role i of the shuffled roles, question "Imagine you are ROLE. Q".
-- opts: count (default #scenarios), rng ("python": CPython shuffle, as the study; "default":
-- xoshiro256**), seed (default 0), shuffle (default true), template (default QUESTION_TEMPLATE).
---@param scenarios table[]
---@param roles string[]
---@param opts? table
---@return table[] contexts
function M.contexts(scenarios, roles, opts)
  opts = util.check_options("scenarios.contexts", opts, { count = "integer", rng = { "python", "default" },
    seed = "integer", shuffle = "boolean", template = "string" })
  local count = opts.count or #scenarios
  if count > #scenarios then
    error(string.format("scenarios.contexts: %d contexts need %d scenarios, have %d", count, count,
      #scenarios), 0)
  end
  if count > #roles then
    error(string.format("scenarios.contexts: %d contexts need %d roles, have %d", count, count, #roles), 0)
  end
  local shuffled = table.move(roles, 1, #roles, 1, {})
  if opts.shuffle ~= false then
    local gen = rng.new(opts.rng == "python" and "mt19937" or "xoshiro256**", opts.seed or 0)
    gen:shuffle(shuffled)
  end
  local template = opts.template or M.QUESTION_TEMPLATE
  local list = {}
  for i = 1, count do
    local s, role = scenarios[i], shuffled[i]
    local question = template:gsub("{(%w+)}", function(key)
      if key == "role" then return role end
      if key == "question" then return s.question end
    end)
    list[i] = { id = i, scenario = s, role = role, question = question }
  end
  return list
end

return M
