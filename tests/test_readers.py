"`lipsound2 prepare --corpus ...` on a tiny tree of each corpus layout built from the GRID samples (transcoded to the corpus's container and frame rate)."
import json
from pathlib import Path
import pytest
from conftest import SAMPLES, ROOT
from lipsound2.cli import main
from lipsound2.corpora.core import detect_corpus
from lipsound2.data.core import cached_ids, cached_meta, load_cached
from lipsound2.corpora.readers import _transcode, _make_tree

@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp('clips')
    return dict(mp4=_transcode(SAMPLES/'bbaf2n.mpg', d/'bbaf2n.mp4'), ntsc=_transcode(SAMPLES/'bbaf2n.mpg', d/'ntsc.mp4', 30000/1001))

def trees(c):
    "{layout: (files, the record expected in the cache: utt_id, speaker, split, transcript, language)}"
    lrs3 = "Text:  BIN BLUE AT F TWO NOW\nConf:  4\n\nWORD START END ASDSCORE\nBIN 0.95 1.18 3.0\n"
    return {
        'voxceleb2': ({'dev/mp4/id00012/21Uxsk56VDQ/00001.mp4': c['mp4']}, ('id00012__21Uxsk56VDQ__00001', 'id00012', 'train', None, None)),
        'lrs3': ({'test/0Fi83BHQsMA/00002.mp4': c['mp4'], 'test/0Fi83BHQsMA/00002.txt': lrs3},
                 ('test__0Fi83BHQsMA__00002', '0Fi83BHQsMA', 'test', 'bin blue at f two now', 'en')),
        'tcd-timit': ({'volunteers/08F/Clips/straightcam/sa1.mp4': c['ntsc'], 'volunteers/08F/Clips/30degcam/sa1.mp4': c['ntsc']},
                      ('08F_sa1', '08F', 'test', None, 'en')),  # with --split splits/tcd_timit_speaker_independent.csv
        'cmlr': ({'video/s1/20170121/section_1_000.62_003.57.mp4': c['mp4'], 'text/s1/20170121/section_1_000.62_003.57.txt': '新 闻\n',
                  'val.csv': 's1/20170121/section_1_000.62_003.57\n'}, ('s1__20170121__section_1_000.62_003.57', 's1', 'val', '新闻', 'zh')),
        'grid': ({'s29/video/bbaf2n.mp4': c['mp4'], 's29/align/bbaf2n.align': "0 23750 sil\n23750 29500 bin\n29500 74500 sil\n",
                  's2/video/bbaf2n.mp4': c['mp4'], 's2/align/bbaf2n.align': "0 23750 sil\n23750 29500 bin\n29500 74500 sil\n"},
                 ('s29_bbaf2n', 's29', 'val', 'bin', 'en')),  # with --split splits/grid_unseen_speakers.csv
        'folder': ({'spkA/clip.mp4': c['mp4'], 'spkA/clip.txt': 'bin blue'}, ('spkA__clip', 'spkA', None, 'bin blue', None)),
    }

SPLITS = {'tcd-timit': 'tcd_timit_speaker_independent.csv', 'grid': 'grid_unseen_speakers.csv'}

@pytest.mark.parametrize('layout', ['voxceleb2', 'lrs3', 'tcd-timit', 'cmlr', 'grid', 'folder'])
def test_prepare_reads_layout(layout, clips, tmp_path, capsys):
    files, (uid, spk, split, text, lang) = trees(clips)[layout]
    root = _make_tree(tmp_path/'corpus', files)
    assert detect_corpus(root) == layout
    args = ['prepare', str(root), str(tmp_path/'cache'), '--corpus', layout if layout != 'cmlr' else 'auto', '--workers', '1',
            '--crop-size', '32', '--region', 'mouth', '--figure', 'none']
    if layout in SPLITS: args += ['--split', str(ROOT/'splits'/SPLITS[layout])]
    assert main(args) == 0, capsys.readouterr()
    ids = cached_ids(tmp_path/'cache')
    assert uid in ids and len(ids) == (2 if layout == 'grid' else 1), ids
    m = cached_meta(tmp_path/'cache', uid)
    assert (m['utt_id'], m['speaker'], m['split'], m['transcript'], m['language']) == (uid, spk, split, text, lang)
    assert load_cached(tmp_path/'cache', uid)['crops'].shape[0] == 75  # 3 s at 25 fps, also from TCD-TIMIT's 29.97 fps

def test_wrong_layout_and_bad_split(clips, tmp_path, capsys):
    root = _make_tree(tmp_path/'corpus', trees(clips)['lrs3'][0])
    with pytest.raises(SystemExit, match="no videos found under"):  # LRS3 read as VoxCeleb2: no dev/test mp4 folders
        main(['prepare', str(root), str(tmp_path/'cache'), '--corpus', 'voxceleb2'])
    (tmp_path/'s.csv').write_text("utt_id,split\nnobody,train\n")
    assert main(['prepare', str(root), str(tmp_path/'cache'), '--split', str(tmp_path/'s.csv')]) == 1
    assert "s.csv' names none of the 1 utterances" in capsys.readouterr().err
