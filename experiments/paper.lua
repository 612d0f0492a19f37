-- experiments/paper.lua: the published study (Plunkett et al. 2025), see docs/stimuli.md.
--
--   introspect experiments/paper.lua --stimuli-only --scenarios=FILE.json --roles=FILE.csv \
--     --rng=python --out=DIR
-- writes the nine stimulus files (scenarios.csv, instilled_weights.csv, instill_100_prefs.jsonl,
-- instill_100_prefs_val.jsonl, instilled_weights_*.jsonl). With the published inputs and
-- --rng=python they equal the published files.
local options = require "introspect.options"
local scenarios = require "introspect.scenarios"
local stimuli = require "introspect.stimuli"
local trainfiles = require "introspect.trainfiles"

local SPEC = {
  { "stimuli-only", "boolean", false, "write the stimulus files and stop" },
  { "scenarios", "string", "experiments/scenarios/library.lua", "scenarios file (.lua or published .json)" },
  { "roles", "string", "experiments/scenarios/roles.lua", "roles file (.csv, .txt or .lua)" },
  { "rng", "string", "default", "python: reproduce the published draws; default: xoshiro256**",
    { "default", "python" } },
  { "contexts", "integer", nil, "contexts to build (default: 1100, or all scenarios if fewer)" },
  { "instilled", "integer", stimuli.PAPER.instilled, "contexts whose preferences are instilled" },
  { "out", "string", "runs/paper", "output directory" },
}

local function fail(msg)
  io.stderr:write("paper.lua: ", msg, "\n")
  os.exit(1)
end

local function check(value, err)
  if value == nil then fail(err) end
  return value
end

-- stimuli_only(opts): builds the contexts and the study's stimuli and writes the nine files.
local function stimuli_only(opts)
  local python = opts.rng == "python"
  local list = check(scenarios.load(opts.scenarios, { attributes = stimuli.PAPER.attributes }))
  -- the published loader read roles.csv without a header, so "role" became a role
  local roles = check(scenarios.load_roles(opts.roles, { header = not python }))
  local count = opts.contexts or math.min(stimuli.PAPER.contexts, #list)
  local ok, contexts = pcall(scenarios.contexts, list, roles,
    { count = count, rng = opts.rng, seed = stimuli.PAPER.seeds.roles })
  if not ok then fail(tostring(contexts)) end
  local sok, study = pcall(stimuli.study, contexts, { rng = opts.rng, instilled = opts.instilled })
  if not sok then fail(tostring(study)) end
  local files = trainfiles.study_files(study)
  check(trainfiles.write_all(opts.out, files))
  for _, f in ipairs(files) do print(opts.out .. "/" .. f.name) end
end

local function main(argv)
  local opts = options.parse(argv, SPEC, { usage = "experiments/paper.lua --stimuli-only [options]",
    program = "paper.lua" })
  if opts.stimuli_only then return stimuli_only(opts) end
  fail("only --stimuli-only is implemented so far")
end

main(arg)
