"""`ca` command end to end: the CA tool's files checked with OpenSSL, an
independent X.509 and ECDSA implementation.

Runs edunet-ca (the same edu_pki_cli that `edunetctl ca` calls); set
EDUNET_CA_TOOL to a command prefix to test another front end, e.g.
"edunetctl ca". Cases: lifecycle, tamper.
"""
import base64
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import BIN_DIR, Failure, check  # noqa: E402

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
OID = "1.3.6.1.4.1.59999.1.1"
CA_NAME = "Sở GD&ĐT Đồng Tháp"


def tool():
    t = os.environ.get("EDUNET_CA_TOOL")
    if t:
        parts = shlex.split(t)
        if not os.path.isabs(parts[0]):
            parts[0] = os.path.join(BIN_DIR, parts[0])
        return parts
    return [os.path.join(BIN_DIR, "edunet-ca")]


def ca(*args):
    r = subprocess.run(tool() + list(args), capture_output=True, timeout=30)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def ok(*args):
    code, out, err = ca(*args)
    check(code == 0, "ca %s: exit %d: %s%s" % (" ".join(args), code, out, err))
    return out


def ossl(*args, input=None):
    r = subprocess.run([OPENSSL] + list(args), capture_output=True, input=input, timeout=30)
    return r.returncode, r.stdout.decode("utf-8", "replace") + r.stderr.decode("utf-8", "replace")


def verify_revoked_with_openssl(cadir, work):
    """Checks revoked.list's signature with OpenSSL; returns its entry lines."""
    data = open(os.path.join(cadir, "revoked.list"), "rb").read()
    cut = data.rstrip(b"\n").rfind(b"\n") + 1
    body, sigline = data[:cut], data[cut:].strip()
    check(sigline.startswith(b"sig "), "no signature line: %r" % data)
    with open(os.path.join(work, "body.bin"), "wb") as f:
        f.write(body)
    with open(os.path.join(work, "sig.der"), "wb") as f:
        f.write(base64.b64decode(sigline[4:]))
    code, pub = ossl("x509", "-in", os.path.join(cadir, "ca.crt"), "-pubkey", "-noout")
    check(code == 0, "openssl x509 -pubkey: " + pub)
    with open(os.path.join(work, "ca.pub"), "w") as f:
        f.write(pub)
    code, out = ossl("dgst", "-sha256", "-verify", os.path.join(work, "ca.pub"), "-signature",
                     os.path.join(work, "sig.der"), os.path.join(work, "body.bin"))
    return code == 0, body.decode().splitlines()


