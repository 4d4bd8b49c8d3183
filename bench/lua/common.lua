-- Shared by the scenarios: a JSON summary line for bench/run.py, parsed from wrk's done() callback.
local common = {}

function common.done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end

-- Reads a whole file (the tokens and secrets bench/run.py wrote for this run).
function common.read(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

function common.lines(path)
  local lines = {}
  for line in common.read(path):gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

return common
