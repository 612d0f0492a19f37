-- Command-line options for experiment scripts and subcommands.
--
--   local options = require "introspect.core.options"
--   local opts = options.parse(arg, {
--     { "out",     "string",  "runs/demo", "run directory" },
--     { "trials",  "integer", 50,          "choices per context" },
--     { "dry-run", "boolean", false,       "plan only, send nothing" },
--   }, { usage = "experiments/demo.lua [options]" })
--   -- opts.out, opts.trials, opts.dry_run ("-" becomes "_"); opts._args = positionals
--
-- Accepted forms: --name=value, --flag, --no-flag. Types: string, number, integer, boolean,
-- list (comma-separated strings). Unknown options are rejected by name; --help prints the
-- generated help. A spec may also be a map {name = {type=, default=, help=, choices=}}.
local suggest = require "introspect.core.suggest"

local M = {}

local TYPES = { string = true, number = true, integer = true, boolean = true, list = true }

-- normalize(spec) -> list of {name=, type=, default=, help=, choices=}
local function normalize(spec)
  local list = {}
  if spec[1] ~= nil then
    for _, s in ipairs(spec) do
      if s.name then
        list[#list + 1] = s
      else
        list[#list + 1] = { name = s[1], type = s[2], default = s[3], help = s[4], choices = s[5] }
      end
    end
  else
    for name, s in pairs(spec) do
      local copy = { name = name }
      for k, v in pairs(s) do copy[k] = v end
      list[#list + 1] = copy
    end
    table.sort(list, function(a, b) return a.name < b.name end)
  end
  for _, s in ipairs(list) do
    if s.type == nil then
      local d = s.default
      s.type = math.type(d) == "integer" and "integer" or type(d) == "table" and "list"
        or type(d) == "nil" and "string" or type(d)
    end
    if not TYPES[s.type] then
      error(string.format("options: option '%s' has unknown type '%s'", s.name, tostring(s.type)), 3)
    end
  end
  table.insert(list, { name = "help", type = "boolean", default = false, help = "show this help and exit" })
  return list
end

local function convert(s, text)
  if s.type == "string" then
    if s.choices then
      for _, c in ipairs(s.choices) do if c == text then return text end end
      return nil, string.format("option --%s must be one of %s, got '%s'", s.name,
        table.concat(s.choices, "|"), text)
    end
    return text
  elseif s.type == "number" then
    local n = tonumber(text)
    if n == nil then return nil, string.format("option --%s needs a number, got '%s'", s.name, text) end
    return n
  elseif s.type == "integer" then
    local n = math.tointeger(tonumber(text))
    if n == nil then return nil, string.format("option --%s needs an integer, got '%s'", s.name, text) end
    return n
  elseif s.type == "list" then
    local items = {}
    for item in text:gmatch("[^,]+") do items[#items + 1] = item end
    return items
  elseif s.type == "boolean" then
    local t = text:lower()
    if t == "true" or t == "yes" or t == "1" then return true end
    if t == "false" or t == "no" or t == "0" then return false end
    return nil, string.format("option --%s is a flag (true or false), got '%s'", s.name, text)
  end
end

local function key_of(name) return (name:gsub("-", "_")) end

-- help(spec, info) -> text
function M.help(spec, info)
  info = info or {}
  local list = spec.__normalized and spec or normalize(spec)
  local lines = {}
  if info.usage then lines[#lines + 1] = "usage: " .. info.usage end
  if info.description then lines[#lines + 1] = info.description end
  if #lines > 0 then lines[#lines + 1] = "" end
  lines[#lines + 1] = "options:"
  local rows, widest = {}, 0
  for _, s in ipairs(list) do
    local left = "--" .. s.name .. (s.type == "boolean" and "" or "=" .. s.type:upper())
    widest = math.max(widest, #left)
    local right = s.help or ""
    if s.choices then right = right .. " (" .. table.concat(s.choices, "|") .. ")" end
    if s.default ~= nil and s.type ~= "boolean" then
      local d = type(s.default) == "table" and table.concat(s.default, ",") or tostring(s.default)
      right = right .. " [default: " .. d .. "]"
    end
    rows[#rows + 1] = { left, right }
  end
  for _, r in ipairs(rows) do
    lines[#lines + 1] = string.format("  %-" .. widest .. "s  %s", r[1], r[2])
  end
  return table.concat(lines, "\n") .. "\n"
end

-- try_parse(argv, spec) -> opts | nil, err
-- argv: an array of strings (a script's `arg`: indices 1..#arg are used).
function M.try_parse(argv, spec)
  local list = normalize(spec)
  local byname, opts = {}, { _args = {} }
  for _, s in ipairs(list) do
    byname[s.name] = s
    local d = s.default
    if type(d) == "table" then
      local copy = {}
      for i, v in ipairs(d) do copy[i] = v end
      d = copy
    end
    opts[key_of(s.name)] = d
  end
  local only_positional = false
  for i = 1, #argv do
    local a = argv[i]
    if only_positional or a:sub(1, 2) ~= "--" then
      opts._args[#opts._args + 1] = a
    elseif a == "--" then
      only_positional = true
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      if not name then name = a:sub(3) end
      local s = byname[name]
      if not s and value == nil and name:sub(1, 3) == "no-" and byname[name:sub(4)]
        and byname[name:sub(4)].type == "boolean" then
        s, value = byname[name:sub(4)], "false"
      end
      if not s then
        local names = {}
        for _, o in ipairs(list) do names[#names + 1] = "--" .. o.name end
        return nil, string.format("unknown option '--%s'%s", name, suggest.did_you_mean("--" .. name, names))
      end
      if value == nil then
        if s.type ~= "boolean" then
          return nil, string.format("option --%s needs a value (--%s=%s)", name, name, s.type:upper())
        end
        value = "true"
      end
      local v, err = convert(s, value)
      if v == nil then return nil, err end
      opts[key_of(s.name)] = v
    end
  end
  return opts, list
end

-- parse(argv, spec[, info]) -> opts
-- On --help prints the help and exits 0; on a bad option prints the error and the usage on
-- stderr and exits 2. info: {usage=, description=, program=}.
function M.parse(argv, spec, info)
  info = info or {}
  local opts, list = M.try_parse(argv or {}, spec)
  local program = info.program or (argv and argv[0]) or "introspect"
  if not opts then
    io.stderr:write(program, ": ", list, "\n")
    io.stderr:write("usage: ", info.usage or program .. " [options]", "\n")
    io.stderr:write("Run with --help for the options.\n")
    os.exit(2)
  end
  if opts.help then
    list.__normalized = true
    io.stdout:write(M.help(list, { usage = info.usage or program .. " [options]",
      description = info.description }))
    os.exit(0)
  end
  opts.help = nil
  return opts
end

return M
