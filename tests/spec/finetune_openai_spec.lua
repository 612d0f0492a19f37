-- The provider-neutral fine-tuning interface (introspect.client.finetune) with its OpenAI adapter,
-- and the OpenAI client's fail-safes, against the OpenAI stand-in (tests/servers/openai_standin.lua:
-- the wind-down refusal, insufficient_quota, a connection dropped after a job or batch was
-- accepted, an enqueued-token limit, shutdown dates), in process.
local cjson = require("cjson")
local S = require("sim_support")
local sim = require("introspect.sim")
local openai = require("introspect.client.openai")
local finetune = require("introspect.client.finetune")
local cost = require("introspect.client.cost")
local standin_mod = require("servers.openai_standin")

local function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  os.execute("mkdir -p " .. p)
  return p
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

-- A client on a stand-in, in process (no sleeping between polls).
local function setup(opts)
  local s = standin_mod.new(opts)
  local c = openai.new({ transport = sim.transport(s), base_url = "http://standin.invalid/v1", api_key = "sk-test",
    sleep = function() end })
  return s, c
end

-- A memory state with the run directory's get/set.
local function memstate()
  local t = { data = {} }
  function t:get(k) return self.data[k] end
  function t:set(k, v) self.data[k] = v end
  return t
end

local function stage_files(dir)
  local contexts = S.contexts(10)
  local text = S.choice_file(contexts, S.weights(contexts, 1), 10, 2)
  return { train = write(dir .. "/instill.jsonl", text) }
end

local function stage(dir, extra)
  local st = { name = "instill", parent = "sim-large", files = stage_files(dir), seed = 4,
    hyperparameters = { n_epochs = 2 }, suffix = "instill", run_id = "run0123",
    key = "finetune:sim-large:instill" }
  for k, v in pairs(extra or {}) do st[k] = v end
  return st
end

