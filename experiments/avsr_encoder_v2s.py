"""The next step after `avsr_features_v2s.py`: unfreeze. A video-to-speech model whose encoder is the shipped audio-visual
recogniser's video path (`AVSR.encode` with the audio dropped: 3D-conv stem, 2D trunk, fusion transformer) and whose
decoder is the `NARDecoder` that `avsr_features_v2s.py` trained on that encoder's frozen features (its best.pt), fine-tuned
end to end with the default recipe (`training.v2s_learner`, preset nar_cpu, CPU bfloat16, 1 thread), so that the encoder
may keep what the mel needs beyond the words. Then STOI/ESTOI with Griffin-Lim on the 49 validation clips.
Usage: python experiments/avsr_encoder_v2s.py CACHE FEATURES_RUN OUT.csv [--epochs 20] [--lr 5e-4]"""
import argparse, time, pandas as pd, torch
import torch.nn.functional as F
from torch import nn
p = argparse.ArgumentParser(); p.add_argument('cache'); p.add_argument('run'); p.add_argument('out')
p.add_argument('--epochs', type=int, default=20); p.add_argument('--lr', type=float, default=5e-4); a = p.parse_args()
torch.set_num_threads(1); torch.manual_seed(0)
from lipsound2.config import TrainConfig
from lipsound2.data import get_dls, cached_ids, load_cached
from lipsound2.nar import NARConfig, NARDecoder
from lipsound2.avsr import load_avsr
from lipsound2.core import resolve_weights
from lipsound2.training import v2s_learner
from lipsound2.video import crops_to_video
from lipsound2.synthesis import get_vocoder, stoi, estoi
from lipsound2.audio import load_audio

class AVSREncoderV2S(nn.Module):
    "Video `(B, 1, T, 48, 48)` -> the AVSR's video-only representation `(B, T, 192)` -> `NARDecoder` -> `(mel_dec, mel_post)`."
    def __init__(self, avsr, decoder):
        super().__init__()
        self.avsr, self.decoder, self.cfg = avsr, decoder, decoder.cfg
    def forward(self, video, video_lens, mel=None, mel_lens=None):
        av, (B, C, T, H, W) = self.avsr, video.shape
        v = F.interpolate(video.transpose(1, 2).flatten(0, 1), size=(av.cfg.img_size,)*2, mode='area').view(B, T, C, av.cfg.img_size, av.cfg.img_size).transpose(1, 2)
        return self.decoder(av.encode(None, v, video_lens, av.keep_mask(B, 'video', video_lens.device)), video_lens)
    @torch.no_grad()
    def infer(self, video, video_lens):
        was = self.training; self.eval()
        try: _, mel = self(video, video_lens)
        finally: self.train(was)
        return mel, self.cfg.mel_frames(video_lens).to(mel.device), None

best = torch.load(f'{a.run}/best.pt')
dec = NARDecoder(NARConfig.from_dict(best['cfg'])); dec.load_state_dict(best['state_dict'])
model = AVSREncoderV2S(load_avsr(resolve_weights('avsr_grid_s1.pt')), dec)
tcfg = TrainConfig.preset('nar_cpu', epochs=a.epochs, lr=a.lr, mixed_precision='bf16')
dls = get_dls(a.cache, bs=tcfg.bs, img_size=48, gray=True, preload=True, num_workers=0)
learn = v2s_learner(dls, model=model, tcfg=tcfg)
t0 = time.process_time()
with learn.no_bar(): learn.fit_flat_cos(tcfg.epochs, tcfg.lr, wd=tcfg.wd)
mins = (time.process_time() - t0) / 60
model.eval(); gl, rows = get_vocoder('griffinlim'), []
for u in cached_ids(a.cache):
    it = load_cached(a.cache, u)
    if it['meta'].get('split') != 'val': continue
    v = crops_to_video(it['crops'], 48, True)[None]; lens = torch.tensor([v.shape[2]])
    with torch.no_grad(): mel = model(v, lens)[1][0]
    torch.manual_seed(0); w = gl(mel); ref = load_audio(it['meta']['audio'], 22050)
    rows.append(dict(utt_id=u, run='avsr-encoder', stoi=stoi(ref, w, 22050), estoi=estoi(ref, w, 22050)))
df = pd.DataFrame(rows).assign(epochs=a.epochs, cpu_min=round(mins, 1)); df.to_csv(a.out, index=False, float_format='%.4f')
torch.save(model.state_dict(), a.out + '.weights.pt')
print(df[['stoi', 'estoi']].mean().round(4).to_dict(), f'{mins:.1f} CPU-min', flush=True)
