"""Does lip-reading knowledge help video-to-speech? Fine-tuning runs that feed the shipped audio-visual recogniser's
video-only representation (`AVSR.encode` with the audio dropped, 192 values per frame) to a non-autoregressive decoder:

  lip           the shipped default model, its memory plus a zero-initialised linear map of the frozen recogniser's
                features (training starts from the shipped model exactly)
  no-lip        the control: the same fine-tuning with the features held at zero
  avsr-encoder  the recogniser's video path, unfrozen, feeding the `NARDecoder` that `avsr_features_v2s.py` trained on its
                frozen features (`--decoder RUN/best.pt`), fine-tuned end to end

Each: the default recipe's loss and callbacks (`training.v2s_learner`, preset nar_cpu: AdamW, flat-cosine, video time
masking) in CPU bfloat16 on one thread, then `inference.evaluate_speech` with Griffin-Lim on the cache's validation
clips (STOI, ESTOI, PESQ, MCD per clip) into OUT.csv, and the weights beside it (OUT.csv.weights.pt).
The rows of `results/v2s_lip_features.csv`:
  python experiments/lip_features_v2s.py lip CACHE lip.csv --epochs 15
  python experiments/lip_features_v2s.py no-lip CACHE no-lip.csv --epochs 15
  python experiments/lip_features_v2s.py avsr-encoder CACHE enc.csv --epochs 20 --decoder RUNS/avsrfeat/best.pt"""
import argparse, json, time
from pathlib import Path
import torch
import torch.nn.functional as F
from torch import nn

def avsr_video_features(avsr, video, lens):
    "The recogniser's video-only representation `(B, T, d_model)` of model input `(B, 1, T, H, W)`, resized to its `img_size`."
    (B, C, T, H, W), s = video.shape, avsr.cfg.img_size
    v = F.interpolate(video.transpose(1, 2).flatten(0, 1), size=(s, s), mode='area').view(B, T, C, s, s).transpose(1, 2)
    return avsr.encode(None, v, lens, avsr.keep_mask(B, 'video', lens.device))

class _InferAsNAR:
    "`infer` as `NARVideoToSpeech.infer`: `(mel_post, mel_lens, None)`, in eval mode, the training mode restored."
    @torch.no_grad()
    def infer(self, video, video_lens):
        was = self.training; self.eval()
        try: _, mel = self(video, video_lens)
        finally: self.train(was)
        return mel, self.cfg.mel_frames(video_lens).to(mel.device), None

class NARWithLipFeatures(_InferAsNAR, nn.Module):
    "The NAR model, its memory plus `lip(features)` of the frozen recogniser (kept out of the module: not trained, not saved)."
    def __init__(self, nar, avsr, use:bool=True):
        super().__init__()
        self.nar, self.decoder, self.cfg, self.use = nar, nar.decoder, nar.cfg, use
        self.avsr = [avsr.eval().requires_grad_(False)]
        self.lip = nn.Linear(avsr.cfg.d_model, nar.cfg.d_model); nn.init.zeros_(self.lip.weight); nn.init.zeros_(self.lip.bias)
    def forward(self, video, video_lens, mel=None, mel_lens=None):
        m = self.nar.encode(video, video_lens)
        if self.use:
            with torch.no_grad(): f = avsr_video_features(self.avsr[0], video, video_lens)
            m = m + self.lip(f)
        return self.decoder(m, video_lens)

class AVSREncoderV2S(_InferAsNAR, nn.Module):
    "Video `(B, 1, T, 48, 48)` -> the recogniser's video-only representation `(B, T, 192)` -> `NARDecoder` -> `(mel_dec, mel_post)`."
    def __init__(self, avsr, decoder):
        super().__init__()
        self.avsr, self.decoder, self.cfg = avsr, decoder, decoder.cfg
    def forward(self, video, video_lens, mel=None, mel_lens=None):
        return self.decoder(avsr_video_features(self.avsr, video, video_lens), video_lens)

def fit_and_score(model, cache:str, out:str, run:str, epochs:int, lr:float):
    "Fine-tune `model` with the default recipe in CPU bfloat16, then score it on the validation clips; writes OUT.csv and the weights."
    from lipsound2.config import TrainConfig
    from lipsound2.data.core import get_dls
    from lipsound2.v2s.training import v2s_learner
    tcfg = TrainConfig.preset('nar_cpu', epochs=epochs, lr=lr, mixed_precision='bf16')
    dls = get_dls(cache, bs=tcfg.bs, img_size=model.cfg.img_size, gray=model.cfg.in_channels == 1, preload=True, num_workers=0)
    learn = v2s_learner(dls, model=model, tcfg=tcfg)
    t0 = time.process_time()
    with learn.no_bar(): learn.fit_flat_cos(tcfg.epochs, tcfg.lr, wd=tcfg.wd)
    mins = (time.process_time() - t0) / 60
    torch.save(model.state_dict(), out + '.weights.pt')
    return score(model, cache, run).assign(epochs=epochs, lr=lr, cpu_min=round(mins, 1))

def score(model, cache:str, run:str):
    "Per-clip STOI, ESTOI, PESQ and MCD of `model`'s speech (Griffin-Lim) on the cache's validation clips (`inference.evaluate_speech`)."
    from lipsound2.config import PrepConfig
    from lipsound2.inference import LipSound2Pipeline, evaluate_speech
    from lipsound2.vocoders.base import get_vocoder
    prep = PrepConfig.from_dict(json.loads((Path(cache)/'config.json').read_text()))
    pipe = LipSound2Pipeline(model, get_vocoder('griffinlim'), prep=prep)
    return evaluate_speech(cache, pipe, 'val', copy=False, progress=False).drop(columns='system').assign(run=run)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('run', choices=['lip', 'no-lip', 'avsr-encoder']); p.add_argument('cache'); p.add_argument('out')
    p.add_argument('--epochs', type=int, default=15); p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--decoder', help="avsr-encoder: the NARDecoder of an avsr_features_v2s.py run (its best.pt)")
    a = p.parse_args()
    torch.set_num_threads(1); torch.manual_seed(0)
    from lipsound2.asr.avsr import load_avsr
    from lipsound2.core import resolve_weights
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.v2s.nar import NARConfig, NARDecoder
    avsr = load_avsr(resolve_weights('avsr_grid_s1.pt'))
    if a.run == 'avsr-encoder':
        if not a.decoder: p.error("avsr-encoder needs --decoder RUN/best.pt (from avsr_features_v2s.py)")
        best = torch.load(a.decoder)
        dec = NARDecoder(NARConfig.from_dict(best['cfg'])); dec.load_state_dict(best['state_dict'])
        model = AVSREncoderV2S(avsr, dec)
    else: model = NARWithLipFeatures(load_checkpoint('nar_grid_s1.pt'), avsr, a.run == 'lip')
    df = fit_and_score(model, a.cache, a.out, a.run, a.epochs, a.lr)
    df.to_csv(a.out, index=False, float_format='%.4f')
    print(df[['stoi', 'estoi']].mean().round(4).to_dict(), f"{df.cpu_min.iloc[0]} CPU-min", flush=True)
