-- Small contracts that no other output reveals when they break (each one found by `make mutate`
-- surviving): a bad selection row, carriage returns in CSV fields, line numbers after a quoted
-- line break, the token estimate, and the subject's introspective access.
local csv = require "introspect.core.csv"
local util = require "introspect.core.util"

describe("small contracts", function()
  it("analysis.read_selections leaves out a row whose selection is not A or B, saying so", function()
    local analysis = require "introspect.analysis"
    local path = os.tmpname()
    local header = { "model", "scenario", "selection" }
    for _, p in ipairs({ "A", "B" }) do for j = 1, 5 do header[#header + 1] = p .. "_attribute_" .. j end end
    assert(util.write_file_atomic(path, csv.format(header, {
      { "m", "s", "A", 1, 2, 3, 4, 5, 5, 4, 3, 2, 1 },
      { "m", "s", "C", 1, 2, 3, 4, 5, 5, 4, 3, 2, 1 },
      { "m", "s", "a", 1, 2, 3, 4, 5, 5, 4, 3, 2, 1 } })))
    local rows, problems = analysis.read_selections(path)
    os.remove(path)
    assert.equal(1, #rows)
    assert.equal(2, #problems)
    assert.matches("selection", problems[1])
  end)

  it("csv quotes a field holding a carriage return, and reads it back", function()
    assert.equal('"a\rb",c\n', csv.format_row({ "a\rb", "c" }))
    local rows = assert(csv.parse(csv.format({ "x", "y" }, { { "a\rb", "c" } }), "mem.csv"))
    assert.same({ { "x", "y" }, { "a\rb", "c" } }, rows)
  end)

  it("names the right line after a quoted field that spans lines", function()
    local rows, err = csv.parse('a,b\n"x\ny",1\n"z"q,2\n', "t.csv")
    assert.is_nil(rows)
    assert.equal("t.csv:4: unexpected character after quoted field", err)
  end)

  it("estimates tokens as a quarter of the characters, rounded up", function()
    local cost = require "introspect.client.cost"
    assert.equal(100, cost.estimate_tokens(string.rep("abcd", 100)))
    assert.equal(1, cost.estimate_tokens("a"))
  end)

  it("a subject with full introspective access reports exactly its actual weights", function()
    local sim = require "introspect.sim"
    local sim_support = require "sim_support"
    local api = sim.api({ profiles = { { name = "clear", access = 1, access_max = 1 } } })
    local parser = require("introspect.sim.prompt").new()
    for _, c in ipairs(sim_support.contexts(5)) do
      local names, units = {}, {}
      for j, a in ipairs(c.scenario.attributes) do names[j], units[j] = a.name, a.units end
      local ctx = parser:context(c.question, names, units)
      local m = api:model("clear")
      local w, r = m:weights(ctx), m:report_mean(ctx)
      for j = 1, #w do assert.is_true(math.abs(w[j] - r[j]) < 1e-9, c.question) end
    end
  end)
end)
