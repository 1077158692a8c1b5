"""HiFi-GAN (universal, the default vocoder) in float32 against CPU bfloat16 autocast, paired on GRID s1 validation clips:
copy-synthesis (the recording's mel) and the default model's speech; STOI, ESTOI, PESQ against the recording, and seconds.
Usage: python experiments/hifigan_bf16.py CACHE OUT.csv [N]   (CACHE: the default model's crops, as landmark_every.py)"""
import sys, time, numpy as np, torch
from pathlib import Path
import pandas as pd
torch.set_num_threads(1)
from lipsound2.data.core import cached_ids, load_cached
from lipsound2.v2s.model import load_checkpoint
from lipsound2.vocoders.base import get_vocoder
from lipsound2.metrics import stoi, estoi, pesq_wb
from lipsound2.inference import crops_to_speech
from lipsound2.vocoders.hifigan import _MelOnly
from lipsound2.media.audio import load_audio
cache, out = Path(sys.argv[1]), Path(sys.argv[2])
ids = [u for u in cached_ids(cache) if load_cached(cache, u)['meta'].get('split') == 'val']
ids = ids[:int(sys.argv[3])] if len(sys.argv) > 3 else ids
model, voc = load_checkpoint('nar_grid_s1.pt').eval(), get_vocoder('hifigan')
mel_only = _MelOnly(model.cfg.mel)
rows = []
for u in ids:
    it = load_cached(cache, u); ref = load_audio(it['meta']['audio'], 22050)
    gen = crops_to_speech([it['crops']], model, mel_only)[0].mel    # the model's mel; no vocoding wanted here
    for inp, mel in (('copy', torch.from_numpy(it['mel'])), ('generated', gen)):
        for prec in ('float32', 'bfloat16'):
            t0 = time.perf_counter()
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=prec == 'bfloat16'): wav = voc(mel)
            s = time.perf_counter() - t0
            rows.append(dict(utt_id=u, input=inp, precision=prec, stoi=stoi(ref, wav, 22050), estoi=estoi(ref, wav, 22050),
                             pesq=pesq_wb(ref, wav, 22050), seconds=s, audio_s=len(wav)/22050))
    print(u, rows[-4:], flush=True)
df = pd.DataFrame(rows); df.to_csv(out, index=False, float_format='%.4f')
w = df.pivot_table(index=['utt_id', 'input'], columns='precision', values=['stoi', 'estoi', 'pesq', 'seconds'])
for inp in ('copy', 'generated'):
    x = w.xs(inp, level='input')
    for m in ('stoi', 'estoi', 'pesq'):
        d = x[(m, 'bfloat16')] - x[(m, 'float32')]
        print(f'{inp:9} {m:5} fp32 {x[(m, "float32")].mean():.4f} bf16 {x[(m, "bfloat16")].mean():.4f} diff {d.mean():+.4f} se {d.std(ddof=1)/np.sqrt(len(d)):.4f}')
    print(f'{inp:9} seconds fp32 {x[("seconds", "float32")].mean():.3f} bf16 {x[("seconds", "bfloat16")].mean():.3f}')
