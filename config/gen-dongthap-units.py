#!/usr/bin/env python3
"""Generates config/dongthap-units.csv, the sample units registry (SPEC §1).

The Sở and its twelve Phòng, THPT schools and GDTX centres are the province's
real bodies (pre-2025 district map); the THCS, TH and MN schools under each
Phòng are named after that district's communes and wards, with realistic
counts. A few post-2025 communes (`xa`) sit directly under the Sở with their
own schools, to show that the tree's shape comes from the registry.

Deterministic: the same script always writes the same file.
    python3 config/gen-dongthap-units.py > config/dongthap-units.csv
"""
import csv
import re
import sys
import unicodedata

SO = ("so-dongthap", "Sở Giáo dục và Đào tạo Đồng Tháp")

# (id, district name as in "Phòng GD&ĐT <name>", gdtx centre name, communes/wards)
DISTRICTS = [
    ("pgd-tp-caolanh", "thành phố Cao Lãnh", "thành phố Cao Lãnh",
     ["Phường 1", "Phường 2", "Phường 3", "Phường 4", "Phường 6", "Phường 11",
      "Hòa Thuận", "Mỹ Phú", "Mỹ Tân", "Mỹ Trà", "Tân Thuận Đông", "Tân Thuận Tây",
      "Hòa An", "Tịnh Thới", "Mỹ Ngãi"]),
    ("pgd-tp-sadec", "thành phố Sa Đéc", "thành phố Sa Đéc",
     ["Phường 1", "Phường 2", "Phường 3", "Phường 4", "An Hòa", "Tân Quy Đông",
      "Tân Khánh Đông", "Tân Quy Tây", "Tân Phú Đông"]),
    ("pgd-tp-hongngu", "thành phố Hồng Ngự", "thành phố Hồng Ngự",
     ["An Thạnh", "An Lộc", "An Lạc", "An Bình A", "An Bình B", "Tân Hội", "Bình Thạnh"]),
    ("pgd-tanhong", "huyện Tân Hồng", "huyện Tân Hồng",
     ["Sa Rài", "Tân Hộ Cơ", "Thông Bình", "Bình Phú", "Tân Thành A", "Tân Thành B",
      "Tân Phước", "Tân Công Chí", "An Phước"]),
    ("pgd-hongngu", "huyện Hồng Ngự", "huyện Hồng Ngự",
     ["Thường Thới Tiền", "Thường Phước 1", "Thường Phước 2", "Thường Lạc",
      "Thường Thới Hậu A", "Long Khánh A", "Long Khánh B", "Long Thuận",
      "Phú Thuận A", "Phú Thuận B"]),
    ("pgd-tamnong", "huyện Tam Nông", "huyện Tam Nông",
     ["Tràm Chim", "Tân Công Sính", "Phú Hiệp", "Phú Đức", "Phú Thành A", "Phú Thành B",
      "An Hòa", "An Long", "Phú Ninh", "Hòa Bình", "An Phong"]),
    ("pgd-thanhbinh", "huyện Thanh Bình", "huyện Thanh Bình",
     ["Thanh Bình", "Tân Quới", "Tân Hòa", "An Phong", "Phú Lợi", "Tân Mỹ", "Tân Huề",
      "Tân Long", "Tân Bình", "Tân Phú", "Tân Thạnh", "Bình Thành", "Bình Tấn"]),
    ("pgd-thapmuoi", "huyện Tháp Mười", "huyện Tháp Mười",
     ["Mỹ An", "Mỹ Hòa", "Mỹ Quý", "Mỹ Đông", "Đốc Binh Kiều", "Phú Điền", "Láng Biển",
      "Thanh Mỹ", "Tân Kiều", "Thạnh Lợi", "Hưng Thạnh", "Trường Xuân"]),
    ("pgd-caolanh", "huyện Cao Lãnh", "huyện Cao Lãnh",
     ["Mỹ Thọ", "Ba Sao", "Phương Thịnh", "Gáo Giồng", "Phong Mỹ", "Tân Nghĩa",
      "Phương Trà", "Nhị Mỹ", "Mỹ Xương", "Bình Hàng Trung", "Bình Hàng Tây", "Mỹ Long",
      "Mỹ Hiệp", "Bình Thạnh", "Mỹ Hội", "An Bình", "Tân Hội Trung"]),
    ("pgd-lapvo", "huyện Lấp Vò", "huyện Lấp Vò",
     ["Lấp Vò", "Mỹ An Hưng A", "Mỹ An Hưng B", "Tân Mỹ", "Tân Khánh Trung",
      "Long Hưng A", "Long Hưng B", "Vĩnh Thạnh", "Bình Thạnh Trung", "Hội An Đông",
      "Định An", "Định Yên", "Bình Thành"]),
    ("pgd-laivung", "huyện Lai Vung", "huyện Lai Vung",
     ["Lai Vung", "Tân Thành", "Long Hậu", "Tân Phước", "Hòa Long", "Long Thắng",
      "Vĩnh Thới", "Tân Hòa", "Định Hòa", "Phong Hòa", "Tân Dương", "Hòa Thành"]),
    ("pgd-chauthanh", "huyện Châu Thành", "huyện Châu Thành",
     ["Cái Tàu Hạ", "An Hiệp", "An Nhơn", "An Khánh", "Tân Nhuận Đông", "Tân Bình",
      "Tân Phú Trung", "Phú Long", "An Phú Thuận", "Phú Hựu", "Tân Phú", "Hòa Tân"]),
]

