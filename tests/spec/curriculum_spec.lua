-- introspect.design.curriculum: the study's three curricula reproduce the study's introspection-training
-- files exactly; bad curricula are refused with the file and field named.
local curriculum = require "introspect.design.curriculum"
local scenarios = require "introspect.design.scenarios"
local stimuli = require "introspect.design.stimuli"
local trainfiles = require "introspect.design.trainfiles"

local function study_contexts()
  local list = assert(scenarios.load("experiments/scenarios/library.lua", { attributes = 5 }))
  local roles = assert(scenarios.load_roles("experiments/scenarios/roles.lua"))
  return scenarios.contexts(list, roles, { count = 200, rng = "default", seed = 0 })
end

describe("curriculum", function()
  local contexts = study_contexts()
  local study = stimuli.study(contexts, { rng = "default", instilled = 100 })
  local published = {}
  for _, f in ipairs(trainfiles.study_files(study)) do published[f.name] = f.content end
  local function target(ctx) return study.weights[ctx.id] end

  for _, name in ipairs({ "first_50", "last_50", "all_100" }) do
    it(name .. " writes the study's files for it", function()
      local c = assert(curriculum.load("experiments/curricula/" .. name .. ".lua"))
      local files = curriculum.files(c, contexts, target, { rng = "default" })
      assert.equal(published[c.files.train], files.train)
      if c.files.validation then
        assert.equal(published[c.files.validation], files.validation)
      else
        assert.is_nil(files.validation)
      end
    end)
  end

  it("draws several examples per context from the reseeded generator", function()
    local c = assert(curriculum.validate({ name = "x3", train = { 1, 4 }, examples_per_context = 3 }))
    local files = curriculum.files(c, contexts, target, { rng = "default" })
    local n = select(2, files.train:gsub("\n", ""))
    assert.equal(12, n)
    -- the first example of each context is the study's single example
    local one = curriculum.files(assert(curriculum.validate({ name = "x1", train = { 1, 4 } })), contexts, target,
      { rng = "default" })
    local first_line = one.train:match("^[^\n]+")
    assert.equal(first_line, files.train:match("^[^\n]+"))
  end)

  it("labels with learned weights when asked", function()
    local c = assert(curriculum.validate({ name = "learned", train = { 1, 2 }, labels = "learned" }))
    local learned = { [1] = { 1, 2, 3, 4, 5 }, [2] = { -5, -4, -3, -2, -1 } }
    local files = curriculum.files(c, contexts, function(ctx) return learned[ctx.id] end, { rng = "default" })
    local attrs = contexts[1].scenario.attributes
    assert.truthy(files.train:find('\\"' .. attrs[1].name .. '\\": 1,', 1, true))
    local bad = assert(curriculum.validate({ name = "learned", train = { 1, 3 }, labels = "learned" }))
    local ok, err = pcall(curriculum.files, bad, contexts, function(ctx) return learned[ctx.id] end, {})
    assert.is_false(ok)
    assert.matches("no learned weights for context 3", err)
  end)

  it("resolves a curriculum written as a function of n (plain Lua, nothing evaluated from strings)", function()
    local c = assert(curriculum.load("experiments/curricula/first_50.lua", { n = 20 }))
    assert.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, c.train_ids)
    assert.equal(11, c.evaluate_ids[1])
    assert.equal(20, c.evaluate_ids[#c.evaluate_ids])
    assert.equal("instilled_weights_10_training_test_last.jsonl", c.files.train)
    local all = assert(curriculum.load("experiments/curricula/all_100.lua", { n = 20 }))
    assert.equal(21, all.evaluate_ids[1])
    assert.equal(40, all.evaluate_ids[#all.evaluate_ids])
    local _, err = curriculum.validate({ name = "x", train = { 1, "os.exit()" } }, "c.lua")
    assert.matches("bound os.exit%(%) is not an integer or a function of n", err)
    _, err = curriculum.validate({ name = "x", train = { 1, "n/3" } }, "c.lua", { n = 10 })
    assert.matches("bound n/3 is not an integer", err)
    local c2 = assert(curriculum.validate({ name = "x", train = { 1, function(n) return n // 3 end } }, "c.lua",
      { n = 9 }))
    assert.same({ 1, 2, 3 }, c2.train_ids)
  end)

  it("refuses unknown fields, bad ranges and bad labels by name", function()
    local _, err = curriculum.validate({ name = "x", train = { 1, 2 }, trian = { 1 } }, "c.lua")
    assert.matches("c.lua: unknown option 'trian'", err)
    _, err = curriculum.validate({ name = "x", train = { 5, 2 } }, "c.lua")
    assert.matches("c.lua: 'train' must be {first, last}", err)
    _, err = curriculum.validate({ name = "x", train = { 1, 2 }, labels = "guess" }, "c.lua")
    assert.matches("option 'labels' must be one of target|learned", err)
    _, err = curriculum.validate({ train = { 1, 2 } }, "c.lua")
    assert.matches("'name' must be a word", err)
    local ok, cerr = pcall(curriculum.files, assert(curriculum.validate({ name = "x", train = { 1, 999 } }, "c.lua")),
      contexts, target, {})
    assert.is_false(ok)
    assert.matches("c.lua: context 201 does not exist %(200 contexts%)", cerr)
  end)

  it("names the file when a curriculum does not load", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("return {name = 'x', train = {1, 2}, oops = 1}")
    f:close()
    local _, err = curriculum.load(path)
    assert.matches(path:gsub("%p", "%%%0") .. ": unknown option 'oops'", err)
    os.remove(path)
  end)
end)
