-- wrk script: POST the JSON body in the BODY environment variable's file to the path in TARGET_PATH.
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.path = os.getenv("TARGET_PATH")
wrk.headers["Content-Type"] = "application/json"
f:close()

-- With DELAY_MS set, each connection waits between requests: N connections then offer about N * 1000 / DELAY_MS
-- requests per second, a load well below the peak (wrk has no rate option). ARRIVALS=poisson (the default) draws
-- each wait from an exponential distribution of mean DELAY_MS, so independent connections add up to Poisson arrivals;
-- ARRIVALS=fixed waits exactly DELAY_MS, which keeps connections that started together in step: the requests then
-- arrive in waves, and the p99 measures how long a wave takes to drain (bench/results/serving.md).
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local arrivals = os.getenv("ARRIVALS") or "poisson"
assert(arrivals == "poisson" or arrivals == "fixed", "ARRIVALS must be poisson or fixed")

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(seed or 1)
end

if pause > 0 then
  if arrivals == "fixed" then
    function delay()
      return pause
    end
  else
    -- wrk's timers count whole milliseconds.
    function delay()
      return math.floor(-pause * math.log(1 - math.random()) + 0.5)
    end
  end
end
