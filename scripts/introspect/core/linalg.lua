-- Small dense linear algebra in plain Lua for the few places that need it on p x p systems
-- (exact Bayesian summaries). Matrices are arrays of rows.
local M = {}

---Cholesky factor L (lower triangular, L L' = A) of a symmetric positive definite p x p matrix.
---@param A number[][]
---@param p integer
---@return number[][]|nil L nil when A is not positive definite
function M.cholesky(A, p)
  local L = {}
  for i = 1, p do
    L[i] = {}
    for j = 1, i do
      local s = A[i][j]
      for k = 1, j - 1 do s = s - L[i][k] * L[j][k] end
      if i == j then
        if s <= 0 then return nil end
        L[i][i] = math.sqrt(s)
      else
        L[i][j] = s / L[j][j]
      end
    end
  end
  return L
end

---Solves L L' x = v given the Cholesky factor L.
---@param L number[][]
---@param p integer
---@param v number[]
---@return number[] x
function M.solve(L, p, v)
  local z, x = {}, {}
  for i = 1, p do
    local s = v[i]
    for k = 1, i - 1 do s = s - L[i][k] * z[k] end
    z[i] = s / L[i][i]
  end
  for i = p, 1, -1 do
    local s = z[i]
    for k = i + 1, p do s = s - L[k][i] * x[k] end
    x[i] = s / L[i][i]
  end
  return x
end

---Solves A x = b for a symmetric positive definite A.
---@param A number[][]
---@param b number[]
---@param p integer
---@return number[]|nil x nil when A is not positive definite
function M.cholesky_solve(A, b, p)
  local L = M.cholesky(A, p)
  return L and M.solve(L, p, b)
end

return M
