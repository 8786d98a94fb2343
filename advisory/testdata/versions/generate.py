#!/usr/bin/python3
"""Regenerate the version-ordering tables from the reference tools.

dpkg.txt: every pair compared by `dpkg --compare-versions` (Debian's dpkg).
rpm.txt:  every pair compared by rpm's own rpm.vercmp (rpm --eval, lua).
apk.txt:  Debian packages no apk tool; each pair is compared by the
          independent PMS-style implementation below (a structured parse,
          not the token walk of the Go code), following apk's documented
          version format.

Run from this directory: /usr/bin/python3 generate.py
"""
import itertools
import random
import re
import subprocess

DPKG = """0 1.0 1.0-1 1.0-1~bpo1 1.0~rc1-1 1.0~~ 1.0~ 1.0+b1 1.0-1+b1 1.0.1 1.0a 1.0-0.1
1:0.9 1:1.0 2:0.1 0:1.0 1.0-1+deb12u1 1.0-1+deb12u2 1.0-1+deb12u10 1.0-1~deb11u1
3.0.11-1~deb12u2 3.0.13-1~deb12u1 3.0.15-1~deb12u1 3.0.19-1~deb12u2 3.0.22-1~deb12u2
7.88.1-10+deb12u5 7.88.1-10+deb12u12 7.88.1-10+deb12u14 1:9.2p1-2+deb12u3 1:9.2p1-2+deb12u7
9.2p1-2 6.1.140-1 6.1.153-1 6.1.76-1 252.38-1~deb12u1 252.39-1~deb12u2 2025b-0+deb12u1
2025b-0+deb12u2 2024a-0+deb12u1 3.0.13-0ubuntu3.5 3.0.13-0ubuntu3.6 3.0.2-0ubuntu1.18
13ubuntu10.2 13ubuntu10.3 6.8.0-79.79 6.8.0-87.88 1.9.15p5-3ubuntu5.24.04.1
1.9.15p5-3ubuntu5.24.04.2 2.7.14build2 2.7.14 1.2.3-4ubuntu0.1 1.2.3-4 1.2.3-4build1
1.0-1.1 1.0-1.10 1.0-1.2 a b A 1.0.0 1.00 1.0-a 1.0-A 1.0-+ 1.0-.1 1.0-~ 2.4.57-2
2.4.62-1~deb12u2 2.4.65-1~deb12u1 1.22.1-9+deb12u1 1.22.1-9+deb12u3 5.2.15-2+b8 5.2.15-2+b2""".split()

RPM = """1.0 1.0-1 1.0-2 1.0.1-1 1.0a-1 1.0~rc1-1 1.0^git1-1 1.0^-1 1.0~-1 1:1.0-1 0:1.0-1 2:0.1-1
1:3.2.2-6.el9_5.1 1:3.2.2-6.el9_6.2 1:3.0.7-27.el9 1:3.0.7-28.el9_4 3.2.2-6.el9_6.2
5.14.0-570.17.1.el9_6 5.14.0-570.58.1.el9_6 5.14.0-427.13.1.el9_4 5.14.0-70.13.1.el9_0
2.34-168.el9_6.19 2.34-168.el9_6.23 2.34-100.el9 8.7p1-45.el9 8.7p1-38.el9_4.1
2025a-1.el9 2025b-1.el9 2:8.2.2637-21.el9 2:8.2.2637-22.el9_6 1.2-1.fc40 1.2-1.fc39
3.0.8-150500.5.40.1 3.0.8-150500.5.45.1 5.14.21-150500.55.83.1 5.14.21-150500.55.88.1
4.4-150400.27.3.2 2024a-150000.75.28.1 2024b-150000.75.31.1 9.1.0330-150500.20.12.1
9.1.0836-150500.20.15.1 1.14.68-150400.3.49.1 1.0-1.el8 1.0-1.el8_10 1.0-1.module+el8.9.0+1
2.0-1 2.0-01 2.0-1.0 1.2.3-4 1.2.3-4.1 1.2.3-4.a 1.2.3-4a 10.0-1 9.9-1 1.0_1-1 1.0.0-1
1.0b-1 1.0B-1 a-1 b-1 1.0.z-1 1.0.9-1 1.0.10-1""".split()

APK = """1.0 1.0-r0 1.0-r1 1.0-r10 1.0.1 1.0.1-r0 1.0a 1.0b 1.0_alpha 1.0_alpha1 1.0_alpha2
1.0_beta 1.0_beta1 1.0_pre1 1.0_rc1 1.0_rc2 1.0_p1 1.0_p2 1.0_git20240101 1.0_cvs 1.0_svn
1.0_hg 1.01 1.001 1.1 1.10 0.9 2 3.0.12-r0 3.0.12-r1 3.1.4-r0 3.1.4-r5 3.1.7-r0 3.3.2-r0
8.5.0-r0 8.9.1-r0 8.11.0-r0 9.6_p1-r0 9.7_p1-r0 9.7_p1-r2 2.38-r0 2.38.1-r0 1.36.1-r15
1.36.1-r19 1.36.1-r2 6.6.31-r0 6.6.58-r0 1.2.4_git20230717-r4 1.2.4_git20230717-r5
0.1.0_alpha_pre2 1.0_p1_rc1 20240101 2024.1 1.0.1_rc1-r3""".split()


