#!/usr/bin/env python3
"""Reads what Tools/bench-fleet.sh left in its work folder and prints the fleet-at-scale table.

Per step folder: loadgen.txt (quantfleet loadgen's report), samples.txt (coordinator: unix ms,
utime, stime in clock ticks, RSS KiB), idle-rss-kib.txt, status-ms.txt (rollout status through the
admin API), windows.txt (ledger rows, distinct keys) and the ledger files.
"""
import argparse
import os
import re
import statistics

TICKS = os.sysconf("SC_CLK_TCK")


def grab(pattern, text, cast=float, default=None):
    match = re.search(pattern, text)
    return cast(match.group(1)) if match else default


def ledger_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, name)) for name in ("ledger.sqlite", "ledger.sqlite-wal")
               if os.path.exists(os.path.join(folder, name)))


def read_samples(folder):
    """The coordinator's samples: (unix ms, utime, stime, RSS KiB) every 0.5 s."""
    return [tuple(int(x) for x in line.split()) for line in open(os.path.join(folder, "samples.txt")) if len(line.split()) == 4]


def cpu_percent(samples):
    """Percent of one core used from the first sample to the last; None with fewer than two."""
    if len(samples) < 2:
        return None
    first, last = samples[0], samples[-1]
    return 100.0 * ((last[1] + last[2]) - (first[1] + first[2])) / TICKS / ((last[0] - first[0]) / 1000)


def step_row(folder, agents):
    report = open(os.path.join(folder, "loadgen.txt")).read()
    connected_at = grab(r"phase all-connected unix_ms (\d+)", report, int)
    ended_at = grab(r"phase windows-ended unix_ms (\d+)", report, int)
    samples = read_samples(folder)
    steady = [s for s in samples if connected_at and ended_at and connected_at <= s[0] <= ended_at]
    cpu = cpu_percent(steady)
    rss = max(s[3] for s in steady) if len(steady) >= 2 else None
    idle = int(open(os.path.join(folder, "idle-rss-kib.txt")).read().split()[0])
    status = [int(x) for x in open(os.path.join(folder, "status-ms.txt")).read().split()] if os.path.exists(os.path.join(folder, "status-ms.txt")) else []
    stored, distinct = (int(x) for x in open(os.path.join(folder, "windows.txt")).read().strip().split("|"))
    made = grab(r"windows: (\d+) made", report, int, 0)
    return {
        "agents": agents,
        "connected": grab(r"connect: (\d+)/", report, int),
        "all_connected_s": grab(r"all connected after ([\d.]+) s", report),
        "handshakes_s": grab(r"handshakes: (\d+)/s", report),
        "connect_p50": grab(r"time to first Welcome p50 ([\d.]+) ms", report),
        "connect_p99": grab(r"time to first Welcome p50 [\d.]+ ms, p99 ([\d.]+) ms", report),
        "rss_mib": rss / 1024 if rss else None,
        "rss_per_agent_kb": (rss - idle) * 1.024 / agents if rss else None,
        "cpu": cpu,
        "windows_s": grab(r"windows/s sustained \(all connected to end of windows\): (\d+)", report),
        "ack_p50": grab(r"ack latency: p50 ([\d.]+) ms", report),
        "ack_p99": grab(r"ack latency: p50 [\d.]+ ms, p99 ([\d.]+) ms", report),
        "decision": grab(r"decision: (\S+) in the ledger", report, str, "none"),
        "decision_ms": grab(r"([\d.]+) ms after its deciding window", report),
        "bytes_per_million": ledger_bytes(folder) / stored * 1e6 if stored else None,
        "status_ms": (statistics.median(status), max(status)) if status else None,
        "made": made, "stored": stored, "distinct": distinct,
        "unacked": grab(r"(\d+) unacked at the end", report, int),
        "resent": grab(r"\((\d+) resent after reconnects\)", report, int),
        "reconnect": grab(r"(reconnect: .*)", report, str),
    }


