#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "item.pb-c.h"
#include "item/item.h"

static void set(char **f, const char *s)
{
	free(*f);
	*f = strdup(s);
	assert_non_null(*f);
}

static edu_item *make_item(void)
{
	edu_item *it = edu_item_new();
	assert_non_null(it);
	set(&it->unit, "thpt-nguyen-quang-dieu");
	it->seq = 42;
	it->version = 2;
	it->kind = EDU_KIND_DOCUMENT;
	set(&it->title, "Thông báo tuyển sinh lớp 10 năm học 2025–2026");
	set(&it->summary, "Trường THPT Nguyễn Quang Diêu thông báo…\nDòng hai.");
	set(&it->body, "# Tiêu đề\n\nNội dung **đậm** và [liên kết](https://so.dongthap.edu.vn).\n");
	set(&it->author, "Phòng Giáo vụ");
	set(&it->doc_number, "123/TB-THPT");
	set(&it->doc_date, "2025-06-01");
	set(&it->signer, "Nguyễn Văn A");
	set(&it->unit_name, "Trường THPT Nguyễn Quang Diêu");
	set(&it->source_url, "https://old.example.edu.vn/tin/123");
	it->published = 1796025845;
	it->updated = 1796029445;
	it->tz_offset_min = 420;
	it->tags = calloc(2, sizeof *it->tags);
	it->tags[0] = strdup("tuyển sinh");
	it->tags[1] = strdup("lớp 10");
	it->n_tags = 2;
	it->attachments = calloc(1, sizeof *it->attachments);
	it->attachments[0].name = strdup("Kế hoạch.pdf");
	it->attachments[0].media_type = strdup("application/pdf");
	it->attachments[0].size = 123456;
	for (int i = 0; i < 32; i++)
		it->attachments[0].sha256[i] = (uint8_t)(i * 7);
	it->n_attachments = 1;
	return it;
}

static void assert_items_equal(const edu_item *a, const edu_item *b)
{
	assert_string_equal(a->unit, b->unit);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->deleted, b->deleted);
	assert_string_equal(a->title, b->title);
	assert_string_equal(a->summary, b->summary);
	assert_string_equal(a->body, b->body);
	assert_string_equal(a->author, b->author);
	assert_int_equal(a->published, b->published);
	assert_int_equal(a->updated, b->updated);
	assert_int_equal(a->tz_offset_min, b->tz_offset_min);
	assert_string_equal(a->doc_number, b->doc_number);
	assert_string_equal(a->doc_date, b->doc_date);
	assert_string_equal(a->signer, b->signer);
	assert_int_equal(a->starts, b->starts);
	assert_int_equal(a->ends, b->ends);
	assert_string_equal(a->location, b->location);
	assert_string_equal(a->unit_name, b->unit_name);
	assert_string_equal(a->source_url, b->source_url);
	assert_int_equal(a->n_tags, b->n_tags);
	for (size_t i = 0; i < a->n_tags; i++)
		assert_string_equal(a->tags[i], b->tags[i]);
	assert_int_equal(a->n_attachments, b->n_attachments);
	for (size_t i = 0; i < a->n_attachments; i++) {
		assert_string_equal(a->attachments[i].name, b->attachments[i].name);
		assert_string_equal(a->attachments[i].media_type, b->attachments[i].media_type);
		assert_int_equal(a->attachments[i].size, b->attachments[i].size);
		assert_memory_equal(a->attachments[i].sha256, b->attachments[i].sha256, 32);
	}
}

static void kinds(void **st)
{
	assert_string_equal(edu_kind_name(EDU_KIND_NEWS), "news");
	assert_string_equal(edu_kind_name(EDU_KIND_EVENT), "event");
	assert_string_equal(edu_kind_name(EDU_KIND_NONE), "");
	assert_string_equal(edu_kind_name((edu_kind)99), "");
	assert_string_equal(edu_kind_label_vi(EDU_KIND_NEWS), "Tin tức");
	assert_string_equal(edu_kind_label_vi(EDU_KIND_ANNOUNCEMENT), "Thông báo");
	assert_string_equal(edu_kind_label_vi(EDU_KIND_DOCUMENT), "Văn bản");
	assert_string_equal(edu_kind_label_vi(EDU_KIND_EVENT), "Lịch công tác");
	assert_int_equal(edu_kind_parse("announcement"), EDU_KIND_ANNOUNCEMENT);
	assert_int_equal(edu_kind_parse("document"), EDU_KIND_DOCUMENT);
	assert_int_equal(edu_kind_parse("News"), EDU_KIND_NONE);
	assert_int_equal(edu_kind_parse(""), EDU_KIND_NONE);
	assert_int_equal(edu_kind_parse(NULL), EDU_KIND_NONE);
}

