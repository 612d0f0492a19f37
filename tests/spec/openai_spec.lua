-- introspect.client.openai against tests/servers/fake_openai.py (started and stopped here).
local skip = require "lib.skip"
local openai = require("introspect.client.openai")
local store = require("introspect.client.store")
local cost = require("introspect.client.cost")
local apierror = require("introspect.client.apierror")
local fake = require("servers.fake")

local server

local tmpdb, cleanup = fake.tmpdb, fake.cleanup_db

local function client(opts)
  local o = { api_key = fake.KEY, base_url = server.base_url, sleep = function() end,
    pool = { max_retries = 2, backoff_base = 0.01, concurrency = 8 } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return openai.new(o)
end

local function chat_body(content, extra)
  local b = { model = "gpt-4o-mini-2024-07-18", messages = { { role = "user", content = content } } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return b
end

local function sent()
  return server:stats().by_path["/v1/chat/completions"] or 0
end

local function file_text(p)
  local t = {}
  for _, s in ipairs({ "", "-wal" }) do
    local f = io.open(p .. s, "rb")
    if f then t[#t + 1] = f:read("a") f:close() end
  end
  return table.concat(t)
end

describe("introspect.client.openai", function()
  setup(function() server = fake.start("--slow 0.1") end)
  teardown(function() if server then server:stop() end end)

  it("reads its configuration from the environment and never shows the key", function()
    local c = openai.new({ env = { OPENAI_API_KEY = fake.KEY, OPENAI_BASE_URL = server.base_url .. "/",
      OPENAI_ORG_ID = "org-1", OPENAI_PROJECT_ID = "proj-1" } })
    assert.are.equal(server.base_url, c.base_url)
    assert.are.equal("org-1", c.organization)
    assert.are.equal("proj-1", c.project)
    assert.is_nil(tostring(c):find(fake.KEY, 1, true))
    for _, v in pairs(c) do assert.are_not.equal(fake.KEY, v) end
    assert.truthy(c:models())
    assert.has_error(function() openai.new({ env = {} }) end,
      "https://api.openai.com/v1 needs an API key: set the environment variable OPENAI_API_KEY or pass api_key=")
    assert.has_error(function() openai.new({ api_key = "k", base_url = "ftp://x" }) end)
    assert.has_error(function() openai.new({ api_kye = "k" }) end)
  end)

  it("sends chat completions with n, seed, logprobs and records system_fingerprint", function()
    local c = client()
    local r, e = c:chat(chat_body("hello", { n = 2, seed = 3, temperature = 0, logprobs = true,
      top_logprobs = 2, max_completion_tokens = 20 }))
    assert.truthy(r, tostring(e))
    assert.are.equal(2, #r.choices)
    assert.are.equal("reply 1 to: hello", r.choices[2].message.content)
    assert.are.equal(2, #r.choices[1].logprobs.content[1].top_logprobs)
    assert.are.equal("fp_fake_3", e.system_fingerprint)
    assert.has_error(function() c:chat(chat_body("x", { temprature = 1 })) end)
  end)

  it("keeps repeated samples apart, caches successes across runs, never errors", function()
    local p = tmpdb()
    local bodies = {}
    for i = 1, 5 do bodies[i] = chat_body("same question", { temperature = 1 }) end
    bodies[6] = chat_body("bad fault=400")
    local before = sent()
    local st = assert(store.open(p))
    local entries, summary = client({ store = st }):chat_many(bodies)
    for i = 1, 5 do
      assert.are.equal(i - 1, entries[i].sample)
      assert.is_false(entries[i].cached)
    end
    assert.are.equal(400, entries[6].error.status)
    assert.are.equal(6, sent() - before)
    assert.are.same({ 6, 0, 6, 1 }, { summary.total, summary.cached, summary.sent, summary.errors })
    -- committed when the phase returns (the store batches commits): another connection sees them
    local db = assert(require("introspect.sqlite").open(p, { readonly = true }))
    assert.are.equal(6, db:rows("SELECT count(*) AS n FROM responses")[1].n)
    db:close()
    st:close()
    -- a second run: the five successes come from the store, the error is sent again
    st = assert(store.open(p))
    before = sent()
    entries, summary = client({ store = st }):chat_many(bodies)
    assert.are.equal(1, sent() - before)
    assert.are.equal(5, summary.cached)
    for i = 1, 5 do
      assert.is_true(entries[i].cached)
      assert.are.equal("reply 0 to: same question", entries[i].response.choices[1].message.content)
    end
    assert.are.equal(5, st:stats().hits)
    st:close()
    cleanup(p)
  end)

  it("stops the phase when a response cannot be stored", function()
    local failing = { lookup = function() return nil end,
      record = function() return nil, "store: /full/disk.sqlite: database or disk is full" end }
    local c = client({ store = failing })
    local ok, err = pcall(c.chat_many, c, { chat_body("unstorable") })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("database or disk is full", 1, true), tostring(err))
  end)

  it("fails 401 at once with a clear message and no key anywhere", function()
    local p = tmpdb()
    local st = assert(store.open(p))
    local wrong = "sk-proj-WRONG0123456789abcdef"
    local c = client({ api_key = wrong, store = st })
    local before = sent()
    local r, err = c:chat(chat_body("hi"))
    assert.is_nil(r)
    assert.are.equal(1, sent() - before)
    assert.is_true(apierror.is(err))
    assert.are.equal(401, err.status)
    assert.are.equal("invalid_api_key", err.code)
    assert.truthy(err.request_id)
    local msg = tostring(err)
    assert.truthy(msg:find("Incorrect API key provided", 1, true), msg)
    assert.is_nil(msg:find(wrong, 1, true))
    assert.is_nil(tostring(c):find(wrong, 1, true))
    st:close()
    assert.is_nil(file_text(p):find(wrong, 1, true))
    assert.is_nil(file_text(p):find("WRONG0123", 1, true))
    cleanup(p)
  end)

  it("re-sends a malformed response once and reports one that stays malformed", function()
    local c = client()
    local entries = c:chat_many({ chat_body("m1 fault=malformed*1"), chat_body("m2 fault=malformed") })
    assert.is_nil(entries[1].error)
    assert.are.equal("invalid_response", entries[2].error.type)
    assert.truthy(tostring(entries[2].error):find("malformed chat completion", 1, true))
  end)

  it("retries 429/5xx/resets through the transport and respects its cap", function()
    local c = client()
    local before = sent()
    local entries = c:chat_many({ chat_body("r1 fault=429*1"), chat_body("r2 fault=502*2"),
      chat_body("r3 fault=500") })
    assert.is_nil(entries[1].error)
    assert.are.equal(2, entries[1].attempts)
    assert.is_nil(entries[2].error)
    assert.are.equal(500, entries[3].error.status)
    assert.are.equal(3, entries[3].attempts)
    assert.are.equal(2 + 3 + 3, sent() - before)
  end)

  it("uploads, lists, downloads and deletes files (multipart)", function()
    local c = client()
    local content = '{"messages": [{"role": "user", "content": "a\\r\\n--b"}]}\n'
    local f = assert(c:files_upload({ purpose = "fine-tune", content = content, filename = "train.jsonl" }))
    assert.are.equal("train.jsonl", f.filename)
    assert.are.equal(#content, f.bytes)
    assert.are.equal(content, c:files_content(f.id))
    local found = false
    for _, x in ipairs(assert(c:files_list({ purpose = "fine-tune" }))) do found = found or x.id == f.id end
    assert.is_true(found)
    assert.is_true(assert(c:files_delete(f.id)).deleted)
    local _, err = c:files_content(f.id)
    assert.are.equal(404, err.status)
    local _, bad = c:files_upload({ purpose = "batch", content = "not json\n" })
    assert.are.equal(400, bad.status)
    assert.truthy(bad.message:find("line 1", 1, true))
  end)

  it("creates, waits for and lists fine-tuning jobs, recording hyperparameters and losses", function()
    local meter = cost.meter()
    local c = client({ meter = meter })
    local f = assert(c:files_upload({ purpose = "fine-tune", content = '{"messages": []}\n' }))
    local job = assert(c:fine_tune_create({ model = "gpt-4o-mini-2024-07-18", training_file = f.id,
      validation_file = f.id, n_epochs = 3, learning_rate_multiplier = 2, seed = 7, suffix = "instill" }))
    assert.are.equal("validating_files", job.status)
    local streamed = {}
    local done, info = c:fine_tune_wait(job.id, { poll_interval = 0,
      on_event = function(ev) streamed[#streamed + 1] = ev.message end })
    assert.are.equal("succeeded", done.status)
    assert.truthy(done.fine_tuned_model:find("^ft:gpt%-4o%-mini"))
    assert.are.same({ n_epochs = 3, batch_size = 1, learning_rate_multiplier = 2 }, info.hyperparameters)
    assert.are.equal(4, #info.losses)
    assert.are.equal(1, info.losses[1].step)
    assert.are.equal(0.25, info.losses[4].train_loss)
    assert.are.equal("Created fine-tuning job", streamed[1])
    assert.are.equal("The job has successfully completed", streamed[#streamed])
    assert.are.near(1234 * 3.00 / 1e6, meter.total, 1e-12)
    local jobs = assert(c:fine_tune_list({ limit = 10 }))
    assert.is_true(#jobs >= 1)
    local events = assert(c:fine_tune_events(job.id, { limit = 2 }))
    assert.are.equal(2, #events)
    local job2 = assert(c:fine_tune_create({ model = "gpt-4o-mini-2024-07-18", training_file = f.id }))
    -- a waiter's own time limit (the fake job needs several polls; timeout 0 stops at the first)
    local none, terr = c:fine_tune_wait(job2.id, { poll_interval = 0, timeout = 0 })
    assert.is_nil(none)
    assert.are.equal("timeout", terr.type)
    assert.are.equal("cancelled", assert(c:fine_tune_cancel(job2.id)).status)
    local bad_file = assert(c:files_upload({ purpose = "fine-tune", content = '{"x": "fault=ftfail"}\n' }))
    local bad_job = assert(c:fine_tune_create({ model = "gpt-4o-mini-2024-07-18", training_file = bad_file.id }))
    local failed, finfo = c:fine_tune_wait(bad_job.id, { poll_interval = 0 })
    assert.are.equal("failed", failed.status)
    assert.are.equal("fine_tune_failed", finfo.error.type)
    assert.are.equal("invalid_training_file", finfo.error.code)
    assert.truthy(tostring(finfo.error):find("too few examples", 1, true))
    local _, err = c:fine_tune_create({ model = "m", training_file = "file-nope" })
    assert.are.equal(400, err.status)
    assert.has_error(function() c:fine_tune_create({ model = "m", training_file = "f", n_epochs = "3" }) end)
  end)

  it("runs batches, joins results by custom_id and resubmits failed and expired lines", function()
    local p = tmpdb()
    local st = assert(store.open(p))
    local c = client({ store = st })
    local bodies = {}
    for i = 1, 5 do bodies[i] = chat_body("batch item " .. i) end
    bodies[2] = chat_body("batch item 2 fault=batchfail*1")
    bodies[4] = chat_body("batch item 4 fault=expire*1")
    local statuses = {}
    local entries, info = c:batch_run(bodies, { poll_interval = 0,
      custom_ids = { "a", "b", "c", "d", "e" }, on_status = function(b) statuses[#statuses + 1] = b.status end })
    assert.truthy(entries, tostring(info))
    assert.are.equal(2, #info.batches)
    assert.are.equal(2, info.resubmitted)
    for i, e in ipairs(entries) do
      assert.is_nil(e.error, tostring(e.error))
      assert.are.equal(("abcde"):sub(i, i), e.custom_id)
      assert.are.equal("reply 0 to: " .. bodies[i].messages[1].content, e.response.choices[1].message.content)
    end
    assert.are.same({ "in_progress", "expired", "in_progress", "completed" }, statuses)
    -- batch results went to the store: the same chats now come from the cache
    local before = sent()
    local again = c:chat_many(bodies)
    for _, e in ipairs(again) do assert.is_true(e.cached) end
    assert.are.equal(0, sent() - before)
    st:close()
    cleanup(p)
    -- a batch that fails validation is reported with the server's reason
    local none, ferr = client():batch_run({ chat_body("bad batch fault=batchinvalid") }, { poll_interval = 0 })
    assert.is_nil(none)
    assert.are.equal("batch_failed", ferr.type)
    assert.truthy(tostring(ferr):find("scripted invalid input (input line 1)", 1, true), tostring(ferr))
    -- the pieces
    local text, ids = openai.batch_input({ chat_body("x") }, { custom_ids = { "only" } })
    assert.are.same({ "only" }, ids)
    assert.truthy(text:find('^{"custom_id": "only", "method": "POST", "url": "/v1/chat/completions"'))
    assert.has_error(function()
      openai.batch_input({ chat_body("x"), chat_body("y") }, { custom_ids = { "d", "d" } })
    end)
    assert.has_error(function() openai.batch_join('{"custom_id": "a"}\nnot json\n', "") end,
      "openai.batch_join: output file line 2: not a batch result "
        .. "(Expected value but found invalid token at character 1)")
  end)

  it("lists models and probes capabilities", function()
    local c = client()
    local models = assert(c:models())
    assert.are.equal("fake-model", models[1].id)
    local caps = assert(c:probe("fake-model"))
    assert.are.same({ logprobs = true, top_logprobs = true, seed = true, system_fingerprint = true,
      deterministic = true }, caps)
    local plain = fake.start("--no-logprobs --no-seed")
    local ok, caps2 = pcall(function()
      return assert(client({ base_url = plain.base_url }):probe("fake-model"))
    end)
    plain:stop()
    assert.is_true(ok, tostring(caps2))
    assert.is_false(caps2.logprobs)
    assert.is_false(caps2.system_fingerprint)
  end)

  it("spreads requests over replicas and sets aside one that keeps failing", function()
    local c = client({ base_urls = { "http://127.0.0.1:1/v1", server.base_url }, set_aside_after = 2,
      pool = { max_retries = 0, concurrency = 4 } })
    local bodies = {}
    for i = 1, 8 do bodies[i] = chat_body("replica " .. i) end
    local entries = c:chat_many(bodies)
    for _, e in ipairs(entries) do assert.is_nil(e.error, tostring(e.error)) end
    local dead = c.endpoints[1]
    assert.are.equal(1, dead.set_aside)
    assert.is_true(dead.requests >= 2)
    -- while set aside, everything goes to the live replica
    local before = c.endpoints[2].requests
    c:chat_many({ chat_body("after 1"), chat_body("after 2") })
    assert.are.equal(before + 2, c.endpoints[2].requests)
  end)

  it("stops a phase that could exceed max_cost before sending anything", function()
    local meter = cost.meter({ max_cost = 0.0001 })
    local c = client({ meter = meter })
    local bodies = {}
    for i = 1, 10 do bodies[i] = chat_body("budget " .. i, { max_completion_tokens = 100 }) end
    local before = sent()
    local ok, err = pcall(c.chat_many, c, bodies)
    assert.is_false(ok)
    assert.are.equal("budget_exceeded", err.type)
    assert.are.equal(0, sent() - before)
    local e = c:chat_many({ bodies[1] })[1]
    assert.is_nil(e.error)
    assert.is_true(meter.total > 0 and meter.total <= 0.0001)
    assert.are.equal(0, meter.reserved)
  end)

  it("takes named backend profiles and URL lists", function()
    local c = openai.new({ profile = server.base_url .. "," .. server.base_url .. "/", api_key = fake.KEY })
    assert.are.equal(2, #c.endpoints)
    assert.truthy(c:models())
    assert.has_error(function() openai.new({ profile = "nope" }) end,
      "openai.new: unknown backend 'nope' (known: local, openai, sim, together, or a base URL)")
    local backend = require("introspect.client.backend")
    backend.define("fake-test", { base_urls = { server.base_url }, api_key = fake.KEY, pool = { concurrency = 2 } })
    assert.are.equal("fake-model", assert(openai.new({ profile = "fake-test" }):models())[1].id)
    backend.profiles["fake-test"] = nil
    assert.has_error(function() backend.define("x", { base_url = "http://a" }) end)
    local ok_sim = pcall(require, "introspect.sim")
    if ok_sim then
      local sim_client = openai.new({ profile = "sim" })
      local models = assert(sim_client:models())
      assert.truthy(sim_client:chat({ model = models[1].id, messages = { { role = "user", content = "hi" } } }))
    else
      skip.missing("openai_spec", "introspect.sim absent, sim profile not exercised")
    end
  end)

  it("works over any transport object (the client is transport-agnostic)", function()
    local seen
    local transport = { perform = function(_, reqs)
      seen = reqs
      local out = {}
      for i = 1, #reqs do
        out[i] = { status = 200, headers = {}, attempts = 1, time = 0,
          body = '{"choices": [{"message": {"role": "assistant", "content": "canned"}}], "model": "x"}' }
      end
      return out
    end }
    local c = openai.new({ api_key = "sim", base_url = "http://sim.invalid/v1", transport = transport })
    local r = assert(c:chat(chat_body("hi")))
    assert.are.equal("canned", r.choices[1].message.content)
    assert.are.equal("http://sim.invalid/v1/chat/completions", seen[1].url)
    assert.are.equal("Bearer sim", seen[1].headers.authorization)
    assert.are.equal("application/json", seen[1].headers["content-type"])
  end)

  it("re-uses the stored responses of a run killed mid-way", function()
    local p = tmpdb()
    local bodies = {}
    for i = 1, 24 do bodies[i] = chat_body("killed run " .. i .. " fault=slow") end
    local code = string.format([[
      local openai = require("introspect.client.openai")
      local store = require("introspect.client.store")
      local st = assert(store.open(%q))
      local c = openai.new({ api_key = %q, base_url = %q, store = st, pool = { concurrency = 2 } })
      local bodies = {}
      for i = 1, 24 do
        bodies[i] = { model = "gpt-4o-mini-2024-07-18",
          messages = { { role = "user", content = "killed run " .. i .. " fault=slow" } } }
      end
      c:chat_many(bodies, { on_result = function(i) print(i) io.stdout:flush() end })
    ]], p, fake.KEY, server.base_url)
    local pid, pipe, script = fake.spawn(code)
    for _ = 1, 6 do assert.truthy(pipe:read("l")) end
    fake.kill9(pid)
    pipe:close()
    os.remove(script)
    local st = assert(store.open(p))
    local before = sent()
    local entries, summary = client({ store = st, pool = { concurrency = 24 } }):chat_many(bodies)
    assert.is_true(summary.cached >= 6, "cached " .. summary.cached)
    assert.are.equal(24 - summary.cached, sent() - before)
    for i, e in ipairs(entries) do
      assert.are.equal("reply 0 to: killed run " .. i .. " fault=slow", e.response.choices[1].message.content)
    end
    st:close()
    cleanup(p)
  end)
end)