# THPT schools under the Sở: (id, name). Ids follow SPEC's example style.
THPT = [
    ("thpt-tp-cao-lanh", "Trường THPT Thành phố Cao Lãnh"),
    ("thpt-nguyen-quang-dieu", "Trường THPT Chuyên Nguyễn Quang Diêu"),
    ("thpt-nguyen-dinh-chieu", "Trường THPT Chuyên Nguyễn Đình Chiểu"),
    ("thpt-thap-muoi", "Trường THPT Tháp Mười"),
    ("thpt-do-cong-tuong", "Trường THPT Đỗ Công Tường"),
    ("thpt-thien-ho-duong", "Trường THPT Thiên Hộ Dương"),
    ("thpt-cao-lanh-1", "Trường THPT Cao Lãnh 1"),
    ("thpt-cao-lanh-2", "Trường THPT Cao Lãnh 2"),
    ("thpt-kien-van", "Trường THPT Kiến Văn"),
    ("thpt-thong-linh", "Trường THPT Thống Linh"),
    ("thpt-my-quy", "Trường THPT Mỹ Quý"),
    ("thpt-truong-xuan", "Trường THPT Trường Xuân"),
    ("thpt-phu-dien", "Trường THPT Phú Điền"),
    ("thpt-doc-binh-kieu", "Trường THPT Đốc Binh Kiều"),
    ("thpt-thanh-binh-1", "Trường THPT Thanh Bình 1"),
    ("thpt-thanh-binh-2", "Trường THPT Thanh Bình 2"),
    ("thpt-tran-van-nang", "Trường THPT Trần Văn Năng"),
    ("thpt-tram-chim", "Trường THPT Tràm Chim"),
    ("thpt-tam-nong", "Trường THPT Tam Nông"),
    ("thpt-tan-hong", "Trường THPT Tân Hồng"),
    ("thpt-giong-thi-dam", "Trường THPT Giồng Thị Đam"),
    ("thpt-tan-thanh", "Trường THPT Tân Thành"),
    ("thpt-hong-ngu-1", "Trường THPT Hồng Ngự 1"),
    ("thpt-hong-ngu-2", "Trường THPT Hồng Ngự 2"),
    ("thpt-hong-ngu-3", "Trường THPT Hồng Ngự 3"),
    ("thpt-chu-van-an", "Trường THPT Chu Văn An"),
    ("thpt-long-khanh-a", "Trường THPT Long Khánh A"),
    ("thpt-lap-vo-1", "Trường THPT Lấp Vò 1"),
    ("thpt-lap-vo-2", "Trường THPT Lấp Vò 2"),
    ("thpt-lap-vo-3", "Trường THPT Lấp Vò 3"),
    ("thpt-nguyen-trai", "Trường THPT Nguyễn Trãi"),
    ("thpt-lai-vung-1", "Trường THPT Lai Vung 1"),
    ("thpt-lai-vung-2", "Trường THPT Lai Vung 2"),
    ("thpt-lai-vung-3", "Trường THPT Lai Vung 3"),
    ("thpt-phan-van-bay", "Trường THPT Phan Văn Bảy"),
    ("thpt-chau-thanh-1", "Trường THPT Châu Thành 1"),
    ("thpt-chau-thanh-2", "Trường THPT Châu Thành 2"),
    ("thpt-nguyen-du", "Trường THPT Nguyễn Du"),
    ("thpt-sa-dec", "Trường THPT Thành phố Sa Đéc"),
    ("thpt-tran-quoc-toan", "Trường THPT Trần Quốc Toản"),
    ("thpt-lap-vo-ptdtnt", "Trường Phổ thông Dân tộc Nội trú tỉnh Đồng Tháp"),
]

