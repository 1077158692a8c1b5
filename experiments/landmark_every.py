"""Shipped model STOI/ESTOI on GRID s1 val clips, crops re-made from the corpus with landmark_every=1 and 3 (paired).
Usage: python experiments/landmark_every.py CACHE [N] [MODEL] [VOCODER] [CSV] [K]   (K: compared with every frame, default 3)
CACHE: crops made with the model's PrepConfig (`lipsound2 prepare ... --region mouth --crop-size 48`), used for its config and ids;
MODEL: a shipped checkpoint name (default lipsound2_grid_s1.pt); VOCODER: griffinlim (default) or hifigan; CSV: where the per-clip rows go."""
import json, sys, time, numpy as np, torch
from pathlib import Path
torch.set_num_threads(1)
from lipsound2.config import PrepConfig
from lipsound2.corpora.core import read_corpus
from lipsound2.core import data_root
from lipsound2.media.video import preprocess_utterance, FaceLandmarker, read_video
from lipsound2.v2s.model import load_checkpoint
from lipsound2.vocoders.base import get_vocoder
from lipsound2.metrics import stoi, estoi
from lipsound2.inference import LipSound2Pipeline
from lipsound2.media.audio import load_audio
cache = Path(sys.argv[1])
prep = PrepConfig.from_dict(json.loads((cache/'config.json').read_text()))
have = {p.stem for p in cache.glob('*.npz')}
utts = [u for u in read_corpus(data_root('grid')) if u.split == 'val' and u.utt_id in have]
n = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != 'all' else len(utts)
model_name = sys.argv[3] if len(sys.argv) > 3 else 'lipsound2_grid_s1.pt'
vocoder = sys.argv[4] if len(sys.argv) > 4 else 'griffinlim'
K = int(sys.argv[6]) if len(sys.argv) > 6 else 3
utts = utts[:n]; print(len(utts), 'val clips', flush=True)
ls2 = load_checkpoint(model_name).eval()
assert ls2.prep.diff(prep) == {}, ls2.prep.diff(prep)
pipe, lm = LipSound2Pipeline(ls2, get_vocoder(vocoder)), FaceLandmarker()
rows = []
for u in utts:
    r = dict(utt=u.utt_id); ref = load_audio(u.audio, 22050); outs = {}
    for k in (1, K):
        c0 = time.process_time()
        o = preprocess_utterance(u.video, None, prep.replace(landmark_every=k), lm, need_audio=False)
        r[f'cpu{k}'] = time.process_time() - c0; outs[k] = o
        torch.manual_seed(0)
        wav = pipe.speak([o['crops']])[0].wav
        r[f'stoi{k}'], r[f'estoi{k}'] = stoi(ref, wav, 22050), estoi(ref, wav, 22050)
    v = read_video(u.video); l1, l3 = lm(v, 1), lm(v, K); good = ~np.isnan(l1).any((1, 2)) & ~np.isnan(l3).any((1, 2))
    r['lm_err'] = float(np.abs(l3[good] - l1[good]).mean())
    r['box_err'] = float(np.abs(outs[K]['boxes'] - outs[1]['boxes']).mean())
    r['crop_err'] = float(np.abs(outs[K]['crops'].astype(int) - outs[1]['crops']).mean())
    rows.append(r); print(r, flush=True)
def summ(a, b):
    d = np.array(b) - np.array(a); return np.mean(a), np.mean(b), d.mean(), d.std(ddof=1)/np.sqrt(len(d))
for m in ('stoi', 'estoi'):
    print(m, f'k1 %.4f k{K} %.4f diff %.4f se %.4f' % summ([r[m+'1'] for r in rows], [r[m+str(K)] for r in rows]))
print(('lm err px %.3f (max clip %.3f), box err px %.3f, crop grey err %.3f, cpu k1 %.3f k' + str(K) + ' %.3f') % (np.mean([r['lm_err'] for r in rows]), max(r['lm_err'] for r in rows), np.mean([r['box_err'] for r in rows]), np.mean([r['crop_err'] for r in rows]),
      np.mean([r['cpu1'] for r in rows]), np.mean([r['cpu'+str(K)] for r in rows])))
if len(sys.argv) > 5:
    import pandas as pd
    pd.DataFrame(rows).assign(model=model_name, vocoder=vocoder).to_csv(sys.argv[5], index=False, float_format='%.4f')
