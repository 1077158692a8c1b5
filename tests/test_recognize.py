"`lipsound2 recognize` and the audio-visual model (`lipsound2.asr.avsr`) on real GRID clips from `samples/`."
import pytest, torch
from conftest import run_cli, SAMPLES
from lipsound2.core import weights_dir
from lipsound2.corpora.core import is_grid_sentence
from lipsound2.metrics import wer_cer
from lipsound2.asr.avsr import AVSR, AVSRConfig, save_avsr, modality_keep, DEFAULT_AVSR

needs_avsr = pytest.mark.skipif(not (weights_dir()/DEFAULT_AVSR).exists(), reason=f"no shipped {DEFAULT_AVSR}")

@pytest.fixture(scope='module')
def tiny_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    return save_avsr(AVSR(AVSRConfig.tiny()), tmp_path_factory.mktemp('avsr')/'tiny.pt', 'float32')

def test_masking_and_dropout():
    torch.manual_seed(0)
    m = AVSR(AVSRConfig.tiny()).eval()
    mel, video, lens = torch.randn(2, 80, 258), torch.rand(2, 1, 75, 48, 48), torch.tensor([75, 60])
    with torch.no_grad():
        a = m(mel, video, lens, 'audio')[0]
        assert torch.allclose(a, m(mel, torch.rand_like(video), lens, 'audio')[0], atol=1e-6)   # the masked video changes nothing
        v = m(mel, video, lens, 'video')[0]
        assert torch.allclose(v, m(torch.randn_like(mel), video, lens, 'video')[0], atol=1e-6)
    assert modality_keep(20000, 0.5, 0.5).any(1).all()                                          # never both dropped
    m.train(); assert m.keep_mask(5000).any(1).all()

@needs_avsr
@pytest.mark.parametrize('modality', ['audio', 'video', 'av'])
def test_recognize_each_modality(modality):
    r = run_cli('recognize', SAMPLES/'bbaf2n.mpg', '--modality', modality, '--decoder', 'grammar', check=True)
    path, text = r.stdout.strip().split('\t')
    assert path.endswith('bbaf2n.mpg') and is_grid_sentence(text), r.stdout

@needs_avsr
def test_recognize_audio_folder():
    r = run_cli('recognize', SAMPLES, '--modality', 'audio', '--decoder', 'grammar', check=True)
    hyps = dict(l.split('\t') for l in r.stdout.strip().splitlines())
    refs = {str(SAMPLES/f'{u}.mpg'): (SAMPLES/f'{u}.txt').read_text().strip() for u in ('bbaf2n', 'bgbb3a', 'brbm6n')}
    assert sorted(hyps) == sorted(refs)
    wer, _ = wer_cer([refs[k] for k in sorted(refs)], [hyps[k] for k in sorted(refs)])
    assert wer < 0.35, (wer, hyps)   # test-split recordings of s1: speech recognition must mostly read them

def test_silent_video_needs_video_modality(tmp_path, tiny_ckpt):
    from lipsound2.media.video import read_video, write_video
    silent = tmp_path/'silent.mp4'; write_video(silent, read_video(SAMPLES/'bbaf2n.mpg'))
    from lipsound2.asr.avsr import load_avsr, recognize, RecognitionError
    with pytest.raises(RecognitionError, match='silent.mp4.*no audio track'): recognize(silent, load_avsr(tiny_ckpt), 'audio')
    r = run_cli('recognize', silent, '--modality', 'av', '--checkpoint', tiny_ckpt)
    lines = r.stderr.strip().splitlines()
    assert r.returncode != 0 and r.stdout == '' and 'silent.mp4' in lines[0] and 'no audio track' in lines[0] and 'Traceback' not in r.stderr, r.stderr
    r = run_cli('recognize', silent, '--modality', 'video', '--checkpoint', tiny_ckpt, '--decoder', 'grammar', check=True)
    assert is_grid_sentence(r.stdout.strip().split('\t')[1])

def test_audio_file_needs_audio_modality(tmp_path, tiny_ckpt):
    import soundfile as sf
    from lipsound2.media.audio import load_audio
    wav = tmp_path/'clip.wav'; sf.write(wav, load_audio(SAMPLES/'bbaf2n.mpg', 22050).numpy(), 22050)
    r = run_cli('recognize', wav, '--modality', 'av', '--checkpoint', tiny_ckpt)
    assert r.returncode != 0 and 'clip.wav' in r.stderr and 'no video' in r.stderr, r.stderr
    r = run_cli('recognize', wav, '--modality', 'audio', '--checkpoint', tiny_ckpt, check=True)
    assert r.stdout.startswith(str(wav) + '\t')

def test_recognize_bad_checkpoint(tmp_path):
    bad = tmp_path/'bad.pt'; bad.write_text('nope')
    r = run_cli('recognize', SAMPLES/'bbaf2n.mpg', '--checkpoint', bad)
    assert r.returncode != 0 and 'bad.pt' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
