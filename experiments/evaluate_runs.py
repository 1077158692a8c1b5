#!/usr/bin/env python3
"""Score the runs of `audio_pretraining.py` on the validation split and gather their learning curves.

Usage: python experiments/evaluate_runs.py RUN [RUN ...] --cache CACHE --out results/audio_pretraining.csv [--split val]
For each RUN (a folder with best.pt and history.json): speech (Griffin-Lim unless --vocoder) of every `--split` utterance of the cache,
STOI / ESTOI / wide-band PESQ / MCD against the recording, and WER / CER through the shipped Jasper trained on
recordings (GRID-grammar decoding). Writes per-utterance rows to --out and the per-epoch history of every run to
the same name with `_curves` (epoch, losses, wall and CPU seconds).
"""
import argparse, json
from pathlib import Path
import pandas as pd, torch

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('runs', nargs='+'); ap.add_argument('--cache', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--split', default='val'); ap.add_argument('--checkpoint', default='best.pt')
    ap.add_argument('--vocoder', default='griffinlim', help="one vocoder for every run, so that the rows compare the models")
    a = ap.parse_args()
    torch.set_num_threads(1)
    from lipsound2.core import atomic_path, resolve_weights
    from lipsound2.inference import LipSound2Pipeline, evaluate_speech, DEFAULT_RECOGNISER
    from lipsound2.asr.jasper_training import load_jasper
    from lipsound2.metrics import summarise
    asr, rows, curves = load_jasper(resolve_weights(DEFAULT_RECOGNISER)), [], []
    for run in map(Path, a.runs):
        ck = run/a.checkpoint if (run/a.checkpoint).exists() else run
        pipe = LipSound2Pipeline.from_pretrained(ck, vocoder=a.vocoder)
        df = evaluate_speech(a.cache, pipe, a.split, recogniser=asr, copy=False, progress=False).assign(run=run.name)
        rows.append(df); print(run.name, summarise(df)['mean'].round(3).to_dict(), flush=True)
        if (run/'history.json').exists():
            curves.append(pd.DataFrame(json.loads((run/'history.json').read_text())).assign(run=run.name))
    out = Path(a.out)
    with atomic_path(out) as tmp: pd.concat(rows).to_csv(tmp, index=False, float_format='%.4f')
    if curves:
        with atomic_path(out.with_name(out.stem + '_curves.csv')) as tmp: pd.concat(curves).to_csv(tmp, index=False, float_format='%.4f')

if __name__ == '__main__': main()
