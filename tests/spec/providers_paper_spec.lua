-- experiments/paper.lua against the provider stand-ins over HTTP, as processes: Together AI end
-- to end (stage 2 created from_checkpoint stage 1), OpenAI's wind-down refusal (one line, nothing
-- uploaded, exit 1) and insufficient_quota through the libcurl transport (one request).
local P = require("paper_support")
local standins = require("servers.standins")
local openai = require("introspect.client.openai")

local ARGS = "--contexts=20 --models=sim-large --trials=20 --reports=3 --poll-interval=0.05 --n-epochs=3"

describe("paper.lua on provider stand-ins", function()
  it("--backend=together runs end to end; the second stage continues the first from_checkpoint", function()
    local s = standins.start("together", { key = "tg-test-key-0123456789" })
    local out = P.tmpdir()
    local text, code = P.run(ARGS .. " --backend=together --out=" .. out,
      "TOGETHER_BASE_URL=" .. s.url .. " TOGETHER_API_KEY=tg-test-key-0123456789")
    s:stop()
    assert.are.equal(0, code, text)
    local m = P.read_json(out .. "/manifest.json")
    local inst = m.fine_tunes["instill <- sim-large"]
    assert.truthy(inst.model:match("^standin/sim%-large%-20%-instilled%-prefs%-50ex%-"), inst.model)
    assert.are.equal(3, inst.hyperparameters.n_epochs)
    assert.are.equal("Lora", inst.hyperparameters.type)
    local n = 0
    for name, ft in pairs(m.fine_tunes) do
      if name:match("^itrained") then
        n = n + 1
        assert.are.equal(inst.job, ft.hyperparameters.from_checkpoint)
      end
    end
    assert.are.equal(3, n)
    -- the subject's pattern: choices follow the instilled weights, the instilled model reports
    -- them better than the base model, training improves reports on native preferences
    local r = P.read_json(out .. "/summary.json").models["sim-large"]
    assert.is_true(r.learned_vs_target.r > 0.6, text)
    assert.is_true(r.reports.instilled.slope > r.reports.base.slope + 0.2, text)
    assert.is_nil(P.read_json(out .. "/manifest.json").backend:find("tg-test-key", 1, true))
    local state = require("introspect.core.util").read_file(out .. "/state.json")
    assert.is_nil(state:find("tg-test-key", 1, true))
    os.execute("rm -rf '" .. out .. "'")
  end)

  it("a refused OpenAI fine-tune is one line naming the wind-down; nothing uploaded; exit status 1", function()
    local s = standins.start("openai", { refuse_finetune = true })
    local out = P.tmpdir()
    local text, code = P.run(ARGS .. " --backend=" .. s.url .. " --out=" .. out, "OPENAI_API_KEY=sk-test")
    local uploads = s:requests("^POST /v1/files")
    s:stop()
    assert.are.equal(1, code, text)
    local line = text:match("paper%.lua: ([^\n]*)")
    assert.truthy(line, text)
    assert.truthy(line:find("winding down", 1, true), line)
    assert.truthy(line:find("--backend=together", 1, true) and line:find("--backend=local", 1, true), line)
    assert.are.equal(0, uploads)
    os.execute("rm -rf '" .. out .. "'")
  end)

  it("insufficient_quota stops a phase within one request through the libcurl transport", function()
    local s = standins.start("openai", { insufficient_quota = true })
    local c = openai.new({ base_url = s.url, api_key = "sk-test", pool = { concurrency = 8, max_retries = 5,
      backoff_base = 0.01 } })
    local bodies = {}
    for i = 1, 50 do bodies[i] = { model = "sim-large", messages = { { role = "user", content = "q" .. i } } } end
    local ok, err = pcall(c.chat_many, c, bodies)
    local sent = s:requests("^POST /v1/chat/completions")
    s:stop()
    assert.is_false(ok)
    assert.truthy(tostring(err):find("insufficient_quota", 1, true), err)
    assert.are.equal(1, sent)
  end)

  it("introspect probe reports chat, fine-tuning API, batch API and runtime LoRA loading for any server", function()
    local function probe(url, env)
      local p = io.popen(string.format("%s '%s' probe --backend=%s 2>&1", env or "", P.BIN, url))
      local out = p:read("a")
      p:close()
      return out
    end
    local v = standins.start("vllm", {})
    local out = probe(v.url)
    v:stop()
    assert.truthy(out:find("runtime LoRA loading yes", 1, true), out)
    assert.truthy(out:find("fine%-tuning API%s+no"), out)
    assert.truthy(out:find("batch API%s+no"), out)
    local t = standins.start("together", {})
    out = probe(t.url)
    t:stop()
    assert.truthy(out:find("Together's /fine-tunes", 1, true), out)
    assert.truthy(out:find("runtime LoRA loading no", 1, true), out)
    local c = standins.start("chatonly", {})
    out = probe(c.url, "OPENAI_API_KEY=sk-test")
    c:stop()
    assert.truthy(out:find("logprobs%s+no"), out)
    assert.truthy(out:find("adapt: seed not supported", 1, true), out)
  end)
end)