def pairs(versions, n_random, seed):
    out = []
    for a, b in zip(versions, versions[1:]):
        out.append((a, b))
    rnd = random.Random(seed)
    every = list(itertools.combinations(versions, 2))
    rnd.shuffle(every)
    for a, b in every:
        if len(out) >= len(versions) - 1 + n_random:
            break
        if (a, b) not in out:
            out.append((a, b) if rnd.random() < 0.5 else (b, a))
    for v in versions[::7]:
        out.append((v, v))
    return out


def dpkg_cmp(a, b):
    for op, res in (("lt", "<"), ("eq", "="), ("gt", ">")):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b], stderr=subprocess.DEVNULL).returncode == 0:
            return res
    raise SystemExit("dpkg gave no answer for %s %s" % (a, b))


def rpm_cmp_all(ps):
    lua = "%{lua: " + " ".join('print(rpm.vercmp("%s","%s"))' % p for p in ps) + "}"
    out = subprocess.run(["rpm", "--eval", lua], capture_output=True, text=True, check=True).stdout
    res = [{"-1": "<", "0": "=", "1": ">"}[x] for x in re.findall(r"-?\d", out)]
    assert len(res) == len(ps), (len(res), len(ps))
    return res


# --- apk: apk's documented format, NUMBER{.NUMBER}[a-z]{_SUFFIX[N]}[-rN] ---
PRE = ["alpha", "beta", "pre", "rc"]
POST = ["cvs", "svn", "git", "hg", "p"]
APK_RE = re.compile(r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:-r(\d+))?$")


def apk_parse(v):
    m = APK_RE.match(v)
    if not m:
        return None
    nums = m.group(1).split(".")
    sufs = []
    for s in re.findall(r"_([a-z]+)(\d*)", m.group(3)):
        name, num = s
        rank = PRE.index(name) - len(PRE) if name in PRE else POST.index(name)
        sufs.append((rank, int(num or 0)))
    # a revision, even -r0, sorts after none
    rev = (1, int(m.group(4))) if m.group(4) is not None else (0, 0)
    return nums, m.group(2), sufs, rev


def cmp(a, b):
    return (a > b) - (a < b)


def apk_cmp(a, b):
    pa, pb = apk_parse(a), apk_parse(b)
    if pa is None or pb is None:
        return {-1: "<", 0: "=", 1: ">"}[cmp(a, b)]
    na, nb = pa[0], pb[0]
    c = cmp(int(na[0]), int(nb[0]))
    for x, y in zip(na[1:], nb[1:]):
        if c:
            break
        # leading zeros: more zeros sort lower, then the digits
        zx, zy = len(x) - len(x.lstrip("0")), len(y) - len(y.lstrip("0"))
        c = cmp(-zx, -zy) if (zx or zy) else 0
        if not c and (zx or zy):
            rx, ry = x.lstrip("0"), y.lstrip("0")
            if rx and ry:
                c = cmp(int(rx), int(ry))
            elif rx or ry:
                # one goes on with digits, the other with the next part
                c = 1 if rx and not ry else -1 if ry and not rx else 0
        elif not c:
            c = cmp(int(x), int(y))
    if not c and len(na) != len(nb):
        longer = 1 if len(na) > len(nb) else -1
        shorter = pb if longer == 1 else pa
        # the shorter one goes on with a pre-release suffix: it is older
        c = longer
        if not shorter[1] and shorter[2] and shorter[2][0][0] < 0:
            c = longer
    if not c:
        c = cmp(pa[1], pb[1])
    if not c:
        for x, y in zip(pa[2], pb[2]):
            c = cmp(x, y)
            if c:
                break
        if not c and len(pa[2]) != len(pb[2]):
            extra, sgn = (pa[2][len(pb[2])], 1) if len(pa[2]) > len(pb[2]) else (pb[2][len(pa[2])], -1)
            c = -sgn if extra[0] < 0 else sgn
    if not c:
        c = cmp(pa[3], pb[3])
    return {-1: "<", 0: "=", 1: ">"}[c]


def write(name, ps, results, note):
    with open(name, "w") as f:
        f.write("# %s\n# generated by generate.py; one pair a line: A OP B\n" % note)
        for (a, b), r in zip(ps, results):
            f.write("%s %s %s\n" % (a, r, b))


if __name__ == "__main__":
    dp = pairs(DPKG, 240, 1)
    write("dpkg.txt", dp, [dpkg_cmp(a, b) for a, b in dp],
          subprocess.run(["dpkg", "--version"], capture_output=True, text=True).stdout.splitlines()[0])
    rp = pairs(RPM, 240, 2)
    write("rpm.txt", rp, rpm_cmp_all(rp),
          subprocess.run(["rpm", "--version"], capture_output=True, text=True).stdout.strip() + ", rpm.vercmp")
    ap = pairs(APK, 240, 3)
    write("apk.txt", ap, [apk_cmp(a, b) for a, b in ap],
          "apk's documented version format (no apk tool on Debian), independent implementation")
