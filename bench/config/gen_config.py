#!/usr/bin/env python3
"""Writes a large smppd configuration to stdout: N routes and M clients on one listener and a
simulator upstream, shaped like an operator's real tables (a destination prefix per route, some
with a client, a source or a schedule). Used by bench/config/config_scale.sh.

    gen_config.py --routes 100000 --clients 0 --port 0 > big.yaml
"""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("--routes", type=int, default=100000)
p.add_argument("--clients", type=int, default=0)
p.add_argument("--port", type=int, default=0)
a = p.parse_args()

out = sys.stdout
out.write(f"listeners:\n  - name: smpp\n    type: smpp\n    address: 127.0.0.1:{a.port}\n")
out.write("upstreams:\n")
for u in range(5):
    out.write(f"  - name: carrier-{u}\n    type: simulator\n")
out.write("routes:\n")
for i in range(a.routes):
    out.write(f"  - name: route-{i:07d}\n")
    out.write(f"    match:\n      destination_addr: \"+{200 + i % 700}{i}*\"\n")
    if i % 7 == 0 and a.clients > 0:
        out.write(f"      client: client-{i % a.clients}\n")
    if i % 11 == 0:
        out.write("      source_addr: \"ACME*\"\n")
    if i % 13 == 0:
        out.write("      schedule: { hours: \"08:00-20:00\", timezone: Europe/Lisbon }\n")
    out.write(f"    upstream: carrier-{i % 5}\n")
    if i % 3 == 0:
        out.write(f"    failover: carrier-{(i + 1) % 5}\n")
out.write("  - name: default\n    match: { destination_addr: \"*\" }\n    upstream: carrier-0\n")
if a.clients:
    out.write("clients:\n")
    for c in range(a.clients):
        out.write(f"  - system_id: client-{c}\n    password: pw{c % 100000}\n")
        if c % 4 == 0:
            out.write("    allowed_ips: [10.0.0.0/8]\n")
