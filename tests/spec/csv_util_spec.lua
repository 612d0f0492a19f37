-- introspect.core.csv and introspect.core.util.
local csv = require "introspect.core.csv"
local util = require "introspect.core.util"

local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

describe("csv", function()
  it("parses quoted fields with commas, quotes and newlines", function()
    local rows = assert(csv.parse('a,"b,c","d""e"\n"multi\nline",2,\n', "t"))
    assert.same({ { "a", "b,c", 'd"e' }, { "multi\nline", "2", "" } }, rows)
  end)

  it("handles CRLF and a BOM", function()
    local rows = assert(csv.parse("\239\187\191x,y\r\n1,2\r\n", "t"))
    assert.same({ { "x", "y" }, { "1", "2" } }, rows)
  end)

  it("reads a file keyed by header and names file and line in errors", function()
    local p = tmpfile("scenario,b1\n1,0.5\n2,abc\n")
    local t = assert(csv.read(p, { required = { "scenario", "b1" } }))
    assert.equal("0.5", t.rows[1].b1)
    assert.equal(0.5, csv.number(t, 1, "b1"))
    local ok, err = pcall(csv.number, t, 2, "b1")
    assert.is_false(ok)
    assert.matches(p:gsub("%p", "%%%0") .. ":3: column 'b1' is not a number: 'abc'", err)
    local _, merr = csv.read(p, { required = { "b2" } })
    assert.matches(":1: missing column 'b2'", merr)
    os.remove(p)
  end)

  it("reports ragged rows and bad quoting with the line", function()
    local p = tmpfile("a,b\n1,2\n3\n")
    local _, err = csv.read(p)
    assert.matches(":3: 1 fields, header has 2", err)
    os.remove(p)
    local _, qerr = csv.parse('a\n"open\n', "q.csv")
    assert.matches("q.csv:2: unterminated quoted field", qerr)
  end)

  it("round-trips through format", function()
    local text = csv.format({ "h1", "h2" }, { { "x,y", 'q"' }, { 1, 2.5 } })
    assert.equal('h1,h2\n"x,y","q"""\n1,2.5\n', text)
    assert.same({ { "h1", "h2" }, { "x,y", 'q"' }, { "1", "2.5" } }, csv.parse(text, "t"))
  end)

  it("rejects an empty file", function()
    local p = tmpfile("")
    local _, err = csv.read(p)
    assert.matches("empty file", err)
    os.remove(p)
  end)
end)

describe("util.check_options", function()
  local spec = { model = "string", n = "integer", t = "number", mode = { "a", "b" }, any = "any" }
  it("accepts known options of the right type", function()
    local o = { model = "m", n = 2, t = 1, mode = "a", any = {} }
    assert.equal(o, util.check_options("f", o, spec))
  end)
  it("rejects unknown keys by name", function()
    assert.has_error(function() util.check_options("openai.chat", { modle = "x" }, spec) end,
      nil)
    local ok, err = pcall(util.check_options, "openai.chat", { modle = "x" }, spec)
    assert.is_false(ok)
    assert.matches("openai.chat: unknown option 'modle'", err)
  end)
  it("rejects wrong types and values", function()
    local _, err = pcall(util.check_options, "f", { n = 1.5 }, spec)
    assert.matches("option 'n' must be integer, got float", err)
    _, err = pcall(util.check_options, "f", { mode = "c" }, spec)
    assert.matches("option 'mode' must be one of a|b, got c", err)
  end)
end)

describe("util.write_file_atomic", function()
  it("writes the whole content and leaves no temporary file", function()
    local p = os.tmpname()
    assert(util.write_file_atomic(p, "hello"))
    assert.equal("hello", util.read_file(p))
    assert.is_false(util.file_exists(p .. ".tmp"))
    os.remove(p)
  end)
  it("returns nil, err for an unwritable place", function()
    local ok, err = util.write_file_atomic("/nonexistent-dir/x", "y")
    assert.is_nil(ok)
    assert.is_string(err)
  end)
end)

describe("util.lines", function()
  it("gives the lines gmatch gives over text .. '\\n', one '\\r' before each '\\n' dropped", function()
    local samples = { "", "a", "a\n", "a\r\n", "\n\n", "a\r\nb\r", "\r", "x\n\ny\r\n\r\n", "\r\n",
      "a\r\r\nb", '{"k": 1}\n{"k": 2}\n', string.rep("line\n", 300) .. "tail" }
    for _, text in ipairs(samples) do
      local want, got = {}, {}
      for line in (text .. "\n"):gmatch("(.-)\r?\n") do want[#want + 1] = line end
      for line in util.lines(text) do got[#got + 1] = line end
      assert.same(want, got)
    end
  end)
end)

describe("util.mkdir_p", function()
  local base
  before_each(function()
    base = os.tmpname()
    os.remove(base)
  end)
  after_each(function() util.remove_tree(base) end)

  -- whether path is a directory
  local function is_dir(path)
    local d = io.open(path .. "/.", "rb")
    if d then d:close() end
    return d ~= nil
  end

  it("creates every missing parent, and an existing directory is fine", function()
    assert.is_true(util.mkdir_p(base .. "/a//b/c/"))
    assert.is_true(is_dir(base .. "/a/b/c"))
    assert.is_true(util.mkdir_p(base .. "/a/b/c"))
    assert.is_true(util.mkdir_p(base .. "/a/b/d"))
    assert.is_true(is_dir(base .. "/a/b/d"))
  end)

  it("refuses naming the path and the cause when a file is in the way", function()
    assert.is_true(util.mkdir_p(base))
    local f = assert(io.open(base .. "/file", "w"))
    f:close()
    local ok, err = util.mkdir_p(base .. "/file/x/y")
    assert.is_nil(ok)
    assert.matches("cannot create directory " .. base .. "/file/x/y", err, 1, true)
    assert.matches("File exists", err, 1, true)
  end)

  it("sys.mkdir makes one directory and reports an existing one as an error", function()
    local sys = require "introspect.sys"
    assert.is_true(sys.mkdir(base))
    local ok, err = sys.mkdir(base)
    assert.is_nil(ok)
    assert.matches("File exists", err, 1, true)
    assert.is_nil(sys.mkdir(base .. "/no/such"))
  end)
end)

describe("util.memo", function()
  it("gives f's value, calling f once per short string and every time for a long one", function()
    local calls = 0
    local f = util.memo(function(s) calls = calls + 1 return "<" .. s .. ">" end)
    assert.equal("<a>", f("a"))
    assert.equal("<a>", f("a"))
    assert.equal(1, calls)
    local long = string.rep("x", 65)
    assert.equal("<" .. long .. ">", f(long))
    f(long)
    assert.equal(3, calls)
    for i = 1, 1000 do f("k" .. i) end   -- the 1000-entry bound: forgotten all at once
    calls = 0
    f("a")
    assert.equal(1, calls)
  end)
end)
