#!/usr/bin/env python3
"""One tritonclient client driving an agent's model, one request at a time, per transport and batch
size: REST with JSON (binary_data=False in and out), REST with binary tensor data (tritonclient[http]'s
defaults), and gRPC (tritonclient[grpc]'s defaults, raw tensor contents) when --grpc names its port.
Prints a markdown table row per batch and transport: requests/s, p50 and p99 latency as the client
sees them (numpy to the wire and back), and the agent's CPU time per request from /proc.

The inputs follow the model's metadata: an FP32 [-1, 784] input takes Fashion-MNIST images from
--traffic; integer inputs (a text model's token ids, mask and types) take 0s and 1s, with
--sequence-length for their other dynamic dimension.

usage: oip_load.py HOST:PORT MODEL AGENT_PID [--grpc HOST:PORT] [--traffic TRAFFIC.npz] [--requests N]
                   [--batches 1 64] [--sequence-length 128]
"""
import argparse
import os
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("model")
parser.add_argument("agent_pid", type=int)
parser.add_argument("--grpc")
parser.add_argument("--traffic")
parser.add_argument("--requests", type=int, default=2000)
parser.add_argument("--batches", type=int, nargs="+", default=[1, 64])
parser.add_argument("--sequence-length", type=int, default=128)
options = parser.parse_args()

http = httpclient.InferenceServerClient(options.url)
grpc = grpcclient.InferenceServerClient(options.grpc) if options.grpc else None
metadata = http.get_model_metadata(options.model)
images = np.load(options.traffic)["input"].astype(np.float32) if options.traffic else None
rng = np.random.default_rng(7)
ticks_per_second = os.sysconf("SC_CLK_TCK")


def agent_cpu_seconds():
    fields = open(f"/proc/{options.agent_pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks_per_second   # utime + stime


def values(tensor, batch, request):
    shape = [batch] + [options.sequence_length if size == -1 else size for size in tensor["shape"][1:]]
    if tensor["datatype"] == "FP32" and shape[1:] == [784] and images is not None:
        start = (request * batch) % (len(images) - batch)
        return images[start:start + batch]
    if tensor["datatype"] == "FP32":
        return rng.standard_normal(shape, dtype=np.float32)
    return rng.integers(0, 2, shape).astype(np.dtype(tensor["datatype"].lower()))


def infer(transport, batch, request):
    client = {"gRPC": grpcclient, "JSON": httpclient, "binary": httpclient}[transport]
    inputs = []
    for tensor in metadata["inputs"]:
        data = values(tensor, batch, request)
        given = client.InferInput(tensor["name"], list(data.shape), tensor["datatype"])
        if transport == "JSON":
            given.set_data_from_numpy(data, binary_data=False)
        else:
            given.set_data_from_numpy(data)
        inputs.append(given)
    if transport == "gRPC":
        return grpc.infer(options.model, inputs)
    outputs = None if transport == "binary" else [
        httpclient.InferRequestedOutput(tensor["name"], binary_data=False) for tensor in metadata["outputs"]]
    return http.infer(options.model, inputs, outputs=outputs)


def measure(transport, batch):
    for request in range(50):
        infer(transport, batch, request)
    latencies = []
    cpu_before, began = agent_cpu_seconds(), time.perf_counter()
    for request in range(options.requests):
        sent = time.perf_counter()
        infer(transport, batch, request)
        latencies.append(time.perf_counter() - sent)
    elapsed, cpu = time.perf_counter() - began, agent_cpu_seconds() - cpu_before
    p50, p99 = np.percentile(latencies, [50, 99]) * 1000
    return options.requests / elapsed, p50, p99, cpu / options.requests * 1e6


print("| batch | transport | requests/s | p50 ms | p99 ms | agent CPU µs/request |")
print("|---:|---|---:|---:|---:|---:|")
for batch in options.batches:
    for transport in ["JSON", "binary"] + (["gRPC"] if grpc else []):
        rate, p50, p99, cpu = measure(transport, batch)
        print(f"| {batch} | {transport} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {cpu:,.0f} |", flush=True)
