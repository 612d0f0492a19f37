-- introspect.sys (clocks, locks, isatty) and introspect.core.progress (live and plain lines).
local sys = require "introspect.sys"
local progress = require "introspect.core.progress"

describe("sys", function()
  it("has a monotonic clock that advances across a sleep", function()
    local t0 = sys.now()
    sys.sleep(0.02)
    local dt = sys.now() - t0
    assert.is_true(dt >= 0.019, "slept " .. dt)
    assert.is_true(dt < 1)
  end)

  it("reports wall and CPU time", function()
    assert.is_true(math.abs(sys.time() - os.time()) < 2)
    assert.is_true(sys.cputime() > 0)
  end)

  it("takes an exclusive lock that a second taker cannot get", function()
    local path = os.tmpname()
    local lock = assert(sys.lock(path))
    local again, err, pid = sys.lock(path)
    assert.is_nil(again)
    assert.matches("held by another process", err)
    assert.equal(sys.getpid(), pid)
    assert.matches("held", tostring(lock))
    lock:release()
    assert.matches("released", tostring(lock))
    local third = assert(sys.lock(path))
    third:release()
    os.remove(path)
  end)

  it("returns nil, err for a lock it cannot create", function()
    local lock, err = sys.lock("/nonexistent-dir/run.lock")
    assert.is_nil(lock)
    assert.matches("/nonexistent%-dir/run.lock: No such file", err)
  end)

  it("rejects misuse with argument errors", function()
    assert.has_error(function() sys.sleep(-1) end)
    assert.has_error(function() sys.isatty("x") end)
    assert.has_error(function() sys.kill(0, "TERM") end)
  end)

  it("computes SHA-256 (FIPS 180-4 vectors, padding across a block boundary)", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sys.sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sys.sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      sys.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.are.equal("41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3",
      sys.sha256(string.rep("a", 1000)))
  end)

  it("hashes every length up to 300 bytes, and several strings as their concatenation", function()
    -- the SHA-256 of the hex digests of the first 0..300 bytes of "abcdefghij" x 31 (Python's
    -- hashlib); whole blocks take the CPU's SHA extensions where it has them, tails the C code
    local text, digests = string.rep("abcdefghij", 31), {}
    for n = 0, 300 do
      local s = text:sub(1, n)
      digests[#digests + 1] = sys.sha256(s)
      local a, b = n // 3, 2 * n // 3
      assert.are.equal(digests[#digests], sys.sha256(s:sub(1, a), s:sub(a + 1, b), s:sub(b + 1)))
    end
    assert.are.equal("8718b04afb664bfa49a4607ed353e86499815c2ca6cf19b2808fa6578b28e88e",
      sys.sha256(table.concat(digests)))
    assert.are.equal(sys.sha256("x12:y"), sys.sha256("x", 12, ":", "y"))   -- numbers as `..` writes them
    assert.has_error(function() sys.sha256() end)
    assert.has_error(function() sys.sha256("a", {}) end)
  end)

  it("converts bytes to lower-case hex and back", function()
    assert.are.equal("0001ff616263", sys.hex("\0\1\255abc"))
    assert.are.equal("", sys.hex(""))
    assert.are.equal("\0\1\255abc", sys.unhex("0001ff616263"))
    assert.are.equal("", sys.unhex(""))
    assert.is_nil(sys.unhex("abc"))      -- odd length
    assert.is_nil(sys.unhex("0F"))       -- upper case
    assert.is_nil(sys.unhex("0g"))
    local all = {}
    for i = 0, 255 do all[#all + 1] = string.char(i) end
    all = table.concat(all)
    assert.are.equal(all, sys.unhex(sys.hex(all)))
  end)

  it("says a pipe is not a terminal", function()
    local p = io.popen("true")
    assert.is_false(sys.isatty(p))
    p:close()
  end)
end)

describe("progress", function()
  local function sink()
    local buf = {}
    return { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = s end return self end,
      flush = function() end, text = function() return table.concat(buf) end }
  end

  it("prints timestamped plain lines with done/total, rate and ETA", function()
    local t = 0
    local out = sink()
    local p = progress.new({ out = out, tty = false, interval = 5, clock = function() return t end })
    local ph = p:phase("reports instilled", 100)
    t = 10
    ph:update({ done = 50, retries = 2 })
    t = 12
    ph:update({ done = 60 }) -- within the interval: not printed
    t = 20
    ph:update({ done = 100, cost = 1.5 })
    ph:finish()
    local text = out.text()
    assert.matches("%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ reports instilled%s+0/100", text)
    assert.matches("50/100  5/s  ETA 10s  2 retries", text)
    assert.not_matches("60/100", text)
    assert.matches("100/100  5/s  2 retries  %$1%.50  done in 20s", text)
  end)

  it("rewrites one line in place on a terminal", function()
    local t = 0
    local out = sink()
    local p = progress.new({ out = out, tty = true, clock = function() return t end })
    local ph = p:phase("choices", 10)
    t = 1
    ph:update({ add = 5, state = "running" })
    ph:finish()
    local text = out.text()
    assert.matches("^\r\27%[Kchoices", text)
    assert.matches("\r\27%[Kchoices%s+5/10  5/s  ETA 1s  running", text)
    assert.matches("done in 1s\n$", text)
  end)

  it("formats durations", function()
    assert.equal("42s", progress.format_duration(42))
    assert.equal("2m05s", progress.format_duration(125))
    assert.equal("1h01m", progress.format_duration(3660))
    assert.equal("?", progress.format_duration(math.huge))
  end)
end)
