"""The ablation of issue 26 (`04b_v2s.text_nar`): the shipped non-autoregressive model fine-tuned at one CPU budget as
`TextNAR` with each of its additions, scored on the validation clips.

  control   the shipped `nar` model fine-tuned alone (lip_input none)
  ctc       + multi-task character CTC on the encoder memory (--ctc)
  lip       + the frozen recogniser's video-only reading: posteriors and aligned decoded words (lip_input both)
  content   + the recogniser's audio-path CTC on the generated mel (--content)
  all       lip + ctc + content
  gt        the true words and timing from the GRID `.align` files instead of the recogniser's (upper bound; --align DIR)

Each run: one torch thread, float32 (--precision bf16 where the processor has it), the default recipe's loss and callbacks (`nar_cpu`: AdamW, flat-cosine, video
time masking), the number of epochs that fits --minutes of CPU time (measured on the first batches), the best
validation-loss weights kept (OUT/best.pt, resumable checkpoints every epoch). Then every validation clip is spoken
(`inference.evaluate_speech`: STOI, ESTOI, PESQ, MCD) with each --vocoder, and its speech is recognised by the audio
path of the shipped audio-visual recogniser and by Jasper (WER). Writes OUT/scores.csv (per clip) and OUT/curve.csv
(losses against CPU minutes).
  python experiments/text_nar.py lip CACHE runs/t26/lip_s0 --minutes 10 --seed 0
  python experiments/text_nar.py shipped CACHE runs/t26/shipped_s0 --score-only --vocoder griffinlim hifigan
  python experiments/text_nar.py collect runs/t26 results     # results/text_nar_{val,curves,runs}.csv"""
import argparse, json, math, time
from pathlib import Path
import torch
from fastai.callback.core import Callback

RUNS = dict(control=dict(lip_input='none'), ctc=dict(lip_input='none', ctc=True), lip=dict(lip_input='both'),
            content=dict(lip_input='none', content=True), all=dict(lip_input='both', ctc=True, content=True),
            gt=dict(lip_input='words', gt=True), lip_ctc=dict(lip_input='both', ctc=True),
            lip_content=dict(lip_input='both', content=True), shipped=dict(),
            lip_g10=dict(lip_input='both', gain=10.), gt_g10=dict(lip_input='words', gt=True, gain=10.))

def build(run:str, ctc:float, content:float):
    "The shipped `nar` and recogniser joined into a `TextNAR` with `run`'s additions."
    from lipsound2.asr.avsr import load_avsr
    from lipsound2.core import resolve_weights
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.v2s.text_nar import text_nar_from
    r = RUNS[run]
    return text_nar_from(load_checkpoint('nar_grid_s1.pt'), load_avsr(resolve_weights('avsr_grid_s1.pt')), lip_input=r['lip_input'],
                         ctc_weight=ctc if r.get('ctc') else 0., content_weight=content if r.get('content') else 0.,
                         lip_gain=r.get('gain', 1.))

class CPUCurve(Callback):
    "fastai callback: CPU minutes, train and validation loss after every epoch, into `rows`."
    order = 60
    def before_fit(self): self.t0, self.rows = time.process_time(), []
    def after_epoch(self):
        v = self.recorder.values[-1] if self.recorder.values else [math.nan, math.nan]
        self.rows.append(dict(epoch=self.epoch, cpu_min=(time.process_time() - self.t0) / 60, train_loss=v[0], valid_loss=v[1]))

def epochs_for(learn, minutes:float, n:int=6) -> int:
    "Epochs that fit `minutes` of CPU time: `n` training batches timed (forward, backward; no step), times the batches of an epoch, plus 10% for validation."
    learn.model.train()
    batches, t = [b for _, b in zip(range(n + 1), learn.dls.train)], 0.
    for k in range(n + 1):
        xb = batches[k % len(batches)]; t0 = time.process_time()
        with torch.autocast('cpu', torch.bfloat16, enabled=learn.bf16):
            pred = learn.model(*xb[:learn.dls.n_inp])
        learn.loss_func(pred, *xb[learn.dls.n_inp:]).backward()
        learn.model.zero_grad(set_to_none=True)
        if k: t += time.process_time() - t0            # the first batch warms up
    per_epoch = t / n * len(learn.dls.train) * 1.1
    return max(1, int(60 * minutes / per_epoch))

