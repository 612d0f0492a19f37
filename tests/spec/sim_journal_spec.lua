-- The simulated subject's state journal is written per request: a process killed in the middle
-- of a request (here, creating a fine-tuning job, which also stores the job's metrics file)
-- leaves none of that request's changes behind, so the next server hands out the same ids as an
-- uninterrupted one would.
local support = require "paper_support"
local util = require "introspect.core.util"

local SCRIPT = [[
local sim = require "introspect.sim"
local openai = require "introspect.client.openai"
local sys = require "introspect.sys"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local trainfiles = require "introspect.design.trainfiles"
local dir, kill = arg[1], arg[2] == "kill"
local list = assert(scenarios.load("experiments/scenarios/library.lua", { attributes = 5 }))
local roles = assert(scenarios.load_roles("experiments/scenarios/roles.lua"))
local contexts = scenarios.contexts(list, roles, { count = 2 })
local weights = stimuli.instilled_weights(contexts, {})
local lines = {}
for _, entry in ipairs(stimuli.choice_trials(contexts, weights, { per_context = 10 })) do
  for i = 1, #entry.trials do
    lines[#lines + 1] = trainfiles.choice_line(entry.context, entry.trials, i, entry.choices:sub(i, i))
  end
end
local api = sim.api({ state_dir = dir })
local client = openai.new({ transport = sim.transport(api), base_url = "http://sim.invalid/v1", api_key = "k-sim" })
local file = (client:files_list({ purpose = "fine-tune" }) or {})[1]
  or assert(client:files_upload({ purpose = "fine-tune", content = table.concat(lines, "\n") }))
if kill then
  local save = getmetatable(api).__index.save
  getmetatable(api).__index.save = function(self, kind, obj)
    save(self, kind, obj)
    if kind == "file" and obj.filename ~= nil and obj.purpose ~= "fine-tune" then sys.kill(sys.getpid(), "KILL") end
  end
end
local job = assert(client:fine_tune_create({ model = "sim-large", training_file = file.id }))
print("job " .. job.id)
]]

local function run_script(dir, mode)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(SCRIPT)
  f:close()
  local p = io.popen(string.format("'%s' '%s' '%s' %s 2>&1", support.BIN, path, dir, mode or ""))
  local out = p:read("a")
  p:close()
  os.remove(path)
  return out
end

describe("the simulated subject's journal", function()
  it("records none of a request's changes when the process dies in the middle of it", function()
    local reference, killed = support.tmpdir(), support.tmpdir()
    util.mkdir_p(reference)
    util.mkdir_p(killed)
    local ref_out = run_script(reference)
    local ref_job = ref_out:match("job (ftjob%-%x+)")
    assert.is_string(ref_job, ref_out)
    local out = run_script(killed, "kill")
    assert.is_nil(out:match("job ftjob"), "the process was killed before answering: " .. out)
    local journal = util.read_file(killed .. "/journal.jsonl") or ""
    assert.is_nil(journal:find('"kind":"job"', 1, true), "no job recorded")
    assert.equal(1, select(2, journal:gsub("\n", "")), "only the upload is recorded: " .. journal)
    -- a new server on the killed directory: the same upload is found, the job gets the reference id
    local again = run_script(killed)
    assert.equal(ref_job, again:match("job (ftjob%-%x+)"), again)
  end)

  it("drops a request's records when a kill cut their write short", function()
    local reference, cut = support.tmpdir(), support.tmpdir()
    util.mkdir_p(reference)
    local ref_job = run_script(reference):match("job (ftjob%-%x+)")
    assert.is_string(ref_job)
    -- the job creation wrote two records at once (the metrics file, then the job); keep only
    -- the first, as a write cut by SIGKILL would
    local lines = {}
    for line in io.lines(reference .. "/journal.jsonl") do lines[#lines + 1] = line end
    assert.equal(3, #lines)
    assert.matches('"group_left":1', lines[2])
    os.execute(string.format("cp -r '%s' '%s'", reference, cut))
    assert(util.write_file_atomic(cut .. "/journal.jsonl", lines[1] .. "\n" .. lines[2] .. "\n" .. lines[3]:sub(1, 40)))
    local again = run_script(cut)
    assert.equal(ref_job, again:match("job (ftjob%-%x+)"), again)
    local journal = util.read_file(cut .. "/journal.jsonl")
    assert.equal(3, select(2, journal:gsub("\n", "")), journal)
  end)
end)
