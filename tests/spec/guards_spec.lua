-- Guards that no other output reveals when they are missing (each one found by `make mutate`
-- surviving): the fine-tuning budget guard, and finding a job again after a crash between
-- creating it and recording it.
local cjson = require "cjson"
local util = require "introspect.core.util"
local support = require "paper_support"

local function quiet()
  return require("introspect.core.progress").new({ out = io.open("/dev/null", "w"), tty = false })
end

-- job_ids(dir) -> sorted distinct fine-tuning job ids in a run's sim-state journal
local function job_ids(dir)
  local ids, seen = {}, {}
  if not util.file_exists(dir .. "/sim-state/journal.jsonl") then return ids end
  for line in io.lines(dir .. "/sim-state/journal.jsonl") do
    local ok, rec = pcall(cjson.decode, line)
    if ok and rec.kind == "job" and rec.id and not seen[rec.id] then
      seen[rec.id] = true
      ids[#ids + 1] = rec.id
    end
  end
  table.sort(ids)
  return ids
end

describe("fine-tuning guards", function()
  it("stops before creating a job the budget cannot pay for", function()
    local study = require "introspect.study"
    local dir = support.tmpdir()
    local s = study.session({ out = dir, backend = "sim", max_cost = 0.0001, progress = quiet(),
      sim = { profiles = { { name = "gpt-4o-mini-2024-07-18" } } } })
    local stim = study.stimuli(s, study.inputs({ scenarios = "experiments/scenarios/library.lua",
      roles = "experiments/scenarios/roles.lua", contexts = 10 }))
    local ok, err = pcall(s.finetune, s, "gpt-4o-mini-2024-07-18", "instill", stim.instill)
    assert.is_false(ok)
    assert.matches("stopped before creating the job", tostring(err))
    assert.matches("max.cost", tostring(err))
    assert.same({}, job_ids(dir))
    s.run:close()
  end)

  it("finds its job again after a crash between creating it and recording it", function()
    local dir = support.tmpdir()
    local args = "--contexts=20 --models=sim-large --trials=10 --reports=2 --out=" .. dir
    local out, code = support.run(args)
    assert.equal(0, code, out)
    local before = job_ids(dir)
    assert.is_true(#before >= 2)
    local selections = util.read_file(dir .. "/sim-large_instilled_selections.csv")
    -- forget every recorded fine-tune, as if each crash came right after the job was created
    local state = cjson.decode(util.read_file(dir .. "/state.json"))
    local forgotten = 0
    for k in pairs(state) do
      if k:match("^finetune:") then state[k] = nil; forgotten = forgotten + 1 end
    end
    assert.is_true(forgotten >= 2)
    assert(util.write_file_atomic(dir .. "/state.json", cjson.encode(state)))
    out, code = support.run(args)
    assert.equal(0, code, out)
    assert.same(before, job_ids(dir))
    assert.equal(selections, util.read_file(dir .. "/sim-large_instilled_selections.csv"))
  end)
end)
