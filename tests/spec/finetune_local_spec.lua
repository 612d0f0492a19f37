-- The open-weights route: the fine-tuning-command protocol (client/finetune_command.lua) with the
-- stand-in command (tests/fixtures/standin-finetune.lua), adapters loaded into the vLLM stand-in
-- (tests/servers/vllm_standin.lua), and paper.lua --backend=local end to end; bad input in one line.
local P = require("paper_support")
local sim = require("introspect.sim")
local openai = require("introspect.client.openai")
local finetune = require("introspect.client.finetune")
local command = require("introspect.client.finetune_command")
local standins = require("servers.standins")
local util = require("introspect.core.util")
local S = require("sim_support")

local SRC = os.getenv("INTROSPECT_SOURCE") or "."
local CMD = string.format("'%s' '%s/tests/fixtures/standin-finetune.lua'", P.BIN, SRC)
local ARGS = "--contexts=20 --models=sim-large --trials=20 --reports=3 --poll-interval=0.05"

local function vllm(opts)
  local s = require("servers.vllm_standin").new(opts)
  return s, openai.new({ transport = sim.transport(s), base_url = "http://vllm.invalid/v1", api_key = "none",
    sleep = function() end })
end

local function train_file(dir)
  util.mkdir_p(dir)
  local contexts = S.contexts(10)
  local path = dir .. "/instill.jsonl"
  assert(util.write_file_atomic(path, S.choice_file(contexts, S.weights(contexts, 1), 10, 2)))
  return path
end

