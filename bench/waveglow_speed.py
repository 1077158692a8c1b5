#!/usr/bin/env python3
"""WaveGlow synthesis speed: kHz of audio generated per second of wall clock (higher is better).

Random-weight models (speed does not depend on the weights), weight norm removed, `torch.inference_mode`.
CPU: fp32, batch 1, NVIDIA's full config and our small one. CUDA (when available): fp32, fp16 and bf16, batch 1
and a larger batch. One warm-up call per setting is not timed (it includes one-off kernel selection).

    python bench/waveglow_speed.py                  # everything this machine can run
    python bench/waveglow_speed.py --seconds 2 --repeats 5 --cpu-seconds 0.5

For scale: the WaveGlow paper (Prenger, Valle & Catanzaro, ICASSP 2019) reports more than 500 kHz on an
NVIDIA V100 in fp16 for the full model (12 flows, 256-channel WN), about 23x faster than real time at 22,050 Hz.
"""
import argparse, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from benchlib import cpu_model
from lipsound2.vocoders.waveglow import WaveGlow, WaveGlowConfig
from lipsound2.vocoders.base import remove_weightnorm

PAPER = ('full (WaveGlow paper)', 'cuda', 'NVIDIA V100', 'float16', '?', '> 500')

def measure(cfg:WaveGlowConfig, device:str, dtype:torch.dtype, batch:int, seconds:float, repeats:int) -> float:
    "kHz of audio per second of wall clock for `batch` utterances of `seconds` each."
    torch.manual_seed(0)
    model = remove_weightnorm(WaveGlow(cfg)).eval().to(device=device, dtype=dtype)
    frames = max(1, round(seconds*cfg.mel.sample_rate/cfg.mel.hop_length))
    mel = torch.randn(batch, cfg.mel.n_mels, frames, device=device, dtype=dtype) - 5   # a log-mel-like range
    def run():
        with torch.inference_mode(): wav = model.infer(mel, sigma=0.6)
        if device == 'cuda': torch.cuda.synchronize()
        return wav.shape[0]*wav.shape[1]
    run()                                   # warm-up: kernel selection, allocator, W^-1 cache
    t = time.perf_counter()
    n = sum(run() for _ in range(repeats))
    return n/(time.perf_counter() - t)/1000

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=float, default=2.0, help='audio per utterance on the GPU, seconds')
    ap.add_argument('--cpu-seconds', type=float, default=0.5, help='audio per utterance on the CPU, seconds')
    ap.add_argument('--repeats', type=int, default=3, help='timed calls per setting')
    ap.add_argument('--gpu-batch', type=int, default=8, help='the larger batch on the GPU')
    ap.add_argument('--no-cpu', action='store_true'); ap.add_argument('--no-cuda', action='store_true')
    a = ap.parse_args()

    cuda = torch.cuda.is_available() and not a.no_cuda
    print(f"torch {torch.__version__}; CPU: {cpu_model()}, torch threads {torch.get_num_threads()}; "
          f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    configs = {'full': WaveGlowConfig(), 'small': WaveGlowConfig.small()}
    settings = []
    if not a.no_cpu:
        settings += [(name, 'cpu', torch.float32, 1, a.cpu_seconds) for name in configs]
    if cuda:
        for name in configs:
            for dt in (torch.float32, torch.float16, torch.bfloat16):
                for bs in (1, a.gpu_batch): settings.append((name, 'cuda', dt, bs, a.seconds))
    rows = []
    for name, dev, dt, bs, sec in settings:
        try: khz = f"{measure(configs[name], dev, dt, bs, sec, a.repeats):.1f}"
        except RuntimeError as e: khz = f"failed: {str(e).splitlines()[0][:60]}"
        where = cpu_model() if dev == 'cpu' else torch.cuda.get_device_name(0)
        rows.append((name, dev, where, str(dt).replace('torch.', ''), str(bs), khz))
        print(f"  measured {rows[-1]}", flush=True)
    rows.append(PAPER)
    head = ('config', 'device', 'machine', 'dtype', 'batch', 'kHz (audio/s)')
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: ' | '.join(c.ljust(w[i]) for i, c in enumerate(r))
    print('\n' + line(head)); print('-+-'.join('-'*x for x in w))
    for r in rows: print(line(r))
    print(f"(real time at 22,050 Hz = 22.05 kHz; CPU rows use {torch.get_num_threads()} threads)")

if __name__ == '__main__': main()
