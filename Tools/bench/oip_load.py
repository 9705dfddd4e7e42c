#!/usr/bin/env python3
"""One tritonclient[http] client sending Fashion-MNIST images to an agent, one request at a time, per
transport and batch size: JSON (binary_data=False in and out) and binary tensor data (tritonclient's
defaults). Prints a markdown table row per transport and batch: requests/s, p50 and p99 latency as the
client sees them (numpy to HTTP and back), and the agent's CPU time per request from /proc.

usage: oip_load.py HOST:PORT MODEL TRAFFIC.npz AGENT_PID [--requests N] [--batches 1 64]
"""
import argparse
import os
import time

import numpy as np
import tritonclient.http as httpclient

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("model")
parser.add_argument("traffic")
parser.add_argument("agent_pid", type=int)
parser.add_argument("--requests", type=int, default=2000)
parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
options = parser.parse_args()

client = httpclient.InferenceServerClient(options.url)
images = np.load(options.traffic)["input"].astype(np.float32)
ticks_per_second = os.sysconf("SC_CLK_TCK")


def agent_cpu_seconds():
    fields = open(f"/proc/{options.agent_pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second   # utime + stime


def infer(batch, start, binary):
    pixels = httpclient.InferInput("pixels", [batch, 784], "FP32")
    pixels.set_data_from_numpy(images[start:start + batch], binary_data=binary)
    outputs = None if binary else [httpclient.InferRequestedOutput(name, binary_data=False) for name in ("probabilities", "label")]
    result = client.infer(options.model, [pixels], outputs=outputs)
    return result.as_numpy("probabilities")


def measure(batch, binary):
    starts = [(index * batch) % (len(images) - batch) for index in range(options.requests)]
    for start in starts[:50]:
        infer(batch, start, binary)
    latencies = []
    cpu_before, began = agent_cpu_seconds(), time.perf_counter()
    for start in starts:
        sent = time.perf_counter()
        infer(batch, start, binary)
        latencies.append(time.perf_counter() - sent)
    elapsed, cpu = time.perf_counter() - began, agent_cpu_seconds() - cpu_before
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    return options.requests / elapsed, p50, p99, cpu / options.requests * 1e6


print("| batch | transport | requests/s | p50 ms | p99 ms | agent CPU µs/request |")
print("|---:|---|---:|---:|---:|---:|")
for batch in options.batches:
    for transport, binary in (("JSON", False), ("binary", True)):
        rate, p50, p99, cpu = measure(batch, binary)
        print(f"| {batch} | {transport} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {cpu:,.0f} |", flush=True)
