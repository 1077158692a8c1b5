#!/usr/bin/env python3
"""The lip-reading cascade's recogniser for one video-to-speech model (LipSound2 paper, lip reading by generated speech).

Speech for GRID s1's training and validation clips is generated from the cached face crops by the model and the vocoder
(Griffin-Lim by default), resampled to 16 kHz; the shipped Jasper (trained on recordings) is scored on it, fine-tuned on
the generated training speech and scored again, on the generated and on the recorded validation speech. Rows are
appended to --results (audio, recogniser, decoder, wer, cer, model); the fine-tuned recogniser is written to --out.
Usage: python experiments/finetune_lip_reader.py --model nar --cache CACHE --out lipsound2/weights/jasper_small_nar.pt
CACHE: `lipsound2 prepare $LIPSOUND2_DATA/grid CACHE --region mouth --crop-size 48` (the shipped models' crops).
"""
import argparse, time
from pathlib import Path
import pandas as pd, torch, torchaudio

ROOT = Path(__file__).resolve().parents[1]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='lipsound2', help="a shipped model name or a checkpoint path")
    ap.add_argument('--cache', required=True); ap.add_argument('--out', required=True)
    ap.add_argument('--vocoder', default='griffinlim'); ap.add_argument('--epochs', type=int, default=15)
    ap.add_argument('--split', default=str(ROOT/'splits'/'grid_s1_speaker_dependent.csv'))
    ap.add_argument('--results', default=str(ROOT/'results'/'val_wer.csv'))
    a = ap.parse_args()
    torch.set_num_threads(1)
    from lipsound2.core import atomic_path, resolve_weights
    from lipsound2.data.core import load_cached, load_split
    from lipsound2.inference import LipSound2Pipeline, crops_to_speech, DEFAULT_RECOGNISER, SHIPPED_MODELS
    from lipsound2.asr.jasper_training import load_jasper, save_jasper, evaluate, train_jasper, grid_items
    t0 = time.process_time()
    pipe = LipSound2Pipeline.from_pretrained(SHIPPED_MODELS.get(a.model, a.model), vocoder=a.vocoder)
    split = load_split(a.split)
    def generate(part, bs=16):
        "(16 kHz waveform, transcript) of the model's speech for the cached utterances of split `part`."
        ids, out = sorted(u for u, s in split.items() if s == part), []
        for i in range(0, len(ids), bs):
            its = [load_cached(a.cache, u) for u in ids[i:i+bs]]
            speech = crops_to_speech([it['crops'] for it in its], pipe.model, pipe.vocoder)
            out += [(torchaudio.functional.resample(s.wav, s.sample_rate, 16000).numpy(), it['meta']['transcript'])
                    for s, it in zip(speech, its)]
        return out
    gen_val, gen_tr = generate('val'), generate('train')
    print(f"speech generated: {len(gen_tr)} training, {len(gen_val)} validation clips", flush=True)
    rows, base = [], load_jasper(resolve_weights(DEFAULT_RECOGNISER))
    def score(audio, name, asr, items):
        for d, r in evaluate(asr, items, decoders=('greedy', 'grammar')).items():
            rows.append(dict(audio=audio, recogniser=name, decoder=d, wer=r['wer'], cer=r['cer'], model=a.model))
            print(audio, name, d, f"WER {100*r['wer']:.1f}%", flush=True)
    score('generated', 'jasper_small (ground-truth training)', base, gen_val)
    ft = train_jasper(gen_tr, gen_val, init_from=resolve_weights(DEFAULT_RECOGNISER), epochs=a.epochs, lr=2e-3, bs=16, sr=16000,
                      crop_margin=None, quiet=True).model
    score('generated', 'jasper_small fine-tuned on generated speech', ft, gen_val)
    score('recorded', 'jasper_small fine-tuned on generated speech', ft, grid_items('val', spans=False))
    val = {f"{r['audio']}/{r['decoder']}": dict(wer=r['wer'], cer=r['cer']) for r in rows if 'fine-tuned' in r['recogniser']}
    save_jasper(ft, a.out, val=val, recipe=f"init {DEFAULT_RECOGNISER}; fine-tuned {a.epochs} epochs on {a.model} + {a.vocoder} "
                f"speech of GRID s1 train ({len(gen_tr)}), one-cycle lr 2e-3 bs 16")
    res = Path(a.results)
    old = pd.read_csv(res) if res.exists() else pd.DataFrame()
    if len(old) and 'model' not in old: old['model'] = 'lipsound2'
    new = pd.concat([old[old.model != a.model] if len(old) else old, pd.DataFrame(rows)])
    with atomic_path(res) as tmp: new.to_csv(tmp, index=False, float_format='%.4f')
    print(f"{a.out} written; {(time.process_time() - t0)/60:.1f} CPU-min")

if __name__ == '__main__': main()
