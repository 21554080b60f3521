#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (run from anywhere;
the files are checked in, so this only needs running again to change the seeds)."""
import os, shutil, struct, glob

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def mb(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out

# RESP requests.
reqs = {
    "get": mb("GET", "foo"), "set": mb("SET", "k", "v", "EX", "10"),
    "mget": mb("MGET", "a", "b", "{t}c"), "mset": mb("MSET", "a", "1", "b", "2"),
    "eval": mb("EVAL", "return 1", "2", "k1", "k2", "a1"),
    "config": mb("CONFIG", "GET", "maxmemory"), "xread": mb("XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"),
    "zunionstore": mb("ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"),
    "hello": mb("HELLO", "3", "AUTH", "default", "pw"), "client": mb("CLIENT", "SETNAME", "x"),
    "del9": mb("DEL", *["k%d" % i for i in range(9)]), "empty": b"*0\r\n*-1\r\n",
    "binary": mb(b"SET", b"\x00\r\n\xff", b"$3\r\n"),
    "pipeline": mb("PING") + mb("GET", "a") + b"PING\r\n" + mb("SET", "b", "c"),
    "inline": b"set a b\r\nGET a\nPING\r\n", "inline_quotes": b"set \"a b\" 'c\\'d' \"\\x41\\n\"\r\n",
    "huge_count": b"*2147483647\r\n$3\r\nGET\r\n", "bad_len": b"*2\r\n$-5\r\nGET\r\n$x\r\n",
    "bad_crlf": b"*1\r\n$4\r\nPINGxx\r\n", "big_bulk": b"*1\r\n$536870912\r\nab",
}
for k, v in reqs.items():
    put("redis_request", k, v)

# RESP replies.
reps = {
    "ok": "+OK\r\n", "err": "-ERR wrong\r\n", "int": ":-42\r\n", "bulk": "$3\r\nbar\r\n", "nil": "$-1\r\n*-1\r\n",
    "array": "*3\r\n$1\r\na\r\n:1\r\n*1\r\n+x\r\n",
    "resp3": "%2\r\n+a\r\n#t\r\n+b\r\n,3.14\r\n~1\r\n(12345678901234567890\r\n_\r\n=7\r\ntxt:abc\r\n!5\r\nERR x\r\n",
    "attr": "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", "push": ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
    "nested": "*1\r\n" * 20 + ":1\r\n", "bad": "*2\r\n$3\r\nabc\r\n:x\r\n",
}
for k, v in reps.items():
    put("redis_reply", k, v)
for f in ("resp2_capture.resp", "resp3_capture.resp"):
    put("redis_reply", f, open(os.path.join(ROOT, "dynomited/src/proto/redis/tests", f), "rb").read())

# Memcached requests and replies.
mreqs = {
    "get": "get a b c\r\n", "gets": "gets k\n", "set": "set k 0 0 5\r\nhello\r\n",
    "cas": "cas k 1 2 3 99 noreply\r\nabc\r\n", "incr": "incr k 5\r\ndecr k 1 noreply\r\n",
    "delete": "delete k\r\ndelete k 0 noreply\r\n", "touch": "touch k 10\r\ngat 10 a b\r\ngats 0 c\r\n",
    "admin": "flush_all 10 noreply\r\nverbosity 1\r\nstats slabs\r\nversion\r\nquit\r\n",
    "bad_num": "set k 0 0 x\r\nhello\r\n", "bad_chunk": "set k 0 0 5\r\nhello world\r\n",
    "long_key": "get " + "k" * 251 + "\r\n", "unknown": "GET k\r\nmg k v\r\n\r\n",
    "append": "append k 0 0 0\r\n\r\nprepend k 4294967295 -1 1 noreply\r\nx\r\n",
}
for k, v in mreqs.items():
    put("memcache_request", k, v)
mreps = {
    "values": "VALUE a 0 5\r\nhello\r\nVALUE b 3 2 99\r\nhi\r\nEND\r\n", "end": "END\r\n",
    "status": "STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\nOK\r\n",
    "number": "42\r\n", "errors": "ERROR\r\nCLIENT_ERROR bad data chunk\r\nSERVER_ERROR out of memory\r\n",
    "stats": "STAT pid 1\r\nSTAT uptime 10\r\nITEM x\r\nEND\r\n", "version": "VERSION 1.6.18\r\n",
    "bare_lf": "VALUE a 0 1\nx\r\nEND\n", "bad": "VALUE a 0 5\r\nhelloXXEND\r\n",
}
for k, v in mreps.items():
    put("memcache_reply", k, v)

# dnode frames.
def hdr(id, ty, flags, same_dc, data, plen):
    return b"   $2014$ %d %d %d 1 %d *%d %s *%d\r\n" % (id, ty, flags, same_dc, len(data), data, plen)
req = mb("get", "foo")
put("dnode_frame", "request", hdr(1344, 3, 0, 1, b"d", len(req)) + req)
put("dnode_frame", "reply", hdr(1344, 5, 0, 1, b"d", 9) + b"$3\r\nbar\r\n")
put("dnode_frame", "forward_resp3", hdr(7, 4, 16, 0, b"d", len(req)) + req)
g = b"dc1$rack1$1383429731,1700000000,1,127.0.0.1"
put("dnode_frame", "gossip", hdr(1, 7, 0, 1, b"a", len(g)) + g)
put("dnode_frame", "encrypted", hdr(2, 3, 1, 1, bytes(range(128)), 5) + b"\x01\x02\x03\x04\x05")
put("dnode_frame", "memcache", hdr(3, 3, 0, 1, b"d", 10) + b"get a b\r\n" + hdr(3, 5, 0, 1, b"d", 5) + b"END\r\n")
put("dnode_frame", "zero_payload_len", hdr(1, 3, 0, 1, b"d", 0) + req + b"   $2014$ 00018446744073709551615 13 255 255 0 4096 " + b"x" * 4096 + b" *536870912\r\n")
for f in sorted(glob.glob(os.path.join(ROOT, "dynomited/tests-data/peer-wire/*.bin"))):
    put("dnode_frame", os.path.basename(f), open(f, "rb").read()[:3000])

# Gossip payloads.
put("gossip", "one", g)
put("gossip", "three", g + b"|dc1$rack2$0,1,4,10.0.0.2|dc2$rack1$4294967295,18446744073709551615,255,host.example")
put("gossip", "dollar_dc", "dc$x,y$rack$1,2,3,a")
put("gossip", "bad", "dc$rack$1,2,3,|$$,,,|dc$rack$01,2,256,a")

# Stats HTTP requests.
for k, v in {
    "info": "GET /info HTTP/1.1\r\nHost: 127.0.0.1:22222\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n",
    "state": "GET /state/standby HTTP/1.0\n\n", "post": "POST /set_consistency/read/dc_quorum HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    "query": "GET /info?x=1#frag HTTP/1.1\r\n\r\n", "peer": "GET /peer/down/127.0.0.2:8101 HTTP/1.1\r\n\r\n",
    "bare": "GET /ping HTTP/1.0", "tls": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    "loglevel": "GET /setloglevel/-7 HTTP/1.1\r\ncontent-length: 0\r\nContent-Length: 0\r\n\r\n",
}.items():
    put("stats_http", k, v)

# Florida responses.
seeds = b"127.0.0.1:8101:rack1:dc1:1383429731|127.0.0.2:8101:rack2:dc1:0|::1:8101:r:d:4294967295"
put("florida_seeds", "length", b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(seeds), seeds))
put("florida_seeds", "chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n10\r\n" + seeds[:16] + b"\r\n%x;ext=1\r\n" % (len(seeds) - 16) + seeds[16:] + b"\r\n0\r\nTrailer: x\r\n\r\n")
put("florida_seeds", "eof", b"HTTP/1.0 200 OK\r\n\r\n" + seeds + b"\n")
put("florida_seeds", "not_found", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

# DNS replies.
def name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
def dns(answers, qn="_dynomite.ec2-internal", flags=0x8180):
    q = struct.pack(">HHHHHH", 0x1234, flags, 1, len(answers), 0, 0) + name(qn) + struct.pack(">HH", 16, 1)
    for owner, ty, rdata in answers:
        q += owner + struct.pack(">HHIH", ty, 1, 300, len(rdata)) + rdata
    return q
def txt(*ss):
    return b"".join(bytes([len(s)]) + s for s in ss)
put("dns_seeds", "txt", dns([(b"\xc0\x0c", 16, txt(b"127.0.0.1:8101:rack1:dc1:1383429731"))]))
put("dns_seeds", "two", dns([(b"\xc0\x0c", 16, txt(b"127.0.0.1:8101:rack1:", b"dc1:1")), (b"\xc0\x0c", 16, txt(b"10.0.0.2:8101:rack2:dc1:2"))]))
put("dns_seeds", "cname", dns([(b"\xc0\x0c", 5, name("seeds.example.com")), (name("SEEDS.example.com"), 16, txt(b"h:1:r:d:3")), (b"\xc0\x0c", 1, b"\x0a\x00\x00\x01")]))
put("dns_seeds", "nxdomain", dns([], flags=0x8183))
put("dns_seeds", "loop", dns([(b"\xc0\x2a", 16, txt(b"x"))])[:40] + b"\xc0\x28")

# Configurations: the examples and the invalid fixtures.
for f in sorted(glob.glob(os.path.join(ROOT, "conf/*.yml"))) + sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/conf-invalid/*.yml"))):
    put("conf_yaml", os.path.basename(f), open(f, "rb").read())
