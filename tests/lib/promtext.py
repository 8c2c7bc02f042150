#!/usr/bin/env python3
# promtext.py -- checks a Prometheus text exposition (format 0.0.4)
#
# Reads a /metrics body on stdin and checks it as Prometheus's own parser
# would, and as relaybl's metrics promise: UTF-8, every line ending in
# "\n"; # HELP and # TYPE at most once per family, the TYPE before its
# first sample; every sample of a family that has a TYPE, the families
# not interleaved; metric and label names, label values (escapes) and
# values well formed; no sample twice; counters named *_total and never
# negative.  Prints each sample as "name{labels} value" (labels as sent,
# integral values without a fraction) and exits 0, or prints what is
# wrong to stderr and exits 1.
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s=%s(?:,%s=%s)*,?)?\})? (\S+)(?: (-?\d+))?$"
                    % (NAME, LABEL, LVALUE, LABEL, LVALUE))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def value_of(s):
    if s in ("NaN", "+Inf", "-Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", s):
        raise ValueError(s)
    return float(s)


def check(body):
    errs, out = [], []
    helps, types, seen, done = set(), {}, set(), set()
    current = None
    if body and not body.endswith("\n"):
        errs.append("the body does not end with a newline")
    for n, line in enumerate(body.split("\n")[:-1], 1):
        where = "line %d: " % n
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.match("^%s$" % NAME, name):
                    errs.append(where + "bad metric name " + name)
                if parts[1] == "HELP":
                    if name in helps:
                        errs.append(where + "second HELP for " + name)
                    helps.add(name)
                else:
                    t = parts[3] if len(parts) == 4 else ""
                    if t not in TYPES:
                        errs.append(where + "bad type " + repr(t))
                    if name in types:
                        errs.append(where + "second TYPE for " + name)
                    if name in done or name == current:
                        errs.append(where + "TYPE after samples of " + name)
                    types[name] = t
            continue
        if line == "":
            continue
        m = SAMPLE.match(line)
        if not m:
            errs.append(where + "not a sample: " + repr(line))
            continue
        name, labels, v = m.group(1), m.group(2) or "", m.group(3)
        try:
            x = value_of(v)
        except ValueError:
            errs.append(where + "bad value " + repr(v))
            continue
        fam = name
        if fam not in types:
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[:-len(suffix)] in types:
                    fam = name[:-len(suffix)]
        if fam not in types:
            errs.append(where + "no # TYPE for " + name)
        if fam != current:
            if fam in done:
                errs.append(where + "samples of %s not together" % fam)
            if current is not None:
                done.add(current)
            current = fam
        key = name + labels
        if key in seen:
            errs.append(where + "second sample " + key)
        seen.add(key)
        if types.get(fam) == "counter":
            if not name.endswith("_total"):
                errs.append(where + "counter not named *_total: " + name)
            if x < 0 or math.isnan(x):
                errs.append(where + "counter below 0: " + key)
        shown = str(int(x)) if x == int(x) and abs(x) < 2**63 else v
        out.append("%s %s" % (key, shown))
    if not out:
        errs.append("no samples")
    return errs, out


def main():
    raw = sys.stdin.buffer.read()
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        print("not UTF-8", file=sys.stderr)
        return 1
    errs, out = check(body)
    for line in out:
        print(line)
    for e in errs:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
