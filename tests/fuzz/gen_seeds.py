#!/usr/bin/python3
"""Writes the committed seed corpora (tests/fuzz/corpus/<driver>/): a few
well-formed inputs per decoder so the fuzzer starts deep, and hostile ones
(truncated, huge declared lengths, wrong versions, deep nesting, invalid and
overlong UTF-8, NUL bytes). Deterministic: re-running it rewrites the same
files. Seeds found by fuzzing are kept beside these under other names
(regression-*), which this script never touches."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SEED = 64 * 1024


def write(driver, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) <= MAX_SEED, (driver, name, len(data))
    d = os.path.join(HERE, "corpus", driver)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- protobuf (hand-rolled, canonical like protobuf-c: field order, defaults omitted) ----
def varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(field, wt):
    return varint((field << 3) | wt)


def f_varint(field, v):
    return key(field, 0) + varint(v) if v else b""


def f_bytes(field, b, keep_empty=False):
    if isinstance(b, str):
        b = b.encode("utf-8")
    if not b and not keep_empty:
        return b""
    return key(field, 2) + varint(len(b)) + b


def item(unit="th-hoa-an", seq=1, version=1, kind=1, deleted=False, title="Tin mới", summary="",
         body="", tags=(), author="", published=1735689600, updated=1735689600, tz=420,
         attachments=(), doc_number="", doc_date="", signer="", starts=0, ends=0, location="",
         unit_name="Trường Tiểu học Hòa An", source_url=""):
    out = f_bytes(1, unit) + f_varint(2, seq) + f_varint(3, version) + f_varint(4, kind)
    out += f_varint(5, 1 if deleted else 0) + f_bytes(6, title) + f_bytes(7, summary) + f_bytes(8, body)
    for t in tags:
        out += f_bytes(9, t, True)
    out += f_bytes(10, author) + f_varint(11, published) + f_varint(12, updated)
    out += f_varint(13, zigzag(tz))
    for a in attachments:
        out += f_bytes(14, a, True)
    out += f_bytes(15, doc_number) + f_bytes(16, doc_date) + f_bytes(17, signer)
    out += f_varint(18, starts) + f_varint(19, ends) + f_bytes(20, location)
    out += f_bytes(21, unit_name) + f_bytes(22, source_url)
    return out


def attachment(name="kehoach.pdf", media="application/pdf", size=12345, sha=b"\x11" * 32):
    return f_bytes(1, name) + f_bytes(2, media) + f_varint(3, size) + f_bytes(4, sha)


def record(item_bytes, fmt=1, sig=b"", received=0):
    return f_varint(1, fmt) + f_bytes(2, item_bytes) + f_bytes(3, sig) + f_varint(4, received)


def items():
    news = item(title="Học sinh giỏi cấp tỉnh năm 2025", summary="Tin vui",
                body="Chúc mừng **các em** học sinh.\n\n- một\n- hai\n", tags=("thi đua", "học sinh"),
                author="Ban giám hiệu")
    doc = item(seq=7, version=3, kind=3, title="Công văn số 12/PGDĐT", doc_number="12/PGDĐT",
               doc_date="2025-01-02", signer="Nguyễn Văn A",
               attachments=(attachment(), attachment("anh.png", "image/png", 99, b"\x22" * 32)))
    ev = item(seq=9, kind=4, title="Họp hội đồng", starts=1735700000, ends=1735710000, location="Phòng họp")
    tomb = item(seq=3, version=2, deleted=True, title="", unit_name="")
    ann = item(seq=2, kind=2, title="Thông báo nghỉ Tết", tz=-300, source_url="https://old.example.vn/a?id=1")
    valid = {"news": news, "document": doc, "event": ev, "tombstone": tomb, "announcement": ann}
    return valid


def gen_item_decode():
    d = "fuzz_item_decode"
    valid = items()
    for k, v in valid.items():
        write(d, "item-" + k, v)
        write(d, "record-" + k, record(v, sig=b"\x5a" * 64 if k == "news" else b"", received=1735689600123))
    news = valid["news"]
    write(d, "empty", b"")
    write(d, "truncated-item", news[: len(news) // 2])
    write(d, "truncated-record", record(news)[:-7])
    write(d, "record-format-2", record(news, fmt=2))
    write(d, "record-format-0", record(news, fmt=0))
    write(d, "record-empty-item", f_varint(1, 1) + key(2, 2) + varint(0))
    write(d, "record-sig-63", record(news, sig=b"\x01" * 63))
    write(d, "record-huge-len", f_varint(1, 1) + key(2, 2) + varint(0xFFFFFFFF) + b"abc")
    write(d, "record-huge-len64", f_varint(1, 1) + key(2, 2) + varint((1 << 63) + 5) + b"abc")
    write(d, "item-huge-title-len", key(1, 2) + varint(9) + b"th-hoa-an" + key(6, 2) + varint(0x7FFFFFFF) + b"x")
    write(d, "item-varint-11-bytes", key(2, 0) + b"\xff" * 10 + b"\x01")
    write(d, "item-bad-utf8-title", item(title=b"\xc3\x28 bad"))
    write(d, "item-overlong-slash", item(title=b"\xc0\xaf"))
    write(d, "item-surrogate", item(title=b"\xed\xa0\x80"))
    write(d, "item-nul-title", item(title="a\0b"))
    write(d, "item-title-301", item(title="ắ" * 301))
    write(d, "item-title-300", item(title="ắ" * 300))
    write(d, "item-kind-99", item(kind=99))
    write(d, "item-version-0", item(version=0))
    write(d, "item-seq-0", item(seq=0))
    write(d, "item-tz-huge", item(tz=100000))
    write(d, "item-time-neg", item(published=-62135596801))
    write(d, "item-time-max", item(published=253402300800, updated=253402300800))
    write(d, "item-unit-upper", item(unit="TH-Hoa-An"))
    write(d, "item-unit-long", item(unit="a" * 41))
    write(d, "item-sha-31", item(attachments=(attachment(sha=b"\x11" * 31),)))
    write(d, "item-attach-too-big", item(attachments=(attachment(size=11 * 1024 * 1024),)))
    write(d, "item-21-attachments", item(attachments=tuple(attachment(name="a%d" % i) for i in range(21))))
    write(d, "item-33-tags", item(tags=tuple("t%d" % i for i in range(33))))
    write(d, "item-out-of-order-valid", f_bytes(6, "Tin") + item(title=""))
    write(d, "item-out-of-order", f_bytes(6, "Tin") + f_bytes(1, "th-hoa-an") + f_varint(2, 1) + f_varint(3, 1))
    write(d, "item-explicit-default", item(title="Tin") + key(5, 0) + varint(0))
    write(d, "item-repeated-scalar", item() + f_bytes(6, "again"))
    write(d, "item-unknown-field", item() + f_bytes(99, "mystery") + key(100, 0) + varint(1))
    write(d, "item-wrong-wiretype", key(1, 0) + varint(5) + item()[2:])
    write(d, "item-deep-groups", (key(50, 3)) * 2000 + key(50, 4) * 2000)
    write(d, "item-fixed-fields", key(2, 1) + b"\x01" * 8 + key(3, 5) + b"\x01" * 4)
    write(d, "item-body-256k-len", key(8, 2) + varint(256 * 1024 + 1) + b"x" * 100)


def envelope(body_field, body, version=1):
    return f_varint(1, version) + f_bytes(body_field, body, True)


def status(unit="th-hoa-an", parent="pgd-x", role="school", version="0.1.0", uptime=10, total=5, own=5,
           state="online", backlog=0, oldest=0, last_ack=1000, age=0):
    return (f_bytes(1, unit) + f_bytes(2, parent) + f_bytes(3, role) + f_bytes(4, version) +
            f_varint(5, uptime) + f_varint(6, total) + f_varint(7, own) + f_bytes(8, state) +
            f_varint(9, backlog) + f_varint(10, oldest) + f_varint(11, last_ack) + f_varint(12, age))


def gen_wire():
    d = "fuzz_wire"
    v = items()
    hello = f_bytes(1, "th-hoa-an") + f_bytes(2, "0.1.0") + f_varint(3, 1)
    write(d, "hello", envelope(2, hello))
    write(d, "hello-challenge", envelope(2, hello + f_bytes(4, b"\x07" * 64)))
    write(d, "hello-ack", envelope(3, f_bytes(1, "pgd-x") + f_varint(2, 1735689600000) + f_bytes(3, b"\x01" * 32)))
    blob = f_bytes(1, b"\x11" * 32) + f_bytes(2, b"%PDF-1.4 hello")
    push = f_varint(1, 42) + b"".join(f_bytes(2, record(x)) for x in v.values()) + f_bytes(3, blob)
    write(d, "push", envelope(4, push))
    write(d, "push-empty", envelope(4, f_varint(1, 42)))
    rej = f_varint(1, 2) + f_varint(2, 3) + f_bytes(3, "th-hoa-an:9")
    write(d, "push-ack", envelope(5, f_varint(1, 42) + f_bytes(2, rej)))
    hb = f_bytes(1, status()) + f_bytes(1, status(unit="thcs-a", age=5000, backlog=3, oldest=900))
    write(d, "heartbeat", envelope(6, hb))
    write(d, "heartbeat-ack", envelope(7, f_varint(1, 1735689600000)))
    write(d, "error", envelope(8, f_varint(1, 3) + f_bytes(2, "say Hello first")))
    # hostile
    write(d, "empty", b"")
    write(d, "version-2", envelope(2, hello, version=2))
    write(d, "version-0", envelope(2, hello, version=0))
    write(d, "no-body", f_varint(1, 1))
    write(d, "two-bodies", envelope(2, hello) + f_bytes(8, f_varint(1, 1)))
    write(d, "truncated-push", envelope(4, push)[:-20])
    write(d, "huge-len", f_varint(1, 1) + key(4, 2) + varint(0xFFFFFFFFFF) + b"\x08\x01")
    write(d, "huge-record-len", f_varint(1, 1) + key(4, 2) + varint(12) + f_varint(1, 1) + key(2, 2) +
          varint(1 << 40) + b"xx")
    write(d, "push-no-upto", envelope(4, f_bytes(2, record(v["news"]))))
    write(d, "push-4097-records", envelope(4, f_varint(1, 9) + (key(2, 2) + varint(0)) * 4097))
    write(d, "push-513-blobs", envelope(4, f_varint(1, 9) + (key(3, 2) + varint(0)) * 513))
    write(d, "push-blob-sha-31", envelope(4, f_varint(1, 9) + f_bytes(3, f_bytes(1, b"\x11" * 31))))
    write(d, "push-bad-record", envelope(4, f_varint(1, 9) + f_bytes(2, b"\xff\xff\xff")))
    write(d, "push-record-fmt2", envelope(4, f_varint(1, 9) + f_bytes(2, record(v["news"], fmt=2))))
    write(d, "push-forged-unit", envelope(4, f_varint(1, 9) + f_bytes(2, record(item(unit="BAD UNIT")))))
    write(d, "heartbeat-none", envelope(6, b""))
    write(d, "heartbeat-bad-unit", envelope(6, f_bytes(1, status(unit="x"))))
    write(d, "heartbeat-neg-age", envelope(6, f_bytes(1, status(age=-5))))
    write(d, "heartbeat-max-age", envelope(6, f_bytes(1, status(age=(1 << 63) - 1, oldest=(1 << 63) - 1,
                                                                 last_ack=(1 << 63) - 1))))
    write(d, "heartbeat-min-times", envelope(6, f_bytes(1, status(oldest=-(1 << 63), last_ack=-(1 << 63)))))
    write(d, "heartbeat-long-state", envelope(6, f_bytes(1, status(state="x" * 2000))))
    write(d, "heartbeat-ctl-role", envelope(6, f_bytes(1, status(role="sch\x01ol"))))
    write(d, "heartbeat-many-empty", envelope(6, (key(1, 2) + varint(0)) * 16000))
    write(d, "heartbeat-bad-utf8", envelope(6, f_bytes(1, status(parent=b"\xc0\xaf"))))
    write(d, "hello-bad-unit", envelope(2, f_bytes(1, "../etc")))
    write(d, "hello-nul-unit", envelope(2, f_bytes(1, "th-a\0b")))
    write(d, "hello-long-version", envelope(2, f_bytes(1, "th-a") + f_bytes(2, "v" * 1025)))
    write(d, "hello-long-sig", envelope(2, f_bytes(1, "th-a") + f_bytes(4, b"s" * 513)))
    write(d, "error-long", envelope(8, f_varint(1, 1) + f_bytes(2, "e" * 1025)))
    write(d, "error-code-99", envelope(8, f_varint(1, 99) + f_bytes(2, "odd")))
    write(d, "push-ack-bad-reject", envelope(5, f_varint(1, 4) + f_bytes(2, f_bytes(3, "\x00"))))
    write(d, "deep-groups", f_varint(1, 1) + key(60, 3) * 3000 + key(60, 4) * 3000)
    # bodies of the identity and directive exchanges
    write(d, "hello-cert", envelope(2, f_bytes(1, "th-hoa-an") + f_bytes(2, "0.1.0") + f_varint(3, 1) +
                                    f_bytes(5, b"\x30\x82\x01\x00" + b"\x00" * 60) + f_bytes(6, b"\x42" * 32)))
    write(d, "hello-cert-no-nonce", envelope(2, f_bytes(1, "th-hoa-an") + f_bytes(5, b"\x30\x00")))
    write(d, "auth", envelope(9, f_bytes(1, b"\x01" * 64)))
    write(d, "auth-short-sig", envelope(9, f_bytes(1, b"\x01" * 63)))
    write(d, "auth-ack", envelope(10, f_varint(1, 1735689600000)))
    write(d, "dir-sync", envelope(11, f_varint(1, 5) + f_bytes(2, b"receipt-1") + f_bytes(2, b"receipt-2")))
    write(d, "dir-sync-empty-receipt", envelope(11, f_varint(1, 5) + key(2, 2) + varint(0)))
    write(d, "dir-sync-ack", envelope(12, f_varint(1, 6) + f_bytes(2, b"directive-1") + f_varint(3, 2)))
    write(d, "dir-sync-ack-many", envelope(12, f_varint(1, 6) + (key(2, 2) + varint(1) + b"x") * 5000))
    write(d, "not-protobuf", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    write(d, "sp-handshake", b"\x00SP\x00\x00\x30\x00\x00")


def gen_conf():
    d = "fuzz_conf"
    school = ("[node]\nid = th-hoa-an\nrole = school\nname = Trường Tiểu học Hòa An\ndata_dir = data\n"
              "log_level = info\ntimezone = +07:00\nmap_size_mb = 64\n\n[uplink]\n"
              "parent = tcp://127.0.0.1:7400\n\n[http]\nlisten = 127.0.0.1:8080\nthreads = 1\n"
              "max_body_kb = 11264\ntimeout_s = 30\n\n[admin]\ntoken_file = admin.token\n")
    phong = ("[node]\nid = pgd-y\nrole = phong\nname = Phòng Y\ndata_dir = data-phong\n"
             "registry = units.csv\nmap_size_mb = 256\nmap_max_mb = 0\n[uplink]\n"
             "parent = tls+tcp://so-x.example.edu.vn:7400\n[downlink]\nlisten = tls+tcp://0.0.0.0:7400\n"
             "[http]\nlisten = 127.0.0.1:8080\nbase_url = https://pgd-y.example.edu.vn\nthreads = 2\n"
             "[tls]\nca = ca.pem\ncert = node.crt\nkey = node.key\n[admin]\ntoken_file = admin.token\n")
    so = ("[node]\nid = so-x\nrole = so\ndata_dir = data-so\nregistry = units.csv\n"
          "[downlink]\nlisten = tcp://0.0.0.0:7400\n[http]\nlisten = [::1]:8081\n")
    write(d, "school", school)
    write(d, "phong", phong)
    write(d, "so", so)
    write(d, "school-crlf", school.replace("\n", "\r\n"))
    write(d, "school-bom", "\ufeff" + school)
    write(d, "school-comments", school.replace("\n[http]", "\n; comment\n# another\n[http]  ; inline\n"))
    write(d, "empty", "")
    write(d, "unknown-key", school + "colour = blue\n")
    write(d, "unknown-section", school + "[extra]\nx = 1\n")
    write(d, "duplicate-key", school.replace("role = school\n", "role = school\nrole = so\n"))
    write(d, "long-line", school + "name = " + "x" * 5000 + "\n")
    write(d, "bad-utf8", school.encode() + b"name = \xc3\x28\n")
    write(d, "overlong-utf8", school.encode() + b"name = \xc0\xaf\xe0\x80\xaf\n")
    write(d, "nul-bytes", school.encode().replace(b"id = th-hoa-an", b"id = th\0hoa-an"))
    write(d, "bad-port", school.replace("127.0.0.1:8080", "127.0.0.1:99999"))
    write(d, "port-zero", school.replace("127.0.0.1:8080", "127.0.0.1:0"))
    write(d, "huge-number", school.replace("map_size_mb = 64", "map_size_mb = 99999999999999999999999"))
    write(d, "negative-number", school.replace("timeout_s = 30", "timeout_s = -1"))
    write(d, "bad-timezone", school.replace("+07:00", "+25:99"))
    write(d, "tls-no-certs", school.replace("tcp://127.0.0.1:7400", "tls+tcp://127.0.0.1:7400"))
    write(d, "world-readable-token", school.replace("admin.token", "open.token"))
    write(d, "missing-file", phong.replace("units.csv", "nope.csv"))
    write(d, "so-with-parent", so + "[uplink]\nparent = tcp://1.2.3.4:5\n")
    write(d, "no-section-bracket", "[node\nid = x\n")
    write(d, "no-equals", "[node]\nid\n")
    write(d, "key-colon", school.replace("id = th-hoa-an", "id: th-hoa-an"))
    write(d, "bad-url", phong.replace("tls+tcp://0.0.0.0:7400", "http://0.0.0.0:7400"))
    write(d, "ipv6-listen", school.replace("127.0.0.1:8080", "[::1]:8080"))
    write(d, "bad-id", school.replace("th-hoa-an", "TH HOA AN"))
    write(d, "many-sections", "[node]\n" * 3000)
    write(d, "deep-brackets", "[" * 4000 + "\n")


def gen_json():
    d = "fuzz_json_item"
    write(d, "news", '{"kind":"news","title":"Học sinh giỏi","summary":"Tin vui","body":"**Chúc mừng**",'
                     '"tags":["thi đua"],"author":"BGH","published":"2025-01-02T08:00:00+07:00"}')
    write(d, "document", '{"kind":"document","title":"Công văn 12","doc_number":"12/PGDĐT",'
                         '"doc_date":"2025-01-02","signer":"Nguyễn Văn A"}')
    write(d, "event", '{"kind":"event","title":"Họp","starts":"2025-01-02T08:00:00+07:00",'
                      '"ends":"2025-01-02T10:00:00+07:00","location":"Phòng họp"}')
    write(d, "announcement", '{"kind":"announcement","title":"Nghỉ Tết","updated":"2025-01-02T01:00:00Z"}')
    write(d, "attachments", '{"kind":"news","title":"Tệp","attachments":[{"name":"a.pdf","media_type":'
                            '"application/pdf","size":10,"sha256":"' + "ab" * 32 + '"}]}')
    write(d, "nulls", '{"kind":"news","title":"x","summary":null,"body":null,"tags":null,"author":null}')
    write(d, "nfd", '{"kind":"news","title":"Ho\u0323c sinh gio\u0309i"}'.encode("utf-8"))
    write(d, "empty-object", "{}")
    write(d, "not-object", "[1,2,3]")
    write(d, "unknown-key", '{"kind":"news","title":"x","colour":"blue"}')
    write(d, "duplicate-key", '{"kind":"news","title":"x","title":"y"}')
    write(d, "wrong-types", '{"kind":1,"title":["x"],"tags":"a","published":12345}')
    write(d, "huge-int", '{"kind":"news","title":"x","attachments":[{"name":"a","media_type":"b",'
                         '"size":99999999999999999999999,"sha256":"00"}]}')
    write(d, "neg-size", '{"kind":"news","title":"x","attachments":[{"name":"a","media_type":"b",'
                         '"size":-1,"sha256":"' + "00" * 32 + '"}]}')
    write(d, "escaped-nul", '{"kind":"news","title":"a\\u0000b"}')
    write(d, "lone-surrogate", '{"kind":"news","title":"a\\ud800b"}')
    write(d, "ctl-chars", '{"kind":"news","title":"a\\u0001\\r\\nb","summary":"\\u007f"}')
    write(d, "crlf-title", '{"kind":"news","title":"Set-Cookie: x\\r\\nX-Injected: 1"}')
    write(d, "deep-array", '{"kind":"news","title":"x","tags":' + "[" * 5000 + "]" * 5000 + "}")
    write(d, "deep-object", '{"a":' * 3000 + "1" + "}" * 3000)
    write(d, "truncated", '{"kind":"news","title":"x')
    write(d, "time-bad", '{"kind":"news","title":"x","published":"2025-13-45T99:99:99+07:00"}')
    write(d, "time-leap", '{"kind":"news","title":"x","published":"2016-12-31T23:59:60Z"}')
    write(d, "time-extremes", '{"kind":"event","title":"x","starts":"0000-01-01T00:00:00-23:59",'
                              '"ends":"9999-12-31T23:59:59+23:59"}')
    write(d, "time-frac", '{"kind":"news","title":"x","published":"2025-01-02T08:00:00.123456789+07:00"}')
    write(d, "long-title", '{"kind":"news","title":"' + "ắ" * 301 + '"}')
    write(d, "many-tags", '{"kind":"news","title":"x","tags":[' + ",".join('"t%d"' % i for i in range(40)) + "]}")
    write(d, "unit-override", '{"kind":"news","title":"x","unit":"so-x","id":"so-x:1","version":9,"deleted":true}')
    write(d, "bad-sha", '{"kind":"news","title":"x","attachments":[{"name":"a","media_type":"b","size":1,'
                        '"sha256":"zz"}]}')
    write(d, "xss-title", '{"kind":"news","title":"<script>alert(1)</script>","body":"[x](javascript:alert(1))"}')


XSS_MD = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](java\tscript:alert(1))",
    "[a](&#106;avascript:alert(1))",
    "[a](&#x6A;avascript&colon;alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](%6Aavascript:alert(1))",
    "[a](\x01javascript:alert(1))",
    "[a](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a](http://x \"onmouseover=alert(1)\")",
    "[a](http://x 'a\" onmouseover=\"alert(1)')",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg/onload=alert(1)>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<iframe src=javascript:alert(1)>",
    "`<script>` and ```\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "<!-- --><script>alert(1)</script>",
    "<div\nonclick=alert(1)>x</div>",
    "[\"><script>alert(1)</script>](http://x)",
    "![\" onerror=\"alert(1)](http://x/a.png)",
    "[a](http://x/\"onmouseover=alert(1)//)",
    "<http://x/\" onmouseover=\"alert(1)>",
    "<mailto:a@b.c?subject=\"><script>alert(1)</script>>",
    "[a](javascript://%0aalert(1))",
    "[a](  javascript:alert(1)  )",
    "[a](jav&#x09;ascript:alert(1))",
    "[a](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))",
]


def gen_markdown():
    d = "fuzz_markdown"
    write(d, "doc", "# Tiêu đề\n\nĐoạn **đậm** và *nghiêng*, `mã`.\n\n- một\n- hai\n\n1. a\n2. b\n\n"
                    "> trích dẫn\n\n```c\nint x;\n```\n\n[liên kết](https://example.vn/a?b=1) "
                    "![ảnh](/static/a.png \"tiêu đề\") <https://x.vn> <a@b.vn>\n\n---\n\n| a | b |\n")
    write(d, "links", "[r1] [r2] [rel](../x) [frag](#top) [mail](mailto:a@b.vn)\n\n[r1]: http://a\n[r2]: https://b\n")
    for i, p in enumerate(XSS_MD):
        write(d, "xss-%02d" % i, p)
    write(d, "nul-bytes", b"a\0b [x](java\0script:alert(1))")
    write(d, "bad-utf8", b"\xc3\x28 \xff\xfe [\xe0\x80\xaf](http://x)")
    write(d, "overlong", b"\xc0\xbcscript\xc0\xbealert(1)\xc0\xbc/script\xc0\xbe")
    write(d, "deep-quote", ">" * 20000)
    write(d, "deep-list", "".join("  " * i + "- x\n" for i in range(150)))
    write(d, "deep-emph", "*" * 10000 + "x" + "*" * 10000)
    write(d, "deep-brackets", "[" * 10000 + "x" + "](" * 5000)
    write(d, "many-refs", "".join("[%d]: http://x/%d\n" % (i, i) for i in range(1000)) + "[1] [999]")
    write(d, "entities", "&amp; &#0; &#x110000; &#xD800; &nbsp; &bogus; &#99999999999;")
    write(d, "empty", "")


def gen_fold():
    d = "fuzz_fold"
    write(d, "vi", "Trường Tiểu học Hòa An — Đồng Tháp: học sinh giỏi 2025!")
    write(d, "vi-nfd", "Tru\u031bo\u031b\u0300ng Ho\u0323c sinh Đô\u0302\u0300ng")
    write(d, "casefold", "ß ẞ İ ı ǅ ﬁ Ω K Å ᾈ ΣΑΣ ŉ ǰ ΐ")
    write(d, "compat", "① ² ｆｕｌｌ ㍿ ﷺ ℌ ⅷ ㎒")
    write(d, "combining-only", "\u0301\u0302\u0303" * 50)
    write(d, "hangul", "한국어 테스트 각")
    write(d, "emoji", "👩‍👩‍👧 🇻🇳 ✌🏽")
    write(d, "bidi", "\u202eabc\u202c \u200b\u200d\ufeff")
    write(d, "long-token", "a" * 200 + " " + "đ" * 100)
    write(d, "many-tokens", "a " * 9000)
    write(d, "nul", b"ab\0cd")
    write(d, "bad-utf8", b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\xff")
    write(d, "overlong", b"\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf\xc1\xbf")
    write(d, "surrogates", b"\xed\xa0\x80\xed\xbf\xbf")
    write(d, "above-max", b"\xf4\x90\x80\x80\xf8\x88\x80\x80\x80")
    write(d, "truncated", "Đồng".encode()[:-1])
    write(d, "noncharacters", "\ufffe\uffff\U0010FFFF\U0001FFFE")
    write(d, "digits", "٣ ३ 3 ³ ⅳ")
    write(d, "empty", b"")


def gen_registry():
    d = "fuzz_registry"
    head = "id,name,type,parent\n"
    base = head + ("so-x,Sở Giáo dục X,so,\npgd-a,Phòng A,phong,so-x\nthpt-a,THPT A,thpt,so-x\n"
                   "xa-b,Xã B,xa,so-x\nthcs-a,THCS A,thcs,pgd-a\nth-b,TH B,th,xa-b\nmn-c,MN C,mn,so-x\n"
                   "gdtx-a,GDTX A,gdtx,so-x\n")
    write(d, "basic", base)
    src = os.path.join(HERE, "..", "..", "config", "dongthap-units.csv")
    if os.path.exists(src):
        with open(src, "rb") as f:
            lines = f.read().split(b"\n")
        write(d, "dongthap-head", b"\n".join(lines[:60]) + b"\n")
    write(d, "crlf", base.replace("\n", "\r\n"))
    write(d, "bom", "\ufeff" + base)
    write(d, "quoted", head + 'so-x,"Sở, ""X""",so,\n"pgd-a","Phòng A",phong,"so-x"\n')
    write(d, "quote-unterminated", head + 'so-x,"Sở X,so,\n')
    write(d, "quote-newline", head + 'so-x,"Sở\nX",so,\n')
    write(d, "empty", "")
    write(d, "header-only", head)
    write(d, "no-header", "so-x,Sở X,so,\n")
    write(d, "bad-header", "id,name,kind,parent\nso-x,X,so,\n")
    write(d, "two-roots", head + "so-x,X,so,\nso-y,Y,so,\n")
    write(d, "cycle", head + "so-x,X,so,\npgd-a,A,phong,pgd-b\npgd-b,B,phong,pgd-a\n")
    write(d, "self-parent", head + "so-x,X,so,\npgd-a,A,phong,pgd-a\n")
    write(d, "unknown-parent", head + "so-x,X,so,\npgd-a,A,phong,pgd-zz\n")
    write(d, "duplicate", head + "so-x,X,so,\npgd-a,A,phong,so-x\npgd-a,A2,phong,so-x\n")
    chain = head + "so-x,X,so,\nxa-0,X0,xa,so-x\n" + "".join(
        "xa-%d,X%d,xa,xa-%d\n" % (i, i, i - 1) for i in range(1, 25))
    write(d, "deep-chain", chain)
    write(d, "school-under-school", head + "so-x,X,so,\nth-a,A,th,so-x\nth-b,B,th,th-a\n")
    write(d, "bad-type", head + "so-x,X,so,\npgd-a,A,district,so-x\n")
    write(d, "bad-id", head + "so-x,X,so,\nPGD A,A,phong,so-x\n")
    write(d, "long-name", head + "so-x," + "ắ" * 200 + ",so,\n")
    write(d, "bad-utf8", head.encode() + b"so-x,\xc3\x28\xc0\xaf,so,\n")
    write(d, "nul", head.encode() + b"so-x,X\0Y,so,\n")
    write(d, "too-many-fields", head + "so-x,X,so,,extra\n")
    write(d, "too-few-fields", head + "so-x,X\n")
    write(d, "blank-lines", head + "\n\nso-x,X,so,\n\n")
    write(d, "no-final-newline", head + "so-x,X,so,")
    write(d, "root-not-so", head + "pgd-a,A,phong,\n")
    write(d, "many-units", head + "so-x,X,so,\n" + "".join("th-%d,T,th,so-x\n" % i for i in range(2000)))


if __name__ == "__main__":
    gen_item_decode()
    gen_wire()
    gen_conf()
    gen_json()
    gen_markdown()
    gen_fold()
    gen_registry()
    for drv in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        print(drv, len(os.listdir(os.path.join(HERE, "corpus", drv))))
