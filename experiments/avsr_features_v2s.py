"""Video-to-speech on the shipped audio-visual recogniser's video-only representation: does a lip-reading encoder
(self-supervised pre-training, then CTC fine-tuning on the GRID s1 training transcripts) give the non-autoregressive
decoder better input than the default model's own encoder, trained from the mel targets alone?

The AVSR encoder is frozen; its features `(T, 192)` of every cached clip are computed once; a `NARDecoder` (the default
model's decoder and Postnet, `NARConfig.small`) is trained on them with the default model's loss (L1 + MSE, decoder and
Postnet), AdamW and a one-cycle schedule, for a CPU budget. Validation: free-running = training, STOI/ESTOI with
Griffin-Lim every few epochs, the best epoch saved.
Then the best epoch's per-clip scores go to OUTDIR/val.csv (EPOCHS 0: only that, from an earlier run's best.pt).
Usage: python experiments/avsr_features_v2s.py CACHE OUTDIR [EPOCHS] [MINUTES]"""
import sys, time, json, numpy as np, torch
from pathlib import Path
torch.set_num_threads(1); torch.manual_seed(0)
from lipsound2.data.core import cached_ids, load_cached
from lipsound2.asr.avsr import load_avsr
from lipsound2.v2s.nar import NARConfig, NARDecoder, NARLoss
from lipsound2.media.video import crops_to_video
from lipsound2.core import resolve_weights, atomic_torch_save
from lipsound2.vocoders.base import get_vocoder
from lipsound2.metrics import stoi, estoi
from lipsound2.media.audio import load_audio
cache, out = Path(sys.argv[1]), Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 40
budget = float(sys.argv[4]) * 60 if len(sys.argv) > 4 else 1e9
feats_path = out/'features.pt'
if feats_path.exists(): data = torch.load(feats_path)
else:
    avsr = load_avsr(resolve_weights('avsr_grid_s1.pt')).eval(); c = avsr.cfg
    data = {}
    with torch.no_grad():
        for i, u in enumerate(cached_ids(cache)):
            it = load_cached(cache, u)
            v = crops_to_video(it['crops'], c.img_size, c.in_channels == 1)[None]
            lens = torch.tensor([v.shape[2]])
            f = avsr.encode(None, v, lens, avsr.keep_mask(1, 'video'))[0]
            data[u] = dict(f=f.half(), mel=torch.from_numpy(it['mel']).half(), split=it['meta'].get('split'), audio=it['meta'].get('audio'))
            if i % 100 == 0: print('features', i, flush=True)
    atomic_torch_save(data, feats_path)
train = [u for u, d in data.items() if d['split'] == 'train']; val = [u for u, d in data.items() if d['split'] == 'val']
print(len(train), 'train', len(val), 'val', flush=True)
cfg = NARConfig.small(d_model=data[train[0]]['f'].shape[-1])
dec, loss_fn = NARDecoder(cfg), NARLoss()
bs = 16; steps = epochs * (len(train) // bs)
opt = torch.optim.AdamW(dec.parameters(), 1e-3, weight_decay=1e-2)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=steps, pct_start=0.1) if steps else None
gl = get_vocoder('griffinlim')
def batch(ids):
    T = max(data[u]['f'].shape[0] for u in ids); M = max(data[u]['mel'].shape[1] for u in ids)
    f = torch.zeros(len(ids), T, cfg.d_model); mel = torch.full((len(ids), cfg.mel.n_mels, M), cfg.mel.log_floor)
    for i, u in enumerate(ids):
        f[i, :data[u]['f'].shape[0]] = data[u]['f'].float(); mel[i, :, :data[u]['mel'].shape[1]] = data[u]['mel'].float()
    return f, torch.tensor([data[u]['f'].shape[0] for u in ids]), mel, torch.tensor([data[u]['mel'].shape[1] for u in ids])
def evaluate(score:bool):
    dec.eval(); losses, s, e = [], [], []
    with torch.no_grad():
        for k in range(0, len(val), bs):
            f, fl, mel, ml = batch(val[k:k+bs]); p = dec(f, fl); losses.append(loss_fn(p, mel, ml).item() * len(fl))
            if score:
                for i, u in enumerate(val[k:k+bs]):
                    torch.manual_seed(0); w = gl(p[1][i, :, :int(ml[i])]); ref = load_audio(data[u]['audio'], 22050)
                    s.append(stoi(ref, w, 22050)); e.append(estoi(ref, w, 22050))
    dec.train(); return sum(losses)/len(val), (np.mean(s) if s else None), (np.mean(e) if e else None)
t0, best, hist = time.process_time(), -1, []
for ep in range(epochs):
    perm = torch.randperm(len(train)).tolist(); tl = []
    for k in range(0, len(train) - bs + 1, bs):
        f, fl, mel, ml = batch([train[i] for i in perm[k:k+bs]])
        loss = loss_fn(dec(f, fl), mel, ml); opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(dec.parameters(), 1.0); opt.step(); sched.step(); tl.append(loss.item())
    score = ep % 5 == 4 or ep == epochs - 1
    vl, s, e = evaluate(score); mins = (time.process_time() - t0)/60
    hist.append(dict(epoch=ep, train=np.mean(tl), valid=vl, stoi=s, estoi=e, cpu_min=mins)); print(hist[-1], flush=True)
    if s is not None and s + e > best: best = s + e; atomic_torch_save(dict(state_dict=dec.state_dict(), cfg=cfg.to_dict(), epoch=ep), out/'best.pt')
    (out/'history.json').write_text(json.dumps(hist))
    if mins > budget/60: print('budget reached'); break
best = torch.load(out/'best.pt'); dec.load_state_dict(best['state_dict']); dec.eval(); rows = []
with torch.no_grad():
    for k in range(0, len(val), bs):
        f, fl, mel, ml = batch(val[k:k+bs]); p = dec(f, fl)
        for i, u in enumerate(val[k:k+bs]):
            torch.manual_seed(0); w = gl(p[1][i, :, :int(ml[i])]); ref = load_audio(data[u]['audio'], 22050)
            rows.append(dict(utt_id=u, run='avsr-features', stoi=stoi(ref, w, 22050), estoi=estoi(ref, w, 22050), epochs=best['epoch'] + 1))
import pandas as pd
pd.DataFrame(rows).to_csv(out/'val.csv', index=False, float_format='%.4f'); print(pd.DataFrame(rows)[['stoi', 'estoi']].mean().round(4).to_dict())
