-- introspect.worker (a Lua chunk in a thread and state of its own, fed by message queues) and
-- the simulated subject's threaded transport built on it (introspect.sim.thread): the same
-- answers as the in-process transport, in the same order.
local worker = require "introspect.worker"
local cjson = require "cjson"

local ECHO = [[
local channel, prefix = ...
while true do
  local id, a, b = channel:recv()
  if not id then return end
  if a == "fail" then error("asked to fail") end
  channel:send(id, prefix .. a, b and b:upper() or nil)
end
]]

describe("introspect.worker", function()
  it("runs a chunk in its own state and answers in order", function()
    local w = assert(worker.start(ECHO, "echo:"))
    for i = 1, 200 do assert(w:send(i, tostring(i), i % 2 == 0 and ("x\0y" .. i) or nil)) end
    for i = 1, 200 do
      local id, a, b = w:recv()
      assert.equal(i, id)
      assert.equal("echo:" .. i, a)
      if i % 2 == 0 then assert.equal("X\0Y" .. i, b) else assert.is_nil(b) end
    end
    local none, why = w:recv(0.05)
    assert.is_nil(none)
    assert.equal("timeout", why)
    w:close()
    w:close()   -- harmless twice
    assert.has_error(function() w:send(1, "x") end, "worker: closed")
  end)

  it("loads the library in the new state (package.path, cpath and preloaded bindings)", function()
    local w = assert(worker.start([[
      local channel = ...
      local id = channel:recv()
      channel:send(id, require("introspect.sys").sha256("abc"):sub(1, 8) .. " " .. type(require("cjson").encode))
    ]]))
    w:send(1, "go")
    local _, a = w:recv()
    assert.equal("ba7816bf function", a)
    w:close()
  end)

  it("says when the chunk has ended, with its error", function()
    local w = assert(worker.start(ECHO, ""))
    w:send(1, "fail")
    local id, why = w:recv()
    assert.is_nil(id)
    assert.equal("closed", why)
    assert.matches("asked to fail", w:error())
    local ok, serr = w:send(2, "again")
    assert.is_nil(ok)
    assert.equal("closed", serr)
    w:close()
  end)

  it("stops a chunk waiting for messages when closed or collected: no thread is left", function()
    -- threads of this process (Linux: one entry per thread in /proc/self/task)
    local function threads()
      local p = io.popen("ls /proc/" .. require("introspect.sys").getpid() .. "/task | wc -l")
      local n = tonumber(p:read("a"))
      p:close()
      return n
    end
    collectgarbage(); collectgarbage()
    local before = threads()
    local w = assert(worker.start(ECHO, ""))
    assert.equal(before + 1, threads())
    w:close()
    assert.is_nil(w:error())
    assert.equal(before, threads())
    do for _ = 1, 3 do assert(worker.start(ECHO, "")) end end
    assert.equal(before + 3, threads())
    collectgarbage(); collectgarbage()
    assert.equal(before, threads())
  end)

  it("wakes the chunk only when it waits: sends to a busy chunk cost no wake", function()
    local sys = require "introspect.sys"
    local go = os.tmpname()
    os.remove(go)
    -- "busy" keeps the chunk working (not receiving) until the file `go` exists
    local w = assert(worker.start([[
      local channel, go = ...
      local sys = require("introspect.sys")
      while true do
        local id, a = channel:recv()
        if not id then return end
        if a == "busy" then
          local t = sys.now() + 30
          repeat local f = io.open(go) if f then f:close() break end until sys.now() >= t
        end
        channel:send(id, a)
      end
    ]], go))
    -- until_waiting(): returns once the chunk waits for a message (raises after 30 s)
    local function until_waiting()
      local t = sys.now() + 30
      while not w:waiting() do
        assert(sys.now() < t, "the chunk never went to wait")
        sys.sleep(0.005)
      end
    end
    until_waiting()
    assert.equal(0, w:wakes())
    w:send(1, "busy")
    assert.equal(1, w:wakes())
    assert.is_false(w:waiting())
    for i = 2, 101 do w:send(i, "x") end   -- the chunk is woken or busy: no wake
    local f = assert(io.open(go, "w"))
    f:close()
    for i = 1, 101 do assert.equal(i, (w:recv())) end
    assert.equal(1, w:wakes())
    until_waiting()   -- waiting again: one send, one wake
    w:send(102, "x")
    assert.equal(102, (w:recv()))
    assert.equal(2, w:wakes())
    os.remove(go)
    w:close()
    assert.has_error(function() w:wakes() end, "worker: closed")
    assert.has_error(function() w:waiting() end, "worker: closed")
  end)

  it("reports a syntax error of the chunk", function()
    local w = assert(worker.start("this is not Lua", ""))
    local id, why = w:recv()
    assert.is_nil(id)
    assert.equal("closed", why)
    assert.matches("syntax error", w:error())
    w:close()
  end)
end)

