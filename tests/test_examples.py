"""superopt examples: the package ships every kernel in asm/ and every C baseline in bench/, lists
them, copies them laid out as in the checkout, refuses what it should; an installed wheel has them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from superopt.cli import main
from superopt.examples import examples

ROOT = Path(__file__).resolve().parent.parent
CHECKOUT = sorted([*ROOT.glob("asm/*.s"), *ROOT.glob("bench/baselines/*"), *ROOT.glob("bench/hackers/*.c")])


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_every_checkout_example_is_shipped_once_with_its_task():
    shipped = examples()
    assert sorted(ROOT / e.file for e in shipped) == CHECKOUT
    assert len({e.name for e in shipped}) == len(shipped)   # a name picks one file
    by_name = {e.name: e for e in shipped}
    assert by_name["sort3.s"].task == "sort3" and by_name["sort4.c"].task == "sort4"
    assert by_name["sort3.s"].description.startswith("Human benchmark")
    assert by_name["p01.c"].description.startswith("turn off the rightmost 1 bit")
    code, out, _ = cli("examples")
    assert code == 0 and "asm/sort5_polished.s" in out and "bench/hackers/p25.c" in out


def test_copy_by_name_and_all(tmp_path):
    code, _, err = cli("examples", "copy", "sort3.s", "bench/baselines/sort3.c", tmp_path)
    assert code == 0 and "copied 2 examples" in err
    assert (tmp_path / "asm" / "sort3.s").read_bytes() == (ROOT / "asm" / "sort3.s").read_bytes()
    assert (tmp_path / "bench" / "baselines" / "sort3.c").exists()
    code, _, _ = cli("examples", "copy", "--all", tmp_path)   # the identical files already there are kept
    assert code == 0 and sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()) == \
        [p.relative_to(ROOT) for p in CHECKOUT]
    code, _, _ = cli("verify", tmp_path / "asm" / "sort3.s", "--random", 10)
    assert code == 0


def test_copy_refuses_a_different_file_unless_forced(tmp_path):
    (tmp_path / "asm").mkdir()
    (tmp_path / "asm" / "sort3.s").write_text("mine\n")
    code, _, err = cli("examples", "copy", "--all", tmp_path)
    assert code == 2 and "exists and differs" in err and not (tmp_path / "asm" / "sort4.s").exists()
    assert (tmp_path / "asm" / "sort3.s").read_text() == "mine\n"
    code, _, _ = cli("examples", "copy", "sort3.s", tmp_path, "--force")
    assert code == 0 and (tmp_path / "asm" / "sort3.s").read_bytes() == (ROOT / "asm" / "sort3.s").read_bytes()


@pytest.mark.parametrize("args, reason", [(("sort3.s",), "give either"), (("nosuch.s", "."), "no example named"),
                                          (("--all", "sort3.s", "."), "give either"), ((), "give NAME"),
                                          (("--all", "/no/such/dir"), "not a directory")])
def test_copy_bad_usage_is_exit_2(args, reason):
    code, out, err = cli("examples", "copy", *args)
    assert code == 2 and reason in err and "Traceback" not in err + out


@pytest.mark.slow
def test_an_installed_wheel_ships_and_copies_them(tmp_path):
    target, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(ROOT)], check=True,
                   capture_output=True)
    assert not (target / "superopt" / "examples" / "asm").is_symlink()   # copies, not links into the checkout
    assert (target / "superopt" / "cli" / "schema.json").is_file()
    env = dict(os.environ, PYTHONPATH=str(target))
    run = [sys.executable, "-c", "import superopt, sys; from superopt.cli import main; "
                                 "assert superopt.__file__.startswith(sys.argv[1]); main(sys.argv[2:])", str(target)]
    done = subprocess.run(run + ["examples", "copy", "--all", "."], cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.relative_to(work) for p in work.rglob("*") if p.is_file()) == [p.relative_to(ROOT) for p in CHECKOUT]
    done = subprocess.run(run + ["verify", "asm/sort3.s", "--random", "10"], cwd=work, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