def fmt(value, spec="{:.0f}"):
    return "-" if value is None else spec.format(value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work")
    parser.add_argument("steps", nargs="*", type=int)
    parser.add_argument("--storm", type=int)
    parser.add_argument("--fan-out", type=int)
    args = parser.parse_args()
    header = ["agents", "connected", "all in (s)", "handshakes/s", "connect p50/p99 (ms)", "coord. RSS (MiB)", "RSS/agent (KB)",
              "coord. CPU %", "windows/s", "ack p50/p99 (ms)", "decision (ms after)", "ledger MB / M windows", "status p50/max (ms)",
              "windows made/stored/unique"]
    rows = []
    for agents in args.steps:
        folder = os.path.join(args.work, f"step-{agents}")
        if not os.path.exists(os.path.join(folder, "loadgen.txt")):
            continue
        r = step_row(folder, agents)
        rows.append([
            str(agents), fmt(r["connected"], "{}"), fmt(r["all_connected_s"], "{:.1f}"), fmt(r["handshakes_s"]),
            f"{fmt(r['connect_p50'])} / {fmt(r['connect_p99'])}", fmt(r["rss_mib"]), fmt(r["rss_per_agent_kb"], "{:.1f}"),
            fmt(r["cpu"], "{:.1f}"), fmt(r["windows_s"]), f"{fmt(r['ack_p50'], '{:.1f}')} / {fmt(r['ack_p99'], '{:.1f}')}",
            f"{r['decision']} ({fmt(r['decision_ms'])})", fmt(r["bytes_per_million"] and r["bytes_per_million"] / 1e6, "{:.0f}"),
            f"{fmt(r['status_ms'] and r['status_ms'][0])} / {fmt(r['status_ms'] and r['status_ms'][1])}",
            f"{r['made']} / {r['stored']} / {r['distinct']}",
        ])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.storm:
        print_storm(args.work, args.storm)
    if args.fan_out:
        print_fan_out(args.work, args.fan_out)


def print_fan_out(work, agents):
    folder = os.path.join(work, f"fanout-{agents}")
    report = open(os.path.join(folder, "loadgen.txt")).read()
    samples = read_samples(folder)
    idle = int(open(os.path.join(folder, "idle-rss-kib.txt")).read().split()[0])
    began = grab(r"phase first-model-requested unix_ms (\d+)", report, int)
    ended = grab(r"phase last-model-verified unix_ms (\d+)", report, int)
    # The samples (every 0.5 s) around the transfers: the one before the first request to the one after the last file.
    during = [s for s in samples if began and ended and began - 500 <= s[0] <= ended + 500]
    cpu = cpu_percent(during)
    print()
    print(f"fan-out to {agents} agents (each downloads the 25.4 MB FP32 reference and its 6.7 MB int8 candidate):")
    print("  " + (grab(r"(models: .*)", report, str) or "models: none downloaded"))
    print(f"  coordinator: RSS {idle / 1024:.0f} MiB idle, at most {max(s[3] for s in samples) / 1024:.0f} MiB; "
          f"CPU {fmt(cpu, '{:.0f}')} % of one core while the files streamed")


def print_storm(work, storm):
    folder = os.path.join(work, f"storm-{storm}")
    report = open(os.path.join(folder, "loadgen.txt")).read()
    stored, distinct = (int(x) for x in open(os.path.join(folder, "windows.txt")).read().strip().split("|"))
    made = grab(r"windows: (\d+) made", report, int, 0)
    acked = grab(r"(\d+) acked,", report, int, 0)
    print()
    print(f"storm at {storm} agents (coordinator SIGKILLed with the fleet sending, restarted at once):")
    print("  " + (grab(r"(reconnect: .*)", report, str) or "reconnect: no outage seen"))
    resent = grab(r"\((\d+) resent after reconnects\)", report, int, 0)
    # Windows not in the ledger are lost only if their agent no longer holds them: the run's
    # "unacked at the end" are still held (a real agent keeps them in its spool).
    unacked = grab(r"(\d+) unacked at the end", report, int, 0)
    # An unacked window may be stored already (its ack died with the connection): count those apart.
    stored_unacked = max(0, distinct + unacked - made)
    print(f"  windows: {made} made, {acked} acked, {stored} rows in the ledger, {distinct} unique: "
          f"{max(0, made - distinct - unacked)} lost, {stored - distinct} duplicated; {unacked} still unacked at the end "
          f"({stored_unacked} of them stored, their acks lost with the connection); {resent} resent after reconnecting")
    print("  " + (grab(r"(decision: .*)", report, str) or "decision: -"))


if __name__ == "__main__":
    main()
