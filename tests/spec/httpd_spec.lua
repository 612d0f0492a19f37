-- introspect.httpd: the libmicrohttpd binding, driven by curl(1) in the background while the
-- spec pumps server:wait() and answers from Lua.
local skip = require "lib.skip"
local ok_httpd, httpd = pcall(require, "introspect.httpd")
local have_curl = os.execute("command -v curl >/dev/null 2>&1")

local made = {}
local function tmpfile()
  local p = os.tmpname()
  made[#made + 1] = p
  return p
end

-- curl_bg(args) -> done_file, out_file: runs curl in the background; done_file gets the
-- exit code and HTTP status when it finishes.
local function curl_bg(args)
  local out, done = tmpfile(), tmpfile()
  os.remove(done)
  os.execute("(curl -s -o " .. out .. " -w '%{http_code}' " .. args .. " > " .. done .. ".tmp; echo \" $?\" >> "
    .. done .. ".tmp; mv " .. done .. ".tmp " .. done .. ") >/dev/null 2>&1 &")
  return done, out
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- pump(server, done, handler) -> status, curl exit code: answers requests until curl finishes
local function pump(server, done, handler)
  local deadline = os.time() + 10
  while os.time() <= deadline do
    for _, req in ipairs(server:wait(0.05)) do handler(req) end
    local d = read(done)
    if d then
      local status, code = d:match("^(%d+) (%d+)")
      return tonumber(status), tonumber(code)
    end
  end
  error("curl did not finish")
end

describe("introspect.httpd", function()
  if not ok_httpd or not have_curl then
    it("needs introspect.httpd and curl(1)", function()
      skip.missing("httpd_spec", "introspect.httpd or curl(1) (Debian package curl) not available")
    end)
    return
  end

  it("hands requests to Lua and sends the answers", function()
    local server = assert(httpd.new({ port = 0 }))
    local port = server:port()
    assert.is_true(port > 0)
    assert.equal("introspect.httpd.Server (port " .. port .. ")", tostring(server))
    assert.same({}, server:wait(0))
    local done, out = curl_bg("-H 'X-Test: yes' --data-binary 'hello body' 'http://127.0.0.1:" .. port
      .. "/some/path?q=1&r=%20'")
    local seen
    local status, code = pump(server, done, function(req)
      seen = req
      assert.is_true(server:respond(req.id, 201, { ["content-type"] = "text/plain", ["x-answer"] = "42" },
        "answer:" .. req.body))
      local again, err = server:respond(req.id, 200, {}, "twice")
      assert.is_nil(again)
      assert.matches("gone", err)
    end)
    assert.equal(0, code)
    assert.equal(201, status)
    assert.equal("answer:hello body", read(out))
    assert.equal("POST", seen.method)
    assert.equal("/some/path?q=1&r=%20", seen.path)
    assert.equal("yes", seen.headers["x-test"])
    assert.equal("hello body", seen.body)
    -- the next request reuses the first one's record: nothing of the first may show through
    done, out = curl_bg("--data-binary 'hi' http://127.0.0.1:" .. port .. "/p")
    status = pump(server, done, function(req)
      seen = req
      server:respond(req.id, 200, {}, "ok")
    end)
    assert.equal(200, status)
    assert.equal("ok", read(out))
    assert.same({ "/p", "hi" }, { seen.path, seen.body })
    assert.is_nil(seen.headers["x-test"])
    local stats = server:stats()
    assert.equal(2, stats.served)
    server:close()
    server:close()
    assert.equal("introspect.httpd.Server (closed)", tostring(server))
    assert.has_error(function() server:wait(0) end, "attempt to use a closed httpd server")
  end)

  it("refuses oversized bodies with a 413 before Lua sees them", function()
    local server = assert(httpd.new({ port = 0, max_body = 16 }))
    local done, out = curl_bg("--data-binary '" .. string.rep("x", 100) .. "' http://127.0.0.1:"
      .. server:port() .. "/")
    local handed = 0
    local status = pump(server, done, function() handed = handed + 1 end)
    assert.equal(413, status)
    assert.equal(0, handed)
    assert.matches("request_too_large", read(out))
    assert.equal(1, server:stats().rejected)
    server:close()
  end)

  it("parks a request left unanswered across waits without spinning, then sends its answer", function()
    local server = assert(httpd.new({ port = 0 }))
    local done, out = curl_bg("http://127.0.0.1:" .. server:port() .. "/held")
    local held
    local deadline = os.time() + 10
    while not held and os.time() <= deadline do held = server:wait(0.05)[1] end
    assert.is_not_nil(held)
    -- held for 0.5 s of waits: the parked connection must not make wait return early or busy-loop
    local cpu0, turns, t0 = os.clock(), 0, httpd.now()
    while httpd.now() - t0 < 0.5 do
      assert.same({}, server:wait(0.1))
      turns = turns + 1
    end
    assert.is_true(turns <= 6, "wait returned early " .. turns .. " times")
    assert.is_true(os.clock() - cpu0 < 0.2, "waits spun: " .. (os.clock() - cpu0) .. " s CPU")
    assert.is_nil(read(done))
    assert.is_true(server:respond(held.id, 200, {}, "late"))
    local status, code = pump(server, done, function() end)
    assert.equal(0, code)
    assert.equal(200, status)
    assert.equal("late", read(out))
    -- a request still held when the server closes gets its connection closed
    done = curl_bg("http://127.0.0.1:" .. server:port() .. "/dropped")
    held = nil
    deadline = os.time() + 10
    while not held and os.time() <= deadline do held = server:wait(0.05)[1] end
    assert.is_not_nil(held)
    server:wait(0.05)
    server:close()
    deadline = os.time() + 10
    while not read(done) and os.time() <= deadline do os.execute("sleep 0.05") end
    assert.equal(52, tonumber(read(done):match(" (%d+)")))
  end)

  it("closes the connection or truncates the body on request", function()
    local server = assert(httpd.new({ port = 0 }))
    local done = curl_bg("http://127.0.0.1:" .. server:port() .. "/")
    local _, code = pump(server, done, function(req) server:respond(req.id, 200, {}, "x", "reset") end)
    assert.equal(52, code)
    done = curl_bg("http://127.0.0.1:" .. server:port() .. "/")
    _, code = pump(server, done, function(req)
      server:respond(req.id, 200, {}, string.rep("y", 10000), "truncate")
    end)
    assert.equal(18, code)
    server:close()
  end)

  it("rejects bad options and arguments", function()
    assert.has_error(function() httpd.new({ prot = 1 }) end,
      "httpd.new: unknown option 'prot' (known: host, port, max_body, connection_limit, timeout, backlog)")
    assert.has_error(function() httpd.new({ port = 70000 }) end)
    local server = assert(httpd.new({ port = 0 }))
    assert.has_error(function() server:respond(1, 99, {}, "") end)
    assert.has_error(function() server:wait(-1) end)
    local r, err = server:respond(12345, 200, {}, "")
    assert.is_nil(r)
    assert.matches("gone", err)
    local s2, err2 = httpd.new({ port = server:port() })
    assert.is_nil(s2)
    assert.matches("cannot listen", err2)
    server:close()
  end)
end)

for _, p in ipairs(made) do os.remove(p) end
