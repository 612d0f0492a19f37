-- The introspect library: `local ix = require "introspect"`.
-- Submodules load on first use: ix.rng, ix.stats, ix.openai, ix.analysis, ... are
-- require("introspect.<name>"). In the REPL this table is the global `ix`.
local M = {
  _VERSION = "introspect 0.1.0",
}

-- Modules reachable as ix.<name>; kept explicit so ix.help() can list them.
M.modules = {
  "options", "pretty", "csv", "util",
  "rng", "scenarios", "prompts", "stimuli", "trainfiles", "pyjson", "curriculum",
  "stats", "analysis", "replies",
  "http", "openai", "store", "cost", "backend",
  "sim", "httpd", "sys", "progress", "rundir", "report", "study",
}

local known = {}
for _, name in ipairs(M.modules) do known[name] = true end

setmetatable(M, {
  __index = function(t, key)
    if not known[key] then return nil end
    local mod = require("introspect." .. key)
    rawset(t, key, mod)
    return mod
  end,
})

-- help() : prints what the library offers.
function M.help()
  local lines = {
    "introspect library (ix): modules load on first use as ix.<name>:",
  }
  local available = {}
  for _, name in ipairs(M.modules) do
    local ok = pcall(require, "introspect." .. name)
    available[#available + 1] = ok and name or (name .. " (not available)")
  end
  lines[#lines + 1] = "  " .. table.concat(available, ", ")
  lines[#lines + 1] = "ix.pretty.print(v) prints any value; see docs/ for each module."
  io.stdout:write(table.concat(lines, "\n"), "\n")
end

return M
