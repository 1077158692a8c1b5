"The text-aware model (`04b_v2s.text_nar`) inside the pipeline and the command: it reads lips from the video alone."
import numpy as np
import pytest
import torch
from conftest import SAMPLES, run_cli

av = pytest.importorskip('av')

def remux(src, dst, audio=None, rate:int=44100):
    "Copy the video stream of `src` into `dst` (.mkv) untouched, with `audio` (float samples, mono) as its only audio track, or none."
    with av.open(str(src)) as inp, av.open(str(dst), 'w') as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        if audio is not None:
            aout = out.add_stream('pcm_s16le', rate=rate, layout='mono')
            frame = av.AudioFrame.from_ndarray((np.clip(audio, -1, 1) * 32767).astype(np.int16)[None], format='s16', layout='mono')
            frame.sample_rate = rate
            for p in [*aout.encode(frame), *aout.encode(None)]: out.mux(p)
        for p in inp.demux(vin):
            if p.dts is None: continue
            p.stream = vout
            out.mux(p)

@pytest.fixture(scope='module')
def text_model():
    from lipsound2.asr.avsr import load_avsr
    from lipsound2.core import resolve_weights
    from lipsound2.v2s.model import load_checkpoint
    from lipsound2.v2s.text_nar import text_nar_from
    return text_nar_from(load_checkpoint('nar_grid_s1.pt'), load_avsr(resolve_weights('avsr_grid_s1.pt')))

def test_lip_reader_never_hears_audio(text_model, tmp_path):
    "A loud audio track and no audio track give identical speech: the recogniser inside reads the video only."
    from lipsound2.inference import LipSound2Pipeline
    from lipsound2.vocoders.base import get_vocoder
    torch.manual_seed(0)
    loud, silent = tmp_path/'loud.mkv', tmp_path/'silent.mkv'
    remux(SAMPLES/'bbaf2n.mpg', loud, np.random.default_rng(0).uniform(-1, 1, 3 * 44100))
    remux(SAMPLES/'bbaf2n.mpg', silent)
    heard = []
    orig = text_model.lip_reader.forward
    def spy(mel, video, lens, modality=None):
        heard.append(mel); return orig(mel, video, lens, modality)
    text_model.lip_reader.forward = spy
    try:
        pipe = LipSound2Pipeline(text_model, get_vocoder('griffinlim'))
        a, b = pipe(str(loud)), pipe(str(silent))
    finally: del text_model.lip_reader.forward
    assert heard and all(m is None for m in heard)
    np.testing.assert_array_equal(a.mel.numpy(), b.mel.numpy())
    np.testing.assert_array_equal(np.asarray(a.wav), np.asarray(b.wav))

def test_speak_batch_with_a_faceless_clip(text_model, tmp_path):
    "`speak --checkpoint` of a text-aware model on a folder with a clip without a face: one line names it, the good clip is spoken, exit non-zero."
    from lipsound2.v2s.model import save_model
    ck = save_model(text_model, tmp_path/'nar_text.pt', 'float16')
    clips = tmp_path/'clips'; clips.mkdir()
    remux(SAMPLES/'bbaf2n.mpg', clips/'good.mkv')
    with av.open(str(clips/'blank.mp4'), 'w') as out:                      # 25 grey frames, no face
        s = out.add_stream('mpeg4', rate=25); s.width = s.height = 64; s.pix_fmt = 'yuv420p'
        for _ in range(25):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((64, 64, 3), 128, np.uint8), format='rgb24')): out.mux(p)
        for p in s.encode(None): out.mux(p)
    r = run_cli('speak', clips, '-o', tmp_path/'out', '--checkpoint', ck, '--vocoder', 'griffinlim')
    assert r.returncode != 0, r.stdout + r.stderr
    assert (tmp_path/'out'/'good.wav').exists() and not (tmp_path/'out'/'blank.wav').exists()
    err = [l for l in r.stderr.splitlines() if 'blank.mp4' in l]
    assert err and 'Traceback' not in r.stderr, r.stderr
