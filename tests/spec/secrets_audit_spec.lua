-- Secrets audit: the study run with a recognisable fake API key against `introspect serve --key`
-- (with faults, so errors are stored and retried), with a wrong key (401), with a fine-tune that
-- fails, against a server that echoes the key back in its 401 message and headers, and as a dry
-- run. Afterwards every file of every run directory, the server's log, output and state, and
-- everything the runs printed are searched for the keys and for any 10-character piece of them.
local sys = require "introspect.sys"
local util = require "introspect.core.util"
local support = require "paper_support"

local SMALL, run, tmpdir = support.SMALL, support.run, support.tmpdir
local KEY = "sk-audit-SECRET-4b9f2e7d1c3a5b60e8f7"
local WRONG = "sk-audit-WRONG-93c1aa7e05fd4b2e6d18"
local FRAGMENT = 10

-- fragments(key) -> every substring of FRAGMENT characters
local function fragments(key)
  local out = {}
  for i = 1, #key - FRAGMENT + 1 do out[#out + 1] = key:sub(i, i + FRAGMENT - 1) end
  return out
end

-- leak(text, keys) -> the first fragment of any key found in text, or nil
local function leak(text, keys)
  for _, key in ipairs(keys) do
    for _, piece in ipairs(fragments(key)) do
      if text:find(piece, 1, true) then return piece end
    end
  end
  return nil
end

-- A server that answers every request with a 401 whose message and headers echo the key it was
-- sent, as some APIs and proxies do.
local ECHO_SERVER = [[
local httpd = require "introspect.httpd"
local server = assert(httpd.new({ host = "127.0.0.1", port = 0 }))
io.stdout:write("listening on http://127.0.0.1:", server:port(), "/v1\n")
io.stdout:flush()
while true do
  for _, req in ipairs(server:wait(0.5)) do
    local auth = req.headers.authorization or ""
    local key = auth:match("^Bearer%s+(.*)$") or auth
    server:respond(req.id, 401, { ["content-type"] = "application/json", ["x-echo-authorization"] = auth },
      '{"error": {"message": "Incorrect API key provided: ' .. key .. '. Find your key at '
      .. 'https://example.invalid/keys.", "type": "invalid_request_error", "param": null, '
      .. '"code": "invalid_api_key"}}')
  end
end
]]

local function echo_server()
  local dir = tmpdir()
  util.mkdir_p(dir)
  assert(util.write_file_atomic(dir .. "/echo.lua", ECHO_SERVER))
  local p = io.popen(string.format("'%s' %s/echo.lua >%s/out 2>%s/log & echo $!", support.BIN, dir, dir, dir))
  local pid = tonumber(p:read("l"))
  p:close()
  local deadline = sys.now() + 20
  while sys.now() < deadline do
    local url = (util.read_file(dir .. "/out") or ""):match("listening on (http://%S+)")
    if url then return url, pid, dir end
    sys.sleep(0.02)
  end
  sys.kill(pid, "KILL")
  error("echo server did not start: " .. tostring(util.read_file(dir .. "/log")))
end

describe("secrets audit", function()
  local url, pid, _, server_dir = support.serve("--key=" .. KEY .. " --faults=500=0.03,429=0.03,reset=0.02,seed=5")
  local runs = {}
  local function study(name, args, key)
    local dir = tmpdir()
    local out, code = run(args .. " --out=" .. dir, "OPENAI_API_KEY=" .. key)
    runs[#runs + 1] = { name = name, dir = dir, out = out, code = code }
    return runs[#runs]
  end
  local full = study("full run", SMALL .. " --backend=" .. url .. " --poll-interval=0.05", KEY)
  local wrong = study("wrong key", SMALL .. " --backend=" .. url, WRONG)
  local failing = study("failing fine-tune", "--contexts=2 --models=sim-large --trials=3 --reports=1 --backend="
    .. url .. " --poll-interval=0.05", KEY)
  local dry = study("dry run", SMALL .. " --backend=" .. url .. " --dry-run", KEY)
  sys.kill(pid, "TERM")
  local echo_url, echo_pid, echo_dir = echo_server()
  local echoed = study("echoing server", SMALL .. " --backend=" .. echo_url, KEY)
  sys.kill(echo_pid, "TERM")

  it("ran every path", function()
    assert.equal(0, full.code, full.out)
    assert.equal(0, dry.code, dry.out)
    assert.equal(1, wrong.code, wrong.out)
    assert.matches("401", wrong.out)
    assert.equal(1, failing.code, failing.out)
    assert.matches("fine%-tuning .* failed", failing.out)
    assert.equal(1, echoed.code, echoed.out)
    -- the server did send the key back; the client printed it redacted
    assert.matches("Incorrect API key provided: %[REDACTED%]", echoed.out)
    assert.is_true(support.sqlite_count(full.dir .. "/responses.sqlite") > 0)
  end)

  it("finds neither key, nor any piece of one, in any output, log, store or file", function()
    local files = {}
    for _, r in ipairs(runs) do
      local where = leak(r.out, { KEY, WRONG })
      assert.is_nil(where, r.name .. ": the output contains '" .. tostring(where) .. "'")
      if util.file_exists(r.dir) then
        for _, f in ipairs(support.files(r.dir)) do files[#files + 1] = f end
      end
    end
    for _, d in ipairs({ server_dir, echo_dir }) do
      for _, f in ipairs(support.files(d)) do
        if not f:match("/echo%.lua$") then files[#files + 1] = f end
      end
    end
    assert.is_true(#files > 40, #files .. " files searched")
    local checked = 0
    for _, f in ipairs(files) do
      local text = util.read_file(f) or ""
      if f:match("responses%.sqlite$") then -- the bodies are compressed: search them decoded too
        local st = assert(require("introspect.client.store").open(f))
        local parts = {}
        for _, r in ipairs(assert(st:records())) do
          for _, c in ipairs({ "request", "request_headers", "response", "response_headers", "error" }) do
            parts[#parts + 1] = r[c]
          end
        end
        st:close()
        text = text .. table.concat(parts, "\n")
      end
      local where = leak(text, { KEY, WRONG })
      assert.is_nil(where, f .. " contains '" .. tostring(where) .. "'")
      checked = checked + #text
    end
    -- the search can find what it looks for: the key is in the environment of the runs it checks
    assert.equal(KEY:sub(12, 21), leak("..." .. KEY:sub(12, 21) .. "...", { KEY }))
    print(string.format("\n  secrets audit: %d files, %.1f MB, %d outputs searched", #files, checked / 1e6, #runs))
  end)
end)
