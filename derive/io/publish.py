"""Files bpcheck writes: published whole or not at all, never through a link, never over
a file without --force, and PDFs compiled by TeX that can neither run a command nor read
or write outside its own private folder.

A file is written to a temporary file in the target's folder and then published in one
step: with `force`, renamed over the target (a rename replaces a directory entry, so it
never writes through a link); without, hard-linked to the target's name, which fails when
the name exists, so two writers racing for one name cannot both succeed. Every error is a
UsageError of one line naming the file.

>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> publish(os.path.join(d, "a.tex"), "x").name
'a.tex'
>>> publish(os.path.join(d, "a.tex"), "y")
Traceback (most recent call last):
derive.errors.UsageError: ...a.tex' exists; use --force to replace it
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import BpcheckError, UsageError

TEX_TIMEOUT = 120.0
# kpathsea's paranoid settings: no reading or writing of dot files, parent folders or
# absolute paths, and no shell escape, whatever texmf.cnf says
TEX_ENV = {"openin_any": "p", "openout_any": "p", "shell_escape": "f"}
_ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TEXMFHOME", "TEXMFVAR", "TEXMFCONFIG")


class TexMissing(BpcheckError):
    """No LaTeX compiler on the machine."""


def _why(e: OSError) -> str:
    return e.strerror or type(e).__name__


def check_target(path: str | os.PathLike, *, force: bool) -> Path:
    """The path, if bpcheck may write there: not a link, not a folder, not an existing file
    unless `force`, in a folder that exists. Nothing is written."""
    target = Path(path)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise UsageError(f"cannot write {str(target)!r}: {_why(e)}") from None
    if st is not None:
        import stat
        if stat.S_ISLNK(st.st_mode):
            raise UsageError(f"{str(target)!r} is a symbolic link; bpcheck does not write "
                             "through links: give the file's own path")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{str(target)!r} is not a regular file")
        if not force:
            raise UsageError(f"{str(target)!r} exists; use --force to replace it")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist")
    return target


def publish(path: str | os.PathLike, data: str | bytes, *, force: bool = False) -> Path:
    """Write `data` to `path` whole or not at all (see the module docstring)."""
    target = check_target(path, force=force)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        if force:
            check_target(target, force=True)  # still not a link or a folder
            os.replace(tmp, target)
        else:
            _link(tmp, target)
    except FileExistsError:
        raise UsageError(f"{str(target)!r} exists; use --force to replace it") from None
    except OSError as e:
        raise UsageError(f"cannot write {str(target)!r}: {_why(e)}") from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    return target


def _link(tmp: str, target: Path) -> None:
    """Publish under a name that must not exist yet, atomically; where the file system has
    no hard links, an exclusive create of the name reserves it before the rename."""
    try:
        os.link(tmp, target, follow_symlinks=False)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                           errno.EXDEV):
            raise
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        os.replace(tmp, target)


def compile_pdf(tex: str, *, timeout: float = TEX_TIMEOUT) -> bytes:
    """The PDF of a LaTeX document, compiled by pdflatex in a private temporary folder on
    a fixed file name, with no shell, shell escape off and TeX's file access paranoid.

    No file name of the user's ever reaches TeX or a shell."""
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        raise TexMissing("no pdflatex found: install TeX, e.g. on Debian or Ubuntu "
                         "'apt-get install texlive-latex-base texlive-latex-recommended'")
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ} | TEX_ENV
    cmd = [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
           "document.tex"]
    with tempfile.TemporaryDirectory(prefix="bpcheck-tex-") as build:
        Path(build, "document.tex").write_text(tex, encoding="utf-8")
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 cwd=build, stdin=subprocess.DEVNULL, env=env,
                                 errors="replace")
        except subprocess.TimeoutExpired:
            raise BpcheckError(f"LaTeX took longer than {timeout:g} s") from None
        pdf = Path(build, "document.pdf")
        if run.returncode != 0 or not pdf.exists():
            log = (run.stdout + run.stderr).strip().splitlines()
            first = next((l for l in log if l.startswith("!")), log[-1] if log else "")
            raise BpcheckError(f"LaTeX failed: {first}")
        return pdf.read_bytes()
