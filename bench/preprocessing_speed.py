#!/usr/bin/env python3
"""Preprocessing throughput on CPU: decode + face landmarks + crop + mel, in video frames per second.

Rerunnable benchmark (not a test). Usage: python bench/preprocessing_speed.py [--clips 20] [--workers 1 2]
Reads GRID clips from $LIPSOUND2_DATA/grid (the silent .mp4 + .flac pairs); prints the machine and a table.
"""
import argparse, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from benchlib import machine
import numpy as np, torch, cv2

from lipsound2.config import PrepConfig
from lipsound2.core import data_root
from lipsound2.media.audio import load_audio, audio_to_mel
from lipsound2.media.video import FaceLandmarker, read_video, crop_boxes, crop_frames
from lipsound2.corpora.core import read_corpus
from lipsound2.data.core import prepare

def stages(utts, cfg):
    "Seconds spent per stage, one process, over `utts`."
    torch.set_num_threads(1); cv2.setNumThreads(1)
    lm, t, frames = FaceLandmarker(), dict(decode=0., landmarks=0., crop=0., mel=0.), 0
    for u in utts:
        t0 = time.perf_counter(); v = read_video(u.video); t1 = time.perf_counter()
        l = lm(v); t2 = time.perf_counter()
        crop_frames(v, crop_boxes(l, cfg), cfg.crop_size); t3 = time.perf_counter()
        audio_to_mel(load_audio(u.audio, cfg.mel.sample_rate), len(v), cfg); t4 = time.perf_counter()
        for k, a, b in (('decode', t0, t1), ('landmarks', t1, t2), ('crop', t2, t3), ('mel', t3, t4)): t[k] += b - a
        frames += len(v)
    return t, frames

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--clips', type=int, default=20)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2]); a = ap.parse_args()
    grid = data_root('grid')
    utts = [u for u in read_corpus(grid) if u.split == 'val'][:a.clips]
    cfg = PrepConfig()
    print(f"machine: {machine()}\nclips: {len(utts)} GRID s1 validation clips (360x288, 25 fps, 3 s)\n")
    t, frames = stages(utts, cfg)
    total = sum(t.values())
    print("| stage (1 process) | seconds | frames/s |\n|---|---|---|")
    for k, v in t.items(): print(f"| {k} | {v:.2f} | {frames/v:.0f} |")
    print(f"| all | {total:.2f} | {frames/total:.0f} |\n")
    print("| `prepare` workers | seconds (incl. worker start) | frames/s |\n|---|---|---|")
    for w in a.workers:
        with tempfile.TemporaryDirectory() as d:
            r = prepare(utts, d, cfg, n_workers=w, progress=False)
            assert not r['failed'], r['failed']
            print(f"| {w} | {r['seconds']:.2f} | {r['frames']/r['seconds']:.0f} |")