def lifecycle(work):
    cadir, out = os.path.join(work, "ca"), os.path.join(work, "keys")
    ok("init", "--dir", cadir, "--name", CA_NAME)
    check(ca("init", "--dir", cadir, "--name", CA_NAME)[0] == 1, "second init must fail")
    ok("issue", "--dir", cadir, "--unit", "thpt-nguyen-quang-dieu", "--out", out)
    ok("issue", "--dir", cadir, "--unit", "pgd-tanhong", "--out", out, "--days", "30")
    code, _, err = ca("issue", "--dir", cadir, "--unit", "pgd-tanhong", "--out", out)
    check(code == 1 and "not overwriting" in err, "re-issue must be refused: %d %s" % (code, err))

    for f in ("ca/ca.key", "keys/pgd-tanhong.key", "keys/pgd-tanhong.ed25519",
              "keys/thpt-nguyen-quang-dieu.key", "keys/thpt-nguyen-quang-dieu.ed25519"):
        mode = stat.S_IMODE(os.stat(os.path.join(work, f)).st_mode)
        check(mode == 0o600, "%s has mode %o" % (f, mode))

    cacrt = os.path.join(cadir, "ca.crt")
    for unit in ("thpt-nguyen-quang-dieu", "pgd-tanhong"):
        crt = os.path.join(out, unit + ".crt")
        code, txt = ossl("verify", "-CAfile", cacrt, "-purpose", "sslclient", crt)
        check(code == 0, "openssl verify %s: %s" % (unit, txt))
        code, txt = ossl("x509", "-in", crt, "-noout", "-text", "-nameopt", "utf8,sep_comma_plus")
        check(code == 0, txt)
        check("CN=%s" % unit in txt and "O=%s" % CA_NAME in txt, "subject of %s:\n%s" % (unit, txt))
        check(OID in txt, "Ed25519 extension missing:\n" + txt)
        check("CA:FALSE" in txt and "TLS Web Client Authentication" in txt, txt)
        code, txt = ossl("ec", "-in", os.path.join(out, unit + ".key"), "-noout", "-check")
        check(code == 0, "openssl ec -check: " + txt)
    code, txt = ossl("x509", "-in", cacrt, "-noout", "-text")
    check("CA:TRUE" in txt and "Certificate Sign" in txt, "CA certificate:\n" + txt)
    # a certificate from another CA does not verify against ours
    ok("init", "--dir", os.path.join(work, "ca2"), "--name", CA_NAME)
    ok("issue", "--dir", os.path.join(work, "ca2"), "--unit", "thpt-x", "--out", os.path.join(work, "k2"))
    code, txt = ossl("verify", "-CAfile", cacrt, os.path.join(work, "k2", "thpt-x.crt"))
    check(code != 0, "foreign certificate verified: " + txt)

    good, lines = verify_revoked_with_openssl(cadir, work)
    check(good and len(lines) == 1 and lines[0].startswith("edunet-revoked 1 "), "fresh list: %r" % lines)

    doc = json.loads(ok("list", "--dir", cadir, "--json"))
    check(doc["ca"] == CA_NAME, doc)
    check(sorted((i["unit"], i["status"]) for i in doc["issued"]) ==
          [("pgd-tanhong", "valid"), ("thpt-nguyen-quang-dieu", "valid")], doc)
    serial = [i["serial"] for i in doc["issued"] if i["unit"] == "pgd-tanhong"][0]

    ok("revoke", "--dir", cadir, "--serial", serial)
    check(ca("revoke", "--dir", cadir, "--unit", "pgd-tanhong")[0] == 1, "double revoke must fail")
    check(ca("revoke", "--dir", cadir, "--unit", "thcs-nobody")[0] == 1, "unknown unit must fail")
    good, lines = verify_revoked_with_openssl(cadir, work)
    check(good, "openssl rejects the signed revocation list")
    check(len(lines) == 2 and lines[1].split()[:2] == [serial, "pgd-tanhong"], "list: %r" % lines)
    doc = json.loads(ok("list", "--dir", cadir, "--json"))
    st = {i["unit"]: i["status"] for i in doc["issued"]}
    check(st == {"pgd-tanhong": "revoked", "thpt-nguyen-quang-dieu": "valid"}, doc)
    human = ok("list", "--dir", cadir)
    check("2 issued, 1 revoked" in human and CA_NAME in human, human)

    for args in (["init", "--dir", cadir], ["revoke", "--dir", cadir], ["bogus"],
                 ["issue", "--dir", cadir, "--unit", "x", "--out"], ["list", "--dir", cadir, "--nope"]):
        check(ca(*args)[0] == 2, "usage error expected for %r" % args)
    code, _, err = ca("issue", "--dir", cadir, "--unit", "../../etc", "--out", out)
    check(code == 1 and "unit id" in err, "bad unit id: %d %s" % (code, err))


def tamper(work):
    cadir, out = os.path.join(work, "ca"), os.path.join(work, "keys")
    ok("init", "--dir", cadir, "--name", CA_NAME)
    ok("issue", "--dir", cadir, "--unit", "thpt-a", "--out", out)
    ok("issue", "--dir", cadir, "--unit", "thpt-b", "--out", out)
    ok("revoke", "--dir", cadir, "--unit", "thpt-a")
    path = os.path.join(cadir, "revoked.list")
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    # drop the revocation, keep the signature
    tampered = b"\n".join([lines[0]] + lines[2:])
    with open(path, "wb") as f:
        f.write(tampered)
    good, _ = verify_revoked_with_openssl(cadir, work)
    check(not good, "openssl accepted the tampered list")
    code, _, err = ca("list", "--dir", cadir)
    check(code == 1 and "signature" in err, "list of a tampered list: %d %s" % (code, err))
    code, _, err = ca("revoke", "--dir", cadir, "--unit", "thpt-b")
    check(code == 1 and "refusing" in err, "revoke must not re-sign a tampered list: %d %s" % (code, err))
    check(open(path, "rb").read() == tampered, "the tampered list was rewritten")


CASES = {"lifecycle": lifecycle, "tamper": tamper}


def main():
    names = sys.argv[1:] or list(CASES)
    for name in names:
        work = tempfile.mkdtemp(prefix="edu-it-pki-")
        try:
            CASES[name](work)
            print("ok", name)
        except Failure as e:
            print("FAIL", name, e)
            sys.exit(1)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