static void unit_id(void **st)
{
	assert_true(edu_unit_id_valid("so-dongthap"));
	assert_true(edu_unit_id_valid("ab"));
	assert_true(edu_unit_id_valid("thcs-an-binh-a"));
	assert_true(edu_unit_id_valid("0123456789012345678901234567890123456789")); /* 40 */
	assert_false(edu_unit_id_valid("01234567890123456789012345678901234567890")); /* 41 */
	assert_false(edu_unit_id_valid("a"));
	assert_false(edu_unit_id_valid(""));
	assert_false(edu_unit_id_valid(NULL));
	assert_false(edu_unit_id_valid("So-DongThap"));
	assert_false(edu_unit_id_valid("so_dongthap"));
	assert_false(edu_unit_id_valid("so dongthap"));
	assert_false(edu_unit_id_valid("sở"));
	assert_false(edu_unit_id_valid("../etc"));
}

static void item_id(void **st)
{
	char unit[EDU_UNIT_ID_MAX + 1];
	uint64_t seq;
	char id[EDU_ITEM_ID_MAX];
	assert_int_equal(edu_item_id_parse("pgd-tanhong:17", unit, &seq), EDU_OK);
	assert_string_equal(unit, "pgd-tanhong");
	assert_int_equal(seq, 17);
	assert_int_equal(edu_item_id_parse("ab:18446744073709551615", unit, &seq), EDU_OK);
	assert_true(seq == UINT64_MAX);
	edu_item_id_format(id, "ab", UINT64_MAX);
	assert_string_equal(id, "ab:18446744073709551615");
	const char *bad[] = {"ab:18446744073709551616", "ab:0", "ab:01", "ab:", "ab", ":1",
	    "a:1", "AB:1", "ab:1x", "ab:-1", "ab:+1", "ab:1:2", "ab: 1",
	    "01234567890123456789012345678901234567890:1", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(edu_item_id_parse(bad[i], unit, &seq), EDU_EINVAL);
	assert_int_equal(edu_item_id_parse(NULL, unit, &seq), EDU_EINVAL);
	edu_item_id_format(id, "so-dongthap", 5);
	assert_string_equal(id, "so-dongthap:5");
}

static void new_dup(void **st)
{
	edu_item *e = edu_item_new();
	assert_non_null(e);
	assert_string_equal(e->title, "");
	assert_string_equal(e->source_url, "");
	assert_int_equal(e->n_tags, 0);
	edu_item *it = make_item();
	edu_item *d = edu_item_dup(it);
	assert_non_null(d);
	assert_items_equal(it, d);
	assert_ptr_not_equal(d->title, it->title);
	assert_ptr_not_equal(d->tags[0], it->tags[0]);
	assert_ptr_not_equal(d->attachments[0].name, it->attachments[0].name);
	edu_item_free(it);
	edu_item_free(d);
	edu_item_free(e);
	edu_item_free(NULL);
	assert_null(edu_item_dup(NULL));
}

static void validate_ok(void **st)
{
	char why[256] = "";
	edu_item *it = make_item();
	assert_int_equal(edu_item_validate(it, why, sizeof why), EDU_OK);
	/* Tombstone: empty title is fine. */
	set(&it->title, "");
	it->deleted = true;
	assert_int_equal(edu_item_validate(it, why, sizeof why), EDU_OK);
	/* Exactly at the limits. */
	it->deleted = false;
	char *t = malloc(EDU_TITLE_MAX * 3 + 1);
	t[0] = '\0';
	for (int i = 0; i < EDU_TITLE_MAX; i++)
		strcat(t, "ộ");
	set(&it->title, t);
	free(t);
	char *b = malloc(EDU_BODY_MAX + 1);
	memset(b, 'x', EDU_BODY_MAX);
	b[EDU_BODY_MAX] = '\0';
	free(it->body);
	it->body = b;
	assert_int_equal(edu_item_validate(it, why, sizeof why), EDU_OK);
	/* Media type with parameters; event with times. */
	set(&it->attachments[0].media_type, "text/plain; charset=utf-8");
	it->kind = EDU_KIND_EVENT;
	it->starts = 1796025845;
	it->ends = 1796029445;
	assert_int_equal(edu_item_validate(it, why, sizeof why), EDU_OK);
	edu_item_free(it);
}

typedef void (*mutate_fn)(edu_item *);

#define MUT(name, body) static void name(edu_item *it) { body; }
MUT(m_unit, set(&it->unit, "Bad Unit"))
MUT(m_seq, it->seq = 0)
MUT(m_version, it->version = 0)
MUT(m_kind0, it->kind = EDU_KIND_NONE)
MUT(m_kind5, it->kind = (edu_kind)5)
MUT(m_title_empty, set(&it->title, ""))
MUT(m_title_nl, set(&it->title, "hai\ndòng"))
MUT(m_title_esc, set(&it->title, "a\x1b[2Jb"))
MUT(m_title_del, set(&it->title, "a\x7f"))
MUT(m_title_utf8, set(&it->title, "a\xC0\xAF"))
MUT(m_title_surr, set(&it->title, "\xED\xA0\x80"))
MUT(m_author_nl, set(&it->author, "a\r\nb"))
MUT(m_summary_ctl, set(&it->summary, "a\x01"))
MUT(m_doc_date, set(&it->doc_date, "2025-13-01"))
MUT(m_doc_date2, set(&it->doc_date, "1/6/2025"))
MUT(m_doc_date3, set(&it->doc_date, "2025-02-29"))
MUT(m_tag_empty, set(&it->tags[0], ""))
MUT(m_tag_ctl, set(&it->tags[1], "a\tb\x02"))
MUT(m_att_slash, set(&it->attachments[0].name, "../etc/passwd"))
MUT(m_att_bslash, set(&it->attachments[0].name, "a\\b.pdf"))
MUT(m_att_dotdot, set(&it->attachments[0].name, ".."))
MUT(m_att_ctl, set(&it->attachments[0].name, "a\nb.pdf"))
MUT(m_att_empty, set(&it->attachments[0].name, ""))
MUT(m_mt1, set(&it->attachments[0].media_type, "pdf"))
MUT(m_mt2, set(&it->attachments[0].media_type, "application/"))
MUT(m_mt3, set(&it->attachments[0].media_type, "/pdf"))
MUT(m_mt4, set(&it->attachments[0].media_type, "a b/c"))
MUT(m_mt5, set(&it->attachments[0].media_type, "text/html\n"))
MUT(m_url, set(&it->source_url, "javascript:alert(1)"))
MUT(m_tz, it->tz_offset_min = 24 * 60)
MUT(m_time_neg, it->published = -1)
MUT(m_time_big, it->updated = INT64_MAX)
MUT(m_ends, (it->starts = 100, it->ends = 50))
#undef MUT

static void m_att_size(edu_item *it) { it->attachments[0].size = EDU_ATTACH_MAX + 1ULL; }

static void m_att_total(edu_item *it)
{
	it->attachments = realloc(it->attachments, 3 * sizeof *it->attachments);
	for (int i = 1; i < 3; i++) {
		it->attachments[i] = it->attachments[0];
		it->attachments[i].name = strdup("x.pdf");
		it->attachments[i].media_type = strdup("application/pdf");
	}
	it->n_attachments = 3;
	for (int i = 0; i < 3; i++)
		it->attachments[i].size = EDU_ATTACH_MAX; /* each fine, 30 MiB in all */
}

static void m_title_long(edu_item *it)
{
	char t[EDU_TITLE_MAX + 2];
	memset(t, 'a', EDU_TITLE_MAX + 1);
	t[EDU_TITLE_MAX + 1] = '\0';
	set(&it->title, t);
}

static void m_summary_long(edu_item *it)
{
	char *t = malloc((EDU_SUMMARY_MAX + 1) * 2 + 1);
	t[0] = '\0';
	for (int i = 0; i <= EDU_SUMMARY_MAX; i++)
		strcat(t, "đ");
	set(&it->summary, t);
	free(t);
}

static void m_body_long(edu_item *it)
{
	char *b = malloc(EDU_BODY_MAX + 2);
	memset(b, 'x', EDU_BODY_MAX + 1);
	b[EDU_BODY_MAX + 1] = '\0';
	free(it->body);
	it->body = b;
}

static void m_author_long(edu_item *it)
{
	char t[EDU_SHORT_MAX + 2];
	memset(t, 'a', EDU_SHORT_MAX + 1);
	t[EDU_SHORT_MAX + 1] = '\0';
	set(&it->author, t);
}

static void m_tags_many(edu_item *it)
{
	it->tags = realloc(it->tags, (EDU_TAGS_MAX + 1) * sizeof *it->tags);
	for (size_t i = it->n_tags; i < EDU_TAGS_MAX + 1; i++)
		it->tags[i] = strdup("t");
	it->n_tags = EDU_TAGS_MAX + 1;
}

static void validate_rejects(void **st)
{
	const struct {
		const char *name;
		mutate_fn fn;
		edu_err want;
		const char *why_has;
	} cases[] = {
		{"unit", m_unit, EDU_EINVAL, "unit"},
		{"seq", m_seq, EDU_EINVAL, "seq"},
		{"version", m_version, EDU_EINVAL, "version"},
		{"kind0", m_kind0, EDU_EINVAL, "kind"},
		{"kind5", m_kind5, EDU_EINVAL, "kind"},
		{"title_empty", m_title_empty, EDU_EINVAL, "title"},
		{"title_nl", m_title_nl, EDU_EINVAL, "title"},
		{"title_esc", m_title_esc, EDU_EINVAL, "title"},
		{"title_del", m_title_del, EDU_EINVAL, "title"},
		{"title_utf8", m_title_utf8, EDU_EINVAL, "UTF-8"},
		{"title_surr", m_title_surr, EDU_EINVAL, "UTF-8"},
		{"title_long", m_title_long, EDU_ETOOBIG, "title"},
		{"summary_long", m_summary_long, EDU_ETOOBIG, "summary"},
		{"summary_ctl", m_summary_ctl, EDU_EINVAL, "summary"},
		{"body_long", m_body_long, EDU_ETOOBIG, "body"},
		{"author_long", m_author_long, EDU_ETOOBIG, "author"},
		{"author_nl", m_author_nl, EDU_EINVAL, "author"},
		{"doc_date", m_doc_date, EDU_EINVAL, "doc_date"},
		{"doc_date2", m_doc_date2, EDU_EINVAL, "doc_date"},
		{"doc_date3", m_doc_date3, EDU_EINVAL, "doc_date"},
		{"tag_empty", m_tag_empty, EDU_EINVAL, "tags[0]"},
		{"tag_ctl", m_tag_ctl, EDU_EINVAL, "tags[1]"},
		{"tags_many", m_tags_many, EDU_ETOOBIG, "tags"},
		{"att_slash", m_att_slash, EDU_EINVAL, "attachments[0].name"},
		{"att_bslash", m_att_bslash, EDU_EINVAL, "attachments[0].name"},
		{"att_dotdot", m_att_dotdot, EDU_EINVAL, "attachments[0].name"},
		{"att_ctl", m_att_ctl, EDU_EINVAL, "attachments[0].name"},
		{"att_empty", m_att_empty, EDU_EINVAL, "attachments[0].name"},
		{"mt1", m_mt1, EDU_EINVAL, "media_type"},
		{"mt2", m_mt2, EDU_EINVAL, "media_type"},
		{"mt3", m_mt3, EDU_EINVAL, "media_type"},
		{"mt4", m_mt4, EDU_EINVAL, "media_type"},
		{"mt5", m_mt5, EDU_EINVAL, "media_type"},
		{"att_size", m_att_size, EDU_ETOOBIG, "attachments[0].size"},
		{"att_total", m_att_total, EDU_ETOOBIG, "in all"},
		{"url", m_url, EDU_EINVAL, "source_url"},
		{"tz", m_tz, EDU_EINVAL, "tz_offset_min"},
		{"time_neg", m_time_neg, EDU_EINVAL, "times"},
		{"time_big", m_time_big, EDU_EINVAL, "times"},
		{"ends", m_ends, EDU_EINVAL, "ends"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		edu_item *it = make_item();
		char why[256] = "";
		cases[i].fn(it);
		edu_err rv = edu_item_validate(it, why, sizeof why);
		if (rv != cases[i].want || strstr(why, cases[i].why_has) == NULL)
			fail_msg("case %s: got %s (%s)", cases[i].name, edu_strerror(rv), why);
		/* Decode must refuse what validate refuses (encode does not judge). */
		uint8_t *buf = NULL;
		size_t len = 0;
		if (edu_item_encode(it, &buf, &len) == EDU_OK) {
			edu_item *d = NULL;
			assert_int_not_equal(edu_item_decode(buf, len, &d), EDU_OK);
			assert_null(d);
		}
		free(buf);
		edu_item_free(it);
	}
	assert_int_equal(edu_item_validate(NULL, NULL, 0), EDU_EINVAL);
}

static void normalize(void **st)
{
	edu_item *it = make_item();
	set(&it->title, "Ho\xCC\xA3" "c sinh");                 /* decomposed */
	set(&it->tags[0], "Tie\xCC\x82\xCC\x81ng Vie\xCC\xA3\xCC\x82t");
	set(&it->attachments[0].name, "e\xCC\x81.pdf");
	assert_int_equal(edu_item_normalize(it), EDU_OK);
	assert_string_equal(it->title, "Học sinh");
	assert_string_equal(it->tags[0], "Tiếng Việt");
	assert_string_equal(it->attachments[0].name, "é.pdf");
	assert_string_equal(it->unit, "thpt-nguyen-quang-dieu");
	set(&it->summary, "a\r\nb\rc\n\nd");
	set(&it->body, "\r\r\n");
	assert_int_equal(edu_item_normalize(it), EDU_OK);
	assert_string_equal(it->summary, "a\nb\nc\n\nd");
	assert_string_equal(it->body, "\n\n");
	set(&it->body, "no breaks, ASCII only"); /* left as it is */
	set(&it->summary, "ends in CR\r");
	assert_int_equal(edu_item_normalize(it), EDU_OK);
	assert_string_equal(it->body, "no breaks, ASCII only");
	assert_string_equal(it->summary, "ends in CR\n");
	set(&it->summary, "bad \xFF");
	assert_int_equal(edu_item_normalize(it), EDU_EINVAL);
	edu_item_free(it);
}

static void codec_roundtrip(void **st)
{
	edu_item *it = make_item();
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(edu_item_encode(it, &buf, &len), EDU_OK);
	edu_item *d = NULL;
	char why[128] = "";
	assert_int_equal(edu_item_decode_why(buf, len, &d, why, sizeof why), EDU_OK);
	assert_items_equal(it, d);
	free(buf);
	edu_item_free(d);

	/* Minimal item: absent strings decode as "" (never NULL). */
	edu_item *m = edu_item_new();
	set(&m->unit, "ab");
	set(&m->title, "x");
	m->seq = 1;
	m->version = 1;
	m->kind = EDU_KIND_NEWS;
	assert_int_equal(edu_item_encode(m, &buf, &len), EDU_OK);
	assert_int_equal(edu_item_decode(buf, len, &d), EDU_OK);
	assert_non_null(d->body);
	assert_string_equal(d->body, "");
	assert_string_equal(d->doc_date, "");
	assert_int_equal(d->n_tags, 0);
	free(buf);
	edu_item_free(d);
	edu_item_free(m);
	edu_item_free(it);
}

static void decode_hostile(void **st)
{
	edu_item *d = NULL;
	char why[128];
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x80};
	assert_int_equal(edu_item_decode(garbage, sizeof garbage, &d), EDU_EINVAL);
	assert_null(d);

	edu_item *it = make_item();
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(edu_item_encode(it, &buf, &len), EDU_OK);
	/* A cut at a field boundary is still a (shorter) protobuf, which the
	 * signature guards; every other cut must fail, and none may crash. */
	size_t ok = 0;
	for (size_t cut = 0; cut < len; cut++) {
		if (edu_item_decode(buf, cut, &d) == EDU_OK) {
			assert_int_equal(edu_item_validate(d, NULL, 0), EDU_OK);
			edu_item_free(d);
			ok++;
		}
	}
	assert_true(ok <= 22); /* at most one boundary per Item field */
	uint8_t *title = memmem(buf, len, "Thông", 6);
	assert_int_equal(edu_item_decode(buf, (size_t)(title - buf) + 3, &d), EDU_EINVAL);
	/* Flipping bytes never crashes. */
	for (size_t i = 0; i < len; i++) {
		uint8_t save = buf[i];
		buf[i] ^= 0x5a;
		if (edu_item_decode(buf, len, &d) == EDU_OK)
			edu_item_free(d);
		buf[i] = save;
	}
	/* Embedded NUL inside the title. */
	uint8_t *t = memmem(buf, len, "Thông", 6);
	assert_non_null(t);
	t[2] = 0;
	assert_int_equal(edu_item_decode_why(buf, len, &d, why, sizeof why), EDU_EINVAL);
	assert_null(d);
	free(buf);
	/* Too big. */
	assert_int_equal(edu_item_decode(garbage, EDU_ITEM_BYTES_MAX + 1, &d), EDU_ETOOBIG);

	/* Hand-built protobuf with too many tags and a short sha256. */
	Edunet__Item m = EDUNET__ITEM__INIT;
	char *tags[EDU_TAGS_MAX + 1];
	for (int i = 0; i <= EDU_TAGS_MAX; i++)
		tags[i] = "t";
	m.unit = "ab";
	m.seq = 1;
	m.version = 1;
	m.kind = EDUNET__KIND__NEWS;
	m.title = "x";
	m.tags = tags;
	m.n_tags = EDU_TAGS_MAX + 1;
	uint8_t pb[4096];
	len = edunet__item__pack(&m, pb);
	assert_int_equal(edu_item_decode(pb, len, &d), EDU_ETOOBIG);
	m.n_tags = 0;
	Edunet__Attachment a = EDUNET__ATTACHMENT__INIT, *ap = &a;
	a.name = "a.pdf";
	a.media_type = "application/pdf";
	a.sha256.data = (uint8_t *)"short";
	a.sha256.len = 5;
	m.attachments = &ap;
	m.n_attachments = 1;
	len = edunet__item__pack(&m, pb);
	assert_int_equal(edu_item_decode_why(pb, len, &d, why, sizeof why), EDU_EINVAL);
	assert_non_null(strstr(why, "sha256"));
	m.n_attachments = 0;
	m.kind = (Edunet__Kind)77; /* unknown enum value on the wire */
	len = edunet__item__pack(&m, pb);
	assert_int_equal(edu_item_decode(pb, len, &d), EDU_EINVAL);
	edu_item_free(it);
}

static void record_roundtrip(void **st)
{
	uint8_t item[] = {1, 2, 3, 4, 5};
	edu_record r = {item, sizeof item, {0}, true, 1234567};
	memset(r.sig, 0xab, sizeof r.sig);
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(edu_record_encode(&r, &buf, &len), EDU_OK);
	edu_record o;
	assert_int_equal(edu_record_decode(buf, len, &o), EDU_OK);
	assert_int_equal(o.item_len, sizeof item);
	assert_memory_equal(o.item, item, sizeof item);
	assert_true(o.has_sig);
	assert_memory_equal(o.sig, r.sig, 64);
	assert_int_equal(o.received_ms, 1234567);
	edu_record_clear(&o);
	assert_null(o.item);
	edu_record_clear(&o);
	free(buf);
	r.has_sig = false;
	assert_int_equal(edu_record_encode(&r, &buf, &len), EDU_OK);
	assert_int_equal(edu_record_decode(buf, len, &o), EDU_OK);
	assert_false(o.has_sig);
	edu_record_clear(&o);
	free(buf);
}

static void record_hostile(void **st)
{
	edu_record o;
	uint8_t pb[128];
	Edunet__Record m = EDUNET__RECORD__INIT;
	m.format = EDU_RECORD_FORMAT + 1;
	m.item.data = (uint8_t *)"abc";
	m.item.len = 3;
	size_t len = edunet__record__pack(&m, pb);
	assert_int_equal(edu_record_decode(pb, len, &o), EDU_EVERSION);
	assert_null(o.item);
	m.format = EDU_RECORD_FORMAT;
	m.signature.data = (uint8_t *)"sig";
	m.signature.len = 3; /* not 64 */
	len = edunet__record__pack(&m, pb);
	assert_int_equal(edu_record_decode(pb, len, &o), EDU_EINVAL);
	m.signature.len = 0;
	m.item.len = 0; /* no item */
	len = edunet__record__pack(&m, pb);
	assert_int_equal(edu_record_decode(pb, len, &o), EDU_EINVAL);
	static const uint8_t garbage[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0x0f};
	assert_int_equal(edu_record_decode(garbage, sizeof garbage, &o), EDU_EINVAL);
	assert_int_equal(edu_record_decode(garbage, EDU_RECORD_MAX + 1, &o), EDU_ETOOBIG);
	/* An oversized inner item is refused on encode. */
	uint8_t *big = calloc(1, EDU_RECORD_MAX);
	edu_record r = {big, EDU_RECORD_MAX, {0}, false, 0};
	uint8_t *buf = NULL;
	assert_int_equal(edu_record_encode(&r, &buf, &len), EDU_ETOOBIG);
	assert_null(buf);
	free(big);
}

/* edu_item_peek and edu_record_view read the same fields as the full codec. */
static void peek_view(void **st)
{
	edu_item *it = make_item();
	uint8_t *enc = NULL, *rb = NULL;
	size_t len = 0, rlen = 0;
	edu_item_head h;
	for (int round = 0; round < 3; round++) {
		if (round == 1) { /* a tombstone with a large seq and no attachments */
			it->deleted = true;
			it->seq = UINT64_MAX - 5;
			it->version = 70000;
			free(it->attachments[0].name);
			free(it->attachments[0].media_type);
			it->attachments[0].name = it->attachments[0].media_type = NULL;
			it->n_attachments = 0;
		}
		if (round == 2)
			it->version = 1;
		assert_int_equal(edu_item_encode(it, &enc, &len), EDU_OK);
		assert_true(edu_item_peek(enc, len, &h));
		assert_string_equal(h.unit, it->unit);
		assert_true(h.seq == it->seq);
		assert_int_equal(h.version, it->version);
		assert_int_equal(h.deleted, it->deleted);
		assert_int_equal(h.n_attachments, it->n_attachments);
		/* Every proper prefix either fails or reads a consistent subset;
		 * never reads past the end (ASan would say). */
		for (size_t k = 0; k < len; k++)
			(void)edu_item_peek(enc, k, &h);
		edu_record r = {enc, len, {0}, true, 1234};
		memset(r.sig, 0xAB, sizeof r.sig);
		assert_int_equal(edu_record_encode(&r, &rb, &rlen), EDU_OK);
		edu_record_ref ref;
		assert_int_equal(edu_record_view(rb, rlen, &ref), EDU_OK);
		assert_int_equal(ref.item_len, len);
		assert_memory_equal(ref.item, enc, len);
		assert_int_equal(ref.sig_len, 64);
		assert_memory_equal(ref.sig, r.sig, 64);
		assert_true(ref.received_ms == 1234);
		/* Truncations and single-byte corruptions: the view agrees with
		 * protobuf-c on whether the bytes parse as a Record. */
		for (size_t k = 0; k < rlen; k++) {
			for (int pass = 0; pass < 2; pass++) {
				size_t n = pass == 0 ? k : rlen;
				uint8_t saved = rb[k];
				if (pass == 1)
					rb[k] ^= (uint8_t)(0x55 + k);
				Edunet__Record *m = edunet__record__unpack(NULL, n, rb);
				edu_err vr = edu_record_view(rb, n, &ref);
				if (m == NULL)
					assert_int_not_equal(vr, EDU_OK);
				if (vr == EDU_OK) {
					assert_non_null(m);
					assert_int_equal(ref.item_len, m->item.len);
					assert_memory_equal(ref.item, m->item.data, m->item.len);
				}
				edunet__record__free_unpacked(m, NULL);
				rb[k] = saved;
			}
		}
		free(rb);
		free(enc);
		rb = enc = NULL;
	}
	static const uint8_t bad[] = {0x0A, 0x05, 'a', 'b'}; /* unit longer than the bytes left */
	assert_false(edu_item_peek(bad, sizeof bad, &h));
	static const uint8_t group[] = {0x0B}; /* field 1, wire type 3 */
	assert_false(edu_item_peek(group, sizeof group, &h));
	edu_item_free(it);
}

/* The tests build their inputs with jansson; the parser takes text. */
static edu_err from_jansson(edu_item *it, const json_t *j, char *why, size_t whylen)
{
	char *s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	edu_err rv = edu_item_from_json_text(it, s, strlen(s), why, whylen);
	free(s);
	return rv;
}

static void json_roundtrip(void **st)
{
	edu_item *it = make_item();
	it->starts = 1796025845;
	it->ends = 1796029445;
	set(&it->location, "Hội trường A");
	json_t *j = edu_item_to_json(it, true);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "thpt-nguyen-quang-dieu:42");
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "document");
	assert_string_equal(json_string_value(json_object_get(j, "published")),
	    "2026-11-30T15:04:05+07:00");
	assert_string_equal(json_string_value(json_object_get(j, "title")), it->title);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	assert_true(json_is_false(json_object_get(j, "deleted")));
	json_t *a0 = json_array_get(json_object_get(j, "attachments"), 0);
	assert_string_equal(json_string_value(json_object_get(a0, "sha256")),
	    "00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9");
	assert_non_null(json_object_get(j, "body"));
	assert_string_equal(json_string_value(json_object_get(j, "doc_number")), "123/TB-THPT");

	/* Feed the user-editable keys back into a fresh item. */
	json_t *in = json_deep_copy(j);
	const char *ro[] = {"id", "unit", "unit_name", "version", "deleted"};
	for (size_t i = 0; i < 5; i++)
		json_object_del(in, ro[i]);
	edu_item *b = edu_item_new();
	set(&b->unit, it->unit);
	set(&b->unit_name, it->unit_name);
	b->seq = it->seq;
	b->version = it->version;
	char why[256] = "";
	assert_int_equal(from_jansson(b, in, why, sizeof why), EDU_OK);
	assert_items_equal(it, b);
	assert_int_equal(edu_item_validate(b, why, sizeof why), EDU_OK);
	json_decref(in);

	json_t *nobody = edu_item_to_json(it, false);
	assert_null(json_object_get(nobody, "body"));
	json_decref(nobody);
	/* Optional fields absent when empty. */
	edu_item *m = edu_item_new();
	json_t *mj = edu_item_to_json(m, true);
	assert_null(json_object_get(mj, "doc_number"));
	assert_null(json_object_get(mj, "starts"));
	assert_null(json_object_get(mj, "source_url"));
	json_decref(mj);
	edu_item_free(m);
	json_decref(j);
	edu_item_free(b);
	edu_item_free(it);
}

