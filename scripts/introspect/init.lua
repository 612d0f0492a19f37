-- The introspect library: `local ix = require "introspect"`.
-- Submodules load on first use: ix.rng, ix.stats, ix.openai, ix.analysis, ... are
-- require("introspect.<name>"). In the REPL this table is the global `ix`. The REPL helpers
-- (ix.use, ix.contexts, ix.models, ix.choose, ix.report, ix.measure, ix.open, ix.help) live in
-- introspect.repl_helpers and load on first call too.
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
  "tabular", "repl_helpers", "runview",
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

-- The REPL helpers: ix.NAME(...) calls require("introspect.repl_helpers").NAME(...).
-- See docs/scripting.md ("REPL helpers").
for _, name in ipairs({ "use", "connection", "contexts", "models", "choose", "report", "measure", "open" }) do
  M[name] = function(...) return require("introspect.repl_helpers")[name](...) end
end

-- help() -> a table of the REPL helpers and the library's modules (the REPL prints it;
-- in a script, print(ix.help())).
function M.help()
  return require("introspect.repl_helpers").help(M.modules)
end

return M
