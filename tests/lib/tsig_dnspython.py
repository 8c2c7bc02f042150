#!/usr/bin/python3
# tsig_dnspython.py -- dnspython as the independent TSIG implementation
# that test_tsig checks dnsbl/dns/tsig.c against
#
#   tsig_dnspython.py sign NAME ALG SECRET [TIME]
#       prints the hex of an A query for example.com (EDNS, an extra
#       record in the additional section) signed with the key, at TIME or
#       now.
#   tsig_dnspython.py verify NAME ALG SECRET REQHEX MSGHEX...
#       verifies the signed request, then every message as one reply
#       stream to it (the first against the request's MAC, each later one
#       against the previous with the timers only, RFC 8945 5.3.1), at
#       the current time; prints "ok N" for each message or
#       "not ok N ERROR" and stops at the first failure.
#
# Exit status 0 when everything verified, 1 when something did not, 2 on
# a usage error.  Needs dnspython (Debian python3-dnspython); run it with
# an interpreter that has it.
import binascii
import sys

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig


def key_of(name, alg, secret):
    return dns.tsig.Key(dns.name.from_text(name), secret,
                        dns.name.from_text(alg))


def sign(name, alg, secret, when=None):
    key = key_of(name, alg, secret)
    q = dns.message.make_query("example.com.", "A", use_edns=0)
    q.additional.append(dns.rrset.from_text("extra.example.com.", 60, "IN",
                                            "A", "192.0.2.7"))
    q.use_tsig({key.name: key}, key.name, fudge=300, algorithm=key.algorithm)
    if when is not None:
        # dnspython takes the time at to_wire; pin it for known answers.
        import time as _time
        real = _time.time
        _time.time = lambda: float(when)
        try:
            wire = q.to_wire()
        finally:
            _time.time = real
    else:
        wire = q.to_wire()
    print(binascii.hexlify(wire).decode())
    return 0


def verify(name, alg, secret, reqhex, msghexes):
    key = key_of(name, alg, secret)
    keyring = {key.name: key}
    try:
        req = dns.message.from_wire(binascii.unhexlify(reqhex),
                                    keyring=keyring)
    except Exception as e:
        print("not ok 0 request: %s: %s" % (type(e).__name__, e))
        return 1
    ctx = None
    for i, h in enumerate(msghexes, 1):
        try:
            m = dns.message.from_wire(binascii.unhexlify(h),
                                      keyring=keyring, request_mac=req.mac,
                                      tsig_ctx=ctx, multi=True)
        except Exception as e:
            print("not ok %d %s: %s" % (i, type(e).__name__, e))
            return 1
        if not m.had_tsig:
            print("not ok %d unsigned" % i)
            return 1
        ctx = m.tsig_ctx
        print("ok %d" % i)
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "sign":
        return sign(argv[2], argv[3], argv[4],
                    int(argv[5]) if len(argv) > 5 else None)
    if len(argv) >= 7 and argv[1] == "verify":
        return verify(argv[2], argv[3], argv[4], argv[5], argv[6:])
    sys.stderr.write("usage: tsig_dnspython.py sign|verify ...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
