"""`edunetctl backup`: consistent copies of a live node's stores that a new node starts from."""
import json
import os
import shutil
import subprocess

from harness import EDUNETCTL, Failure, check, run  # noqa: F401


def items(n):
    st, doc, _ = n.api("GET", "/api/v1/items?limit=100", token=False)
    check(st == 200, "list: %s" % st)
    return sorted((i["id"], i["version"], i["title"]) for i in doc["items"])


def backup_restore(c):
    a = c.node("th-sao-luu", role="school", name="Trường Tiểu học Sao Lưu").start()
    for k in range(40):
        a.publish("Tin số %d về học sinh giỏi" % k, body="Nội dung **%d**" % k)
    st, doc, _ = a.api("PUT", "/api/v1/items/th-sao-luu:3", {"title": "Đã sửa"})
    check(st == 200, "update: %s %s" % (st, doc))
    before = items(a)
    out = os.path.join(c.dir, "backup")
    r = a.ctl("backup", "--out", out, json_out=True)
    check(r.returncode == 0, "backup: %s %s" % (r.returncode, r.stderr))
    rep = json.loads(r.stdout)
    check(rep["store_bytes"] > 0 and os.path.getsize(os.path.join(out, "data.mdb")) == rep["store_bytes"],
          "backup report %r" % rep)
    check(not [f for f in os.listdir(out) if f.endswith(".part")], "a .part file was left")
    # writes go on while the copy is taken; the copy is the state at its start or later
    a.publish("Sau sao lưu")
    a.stop()
    # restore into a new node's data_dir
    b = c.node("th-sao-luu-2", role="school", name="Trường Tiểu học Sao Lưu")
    b.conf["node"]["id"] = "th-sao-luu"
    b.write_config()
    data = b.conf["node"]["data_dir"]
    os.makedirs(os.path.join(data, "directives"), exist_ok=True)
    shutil.copy(os.path.join(out, "data.mdb"), os.path.join(data, "data.mdb"))
    if os.path.exists(os.path.join(out, "directives", "data.mdb")):
        shutil.copy(os.path.join(out, "directives", "data.mdb"), os.path.join(data, "directives", "data.mdb"))
    b.start()
    check(items(b) == before, "restored items differ")
    st, doc, _ = b.api("GET", "/api/v1/items?q=hoc+sinh&limit=100", token=False)
    check(st == 200 and len(doc["items"]) == 39, "search after restore: %s %d" % (st, len(doc.get("items", []))))
    # seqs continue after the restored ones
    iid = b.publish("Sau khôi phục")
    check(iid == "th-sao-luu:41", "next id after restore: %s" % iid)


def refusals(c):
    a = c.node("th-sao-luu", role="school").start()
    st, doc, _ = a.api("POST", "/api/v1/backup", token=False)
    check(st == 401, "backup without token: %s" % st)
    st, doc, _ = a.api("POST", "/api/v1/backup?db=nothing")
    check(st == 400, "bad db: %s %s" % (st, doc))
    st, doc, _ = a.api("GET", "/api/v1/backup")
    check(st == 405, "GET backup: %s" % st)
    r = a.ctl("backup")
    check(r.returncode == 2, "backup without --out: %s" % r.returncode)
    bad = subprocess.run([EDUNETCTL, "--node", a.url, "backup", "--out", os.path.join(c.dir, "x")],
                         capture_output=True, timeout=30)
    check(bad.returncode == 1 and b"401" in bad.stderr, "no token: %s %r" % (bad.returncode, bad.stderr))


if __name__ == "__main__":
    run([backup_restore, refusals])