def fit(model, cache, split, out:Path, minutes:float, lr:float, align_dir=None, precision:str='off'):
    "Fine-tune `model` for about `minutes` CPU minutes; returns (model with the best validation weights, curve rows, CPU minutes, epochs)."
    from lipsound2.config import TrainConfig
    from lipsound2.v2s.training import v2s_learner
    from lipsound2.v2s.text_nar import get_text_dls, TextNARLoss
    from lipsound2.v2s.model import load_weights
    dls = get_text_dls(cache, model, split, bs=16, preload=True, align_dir=align_dir, num_workers=0)
    tcfg = TrainConfig.preset('nar_cpu', lr=lr, mixed_precision=precision, max_minutes=minutes)
    curve = CPUCurve()
    learn = v2s_learner(dls, model=model, tcfg=tcfg, out_dir=out, cbs=[curve])
    learn.loss_func, learn.bf16 = TextNARLoss(), precision == 'bf16'
    epochs = epochs_for(learn, minutes)
    t0 = time.process_time()
    with learn.no_bar(): learn.fit_flat_cos(epochs, lr, wd=tcfg.wd)
    mins = (time.process_time() - t0) / 60
    load_weights(model, out/'best.pt')
    return model.eval(), curve.rows, mins, epochs

def recognise_audio(avsr, wav, sr:int) -> str:
    "The GRID sentence the recogniser's audio path hears in a waveform `(samples,)` at `sr` Hz."
    import torchaudio
    from lipsound2.media.audio import mel_spectrogram
    from lipsound2.asr.ctc import grammar_decode
    c, w = avsr.cfg, torch.as_tensor(wav).float()
    if sr != c.mel.sample_rate: w = torchaudio.functional.resample(w, sr, c.mel.sample_rate)
    mel = torch.as_tensor(mel_spectrogram(w, c.mel))
    n = max(1, round(mel.shape[-1] * c.fps / c.mel.frames_per_second))
    with torch.no_grad(): lp, _ = avsr(mel[None, :, :int(c.mel_frames(n))], None, torch.tensor([n]), 'audio')
    return grammar_decode(lp[0])

def score(model, cache, vocoder:str, split:str='val', align_dir=None):
    """Per clip of `split`: STOI, ESTOI, PESQ, MCD of `model`'s speech with `vocoder`, the transcript and what the recogniser's
    audio path and Jasper hear. `align_dir`: the model reads each clip's true words from its `.align` file (the upper bound)."""
    import pandas as pd
    from lipsound2.media.audio import load_audio
    from lipsound2.asr.avsr import load_avsr
    from lipsound2.config import PrepConfig
    from lipsound2.core import resolve_weights
    from lipsound2.data.core import cached_ids, load_cached
    from lipsound2.inference import LipSound2Pipeline
    from lipsound2.asr.jasper_training import load_jasper, transcribe
    from lipsound2.vocoders.base import get_vocoder
    from lipsound2.metrics import evaluate_utterance
    prep = PrepConfig.from_dict(json.loads((Path(cache)/'config.json').read_text()))
    pipe = LipSound2Pipeline(model, get_vocoder(vocoder), prep=prep)
    avsr, jasper = load_avsr(resolve_weights('avsr_grid_s1.pt')), load_jasper(resolve_weights('jasper_small.pt'))
    items = [it for u in cached_ids(cache) if (it := load_cached(cache, u))['meta'].get('split') == split]
    rows, sr = [], pipe.vocoder.sample_rate
    step = 1 if align_dir else 8
    for k in range(0, len(items), step):
        chunk = items[k:k + step]
        if align_dir:
            from lipsound2.v2s.text_nar import N_LIP, N_POSTERIORS, align_spans, span_features
            f = span_features(align_spans(Path(align_dir)/f"{chunk[0]['meta']['utt_id']}.align"), len(chunk[0]['crops']))
            model.lip_features = lambda video, lens, f=f: torch.cat([torch.zeros(1, len(f), N_POSTERIORS), f[None]], -1)
        for it, sp in zip(chunk, pipe.speak([it['crops'] for it in chunk])):
            m = it['meta']
            ref = load_audio(m['audio'], sr)
            rows.append(dict(utt_id=m['utt_id'], vocoder=vocoder, **evaluate_utterance(ref, sp.wav, sr), text=m['transcript'],
                             avsr_audio=recognise_audio(avsr, sp.wav, sr), jasper=transcribe(sp.wav, jasper, sr=sr, decoder='grammar')))
    return pd.DataFrame(rows)

