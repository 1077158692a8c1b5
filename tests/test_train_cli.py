"`lipsound2 train` on a real (tiny) cache: a run, its resume, and fine-tuning from it."
import torch
from conftest import run_cli, SAMPLES

def test_train_resume_finetune(tmp_path):
    cache, run = tmp_path/'cache', tmp_path/'run'
    run_cli('prepare', SAMPLES, cache, '--workers', '1', '--figure', 'none', check=True)
    split = tmp_path/'split.csv'; split.write_text('utt_id,split\nbbaf2n,train\nbgbb3a,train\nbrbm6n,val\n')
    common = ['--split', split, '--config', 'tiny', '--bs', '2', '--threads', '1']
    run_cli('train', cache, '--out', run, '--epochs', '1', *common, check=True)
    ck = torch.load(run/'last.pt', weights_only=True)
    assert ck['epoch'] == 0 and ck['train_args']['guided_attention'] == 1.0 and ck['prep']['crop_size'] == 96
    run_cli('train', cache, '--out', run, '--epochs', '2', '--resume', *common, check=True)
    assert torch.load(run/'last.pt', weights_only=True)['epoch'] == 1
    r = run_cli('train', cache, '--out', run, '--epochs', '2', '--resume', *common)
    assert r.returncode != 0 and 'already finished 2 epochs' in r.stderr, r.stderr
    run_cli('train', cache, '--out', tmp_path/'ft', '--epochs', '1', '--init-from', run/'best.pt', '--freeze-encoder', *common, check=True)
    ft = torch.load(tmp_path/'ft'/'last.pt', weights_only=True)
    assert ft['train_args']['freeze_encoder'] and ft['config'] == ck['config']

def test_pack_unpack_then_train_with_overrides(tmp_path):
    "A cache travels as one file (`pack`, `unpack`) and trains a preset with `--set` overrides."
    cache = tmp_path/'cache'
    run_cli('prepare', SAMPLES, cache, '--workers', '1', '--figure', 'none', check=True)
    split = tmp_path/'split.csv'; split.write_text('utt_id,split\nbbaf2n,train\nbgbb3a,train\nbrbm6n,val\nxxxx,test\n')
    r = run_cli('pack', cache, tmp_path/'c.pack', '--split', split)
    assert r.returncode != 0 and 'are not in' in r.stderr, r.stderr      # 'xxxx' was never prepared
    run_cli('pack', cache, tmp_path/'c.pack', '--split', split, '--only', 'train,val', '--gray', check=True)
    run_cli('unpack', tmp_path/'c.pack', tmp_path/'moved', check=True)
    assert sorted(p.stem for p in (tmp_path/'moved').glob('*.npz')) == ['bbaf2n', 'bgbb3a', 'brbm6n']
    r = run_cli('unpack', split, tmp_path/'x')
    assert r.returncode != 0 and 'not a lipsound2 cache pack' in r.stderr, r.stderr
    run_cli('train', tmp_path/'moved', '--out', tmp_path/'run', '--epochs', '1', '--split', split, '--config', 'tiny',
            '--set', 'decoder_dim=48', '--bs', '2', '--threads', '1', '--num-workers', '0', check=True)
    ck = torch.load(tmp_path/'run'/'best.pt', weights_only=True)
    assert ck['config']['decoder_dim'] == 48 and ck['monitor'] == 'mse_free'
    r = run_cli('train', tmp_path/'moved', '--out', tmp_path/'run2', '--set', 'decoder=48', '--config', 'tiny')
    assert r.returncode != 0 and 'expected FIELD=VALUE' in r.stderr, r.stderr
