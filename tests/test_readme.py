"README.md must say what nbs/index.ipynb says (quarto, which `nbdev_readme` needs, cannot run on our machines)."
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render_readme() -> str:
    "README.md text: the markdown cells of nbs/index.ipynb, joined by blank lines."
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    cells = [''.join(c['source']).strip() for c in nb['cells'] if c['cell_type'] == 'markdown']
    return '\n\n'.join(cells) + '\n'

def readme_commands(text: str) -> list[str]:
    "The shell commands of the ```sh blocks, in order."
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]

def test_readme_matches_index():
    assert (ROOT/'README.md').read_text() == render_readme(), "README.md is out of step with nbs/index.ipynb: run `make readme`"

def test_readme_has_two_setup_commands():
    cmds = readme_commands((ROOT/'README.md').read_text())
    assert len(cmds) >= 2
    install, test = cmds[0], cmds[1]
    assert install.startswith('pip install -e ".[dev]"') and 'lipsound2 ' in install
    assert test == 'make test'
    index = (ROOT/'nbs'/'index.ipynb').read_text()
    for c in (install, test): assert json.dumps(c)[1:-1] in index

if __name__ == '__main__': print(render_readme(), end='')
