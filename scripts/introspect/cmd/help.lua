-- `introspect help`: the command line, the subcommands that exist and the experiments (one line
-- each, from the comment that heads each experiments/*.lua); did-you-mean for a mistyped command.
local suggest = require "introspect.core.suggest"

local M = { summary = "this help (also introspect --help, -h)" }

-- The widest summary shown for an experiment.
M.WIDTH = 72

-- commands() -> sorted list of {name=, summary=} for every introspect/cmd/*.lua on the path
function M.commands()
  local found, list = {}, {}
  for template in package.path:gmatch("[^;]+") do
    local dir = template:match("^(.*)/%?%.lua$")
    if dir then
      local p = io.popen("ls '" .. dir .. "/introspect/cmd' 2>/dev/null")
      if p then
        for file in p:lines() do
          local name = file:match("^([%w%-]+)%.lua$")
          if name and not found[name] then
            found[name] = true
            local ok, mod = pcall(require, "introspect.cmd." .. name)
            list[#list + 1] = { name = name, summary = ok and type(mod) == "table" and mod.summary or "" }
          end
        end
        p:close()
      end
    end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- experiments_dir() -> the directory of the experiment scripts (source tree or install), or nil.
function M.experiments_dir()
  local ok, host = pcall(require, "introspect.host")
  local candidates = { os.getenv("INTROSPECT_EXPERIMENTS") }
  if ok and host.library_dir then
    candidates[#candidates + 1] = host.library_dir .. "/../experiments"
    candidates[#candidates + 1] = host.library_dir .. "/../../introspect/experiments"
  end
  if ok and host.source_dir then candidates[#candidates + 1] = host.source_dir .. "/experiments" end
  for _, dir in ipairs(candidates) do
    local f = io.open(dir .. "/paper.lua", "r")
    if f then
      f:close()
      local prev
      repeat prev, dir = dir, dir:gsub("/[^/]+/%.%./", "/", 1) until dir == prev
      return dir
    end
  end
  return nil
end

-- summary_of(text) -> the first sentence of a script's heading comment, at most M.WIDTH wide.
function M.summary_of(text)
  local words = {}
  for line in text:gmatch("[^\n]*") do
    local c = line:match("^%-%-%s?(.*)$")
    if not c or c:match("^%s*$") then
      if #words > 0 or not c then break end
    else
      words[#words + 1] = c
    end
  end
  local s = table.concat(words, " "):gsub("^experiments/[%w%-_]+%.lua:%s*", "")
  s = s:match("^(.-[%.%?!])%s") or s:match("^(.-[%.%?!])$") or s
  if #s > M.WIDTH then s = s:sub(1, M.WIDTH - 3):gsub("%s+%S*$", "") .. "..." end
  return s
end

-- experiments() -> sorted list of {path=, summary=} for every experiments/*.lua
function M.experiments()
  local dir = M.experiments_dir()
  if not dir then return {} end
  local list = {}
  local p = io.popen("ls '" .. dir .. "' 2>/dev/null")
  for file in p:lines() do
    if file:match("^[%w%-_]+%.lua$") then
      local f = io.open(dir .. "/" .. file, "r")
      local text = f and f:read(4096) or ""
      if f then f:close() end
      list[#list + 1] = { path = dir .. "/" .. file, name = file, summary = M.summary_of(text) }
    end
  end
  p:close()
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- unknown(word) -> "introspect: unknown command 'serv' (did you mean serve?) ..." (one line)
function M.unknown(word)
  local names = {}
  for _, c in ipairs(M.commands()) do names[#names + 1] = c.name end
  return string.format("introspect: '%s' is neither a command nor a file%s; run 'introspect help' for the " ..
    "commands and experiments", word, suggest.did_you_mean(word, names))
end

function M.main()
  local out = {
    "usage: introspect [options] [script [args]]",
    "       introspect COMMAND [args]",
    "",
    "options: -e stat, -l mod, -l g=mod, -i, -v, -E, --, - (as lua5.4); -h, --help: this help",
    "",
    "commands:",
  }
  for _, c in ipairs(M.commands()) do
    out[#out + 1] = string.format("  %-10s %s", c.name, c.summary)
  end
  local experiments = M.experiments()
  if #experiments > 0 then
    local dir = experiments[1].path:match("^(.*)/[^/]*$")
    local pwd = os.getenv("PWD")
    local shown = (pwd and dir:sub(1, #pwd + 1) == pwd .. "/") and dir:sub(#pwd + 2) or dir
    out[#out + 1] = ""
    out[#out + 1] = "experiments (introspect " .. shown .. "/NAME.lua --help for the options):"
    for _, e in ipairs(experiments) do
      out[#out + 1] = string.format("  %-22s %s", e.name, e.summary)
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "With no arguments introspect opens the REPL. See docs/host.md."
  io.stdout:write(table.concat(out, "\n"), "\n")
  return 0
end

return M