describe("finetune (OpenAI adapter)", function()
  it("runs a stage: uploads, creates with seed, suffix, hyperparameters, metadata; names the model", function()
    local s, c = setup()
    local p = finetune.provider("openai", { client = c })
    local state = memstate()
    local statuses = {}
    local r = finetune.run(p, stage(tmpdir()), { state = state, poll_interval = 0,
      on_status = function(snap) statuses[#statuses + 1] = snap.status end })
    assert.truthy(r.model:match("^ft:sim%-large:"), r.model)
    assert.are.equal("succeeded", statuses[#statuses])
    assert.are.equal(2, r.hyperparameters.n_epochs)
    local job = s.api.jobs[r.job.id]
    assert.are.equal(4, job.seed)
    assert.are.equal("instill", job.suffix)
    assert.are.equal("run0123", job.metadata.introspect_run)
    -- recorded: a second run returns the result without a request
    local before = s.api.request_count
    assert.are.equal(r.model, finetune.run(p, stage(tmpdir()), { state = state }).model)
    assert.are.equal(before, s.api.request_count)
  end)

  it("refuses an unknown hyperparameter by stage and name before sending anything", function()
    local s, c = setup()
    local p = finetune.provider("openai", { client = c })
    local ok, err = pcall(finetune.run, p, stage(tmpdir(), { hyperparameters = { lora_r = 64 } }), {})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("stage 'instill'", 1, true), err)
    assert.truthy(tostring(err):find("'lora_r'", 1, true), err)
    assert.are.equal(0, s.api.request_count)
  end)

  it("a refused fine-tune is one line naming the wind-down and the alternatives, before any upload", function()
    local s, c = setup({ refuse_finetune = true })
    local p = finetune.provider("openai", { client = c })
    local ok, err = pcall(finetune.run, p, stage(tmpdir()), {})
    assert.is_false(ok)
    err = tostring(err)
    assert.is_nil(err:find("\n"), err)
    assert.truthy(err:find("winding down", 1, true), err)
    assert.truthy(err:find("6 January 2027", 1, true), err)
    assert.truthy(err:find("--backend=together", 1, true) and err:find("--backend=local", 1, true), err)
    assert.is_nil(s.counts["POST /v1/files"])
    assert.are.equal(1, s.counts["POST /v1/fine_tuning/jobs"])
  end)

  it("a connection dropped after the job was accepted leaves exactly one job, and the run continues with it", function()
    local s, c = setup({ drop_after_create = { jobs = 1 } })
    local p = finetune.provider("openai", { client = c })
    local r = finetune.run(p, stage(tmpdir()), { poll_interval = 0 })
    assert.truthy(r.model)
    assert.are.equal(1, #s.api.job_list)
    assert.are.equal(r.job.id, s.api.job_list[1])
    -- preflight (1) + the creation whose response was lost (1); never a second creation
    assert.are.equal(2, s.counts["POST /v1/fine_tuning/jobs"])
  end)

  it("a job created just before a crash is found by its metadata, not created again", function()
    local s, c = setup()
    local p = finetune.provider("openai", { client = c })
    local dir = tmpdir()
    local st = stage(dir)
    assert(p:create(st, p:prepare(st)))   -- created, then the process 'died' before recording it
    local r = finetune.run(finetune.provider("openai", { client = c }), stage(dir), { poll_interval = 0 })
    assert.truthy(r.model)
    assert.are.equal(1, #s.api.job_list)
  end)

  it("insufficient_quota stops a phase within one request, with a message", function()
    local s, c = setup({ insufficient_quota = true })
    local bodies = {}
    for i = 1, 20 do
      bodies[i] = { model = "sim-large", messages = { { role = "user", content = "q " .. i } },
        max_completion_tokens = 5 }
    end
    local ok, err = pcall(c.chat_many, c, bodies)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("quota", 1, true), err)
    assert.is_nil(tostring(err):find("\n"), err)
    assert.are.equal(1, s.counts["POST /v1/chat/completions"])
  end)

  it("a 10,000-line batch phase under a small enqueued-token limit is split, joined, with the same results", function()
    local bodies = {}
    for i = 1, 10000 do
      bodies[i] = { model = "sim-large", messages = { { role = "user", content = "Say a number: " .. i } },
        max_completion_tokens = 5, seed = 5, temperature = 1 }
    end
    local _, whole = setup()
    local ref = assert(whole:batch_run(bodies, { poll_interval = 0 }))
    local s, c = setup({ enqueued_token_limit = 40000 })
    local entries, info = c:batch_run(bodies, { poll_interval = 0, enqueued_token_limit = 40000 })
    assert.truthy(entries, tostring(info))
    assert.is_true(info.chunks > 1)
    assert.are.equal(info.chunks, s.counts["POST /v1/batches"])
    for i = 1, #bodies, 997 do
      assert.is_nil(entries[i].error)
      assert.are.same(ref[i].response.choices[1].message.content, entries[i].response.choices[1].message.content)
    end
    -- a limit the client does not know: the API fails the batch, the client splits it and goes on
    local s2, c2 = setup({ enqueued_token_limit = 40000 })
    local small = {}
    for i = 1, 2000 do small[i] = bodies[i] end
    local e2, info2 = c2:batch_run(small, { poll_interval = 0 })
    assert.truthy(e2, tostring(info2))
    assert.is_true((info2.split or 0) >= 1)
    assert.is_nil(e2[1].error)
    assert.is_nil(e2[2000].error)
    assert.is_true(s2.counts["POST /v1/batches"] >= 3)
  end)

  it("a batch whose creation response was lost is found by its input file, not created twice", function()
    local s, c = setup({ drop_after_create = { batches = 1 } })
    local bodies = {}
    for i = 1, 5 do bodies[i] = { model = "sim-large", messages = { { role = "user", content = "b " .. i } } } end
    local entries = assert(c:batch_run(bodies, { poll_interval = 0 }))
    assert.is_nil(entries[5].error)
    assert.are.equal(1, #s.api.batch_list)
  end)

  it("a null cached_tokens counts as 0", function()
    local usage = cjson.decode('{"prompt_tokens": 1000, "completion_tokens": 10, '
      .. '"prompt_tokens_details": {"cached_tokens": null}}')
    local with_zero = cost.of_usage("gpt-4o-mini-2024-07-18", { prompt_tokens = 1000, completion_tokens = 10,
      prompt_tokens_details = { cached_tokens = 0 } })
    assert.are.equal(with_zero, cost.of_usage("gpt-4o-mini-2024-07-18", usage))
    local m = cost.meter()
    m:add_usage("gpt-4o-mini-2024-07-18", cjson.decode('{"prompt_tokens": 5, "completion_tokens": null, '
      .. '"prompt_tokens_details": null}'))
    assert.are.equal(5, m.input_tokens)
  end)

  it("warns of a base model's shutdown_date", function()
    local _, c = setup({ shutdown_dates = { ["sim-large"] = "2027-01-14", ["sim-small"] = "2026-01-01" } })
    local lines = assert(c:shutdown_warnings({ "sim-large", "sim-small" }, { today = "2026-12-02",
      until_date = "2027-03-01" }))
    assert.are.equal(2, #lines)
    assert.truthy(lines[1]:find("sim-large shuts down on 2027-01-14", 1, true), lines[1])
    assert.truthy(lines[2]:find("sim-small has shut down", 1, true), lines[2])
    assert.are.same({}, c:shutdown_warnings({ "sim-large" }, { today = "2026-12-02", until_date = "2027-01-01" }))
  end)
end)

describe("finetune settings files", function()
  it("reads per-stage settings and names an unknown stage or key in one line", function()
    local dir = tmpdir()
    local good = write(dir .. "/s.lua", 'return { ["*"] = { n_epochs = 3 }, instill = { batch_size = 32 } }')
    local set = assert(finetune.load_settings(good, { stages = { "instill", "first_50" },
      keys = { n_epochs = true, batch_size = true } }))
    assert.are.same({ n_epochs = 3, batch_size = 32 }, finetune.settings_for(set, "instill"))
    assert.are.same({ n_epochs = 1 }, finetune.settings_for(set, "first_50", { n_epochs = 1 }))
    local bad_stage = write(dir .. "/b.lua", 'return { instil = { n_epochs = 3 } }')
    local r, err = finetune.load_settings(bad_stage, { stages = { "instill" } })
    assert.is_nil(r)
    assert.truthy(err:find("unknown stage 'instil'", 1, true), err)
    assert.truthy(err:find(bad_stage, 1, true), err)
    local bad_key = write(dir .. "/k.json", '{"instill": {"n_epoch": 3}}')
    r, err = finetune.load_settings(bad_key, { stages = { "instill" }, keys = { n_epochs = true } })
    assert.is_nil(r)
    assert.truthy(err:find("stage 'instill': unknown setting 'n_epoch'", 1, true), err)
  end)
end)