describe("the fine-tuning command protocol", function()
  it("runs a stage, passes settings and seed, loads the adapter into vLLM and chats under it", function()
    local dir = P.tmpdir()
    local s, c = vllm()
    local p = finetune.provider("command", { command = CMD, dir = dir .. "/ft", adapters = c })
    local events = {}
    local r = finetune.run(p, { name = "instill", parent = "sim-large", files = { train = train_file(dir) },
      seed = 4, hyperparameters = { n_epochs = 2, learning_rate = 5e-5, lora_r = 64 }, run_id = "abcdef012345",
      key = "finetune:sim-large:instill" },
      { poll_interval = 0.05, on_event = function(e) events[#events + 1] = e end })
    assert.are.equal("ix-abcdef01-instill", r.model)
    assert.are.equal(2, #r.metrics.epochs)
    assert.are.equal(4, r.metrics.hyperparameters.seed)
    assert.are.equal(2, r.metrics.hyperparameters.n_epochs)
    assert.truthy(events[1]:find("epoch 1/2", 1, true), events[1])
    local cfg = require("cjson").decode(util.read_file(r.output .. "/adapter_config.json"))
    assert.are.equal(64, cfg.r)
    local listed = assert(c:models())
    assert.are.equal("sim-large", listed[2].parent)
    assert.are.equal(r.output, listed[2].root)
    local resp = assert(c:chat({ model = r.model, messages = { { role = "user", content = "hi" } } }))
    assert.are.equal(r.model, resp.model)
    assert.are.equal(1, s.counts["POST /v1/load_lora_adapter"])
    -- a second stage continues the first: --from its adapter, on the same base model
    local r2 = finetune.run(p, { name = "itrained_all_100", parent = r.model, from = r,
      files = { train = train_file(dir .. "/b") }, seed = 4, run_id = "abcdef012345", key = "k2" },
      { poll_interval = 0.05 })
    assert.truthy(util.read_file(r2.job.dir .. "/command.log") ~= nil)
    local st = require("cjson").decode(util.read_file(r2.output .. "/introspect_subject.json"))
    assert.are.equal(2, #st.chain)
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("loading errors are one line naming the adapter and the path", function()
    local _, c = vllm()
    local ok, err = command.load_adapter(c, "ix-x", "/nonexistent/adapter")
    assert.is_nil(ok)
    assert.truthy(err:find("ix%-x") and err:find("/nonexistent/adapter", 1, true), err)
    assert.truthy(err:find("No adapter found", 1, true), err)
    assert.is_nil(err:find("\n"), err)
    local _, off = vllm({ runtime_lora = false })
    ok, err = command.load_adapter(off, "ix-x", "/tmp")
    assert.is_nil(ok)
    assert.truthy(err:find("VLLM_ALLOW_RUNTIME_LORA_UPDATING=True", 1, true), err)
  end)
end)

describe("paper.lua --backend=local", function()
  local server
  setup(function() server = standins.start("vllm", {}) end)
  teardown(function() server:stop() end)

  local function run(extra, env)
    local out = P.tmpdir()
    local text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\" %s", ARGS, out, CMD,
      extra or ""), "INTROSPECT_LOCAL_BASE_URL=" .. server.url .. " " .. (env or ""))
    return text, code, out
  end

  it("runs two stages (instill, then the curricula on top) with the subject's pattern", function()
    local text, code, out = run("--curricula=all_100")
    assert.are.equal(0, code, text)
    local r = P.read_json(out .. "/summary.json").models["sim-large"]
    assert.is_true(r.learned_vs_target.r > 0.6, text)
    assert.is_true(r.reports.instilled.slope > r.reports.base.slope + 0.2, text)
    local m = P.read_json(out .. "/manifest.json")
    local n = 0
    for _ in pairs(m.fine_tunes) do n = n + 1 end
    assert.are.equal(2, n)
    os.execute("rm -rf '" .. out .. "'")
  end)

  it("a settings file with an unknown stage or key is one line, before anything is written", function()
    local dir = P.tmpdir()
    util.mkdir_p(dir)
    assert(util.write_file_atomic(dir .. "/bad.lua", "return { instil = { n_epochs = 3 } }"))
    local text, code, out = run("--finetune-settings=" .. dir .. "/bad.lua")
    assert.are.equal(1, code, text)
    assert.truthy(text:find("unknown stage 'instil'", 1, true), text)
    assert.is_false(util.file_exists(out))
    assert(util.write_file_atomic(dir .. "/key.lua", "return { instill = { n_epoch = 3 } }"))
    text, code = run("--finetune-settings=" .. dir .. "/key.lua")
    assert.are.equal(1, code, text)
    assert.truthy(text:find("unknown setting 'n_epoch'", 1, true), text)
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("settings reach the command per stage", function()
    local dir = P.tmpdir()
    util.mkdir_p(dir)
    assert(util.write_file_atomic(dir .. "/s.lua",
      "return { instill = { n_epochs = 3, lora_r = 32 }, itrained_all_100 = { n_epochs = 5 } }"))
    local text, code, out = run("--curricula=all_100 --finetune-settings=" .. dir .. "/s.lua")
    assert.are.equal(0, code, text)
    assert.truthy(util.read_file(out .. "/finetune/sim-large_instill/settings.json"):find('"lora_r":32', 1, true))
    local m = P.read_json(out .. "/manifest.json")
    assert.are.equal(32, m.finetune_settings.instill.lora_r)
    for name, ft in pairs(m.fine_tunes) do
      assert.are.equal(name:match("^instill") and 3 or 5, ft.hyperparameters.n_epochs)
    end
    os.execute("rm -rf '" .. dir .. "' '" .. out .. "'")
  end)

  it("a command that exits non-zero, or writes no metrics, is one line; a re-run keeps what was done", function()
    local text, code, out = run("", "STANDIN_FINETUNE_FAIL=exit")
    assert.are.equal(1, code, text)
    local line = text:match("paper%.lua: ([^\n]*)")
    assert.truthy(line:find("exit status 1", 1, true) and line:find("CUDA out of memory", 1, true), line)
    text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\"", ARGS, out, CMD),
      "INTROSPECT_LOCAL_BASE_URL=" .. server.url .. " STANDIN_FINETUNE_FAIL=nometrics")
    assert.are.equal(1, code, text)
    line = text:match("paper%.lua: ([^\n]*)")
    assert.truthy(line:find("wrote no metrics file", 1, true), line)
    -- the stimuli and the failed stage's log are kept; the fixed command finishes the run
    assert.is_true(util.file_exists(out .. "/instill_20_prefs.jsonl"))
    text, code = P.run(string.format("%s --backend=local --out=%s --finetune-command=\"%s\"", ARGS, out, CMD),
      "INTROSPECT_LOCAL_BASE_URL=" .. server.url)
    assert.are.equal(0, code, text)
    os.execute("rm -rf '" .. out .. "'")
  end)
end)

describe("declared backend capabilities", function()
  it("are checked before anything is sent: --batch on a backend without a Batch API is one line", function()
    local out = P.tmpdir()
    local text, code = P.run(ARGS .. " --backend=local --batch --out=" .. out .. " --finetune-command=true")
    assert.are.equal(1, code, text)
    assert.truthy(text:find("backend local has no Batch API: leave out --batch", 1, true), text)
    local text2, code2 = P.run(ARGS .. " --backend=local --out=" .. out .. "2")
    assert.are.equal(1, code2, text2)
    assert.truthy(text2:find("fine-tunes through --finetune-command", 1, true), text2)
    os.execute("rm -rf '" .. out .. "' '" .. out .. "2'")
  end)
end)

describe("a resumed --backend=local run", function()
  it("loads its recorded adapters again into a vLLM that restarted, without training again", function()
    local a = standins.start("vllm", {})
    local out = P.tmpdir()
    local cmd = string.format("%s --backend=local --curricula=all_100 --out=%s --finetune-command=\"%s\"", ARGS,
      out, CMD)
    local text, code = P.run(cmd, "INTROSPECT_LOCAL_BASE_URL=" .. a.url)
    a:stop()
    assert.are.equal(0, code, text)
    local log = util.read_file(out .. "/finetune/sim-large_instill/command.log")
    local b = standins.start("vllm", {})
    text, code = P.run(cmd, "INTROSPECT_LOCAL_BASE_URL=" .. b.url)
    local loads = b:requests("^POST /v1/load_lora_adapter")
    b:stop()
    assert.are.equal(0, code, text)
    assert.are.equal(2, loads)
    assert.are.equal(log, util.read_file(out .. "/finetune/sim-large_instill/command.log"))
    os.execute("rm -rf '" .. out .. "'")
  end)
end)
