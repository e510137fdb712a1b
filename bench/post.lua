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
-- The body: "x" repeated (one search token), or with EDUNET_BODY_WORDS=1
-- Vietnamese prose (about 130 distinct search tokens, as a real news item).
local room = math.max(0, size - #head - #tail)
local filler
if os.getenv("EDUNET_BODY_WORDS") == "1" then
	local words = {}
	for w in ([[Sáng nay trường tổ chức lễ khai giảng năm học mới với sự tham dự của đại diện
		Phòng Giáo dục và Đào tạo, ban đại diện cha mẹ học sinh cùng toàn thể giáo viên nhân viên
		và học sinh các khối lớp. Thầy hiệu trưởng đọc thư chúc mừng, tổng kết kết quả dạy và học
		của năm trước, khen thưởng học sinh giỏi cấp huyện cấp tỉnh, giao nhiệm vụ trọng tâm về
		đổi mới phương pháp giảng dạy, chuyển đổi số, an toàn trường học, phòng chống đuối nước,
		giữ gìn vệ sinh môi trường và xây dựng thư viện thân thiện. Các em biểu diễn văn nghệ,
		đánh trống khai trường, thả bóng bay và tham gia hoạt động trải nghiệm ngoài trời theo
		kế hoạch của nhà trường; phụ huynh đóng góp sách vở, đồng phục, xe đạp cho học sinh có
		hoàn cảnh khó khăn ở xã Sa Rài, Tân Hồng, Đồng Tháp]]):gmatch("%S+") do words[#words + 1] = w end
	local t, n, i = {}, 0, 0
	while true do
		local w = words[i % #words + 1]
		if n + #w + 1 > room then break end
		t[#t + 1] = w
		n = n + #w + 1
		i = i + 1
	end
	filler = table.concat(t, " ") .. string.rep(".", room - n + 1)
else
	filler = string.rep("x", room)
end
local item = head .. filler .. tail
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