# Post-2025 communes (xa) under the Sở, each with a few schools of its own.
XA = [
    ("xa-my-tho", "Ủy ban nhân dân xã Mỹ Thọ", "Mỹ Thọ Mới"),
    ("xa-phong-hoa", "Ủy ban nhân dân xã Phong Hòa", "Phong Hòa Mới"),
    ("xa-tan-hong", "Ủy ban nhân dân xã Tân Hồng", "Tân Hồng Mới"),
]

MN_NAMES = ["Họa Mi", "Hoa Sen", "Sơn Ca", "Hoa Hồng", "Vành Khuyên", "Tuổi Thơ",
            "Hướng Dương", "Bông Sen", "Thiên Thần", "Sen Hồng", "Hoa Mai", "Ánh Dương",
            "Búp Măng", "Hoa Cúc", "Bé Ngoan", "Rạng Đông", "Mặt Trời Hồng", "Hoa Lúa"]

PEOPLE = ["Lê Quý Đôn", "Nguyễn Trãi", "Võ Thị Sáu", "Kim Hồng", "Nguyễn Văn Bánh",
          "Trần Hưng Đạo", "Lý Thường Kiệt", "Nguyễn Du", "Chu Văn An", "Hoàng Hoa Thám",
          "Phan Bội Châu", "Nguyễn Khuyến", "Lê Lợi", "Quang Trung", "Đinh Bộ Lĩnh",
          "Nguyễn Thị Minh Khai", "Trương Định", "Phạm Hữu Lầu", "Huỳnh Thúc Kháng"]


def slug(text):
    """ASCII, lowercase, words joined by '-': 'Tân Thuận Đông' -> 'tan-thuan-dong'."""
    t = text.replace("Đ", "D").replace("đ", "d")
    t = unicodedata.normalize("NFKD", t)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", t).strip("-")


class Registry:
    def __init__(self):
        self.rows = []
        self.ids = set()

    def add(self, uid, name, utype, parent, alt=None):
        """Adds a unit; on an id clash uses alt (an id made more specific)."""
        if uid in self.ids:
            uid = alt
        if not uid or uid in self.ids or not re.fullmatch(r"[a-z0-9-]{2,40}", uid):
            raise SystemExit("bad or duplicate id %r for %s" % (uid, name))
        self.ids.add(uid)
        self.rows.append((uid, unicodedata.normalize("NFC", name), utype, parent))
        return uid


