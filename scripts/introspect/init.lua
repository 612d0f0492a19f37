-- The introspect library: `local ix = require "introspect"`.
-- Submodules load on first use: ix.rng, ix.stats, ix.openai, ix.analysis, ... are
-- the module named in M.paths. In the REPL this table is the global `ix`. The REPL helpers
-- (ix.use, ix.contexts, ix.models, ix.choose, ix.report, ix.measure, ix.open, ix.help) live in
-- introspect.repl.helpers and load on first call too.
local M = {
  _VERSION = "introspect 0.1.0",
}

-- Modules reachable as ix.<name>, with the module each name loads; kept explicit so ix.help()
-- can list them. The library is layered (docs/architecture.md): core, design, client,
-- analysis, run, sim, study, repl; C bindings sit below them all.
M.paths = {
  options = "introspect.core.options", csv = "introspect.core.csv", util = "introspect.core.util",
  pyjson = "introspect.core.pyjson", tabular = "introspect.core.tabular",
  progress = "introspect.core.progress", pretty = "introspect.repl.pretty",
  scenarios = "introspect.design.scenarios", prompts = "introspect.design.prompts",
  stimuli = "introspect.design.stimuli", trainfiles = "introspect.design.trainfiles",
  curriculum = "introspect.design.curriculum", replies = "introspect.design.replies",
  openai = "introspect.client.openai", store = "introspect.client.store", cost = "introspect.client.cost",
  backend = "introspect.client.backend", analysis = "introspect.analysis",
  rundir = "introspect.run.rundir", report = "introspect.run.report", runview = "introspect.run.runview",
  plot = "introspect.run.plot", study = "introspect.study", sim = "introspect.sim",
  repl_helpers = "introspect.repl.helpers",
  rng = "introspect.rng", stats = "introspect.stats", http = "introspect.http",
  httpd = "introspect.httpd", sys = "introspect.sys",
}
M.modules = {
  "options", "pretty", "csv", "util",
  "rng", "scenarios", "prompts", "stimuli", "trainfiles", "pyjson", "curriculum",
  "stats", "analysis", "replies",
  "http", "openai", "store", "cost", "backend",
  "sim", "httpd", "sys", "progress", "rundir", "report", "study",
  "tabular", "repl_helpers", "runview", "plot",
}

setmetatable(M, {
  __index = function(t, key)
    local path = M.paths[key]
    if not path then return nil end
    local mod = require(path)
    rawset(t, key, mod)
    return mod
  end,
})

-- The REPL helpers: ix.NAME(...) calls require("introspect.repl.helpers").NAME(...).
-- See docs/scripting.md ("REPL helpers").
for _, name in ipairs({ "use", "connection", "contexts", "models", "choose", "report", "measure", "open" }) do
  M[name] = function(...) return require("introspect.repl.helpers")[name](...) end
end

-- help() -> a table of the REPL helpers and the library's modules (the REPL prints it;
-- in a script, print(ix.help())).
function M.help()
  return require("introspect.repl.helpers").help(M.modules)
end

return M
