#!/usr/bin/env python3
"""Measures onnxruntime's latency per run on a model, the way `quantfleet bench --json` measures ours.

usage: Tools/ort_bench.py MODEL IN.npz --batch N --threads N [--warmup N] [--iterations N]
IN.npz holds one array per model input (leading batch axis); the first --batch rows are fed.
Prints one JSON object with median_ms, p99_ms, mean_ms (and threads, batch, warmup, iterations). Needs: pip install numpy onnxruntime.
"""
import argparse
import json
import math
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    arrays = np.load(args.data)
    feeds = {i.name: arrays[i.name][: args.batch] for i in session.get_inputs()}
    for _ in range(args.warmup):
        session.run(None, feeds)
    latencies = []
    for _ in range(args.iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        latencies.append((time.perf_counter() - start) * 1e3)
    latencies.sort()
    # Same statistics as BenchReport: the median, and the nearest-rank 99th percentile.
    print(json.dumps({
        "median_ms": float(np.median(latencies)),
        "p99_ms": latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)],
        "mean_ms": sum(latencies) / len(latencies),
        "threads": args.threads,
        "batch": args.batch,
        "warmup": args.warmup,
        "iterations": args.iterations,
    }))


if __name__ == "__main__":
    main()
