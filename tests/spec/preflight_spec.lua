-- introspect.client.preflight (issue 15 item 3): the backend's models are listed first, an
-- unknown model is refused naming the available ones closest first, a URL backend's default
-- models are the server's own, a server without a model list lets named models through with a
-- note, and providers' extra checks run on the chosen models.
local openai = require "introspect.client.openai"
local preflight = require "introspect.client.preflight"
local sim = require "introspect.sim"

local function sim_client()
  return openai.new({ transport = sim.transport({}), base_url = "http://sim.test/v1", api_key = "k" })
end

describe("preflight.models", function()
  it("returns the wanted models when the backend lists them", function()
    assert.same({ "sim-large" }, preflight.models(sim_client(), { "sim-large" }))
  end)

  it("refuses an unknown model naming the available ones, closest first", function()
    local ok, err = preflight.models(sim_client(), { "sim-large", "sim-lrge" })
    assert.is_nil(ok)
    assert.equal("model 'sim-lrge' is not offered by http://sim.test/v1 (available, closest first: "
      .. "sim-large, sim-small)", err)
  end)

  it("defaults to the server's own base models", function()
    assert.same({ "sim-large", "sim-small" }, preflight.models(sim_client(), nil))
  end)

  it("says which backend it could not list", function()
    local client = openai.new({ base_url = "http://127.0.0.1:9/v1", api_key = "k",
      pool = { max_retries = 0, connect_timeout = 2 } })
    local ok, err = preflight.models(client, { "x" })
    assert.is_nil(ok)
    assert.matches("^cannot list the models of http://127.0.0.1:9/v1: ", err)
  end)

  it("lets named models through with a note when the server has no model list", function()
    for _, answer in ipairs({ { status = 404, body = '{"error": {"message": "no such route"}}' },
      { status = 200, body = '{"object": "list", "data": []}' } }) do
      local transport = { perform = function(_, reqs)
        local out = {}
        for i = 1, #reqs do out[i] = { status = answer.status, headers = { ["content-type"] = "application/json" },
          body = answer.body, attempts = 1 } end
        return out
      end }
      local client = openai.new({ transport = transport, base_url = "http://x.test/v1", api_key = "k" })
      local notes = {}
      local models = preflight.models(client, { "m1" }, { warn = function(l) notes[#notes + 1] = l end })
      assert.same({ "m1" }, models)
      assert.matches("lists no models, so m1 could not be checked", notes[1], 1, true)
      local none, err = preflight.models(client, nil)
      assert.is_nil(none)
      assert.is_string(err)
    end
  end)

  it("runs the extra checks providers add and passes their warnings on", function()
    local seen = {}
    table.insert(preflight.checks, function(m) return m.id == "sim-small" and "sim-small retires soon" or nil end)
    local models, warnings = preflight.models(sim_client(), { "sim-small", "sim-large" },
      { warn = function(l) seen[#seen + 1] = l end })
    table.remove(preflight.checks)
    assert.same({ "sim-small", "sim-large" }, models)
    assert.same({ "sim-small retires soon" }, warnings)
    assert.same(warnings, seen)
  end)
end)
