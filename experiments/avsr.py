"""The audio-visual recognition experiment (`lipsound2.asr.avsr`, `lipsound2.asr.avsr_training`) end to end on GRID s1:
cluster targets, self-supervised pre-training, CTC fine-tuning from the pre-trained model and from scratch (the
ablation), evaluation on the validation split in white and babble noise, and the shipped checkpoint.

    python experiments/avsr.py CACHE --out runs/avsr [--pretrain-min 15 --finetune-min 9] [--stages pretrain,finetune,evaluate,test,ship]

CACHE is a `lipsound2 prepare --region mouth --crop-size 48` cache of GRID s1. Each stage resumes (a finished run is
kept); budgets are CPU minutes of this process (one thread), or epochs. Writes results/avsr_val.csv and
results/avsr_runs.csv (and results/avsr_test.csv, lipsound2/weights/avsr_grid_s1.pt). The shipped model: pre-training and
audio-visual fine-tuning (with the from-scratch ablation) laid out for 40 epochs each and stopped by the default CPU
budgets (15 and 9 minutes: 37 and 23 epochs), then 20 epochs on audio alone at half the learning rate (`audio_ft`),
which improved all three uses on validation:

    python experiments/avsr.py CACHE --out runs/avsr --pretrain-epochs 40 --finetune-epochs 40 --stages pretrain,finetune
    python experiments/avsr.py CACHE --out runs/avsr --finetune-epochs 20 --finetune-lr 1e-3 --models audio_ft --stages finetune
    python experiments/avsr.py CACHE --out runs/avsr --models pretrained,scratch,audio,audio_ft --stages evaluate
    python experiments/avsr.py CACHE --out runs/avsr --ship audio_ft --stages test,ship
"""
import argparse, json, os, shutil, time
from pathlib import Path
import numpy as np
import torch

from lipsound2.config import PrepConfig
from lipsound2.core import read_checkpoint, atomic_path
from lipsound2.data.core import load_split, cached_meta
from lipsound2.media.audio import load_audio
from lipsound2.asr.avsr import AVSR, AVSRConfig, load_avsr, save_avsr
from lipsound2.asr.avsr_training import load_clips, mfcc_frames, ClusterTargets, MaskedPredictor, av_dls, avsr_learner, fit_avsr, evaluate_avsr, babble

ROOT = Path(__file__).resolve().parents[1]


