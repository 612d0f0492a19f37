-- Fuzz target: the scenario loader (introspect.design.scenarios.load) on a JSON file in the published
-- format, then contexts() on what it accepts. Contract: load returns a list of valid scenarios or
-- nil, an error naming the file; it never raises for a file's content. (.lua scenario files are
-- code, run as such, and not fuzzed.)
local scenarios = require("introspect.design.scenarios")
local S = require("fuzz_support")

return function(data)
  local path = S.scratch_file("json", data)
  for _, opts in ipairs({ { attributes = 5 }, {} }) do
    local list, err = scenarios.load(path, opts)
    if list == nil then
      S.check_error("scenarios.load", err, path)
    else
      for i, s in ipairs(list) do
        if type(s.short_name) ~= "string" or type(s.question) ~= "string" or type(s.attributes) ~= "table" then
          S.finding("scenario %d accepted without a name, question or attributes", i)
        end
        if opts.attributes and #s.attributes ~= opts.attributes then
          S.finding("scenario %d accepted with %d attributes", i, #s.attributes)
        end
        for j, a in ipairs(s.attributes) do
          if not S.finite(a.min) or not S.finite(a.max) or a.min > a.max then
            S.finding("scenario %d attribute %d accepted with range %s..%s", i, j, tostring(a.min), tostring(a.max))
          end
        end
      end
      local contexts = scenarios.contexts(list, { "a role" }, { shuffle = false })
      if #contexts ~= #list then S.finding("%d contexts for %d scenarios", #contexts, #list) end
    end
  end
end
