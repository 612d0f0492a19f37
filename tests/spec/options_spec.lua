-- introspect.core.options: typed defaults, --name=value, --flag/--no-flag, unknown options by name.
local options = require "introspect.core.options"

local spec = {
  { "out", "string", "runs/x", "run directory" },
  { "trials", "integer", 50, "choices per context" },
  { "rate", "number", 0.5, "a rate" },
  { "dry-run", "boolean", false, "plan only" },
  { "models", "list", { "sim-small" }, "models" },
  { "backend", "string", "sim", "backend", { "sim", "openai" } },
}

describe("options.try_parse", function()
  it("returns typed defaults", function()
    local o = assert(options.try_parse({}, spec))
    assert.equal("runs/x", o.out)
    assert.equal(50, o.trials)
    assert.equal(0.5, o.rate)
    assert.is_false(o.dry_run)
    assert.same({ "sim-small" }, o.models)
  end)

  it("parses --name=value, flags and lists", function()
    local o = assert(options.try_parse({ "--out=/tmp/r", "--trials=7", "--dry-run", "--models=a,b", "pos" }, spec))
    assert.equal("/tmp/r", o.out)
    assert.equal(7, o.trials)
    assert.equal("integer", math.type(o.trials))
    assert.is_true(o.dry_run)
    assert.same({ "a", "b" }, o.models)
    assert.same({ "pos" }, o._args)
  end)

  it("accepts --no-flag", function()
    local o = assert(options.try_parse({ "--dry-run", "--no-dry-run" }, spec))
    assert.is_false(o.dry_run)
  end)

  it("rejects unknown options by name", function()
    local o, err = options.try_parse({ "--bogus=1" }, spec)
    assert.is_nil(o)
    assert.matches("unknown option '%-%-bogus'", err)
  end)

  it("rejects values of the wrong type", function()
    local _, err = options.try_parse({ "--trials=lots" }, spec)
    assert.matches("option %-%-trials needs an integer, got 'lots'", err)
    _, err = options.try_parse({ "--trials=1.5" }, spec)
    assert.matches("needs an integer", err)
    _, err = options.try_parse({ "--rate=x" }, spec)
    assert.matches("needs a number", err)
  end)

  it("requires a value for non-flags", function()
    local _, err = options.try_parse({ "--out" }, spec)
    assert.matches("option %-%-out needs a value", err)
  end)

  it("checks choices", function()
    local _, err = options.try_parse({ "--backend=other" }, spec)
    assert.matches("must be one of sim|openai", err)
  end)

  it("stops at --", function()
    local o = assert(options.try_parse({ "--", "--trials=3" }, spec))
    assert.equal(50, o.trials)
    assert.same({ "--trials=3" }, o._args)
  end)

  it("accepts the keyed spec form", function()
    local o = assert(options.try_parse({ "--data=d" }, { data = { type = "string", help = "dir" },
      n = { default = 3 } }))
    assert.equal("d", o.data)
    assert.equal(3, o.n)
  end)
end)

describe("options.help", function()
  it("lists every declared option with its default", function()
    local text = options.help(spec, { usage = "x.lua [options]" })
    assert.matches("usage: x.lua %[options%]", text)
    assert.matches("%-%-trials=INTEGER%s+choices per context %[default: 50%]", text)
    assert.matches("%-%-dry%-run%s+plan only", text)
    assert.matches("%-%-backend=STRING%s+backend %(sim|openai%)", text)
    assert.matches("%-%-help", text)
  end)
end)
