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
