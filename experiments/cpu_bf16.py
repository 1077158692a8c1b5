#!/usr/bin/env python3
"""Does CPU bfloat16 autocast (`TrainConfig.mixed_precision='bf16'`) train the non-autoregressive model as well as float32?

Trains the shipped recipe (`nar_cpu`, decoder from the audio pre-training run) for the same number of epochs three times
on one thread: float32 with seeds 0 and 1 (the seed-to-seed spread) and bfloat16 with seed 0. Each run is a folder under
--runs (last.pt, best.pt, history.json with CPU seconds per epoch); score them with

    python experiments/evaluate_runs.py RUNS/nar-fp32-s0 RUNS/nar-fp32-s1 RUNS/nar-bf16-s0 --checkpoint last.pt \\
        --cache CACHE --out results/cpu_bf16_val.csv

Usage: python experiments/cpu_bf16.py RUN_NAME --cache CACHE --runs RUNS --init-decoder PRETRAIN/best.pt [--epochs 10]
RUN_NAME is nar-fp32-s0, nar-fp32-s1 or nar-bf16-s0 (one run per call, so that runs can share the cores).
"""
import argparse, json, time
from pathlib import Path
import torch

RUNS = {'nar-fp32-s0': ('off', 0), 'nar-fp32-s1': ('off', 1), 'nar-bf16-s0': ('bf16', 0)}

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('run', choices=list(RUNS))
    ap.add_argument('--cache', required=True); ap.add_argument('--runs', required=True)
    ap.add_argument('--init-decoder', required=True, help="the audio pre-training checkpoint (`pretrain-audio`, NAR decoder)")
    ap.add_argument('--split', default=str(Path(__file__).resolve().parents[1]/'splits'/'grid_s1_speaker_dependent.csv'))
    ap.add_argument('--epochs', type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(1)
    from fastai.torch_core import set_seed
    from lipsound2.config import TrainConfig
    from lipsound2.v2s.nar import NARConfig
    from lipsound2.v2s.training import train
    precision, seed = RUNS[a.run]
    set_seed(seed, reproducible=True)
    tcfg = TrainConfig.preset('nar_cpu', epochs=a.epochs, mixed_precision=precision)
    t0 = time.process_time()
    train(a.cache, Path(a.runs)/a.run, NARConfig.small(), tcfg, split=a.split, preload=True, num_workers=0, init_decoder=a.init_decoder)
    print(json.dumps(dict(run=a.run, cpu_minutes=round((time.process_time() - t0) / 60, 1))))

if __name__ == '__main__': main()
