"""Does lip-reading knowledge help the default video-to-speech model? The shipped non-autoregressive model, fine-tuned
with the shipped audio-visual recogniser's video-only representation (frozen; `AVSR.encode` with the audio dropped)
added to its memory through a zero-initialised linear layer, so that training starts from the shipped model exactly.
The control (`--no-lip`) fine-tunes the same way with the features held at zero. Both: the default recipe's loss and
callbacks (`training.v2s_learner`, preset nar_cpu: AdamW, flat-cosine, video time masking), CPU bfloat16, 1 thread.
Then STOI/ESTOI with Griffin-Lim on the 49 validation clips (the cache's crops).
Usage: python experiments/avsr_fusion_v2s.py CACHE OUT.csv [--no-lip] [--epochs 15] [--lr 5e-4]"""
import argparse, time, numpy as np, pandas as pd, torch
import torch.nn.functional as F
from torch import nn
p = argparse.ArgumentParser(); p.add_argument('cache'); p.add_argument('out'); p.add_argument('--no-lip', action='store_true')
p.add_argument('--epochs', type=int, default=15); p.add_argument('--lr', type=float, default=5e-4); a = p.parse_args()
torch.set_num_threads(1); torch.manual_seed(0)
from lipsound2.config import TrainConfig
from lipsound2.data import get_dls, cached_ids, load_cached
from lipsound2.model import load_checkpoint
from lipsound2.avsr import load_avsr
from lipsound2.core import resolve_weights
from lipsound2.training import v2s_learner
from lipsound2.video import crops_to_video
from lipsound2.synthesis import get_vocoder, stoi, estoi
from lipsound2.audio import load_audio

class NARWithLipFeatures(nn.Module):
    "The NAR model, its memory plus `lip(AVSR video-only features)`; the AVSR frozen, in eval mode, in float32 weights."
    def __init__(self, nar, avsr, use:bool=True):
        super().__init__()
        self.nar, self.decoder, self.cfg, self.use = nar, nar.decoder, nar.cfg, use
        self.avsr = [avsr.eval().requires_grad_(False)]          # a list: not a submodule (no training, no checkpoint)
        self.lip = nn.Linear(avsr.cfg.d_model, nar.cfg.d_model); nn.init.zeros_(self.lip.weight); nn.init.zeros_(self.lip.bias)
    def features(self, video, lens):
        av = self.avsr[0]; B, C, T, H, W = video.shape
        v = F.interpolate(video.transpose(1, 2).flatten(0, 1), size=(av.cfg.img_size,)*2, mode='area').view(B, T, C, av.cfg.img_size, av.cfg.img_size).transpose(1, 2)
        with torch.no_grad(): return av.encode(None, v, lens, av.keep_mask(B, 'video', lens.device)).detach()
    def forward(self, video, video_lens, mel=None, mel_lens=None):
        m = self.nar.encode(video, video_lens)
        if self.use: m = m + self.lip(self.features(video, video_lens))
        return self.decoder(m, video_lens)
    @torch.no_grad()
    def infer(self, video, video_lens):
        "As `NARVideoToSpeech.infer`: `(mel_post, mel_lens, None)`."
        was = self.training; self.eval()
        try: _, mel = self(video, video_lens)
        finally: self.train(was)
        return mel, self.cfg.mel_frames(video_lens).to(mel.device), None

nar, avsr = load_checkpoint('nar_grid_s1.pt'), load_avsr(resolve_weights('avsr_grid_s1.pt'))
model = NARWithLipFeatures(nar, avsr, not a.no_lip)
tcfg = TrainConfig.preset('nar_cpu', epochs=a.epochs, lr=a.lr, mixed_precision='bf16')
dls = get_dls(a.cache, bs=tcfg.bs, img_size=nar.cfg.img_size, gray=nar.cfg.in_channels == 1, preload=True, num_workers=0)
learn = v2s_learner(dls, model=model, tcfg=tcfg)
t0 = time.process_time()
with learn.no_bar(): learn.fit_flat_cos(tcfg.epochs, tcfg.lr, wd=tcfg.wd)
mins = (time.process_time() - t0) / 60
model.eval(); gl, rows = get_vocoder('griffinlim'), []
for u in cached_ids(a.cache):
    it = load_cached(a.cache, u)
    if it['meta'].get('split') != 'val': continue
    v = crops_to_video(it['crops'], nar.cfg.img_size, True)[None]; lens = torch.tensor([v.shape[2]])
    with torch.no_grad(): mel = model(v, lens)[1][0]
    torch.manual_seed(0); w = gl(mel); ref = load_audio(it['meta']['audio'], 22050)
    rows.append(dict(utt_id=u, run='no-lip' if a.no_lip else 'lip', stoi=stoi(ref, w, 22050), estoi=estoi(ref, w, 22050)))
df = pd.DataFrame(rows).assign(epochs=a.epochs, lr=a.lr, cpu_min=round(mins, 1)); df.to_csv(a.out, index=False, float_format='%.4f')
print(df[['stoi', 'estoi']].mean().round(4).to_dict(), f'{mins:.1f} CPU-min', flush=True)