def collect(runs:Path, results:Path):
    "Gather every finished run under `runs` into results/text_nar_val.csv (per clip), text_nar_curves.csv and text_nar_runs.csv."
    import pandas as pd
    scores = [pd.read_csv(f) for f in sorted(runs.glob('*/scores_*.csv'))]
    curves = [pd.read_csv(f) for f in sorted(runs.glob('*/curve.csv'))]
    info = [json.loads(f.read_text()) for f in sorted(runs.glob('*/run.json'))]
    pd.concat(scores).to_csv(results/'text_nar_val.csv', index=False, float_format='%.4f')
    pd.concat(curves).to_csv(results/'text_nar_curves.csv', index=False, float_format='%.4f')
    pd.DataFrame(info).to_csv(results/'text_nar_runs.csv', index=False)

if __name__ == '__main__':
    import sys
    if sys.argv[1:2] == ['collect']: collect(Path(sys.argv[2]), Path(sys.argv[3])); sys.exit()
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('run', choices=list(RUNS)); p.add_argument('cache'); p.add_argument('out')
    p.add_argument('--split', default='splits/grid_s1_speaker_dependent.csv')
    p.add_argument('--minutes', type=float, default=15.); p.add_argument('--lr', type=float, default=5e-4)
    p.add_argument('--ctc', type=float, default=0.2); p.add_argument('--content', type=float, default=0.1)
    p.add_argument('--align', help="gt: the GRID .align folder"); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--vocoder', nargs='+', default=['griffinlim'])
    p.add_argument('--name', help="the row's name in the results (default: RUN)")
    p.add_argument('--precision', default='off', help="'bf16' where the processor has it (CPU bfloat16 autocast)")
    p.add_argument('--score-only', action='store_true', help="score OUT/best.pt (or the shipped model for run 'shipped')")
    a = p.parse_args()
    name = a.name or a.run
    torch.set_num_threads(1); torch.manual_seed(a.seed)
    import pandas as pd
    from lipsound2.v2s.model import load_checkpoint
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if not a.score_only:
        model = build(a.run, a.ctc, a.content)
        model, rows, mins, epochs = fit(model, a.cache, a.split, out, a.minutes, a.lr, a.align if RUNS[a.run].get('gt') else None, a.precision)
        pd.DataFrame(rows).assign(run=name, seed=a.seed).to_csv(out/'curve.csv', index=False, float_format='%.4f')
        info = dict(run=name, seed=a.seed, cpu_min=round(mins, 1), epochs=epochs, lr=a.lr, ctc=a.ctc, content=a.content)
        (out/'run.json').write_text(json.dumps(info))
        print(info, flush=True)
    model = load_checkpoint(out/'best.pt' if (out/'best.pt').exists() else 'nar_grid_s1.pt')
    for v in a.vocoder:
        t0 = time.process_time()
        df = score(model, a.cache, v, align_dir=a.align if RUNS[a.run].get('gt') else None).assign(run=name, seed=a.seed)
        df.to_csv(out/f'scores_{v}.csv', index=False, float_format='%.4f')
        print(v, df[['stoi', 'estoi', 'pesq']].mean().round(4).to_dict(), f"scored in {(time.process_time() - t0) / 60:.1f} CPU-min", flush=True)
