/* store_ingest_bench [items] [batch] [dir]: how fast one node's store takes
 * replicated items: batches of `batch` records (a Push) of ~1 KiB Vietnamese
 * news items (~130 distinct search tokens each), committed one after the
 * other as a parent does. Prints `metric value unit` lines: wall time and
 * the writer's share per item. Not a test. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "item/item.h"
#include "store/store.h"

static const char *const words[] = {
	"Sáng", "nay", "trường", "tổ", "chức", "lễ", "khai", "giảng", "năm", "học", "mới", "với", "sự", "tham",
	"dự", "của", "đại", "diện", "Phòng", "Giáo", "dục", "và", "Đào", "tạo", "ban", "cha", "mẹ", "sinh",
	"cùng", "toàn", "thể", "giáo", "viên", "nhân", "các", "khối", "lớp", "Thầy", "hiệu", "trưởng", "đọc",
	"thư", "chúc", "mừng", "tổng", "kết", "quả", "dạy", "trước", "khen", "thưởng", "giỏi", "cấp", "huyện",
	"tỉnh", "giao", "nhiệm", "vụ", "trọng", "tâm", "về", "đổi", "phương", "pháp", "chuyển", "số", "an",
	"toàn", "phòng", "chống", "đuối", "nước", "giữ", "gìn", "vệ", "môi", "xây", "dựng", "viện", "thân",
	"thiện", "em", "biểu", "diễn", "văn", "nghệ", "đánh", "trống", "thả", "bóng", "bay", "hoạt", "động",
	"trải", "nghiệm", "ngoài", "trời", "theo", "kế", "hoạch", "nhà", "phụ", "huynh", "đóng", "góp", "sách",
	"vở", "đồng", "phục", "xe", "đạp", "có", "hoàn", "cảnh", "khó", "khăn", "ở", "xã", "Sa", "Rài", "Tân",
	"Hồng", "Tháp", "điểm", "thi", "tuyển", "hồ", "sơ", "hạn", "nộp", "thông", "báo", "lịch", "công", "tác",
};
#define NWORDS (sizeof words / sizeof words[0])

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rm_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st, (void)fl, (void)f;
	return remove(p);
}

static edu_err make_record(uint64_t seq, unsigned *rnd, edu_record *rec)
{
	char body[1100];
	size_t n = 0;
	edu_item *it = edu_item_new();
	if (!it)
		return EDU_ENOMEM;
	while (n < 1000) {
		const char *w = words[rand_r(rnd) % NWORDS];
		size_t l = strlen(w);
		memcpy(body + n, w, l);
		n += l;
		body[n++] = ' ';
	}
	body[n] = '\0';
	it->unit = strdup("thcs-sa-rai");
	it->unit_name = strdup("Trường THCS Sa Rài");
	it->title = strdup("Bản tin hoạt động của nhà trường");
	it->summary = strdup("Tin tức");
	it->body = strdup(body);
	it->seq = seq;
	it->version = 1;
	it->kind = EDU_KIND_NEWS;
	it->published = 1790000000 + (int64_t)seq;
	it->updated = it->published;
	it->tz_offset_min = 420;
	memset(rec, 0, sizeof *rec);
	edu_err rv = edu_item_encode(it, &rec->item, &rec->item_len);
	edu_item_free(it);
	return rv;
}

int main(int argc, char **argv)
{
	size_t items = argc > 1 ? strtoul(argv[1], NULL, 10) : 50000;
	size_t batch = argc > 2 ? strtoul(argv[2], NULL, 10) : 512;
	char tmpl[] = "/tmp/edu-ingest-XXXXXX";
	const char *dir = argc > 3 ? argv[3] : mkdtemp(tmpl);
	edu_store *s = NULL;
	edu_store_opts o = {.dir = dir, .map_size = 1ull << 30};
	unsigned rnd = 42;
	int64_t prep = 0, commit = 0;
	edu_log_set_level(LOG_WARNING);
	if (!dir || edu_store_open(&s, &o) != EDU_OK) {
		fprintf(stderr, "store_ingest_bench: cannot open a store in %s\n", dir ? dir : "(none)");
		return 1;
	}
	for (size_t done = 0; done < items;) {
		edu_store_batch *b = NULL;
		if (edu_store_batch_new(&b) != EDU_OK)
			return 1;
		int64_t t0 = now_ns();
		for (size_t i = 0; i < batch && done < items; i++, done++) {
			edu_record rec;
			if (make_record(done + 1, &rnd, &rec) != EDU_OK || edu_store_batch_put_record(b, &rec) != EDU_OK)
				return 1;
			edu_record_clear(&rec);
		}
		int64_t t1 = now_ns();
		if (edu_store_commit(s, b) != EDU_OK)
			return 1;
		prep += t1 - t0;
		commit += now_ns() - t1;
		edu_store_batch_free(b);
	}
	printf("ingest_items %zu items  # batches of %zu\n", items, batch);
	printf("ingest_prepare_us_per_item %.2f us  # encode + put_record (decode, validate, tokens)\n",
	    prep / 1e3 / (double)items);
	printf("ingest_commit_us_per_item %.2f us  # the writer: LMDB puts and the durable commit\n",
	    commit / 1e3 / (double)items);
	edu_store_close(s);
	if (argc <= 3)
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
