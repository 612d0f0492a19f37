-- `introspect serve`: the simulated subject over HTTP (libmicrohttpd), checked with curl(1)
-- against the same API in process.
local skip = require "lib.skip"
local cjson = require("cjson")
local S = require("sim_support")
local sim = require("introspect.sim")

local bin = os.getenv("INTROSPECT_BIN")
local have_curl = os.execute("command -v curl >/dev/null 2>&1")

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- start(args) -> server {pid=, url=, proc=} with the banner lines read
local function start(args)
  local proc = io.popen("sh -c 'echo $$; exec \"$0\" serve --port=0 \"$@\" 2>&1' " .. shell_quote(bin)
    .. " " .. (args or ""), "r")
  local pid = proc:read("l")
  local banner = proc:read("l") or ""
  local url = banner:match("(http://%S+)")
  assert(url, "serve printed no URL: " .. banner)
  proc:read("l")
  local server = { pid = pid, url = url, proc = proc }
  -- never leave a server behind when a test fails (pclose would wait for it forever)
  finally(function() if not server.stopped then os.execute("kill -KILL " .. pid) proc:close() end end)
  return server
end

-- stop(server, signal) -> output after the banner, exit code
local function stop(server, signal)
  os.execute("kill -" .. (signal or "INT") .. " " .. server.pid)
  server.stopped = true
  local rest = server.proc:read("a")
  local _, _, code = server.proc:close()
  return rest, code
end

local tmp = os.tmpname()

-- curl(args) -> exit code, body, http status
local function curl(args)
  local cmd = "curl -s -o " .. tmp .. " -w '%{http_code}' " .. args
  local p = io.popen(cmd, "r")
  local status = p:read("a")
  local _, _, code = p:close()
  local f = io.open(tmp, "rb")
  local body = f and f:read("a") or ""
  if f then f:close() end
  return code, body, tonumber(status)
end

local function post_json(url, path, doc, extra)
  local f = assert(io.open(tmp .. ".req", "wb"))
  f:write(type(doc) == "string" and doc or cjson.encode(doc))
  f:close()
  return curl("-X POST -H 'Content-Type: application/json' " .. (extra or "") .. " --data-binary @"
    .. tmp .. ".req " .. shell_quote(url .. path))
end

local function upload(url, purpose, content)
  local f = assert(io.open(tmp .. ".jsonl", "wb"))
  f:write(content)
  f:close()
  return curl("-F purpose=" .. purpose .. " -F " .. shell_quote("file=@" .. tmp .. ".jsonl;filename=t.jsonl") .. " "
    .. shell_quote(url .. "/files"))
end

local function without_ids(doc)
  doc.id, doc.created = nil, nil
  return doc
end

