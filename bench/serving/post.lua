-- wrk script: POST the JSON body in the BODY environment variable's file to the path in TARGET_PATH.
local f = assert(io.open(os.getenv("BODY"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
wrk.path = os.getenv("TARGET_PATH")
wrk.headers["Content-Type"] = "application/json"
f:close()

-- With DELAY_MS set, each connection waits that long before its next request: N connections then offer about
-- N * 1000 / DELAY_MS requests per second, an open-ish load well below the peak (wrk has no rate option).
local pause = tonumber(os.getenv("DELAY_MS") or "0")
if pause > 0 then
  function delay()
    return pause
  end
end