def cpu_epochs(learn, minutes, n_batches, floor=2):
    "Epochs that fit in `minutes` of CPU time, from the CPU time of 3 training steps (plus a tenth for validation)."
    model = learn.model.train(); dl = learn.dls.train
    n_batches = max(1, n_batches)
    opt = torch.optim.Adam(model.parameters(), 1e-9)
    t0 = None
    for i in range(4):
        if i == 1: t0 = time.process_time()
        b = dl.one_batch()
        loss = learn.loss_func(model(*b[:3]), *b[3:]); loss.backward(); opt.step(); opt.zero_grad()
    per_batch = (time.process_time() - t0) / 3
    epochs = max(floor, int(minutes * 60 / (per_batch * n_batches * 1.1)))
    print(f"  {per_batch:.2f} CPU s per batch -> {epochs} epochs in {minutes} CPU min")
    return epochs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('cache'); p.add_argument('--out', default='runs/avsr')
    p.add_argument('--split', default=str(ROOT/'splits/grid_s1_speaker_dependent.csv'))
    p.add_argument('--config', default='small'); p.add_argument('--img-size', type=int, default=32)
    p.add_argument('--pretrain-min', type=float, default=15.); p.add_argument('--finetune-min', type=float, default=9.)
    p.add_argument('--pretrain-lr', type=float, default=2e-3); p.add_argument('--finetune-lr', type=float, default=2e-3)
    p.add_argument('--ft-modality-dropout', type=float, default=2/3, help="fine-tuning: av, audio, video a third each")
    p.add_argument('--noise', type=float, default=0.5, help="fraction of fine-tuning clips with mel-domain noise")
    p.add_argument('--pretrain-epochs', type=int, default=0, help="epochs of pre-training (0: as many as fit in --pretrain-min)")
    p.add_argument('--finetune-epochs', type=int, default=0, help="epochs of each fine-tuning (0: as many as fit in --finetune-min)")
    p.add_argument('--bs', type=int, default=16)
    p.add_argument('--stages', default='pretrain,finetune,evaluate,ship')
    p.add_argument('--models', default='pretrained,scratch', help="fine-tuning runs: 'pretrained' and 'scratch' (audio-visual), 'audio' (the pre-trained model on audio alone), 'audio_ft' ('pretrained' further on audio alone)")
    p.add_argument('--ship', default='pretrained', help="the fine-tuning run that stages test and ship take (pretrained, audio_ft, ...)")
    p.add_argument('--limit', type=int, default=0, help="only N clips per split (smoke runs)")
    a = p.parse_args()
    torch.set_num_threads(1); torch.manual_seed(0); np.random.seed(0)
    out, stages = Path(a.out), a.stages.split(',')
    out.mkdir(parents=True, exist_ok=True)
    cfg = AVSRConfig.preset(a.config, img_size=a.img_size)
    split = load_split(a.split)
    ids = lambda *names: sorted(u for u, s in split.items() if s in names)[:a.limit or None]
    prep = PrepConfig.from_dict(json.loads((Path(a.cache)/'config.json').read_text()))
    runs = []

    # --- self-supervised pre-training on train + extra (no transcripts used), never val/test
    if 'pretrain' in stages:
        t0 = time.process_time()
        pre_clips = load_clips(a.cache, ids('train', 'extra'), cfg)
        km = ClusterTargets(cfg.n_clusters).fit([mfcc_frames(c['mel'], len(c['video'])) for c in pre_clips])
        for c in pre_clips: c['clusters'] = km(mfcc_frames(c['mel'], len(c['video'])))
        print(f"pre-training clips: {len(pre_clips)}; k-means targets in {time.process_time() - t0:.0f} CPU s")
        mon = pre_clips[::20]                                      # monitoring only: a twentieth of the pre-training clips
        model = MaskedPredictor(AVSR(cfg)); model.avsr.prep = prep
        learn = avsr_learner(av_dls(pre_clips, mon, a.bs, 'clusters'), model, 'clusters', out/'pretrain',
                             minutes=a.pretrain_min, extra=dict(stage='pretrain', clusters=cfg.n_clusters))
        ep_file = out/'pretrain'/'epochs.json'
        if not ep_file.exists():
            ep_file.parent.mkdir(parents=True, exist_ok=True)
            ep_file.write_text(json.dumps(a.pretrain_epochs or cpu_epochs(learn, a.pretrain_min, len(pre_clips)//a.bs)))
        fit_avsr(learn, json.loads(ep_file.read_text()), a.pretrain_lr, out/'pretrain', resume=True)
        del pre_clips

    # --- CTC fine-tuning on the training transcripts: from the pre-trained model and from scratch (the ablation)
    if 'finetune' in stages or 'evaluate' in stages:
        tr, va = load_clips(a.cache, ids('train'), cfg), load_clips(a.cache, ids('val'), cfg)
    if 'finetune' in stages:
        for name in a.models.split(','):
            torch.manual_seed(0)
            # 'audio': the speech recogniser of the same pre-trained model, fine-tuned on audio alone (AV-HuBERT fine-tunes per
            # modality); 'audio_ft': the audio-visual fine-tuned model, fine-tuned further on audio alone
            init = dict(scratch=None, audio_ft=out/'ft_pretrained'/'best.pt').get(name, out/'pretrain'/'last.pt')
            model = AVSR(cfg) if init is None else load_avsr(init)
            audio = name.startswith('audio')
            drop = dict(modality_dropout=1.0, audio_dropout=0.0) if audio else dict(modality_dropout=a.ft_modality_dropout)
            model.cfg = model.cfg.replace(**drop); model.prep = prep
            if audio: model.modality = 'audio'                 # validation (and best.pt) on audio alone
            learn = avsr_learner(av_dls(tr, va, a.bs), model, 'ctc', out/f'ft_{name}', minutes=a.finetune_min, noise=a.noise,
                                 extra=dict(stage=f'finetune_{name}'))
            ep_file = out/f'ft_{name}'/'epochs.json'
            if not ep_file.exists():
                ep_file.parent.mkdir(parents=True, exist_ok=True)
                ep_file.write_text(json.dumps(a.finetune_epochs or cpu_epochs(learn, a.finetune_min, len(tr)//a.bs)))
            print(f"fine-tuning ({name})")
            fit_avsr(learn, json.loads(ep_file.read_text()), a.finetune_lr, out/f'ft_{name}', resume=True)

    # --- evaluation on the validation split: clean, white and babble noise at 10, 5, 0, -5 dB
    if 'evaluate' in stages:
        sr = cfg.mel.sample_rate
        for c in va: c['wav'] = load_audio(cached_meta(a.cache, c['utt_id'])['audio'], sr)
        g = torch.Generator().manual_seed(0)
        bab_ids = [ids('train')[int(i)] for i in torch.randperm(len(ids('train')), generator=g)[:90]]
        bab_wavs = [load_audio(cached_meta(a.cache, u)['audio'], sr) for u in bab_ids]
        noises = dict(white=torch.randn(sr * 30, generator=g), babble=torch.cat([babble(bab_wavs, 30, s) for s in range(3)]))
        conds = [('clean', None)] + [(n, s) for n in ('white', 'babble') for s in (10, 5, 0, -5)]
        import pandas as pd
        for name in a.models.split(','):
            ck = out/f'ft_{name}'/'best.pt'
            if not ck.exists(): print(f"no {ck}: not evaluated"); continue
            t0 = time.process_time()
            rows = [dict(model=name, **r) for r in evaluate_avsr(load_avsr(ck), va, conds, noises, prep=prep)]
            with atomic_path(out/f'eval_{name}.csv') as tmp: pd.DataFrame(rows).to_csv(tmp, index=False)
            print(f"evaluated {name} in {time.process_time() - t0:.0f} CPU s")
        df = pd.concat([pd.read_csv(out/f'eval_{n}.csv') for n in ('pretrained', 'scratch', 'audio', 'audio_ft') if (out/f'eval_{n}.csv').exists()])
        with atomic_path(ROOT/'results'/'avsr_val.csv') as tmp: df.to_csv(tmp, index=False, float_format='%.4f')
        df['condition'] = [n if n == 'clean' else f'{n} {s:g} dB' for n, s in zip(df.noise, df.snr_db)]
        print(df[df.decoder == 'grammar'].pivot_table(index=['model', 'modality'], columns='condition', values='wer', sort=False).round(3).to_string())
        df = df.drop(columns='condition')
        for stage in ('pretrain', 'ft_pretrained', 'ft_scratch', 'ft_audio', 'ft_audio_ft'):
            h = out/stage/'history.json'
            if h.exists():
                hist = json.loads(h.read_text())
                runs.append(dict(stage=stage, epochs=len(hist), cpu_minutes=round(sum(r['cpu_seconds'] for r in hist)/60, 1),
                                 wall_minutes=round(sum(r['seconds'] for r in hist)/60, 1),
                                 final_train_loss=hist[-1].get('train_loss'), final_valid_loss=hist[-1].get('valid_loss'),
                                 final_valid_wer=hist[-1].get('wer')))
        with atomic_path(ROOT/'results'/'avsr_runs.csv') as tmp: pd.DataFrame(runs).to_csv(tmp, index=False, float_format='%.4f')

    # --- the test split, read once for the shipped model (--ship): clean input
    if 'test' in stages:
        import pandas as pd
        te = load_clips(a.cache, ids('test'), cfg)
        rows = [dict(model=a.ship, split='test', **r) for r in evaluate_avsr(load_avsr(out/f'ft_{a.ship}'/'best.pt'), te, prep=prep)]
        with atomic_path(ROOT/'results'/'avsr_test.csv') as tmp: pd.DataFrame(rows).to_csv(tmp, index=False, float_format='%.4f')
        print(pd.DataFrame(rows).to_string())

    # --- ship one fine-tuning run (fp16) as the shipped model
    if 'ship' in stages:
        src = out/f'ft_{a.ship}'/'best.pt'
        m, ck = load_avsr(src), read_checkpoint(src)
        m.modality = 'av'                                               # eval-mode default of the shipped model
        dst = ROOT/'lipsound2'/'weights'/'avsr_grid_s1.pt'
        save_avsr(m, dst, 'float16', epoch=ck.get('epoch'), losses=ck.get('losses'), trained_on='GRID s1 train (+ extra for pre-training)')
        print(f"shipped {src} as {dst} ({dst.stat().st_size/1e6:.1f} MB)")

if __name__ == '__main__': main()
