-- Refresh rotation: every request presents the refresh token of a previous response of the same chain, so
-- each one is a real rotation. bench/run.py logs in one session per connection and writes their refresh
-- tokens to BENCH_TOKENS; each wrk thread takes its share. A thread keeps a queue of current tokens: a
-- request takes one, its response puts the successor back, so every chain stays unbroken. (wrk sometimes
-- asks for a request it does not send, so bench/run.py gives each thread a couple of spare sessions.)
package.path = package.path .. ";" .. os.getenv("BENCH_LUA") .. "/?.lua"
local common = require("common")

local threads = {}
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local queue = {}
function init(args)
  local all = common.lines(os.getenv("BENCH_TOKENS"))
  local count = tonumber(os.getenv("BENCH_THREADS"))
  for i, token in ipairs(all) do
    if (i - 1) % count == index then queue[#queue + 1] = token end
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
end

local last, reported
function request()
  local token = table.remove(queue, 1)
  if token == nil and os.getenv("BENCH_DEBUG") then io.stderr:write("empty queue in thread " .. tostring(index) .. "\n") end
  token = token or last or "none"
  return wrk.format(nil, os.getenv("BENCH_PATH"), nil, "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then
    queue[#queue + 1] = token
    last = token
  elseif not reported then
    reported = true
    io.stderr:write("refresh failed: " .. status .. " " .. body .. "\n")
  end
end

done = common.done
