-- experiments/native.lua: native preferences and report accuracy with no fine-tuning, against
-- `introspect serve` and a chat-only stand-in that lacks logprobs, seed and temperature 0 and
-- needs a larger output budget (tests/servers/chatonly_standin.lua); cost plan and --max-cost.
local P = require("paper_support")
local standins = require("servers.standins")
local sys = require("introspect.sys")
local util = require("introspect.core.util")

local SMALL = "--contexts=20 --trials=40 --reports=3"

local function native(args, env)
  local p = io.popen(string.format("%s '%s' experiments/native.lua %s 2>&1; echo \"exit=$?\"", env or "", P.BIN, args))
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("exit=(%d+)%s*$"))
end

describe("native.lua", function()
  it("on introspect serve: the cost plan, accuracy of native reports, nothing adapted", function()
    local url, pid = P.serve("")
    local out = P.tmpdir()
    local text, code = native(SMALL .. " --backend=" .. url .. " --models=sim-large --out=" .. out,
      "OPENAI_API_KEY=sk-test")
    sys.kill(pid, "TERM")
    assert.are.equal(0, code, text)
    assert.truthy(text:find("choices sim%-large%s+800"), text)
    assert.truthy(text:find("reports sim%-large%s+60"), text)
    local sum = P.read_json(out .. "/summary.json").models["sim-large"]
    assert.is_true(sum.accuracy.slope > 0.2, text)
    assert.are.same({}, sum.adapted)
    assert.truthy(util.read_file(out .. "/summary.md"):find("nothing (every request as the paper sent it)", 1, true))
    os.execute("rm -rf '" .. out .. "'")
  end)

  it("on a chat-only server: adapts to no logprobs, no seed, no temperature 0, a reasoning budget, and says so",
    function()
      local s = standins.start("chatonly", { no_temperature0 = true, min_tokens = 16 })
      local out = P.tmpdir()
      local text, code = native(SMALL .. " --backend=" .. s.url .. " --models=sim-large --out=" .. out
        .. " --min-output-tokens=300", "OPENAI_API_KEY=sk-test")
      s:stop()
      assert.are.equal(0, code, text)
      local sum = P.read_json(out .. "/summary.json").models["sim-large"]
      local notes = table.concat(sum.adapted, "\n")
      assert.truthy(notes:find("temperature 0 rejected", 1, true), notes)
      assert.truthy(notes:find("seed not supported", 1, true), notes)
      assert.truthy(notes:find("logprobs not supported", 1, true), notes)
      assert.truthy(notes:find("at least 300 output tokens", 1, true), notes)
      assert.are.equal(800, sum.choices.valid)
      assert.is_true(sum.accuracy.slope > 0.1, text)
      local md = util.read_file(out .. "/summary.md")
      assert.truthy(md:find("temperature 0 rejected", 1, true), md)
      assert.truthy(P.read_json(out .. "/manifest.json").adapted["sim-large"])
      os.execute("rm -rf '" .. out .. "'")
    end)

  it("prices the plan and stops before sending when it exceeds --max-cost", function()
    local s = standins.start("chatonly", { aliases = { ["gpt-4.1-2025-04-14"] = "sim-large" } })
    local out = P.tmpdir()
    local text, code = native("--contexts=20 --trials=100 --reports=10 --backend=" .. s.url
      .. " --models=gpt-4.1-2025-04-14 --max-cost=0.01 --out=" .. out, "OPENAI_API_KEY=sk-test")
    local chats = s:requests("^POST /v1/chat/completions")
    s:stop()
    assert.are.equal(1, code, text)
    assert.truthy(text:find("exceeds --max-cost=0.01: nothing was sent", 1, true), text)
    local cost = tonumber(text:match("total%s+%$([%d%.]+)"))
    assert.is_true(cost > 0.01, text)
    -- only the capability requests went out (a handful), none of the 2,200 planned
    assert.is_true(chats <= 4, tostring(chats))
    os.execute("rm -rf '" .. out .. "'")
  end)
end)
