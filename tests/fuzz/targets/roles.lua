-- Fuzz target: the roles loader (introspect.design.scenarios.load_roles) on .csv and .txt files, with
-- and without the header rule. Contract: a non-empty list of non-blank strings, or nil and an
-- error naming the file; never a raise for a file's content.
local scenarios = require("introspect.design.scenarios")
local S = require("fuzz_support")

return function(data)
  for _, ext in ipairs({ "csv", "txt" }) do
    local path = S.scratch_file(ext, data)
    for _, header in ipairs({ true, false }) do
      local roles, err = scenarios.load_roles(path, { header = header })
      if roles == nil then
        S.check_error("scenarios.load_roles", err, path)
      else
        if #roles == 0 then S.finding("an empty list of roles accepted") end
        for i, r in ipairs(roles) do
          if type(r) ~= "string" or not r:find("%S") then S.finding("role %d is blank", i) end
        end
      end
    end
  end
end