static void json_rejects(void **st)
{
	const struct {
		const char *json;
		const char *why_has;
	} cases[] = {
		{"[]", "object"},
		{"{\"title\": 5}", "title: must be a string"},
		{"{\"id\": \"ab:1\"}", "unknown key \"id\""},
		{"{\"titel\": \"x\"}", "unknown key \"titel\""},
		{"{\"kind\": \"blog\"}", "kind"},
		{"{\"kind\": 1}", "kind: must be a string"},
		{"{\"tags\": \"a,b\"}", "tags"},
		{"{\"tags\": [\"a\", 2]}", "tags[1]"},
		{"{\"published\": \"2026-11-30 15:04\"}", "published"},
		{"{\"updated\": 1796025845}", "updated: must be a string"},
		{"{\"body\": \"a\\u0000b\"}", "contains \\u0000"},
		{"{\"title\": \"a\", \"title\": \"b\"}", "duplicate key \"title\""},
		{"{\"title\": \"a\"} x", "line 1 column 16: text after the JSON value"},
		{"{\"title\":\n }", "bad JSON at line 2 column 2"},
		{"{\"title\": \"a", "bad JSON at line 1 column 1"},
		{"{\"title\": \"\xff\"}", "not valid UTF-8"},
		{"{\"title\": \"\\ud800\"}", "bad JSON"},
		{"{\"attachments\": [{\"name\":\"a\",\"name\":\"b\"}]}", "attachments[0]: duplicate key \"name\""},
		{"{\"attachments\": [{\"name\":\"a\",\"media_type\":\"a/b\",\"size\":1.5,"
		 "\"sha256\":\"00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9\"}]}", "size"},
		{"{\"attachments\": {}}", "attachments"},
		{"{\"attachments\": [1]}", "attachments[0]"},
		{"{\"attachments\": [{\"name\":\"a\",\"media_type\":\"a/b\",\"size\":1}]}", "sha256"},
		{"{\"attachments\": [{\"name\":\"a\",\"media_type\":\"a/b\",\"size\":-1,"
		 "\"sha256\":\"00\"}]}", "size"},
		{"{\"attachments\": [{\"name\":\"a\",\"media_type\":\"a/b\",\"size\":1,"
		 "\"sha256\":\"zz070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9\"}]}",
		 "sha256"},
		{"{\"attachments\": [{\"name\":\"a\",\"media_type\":\"a/b\",\"size\":1,\"x\":1,"
		 "\"sha256\":\"00070e151c232a31383f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9\"}]}",
		 "unknown key \"x\""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		edu_item *it = make_item();
		edu_item *before = edu_item_dup(it);
		char why[256] = "";
		edu_err rv = edu_item_from_json_text(it, cases[i].json, strlen(cases[i].json), why, sizeof why);
		if (rv == EDU_OK || strstr(why, cases[i].why_has) == NULL)
			fail_msg("case %zu: got %s (%s)", i, edu_strerror(rv), why);
		assert_items_equal(before, it); /* untouched on failure */
		edu_item_free(before);
		edu_item_free(it);
	}
	/* Too many tags is refused before anything is copied. */
	json_t *j = json_object(), *tags = json_array();
	for (int i = 0; i <= EDU_TAGS_MAX; i++)
		json_array_append_new(tags, json_string("t"));
	json_object_set_new(j, "tags", tags);
	edu_item *it = edu_item_new();
	char why[128];
	assert_int_equal(from_jansson(it, j, why, sizeof why), EDU_ETOOBIG);
	json_decref(j);
	/* null clears; updated alone sets the offset. */
	j = json_pack("{s:n, s:s}", "summary", "updated", "2026-01-01T00:00:00-05:30");
	set(&it->summary, "old");
	assert_int_equal(from_jansson(it, j, why, sizeof why), EDU_OK);
	assert_string_equal(it->summary, "");
	assert_int_equal(it->tz_offset_min, -330);
	json_decref(j);
	/* An escaped backslash before u0000 is text, not a NUL; escapes decode. */
	const char *t = "{\"body\": \"a\\\\u0000 \\u1ec7 \\ud83d\\ude00\", \"title\": \"x\"}";
	assert_int_equal(edu_item_from_json_text(it, t, strlen(t), why, sizeof why), EDU_OK);
	assert_string_equal(it->body, "a\\u0000 ệ 😀");
	/* published sets the offset whatever the key order */
	t = "{\"updated\": \"2026-01-01T00:00:00+01:00\", \"published\": \"2026-01-01T00:00:00+07:00\"}";
	assert_int_equal(edu_item_from_json_text(it, t, strlen(t), why, sizeof why), EDU_OK);
	assert_int_equal(it->tz_offset_min, 420);
	/* the text need not be NUL-terminated: only len bytes are read */
	t = "{\"title\": \"y\"}{\"title\": \"z\"}";
	assert_int_equal(edu_item_from_json_text(it, t, 14, why, sizeof why), EDU_OK);
	assert_string_equal(it->title, "y");
	edu_item_free(it);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds),
		cmocka_unit_test(unit_id),
		cmocka_unit_test(item_id),
		cmocka_unit_test(new_dup),
		cmocka_unit_test(validate_ok),
		cmocka_unit_test(validate_rejects),
		cmocka_unit_test(normalize),
		cmocka_unit_test(codec_roundtrip),
		cmocka_unit_test(decode_hostile),
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(record_hostile),
		cmocka_unit_test(peek_view),
		cmocka_unit_test(json_roundtrip),
		cmocka_unit_test(json_rejects),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