def counter(seed):
    """A small deterministic pseudo-random sequence (LCG), for repeatable counts."""
    state = [seed]

    def nxt(n):
        state[0] = (state[0] * 1103515245 + 12345) % (1 << 31)
        return state[0] % n
    return nxt


def district_short(pid):
    return pid[len("pgd-"):].replace("tp-", "")


def add_schools(reg, parent, communes, rnd, suffix):
    """THCS (one or two per commune), TH (one or two, numbered), MN (flower names
    and commune names) under parent."""
    people = rnd(len(PEOPLE))  # walks PEOPLE from a random start: no repeat per district
    for c in communes:
        s = slug(c)
        reg.add("thcs-" + s, "Trường THCS " + c, "thcs", parent, "thcs-%s-%s" % (s, suffix))
        if rnd(2) == 0:
            # Second lower-secondary schools usually carry a person's name.
            person = PEOPLE[people % len(PEOPLE)]
            people += 1
            reg.add("thcs-" + slug(person), "Trường THCS " + person, "thcs", parent,
                    "thcs-%s-%s" % (slug(person), suffix))
    for c in communes:
        s = slug(c)
        n = 1 + (rnd(3) > 0)  # two primary schools in about two communes of three
        for k in range(1, n + 1):
            if n == 1:
                nm, uid = "Trường Tiểu học " + c, "th-" + s
            elif c[-1].isdigit():  # "Phường 2" → "Phường 2A", "Phường 2B"
                nm, uid = "Trường Tiểu học %s%s" % (c, "AB"[k - 1]), "th-%s%s" % (s, "ab"[k - 1])
            else:
                nm, uid = "Trường Tiểu học %s %d" % (c, k), "th-%s-%d" % (s, k)
            reg.add(uid, nm, "th", parent, "%s-%s" % (uid, suffix))
    for i, c in enumerate(communes):
        s = slug(c)
        if rnd(3) == 0:
            flower = MN_NAMES[(i + rnd(len(MN_NAMES))) % len(MN_NAMES)]
            reg.add("mn-%s-%s" % (slug(flower), s), "Trường Mầm non %s %s" % (flower, c), "mn",
                    parent, "mn-%s-%s-%s" % (slug(flower), s, suffix))
        else:
            reg.add("mn-" + s, "Trường Mầm non " + c, "mn", parent, "mn-%s-%s" % (s, suffix))


def main():
    reg = Registry()
    reg.add(SO[0], SO[1], "so", "")
    for pid, dname, _, _ in DISTRICTS:
        reg.add(pid, "Phòng Giáo dục và Đào tạo " + dname, "phong", SO[0])
    for uid, name in THPT:
        reg.add(uid, name, "thpt", SO[0])
    for pid, _, gname, _ in DISTRICTS:
        reg.add("gdtx-" + pid[len("pgd-"):],
                "Trung tâm Giáo dục nghề nghiệp - Giáo dục thường xuyên " + gname, "gdtx", SO[0])
    for xid, xname, _ in XA:
        reg.add(xid, xname, "xa", SO[0])
    rnd = counter(20250701)
    for pid, dname, _, communes in DISTRICTS:
        suffix = district_short(pid)
        if pid.startswith("pgd-tp-"):
            suffix = "tp" + suffix
        add_schools(reg, pid, communes, rnd, suffix)
    for xid, _, cname in XA:
        base = cname.replace(" Mới", "")
        xs = slug(base)
        reg.add("thcs-%s-moi" % xs, "Trường THCS " + cname, "thcs", xid)
        reg.add("th-%s-moi" % xs, "Trường Tiểu học " + cname, "th", xid)
        reg.add("th-%s-moi-2" % xs, "Trường Tiểu học %s 2" % cname, "th", xid)
        reg.add("mn-%s-moi" % xs, "Trường Mầm non " + cname, "mn", xid)

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["id", "name", "type", "parent"])
    for r in reg.rows:
        w.writerow(r)


if __name__ == "__main__":
    main()