describe("introspect.sim.thread", function()
  package.path = "tests/?.lua;" .. package.path
  local S = require "sim_support"
  local sim = require "introspect.sim"
  local thread = require "introspect.sim.thread"

  -- study-style chat requests over a few contexts, as the client sends them
  local function requests(n)
    local contexts, out = S.contexts(4), {}
    for c = 1, 4 do
      local t = S.trials(contexts[c], n // 4, 10 + c)
      for j = 1, n // 4 do
        out[#out + 1] = { method = "POST", url = "http://sim.invalid/v1/chat/completions",
          headers = { ["Content-Type"] = "application/json", Authorization = "Bearer k" },
          body = cjson.encode({ model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
            messages = { { role = "system", content = S.SYSTEM },
              { role = "user", content = S.decision(contexts[c], t, j) } } }) }
      end
    end
    return out
  end

  it("answers as the in-process transport does, in the same order", function()
    local reqs = requests(400)
    local opts = { seed = 3 }
    local a = sim.transport(opts):perform(reqs)
    local tt = thread.new(opts)
    local order = {}
    local b = tt:perform(reqs, { on_result = function(i) order[#order + 1] = i end })
    tt:close()
    assert.equal(#a, #b)
    local bodies = 0
    for i = 1, #a do
      assert.equal(a[i].status, b[i].status)
      assert.equal(math.type(a[i].status), math.type(b[i].status))
      assert.equal(S.timeless(a[i].body), S.timeless(b[i].body))   -- but for "created"
      assert.equal(a[i].error, b[i].error)
      assert.equal(a[i].attempts, b[i].attempts)
      if a[i].body then bodies = bodies + 1 end
    end
    assert.is_true(bodies > 300)
    assert.equal(#reqs, #order)
  end)

  it("answers each request of a batch by its own method, url and headers, shared tables or not", function()
    -- both transports reuse a call's shape while method, url and headers table stay the same
    local good = { ["Content-Type"] = "application/json", Authorization = "Bearer k" }
    local bad = { ["Content-Type"] = "application/json", Authorization = "Bearer other" }
    local chat = requests(4)[1].body
    local base = "http://sim.invalid/v1"
    local reqs = {
      { method = "POST", url = base .. "/chat/completions", headers = good, body = chat },
      { method = "GET", url = base .. "/models", headers = good },
      { method = "POST", url = base .. "/chat/completions", headers = bad, body = chat },
      { method = "POST", url = base .. "/chat/completions", headers = good, body = chat },
      { method = "POST", url = base .. "/models", headers = good, body = chat },
      { method = "get", url = base .. "/models", headers = { authorization = "Bearer k" } },
    }
    local tt = thread.new({ key = "k" })
    for _, out in ipairs({ sim.transport({ key = "k" }):perform(reqs), tt:perform(reqs) }) do
      local statuses = {}
      for i, r in ipairs(out) do statuses[i] = r.status end
      assert.same({ 200, 200, 401, 200, 404, 200 }, statuses)
      assert.matches('"object":"chat.completion"', out[1].body, 1, true)
      assert.matches('"object":"list"', out[2].body, 1, true)
      assert.matches("invalid_api_key", out[3].body, 1, true)
      assert.matches('"object":"chat.completion"', out[4].body, 1, true)
      assert.matches('"object":"list"', out[6].body, 1, true)
    end
    tt:close()
  end)

  it("tops the window up REFILL requests at a time, not one per answer", function()
    -- a stand-in for the worker that answers at once, through an in-process api, and logs how
    -- many requests were in flight at each send
    local api, queue, log = sim.api({}), {}, {}
    local fake = { sent = 0, received = 0 }
    function fake.send(_, id, meta, body)
      log[#log + 1] = fake.sent - fake.received
      fake.sent = fake.sent + 1
      local call = cjson.decode(meta)
      call.body = body
      local res = api:handle(call)
      queue[#queue + 1] = { id, cjson.encode({ status = res.status, headers = res.headers }), res.body }
      return true
    end
    function fake.recv()
      fake.received = fake.received + 1
      return table.unpack(table.remove(queue, 1))
    end
    local tt = thread.new({})
    tt.worker:close()
    tt.worker = fake
    local out = tt:perform(requests(1000))
    assert.equal(200, out[1000].status)
    local W, R = thread.WINDOW, thread.REFILL
    assert.is_true(R > 1 and R < W)
    assert.equal(1000, #log)
    for k = 1, W do assert.equal(k - 1, log[k]) end   -- the first window at once
    -- then runs of R sends, each begun when W - R requests were in flight
    for k = W + 1, 1000 do
      assert.equal(W - R + (k - W - 1) % R, log[k], "send " .. k)
    end
  end)

  it("retries simulated faults as the in-process transport does", function()
    local tt = thread.new({ seed = 5, faults = "429=0.1,reset=0.1" }, { max_retries = 4 })
    local retried, ok = 0, 0
    local out = tt:perform(requests(200), { progress = function(p) retried = p.retries end })
    tt:close()
    for _, r in ipairs(out) do if r.status == 200 then ok = ok + 1 end end
    assert.is_true(retried > 10, "retries: " .. retried)
    assert.is_true(ok >= 195, "answered: " .. ok)
  end)

  it("stops when on_result says so and cancels the rest", function()
    local tt = thread.new({})
    local seen = 0
    local out = tt:perform(requests(40), { on_result = function() seen = seen + 1; return seen < 5 end })
    tt:close()
    assert.equal(5, seen)
    assert.equal("cancelled", out[40].error)
  end)

  it("takes plain options only, and is chosen by backend.client when threaded", function()
    assert.is_nil(thread.options_source({ clock = function() return 0 end }))
    assert.is_false(thread.available({ profiles = { { seed = 1 } } }))
    assert.equal('return {["job_duration"]=0x1.8p+0,["seed"]=3}',
      thread.options_source({ seed = 3, job_duration = 1.5 }))
    local backend = require "introspect.client.backend"
    local c = backend.client("sim", { threaded = true })
    assert.equal("introspect.sim.thread", getmetatable(c.transport).__name)
    c.transport:close()
    c = backend.client("sim", { threaded = true, sim = { clock = function() return 0 end } })
    assert.equal("introspect.sim.transport", getmetatable(c.transport).__name)
  end)
end)
