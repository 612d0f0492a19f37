-- experiments/scenarios/three_attributes.lua (issue 15 item 9): enough scenarios for
-- new-domain.lua --contexts=30, each with three attributes; asking for more than it has is one
-- line naming the count, with nothing created.
local scenarios = require "introspect.design.scenarios"
local util = require "introspect.core.util"

local SOURCE = os.getenv("INTROSPECT_SOURCE") or "."
local BIN = os.getenv("INTROSPECT_BIN") or (SOURCE .. "/build/introspect")

describe("three_attributes.lua", function()
  it("has at least 30 distinct scenarios of three attributes with valid ranges", function()
    local list = assert(scenarios.load(SOURCE .. "/experiments/scenarios/three_attributes.lua", { attributes = 3 }))
    assert.is_true(#list >= 30, #list .. " scenarios")
    local seen = {}
    for _, sc in ipairs(list) do
      assert.is_nil(seen[sc.short_name], sc.short_name)
      seen[sc.short_name] = true
      assert.equal(3, #sc.attributes)
      for _, a in ipairs(sc.attributes) do assert.is_true(a.max > a.min, sc.short_name .. "." .. a.name) end
    end
    local roles = assert(scenarios.load_roles(SOURCE .. "/experiments/scenarios/roles.lua"))
    assert.equal(30, #scenarios.contexts(list, roles, { count = 30 }))
  end)

  it("new-domain.lua --contexts beyond it: one line, nothing created", function()
    local dir = os.tmpname()
    os.remove(dir)
    local p = io.popen(string.format("cd '%s' && '%s' experiments/new-domain.lua --contexts=99 --out='%s' 2>&1; "
      .. "echo \"exit=$?\"", SOURCE, BIN, dir))
    local out = p:read("a")
    p:close()
    assert.matches("^new%-domain%.lua: [^\n]*99 contexts need 99 scenarios, have %d+\nexit=1", out)
    assert.is_false(util.file_exists(dir))
  end)
end)
