-- introspect.repl.pretty: what the REPL prints.
local pretty = require "introspect.repl.pretty"

describe("pretty.format", function()
  it("prints scalars like Lua literals", function()
    assert.equal('"a\\"b"', pretty.format('a"b'))
    assert.equal("3", pretty.format(3))
    assert.equal("3.0", pretty.format(3.0))
    assert.equal("0.25", pretty.format(0.25))
    assert.equal("nil", pretty.format(nil))
  end)

  it("prints arrays then sorted keys", function()
    assert.equal('{ 1, 2, a = true, z = "q" }', pretty.format({ 1, 2, z = "q", a = true }))
  end)

  it("quotes non-identifier keys", function()
    assert.equal('{ [10] = 2, ["a b"] = 1 }', pretty.format({ ["a b"] = 1, [10] = 2 }))
  end)

  it("marks cycles instead of recursing", function()
    local t = { name = "t" }
    t.self = t
    local s = pretty.format(t)
    assert.matches("self = <cycle: table: ", s)
  end)

  it("prints shared (non-cyclic) subtables in full each time", function()
    local shared = { 1 }
    assert.equal("{ { 1 }, { 1 } }", pretty.format({ shared, shared }))
  end)

  it("breaks long tables over lines with indentation", function()
    local t = {}
    for i = 1, 40 do t[i] = "item" .. i end
    local s = pretty.format({ list = t })
    assert.matches("^{\n  list = {\n    \"item1\",\n", s)
  end)

  it("honours __tostring", function()
    local e = setmetatable({}, { __tostring = function() return "E429" end })
    assert.equal("{ E429 }", pretty.format({ e }))
  end)

  it("limits depth and items", function()
    assert.equal("{ { {...} } }", pretty.format({ { { { 1 } } } }, { depth = 2 }))
    assert.matches("%.%.%. %(8 more%)", pretty.format({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, { items = 2 }))
  end)
end)