describe("introspect serve", function()
  if not bin or not have_curl then
    it("is skipped", function()
      skip.missing("serve_spec", "needs INTROSPECT_BIN (the host) and curl(1) (Debian package curl)")
    end)
    return
  end
  local contexts = S.contexts(12)

  it("serves the same answers as the in-process API, fine-tuning included", function()
    local server = start()
    local local_api = S.client(sim.api({}))
    local code, body, status = curl(server.url .. "/models")
    assert.equal(0, code)
    assert.equal(200, status)
    assert.equal("list", cjson.decode(body).object)
    -- chat: identical bodies apart from id and created
    local t = S.trials(contexts[1], 5, 3)
    for j = 1, 5 do
      local req = { model = "sim-large", temperature = 0, logprobs = true, top_logprobs = 2,
        messages = { { role = "system", content = S.SYSTEM },
          { role = "user", content = S.decision(contexts[1], t, j) } } }
      local _, http_body = post_json(server.url, "/chat/completions", req)
      local _, direct = local_api("POST", "/v1/chat/completions", req)
      assert.same(without_ids(direct), without_ids(cjson.decode(http_body)))
    end
    -- the same fine-tune over HTTP and in process gives the same model
    local targets = S.weights(contexts, 4)
    local text = S.choice_file(contexts, targets, 15, 8)
    local _, fbody, fstatus = upload(server.url, "fine-tune", text)
    assert.equal(200, fstatus)
    local file = cjson.decode(fbody)
    local _, jbody = post_json(server.url, "/fine_tuning/jobs", { model = "sim-small", training_file = file.id,
      suffix = "same", seed = 4 })
    local job = cjson.decode(jbody)
    local _, rbody = curl(shell_quote(server.url .. "/fine_tuning/jobs/" .. job.id))
    local done = cjson.decode(rbody)
    assert.equal("succeeded", done.status)
    local mb, ct = S.multipart("fine-tune", "t.jsonl", text)
    local _, lfile = local_api("POST", "/v1/files", mb, { ["content-type"] = ct })
    local _, ljob = local_api("POST", "/v1/fine_tuning/jobs", { model = "sim-small", training_file = lfile.id,
      suffix = "same", seed = 4 })
    local _, ldone = local_api("GET", "/v1/fine_tuning/jobs/" .. ljob.id)
    assert.equal(done.fine_tuned_model, ldone.fine_tuned_model)
    local t2 = S.trials(contexts[2], 5, 9)
    for j = 1, 5 do
      for _, p in ipairs({ S.decision(contexts[2], t2, j), S.report(contexts[2], t2, j) }) do
        local req = { model = done.fine_tuned_model, temperature = 0, logprobs = true,
          messages = { { role = "user", content = p } } }
        local _, http_body = post_json(server.url, "/chat/completions", req)
        local _, direct = local_api("POST", "/v1/chat/completions", req)
        assert.same(without_ids(direct), without_ids(cjson.decode(http_body)))
      end
    end
    local rest, exit = stop(server)
    assert.matches("stopped", rest)
    assert.equal(0, exit)
  end)

  it("answers bad and oversized requests with OpenAI-style errors", function()
    local server = start("--max-body=2000 --key=sk-serve-test-key-000")
    local _, body, status = post_json(server.url, "/chat/completions", "{oops",
      "-H 'Authorization: Bearer sk-serve-test-key-000'")
    assert.equal(400, status)
    assert.equal("invalid_request_error", cjson.decode(body).error.type)
    _, body, status = post_json(server.url, "/chat/completions", { model = "sim-large" })
    assert.equal(401, status)
    assert.is_nil(body:find("sk-serve", 1, true))
    _, body, status = post_json(server.url, "/chat/completions", string.rep("x", 5000),
      "-H 'Authorization: Bearer sk-serve-test-key-000'")
    assert.equal(413, status)
    assert.equal("request_too_large", cjson.decode(body).error.code)
    local _, code = stop(server)
    assert.equal(0, code)
  end)

  it("injects connection resets, truncated bodies and latency", function()
    local req = { model = "sim-large", messages = { { role = "user", content = "hi" } } }
    local server = start("--faults=reset=1")
    local code = post_json(server.url, "/chat/completions", req)
    assert.equal(52, code)   -- curl: empty reply from server
    stop(server)
    server = start("--faults=truncate=1")
    code = post_json(server.url, "/chat/completions", req)
    assert.equal(18, code)   -- curl: partial file
    stop(server)
    server = start("--faults=latency=300ms,latency_sigma=0")
    local started = os.time()
    local p = io.popen("curl -s -o /dev/null -w '%{time_total}' -X POST -H 'Content-Type: application/json' -d "
      .. shell_quote(cjson.encode(req)) .. " " .. shell_quote(server.url .. "/chat/completions"))
    local seconds = tonumber(p:read("a"))
    p:close()
    assert.is_true(seconds >= 0.25 and seconds < 5, "latency " .. tostring(seconds) .. " " .. started)
    -- other endpoints are not delayed by default (scope=chat)
    local _, _, status = curl(shell_quote(server.url .. "/models"))
    assert.equal(200, status)
    stop(server)
  end)

  it("finds its fine-tuned models again after kill -9 with --state-dir", function()
    local dir = os.tmpname()
    os.remove(dir)
    local server = start("--state-dir=" .. shell_quote(dir))
    local text = S.choice_file(contexts, S.weights(contexts, 5), 5, 3)
    local _, fbody = upload(server.url, "fine-tune", text)
    local _, jbody = post_json(server.url, "/fine_tuning/jobs", { model = "sim-large",
      training_file = cjson.decode(fbody).id })
    local job = cjson.decode(jbody)
    stop(server, "KILL")
    server = start("--state-dir=" .. shell_quote(dir))
    local _, body, status = curl(shell_quote(server.url .. "/fine_tuning/jobs/" .. job.id))
    assert.equal(200, status)
    local again = cjson.decode(body)
    assert.equal("succeeded", again.status)
    local _, cbody, cstatus = post_json(server.url, "/chat/completions", { model = again.fine_tuned_model,
      messages = { { role = "user", content = S.decision(contexts[1], S.trials(contexts[1], 1, 1), 1) } } })
    assert.equal(200, cstatus)
    assert.matches("^[AB]$", cjson.decode(cbody).choices[1].message.content)
    stop(server)
    os.execute("rm -rf " .. shell_quote(dir))
  end)

  it("rejects bad options with a message", function()
    local p = io.popen(shell_quote(bin) .. " serve --faults=boom=1 2>&1", "r")
    local out = p:read("a")
    local _, _, code = p:close()
    assert.matches("unknown key 'boom'", out)
    assert.is_not.equal(0, code)
  end)
end)

os.remove(tmp)
