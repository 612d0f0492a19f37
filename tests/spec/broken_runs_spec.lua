-- Broken runs of experiments/paper.lua (small design, simulated subject): a full disk while the
-- store or a CSV is written, a store locked by another process, a run directory from an older
-- version, two runs started in the same directory at once. Each gets a clear message and leaves
-- no corrupted output, and running the command again (with space again, the lock gone) completes
-- with the results of an undisturbed run.
local skip = require "lib.skip"
local cjson = require "cjson"
local sys = require "introspect.sys"
local util = require "introspect.core.util"
local sqlite = require "introspect.sqlite"
local support = require "paper_support"

local SMALL, run, tmpdir = support.SMALL, support.run, support.tmpdir

local function sh(cmd) return os.execute(cmd) == true end

-- csv_names(dir) -> sorted names of the CSV files directly in dir
local function csv_names(dir)
  local names = {}
  for _, f in ipairs(support.files(dir)) do
    local name = f:sub(#dir + 2)
    if name:match("^[^/]+%.csv$") then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

-- Checks that nothing in dir is corrupted: the store passes SQLite's integrity check, the JSON
-- files parse, every CSV present equals the clean run's, no temporary file is left behind.
local function assert_intact(dir, clean_dir)
  local db = assert(sqlite.open(dir .. "/responses.sqlite", { readonly = true }))
  assert.equal("ok", db:rows("PRAGMA integrity_check")[1].integrity_check)
  db:close()
  for _, name in ipairs({ "manifest.json", "state.json" }) do
    local text = util.read_file(dir .. "/" .. name)
    if text then assert.is_true(pcall(cjson.decode, text), name .. " is not valid JSON") end
  end
  for _, name in ipairs(csv_names(dir)) do
    assert.equal(util.read_file(clean_dir .. "/" .. name), util.read_file(dir .. "/" .. name), name)
  end
  for _, f in ipairs(support.files(dir)) do assert.is_nil(f:match("%.tmp$"), f) end
end

-- Checks that dir holds exactly the clean run's CSVs.
local function assert_same_results(dir, clean_dir)
  local names = csv_names(clean_dir)
  assert.is_true(#names >= 10)
  assert.same(names, csv_names(dir))
  for _, name in ipairs(names) do
    assert.equal(util.read_file(clean_dir .. "/" .. name), util.read_file(dir .. "/" .. name), name)
  end
end

-- A clear message: one line naming what went wrong, no Lua traceback.
local function assert_clear(out, ...)
  assert.is_nil(out:find("stack traceback", 1, true), out)
  for _, want in ipairs({ ... }) do assert.is_truthy(out:find(want, 1, true), "'" .. want .. "' in: " .. out) end
end

local clean_dir = tmpdir()
local clean_out, clean_code = run(SMALL .. " --out=" .. clean_dir)

describe("broken runs", function()
  it("a clean run completes (the reference)", function()
    assert.equal(0, clean_code, clean_out)
  end)

  it("a full disk while writing the store, then a CSV: clear messages, nothing corrupted, resumable", function()
    local mnt = tmpdir()
    util.mkdir_p(mnt)
    -- the files a run writes before sampling plus half the clean run's store: the run fills the
    -- disk while storing responses (the store is compressed: a run's stimulus files are larger)
    local store_kib = #(util.read_file(clean_dir .. "/responses.sqlite") or "") // 1024
    assert.is_true(store_kib > 512, "the clean store is " .. store_kib .. " KiB")
    local before_kib = 0
    for _, f in ipairs(support.files(clean_dir)) do
      local name = f:match("[^/]+$")
      if not (name:match("^responses%.sqlite") or name:match("selections") or name:match("weight_reports")
        or name:match("regression") or name:match("^report") or name:match("^summary")) then
        before_kib = before_kib + (#(util.read_file(f) or "") + 4095) // 4096 * 4
      end
    end
    local size = before_kib + store_kib // 2
    if not sh(string.format("mount -t tmpfs -o size=%dk introspect-test %s 2>/dev/null", size, mnt)) then
      os.remove(mnt)
      skip.missing("broken_runs_spec", "cannot mount a tmpfs: the full-disk test did not run",
        { optional = "needs root with mount privileges, which a container may lack" })
      return
    end
    finally(function() sh("umount " .. mnt) os.remove(mnt) end)
    local dir = mnt .. "/run"
    local out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, dir .. "/responses.sqlite", "disk is full")
    assert_intact(dir, clean_dir)
    assert.is_true(sh("mount -o remount,size=64m " .. mnt))
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(0, code, out)
    assert_same_results(dir, clean_dir)

    -- Now the disk fills while the outputs are rewritten: results removed, 40 KiB left.
    for _, name in ipairs(csv_names(dir)) do
      if name:match("selections") or name:match("regression") then os.remove(dir .. "/" .. name) end
    end
    os.remove(dir .. "/summary.json")
    assert.is_true(sh("dd if=/dev/zero of=" .. mnt .. "/filler bs=1k count=$(( $(df -k --output=avail "
      .. mnt .. " | tail -1) - 40 )) 2>/dev/null"))
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, ".csv", "No space left on device")
    assert_intact(dir, clean_dir)
    os.remove(mnt .. "/filler")
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(0, code, out)
    assert_same_results(dir, clean_dir)
  end)

  it("a store locked by another process: a clear message after the busy timeout, then resumable", function()
    local dir = tmpdir()
    util.mkdir_p(dir)
    local held = dir .. ".held"
    local p = io.popen(string.format("'%s' -e \"local db = assert(require('introspect.sqlite').open('%s')) "
      .. "assert(db:exec('BEGIN EXCLUSIVE')) io.open('%s', 'w'):close() require('introspect.sys').sleep(60)\" "
      .. ">/dev/null 2>&1 & echo $!", support.BIN, dir .. "/responses.sqlite", held))
    local locker = tonumber(p:read("l"))
    p:close()
    finally(function() sys.kill(locker, "KILL") os.remove(held) end)
    local deadline = sys.now() + 10
    while not util.file_exists(held) and sys.now() < deadline do sys.sleep(0.02) end
    assert.is_true(util.file_exists(held), "the locking process did not start")
    local out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, dir .. "/responses.sqlite", "database is locked")
    sys.kill(locker, "KILL")
    sys.sleep(0.1)
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(0, code, out)
    assert_same_results(dir, clean_dir)
  end)

  it("a run directory from an older version is refused and left untouched", function()
    local function copy_of_clean()
      local dir = tmpdir()
      assert.is_true(sh(string.format("cp -r '%s' '%s' && rm -f '%s/.lock'", clean_dir, dir, dir)))
      return dir
    end
    -- snapshot(dir) -> path -> SHA-256 of every file but .lock (which names its last holder)
    local function snapshot(dir)
      local t = {}
      for _, f in ipairs(support.files(dir)) do
        if not f:match("/%.lock$") then t[f] = sys.sha256(util.read_file(f)) end
      end
      return t
    end
    -- an older run-directory format
    local dir = copy_of_clean()
    local manifest = support.read_json(dir .. "/manifest.json")
    manifest.format = 0
    assert(util.write_file_atomic(dir .. "/manifest.json", cjson.encode(manifest)))
    local before = snapshot(dir)
    local out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, dir .. "/manifest.json", "format 0")
    assert.same(before, snapshot(dir))
    -- an older store schema
    dir = copy_of_clean()
    local db = assert(sqlite.open(dir .. "/responses.sqlite"))
    assert(db:exec("UPDATE meta SET value = '0' WHERE name = 'schema_version'"))
    db:close()
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, dir .. "/responses.sqlite", "schema version 0")
    -- a manifest cut short (an editor, a copy interrupted)
    dir = copy_of_clean()
    local text = util.read_file(dir .. "/manifest.json")
    assert(util.write_file_atomic(dir .. "/manifest.json", text:sub(1, #text // 2)))
    out, code = run(SMALL .. " --out=" .. dir)
    assert.equal(1, code, out)
    assert_clear(out, dir .. "/manifest.json")
    assert.equal(text:sub(1, #text // 2), util.read_file(dir .. "/manifest.json"))
  end)

  it("two runs started in the same directory at once: one runs, the other is told who holds it", function()
    local dir = tmpdir()
    local base = tmpdir()
    -- fine-tuning jobs that take 0.5 s each keep the first run busy while the second starts
    local cmd = "'%s' experiments/paper.lua %s --sim-job-duration=0.5 --poll-interval=0.05 --out=%s "
      .. ">%s.out 2>&1; echo $? >%s.code"
    -- both started at once; the shell waits for both (no deadline: a slow machine or an
    -- instrumented build only takes longer)
    sh(string.format("(" .. cmd .. ") & (" .. cmd .. ") & wait", support.BIN, SMALL, dir, base .. "1", base .. "1",
      support.BIN, SMALL, dir, base .. "2", base .. "2"))
    local codes = { tonumber(util.read_file(base .. "1.code")), tonumber(util.read_file(base .. "2.code")) }
    local outs = { util.read_file(base .. "1.out"), util.read_file(base .. "2.out") }
    table.sort(codes)
    assert.same({ 0, 1 }, codes, table.concat(outs, "\n----\n"))
    local refused = outs[1]:find("is in use by process", 1, true) and outs[1] or outs[2]
    assert_clear(refused, "run directory " .. dir .. " is in use by process ")
    assert_same_results(dir, clean_dir)
    assert_intact(dir, clean_dir)
  end)
end)
