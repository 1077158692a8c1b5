#!/usr/bin/env python3
"""Audio-only decoder pre-training (Kefalas et al., TASLP 2024) at our scale: one step of the experiment per call.

Every step trains on one CPU thread for the same CPU-time budget (TrainConfig.max_minutes) and writes a run folder
under --runs (last.pt, best.pt, history.json). Steps:
  pretrain-nar, pretrain-lipsound2   the decoder on audio only: GRID s1 training-split recordings + LJ Speech
  nar, nar+pre                       the non-autoregressive model from scratch / from the pre-trained decoder
  lipsound2, lipsound2+pre           LipSound2 (small preset, the shipped recipe) from scratch / from the pre-trained decoder
Usage: python experiments/audio_pretraining.py STEP --cache CACHE --runs RUNS [--minutes 20] [--epochs N]
CACHE: `lipsound2 prepare $LIPSOUND2_DATA/grid CACHE --region mouth --crop-size 48`; LJ Speech from $LIPSOUND2_DATA/ljspeech.
"""
import argparse, json, time
from pathlib import Path
import torch

STEPS = ('pretrain-nar', 'pretrain-lipsound2', 'nar', 'nar+pre', 'lipsound2', 'lipsound2+pre')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('step', choices=STEPS)
    ap.add_argument('--cache', required=True); ap.add_argument('--runs', required=True)
    ap.add_argument('--split', default=str(Path(__file__).resolve().parents[1]/'splits'/'grid_s1_speaker_dependent.csv'))
    ap.add_argument('--minutes', type=float, default=20, help="CPU minutes of this step")
    ap.add_argument('--epochs', type=int, required=True, help="epochs the schedule is laid out for (about the budget)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from lipsound2.config import LipSound2Config, TrainConfig, PrepConfig
    from lipsound2.v2s.nar import NARConfig
    from lipsound2.v2s.training import train
    from lipsound2.v2s.pretraining import pretrain_audio, audio_mels
    from lipsound2.data.core import load_split, load_cached
    from lipsound2.core import data_root
    kind = 'nar' if 'nar' in a.step else 'lipsound2'
    cfg = NARConfig.small() if kind == 'nar' else LipSound2Config.small()
    recipe = 'nar_cpu' if kind == 'nar' else 'grid_cpu'
    tcfg = TrainConfig.preset(recipe, epochs=a.epochs, max_minutes=a.minutes)
    runs, t0 = Path(a.runs), time.process_time()
    if a.step.startswith('pretrain'):
        split = load_split(a.split)
        grid = [load_cached(a.cache, u)['mel'] for u, s in sorted(split.items()) if s == 'train']   # never val or test audio
        lj = audio_mels(sorted((data_root('ljspeech')/'audio').glob('*.flac')), PrepConfig())
        print(f"audio-only corpus: {len(grid)} GRID s1 training clips + {len(lj)} LJ Speech clips")
        pretrain_audio(grid + lj, runs/a.step, cfg, tcfg)
    else:
        init = runs/f'pretrain-{kind}'/'best.pt' if a.step.endswith('+pre') else None
        train(a.cache, runs/a.step, cfg, tcfg, split=a.split, preload=True, num_workers=0, init_decoder=init)
    print(json.dumps(dict(step=a.step, cpu_minutes=round((time.process_time() - t0) / 60, 1))))

if __name__ == '__main__': main()
