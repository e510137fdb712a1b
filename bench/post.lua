-- wrk script: POST ~1 KiB news items to /api/v1/items: one JSON object per
-- request, or, with EDUNET_BATCH=N (1..256), a JSON array of N items per
-- request (the batch create). Token from EDUNET_TOKEN; item size from
-- EDUNET_BODY_BYTES. At the end prints `metric value unit` lines: accepted
-- items, items/s, errors, latency p50/p99 (per request).
local token = os.getenv("EDUNET_TOKEN") or ""
local size = tonumber(os.getenv("EDUNET_BODY_BYTES") or "1024")
local batch = tonumber(os.getenv("EDUNET_BATCH") or "0")

local head = '{"kind":"news","title":"Bản tin thử nghiệm hiệu năng","summary":"Tin thử nghiệm","body":"'
local tail = '"}'
local item = head .. string.rep("x", math.max(0, size - #head - #tail)) .. tail
wrk.method = "POST"
wrk.path = "/api/v1/items"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
if batch > 0 then
	local t = {}
	for i = 1, batch do t[i] = item end
	wrk.body = "[" .. table.concat(t, ",") .. "]"
else
	wrk.body = item
end
local per = batch > 0 and batch or 1

done = function(summary, latency, requests)
	local bad = summary.errors.status + summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	local ok = summary.requests - summary.errors.status
	io.write(string.format("wrk_requests %d requests\n", summary.requests))
	io.write(string.format("wrk_accepted %d items\n", ok * per))
	io.write(string.format("wrk_errors %d responses\n", bad))
	io.write(string.format("wrk_items_per_s %.0f items/s\n", ok * per / (summary.duration / 1e6)))
	io.write(string.format("wrk_latency_p50 %.2f ms\n", latency:percentile(50) / 1000))
	io.write(string.format("wrk_latency_p99 %.2f ms\n", latency:percentile(99) / 1000))
end
